//! Engagement writes on PostgreSQL from two nodes at once: does the global advisory write lock
//! (`Db::write_tx`) hold them back? Two `Db` pools stand for two API nodes on one database
//! (a fresh one, with Kino's migrations). For `BENCH_SECS` (default 5) each, it runs
//! `BENCH_TASKS` (default 16) concurrent writers per node doing
//!
//! - `views`: `Db::count_view` with a new viewer each time (insert + counter update);
//! - `mixed`: a third each of views, `Db::save_position` and `Db::insert_comment`;
//!
//! and prints writes/s for each, once with the views under the global lock as before
//! (`locked`) and once as `Db::count_view` does now (`row locks`: PostgreSQL's own row locks
//! on the view row and the video's counter). Needs PostgreSQL at `KINO_TEST_PG_URL`
//! (default `postgres://postgres@127.0.0.1:5432`, trust auth).
//!
//!     cargo bench --bench pg_writes            # or ./bench/pg-writes.sh

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kino::db::{Db, NewVideo};
use kino::ids::VideoId;
use sqlx::Connection;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let server = std::env::var("KINO_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let tasks: usize = std::env::var("BENCH_TASKS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let name = format!("kino_bench_writes_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/test")).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await?;
    let url = format!("{server}/{name}");
    let result = run(&url, secs, tasks).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
        .execute(&mut admin)
        .await?;
    result
}

/// `Db::count_view` as it was: the same statements inside the global advisory lock.
async fn count_view_globally_locked(
    pool: &sqlx::PgPool,
    video: &str,
    viewer: &str,
    window_ms: i64,
) -> anyhow::Result<()> {
    let now = kino::db::now_ms();
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(1802071663)")
        .execute(&mut *tx)
        .await?;
    let counted = sqlx::query(
        "INSERT INTO video_views (video_id, viewer, counted_at) VALUES ($1, $2, $3)
         ON CONFLICT (video_id, viewer) DO UPDATE SET counted_at = excluded.counted_at
         WHERE video_views.counted_at <= $4",
    )
    .bind(video)
    .bind(viewer)
    .bind(now)
    .bind(now - window_ms)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if counted {
        sqlx::query("UPDATE videos SET views = views + 1 WHERE id = $1")
            .bind(video)
            .execute(&mut *tx)
            .await?;
    }
    let _: i64 = sqlx::query_scalar("SELECT views FROM videos WHERE id = $1")
        .bind(video)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn run(url: &str, secs: u64, tasks: usize) -> anyhow::Result<()> {
    let nodes = [
        Db::connect_with(url, Some(16)).await?,
        Db::connect_with(url, Some(16)).await?,
    ];
    let raw = [
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(16)
            .connect(url)
            .await?,
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(16)
            .connect(url)
            .await?,
    ];
    let db = &nodes[0];
    let user_id = match db.create_user("bench", None, "x", kino::auth::Role::Admin).await? {
        kino::db::CreateUser::Created(u) => u.id,
        kino::db::CreateUser::Taken => anyhow::bail!("a fresh database has a user already"),
    };
    let mut videos = Vec::new();
    for i in 0..64 {
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
        videos.push(id);
    }
    let videos = Arc::new(videos);
    println!("PostgreSQL writes from 2 nodes × {tasks} writers, {secs} s each (writes/s):");
    println!("{:<10} {:>12} {:>12}", "workload", "locked", "row locks");
    for mixed in [false, true] {
        let mut row = Vec::new();
        for locked in [true, false] {
            row.push(measure(&nodes, &raw, &videos, user_id, tasks, secs, mixed, locked).await?);
        }
        println!(
            "{:<10} {:>12.0} {:>12.0}",
            if mixed { "mixed" } else { "views" },
            row[0],
            row[1]
        );
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn measure(
    nodes: &[Db; 2],
    raw: &[sqlx::PgPool; 2],
    videos: &Arc<Vec<VideoId>>,
    user_id: i64,
    tasks: usize,
    secs: u64,
    mixed: bool,
    locked: bool,
) -> anyhow::Result<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(secs);
    let mut handles = Vec::new();
    for n in 0..2 {
        for t in 0..tasks {
            let (db, pool, videos, done) = (nodes[n].clone(), raw[n].clone(), videos.clone(), done.clone());
            handles.push(tokio::spawn(async move {
                let mut i = 0u64;
                while Instant::now() < until {
                    let video = &videos[(i as usize * 7 + t) % videos.len()];
                    let viewer = format!("n{n}t{t}i{i}l{locked}m{mixed}");
                    match if mixed { i % 3 } else { 0 } {
                        0 if locked => count_view_globally_locked(&pool, video, &viewer, 86_400_000).await?,
                        0 => db.count_view(video, &viewer, 86_400_000).await.map(|_| ())?,
                        1 => db.save_position(user_id, video, i as f64).await?,
                        _ => db
                            .insert_comment(video, None, user_id, "bench comment")
                            .await
                            .map(|_| ())?,
                    }
                    i += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                anyhow::Ok(())
            }));
        }
    }
    for h in handles {
        h.await??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / secs as f64)
}
