//! Captions of a video (`/api/videos/{id}/captions`): the owner uploads WebVTT or SRT files;
//! each becomes an HLS subtitle rendition (`subs_<id>/`, segmented WebVTT) listed in the
//! multivariant playlist, covered by the video's grants like the rest of its media.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Multipart, Path, State};
use axum::http::StatusCode;
use serde::Serialize;

use crate::app::AppState;
use crate::captions::dir;
use crate::db::VideoRecord;
use crate::db::captions::CaptionRecord;
use crate::http::caller::Caller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::types::{MediaUrls, rfc3339};
use crate::http::videos::{find_manageable, find_watchable};
use crate::media::captions::{self, MAX_BYTES};
use crate::storage::keys;
use crate::video::VideoStatus;

pub use crate::captions::MAX_TRACKS;

/// A caption track.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaptionView {
    pub id: i64,
    /// BCP 47 language tag, e.g. `en` or `pt-BR`.
    pub lang: String,
    /// What the captions menu shows.
    pub label: String,
    pub cues: i64,
    /// True for a track extracted from the uploaded file's own subtitle stream (false: an
    /// uploaded caption file).
    pub embedded: bool,
    /// Shown without being chosen (`FORCED=YES`): an extracted stream the source marks forced.
    pub forced: bool,
    /// RFC 3339.
    pub created_at: String,
    /// The whole track as one WebVTT file (signed like the video's other media).
    pub url: String,
}

/// Body of `GET /api/videos/{id}/captions`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaptionList {
    pub captions: Vec<CaptionView>,
}

fn view(c: CaptionRecord, urls: &MediaUrls) -> CaptionView {
    CaptionView {
        url: urls.hls_file(&format!("{}/{}", dir(c.id), captions::WHOLE)),
        id: c.id,
        lang: c.lang,
        label: c.label,
        cues: c.cues,
        embedded: c.source_stream.is_some(),
        forced: c.forced,
        created_at: rfc3339(c.created_at),
    }
}

/// `GET /api/videos/{id}/captions` — the video's caption tracks, for anyone who may watch it.
#[utoipa::path(
    get,
    path = "/api/videos/{id}/captions",
    tag = "videos",
    operation_id = "list_captions",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`")),
    responses((status = 200, description = "The caption tracks, oldest first", body = CaptionList), (status = 404, description = "No such video, or the caller may not see it", body = ErrorBody)),
    security((), ("bearer" = []), ("session" = []))
)]
pub async fn list(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CaptionList>, ApiError> {
    let video = find_watchable(&app, &id, caller.0.as_ref()).await?;
    let urls = MediaUrls::new(&app, &video, Some(peer.ip()));
    let captions = app
        .db
        .captions(&id)
        .await?
        .into_iter()
        .map(|c| view(c, &urls))
        .collect();
    Ok(Json(CaptionList { captions }))
}

/// The form of `POST /api/videos/{id}/captions`.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // the document's shape; the handler reads the parts as they come
pub struct CaptionForm {
    /// A WebVTT or SRT file, UTF-8, at most 1 MiB.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// BCP 47 language tag, e.g. `en`, `pt-BR`.
    #[schema(pattern = "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
    lang: String,
    /// What the captions menu shows, 1–50 characters.
    #[schema(min_length = 1, max_length = 50)]
    label: String,
}

/// True for a BCP 47-shaped language tag: a 2–3 letter language, then subtags of 2–8 letters
/// or digits (`en`, `pt-BR`, `zh-Hant`, `es-419`).
fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let Some(lang) = parts.next() else { return false };
    (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `POST /api/videos/{id}/captions` — the owner (or an admin, with `write`) adds a caption
/// track: multipart `file` (WebVTT or SRT, UTF-8, at most 1 MiB; SRT is converted), `lang` (a
/// BCP 47 tag) and `label` (1–50 characters). The video must be ready. 201 with the track;
/// 400 naming what is wrong (for a malformed file, its line: `captions line 12: …`); 409 while
/// the video is not ready, or past 20 tracks.
#[utoipa::path(
    post,
    path = "/api/videos/{id}/captions",
    tag = "videos",
    operation_id = "add_caption",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`")),
    request_body(content = CaptionForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "Added and published", body = CaptionView), (status = 400, description = "A missing field, a bad tag or label, or a malformed file (with its line)", body = ErrorBody), (status = 401, description = "Not signed in", body = ErrorBody), (status = 403, description = "Not the owner, or the token lacks `write`", body = ErrorBody), (status = 404, description = "No such video, or the caller may not see it", body = ErrorBody), (status = 409, description = "The video is not ready, or has 20 tracks", body = ErrorBody)),
    security(("bearer" = ["write"]), ("session" = []))
)]
pub async fn create(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    Path(id): Path<String>,
    mut form: Multipart,
) -> Result<(StatusCode, Json<CaptionView>), ApiError> {
    let who = caller.with_scope(crate::auth::Scope::Write)?;
    let video = find_manageable(&app, &id, Some(&who)).await?;
    if video.status != VideoStatus::Ready {
        return Err(ApiError::Conflict(
            "captions can be added once the video is ready".into(),
        ));
    }
    let (mut file, mut lang, mut label) = (None, None, None);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::BadRequest(format!("the form could not be read: {e}")))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| ApiError::BadRequest(format!("the form could not be read: {e}")))?;
        match name.as_str() {
            "file" => file = Some(bytes),
            "lang" => lang = Some(String::from_utf8_lossy(&bytes).trim().to_string()),
            "label" => label = Some(String::from_utf8_lossy(&bytes).trim().to_string()),
            _ => {}
        }
    }
    let file = file.ok_or_else(|| ApiError::BadRequest("the form needs a `file` part (WebVTT or SRT)".into()))?;
    let lang = lang.unwrap_or_default();
    if !is_language_tag(&lang) {
        return Err(ApiError::BadRequest(format!(
            "lang must be a BCP 47 language tag like `en` or `pt-BR` (got {lang:?})"
        )));
    }
    let label = label.unwrap_or_default();
    if label.is_empty() || label.chars().count() > 50 || label.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "label must be 1–50 characters, none of them control characters".into(),
        ));
    }
    if file.len() > MAX_BYTES {
        return Err(ApiError::BadRequest(format!(
            "a caption file may be at most {MAX_BYTES} bytes"
        )));
    }
    let cues = captions::parse(&file).map_err(|e| ApiError::BadRequest(format!("captions {e}")))?;
    if app.db.captions(&id).await?.len() >= MAX_TRACKS {
        return Err(ApiError::Conflict(format!(
            "a video has at most {MAX_TRACKS} caption tracks"
        )));
    }
    let cid = app
        .db
        .insert_caption(&id, &lang, &label, cues.len() as i64, None, false)
        .await?;
    if let Err(e) = publish(&app, &video, cid, &cues).await {
        let _ = app.db.delete_caption(&id, cid).await;
        let _ = app.store.delete_prefix(&keys::hls(&id, &dir(cid))).await;
        return Err(e);
    }
    let urls = MediaUrls::new(&app, &video, Some(peer.ip()));
    let record = app
        .db
        .captions(&id)
        .await?
        .into_iter()
        .find(|c| c.id == cid)
        .ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(view(record, &urls))))
}

/// Stores the track's rendition and the multivariant playlist that lists it.
async fn publish(app: &AppState, video: &VideoRecord, cid: i64, cues: &[captions::Cue]) -> Result<(), ApiError> {
    let duration = video.duration.unwrap_or_else(|| cues.last().map_or(0.0, |c| c.end));
    crate::captions::publish_track(&app.store, &video.id, cid, cues, duration)
        .await
        .map_err(ApiError::Internal)?;
    republish_multivariant(app, video).await
}

/// Rewrites the video's multivariant playlist with its caption tracks now.
pub async fn republish_multivariant(app: &AppState, video: &VideoRecord) -> Result<(), ApiError> {
    crate::captions::publish_multivariant(&app.db, &app.store, &video.id, &video.renditions)
        .await
        .map_err(ApiError::Internal)
}

/// `DELETE /api/videos/{id}/captions/{cid}` — the owner (or an admin, with `write`) removes a
/// caption track and its files; 204, 404 when there is no such track.
#[utoipa::path(
    delete,
    path = "/api/videos/{id}/captions/{cid}",
    tag = "videos",
    operation_id = "delete_caption",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`"), ("cid" = i64, Path, description = "Caption track id")),
    responses((status = 204, description = "Removed"), (status = 401, description = "Not signed in", body = ErrorBody), (status = 403, description = "Not the owner, or the token lacks `write`", body = ErrorBody), (status = 404, description = "No such video or track", body = ErrorBody)),
    security(("bearer" = ["write"]), ("session" = []))
)]
pub async fn delete(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, cid)): Path<(String, i64)>,
) -> Result<StatusCode, ApiError> {
    let who = caller.with_scope(crate::auth::Scope::Write)?;
    let video = find_manageable(&app, &id, Some(&who)).await?;
    if !app.db.captions(&id).await?.iter().any(|c| c.id == cid) {
        return Err(ApiError::NotFound);
    }
    // Files first: their requests are not checked against the database, so a track whose row
    // went but whose files stayed would stay readable. A failure here changes nothing listed.
    app.store
        .delete_prefix(&keys::hls(&id, &dir(cid)))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    app.db.delete_caption(&id, cid).await?;
    republish_multivariant(&app, &video).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags() {
        for ok in ["en", "pt-BR", "zh-Hant", "es-419", "fil"] {
            assert!(is_language_tag(ok), "{ok}");
        }
        for bad in ["", "e", "english", "en_US", "en-", "en-x", "1a"] {
            assert!(!is_language_tag(bad), "{bad}");
        }
    }
}
