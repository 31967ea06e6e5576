//! Operator commands that act on the same data as `kino serve`: `kino users create` and
//! `kino tokens create`.

use std::io::Read;

use anyhow::Context;

use crate::app::AppState;
use crate::auth::credentials::{Email, NewPassword, Username};
use crate::auth::{Role, ScopeSet, password, secret};
use crate::config::Config;
use crate::db::CreateUser;
use crate::db::api_tokens::check_scopes;

/// `kino users create NAME [--role R] [--email E] --password-stdin`: creates an account with
/// the password read from stdin (one line; a trailing newline is dropped). Without `--role`
/// the first account is an admin and later ones get `auth.default_role`. Prints a confirmation
/// on stderr.
///
/// Errors: an invalid name, email or password; a taken name; an unreadable stdin.
pub async fn create_user(config: Config, name: &str, role: Option<Role>, email: Option<&str>) -> anyhow::Result<()> {
    let username = Username::parse(name).map_err(anyhow::Error::msg)?;
    let email = email.map(Email::parse).transpose().map_err(anyhow::Error::msg)?;
    let mut raw = String::new();
    std::io::stdin()
        .read_to_string(&mut raw)
        .context("cannot read the password from stdin")?;
    let raw = raw.strip_suffix('\n').unwrap_or(&raw);
    let raw = raw.strip_suffix('\r').unwrap_or(raw);
    let pw = NewPassword::parse(raw).map_err(anyhow::Error::msg)?;
    let state = AppState::open(without_events(config.clone())).await?;
    let role = role.unwrap_or(config.auth.default_role);
    let hash = password::hash(&pw).await?;
    match state
        .db
        .create_user(username.as_str(), email.as_ref().map(Email::as_str), &hash, role)
        .await?
    {
        CreateUser::Created(u) => {
            eprintln!("created {} ({})", u.username, u.role.as_str());
            Ok(())
        }
        CreateUser::Taken => anyhow::bail!("the username {} is already taken", username.as_str()),
    }
}

/// `kino tokens create NAME [--scope read,upload] [--label L]`: creates an API token for the
/// account `NAME` and prints only the token on stdout.
///
/// Errors: no such account, unknown scopes, or scopes beyond the account's role.
pub async fn create_token(config: Config, user: &str, scopes: &str, label: &str) -> anyhow::Result<()> {
    let scopes = ScopeSet::parse_csv(scopes).map_err(anyhow::Error::msg)?;
    let state = AppState::open(without_events(config)).await?;
    let account = account(&state, user).await?;
    check_scopes(account.role, scopes).map_err(anyhow::Error::msg)?;
    let token = secret::new_api_token();
    state
        .db
        .insert_api_token(account.id, label, &secret::digest(&token), scopes)
        .await?;
    println!("{token}");
    Ok(())
}

/// The account named `user` (any case).
///
/// Errors: no such account (the message says how to make one), or the database failed.
async fn account(state: &AppState, user: &str) -> anyhow::Result<crate::db::UserRecord> {
    state
        .db
        .user_by_login(&user.trim().to_ascii_lowercase())
        .await?
        .ok_or_else(|| anyhow::anyhow!("no account is named {user:?}; create it with `kino users create`"))
}

/// Operator commands publish no events: they need not reach NATS (and work while it is down).
fn without_events(mut config: Config) -> Config {
    config.nats_url = None;
    config
}

/// `kino live create NAME --title T [--privacy P]`: creates a live stream owned by account
/// `user` and prints its RTMP URL and stream key on two lines (the key is shown this once).
///
/// Errors: no such account, an account that cannot upload, a bad title or privacy, or the
/// database is unreachable.
pub async fn create_live_stream(config: Config, user: &str, title: &str, privacy: Option<&str>) -> anyhow::Result<()> {
    let rtmp_url = match &config.live.rtmp_public_host {
        Some(host) => format!("rtmp://{host}/{}", crate::live::RTMP_APP),
        None => {
            let addr: std::net::SocketAddr = config.live.rtmp_listen.parse().map_err(|_| {
                anyhow::anyhow!("live ingest is off (live.rtmp_listen is empty); set it, or live.rtmp_public_host")
            })?;
            let host = if addr.ip().is_unspecified() {
                format!("localhost:{}", addr.port())
            } else {
                addr.to_string()
            };
            format!("rtmp://{host}/{}", crate::live::RTMP_APP)
        }
    };
    let title = title.trim();
    anyhow::ensure!(
        !title.is_empty() && title.chars().count() <= crate::video::MAX_TITLE_CHARS,
        "the title must be 1–{} characters",
        crate::video::MAX_TITLE_CHARS
    );
    let privacy = match privacy {
        Some(p) => crate::auth::Privacy::parse(p).map_err(anyhow::Error::msg)?,
        None => config.auth.default_privacy,
    };
    let state = AppState::open(without_events(config)).await?;
    let account = account(&state, user).await?;
    anyhow::ensure!(
        account.role.scopes().has(crate::auth::Scope::Upload),
        "account {user:?} cannot upload, so it cannot go live; give it the uploader role"
    );
    let key = crate::live::new_stream_key();
    let video = crate::db::NewVideo {
        id: crate::ids::VideoId::new(),
        title: title.to_string(),
        description: String::new(),
        source_name: "live".into(),
        source_bytes: 0,
        owner_id: Some(account.id),
        privacy,
        tags: Vec::new(),
    };
    state.db.insert_live_stream(&video, &secret::digest(&key)).await?;
    println!("{rtmp_url}\n{key}");
    Ok(())
}
