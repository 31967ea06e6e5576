//! One transcode job: fetch the source into a scratch directory, probe and validate it, plan
//! the ladder, then publish in two phases ("playable first", `ladder.playable_first`):
//!
//! 1. **First rendition**, published segment by segment while ffmpeg writes it
//!    ([`super::progressive`]): a remux of an eligible H.264 source, else the lowest rung
//!    ([`crate::media::passthrough`]). As soon as its first segment is stored, a multivariant
//!    playlist listing it is published, the video's `renditions` say it is there, and
//!    `video.playable` goes out: the video plays while it is still `processing`. The poster
//!    follows.
//! 2. **The rest of the ladder** in one ffmpeg run; its files are published, then the
//!    multivariant playlist is rewritten from measured segments (BANDWIDTH, CODECS) and the
//!    job completes (`ready`). The passthrough rendition is then dropped unless
//!    `ladder.keep_source_rendition` says to keep it.
//!
//! Every attempt starts from nothing published, and a failure removes whatever was published,
//! so a failed or retried video never shows a broken ladder. Media playlists are only ever
//! replaced by longer ones, and the multivariant playlist is written after the files it lists.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use super::WorkerContext;
use super::progressive::ProgressiveRendition;
use crate::events::VideoEvent;
use crate::ids::VideoId;
use crate::media::captions;
use crate::media::ladder::{self, Ladder, VideoRendition};
use crate::media::passthrough::{self, FirstRendition, SOURCE_RENDITION};
use crate::media::playlist::{self, MULTIVARIANT_PLAYLIST, Picture};
use crate::media::poster::{self, POSTER};
use crate::media::probe::{self, MediaInfo, ProbeError};
use crate::media::process::ProcessError;
use crate::media::storyboard::{self, StoryboardPlan};
use crate::media::transcode;
use crate::storage::keys;
use crate::video::{AudioTrack, Rendition};

/// Share of the progress bar given to the ffmpeg runs; the rest covers poster and publishing.
const TRANSCODE_SHARE: f64 = 95.0;

/// How often a growing rendition's directory is checked for new segments.
const PUBLISH_EVERY: Duration = Duration::from_millis(200);

/// How a job attempt ended badly.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The source's fault: retrying cannot help. The message is for the uploader.
    #[error("{0}")]
    Rejected(String),
    /// Something around the source failed (storage, database, a missing tool): worth a retry.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
    /// The cancellation token fired.
    #[error("cancelled")]
    Cancelled,
}

/// The published result of a job.
#[derive(Debug, Clone)]
pub struct Published {
    /// Seconds, as probed.
    pub duration: f64,
    pub renditions: Vec<Rendition>,
    pub has_poster: bool,
    /// Seek-bar previews were published ([`crate::media::storyboard`]).
    pub has_storyboard: bool,
    /// Renditions published during processing and left out of the final ladder: their files
    /// are deleted once the video is `ready`.
    pub dropped: Vec<String>,
}

/// Progress of a job in percent, shared between the ffmpeg reader and the progress writer.
#[derive(Debug, Default, Clone)]
pub struct Progress(Arc<AtomicU64>);

impl Progress {
    pub fn set(&self, percent: f64) {
        self.0.store(percent.clamp(0.0, 100.0).to_bits(), Ordering::Relaxed);
    }
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// Runs the whole job for `video_id`. On an error, what this attempt published is removed —
/// unless `lease_lost()` says another worker owns the job now (its attempt may already have
/// published under the same keys).
pub async fn run(
    ctx: &WorkerContext,
    id: &VideoId,
    cancel: &CancellationToken,
    progress: &Progress,
    lease_lost: &(dyn Fn() -> bool + Send + Sync),
) -> Result<Published, JobError> {
    let video_id = id.as_str();
    let scratch_root = ctx.config.scratch_dir();
    tokio::fs::create_dir_all(&scratch_root)
        .await
        .with_context(|| format!("cannot create scratch dir {}", scratch_root.display()))?;
    let scratch = tempfile::Builder::new()
        .prefix(&format!("job-{video_id}-"))
        .tempdir_in(&scratch_root)
        .context("cannot create a scratch directory")?;
    // A previous attempt's leftovers go first: the video lists nothing, the store holds nothing.
    unpublish(ctx, video_id).await.map_err(JobError::Failed)?;
    let result = run_in(ctx, id, scratch.path(), cancel, progress).await;
    if result.is_err()
        && !lease_lost()
        && let Err(e) = unpublish(ctx, video_id).await
    {
        tracing::warn!(video_id, error = %e, "could not remove a partly published ladder");
    }
    result
}

/// Lists no rendition for `video_id` (while it is processing) and removes its derived blobs.
async fn unpublish(ctx: &WorkerContext, video_id: &str) -> anyhow::Result<()> {
    ctx.db
        .clear_published(video_id)
        .await
        .context("cannot reset the video's renditions")?;
    ctx.db
        .delete_embedded_captions(video_id)
        .await
        .context("cannot remove the caption tracks of an earlier attempt")?;
    ctx.store
        .delete_prefix(&keys::derived_prefix(video_id))
        .await
        .context("cannot clear old renditions")
}

async fn run_in(
    ctx: &WorkerContext,
    id: &VideoId,
    scratch: &Path,
    cancel: &CancellationToken,
    progress: &Progress,
) -> Result<Published, JobError> {
    let cfg = &ctx.config;
    let video_id = id.as_str();
    let source = scratch.join("source");
    ctx.store
        .download(&keys::source(video_id), &source)
        .await
        .context("cannot read the uploaded source from storage")?;

    let info = match probe::probe_file(&cfg.ffprobe, &source, &cfg.limits, cancel).await {
        Ok(info) => info,
        Err(ProbeError::Rejected(r)) => return Err(JobError::Rejected(r.to_string())),
        Err(ProbeError::Process(e)) => return Err(process_error(e, "probing")),
    };
    let ladder = ladder::plan(&info, &cfg.ladder);
    let out = scratch.join("hls");
    tokio::fs::create_dir_all(&out)
        .await
        .context("cannot create the output directory")?;
    let job = Job {
        ctx,
        id,
        video_id,
        source: &source,
        out: &out,
        info: &info,
        ladder: &ladder,
        cancel,
        progress,
    };

    // Phase 1: the first rendition, published while it is written.
    let first = if cfg.ladder.playable_first {
        job.first_rendition().await?
    } else {
        None
    };
    let (first, mut rest) = match first {
        None => (None, ladder.clone()),
        Some(plan) => match job.publish_first(plan).await? {
            Some((done, rest)) => (Some(done), rest),
            None => {
                unpublish(ctx, video_id).await?;
                (None, ladder.clone())
            }
        },
    };
    let has_poster = job.poster().await?;
    if let Some(first) = &first {
        job.announce(first, has_poster).await?;
    }

    // Phase 2: the rest of the ladder, published when whole, with the storyboard from the
    // same decode (or by itself when the first rendition was the whole ladder).
    let storyboard = StoryboardPlan::for_source(&info, cfg.ladder.storyboard_secs);
    let mut renditions = Vec::new();
    if !rest.renditions.is_empty() || first.is_none() {
        let base = progress.get();
        match job
            .transcode(&rest, storyboard.as_ref(), base, TRANSCODE_SHARE - base)
            .await
        {
            // With every audio stream decoded (`-xerror`), one broken secondary track would
            // reject the whole video: try once more with the main audio alone, muxed.
            Err(JobError::Rejected(why)) if !rest.audio_tracks.is_empty() => {
                tracing::warn!(
                    video_id,
                    why,
                    "the ladder with every audio stream failed; encoding the main audio only"
                );
                for dir in rest
                    .renditions
                    .iter()
                    .map(|r| &r.name)
                    .chain(rest.audio_tracks.iter().map(|t| &t.name))
                {
                    let _ = std::fs::remove_dir_all(out.join(dir));
                }
                rest.audio_tracks.clear();
                job.transcode(&rest, storyboard.as_ref(), base, TRANSCODE_SHARE - base)
                    .await?;
            }
            other => other?,
        }
        renditions = measure_all(&out, &info, &rest)?;
        for r in &renditions {
            job.publish_dir(&r.name).await?;
        }
    } else if let Some(plan) = &storyboard {
        job.storyboard_alone(plan).await?;
    }
    let has_storyboard = match &storyboard {
        Some(plan) => job.publish_storyboard(plan).await?,
        None => false,
    };
    job.embedded_captions().await?;
    let mut dropped = Vec::new();
    if let Some(first) = first {
        // With audio renditions of their own, the remux (its audio muxed) is no variant of the
        // final ladder.
        let keep = cfg.ladder.keep_source_rendition && rest.audio_tracks.is_empty();
        if first.name == SOURCE_RENDITION && !renditions.is_empty() && !keep {
            dropped.push(first.name);
        } else {
            renditions.push(first);
        }
    }
    check_complete(&info, &renditions)?;
    progress.set(TRANSCODE_SHARE + 1.0);
    crate::captions::publish_multivariant(&ctx.db, &ctx.store, video_id, &renditions).await?;
    Ok(Published {
        duration: info.duration,
        renditions,
        has_poster,
        has_storyboard,
        dropped,
    })
}

/// One job's inputs, shared by its steps.
struct Job<'a> {
    ctx: &'a WorkerContext,
    id: &'a VideoId,
    video_id: &'a str,
    source: &'a Path,
    out: &'a Path,
    info: &'a MediaInfo,
    ladder: &'a Ladder,
    cancel: &'a CancellationToken,
    progress: &'a Progress,
}

/// The first rendition to make, and how long its segments may be (seconds).
struct FirstPlan {
    kind: FirstRendition,
    segment_secs: f64,
}

impl Job<'_> {
    /// Chooses the first rendition: a remux when the source allows it, else the lowest rung
    /// (none for a source with several audio streams that cannot be remuxed).
    async fn first_rendition(&self) -> Result<Option<FirstPlan>, JobError> {
        let cfg = &self.ctx.config;
        let keyframe_secs = match &self.info.video {
            Some(v) if v.codec == "h264" => {
                let timeout = Duration::from_secs(cfg.limits.probe_timeout_secs);
                // Only decides what goes first: a failure means "encode the lowest rung first".
                match passthrough::keyframe_interval(&cfg.ffprobe, self.source, v.index, timeout, self.cancel).await {
                    Ok(k) => k,
                    Err(ProcessError::Cancelled { .. }) => return Err(JobError::Cancelled),
                    Err(e) => {
                        tracing::warn!(video_id = self.video_id, error = %e, "keyframe probe failed");
                        None
                    }
                }
            }
            _ => None,
        };
        let kind = passthrough::choose(self.info, keyframe_secs, &cfg.ladder);
        // A lowest rung published first would carry one language muxed, and then be replaced
        // under the same name by a rung without audio: with several audio streams, only a
        // remux (its own `source` name) goes first.
        if !self.ladder.audio_tracks.is_empty() && matches!(kind, FirstRendition::LowestRung { .. }) {
            return Ok(None);
        }
        let segment_secs = match &kind {
            // ffmpeg cuts at the first keyframe after `segment_secs`.
            FirstRendition::Passthrough { .. } => self.ladder.segment_secs + keyframe_secs.unwrap_or(0.0),
            FirstRendition::LowestRung { why } => {
                tracing::info!(video_id = self.video_id, why, "lowest rung first");
                self.ladder.segment_secs
            }
        };
        Ok(Some(FirstPlan { kind, segment_secs }))
    }

    /// Makes and progressively publishes the first rendition; returns it measured, and the
    /// ladder still to encode. `None` when a remux failed: the whole ladder is encoded instead
    /// (which says what is wrong with the source, if anything is).
    async fn publish_first(&self, plan: FirstPlan) -> Result<Option<(Rendition, Ladder)>, JobError> {
        let info = self.info;
        let has_audio = info.audio.is_some();
        let (args, name, picture, estimate, rest) = match plan.kind {
            FirstRendition::Passthrough { copy_audio } => {
                let v = info.video.as_ref().expect("a passthrough has video");
                let picture = Picture {
                    width: v.display_width,
                    height: v.display_height,
                    frame_rate: Some(v.frame_rate),
                };
                (
                    passthrough::passthrough_args(self.source, self.out, info, self.ladder, copy_audio),
                    SOURCE_RENDITION.to_string(),
                    Some(picture),
                    info.bit_rate.unwrap_or(0),
                    self.ladder.clone(),
                )
            }
            FirstRendition::LowestRung { .. } => {
                let mut first = self.ladder.clone();
                let mut rest = self.ladder.clone();
                let lowest = rest.renditions.pop();
                first.renditions = lowest.iter().cloned().collect();
                let audio = u64::from(self.ladder.audio_bitrate.unwrap_or(0));
                let (name, picture, cap) = match &lowest {
                    Some(r) => (r.name.clone(), Some(self.picture(r)), u64::from(r.max_bitrate) + audio),
                    None => (Ladder::AUDIO_ONLY_NAME.to_string(), None, audio),
                };
                (
                    transcode::transcode_args(self.source, self.out, info, &first),
                    name,
                    picture,
                    cap,
                    rest,
                )
            }
        };
        let share = if rest.renditions.is_empty() {
            TRANSCODE_SHARE
        } else if name == SOURCE_RENDITION {
            1.0 // a remux: the progress bar is the ladder's
        } else {
            TRANSCODE_SHARE / (rest.renditions.len() + 1) as f64
        };
        let dir = self.out.join(&name);
        // ffmpeg's HLS muxer makes the `%v` directories of a variant map, not a plain one.
        tokio::fs::create_dir_all(&dir)
            .await
            .context("cannot create a rendition directory")?;
        let mut growing =
            ProgressiveRendition::new(self.video_id, &name, dir.clone(), picture, has_audio, plan.segment_secs);
        let mut on_progress = self.on_progress(0.0, share);
        let timeout = Duration::from_secs(self.ctx.config.limits.transcode_timeout_secs);
        let ffmpeg = transcode::run_transcode(&self.ctx.config.ffmpeg, &args, timeout, self.cancel, &mut on_progress);
        tokio::pin!(ffmpeg);
        let mut tick = tokio::time::interval(PUBLISH_EVERY);
        let finished = loop {
            tokio::select! {
                r = &mut ffmpeg => break r,
                _ = tick.tick() => {
                    if let Some(mut so_far) = growing.sync(self.ctx).await? {
                        so_far.bandwidth = so_far.bandwidth.max(estimate);
                        so_far.duration = info.duration;
                        self.announce(&so_far, false).await?;
                    }
                }
            }
        };
        match finished {
            Ok(()) => {}
            Err(ProcessError::Failed { stderr, .. }) if name == SOURCE_RENDITION => {
                tracing::warn!(
                    video_id = self.video_id,
                    error = last_line(&stderr),
                    "remux failed; encoding the ladder instead"
                );
                return Ok(None);
            }
            Err(e) => return Err(transcode_error(e)),
        }
        let measured = playlist::measure(&dir, &name, picture, has_audio, playlist::Finish::KeepEvent)?;
        growing.finish(self.ctx).await?;
        // Measured figures in the multivariant playlist (and a short source, remuxed before
        // the first check, becomes playable here).
        self.announce(&measured, false).await?;
        tracing::info!(
            video_id = self.video_id,
            rendition = name,
            segments = growing.published(),
            "first rendition published"
        );
        Ok(Some((measured, rest)))
    }

    /// Publishes a multivariant playlist listing only `first`, records it on the video and
    /// tells open pages (`video.playable`).
    async fn announce(&self, first: &Rendition, has_poster: bool) -> Result<(), JobError> {
        let ctx = self.ctx;
        ctx.store
            .put_bytes(
                &keys::hls(self.video_id, MULTIVARIANT_PLAYLIST),
                playlist::write_multivariant(std::slice::from_ref(first)),
            )
            .await
            .context("cannot store the multivariant playlist")?;
        let json = serde_json::to_string(std::slice::from_ref(first)).context("renditions to JSON")?;
        ctx.db
            .set_published(self.video_id, &json, self.info.duration, has_poster)
            .await
            .context("cannot record the first rendition")?;
        ctx.events.publish(
            self.id,
            VideoEvent::VideoPlayable {
                renditions: vec![first.name.clone()],
            },
        );
        Ok(())
    }

    /// Runs one ffmpeg transcode of `ladder` (no progressive publishing), reporting progress
    /// from `base` percent over `share` percent.
    async fn transcode(
        &self,
        ladder: &Ladder,
        storyboard: Option<&StoryboardPlan>,
        base: f64,
        share: f64,
    ) -> Result<(), JobError> {
        tracing::info!(video_id = self.video_id, renditions = ?ladder.renditions.iter().map(|r| &r.name).collect::<Vec<_>>(), "transcoding");
        if storyboard.is_some() {
            std::fs::create_dir_all(self.out.join(storyboard::DIR)).context("cannot make the storyboard directory")?;
        }
        let args = transcode::transcode_args_with(self.source, self.out, self.info, ladder, storyboard);
        let mut on_progress = self.on_progress(base, share);
        let timeout = Duration::from_secs(self.ctx.config.limits.transcode_timeout_secs);
        transcode::run_transcode(&self.ctx.config.ffmpeg, &args, timeout, self.cancel, &mut on_progress)
            .await
            .map_err(transcode_error)
    }

    fn on_progress(&self, base: f64, share: f64) -> impl FnMut(f64) + Send + use<> {
        let (progress, duration) = (self.progress.clone(), self.info.duration);
        move |secs: f64| progress.set(base + (secs / duration).min(1.0) * share)
    }

    fn picture(&self, r: &VideoRendition) -> Picture {
        Picture {
            width: r.width,
            height: r.height,
            frame_rate: self.ladder.frame_rate.map(|f| f.fps()),
        }
    }

    /// Makes and stores the poster; false when the source has no picture or ffmpeg could not
    /// make one (logged).
    async fn poster(&self) -> Result<bool, JobError> {
        if self.info.video.is_none() {
            return Ok(false);
        }
        let file = self.out.join(POSTER);
        let cfg = &self.ctx.config;
        match poster::make_poster(&cfg.ffmpeg, self.source, &file, self.info, self.ladder, self.cancel).await {
            Ok(()) => {}
            Err(ProcessError::Cancelled { .. }) => return Err(JobError::Cancelled),
            Err(e) => {
                tracing::warn!(video_id = self.video_id, error = %e, "no poster");
                return Ok(false);
            }
        }
        self.ctx
            .store
            .put_file(&keys::poster(self.video_id), &file)
            .await
            .context("cannot store the poster")?;
        Ok(true)
    }

    /// Makes the storyboard in a pass of its own (the ladder needed no transcode of its own).
    /// A failure is logged, not fatal: the video plays without previews.
    async fn storyboard_alone(&self, plan: &StoryboardPlan) -> Result<(), JobError> {
        std::fs::create_dir_all(self.out.join(storyboard::DIR)).context("cannot make the storyboard directory")?;
        let args = transcode::storyboard_args(self.source, self.out, self.info, self.ladder, plan);
        let timeout = Duration::from_secs(self.ctx.config.limits.transcode_timeout_secs);
        match transcode::run_transcode(&self.ctx.config.ffmpeg, &args, timeout, self.cancel, &mut |_| {}).await {
            Ok(()) => Ok(()),
            Err(ProcessError::Cancelled { .. }) => Err(JobError::Cancelled),
            Err(e) => {
                tracing::warn!(video_id = self.video_id, error = %e, "no storyboard");
                Ok(())
            }
        }
    }

    /// Stores the sprite sheets ffmpeg wrote and the WebVTT track pointing into them; false
    /// when there are none (the track is written for the sheets that exist).
    async fn publish_storyboard(&self, plan: &StoryboardPlan) -> Result<bool, JobError> {
        let dir = self.out.join(storyboard::DIR);
        let thumbs = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().starts_with("thumb_"))
                    .count()
            })
            .unwrap_or(0);
        if thumbs == 0 {
            return Ok(false);
        }
        let timeout = Duration::from_secs(self.ctx.config.limits.transcode_timeout_secs);
        let args = StoryboardPlan::sheet_args(&dir);
        match transcode::run_transcode(&self.ctx.config.ffmpeg, &args, timeout, self.cancel, &mut |_| {}).await {
            Ok(()) => {}
            Err(ProcessError::Cancelled { .. }) => return Err(JobError::Cancelled),
            Err(e) => {
                tracing::warn!(video_id = self.video_id, error = %e, "no storyboard sheets");
                return Ok(false);
            }
        }
        let mut sheets: Vec<String> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|f| f.starts_with("sprite_") && f.ends_with(".jpg"))
                    .collect()
            })
            .unwrap_or_default();
        if sheets.is_empty() {
            return Ok(false);
        }
        sheets.sort();
        for f in &sheets {
            self.ctx
                .store
                .put_file(
                    &keys::hls(self.video_id, &format!("{}/{f}", storyboard::DIR)),
                    &dir.join(f),
                )
                .await
                .context("cannot store a storyboard sheet")?;
        }
        let made = StoryboardPlan {
            count: plan
                .count
                .min(sheets.len() as u32 * storyboard::COLUMNS * storyboard::ROWS),
            ..*plan
        };
        self.ctx
            .store
            .put_bytes(
                &keys::hls(self.video_id, &format!("{}/{}", storyboard::DIR, storyboard::TRACK)),
                made.vtt(self.info.duration),
            )
            .await
            .context("cannot store the storyboard track")?;
        Ok(true)
    }

    /// Extracts the source's text subtitle streams and publishes each as a caption track
    /// (`source_stream` set, so a retry replaces them). A stream ffmpeg cannot convert, or one
    /// without cues, is skipped with a warning: the video plays without it.
    async fn embedded_captions(&self) -> Result<(), JobError> {
        let streams = &self.info.subtitles[..self.info.subtitles.len().min(crate::captions::MAX_TRACKS)];
        if streams.is_empty() {
            return Ok(());
        }
        let dir = self.out.join("embedded-captions");
        std::fs::create_dir_all(&dir).context("cannot make the captions directory")?;
        let timeout = Duration::from_secs(self.ctx.config.limits.transcode_timeout_secs);
        let ffmpeg = &self.ctx.config.ffmpeg;
        // All in one run; if ffmpeg fails on one of them, each alone, so the others still come.
        let args = captions::extract_args(self.source, &dir, streams);
        match transcode::run_transcode(ffmpeg, &args, timeout, self.cancel, &mut |_| {}).await {
            Ok(()) => {}
            Err(ProcessError::Cancelled { .. }) => return Err(JobError::Cancelled),
            Err(_) if streams.len() > 1 => {
                for stream in streams {
                    let args = captions::extract_args(self.source, &dir, std::slice::from_ref(stream));
                    match transcode::run_transcode(ffmpeg, &args, timeout, self.cancel, &mut |_| {}).await {
                        Ok(()) => {}
                        Err(ProcessError::Cancelled { .. }) => return Err(JobError::Cancelled),
                        Err(e) => {
                            tracing::warn!(video_id = self.video_id, stream = stream.index, error = %e, "subtitle stream could not be extracted");
                            let _ = std::fs::remove_file(dir.join(format!("{}.vtt", stream.index)));
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(video_id = self.video_id, error = %e, "subtitle stream could not be extracted");
                return Ok(());
            }
        }
        for (n, stream) in streams.iter().enumerate() {
            let file = dir.join(format!("{}.vtt", stream.index));
            let cues = match std::fs::read(&file).map(|b| captions::parse(&b)) {
                Ok(Ok(cues)) => cues,
                Ok(Err(e)) => {
                    tracing::warn!(video_id = self.video_id, stream = stream.index, error = %e, "subtitle stream skipped");
                    continue;
                }
                Err(e) => {
                    tracing::warn!(video_id = self.video_id, stream = stream.index, error = %e, "subtitle stream not written");
                    continue;
                }
            };
            let lang = stream.language.as_deref().unwrap_or("und");
            let label = captions::embedded_label(stream, n + 1);
            let cid = self
                .ctx
                .db
                .insert_caption(
                    self.video_id,
                    lang,
                    &label,
                    cues.len() as i64,
                    Some(i64::from(stream.index)),
                    stream.forced,
                )
                .await
                .context("cannot record a caption track")?;
            crate::captions::publish_track(&self.ctx.store, self.video_id, cid, &cues, self.info.duration).await?;
            tracing::info!(
                video_id = self.video_id,
                stream = stream.index,
                lang,
                cues = cues.len(),
                "subtitle stream published as captions"
            );
        }
        Ok(())
    }

    /// Stores every file of rendition directory `name`, its media playlist last.
    async fn publish_dir(&self, name: &str) -> Result<(), JobError> {
        let dir = self.out.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .context("cannot list rendition files")?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|f| !f.ends_with(".tmp"))
            .collect();
        files.sort_by_key(|f| f == transcode::MEDIA_PLAYLIST); // media playlist after its segments
        for f in files {
            if self.cancel.is_cancelled() {
                return Err(JobError::Cancelled);
            }
            self.ctx
                .store
                .put_file(&keys::hls(self.video_id, &format!("{name}/{f}")), &dir.join(&f))
                .await
                .context("cannot store a segment")?;
        }
        Ok(())
    }
}

fn transcode_error(e: ProcessError) -> JobError {
    match e {
        ProcessError::Failed { stderr, .. } => JobError::Rejected(format!(
            "the source could not be decoded to the end ({}); the file is probably truncated or corrupt",
            last_line(&stderr)
        )),
        e => process_error(e, "transcoding"),
    }
}

fn measure_all(out: &Path, info: &MediaInfo, ladder: &Ladder) -> Result<Vec<Rendition>, JobError> {
    let has_audio = info.audio.is_some();
    if ladder.renditions.is_empty() {
        return Ok(vec![playlist::measure(
            &out.join(Ladder::AUDIO_ONLY_NAME),
            Ladder::AUDIO_ONLY_NAME,
            None,
            has_audio,
            playlist::Finish::Vod,
        )?]);
    }
    let fps = ladder.frame_rate.map(|f| f.fps());
    let muxed_audio = has_audio && ladder.audio_tracks.is_empty();
    let mut measured = ladder
        .renditions
        .iter()
        .map(|r| {
            let picture = Picture {
                width: r.width,
                height: r.height,
                frame_rate: fps,
            };
            playlist::measure(
                &out.join(&r.name),
                &r.name,
                Some(picture),
                muxed_audio,
                playlist::Finish::Vod,
            )
            .map_err(JobError::from)
        })
        .collect::<Result<Vec<_>, _>>()?;
    for t in &ladder.audio_tracks {
        let mut r = playlist::measure(&out.join(&t.name), &t.name, None, true, playlist::Finish::Vod)?;
        r.audio_track = Some(AudioTrack {
            language: t.language.clone(),
            label: t.label.clone(),
            default: t.default,
        });
        measured.push(r);
    }
    Ok(measured)
}

/// A transcode that ends early without an error (a source whose data stops before its
/// declared duration) must not be published as if it were whole. A secondary audio rendition
/// (a commentary track) may be shorter than the picture.
fn check_complete(info: &MediaInfo, renditions: &[Rendition]) -> Result<(), JobError> {
    let shortest = renditions
        .iter()
        .filter(|r| r.audio_track.as_ref().is_none_or(|t| t.default))
        .map(|r| r.duration)
        .fold(f64::INFINITY, f64::min);
    let expected = info.duration * 0.9 - 0.5;
    if shortest < expected {
        return Err(JobError::Rejected(format!(
            "the source ends early: only {shortest:.1} s of its declared {:.1} s could be decoded; the file is probably truncated",
            info.duration
        )));
    }
    Ok(())
}

fn process_error(e: ProcessError, step: &str) -> JobError {
    match e {
        ProcessError::Cancelled { .. } => JobError::Cancelled,
        ProcessError::Timeout { secs, .. } => JobError::Rejected(format!("{step} took longer than the {secs} s limit")),
        e => JobError::Failed(anyhow::anyhow!("{step}: {e}")),
    }
}

fn last_line(stderr: &str) -> &str {
    let line = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no error output");
    // ffmpeg prefixes input errors with the scratch path of the source; drop it.
    match line.split_once(": ") {
        Some((prefix, rest)) if prefix.contains('/') => rest,
        _ => line,
    }
}
