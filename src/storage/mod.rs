//! Media blobs (sources, segments, playlists, posters) behind [`BlobStore`], a thin layer over
//! the `object_store` crate: a local directory ([`BlobStore::local`], the embedded default) or
//! any S3-compatible store ([`BlobStore::s3`]: AWS S3, MinIO, Ceph, R2). Writes are streamed
//! as multipart uploads, reads are ranged GETs. Nothing outside this module names a backend.
//!
//! Key layout (see [`keys`]): `sources/{id}` for originals, `videos/{id}/hls/...` for the
//! ladder, `videos/{id}/poster.jpg`.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::prefix::PrefixStore;
use object_store::signer::Signer;
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

    /// `path` as a key. A path of Kino's own names (`[A-Za-z0-9_.-]` segments, none empty,
    /// none `.` or `..`) needs no encoding and is taken as it is — on the media routes this is
    /// per request, and `Key::from`'s encoding pass costs more than the rest of finding a hot
    /// segment; anything else is encoded part by part by `Key::from`. Both give the same key.
    fn plain(path: String) -> Key {
        match is_plain(&path).then(|| Key::parse(&path)) {
            Some(Ok(key)) => key,
            _ => Key::from(path),
        }
    }

    /// Whether `text` is a key of Kino's own names as it is: `/`-separated parts of
    /// `[A-Za-z0-9_.-]`, none empty, `.` or `..` (one pass over the bytes).
    pub fn is_plain(text: &str) -> bool {
        let bytes = text.as_bytes();
        let mut start = 0;
        for i in 0..=bytes.len() {
            if i == bytes.len() || bytes[i] == b'/' {
                if matches!(&bytes[start..i], b"" | b"." | b"..") {
                    return false;
                }
                start = i + 1;
            } else if !(bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'-' | b'.')) {
                return false;
            }
        }
        true
    }

    /// The text of [`hls`]`(video_id, "{rendition}/{file}")`, for the media routes, which
    /// look the file up without making a [`Key`] ([`super::BlobStore::local_path_of`]).
    pub fn hls_text(video_id: &str, rendition: &str, file: &str) -> String {
        format!("videos/{video_id}/hls/{rendition}/{file}")
    }

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
        plain(format!("videos/{video_id}/hls/{relative}"))
    }
    /// The poster image.
    pub fn poster(video_id: &str) -> Key {
        Key::from(format!("videos/{video_id}/poster.jpg"))
    }
    /// Prefix of the chunks of a resumable upload in progress.
    pub fn upload_prefix(video_id: &str) -> Key {
        Key::from(format!("uploads/{video_id}"))
    }
    /// Chunk `n` (from 0) of a resumable upload as written by one PATCH attempt (`token` tells
    /// attempts at the same offset apart, so a losing attempt never touches the winner's).
    pub fn upload_chunk(video_id: &str, n: u32, token: &str) -> Key {
        Key::from(format!("uploads/{video_id}/{n:08}-{token}"))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn plain_keys_are_the_keys_key_from_makes() {
            for path in [
                "videos/abc/hls/720p/seg_00001.m4s",
                "videos/a.b/hls/x",
                "a/./b",
                "a//b",
                "/a/b",
                "a/b/",
                "a/../b",
                "a/%41/b",
                "a/{b}/c",
            ] {
                assert_eq!(plain(path.to_string()), Key::from(path.to_string()), "{path}");
            }
            assert!(is_plain("videos/abc/hls/720p/seg_00001.m4s"));
            for text in ["", "/a", "a/", "a//b", "a/./b", "a/../b", "..", "a/b c", "a/%41"] {
                assert!(!is_plain(text), "{text}");
            }
            assert_eq!(hls_text("v", "720p", "s.m4s"), hls("v", "720p/s.m4s").as_ref());
        }
    }
}

/// The media blob store, cheap to clone.
#[derive(Clone, Debug)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    /// The bucket and key prefix, when the store is S3 (presigned URLs are made from it).
    s3: Option<S3Bucket>,
    /// The directory store, when local: whole-blob copies are hard links.
    local: Option<Arc<LocalFileSystem>>,
    /// The local store's directory (canonical), for [`BlobStore::local_path`].
    root: Option<Arc<std::path::Path>>,
}

#[derive(Clone, Debug)]
struct S3Bucket {
    client: Arc<AmazonS3>,
    prefix: String,
}

impl BlobStore {
    /// A store rooted at a local directory, created if missing.
    ///
    /// Errors: the directory cannot be created or opened.
    pub fn local(dir: &Path) -> anyhow::Result<BlobStore> {
        std::fs::create_dir_all(dir)?;
        let root = std::fs::canonicalize(dir)?;
        let fs = Arc::new(LocalFileSystem::new_with_prefix(&root)?.with_automatic_cleanup(true));
        Ok(BlobStore {
            inner: fs.clone(),
            s3: None,
            local: Some(fs),
            root: Some(Arc::from(root.as_path())),
        })
    }

    /// A store in an S3-compatible bucket: `url` is `s3://BUCKET` or `s3://BUCKET/PREFIX`.
    /// Settings unset in `config` come from the standard `AWS_*` environment variables.
    /// Nothing is contacted here; a wrong bucket or credential shows on first use.
    ///
    /// Errors: a malformed URL or an invalid client setting.
    pub fn s3(url: &str, config: &crate::config::S3Config) -> anyhow::Result<BlobStore> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| anyhow::anyhow!("storage URL {url:?} must start with s3://"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        anyhow::ensure!(!bucket.is_empty(), "storage URL {url:?} names no bucket");
        let prefix = prefix.trim_matches('/').to_string();
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(endpoint) = &config.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_virtual_hosted_style_request(false)
                .with_allow_http(config.allow_http.unwrap_or(endpoint.starts_with("http://")));
        } else if let Some(allow) = config.allow_http {
            builder = builder.with_allow_http(allow);
        }
        let region = config
            .region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok())
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
            .unwrap_or_else(|| "us-east-1".into());
        builder = builder.with_region(region);
        if let Some(id) = &config.access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = &config.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let client = Arc::new(builder.build()?);
        let inner: Arc<dyn ObjectStore> = if prefix.is_empty() {
            client.clone()
        } else {
            Arc::new(PrefixStore::new(client.clone(), prefix.as_str()))
        };
        Ok(BlobStore {
            inner,
            s3: Some(S3Bucket { client, prefix }),
            local: None,
            root: None,
        })
    }

    /// Opens the store a configuration names: `storage` (S3) or the local media directory.
    ///
    /// Errors: see [`BlobStore::s3`] and [`BlobStore::local`].
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<BlobStore> {
        match &config.storage {
            Some(url) => BlobStore::s3(url, &config.s3),
            None => BlobStore::local(&config.media_dir()),
        }
    }

    /// True when blobs live in an S3-compatible bucket.
    pub fn is_s3(&self) -> bool {
        self.s3.is_some()
    }

    /// The key of `key` inside the bucket (with the store's prefix), as a CDN in front of the
    /// bucket sees it; `None` for a local store.
    pub fn bucket_key(&self, key: &Key) -> Option<String> {
        let s3 = self.s3.as_ref()?;
        Some(if s3.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{}", s3.prefix, key)
        })
    }

    /// A presigned GET URL for `key`, valid for `ttl` (AWS SigV4 query signing); `None` for a
    /// local store. The URL honours `Range` like the object itself.
    pub async fn presigned_get(&self, key: &Key, ttl: std::time::Duration) -> Result<Option<String>, StoreError> {
        let Some(s3) = &self.s3 else { return Ok(None) };
        let full = Key::from(self.bucket_key(key).unwrap_or_default());
        let url = s3
            .client
            .signed_url(object_store::signer::Method::GET, &full, ttl)
            .await?;
        Ok(Some(url.to_string()))
    }

    /// Starts a streamed write of `key`; nothing is visible under `key` until
    /// [`BlobWriter::finish`], and [`BlobWriter::abort`] leaves nothing behind.
    ///
    /// Errors: [`WriteError::Full`] when the store has no space left.
    pub async fn writer(&self, key: &Key) -> Result<BlobWriter, WriteError> {
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

    /// Copies `key` into the local file `file` (which must not exist): a hard link on the local
    /// store when both are on one file system, else a streamed copy. Returns its size in bytes.
    pub async fn download(&self, key: &Key, file: &Path) -> anyhow::Result<u64> {
        // Local store on the same file system: a hard link, instant whatever the size (blobs
        // are never written in place, so the link cannot change under its reader).
        if let Some(fs) = &self.local
            && let Ok(path) = fs.path_to_filesystem(key)
            && tokio::fs::hard_link(&path, file).await.is_ok()
        {
            return Ok(tokio::fs::metadata(file).await?.len());
        }
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

    /// The file holding `key` on the local backend (whether or not it exists yet), as
    /// object_store's local store names it; `None` for a remote store. The delivery fast path
    /// reads it directly; everything else goes through the store. A [`Key`] is made of
    /// non-empty `/`-separated parts without `.`/`..`, so it stays under the directory.
    pub fn local_path(&self, key: &Key) -> Option<std::path::PathBuf> {
        Some(self.root.as_ref()?.join(key.as_ref()))
    }

    /// [`BlobStore::local_path`] of the key whose text is `text`, without making the
    /// [`Key`]: `None` for a remote store, and for a text that is not a plain key
    /// ([`keys::is_plain`]; such a blob is found through the store instead).
    pub fn local_path_of(&self, text: &str) -> Option<std::path::PathBuf> {
        let root = self.root.as_ref()?;
        keys::is_plain(text).then(|| root.join(text))
    }

    /// Copies blob `from` to `to` inside the store: a hard link on the local store, a
    /// server-side `CopyObject` on S3 — no bytes pass through Kino.
    ///
    /// Errors: `from` is missing, or the store refused.
    pub async fn copy(&self, from: &Key, to: &Key) -> Result<(), StoreError> {
        self.inner.copy(from, to).await
    }

    /// Writes the blobs `parts`, in order, one after the other into a new blob `into`
    /// (streamed: memory stays at one store part; a single part on the local store is hard
    /// linked instead). Returns its size in bytes.
    ///
    /// Errors: a part is missing or unreadable, or [`WriteError::Full`].
    pub async fn concat(&self, parts: &[Key], into: &Key) -> Result<u64, WriteError> {
        if let Some(fs) = &self.local {
            // One part: a hard link (object_store's local copy). More: the kernel copies
            // (`std::io::copy` between files is `copy_file_range` on Linux), several times
            // faster than streaming the bytes through Kino.
            if let [part] = parts {
                self.inner.copy(part, into).await.map_err(WriteError::from)?;
                return Ok(self.inner.head(into).await.map_err(WriteError::from)?.size);
            }
            let sources = parts
                .iter()
                .map(|p| fs.path_to_filesystem(p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(WriteError::from)?;
            let dest = fs.path_to_filesystem(into).map_err(WriteError::from)?;
            return tokio::task::spawn_blocking(move || join_files(&sources, &dest))
                .await
                .map_err(|e| {
                    WriteError::Other(StoreError::Generic {
                        store: "LocalFileSystem",
                        source: e.into(),
                    })
                })?
                .map_err(|e| {
                    WriteError::from(StoreError::Generic {
                        store: "LocalFileSystem",
                        source: Box::new(e),
                    })
                });
        }
        let mut w = self.writer(into).await?;
        for part in parts {
            let read = async {
                let mut stream = self.get(part, None).await?.into_stream();
                while let Some(chunk) = stream.next().await {
                    w.write(&chunk?).await?;
                }
                Ok::<(), WriteError>(())
            };
            if let Err(e) = read.await {
                w.abort().await;
                return Err(e);
            }
        }
        w.finish().await
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

/// Writes the files `sources`, in order, into `dest` through a temporary file in its directory
/// renamed into place at the end (removed on error), so `dest` is whole or absent. Returns the
/// bytes written.
///
/// Errors: a source is missing or unreadable, or the disk is full (`StorageFull`).
fn join_files(sources: &[std::path::PathBuf], dest: &Path) -> std::io::Result<u64> {
    let dir = dest
        .parent()
        .ok_or_else(|| std::io::Error::other("no parent directory"))?;
    std::fs::create_dir_all(dir)?;
    let staged = tempfile::NamedTempFile::new_in(dir)?;
    let mut out = staged.as_file();
    let mut total = 0;
    for source in sources {
        total += std::io::copy(&mut std::fs::File::open(source)?, &mut out)?;
    }
    out.sync_all()?;
    // The mode object_store gives its own files (a temporary file starts at 0600).
    #[cfg(unix)]
    out.set_permissions(<std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(
        0o644,
    ))?;
    staged.persist(dest).map_err(|e| e.error)?;
    Ok(total)
}

/// Why a write to the store failed: the store is full (ENOSPC on the local backend, or an
/// error saying so from a remote one), or anything else.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// No space left: retrying now cannot help; the caller should say so (507).
    #[error("the media store is full")]
    Full(#[source] StoreError),
    #[error(transparent)]
    Other(StoreError),
}

impl From<StoreError> for WriteError {
    fn from(e: StoreError) -> Self {
        if is_storage_full(&e) {
            WriteError::Full(e)
        } else {
            WriteError::Other(e)
        }
    }
}

/// True when an error comes from a full disk: an `io::Error` of kind `StorageFull` somewhere
/// in its source chain, or, where a backend keeps only the text, ENOSPC's message.
fn is_storage_full(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::StorageFull
        {
            return true;
        }
        if err.to_string().contains("No space left on device") {
            return true;
        }
        cur = err.source();
    }
    false
}

/// A streamed write in progress; see [`BlobStore::writer`].
pub struct BlobWriter {
    inner: WriteMultipart,
    bytes: u64,
}

impl BlobWriter {
    /// Appends bytes, waiting while too many parts are in flight (backpressure).
    ///
    /// Errors: [`WriteError::Full`] when the store has no space left.
    pub async fn write(&mut self, buf: &[u8]) -> Result<(), WriteError> {
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
    ///
    /// Errors: [`WriteError::Full`] when the store has no space left.
    pub async fn finish(self) -> Result<u64, WriteError> {
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
