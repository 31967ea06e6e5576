//! The `kino` command line: `serve`, `worker`, `import`, `users`, `tokens`, `live`. Every subcommand reads the same
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
        /// Address of the RTMP ingest (sets `live.rtmp_listen`, default 127.0.0.1:1935; "" turns
        /// live ingest off).
        #[arg(long)]
        rtmp_listen: Option<String>,
    },
    /// Run transcode workers only, against the same database and storage.
    Worker,
    /// Ingest local files through the upload pipeline and wait for them to finish.
    Import {
        /// Video or audio files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Account that owns the imported videos (default: none; administrators manage them).
        #[arg(long)]
        owner: Option<String>,
    },
    /// Manage accounts.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Manage API tokens.
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Manage live streams.
    Live {
        #[command(subcommand)]
        command: LiveCommand,
    },
}

#[derive(Subcommand)]
enum LiveCommand {
    /// Create a live stream owned by account NAME; prints the RTMP URL and the stream key on
    /// two lines (the key is shown this once).
    Create {
        /// The account that owns the stream (it must be able to upload).
        name: String,
        /// Title of the stream (and of its replay).
        #[arg(long)]
        title: String,
        /// public, unlisted or private (default auth.default_privacy).
        #[arg(long)]
        privacy: Option<String>,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Create an account; the password is read from stdin.
    Create {
        /// Username: 3–32 characters of a-z 0-9 _ . -
        name: String,
        /// admin, uploader or viewer (default: admin for the first account, else auth.default_role).
        #[arg(long, value_parser = kino::auth::Role::parse)]
        role: Option<kino::auth::Role>,
        /// Email address (optional; used to sign in too).
        #[arg(long)]
        email: Option<String>,
        /// Read the password from stdin (required, so it never shows in `ps` or shell history).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum TokensCommand {
    /// Create an API token for the account NAME; prints only the token on stdout.
    Create {
        /// The account the token acts for.
        name: String,
        /// Comma-separated scopes: read, write, upload, admin.
        #[arg(long, default_value = "read")]
        scope: String,
        /// A label shown in the token list.
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

/// Raises the soft open-file limit to the hard one: every streaming response holds a socket
/// and a file, and the usual soft limit of 1024 would cap a server at ~500 viewers.
fn raise_open_file_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls on a valid, initialised struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// Logs to stderr, filtered by `KINO_LOG` (tracing's `EnvFilter` syntax). `KINO_LOG_FORMAT=json`
/// writes one JSON object a line for log shippers; otherwise human-readable text, with ANSI
/// colour only when stderr is a terminal (never in files or journald).
fn init_logging(default_level: &str) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("KINO_LOG").unwrap_or_else(|_| default_level.into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match std::env::var("KINO_LOG_FORMAT").as_deref() {
        Ok("json") => builder.json().init(),
        Ok("text") | Err(_) => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        Ok(other) => {
            builder.with_ansi(std::io::stderr().is_terminal()).init();
            tracing::warn!(value = other, "KINO_LOG_FORMAT must be `text` or `json`; using text");
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    raise_open_file_limit();
    let (listen, rtmp_listen) = match &cli.command {
        Command::Serve {
            listen, rtmp_listen, ..
        } => (*listen, rtmp_listen.clone()),
        _ => (None, None),
    };
    let config = match Config::load(
        cli.config.as_deref(),
        FlagOverrides {
            listen,
            data_dir: cli.data_dir.clone(),
            live: rtmp_listen.map(|rtmp_listen| kino::config::LiveFlags { rtmp_listen }),
        },
    ) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kino: {e:#}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = kino::auth::access::init_crypto() {
        eprintln!("kino: {e:#}");
        return ExitCode::FAILURE;
    }
    let default_level = if matches!(
        cli.command,
        Command::Import { .. } | Command::Users { .. } | Command::Tokens { .. } | Command::Live { .. }
    ) {
        "warn"
    } else {
        "info"
    };
    init_logging(default_level);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve { no_workers, .. } => kino::app::serve(config, !no_workers).await.map(|_| true),
            Command::Worker => kino::app::run_worker(config).await.map(|_| true),
            Command::Import { files, owner } => kino::import::import(config, files, owner).await,
            Command::Users {
                command: UsersCommand::Create { name, role, email, .. },
            } => kino::operator::create_user(config, &name, role, email.as_deref())
                .await
                .map(|_| true),
            Command::Tokens {
                command: TokensCommand::Create { name, scope, label },
            } => kino::operator::create_token(config, &name, &scope, &label)
                .await
                .map(|_| true),
            Command::Live {
                command: LiveCommand::Create { name, title, privacy },
            } => kino::operator::create_live_stream(config, &name, &title, privacy.as_deref())
                .await
                .map(|_| true),
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
