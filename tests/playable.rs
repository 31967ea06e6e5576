//! "Playable first": a video plays while its ladder is still being encoded — a remux of a
//! browser-ready H.264 source, or the lowest rung of any other — published segment by segment
//! in a growing EVENT playlist, then replaced by the full ladder. And failed videos: seen by
//! their owner only, and retried on request.
//!
//! Sources are made here with ffmpeg, long enough that the ladder takes seconds to encode.

mod common;

use std::time::{Duration, Instant};

use common::{Server, ladder_check, make_clip};
use serde_json::Value;

const DONE: Duration = Duration::from_secs(600);

fn names(v: &Value) -> Vec<String> {
    v["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

/// The variant URIs a multivariant playlist lists.
async fn variants(server: &Server, master_url: &str) -> (String, Vec<String>) {
    let resp = server.get(master_url).await;
    assert_eq!(resp.status(), 200, "GET {master_url}");
    let cache = resp.headers()["cache-control"].to_str().unwrap().to_string();
    let text = resp.text().await.unwrap();
    let uris = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    (cache, uris)
}

/// `(EXT-X-TARGETDURATION, segment URIs, has EXT-X-ENDLIST, playlist type)` of a media
/// playlist text.
fn media_playlist(text: &str) -> (u64, Vec<String>, bool, String) {
    let target = text
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-TARGETDURATION:"))
        .expect("a target duration")
        .parse()
        .unwrap();
    let segments = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    let kind = text
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-PLAYLIST-TYPE:"))
        .unwrap_or("")
        .to_string();
    (target, segments, text.contains("#EXT-X-ENDLIST"), kind)
}

/// The `EXTINF` durations of a media playlist, seconds.
fn media_playlist_durations(text: &str) -> Vec<f64> {
    text.lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .map(|d| d.trim_end_matches(',').split(',').next().unwrap().parse().unwrap())
        .collect()
}

/// The semantic ladder checks of a ready 1280x720 source with audio.
async fn check_720p_ladder(server: &Server, video: &Value) {
    let scratch = tempfile::tempdir().unwrap();
    let expect = ladder_check::Expect {
        display: Some((1280, 720)),
        audio: true,
    };
    ladder_check::check_ladder(server, video, expect, scratch.path()).await;
}

#[tokio::test]
async fn an_h264_upload_plays_as_a_remux_before_its_ladder_then_moves_to_the_ladder() {
    let dir = tempfile::tempdir().unwrap();
    let clip = make_clip(
        dir.path(),
        "lecture.mp4",
        "1280x720",
        45,
        &[common::H264_FAST, &["-b:v", "800k"]].concat(),
    );
    let server = Server::start(&[]);
    let id = server.upload_ok(&clip).await;

    // Playable while still processing, with only the remuxed source listed.
    let v = server
        .wait_for(&id, DONE, |v| v["playable"] == true || v["status"] != "processing")
        .await;
    assert_eq!(
        v["status"], "processing",
        "the ladder of 45 s of 720p cannot be done yet: {v}"
    );
    assert_eq!(names(&v), ["source"], "{v}");
    assert_eq!(
        (
            v["renditions"][0]["width"].as_u64(),
            v["renditions"][0]["height"].as_u64()
        ),
        (Some(1280), Some(720))
    );
    let master = v["hls_url"]
        .as_str()
        .expect("a playable video has a playlist URL")
        .to_string();
    let (cache, uris) = variants(&server, &master).await;
    assert_eq!(uris, ["source/index.m3u8"]);
    assert_eq!(cache, "public, max-age=1", "a growing playlist is cached briefly");
    let base = master.trim_end_matches("master.m3u8");
    let media = server.get(&format!("{base}source/index.m3u8")).await;
    assert_eq!(media.status(), 200);
    let text = media.text().await.unwrap();
    let (target, segments, _, _) = media_playlist(&text);
    // 4 s segments cut at the source's 2 s keyframes; the target allows one more keyframe gap
    // from the start, so it never has to grow.
    assert_eq!(target, 6);
    assert!(
        media_playlist_durations(&text)
            .iter()
            .all(|d| (*d - 4.0).abs() < 0.01 || *d < 4.0),
        "{text}"
    );
    let first = server.get(&format!("{base}source/{}", segments[0])).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["content-type"], "video/mp4");
    assert_eq!(server.get(&format!("{base}source/init.mp4")).await.status(), 200);
    let playback: Value = server
        .get(&format!("/api/videos/{id}/playback"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(playback["url"], master.as_str(), "a playable video gets a playback URL");

    // Then the full ladder replaces it; the passthrough is no longer listed.
    let v = server.wait_done(&id, DONE).await;
    assert_eq!(v["status"], "ready", "{v}");
    assert!(!names(&v).contains(&"source".to_string()), "{v}");
    let (cache, uris) = variants(&server, &master).await;
    assert_eq!(uris, ["360p/index.m3u8", "720p/index.m3u8"]);
    assert_eq!(
        cache, "public, max-age=60",
        "captions may change the multivariant playlist"
    );
    check_720p_ladder(&server, &v).await;
}

#[tokio::test]
async fn a_source_that_cannot_be_remuxed_plays_its_lowest_rung_first_from_a_growing_playlist() {
    let dir = tempfile::tempdir().unwrap();
    // MPEG-4 Part 2: no browser plays it, so nothing can be copied.
    let clip = make_clip(
        dir.path(),
        "old-camera.mp4",
        "1280x720",
        60,
        &["-c:v", "mpeg4", "-q:v", "8", "-g", "30"],
    );
    let server = Server::start(&[]);
    let id = server.upload_ok(&clip).await;
    let v = server
        .wait_for(&id, DONE, |v| v["playable"] == true || v["status"] != "processing")
        .await;
    assert_eq!(v["status"], "processing", "{v}");
    assert_eq!(names(&v), ["360p"], "the lowest rung goes first: {v}");
    let master = v["hls_url"].as_str().unwrap().to_string();
    let (_, uris) = variants(&server, &master).await;
    assert_eq!(uris, ["360p/index.m3u8"]);

    // Follow the media playlist until it ends: it only grows, keeps its target duration, and
    // every segment it lists can be fetched at once.
    let playlist = format!("{}360p/index.m3u8", master.trim_end_matches("master.m3u8"));
    let started = Instant::now();
    let (mut versions, mut growing_seen, mut last_count, mut first_target) = (0, false, 0, None);
    loop {
        assert!(started.elapsed() < DONE, "the lowest rung never finished");
        let resp = server.get(&playlist).await;
        assert_eq!(resp.status(), 200);
        let (target, segments, ended, kind) = media_playlist(&resp.text().await.unwrap());
        assert_eq!(
            *first_target.get_or_insert(target),
            target,
            "the target duration changed"
        );
        assert!(
            segments.len() >= last_count,
            "segments disappeared from a growing playlist"
        );
        if segments.len() > last_count {
            versions += 1;
            let newest = segments.last().unwrap();
            let seg = server.get(&playlist.replace("index.m3u8", newest)).await;
            assert_eq!(seg.status(), 200, "a listed segment is not there yet: {newest}");
            last_count = segments.len();
        }
        if ended {
            assert_eq!(
                kind, "EVENT",
                "a playlist published while growing stays EVENT (RFC 8216 §6.2.1)"
            );
            break;
        }
        assert_eq!(kind, "EVENT", "a growing playlist is EVENT");
        growing_seen = true;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        growing_seen && versions >= 2,
        "the playlist should have been seen growing ({versions} versions)"
    );

    let v = server.wait_done(&id, DONE).await;
    assert_eq!(v["status"], "ready", "{v}");
    assert_eq!(names(&v), ["720p", "360p"]);
    check_720p_ladder(&server, &v).await;
}
