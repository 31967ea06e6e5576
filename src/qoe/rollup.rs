//! Rollups: views that are over are added, once, to per-minute, per-hour and per-day rows of
//! their video, of its owner and of the site, by dimension (all, browser, OS, player, rendition); a task on
//! every node does it every few seconds and prunes what is past its retention (the database
//! serialises the nodes: see [`crate::db::Db::roll_up_views`]).

use std::collections::BTreeMap;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::db::Db;
use crate::db::qoe::ViewRow;
use crate::qoe::tally::{START_BOUNDS_MS, Tally, ViewFacts};

/// Rollup granularities, seconds: minute, hour, day.
pub const BUCKETS_SECS: [i64; 3] = [60, 3600, 86_400];

/// How often the rollup task looks for views that are over.
const ROLL_EVERY: Duration = Duration::from_secs(2);
/// How often it prunes.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Views rolled up per transaction.
const ROLL_BATCH: u32 = 500;

/// Whose rollup a row is: one video's, one owner's (all their videos), or the site's.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Video(String),
    Owner(i64),
    Site,
}

/// Where a view's tally goes: granularity, target, dimension, value and bucket start (Unix ms).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RollupKey {
    pub bucket_secs: i64,
    pub target: Target,
    pub dim: &'static str,
    pub value: String,
    pub bucket_start: i64,
}

/// The start (Unix ms) of the `bucket_secs` bucket holding `at_ms`.
pub fn bucket_start(at_ms: i64, bucket_secs: i64) -> i64 {
    let b = bucket_secs * 1000;
    at_ms.div_euclid(b) * b
}

/// The tallies by dimension of one view: `all`, `browser`, `os`, `player` (name and
/// version) with the whole view, and `rendition` (by height) with only the time played there
/// (its `views` counts the views that played it).
pub fn view_tallies(view: &ViewRow) -> Vec<(&'static str, String, Tally)> {
    let whole = Tally::of_view(&view.facts);
    let player = if view.player.is_empty() {
        String::new()
    } else {
        format!("{} {}", view.player, view.player_version).trim().to_string()
    };
    let mut out = vec![
        ("all", String::new(), whole.clone()),
        ("browser", view.browser.clone(), whole.clone()),
        ("os", view.os.clone(), whole.clone()),
        ("player", player, whole),
    ];
    for &(height, ms) in &view.renditions {
        let part = Tally::of_view(&ViewFacts {
            watch_ms: ms,
            ..ViewFacts::default()
        });
        out.push(("rendition", height.to_string(), part));
    }
    out
}

/// What `views` add to the rollups, summed by key.
pub fn rollup_rows(views: &[ViewRow]) -> BTreeMap<RollupKey, Tally> {
    let mut out: BTreeMap<RollupKey, Tally> = BTreeMap::new();
    for view in views {
        for (dim, value, tally) in view_tallies(view) {
            for bucket_secs in BUCKETS_SECS {
                let mut targets = vec![Target::Video(view.video_id.clone()), Target::Site];
                if let Some(owner) = view.owner_id {
                    targets.push(Target::Owner(owner));
                }
                for target in targets {
                    let key = RollupKey {
                        bucket_secs,
                        target,
                        dim,
                        value: value.clone(),
                        bucket_start: bucket_start(view.started_at, bucket_secs),
                    };
                    out.entry(key).or_default().add(&tally);
                }
            }
        }
    }
    out
}

/// Records what the rolled-up `views` add to the `kino_qoe_*` Prometheus series (no-ops when
/// metrics are off).
fn export(views: &[ViewRow]) {
    for v in views {
        let t = Tally::of_view(&v.facts);
        metrics::counter!("kino_qoe_views_total").increment(1);
        metrics::counter!("kino_qoe_play_requests_total").increment(t.play_requests as u64);
        metrics::counter!("kino_qoe_exits_before_start_total").increment(t.ebvs as u64);
        metrics::counter!("kino_qoe_playback_failures_total").increment(t.failures as u64);
        metrics::counter!("kino_qoe_rebuffers_total").increment(t.rebuffer_count.max(0) as u64);
        metrics::counter!("kino_qoe_watch_seconds_total").increment((t.watch_ms.max(0) / 1000) as u64);
        metrics::counter!("kino_qoe_rebuffer_seconds_total").increment((t.rebuffer_ms.max(0) / 1000) as u64);
        if let Some(ms) = v.facts.startup_ms {
            metrics::histogram!("kino_qoe_video_start_seconds").record(ms as f64 / 1000.0);
        }
    }
}

/// Histogram bounds of `kino_qoe_video_start_seconds`: the report's, in seconds.
pub fn start_buckets_secs() -> Vec<f64> {
    START_BOUNDS_MS.iter().map(|&ms| ms as f64 / 1000.0).collect()
}

/// Rolls up views that are over every 2 s and prunes hourly, until `stop`. Errors are logged
/// and retried at the next tick.
pub async fn run(db: Db, idle_secs: f64, raw_days: f64, rollup_days: f64, stop: CancellationToken) {
    let idle_ms = (idle_secs * 1000.0) as i64;
    let mut roll = tokio::time::interval(ROLL_EVERY);
    roll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut prune = tokio::time::interval(PRUNE_EVERY);
    prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = roll.tick() => loop {
                match db.roll_up_views(crate::db::now_ms(), idle_ms, ROLL_BATCH).await {
                    Ok(views) if views.is_empty() => break,
                    Ok(views) => {
                        export(&views);
                        if views.len() < ROLL_BATCH as usize {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!("QoE rollup failed (retried in {}s): {e}", ROLL_EVERY.as_secs());
                        break;
                    }
                }
            },
            _ = prune.tick() => {
                if let Err(e) = db.prune_qoe(crate::db::now_ms(), raw_days, rollup_days).await {
                    tracing::warn!("QoE retention pass failed (retried in an hour): {e}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_start_on_their_boundary() {
        assert_eq!(bucket_start(3_599_999, 3600), 0);
        assert_eq!(bucket_start(3_600_000, 3600), 3_600_000);
        assert_eq!(bucket_start(90_061_000, 86_400), 86_400_000);
    }

    #[test]
    fn one_view_lands_in_every_granularity_for_its_video_and_the_site() {
        let view = ViewRow {
            view_id: "v".into(),
            video_id: "abcdefghijkl".into(),
            started_at: 3_661_000,
            browser: "Chrome".into(),
            os: "Linux".into(),
            player: "kino".into(),
            player_version: "1.7.4".into(),
            renditions: vec![(720, 8000), (360, 4000)],
            owner_id: Some(7),
            facts: ViewFacts {
                play_requested: true,
                startup_ms: Some(400),
                watch_ms: 12_000,
                closed: true,
                ..ViewFacts::default()
            },
            ..ViewRow::default()
        };
        let rows = rollup_rows(&[view.clone(), view]);
        // (all, browser, os, player, two renditions) × 3 granularities × (video, owner, site).
        assert_eq!(rows.len(), 6 * 3 * 3);
        let key = RollupKey {
            bucket_secs: 60,
            target: Target::Site,
            dim: "rendition",
            value: "720".into(),
            bucket_start: 3_660_000,
        };
        assert_eq!(rows[&key].watch_ms, 16_000);
        let player = RollupKey {
            bucket_secs: 3600,
            target: Target::Video("abcdefghijkl".into()),
            dim: "player",
            value: "kino 1.7.4".into(),
            bucket_start: 3_600_000,
        };
        assert_eq!(rows[&player].views, 2);
        assert_eq!(rows[&player].started, 2);
    }
}
