//! Test harness: starts the real `kino` binary on a random port with its own data directory,
//! talks to it over real HTTP, and inspects what it produced with real ffprobe.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The shared test media (`../shared/media` beside the repository).
pub fn media(name: &str) -> PathBuf {
    let dir = std::env::var("TEST_MEDIA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/media"));
    let path = dir.join(name);
    assert!(
        path.exists(),
        "test media {} is missing (set TEST_MEDIA_DIR to the media folder)",
        path.display()
    );
    path
}

/// A running `kino serve`.
pub struct Server {
    child: Child,
    pub base: String,
    pub data_dir: PathBuf,
    _owned: Option<tempfile::TempDir>,
    /// A client that sends the admin's API token on every request.
    pub http: reqwest::Client,
    /// A client with no credentials.
    pub anon: reqwest::Client,
    /// API token (scopes read, upload, admin) of the `admin` account every test server has.
    pub admin_token: String,
}

/// Runs `kino ARGS --data-dir DIR` to completion, feeding `stdin`; returns its output.
pub fn kino_cli(data_dir: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_kino"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kino");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// The admin account of a test data directory and an API token for it, made once per
/// directory with the operator commands (`kino users create`, `kino tokens create`).
fn admin_token(data_dir: &Path) -> String {
    let saved = data_dir.join("admin-token.txt");
    if let Ok(t) = std::fs::read_to_string(&saved) {
        return t;
    }
    let out = kino_cli(
        data_dir,
        &["users", "create", "admin", "--role", "admin", "--password-stdin"],
        "admin-password-1\n",
    );
    assert!(
        out.status.success(),
        "users create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = kino_cli(
        data_dir,
        &["tokens", "create", "admin", "--scope", "read,upload,admin"],
        "",
    );
    assert!(
        out.status.success(),
        "tokens create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("kino_"), "{token}");
    std::fs::write(&saved, &token).unwrap();
    token
}

impl Server {
    /// Starts a server with a fresh data directory and extra `KINO_*` settings.
    pub fn start(env: &[(&str, &str)]) -> Server {
        let dir = tempfile::Builder::new().prefix("kino-test-").tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let mut s = Server::start_in(&path, env);
        s._owned = Some(dir);
        s
    }

    /// Starts a server on an existing data directory (for restarts).
    pub fn start_in(data_dir: &Path, env: &[(&str, &str)]) -> Server {
        let token = admin_token(data_dir);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data_dir.join("server.log"))
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kino"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("KINO_LOG", "info")
            .env("KINO_JOBS__POLL_SECS", "0.2")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start kino");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(url) = line.strip_prefix("kino listening on ") {
                        break url.trim().to_string();
                    }
                }
                _ => panic!(
                    "kino exited before listening; see {}",
                    data_dir.join("server.log").display()
                ),
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let mut auth = reqwest::header::HeaderMap::new();
        auth.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .default_headers(auth)
            .build()
            .unwrap();
        let anon = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        Server {
            child,
            base,
            data_dir: data_dir.to_path_buf(),
            _owned: None,
            http,
            anon,
            admin_token: token,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, and wait for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        unsafe { libc_kill(self.child.id() as i32, 15) };
        self.child.wait().unwrap()
    }

    /// Uploads a file through `POST /api/videos`; returns (status, JSON body).
    pub async fn upload(&self, file: &Path, title: Option<&str>) -> (u16, Value) {
        let bytes = std::fs::read(file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let mut form = reqwest::multipart::Form::new();
        if let Some(t) = title {
            form = form.text("title", t.to_string());
        }
        form = form.part("file", reqwest::multipart::Part::bytes(bytes).file_name(name));
        let resp = self
            .http
            .post(self.url("/api/videos"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Uploads and asserts 201; returns the video id.
    pub async fn upload_ok(&self, file: &Path) -> String {
        let (status, body) = self.upload(file, None).await;
        assert_eq!(status, 201, "upload of {} answered {status}: {body}", file.display());
        body["id"].as_str().unwrap().to_string()
    }

    pub async fn video(&self, id: &str) -> Value {
        self.http
            .get(self.url(&format!("/api/videos/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Polls until the video is `ready` or `failed`.
    pub async fn wait_done(&self, id: &str, timeout: Duration) -> Value {
        let start = Instant::now();
        loop {
            let v = self.video(id).await;
            if v["status"] == "ready" || v["status"] == "failed" {
                return v;
            }
            assert!(
                start.elapsed() < timeout,
                "video {id} still {} after {timeout:?}; log: {}",
                v["status"],
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Polls until `pred` holds for the video JSON.
    pub async fn wait_for(&self, id: &str, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let v = self.video(id).await;
            if pred(&v) {
                return v;
            }
            assert!(
                start.elapsed() < timeout,
                "video {id} never reached the expected state: {v}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    pub async fn bytes(&self, path: &str) -> Vec<u8> {
        let r = self.get(path).await;
        assert!(r.status().is_success(), "GET {path} answered {}", r.status());
        r.bytes().await.unwrap().to_vec()
    }

    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.data_dir.join("server.log")).unwrap_or_default();
        log.lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

/// Pids of processes whose command line mentions `needle` (e.g. a test's data directory).
pub fn processes_mentioning(needle: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(needle) && !cmd.contains("cargo") {
                pids.push(pid);
            }
        }
    }
    pids
}

/// Runs ffprobe and returns its JSON.
pub fn ffprobe_json(file: &Path, args: &[&str]) -> Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-print_format", "json"])
        .args(args)
        .arg(file)
        .output()
        .expect("ffprobe");
    assert!(
        out.status.success(),
        "ffprobe {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

pub mod ladder_check;
