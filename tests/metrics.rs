//! Prometheus metrics (`metrics.listen`): the endpoint parses as the Prometheus text format
//! and its series move with what the server does — requests by route pattern, media bytes by
//! kind and rendition, the hot-segment cache, the job queue, transcode attempts and the
//! database pool. (The live series move in `tests/live.rs`.)

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{Server, media};

/// A sample's name and its labels, sorted.
type SampleKey = (String, Vec<(String, String)>);

/// The samples of one scrape: key → value (a histogram's buckets: their largest count).
type Samples = HashMap<SampleKey, f64>;

fn key(name: &str, labels: &[(&str, &str)]) -> SampleKey {
    let mut labels: Vec<(String, String)> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    labels.sort();
    (name.to_string(), labels)
}

/// The samples of one scrape, parsed by `prometheus-parse`.
async fn scrape(server: &Server) -> Samples {
    let url = server.metrics.as_ref().expect("the server prints its metrics address");
    let r = server.anon.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        r.headers()["content-type"]
    );
    let text = r.text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let parsed = prometheus_parse::Scrape::parse(lines).expect("Prometheus text format");
    parsed
        .samples
        .into_iter()
        .map(|s| {
            let labels: Vec<(&str, &str)> = s.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let k = key(&s.metric, &labels);
            let value = match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                prometheus_parse::Value::Histogram(h) => h.iter().map(|b| b.count).fold(0.0, f64::max),
                prometheus_parse::Value::Summary(_) => f64::NAN,
            };
            (k, value)
        })
        .collect()
}

fn value(samples: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    let want = key(name, labels);
    samples.get(&want).copied().unwrap_or_else(|| {
        let near: Vec<_> = samples.keys().filter(|(n, _)| n == name).collect();
        panic!("no sample {want:?}; samples of that name: {near:?}")
    })
}

#[tokio::test]
async fn metrics_parse_and_move_with_requests_media_cache_and_queue() {
    let server = Server::start(&[("KINO_METRICS__LISTEN", "127.0.0.1:0")]);
    let id = server.upload_ok(&media("bbb-720p-h264-aac.mp4")).await;
    let v = server.wait_done(&id, Duration::from_secs(300)).await;
    assert_eq!(v["status"], "ready", "{v}");

    let before = scrape(&server).await;
    assert_eq!(value(&before, "kino_jobs_queued", &[]), 0.0, "the only job is done");
    assert_eq!(value(&before, "kino_jobs_oldest_queued_seconds", &[]), 0.0);
    assert_eq!(value(&before, "kino_streams_in_flight", &[]), 0.0);
    // The upload's transcode, by the server's own worker: one successful attempt, faster than
    // nothing.
    assert_eq!(
        value(&before, "kino_job_attempts_total", &[("outcome", "succeeded")]),
        1.0
    );
    assert_eq!(value(&before, "kino_transcode_realtime_factor_count", &[]), 1.0);
    assert!(value(&before, "kino_transcode_realtime_factor_sum", &[]) > 0.0);
    let pool = value(&before, "kino_db_connections", &[("state", "idle")])
        + value(&before, "kino_db_connections", &[("state", "in_use")]);
    assert!(pool >= 1.0, "{pool} database connections");

    let segment = format!("/hls/{id}/720p/seg_00000.m4s");
    let mut segment_bytes = 0;
    for _ in 0..3 {
        let r = server.anon.get(server.url(&segment)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        segment_bytes += r.bytes().await.unwrap().len();
    }
    assert_eq!(
        server
            .anon
            .get(server.url(&format!("/hls/{id}/master.m3u8")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        server
            .anon
            .get(server.url("/hls/AAAAAAAAAAAA/master.m3u8"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    let after = scrape(&server).await;
    let route = [
        ("route", "/hls/:id/:rendition/:file"),
        ("method", "GET"),
        ("status", "200"),
    ];
    let grew = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - before.get(&key(name, labels)).copied().unwrap_or(0.0)
    };
    assert_eq!(
        grew("kino_http_requests_total", &route),
        3.0,
        "three segment requests, by route pattern"
    );
    let missing = [("route", "/hls/:id/master.m3u8"), ("method", "GET"), ("status", "404")];
    assert_eq!(grew("kino_http_requests_total", &missing), 1.0);
    assert!(
        !after
            .keys()
            .any(|(_, labels)| labels.iter().any(|(_, v)| v.contains(&id))),
        "a video id became a label"
    );
    assert_eq!(
        grew(
            "kino_media_response_bytes_total",
            &[("kind", "segment"), ("rendition", "720p")]
        ),
        segment_bytes as f64
    );
    assert!(
        grew(
            "kino_media_response_bytes_total",
            &[("kind", "playlist"), ("rendition", "")]
        ) > 0.0,
        "the multivariant playlist belongs to no rendition"
    );
    assert_eq!(value(&after, "kino_live_publishers", &[]), 0.0);
    assert_eq!(value(&after, "kino_live_viewers", &[]), 0.0);
    if common::scale_out() {
        // On S3 segments come from the store: no memory cache, so no cache lookups either.
        assert!(
            !after
                .keys()
                .any(|(name, _)| name == "kino_segment_cache_requests_total")
        );
    } else {
        // The first request is a miss, the second reads the file into memory (a miss too), the
        // third is a hit.
        assert_eq!(grew("kino_segment_cache_requests_total", &[("result", "hit")]), 1.0);
        assert_eq!(grew("kino_segment_cache_requests_total", &[("result", "miss")]), 2.0);
        assert!(value(&after, "kino_segment_cache_bytes", &[]) >= (segment_bytes / 3) as f64);
    }
    assert!(
        value(
            &after,
            "kino_http_request_duration_seconds_count",
            &[("route", "/hls/:id/:rendition/:file")]
        ) >= 3.0
    );
}

#[tokio::test]
async fn without_metrics_listen_nothing_listens() {
    let server = Server::start(&[]);
    assert!(server.metrics.is_none(), "metrics are off by default");
}
