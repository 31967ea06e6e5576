//! Where a media response's bytes come from, found with as little work per request as the
//! backend allows ([`locate`]):
//!
//! - **Local media directory**: one `stat(2)` of the file, inline. A hot segment held in the
//!   [`SegmentCache`] with the same identity is answered from memory; otherwise the file is
//!   opened and `fstat`ed inline (as nginx does: on a warm dentry cache these take
//!   microseconds) and read with positioned reads — inline when the bytes are in the page cache
//!   (`preadv2` with `RWF_NOWAIT`), on the blocking pool when they must come from disk. No
//!   `object_store` round trip, no thread hand-off on the hot path.
//! - **S3**: the store's `HEAD` and ranged `GET`, as before.
//!
//! Validators follow the stores' own: the local `ETag` is object_store's (`{inode:x}-{mtime
//! µs:x}-{size:x}`), so they do not change with this fast path.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use object_store::GetResultPayload;
use object_store::path::Path as Key;

use crate::http::error::ApiError;
use crate::http::segment_cache::{FileIdentity, SegmentCache};
use crate::http::validators::Validators;
use crate::storage::{BlobStore, StoreError};

/// Bytes read from a local file per step (and so, roughly, the buffer one response holds).
pub const CHUNK_BYTES: usize = 128 * 1024;

/// The bytes of one blob.
#[derive(Clone)]
pub enum Source {
    /// Held in memory (a hot segment).
    Memory(Bytes),
    /// An open local file.
    File(Arc<std::fs::File>),
    /// An object of a remote store, read by ranged GETs.
    Store(BlobStore, Key),
}

/// A blob as a response needs it: size in bytes, validators and where the bytes are.
pub struct Located {
    pub size: u64,
    pub validators: Validators,
    pub source: Source,
}

/// Finds the blob whose key's text is `key` in `store`. `hot` is consulted (and fed) only
/// when `cacheable` — immutable segments — and only on the local backend.
///
/// Errors: [`ApiError::NotFound`] when there is no such blob; I/O and store failures as 500.
pub async fn locate(store: &BlobStore, hot: &SegmentCache, key: &str, cacheable: bool) -> Result<Located, ApiError> {
    let Some(path) = store.local_path_of(key) else {
        let key = Key::from(key);
        let meta = match store.head(&key).await {
            Ok(m) => m,
            Err(StoreError::NotFound { .. }) => return Err(ApiError::NotFound),
            Err(e) => return Err(ApiError::Internal(e.into())),
        };
        return Ok(Located {
            size: meta.size,
            validators: Validators::new(meta.e_tag.as_deref(), meta.size, meta.last_modified.into()),
            source: Source::Store(store.clone(), key),
        });
    };
    locate_file(path, hot, cacheable).await
}

async fn locate_file(path: PathBuf, hot: &SegmentCache, cacheable: bool) -> Result<Located, ApiError> {
    if cacheable {
        let meta = std::fs::metadata(&path).map_err(not_found_or_internal)?;
        let identity = FileIdentity::of(&meta);
        if meta.is_file()
            && let Some((bytes, validators)) = hot.get(&path, identity)
        {
            metrics::counter!("kino_segment_cache_requests_total", "result" => "hit").increment(1);
            return Ok(Located {
                size: meta.len(),
                validators,
                source: Source::Memory(bytes),
            });
        }
        metrics::counter!("kino_segment_cache_requests_total", "result" => "miss").increment(1);
    }
    let file = std::fs::File::open(&path).map_err(not_found_or_internal)?;
    let meta = file.metadata().map_err(|e| ApiError::Internal(e.into()))?;
    if !meta.is_file() {
        return Err(ApiError::NotFound);
    }
    let file = Arc::new(file);
    let validators = Validators::of_file(&meta);
    let source = if cacheable && hot.admits(&path, meta.len()) {
        let bytes = read_whole(file.clone(), meta.len())
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
        hot.insert(&path, FileIdentity::of(&meta), bytes.clone(), validators.clone());
        Source::Memory(bytes)
    } else {
        Source::File(file)
    };
    Ok(Located {
        size: meta.len(),
        validators,
        source,
    })
}

fn not_found_or_internal(e: std::io::Error) -> ApiError {
    match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => ApiError::NotFound,
        _ => ApiError::Internal(e.into()),
    }
}

impl Source {
    /// Streams bytes `range` (end-exclusive; within the blob).
    ///
    /// Errors: the blob vanished (404) or the store failed (500).
    pub async fn range(
        &self,
        range: std::ops::Range<u64>,
    ) -> Result<BoxStream<'static, std::io::Result<Bytes>>, ApiError> {
        Ok(match self {
            Source::Memory(bytes) => {
                let part = bytes.slice(range.start as usize..range.end as usize);
                stream::once(async move { Ok(part) }).boxed()
            }
            Source::File(file) => file_stream(file.clone(), range),
            Source::Store(store, key) => {
                let result = match store.get(key, Some(range.clone())).await {
                    Ok(r) => r,
                    Err(StoreError::NotFound { .. }) => return Err(ApiError::NotFound),
                    Err(e) => return Err(ApiError::Internal(e.into())),
                };
                match result.payload {
                    GetResultPayload::File(file, _) => file_stream(Arc::new(file), range),
                    GetResultPayload::Stream(s) => s.map_err(std::io::Error::other).boxed(),
                }
            }
        })
    }
}

fn file_stream(file: Arc<std::fs::File>, range: std::ops::Range<u64>) -> BoxStream<'static, std::io::Result<Bytes>> {
    stream::try_unfold(range.start, move |pos| {
        let file = file.clone();
        let end = range.end;
        async move {
            if pos >= end {
                return Ok(None);
            }
            let n = (end - pos).min(CHUNK_BYTES as u64) as usize;
            let chunk = read_at(file, pos, n).await?;
            if chunk.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file is shorter than its recorded size",
                ));
            }
            let next = pos + chunk.len() as u64;
            Ok(Some((chunk, next)))
        }
    })
    .boxed()
}

/// Up to `n` bytes at `pos`: page-cache hits (the usual case for segments being watched) are
/// read right here; only a read that would wait for the disk goes to the blocking pool.
async fn read_at(file: Arc<std::fs::File>, pos: u64, n: usize) -> std::io::Result<Bytes> {
    if let Some(chunk) = pread(&file, pos, n, libc::RWF_NOWAIT)? {
        return Ok(chunk);
    }
    tokio::task::spawn_blocking(move || pread(&file, pos, n, 0))
        .await
        .map_err(std::io::Error::other)??
        .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::WouldBlock))
}

/// The whole file (`size` bytes) in one buffer.
async fn read_whole(file: Arc<std::fs::File>, size: u64) -> std::io::Result<Bytes> {
    let size = size as usize;
    let first = read_at(file.clone(), 0, size).await?;
    if first.len() == size {
        return Ok(first);
    }
    let mut all = Vec::with_capacity(size);
    all.extend_from_slice(&first);
    while all.len() < size {
        let chunk = read_at(file.clone(), all.len() as u64, size - all.len()).await?;
        if chunk.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file is shorter than its recorded size",
            ));
        }
        all.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(all))
}

/// Reads up to `len` bytes at `pos` with `preadv2(2)` into a fresh buffer (no zero-fill).
/// With `RWF_NOWAIT`, `Ok(None)` when the bytes are not all in the page cache and the read
/// would wait for the disk; with flags 0 it always reads. Short reads return what was read.
fn pread(file: &std::fs::File, pos: u64, len: usize, flags: libc::c_int) -> std::io::Result<Option<Bytes>> {
    use std::os::fd::AsRawFd;
    let mut buf: Vec<u8> = Vec::with_capacity(len);
    let iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: len,
    };
    // SAFETY: `iov` describes `len` bytes of `buf`'s allocation, which outlives the call; the
    // kernel writes at most `len` bytes there and reports how many.
    let n = unsafe { libc::preadv2(file.as_raw_fd(), &iov, 1, pos as libc::off_t, flags) };
    if n < 0 {
        let err = std::io::Error::last_os_error();
        return match err.raw_os_error() {
            // Not cached, or no RWF_NOWAIT here (old kernel, seccomp): read on the blocking pool.
            Some(libc::EAGAIN | libc::EOPNOTSUPP | libc::EINVAL | libc::ENOSYS) if flags != 0 => Ok(None),
            Some(libc::EINTR) => pread(file, pos, len, flags),
            _ => Err(err),
        };
    }
    if n == 0 && flags != 0 {
        // A no-wait read may come back empty; only a blocking read can say end of file.
        return Ok(None);
    }
    // SAFETY: the kernel initialised the first `n` (≤ `len`) bytes.
    unsafe { buf.set_len(n as usize) };
    Ok(Some(Bytes::from(buf)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_segment_is_served_from_memory_from_its_second_request_and_not_after_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg.m4s");
        std::fs::write(&path, vec![7u8; 300_000]).unwrap();
        let hot = SegmentCache::new(64 * 1024 * 1024);
        let first = locate_file(path.clone(), &hot, true).await.unwrap();
        assert!(matches!(first.source, Source::File(_)));
        let second = locate_file(path.clone(), &hot, true).await.unwrap();
        assert!(matches!(second.source, Source::Memory(ref b) if b.len() == 300_000));
        let third = locate_file(path.clone(), &hot, true).await.unwrap();
        assert!(matches!(third.source, Source::Memory(_)));
        assert_eq!(first.validators.etag, third.validators.etag);
        // Replaced (a new file, as a re-process writes): read from disk again.
        let tmp = dir.path().join("seg.tmp");
        std::fs::write(&tmp, vec![9u8; 300_001]).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        let fourth = locate_file(path.clone(), &hot, true).await.unwrap();
        assert_eq!(fourth.size, 300_001);
        assert!(matches!(fourth.source, Source::File(_)));
        assert_ne!(fourth.validators.etag, first.validators.etag);
        // Not cacheable (a playlist, an original): never from memory.
        let fifth = locate_file(path.clone(), &hot, false).await.unwrap();
        assert!(matches!(fifth.source, Source::File(_)));
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(locate_file(path, &hot, true).await, Err(ApiError::NotFound)));
    }
}
