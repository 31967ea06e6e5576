//! `/api/auth/*` and `/api/me`: registration, sign-in, session refresh with rotation, sign-out,
//! password change, and the current account.
//!
//! A session is two cookies: a JWT access token (`auth.access_token_secs`, path `/`) and an
//! opaque refresh token (`auth.refresh_token_days`, path `/api/auth`), both `HttpOnly`,
//! `SameSite=Lax`, and `Secure` over TLS. Every refresh rotates the refresh token; replaying a
//! rotated one ends the whole sign-in (its family).

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::access::{self, AccessClaims};
use crate::auth::credentials::{Email, NewPassword, Username};
use crate::auth::limits::RetryAfter;
use crate::auth::{Role, password, secret};
use crate::db::{CreateUser, Rotation, UserRecord, now_ms};
use crate::http::caller::{ACCESS_COOKIE, Caller, REFRESH_COOKIE};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::types::rfc3339;

/// An account as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub role: Role,
    /// The account's role may upload (so pages show or hide the upload form and scope).
    pub can_upload: bool,
    /// RFC 3339.
    pub created_at: String,
}

impl From<UserRecord> for UserView {
    fn from(u: UserRecord) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            email: u.email,
            role: u.role,
            can_upload: u.role.scopes().has(crate::auth::Scope::Upload),
            created_at: rfc3339(u.created_at),
        }
    }
}

/// `{ "user": … }`, the body of every answer that starts or shows a session.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub user: UserView,
}

/// Body of `POST /api/auth/register`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RegisterBody {
    /// 3–32 characters of `a-z 0-9 _ . -`, starting with a letter or digit (stored lowercase).
    #[schema(pattern = r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")]
    pub username: String,
    /// An address of the shape `name@example.com`, at most 254 characters.
    #[schema(pattern = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$", max_length = 254)]
    pub email: String,
    /// 10–128 characters.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
}

/// Body of `POST /api/auth/signin`: the username (emails are not unique and do not sign in).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SignInBody {
    pub username: String,
    pub password: String,
}

/// Body of `POST /api/auth/password`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordBody {
    pub current_password: String,
    /// 10–128 characters.
    #[schema(min_length = 10, max_length = 128)]
    pub new_password: String,
}

fn limited(r: Result<(), RetryAfter>) -> Result<(), ApiError> {
    r.map_err(|RetryAfter(wait)| ApiError::TooManyRequests {
        retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
    })
}

/// `POST /api/auth/register` — 201 and a session; 400 with the rule broken, 403 when
/// registration is closed, 409 when the username is taken (an email already in use answers
/// like a new one: OWASP Authentication Cheat Sheet), 429 when rate-limited.
#[utoipa::path(
    post,
    path = "/api/auth/register",
    tag = "auth",
    operation_id = "register",
    request_body(content = RegisterBody, content_type = "application/json"),
    responses((status = 201, description = "The account, signed in (session cookies set)", body = SessionView), (status = 400, description = "A field breaks its rule", body = ErrorBody), (status = 403, description = "Registration is closed", body = ErrorBody), (status = 409, description = "The username is taken", body = ErrorBody), (status = 429, description = "Rate-limited; `Retry-After` says when to try again", body = ErrorBody))
)]
pub async fn register(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Json(body): Json<RegisterBody>,
) -> Result<(StatusCode, CookieJar, Json<SessionView>), ApiError> {
    limited(app.limits.check(peer.ip(), None))?;
    if !app.config.auth.registration {
        return Err(ApiError::Forbidden(
            "registration is closed on this server; ask an administrator for an account".into(),
        ));
    }
    let username = Username::parse(&body.username).map_err(ApiError::BadRequest)?;
    let email = Email::parse(&body.email).map_err(ApiError::BadRequest)?;
    let pw = NewPassword::parse(&body.password).map_err(ApiError::BadRequest)?;
    let hash = password::hash(&pw).await?;
    let user = match app
        .db
        .create_user(
            username.as_str(),
            Some(email.as_str()),
            &hash,
            app.config.auth.default_role,
        )
        .await?
    {
        CreateUser::Created(u) => u,
        // Only a taken username (public anyway, on the user pages): an email already in use
        // registers like a new one, so registration does not reveal which emails have accounts.
        CreateUser::Taken => {
            return Err(ApiError::Conflict(
                "that username is taken; choose another (or sign in)".into(),
            ));
        }
    };
    tracing::info!(user = user.username, role = user.role.as_str(), "account registered");
    let jar = start_session(&app, &headers, jar, &user).await?;
    Ok((StatusCode::CREATED, jar, Json(SessionView { user: user.into() })))
}

/// `POST /api/auth/signin` — 200 and a session; 401 "wrong username or password" whether or not
/// the account exists (same message, same Argon2 work); 429 with `Retry-After` when this
/// address is over its per-minute limit, this (account, address) pair is in backoff after
/// wrong passwords, or the account is over its hourly ceiling (see [`crate::auth::limits`]).
#[utoipa::path(
    post,
    path = "/api/auth/signin",
    tag = "auth",
    operation_id = "sign_in",
    request_body(content = SignInBody, content_type = "application/json"),
    responses((status = 200, description = "Signed in (session cookies set)", body = SessionView), (status = 401, description = "Wrong username or password", body = ErrorBody), (status = 429, description = "Rate-limited; `Retry-After` says when to try again", body = ErrorBody))
)]
pub async fn signin(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Json(body): Json<SignInBody>,
) -> Result<(CookieJar, Json<SessionView>), ApiError> {
    let login = body.username.trim().to_ascii_lowercase();
    limited(app.limits.check(peer.ip(), Some(&login)))?;
    let user = app.db.user_by_login(&login).await?;
    let ok = password::verify(&body.password, user.as_ref().map(|u| u.password_hash.clone())).await;
    let (true, Some(user)) = (ok, user) else {
        // Counted for unknown names too, so the limits do not tell which accounts exist.
        app.limits.failed(peer.ip(), &login);
        return Err(ApiError::Unauthorized("wrong username or password".into()));
    };
    app.limits.succeeded(peer.ip(), &login);
    let jar = start_session(&app, &headers, jar, &user).await?;
    Ok((jar, Json(SessionView { user: user.into() })))
}

/// `POST /api/auth/refresh` — exchanges the refresh cookie for a new pair; 401 when it is
/// missing, unknown, expired, or already used (then every session of that sign-in ends).
#[utoipa::path(
    post,
    path = "/api/auth/refresh",
    tag = "auth",
    operation_id = "refresh_session",
    responses((status = 200, description = "A fresh session (cookies rotated)", body = SessionView), (status = 401, description = "The refresh cookie is missing, unknown, expired or reused", body = ErrorBody))
)]
pub async fn refresh(
    State(app): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<(CookieJar, Json<SessionView>), (CookieJar, ApiError)> {
    let Some(presented) = jar.get(REFRESH_COOKIE).map(|c| c.value().to_string()) else {
        return Err((jar, ApiError::Unauthorized("no session to refresh: sign in".into())));
    };
    let new_token = secret::random_secret();
    let expires = now_ms() + refresh_ms(&app);
    let rotation = app
        .db
        .rotate_refresh_token(&secret::digest(&presented), &secret::digest(&new_token), expires)
        .await
        .map_err(|e| (jar.clone(), e.into()))?;
    let user_id = match rotation {
        Rotation::Rotated { user_id, .. } => user_id,
        Rotation::Unknown | Rotation::Expired => {
            return Err((
                clear_session(jar),
                ApiError::Unauthorized("the session has ended: sign in again".into()),
            ));
        }
        Rotation::Reused => {
            tracing::warn!("a rotated refresh token was replayed; its sign-in was revoked");
            return Err((
                clear_session(jar),
                ApiError::Unauthorized(
                    "this session token was already used, so the sign-in it belongs to was ended as a precaution: sign in again"
                        .into(),
                ),
            ));
        }
    };
    let user = match app.db.user(user_id).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            return Err((
                clear_session(jar),
                ApiError::Unauthorized("the account no longer exists".into()),
            ));
        }
        Err(e) => return Err((jar, e.into())),
    };
    let jar = set_cookies(&app, &headers, jar, &user, &new_token).map_err(|e| (CookieJar::new(), e))?;
    Ok((jar, Json(SessionView { user: user.into() })))
}

/// `POST /api/auth/signout` — ends this sign-in (its refresh-token family) and clears the
/// cookies; 204 even when there was no session.
#[utoipa::path(
    post,
    path = "/api/auth/signout",
    tag = "auth",
    operation_id = "sign_out",
    responses((status = 204, description = "Signed out (cookies cleared)"))
)]
pub async fn signout(State(app): State<AppState>, jar: CookieJar) -> Result<(StatusCode, CookieJar), ApiError> {
    if let Some(c) = jar.get(REFRESH_COOKIE) {
        app.db.revoke_refresh_family_of(&secret::digest(c.value())).await?;
    }
    Ok((StatusCode::NO_CONTENT, clear_session(jar)))
}

/// `POST /api/auth/password` — checks the current password, stores the new one, ends every
/// other sign-in of the account and starts a fresh session; 204. 401 on a wrong current
/// password, 400 on a new one that breaks the rules, 403 for an API token (only a signed-in
/// session may change the password).
#[utoipa::path(
    post,
    path = "/api/auth/password",
    tag = "auth",
    operation_id = "change_password",
    request_body(content = PasswordBody, content_type = "application/json"),
    responses((status = 204, description = "Changed; other sign-ins ended, a fresh session started"), (status = 400, description = "The new password breaks the rules", body = ErrorBody), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "Not a signed-in session", body = ErrorBody)),
    security(("session" = []))
)]
pub async fn change_password(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    headers: HeaderMap,
    jar: CookieJar,
    Json(body): Json<PasswordBody>,
) -> Result<(StatusCode, CookieJar), ApiError> {
    let who = caller.session("the password can be changed")?;
    limited(app.limits.check(peer.ip(), Some(&who.username)))?;
    let user = app
        .db
        .user(who.user_id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the account no longer exists".into()))?;
    if !password::verify(&body.current_password, Some(user.password_hash.clone())).await {
        app.limits.failed(peer.ip(), &who.username);
        return Err(ApiError::Unauthorized("the current password is wrong".into()));
    }
    let pw = NewPassword::parse(&body.new_password).map_err(ApiError::BadRequest)?;
    app.db.set_password_hash(user.id, &password::hash(&pw).await?).await?;
    app.db.revoke_all_refresh_tokens(user.id).await?;
    let jar = start_session(&app, &headers, jar, &user).await?;
    Ok((StatusCode::NO_CONTENT, jar))
}

/// `GET /api/me` — the signed-in account; 401 when anonymous.
#[utoipa::path(
    get,
    path = "/api/me",
    tag = "auth",
    operation_id = "me",
    responses((status = 200, description = "The signed-in account", body = SessionView, links(("GetUser" = (operation_id = "get_user", parameters(("name" = "$response.body#/user/username")))), ("ListUserVideos" = (operation_id = "list_user_videos", parameters(("name" = "$response.body#/user/username")))))), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn me(State(app): State<AppState>, caller: Caller) -> Result<Json<SessionView>, ApiError> {
    let who = caller.required()?;
    let user = app
        .db
        .user(who.user_id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the account no longer exists".into()))?;
    Ok(Json(SessionView { user: user.into() }))
}

fn refresh_ms(app: &AppState) -> i64 {
    app.config.auth.refresh_token_days as i64 * 86_400_000
}

/// Starts a new sign-in (a new refresh-token family) for `user` and sets both cookies.
async fn start_session(
    app: &AppState,
    headers: &HeaderMap,
    jar: CookieJar,
    user: &UserRecord,
) -> Result<CookieJar, ApiError> {
    let token = secret::random_secret();
    let family = secret::random_secret();
    app.db
        .insert_refresh_token(
            &secret::digest(&token),
            &family[..22],
            user.id,
            now_ms() + refresh_ms(app),
        )
        .await?;
    set_cookies(app, headers, jar, user, &token)
}

fn set_cookies(
    app: &AppState,
    headers: &HeaderMap,
    jar: CookieJar,
    user: &UserRecord,
    refresh: &str,
) -> Result<CookieJar, ApiError> {
    let auth = &app.config.auth;
    let now = (now_ms() / 1000) as u64;
    let claims = AccessClaims {
        sub: user.id.to_string(),
        name: user.username.clone(),
        role: user.role,
        iat: now,
        exp: now + auth.access_token_secs,
    };
    let access_token = access::sign(&app.keys, &claims)?;
    let secure = auth.secure_cookies.unwrap_or_else(|| {
        headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
    });
    let access_cookie = Cookie::build((ACCESS_COOKIE, access_token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(time::Duration::seconds(auth.access_token_secs as i64));
    let refresh_cookie = Cookie::build((REFRESH_COOKIE, refresh.to_string()))
        .path("/api/auth")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(time::Duration::days(auth.refresh_token_days as i64));
    Ok(jar.add(access_cookie).add(refresh_cookie))
}

fn clear_session(jar: CookieJar) -> CookieJar {
    jar.remove(Cookie::build(ACCESS_COOKIE).path("/"))
        .remove(Cookie::build(REFRESH_COOKIE).path("/api/auth"))
}
