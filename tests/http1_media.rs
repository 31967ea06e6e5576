//! Kino's own HTTP/1.1 connection loop for media files (`src/http/http1_media.rs`,
//! `http.sendfile`), spoken to over raw TCP: keep-alive, pipelining, HEAD framing, a head
//! arriving in pieces, `Connection: close`, the hand-over to hyper in the middle of a
//! connection, requests it leaves to hyper (HTTP/1.0, malformed and oversized heads, a `#` in
//! the path), 304 framing for GET and HEAD, clients that go away
//! in the middle of a body (no stream permit is lost), and the header-read timeout on idle and
//! slow connections. That its answers are the router's, header by header, is
//! `tests/direct.rs`'s job.

mod common;

use std::time::{Duration, Instant};

use common::{Server, media};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One HTTP/1.1 response read off a connection.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A client connection: what it has read beyond the last answer is kept for the next one.
struct Conn {
    tcp: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(server: &Server) -> Conn {
        let addr = server.base.trim_start_matches("http://").to_string();
        Conn {
            tcp: TcpStream::connect(addr).await.unwrap(),
            buf: Vec::new(),
        }
    }

    async fn send(&mut self, text: &str) {
        self.tcp.write_all(text.as_bytes()).await.unwrap();
    }

    /// Reads one answer; `head_only` for an answer to a HEAD (no body whatever its length).
    async fn answer(&mut self, head_only: bool) -> Answer {
        let (status, headers, head_len) = loop {
            let mut fields = [httparse::EMPTY_HEADER; 64];
            let mut resp = httparse::Response::new(&mut fields);
            if let httparse::Status::Complete(n) = resp.parse(&self.buf).unwrap() {
                let headers = resp
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_ascii_lowercase(),
                            String::from_utf8_lossy(h.value).to_string(),
                        )
                    })
                    .collect::<Vec<_>>();
                break (resp.code.unwrap(), headers, n);
            }
            self.fill().await;
        };
        self.buf.drain(..head_len);
        let mut answer = Answer {
            status,
            headers,
            body: Vec::new(),
        };
        let length: usize = answer.header("content-length").map_or(0, |v| v.parse().unwrap());
        let length = if head_only || status == 304 { 0 } else { length };
        while self.buf.len() < length {
            self.fill().await;
        }
        answer.body = self.buf.drain(..length).collect();
        answer
    }

    async fn fill(&mut self) {
        let mut chunk = vec![0u8; 256 * 1024];
        let n = tokio::time::timeout(Duration::from_secs(30), self.tcp.read(&mut chunk))
            .await
            .expect("an answer within 30 s")
            .unwrap();
        assert!(n > 0, "the server closed the connection mid-answer");
        self.buf.extend_from_slice(&chunk[..n]);
    }

    /// True when the server closes the connection within `within` (nothing more to read).
    async fn closed_within(&mut self, within: Duration) -> bool {
        let mut chunk = [0u8; 1024];
        matches!(
            tokio::time::timeout(within, self.tcp.read(&mut chunk)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }
}

fn get(path: &str, extra: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: kino\r\n{extra}\r\n")
}

/// Answers written by Kino's connection loop so far (its debug log).
fn own_loop_answers(server: &Server) -> usize {
    server.log_count("answered on Kino's connection loop")
}

#[tokio::test]
async fn connections_are_served_by_kinos_loop_and_handed_to_hyper_intact() {
    let server = Server::start(&[
        ("KINO_LOG", "info,kino::http::http1_media=debug"),
        ("KINO_HTTP__HEADER_READ_TIMEOUT_SECS", "1"),
        ("KINO_HTTP__MAX_STREAMS", "2"),
        // Bodies from the file (sendfile), not from the hot-segment cache.
        ("KINO_HTTP__SEGMENT_CACHE_BYTES", "0"),
    ]);
    let id = server.upload_ok(&media("bbb-720p-h264-aac.mp4")).await;
    let v = server.wait_done(&id, Duration::from_secs(300)).await;
    assert_eq!(v["status"], "ready", "{v}");
    let rendition = v["renditions"][0]["name"].as_str().unwrap().to_string();
    let playlist = format!("/hls/{id}/{rendition}/index.m3u8");
    let playlist_bytes = server.bytes(&playlist).await;
    let text = String::from_utf8(playlist_bytes.clone()).unwrap();
    let name = text.lines().find(|l| l.ends_with(".m4s")).unwrap().to_string();
    let segment = format!("/hls/{id}/{rendition}/{name}");
    let seg = server.bytes(&segment).await;
    assert!(seg.len() > 10_000, "a segment of {} bytes", seg.len());
    let before = own_loop_answers(&server);

    // Keep-alive: several answers on one connection, each framed by its Content-Length.
    let mut conn = Conn::open(&server).await;
    conn.send(&get(&segment, "")).await;
    let a = conn.answer(false).await;
    assert_eq!((a.status, a.body.len()), (200, seg.len()));
    assert!(a.body == seg, "the whole segment's bytes");
    assert!(a.header("date").is_some_and(|d| d.ends_with(" GMT")), "{:?}", a.headers);
    assert_eq!(a.header("cache-control"), Some("public, max-age=31536000, immutable"));
    conn.send(&get(&segment, "Range: bytes=100-199\r\n")).await;
    let a = conn.answer(false).await;
    assert_eq!(a.status, 206);
    assert_eq!(
        a.header("content-range"),
        Some(format!("bytes 100-199/{}", seg.len()).as_str())
    );
    assert!(a.body == seg[100..200]);
    conn.send(&format!("HEAD {segment} HTTP/1.1\r\nHost: kino\r\n\r\n"))
        .await;
    let a = conn.answer(true).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.header("content-length"), Some(seg.len().to_string().as_str()));
    let etag = a.header("etag").unwrap().to_string();

    // Pipelined: three heads in one write, answered in order.
    conn.send(&format!(
        "{}{}{}",
        get(&segment, "Range: bytes=-10\r\n"),
        get(&segment, &format!("If-None-Match: {etag}\r\n")),
        get(&playlist, "")
    ))
    .await;
    let a = conn.answer(false).await;
    assert_eq!((a.status, a.body.as_slice()), (206, &seg[seg.len() - 10..]));
    let a = conn.answer(false).await;
    assert_eq!(a.status, 304);
    let a = conn.answer(false).await;
    assert_eq!((a.status, a.body.as_slice()), (200, playlist_bytes.as_slice()));
    assert_eq!(own_loop_answers(&server), before + 6, "six answers from Kino's loop");

    // Another route in the middle: hyper takes the connection with the bytes already read
    // (here, a rendition file pipelined behind it) and keeps it.
    conn.send(&format!(
        "{}{}",
        get("/healthz", ""),
        get(&segment, "Range: bytes=0-9\r\n")
    ))
    .await;
    let a = conn.answer(false).await;
    assert_eq!(a.status, 200, "{a:?}");
    let a = conn.answer(false).await;
    assert_eq!((a.status, a.body.as_slice()), (206, &seg[..10]));
    conn.send(&get(&segment, "")).await;
    let a = conn.answer(false).await;
    assert!(a.status == 200 && a.body == seg);
    assert_eq!(own_loop_answers(&server), before + 6, "hyper answered the rest");

    // A head in pieces is waited for; `Connection: close` closes after the answer.
    let mut conn = Conn::open(&server).await;
    let head = get(&segment, "Range: bytes=5-14\r\nConnection: close\r\n");
    let (first, rest) = head.split_at(20);
    conn.send(first).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    conn.send(rest).await;
    let a = conn.answer(false).await;
    assert_eq!((a.status, a.body.as_slice()), (206, &seg[5..15]));
    assert_eq!(a.header("connection"), Some("close"));
    assert!(
        conn.closed_within(Duration::from_secs(5)).await,
        "closed after Connection: close"
    );

    // What the loop leaves to hyper: HTTP/1.0, and a head it cannot parse (hyper's 400).
    let mut conn = Conn::open(&server).await;
    conn.send(&format!("GET {segment} HTTP/1.0\r\n\r\n")).await;
    let a = conn.answer(false).await;
    assert!(a.status == 200 && a.body == seg, "HTTP/1.0 through hyper: {}", a.status);
    let mut conn = Conn::open(&server).await;
    conn.send(&get(&segment, "Bad Header: x\r\n")).await;
    assert_eq!(conn.answer(false).await.status, 400);

    // A HEAD's 304 says the full length (RFC 9110 §8.6), a GET's none.
    let mut conn = Conn::open(&server).await;
    conn.send(&format!(
        "HEAD {segment} HTTP/1.1\r\nHost: kino\r\nIf-None-Match: {etag}\r\n\r\n"
    ))
    .await;
    let a = conn.answer(true).await;
    assert_eq!(a.status, 304);
    assert_eq!(a.header("content-length"), Some(seg.len().to_string().as_str()));
    conn.send(&get(&segment, &format!("If-None-Match: {etag}\r\n"))).await;
    let a = conn.answer(false).await;
    assert_eq!((a.status, a.header("content-length")), (304, None));

    // Left to hyper: a path `Uri` cuts at `#` (the router's 404), a head over the 128 KiB
    // limit (431).
    let mut conn = Conn::open(&server).await;
    conn.send(&format!(
        "GET /hls/{id}/{rendition}/#{name} HTTP/1.1\r\nHost: kino\r\n\r\n"
    ))
    .await;
    assert_eq!(conn.answer(false).await.status, 404);
    let mut conn = Conn::open(&server).await;
    conn.send(&get(&segment, &format!("X-Filler: {}\r\n", "a".repeat(140 * 1024))))
        .await;
    assert_eq!(conn.answer(false).await.status, 431);

    // Clients that leave mid-body release their stream permit (`http.max_streams` = 2 here):
    // the original (over 128 KiB: from a local file, sent with sendfile) to a client with a small receive
    // buffer, which leaves after a few bytes, five times; then two bodies at once are still
    // served, not refused with 503.
    let original = format!("/media/{id}/original");
    let original_bytes = server.bytes(&original).await;
    assert!(
        original_bytes.len() > 512 * 1024,
        "an original of {} bytes",
        original_bytes.len()
    );
    let sendfiles = |server: &Server| server.log_count("body=\"sendfile\"");
    let before = sendfiles(&server);
    let addr: std::net::SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    for _ in 0..5 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let mut tcp = socket.connect(addr).await.unwrap();
        tcp.write_all(get(&original, "").as_bytes()).await.unwrap();
        let mut some = [0u8; 64];
        let _ = tcp.read(&mut some).await.unwrap();
        drop(tcp);
    }
    // Only a local file goes out with sendfile; from S3 (the scale-out run) the body streams.
    let expected = if common::scale_out() { 0 } else { 5 };
    assert_eq!(
        sendfiles(&server),
        before + expected,
        "the original went out with sendfile (local files only)"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (mut one, mut two) = (Conn::open(&server).await, Conn::open(&server).await);
        one.send(&get(&original, "")).await;
        two.send(&get(&original, "")).await;
        let (a, b) = (one.answer(false).await, two.answer(false).await);
        if (a.status, b.status) == (200, 200) {
            assert!(a.body == original_bytes && b.body == original_bytes);
            break;
        }
        // The server may not have seen the last reset yet.
        assert!(
            Instant::now() < deadline,
            "permits were not released: {} {}",
            a.status,
            b.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The header-read timeout (1 s here) closes an idle keep-alive connection, timed from its
    // answer, and one whose head never completes.
    let mut idle = Conn::open(&server).await;
    idle.send(&get(&segment, "Range: bytes=0-0\r\n")).await;
    assert_eq!(idle.answer(false).await.status, 206);
    let started = Instant::now();
    assert!(
        idle.closed_within(Duration::from_secs(5)).await,
        "idle connection closed"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900),
        "closed after {waited:?}, before the timeout"
    );
    let mut slow = Conn::open(&server).await;
    slow.send(&format!("GET {segment} HTTP/1.1\r\nHost: ki")).await;
    assert!(slow.closed_within(Duration::from_secs(5)).await, "slow head cut off");

    // The server still serves.
    let mut conn = Conn::open(&server).await;
    conn.send(&get(&segment, "")).await;
    assert!(conn.answer(false).await.body == seg);
}
