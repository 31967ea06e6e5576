//! Scopes mean what they say (README `### Scopes`), one test row per line of the table, and
//! one visibility rule: listings show a video only when the caller may watch it and it is
//! listable to them (unlisted and private ones only to their owner with `read`, or an admin).

mod common;

use common::{Server, kino_cli};
use reqwest::Method;
use serde_json::{Value, json};

fn account(server: &Server, name: &str, role: &str) {
    let out = kino_cli(
        &server.data_dir,
        &["users", "create", name, "--role", role, "--password-stdin"],
        &format!("{name}-password-1\n"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn token(server: &Server, name: &str, scopes: &str) -> String {
    let out = kino_cli(&server.data_dir, &["tokens", "create", name, "--scope", scopes], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Signs in and returns the `Cookie` header of the session.
async fn session(server: &Server, name: &str) -> String {
    let r = server
        .anon
        .post(server.url("/api/auth/signin"))
        .json(&json!({"username": name, "password": format!("{name}-password-1")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

enum Who<'a> {
    Bearer(&'a str),
    Cookie(&'a str),
}

async fn call(server: &Server, who: &Who<'_>, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = server.anon.request(method, server.url(path));
    req = match who {
        Who::Bearer(t) => req.bearer_auth(t),
        Who::Cookie(c) => req.header(reqwest::header::COOKIE, *c),
    };
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn upload(server: &Server, token: &str, title: &str, privacy: &str) -> String {
    let form = reqwest::multipart::Form::new()
        .text("title", title.to_string())
        .text("privacy", privacy.to_string())
        .part(
            "file",
            // A real clip: a failed video would be listed to its owner only.
            reqwest::multipart::Part::bytes(std::fs::read(common::media("bbb-opus-audio-only.webm")).unwrap())
                .file_name("x.webm"),
        );
    let r = server
        .anon
        .post(server.url("/api/videos"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

fn ids(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|x| {
            let x = if key == "items" { &x["video"] } else { x };
            x["id"].as_str().unwrap().to_string()
        })
        .collect()
}

#[tokio::test]
async fn every_scope_row_holds() {
    let server = Server::start(&[]);
    account(&server, "gina", "uploader");
    let all = token(&server, "gina", "read,write,upload");
    let read = token(&server, "gina", "read");
    let write = token(&server, "gina", "read,write");
    let up = token(&server, "gina", "upload");
    let public = upload(&server, &all, "Open lecture", "public").await;
    let private = upload(&server, &all, "Secretive lecture", "private").await;
    let unlisted = upload(&server, &all, "Linked lecture", "unlisted").await;

    // write: comments and progress; read alone is refused (403 naming the scope).
    let comment = json!({"body": "hello"});
    let path = format!("/api/videos/{public}/comments");
    let (code, body) = call(&server, &Who::Bearer(&read), Method::POST, &path, Some(comment.clone())).await;
    assert_eq!(code, 403, "read-only token comments: {body}");
    assert!(body["error"].as_str().unwrap().contains("write"), "{body}");
    let (code, c) = call(
        &server,
        &Who::Bearer(&write),
        Method::POST,
        &path,
        Some(comment.clone()),
    )
    .await;
    assert_eq!(code, 201, "{c}");
    let cpath = format!("/api/comments/{}", c["id"]);
    let edit = Some(json!({"body": "edited"}));
    assert_eq!(
        call(&server, &Who::Bearer(&read), Method::PATCH, &cpath, edit.clone())
            .await
            .0,
        403
    );
    assert_eq!(
        call(&server, &Who::Bearer(&read), Method::DELETE, &cpath, None).await.0,
        403
    );
    assert_eq!(
        call(&server, &Who::Bearer(&write), Method::PATCH, &cpath, edit).await.0,
        200
    );
    let progress = format!("/api/videos/{public}/progress");
    let pos = Some(json!({"position": 1.0}));
    assert_eq!(
        call(&server, &Who::Bearer(&read), Method::PUT, &progress, pos.clone())
            .await
            .0,
        403
    );
    assert_eq!(
        call(&server, &Who::Bearer(&write), Method::PUT, &progress, pos.clone())
            .await
            .0,
        204
    );
    // read: history and progress reading; an upload-only token gets neither.
    assert_eq!(
        call(&server, &Who::Bearer(&read), Method::GET, &progress, None).await.0,
        200
    );
    assert_eq!(
        call(&server, &Who::Bearer(&up), Method::GET, &progress, None).await.0,
        403
    );
    assert_eq!(
        call(&server, &Who::Bearer(&up), Method::GET, "/api/me/history", None)
            .await
            .0,
        403
    );
    // Views stay open to every caller (anonymous viewers count too).
    let views = format!("/api/videos/{public}/views");
    assert_eq!(
        call(&server, &Who::Bearer(&read), Method::POST, &views, None).await.0,
        200
    );

    // Session only: the password, and revoking tokens.
    let pw = Some(json!({"current_password": "gina-password-1", "new_password": "a-much-better-one"}));
    let (code, body) = call(
        &server,
        &Who::Bearer(&all),
        Method::POST,
        "/api/auth/password",
        pw.clone(),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("sign"), "{body}");
    let cookie = session(&server, "gina").await;
    let spare = token(&server, "gina", "read");
    let (_, list) = call(&server, &Who::Cookie(&cookie), Method::GET, "/api/tokens", None).await;
    let tid = list["tokens"][0]["id"].as_i64().unwrap();
    let revoke = format!("/api/tokens/{tid}");
    assert_eq!(
        call(&server, &Who::Bearer(&all), Method::DELETE, &revoke, None).await.0,
        403
    );
    assert_eq!(
        call(&server, &Who::Cookie(&cookie), Method::DELETE, &revoke, None)
            .await
            .0,
        204
    );
    let (code, _) = call(&server, &Who::Bearer(&spare), Method::GET, "/api/me", None).await;
    assert_eq!(code, 401, "the revoked token is dead");

    // One visibility rule: private and unlisted titles are listed to their owner with `read`
    // only, in every listing; an upload-only token sees the public one.
    let listings = [
        ("/api/me/videos", "videos"),
        ("/api/search?q=lecture", "videos"),
        ("/api/users/gina/videos", "videos"),
    ];
    for (path, key) in listings {
        let (code, seen) = call(&server, &Who::Bearer(&write), Method::GET, path, None).await;
        assert_eq!(code, 200);
        let seen = ids(&seen, key);
        for id in [&public, &private, &unlisted] {
            assert!(seen.contains(id), "{path} with read lists {id}");
        }
        let (_, seen) = call(&server, &Who::Bearer(&up), Method::GET, path, None).await;
        let seen = ids(&seen, key);
        assert!(seen.contains(&public), "{path}: public");
        assert!(
            !seen.contains(&private) && !seen.contains(&unlisted),
            "{path} upload-only: {seen:?}"
        );
    }
    // The library is the public catalogue, for everyone.
    let (_, lib) = call(&server, &Who::Bearer(&write), Method::GET, "/api/videos", None).await;
    assert_eq!(ids(&lib, "videos"), std::slice::from_ref(&public));

    // History leaves out another account's unlisted video, like every listing.
    account(&server, "hank", "viewer");
    let hank = token(&server, "hank", "read,write");
    for id in [&public, &unlisted] {
        let p = format!("/api/videos/{id}/progress");
        assert_eq!(
            call(&server, &Who::Bearer(&hank), Method::PUT, &p, pos.clone()).await.0,
            204
        );
    }
    let (_, hist) = call(&server, &Who::Bearer(&hank), Method::GET, "/api/me/history", None).await;
    assert_eq!(ids(&hist, "items"), std::slice::from_ref(&public), "{hist}");
    assert_eq!(hist["total"], 1);
}
