//! The `users` table.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, DbError, now_ms, query, query_scalar};
use crate::auth::Role;

/// A row of `users`.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    /// PHC string (Argon2id).
    pub password_hash: String,
    pub role: Role,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// Outcome of [`Db::create_user`].
#[derive(Debug)]
pub enum CreateUser {
    Created(UserRecord),
    /// The username is taken (emails need not be unique).
    Taken,
}

const USER_COLUMNS: &str = "id, username, email, password_hash, role, created_at";

fn user_from_row(row: &AnyRow) -> Result<UserRecord, sqlx::Error> {
    Ok(UserRecord {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        role: Role::parse(row.try_get::<&str, _>("role")?).unwrap_or(Role::Viewer),
        created_at: row.try_get("created_at")?,
    })
}

impl Db {
    /// Creates an account. The first account ever created gets `Role::Admin` whatever `role`
    /// says (decided inside the insert's transaction, so two racing sign-ups cannot both be
    /// first).
    pub async fn create_user(
        &self,
        username: &str,
        email: Option<&str>,
        password_hash: &str,
        role: Role,
    ) -> Result<CreateUser, DbError> {
        let mut tx = self.write_tx().await?;
        // Only the (public) username must be free: emails are not unique, so registration
        // never tells whether an email already has an account (OWASP Authentication Cheat Sheet).
        let taken: i64 = query_scalar("SELECT COUNT(*) FROM users WHERE username = ?")
            .bind(username)
            .fetch_one(&mut *tx)
            .await?;
        if taken > 0 {
            return Ok(CreateUser::Taken);
        }
        let any: i64 = query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *tx).await?;
        let role = if any == 0 { Role::Admin } else { role };
        let sql = format!(
            "INSERT INTO users (username, email, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?) RETURNING {USER_COLUMNS}"
        );
        let row = query(&sql)
            .bind(username)
            .bind(email)
            .bind(password_hash)
            .bind(role.as_str())
            .bind(now_ms())
            .fetch_one(&mut *tx)
            .await;
        let row = match row {
            Ok(r) => r,
            // A concurrent insert won the race for the name.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(CreateUser::Taken),
            Err(e) => return Err(DbError::from(e)),
        };
        let user = user_from_row(&row)?;
        tx.commit().await?;
        Ok(CreateUser::Created(user))
    }

    /// The account whose username is `login` (already lowercased). Emails are not unique and
    /// never sign anyone in.
    pub async fn user_by_login(&self, login: &str) -> Result<Option<UserRecord>, DbError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?");
        let row = query(&sql).bind(login).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose().map_err(DbError::from)
    }

    /// The account with id `id`.
    pub async fn user(&self, id: i64) -> Result<Option<UserRecord>, DbError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?");
        let row = query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose().map_err(DbError::from)
    }

    /// Replaces an account's password hash.
    pub async fn set_password_hash(&self, user_id: i64, hash: &str) -> Result<(), DbError> {
        query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(hash)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(DbError::from)
    }
}
