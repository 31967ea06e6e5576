//! Bad and hostile uploads end `failed` with a reason a person can act on, publish nothing,
//! are not retried forever, and leave the server serving everything else.

mod common;

use std::time::Duration;

use common::{Server, media};

const DONE: Duration = Duration::from_secs(300);

#[tokio::test]
async fn bad_and_hostile_files_fail_with_reasons_and_the_server_goes_on() {
    let server = Server::start(&[]);
    let cases = [
        ("bad-empty.mp4", "empty"),
        ("bad-not-a-video.mp4", "not a media file"),
        ("bad-truncated.mp4", "truncated"),
        ("bad-truncated-faststart.mp4", "truncated or corrupt"),
        ("hostile-hls-playlist.mp4", "playlist"),
        ("evil.mp4", "not a media file"),
    ];
    let mut ids = Vec::new();
    for (file, _) in &cases {
        ids.push(server.upload_ok(&media(file)).await);
    }
    let good = server.upload_ok(&media("bbb-720p-h264-aac.mp4")).await;
    for ((file, reason), id) in cases.iter().zip(&ids) {
        let v = server.wait_done(id, DONE).await;
        assert_eq!(v["status"], "failed", "{file} should fail: {v}");
        let error = v["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(reason),
            "{file}: error {error:?} should mention {reason:?}"
        );
        assert!(v["hls_url"].is_null() && v["poster_url"].is_null());
        // Nothing of a ladder is published or reachable.
        assert_eq!(server.get(&format!("/hls/{id}/master.m3u8")).await.status(), 404);
        let derived = server.blobs(&format!("videos/{id}")).await;
        assert!(derived.is_empty(), "{file}: leftovers {derived:?}");
    }
    let v = server.wait_done(&good, DONE).await;
    assert_eq!(v["status"], "ready", "a good upload beside bad ones still works: {v}");
    assert_eq!(server.get("/healthz").await.status(), 200);

    // The truncated-but-probable file failed once, permanently: no retry loop.
    let log = std::fs::read_to_string(server.data_dir.join("server.log")).unwrap();
    let claims = log
        .lines()
        .filter(|l| l.contains("job claimed") && l.contains(&ids[3]))
        .count();
    assert_eq!(claims, 1, "a corrupt source must not be retried");
}

#[tokio::test]
async fn hostile_playlist_never_reads_local_files() {
    // The playlist names file:///etc/passwd; the protocol and demuxer whitelists refuse it at
    // probe time, before any demuxing of its references.
    let server = Server::start(&[]);
    let id = server.upload_ok(&media("hostile-hls-playlist.mp4")).await;
    let v = server.wait_done(&id, DONE).await;
    assert_eq!(v["status"], "failed");
    let log = std::fs::read_to_string(server.data_dir.join("server.log")).unwrap();
    assert!(
        !log.contains("root:x:0:0"),
        "contents of /etc/passwd leaked into the log"
    );
    assert!(
        !v.to_string().contains("root:x:"),
        "contents of /etc/passwd leaked into the API"
    );
}

#[tokio::test]
async fn limits_reject_sources_before_transcoding() {
    let server = Server::start(&[("KINO_LIMITS__MAX_DURATION_SECS", "60")]);
    let id = server.upload_ok(&media("people-432p-10fps-noaudio-139s.mp4")).await;
    let v = server.wait_done(&id, DONE).await;
    assert_eq!(v["status"], "failed");
    assert!(v["error"].as_str().unwrap().contains("the limit is 60 s"), "{v}");
}

#[tokio::test]
async fn a_server_side_failure_tells_viewers_a_sentence_and_the_log_the_detail() {
    // ffmpeg is missing: probing works (ffprobe), transcoding cannot start. That is the
    // server's fault, not the file's: the video's error says so without paths or internals.
    let server = Server::start(&[
        ("KINO_FFMPEG", "/nonexistent/kino-test/ffmpeg"),
        ("KINO_JOBS__MAX_ATTEMPTS", "1"),
    ]);
    let id = server.upload_ok(&media("bbb-720p-h264-aac.mp4")).await;
    let v = server.wait_done(&id, DONE).await;
    assert_eq!(v["status"], "failed", "{v}");
    let error = v["error"].as_str().unwrap();
    assert!(error.contains("problem on the server"), "{error}");
    assert!(
        !error.contains('/') && !error.contains("nonexistent"),
        "internal detail reached the video: {error}"
    );
    let log = std::fs::read_to_string(server.data_dir.join("server.log")).unwrap();
    assert!(
        log.contains("/nonexistent/kino-test/ffmpeg"),
        "the log lacks the detail"
    );
}
