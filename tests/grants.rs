//! Playback grants against the real server (issue 12, item 6): a grant dies for good when the
//! video's grant generation moves on (privacy changes, "revoke all links"), only the canonical
//! spelling of a grant verifies, and a bad grant on a private video answers exactly like an
//! unknown id (404). No transcoding is needed: the original is served under a grant whatever
//! the video's status (the few bytes uploaded here fail to transcode; the original stays).

mod common;

use common::Server;
use serde_json::Value;

/// A server whose uploads are private unless said otherwise.
fn server() -> Server {
    Server::start(&[("KINO_AUTH__DEFAULT_PRIVACY", "private")])
}

/// Uploads a few bytes as a video; returns its id.
/// A real (short, audio-only) clip: a failed video would be its owner's only, grants or not.
async fn upload(server: &Server) -> String {
    server.upload_ok(&common::media("bbb-opus-audio-only.webm")).await
}

/// The signed URL of the video's original, as the admin (its owner) is given it.
async fn download_url(server: &Server, id: &str) -> String {
    let v = server.video(id).await;
    let url = v["download_url"].as_str().unwrap_or_else(|| panic!("{v}")).to_string();
    assert!(url.contains("/g/"), "a private video's URL carries a grant: {url}");
    url
}

async fn anon_get(server: &Server, path: &str) -> (u16, Value) {
    let r = server.anon.get(server.url(path)).send().await.unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap_or(Value::Null))
}

/// Replaces the expiry (fourth dot-separated field) of the grant in `url` with `f(expiry)`.
fn respell_expiry(url: &str, f: impl Fn(&str) -> String) -> String {
    let grant = url.split('/').nth(4).unwrap();
    let mut parts: Vec<String> = grant.split('.').map(str::to_string).collect();
    parts[3] = f(&parts[3]);
    url.replace(grant, &parts.join("."))
}

#[tokio::test]
async fn private_unlisted_private_does_not_revive_an_old_grant() {
    let server = server();
    let id = upload(&server).await;
    let old = download_url(&server, &id).await;
    assert_eq!(anon_get(&server, &old).await.0, 200);
    server.set_privacy(&id, "unlisted").await;
    let (code, body) = anon_get(&server, &old).await;
    assert_eq!(code, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("privacy changed"), "{body}");
    server.set_privacy(&id, "private").await;
    assert_eq!(anon_get(&server, &old).await.0, 404, "the old grant stays dead");
    let new = download_url(&server, &id).await;
    assert_ne!(new, old);
    assert_eq!(anon_get(&server, &new).await.0, 200);
    // Saving the same privacy again changes nothing.
    server.set_privacy(&id, "private").await;
    assert_eq!(anon_get(&server, &new).await.0, 200);
}

#[tokio::test]
async fn revoke_links_ends_every_grant_issued_so_far() {
    let server = server();
    let id = upload(&server).await;
    server.set_privacy(&id, "unlisted").await;
    let shared = download_url(&server, &id).await;
    assert_eq!(anon_get(&server, &shared).await.0, 200);
    let path = format!("/api/videos/{id}/revoke-links");

    // Nobody but the owner (or an admin) may revoke.
    assert_eq!(server.anon.post(server.url(&path)).send().await.unwrap().status(), 401);
    let out = common::kino_cli(
        &server.data_dir,
        &["users", "create", "mallory", "--role", "uploader", "--password-stdin"],
        "mallory-password-1\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = common::kino_cli(
        &server.data_dir,
        &["tokens", "create", "mallory", "--scope", "read,upload"],
        "",
    );
    let mallory = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let r = server
        .anon
        .post(server.url(&path))
        .bearer_auth(&mallory)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        anon_get(&server, &shared).await.0,
        200,
        "still valid after refused revokes"
    );

    let r = server.http.post(server.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let fresh = v["download_url"].as_str().unwrap().to_string();
    assert_ne!(fresh, shared);
    let (code, body) = anon_get(&server, &shared).await;
    assert_eq!(code, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("revoked"), "{body}");
    assert_eq!(anon_get(&server, &fresh).await.0, 200, "the new link works");
    assert_eq!(
        server
            .http
            .post(server.url("/api/videos/AAAAAAAAAAAA/revoke-links"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn only_the_canonical_expiry_verifies() {
    let server = server();
    let id = upload(&server).await;
    server.set_privacy(&id, "unlisted").await;
    let url = download_url(&server, &id).await;
    assert_eq!(anon_get(&server, &url).await.0, 200);
    for respelt in [
        respell_expiry(&url, |e| format!("0{e}")),
        respell_expiry(&url, |e| format!("+{e}")),
        respell_expiry(&url, |e| format!("00{e}")),
    ] {
        let (code, body) = anon_get(&server, &respelt).await;
        assert_eq!(code, 403, "{respelt}: {body}");
        assert!(body["error"].as_str().unwrap().contains("malformed"), "{body}");
    }
}

#[tokio::test]
async fn a_bad_grant_on_a_private_video_answers_like_an_unknown_id() {
    let server = server();
    let id = upload(&server).await;
    let other = upload(&server).await;
    let url = download_url(&server, &id).await;
    assert_eq!(anon_get(&server, &url).await.0, 200, "the grant itself works");
    let grant = url.split('/').nth(4).unwrap().to_string();

    let unknown = anon_get(&server, &format!("/media/AAAAAAAAAAAA/g/{grant}/original")).await;
    assert_eq!(unknown.0, 404);
    let bad = [
        respell_expiry(&url, |e| format!("0{e}")),
        respell_expiry(&url, |e| (e.parse::<u64>().unwrap() + 3600).to_string()),
        format!("/media/{id}/g/nonsense/original"),
        format!("/media/{other}/g/{grant}/original"),
        format!("/hls/{id}/g/nonsense/master.m3u8"),
    ];
    for path in bad {
        assert_eq!(anon_get(&server, &path).await, unknown, "{path}");
    }
}
