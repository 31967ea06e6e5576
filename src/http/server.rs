//! The HTTP/1.1 server loop (hyper-util), for what `axum::serve` does not
//! offer: a header-read timeout, which also bounds how long an idle keep-alive connection is
//! kept (hyper arms it whenever it waits for a request head), so slow-header (slowloris) and
//! idle clients are cut off; and a graceful shutdown with a deadline — the listener closes at
//! once, in-flight responses get `http.shutdown_grace_secs` to finish; and a cap on open
//! connections (`http.max_connections`): a permit is taken at accept time and held until the
//! connection ends, and a connection accepted past the cap is closed at once.
//!
//! With `http.sendfile` (the default) a connection is read first by [`http1_media`], which
//! answers plain GETs and HEADs of media files itself and hands the connection to hyper at
//! its first other request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::HttpConfig;
use crate::http::delivery::CHUNK_BYTES;
use crate::http::direct::Service;
use crate::http::http1_media;

/// Bytes hyper may queue per HTTP/1 connection (and the largest request head).
const WRITE_QUEUE_BYTES: usize = CHUNK_BYTES;

/// Serves `service` on `listener` until `shutdown` fires, then drains connections for at most
/// the grace period. Each connection gets [`Service::for_peer`] with its peer address; with
/// `http.sendfile`, media files are answered by [`http1_media`] first.
pub async fn run(listener: TcpListener, service: Service, cfg: &HttpConfig, shutdown: CancellationToken) {
    // HTTP/1.1 only: browsers speak HTTP/2 only over TLS, which a proxy in front terminates,
    // and the slow-header/idle limits below are HTTP/1's.
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    let head_timeout = Duration::from_secs_f64(cfg.header_read_timeout_secs);
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(head_timeout)
        // hyper queues body chunks until this many bytes wait to be written (default ~400 KiB);
        // one file chunk's worth keeps a slow reader's response near two chunks in memory.
        // Also the most a request head may take.
        .max_buf_size(WRITE_QUEUE_BYTES);
    let hyper = Hyper {
        builder: Arc::new(builder),
        service: service.clone(),
    };
    let tracker = TaskTracker::new();
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
        let (hyper, shutdown) = (hyper.clone(), shutdown.clone());
        if cfg.sendfile {
            let service = service.clone();
            tracker.spawn(async move {
                let stop = shutdown.clone();
                let hand_over = |io| async move { hyper.serve(io, peer, &stop).await };
                http1_media::serve(
                    stream,
                    peer,
                    service,
                    hand_over,
                    head_timeout,
                    WRITE_QUEUE_BYTES,
                    shutdown,
                )
                .await;
                drop(permit);
            });
        } else {
            tracker.spawn(async move {
                hyper.serve(stream, peer, &shutdown).await;
                drop(permit);
            });
        }
    }
    drop(listener);
    tracker.close();
    let grace = Duration::from_secs_f64(cfg.shutdown_grace_secs);
    if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
        tracing::warn!(
            grace_secs = cfg.shutdown_grace_secs,
            "responses still running at the shutdown deadline were cut off"
        );
    }
}

/// hyper's HTTP/1.1 server for one connection at a time, cheap to clone.
#[derive(Clone)]
struct Hyper {
    builder: Arc<Builder<TokioExecutor>>,
    service: Service,
}

impl Hyper {
    /// Serves the connection `io` from `peer` to its end. When `shutdown` fires, the
    /// connection finishes the response in flight and closes (hyper's graceful shutdown).
    async fn serve<I>(&self, io: I, peer: SocketAddr, shutdown: &CancellationToken)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let conn = self
            .builder
            .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(self.service.for_peer(peer)));
        tokio::pin!(conn);
        let result = tokio::select! {
            // The connection first: handed over during a shutdown with a request already read,
            // it must get past its first read (hyper-util's version check) before being told
            // to stop, or the request would be dropped unanswered.
            biased;
            result = conn.as_mut() => result,
            _ = shutdown.cancelled() => {
                conn.as_mut().graceful_shutdown();
                conn.await
            }
        };
        if let Err(e) = result {
            tracing::debug!(%peer, error = %e, "connection ended with an error");
        }
    }
}
