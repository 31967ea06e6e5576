//! The `refresh_tokens` table: refresh-token families with rotation and reuse detection
//! (the scheme of OAuth 2.0 Security BCP, RFC 9700 §4.14.2).

use sqlx::Row;

use super::{Db, DbError, now_ms, query};

/// Outcome of presenting a refresh token to [`Db::rotate_refresh_token`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// Valid: it is now rotated and `new_hash` was stored in its place, in the same family.
    Rotated { user_id: i64, family_id: String },
    /// Unknown (never issued, signed out, or its family was revoked).
    Unknown,
    /// Past its expiry; removed.
    Expired,
    /// Already rotated: a copy is being replayed. The whole family was deleted.
    Reused,
}

impl Db {
    /// Stores a new refresh token (by its hash) in `family_id`, expiring at `expires_at` (ms).
    pub async fn insert_refresh_token(
        &self,
        hash: &str,
        family_id: &str,
        user_id: i64,
        expires_at: i64,
    ) -> Result<(), DbError> {
        // Expired rows of anyone are dropped here, so the table stays small without a sweeper.
        let now = now_ms();
        query("DELETE FROM refresh_tokens WHERE expires_at < ?")
            .bind(now)
            .execute(&self.pool)
            .await?;
        query(
            "INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(hash)
        .bind(family_id)
        .bind(user_id)
        .bind(expires_at)
        .bind(now)
        .execute(&self.pool)
        .await
        .map(|_| ()).map_err(DbError::from)
    }

    /// Exchanges the token with hash `old_hash` for `new_hash` (valid until `expires_at`, ms)
    /// in one transaction; a second exchange of the same token revokes its family.
    pub async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        expires_at: i64,
    ) -> Result<Rotation, DbError> {
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        let Some(row) =
            query("SELECT family_id, user_id, expires_at, rotated_at FROM refresh_tokens WHERE token_hash = ?")
                .bind(old_hash)
                .fetch_optional(&mut *tx)
                .await?
        else {
            return Ok(Rotation::Unknown);
        };
        let family_id: String = row.try_get("family_id")?;
        let user_id: i64 = row.try_get("user_id")?;
        let rotated = row.try_get::<Option<i64>, _>("rotated_at")?.is_some();
        // A conditional update decides, so two racing exchanges cannot both win.
        let won = !rotated
            && query("UPDATE refresh_tokens SET rotated_at = ? WHERE token_hash = ? AND rotated_at IS NULL")
                .bind(now)
                .bind(old_hash)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        if !won {
            query("DELETE FROM refresh_tokens WHERE family_id = ?")
                .bind(&family_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Rotation::Reused);
        }
        if row.try_get::<i64, _>("expires_at")? < now {
            query("DELETE FROM refresh_tokens WHERE family_id = ?")
                .bind(&family_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Rotation::Expired);
        }
        query(
            "INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(new_hash)
        .bind(&family_id)
        .bind(user_id)
        .bind(expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Rotation::Rotated { user_id, family_id })
    }

    /// Deletes the family of the token with hash `hash` (sign-out). Returns true if one existed.
    pub async fn revoke_refresh_family_of(&self, hash: &str) -> Result<bool, DbError> {
        let done = query(
            "DELETE FROM refresh_tokens WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = ?)",
        )
        .bind(hash)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes every refresh token of a user (password change).
    pub async fn revoke_all_refresh_tokens(&self, user_id: i64) -> Result<(), DbError> {
        query("DELETE FROM refresh_tokens WHERE user_id = ?")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(DbError::from)
    }
}
