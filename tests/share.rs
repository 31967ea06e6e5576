//! Sharing: watch pages carry Open Graph, Twitter player and oEmbed discovery tags for public
//! and unlisted videos (escaped, nothing for private ones); the embed page may be framed by
//! any site while every other page may not; oEmbed answers per its spec.

mod common;

use std::time::Duration;

use common::{H264_FAST, Server, make_clip};

async fn page(server: &Server, path: &str) -> (u16, String, String) {
    let r = server.anon.get(server.url(path)).send().await.unwrap();
    let csp = r
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (r.status().as_u16(), csp, r.text().await.unwrap())
}

#[tokio::test]
async fn links_unfurl_and_embed_where_they_may() {
    let server = Server::start(&[("KINO_PUBLIC_URL", "https://video.example.com")]);
    let clip = make_clip(&server.data_dir, "share.mp4", "1280x720", 3, H264_FAST);
    let id = server.upload_ok(&clip).await;
    server.wait_done(&id, Duration::from_secs(300)).await;
    let r = server
        .http
        .patch(server.url(&format!("/api/videos/{id}")))
        .json(&serde_json::json!({"title": "Tom & \"Jerry\" <script>", "description": "A chase."}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());

    let (status, csp, html) = page(&server, &format!("/watch/{id}")).await;
    assert_eq!(status, 200);
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        html.contains("<meta property=\"og:title\" content=\"Tom &amp; &quot;Jerry&quot; &lt;script&gt;\">"),
        "{html}"
    );
    assert!(!html.contains("<script>\""), "the title is escaped");
    assert!(html.contains(&format!(
        "<meta property=\"og:url\" content=\"https://video.example.com/watch/{id}\">"
    )));
    assert!(html.contains(&format!(
        "<meta property=\"og:video\" content=\"https://video.example.com/embed/{id}\">"
    )));
    assert!(html.contains(&format!(
        "<meta property=\"og:image\" content=\"https://video.example.com/media/{id}/poster.jpg\">"
    )));
    assert!(html.contains("<meta property=\"og:description\" content=\"A chase.\">"));
    assert!(html.contains("type=\"application/json+oembed\" href=\"https://video.example.com/api/oembed?url=https%3A%2F%2Fvideo.example.com%2Fwatch%2F"), "{html}");

    // The embed page: framable by anyone; everything else is not.
    let (status, csp, _) = page(&server, &format!("/embed/{id}")).await;
    assert_eq!(status, 200);
    assert!(csp.contains("frame-ancestors *"), "{csp}");
    let (_, csp, _) = page(&server, "/").await;
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");

    // oEmbed.
    let watch = format!("https://video.example.com/watch/{id}");
    let q = |extra: &str| format!("/api/oembed?url={}{extra}", url_encode(&watch));
    let (status, o) = server.anon_json(&q("")).await;
    assert_eq!(status, 200, "{o}");
    assert_eq!(
        (o["version"].as_str(), o["type"].as_str()),
        (Some("1.0"), Some("video"))
    );
    assert_eq!((o["width"].as_u64(), o["height"].as_u64()), (Some(640), Some(360)));
    let iframe = o["html"].as_str().unwrap();
    assert!(
        iframe.starts_with(&format!(
            "<iframe src=\"https://video.example.com/embed/{id}\" width=\"640\" height=\"360\""
        )),
        "{iframe}"
    );
    assert!(
        iframe.contains("title=\"Tom &amp; &quot;Jerry&quot; &lt;script&gt;\""),
        "{iframe}"
    );
    assert_eq!(o["author_name"], "admin");
    let (_, small) = server.anon_json(&q("&maxwidth=320")).await;
    assert_eq!(
        (small["width"].as_u64(), small["height"].as_u64()),
        (Some(320), Some(180))
    );
    let (_, short) = server.anon_json(&q("&maxheight=200")).await;
    assert_eq!(short["height"].as_u64(), Some(200));
    let (status, _) = server.anon_json(&q("&format=xml")).await;
    assert_eq!(status, 501);
    let (status, _) = server
        .anon_json("/api/oembed?url=https%3A%2F%2Fvideo.example.com%2Fwatch%2FAAAAAAAAAAAA")
        .await;
    assert_eq!(status, 404);
    let (status, _) = server.anon_json("/api/oembed?url=not-a-url").await;
    assert_eq!(status, 404);

    // Private: no details in the page, 401 from oEmbed.
    server.set_privacy(&id, "private").await;
    let (status, _, html) = page(&server, &format!("/watch/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("og:title") && !html.contains("Jerry"),
        "a private video's page says nothing"
    );
    let (status, _) = server.anon_json(&q("")).await;
    assert_eq!(status, 401);
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn a_private_video_embeds_through_a_link_with_a_grant_until_revoked() {
    let server = Server::start(&[]);
    let clip = make_clip(&server.data_dir, "private.mp4", "640x360", 3, H264_FAST);
    let id = server.upload_ok(&clip).await;
    server.wait_done(&id, Duration::from_secs(300)).await;
    let post = |body: serde_json::Value| {
        server
            .http
            .post(server.url(&format!("/api/videos/{id}/embed-link")))
            .json(&body)
            .send()
    };

    // Public: the plain embed URL, which does not expire.
    let link: serde_json::Value = post(serde_json::json!({})).await.unwrap().json().await.unwrap();
    assert_eq!(link["url"], format!("{}/embed/{id}", server.base), "{link}");
    assert!(link["expires_at"].is_null());

    server.set_privacy(&id, "private").await;
    assert_eq!(server.anon_json(&format!("/api/videos/{id}")).await.0, 404);
    for bad in [serde_json::json!({"days": 0}), serde_json::json!({"days": 366})] {
        assert_eq!(post(bad).await.unwrap().status(), 400);
    }
    let r = server
        .anon
        .post(server.url(&format!("/api/videos/{id}/embed-link")))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "only the owner makes embed links");

    let link: serde_json::Value = post(serde_json::json!({"days": 2}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = link["url"].as_str().unwrap();
    let grant = url
        .split_once("?grant=")
        .map(|(_, g)| g.to_string())
        .unwrap_or_else(|| panic!("{link}"));
    assert!(
        link["html"].as_str().unwrap().contains(&format!("src=\"{url}\"")),
        "{link}"
    );
    let expires = time::OffsetDateTime::parse(
        link["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let days = (expires - time::OffsetDateTime::now_utc()).as_seconds_f64() / 86_400.0;
    assert!((1.99..=2.01).contains(&days), "{days} days");

    // Anyone with the grant reads and plays the video (as the embed page does).
    let (status, v) = server.anon_json(&format!("/api/videos/{id}?grant={grant}")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["can_edit"], false);
    assert!(v["download_url"].is_null(), "an embed link offers no download: {v}");
    let hls = v["hls_url"].as_str().unwrap();
    assert!(hls.contains(&format!("/g/{grant}/")), "{hls}");
    let (status, p) = server
        .anon_json(&format!("/api/videos/{id}/playback?grant={grant}"))
        .await;
    assert_eq!(status, 200, "{p}");
    let r = server
        .anon
        .get(server.url(p["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().starts_with("#EXTM3U"));

    // An embed link plays; it does not download the original.
    let original = format!("/media/{id}/g/{grant}/original");
    assert_eq!(
        server.anon.get(server.url(&original)).send().await.unwrap().status(),
        403
    );

    // Another video's genuine grant says nothing about this one: 404, like none at all.
    let other_clip = make_clip(&server.data_dir, "other.mp4", "640x360", 2, H264_FAST);
    let other = server.upload_ok(&other_clip).await;
    server.wait_done(&other, Duration::from_secs(300)).await;
    server.set_privacy(&other, "private").await;
    assert_eq!(
        server.anon_json(&format!("/api/videos/{other}?grant={grant}")).await.0,
        404
    );

    // A forged grant changes nothing: the video does not exist.
    let mut forged = grant.clone();
    let last = if forged.ends_with('A') { 'B' } else { 'A' };
    forged.pop();
    forged.push(last);
    assert_eq!(
        server.anon_json(&format!("/api/videos/{id}?grant={forged}")).await.0,
        404
    );
    assert_eq!(
        server.anon_json(&format!("/api/videos/{id}?grant=nonsense")).await.0,
        404
    );

    // Revoked: the genuine link says so.
    assert_eq!(
        server.post(&format!("/api/videos/{id}/revoke-links")).await.status(),
        200
    );
    let (status, body) = server
        .anon_json(&format!("/api/videos/{id}/playback?grant={grant}"))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].as_str().unwrap_or_default().contains("revoked"), "{body}");
}
