//! Live streams over the API: `POST /api/live` creates one (a video in `idle` with a stream
//! key shown once), `POST /api/live/{id}/key` replaces its key, `POST
//! /api/videos/{id}/clips` cuts a clip of a replay without re-encoding. Deleting is `DELETE
//! /api/videos/{id}`, as for any video. The broadcast itself arrives over RTMP
//! ([`crate::live`]).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::{Privacy, policy};
use crate::db::{NewVideo, VideoRecord};
use crate::http::caller::Caller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::types::{limited_text, rfc3339};
use crate::http::upload::uploader;
use crate::http::videos::find;
use crate::ids::VideoId;
use crate::live::{RTMP_APP, new_stream_key};
use crate::video::{LiveState, MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS};

/// Body of `POST /api/live`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLiveStream {
    /// 1–200 characters, not only spaces.
    #[schema(pattern = r"\S", max_length = 200)]
    pub title: String,
    /// At most 5000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    /// Default `auth.default_privacy`.
    #[schema(value_type = Option<Privacy>)]
    pub privacy: Option<String>,
    /// At most 10 tags, each 1–30 letters, digits, `-` and `_`.
    #[schema(schema_with = crate::http::openapi::tag_list)]
    pub tags: Option<Vec<String>>,
}

/// A stream key and where to use it: the answer of `POST /api/live` and of a key rotation.
/// The key is shown this once; Kino keeps only its SHA-256.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StreamKeyView {
    /// The live stream's video id.
    pub id: String,
    /// Secret: whoever has it can broadcast on this stream.
    pub stream_key: String,
    /// OBS's "Server" field: `rtmp://HOST:PORT/live`; publish to `{rtmp_url}/{stream_key}`.
    pub rtmp_url: String,
    /// The multivariant playlist once live.
    pub hls_url: String,
    /// Encoder settings that keep latency low and segments aligned.
    pub obs_settings: ObsSettings,
}

/// Recommended encoder settings (OBS: Settings → Output → Streaming, advanced mode).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ObsSettings {
    /// Keyframe interval, seconds (`live.segment_secs`): each becomes a segment boundary.
    pub keyframe_interval_secs: f64,
    /// `CBR`.
    pub rate_control: String,
    /// `zerolatency` (x264 tune: no look-ahead, no B-frames).
    pub tune: String,
    /// `H.264` (Enhanced RTMP HEVC/AV1 is refused).
    pub video_codec: String,
    /// `AAC`.
    pub audio_codec: String,
}

/// A live stream's broadcast as `GET /api/videos/{id}` shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LiveView {
    pub state: LiveState,
    /// RFC 3339, when it first went live.
    pub started_at: Option<String>,
    /// Pages open on it on this node.
    pub viewers: usize,
    /// Seconds behind the publisher a player typically plays: with low-latency HLS three
    /// parts of `live.part_secs` plus about a second of encoding and delivery, else three
    /// segments of `live.segment_secs` plus packaging.
    pub latency_hint_secs: f64,
}

impl LiveView {
    /// For a live stream not yet replayed; `None` for any other video.
    pub fn of(app: &AppState, v: &VideoRecord) -> Option<LiveView> {
        let (state, started) = v.live?;
        if v.status == crate::video::VideoStatus::Ready {
            return None;
        }
        Some(LiveView {
            state,
            started_at: started.map(rfc3339),
            viewers: app.live_sockets.watching(&v.id),
            latency_hint_secs: if app.config.live.low_latency {
                app.config.live.part_secs * 3.0 + 1.0
            } else {
                app.config.live.segment_secs * 3.0 + 1.0
            },
        })
    }
}

/// The `rtmp_url` creators are shown: `live.rtmp_public_host`, else the ingest's address, with
/// the request's host name when the ingest listens on every address.
fn rtmp_url(app: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    if let Some(host) = &app.config.live.rtmp_public_host {
        return Ok(format!("rtmp://{host}/{RTMP_APP}"));
    }
    let Some(&addr) = app.rtmp_addr.get() else {
        return Err(ApiError::Conflict(
            "live ingest is off on this server (live.rtmp_listen is empty)".into(),
        ));
    };
    let host = if addr.ip().is_unspecified() {
        let requested = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let name = requested.rsplit_once(':').map_or(requested, |(h, _)| h);
        format!("{name}:{}", addr.port())
    } else {
        addr.to_string()
    };
    Ok(format!("rtmp://{host}/{RTMP_APP}"))
}

fn key_view(app: &AppState, headers: &HeaderMap, id: &VideoId, key: String) -> Result<StreamKeyView, ApiError> {
    Ok(StreamKeyView {
        id: id.to_string(),
        stream_key: key,
        rtmp_url: rtmp_url(app, headers)?,
        hls_url: format!("/hls/{id}/master.m3u8"),
        obs_settings: ObsSettings {
            keyframe_interval_secs: app.config.live.segment_secs,
            rate_control: "CBR".into(),
            tune: "zerolatency".into(),
            video_codec: "H.264".into(),
            audio_codec: "AAC".into(),
        },
    })
}

/// `POST /api/live` — an uploader creates a live stream: 201 with its stream key (shown
/// once), RTMP URL and playlist URL. The video is `idle` until a publisher connects.
#[utoipa::path(
    post,
    path = "/api/live",
    tag = "live",
    operation_id = "create_live_stream",
    request_body(content = NewLiveStream, content_type = "application/json"),
    responses((status = 201, description = "The live stream and its stream key (shown once)", body = StreamKeyView), (status = 400, description = "A field is invalid", body = ErrorBody), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "The account or token cannot upload", body = ErrorBody), (status = 409, description = "Live ingest is off on this server", body = ErrorBody)),
    security(("bearer" = ["upload"]), ("session" = []))
)]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<NewLiveStream>,
) -> Result<(StatusCode, Json<StreamKeyView>), ApiError> {
    let who = uploader(&caller)?;
    let title = limited_text(body.title.trim().to_string(), MAX_TITLE_CHARS, "title")?;
    if title.is_empty() {
        return Err(ApiError::BadRequest("the title is empty".into()));
    }
    let description = limited_text(
        body.description.unwrap_or_default(),
        MAX_DESCRIPTION_CHARS,
        "description",
    )?;
    let privacy = match body.privacy {
        Some(p) => Privacy::parse(&p).map_err(ApiError::BadRequest)?,
        None => app.config.auth.default_privacy,
    };
    let tags = match body.tags {
        Some(t) => crate::tags::parse(t.iter().map(String::as_str)).map_err(ApiError::BadRequest)?,
        None => Vec::new(),
    };
    rtmp_url(&app, &headers)?;
    let id = VideoId::new();
    let key = new_stream_key();
    let video = NewVideo {
        id: id.clone(),
        title,
        description,
        source_name: "live".into(),
        source_bytes: 0,
        owner_id: Some(who.user_id),
        privacy,
        tags,
    };
    app.db
        .insert_live_stream(&video, &crate::auth::secret::digest(&key))
        .await?;
    Ok((StatusCode::CREATED, Json(key_view(&app, &headers, &id, key)?)))
}

/// `POST /api/live/{id}/key` — its owner (or an admin) replaces the stream key: the old one
/// stops working for new publishes at once (a broadcast in progress goes on). 200 with the
/// new key, shown once.
#[utoipa::path(
    post,
    path = "/api/live/{id}/key",
    tag = "live",
    operation_id = "rotate_stream_key",
    params(("id" = String, Path, description = "The live stream's video id")),
    responses((status = 200, description = "The new stream key (shown once)", body = StreamKeyView), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "The caller can see the stream but not manage it", body = ErrorBody), (status = 404, description = "No such live stream, or the caller may not see it", body = ErrorBody)),
    security(("bearer" = ["upload"]), ("session" = []))
)]
pub async fn rotate_key(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<StreamKeyView>, ApiError> {
    let who = uploader(&caller)?;
    let video = find(&app, &id).await?;
    if !policy::may_watch(Some(&who), video.acl()) || video.live.is_none() {
        return Err(ApiError::NotFound);
    }
    if !policy::may_manage(Some(&who), video.acl()) {
        return Err(ApiError::Forbidden(
            "only the stream's owner or an administrator can replace its key".into(),
        ));
    }
    let key = new_stream_key();
    if !app
        .db
        .set_stream_key(&video.id, &crate::auth::secret::digest(&key))
        .await?
    {
        return Err(ApiError::NotFound);
    }
    Ok(Json(key_view(&app, &headers, &video.id, key)?))
}

/// Body of `POST /api/videos/{id}/clips`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClip {
    /// Start of the range, seconds into the replay.
    #[schema(minimum = 0)]
    pub start_secs: f64,
    /// End of the range, seconds (after `start_secs`).
    pub end_secs: f64,
    /// Default "Clip of {title}".
    #[schema(max_length = 200)]
    pub title: Option<String>,
}

/// `POST /api/videos/{id}/clips` — the owner (or an admin) of a live stream's replay cuts
/// `[start_secs, end_secs)` into a new video, without re-encoding: segment-aligned (each end
/// widened to the segment holding it), ready at once, same privacy and tags. 201 with the
/// clip. 400 for a range outside the video, 409 when the video is no replay (not ready, or
/// never live).
#[utoipa::path(
    post,
    path = "/api/videos/{id}/clips",
    tag = "live",
    operation_id = "create_clip",
    params(("id" = String, Path, description = "The replay's video id")),
    request_body(content = NewClip, content_type = "application/json"),
    responses((status = 201, description = "The clip, ready", body = crate::http::types::VideoView), (status = 400, description = "The range is empty or outside the video", body = ErrorBody), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "The caller can see the video but not manage it", body = ErrorBody), (status = 404, description = "No such video, or the caller may not see it", body = ErrorBody), (status = 409, description = "Not the replay of a live stream", body = ErrorBody)),
    security(("bearer" = ["upload"]), ("session" = []))
)]
pub async fn create_clip(
    State(app): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<NewClip>,
) -> Result<(StatusCode, Json<crate::http::types::VideoView>), ApiError> {
    let who = uploader(&caller)?;
    let source = find(&app, &id).await?;
    if !policy::may_watch(Some(&who), source.acl()) {
        return Err(ApiError::NotFound);
    }
    if !policy::may_manage(Some(&who), source.acl()) {
        return Err(ApiError::Forbidden(
            "only the video's owner or an administrator can clip it".into(),
        ));
    }
    if source.status != crate::video::VideoStatus::Ready {
        return Err(ApiError::Conflict("only a ready replay can be clipped".into()));
    }
    let title = match body.title.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) {
        Some(t) => limited_text(t, MAX_TITLE_CHARS, "title")?,
        None => format!("Clip of {}", source.title)
            .chars()
            .take(MAX_TITLE_CHARS)
            .collect(),
    };
    let clip = NewVideo {
        id: VideoId::new(),
        title,
        description: String::new(),
        source_name: "clip".into(),
        source_bytes: 0,
        owner_id: Some(who.user_id),
        privacy: source.privacy,
        tags: source.tags.clone(),
    };
    match crate::live::clip::cut(&app.live, &source, &clip, body.start_secs, body.end_secs).await {
        Ok(_) => {}
        Err(crate::live::clip::ClipError::Range(why)) => return Err(ApiError::BadRequest(why)),
        Err(e @ crate::live::clip::ClipError::NotAReplay) => return Err(ApiError::Conflict(e.to_string())),
        Err(crate::live::clip::ClipError::Internal(e)) => return Err(ApiError::Internal(e)),
    }
    let made = find(&app, &clip.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(crate::http::types::VideoView::for_caller(
            &app,
            made,
            Some(&who),
            Some(peer.ip()),
        )),
    ))
}
