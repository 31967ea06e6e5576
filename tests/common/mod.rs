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

/// Which engines a test server runs on, from `KINO_TEST_BACKEND`: unset or `sqlite` for the
/// embedded default (SQLite + local files + in-process events), `postgres` for the scale-out
/// set (PostgreSQL + S3-compatible store + NATS; see `scripts/test.sh`).
pub fn scale_out() -> bool {
    match std::env::var("KINO_TEST_BACKEND").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("KINO_TEST_BACKEND={other:?}: use sqlite or postgres"),
    }
}

/// PostgreSQL server URL for tests (trust auth): `KINO_TEST_PG_URL`, default
/// `postgres://postgres@127.0.0.1:5432`. Each data directory gets a database of its own.
pub fn pg_server() -> String {
    std::env::var("KINO_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// S3-compatible endpoint for tests: `KINO_TEST_S3_ENDPOINT`, default `http://127.0.0.1:9100`
/// (moto, started by `scripts/test.sh`). Each data directory gets a prefix of its own in
/// the bucket [`TEST_BUCKET`].
pub fn s3_endpoint() -> String {
    std::env::var("KINO_TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:9100".into())
}

/// NATS for tests: `KINO_TEST_NATS_URL`, default `nats://127.0.0.1:4222`.
pub fn nats_url() -> String {
    std::env::var("KINO_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// The bucket test media goes to on the S3-compatible server.
pub const TEST_BUCKET: &str = "kino-test";

/// Which of the scale-out servers (PostgreSQL, S3, NATS) do not answer, by name.
pub fn missing_servers() -> Vec<&'static str> {
    let reachable = |url: &str| {
        let rest = url.split("://").nth(1).unwrap_or(url);
        let host = rest.rsplit('@').next().unwrap_or(rest);
        let host = host.split('/').next().unwrap_or(host);
        std::net::TcpStream::connect(host).is_ok()
    };
    let mut missing = Vec::new();
    if !reachable(&pg_server()) {
        missing.push("PostgreSQL");
    }
    if !reachable(&s3_endpoint()) {
        missing.push("S3 (moto)");
    }
    if !reachable(&nats_url()) {
        missing.push("NATS");
    }
    missing
}

/// True when the scale-out servers are all up. Otherwise: under CI a failure (CI must never
/// skip), locally a visible "SKIPPED" line and false.
pub fn scale_out_servers_present(test: &str) -> bool {
    let missing = missing_servers();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("CI").is_ok() {
        panic!(
            "{test}: {} not reachable; scripts/test.sh starts them",
            missing.join(", ")
        );
    }
    eprintln!(
        "SKIPPED {test}: {} not reachable (scripts/test.sh starts them)",
        missing.join(", ")
    );
    false
}

/// Name of the PostgreSQL database and S3 prefix of a data directory.
fn scale_out_name(data_dir: &Path) -> String {
    let base: String = data_dir
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("kino_t_{base}")
}

/// Creates the PostgreSQL database `name` (trust auth) and the test bucket when missing.
/// Runs on a thread of its own: callers may be inside a test's async runtime.
fn ensure_scale_out_resources(name: &str) {
    let name = name.to_string();
    std::thread::spawn(move || ensure_scale_out_resources_now(&name))
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

fn ensure_scale_out_resources_now(name: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&format!("{}/test", pg_server()))
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {}: {e}", pg_server()));
        let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_optional(&mut conn)
            .await
            .unwrap();
        if exists.is_none() {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        // moto does not check signatures; an unsigned PUT creates the bucket (idempotent).
        let r = reqwest::Client::new()
            .put(format!("{}/{TEST_BUCKET}", s3_endpoint()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("S3 server at {}: {e}", s3_endpoint()));
        assert!(
            r.status().is_success() || r.status() == 409,
            "create bucket: {}",
            r.status()
        );
    });
}

/// The `KINO_*` settings that put a data directory's metadata, media and events on the
/// backend set chosen by [`scale_out`]: nothing for the embedded default; for scale-out, a
/// database and an S3 prefix named after the directory, and NATS.
pub fn backend_env(data_dir: &Path) -> Vec<(String, String)> {
    if !scale_out() {
        return Vec::new();
    }
    scale_out_env(data_dir)
}

/// The scale-out settings of a data directory whatever [`scale_out`] says (for tests that
/// always run several nodes): its own database and S3 prefix, and NATS.
pub fn scale_out_env(data_dir: &Path) -> Vec<(String, String)> {
    let name = scale_out_name(data_dir);
    ensure_scale_out_resources(&name);
    vec![
        ("KINO_DATABASE_URL".into(), format!("{}/{name}", pg_server())),
        ("KINO_STORAGE".into(), format!("s3://{TEST_BUCKET}/{name}")),
        ("KINO_S3__ENDPOINT".into(), s3_endpoint()),
        ("KINO_S3__ACCESS_KEY_ID".into(), "test".into()),
        ("KINO_S3__SECRET_ACCESS_KEY".into(), "test".into()),
        ("KINO_NATS_URL".into(), nats_url()),
    ]
}

/// Keys of the media blobs under `prefix` (e.g. `sources`, `videos/ID`) of a data directory,
/// wherever its backend set keeps them.
pub async fn blob_keys(data_dir: &Path, prefix: &str) -> Vec<String> {
    let store = if scale_out() {
        let name = scale_out_name(data_dir);
        let s3 = kino::config::S3Config {
            endpoint: Some(s3_endpoint()),
            access_key_id: Some("test".into()),
            secret_access_key: Some("test".into()),
            ..Default::default()
        };
        kino::storage::BlobStore::s3(&format!("s3://{TEST_BUCKET}/{name}"), &s3).unwrap()
    } else {
        let dir = data_dir.join("media");
        if !dir.exists() {
            return Vec::new();
        }
        kino::storage::BlobStore::local(&dir).unwrap()
    };
    store
        .list(&object_store::path::Path::from(prefix))
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.to_string())
        .collect()
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
    /// API token (scopes read, write, upload, admin) of the `admin` account every test server has.
    pub admin_token: String,
}

/// Runs `kino ARGS --data-dir DIR` to completion, feeding `stdin`; returns its output.
pub fn kino_cli(data_dir: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    kino_cli_env(data_dir, args, stdin, &backend_env(data_dir))
}

/// Runs `kino ARGS --data-dir DIR` with extra environment to completion, feeding `stdin`.
pub fn kino_cli_env(data_dir: &Path, args: &[&str], stdin: &str, env: &[(String, String)]) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_kino"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
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
fn admin_token(data_dir: &Path, env: &[(String, String)]) -> String {
    let saved = data_dir.join("admin-token.txt");
    if let Ok(t) = std::fs::read_to_string(&saved) {
        return t;
    }
    let out = kino_cli_env(
        data_dir,
        &["users", "create", "admin", "--role", "admin", "--password-stdin"],
        "admin-password-1\n",
        env,
    );
    assert!(
        out.status.success(),
        "users create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = kino_cli_env(
        data_dir,
        &["tokens", "create", "admin", "--scope", "read,write,upload,admin"],
        "",
        env,
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
        // The backend set, then this server's own settings (which may name another backend).
        let mut all_env = backend_env(data_dir);
        all_env.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let token = admin_token(data_dir, &all_env);
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
            .envs(all_env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
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

    /// Keys of this server's media blobs under `prefix`; see [`blob_keys`].
    pub async fn blobs(&self, prefix: &str) -> Vec<String> {
        blob_keys(&self.data_dir, prefix).await
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
