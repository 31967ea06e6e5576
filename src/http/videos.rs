//! `/api/videos`: upload (streamed multipart), list, read, cancel.

use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::app::AppState;
use crate::db::{NewVideo, VideoRecord, VideoStatus};
use crate::http::error::ApiError;
use crate::ids::{is_video_id, new_video_id};
use crate::media::playlist::Rendition;
use crate::storage::{StoreError, keys};

/// Longest accepted title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest accepted description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 5000;

/// A video as the API shows it.
#[derive(Debug, Serialize)]
pub struct VideoView {
    pub id: String,
    pub title: String,
    pub description: String,
    pub status: VideoStatus,
    /// Percent, 0–100.
    pub progress: f64,
    pub error: Option<String>,
    /// Seconds.
    pub duration: Option<f64>,
    pub renditions: Vec<Rendition>,
    /// URL of the multivariant playlist, once ready.
    pub hls_url: Option<String>,
    pub poster_url: Option<String>,
    /// URL of the original upload (supports Range).
    pub download_url: String,
    /// Bytes of the original upload.
    pub source_bytes: i64,
    /// RFC 3339.
    pub created_at: String,
}

impl From<VideoRecord> for VideoView {
    fn from(v: VideoRecord) -> Self {
        let ready = v.status == VideoStatus::Ready;
        let created = OffsetDateTime::from_unix_timestamp_nanos(i128::from(v.created_at) * 1_000_000)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_default();
        VideoView {
            hls_url: ready.then(|| format!("/hls/{}/master.m3u8", v.id)),
            poster_url: (ready && v.has_poster).then(|| format!("/media/{}/poster.jpg", v.id)),
            download_url: format!("/media/{}/original", v.id),
            id: v.id,
            title: v.title,
            description: v.description,
            status: v.status,
            progress: v.progress,
            error: v.error,
            duration: v.duration,
            renditions: v.renditions,
            source_bytes: v.source_bytes,
            created_at: created,
        }
    }
}

/// Query of `GET /api/videos`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Videos per page, 1–100 (default 24).
    pub per_page: Option<u32>,
}

/// Body of `GET /api/videos`.
#[derive(Debug, Serialize)]
pub struct VideoList {
    pub videos: Vec<VideoView>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
}

/// `GET /api/videos?page=&per_page=` — newest first.
pub async fn list(State(app): State<AppState>, Query(q): Query<ListQuery>) -> Result<Json<VideoList>, ApiError> {
    let page = q.page.unwrap_or(1).max(1);
    let per_page = q.per_page.unwrap_or(24).clamp(1, 100);
    let (videos, total) = app
        .db
        .list_videos(per_page, u64::from(page - 1) * u64::from(per_page))
        .await?;
    Ok(Json(VideoList {
        videos: videos.into_iter().map(VideoView::from).collect(),
        page,
        per_page,
        total,
    }))
}

/// `GET /api/videos/{id}`.
pub async fn get(State(app): State<AppState>, Path(id): Path<String>) -> Result<Json<VideoView>, ApiError> {
    Ok(Json(find(&app, &id).await?.into()))
}

/// `POST /api/videos/{id}/cancel` — stops an unfinished transcode (202), 409 when nothing runs.
pub async fn cancel(State(app): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    find(&app, &id).await?;
    if app.db.request_cancel(&id).await? {
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(ApiError::Conflict("the video is not being transcoded".into()))
    }
}

pub(crate) async fn find(app: &AppState, id: &str) -> Result<VideoRecord, ApiError> {
    if !is_video_id(id) {
        return Err(ApiError::NotFound);
    }
    app.db.video(id).await?.ok_or(ApiError::NotFound)
}

/// `POST /api/videos` — multipart with a `file` part and optional `title` and `description`
/// parts (any order). The file is streamed to storage as it arrives, never held in memory;
/// past `max_upload_bytes` the upload is discarded with 413. Answers 201 with the video, whose
/// transcode job is queued in the same transaction.
pub async fn create(
    State(app): State<AppState>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Result<(StatusCode, Json<VideoView>), ApiError> {
    let limit = app.config.max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit.saturating_add(1024 * 1024)) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let id = new_video_id();
    let key = keys::source(&id);
    let (mut title, mut description, mut file): (Option<String>, String, Option<(String, u64)>) =
        (None, String::new(), None);

    let result: Result<(), ApiError> = async {
        while let Some(mut field) = multipart.next_field().await.map_err(interrupted)? {
            match field.name() {
                Some("title") => {
                    title = Some(limited_text(
                        field.text().await.map_err(interrupted)?,
                        MAX_TITLE_CHARS,
                        "title",
                    )?)
                }
                Some("description") => {
                    description = limited_text(
                        field.text().await.map_err(interrupted)?,
                        MAX_DESCRIPTION_CHARS,
                        "description",
                    )?
                }
                Some("file") if file.is_none() => {
                    let name = field.file_name().unwrap_or("upload").to_string();
                    let mut writer = app.store.writer(&key).await.map_err(store_error)?;
                    loop {
                        let chunk = match field.chunk().await {
                            Ok(Some(c)) => c,
                            Ok(None) => break,
                            Err(e) => {
                                writer.abort().await;
                                return Err(interrupted(e));
                            }
                        };
                        if writer.len() + chunk.len() as u64 > limit {
                            writer.abort().await;
                            return Err(ApiError::PayloadTooLarge { limit });
                        }
                        if let Err(e) = writer.write(&chunk).await {
                            writer.abort().await;
                            return Err(store_error(e));
                        }
                    }
                    let bytes = writer.finish().await.map_err(store_error)?;
                    file = Some((name, bytes));
                }
                _ => {} // unknown parts are ignored
            }
        }
        Ok(())
    }
    .await;

    let stored = file.is_some();
    let outcome = match (result, file) {
        (Err(e), _) => Err(e),
        (Ok(()), None) => Err(ApiError::BadRequest(
            "the form has no `file` part: attach the video as `file`".into(),
        )),
        (Ok(()), Some((source_name, source_bytes))) => {
            let title = title
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| title_from_file_name(&source_name));
            let new = NewVideo {
                id: id.clone(),
                title,
                description,
                source_name,
                source_bytes,
            };
            match app.db.insert_video_with_job(&new, app.config.jobs.max_attempts).await {
                Ok(()) => Ok(new),
                Err(e) => Err(e.into()),
            }
        }
    };
    match outcome {
        Ok(_) => {
            app.wake_workers.notify_waiters();
            let video = find(&app, &id).await?;
            tracing::info!(video_id = id, bytes = video.source_bytes, "upload stored");
            Ok((StatusCode::CREATED, Json(video.into())))
        }
        Err(e) => {
            if stored {
                let _ = app.store.delete(&key).await;
            }
            Err(e)
        }
    }
}

fn interrupted(e: axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::BadRequest(format!(
        "the upload was interrupted or malformed ({}); nothing was kept — please upload again",
        e.body_text()
    ))
}

fn store_error(e: StoreError) -> ApiError {
    if is_disk_full(&e) {
        ApiError::InsufficientStorage
    } else {
        ApiError::Internal(e.into())
    }
}

/// True when a storage error comes from a full disk (ENOSPC).
fn is_disk_full(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::StorageFull
        {
            return true;
        }
        if err.to_string().contains("No space left on device") {
            return true;
        }
        cur = err.source();
    }
    false
}

fn limited_text(s: String, max: usize, what: &str) -> Result<String, ApiError> {
    if s.chars().count() > max {
        return Err(ApiError::BadRequest(format!(
            "the {what} is longer than {max} characters"
        )));
    }
    Ok(s.trim().to_string())
}

/// A title from an uploaded file's name: the stem, with separators turned into spaces.
pub fn title_from_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let stem = base
        .rsplit_once('.')
        .map(|(s, _)| s)
        .filter(|s| !s.is_empty())
        .unwrap_or(base);
    let title: String = stem
        .chars()
        .map(|c| if c == '_' || c == '-' || c.is_control() { ' ' } else { c })
        .take(MAX_TITLE_CHARS)
        .collect();
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.is_empty() { "Untitled".into() } else { title }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_come_from_file_names() {
        assert_eq!(title_from_file_name("bbb-720p_h264.mp4"), "bbb 720p h264");
        assert_eq!(title_from_file_name("C:\\Users\\me\\lecture 1.mov"), "lecture 1");
        assert_eq!(title_from_file_name(".mp4"), ".mp4");
        assert_eq!(title_from_file_name(""), "Untitled");
    }
}
