//! Serving a stored blob over HTTP, correct to RFC 9110: validators (strong `ETag`,
//! `Last-Modified`), conditional requests (§13: If-Match, If-Unmodified-Since → 412;
//! If-None-Match, If-Modified-Since → 304, evaluated in §13.2.2 order), byte ranges (§14, see
//! [`ranges`]: one range → 206, several → 206 `multipart/byteranges`, unsatisfiable → 416
//! with `Content-Range: bytes */N`, an invalid `Range` ignored → 200, `If-Range` with a strong
//! ETag or an exact date), HEAD, and `Accept-Ranges: bytes`.
//!
//! Bodies come from where [`blob_source::locate`] finds the bytes: hot segments from memory
//! ([`SegmentCache`], one write), local files in [`CHUNK_BYTES`] chunks with positioned reads,
//! other stores through their range reads — so a streaming response holds at most a chunk or
//! two whatever the file size, a slow reader holds back the reads (backpressure), and a client
//! that disconnects drops the stream — file handle and buffers — at once. Responses with a
//! body are capped ([`StreamLimit`]): past the cap, 503 with `Retry-After`.
//!
//! With nginx in front (`http.accel_redirect`), a local blob is not sent at all: the answer
//! names it in `X-Accel-Redirect` and nginx serves the file (sendfile, ranges, conditionals).
//!
//! Every file route (segments, playlists, posters, originals) goes through
//! [`Delivery::serve`], and cache headers come only from [`CachePolicy`].

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use headers::{ETag, HeaderMapExt, IfMatch, IfModifiedSince, IfNoneMatch, IfUnmodifiedSince};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub use crate::http::blob_source::CHUNK_BYTES;
use crate::http::blob_source::{self, Source};
use crate::http::error::ApiError;
use crate::http::ranges::{self, Ranges};
use crate::http::segment_cache::SegmentCache;
use crate::http::validators::Validators;
use crate::storage::BlobStore;

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
    /// The multivariant playlist of a finished ladder: its caption tracks may change.
    Minute,
    /// Playlists of a video still processing: they grow, so a shared cache may hold them one
    /// second (under half a target duration, as RFC 8216 §6.2.2 asks of live playlists).
    Growing,
    /// Playlists of a live stream: a shared cache may hold them this many whole seconds (half
    /// a segment, rounded down; 0 = revalidate every time, `no-cache`).
    Live(u32),
    /// Media of a video that is not public: no shared cache may store it.
    Private,
}

impl CachePolicy {
    /// The `Cache-Control` value.
    pub fn header_value(self) -> HeaderValue {
        if let CachePolicy::Live(secs) = self {
            return if secs == 0 {
                HeaderValue::from_static("public, no-cache")
            } else {
                HeaderValue::from_str(&format!("public, max-age={secs}"))
                    .unwrap_or(HeaderValue::from_static("no-cache"))
            };
        }
        HeaderValue::from_static(match self {
            CachePolicy::Immutable => "public, max-age=31536000, immutable",
            CachePolicy::LongLived => "public, max-age=86400",
            CachePolicy::Revalidate => "public, max-age=3600",
            CachePolicy::Minute => "public, max-age=60",
            CachePolicy::Growing => "public, max-age=1",
            CachePolicy::Private => "private, no-store",
            CachePolicy::Live(_) => "public, no-cache",
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
    /// True for blobs that never change under their key (segments, init segments): they may
    /// be held in the [`SegmentCache`], whatever `cache` tells shared caches.
    pub immutable: bool,
}

impl BlobResponse<'_> {
    /// What kind of media this is, for metrics: `segment`, `original`, `poster` or `playlist`.
    fn kind(&self) -> &'static str {
        if self.immutable {
            "segment"
        } else if self.disposition.is_some() {
            "original"
        } else if self.content_type.starts_with("image/") {
            "poster"
        } else {
            "playlist"
        }
    }
}

/// The cap on concurrent streaming responses (`http.max_streams`), cheap to clone.
#[derive(Debug, Clone)]
pub struct StreamLimit {
    permits: Arc<Semaphore>,
    max: usize,
}

impl StreamLimit {
    /// At most `max` bodies streaming at once.
    pub fn new(max: usize) -> StreamLimit {
        StreamLimit {
            permits: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    /// Bodies streaming now.
    pub fn in_use(&self) -> usize {
        self.max - self.permits.available_permits()
    }

    /// Runs until `stop`: each time streaming goes quiet after a burst, hands the memory its
    /// chunk buffers used back to the OS (`malloc_trim`; glibc otherwise keeps freed arena
    /// memory, so RSS would stay at the burst's peak).
    pub async fn release_memory_when_idle(self, stop: tokio_util::sync::CancellationToken) {
        let mut every = tokio::time::interval(std::time::Duration::from_millis(500));
        let mut busy = false;
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = stop.cancelled() => return,
            }
            let now_busy = self.in_use() > 0;
            if busy && !now_busy {
                // SAFETY: malloc_trim only returns free memory to the OS; always sound to call.
                unsafe { libc::malloc_trim(0) };
            }
            busy = now_busy;
        }
    }

    fn try_acquire(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.permits.clone().try_acquire_owned().map_err(|_| {
            metrics::counter!("kino_streams_refused_total").increment(1);
            ApiError::Overloaded {
                retry_after_secs: 1,
                streams: self.max,
            }
        })
    }
}

/// The media delivery of a node: the store, the stream cap, the hot-segment cache and the
/// nginx hand-off, cheap to clone.
#[derive(Debug, Clone)]
pub struct Delivery {
    store: BlobStore,
    streams: StreamLimit,
    hot: SegmentCache,
    accel_redirect: Option<Arc<str>>,
}

impl Delivery {
    /// `accel_redirect`: the internal nginx location (`http.accel_redirect`), used only with
    /// the local media directory.
    pub fn new(store: BlobStore, streams: StreamLimit, hot: SegmentCache, accel_redirect: Option<&str>) -> Delivery {
        let accel_redirect = accel_redirect.filter(|_| !store.is_s3()).map(Arc::from);
        Delivery {
            store,
            streams,
            hot,
            accel_redirect,
        }
    }

    /// The cap on responses with a body.
    pub fn streams(&self) -> &StreamLimit {
        &self.streams
    }

    /// Bytes the hot-segment cache holds now.
    pub fn segment_cache_bytes(&self) -> u64 {
        self.hot.weight()
    }

    /// Answers a GET or HEAD for the blob whose key's text is `key` (as
    /// [`crate::storage::keys`] makes them: `videos/ID/hls/720p/seg_00001.m4s`).
    ///
    /// Errors: [`ApiError::NotFound`] when the blob does not exist; [`ApiError::Overloaded`]
    /// (503) when the stream cap is reached; storage failures as 500.
    pub async fn serve(
        &self,
        key: &str,
        method: &Method,
        req: &HeaderMap,
        how: BlobResponse<'_>,
    ) -> Result<Response<Body>, ApiError> {
        if let Some(prefix) = &self.accel_redirect
            && let Some(path) = self.store.local_path_of(key)
        {
            return accel_redirect(prefix, key, &path, &how);
        }
        // Only a GET may bring a file into memory (a HEAD or a refused request reads nothing).
        let cacheable = how.immutable && *method == Method::GET;
        let blob = blob_source::locate(&self.store, &self.hot, key, cacheable).await?;
        let kind = how.kind();
        let resp = respond(blob, &self.streams, method, req, how).await?;
        if *method == Method::GET
            && resp.status().is_success()
            && let Some(bytes) = resp
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            && crate::metrics::enabled()
        {
            let rendition = rendition_of(key).to_string();
            metrics::counter!("kino_media_response_bytes_total", "kind" => kind, "rendition" => rendition)
                .increment(bytes);
        }
        Ok(resp)
    }
}

/// The rendition a blob key belongs to (`videos/ID/hls/720p/seg_00001.m4s` → `720p`), or `""`.
fn rendition_of(key: &str) -> &str {
    key.split_once("/hls/")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map_or("", |(rendition, _)| rendition)
}

/// The `X-Accel-Redirect` answer for nginx: no body, the content headers, and the internal
/// location of the file (`prefix` + `key`). A missing file is Kino's 404, not nginx's.
fn accel_redirect(
    prefix: &str,
    key: &str,
    path: &std::path::Path,
    how: &BlobResponse<'_>,
) -> Result<Response<Body>, ApiError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => return Err(ApiError::NotFound),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ApiError::NotFound),
        Err(e) => return Err(ApiError::Internal(e.into())),
    }
    let target = format!("{prefix}{key}");
    let mut resp = Response::new(Body::empty());
    let headers = resp.headers_mut();
    headers.insert(
        "x-accel-redirect",
        HeaderValue::from_str(&target).map_err(|e| ApiError::Internal(e.into()))?,
    );
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(how.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CACHE_CONTROL, how.cache.header_value());
    if let Some(d) = &how.disposition
        && let Ok(v) = HeaderValue::from_str(d)
    {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// The response for `blob`: validators, conditionals, ranges, then the body.
async fn respond(
    blob: blob_source::Located,
    limit: &StreamLimit,
    method: &Method,
    req: &HeaderMap,
    how: BlobResponse<'_>,
) -> Result<Response<Body>, ApiError> {
    let size = blob.size;
    let validators = &blob.validators;
    let modified = validators.modified;

    let mut headers = HeaderMap::with_capacity(12);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(how.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(header::CACHE_CONTROL, how.cache.header_value());
    headers.insert(header::ETAG, validators.etag.clone());
    headers.insert(header::LAST_MODIFIED, validators.last_modified.clone());
    if let Some(d) = &how.disposition
        && let Ok(v) = HeaderValue::from_str(d)
    {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }

    if let Some(status) = precondition(method, req, validators) {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = status;
        if status == StatusCode::NOT_MODIFIED {
            for h in [header::ETAG, header::LAST_MODIFIED, header::CACHE_CONTROL] {
                if let Some(v) = headers.get(&h) {
                    resp.headers_mut().insert(h, v.clone());
                }
            }
            // RFC 9110 §8.6: a 304 may say the length a 200 would have had, and no other.
            // Without it, a HEAD's 304 would be given `Content-Length: 0` on the way out.
            resp.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
        }
        return Ok(resp);
    }

    // §14.2: Range applies to GET only; If-Range decides whether it applies at all.
    let range_header = req.get(header::RANGE).and_then(|v| v.to_str().ok());
    let wanted = if *method == Method::GET && if_range_holds(req, validators.etag_text(), modified) {
        ranges::resolve(range_header, size)
    } else {
        Ranges::Full
    };
    let (status, plan) = match wanted {
        Ranges::Full => (StatusCode::OK, Plan::Whole),
        Ranges::Single(r) => {
            let v = format!("bytes {}-{}/{size}", r.start, r.end - 1);
            headers.insert(header::CONTENT_RANGE, HeaderValue::from_str(&v).expect("ascii"));
            (StatusCode::PARTIAL_CONTENT, Plan::One(r))
        }
        Ranges::Multi(list) => {
            let parts = Multipart::new(how.content_type, size, list);
            let v = format!("multipart/byteranges; boundary={}", parts.boundary);
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(&v).expect("ascii"));
            (StatusCode::PARTIAL_CONTENT, Plan::Parts(parts))
        }
        Ranges::Unsatisfiable => {
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
    let length = match &plan {
        Plan::Whole => size,
        Plan::One(r) => r.end - r.start,
        Plan::Parts(p) => p.content_length(),
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));

    let mut region = None;
    let body = if *method == Method::HEAD || length == 0 {
        Body::empty()
    } else {
        let permit = limit.try_acquire()?;
        if let Source::File(file) = &blob.source {
            region = match &plan {
                Plan::Whole => Some(0..size),
                Plan::One(r) => Some(r.clone()),
                Plan::Parts(_) => None,
            }
            .map(|range| FileRegion {
                file: file.clone(),
                range,
            });
        }
        let stream = match plan {
            Plan::Whole => blob.source.range(0..size).await?,
            Plan::One(r) => blob.source.range(r).await?,
            Plan::Parts(p) => p.into_stream(blob.source),
        };
        // The permit lives exactly as long as the body: released when it ends or is dropped
        // (client gone).
        Body::from_stream(stream.map(move |chunk| {
            let _held = &permit;
            chunk
        }))
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    if let Some(region) = region {
        resp.extensions_mut().insert(region);
    }
    Ok(resp)
}

/// A response extension naming the file bytes its body streams, for a connection writer that
/// can send them without reading them (`sendfile(2)`): set on GET answers (200 or 206 with one
/// range) whose bytes come from an open local file. The body stays the authority — it holds
/// the stream permit, so a writer that sends the region itself keeps the body alive until the
/// last byte is out and then drops it unpolled.
#[derive(Clone, Debug)]
pub struct FileRegion {
    /// The open file (its size was checked when the response was made).
    pub file: Arc<std::fs::File>,
    /// Byte offsets in the file, end-exclusive: exactly the body's bytes.
    pub range: std::ops::Range<u64>,
}

/// What the body will be.
enum Plan {
    Whole,
    One(std::ops::Range<u64>),
    Parts(Multipart),
}

/// A `multipart/byteranges` body (RFC 9110 §14.6): each part has its own `Content-Type` and
/// `Content-Range`; lengths are known ahead, so `Content-Length` is exact.
struct Multipart {
    boundary: String,
    heads: Vec<Bytes>,
    ranges: Vec<std::ops::Range<u64>>,
    tail: Bytes,
}

impl Multipart {
    fn new(content_type: &str, size: u64, ranges: Vec<std::ops::Range<u64>>) -> Multipart {
        // Unique per response; a boundary only has to be absent from the body, and 96 random
        // bits are (RFC 2046 §5.1.1).
        let boundary = format!("kino-{:024x}", rand::random::<u128>() >> 32);
        let heads = ranges
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Bytes::from(format!(
                    "{}--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: bytes {}-{}/{size}\r\n\r\n",
                    if i == 0 { "" } else { "\r\n" },
                    r.start,
                    r.end - 1
                ))
            })
            .collect();
        let tail = Bytes::from(format!("\r\n--{boundary}--\r\n"));
        Multipart {
            boundary,
            heads,
            ranges,
            tail,
        }
    }

    fn content_length(&self) -> u64 {
        let heads: u64 = self.heads.iter().map(|h| h.len() as u64).sum();
        let bodies: u64 = self.ranges.iter().map(|r| r.end - r.start).sum();
        heads + bodies + self.tail.len() as u64
    }

    /// Each part's head, then its bytes (opened only when reached), then the closing boundary.
    fn into_stream(self, source: Source) -> BoxStream<'static, std::io::Result<Bytes>> {
        let parts = self.heads.into_iter().zip(self.ranges).map(move |(head, range)| {
            let source = source.clone();
            stream::once(async move { Ok(head) })
                .chain(
                    stream::once(async move {
                        source
                            .range(range)
                            .await
                            .map_err(|e| std::io::Error::other(e.to_string()))
                    })
                    .try_flatten(),
                )
                .boxed()
        });
        stream::iter(parts)
            .flatten()
            .chain(stream::once(async move { Ok(self.tail) }))
            .boxed()
    }
}

/// RFC 9110 §13.2.2: the status a failed precondition produces, if any.
fn precondition(method: &Method, req: &HeaderMap, validators: &Validators) -> Option<StatusCode> {
    let modified = validators.modified;
    // Most requests carry no precondition: the tag is parsed only for one that does.
    let tagged = req.contains_key(header::IF_MATCH) || req.contains_key(header::IF_NONE_MATCH);
    let parsed = tagged.then(|| {
        validators
            .etag_text()
            .parse::<ETag>()
            .expect("a quoted token is a valid ETag")
    });
    let etag = || parsed.as_ref().expect("parsed when a tag precondition is present");
    if let Some(if_match) = req.typed_get::<IfMatch>() {
        if !if_match.precondition_passes(etag()) {
            return Some(StatusCode::PRECONDITION_FAILED);
        }
    } else if let Some(since) = req.typed_get::<IfUnmodifiedSince>()
        && !since.precondition_passes(modified)
    {
        return Some(StatusCode::PRECONDITION_FAILED);
    }
    let safe = *method == Method::GET || *method == Method::HEAD;
    if let Some(none_match) = req.typed_get::<IfNoneMatch>() {
        if !none_match.precondition_passes(etag()) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let etag = Validators::new(Some("abc"), 1, SystemTime::now());
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"abc\""));
        assert_eq!(precondition(&Method::GET, &h, &etag), Some(StatusCode::NOT_MODIFIED));
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"other\""));
        assert_eq!(
            precondition(&Method::GET, &h, &etag),
            Some(StatusCode::PRECONDITION_FAILED)
        );
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"zzz\""));
        assert_eq!(precondition(&Method::GET, &h, &etag), None);
    }
}
