//! `GET /api/search?q=` — full-text search over title, description and tags (see
//! [`crate::db::search`]), only what the caller may find.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Query, State};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::http::caller::Caller;
use crate::http::error::ApiError;
use crate::http::videos::VideoView;

/// Query of `GET /api/search`.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    pub q: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Body of `GET /api/search`.
#[derive(Debug, Serialize)]
pub struct SearchResults {
    pub videos: Vec<VideoView>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
    pub q: String,
}

/// `GET /api/search?q=TEXT&page=&per_page=` — ranked matches (title above description, then
/// newest), words matched as prefixes, case and accents folded; 400 when `q` has no words.
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
    let page = q.page.unwrap_or(1).max(1);
    let per_page = q.per_page.unwrap_or(20).clamp(1, 100);
    let visible = crate::auth::policy::listing_filter(caller.0.as_ref());
    let (videos, total) = app
        .db
        .search_videos(&text, visible, per_page, u64::from(page - 1) * u64::from(per_page))
        .await?;
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
