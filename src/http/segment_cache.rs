//! Hot segments in memory (`http.segment_cache_bytes`): whole immutable segments and init
//! segments of the local media directory, kept as [`Bytes`] so that serving one is a single
//! write from memory (a range is a slice of it).
//!
//! - **Admission on the second request.** A file's first request only leaves its path in a
//!   small history of recent misses; the bytes are kept when it is asked for again while still
//!   remembered there. A crawler or a viewer skipping through a long video reads each segment
//!   once and so never displaces the segments many viewers are watching.
//! - **Eviction** by [`quick_cache`]'s S3-FIFO policy, weighted by bytes.
//! - **Validity.** An entry carries the identity of the file it was read from (device, inode,
//!   size, modification and change times — the change time cannot be set by a writer, so even an
//!   in-place rewrite that restores the mtime is seen); a lookup gives the bytes only when the file on disk still has
//!   that identity (the caller `stat`s it), so a re-processed video or a deleted file is never
//!   served from memory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use quick_cache::Weighter;
use quick_cache::sync::Cache;

use crate::http::validators::Validators;

/// Largest file kept, bytes: bigger ones (originals, odd long segments) always stream.
pub const MAX_ENTRY_BYTES: u64 = 16 * 1024 * 1024;

/// Bookkeeping bytes counted per entry on top of its data.
const ENTRY_OVERHEAD_BYTES: u64 = 256;

/// Which file a cache entry was read from: equal identities mean equal bytes, since Kino never
/// rewrites a media file in place (a new ladder is new files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileIdentity {
    pub dev: u64,
    pub ino: u64,
    /// Bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i128,
    /// Status change time (ctime), nanoseconds since the Unix epoch.
    pub ctime_ns: i128,
}

impl FileIdentity {
    /// The identity `stat(2)` reports for a file.
    pub fn of(meta: &std::fs::Metadata) -> FileIdentity {
        use std::os::unix::fs::MetadataExt;
        FileIdentity {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
        }
    }
}

#[derive(Clone)]
struct Entry {
    identity: FileIdentity,
    bytes: Bytes,
    validators: Validators,
}

#[derive(Clone)]
struct ByBytes;

impl Weighter<PathBuf, Entry> for ByBytes {
    fn weight(&self, key: &PathBuf, entry: &Entry) -> u64 {
        entry.bytes.len() as u64 + key.as_os_str().len() as u64 + ENTRY_OVERHEAD_BYTES
    }
}

/// The cache, cheap to clone; a disabled one (capacity 0) keeps nothing.
#[derive(Clone)]
pub struct SegmentCache {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    entries: Cache<PathBuf, Entry, ByBytes>,
    /// Paths requested once recently (the admission history).
    seen: Cache<PathBuf, ()>,
    max_entry: u64,
}

impl std::fmt::Debug for SegmentCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Some(inner) => f
                .debug_struct("SegmentCache")
                .field("bytes", &inner.entries.weight())
                .field("capacity", &inner.entries.capacity())
                .finish(),
            None => f.write_str("SegmentCache(off)"),
        }
    }
}

impl SegmentCache {
    /// A cache of at most `capacity` bytes (data plus a little bookkeeping each); 0 = off.
    pub fn new(capacity: u64) -> SegmentCache {
        if capacity == 0 {
            return SegmentCache { inner: None };
        }
        // Sized for ~256 KiB segments; quick_cache grows its tables if the guess is low.
        let items = (capacity / (256 * 1024)).clamp(16, 1 << 20) as usize;
        SegmentCache {
            inner: Some(Arc::new(Inner {
                entries: Cache::with_weighter(items, capacity, ByBytes),
                seen: Cache::new(items * 4),
                max_entry: MAX_ENTRY_BYTES.min(capacity / 8),
            })),
        }
    }

    /// The bytes of `path` and their validators, if they are held and the file still has
    /// `identity`.
    pub fn get(&self, path: &Path, identity: FileIdentity) -> Option<(Bytes, Validators)> {
        let inner = self.inner.as_ref()?;
        let entry = inner.entries.get(path)?;
        if entry.identity == identity {
            Some((entry.bytes, entry.validators))
        } else {
            inner.entries.remove(path);
            None
        }
    }

    /// Whether a file of `size` bytes at `path`, just missed, should now be read whole and
    /// kept: true on its second request while its first is remembered. A first request is
    /// remembered and answers false.
    pub fn admits(&self, path: &Path, size: u64) -> bool {
        let Some(inner) = &self.inner else { return false };
        if size == 0 || size > inner.max_entry {
            return false;
        }
        if inner.seen.remove(path).is_some() {
            return true;
        }
        inner.seen.insert(path.to_path_buf(), ());
        false
    }

    /// Keeps `bytes`, read from the file at `path` with `identity`, and the `validators` its
    /// responses carry.
    pub fn insert(&self, path: &Path, identity: FileIdentity, bytes: Bytes, validators: Validators) {
        if let Some(inner) = &self.inner {
            inner.entries.insert(
                path.to_path_buf(),
                Entry {
                    identity,
                    bytes,
                    validators,
                },
            );
        }
    }

    /// Bytes held now (data plus bookkeeping).
    pub fn weight(&self) -> u64 {
        self.inner.as_ref().map_or(0, |i| i.entries.weight())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags() -> Validators {
        Validators::new(Some("t"), 1, std::time::SystemTime::UNIX_EPOCH)
    }

    fn id(ino: u64, size: u64) -> FileIdentity {
        FileIdentity {
            dev: 1,
            ino,
            size,
            mtime_ns: 7,
            ctime_ns: 7,
        }
    }

    #[test]
    fn a_file_is_kept_on_its_second_request_only() {
        let cache = SegmentCache::new(64 * 1024 * 1024);
        let p = Path::new("/m/a.m4s");
        assert!(!cache.admits(p, 10), "first request: remembered, not kept");
        assert!(cache.admits(p, 10), "second request: kept");
        cache.insert(p, id(1, 10), Bytes::from_static(b"0123456789"), tags());
        assert_eq!(cache.get(p, id(1, 10)).unwrap().0, &b"0123456789"[..]);
        assert!(!cache.admits(Path::new("/m/b.m4s"), 10));
    }

    #[test]
    fn a_replaced_file_is_not_served_from_memory() {
        let cache = SegmentCache::new(64 * 1024 * 1024);
        let p = Path::new("/m/a.m4s");
        cache.insert(p, id(1, 3), Bytes::from_static(b"old"), tags());
        assert!(cache.get(p, id(2, 3)).is_none(), "another inode");
        assert!(cache.get(p, id(1, 3)).is_none(), "the stale entry is gone");
    }

    #[test]
    fn big_files_and_a_disabled_cache_keep_nothing() {
        let off = SegmentCache::new(0);
        let p = Path::new("/m/a.m4s");
        assert!(!off.admits(p, 1) && !off.admits(p, 1));
        off.insert(p, id(1, 1), Bytes::from_static(b"x"), tags());
        assert!(off.get(p, id(1, 1)).is_none());
        let small = SegmentCache::new(8 * 1024 * 1024);
        assert!(!small.admits(p, 2 * 1024 * 1024) && !small.admits(p, 2 * 1024 * 1024));
    }

    #[test]
    fn the_byte_budget_holds() {
        let cache = SegmentCache::new(1024 * 1024);
        for i in 0..64u64 {
            let p = PathBuf::from(format!("/m/{i}.m4s"));
            cache.insert(&p, id(i, 64 * 1024), Bytes::from(vec![0u8; 64 * 1024]), tags());
        }
        assert!(cache.weight() <= 1024 * 1024, "{} bytes held", cache.weight());
    }
}
