//! Builds and runs the one ffmpeg process that makes a whole HLS ladder: decode once, prepare
//! the picture once (auto-rotation, HDR→SDR tone mapping, deinterlacing, constant frame rate),
//! `split` into one scaler and one x264 encoder per rendition, and mux CMAF (fragmented MP4)
//! segments with ffmpeg's HLS muxer. The multivariant playlist ffmpeg writes is discarded:
//! [`crate::media::playlist`] writes the real one from measured segments.
//!
//! [`transcode_args`] is pure and unit-tested; [`run_transcode`] is the I/O shell.

use std::path::Path;
use std::time::Duration;

use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use crate::media::ladder::Ladder;
use crate::media::probe::MediaInfo;
use crate::media::process::{self, INPUT_GUARD, ProcessError};
use crate::media::storyboard::StoryboardPlan;

/// File name of each rendition's media playlist inside its directory.
pub const MEDIA_PLAYLIST: &str = "index.m3u8";

/// The picture preparation applied once before the split: HDR → SDR BT.709 tone mapping
/// (zscale + hable), deinterlacing (bwdif, only frames flagged interlaced), and a constant
/// output frame rate (the `fps` filter duplicates or drops frames of variable-rate sources).
/// Rotation needs no filter here: ffmpeg auto-rotates decoded frames by the display matrix.
pub fn prepare_filter(info: &MediaInfo, ladder: &Ladder) -> Vec<String> {
    let mut chain = Vec::new();
    let Some(video) = &info.video else {
        return chain;
    };
    if video.interlaced {
        chain.push("bwdif=mode=send_frame:parity=auto:deint=interlaced".to_string());
    }
    if let Some(transfer) = &video.hdr_transfer {
        chain.push(format!(
            "zscale=tin={transfer}:pin=bt2020:min=bt2020nc:rin=tv:t=linear:npl=100,format=gbrpf32le,\
             zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv"
        ));
    }
    if let Some(rate) = ladder.frame_rate {
        chain.push(format!("fps={}/{}", rate.num, rate.den));
    }
    chain
}

/// The full ffmpeg argument list for `input` → `out_dir/<rendition>/{index.m3u8, init_N.mp4,
/// seg_NNNNN.m4s}`. Video: H.264 capped CRF (`-crf` with per-rendition `-maxrate`/`-bufsize`),
/// fixed closed GOP with scene-cut keyframes off, BT.709 tags. Audio: AAC-LC stereo 48 kHz
/// (5.1 sources are downmixed), muxed into every video variant — or, with
/// [`Ladder::audio_tracks`], one `audio_<n>/` rendition per source audio stream — or a lone
/// audio variant for an audio-only source. Segments: see [`hls_output_args`].
pub fn transcode_args(input: &Path, out_dir: &Path, info: &MediaInfo, ladder: &Ladder) -> Vec<String> {
    transcode_args_with(input, out_dir, info, ladder, None)
}

/// [`transcode_args`], and with `storyboard` its sprite sheets too, from one more branch of the
/// same filter graph (one decode) into a second output, `out_dir/storyboard/`.
pub fn transcode_args_with(
    input: &Path,
    out_dir: &Path,
    info: &MediaInfo,
    ladder: &Ladder,
    storyboard: Option<&StoryboardPlan>,
) -> Vec<String> {
    let mut a = input_args(input, true);
    let storyboard = storyboard.filter(|_| info.video.is_some() && !ladder.renditions.is_empty());

    let mut var_streams = Vec::new();
    if let Some(video) = &info.video {
        let n = ladder.renditions.len();
        let branches = n + usize::from(storyboard.is_some());
        let mut graph = format!("[0:{}]", video.index);
        let prep = prepare_filter(info, ladder);
        if !prep.is_empty() {
            graph.push_str(&prep.join(","));
            graph.push(',');
        }
        graph.push_str(&format!("split={branches}"));
        for i in 0..branches {
            graph.push_str(&format!("[s{i}]"));
        }
        if let Some(plan) = storyboard {
            graph.push_str(&format!(";[s{n}]{}[sb]", plan.filter()));
        }
        for (i, r) in ladder.renditions.iter().enumerate() {
            graph.push_str(&format!(
                ";[s{i}]scale={}:{}:flags=bicubic,setsar=1,format=yuv420p[v{i}]",
                r.width, r.height
            ));
        }
        a.extend(["-filter_complex".into(), graph]);
        // Audio muxed into every variant stream, unless it has renditions of its own.
        let muxed_audio = info.audio.as_ref().filter(|_| ladder.audio_tracks.is_empty());
        for (i, r) in ladder.renditions.iter().enumerate() {
            a.extend(["-map".into(), format!("[v{i}]")]);
            if let Some(audio) = muxed_audio {
                a.extend(["-map".into(), format!("0:{}", audio.index)]);
            }
            a.extend([
                format!("-maxrate:v:{i}"),
                r.max_bitrate.to_string(),
                format!("-bufsize:v:{i}"),
                r.buffer_size.to_string(),
                format!("-profile:v:{i}"),
                r.profile.as_x264().into(),
            ]);
            let audio = if muxed_audio.is_some() {
                format!(",a:{i}")
            } else {
                String::new()
            };
            var_streams.push(format!("v:{i}{audio},name:{}", r.name));
        }
        for (j, track) in ladder.audio_tracks.iter().enumerate() {
            a.extend(["-map".into(), format!("0:{}", track.stream_index)]);
            var_streams.push(format!("a:{j},name:{}", track.name));
        }
        let gop = ladder.gop_frames.to_string();
        a.extend(
            [
                "-c:v",
                "libx264",
                "-preset",
                &ladder.preset,
                "-crf",
                &ladder.crf.to_string(),
                "-g",
                &gop,
                "-keyint_min",
                &gop,
                "-sc_threshold",
                "0",
                "-flags",
                "+cgop",
                "-color_primaries",
                "bt709",
                "-color_trc",
                "bt709",
                "-colorspace",
                "bt709",
            ]
            .map(String::from),
        );
    } else if let Some(audio) = &info.audio {
        a.extend(["-map".into(), format!("0:{}", audio.index)]);
        var_streams.push(format!("a:0,name:{}", Ladder::AUDIO_ONLY_NAME));
    }
    if let Some(bitrate) = ladder.audio_bitrate {
        a.extend(["-c:a", "aac", "-b:a", &bitrate.to_string(), "-ac", "2", "-ar", "48000"].map(String::from));
    }
    a.extend(["-map_metadata", "-1", "-map_chapters", "-1"].map(String::from));
    let segment_pattern = out_dir.join("%v").join("seg_%05d.m4s");
    let playlist_pattern = out_dir.join("%v").join(MEDIA_PLAYLIST);
    a.extend(hls_output_args(ladder.segment_secs));
    a.extend([
        "-hls_segment_filename".into(),
        segment_pattern.display().to_string(),
        "-var_stream_map".into(),
        var_streams.join(" "),
        "-master_pl_name".into(),
        "ffmpeg-master.m3u8".into(),
        playlist_pattern.display().to_string(),
    ]);
    if let Some(plan) = storyboard {
        a.extend(plan.output_args("sb", out_dir));
    }
    a
}

/// A storyboard by itself, for a job whose ladder needed no transcode of its own (the first
/// rendition was the whole ladder): the same picture preparation and branch, one output.
pub fn storyboard_args(
    input: &Path,
    out_dir: &Path,
    info: &MediaInfo,
    ladder: &Ladder,
    plan: &StoryboardPlan,
) -> Vec<String> {
    let mut a = input_args(input, true);
    let Some(video) = &info.video else { return a };
    let mut chain = prepare_filter(info, ladder);
    chain.push(plan.filter());
    a.extend([
        "-filter_complex".into(),
        format!("[0:{}]{}[sb]", video.index, chain.join(",")),
    ]);
    a.extend(plan.output_args("sb", out_dir));
    a
}

/// The start of every Kino ffmpeg command line that writes HLS: quiet, no stdin, progress on
/// stdout (read by [`run_transcode`]), the input whitelists ([`INPUT_GUARD`]) and `-i input`.
/// `xerror`: stop at the first decoding error (a transcode must not publish a short ladder; a
/// remux falls back to the transcode instead).
pub fn input_args(input: &Path, xerror: bool) -> Vec<String> {
    let mut a: Vec<String> = [
        "-hide_banner",
        "-nostdin",
        "-v",
        "error",
        "-nostats",
        "-progress",
        "pipe:1",
    ]
    .map(String::from)
    .to_vec();
    if xerror {
        a.push("-xerror".into());
    }
    a.extend(INPUT_GUARD.map(String::from));
    a.extend(["-i".into(), input.display().to_string()]);
    a
}

/// The HLS muxer options every Kino ffmpeg run shares: fMP4 (CMAF) segments of
/// `segment_secs` seconds (cut at the next keyframe), independent segments, and an `EVENT`
/// media playlist rewritten after every segment through a temporary file and a rename, so the
/// progressive publisher ([`crate::jobs::progressive`]) never reads a half-written playlist or
/// segment. [`crate::media::playlist::measure`] turns the finished playlist into `VOD`.
pub fn hls_output_args(segment_secs: f64) -> Vec<String> {
    [
        "-f",
        "hls",
        "-hls_time",
        &format!("{segment_secs:.3}"),
        "-hls_playlist_type",
        "event",
        "-hls_segment_type",
        "fmp4",
        "-hls_flags",
        "independent_segments+temp_file",
        "-hls_fmp4_init_filename",
        "init.mp4",
    ]
    .map(String::from)
    .to_vec()
}

/// Runs the transcode; `on_progress` receives the output time reached, in seconds.
///
/// Errors: [`ProcessError`] — `Failed` carries ffmpeg's stderr (with `-xerror`, a source that
/// stops decoding half-way fails here instead of producing a short ladder).
pub async fn run_transcode(
    ffmpeg: &Path,
    args: &[String],
    timeout: Duration,
    cancel: &CancellationToken,
    on_progress: &mut (dyn FnMut(f64) + Send),
) -> Result<(), ProcessError> {
    let mut cmd = Command::new(ffmpeg);
    cmd.args(args);
    let mut on_line = |line: &str| {
        if let Some(us) = line
            .strip_prefix("out_time_us=")
            .and_then(|v| v.trim().parse::<i64>().ok())
            && us >= 0
        {
            on_progress(us as f64 / 1e6);
        }
    };
    process::run(cmd, timeout, cancel, Some(&mut on_line)).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LadderConfig;
    use crate::media::ladder::plan;
    use crate::media::probe::{AudioStream, VideoStream};

    fn info(hdr: Option<&str>, interlaced: bool, audio: bool) -> MediaInfo {
        MediaInfo {
            format_name: "mov".into(),
            duration: 10.0,
            video: Some(VideoStream {
                index: 1,
                codec: "hevc".into(),
                display_width: 1920,
                display_height: 1080,
                frame_rate: 29.97,
                hdr_transfer: hdr.map(String::from),
                interlaced,
                ..Default::default()
            }),
            audio: audio.then(|| AudioStream {
                index: 0,
                codec: "aac".into(),
                channels: 6,
                ..Default::default()
            }),
            audio_streams: Vec::new(),
            subtitles: Vec::new(),
            bit_rate: None,
        }
    }

    fn arg_after<'a>(args: &'a [String], flag: &str) -> &'a str {
        let i = args
            .iter()
            .position(|a| a == flag)
            .unwrap_or_else(|| panic!("{flag} missing"));
        &args[i + 1]
    }

    #[test]
    fn the_storyboard_is_one_more_branch_and_a_second_output() {
        let i = info(None, false, true);
        let l = plan(&i, &LadderConfig::default());
        let sb = StoryboardPlan::for_source(&i, 2.0).unwrap();
        let args = transcode_args_with(Path::new("/s/src"), Path::new("/o"), &i, &l, Some(&sb));
        let graph = arg_after(&args, "-filter_complex");
        assert!(graph.starts_with("[0:1]fps=30000/1001,split=3[s0][s1][s2]"), "{graph}");
        assert!(
            graph.contains(";[s2]fps=1/2.000:round=down,scale=160:90:flags=bicubic,setsar=1[sb];"),
            "{graph}"
        );
        // The ladder's output first, then the sheets.
        let hls = args.iter().position(|a| a == "/o/%v/index.m3u8").unwrap();
        let sheets = args.iter().position(|a| a == "/o/storyboard/thumb_%05d.jpg").unwrap();
        assert!(hls < sheets);
        assert_eq!(&args[hls + 1..hls + 3], ["-map", "[sb]"]);
        // By itself: the same preparation, one output.
        let alone = storyboard_args(Path::new("/s/src"), Path::new("/o"), &i, &l, &sb);
        assert_eq!(
            arg_after(&alone, "-filter_complex"),
            "[0:1]fps=30000/1001,fps=1/2.000:round=down,scale=160:90:flags=bicubic,setsar=1[sb]"
        );
    }

    #[test]
    fn one_process_splits_into_every_rendition_with_aligned_gops() {
        let i = info(None, false, true);
        let l = plan(&i, &LadderConfig::default());
        let args = transcode_args(Path::new("/s/src"), Path::new("/o"), &i, &l);
        let graph = arg_after(&args, "-filter_complex");
        assert!(graph.starts_with("[0:1]fps=30000/1001,split=2[s0][s1]"), "{graph}");
        assert!(graph.contains("[s1]scale=640:360"));
        assert_eq!(arg_after(&args, "-g"), "120");
        assert_eq!(arg_after(&args, "-keyint_min"), "120");
        assert_eq!(arg_after(&args, "-sc_threshold"), "0");
        assert_eq!(
            arg_after(&args, "-var_stream_map"),
            "v:0,a:0,name:720p v:1,a:1,name:360p"
        );
        assert_eq!(arg_after(&args, "-maxrate:v:1"), "900000");
        assert_eq!(arg_after(&args, "-ac"), "2");
        // Audio is mapped by absolute index: audio-first stream order works.
        assert!(args.windows(2).any(|w| w[0] == "-map" && w[1] == "0:0"));
        assert_eq!(arg_after(&args, "-protocol_whitelist"), "file");
        assert!(args.contains(&"-xerror".to_string()));
    }

    #[test]
    fn several_audio_streams_are_renditions_of_their_own() {
        let mut i = info(None, false, true);
        let stream = |index| AudioStream {
            index,
            codec: "aac".into(),
            channels: 2,
            ..Default::default()
        };
        i.audio_streams = vec![stream(0), stream(2)];
        let l = plan(&i, &LadderConfig::default());
        let args = transcode_args(Path::new("/s/src"), Path::new("/o"), &i, &l);
        assert_eq!(
            arg_after(&args, "-var_stream_map"),
            "v:0,name:720p v:1,name:360p a:0,name:audio_0 a:1,name:audio_1"
        );
        let maps: Vec<_> = args
            .windows(2)
            .filter(|w| w[0] == "-map")
            .map(|w| w[1].as_str())
            .collect();
        assert_eq!(maps, ["[v0]", "[v1]", "0:0", "0:2"]);
        assert_eq!(arg_after(&args, "-c:a"), "aac");
    }

    #[test]
    fn hdr_and_interlaced_sources_are_prepared_before_the_split() {
        let i = info(Some("arib-std-b67"), true, false);
        let l = plan(&i, &LadderConfig::default());
        let prep = prepare_filter(&i, &l).join(",");
        assert!(prep.starts_with("bwdif"), "{prep}");
        assert!(
            prep.contains("zscale=tin=arib-std-b67") && prep.contains("tonemap=tonemap=hable"),
            "{prep}"
        );
        let args = transcode_args(Path::new("/s"), Path::new("/o"), &i, &l);
        assert_eq!(arg_after(&args, "-var_stream_map"), "v:0,name:720p v:1,name:360p");
        assert!(!args.contains(&"-c:a".to_string()));
    }

    #[test]
    fn audio_only_source_makes_one_audio_variant() {
        let mut i = info(None, false, true);
        i.video = None;
        let l = plan(&i, &LadderConfig::default());
        let args = transcode_args(Path::new("/s"), Path::new("/o"), &i, &l);
        assert!(!args.contains(&"-filter_complex".to_string()));
        assert_eq!(arg_after(&args, "-var_stream_map"), "a:0,name:audio");
    }
}
