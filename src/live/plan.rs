//! The live ladder of one broadcast and the ffmpeg command that makes it: one process per
//! stream, fed FLV on stdin, decoding once and writing every rendition's CMAF segments with
//! keyframes at the same instants, so a player switching renditions lands on a segment
//! boundary in each.
//!
//! [`plan`] and [`ffmpeg_args`] are pure and unit-tested; [`crate::live::broadcast`] runs them.

use crate::config::{LadderConfig, LiveConfig};
use crate::media::passthrough::SOURCE_RENDITION;

/// What the first seconds of a publish said about its source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    /// Picture size from the publisher's `onMetaData`, pixels.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Frames/s from `onMetaData`.
    pub frame_rate: Option<f64>,
    /// Video and audio bitrate from `onMetaData`, bits/s.
    pub bitrate: Option<u64>,
    /// The video is H.264 (the only codec a browser plays as it is).
    pub avc: bool,
    /// Audio present, and whether it is AAC.
    pub audio: Option<AudioIn>,
    /// Seconds between the first two keyframes; `None` when a second one did not come in time.
    pub keyframe_secs: Option<f64>,
}

/// The codec family of the source's audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioIn {
    Aac,
    Other,
}

/// Where the encoded rungs put their keyframes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Keyframes {
    /// On the source's keyframes (`-force_key_frames source`), which come at least once a
    /// segment: every rung, the copied one included, is cut at the same instants.
    Source,
    /// Every `n` seconds (the source's own are too far apart, so nothing is copied).
    Every(f64),
}

/// One rendition of a live stream.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveRung {
    /// Variant name and directory: [`SOURCE_RENDITION`] for the copied source, else `NNNp`.
    pub name: String,
    /// The source's video is copied as it is (`-c:v copy`).
    pub copy: bool,
    /// Picture size, pixels.
    pub width: u32,
    pub height: u32,
    /// Peak bitrate the variant is declared with until measured (`BANDWIDTH`), bits/s; for an
    /// encoded rung also its x264 `maxrate`.
    pub max_bitrate: u64,
}

/// How one broadcast is packaged.
#[derive(Debug, Clone, PartialEq)]
pub struct LivePlan {
    /// Renditions, largest first.
    pub rungs: Vec<LiveRung>,
    /// Audio: `None` without, `Some(true)` copied (AAC), `Some(false)` encoded to AAC-LC.
    pub audio_copy: Option<bool>,
    /// AAC-LC bitrate when encoded, bits/s.
    pub audio_bitrate: u32,
    pub keyframes: Keyframes,
    /// Target segment duration, seconds.
    pub segment_secs: f64,
    /// Frames/s of the source, when known.
    pub frame_rate: Option<f64>,
}

/// Why a publish cannot be packaged: the sentence logged and shown on the creator's page.
pub type Refusal = String;

/// Plans the live ladder for `src` under the limits of `live` with the rungs of `ladder`:
/// the source copied when it is H.264 with keyframes at most one segment apart (plus a little
/// slack), then up to `live.encoded_rungs` rungs of `ladder.rungs` below it — all keyed on
/// the source's keyframes; otherwise every rung encoded with a keyframe each segment.
///
/// Errors: no video, an Enhanced RTMP codec already refused upstream, a picture or frame rate
/// over `live.max_*`, or no size in the metadata of a source that must be encoded.
pub fn plan(src: &SourceInfo, live: &LiveConfig, ladder: &LadderConfig) -> Result<LivePlan, Refusal> {
    if let (Some(w), Some(h)) = (src.width, src.height)
        && (w > live.max_width || h > live.max_height || w < 16 || h < 16)
    {
        return Err(format!(
            "the picture is {w}x{h}; this server takes 16x16 up to {}x{}",
            live.max_width, live.max_height
        ));
    }
    if let Some(fps) = src.frame_rate
        && (fps.is_nan() || fps > live.max_frame_rate)
    {
        return Err(format!(
            "the frame rate is {fps} fps; this server takes at most {}",
            live.max_frame_rate
        ));
    }
    let seg = live.segment_secs;
    let copy = src.avc && src.keyframe_secs.is_some_and(|k| k <= seg * 1.25 + 0.05);
    let mut rungs = Vec::new();
    let size = src.width.zip(src.height);
    if copy {
        let (w, h) = size.unwrap_or((0, 0));
        rungs.push(LiveRung {
            name: SOURCE_RENDITION.to_string(),
            copy: true,
            width: w,
            height: h,
            max_bitrate: src
                .bitrate
                .map(|b| b + b / 5)
                .unwrap_or(live.max_ingest_bitrate)
                .min(live.max_ingest_bitrate),
        });
    }
    if let Some((w, h)) = size {
        let short = w.min(h);
        let mut below: Vec<_> = ladder
            .rungs
            .iter()
            .filter(|r| if copy { r.height < short } else { r.height <= short })
            .collect();
        below.sort_by_key(|r| std::cmp::Reverse(r.height));
        if below.is_empty() && !copy {
            // A source smaller than every rung is encoded at its own size.
            let lowest = ladder.rungs.iter().min_by_key(|r| r.height);
            rungs.push(encoded(
                w,
                h,
                short,
                lowest.map_or(1_000_000, |r| u64::from(r.max_bitrate)),
            ));
        }
        for r in below.into_iter().take(live.encoded_rungs.max(usize::from(!copy))) {
            rungs.push(encoded(w, h, r.height, u64::from(r.max_bitrate)));
        }
    } else if !copy {
        return Err("the publisher sent no picture size (onMetaData width/height); H.264 with keyframes every segment can be relayed without it".into());
    }
    Ok(LivePlan {
        rungs,
        audio_copy: src.audio.map(|a| a == AudioIn::Aac),
        audio_bitrate: ladder.audio_bitrate,
        keyframes: if copy { Keyframes::Source } else { Keyframes::Every(seg) },
        segment_secs: seg,
        frame_rate: src.frame_rate,
    })
}

/// An encoded rung whose short side is `short` pixels, keeping the source's aspect ratio.
fn encoded(src_w: u32, src_h: u32, short: u32, max_bitrate: u64) -> LiveRung {
    let even = |x: f64| ((x / 2.0).round() as u32 * 2).max(2);
    let (width, height) = if src_w >= src_h {
        (even(f64::from(short) * f64::from(src_w) / f64::from(src_h)), short)
    } else {
        (short, even(f64::from(short) * f64::from(src_h) / f64::from(src_w)))
    };
    LiveRung {
        name: format!("{short}p"),
        copy: false,
        width,
        height,
        max_bitrate,
    }
}

/// The first file descriptor of the rendition pipes: rendition `i` of the plan is written
/// to `pipe:{FIRST_OUTPUT_FD + i}`.
pub const FIRST_OUTPUT_FD: i32 = 3;

/// How a plan's parts are cut: a whole number of frames each, so their length does not wobble.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PartTiming {
    /// Frames in a part: the whole number closest to `live.part_secs` at the plan's frame rate
    /// (30 when unknown), at least one.
    pub frames: u32,
    /// ffmpeg's `-frag_duration`, µs: half a frame short of `frames` frames, so the fragment
    /// is cut before frame `frames` whatever the millisecond rounding of FLV timestamps.
    pub fragment_us: u64,
    /// `PART-TARGET`, seconds: `frames` frames plus 1 ms, rounded up to the millisecond. A
    /// part's duration comes from its samples' millisecond timestamps, which can make it up to
    /// 1 ms longer than the true frame time (6 frames of 29.97 fps: 200 or 201 ms), and no
    /// part may be longer than `PART-TARGET` (RFC 8216bis §4.4.4.9).
    pub part_target: f64,
}

impl PartTiming {
    /// The timing of parts of about `part_secs` seconds at `frame_rate` frames/s.
    pub fn new(part_secs: f64, frame_rate: Option<f64>) -> PartTiming {
        let frame = 1.0 / frame_rate.filter(|f| f.is_finite() && *f >= 1.0).unwrap_or(30.0);
        let frames = ((part_secs / frame).round() as u32).max(1);
        let span = f64::from(frames) * frame;
        PartTiming {
            frames,
            fragment_us: ((span - frame / 2.0) * 1e6).round() as u64,
            part_target: ((span + 0.001) * 1000.0 - 1e-6).ceil() / 1000.0,
        }
    }
}

/// ffmpeg's command line for `plan`: FLV from `pipe:0` (only the `pipe` protocol and the
/// `flv` demuxer allowed; no `-fflags nobuffer`, which in ffmpeg 5.1 drops the copied
/// rendition's first seconds), `-tune zerolatency` x264 for encoded rungs (no B-frames, no
/// look-ahead), AAC copied or encoded, and per rendition one fragmented MP4 (CMAF) stream on
/// its own pipe ([`FIRST_OUTPUT_FD`] + its index): `empty_moov` init segment, then a
/// fragment at every keyframe and every [`PartTiming`] `frames` frames, flushed as soon as it
/// is complete.
/// [`crate::live::packager`] cuts the parts and segments from them.
pub fn ffmpeg_args(plan: &LivePlan, preset: &str, part_secs: f64) -> Vec<String> {
    let mut a: Vec<String> = [
        "-hide_banner",
        "-nostdin",
        "-v",
        "error",
        "-nostats",
        "-protocol_whitelist",
        "pipe",
        "-format_whitelist",
        "flv",
        "-analyzeduration",
        "1000000",
        "-f",
        "flv",
        "-i",
        "pipe:0",
    ]
    .map(String::from)
    .to_vec();
    let encoded: Vec<&LiveRung> = plan.rungs.iter().filter(|r| !r.copy).collect();
    if !encoded.is_empty() {
        let mut graph = format!("[0:v:0]split={}", encoded.len());
        for i in 0..encoded.len() {
            graph.push_str(&format!("[s{i}]"));
        }
        for (i, r) in encoded.iter().enumerate() {
            graph.push_str(&format!(
                ";[s{i}]scale={}:{}:flags=bicubic,setsar=1,format=yuv420p[v{i}]",
                r.width, r.height
            ));
        }
        a.extend(["-filter_complex".into(), graph]);
    }
    let fragment_us = PartTiming::new(part_secs, plan.frame_rate).fragment_us;
    let mut next_encoded = 0;
    for (i, r) in plan.rungs.iter().enumerate() {
        if r.copy {
            a.extend(["-map", "0:v:0", "-c:v", "copy"].map(String::from));
        } else {
            let max = r.max_bitrate.to_string();
            let force = match plan.keyframes {
                Keyframes::Source => "source".to_string(),
                Keyframes::Every(secs) => format!("expr:gte(t,n_forced*{secs})"),
            };
            let gop = plan
                .frame_rate
                .map_or(600, |fps| (fps * plan.segment_secs * 10.0).ceil() as u32)
                .max(10);
            a.extend([
                "-map".into(),
                format!("[v{next_encoded}]"),
                "-c:v".into(),
                "libx264".into(),
                "-maxrate".into(),
                max.clone(),
                "-bufsize".into(),
                max,
                "-profile:v".into(),
                "main".into(),
                "-preset".into(),
                preset.into(),
                "-tune".into(),
                "zerolatency".into(),
                "-crf".into(),
                "23".into(),
                "-g".into(),
                gop.to_string(),
                "-sc_threshold".into(),
                "0".into(),
                "-force_key_frames".into(),
                force,
            ]);
            next_encoded += 1;
        }
        match plan.audio_copy {
            Some(true) => a.extend(["-map", "0:a:0", "-c:a", "copy"].map(String::from)),
            Some(false) => a.extend([
                "-map".into(),
                "0:a:0".into(),
                "-c:a".into(),
                "aac".into(),
                "-b:a".into(),
                plan.audio_bitrate.to_string(),
                "-ac".into(),
                "2".into(),
                "-ar".into(),
                "48000".into(),
            ]),
            None => {}
        }
        a.extend([
            "-map_metadata".into(),
            "-1".into(),
            "-f".into(),
            "mp4".into(),
            "-movflags".into(),
            "+frag_keyframe+empty_moov+default_base_moof".into(),
            "-frag_duration".into(),
            fragment_us.to_string(),
            "-flush_packets".into(),
            "1".into(),
            format!("pipe:{}", FIRST_OUTPUT_FD + i as i32),
        ]);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(w: u32, h: u32, keyframe_secs: Option<f64>) -> SourceInfo {
        SourceInfo {
            width: Some(w),
            height: Some(h),
            frame_rate: Some(30.0),
            bitrate: Some(2_500_000),
            avc: true,
            audio: Some(AudioIn::Aac),
            keyframe_secs,
        }
    }

    #[test]
    fn h264_keyed_every_segment_is_copied_with_rungs_below_it() {
        let p = plan(
            &source(1280, 720, Some(1.0)),
            &LiveConfig::default(),
            &LadderConfig::default(),
        )
        .unwrap();
        let names: Vec<_> = p.rungs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["source", "480p", "360p"]);
        assert!(p.rungs[0].copy && !p.rungs[1].copy);
        assert_eq!((p.rungs[1].width, p.rungs[1].height), (854, 480));
        assert_eq!(p.rungs[0].max_bitrate, 3_000_000);
        assert_eq!(p.keyframes, Keyframes::Source);
        assert_eq!(p.audio_copy, Some(true));
        let args = ffmpeg_args(&p, "veryfast", 0.2);
        let text = args.join(" ");
        let outputs: Vec<&str> = text.split("pipe:").skip(2).collect();
        assert_eq!(outputs.len(), 3, "one output per rendition: {text}");
        assert!(text.contains("-map 0:v:0 -c:v copy -map 0:a:0 -c:a copy"), "{text}");
        assert!(text.contains("-c:v libx264"), "{text}");
        assert!(text.contains("-force_key_frames source"), "{text}");
        assert!(text.ends_with("pipe:5"), "{text}");
        // 30 fps: six frames make a 0.2 s part, cut half a frame before the seventh.
        assert!(text.contains("-frag_duration 183333 -flush_packets 1 pipe:3"), "{text}");
        assert!(
            text.contains("-protocol_whitelist pipe -format_whitelist flv"),
            "{text}"
        );
    }

    #[test]
    fn parts_are_whole_frames_under_a_target_that_allows_for_millisecond_timestamps() {
        let t = PartTiming::new(0.2, Some(30.0));
        assert_eq!((t.frames, t.fragment_us, t.part_target), (6, 183_333, 0.201));
        let t = PartTiming::new(0.2, Some(30_000.0 / 1001.0));
        assert_eq!(
            (t.frames, t.fragment_us, t.part_target),
            (6, 183_517, 0.202),
            "200.2 ms + 1 ms"
        );
        let t = PartTiming::new(0.2, Some(25.0));
        assert_eq!((t.frames, t.fragment_us, t.part_target), (5, 180_000, 0.201));
        let t = PartTiming::new(0.2, Some(24.0));
        assert_eq!((t.frames, t.part_target), (5, 0.21), "208.3 ms + 1 ms");
        assert_eq!(PartTiming::new(0.2, None), PartTiming::new(0.2, Some(30.0)));
        assert_eq!(PartTiming::new(0.1, Some(5.0)).frames, 1, "at least one frame");
    }

    #[test]
    fn long_gops_are_encoded_with_a_keyframe_each_segment() {
        let p = plan(
            &source(854, 480, Some(4.0)),
            &LiveConfig::default(),
            &LadderConfig::default(),
        )
        .unwrap();
        let names: Vec<_> = p.rungs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["480p", "360p"]);
        assert_eq!(p.keyframes, Keyframes::Every(1.0));
        let text = ffmpeg_args(&p, "veryfast", 0.2).join(" ");
        assert!(text.contains("expr:gte(t,n_forced*1)"), "{text}");
        assert!(!text.contains("-c:v copy"), "no video copied: {text}");
    }

    #[test]
    fn small_sources_get_one_rung_at_their_own_size() {
        let mut src = source(320, 240, None);
        src.audio = Some(AudioIn::Other);
        let p = plan(&src, &LiveConfig::default(), &LadderConfig::default()).unwrap();
        assert_eq!(p.rungs.len(), 1);
        assert_eq!((p.rungs[0].width, p.rungs[0].height), (320, 240));
        assert_eq!(p.audio_copy, Some(false));
        assert!(ffmpeg_args(&p, "veryfast", 0.2).join(" ").contains("-c:a aac"));
    }

    #[test]
    fn absurd_pictures_are_refused_with_the_limit() {
        let cfg = LiveConfig::default();
        let err = plan(&source(7680, 4320, Some(1.0)), &cfg, &LadderConfig::default()).unwrap_err();
        assert!(err.contains("7680x4320") && err.contains("3840x2160"), "{err}");
        let mut fast = source(1280, 720, Some(1.0));
        fast.frame_rate = Some(240.0);
        assert!(plan(&fast, &cfg, &LadderConfig::default()).unwrap_err().contains("240"));
        let mut nosize = source(0, 0, Some(5.0));
        (nosize.width, nosize.height) = (None, None);
        assert!(plan(&nosize, &cfg, &LadderConfig::default()).is_err());
    }
}
