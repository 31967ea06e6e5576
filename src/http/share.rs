//! Sharing: the watch page with Open Graph and oEmbed discovery tags (so a link unfurls in
//! chat apps), the embed page (`/embed/{id}`: the player alone, framable by any site), and the
//! oEmbed endpoint (`GET /api/oembed?url=…`, oEmbed 1.0 §2).
//!
//! Only public and unlisted videos are described: whoever has their link may see them anyway.
//! A private video's watch page carries no details, and oEmbed answers 401 for it (§2.3.4.4).

use axum::Json;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::{Privacy, playback};
use crate::db::VideoRecord;
use crate::db::now_ms;
use crate::http::caller::Caller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::pages::respond;
use crate::http::types::rfc3339;
use crate::http::videos::find_manageable;
use crate::ids::is_video_id;

/// Default and largest embed width, pixels.
const EMBED_WIDTH: u32 = 640;

/// The site's origin for absolute URLs: `public_url` when set, else the request's `Host`
/// (https when a proxy of `http.trusted_proxies` says `X-Forwarded-Proto: https`; the header
/// from anyone else is ignored).
pub fn origin(app: &AppState, peer: IpAddr, headers: &HeaderMap) -> String {
    if let Some(url) = &app.config.public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
        .unwrap_or("localhost");
    let https = app.proxies.contains(peer)
        && headers
            .get("x-forwarded-proto")
            .is_some_and(|p| p.as_bytes() == b"https");
    format!("{}://{host}", if https { "https" } else { "http" })
}

/// Text for an HTML attribute value or element: `& < > " '` escaped (html-escape's
/// quoted-attribute encoder, safe in element text too).
fn escape(s: &str) -> String {
    html_escape::encode_quoted_attribute(s).into_owned()
}

/// A public or unlisted, watchable video by id, or None.
async fn shareable(app: &AppState, id: &str) -> Option<std::sync::Arc<VideoRecord>> {
    let video = crate::http::videos::find_cached(app, id).await.ok()?;
    (video.privacy != Privacy::Private).then_some(video)
}

/// Display size of an embed `max_width` wide at most, keeping the picture's shape (16:9
/// without one).
fn embed_size(video: &VideoRecord, max_width: Option<u32>, max_height: Option<u32>) -> (u32, u32) {
    let (w, h) = video
        .renditions
        .iter()
        .filter_map(|r| Some((r.width?, r.height?)))
        .max_by_key(|(_, h)| *h)
        .unwrap_or((16, 9));
    let mut width = max_width.unwrap_or(EMBED_WIDTH).clamp(160, 3840);
    let mut height = (f64::from(width) * f64::from(h) / f64::from(w)).round() as u32;
    if let Some(mh) = max_height.filter(|&mh| mh >= 90 && mh < height) {
        height = mh;
        width = (f64::from(mh) * f64::from(w) / f64::from(h)).round() as u32;
    }
    (width, height)
}

fn iframe(origin: &str, video: &VideoRecord, width: u32, height: u32) -> String {
    iframe_for(&format!("{origin}/embed/{}", video.id), video, width, height)
}

fn iframe_for(src: &str, video: &VideoRecord, width: u32, height: u32) -> String {
    format!(
        "<iframe src=\"{}\" width=\"{width}\" height=\"{height}\" title=\"{}\" frameborder=\"0\" \
         allow=\"autoplay; fullscreen; picture-in-picture\" allowfullscreen></iframe>",
        escape(src),
        escape(&video.title)
    )
}

/// The `<head>` tags describing `video`: Open Graph (ogp.me: title, description, image,
/// video, url), Twitter's player card, and oEmbed discovery (§4).
fn head_tags(origin: &str, video: &VideoRecord) -> String {
    let page = format!("{origin}/watch/{}", video.id);
    let embed = format!("{origin}/embed/{}", video.id);
    let (w, h) = embed_size(video, None, None);
    let description: String = video.description.chars().take(200).collect();
    let mut tags = vec![
        format!("<meta property=\"og:type\" content=\"video.other\">"),
        format!("<meta property=\"og:site_name\" content=\"Kino\">"),
        format!("<meta property=\"og:title\" content=\"{}\">", escape(&video.title)),
        format!("<meta property=\"og:url\" content=\"{page}\">"),
        format!("<meta property=\"og:video\" content=\"{embed}\">"),
        format!("<meta property=\"og:video:type\" content=\"text/html\">"),
        format!("<meta property=\"og:video:width\" content=\"{w}\">"),
        format!("<meta property=\"og:video:height\" content=\"{h}\">"),
        format!("<meta name=\"twitter:card\" content=\"player\">"),
        format!("<meta name=\"twitter:player\" content=\"{embed}\">"),
        format!("<meta name=\"twitter:player:width\" content=\"{w}\">"),
        format!("<meta name=\"twitter:player:height\" content=\"{h}\">"),
        format!(
            "<link rel=\"alternate\" type=\"application/json+oembed\" href=\"{origin}/api/oembed?url={}\" title=\"{}\">",
            url::form_urlencoded::byte_serialize(page.as_bytes()).collect::<String>(),
            escape(&video.title)
        ),
    ];
    if !description.is_empty() {
        tags.push(format!(
            "<meta property=\"og:description\" content=\"{}\">",
            escape(&description)
        ));
        tags.push(format!(
            "<meta name=\"description\" content=\"{}\">",
            escape(&description)
        ));
    }
    if video.has_poster && video.privacy == Privacy::Public {
        tags.push(format!(
            "<meta property=\"og:image\" content=\"{origin}/media/{}/poster.jpg\">",
            video.id
        ));
    }
    tags.join("\n  ")
}

/// `GET /watch/{id}` — the player page, with Open Graph and oEmbed tags for a public or
/// unlisted video.
pub async fn watch(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let page = respond("watch.html", "no-cache");
    let Some(video) = shareable(&app, &id).await else {
        return page;
    };
    let (parts, body) = page.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 4 * 1024 * 1024).await else {
        return ApiError::Internal(anyhow::anyhow!("the watch page could not be read")).into_response();
    };
    let html = String::from_utf8_lossy(&bytes);
    let tags = head_tags(&origin(&app, peer.ip(), &headers), &video);
    let html = html.replacen("</head>", &format!("  {tags}\n</head>"), 1);
    let mut resp = Response::from_parts(parts, axum::body::Body::from(html));
    resp.headers_mut().remove(header::CONTENT_LENGTH);
    resp
}

/// `GET /embed/{id}` — the player alone, for `<iframe>`s on other sites (its CSP allows any
/// frame ancestor). Public and unlisted videos play for anyone; a private one only for a
/// viewer whose session cookie the framing site lets through, or for anyone with the owner's
/// embed link (`POST /api/videos/{id}/embed-link`), whose `?grant=` the page hands to the API.
pub async fn embed(Path(_id): Path<String>) -> Response {
    respond("embed.html", "no-cache")
}

/// Query of `GET /api/oembed`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OembedQuery {
    /// A watch page URL, `https://HOST/watch/ID` (or its embed URL).
    pub url: String,
    /// Largest width of the embed, pixels (default 640).
    pub maxwidth: Option<u32>,
    /// Largest height of the embed, pixels.
    pub maxheight: Option<u32>,
    /// `json`, the default and the only format served (`xml` answers 501, as oEmbed §2.3.4.4
    /// asks; anything else 400).
    #[param(pattern = "^(json)?$")]
    pub format: Option<String>,
}

/// An oEmbed 1.0 `video` response (§2.3.4 and §2.3.4.4).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Oembed {
    /// Always `1.0`.
    pub version: &'static str,
    /// Always `video`.
    pub r#type: &'static str,
    pub title: String,
    pub author_name: Option<String>,
    pub author_url: Option<String>,
    pub provider_name: &'static str,
    pub provider_url: String,
    /// The `<iframe>` of the embed page.
    pub html: String,
    /// Pixels.
    pub width: u32,
    pub height: u32,
    pub thumbnail_url: Option<String>,
}

/// `GET /api/oembed?url=…` — oEmbed for a public or unlisted video's watch (or embed) URL:
/// 200 with the iframe; 404 for a URL that names no such video, 401 for a private one (oEmbed
/// §2.3.4.4), 501 for `format=xml`.
#[utoipa::path(
    get,
    path = "/api/oembed",
    tag = "videos",
    operation_id = "oembed",
    params(OembedQuery),
    responses((status = 200, description = "The embed", body = Oembed), (status = 401, description = "A private video", body = ErrorBody), (status = 404, description = "The URL names no video", body = ErrorBody), (status = 501, description = "A format other than json", body = ErrorBody)),
    security(())
)]
pub async fn oembed(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<OembedQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    match q.format.as_deref() {
        None | Some("" | "json") => {}
        Some("xml") => {
            return Err(ApiError::Status {
                status: 501,
                message: "only format=json is served".into(),
            });
        }
        Some(other) => return Err(ApiError::BadRequest(format!("format must be json (got {other:?})"))),
    }
    let id = url::Url::parse(&q.url)
        .ok()
        .and_then(|u| {
            let mut segs = u.path_segments()?;
            match (segs.next(), segs.next(), segs.next()) {
                (Some("watch" | "embed"), Some(id), None) => Some(id.to_string()),
                _ => None,
            }
        })
        .ok_or_else(|| ApiError::Missing("url must be a watch page URL like https://HOST/watch/ID".into()))?;
    if !is_video_id(&id) {
        return Err(ApiError::NotFound);
    }
    let video = app.db.video(&id).await?.ok_or(ApiError::NotFound)?;
    if video.privacy == Privacy::Private {
        return Err(ApiError::Unauthorized("the video is private".into()));
    }
    let origin = origin(&app, peer.ip(), &headers);
    let (width, height) = embed_size(&video, q.maxwidth, q.maxheight);
    let body = Oembed {
        version: "1.0",
        r#type: "video",
        html: iframe(&origin, &video, width, height),
        author_url: video.owner_name.as_ref().map(|n| format!("{origin}/u/{n}")),
        author_name: video.owner_name.clone(),
        title: video.title.clone(),
        provider_name: "Kino",
        provider_url: format!("{origin}/"),
        width,
        height,
        thumbnail_url: (video.has_poster && video.privacy == Privacy::Public)
            .then(|| format!("{origin}/media/{}/poster.jpg", video.id)),
    };
    let mut resp = Json(body).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(resp)
}

/// Longest a private embed link works, days.
pub const MAX_EMBED_LINK_DAYS: u32 = 365;

/// Body of `POST /api/videos/{id}/embed-link`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmbedLinkBody {
    /// Days a private video's link works, 1–365 (default 30). Public and unlisted videos'
    /// embed links need no grant and do not expire.
    #[schema(minimum = 1, maximum = 365)]
    #[serde(default, deserialize_with = "crate::http::whole::optional_u32")]
    pub days: Option<u32>,
}

/// An embed link and its `<iframe>`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EmbedLink {
    /// `https://HOST/embed/ID`, with `?grant=…` for a private video.
    pub url: String,
    /// The `<iframe>` to paste into a page.
    pub html: String,
    /// RFC 3339 time the link stops working; null when it does not expire.
    pub expires_at: Option<String>,
}

/// `POST /api/videos/{id}/embed-link` — the owner (or an admin; a token needs `read` and
/// `upload`) gets the video's embed link.
/// For a private video it carries a playback grant (not bound to an address, valid `days`
/// days), so the embed plays for anyone the link reaches until then, or until the owner
/// revokes the video's links (`POST /api/videos/{id}/revoke-links`) or changes its privacy.
#[utoipa::path(
    post,
    path = "/api/videos/{id}/embed-link",
    tag = "videos",
    operation_id = "create_embed_link",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`")),
    request_body(content = EmbedLinkBody, content_type = "application/json"),
    responses((status = 200, description = "The link", body = EmbedLink), (status = 400, description = "days outside 1–365", body = ErrorBody), (status = 401, description = "Not signed in", body = ErrorBody), (status = 403, description = "Not the owner, or the token lacks `read` or `upload`", body = ErrorBody), (status = 404, description = "No such video, or the caller may not see it", body = ErrorBody)),
    security(("bearer" = ["read", "upload"]), ("session" = []))
)]
pub async fn embed_link(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<EmbedLinkBody>,
) -> Result<Json<EmbedLink>, ApiError> {
    // Sharing a private video is watching it by proxy: `read` as well as `upload`.
    let who = caller.with_scope(crate::auth::Scope::Read)?;
    let video = find_manageable(&app, &id, Some(&who)).await?;
    let days = body.days.unwrap_or(30);
    if !(1..=MAX_EMBED_LINK_DAYS).contains(&days) {
        return Err(ApiError::BadRequest(format!(
            "days must be between 1 and {MAX_EMBED_LINK_DAYS} (got {days})"
        )));
    }
    let mut url = format!("{}/embed/{}", origin(&app, peer.ip(), &headers), video.id);
    let mut expires_at = None;
    if video.privacy == Privacy::Private {
        let expires = (now_ms() / 1000) as u64 + u64::from(days) * 86_400;
        let grant = playback::issue_for_embed(&app.keys, &video.id, video.grant_generation, expires);
        url = format!("{url}?grant={grant}");
        expires_at = Some(rfc3339(expires as i64 * 1000));
    }
    let (width, height) = embed_size(&video, None, None);
    Ok(Json(EmbedLink {
        html: iframe_for(&url, &video, width, height),
        url,
        expires_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_attributes() {
        assert_eq!(
            escape(r#"<b>"Tom" & 'Jerry'</b>"#),
            "&lt;b&gt;&quot;Tom&quot; &amp; &#x27;Jerry&#x27;&lt;/b&gt;"
        );
    }
}
