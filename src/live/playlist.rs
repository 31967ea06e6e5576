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
    render(segments, target, window, earlier_discontinuities, None)
}

/// One part of a live segment (RFC 8216bis §4.4.4.9 `EXT-X-PART`): a fragment of about
/// `live.part_secs`, stored under [`part_file`] as soon as ffmpeg wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct LivePart {
    /// Media sequence number of its segment.
    pub msn: u64,
    /// Its place in its segment, from 0.
    pub index: u32,
    /// Its number in its publishing session, from 0 (its file name).
    pub number: u64,
    pub session: u64,
    /// Seconds.
    pub duration: f64,
    /// Starts with a keyframe (`INDEPENDENT=YES`).
    pub independent: bool,
}

/// File name of part `number` of publishing session `session`.
pub fn part_file(session: u64, number: u64) -> String {
    format!("{session}-p{number:08}.m4s")
}

/// The session and number of a part's file name ([`part_file`]); `None` for any other file.
pub fn part_number(file: &str) -> Option<(u64, u64)> {
    let (session, rest) = file.strip_suffix(".m4s")?.split_once("-p")?;
    Some((session.parse().ok()?, rest.parse().ok()?))
}

/// Where another rendition of the same stream is (RFC 8216bis §4.4.5.4
/// `EXT-X-RENDITION-REPORT`), so a player switching to it can ask for the right part at once.
#[derive(Debug, Clone, PartialEq)]
pub struct RenditionReport {
    /// Its media playlist, relative to this one (`../360p/index.m3u8`).
    pub uri: String,
    /// Its newest part: the segment's media sequence number and the part's index in it.
    pub last_msn: u64,
    pub last_part: u32,
}

/// The low-latency side of a live media playlist (Apple's LL-HLS, RFC 8216bis §4.4.3.7–8,
/// §4.4.4.9, §4.4.5.2–4).
#[derive(Debug, Clone)]
pub struct LowLatency<'a> {
    /// `PART-TARGET`, seconds: no part is longer.
    pub part_target: f64,
    /// Parts of the last segments and of the open one, ascending.
    pub parts: &'a [LivePart],
    /// The segment being filled (its `duration` so far, its tags), after `segments`.
    pub open: Option<&'a LiveSegment>,
    /// File name of the next part, hinted with `EXT-X-PRELOAD-HINT` (served when it exists).
    pub preload_hint: Option<String>,
    pub reports: &'a [RenditionReport],
    /// A delta update (`_HLS_skip=YES`, §6.2.5.1): segments older than `CAN-SKIP-UNTIL` from
    /// the end are replaced by `EXT-X-SKIP`.
    pub skip: bool,
}

impl LowLatency<'_> {
    /// `CAN-SKIP-UNTIL`, seconds: six target durations, the least §4.4.3.8 allows.
    pub fn can_skip_until(target: u64) -> f64 {
        6.0 * target as f64
    }

    /// `PART-HOLD-BACK`, seconds: three part targets, the least Apple's spec recommends.
    pub fn part_hold_back(part_target: f64) -> f64 {
        3.0 * part_target
    }
}

/// The live media playlist of `segments` (the closed ones, ascending) with LL-HLS parts,
/// server control, preload hint and rendition reports (`ll`), over the DVR window of
/// `dvr_secs` (see [`Window::Live`]). The same arguments as [`media_playlist`] otherwise.
pub fn low_latency_playlist(
    segments: &[LiveSegment],
    target: u64,
    dvr_secs: f64,
    earlier_discontinuities: usize,
    ll: &LowLatency<'_>,
) -> String {
    render(
        segments,
        target,
        Window::Live { dvr_secs },
        earlier_discontinuities,
        Some(ll),
    )
}

fn render(
    segments: &[LiveSegment],
    target: u64,
    window: Window,
    earlier_discontinuities: usize,
    ll: Option<&LowLatency<'_>>,
) -> String {
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
    let listed_secs: f64 = listed.iter().map(|s| s.duration).sum();
    // A delta update leaves out the segments that end before the skip boundary.
    let skipped = match ll {
        Some(ll) if ll.skip => {
            let boundary = listed_secs - LowLatency::can_skip_until(target);
            let mut end = 0.0;
            listed
                .iter()
                .take_while(|s| {
                    end += s.duration;
                    end <= boundary
                })
                .count()
        }
        _ => 0,
    };
    let mut out = format!(
        "#EXTM3U\n#EXT-X-VERSION:{}\n#EXT-X-TARGETDURATION:{target}\n",
        if skipped > 0 { 9 } else { 7 }
    );
    if let Some(ll) = ll {
        let _ = writeln!(
            out,
            "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL={:.1},PART-HOLD-BACK={:.3}\n#EXT-X-PART-INF:PART-TARGET={:.3}",
            LowLatency::can_skip_until(target),
            LowLatency::part_hold_back(ll.part_target),
            ll.part_target
        );
    }
    let _ = writeln!(
        out,
        "#EXT-X-MEDIA-SEQUENCE:{}",
        listed
            .first()
            .or(ll.and_then(|ll| ll.open))
            .map_or(segments.len() as u64, |s| s.seq)
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
    if skipped > 0 {
        let _ = writeln!(out, "#EXT-X-SKIP:SKIPPED-SEGMENTS={skipped}");
    }
    // Parts are listed for the segments that start within three target durations of the end
    // (RFC 8216bis §6.2.2: older ones SHOULD leave), and for the open one.
    let open = ll.and_then(|ll| ll.open);
    let end_secs = listed_secs + open.map_or(0.0, |s| s.duration);
    let parts_from = end_secs - 3.0 * target as f64;
    let mut init: Option<&str> = None;
    let mut elapsed = 0.0;
    let entries = listed.iter().map(|s| (s, false)).chain(open.map(|s| (s, true)));
    for (i, (s, is_open)) in entries.enumerate() {
        elapsed += s.duration;
        if i < skipped {
            continue;
        }
        if s.discontinuity && i > 0 {
            out.push_str("#EXT-X-DISCONTINUITY\n");
        }
        if init != Some(s.init.as_str()) {
            let _ = writeln!(out, "#EXT-X-MAP:URI=\"{}\"", s.init);
            init = Some(&s.init);
        }
        if i == skipped || s.discontinuity {
            let _ = writeln!(out, "#EXT-X-PROGRAM-DATE-TIME:{}", rfc3339_ms(s.program_date_time_ms));
        }
        if let Some(ll) = ll
            && (is_open || elapsed - s.duration >= parts_from)
        {
            for p in ll.parts.iter().filter(|p| p.msn == s.seq) {
                let _ = writeln!(
                    out,
                    "#EXT-X-PART:DURATION={:.5},URI=\"{}\"{}",
                    p.duration,
                    part_file(p.session, p.number),
                    if p.independent { ",INDEPENDENT=YES" } else { "" }
                );
            }
        }
        if !is_open {
            let _ = write!(out, "#EXTINF:{:.3},\n{}\n", s.duration, segment_file(s.session, s.seq));
        }
    }
    if let Some(ll) = ll {
        if let Some(hint) = &ll.preload_hint {
            let _ = writeln!(out, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"{hint}\"");
        }
        for r in ll.reports {
            let _ = writeln!(
                out,
                "#EXT-X-RENDITION-REPORT:URI=\"{}\",LAST-MSN={},LAST-PART={}",
                r.uri, r.last_msn, r.last_part
            );
        }
    }
    if window == Window::Replay {
        out.push_str("#EXT-X-ENDLIST\n");
    }
    out
}

/// The newest part a low-latency media playlist Kino rendered lists: its segment's media
/// sequence number and its index in that segment. `None` when it lists no part (not
/// low-latency, or no part yet). Reads only Kino's own playlists (`EXT-X-SKIP` counted).
pub fn newest_part(text: &str) -> Option<(u64, u32)> {
    let mut msn: Option<u64> = None;
    let mut part: Option<u32> = None;
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
            msn = n.trim().parse().ok();
        } else if let Some(n) = line.strip_prefix("#EXT-X-SKIP:SKIPPED-SEGMENTS=") {
            msn = msn.map(|m| m + n.trim().parse::<u64>().unwrap_or(0));
        } else if line.starts_with("#EXTINF:") {
            msn = msn.map(|m| m + 1);
            part = None;
        } else if line.starts_with("#EXT-X-PART:") {
            part = Some(part.map_or(0, |p| p + 1));
        }
    }
    Some((msn?, part?))
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

    fn parts_of(segs: &[LiveSegment], open: &LiveSegment, per: u32) -> Vec<LivePart> {
        let mut number = 0;
        segs.iter()
            .chain([open])
            .flat_map(|s| {
                let n = if s.seq == open.seq { 2 } else { per };
                (0..n)
                    .map(|index| {
                        number += 1;
                        LivePart {
                            msn: s.seq,
                            index,
                            number: number - 1,
                            session: 1,
                            duration: 0.2,
                            independent: index == 0,
                        }
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn a_low_latency_playlist_lists_recent_parts_a_hint_and_reports() {
        let segs: Vec<_> = (0..10).map(|i| seg(i, "init-1.mp4", false)).collect();
        let mut open = seg(10, "init-1.mp4", false);
        open.duration = 0.4;
        let parts = parts_of(&segs, &open, 5);
        let reports = [RenditionReport {
            uri: "../360p/index.m3u8".into(),
            last_msn: 10,
            last_part: 1,
        }];
        let ll = LowLatency {
            part_target: 0.2,
            parts: &parts,
            open: Some(&open),
            preload_hint: Some(part_file(1, 52)),
            reports: &reports,
            skip: false,
        };
        let text = low_latency_playlist(&segs, 1, 0.0, 0, &ll);
        assert!(
            text.contains("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=6.0,PART-HOLD-BACK=0.600\n"),
            "{text}"
        );
        assert!(text.contains("#EXT-X-PART-INF:PART-TARGET=0.200\n"), "{text}");
        // Parts of the segments ending in the last three target durations (3 s: segments 8
        // and 9, the open one being 0.4 s) and of the open one.
        assert_eq!(text.matches("#EXT-X-PART:").count(), 5 + 5 + 2, "{text}");
        assert!(
            !text.contains(&part_file(1, 34)),
            "segment 6's parts are too old: {text}"
        );
        assert!(
            text.contains("#EXT-X-PART:DURATION=0.20000,URI=\"1-p00000040.m4s\",INDEPENDENT=YES\n"),
            "{text}"
        );
        let tail = text.split("1-000009.m4s\n").nth(1).unwrap();
        assert!(tail.starts_with("#EXT-X-PART:DURATION=0.20000,URI=\"1-p00000050.m4s\",INDEPENDENT=YES\n#EXT-X-PART:DURATION=0.20000,URI=\"1-p00000051.m4s\"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"1-p00000052.m4s\"\n#EXT-X-RENDITION-REPORT:URI=\"../360p/index.m3u8\",LAST-MSN=10,LAST-PART=1\n"), "{tail}");
        assert_eq!(newest_part(&text), Some((10, 1)));
        // m3u8-rs reads it as the same media playlist (the LL tags as unknown ones).
        let p = parse(&text);
        assert_eq!((p.media_sequence, p.segments.len()), (0, 10));
    }

    #[test]
    fn a_delta_update_skips_what_is_older_than_six_target_durations() {
        let mut segs: Vec<_> = (0..20).map(|i| seg(i, "init-1.mp4", false)).collect();
        segs[15].discontinuity = true;
        let mut open = seg(20, "init-1.mp4", false);
        open.duration = 0.4;
        let parts = parts_of(&segs, &open, 5);
        let mut ll = LowLatency {
            part_target: 0.2,
            parts: &parts,
            open: Some(&open),
            preload_hint: None,
            reports: &[],
            skip: true,
        };
        let delta = low_latency_playlist(&segs, 1, 0.0, 0, &ll);
        // 20 s listed, CAN-SKIP-UNTIL 6 s: the 14 segments ending by 14 s are skipped.
        assert!(delta.contains("#EXT-X-VERSION:9\n"), "{delta}");
        assert!(delta.contains("#EXT-X-SKIP:SKIPPED-SEGMENTS=14\n"), "{delta}");
        assert!(delta.contains("#EXT-X-MEDIA-SEQUENCE:0\n"), "{delta}");
        assert_eq!(delta.matches("#EXTINF:").count(), 6, "{delta}");
        assert!(
            delta.contains("#EXT-X-DISCONTINUITY\n"),
            "a discontinuity after the skip stays: {delta}"
        );
        let first = delta.split("#EXT-X-SKIP:SKIPPED-SEGMENTS=14\n").nth(1).unwrap();
        assert!(
            first.starts_with("#EXT-X-MAP:URI=\"init-1.mp4\"\n#EXT-X-PROGRAM-DATE-TIME:"),
            "{first}"
        );
        assert_eq!(
            newest_part(&delta),
            Some((20, 1)),
            "the edge reads the same through a skip"
        );
        ll.skip = false;
        let full = low_latency_playlist(&segs, 1, 0.0, 0, &ll);
        assert!(
            full.contains("#EXT-X-VERSION:7\n") && !full.contains("EXT-X-SKIP"),
            "{full}"
        );
        assert_eq!(newest_part(&full), Some((20, 1)));
        // A short window has nothing to skip.
        let short = low_latency_playlist(&segs[15..], 1, 0.0, 0, &LowLatency { skip: true, ..ll });
        assert!(!short.contains("EXT-X-SKIP"), "{short}");
    }

    #[test]
    fn the_edge_of_a_playlist_without_parts_is_unknown() {
        let segs: Vec<_> = (0..4).map(|i| seg(i, "init-1.mp4", false)).collect();
        assert_eq!(
            newest_part(&media_playlist(&segs, 1, Window::Live { dvr_secs: 0.0 }, 0)),
            None
        );
    }

    #[test]
    fn part_files_name_their_session_and_number() {
        let name = crate::live::playlist::part_file(3, 41);
        assert_eq!(part_number(&name), Some((3, 41)));
        assert_eq!(part_number("3-000041.m4s"), None, "a segment");
        assert_eq!(part_number("init-3.mp4"), None);
    }
}
