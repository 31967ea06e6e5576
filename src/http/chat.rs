//! Chat beside a live stream: `GET`/`POST /api/videos/{id}/chat`, moderation by the stream's
//! owner and administrators (`DELETE /api/videos/{id}/chat/{mid}`, `POST
//! /api/videos/{id}/chat/bans`, slow mode with `PUT /api/videos/{id}/chat/settings`). Messages travel to open pages over the video's WebSocket
//! (`chat.message`, `chat.deleted`, from any node) and are kept with the broadcast time they
//! were sent at, so the replay lists them in sync with the video (`from_secs`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::{Principal, Scope, policy};
use crate::db::live::{ChatInsert, ChatLimits, ChatRecord};
use crate::db::{VideoRecord, now_ms};
use crate::events::VideoEvent;
use crate::http::caller::Caller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::types::rfc3339;
use crate::http::videos::find_watchable;
use crate::video::VideoStatus;

/// A chat message as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChatView {
    pub id: i64,
    /// Author's username.
    pub author: String,
    /// Plain text.
    pub body: String,
    /// Seconds into the broadcast it was sent at: the replay shows it at this video time.
    pub offset_secs: f64,
    /// RFC 3339.
    pub created_at: String,
}

impl From<ChatRecord> for ChatView {
    fn from(c: ChatRecord) -> ChatView {
        ChatView {
            id: c.id,
            author: c.author,
            body: c.body,
            offset_secs: c.offset_secs,
            created_at: rfc3339(c.created_at),
        }
    }
}

/// Body of `GET /api/videos/{id}/chat`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChatPage {
    /// In the order they were sent.
    pub messages: Vec<ChatView>,
    /// True when the caller may post (signed in, not banned, the stream not yet replayed).
    pub open: bool,
    /// True when the caller may delete messages and ban users.
    pub can_moderate: bool,
    /// Seconds a viewer waits between two messages (0 = off; moderators are exempt).
    pub slow_mode_secs: u32,
}

/// Query of `GET /api/videos/{id}/chat`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChatQuery {
    /// Broadcast time to start from, seconds (default 0).
    pub from_secs: Option<f64>,
    /// Most messages, 1–500 (default 200).
    pub limit: Option<u32>,
}

/// Body of `POST /api/videos/{id}/chat`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChatMessage {
    /// Plain text, not only spaces, at most `live.chat_max_chars` characters (default 500).
    #[schema(pattern = r"\S", max_length = 500)]
    pub body: String,
}

/// Body of `PUT /api/videos/{id}/chat/settings`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatSettings {
    /// Slow mode: seconds a viewer waits between two messages, 0–3600 (0 = off; moderators
    /// are exempt).
    #[schema(minimum = 0, maximum = 3600)]
    #[serde(deserialize_with = "crate::http::whole::u32")]
    pub slow_mode_secs: u32,
}

/// Body of `POST /api/videos/{id}/chat/bans`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatBan {
    /// Username of the user kept out.
    pub user: String,
    /// A time-out of this many minutes (1–10080); absent bans for good.
    #[schema(minimum = 1, maximum = 10080)]
    #[serde(default, deserialize_with = "crate::http::whole::optional_u32")]
    pub minutes: Option<u32>,
}

/// The live stream `id` as `caller` may see it; 404 for videos that are no live stream.
async fn live_video(app: &AppState, id: &str, caller: Option<&Principal>) -> Result<VideoRecord, ApiError> {
    let video = find_watchable(app, id, caller).await?;
    if video.live.is_none() {
        return Err(ApiError::Missing(
            "this video is no live stream, so it has no chat".into(),
        ));
    }
    Ok(video)
}

/// `GET /api/videos/{id}/chat?from_secs=&limit=` — a live stream's chat in the order sent,
/// from broadcast time `from_secs` on.
#[utoipa::path(
    get,
    path = "/api/videos/{id}/chat",
    tag = "live",
    operation_id = "list_chat",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`"), ChatQuery),
    responses((status = 200, description = "Messages in the order sent", body = ChatPage), (status = 404, description = "No such live stream, or the caller may not see it", body = ErrorBody)),
    security((), ("bearer" = []), ("session" = []))
)]
pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<ChatQuery>,
) -> Result<Json<ChatPage>, ApiError> {
    let video = live_video(&app, &id, caller.0.as_ref()).await?;
    let from = q.from_secs.filter(|f| f.is_finite()).unwrap_or(0.0).max(0.0);
    let limit = q.limit.unwrap_or(200).clamp(1, 500);
    let messages = app.db.chat_messages(&id, from, limit).await?;
    let slow_mode_secs = app.db.live_stream(&id).await?.map_or(0, |l| l.chat_slow_mode_secs);
    let open = match &caller.0 {
        Some(who) => video.status != VideoStatus::Ready && !app.db.chat_banned(&id, who.user_id).await?,
        None => false,
    };
    Ok(Json(ChatPage {
        messages: messages.into_iter().map(ChatView::from).collect(),
        open,
        can_moderate: policy::may_manage(caller.0.as_ref(), video.acl()),
        slow_mode_secs,
    }))
}

/// `POST /api/videos/{id}/chat` — signed in; 201 with the message, also pushed to open
/// pages. 400 empty or too long, 403 banned or timed out, 409 once the stream is a replay
/// (comments stay open), 429 past `live.chat_per_minute`.
#[utoipa::path(
    post,
    path = "/api/videos/{id}/chat",
    tag = "live",
    operation_id = "post_chat",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`")),
    request_body(content = NewChatMessage, content_type = "application/json"),
    responses((status = 201, description = "The message", body = ChatView), (status = 400, description = "Empty or too long", body = ErrorBody), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "Banned or timed out of this chat, or the token lacks `write`", body = ErrorBody), (status = 404, description = "No such live stream, or the caller may not see it", body = ErrorBody), (status = 409, description = "The stream ended and is a replay", body = ErrorBody), (status = 429, description = "Posting too fast; `Retry-After` says when to try again", body = ErrorBody)),
    security(("bearer" = ["write"]), ("session" = []))
)]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<NewChatMessage>,
) -> Result<(StatusCode, Json<ChatView>), ApiError> {
    let who = caller.with_scope(Scope::Write)?;
    let video = live_video(&app, &id, Some(&who)).await?;
    if video.status == VideoStatus::Ready {
        return Err(ApiError::Conflict(
            "the stream has ended and its chat is closed; comments are open".into(),
        ));
    }
    let text = body.body.trim();
    let max = app.config.live.chat_max_chars;
    if text.is_empty() {
        return Err(ApiError::BadRequest("the message is empty".into()));
    }
    if text.chars().count() > max {
        return Err(ApiError::BadRequest(format!(
            "a chat message can be at most {max} characters"
        )));
    }
    if app.db.chat_banned(&id, who.user_id).await? {
        return Err(ApiError::Forbidden(
            "the stream's moderators have kept you out of this chat for now".into(),
        ));
    }
    let slow_mode_secs = if policy::may_manage(Some(&who), video.acl()) {
        0 // moderators are exempt
    } else {
        app.db.live_stream(&id).await?.map_or(0, |l| l.chat_slow_mode_secs)
    };
    let limits = ChatLimits {
        per_minute: app.config.live.chat_per_minute,
        slow_mode_secs,
    };
    let message = match app.db.insert_chat(&id, who.user_id, text, limits).await? {
        ChatInsert::Posted(record) => ChatView::from(record),
        ChatInsert::TooSoon { retry_after_secs } => return Err(ApiError::TooManyRequests { retry_after_secs }),
    };
    app.events.publish(
        &video.id,
        VideoEvent::ChatMessage {
            message: serde_json::to_value(&message).unwrap_or_default(),
        },
    );
    Ok((StatusCode::CREATED, Json(message)))
}

/// The live stream, when `who` may moderate its chat.
async fn moderated(app: &AppState, id: &str, caller: Caller) -> Result<VideoRecord, ApiError> {
    let who = caller.with_scope(Scope::Write)?;
    let video = live_video(app, id, Some(&who)).await?;
    if !policy::may_manage(Some(&who), video.acl()) {
        return Err(ApiError::Forbidden(
            "only the stream's owner or an administrator moderates its chat".into(),
        ));
    }
    Ok(video)
}

/// `DELETE /api/videos/{id}/chat/{mid}` — the stream's owner or an admin removes a message;
/// 204, and open pages drop it.
#[utoipa::path(
    delete,
    path = "/api/videos/{id}/chat/{mid}",
    tag = "live",
    operation_id = "delete_chat",
    params(("id" = String, Path, description = "Video id"), ("mid" = i64, Path, description = "Chat message id")),
    responses((status = 204, description = "Removed"), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "Not the stream's owner or an admin", body = ErrorBody), (status = 404, description = "No such message on this stream", body = ErrorBody)),
    security(("bearer" = ["write"]), ("session" = []))
)]
pub async fn delete(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, mid)): Path<(String, i64)>,
) -> Result<StatusCode, ApiError> {
    let video = moderated(&app, &id, caller).await?;
    if !app.db.delete_chat(&id, mid).await? {
        return Err(ApiError::NotFound);
    }
    app.events.publish(&video.id, VideoEvent::ChatDeleted { id: mid });
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/videos/{id}/chat/bans` — the stream's owner or an admin times a user out
/// (`minutes`) or bans them from this stream's chat; 204.
#[utoipa::path(
    post,
    path = "/api/videos/{id}/chat/bans",
    tag = "live",
    operation_id = "ban_from_chat",
    params(("id" = String, Path, description = "Video id")),
    request_body(content = ChatBan, content_type = "application/json"),
    responses((status = 204, description = "Kept out"), (status = 400, description = "Minutes out of range, or the owner named", body = ErrorBody), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "Not the stream's owner or an admin", body = ErrorBody), (status = 404, description = "No such user, or no such live stream", body = ErrorBody)),
    security(("bearer" = ["write"]), ("session" = []))
)]
pub async fn ban(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ChatBan>,
) -> Result<StatusCode, ApiError> {
    let video = moderated(&app, &id, caller).await?;
    let user = app
        .db
        .user_by_login(&body.user)
        .await?
        .ok_or_else(|| ApiError::Missing(format!("no user named {:?}", body.user)))?;
    if Some(user.id) == video.owner_id {
        return Err(ApiError::BadRequest(
            "the stream's owner cannot be kept out of its chat".into(),
        ));
    }
    let until = match body.minutes {
        None => None,
        Some(m @ 1..=10080) => Some(now_ms() + i64::from(m) * 60_000),
        Some(_) => return Err(ApiError::BadRequest("minutes must be between 1 and 10080".into())),
    };
    app.db.ban_from_chat(&id, user.id, until).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/videos/{id}/chat/settings` — the stream's owner or an admin sets slow mode; 200
/// with the settings.
#[utoipa::path(
    put,
    path = "/api/videos/{id}/chat/settings",
    tag = "live",
    operation_id = "set_chat_settings",
    params(("id" = String, Path, description = "Video id")),
    request_body(content = ChatSettings, content_type = "application/json"),
    responses((status = 200, description = "The settings now", body = ChatSettings), (status = 400, description = "Out of range", body = ErrorBody), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "Not the stream's owner or an admin", body = ErrorBody), (status = 404, description = "No such live stream", body = ErrorBody)),
    security(("bearer" = ["write"]), ("session" = []))
)]
pub async fn settings(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ChatSettings>,
) -> Result<Json<ChatSettings>, ApiError> {
    moderated(&app, &id, caller).await?;
    if body.slow_mode_secs > 3600 {
        return Err(ApiError::BadRequest("slow_mode_secs must be between 0 and 3600".into()));
    }
    if !app.db.set_chat_slow_mode(&id, body.slow_mode_secs).await? {
        return Err(ApiError::NotFound);
    }
    Ok(Json(body))
}
