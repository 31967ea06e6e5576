//! QoE reports (`GET /api/videos/{id}/qoe`, `GET /api/qoe`): rollups of the range plus the
//! views not rolled up yet, summed into a summary, a series, breakdowns, time per rendition,
//! the latest views and the worst videos (shapes in `docs/qoe.md`).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::db::qoe::{QoeScope, ViewRow};
use crate::db::{Db, DbError};
use crate::qoe::rollup::{bucket_start, view_tallies};
use crate::qoe::tally::{Summary, Tally};

/// Longest report range: 400 days, in ms.
pub const MAX_RANGE_MS: i64 = 400 * 86_400_000;
/// Views listed in a video report.
const LATEST_VIEWS: u32 = 50;
/// Videos in each "worst" list.
const WORST: usize = 10;
/// Open views read per report at most (they are the ones of the last `view_idle_secs`).
const OPEN_VIEWS: u32 = 20_000;

/// The bucket (seconds) a report of `[from, to)` uses at `now`: a minute up to 6 h within the
/// 2 days minute rollups are kept, an hour up to 14 days within 90 days, else a day.
pub fn bucket_for(from: i64, to: i64, now: i64) -> i64 {
    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;
    let span = to - from;
    if span <= 6 * HOUR && from >= now - 2 * DAY {
        60
    } else if span <= 14 * DAY && from >= now - 90 * DAY {
        3600
    } else {
        86_400
    }
}

/// A summary with the value of a dimension (a browser, an OS, a player).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Breakdown {
    pub value: String,
    #[serde(flatten)]
    pub summary: Summary,
}

/// A summary of one bucket of the series.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Point {
    /// Start of the bucket, RFC 3339.
    pub t: String,
    #[serde(flatten)]
    pub summary: Summary,
}

/// Time played at one rendition height.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RenditionTime {
    /// Pixels.
    pub height: i64,
    pub seconds: f64,
    /// Of all time played at a known height, 0–1.
    pub share: f64,
}

/// A video with its figures (the "worst" lists).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VideoFigures {
    pub video_id: String,
    pub title: String,
    #[serde(flatten)]
    pub summary: Summary,
}

/// The worst videos of a site or owner report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Worst {
    /// Highest failure ratio first (videos with a failure).
    pub failure_ratio: Vec<VideoFigures>,
    /// Highest rebuffer ratio first (videos with rebuffering).
    pub rebuffer_ratio: Vec<VideoFigures>,
}

/// One view as the reports show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ViewSummary {
    pub view_id: String,
    pub video_id: String,
    /// RFC 3339.
    pub started_at: String,
    pub updated_at: String,
    pub browser: String,
    pub os: String,
    pub player: String,
    pub player_version: String,
    pub live: bool,
    pub play_requested: bool,
    /// Video start time, ms; null if it never started.
    pub startup_ms: Option<i64>,
    pub watch_secs: f64,
    pub rebuffer_count: i64,
    pub rebuffer_secs: f64,
    pub seek_count: i64,
    /// bits/s, time-weighted.
    pub avg_bitrate: Option<f64>,
    pub failed: bool,
    pub error_code: Option<String>,
    pub error_detail: Option<String>,
    pub exited_before_start: bool,
    /// The view is over (its page went away, or it went quiet).
    pub over: bool,
    /// The view has been added to the rollups (later events change only its own figures).
    pub rolled_up: bool,
    pub renditions: Vec<RenditionSecs>,
}

/// Seconds played at one height, in one view.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RenditionSecs {
    pub height: i64,
    pub seconds: f64,
}

impl ViewSummary {
    pub fn of(v: &ViewRow) -> ViewSummary {
        let t = Tally::of_view(&v.facts);
        let f = &v.facts;
        ViewSummary {
            view_id: v.view_id.clone(),
            video_id: v.video_id.clone(),
            started_at: crate::http::types::rfc3339(v.started_at),
            updated_at: crate::http::types::rfc3339(v.updated_at),
            browser: v.browser.clone(),
            os: v.os.clone(),
            player: v.player.clone(),
            player_version: v.player_version.clone(),
            live: v.live,
            play_requested: f.play_requested,
            startup_ms: f.startup_ms,
            watch_secs: f.watch_ms as f64 / 1000.0,
            rebuffer_count: f.rebuffer_count,
            rebuffer_secs: f.rebuffer_ms as f64 / 1000.0,
            seek_count: f.seek_count,
            avg_bitrate: t.summary().avg_bitrate,
            failed: f.failed,
            error_code: v.error_code.clone(),
            error_detail: v.error_detail.clone(),
            exited_before_start: t.ebvs > 0,
            over: f.closed,
            rolled_up: v.rolled_at.is_some(),
            renditions: v
                .renditions
                .iter()
                .map(|&(height, ms)| RenditionSecs {
                    height,
                    seconds: ms as f64 / 1000.0,
                })
                .collect(),
        }
    }
}

/// A QoE report (docs/qoe.md).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// `video`, `site` or `mine`.
    pub scope: &'static str,
    /// RFC 3339; `from` is widened to the start of its bucket.
    pub from: String,
    pub to: String,
    /// Seconds per point of `series`: 60, 3600 or 86400.
    pub bucket_secs: i64,
    pub summary: Summary,
    /// Every bucket of the range, oldest first.
    pub series: Vec<Point>,
    /// By `browser`, `os` and `player`, most views first.
    pub breakdown: BTreeMap<String, Vec<Breakdown>>,
    /// Highest rendition first.
    pub time_per_rendition: Vec<RenditionTime>,
    /// The latest views (video reports only; empty otherwise).
    pub views: Vec<ViewSummary>,
    /// The worst videos (site and owner reports only).
    pub worst: Option<Worst>,
}

/// Builds the report of `scope` over `[from, to)` (Unix ms) at `now`; `idle_ms` says when a
/// quiet view is over.
///
/// Errors: the database's.
pub async fn build(db: &Db, scope: &QoeScope, from: i64, to: i64, now: i64, idle_ms: i64) -> Result<Report, DbError> {
    let bucket = bucket_for(from, to, now);
    let from = bucket_start(from, bucket);
    let rollups = db.qoe_rollups(scope, bucket, from, to).await?;
    let open = db.qoe_views(scope, from..to, true, OPEN_VIEWS, now, idle_ms).await?;
    let mut cells: BTreeMap<(String, String, i64), Tally> = BTreeMap::new();
    for r in rollups {
        cells.entry((r.dim, r.value, r.bucket_start)).or_default().add(&r.tally);
    }
    for v in &open {
        for (dim, value, tally) in view_tallies(v) {
            cells
                .entry((dim.to_string(), value, bucket_start(v.started_at, bucket)))
                .or_default()
                .add(&tally);
        }
    }
    let mut summary = Tally::default();
    let mut by_bucket: BTreeMap<i64, Tally> = BTreeMap::new();
    let mut by_value: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for ((dim, value, start), tally) in &cells {
        if dim == "all" {
            summary.add(tally);
            by_bucket.entry(*start).or_default().add(tally);
        } else {
            by_value.entry((dim.clone(), value.clone())).or_default().add(tally);
        }
    }
    let step = bucket * 1000;
    let series = (0..)
        .map(|i| from + i * step)
        .take_while(|&t| t < to)
        .map(|t| Point {
            t: crate::http::types::rfc3339(t),
            summary: by_bucket.remove(&t).unwrap_or_default().summary(),
        })
        .collect();
    let mut breakdown: BTreeMap<String, Vec<Breakdown>> = BTreeMap::new();
    for dim in ["browser", "os", "player"] {
        breakdown.insert(dim.into(), Vec::new());
    }
    let mut renditions: Vec<(i64, i64)> = Vec::new();
    for ((dim, value), tally) in by_value {
        if dim == "rendition" {
            if let Ok(height) = value.parse::<i64>() {
                renditions.push((height, tally.watch_ms));
            }
            continue;
        }
        let value = if value.is_empty() { "unknown".to_string() } else { value };
        breakdown.entry(dim).or_default().push(Breakdown {
            value,
            summary: tally.summary(),
        });
    }
    for list in breakdown.values_mut() {
        list.sort_by(|a, b| b.summary.views.cmp(&a.summary.views).then(a.value.cmp(&b.value)));
    }
    renditions.sort_by_key(|r| std::cmp::Reverse(r.0));
    let played: i64 = renditions.iter().map(|r| r.1).sum();
    let time_per_rendition = renditions
        .into_iter()
        .map(|(height, ms)| RenditionTime {
            height,
            seconds: ms as f64 / 1000.0,
            share: if played > 0 { ms as f64 / played as f64 } else { 0.0 },
        })
        .collect();
    let (views, worst) = match scope {
        QoeScope::Video(_) => {
            let latest = db.qoe_views(scope, from..to, false, LATEST_VIEWS, now, idle_ms).await?;
            (latest.iter().map(ViewSummary::of).collect(), None)
        }
        _ => (Vec::new(), Some(worst(db, scope, bucket, from, to, &open).await?)),
    };
    Ok(Report {
        scope: match scope {
            QoeScope::Video(_) => "video",
            QoeScope::Owner(_) => "mine",
            QoeScope::Site => "site",
        },
        from: crate::http::types::rfc3339(from),
        to: crate::http::types::rfc3339(to),
        bucket_secs: bucket,
        summary: summary.summary(),
        series,
        breakdown,
        time_per_rendition,
        views,
        worst,
    })
}

async fn worst(db: &Db, scope: &QoeScope, bucket: i64, from: i64, to: i64, open: &[ViewRow]) -> Result<Worst, DbError> {
    let mut per_video: HashMap<String, (String, Tally)> = HashMap::new();
    for (id, title, tally) in db.qoe_by_video(scope, bucket, from, to).await? {
        per_video.insert(id, (title, tally));
    }
    let missing: Vec<String> = open
        .iter()
        .filter(|v| !per_video.contains_key(&v.video_id))
        .map(|v| v.video_id.clone())
        .collect();
    let titles = db.video_titles(&missing).await?;
    for v in open {
        let Some(title) = per_video
            .get(&v.video_id)
            .map(|(t, _)| t.clone())
            .or_else(|| titles.get(&v.video_id).cloned())
        else {
            continue; // deleted meanwhile
        };
        per_video
            .entry(v.video_id.clone())
            .or_insert_with(|| (title, Tally::default()))
            .1
            .add(&Tally::of_view(&v.facts));
    }
    let figures: Vec<VideoFigures> = per_video
        .into_iter()
        .map(|(video_id, (title, tally))| VideoFigures {
            video_id,
            title,
            summary: tally.summary(),
        })
        .collect();
    let top = |key: fn(&Summary) -> Option<f64>| {
        let mut list: Vec<VideoFigures> = figures
            .iter()
            .filter(|f| key(&f.summary).is_some_and(|r| r > 0.0))
            .cloned()
            .collect();
        list.sort_by(|a, b| {
            key(&b.summary)
                .partial_cmp(&key(&a.summary))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(b.summary.views.cmp(&a.summary.views))
        });
        list.truncate(WORST);
        list
    };
    Ok(Worst {
        failure_ratio: top(|s| s.failure_ratio),
        rebuffer_ratio: top(|s| s.rebuffer_ratio),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_follows_the_range_and_the_retention() {
        let now = 100 * 86_400_000;
        let h = 3_600_000;
        assert_eq!(bucket_for(now - h, now, now), 60);
        assert_eq!(bucket_for(now - 7 * h, now, now), 3600);
        // Six hours, but three days ago: minute rollups are gone.
        assert_eq!(bucket_for(now - 78 * h, now - 72 * h, now), 3600);
        assert_eq!(bucket_for(now - 30 * 24 * h, now, now), 86_400);
    }
}
