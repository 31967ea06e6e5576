//! ffprobe → a typed [`Probe`] (the raw JSON shape) → a validated [`MediaInfo`] (what the
//! pipeline needs: the chosen streams, display size after rotation, frame rate, HDR, interlace).
//!
//! `MediaInfo::from_probe` is pure and unit-tested on saved ffprobe JSON; [`probe_file`] is the
//! thin I/O shell that runs `ffprobe -print_format json -show_format -show_streams`.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use crate::config::Limits;
use crate::media::process::{self, INPUT_GUARD, ProcessError};

/// The parts of ffprobe's JSON output Kino reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Probe {
    #[serde(default)]
    pub streams: Vec<ProbeStream>,
    pub format: Option<ProbeFormat>,
}

/// One `streams[]` entry of ffprobe's JSON.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ProbeStream {
    pub index: u32,
    pub codec_type: Option<String>,
    pub codec_name: Option<String>,
    pub profile: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub pix_fmt: Option<String>,
    pub color_transfer: Option<String>,
    pub field_order: Option<String>,
    pub r_frame_rate: Option<String>,
    pub avg_frame_rate: Option<String>,
    pub channels: Option<u32>,
    /// Bits/s, as a decimal string (absent for many containers).
    pub bit_rate: Option<String>,
    pub duration: Option<String>,
    pub disposition: Option<Disposition>,
    pub side_data_list: Vec<SideData>,
    pub tags: Option<StreamTags>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Disposition {
    pub attached_pic: u8,
    /// The muxer's "play this one unless told otherwise" flag.
    pub default: u8,
    /// A subtitle stream meant to be shown always (signs, foreign dialogue).
    pub forced: u8,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SideData {
    pub side_data_type: Option<String>,
    pub rotation: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StreamTags {
    /// Legacy rotation tag written by old muxers (degrees, as a string).
    pub rotate: Option<String>,
    /// ISO 639-2 language code (`eng`, `fre`/`fra`, `und`), as MP4 and Matroska store it.
    pub language: Option<String>,
    /// The stream's title, e.g. "Director's commentary".
    pub title: Option<String>,
}

/// The `format` object of ffprobe's JSON.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ProbeFormat {
    pub format_name: Option<String>,
    /// Seconds, as a decimal string.
    pub duration: Option<String>,
    /// Mean bits/s of the whole file, as a decimal string.
    pub bit_rate: Option<String>,
}

/// The video stream Kino will transcode.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VideoStream {
    /// Absolute stream index in the source (for `-map 0:N`).
    pub index: u32,
    pub codec: String,
    /// Displayed size in pixels, after applying rotation (a −90° 1920x1080 file is 1080x1920).
    pub display_width: u32,
    pub display_height: u32,
    /// Nominal frame rate in frames/s (`r_frame_rate`, or `avg_frame_rate` when that is unusable).
    pub frame_rate: f64,
    /// `Some("smpte2084")` (PQ / HDR10) or `Some("arib-std-b67")` (HLG) for HDR sources.
    pub hdr_transfer: Option<String>,
    /// True when the stream is coded as interlaced fields (`field_order` tt/bb/tb/bt).
    pub interlaced: bool,
    /// Codec profile as ffprobe names it, e.g. `High`, `Constrained Baseline`, `High 10`.
    pub profile: Option<String>,
    /// Pixel format, e.g. `yuv420p`.
    pub pix_fmt: Option<String>,
    /// True when a display matrix or `rotate` tag turns the picture (any angle but 0).
    pub rotated: bool,
}

/// An audio stream Kino will transcode.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AudioStream {
    pub index: u32,
    pub codec: String,
    pub channels: u32,
    /// Codec profile as ffprobe names it, e.g. `LC` or `HE-AAC`.
    pub profile: Option<String>,
    /// BCP 47 language tag (`en`, `fr`), from the stream's ISO 639-2 tag; `None` when the
    /// source does not say (or says `und`).
    pub language: Option<String>,
    /// The stream's title tag, when it has one.
    pub title: Option<String>,
    /// The source marks it as the default track.
    pub default: bool,
}

/// A text subtitle stream of the source (SubRip, mov_text, ASS/SSA, WebVTT), which Kino
/// extracts as a caption track; bitmap subtitles (PGS, DVB, VobSub) are not text and are left.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubtitleStream {
    pub index: u32,
    /// ffprobe's codec name: `subrip`, `mov_text`, `ass`, `ssa`, `webvtt` or `text`.
    pub codec: String,
    /// BCP 47 language tag, as for [`AudioStream::language`].
    pub language: Option<String>,
    pub title: Option<String>,
    /// Meant to be shown always (the source's `forced` disposition).
    pub forced: bool,
}

/// Subtitle codecs ffmpeg converts to WebVTT.
pub const TEXT_SUBTITLE_CODECS: [&str; 6] = ["subrip", "mov_text", "ass", "ssa", "webvtt", "text"];

/// A probed, accepted source.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaInfo {
    /// ffprobe's demuxer name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    pub format_name: String,
    /// Duration in seconds (> 0).
    pub duration: f64,
    pub video: Option<VideoStream>,
    /// The main audio stream: the one the source marks default, else the first.
    pub audio: Option<AudioStream>,
    /// Every decodable audio stream in source order (the main one included); two or more
    /// become audio renditions of their own ([`crate::media::ladder::Ladder::audio_tracks`]).
    pub audio_streams: Vec<AudioStream>,
    /// Text subtitle streams, extracted as caption tracks.
    pub subtitles: Vec<SubtitleStream>,
    /// Mean bitrate of the whole file in bits/s, when the container says (or size ÷ duration).
    pub bit_rate: Option<u64>,
}

/// Why a source is refused; the message is shown to the uploader as the video's `error`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rejection {
    #[error("the file is empty")]
    Empty,
    #[error("not a media file Kino can read ({0})")]
    Unreadable(String),
    #[error("the file is a playlist or list of other files, which Kino does not accept as a source")]
    Playlist,
    #[error("the file has no video or audio stream that can be decoded")]
    NoStreams,
    #[error("the file has no duration (zero length, or a single still image)")]
    ZeroDuration,
    #[error("the video is {actual:.0} s long; the limit is {limit:.0} s")]
    TooLong { actual: f64, limit: f64 },
    #[error("the picture is {width}x{height}; the limit is {limit} pixels on either side")]
    TooLarge { width: u32, height: u32, limit: u32 },
}

/// Errors of [`probe_file`].
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error(transparent)]
    Process(ProcessError),
}

/// Parses an ffprobe frame rate such as `30000/1001`; `None` for `0/0` or garbage.
pub fn parse_rate(s: &str) -> Option<f64> {
    let (n, d) = s.split_once('/').unwrap_or((s, "1"));
    let (n, d): (f64, f64) = (n.trim().parse().ok()?, d.trim().parse().ok()?);
    (n > 0.0 && d > 0.0).then(|| n / d).filter(|r| r.is_finite())
}

impl MediaInfo {
    /// Chooses the streams and checks the source against `limits`.
    ///
    /// Picks the first video stream that is not cover art (`attached_pic`) and has a size and
    /// a codec, and the first audio stream with a codec and channels, whatever their order.
    ///
    /// Errors: a [`Rejection`] saying what is wrong with the file.
    pub fn from_probe(probe: &Probe, limits: &Limits) -> Result<MediaInfo, Rejection> {
        let format = probe.format.clone().unwrap_or_default();
        let video = probe
            .streams
            .iter()
            .filter(|s| s.codec_type.as_deref() == Some("video"))
            .filter(|s| s.disposition.as_ref().is_none_or(|d| d.attached_pic == 0))
            .find(|s| s.codec_name.is_some() && s.width.unwrap_or(0) > 0 && s.height.unwrap_or(0) > 0)
            .map(video_stream);
        let audio_streams: Vec<AudioStream> = probe
            .streams
            .iter()
            .filter(|s| s.codec_type.as_deref() == Some("audio"))
            .filter(|s| s.codec_name.is_some() && s.channels.unwrap_or(0) > 0)
            .map(|s| AudioStream {
                index: s.index,
                codec: s.codec_name.clone().unwrap_or_default(),
                channels: s.channels.unwrap_or(0),
                profile: s.profile.clone(),
                language: language_of(s),
                title: title_of(s),
                default: s.disposition.as_ref().is_some_and(|d| d.default == 1),
            })
            .collect();
        let audio = audio_streams
            .iter()
            .find(|a| a.default)
            .or(audio_streams.first())
            .cloned();
        let subtitles = probe
            .streams
            .iter()
            .filter(|s| s.codec_type.as_deref() == Some("subtitle"))
            .filter(|s| {
                s.codec_name
                    .as_deref()
                    .is_some_and(|c| TEXT_SUBTITLE_CODECS.contains(&c))
            })
            .map(|s| SubtitleStream {
                index: s.index,
                codec: s.codec_name.clone().unwrap_or_default(),
                language: language_of(s),
                title: title_of(s),
                forced: s.disposition.as_ref().is_some_and(|d| d.forced == 1),
            })
            .collect();
        if video.is_none() && audio.is_none() {
            return Err(Rejection::NoStreams);
        }
        let duration = format
            .duration
            .as_deref()
            .and_then(|d| d.parse::<f64>().ok())
            .or_else(|| {
                probe
                    .streams
                    .iter()
                    .filter_map(|s| s.duration.as_deref()?.parse::<f64>().ok())
                    .reduce(f64::max)
            })
            .filter(|d| d.is_finite() && *d > 0.0)
            .ok_or(Rejection::ZeroDuration)?;
        if duration > limits.max_duration_secs {
            return Err(Rejection::TooLong {
                actual: duration,
                limit: limits.max_duration_secs,
            });
        }
        if let Some(v) = &video
            && v.display_width.max(v.display_height) > limits.max_dimension
        {
            return Err(Rejection::TooLarge {
                width: v.display_width,
                height: v.display_height,
                limit: limits.max_dimension,
            });
        }
        let bit_rate = format.bit_rate.as_deref().and_then(|b| b.parse::<u64>().ok());
        Ok(MediaInfo {
            format_name: format.format_name.unwrap_or_default(),
            duration,
            video,
            audio,
            audio_streams,
            subtitles,
            bit_rate,
        })
    }
}

fn language_of(s: &ProbeStream) -> Option<String> {
    crate::media::language::bcp47(s.tags.as_ref()?.language.as_deref()?)
}

fn title_of(s: &ProbeStream) -> Option<String> {
    let title: String = s
        .tags
        .as_ref()?
        .title
        .as_deref()?
        .chars()
        .filter(|c| !c.is_control())
        .take(50)
        .collect();
    let title = title.trim();
    (!title.is_empty()).then(|| title.to_string())
}

fn video_stream(s: &ProbeStream) -> VideoStream {
    let rotation = s
        .side_data_list
        .iter()
        .find_map(|d| d.rotation)
        .or_else(|| s.tags.as_ref()?.rotate.as_deref()?.parse().ok())
        .unwrap_or(0.0);
    let quarter_turns = ((rotation / 90.0).round() as i64).rem_euclid(4);
    let (w, h) = (s.width.unwrap_or(0), s.height.unwrap_or(0));
    let (display_width, display_height) = if quarter_turns % 2 == 1 { (h, w) } else { (w, h) };
    let r = s.r_frame_rate.as_deref().and_then(parse_rate).filter(|r| *r <= 240.0);
    let avg = s.avg_frame_rate.as_deref().and_then(parse_rate).filter(|r| *r <= 240.0);
    let frame_rate = r.or(avg).unwrap_or(25.0);
    let hdr_transfer = s
        .color_transfer
        .clone()
        .filter(|t| t == "smpte2084" || t == "arib-std-b67");
    let interlaced = matches!(s.field_order.as_deref(), Some("tt" | "bb" | "tb" | "bt"));
    VideoStream {
        index: s.index,
        codec: s.codec_name.clone().unwrap_or_default(),
        display_width,
        display_height,
        frame_rate,
        hdr_transfer,
        interlaced,
        profile: s.profile.clone(),
        pix_fmt: s.pix_fmt.clone(),
        rotated: rotation.abs() > 0.5,
    }
}

/// Runs ffprobe on a local file (with the protocol and demuxer whitelists) and validates it.
///
/// Errors: [`ProbeError::Rejected`] when the file is not acceptable media;
/// [`ProbeError::Process`] when ffprobe could not be run, timed out or was cancelled.
pub async fn probe_file(
    ffprobe: &Path,
    file: &Path,
    limits: &Limits,
    cancel: &CancellationToken,
) -> Result<MediaInfo, ProbeError> {
    if tokio::fs::metadata(file).await.map(|m| m.len() == 0).unwrap_or(false) {
        return Err(Rejection::Empty.into());
    }
    let mut cmd = Command::new(ffprobe);
    cmd.args(["-v", "error", "-hide_banner"])
        .args(INPUT_GUARD)
        .args(["-print_format", "json", "-show_format", "-show_streams", "-i"])
        .arg(file);
    let timeout = Duration::from_secs(limits.probe_timeout_secs);
    let out = match process::run(cmd, timeout, cancel, None).await {
        Ok(out) => out,
        Err(ProcessError::Failed { stderr, .. }) => {
            return Err(classify_probe_failure(&stderr).into());
        }
        Err(e) => return Err(ProbeError::Process(e)),
    };
    let probe: Probe = serde_json::from_slice(&out.stdout)
        .map_err(|e| Rejection::Unreadable(format!("ffprobe output unreadable: {e}")))?;
    Ok(MediaInfo::from_probe(&probe, limits)?)
}

/// Turns ffprobe's stderr into a reason a person can act on.
fn classify_probe_failure(stderr: &str) -> Rejection {
    if stderr.contains("not on whitelist") {
        return Rejection::Playlist;
    }
    let detail = if stderr.contains("moov atom not found") {
        "the MP4 index (moov) is missing: the file is truncated or not an MP4".to_string()
    } else {
        stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(strip_path)
            .unwrap_or("ffprobe could not read it")
            .to_string()
    };
    Rejection::Unreadable(detail)
}

/// ffprobe prefixes messages with the scratch path; keep only the message.
fn strip_path(line: &str) -> &str {
    match line.rsplit_once(": ") {
        Some((_, msg)) if !msg.is_empty() => msg,
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(json: &str) -> Probe {
        serde_json::from_str(json).unwrap()
    }

    const IPHONE_HLG: &str = r#"{"streams":[
        {"index":0,"codec_type":"video","codec_name":"hevc","width":1920,"height":1080,"pix_fmt":"yuv420p10le",
         "color_transfer":"arib-std-b67","r_frame_rate":"30000/1001","avg_frame_rate":"51600/1841",
         "disposition":{"attached_pic":0},"side_data_list":[{"side_data_type":"DOVI configuration record"},{"side_data_type":"Display Matrix","rotation":-90}]},
        {"index":1,"codec_type":"audio","codec_name":"aac","channels":2},
        {"index":2,"codec_type":"data","codec_name":null}],
        "format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"2.548333"}}"#;

    #[test]
    fn rotated_hdr_phone_video_is_portrait_and_hdr() {
        let info = MediaInfo::from_probe(&probe(IPHONE_HLG), &Limits::default()).unwrap();
        let v = info.video.unwrap();
        assert_eq!((v.display_width, v.display_height), (1080, 1920));
        assert_eq!(v.hdr_transfer.as_deref(), Some("arib-std-b67"));
        assert!((v.frame_rate - 29.97).abs() < 0.01);
        assert_eq!(info.audio.unwrap().index, 1);
        assert!((info.duration - 2.548333).abs() < 1e-6);
    }

    #[test]
    fn audio_first_stream_order_and_cover_art_are_handled() {
        let p = probe(
            r#"{"streams":[
            {"index":0,"codec_type":"audio","codec_name":"mp3","channels":2},
            {"index":1,"codec_type":"video","codec_name":"mjpeg","width":300,"height":300,"disposition":{"attached_pic":1}}],
            "format":{"format_name":"mp3","duration":"41.04"}}"#,
        );
        let info = MediaInfo::from_probe(&p, &Limits::default()).unwrap();
        assert!(info.video.is_none(), "cover art is not a video stream");
        assert_eq!(info.audio.unwrap().codec, "mp3");
    }

    #[test]
    fn sources_without_streams_or_duration_or_beyond_limits_are_rejected() {
        let none = probe(r#"{"streams":[],"format":{"duration":"3"}}"#);
        assert_eq!(
            MediaInfo::from_probe(&none, &Limits::default()),
            Err(Rejection::NoStreams)
        );
        let zero = probe(
            r#"{"streams":[{"index":0,"codec_type":"audio","codec_name":"aac","channels":2}],"format":{"duration":"0.000"}}"#,
        );
        assert_eq!(
            MediaInfo::from_probe(&zero, &Limits::default()),
            Err(Rejection::ZeroDuration)
        );
        let long = probe(
            r#"{"streams":[{"index":0,"codec_type":"audio","codec_name":"aac","channels":2}],"format":{"duration":"99999"}}"#,
        );
        assert!(matches!(
            MediaInfo::from_probe(&long, &Limits::default()),
            Err(Rejection::TooLong { .. })
        ));
        let huge = probe(
            r#"{"streams":[{"index":0,"codec_type":"video","codec_name":"h264","width":16000,"height":9000}],"format":{"duration":"3"}}"#,
        );
        assert!(matches!(
            MediaInfo::from_probe(&huge, &Limits::default()),
            Err(Rejection::TooLarge { .. })
        ));
    }

    #[test]
    fn interlace_and_unusable_frame_rates() {
        let p = probe(
            r#"{"streams":[{"index":0,"codec_type":"video","codec_name":"mpeg2video","width":1920,"height":1080,
            "field_order":"tt","r_frame_rate":"0/0","avg_frame_rate":"30/1"}],"format":{"duration":"1.0"}}"#,
        );
        let v = MediaInfo::from_probe(&p, &Limits::default()).unwrap().video.unwrap();
        assert!(v.interlaced);
        assert_eq!(v.frame_rate, 30.0);
        assert_eq!(parse_rate("0/0"), None);
        assert_eq!(parse_rate("25"), Some(25.0));
    }

    #[test]
    fn probe_failures_become_readable_reasons() {
        assert_eq!(
            classify_probe_failure("[hls @ 0x1] Format not on whitelist 'mov'"),
            Rejection::Playlist
        );
        let r = classify_probe_failure(
            "[mov,mp4 @ 0x1] moov atom not found\n/tmp/x/source: Invalid data found when processing input",
        );
        assert!(r.to_string().contains("truncated"), "{r}");
    }
}
