//! The `jobs` table: a persistent queue with leases.
//!
//! A worker claims a job by taking a lease (`lease_owner`, `lease_until`) in one atomic
//! `UPDATE … RETURNING` (SQLite serialises writers; PostgreSQL locks the row with
//! `FOR UPDATE SKIP LOCKED`; either way two workers never claim the same job)
//! and renews it by heartbeat. A job whose worker died keeps `state = 'running'` until its
//! lease expires, then any worker reclaims it: jobs survive restarts and crashes. Every claim
//! counts as an attempt; a job past `max_attempts` fails for good instead of looping.

use sqlx::Row;

use super::{Backend, Db, DbError, now_ms, query};

/// A job this worker holds the lease of.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: i64,
    pub video_id: crate::ids::VideoId,
    /// This claim's number, starting at 1.
    pub attempt: u32,
    pub max_attempts: u32,
    pub worker_id: String,
}

/// Answer of a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heartbeat {
    /// The lease is renewed; `cancel_requested` tells whether someone asked to cancel.
    Held { cancel_requested: bool },
    /// Another worker took the job over or it ended: stop working on it.
    Lost,
}

/// What happened to a job that failed an attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RetryDecision {
    /// Queued again, to run after this many seconds.
    RetryIn(f64),
    /// Failed for good; the video is `failed`.
    GaveUp,
    /// This worker no longer held the lease (another took the job over): nothing recorded.
    LeaseLost,
}

impl Db {
    /// Jobs waiting for a worker, and when the oldest of them was queued (Unix ms).
    pub async fn queued_jobs(&self) -> Result<(i64, Option<i64>), DbError> {
        let row = query("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM jobs WHERE state = 'queued'")
            .fetch_one(&self.pool)
            .await?;
        Ok((row.try_get("n")?, row.try_get("oldest")?))
    }

    /// Now, in Unix milliseconds, by the clock every worker agrees on: the database server's
    /// on PostgreSQL (workers on several machines must not compare leases by their own clocks,
    /// or one running ahead would take over jobs whose leases still hold), this process's on
    /// SQLite (one machine).
    pub async fn clock_ms(&self) -> Result<i64, DbError> {
        match self.backend {
            Backend::Sqlite => Ok(now_ms()),
            Backend::Postgres => {
                super::query_scalar("SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(DbError::from)
            }
        }
    }

    /// Claims the oldest runnable job: queued and due, or running with an expired lease.
    pub async fn claim_job(&self, worker_id: &str, lease_ms: i64) -> Result<Option<ClaimedJob>, DbError> {
        let now = self.clock_ms().await?;
        // PostgreSQL runs this at READ COMMITTED: without the row lock two workers could pick
        // the same id in the sub-select and both update it. SKIP LOCKED makes the second take
        // the next job instead of waiting. SQLite serialises writers, so needs neither.
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = ?, lease_until = ?, updated_at = ?
             WHERE id = (SELECT id FROM jobs
                         WHERE (state = 'queued' AND run_after <= ?) OR (state = 'running' AND lease_until < ?)
                         ORDER BY run_after, id LIMIT 1 {lock})
             RETURNING id, video_id, attempts, max_attempts"
        );
        let row = query(&sql)
            .bind(worker_id)
            .bind(now + lease_ms)
            .bind(now)
            .bind(now)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(ClaimedJob {
                id: r.try_get("id")?,
                video_id: crate::ids::VideoId::parse(&r.try_get::<String, _>("video_id")?)
                    .ok_or_else(|| sqlx::Error::Decode("a stored video id is malformed".into()))?,
                attempt: r.try_get::<i64, _>("attempts")? as u32,
                max_attempts: r.try_get::<i64, _>("max_attempts")? as u32,
                worker_id: worker_id.to_string(),
            })
        })
        .transpose()
    }

    /// Renews the lease of a job this worker holds.
    pub async fn heartbeat(&self, job: &ClaimedJob, lease_ms: i64) -> Result<Heartbeat, DbError> {
        let now = self.clock_ms().await?;
        let row = query(
            "UPDATE jobs SET lease_until = ?, updated_at = ?
             WHERE id = ? AND lease_owner = ? AND state = 'running' RETURNING cancel_requested",
        )
        .bind(now + lease_ms)
        .bind(now)
        .bind(job.id)
        .bind(&job.worker_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => Heartbeat::Held {
                cancel_requested: super::get_bool(&r, "cancel_requested")?,
            },
            None => Heartbeat::Lost,
        })
    }

    /// Marks the job succeeded and the video `ready` with its measured ladder, if this worker
    /// still holds the lease. Returns false when the lease was lost (the result is discarded).
    pub async fn complete_job(
        &self,
        job: &ClaimedJob,
        duration: f64,
        renditions_json: &str,
        has_poster: bool,
        has_storyboard: bool,
    ) -> Result<bool, DbError> {
        let now = self.clock_ms().await?;
        let mut tx = self.write_tx().await?;
        let held = query(
            "UPDATE jobs SET state = 'succeeded', lease_owner = NULL, lease_until = NULL, last_error = NULL, updated_at = ?
             WHERE id = ? AND lease_owner = ? AND state = 'running'",
        )
        .bind(now)
        .bind(job.id)
        .bind(&job.worker_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !held {
            return Ok(false);
        }
        query(
            "UPDATE videos SET status = 'ready', progress = 100, error = NULL, duration_secs = ?, renditions = ?,
             has_poster = ?, has_storyboard = ?, updated_at = ? WHERE id = ?",
        )
        .bind(duration)
        .bind(renditions_json)
        .bind(has_poster)
        .bind(has_storyboard)
        .bind(now)
        .bind(job.video_id.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Records a failed attempt. A `permanent` failure (the source's fault) or the last
    /// attempt fails the job and the video with `reason`; otherwise the job is queued again
    /// after `backoff_secs × 2^(attempt−1)`.
    pub async fn fail_job(
        &self,
        job: &ClaimedJob,
        reason: &str,
        permanent: bool,
        backoff_secs: u64,
    ) -> Result<RetryDecision, DbError> {
        let now = self.clock_ms().await?;
        let mut tx = self.write_tx().await?;
        if !permanent && job.attempt < job.max_attempts {
            let delay = backoff_secs as f64 * 2f64.powi(job.attempt.saturating_sub(1) as i32);
            let held = query(
                "UPDATE jobs SET state = 'queued', run_after = ?, lease_owner = NULL, lease_until = NULL, last_error = ?,
                 updated_at = ? WHERE id = ? AND lease_owner = ? AND state = 'running'",
            )
            .bind(now + (delay * 1000.0) as i64)
            .bind(reason)
            .bind(now)
            .bind(job.id)
            .bind(&job.worker_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !held {
                return Ok(RetryDecision::LeaseLost);
            }
            query("UPDATE videos SET progress = 0, updated_at = ? WHERE id = ?")
                .bind(now)
                .bind(job.video_id.as_str())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(RetryDecision::RetryIn(delay));
        }
        if !Self::end_job(&mut tx, job, "failed", reason, now).await? {
            return Ok(RetryDecision::LeaseLost);
        }
        tx.commit().await?;
        Ok(RetryDecision::GaveUp)
    }

    /// Ends a cancelled job: the job `cancelled`, the video `failed` with `reason`. Returns
    /// false (and changes nothing) when this worker no longer held the lease.
    pub async fn cancel_job(&self, job: &ClaimedJob, reason: &str) -> Result<bool, DbError> {
        let now = self.clock_ms().await?;
        let mut tx = self.write_tx().await?;
        let held = Self::end_job(&mut tx, job, "cancelled", reason, now).await?;
        if held {
            tx.commit().await?;
        }
        Ok(held)
    }

    /// Inside `tx`: ends a job this worker still holds in `state` (`failed` or `cancelled`)
    /// and fails its video with `reason`. False, with nothing changed, when the lease was lost.
    async fn end_job(
        tx: &mut sqlx::AnyConnection,
        job: &ClaimedJob,
        state: &str,
        reason: &str,
        now: i64,
    ) -> Result<bool, DbError> {
        let held = query(
            "UPDATE jobs SET state = ?, lease_owner = NULL, lease_until = NULL, last_error = ?, updated_at = ?
             WHERE id = ? AND lease_owner = ? AND state = 'running'",
        )
        .bind(state)
        .bind(reason)
        .bind(now)
        .bind(job.id)
        .bind(&job.worker_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if held {
            Self::fail_video(tx, &job.video_id, reason, now).await?;
        }
        Ok(held)
    }

    async fn fail_video(tx: &mut sqlx::AnyConnection, video_id: &str, reason: &str, now: i64) -> Result<(), DbError> {
        query("UPDATE videos SET status = 'failed', error = ?, updated_at = ? WHERE id = ?")
            .bind(reason)
            .bind(now)
            .bind(video_id)
            .execute(tx)
            .await
            .map(|_| ())
            .map_err(DbError::from)
    }

    /// Gives a job back to the queue at once without counting the attempt (graceful shutdown).
    pub async fn release_job(&self, job: &ClaimedJob) -> Result<(), DbError> {
        let now = self.clock_ms().await?;
        query(
            "UPDATE jobs SET state = 'queued', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, run_after = ?, lease_owner = NULL,
             lease_until = NULL, updated_at = ? WHERE id = ? AND lease_owner = ? AND state = 'running'",
        )
        .bind(now)
        .bind(now)
        .bind(job.id)
        .bind(&job.worker_id)
        .execute(&self.pool)
        .await
        .map(|_| ()).map_err(DbError::from)
    }

    /// Asks for a video's unfinished transcode to stop. A queued job is cancelled at once;
    /// a running one at its worker's next heartbeat. Returns false when nothing was running.
    pub async fn request_cancel(&self, video_id: &str) -> Result<bool, DbError> {
        let now = self.clock_ms().await?;
        let mut tx = self.write_tx().await?;
        let queued = query(
            "UPDATE jobs SET state = 'cancelled', last_error = 'cancelled', updated_at = ? WHERE video_id = ? AND state = 'queued'",
        )
        .bind(now)
        .bind(video_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if queued > 0 {
            Self::fail_video(&mut tx, video_id, "transcoding was cancelled", now).await?;
        }
        let running =
            query("UPDATE jobs SET cancel_requested = TRUE, updated_at = ? WHERE video_id = ? AND state = 'running'")
                .bind(now)
                .bind(video_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        tx.commit().await?;
        Ok(queued + running > 0)
    }
}
