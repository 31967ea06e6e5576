//! Media delivery routes: the HLS ladder (`/hls/{id}/…`), posters and originals
//! (`/media/{id}/…`), each also under a playback grant (`/hls/{id}/g/{grant}/…`,
//! `/media/{id}/g/{grant}/…`) for videos that are not public. Only videos in `ready` expose
//! their ladder and poster; every response goes through [`Delivery::serve`](crate::http::delivery::Delivery::serve).
//! Video records come from the [`VideoCache`](crate::http::video_cache::VideoCache) when it
//! has them; a refusal is always checked again against the database.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{Method, Response};

use crate::app::AppState;
use crate::auth::policy::{self, MediaAccess, MediaDenied};
use crate::auth::{Privacy, playback};
use crate::db::{VideoRecord, VideoStatus, now_ms};
use crate::http::caller::MediaCaller;
use crate::http::delivery::{BlobResponse, CachePolicy};
use crate::http::error::ApiError;
use crate::http::ll_hls;
use crate::http::videos::find;
use crate::media::ladder::Ladder;
use crate::media::passthrough::SOURCE_RENDITION;
use crate::media::playlist::MULTIVARIANT_PLAYLIST;
use crate::media::storyboard;
use crate::media::transcode::MEDIA_PLAYLIST;
use crate::storage::keys;

/// RFC 8216 §4: the media type of HLS playlists.
pub const PLAYLIST_TYPE: &str = "application/vnd.apple.mpegurl";

/// Path parameters of a media route: the video and, on `/g/{grant}/` routes, a playback grant.
#[derive(Debug, serde::Deserialize)]
pub struct MediaPath {
    id: String,
    grant: Option<String>,
    rendition: Option<String>,
    file: Option<String>,
}

/// Decides whether this request may have the video's media, and how shared caches may keep
/// it. Public videos: anyone, cacheable by CDNs. Others: a valid playback grant (a bad one:
/// 403 naming what is wrong with it, or 404 on a private video, as for an unknown id), or a
/// signed-in caller allowed to watch; without either, 403 with where to get a grant — or 404
/// for a private video, whose existence is not revealed. `usable` says whether the video has
/// what the route serves (404 otherwise).
async fn authorize(
    app: &AppState,
    id: &str,
    grant: Option<&str>,
    caller: &MediaCaller,
    peer: SocketAddr,
    usable: impl Fn(&VideoRecord) -> bool,
) -> Result<(Arc<VideoRecord>, Option<CachePolicy>), ApiError> {
    if let Some(video) = app.videos.get(id)
        && let Ok(private) = decide(app, &video, grant, caller, peer)
        && usable(&video)
    {
        return Ok((video, private));
    }
    let ticket = app.videos.ticket();
    let video = Arc::new(find(app, id).await?);
    app.videos.put(ticket, video.clone());
    let private = decide(app, &video, grant, caller, peer)?;
    if !usable(&video) {
        return Err(ApiError::NotFound);
    }
    Ok((video, private))
}

/// Verifies playback grant `token` for `video` now, for a request from `peer`
/// ([`playback::verify`]).
pub(crate) fn verify_grant(
    app: &AppState,
    video: &VideoRecord,
    token: &str,
    peer: SocketAddr,
) -> Result<playback::Grant, playback::GrantError> {
    let now = (now_ms() / 1000) as u64;
    playback::verify(
        &app.keys,
        token,
        &video.id,
        video.grant_generation,
        Some(peer.ip()),
        now,
    )
}

/// The access decision of [`authorize`] for one video record.
fn decide(
    app: &AppState,
    video: &VideoRecord,
    grant: Option<&str>,
    caller: &MediaCaller,
    peer: SocketAddr,
) -> Result<Option<CachePolicy>, ApiError> {
    let grant = grant.map(|grant| {
        verify_grant(app, video, grant, peer)
            .map(drop)
            .map_err(|e| e.to_string().replace("{id}", &video.id))
    });
    match policy::media_access(caller.0.as_ref(), video.acl(), grant) {
        Ok(MediaAccess::Shared) => Ok(None),
        Ok(MediaAccess::Private) => Ok(Some(CachePolicy::Private)),
        // A private video does not exist for someone without a valid grant: the same 404 as an
        // unknown id. Unlisted ones are known to whoever has the link: say what is wrong.
        Err(MediaDenied::BadGrant(_)) if video.privacy == Privacy::Private => Err(ApiError::NotFound),
        Err(MediaDenied::BadGrant(why)) => Err(ApiError::Forbidden(why)),
        Err(MediaDenied::NeedsGrant) => Err(ApiError::Forbidden(format!(
            "this video's media needs a playback grant: GET /api/videos/{}/playback",
            video.id
        ))),
        Err(MediaDenied::NotFound) => Err(ApiError::NotFound),
    }
}

/// `GET /hls/{id}/master.m3u8` (and `/hls/{id}/g/{grant}/master.m3u8`) — the multivariant
/// playlist.
pub async fn multivariant(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: MediaCaller,
    Path(path): Path<MediaPath>,
    req: Request,
) -> Result<Response<Body>, ApiError> {
    let (video, private) = authorize(
        &app,
        &path.id,
        path.grant.as_deref(),
        &caller,
        peer,
        VideoRecord::playable,
    )
    .await?;
    // A ready video's multivariant playlist changes when captions are added or removed: caches
    // keep it a minute, not a day like its media playlists.
    let cache = match playlist_cache(&app, &video) {
        CachePolicy::LongLived => CachePolicy::Minute,
        other => other,
    };
    let how = BlobResponse {
        content_type: PLAYLIST_TYPE,
        cache: private.unwrap_or(cache),
        disposition: None,
        immutable: false,
    };
    app.delivery
        .serve(
            keys::hls(&video.id, MULTIVARIANT_PLAYLIST).as_ref(),
            req.method(),
            req.headers(),
            how,
        )
        .await
}

/// `GET /hls/{id}/{rendition}/{file}` (and under `/g/{grant}/`) — a media playlist, init
/// segment or media segment; under `storyboard/`, the seek-bar previews' WebVTT track and
/// JPEG sprite sheets; under `subs_<id>/`, a caption track's playlist and WebVTT segments.
pub async fn rendition_file(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: MediaCaller,
    Path(path): Path<MediaPath>,
    req: Request,
) -> Result<Response<Body>, ApiError> {
    let (Some(rendition), Some(file)) = (path.rendition.as_deref(), path.file.as_deref()) else {
        return Err(ApiError::NotFound);
    };
    let target = RenditionFile {
        id: &path.id,
        grant: path.grant.as_deref(),
        rendition,
        file,
        query: req.uri().query(),
    };
    serve_rendition_file(&app, peer, &caller, target, req.method(), req.headers()).await
}

/// Where a rendition file request points: `/hls/{id}/{rendition}/{file}`, or
/// `/hls/{id}/g/{grant}/{rendition}/{file}` with a playback grant.
#[derive(Debug, Clone, Copy)]
pub struct RenditionFile<'a> {
    pub id: &'a str,
    pub grant: Option<&'a str>,
    pub rendition: &'a str,
    pub file: &'a str,
    /// The request's query string: a live media playlist's low-latency HLS directives
    /// ([`crate::http::ll_hls`]).
    pub query: Option<&'a str>,
}

/// The answer to a GET or HEAD of `target` from `peer` (the client's address) by `caller`
/// with request headers `headers`: what [`rendition_file`] answers, for the router and for
/// [`crate::http::direct`], which calls it without the router.
///
/// Errors: 404 for an unknown video or file (or a private video the caller may not see), 403
/// naming what is missing for an unlisted one, 412/416 as [`crate::http::delivery`] decides.
pub async fn serve_rendition_file(
    app: &AppState,
    peer: SocketAddr,
    caller: &MediaCaller,
    target: RenditionFile<'_>,
    method: &Method,
    headers: &axum::http::HeaderMap,
) -> Result<Response<Body>, ApiError> {
    let RenditionFile { rendition, file, .. } = target;
    if !is_plain_file_name(file) {
        return Err(ApiError::NotFound);
    }
    // A ready video's passthrough rendition, dropped from its ladder, stays reachable while
    // its files do (a grace period for players that were already playing it).
    let storyboard = rendition == storyboard::DIR;
    // A caption track's rendition, `subs_<id>`: served while its files exist (deleting a
    // track deletes them; a file that is not there is a 404 like any other).
    let caption: Option<i64> = rendition.strip_prefix("subs_").and_then(|n| n.parse().ok());
    let listed = |video: &VideoRecord| {
        video.playable()
            && (video.renditions.iter().any(|r| r.name == rendition)
                || (rendition == SOURCE_RENDITION && video.status == VideoStatus::Ready)
                || (storyboard && video.has_storyboard)
                || (caption.is_some() && video.status == VideoStatus::Ready))
    };
    let (video, private) = authorize(app, target.id, target.grant, caller, peer, listed).await?;
    let audio_only = rendition == Ladder::AUDIO_ONLY_NAME
        || video
            .renditions
            .iter()
            .any(|r| r.name == rendition && r.audio_track.is_some());
    let (content_type, cache) = match file.rsplit_once('.').map(|(_, ext)| ext) {
        // The storyboard's track and sheets (written once, with the ladder).
        Some("vtt") if storyboard => ("text/vtt; charset=utf-8", CachePolicy::Immutable),
        Some("jpg") if storyboard => ("image/jpeg", CachePolicy::Immutable),
        _ if storyboard => return Err(ApiError::NotFound),
        // A caption track: its files never change (a new upload is a new track).
        Some("vtt") if caption.is_some() => ("text/vtt; charset=utf-8", CachePolicy::Immutable),
        Some("m3u8") if caption.is_some() => (PLAYLIST_TYPE, CachePolicy::LongLived),
        _ if caption.is_some() => return Err(ApiError::NotFound),
        Some("m3u8") => (PLAYLIST_TYPE, playlist_cache(app, &video)),
        Some("m4s" | "mp4") if audio_only => ("audio/mp4", CachePolicy::Immutable),
        Some("m4s" | "mp4") => ("video/mp4", CachePolicy::Immutable),
        _ => return Err(ApiError::NotFound),
    };
    let (file, cache) = match video.status {
        VideoStatus::Live if app.config.live.low_latency => {
            low_latency(app, &video, rendition, file, target.query, cache).await?
        }
        _ => (file, cache),
    };
    let key = keys::hls_text(&video.id, rendition, file);
    let immutable = cache == CachePolicy::Immutable;
    // A live part (≈ 0.2 s) is served here: a redirect would add a round trip per part, which
    // is most of what low-latency HLS saves.
    if immutable
        && *method == Method::GET
        && crate::live::playlist::part_number(file).is_none()
        && let Some(redirect) = segment_redirect(app, &video, &key, private.is_some()).await?
    {
        return Ok(redirect);
    }
    let how = BlobResponse {
        content_type,
        cache: private.unwrap_or(cache),
        disposition: None,
        immutable,
    };
    app.delivery.serve(&key, method, headers, how).await
}

/// What low-latency HLS changes in the answer for `file` of a live rendition: a blocking
/// reload waits for its part and may be cached as long as it was held (its URL names a part
/// it is sure to list); `_HLS_skip` answers with the delta update; the part a preload hint
/// named is waited for. Returns the file to serve and its cache policy.
///
/// Errors: 400 for malformed directives, 503 when the part did not come in time
/// ([`crate::http::ll_hls`]).
async fn low_latency<'a>(
    app: &AppState,
    video: &VideoRecord,
    rendition: &str,
    file: &'a str,
    query: Option<&str>,
    cache: CachePolicy,
) -> Result<(&'a str, CachePolicy), ApiError> {
    if file == MEDIA_PLAYLIST {
        let directives = ll_hls::Directives::parse(query.unwrap_or(""))?;
        let mut cache = cache;
        if let Some(msn) = directives.msn
            && ll_hls::await_playlist(app, &video.id, rendition, msn, directives.part).await?
        {
            // The answer lists the part its URL names: any later copy of it does too.
            cache = CachePolicy::Live(ll_hls::hold_limit(app).as_secs() as u32);
        }
        if directives.skip {
            return Ok((crate::live::packager::DELTA_PLAYLIST, cache));
        }
        return Ok((file, cache));
    }
    if let Some((session, number)) = crate::live::playlist::part_number(file) {
        ll_hls::await_part(app, &video.id, rendition, session, number).await?;
    }
    Ok((file, cache))
}

/// Playlists of a finished ladder are stable; while a video is still processing they grow
/// (RFC 8216 §6.2.1), so caches may keep them only briefly; a live stream's change every
/// segment, so caches may keep them at most half a segment (whole seconds: none at 1 s).
fn playlist_cache(app: &AppState, video: &VideoRecord) -> CachePolicy {
    match video.status {
        VideoStatus::Ready => CachePolicy::LongLived,
        VideoStatus::Live | VideoStatus::Ended | VideoStatus::Idle => {
            CachePolicy::Live((app.config.live.segment_secs / 2.0).floor() as u32)
        }
        _ => CachePolicy::Growing,
    }
}

/// With an S3 store and `s3.redirect = "presigned"` or `s3.cdn_base_url` set, the answer to a
/// segment GET that passed the access check: 307 (RFC 9110 §15.4.8) to the CDN copy for a
/// public video requested without a grant (`restricted` false), else to a presigned URL valid
/// for `s3.presign_secs`. The redirect itself is never stored by shared caches when presigned
/// (the URL expires). `None`: serve the bytes (HEAD always is: a presigned URL is for GET).
async fn segment_redirect(
    app: &AppState,
    video: &VideoRecord,
    key: &str,
    restricted: bool,
) -> Result<Option<Response<Body>>, ApiError> {
    if !app.store.is_s3() {
        return Ok(None);
    }
    let key = &object_store::path::Path::from(key);
    let s3 = &app.config.s3;
    let (location, cache) = match (&s3.cdn_base_url, video.privacy) {
        (Some(base), Privacy::Public) if !restricted => {
            let object = app.store.bucket_key(key).unwrap_or_default();
            (
                format!("{}/{object}", base.trim_end_matches('/')),
                "public, max-age=86400".to_string(),
            )
        }
        _ if s3.redirect == crate::config::RedirectMode::Presigned => {
            let ttl = std::time::Duration::from_secs(s3.presign_secs);
            match app.store.presigned_get(key, ttl).await {
                Ok(Some(url)) => (url, "private, no-store".to_string()),
                Ok(None) => return Ok(None),
                Err(e) => return Err(ApiError::Internal(e.into())),
            }
        }
        _ => return Ok(None),
    };
    let response = Response::builder()
        .status(axum::http::StatusCode::TEMPORARY_REDIRECT)
        .header(axum::http::header::LOCATION, location)
        .header(axum::http::header::CACHE_CONTROL, cache)
        .body(Body::empty())
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Some(response))
}

/// `GET /media/{id}/poster.jpg` (and under `/g/{grant}/`).
pub async fn poster(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: MediaCaller,
    Path(path): Path<MediaPath>,
    req: Request,
) -> Result<Response<Body>, ApiError> {
    let has_poster = |video: &VideoRecord| video.playable() && video.has_poster;
    let (video, private) = authorize(&app, &path.id, path.grant.as_deref(), &caller, peer, has_poster).await?;
    let how = BlobResponse {
        content_type: "image/jpeg",
        cache: private.unwrap_or(CachePolicy::LongLived),
        disposition: None,
        immutable: false,
    };
    app.delivery
        .serve(keys::poster(&video.id).as_ref(), req.method(), req.headers(), how)
        .await
}

/// `GET /media/{id}/original` (and under `/g/{grant}/`, but not an embed link's grant: 403) —
/// the uploaded file, with Range
/// support, as an attachment.
pub async fn original(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: MediaCaller,
    Path(path): Path<MediaPath>,
    req: Request,
) -> Result<Response<Body>, ApiError> {
    serve_original(
        &app,
        peer,
        &caller,
        &path.id,
        path.grant.as_deref(),
        req.method(),
        req.headers(),
    )
    .await
}

/// The answer to a GET or HEAD of video `id`'s original (under playback grant `grant`, if
/// any) from `peer` by `caller`: what [`original`] answers, for the router and for
/// [`crate::http::direct`], which calls it without the router. A download
/// (`Content-Disposition: attachment`) with the ranges and conditionals of
/// [`crate::http::delivery`].
///
/// Errors: 404 for an unknown video (or a private one the caller may not see), 403 for an
/// embed link's grant or an unlisted video without a grant.
pub async fn serve_original(
    app: &AppState,
    peer: SocketAddr,
    caller: &MediaCaller,
    id: &str,
    grant: Option<&str>,
    method: &Method,
    headers: &axum::http::HeaderMap,
) -> Result<Response<Body>, ApiError> {
    let (video, private) = authorize(app, id, grant, caller, peer, |_| true).await?;
    // `authorize` verified the grant, its binding included.
    if grant.is_some_and(playback::is_embed) {
        return Err(ApiError::Forbidden(
            "an embed link's grant plays the video; it does not download the original".into(),
        ));
    }
    let how = BlobResponse {
        content_type: content_type_for_name(&video.source_name),
        cache: private.unwrap_or(CachePolicy::Revalidate),
        disposition: Some(attachment(&video.source_name)),
        immutable: false,
    };
    app.delivery
        .serve(keys::source(&video.id).as_ref(), method, headers, how)
        .await
}

/// A segment or playlist name as Kino writes them: `[A-Za-z0-9_.-]`, no leading dot.
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

/// Content type of an original from its file name (the transcode never trusts it; this only
/// tells a browser what it downloads).
pub fn content_type_for_name(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "mkv" => "video/x-matroska",
        "ts" | "m2ts" => "video/mp2t",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "ogg" | "oga" => "audio/ogg",
        "wav" => "audio/wav",
        _ => "application/octet-stream",
    }
}

/// RFC 6266 `Content-Disposition: attachment` with an ASCII fallback name.
fn attachment(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{}\"",
        if safe.trim().is_empty() { "video" } else { safe.trim() }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_reach_storage() {
        assert!(is_plain_file_name("seg_00001.m4s"));
        assert!(!is_plain_file_name("../source"));
        assert!(!is_plain_file_name(".hidden"));
        assert!(!is_plain_file_name("a/b"));
    }

    #[test]
    fn transport_streams_are_not_typescript() {
        assert_eq!(content_type_for_name("x.TS"), "video/mp2t");
        assert_eq!(attachment("we\"ird\n.mp4"), "attachment; filename=\"we_ird_.mp4\"");
    }
}
