//! Comments: `GET`/`POST /api/videos/{id}/comments`, `PATCH`/`DELETE /api/comments/{cid}`.
//! Bodies are plain text, stored and returned as typed (pages render them as text, never
//! HTML). Every change is published on the events bus for open watch pages.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::{Principal, Scope, policy};
use crate::db::comments::CommentRecord;
use crate::events::VideoEvent;
use crate::http::caller::Caller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::types::Paging;
use crate::http::types::{ListQuery, rfc3339};
use crate::http::videos::find_watchable;

/// A comment as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommentView {
    pub id: i64,
    pub video_id: String,
    pub parent_id: Option<i64>,
    /// Author's username.
    pub author: String,
    /// Plain text.
    pub body: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, when edited.
    pub edited_at: Option<String>,
    /// The caller wrote it.
    pub can_edit: bool,
    /// The caller wrote it, owns the video, or is an admin.
    pub can_delete: bool,
    /// Replies, oldest first (always empty on a reply).
    #[schema(no_recursion)]
    pub replies: Vec<CommentView>,
}

impl CommentView {
    fn new(c: CommentRecord, caller: Option<&Principal>, manages_video: bool) -> CommentView {
        let mine = caller.is_some_and(|p| p.user_id == c.author_id);
        CommentView {
            id: c.id,
            video_id: c.video_id.to_string(),
            parent_id: c.parent_id,
            author: c.author,
            body: c.body,
            created_at: rfc3339(c.created_at),
            edited_at: c.edited_at.map(rfc3339),
            can_edit: mine,
            can_delete: mine || manages_video,
            replies: Vec::new(),
        }
    }
}

/// Body of `GET /api/videos/{id}/comments`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommentPage {
    pub comments: Vec<CommentView>,
    pub page: u32,
    pub per_page: u32,
    /// Top-level comments in all.
    pub total: u64,
    pub comments_enabled: bool,
}

/// Body of `POST /api/videos/{id}/comments`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewComment {
    /// Plain text, not only spaces, at most `comments.max_chars` characters (default 2000).
    #[schema(pattern = r"\S", max_length = 2000)]
    pub body: String,
    /// The comment replied to (a reply to a reply joins its thread); 404 when it is not on
    /// this video.
    #[serde(default, deserialize_with = "crate::http::whole::optional_i64")]
    pub parent_id: Option<i64>,
}

/// Body of `PATCH /api/comments/{cid}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EditComment {
    /// Plain text, not only spaces, at most `comments.max_chars` characters (default 2000).
    #[schema(pattern = r"\S", max_length = 2000)]
    pub body: String,
}

fn checked_body(app: &AppState, body: &str) -> Result<String, ApiError> {
    let body = body.trim();
    let max = app.config.comments.max_chars;
    if body.is_empty() {
        return Err(ApiError::BadRequest("the comment is empty".into()));
    }
    if body.chars().count() > max {
        return Err(ApiError::BadRequest(format!(
            "a comment can be at most {max} characters"
        )));
    }
    Ok(body.to_string())
}

/// `GET /api/videos/{id}/comments?page=&per_page=` — top-level comments newest first, each
/// with its replies; 404 when the caller may not see the video.
#[utoipa::path(
    get,
    path = "/api/videos/{id}/comments",
    tag = "comments",
    operation_id = "list_comments",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`"), ListQuery),
    responses((status = 200, description = "Top-level comments newest first, with replies", body = CommentPage), (status = 404, description = "No such video, or the caller may not see it", body = ErrorBody)),
    security((), ("bearer" = []), ("session" = []))
)]
pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Json<CommentPage>, ApiError> {
    let video = find_watchable(&app, &id, caller.0.as_ref()).await?;
    let manages = policy::may_manage(caller.0.as_ref(), video.acl());
    let Paging { page, per_page, offset } = Paging::of(q.page, q.per_page, 20);
    let (top, total) = app.db.top_level_comments(&id, per_page, offset).await?;
    let replies = app.db.replies_to(&top.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
    let mut views: Vec<CommentView> = top
        .into_iter()
        .map(|c| CommentView::new(c, caller.0.as_ref(), manages))
        .collect();
    for r in replies {
        if let Some(parent) = views.iter_mut().find(|v| Some(v.id) == r.parent_id) {
            parent.replies.push(CommentView::new(r, caller.0.as_ref(), manages));
        }
    }
    Ok(Json(CommentPage {
        comments: views,
        page,
        per_page,
        total,
        comments_enabled: video.comments_enabled,
    }))
}

/// `POST /api/videos/{id}/comments` — signed in; 201 with the comment. 400 empty or too long
/// or an unknown parent, 403 when comments are off, 429 when posting too fast.
#[utoipa::path(
    post,
    path = "/api/videos/{id}/comments",
    tag = "comments",
    operation_id = "post_comment",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`")),
    request_body(content = NewComment, content_type = "application/json"),
    responses((status = 201, description = "The new comment", body = CommentView, links(("EditComment" = (operation_id = "edit_comment", parameters(("cid" = "$response.body#/id")))), ("DeleteComment" = (operation_id = "delete_comment", parameters(("cid" = "$response.body#/id")))))), (status = 400, description = "Empty or too long", body = ErrorBody), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "Comments are off, or the token lacks `write`", body = ErrorBody), (status = 404, description = "No such video (or the caller may not see it), or no such parent comment on it", body = ErrorBody), (status = 429, description = "Rate-limited; `Retry-After` says when to try again", body = ErrorBody)),
    security(("bearer" = ["write"]), ("session" = []))
)]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<NewComment>,
) -> Result<(StatusCode, Json<CommentView>), ApiError> {
    let who = caller.with_scope(Scope::Write)?;
    let video = find_watchable(&app, &id, Some(&who)).await?;
    if !video.comments_enabled {
        return Err(ApiError::Forbidden("comments are turned off for this video".into()));
    }
    let text = checked_body(&app, &body.body)?;
    app.limits
        .check_comment(who.user_id)
        .map_err(|w| ApiError::TooManyRequests {
            retry_after_secs: w.0.as_secs_f64().ceil().max(1.0) as u64,
        })?;
    let comment = app
        .db
        .insert_comment(&id, body.parent_id, who.user_id, &text)
        .await?
        .ok_or_else(|| ApiError::Missing("the comment being replied to does not exist on this video".into()))?;
    publish(&app, &comment, |comment| VideoEvent::CommentCreated { comment });
    let manages = policy::may_manage(Some(&who), video.acl());
    Ok((
        StatusCode::CREATED,
        Json(CommentView::new(comment, Some(&who), manages)),
    ))
}

/// `PATCH /api/comments/{cid}` — its author changes the body; 200 with the comment.
#[utoipa::path(
    patch,
    path = "/api/comments/{cid}",
    tag = "comments",
    operation_id = "edit_comment",
    params(("cid" = i64, Path, description = "Comment id")),
    request_body(content = EditComment, content_type = "application/json"),
    responses((status = 200, description = "The edited comment", body = CommentView), (status = 400, description = "Empty or too long", body = ErrorBody), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "Not its author", body = ErrorBody), (status = 404, description = "No such comment, or the caller may not see its video", body = ErrorBody)),
    security(("bearer" = ["write"]), ("session" = []))
)]
pub async fn edit(
    State(app): State<AppState>,
    caller: Caller,
    Path(cid): Path<i64>,
    Json(body): Json<EditComment>,
) -> Result<Json<CommentView>, ApiError> {
    let who = caller.with_scope(Scope::Write)?;
    let (comment, manages) = visible_comment(&app, cid, &who).await?;
    if comment.author_id != who.user_id {
        return Err(ApiError::Forbidden("only its author can edit a comment".into()));
    }
    let text = checked_body(&app, &body.body)?;
    app.db.update_comment(cid, &text).await?;
    let comment = app.db.comment(cid).await?.ok_or(ApiError::NotFound)?;
    publish(&app, &comment, |comment| VideoEvent::CommentUpdated { comment });
    Ok(Json(CommentView::new(comment, Some(&who), manages)))
}

/// `DELETE /api/comments/{cid}` — its author, the video's owner or an admin; 204. Replies go
/// with it.
#[utoipa::path(
    delete,
    path = "/api/comments/{cid}",
    tag = "comments",
    operation_id = "delete_comment",
    params(("cid" = i64, Path, description = "Comment id")),
    responses((status = 204, description = "Deleted with its replies"), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "Not its author, the video owner or an admin", body = ErrorBody), (status = 404, description = "No such comment, or the caller may not see its video", body = ErrorBody)),
    security(("bearer" = ["write"]), ("session" = []))
)]
pub async fn delete(State(app): State<AppState>, caller: Caller, Path(cid): Path<i64>) -> Result<StatusCode, ApiError> {
    let who = caller.with_scope(Scope::Write)?;
    let (comment, manages) = visible_comment(&app, cid, &who).await?;
    if comment.author_id != who.user_id && !manages {
        return Err(ApiError::Forbidden(
            "only its author, the video's owner or an administrator can delete a comment".into(),
        ));
    }
    app.db.delete_comment(cid).await?;
    app.events.publish(
        &comment.video_id,
        VideoEvent::CommentDeleted {
            id: cid,
            video_id: comment.video_id.to_string(),
        },
    );
    Ok(StatusCode::NO_CONTENT)
}

/// The comment, if its video is visible to `who`, and whether `who` manages that video.
async fn visible_comment(app: &AppState, cid: i64, who: &Principal) -> Result<(CommentRecord, bool), ApiError> {
    let comment = app.db.comment(cid).await?.ok_or(ApiError::NotFound)?;
    let video = find_watchable(app, &comment.video_id, Some(who)).await?;
    Ok((comment, policy::may_manage(Some(who), video.acl())))
}

fn publish(app: &AppState, c: &CommentRecord, kind: impl FnOnce(serde_json::Value) -> VideoEvent) {
    // Pushed to everyone: no per-viewer permissions inside.
    let view = CommentView::new(c.clone(), None, false);
    app.events
        .publish(&c.video_id, kind(serde_json::to_value(view).unwrap_or_default()));
}
