//! The persistent job queue under stress: a server killed mid-transcode finishes the job after
//! a restart, no ffmpeg outlives its server, cancellation stops the work, and `kino import`
//! shares the data of `kino serve`.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Server, media, processes_mentioning};

const DONE: Duration = Duration::from_secs(600);

#[tokio::test]
async fn a_job_interrupted_by_a_crash_finishes_after_restart() {
    let dir = tempfile::Builder::new().prefix("kino-restart-").tempdir().unwrap();
    let env = [("KINO_JOBS__LEASE_SECS", "2")];
    let mut server = Server::start_in(dir.path(), &env);
    let id = server.upload_ok(&media("people-432p-10fps-noaudio-139s.mp4")).await;
    server
        .wait_for(&id, DONE, |v| v["progress"].as_f64().unwrap_or(0.0) > 3.0)
        .await;
    let needle = dir.path().to_string_lossy().into_owned();
    assert!(
        processes_mentioning(&needle).len() >= 2,
        "ffmpeg should be running beside the server"
    );

    server.kill(); // SIGKILL: no chance to clean up
    // PR_SET_PDEATHSIG takes the ffmpeg child down with its parent.
    let mut left = processes_mentioning(&needle);
    for _ in 0..50 {
        if left.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        left = processes_mentioning(&needle);
    }
    assert!(left.is_empty(), "processes outlived the killed server: {left:?}");

    let server = Server::start_in(dir.path(), &env);
    let v = server.wait_done(&id, DONE).await;
    assert_eq!(v["status"], "ready", "{v}");
    assert_eq!(v["progress"], 100.0);
    let scratch = tempfile::tempdir().unwrap();
    common::ladder_check::check_ladder(
        &server,
        &v,
        common::ladder_check::Expect {
            display: Some((768, 432)),
            audio: false,
        },
        scratch.path(),
    )
    .await;
    // The scratch files of the killed attempt are not the only thing left: the new attempt
    // cleaned up its own directory.
    let scratch_dir = dir.path().join("scratch");
    let leftovers: Vec<_> = std::fs::read_dir(&scratch_dir)
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(
        leftovers.len() <= 1,
        "only the crashed attempt's scratch may remain: {leftovers:?}"
    );
}

#[tokio::test]
async fn cancelling_a_transcode_kills_ffmpeg_publishes_nothing_and_a_retry_starts_again() {
    let server = Server::start(&[("KINO_JOBS__LEASE_SECS", "2")]);
    let id = server.upload_ok(&media("people-432p-10fps-noaudio-139s.mp4")).await;
    server
        .wait_for(&id, DONE, |v| v["progress"].as_f64().unwrap_or(0.0) > 1.0)
        .await;
    let resp = server.post(&format!("/api/videos/{id}/cancel")).await;
    assert_eq!(resp.status(), 202);
    let v = server.wait_done(&id, Duration::from_secs(30)).await;
    assert_eq!(v["status"], "failed");
    assert!(v["error"].as_str().unwrap().contains("cancelled"));
    let needle = server.data_dir.to_string_lossy().into_owned();
    let others: Vec<_> = processes_mentioning(&needle)
        .into_iter()
        .filter(|p| *p != server.pid())
        .collect();
    assert!(others.is_empty(), "ffmpeg still running after cancel: {others:?}");
    assert!(server.blobs(&format!("videos/{id}")).await.is_empty());
    // Nothing to cancel any more.
    let again = server.post(&format!("/api/videos/{id}/cancel")).await;
    assert_eq!(again.status(), 409);

    // A failed video is its owner's business: hidden from everyone else, listed for the owner.
    let listed = |list: &serde_json::Value| {
        list["videos"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["id"] == id.as_str())
    };
    let (code, _) = server.anon_json(&format!("/api/videos/{id}")).await;
    assert_eq!(code, 404, "a failed video is not shown to others");
    let (_, library) = server.anon_json("/api/videos").await;
    assert!(!listed(&library), "{library}");
    let mine: serde_json::Value = server.get("/api/me/videos").await.json().await.unwrap();
    assert!(listed(&mine), "{mine}");

    // Retry queues it again; it plays again as soon as its first rendition is published.
    let retry = server.post(&format!("/api/videos/{id}/retry")).await;
    assert_eq!(retry.status(), 202);
    let body: serde_json::Value = retry.json().await.unwrap();
    assert_eq!(
        (body["status"].as_str(), body["error"].as_str()),
        (Some("processing"), None),
        "{body}"
    );
    let v = server
        .wait_for(&id, DONE, |v| v["playable"] == true || v["status"] == "failed")
        .await;
    assert_eq!(v["status"], "processing", "{v}");
    let again = server.post(&format!("/api/videos/{id}/retry")).await;
    assert_eq!(again.status(), 409, "only failed videos are retried");
}

#[tokio::test]
async fn graceful_shutdown_hands_the_job_back_without_spending_an_attempt() {
    let dir = tempfile::Builder::new().prefix("kino-term-").tempdir().unwrap();
    let mut server = Server::start_in(dir.path(), &[]);
    let id = server.upload_ok(&media("people-432p-10fps-noaudio-139s.mp4")).await;
    server
        .wait_for(&id, DONE, |v| v["progress"].as_f64().unwrap_or(0.0) > 1.0)
        .await;
    let status = server.terminate();
    assert!(
        status.success(),
        "kino serve should exit cleanly on SIGTERM: {status:?}"
    );
    assert!(processes_mentioning(&dir.path().to_string_lossy()).is_empty());
    // The default 30 s lease does not delay the restart: the job was released.
    let server = Server::start_in(dir.path(), &[]);
    let v = server.wait_done(&id, Duration::from_secs(300)).await;
    assert_eq!(v["status"], "ready", "{v}");
}

#[test]
fn import_ingests_files_and_reports_failures_through_its_exit_status() {
    let dir = tempfile::Builder::new().prefix("kino-import-").tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kino"))
        .arg("import")
        .arg("--data-dir")
        .arg(dir.path())
        .envs(common::backend_env(dir.path()))
        .arg(media("friday-480p-4x3-h264-aac.mp4"))
        .arg(media("bad-not-a-video.mp4"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "one file failed, so the exit status is non-zero");
    assert!(stdout.contains("friday-480p-4x3-h264-aac.mp4: ready as"), "{stdout}");
    assert!(
        stdout.contains("bad-not-a-video.mp4: failed: not a media file"),
        "{stdout}"
    );

    let ok = Command::new(env!("CARGO_BIN_EXE_kino"))
        .arg("import")
        .arg("--data-dir")
        .arg(dir.path())
        .envs(common::backend_env(dir.path()))
        .arg(media("bbb-opus-audio-only.webm"))
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stdout));

    // A server on the same data directory sees what import made.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let server = Server::start_in(dir.path(), &[]);
        let list: serde_json::Value = server.get("/api/videos").await.json().await.unwrap();
        // The failed import is not in the public library; the administrator's search finds it.
        assert_eq!(list["total"], 2, "{list}");
        assert!(
            list["videos"]
                .as_array()
                .unwrap()
                .iter()
                .all(|v| v["status"] == "ready")
        );
        let found: serde_json::Value = server.get("/api/search?q=bad").await.json().await.unwrap();
        let statuses: Vec<_> = found["videos"]
            .as_array()
            .unwrap_or_else(|| panic!("{found}"))
            .iter()
            .map(|v| v["status"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(statuses, ["failed"], "{found}");
    });
}
