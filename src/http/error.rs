//! The one map from errors to HTTP responses. Every error body is JSON `{"error": "…"}` with
//! a message a person can act on; internal details are logged, never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The body of every error answer: `{"error": "…"}`, a sentence saying what went wrong and
/// what to do.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for a person.
    #[schema(example = "sign in to upload (or send an API token with the upload scope)")]
    pub error: String,
}

/// An API error; handlers return `Result<_, ApiError>` and use `?`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("not found")]
    NotFound,
    /// 404 with a sentence naming what is missing.
    #[error("{0}")]
    Missing(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("the upload is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: u64 },
    #[error("{0}")]
    Conflict(String),
    /// A precondition of the request does not hold: 412.
    #[error("{0}")]
    PreconditionFailed(String),
    /// The body is not of a type the route takes: 415.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A status of a protocol Kino speaks that has no variant of its own (tus's 460).
    #[error("{message}")]
    Status { status: u16, message: String },
    /// Not signed in, or credentials that do not work: 401.
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but not allowed: 403.
    #[error("{0}")]
    Forbidden(String),
    /// Too many streaming responses at once: 503 with `Retry-After` (RFC 9110 §15.6.4).
    #[error("the server is streaming to its limit of {streams} clients; retry in {retry_after_secs} s")]
    Overloaded { retry_after_secs: u64, streams: usize },
    /// Rate-limited: 429 with `Retry-After` (RFC 6585 §4).
    #[error("too many attempts; try again in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("the server's storage is full; the upload was discarded")]
    InsufficientStorage,
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        ApiError::Internal(e.into())
    }
}

impl From<crate::storage::WriteError> for ApiError {
    /// A full store answers 507; any other storage failure is internal.
    fn from(e: crate::storage::WriteError) -> Self {
        match e {
            crate::storage::WriteError::Full(_) => ApiError::InsufficientStorage,
            crate::storage::WriteError::Other(e) => ApiError::Internal(e.into()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::NotFound | ApiError::Missing(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Status { status, .. } => StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST),
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let mut resp = (status, Json(serde_json::json!({ "error": self.to_string() }))).into_response();
        // Errors are never stored by shared caches (RFC 9111 §4.2.2 lets a CDN keep a 404
        // heuristically): a playlist that is 404 while its video is processing, or a 503
        // under load, must not outlive the condition.
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let ApiError::TooManyRequests { retry_after_secs } | ApiError::Overloaded { retry_after_secs, .. } = self {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        resp
    }
}

/// Largest plain-text error body [`json_errors`] rewrites, bytes.
const MAX_TEXT_ERROR_BYTES: usize = 16 * 1024;

/// Middleware: every error answer is JSON `{"error": "…"}`. Errors made by Kino already are;
/// this rewrites the plain-text or empty ones made outside [`ApiError`] — axum's extractor
/// rejections (400, 413, 415, 422: a malformed JSON body, a missing `Content-Type`, a bad
/// path or query), 405 and unknown routes (404) — keeping the status and other headers.
pub async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    as_json_error(next.run(req).await).await
}

/// What [`json_errors`] does to one response: an error answer with a plain-text or empty body
/// becomes `{"error": "…"}` (its text, else the status's reason), `Content-Type:
/// application/json`, `Cache-Control: no-store` unless it had one; any other answer is
/// returned as it is.
pub async fn as_json_error(response: Response) -> Response {
    let status = response.status();
    let plain = match response.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(v) => v.as_bytes().starts_with(b"text/plain"),
    };
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, MAX_TEXT_ERROR_BYTES).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    let body = serde_json::to_vec(&serde_json::json!({ "error": message })).expect("a JSON string");
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if !parts.headers.contains_key(header::CACHE_CONTROL) {
        parts
            .headers
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Response::from_parts(parts, axum::body::Body::from(body))
}
