#!/usr/bin/env node
// Real-browser check of Kino's engagement features on the watch page, in Debian's headless
// Chromium, through the real pages.
//
//   node engage.mjs BASE_URL VIDEO_ID
//
// VIDEO_ID: a ready, public video with comments on, longer than ~8 s (the page resumes only
// positions past 5 s and before 95 % of the video). Signs up two fresh users (A and B) through
// the API, each in its own browser profile (own cookies), then checks:
//   1. XSS is inert: A posts three hostile comments through the real form; they show literally,
//      no element comes out of them, no script ran, no dialog opened (in A's page nor in B's).
//   2. live: B has the watch page open; A posts "hello from A"; B shows it within 1 s, no reload.
//   3. search box: typing the first 3 letters of the title lists the video in the dropdown.
//   4. resume: A plays past 3 s (and past the 5 s resume floor), pauses (which saves the
//      position), reloads, and the player resumes within 2 s of that position.
// Prints a one-line JSON summary {ok, checks: [...]} on stdout in every case; exits 1 (naming
// the failed check) on failure.

import { CheckError, browserVersion, createHarness, pageFetch, sleep } from './common.mjs';

const [baseArg, videoId] = process.argv.slice(2);
if (!baseArg || !videoId) {
  console.error('usage: node engage.mjs BASE_URL VIDEO_ID');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const watchUrl = `${base}/watch/${encodeURIComponent(videoId)}`;

const STEP_TIMEOUT_MS = 30_000;
const LIVE_LIMIT_MS = 1000; // A's comment accepted → shown in B's page
const PLAYBACK_TIMEOUT_MS = 40_000;
const RESUME_FLOOR_S = 5; // the page resumes only past this…
const RESUME_CEILING = 0.95; // …and before this share of the video
const PLAY_PAST_S = 6.5; // past 3 s, and past the resume floor
const RESUME_TOLERANCE_S = 2;
const OVERALL_TIMEOUT_MS = 240_000;
const XSS_BODIES = [
  '<img src=x onerror="window.__xss=1">',
  '<script>window.__xss=2</script>',
  '"><svg onload=window.__xss=3>',
];
const HELLO = 'hello from A';

const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`.slice(-10);
const summary = { ok: false, base, videoId, users: [], checks: [], failed: null };
const dialogs = []; // any alert/confirm/prompt: none may open
const { check, newBrowser, main } = createHarness({
  summary,
  profilePrefix: 'kino-engage',
  overallTimeoutMs: OVERALL_TIMEOUT_MS,
  pageTimeoutMs: STEP_TIMEOUT_MS,
  json: 'line',
  okSuffix: `against ${base}`,
  // No dialog may open (an injected alert() would be one): record it and dismiss it.
  onDialog: (dialog, label) => {
    dialogs.push({ ctx: label, type: dialog.type(), message: dialog.message() });
    dialog.dismiss().catch(() => {});
  },
  onFinish: () => {
    if (dialogs.length) summary.dialogs = dialogs;
  },
});

/** Registers a fresh account from the page (POST /api/auth/register), which signs it in. */
async function register(page, label) {
  const username = `e${label}${suffix}`.slice(0, 32).toLowerCase();
  const password = `pw-${suffix}-${Math.random().toString(36).slice(2, 10)}`;
  const r = await pageFetch(page, '/api/auth/register', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ username, email: `${username}@example.test`, password }),
  });
  if (r.status !== 201) throw new CheckError(`POST /api/auth/register for ${username} answered ${r.status}: ${JSON.stringify(r.body)}`);
  const me = await pageFetch(page, '/api/me');
  if (me.status !== 200) throw new CheckError(`GET /api/me after registering ${username} answered ${me.status}`);
  const user = (me.body && me.body.user) || me.body;
  return { username, role: user && user.role };
}

/** Opens the watch page and waits for its comments (first page loaded, live socket open). */
async function openWatch(page, { signedIn }) {
  const res = await page.goto(watchUrl, { waitUntil: 'load' });
  if (!res || !res.ok()) throw new CheckError(`GET ${watchUrl} answered ${res ? res.status() : 'nothing'}`);
  try {
    await page.waitForFunction(() => {
      const s = document.getElementById('comments');
      return s && !s.hidden && s.dataset.loaded === 'true' && s.dataset.live === 'open';
    }, null, { timeout: STEP_TIMEOUT_MS, polling: 100 });
  } catch {
    const state = await page.evaluate(() => {
      const s = document.getElementById('comments');
      const e = document.getElementById('comments-error');
      return s ? { hidden: s.hidden, loaded: s.dataset.loaded, live: s.dataset.live, error: e && !e.hidden ? e.textContent : null } : null;
    });
    throw new CheckError(`the comments section did not load with an open live connection: ${JSON.stringify(state)}`);
  }
  if (signedIn) {
    try {
      await page.waitForSelector('#comment-form', { state: 'visible', timeout: STEP_TIMEOUT_MS });
    } catch {
      const off = await page.isVisible('#comments-off');
      throw new CheckError(off ? 'comments are turned off for this video' : 'no comment form for a signed-in user');
    }
  }
}

/** Posts a comment through the form; resolves to the server's answer (status, comment). */
async function postThroughForm(page, body) {
  await page.fill('#comment-body', body);
  const answer = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `/api/videos/${videoId}/comments`);
  await page.click('#comment-submit');
  const res = await answer;
  let json = null;
  try {
    json = await res.json();
  } catch {
    json = null;
  }
  if (res.status() !== 201) {
    const shown = await page.textContent('#comment-status').catch(() => null);
    throw new CheckError(`posting ${JSON.stringify(body)} answered ${res.status()} ${JSON.stringify(json)}; the form says ${JSON.stringify(shown)}`);
  }
  return { at: Date.now(), comment: json };
}

/** The XSS state of a page: stray elements in the comments, window.__xss, and the bodies shown. */
function xssState(page) {
  return page.evaluate(() => ({
    xss: typeof window.__xss === 'undefined' ? null : String(window.__xss),
    elements: [...document.querySelectorAll('#comments-list img, #comments-list script, #comments-list svg, #comments-list iframe')].map((n) => n.outerHTML.slice(0, 120)),
    bodies: [...document.querySelectorAll('#comments-list .comment-body')].map((n) => n.textContent),
  }));
}

async function playerReady(page) {
  try {
    await page.waitForFunction(
      () => !document.getElementById('player-error').hidden ||
        (window.kinoPlayer && (!window.kinoPlayer.hls || window.kinoPlayer.hls.levels.length > 0)),
      null, { timeout: STEP_TIMEOUT_MS, polling: 200 });
  } catch {
    throw new CheckError('no player with parsed levels');
  }
  const error = await page.evaluate(() => {
    const box = document.getElementById('player-error');
    return box.hidden ? null : box.textContent;
  });
  if (error) throw new CheckError(`the page shows a player error: ${error}`);
}

async function run() {
  let a;
  let b;
  await check('browsers start and two users sign up', async () => {
    a = await newBrowser('a');
    b = await newBrowser('b');
    await a.page.goto(`${base}/`, { waitUntil: 'load' });
    await b.page.goto(`${base}/`, { waitUntil: 'load' });
    const userA = await register(a.page, 'a');
    const userB = await register(b.page, 'b');
    summary.users = [userA.username, userB.username];
    return { a: userA, b: userB, version: browserVersion(a.context) };
  });

  const video = await check('video is ready and public', async () => {
    const r = await pageFetch(a.page, `/api/videos/${encodeURIComponent(videoId)}`);
    if (r.status !== 200) throw new CheckError(`GET /api/videos/${videoId} answered ${r.status}: ${JSON.stringify(r.body)}`);
    const v = r.body;
    if (v.status !== 'ready') throw new CheckError(`the video is ${v.status}, not ready`);
    if (v.comments_enabled === false) throw new CheckError('comments are turned off for this video');
    return { title: v.title, duration: v.duration, privacy: v.privacy, views: v.views, tags: v.tags };
  });

  await check('watch pages open (A signed in with the form, B live)', async () => {
    await openWatch(b.page, { signedIn: true });
    await openWatch(a.page, { signedIn: true });
    return {};
  });

  await check('XSS in comment bodies is inert', async () => {
    const posted = [];
    for (const body of XSS_BODIES) {
      const { comment } = await postThroughForm(a.page, body);
      posted.push(comment && comment.id);
      // Shown once a comment body reads exactly the text (judged below, with everything else).
      await a.page.waitForFunction((text) =>
        [...document.querySelectorAll('#comments-list .comment-body')].some((n) => n.textContent === text),
      body, { timeout: 5000, polling: 50 }).catch(() => null);
    }
    // Give any injected handler (img onerror, svg onload) the time to run.
    await sleep(800);
    const problems = [];
    for (const [label, page] of [['A', a.page], ['B', b.page]]) {
      const state = await xssState(page);
      if (state.xss !== null) problems.push(`${label}: window.__xss = ${state.xss}`);
      if (state.elements.length) problems.push(`${label}: elements inside the comments list: ${JSON.stringify(state.elements)}`);
      const missing = XSS_BODIES.filter((body) => !state.bodies.includes(body));
      if (missing.length) problems.push(`${label}: not shown literally: ${JSON.stringify(missing)} (first bodies shown: ${JSON.stringify(state.bodies.slice(0, 5))})`);
    }
    if (dialogs.length) problems.push(`dialogs opened: ${JSON.stringify(dialogs)}`);
    if (problems.length) throw new CheckError(problems.join('; '));
    return { comments: posted.length, ids: posted, seenLiveByB: true };
  });

  await check('B sees A\'s new comment live within 1 s (no reload)', async () => {
    // Watch B's list for a new comment with the text; mark the page to prove it did not reload.
    await b.page.evaluate((text) => {
      window.__engageMark = 'same page';
      window.__helloAt = null;
      const list = document.getElementById('comments-list');
      const observer = new MutationObserver(() => {
        if (window.__helloAt) return;
        const found = [...list.querySelectorAll('.comment-body')].some((n) => n.textContent === text && !n.dataset.before);
        if (found) {
          window.__helloAt = Date.now();
          observer.disconnect();
        }
      });
      // Bodies already there (an earlier run) do not count.
      for (const n of list.querySelectorAll('.comment-body')) n.dataset.before = '1';
      observer.observe(list, { childList: true, subtree: true, characterData: true });
    }, HELLO);
    const { at: postedAt, comment } = await postThroughForm(a.page, HELLO);
    let seenAt = null;
    try {
      await b.page.waitForFunction(() => window.__helloAt !== null, null, { timeout: 5000, polling: 20 });
      seenAt = await b.page.evaluate(() => window.__helloAt);
    } catch {
      const live = await b.page.evaluate(() => document.getElementById('comments').dataset.live);
      throw new CheckError(`B's page did not show "${HELLO}" within 5 s (B's live connection: ${live})`);
    }
    const mark = await b.page.evaluate(() => window.__engageMark);
    if (mark !== 'same page') throw new CheckError('B\'s page reloaded');
    const latency = seenAt - postedAt;
    if (latency > LIVE_LIMIT_MS) throw new CheckError(`B showed the comment ${latency} ms after A's post was accepted (limit ${LIVE_LIMIT_MS} ms)`);
    return { latencyMs: latency, id: comment && comment.id };
  });

  await check('A replies to and edits a comment through the inline forms', async () => {
    const { page } = a;
    const { comment } = await postThroughForm(page, `to reply to ${Date.now()}`);
    if (!comment || comment.id === undefined) throw new CheckError('the posted comment has no id');
    const item = `#comment-${comment.id}`;
    await page.click(`${item} [data-role="reply"]`, { timeout: STEP_TIMEOUT_MS });
    const replyText = `a reply ${Date.now()}`;
    await page.fill(`${item} .reply-form textarea`, replyText);
    await page.click(`${item} [data-role="send-reply"]`);
    await page.waitForFunction((text) => [...document.querySelectorAll('.comment.reply .comment-body')]
      .some((n) => n.textContent === text), replyText, { timeout: STEP_TIMEOUT_MS });
    if (await page.$(`${item} .reply-form`)) throw new CheckError('the reply form stayed open after posting');

    await page.click(`${item} [data-role="edit"]`, { timeout: STEP_TIMEOUT_MS });
    const edited = `edited ${Date.now()}`;
    await page.fill(`${item} .edit-form textarea`, edited);
    await page.click(`${item} [data-role="save-edit"]`);
    await page.waitForFunction(([sel, text]) => {
      const body = document.querySelector(`${sel} .comment-body`);
      return body && body.textContent === text && !document.querySelector(`${sel} .edit-form`);
    }, [item, edited], { timeout: STEP_TIMEOUT_MS });
    return { id: comment.id };
  });

  await check('header search suggests the video while typing', async () => {
    const title = String(video.title || '');
    const prefix = [...title.trim()].slice(0, 3).join('');
    if ([...prefix].length < 3) throw new CheckError(`the title ${JSON.stringify(title)} is shorter than 3 characters`);
    const page = b.page;
    const input = '#site-search-input';
    await page.waitForSelector(input, { state: 'visible' });
    await page.click(input);
    await page.type(input, prefix, { delay: 60 });
    const option = `#site-search-list [role="option"][data-id="${videoId}"]`;
    try {
      await page.waitForSelector(option, { state: 'visible', timeout: 10_000 });
    } catch {
      const shown = await page.evaluate(() => {
        const list = document.getElementById('site-search-list');
        return list ? { hidden: list.hidden, text: list.textContent.slice(0, 300) } : null;
      });
      throw new CheckError(`typing ${JSON.stringify(prefix)} did not list the video (dropdown: ${JSON.stringify(shown)})`);
    }
    const aria = await page.evaluate((sel) => {
      const i = document.querySelector(sel);
      const list = document.getElementById(i.getAttribute('aria-controls'));
      return { role: i.getAttribute('role'), expanded: i.getAttribute('aria-expanded'), listRole: list && list.getAttribute('role') };
    }, input);
    if (aria.role !== 'combobox' || aria.expanded !== 'true' || aria.listRole !== 'listbox') {
      throw new CheckError(`ARIA: ${JSON.stringify(aria)} (expected combobox, aria-expanded true, listbox)`);
    }
    const optionText = (await page.textContent(option)) || '';
    if (!optionText.includes(title)) throw new CheckError(`the suggestion reads ${JSON.stringify(optionText)}, not the title`);
    // Keyboard: Down highlights a suggestion, Escape closes the list.
    await page.keyboard.press('ArrowDown');
    const active = await page.evaluate((sel) => document.querySelector(sel).getAttribute('aria-activedescendant'), input);
    if (!active) throw new CheckError('ArrowDown did not highlight a suggestion (no aria-activedescendant)');
    await page.keyboard.press('Escape');
    const expanded = await page.getAttribute(input, 'aria-expanded');
    if (expanded !== 'false') throw new CheckError('Escape did not close the suggestions');
    return { typed: prefix, suggestion: optionText.trim().slice(0, 80) };
  });

  await check('resume: saved on pause, resumed after reload', async () => {
    const duration = Number(video.duration);
    if (!(duration * RESUME_CEILING > PLAY_PAST_S + 1)) {
      throw new CheckError(`the video is ${duration} s long: the page resumes only positions past ${RESUME_FLOOR_S} s and before ${RESUME_CEILING * 100} % ` +
        'of the video, so this check needs a video longer than ~8 s (e.g. people-432p-10fps-noaudio-139s.mp4)');
    }
    const page = a.page;
    await playerReady(page);
    await page.evaluate(() => {
      const v = window.kinoPlayer.video;
      v.muted = true;
      return v.play().catch(() => {});
    });
    try {
      await page.waitForFunction((t) => window.kinoPlayer.video.currentTime > t, PLAY_PAST_S, { timeout: PLAYBACK_TIMEOUT_MS, polling: 100 });
    } catch {
      const t = await page.evaluate(() => window.kinoPlayer.video.currentTime);
      throw new CheckError(`playback did not pass ${PLAY_PAST_S} s (currentTime ${t})`);
    }
    const saved = page.waitForResponse((r) => r.request().method() === 'PUT' && new URL(r.url()).pathname === `/api/videos/${videoId}/progress`, { timeout: 10_000 })
      .catch(() => null);
    const pausedAt = await page.evaluate(() => {
      const v = window.kinoPlayer.video;
      v.pause();
      return v.currentTime;
    });
    const put = await saved;
    if (!put) throw new CheckError('pausing did not send PUT /progress');
    if (put.status() !== 204) throw new CheckError(`PUT /progress answered ${put.status()}`);
    const sent = JSON.parse(put.request().postData() || '{}');
    const stored = await pageFetch(page, `/api/videos/${encodeURIComponent(videoId)}/progress`);
    if (stored.status !== 200 || !(Math.abs(Number(stored.body.position) - pausedAt) < 0.5)) {
      throw new CheckError(`GET /progress gives ${JSON.stringify(stored.body)} (${stored.status}) after pausing at ${pausedAt}`);
    }

    await page.reload({ waitUntil: 'load' });
    await playerReady(page);
    await page.evaluate(() => {
      const v = window.kinoPlayer.video;
      v.muted = true;
      return v.play().catch(() => {});
    });
    try {
      await page.waitForFunction(() => window.kinoWatch && window.kinoWatch.resumedAt !== null && !window.kinoPlayer.video.paused,
        null, { timeout: PLAYBACK_TIMEOUT_MS, polling: 100 });
    } catch {
      const t = await page.evaluate(() => ({ currentTime: window.kinoPlayer.video.currentTime, paused: window.kinoPlayer.video.paused, kinoWatch: window.kinoWatch }));
      throw new CheckError(`the player did not resume (state ${JSON.stringify(t)}; saved position ${pausedAt})`);
    }
    const after = await page.evaluate(() => ({ resumedAt: window.kinoWatch.resumedAt, currentTime: window.kinoPlayer.video.currentTime }));
    if (Math.abs(after.resumedAt - pausedAt) > RESUME_TOLERANCE_S) {
      throw new CheckError(`resumed at ${after.resumedAt} s, saved ${pausedAt} s (tolerance ${RESUME_TOLERANCE_S} s)`);
    }
    const note = await page.textContent('#resume-note').catch(() => '');
    if (!/Resumed at \d+:\d\d/.test(note || '')) throw new CheckError(`no "Resumed at m:ss" note (shows ${JSON.stringify(note)})`);
    return { pausedAt, sent: sent.position, resumedAt: after.resumedAt, currentTime: after.currentTime, note: note.trim() };
  });

  await check('no dialog opened on any page', async () => {
    if (dialogs.length) throw new CheckError(`dialogs: ${JSON.stringify(dialogs)}`);
    return null;
  });
}

main(run);
