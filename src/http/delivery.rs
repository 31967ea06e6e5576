//! Serving a stored blob over HTTP, correct to RFC 9110: validators (strong `ETag`,
//! `Last-Modified`), conditional requests (§13: If-Match, If-Unmodified-Since → 412;
//! If-None-Match, If-Modified-Since → 304, evaluated in §13.2.2 order), byte ranges (§14: a
//! single range → 206, unsatisfiable → 416 with `Content-Range: bytes */N`, a syntactically
//! invalid `Range` ignored → 200, `If-Range` with a strong ETag or an exact date), HEAD, and
//! `Accept-Ranges: bytes`. Bodies stream from the store in chunks; nothing is buffered whole.
//!
//! Every file route (segments, playlists, posters, originals) goes through [`serve_blob`], and
//! cache headers come only from [`CachePolicy`].

use std::ops::RangeInclusive;
use std::time::SystemTime;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
use futures::TryStreamExt;
use headers::{ETag, HeaderMapExt, IfMatch, IfModifiedSince, IfNoneMatch, IfUnmodifiedSince, LastModified};
use http_range_header::RangeUnsatisfiableError;

use crate::http::error::ApiError;
use crate::storage::{BlobStore, StoreError};
use object_store::path::Path as Key;

/// Cache-Control policies, the one place they are decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachePolicy {
    /// Segments and init segments: never change under their URL.
    Immutable,
    /// Playlists of a finished (VOD) ladder and posters: stable, but may be replaced if a
    /// video is re-processed.
    LongLived,
    /// Originals: fine to cache, revalidate after an hour.
    Revalidate,
    /// Media of a video that is not public: the browser may keep it, shared caches may not.
    Private,
}

impl CachePolicy {
    /// The `Cache-Control` value.
    pub fn header_value(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            CachePolicy::Immutable => "public, max-age=31536000, immutable",
            CachePolicy::LongLived => "public, max-age=86400",
            CachePolicy::Revalidate => "public, max-age=3600",
            CachePolicy::Private => "private, max-age=3600",
        })
    }
}

/// What to send besides the bytes.
#[derive(Debug, Clone)]
pub struct BlobResponse<'a> {
    pub content_type: &'a str,
    pub cache: CachePolicy,
    /// `Content-Disposition` value, for downloads.
    pub disposition: Option<String>,
}

/// Answers a GET or HEAD for the blob at `key`.
///
/// Errors: [`ApiError::NotFound`] when the blob does not exist; storage failures as 500.
pub async fn serve_blob(
    store: &BlobStore,
    key: &Key,
    method: &Method,
    req: &HeaderMap,
    how: BlobResponse<'_>,
) -> Result<Response<Body>, ApiError> {
    let meta = match store.head(key).await {
        Ok(m) => m,
        Err(StoreError::NotFound { .. }) => return Err(ApiError::NotFound),
        Err(e) => return Err(ApiError::Internal(e.into())),
    };
    let size = meta.size;
    let etag_text = strong_etag(meta.e_tag.as_deref(), size, meta.last_modified.timestamp());
    let etag: ETag = etag_text.parse().expect("a quoted token is a valid ETag");
    let modified: SystemTime = meta.last_modified.into();

    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(how.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(header::CACHE_CONTROL, how.cache.header_value());
    headers.typed_insert(etag.clone());
    headers.typed_insert(LastModified::from(modified));
    if let Some(d) = &how.disposition
        && let Ok(v) = HeaderValue::from_str(d)
    {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }

    if let Some(status) = precondition(method, req, &etag, modified) {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = status;
        if status == StatusCode::NOT_MODIFIED {
            for h in [header::ETAG, header::LAST_MODIFIED, header::CACHE_CONTROL] {
                if let Some(v) = headers.get(&h) {
                    resp.headers_mut().insert(h, v.clone());
                }
            }
        }
        return Ok(resp);
    }

    let range = if *method == Method::GET && if_range_holds(req, &etag_text, modified) {
        requested_range(req, size)
    } else {
        RangeRequest::Full
    };
    let (status, span) = match range {
        RangeRequest::Full => (StatusCode::OK, None),
        RangeRequest::Single(r) => {
            let v = format!("bytes {}-{}/{size}", r.start(), r.end());
            headers.insert(header::CONTENT_RANGE, HeaderValue::from_str(&v).expect("ascii"));
            (StatusCode::PARTIAL_CONTENT, Some(*r.start()..*r.end() + 1))
        }
        RangeRequest::Unsatisfiable => {
            let mut resp = Response::new(Body::empty());
            *resp.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            let v = format!("bytes */{size}");
            resp.headers_mut()
                .insert(header::CONTENT_RANGE, HeaderValue::from_str(&v).expect("ascii"));
            resp.headers_mut()
                .insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            return Ok(resp);
        }
    };
    let length = span.as_ref().map(|r| r.end - r.start).unwrap_or(size);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));

    let body = if *method == Method::HEAD || length == 0 {
        Body::empty()
    } else {
        match store.get(key, span).await {
            Ok(result) => Body::from_stream(result.into_stream().map_err(std::io::Error::other)),
            Err(StoreError::NotFound { .. }) => return Err(ApiError::NotFound),
            Err(e) => return Err(ApiError::Internal(e.into())),
        }
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    Ok(resp)
}

/// A strong entity tag, quoted, from the store's tag (or size and mtime when it has none).
fn strong_etag(store_tag: Option<&str>, size: u64, mtime: i64) -> String {
    let raw = store_tag
        .map(|t| {
            t.trim_matches('"')
                .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "")
        })
        .unwrap_or_else(|| format!("{size:x}-{mtime:x}"));
    format!("\"{raw}\"")
}

/// RFC 9110 §13.2.2: the status a failed precondition produces, if any.
fn precondition(method: &Method, req: &HeaderMap, etag: &ETag, modified: SystemTime) -> Option<StatusCode> {
    if let Some(if_match) = req.typed_get::<IfMatch>() {
        if !if_match.precondition_passes(etag) {
            return Some(StatusCode::PRECONDITION_FAILED);
        }
    } else if let Some(since) = req.typed_get::<IfUnmodifiedSince>()
        && !since.precondition_passes(modified)
    {
        return Some(StatusCode::PRECONDITION_FAILED);
    }
    let safe = *method == Method::GET || *method == Method::HEAD;
    if let Some(none_match) = req.typed_get::<IfNoneMatch>() {
        if !none_match.precondition_passes(etag) {
            return Some(if safe {
                StatusCode::NOT_MODIFIED
            } else {
                StatusCode::PRECONDITION_FAILED
            });
        }
    } else if safe
        && let Some(since) = req.typed_get::<IfModifiedSince>()
        && !since.is_modified(modified)
    {
        return Some(StatusCode::NOT_MODIFIED);
    }
    None
}

/// RFC 9110 §13.1.5: a Range applies only if If-Range (when present) matches the current
/// representation — a strong ETag compared strongly, or a date equal to Last-Modified.
fn if_range_holds(req: &HeaderMap, etag: &str, modified: SystemTime) -> bool {
    let Some(value) = req.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let value = value.trim();
    if value.starts_with('"') {
        return value == etag;
    }
    if value.starts_with("W/") {
        return false;
    }
    // HTTP dates have whole seconds: compare at that resolution, exactly.
    match httpdate::parse_http_date(value) {
        Ok(date) => httpdate::fmt_http_date(date) == httpdate::fmt_http_date(modified),
        Err(_) => false,
    }
}

/// How to answer the `Range` header of a GET.
#[derive(Debug, PartialEq, Eq)]
enum RangeRequest {
    Full,
    Single(RangeInclusive<u64>),
    Unsatisfiable,
}

/// RFC 9110 §14.2: parses `Range` against a representation of `size` bytes. No header, a
/// unit other than `bytes`, or a syntactically invalid value → the full representation;
/// several ranges → the full representation too (a server may ignore Range, §14.2).
fn requested_range(req: &HeaderMap, size: u64) -> RangeRequest {
    let Some(value) = req.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return RangeRequest::Full;
    };
    let parsed = match http_range_header::parse_range_header(value) {
        Ok(p) => p,
        Err(RangeUnsatisfiableError::Unsatisfiable) => return RangeRequest::Unsatisfiable,
        Err(_) => return RangeRequest::Full,
    };
    match parsed.validate(size) {
        Ok(ranges) if ranges.len() == 1 => RangeRequest::Single(ranges.into_iter().next().expect("one range")),
        Ok(_) => RangeRequest::Full,
        Err(RangeUnsatisfiableError::Unsatisfiable) => RangeRequest::Unsatisfiable,
        Err(_) => RangeRequest::Full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(v: &str, size: u64) -> RangeRequest {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_str(v).unwrap());
        requested_range(&h, size)
    }

    #[test]
    fn single_open_ended_and_suffix_ranges() {
        assert_eq!(range("bytes=0-99", 1000), RangeRequest::Single(0..=99));
        assert_eq!(range("bytes=500-", 1000), RangeRequest::Single(500..=999));
        assert_eq!(range("bytes=-300", 1000), RangeRequest::Single(700..=999));
        // RFC 9110 §14.1.2: a suffix longer than the representation selects all of it.
        assert_eq!(range("bytes=-5000", 1000), RangeRequest::Single(0..=999));
        assert_eq!(range("bytes=900-5000", 1000), RangeRequest::Single(900..=999));
    }

    #[test]
    fn unsatisfiable_and_invalid_ranges() {
        assert_eq!(range("bytes=1000-", 1000), RangeRequest::Unsatisfiable);
        assert_eq!(range("bytes=abc", 1000), RangeRequest::Full);
        assert_eq!(range("items=0-9", 1000), RangeRequest::Full);
        assert_eq!(range("bytes=5-1", 1000), RangeRequest::Full);
    }

    #[test]
    fn if_range_needs_a_strong_match() {
        let etag = "\"abc\"";
        let when = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let mut h = HeaderMap::new();
        h.insert(header::IF_RANGE, HeaderValue::from_static("\"abc\""));
        assert!(if_range_holds(&h, etag, when));
        h.insert(header::IF_RANGE, HeaderValue::from_static("W/\"abc\""));
        assert!(!if_range_holds(&h, etag, when));
        h.insert(
            header::IF_RANGE,
            HeaderValue::from_str(&httpdate::fmt_http_date(when)).unwrap(),
        );
        assert!(if_range_holds(&h, etag, when));
        let later = when + std::time::Duration::from_secs(5);
        h.insert(
            header::IF_RANGE,
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        assert!(!if_range_holds(&h, etag, when), "If-Range dates must match exactly");
    }

    #[test]
    fn preconditions_follow_rfc_9110_order() {
        let etag: ETag = "\"abc\"".parse().unwrap();
        let now = SystemTime::now();
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"abc\""));
        assert_eq!(
            precondition(&Method::GET, &h, &etag, now),
            Some(StatusCode::NOT_MODIFIED)
        );
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"other\""));
        assert_eq!(
            precondition(&Method::GET, &h, &etag, now),
            Some(StatusCode::PRECONDITION_FAILED)
        );
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"zzz\""));
        assert_eq!(precondition(&Method::GET, &h, &etag, now), None);
    }
}
