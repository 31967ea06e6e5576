//! Signed playback grants: a time-limited permission to fetch one video's ladder, poster and
//! original, like a CloudFront custom policy with a path wildcard or Mux signed playback.
//!
//! A grant is the token `{video_id}.{key_id}.{generation}.{expires}.{binding}.{mac}`:
//! - `generation`: the video's grant generation when it was issued (a counter kept per video
//!   that only increases: bumped by every privacy change and by the owner's "revoke all links",
//!   `POST /api/videos/{id}/revoke-links`), so a grant works only until the next bump — going
//!   private → unlisted → private does not bring an old grant back;
//! - `expires`: Unix seconds;
//! - `binding`: `any`, `ip` when the grant only works from the viewer's address, or `embed`
//!   (an embed link's: any address, and the ladder and poster only, not the original);
//! - `mac`: base64url (no padding) HMAC-SHA256, under the key ring's playback subkey, of
//!   `kino-grant-v3|{video_id}|{generation}|{key_id}|{expires}|{binding}|{client ip or empty}`.
//!
//! Every field has one spelling (numbers in canonical decimal: no sign, no leading zeros;
//! the tag in unpadded base64url with zero trailing bits); any other spelling is malformed, so
//! one grant cannot be written several ways.
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
    #[error(
        "the video's privacy changed or its links were revoked since this playback grant was issued; request a new one"
    )]
    Revoked,
    #[error("the playback grant expired at Unix time {0}; request a new one from /api/videos/{{id}}/playback")]
    Expired(u64),
}

/// A verified grant's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// Unix seconds.
    pub expires: u64,
    /// An embed link's grant: it plays the video but does not fetch the original upload.
    pub embed: bool,
}

fn message(video_id: &str, generation: u64, key_id: &str, expires: u64, binding: &str, ip: Option<IpAddr>) -> String {
    let ip = ip.map(|i| i.to_string()).unwrap_or_default();
    format!("kino-grant-v3|{video_id}|{generation}|{key_id}|{expires}|{binding}|{ip}")
}

fn mac(ring_key: &[u8; 32], msg: &str) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(ring_key).expect("any key length");
    m.update(msg.as_bytes());
    m
}

/// Issues a grant for `video_id` (whose grant generation is now `generation`) until `expires`
/// (Unix seconds), bound to `bind_to` when set.
pub fn issue(ring: &KeyRing, video_id: &str, generation: u64, expires: u64, bind_to: Option<IpAddr>) -> String {
    let binding = if bind_to.is_some() { "ip" } else { "any" };
    issue_with(ring, video_id, generation, expires, binding, bind_to)
}

/// Issues an embed link's grant (binding `embed`): bound to no address, and good for playing
/// only — the ladder and poster, not the original upload ([`Grant::embed`]).
pub fn issue_for_embed(ring: &KeyRing, video_id: &str, generation: u64, expires: u64) -> String {
    issue_with(ring, video_id, generation, expires, "embed", None)
}

fn issue_with(
    ring: &KeyRing,
    video_id: &str,
    generation: u64,
    expires: u64,
    binding: &str,
    bind_to: Option<IpAddr>,
) -> String {
    let key = ring.signing();
    let tag = mac(
        &key.subkey(Purpose::Playback),
        &message(video_id, generation, &key.id, expires, binding, bind_to),
    )
    .finalize()
    .into_bytes();
    format!(
        "{video_id}.{}.{generation}.{expires}.{binding}.{}",
        key.id,
        URL_SAFE_NO_PAD.encode(tag)
    )
}

/// Verifies `token` for a request for `video_id`, whose grant generation is now `generation`,
/// from `client` at `now` (Unix seconds): format (canonical spelling), key, signature
/// (constant-time), video, generation, expiry — in that order, so a tampered grant is reported
/// as such before anything it claims is believed.
pub fn verify(
    ring: &KeyRing,
    token: &str,
    video_id: &str,
    generation: u64,
    client: Option<IpAddr>,
    now: u64,
) -> Result<Grant, GrantError> {
    let parts: Vec<&str> = token.split('.').collect();
    let [grant_video, key_id, grant_generation, expires, binding, tag_text] = parts[..] else {
        return Err(GrantError::Malformed);
    };
    let grant_generation = canonical_decimal(grant_generation).ok_or(GrantError::Malformed)?;
    let expires = canonical_decimal(expires).ok_or(GrantError::Malformed)?;
    let bound_ip = match binding {
        "any" | "embed" => None,
        "ip" => Some(client.ok_or(GrantError::BadSignature)?),
        _ => return Err(GrantError::Malformed),
    };
    let tag = URL_SAFE_NO_PAD.decode(tag_text).map_err(|_| GrantError::Malformed)?;
    // Only the one encoding `issue` writes is accepted: a tag that decodes to the same bytes
    // but is spelt differently is refused.
    if URL_SAFE_NO_PAD.encode(&tag) != tag_text {
        return Err(GrantError::Malformed);
    }
    let key = ring.find(key_id).ok_or(GrantError::UnknownKey)?;
    let signed = mac(
        &key.subkey(Purpose::Playback),
        &message(grant_video, grant_generation, key_id, expires, binding, bound_ip),
    )
    .verify_slice(&tag)
    .is_ok();
    if !signed {
        return Err(GrantError::BadSignature);
    }
    if grant_video != video_id {
        return Err(GrantError::OtherVideo);
    }
    if grant_generation != generation {
        return Err(GrantError::Revoked);
    }
    if expires <= now {
        return Err(GrantError::Expired(expires));
    }
    Ok(Grant {
        expires,
        embed: binding == "embed",
    })
}

/// True when `token` is shaped as an embed link's grant (binding `embed`). Only meaningful for
/// a token [`verify`] accepted: the binding is part of what is signed.
pub fn is_embed(token: &str) -> bool {
    token.split('.').nth(4) == Some("embed")
}

/// Parses the canonical decimal spelling of a `u64` (`0`, or a non-zero digit followed by
/// digits, as `u64::to_string` writes it): no sign, no leading zeros, no spaces. Rust's
/// `str::parse` accepts a leading `+` and leading zeros, which would let one signed value be
/// written many ways.
fn canonical_decimal(s: &str) -> Option<u64> {
    let n: u64 = s.parse().ok()?;
    (n.to_string() == s).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::Key;

    /// A grant generation.
    const U: u64 = 1;

    fn ring(id: &str, byte: u8) -> KeyRing {
        KeyRing::new(vec![Key::new(id, &[byte; 32]).unwrap()]).unwrap()
    }

    #[test]
    fn a_grant_opens_its_video_until_it_expires() {
        let r = ring("k1", 1);
        let g = issue(&r, "vid_A-1", U, 1000, None);
        assert_eq!(
            verify(&r, &g, "vid_A-1", U, None, 999),
            Ok(Grant {
                expires: 1000,
                embed: false
            })
        );
        assert_eq!(verify(&r, &g, "vid_A-1", U, None, 1000), Err(GrantError::Expired(1000)));
        assert_eq!(verify(&r, &g, "otherVideo1", U, None, 10), Err(GrantError::OtherVideo));
        // Privacy changed or links revoked since (the generation moved on): the grant no
        // longer opens it, and never will again.
        assert_eq!(verify(&r, &g, "vid_A-1", U + 1, None, 10), Err(GrantError::Revoked));
        assert_eq!(verify(&r, &g, "vid_A-1", U + 2, None, 10), Err(GrantError::Revoked));
        // A grant of the new generation does not open the old one either.
        let newer = issue(&r, "vid_A-1", U + 1, 1000, None);
        assert!(verify(&r, &newer, "vid_A-1", U + 1, None, 10).is_ok());
        // Claiming the current generation in an old grant breaks its signature.
        let claimed = g.replacen(".1.1000.", ".2.1000.", 1);
        assert_ne!(claimed, g);
        assert_eq!(
            verify(&r, &claimed, "vid_A-1", U + 1, None, 10),
            Err(GrantError::BadSignature)
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
    fn only_the_canonical_spelling_verifies() {
        let r = ring("k1", 1);
        let g = issue(&r, "vid", U, 1000, None);
        assert!(verify(&r, &g, "vid", U, None, 10).is_ok());
        for alias in [".01000.", ".+1000.", ". 1000.", ".1000 ."] {
            let other = g.replacen(".1000.", alias, 1);
            assert_ne!(other, g);
            assert_eq!(
                verify(&r, &other, "vid", U, None, 10),
                Err(GrantError::Malformed),
                "{other}"
            );
        }
        for generation in [".01.", ".+1."] {
            let other = g.replacen(".1.", generation, 1);
            assert_ne!(other, g);
            assert_eq!(verify(&r, &other, "vid", U, None, 10), Err(GrantError::Malformed));
        }
        assert_eq!(canonical_decimal("0"), Some(0));
        assert_eq!(canonical_decimal("00"), None);
        assert_eq!(canonical_decimal("-1"), None);
        assert_eq!(canonical_decimal("18446744073709551616"), None);
        // A padded or otherwise re-spelt signature is refused even when it decodes the same.
        let padded = format!("{g}=");
        assert_eq!(verify(&r, &padded, "vid", U, None, 10), Err(GrantError::Malformed));
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

    #[test]
    fn embed_grants_work_from_anywhere_and_say_so() {
        let r = ring("k1", 7);
        let g = issue_for_embed(&r, "vid_A-1", U, 1000);
        assert!(is_embed(&g));
        let from = Some("192.0.2.7".parse().unwrap());
        assert_eq!(
            verify(&r, &g, "vid_A-1", U, from, 999),
            Ok(Grant {
                expires: 1000,
                embed: true
            })
        );
        // The binding is signed: an embed grant relabelled `any` (or the reverse) fails.
        let relabelled = g.replace(".embed.", ".any.");
        assert_eq!(
            verify(&r, &relabelled, "vid_A-1", U, from, 999),
            Err(GrantError::BadSignature)
        );
        assert!(!is_embed(&issue(&r, "vid_A-1", U, 1000, None)));
    }
}
