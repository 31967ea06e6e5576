//! The HMAC key ring behind access tokens and playback grants.
//!
//! Keys come from `auth.keys` (rotatable: the first signs, every listed key verifies, each
//! token names its key id) or, when none is configured, from one key Kino generates and keeps
//! in the database so every node on the same database agrees. Each use gets its own subkey,
//! HMAC-SHA256(key, "kino/" + purpose), so an access token can never pass as a playback grant.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// One key of the ring.
#[derive(Clone)]
pub struct Key {
    /// Short identifier carried in tokens: `[A-Za-z0-9_-]{1,32}`.
    pub id: String,
    secret: Vec<u8>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.id)
    }
}

/// What a subkey is for.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    /// JWT access tokens (HS256).
    AccessToken,
    /// Signed playback grants.
    Playback,
}

impl Key {
    /// A key from its id and secret. Errors: an id outside `[A-Za-z0-9_-]{1,32}` or a secret
    /// shorter than 32 bytes.
    pub fn new(id: &str, secret: &[u8]) -> Result<Key, String> {
        if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(format!("auth key id {id:?}: use 1 to 32 characters of A-Z a-z 0-9 _ -"));
        }
        if secret.len() < 32 {
            return Err(format!(
                "auth key {id:?}: the secret must be at least 32 bytes (e.g. `openssl rand -base64 32`)"
            ));
        }
        Ok(Key {
            id: id.to_string(),
            secret: secret.to_vec(),
        })
    }

    /// The subkey for `purpose`, 32 bytes.
    pub fn subkey(&self, purpose: Purpose) -> [u8; 32] {
        let label: &[u8] = match purpose {
            Purpose::AccessToken => b"kino/access-token",
            Purpose::Playback => b"kino/playback-grant",
        };
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(label);
        mac.finalize().into_bytes().into()
    }
}

/// The keys in force: `keys[0]` signs, all verify.
#[derive(Debug, Clone)]
pub struct KeyRing {
    keys: Vec<Key>,
}

impl KeyRing {
    /// A ring of at least one key. Errors: an empty list or a repeated id.
    pub fn new(keys: Vec<Key>) -> Result<KeyRing, String> {
        if keys.is_empty() {
            return Err("the key ring needs at least one key".into());
        }
        for (i, k) in keys.iter().enumerate() {
            if keys[..i].iter().any(|o| o.id == k.id) {
                return Err(format!("auth key id {:?} appears twice", k.id));
            }
        }
        Ok(KeyRing { keys })
    }

    /// The key new tokens are signed with.
    pub fn signing(&self) -> &Key {
        &self.keys[0]
    }

    /// The key with id `id`, if the ring still has it.
    pub fn find(&self, id: &str) -> Option<&Key> {
        self.keys.iter().find(|k| k.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subkeys_differ_by_purpose_and_key() {
        let a = Key::new("a", &[1u8; 32]).unwrap();
        let b = Key::new("b", &[2u8; 32]).unwrap();
        assert_ne!(a.subkey(Purpose::AccessToken), a.subkey(Purpose::Playback));
        assert_ne!(a.subkey(Purpose::Playback), b.subkey(Purpose::Playback));
        assert!(Key::new("a.b", &[1u8; 32]).is_err());
        assert!(Key::new("short", &[1u8; 31]).is_err());
        let ring = KeyRing::new(vec![b.clone(), a]).unwrap();
        assert_eq!(ring.signing().id, "b");
        assert!(ring.find("a").is_some());
        assert!(KeyRing::new(vec![b.clone(), b]).is_err());
    }
}
