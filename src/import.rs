//! `kino import FILE...`: ingest local files through the same pipeline as uploads — stored as
//! sources, queued as jobs, transcoded by workers in this process (and by any `kino serve` or
//! `kino worker` sharing the data) — with a progress bar per file. Returns whether every file
//! ended `ready`.

use std::path::PathBuf;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tokio_util::sync::CancellationToken;

use crate::app::{AppState, shutdown_signal};
use crate::config::Config;
use crate::db::VideoStatus;
use crate::ingest::{PendingSource, SourceDetails};
use crate::jobs::worker;
use crate::video::title_from_file_name;

/// Imports `files`, owned by the account named `owner` (none: an operator import that
/// administrators manage); prints one result line per file on stdout. Returns `Ok(true)` when
/// every file ended `ready`.
///
/// Errors: the data directory or database cannot be opened, or `owner` names no account.
pub async fn import(config: Config, files: Vec<PathBuf>, owner: Option<String>) -> anyhow::Result<bool> {
    let state = AppState::open(config).await?;
    let owner = match owner {
        Some(name) => Some(
            state
                .db
                .user_by_login(&name.to_ascii_lowercase())
                .await?
                .ok_or_else(|| anyhow::anyhow!("no account is named {name:?}; create it with `kino users create`"))?
                .id,
        ),
        None => None,
    };
    let bars = MultiProgress::new();
    let style = ProgressStyle::with_template("{prefix:30!} [{bar:32}] {pos:>3}% {msg}")
        .expect("valid template")
        .progress_chars("=> ");
    let mut watched = Vec::new();
    let mut all_ok = true;

    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.display().to_string());
        let meta = match std::fs::metadata(file) {
            Ok(m) if m.is_file() => m,
            Ok(_) => {
                println!("{}: failed: not a regular file", file.display());
                all_ok = false;
                continue;
            }
            Err(e) => {
                println!("{}: failed: {e}", file.display());
                all_ok = false;
                continue;
            }
        };
        let source = PendingSource::new(&state.store);
        if let Err(e) = state.store.put_file(source.key(), file).await {
            println!("{}: failed: could not store it: {e:#}", file.display());
            all_ok = false;
            continue;
        }
        let details = SourceDetails {
            title: title_from_file_name(&name),
            description: String::new(),
            source_name: name.clone(),
            source_bytes: meta.len(),
            owner_id: owner,
            privacy: state.config.auth.default_privacy,
            tags: Vec::new(),
        };
        let id = source
            .record(&state.db, state.config.jobs.max_attempts, details)
            .await?;
        let bar = bars.add(ProgressBar::new(100).with_style(style.clone()).with_prefix(name));
        bar.set_message("queued");
        watched.push((file.clone(), id, bar));
    }

    let shutdown = CancellationToken::new();
    let workers = tokio::spawn(worker::run_workers(
        state.worker_context(),
        state.config.workers.max(1),
        shutdown.clone(),
    ));
    let interrupted = CancellationToken::new();
    let flag = interrupted.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        flag.cancel();
    });

    let mut pending: Vec<_> = watched.iter().collect();
    while !pending.is_empty() && !interrupted.is_cancelled() {
        let mut still = Vec::new();
        for entry in pending {
            let (file, id, bar) = entry;
            match state.db.video(id).await? {
                Some(v) if v.status == VideoStatus::Ready => {
                    bar.set_position(100);
                    bar.finish_with_message("ready");
                    let names: Vec<_> = v.renditions.iter().map(|r| r.name.as_str()).collect();
                    bars.suspend(|| println!("{}: ready as {id} ({})", file.display(), names.join(", ")));
                }
                Some(v) if v.status == VideoStatus::Failed => {
                    bar.abandon_with_message("failed");
                    bars.suspend(|| println!("{}: failed: {}", file.display(), v.error.unwrap_or_default()));
                    all_ok = false;
                }
                Some(v) => {
                    bar.set_position(v.progress as u64);
                    bar.set_message(if v.progress > 0.0 { "transcoding" } else { "queued" });
                    still.push(entry);
                }
                None => {
                    bar.abandon_with_message("deleted");
                    all_ok = false;
                }
            }
        }
        pending = still;
        if !pending.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(300)) => {}
                _ = interrupted.cancelled() => {}
            }
        }
    }
    if interrupted.is_cancelled() {
        println!("interrupted: unfinished imports stay queued and finish under `kino serve` or `kino worker`");
        all_ok = false;
    }
    shutdown.cancel();
    let _ = workers.await;
    state.events.flush(std::time::Duration::from_secs(2)).await;
    Ok(all_ok)
}
