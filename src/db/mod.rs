//! The metadata layer. All SQL lives under this module, grouped by table ([`videos`],
//! [`jobs`], [`users`], [`sessions`], [`api_tokens`], [`keys`]); the rest of Kino calls typed methods on [`Db`] and never sees a query string.
//!
//! The embedded default is SQLite (WAL, `synchronous=NORMAL`, foreign keys on, a busy timeout
//! so `kino import` or `kino worker` can share the file with `kino serve`), with migrations in
//! `migrations/sqlite` embedded in the binary. PostgreSQL slots in as a second pool type behind
//! the same methods, with its own migrations folder.

pub mod api_tokens;
pub mod comments;
pub mod engagement;
pub mod jobs;
pub mod keys;
pub mod search;
pub mod sessions;
pub mod users;
pub mod videos;

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

pub use api_tokens::ApiTokenRecord;
pub use jobs::{ClaimedJob, Heartbeat, RetryDecision};
pub use sessions::Rotation;
pub use users::{CreateUser, UserRecord};
pub use videos::{NewVideo, VideoFilter, VideoListing, VideoPatch, VideoRecord, VideoSort, VideoStatus};

/// The metadata database, cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: SqlitePool,
}

impl Db {
    /// Opens (creating if needed) the database at `url` and applies pending migrations.
    ///
    /// Errors: an unsupported URL scheme, an unreachable database, or a failed migration.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        if !url.starts_with("sqlite:") {
            anyhow::bail!("unsupported database URL {url:?}: this build of Kino supports sqlite:// URLs");
        }
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("invalid database URL {url:?}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open the database {url}"))?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .context("database migration failed")?;
        Ok(Db { pool })
    }

    /// Starts a write transaction. SQLite: `BEGIN IMMEDIATE`, taking the write lock up front,
    /// so two transactions that read then write wait their turn (busy timeout) instead of one
    /// failing with "database is locked" when both try to upgrade a read lock.
    pub(crate) async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

/// Milliseconds since the Unix epoch, the time unit of every timestamp column.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
