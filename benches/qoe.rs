//! QoE analytics storage on both backends (`docs/qoe.md`, issue #19's targets):
//!
//! 1. **Ingestion**: beacon bodies as players send them (one view's 20 events per request,
//!    JSON) are parsed and validated (`qoe::beacon::parse`) and stored the way the beacon
//!    writer does it (`Db::store_beacons`, everything queued in one transaction), on a
//!    single-threaded runtime: events/s, and p50/p99 of one write, for writes of 200, 2,000
//!    and 10,000 events (the writer takes what arrived during the previous write, so the size
//!    of a write follows the load). Target: ≥ 10,000 events/s on one core.
//! 2. **Dashboard queries** over 30 days of synthetic traffic (`QOE_VIDEOS` videos, default
//!    100, `QOE_VIEWS_PER_DAY` views a day, default 5,000, rolled up the way the rollup task
//!    does, minute rollups past 2 days pruned) plus a few hundred open views: p50/p99 of
//!    `qoe::report::build` — what `GET /api/videos/{id}/qoe` and `GET /api/qoe` run — for a
//!    video and the site over a day, a week and 30 days, 200 times each. Target: p99 < 50 ms.
//!
//! SQLite runs in a temporary directory; PostgreSQL (at `KINO_TEST_PG_URL`, default
//! `postgres://postgres@127.0.0.1:5432`, trust auth) in a fresh database, skipped with a note
//! when unreachable.
//!
//!     cargo bench --bench qoe            # or ./bench/qoe.sh

use std::time::Instant;

use kino::db::qoe::{BeaconBatch, QoeScope, ViewRow};
use kino::db::{Db, NewVideo};
use kino::ids::VideoId;
use kino::qoe::tally::ViewFacts;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sqlx::Connection;

const DAY_MS: i64 = 86_400_000;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    println!("QoE storage benchmark (one runtime thread; figures are per backend)\n");
    // QOE_BACKENDS=postgres (or sqlite) runs one of them.
    let only = std::env::var("QOE_BACKENDS").unwrap_or_default();
    if only.is_empty() || only.contains("sqlite") {
        run("SQLite", &sqlite).await?;
    }
    if !(only.is_empty() || only.contains("postgres")) {
        return Ok(());
    }
    let server = std::env::var("KINO_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let name = format!("kino_bench_qoe_{}", std::process::id());
    match sqlx::PgConnection::connect(&format!("{server}/test")).await {
        Ok(mut admin) => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await?;
            let result = run("PostgreSQL", &format!("{server}/{name}")).await;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
                .execute(&mut admin)
                .await?;
            result?;
        }
        Err(e) => println!("PostgreSQL: skipped ({server} unreachable: {e})"),
    }
    Ok(())
}

async fn run(backend: &str, url: &str) -> anyhow::Result<()> {
    let db = Db::connect(url).await?;
    let user_id = match db.create_user("bench", None, "x", kino::auth::Role::Admin).await? {
        kino::db::CreateUser::Created(u) => u.id,
        kino::db::CreateUser::Taken => anyhow::bail!("a fresh database has a user already"),
    };
    let videos = env_num("QOE_VIDEOS", 100);
    let mut ids = Vec::new();
    for i in 0..videos {
        let id = VideoId::new();
        db.insert_video_with_job(
            &NewVideo {
                id: id.clone(),
                title: format!("bench {i}"),
                description: String::new(),
                source_name: "x.mp4".into(),
                source_bytes: 1,
                owner_id: Some(user_id),
                privacy: kino::auth::Privacy::Public,
                tags: Vec::new(),
            },
            1,
        )
        .await?;
        ids.push(id.as_str().to_string());
    }
    println!("== {backend}");
    ingest(&db, &ids).await?;
    dashboards(&db, &ids, user_id).await?;
    println!();
    Ok(())
}

/// The body of one view's beacon request: 20 events.
fn view_body(view: u64, video: &str) -> String {
    let view_id = format!("{:08x}-{:04x}-4000-8000-{:012x}", view >> 16, view & 0xffff, view);
    let ev = |seq: i64, t: f64, fields: Value| {
        let mut e = json!({"view_id": view_id, "video_id": video, "seq": seq, "t": t});
        e.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
        e
    };
    let mut events = vec![
        ev(
            0,
            0.0,
            json!({"type": "view_start", "player": "kino", "player_version": "1.7.4", "live": false, "autoplay": false}),
        ),
        ev(1, 120.0, json!({"type": "play_request"})),
        ev(2, 540.0, json!({"type": "first_frame", "startup_ms": 420})),
        ev(
            3,
            541.0,
            json!({"type": "rendition", "bitrate": 3_000_000, "height": 720, "width": 1280}),
        ),
    ];
    for i in 0..15 {
        let t = 1000.0 + i as f64 * 10_000.0;
        events.push(ev(
            4 + i,
            t,
            json!({"type": "watch", "ms": 10_000, "bitrate": 3_000_000, "height": 720}),
        ));
    }
    events.push(ev(19, 160_000.0, json!({"type": "page_hide"})));
    serde_json::to_string(&events).unwrap()
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

async fn ingest(db: &Db, videos: &[String]) -> anyhow::Result<()> {
    println!(
        "{:<34} {:>12} {:>10} {:>10}",
        "ingestion (parse + store)", "events/s", "p50 ms", "p99 ms"
    );
    let mut next_view: u64 = 1;
    for write_events in [200usize, 2_000, 10_000] {
        let total = 60_000usize.max(write_events * 10);
        let requests = total / 20;
        let bodies: Vec<String> = (0..requests)
            .map(|i| {
                next_view += 1;
                view_body(next_view, &videos[i % videos.len()])
            })
            .collect();
        let per_write = write_events / 20;
        let mut latencies = Vec::new();
        let started = Instant::now();
        for chunk in bodies.chunks(per_write) {
            let batches: Vec<BeaconBatch> = chunk
                .iter()
                .map(|b| BeaconBatch {
                    received_at: kino::db::now_ms(),
                    browser: "Chrome".into(),
                    os: "Linux".into(),
                    user_id: None,
                    events: kino::qoe::beacon::parse(b.as_bytes()).expect("valid beacons"),
                })
                .collect();
            let t = Instant::now();
            let stored = db.store_beacons(&batches).await?;
            latencies.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(stored, chunk.len() * 20);
        }
        let secs = started.elapsed().as_secs_f64();
        latencies.sort_by(f64::total_cmp);
        println!(
            "{:<34} {:>12.0} {:>10.1} {:>10.1}",
            format!("  writes of {write_events} events"),
            (requests * 20) as f64 / secs,
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99)
        );
    }
    // The views just stored, rolled up the way the rollup task does (they are "over").
    let t = Instant::now();
    let mut rolled = 0;
    loop {
        let views = db.roll_up_views(kino::db::now_ms() + 600_000, 120_000, 500).await?;
        if views.is_empty() {
            break;
        }
        rolled += views.len();
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{:<34} {:>12.0} {:>10} {:>10}",
        "  rollup (views/s)",
        rolled as f64 / secs,
        "",
        ""
    );
    Ok(())
}

async fn dashboards(db: &Db, videos: &[String], owner: i64) -> anyhow::Result<()> {
    let per_day = env_num("QOE_VIEWS_PER_DAY", 5_000);
    let now = kino::db::now_ms();
    let mut rng = StdRng::seed_from_u64(19);
    let browsers = ["Chrome", "Firefox", "Safari", "Edge"];
    let oses = ["Windows 10", "Mac OSX", "Linux", "iPhone", "Android"];
    let seeding = Instant::now();
    for day in 0..30 {
        let views: Vec<ViewRow> = (0..per_day)
            .map(|i| {
                // Popular videos get more views (a Zipf-like skew).
                let v = ((rng.random::<f64>().powi(3)) * videos.len() as f64) as usize;
                let started = rng.random::<bool>();
                let watch = if started { rng.random_range(5_000..600_000) } else { 0 };
                ViewRow {
                    view_id: format!("seed-{day}-{i}"),
                    video_id: videos[v.min(videos.len() - 1)].clone(),
                    started_at: now - day * DAY_MS - rng.random_range(0..DAY_MS),
                    browser: browsers[rng.random_range(0..browsers.len())].into(),
                    os: oses[rng.random_range(0..oses.len())].into(),
                    player: "kino".into(),
                    player_version: "1.7.4".into(),
                    owner_id: Some(owner),
                    renditions: if started {
                        vec![(720, watch * 2 / 3), (360, watch / 3)]
                    } else {
                        Vec::new()
                    },
                    facts: ViewFacts {
                        play_requested: rng.random_bool(0.9),
                        startup_ms: started.then(|| rng.random_range(150..4000)),
                        watch_ms: watch,
                        rebuffer_count: rng.random_range(0..3),
                        rebuffer_ms: rng.random_range(0..2000),
                        failed: rng.random_bool(0.02),
                        bitrate_bits: watch / 1000 * 2_300_000,
                        bitrate_ms: watch,
                        closed: true,
                        ..ViewFacts::default()
                    },
                    ..ViewRow::default()
                }
            })
            .collect();
        let mut rows = kino::qoe::rollup::rollup_rows(&views);
        // Minute rollups are pruned after 2 days: older days are seeded without them.
        if day >= 2 {
            rows.retain(|k, _| k.bucket_secs != 60);
        }
        db.add_rollups(&rows).await?;
    }
    db.prune_qoe(now, 7.0, 730.0).await?;
    // Open views: a few hundred players still playing.
    let open: Vec<BeaconBatch> = (0..300)
        .map(|i| BeaconBatch {
            received_at: now,
            browser: "Chrome".into(),
            os: "Linux".into(),
            user_id: None,
            events: kino::qoe::beacon::parse(view_body(9_000_000 + i, &videos[i as usize % videos.len()]).as_bytes())
                .unwrap()
                .into_iter()
                .filter(|e| e.payload.kind() != "page_hide")
                .collect(),
        })
        .collect();
    db.store_beacons(&open).await?;
    println!(
        "{:<34} {:>12} {:>10} {:>10}   (seeded {} views over 30 days in {:.0} s)",
        "dashboard report",
        "bucket",
        "p50 ms",
        "p99 ms",
        per_day * 30,
        seeding.elapsed().as_secs_f64()
    );
    let video = QoeScope::Video(videos[0].clone());
    let cases = [
        ("  a video, last 24 h", video.clone(), DAY_MS),
        ("  a video, last 7 days", video.clone(), 7 * DAY_MS),
        ("  a video, last 30 days", video, 30 * DAY_MS),
        ("  the site, last 24 h", QoeScope::Site, DAY_MS),
        ("  the site, last 30 days", QoeScope::Site, 30 * DAY_MS),
        ("  an owner's videos, last 30 days", QoeScope::Owner(owner), 30 * DAY_MS),
    ];
    for (label, scope, span) in cases {
        let mut times = Vec::new();
        let mut bucket = 0;
        for _ in 0..200 {
            let t = Instant::now();
            let report = kino::qoe::report::build(db, &scope, now - span, now, now, 120_000).await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            bucket = report.bucket_secs;
            assert!(report.summary.views > 0, "{label}: no views");
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{:<34} {:>12} {:>10.1} {:>10.1}",
            label,
            format!("{bucket} s"),
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
    }
    Ok(())
}
