//! Decides the ABR ladder for a source: which renditions (variant streams) to encode, at what
//! size, bitrate cap, frame rate and GOP. Pure and unit-tested; no I/O.
//!
//! Rules (configurable through [`LadderConfig`]):
//! - never upscale: a rung above the source's short side is dropped, and when the source sits
//!   well between rungs a rendition at the source's own size is added on top;
//! - aspect ratio kept (landscape, portrait, 4:3 alike), even dimensions;
//! - sources shorter than `short_source_secs` get the reduced ladder (`short_rungs`);
//! - one constant output frame rate for every rendition, and a fixed GOP of
//!   `segment_secs` × frame rate frames, so keyframes align across renditions and players can
//!   switch at every segment boundary (Apple HLS authoring spec §1.7–1.10).

use serde::{Deserialize, Serialize};

use crate::config::LadderConfig;
use crate::media::probe::MediaInfo;

/// A frame rate as an exact fraction (frames/s = num / den), so NTSC rates stay exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameRate {
    pub num: u32,
    pub den: u32,
}

impl FrameRate {
    /// Frames per second.
    pub fn fps(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }

    /// Picks the output rate for a source rate: halved until at most `max`, then snapped to the
    /// broadcast rate within 0.5 % (29.97 → 30000/1001) or kept to 1/1000 frame/s.
    pub fn for_source(source_fps: f64, max: f64) -> FrameRate {
        let mut fps = if source_fps.is_finite() && source_fps > 0.0 {
            source_fps
        } else {
            25.0
        };
        while fps > max + 0.01 {
            fps /= 2.0;
        }
        const STANDARD: [(u32, u32); 9] = [
            (24000, 1001),
            (24, 1),
            (25, 1),
            (30000, 1001),
            (30, 1),
            (48, 1),
            (50, 1),
            (60000, 1001),
            (60, 1),
        ];
        STANDARD
            .iter()
            .map(|&(num, den)| FrameRate { num, den })
            .min_by(|a, b| (a.fps() - fps).abs().total_cmp(&(b.fps() - fps).abs()))
            .filter(|r| (r.fps() - fps).abs() / fps < 0.005)
            .unwrap_or(FrameRate {
                num: (fps * 1000.0).round().max(1.0) as u32,
                den: 1000,
            })
    }
}

/// H.264 profile of a rendition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum H264Profile {
    Main,
    High,
}

impl H264Profile {
    /// The x264 `-profile:v` value.
    pub fn as_x264(self) -> &'static str {
        match self {
            H264Profile::Main => "main",
            H264Profile::High => "high",
        }
    }
}

/// One video rendition to encode.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoRendition {
    /// Variant name and directory, e.g. `720p` (the short side).
    pub name: String,
    /// Output size in pixels (even numbers).
    pub width: u32,
    pub height: u32,
    /// Peak bitrate cap (x264 maxrate), bits/s.
    pub max_bitrate: u32,
    /// VBV buffer size, bits.
    pub buffer_size: u32,
    pub profile: H264Profile,
}

/// An audio rendition of its own (`EXT-X-MEDIA:TYPE=AUDIO`), made when a video source has two
/// or more audio streams: each is encoded to AAC-LC stereo in its own media playlist, and the
/// video variant streams carry no audio but name the group (RFC 8216 §4.3.4.1–2).
#[derive(Debug, Clone, PartialEq)]
pub struct AudioTrackPlan {
    /// Directory and rendition name: `audio_<n>`, n counting the source's audio streams from 0.
    pub name: String,
    /// Absolute stream index in the source (for `-map 0:N`).
    pub stream_index: u32,
    /// BCP 47 language tag, when the source says.
    pub language: Option<String>,
    /// `NAME`, what the audio menu shows; unique within the ladder.
    pub label: String,
    /// The `DEFAULT=YES` track: the source's default, else the first.
    pub default: bool,
}

/// The ladder for one source.
#[derive(Debug, Clone, PartialEq)]
pub struct Ladder {
    /// Video renditions, largest first; empty for an audio-only source.
    pub renditions: Vec<VideoRendition>,
    /// Output frame rate of every rendition (absent for audio-only).
    pub frame_rate: Option<FrameRate>,
    /// Frames per GOP (closed, fixed, no scene-cut keyframes).
    pub gop_frames: u32,
    /// Segment duration in seconds: `gop_frames / fps` for video, `segment_secs` for audio.
    pub segment_secs: f64,
    /// AAC-LC stereo bitrate in bits/s when the source has audio.
    pub audio_bitrate: Option<u32>,
    /// Audio renditions of their own; empty when the audio is muxed into every variant stream
    /// (a single audio stream, or an audio-only source).
    pub audio_tracks: Vec<AudioTrackPlan>,
    /// x264 CRF and preset.
    pub crf: u32,
    pub preset: String,
}

impl Ladder {
    /// Name of the audio-only variant of an audio-only source.
    pub const AUDIO_ONLY_NAME: &'static str = "audio";
}

/// One audio rendition per audio stream of a video source with two or more; none otherwise.
///
/// A single audio stream stays muxed into each variant stream: one request per segment instead
/// of two, and every player (old smart TVs, `<video>` on Safari) plays it. Only a choice of
/// languages needs the audio apart.
pub fn audio_tracks(info: &MediaInfo) -> Vec<AudioTrackPlan> {
    if info.video.is_none() || info.audio_streams.len() < 2 {
        return Vec::new();
    }
    let default = info.audio.as_ref().map(|a| a.index);
    let labels: Vec<String> = info
        .audio_streams
        .iter()
        .enumerate()
        .map(|(n, a)| {
            crate::media::language::track_label(a.title.as_deref(), a.language.as_deref(), || {
                format!("Track {}", n + 1)
            })
        })
        .collect();
    // RFC 8216 §4.3.4.1.1: names in one group differ.
    let labels = crate::media::playlist::unique(labels.iter().map(String::as_str));
    info.audio_streams
        .iter()
        .zip(labels)
        .enumerate()
        .map(|(n, (a, label))| AudioTrackPlan {
            name: format!("audio_{n}"),
            stream_index: a.index,
            language: a.language.clone(),
            label,
            default: Some(a.index) == default,
        })
        .collect()
}

fn even(x: f64) -> u32 {
    ((x / 2.0).round() as u32 * 2).max(2)
}

/// Plans the ladder for `info`.
pub fn plan(info: &MediaInfo, cfg: &LadderConfig) -> Ladder {
    let audio_bitrate = info.audio.as_ref().map(|_| cfg.audio_bitrate);
    let Some(video) = &info.video else {
        return Ladder {
            renditions: Vec::new(),
            frame_rate: None,
            gop_frames: 0,
            segment_secs: cfg.segment_secs,
            audio_bitrate,
            audio_tracks: Vec::new(),
            crf: cfg.crf,
            preset: cfg.preset.clone(),
        };
    };
    let (w, h) = (f64::from(video.display_width), f64::from(video.display_height));
    let portrait = h > w;
    let source_short = video.display_width.min(video.display_height);

    let mut rungs: Vec<_> = if info.duration < cfg.short_source_secs {
        cfg.rungs
            .iter()
            .filter(|r| cfg.short_rungs.contains(&r.height))
            .copied()
            .collect()
    } else {
        cfg.rungs.clone()
    };
    rungs.sort_by_key(|r| std::cmp::Reverse(r.height));
    let mut shorts: Vec<(u32, u32)> = rungs
        .iter()
        .filter(|r| r.height <= source_short)
        .map(|r| (r.height, r.max_bitrate))
        .collect();

    // A source well between two rungs (or below the smallest) also gets its own size on top.
    let top_kept = shorts.first().map(|s| s.0).unwrap_or(0);
    let ladder_top = rungs.first().map(|r| r.height).unwrap_or(0);
    if ladder_top > source_short && f64::from(source_short) > f64::from(top_kept) * 1.15 {
        let above = rungs
            .iter()
            .rev()
            .find(|r| r.height > source_short)
            .expect("ladder_top > source_short");
        let scale = (f64::from(source_short) / f64::from(above.height)).powi(2);
        let native = (source_short & !1).max(2);
        shorts.insert(0, (native, (f64::from(above.max_bitrate) * scale) as u32));
    }

    let renditions = shorts
        .into_iter()
        .map(|(short, max_bitrate)| {
            let s = f64::from(short);
            let (width, height) = if portrait {
                (short, even(s * h / w))
            } else {
                (even(s * w / h), short)
            };
            VideoRendition {
                name: format!("{short}p"),
                width,
                height,
                max_bitrate,
                buffer_size: max_bitrate.saturating_mul(2),
                profile: if short > 480 {
                    H264Profile::High
                } else {
                    H264Profile::Main
                },
            }
        })
        .collect();

    let frame_rate = FrameRate::for_source(video.frame_rate, cfg.max_frame_rate);
    let gop_frames = (frame_rate.fps() * cfg.segment_secs).round().max(1.0) as u32;
    Ladder {
        renditions,
        frame_rate: Some(frame_rate),
        gop_frames,
        segment_secs: f64::from(gop_frames) / frame_rate.fps(),
        audio_bitrate,
        audio_tracks: audio_tracks(info),
        crf: cfg.crf,
        preset: cfg.preset.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::probe::{AudioStream, VideoStream};

    fn source(w: u32, h: u32, fps: f64, duration: f64) -> MediaInfo {
        MediaInfo {
            format_name: "mov".into(),
            duration,
            video: Some(VideoStream {
                index: 0,
                codec: "h264".into(),
                display_width: w,
                display_height: h,
                frame_rate: fps,
                hdr_transfer: None,
                interlaced: false,
                ..Default::default()
            }),
            audio: Some(AudioStream {
                index: 1,
                codec: "aac".into(),
                channels: 6,
                ..Default::default()
            }),
            audio_streams: Vec::new(),
            subtitles: Vec::new(),
            bit_rate: None,
        }
    }

    #[test]
    fn two_audio_streams_become_audio_renditions_with_unique_names() {
        let mut info = source(1920, 1080, 25.0, 60.0);
        let stream = |index, language: Option<&str>, title: Option<&str>, default| AudioStream {
            index,
            codec: "aac".into(),
            channels: 2,
            language: language.map(String::from),
            title: title.map(String::from),
            default,
            ..Default::default()
        };
        info.audio_streams = vec![
            stream(1, Some("en"), None, false),
            stream(2, Some("fr"), None, true),
            stream(3, Some("en"), None, false),
            stream(4, None, Some("Commentary"), false),
        ];
        info.audio = Some(info.audio_streams[1].clone());
        let l = plan(&info, &LadderConfig::default());
        let names: Vec<_> = l
            .audio_tracks
            .iter()
            .map(|t| (t.name.as_str(), t.label.as_str(), t.default))
            .collect();
        assert_eq!(
            names,
            [
                ("audio_0", "English", false),
                ("audio_1", "French", true),
                ("audio_2", "English (2)", false),
                ("audio_3", "Commentary", false)
            ]
        );
        assert_eq!(l.audio_tracks[3].stream_index, 4);
        assert_eq!(l.audio_tracks[3].language, None);
        // One audio stream stays muxed.
        info.audio_streams.truncate(1);
        assert!(plan(&info, &LadderConfig::default()).audio_tracks.is_empty());
    }

    fn sizes(l: &Ladder) -> Vec<(u32, u32)> {
        l.renditions.iter().map(|r| (r.width, r.height)).collect()
    }

    #[test]
    fn long_1080p_source_gets_the_full_ladder() {
        let l = plan(&source(1920, 1080, 25.0, 600.0), &LadderConfig::default());
        assert_eq!(sizes(&l), [(1920, 1080), (1280, 720), (854, 480), (640, 360)]);
        assert_eq!(l.renditions[0].profile, H264Profile::High);
        assert_eq!(l.renditions[2].profile, H264Profile::Main);
        assert_eq!(l.gop_frames, 100);
        assert_eq!(l.segment_secs, 4.0);
    }

    #[test]
    fn short_720p_source_gets_the_reduced_ladder_without_upscaling() {
        let l = plan(&source(1280, 720, 25.0, 5.3), &LadderConfig::default());
        assert_eq!(sizes(&l), [(1280, 720), (640, 360)]);
    }

    #[test]
    fn portrait_and_4_3_keep_their_aspect() {
        let l = plan(&source(1080, 1920, 30.0, 600.0), &LadderConfig::default());
        assert_eq!(sizes(&l), [(1080, 1920), (720, 1280), (480, 854), (360, 640)]);
        let l = plan(&source(640, 480, 30.0, 6.0), &LadderConfig::default());
        // 480 sits well above 360: the source's own size is kept on top.
        assert_eq!(sizes(&l), [(640, 480), (480, 360)]);
        for r in &l.renditions {
            assert!((f64::from(r.width) / f64::from(r.height) - 4.0 / 3.0).abs() < 0.01);
        }
    }

    #[test]
    fn small_sources_are_never_upscaled() {
        let l = plan(&source(320, 240, 30.0, 600.0), &LadderConfig::default());
        assert_eq!(sizes(&l), [(320, 240)]);
        let l = plan(&source(768, 432, 10.0, 139.4), &LadderConfig::default());
        assert_eq!(sizes(&l), [(768, 432), (640, 360)]);
        assert!(l.renditions[0].max_bitrate < 1_600_000 && l.renditions[0].max_bitrate > 900_000);
        let l = plan(&source(3840, 2160, 60.0, 1.0), &LadderConfig::default());
        assert_eq!(sizes(&l), [(1280, 720), (640, 360)], "4K short clip: reduced ladder");
    }

    #[test]
    fn dimensions_are_even() {
        let l = plan(&source(1080, 720, 30.0, 600.0), &LadderConfig::default());
        assert!(
            l.renditions.iter().all(|r| r.width % 2 == 0 && r.height % 2 == 0),
            "{:?}",
            sizes(&l)
        );
    }

    #[test]
    fn frame_rates_are_snapped_and_capped() {
        assert_eq!(FrameRate::for_source(29.97, 60.0), FrameRate { num: 30000, den: 1001 });
        assert_eq!(FrameRate::for_source(59.98, 60.0), FrameRate { num: 60, den: 1 });
        assert_eq!(FrameRate::for_source(120.0, 60.0), FrameRate { num: 60, den: 1 });
        assert_eq!(FrameRate::for_source(10.0, 60.0), FrameRate { num: 10000, den: 1000 });
        let l = plan(&source(1920, 1080, 30000.0 / 1001.0, 10.0), &LadderConfig::default());
        assert_eq!(l.gop_frames, 120);
        assert!((l.segment_secs - 4.004).abs() < 0.001);
    }

    #[test]
    fn audio_only_source_has_no_video_renditions() {
        let mut info = source(0, 0, 0.0, 41.0);
        info.video = None;
        let l = plan(&info, &LadderConfig::default());
        assert!(l.renditions.is_empty());
        assert_eq!(l.audio_bitrate, Some(128_000));
    }
}
