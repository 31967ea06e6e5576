//! Resumable uploads: the tus 1.0.0 protocol (<https://tus.io/protocols/resumable-upload>) at
//! `/api/uploads/`, with the `creation`, `creation-with-upload`, `termination`, `expiration`
//! and `checksum` (sha256) extensions. Authorised exactly like `POST /api/videos`.
//!
//! The video exists from the creation request on (status `uploading`, seen by its owner and
//! administrators only); its id is in `Kino-Video-Id` on every answer. Each PATCH stores its
//! bytes as one chunk blob (`uploads/{id}/{n}`) and advances the offset in the database, so
//! any node takes the next PATCH. A PATCH cut short keeps what arrived (unless it carried a
//! checksum), so the client resumes from there. The last byte joins the chunks into the
//! source and queues the transcode in one transaction. Unfinished uploads expire after
//! `uploads.expire_hours`.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures::StreamExt;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::auth::Privacy;
use crate::db::{NewVideo, UploadRecord, now_ms};
use crate::events::VideoEvent;
use crate::http::caller::Caller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::types::limited_text;
use crate::http::upload::uploader;
use crate::ids::VideoId;
use crate::storage::keys;
use crate::video::{MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS, title_from_file_name};

/// The protocol version spoken.
pub const TUS_VERSION: &str = "1.0.0";
/// The extensions supported (`Tus-Extension`).
pub const TUS_EXTENSIONS: &str = "creation,creation-with-upload,termination,expiration,checksum";
/// The body type of PATCH (and of a creation with upload).
const OFFSET_STREAM: &str = "application/offset+octet-stream";
/// Non-standard status of the checksum extension: the bytes do not match `Upload-Checksum`.
const CHECKSUM_MISMATCH: u16 = 460;

fn h(name: &'static str) -> HeaderName {
    HeaderName::from_static(name)
}

/// An answer with the headers every tus response carries.
fn tus(status: StatusCode, headers: &[(&'static str, String)]) -> Response {
    let mut resp = status.into_response();
    let map = resp.headers_mut();
    map.insert(h("tus-resumable"), HeaderValue::from_static(TUS_VERSION));
    map.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            map.insert(h(name), v);
        }
    }
    resp
}

/// An error answer (JSON) that still says `Tus-Resumable`.
fn refuse(e: ApiError) -> Response {
    let mut resp = e.into_response();
    resp.headers_mut()
        .insert(h("tus-resumable"), HeaderValue::from_static(TUS_VERSION));
    resp
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The 412 answer when the client does not speak our version (tus §2.2, `Tus-Resumable`).
fn version_refused(headers: &HeaderMap) -> Option<Response> {
    if header_str(headers, "tus-resumable") == Some(TUS_VERSION) {
        return None;
    }
    let mut resp = refuse(ApiError::PreconditionFailed(format!(
        "send `Tus-Resumable: {TUS_VERSION}`: this server speaks tus {TUS_VERSION}"
    )));
    resp.headers_mut()
        .insert(h("tus-version"), HeaderValue::from_static(TUS_VERSION));
    Some(resp)
}

/// `Upload-Expires` (RFC 9110 HTTP-date) for a Unix-ms instant.
fn http_date(ms: i64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64))
}

/// `OPTIONS /api/uploads` — what this server supports (tus §2.3).
#[utoipa::path(
    options,
    path = "/api/uploads",
    tag = "uploads",
    operation_id = "tus_options",
    responses((status = 204, description = "`Tus-Version`, `Tus-Extension`, `Tus-Max-Size` (bytes) and `Tus-Checksum-Algorithm` headers"))
)]
pub async fn options(State(app): State<AppState>) -> Response {
    tus(
        StatusCode::NO_CONTENT,
        &[
            ("tus-version", TUS_VERSION.into()),
            ("tus-extension", TUS_EXTENSIONS.into()),
            ("tus-max-size", app.config.max_upload_bytes.to_string()),
            ("tus-checksum-algorithm", "sha256".into()),
        ],
    )
}

/// What `Upload-Metadata` may say of the new video.
#[derive(Debug, Default)]
struct Metadata {
    filename: Option<String>,
    title: Option<String>,
    description: Option<String>,
    privacy: Option<String>,
    tags: Option<String>,
}

/// Parses `Upload-Metadata`: comma-separated `key base64value` pairs (tus §3.1, creation).
fn parse_metadata(raw: &str) -> Result<Metadata, String> {
    let mut m = Metadata::default();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
        let value = STANDARD
            .decode(value.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| format!("Upload-Metadata: the value of {key:?} is not base64 of UTF-8 text"))?;
        let slot = match key {
            "filename" | "name" => &mut m.filename,
            "title" => &mut m.title,
            "description" => &mut m.description,
            "privacy" => &mut m.privacy,
            "tags" => &mut m.tags,
            _ => continue, // other keys (filetype, …) are the client's own
        };
        *slot = Some(value);
    }
    Ok(m)
}

/// `POST /api/uploads` — creates an upload of `Upload-Length` bytes and its video (tus
/// creation; with an `application/offset+octet-stream` body, creation-with-upload).
#[utoipa::path(
    post,
    path = "/api/uploads",
    tag = "uploads",
    operation_id = "tus_create",
    params(
        ("Tus-Resumable" = String, Header, description = "`1.0.0`"),
        ("Upload-Length" = u64, Header, description = "The file's size, bytes"),
        ("Upload-Metadata" = Option<String>, Header, description = "`key base64value` pairs: `filename`, `title`, `description`, `privacy`, `tags`")
    ),
    responses(
        (status = 201, description = "Created: `Location` is the upload's URL, `Kino-Video-Id` the video's id, `Upload-Expires` when an unfinished upload is removed"),
        (status = 400, description = "A missing or malformed header, or metadata breaking the upload form's rules", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The account or token cannot upload", body = ErrorBody),
        (status = 412, description = "Another tus version", body = ErrorBody),
        (status = 413, description = "Larger than `max_upload_bytes`", body = ErrorBody)
    ),
    security(("bearer" = ["upload"]), ("session" = []))
)]
pub async fn create(
    State(app): State<AppState>,
    ConnectInfo(_peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(resp) = version_refused(&headers) {
        return resp;
    }
    let result = async {
        let who = uploader(&caller)?;
        let length: u64 = header_str(&headers, "upload-length")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| {
                ApiError::BadRequest("send `Upload-Length` (bytes); deferred lengths are not supported".into())
            })?;
        if length > app.config.max_upload_bytes {
            return Err(ApiError::PayloadTooLarge {
                limit: app.config.max_upload_bytes,
            });
        }
        let meta = parse_metadata(header_str(&headers, "upload-metadata").unwrap_or_default())
            .map_err(ApiError::BadRequest)?;
        let source_name = meta.filename.unwrap_or_else(|| "upload".into());
        let title = match meta.title.filter(|t| !t.trim().is_empty()) {
            Some(t) => limited_text(t, MAX_TITLE_CHARS, "title")?,
            None => title_from_file_name(&source_name),
        };
        let description = limited_text(
            meta.description.unwrap_or_default(),
            MAX_DESCRIPTION_CHARS,
            "description",
        )?;
        let privacy = match meta.privacy {
            Some(p) => Privacy::parse(&p).map_err(ApiError::BadRequest)?,
            None => app.config.auth.default_privacy,
        };
        let tags = match meta.tags {
            Some(t) => crate::tags::parse([t.as_str()]).map_err(ApiError::BadRequest)?,
            None => Vec::new(),
        };
        let id = VideoId::new();
        let expires_at = now_ms() + (app.config.uploads.expire_hours * 3_600_000.0) as i64;
        let video = NewVideo {
            id: id.clone(),
            title,
            description,
            source_name,
            source_bytes: 0,
            owner_id: Some(who.user_id),
            privacy,
            tags,
        };
        app.db.create_upload(&video, length, expires_at).await?;
        tracing::info!(video_id = %id, length, "resumable upload created");
        if length == 0 {
            complete_detached(&app, &id).await?;
        }
        Ok((id, expires_at))
    }
    .await;
    let (id, expires_at) = match result {
        Ok(created) => created,
        Err(e) => return refuse(e),
    };
    let mut offset = 0;
    if header_str(&headers, "content-type").is_some_and(|t| t.starts_with(OFFSET_STREAM)) {
        match app.db.upload(&id).await {
            Ok(Some(upload)) => match append(&app, &upload, &headers, body, Some(0)).await {
                Ok(n) => offset = n,
                Err(e) => return with_video_id(refuse(e), &id),
            },
            Ok(None) => {}
            Err(e) => return refuse(e.into()),
        }
    }
    let mut out = vec![
        ("location", format!("/api/uploads/{id}")),
        ("kino-video-id", id.to_string()),
        ("upload-offset", offset.to_string()),
    ];
    if app.db.upload(&id).await.ok().flatten().is_some() {
        out.push(("upload-expires", http_date(expires_at)));
    }
    tus(StatusCode::CREATED, &out)
}

fn with_video_id(mut resp: Response, id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(id) {
        resp.headers_mut().insert(h("kino-video-id"), v);
    }
    resp
}

/// The upload of video `id` if `caller` may continue it (its owner, or an administrator);
/// 404 for anyone else, as for an unknown id.
async fn own_upload(app: &AppState, caller: &Caller, id: &str) -> Result<UploadRecord, ApiError> {
    let who = uploader(caller)?;
    let upload = match VideoId::parse(id) {
        Some(id) => app.db.upload(&id).await?,
        None => None,
    };
    match upload {
        Some(u) if who.is_admin() || u.owner_id == Some(who.user_id) => Ok(u),
        _ => Err(ApiError::Missing(
            "no such upload in progress: it finished, expired, was cancelled, or is not yours".into(),
        )),
    }
}

/// `HEAD /api/uploads/{id}` — how much has arrived (`Upload-Offset`) of `Upload-Length`.
#[utoipa::path(
    head,
    path = "/api/uploads/{id}",
    tag = "uploads",
    operation_id = "tus_offset",
    params(("id" = String, Path, description = "The video id"), ("Tus-Resumable" = String, Header, description = "`1.0.0`")),
    responses(
        (status = 200, description = "`Upload-Offset` and `Upload-Length` (bytes), `Upload-Expires`"),
        (status = 404, description = "No such upload in progress of the caller's")
    ),
    security(("bearer" = ["upload"]), ("session" = []))
)]
pub async fn head(State(app): State<AppState>, caller: Caller, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Some(resp) = version_refused(&headers) {
        return resp;
    }
    match own_upload(&app, &caller, &id).await {
        Ok(u) => tus(
            StatusCode::OK,
            &[
                ("upload-offset", u.received.to_string()),
                ("upload-length", u.length.to_string()),
                ("upload-expires", http_date(u.expires_at)),
                ("kino-video-id", u.video_id.to_string()),
            ],
        ),
        Err(e) => refuse(e),
    }
}

/// `PATCH /api/uploads/{id}` — appends the body at `Upload-Offset`; the last byte queues the
/// transcode.
#[utoipa::path(
    patch,
    path = "/api/uploads/{id}",
    tag = "uploads",
    operation_id = "tus_append",
    params(
        ("id" = String, Path, description = "The video id"),
        ("Tus-Resumable" = String, Header, description = "`1.0.0`"),
        ("Upload-Offset" = u64, Header, description = "Where these bytes go: the offset the server last reported"),
        ("Upload-Checksum" = Option<String>, Header, description = "`sha256 BASE64` of this request's bytes")
    ),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses(
        (status = 204, description = "Stored: the new `Upload-Offset`"),
        (status = 400, description = "A missing or malformed header", body = ErrorBody),
        (status = 404, description = "No such upload in progress of the caller's", body = ErrorBody),
        (status = 409, description = "`Upload-Offset` is not the server's offset: ask with HEAD", body = ErrorBody),
        (status = 413, description = "More bytes than `Upload-Length` leaves", body = ErrorBody),
        (status = 415, description = "Not `application/offset+octet-stream`", body = ErrorBody),
        (status = 460, description = "The bytes do not match `Upload-Checksum`; nothing was kept", body = ErrorBody)
    ),
    security(("bearer" = ["upload"]), ("session" = []))
)]
pub async fn patch(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(resp) = version_refused(&headers) {
        return resp;
    }
    if !header_str(&headers, "content-type").is_some_and(|t| t.starts_with(OFFSET_STREAM)) {
        return refuse(ApiError::UnsupportedMediaType(format!(
            "send the bytes as `Content-Type: {OFFSET_STREAM}`"
        )));
    }
    let upload = match own_upload(&app, &caller, &id).await {
        Ok(u) => u,
        Err(e) => return refuse(e),
    };
    match append(&app, &upload, &headers, body, None).await {
        Ok(offset) => {
            let mut out = vec![
                ("upload-offset", offset.to_string()),
                ("kino-video-id", upload.video_id.to_string()),
            ];
            if offset < upload.length {
                out.push(("upload-expires", http_date(upload.expires_at)));
            }
            tus(StatusCode::NO_CONTENT, &out)
        }
        Err(e) => with_video_id(refuse(e), &upload.video_id),
    }
}

/// Stores the body as the upload's next chunk and returns the new offset; completes the
/// upload when it was the last byte.
/// A creation with upload implies offset 0 (`implied`); a PATCH must say `Upload-Offset`.
async fn append(
    app: &AppState,
    upload: &UploadRecord,
    headers: &HeaderMap,
    body: Body,
    implied: Option<u64>,
) -> Result<u64, ApiError> {
    let offset: u64 = header_str(headers, "upload-offset")
        .and_then(|v| v.parse().ok())
        .or(implied)
        .ok_or_else(|| ApiError::BadRequest("send `Upload-Offset` (bytes already stored)".into()))?;
    if offset != upload.received {
        return Err(ApiError::Conflict(format!(
            "Upload-Offset is {offset} but the server has {} bytes: ask with HEAD and resume from there",
            upload.received
        )));
    }
    if upload.received == upload.length {
        // Every byte is here but the completion did not finish (a node stopped, the join
        // failed): finish it now.
        complete_detached(app, &upload.video_id).await?;
        return Ok(upload.length);
    }
    let room = upload.length - upload.received;
    if header_str(headers, "content-length")
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > room)
    {
        return Err(ApiError::PayloadTooLarge { limit: upload.length });
    }
    let expected_sum = match header_str(headers, "upload-checksum") {
        None => None,
        Some(v) => match v.split_once(' ') {
            Some(("sha256", sum)) => Some(
                STANDARD
                    .decode(sum.trim())
                    .map_err(|_| ApiError::BadRequest("Upload-Checksum: the sha256 value is not base64".into()))?,
            ),
            _ => {
                return Err(ApiError::BadRequest(
                    "Upload-Checksum: only `sha256 BASE64` is supported".into(),
                ));
            }
        },
    };

    let key = keys::upload_chunk(&upload.video_id, upload.chunks, &crate::ids::random_token());
    let mut writer = app.store.writer(&key).await?;
    let mut hasher = Sha256::new();
    let mut stored: u64 = 0;
    let mut stream = body.into_data_stream();
    let mut cut_short = None;
    while let Some(piece) = stream.next().await {
        let piece = match piece {
            Ok(p) => p,
            Err(e) => {
                cut_short = Some(e);
                break;
            }
        };
        if stored + piece.len() as u64 > room {
            writer.abort().await;
            return Err(ApiError::PayloadTooLarge { limit: upload.length });
        }
        hasher.update(&piece);
        if let Err(e) = writer.write(&piece).await {
            writer.abort().await;
            return Err(e.into());
        }
        stored += piece.len() as u64;
    }
    let checksum_failed = expected_sum
        .as_ref()
        .is_some_and(|sum| hasher.finalize().as_slice() != sum.as_slice());
    // A checksummed PATCH is all or nothing; an empty one changes nothing.
    if stored == 0 || checksum_failed || (cut_short.is_some() && expected_sum.is_some()) {
        writer.abort().await;
        if checksum_failed && cut_short.is_none() {
            return Err(ApiError::Status {
                status: CHECKSUM_MISMATCH,
                message: "the bytes do not match Upload-Checksum; nothing was kept: send them again".into(),
            });
        }
        return match cut_short {
            Some(e) => Err(ApiError::BadRequest(format!(
                "the request body was cut short ({e}); nothing was kept"
            ))),
            None => Ok(upload.received),
        };
    }
    writer.finish().await?;
    if !app
        .db
        .append_upload(&upload.video_id, upload.received, upload.chunks, key.as_ref(), stored)
        .await?
    {
        let _ = app.store.delete(&key).await;
        return Err(ApiError::Conflict(
            "another request changed this upload meanwhile: ask with HEAD and resume from there".into(),
        ));
    }
    let offset = upload.received + stored;
    if let Some(e) = cut_short {
        // Kept, and answered as stored: the client (if still there) resumes from `offset`,
        // which its next HEAD also says. An error status here would make tus clients give up.
        tracing::info!(video_id = %upload.video_id, offset, error = %e, "upload request cut short; kept what arrived");
        return Ok(offset);
    }
    if offset == upload.length {
        complete_detached(app, &upload.video_id).await?;
    }
    Ok(offset)
}

/// Runs [`complete`] in a task of its own, so a client that disconnects while the chunks are
/// being joined does not cancel the join; waits for it.
async fn complete_detached(app: &AppState, id: &VideoId) -> Result<(), ApiError> {
    let (app, id) = (app.clone(), id.clone());
    tokio::spawn(async move { complete(&app, &id).await })
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
}

/// Joins the chunks of the complete upload of `id` into its source and queues the transcode.
/// Does nothing when the upload is not complete or already finished; safe to run twice.
async fn complete(app: &AppState, id: &VideoId) -> Result<(), ApiError> {
    let Some(upload) = app.db.upload(id).await? else {
        return Ok(());
    };
    if upload.received != upload.length {
        return Ok(());
    }
    let parts: Vec<_> = upload
        .chunk_keys
        .iter()
        .map(|k| object_store::path::Path::from(k.as_str()))
        .collect();
    let bytes = app.store.concat(&parts, &keys::source(id)).await?;
    if bytes != upload.length {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "upload {id}: the chunks hold {bytes} bytes, not {}",
            upload.length
        )));
    }
    if app.db.finish_upload(id, app.config.jobs.max_attempts).await? {
        app.wake_workers.notify_waiters();
        tracing::info!(video_id = %id, bytes, "resumable upload complete; transcode queued");
    }
    if let Err(e) = app.store.delete_prefix(&keys::upload_prefix(id)).await {
        tracing::warn!(video_id = %id, error = %e, "could not remove the chunks of a finished upload");
    }
    Ok(())
}

/// `DELETE /api/uploads/{id}` — ends an unfinished upload: its video and bytes are removed
/// (tus termination).
#[utoipa::path(
    delete,
    path = "/api/uploads/{id}",
    tag = "uploads",
    operation_id = "tus_terminate",
    params(("id" = String, Path, description = "The video id"), ("Tus-Resumable" = String, Header, description = "`1.0.0`")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such upload in progress of the caller's", body = ErrorBody)
    ),
    security(("bearer" = ["upload"]), ("session" = []))
)]
pub async fn terminate(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(resp) = version_refused(&headers) {
        return resp;
    }
    let upload = match own_upload(&app, &caller, &id).await {
        Ok(u) => u,
        Err(e) => return refuse(e),
    };
    match remove(&app, &upload.video_id).await {
        Ok(true) => tus(StatusCode::NO_CONTENT, &[]),
        Ok(false) => refuse(ApiError::Missing(
            "the upload finished meanwhile: delete the video instead".into(),
        )),
        Err(e) => refuse(e),
    }
}

/// Removes an unfinished upload's video and chunks. False (nothing removed) when the upload
/// finished meanwhile.
async fn remove(app: &AppState, id: &VideoId) -> Result<bool, ApiError> {
    if !app.db.delete_unfinished_upload(id).await? {
        return Ok(false);
    }
    app.videos.forget(id);
    app.events.publish(id, VideoEvent::VideoDeleted);
    app.store
        .delete_prefix(&keys::upload_prefix(id))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(true)
}

/// Until `stop`, every 5 minutes (or every half expiry time when that is shorter, at least
/// every second): removes uploads left unfinished past their expiry, and completes uploads
/// whose every byte arrived but whose completion was cut off.
pub async fn expire_uploads(app: AppState, stop: tokio_util::sync::CancellationToken) {
    let half_expiry = app.config.uploads.expire_hours * 1800.0;
    let period = std::time::Duration::from_secs_f64(half_expiry.clamp(1.0, 300.0));
    let mut every = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.cancelled() => return,
        }
        match app.db.expired_uploads(now_ms(), 100).await {
            Ok(ids) => {
                for id in ids.iter().filter_map(|id| VideoId::parse(id)) {
                    match remove(&app, &id).await {
                        Ok(true) => tracing::info!(video_id = %id, "unfinished upload expired and removed"),
                        Ok(false) => {}
                        Err(e) => tracing::warn!(video_id = %id, error = %e, "could not remove an expired upload"),
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not list expired uploads"),
        }
        // Complete uploads whose completion was cut off (a node stopped mid-join).
        if let Ok(ids) = app.db.complete_uploads_pending(100).await {
            for id in ids.iter().filter_map(|id| VideoId::parse(id)) {
                if let Err(e) = complete(&app, &id).await {
                    tracing::warn!(video_id = %id, error = %e, "could not complete an uploaded video");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_pairs_decode() {
        let m = parse_metadata("filename bGVjdHVyZS5tcDQ=,title,privacy cHJpdmF0ZQ==, filetype dmlkZW8vbXA0").unwrap();
        assert_eq!(m.filename.as_deref(), Some("lecture.mp4"));
        assert_eq!(m.title.as_deref(), Some(""));
        assert_eq!(m.privacy.as_deref(), Some("private"));
        assert!(parse_metadata("title !!!").unwrap_err().contains("title"));
    }
}
