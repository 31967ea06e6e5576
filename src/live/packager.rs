//! Stores what the live ffmpeg writes and publishes the playlists of a broadcast. Every
//! 100 ms each rendition's ffmpeg playlist is read for segments not seen yet; each one is
//! stored under Kino's own sequence number (`NNNNNN.m4s`, unique across reconnects), indexed in
//! `live_segments`, and only then listed in the media playlist Kino renders
//! ([`crate::live::playlist`]) and stores — so no node ever lists a segment whose bytes are
//! not in the blob store. The multivariant playlist is stored once every rendition has its
//! first segment, and the video becomes playable.
//!
//! Memory stays flat: a rendition keeps only its DVR window of index entries.

use std::collections::VecDeque;
use std::path::PathBuf;

use anyhow::Context;

use super::LiveHub;
use super::plan::{LivePlan, LiveRung};
use super::playlist::{self, LiveSegment, Window};
use crate::events::VideoEvent;
use crate::ids::VideoId;
use crate::media::playlist::{
    AAC_LC, MULTIVARIANT_PLAYLIST, avc_codec_string, required_target_duration, write_multivariant,
};
use crate::media::transcode::MEDIA_PLAYLIST;
use crate::storage::keys;
use crate::video::Rendition;

/// Publishing state of one rendition.
struct RungState {
    rung: LiveRung,
    /// ffmpeg's next media sequence number in this session.
    next_ffmpeg_seq: u64,
    /// The DVR window of the index, ascending.
    window: VecDeque<LiveSegment>,
    init: Option<Vec<u8>>,
    /// Target duration, seconds; never lowered.
    target: u64,
    /// The next segment starts this session's timeline after an earlier one.
    discontinuity: bool,
    /// Wall-clock time of the next segment's first frame, Unix ms.
    next_pdt_ms: i64,
    /// Largest segment bitrate seen this session, bits/s.
    peak: f64,
    /// Discontinuities among the segments trimmed from `window`.
    trimmed_discontinuities: usize,
}

/// The packager of one publishing session.
pub struct Packager {
    video_id: VideoId,
    session: u64,
    /// ffmpeg's output directory (`<name>/index.m3u8` per rendition).
    dir: PathBuf,
    has_audio: bool,
    frame_rate: Option<f64>,
    dvr_secs: f64,
    rungs: Vec<RungState>,
    multivariant_published: bool,
    /// Kino's sequence number of this session's first segment: one past the highest of any
    /// rendition so far, the same for every rendition, so segment N of ffmpeg is `base + N`
    /// in each of them (renditions stay aligned even if one loses a segment).
    base: u64,
    segment_secs: f64,
}

impl Packager {
    /// Starts the packager of session `session` whose first frame is at `start_ms` (Unix ms),
    /// resuming each rendition's index where an earlier session left it.
    ///
    /// Errors: the index cannot be read.
    pub async fn new(
        hub: &LiveHub,
        video_id: &VideoId,
        session: u64,
        dir: PathBuf,
        plan: &LivePlan,
        start_ms: i64,
    ) -> anyhow::Result<Packager> {
        let mut rungs = Vec::new();
        let mut base = 0;
        for name in hub.db.live_renditions(video_id).await? {
            base = base.max(
                hub.db
                    .live_segments(video_id, &name)
                    .await?
                    .last()
                    .map_or(0, |s| s.seq + 1),
            );
        }
        for rung in &plan.rungs {
            let earlier = hub.db.live_segments(video_id, &rung.name).await?;
            let target = required_target_duration(earlier.iter().map(|s| s.duration).chain([plan.segment_secs]));
            let mut window: VecDeque<LiveSegment> = earlier.into();
            let trimmed_discontinuities = trim(&mut window, hub.config.live.dvr_secs);
            rungs.push(RungState {
                rung: rung.clone(),
                next_ffmpeg_seq: 0,
                discontinuity: base > 0,
                window,
                init: None,
                target,
                next_pdt_ms: start_ms,
                peak: 0.0,
                trimmed_discontinuities,
            });
        }
        Ok(Packager {
            video_id: video_id.clone(),
            session,
            dir,
            has_audio: plan.audio_copy.is_some(),
            frame_rate: plan.frame_rate,
            dvr_secs: hub.config.live.dvr_secs,
            rungs,
            multivariant_published: false,
            base,
            segment_secs: plan.segment_secs,
        })
    }

    /// Segments stored so far in this session, summed over renditions.
    pub fn stored(&self) -> usize {
        self.rungs.iter().map(|r| r.window.len()).sum()
    }

    /// Stores and indexes what ffmpeg finished since the last call, then republishes the
    /// media playlists that changed and, the first time every rendition has a segment, the
    /// multivariant playlist.
    ///
    /// Errors: the blob store or the database refused a write.
    pub async fn sync(&mut self, hub: &LiveHub) -> anyhow::Result<()> {
        for i in 0..self.rungs.len() {
            if self.sync_rung(hub, i).await? {
                let r = &self.rungs[i];
                let segments: Vec<LiveSegment> = r.window.iter().cloned().collect();
                let text = playlist::media_playlist(
                    &segments,
                    r.target,
                    Window::Live {
                        dvr_secs: self.dvr_secs,
                    },
                    r.trimmed_discontinuities,
                );
                hub.store
                    .put_bytes(
                        &keys::hls(&self.video_id, &format!("{}/{MEDIA_PLAYLIST}", r.rung.name)),
                        text,
                    )
                    .await
                    .context("cannot store a live media playlist")?;
            }
        }
        if !self.multivariant_published && self.rungs.iter().all(|r| r.init.is_some() && r.peak > 0.0) {
            self.publish_multivariant(hub).await?;
        }
        Ok(())
    }

    /// One rendition; true when it gained segments.
    async fn sync_rung(&mut self, hub: &LiveHub, i: usize) -> anyhow::Result<bool> {
        let name = self.rungs[i].rung.name.clone();
        let dir = self.dir.join(&name);
        let text = match tokio::fs::read(dir.join(MEDIA_PLAYLIST)).await {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e).context("cannot read ffmpeg's live playlist"),
        };
        let Ok(m3u8_rs::Playlist::MediaPlaylist(list)) = m3u8_rs::parse_playlist_res(&text) else {
            return Ok(false);
        };
        let mut added = false;
        for (n, seg) in list.segments.iter().enumerate() {
            let ffmpeg_seq = list.media_sequence + n as u64;
            let r = &mut self.rungs[i];
            if ffmpeg_seq < r.next_ffmpeg_seq {
                continue;
            }
            if ffmpeg_seq > r.next_ffmpeg_seq {
                // ffmpeg trimmed segments this packager never saw (it fell behind): the
                // timeline goes on after a gap.
                tracing::warn!(video_id = %self.video_id, rendition = name, lost = ffmpeg_seq - r.next_ffmpeg_seq, "live segments were gone before they were stored");
                r.next_pdt_ms += ((ffmpeg_seq - r.next_ffmpeg_seq) as f64 * self.segment_secs * 1000.0) as i64;
                r.next_ffmpeg_seq = ffmpeg_seq;
                r.discontinuity = true;
            }
            let init_name = playlist::init_file(self.session);
            if r.init.is_none() {
                let map = list
                    .segments
                    .iter()
                    .find_map(|s| s.map.as_ref())
                    .context("ffmpeg's live playlist names no init segment")?;
                let init = tokio::fs::read(dir.join(&map.uri))
                    .await
                    .context("the live init segment is missing")?;
                hub.store
                    .put_bytes(&keys::hls(&self.video_id, &format!("{name}/{init_name}")), init.clone())
                    .await
                    .context("cannot store a live init segment")?;
                r.init = Some(init);
            }
            let bytes = match tokio::fs::read(dir.join(&seg.uri)).await {
                Ok(bytes) => bytes,
                Err(e) => {
                    // ffmpeg trimmed it before it was read (the node stalled for seconds): the
                    // timeline goes on after a gap.
                    tracing::warn!(video_id = %self.video_id, rendition = name, segment = seg.uri, error = %e, "a live segment was gone before it was stored");
                    r.next_ffmpeg_seq = ffmpeg_seq + 1;
                    r.next_pdt_ms += (f64::from(seg.duration) * 1000.0).round() as i64;
                    r.discontinuity = true;
                    continue;
                }
            };
            let duration = f64::from(seg.duration);
            let segment = LiveSegment {
                seq: self.base + ffmpeg_seq,
                session: self.session,
                duration,
                bytes: bytes.len() as u64,
                init: init_name,
                discontinuity: r.discontinuity,
                program_date_time_ms: r.next_pdt_ms,
            };
            if duration > 0.0 {
                r.peak = r.peak.max(bytes.len() as f64 * 8.0 / duration);
            }
            hub.store
                .put_bytes(
                    &keys::hls(
                        &self.video_id,
                        &format!("{name}/{}", playlist::segment_file(segment.session, segment.seq)),
                    ),
                    bytes,
                )
                .await
                .context("cannot store a live segment")?;
            if !hub.db.insert_live_segment(&self.video_id, &name, &segment).await? {
                anyhow::bail!("another session took this broadcast over");
            }
            r.target = r.target.max(required_target_duration(std::iter::once(duration)));
            r.next_pdt_ms += (duration * 1000.0).round() as i64;
            r.next_ffmpeg_seq = ffmpeg_seq + 1;
            r.discontinuity = false;
            r.window.push_back(segment);
            r.trimmed_discontinuities += trim(&mut r.window, self.dvr_secs);
            added = true;
        }
        Ok(added)
    }

    /// The variant streams as the multivariant playlist declares them: the rung's cap or the
    /// measured peak, whichever is higher, until the replay measures every segment.
    pub fn renditions(&self) -> Vec<Rendition> {
        self.rungs
            .iter()
            .map(|r| {
                let mut codecs: Vec<String> = r.init.as_deref().and_then(avc_codec_string).into_iter().collect();
                if self.has_audio {
                    codecs.push(AAC_LC.into());
                }
                let bandwidth = (r.rung.max_bitrate as f64).max(r.peak).ceil() as u64;
                let (bytes, secs) = r
                    .window
                    .iter()
                    .fold((0u64, 0f64), |(b, d), s| (b + s.bytes, d + s.duration));
                let average = if secs > 0.0 {
                    (bytes as f64 * 8.0 / secs).ceil() as u64
                } else {
                    bandwidth
                };
                Rendition {
                    name: r.rung.name.clone(),
                    width: (r.rung.width > 0).then_some(r.rung.width),
                    height: (r.rung.height > 0).then_some(r.rung.height),
                    bandwidth,
                    average_bandwidth: average.min(bandwidth),
                    codecs: codecs.join(","),
                    frame_rate: self.frame_rate,
                    duration: r.window.iter().map(|s| s.duration).sum(),
                    bytes: r.window.iter().map(|s| s.bytes).sum(),
                    segments: r.window.len(),
                    audio_track: None,
                }
            })
            .collect()
    }

    async fn publish_multivariant(&mut self, hub: &LiveHub) -> anyhow::Result<()> {
        let renditions = self.renditions();
        hub.store
            .put_bytes(
                &keys::hls(&self.video_id, MULTIVARIANT_PLAYLIST),
                write_multivariant(&renditions),
            )
            .await
            .context("cannot store the live multivariant playlist")?;
        let json = serde_json::to_string(&renditions)?;
        hub.db.set_published(&self.video_id, &json, 0.0, false).await?;
        self.multivariant_published = true;
        hub.events.publish(
            &self.video_id,
            VideoEvent::VideoPlayable {
                renditions: renditions.iter().map(|r| r.name.clone()).collect(),
            },
        );
        Ok(())
    }
}

/// Drops index entries older than the DVR window (`dvr_secs`, 0 = keep all), keeping three.
/// Returns how many of the dropped ones started a discontinuity.
fn trim(window: &mut VecDeque<LiveSegment>, dvr_secs: f64) -> usize {
    let mut discontinuities = 0;
    if dvr_secs <= 0.0 {
        return 0;
    }
    let mut total: f64 = window.iter().map(|s| s.duration).sum();
    while window.len() > 3 && total - window[0].duration >= dvr_secs {
        total -= window[0].duration;
        discontinuities += usize::from(window.pop_front().is_some_and(|s| s.discontinuity));
    }
    discontinuities
}
