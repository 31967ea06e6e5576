//! Transcode jobs: [`worker`] claims jobs from the persistent queue (see [`crate::db::jobs`])
//! and keeps their leases alive; [`pipeline`] does the work of one job, from the stored source
//! to a published ladder.

pub mod pipeline;
pub mod worker;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::config::Config;
use crate::db::Db;
use crate::storage::BlobStore;

/// What a worker needs: configuration, metadata, blobs, and a bell rung on new uploads.
#[derive(Clone)]
pub struct WorkerContext {
    pub config: Arc<Config>,
    pub db: Db,
    pub store: BlobStore,
    pub wake: Arc<Notify>,
}
