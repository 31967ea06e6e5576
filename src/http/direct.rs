//! Media files without the router. A GET or HEAD of `/hls/{id}/{rendition}/{file}` or
//! `/hls/{id}/g/{grant}/{rendition}/{file}` — segments, init segments and media playlists,
//! nearly every request a player makes — goes straight to [`media::serve_rendition_file`],
//! and one of an original (`/media/{id}/original`, with or without `/g/{grant}`) to
//! [`media::serve_original`]. Through the router the same answer passes six layers (trace,
//! client address, CORS, JSON errors, two header setters; seven with metrics), each a boxed
//! future and a header pass: a 64 KiB range of a hot segment took 79k user-space instructions
//! through the router and 44k without it (`bench/instructions.sh`, README "Benchmarks"). Here
//! the effect of those layers on these routes is applied in one step ([`finish`]): the client
//! address behind trusted proxies, the CORS and security headers every media answer carries,
//! JSON errors, the `Content-Length` axum sets on bodies of known size (HEAD answers included),
//! a log line for a server error (route and video, never the grant), a debug line per answer
//! in place of the trace layer's, and request metrics when they are exported.
//!
//! Everything else — other methods (CORS preflights, 405s), percent-encoded or unusual paths,
//! every other route — goes to the router, which serves these routes too and answers them the
//! same way (`tests/direct.rs` compares the two answers header by header).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri, header};
use axum::response::IntoResponse;
use futures::future::{BoxFuture, Either};
use hyper::body::Incoming;

use crate::app::AppState;
use crate::http::caller::MediaCaller;
use crate::http::media::{self, RenditionFile};
use crate::http::security_headers::RESOURCE_POLICY;

/// Response headers a page on another origin may read (CORS), for the router's CORS layer.
pub const EXPOSED_HEADER_NAMES: [header::HeaderName; 4] = [
    header::CONTENT_RANGE,
    header::CONTENT_LENGTH,
    header::ACCEPT_RANGES,
    header::ETAG,
];

/// [`EXPOSED_HEADER_NAMES`] as the router's CORS layer writes them, for the direct path.
pub const EXPOSED_HEADERS: &str = "content-range,content-length,accept-ranges,etag";

/// Kino's HTTP service: the router, with media files answered directly. Cheap to clone.
#[derive(Clone)]
pub struct Service {
    router: Router,
    app: AppState,
    metrics: bool,
}

impl Service {
    /// `router` is [`crate::app::router`] over `app`.
    pub fn new(router: Router, app: AppState) -> Service {
        let metrics = !app.config.metrics.listen.is_empty();
        Service { router, app, metrics }
    }

    /// The answer to a GET or HEAD of the media file `uri` names (checked by the caller with
    /// [`media_file`]) from `peer`, exactly as hyper's path through this service gives it: for
    /// Kino's own HTTP/1.1 connection loop ([`crate::http::http1_media`]).
    pub async fn media_file_answer(
        &self,
        peer: SocketAddr,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Response<Body> {
        answer(&self.app, peer, self.metrics, method, uri, headers).await
    }

    /// The service for one connection from `peer`: the router sees the peer as
    /// `ConnectInfo<SocketAddr>`.
    pub fn for_peer(&self, peer: SocketAddr) -> PeerService {
        PeerService {
            inner: self.clone(),
            peer,
        }
    }
}

/// [`Service`] for the requests of one connection.
#[derive(Clone)]
pub struct PeerService {
    inner: Service,
    peer: SocketAddr,
}

impl tower::Service<Request<Incoming>> for PeerService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future =
        Either<BoxFuture<'static, Result<Response<Body>, Infallible>>, axum::routing::future::RouteFuture<Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The router is always ready (axum's `Router::poll_ready`), and so is the direct path.
        // A layer with back-pressure added to the router would have to be polled here.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request<Incoming>) -> Self::Future {
        if (req.method() == Method::GET || req.method() == Method::HEAD) && media_file(req.uri().path()).is_some() {
            let (app, peer, metrics) = (self.inner.app.clone(), self.peer, self.inner.metrics);
            return Either::Left(Box::pin(async move {
                Ok(answer(&app, peer, metrics, req.method(), req.uri(), req.headers()).await)
            }));
        }
        req.extensions_mut().insert(ConnectInfo(self.peer));
        Either::Right(tower::Service::call(&mut self.inner.router, req))
    }
}

/// A file the direct path answers: a rendition file or an original.
#[derive(Debug, Clone, Copy)]
pub enum MediaFile<'a> {
    /// `/hls/{id}/{rendition}/{file}` or `/hls/{id}/g/{grant}/{rendition}/{file}`.
    Rendition(RenditionFile<'a>),
    /// `/media/{id}/original` or `/media/{id}/g/{grant}/original`.
    Original { id: &'a str, grant: Option<&'a str> },
}

/// The media file a request path names when the router would match it to a rendition file
/// ([`rendition_file`]) or an original (`/media/{id}/original`, `/media/{id}/g/{grant}/original`)
/// with these exact values; `None` for anything else, which goes to the router.
pub fn media_file(path: &str) -> Option<MediaFile<'_>> {
    if let Some(found) = rendition_file(path) {
        return Some(MediaFile::Rendition(found));
    }
    if path.contains('%') {
        return None;
    }
    let rest = path.strip_prefix("/media/")?.strip_suffix("/original")?;
    let (id, grant) = match rest.split_once('/') {
        None => (rest, None),
        Some(("", _)) => return None,
        Some((id, grant_path)) => (id, Some(grant_path.strip_prefix("g/")?)),
    };
    let plain = |s: &str| !s.is_empty() && !s.contains('/');
    (plain(id) && grant.is_none_or(plain)).then_some(MediaFile::Original { id, grant })
}

/// The rendition file a request path names, when the router would match it to
/// `/hls/{id}/{rendition}/{file}` or `/hls/{id}/g/{grant}/{rendition}/{file}` with these
/// exact values: `None` for anything else, and for paths the router decodes or matches
/// differently (percent-escapes, empty segments, a rendition named `g`), which go to it.
pub fn rendition_file(path: &str) -> Option<RenditionFile<'_>> {
    if path.contains('%') {
        return None;
    }
    let mut parts = path.strip_prefix("/hls/")?.split('/');
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    let found = match (parts.next(), parts.next(), parts.next()) {
        (None, ..) if b != "g" => RenditionFile {
            id: a,
            grant: None,
            rendition: b,
            file: c,
            query: None,
        },
        (Some(d), Some(e), None) if b == "g" => RenditionFile {
            id: a,
            grant: Some(c),
            rendition: d,
            file: e,
            query: None,
        },
        _ => return None,
    };
    let segments = [found.id, found.grant.unwrap_or("g"), found.rendition, found.file];
    segments.iter().all(|s| !s.is_empty()).then_some(found)
}

/// The answer to a GET or HEAD of a media file from `peer`, as the router would give it
/// (the path was checked by the caller with [`media_file`]).
async fn answer(
    app: &AppState,
    peer: SocketAddr,
    metrics: bool,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response<Body> {
    let started = Instant::now();
    let target = media_file(uri.path()).expect("checked by the caller");
    let client = SocketAddr::new(app.proxies.client_ip(peer.ip(), headers), peer.port());
    let caller = MediaCaller::from_headers(headers, app).await;
    let (result, route, video) = match target {
        MediaFile::Rendition(mut file) => {
            file.query = uri.query();
            let result = match caller {
                Ok(caller) => media::serve_rendition_file(app, client, &caller, file, method, headers).await,
                Err(e) => Err(e),
            };
            let route = if file.grant.is_some() {
                "/hls/:id/g/:grant/:rendition/:file"
            } else {
                "/hls/:id/:rendition/:file"
            };
            (result, route, file.id)
        }
        MediaFile::Original { id, grant } => {
            let result = match caller {
                Ok(caller) => media::serve_original(app, client, &caller, id, grant, method, headers).await,
                Err(e) => Err(e),
            };
            let route = if grant.is_some() {
                "/media/:id/g/:grant/original"
            } else {
                "/media/:id/original"
            };
            (result, route, id)
        }
    };
    let resp = finish(result.unwrap_or_else(IntoResponse::into_response), method).await;
    let status = resp.status();
    let latency_ms = started.elapsed().as_millis() as u64;
    if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
        // As the router's trace layer logs them (503s, shed load, are not). The path is not
        // logged: it may hold a playback grant.
        tracing::error!(%status, latency_ms, route, video, "response failed");
    }
    tracing::debug!(method = %method, route, video, status = status.as_u16(), latency_ms, "media file answered directly");
    if metrics {
        crate::metrics::record_request(route.to_string(), method, status, started);
    }
    resp
}

/// What the router's layers add to a media answer to a `method` request: an error body as
/// JSON, the CORS headers of a simple request (any origin, the range and validator headers
/// readable), the resource `Content-Security-Policy` unless one is set, `X-Content-Type-Options:
/// nosniff`, and — as axum's route future does — `Content-Length` for a body of known size when
/// none is set, the body then dropped for a HEAD.
async fn finish(resp: Response<Body>, method: &Method) -> Response<Body> {
    use axum::body::HttpBody as _;
    let mut resp = crate::http::error::as_json_error(resp).await;
    if !resp.headers().contains_key(header::CONTENT_LENGTH)
        && let Some(size) = resp.body().size_hint().exact()
    {
        resp.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    }
    if method == Method::HEAD {
        *resp.body_mut() = Body::empty();
    }
    let headers = resp.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED_HEADERS),
    );
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(RESOURCE_POLICY),
        );
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposed_headers_are_the_cors_layer_s() {
        let names: Vec<&str> = EXPOSED_HEADER_NAMES.iter().map(|h| h.as_str()).collect();
        assert_eq!(names.join(","), EXPOSED_HEADERS);
    }

    #[test]
    fn only_paths_the_router_matches_the_same_way_are_taken() {
        let f = rendition_file("/hls/abc/720p/seg_00001.m4s").unwrap();
        assert_eq!(
            (f.id, f.grant, f.rendition, f.file),
            ("abc", None, "720p", "seg_00001.m4s")
        );
        let f = rendition_file("/hls/abc/g/TOKEN/720p/index.m3u8").unwrap();
        assert_eq!(
            (f.id, f.grant, f.rendition, f.file),
            ("abc", Some("TOKEN"), "720p", "index.m3u8")
        );
        for path in [
            "/hls/abc/master.m3u8",
            "/hls/abc/g/TOKEN/master.m3u8",
            "/hls/abc/g/seg.m4s",
            "/hls/abc/720p/seg%5F1.m4s",
            "/hls/abc//seg.m4s",
            "/hls/abc/720p/",
            "/hls/abc/720p/seg.m4s/",
            "/hls/abc/g//720p/seg.m4s",
            "/media/abc/poster.jpg",
            "/hlsx/abc/720p/seg.m4s",
        ] {
            assert!(rendition_file(path).is_none(), "{path}");
        }
    }

    #[test]
    fn originals_are_taken_as_the_router_matches_them() {
        let original = |path| match media_file(path) {
            Some(MediaFile::Original { id, grant }) => Some((id, grant)),
            _ => None,
        };
        assert_eq!(original("/media/abc/original"), Some(("abc", None)));
        assert_eq!(original("/media/abc/g/TOKEN/original"), Some(("abc", Some("TOKEN"))));
        for path in [
            "/media/abc/poster.jpg",
            "/media//original",
            "/media/abc/g//original",
            "/media/abc/x/TOKEN/original",
            "/media/abc/g/TOKEN/more/original",
            "/media/a%62c/original",
            "/media/abc/original/",
            "/media/original",
        ] {
            assert!(original(path).is_none(), "{path}");
        }
        assert!(matches!(
            media_file("/hls/abc/720p/seg.m4s"),
            Some(MediaFile::Rendition(_))
        ));
    }
}
