//! The HTTP/1.1 server loop (hyper-util), for what `axum::serve` does not
//! offer: a header-read timeout, which also bounds how long an idle keep-alive connection is
//! kept (hyper arms it whenever it waits for a request head), so slow-header (slowloris) and
//! idle clients are cut off; and a graceful shutdown with a deadline — the listener closes at
//! once, in-flight responses get `http.shutdown_grace_secs` to finish; and a cap on open
//! connections (`http.max_connections`): a permit is taken at accept time and held until the
//! connection ends, and a connection accepted past the cap is closed at once.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::config::HttpConfig;
use crate::http::delivery::CHUNK_BYTES;
use crate::http::direct::Service;

/// Bytes hyper may queue per HTTP/1 connection (and the largest request head).
const WRITE_QUEUE_BYTES: usize = CHUNK_BYTES;

/// Serves `service` on `listener` until `shutdown` fires, then drains connections for at most
/// the grace period. Each connection gets [`Service::for_peer`] with its peer address.
pub async fn run(listener: TcpListener, service: Service, cfg: &HttpConfig, shutdown: CancellationToken) {
    // HTTP/1.1 only: browsers speak HTTP/2 only over TLS, which a proxy in front terminates,
    // and the slow-header/idle limits below are HTTP/1's.
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs_f64(cfg.header_read_timeout_secs))
        // hyper queues body chunks until this many bytes wait to be written (default ~400 KiB);
        // one file chunk's worth keeps a slow reader's response near two chunks in memory.
        // Also the most a request head may take.
        .max_buf_size(WRITE_QUEUE_BYTES);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(cfg.max_connections));
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => break,
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            // Dropping the stream closes it: no bytes read, no task spawned.
            tracing::warn!(%peer, max_connections = cfg.max_connections, "connection refused: at the connection cap");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service.for_peer(peer)))
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    let grace = Duration::from_secs_f64(cfg.shutdown_grace_secs);
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        tracing::warn!(
            grace_secs = cfg.shutdown_grace_secs,
            "responses still running at the shutdown deadline were cut off"
        );
    }
}
