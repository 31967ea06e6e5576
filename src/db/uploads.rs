//! The `uploads` table: resumable (tus) uploads in progress, one per video still `uploading`.

use sqlx::Row;

use super::videos::{NewVideo, insert_video, queue_transcode};
use super::{Db, DbError, query, query_scalar};

/// A resumable upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    pub video_id: crate::ids::VideoId,
    /// The uploader (the video's owner).
    pub owner_id: Option<i64>,
    /// Bytes announced (`Upload-Length`).
    pub length: u64,
    /// Bytes stored so far (`Upload-Offset`).
    pub received: u64,
    /// Chunk blobs stored so far, numbered from 0.
    pub chunks: u32,
    /// Their blob keys, in order.
    pub chunk_keys: Vec<String>,
    /// Unix ms after which an unfinished upload is removed.
    pub expires_at: i64,
}

impl Db {
    /// Creates video `v` marked `uploading` (no transcode job yet) and its upload of `length`
    /// bytes, which expires at `expires_at` (Unix ms) unless finished.
    pub async fn create_upload(&self, v: &NewVideo, length: u64, expires_at: i64) -> Result<(), DbError> {
        let now = self.clock_ms().await?;
        let mut tx = self.write_tx().await?;
        insert_video(&mut tx, v, true, now).await?;
        query("INSERT INTO uploads (video_id, length, received, chunks, created_at, expires_at) VALUES (?, ?, 0, 0, ?, ?)")
            .bind(v.id.as_str())
            .bind(length as i64)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await.map_err(DbError::from)
    }

    /// The upload of video `id`, if one is in progress.
    pub async fn upload(&self, id: &str) -> Result<Option<UploadRecord>, DbError> {
        let row = query(
            "SELECT up.video_id, v.owner_id, up.length, up.received, up.chunks, up.chunk_keys, up.expires_at
             FROM uploads up JOIN videos v ON v.id = up.video_id WHERE up.video_id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(UploadRecord {
            video_id: crate::ids::VideoId::parse(&row.try_get::<String, _>("video_id")?)
                .ok_or_else(|| sqlx::Error::Decode("a stored video id is malformed".into()))?,
            owner_id: row.try_get("owner_id")?,
            length: row.try_get::<i64, _>("length")? as u64,
            received: row.try_get::<i64, _>("received")? as u64,
            chunks: row.try_get::<i64, _>("chunks")? as u32,
            chunk_keys: row
                .try_get::<String, _>("chunk_keys")?
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            expires_at: row.try_get("expires_at")?,
        }))
    }

    /// Records chunk number `chunk`, stored under `key` with `bytes` bytes after `from`
    /// bytes. False (and nothing changed) when the upload is no longer at offset `from` with
    /// `chunk` chunks: another request got there first.
    pub async fn append_upload(&self, id: &str, from: u64, chunk: u32, key: &str, bytes: u64) -> Result<bool, DbError> {
        let done = query(
            "UPDATE uploads SET received = received + ?, chunks = chunks + 1, chunk_keys = chunk_keys || ' ' || ?
             WHERE video_id = ? AND received = ? AND chunks = ?",
        )
        .bind(bytes as i64)
        .bind(key)
        .bind(id)
        .bind(from as i64)
        .bind(i64::from(chunk))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Turns a complete upload into a video to transcode, in one transaction: the upload row
    /// goes, the video is no longer `uploading`, its source size is set and its transcode job
    /// queued (at most `max_attempts` attempts). False when the upload is not complete or
    /// another request finished it.
    pub async fn finish_upload(&self, id: &str, max_attempts: u32) -> Result<bool, DbError> {
        let now = self.clock_ms().await?;
        let mut tx = self.write_tx().await?;
        let length: Option<i64> = query_scalar("SELECT length FROM uploads WHERE video_id = ? AND received = length")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(length) = length else { return Ok(false) };
        query("DELETE FROM uploads WHERE video_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        query("UPDATE videos SET uploading = FALSE, source_bytes = ?, updated_at = ? WHERE id = ?")
            .bind(length)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        queue_transcode(&mut tx, id, max_attempts, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes video `id` if, and only if, its upload is still unfinished (its upload row goes
    /// with it). False when it finished or is gone meanwhile.
    pub async fn delete_unfinished_upload(&self, id: &str) -> Result<bool, DbError> {
        let done = query("DELETE FROM videos WHERE id = ? AND uploading")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Videos whose upload expired unfinished before `now_ms` (Unix ms), oldest first, at
    /// most `limit`.
    pub async fn expired_uploads(&self, now_ms: i64, limit: i64) -> Result<Vec<String>, DbError> {
        let rows = query(
            "SELECT video_id FROM uploads WHERE expires_at < ? AND received < length ORDER BY expires_at LIMIT ?",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("video_id"))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(DbError::from)
    }

    /// Uploads whose every byte arrived but whose completion did not finish (the node stopped
    /// or the join failed), at most `limit`.
    pub async fn complete_uploads_pending(&self, limit: i64) -> Result<Vec<String>, DbError> {
        let rows = query("SELECT video_id FROM uploads WHERE received = length LIMIT ?")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("video_id"))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(DbError::from)
    }
}
