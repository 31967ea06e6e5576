//! The FLV bytes Kino hands its live ffmpeg on stdin: an RTMP publisher's audio and video
//! messages are FLV tag bodies already (Adobe FLV spec v10.1, annex E.4), so each becomes a
//! tag behind an FLV header. Also the few facts read from tag bodies: codec, keyframe,
//! sequence header.

/// FLV tag type of an audio message (FLV spec E.4.1).
pub const TAG_AUDIO: u8 = 8;
/// FLV tag type of a video message.
pub const TAG_VIDEO: u8 = 9;

/// The FLV file header (E.2) declaring audio and/or video, followed by `PreviousTagSize0`.
pub fn header(has_audio: bool, has_video: bool) -> Vec<u8> {
    let flags = (u8::from(has_audio) << 2) | u8::from(has_video);
    let mut out = b"FLV\x01".to_vec();
    out.push(flags);
    out.extend_from_slice(&9u32.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out
}

/// One FLV tag (E.4.1) of `kind` ([`TAG_AUDIO`] or [`TAG_VIDEO`]) carrying `body` at
/// `timestamp_ms`, followed by its `PreviousTagSize`. Bodies longer than 2^24 − 1 bytes cannot
/// be expressed and are truncated to an empty tag (RTMP messages are bounded far below that).
pub fn tag(kind: u8, timestamp_ms: u32, body: &[u8]) -> Vec<u8> {
    let body = if body.len() < 1 << 24 { body } else { &[][..] };
    let size = body.len() as u32;
    let mut out = Vec::with_capacity(body.len() + 15);
    out.push(kind);
    out.extend_from_slice(&size.to_be_bytes()[1..]);
    out.extend_from_slice(&(timestamp_ms & 0x00ff_ffff).to_be_bytes()[1..]);
    out.push((timestamp_ms >> 24) as u8);
    out.extend_from_slice(&[0, 0, 0]);
    out.extend_from_slice(body);
    out.extend_from_slice(&(size + 11).to_be_bytes());
    out
}

/// The video codec of a video message body (E.4.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoCodec {
    /// H.264 (codec id 7), the codec classic RTMP carries.
    Avc,
    /// Enhanced RTMP (`IsExHeader`): HEVC, AV1 or VP9 named by a FourCC (veovera enhanced-rtmp
    /// v1), as OBS 30+ sends when set to those encoders.
    Enhanced([u8; 4]),
    /// Any other legacy codec id (Sorenson H.263, VP6, screen video…).
    Other(u8),
}

/// Codec of a video message body; `None` for an empty body.
pub fn video_codec(body: &[u8]) -> Option<VideoCodec> {
    let b0 = *body.first()?;
    if b0 & 0x80 != 0 {
        let mut fourcc = [0u8; 4];
        fourcc.copy_from_slice(body.get(1..5)?);
        return Some(VideoCodec::Enhanced(fourcc));
    }
    Some(match b0 & 0x0f {
        7 => VideoCodec::Avc,
        other => VideoCodec::Other(other),
    })
}

/// True for an H.264 keyframe carrying picture data (frame type 1, AVC packet type 1): where a
/// segment may start. Sequence headers (packet type 0) are not.
pub fn is_avc_keyframe(body: &[u8]) -> bool {
    body.len() > 1 && body[0] == 0x17 && body[1] == 1
}

/// True for an AAC audio message (sound format 10, E.4.2.1).
pub fn is_aac(body: &[u8]) -> bool {
    body.first().is_some_and(|b| b >> 4 == 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_declares_the_streams() {
        assert_eq!(header(true, true), b"FLV\x01\x05\0\0\0\x09\0\0\0\0");
        assert_eq!(header(false, true)[4], 1);
    }

    #[test]
    fn tags_carry_size_timestamp_and_trailer() {
        let t = tag(TAG_VIDEO, 0x0102_0304, b"abc");
        assert_eq!(&t[..11], &[9, 0, 0, 3, 0x02, 0x03, 0x04, 0x01, 0, 0, 0]);
        assert_eq!(&t[11..14], b"abc");
        assert_eq!(&t[14..], &14u32.to_be_bytes());
    }

    #[test]
    fn codec_and_keyframes_are_read_from_the_body() {
        assert_eq!(video_codec(&[0x17, 1]), Some(VideoCodec::Avc));
        assert_eq!(video_codec(&[0x27, 1]), Some(VideoCodec::Avc));
        assert_eq!(
            video_codec(&[0x90, b'h', b'v', b'c', b'1']),
            Some(VideoCodec::Enhanced(*b"hvc1"))
        );
        assert_eq!(video_codec(&[0x12]), Some(VideoCodec::Other(2)));
        assert_eq!(video_codec(&[]), None);
        assert!(is_avc_keyframe(&[0x17, 1, 0, 0, 0]));
        assert!(
            !is_avc_keyframe(&[0x17, 0, 0, 0, 0]),
            "a sequence header is no keyframe"
        );
        assert!(!is_avc_keyframe(&[0x27, 1, 0, 0, 0]));
        assert!(is_aac(&[0xaf, 1]));
        assert!(!is_aac(&[0x2f]));
    }
}
