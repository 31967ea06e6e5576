//! `POST /api/videos`: the upload form, streamed part by part into storage and recorded
//! through [`crate::ingest`], so a failure at any step leaves nothing behind.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::policy::{self, UploadDenied};
use crate::auth::{Principal, Privacy};
use crate::http::caller::Caller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::form_limit::{FormMeter, MAX_FORM_OVERHEAD_BYTES};
use crate::http::types::{VideoView, limited_text};
use crate::http::videos::find;
use crate::ingest::{PendingSource, SourceDetails};
use crate::video::{MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS, title_from_file_name};

/// The form of `POST /api/videos` (`multipart/form-data`), as the OpenAPI document shows it;
/// the handler reads the parts as they stream in.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The video (any container and codec ffmpeg reads), streamed to storage.
    #[schema(format = Binary, value_type = String)]
    file: Vec<u8>,
    /// At most 200 characters; default: from the file name.
    #[schema(required = false, max_length = 200)]
    title: String,
    /// At most 5000 characters.
    #[schema(required = false, max_length = 5000)]
    description: String,
    /// Default `auth.default_privacy`.
    #[schema(required = false)]
    privacy: Privacy,
    /// Comma-separated, at most 10, each 1–30 letters, digits, `-` and `_`.
    #[schema(required = false, pattern = r"^([\w-]{1,30}(,[\w-]{1,30}){0,9})?$")]
    tags: String,
}

/// `POST /api/videos` — multipart with a `file` part and optional `title`, `description`,
/// `privacy` and `tags` (comma-separated) parts (any order; put them before `file` — parts after it are still honoured).
/// Needs an uploader or admin (401 signed out, 403 otherwise). The file is streamed to storage as it arrives, never held in memory;
/// past `max_upload_bytes` the upload is discarded with 413. Answers 201 with the video, whose
/// transcode job is queued in the same transaction.
#[utoipa::path(
    post,
    path = "/api/videos",
    tag = "videos",
    operation_id = "upload_video",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "Stored; its transcode job is queued", body = VideoView, links(("GetVideo" = (operation_id = "get_video", parameters(("id" = "$response.body#/id")))), ("DeleteVideo" = (operation_id = "delete_video", parameters(("id" = "$response.body#/id")))), ("GetPlayback" = (operation_id = "get_playback", parameters(("id" = "$response.body#/id")))), ("CancelTranscode" = (operation_id = "cancel_transcode", parameters(("id" = "$response.body#/id")))), ("PostComment" = (operation_id = "post_comment", parameters(("id" = "$response.body#/id")))), ("SaveProgress" = (operation_id = "save_progress", parameters(("id" = "$response.body#/id")))))), (status = 400, description = "Not a multipart form, a missing `file` part, or an invalid field", body = ErrorBody), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "The account or token cannot upload", body = ErrorBody), (status = 413, description = "Larger than `max_upload_bytes`", body = ErrorBody), (status = 507, description = "The server storage is full", body = ErrorBody)),
    security(("bearer" = ["upload"]), ("session" = []))
)]
pub async fn create(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<VideoView>), Response> {
    store_upload(app, peer, caller, headers, body).await.map_err(|e| {
        // A refused upload's body is left unread: end the connection with the answer so the
        // client does not send its next request after the unread bytes (RFC 9112 §9.6).
        let mut resp = e.into_response();
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        resp
    })
}

async fn store_upload(
    app: AppState,
    peer: SocketAddr,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<VideoView>), ApiError> {
    let who = uploader(&caller)?;
    let mut privacy = app.config.auth.default_privacy;
    let mut tags: Vec<String> = Vec::new();
    let limit = app.config.max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit.saturating_add(1024 * 1024)) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let meter = FormMeter::default();
    let boundary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
        .ok_or_else(|| {
            ApiError::BadRequest(
                "send the upload as multipart/form-data (with a boundary), the video in a `file` part".into(),
            )
        })?;
    let mut multipart = multer::Multipart::new(meter.wrap(body).into_data_stream(), boundary);
    let broken = |e| interrupted(e, &meter);
    let source = PendingSource::new(&app.store);
    let (mut title, mut description, mut file): (Option<String>, String, Option<(String, u64)>) =
        (None, String::new(), None);

    let result: Result<(), ApiError> = async {
        while let Some(mut field) = multipart.next_field().await.map_err(broken)? {
            match field.name() {
                Some("title") => {
                    title = Some(limited_text(
                        small_text(&mut field, &meter).await?,
                        MAX_TITLE_CHARS,
                        "title",
                    )?)
                }
                Some("description") => {
                    description = limited_text(
                        small_text(&mut field, &meter).await?,
                        MAX_DESCRIPTION_CHARS,
                        "description",
                    )?
                }
                Some("tags") => {
                    let text = small_text(&mut field, &meter).await?;
                    tags = crate::tags::parse([text.as_str()]).map_err(ApiError::BadRequest)?
                }
                Some("privacy") => {
                    privacy = Privacy::parse(&small_text(&mut field, &meter).await?).map_err(ApiError::BadRequest)?
                }
                Some("file") if file.is_none() => {
                    let name = field.file_name().unwrap_or("upload").to_string();
                    let mut writer = app.store.writer(source.key()).await?;
                    loop {
                        let chunk = match field.chunk().await {
                            Ok(Some(c)) => c,
                            Ok(None) => break,
                            Err(e) => {
                                writer.abort().await;
                                return Err(broken(e));
                            }
                        };
                        meter.consumed(chunk.len());
                        if writer.len() + chunk.len() as u64 > limit {
                            writer.abort().await;
                            return Err(ApiError::PayloadTooLarge { limit });
                        }
                        if let Err(e) = writer.write(&chunk).await {
                            writer.abort().await;
                            return Err(e.into());
                        }
                    }
                    let bytes = writer.finish().await?;
                    file = Some((name, bytes));
                }
                // Unknown parts are read and dropped, within the text-part size.
                _ => drop(small_text(&mut field, &meter).await?),
            }
        }
        Ok(())
    }
    .await;

    let (source_name, source_bytes) = match (result, file) {
        (Err(e), _) => return Err(e),
        (Ok(()), None) => {
            return Err(ApiError::BadRequest(
                "the form has no `file` part: attach the video as `file`".into(),
            ));
        }
        (Ok(()), Some(file)) => file,
    };
    let title = title
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| title_from_file_name(&source_name));
    let details = SourceDetails {
        title,
        description,
        source_name,
        source_bytes,
        owner_id: Some(who.user_id),
        privacy,
        tags,
    };
    // Past this point the video exists; before it, dropping `source` removed what was stored.
    let id = source.record(&app.db, app.config.jobs.max_attempts, details).await?;
    app.wake_workers.notify_waiters();
    let video = find(&app, &id).await?;
    tracing::info!(video_id = %id, bytes = video.source_bytes, "upload stored");
    Ok((
        StatusCode::CREATED,
        Json(VideoView::for_caller(&app, video, Some(&who), Some(peer.ip()))),
    ))
}

/// Largest text part (title, description, tags, privacy) accepted in an upload form, bytes.
const MAX_TEXT_PART_BYTES: usize = 64 * 1024;

/// Reads a text part of the upload form, refusing (400) one larger than
/// [`MAX_TEXT_PART_BYTES`] before it is held in memory (the route has no body limit, for the
/// file's sake).
async fn small_text(field: &mut multer::Field<'_>, meter: &FormMeter) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| interrupted(e, meter))? {
        meter.consumed(chunk.len());
        if bytes.len() + chunk.len() > MAX_TEXT_PART_BYTES {
            return Err(ApiError::BadRequest(format!(
                "the form part `{}` is larger than {MAX_TEXT_PART_BYTES} bytes",
                field.name().unwrap_or("?")
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| ApiError::BadRequest("a text part of the form is not UTF-8".into()))
}

/// A failed form read: 400 naming the overhead bound when that was the cause
/// ([`crate::http::form_limit`]), else "interrupted or malformed".
fn interrupted(e: multer::Error, meter: &FormMeter) -> ApiError {
    if meter.tripped() {
        return ApiError::BadRequest(format!(
            "the upload form holds more than {MAX_FORM_OVERHEAD_BYTES} bytes outside its parts' contents \
             (part headers, boundaries); nothing was kept"
        ));
    }
    ApiError::BadRequest(format!(
        "the upload was interrupted or malformed ({}); nothing was kept — please upload again",
        e
    ))
}

/// The caller, if they may upload (the form here, resumable uploads in [`crate::http::tus`]):
/// 401 signed out, 403 without the `upload` scope.
pub(crate) fn uploader(caller: &Caller) -> Result<Principal, ApiError> {
    match policy::may_upload(caller.0.as_ref()) {
        Ok(()) => Ok(caller.0.clone().expect("may_upload needs a principal")),
        Err(UploadDenied::SignedOut) => Err(ApiError::Unauthorized(
            "sign in to upload (or send an API token with the upload scope)".into(),
        )),
        Err(UploadDenied::NotAllowed) => Err(ApiError::Forbidden(
            "this account (or token) cannot upload; ask an administrator for the uploader role".into(),
        )),
    }
}
