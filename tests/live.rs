//! Live streaming end to end: a real RTMP publisher (ffmpeg, as OBS would send: H.264 keyed
//! every second + AAC) goes live on a stream key made through the API, the live playlists are
//! Kino's own sliding window with program date-times, chat flows, and when the publisher stops
//! the broadcast becomes a ready VOD video without re-encoding. Bad keys, a second publisher,
//! a publish without video and garbage on the socket are refused without writing anything.

mod common;

use std::process::Child;
use std::time::{Duration, Instant};

use common::{Server, kino_cli};
use serde_json::{Value, json};

/// A publisher of `secs` seconds of 854x480 (or, `video` false, audio only) to `url`.
fn publish(url: &str, secs: u32, video: bool) -> Child {
    common::rtmp_publish(url, secs, video.then_some("854x480"))
}

/// Waits for a publisher to exit; returns (success, stderr).
fn finish(child: Child) -> (bool, String) {
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The samples of `/metrics` without labels, by name.
async fn metric_samples(server: &Server) -> std::collections::HashMap<String, f64> {
    let url = server.metrics.as_ref().expect("the server prints its metrics address");
    let text = server.anon.get(url).send().await.unwrap().text().await.unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text");
    scrape
        .samples
        .into_iter()
        .filter(|s| s.labels.is_empty())
        .filter_map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => Some((s.metric, v)),
            _ => None,
        })
        .collect()
}

async fn create_stream(server: &Server, title: &str) -> (String, String) {
    server.create_live_stream(title).await
}

fn media_playlist(text: &str) -> m3u8_rs::MediaPlaylist {
    match m3u8_rs::parse_playlist_res(text.as_bytes()) {
        Ok(m3u8_rs::Playlist::MediaPlaylist(p)) => p,
        other => panic!("not a media playlist: {other:?}\n{text}"),
    }
}

fn variants(text: &str) -> Vec<String> {
    match m3u8_rs::parse_playlist_res(text.as_bytes()) {
        Ok(m3u8_rs::Playlist::MasterPlaylist(m)) => m.variants.into_iter().map(|v| v.uri).collect(),
        other => panic!("not a multivariant playlist: {other:?}\n{text}"),
    }
}

#[tokio::test]
async fn a_publisher_goes_live_and_the_broadcast_becomes_a_replay() {
    let server = Server::start(&[("KINO_METRICS__LISTEN", "127.0.0.1:0")]);
    let (id, url) = create_stream(&server, "Launch day").await;
    let v = server.video(&id).await;
    assert_eq!(v["status"], "idle", "{v}");
    assert_eq!(v["live"]["state"], "idle");
    assert_eq!(v["playable"], false);

    let publisher = publish(&url, 8, true);
    let v = server
        .wait_for(&id, Duration::from_secs(30), |v| {
            v["status"] == "live" && v["playable"] == true
        })
        .await;
    assert_eq!(v["live"]["state"], "live", "{v}");
    assert!(v["live"]["started_at"].is_string(), "{v}");
    let (_, listed) = server.anon_json("/api/videos?live=true").await;
    assert_eq!(listed["videos"][0]["id"], id.as_str(), "Live now lists it: {listed}");
    // The node's ingest, in its metrics: one publisher, bytes coming in.
    let scrape = metric_samples(&server).await;
    assert_eq!(scrape.get("kino_live_publishers"), Some(&1.0), "{scrape:?}");
    assert!(
        scrape
            .get("kino_live_ingest_bytes_total")
            .is_some_and(|b| *b > 10_000.0),
        "{scrape:?}"
    );

    // The ladder: the copied source and the 360p rung below it, both in Kino's live window.
    let (status, _, master) = server.anon_text(&format!("/hls/{id}/master.m3u8")).await;
    assert_eq!(status, 200);
    let uris = variants(&master);
    assert_eq!(uris, ["360p/index.m3u8", "source/index.m3u8"], "{master}");
    for uri in &uris {
        let (status, cache, body) = server.anon_text(&format!("/hls/{id}/{uri}")).await;
        assert_eq!(status, 200);
        assert_eq!(cache, "public, no-cache", "live playlists are revalidated: {cache}");
        let list = media_playlist(&body);
        assert!(!list.end_list, "a live playlist has no ENDLIST:\n{body}");
        assert!(!list.segments.is_empty());
        assert!(list.segments[0].program_date_time.is_some(), "{body}");
        assert!(list.target_duration <= 2, "{body}");
        let seg = &list.segments[0].uri;
        let r = server
            .anon
            .get(server.url(&format!("/hls/{id}/{}", uri.replace("index.m3u8", seg))))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
    }

    // Chat beside the broadcast, kept at its broadcast time.
    let r = server
        .http
        .post(server.url(&format!("/api/videos/{id}/chat")))
        .json(&json!({"body": "  hello from the front row "}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let sent: Value = r.json().await.unwrap();
    assert_eq!(sent["body"], "hello from the front row");
    assert!(sent["offset_secs"].as_f64().unwrap() > 0.0, "{sent}");
    let r = server
        .http
        .post(server.url(&format!("/api/videos/{id}/chat")))
        .json(&json!({"body": "   "}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // The publisher stops: the event becomes a VOD video of the same segments.
    let (ok, err) = finish(publisher);
    assert!(ok, "publisher failed: {err}");
    let v = server.wait_done(&id, Duration::from_secs(30)).await;
    assert_eq!(v["status"], "ready", "{v}");
    assert!(v["live"].is_null(), "{v}");
    assert!(v["poster_url"].is_string(), "{v}");
    let duration = v["duration"].as_f64().unwrap();
    assert!(
        (6.5..=9.5).contains(&duration),
        "8 s were published, the replay lasts {duration}"
    );
    let mut timelines = Vec::new();
    for uri in variants(&server.anon_text(&format!("/hls/{id}/master.m3u8")).await.2) {
        let (_, cache, body) = server.anon_text(&format!("/hls/{id}/{uri}")).await;
        assert_eq!(cache, "public, max-age=86400");
        let list = media_playlist(&body);
        assert!(list.end_list, "{body}");
        assert_eq!(list.playlist_type, Some(m3u8_rs::MediaPlaylistType::Vod));
        assert_eq!(list.media_sequence, 0);
        timelines.push(list.segments.iter().map(|s| f64::from(s.duration)).collect::<Vec<_>>());
    }
    // Rungs keyed on the source's keyframes: segment for segment the same length.
    assert_eq!(timelines[0].len(), timelines[1].len(), "{timelines:?}");
    for (a, b) in timelines[0].iter().zip(&timelines[1]) {
        assert!((a - b).abs() < 0.1, "segments not aligned: {timelines:?}");
    }
    let r = server
        .anon
        .get(server.url(&format!("/media/{id}/poster.jpg")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Chat replay stays; posting is closed.
    let (status, chat) = server.anon_json(&format!("/api/videos/{id}/chat")).await;
    assert_eq!(status, 200);
    assert_eq!(chat["messages"][0]["body"], "hello from the front row", "{chat}");
    let r = server
        .http
        .post(server.url(&format!("/api/videos/{id}/chat")))
        .json(&json!({"body": "too late"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    // A clip of the replay, without re-encoding: segment-aligned, ready at once.
    let r = server
        .http
        .post(server.url(&format!("/api/videos/{id}/clips")))
        .json(&json!({"start_secs": 2.2, "end_secs": 4.5, "title": "The good part"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let clip: Value = r.json().await.unwrap();
    assert_eq!(clip["status"], "ready", "{clip}");
    assert_eq!(clip["title"], "The good part");
    let clip_secs = clip["duration"].as_f64().unwrap();
    assert!(
        (2.0..=4.2).contains(&clip_secs),
        "2.3 s widened to whole segments: {clip_secs}"
    );
    let clip_id = clip["id"].as_str().unwrap();
    let (_, _, body) = server.anon_text(&format!("/hls/{clip_id}/source/index.m3u8")).await;
    let list = media_playlist(&body);
    assert!(list.end_list && list.media_sequence == 0, "{body}");
    let seg = server
        .anon
        .get(server.url(&format!("/hls/{clip_id}/source/{}", list.segments[0].uri)))
        .send()
        .await
        .unwrap();
    assert_eq!(seg.status(), 200);
    for bad in [
        json!({"start_secs": 50, "end_secs": 60}),
        json!({"start_secs": 3, "end_secs": 1}),
    ] {
        let r = server
            .http
            .post(server.url(&format!("/api/videos/{id}/clips")))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }

    // A stream that is now a replay cannot be published to again.
    let (ok, err) = finish(publish(&url, 2, true));
    assert!(!ok && err.contains("is now a video"), "{err}");
}

#[tokio::test]
async fn bad_publishes_are_refused_and_write_nothing() {
    let server = Server::start(&[]);
    let rtmp = server.rtmp.clone().expect("RTMP ingest is on");
    // Garbage instead of a handshake: the connection is dropped, the server goes on.
    {
        use std::io::{Read, Write};
        let addr = rtmp.trim_start_matches("rtmp://").trim_end_matches("/live");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        s.write_all(&[0xff; 4000]).unwrap();
        let mut buf = [0u8; 8192];
        let closed = loop {
            match s.read(&mut buf) {
                Ok(0) => break true,
                Ok(_) => continue,
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                    break false;
                }
                Err(_) => break true, // reset
            }
        };
        assert!(closed, "the server hangs up on garbage");
    }
    for (url, says) in [
        (format!("{rtmp}/live_not-a-real-key"), "bad stream key"),
        (format!("{rtmp}/no-prefix"), "bad stream key"),
        (rtmp.replace("/live", "/other/live_x"), "unknown application"),
    ] {
        let (ok, err) = finish(publish(&url, 2, true));
        assert!(!ok, "{url} was accepted");
        assert!(err.contains(says), "{url}: the publisher was told: {err}");
    }

    // The CLI makes streams too: RTMP URL and key on two lines.
    let out = kino_cli(
        &server.data_dir,
        &[
            "live",
            "create",
            "admin",
            "--title",
            "From the CLI",
            "--privacy",
            "unlisted",
        ],
        "",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 2, "{printed}");
    assert!(
        lines[0].starts_with("rtmp://") && lines[1].starts_with("live_"),
        "{printed}"
    );

    // A replaced key stops working; the new one works, once at a time.
    let (id, old_url) = create_stream(&server, "Keys").await;
    let r = server.post(&format!("/api/live/{id}/key")).await;
    assert_eq!(r.status(), 200);
    let fresh: Value = r.json().await.unwrap();
    let new_url = format!(
        "{}/{}",
        fresh["rtmp_url"].as_str().unwrap(),
        fresh["stream_key"].as_str().unwrap()
    );
    let (ok, err) = finish(publish(&old_url, 2, true));
    assert!(!ok && err.contains("bad stream key"), "{err}");
    assert_eq!(server.video(&id).await["status"], "idle");

    let first = publish(&new_url, 6, true);
    server
        .wait_for(&id, Duration::from_secs(30), |v| v["status"] == "live")
        .await;
    let (ok, err) = finish(publish(&new_url, 2, true));
    assert!(!ok && err.contains("already live"), "a second publisher: {err}");
    let (ok, err) = finish(first);
    assert!(ok, "{err}");
    server.wait_done(&id, Duration::from_secs(30)).await;

    // A stream deleted while live: the broadcast stops, its key is gone, nothing is left.
    let (gone_id, gone_url) = create_stream(&server, "Deleted mid-air").await;
    let publisher = publish(&gone_url, 30, true);
    server
        .wait_for(&gone_id, Duration::from_secs(30), |v| v["playable"] == true)
        .await;
    let r = server
        .http
        .delete(server.url(&format!("/api/videos/{gone_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let started = Instant::now();
    let (ok, _) = finish(publisher);
    assert!(
        !ok && started.elapsed() < Duration::from_secs(20),
        "the publisher is cut off"
    );
    let (ok, err) = finish(publish(&gone_url, 2, true));
    assert!(!ok && err.contains("bad stream key"), "{err}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.blobs(&format!("videos/{gone_id}")).await, Vec::<String>::new());

    // A publish with no video is ended: nothing listed, the stream waits again.
    let (audio_id, audio_url) = create_stream(&server, "Radio").await;
    let _ = finish(publish(&audio_url, 8, false));
    let v = server
        .wait_for(&audio_id, Duration::from_secs(30), |v| v["status"] == "idle")
        .await;
    assert_eq!(v["playable"], false, "{v}");
    assert!(server.blobs(&format!("videos/{audio_id}")).await.is_empty());
    let log = std::fs::read_to_string(server.data_dir.join("server.log")).unwrap();
    assert!(log.contains("a live stream needs video"), "the reason is logged");
}

#[tokio::test]
async fn a_dropped_publisher_resumes_the_same_event_within_the_grace() {
    let server = Server::start(&[("KINO_LIVE__RECONNECT_GRACE_SECS", "20")]);
    let (id, url) = create_stream(&server, "Flaky uplink").await;
    let mut first = publish(&url, 30, true);
    server
        .wait_for(&id, Duration::from_secs(30), |v| {
            v["status"] == "live" && v["playable"] == true
        })
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    // The uplink dies: no unpublish, the socket just closes.
    first.kill().unwrap();
    let _ = first.wait();
    let v = server
        .wait_for(&id, Duration::from_secs(30), |v| v["status"] == "ended")
        .await;
    assert_eq!(v["playable"], true, "the DVR window stays playable: {v}");

    let second = publish(&url, 4, true);
    server
        .wait_for(&id, Duration::from_secs(30), |v| v["status"] == "live")
        .await;
    let start = Instant::now();
    let list = loop {
        let (_, _, body) = server.anon_text(&format!("/hls/{id}/source/index.m3u8")).await;
        let list = media_playlist(&body);
        if list.segments.iter().any(|s| s.discontinuity) || start.elapsed() > Duration::from_secs(20) {
            break list;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        list.segments.iter().any(|s| s.discontinuity),
        "the reconnect is marked: {list:?}"
    );
    let (ok, err) = finish(second);
    assert!(ok, "{err}");
    let v = server.wait_done(&id, Duration::from_secs(30)).await;
    assert_eq!(v["status"], "ready");
    let (_, _, body) = server.anon_text(&format!("/hls/{id}/source/index.m3u8")).await;
    assert_eq!(body.matches("#EXT-X-DISCONTINUITY\n").count(), 1, "{body}");
    assert_eq!(body.matches("#EXT-X-MAP:").count(), 2, "{body}");
    assert_eq!(media_playlist(&body).media_sequence, 0);
}

#[tokio::test]
async fn chat_is_moderated_by_the_stream_s_owner() {
    let server = Server::start(&[]);
    let (id, _) = create_stream(&server, "Q&A").await;
    let out = kino_cli(
        &server.data_dir,
        &["users", "create", "viewer", "--role", "viewer", "--password-stdin"],
        "viewer-password-1\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = kino_cli(
        &server.data_dir,
        &["tokens", "create", "viewer", "--scope", "read,write"],
        "",
    );
    let viewer = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let chat = format!("/api/videos/{id}/chat");
    let say = |token: Option<&str>, body: &str| {
        let mut req = server.anon.post(server.url(&chat)).json(&json!({ "body": body }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };

    let r = say(Some(&viewer), "first!").await.unwrap();
    assert_eq!(r.status(), 201);
    let first: Value = r.json().await.unwrap();
    assert_eq!(say(None, "anonymous").await.unwrap().status(), 401);
    let long = "x".repeat(501);
    assert_eq!(say(Some(&viewer), &long).await.unwrap().status(), 400);

    // Slow mode: the viewer waits, the owner does not.
    let r = server
        .http
        .put(server.url(&format!("{chat}/settings")))
        .json(&json!({"slow_mode_secs": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = say(Some(&viewer), "second").await.unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    assert_eq!(say(Some(&server.admin_token), "welcome").await.unwrap().status(), 201);
    let r = server
        .anon
        .put(server.url(&format!("{chat}/settings")))
        .bearer_auth(&viewer)
        .json(&json!({"slow_mode_secs": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "viewers do not moderate");

    // Delete a message; time the viewer out; the owner cannot be kept out.
    let r = server
        .anon
        .delete(server.url(&format!("{chat}/{}", first["id"])))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = server
        .http
        .delete(server.url(&format!("{chat}/{}", first["id"])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (_, page) = server.anon_json(&chat).await;
    let bodies: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["welcome"]);
    assert_eq!(page["slow_mode_secs"], 30);
    let r = server
        .http
        .post(server.url(&format!("{chat}/bans")))
        .json(&json!({"user": "viewer", "minutes": 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = server
        .http
        .put(server.url(&format!("{chat}/settings")))
        .json(&json!({"slow_mode_secs": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = say(Some(&viewer), "let me back").await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("kept you out"));
    let r = server
        .http
        .post(server.url(&format!("{chat}/bans")))
        .json(&json!({"user": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = server
        .anon
        .get(server.url(&chat))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    let page: Value = r.json().await.unwrap();
    assert_eq!(page["open"], false, "a timed-out viewer's composer is closed: {page}");
    assert_eq!(page["can_moderate"], false);
}
