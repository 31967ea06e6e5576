//! Prometheus metrics of a `kino serve` process (`metrics.listen`, off by default): the
//! `metrics` facade with `metrics-exporter-prometheus`'s recorder, rendered in the Prometheus
//! text exposition format 0.0.4 at `GET /metrics` on a listener of its own.
//!
//! Series (all prefixed `kino_`):
//! - `http_requests_total{route, method, status}` (counter) and
//!   `http_request_duration_seconds{route}` (histogram, seconds): every request, by the route
//!   pattern it matched, written `/hls/:id/:rendition/:file` (`unmatched` otherwise), so ids
//!   never become labels;
//! - `media_response_bytes_total{kind, rendition}` (counter, bytes): bodies of media answers
//!   (`segment`, `playlist`, `poster`, `original`), as declared by `Content-Length`, by
//!   rendition name (`720p`, …; empty for posters, originals and multivariant playlists);
//! - `segment_cache_requests_total{result}` (`hit`, `miss`) and `segment_cache_bytes` (gauge);
//! - `streams_in_flight` (gauge) and `streams_refused_total` (counter: 503s of
//!   `http.max_streams`);
//! - `jobs_queued` (gauge) and `jobs_oldest_queued_seconds` (gauge, seconds; 0 when none);
//! - `live_sockets` (gauge): open WebSockets of watch pages on this node;
//! - `live_publishers` (gauge): broadcasts ingested on this node; `live_ingest_bytes_total`
//!   (counter, bytes): what their publishers sent (`rate × 8` is the ingest bitrate);
//!   `live_viewers` (gauge): watch pages open on this node on streams that are live;
//! - `db_connections{state}` (gauge: `idle`, `in_use`): the database pool;
//! - `job_attempts_total{outcome}` (counter: `succeeded`, `rejected` — the source was refused,
//!   `failed` — a server-side fault, `cancelled`) and `transcode_realtime_factor` (histogram:
//!   seconds of media per second of work, successful attempts) from this process's workers
//!   (`kino serve` with in-process workers, or `kino worker`).
//!
//! - QoE (`docs/qoe.md`), counted as views are rolled up on this node: `qoe_views_total`,
//!   `qoe_play_requests_total`, `qoe_exits_before_start_total`, `qoe_playback_failures_total`,
//!   `qoe_rebuffers_total`, `qoe_watch_seconds_total`, `qoe_rebuffer_seconds_total` (seconds)
//!   and `qoe_video_start_seconds` (histogram, seconds); `qoe_beacon_events_total{result}`
//!   (`accepted`, `rejected` — a request refused as invalid counts once, `lost` — a failed
//!   write) and `qoe_write_seconds` (histogram: one batched write of beacons).
//!
//! Gauges are read when the endpoint is scraped; counters and the histogram as things happen.
//! Without `metrics.listen` no recorder is installed and every recording is a no-op.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio_util::sync::CancellationToken;

use crate::app::AppState;

/// Upper bounds of the request-duration histogram, seconds.
const DURATION_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Upper bounds of the real-time-factor histogram (seconds of media per second of work).
const REALTIME_BUCKETS: &[f64] = &[0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0];

/// With `metrics.listen` set: installs the recorder, serves `/metrics` until `shutdown` and
/// prints `kino metrics on http://ADDR/metrics` on stdout. Nothing otherwise.
///
/// Errors: a malformed or unbindable address, or a recorder already installed.
pub async fn start(app: &AppState, shutdown: CancellationToken) -> anyhow::Result<()> {
    if app.config.metrics.listen.is_empty() {
        return Ok(());
    }
    let at: SocketAddr = app.config.metrics.listen.parse()?;
    let handle = install()?;
    let addr = serve(at, handle, app.clone(), shutdown).await?;
    println!("kino metrics on http://{addr}/metrics");
    Ok(())
}

/// True once [`install`] ran: recordings whose labels cost work to build check it first.
static ON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// True when metrics are exported by this process.
pub fn enabled() -> bool {
    ON.load(std::sync::atomic::Ordering::Relaxed)
}

/// Installs the process-wide recorder.
///
/// Errors: a recorder is already installed in this process.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    ON.store(true, std::sync::atomic::Ordering::Relaxed);
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("kino_http_request_duration_seconds".into()),
            DURATION_BUCKETS,
        )
        .context("histogram buckets")?
        .set_buckets_for_metric(Matcher::Full("kino_transcode_realtime_factor".into()), REALTIME_BUCKETS)
        .context("histogram buckets")?
        .set_buckets_for_metric(
            Matcher::Full("kino_qoe_video_start_seconds".into()),
            &crate::qoe::rollup::start_buckets_secs(),
        )
        .context("histogram buckets")?
        .set_buckets_for_metric(Matcher::Full("kino_qoe_write_seconds".into()), DURATION_BUCKETS)
        .context("histogram buckets")?
        .install_recorder()
        .context("cannot install the metrics recorder")
}

/// Serves `GET /metrics` on `addr` until `shutdown`; returns the address it listens on.
///
/// Errors: the address cannot be bound.
pub async fn serve(
    addr: SocketAddr,
    handle: PrometheusHandle,
    app: AppState,
    shutdown: CancellationToken,
) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on metrics.listen = {addr}"))?;
    let local = listener.local_addr()?;
    let upkeep = handle.clone();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = every.tick() => upkeep.run_upkeep(),
                _ = stop.cancelled() => return,
            }
        }
    });
    let router = axum::Router::new()
        .route("/metrics", axum::routing::get(scrape))
        .with_state((handle, app));
    tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        if let Err(e) = served {
            tracing::warn!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(local)
}

/// `GET /metrics`: the gauges read now, then everything rendered.
async fn scrape(State((handle, app)): State<(PrometheusHandle, AppState)>) -> Response {
    metrics::gauge!("kino_streams_in_flight").set(app.delivery.streams().in_use() as f64);
    metrics::gauge!("kino_segment_cache_bytes").set(app.delivery.segment_cache_bytes() as f64);
    metrics::gauge!("kino_live_sockets").set(app.live_sockets.open() as f64);
    metrics::gauge!("kino_live_publishers").set(app.live.active() as f64);
    match app.db.live_now().await {
        Ok(live) => {
            let viewers: usize = live.iter().map(|v| app.live_sockets.watching(v)).sum();
            metrics::gauge!("kino_live_viewers").set(viewers as f64);
        }
        Err(e) => tracing::warn!("metrics: cannot list the live streams: {e}"),
    }
    let (open, idle) = app.db.pool_use();
    metrics::gauge!("kino_db_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("kino_db_connections", "state" => "in_use").set(open.saturating_sub(idle as u32) as f64);
    match app.db.queued_jobs().await {
        Ok((queued, oldest_ms)) => {
            metrics::gauge!("kino_jobs_queued").set(queued as f64);
            let age = oldest_ms.map_or(0.0, |t| ((crate::db::now_ms() - t).max(0) as f64) / 1000.0);
            metrics::gauge!("kino_jobs_oldest_queued_seconds").set(age);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: cannot read the job queue"),
    }
    handle.run_upkeep();
    let mut resp = handle.render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

/// Middleware: counts every request and times it, by the route pattern it matched.
pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| route_label(m.as_str()));
    let method = req.method().clone();
    let resp = next.run(req).await;
    record_request(route, &method, resp.status(), started);
    resp
}

/// Counts one answered request and times it from `started`: `route` is the label of the route
/// pattern (`/hls/:id/:rendition/:file`), as [`track`] records it.
pub fn record_request(route: String, method: &axum::http::Method, status: axum::http::StatusCode, started: Instant) {
    let status = status.as_u16().to_string();
    let method = method.as_str().to_string();
    metrics::counter!("kino_http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("kino_http_request_duration_seconds", "route" => route).record(started.elapsed().as_secs_f64());
}

/// A route pattern as a label: `/hls/{id}/{file}` → `/hls/:id/:file` (braces in label values
/// are valid, but some text-format parsers trip on them).
fn route_label(pattern: &str) -> String {
    pattern.replace('{', ":").replace('}', "")
}

#[cfg(test)]
mod tests {
    #[test]
    fn route_labels_name_parameters_without_braces() {
        assert_eq!(
            super::route_label("/hls/{id}/{rendition}/{file}"),
            "/hls/:id/:rendition/:file"
        );
    }
}
