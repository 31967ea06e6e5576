//! Checks a published HLS ladder the way a player and a validator would: playlists parse
//! (m3u8-rs), segments fit the target duration, every variant decodes with the declared codecs
//! and size, BANDWIDTH covers the measured peak, and keyframes align across renditions. A
//! ladder with audio renditions of its own (`EXT-X-MEDIA:TYPE=AUDIO`) has video-only variants
//! that name the group, and each audio rendition decodes as AAC stereo alone.

use std::path::Path;

use m3u8_rs::Playlist;
use serde_json::Value;

use super::{Server, ffprobe_json};

/// What a source should produce.
#[derive(Debug, Clone, Copy)]
pub struct Expect {
    /// Displayed size of the source (after rotation); `None` for audio-only.
    pub display: Option<(u32, u32)>,
    pub audio: bool,
}

/// One downloaded rendition.
pub struct Variant {
    pub name: String,
    pub file: std::path::PathBuf,
    pub probe: Value,
    /// PTS (seconds) of the first video packet of each segment.
    pub segment_start_keyframes: Vec<f64>,
}

/// Runs every check on a `ready` video and returns the downloaded variants (the video ones,
/// then any audio renditions of their own).
pub async fn check_ladder(server: &Server, video: &Value, expect: Expect, scratch: &Path) -> Vec<Variant> {
    assert_eq!(video["status"], "ready", "video not ready: {video}");
    let id = video["id"].as_str().unwrap();
    let renditions = video["renditions"].as_array().unwrap();
    assert!(!renditions.is_empty());

    let master_resp = server.get(video["hls_url"].as_str().unwrap()).await;
    assert_eq!(master_resp.headers()["content-type"], "application/vnd.apple.mpegurl");
    let master_text = master_resp.bytes().await.unwrap();
    let master = match m3u8_rs::parse_playlist_res(&master_text) {
        Ok(Playlist::MasterPlaylist(m)) => m,
        other => panic!("multivariant playlist does not parse: {other:?}"),
    };
    let audio_renditions: Vec<&Value> = renditions.iter().filter(|r| r["audio_track"].is_object()).collect();
    assert_eq!(master.variants.len(), renditions.len() - audio_renditions.len());
    let audio_group: Vec<&m3u8_rs::AlternativeMedia> = master
        .alternatives
        .iter()
        .filter(|a| a.media_type == m3u8_rs::AlternativeMediaType::Audio)
        .collect();
    assert_eq!(
        audio_group.len(),
        audio_renditions.len(),
        "an EXT-X-MEDIA per audio rendition"
    );
    if !audio_group.is_empty() {
        assert_eq!(
            audio_group.iter().filter(|a| a.default).count(),
            1,
            "exactly one DEFAULT=YES audio rendition"
        );
        assert!(audio_group.iter().all(|a| a.group_id == "aud"));
        assert!(
            audio_group.iter().all(|a| !a.default || a.autoselect),
            "DEFAULT=YES needs AUTOSELECT=YES (RFC 8216 §4.3.4.1)"
        );
        let mut names: Vec<&str> = audio_group.iter().map(|a| a.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), audio_group.len(), "NAMEs in a group differ");
    }

    let mut variants = Vec::new();
    for v in &master.variants {
        let codecs = v.codecs.as_deref().expect("CODECS on every variant");
        assert!(v.average_bandwidth.is_some(), "AVERAGE-BANDWIDTH missing");
        assert!(v.bandwidth >= v.average_bandwidth.unwrap(), "peak below average");
        if expect.display.is_some() {
            assert!(codecs.starts_with("avc1."), "{codecs}");
            assert!(
                v.resolution.is_some() && v.frame_rate.is_some(),
                "RESOLUTION and FRAME-RATE on video variants"
            );
        }
        assert_eq!(codecs.contains("mp4a.40.2"), expect.audio, "{codecs}");
        assert_eq!(
            v.audio.as_deref(),
            (!audio_group.is_empty()).then_some("aud"),
            "variants name the audio group"
        );

        let name = v.uri.split('/').next().unwrap().to_string();
        let media_text = server.bytes(&format!("/hls/{id}/{}", v.uri)).await;
        let media = match m3u8_rs::parse_playlist_res(&media_text) {
            Ok(Playlist::MediaPlaylist(m)) => m,
            other => panic!("media playlist {} does not parse: {other:?}", v.uri),
        };
        // VOD; or EVENT for the rendition published while it grew (playable first), which
        // RFC 8216 §6.2.1 lets a server only append to: ended with EXT-X-ENDLIST all the same.
        assert!(
            media.playlist_type == Some(m3u8_rs::MediaPlaylistType::Vod)
                || media.playlist_type == Some(m3u8_rs::MediaPlaylistType::Event),
            "{}: {:?}",
            v.uri,
            media.playlist_type
        );
        assert!(media.end_list);
        let target = media.target_duration as f64;
        assert!(target <= 7.0, "segments of ~4-6 s expected, target duration {target}");

        // init + segments, concatenated, is a playable fragmented MP4.
        let init_uri = media.segments[0].map.as_ref().expect("EXT-X-MAP").uri.clone();
        let mut whole = server.bytes(&format!("/hls/{id}/{name}/{init_uri}")).await;
        let mut offsets = Vec::new();
        let mut peak = 0f64;
        for seg in &media.segments {
            assert!(
                f64::from(seg.duration).round() <= target,
                "EXTINF {} over target {target}",
                seg.duration
            );
            let resp = server.get(&format!("/hls/{id}/{name}/{}", seg.uri)).await;
            assert!(resp.headers()["content-type"] == "video/mp4" || resp.headers()["content-type"] == "audio/mp4");
            assert_eq!(resp.headers()["cache-control"], "public, max-age=31536000, immutable");
            let bytes = resp.bytes().await.unwrap();
            peak = peak.max(bytes.len() as f64 * 8.0 / f64::from(seg.duration));
            offsets.push(whole.len() as u64);
            whole.extend_from_slice(&bytes);
        }
        assert!(
            v.bandwidth as f64 >= peak * 0.999,
            "BANDWIDTH {} below measured peak {peak}",
            v.bandwidth
        );

        let file = scratch.join(format!("{id}-{name}.mp4"));
        std::fs::write(&file, &whole).unwrap();
        let probe = ffprobe_json(&file, &["-show_streams", "-show_format"]);
        let streams = probe["streams"].as_array().unwrap();
        let video_stream = streams.iter().find(|s| s["codec_type"] == "video");
        let audio_stream = streams.iter().find(|s| s["codec_type"] == "audio");
        assert_eq!(
            audio_stream.is_some(),
            expect.audio && audio_group.is_empty(),
            "audio presence in {name} (none with audio renditions of their own)"
        );
        if let Some(a) = audio_stream {
            assert_eq!(a["codec_name"], "aac");
            assert_eq!(a["channels"], 2, "audio must be stereo (5.1 downmixed)");
        }
        let mut starts = Vec::new();
        match (expect.display, video_stream) {
            (Some((sw, sh)), Some(vs)) => {
                let (w, h) = (
                    vs["width"].as_u64().unwrap() as u32,
                    vs["height"].as_u64().unwrap() as u32,
                );
                assert_eq!(vs["codec_name"], "h264");
                assert_eq!(vs["pix_fmt"], "yuv420p", "8-bit 4:2:0 output");
                let res = v.resolution.unwrap();
                assert_eq!(
                    (res.width as u32, res.height as u32),
                    (w, h),
                    "RESOLUTION matches the stream"
                );
                assert!(w <= sw && h <= sh, "{name}: {w}x{h} upscales a {sw}x{sh} source");
                assert!(w % 2 == 0 && h % 2 == 0, "{name}: odd size {w}x{h}");
                let (ar, src_ar) = (f64::from(w) / f64::from(h), f64::from(sw) / f64::from(sh));
                assert!(
                    (ar / src_ar - 1.0).abs() < 0.02,
                    "{name}: aspect {ar:.3} vs source {src_ar:.3}"
                );
                assert!(
                    vs["side_data_list"]
                        .as_array()
                        .is_none_or(|l| l.iter().all(|d| d["rotation"].as_f64().unwrap_or(0.0) == 0.0)),
                    "rotation must be applied, not flagged"
                );
                starts = segment_start_keyframes(&file, &offsets);
            }
            (None, None) => {}
            (e, s) => panic!("{name}: expected video {e:?}, stream {s:?}"),
        }
        variants.push(Variant {
            name,
            file,
            probe,
            segment_start_keyframes: starts,
        });
    }

    // Keyframes aligned: the same segment start times in every video rendition.
    if expect.display.is_some() {
        let first = &variants[0].segment_start_keyframes;
        for v in &variants[1..] {
            assert_eq!(
                v.segment_start_keyframes.len(),
                first.len(),
                "segment counts differ between renditions"
            );
            for (a, b) in first.iter().zip(&v.segment_start_keyframes) {
                assert!(
                    (a - b).abs() < 0.002,
                    "keyframes not aligned: {} starts a segment at {b}, {} at {a}",
                    v.name,
                    variants[0].name
                );
            }
        }
    }
    for a in audio_group {
        let uri = a.uri.as_deref().expect("an audio rendition has a URI");
        let name = uri.split('/').next().unwrap().to_string();
        let media_text = server.bytes(&format!("/hls/{id}/{uri}")).await;
        let media = match m3u8_rs::parse_playlist_res(&media_text) {
            Ok(Playlist::MediaPlaylist(m)) => m,
            other => panic!("audio playlist {uri} does not parse: {other:?}"),
        };
        assert!(media.end_list);
        let init_uri = media.segments[0].map.as_ref().expect("EXT-X-MAP").uri.clone();
        let mut whole = server.bytes(&format!("/hls/{id}/{name}/{init_uri}")).await;
        for seg in &media.segments {
            let resp = server.get(&format!("/hls/{id}/{name}/{}", seg.uri)).await;
            assert_eq!(resp.headers()["content-type"], "audio/mp4", "{name}/{}", seg.uri);
            whole.extend_from_slice(&resp.bytes().await.unwrap());
        }
        let file = scratch.join(format!("{id}-{name}.mp4"));
        std::fs::write(&file, &whole).unwrap();
        let probe = ffprobe_json(&file, &["-show_streams", "-show_format"]);
        let streams = probe["streams"].as_array().unwrap();
        assert_eq!(streams.len(), 1, "{name}: one stream");
        assert_eq!(streams[0]["codec_name"], "aac", "{name}");
        assert_eq!(streams[0]["channels"], 2, "{name}: stereo");
        variants.push(Variant {
            name,
            file,
            probe,
            segment_start_keyframes: Vec::new(),
        });
    }
    variants
}

/// For each segment byte offset, asserts the first video packet at or after it is a keyframe
/// and returns its PTS in seconds.
fn segment_start_keyframes(file: &Path, offsets: &[u64]) -> Vec<f64> {
    let probe = ffprobe_json(
        file,
        &["-select_streams", "v:0", "-show_entries", "packet=pts_time,pos,flags"],
    );
    let packets: Vec<(u64, f64, bool)> = probe["packets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            let pos = p["pos"].as_str()?.parse().ok()?;
            let pts = p["pts_time"].as_str()?.parse().ok()?;
            Some((pos, pts, p["flags"].as_str()?.starts_with('K')))
        })
        .collect();
    offsets
        .iter()
        .enumerate()
        .map(|(i, off)| {
            let next = offsets.get(i + 1).copied().unwrap_or(u64::MAX);
            let first = packets
                .iter()
                .filter(|p| p.0 >= *off && p.0 < next)
                .min_by_key(|p| p.0)
                .unwrap_or_else(|| panic!("segment {i} has no video packet"));
            assert!(
                first.2,
                "segment {i} of {} does not start with a keyframe",
                file.display()
            );
            first.1
        })
        .collect()
}

/// Spread of luma (max − min, 0–255) over a 64x36 downscale of a JPEG: about 0 for a black
/// or blank frame, large for any real picture, even a dark one with a few lights.
pub fn luma_spread(jpeg: &[u8], scratch: &Path) -> u8 {
    let file = scratch.join("poster-check.jpg");
    std::fs::write(&file, jpeg).unwrap();
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&file)
        .args(["-vf", "scale=64:36:flags=area,format=gray", "-f", "rawvideo", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stdout.len() == 64 * 36,
        "poster does not decode"
    );
    out.stdout.iter().max().unwrap() - out.stdout.iter().min().unwrap()
}
