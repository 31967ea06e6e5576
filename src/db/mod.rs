//! The metadata layer. All SQL lives under this module, grouped by table ([`videos`],
//! [`jobs`], [`users`], [`sessions`], [`api_tokens`], [`keys`], [`comments`], [`engagement`],
//! [`search`]); the rest of Kino calls typed methods on [`Db`] and never sees a query string.
//!
//! Two backends, chosen by the URL given to [`Db::connect`]:
//! - **SQLite** (`sqlite://…`, the embedded default): WAL, `synchronous=NORMAL`, foreign keys
//!   on, a busy timeout so `kino import` or `kino worker` can share the file with `kino serve`.
//!   Migrations in `migrations/sqlite`.
//! - **PostgreSQL** (`postgres://…`): for several API nodes and remote workers on one
//!   database. Migrations in `migrations/postgres`.
//!
//! Queries go through sqlx's `Any` driver and are written once, in the SQL both engines
//! share, with `?` placeholders that [`portable`] numbers (`$1`, `$2`, …: PostgreSQL's form,
//! which SQLite also reads). Where the engines differ — full-text search, claiming a job — the
//! module asks [`Db::backend`]. Columns keep to the `Any` driver's types: 64-bit integers,
//! doubles, text, and booleans (`INTEGER` 0/1 on SQLite, `BOOLEAN` on PostgreSQL, read with
//! [`get_bool`]).

pub mod api_tokens;
pub mod captions;
pub mod comments;
pub mod engagement;
pub mod jobs;
pub mod keys;
pub mod live;
pub mod qoe;
pub mod search;
pub mod sessions;
pub mod uploads;
pub mod users;
pub mod videos;

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor, Row};

use crate::auth::policy::Listing;

pub use crate::video::VideoStatus;
pub use api_tokens::ApiTokenRecord;
pub use jobs::{ClaimedJob, Heartbeat, RetryDecision};
pub use sessions::Rotation;
pub use uploads::UploadRecord;
pub use users::{CreateUser, UserRecord};
pub use videos::{NewVideo, VideoFilter, VideoListing, VideoPatch, VideoRecord, VideoSort};

/// Why a database call failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A row holds what Kino cannot read (an unknown status, broken renditions JSON): the
    /// data is corrupt or was written by another version. Not retried.
    #[error("the database holds data Kino cannot read: {0}")]
    Corrupt(String),
    /// The database could not be reached, or refused or failed the statement.
    #[error("database error: {0}")]
    Sqlx(sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Decode(why) => DbError::Corrupt(why.to_string()),
            e => DbError::Sqlx(e),
        }
    }
}

/// Which engine a [`Db`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The metadata database, cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

/// SQLite settings applied to every new connection.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                              PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;";

impl Db {
    /// Connections of the pool: (open, idle).
    pub fn pool_use(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// Opens the database at `url` — `sqlite://PATH` (created if missing) or
    /// `postgres://USER@HOST:PORT/DB` — with the default pool size, and applies pending
    /// migrations. See [`Db::connect_with`].
    ///
    /// Errors: an unsupported URL scheme, an unreachable database, or a failed migration.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        Db::connect_with(url, None).await
    }

    /// [`Db::connect`] with at most `max_connections` pooled connections (default: 8 on
    /// SQLite, 16 on PostgreSQL). Every node and worker process holds its own pool, so on
    /// PostgreSQL the sum over all processes must stay under the server's `max_connections`.
    ///
    /// Errors: as [`Db::connect`], and a pool size of 0.
    pub async fn connect_with(url: &str, max_connections: Option<u32>) -> anyhow::Result<Db> {
        anyhow::ensure!(
            max_connections != Some(0),
            "database_max_connections must be at least 1"
        );
        sqlx::any::install_default_drivers();
        let (backend, url) = if url.starts_with("sqlite:") {
            let url = if url.contains("mode=") {
                url.to_string()
            } else if url.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            anyhow::bail!("unsupported database URL {url:?}: use sqlite://PATH or postgres://USER@HOST:PORT/DATABASE");
        };
        let options = AnyPoolOptions::new().max_connections(max_connections.unwrap_or(match backend {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        }));
        let options = match backend {
            Backend::Sqlite => options.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(SQLITE_PRAGMAS).await?;
                    Ok(())
                })
            }),
            Backend::Postgres => options,
        };
        let pool = options
            .connect(&url)
            .await
            .with_context(|| format!("cannot open the database {}", redact(&url)))?;
        let migrated = match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await,
        };
        migrated.context("database migration failed")?;
        Ok(Db { pool, backend })
    }

    /// The engine this database runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a write transaction that runs alone among write transactions, on either engine:
    /// SQLite's `BEGIN IMMEDIATE` takes the write lock up front (so two transactions that read
    /// then write wait their turn instead of one failing with "database is locked");
    /// PostgreSQL takes a transaction-scoped advisory lock for the same effect across nodes.
    /// Write transactions are a few statements long, so the serialisation costs little.
    pub(crate) async fn write_tx(&self) -> Result<sqlx::Transaction<'static, Any>, DbError> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(DbError::from),
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                tx.execute(WRITE_LOCK).await?;
                Ok(tx)
            }
        }
    }

    /// A write transaction that needs no lock beyond the rows it touches (an upsert and a
    /// counter): `BEGIN IMMEDIATE` on SQLite (its single writer, as [`Db::write_tx`]), a plain
    /// transaction on PostgreSQL, whose row locks serialise writers of the same rows only.
    /// `benches/pg_writes.rs` measures the difference against the global lock.
    pub(crate) async fn row_tx(&self) -> Result<sqlx::Transaction<'static, Any>, DbError> {
        match self.backend {
            Backend::Sqlite => self.write_tx().await,
            Backend::Postgres => Ok(self.pool.begin().await?),
        }
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.pool.execute("SELECT 1").await.is_ok()
    }
}

/// PostgreSQL: the advisory lock that serialises [`Db::write_tx`] transactions (the key is
/// arbitrary, "kino" in ASCII).
const WRITE_LOCK: &str = "SELECT pg_advisory_xact_lock(1802071663)";

/// The URL with any password replaced by `***`, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// Rewrites `?` placeholders as `$1`, `$2`, … in order, leaving quoted strings and
/// identifiers alone: the one placeholder form both PostgreSQL and SQLite read.
pub fn portable(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '?' => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}

/// A query with `?` placeholders (see [`portable`]).
pub(crate) fn query<'q>(sql: &str) -> sqlx::query::Query<'q, Any, AnyArguments> {
    sqlx::query(sqlx::AssertSqlSafe(portable(sql)))
}

/// A single-value query with `?` placeholders (see [`portable`]).
pub(crate) fn query_scalar<'q, O>(sql: &str) -> sqlx::query::QueryScalar<'q, Any, O, AnyArguments>
where
    (O,): for<'r> sqlx::FromRow<'r, AnyRow>,
{
    sqlx::query_scalar(sqlx::AssertSqlSafe(portable(sql)))
}

/// Reads a boolean column: `BOOLEAN` on PostgreSQL, `INTEGER` 0/1 on SQLite.
pub(crate) fn get_bool(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    match row.try_get::<bool, _>(column) {
        Ok(b) => Ok(b),
        Err(_) => Ok(row.try_get::<i64, _>(column)? != 0),
    }
}

/// The one SQL form of a [`Listing`] filter, over the `videos` table aliased `v`, with the
/// user id to bind in its place when it has a `?`. Every listing (the library, search,
/// `/api/me/videos`, user pages, history) uses it, on both engines.
pub fn visibility_sql(filter: Listing) -> (&'static str, Option<i64>) {
    match filter {
        Listing::PublicOnly => (
            "(v.privacy = 'public' AND NOT v.uploading AND v.status <> 'failed')",
            None,
        ),
        Listing::PublicOrOwnedBy(id) => (
            "((v.privacy = 'public' AND NOT v.uploading AND v.status <> 'failed') OR v.owner_id = ?)",
            Some(id),
        ),
        Listing::All => ("1 = 1", None),
    }
}

/// Milliseconds since the Unix epoch, the time unit of every timestamp column.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(portable("SELECT ? , ?"), "SELECT $1 , $2");
        assert_eq!(
            portable("UPDATE t SET a = '?' , \"b?\" = ? WHERE c = ?"),
            "UPDATE t SET a = '?' , \"b?\" = $1 WHERE c = $2"
        );
        assert_eq!(portable("SELECT 1"), "SELECT 1");
    }

    /// Every schema change exists for both engines under the same name (the part after the
    /// number). The first schema came as three SQLite files and one PostgreSQL file; from
    /// `0006` on, a change also has the same number on both (sqlx allows the gap this leaves
    /// on PostgreSQL), so the folders read side by side.
    #[test]
    fn migrations_come_in_pairs() {
        let names = |engine: &str| -> Vec<(u32, String)> {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(engine);
            let mut out: Vec<(u32, String)> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .map(|f| {
                    let (n, rest) = f.split_once('_').expect("NNNN_name.sql");
                    (n.parse().expect("a numbered migration"), rest.to_string())
                })
                .collect();
            out.sort();
            out
        };
        let initial_sqlite = [
            "videos_and_jobs.sql",
            "accounts_and_privacy.sql",
            "discovery_and_engagement.sql",
        ];
        let sqlite: Vec<_> = names("sqlite")
            .into_iter()
            .filter(|(_, n)| !initial_sqlite.contains(&n.as_str()))
            .collect();
        let postgres: Vec<_> = names("postgres")
            .into_iter()
            .filter(|(_, n)| n != "schema.sql")
            .collect();
        let strip = |v: &[(u32, String)]| v.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>();
        assert_eq!(
            strip(&sqlite),
            strip(&postgres),
            "each change needs a file for both engines"
        );
        for ((a, name), (b, _)) in sqlite.iter().zip(&postgres) {
            assert!(
                *a < 6 || a == b,
                "{name}: numbered {a} for SQLite and {b} for PostgreSQL"
            );
        }
    }
}
