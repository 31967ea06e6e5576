//! One publishing session, from the first media message to the replay: look at the first
//! seconds of the publish (codecs, picture, keyframe interval), plan the live ladder, run one
//! ffmpeg fed FLV on stdin while the [`Packager`] stores segments, and when the publisher
//! stops — cleanly, by dropping, by going idle or by breaking a limit — end the session and,
//! after the reconnect grace, turn the event into its replay ([`super::finish_broadcast`]).

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::flv::{self, VideoCodec};
use super::fmp4::{Fragment, FragmentReader};
use super::packager::Packager;
use super::plan::{self, AudioIn, SourceInfo};
use super::{LiveHub, finish_broadcast};
use crate::db::now_ms;
use crate::events::VideoEvent;
use crate::ids::VideoId;
use crate::video::LiveState;

/// What the RTMP session hands a broadcast.
#[derive(Debug)]
pub enum Media {
    /// The publisher's `onMetaData`.
    Meta(StreamMeta),
    /// An audio or video message: [`flv::TAG_AUDIO`] or [`flv::TAG_VIDEO`], its RTMP timestamp
    /// (ms) and body.
    Tag { kind: u8, timestamp_ms: u32, body: Bytes },
    /// The publisher is gone: `clean` when it unpublished (the event ends now), else it
    /// dropped (a reconnect within the grace resumes it). `reason` is logged.
    End { clean: bool, reason: String },
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The publisher unpublished: the event ends now.
    Clean,
    /// The publisher dropped (socket closed, silence, a limit, ffmpeg failed): a reconnect
    /// within `live.reconnect_grace_secs` resumes the event.
    Dropped,
    /// Refused after the first seconds (no video, an unsupported codec, a limit): nothing was
    /// packaged in this session; no grace.
    Refused,
}

/// What `onMetaData` declares (every field optional: publishers differ).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamMeta {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub frame_rate: Option<f64>,
    /// Video plus audio bitrate, bits/s.
    pub bitrate: Option<u64>,
}

/// How long the first seconds of a publish may take to show two keyframes.
const PROBE_SECS: f64 = 6.0;
/// Most bytes held while probing.
const PROBE_MAX_BYTES: usize = 64 << 20;
/// How often the ingest node renews its claim on a broadcast.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);
/// Window over which the ingest bitrate is checked.
const BITRATE_WINDOW: Duration = Duration::from_secs(5);

/// Runs session `session` of `video_id` until the publisher stops, then ends it and makes
/// the replay (after `live.reconnect_grace_secs` unless the stop was clean). Never fails:
/// errors are logged and end the session.
pub async fn run(hub: Arc<LiveHub>, video_id: VideoId, session: u64, mut rx: mpsc::Receiver<Media>) {
    let (ending, reason) = match broadcast(&hub, &video_id, session, &mut rx).await {
        Ok(end) => end,
        Err(e) => {
            tracing::error!(%video_id, session, error = %format!("{e:#}"), "live session failed");
            (Ending::Dropped, "the server could not package the stream".into())
        }
    };
    drop(rx);
    hub.release(&video_id);
    tracing::info!(%video_id, session, ?ending, reason, "live session ended");
    if matches!(hub.db.video(&video_id).await, Ok(None)) {
        // Deleted while live: segments stored after the delete removed its blobs go too.
        if let Err(e) = crate::jobs::remove_blobs(&hub.store, &video_id).await {
            tracing::warn!(%video_id, error = %format!("{e:#}"), "cannot remove a deleted stream's last segments");
        }
        return;
    }
    match hub.db.end_live(&video_id, session).await {
        Ok(true) => {}
        Ok(false) => return, // another session took over
        Err(e) => tracing::warn!(%video_id, error = %e, "cannot record the end of a live session"),
    }
    hub.events.publish(
        &video_id,
        VideoEvent::LiveState {
            state: LiveState::Ended,
            reason: Some(reason),
        },
    );
    if ending == Ending::Dropped {
        tokio::time::sleep(Duration::from_secs_f64(hub.config.live.reconnect_grace_secs)).await;
    }
    if let Err(e) = finish_broadcast(&hub, &video_id, session).await {
        tracing::error!(%video_id, error = %format!("{e:#}"), "cannot turn a broadcast into its replay");
    }
}

/// The session itself; returns how it ended and why (a sentence for the creator's page).
async fn broadcast(
    hub: &Arc<LiveHub>,
    video_id: &VideoId,
    session: u64,
    rx: &mut mpsc::Receiver<Media>,
) -> anyhow::Result<(Ending, String)> {
    let cfg = &hub.config.live;
    // 1. The first seconds: codecs, picture, keyframe interval.
    let mut held: Vec<(u8, u32, Bytes)> = Vec::new();
    let (mut held_bytes, mut meta, mut keyframes, mut audio) = (0usize, StreamMeta::default(), Vec::new(), None);
    let deadline = Instant::now() + Duration::from_secs_f64(PROBE_SECS.max(cfg.segment_secs * 3.0));
    while keyframes.len() < 2 && held_bytes < PROBE_MAX_BYTES {
        let msg = tokio::select! {
            msg = rx.recv() => msg,
            _ = tokio::time::sleep_until(deadline) => break,
        };
        match msg {
            None => return Ok((Ending::Dropped, "the publisher went away".into())),
            Some(Media::End { clean, reason }) => {
                return Ok((if clean { Ending::Clean } else { Ending::Dropped }, reason));
            }
            Some(Media::Meta(m)) => meta = m,
            Some(Media::Tag {
                kind,
                timestamp_ms,
                body,
            }) => {
                if kind == flv::TAG_VIDEO {
                    match flv::video_codec(&body) {
                        Some(VideoCodec::Avc) | None => {}
                        Some(VideoCodec::Enhanced(fourcc)) => {
                            return Ok((
                                Ending::Refused,
                                format!(
                                    "refused: Enhanced RTMP video ({}) is not supported; set the encoder to H.264 (x264 or a hardware H.264 encoder)",
                                    String::from_utf8_lossy(&fourcc)
                                ),
                            ));
                        }
                        Some(VideoCodec::Other(id)) => {
                            return Ok((
                                Ending::Refused,
                                format!("refused: FLV video codec id {id} is not supported; send H.264"),
                            ));
                        }
                    }
                    if flv::is_avc_keyframe(&body) {
                        keyframes.push(timestamp_ms);
                    }
                } else if audio.is_none() {
                    audio = Some(if flv::is_aac(&body) {
                        AudioIn::Aac
                    } else {
                        AudioIn::Other
                    });
                }
                held_bytes += body.len();
                held.push((kind, timestamp_ms, body));
            }
        }
    }
    if !held.iter().any(|(k, _, _)| *k == flv::TAG_VIDEO) {
        return Ok((
            Ending::Refused,
            format!("refused: no video arrived in the first {PROBE_SECS} s; a live stream needs video"),
        ));
    }
    let source = SourceInfo {
        width: meta.width,
        height: meta.height,
        frame_rate: meta.frame_rate,
        bitrate: meta.bitrate,
        avc: true,
        audio,
        keyframe_secs: (keyframes.len() >= 2).then(|| f64::from(keyframes[1].wrapping_sub(keyframes[0])) / 1000.0),
    };
    let plan = match plan::plan(&source, cfg, &hub.config.ladder) {
        Ok(plan) => plan,
        Err(why) => return Ok((Ending::Refused, format!("refused: {why}"))),
    };
    tracing::info!(%video_id, session, ?source, renditions = ?plan.rungs.iter().map(|r| &r.name).collect::<Vec<_>>(), "live session starts");

    // 2. ffmpeg, fed what was held and then everything that arrives; each rendition comes
    // back as fragmented MP4 on a pipe of its own.
    let mut cmd = Command::new(&hub.config.ffmpeg);
    cmd.args(plan::ffmpeg_args(&plan, &cfg.preset, cfg.part_secs))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    crate::media::process::die_with_parent(&mut cmd);
    let mut pipes = Vec::new();
    for _ in &plan.rungs {
        pipes.push(std::io::pipe().context("cannot create a pipe for the live ffmpeg")?);
    }
    let write_ends: Vec<RawFd> = pipes.iter().map(|(_, w)| w.as_raw_fd()).collect();
    crate::media::process::pass_fds(&mut cmd, &write_ends, plan::FIRST_OUTPUT_FD);
    let mut child = cmd.spawn().context("cannot start ffmpeg for a live stream")?;
    let (fragments_tx, fragments) = mpsc::channel(64);
    for (i, (read_end, write_end)) in pipes.into_iter().enumerate() {
        drop(write_end); // ffmpeg holds the only writer: its exit ends the stream
        let pipe = tokio::net::unix::pipe::Receiver::from_owned_fd(OwnedFd::from(read_end))
            .context("cannot read a pipe of the live ffmpeg")?;
        tokio::spawn(read_rendition(i, pipe, fragments_tx.clone()));
    }
    drop(fragments_tx);
    let mut stdin = child.stdin.take().context("ffmpeg's stdin")?;
    let stderr = child.stderr.take().context("ffmpeg's stderr")?;
    let stderr_tail = tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        let mut last = String::new();
        while let Ok(Some(line)) = lines.next_line().await {
            last = line;
        }
        last
    });
    let span_ms = held
        .iter()
        .map(|(_, t, _)| *t)
        .max()
        .unwrap_or(0)
        .saturating_sub(held.iter().map(|(_, t, _)| *t).min().unwrap_or(0));
    let start_ms = now_ms() - i64::from(span_ms);
    let packager = Packager::new(hub, video_id, session, &plan, start_ms).await?;
    let has_audio = plan.audio_copy.is_some();
    let mut head = flv::header(has_audio, true);
    for (kind, ts, body) in held.drain(..) {
        if kind == flv::TAG_AUDIO && !has_audio {
            continue;
        }
        head.extend(flv::tag(kind, ts, &body));
    }
    let stop = CancellationToken::new();
    let packaging = tokio::spawn(package(hub.clone(), packager, fragments, stop.clone()));
    let beating = tokio::spawn(heartbeat(hub.clone(), video_id.clone(), session, stop.clone()));
    hub.events.publish(
        video_id,
        VideoEvent::LiveState {
            state: LiveState::Live,
            reason: None,
        },
    );

    let mut end = (Ending::Dropped, String::from("the publisher went away"));
    let mut fed = stdin.write_all(&head).await;
    let (mut window_start, mut window_bytes) = (Instant::now(), 0u64);
    let mut health = Health::new(meta.frame_rate, keyframes.last().copied());
    let mut events = hub.events.subscribe();
    while fed.is_ok() {
        let msg = tokio::select! {
            msg = rx.recv() => msg,
            _ = stop.cancelled() => { end = (Ending::Dropped, "the broadcast was taken over or could not be stored".into()); break }
            event = events.recv() => match event {
                Ok(e) if e.video_id == *video_id && e.kind == VideoEvent::VideoDeleted => {
                    end = (Ending::Clean, "the live stream was deleted".into());
                    break;
                }
                _ => continue,
            },
        };
        match msg {
            None => break,
            Some(Media::End { clean, reason }) => {
                end = (if clean { Ending::Clean } else { Ending::Dropped }, reason);
                break;
            }
            Some(Media::Meta(_)) => {}
            Some(Media::Tag {
                kind,
                timestamp_ms,
                body,
            }) => {
                if kind == flv::TAG_AUDIO && !has_audio {
                    continue;
                }
                window_bytes += body.len() as u64;
                metrics::counter!("kino_live_ingest_bytes_total").increment(body.len() as u64);
                health.saw(kind, timestamp_ms, &body);
                if let Some(report) = health.report() {
                    hub.events.publish(video_id, report);
                }
                if window_start.elapsed() >= BITRATE_WINDOW {
                    let bitrate = window_bytes * 8 / window_start.elapsed().as_secs().max(1);
                    if bitrate > cfg.max_ingest_bitrate {
                        end = (
                            Ending::Dropped,
                            format!(
                                "ended: the ingest bitrate reached {bitrate} bits/s, over this server's limit of {}",
                                cfg.max_ingest_bitrate
                            ),
                        );
                        break;
                    }
                    (window_start, window_bytes) = (Instant::now(), 0);
                }
                fed = stdin.write_all(&flv::tag(kind, timestamp_ms, &body)).await;
            }
        }
    }
    if fed.is_err() {
        end = (Ending::Dropped, "the server's encoder stopped taking the stream".into());
    }
    // 3. ffmpeg writes its last segment when its input ends.
    drop(stdin);
    match tokio::time::timeout(Duration::from_secs(15), child.wait()).await {
        Ok(Ok(status)) if !status.success() => {
            let last = stderr_tail.await.unwrap_or_default();
            // ffmpeg's words (with scratch paths) stay in the log, not in the public reason.
            tracing::warn!(%video_id, session, %status, ffmpeg = last, "live ffmpeg failed");
        }
        Ok(_) => {}
        Err(_) => {
            let _ = child.kill().await;
        }
    }
    stop.cancel();
    let _ = beating.await;
    match packaging.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(%video_id, error = %format!("{e:#}"), "live packaging failed"),
        Err(e) => tracing::error!(%video_id, error = %e, "live packaging panicked"),
    }
    Ok(end)
}

/// What a rendition's pipe gave.
enum Output {
    Init(usize, Bytes),
    Fragment(usize, Fragment),
}

/// Reads rendition `i`'s fragmented MP4 from ffmpeg until it ends, handing the init segment
/// and each fragment to the packager. A broken stream is logged and its pipe closed: ffmpeg's
/// next write there ends it, and the session with it (a publisher that reconnects resumes).
async fn read_rendition(i: usize, pipe: tokio::net::unix::pipe::Receiver, to: mpsc::Sender<Output>) {
    let (init, mut reader) = match FragmentReader::open(pipe).await {
        Ok(opened) => opened,
        Err(e) => {
            tracing::debug!(rendition = i, error = %format!("{e:#}"), "the live ffmpeg wrote no init segment");
            return;
        }
    };
    if to.send(Output::Init(i, init)).await.is_err() {
        return;
    }
    loop {
        match reader.next().await {
            Ok(Some(f)) => {
                if to.send(Output::Fragment(i, f)).await.is_err() {
                    return;
                }
            }
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(rendition = i, error = %format!("{e:#}"), "a live rendition's stream broke");
                return;
            }
        }
    }
}

/// Packages what the renditions' pipes give until they have all ended (ffmpeg exited), then
/// closes the last segments. Cancels `stop` itself when a write failed or the claim was lost
/// (a segment's index row is refused), which ends the session.
async fn package(
    hub: Arc<LiveHub>,
    mut packager: Packager,
    mut outputs: mpsc::Receiver<Output>,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let result = async {
        while let Some(output) = outputs.recv().await {
            match output {
                Output::Init(i, init) => packager.init(&hub, i, init).await?,
                Output::Fragment(i, f) => packager.fragment(&hub, i, f).await?,
            }
        }
        packager.finish(&hub).await
    }
    .await;
    if result.is_err() {
        stop.cancel();
    }
    result
}

/// Renews the session's claim every [`HEARTBEAT_EVERY`], on its own timer so slow uploads
/// never let it go stale; cancels `stop` when another session took the broadcast over.
async fn heartbeat(hub: Arc<LiveHub>, video_id: VideoId, session: u64, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(HEARTBEAT_EVERY) => {}
            _ = stop.cancelled() => return,
        }
        if !hub.db.live_heartbeat(&video_id, session).await.unwrap_or(true) {
            tracing::warn!(%video_id, session, "another session took this broadcast over");
            stop.cancel();
            return;
        }
    }
}

/// Ingest health over windows of [`HEALTH_EVERY`]: what the creator's page shows live.
/// Frames missing are read from the frames' own timestamps (a gap over 1.5 frame intervals
/// at the declared rate counts the frames that should have filled it), so arrival jitter on
/// the network does not count.
struct Health {
    declared_fps: Option<f64>,
    since: Instant,
    bytes: u64,
    frames: u64,
    missing: u64,
    last_frame_ms: Option<u32>,
    last_keyframe_ms: Option<u32>,
    keyframe_interval: Option<f64>,
}

/// How often ingest health is reported.
const HEALTH_EVERY: Duration = Duration::from_secs(2);

impl Health {
    fn new(declared_fps: Option<f64>, last_keyframe_ms: Option<u32>) -> Health {
        Health {
            declared_fps: declared_fps.filter(|f| *f > 0.0),
            since: Instant::now(),
            bytes: 0,
            frames: 0,
            missing: 0,
            last_frame_ms: None,
            last_keyframe_ms,
            keyframe_interval: None,
        }
    }

    fn saw(&mut self, kind: u8, timestamp_ms: u32, body: &[u8]) {
        self.bytes += body.len() as u64;
        if kind != flv::TAG_VIDEO || body.get(1) != Some(&1) {
            return;
        }
        self.frames += 1;
        if let (Some(fps), Some(last)) = (self.declared_fps, self.last_frame_ms) {
            let interval = 1000.0 / fps;
            let gap = f64::from(timestamp_ms.wrapping_sub(last));
            if gap > interval * 1.5 && gap < 60_000.0 {
                self.missing += ((gap / interval).round() as u64).saturating_sub(1);
            }
        }
        self.last_frame_ms = Some(timestamp_ms);
        if flv::is_avc_keyframe(body) {
            if let Some(last) = self.last_keyframe_ms {
                self.keyframe_interval = Some(f64::from(timestamp_ms.wrapping_sub(last)) / 1000.0);
            }
            self.last_keyframe_ms = Some(timestamp_ms);
        }
    }

    /// The `live.health` event once a window has passed, and a new window.
    fn report(&mut self) -> Option<VideoEvent> {
        let secs = self.since.elapsed().as_secs_f64();
        if secs < HEALTH_EVERY.as_secs_f64() {
            return None;
        }
        let event = VideoEvent::LiveHealth {
            bitrate: (self.bytes as f64 * 8.0 / secs) as u64,
            frame_rate: (self.frames as f64 / secs * 100.0).round() / 100.0,
            keyframe_interval_secs: self.keyframe_interval,
            frames_missing: self.missing,
        };
        (self.since, self.bytes, self.frames, self.missing) = (Instant::now(), 0, 0, 0);
        Some(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(h: &mut Health, ts: u32, key: bool) {
        h.saw(flv::TAG_VIDEO, ts, &[if key { 0x17 } else { 0x27 }, 1, 0, 0, 0]);
    }

    #[test]
    fn missing_frames_come_from_timestamp_gaps_not_arrival() {
        let mut h = Health::new(Some(30.0), None);
        for n in 0..30u32 {
            frame(&mut h, n * 1000 / 30, n % 30 == 0);
        }
        assert_eq!(h.missing, 0, "a steady 30 fps misses nothing");
        frame(&mut h, 1066, false); // 3 frame intervals after the frame at 966 ms: 2 missing
        assert_eq!(h.missing, 2);
        frame(&mut h, 2000, true);
        frame(&mut h, 3000, true);
        assert_eq!(h.keyframe_interval, Some(1.0));
    }
}
