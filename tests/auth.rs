//! Accounts, sessions, privacy and signed playback, against the real server over HTTP:
//! the authorization matrix ({anonymous, viewer, other uploader, owner, admin} × {public,
//! unlisted, private} × every route, segments included), refresh-token rotation and reuse
//! detection, expired/tampered/foreign playback grants, CSRF, rate limits, API tokens and
//! deletion.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Server, kino_cli, media};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Cookies a browser would hold for one session.
#[derive(Debug, Clone, Default)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn absorb(&mut self, resp: &reqwest::Response) {
        for v in resp.headers().get_all(reqwest::header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || v.contains("Max-Age=0") {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_string(), value.to_string());
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Who makes a request.
#[derive(Debug, Clone)]
enum Cred {
    Anonymous,
    Cookies(Jar),
    Bearer(String),
}

async fn send(server: &Server, cred: &Cred, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
    let mut req = server.anon.request(method, server.url(path));
    match cred {
        Cred::Anonymous => {}
        Cred::Cookies(jar) => req = req.header(reqwest::header::COOKIE, jar.header()),
        Cred::Bearer(t) => req = req.bearer_auth(t),
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

async fn status(server: &Server, cred: &Cred, method: Method, path: &str, body: Option<Value>) -> StatusCode {
    send(server, cred, method, path, body).await.status()
}

/// Creates an account with the operator command.
fn create_user(server: &Server, name: &str, role: &str) {
    let out = kino_cli(
        &server.data_dir,
        &["users", "create", name, "--role", role, "--password-stdin"],
        &format!("{name}-password-1\n"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Signs in an account made by [`create_user`] (its password is derived from its name).
async fn sign_in(server: &Server, name: &str) -> Jar {
    sign_in_with(server, name, &format!("{name}-password-1")).await
}

async fn sign_in_with(server: &Server, login: &str, password: &str) -> Jar {
    let resp = send(
        server,
        &Cred::Anonymous,
        Method::POST,
        "/api/auth/signin",
        Some(json!({"username": login, "password": password})),
    )
    .await;
    assert_eq!(resp.status(), 200, "sign-in of {login}");
    let mut jar = Jar::default();
    jar.absorb(&resp);
    assert!(jar.0.contains_key("kino_access") && jar.0.contains_key("kino_refresh"));
    jar
}

/// `POST /api/auth/refresh` with a session's cookies.
async fn refresh(server: &Server, jar: &Jar) -> reqwest::Response {
    send(
        server,
        &Cred::Cookies(jar.clone()),
        Method::POST,
        "/api/auth/refresh",
        None,
    )
    .await
}

async fn json_of(resp: reqwest::Response) -> Value {
    resp.json().await.unwrap_or(Value::Null)
}

/// The media URLs of a ready ladder, found by reading its playlists: the multivariant
/// playlist, a media playlist, its init segment and first media segment (relative paths).
async fn ladder_paths(server: &Server, master_url: &str) -> Vec<String> {
    let base = master_url.rsplit_once('/').unwrap().0.to_string();
    let text = server.bytes(master_url).await;
    let master = match m3u8_rs::parse_playlist_res(&text).unwrap() {
        m3u8_rs::Playlist::MasterPlaylist(m) => m,
        _ => panic!("not a multivariant playlist"),
    };
    let variant = &master.variants[0].uri;
    let media_url = format!("{base}/{variant}");
    let media_base = media_url.rsplit_once('/').unwrap().0.to_string();
    let text = server.bytes(&media_url).await;
    let media = match m3u8_rs::parse_playlist_res(&text).unwrap() {
        m3u8_rs::Playlist::MediaPlaylist(m) => m,
        _ => panic!("not a media playlist"),
    };
    let init = media.segments[0].map.as_ref().expect("EXT-X-MAP").uri.clone();
    vec![
        master_url.to_string(),
        media_url.clone(),
        format!("{media_base}/{init}"),
        format!("{media_base}/{}", media.segments[0].uri),
    ]
}

/// Strips a playback grant from a URL: `/hls/ID/g/GRANT/x` → `/hls/ID/x`.
fn without_grant(url: &str) -> String {
    let parts: Vec<&str> = url.split('/').collect();
    match parts.iter().position(|p| *p == "g") {
        Some(i) => [&parts[..i], &parts[i + 2..]].concat().join("/"),
        None => url.to_string(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    Anonymous,
    Viewer,
    OtherUploader,
    Owner,
    Admin,
}

#[tokio::test]
async fn authorization_matrix_covers_every_route_privacy_and_segment() {
    let server = Server::start(&[]);
    create_user(&server, "owner", "uploader");
    create_user(&server, "other", "uploader");
    create_user(&server, "viewer", "viewer");
    let owner_jar = sign_in(&server, "owner").await;
    let creds = [
        (Actor::Anonymous, Cred::Anonymous),
        (Actor::Viewer, Cred::Cookies(sign_in(&server, "viewer").await)),
        (Actor::OtherUploader, Cred::Cookies(sign_in(&server, "other").await)),
        (Actor::Owner, Cred::Cookies(owner_jar.clone())),
        (Actor::Admin, Cred::Bearer(server.admin_token.clone())),
    ];
    let owner = Cred::Cookies(owner_jar);

    // The owner uploads with their session; the video starts private.
    let bytes = std::fs::read(media("bbb-720p-h264-aac.mp4")).unwrap();
    let form = reqwest::multipart::Form::new()
        .text("title", "Matrix")
        .text("privacy", "private")
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name("m.mp4"));
    let Cred::Cookies(jar) = &owner else { unreachable!() };
    let resp = server
        .anon
        .post(server.url("/api/videos"))
        .header(reqwest::header::COOKIE, jar.header())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let created = json_of(resp).await;
    assert_eq!(created["privacy"], "private");
    assert_eq!(created["owner"], "owner");
    let id = created["id"].as_str().unwrap().to_string();
    let v = server.wait_done(&id, Duration::from_secs(300)).await;
    assert_eq!(v["status"], "ready", "{v}");

    for privacy in ["public", "unlisted", "private"] {
        let resp = send(
            &server,
            &owner,
            Method::PATCH,
            &format!("/api/videos/{id}"),
            Some(json!({"privacy": privacy})),
        )
        .await;
        assert_eq!(resp.status(), 200, "owner sets {privacy}");
        assert_eq!(json_of(resp).await["privacy"], privacy);

        // Media URLs as the owner gets them (signed unless public).
        let own_playback = json_of(
            send(
                &server,
                &owner,
                Method::GET,
                &format!("/api/videos/{id}/playback"),
                None,
            )
            .await,
        )
        .await;
        let signed = ladder_paths(&server, own_playback["url"].as_str().unwrap()).await;
        let signed_poster = own_playback["poster_url"].as_str().unwrap().to_string();
        let bare: Vec<String> = signed
            .iter()
            .chain([&signed_poster])
            .map(|u| without_grant(u))
            .chain([format!("/media/{id}/original")])
            .collect();
        assert_eq!(
            privacy == "public",
            signed[0] == bare[0],
            "{privacy}: only non-public URLs carry a grant"
        );

        for (actor, cred) in &creds {
            let who = format!("{actor:?} on a {privacy} video");
            let can_watch = privacy != "private" || matches!(actor, Actor::Owner | Actor::Admin);
            let can_manage = matches!(actor, Actor::Owner | Actor::Admin);

            // Metadata and playback.
            let meta = send(&server, cred, Method::GET, &format!("/api/videos/{id}"), None).await;
            assert_eq!(
                meta.status() == 200,
                can_watch,
                "{who}: GET /api/videos/id → {}",
                meta.status()
            );
            if can_watch {
                assert_eq!(json_of(meta).await["can_edit"], can_manage, "{who}: can_edit");
            } else {
                assert_eq!(meta.status(), 404, "{who}: a private video is not revealed");
            }
            let playback = send(&server, cred, Method::GET, &format!("/api/videos/{id}/playback"), None).await;
            assert_eq!(
                playback.status() == 200,
                can_watch,
                "{who}: playback → {}",
                playback.status()
            );
            if can_watch {
                // Their own grant opens every file of the ladder, with no credentials at all.
                let p = json_of(playback).await;
                let urls = ladder_paths(&server, p["url"].as_str().unwrap()).await;
                for url in urls.iter().chain([&p["poster_url"].as_str().unwrap().to_string()]) {
                    assert_eq!(
                        status(&server, &Cred::Anonymous, Method::GET, url, None).await,
                        200,
                        "{who}: {url}"
                    );
                }
                assert_eq!(p["expires_at"].is_null(), privacy == "public", "{who}: expiry");
            }

            // Listing: only public videos are listed, for everyone.
            let list = json_of(send(&server, cred, Method::GET, "/api/videos", None).await).await;
            let listed = list["videos"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["id"] == id.as_str());
            assert_eq!(listed, privacy == "public", "{who}: listing");

            // Bare media URLs (no grant): public for all; unlisted needs a grant or a session;
            // private only for owner and admin, 404 for everyone else.
            for url in &bare {
                let got = status(&server, cred, Method::GET, url, None).await;
                let want = match (privacy, actor) {
                    ("public", _) => StatusCode::OK,
                    ("unlisted", Actor::Anonymous) => StatusCode::FORBIDDEN,
                    ("unlisted", _) => StatusCode::OK,
                    (_, Actor::Owner | Actor::Admin) => StatusCode::OK,
                    _ => StatusCode::NOT_FOUND,
                };
                assert_eq!(got, want, "{who}: bare {url}");
            }

            // Changes: owner and admin only.
            let edit = status(
                &server,
                cred,
                Method::PATCH,
                &format!("/api/videos/{id}"),
                Some(json!({"title": "Renamed"})),
            )
            .await;
            // Signed out: 401 whatever the video (it reveals nothing); signed in: 404 when the
            // video is not visible to them, 403 when it is but is not theirs.
            let want = if can_manage {
                StatusCode::OK
            } else if *actor == Actor::Anonymous {
                StatusCode::UNAUTHORIZED
            } else if !can_watch {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(edit, want, "{who}: PATCH");
            // Refusals only here; the owner's deletion is checked last.
            if !can_manage {
                let del = status(&server, cred, Method::DELETE, &format!("/api/videos/{id}"), None).await;
                assert_eq!(del, want, "{who}: DELETE");
            }
            let cancel = status(&server, cred, Method::POST, &format!("/api/videos/{id}/cancel"), None).await;
            assert_eq!(
                cancel,
                if can_manage { StatusCode::CONFLICT } else { want },
                "{who}: cancel"
            );
        }

        // The owner's list shows every privacy.
        let mine = json_of(send(&server, &owner, Method::GET, "/api/me/videos", None).await).await;
        assert_eq!(mine["videos"][0]["id"], id.as_str());
    }

    // Only viewers' uploads are refused; anonymous ones need a sign-in.
    let viewer = &creds[1].1;
    let form = || {
        reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"not a video".to_vec()).file_name("x.mp4"),
        )
    };
    let Cred::Cookies(vjar) = viewer else { unreachable!() };
    let r = server
        .anon
        .post(server.url("/api/videos"))
        .header(reqwest::header::COOKIE, vjar.header())
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = server
        .anon
        .post(server.url("/api/videos"))
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Deletion by the owner removes rows and every blob.
    assert_eq!(
        status(&server, &owner, Method::DELETE, &format!("/api/videos/{id}"), None).await,
        204
    );
    assert_eq!(
        status(&server, &creds[4].1, Method::GET, &format!("/api/videos/{id}"), None).await,
        404
    );
    assert!(
        server.blobs(&format!("sources/{id}")).await.is_empty(),
        "source left behind"
    );
    assert!(
        server.blobs(&format!("videos/{id}")).await.is_empty(),
        "ladder left behind"
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_replayed_one_ends_the_sign_in() {
    let server = Server::start(&[]);
    let resp = send(
        &server,
        &Cred::Anonymous,
        Method::POST,
        "/api/auth/register",
        Some(json!({"username": "Carol", "email": "carol@example.com", "password": "carol-password"})),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let mut first = Jar::default();
    first.absorb(&resp);
    let body = json_of(resp).await;
    assert_eq!(body["user"]["username"], "carol");
    assert_eq!(body["user"]["role"], "viewer", "the harness's admin was first");
    for cookie in ["kino_access", "kino_refresh"] {
        assert!(first.0.contains_key(cookie), "{cookie} set");
    }

    // Refresh: a new pair, the old refresh token rotated.
    let resp = refresh(&server, &first).await;
    assert_eq!(resp.status(), 200);
    let mut second = first.clone();
    second.absorb(&resp);
    assert_ne!(first.0["kino_refresh"], second.0["kino_refresh"]);
    assert_eq!(
        status(&server, &Cred::Cookies(second.clone()), Method::GET, "/api/me", None).await,
        200
    );

    // Replaying the rotated token: refused, and the whole family is revoked.
    let resp = refresh(&server, &first).await;
    assert_eq!(resp.status(), 401);
    assert!(json_of(resp).await["error"].as_str().unwrap().contains("already used"));
    let resp = refresh(&server, &second).await;
    assert_eq!(resp.status(), 401, "the successor died with its family");

    let racer = sign_in_with(&server, "carol", "carol-password").await;
    // Two refreshes racing with the same token (two tabs): one wins, the other is a replay —
    // never a server error.
    let (a, b) = tokio::join!(refresh(&server, &racer), refresh(&server, &racer));
    let mut codes = [a.status().as_u16(), b.status().as_u16()];
    codes.sort();
    assert_eq!(codes, [200, 401], "racing refreshes");

    // Sign-out ends a session's refresh token and clears the cookies.
    let mut third = sign_in_with(&server, "carol", "carol-password").await;
    let before = third.clone();
    let resp = send(
        &server,
        &Cred::Cookies(third.clone()),
        Method::POST,
        "/api/auth/signout",
        None,
    )
    .await;
    assert_eq!(resp.status(), 204);
    third.absorb(&resp);
    assert!(third.0.is_empty(), "cookies cleared: {third:?}");
    assert_eq!(refresh(&server, &before).await.status(), 401);

    // A tampered access cookie is refused, with a hint to refresh.
    let mut forged = second.clone();
    let token = forged.0.get_mut("kino_access").unwrap();
    token.replace_range(token.len() - 4.., "AAAA");
    let resp = send(&server, &Cred::Cookies(forged), Method::GET, "/api/me", None).await;
    assert_eq!(resp.status(), 401);
    assert!(json_of(resp).await["error"].as_str().unwrap().contains("refresh"));
}

#[tokio::test]
async fn expired_tampered_and_foreign_playback_grants_are_refused_with_reasons() {
    let server = Server::start(&[("KINO_AUTH__PLAYBACK_GRANT_SECS", "4")]);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (code, v) = server.upload(&media("bbb-720p-h264-aac.mp4"), None).await;
        assert_eq!(code, 201);
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        assert_eq!(server.wait_done(id, Duration::from_secs(300)).await["status"], "ready");
        let r = server
            .http
            .patch(server.url(&format!("/api/videos/{id}")))
            .json(&json!({"privacy": "private"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let playback: Value = server.json(&format!("/api/videos/{}/playback", ids[0])).await;
    let url = playback["url"].as_str().unwrap().to_string();
    let grant = url.split('/').nth(4).unwrap().to_string();
    let anon = Cred::Anonymous;
    assert_eq!(status(&server, &anon, Method::GET, &url, None).await, 200);

    let refusal = |path: String| {
        let server = &server;
        async move {
            let r = send(server, &Cred::Anonymous, Method::GET, &path, None).await;
            let code = r.status();
            (code, json_of(r).await["error"].as_str().unwrap_or_default().to_string())
        }
    };
    // Tampered: a later expiry written into the grant.
    let parts: Vec<&str> = grant.split('.').collect();
    let longer = format!(
        "{}.{}.{}.{}.{}.{}",
        parts[0],
        parts[1],
        parts[2],
        parts[3].parse::<u64>().unwrap() + 3600,
        parts[4],
        parts[5]
    );
    // The video is private: a bad grant gets the 404 of an unknown id (see tests/grants.rs).
    let (code, _) = refusal(url.replace(&grant, &longer)).await;
    assert_eq!(code, 404);
    // Another video's grant.
    let (code, _) = refusal(format!("/hls/{}/g/{grant}/master.m3u8", ids[1])).await;
    assert_eq!(code, 404);
    // Making the video unlisted (or anything else) revokes grants issued before.
    let set_privacy = |privacy: &'static str| {
        server
            .http
            .patch(server.url(&format!("/api/videos/{}", ids[0])))
            .json(&json!({ "privacy": privacy }))
            .send()
    };
    assert_eq!(set_privacy("unlisted").await.unwrap().status(), 200);
    let (code, why) = refusal(url.clone()).await;
    assert_eq!(code, 403);
    assert!(why.contains("privacy changed"), "{why}");
    assert_eq!(set_privacy("private").await.unwrap().status(), 200);
    assert_eq!(
        status(&server, &anon, Method::GET, &url, None).await,
        404,
        "back to private: the old grant stays dead (its generation is gone)"
    );
    let playback: Value = server.json(&format!("/api/videos/{}/playback", ids[0])).await;
    let url = playback["url"].as_str().unwrap().to_string();
    assert_eq!(status(&server, &anon, Method::GET, &url, None).await, 200);
    // Garbage.
    let (code, _) = refusal(format!("/hls/{}/g/nonsense/master.m3u8", ids[0])).await;
    assert_eq!(code, 404);
    // Expired.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (code, _) = refusal(url.clone()).await;
    assert_eq!(code, 404);
    let poster = playback["poster_url"].as_str().unwrap().to_string();
    assert_eq!(refusal(poster).await.0, 404, "the poster shares the grant's expiry");
}

#[tokio::test]
async fn cross_site_state_changes_are_refused() {
    let server = Server::start(&[]);
    create_user(&server, "dave", "uploader");
    let jar = sign_in(&server, "dave").await;
    let cross = |method: Method, path: &str, site: &'static str, origin: &'static str| {
        server
            .anon
            .request(method, server.url(path))
            .header(reqwest::header::COOKIE, jar.header())
            .header("Sec-Fetch-Site", site)
            .header(reqwest::header::ORIGIN, origin)
            .json(&json!({"name": "t", "scopes": ["read"]}))
    };
    let r = cross(Method::POST, "/api/tokens", "cross-site", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(json_of(r).await["error"].as_str().unwrap().contains("cross-site"));
    let r = cross(Method::POST, "/api/auth/signout", "cross-site", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The session survived the forged sign-out.
    assert_eq!(
        status(&server, &Cred::Cookies(jar.clone()), Method::GET, "/api/me", None).await,
        200
    );
    let own_origin: &'static str = Box::leak(server.base.clone().into_boxed_str());
    let r = cross(Method::POST, "/api/tokens", "same-origin", own_origin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "the site's own pages pass");
}

#[tokio::test]
async fn sign_in_is_rate_limited_and_does_not_tell_which_accounts_exist() {
    let server = Server::start(&[
        ("KINO_AUTH__SIGNIN_FREE_FAILURES", "2"),
        ("KINO_AUTH__ATTEMPTS_PER_MINUTE_PER_IP", "100"),
    ]);
    create_user(&server, "erin", "viewer");
    let attempt = |name: &'static str, pw: &'static str| {
        send(
            &server,
            &Cred::Anonymous,
            Method::POST,
            "/api/auth/signin",
            Some(json!({"username": name, "password": pw})),
        )
    };
    let wrong = attempt("erin", "not-her-password").await;
    let nobody = attempt("nobody", "whatever-password").await;
    assert_eq!(
        (wrong.status(), nobody.status()),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        json_of(wrong).await,
        json_of(nobody).await,
        "same answer for a wrong password and no account"
    );
    for _ in 0..2 {
        assert_eq!(attempt("erin", "still-wrong-pass").await.status(), 401);
    }
    let limited = attempt("erin", "erin-password-1").await;
    assert_eq!(
        limited.status(),
        429,
        "the right password too, while this address backs off on the account"
    );
    let wait: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");

    // Registration: clear rules, one message for a taken name or email.
    let register = |u: &'static str, e: &'static str, p: &'static str| {
        send(
            &server,
            &Cred::Anonymous,
            Method::POST,
            "/api/auth/register",
            Some(json!({"username": u, "email": e, "password": p})),
        )
    };
    let short = register("frank", "frank@example.com", "short").await;
    assert_eq!(short.status(), 400);
    assert!(json_of(short).await["error"].as_str().unwrap().contains("at least 10"));
    assert_eq!(
        register("frank", "frank@example.com", "frank-password").await.status(),
        201
    );
    let by_name = register("Frank", "other@example.com", "frank-password").await;
    assert_eq!(by_name.status(), 409, "usernames are public: a taken one may say so");
    // An email in use registers like a new one (see tests/signin.rs).
    assert_eq!(
        register("frank2", "FRANK@example.com", "frank-password").await.status(),
        201
    );
}

#[tokio::test]
async fn api_tokens_are_scoped_listed_and_revocable() {
    let server = Server::start(&[("KINO_AUTH__REGISTRATION", "false")]);
    let closed = send(
        &server,
        &Cred::Anonymous,
        Method::POST,
        "/api/auth/register",
        Some(json!({"username": "gina", "email": "gina@example.com", "password": "gina-password"})),
    )
    .await;
    assert_eq!(closed.status(), 403, "registration closed by configuration");
    create_user(&server, "gina", "uploader");
    let gina = Cred::Cookies(sign_in(&server, "gina").await);

    let created = json_of(
        send(
            &server,
            &gina,
            Method::POST,
            "/api/tokens",
            Some(json!({"name": "ci", "scopes": ["read"]})),
        )
        .await,
    )
    .await;
    let token = created["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("kino_"));
    let read_only = Cred::Bearer(token);
    assert_eq!(status(&server, &read_only, Method::GET, "/api/me", None).await, 200);
    let r = server
        .anon
        .post(server.url("/api/videos"))
        .bearer_auth(match &read_only {
            Cred::Bearer(t) => t,
            _ => unreachable!(),
        })
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(vec![0u8; 10]).file_name("a.mp4"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a read-only token cannot upload");
    // A token cannot mint or revoke tokens: a leaked one cannot outlive its revocation.
    let minted = send(
        &server,
        &read_only,
        Method::POST,
        "/api/tokens",
        Some(json!({"name": "x", "scopes": ["read"]})),
    )
    .await;
    assert_eq!(minted.status(), 403);
    // An upload-only token manages its owner's private video without being able to watch it.
    let upload_only = json_of(
        send(
            &server,
            &gina,
            Method::POST,
            "/api/tokens",
            Some(json!({"name": "up", "scopes": ["upload"]})),
        )
        .await,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let form = reqwest::multipart::Form::new().text("privacy", "private").part(
        "file",
        reqwest::multipart::Part::bytes(vec![0u8; 64]).file_name("p.mp4"),
    );
    let r = server
        .anon
        .post(server.url("/api/videos"))
        .bearer_auth(&upload_only)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let pid = json_of(r).await["id"].as_str().unwrap().to_string();
    let up = Cred::Bearer(upload_only);
    assert_eq!(
        status(&server, &up, Method::GET, &format!("/api/videos/{pid}"), None).await,
        404
    );
    assert_eq!(
        status(
            &server,
            &up,
            Method::PATCH,
            &format!("/api/videos/{pid}"),
            Some(json!({"title": "t"}))
        )
        .await,
        200
    );
    let list = json_of(send(&server, &gina, Method::GET, "/api/tokens", None).await).await;
    let ci = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ci")
        .expect("the ci token is listed")
        .clone();
    assert!(ci["last_used_at"].is_string(), "last use recorded: {list}");
    assert!(ci.get("token").is_none(), "the secret is shown only once");
    let too_much = send(
        &server,
        &gina,
        Method::POST,
        "/api/tokens",
        Some(json!({"name": "x", "scopes": ["admin"]})),
    )
    .await;
    assert_eq!(too_much.status(), 403, "an uploader cannot mint admin tokens");

    let tid = created["id"].as_i64().unwrap();
    assert_eq!(
        status(&server, &gina, Method::DELETE, &format!("/api/tokens/{tid}"), None).await,
        204
    );
    let revoked = send(&server, &read_only, Method::GET, "/api/me", None).await;
    assert_eq!(revoked.status(), 401);
    assert!(json_of(revoked).await["error"].as_str().unwrap().contains("revoked"));

    // The operator command refuses scopes beyond the role and prints only the token.
    create_user(&server, "hank", "viewer");
    let out = kino_cli(
        &server.data_dir,
        &["tokens", "create", "hank", "--scope", "read,upload"],
        "",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("viewer"));
    let out = kino_cli(&server.data_dir, &["tokens", "create", "hank", "--scope", "read"], "");
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(printed.lines().count(), 1);
    assert_eq!(
        status(
            &server,
            &Cred::Bearer(printed.trim().into()),
            Method::GET,
            "/api/me",
            None
        )
        .await,
        200
    );

    // A password change ends the other sign-ins of the account.
    let other_session = sign_in(&server, "gina").await;
    let r = send(
        &server,
        &gina,
        Method::POST,
        "/api/auth/password",
        Some(json!({"current_password": "gina-password-1", "new_password": "a-much-better-one"})),
    )
    .await;
    assert_eq!(r.status(), 204);
    assert_eq!(refresh(&server, &other_session).await.status(), 401);
}

/// Behind a trusted proxy each viewer has their own sign-in quota (the address comes from
/// `X-Forwarded-For`); from anyone else the header is ignored, so it cannot buy a fresh quota.
#[tokio::test]
async fn per_address_limits_see_clients_behind_trusted_proxies_only() {
    let attempts = |server: &Server, from: &'static str| {
        let req = server
            .anon
            .post(server.url("/api/auth/signin"))
            .header("X-Forwarded-For", from)
            .json(&json!({"username": "nobody", "password": "whatever-password"}));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    let limits = [
        ("KINO_AUTH__ATTEMPTS_PER_MINUTE_PER_IP", "2"),
        ("KINO_AUTH__SIGNIN_FREE_FAILURES", "100"),
    ];

    let behind = Server::start(&[limits[0], limits[1], ("KINO_HTTP__TRUSTED_PROXIES", "[\"127.0.0.1\"]")]);
    for _ in 0..2 {
        assert_eq!(attempts(&behind, "203.0.113.5").await, 401);
    }
    assert_eq!(
        attempts(&behind, "203.0.113.5").await,
        429,
        "this viewer's quota is spent"
    );
    assert_eq!(
        attempts(&behind, "203.0.113.6").await,
        401,
        "another viewer has their own"
    );
    // A spoofed left-most entry does not help: the proxy appended the real address.
    assert_eq!(attempts(&behind, "198.51.100.1, 203.0.113.5").await, 429);

    let direct = Server::start(&limits);
    for from in ["203.0.113.5", "203.0.113.6"] {
        assert_eq!(attempts(&direct, from).await, 401);
    }
    assert_eq!(
        attempts(&direct, "203.0.113.7").await,
        429,
        "without trusted proxies the header is ignored"
    );
}
