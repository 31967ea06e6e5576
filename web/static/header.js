// @ts-check
// The site header: marks the current page's link, fills the account area (Analytics, username +
// Sign out, or Sign in / Sign up), shows "Go live" to those who may upload, and adds the search box.
import { currentUser, herePath, safeNext, signOut } from './api.js';
import { el } from './dom.js';
import { initSearchBox } from './search-box.js';

/** Marks the header link of the current page. */
export function markNav() {
  const path = location.pathname;
  for (const a of document.querySelectorAll('.site-nav a')) {
    const href = a.getAttribute('href');
    if (href === path || (href !== '/' && path.startsWith(href))) a.setAttribute('aria-current', 'page');
  }
  for (const a of document.querySelectorAll('.site-account a')) {
    const href = (a.getAttribute('href') || '').split('?')[0];
    if (href === path) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function accountBox() {
  let box = document.getElementById('site-account');
  if (!box) {
    const inner = document.querySelector('.site-header .inner');
    if (!inner) return null;
    box = el('div', { id: 'site-account', class: 'site-account' });
    inner.append(box);
  }
  return box;
}

/**
 * @param {HTMLElement} box
 * @param {import('./api.js').User | null} user
 */
function renderAccount(box, user) {
  if (user) {
    const button = el('button', { type: 'button', id: 'signout-button', class: 'link-button', text: 'Sign out' });
    button.addEventListener('click', async () => {
      button.disabled = true;
      await signOut();
      // The private pages have nothing to show a signed-out visitor: go to the library.
      if (location.pathname === '/me' || location.pathname === '/analytics') location.assign('/');
      else location.reload();
    });
    box.replaceChildren(
      el('a', { href: '/analytics', id: 'analytics-link', title: 'What viewers saw: start times, stalls, failures', text: 'Analytics' }),
      el('a', { href: '/me', id: 'account-link', class: 'account-link', title: 'My videos and account', text: user.username }),
      button);
  } else {
    const onAuthPage = location.pathname === '/signin' || location.pathname === '/signup';
    const next = onAuthPage ? new URLSearchParams(location.search).get('next') : herePath();
    const nextQuery = safeNext(next) === '/' ? '' : `?next=${encodeURIComponent(safeNext(next))}`;
    box.replaceChildren(
      el('a', { href: `/signin${nextQuery}`, id: 'signin-link', text: 'Sign in' }),
      el('a', { href: `/signup${nextQuery}`, id: 'signup-link', class: 'signup-link', text: 'Sign up' }));
  }
  box.dataset.state = user ? 'signed-in' : 'signed-out';
  showGoLive(user);
  markNav();
}

/**
 * "Go live" beside Upload, for signed-in users who may upload (live streams are uploads).
 * @param {import('./api.js').User | null} user
 */
function showGoLive(user) {
  const link = document.getElementById('go-live-link');
  if (link) link.hidden = !(user && user.can_upload === true);
}

/**
 * Fills the header's account area (Analytics, username + Sign out, or Sign in / Sign up) and marks the
 * current page. Resolves to the signed-in user or null (also null when the server cannot answer).
 * @returns {Promise<import('./api.js').User | null>}
 */
export async function initHeader() {
  markNav();
  initSearchBox();
  const box = accountBox();
  let user = null;
  try {
    user = await currentUser();
  } catch {
    user = null;
  }
  if (box) renderAccount(box, user);
  return user;
}
