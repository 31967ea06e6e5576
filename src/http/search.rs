//! `GET /api/search?q=` — full-text search over title, description and tags (see
//! [`crate::db::search`]), only what the caller may find.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Query, State};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::http::caller::Caller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::types::Paging;
use crate::http::types::VideoView;

/// Query of `GET /api/search`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The words to find (at least one letter or digit; 400 otherwise).
    #[param(required = true, pattern = r"[^\W_]", max_length = 200)]
    pub q: Option<String>,
    /// 1-based page number (default 1).
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 24; values outside are clamped).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// Body of `GET /api/search`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    pub videos: Vec<VideoView>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
    pub q: String,
}

/// `GET /api/search?q=TEXT&page=&per_page=` — ranked matches (title above description, then
/// newest), words matched as prefixes, case and accents folded; 400 when `q` has no words.
#[utoipa::path(
    get,
    path = "/api/search",
    tag = "search",
    operation_id = "search_videos",
    params(SearchQuery),
    responses((status = 200, description = "Ranked matches", body = SearchResults), (status = 400, description = "`q` has no words", body = ErrorBody)),
    security((), ("bearer" = []), ("session" = []))
)]
pub async fn search(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    Query(q): Query<SearchQuery>,
) -> Result<Json<SearchResults>, ApiError> {
    let text = q.q.unwrap_or_default();
    if crate::db::search::fts_query(&text).is_none() {
        return Err(ApiError::BadRequest(
            "type at least one letter or digit to search".into(),
        ));
    }
    let Paging { page, per_page, offset } = Paging::of(q.page, q.per_page, 20);
    let visible = crate::auth::policy::listing_filter(caller.0.as_ref());
    let (videos, total) = app.db.search_videos(&text, visible, per_page, offset).await?;
    Ok(Json(SearchResults {
        videos: videos
            .into_iter()
            .map(|v| VideoView::for_caller(&app, v, caller.0.as_ref(), Some(peer.ip())))
            .collect(),
        page,
        per_page,
        total,
        q: text,
    }))
}
