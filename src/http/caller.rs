//! Who is calling: the [`Caller`] extractor, from an `Authorization: Bearer` API token or the
//! access-token cookie of a browser session. Handlers never read credentials themselves.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum_extra::extract::CookieJar;

use crate::app::AppState;
use crate::auth::{Principal, Scope, Via, access, policy, secret};
use crate::http::error::ApiError;

/// Cookie holding the JWT access token (`HttpOnly`, `SameSite=Lax`, path `/`).
pub const ACCESS_COOKIE: &str = "kino_access";
/// Cookie holding the refresh token (`HttpOnly`, `SameSite=Lax`, path `/api/auth`).
pub const REFRESH_COOKIE: &str = "kino_refresh";

/// The authenticated caller, or `None` when anonymous.
///
/// Rejections (401): a bearer token that is unknown or revoked, or a session cookie that has
/// expired or does not verify — the page then refreshes its session and retries.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Principal>);

/// Like [`Caller`], but a lapsed session cookie counts as anonymous instead of 401: used on
/// media routes, where a public segment must play whatever state the cookies are in.
#[derive(Debug, Clone)]
pub struct MediaCaller(pub Option<Principal>);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        identify(&parts.headers, app, true).await.map(Caller)
    }
}

impl FromRequestParts<AppState> for MediaCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        MediaCaller::from_headers(&parts.headers, app).await
    }
}

impl MediaCaller {
    /// The caller named by request headers `headers` (what the extractor does, for code that
    /// holds the headers but not the request parts).
    ///
    /// Errors: 401 for an unknown or revoked bearer token.
    pub async fn from_headers(headers: &HeaderMap, app: &AppState) -> Result<MediaCaller, ApiError> {
        identify(headers, app, false).await.map(MediaCaller)
    }
}

impl Caller {
    /// The principal, or 401 telling the caller to sign in.
    pub fn required(self) -> Result<Principal, ApiError> {
        self.0.ok_or_else(|| {
            ApiError::Unauthorized("sign in first (or send an API token as `Authorization: Bearer …`)".into())
        })
    }

    /// The principal if it carries `scope` (see [`crate::auth::policy::require_scope`]): 401
    /// when anonymous, 403 naming the missing scope otherwise.
    pub fn with_scope(self, scope: Scope) -> Result<Principal, ApiError> {
        let who = self.required()?;
        policy::require_scope(&who, scope).map_err(ApiError::Forbidden)?;
        Ok(who)
    }

    /// The principal if it is a signed-in browser session (see
    /// [`crate::auth::policy::require_session`]): 401 when anonymous, 403 for an API token.
    pub fn session(self, what: &str) -> Result<Principal, ApiError> {
        let who = self.required()?;
        policy::require_session(&who, what).map_err(ApiError::Forbidden)?;
        Ok(who)
    }
}

async fn identify(headers: &HeaderMap, app: &AppState, strict: bool) -> Result<Option<Principal>, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(|| ApiError::Unauthorized("the Authorization header must be `Bearer <API token>`".into()))?;
        let Some((record, user)) = app.db.use_api_token(&secret::digest(token)).await? else {
            return Err(ApiError::Unauthorized(
                "the API token is invalid or has been revoked; create a new one on your account page".into(),
            ));
        };
        return Ok(Some(Principal {
            user_id: user.id,
            username: user.username,
            role: user.role,
            scopes: record.scopes.intersect(user.role.scopes()),
            via: Via::ApiToken,
        }));
    }
    if !headers.contains_key(header::COOKIE) {
        return Ok(None);
    }
    let jar = CookieJar::from_headers(headers);
    let Some(cookie) = jar.get(ACCESS_COOKIE) else {
        return Ok(None);
    };
    match access::verify(&app.keys, cookie.value()) {
        Ok(claims) => Ok(claims.sub.parse().ok().map(|user_id| Principal {
            user_id,
            username: claims.name,
            role: claims.role,
            scopes: claims.role.scopes(),
            via: Via::Session,
        })),
        Err(_) if !strict => Ok(None),
        Err(e) => Err(ApiError::Unauthorized(format!(
            "{e}: refresh it with POST /api/auth/refresh, or sign in again"
        ))),
    }
}
