//! Signed playback grants: a time-limited permission to fetch one video's ladder, poster and
//! original, like a CloudFront custom policy with a path wildcard or Mux signed playback.
//!
//! A grant is the token `{video_id}.{key_id}.{expires}.{binding}.{mac}`:
//! - `expires`: Unix seconds;
//! - `binding`: `any`, or `ip` when the grant only works from the viewer's address;
//! - `mac`: base64url HMAC-SHA256, under the key ring's playback subkey, of
//!   `kino-grant-v2|{video_id}|{privacy}|{key_id}|{expires}|{binding}|{client ip or empty}`.
//!
//! The video's privacy at issue time is signed in, so changing a video's privacy revokes every
//! grant issued before (making an unlisted video private locks out people who had its link).
//!
//! It travels as a path segment — `/hls/{id}/g/{grant}/master.m3u8` — so the relative URIs
//! of the multivariant and media playlists (RFC 8216 §4.1: resolved against the playlist's
//! URL) carry the same grant to every variant stream, init segment and media segment without
//! touching the stored playlists.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::Privacy;
use super::keys::{KeyRing, Purpose};

/// Why a grant was refused; each says which, for the 403 body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("the playback grant is malformed; request a new one from /api/videos/{{id}}/playback")]
    Malformed,
    #[error("the playback grant was signed with a key this server no longer has; request a new one")]
    UnknownKey,
    #[error("the playback grant's signature does not match (it was altered, or is bound to another network address)")]
    BadSignature,
    #[error("the playback grant is for another video")]
    OtherVideo,
    #[error("the video's privacy changed since this playback grant was issued; request a new one")]
    PrivacyChanged,
    #[error("the playback grant expired at Unix time {0}; request a new one from /api/videos/{{id}}/playback")]
    Expired(u64),
}

/// A verified grant's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// Unix seconds.
    pub expires: u64,
}

fn message(video_id: &str, privacy: Privacy, key_id: &str, expires: u64, binding: &str, ip: Option<IpAddr>) -> String {
    let ip = ip.map(|i| i.to_string()).unwrap_or_default();
    format!(
        "kino-grant-v2|{video_id}|{}|{key_id}|{expires}|{binding}|{ip}",
        privacy.as_str()
    )
}

fn mac(ring_key: &[u8; 32], msg: &str) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(ring_key).expect("any key length");
    m.update(msg.as_bytes());
    m
}

/// Issues a grant for `video_id` (currently `privacy`) until `expires` (Unix seconds), bound
/// to `bind_to` when set.
pub fn issue(ring: &KeyRing, video_id: &str, privacy: Privacy, expires: u64, bind_to: Option<IpAddr>) -> String {
    let key = ring.signing();
    let binding = if bind_to.is_some() { "ip" } else { "any" };
    let tag = mac(
        &key.subkey(Purpose::Playback),
        &message(video_id, privacy, &key.id, expires, binding, bind_to),
    )
    .finalize()
    .into_bytes();
    format!(
        "{video_id}.{}.{expires}.{binding}.{}",
        key.id,
        URL_SAFE_NO_PAD.encode(tag)
    )
}

/// Verifies `token` for a request for `video_id`, whose privacy is now `privacy`, from
/// `client` at `now` (Unix seconds): format, key, signature (constant-time), video, expiry —
/// in that order, so a tampered grant is reported as such before anything it claims is
/// believed.
pub fn verify(
    ring: &KeyRing,
    token: &str,
    video_id: &str,
    privacy: Privacy,
    client: Option<IpAddr>,
    now: u64,
) -> Result<Grant, GrantError> {
    let parts: Vec<&str> = token.split('.').collect();
    let [grant_video, key_id, expires, binding, tag] = parts[..] else {
        return Err(GrantError::Malformed);
    };
    let expires: u64 = expires.parse().map_err(|_| GrantError::Malformed)?;
    let bound_ip = match binding {
        "any" => None,
        "ip" => Some(client.ok_or(GrantError::BadSignature)?),
        _ => return Err(GrantError::Malformed),
    };
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| GrantError::Malformed)?;
    let key = ring.find(key_id).ok_or(GrantError::UnknownKey)?;
    let subkey = key.subkey(Purpose::Playback);
    let signed_for = |p: Privacy| {
        mac(&subkey, &message(grant_video, p, key_id, expires, binding, bound_ip))
            .verify_slice(&tag)
            .is_ok()
    };
    if !signed_for(privacy) {
        let other = [Privacy::Public, Privacy::Unlisted, Privacy::Private]
            .into_iter()
            .any(|p| p != privacy && signed_for(p));
        return Err(if other {
            GrantError::PrivacyChanged
        } else {
            GrantError::BadSignature
        });
    }
    if grant_video != video_id {
        return Err(GrantError::OtherVideo);
    }
    if expires <= now {
        return Err(GrantError::Expired(expires));
    }
    Ok(Grant { expires })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::Key;

    const U: Privacy = Privacy::Unlisted;

    fn ring(id: &str, byte: u8) -> KeyRing {
        KeyRing::new(vec![Key::new(id, &[byte; 32]).unwrap()]).unwrap()
    }

    #[test]
    fn a_grant_opens_its_video_until_it_expires() {
        let r = ring("k1", 1);
        let g = issue(&r, "vid_A-1", U, 1000, None);
        assert_eq!(verify(&r, &g, "vid_A-1", U, None, 999), Ok(Grant { expires: 1000 }));
        assert_eq!(verify(&r, &g, "vid_A-1", U, None, 1000), Err(GrantError::Expired(1000)));
        assert_eq!(verify(&r, &g, "otherVideo1", U, None, 10), Err(GrantError::OtherVideo));
        // Made private since: the grant no longer opens it.
        assert_eq!(
            verify(&r, &g, "vid_A-1", Privacy::Private, None, 10),
            Err(GrantError::PrivacyChanged)
        );
    }

    #[test]
    fn tampering_anywhere_breaks_the_signature() {
        let r = ring("k1", 1);
        let g = issue(&r, "vid", U, 1000, None);
        let longer = g.replace(".1000.", ".99999.");
        assert_eq!(verify(&r, &longer, "vid", U, None, 10), Err(GrantError::BadSignature));
        let moved = g.replacen("vid.", "abc.", 1);
        assert_eq!(verify(&r, &moved, "abc", U, None, 10), Err(GrantError::BadSignature));
        let mut flipped = g.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == 'A' { 'B' } else { 'A' });
        assert!(verify(&r, &flipped, "vid", U, None, 10).is_err());
        assert_eq!(verify(&r, "a.b.c", "vid", U, None, 10), Err(GrantError::Malformed));
        assert_eq!(
            verify(&ring("k2", 1), &g, "vid", U, None, 10),
            Err(GrantError::UnknownKey)
        );
        // Same key id, different secret: a forged grant.
        assert_eq!(
            verify(&ring("k1", 2), &g, "vid", U, None, 10),
            Err(GrantError::BadSignature)
        );
    }

    #[test]
    fn ip_bound_grants_only_work_from_that_address() {
        let r = ring("k1", 1);
        let home: IpAddr = "192.0.2.7".parse().unwrap();
        let g = issue(&r, "vid", U, 1000, Some(home));
        assert!(verify(&r, &g, "vid", U, Some(home), 10).is_ok());
        let elsewhere: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(
            verify(&r, &g, "vid", U, Some(elsewhere), 10),
            Err(GrantError::BadSignature)
        );
        let unbound = g.replace(".ip.", ".any.");
        assert_eq!(
            verify(&r, &unbound, "vid", U, Some(home), 10),
            Err(GrantError::BadSignature)
        );
    }
}
