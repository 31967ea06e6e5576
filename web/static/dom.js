// @ts-check
// Small DOM helpers shared by Kino's pages (plain ES module, no build step).
// Server data (titles, descriptions, errors) is user input: it only ever goes into textContent.

/** @typedef {Node | string | null | undefined | false} Child */

/**
 * Creates an element: el('a', { class: 'card', href: '/x', text: 'hi' }, child, ...).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any>} [props]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'class') node.className = value;
    else if (key in node && typeof value !== 'string') node[key] = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child !== undefined && child !== null && child !== false) node.append(child);
  }
  return node;
}

/**
 * The given nodes without the null/false placeholders (replaceChildren would print "null").
 * @param {...Child} items
 * @returns {Array<Node | string>}
 */
export function nodes(...items) {
  return /** @type {Array<Node | string>} */ (items.filter((x) => x !== null && x !== undefined && x !== false));
}

/** @type {ReturnType<typeof setInterval> | undefined} */
let cooldownTimer;

/**
 * After a 429: shows "Too many attempts, try again in N s" through `show(text)`, counting down
 * with `button` disabled, then clears the message and enables the button again.
 * @param {number | null} seconds
 * @param {HTMLButtonElement} button
 * @param {(text: string) => void} show
 */
export function tooManyAttempts(seconds, button, show) {
  clearInterval(cooldownTimer);
  let left = Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : null;
  if (left === null) {
    button.disabled = false;
    show('Too many attempts, try again later.');
    return;
  }
  const tick = () => {
    if (left <= 0) {
      clearInterval(cooldownTimer);
      button.disabled = false;
      show('');
      return;
    }
    button.disabled = true;
    show(`Too many attempts, try again in ${left} s`);
    left -= 1;
  };
  tick();
  cooldownTimer = setInterval(tick, 1000);
}
