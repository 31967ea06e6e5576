//! Media delivery routes: the HLS ladder (`/hls/{id}/…`), posters and originals
//! (`/media/{id}/…`). Only videos in `ready` expose their ladder and poster; every response
//! goes through [`delivery::serve_blob`].

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Response};

use crate::app::AppState;
use crate::db::VideoStatus;
use crate::http::delivery::{self, BlobResponse, CachePolicy};
use crate::http::error::ApiError;
use crate::http::videos::find;
use crate::media::ladder::Ladder;
use crate::media::playlist::MULTIVARIANT_PLAYLIST;
use crate::storage::keys;

/// RFC 8216 §4: the media type of HLS playlists.
pub const PLAYLIST_TYPE: &str = "application/vnd.apple.mpegurl";

/// `GET /hls/{id}/master.m3u8` — the multivariant playlist.
pub async fn multivariant(
    State(app): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response<Body>, ApiError> {
    let video = find(&app, &id).await?;
    if video.status != VideoStatus::Ready {
        return Err(ApiError::NotFound);
    }
    let how = BlobResponse {
        content_type: PLAYLIST_TYPE,
        cache: CachePolicy::LongLived,
        disposition: None,
    };
    delivery::serve_blob(
        &app.store,
        &keys::hls(&id, MULTIVARIANT_PLAYLIST),
        &method,
        &headers,
        how,
    )
    .await
}

/// `GET /hls/{id}/{rendition}/{file}` — a media playlist, init segment or media segment.
pub async fn rendition_file(
    State(app): State<AppState>,
    Path((id, rendition, file)): Path<(String, String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response<Body>, ApiError> {
    let video = find(&app, &id).await?;
    if video.status != VideoStatus::Ready
        || !video.renditions.iter().any(|r| r.name == rendition)
        || !is_plain_file_name(&file)
    {
        return Err(ApiError::NotFound);
    }
    let audio_only = rendition == Ladder::AUDIO_ONLY_NAME;
    let (content_type, cache) = match file.rsplit_once('.').map(|(_, ext)| ext) {
        Some("m3u8") => (PLAYLIST_TYPE, CachePolicy::LongLived),
        Some("m4s" | "mp4") if audio_only => ("audio/mp4", CachePolicy::Immutable),
        Some("m4s" | "mp4") => ("video/mp4", CachePolicy::Immutable),
        _ => return Err(ApiError::NotFound),
    };
    let how = BlobResponse {
        content_type,
        cache,
        disposition: None,
    };
    delivery::serve_blob(
        &app.store,
        &keys::hls(&id, &format!("{rendition}/{file}")),
        &method,
        &headers,
        how,
    )
    .await
}

/// `GET /media/{id}/poster.jpg`.
pub async fn poster(
    State(app): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response<Body>, ApiError> {
    let video = find(&app, &id).await?;
    if video.status != VideoStatus::Ready || !video.has_poster {
        return Err(ApiError::NotFound);
    }
    let how = BlobResponse {
        content_type: "image/jpeg",
        cache: CachePolicy::LongLived,
        disposition: None,
    };
    delivery::serve_blob(&app.store, &keys::poster(&id), &method, &headers, how).await
}

/// `GET /media/{id}/original` — the uploaded file, with Range support, as an attachment.
pub async fn original(
    State(app): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response<Body>, ApiError> {
    let video = find(&app, &id).await?;
    let how = BlobResponse {
        content_type: content_type_for_name(&video.source_name),
        cache: CachePolicy::Revalidate,
        disposition: Some(attachment(&video.source_name)),
    };
    delivery::serve_blob(&app.store, &keys::source(&id), &method, &headers, how).await
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
