// Shared scaffolding of Kino's real-browser checks (watch.mjs, auth.mjs, engage.mjs): Debian's
// headless Chromium through playwright-core, named checks recorded in a JSON summary, fresh
// browser profiles with their page log, the overall timeout, and the summary + exit code.
//
//   const h = createHarness({ summary, profilePrefix: 'kino-x', overallTimeoutMs, ... });
//   const { check, newBrowser } = h;
//   async function run() { await check('name', async () => ({ detail })); … }
//   h.main(run);
//
// `summary` is the script's own object ({ ok: false, …, checks: [], failed: null }); the harness
// fills in checks, failed, error and pageLog, prints it on stdout in every case, and exits 0, or
// 1 naming the failed check.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

export class CheckError extends Error {}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The Chromium version of a context, or null. */
export const browserVersion = (context) => (context.browser() ? context.browser().version() : null);

/** fetch() inside the page (its cookies, its origin): {status, body}. */
export function pageFetch(page, path, init = {}) {
  return page.evaluate(async ({ path, init }) => {
    const res = await fetch(path, { cache: 'no-store', credentials: 'same-origin', ...init });
    const text = await res.text();
    let body = text;
    try {
      body = JSON.parse(text);
    } catch {
      body = text.length > 300 ? `${text.slice(0, 300)}…` : text;
    }
    return { status: res.status, body };
  }, { path, init });
}

/**
 * Options:
 * - summary: the script's summary object (must hold `checks: []` and `failed: null`).
 * - profilePrefix: temp profile directories are `${profilePrefix}-${label}-XXXXXX` (or
 *   `${profilePrefix}-XXXXXX` without a label).
 * - overallTimeoutMs: the whole run gives up (and exits 1) after this.
 * - pageTimeoutMs: playwright's default timeout for each page (30 s).
 * - json: 'pretty' (indented) or 'line' (one line) for the printed summary.
 * - okSuffix: end of the "OK: N checks passed …" line on stderr.
 * - onDialog(dialog, label): what to do with alert/confirm/prompt (default: nothing).
 * - onFinish(): called after the run (before printing, not on the overall timeout), e.g. to add
 *   fields to the summary.
 * - page log: logLimit (last N entries kept in summary.pageLog, 40), logHttpMethod (HTTP error
 *   entries read "GET 404 URL" rather than "404 URL", true), logResourceErrors (keep Chromium's
 *   "Failed to load resource" console lines, which repeat the HTTP entries, false), logOnTimeout
 *   (add the page log to the summary printed on the overall timeout, true).
 */
export function createHarness({
  summary,
  profilePrefix,
  overallTimeoutMs,
  pageTimeoutMs = 30_000,
  json = 'pretty',
  okSuffix = '',
  onDialog = null,
  onFinish = null,
  logLimit = 40,
  logHttpMethod = true,
  logResourceErrors = false,
  logOnTimeout = true,
}) {
  const pageLog = []; // console errors and warnings, page errors, failed requests, HTTP errors
  const profiles = [];
  const contexts = [];

  /** Runs one named check; `fn` returns a detail object or throws a CheckError with the reason. */
  async function check(name, fn) {
    const started = Date.now();
    try {
      const detail = await fn();
      summary.checks.push({ name, ok: true, ms: Date.now() - started, ...(detail ? { detail } : {}) });
      return detail;
    } catch (err) {
      const message = err instanceof CheckError ? err.message : `${err && err.message ? err.message : err}`;
      summary.checks.push({ name, ok: false, ms: Date.now() - started, error: message });
      summary.failed = name;
      throw new CheckError(`check "${name}" failed: ${message}`);
    }
  }

  /**
   * A fresh browser profile (own cookies): a persistent context on a new temp directory, whose
   * page reports to the page log (entries carry `ctx: label` when a label is given).
   */
  async function newBrowser(label) {
    const profile = mkdtempSync(join(tmpdir(), label ? `${profilePrefix}-${label}-` : `${profilePrefix}-`));
    profiles.push(profile);
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 800 },
      timeout: 60_000,
      args: CHROMIUM_ARGS,
    });
    contexts.push(context);
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(pageTimeoutMs);
    const log = (kind, text) => pageLog.push({ ...(label ? { ctx: label } : {}), kind, text });
    page.on('console', (msg) => {
      if (!logResourceErrors && /^Failed to load resource/.test(msg.text())) return; // the 'http' entries say it
      if (msg.type() === 'error' || msg.type() === 'warning') log(`console.${msg.type()}`, msg.text());
    });
    page.on('pageerror', (err) => log('pageerror', String(err)));
    page.on('requestfailed', (req) => log('requestfailed', `${req.url()}: ${req.failure() && req.failure().errorText}`));
    page.on('response', (res) => {
      if (res.status() >= 400) log('http', `${logHttpMethod ? `${res.request().method()} ` : ''}${res.status()} ${res.url()}`);
    });
    if (onDialog) page.on('dialog', (dialog) => onDialog(dialog, label));
    return { context, page };
  }

  const print = () => console.log(json === 'line' ? JSON.stringify(summary) : JSON.stringify(summary, null, 2));

  /** Runs `run()` under the overall timeout, closes every browser, prints the summary and exits. */
  async function main(run) {
    let exitCode = 1;
    const watchdog = setTimeout(() => {
      summary.failed = summary.failed || 'overall timeout';
      summary.error = `gave up after ${overallTimeoutMs / 1000} s`;
      if (logOnTimeout && pageLog.length) summary.pageLog = pageLog.slice(-logLimit);
      print();
      console.error(`FAIL: ${summary.error}`);
      process.exit(1);
    }, overallTimeoutMs);
    try {
      await run();
      summary.ok = true;
      exitCode = 0;
    } catch (err) {
      summary.error = err.message;
      if (!summary.failed) summary.failed = 'unexpected error';
    } finally {
      if (pageLog.length) summary.pageLog = pageLog.slice(-logLimit);
      if (onFinish) onFinish();
      for (const context of contexts) await Promise.race([context.close().catch(() => {}), sleep(10_000)]);
      for (const profile of profiles) rmSync(profile, { recursive: true, force: true });
      clearTimeout(watchdog);
    }
    print();
    if (exitCode === 0) console.error(`OK: ${summary.checks.length} checks passed${okSuffix ? ` ${okSuffix}` : ''}`);
    else console.error(`FAIL: ${summary.error}`);
    process.exit(exitCode);
  }

  return { summary, pageLog, check, newBrowser, main };
}
