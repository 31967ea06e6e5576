//! What a live rendition's playlists cost the ingest node per part with low-latency HLS: the
//! packager renders the full media playlist and its delta update after every part (five times
//! a second per rendition at `live.part_secs = 0.2`), over a DVR window of N one-second
//! segments. Prints, for N = 60, 600 and 7,200 (the default two hours), the median time to
//! render both, their sizes, and the CPU share of one core that makes at five parts a second,
//! next to the anchor in the same run: the standard playlist alone, rendered once a segment as
//! without LL-HLS.
//!
//!     cargo bench --bench live_playlist

use std::time::Instant;

use kino::live::playlist::{
    LivePart, LiveSegment, LowLatency, RenditionReport, Window, low_latency_playlist, media_playlist, part_file,
};

fn median_micros(mut f: impl FnMut() -> usize, rounds: usize) -> (f64, usize) {
    let mut times = Vec::with_capacity(rounds);
    let mut bytes = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        bytes = std::hint::black_box(f());
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    (times[rounds / 2], bytes)
}

fn main() {
    println!("live playlists per part (LL-HLS) vs per segment (standard), 1 s segments, 0.2 s parts");
    println!(
        "{:>8}  {:>14}  {:>12}  {:>12}  {:>16}  {:>18}  {:>12}",
        "segments",
        "full+delta µs",
        "full bytes",
        "delta bytes",
        "% core @5 parts/s",
        "anchor: standard µs",
        "% core @1/s"
    );
    for n in [60u64, 600, 7200] {
        let segments: Vec<LiveSegment> = (0..n)
            .map(|seq| LiveSegment {
                seq,
                session: 1,
                duration: 1.0,
                bytes: 300_000,
                init: "init-1.mp4".into(),
                discontinuity: false,
                program_date_time_ms: 1_764_000_000_000 + seq as i64 * 1000,
            })
            .collect();
        let mut open = segments[0].clone();
        open.seq = n;
        open.duration = 0.6;
        let parts: Vec<LivePart> = (n.saturating_sub(8)..=n)
            .flat_map(|msn| {
                let count = if msn == n { 3 } else { 5 };
                (0..count).map(move |index| LivePart {
                    msn,
                    index,
                    number: msn * 5 + u64::from(index),
                    session: 1,
                    duration: 0.2,
                    independent: index == 0,
                })
            })
            .collect();
        let reports = [RenditionReport {
            uri: "../360p/index.m3u8".into(),
            last_msn: n,
            last_part: 2,
        }];
        let ll = |skip| LowLatency {
            part_target: 0.2,
            parts: &parts,
            open: Some(&open),
            preload_hint: Some(part_file(1, n * 5 + 3)),
            reports: &reports,
            skip,
        };
        let rounds = if n > 1000 { 200 } else { 2000 };
        let mut delta_bytes = 0;
        let (both, full_bytes) = median_micros(
            || {
                let full = low_latency_playlist(&segments, 1, 0.0, 0, &ll(false));
                delta_bytes = low_latency_playlist(&segments, 1, 0.0, 0, &ll(true)).len();
                full.len()
            },
            rounds,
        );
        let (standard, _) = median_micros(
            || media_playlist(&segments, 1, Window::Live { dvr_secs: 0.0 }, 0).len(),
            rounds,
        );
        println!(
            "{n:>8}  {both:>14.1}  {full_bytes:>12}  {delta_bytes:>12}  {:>16.2}  {standard:>18.1}  {:>12.3}",
            both * 5.0 / 1e4,
            standard / 1e4
        );
    }
}
