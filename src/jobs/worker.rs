//! The worker loop: claim a job, keep its lease alive with heartbeats, write its progress,
//! watch for cancellation, and record how it ended.
//!
//! Stopping: when `shutdown` fires, the running ffmpeg is killed and the job is handed back
//! to the queue without counting the attempt, so the next process to start picks it up.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::WorkerContext;
use super::pipeline::{self, JobError, Progress};
use crate::db::{ClaimedJob, Heartbeat, RetryDecision};
use crate::events::VideoEvent;

/// What a video's `error` says when processing failed for a reason on the server's side
/// (storage, database, a missing tool) rather than the source's: viewers and the uploader read
/// it, so it carries no paths or internal messages; the log has the detail.
pub const SERVER_FAULT: &str = "processing failed because of a problem on the server, not with the file; the administrator can find the details in the server log";

/// Why a job's work was interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Interrupt {
    UserCancel,
    LeaseLost,
    Shutdown,
}

/// Runs `count` worker loops until `shutdown` fires; returns when all have stopped.
pub async fn run_workers(ctx: WorkerContext, count: usize, shutdown: CancellationToken) {
    // HOST:PID:N:RANDOM — readable in the jobs table, and unique even when two machines
    // report the same host name (HOSTNAME is often unset under systemd) and pid.
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
    let run = crate::ids::random_token();
    let mut set = tokio::task::JoinSet::new();
    for n in 0..count {
        let worker_id = format!("{host}:{}:{n}:{run}", std::process::id());
        set.spawn(worker_loop(ctx.clone(), worker_id, shutdown.clone()));
    }
    while set.join_next().await.is_some() {}
}

async fn worker_loop(ctx: WorkerContext, worker_id: String, shutdown: CancellationToken) {
    let lease_ms = (ctx.config.jobs.lease_secs * 1000) as i64;
    let poll = Duration::from_secs_f64(ctx.config.jobs.poll_secs.max(0.05));
    tracing::debug!(worker_id, "worker started");
    while !shutdown.is_cancelled() {
        match ctx.db.claim_job(&worker_id, lease_ms).await {
            Ok(Some(job)) => run_job(&ctx, job, &shutdown).await,
            Ok(None) => {
                tokio::select! {
                    _ = ctx.wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                    _ = shutdown.cancelled() => {}
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "claiming a job failed");
                tokio::time::sleep(poll).await;
            }
        }
    }
}

async fn run_job(ctx: &WorkerContext, job: ClaimedJob, shutdown: &CancellationToken) {
    let cfg = &ctx.config;
    let video_id = job.video_id.clone();
    if job.attempt > job.max_attempts {
        let reason = format!(
            "gave up after {} attempts: the worker running this job stopped each time",
            job.max_attempts
        );
        if let Ok(RetryDecision::GaveUp) = ctx.db.fail_job(&job, &reason, true, 0).await {
            ctx.events.publish(
                &video_id,
                VideoEvent::VideoFailed {
                    error: reason.to_string(),
                },
            );
        }
        tracing::warn!(%video_id, "{reason}");
        return;
    }
    tracing::info!(%video_id, attempt = job.attempt, "job claimed");

    let work = CancellationToken::new();
    let interrupt: Arc<OnceLock<Interrupt>> = Arc::default();
    let progress = Progress::default();
    let watcher = tokio::spawn(watch_job(
        ctx.clone(),
        job.clone(),
        work.clone(),
        shutdown.clone(),
        interrupt.clone(),
        progress.clone(),
    ));

    let lease_lost = {
        let interrupt = interrupt.clone();
        move || interrupt.get() == Some(&Interrupt::LeaseLost)
    };
    let started = std::time::Instant::now();
    let result = pipeline::run(ctx, &video_id, &work, &progress, &lease_lost).await;
    record_attempt(&result, started.elapsed());
    watcher.abort();
    let _ = watcher.await;

    let db = &ctx.db;
    let outcome = match result {
        Ok(published) => {
            let json = serde_json::to_string(&published.renditions).unwrap_or_else(|_| "[]".into());
            match db
                .complete_job(
                    &job,
                    published.duration,
                    &json,
                    published.has_poster,
                    published.has_storyboard,
                )
                .await
            {
                Ok(true) => {
                    tracing::info!(%video_id, "ready");
                    drop_later(ctx, &video_id, published.dropped);
                    ctx.events.publish(
                        &video_id,
                        VideoEvent::VideoReady {
                            duration_secs: published.duration,
                        },
                    );
                    Ok(())
                }
                Ok(false) => {
                    tracing::warn!(%video_id, "lease lost before completion; another worker owns the job");
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        Err(JobError::Cancelled) => match interrupt.get().copied() {
            Some(Interrupt::UserCancel) => match db.cancel_job(&job, "transcoding was cancelled").await {
                Ok(true) => {
                    ctx.events.publish(
                        &video_id,
                        VideoEvent::VideoFailed {
                            error: "transcoding was cancelled".into(),
                        },
                    );
                    Ok(())
                }
                Ok(false) => Ok(()),
                Err(e) => Err(e),
            },
            Some(Interrupt::Shutdown) | None => db.release_job(&job).await,
            Some(Interrupt::LeaseLost) => Ok(()),
        },
        Err(JobError::Rejected(reason)) => {
            tracing::info!(%video_id, reason, "source rejected");
            match db.fail_job(&job, &reason, true, 0).await {
                Ok(RetryDecision::GaveUp) => {
                    ctx.events.publish(
                        &video_id,
                        VideoEvent::VideoFailed {
                            error: reason.to_string(),
                        },
                    );
                    Ok(())
                }
                Ok(_) => Ok(()),
                Err(e) => Err(e),
            }
        }
        Err(JobError::Failed(e)) => {
            // The detail (paths, database or storage errors) is for the operator's log; the
            // video's `error`, which its viewers can read, gets a sentence.
            let detail = format!("{e:#}");
            let reason = SERVER_FAULT;
            match db.fail_job(&job, reason, false, cfg.jobs.retry_backoff_secs).await {
                Ok(RetryDecision::RetryIn(secs)) => {
                    tracing::warn!(
                        %video_id,
                        error = detail,
                        retry_in_secs = secs,
                        "attempt failed; will retry"
                    );
                    Ok(())
                }
                Ok(RetryDecision::LeaseLost) => {
                    tracing::warn!(
                        %video_id,
                        "lease lost before the failure was recorded; another worker owns the job"
                    );
                    Ok(())
                }
                Ok(RetryDecision::GaveUp) => {
                    tracing::error!(%video_id, error = detail, "job failed for good");
                    ctx.events.publish(
                        &video_id,
                        VideoEvent::VideoFailed {
                            error: reason.to_string(),
                        },
                    );
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
    };
    if let Err(e) = outcome {
        tracing::error!(%video_id, error = %e, "could not record the job's outcome; its lease will expire and it will be retried");
    }
    // The video was deleted while this job ran: whatever the job published is an orphan.
    if let Ok(None) = db.video(&video_id).await
        && let Err(e) = super::remove_blobs(&ctx.store, &video_id).await
    {
        tracing::warn!(%video_id, error = %e, "could not remove the blobs of a deleted video");
    }
}

/// Players that were already playing a dropped rendition (the passthrough) when the ladder
/// was published keep it this long: the watch page moves to the full ladder on `video.ready`,
/// other players at their next multivariant playlist load.
pub const DROPPED_RENDITION_GRACE: Duration = Duration::from_secs(60);

/// Deletes the files of renditions left out of the final ladder after
/// [`DROPPED_RENDITION_GRACE`]. If the process stops before, they stay until the video is
/// deleted or processed again.
fn drop_later(ctx: &WorkerContext, video_id: &crate::ids::VideoId, dropped: Vec<String>) {
    if dropped.is_empty() {
        return;
    }
    let (store, video_id) = (ctx.store.clone(), video_id.clone());
    tokio::spawn(async move {
        tokio::time::sleep(DROPPED_RENDITION_GRACE).await;
        for name in &dropped {
            let prefix = crate::storage::keys::hls(&video_id, name);
            if let Err(e) = store.delete_prefix(&prefix).await {
                tracing::warn!(%video_id, rendition = name, error = %e, "could not delete a dropped rendition");
            }
        }
    });
}

/// Heartbeats, progress writes and interrupt detection for one running job.
async fn watch_job(
    ctx: WorkerContext,
    job: ClaimedJob,
    work: CancellationToken,
    shutdown: CancellationToken,
    interrupt: Arc<OnceLock<Interrupt>>,
    progress: Progress,
) {
    let lease_ms = (ctx.config.jobs.lease_secs * 1000) as i64;
    let beat_every = Duration::from_millis((lease_ms / 3).max(200) as u64);
    let mut beat = tokio::time::interval(beat_every);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut written = -1.0;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => {
                let _ = interrupt.set(Interrupt::Shutdown);
                work.cancel();
                return;
            }
            _ = beat.tick() => match ctx.db.heartbeat(&job, lease_ms).await {
                Ok(Heartbeat::Held { cancel_requested: true }) => {
                    let _ = interrupt.set(Interrupt::UserCancel);
                    work.cancel();
                    return;
                }
                Ok(Heartbeat::Held { .. }) => {}
                Ok(Heartbeat::Lost) => {
                    let _ = interrupt.set(Interrupt::LeaseLost);
                    work.cancel();
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
            },
            _ = tick.tick() => {
                let p = (progress.get() * 10.0).round() / 10.0;
                if p != written && ctx.db.set_progress(&job.video_id, p).await.is_ok() {
                    written = p;
                    ctx.events.publish(&job.video_id, VideoEvent::JobProgress { progress: p });
                }
            }
        }
    }
}

/// Metrics of one attempt ([`crate::metrics`]): its outcome, and for a success how many
/// seconds of media it made per second of work (the transcode's real-time factor).
fn record_attempt(result: &Result<pipeline::Published, JobError>, took: Duration) {
    let outcome = match result {
        Ok(published) => {
            let secs = took.as_secs_f64();
            if secs > 0.0 && published.duration > 0.0 {
                metrics::histogram!("kino_transcode_realtime_factor").record(published.duration / secs);
            }
            "succeeded"
        }
        Err(JobError::Cancelled) => "cancelled",
        Err(JobError::Rejected(_)) => "rejected",
        Err(JobError::Failed(_)) => "failed",
    };
    metrics::counter!("kino_job_attempts_total", "outcome" => outcome).increment(1);
}
