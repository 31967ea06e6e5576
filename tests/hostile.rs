//! Hostile clients against the running server, with raw sockets where the attack lives below
//! HTTP libraries: stalled request bodies (408 after `http.body_idle_secs`), the cap on open
//! connections, oversized tag lists (refused before parsing), oversized multipart part headers,
//! oversized WebSocket messages and too many sockets, and the headers and JSON bodies every
//! answer carries.

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
    let mine: serde_json::Value = server.json("/api/me/videos").await;
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

/// Sends `head` then `body` on a raw connection from a writer thread (ignoring write errors:
/// the server may answer and close early) and returns everything the server answered.
fn exchange(server: &Server, head: String, body: Vec<u8>) -> String {
    let mut s = connect(server);
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = w.write_all(head.as_bytes());
        for piece in body.chunks(16 * 1024) {
            if w.write_all(piece).is_err() {
                break;
            }
        }
    });
    let answer = read_all(&mut s);
    let _ = writer.join();
    answer
}

#[tokio::test]
async fn an_upload_form_with_huge_part_headers_is_refused_and_leaves_nothing() {
    let server = Server::start(&[]);
    // A part header block of 4 MiB with no blank line ending it: the parser would hold all
    // of it. It is refused once 64 KiB of form overhead is passed.
    let mut body = b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\nX-Pad: ".to_vec();
    body.extend(std::iter::repeat_n(b'a', 4 * 1024 * 1024));
    let head = format!(
        "POST /api/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: {}\r\n\r\n",
        server.admin_token,
        body.len()
    );
    let answer = exchange(&server, head, body);
    assert!(
        answer.starts_with("HTTP/1.1 400"),
        "{}",
        &answer[..answer.len().min(400)]
    );
    assert!(answer.contains("outside its parts"), "{answer}");
    assert!(server.blobs("sources/").await.is_empty());

    // A form whose parts are ordinary still uploads.
    let (code, _) = server.upload(&common::media("bad-not-a-video.mp4"), Some("fine")).await;
    assert_eq!(code, 201);
}

#[tokio::test]
async fn live_sockets_cap_client_messages_and_sockets_per_address() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

    let server = Server::start(&[("KINO_HTTP__LIVE_SOCKETS_PER_ADDRESS", "2")]);
    let (code, v) = server.upload(&common::media("bad-not-a-video.mp4"), None).await;
    assert_eq!(code, 201);
    let url = format!(
        "{}/api/videos/{}/live",
        server.base.replace("http://", "ws://"),
        v["id"].as_str().unwrap()
    );
    let open = || {
        let mut req = url.as_str().into_client_request().unwrap();
        req.headers_mut().insert(
            "Authorization",
            format!("Bearer {}", server.admin_token).parse().unwrap(),
        );
        tokio_tungstenite::connect_async(req)
    };
    let (mut first, _) = open().await.expect("first socket");
    let (_second, _) = open().await.expect("second socket");
    match open().await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 429),
        other => panic!("a third socket from one address was not refused with 429: {other:?}"),
    }

    // A 64 KiB message ends the socket (the route reads nothing from clients)…
    let _ = first.send(Message::Binary(vec![0u8; 64 * 1024].into())).await;
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match first.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "a 64 KiB client message did not end the socket");
    // …and gives its place back.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match open().await {
            Ok(_) => break,
            Err(e) if Instant::now() > deadline => panic!("the closed socket's place was not given back: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

#[tokio::test]
async fn every_answer_is_nosniff_framed_by_no_one_and_errors_are_json() {
    let server = Server::start(&[]);
    for path in ["/", "/watch/abc", "/api/videos", "/assets/app.js", "/healthz"] {
        let resp = server.get(path).await;
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff", "{path}");
        let csp = resp.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    }
    let page = server.get("/").await;
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );

    // An original gets the resource policy: no scripts, sandboxed.
    let (code, v) = server.upload(&common::media("bad-not-a-video.mp4"), None).await;
    assert_eq!(code, 201);
    let original = server
        .http
        .get(server.url(&format!("/media/{}/original", v["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(original.status(), 200);
    assert_eq!(original.headers()["x-content-type-options"], "nosniff");
    assert!(
        original.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );

    // Extractor rejections and routing errors answer JSON with a reason.
    let json_error = |resp: reqwest::Response| async move {
        let status = resp.status().as_u16();
        let kind = resp.headers()["content-type"].to_str().unwrap().to_string();
        let body: serde_json::Value = resp
            .json()
            .await
            .unwrap_or_else(|e| panic!("{status} {kind}: not JSON: {e}"));
        assert!(kind.starts_with("application/json"), "{status}: {kind}");
        assert!(!body["error"].as_str().unwrap().is_empty(), "{body}");
        status
    };
    let post = |path: &str| server.anon.post(server.url(path));
    assert_eq!(
        json_error(
            post("/api/auth/signin")
                .body("{")
                .header("content-type", "application/json")
                .send()
                .await
                .unwrap()
        )
        .await,
        400
    );
    assert_eq!(
        json_error(post("/api/auth/signin").body("{}").send().await.unwrap()).await,
        415
    );
    assert_eq!(
        json_error(
            post("/api/auth/signin")
                .json(&serde_json::json!({"x": 1}))
                .send()
                .await
                .unwrap()
        )
        .await,
        422
    );
    assert_eq!(json_error(server.get("/api/videos?page=many").await).await, 400);
    assert_eq!(
        json_error(server.anon.delete(server.url("/api/videos")).send().await.unwrap()).await,
        405
    );
    assert_eq!(json_error(server.get("/api/nothing-here").await).await, 404);
    let big = "x".repeat(3 * 1024 * 1024);
    assert_eq!(
        json_error(
            post("/api/auth/signin")
                .json(&serde_json::json!({"username": big}))
                .send()
                .await
                .unwrap()
        )
        .await,
        413
    );
}
