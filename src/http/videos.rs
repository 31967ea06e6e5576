//! `/api/videos`: upload (streamed multipart), list, read, edit, delete, cancel, and signed
//! playback. Who may do what is decided by [`crate::auth::policy`] alone.

use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::app::AppState;
use crate::auth::policy::{self, UploadDenied};
use crate::auth::{Principal, Privacy, playback};
use crate::db::{NewVideo, VideoFilter, VideoListing, VideoPatch, VideoRecord, VideoSort, VideoStatus, now_ms};
use crate::http::caller::Caller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::form_limit::{FormMeter, MAX_FORM_OVERHEAD_BYTES};
use crate::ids::{is_video_id, new_video_id};
use crate::media::playlist::Rendition;
use crate::storage::{StoreError, keys};

/// Longest accepted title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest accepted description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 5000;

/// A video as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
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
    /// URL of the original upload (supports Range); null when the caller may not watch.
    pub download_url: Option<String>,
    /// Bytes of the original upload.
    pub source_bytes: i64,
    /// RFC 3339.
    pub created_at: String,
    pub privacy: Privacy,
    /// Username of the uploader; null for operator imports.
    pub owner: Option<String>,
    /// True when the caller may edit and delete this video.
    pub can_edit: bool,
    /// Lowercase tags.
    pub tags: Vec<String>,
    /// Counted views (once per viewer per 24 h after 10 s of playback).
    pub views: i64,
    pub comments_enabled: bool,
}

/// Unix milliseconds → RFC 3339 (empty if out of range).
pub fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Where a caller fetches a video's media: plain URLs for a public video, URLs under a
/// playback grant (see [`playback`]) for others.
#[derive(Debug, Clone)]
pub struct MediaUrls {
    /// Path prefix of the ladder: `/hls/{id}` or `/hls/{id}/g/{grant}`.
    hls: String,
    /// Path prefix of poster and original: `/media/{id}` or `/media/{id}/g/{grant}`.
    media: String,
    /// Unix seconds when the grant expires; `None` for public videos.
    pub expires: Option<u64>,
}

impl MediaUrls {
    /// URLs for `video`, signing a grant when it is not public. The caller must already be
    /// allowed to watch it.
    pub fn new(app: &AppState, video: &VideoRecord, client: Option<IpAddr>) -> MediaUrls {
        if video.privacy == Privacy::Public {
            return MediaUrls {
                hls: format!("/hls/{}", video.id),
                media: format!("/media/{}", video.id),
                expires: None,
            };
        }
        let auth = &app.config.auth;
        let expires = (now_ms() / 1000) as u64 + auth.playback_grant_secs;
        let bind = if auth.bind_playback_to_ip { client } else { None };
        let grant = playback::issue(&app.keys, &video.id, video.grant_generation, expires, bind);
        MediaUrls {
            hls: format!("/hls/{}/g/{grant}", video.id),
            media: format!("/media/{}/g/{grant}", video.id),
            expires: Some(expires),
        }
    }

    /// The multivariant playlist.
    pub fn playlist(&self) -> String {
        format!("{}/master.m3u8", self.hls)
    }

    /// The poster image.
    pub fn poster(&self) -> String {
        format!("{}/poster.jpg", self.media)
    }

    /// The original upload.
    pub fn original(&self) -> String {
        format!("{}/original", self.media)
    }
}

impl VideoView {
    /// The video as `caller` sees it: media URLs only when they may watch it (signed when it
    /// is not public), `can_edit` from the policy.
    pub fn for_caller(app: &AppState, v: VideoRecord, caller: Option<&Principal>, client: Option<IpAddr>) -> VideoView {
        let acl = v.acl();
        let urls = policy::may_watch(caller, acl).then(|| MediaUrls::new(app, &v, client));
        let ready = v.status == VideoStatus::Ready;
        VideoView {
            hls_url: urls.as_ref().filter(|_| ready).map(MediaUrls::playlist),
            poster_url: urls.as_ref().filter(|_| ready && v.has_poster).map(MediaUrls::poster),
            download_url: urls.as_ref().map(MediaUrls::original),
            can_edit: policy::may_manage(caller, acl),
            created_at: rfc3339(v.created_at),
            privacy: v.privacy,
            owner: v.owner_name,
            tags: v.tags,
            views: v.views,
            comments_enabled: v.comments_enabled,
            id: v.id,
            title: v.title,
            description: v.description,
            status: v.status,
            progress: v.progress,
            error: v.error,
            duration: v.duration,
            renditions: v.renditions,
            source_bytes: v.source_bytes,
        }
    }
}

/// Paging of a listing.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1-based page number (default 1).
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 24; values outside are clamped).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// Body of `GET /api/videos`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VideoList {
    pub videos: Vec<VideoView>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
}

/// Query of `GET /api/videos`. (Paging fields are repeated rather than `#[serde(flatten)]`ed:
/// flattening makes serde_urlencoded hand numbers over as strings, which then fail.)
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LibraryQuery {
    /// Only videos with this tag (matched after the normalisation of [`crate::tags`]).
    #[param(pattern = r"^[\w-]{1,30}$")]
    pub tag: Option<String>,
    /// 1-based page number (default 1).
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 24; values outside are clamped).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// One page of `listing` as `caller` sees it.
pub(crate) async fn list_page(
    app: &AppState,
    listing: &VideoListing,
    q: ListQuery,
    caller: Option<&Principal>,
    client: IpAddr,
) -> Result<Json<VideoList>, ApiError> {
    let page = q.page.unwrap_or(1).max(1);
    let per_page = q.per_page.unwrap_or(24).clamp(1, 100);
    let (videos, total) = app
        .db
        .list_videos(listing, per_page, u64::from(page - 1) * u64::from(per_page))
        .await?;
    Ok(Json(VideoList {
        videos: videos
            .into_iter()
            .map(|v| VideoView::for_caller(app, v, caller, Some(client)))
            .collect(),
        page,
        per_page,
        total,
    }))
}

/// `GET /api/videos?page=&per_page=&tag=` — public videos (with `tag`, when given), newest
/// first.
#[utoipa::path(
    get,
    path = "/api/videos",
    tag = "videos",
    operation_id = "list_videos",
    params(LibraryQuery),
    responses((status = 200, description = "Public videos, newest first", body = VideoList), (status = 400, description = "A malformed query or too many tags", body = ErrorBody)),
    security((), ("bearer" = []), ("session" = []))
)]
pub async fn list(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    Query(q): Query<LibraryQuery>,
) -> Result<Json<VideoList>, ApiError> {
    let tag = match q.tag.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => Some(
            crate::tags::parse([t])
                .map_err(ApiError::BadRequest)?
                .into_iter()
                .next()
                .ok_or_else(|| ApiError::BadRequest("the tag is empty".into()))?,
        ),
        None => None,
    };
    let listing = VideoListing {
        filter: VideoFilter::Any,
        visible: policy::Listing::PublicOnly,
        tag,
        sort: VideoSort::Newest,
    };
    let paging = ListQuery {
        page: q.page,
        per_page: q.per_page,
    };
    list_page(&app, &listing, paging, caller.0.as_ref(), peer.ip()).await
}

/// `GET /api/me/videos?page=&per_page=` — the caller's own videos, newest first: every
/// privacy with the `read` scope, only public ones without it.
#[utoipa::path(
    get,
    path = "/api/me/videos",
    tag = "videos",
    operation_id = "list_my_videos",
    params(ListQuery),
    responses((status = 200, description = "The caller's videos (every privacy with `read`)", body = VideoList), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn list_mine(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<VideoList>, ApiError> {
    let who = caller.required()?;
    let listing = VideoListing {
        filter: VideoFilter::OwnedBy(who.user_id),
        visible: policy::listing_filter(Some(&who)),
        tag: None,
        sort: VideoSort::Newest,
    };
    list_page(&app, &listing, q, Some(&who), peer.ip()).await
}

/// `GET /api/videos/{id}` — 404 for a private video the caller may not see.
#[utoipa::path(
    get,
    path = "/api/videos/{id}",
    tag = "videos",
    operation_id = "get_video",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`")),
    responses((status = 200, description = "The video as the caller sees it", body = VideoView), (status = 404, description = "No such video, or the caller may not see it", body = ErrorBody)),
    security((), ("bearer" = []), ("session" = []))
)]
pub async fn get(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<VideoView>, ApiError> {
    let video = find_watchable(&app, &id, caller.0.as_ref()).await?;
    Ok(Json(VideoView::for_caller(
        &app,
        video,
        caller.0.as_ref(),
        Some(peer.ip()),
    )))
}

/// Answer of `GET /api/videos/{id}/playback`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Playback {
    /// The multivariant playlist to hand the player; signed unless the video is public.
    pub url: String,
    pub poster_url: Option<String>,
    /// RFC 3339 expiry of the grant; null for public videos (their URLs do not expire).
    pub expires_at: Option<String>,
}

/// `GET /api/videos/{id}/playback` — a playback URL for a caller allowed to watch: a
/// time-limited grant (HMAC-SHA256 over video id, expiry and optional IP binding) covering the
/// playlists, segments, poster and original. 404 when the caller may not see the video, 409
/// while it is not ready.
#[utoipa::path(
    get,
    path = "/api/videos/{id}/playback",
    tag = "videos",
    operation_id = "get_playback",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`")),
    responses((status = 200, description = "A playback URL (signed unless public)", body = Playback), (status = 404, description = "No such video, or the caller may not see it", body = ErrorBody), (status = 409, description = "The video is not ready", body = ErrorBody)),
    security((), ("bearer" = []), ("session" = []))
)]
pub async fn playback(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Playback>, ApiError> {
    let video = find_watchable(&app, &id, caller.0.as_ref()).await?;
    match video.status {
        VideoStatus::Ready => {}
        VideoStatus::Processing => return Err(ApiError::Conflict("the video is still processing".into())),
        VideoStatus::Failed => {
            return Err(ApiError::Conflict(
                "the video failed to process and cannot be played".into(),
            ));
        }
    }
    let urls = MediaUrls::new(&app, &video, Some(peer.ip()));
    Ok(Json(Playback {
        url: urls.playlist(),
        poster_url: video.has_poster.then(|| urls.poster()),
        expires_at: urls.expires.map(|s| rfc3339(s as i64 * 1000)),
    }))
}

/// Body of `PATCH /api/videos/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    /// 1–200 characters, not only spaces.
    #[schema(pattern = r"\S", max_length = 200)]
    pub title: Option<String>,
    /// At most 5000 characters.
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    #[schema(value_type = Option<Privacy>)]
    pub privacy: Option<String>,
    /// Replaces every tag: at most 10, each 1–30 letters, digits, `-` and `_` (stored
    /// lowercase; `#` and inner spaces are also accepted and normalised).
    #[schema(schema_with = crate::http::openapi::tag_list)]
    pub tags: Option<Vec<String>>,
    pub comments_enabled: Option<bool>,
}

/// `PATCH /api/videos/{id}` — owner or admin changes title, description, privacy, tags and
/// whether comments are open; 200 with the video. 400 on invalid values, 403 for others who can see it, 404 otherwise.
#[utoipa::path(
    patch,
    path = "/api/videos/{id}",
    tag = "videos",
    operation_id = "update_video",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`")),
    request_body(content = PatchBody, content_type = "application/json"),
    responses((status = 200, description = "The changed video", body = VideoView), (status = 400, description = "An invalid value", body = ErrorBody), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "The caller can see the video but not change it", body = ErrorBody), (status = 404, description = "No such video, or the caller may not see it", body = ErrorBody)),
    security(("bearer" = ["upload"]), ("session" = []))
)]
pub async fn patch(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<PatchBody>,
) -> Result<Json<VideoView>, ApiError> {
    let before = find_manageable(&app, &id, caller.0.as_ref()).await?;
    let title = match body.title {
        Some(t) => {
            let t = limited_text(t, MAX_TITLE_CHARS, "title")?;
            if t.is_empty() {
                return Err(ApiError::BadRequest("the title cannot be empty".into()));
            }
            Some(t)
        }
        None => None,
    };
    let patch = VideoPatch {
        title,
        description: body
            .description
            .map(|d| limited_text(d, MAX_DESCRIPTION_CHARS, "description"))
            .transpose()?,
        privacy: body
            .privacy
            .map(|p| Privacy::parse(&p).map_err(ApiError::BadRequest))
            .transpose()?,
        tags: body
            .tags
            .map(|t| crate::tags::parse(t.iter().map(String::as_str)).map_err(ApiError::BadRequest))
            .transpose()?,
        comments_enabled: body.comments_enabled,
    };
    app.db.update_video(&id, &patch).await?;
    let video = find(&app, &id).await?;
    if video.privacy != before.privacy {
        // Open live sockets re-check who may still watch (see live.rs).
        app.events.publish(
            &id,
            serde_json::json!({"type": "video.privacy", "privacy": video.privacy.as_str()}),
        );
    }
    Ok(Json(VideoView::for_caller(
        &app,
        video,
        caller.0.as_ref(),
        Some(peer.ip()),
    )))
}

/// `POST /api/videos/{id}/revoke-links` — owner (with the `upload` scope) or admin ends every
/// playback grant issued so far (shared signed links stop working at once; the pages and
/// `/playback` hand out new ones). 200 with the video (its URLs under a fresh grant); 401
/// signed out, 403 for others who can see it, 404 otherwise.
#[utoipa::path(
    post,
    path = "/api/videos/{id}/revoke-links",
    tag = "videos",
    operation_id = "revoke_video_links",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`")),
    responses((status = 200, description = "The video, its URLs under a fresh grant", body = VideoView), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "The caller can see the video but not change it", body = ErrorBody), (status = 404, description = "No such video, or the caller may not see it", body = ErrorBody)),
    security(("bearer" = ["upload"]), ("session" = []))
)]
pub async fn revoke_links(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<VideoView>, ApiError> {
    find_manageable(&app, &id, caller.0.as_ref()).await?;
    app.db.revoke_grants(&id).await?;
    let video = find(&app, &id).await?;
    tracing::info!(
        video_id = id,
        generation = video.grant_generation,
        "playback links revoked"
    );
    Ok(Json(VideoView::for_caller(
        &app,
        video,
        caller.0.as_ref(),
        Some(peer.ip()),
    )))
}

/// `DELETE /api/videos/{id}` — owner or admin; stops its transcode, deletes its rows and
/// every blob (source, ladder, poster). 204; 403 for others who can see it, 404 otherwise.
#[utoipa::path(
    delete,
    path = "/api/videos/{id}",
    tag = "videos",
    operation_id = "delete_video",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`")),
    responses((status = 204, description = "Deleted with its media"), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "The caller can see the video but not delete it", body = ErrorBody), (status = 404, description = "No such video, or the caller may not see it", body = ErrorBody)),
    security(("bearer" = ["upload"]), ("session" = []))
)]
pub async fn delete(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    find_manageable(&app, &id, caller.0.as_ref()).await?;
    app.db.request_cancel(&id).await?;
    app.db.delete_video(&id).await?;
    app.events.publish(&id, serde_json::json!({"type": "video.deleted"}));
    crate::jobs::remove_blobs(&app.store, &id).await?;
    tracing::info!(video_id = id, "video deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/videos/{id}/cancel` — owner or admin stops an unfinished transcode (202); 409
/// when nothing runs.
#[utoipa::path(
    post,
    path = "/api/videos/{id}/cancel",
    tag = "videos",
    operation_id = "cancel_transcode",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`")),
    responses((status = 202, description = "The transcode is being stopped"), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "The caller can see the video but not change it", body = ErrorBody), (status = 404, description = "No such video, or the caller may not see it", body = ErrorBody), (status = 409, description = "Nothing is being transcoded", body = ErrorBody)),
    security(("bearer" = ["upload"]), ("session" = []))
)]
pub async fn cancel(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    find_manageable(&app, &id, caller.0.as_ref()).await?;
    if app.db.request_cancel(&id).await? {
        // A queued job ends here and now (a running one ends at its worker, which says so).
        if let Some(v) = app.db.video(&id).await?
            && v.status == VideoStatus::Failed
        {
            app.events.publish(
                &id,
                serde_json::json!({"type": "video.failed", "error": v.error.unwrap_or_default()}),
            );
        }
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

/// The video, if `caller` may watch it; 404 otherwise (a private video's existence is not
/// revealed).
pub(crate) async fn find_watchable(
    app: &AppState,
    id: &str,
    caller: Option<&Principal>,
) -> Result<VideoRecord, ApiError> {
    let video = find(app, id).await?;
    if policy::may_watch(caller, video.acl()) {
        Ok(video)
    } else {
        Err(ApiError::NotFound)
    }
}

/// The video, if `caller` may edit it; 403 when they can see it but not change it (401 when
/// signed out), 404 when they cannot see it.
async fn find_manageable(app: &AppState, id: &str, caller: Option<&Principal>) -> Result<VideoRecord, ApiError> {
    // Signed out: 401 whether or not the video exists (nothing is revealed either way).
    if caller.is_none() {
        return Err(ApiError::Unauthorized(
            "sign in as the video's owner to change it".into(),
        ));
    }
    let video = find(app, id).await?;
    // Managing does not need watching: an upload-only token may still edit its own video.
    if policy::may_manage(caller, video.acl()) {
        return Ok(video);
    }
    if !policy::may_watch(caller, video.acl()) {
        return Err(ApiError::NotFound);
    }
    Err(ApiError::Forbidden(
        "only the video's owner or an administrator can change it".into(),
    ))
}

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
    let who = match policy::may_upload(caller.0.as_ref()) {
        Ok(()) => caller.0.expect("may_upload needs a principal"),
        Err(UploadDenied::SignedOut) => {
            return Err(ApiError::Unauthorized(
                "sign in to upload (or send an API token with the upload scope)".into(),
            ));
        }
        Err(UploadDenied::NotAllowed) => {
            return Err(ApiError::Forbidden(
                "this account (or token) cannot upload; ask an administrator for the uploader role".into(),
            ));
        }
    };
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
    let id = new_video_id();
    let key = keys::source(&id);
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
                    let mut writer = app.store.writer(&key).await.map_err(store_error)?;
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
                            return Err(store_error(e));
                        }
                    }
                    let bytes = writer.finish().await.map_err(store_error)?;
                    file = Some((name, bytes));
                }
                // Unknown parts are read and dropped, within the text-part size.
                _ => drop(small_text(&mut field, &meter).await?),
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
                owner_id: Some(who.user_id),
                privacy,
                tags: std::mem::take(&mut tags),
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
            Ok((
                StatusCode::CREATED,
                Json(VideoView::for_caller(&app, video, Some(&who), Some(peer.ip()))),
            ))
        }
        Err(e) => {
            if stored {
                let _ = app.store.delete(&key).await;
            }
            Err(e)
        }
    }
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
