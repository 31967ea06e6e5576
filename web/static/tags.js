// @ts-check
// Video tags: links to the library filtered by a tag, tag chips, and parsing what people type.
import { el } from './dom.js';

/**
 * "/?tag=TAG": the library filtered by a tag.
 * @param {string} tag
 */
export function tagHref(tag) {
  return `/?tag=${encodeURIComponent(tag)}`;
}

/**
 * The tags of a video (lower-case strings), tolerating a missing or malformed field.
 * @param {{ tags?: unknown } | null | undefined} video
 * @returns {string[]}
 */
export function tagsOf(video) {
  const tags = video && video.tags;
  return Array.isArray(tags) ? tags.filter((t) => typeof t === 'string' && t) : [];
}

/**
 * A list of tag chips, each linking to the library filtered by that tag.
 * @param {string[]} tags
 * @param {Record<string, any>} [props]
 */
export function tagChips(tags, props = {}) {
  return el('ul', { class: 'tags', 'aria-label': 'Tags', ...props },
    ...tags.map((tag) => el('li', {}, el('a', { class: 'tag', href: tagHref(tag), 'data-tag': tag, text: `#${tag}` }))));
}

/**
 * "Cats, dogs ,cats" → ["cats", "dogs"]; {error} when one of the server's limits (from
 * GET /api/config; none checked when unknown) is broken. The server has the last word.
 * @param {string} text
 * @param {{ max_tags?: number, tag_chars?: number } | null} [limits]
 * @returns {{ tags: string[], error?: undefined } | { error: string, tags?: undefined }}
 */
export function parseTags(text, limits) {
  const maxTags = limits && limits.max_tags;
  const maxChars = limits && limits.tag_chars;
  /** @type {string[]} */
  const tags = [];
  for (const raw of String(text).split(',')) {
    const tag = raw.trim().replace(/\s+/g, ' ').toLowerCase();
    if (!tag) continue;
    if (maxChars && [...tag].length > maxChars) return { error: `A tag has at most ${maxChars} characters (“${tag.slice(0, 40)}”).` };
    if (!tags.includes(tag)) tags.push(tag);
  }
  if (maxTags && tags.length > maxTags) return { error: `At most ${maxTags} tags (${tags.length} given).` };
  return { tags };
}
