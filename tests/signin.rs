//! Sign-in limits against the real server (issue 12, item 7): wrong passwords from one address
//! do not lock the account's owner out from another, the backoff of that address grows, and
//! the per-account hourly ceiling holds across addresses; registration does not reveal which
//! emails have accounts. Client addresses come from
//! `X-Forwarded-For`, believed because the test client (127.0.0.1) is a trusted proxy.

mod common;

use common::{Server, kino_cli};
use serde_json::json;

/// A server behind a "proxy" at 127.0.0.1, with generous per-address limits and `extra`.
fn server(extra: &[(&str, &str)]) -> Server {
    let mut env = vec![
        ("KINO_HTTP__TRUSTED_PROXIES", "[\"127.0.0.1\"]"),
        ("KINO_AUTH__ATTEMPTS_PER_MINUTE_PER_IP", "1000"),
    ];
    env.extend_from_slice(extra);
    let server = Server::start(&env);
    for name in ["erin", "fred"] {
        let out = kino_cli(
            &server.data_dir,
            &["users", "create", name, "--role", "viewer", "--password-stdin"],
            &format!("{name}-password-1\n"),
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    server
}

/// A sign-in from `from`; returns the status and `Retry-After` (seconds), if any.
async fn sign_in(server: &Server, from: &str, name: &str, password: &str) -> (u16, Option<u64>) {
    let r = server
        .anon
        .post(server.url("/api/auth/signin"))
        .header("X-Forwarded-For", from)
        .json(&json!({"username": name, "password": password}))
        .send()
        .await
        .unwrap();
    let wait = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (r.status().as_u16(), wait)
}

const A: &str = "203.0.113.5";
const B: &str = "198.51.100.7";

#[tokio::test]
async fn wrong_passwords_from_one_address_do_not_lock_the_user_out_from_another() {
    let server = server(&[]);
    // The default: five free failures per (account, address), then backoff.
    for _ in 0..6 {
        assert_eq!(sign_in(&server, A, "erin", "not-her-password").await.0, 401);
    }
    let (code, wait) = sign_in(&server, A, "erin", "erin-password-1").await;
    assert_eq!(code, 429, "address A backs off on erin");
    assert!(wait.is_some_and(|w| w >= 1));
    assert_eq!(
        sign_in(&server, B, "erin", "erin-password-1").await.0,
        200,
        "erin still signs in from B"
    );
    assert_eq!(
        sign_in(&server, A, "fred", "fred-password-1").await.0,
        200,
        "A is not blocked on other accounts"
    );
}

#[tokio::test]
async fn the_backoff_of_one_address_grows() {
    let server = server(&[("KINO_AUTH__SIGNIN_FREE_FAILURES", "1")]);
    assert_eq!(sign_in(&server, A, "erin", "wrong-password-1").await.0, 401);
    assert_eq!(sign_in(&server, A, "erin", "wrong-password-2").await.0, 401);
    let (code, first) = sign_in(&server, A, "erin", "wrong-password-3").await;
    assert_eq!(code, 429);
    let first = first.unwrap();
    // Wait the first backoff out; the next failure doubles it.
    tokio::time::sleep(std::time::Duration::from_millis(first * 1000 + 200)).await;
    assert_eq!(sign_in(&server, A, "erin", "wrong-password-4").await.0, 401);
    let (code, second) = sign_in(&server, A, "erin", "erin-password-1").await;
    assert_eq!(code, 429, "the right password waits too");
    assert!(second.unwrap() > first, "{second:?} after {first}");
}

#[tokio::test]
async fn the_account_ceiling_holds_across_addresses() {
    let server = server(&[("KINO_AUTH__ACCOUNT_FAILURES_PER_HOUR", "3")]);
    for from in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
        assert_eq!(sign_in(&server, from, "erin", "not-her-password").await.0, 401);
    }
    let (code, wait) = sign_in(&server, B, "erin", "erin-password-1").await;
    assert_eq!(code, 429, "the ceiling holds whatever the address");
    assert!(wait.is_some_and(|w| w > 3000 && w <= 3600), "{wait:?}");
    assert_eq!(sign_in(&server, B, "fred", "fred-password-1").await.0, 200);
}

#[tokio::test]
async fn registering_with_an_email_in_use_answers_like_a_new_one() {
    let server = server(&[]);
    let register = |username: &'static str, email: &'static str, from: &'static str| {
        server
            .anon
            .post(server.url("/api/auth/register"))
            .header("X-Forwarded-For", from)
            .json(&json!({"username": username, "email": email, "password": "a-long-password"}))
            .send()
    };
    let first = register("gina", "gina@example.com", "192.0.2.10").await.unwrap();
    assert_eq!(first.status(), 201);
    let fresh = register("hank", "hank@example.com", "192.0.2.11").await.unwrap();
    let reused = register("gina2", "GINA@example.com", "192.0.2.12").await.unwrap();
    assert_eq!(
        fresh.status(),
        reused.status(),
        "same answer for a new email and one in use"
    );
    assert_eq!(reused.status(), 201);
    let shape = |v: serde_json::Value| {
        let mut keys: Vec<String> = v["user"].as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(shape(fresh.json().await.unwrap()), shape(reused.json().await.unwrap()));
    // An email does not sign anyone in: only the username does.
    assert_eq!(sign_in(&server, B, "gina@example.com", "a-long-password").await.0, 401);
    assert_eq!(sign_in(&server, B, "gina", "a-long-password").await.0, 200);
    // Usernames are public (user pages), so a taken one may still say so.
    let taken = register("gina", "other@example.com", "192.0.2.13").await.unwrap();
    assert_eq!(taken.status(), 409);
}
