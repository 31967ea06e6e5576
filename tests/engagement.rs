//! Discovery and engagement against the real server: search (prefix, ranking, folding,
//! visibility, hostile input), tags and user pages, comments (threads, permissions, limits,
//! hostile bodies kept as text, comments off), live comment push over the WebSocket, watch
//! progress and history, and view counting.

mod common;

use std::time::{Duration, Instant};

use common::{Server, kino_cli, media};
use futures::StreamExt;
use serde_json::{Value, json};

/// An account with an API token, made with the operator commands.
fn account(server: &Server, name: &str, role: &str) -> String {
    let out = kino_cli(
        &server.data_dir,
        &["users", "create", name, "--role", role, "--password-stdin"],
        "a-long-password\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let scopes = if role == "viewer" {
        "read,write"
    } else {
        "read,write,upload"
    };
    let out = kino_cli(&server.data_dir, &["tokens", "create", name, "--scope", scopes], "");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A quick upload (the file is not a video, so no transcode runs; the row is what matters),
/// then title, description, privacy and tags set by PATCH.
async fn video(server: &Server, token: &str, title: &str, description: &str, privacy: &str, tags: &[&str]) -> String {
    let form = reqwest::multipart::Form::new().part(
        "file",
        // A real clip: a failed upload would be its owner's only.
        reqwest::multipart::Part::bytes(std::fs::read(media("bbb-opus-audio-only.webm")).unwrap()).file_name("x.webm"),
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
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let r = server
        .anon
        .patch(server.url(&format!("/api/videos/{id}")))
        .bearer_auth(token)
        .json(&json!({"title": title, "description": description, "privacy": privacy, "tags": tags}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    id
}

async fn get_json(server: &Server, token: Option<&str>, path: &str) -> (u16, Value) {
    let mut req = server.anon.get(server.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn send_json(server: &Server, method: reqwest::Method, token: &str, path: &str, body: Value) -> (u16, Value) {
    let r = server
        .anon
        .request(method, server.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn ids(v: &Value) -> Vec<String> {
    v["videos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn search_ranks_titles_first_matches_prefixes_and_hides_what_the_caller_may_not_see() {
    let server = Server::start(&[]);
    let alice = account(&server, "alice", "uploader");
    let bob = account(&server, "bob", "uploader");
    let in_title = video(&server, &alice, "Lecture 1: Rust ownership", "", "public", &[]).await;
    let in_description = video(
        &server,
        &alice,
        "Week one",
        "A lecture on Rust ownership",
        "public",
        &[],
    )
    .await;
    let accented = video(&server, &alice, "Élan vital à Montréal", "", "public", &["français"]).await;
    let private = video(&server, &bob, "Rust lecture draft", "", "private", &[]).await;
    let unlisted = video(&server, &bob, "Rust lecture unlisted", "", "unlisted", &[]).await;

    // Prefix matching while typing, title above description.
    let (code, found) = get_json(&server, None, "/api/search?q=lec").await;
    assert_eq!(code, 200);
    assert_eq!(ids(&found), [in_title.as_str(), in_description.as_str()], "{found}");
    assert_eq!(found["total"], 2);
    let (_, found) = get_json(&server, None, "/api/search?q=RUST%20owner").await;
    assert_eq!(ids(&found)[0], in_title);
    // Case and diacritics folded, in both directions; tags searched too.
    let (_, found) = get_json(&server, None, "/api/search?q=elan%20MONTREAL").await;
    assert_eq!(ids(&found), [accented.as_str()]);
    let (_, found) = get_json(&server, None, "/api/search?q=fran%C3%A7").await;
    assert_eq!(ids(&found), [accented.as_str()]);
    // Punctuation splits words the same way on every backend: "Node.js" is "node" and "js";
    // Czech accents fold too.
    let dotted = video(&server, &bob, "Node.js in Čeština", "", "private", &[]).await;
    // (Bob's private video: only he finds it, and the other listings below are unchanged.)
    for q in ["js", "node.j", "cestina"] {
        let (_, found) = get_json(&server, Some(&bob), &format!("/api/search?q={q}")).await;
        assert_eq!(ids(&found), [dotted.as_str()], "{q}: {found}");
    }
    // Unlisted and private never appear for others; their owner finds them.
    let (_, found) = get_json(&server, Some(&alice), "/api/search?q=rust").await;
    assert!(
        !ids(&found).contains(&private) && !ids(&found).contains(&unlisted),
        "{found}"
    );
    let (_, found) = get_json(&server, Some(&bob), "/api/search?q=draft").await;
    assert_eq!(ids(&found), [private.as_str()]);
    // Hostile and empty input: a clear answer, never a server error.
    for q in ["%22", "-", "a%22%20OR%20%22b", "NEAR(rust", "*", "rust%22)"] {
        let (code, _) = get_json(&server, None, &format!("/api/search?q={q}")).await;
        assert!(code == 200 || code == 400, "{q}: {code}");
    }
    let (code, body) = get_json(&server, None, "/api/search?q=%20").await;
    assert_eq!(code, 400);
    assert!(body["error"].as_str().unwrap().contains("letter"));
    // Pagination.
    let (_, page2) = get_json(&server, None, "/api/search?q=lec&per_page=1&page=2").await;
    assert_eq!(ids(&page2), [in_description.as_str()]);

    // Tags filter the library; user pages list and sort.
    let (_, tagged) = get_json(&server, None, "/api/videos?tag=Fran%C3%A7ais&page=1&per_page=24").await;
    assert_eq!(ids(&tagged), [accented.as_str()]);
    let (code, _) = send_json(
        &server,
        reqwest::Method::PATCH,
        &alice,
        &format!("/api/videos/{in_title}"),
        json!({"tags": ["<b>"]}),
    )
    .await;
    assert_eq!(code, 400);
    let (_, page) = get_json(&server, None, "/api/users/bob").await;
    assert_eq!(page["user"]["video_count"], 0, "bob has nothing public");
    let (_, page) = get_json(&server, Some(&bob), "/api/users/bob").await;
    assert_eq!(page["user"]["video_count"], 3, "bob sees his own");
    let (_, oldest) = get_json(&server, None, "/api/users/alice/videos?sort=oldest&page=1&per_page=10").await;
    assert_eq!(
        ids(&oldest),
        [in_title.clone(), in_description.clone(), accented.clone()]
    );
    assert_eq!(get_json(&server, None, "/api/users/nobody").await.0, 404);
    // One view makes a video the most viewed.
    let r = server
        .anon
        .post(server.url(&format!("/api/videos/{accented}/views")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["counted"], true);
    let (_, popular) = get_json(&server, None, "/api/users/alice/videos?sort=most_viewed").await;
    assert_eq!(ids(&popular)[0], accented);
}

#[tokio::test]
async fn comments_thread_one_level_keep_hostile_text_inert_and_obey_permissions() {
    let server = Server::start(&[("KINO_COMMENTS__PER_MINUTE", "6")]);
    let owner = account(&server, "owner", "uploader");
    let carol = account(&server, "carol", "viewer");
    let dan = account(&server, "dan", "viewer");
    let id = video(&server, &owner, "Talk", "", "public", &[]).await;
    let path = format!("/api/videos/{id}/comments");

    let hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> & \"quotes\"";
    let (code, first) = send_json(&server, reqwest::Method::POST, &carol, &path, json!({"body": hostile})).await;
    assert_eq!(code, 201);
    assert_eq!(first["body"], hostile, "stored and returned exactly as typed");
    assert_eq!(first["author"], "carol");
    let (code, reply) = send_json(
        &server,
        reqwest::Method::POST,
        &dan,
        &path,
        json!({"body": "a reply", "parent_id": first["id"]}),
    )
    .await;
    assert_eq!(code, 201);
    assert_eq!(reply["parent_id"], first["id"]);
    // A reply to a reply joins the same thread.
    let (_, nested) = send_json(
        &server,
        reqwest::Method::POST,
        &carol,
        &path,
        json!({"body": "reply to reply", "parent_id": reply["id"]}),
    )
    .await;
    assert_eq!(nested["parent_id"], first["id"]);
    let (_, second) = send_json(
        &server,
        reqwest::Method::POST,
        &dan,
        &path,
        json!({"body": "second top-level"}),
    )
    .await;

    let (_, page) = get_json(&server, Some(&carol), &path).await;
    assert_eq!(page["total"], 2);
    assert_eq!(page["comments"][0]["id"], second["id"], "newest first");
    let thread = &page["comments"][1];
    assert_eq!(thread["replies"].as_array().unwrap().len(), 2);
    assert_eq!(thread["can_edit"], true);
    assert_eq!(page["comments"][0]["can_edit"], false);

    // Limits and permissions.
    for (refused, status) in [
        (json!({"body": "   "}), 400),
        (json!({"body": "x".repeat(2001)}), 400),
        (json!({"body": "orphan", "parent_id": 999999}), 404),
    ] {
        let (code, _) = send_json(&server, reqwest::Method::POST, &carol, &path, refused.clone()).await;
        assert_eq!(code, status, "{refused}");
    }
    // A whole number written with a fraction (`3.0`) is the same JSON number.
    let (code, _) = send_json(
        &server,
        reqwest::Method::POST,
        &dan,
        &path,
        json!({"body": "reply again", "parent_id": first["id"].as_f64().unwrap()}),
    )
    .await;
    assert_eq!(code, 201);
    let r = server
        .anon
        .post(server.url(&path))
        .json(&json!({"body": "anon"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let cid = first["id"].as_i64().unwrap();
    let comment_path = format!("/api/comments/{cid}");
    assert_eq!(
        send_json(
            &server,
            reqwest::Method::PATCH,
            &dan,
            &comment_path,
            json!({"body": "edited"})
        )
        .await
        .0,
        403,
        "only the author edits"
    );
    let (code, edited) = send_json(
        &server,
        reqwest::Method::PATCH,
        &carol,
        &comment_path,
        json!({"body": "edited"}),
    )
    .await;
    assert_eq!(code, 200);
    assert!(edited["edited_at"].is_string());
    let del = |token: &str, c: &Value| {
        let url = server.url(&format!("/api/comments/{}", c["id"]));
        let req = server.anon.delete(url).bearer_auth(token.to_string());
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(del(&dan, &first).await, 403, "others cannot delete");
    assert_eq!(del(&dan, &second).await, 204, "the author can");
    assert_eq!(
        del(&owner, &first).await,
        204,
        "the video's owner can delete any, replies go with it"
    );
    let (_, page) = get_json(&server, None, &path).await;
    assert_eq!(page["total"], 0);

    // The owner turns comments off.
    let (code, v) = send_json(
        &server,
        reqwest::Method::PATCH,
        &owner,
        &format!("/api/videos/{id}"),
        json!({"comments_enabled": false}),
    )
    .await;
    assert_eq!((code, v["comments_enabled"].clone()), (200, json!(false)));
    let (code, body) = send_json(&server, reqwest::Method::POST, &carol, &path, json!({"body": "hello?"})).await;
    assert_eq!(code, 403);
    assert!(body["error"].as_str().unwrap().contains("turned off"));
    send_json(
        &server,
        reqwest::Method::PATCH,
        &owner,
        &format!("/api/videos/{id}"),
        json!({"comments_enabled": true}),
    )
    .await;

    // Rate limit per user: 6 a minute; carol has used 3 (the orphan reply counted).
    let mut codes = Vec::new();
    for i in 0..4 {
        codes.push(
            send_json(
                &server,
                reqwest::Method::POST,
                &carol,
                &path,
                json!({"body": format!("spam {i}")}),
            )
            .await
            .0,
        );
    }
    assert_eq!(codes, [201, 201, 201, 429], "{codes:?}");
    assert_eq!(
        send_json(
            &server,
            reqwest::Method::POST,
            &dan,
            &path,
            json!({"body": "dan is fine"})
        )
        .await
        .0,
        201,
        "limits are per user"
    );
}

#[tokio::test]
async fn new_comments_reach_an_open_watch_page_over_the_websocket_within_a_second() {
    let server = Server::start(&[]);
    let owner = account(&server, "owner", "uploader");
    let erin = account(&server, "erin", "viewer");
    let id = video(&server, &owner, "Live talk", "", "public", &[]).await;
    let ws_base = server.base.replace("http://", "ws://");
    let host = server.base.trim_start_matches("http://").to_string();

    // Another site's page may not open the socket.
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
        "{ws_base}/api/videos/{id}/live"
    ))
    .unwrap();
    req.headers_mut()
        .insert("Origin", "http://evil.example".parse().unwrap());
    let refused = tokio_tungstenite::connect_async(req).await;
    assert!(refused.is_err(), "a foreign Origin was accepted");

    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
        "{ws_base}/api/videos/{id}/live"
    ))
    .unwrap();
    req.headers_mut()
        .insert("Origin", format!("http://{host}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("same-origin WebSocket");

    let sent = Instant::now();
    let (code, comment) = send_json(
        &server,
        reqwest::Method::POST,
        &erin,
        &format!("/api/videos/{id}/comments"),
        json!({"body": "hello, live"}),
    )
    .await;
    assert_eq!(code, 201);
    let event = tokio::time::timeout(Duration::from_secs(1), next_comment_event(&mut socket))
        .await
        .expect("pushed within 1 s");
    assert_eq!(event["type"], "comment.created");
    assert_eq!(event["comment"]["id"], comment["id"]);
    assert_eq!(event["comment"]["body"], "hello, live");
    eprintln!("comment pushed after {:?}", sent.elapsed());

    // Deletions are pushed too.
    let r = server
        .anon
        .delete(server.url(&format!("/api/comments/{}", comment["id"])))
        .bearer_auth(&erin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let event = tokio::time::timeout(Duration::from_secs(1), next_comment_event(&mut socket))
        .await
        .expect("pushed within 1 s");
    assert_eq!(
        (event["type"].clone(), event["id"].clone()),
        (json!("comment.deleted"), comment["id"].clone())
    );

    // Made private: this anonymous page may no longer watch, so its socket is closed with
    // 1008 (policy) instead of going on receiving the video's events.
    let (code, _) = send_json(
        &server,
        reqwest::Method::PATCH,
        &owner,
        &format!("/api/videos/{id}"),
        json!({"privacy": "private"}),
    )
    .await;
    assert_eq!(code, 200);
    let closed = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            match socket.next().await {
                // The upload may still be processing: its progress, first rendition and
                // outcome can come first.
                Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) => {
                    let event: Value = serde_json::from_str(&text).unwrap();
                    assert!(
                        event["type"].as_str().unwrap().starts_with("job.")
                            || event["type"] == "video.ready"
                            || event["type"] == "video.playable"
                            || event["type"] == "video.failed"
                            || event["type"] == "video.privacy",
                        "{event}"
                    );
                }
                other => return other,
            }
        }
    })
    .await
    .expect("closed within 2 s");
    match closed {
        Some(Ok(tokio_tungstenite::tungstenite::Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 1008, "{frame:?}")
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
}

/// The next `comment.*` event on a live socket, skipping the transcode's progress events.
async fn next_comment_event<S>(socket: &mut S) -> Value
where
    S: futures::Stream<Item = Result<tokio_tungstenite::tungstenite::Message, tokio_tungstenite::tungstenite::Error>>
        + Unpin,
{
    loop {
        let msg = socket.next().await.expect("socket open").expect("frame");
        let event: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
        if event["type"].as_str().unwrap_or_default().starts_with("comment.") {
            return event;
        }
    }
}

#[tokio::test]
async fn progress_resumes_feeds_history_and_views_count_once_a_day() {
    let server = Server::start(&[]);
    let id = server.upload_ok(&media("bbb-720p-h264-aac.mp4")).await;
    let v = server.wait_done(&id, Duration::from_secs(300)).await;
    let duration = v["duration"].as_f64().unwrap();
    let frank = account(&server, "frank", "viewer");
    let progress = format!("/api/videos/{id}/progress");

    let (code, p) = get_json(&server, Some(&frank), &progress).await;
    assert_eq!((code, p["position"].as_f64()), (200, Some(0.0)));
    assert_eq!(
        send_json(
            &server,
            reqwest::Method::PUT,
            &frank,
            &progress,
            json!({"position": 2.5})
        )
        .await
        .0,
        204
    );
    let (_, p) = get_json(&server, Some(&frank), &progress).await;
    assert_eq!(p["position"], 2.5);
    assert!(p["updated_at"].is_string());
    assert_eq!(
        send_json(
            &server,
            reqwest::Method::PUT,
            &frank,
            &progress,
            json!({"position": -1})
        )
        .await
        .0,
        400
    );
    let r = server
        .anon
        .put(server.url(&progress))
        .json(&json!({"position": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "anonymous viewers do not save progress");

    let (_, cont) = get_json(&server, Some(&frank), "/api/me/continue").await;
    assert_eq!(cont["items"][0]["video"]["id"], id.as_str());
    assert_eq!(cont["items"][0]["finished"], false);
    // Watched to ≥ 95 %: out of "continue watching", still in history.
    send_json(
        &server,
        reqwest::Method::PUT,
        &frank,
        &progress,
        json!({"position": duration * 0.96}),
    )
    .await;
    let (_, cont) = get_json(&server, Some(&frank), "/api/me/continue").await;
    assert_eq!(cont["total"], 0, "{cont}");
    let (_, hist) = get_json(&server, Some(&frank), "/api/me/history").await;
    assert_eq!(hist["items"][0]["finished"], true);

    // Views: once per viewer per 24 h.
    let views = format!("/api/videos/{id}/views");
    let (_, first) = send_json(&server, reqwest::Method::POST, &frank, &views, json!({})).await;
    let (_, again) = send_json(&server, reqwest::Method::POST, &frank, &views, json!({})).await;
    assert_eq!(
        (first["counted"].clone(), again["counted"].clone()),
        (json!(true), json!(false))
    );
    let r = server.anon.post(server.url(&views)).send().await.unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("kino_viewer="), "{cookie}");
    assert_eq!(r.json::<Value>().await.unwrap()["views"], 2);
    let r = server
        .anon
        .post(server.url(&views))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["counted"],
        false,
        "a reload does not count"
    );
    assert_eq!(server.video(&id).await["views"], 2);
    // A script dropping the cookie cannot count a view per request.
    let mut codes = Vec::new();
    for _ in 0..25 {
        codes.push(
            server
                .anon
                .post(server.url(&views))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert!(codes.contains(&429), "{codes:?}");
    assert!(server.video(&id).await["views"].as_i64().unwrap() <= 2 + 20);
}
