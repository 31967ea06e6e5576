//! Short-lived access tokens: JWTs (RFC 7519) signed with HS256 under the key ring's
//! access-token subkey, the key id in the header (`kid`, RFC 7515 §4.1.4) so keys rotate.
//! They are stateless: a role change reaches live sessions when their token is next refreshed
//! (at most `auth.access_token_secs` later).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::Role;
use super::keys::{KeyRing, Purpose};

/// The claims Kino puts in an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    /// User id, as a string (RFC 7519 §4.1.2).
    pub sub: String,
    /// Username.
    pub name: String,
    pub role: Role,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// Expiry, Unix seconds.
    pub exp: u64,
}

/// Installs jsonwebtoken's crypto backend (aws-lc-rs) for the process and proves it with one
/// sign + verify; call once at start-up. jsonwebtoken ≥ 10 panics at first use without a
/// provider, so failing here, with a message, is better.
pub fn init_crypto() -> anyhow::Result<()> {
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    let ring = KeyRing::new(vec![
        super::keys::Key::new("selftest", &[7u8; 32]).map_err(anyhow::Error::msg)?,
    ])
    .map_err(anyhow::Error::msg)?;
    let claims = AccessClaims {
        sub: "0".into(),
        name: "selftest".into(),
        role: Role::Viewer,
        iat: 0,
        exp: u64::MAX / 2,
    };
    let token = sign(&ring, &claims)?;
    anyhow::ensure!(verify(&ring, &token).ok() == Some(claims), "JWT self-test failed");
    Ok(())
}

/// Signs `claims` with the ring's signing key.
///
/// Errors: only from the JWT library (not expected with HS256).
pub fn sign(ring: &KeyRing, claims: &AccessClaims) -> anyhow::Result<String> {
    let key = ring.signing();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(key.id.clone());
    let secret = key.subkey(Purpose::AccessToken);
    Ok(jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(&secret),
    )?)
}

/// Why an access token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("the session has expired")]
    Expired,
    #[error("the session token is invalid")]
    Invalid,
}

/// Verifies a token: HS256 only (no `alg` confusion), a known `kid`, the signature, and `exp`
/// with 5 s of leeway.
pub fn verify(ring: &KeyRing, token: &str) -> Result<AccessClaims, AccessError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| AccessError::Invalid)?;
    let key = header
        .kid
        .as_deref()
        .and_then(|kid| ring.find(kid))
        .ok_or(AccessError::Invalid)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 5;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let secret = key.subkey(Purpose::AccessToken);
    jsonwebtoken::decode::<AccessClaims>(token, &DecodingKey::from_secret(&secret), &validation)
        .map(|d| d.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => AccessError::Expired,
            _ => AccessError::Invalid,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::Key;

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn claims(exp: u64) -> AccessClaims {
        AccessClaims {
            sub: "42".into(),
            name: "alice".into(),
            role: Role::Uploader,
            iat: now(),
            exp,
        }
    }

    #[test]
    fn tokens_round_trip_rotate_and_expire() {
        init_crypto().unwrap();
        let old = Key::new("old", &[1u8; 32]).unwrap();
        let new = Key::new("new", &[2u8; 32]).unwrap();
        let before = KeyRing::new(vec![old.clone()]).unwrap();
        let token = sign(&before, &claims(now() + 900)).unwrap();
        // After rotation the old key still verifies what it signed.
        let after = KeyRing::new(vec![new.clone(), old]).unwrap();
        assert_eq!(verify(&after, &token).unwrap().name, "alice");
        // Once the old key is dropped, its tokens are invalid.
        assert_eq!(
            verify(&KeyRing::new(vec![new]).unwrap(), &token),
            Err(AccessError::Invalid)
        );
        let expired = sign(&before, &claims(now() - 60)).unwrap();
        assert_eq!(verify(&before, &expired), Err(AccessError::Expired));
        let mut tampered = token.clone();
        tampered.replace_range(tampered.len() - 3.., "AAA");
        assert_eq!(verify(&before, &tampered), Err(AccessError::Invalid));
    }
}
