//! Application assembly: [`AppState`] (one context cloned into every handler), the router,
//! and the `serve` / `worker` entry points with graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tower_http::cors::{Any, CorsLayer};
use tower_http::csrf::CsrfLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::auth::keys::KeyRing;
use crate::auth::limits::AuthLimits;
use crate::config::Config;
use crate::db::Db;
use crate::events::Events;
use crate::http::delivery::{Delivery, StreamLimit};
use crate::http::segment_cache::SegmentCache;
use crate::http::video_cache::VideoCache;
use crate::http::{media, pages};
use crate::jobs::{WorkerContext, worker};
use crate::storage::BlobStore;

/// Shared state of every handler, behind one `Arc`: axum clones it for every extractor and
/// middleware of every request, and one atomic increment is all that costs (a clone of the
/// fields themselves was ~10 % of a small media request's CPU).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct Shared {
    pub config: Arc<Config>,
    pub db: Db,
    pub store: BlobStore,
    /// Rung after an upload so idle in-process workers claim the job at once.
    pub wake_workers: Arc<Notify>,
    /// HMAC keys for access tokens and playback grants.
    pub keys: KeyRing,
    /// Sign-in and registration rate limits.
    pub limits: AuthLimits,
    /// Media delivery: the stream cap, hot segments in memory, the nginx hand-off.
    pub delivery: Delivery,
    /// Video records for the media routes (see [`VideoCache`]).
    pub videos: VideoCache,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub proxies: crate::proxies::TrustedProxies,
    /// Events for open pages (comments now; progress, chat, viewer counts later).
    pub events: Events,
    /// Caps on open live-event WebSockets, per client address and in total.
    pub live_sockets: crate::http::live::SocketLimit,
    /// Where this node's RTMP ingest listens, once started (`kino serve` only).
    pub rtmp_addr: std::sync::OnceLock<std::net::SocketAddr>,
    /// Live streaming on this node: ingest, replays, clips.
    pub live: Arc<crate::live::LiveHub>,
    /// Player beacons waiting to be written, and their per-address limit.
    pub qoe: crate::qoe::queue::BeaconQueue,
}

impl AppState {
    /// Opens the database and blob store named by `config`, creating the data directory.
    ///
    /// Errors: the data directory cannot be created, or the database cannot be opened.
    pub async fn open(config: Config) -> anyhow::Result<AppState> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create the data directory {}", config.data_dir.display()))?;
        let db = Db::connect_with(&config.database_url(), config.database_max_connections).await?;
        let store = BlobStore::from_config(&config).with_context(|| match &config.storage {
            Some(url) => format!("cannot open the media store {url}"),
            None => format!("cannot open the media directory {}", config.media_dir().display()),
        })?;
        let events = Events::from_config(&config).await?;
        let keys = match config.key_ring()? {
            Some(ring) => ring,
            None => db.generated_key_ring().await?,
        };
        let config_streams = config.http.max_streams;
        let live_sockets =
            crate::http::live::SocketLimit::new(config.http.live_sockets_per_address, config.http.max_live_sockets);
        let config_proxies = config.http.trusted_proxies.clone();
        let limits = AuthLimits::new(
            config.auth.attempts_per_minute_per_ip,
            crate::auth::limits::SigninPolicy {
                free_failures: config.auth.signin_free_failures,
                max_backoff: Duration::from_secs(config.auth.signin_max_backoff_secs.max(1)),
                account_failures_per_hour: config.auth.account_failures_per_hour.max(1),
            },
            config.comments.per_minute,
        );
        let config = Arc::new(config);
        let live = crate::live::LiveHub::new(config.clone(), db.clone(), store.clone(), events.clone());
        let delivery = Delivery::new(
            store.clone(),
            StreamLimit::new(config_streams),
            SegmentCache::new(config.http.segment_cache_bytes),
            config.http.accel_redirect.as_deref(),
        );
        let config_video_secs = config.http.video_cache_secs;
        let config_beacons = config.analytics.beacons_per_minute;
        Ok(AppState(Arc::new(Shared {
            config,
            db,
            store,
            wake_workers: Arc::new(Notify::new()),
            keys,
            limits,
            delivery,
            videos: VideoCache::new(config_video_secs),
            proxies: crate::proxies::TrustedProxies::parse(&config_proxies)?,
            events,
            live_sockets,
            rtmp_addr: std::sync::OnceLock::new(),
            live,
            qoe: crate::qoe::queue::BeaconQueue::new(config_beacons),
        })))
    }

    /// The context transcode workers run with.
    pub fn worker_context(&self) -> WorkerContext {
        WorkerContext {
            config: self.config.clone(),
            db: self.db.clone(),
            store: self.store.clone(),
            wake: self.wake_workers.clone(),
            events: self.events.clone(),
        }
    }
}

/// Logs a failed request, except a 503: a node shedding load past the stream cap answers
/// thousands of those a second, and a log line each would add disk work to the overload.
/// (500s are logged with their cause where they arise, see [`crate::http::error`]; the one
/// other 503, `/healthz` without a database, logs its own warning.)
fn log_failure(class: tower_http::classify::ServerErrorsFailureClass, latency: Duration, _span: &tracing::Span) {
    use tower_http::classify::ServerErrorsFailureClass;
    if matches!(class, ServerErrorsFailureClass::StatusCode(s) if s == axum::http::StatusCode::SERVICE_UNAVAILABLE) {
        return;
    }
    tracing::error!(%class, latency_ms = latency.as_millis() as u64, "response failed");
}

/// All routes. Serve through [`crate::http::direct::Service`] with
/// [`crate::http::server::run`] (or anything that inserts `ConnectInfo<SocketAddr>`): rate
/// limits and IP-bound grants need the peer address.
///
/// Errors: an `auth.trusted_origins` entry that is not an origin.
pub fn router(state: AppState) -> anyhow::Result<Router> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD])
        .allow_headers([
            header::RANGE,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
            header::IF_RANGE,
            header::AUTHORIZATION,
        ])
        .expose_headers(crate::http::direct::EXPOSED_HEADER_NAMES);
    let routes = crate::http::openapi::api_routes();
    let tus_routes = routes.tus;
    let api = Router::new()
        .merge(routes.api)
        .merge(crate::http::openapi::contract_routes(&routes.doc)?)
        .layer(cors.clone());
    // Beacons come from players on any site: no CSRF check (they act as nobody; see
    // `http::qoe::beacons`), a body of 64 KiB at most.
    let beacons = routes
        .beacons
        .layer(axum::extract::DefaultBodyLimit::max(crate::qoe::beacon::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(crate::http::error::json_errors));
    // Media: GET and HEAD without a body, the bulk of all requests. They skip the CSRF check
    // and the request-body timer below, which have nothing to do there and cost a layer each
    // per request.
    let media = Router::new()
        .route("/hls/{id}/master.m3u8", get(media::multivariant))
        .route("/hls/{id}/{rendition}/{file}", get(media::rendition_file))
        .route("/hls/{id}/g/{grant}/master.m3u8", get(media::multivariant))
        .route("/hls/{id}/g/{grant}/{rendition}/{file}", get(media::rendition_file))
        .route("/media/{id}/poster.jpg", get(media::poster))
        .route("/media/{id}/original", get(media::original))
        .route("/media/{id}/g/{grant}/poster.jpg", get(media::poster))
        .route("/media/{id}/g/{grant}/original", get(media::original))
        .layer(cors)
        .layer(axum::middleware::from_fn(crate::http::error::json_errors));
    // Cookie-authenticated state changes must come from our own pages: Fetch Metadata and
    // Origin are checked (the Go 1.25 scheme); scripts without those headers pass, and
    // authenticate with bearer tokens or cookies they hold themselves.
    let mut csrf = CsrfLayer::new();
    for origin in &state.config.auth.trusted_origins {
        csrf = csrf
            .add_trusted_origin(origin)
            .map_err(|e| anyhow::anyhow!("auth.trusted_origins: {origin:?} is not an origin: {e}"))?;
    }
    let csrf = csrf.with_rejection_response(|_: tower_http::csrf::ProtectionError| {
        crate::http::error::ApiError::Forbidden(
            "cross-site request refused: state-changing requests must come from this site's own pages".into(),
        )
        .into_response()
    });
    let pages = Router::new()
        .route("/", get(pages::library))
        .route("/upload", get(pages::upload))
        .route("/live", get(pages::live))
        .route("/signin", get(pages::signin))
        .route("/signup", get(pages::signup))
        .route("/me", get(pages::me))
        .route("/analytics", get(pages::analytics))
        .route("/search", get(pages::search))
        .route("/u/{name}", get(pages::user))
        .route("/watch/{id}", get(crate::http::share::watch))
        .route("/assets/{file}", get(pages::assets))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            crate::http::security_headers::page_policy(&state.config),
        ));
    // The embed page: the one page other sites may frame.
    let embed = Router::new()
        .route("/embed/{id}", get(crate::http::share::embed))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            crate::http::security_headers::embed_policy(&state.config),
        ));
    let routes = Router::new()
        .route("/healthz", get(healthz))
        .merge(pages)
        .merge(embed)
        .merge(api)
        .merge(tus_routes)
        // Unknown paths: 404 through the same layers as the API (merging `media` below keeps
        // this fallback).
        .fallback(|| async { crate::http::error::ApiError::NotFound })
        .layer(axum::middleware::from_fn(crate::http::error::json_errors))
        .layer(csrf)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::body_timeout::idle_timeout,
        ))
        .merge(media)
        .merge(beacons)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::client_ip::resolve,
        ))
        .layer(TraceLayer::new_for_http().on_failure(log_failure))
        // Outermost, so every answer has them, also those of the layers above (CSRF refusals,
        // stalled-body 408s).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(crate::http::security_headers::RESOURCE_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ));
    // Request metrics only when they are exported: otherwise not even the layer's cost.
    let routes = if state.config.metrics.listen.is_empty() {
        routes
    } else {
        routes.layer(axum::middleware::from_fn(crate::metrics::track))
    };
    Ok(routes.with_state(state))
}

async fn healthz(State(app): State<AppState>) -> (StatusCode, &'static str) {
    if app.db.ping().await {
        (StatusCode::OK, "ok\n")
    } else {
        tracing::warn!("health check: the database does not answer");
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
    }
}

/// With `analytics.enabled`: the beacon writer (its handle, to wait for on shutdown) and the
/// rollup task.
fn start_analytics(state: &AppState, shutdown: CancellationToken) -> Option<tokio::task::JoinHandle<()>> {
    let a = &state.config.analytics;
    if !a.enabled {
        return None;
    }
    tokio::spawn(crate::qoe::rollup::run(
        state.db.clone(),
        a.view_idle_secs,
        a.raw_days,
        a.rollup_days,
        shutdown.clone(),
    ));
    let queue = state.qoe.clone();
    let db = state.db.clone();
    Some(tokio::spawn(async move { queue.run_writer(db, shutdown).await }))
}

/// Seconds in-flight work gets to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// `kino serve`: HTTP, pages, streaming, and (unless `workers` is false) transcode workers.
/// Prints `kino listening on http://ADDR` on stdout once it accepts connections.
pub async fn serve(config: Config, workers: bool) -> anyhow::Result<()> {
    let state = AppState::open(config).await?;
    let listener = tokio::net::TcpListener::bind(state.config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", state.config.listen))?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    if let Some(rtmp) = crate::live::start(state.live.clone(), shutdown.clone()).await? {
        let _ = state.rtmp_addr.set(rtmp);
    }
    let app = crate::http::direct::Service::new(router(state.clone())?, state.clone());
    crate::metrics::start(&state, shutdown.clone()).await?;
    let workers = workers.then(|| {
        tokio::spawn(worker::run_workers(
            state.worker_context(),
            state.config.workers.max(1),
            shutdown.clone(),
        ))
    });
    println!("kino listening on http://{addr}");
    tracing::info!(%addr, data_dir = %state.config.data_dir.display(), "serving");

    let signal = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        signal.cancel();
    });
    let limits = state.limits.clone();
    let beacon_limits = state.qoe.clone();
    let prune = shutdown.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = every.tick() => {
                    limits.prune();
                    beacon_limits.prune();
                }
                _ = prune.cancelled() => return,
            }
        }
    });
    tokio::spawn(
        state
            .delivery
            .streams()
            .clone()
            .release_memory_when_idle(shutdown.clone()),
    );
    tokio::spawn(state.videos.clone().follow(state.events.subscribe(), shutdown.clone()));
    tokio::spawn(
        state
            .live
            .edges
            .clone()
            .follow(state.events.subscribe(), shutdown.clone()),
    );
    tokio::spawn(crate::http::tus::expire_uploads(state.clone(), shutdown.clone()));
    let beacon_writer = start_analytics(&state, shutdown.clone());
    let stop = shutdown.clone();
    crate::http::server::run(listener, app, &state.config.http, stop).await;
    if let Some(w) = workers {
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, w).await;
    }
    state.events.flush(Duration::from_secs(2)).await;
    if let Some(w) = beacon_writer {
        // The beacons queued before the shutdown are written before the process ends.
        let _ = tokio::time::timeout(Duration::from_secs(5), w).await;
    }
    Ok(())
}

/// `kino worker`: transcode workers only, until SIGINT/SIGTERM.
pub async fn run_worker(config: Config) -> anyhow::Result<()> {
    let state = AppState::open(config).await?;
    let shutdown = CancellationToken::new();
    let signal = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        signal.cancel();
    });
    crate::metrics::start(&state, shutdown.clone()).await?;
    tracing::info!(workers = state.config.workers, "worker started");
    worker::run_workers(state.worker_context(), state.config.workers.max(1), shutdown).await;
    state.events.flush(Duration::from_secs(2)).await;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
