//! The fast paths of media delivery on the local media directory: hot segments answered from
//! memory must be byte-for-byte and header-for-header what the file gives (ranges, validators,
//! conditionals) and never outlive the file; and with nginx in front (`http.accel_redirect`),
//! Kino checks access and nginx sends the file.
//!
//! Local media directory only: `scripts/test.sh` leaves this binary out of the PostgreSQL + S3
//! run (with S3, segments go out by presigned or CDN redirects instead; see tests/cluster.rs).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Server, media};

async fn ready_video(server: &Server) -> String {
    let id = server.upload_ok(&media("bbb-720p-h264-aac.mp4")).await;
    let v = server.wait_done(&id, Duration::from_secs(300)).await;
    assert_eq!(v["status"], "ready", "{v}");
    id
}

fn segment_file(server: &Server, id: &str, name: &str) -> PathBuf {
    server.data_dir.join(format!("media/videos/{id}/hls/720p/{name}"))
}

async fn get(server: &Server, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = server.anon.get(server.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn hot_segments_answer_exactly_like_their_files_and_never_outlive_them() {
    let server = Server::start(&[]);
    let id = ready_video(&server).await;
    let path = format!("/hls/{id}/720p/seg_00000.m4s");
    let file = segment_file(&server, &id, "seg_00000.m4s");
    let disk = std::fs::read(&file).unwrap();
    assert!(disk.len() > 1000);

    // The first request reads the file, the second keeps it in memory, the rest are served
    // from there: every one the same bytes and validators. What the server process read
    // (`rchar` of /proc/PID/io: files and sockets) shows where the bytes came from.
    let pid = server.pid();
    let mut etags = Vec::new();
    let mut read = vec![bytes_read(pid)];
    for _ in 0..5 {
        let r = get(&server, &path, &[]).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-length"], disk.len().to_string().as_str());
        assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
        etags.push(r.headers()["etag"].to_str().unwrap().to_string());
        assert_eq!(r.bytes().await.unwrap(), disk.as_slice());
        read.push(bytes_read(pid));
    }
    assert!(etags.windows(2).all(|w| w[0] == w[1]), "{etags:?}");
    let n = disk.len() as u64;
    assert!(read[1] - read[0] >= n, "the first request reads the file: {read:?}");
    assert!(read[2] - read[1] >= n, "the second reads it into memory: {read:?}");
    assert!(
        read[5] - read[2] < n / 2,
        "three more requests read {} bytes for a {n}-byte segment: not from memory ({read:?})",
        read[5] - read[2]
    );
    let etag = etags[0].clone();

    // Ranges and conditionals from memory.
    let n = disk.len();
    let r = get(&server, &path, &[("Range", "bytes=100-199")]).await;
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], format!("bytes 100-199/{n}").as_str());
    assert_eq!(r.bytes().await.unwrap(), &disk[100..200]);
    let r = get(&server, &path, &[("Range", "bytes=-500")]).await;
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap(), &disk[n - 500..]);
    let r = get(&server, &path, &[("Range", "bytes=0-9,20-29")]).await;
    assert_eq!(r.status(), 206);
    let body = r.bytes().await.unwrap();
    let find = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    assert!(
        find(&disk[0..10]) && find(&disk[20..30]),
        "both parts in the multipart body"
    );
    let r = get(&server, &path, &[("Range", &format!("bytes={n}-"))]).await;
    assert_eq!(r.status(), 416);
    assert_eq!(r.headers()["content-range"], format!("bytes */{n}").as_str());
    let r = get(&server, &path, &[("If-None-Match", &etag)]).await;
    assert_eq!(r.status(), 304);
    let r = get(&server, &path, &[("If-Range", "\"other\""), ("Range", "bytes=0-9")]).await;
    assert_eq!(r.status(), 200, "If-Range with another tag: the whole file");
    let r = server.anon.head(server.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], n.to_string().as_str());

    // The file is replaced (as a new ladder replaces it): the next answer is the new file.
    let replacement: Vec<u8> = disk.iter().rev().copied().chain([1, 2, 3]).collect();
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, &replacement).unwrap();
    std::fs::rename(&tmp, &file).unwrap();
    for _ in 0..3 {
        let r = get(&server, &path, &[]).await;
        assert_eq!(r.status(), 200);
        assert_ne!(r.headers()["etag"].to_str().unwrap(), etag);
        assert_eq!(r.bytes().await.unwrap(), replacement.as_slice());
    }
    // Removed: 404, whatever memory holds.
    std::fs::remove_file(&file).unwrap();
    assert_eq!(get(&server, &path, &[]).await.status(), 404);

    // A private video's segments are served from memory too, but only to whoever may watch.
    server.set_privacy(&id, "private").await;
    let other = format!("/hls/{id}/720p/seg_00001.m4s");
    assert_eq!(get(&server, &other, &[]).await.status(), 404);
    let owner = server.http.get(server.url(&other)).send().await.unwrap();
    assert_eq!(owner.status(), 200);
    assert_eq!(owner.headers()["cache-control"], "private, no-store");
}

/// Bytes process `pid` has read so far through read-like calls (files and sockets).
fn bytes_read(pid: u32) -> u64 {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap();
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("rchar in /proc/PID/io")
}

/// nginx in front of one Kino node, set up as `deploy/nginx-kino.conf` describes for
/// `http.accel_redirect`.
struct Nginx {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Nginx {
    fn start(kino: &str, media_dir: &Path) -> Nginx {
        let bin = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("nginx is not installed: run scripts/setup.sh --test");
        let dir = tempfile::Builder::new().prefix("kino-nginx-").tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let prefix = dir.path().display();
        let upstream = kino.trim_start_matches("http://");
        let conf = format!(
            r#"worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    sendfile on;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream kino {{ server {upstream}; keepalive 8; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://kino;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
        }}
        location /_kino_media/ {{
            internal;
            alias {media}/;
            include {snippet};
        }}
    }}
}}
"#,
            media = media_dir.display(),
            snippet = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("deploy/nginx-kino-media.conf")
                .display()
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let mut child = Command::new(bin)
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Nginx { child, url, _dir: dir };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "nginx did not start: {}",
            std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
        );
    }
}

impl Drop for Nginx {
    /// SIGTERM (nginx's fast shutdown: the master stops its workers), then SIGKILL if it lingers.
    /// A SIGKILLed master would leave its worker running, holding the port and every file
    /// descriptor the test process had open.
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        for _ in 0..60 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Makes `dir` and its files readable by nginx's worker (which may run as another user).
fn open_up(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut p = dir.to_path_buf();
    loop {
        if let Ok(meta) = std::fs::metadata(&p) {
            let mode = meta.permissions().mode();
            let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode | 0o755));
        }
        if !p.pop() || p.as_os_str() == "/" || p == std::env::temp_dir() {
            break;
        }
    }
}

#[tokio::test]
async fn behind_nginx_kino_checks_access_and_nginx_sends_the_file() {
    let server = Server::start(&[("KINO_HTTP__ACCEL_REDIRECT", "/_kino_media/")]);
    let id = ready_video(&server).await;
    let media_dir = server.data_dir.join("media");
    for entry in walk(&media_dir) {
        open_up(&entry);
    }
    let nginx = Nginx::start(&server.base, &media_dir);
    let client = reqwest::Client::new();
    let segment = format!("/hls/{id}/720p/seg_00000.m4s");
    let disk = std::fs::read(segment_file(&server, &id, "seg_00000.m4s")).unwrap();

    // Kino itself answers with the hand-off and no body.
    let r = server.anon.get(server.url(&segment)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["x-accel-redirect"],
        format!("/_kino_media/videos/{id}/hls/720p/seg_00000.m4s").as_str()
    );
    assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert!(r.bytes().await.unwrap().is_empty());

    // Through nginx: the file, with Kino's content type and caching, and nginx's ranges.
    let r = client.get(format!("{}{segment}", nginx.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "video/mp4");
    assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert!(r.headers().get("x-accel-redirect").is_none());
    // What Kino's own media responses carry, from deploy/nginx-kino-media.conf.
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.unwrap(), disk.as_slice());
    let r = client
        .get(format!("{}{segment}", nginx.url))
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap(), &disk[100..200]);
    let r = client
        .get(format!("{}/hls/{id}/master.m3u8", nginx.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/vnd.apple.mpegurl");
    assert!(r.text().await.unwrap().starts_with("#EXTM3U"));
    let r = client
        .get(format!("{}/media/{id}/original", nginx.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(
        r.bytes().await.unwrap().len() as u64,
        std::fs::metadata(media("bbb-720p-h264-aac.mp4")).unwrap().len()
    );

    // Kino's refusals and 404s come through; the internal location is not reachable.
    let r = client
        .get(format!("{}/hls/{id}/720p/seg_99999.m4s", nginx.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/json");
    let r = client
        .get(format!("{}/_kino_media/videos/{id}/hls/720p/seg_00000.m4s", nginx.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "the media directory is internal to nginx");
    server.set_privacy(&id, "private").await;
    let r = client.get(format!("{}{segment}", nginx.url)).send().await.unwrap();
    assert_eq!(r.status(), 404, "a private video's segment needs access first");
}

/// Every directory under `dir` and `dir` itself.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        if let Ok(entries) = std::fs::read_dir(&out[i]) {
            for e in entries.flatten() {
                if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    out.push(e.path());
                }
            }
        }
        i += 1;
    }
    out
}
