//! User pages: `GET /api/users/{name}` and `GET /api/users/{name}/videos`.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::policy;
use crate::db::{VideoFilter, VideoListing, VideoSort};
use crate::http::caller::Caller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::types::{ListQuery, VideoList, list_page, rfc3339};

/// A user as anyone may see them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicUser {
    pub username: String,
    /// RFC 3339.
    pub created_at: String,
    /// Videos the caller can see on this page.
    pub video_count: u64,
}

/// Body of `GET /api/users/{name}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserPage {
    pub user: PublicUser,
}

/// Query of `GET /api/users/{name}/videos`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserVideosQuery {
    #[serde(default)]
    pub sort: VideoSort,
    /// 1-based page number (default 1).
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 24; values outside are clamped).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

async fn filter_for(app: &AppState, name: &str) -> Result<(crate::db::UserRecord, VideoFilter), ApiError> {
    let user = app
        .db
        .user_by_login(&name.to_ascii_lowercase())
        .await?
        .filter(|u| u.username.eq_ignore_ascii_case(name))
        .ok_or(ApiError::NotFound)?;
    let filter = VideoFilter::OwnedBy(user.id);
    Ok((user, filter))
}

/// `GET /api/users/{name}` — 404 when no such user.
#[utoipa::path(
    get,
    path = "/api/users/{name}",
    tag = "users",
    operation_id = "get_user",
    params(("name" = String, Path, description = "Username")),
    responses((status = 200, description = "The public profile", body = UserPage), (status = 404, description = "No such user", body = ErrorBody)),
    security((), ("bearer" = []), ("session" = []))
)]
pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<UserPage>, ApiError> {
    let (user, filter) = filter_for(&app, &name).await?;
    let listing = VideoListing {
        filter,
        visible: policy::listing_filter(caller.0.as_ref()),
        tag: None,
        sort: VideoSort::Newest,
    };
    let (_, count) = app.db.list_videos(&listing, 1, 0).await?;
    Ok(Json(UserPage {
        user: PublicUser {
            username: user.username,
            created_at: rfc3339(user.created_at),
            video_count: count,
        },
    }))
}

/// `GET /api/users/{name}/videos?sort=newest|oldest|most_viewed&page=&per_page=` — their
/// videos as far as [`policy::listing_filter`] lets the caller see them: public ones, every
/// one for themselves (with `read`) and admins.
#[utoipa::path(
    get,
    path = "/api/users/{name}/videos",
    tag = "users",
    operation_id = "list_user_videos",
    params(("name" = String, Path, description = "Username"), UserVideosQuery),
    responses((status = 200, description = "Their videos the caller may see", body = VideoList), (status = 404, description = "No such user", body = ErrorBody)),
    security((), ("bearer" = []), ("session" = []))
)]
pub async fn videos(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    Path(name): Path<String>,
    Query(q): Query<UserVideosQuery>,
) -> Result<Json<VideoList>, ApiError> {
    let (_, filter) = filter_for(&app, &name).await?;
    let listing = VideoListing {
        filter,
        visible: policy::listing_filter(caller.0.as_ref()),
        tag: None,
        sort: q.sort,
    };
    let paging = ListQuery {
        page: q.page,
        per_page: q.per_page,
    };
    list_page(&app, &listing, paging, caller.0.as_ref(), peer.ip()).await
}
