//! Watch progress (`PUT`/`GET /api/videos/{id}/progress`, `/api/me/history`,
//! `/api/me/continue`) and view counting (`POST /api/videos/{id}/views`).

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::StatusCode;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::{Scope, policy, secret};
use crate::db::engagement::HistoryItem;
use crate::http::caller::Caller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::types::Paging;
use crate::http::types::{ListQuery, VideoView, rfc3339};
use crate::http::videos::find_watchable;

/// Cookie naming an anonymous viewer, so their views count once a day too.
pub const VIEWER_COOKIE: &str = "kino_viewer";
/// A view counts once per viewer per video in this window (24 h).
const VIEW_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// Body of `PUT /api/videos/{id}/progress`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PositionBody {
    /// Seconds from the start (clamped to the duration).
    #[schema(minimum = 0)]
    pub position: f64,
}

/// Body of `GET /api/videos/{id}/progress`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Position {
    /// Seconds; 0 when never watched.
    pub position: f64,
    /// Seconds, when known.
    pub duration: Option<f64>,
    /// RFC 3339, or null when never watched.
    pub updated_at: Option<String>,
}

/// `PUT /api/videos/{id}/progress` — signed in with the `write` scope (403 without); stores
/// the position (clamped to the duration); 204. 400 for a negative or non-finite position.
#[utoipa::path(
    put,
    path = "/api/videos/{id}/progress",
    tag = "engagement",
    operation_id = "save_progress",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`")),
    request_body(content = PositionBody, content_type = "application/json"),
    responses((status = 204, description = "Saved"), (status = 400, description = "A negative or non-finite position", body = ErrorBody), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "The token lacks `write`", body = ErrorBody), (status = 404, description = "No such video, or the caller may not see it", body = ErrorBody)),
    security(("bearer" = ["write"]), ("session" = []))
)]
pub async fn save(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<PositionBody>,
) -> Result<StatusCode, ApiError> {
    let who = caller.with_scope(Scope::Write)?;
    let video = find_watchable(&app, &id, Some(&who)).await?;
    if !body.position.is_finite() || body.position < 0.0 {
        return Err(ApiError::BadRequest("position must be a number of seconds ≥ 0".into()));
    }
    let position = video.duration.map_or(body.position, |d| body.position.min(d));
    app.db.save_position(who.user_id, &id, position).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/videos/{id}/progress` — where the caller left the video; needs `read`.
#[utoipa::path(
    get,
    path = "/api/videos/{id}/progress",
    tag = "engagement",
    operation_id = "load_progress",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`")),
    responses((status = 200, description = "Where the caller left the video", body = Position), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "The token lacks `read`", body = ErrorBody), (status = 404, description = "No such video, or the caller may not see it", body = ErrorBody)),
    security(("bearer" = ["read"]), ("session" = []))
)]
pub async fn load(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Position>, ApiError> {
    let who = caller.with_scope(Scope::Read)?;
    let video = find_watchable(&app, &id, Some(&who)).await?;
    let saved = app.db.position(who.user_id, &id).await?;
    Ok(Json(Position {
        position: saved.map_or(0.0, |(p, _)| p),
        duration: video.duration,
        updated_at: saved.map(|(_, at)| rfc3339(at)),
    }))
}

/// One entry of the caller's history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryView {
    pub video: VideoView,
    /// Seconds.
    pub position: f64,
    /// RFC 3339.
    pub updated_at: String,
    /// Watched to ≥ 95 %.
    pub finished: bool,
}

/// Body of `/api/me/history` and `/api/me/continue`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryPage {
    pub items: Vec<HistoryView>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
}

async fn history_page(
    app: &AppState,
    caller: Caller,
    peer: SocketAddr,
    q: ListQuery,
    unfinished_only: bool,
) -> Result<Json<HistoryPage>, ApiError> {
    let who = caller.with_scope(Scope::Read)?;
    let Paging { page, per_page, offset } = Paging::of(q.page, q.per_page, 24);
    let (items, total) = app
        .db
        .history(
            who.user_id,
            policy::listing_filter(Some(&who)),
            unfinished_only,
            per_page,
            offset,
        )
        .await?;
    let items = items
        .into_iter()
        .map(|item: HistoryItem| HistoryView {
            finished: item.finished(),
            position: item.position,
            updated_at: rfc3339(item.updated_at),
            video: VideoView::for_caller(app, item.video, Some(&who), Some(peer.ip())),
        })
        .collect();
    Ok(Json(HistoryPage {
        items,
        page,
        per_page,
        total,
    }))
}

/// `GET /api/me/history` — every video the caller started, most recent first.
#[utoipa::path(
    get,
    path = "/api/me/history",
    tag = "engagement",
    operation_id = "watch_history",
    params(ListQuery),
    responses((status = 200, description = "Videos the caller started, most recent first", body = HistoryPage), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "The token lacks `read`", body = ErrorBody)),
    security(("bearer" = ["read"]), ("session" = []))
)]
pub async fn history(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<HistoryPage>, ApiError> {
    history_page(&app, caller, peer, q, false).await
}

/// `GET /api/me/continue` — "continue watching": started and not finished (< 95 %).
#[utoipa::path(
    get,
    path = "/api/me/continue",
    tag = "engagement",
    operation_id = "continue_watching",
    params(ListQuery),
    responses((status = 200, description = "Started and not finished", body = HistoryPage), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "The token lacks `read`", body = ErrorBody)),
    security(("bearer" = ["read"]), ("session" = []))
)]
pub async fn continue_watching(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<HistoryPage>, ApiError> {
    history_page(&app, caller, peer, q, true).await
}

/// Answer of `POST /api/videos/{id}/views`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ViewCount {
    /// This call counted a view.
    pub counted: bool,
    pub views: i64,
}

/// `POST /api/videos/{id}/views` — pages call it once after 10 s of playback; it counts once
/// per viewer (account, else the `kino_viewer` cookie, set here when missing) per video per
/// 24 h. Anonymous calls are limited per address (429 past 20 a minute). No scope is needed:
/// anonymous viewers count too, so a token without `write` counting a view grants nothing.
#[utoipa::path(
    post,
    path = "/api/videos/{id}/views",
    tag = "engagement",
    operation_id = "count_view",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`")),
    responses((status = 200, description = "Whether this call counted a view, and the count", body = ViewCount), (status = 404, description = "No such video, or the caller may not see it", body = ErrorBody), (status = 429, description = "Rate-limited; `Retry-After` says when to try again", body = ErrorBody)),
    security((), ("bearer" = []), ("session" = []))
)]
pub async fn view(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Result<(CookieJar, Json<ViewCount>), ApiError> {
    let video = find_watchable(&app, &id, caller.0.as_ref()).await?;
    if caller.0.is_none() {
        app.limits
            .check_anonymous_view(peer.ip())
            .map_err(|w| ApiError::TooManyRequests {
                retry_after_secs: w.0.as_secs_f64().ceil().max(1.0) as u64,
            })?;
    }
    let (viewer, jar) = match (&caller.0, jar.get(VIEWER_COOKIE).map(|c| c.value().to_string())) {
        (Some(who), _) => (format!("u:{}", who.user_id), jar),
        (None, Some(v)) if v.len() == 43 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => {
            (format!("a:{v}"), jar)
        }
        (None, _) => {
            let v = secret::random_secret();
            let cookie = Cookie::build((VIEWER_COOKIE, v.clone()))
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .max_age(time::Duration::days(365));
            (format!("a:{v}"), jar.add(cookie))
        }
    };
    let (counted, views) = app.db.count_view(&video.id, &viewer, VIEW_WINDOW_MS).await?;
    Ok((jar, Json(ViewCount { counted, views })))
}
