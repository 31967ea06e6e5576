//! `/api/tokens`: API tokens for scripts and CI — list (with last use), create (the secret is
//! shown once), revoke. Tokens act for their owner, narrowed to their scopes.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::{Scope, ScopeSet, secret};
use crate::db::ApiTokenRecord;
use crate::db::api_tokens::check_scopes;
use crate::http::caller::Caller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::types::rfc3339;

/// Longest token name, in characters.
const MAX_NAME_CHARS: usize = 100;

/// A token as listed (never its secret).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, or null if never used; recorded to within a minute (one write per token
    /// per minute at most).
    pub last_used_at: Option<String>,
}

impl From<ApiTokenRecord> for TokenView {
    fn from(t: ApiTokenRecord) -> Self {
        TokenView {
            id: t.id,
            name: t.name,
            scopes: t.scopes.to_vec(),
            created_at: rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(rfc3339),
        }
    }
}

/// Body of `GET /api/tokens`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
}

/// Body of `POST /api/tokens`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewTokenBody {
    /// 1–100 characters, not only spaces.
    #[schema(pattern = r"\S", max_length = 100)]
    pub name: String,
    /// Default `["read"]`.
    #[serde(default)]
    pub scopes: Vec<Scope>,
}

/// Answer of `POST /api/tokens`: the listing fields plus the secret, shown only this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub view: TokenView,
    pub token: String,
}

/// Tokens are minted and revoked from a browser session only, so a leaked token cannot mint
/// successors or revoke its owner's other tokens. 403 for a bearer token.
fn signed_in_session(caller: Caller) -> Result<crate::auth::Principal, ApiError> {
    let who = caller.required()?;
    if who.via != crate::auth::Via::Session {
        return Err(ApiError::Forbidden(
            "API tokens are created and revoked from a signed-in session (or `kino tokens create`), not with another token".into(),
        ));
    }
    Ok(who)
}

/// `GET /api/tokens` — the caller's live tokens, newest first.
#[utoipa::path(
    get,
    path = "/api/tokens",
    tag = "tokens",
    operation_id = "list_tokens",
    responses((status = 200, description = "The caller's live tokens", body = TokenList), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn list(State(app): State<AppState>, caller: Caller) -> Result<Json<TokenList>, ApiError> {
    let who = caller.required()?;
    let tokens = app.db.api_tokens_of(who.user_id).await?;
    Ok(Json(TokenList {
        tokens: tokens.into_iter().map(TokenView::from).collect(),
    }))
}

/// `POST /api/tokens` — 201 with the new token; 400 for an empty name, 403 for scopes beyond
/// the caller's role.
#[utoipa::path(
    post,
    path = "/api/tokens",
    tag = "tokens",
    operation_id = "create_token",
    request_body(content = NewTokenBody, content_type = "application/json"),
    responses((status = 201, description = "The token; its secret is shown only now", body = CreatedToken, links(("RevokeToken" = (operation_id = "revoke_token", parameters(("token_id" = "$response.body#/id")))))), (status = 400, description = "An empty or too long name", body = ErrorBody), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "Scopes beyond the role, or not a signed-in session", body = ErrorBody)),
    security(("session" = []))
)]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    Json(body): Json<NewTokenBody>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let who = signed_in_session(caller)?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::BadRequest(format!(
            "give the token a name of 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    let scopes = if body.scopes.is_empty() {
        ScopeSet::of(&[Scope::Read])
    } else {
        ScopeSet::of(&body.scopes)
    };
    check_scopes(who.role, scopes).map_err(ApiError::Forbidden)?;
    // A token never carries more than the request that made it.
    if !scopes.is_subset_of(who.scopes) {
        return Err(ApiError::Forbidden(
            "a token cannot be given scopes the current credentials lack".into(),
        ));
    }
    let token = secret::new_api_token();
    let record = app
        .db
        .insert_api_token(who.user_id, name, &secret::digest(&token), scopes)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            view: record.into(),
            token,
        }),
    ))
}

/// `DELETE /api/tokens/{id}` — from a signed-in session only (403 with a bearer token); 204;
/// 404 when the caller has no such live token.
#[utoipa::path(
    delete,
    path = "/api/tokens/{token_id}",
    tag = "tokens",
    operation_id = "revoke_token",
    params(("token_id" = i64, Path, description = "Token id")),
    responses((status = 204, description = "Revoked"), (status = 401, description = "Not signed in, or the credentials do not work", body = ErrorBody), (status = 403, description = "Not a signed-in session", body = ErrorBody), (status = 404, description = "No such live token of the caller", body = ErrorBody)),
    security(("session" = []))
)]
pub async fn revoke(State(app): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<StatusCode, ApiError> {
    let who = signed_in_session(caller)?;
    if app.db.revoke_api_token(who.user_id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
