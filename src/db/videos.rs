//! The `videos` table.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, DbError, now_ms, query, query_scalar};
use crate::auth::Privacy;
use crate::auth::policy::Listing;
use crate::ids::VideoId;
use crate::video::{LiveState, Rendition, VideoAcl, VideoStatus};

/// A row of `videos`.
#[derive(Debug, Clone)]
pub struct VideoRecord {
    pub id: VideoId,
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
    /// Seek-bar previews exist under `storyboard/` ([`crate::media::storyboard`]).
    pub has_storyboard: bool,
    /// Unix milliseconds.
    pub created_at: i64,
    /// The uploader's user id; `None` for operator imports.
    pub owner_id: Option<i64>,
    /// The uploader's username.
    pub owner_name: Option<String>,
    pub privacy: Privacy,
    /// Lowercase tags.
    pub tags: Vec<String>,
    /// Counted views (once per viewer per 24 h).
    pub views: i64,
    pub comments_enabled: bool,
    /// Signed into playback grants; only increases (every privacy change and every "revoke
    /// all links" bumps it), so grants of an earlier generation never verify again.
    pub grant_generation: u64,
    /// For a live stream: where its broadcast is and when it first went live (Unix ms).
    pub live: Option<(LiveState, Option<i64>)>,
}

impl VideoRecord {
    /// What the access policy needs of this video.
    pub fn acl(&self) -> VideoAcl {
        VideoAcl {
            owner_id: self.owner_id,
            privacy: self.privacy,
            owner_only: matches!(self.status, VideoStatus::Uploading | VideoStatus::Failed),
        }
    }

    /// True when its multivariant playlist plays: `ready`, or still `processing` with a first
    /// rendition published ("playable first", [`crate::jobs::pipeline`]), or a live stream with
    /// its first segments out.
    pub fn playable(&self) -> bool {
        match self.status {
            VideoStatus::Ready => true,
            VideoStatus::Processing | VideoStatus::Live | VideoStatus::Ended => !self.renditions.is_empty(),
            VideoStatus::Failed | VideoStatus::Uploading | VideoStatus::Idle => false,
        }
    }
}

/// Which videos a listing selects, before the caller's visibility filter.
#[derive(Debug, Clone, Copy)]
pub enum VideoFilter {
    /// Every video (the library, with [`Listing::PublicOnly`]).
    Any,
    /// The videos of one owner (`/api/me/videos`, user pages).
    OwnedBy(i64),
    /// Live streams broadcasting now (the home page's "Live now").
    LiveNow,
}

/// Order of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VideoSort {
    #[default]
    Newest,
    Oldest,
    MostViewed,
}

/// A listing: which videos, as far as the caller may see them, optionally only those with
/// `tag`, in which order.
#[derive(Debug, Clone)]
pub struct VideoListing {
    pub filter: VideoFilter,
    /// What the caller may see: from [`crate::auth::policy::listing_filter`].
    pub visible: Listing,
    pub tag: Option<String>,
    pub sort: VideoSort,
}

/// Fields of a video its owner may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct VideoPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub privacy: Option<Privacy>,
    /// Replaces every tag (already normalised by [`crate::tags`]).
    pub tags: Option<Vec<String>>,
    pub comments_enabled: Option<bool>,
}

/// A video to insert together with its transcode job.
#[derive(Debug, Clone)]
pub struct NewVideo {
    pub id: VideoId,
    pub title: String,
    pub description: String,
    pub source_name: String,
    pub source_bytes: u64,
    pub owner_id: Option<i64>,
    pub privacy: Privacy,
    /// Normalised tags.
    pub tags: Vec<String>,
}

pub(crate) const VIDEO_COLUMNS: &str = "v.id, v.title, v.description, v.status, v.progress, v.error, v.source_name, v.source_bytes, v.duration_secs, v.renditions, v.has_poster, v.has_storyboard, v.created_at, v.owner_id, v.privacy, v.tags, v.views, v.comments_enabled, v.grant_generation, v.uploading, u.username AS owner_name,
    (SELECT ls.state FROM live_streams ls WHERE ls.video_id = v.id) AS live_state,
    (SELECT ls.started_at FROM live_streams ls WHERE ls.video_id = v.id) AS live_started_at";
/// `SELECT {VIDEO_COLUMNS} FROM {VIDEO_FROM}` reads [`VideoRecord`]s (for [`video_from_row`]).
pub(crate) const VIDEO_FROM: &str = "videos v LEFT JOIN users u ON u.id = v.owner_id";

pub(crate) fn video_from_row(row: &AnyRow) -> Result<VideoRecord, sqlx::Error> {
    let renditions: String = row.try_get("renditions")?;
    let live = row
        .try_get::<Option<String>, _>("live_state")?
        .map(|s| {
            LiveState::parse(&s)
                .ok_or_else(|| sqlx::Error::Decode(format!("unknown live state {s:?} in the database").into()))
        })
        .transpose()?
        .map(|state| Ok::<_, sqlx::Error>((state, row.try_get::<Option<i64>, _>("live_started_at")?)))
        .transpose()?;
    let stored: VideoStatus = row
        .try_get::<&str, _>("status")?
        .parse()
        .map_err(|e: String| sqlx::Error::Decode(e.into()))?;
    Ok(VideoRecord {
        id: VideoId::parse(row.try_get::<&str, _>("id")?)
            .ok_or_else(|| sqlx::Error::Decode("a stored video id is malformed".into()))?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        status: match (stored, live) {
            _ if super::get_bool(row, "uploading")? => VideoStatus::Uploading,
            (VideoStatus::Processing, Some((LiveState::Idle, _))) => VideoStatus::Idle,
            (VideoStatus::Processing, Some((LiveState::Live, _))) => VideoStatus::Live,
            (VideoStatus::Processing, Some((LiveState::Ended, _))) => VideoStatus::Ended,
            (stored, _) => stored,
        },
        progress: row.try_get("progress")?,
        error: row.try_get("error")?,
        source_name: row.try_get("source_name")?,
        source_bytes: row.try_get("source_bytes")?,
        duration: row.try_get("duration_secs")?,
        renditions: serde_json::from_str(&renditions).map_err(|e| {
            sqlx::Error::Decode(format!("the stored renditions of a video are not valid JSON: {e}").into())
        })?,
        has_poster: super::get_bool(row, "has_poster")?,
        has_storyboard: super::get_bool(row, "has_storyboard")?,
        created_at: row.try_get("created_at")?,
        owner_id: row.try_get("owner_id")?,
        owner_name: row.try_get("owner_name")?,
        privacy: Privacy::parse(row.try_get::<&str, _>("privacy")?).map_err(|e| sqlx::Error::Decode(e.into()))?,
        tags: row
            .try_get::<&str, _>("tags")?
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        views: row.try_get("views")?,
        comments_enabled: super::get_bool(row, "comments_enabled")?,
        grant_generation: row.try_get::<i64, _>("grant_generation")?.max(0) as u64,
        live,
    })
}

impl Db {
    /// Inserts a video in `processing` and queues its transcode job, in one transaction.
    pub async fn insert_video_with_job(&self, v: &NewVideo, max_attempts: u32) -> Result<(), DbError> {
        let now = self.clock_ms().await?;
        let mut tx = self.write_tx().await?;
        insert_video(&mut tx, v, false, now).await?;
        queue_transcode(&mut tx, &v.id, max_attempts, now).await?;
        tx.commit().await.map_err(DbError::from)
    }

    /// Queues a failed video again: status `processing`, no error, nothing published, and a new
    /// transcode job of at most `max_attempts` attempts. Returns false (and changes nothing)
    /// when the video is not `failed`.
    pub async fn retry_failed(&self, id: &str, max_attempts: u32) -> Result<bool, DbError> {
        let now = self.clock_ms().await?;
        let mut tx = self.write_tx().await?;
        let failed = query(
            "UPDATE videos SET status = 'processing', error = NULL, progress = 0, renditions = '[]',
             has_poster = FALSE, has_storyboard = FALSE, updated_at = ? WHERE id = ? AND status = 'failed'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !failed {
            return Ok(false);
        }
        queue_transcode(&mut tx, id, max_attempts, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// One video by id.
    pub async fn video(&self, id: &str) -> Result<Option<VideoRecord>, DbError> {
        let sql = format!("SELECT {VIDEO_COLUMNS} FROM {VIDEO_FROM} WHERE v.id = ?");
        let row = query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(video_from_row).transpose().map_err(DbError::from)
    }

    /// A page of the videos `listing` selects, in its order, and their total count.
    pub async fn list_videos(
        &self,
        listing: &VideoListing,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<VideoRecord>, u64), DbError> {
        let (visible, viewer) = super::visibility_sql(listing.visible);
        let (mut cond, owner) = match listing.filter {
            VideoFilter::Any => (visible.to_string(), None),
            VideoFilter::OwnedBy(id) => (format!("{visible} AND v.owner_id = ?"), Some(id)),
            VideoFilter::LiveNow => (
                format!(
                    "{visible} AND v.status = 'processing' AND v.id IN (SELECT video_id FROM live_streams WHERE state = 'live')"
                ),
                None,
            ),
        };
        if listing.tag.is_some() {
            cond.push_str(" AND v.id IN (SELECT video_id FROM video_tags WHERE tag = ?)");
        }
        let order = match listing.sort {
            VideoSort::Newest => "v.created_at DESC, v.id DESC",
            VideoSort::Oldest => "v.created_at ASC, v.id ASC",
            VideoSort::MostViewed => "v.views DESC, v.created_at DESC, v.id DESC",
        };
        let sql = format!("SELECT {VIDEO_COLUMNS} FROM {VIDEO_FROM} WHERE {cond} ORDER BY {order} LIMIT ? OFFSET ?");
        let mut q = query(&sql);
        if let Some(id) = viewer {
            q = q.bind(id);
        }
        if let Some(id) = owner {
            q = q.bind(id);
        }
        if let Some(tag) = &listing.tag {
            q = q.bind(tag);
        }
        let rows = q
            .bind(i64::from(limit))
            .bind(offset as i64)
            .fetch_all(&self.pool)
            .await?;
        let count = format!("SELECT COUNT(*) FROM videos v WHERE {cond}");
        let mut q = query_scalar(&count);
        if let Some(id) = viewer {
            q = q.bind(id);
        }
        if let Some(id) = owner {
            q = q.bind(id);
        }
        if let Some(tag) = &listing.tag {
            q = q.bind(tag);
        }
        let total: i64 = q.fetch_one(&self.pool).await?;
        let videos = rows.iter().map(video_from_row).collect::<Result<_, _>>()?;
        Ok((videos, total as u64))
    }

    /// Ends every playback grant of video `id` issued so far by bumping its grant generation.
    /// Returns false when there is no such video.
    pub async fn revoke_grants(&self, id: &str) -> Result<bool, DbError> {
        let done = query("UPDATE videos SET grant_generation = grant_generation + 1, updated_at = ? WHERE id = ?")
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Applies `patch` to video `id` (a change of privacy also bumps the grant generation,
    /// ending earlier playback grants). Returns false when there is no such video.
    pub async fn update_video(&self, id: &str, patch: &VideoPatch) -> Result<bool, DbError> {
        let mut tx = self.write_tx().await?;
        let done = query(
            "UPDATE videos SET title = COALESCE(?, title), description = COALESCE(?, description),
             grant_generation = grant_generation + CASE WHEN COALESCE(?, privacy) <> privacy THEN 1 ELSE 0 END,
             privacy = COALESCE(?, privacy), tags = COALESCE(?, tags),
             comments_enabled = COALESCE(?, comments_enabled), updated_at = ? WHERE id = ?",
        )
        .bind(patch.title.as_deref())
        .bind(patch.description.as_deref())
        .bind(patch.privacy.map(|p| p.as_str()))
        .bind(patch.privacy.map(|p| p.as_str()))
        .bind(patch.tags.as_ref().map(|t| t.join(" ")))
        .bind(patch.comments_enabled)
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if let Some(tags) = &patch.tags {
            set_tags(&mut tx, id, tags).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes video `id` and its jobs (a running worker loses its lease at its next
    /// heartbeat). Returns false when there was no such video.
    pub async fn delete_video(&self, id: &str) -> Result<bool, DbError> {
        let mut tx = self.write_tx().await?;
        self.delete_video_qoe(&mut tx, id).await?;
        query("DELETE FROM jobs WHERE video_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = query("DELETE FROM videos WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records what a video still processing has published so far (playable first): its
    /// renditions (a JSON array of [`crate::video::Rendition`]), duration in seconds and
    /// whether a poster exists. A video that is no longer processing is left alone.
    pub async fn set_published(
        &self,
        id: &str,
        renditions_json: &str,
        duration: f64,
        has_poster: bool,
    ) -> Result<(), DbError> {
        query(
            "UPDATE videos SET renditions = ?, duration_secs = ?, has_poster = ?, updated_at = ?
             WHERE id = ? AND status = 'processing'",
        )
        .bind(renditions_json)
        .bind(duration)
        .bind(has_poster)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(DbError::from)
    }

    /// Records that a video still processing has nothing published (a new attempt starts, or
    /// one failed): no renditions, no poster.
    pub async fn clear_published(&self, id: &str) -> Result<(), DbError> {
        query(
            "UPDATE videos SET renditions = '[]', has_poster = FALSE, has_storyboard = FALSE, updated_at = ?
             WHERE id = ? AND status = 'processing'",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(DbError::from)
    }

    /// Records transcode progress (percent) of a video still processing.
    pub async fn set_progress(&self, id: &str, percent: f64) -> Result<(), DbError> {
        query("UPDATE videos SET progress = ?, updated_at = ? WHERE id = ? AND status = 'processing'")
            .bind(percent.clamp(0.0, 100.0))
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(DbError::from)
    }
}

/// Replaces the `video_tags` rows of a video.
/// Inside `tx`: the row of new video `v` (status `processing`; `uploading` while a resumable
/// upload is still arriving) with its tags, created at `now` (Unix ms).
pub(super) async fn insert_video(
    tx: &mut sqlx::AnyConnection,
    v: &NewVideo,
    uploading: bool,
    now: i64,
) -> Result<(), DbError> {
    query(
        "INSERT INTO videos (id, title, description, status, source_name, source_bytes, owner_id, privacy, tags, created_at, updated_at, uploading)
         VALUES (?, ?, ?, 'processing', ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(v.id.as_str())
    .bind(&v.title)
    .bind(&v.description)
    .bind(&v.source_name)
    .bind(v.source_bytes as i64)
    .bind(v.owner_id)
    .bind(v.privacy.as_str())
    .bind(v.tags.join(" "))
    .bind(now)
    .bind(now)
    .bind(uploading)
    .execute(&mut *tx)
    .await?;
    set_tags(tx, &v.id, &v.tags).await
}

/// Inside `tx`: queues the transcode job of video `id` (at most `max_attempts` attempts).
pub(super) async fn queue_transcode(
    tx: &mut sqlx::AnyConnection,
    id: &str,
    max_attempts: u32,
    now: i64,
) -> Result<(), DbError> {
    query(
        "INSERT INTO jobs (video_id, kind, state, max_attempts, run_after, created_at, updated_at)
         VALUES (?, 'transcode', 'queued', ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(i64::from(max_attempts))
    .bind(now)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub(super) async fn set_tags(tx: &mut sqlx::AnyConnection, video_id: &str, tags: &[String]) -> Result<(), DbError> {
    query("DELETE FROM video_tags WHERE video_id = ?")
        .bind(video_id)
        .execute(&mut *tx)
        .await?;
    for tag in tags {
        query("INSERT INTO video_tags (video_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .bind(video_id)
            .bind(tag)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}
