//! Transcode jobs: [`worker`] claims jobs from the persistent queue (see [`crate::db::jobs`])
//! and keeps their leases alive; [`pipeline`] does the work of one job, from the stored source
//! to a published ladder.

pub mod pipeline;
pub mod progressive;
pub mod worker;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::config::Config;
use crate::db::Db;
use crate::storage::BlobStore;

/// What a worker needs: configuration, metadata, blobs, a bell rung on new uploads, and the
/// event bus its progress and outcomes go out on (`job.progress`, `video.ready`,
/// `video.failed`).
#[derive(Clone)]
pub struct WorkerContext {
    pub config: Arc<Config>,
    pub db: Db,
    pub store: BlobStore,
    pub wake: Arc<Notify>,
    pub events: crate::events::Events,
}

/// Deletes every blob of a video: its source, ladder and poster. Missing blobs are fine.
///
/// Errors: the store fails to list or delete.
pub async fn remove_blobs(store: &BlobStore, video_id: &str) -> anyhow::Result<()> {
    store
        .delete_prefix(&crate::storage::keys::derived_prefix(video_id))
        .await?;
    store.delete(&crate::storage::keys::source(video_id)).await?;
    // The chunks of a resumable upload deleted before its last byte.
    store
        .delete_prefix(&crate::storage::keys::upload_prefix(video_id))
        .await?;
    Ok(())
}
