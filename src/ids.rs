//! Video ids: 72 random bits as 12 URL-safe base64 characters (like `aB3x_9kLmQ2z`), never
//! derived from anything the client sent, so two uploads named `video.mp4` never collide.
//! A [`VideoId`] exists only once its text was checked ([`VideoId::parse`] at the edge) or
//! minted ([`VideoId::new`]), so storage paths and queries never see anything else.

use std::fmt;
use std::ops::Deref;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize};

/// Length of a video id, in characters.
pub const VIDEO_ID_LEN: usize = 12;

/// A video's id; derefs to its text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct VideoId(String);

impl VideoId {
    /// A new random id.
    #[allow(clippy::new_without_default)]
    pub fn new() -> VideoId {
        VideoId(random_token())
    }

    /// The id spelled by `s`, or None when `s` does not have the shape of one (checked before
    /// any lookup or storage path).
    pub fn parse(s: &str) -> Option<VideoId> {
        is_video_id(s).then(|| VideoId(s.to_string()))
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for VideoId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for VideoId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VideoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for VideoId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for VideoId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl<'de> Deserialize<'de> for VideoId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<VideoId, D::Error> {
        let s = String::deserialize(d)?;
        VideoId::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a video id")))
    }
}

/// 72 random bits as 12 URL-safe base64 characters: video ids, and the names of processes
/// (nodes, worker runs) that must not collide.
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 9]>())
}

/// True when `s` has the shape of a video id.
pub fn is_video_id(s: &str) -> bool {
    s.len() == VIDEO_ID_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_url_safe_and_distinct() {
        let a = VideoId::new();
        assert!(is_video_id(&a), "{a}");
        assert_ne!(a, VideoId::new());
        assert_eq!(VideoId::parse(&a), Some(a.clone()));
        assert_eq!(VideoId::parse("../etc/passwd"), None);
        assert_eq!(VideoId::parse("short"), None);
        assert!(serde_json::from_str::<VideoId>("\"../../../../x\"").is_err());
    }
}
