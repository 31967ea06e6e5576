//! A real browser: Debian's headless Chromium, driven by playwright-core.
//! - `tests/browser/watch.mjs` opens the watch page of a processed real video, plays it with
//!   hls.js past 2 s, sees more than one level, draws a non-black frame and switches level.
//! - `tests/browser/auth.mjs` signs up through the pages, uploads a private video, watches it
//!   through a signed grant, is refused it in a signed-out browser, and signs out.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{Server, media};

fn browser_ready() -> Result<(), String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if !dir.join("node_modules/playwright-core").exists() {
        return Err(format!(
            "playwright-core is not installed: run `npm ci` in {}",
            dir.display()
        ));
    }
    if !Path::new("/usr/bin/chromium").exists() {
        return Err("Chromium is not installed: apt-get install -y chromium".into());
    }
    Ok(())
}

#[tokio::test]
async fn watch_page_plays_the_ladder_in_chromium_and_switches_levels() {
    if let Err(why) = browser_ready() {
        // CI installs both (scripts/setup.sh); a developer machine without them says so loudly.
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("SKIPPED watch_page_plays_the_ladder_in_chromium_and_switches_levels: {why}");
        return;
    }
    let server = Server::start(&[]);
    let id = server.upload_ok(&media("bbb-720p-h264-aac.mp4")).await;
    let v = server.wait_done(&id, Duration::from_secs(300)).await;
    assert_eq!(v["status"], "ready", "{v}");

    let screenshot = server.data_dir.join("watch.png");
    let base = server.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/watch.mjs"))
            .arg(&base)
            .arg(&id)
            .arg(&screenshot)
            .output()
            .expect("run node")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser playback check failed\nstdout: {stdout}\nstderr: {stderr}\nserver log:\n{}",
        server.log_tail()
    );
    let summary: serde_json::Value =
        serde_json::from_str(stdout.trim().lines().last().unwrap_or("{}")).unwrap_or_default();
    if let Some(levels) = summary["levels"].as_array() {
        assert!(levels.len() > 1, "{summary}");
    }
}

#[tokio::test]
async fn sign_up_upload_private_and_watch_it_in_chromium() {
    if let Err(why) = browser_ready() {
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("SKIPPED sign_up_upload_private_and_watch_it_in_chromium: {why}");
        return;
    }
    // The harness's admin is the first account, so let new accounts upload.
    let server = Server::start(&[("KINO_AUTH__DEFAULT_ROLE", "uploader")]);
    let base = server.base.clone();
    let file = media("bbb-720p-h264-aac.mp4");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/auth.mjs"))
            .arg(&base)
            .arg(&file)
            .output()
            .expect("run node")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser sign-up/private-watch check failed\nstdout: {stdout}\nstderr: {}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log_tail()
    );
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).expect("a JSON summary on stdout");
    assert_eq!(summary["ok"], true, "{summary}");
}
