//! The additive aggregate of views ([`Tally`]) and the QoE figures derived from it
//! ([`Summary`]), with the definitions of `docs/qoe.md` (Mux Data's where Mux has one).
//! A tally of a set of views is the sum of their tallies, so minute, hour and day rollups,
//! breakdowns and views still open all add up the same way.

use serde::Serialize;

/// Upper bounds (ms) of the video start time histogram's buckets; a last bucket holds
/// everything above 30 s.
pub const START_BOUNDS_MS: [i64; 20] = [
    100, 200, 300, 400, 500, 600, 800, 1000, 1250, 1500, 2000, 2500, 3000, 4000, 5000, 7500, 10_000, 15_000, 20_000,
    30_000,
];
/// Buckets of the histogram: one per bound and the overflow.
pub const START_BUCKETS: usize = START_BOUNDS_MS.len() + 1;

/// The counter columns of a tally, in the order of [`Tally::counters`], as named in
/// `qoe_rollups` (the histogram follows as `h0`…`h20`).
pub const COUNTER_COLUMNS: [&str; 16] = [
    "views",
    "play_requests",
    "started",
    "ebvs",
    "failures",
    "startup_ms_sum",
    "watch_ms",
    "rebuffer_count",
    "rebuffer_ms",
    "seek_count",
    "seek_ms",
    "dropped_frames",
    "bitrate_bits",
    "bitrate_ms",
    "latency_ms_sum",
    "latency_samples",
];

/// What one view was, as far as its beacons told (a row of `qoe_views`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ViewFacts {
    pub play_requested: bool,
    /// Video start time, ms; None until the first frame.
    pub startup_ms: Option<i64>,
    pub watch_ms: i64,
    pub rebuffer_count: i64,
    pub rebuffer_ms: i64,
    pub seek_count: i64,
    pub seek_ms: i64,
    pub failed: bool,
    pub dropped_frames: i64,
    /// Σ bitrate (bits/s) × seconds played at it: bits.
    pub bitrate_bits: i64,
    /// Milliseconds played at a known bitrate.
    pub bitrate_ms: i64,
    pub latency_ms_sum: i64,
    pub latency_samples: i64,
    /// The view is over (the page went away, or it went quiet): an unstarted view is then an
    /// exit before video start.
    pub closed: bool,
}

/// Sums over a set of views. Every field adds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub views: i64,
    pub play_requests: i64,
    pub started: i64,
    /// Exits before video start.
    pub ebvs: i64,
    pub failures: i64,
    pub startup_ms_sum: i64,
    /// Σ per-view startup score (0–100) over views with a play request.
    pub startup_score_sum: f64,
    pub watch_ms: i64,
    pub rebuffer_count: i64,
    pub rebuffer_ms: i64,
    pub seek_count: i64,
    pub seek_ms: i64,
    pub dropped_frames: i64,
    pub bitrate_bits: i64,
    pub bitrate_ms: i64,
    pub latency_ms_sum: i64,
    pub latency_samples: i64,
    /// Started views per video start time bucket ([`START_BOUNDS_MS`]).
    pub hist: [i64; START_BUCKETS],
}

/// The startup score of one view with a play request: 100 at ≤ 1 s, 0 at ≥ 10 s (and for a
/// view that never started), linear between (docs/qoe.md).
pub fn startup_score(startup_ms: Option<i64>) -> f64 {
    match startup_ms {
        None => 0.0,
        Some(ms) if ms <= 1000 => 100.0,
        Some(ms) if ms >= 10_000 => 0.0,
        Some(ms) => 100.0 * (10_000 - ms) as f64 / 9000.0,
    }
}

/// The histogram bucket of a video start time (ms).
pub fn start_bucket(ms: i64) -> usize {
    START_BOUNDS_MS
        .iter()
        .position(|&b| ms <= b)
        .unwrap_or(START_BOUNDS_MS.len())
}

impl Tally {
    /// The tally of one view.
    pub fn of_view(v: &ViewFacts) -> Tally {
        let mut t = Tally {
            views: 1,
            watch_ms: v.watch_ms,
            rebuffer_count: v.rebuffer_count,
            rebuffer_ms: v.rebuffer_ms,
            seek_count: v.seek_count,
            seek_ms: v.seek_ms,
            dropped_frames: v.dropped_frames,
            bitrate_bits: v.bitrate_bits,
            bitrate_ms: v.bitrate_ms,
            latency_ms_sum: v.latency_ms_sum,
            latency_samples: v.latency_samples,
            failures: v.failed as i64,
            ..Tally::default()
        };
        if v.play_requested {
            t.play_requests = 1;
            t.startup_score_sum = startup_score(v.startup_ms);
            if v.startup_ms.is_none() && !v.failed && v.closed {
                t.ebvs = 1;
            }
        }
        if let Some(ms) = v.startup_ms {
            t.started = 1;
            t.startup_ms_sum = ms;
            t.hist[start_bucket(ms)] = 1;
        }
        t
    }

    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Tally) {
        let (a, b) = (self.counters_mut(), other.counters());
        for (x, y) in a.into_iter().zip(b) {
            *x += y;
        }
        self.startup_score_sum += other.startup_score_sum;
        for (x, y) in self.hist.iter_mut().zip(other.hist) {
            *x += y;
        }
    }

    /// The counters in [`COUNTER_COLUMNS`] order.
    pub fn counters(&self) -> [i64; 16] {
        [
            self.views,
            self.play_requests,
            self.started,
            self.ebvs,
            self.failures,
            self.startup_ms_sum,
            self.watch_ms,
            self.rebuffer_count,
            self.rebuffer_ms,
            self.seek_count,
            self.seek_ms,
            self.dropped_frames,
            self.bitrate_bits,
            self.bitrate_ms,
            self.latency_ms_sum,
            self.latency_samples,
        ]
    }

    /// The counters in [`COUNTER_COLUMNS`] order, to write.
    pub fn counters_mut(&mut self) -> [&mut i64; 16] {
        [
            &mut self.views,
            &mut self.play_requests,
            &mut self.started,
            &mut self.ebvs,
            &mut self.failures,
            &mut self.startup_ms_sum,
            &mut self.watch_ms,
            &mut self.rebuffer_count,
            &mut self.rebuffer_ms,
            &mut self.seek_count,
            &mut self.seek_ms,
            &mut self.dropped_frames,
            &mut self.bitrate_bits,
            &mut self.bitrate_ms,
            &mut self.latency_ms_sum,
            &mut self.latency_samples,
        ]
    }

    /// The `q` quantile (0–1) of video start time in ms, interpolated linearly inside its
    /// histogram bucket (the overflow bucket reads as its lower bound); None when no view
    /// started.
    pub fn start_quantile(&self, q: f64) -> Option<f64> {
        let n: i64 = self.hist.iter().sum();
        if n == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * n as f64;
        let mut below = 0i64;
        for (i, &count) in self.hist.iter().enumerate() {
            if count == 0 {
                continue;
            }
            if (below + count) as f64 >= rank {
                let lo = if i == 0 { 0 } else { START_BOUNDS_MS[i - 1] } as f64;
                let Some(&hi) = START_BOUNDS_MS.get(i) else {
                    return Some(lo);
                };
                let within = ((rank - below as f64) / count as f64).clamp(0.0, 1.0);
                return Some(lo + within * (hi as f64 - lo));
            }
            below += count;
        }
        Some(*START_BOUNDS_MS.last().expect("bounds") as f64)
    }

    /// The figures of docs/qoe.md.
    pub fn summary(&self) -> Summary {
        let ratio = |num: i64, den: i64| (den > 0).then(|| num as f64 / den as f64);
        let watch_min = self.watch_ms as f64 / 60_000.0;
        let per_min = |n: i64| (self.watch_ms > 0).then(|| n as f64 / watch_min);
        Summary {
            views: self.views,
            play_requests: self.play_requests,
            started: self.started,
            video_start_time_ms: StartTimes {
                p50: self.start_quantile(0.5),
                p90: self.start_quantile(0.9),
                mean: (self.started > 0).then(|| self.startup_ms_sum as f64 / self.started as f64),
            },
            startup_score: (self.play_requests > 0).then(|| self.startup_score_sum / self.play_requests as f64),
            exits_before_start: self.ebvs,
            ebvs_ratio: ratio(self.ebvs, self.play_requests),
            failures: self.failures,
            failure_ratio: ratio(self.failures, self.views),
            watch_secs: self.watch_ms as f64 / 1000.0,
            rebuffer_count: self.rebuffer_count,
            rebuffer_secs: self.rebuffer_ms as f64 / 1000.0,
            rebuffer_ratio: ratio(self.rebuffer_ms, self.watch_ms),
            rebuffer_frequency: per_min(self.rebuffer_count),
            avg_bitrate: (self.bitrate_ms > 0).then(|| self.bitrate_bits as f64 * 1000.0 / self.bitrate_ms as f64),
            seek_latency_ms: (self.seek_count > 0).then(|| self.seek_ms as f64 / self.seek_count as f64),
            dropped_frames_per_min: per_min(self.dropped_frames),
            live_latency_secs: (self.latency_samples > 0)
                .then(|| self.latency_ms_sum as f64 / 1000.0 / self.latency_samples as f64),
        }
    }
}

/// Video start time figures, ms.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct StartTimes {
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub mean: Option<f64>,
}

/// The QoE figures of a set of views (definitions in `docs/qoe.md`).
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Summary {
    /// Views.
    pub views: i64,
    /// Views with a play request.
    pub play_requests: i64,
    /// Views that showed a first frame.
    pub started: i64,
    /// Milliseconds from play request to first frame.
    pub video_start_time_ms: StartTimes,
    /// 0–100: 100 at ≤ 1 s, 0 at ≥ 10 s or no start; mean over views with a play request.
    pub startup_score: Option<f64>,
    /// Views with a play request that ended without a first frame or a fatal error.
    pub exits_before_start: i64,
    /// exits_before_start / play_requests.
    pub ebvs_ratio: Option<f64>,
    /// Views with a fatal error.
    pub failures: i64,
    /// failures / views.
    pub failure_ratio: Option<f64>,
    /// Seconds playing or rebuffering after the first frame.
    pub watch_secs: f64,
    /// Stalls after the first frame, not caused by a seek.
    pub rebuffer_count: i64,
    /// Seconds stalled.
    pub rebuffer_secs: f64,
    /// rebuffer time / watch time.
    pub rebuffer_ratio: Option<f64>,
    /// Stalls per minute of watch time.
    pub rebuffer_frequency: Option<f64>,
    /// Time-weighted mean bitrate of the renditions played, bits/s.
    pub avg_bitrate: Option<f64>,
    /// Mean milliseconds from seeking to playing again.
    pub seek_latency_ms: Option<f64>,
    /// Dropped frames per minute of watch time.
    pub dropped_frames_per_min: Option<f64>,
    /// Live streams: mean seconds behind the live edge.
    pub live_latency_secs: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(ms: i64, watch_ms: i64, rebuffer_ms: i64) -> ViewFacts {
        ViewFacts {
            play_requested: true,
            startup_ms: Some(ms),
            watch_ms,
            rebuffer_ms,
            rebuffer_count: (rebuffer_ms > 0) as i64,
            closed: true,
            ..ViewFacts::default()
        }
    }

    #[test]
    fn startup_score_follows_its_definition() {
        assert_eq!(startup_score(Some(300)), 100.0);
        assert_eq!(startup_score(Some(1000)), 100.0);
        assert_eq!(startup_score(Some(5500)), 50.0);
        assert_eq!(startup_score(Some(10_000)), 0.0);
        assert_eq!(startup_score(None), 0.0);
    }

    #[test]
    fn ratios_come_from_the_sums_of_views() {
        let mut t = Tally::default();
        t.add(&Tally::of_view(&started(400, 60_000, 600)));
        t.add(&Tally::of_view(&started(2400, 40_000, 400)));
        // Asked to play, never started, left: an exit before video start.
        t.add(&Tally::of_view(&ViewFacts {
            play_requested: true,
            closed: true,
            ..ViewFacts::default()
        }));
        // Asked to play, failed: a failure, not an exit.
        t.add(&Tally::of_view(&ViewFacts {
            play_requested: true,
            failed: true,
            closed: true,
            ..ViewFacts::default()
        }));
        // Still open and not started yet: neither.
        t.add(&Tally::of_view(&ViewFacts {
            play_requested: true,
            ..ViewFacts::default()
        }));
        let s = t.summary();
        assert_eq!((s.views, s.play_requests, s.started), (5, 5, 2));
        assert_eq!(s.exits_before_start, 1);
        assert_eq!(s.ebvs_ratio, Some(0.2));
        assert_eq!(s.failure_ratio, Some(0.2));
        assert_eq!(s.rebuffer_ratio, Some(1000.0 / 100_000.0));
        assert_eq!(s.rebuffer_frequency, Some(2.0 / (100_000.0 / 60_000.0)));
        assert_eq!(s.video_start_time_ms.mean, Some(1400.0));
        // Scores 100 and 84.4…, then three zeros.
        let expected = (100.0 + 100.0 * 7600.0 / 9000.0) / 5.0;
        assert!((s.startup_score.unwrap() - expected).abs() < 1e-9);
    }

    #[test]
    fn quantiles_interpolate_inside_their_bucket() {
        let mut t = Tally::default();
        for ms in [150, 150, 150, 900] {
            t.add(&Tally::of_view(&started(ms, 0, 0)));
        }
        // Ranks: 2 of 4 fall in (100, 200], 3 of 3 there; p50 = 100 + (2/3) × 100.
        let p50 = t.start_quantile(0.5).unwrap();
        assert!((p50 - (100.0 + 200.0 / 3.0)).abs() < 1e-9, "{p50}");
        // p90: rank 3.6, in the (800, 1000] bucket holding one.
        let p90 = t.start_quantile(0.9).unwrap();
        assert!((p90 - 920.0).abs() < 1e-9, "{p90}");
        assert_eq!(Tally::default().start_quantile(0.5), None);
        let mut slow = Tally::default();
        slow.add(&Tally::of_view(&started(45_000, 0, 0)));
        assert_eq!(slow.start_quantile(0.5), Some(30_000.0));
    }

    #[test]
    fn nothing_watched_gives_no_ratios() {
        let s = Tally::default().summary();
        assert_eq!(s.rebuffer_ratio, None);
        assert_eq!(s.failure_ratio, None);
        assert_eq!(s.startup_score, None);
        assert_eq!(s.avg_bitrate, None);
    }

    #[test]
    fn average_bitrate_is_weighted_by_time() {
        let v = ViewFacts {
            // 10 s at 1 Mbit/s and 30 s at 3 Mbit/s.
            bitrate_bits: 10 * 1_000_000 + 30 * 3_000_000,
            bitrate_ms: 40_000,
            ..ViewFacts::default()
        };
        assert_eq!(Tally::of_view(&v).summary().avg_bitrate, Some(2_500_000.0));
    }
}
