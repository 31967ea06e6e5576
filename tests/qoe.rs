//! Quality-of-experience analytics over real HTTP on a real server (both backends): beacons
//! are validated and stored, folded into views, rolled up without counting a view twice, and
//! reported with docs/qoe.md's definitions; reports are for owners and admins only; deleting
//! a video deletes its views; the QoE Prometheus series move.

mod common;

use std::time::Duration;

use common::{Server, kino_cli, make_clip};
use serde_json::{Value, json};

const CHROME_UA: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";

/// A view id (UUID v4) numbered `n`.
fn view(n: u32) -> String {
    format!("{n:08x}-0000-4000-8000-000000000000")
}

/// Events of one view with seq from `first`, each `(t ms, event fields)`.
fn events(view_id: &str, video: &str, first: i64, list: &[(f64, Value)]) -> Vec<Value> {
    list.iter()
        .enumerate()
        .map(|(i, (t, fields))| {
            let mut e = json!({"view_id": view_id, "video_id": video, "seq": first + i as i64, "t": t});
            e.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
            e
        })
        .collect()
}

async fn send(server: &Server, body: &Value, content_type: &str) -> (u16, Value) {
    let r = server
        .anon
        .post(server.url("/api/qoe/beacons"))
        .header("content-type", content_type)
        .header("user-agent", CHROME_UA)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get_json(server: &Server, path: &str) -> (u16, Value) {
    let r = server.http.get(server.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Polls the admin's view timeline until `pred` holds.
async fn wait_view(server: &Server, view_id: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = get_json(server, &format!("/api/qoe/views/{view_id}")).await;
        if status == 200 && pred(&body) {
            return body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "view {view_id} never got there: {status} {body}\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn start(kind: &str) -> Value {
    json!({"type": kind})
}

/// A started view: 400 ms to first frame, 10 s at 720p and 2 s at 360p, one 500 ms stall.
fn good_view(view_id: &str, video: &str) -> Vec<Value> {
    events(
        view_id,
        video,
        0,
        &[
            (
                0.0,
                json!({"type": "view_start", "player": "kino", "player_version": "1.7.4", "live": false, "autoplay": false}),
            ),
            (100.0, start("play_request")),
            (500.0, json!({"type": "first_frame", "startup_ms": 400})),
            (
                501.0,
                json!({"type": "rendition", "bitrate": 3_000_000, "height": 720, "width": 1280}),
            ),
            (
                10_500.0,
                json!({"type": "watch", "ms": 10_000, "bitrate": 3_000_000, "height": 720}),
            ),
            (10_500.0, json!({"type": "rebuffer_start", "position": 10.0})),
            (11_000.0, json!({"type": "rebuffer_end", "duration_ms": 500})),
            (
                11_001.0,
                json!({"type": "rendition", "bitrate": 800_000, "height": 360, "width": 640}),
            ),
            (
                13_000.0,
                json!({"type": "watch", "ms": 2000, "bitrate": 800_000, "height": 360}),
            ),
            (13_100.0, json!({"type": "seek", "from": 12.0, "to": 30.0})),
            (13_400.0, json!({"type": "seeked", "latency_ms": 300})),
            (14_000.0, start("page_hide")),
        ],
    )
}

#[tokio::test]
async fn beacons_become_views_rollups_and_reports() {
    let server = Server::start(&[
        ("KINO_ANALYTICS__VIEW_IDLE_SECS", "30"),
        ("KINO_METRICS__LISTEN", "127.0.0.1:0"),
    ]);
    let clip = make_clip(&server.data_dir, "qoe.mp4", "320x240", 2, &[]);
    let video = server.upload_ok(&clip).await;

    // Three views: one that played (with a stall, a down-switch and a seek), one that left
    // before its first frame, one that failed.
    let (a, b, c) = (view(1), view(2), view(3));
    let (status, body) = send(&server, &json!(good_view(&a, &video)), "application/json").await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["accepted"], 12);
    let exit = events(
        &b,
        &video,
        0,
        &[
            (
                0.0,
                json!({"type": "view_start", "player": "kino", "player_version": "1.7.4", "live": false, "autoplay": true}),
            ),
            (10.0, start("play_request")),
            (3000.0, start("page_hide")),
        ],
    );
    let failed = events(
        &c,
        &video,
        0,
        &[
            (10.0, start("play_request")),
            (
                900.0,
                json!({"type": "error", "fatal": false, "code": "networkError:fragLoadError", "detail": "HTTP 500, retrying"}),
            ),
            (
                2000.0,
                json!({"type": "error", "fatal": true, "code": "networkError:fragLoadError", "detail": "HTTP 500 for /hls/x/360p/seg_00001.m4s"}),
            ),
            (2100.0, start("page_hide")),
        ],
    );
    // sendBeacon's text/plain, several views in one request.
    let both: Vec<Value> = exit.into_iter().chain(failed).collect();
    let (status, body) = send(&server, &json!(both), "text/plain;charset=UTF-8").await;
    assert_eq!(status, 202, "{body}");

    // The view, folded, before any rollup.
    let timeline = wait_view(&server, &a, |v| v["events"].as_array().is_some_and(|e| e.len() == 12)).await;
    let v = &timeline["view"];
    assert_eq!(v["startup_ms"], 400);
    assert_eq!(v["watch_secs"], 12.5, "10 s + 2 s played + 0.5 s stalled: {v}");
    assert_eq!(
        (v["rebuffer_count"].clone(), v["rebuffer_secs"].clone()),
        (json!(1), json!(0.5))
    );
    assert_eq!(
        (v["browser"].as_str(), v["os"].as_str()),
        (Some("Chrome"), Some("Linux"))
    );
    assert_eq!(
        v["renditions"],
        json!([{"height": 720, "seconds": 10.0}, {"height": 360, "seconds": 2.0}])
    );
    // (3 Mbit/s × 10 s + 0.8 Mbit/s × 2 s) / 12 s.
    assert!((v["avg_bitrate"].as_f64().unwrap() - 2_633_333.3).abs() < 1.0, "{v}");
    let kinds: Vec<&str> = timeline["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"view_start"));
    assert_eq!(kinds.last(), Some(&"page_hide"));
    assert_eq!(timeline["events"][2]["startup_ms"], 400.0);
    let failed_view = wait_view(&server, &c, |v| v["view"]["failed"] == true).await;
    assert_eq!(failed_view["view"]["error_code"], "networkError:fragLoadError");
    assert!(
        failed_view["view"]["error_detail"]
            .as_str()
            .unwrap()
            .contains("seg_00001"),
        "the fatal error names the failure, not the earlier retry: {failed_view}"
    );
    wait_view(&server, &b, |v| v["view"]["exited_before_start"] == true).await;

    // Resending a batch (a retried beacon) adds nothing.
    let (status, _) = send(&server, &json!(good_view(&a, &video)), "application/json").await;
    assert_eq!(status, 202);

    let check = |report: &Value, when: &str| {
        let s = &report["summary"];
        assert_eq!(s["views"], 3, "{when}: {report}");
        assert_eq!(s["play_requests"], 3, "{when}");
        assert_eq!(s["started"], 1, "{when}");
        assert_eq!(s["exits_before_start"], 1, "{when}");
        assert_eq!(s["failures"], 1, "{when}");
        assert_eq!(s["ebvs_ratio"].as_f64(), Some(1.0 / 3.0), "{when}");
        assert_eq!(s["failure_ratio"].as_f64(), Some(1.0 / 3.0), "{when}");
        assert_eq!(s["rebuffer_ratio"].as_f64(), Some(500.0 / 12_500.0), "{when}");
        assert_eq!(s["video_start_time_ms"]["mean"].as_f64(), Some(400.0), "{when}");
        // The one start fell in the (300, 400] ms bucket.
        let p50 = s["video_start_time_ms"]["p50"].as_f64().unwrap();
        assert!((300.0..=400.0).contains(&p50), "{when}: {p50}");
        assert_eq!(s["startup_score"].as_f64(), Some(100.0 / 3.0), "{when}");
        assert_eq!(s["seek_latency_ms"].as_f64(), Some(300.0), "{when}");
        let heights: Vec<(i64, f64)> = report["time_per_rendition"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["height"].as_i64().unwrap(), r["share"].as_f64().unwrap()))
            .collect();
        assert_eq!(heights, vec![(720, 10.0 / 12.0), (360, 2.0 / 12.0)], "{when}");
        let browsers = &report["breakdown"]["browser"];
        assert_eq!(browsers[0]["value"], "Chrome", "{when}: {browsers}");
        assert_eq!(browsers[0]["views"], 3, "{when}");
        let points: i64 = report["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["views"].as_i64().unwrap())
            .sum();
        assert_eq!(points, 3, "{when}: the series adds up to the summary");
    };
    let (status, open) = get_json(&server, &format!("/api/videos/{video}/qoe")).await;
    assert_eq!(status, 200, "{open}");
    assert_eq!(open["scope"], "video");
    assert_eq!(open["bucket_secs"], 3600, "a day's report is hourly");
    check(&open, "views still open");
    assert_eq!(open["views"].as_array().unwrap().len(), 3);

    // page_hide + 5 s: rolled up; the report is the same, not doubled.
    for id in [&a, &b, &c] {
        wait_view(&server, id, |v| v["view"]["rolled_up"] == true).await;
    }
    let (_, rolled) = get_json(&server, &format!("/api/videos/{video}/qoe")).await;
    check(&rolled, "rolled up (hourly)");
    let from = "2000-01-01T00:00:00Z";
    let (_, long) = get_json(
        &server,
        &format!("/api/videos/{video}/qoe?from={from}&to=2099-01-01T00:00:00Z"),
    )
    .await;
    assert_eq!(long["bucket_secs"], 86_400);
    assert!(
        long["from"].as_str().unwrap().starts_with("2097-11-2"),
        "cut to the last 400 days: {}",
        long["from"]
    );
    let now = time::OffsetDateTime::now_utc();
    let fmt = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
    let hour = fmt(now - time::Duration::minutes(59));
    let (_, minutes) = get_json(&server, &format!("/api/videos/{video}/qoe?from={hour}")).await;
    assert_eq!(minutes["bucket_secs"], 60);
    check(&minutes, "rolled up (by the minute)");
    let month = fmt(now - time::Duration::days(30));
    let (_, days) = get_json(&server, &format!("/api/videos/{video}/qoe?from={month}")).await;
    assert_eq!(days["bucket_secs"], 86_400);
    check(&days, "rolled up (daily)");
    let (_, site) = get_json(&server, "/api/qoe").await;
    assert_eq!(site["scope"], "site");
    check(&site, "site-wide");
    assert_eq!(site["worst"]["failure_ratio"][0]["video_id"], video.as_str());
    assert_eq!(site["worst"]["rebuffer_ratio"][0]["video_id"], video.as_str());

    // The Prometheus series counted the rolled views.
    let url = server.metrics.as_ref().unwrap();
    let text = server.anon.get(url).send().await.unwrap().text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text format");
    let sample = |name: &str| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name)
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            })
            .unwrap_or_else(|| panic!("no {name} in\n{text}"))
    };
    assert_eq!(sample("kino_qoe_views_total"), 3.0);
    assert_eq!(sample("kino_qoe_exits_before_start_total"), 1.0);
    assert_eq!(sample("kino_qoe_playback_failures_total"), 1.0);
    assert!(text.contains("kino_qoe_video_start_seconds_bucket"), "{text}");

    // Deleting the video deletes its views.
    let r = server
        .http
        .delete(server.url(&format!("/api/videos/{video}")))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let (status, _) = get_json(&server, &format!("/api/qoe/views/{a}")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bad_beacons_are_refused_and_reports_are_for_owners() {
    let server = Server::start(&[("KINO_ANALYTICS__BEACONS_PER_MINUTE", "25")]);
    let clip = make_clip(&server.data_dir, "qoe.mp4", "320x240", 2, &[]);
    let video = server.upload_ok(&clip).await;
    let v = view(9);
    let one = |fields: Value| json!(events(&v, &video, 0, &[(0.0, fields)]));

    let cases = [
        (
            one(json!({"type": "first_frame", "startup_ms": -3})),
            400,
            "event 0: startup_ms",
        ),
        (one(json!({"type": "first_frame"})), 400, "startup_ms"),
        (one(json!({"type": "warp"})), 400, "unknown variant"),
        (json!("not an array"), 400, "JSON array"),
        (
            json!(events(&v, "AAAAAAAAAAAA", 0, &[(0.0, start("play"))])),
            404,
            "no video AAAAAAAAAAAA",
        ),
    ];
    for (body, status, needle) in &cases {
        let (got, answer) = send(&server, body, "application/json").await;
        assert_eq!(got, *status, "{body}: {answer}");
        assert!(
            answer["error"].as_str().unwrap_or_default().contains(needle),
            "{body}: {answer}"
        );
    }
    let (got, _) = send(&server, &one(start("play")), "application/x-www-form-urlencoded").await;
    assert_eq!(got, 415);
    let big: Vec<Value> = (0..200)
        .map(|i| {
            let mut e = events(
                &v,
                &video,
                i,
                &[(
                    0.0,
                    json!({"type": "error", "fatal": false, "code": "x", "detail": "d".repeat(400)}),
                )],
            );
            e.remove(0)
        })
        .collect();
    let (got, answer) = send(&server, &json!(big), "application/json").await;
    assert_eq!(got, 413, "{answer}");
    // Nothing of a refused batch was stored.
    let (status, _) = get_json(&server, &format!("/api/qoe/views/{v}")).await;
    assert_eq!(status, 404);

    // Reports: the owner (the admin uploaded it) and admins only.
    let anon = server
        .anon
        .get(server.url(&format!("/api/videos/{video}/qoe")))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    let out = kino_cli(
        &server.data_dir,
        &["users", "create", "viewer", "--role", "viewer", "--password-stdin"],
        "viewer-password-1\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = kino_cli(&server.data_dir, &["tokens", "create", "viewer", "--scope", "read"], "");
    let viewer = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let (status, _) = send(&server, &one(start("play_request")), "application/json").await;
    assert_eq!(status, 202);
    wait_view(&server, &v, |_| true).await;
    let as_viewer = |path: String| server.anon.get(server.url(&path)).bearer_auth(&viewer).send();
    assert_eq!(
        as_viewer(format!("/api/videos/{video}/qoe")).await.unwrap().status(),
        403
    );
    assert_eq!(as_viewer(format!("/api/qoe/views/{v}")).await.unwrap().status(), 404);
    // Their own scope: no videos, so no views.
    let mine: Value = as_viewer("/api/qoe".into()).await.unwrap().json().await.unwrap();
    assert_eq!(mine["scope"], "mine");
    assert_eq!(mine["summary"]["views"], 0, "{mine}");
    let (status, bad) = get_json(&server, &format!("/api/videos/{video}/qoe?from=yesterday")).await;
    assert_eq!(status, 400, "{bad}");

    // Past the per-address limit: 429 with Retry-After.
    let mut limited = None;
    for _ in 0..30 {
        let r = server
            .anon
            .post(server.url("/api/qoe/beacons"))
            .header("content-type", "application/json")
            .body(one(start("play")).to_string())
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            limited = Some(r.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap());
            break;
        }
        assert_eq!(r.status(), 202);
    }
    assert!(
        limited.is_some_and(|s| s >= 1),
        "25 a minute, then 429 with Retry-After"
    );
}
