//! Video ids: 72 random bits as 12 URL-safe base64 characters (like `aB3x_9kLmQ2z`), never
//! derived from anything the client sent, so two uploads named `video.mp4` never collide.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Length of a video id, in characters.
pub const VIDEO_ID_LEN: usize = 12;

/// A new random video id.
pub fn new_video_id() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 9]>())
}

/// True when `s` has the shape of a video id (checked before any lookup or storage path).
pub fn is_video_id(s: &str) -> bool {
    s.len() == VIDEO_ID_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_url_safe_and_distinct() {
        let a = new_video_id();
        assert!(is_video_id(&a), "{a}");
        assert_ne!(a, new_video_id());
        assert!(!is_video_id("../etc/passwd"));
        assert!(!is_video_id("short"));
    }
}
