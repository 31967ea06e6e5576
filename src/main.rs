//! The `kino` command line: `serve`, `worker`, `import`. Every subcommand reads the same
//! configuration (see `kino::config`), so they act on the same data.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kino::config::{Config, FlagOverrides};

#[derive(Parser)]
#[command(
    name = "kino",
    version,
    about = "Self-hosted video platform: upload, adaptive HLS ladder, streaming"
)]
struct Cli {
    /// TOML configuration file (default: ./kino.toml when it exists).
    #[arg(long, global = true, env = "KINO_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory: database, media, scratch space (default ./kino-data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API, web pages, streaming and in-process transcode workers.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080; port 0 picks a free one).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Serve only; leave transcoding to `kino worker` processes.
        #[arg(long)]
        no_workers: bool,
    },
    /// Run transcode workers only, against the same database and storage.
    Worker,
    /// Ingest local files through the upload pipeline and wait for them to finish.
    Import {
        /// Video or audio files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let listen = match &cli.command {
        Command::Serve { listen, .. } => *listen,
        _ => None,
    };
    let config = match Config::load(
        cli.config.as_deref(),
        FlagOverrides {
            listen,
            data_dir: cli.data_dir.clone(),
        },
    ) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kino: {e:#}");
            return ExitCode::from(2);
        }
    };
    let default_level = if matches!(cli.command, Command::Import { .. }) {
        "warn"
    } else {
        "info"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KINO_LOG").unwrap_or_else(|_| default_level.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve { no_workers, .. } => kino::app::serve(config, !no_workers).await.map(|_| true),
            Command::Worker => kino::app::run_worker(config).await.map(|_| true),
            Command::Import { files } => kino::import::import(config, files).await,
        }
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("kino: {e:#}");
            ExitCode::FAILURE
        }
    }
}
