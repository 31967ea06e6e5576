// @ts-check
// Shared helpers for Kino's pages, gathered in one module (plain ES modules, no build step).
// The pages import from the modules themselves; this one re-exports them for scripts and tests
// that import '/assets/app.js'.
export * from './api.js';
export * from './cards.js';
export * from './dom.js';
export * from './format.js';
export * from './header.js';
export * from './tags.js';
