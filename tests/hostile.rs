//! Hostile clients against the running server, with raw sockets where the attack lives below
//! HTTP libraries: stalled request bodies (408 after `http.body_idle_secs`), the cap on open
//! connections, and oversized tag lists (refused before parsing).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::Server;

fn connect(server: &Server) -> TcpStream {
    let s = TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s
}

/// Reads everything until the server closes the connection (or the read timeout).
fn read_all(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn stalled_bodies_end_with_408_and_leave_nothing_behind() {
    let server = Server::start(&[("KINO_HTTP__BODY_IDLE_SECS", "1")]);

    // Sign-in announcing a megabyte and sending three bytes.
    let mut signin = connect(&server);
    write!(
        signin,
        "POST /api/auth/signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{{\"u"
    )
    .unwrap();
    let start = Instant::now();
    let answer = read_all(&mut signin);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/json"), "{answer}");
    assert!(answer.contains("stalled"), "{answer}");
    assert!(start.elapsed() < Duration::from_secs(10), "held {:?}", start.elapsed());

    // An upload announcing 2 GB that stalls after its first bytes: 408, and no video or
    // stored source remains.
    let mut upload = connect(&server);
    let head = "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\nContent-Type: video/mp4\r\n\r\nabc";
    write!(
        upload,
        "POST /api/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 2000000000\r\n\r\n{head}",
        server.admin_token
    )
    .unwrap();
    let answer = read_all(&mut upload);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let mine: serde_json::Value = server
        .http
        .get(server.url("/api/me/videos"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["total"], 0, "{mine}");
    assert!(server.blobs("sources/").await.is_empty());

    // The server is fine.
    assert_eq!(server.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn connections_past_the_cap_are_closed_at_once() {
    let server = Server::start(&[
        ("KINO_HTTP__MAX_CONNECTIONS", "4"),
        ("KINO_HTTP__HEADER_READ_TIMEOUT_SECS", "30"),
    ]);
    // Four connections that send nothing hold every slot.
    let mut held: Vec<TcpStream> = (0..4).map(|_| connect(&server)).collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = connect(&server);
    let _ = write!(extra, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    let start = Instant::now();
    let answer = read_all(&mut extra);
    assert!(answer.is_empty(), "a connection past the cap was served: {answer}");
    assert!(start.elapsed() < Duration::from_secs(5), "held {:?}", start.elapsed());

    // Freeing a slot lets the next client in.
    drop(held.pop());
    std::thread::sleep(Duration::from_millis(300));
    let mut next = connect(&server);
    write!(next, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let answer = read_all(&mut next);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn thousands_of_tags_are_refused_before_parsing() {
    let server = Server::start(&[]);
    let tags: String = (0..10_342).map(|i| format!("t{i},")).collect();
    let resp = server
        .anon
        .get(server.url(&format!("/api/videos?tag={tags}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("tags"), "{body}");

    // The same cap holds for PATCH (200k tags) on a real video.
    let (code, v) = server.upload(&common::media("bad-not-a-video.mp4"), None).await;
    assert_eq!(code, 201);
    let id = v["id"].as_str().unwrap();
    let many: Vec<String> = (0..200_000).map(|i| format!("t{i}")).collect();
    let resp = server
        .http
        .patch(server.url(&format!("/api/videos/{id}")))
        .json(&serde_json::json!({ "tags": many }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = server
        .http
        .patch(server.url(&format!("/api/videos/{id}")))
        .json(&serde_json::json!({ "tags": ["ok", "Fine Tag"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["tags"], serde_json::json!(["ok", "fine-tag"]));
}
