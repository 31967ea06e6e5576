//! One transcode job: fetch the source into a scratch directory, probe and validate it, plan
//! the ladder, run the single ffmpeg transcode, check the output, measure it and write the
//! multivariant playlist, make the poster, then publish every file to the blob store — the
//! multivariant playlist last. Nothing is published until the whole ladder exists, and a
//! failure removes whatever was published, so a half ladder is never visible.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use super::WorkerContext;
use crate::media::ladder::{self, Ladder};
use crate::media::playlist::{self, MULTIVARIANT_PLAYLIST};
use crate::media::poster::{self, POSTER};
use crate::media::probe::{self, MediaInfo, ProbeError};
use crate::media::process::ProcessError;
use crate::media::transcode::{self, MEDIA_PLAYLIST};
use crate::storage::keys;
use crate::video::Rendition;

/// Share of the progress bar given to the ffmpeg run; the rest covers poster and publishing.
const TRANSCODE_SHARE: f64 = 95.0;

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

/// Runs the whole job for `video_id`. On any error, blobs this attempt published are removed.
pub async fn run(
    ctx: &WorkerContext,
    video_id: &str,
    cancel: &CancellationToken,
    progress: &Progress,
) -> Result<Published, JobError> {
    let scratch_root = ctx.config.scratch_dir();
    tokio::fs::create_dir_all(&scratch_root)
        .await
        .with_context(|| format!("cannot create scratch dir {}", scratch_root.display()))?;
    let scratch = tempfile::Builder::new()
        .prefix(&format!("job-{video_id}-"))
        .tempdir_in(&scratch_root)
        .context("cannot create a scratch directory")?;
    let result = run_in(ctx, video_id, scratch.path(), cancel, progress).await;
    if result.is_err()
        && let Err(e) = ctx.store.delete_prefix(&keys::derived_prefix(video_id)).await
    {
        tracing::warn!(video_id, error = %e, "could not remove a partly published ladder");
    }
    result
}

async fn run_in(
    ctx: &WorkerContext,
    video_id: &str,
    scratch: &Path,
    cancel: &CancellationToken,
    progress: &Progress,
) -> Result<Published, JobError> {
    let cfg = &ctx.config;
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
    tracing::info!(video_id, duration = info.duration, renditions = ?ladder.renditions.iter().map(|r| &r.name).collect::<Vec<_>>(), "transcoding");

    let out = scratch.join("hls");
    tokio::fs::create_dir_all(&out)
        .await
        .context("cannot create the output directory")?;
    let args = transcode::transcode_args(&source, &out, &info, &ladder);
    let mut on_progress = {
        let (progress, duration) = (progress.clone(), info.duration);
        move |secs: f64| progress.set(secs / duration * TRANSCODE_SHARE)
    };
    let timeout = Duration::from_secs(cfg.limits.transcode_timeout_secs);
    if let Err(e) = transcode::run_transcode(&cfg.ffmpeg, &args, timeout, cancel, &mut on_progress).await {
        return Err(match e {
            ProcessError::Failed { stderr, .. } => JobError::Rejected(format!(
                "the source could not be decoded to the end ({}); the file is probably truncated or corrupt",
                last_line(&stderr)
            )),
            e => process_error(e, "transcoding"),
        });
    }

    let renditions = measure_all(&out, &info, &ladder)?;
    check_complete(&info, &renditions)?;
    tokio::fs::write(
        out.join(MULTIVARIANT_PLAYLIST),
        playlist::write_multivariant(&renditions),
    )
    .await
    .context("cannot write the multivariant playlist")?;

    let poster_file = scratch.join(POSTER);
    let has_poster = info.video.is_some()
        && match poster::make_poster(&cfg.ffmpeg, &source, &poster_file, &info, &ladder, cancel).await {
            Ok(()) => true,
            Err(ProcessError::Cancelled { .. }) => return Err(JobError::Cancelled),
            Err(e) => {
                tracing::warn!(video_id, error = %e, "no poster");
                false
            }
        };
    progress.set(TRANSCODE_SHARE + 1.0);

    // Publish: a previous attempt's leftovers go first, the multivariant playlist last.
    ctx.store
        .delete_prefix(&keys::derived_prefix(video_id))
        .await
        .context("cannot clear old renditions")?;
    for r in &renditions {
        let dir = out.join(&r.name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .context("cannot list rendition files")?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        files.sort_by_key(|f| f == MEDIA_PLAYLIST); // media playlist after its segments
        for f in files {
            if cancel.is_cancelled() {
                return Err(JobError::Cancelled);
            }
            ctx.store
                .put_file(&keys::hls(video_id, &format!("{}/{f}", r.name)), &dir.join(&f))
                .await
                .context("cannot store a segment")?;
        }
    }
    if has_poster {
        ctx.store
            .put_file(&keys::poster(video_id), &poster_file)
            .await
            .context("cannot store the poster")?;
    }
    ctx.store
        .put_file(
            &keys::hls(video_id, MULTIVARIANT_PLAYLIST),
            &out.join(MULTIVARIANT_PLAYLIST),
        )
        .await
        .context("cannot store the multivariant playlist")?;
    Ok(Published {
        duration: info.duration,
        renditions,
        has_poster,
    })
}

fn measure_all(out: &Path, info: &MediaInfo, ladder: &Ladder) -> Result<Vec<Rendition>, JobError> {
    let has_audio = info.audio.is_some();
    if ladder.renditions.is_empty() {
        return Ok(vec![playlist::measure(
            &out.join(Ladder::AUDIO_ONLY_NAME),
            Ladder::AUDIO_ONLY_NAME,
            None,
            ladder,
            has_audio,
        )?]);
    }
    ladder
        .renditions
        .iter()
        .map(|r| playlist::measure(&out.join(&r.name), &r.name, Some(r), ladder, has_audio).map_err(JobError::from))
        .collect()
}

/// A transcode that ends early without an error (a source whose data stops before its
/// declared duration) must not be published as if it were whole.
fn check_complete(info: &MediaInfo, renditions: &[Rendition]) -> Result<(), JobError> {
    let shortest = renditions.iter().map(|r| r.duration).fold(f64::INFINITY, f64::min);
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
