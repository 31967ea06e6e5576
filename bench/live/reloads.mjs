// The client side of bench/ll-reloads.sh: many concurrent low-latency HLS blocking playlist
// reloads on one Kino node. How long after a part lands are all of them answered, what does
// holding them cost in memory, and do they all get the right answer?
//
// One rendition's media playlist (--rendition, default the variant with the highest BANDWIDTH).
// Each round:
//   1. sync: one blocking reload for the part after the newest one known
//      (`?_HLS_msn=M&_HLS_part=P+1`), so the round starts just after a part landed (repeated
//      when it was answered at once: then the part was there already);
//   2. the burst: `--reloads` N blocking reloads for the next part, all sent at once on N
//      kept-alive connections opened beforehand, and one more (the watcher) on a connection of
//      its own, sent first. Each request's times: sent (http.get called), flushed (its bytes
//      handed to the socket: 'finish'), answered (response head parsed: 'response'), done (body
//      read). The part landed, as seen from here, when the first answer of the round came
//      (watcher or burst): a request's wake-up delay is its answer − that first answer. Only
//      requests flushed before the first answer were held; others are counted apart ("late");
//   3. the anchor: N plain reloads (no directives) of the same playlist, sent at once on the same
//      connections: their answer − the first answer of that burst is what answering N requests
//      at once costs without any waiting (the same bytes, the same client), to set the wake-up
//      figure against.
// Kino's RSS (VmRSS) is read before any of the N connections is opened, once they are open and
// idle, just before each burst, and every 2 ms while the burst is held (until the first answer):
// the peak while held − the reading before, divided by N, is the memory of one held reload.
// Every 200 answer of a burst is checked afterwards to list the part asked for. The first
// `--warmup-rounds` rounds (default 1: the driver's code is not yet compiled, Kino's buffers
// not yet allocated) run the same way but are left out of the figures, except for the memory
// of the very first held burst, and the answers' statuses and checks (every round).
//
//   node reloads.mjs --base URL --id VIDEO_ID --kino-pid PID --publisher-pid PID
//        [--reloads 1000] [--rounds 20] [--warmup-rounds 1] [--rendition NAME]
//        [--version TEXT] [--binary PATH] [--publisher TEXT] [--server-env TEXT]
//
// Prints a JSON line on stdout (`error` set when the run failed); progress on stderr.
// Limits: one node process sends and reads everything, so the spread of N answers includes the
// time this process takes to read N responses — the anchor has the same cost. Loopback only.

import http from 'node:http';
import { performance } from 'node:perf_hooks';

import { children, comm, cpuMeter, fdKinds, statusKiB } from './proc.mjs';
import { summary, topVariant } from './listing.mjs';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const base = args.base;
const reloads = Number(args.reloads || 1000);
const rounds = Number(args.rounds || 20);
const warmupRounds = Number(args['warmup-rounds'] ?? 1);
const kinoPid = Number(args['kino-pid']);
const publisherPid = Number(args['publisher-pid']);
const REQUEST_TIMEOUT_MS = 15_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (m) => process.stderr.write(`[ll-reloads] ${m}\n`);
const now = () => performance.now();

/**
 * One GET. Resolves { status, body, sent, flushed, answered, done, error } (times from
 * performance.now(), ms); never rejects. `keepBody` false drops the body (its length is kept).
 */
function get(agent, url, keepBody = true) {
  return new Promise((resolve) => {
    const t = { status: 0, body: '', bytes: 0, sent: now(), flushed: null, answered: null, done: null, error: null };
    const req = http.get(url, { agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      t.answered = now();
      t.status = res.statusCode;
      const chunks = [];
      res.on('data', (c) => {
        t.bytes += c.length;
        if (keepBody) chunks.push(c);
      });
      res.on('end', () => {
        t.done = now();
        if (keepBody) t.body = Buffer.concat(chunks).toString();
        resolve(t);
      });
      res.on('error', (e) => {
        t.error = e.code || e.message;
        resolve(t);
      });
    });
    req.on('finish', () => { t.flushed = now(); });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e) => {
      t.error = e.code || e.message;
      t.status = 0;
      resolve(t);
    });
  });
}

/** What a media playlist says: targets and the newest part. */
function parseMedia(text) {
  let mediaSeq = null;
  let skipped = 0;
  let extinf = 0;
  let partAfterLast = -1; // index of the last EXT-X-PART after the last EXTINF
  let lastSegParts = 0; // EXT-X-PART lines of the segment before the open one
  let partsSince = 0;
  let partTarget = null;
  let target = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) mediaSeq = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) target = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-PART-INF:')) partTarget = Number.parseFloat((line.match(/PART-TARGET=([\d.]+)/) || [0, 'NaN'])[1]);
    else if (line.startsWith('#EXT-X-SKIP:')) skipped = Number((line.match(/SKIPPED-SEGMENTS=(\d+)/) || [0, 0])[1]);
    else if (line.startsWith('#EXTINF:')) {
      extinf++;
      lastSegParts = partsSince;
      partsSince = 0;
      partAfterLast = -1;
    } else if (line.startsWith('#EXT-X-PART:')) {
      partsSince++;
      partAfterLast++;
    }
  }
  if (mediaSeq == null) return null;
  const open = mediaSeq + skipped + extinf; // the open segment's media sequence number
  // The newest part: the last EXT-X-PART after the last EXTINF (the open segment's); when the
  // open segment has none yet, the last part of the segment before it.
  const newest = partAfterLast >= 0 ? { msn: open, part: partAfterLast } : lastSegParts > 0 ? { msn: open - 1, part: lastSegParts - 1 } : null;
  return { mediaSeq, open, newest, partTarget, target, lowLatency: partTarget != null };
}

/** Whether a playlist lists part `part` of segment `msn` (or a later segment has begun). */
function lists(parsed, msn, part) {
  if (!parsed || !parsed.newest) return false;
  const n = parsed.newest;
  return n.msn > msn || (n.msn === msn && n.part >= part) || parsed.open > msn;
}

/** The next part after `newest`, as a player asks for it: the same segment, one part on. */
const nextPart = (newest) => ({ msn: newest.msn, part: newest.part + 1 });

const round3 = (x) => (x == null ? null : Math.round(x * 1000) / 1000);
function dist(values) {
  const s = summary(values);
  for (const k of Object.keys(s)) if (k !== 'n') s[k] = round3(s[k]);
  return s;
}
const count = (list, key) => {
  const out = {};
  for (const x of list) out[key(x)] = (out[key(x)] || 0) + 1;
  return out;
};

const result = {
  id: args.id,
  reloads,
  rounds_n: rounds,
  rendition: null,
  playlist: null,
  sockets_open: null,
  wake_ms: null,
  wake_all_ms: null,
  held_ms: null,
  late: 0,
  statuses: null,
  errors: null,
  wrong_answers: 0,
  watcher_wake_ms: null,
  part_interval_ms: null,
  send_spread_ms: null,
  anchor: null,
  rss_kib: null,
  fds: null,
  cpu: null,
  rounds: [],
  kino: args.version || null,
  binary: args.binary || null,
  publisher: args.publisher || null,
  server_env: args['server-env'] || null,
  at: new Date().toISOString(),
  error: null,
};

async function main() {
  const masterUrl = `${base}/hls/${args.id}/master.m3u8`;
  const sync = new http.Agent({ keepAlive: true, maxSockets: 4 });
  // N connections, kept open between bursts (the server closes idle ones after
  // http.header_read_timeout_secs, 10 s by default; a round takes about a second).
  const burst = new http.Agent({ keepAlive: true, maxSockets: reloads + 16, maxFreeSockets: reloads + 16, scheduling: 'lifo' });
  try {
    const master = await get(sync, masterUrl);
    if (master.status !== 200) throw new Error(`${masterUrl}: ${master.status || master.error}`);
    const variants = [...master.body.matchAll(/#EXT-X-STREAM-INF:[^\n]*\n([^#\s][^\n]*)/g)].map((m) => m[1].trim());
    const uri = args.rendition ? variants.find((v) => v.split('/')[0] === args.rendition) : topVariant(master.body);
    if (!uri) throw new Error(`no variant ${args.rendition || ''} in the multivariant playlist (${variants.join(', ')})`);
    const mediaUrl = new URL(uri, masterUrl).href;
    result.rendition = uri.split('/')[0];
    result.variants = variants.map((v) => v.split('/')[0]);

    const first = await get(sync, mediaUrl);
    if (first.status !== 200) throw new Error(`${mediaUrl}: ${first.status || first.error}`);
    let parsed = parseMedia(first.body);
    if (!parsed || !parsed.lowLatency) throw new Error(`${mediaUrl} has no EXT-X-PART-INF: low-latency HLS is off (live.low_latency) or this is not Kino's live playlist`);
    for (let i = 0; i < 50 && !parsed.newest; i++) {
      await sleep(100);
      parsed = parseMedia((await get(sync, mediaUrl)).body) || parsed;
    }
    if (!parsed.newest) throw new Error(`${mediaUrl} lists no part`);
    result.playlist = {
      url: mediaUrl.slice(base.length),
      bytes: first.bytes,
      part_target_s: parsed.partTarget,
      target_duration_s: parsed.target,
      server_control: (first.body.match(/#EXT-X-SERVER-CONTROL:([^\n]*)/) || [0, null])[1],
    };
    log(`${result.rendition}: ${mediaUrl} (${first.bytes} B, PART-TARGET ${parsed.partTarget} s, newest part ${parsed.newest.msn}.${parsed.newest.part})`);

    // Kino before any of the N connections.
    await sleep(1000);
    const rssBeforeSockets = statusKiB(kinoPid);
    const fdsBefore = fdKinds(kinoPid);

    // Open the N connections: N plain reloads at once (not measured).
    const t0 = now();
    const opened = await Promise.all(Array.from({ length: reloads }, () => get(burst, mediaUrl, false)));
    const openErrors = opened.filter((x) => x.status !== 200).length;
    const freeSockets = () => Object.values(burst.freeSockets).reduce((a, l) => a + l.length, 0);
    result.sockets_open = freeSockets();
    log(`opened ${result.sockets_open} connections in ${Math.round(now() - t0)} ms (${openErrors} of ${reloads} plain reloads not 200)`);
    if (openErrors) log(`  statuses: ${JSON.stringify(count(opened, (x) => x.status || x.error))}`);
    await sleep(1000); // let Kino hand back what the burst used (it trims when streaming goes idle)
    const rssIdle = statusKiB(kinoPid);
    const fdsIdle = fdKinds(kinoPid);

    const meter = cpuMeter(() => ({
      kino: [kinoPid],
      kino_ffmpeg: children(kinoPid).filter((p) => comm(p) === 'ffmpeg'),
      publisher: [publisherPid],
      driver: [process.pid],
    }));
    meter.start();
    // Figures of the measured rounds; the warm-up rounds' go to `warm` (not reported, but for the
    // memory of the very first held burst).
    const acc = () => ({ wake: [], wakeAll: [], held: [], watcherWake: [], partInterval: [], sendSpread: [], anchorSpread: [], anchorResponse: [], heldDeltas: [], heldPeaks: [], befores: [], late: 0 });
    const measured = acc();
    const warm = acc();
    const burstStatus = [];
    const anchorStatus = [];
    let wrong = 0;
    let firstHeldDelta = null;
    let syncFailures = 0;
    let syncAgain = 0;
    let fdsHeld = null;
    let newest = parsed.newest;
    const wall = now();

    for (let r = 1; r <= warmupRounds + rounds; r++) {
      const A = r <= warmupRounds ? warm : measured;
      const label = r <= warmupRounds ? `warm-up round ${r}/${warmupRounds}` : `round ${r - warmupRounds}/${rounds}`;
      // 1. sync: wait for the next part, so that the burst goes out just after one landed.
      const s = nextPart(newest);
      const syncRes = await get(sync, `${mediaUrl}?_HLS_msn=${s.msn}&_HLS_part=${s.part}`);
      const sp = syncRes.status === 200 ? parseMedia(syncRes.body) : null;
      if (!sp || !sp.newest) {
        syncFailures++;
        log(`${label}: sync reload ${s.msn}.${s.part} answered ${syncRes.status || syncRes.error}; reading the playlist again`);
        const again = parseMedia((await get(sync, mediaUrl)).body);
        if (again && again.newest) newest = again.newest;
        r--;
        if (syncFailures > 10) throw new Error('the sync reload failed more than 10 times');
        continue;
      }
      newest = sp.newest;
      if (syncRes.answered - syncRes.sent < 20 && syncAgain < 5) {
        // Answered at once: the part was there already (the playlist known was stale), so the
        // next one may be close. Sync again, on a part that has to be waited for.
        syncAgain++;
        r--;
        continue;
      }
      syncAgain = 0;
      const syncAt = syncRes.answered;

      // 2. the burst: the watcher first, then N, for the part after.
      const target = nextPart(newest);
      const url = `${mediaUrl}?_HLS_msn=${target.msn}&_HLS_part=${target.part}`;
      const rssBefore = statusKiB(kinoPid);
      const watcherP = get(sync, url);
      const ps = [];
      for (let i = 0; i < reloads; i++) ps.push(get(burst, url));
      const sentAll = now();
      // RSS while held: every 2 ms until the first answer.
      let peak = rssBefore;
      let firstSeen = false;
      const firstAnswer = Promise.race([watcherP, ...ps]).then(() => { firstSeen = true; });
      while (!firstSeen) {
        const v = statusKiB(kinoPid);
        if (v != null && v > peak) peak = v;
        if (r === 1 && fdsHeld == null && now() - sentAll > 20) fdsHeld = fdKinds(kinoPid);
        await Promise.race([firstAnswer, sleep(2)]);
      }
      const [watcher, ...all] = await Promise.all([watcherP, ...ps]);
      const answers = [watcher, ...all].filter((x) => x.answered != null);
      const firstAt = Math.min(...answers.map((x) => x.answered));
      const lastFlushed = Math.max(...all.map((x) => x.flushed ?? x.sent));
      const roundWake = [];
      let roundLate = 0;
      for (const x of all) {
        burstStatus.push(x.status || x.error || 'failed');
        if (x.answered == null) continue;
        A.wakeAll.push(x.answered - firstAt);
        if (x.flushed != null && x.flushed <= firstAt) {
          roundWake.push(x.answered - firstAt);
          A.held.push(x.answered - x.sent);
        } else {
          roundLate++;
        }
        if (x.status === 200 && !lists(parseMedia(x.body), target.msn, target.part)) wrong++;
      }
      A.late += roundLate;
      A.wake.push(...roundWake);
      if (watcher.answered != null) A.watcherWake.push(watcher.answered - firstAt);
      A.partInterval.push(firstAt - syncAt);
      A.sendSpread.push(lastFlushed - all[0].sent);
      A.befores.push(rssBefore);
      A.heldPeaks.push(peak);
      A.heldDeltas.push(peak - rssBefore);
      if (firstHeldDelta == null) firstHeldDelta = peak - rssBefore;
      const rw = summary(roundWake);
      // The newest part known: what the watcher (or any 200) was told.
      const told = [watcher, ...all].find((x) => x.status === 200 && parseMedia(x.body)?.newest);
      if (told) newest = parseMedia(told.body).newest;

      // 3. the anchor: N plain reloads at once on the same connections.
      const plain = await Promise.all(Array.from({ length: reloads }, () => get(burst, mediaUrl, false)));
      const pa = plain.filter((x) => x.answered != null);
      const pFirst = Math.min(...pa.map((x) => x.answered));
      const roundAnchor = pa.map((x) => x.answered - pFirst);
      A.anchorSpread.push(...roundAnchor);
      A.anchorResponse.push(...pa.map((x) => x.answered - x.sent));
      for (const x of plain) anchorStatus.push(x.status || x.error || 'failed');
      const ra = summary(roundAnchor);

      const entry = {
        warmup: r <= warmupRounds,
        target: `${target.msn}.${target.part}`,
        part_after_sync_ms: round3(firstAt - syncAt),
        send_spread_ms: round3(lastFlushed - all[0].sent),
        wake_p50_ms: round3(rw.p50),
        wake_p99_ms: round3(rw.p99),
        wake_max_ms: round3(rw.max),
        late: roundLate,
        non_200: all.filter((x) => x.status !== 200).length,
        rss_before_kib: rssBefore,
        rss_held_peak_kib: peak,
        anchor_p99_ms: round3(ra.p99),
      };
      result.rounds.push(entry);
      log(`${label}: part ${entry.target} came ${Math.round(entry.part_after_sync_ms)} ms after the sync; wake-up p50 ${entry.wake_p50_ms} ms, p99 ${entry.wake_p99_ms} ms, max ${entry.wake_max_ms} ms` +
        `${roundLate ? `, ${roundLate} late` : ''}${entry.non_200 ? `, ${entry.non_200} not 200` : ''}; RSS +${peak - rssBefore} KiB held; anchor p99 ${entry.anchor_p99_ms} ms`);
    }
    result.secs = (now() - wall) / 1000;
    result.cpu = meter.stop();

    const { wake, wakeAll, held, watcherWake, partInterval, sendSpread, anchorSpread, anchorResponse, heldDeltas, heldPeaks, befores } = measured;
    result.wake_ms = dist(wake);
    result.wake_all_ms = dist(wakeAll);
    result.held_ms = dist(held);
    result.late = measured.late;
    result.warmup_rounds = warmupRounds;
    result.warmup_wake_ms = warmupRounds ? dist(warm.wake) : null;
    result.sync_failures = syncFailures;
    result.statuses = count(burstStatus, (x) => x);
    result.wrong_answers = wrong;
    result.watcher_wake_ms = dist(watcherWake);
    result.part_interval_ms = dist(partInterval);
    result.send_spread_ms = dist(sendSpread);
    result.anchor = { spread_ms: dist(anchorSpread), response_ms: dist(anchorResponse), statuses: count(anchorStatus, (x) => x) };
    const med = (xs) => summary(xs).p50;
    result.rss_kib = {
      before_sockets: rssBeforeSockets,
      sockets_idle: rssIdle,
      before_burst_median: med(befores),
      held_peak_max: Math.max(...heldPeaks),
      held_delta_median: med(heldDeltas),
      held_delta_max: Math.max(...heldDeltas),
      held_delta_first: firstHeldDelta,
      per_held_request_kib: round3(med(heldDeltas) / reloads),
      per_held_request_max_kib: round3(Math.max(...heldDeltas) / reloads),
      per_connection_kib: rssBeforeSockets != null && rssIdle != null ? round3((rssIdle - rssBeforeSockets) / reloads) : null,
      hwm: statusKiB(kinoPid, 'VmHWM'),
    };
    result.fds = { before: fdsBefore, idle: fdsIdle, held: fdsHeld };

    const problems = [];
    if (!wake.length) problems.push('no held request was answered');
    if (wrong) problems.push(`${wrong} answers did not list the part asked for`);
    if (result.sockets_open < reloads) log(`warning: only ${result.sockets_open} of ${reloads} connections stayed open after the first burst; the rest were opened during the bursts`);
    if (problems.length) result.error = problems.join('; ');
  } catch (e) {
    result.error = String(e && e.message ? e.message : e);
  } finally {
    burst.destroy();
    sync.destroy();
  }
  if (result.error) log(`error: ${result.error}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(result.error ? 1 : 0);
}

main();
