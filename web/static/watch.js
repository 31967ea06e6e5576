// The player page: /watch/{id}. Plays the HLS ladder through hls.js (Safari: natively).
import { formatBitrate, formatDate, formatDuration, getJSON, markNav, percent, statusBadge } from './app.js';

const POLL_MS = 2000;

const id = decodeURIComponent(location.pathname.replace(/\/+$/, '').split('/').pop() || '');
const video = document.getElementById('player');
const playerError = document.getElementById('player-error');
const processing = document.getElementById('processing');
const playerBar = document.getElementById('player-bar');
const quality = document.getElementById('quality');
const currentLevel = document.getElementById('current-level');
const wrap = video.closest('.player-wrap');

function showError(message) {
  processing.hidden = true;
  wrap.classList.add('inactive');
  playerError.textContent = message;
  playerError.hidden = false;
}

function showInfo(v) {
  document.title = `${v.title || 'Untitled'} · Kino`;
  document.getElementById('title').textContent = v.title || 'Untitled';
  document.getElementById('description').textContent = v.description || '';
  const status = document.getElementById('status');
  status.replaceChildren(v.status === 'ready' ? '' : statusBadge(v));
  status.hidden = v.status === 'ready';
  const meta = [formatDuration(v.duration), formatDate(v.created_at)].filter(Boolean).join(' · ');
  document.getElementById('meta').textContent = meta;
  const download = document.getElementById('download');
  if (v.download_url) download.href = v.download_url;
  download.hidden = !v.download_url;
}

function levelLabel(level, index) {
  const size = level.height ? `${level.height}p` : level.name || `Level ${index + 1}`;
  const rate = formatBitrate(level.bitrate);
  return rate ? `${size} · ${rate}` : size;
}

function fillQuality(hls) {
  const options = hls.levels
    .map((level, index) => ({ level, index }))
    .sort((a, b) => (b.level.height || 0) - (a.level.height || 0) || b.level.bitrate - a.level.bitrate)
    .map(({ level, index }) => new Option(levelLabel(level, index), String(index)));
  quality.replaceChildren(new Option('Auto', '-1'), ...options);
  quality.value = '-1';
  quality.disabled = hls.levels.length < 2;
}

function showCurrentLevel(hls, index) {
  const level = hls.levels[index];
  if (!level) return;
  currentLevel.textContent = `Playing ${levelLabel(level, index)}${hls.autoLevelEnabled ? ' (auto)' : ''}`;
  quality.value = hls.autoLevelEnabled ? '-1' : String(index);
}

function startHls(v) {
  const Hls = window.Hls;
  const hls = new Hls({ capLevelToPlayerSize: false });
  const fatalErrors = [];
  window.kinoPlayer = { hls, video, fatalErrors };
  let triedMediaRecovery = false;

  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    fillQuality(hls);
    playerBar.hidden = false;
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, (_event, data) => showCurrentLevel(hls, data.level));
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return;
    fatalErrors.push({ type: data.type, details: data.details, reason: data.reason || (data.error && data.error.message) || null });
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !triedMediaRecovery) {
      triedMediaRecovery = true;
      hls.recoverMediaError();
      return;
    }
    const what = data.type === Hls.ErrorTypes.NETWORK_ERROR ? 'a network error' : data.type === Hls.ErrorTypes.MEDIA_ERROR ? 'a media error' : 'an error';
    showError(`Playback stopped because of ${what} (${data.details}).`);
    hls.destroy();
  });
  quality.addEventListener('change', () => {
    hls.currentLevel = Number(quality.value);
    if (hls.currentLevel >= 0) showCurrentLevel(hls, hls.currentLevel);
  });

  hls.loadSource(v.hls_url);
  hls.attachMedia(video);
}

function startPlayer(v) {
  processing.hidden = true;
  playerError.hidden = true;
  wrap.classList.remove('inactive');
  if (v.poster_url) video.poster = v.poster_url;
  if (!v.hls_url) {
    showError('This video has no stream to play.');
    return;
  }
  if (window.Hls && window.Hls.isSupported()) {
    startHls(v);
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    // Safari (and iOS): native HLS with its own adaptive switching; no manual quality choice.
    window.kinoPlayer = { hls: null, video, fatalErrors: [] };
    video.src = v.hls_url;
    quality.closest('label').hidden = true;
    playerBar.hidden = false;
  } else {
    showError('This browser cannot play HLS video (no Media Source Extensions). Use the download link instead.');
    playerBar.hidden = false;
    quality.closest('label').hidden = true;
  }
  video.addEventListener('error', () => {
    if (!window.kinoPlayer || !window.kinoPlayer.hls) {
      showError(`Playback failed: ${(video.error && video.error.message) || 'the video could not be decoded'}.`);
    }
  });
}

async function load() {
  if (!id) {
    showError('No video id in the address.');
    return;
  }
  let v;
  try {
    v = await getJSON(`/api/videos/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err.status === 404) {
      document.getElementById('title').textContent = 'Video not found';
      showError(err.message || 'This video does not exist.');
      return;
    }
    // Transient trouble (server restarting…): say so and try again.
    showError(`Could not load the video: ${err.message} Retrying…`);
    setTimeout(load, POLL_MS);
    return;
  }
  showInfo(v);
  if (v.status === 'ready') {
    startPlayer(v);
  } else if (v.status === 'failed') {
    if (v.poster_url) video.poster = v.poster_url;
    showError(`Processing failed: ${v.error || 'unknown error'}`);
    playerBar.hidden = !v.download_url;
    quality.closest('label').hidden = true;
  } else {
    playerError.hidden = true;
    const p = percent(v.progress);
    document.getElementById('processing-bar').style.width = `${p}%`;
    document.getElementById('processing-text').textContent = `${Math.floor(p)}%`;
    processing.hidden = false;
    wrap.classList.add('inactive');
    setTimeout(load, POLL_MS);
  }
}

markNav();
load();
