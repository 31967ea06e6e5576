//! Video records in memory for the media routes (`http.video_cache_secs`), so that serving a
//! segment does not read the database: at most 10,000 videos, each kept for the configured
//! seconds at most.
//!
//! Kept correct by, in order of speed:
//! 1. [`VideoCache::forget`] where this node changes a video (privacy, grants, deletion);
//! 2. the events every node receives ([`VideoCache::follow`]: privacy, deletion, ready,
//!    failed, playable, live state — over NATS from other nodes and workers);
//! 3. the time limit, for an event that was lost (NATS delivers at most once).
//!
//! Callers only trust a cached record to *allow*: a refusal is checked again against the
//! database, so a video that just became ready or public plays at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;
use tokio_util::sync::CancellationToken;

use crate::db::VideoRecord;
use crate::events::Events;

/// Most videos held.
const CAPACITY: usize = 10_000;

/// The cache, cheap to clone; one with a time limit of 0 holds nothing.
#[derive(Clone)]
pub struct VideoCache {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    entries: Cache<String, (Arc<VideoRecord>, Instant)>,
    ttl: Duration,
    /// Bumped by every forget: a record read before it is not stored after it.
    generation: AtomicU64,
}

impl std::fmt::Debug for VideoCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Some(i) => write!(f, "VideoCache({} videos, {:?})", i.entries.len(), i.ttl),
            None => f.write_str("VideoCache(off)"),
        }
    }
}

/// Where a caller stands before reading a video from the database: pass it back to
/// [`VideoCache::put`].
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

impl VideoCache {
    /// Records are served for at most `ttl_secs` seconds; 0 turns the cache off.
    pub fn new(ttl_secs: f64) -> VideoCache {
        if ttl_secs <= 0.0 {
            return VideoCache { inner: None };
        }
        VideoCache {
            inner: Some(Arc::new(Inner {
                entries: Cache::new(CAPACITY),
                ttl: Duration::from_secs_f64(ttl_secs),
                generation: AtomicU64::new(0),
            })),
        }
    }

    /// The record of video `id`, if held and younger than the time limit.
    pub fn get(&self, id: &str) -> Option<Arc<VideoRecord>> {
        let inner = self.inner.as_ref()?;
        let (video, at) = inner.entries.get(id)?;
        if at.elapsed() < inner.ttl {
            Some(video)
        } else {
            inner.entries.remove(id);
            None
        }
    }

    /// Take before reading a video from the database.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.inner.as_ref().map_or(0, |i| i.generation.load(Ordering::Acquire)))
    }

    /// Holds `video`, read from the database after `ticket` was taken — unless a change was
    /// announced meanwhile (the record may predate it).
    pub fn put(&self, ticket: Ticket, video: Arc<VideoRecord>) {
        let Some(inner) = &self.inner else { return };
        if inner.generation.load(Ordering::Acquire) == ticket.0 {
            inner.entries.insert(video.id.to_string(), (video, Instant::now()));
        }
    }

    /// Drops video `id`: it changed.
    pub fn forget(&self, id: &str) {
        if let Some(inner) = &self.inner {
            inner.generation.fetch_add(1, Ordering::AcqRel);
            inner.entries.remove(id);
        }
    }

    /// Runs until `stop`: forgets every video an event says changed, whichever node or worker
    /// published it. If this subscriber falls behind and misses events, it forgets everything.
    pub async fn follow(self, events: Events, stop: CancellationToken) {
        if self.inner.is_none() {
            return;
        }
        let mut rx = events.subscribe();
        loop {
            let event = tokio::select! {
                e = rx.recv() => e,
                _ = stop.cancelled() => return,
            };
            match event {
                Ok(event) if event.kind.changes_video() => self.forget(event.video_id.as_str()),
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => self.clear(),
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    fn clear(&self) {
        if let Some(inner) = &self.inner {
            inner.generation.fetch_add(1, Ordering::AcqRel);
            inner.entries.clear();
        }
    }
}
