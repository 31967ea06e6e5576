//! The first rendition of "playable first": what Kino publishes, segment by segment, before the
//! full ladder exists, so a video plays seconds after its upload whatever its length.
//!
//! - An H.264 source that browsers decode as it is (8-bit 4:2:0, Baseline/Main/High profile,
//!   SDR, progressive, unrotated), under `ladder.passthrough_max_bitrate` and with keyframes at
//!   most `ladder.passthrough_max_keyframe_secs` apart, is **remuxed** into the `source`
//!   rendition: `-c:v copy`, audio copied when it is AAC-LC stereo (else encoded to AAC-LC,
//!   which costs little). Remuxing runs at disk speed, so even an hour of 1080p is listed in
//!   seconds; segments are cut at the source's own keyframes.
//! - Any other source gets its **lowest rung** encoded first ([`FirstRendition::LowestRung`]):
//!   the smallest picture encodes several times faster than real time here.
//!
//! [`choose`] is pure and unit-tested; [`keyframe_interval`] runs ffprobe on packets (no
//! decoding) over the first minute.

use std::path::Path;
use std::time::Duration;

use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use crate::config::LadderConfig;
use crate::media::ladder::Ladder;
use crate::media::probe::MediaInfo;
use crate::media::process::{self, INPUT_GUARD, ProcessError};
use crate::media::transcode::{MEDIA_PLAYLIST, hls_output_args, input_args};

/// Variant name and directory of the remuxed passthrough rendition.
pub const SOURCE_RENDITION: &str = "source";

/// Seconds of the source read by [`keyframe_interval`].
pub const KEYFRAME_WINDOW_SECS: f64 = 60.0;

/// What is published first.
#[derive(Debug, Clone, PartialEq)]
pub enum FirstRendition {
    /// Remux the source; `copy_audio` false means the audio is encoded to AAC-LC.
    Passthrough { copy_audio: bool },
    /// Encode the ladder's smallest rendition (or the audio variant) first; `why` says why the
    /// source cannot be remuxed, for the log.
    LowestRung { why: String },
}

/// Decides the first rendition of a probed source whose longest keyframe interval in its first
/// minute is `keyframe_secs` seconds (`None` when unknown).
pub fn choose(info: &MediaInfo, keyframe_secs: Option<f64>, cfg: &LadderConfig) -> FirstRendition {
    match remux_refusal(info, keyframe_secs, cfg) {
        None => FirstRendition::Passthrough {
            copy_audio: info
                .audio
                .as_ref()
                .is_none_or(|a| a.codec == "aac" && a.channels <= 2 && a.profile.as_deref() == Some("LC")),
        },
        Some(why) => FirstRendition::LowestRung { why },
    }
}

fn remux_refusal(info: &MediaInfo, keyframe_secs: Option<f64>, cfg: &LadderConfig) -> Option<String> {
    let Some(v) = &info.video else {
        return Some("audio-only source".into());
    };
    if v.codec != "h264" {
        return Some(format!("video codec {} is not H.264", v.codec));
    }
    let profile = v.profile.as_deref().unwrap_or("unknown");
    if !matches!(profile, "Constrained Baseline" | "Baseline" | "Main" | "High") {
        return Some(format!("H.264 profile {profile} is not one every browser decodes"));
    }
    if !matches!(v.pix_fmt.as_deref(), Some("yuv420p" | "yuvj420p")) {
        return Some(format!(
            "pixel format {} is not 8-bit 4:2:0",
            v.pix_fmt.as_deref().unwrap_or("unknown")
        ));
    }
    if v.hdr_transfer.is_some() || v.interlaced || v.rotated {
        return Some("the picture needs tone mapping, deinterlacing or rotation".into());
    }
    if v.display_width.max(v.display_height) > 4096 {
        return Some("the picture is larger than 4096 pixels".into());
    }
    match info.bit_rate {
        Some(b) if b <= cfg.passthrough_max_bitrate => {}
        Some(b) => return Some(format!("{b} bits/s is above ladder.passthrough_max_bitrate")),
        None => return Some("the source's bitrate is unknown".into()),
    }
    match keyframe_secs {
        Some(k) if k <= cfg.passthrough_max_keyframe_secs => None,
        Some(k) => Some(format!("keyframes {k:.1} s apart")),
        None => Some("no keyframes found in the first minute".into()),
    }
}

/// ffmpeg arguments remuxing `input` into `out_dir/source/{index.m3u8, init.mp4, seg_N.m4s}`:
/// fMP4 segments of at least `ladder.segment_secs`, cut at the source's keyframes, in an
/// `EVENT` playlist rewritten after each segment (temp file + rename, so a reader never sees a
/// half-written playlist or segment).
pub fn passthrough_args(
    input: &Path,
    out_dir: &Path,
    info: &MediaInfo,
    ladder: &Ladder,
    copy_audio: bool,
) -> Vec<String> {
    let mut a = input_args(input, false);
    if let Some(v) = &info.video {
        a.extend(["-map".into(), format!("0:{}", v.index), "-c:v".into(), "copy".into()]);
    }
    if let Some(audio) = &info.audio {
        a.extend(["-map".into(), format!("0:{}", audio.index)]);
        if copy_audio {
            a.extend(["-c:a".into(), "copy".into()]);
        } else {
            let bitrate = ladder.audio_bitrate.unwrap_or(128_000).to_string();
            a.extend(["-c:a", "aac", "-b:a", &bitrate, "-ac", "2", "-ar", "48000"].map(String::from));
        }
    }
    a.extend(["-map_metadata", "-1", "-map_chapters", "-1"].map(String::from));
    let dir = out_dir.join(SOURCE_RENDITION);
    a.extend(hls_output_args(ladder.segment_secs));
    a.extend([
        "-hls_segment_filename".into(),
        dir.join("seg_%05d.m4s").display().to_string(),
        dir.join(MEDIA_PLAYLIST).display().to_string(),
    ]);
    a
}

/// The longest gap, in seconds, between keyframes of the video stream `stream_index` in the
/// first [`KEYFRAME_WINDOW_SECS`] of `file` (the gap after the last keyframe counts too):
/// `ffprobe -show_entries packet=pts_time,flags`, demuxing only. `None` when no keyframe was
/// seen.
///
/// Errors: ffprobe could not be run, timed out or was cancelled.
pub async fn keyframe_interval(
    ffprobe: &Path,
    file: &Path,
    stream_index: u32,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<Option<f64>, ProcessError> {
    let mut cmd = Command::new(ffprobe);
    cmd.args(["-v", "error", "-hide_banner"])
        .args(INPUT_GUARD)
        .args(["-select_streams", &stream_index.to_string()])
        .args(["-show_entries", "packet=pts_time,flags", "-of", "csv=p=0"])
        .args(["-read_intervals", &format!("%+{KEYFRAME_WINDOW_SECS}"), "-i"])
        .arg(file);
    let out = process::run(cmd, timeout, cancel, None).await?;
    Ok(longest_keyframe_gap(&String::from_utf8_lossy(&out.stdout)))
}

/// Parses ffprobe's `pts_time,flags` CSV lines (`2.000000,K__`) into the longest keyframe gap.
pub fn longest_keyframe_gap(csv: &str) -> Option<f64> {
    let mut keys = Vec::new();
    let mut last = f64::NEG_INFINITY;
    for line in csv.lines() {
        let mut fields = line.split(',');
        let Some(t) = fields.next().and_then(|t| t.trim().parse::<f64>().ok()) else {
            continue;
        };
        last = last.max(t);
        if fields.next().is_some_and(|f| f.starts_with('K')) {
            keys.push(t);
        }
    }
    keys.sort_by(f64::total_cmp);
    let first = *keys.first()?;
    let tail = last - keys.last().copied().unwrap_or(first);
    Some(keys.windows(2).map(|w| w[1] - w[0]).fold(tail, f64::max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::probe::{AudioStream, VideoStream};

    fn h264(bit_rate: u64) -> MediaInfo {
        MediaInfo {
            format_name: "mov".into(),
            duration: 600.0,
            video: Some(VideoStream {
                index: 0,
                codec: "h264".into(),
                display_width: 1920,
                display_height: 1080,
                frame_rate: 30.0,
                profile: Some("High".into()),
                pix_fmt: Some("yuv420p".into()),
                ..Default::default()
            }),
            audio: Some(AudioStream {
                index: 1,
                codec: "aac".into(),
                channels: 2,
                profile: Some("LC".into()),
                ..Default::default()
            }),
            audio_streams: Vec::new(),
            subtitles: Vec::new(),
            bit_rate: Some(bit_rate),
        }
    }

    #[test]
    fn browser_ready_h264_is_remuxed_and_the_rest_starts_with_the_lowest_rung() {
        let cfg = LadderConfig::default();
        let ok = h264(5_000_000);
        assert_eq!(
            choose(&ok, Some(2.0), &cfg),
            FirstRendition::Passthrough { copy_audio: true }
        );
        let mut surround = ok.clone();
        surround.audio.as_mut().unwrap().channels = 6;
        assert_eq!(
            choose(&surround, Some(2.0), &cfg),
            FirstRendition::Passthrough { copy_audio: false }
        );
        let refused = |info: &MediaInfo, k| matches!(choose(info, k, &cfg), FirstRendition::LowestRung { .. });
        assert!(refused(&h264(50_000_000), Some(2.0)), "too many bits for viewers");
        assert!(refused(&ok, Some(12.0)), "keyframes too far apart");
        assert!(refused(&ok, None));
        let mut ten_bit = ok.clone();
        ten_bit.video.as_mut().unwrap().pix_fmt = Some("yuv420p10le".into());
        assert!(refused(&ten_bit, Some(2.0)));
        let mut vp9 = ok.clone();
        vp9.video.as_mut().unwrap().codec = "vp9".into();
        assert!(refused(&vp9, Some(2.0)));
        let mut rotated = ok.clone();
        rotated.video.as_mut().unwrap().rotated = true;
        assert!(refused(&rotated, Some(2.0)));
        let mut audio_only = ok;
        audio_only.video = None;
        assert!(refused(&audio_only, Some(2.0)));
    }

    #[test]
    fn keyframe_gaps_include_the_tail_and_ignore_order() {
        let csv = "0.000000,K__\n0.033,___\n4.000000,K_\n2.000000,K__\n9.5,__\n";
        assert_eq!(longest_keyframe_gap(csv), Some(5.5));
        assert_eq!(longest_keyframe_gap("0.5,__\n1.0,__\n"), None);
        assert_eq!(longest_keyframe_gap("N/A,K_\n"), None);
    }

    #[test]
    fn remux_copies_video_and_writes_a_growing_fmp4_playlist() {
        let info = h264(1);
        let ladder = crate::media::ladder::plan(&info, &LadderConfig::default());
        let args = passthrough_args(Path::new("/s/src"), Path::new("/o"), &info, &ladder, false);
        let joined = args.join(" ");
        assert!(joined.contains("-map 0:0 -c:v copy -map 0:1 -c:a aac"), "{joined}");
        assert!(joined.contains("-hls_playlist_type event"), "{joined}");
        assert!(joined.contains("independent_segments+temp_file"), "{joined}");
        assert!(
            joined.ends_with("/o/source/seg_%05d.m4s /o/source/index.m3u8"),
            "{joined}"
        );
    }
}
