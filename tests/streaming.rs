//! Delivery under load and misbehaviour, against the running server with raw sockets:
//! multipart/byteranges, the cap on ranges, the cap on concurrent streams (503 +
//! Retry-After), slow-header and idle connections cut off, disconnecting clients releasing
//! their file handles and memory, and graceful shutdown with a deadline.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Server, media};

/// Uploads a short real clip (public, so its original is anyone's to download) and waits until
/// it is processed, then makes that stored original a sparse file of `size` bytes: a big blob
/// without big writes.
async fn big_original(server: &Server, size: u64) -> String {
    let (code, v) = server.upload(&media("bbb-opus-audio-only.webm"), None).await;
    assert_eq!(code, 201);
    let id = v["id"].as_str().unwrap().to_string();
    let done = server.wait_done(&id, Duration::from_secs(120)).await;
    assert_eq!(done["status"], "ready", "{done}");
    let path = server.data_dir.join("media/sources").join(&id);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(size)
        .unwrap();
    id
}

fn connect(server: &Server) -> TcpStream {
    let s = TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Reads until the end of the response head; returns it and whatever body bytes came along.
fn read_head(s: &mut TcpStream) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "connection closed before the response head");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return (String::from_utf8_lossy(&buf[..i]).into_owned(), buf[i + 4..].to_vec());
        }
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn get(server: &Server, path: &str, extra: &str) -> (String, Vec<u8>) {
    let mut s = connect(server);
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n").unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let i = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    (String::from_utf8_lossy(&all[..i]).into_owned(), all[i + 4..].to_vec())
}

/// Descriptors of a process that a response holds: sockets and media files (not the
/// database pool's, which grows with load and stays).
fn pid_fds(pid: u32) -> usize {
    pid_fd_targets(pid)
        .iter()
        .filter(|t| t.starts_with("socket:") || t.contains("/media/"))
        .count()
}

/// What a process's descriptors point at, for failure messages.
fn pid_fd_targets(pid: u32) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .map(|p| p.display().to_string())
        .collect();
    v.sort();
    v
}

fn pid_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test]
async fn several_ranges_come_back_as_multipart_byteranges() {
    let server = Server::start(&[]);
    let (code, v) = server.upload(&media("bbb-720p-h264-aac.mp4"), None).await;
    assert_eq!(code, 201);
    let id = v["id"].as_str().unwrap();
    let original = std::fs::read(media("bbb-720p-h264-aac.mp4")).unwrap();
    let size = original.len();
    let path = format!("/media/{id}/original");

    let (head, body) = get(&server, &path, "Range: bytes=500-599, 0-99, -50\r\n");
    assert!(head.starts_with("HTTP/1.1 206"), "{head}");
    let ctype = header(&head, "content-type").unwrap();
    let boundary = ctype.strip_prefix("multipart/byteranges; boundary=").expect(ctype);
    assert_eq!(header(&head, "content-length").unwrap(), body.len().to_string());
    // Parts in ascending order, each with its own type and range (RFC 9110 §14.6).
    let text = String::from_utf8_lossy(&body);
    let want = [(0usize, 99usize), (500, 599), (size - 50, size - 1)];
    let mut rest: &[u8] = &body;
    for (start, end) in want {
        let delim = format!("--{boundary}\r\n");
        let at = rest
            .windows(delim.len())
            .position(|w| w == delim.as_bytes())
            .expect(&text);
        rest = &rest[at + delim.len()..];
        let head_end = rest.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let part_head = String::from_utf8_lossy(&rest[..head_end]).into_owned();
        assert!(part_head.contains("Content-Type: video/mp4"), "{part_head}");
        assert!(
            part_head.contains(&format!("Content-Range: bytes {start}-{end}/{size}")),
            "{part_head}"
        );
        rest = &rest[head_end + 4..];
        assert_eq!(&rest[..end - start + 1], &original[start..=end]);
        rest = &rest[end - start + 1..];
    }
    assert_eq!(rest, format!("\r\n--{boundary}--\r\n").as_bytes());

    // Overlapping and adjacent ranges are coalesced into one plain 206.
    let (head, body) = get(&server, &path, "Range: bytes=0-99, 50-149, 150-199\r\n");
    assert!(head.starts_with("HTTP/1.1 206"), "{head}");
    assert_eq!(
        header(&head, "content-range"),
        Some(format!("bytes 0-199/{size}").as_str())
    );
    assert_eq!(body, &original[..200]);

    // More than 32 ranges: the header is ignored (no amplification), the file sent once.
    let many: Vec<String> = (0..40).map(|i| format!("{}-{}", i * 1000, i * 1000 + 9)).collect();
    let (head, body) = get(&server, &path, &format!("Range: bytes={}\r\n", many.join(",")));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body.len(), size);

    // HEAD: the same headers, no body.
    let mut s = connect(&server);
    write!(s, "HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let text = String::from_utf8_lossy(&all);
    assert!(text.ends_with("\r\n\r\n"), "no body after HEAD: {text}");
    assert!(text.contains(&format!("content-length: {size}")), "{text}");
}

#[tokio::test]
async fn streams_past_the_cap_get_503_with_retry_after() {
    let server = Server::start(&[("KINO_HTTP__MAX_STREAMS", "2")]);
    let id = big_original(&server, 200_000_000).await;
    let path = format!("/media/{id}/original");
    let mut open = Vec::new();
    for _ in 0..2 {
        let mut s = connect(&server);
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let (head, _) = read_head(&mut s);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        open.push(s); // reading stops here: the stream stays busy
    }
    let (head, body) = get(&server, &path, "");
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert_eq!(header(&head, "retry-after"), Some("1"));
    assert!(String::from_utf8_lossy(&body).contains("limit of 2"));
    // Playlists and the API are not streams: they still answer.
    let (head, _) = get(&server, "/api/videos", "");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // A client leaving frees its slot at once.
    open.pop();
    let start = Instant::now();
    loop {
        let (head, _) = get(&server, &path, "Range: bytes=0-9\r\n");
        if head.starts_with("HTTP/1.1 206") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "slot never freed: {head}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn slow_headers_and_idle_keep_alive_connections_are_cut_off() {
    let server = Server::start(&[("KINO_HTTP__HEADER_READ_TIMEOUT_SECS", "1")]);
    // Slowloris: the head never completes.
    let mut slow = connect(&server);
    write!(slow, "GET /healthz HTTP/1.1\r\nHost: x\r\n").unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    let n = slow.read(&mut buf).unwrap_or(0);
    assert!(
        !String::from_utf8_lossy(&buf[..n]).contains("200 OK"),
        "an unfinished head got an answer"
    );
    // Closed (possibly after a 408), well before the 10 s read timeout.
    while slow.read(&mut buf).map(|n| n > 0).unwrap_or(false) {}
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "slow header held {:?}",
        start.elapsed()
    );

    // Idle keep-alive: one request answered, then silence → closed.
    let mut idle = connect(&server);
    write!(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let (head, _) = read_head(&mut idle);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let start = Instant::now();
    while idle.read(&mut buf).map(|n| n > 0).unwrap_or(false) {}
    let held = start.elapsed();
    assert!(
        held >= Duration::from_millis(500) && held < Duration::from_secs(5),
        "idle held {held:?}"
    );
    // The server is fine.
    let (head, _) = get(&server, "/healthz", "");
    assert!(head.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn five_hundred_slow_readers_leaving_release_files_and_memory() {
    let server = Server::start(&[]);
    let id = big_original(&server, 500_000_000).await;
    let path = format!("/media/{id}/original");
    let pid = server.pid();
    // Warm up the runtime and pools once, then take the baseline.
    let _ = get(&server, &path, "Range: bytes=0-1048575\r\n");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (fds0, rss0) = (pid_fds(pid), pid_rss_kib(pid));

    let mut readers = Vec::new();
    for _ in 0..500 {
        let mut s = connect(&server);
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        readers.push(s);
    }
    for s in &mut readers {
        let (head, _) = read_head(s);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let mut some = [0u8; 64 * 1024];
        s.read_exact(&mut some).unwrap(); // a slow reader: a little, then nothing
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (fds1, rss1) = (pid_fds(pid), pid_rss_kib(pid));
    // Each open response holds its socket and its file. The baseline may still count a few
    // keep-alive connections of the set-up's HTTP client, which the server's idle timeout
    // closes meanwhile, so sockets get a little slack and media files none.
    let files = |pid| pid_fd_targets(pid).iter().filter(|t| t.contains("/media/")).count();
    let open_files = files(pid);
    assert!(
        open_files >= 500,
        "{open_files} media files open for 500 slow responses"
    );
    assert!(fds1 + 4 >= fds0 + 1000, "fds {fds0} → {fds1}");
    let per_response_kib = rss1.saturating_sub(rss0) / 500;
    assert!(
        per_response_kib < 512,
        "{per_response_kib} KiB per slow response (RSS {rss0} → {rss1} KiB)"
    );

    drop(readers);
    let start = Instant::now();
    loop {
        let fds = pid_fds(pid);
        if fds <= fds0 + 2 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "file handles not released: {fds0} → {fds}: {:?}",
            pid_fd_targets(pid)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Buffers go back to the OS once streaming is quiet (within a second or two).
    let start = Instant::now();
    let rss2 = loop {
        let rss = pid_rss_kib(pid);
        if rss <= rss0 + 12 * 1024 || start.elapsed() > Duration::from_secs(5) {
            break rss;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!("RSS KiB: baseline {rss0}, 500 slow readers {rss1}, after {rss2}");
    assert!(
        rss2 <= rss0 + 12 * 1024,
        "memory not returned: baseline {rss0} KiB, during {rss1}, after {rss2}"
    );
    let (head, _) = get(&server, &path, "Range: bytes=0-9\r\n");
    assert!(head.starts_with("HTTP/1.1 206"), "{head}");
}

#[tokio::test]
async fn shutdown_lets_running_responses_finish_then_enforces_its_deadline() {
    let mut server = Server::start(&[("KINO_HTTP__SHUTDOWN_GRACE_SECS", "3")]);
    let id = big_original(&server, 500_000_000).await;
    let path = format!("/media/{id}/original");
    // A download that will finish: 20 MB, read at full speed after the signal.
    let mut quick = connect(&server);
    write!(
        quick,
        "GET {path} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-19999999\r\n\r\n"
    )
    .unwrap();
    let (head, mut got) = read_head(&mut quick);
    assert!(head.starts_with("HTTP/1.1 206"), "{head}");
    // One that never will: a reader that stalls.
    let mut stalled = connect(&server);
    write!(stalled, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let _ = read_head(&mut stalled);

    let pid = server.pid();
    unsafe { kill(pid as i32, 15) };
    let started = Instant::now();
    let mut buf = vec![0u8; 256 * 1024];
    while got.len() < 20_000_000 {
        let n = quick.read(&mut buf).unwrap();
        assert!(n > 0, "the in-flight response was cut at {} bytes", got.len());
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got.len(), 20_000_000);
    // New connections are refused once shutdown starts.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        TcpStream::connect(server.base.trim_start_matches("http://")).is_err(),
        "still accepting after SIGTERM"
    );
    let status = server.terminate(); // waits for the exit
    let took = started.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_secs(8),
        "the stalled client held shutdown for {took:?}"
    );
    drop(stalled);
}

unsafe extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}
