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
    let account = state
        .db
        .user_by_login(&user.trim().to_ascii_lowercase())
        .await?
        .ok_or_else(|| anyhow::anyhow!("no account is named {user:?}; create it with `kino users create`"))?;
    check_scopes(account.role, scopes).map_err(anyhow::Error::msg)?;
    let token = secret::new_api_token();
    state
        .db
        .insert_api_token(account.id, label, &secret::digest(&token), scopes)
        .await?;
    println!("{token}");
    Ok(())
}

/// Operator commands publish no events: they need not reach NATS (and work while it is down).
fn without_events(mut config: Config) -> Config {
    config.nats_url = None;
    config
}
