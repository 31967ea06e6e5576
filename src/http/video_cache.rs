//! Video records in memory for the media routes (`http.video_cache_secs`), so that serving a
//! segment does not read the database: at most [`CAPACITY_BYTES`] of records (≈ 1 KiB each
//! without a long description), each served for the configured seconds at most, counted from
//! when it was read.
//!
//! Kept correct by, in order of speed:
//! 1. [`VideoCache::forget`] where this node changes a video (privacy, grants, deletion);
//! 2. the events every node receives ([`VideoCache::follow`]: privacy, deletion, ready,
//!    failed, playable, live state — over NATS from other nodes and workers);
//! 3. the time limit, for an event that was lost (NATS delivers at most once).
//!
//! Callers only trust a cached record to *allow*: a refusal is checked again against the
//! database, so a video that just became ready or public plays at once.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use quick_cache::Weighter;
use quick_cache::sync::Cache;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::db::VideoRecord;
use crate::events::Event;

/// Most bytes of records held (estimated: text fields plus a fixed part per record).
pub const CAPACITY_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Clone)]
struct RecordWeight;

impl Weighter<String, (Arc<VideoRecord>, Instant)> for RecordWeight {
    fn weight(&self, _id: &String, (v, _): &(Arc<VideoRecord>, Instant)) -> u64 {
        let text =
            v.title.len() + v.description.len() + v.source_name.len() + v.tags.iter().map(String::len).sum::<usize>();
        (512 + text + v.renditions.len() * 256) as u64
    }
}

/// The cache, cheap to clone; one with a time limit of 0 holds nothing.
#[derive(Clone)]
pub struct VideoCache {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    entries: Cache<String, (Arc<VideoRecord>, Instant), RecordWeight>,
    ttl: Duration,
    /// Bumped by every forget: a record read before it is not stored after it. The lock makes
    /// "check the generation, then insert" and "bump it, then remove" exclusive, so once
    /// [`VideoCache::forget`] returns no older read can be stored.
    generation: Mutex<u64>,
}

impl std::fmt::Debug for VideoCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Some(i) => write!(f, "VideoCache({} videos, {:?})", i.entries.len(), i.ttl),
            None => f.write_str("VideoCache(off)"),
        }
    }
}

/// Where a caller stands before reading a video from the database (the generation, and when):
/// pass it back to [`VideoCache::put`].
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64, Instant);

impl VideoCache {
    /// Records are served for at most `ttl_secs` seconds; 0 turns the cache off.
    pub fn new(ttl_secs: f64) -> VideoCache {
        if ttl_secs <= 0.0 {
            return VideoCache { inner: None };
        }
        VideoCache {
            inner: Some(Arc::new(Inner {
                entries: Cache::with_weighter(16 * 1024, CAPACITY_BYTES, RecordWeight),
                ttl: Duration::from_secs_f64(ttl_secs),
                generation: Mutex::new(0),
            })),
        }
    }

    /// The record of video `id`, if held and younger than the time limit.
    pub fn get(&self, id: &str) -> Option<Arc<VideoRecord>> {
        let inner = self.inner.as_ref()?;
        let (video, read_at) = inner.entries.get(id)?;
        if read_at.elapsed() < inner.ttl {
            Some(video)
        } else {
            inner.entries.remove(id);
            None
        }
    }

    /// Take before reading a video from the database.
    pub fn ticket(&self) -> Ticket {
        let generation = self.inner.as_ref().map_or(0, |i| *lock(&i.generation));
        Ticket(generation, Instant::now())
    }

    /// Holds `video`, read from the database after `ticket` was taken — unless a change was
    /// announced meanwhile (the record may predate it).
    pub fn put(&self, ticket: Ticket, video: Arc<VideoRecord>) {
        let Some(inner) = &self.inner else { return };
        let generation = lock(&inner.generation);
        if *generation == ticket.0 {
            inner.entries.insert(video.id.to_string(), (video, ticket.1));
        }
    }

    /// Drops video `id`: it changed.
    pub fn forget(&self, id: &str) {
        if let Some(inner) = &self.inner {
            let mut generation = lock(&inner.generation);
            *generation += 1;
            inner.entries.remove(id);
        }
    }

    /// Runs until `stop`: forgets every video an event on `rx` (from
    /// [`crate::events::Events::subscribe`], taken before serving) says changed, whichever
    /// node or worker published it. If it falls behind and misses events, it forgets everything.
    pub async fn follow(self, mut rx: broadcast::Receiver<Arc<Event>>, stop: CancellationToken) {
        if self.inner.is_none() {
            return;
        }
        loop {
            let event = tokio::select! {
                e = rx.recv() => e,
                _ = stop.cancelled() => return,
            };
            match event {
                Ok(event) if event.kind.changes_video() => self.forget(event.video_id.as_str()),
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => self.clear(),
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    fn clear(&self) {
        if let Some(inner) = &self.inner {
            let mut generation = lock(&inner.generation);
            *generation += 1;
            inner.entries.clear();
        }
    }
}

/// The generation lock; a panic while holding it cannot leave the number half-written.
fn lock(m: &Mutex<u64>) -> std::sync::MutexGuard<'_, u64> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Privacy;
    use crate::ids::VideoId;
    use crate::video::VideoStatus;

    fn record(id: &str) -> Arc<VideoRecord> {
        Arc::new(VideoRecord {
            id: VideoId::parse(id).unwrap(),
            title: "t".into(),
            description: String::new(),
            status: VideoStatus::Ready,
            progress: 100.0,
            error: None,
            source_name: "a.mp4".into(),
            source_bytes: 1,
            duration: Some(1.0),
            renditions: Vec::new(),
            has_poster: false,
            has_storyboard: false,
            created_at: 0,
            owner_id: Some(1),
            owner_name: None,
            privacy: Privacy::Public,
            tags: Vec::new(),
            views: 0,
            comments_enabled: true,
            grant_generation: 0,
            live: None,
        })
    }

    #[test]
    fn a_record_read_before_a_change_is_never_kept_after_it() {
        let cache = VideoCache::new(60.0);
        let id = "AAAAAAAAAAAA";
        let ticket = cache.ticket();
        cache.forget(id); // the change lands while the read is in flight
        cache.put(ticket, record(id));
        assert!(cache.get(id).is_none());
        let fresh = cache.ticket();
        cache.put(fresh, record(id));
        assert!(cache.get(id).is_some());
        cache.forget(id);
        assert!(cache.get(id).is_none());
    }

    #[test]
    fn records_expire_from_when_they_were_read_and_a_zero_limit_keeps_nothing() {
        let cache = VideoCache::new(0.05);
        let ticket = cache.ticket();
        std::thread::sleep(Duration::from_millis(60));
        cache.put(ticket, record("BBBBBBBBBBBB"));
        assert!(cache.get("BBBBBBBBBBBB").is_none(), "read 60 ms ago, limit 50 ms");
        let off = VideoCache::new(0.0);
        off.put(off.ticket(), record("CCCCCCCCCCCC"));
        assert!(off.get("CCCCCCCCCCCC").is_none());
    }
}
