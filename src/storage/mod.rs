//! Media blobs (sources, segments, playlists, posters) behind [`BlobStore`], a thin layer over
//! the `object_store` crate: a local directory today, any S3-compatible store by adding its
//! builder here. Nothing outside this module names a backend.
//!
//! Key layout (see [`keys`]): `sources/{id}` for originals, `videos/{id}/hls/...` for the
//! ladder, `videos/{id}/poster.jpg`.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::{
    GetOptions, GetRange, GetResult, ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub use object_store::Error as StoreError;

/// Bytes per part when streaming into the store (object stores need ≥ 5 MiB parts).
const PART_BYTES: usize = 8 * 1024 * 1024;

/// Where each kind of blob lives.
pub mod keys {
    use object_store::path::Path as Key;

    /// The uploaded original.
    pub fn source(video_id: &str) -> Key {
        Key::from(format!("sources/{video_id}"))
    }
    /// Prefix of everything derived from a video (ladder and poster).
    pub fn derived_prefix(video_id: &str) -> Key {
        Key::from(format!("videos/{video_id}"))
    }
    /// A file of the HLS ladder, `relative` being e.g. `master.m3u8` or `720p/seg_00001.m4s`.
    pub fn hls(video_id: &str, relative: &str) -> Key {
        Key::from(format!("videos/{video_id}/hls/{relative}"))
    }
    /// The poster image.
    pub fn poster(video_id: &str) -> Key {
        Key::from(format!("videos/{video_id}/poster.jpg"))
    }
}

/// The media blob store, cheap to clone.
#[derive(Clone, Debug)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
}

impl BlobStore {
    /// A store rooted at a local directory, created if missing.
    ///
    /// Errors: the directory cannot be created or opened.
    pub fn local(dir: &Path) -> anyhow::Result<BlobStore> {
        std::fs::create_dir_all(dir)?;
        let fs = LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true);
        Ok(BlobStore { inner: Arc::new(fs) })
    }

    /// Starts a streamed write of `key`; nothing is visible under `key` until
    /// [`BlobWriter::finish`], and [`BlobWriter::abort`] leaves nothing behind.
    pub async fn writer(&self, key: &Key) -> Result<BlobWriter, StoreError> {
        let upload = self.inner.put_multipart(key).await?;
        Ok(BlobWriter {
            inner: WriteMultipart::new_with_chunk_size(upload, PART_BYTES),
            bytes: 0,
        })
    }

    /// Stores a local file under `key`, streamed in parts.
    pub async fn put_file(&self, key: &Key, file: &Path) -> anyhow::Result<u64> {
        let mut f = tokio::fs::File::open(file).await?;
        let mut w = self.writer(key).await?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match f.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    w.abort().await;
                    return Err(e.into());
                }
            };
            if let Err(e) = w.write(&buf[..n]).await {
                w.abort().await;
                return Err(e.into());
            }
        }
        Ok(w.finish().await?)
    }

    /// Stores a small blob in one request.
    pub async fn put_bytes(&self, key: &Key, bytes: impl Into<Bytes>) -> Result<(), StoreError> {
        self.inner
            .put(key, PutPayload::from_bytes(bytes.into()))
            .await
            .map(|_| ())
    }

    /// Copies `key` into a local file.
    pub async fn download(&self, key: &Key, file: &Path) -> anyhow::Result<u64> {
        let mut stream = self.inner.get(key).await?.into_stream();
        let mut out = tokio::fs::File::create(file).await?;
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            n += chunk.len() as u64;
            out.write_all(&chunk).await?;
        }
        out.flush().await?;
        Ok(n)
    }

    /// Size, modification time and entity tag of `key`.
    pub async fn head(&self, key: &Key) -> Result<ObjectMeta, StoreError> {
        self.inner.head(key).await
    }

    /// Streams `key`, or the byte range `range` (end exclusive) of it.
    pub async fn get(&self, key: &Key, range: Option<std::ops::Range<u64>>) -> Result<GetResult, StoreError> {
        let opts = GetOptions {
            range: range.map(GetRange::Bounded),
            ..Default::default()
        };
        self.inner.get_opts(key, opts).await
    }

    /// Deletes `key`; a missing key is not an error.
    pub async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        match self.inner.delete(key).await {
            Err(StoreError::NotFound { .. }) => Ok(()),
            r => r,
        }
    }

    /// Deletes every blob under `prefix`.
    pub async fn delete_prefix(&self, prefix: &Key) -> Result<(), StoreError> {
        let keys = self.inner.list(Some(prefix)).map_ok(|m| m.location).boxed();
        let mut deleted = self.inner.delete_stream(keys);
        while let Some(r) = deleted.next().await {
            match r {
                Ok(_) | Err(StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Lists the keys under `prefix`.
    pub async fn list(&self, prefix: &Key) -> Result<Vec<Key>, StoreError> {
        self.inner.list(Some(prefix)).map_ok(|m| m.location).try_collect().await
    }
}

/// A streamed write in progress; see [`BlobStore::writer`].
pub struct BlobWriter {
    inner: WriteMultipart,
    bytes: u64,
}

impl BlobWriter {
    /// Appends bytes, waiting while too many parts are in flight (backpressure).
    pub async fn write(&mut self, buf: &[u8]) -> Result<(), StoreError> {
        self.inner.wait_for_capacity(4).await?;
        self.inner.write(buf);
        self.bytes += buf.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.bytes
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// Completes the write; returns the blob's size in bytes.
    pub async fn finish(self) -> Result<u64, StoreError> {
        let n = self.bytes;
        self.inner.finish().await?;
        Ok(n)
    }

    /// Abandons the write; nothing is left under the key. Errors are logged, not returned.
    pub async fn abort(self) {
        if let Err(e) = self.inner.abort().await {
            tracing::warn!(error = %e, "aborting a partial blob write failed");
        }
    }
}
