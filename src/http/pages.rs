//! The web pages and their assets, bundled into the binary at build time (see `build.rs`).
//! The header every page shares is written once, in `web/static/site-header.html`, and put in
//! place of the page's `<!-- site-header -->` line when the page is served.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// A bundled asset by name. For front-end work, `KINO_WEB_DIR=web/static` serves the pages
/// from that directory instead (read on every request; hls.js still comes from the bundle).
fn asset(name: &str) -> Option<std::borrow::Cow<'static, [u8]>> {
    if let Some(dir) = std::env::var_os("KINO_WEB_DIR")
        && !name.contains('/')
        && !name.starts_with('.')
        && let Ok(bytes) = std::fs::read(std::path::Path::new(&dir).join(name))
    {
        return Some(bytes.into());
    }
    ASSETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| (*bytes).into())
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// The line of a page that the shared header replaces.
const HEADER_SLOT: &str = "  <!-- site-header -->\n";

/// A page with the shared header in its slot.
fn page(name: &str) -> Option<std::borrow::Cow<'static, [u8]>> {
    let html = asset(name)?;
    let header = asset("site-header.html")?;
    let text = String::from_utf8_lossy(&html);
    if !text.contains(HEADER_SLOT) {
        return Some(html);
    }
    Some(
        text.replace(HEADER_SLOT, &String::from_utf8_lossy(&header))
            .into_bytes()
            .into(),
    )
}

pub(crate) fn respond(name: &str, cache: &'static str) -> Response {
    let bytes = if name.ends_with(".html") {
        page(name)
    } else {
        asset(name)
    };
    match bytes {
        Some(bytes) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type(name))),
                (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            ],
            bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// `GET /` — the library.
pub async fn library() -> Response {
    respond("index.html", "no-cache")
}

/// `GET /upload` — the upload form.
pub async fn upload() -> Response {
    respond("upload.html", "no-cache")
}

/// `GET /live` — go live: create a live stream, its stream key and OBS settings, and the
/// broadcast's health while it runs.
pub async fn live() -> Response {
    respond("live.html", "no-cache")
}

/// `GET /signin` — the sign-in form.
pub async fn signin() -> Response {
    respond("signin.html", "no-cache")
}

/// `GET /signup` — the registration form.
pub async fn signup() -> Response {
    respond("signup.html", "no-cache")
}

/// `GET /me` — the signed-in user's videos, password and API tokens.
pub async fn me() -> Response {
    respond("me.html", "no-cache")
}

/// `/analytics`: QoE dashboards (site-wide for admins, one's own videos otherwise;
/// `?video=ID` for one video).
pub async fn analytics() -> Response {
    respond("analytics.html", "no-cache")
}

/// `GET /search?q=` — search results.
pub async fn search() -> Response {
    respond("search.html", "no-cache")
}

/// `GET /u/{name}` — a user's page (it reads the name from its own URL).
pub async fn user(Path(_name): Path<String>) -> Response {
    respond("user.html", "no-cache")
}

/// `GET /assets/{file}` — bundled CSS, JS and hls.js.
pub async fn assets(Path(file): Path<String>) -> Response {
    respond(&file, "public, max-age=3600")
}
