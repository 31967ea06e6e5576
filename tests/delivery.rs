//! HTTP delivery against the running server: Range (RFC 9110 §14), conditional requests
//! (§13), HEAD, content types, cache headers and CORS, on a real processed video; and upload
//! limits and interrupted uploads that must leave nothing behind.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{Server, media};

async fn ready_video(server: &Server) -> String {
    let id = server.upload_ok(&media("bbb-720p-h264-aac.mp4")).await;
    let v = server.wait_done(&id, Duration::from_secs(300)).await;
    assert_eq!(v["status"], "ready", "{v}");
    id
}

/// Sends a raw HTTP/1.1 request and returns (status line + headers, body).
fn raw(server: &Server, request: &str) -> (String, Vec<u8>) {
    let addr = server.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.replace('\n', "\r\n").as_bytes()).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("header end");
    (
        String::from_utf8_lossy(&buf[..split]).into_owned(),
        buf[split + 4..].to_vec(),
    )
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test]
async fn original_download_honours_ranges_and_preconditions() {
    let server = Server::start(&[]);
    let id = ready_video(&server).await;
    let original = std::fs::read(media("bbb-720p-h264-aac.mp4")).unwrap();
    let size = original.len();
    let path = format!("/media/{id}/original");
    let req = |extra: &str| format!("GET {path} HTTP/1.1\nHost: x\nConnection: close\n{extra}\n");

    let (head, body) = raw(&server, &req(""));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, original);
    assert_eq!(header(&head, "accept-ranges"), Some("bytes"));
    assert_eq!(header(&head, "content-type"), Some("video/mp4"));
    assert!(
        header(&head, "content-disposition")
            .unwrap()
            .contains("bbb-720p-h264-aac.mp4")
    );
    let etag = header(&head, "etag").unwrap().to_string();
    let last_modified = header(&head, "last-modified").unwrap().to_string();
    assert!(etag.starts_with('"'), "strong ETag: {etag}");

    let (head, body) = raw(&server, &req("Range: bytes=0-99\n"));
    assert!(head.starts_with("HTTP/1.1 206"), "{head}");
    assert_eq!(
        header(&head, "content-range"),
        Some(format!("bytes 0-99/{size}").as_str())
    );
    assert_eq!(body, &original[..100]);

    let (head, body) = raw(&server, &req("Range: bytes=1000000-\n"));
    assert!(head.starts_with("HTTP/1.1 206"));
    assert_eq!(body, &original[1_000_000..]);

    let (head, body) = raw(&server, &req("Range: bytes=-500\n"));
    assert!(head.starts_with("HTTP/1.1 206"));
    assert_eq!(body, &original[size - 500..]);

    let (head, _) = raw(&server, &req(&format!("Range: bytes={size}-\n")));
    assert!(head.starts_with("HTTP/1.1 416"), "{head}");
    assert_eq!(header(&head, "content-range"), Some(format!("bytes */{size}").as_str()));

    for malformed in ["Range: bytes=abc\n", "Range: pages=1-2\n", "Range: bytes=9-1\n"] {
        let (head, body) = raw(&server, &req(malformed));
        assert!(head.starts_with("HTTP/1.1 200"), "{malformed}: {head}");
        assert_eq!(body.len(), size);
    }

    let (head, _) = raw(&server, &req(&format!("If-None-Match: {etag}\n")));
    assert!(head.starts_with("HTTP/1.1 304"), "{head}");
    assert_eq!(header(&head, "etag"), Some(etag.as_str()));
    let (head, _) = raw(&server, &req(&format!("If-Modified-Since: {last_modified}\n")));
    assert!(head.starts_with("HTTP/1.1 304"), "{head}");
    let (head, _) = raw(&server, &req("If-Match: \"something-else\"\n"));
    assert!(head.starts_with("HTTP/1.1 412"), "{head}");
    let (head, _) = raw(&server, &req("If-Unmodified-Since: Sat, 01 Jan 2000 00:00:00 GMT\n"));
    assert!(head.starts_with("HTTP/1.1 412"), "{head}");

    // If-Range: a matching validator keeps the range, a stale one gets the whole file.
    let (head, _) = raw(&server, &req(&format!("Range: bytes=0-9\nIf-Range: {etag}\n")));
    assert!(head.starts_with("HTTP/1.1 206"), "{head}");
    let (head, body) = raw(&server, &req("Range: bytes=0-9\nIf-Range: \"stale\"\n"));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body.len(), size);

    let (head, body) = raw(
        &server,
        &format!("HEAD {path} HTTP/1.1\nHost: x\nConnection: close\n\n"),
    );
    assert!(head.starts_with("HTTP/1.1 200"));
    assert_eq!(header(&head, "content-length"), Some(size.to_string().as_str()));
    assert!(body.is_empty());
}

#[tokio::test]
async fn hls_files_have_types_caching_and_cors() {
    let server = Server::start(&[]);
    let id = ready_video(&server).await;
    let r = server
        .http
        .get(server.url(&format!("/hls/{id}/master.m3u8")))
        .header("Origin", "https://elsewhere.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/vnd.apple.mpegurl");
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let exposed = r.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("content-range") && exposed.contains("etag"),
        "{exposed}"
    );
    // A player on another origin may send Range and validators (CORS preflight).
    let pre = server
        .anon
        .request(reqwest::Method::OPTIONS, server.url(&format!("/hls/{id}/master.m3u8")))
        .header("Origin", "https://elsewhere.example")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "range, if-none-match, if-range")
        .send()
        .await
        .unwrap();
    let allowed = pre.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for h in [
        "range",
        "if-none-match",
        "if-range",
        "if-modified-since",
        "authorization",
    ] {
        assert!(allowed.contains(h), "{h} not allowed in preflight: {allowed}");
    }

    let seg = server.get(&format!("/hls/{id}/720p/seg_00000.m4s")).await;
    assert_eq!(seg.status(), 200);
    assert_eq!(seg.headers()["content-type"], "video/mp4");
    assert_eq!(seg.headers()["cache-control"], "public, max-age=31536000, immutable");
    let etag = seg.headers()["etag"].clone();
    let again = server
        .http
        .get(server.url(&format!("/hls/{id}/720p/seg_00000.m4s")))
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    for bad in [
        format!("/hls/{id}/720p/..%2F..%2Fsources%2F{id}"),
        format!("/hls/{id}/1080p/index.m3u8"),
        format!("/hls/{id}/720p/.hidden"),
        "/hls/notanid/master.m3u8".to_string(),
        "/api/videos/nope".to_string(),
    ] {
        let r = server.get(&bad).await;
        assert_eq!(r.status(), 404, "{bad}");
    }
    let r = server.get("/api/videos/AAAAAAAAAAAA").await;
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "not found");
}

#[tokio::test]
async fn list_is_newest_first_and_paginated() {
    let server = Server::start(&[]);
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(server.upload_ok(&media("bad-not-a-video.mp4")).await);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The uploader's own listing: these files fail within moments, and failed videos leave
    // the public library (only their owner sees them).
    let page: serde_json::Value = server.get("/api/me/videos?per_page=2").await.json().await.unwrap();
    assert_eq!(page["total"], 3);
    let got: Vec<_> = page["videos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, [ids[2].clone(), ids[1].clone()]);
    let page2: serde_json::Value = server
        .get("/api/me/videos?per_page=2&page=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page2["videos"][0]["id"], ids[0].as_str());
    assert_ne!(ids[0], ids[1], "two uploads of the same file name never share an id");
}

#[tokio::test]
async fn oversized_upload_gets_413_and_leaves_nothing() {
    let server = Server::start(&[("KINO_MAX_UPLOAD_BYTES", "300000")]);
    // Over a raw connection: the server answers 413 and closes while the client may still be
    // writing the body, and an HTTP client that fails on the broken pipe would never read the
    // answer. The body is written from another thread, its errors ignored.
    let addr = server.base.trim_start_matches("http://").to_string();
    let token = server.admin_token.clone();
    let (status, body) = tokio::task::spawn_blocking(move || {
        let file = std::fs::read(media("bbb-720p-h264-aac.mp4")).unwrap();
        let boundary = "XyZ";
        let mut form = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.mp4\"\r\nContent-Type: video/mp4\r\n\r\n"
        )
        .into_bytes();
        form.extend_from_slice(&file);
        form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(s, "POST /api/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n", form.len()).unwrap();
        let mut writer = s.try_clone().unwrap();
        let sending = std::thread::spawn(move || {
            let _ = writer.write_all(&form);
        });
        let mut answer = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
            }
            let text = String::from_utf8_lossy(&answer);
            if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length: ").map(|v| v.trim().parse::<usize>().unwrap()));
                if length.is_some_and(|n| rest.len() >= n) {
                    break;
                }
            }
        }
        drop(s);
        let _ = sending.join();
        let text = String::from_utf8_lossy(&answer).to_string();
        let (head, rest) = text.split_once("\r\n\r\n").expect("an answer");
        let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, serde_json::from_str::<serde_json::Value>(rest).unwrap_or_default())
    })
    .await
    .unwrap();
    assert_eq!(status, 413, "{body}");
    assert!(body["error"].as_str().unwrap().contains("300000"));
    let list: serde_json::Value = server.get("/api/videos").await.json().await.unwrap();
    assert_eq!(list["total"], 0);
    assert_eq!(server.blobs("sources").await, Vec::<String>::new());
    // A small one still works.
    let (status, _) = server.upload(&media("bad-not-a-video.mp4"), None).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn interrupted_upload_leaves_nothing_and_form_without_file_is_refused() {
    let server = Server::start(&[]);
    let addr = server.base.trim_start_matches("http://").to_string();
    // Declare 5 MB, send the start of a file, then hang up.
    let boundary = "XyZ";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cut.mp4\"\r\nContent-Type: video/mp4\r\n\r\n"
    );
    let mut s = TcpStream::connect(&addr).unwrap();
    write!(s, "POST /api/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 5000000\r\n\r\n{head}", server.admin_token).unwrap();
    s.write_all(&std::fs::read(media("bbb-720p-h264-aac.mp4")).unwrap()[..200_000])
        .unwrap();
    drop(s);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let list: serde_json::Value = server.get("/api/videos").await.json().await.unwrap();
    assert_eq!(list["total"], 0, "an interrupted upload creates no video");
    assert!(
        server.blobs("sources").await.is_empty(),
        "an interrupted upload leaves no partial source"
    );

    let form = reqwest::multipart::Form::new().text("title", "no file");
    let r = server
        .http
        .post(server.url("/api/videos"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("`file`"));
}

#[tokio::test]
async fn pages_and_bundled_player_are_served_by_the_binary() {
    let server = Server::start(&[]);
    for (path, ty) in [
        ("/", "text/html"),
        ("/upload", "text/html"),
        ("/watch/AAAAAAAAAAAA", "text/html"),
        ("/assets/hls.min.js", "text/javascript"),
        ("/assets/app.css", "text/css"),
    ] {
        let r = server.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with(ty), "{path}");
    }
    let watch = String::from_utf8(server.bytes("/watch/AAAAAAAAAAAA").await).unwrap();
    assert!(watch.contains("/assets/hls.min.js"));
    // Every page gets the one shared header in its slot.
    for path in [
        "/",
        "/upload",
        "/signin",
        "/signup",
        "/me",
        "/search",
        "/u/admin",
        "/watch/AAAAAAAAAAAA",
    ] {
        let html = server.get(path).await.text().await.unwrap();
        assert!(html.contains(r#"<nav id="site-account""#), "{path}: no site header");
        assert!(
            !html.contains("<!-- site-header -->"),
            "{path}: header slot left unfilled"
        );
    }
    assert!(!watch.contains("https://"), "nothing is fetched from a CDN");
    assert_eq!(server.get("/healthz").await.status(), 200);
}
