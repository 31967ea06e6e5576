//! Watch progress (`watch_progress`) and view counting (`video_views`, `videos.views`).

use sqlx::Row;

use super::videos::{VIDEO_COLUMNS, video_from_row};
use super::{Db, DbError, now_ms, query, query_scalar};
use crate::auth::policy::Listing;
use crate::db::VideoRecord;

/// Share of a video's duration past which it counts as finished.
pub const FINISHED_FRACTION: f64 = 0.95;

/// A video in someone's history.
#[derive(Debug, Clone)]
pub struct HistoryItem {
    pub video: VideoRecord,
    /// Seconds.
    pub position: f64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

impl HistoryItem {
    /// True at or past [`FINISHED_FRACTION`] of the duration.
    pub fn finished(&self) -> bool {
        self.video
            .duration
            .is_some_and(|d| d > 0.0 && self.position >= FINISHED_FRACTION * d)
    }
}

impl Db {
    /// Records where `user_id` is in `video_id` (seconds).
    pub async fn save_position(&self, user_id: i64, video_id: &str, position: f64) -> Result<(), DbError> {
        query(
            "INSERT INTO watch_progress (user_id, video_id, position_secs, updated_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (user_id, video_id) DO UPDATE SET position_secs = excluded.position_secs, updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(video_id)
        .bind(position)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map(|_| ()).map_err(DbError::from)
    }

    /// Where `user_id` left `video_id`: (seconds, Unix ms), if anywhere.
    pub async fn position(&self, user_id: i64, video_id: &str) -> Result<Option<(f64, i64)>, DbError> {
        let row = query("SELECT position_secs, updated_at FROM watch_progress WHERE user_id = ? AND video_id = ?")
            .bind(user_id)
            .bind(video_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get("position_secs")?, r.try_get("updated_at")?)))
            .transpose()
    }

    /// A page of `user_id`'s history, most recent first — only unfinished videos when
    /// `unfinished_only` ("continue watching") — and its total, as far as `visible` (from
    /// [`crate::auth::policy::listing_filter`]) lets the caller see them: unlisted and private
    /// videos of others are left out, like in every listing.
    pub async fn history(
        &self,
        user_id: i64,
        visible: Listing,
        unfinished_only: bool,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<HistoryItem>, u64), DbError> {
        let (vis, viewer) = super::visibility_sql(visible);
        let mut cond = format!("p.user_id = ? AND {vis}");
        if unfinished_only {
            cond.push_str(&format!(
                " AND (v.duration_secs IS NULL OR p.position_secs < {FINISHED_FRACTION} * v.duration_secs)"
            ));
        }
        let sql = format!(
            "SELECT {VIDEO_COLUMNS}, p.position_secs, p.updated_at AS watched_at
             FROM watch_progress p JOIN videos v ON v.id = p.video_id LEFT JOIN users u ON u.id = v.owner_id
             WHERE {cond} ORDER BY p.updated_at DESC, p.video_id LIMIT ? OFFSET ?"
        );
        let mut q = query(&sql).bind(user_id);
        if let Some(id) = viewer {
            q = q.bind(id);
        }
        let rows = q
            .bind(i64::from(limit))
            .bind(offset as i64)
            .fetch_all(&self.pool)
            .await?;
        let count = format!("SELECT COUNT(*) FROM watch_progress p JOIN videos v ON v.id = p.video_id WHERE {cond}");
        let mut q = query_scalar(&count).bind(user_id);
        if let Some(id) = viewer {
            q = q.bind(id);
        }
        let total: i64 = q.fetch_one(&self.pool).await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(HistoryItem {
                    video: video_from_row(r)?,
                    position: r.try_get("position_secs")?,
                    updated_at: r.try_get("watched_at")?,
                })
            })
            .collect::<Result<_, DbError>>()?;
        Ok((items, total as u64))
    }

    /// Counts a view of `video_id` by `viewer` unless that viewer was counted in the last
    /// `window_ms`. Returns whether it counted and the video's view count.
    pub async fn count_view(&self, video_id: &str, viewer: &str, window_ms: i64) -> Result<(bool, i64), DbError> {
        let now = now_ms();
        let mut tx = self.row_tx().await?;
        let counted = query(
            "INSERT INTO video_views (video_id, viewer, counted_at) VALUES (?, ?, ?)
             ON CONFLICT (video_id, viewer) DO UPDATE SET counted_at = excluded.counted_at
             WHERE video_views.counted_at <= ?",
        )
        .bind(video_id)
        .bind(viewer)
        .bind(now)
        .bind(now - window_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if counted {
            query("UPDATE videos SET views = views + 1 WHERE id = ?")
                .bind(video_id)
                .execute(&mut *tx)
                .await?;
        }
        let views: i64 = query_scalar("SELECT views FROM videos WHERE id = ?")
            .bind(video_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((counted, views))
    }
}
