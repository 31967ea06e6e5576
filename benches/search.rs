//! Search latency on the embedded default: loads 100,000 synthetic videos into a fresh SQLite
//! database (same migrations, same FTS5 triggers as `kino serve`), then times
//! `Db::search_videos` — the call `GET /api/search` makes — for typed prefixes, whole words,
//! multi-word and accent-folded queries, as an anonymous caller and as an owner. Prints
//! p50/p90/p99/max per query kind in milliseconds. Target: p99 < 20 ms.
//!
//!     cargo bench --bench search            # or ./bench/search.sh
//!     SEARCH_ROWS=1000000 cargo bench --bench search

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const WORDS: &[&str] = &[
    "lecture",
    "rust",
    "ownership",
    "borrowing",
    "async",
    "tokio",
    "video",
    "streaming",
    "delivery",
    "encoding",
    "ladder",
    "bitrate",
    "keyframe",
    "segment",
    "playlist",
    "course",
    "chapter",
    "intro",
    "advanced",
    "beginner",
    "physics",
    "chemistry",
    "biology",
    "history",
    "montréal",
    "élan",
    "café",
    "garden",
    "cooking",
    "travel",
    "music",
    "concert",
    "guitar",
    "piano",
    "drawing",
    "painting",
    "interview",
    "keynote",
    "workshop",
    "tutorial",
    "review",
    "unboxing",
    "hiking",
    "mountain",
    "ocean",
    "city",
    "night",
    "morning",
    "football",
    "tennis",
    "chess",
    "math",
    "algebra",
    "geometry",
    "calculus",
    "statistics",
    "economics",
    "finance",
    "startup",
    "design",
    "typography",
];

fn sentence(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| WORDS[rng.random_range(0..WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let rows: usize = std::env::var("SEARCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("kino.db").display());
    let db = kino::db::Db::connect(&url).await?;
    let raw = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await?;

    let mut rng = StdRng::seed_from_u64(7);
    let started = Instant::now();
    sqlx::query(
        "INSERT INTO users (id, username, password_hash, role, created_at) VALUES (1, 'owner', 'x', 'uploader', 0)",
    )
    .execute(&raw)
    .await?;
    let mut tx = raw.begin().await?;
    for i in 0..rows {
        let privacy = match i % 10 {
            0 => "private",
            1 => "unlisted",
            _ => "public",
        };
        sqlx::query(
            "INSERT INTO videos (id, title, description, status, source_name, source_bytes, owner_id, privacy, tags, created_at, updated_at)
             VALUES (?, ?, ?, 'ready', 'x.mp4', 1, ?, ?, ?, ?, ?)",
        )
        .bind(format!("v{i:011}"))
        .bind(sentence(&mut rng, 4))
        .bind(sentence(&mut rng, 25))
        .bind(if i % 3 == 0 { Some(1i64) } else { None })
        .bind(privacy)
        .bind(sentence(&mut rng, 2))
        .bind(i as i64)
        .bind(i as i64)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    sqlx::query("PRAGMA optimize").execute(&raw).await?;
    println!("loaded {rows} videos in {:.1} s", started.elapsed().as_secs_f64());

    let kinds: &[(&str, &[&str])] = &[
        (
            "typed prefix (2-4 letters)",
            &["le", "rus", "stre", "gu", "cal", "mo", "pi", "chess"],
        ),
        (
            "one word",
            &["ownership", "keyframe", "workshop", "geometry", "travel", "night"],
        ),
        (
            "two words",
            &["rust ownership", "video streaming", "piano concert", "math intro"],
        ),
        ("accent-folded", &["montreal", "ELAN", "cafe"]),
        ("no match", &["zzzz", "qwertyuiop"]),
    ];
    println!("\n| query kind | caller | n | p50 ms | p90 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|---|---|");
    let mut all = Vec::new();
    for (kind, queries) in kinds {
        for (who, viewer) in [
            ("anonymous", kino::auth::policy::Listing::PublicOnly),
            ("owner", kino::auth::policy::Listing::PublicOrOwnedBy(1)),
        ] {
            let mut times = Vec::new();
            for round in 0..25 {
                for q in *queries {
                    let page = (round % 3) as u64;
                    let t = Instant::now();
                    let (found, _total) = db.search_videos(q, viewer, 20, page * 20).await?;
                    times.push(t.elapsed());
                    std::hint::black_box(found);
                }
            }
            times.sort();
            all.extend_from_slice(&times);
            println!(
                "| {kind} | {who} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
                times.len(),
                percentile(&times, 0.5),
                percentile(&times, 0.9),
                percentile(&times, 0.99),
                times.last().unwrap().as_secs_f64() * 1000.0
            );
        }
    }
    all.sort();
    println!(
        "\nall {} searches over {rows} videos: p50 {:.2} ms, p99 {:.2} ms (target p99 < 20 ms)",
        all.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.99)
    );
    Ok(())
}
