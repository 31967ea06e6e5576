//! A real browser: Debian's headless Chromium, driven by playwright-core scripts in
//! `tests/browser/`, against the real server.
//! - `watch.mjs` opens the watch page of a processed real video, plays it with hls.js past
//!   2 s, sees more than one level, draws a non-black frame and switches level.
//! - `auth.mjs` signs up through the pages, uploads a private video, watches it through a
//!   signed grant, is refused it in a signed-out browser, and signs out.
//! - `engage.mjs` posts hostile comments that must render inert, sees a comment arrive live on
//!   a second user's page, types in the search box, and resumes playback where it stopped.
//! - `playable.mjs` plays a video while it is still processing (playable first), then follows
//!   it onto the full ladder when it is ready without going back to the start.
//! - `upload-page.mjs` drops a file on the Upload page, reloads it mid-upload, drops the file
//!   again, and sees the upload resume from the server's offset and the row reach ready.
//! - `live.mjs` waits on the watch page of an idle live stream, publishes to it with ffmpeg
//!   over RTMP, sees the owner's Go live page show ingest health, plays it live by itself, reports the latency behind the live edge, uses the
//!   live-edge button, chats between two users, and follows the stream onto its replay with
//!   the chat replayed at its broadcast times.
//! - `player.mjs` uses the player as a viewer would: the quality menu (short-side labels, the
//!   choice kept after a reload), keyboard shortcuts and their `?` dialog, the share link at
//!   the current time, a comment's timestamp seeking, storyboard previews on the seek bar, an
//!   uploaded caption track showing its cue at its time, and the embed page playing in a
//!   cross-site `<iframe>`, with no CSP violation. `a11y.mjs` runs axe-core on every page
//!   (signed out and in) and fails on any serious or critical violation.
//! - `qoe.mjs` plays a two-rendition video under network throttling (Chrome DevTools
//!   Protocol) until it stalls and switches down, and finds that view — its rebuffer, its
//!   down-switch, a start-up time within 20 % of what the page measured — through the API
//!   and on the Analytics page; then plays a video whose segments the server answers 500
//!   and finds that view failed with the error's detail.
//! - `tracks.mjs` plays a video made from a source with two audio languages: both are audio
//!   renditions in the API and the multivariant playlist, the audio menu lists English and
//!   French, and choosing French switches hls.js to it, fetches `audio_1/` segments, keeps
//!   playing and changes the tone heard (440 → 880 Hz, through WebAudio). A video made from an
//!   MKV with a SubRip stream has it as an `embedded` caption track that the captions menu
//!   lists as "English" and shows at its time. That video made private, its embed link (POST
//!   `/api/videos/{id}/embed-link`) plays in a cross-site `<iframe>` in a browser without
//!   cookies, the embed without `?grant=` shows an error instead, and so does the grant once
//!   the video's links are revoked; the owner's Share dialog creates such a link (an iframe
//!   whose src has `grant=`), with no CSP violation and no serious axe-core finding.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{H264_FAST, Server, ffmpeg_in, make_clip, media};

/// Why the browser tests cannot run here, if they cannot. CI installs both
/// (`scripts/setup.sh --test`), so there a missing piece fails the test instead of skipping it.
fn browser_missing() -> Option<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let why = if !dir.join("node_modules/playwright-core").exists() {
        format!("playwright-core is not installed: run `npm ci` in {}", dir.display())
    } else if !Path::new("/usr/bin/chromium").exists() {
        "Chromium is not installed: apt-get install -y chromium".to_string()
    } else {
        return None;
    };
    assert!(std::env::var_os("CI").is_none(), "{why}");
    eprintln!("SKIPPED: {why}");
    Some(why)
}

/// Runs `node tests/browser/SCRIPT ARGS…`, asserts it succeeded, and returns the JSON summary
/// it prints last on stdout.
async fn run_check(server: &Server, script: &str, args: Vec<String>) -> serde_json::Value {
    run_check_env(server, script, args, Vec::new()).await
}

/// [`run_check`] with extra environment variables for the script.
async fn run_check_env(
    server: &Server,
    script: &str,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
) -> serde_json::Value {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser").join(script);
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(path)
            .args(args)
            .envs(env)
            .output()
            .expect("run node")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script} failed\nstdout: {stdout}\nstderr: {}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log_tail()
    );
    let text = stdout.trim();
    eprintln!("{script} summary: {text}");
    serde_json::from_str(text)
        .or_else(|_| serde_json::from_str(text.lines().last().unwrap_or_default()))
        .unwrap_or_else(|e| panic!("{script} printed no JSON summary ({e}): {text}"))
}

/// Uploads `file` with the harness's admin token and waits until it is ready.
async fn ready(server: &Server, file: &str, timeout: Duration) -> String {
    let id = server.upload_ok(&media(file)).await;
    let v = server.wait_done(&id, timeout).await;
    assert_eq!(v["status"], "ready", "{v}");
    id
}

#[tokio::test]
async fn watch_page_plays_the_ladder_in_chromium_and_switches_levels() {
    if browser_missing().is_some() {
        return;
    }
    let server = Server::start(&[]);
    let id = ready(&server, "bbb-720p-h264-aac.mp4", Duration::from_secs(300)).await;
    let screenshot = server.data_dir.join("watch.png").display().to_string();
    let summary = run_check(&server, "watch.mjs", vec![server.base.clone(), id, screenshot]).await;
    let levels = summary["levels"].as_array().map_or(0, Vec::len);
    assert!(levels > 1 || summary["levels"].is_null(), "{summary}");
}

#[tokio::test]
async fn sign_up_upload_private_and_watch_it_in_chromium() {
    if browser_missing().is_some() {
        return;
    }
    // The harness's admin is the first account, so let new accounts upload.
    let server = Server::start(&[("KINO_AUTH__DEFAULT_ROLE", "uploader")]);
    let file = media("bbb-720p-h264-aac.mp4").display().to_string();
    let summary = run_check(&server, "auth.mjs", vec![server.base.clone(), file]).await;
    assert_eq!(summary["ok"], true, "{summary}");
}

#[tokio::test]
async fn comments_are_inert_and_live_search_types_ahead_and_playback_resumes_in_chromium() {
    if browser_missing().is_some() {
        return;
    }
    let server = Server::start(&[]);
    // Long enough to resume inside (the page resumes past 5 s and before 95 %).
    let id = ready(&server, "people-432p-10fps-noaudio-139s.mp4", Duration::from_secs(480)).await;
    let summary = run_check(&server, "engage.mjs", vec![server.base.clone(), id]).await;
    assert_eq!(summary["ok"], true, "{summary}");
}

#[tokio::test]
async fn a_video_plays_while_processing_and_moves_onto_the_ladder_in_chromium() {
    if browser_missing().is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Long enough that its ladder takes many seconds after the remux is playable.
    let clip = make_clip(dir.path(), "long-lecture.mp4", "1280x720", 75, common::H264_FAST);
    let server = Server::start(&[]);
    let id = server.upload_ok(&clip).await;
    let summary = run_check(
        &server,
        "playable.mjs",
        vec![server.base.clone(), id, server.admin_token.clone()],
    )
    .await;
    assert_eq!(summary["ok"], true, "{summary}");
}

#[tokio::test]
async fn the_upload_page_resumes_a_dropped_file_after_a_reload_in_chromium() {
    if browser_missing().is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clip = make_clip(dir.path(), "clip.mp4", "640x360", 12, common::H264_FAST);
    let server = Server::start(&[]);
    let out = common::kino_cli(
        &server.data_dir,
        &["users", "create", "uplr", "--role", "uploader", "--password-stdin"],
        "uplr-password-1\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = run_check(
        &server,
        "upload-page.mjs",
        vec![
            server.base.clone(),
            "uplr".into(),
            "uplr-password-1".into(),
            clip.display().to_string(),
        ],
    )
    .await;
    assert_eq!(summary["ok"], true, "{summary}");
}

#[tokio::test]
async fn a_live_stream_plays_with_chat_and_becomes_its_replay_in_chromium() {
    if browser_missing().is_some() {
        return;
    }
    let server = Server::start(&[("KINO_LIVE__RECONNECT_GRACE_SECS", "5")]);
    let (id, publish_url) = server.create_live_stream("browser live").await;
    let base = server.base.clone();
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/live.mjs");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(path)
            .args([base, id, publish_url])
            .env("LIVE_PUBLISH_SECS", "30")
            // The harness's admin owns the stream: the Go live page's ingest health is checked too.
            .env("LIVE_OWNER", "admin:admin-password-1")
            .output()
            .expect("run node")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "live.mjs failed\nstdout: {stdout}\nstderr: {}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log_tail()
    );
    eprintln!("live.mjs: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn qoe_beacons_report_a_throttled_view_and_a_failing_one_in_chromium() {
    if browser_missing().is_some() {
        return;
    }
    // Two-second segments so that hls.js reacts to the throttled network within the test.
    let server = Server::start(&[
        ("KINO_LADDER__SEGMENT_SECS", "2"),
        ("KINO_LADDER__PRESET", "ultrafast"),
        ("KINO_ANALYTICS__VIEW_IDLE_SECS", "30"),
    ]);
    // 720p: the short ladder gives it 720p and 360p.
    let clip = make_clip(&server.data_dir, "qoe-abr.mp4", "1280x720", 75, H264_FAST);
    let id = server.upload_ok(&clip).await;
    let broken = make_clip(&server.data_dir, "qoe-broken.mp4", "320x240", 8, H264_FAST);
    let failing = server.upload_ok(&broken).await;
    for v in [&id, &failing] {
        let done = server.wait_done(v, Duration::from_secs(480)).await;
        assert_eq!(done["status"], "ready", "{done}");
    }
    // The failing video's media segments become symbolic links to themselves: opening one
    // fails (ELOOP), so the server answers 500 for each — a real storage fault, not a mock.
    let segments: Vec<String> = server
        .blobs(&format!("videos/{failing}"))
        .await
        .into_iter()
        .filter(|k| k.ends_with(".m4s") && !k.contains("init"))
        .collect();
    assert!(!segments.is_empty(), "no segments found for {failing}");
    for key in &segments {
        let path = server.data_dir.join("media").join(key);
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&path, &path).unwrap();
    }
    let path = segments[0]
        .split_once("/hls/")
        .map_or(segments[0].as_str(), |(_, rest)| rest);
    let r = server
        .anon
        .get(server.url(&format!("/hls/{failing}/{path}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500, "a broken segment answers 500 ({})", segments[0]);

    let summary = run_check(
        &server,
        "qoe.mjs",
        vec![server.base.clone(), id, server.admin_token.clone(), failing],
    )
    .await;
    assert_eq!(summary["ok"], true, "{summary}");
}

/// A ready 720p/360p video of 32 s with a caption track whose first cue says `text`.
async fn captioned(server: &Server, text: &str) -> String {
    let clip = make_clip(&server.data_dir, "player.mp4", "1280x720", 32, H264_FAST);
    let id = server.upload_ok(&clip).await;
    let done = server.wait_done(&id, Duration::from_secs(480)).await;
    assert_eq!(done["status"], "ready", "{done}");
    let vtt = format!("WEBVTT\n\n00:00:00.500 --> 00:00:20.000\n{text}\n");
    let form = reqwest::multipart::Form::new()
        .text("lang", "en")
        .text("label", "English")
        .part(
            "file",
            reqwest::multipart::Part::bytes(vtt.into_bytes()).file_name("en.vtt"),
        );
    let r = server
        .http
        .post(server.url(&format!("/api/videos/{id}/captions")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    id
}

#[tokio::test]
async fn the_player_has_menus_shortcuts_previews_captions_sharing_and_embeds_in_chromium() {
    if browser_missing().is_some() {
        return;
    }
    let server = Server::start(&[("KINO_LADDER__PRESET", "ultrafast")]);
    let caption = "Kino caption check";
    let id = captioned(&server, caption).await;
    let summary = run_check_env(
        &server,
        "player.mjs",
        vec![server.base.clone(), id, server.admin_token.clone()],
        vec![("CAPTION_TEXT", caption.to_string())],
    )
    .await;
    assert_eq!(summary["ok"], true, "{summary}");
}

#[tokio::test]
async fn every_page_passes_axe_core_in_chromium() {
    if browser_missing().is_some() {
        return;
    }
    let server = Server::start(&[("KINO_LADDER__PRESET", "ultrafast")]);
    let id = captioned(&server, "Accessible").await;
    let summary = run_check(
        &server,
        "a11y.mjs",
        vec![server.base.clone(), id, server.admin_token.clone()],
    )
    .await;
    assert_eq!(summary["ok"], true, "{summary}");
}

#[tokio::test]
async fn audio_languages_embedded_subtitles_and_private_embed_links_in_chromium() {
    if browser_missing().is_some() {
        return;
    }
    let server = Server::start(&[("KINO_LADDER__PRESET", "ultrafast")]);
    let dir = server.data_dir.clone();
    // Two audio languages: English (default) a 440 Hz tone, French an 880 Hz one.
    ffmpeg_in(
        &dir,
        "-y -f lavfi -i testsrc2=size=640x360:rate=25:duration=12 \
         -f lavfi -i sine=frequency=440:sample_rate=48000:duration=12 \
         -f lavfi -i sine=frequency=880:sample_rate=48000:duration=12 \
         -map 0:v -map 1:a -map 2:a -c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 50 -c:a aac \
         -metadata:s:a:0 language=eng -metadata:s:a:1 language=fra \
         -disposition:a:0 default -disposition:a:1 0 two-audio.mp4",
    );
    // An MKV with an English SubRip stream of one cue.
    let caption = "Kino embedded subtitle check";
    std::fs::write(
        dir.join("cue.srt"),
        format!("1\n00:00:00,500 --> 00:00:09,000\n{caption}\n\n"),
    )
    .unwrap();
    ffmpeg_in(
        &dir,
        "-y -f lavfi -i testsrc2=size=640x360:rate=25:duration=12 -f lavfi -i sine=frequency=440:duration=12 \
         -i cue.srt -map 0:v -map 1:a -map 2:s -c:v libx264 -preset ultrafast -pix_fmt yuv420p \
         -c:a aac -c:s srt -metadata:s:s:0 language=eng subs.mkv",
    );
    let audio = server.upload_ok(&dir.join("two-audio.mp4")).await;
    let subs = server.upload_ok(&dir.join("subs.mkv")).await;
    for id in [&audio, &subs] {
        let done = server.wait_done(id, Duration::from_secs(480)).await;
        assert_eq!(done["status"], "ready", "{done}");
    }
    let summary = run_check_env(
        &server,
        "tracks.mjs",
        vec![server.base.clone(), audio, subs, server.admin_token.clone()],
        vec![
            ("EMBEDDED_CAPTION_TEXT", caption.to_string()),
            // The harness's admin (tests/common), who owns both videos.
            ("OWNER_LOGIN", "admin:admin-password-1".to_string()),
        ],
    )
    .await;
    assert_eq!(summary["ok"], true, "{summary}");
}
