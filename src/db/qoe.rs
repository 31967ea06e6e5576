//! Quality-of-experience storage (`qoe_events`, `qoe_views`, `qoe_view_renditions`,
//! `qoe_rollups`, `qoe_site_rollups`; see `docs/qoe.md` and [`crate::qoe`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Db, DbError, query};
use crate::qoe::beacon::{Event, ViewDelta};
use crate::qoe::rollup::{RollupKey, Target};
use crate::qoe::tally::{COUNTER_COLUMNS, START_BUCKETS, Tally, ViewFacts};

/// Events of one beacon request, with what the server knows of its sender.
#[derive(Debug, Clone)]
pub struct BeaconBatch {
    /// Unix ms the request arrived.
    pub received_at: i64,
    /// Browser and operating system families from the `User-Agent` header.
    pub browser: String,
    pub os: String,
    /// The signed-in viewer, only when `analytics.store_user_id` is on.
    pub user_id: Option<i64>,
    pub events: Vec<Event>,
}

/// Which videos a report covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QoeScope {
    Video(String),
    /// The videos a user owns.
    Owner(i64),
    Site,
}

/// A row of `qoe_views` with its renditions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ViewRow {
    pub view_id: String,
    pub video_id: String,
    /// Unix ms.
    pub started_at: i64,
    pub updated_at: i64,
    pub browser: String,
    pub os: String,
    pub player: String,
    pub player_version: String,
    pub live: bool,
    pub errors: i64,
    pub error_code: Option<String>,
    pub error_detail: Option<String>,
    pub ended: bool,
    pub page_hidden: bool,
    pub rolled_at: Option<i64>,
    /// The video's owner (None for operator imports or a deleted video).
    pub owner_id: Option<i64>,
    /// (height px, ms played).
    pub renditions: Vec<(i64, i64)>,
    pub facts: ViewFacts,
}

/// One rollup row (or the sum of several): its dimension, value and bucket start (Unix ms).
#[derive(Debug, Clone)]
pub struct RollupRow {
    pub dim: String,
    pub value: String,
    pub bucket_start: i64,
    pub tally: Tally,
}

/// A stored raw event: (seq, t ms, received_at Unix ms, the event's JSON with `type`).
pub type StoredEvent = (i64, i64, i64, String);

/// Rows of a multi-row insert of events: SQLite and PostgreSQL both take 100 × 7 parameters.
const EVENT_ROWS: usize = 100;

const VIEW_COLUMNS: &str = "view_id, video_id, started_at, updated_at, browser, os, player, player_version, live, \
     play_requested, startup_ms, watch_ms, rebuffer_count, rebuffer_ms, seek_count, seek_ms, errors, failed, \
     error_code, error_detail, dropped_frames, bitrate_bits, bitrate_ms, latency_ms_sum, latency_samples, ended, \
     page_hidden, rolled_at";

/// The columns of a view row, each prefixed with `alias` (e.g. `q.`), and its video's owner.
fn view_columns(alias: &str) -> String {
    let cols: Vec<String> = VIEW_COLUMNS
        .split(", ")
        .map(|c| format!("{alias}{}", c.trim()))
        .collect();
    format!(
        "{}, (SELECT owner_id FROM videos WHERE videos.id = {alias}video_id) AS owner_id",
        cols.join(", ")
    )
}

fn hist_columns() -> impl Iterator<Item = String> {
    (0..START_BUCKETS).map(|i| format!("h{i}"))
}

/// `SUM` over every tally column, named as the column. PostgreSQL sums BIGINT as NUMERIC
/// (arbitrary precision, several times slower): there the sum runs in double precision — exact
/// below 2^53 (9 × 10^15), far above any tally here — and is cast back to BIGINT.
fn tally_sums(alias: &str, backend: Backend) -> String {
    COUNTER_COLUMNS
        .iter()
        .map(|c| c.to_string())
        .chain(hist_columns())
        .map(|c| match backend {
            Backend::Sqlite => format!("CAST(SUM({alias}{c}) AS BIGINT) AS {c}"),
            Backend::Postgres => format!("CAST(SUM(CAST({alias}{c} AS DOUBLE PRECISION)) AS BIGINT) AS {c}"),
        })
        .chain(std::iter::once(format!(
            "CAST(SUM({alias}startup_score_sum) AS DOUBLE PRECISION) AS startup_score_sum"
        )))
        .collect::<Vec<_>>()
        .join(", ")
}

fn tally_from_row(row: &AnyRow) -> Result<Tally, sqlx::Error> {
    let mut t = Tally::default();
    for (slot, name) in t.counters_mut().into_iter().zip(COUNTER_COLUMNS) {
        *slot = row.try_get::<Option<i64>, _>(name)?.unwrap_or(0);
    }
    for (i, slot) in t.hist.iter_mut().enumerate() {
        *slot = row.try_get::<Option<i64>, _>(format!("h{i}").as_str())?.unwrap_or(0);
    }
    t.startup_score_sum = row.try_get::<Option<f64>, _>("startup_score_sum")?.unwrap_or(0.0);
    Ok(t)
}

fn view_from_row(row: &AnyRow, now: i64, idle_ms: i64) -> Result<ViewRow, sqlx::Error> {
    let flag = |name: &str| -> Result<bool, sqlx::Error> { Ok(row.try_get::<i64, _>(name)? != 0) };
    let updated_at: i64 = row.try_get("updated_at")?;
    let page_hidden = flag("page_hidden")?;
    let rolled_at: Option<i64> = row.try_get("rolled_at")?;
    Ok(ViewRow {
        view_id: row.try_get("view_id")?,
        video_id: row.try_get("video_id")?,
        started_at: row.try_get("started_at")?,
        updated_at,
        browser: row.try_get("browser")?,
        os: row.try_get("os")?,
        player: row.try_get("player")?,
        player_version: row.try_get("player_version")?,
        live: flag("live")?,
        errors: row.try_get("errors")?,
        error_code: row.try_get("error_code")?,
        error_detail: row.try_get("error_detail")?,
        ended: flag("ended")?,
        page_hidden,
        rolled_at,
        owner_id: row.try_get("owner_id")?,
        renditions: Vec::new(),
        facts: ViewFacts {
            play_requested: flag("play_requested")?,
            startup_ms: row.try_get("startup_ms")?,
            watch_ms: row.try_get("watch_ms")?,
            rebuffer_count: row.try_get("rebuffer_count")?,
            rebuffer_ms: row.try_get("rebuffer_ms")?,
            seek_count: row.try_get("seek_count")?,
            seek_ms: row.try_get("seek_ms")?,
            failed: flag("failed")?,
            dropped_frames: row.try_get("dropped_frames")?,
            bitrate_bits: row.try_get("bitrate_bits")?,
            bitrate_ms: row.try_get("bitrate_ms")?,
            latency_ms_sum: row.try_get("latency_ms_sum")?,
            latency_samples: row.try_get("latency_samples")?,
            closed: rolled_at.is_some() || view_over(page_hidden, updated_at, now, idle_ms),
        },
    })
}

/// A view is over when its page went away (and 5 s passed for a last straggling beacon), or
/// when it has been quiet for `idle_ms`.
pub fn view_over(page_hidden: bool, updated_at: i64, now: i64, idle_ms: i64) -> bool {
    (page_hidden && updated_at <= now - PAGE_HIDE_GRACE_MS) || updated_at <= now - idle_ms
}

/// Milliseconds after `page_hide` before a view is rolled up.
pub const PAGE_HIDE_GRACE_MS: i64 = 5_000;

/// `CASE` keeping the larger of the stored and the new value of `c`.
fn larger(c: &str) -> String {
    format!("{c} = CASE WHEN excluded.{c} > qoe_views.{c} THEN excluded.{c} ELSE qoe_views.{c} END")
}

impl Db {
    /// Stores beacon events: the raw events (a `(view_id, seq)` already stored is skipped), and
    /// the change the new ones make to their views' summaries, in one transaction. Returns the
    /// number of new events.
    pub async fn store_beacons(&self, batches: &[BeaconBatch]) -> Result<usize, DbError> {
        let mut tx = self.row_tx().await?;
        let all: Vec<(&BeaconBatch, &Event)> = batches
            .iter()
            .flat_map(|b| b.events.iter().map(move |e| (b, e)))
            .collect();
        let mut fresh: HashSet<(String, i64)> = HashSet::with_capacity(all.len());
        for chunk in all.chunks(EVENT_ROWS) {
            let values = vec!["(?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
            let sql = format!(
                "INSERT INTO qoe_events (view_id, seq, video_id, received_at, t_ms, kind, data) VALUES {values}
                 ON CONFLICT (view_id, seq) DO NOTHING RETURNING view_id, seq"
            );
            let mut q = query(&sql);
            for (b, e) in chunk {
                q = q
                    .bind(e.view_id.clone())
                    .bind(e.seq)
                    .bind(e.video_id.clone())
                    .bind(b.received_at)
                    .bind(e.t_ms)
                    .bind(e.payload.kind())
                    .bind(e.payload.to_json());
            }
            for row in q.fetch_all(&mut *tx).await? {
                fresh.insert((row.try_get("view_id")?, row.try_get("seq")?));
            }
        }
        let new_events = fresh.len();
        // The new events of each view, in order, with the request that brought the first.
        let mut views: BTreeMap<&str, (&BeaconBatch, Vec<&Event>, i64)> = BTreeMap::new();
        for (b, e) in &all {
            // Taken out as it is used: a seq twice in one request counts once.
            if !fresh.remove(&(e.view_id.clone(), e.seq)) {
                continue;
            }
            let entry = views
                .entry(e.view_id.as_str())
                .or_insert((b, Vec::new(), b.received_at));
            entry.1.push(e);
            entry.2 = entry.2.max(b.received_at);
        }
        let sql = format!(
            "INSERT INTO qoe_views (view_id, video_id, started_at, updated_at, user_id, browser, os, player, player_version,
                 live, play_requested, startup_ms, watch_ms, rebuffer_count, rebuffer_ms, seek_count, seek_ms, errors, failed,
                 error_code, error_detail, dropped_frames, bitrate_bits, bitrate_ms, latency_ms_sum, latency_samples, ended,
                 page_hidden)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (view_id) DO UPDATE SET
                 {updated}, user_id = COALESCE(qoe_views.user_id, excluded.user_id),
                 browser = CASE WHEN qoe_views.browser = '' THEN excluded.browser ELSE qoe_views.browser END,
                 os = CASE WHEN qoe_views.os = '' THEN excluded.os ELSE qoe_views.os END,
                 player = CASE WHEN excluded.player <> '' THEN excluded.player ELSE qoe_views.player END,
                 player_version = CASE WHEN excluded.player <> '' THEN excluded.player_version ELSE qoe_views.player_version END,
                 {live}, {play}, startup_ms = COALESCE(qoe_views.startup_ms, excluded.startup_ms),
                 watch_ms = qoe_views.watch_ms + excluded.watch_ms,
                 rebuffer_count = qoe_views.rebuffer_count + excluded.rebuffer_count,
                 rebuffer_ms = qoe_views.rebuffer_ms + excluded.rebuffer_ms,
                 seek_count = qoe_views.seek_count + excluded.seek_count,
                 seek_ms = qoe_views.seek_ms + excluded.seek_ms,
                 errors = qoe_views.errors + excluded.errors,
                 error_code = CASE WHEN excluded.error_code IS NOT NULL AND (excluded.failed = 1 OR qoe_views.failed = 0)
                     THEN excluded.error_code ELSE qoe_views.error_code END,
                 error_detail = CASE WHEN excluded.error_code IS NOT NULL AND (excluded.failed = 1 OR qoe_views.failed = 0)
                     THEN excluded.error_detail ELSE qoe_views.error_detail END,
                 {failed},
                 dropped_frames = qoe_views.dropped_frames + excluded.dropped_frames,
                 bitrate_bits = qoe_views.bitrate_bits + excluded.bitrate_bits,
                 bitrate_ms = qoe_views.bitrate_ms + excluded.bitrate_ms,
                 latency_ms_sum = qoe_views.latency_ms_sum + excluded.latency_ms_sum,
                 latency_samples = qoe_views.latency_samples + excluded.latency_samples,
                 {ended}, {hidden}",
            updated = larger("updated_at"),
            live = larger("live"),
            play = larger("play_requested"),
            failed = larger("failed"),
            ended = larger("ended"),
            hidden = larger("page_hidden"),
        );
        for (view_id, (batch, events, last)) in &views {
            let mut in_order = events.clone();
            in_order.sort_by_key(|e| e.seq);
            let d = ViewDelta::fold(in_order);
            let (player, version) = d.player.clone().unwrap_or_default();
            let (code, detail) = match d.error.clone() {
                Some((c, t)) => (Some(c), Some(t)),
                None => (None, None),
            };
            query(&sql)
                .bind(view_id.to_string())
                .bind(d.video_id.clone())
                .bind(batch.received_at)
                .bind(*last)
                .bind(batch.user_id)
                .bind(batch.browser.clone())
                .bind(batch.os.clone())
                .bind(player)
                .bind(version)
                .bind(d.live as i64)
                .bind(d.play_requested as i64)
                .bind(d.startup_ms)
                .bind(d.watch_ms)
                .bind(d.rebuffer_count)
                .bind(d.rebuffer_ms)
                .bind(d.seek_count)
                .bind(d.seek_ms)
                .bind(d.errors)
                .bind(d.failed as i64)
                .bind(code)
                .bind(detail)
                .bind(d.dropped_frames)
                .bind(d.bitrate_bits)
                .bind(d.bitrate_ms)
                .bind(d.latency_ms_sum)
                .bind(d.latency_samples)
                .bind(d.ended as i64)
                .bind(d.page_hidden as i64)
                .execute(&mut *tx)
                .await?;
            for (height, ms) in &d.renditions {
                query(
                    "INSERT INTO qoe_view_renditions (view_id, height, ms) VALUES (?, ?, ?)
                     ON CONFLICT (view_id, height) DO UPDATE SET ms = qoe_view_renditions.ms + excluded.ms",
                )
                .bind(view_id.to_string())
                .bind(*height)
                .bind(*ms)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(new_events)
    }

    /// Attaches their renditions to `views`.
    async fn with_renditions(&self, mut views: Vec<ViewRow>) -> Result<Vec<ViewRow>, DbError> {
        for chunk in views.chunks_mut(200) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = format!(
                "SELECT view_id, height, ms FROM qoe_view_renditions WHERE view_id IN ({marks}) ORDER BY height DESC"
            );
            let mut q = query(&sql);
            for v in chunk.iter() {
                q = q.bind(v.view_id.clone());
            }
            let mut by_view: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
            for row in q.fetch_all(&self.pool).await? {
                by_view
                    .entry(row.try_get("view_id")?)
                    .or_default()
                    .push((row.try_get("height")?, row.try_get("ms")?));
            }
            for v in chunk.iter_mut() {
                v.renditions = by_view.remove(&v.view_id).unwrap_or_default();
            }
        }
        Ok(views)
    }

    /// One view, if stored (`idle_ms`: `analytics.view_idle_secs`, for whether it is over).
    pub async fn qoe_view(&self, view_id: &str, now: i64, idle_ms: i64) -> Result<Option<ViewRow>, DbError> {
        let row = query(&format!(
            "SELECT {} FROM qoe_views q WHERE q.view_id = ?",
            view_columns("q.")
        ))
        .bind(view_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let view = view_from_row(&row, now, idle_ms)?;
        Ok(self.with_renditions(vec![view]).await?.pop())
    }

    /// A view's stored events in `seq` order.
    pub async fn qoe_events(&self, view_id: &str) -> Result<Vec<StoredEvent>, DbError> {
        let rows = query("SELECT seq, t_ms, received_at, data FROM qoe_events WHERE view_id = ? ORDER BY seq")
            .bind(view_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("seq")?,
                    r.try_get("t_ms")?,
                    r.try_get("received_at")?,
                    r.try_get("data")?,
                ))
            })
            .collect()
    }

    /// Views of `scope` started in `range` (Unix ms): only those not rolled up yet when
    /// `open_only`; the latest first, at most `limit`.
    pub async fn qoe_views(
        &self,
        scope: &QoeScope,
        range: std::ops::Range<i64>,
        open_only: bool,
        limit: u32,
        now: i64,
        idle_ms: i64,
    ) -> Result<Vec<ViewRow>, DbError> {
        let (filter, video, owner) = scope_filter(scope, "q.video_id");
        let open = if open_only { "AND q.rolled_at IS NULL" } else { "" };
        let cols = view_columns("q.");
        let sql = format!(
            "SELECT {cols} FROM qoe_views q WHERE {filter} {open} AND q.started_at >= ? AND q.started_at < ?
             ORDER BY q.started_at DESC LIMIT {limit}"
        );
        let mut q = query(&sql);
        if let Some(v) = video {
            q = q.bind(v);
        }
        if let Some(o) = owner {
            q = q.bind(o);
        }
        let rows = q.bind(range.start).bind(range.end).fetch_all(&self.pool).await?;
        let views = rows
            .iter()
            .map(|r| view_from_row(r, now, idle_ms))
            .collect::<Result<Vec<_>, _>>()?;
        self.with_renditions(views).await
    }

    /// Rollup rows of `scope` at `bucket_secs` with bucket starts in `[from, to)` (Unix ms),
    /// summed over videos: one row per bucket start for `all`, one per (dim, value) over the
    /// whole range for the other dimensions (their `bucket_start` is 0).
    pub async fn qoe_rollups(
        &self,
        scope: &QoeScope,
        bucket_secs: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<RollupRow>, DbError> {
        let sums = tally_sums("r.", self.backend);
        let (table, filter, video, owner) = match scope {
            QoeScope::Site => ("qoe_site_rollups", "1 = 1".to_string(), None, None),
            QoeScope::Owner(o) => ("qoe_owner_rollups", "r.owner_id = ?".to_string(), None, Some(*o)),
            QoeScope::Video(v) => ("qoe_rollups", "r.video_id = ?".to_string(), Some(v.clone()), None),
        };
        // The series needs `all` by bucket; the breakdowns need the other dimensions summed
        // over the range (bucket_start 0): far fewer rows to carry than every cell.
        let sql = format!(
            "SELECT r.dim, r.value, r.bucket_start, {sums} FROM {table} r
             WHERE r.bucket_secs = ? AND {filter} AND r.dim = 'all' AND r.bucket_start >= ? AND r.bucket_start < ?
             GROUP BY r.dim, r.value, r.bucket_start
             UNION ALL
             SELECT r.dim, r.value, 0 AS bucket_start, {sums} FROM {table} r
             WHERE r.bucket_secs = ? AND {filter} AND r.dim <> 'all' AND r.bucket_start >= ? AND r.bucket_start < ?
             GROUP BY r.dim, r.value"
        );
        let mut q = query(&sql);
        for _ in 0..2 {
            q = q.bind(bucket_secs);
            if let Some(v) = &video {
                q = q.bind(v.clone());
            }
            if let Some(o) = owner {
                q = q.bind(o);
            }
            q = q.bind(from).bind(to);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(RollupRow {
                    dim: r.try_get("dim")?,
                    value: r.try_get("value")?,
                    bucket_start: r.try_get("bucket_start")?,
                    tally: tally_from_row(r)?,
                })
            })
            .collect()
    }

    /// Per video of `scope` (not [`QoeScope::Video`]), the tally of its rolled-up views in
    /// `[from, to)`, with its title: (video id, title, tally).
    pub async fn qoe_by_video(
        &self,
        scope: &QoeScope,
        bucket_secs: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<(String, String, Tally)>, DbError> {
        let sums = tally_sums("r.", self.backend);
        let (filter, video, owner) = scope_filter(scope, "r.video_id");
        let sql = format!(
            "SELECT r.video_id, v.title, {sums} FROM qoe_rollups r JOIN videos v ON v.id = r.video_id
             WHERE r.bucket_secs = ? AND r.dim = 'all' AND {filter} AND r.bucket_start >= ? AND r.bucket_start < ?
             GROUP BY r.video_id, v.title"
        );
        let mut q = query(&sql).bind(bucket_secs);
        if let Some(v) = video {
            q = q.bind(v);
        }
        if let Some(o) = owner {
            q = q.bind(o);
        }
        let rows = q.bind(from).bind(to).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("video_id")?, r.try_get("title")?, tally_from_row(r)?)))
            .collect()
    }

    /// Titles of videos, by id.
    pub async fn video_titles(&self, ids: &[String]) -> Result<HashMap<String, String>, DbError> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(200) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let mut q = query(&format!("SELECT id, title FROM videos WHERE id IN ({marks})"));
            for id in chunk {
                q = q.bind(id.clone());
            }
            for row in q.fetch_all(&self.pool).await? {
                out.insert(row.try_get("id")?, row.try_get("title")?);
            }
        }
        Ok(out)
    }

    /// Rolls up the views that are over (at most `limit` at a time): adds them to the minute,
    /// hour and day rollups of their video and of the site, and marks them rolled, in one
    /// transaction that runs alone (so two nodes never roll a view twice). Returns the views
    /// rolled.
    pub async fn roll_up_views(&self, now: i64, idle_ms: i64, limit: u32) -> Result<Vec<ViewRow>, DbError> {
        let mut tx = self.write_tx().await?;
        let rows = query(&format!(
            "SELECT {} FROM qoe_views q WHERE q.rolled_at IS NULL
             AND ((q.page_hidden = 1 AND q.updated_at <= ?) OR q.updated_at <= ?) ORDER BY q.updated_at LIMIT {limit}",
            view_columns("q.")
        ))
        .bind(now - PAGE_HIDE_GRACE_MS)
        .bind(now - idle_ms)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut views = rows
            .iter()
            .map(|r| view_from_row(r, now, idle_ms))
            .collect::<Result<Vec<_>, _>>()?;
        // Renditions, read inside the transaction.
        let marks = vec!["?"; views.len()].join(", ");
        let mut q = query(&format!(
            "SELECT view_id, height, ms FROM qoe_view_renditions WHERE view_id IN ({marks})"
        ));
        for v in &views {
            q = q.bind(v.view_id.clone());
        }
        let mut by_view: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
        for row in q.fetch_all(&mut *tx).await? {
            by_view
                .entry(row.try_get("view_id")?)
                .or_default()
                .push((row.try_get("height")?, row.try_get("ms")?));
        }
        for v in &mut views {
            v.renditions = by_view.remove(&v.view_id).unwrap_or_default();
        }
        add_rollups(&mut tx, &crate::qoe::rollup::rollup_rows(&views)).await?;
        let marks = vec!["?"; views.len()].join(", ");
        let mut q = query(&format!(
            "UPDATE qoe_views SET rolled_at = ? WHERE view_id IN ({marks})"
        ))
        .bind(now);
        for v in &views {
            q = q.bind(v.view_id.clone());
        }
        q.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(views)
    }

    /// Adds `rows` to the rollups (each key's counters to the stored ones), in one transaction.
    /// Used by [`Db::roll_up_views`]; public for seeding benchmarks.
    pub async fn add_rollups(&self, rows: &BTreeMap<RollupKey, Tally>) -> Result<(), DbError> {
        let mut tx = self.row_tx().await?;
        add_rollups(&mut tx, rows).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes what is past its retention (docs/qoe.md): raw events and views older than
    /// `raw_days` (views only once rolled up), minute rollups after 2 days, hour rollups after
    /// 90, day rollups after `rollup_days`. Returns the rows deleted.
    pub async fn prune_qoe(&self, now: i64, raw_days: f64, rollup_days: f64) -> Result<u64, DbError> {
        const DAY: f64 = 86_400_000.0;
        let raw = now - (raw_days * DAY) as i64;
        let mut n = 0;
        n += query("DELETE FROM qoe_events WHERE received_at < ?")
            .bind(raw)
            .execute(&self.pool)
            .await?
            .rows_affected();
        n += query(
            "DELETE FROM qoe_view_renditions WHERE view_id IN
             (SELECT view_id FROM qoe_views WHERE updated_at < ? AND rolled_at IS NOT NULL)",
        )
        .bind(raw)
        .execute(&self.pool)
        .await?
        .rows_affected();
        n += query("DELETE FROM qoe_views WHERE updated_at < ? AND rolled_at IS NOT NULL")
            .bind(raw)
            .execute(&self.pool)
            .await?
            .rows_affected();
        for table in ["qoe_rollups", "qoe_owner_rollups", "qoe_site_rollups"] {
            for (bucket, days) in [(60, 2.0), (3600, 90.0), (86_400, rollup_days)] {
                n += query(&format!(
                    "DELETE FROM {table} WHERE bucket_secs = ? AND bucket_start < ?"
                ))
                .bind(bucket)
                .bind(now - (days * DAY) as i64)
                .execute(&self.pool)
                .await?
                .rows_affected();
            }
        }
        Ok(n)
    }

    /// Deletes every QoE row of a video (with the video itself).
    pub(crate) async fn delete_video_qoe(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        id: &str,
    ) -> Result<(), DbError> {
        // Through the views (the events' key starts with the view), then the views themselves.
        for sql in [
            "DELETE FROM qoe_view_renditions WHERE view_id IN (SELECT view_id FROM qoe_views WHERE video_id = ?)",
            "DELETE FROM qoe_events WHERE view_id IN (SELECT view_id FROM qoe_views WHERE video_id = ?)",
            "DELETE FROM qoe_views WHERE video_id = ?",
            "DELETE FROM qoe_rollups WHERE bucket_secs IN (60, 3600, 86400) AND video_id = ?",
        ] {
            query(sql).bind(id).execute(&mut **tx).await?;
        }
        Ok(())
    }
}

/// Rollup rows written per statement (47 parameters each).
const ROLLUP_ROWS: usize = 100;

/// Adds `rows` to `qoe_rollups` (keys with a video) and `qoe_site_rollups` (the others), many
/// rows per statement (the keys of one statement are distinct: they come from a map).
async fn add_rollups(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    rows: &BTreeMap<RollupKey, Tally>,
) -> Result<(), DbError> {
    let counters: Vec<String> = COUNTER_COLUMNS
        .iter()
        .map(|c| c.to_string())
        .chain(hist_columns())
        .chain(std::iter::once("startup_score_sum".to_string()))
        .collect();
    let cols = counters.join(", ");
    let of = |want: fn(&Target) -> bool| -> Vec<(&RollupKey, &Tally)> {
        rows.iter().filter(|(k, _)| want(&k.target)).collect()
    };
    for (table, key_cols, list) in [
        (
            "qoe_rollups",
            "bucket_secs, video_id, dim, value, bucket_start",
            of(|t| matches!(t, Target::Video(_))),
        ),
        (
            "qoe_owner_rollups",
            "bucket_secs, owner_id, dim, value, bucket_start",
            of(|t| matches!(t, Target::Owner(_))),
        ),
        (
            "qoe_site_rollups",
            "bucket_secs, dim, value, bucket_start",
            of(|t| matches!(t, Target::Site)),
        ),
    ] {
        let adds = counters
            .iter()
            .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let width = key_cols.split(", ").count() + counters.len();
        let one = format!("({})", vec!["?"; width].join(", "));
        for chunk in list.chunks(ROLLUP_ROWS) {
            let values = vec![one.as_str(); chunk.len()].join(", ");
            let sql = format!(
                "INSERT INTO {table} ({key_cols}, {cols}) VALUES {values}
                 ON CONFLICT ({key_cols}) DO UPDATE SET {adds}"
            );
            let mut q = query(&sql);
            for (key, tally) in chunk {
                q = q.bind(key.bucket_secs);
                match &key.target {
                    Target::Video(v) => q = q.bind(v.clone()),
                    Target::Owner(o) => q = q.bind(*o),
                    Target::Site => {}
                }
                q = q.bind(key.dim).bind(key.value.clone()).bind(key.bucket_start);
                for n in tally.counters().into_iter().chain(tally.hist) {
                    q = q.bind(n);
                }
                q = q.bind(tally.startup_score_sum);
            }
            q.execute(&mut **tx).await?;
        }
    }
    Ok(())
}

/// The SQL condition selecting `scope`'s videos by the column `col`, and what to bind for it
/// (a video id, or an owner's user id).
fn scope_filter(scope: &QoeScope, col: &str) -> (String, Option<String>, Option<i64>) {
    match scope {
        QoeScope::Video(id) => (format!("{col} = ?"), Some(id.clone()), None),
        QoeScope::Owner(user) => (
            format!("{col} IN (SELECT id FROM videos WHERE owner_id = ?)"),
            None,
            Some(*user),
        ),
        QoeScope::Site => ("1 = 1".into(), None, None),
    }
}
