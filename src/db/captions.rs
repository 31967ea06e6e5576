//! Captions of videos (`captions`): the tracks published as HLS subtitle renditions.

use sqlx::Row;

use super::{Db, DbError, now_ms, query, query_scalar};

/// A stored caption track.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptionRecord {
    pub id: i64,
    pub video_id: String,
    /// BCP 47 language tag.
    pub lang: String,
    pub label: String,
    pub cues: i64,
    /// Unix ms.
    pub created_at: i64,
    /// The source's stream index, for a track extracted from the upload itself; `None` for an
    /// uploaded caption file.
    pub source_stream: Option<i64>,
    /// Shown without being chosen (the source's `forced` disposition).
    pub forced: bool,
}

impl Db {
    /// Records a caption track of `video_id` (`source_stream`: the source's stream it was
    /// extracted from, `None` for an uploaded file; `forced`: that stream's disposition);
    /// returns its id.
    pub async fn insert_caption(
        &self,
        video_id: &str,
        lang: &str,
        label: &str,
        cues: i64,
        source_stream: Option<i64>,
        forced: bool,
    ) -> Result<i64, DbError> {
        query_scalar(
            "INSERT INTO captions (video_id, lang, label, cues, created_at, source_stream, forced) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(video_id)
        .bind(lang)
        .bind(label)
        .bind(cues)
        .bind(now_ms())
        .bind(source_stream)
        .bind(forced)
        .fetch_one(&self.pool)
        .await
        .map_err(DbError::from)
    }

    /// The caption tracks of `video_id`, oldest first.
    pub async fn captions(&self, video_id: &str) -> Result<Vec<CaptionRecord>, DbError> {
        let rows =
            query("SELECT id, video_id, lang, label, cues, created_at, source_stream, forced FROM captions WHERE video_id = ? ORDER BY id")
                .bind(video_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(CaptionRecord {
                    id: r.try_get("id")?,
                    video_id: r.try_get("video_id")?,
                    lang: r.try_get("lang")?,
                    label: r.try_get("label")?,
                    cues: r.try_get("cues")?,
                    created_at: r.try_get("created_at")?,
                    source_stream: r.try_get("source_stream")?,
                    forced: super::get_bool(r, "forced")?,
                })
            })
            .collect()
    }

    /// Deletes caption `id` of `video_id`; false when there was none.
    pub async fn delete_caption(&self, video_id: &str, id: i64) -> Result<bool, DbError> {
        let done = query("DELETE FROM captions WHERE video_id = ? AND id = ?")
            .bind(video_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes the tracks extracted from `video_id`'s source (a transcode attempt starting
    /// over); returns their ids.
    pub async fn delete_embedded_captions(&self, video_id: &str) -> Result<Vec<i64>, DbError> {
        let rows = query("DELETE FROM captions WHERE video_id = ? AND source_stream IS NOT NULL RETURNING id")
            .bind(video_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| r.try_get("id").map_err(DbError::from)).collect()
    }
}
