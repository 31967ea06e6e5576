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
