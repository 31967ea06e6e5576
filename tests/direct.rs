//! Rendition files answered without the router (`src/http/direct.rs`) must be answered exactly
//! as the router answers them: the same status, headers and body for plain and ranged GETs,
//! HEADs, conditionals, unknown files and videos, and every privacy with and without a
//! playback grant. The router still serves the same URLs when they are spelled with a
//! percent-escape (`seg%5F00001.m4s`), which the direct path leaves to it, so each request is
//! sent both ways and the answers compared; the server's debug log shows which way it went.
//! With `http.sendfile` (the default) the direct way is Kino's own connection loop
//! (`src/http/http1_media.rs`: each direct request goes on a new connection, which that loop
//! reads first), and the routed way is hyper's; with it off, both are hyper's.

mod common;

use std::time::Duration;

use common::{Server, media};

/// `path` spelled so that the router, not the direct path, answers it: the file name's first
/// `.` percent-escaped, or for an original the video id's first character (the router decodes
/// them back).
fn via_router(path: &str) -> String {
    if let Some(rest) = path.strip_prefix("/media/") {
        let first = rest.chars().next().unwrap();
        return format!("/media/%{:02X}{}", first as u32, &rest[first.len_utf8()..]);
    }
    let (dir, file) = path.rsplit_once('/').unwrap();
    format!("{dir}/{}", file.replacen('.', "%2E", 1))
}

/// Status, headers (but `date`) and body of an anonymous request sent with `client`.
async fn answer(
    server: &Server,
    client: &reqwest::Client,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut req = client.request(method, server.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let mut list: Vec<(String, String)> = r
        .headers()
        .iter()
        .filter(|(k, _)| k.as_str() != "date")
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("?").to_string()))
        .collect();
    list.sort();
    let mut body = r.bytes().await.unwrap().to_vec();
    // A multipart/byteranges boundary is random per answer: compared as `B`.
    let boundary = list
        .iter()
        .find_map(|(k, v)| (k == "content-type").then(|| v.split_once("boundary=").map(|(_, b)| b.to_string()))?);
    if let Some(boundary) = boundary {
        for (_, v) in list.iter_mut() {
            *v = v.replace(&boundary, "B");
        }
        body = replace_bytes(&body, boundary.as_bytes(), b"B");
    }
    (status, list, body)
}

/// `haystack` with every `needle` replaced by `with`.
fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// A request to send both ways and the status it must get: method, path, headers, status.
type Case<'a> = (reqwest::Method, &'a str, &'a [(&'a str, &'a str)], u16);

/// Sends each case both ways ([`same_both_ways`]) and checks its status.
async fn check_all(server: &Server, own_loop: bool, cases: &[Case<'_>]) {
    for (method, path, headers, status) in cases {
        assert_eq!(
            same_both_ways(server, own_loop, method.clone(), path, headers).await,
            *status,
            "{method} {path} {headers:?}"
        );
    }
}

/// A file of the same rendition that does not exist.
fn missing_file(segment: &str) -> String {
    format!("{}/seg_99999.m4s", segment.rsplit_once('/').unwrap().0)
}

/// Lines of the server log saying a rendition file was answered directly.
fn direct_answers(server: &Server) -> usize {
    server.log_count("media file answered directly")
}

/// Lines of the server log saying Kino's own connection loop wrote an answer.
fn own_loop_answers(server: &Server) -> usize {
    server.log_count("answered on Kino's connection loop")
}

/// Sends `path` with `headers` both ways and checks the answers are the same; returns the
/// status. The direct request goes on a connection of its own, so Kino's connection loop
/// answers it when `own_loop` (`http.sendfile` on).
async fn same_both_ways(
    server: &Server,
    own_loop: bool,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
) -> u16 {
    let before = (direct_answers(server), own_loop_answers(server));
    let fresh = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let direct = answer(server, &fresh, method.clone(), path, headers).await;
    let routed = answer(server, &server.anon, method.clone(), &via_router(path), headers).await;
    // The log lines are written before the answer is sent: they are there once it is.
    assert_eq!(
        direct_answers(server),
        before.0 + 1,
        "{method} {path} went the direct way and {} did not",
        via_router(path)
    );
    assert_eq!(
        own_loop_answers(server),
        before.1 + usize::from(own_loop),
        "{method} {path}: Kino's connection loop answered it (1) or hyper did (0)"
    );
    assert_eq!(direct.0, routed.0, "{method} {path} {headers:?}: status");
    assert_eq!(direct.1, routed.1, "{method} {path} {headers:?}: headers");
    assert_eq!(direct.2, routed.2, "{method} {path} {headers:?}: body");
    direct.0
}

#[tokio::test]
async fn rendition_files_are_answered_without_the_router_exactly_as_through_it() {
    // Segments sent from the file (sendfile), then (second server) from the hot-segment cache,
    // on Kino's connection loop; then hyper alone (`http.sendfile = false`).
    for (cache_bytes, sendfile) in [("0", "true"), ("268435456", "true"), ("0", "false")] {
        compare_both_ways(cache_bytes, sendfile).await;
    }
}

async fn compare_both_ways(cache_bytes: &str, sendfile: &str) {
    let server = Server::start(&[
        (
            "KINO_LOG",
            "info,kino::http::direct=debug,kino::http::http1_media=debug",
        ),
        ("KINO_HTTP__SEGMENT_CACHE_BYTES", cache_bytes),
        ("KINO_HTTP__SENDFILE", sendfile),
    ]);
    let own_loop = sendfile == "true";
    let id = server.upload_ok(&media("bbb-720p-h264-aac.mp4")).await;
    let v = server.wait_done(&id, Duration::from_secs(300)).await;
    assert_eq!(v["status"], "ready", "{v}");
    let rendition = v["renditions"][0]["name"].as_str().unwrap().to_string();
    let playlist = format!("/hls/{id}/{rendition}/index.m3u8");
    let text = String::from_utf8(server.bytes(&playlist).await).unwrap();
    let segment_name = text
        .lines()
        .find(|l| l.ends_with(".m4s"))
        .expect("a segment")
        .to_string();
    let segment = format!("/hls/{id}/{rendition}/{segment_name}");
    let etag = answer(&server, &server.anon, reqwest::Method::GET, &segment, &[])
        .await
        .1;
    let etag = etag.iter().find(|(k, _)| k == "etag").unwrap().1.clone();
    let original = format!("/media/{id}/original");
    let original_etag = answer(&server, &server.anon, reqwest::Method::HEAD, &original, &[])
        .await
        .1;
    let original_etag = original_etag.iter().find(|(k, _)| k == "etag").unwrap().1.clone();
    let original_unchanged = [("if-none-match", original_etag.as_str())];
    let origin = ("origin", "https://elsewhere.example");
    use reqwest::Method as M;

    let missing = missing_file(&segment);
    let bad_type = format!("/hls/{id}/{rendition}/notes.txt");
    let other_rendition = format!("/hls/{id}/4320p/{segment_name}");
    let unknown = format!("/hls/AAAAAAAAAAAA/{rendition}/{segment_name}");
    let none: &[(&str, &str)] = &[];
    let from_origin = [origin];
    let unchanged = [("if-none-match", etag.as_str())];
    // (method, path, headers, status) of a public video's files.
    let public: Vec<Case> = vec![
        (M::GET, &segment, none, 200),
        (M::GET, &segment, &from_origin, 200),
        (M::GET, &segment, &[("range", "bytes=100-65635")], 206),
        (M::GET, &segment, &[("range", "bytes=-500")], 206),
        (M::GET, &segment, &[("range", "bytes=999999999-")], 416),
        (M::GET, &segment, &[("range", "bytes=oops")], 200),
        (M::GET, &segment, &unchanged, 304),
        (M::GET, &segment, &[("if-match", "\"other\"")], 412),
        (
            M::GET,
            &segment,
            &[("range", "bytes=0-9"), ("if-range", "\"other\"")],
            200,
        ),
        (M::HEAD, &segment, none, 200),
        (M::HEAD, &segment, &unchanged, 304),
        (M::HEAD, &segment, &[("if-match", "\"other\"")], 412),
        (M::HEAD, &missing, none, 404),
        (M::GET, &playlist, none, 200),
        (M::GET, &original, none, 200),
        (M::GET, &original, &[("range", "bytes=1000-2999")], 206),
        (M::GET, &original, &[("range", "bytes=0-9,100-109")], 206),
        (M::HEAD, &original, none, 200),
        (M::GET, &original, &original_unchanged, 304),
    ];
    // Twice over: with the cache on, the second round comes from memory.
    for _ in 0..2 {
        check_all(&server, own_loop, &public).await;
    }
    check_all(
        &server,
        own_loop,
        &[
            (M::GET, &missing, none, 404),
            (M::GET, &bad_type, none, 404),
            (M::GET, &other_rendition, none, 404),
            (M::GET, &unknown, none, 404),
            // A lapsed or forged session cookie is anonymous on media routes, and a bad API
            // token is refused, both ways alike.
            (M::GET, &segment, &[("cookie", "kino_access=forged")], 200),
            (M::GET, &segment, &[("authorization", "Bearer kino_nope")], 401),
        ],
    )
    .await;

    // Unlisted: the ladder needs a grant (403 saying so); private: 404 without one.
    server.set_privacy(&id, "unlisted").await;
    assert_eq!(same_both_ways(&server, own_loop, M::GET, &segment, &[]).await, 403);
    server.set_privacy(&id, "private").await;
    assert_eq!(same_both_ways(&server, own_loop, M::GET, &segment, &[]).await, 404);
    let playback: serde_json::Value = server.json(&format!("/api/videos/{id}/playback")).await;
    let url = playback["url"].as_str().unwrap();
    let grant = url.split("/g/").nth(1).unwrap().split('/').next().unwrap().to_string();
    let granted = format!("/hls/{id}/g/{grant}/{rendition}/{segment_name}");
    assert_eq!(
        same_both_ways(&server, own_loop, M::GET, &granted, &[("range", "bytes=0-99")]).await,
        206
    );
    assert_eq!(same_both_ways(&server, own_loop, M::GET, &granted, &[]).await, 200);
    let granted_original = format!("/media/{id}/g/{grant}/original");
    assert_eq!(
        same_both_ways(&server, own_loop, M::GET, &granted_original, &[("range", "bytes=0-99")]).await,
        206
    );
    assert_eq!(
        same_both_ways(&server, own_loop, M::GET, &format!("/media/{id}/original"), &[]).await,
        404
    );
    let last = if grant.ends_with('A') { 'B' } else { 'A' };
    let forged = format!(
        "/hls/{id}/g/{}{last}/{rendition}/{segment_name}",
        &grant[..grant.len() - 1]
    );
    assert_eq!(same_both_ways(&server, own_loop, M::GET, &forged, &[]).await, 404);
}
