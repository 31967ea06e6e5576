//! Media playlists of a live stream, rendered by Kino from its segment index (never ffmpeg's):
//! the sliding DVR window while live (RFC 8216 §6.2.2: segments leave from the front,
//! `EXT-X-MEDIA-SEQUENCE` and `EXT-X-DISCONTINUITY-SEQUENCE` count what left), and the replay
//! (`VOD`, every segment, `#EXT-X-ENDLIST`). Each segment carries its init segment
//! (`EXT-X-MAP`, again after a reconnect) and `EXT-X-PROGRAM-DATE-TIME` where a timeline
//! starts, so players can show wall-clock time and measure latency.

use std::fmt::Write as _;

use time::OffsetDateTime;
use time::macros::format_description;

/// One finished segment of one rendition, as the index keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSegment {
    /// Media sequence number (RFC 8216 §4.3.3.2), from 0, never reused.
    pub seq: u64,
    /// The publishing session that made it (part of its file name, so two sessions can never
    /// write the same blob).
    pub session: u64,
    /// Seconds (`EXTINF`).
    pub duration: f64,
    /// Bytes of the segment.
    pub bytes: u64,
    /// File name of its init segment (one per publishing session).
    pub init: String,
    /// First segment of a session after a reconnect (`EXT-X-DISCONTINUITY`).
    pub discontinuity: bool,
    /// Wall-clock time of its first frame, Unix milliseconds.
    pub program_date_time_ms: i64,
}

/// File name of segment `seq` of publishing session `session` in its rendition's directory.
pub fn segment_file(session: u64, seq: u64) -> String {
    format!("{session}-{seq:06}.m4s")
}

/// File name of the init segment of publishing session `session`.
pub fn init_file(session: u64) -> String {
    format!("init-{session}.mp4")
}

/// Which playlist to render.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Window {
    /// While live: the last `dvr_secs` seconds (at least three segments; 0 = the whole event,
    /// then declared `EVENT`).
    Live { dvr_secs: f64 },
    /// The replay: every segment, `VOD`, ended.
    Replay,
}

/// Renders the media playlist of `segments` (ascending `seq`) with `target` as
/// `EXT-X-TARGETDURATION` (seconds; the caller keeps it from ever going down, RFC 8216
/// §6.2.1). `earlier_discontinuities` counts discontinuities among segments before
/// `segments[0]` that the caller no longer holds. An empty index renders a playlist with no
/// segments.
pub fn media_playlist(segments: &[LiveSegment], target: u64, window: Window, earlier_discontinuities: usize) -> String {
    let first = match window {
        Window::Live { dvr_secs } if dvr_secs > 0.0 => {
            let mut kept = 0.0;
            let mut first = segments.len();
            while first > 0 && (kept + segments[first - 1].duration <= dvr_secs || segments.len() - first < 3) {
                first -= 1;
                kept += segments[first].duration;
            }
            first
        }
        _ => 0,
    };
    let listed = &segments[first..];
    // Discontinuities whose tag is no longer in the playlist: those that left, and the first
    // listed segment's (a tag before the first segment is not written).
    let discontinuity_seq = earlier_discontinuities
        + segments[..first].iter().filter(|s| s.discontinuity).count()
        + usize::from(listed.first().is_some_and(|s| s.discontinuity));
    let mut out = format!(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:{target}\n#EXT-X-MEDIA-SEQUENCE:{}\n",
        listed.first().map_or(segments.len() as u64, |s| s.seq)
    );
    if discontinuity_seq > 0 {
        let _ = writeln!(out, "#EXT-X-DISCONTINUITY-SEQUENCE:{discontinuity_seq}");
    }
    match window {
        Window::Replay => out.push_str("#EXT-X-PLAYLIST-TYPE:VOD\n"),
        Window::Live { dvr_secs } if dvr_secs <= 0.0 => out.push_str("#EXT-X-PLAYLIST-TYPE:EVENT\n"),
        Window::Live { .. } => {}
    }
    out.push_str("#EXT-X-INDEPENDENT-SEGMENTS\n");
    let mut init: Option<&str> = None;
    for (i, s) in listed.iter().enumerate() {
        if s.discontinuity && i > 0 {
            out.push_str("#EXT-X-DISCONTINUITY\n");
        }
        if init != Some(s.init.as_str()) {
            let _ = writeln!(out, "#EXT-X-MAP:URI=\"{}\"", s.init);
            init = Some(&s.init);
        }
        if i == 0 || s.discontinuity {
            let _ = writeln!(out, "#EXT-X-PROGRAM-DATE-TIME:{}", rfc3339_ms(s.program_date_time_ms));
        }
        let _ = write!(out, "#EXTINF:{:.3},\n{}\n", s.duration, segment_file(s.session, s.seq));
    }
    if window == Window::Replay {
        out.push_str("#EXT-X-ENDLIST\n");
    }
    out
}

/// RFC 3339 date-time with milliseconds in UTC, as `EXT-X-PROGRAM-DATE-TIME` wants (RFC 8216
/// §4.3.2.6).
pub fn rfc3339_ms(unix_ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(seq: u64, init: &str, discontinuity: bool) -> LiveSegment {
        LiveSegment {
            seq,
            session: 1,
            duration: 1.0,
            bytes: 1000,
            init: init.into(),
            discontinuity,
            program_date_time_ms: 1_764_000_000_000 + seq as i64 * 1000,
        }
    }

    fn parse(text: &str) -> m3u8_rs::MediaPlaylist {
        match m3u8_rs::parse_playlist_res(text.as_bytes()) {
            Ok(m3u8_rs::Playlist::MediaPlaylist(p)) => p,
            other => panic!("not a media playlist: {other:?}\n{text}"),
        }
    }

    #[test]
    fn the_live_window_slides_and_counts_what_left() {
        let mut segs: Vec<_> = (0..10).map(|i| seg(i, "init-1.mp4", false)).collect();
        segs[2].discontinuity = true;
        segs[2].init = "init-2.mp4".into();
        for s in &mut segs[3..] {
            s.init = "init-2.mp4".into();
        }
        segs[8].discontinuity = true;
        let text = media_playlist(&segs, 1, Window::Live { dvr_secs: 4.0 }, 0);
        let p = parse(&text);
        assert_eq!(p.media_sequence, 6);
        assert_eq!(p.discontinuity_sequence, 1, "{text}");
        assert_eq!(p.segments.len(), 4);
        assert_eq!(p.segments[0].uri, "1-000006.m4s");
        assert!(p.segments[2].discontinuity);
        assert!(!p.end_list);
        assert!(text.contains("#EXT-X-MAP:URI=\"init-2.mp4\""));
        assert_eq!(text.matches("#EXT-X-PROGRAM-DATE-TIME:").count(), 2);
        assert!(
            text.contains("#EXT-X-PROGRAM-DATE-TIME:2025-11-24T16:00:06.000Z"),
            "{text}"
        );
    }

    #[test]
    fn a_discontinuity_reaching_the_top_of_the_window_is_counted() {
        let mut segs: Vec<_> = (0..8).map(|i| seg(i, "init-1.mp4", false)).collect();
        segs[4].discontinuity = true;
        let before = parse(&media_playlist(&segs[..7], 1, Window::Live { dvr_secs: 4.0 }, 0));
        assert_eq!((before.media_sequence, before.discontinuity_sequence), (3, 0));
        assert!(before.segments[1].discontinuity, "tag inside the window");
        // One segment later the tagged segment is first: its tag is gone, the count goes up.
        let top = parse(&media_playlist(&segs, 1, Window::Live { dvr_secs: 4.0 }, 0));
        assert_eq!(top.media_sequence, 4);
        assert_eq!(top.discontinuity_sequence, 1);
        let gone = parse(&media_playlist(&segs, 1, Window::Live { dvr_secs: 3.0 }, 0));
        assert_eq!(gone.discontinuity_sequence, 1, "and stays counted once it has left");
    }

    #[test]
    fn the_replay_lists_everything_and_ends() {
        let mut segs: Vec<_> = (0..5).map(|i| seg(i, "init-1.mp4", false)).collect();
        segs[3].discontinuity = true;
        segs[3].init = "init-2.mp4".into();
        segs[4].init = "init-2.mp4".into();
        let text = media_playlist(&segs, 1, Window::Replay, 0);
        let p = parse(&text);
        assert_eq!(p.media_sequence, 0);
        assert_eq!(p.segments.len(), 5);
        assert!(p.end_list);
        assert_eq!(p.playlist_type, Some(m3u8_rs::MediaPlaylistType::Vod));
        assert_eq!(text.matches("#EXT-X-MAP:").count(), 2);
        assert_eq!(text.matches("#EXT-X-DISCONTINUITY\n").count(), 1);
    }

    #[test]
    fn a_short_window_keeps_three_segments_and_zero_keeps_all() {
        let segs: Vec<_> = (0..10).map(|i| seg(i, "init-1.mp4", false)).collect();
        assert_eq!(
            parse(&media_playlist(&segs, 1, Window::Live { dvr_secs: 0.5 }, 0))
                .segments
                .len(),
            3
        );
        let all = media_playlist(&segs, 1, Window::Live { dvr_secs: 0.0 }, 0);
        assert_eq!(parse(&all).segments.len(), 10);
        assert!(all.contains("#EXT-X-PLAYLIST-TYPE:EVENT"));
    }
}
