//! The beacon write queue: handlers validate a request and queue it ([`BeaconQueue::push`]);
//! one writer task per node takes everything queued and stores it in one transaction, so the
//! database sees a few large writes instead of one per request. Under load the batches grow
//! by themselves (what arrived during a write is the next write); a full queue refuses with
//! 503 so players back off. On shutdown the writer stores what is queued before it stops.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Instant;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::db::Db;
use crate::db::qoe::BeaconBatch;

/// Beacon requests waiting to be written at most (each ≤ 200 events).
const QUEUE_REQUESTS: usize = 4096;
/// Events written per transaction at most.
const WRITE_EVENTS: usize = 10_000;

/// Why a beacon request was not queued.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Refusal {
    /// Too many requests from this address: retry after so many seconds.
    RateLimited(f64),
    /// The write queue is full (the database is behind).
    Full,
}

/// The queue and the per-address limit, cheap to clone.
#[derive(Clone)]
pub struct BeaconQueue {
    tx: mpsc::Sender<BeaconBatch>,
    rx: Arc<Mutex<Option<mpsc::Receiver<BeaconBatch>>>>,
    per_ip: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl std::fmt::Debug for BeaconQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BeaconQueue")
    }
}

impl BeaconQueue {
    /// A queue taking `per_minute` requests a minute from one address (at least 1).
    pub fn new(per_minute: u32) -> BeaconQueue {
        let (tx, rx) = mpsc::channel(QUEUE_REQUESTS);
        let quota = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).expect("at least 1"));
        BeaconQueue {
            tx,
            rx: Arc::new(Mutex::new(Some(rx))),
            per_ip: Arc::new(RateLimiter::keyed(quota)),
        }
    }

    /// Counts a request from `ip` against its limit. Errors: [`Refusal::RateLimited`].
    pub fn admit(&self, ip: IpAddr) -> Result<(), Refusal> {
        self.per_ip
            .check_key(&ip)
            .map_err(|n| Refusal::RateLimited(n.wait_time_from(DefaultClock::default().now()).as_secs_f64()))
    }

    /// Queues a validated request. Errors: [`Refusal::Full`].
    pub fn push(&self, batch: BeaconBatch) -> Result<(), Refusal> {
        self.tx.try_send(batch).map_err(|_| Refusal::Full)
    }

    /// Forgets idle rate-limit entries.
    pub fn prune(&self) {
        self.per_ip.retain_recent();
    }

    /// Writes what is queued until `stop`, then what is left. Runs once per queue: a second
    /// call returns at once.
    pub async fn run_writer(&self, db: Db, stop: CancellationToken) {
        let Some(mut rx) = self.rx.lock().expect("not poisoned").take() else {
            return;
        };
        loop {
            let first = tokio::select! {
                b = rx.recv() => b,
                _ = stop.cancelled() => {
                    rx.close();
                    rx.recv().await
                }
            };
            let Some(first) = first else { return };
            let mut events = first.events.len();
            let mut batches = vec![first];
            while events < WRITE_EVENTS {
                match rx.try_recv() {
                    Ok(b) => {
                        events += b.events.len();
                        batches.push(b);
                    }
                    Err(_) => break,
                }
            }
            let started = Instant::now();
            match db.store_beacons(&batches).await {
                Ok(_) => {
                    metrics::histogram!("kino_qoe_write_seconds").record(started.elapsed().as_secs_f64());
                }
                Err(e) => {
                    // Analytics are not worth retrying into an ailing database: the player
                    // data of this write is dropped, and said so.
                    metrics::counter!("kino_qoe_beacon_events_total", "result" => "lost").increment(events as u64);
                    tracing::warn!("{events} QoE beacon events could not be stored and were dropped: {e}");
                }
            }
        }
    }
}
