// @ts-check
// Header search: suggestions while typing (GET /api/search?per_page=6) in an ARIA combobox;
// Enter without a highlighted suggestion opens the full results page /search?q=….
import { getJSON } from './api.js';
import { el } from './dom.js';
import { formatDuration } from './format.js';

const SEARCH_DEBOUNCE_MS = 150;
const SEARCH_SUGGESTIONS = 6;

/** Adds the search box to the site header (once). */
export function initSearchBox() {
  const inner = document.querySelector('.site-header .inner');
  if (!inner || document.getElementById('site-search')) return;
  const listId = 'site-search-list';
  const input = el('input', {
    type: 'search', id: 'site-search-input', name: 'q', class: 'site-search-input', placeholder: 'Search videos',
    autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: '200', enterkeyhint: 'search',
    role: 'combobox', 'aria-label': 'Search videos', 'aria-autocomplete': 'list', 'aria-haspopup': 'listbox',
    'aria-expanded': 'false', 'aria-controls': listId,
  });
  const list = el('ul', { id: listId, class: 'search-suggestions', role: 'listbox', 'aria-label': 'Search suggestions', hidden: true });
  const status = el('span', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const form = el('form', { id: 'site-search', class: 'site-search', role: 'search', action: '/search', method: 'get' }, input, list, status);
  const account = document.getElementById('site-account');
  inner.insertBefore(form, account && account.parentNode === inner ? account : null);
  if (location.pathname === '/search') input.value = new URLSearchParams(location.search).get('q') || '';

  let timer = null;
  let controller = null;
  let seq = 0;
  let active = -1;
  let shownFor = null; // the query the list shows

  const options = () => /** @type {HTMLLIElement[]} */ ([...list.querySelectorAll('[role="option"]')]);
  const isOpen = () => !list.hidden;
  const resultsHref = (q) => `/search?q=${encodeURIComponent(q)}`;

  function setActive(index) {
    const opts = options();
    active = opts.length ? Math.max(-1, Math.min(index, opts.length - 1)) : -1;
    opts.forEach((opt, i) => opt.setAttribute('aria-selected', String(i === active)));
    if (active >= 0) {
      input.setAttribute('aria-activedescendant', opts[active].id);
      opts[active].scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }

  function open() {
    if (!list.children.length) return;
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  }

  function close() {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    setActive(-1);
  }

  function option(i, href, ...content) {
    const li = el('li', { id: `site-search-opt-${i}`, role: 'option', 'aria-selected': 'false', class: 'search-option', 'data-href': href },
      el('a', { href, tabindex: '-1' }, ...content));
    li.addEventListener('mousemove', () => {
      if (active !== i) setActive(i);
    });
    return li;
  }

  function render(q, videos, error) {
    shownFor = q;
    const items = videos.slice(0, SEARCH_SUGGESTIONS).map((v, i) => {
      const thumb = el('span', { class: 'search-thumb' });
      if (v.poster_url) thumb.append(el('img', { src: v.poster_url, alt: '', loading: 'lazy', decoding: 'async' }));
      const meta = [v.owner, v.status === 'ready' ? formatDuration(v.duration) : v.status].filter(Boolean).join(' · ');
      const li = option(i, `/watch/${encodeURIComponent(v.id)}`, thumb,
        el('span', { class: 'search-text' },
          el('span', { class: 'search-title', text: v.title || 'Untitled' }),
          meta ? el('span', { class: 'search-meta', text: meta }) : null));
      li.dataset.id = v.id;
      return li;
    });
    const note = error ? el('li', { class: 'search-note error', role: 'presentation', text: error })
      : items.length ? null : el('li', { class: 'search-note', role: 'presentation', text: 'No matching videos' });
    const all = option(items.length, resultsHref(q), el('span', { class: 'search-all', text: `All results for “${q}”` }));
    all.classList.add('search-all-option');
    list.replaceChildren(...items, ...(note ? [note] : []), all);
    status.textContent = error ? error : `${items.length} suggestion${items.length === 1 ? '' : 's'}`;
    setActive(-1);
    if (document.activeElement === input) open();
  }

  async function suggest(q) {
    if (controller) controller.abort();
    controller = new AbortController();
    const mine = ++seq;
    try {
      const body = await getJSON(`/api/search?q=${encodeURIComponent(q)}&per_page=${SEARCH_SUGGESTIONS}`, { signal: controller.signal });
      if (mine !== seq) return;
      render(q, Array.isArray(body && body.videos) ? body.videos : []);
    } catch (err) {
      if (mine !== seq || (err && err.name === 'AbortError')) return;
      render(q, [], `Search failed: ${err.message}`);
    }
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (!q) {
      seq += 1;
      if (controller) controller.abort();
      list.replaceChildren();
      shownFor = null;
      close();
      return;
    }
    if (q === shownFor) {
      seq += 1; // a request for another text may still be on its way: it is stale now
      if (controller) controller.abort();
      open();
      return;
    }
    timer = setTimeout(() => suggest(q), SEARCH_DEBOUNCE_MS);
  });

  input.addEventListener('keydown', (e) => {
    const count = options().length;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (!count) return;
      e.preventDefault();
      if (!isOpen()) {
        open();
        setActive(e.key === 'ArrowDown' ? 0 : count - 1);
        return;
      }
      // Past either end, back to the text field (-1).
      const next = e.key === 'ArrowDown' ? active + 1 : active - 1;
      setActive(next >= count ? -1 : next < -1 ? count - 1 : next);
    } else if (e.key === 'Enter') {
      if (isOpen() && active >= 0) {
        e.preventDefault();
        const href = options()[active].dataset.href;
        close();
        location.assign(href);
      }
      // otherwise the form submits (below)
    } else if (e.key === 'Escape') {
      if (isOpen()) {
        e.preventDefault();
        close();
      } else if (input.value) {
        e.preventDefault();
        input.value = '';
        input.dispatchEvent(new Event('input'));
      }
    } else if (e.key === 'Tab') {
      close();
    }
  });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = input.value.trim();
    if (!q) {
      input.focus();
      return;
    }
    close();
    location.assign(resultsHref(q));
  });

  // A click on a suggestion must not blur the field first (the list would close under it).
  list.addEventListener('mousedown', (e) => e.preventDefault());
  list.addEventListener('click', () => close());
  input.addEventListener('focus', () => {
    if (input.value.trim() && input.value.trim() === shownFor) open();
  });
  input.addEventListener('blur', () => close());
}
