//! Password hashing: Argon2id with the `argon2` crate's defaults, which are OWASP's
//! recommended minimum (m = 19 MiB, t = 2, p = 1), stored as PHC strings. Hashing runs on the
//! blocking pool: at ~50 ms a hash it would stall the async workers.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};

use super::credentials::NewPassword;

/// Hashes a new password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
///
/// Errors: only if the blocking pool is gone (shutdown).
pub async fn hash(password: &NewPassword) -> anyhow::Result<String> {
    let password = password.expose().to_string();
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
}

/// Checks `password` against a stored PHC string; `stored = None` (no such account) still
/// spends the time of one verification against a fixed hash, so a sign-in answer's timing
/// does not tell whether the account exists.
pub async fn verify(password: &str, stored: Option<String>) -> bool {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let phc = stored.as_deref().unwrap_or_else(|| dummy_hash());
        let ok = PasswordHash::new(phc)
            .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false);
        ok && stored.is_some()
    })
    .await
    .unwrap_or(false)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("kino-timing-equaliser").expect("argon2 works"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let pw = NewPassword::parse("correct horse battery").unwrap();
        let phc = hash(&pw).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery", Some(phc.clone())).await);
        assert!(!verify("correct horse batterY", Some(phc)).await);
        assert!(
            !verify("kino-timing-equaliser", None).await,
            "no account never verifies"
        );
    }
}
