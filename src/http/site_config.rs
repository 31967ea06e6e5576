//! `GET /api/config`: the rules pages must follow, from the server's own constants and
//! configuration, so the front end never restates them (field lengths, tag rules, the upload
//! limit, whether registration is open).

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::app::AppState;
use crate::video::{MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS};

/// Limits on what a client may send.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Limits {
    /// Longest video title, characters.
    pub title_chars: usize,
    /// Longest video description, characters.
    pub description_chars: usize,
    /// Longest comment, characters (`comments.max_chars`).
    pub comment_chars: usize,
    /// Most tags on a video.
    pub max_tags: usize,
    /// Longest tag, characters.
    pub tag_chars: usize,
    /// Largest upload, bytes (`max_upload_bytes`).
    pub max_upload_bytes: u64,
}

/// Body of `GET /api/config`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SiteConfig {
    pub limits: Limits,
    /// Whether new accounts may register (`auth.registration`).
    pub registration_open: bool,
}

/// `GET /api/config` — the site's rules for clients; the same for every caller.
#[utoipa::path(
    get,
    path = "/api/config",
    tag = "site",
    operation_id = "site_config",
    responses((status = 200, description = "Limits and switches pages follow", body = SiteConfig)),
    security((), ("bearer" = []), ("session" = []))
)]
pub async fn get(State(app): State<AppState>) -> Json<SiteConfig> {
    Json(SiteConfig {
        limits: Limits {
            title_chars: MAX_TITLE_CHARS,
            description_chars: MAX_DESCRIPTION_CHARS,
            comment_chars: app.config.comments.max_chars,
            max_tags: crate::tags::MAX_TAGS,
            tag_chars: crate::tags::MAX_TAG_CHARS,
            max_upload_bytes: app.config.max_upload_bytes,
        },
        registration_open: app.config.auth.registration,
    })
}
