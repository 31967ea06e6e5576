#!/usr/bin/env node
// Accessibility check of Kino's pages with axe-core (npm, pinned in this folder's
// package-lock.json), in Debian's headless Chromium.
//
//   node a11y.mjs BASE_URL VIDEO_ID TOKEN
//
// VIDEO_ID: a ready, public video. TOKEN: an API token of a user who may upload (the signed-in
// pages are read with `Authorization: Bearer TOKEN`).
//
// Each page is opened, left to settle (its data loaded, the player's controls built), and
// axe-core runs on it with the WCAG 2.x A/AA rules and axe's best practices: a violation of
// impact "serious" or "critical" fails the check; "moderate" and "minor" ones are listed in the
// summary only. Pages, signed out: /, /watch/VIDEO_ID, /signin, /embed/VIDEO_ID; signed in:
// /upload, /me, /analytics, /watch/VIDEO_ID (with the owner's and commenter's controls).
//
// axe-core goes into each page through the DevTools protocol (page.evaluate of its source),
// which the pages' Content-Security-Policy (`script-src 'self'`) does not apply to; an
// addScriptTag would be an inline script, which it refuses.
// Prints a JSON summary on stdout in every case; exits 1 (naming the failed check) on failure.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CheckError, browserVersion, createHarness, sleep } from './common.mjs';

const [baseArg, videoId, token] = process.argv.slice(2);
if (!baseArg || !videoId || !token) {
  console.error('usage: node a11y.mjs BASE_URL VIDEO_ID TOKEN');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const FAILING_IMPACTS = new Set(['serious', 'critical']);
const SETTLE_TIMEOUT_MS = 20_000;
const OVERALL_TIMEOUT_MS = 240_000;

const summary = { ok: false, base, videoId, checks: [], failed: null, minor: {} };
const { check, newBrowser, main } = createHarness({
  summary,
  profilePrefix: 'kino-a11y',
  overallTimeoutMs: OVERALL_TIMEOUT_MS,
  json: 'pretty',
  okSuffix: `for ${base}`,
});

const id = encodeURIComponent(videoId);

/**
 * What a page must show before it is checked (a selector that appears once its data is in),
 * by path.
 * @type {Array<{ path: string, ready: string, signedIn: boolean }>}
 */
const PAGES = [
  { path: '/', ready: '#videos .card, #empty:not([hidden])', signedIn: false },
  { path: `/watch/${id}`, ready: 'media-controller media-time-range', signedIn: false },
  { path: '/signin', ready: 'form', signedIn: false },
  { path: `/embed/${id}`, ready: 'media-controller media-time-range', signedIn: false },
  { path: '/upload', ready: 'form', signedIn: true },
  { path: '/me', ready: '#my-videos-body tr, #videos-empty:not([hidden])', signedIn: true },
  { path: '/analytics', ready: '#qoe-report:not([hidden]), #qoe-empty:not([hidden]), #qoe-error:not([hidden])', signedIn: true },
  { path: `/watch/${id}`, ready: 'media-controller media-time-range', signedIn: true },
];

/** Waits for the page's data (its ready selector), the player (if any) and a quiet moment. */
async function settle(page, ready) {
  await page.waitForSelector(ready, { timeout: SETTLE_TIMEOUT_MS, state: 'attached' }).catch(() => {});
  await page.waitForFunction(() => !document.querySelector('media-controller') || (window.kinoPlayer && window.kinoPlayer.hls && window.kinoPlayer.hls.levels.length > 0) || !document.getElementById('player-error').hidden,
    null, { timeout: SETTLE_TIMEOUT_MS }).catch(() => {});
  await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {});
  await sleep(1000); // transitions, late renders
}

/** Runs axe-core in the page: its violations, reduced to what a reader needs. */
async function axe(page) {
  const present = await page.evaluate(() => typeof window.axe === 'object');
  if (!present) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.flat().join(' '), summary: (n.failureSummary || '').slice(0, 300) })),
      count: v.nodes.length,
    }));
  });
}

async function run() {
  let anon;
  let signed;
  await check('browsers start', async () => {
    anon = await newBrowser('anon');
    signed = await newBrowser('signed');
    await signed.context.setExtraHTTPHeaders({ Authorization: `Bearer ${token}` });
    return { version: browserVersion(anon.context) };
  });

  /** Pages with serious or critical violations (every page is checked before failing). */
  const failing = [];
  for (const { path, ready, signedIn } of PAGES) {
    const name = `${path}${signedIn ? ' (signed in)' : ''}`;
    await check(`axe: ${name}`, async () => {
      const { page } = signedIn ? signed : anon;
      const res = await page.goto(`${base}${path}`, { waitUntil: 'load' });
      if (!res || !res.ok()) throw new CheckError(`HTTP ${res ? res.status() : 'no response'} for ${path}`);
      await settle(page, ready);
      const violations = await axe(page);
      const bad = violations.filter((v) => FAILING_IMPACTS.has(v.impact));
      const other = violations.filter((v) => !FAILING_IMPACTS.has(v.impact));
      if (other.length) summary.minor[name] = other.map((v) => ({ id: v.id, impact: v.impact, count: v.count, help: v.help, nodes: v.nodes.slice(0, 2) }));
      if (bad.length) throw new CheckError(`${bad.length} serious/critical violation(s): ${JSON.stringify(bad)}`);
      return { violations: violations.length, moderateOrMinor: other.map((v) => `${v.id} (${v.impact}, ${v.count})`) };
    }).catch((err) => failing.push(name));
  }
  if (failing.length) throw new CheckError(`serious or critical violations on ${failing.join(', ')}`);
}

main(run);
