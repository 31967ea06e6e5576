//! Live streaming: OBS (or any RTMP publisher) sends to `rtmp://HOST/live/STREAM_KEY`; Kino
//! packages the broadcast into an HLS ladder that any node serves seconds behind, and when it
//! stops the event becomes a normal video (its replay), without re-encoding.
//!
//! - [`rtmp`]: the ingest (RTMP 1.0 via `rml_rtmp`): stream keys are checked at `publish`,
//!   refusals reach the publisher as `onStatus` errors.
//! - [`broadcast`]: one publishing session — probe, plan ([`plan`]), one ffmpeg fed FLV
//!   ([`flv`]) on stdin writing each rendition as fragmented MP4 to a pipe ([`fmp4`]), the
//!   [`packager`] cutting parts and segments ([`cutter`]), storing them and rendering
//!   low-latency playlists ([`playlist`]) from the segment index in the database.
//! - [`edge`]: each low-latency rendition's newest part on this node, which blocking playlist
//!   reloads wait on.
//! - [`finish_broadcast`]: the replay — `VOD` playlists of every segment, a poster, `ready`.
//!   Any node runs it for a broadcast whose ingest node stopped heartbeating ([`sweep`]).
//!
//! A live stream is a video: the same id, owner, privacy, grants, comments and search. Its
//! `live_streams` row holds the key's hash and who holds the broadcast.

pub mod broadcast;
pub mod clip;
pub mod cutter;
pub mod edge;
pub mod flv;
pub mod fmp4;
pub mod packager;
pub mod plan;
pub mod playlist;
pub mod rtmp;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::db::{Db, now_ms};
use crate::events::{Events, VideoEvent};
use crate::ids::VideoId;
use crate::media::playlist::{MULTIVARIANT_PLAYLIST, required_target_duration, write_multivariant};
use crate::media::transcode::MEDIA_PLAYLIST;
use crate::storage::{BlobStore, keys};
use crate::video::{LiveState, Rendition};
use playlist::{LiveSegment, Window};

/// Prefix of stream keys, so people and secret scanners recognise them.
pub const STREAM_KEY_PREFIX: &str = "live_";

/// RTMP application name publishers use: `rtmp://HOST/live/STREAM_KEY`.
pub const RTMP_APP: &str = "live";

/// A claim whose heartbeat is older than this is abandoned (its node is gone), seconds.
const STALE_SECS: i64 = 10;

/// A new stream key: [`STREAM_KEY_PREFIX`] + 256 random bits in base64url. Shown once; the
/// database keeps its SHA-256 ([`crate::auth::secret::digest`]).
pub fn new_stream_key() -> String {
    format!("{STREAM_KEY_PREFIX}{}", crate::auth::secret::random_secret())
}

/// The live side of one node: what it needs to ingest, and which broadcasts it holds.
pub struct LiveHub {
    pub config: Arc<Config>,
    pub db: Db,
    pub store: BlobStore,
    pub events: Events,
    /// Live edges of low-latency renditions, for blocking playlist reloads on this node.
    pub edges: edge::LiveEdges,
    /// This process's name in `live_streams.node`.
    pub node: String,
    active: Mutex<HashSet<VideoId>>,
}

impl LiveHub {
    pub fn new(config: Arc<Config>, db: Db, store: BlobStore, events: Events) -> Arc<LiveHub> {
        Arc::new(LiveHub {
            config,
            db,
            store,
            events,
            edges: edge::LiveEdges::default(),
            node: crate::ids::random_token(),
            active: Mutex::new(HashSet::new()),
        })
    }

    /// Broadcasts ingested on this node now.
    pub fn active(&self) -> usize {
        self.active.lock().map(|a| a.len()).unwrap_or(0)
    }

    /// Checks a publish of `stream_key` and claims its broadcast for a new session on this
    /// node. Returns the video and session number.
    ///
    /// Errors: the sentence sent to the publisher in its `onStatus` error — a malformed,
    /// wrong or revoked key, a stream already replayed, one already live elsewhere, or this
    /// node at `live.max_streams`.
    pub async fn authorize(&self, stream_key: &str) -> Result<(VideoId, u64), String> {
        let well_formed = stream_key.len() <= 128
            && stream_key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !well_formed || !stream_key.starts_with(STREAM_KEY_PREFIX) {
            return Err("bad stream key: copy it from Kino's Go live page".into());
        }
        let internal = |e: crate::db::DbError| {
            tracing::error!(error = %e, "stream key lookup failed");
            "the server cannot check stream keys right now; try again".to_string()
        };
        let row = self
            .db
            .live_stream_by_key(&crate::auth::secret::digest(stream_key))
            .await
            .map_err(internal)?
            .ok_or("bad stream key: it is wrong or was replaced; copy the current one from Kino's Go live page")?;
        if row.replayed {
            return Err("this live stream has ended and is now a video; create a new live stream".into());
        }
        // Reserve the node's slot first, so two publishes at once cannot both pass the limit.
        {
            let mut active = self
                .active
                .lock()
                .map_err(|_| "the server is restarting its live ingest".to_string())?;
            if active.contains(&row.video_id) {
                return Err("this stream key is already live: one publisher at a time".into());
            }
            if active.len() >= self.config.live.max_streams {
                return Err(format!(
                    "this server is ingesting its limit of {} live streams; try again later",
                    self.config.live.max_streams
                ));
            }
            active.insert(row.video_id.clone());
        }
        let claimed = self
            .db
            .claim_live(&row.video_id, &self.node, now_ms() - STALE_SECS * 1000)
            .await;
        match claimed {
            Ok(Some(session)) => Ok((row.video_id, session)),
            Ok(None) => {
                self.release(&row.video_id);
                Err("this stream key is already live: one publisher at a time".into())
            }
            Err(e) => {
                self.release(&row.video_id);
                Err(internal(e))
            }
        }
    }

    /// Forgets a broadcast this node no longer ingests.
    pub fn release(&self, video_id: &VideoId) {
        if let Ok(mut active) = self.active.lock() {
            active.remove(video_id);
        }
    }
}

/// Starts live ingest on this node when `live.rtmp_listen` is set: the RTMP listener and the
/// sweeper. Prints `kino RTMP ingest on rtmp://ADDR/live` on stdout. Returns the bound address.
///
/// Errors: the address cannot be bound.
pub async fn start(hub: Arc<LiveHub>, shutdown: CancellationToken) -> anyhow::Result<Option<std::net::SocketAddr>> {
    tokio::spawn(sweep(hub.clone(), shutdown.clone()));
    if hub.config.live.rtmp_listen.is_empty() {
        return Ok(None);
    }
    let listener = tokio::net::TcpListener::bind(&hub.config.live.rtmp_listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen for RTMP on {} (set live.rtmp_listen or --rtmp-listen to a free address, or \"\" to turn live ingest off)",
                hub.config.live.rtmp_listen
            )
        })?;
    let addr = listener.local_addr()?;
    println!("kino RTMP ingest on rtmp://{addr}/{RTMP_APP}");
    tokio::spawn(rtmp::serve(listener, hub, shutdown));
    Ok(Some(addr))
}

/// Every 5 s: finishes broadcasts whose ingest node stopped heartbeating (crashed or
/// killed) past the reconnect grace, from whatever they stored — the session ends as
/// interrupted and its replay is made here.
async fn sweep(hub: Arc<LiveHub>, shutdown: CancellationToken) {
    let grace_ms = (hub.config.live.reconnect_grace_secs * 1000.0) as i64;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = shutdown.cancelled() => return,
        }
        let before = now_ms() - STALE_SECS * 1000 - grace_ms;
        let Ok(abandoned) = hub.db.abandoned_live_streams(before).await else {
            continue;
        };
        for (video_id, session) in abandoned {
            tracing::warn!(%video_id, session, "a broadcast's ingest node stopped; making its replay");
            if let Err(e) = finish_broadcast(&hub, &video_id, session).await {
                tracing::error!(%video_id, error = %format!("{e:#}"), "cannot make the replay of an abandoned broadcast");
            }
        }
    }
}

/// Turns the broadcast of `video_id`, last held by session `session`, into its replay: each
/// rendition's `VOD` playlist of every indexed segment (`#EXT-X-ENDLIST`), a multivariant
/// playlist with measured bitrates, a poster, then the video `ready` and `video.ready` sent.
/// Without any segment the stream goes back to `idle`. Nothing happens when another session
/// resumed the broadcast, or another node is making the replay ([`Db::begin_finish`]);
/// a node that dies half-way leaves it `finishing`, which the sweeper takes up again.
///
/// Errors: the index or the blob store failed.
pub async fn finish_broadcast(hub: &LiveHub, video_id: &VideoId, session: u64) -> anyhow::Result<()> {
    let Some(video) = hub.db.video(video_id).await? else {
        return Ok(());
    };
    // One node makes the replay, and no publish resumes the event meanwhile.
    let stale_before = now_ms() - STALE_SECS * 1000;
    if !hub.db.begin_finish(video_id, session, stale_before).await? {
        return Ok(());
    }
    let mut renditions: Vec<Rendition> = Vec::new();
    let mut longest = 0.0f64;
    for announced in &video.renditions {
        let segments = hub.db.live_segments(video_id, &announced.name).await?;
        if segments.is_empty() {
            continue;
        }
        let target = required_target_duration(segments.iter().map(|s| s.duration));
        let text = playlist::media_playlist(&segments, target, Window::Replay, 0);
        hub.store
            .put_bytes(
                &keys::hls(video_id, &format!("{}/{MEDIA_PLAYLIST}", announced.name)),
                text,
            )
            .await
            .context("cannot store a replay playlist")?;
        // The live delta update and the parts left behind (a session that ended abnormally,
        // a failed delete) leave with the live stream.
        let _ = hub
            .store
            .delete(&keys::hls(
                video_id,
                &format!("{}/{}", announced.name, packager::DELTA_PLAYLIST),
            ))
            .await;
        if let Ok(stored) = hub.store.list(&keys::hls(video_id, &announced.name)).await {
            for key in stored {
                if key.filename().is_some_and(|f| playlist::part_number(f).is_some()) {
                    let _ = hub.store.delete(&key).await;
                }
            }
        }
        let r = measured(announced, &segments);
        longest = longest.max(r.duration);
        renditions.push(r);
    }
    if renditions.is_empty() {
        hub.db.reset_live(video_id, session).await?;
        hub.events.publish(
            video_id,
            VideoEvent::LiveState {
                state: LiveState::Idle,
                reason: Some("nothing was received that could be packaged".into()),
            },
        );
        return Ok(());
    }
    hub.store
        .put_bytes(
            &keys::hls(video_id, MULTIVARIANT_PLAYLIST),
            write_multivariant(&renditions),
        )
        .await
        .context("cannot store the replay's multivariant playlist")?;
    let has_poster = match poster(hub, video_id, &renditions).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(%video_id, error = %format!("{e:#}"), "no poster for a replay");
            false
        }
    };
    let json = serde_json::to_string(&renditions)?;
    if hub.db.finish_live(video_id, &json, longest, has_poster).await? {
        tracing::info!(%video_id, duration_secs = longest, "broadcast is now a video");
        hub.events
            .publish(video_id, VideoEvent::VideoReady { duration_secs: longest });
    }
    Ok(())
}

/// `announced` with the figures of all its `segments`: peak and average bitrate (RFC 8216
/// §4.3.4.2), duration, bytes, count.
fn measured(announced: &Rendition, segments: &[LiveSegment]) -> Rendition {
    let duration: f64 = segments.iter().map(|s| s.duration).sum();
    let bytes: u64 = segments.iter().map(|s| s.bytes).sum();
    let peak = segments
        .iter()
        .filter(|s| s.duration > 0.0)
        .map(|s| s.bytes as f64 * 8.0 / s.duration)
        .fold(0.0, f64::max);
    Rendition {
        bandwidth: peak.ceil() as u64,
        average_bandwidth: if duration > 0.0 {
            (bytes as f64 * 8.0 / duration).ceil() as u64
        } else {
            0
        },
        duration,
        bytes,
        segments: segments.len(),
        ..announced.clone()
    }
}

/// The replay's poster: a frame a third of the way in, from the smallest video rendition
/// (its init segment and one media segment, joined, are a playable MP4).
async fn poster(hub: &LiveHub, video_id: &VideoId, renditions: &[Rendition]) -> anyhow::Result<()> {
    let smallest = renditions
        .iter()
        .filter(|r| r.height.is_some())
        .min_by_key(|r| r.bandwidth)
        .context("no video rendition")?;
    let segments = hub.db.live_segments(video_id, &smallest.name).await?;
    let seg = &segments[segments.len() / 3];
    let dir = tempfile::Builder::new()
        .prefix("kino-poster-")
        .tempdir_in(hub.config.scratch_dir())
        .or_else(|_| tempfile::tempdir())?;
    let joined = dir.path().join("frame.mp4");
    let mut bytes = Vec::new();
    for file in [seg.init.clone(), playlist::segment_file(seg.session, seg.seq)] {
        let key = keys::hls(video_id, &format!("{}/{file}", smallest.name));
        bytes.extend(hub.store.get(&key, None).await?.bytes().await?);
    }
    tokio::fs::write(&joined, bytes).await?;
    let out = dir.path().join("poster.jpg");
    let mut cmd = tokio::process::Command::new(&hub.config.ffmpeg);
    cmd.args(["-hide_banner", "-nostdin", "-v", "error"])
        .args(crate::media::process::INPUT_GUARD)
        .arg("-i")
        .arg(&joined)
        .args([
            "-frames:v",
            "1",
            "-vf",
            "scale='min(640,iw)':-2:flags=bicubic,format=yuvj420p",
            "-y",
        ])
        .arg(&out);
    crate::media::process::run(cmd, Duration::from_secs(30), &CancellationToken::new(), None).await?;
    hub.store.put_file(&keys::poster(video_id), &out).await?;
    Ok(())
}
