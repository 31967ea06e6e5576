//! Seek-bar storyboards made in the transcode pass: a WebVTT thumbnails track whose cues point
//! into JPEG sprite sheets of the picture's shape, listed as `storyboard` on the video, served
//! immutable, and covered by the same grants as the ladder.

mod common;

use std::time::Duration;

use common::{H264_FAST, Server, ffprobe_json, make_clip};

/// (start s, end s, sheet file, x, y, w, h) of every cue.
fn cues(vtt: &str) -> Vec<(f64, f64, String, u32, u32, u32, u32)> {
    let secs = |t: &str| -> f64 {
        let p: Vec<f64> = t.split(':').map(|x| x.parse().unwrap()).collect();
        p[0] * 3600.0 + p[1] * 60.0 + p[2]
    };
    let lines: Vec<&str> = vtt.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some((a, b)) = line.split_once(" --> ") {
            let (file, frag) = lines[i + 1].split_once("#xywh=").expect("a media fragment");
            let n: Vec<u32> = frag.split(',').map(|x| x.parse().unwrap()).collect();
            out.push((secs(a), secs(b), file.to_string(), n[0], n[1], n[2], n[3]));
        }
    }
    out
}

#[tokio::test]
async fn storyboards_are_made_with_the_ladder_and_covered_by_grants() {
    let server = Server::start(&[]);
    let clip = make_clip(&server.data_dir, "board.mp4", "1280x720", 25, H264_FAST);
    let id = server.upload_ok(&clip).await;
    let v = server.wait_done(&id, Duration::from_secs(300)).await;
    assert_eq!(v["status"], "ready", "{v}");
    let url = v["storyboard"].as_str().expect("a storyboard").to_string();
    assert_eq!(url, format!("/hls/{id}/storyboard/thumbs.vtt"));

    let r = server.anon.get(server.url(&url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/vtt; charset=utf-8");
    assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
    let vtt = r.text().await.unwrap();
    assert!(vtt.starts_with("WEBVTT\n"), "{vtt}");
    let cues = cues(&vtt);
    // A thumbnail every 2 s of 25 s: 13, back to back, the last ending with the video.
    assert_eq!(cues.len(), 13, "{vtt}");
    for (i, c) in cues.iter().enumerate() {
        assert_eq!(c.0, i as f64 * 2.0);
        assert_eq!((c.5, c.6), (160, 90), "16:9 thumbnails");
        assert_eq!((c.3, c.4), ((i as u32 % 10) * 160, (i as u32 / 10) * 90));
    }
    assert!((cues[12].1 - 25.0).abs() < 0.1, "{:?}", cues[12]);

    // The sheet is a real JPEG of 10 columns and as many rows as the tile filter made.
    let sheet = server
        .anon
        .get(server.url(&format!("/hls/{id}/storyboard/{}", cues[0].2)))
        .send()
        .await
        .unwrap();
    assert_eq!(sheet.status(), 200);
    assert_eq!(sheet.headers()["content-type"], "image/jpeg");
    let path = server.data_dir.join("sheet.jpg");
    std::fs::write(&path, sheet.bytes().await.unwrap()).unwrap();
    let probe = ffprobe_json(&path, &["-show_streams"]);
    assert_eq!(probe["streams"][0]["codec_name"], "mjpeg");
    assert_eq!(probe["streams"][0]["width"], 1600);
    assert_eq!(probe["streams"][0]["height"], 900);
    // Nothing else is served from there.
    for bad in ["index.m3u8", "seg_00000.m4s", "../poster.jpg"] {
        let r = server
            .anon
            .get(server.url(&format!("/hls/{id}/storyboard/{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{bad}");
    }

    // Private: the URL carries the grant, and without it nothing is served.
    server.set_privacy(&id, "private").await;
    let v = server.video(&id).await;
    let signed = v["storyboard"].as_str().unwrap();
    assert!(signed.starts_with(&format!("/hls/{id}/g/")), "{signed}");
    let r = server.anon.get(server.url(signed)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let sheet_url = signed.replace("thumbs.vtt", "sprite_000.jpg");
    assert_eq!(
        server.anon.get(server.url(&sheet_url)).send().await.unwrap().status(),
        200
    );
    assert_eq!(server.anon.get(server.url(&url)).send().await.unwrap().status(), 404);
    let (_, playback) = server.anon_json(&format!("/api/videos/{id}/playback")).await;
    assert!(playback["storyboard_url"].is_null(), "not for a stranger: {playback}");
}

#[tokio::test]
async fn portrait_storyboards_keep_their_shape_and_can_be_turned_off() {
    let server = Server::start(&[]);
    let clip = make_clip(&server.data_dir, "tall.mp4", "360x640", 6, H264_FAST);
    let id = server.upload_ok(&clip).await;
    let v = server.wait_done(&id, Duration::from_secs(300)).await;
    let vtt = server
        .anon
        .get(server.url(v["storyboard"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let cues = cues(&vtt);
    assert_eq!(cues.len(), 3, "{vtt}");
    assert_eq!((cues[0].5, cues[0].6), (90, 160), "portrait thumbnails are portrait");
    drop(server);

    let off = Server::start(&[("KINO_LADDER__STORYBOARD_SECS", "0")]);
    let clip = make_clip(&off.data_dir, "none.mp4", "640x360", 4, H264_FAST);
    let id = off.upload_ok(&clip).await;
    let v = off.wait_done(&id, Duration::from_secs(300)).await;
    assert_eq!(v["status"], "ready");
    assert!(v["storyboard"].is_null(), "{v}");
}
