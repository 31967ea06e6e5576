//! Cuts what the live ffmpeg writes into LL-HLS parts and segments, stores them, and publishes
//! the playlists of a broadcast.
//!
//! Each rendition arrives as a fragmented MP4 stream ([`super::fmp4`]): one fragment every
//! `live.part_secs` or keyframe. Every fragment is a **part**: stored at once under its own
//! name ([`playlist::part_file`]) in the blob store, so any node serves it — the store is the
//! one place media lives, and a node answering a blocking reload needs the bytes where it can
//! read them. A keyframe after about `live.segment_secs` ([`Cutter`]) closes the open
//! segment: its parts, concatenated, are stored as the segment (`NNNNNN.m4s`, Kino's sequence
//! number, unique across reconnects) and indexed in `live_segments`. Only then is anything
//! listed: after each part the rendition's media playlist and its delta update are rendered
//! ([`playlist::low_latency_playlist`]) and stored, then a `live.part` event wakes blocking
//! reloads on every node. No node lists a part or segment whose bytes are not stored.
//!
//! The multivariant playlist is stored once every rendition has its first segment, and the
//! video becomes playable. Memory stays flat: a rendition keeps its DVR window of index
//! entries, the parts of its last few segments and the open segment's bytes.

use std::collections::VecDeque;

use anyhow::Context;
use bytes::{Bytes, BytesMut};

use super::LiveHub;
use super::cutter::{Cutter, Place};
use super::fmp4::Fragment;
use super::plan::{LivePlan, LiveRung};
use super::playlist::{self, LivePart, LiveSegment, LowLatency, RenditionReport, Window};
use crate::events::VideoEvent;
use crate::ids::VideoId;
use crate::media::playlist::{
    AAC_LC, MULTIVARIANT_PLAYLIST, avc_codec_string, required_target_duration, write_multivariant,
};
use crate::media::transcode::MEDIA_PLAYLIST;
use crate::storage::keys;
use crate::video::Rendition;

/// The delta update of a low-latency media playlist (`_HLS_skip=YES`), stored beside it.
pub const DELTA_PLAYLIST: &str = "delta.m3u8";

/// Closed segments whose parts stay stored after the segment itself is: players holding a
/// playlist a few seconds old may still ask for them.
const PARTS_KEPT_SEGMENTS: u64 = 8;

/// The segment being filled.
struct Open {
    segment: LiveSegment,
    bytes: BytesMut,
    parts: u32,
}

/// Publishing state of one rendition.
struct RungState {
    rung: LiveRung,
    cutter: Cutter,
    /// The DVR window of the index, ascending.
    window: VecDeque<LiveSegment>,
    open: Option<Open>,
    /// Parts of the open segment and of the last closed ones, ascending.
    parts: VecDeque<LivePart>,
    init: Option<Bytes>,
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
    /// Media sequence number of the next segment.
    next_msn: u64,
    /// Number of the next part in this session.
    next_part: u64,
    /// Fragments without video, waiting to go out with the next part.
    held: BytesMut,
}

impl RungState {
    /// The newest part: (its segment's media sequence number, its index there).
    fn newest(&self) -> Option<(u64, u32)> {
        self.parts.back().map(|p| (p.msn, p.index))
    }
}

/// The packager of one publishing session.
pub struct Packager {
    video_id: VideoId,
    session: u64,
    has_audio: bool,
    frame_rate: Option<f64>,
    dvr_secs: f64,
    /// `PART-TARGET` ([`super::plan::PartTiming`]) when low-latency HLS is on.
    part_target: Option<f64>,
    rungs: Vec<RungState>,
    multivariant_published: bool,
}

impl Packager {
    /// Starts the packager of session `session` whose first frame is at `start_ms` (Unix ms),
    /// resuming each rendition's index where an earlier session left it: this session's
    /// first segment is one past the highest of any rendition so far, the same for every
    /// rendition, so the renditions stay aligned.
    ///
    /// Errors: the index cannot be read.
    pub async fn new(
        hub: &LiveHub,
        video_id: &VideoId,
        session: u64,
        plan: &LivePlan,
        start_ms: i64,
    ) -> anyhow::Result<Packager> {
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
        let mut rungs = Vec::new();
        for rung in &plan.rungs {
            let earlier = hub.db.live_segments(video_id, &rung.name).await?;
            let target = required_target_duration(earlier.iter().map(|s| s.duration).chain([plan.segment_secs]));
            let mut window: VecDeque<LiveSegment> = earlier.into();
            let trimmed_discontinuities = trim(&mut window, hub.config.live.dvr_secs);
            rungs.push(RungState {
                rung: rung.clone(),
                cutter: Cutter::new(plan.segment_secs),
                window,
                open: None,
                parts: VecDeque::new(),
                init: None,
                target,
                discontinuity: base > 0,
                next_pdt_ms: start_ms,
                peak: 0.0,
                trimmed_discontinuities,
                next_msn: base,
                next_part: 0,
                held: BytesMut::new(),
            });
        }
        let live = &hub.config.live;
        Ok(Packager {
            video_id: video_id.clone(),
            session,
            has_audio: plan.audio_copy.is_some(),
            frame_rate: plan.frame_rate,
            dvr_secs: live.dvr_secs,
            part_target: live
                .low_latency
                .then(|| super::plan::PartTiming::new(live.part_secs, plan.frame_rate).part_target),
            rungs,
            multivariant_published: false,
        })
    }

    /// Stores rendition `i`'s init segment (`init-SESSION.mp4`).
    ///
    /// Errors: the blob store refused it.
    pub async fn init(&mut self, hub: &LiveHub, i: usize, init: Bytes) -> anyhow::Result<()> {
        let r = &mut self.rungs[i];
        hub.store
            .put_bytes(
                &keys::hls(
                    &self.video_id,
                    &format!("{}/{}", r.rung.name, playlist::init_file(self.session)),
                ),
                init.clone(),
            )
            .await
            .context("cannot store a live init segment")?;
        r.init = Some(init);
        Ok(())
    }

    /// Takes rendition `i`'s next fragment: closes the open segment when this one starts a
    /// new one, stores it as a part (low-latency HLS), and republishes the playlists.
    ///
    /// Errors: the blob store or the database refused a write, or another session took the
    /// broadcast over.
    pub async fn fragment(&mut self, hub: &LiveHub, i: usize, mut f: Fragment) -> anyhow::Result<()> {
        if self.rungs[i].init.is_none() {
            anyhow::bail!("a fragment came before its init segment");
        }
        // A fragment without video (ffmpeg flushed audio during a gap in the picture) is no
        // part of its own: it goes out with the next one.
        let r = &mut self.rungs[i];
        if f.duration_secs <= 0.0 {
            r.held.extend_from_slice(&f.bytes);
            return Ok(());
        }
        if !r.held.is_empty() {
            r.held.extend_from_slice(&f.bytes);
            f.bytes = std::mem::take(&mut r.held).freeze();
        }
        let mut closed = false;
        match self.rungs[i].cutter.place(f.decode_secs, f.independent) {
            Place::Dropped => return Ok(()),
            Place::Continues => {}
            Place::Starts => {
                closed = self.close(hub, i).await?;
                let r = &mut self.rungs[i];
                r.open = Some(Open {
                    segment: LiveSegment {
                        seq: r.next_msn,
                        session: self.session,
                        duration: 0.0,
                        bytes: 0,
                        init: playlist::init_file(self.session),
                        discontinuity: r.discontinuity,
                        program_date_time_ms: r.next_pdt_ms,
                    },
                    bytes: BytesMut::new(),
                    parts: 0,
                });
                r.next_msn += 1;
                r.discontinuity = false;
            }
        }
        self.add_part(hub, i, f).await?;
        if closed && !self.multivariant_published && self.rungs.iter().all(|r| r.peak > 0.0) {
            self.publish_multivariant(hub).await?;
        }
        Ok(())
    }

    /// Appends `f` to rendition `i`'s open segment and, with low-latency HLS, stores it as a
    /// part and publishes the playlists that list it.
    async fn add_part(&mut self, hub: &LiveHub, i: usize, f: Fragment) -> anyhow::Result<()> {
        let r = &mut self.rungs[i];
        let open = r.open.as_mut().expect("a segment is open");
        open.bytes.extend_from_slice(&f.bytes);
        open.segment.duration += f.duration_secs;
        let Some(part_target) = self.part_target else {
            return Ok(());
        };
        let part = LivePart {
            msn: open.segment.seq,
            index: open.parts,
            number: r.next_part,
            session: self.session,
            duration: f.duration_secs,
            independent: f.independent,
        };
        open.parts += 1;
        r.next_part += 1;
        hub.store
            .put_bytes(
                &keys::hls(
                    &self.video_id,
                    &format!("{}/{}", r.rung.name, playlist::part_file(self.session, part.number)),
                ),
                f.bytes,
            )
            .await
            .context("cannot store a live part")?;
        r.parts.push_back(part.clone());
        self.publish_playlists(hub, i, part_target).await?;
        hub.events.publish(
            &self.video_id,
            VideoEvent::LivePart {
                rendition: self.rungs[i].rung.name.clone(),
                msn: part.msn,
                part: part.index,
                session: self.session,
                number: part.number,
            },
        );
        Ok(())
    }

    /// Ends the session's packaging: closes every open segment and publishes the last
    /// playlists (without parts to come).
    ///
    /// Errors: as [`Packager::fragment`].
    pub async fn finish(&mut self, hub: &LiveHub) -> anyhow::Result<()> {
        for i in 0..self.rungs.len() {
            let closed = self.close(hub, i).await?;
            self.rungs[i].cutter.close();
            // The last playlist lists no part: they are deleted now, and it stays up through
            // the reconnect grace.
            let gone: Vec<LivePart> = self.rungs[i].parts.drain(..).collect();
            if closed {
                match self.part_target {
                    Some(part_target) => self.publish_playlists(hub, i, part_target).await?,
                    None => self.publish_standard(hub, i).await?,
                }
            }
            self.remove_parts(hub, i, gone);
        }
        if !self.multivariant_published && self.rungs.iter().all(|r| r.peak > 0.0) {
            self.publish_multivariant(hub).await?;
        }
        Ok(())
    }

    /// Stores and indexes rendition `i`'s open segment, if any; true when there was one.
    async fn close(&mut self, hub: &LiveHub, i: usize) -> anyhow::Result<bool> {
        let r = &mut self.rungs[i];
        let Some(open) = r.open.take() else {
            return Ok(false);
        };
        let mut segment = open.segment;
        segment.bytes = open.bytes.len() as u64;
        let duration = segment.duration;
        if duration > 0.0 {
            r.peak = r.peak.max(segment.bytes as f64 * 8.0 / duration);
        }
        let name = r.rung.name.clone();
        hub.store
            .put_bytes(
                &keys::hls(
                    &self.video_id,
                    &format!("{name}/{}", playlist::segment_file(segment.session, segment.seq)),
                ),
                open.bytes.freeze(),
            )
            .await
            .context("cannot store a live segment")?;
        if !hub.db.insert_live_segment(&self.video_id, &name, &segment).await? {
            anyhow::bail!("another session took this broadcast over");
        }
        r.target = r.target.max(required_target_duration(std::iter::once(duration)));
        r.next_pdt_ms = segment.program_date_time_ms + (duration * 1000.0).round() as i64;
        let closed_seq = segment.seq;
        r.window.push_back(segment);
        r.trimmed_discontinuities += trim(&mut r.window, self.dvr_secs);
        // Parts of segments long closed leave the store.
        let mut gone = Vec::new();
        while r
            .parts
            .front()
            .is_some_and(|p| p.msn + PARTS_KEPT_SEGMENTS <= closed_seq)
        {
            gone.extend(r.parts.pop_front());
        }
        self.remove_parts(hub, i, gone);
        if self.part_target.is_none() {
            self.publish_standard(hub, i).await?;
        }
        Ok(true)
    }

    /// Deletes stored parts in the background (a part left behind costs only space).
    fn remove_parts(&self, hub: &LiveHub, i: usize, parts: Vec<LivePart>) {
        if parts.is_empty() {
            return;
        }
        let store = hub.store.clone();
        let keys: Vec<_> = parts
            .iter()
            .map(|p| {
                keys::hls(
                    &self.video_id,
                    &format!(
                        "{}/{}",
                        self.rungs[i].rung.name,
                        playlist::part_file(p.session, p.number)
                    ),
                )
            })
            .collect();
        tokio::spawn(async move {
            for key in keys {
                let _ = store.delete(&key).await;
            }
        });
    }

    /// Stores rendition `i`'s standard media playlist (low-latency HLS off).
    async fn publish_standard(&mut self, hub: &LiveHub, i: usize) -> anyhow::Result<()> {
        let dvr_secs = self.dvr_secs;
        let r = &mut self.rungs[i];
        let text = playlist::media_playlist(
            r.window.make_contiguous(),
            r.target,
            Window::Live { dvr_secs },
            r.trimmed_discontinuities,
        );
        self.put_playlist(hub, i, MEDIA_PLAYLIST, text).await
    }

    /// Stores rendition `i`'s low-latency media playlist and its delta update.
    async fn publish_playlists(&mut self, hub: &LiveHub, i: usize, part_target: f64) -> anyhow::Result<()> {
        let reports: Vec<RenditionReport> = self
            .rungs
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .filter_map(|(_, other)| {
                let (last_msn, last_part) = other.newest()?;
                Some(RenditionReport {
                    uri: format!("../{}/{MEDIA_PLAYLIST}", other.rung.name),
                    last_msn,
                    last_part,
                })
            })
            .collect();
        let (session, dvr_secs) = (self.session, self.dvr_secs);
        let r = &mut self.rungs[i];
        let open = r.open.as_ref().map(|o| &o.segment);
        let mut ll = LowLatency {
            part_target,
            parts: r.parts.make_contiguous(),
            open,
            preload_hint: open.map(|_| playlist::part_file(session, r.next_part)),
            reports: &reports,
            skip: false,
        };
        let segments = r.window.make_contiguous();
        let full = playlist::low_latency_playlist(segments, r.target, dvr_secs, r.trimmed_discontinuities, &ll);
        ll.skip = true;
        let delta = playlist::low_latency_playlist(segments, r.target, dvr_secs, r.trimmed_discontinuities, &ll);
        // Both before the part's event; at once, so a slow store (S3) costs one round trip.
        tokio::try_join!(
            self.put_playlist(hub, i, DELTA_PLAYLIST, delta),
            self.put_playlist(hub, i, MEDIA_PLAYLIST, full)
        )
        .map(|_| ())
    }

    async fn put_playlist(&self, hub: &LiveHub, i: usize, file: &str, text: String) -> anyhow::Result<()> {
        hub.store
            .put_bytes(
                &keys::hls(&self.video_id, &format!("{}/{file}", self.rungs[i].rung.name)),
                text,
            )
            .await
            .context("cannot store a live media playlist")
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
        // Every rendition has parts now: the first players find each playlist reporting all
        // the others, even one whose last part came before the others' first.
        if let Some(part_target) = self.part_target {
            for i in 0..self.rungs.len() {
                if self.rungs[i].open.is_some() {
                    self.publish_playlists(hub, i, part_target).await?;
                }
            }
        }
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
