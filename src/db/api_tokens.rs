//! The `api_tokens` table: bearer tokens for scripts and CI, stored as SHA-256 hashes.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::users::UserRecord;
use super::{Db, DbError, now_ms, query};
use crate::auth::{Role, ScopeSet};

/// How precise an API token's `last_used_at` is: milliseconds between two writes of it.
pub const LAST_USED_RESOLUTION_MS: i64 = 60_000;

/// An API token as listed to its owner (never the secret).
#[derive(Debug, Clone)]
pub struct ApiTokenRecord {
    pub id: i64,
    pub name: String,
    pub scopes: ScopeSet,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds, to within [`LAST_USED_RESOLUTION_MS`]; `None` if never used.
    pub last_used_at: Option<i64>,
}

fn token_from_row(row: &AnyRow) -> Result<ApiTokenRecord, sqlx::Error> {
    Ok(ApiTokenRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        scopes: ScopeSet::parse_csv(row.try_get::<&str, _>("scopes")?).unwrap_or_default(),
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

impl Db {
    /// Stores a new token for `user_id` by its hash; returns its record.
    pub async fn insert_api_token(
        &self,
        user_id: i64,
        name: &str,
        hash: &str,
        scopes: ScopeSet,
    ) -> Result<ApiTokenRecord, DbError> {
        let row = query(
            "INSERT INTO api_tokens (user_id, name, token_hash, scopes, created_at) VALUES (?, ?, ?, ?, ?)
             RETURNING id, name, scopes, created_at, last_used_at",
        )
        .bind(user_id)
        .bind(name)
        .bind(hash)
        .bind(scopes.to_csv())
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        token_from_row(&row).map_err(DbError::from)
    }

    /// The live (unrevoked) token with hash `hash` and its owner; records its use.
    ///
    /// A request with a token costs one read: `last_used_at` is written only when the stored
    /// value is over [`LAST_USED_RESOLUTION_MS`] old, so a script's burst of requests (a player
    /// fetching segments with a token) writes at most once a minute per token.
    pub async fn use_api_token(&self, hash: &str) -> Result<Option<(ApiTokenRecord, UserRecord)>, DbError> {
        let row = query(
            "SELECT id, user_id, name, scopes, created_at, last_used_at FROM api_tokens
             WHERE token_hash = ? AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut token = token_from_row(&row)?;
        let now = now_ms();
        if token.last_used_at.is_none_or(|t| now - t >= LAST_USED_RESOLUTION_MS) {
            query(
                "UPDATE api_tokens SET last_used_at = ?
                 WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
            )
            .bind(now)
            .bind(token.id)
            .bind(now - LAST_USED_RESOLUTION_MS)
            .execute(&self.pool)
            .await?;
            token.last_used_at = Some(now);
        }
        let user_id: i64 = row.try_get("user_id")?;
        Ok(self.user(user_id).await?.map(|u| (token, u)))
    }

    /// The live tokens of a user, newest first.
    pub async fn api_tokens_of(&self, user_id: i64) -> Result<Vec<ApiTokenRecord>, DbError> {
        let rows = query(
            "SELECT id, name, scopes, created_at, last_used_at FROM api_tokens
             WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at DESC, id DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(token_from_row)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(DbError::from)
    }

    /// Revokes token `id` of `user_id`. Returns false when the user has no such live token.
    pub async fn revoke_api_token(&self, user_id: i64, id: i64) -> Result<bool, DbError> {
        let done = query("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// The scopes a token of a user with `role` may be created with. Errors: a scope beyond the
/// role, named.
pub fn check_scopes(role: Role, wanted: ScopeSet) -> Result<(), String> {
    if wanted.is_subset_of(role.scopes()) {
        Ok(())
    } else {
        Err(format!(
            "a {} account can only create tokens with the scopes {}",
            role.as_str(),
            role.scopes().to_csv()
        ))
    }
}
