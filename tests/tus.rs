//! Resumable uploads over the tus 1.0.0 protocol against the running server: a real clip
//! uploaded in pieces survives a connection cut mid-request and resumes from the server's
//! offset, forged offsets, overlong requests and bad checksums are refused without losing
//! anything, the video is its owner's alone until the last byte, and termination and expiry
//! leave nothing behind.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{Server, media};
use reqwest::{Method, StatusCode};
use sha2::Digest;

const TUS: &str = "1.0.0";

fn b64(s: &str) -> String {
    STANDARD.encode(s)
}

async fn create(server: &Server, length: usize, metadata: &str) -> reqwest::Response {
    server
        .http
        .post(server.url("/api/uploads"))
        .header("Tus-Resumable", TUS)
        .header("Upload-Length", length.to_string())
        .header("Upload-Metadata", metadata)
        .send()
        .await
        .unwrap()
}

async fn patch(
    server: &Server,
    location: &str,
    offset: usize,
    bytes: &[u8],
    checksum: Option<String>,
) -> reqwest::Response {
    let mut req = server
        .http
        .patch(server.url(location))
        .header("Tus-Resumable", TUS)
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", offset.to_string())
        .body(bytes.to_vec());
    if let Some(sum) = checksum {
        req = req.header("Upload-Checksum", sum);
    }
    req.send()
        .await
        .unwrap_or_else(|e| panic!("PATCH {location}: {e}\n{}", server.log_tail()))
}

async fn offset(server: &Server, location: &str) -> (StatusCode, Option<usize>) {
    let r = server
        .http
        .request(Method::HEAD, server.url(location))
        .header("Tus-Resumable", TUS)
        .send()
        .await
        .unwrap();
    let at = r
        .headers()
        .get("upload-offset")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (r.status(), at)
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256 {}", STANDARD.encode(sha2::Sha256::digest(bytes)))
}

/// A raw connection that has sent the head of a PATCH announcing `len` bytes at `offset`
/// (for what a client library cannot do: stall, hang up, announce more than it sends).
fn raw_patch(server: &Server, location: &str, offset: usize, len: usize) -> std::net::TcpStream {
    let mut s = std::net::TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    write!(
        s,
        "PATCH {location} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nTus-Resumable: {TUS}\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n",
        server.admin_token
    )
    .unwrap();
    s
}

#[tokio::test]
async fn a_cut_upload_resumes_from_the_server_offset_and_ends_ready() {
    let server = Server::start(&[]);
    let file = std::fs::read(media("bbb-720p-h264-aac.mp4")).unwrap();
    let metadata = format!(
        "filename {},title {},privacy {},tags {}",
        b64("bbb.mp4"),
        b64("Resumed upload"),
        b64("public"),
        b64("tus, Resumable")
    );
    let r = create(&server, file.len(), &metadata).await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["tus-resumable"], TUS);
    assert!(r.headers().contains_key("upload-expires"));
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let id = r.headers()["kino-video-id"].to_str().unwrap().to_string();
    assert_eq!(location, format!("/api/uploads/{id}"));

    // Until the last byte the video is its owner's alone.
    let v = server.video(&id).await;
    assert_eq!(
        (v["status"].as_str(), v["title"].as_str()),
        (Some("uploading"), Some("Resumed upload"))
    );
    assert_eq!(v["tags"], serde_json::json!(["tus", "resumable"]));
    assert_eq!(
        server
            .anon
            .get(server.url(&format!("/api/videos/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let library: serde_json::Value = server
        .anon
        .get(server.url("/api/videos"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(library["total"], 0, "{library}");

    // The first 400 kB.
    let r = patch(&server, &location, 0, &file[..400_000], None).await;
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["upload-offset"], "400000");
    assert_eq!(r.headers()["kino-video-id"], id.as_str());

    // The next request is cut after 300 kB: what arrived is kept.
    let mut s = raw_patch(&server, &location, 400_000, file.len() - 400_000);
    s.write_all(&file[400_000..700_000]).unwrap();
    s.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    drop(s);
    let deadline = Instant::now() + Duration::from_secs(10);
    let resumed_at = loop {
        let (status, at) = offset(&server, &location).await;
        assert_eq!(status, 200);
        let at = at.unwrap();
        if at > 400_000 {
            break at;
        }
        assert!(Instant::now() < deadline, "the cut request's bytes were not kept");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(resumed_at <= 700_000, "{resumed_at}");

    // A forged offset, more bytes than are left, and a wrong checksum change nothing.
    assert_eq!(patch(&server, &location, 0, &file[..10], None).await.status(), 409);
    // (Announced only: the server answers from `Content-Length` before reading a byte.)
    let mut s = raw_patch(&server, &location, resumed_at, file.len() - resumed_at + 1);
    let mut answer = [0u8; 12];
    std::io::Read::read_exact(&mut s, &mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 413");
    drop(s);
    let rest = &file[resumed_at..];
    let r = patch(&server, &location, resumed_at, rest, Some(sha256(b"something else"))).await;
    assert_eq!(r.status().as_u16(), 460);
    assert_eq!(offset(&server, &location).await.1, Some(resumed_at));

    // The rest, checksummed: the upload is complete and becomes a video to transcode.
    let r = patch(&server, &location, resumed_at, rest, Some(sha256(rest))).await;
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["upload-offset"], file.len().to_string().as_str());
    assert_eq!(
        offset(&server, &location).await.0,
        404,
        "a finished upload is no longer in progress"
    );
    let v = server.wait_done(&id, Duration::from_secs(300)).await;
    assert_eq!(v["status"], "ready", "{v}");
    assert_eq!(v["source_bytes"], file.len());
    let original = server.bytes(v["download_url"].as_str().unwrap()).await;
    assert!(original == file, "the joined source differs from the file");
    assert!(server.blobs("uploads/").await.is_empty(), "chunks left behind");
}

#[tokio::test]
async fn strangers_termination_expiry_and_bad_requests() {
    let server = Server::start(&[("KINO_UPLOADS__EXPIRE_HOURS", "0.0006")]);
    let file = std::fs::read(media("bbb-opus-audio-only.webm")).unwrap();

    // Creation with upload: the first bytes ride on the POST.
    let r = server
        .http
        .post(server.url("/api/uploads/"))
        .header("Tus-Resumable", TUS)
        .header("Upload-Length", file.len().to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(file[..1000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["upload-offset"], "1000");
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let id = r.headers()["kino-video-id"].to_str().unwrap().to_string();

    // Another uploader cannot see or continue it.
    let out = common::kino_cli(
        &server.data_dir,
        &["users", "create", "mallory", "--role", "uploader", "--password-stdin"],
        "mallory-password-1\n",
    );
    assert!(out.status.success());
    let out = common::kino_cli(
        &server.data_dir,
        &["tokens", "create", "mallory", "--scope", "read,upload"],
        "",
    );
    let mallory = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let r = server
        .anon
        .request(Method::HEAD, server.url(&location))
        .bearer_auth(&mallory)
        .header("Tus-Resumable", TUS)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = server
        .anon
        .request(Method::HEAD, server.url(&location))
        .header("Tus-Resumable", TUS)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Protocol errors.
    let r = server
        .http
        .request(Method::HEAD, server.url(&location))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 412, "no Tus-Resumable");
    assert_eq!(r.headers()["tus-version"], TUS);
    let r = server
        .http
        .post(server.url("/api/uploads"))
        .header("Tus-Resumable", TUS)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "no Upload-Length");
    assert_eq!(create(&server, 1 << 50, "").await.status(), 413);
    assert_eq!(
        create(&server, 10, "privacy bm9wZQ==").await.status(),
        400,
        "privacy `nope`"
    );
    let r = server
        .http
        .patch(server.url(&location))
        .header("Tus-Resumable", TUS)
        .header("Upload-Offset", "1000")
        .body(vec![0u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let options = server
        .http
        .request(Method::OPTIONS, server.url("/api/uploads"))
        .send()
        .await
        .unwrap();
    assert_eq!(options.status(), 204);
    assert!(
        options.headers()["tus-extension"]
            .to_str()
            .unwrap()
            .contains("termination")
    );

    // Termination removes the video and its bytes.
    let r = server
        .http
        .delete(server.url(&location))
        .header("Tus-Resumable", TUS)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        server
            .http
            .get(server.url(&format!("/api/videos/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert!(server.blobs("uploads/").await.is_empty());

    // An upload left unfinished expires (here after ~2 s) with its bytes.
    let r = create(&server, file.len(), "").await;
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let id = r.headers()["kino-video-id"].to_str().unwrap().to_string();
    assert_eq!(patch(&server, &location, 0, &file[..500], None).await.status(), 204);
    let deadline = Instant::now() + Duration::from_secs(15);
    while server
        .http
        .get(server.url(&format!("/api/videos/{id}")))
        .send()
        .await
        .unwrap()
        .status()
        != 404
    {
        assert!(Instant::now() < deadline, "the expired upload is still there");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The row goes first, then the chunks.
    while !server.blobs("uploads/").await.is_empty() {
        assert!(Instant::now() < deadline, "the expired upload's chunks are still there");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The uploader the Upload page bundles (tus-js-client, from `web/node_modules`), run by Node:
/// stopped after two chunks, resumed by a second client that knows only the upload URL.
#[tokio::test]
async fn tus_js_client_resumes_from_the_server_offset() {
    let server = Server::start(&[]);
    let file = media("bbb-720p-h264-aac.mp4");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/tus-resume.mjs");
    let out = std::process::Command::new("node")
        .arg(script)
        .arg(&server.base)
        .arg(&server.admin_token)
        .arg(&file)
        .output()
        .expect("node (scripts/setup.sh installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tus-resume.mjs failed: {stdout}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log_tail()
    );
    let summary: serde_json::Value = serde_json::from_str(stdout.trim().lines().last().unwrap()).unwrap();
    assert_eq!(summary["stopped_at"], 2 * 256 * 1024, "{summary}");
    assert_eq!(summary["resumed_from"], summary["stopped_at"], "{summary}");
    let id = summary["video_id"].as_str().unwrap();
    let v = server.wait_done(id, Duration::from_secs(300)).await;
    assert_eq!(v["status"], "ready", "{v}");
    assert_eq!(v["source_bytes"], summary["length"]);
}

/// Two requests racing at one offset (a client retrying while its first attempt still
/// drains): each writes a chunk of its own, the one recorded first counts, the other gets 409
/// and removes only its own chunk, and the joined source is exact.
#[tokio::test]
async fn two_requests_at_one_offset_never_spoil_each_others_bytes() {
    use std::io::Read;
    let server = Server::start(&[]);
    let file = std::fs::read(media("bbb-720p-h264-aac.mp4")).unwrap();
    let r = create(&server, file.len(), "").await;
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let id = r.headers()["kino-video-id"].to_str().unwrap().to_string();
    assert_eq!(patch(&server, &location, 0, &file[..400_000], None).await.status(), 204);

    let rest = &file[400_000..];
    // The slow attempt starts first and stalls after 100 kB…
    let mut slow = raw_patch(&server, &location, 400_000, rest.len());
    slow.write_all(&rest[..100_000]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // …while the retry sends everything and wins.
    let r = patch(&server, &location, 400_000, rest, None).await;
    assert_eq!(r.status(), 204);
    // The slow one finishes and loses.
    slow.write_all(&rest[100_000..]).unwrap();
    let mut answer = String::new();
    slow.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 409"), "{answer}");

    let v = server.wait_done(&id, Duration::from_secs(300)).await;
    assert_eq!(v["status"], "ready", "{v}");
    let original = server.bytes(v["download_url"].as_str().unwrap()).await;
    assert!(original == file, "the joined source differs from the file");
    assert!(server.blobs("uploads/").await.is_empty(), "chunks left behind");
}
