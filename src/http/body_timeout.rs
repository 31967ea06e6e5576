//! Per-read idle timeout on request bodies (requests that have none pass through untouched). hyper's header-read timeout covers only the request
//! head: a client that announces `Content-Length: 1000000` and then stalls would hold its
//! connection and buffer for ever. Every request body is wrapped in tower-http's
//! [`TimeoutBody`], which fails a read when no bytes arrive for `http.body_idle_secs`; the
//! request then ends with 408 Request Timeout (RFC 9110 §15.5.9), `Connection: close`, and
//! whatever was received is dropped by the handler that was reading it (an upload in progress
//! removes its partial file like any other failed upload).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tower_http::timeout::{TimeoutBody, TimeoutError};

use crate::app::AppState;

/// Middleware: wraps the request body with the idle timeout and turns a timed-out read into
/// 408 with a JSON error body, whatever the handler answered after its body read failed.
pub async fn idle_timeout(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let idle = Duration::from_secs_f64(app.config.http.body_idle_secs);
    let tripped = Arc::new(AtomicBool::new(false));
    let flag = tripped.clone();
    // Requests without a body (most GETs: segments, playlists) pass through untouched.
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let body = TimeoutBody::new(idle, body).map_err(move |e| {
        if e.is::<TimeoutError>() {
            flag.store(true, Ordering::Relaxed);
        }
        e
    });
    let response = next.run(Request::from_parts(parts, Body::new(body))).await;
    if !tripped.load(Ordering::Relaxed) {
        return response;
    }
    tracing::info!(idle_secs = idle.as_secs_f64(), "request body stalled; answered 408");
    let message = format!(
        "the request body stalled: no bytes arrived for {} s; what was received was discarded, send the request again",
        idle.as_secs_f64()
    );
    let mut resp = (
        StatusCode::REQUEST_TIMEOUT,
        axum::Json(serde_json::json!({ "error": message })),
    )
        .into_response();
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}
