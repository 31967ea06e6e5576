//! Kino's configuration: one [`Config`], layered as built-in defaults → TOML file
//! (`kino.toml`, or `--config FILE` / `KINO_CONFIG`) → `KINO_*` environment variables →
//! command-line flags. Nested keys use a double underscore in the environment
//! (`KINO_LADDER__PRESET=medium`, `KINO_LIMITS__MAX_DURATION_SECS=3600`).
//!
//! Every field is documented here and in the README's configuration table; keep both in step.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::auth::{Privacy, Role};

/// Everything an operator can set. Every subcommand reads the same configuration, so an
/// operator command run beside a server acts on the same data.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address `kino serve` listens on (`KINO_LISTEN`, default `127.0.0.1:8080`).
    /// Port 0 picks a free port; the chosen address is printed on stdout.
    pub listen: SocketAddr,
    /// Directory holding the SQLite database, the media blobs and scratch space
    /// (`KINO_DATA_DIR`, default `./kino-data`). Created if missing.
    pub data_dir: PathBuf,
    /// The site's public origin, e.g. `https://video.example.com` (`KINO_PUBLIC_URL`), for the
    /// absolute URLs of share links, Open Graph tags and oEmbed. Unset: the request's `Host`
    /// (https when a proxy sends `X-Forwarded-Proto: https`).
    pub public_url: Option<String>,
    /// Metadata database URL (`KINO_DATABASE_URL`). Default: `sqlite://<data_dir>/kino.db`.
    pub database_url: Option<String>,
    /// Pooled database connections per process (`KINO_DATABASE_MAX_CONNECTIONS`, default 8 on
    /// SQLite, 16 on PostgreSQL). On PostgreSQL, nodes × this must stay under the server's
    /// `max_connections`.
    pub database_max_connections: Option<u32>,
    /// Largest accepted upload, in bytes (`KINO_MAX_UPLOAD_BYTES`, default 10 GiB). Larger
    /// uploads are answered with 413.
    pub max_upload_bytes: u64,
    /// Transcode jobs run at once by this process (`KINO_WORKERS`, default 1). Each ffmpeg
    /// already uses every core, so more than one helps only on big machines.
    pub workers: usize,
    /// The ffmpeg executable (`KINO_FFMPEG`, default `ffmpeg` from `PATH`).
    pub ffmpeg: PathBuf,
    /// The ffprobe executable (`KINO_FFPROBE`, default `ffprobe` from `PATH`).
    pub ffprobe: PathBuf,
    /// Scratch directory for transcodes (`KINO_SCRATCH_DIR`, default `<data_dir>/scratch`).
    /// Each job gets its own sub-directory, removed when the job ends.
    pub scratch_dir: Option<PathBuf>,
    /// Limits applied when a source is probed, before any transcoding.
    pub limits: Limits,
    /// Job queue timings.
    pub jobs: JobsConfig,
    /// The ABR ladder and encoder settings.
    pub ladder: LadderConfig,
    /// Accounts, sessions, privacy and signed playback.
    pub auth: AuthConfig,
    /// The HTTP server: overload and timeout behaviour.
    pub http: HttpConfig,
    /// Comments on videos.
    pub comments: CommentsConfig,
    /// Resumable (tus) uploads.
    pub uploads: UploadsConfig,
    /// Live streaming: RTMP ingest, the live ladder, DVR and chat ([`crate::live`]).
    pub live: LiveConfig,
    /// Prometheus metrics of this process ([`crate::metrics`]).
    pub metrics: MetricsConfig,
    /// Quality-of-experience analytics from player beacons ([`crate::qoe`], `docs/qoe.md`).
    pub analytics: AnalyticsConfig,
    /// Where media blobs live (`KINO_STORAGE`): unset (default) for `<data_dir>/media`, or
    /// `s3://BUCKET/PREFIX` for an S3-compatible object store configured by [`S3Config`].
    /// Every node of a deployment must name the same store.
    pub storage: Option<String>,
    /// The S3-compatible store named by `storage` (`KINO_S3__*`).
    pub s3: S3Config,
    /// NATS server for events between nodes (`KINO_NATS_URL`, e.g. `nats://127.0.0.1:4222`).
    /// Unset (default): events stay inside this process, which is right for one node only.
    pub nats_url: Option<String>,
}

/// How Kino reaches an S3-compatible store (AWS S3, MinIO, Ceph, R2, …) and how it delivers
/// media kept there. Unset credentials and region fall back to the standard `AWS_*`
/// environment variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
/// `AWS_ENDPOINT_URL`, …).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    /// Endpoint URL for stores other than AWS (e.g. `http://127.0.0.1:9000`); path-style
    /// requests are used when it is set.
    pub endpoint: Option<String>,
    /// Region (default: `AWS_REGION`, else `us-east-1`).
    pub region: Option<String>,
    /// Access key id (default: `AWS_ACCESS_KEY_ID`).
    pub access_key_id: Option<String>,
    /// Secret access key (default: `AWS_SECRET_ACCESS_KEY`).
    pub secret_access_key: Option<String>,
    /// Allow plain-HTTP endpoints (default: true when `endpoint` starts with `http://`).
    pub allow_http: Option<bool>,
    /// How media segment requests are answered: `off` (default) — Kino streams the bytes
    /// itself; `presigned` — after Kino's own access check, 307 to a presigned URL of the
    /// object valid for `presign_secs`, so the bytes flow from the store (Range works the same
    /// there; the bucket needs a CORS rule allowing GET from the site for browsers). Playlists,
    /// posters and originals are always served by Kino.
    pub redirect: RedirectMode,
    /// Lifetime of presigned URLs, seconds (default 300).
    pub presign_secs: u64,
    /// Base URL of a CDN in front of the bucket (e.g. `https://cdn.example.com/media`). When
    /// set, segments of public videos redirect to `{cdn_base_url}/{object key}` instead of a
    /// presigned URL; non-public media never goes to it.
    pub cdn_base_url: Option<String>,
}

/// See [`S3Config::redirect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RedirectMode {
    Off,
    Presigned,
}

impl Default for S3Config {
    fn default() -> Self {
        S3Config {
            endpoint: None,
            region: None,
            access_key_id: None,
            secret_access_key: None,
            allow_http: None,
            redirect: RedirectMode::Off,
            presign_secs: 300,
            cdn_base_url: None,
        }
    }
}

/// Prometheus metrics ([`crate::metrics`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address of the `GET /metrics` endpoint (Prometheus text format 0.0.4), e.g.
    /// `127.0.0.1:9464`; empty (default) turns metrics off. A separate listener without
    /// authentication: bind it to an address only the monitoring system reaches.
    pub listen: String,
}

/// Quality-of-experience analytics ([`crate::qoe`], `docs/qoe.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalyticsConfig {
    /// Take player beacons and serve the reports (default true). Off: `POST /api/qoe/beacons`
    /// and the reports answer 404 and the player sends nothing.
    pub enabled: bool,
    /// Days raw beacon events and per-view summaries are kept (default 7).
    pub raw_days: f64,
    /// Days the daily rollups are kept (default 730); minute rollups are kept 2 days and
    /// hourly ones 90.
    pub rollup_days: f64,
    /// Seconds without a beacon after which a view is over and rolled up (default 120); a view
    /// whose page went away is rolled up 5 s after its last beacon.
    pub view_idle_secs: f64,
    /// Beacon requests one client address may send a minute (default 120; a player sends
    /// about 6); past it, 429 with `Retry-After`.
    pub beacons_per_minute: u32,
    /// Store the account id of signed-in viewers with their views (default false: views are
    /// anonymous). No IP address is ever stored.
    pub store_user_id: bool,
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        AnalyticsConfig {
            enabled: true,
            raw_days: 7.0,
            rollup_days: 730.0,
            view_idle_secs: 120.0,
            beacons_per_minute: 120,
            store_user_id: false,
        }
    }
}

/// Comments on videos.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CommentsConfig {
    /// Longest comment, in characters (default 2000).
    pub max_chars: usize,
    /// Comments one user may post a minute (default 10); past it, 429 with `Retry-After`.
    pub per_minute: u32,
}

impl Default for CommentsConfig {
    fn default() -> Self {
        CommentsConfig {
            max_chars: 2000,
            per_minute: 10,
        }
    }
}

/// Resumable uploads (tus 1.0 at `/api/uploads/`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UploadsConfig {
    /// Hours an unfinished upload is kept after its creation (default 24); then its video and
    /// the bytes received are removed (`Upload-Expires` says when).
    pub expire_hours: f64,
}

impl Default for UploadsConfig {
    fn default() -> Self {
        UploadsConfig { expire_hours: 24.0 }
    }
}

/// Live streaming ([`crate::live`]): where publishers connect, what they may send, and how the
/// broadcast is packaged.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiveConfig {
    /// Address of the RTMP ingest (default `127.0.0.1:1935`; `""` turns live ingest off on
    /// this node). Publishers use `rtmp://HOST:PORT/live/STREAM_KEY`.
    pub rtmp_listen: String,
    /// Host (and port) put in the `rtmp_url` shown to creators (default: the host of
    /// `rtmp_listen`, or the request's host when it listens on all addresses).
    pub rtmp_public_host: Option<String>,
    /// Segment duration, seconds (default 1): also the keyframe interval of encoded rungs. hls.js
    /// stays about three segments behind the live edge.
    pub segment_secs: f64,
    /// DVR window, seconds a viewer can seek back (default 7200; 0 keeps the whole event in the
    /// live playlist).
    pub dvr_secs: f64,
    /// Low-latency HLS (default true): each segment is also published as parts of about
    /// `part_secs` as soon as ffmpeg writes them, and media playlists carry `EXT-X-PART`,
    /// preload hints, rendition reports, blocking reloads and delta updates (Apple's LL-HLS,
    /// RFC 8216bis). Players that know none of it play the same playlists as standard HLS.
    pub low_latency: bool,
    /// Part duration of low-latency HLS, seconds (default 0.2; 0.1–1, and at most half of
    /// `segment_secs`). Each part is the whole number of frames closest to it; the playlists'
    /// `PART-TARGET` is that length plus 1 ms for timestamp rounding (0.201 s at 30 fps).
    /// Players hold back three parts.
    pub part_secs: f64,
    /// Seconds a dropped publisher has to reconnect and resume the same event with a
    /// discontinuity (default 30); a publisher that stops cleanly ends the event at once.
    pub reconnect_grace_secs: f64,
    /// Seconds without any media before a session is ended (default 10).
    pub idle_timeout_secs: f64,
    /// Highest ingest bitrate, bits/s, averaged over 5 s (default 20 Mbit/s); above it the
    /// session is ended with the reason logged.
    pub max_ingest_bitrate: u64,
    /// Largest picture accepted, pixels (defaults 3840 × 2160) and highest frame rate (60).
    pub max_width: u32,
    pub max_height: u32,
    pub max_frame_rate: f64,
    /// Most live streams ingested at once on this node (default 4); a further publish is refused.
    pub max_streams: usize,
    /// Most rungs of `ladder.rungs` encoded below the source (default 2, the highest that fit).
    /// Each costs about one core for 720p30 with `veryfast`.
    pub encoded_rungs: usize,
    /// x264 preset of the live rungs (default `veryfast`, with `-tune zerolatency`).
    pub preset: String,
    /// Chat: most messages a user may post per minute in one stream (default 20).
    pub chat_per_minute: u32,
    /// Longest chat message, characters (default 500).
    pub chat_max_chars: usize,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            rtmp_listen: "127.0.0.1:1935".into(),
            rtmp_public_host: None,
            segment_secs: 1.0,
            dvr_secs: 7200.0,
            low_latency: true,
            part_secs: 0.2,
            reconnect_grace_secs: 30.0,
            idle_timeout_secs: 10.0,
            max_ingest_bitrate: 20_000_000,
            max_width: 3840,
            max_height: 2160,
            max_frame_rate: 60.0,
            max_streams: 4,
            encoded_rungs: 2,
            preset: "veryfast".into(),
            chat_per_minute: 20,
            chat_max_chars: 500,
        }
    }
}

/// How the HTTP server holds up under load and misbehaving clients.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Most responses streaming a file at once (default 1024); past it, 503 with
    /// `Retry-After: 1` instead of slowing everyone down. Each holds about 128 KiB.
    pub max_streams: usize,
    /// Seconds a client has to send a request's headers, and the longest an idle keep-alive
    /// connection is kept (default 10): slow-header (slowloris) clients are cut off.
    pub header_read_timeout_secs: f64,
    /// Seconds a request body may go without a single byte arriving (default 30); then the
    /// request ends with 408 and what was received is discarded (slow-body clients).
    pub body_idle_secs: f64,
    /// Most open client connections (default 4096); a connection past it is closed as soon as
    /// it is accepted, so idle or hostile clients cannot exhaust file descriptors.
    pub max_connections: usize,
    /// Most live-event WebSockets (`/api/videos/{id}/live`) open from one client address
    /// (default 32); past it the handshake gets 429. Offices behind one NAT share an address.
    pub live_sockets_per_address: usize,
    /// Most live-event WebSockets open on this node in total (default 10000); past it the
    /// handshake gets 503 with `Retry-After`.
    pub max_live_sockets: usize,
    /// Seconds in-flight responses get to finish after SIGINT/SIGTERM (default 10); then the
    /// remaining connections are closed.
    pub shutdown_grace_secs: f64,
    /// Reverse proxies (addresses or networks: `["127.0.0.1", "10.0.0.0/8"]`) whose
    /// `X-Forwarded-For` names the client (default none: the header is ignored). Rate limits,
    /// view counting and IP-bound grants then see viewers instead of the proxy.
    pub trusted_proxies: Vec<String>,
    /// Bytes of immutable segments and init segments kept in memory (default 256 MiB; 0 turns
    /// the cache off). A segment is admitted on its second request within the cache's recent
    /// history, so a crawler reading everything once cannot flush what viewers watch; each
    /// hit is one write from memory instead of a file read. Local media directory only.
    pub segment_cache_bytes: u64,
    /// Seconds a video's access facts (privacy, owner, status, renditions) may be served from
    /// memory on media routes (default 5; 0 reads the database on every request). Changes made
    /// through this node apply at once, changes from other nodes as soon as their event
    /// arrives over NATS; this is the bound when an event is lost. A refusal is always checked
    /// against the database.
    pub video_cache_secs: f64,
    /// With nginx in front: an internal nginx location (e.g. `"/_kino_media/"`, default off)
    /// that aliases the media directory. After its access check Kino answers a media request
    /// with `X-Accel-Redirect: {this}{key}` and no body, and nginx sends the file (sendfile,
    /// ranges, conditionals). Local media directory only; see `deploy/nginx-kino.conf`.
    pub accel_redirect: Option<String>,
    /// Media files (segments, init segments, media playlists, originals) asked for with a
    /// plain GET or HEAD on an HTTP/1.1 connection are answered by Kino's own connection loop
    /// (default true): the head is written by Kino and a file body over 128 KiB that is in the
    /// page cache by the kernel (`sendfile(2)`); other bodies go out with the head in one
    /// write. Every other request, and the rest of a connection after one, goes to hyper.
    /// `false` sends everything through hyper.
    pub sendfile: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_streams: 1024,
            header_read_timeout_secs: 10.0,
            body_idle_secs: 30.0,
            max_connections: 4096,
            live_sockets_per_address: 32,
            max_live_sockets: 10_000,
            shutdown_grace_secs: 10.0,
            trusted_proxies: Vec::new(),
            segment_cache_bytes: 256 * 1024 * 1024,
            video_cache_secs: 5.0,
            accel_redirect: None,
            sendfile: true,
        }
    }
}

/// A configured HMAC key (`auth.keys`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// Key id carried in tokens, `[A-Za-z0-9_-]{1,32}`.
    pub id: String,
    /// The secret, at least 32 bytes (e.g. the output of `openssl rand -base64 32`).
    pub secret: String,
}

/// Accounts, sessions, privacy levels and signed playback URLs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Whether anyone may create an account at `/signup` (default true). The first account is
    /// always an admin; when closed, operators create accounts with `kino users create`.
    pub registration: bool,
    /// Role of accounts created by registration after the first (default `viewer`; `uploader`
    /// lets everyone who signs up upload).
    pub default_role: Role,
    /// Privacy of a new upload when the form names none (default `public`).
    pub default_privacy: Privacy,
    /// Lifetime of the access-token cookie, seconds (default 900 = 15 min).
    pub access_token_secs: u64,
    /// Lifetime of a refresh token, days (default 30). Every refresh starts the period again.
    pub refresh_token_days: u64,
    /// Lifetime of a signed playback grant, seconds (default 21600 = 6 h).
    pub playback_grant_secs: u64,
    /// Bind playback grants to the viewer's IP address (default false: phones change address).
    pub bind_playback_to_ip: bool,
    /// Mark cookies `Secure`. Default (unset): when the request arrived over TLS, as told by a
    /// proxy's `X-Forwarded-Proto: https`.
    pub secure_cookies: Option<bool>,
    /// HMAC keys for access tokens and playback grants; the first signs, all verify, so a key
    /// is rotated by putting a new one first and removing the old one after
    /// `playback_grant_secs`. Empty (default): a key generated once and kept in the database.
    pub keys: Vec<KeyConfig>,
    /// Sign-in and registration attempts a minute from one IP address (default 10).
    pub attempts_per_minute_per_ip: u32,
    /// Wrong passwords one client address may send for one account before each further one
    /// blocks that (account, address) pair for 1 s, 2 s, 4 s, … (default 5).
    pub signin_free_failures: u32,
    /// Longest backoff of one (account, address) pair, seconds (default 900 = 15 min).
    pub signin_max_backoff_secs: u64,
    /// Wrong passwords an account takes an hour from all addresses together before sign-in to
    /// it pauses for the rest of that hour (default 1000).
    pub account_failures_per_hour: u32,
    /// Extra origins (`https://admin.example.com`) allowed to send cookie-authenticated
    /// state-changing requests; the server's own origin always is.
    pub trusted_origins: Vec<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            registration: true,
            default_role: Role::Viewer,
            default_privacy: Privacy::Public,
            access_token_secs: 900,
            refresh_token_days: 30,
            playback_grant_secs: 6 * 3600,
            bind_playback_to_ip: false,
            secure_cookies: None,
            keys: Vec::new(),
            attempts_per_minute_per_ip: 10,
            signin_free_failures: 5,
            signin_max_backoff_secs: 900,
            account_failures_per_hour: 1000,
            trusted_origins: Vec::new(),
        }
    }
}

/// What a source may be; anything beyond fails with a reason before transcoding starts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Longest accepted source, in seconds (default 14400 = 4 h).
    pub max_duration_secs: f64,
    /// Largest accepted width or height of the displayed picture, in pixels (default 8192).
    pub max_dimension: u32,
    /// Seconds ffprobe may take on one file (default 60).
    pub probe_timeout_secs: u64,
    /// Seconds one transcode may take before it is killed (default 21600 = 6 h).
    pub transcode_timeout_secs: u64,
}

/// Persistent job queue timings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Seconds a claimed job stays leased without a heartbeat (default 30). A job whose worker
    /// died is taken over by another worker once its lease expires.
    pub lease_secs: u64,
    /// Attempts before a job fails for good (default 3).
    pub max_attempts: u32,
    /// Delay before the first retry, in seconds; doubled on each further retry (default 10).
    pub retry_backoff_secs: u64,
    /// Seconds an idle worker waits before polling the queue again (default 2). New uploads
    /// on the same process wake workers at once.
    pub poll_secs: f64,
}

/// One rung of the ladder, named by its short side (`720` → "720p" for landscape and portrait).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RungConfig {
    /// Short side of the picture, in pixels (height for landscape, width for portrait).
    pub height: u32,
    /// Peak video bitrate cap (x264 `maxrate`), in bits/s. The VBV buffer is twice this.
    pub max_bitrate: u32,
}

/// The adaptive bitrate ladder: which renditions are made and how they are encoded.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LadderConfig {
    /// Full ladder, used for sources at least `short_source_secs` long
    /// (default 1080p 6 Mbit/s, 720p 3.5 Mbit/s, 480p 1.6 Mbit/s, 360p 0.9 Mbit/s).
    pub rungs: Vec<RungConfig>,
    /// Short sides of the reduced ladder used for shorter sources (default `[720, 360]`):
    /// short clips get fewer renditions, as few viewers switch during them.
    pub short_rungs: Vec<u32>,
    /// Sources shorter than this many seconds get the reduced ladder (default 120).
    pub short_source_secs: f64,
    /// x264 constant rate factor, the quality target under each rung's cap (default 23).
    pub crf: u32,
    /// x264 preset (default `veryfast`; `medium` saves ~15 % bits for ~2.5× the CPU time).
    pub preset: String,
    /// Target segment duration in seconds; also the GOP length (default 4).
    pub segment_secs: f64,
    /// Highest output frame rate; faster sources are halved until under it (default 60).
    pub max_frame_rate: f64,
    /// AAC-LC stereo bitrate, in bits/s (default 128000).
    pub audio_bitrate: u32,
    /// Publish a first rendition progressively before the full ladder (default true): a
    /// remuxed passthrough of an eligible H.264 source, else the lowest rung, so a video plays
    /// seconds after its upload whatever its length ([`crate::media::passthrough`]).
    pub playable_first: bool,
    /// Highest mean source bitrate, bits/s, remuxed as the passthrough rendition (default
    /// 12 Mbit/s); above it the lowest rung goes first instead.
    pub passthrough_max_bitrate: u64,
    /// Longest keyframe interval, seconds, in the first minute of a source remuxed as the
    /// passthrough rendition (default 10; segments are cut at keyframes).
    pub passthrough_max_keyframe_secs: f64,
    /// Keep the passthrough rendition in the multivariant playlist once the full ladder exists
    /// (default false: it is removed then and its files deleted).
    pub keep_source_rendition: bool,
    /// Seconds between the thumbnails of the seek-bar storyboard (default 2; longer sources
    /// get fewer, at most 400 thumbnails); 0 makes none ([`crate::media::storyboard`]).
    pub storyboard_secs: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("kino-data"),
            database_url: None,
            public_url: None,
            max_upload_bytes: 10 * 1024 * 1024 * 1024,
            workers: 1,
            ffmpeg: PathBuf::from("ffmpeg"),
            ffprobe: PathBuf::from("ffprobe"),
            scratch_dir: None,
            limits: Limits::default(),
            jobs: JobsConfig::default(),
            ladder: LadderConfig::default(),
            auth: AuthConfig::default(),
            http: HttpConfig::default(),
            comments: CommentsConfig::default(),
            uploads: UploadsConfig::default(),
            live: LiveConfig::default(),
            metrics: MetricsConfig::default(),
            analytics: AnalyticsConfig::default(),
            storage: None,
            database_max_connections: None,
            s3: S3Config::default(),
            nats_url: None,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_duration_secs: 4.0 * 3600.0,
            max_dimension: 8192,
            probe_timeout_secs: 60,
            transcode_timeout_secs: 6 * 3600,
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            lease_secs: 30,
            max_attempts: 3,
            retry_backoff_secs: 10,
            poll_secs: 2.0,
        }
    }
}

impl Default for LadderConfig {
    fn default() -> Self {
        let rung = |height, max_bitrate| RungConfig { height, max_bitrate };
        LadderConfig {
            rungs: vec![
                rung(1080, 6_000_000),
                rung(720, 3_500_000),
                rung(480, 1_600_000),
                rung(360, 900_000),
            ],
            short_rungs: vec![720, 360],
            short_source_secs: 120.0,
            crf: 23,
            preset: "veryfast".into(),
            segment_secs: 4.0,
            max_frame_rate: 60.0,
            audio_bitrate: 128_000,
            playable_first: true,
            passthrough_max_bitrate: 12_000_000,
            passthrough_max_keyframe_secs: 10.0,
            keep_source_rendition: false,
            storyboard_secs: 2.0,
        }
    }
}

/// Values given as command-line flags; they override every other layer.
#[derive(Debug, Default, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--rtmp-listen`: sets `live.rtmp_listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveFlags>,
}

/// The `live` settings a command-line flag can set.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LiveFlags {
    pub rtmp_listen: String,
}

impl Config {
    /// Loads the layered configuration. `file` is the TOML file named by `--config` /
    /// `KINO_CONFIG`; when `None`, `./kino.toml` is read if it exists.
    ///
    /// Errors: an unreadable or malformed file, an unknown key, or a value of the wrong type —
    /// the message names the key and the layer it came from.
    pub fn load(file: Option<&Path>, flags: FlagOverrides) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                if !path.exists() {
                    anyhow::bail!("config file {} does not exist", path.display());
                }
                figment = figment.merge(Toml::file(path));
            }
            None => figment = figment.merge(Toml::file("kino.toml")),
        }
        // KINO_CONFIG, KINO_LOG and KINO_WEB_DIR are read elsewhere; KINO_TEST_* belong to the
        // test suite (tests/common), never to a server.
        let env = Env::prefixed("KINO_")
            .filter(|key| !key.as_str().to_ascii_lowercase().starts_with("test_"))
            .split("__")
            .ignore(&["config", "log", "web_dir"]);
        figment = figment.merge(env).merge(Serialized::globals(flags));
        let config: Config = figment.extract().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> anyhow::Result<()> {
        let l = &self.ladder;
        anyhow::ensure!(!l.rungs.is_empty(), "ladder.rungs must name at least one rung");
        anyhow::ensure!(l.segment_secs >= 1.0, "ladder.segment_secs must be at least 1");
        anyhow::ensure!(
            l.storyboard_secs.is_finite() && l.storyboard_secs >= 0.0,
            "ladder.storyboard_secs must be 0 (no storyboard) or more"
        );
        anyhow::ensure!(l.max_frame_rate >= 1.0, "ladder.max_frame_rate must be at least 1");
        anyhow::ensure!(l.crf <= 51, "ladder.crf must be between 0 and 51");
        anyhow::ensure!(
            l.passthrough_max_keyframe_secs > 0.0,
            "ladder.passthrough_max_keyframe_secs must be above 0"
        );
        for r in &l.rungs {
            anyhow::ensure!(
                r.height >= 64 && r.height % 2 == 0,
                "ladder rung {}p: height must be even and at least 64",
                r.height
            );
        }
        for h in &l.short_rungs {
            anyhow::ensure!(
                l.rungs.iter().any(|r| r.height == *h),
                "ladder.short_rungs: {h} is not one of ladder.rungs"
            );
        }
        anyhow::ensure!(self.workers <= 64, "workers must be at most 64");
        let live = &self.live;
        anyhow::ensure!(
            (0.5..=10.0).contains(&live.segment_secs),
            "live.segment_secs must be between 0.5 and 10"
        );
        anyhow::ensure!(
            (0.1..=1.0).contains(&live.part_secs) && live.part_secs <= live.segment_secs / 2.0,
            "live.part_secs must be between 0.1 and 1, and at most half of live.segment_secs"
        );
        anyhow::ensure!(
            live.dvr_secs.is_finite() && live.dvr_secs >= 0.0,
            "live.dvr_secs must be a number of seconds, 0 or more"
        );
        anyhow::ensure!(
            (0.0..=86_400.0).contains(&live.reconnect_grace_secs)
                && live.idle_timeout_secs > 0.0
                && live.idle_timeout_secs <= 3600.0,
            "live.reconnect_grace_secs must be 0–86400 and live.idle_timeout_secs 0–3600 (exclusive of 0)"
        );
        anyhow::ensure!(
            live.max_frame_rate.is_finite() && live.max_frame_rate >= 1.0,
            "live.max_frame_rate must be at least 1"
        );
        anyhow::ensure!(live.max_streams >= 1, "live.max_streams must be at least 1");
        if !live.rtmp_listen.is_empty() {
            live.rtmp_listen.parse::<SocketAddr>().map_err(|_| {
                anyhow::anyhow!(
                    "live.rtmp_listen must be an address like 127.0.0.1:1935, or \"\" to turn ingest off (got {:?})",
                    live.rtmp_listen
                )
            })?;
        }
        if !self.metrics.listen.is_empty() {
            self.metrics.listen.parse::<SocketAddr>().map_err(|_| {
                anyhow::anyhow!(
                    "metrics.listen must be an address like 127.0.0.1:9464, or \"\" to turn metrics off (got {:?})",
                    self.metrics.listen
                )
            })?;
        }
        if let Some(u) = &self.public_url {
            let parsed = url::Url::parse(u).ok().filter(|p| {
                matches!(p.scheme(), "http" | "https") && p.host().is_some() && p.path() == "/" && p.query().is_none()
            });
            anyhow::ensure!(
                parsed.is_some(),
                "public_url must be an origin like https://video.example.com (got {u:?})"
            );
        }
        let a = &self.analytics;
        anyhow::ensure!(
            a.raw_days.is_finite() && a.raw_days > 0.0 && a.rollup_days.is_finite() && a.rollup_days >= 1.0,
            "analytics.raw_days must be positive and analytics.rollup_days at least 1"
        );
        anyhow::ensure!(
            a.view_idle_secs.is_finite() && (1.0..=86_400.0).contains(&a.view_idle_secs),
            "analytics.view_idle_secs must be 1–86400"
        );
        anyhow::ensure!(
            a.beacons_per_minute >= 1,
            "analytics.beacons_per_minute must be at least 1"
        );
        anyhow::ensure!(self.jobs.lease_secs >= 1, "jobs.lease_secs must be at least 1");
        anyhow::ensure!(self.jobs.max_attempts >= 1, "jobs.max_attempts must be at least 1");
        anyhow::ensure!(self.http.max_streams >= 1, "http.max_streams must be at least 1");
        anyhow::ensure!(
            self.http.header_read_timeout_secs > 0.0,
            "http.header_read_timeout_secs must be positive"
        );
        anyhow::ensure!(self.http.body_idle_secs > 0.0, "http.body_idle_secs must be positive");
        anyhow::ensure!(self.http.max_connections > 0, "http.max_connections must be at least 1");
        anyhow::ensure!(self.uploads.expire_hours > 0.0, "uploads.expire_hours must be positive");
        anyhow::ensure!(
            self.http.live_sockets_per_address > 0 && self.http.max_live_sockets > 0,
            "http.live_sockets_per_address and http.max_live_sockets must be at least 1"
        );
        anyhow::ensure!(
            self.http.shutdown_grace_secs >= 0.0,
            "http.shutdown_grace_secs must not be negative"
        );
        anyhow::ensure!(
            self.http.video_cache_secs.is_finite() && (0.0..=3600.0).contains(&self.http.video_cache_secs),
            "http.video_cache_secs must be 0–3600 (0 reads the database on every media request)"
        );
        if let Some(prefix) = &self.http.accel_redirect {
            anyhow::ensure!(
                prefix.starts_with('/')
                    && prefix.ends_with('/')
                    && prefix
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"/_.-".contains(&b)),
                "http.accel_redirect must be an nginx location path of letters, digits and /_.- like \"/_kino_media/\" (got {prefix:?})"
            );
            anyhow::ensure!(
                self.storage.is_none(),
                "http.accel_redirect needs the local media directory: with an S3 store, use s3.redirect or s3.cdn_base_url"
            );
        }
        let a = &self.auth;
        anyhow::ensure!(a.access_token_secs >= 30, "auth.access_token_secs must be at least 30");
        anyhow::ensure!(a.refresh_token_days >= 1, "auth.refresh_token_days must be at least 1");
        anyhow::ensure!(
            a.playback_grant_secs >= 1,
            "auth.playback_grant_secs must be at least 1"
        );
        if let Some(storage) = &self.storage {
            anyhow::ensure!(
                storage.starts_with("s3://") && storage.len() > "s3://".len(),
                "storage must be s3://BUCKET/PREFIX (or unset for the local data directory), not {storage:?}"
            );
        }
        anyhow::ensure!(self.s3.presign_secs >= 1, "s3.presign_secs must be at least 1");
        anyhow::ensure!(
            self.database_max_connections != Some(0),
            "database_max_connections must be at least 1"
        );
        crate::proxies::TrustedProxies::parse(&self.http.trusted_proxies)?;
        self.key_ring()?;
        Ok(())
    }

    /// The database URL in force: `database_url`, or the SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("kino.db").display()),
        }
    }

    /// The configured key ring, or `None` when `auth.keys` is empty (Kino then generates one).
    ///
    /// Errors: a bad key id, a short secret, or a repeated id.
    pub fn key_ring(&self) -> anyhow::Result<Option<crate::auth::keys::KeyRing>> {
        if self.auth.keys.is_empty() {
            return Ok(None);
        }
        let keys = self
            .auth
            .keys
            .iter()
            .map(|k| crate::auth::keys::Key::new(&k.id, k.secret.as_bytes()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(anyhow::Error::msg)?;
        Ok(Some(crate::auth::keys::KeyRing::new(keys).map_err(anyhow::Error::msg)?))
    }

    /// Directory of the local blob store (sources, renditions, posters).
    pub fn media_dir(&self) -> PathBuf {
        self.data_dir.join("media")
    }

    /// Scratch directory for transcodes.
    pub fn scratch_dir(&self) -> PathBuf {
        self.scratch_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("scratch"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_out_settings_that_cannot_work_are_refused_with_their_key() {
        let bad = |edit: fn(&mut Config)| {
            let mut c = Config::default();
            edit(&mut c);
            c.validate().unwrap_err().to_string()
        };
        assert!(bad(|c| c.database_max_connections = Some(0)).contains("database_max_connections"));
        assert!(bad(|c| c.storage = Some("gs://bucket".into())).contains("s3://BUCKET/PREFIX"));
        assert!(bad(|c| c.s3.presign_secs = 0).contains("s3.presign_secs"));
        assert!(bad(|c| c.http.trusted_proxies = vec!["10.0.0.0/99".into()]).contains("10.0.0.0/99"));
        let ok = Config {
            database_max_connections: Some(4),
            storage: Some("s3://media/kino".into()),
            http: HttpConfig {
                trusted_proxies: vec!["127.0.0.1".into(), "10.0.0.0/8".into()],
                ..HttpConfig::default()
            },
            ..Config::default()
        };
        ok.validate().unwrap();
    }
}
