//! Every kind of source goes through the real pipeline (upload over HTTP, ffprobe, one ffmpeg
//! run, publishing) and the published ladder is checked with a playlist parser and ffprobe.
//! The sources are generated stand-ins (`tests/media/make.sh`: rotation, HDR, HEVC 10-bit, VFR,
//! interlacing, 5.1, audio only, odd containers); where the shared set of real-world clips is
//! beside the repository, the last test runs the real phone and camera files too.

mod common;

use std::time::Duration;

use common::ladder_check::{Expect, check_ladder, luma_spread};
use common::{Server, ffmpeg_in, ffprobe_json, media};
use serde_json::Value;

const DONE: Duration = Duration::from_secs(600);

async fn ladder_for(file: &str, expect: Expect) -> (Value, Vec<common::ladder_check::Variant>, tempfile::TempDir) {
    ladder_with(file, expect, &[]).await
}

async fn ladder_with(
    file: &str,
    expect: Expect,
    env: &[(&str, &str)],
) -> (Value, Vec<common::ladder_check::Variant>, tempfile::TempDir) {
    ladder_of(&media(file), expect, env).await
}

async fn ladder_of(
    source: &std::path::Path,
    expect: Expect,
    env: &[(&str, &str)],
) -> (Value, Vec<common::ladder_check::Variant>, tempfile::TempDir) {
    let file = source.file_name().unwrap().to_string_lossy();
    let server = Server::start(env);
    let id = server.upload_ok(source).await;
    let video = server.wait_done(&id, DONE).await;
    assert_eq!(video["status"], "ready", "{file} failed: {}", video["error"]);
    let scratch = tempfile::tempdir().unwrap();
    let variants = check_ladder(&server, &video, expect, scratch.path()).await;
    if expect.display.is_some() {
        let poster = server.bytes(video["poster_url"].as_str().expect("poster_url")).await;
        assert!(luma_spread(&poster, scratch.path()) > 40, "{file}: the poster is black");
    } else {
        assert!(video["poster_url"].is_null());
    }
    let probed: f64 = ffprobe_json(source, &["-show_format"])["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((video["duration"].as_f64().unwrap() - probed).abs() < 0.01);
    (video, variants, scratch)
}

fn names(video: &Value) -> Vec<String> {
    video["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

fn av(w: u32, h: u32) -> Expect {
    Expect {
        display: Some((w, h)),
        audio: true,
    }
}

#[tokio::test]
async fn bbb_720p_gets_720p_and_360p_with_stereo_audio() {
    let (video, variants, _s) = ladder_for("bbb-720p-h264-aac.mp4", av(1280, 720)).await;
    assert_eq!(
        names(&video),
        ["720p", "360p"],
        "short source: reduced ladder, no 1080p upscale"
    );
    let top = variants.iter().find(|v| v.name == "720p").unwrap();
    let vs = top.probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == "video")
        .unwrap();
    assert_eq!(vs["profile"], "High");
    let low = variants.iter().find(|v| v.name == "360p").unwrap();
    let vs = low.probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == "video")
        .unwrap();
    assert_eq!(vs["profile"], "Main", "Main profile at 480p and below");
}

#[tokio::test]
async fn friday_4_3_with_audio_first_keeps_its_aspect() {
    let (video, _, _s) = ladder_for("friday-480p-4x3-h264-aac.mp4", av(640, 480)).await;
    assert_eq!(names(&video), ["480p", "360p"]);
}

#[tokio::test]
async fn flower_vp8_webm_is_transcoded_to_h264() {
    ladder_for("flower-540p-vp8-vorbis.webm", av(960, 540)).await;
}

#[tokio::test]
async fn long_silent_10fps_clip_gets_the_full_ladder_capped_at_its_size() {
    let (video, variants, _s) = ladder_for(
        "people-432p-10fps-noaudio-139s.mp4",
        Expect {
            display: Some((768, 432)),
            audio: false,
        },
    )
    .await;
    assert_eq!(names(&video), ["432p", "360p"]);
    assert!(
        variants[0].segment_start_keyframes.len() >= 30,
        "139 s in ~4 s segments"
    );
}

#[tokio::test]
async fn audio_only_mp3_yields_an_audio_rendition() {
    let (video, _, _s) = ladder_for(
        "viper-audio-only.mp3",
        Expect {
            display: None,
            audio: true,
        },
    )
    .await;
    assert_eq!(names(&video), ["audio"]);
}

#[tokio::test]
async fn opus_webm_audio_only_yields_an_audio_rendition() {
    ladder_for(
        "bbb-opus-audio-only.webm",
        Expect {
            display: None,
            audio: true,
        },
    )
    .await;
}

#[tokio::test]
async fn phone_4k60_portrait_is_rotated_and_downscaled() {
    let (video, _, _s) = ladder_for("phone-4k60-portrait-rot90-h264-aac.mp4", av(2160, 3840)).await;
    let r = &video["renditions"][0];
    assert_eq!((r["width"].as_u64(), r["height"].as_u64()), (Some(720), Some(1280)));
}

#[tokio::test]
async fn iphone_hlg_hevc_is_tone_mapped_to_8_bit_bt709() {
    let (_, variants, _s) = ladder_for("apple-hevc10-hlg-1080p-rot90.mov", av(1080, 1920)).await;
    let vs = variants[0].probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == "video")
        .unwrap()
        .clone();
    assert_eq!(vs["color_transfer"], "bt709");
    assert_eq!(vs["color_primaries"], "bt709");
}

#[tokio::test]
async fn hdr10_pq_with_frame_gaps_is_tone_mapped() {
    let (_, variants, _s) = ladder_for("hdr10-pq-hevc10-1080p-aac.mp4", av(1920, 1080)).await;
    let vs = variants[0].probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == "video")
        .unwrap()
        .clone();
    assert_eq!(vs["color_transfer"], "bt709");
}

#[tokio::test]
async fn concert_mov_with_pcm_audio() {
    ladder_for("concert-1080p50-h264-pcm.mov", av(1920, 1080)).await;
}

#[tokio::test]
async fn graffiti_1080p60_without_audio() {
    let (video, _, _s) = ladder_for(
        "graffiti-1080p60-h264-dolbyvision-noaudio.mp4",
        Expect {
            display: Some((1920, 1080)),
            audio: false,
        },
    )
    .await;
    assert!((video["renditions"][0]["frame_rate"].as_f64().unwrap() - 59.94).abs() < 0.1);
}

#[tokio::test]
async fn bbb_1080p60_vp8_with_51_vorbis() {
    ladder_for("bbb-1080p60-vp8-vorbis51.webm", av(1920, 1080)).await;
}

#[tokio::test]
async fn bbb_540p60_vp9_is_recognised_by_content_not_name() {
    ladder_for("bbb-540p60-vp9-vorbis51.webm", av(960, 540)).await;
}

#[tokio::test]
async fn broadcast_mpeg2_ts_with_late_start_time() {
    ladder_for("bbb-1080p24-mpeg2-mp2.ts", av(1920, 1080)).await;
}

#[tokio::test]
async fn matroska_with_ac3_and_subtitles() {
    let (video, _, _s) = ladder_for("mkv-1080x720-h264-ac3-subrip.mkv", av(1080, 720)).await;
    assert_eq!(video["renditions"][0]["width"], 1080);
}

#[tokio::test]
async fn portrait_pixels_stay_portrait() {
    let (video, _, _s) = ladder_for("flower-portrait-540x960.mp4", av(540, 960)).await;
    assert_eq!(names(&video), ["540p", "360p"]);
}

#[tokio::test]
async fn rotation_metadata_is_applied() {
    let (video, _, _s) = ladder_for("flower-rotated-metadata.mp4", av(540, 960)).await;
    assert_eq!(video["renditions"][0]["height"], 960);
}

#[tokio::test]
async fn variable_frame_rate_becomes_constant() {
    let (_, variants, _s) = ladder_for("bbb-720p-vfr-h264-aac.mp4", av(1280, 720)).await;
    let vs = variants[0].probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == "video")
        .unwrap()
        .clone();
    let rate = |k: &str| {
        let (n, d) = vs[k].as_str().unwrap().split_once('/').unwrap();
        n.parse::<f64>().unwrap() / d.parse::<f64>().unwrap()
    };
    assert!(
        (rate("avg_frame_rate") - 25.0).abs() < 0.5,
        "avg {} r {}",
        rate("avg_frame_rate"),
        rate("r_frame_rate")
    );
}

#[tokio::test]
async fn interlaced_mpeg2_is_deinterlaced() {
    // The full ladder (no short-source reduction) keeps a 1080p rendition, where combing left
    // by a missing deinterlacer is plain to ffmpeg's interlace detector.
    let (video, variants, _s) = ladder_with(
        "bbb-1080i30-mpeg2-interlaced.ts",
        av(1920, 1080),
        &[("KINO_LADDER__SHORT_SOURCE_SECS", "0")],
    )
    .await;
    assert_eq!(names(&video), ["1080p", "720p", "480p", "360p"]);
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "info", "-nostats", "-i"])
        .arg(&variants[0].file)
        .args(["-vf", "idet", "-an", "-f", "null", "-"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let line = log
        .lines()
        .find(|l| l.contains("Multi frame detection"))
        .expect("idet summary");
    let count = |label: &str| -> u32 {
        let rest = &line[line.find(label).unwrap() + label.len()..];
        rest.split_whitespace().next().unwrap().parse().unwrap()
    };
    let interlaced = count("TFF:") + count("BFF:");
    assert!(
        interlaced < count("Progressive:") / 4,
        "combing left in the 1080p rendition: {line}"
    );
}

#[tokio::test]
async fn real_world_phone_and_camera_files_when_the_shared_set_is_present() {
    // What generated stand-ins lack: a phone's jittery 4K60 full-range capture, an iPhone MOV
    // with an edit list and metadata tracks, HDR10 with frame gaps, Dolby Vision side data,
    // Matroska with a 1 ms timebase.
    let cases = [
        ("phone-4k60-portrait-rot90-h264-aac.mp4", av(2160, 3840)),
        ("apple-hevc10-hlg-1080p-rot90.mov", av(1080, 1920)),
        ("hdr10-pq-hevc10-1080p-aac.mp4", av(1920, 1080)),
        (
            "graffiti-1080p60-h264-dolbyvision-noaudio.mp4",
            Expect {
                display: Some((1920, 1080)),
                audio: false,
            },
        ),
        ("mkv-1080x720-h264-ac3-subrip.mkv", av(1080, 720)),
    ];
    for (name, expect) in cases {
        if let Some(path) = common::shared_media(name) {
            ladder_of(&path, expect, &[]).await;
        }
    }
}

/// Mean level (dB) of `file`'s audio through a narrow band-pass at `hz`.
fn band_level(file: &std::path::Path, hz: u32) -> f64 {
    let out = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-i"])
        .arg(file)
        .args([
            "-af",
            &format!("bandpass=f={hz}:width_type=h:w=60,volumedetect"),
            "-f",
            "null",
            "-",
        ])
        .output()
        .expect("ffmpeg runs");
    let log = String::from_utf8_lossy(&out.stderr);
    log.lines()
        .find_map(|l| l.split("mean_volume:").nth(1))
        .and_then(|v| v.trim().trim_end_matches("dB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no volumedetect figure: {log}"))
}

#[tokio::test]
async fn two_audio_languages_become_audio_renditions_of_their_own() {
    // English at 440 Hz (not the source's default), French at 880 Hz (the default), a third
    // stream with no language tag but a title (Matroska: MP4 keeps no stream title).
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("two-languages.mkv");
    ffmpeg_in(
        dir.path(),
        "-f lavfi -i testsrc2=size=640x360:rate=25:duration=6 \
         -f lavfi -i sine=frequency=440:sample_rate=48000:duration=6 \
         -f lavfi -i sine=frequency=880:sample_rate=48000:duration=6 \
         -f lavfi -i sine=frequency=220:sample_rate=48000:duration=6 \
         -map 0:v -map 1:a -map 2:a -map 3:a \
         -c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 50 -c:a aac -ac 2 \
         -metadata:s:a:0 language=eng -metadata:s:a:1 language=fra -metadata:s:a:2 title=Commentary \
         -disposition:a:0 0 -disposition:a:1 default -disposition:a:2 0 two-languages.mkv",
    );
    let (video, variants, _s) = ladder_of(&source, av(640, 360), &[]).await;
    let tracks: Vec<(String, Value)> = video["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["audio_track"].is_object())
        .map(|r| (r["name"].as_str().unwrap().to_string(), r["audio_track"].clone()))
        .collect();
    assert_eq!(tracks.len(), 3, "{video}");
    assert_eq!(tracks[0].0, "audio_0");
    assert_eq!(
        tracks[0].1,
        serde_json::json!({"language": "en", "label": "English", "default": false})
    );
    assert_eq!(
        tracks[1].1,
        serde_json::json!({"language": "fr", "label": "French", "default": true})
    );
    assert_eq!(
        tracks[2].1,
        serde_json::json!({"language": null, "label": "Commentary", "default": false})
    );
    // Each rendition carries its own stream: the band of its tone stands out.
    for (name, hz, other) in [("audio_0", 440, 880), ("audio_1", 880, 440), ("audio_2", 220, 880)] {
        let file = &variants.iter().find(|v| v.name == name).expect(name).file;
        let (own, wrong) = (band_level(file, hz), band_level(file, other));
        assert!(
            own > wrong + 20.0,
            "{name}: {hz} Hz at {own} dB, {other} Hz at {wrong} dB"
        );
    }
    // Video variants: no audio of their own (checked by check_ladder), the group named.
    assert!(variants.iter().any(|v| v.name == "360p"));
}

#[tokio::test]
async fn a_broken_second_audio_stream_leaves_the_main_audio_muxed() {
    // MPEG-TS keeps ADTS as it is: the second stream's frames are corrupted a third of the way
    // in, so decoding it stops ffmpeg (`-xerror`) while the picture and main audio are whole.
    let dir = tempfile::tempdir().unwrap();
    ffmpeg_in(
        dir.path(),
        "-f lavfi -i sine=frequency=880:sample_rate=48000:duration=6 -c:a aac -f adts second.aac",
    );
    let mut adts = std::fs::read(dir.path().join("second.aac")).unwrap();
    let n = adts.len();
    for i in (n / 3..n / 3 + 4000).step_by(3) {
        adts[i] ^= 0xA5;
    }
    std::fs::write(dir.path().join("second.aac"), adts).unwrap();
    ffmpeg_in(
        dir.path(),
        "-f lavfi -i testsrc2=size=640x360:rate=25:duration=6 \
         -f lavfi -i sine=frequency=440:sample_rate=48000:duration=6 -i second.aac \
         -map 0:v -map 1:a -map 2:a -c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 50 \
         -c:a:0 aac -c:a:1 copy -metadata:s:a:0 language=eng -metadata:s:a:1 language=fra \
         broken-second-audio.ts",
    );
    let (video, _variants, _s) = ladder_of(&dir.path().join("broken-second-audio.ts"), av(640, 360), &[]).await;
    let renditions = video["renditions"].as_array().unwrap();
    assert!(
        renditions.iter().all(|r| r["audio_track"].is_null()),
        "fell back to the muxed main audio: {video}"
    );
}
