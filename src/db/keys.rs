//! The `signing_keys` table: the HMAC key Kino generates when `auth.keys` is empty.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sqlx::Row;

use super::{Db, now_ms, query};
use crate::auth::keys::{Key, KeyRing};
use crate::auth::secret::random_secret;

/// Id of the generated key.
const GENERATED_KEY_ID: &str = "db1";

impl Db {
    /// The generated key ring, creating its key on first use (every process on the same
    /// database reads the same key; `ON CONFLICT DO NOTHING` settles a race between two).
    pub async fn generated_key_ring(&self) -> anyhow::Result<KeyRing> {
        query("INSERT INTO signing_keys (id, secret, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
            .bind(GENERATED_KEY_ID)
            .bind(random_secret())
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        let row = query("SELECT id, secret FROM signing_keys WHERE id = ?")
            .bind(GENERATED_KEY_ID)
            .fetch_one(&self.pool)
            .await?;
        let secret = URL_SAFE_NO_PAD.decode(row.try_get::<&str, _>("secret")?)?;
        let key = Key::new(row.try_get("id")?, &secret).map_err(anyhow::Error::msg)?;
        KeyRing::new(vec![key]).map_err(anyhow::Error::msg)
    }
}
