//! One way in for a new video, whatever brings it — the upload form, `kino import`, and next
//! resumable uploads and live recordings: reserve an id, store the source under it, then
//! record the video together with its queued transcode job in one transaction.
//!
//! [`PendingSource`] owns the stored source until the video is recorded: dropped before
//! [`PendingSource::record`] succeeds (an interrupted upload, a full disk, a database error,
//! a panic), it removes whatever was stored, so a failure at any step leaves nothing behind
//! (the guard pattern of pict-rs's `ingest.rs`).

use crate::auth::Privacy;
use crate::db::{Db, NewVideo};
use crate::ids::VideoId;
use object_store::path::Path as Key;

use crate::storage::{BlobStore, keys};

/// What is known of a new video besides its source bytes.
#[derive(Debug, Clone)]
pub struct SourceDetails {
    pub title: String,
    pub description: String,
    /// The file name it came with (shown to its owner, used for the default title).
    pub source_name: String,
    /// Bytes of the stored source.
    pub source_bytes: u64,
    /// The uploader; `None` for operator imports (administrators manage those).
    pub owner_id: Option<i64>,
    pub privacy: Privacy,
    /// Normalised tags (see [`crate::tags`]).
    pub tags: Vec<String>,
}

/// A new video's id and the blob key of its source, removed on drop unless recorded.
#[derive(Debug)]
pub struct PendingSource {
    store: BlobStore,
    id: VideoId,
    key: Key,
    recorded: bool,
}

impl PendingSource {
    /// Reserves a new video id; the source goes to [`PendingSource::key`].
    pub fn new(store: &BlobStore) -> PendingSource {
        let id = VideoId::new();
        PendingSource {
            store: store.clone(),
            key: keys::source(&id),
            id,
            recorded: false,
        }
    }

    /// The new video's id.
    pub fn id(&self) -> &VideoId {
        &self.id
    }

    /// Where the source is to be stored.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// Records the video, whose source must be stored under [`PendingSource::key`], with its
    /// transcode job (at most `max_attempts` attempts) in one transaction, and hands the
    /// source over to it. Returns the video id.
    ///
    /// Errors: the database refused the insert; the stored source is then removed.
    pub async fn record(
        mut self,
        db: &Db,
        max_attempts: u32,
        details: SourceDetails,
    ) -> Result<VideoId, crate::db::DbError> {
        let video = NewVideo {
            id: self.id.clone(),
            title: details.title,
            description: details.description,
            source_name: details.source_name,
            source_bytes: details.source_bytes,
            owner_id: details.owner_id,
            privacy: details.privacy,
            tags: details.tags,
        };
        if let Err(e) = db.insert_video_with_job(&video, max_attempts).await {
            // Removed here, not only on drop: a CLI's runtime may end before a spawned task runs.
            let _ = self.store.delete(&self.key).await;
            self.recorded = true;
            return Err(e);
        }
        self.recorded = true;
        Ok(self.id.clone())
    }
}

impl Drop for PendingSource {
    fn drop(&mut self) {
        if self.recorded {
            return;
        }
        // Nothing may have been stored yet; removing a missing blob is harmless.
        let (store, key) = (self.store.clone(), std::mem::take(&mut self.key));
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(e) = store.delete(&key).await {
                        tracing::debug!(key = %key, error = %e, "no source to remove after a failed ingest");
                    }
                });
            }
            Err(_) => tracing::warn!(key = %key, "a failed ingest's source could not be removed: no runtime"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_source_never_recorded_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path()).unwrap();
        let pending = PendingSource::new(&store);
        let key = pending.key().clone();
        store.put_bytes(&key, b"source bytes".to_vec()).await.unwrap();
        assert!(store.head(&key).await.is_ok());
        drop(pending);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while store.head(&key).await.is_ok() {
            assert!(
                std::time::Instant::now() < deadline,
                "the unrecorded source is still stored"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}
