//! The one map from errors to HTTP responses. Every error body is JSON `{"error": "…"}` with
//! a message a person can act on; internal details are logged, never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An API error; handlers return `Result<_, ApiError>` and use `?`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("the upload is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: u64 },
    #[error("{0}")]
    Conflict(String),
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

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
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
