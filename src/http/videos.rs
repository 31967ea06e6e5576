//! `/api/videos`: list, read, edit, delete, cancel, revoke links, and signed playback (the
//! upload is [`crate::http::upload`]). Who may do what is decided by [`crate::auth::policy`] alone.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::playback::GrantError;
use crate::auth::policy::{self};
use crate::auth::{Principal, Privacy};
use crate::db::{VideoFilter, VideoListing, VideoPatch, VideoRecord, VideoSort, VideoStatus};
use crate::events::VideoEvent;
use crate::http::caller::Caller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::types::{ListQuery, MediaUrls, VideoList, VideoView, limited_text, list_page, rfc3339};
use crate::ids::is_video_id;

pub use crate::video::{MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS, title_from_file_name};

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
    /// `true`: only live streams broadcasting now ("Live now").
    pub live: Option<bool>,
}

/// `GET /api/videos?page=&per_page=&tag=&live=` — public videos (with `tag`, when given), newest
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
        filter: if q.live == Some(true) {
            VideoFilter::LiveNow
        } else {
            VideoFilter::Any
        },
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

/// `GET /api/videos/{id}` — 404 for a private video the caller may not see (unless a valid
/// `grant` of it is given: a private embed link's).
#[utoipa::path(
    get,
    path = "/api/videos/{id}",
    tag = "videos",
    operation_id = "get_video",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`"), GrantQuery),
    responses((status = 200, description = "The video as the caller sees it", body = VideoView), (status = 403, description = "The grant given expired or was revoked", body = ErrorBody), (status = 404, description = "No such video, or the caller may not see it", body = ErrorBody)),
    security((), ("bearer" = []), ("session" = []))
)]
pub async fn get(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<GrantQuery>,
) -> Result<Json<VideoView>, ApiError> {
    let (video, granted) = find_watchable_or_granted(&app, &id, caller.0.as_ref(), q.grant.as_deref(), peer).await?;
    Ok(Json(match granted {
        // An embed link plays the video; it does not offer the original for download.
        Some(urls) => VideoView {
            download_url: None,
            ..VideoView::with_urls(&app, video, None, Some(urls))
        },
        None => VideoView::for_caller(&app, video, caller.0.as_ref(), Some(peer.ip())),
    }))
}

/// Query of `GET /api/videos/{id}` and `GET /api/videos/{id}/playback`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GrantQuery {
    /// A playback grant of this video, as a private embed link carries it
    /// (`POST /api/videos/{id}/embed-link`): it lets a viewer who may not otherwise see the
    /// video read and play it until the grant expires or the owner revokes the video's links.
    /// Ignored when the caller may watch anyway.
    #[param(max_length = 400)]
    pub grant: Option<String>,
}

/// The video, for a caller allowed to watch it (`None`: give them fresh URLs) or, failing
/// that, for the holder of a valid playback `grant` of it (`Some`: the URLs under that grant).
///
/// Errors: 404 when the caller may not watch and the grant is absent or not one of Kino's
/// (a private video does not exist for them), or for another video; 403 naming why for a
/// genuine grant of this video that expired or was revoked.
pub(crate) async fn find_watchable_or_granted(
    app: &AppState,
    id: &str,
    caller: Option<&Principal>,
    grant: Option<&str>,
    peer: SocketAddr,
) -> Result<(VideoRecord, Option<MediaUrls>), ApiError> {
    let video = find(app, id).await?;
    let acl = video.acl();
    if policy::may_watch(caller, acl) {
        return Ok((video, None));
    }
    let Some(grant) = grant.filter(|_| !acl.owner_only) else {
        return Err(ApiError::NotFound);
    };
    match crate::http::media::verify_grant(app, &video, grant, peer) {
        Ok(verified) => {
            let urls = MediaUrls::under_grant(&video.id, grant, verified.expires);
            Ok((video, Some(urls)))
        }
        // Only for a grant of this very video: another video's real grant says nothing here
        // (a 403 would tell that a private video of this id exists).
        Err(e @ (GrantError::Expired(_) | GrantError::Revoked)) => {
            Err(ApiError::Forbidden(e.to_string().replace("{id}", &video.id)))
        }
        Err(_) => Err(ApiError::NotFound),
    }
}

/// Answer of `GET /api/videos/{id}/playback`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Playback {
    /// The multivariant playlist to hand the player; signed unless the video is public.
    pub url: String,
    pub poster_url: Option<String>,
    /// The storyboard's WebVTT thumbnails track under the same grant, when there is one.
    pub storyboard_url: Option<String>,
    /// RFC 3339 expiry of the grant; null for public videos (their URLs do not expire).
    pub expires_at: Option<String>,
}

/// `GET /api/videos/{id}/playback` — a playback URL for a caller allowed to watch: a
/// time-limited grant (HMAC-SHA256 over video id, expiry and optional IP binding) covering the
/// playlists, segments, poster and original. 404 when the caller may not see the video, 409
/// while it is not playable (no rendition published yet, or failed).
#[utoipa::path(
    get,
    path = "/api/videos/{id}/playback",
    tag = "videos",
    operation_id = "get_playback",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`"), GrantQuery),
    responses((status = 200, description = "A playback URL (signed unless public)", body = Playback), (status = 403, description = "The grant given expired or was revoked", body = ErrorBody), (status = 404, description = "No such video, or the caller may not see it", body = ErrorBody), (status = 409, description = "The video is not playable yet, or failed", body = ErrorBody)),
    security((), ("bearer" = []), ("session" = []))
)]
pub async fn playback(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<GrantQuery>,
) -> Result<Json<Playback>, ApiError> {
    let (video, granted) = find_watchable_or_granted(&app, &id, caller.0.as_ref(), q.grant.as_deref(), peer).await?;
    match video.status {
        _ if video.playable() => {}
        VideoStatus::Ready => {}
        VideoStatus::Processing => {
            return Err(ApiError::Conflict(
                "the video is still processing; it plays as soon as its first rendition is published".into(),
            ));
        }
        VideoStatus::Uploading => return Err(ApiError::Conflict("the video is still uploading".into())),
        VideoStatus::Idle | VideoStatus::Live | VideoStatus::Ended => {
            return Err(ApiError::Conflict(
                "the live stream has not started yet; it plays once its first segments are out".into(),
            ));
        }
        VideoStatus::Failed => {
            return Err(ApiError::Conflict(
                "the video failed to process and cannot be played".into(),
            ));
        }
    }
    let urls = granted.unwrap_or_else(|| MediaUrls::new(&app, &video, Some(peer.ip())));
    Ok(Json(Playback {
        url: urls.playlist(),
        poster_url: video.has_poster.then(|| urls.poster()),
        storyboard_url: video.has_storyboard.then(|| urls.storyboard()),
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
    app.videos.forget(&id);
    let video = find(&app, &id).await?;
    if video.privacy != before.privacy {
        // Open live sockets re-check who may still watch (see live.rs).
        app.events
            .publish(&video.id, VideoEvent::VideoPrivacy { privacy: video.privacy });
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
    app.videos.forget(&id);
    let video = find(&app, &id).await?;
    // Other nodes drop their copy of the video too; open pages re-check their viewer.
    app.events
        .publish(&video.id, VideoEvent::VideoPrivacy { privacy: video.privacy });
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
    let video = find_manageable(&app, &id, caller.0.as_ref()).await?;
    app.db.request_cancel(&id).await?;
    app.db.delete_video(&id).await?;
    app.videos.forget(&video.id);
    app.events.publish(&video.id, VideoEvent::VideoDeleted);
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
    let video = find_manageable(&app, &id, caller.0.as_ref()).await?;
    if app.db.request_cancel(&id).await? {
        // A queued job ends here and now (a running one ends at its worker, which says so).
        if let Some(v) = app.db.video(&id).await?
            && v.status == VideoStatus::Failed
        {
            app.events.publish(
                &video.id,
                VideoEvent::VideoFailed {
                    error: v.error.unwrap_or_default(),
                },
            );
        }
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(ApiError::Conflict("the video is not being transcoded".into()))
    }
}

/// `POST /api/videos/{id}/retry` — processes a failed video again from its stored source
/// (owner or admin): 202 with the video, now `processing`; 409 when it has not failed.
#[utoipa::path(
    post,
    path = "/api/videos/{id}/retry",
    tag = "videos",
    operation_id = "retry_processing",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`")),
    responses((status = 202, description = "Queued again; the video is `processing`", body = VideoView), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "The caller can see the video but not change it", body = ErrorBody), (status = 404, description = "No such video, or the caller may not see it", body = ErrorBody), (status = 409, description = "The video has not failed", body = ErrorBody)),
    security(("bearer" = ["upload"]), ("session" = []))
)]
pub async fn retry(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<VideoView>), ApiError> {
    find_manageable(&app, &id, caller.0.as_ref()).await?;
    if !app.db.retry_failed(&id, app.config.jobs.max_attempts).await? {
        return Err(ApiError::Conflict(
            "only a video whose processing failed can be retried".into(),
        ));
    }
    app.wake_workers.notify_waiters();
    let video = find(&app, &id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(VideoView::for_caller(&app, video, caller.0.as_ref(), Some(peer.ip()))),
    ))
}

pub(crate) async fn find(app: &AppState, id: &str) -> Result<VideoRecord, ApiError> {
    if !is_video_id(id) {
        return Err(ApiError::NotFound);
    }
    app.db.video(id).await?.ok_or(ApiError::NotFound)
}

/// The video from the in-memory cache ([`crate::http::video_cache`]), read from the database
/// (and remembered) when the cache does not have it; 404 when there is none.
pub(crate) async fn find_cached(app: &AppState, id: &str) -> Result<std::sync::Arc<VideoRecord>, ApiError> {
    if let Some(video) = app.videos.get(id) {
        return Ok(video);
    }
    let ticket = app.videos.ticket();
    let video = std::sync::Arc::new(find(app, id).await?);
    app.videos.put(ticket, video.clone());
    Ok(video)
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
pub(crate) async fn find_manageable(
    app: &AppState,
    id: &str,
    caller: Option<&Principal>,
) -> Result<VideoRecord, ApiError> {
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
