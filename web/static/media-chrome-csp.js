// @ts-check
// Lets Media Chrome (media-chrome.js, from npm) run under the pages' Content-Security-Policy
// `style-src 'self'`, which refuses every inline <style> element, those of shadow roots
// included. Media Chrome's elements write their shadow DOM as HTML with <style> elements in it
// (ShadowRoot.innerHTML / setHTMLUnsafe) and later edit those sheets through
// `styleElement.sheet` (the seek bar's progress, the preview thumbnail's size, menu positions).
//
// This classic script, loaded before media-chrome.js, rewrites such HTML before it reaches a
// shadow root: each <style> becomes a constructed stylesheet (CSSStyleSheet, which CSP does not
// restrict) adopted by that shadow root, in the same order, and its place is kept by an inert
// element named `style` in a namespace of our own. Media Chrome finds that element with
// `querySelectorAll('style')` and reads `.sheet` from it, which returns the constructed sheet; a
// `media` attribute it sets there is copied onto the sheet. Nothing else is changed: HTML without
// <style> goes through untouched, and so does any other innerHTML.
(() => {
  const NS = 'urn:kino:inert-style';
  const proto = ShadowRoot.prototype;
  const innerHTML = Object.getOwnPropertyDescriptor(proto, 'innerHTML');
  if (!innerHTML || !innerHTML.set || typeof CSSStyleSheet !== 'function' || !('adoptedStyleSheets' in proto)) return;
  try {
    new CSSStyleSheet().replaceSync('a{}');
  } catch {
    return; // no constructable stylesheets: leave things as they are
  }

  /** Hides the stand-ins (they would otherwise be boxes, e.g. flex items taking a gap). */
  const hideStandIns = new CSSStyleSheet();
  hideStandIns.replaceSync(`@namespace k url(${NS}); k|style { display: none !important; }`);

  /** Stand-ins whose `media` attribute Media Chrome toggles → their sheets. */
  const media = new MutationObserver((records) => {
    for (const r of records) {
      const standIn = /** @type {Element} */ (r.target);
      const sheet = /** @type {CSSStyleSheet | undefined} */ (/** @type {any} */ (standIn).sheet);
      if (sheet) sheet.media.mediaText = standIn.getAttribute('media') || '';
    }
  });

  /**
   * The HTML as a fragment whose <style> elements are replaced by stand-ins, and their sheets.
   * @param {string} html
   */
  function convert(html) {
    const template = document.createElement('template');
    template.innerHTML = html; // inert: nothing is applied or checked against the CSP here
    /** @type {CSSStyleSheet[]} */
    const sheets = [];
    for (const style of template.content.querySelectorAll('style')) {
      const sheet = new CSSStyleSheet({ media: style.getAttribute('media') || '' });
      try {
        sheet.replaceSync(style.textContent || '');
      } catch {
        // unparsable rules are dropped, as a <style> would
      }
      const standIn = document.createElementNS(NS, 'style');
      for (const { name, value } of Array.from(style.attributes)) standIn.setAttribute(name, value);
      Object.defineProperty(standIn, 'sheet', { value: sheet, configurable: true });
      if (style.hasAttribute('media')) media.observe(standIn, { attributes: true, attributeFilter: ['media'] });
      style.replaceWith(standIn);
      sheets.push(sheet);
    }
    return { fragment: template.content, sheets };
  }

  /**
   * Replaces the shadow root's children with `html`, its <style> elements adopted instead.
   * @param {ShadowRoot} root
   * @param {string} html
   */
  function setShadowHTML(root, html) {
    const { fragment, sheets } = convert(html);
    root.replaceChildren(fragment);
    root.adoptedStyleSheets = [hideStandIns, ...sheets];
  }

  const hasStyle = (/** @type {unknown} */ html) => typeof html === 'string' && /<style[\s>]/i.test(html);

  Object.defineProperty(proto, 'innerHTML', {
    ...innerHTML,
    set(/** @type {string} */ html) {
      if (hasStyle(html)) setShadowHTML(this, html);
      else innerHTML.set.call(this, html);
    },
  });

  const setHTMLUnsafe = /** @type {any} */ (proto).setHTMLUnsafe;
  if (typeof setHTMLUnsafe === 'function') {
    Object.defineProperty(proto, 'setHTMLUnsafe', {
      configurable: true,
      writable: true,
      value(/** @type {string} */ html, ...rest) {
        // Declarative shadow roots inside (a button's tooltip) are not attached this way: their
        // custom elements make their own shadow roots when they upgrade, through innerHTML.
        if (hasStyle(html)) setShadowHTML(this, html);
        else setHTMLUnsafe.call(this, html, ...rest);
      },
    });
  }
})();
