//! The `videos` table.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Db, now_ms};
use crate::media::playlist::Rendition;

/// Where a video is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoStatus {
    /// Uploaded; waiting for or being transcoded.
    Processing,
    /// The ladder is published and playable.
    Ready,
    /// Refused or failed for good; `error` says why.
    Failed,
}

impl VideoStatus {
    fn parse(s: &str) -> VideoStatus {
        match s {
            "ready" => VideoStatus::Ready,
            "failed" => VideoStatus::Failed,
            _ => VideoStatus::Processing,
        }
    }
}

/// A row of `videos`.
#[derive(Debug, Clone)]
pub struct VideoRecord {
    pub id: String,
    pub title: String,
    pub description: String,
    pub status: VideoStatus,
    /// Percent, 0..=100.
    pub progress: f64,
    pub error: Option<String>,
    pub source_name: String,
    pub source_bytes: i64,
    /// Seconds.
    pub duration: Option<f64>,
    pub renditions: Vec<Rendition>,
    pub has_poster: bool,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A video to insert together with its transcode job.
#[derive(Debug, Clone)]
pub struct NewVideo {
    pub id: String,
    pub title: String,
    pub description: String,
    pub source_name: String,
    pub source_bytes: u64,
}

const VIDEO_COLUMNS: &str = "id, title, description, status, progress, error, source_name, source_bytes, duration_secs, renditions, has_poster, created_at";

fn video_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<VideoRecord, sqlx::Error> {
    let renditions: String = row.try_get("renditions")?;
    Ok(VideoRecord {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        status: VideoStatus::parse(row.try_get::<&str, _>("status")?),
        progress: row.try_get("progress")?,
        error: row.try_get("error")?,
        source_name: row.try_get("source_name")?,
        source_bytes: row.try_get("source_bytes")?,
        duration: row.try_get("duration_secs")?,
        renditions: serde_json::from_str(&renditions).unwrap_or_default(),
        has_poster: row.try_get("has_poster")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Db {
    /// Inserts a video in `processing` and queues its transcode job, in one transaction.
    pub async fn insert_video_with_job(&self, v: &NewVideo, max_attempts: u32) -> Result<(), sqlx::Error> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO videos (id, title, description, status, source_name, source_bytes, created_at, updated_at)
             VALUES (?, ?, ?, 'processing', ?, ?, ?, ?)",
        )
        .bind(&v.id)
        .bind(&v.title)
        .bind(&v.description)
        .bind(&v.source_name)
        .bind(v.source_bytes as i64)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO jobs (video_id, kind, state, max_attempts, run_after, created_at, updated_at)
             VALUES (?, 'transcode', 'queued', ?, ?, ?, ?)",
        )
        .bind(&v.id)
        .bind(max_attempts)
        .bind(now)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// One video by id.
    pub async fn video(&self, id: &str) -> Result<Option<VideoRecord>, sqlx::Error> {
        let sql = format!("SELECT {VIDEO_COLUMNS} FROM videos WHERE id = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(video_from_row).transpose()
    }

    /// A page of videos, newest first, and the total count.
    pub async fn list_videos(&self, limit: u32, offset: u64) -> Result<(Vec<VideoRecord>, u64), sqlx::Error> {
        let sql = format!("SELECT {VIDEO_COLUMNS} FROM videos ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(limit)
            .bind(offset as i64)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM videos")
            .fetch_one(&self.pool)
            .await?;
        let videos = rows.iter().map(video_from_row).collect::<Result<_, _>>()?;
        Ok((videos, total as u64))
    }

    /// Records transcode progress (percent) of a video still processing.
    pub async fn set_progress(&self, id: &str, percent: f64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE videos SET progress = ?, updated_at = ? WHERE id = ? AND status = 'processing'")
            .bind(percent.clamp(0.0, 100.0))
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await
            .map(|_| ())
    }
}
