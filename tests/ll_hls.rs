//! Low-latency HLS end to end: a real RTMP publisher (ffmpeg, H.264 keyed every second + AAC)
//! goes live; every media playlist is checked against Apple's LL-HLS rules by a checker of
//! the test's own (parts no longer than PART-TARGET, each segment's parts adding up to it,
//! the first part of a segment independent, the preload hint naming the next part, a
//! rendition report for every other rendition), every listed part is served, a blocking
//! reload is held until its part exists and answers with it, a hinted part is served once it
//! exists, delta updates skip what is older than CAN-SKIP-UNTIL, and bad directives get 400.

mod common;

use std::time::{Duration, Instant};

use common::Server;

/// What the checker read from one low-latency media playlist.
#[derive(Debug, Default)]
struct LowLatencyPlaylist {
    part_target: f64,
    part_hold_back: f64,
    can_skip_until: f64,
    skipped: u64,
    /// Media sequence number of the first segment listed (after any skip).
    first_msn: u64,
    /// (msn, index, uri, duration, independent) of every part listed.
    parts: Vec<(u64, u32, String, f64, bool)>,
    /// (msn, duration) of every segment listed.
    segments: Vec<(u64, f64)>,
    preload_hint: Option<String>,
    /// (uri, last msn, last part) of each rendition report.
    reports: Vec<(String, u64, u32)>,
}

fn attr<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    line.split([':', ','])
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        .map(|v| v.trim_matches('"'))
}

/// Reads `text` and asserts the rules every low-latency playlist must keep.
fn check(text: &str) -> LowLatencyPlaylist {
    let mut p = LowLatencyPlaylist::default();
    let mut msn = None;
    let mut index = 0;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("#EXT-X-SERVER-CONTROL:") {
            assert!(rest.contains("CAN-BLOCK-RELOAD=YES"), "{text}");
            p.part_hold_back = attr(line, "PART-HOLD-BACK").unwrap().parse().unwrap();
            p.can_skip_until = attr(line, "CAN-SKIP-UNTIL").unwrap().parse().unwrap();
        } else if line.starts_with("#EXT-X-PART-INF:") {
            p.part_target = attr(line, "PART-TARGET").unwrap().parse().unwrap();
        } else if let Some(n) = line.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
            msn = Some(n.parse::<u64>().unwrap());
        } else if let Some(n) = line.strip_prefix("#EXT-X-SKIP:SKIPPED-SEGMENTS=") {
            p.skipped = n.parse().unwrap();
            msn = msn.map(|m| m + p.skipped);
        } else if line.starts_with("#EXT-X-PART:") {
            p.parts.push((
                msn.unwrap(),
                index,
                attr(line, "URI").unwrap().to_string(),
                attr(line, "DURATION").unwrap().parse().unwrap(),
                line.contains("INDEPENDENT=YES"),
            ));
            index += 1;
        } else if let Some(d) = line.strip_prefix("#EXTINF:") {
            let m = msn.unwrap();
            if p.segments.is_empty() {
                p.first_msn = m;
            }
            p.segments.push((m, d.trim_end_matches(',').parse().unwrap()));
            msn = Some(m + 1);
            index = 0;
        } else if line.starts_with("#EXT-X-PRELOAD-HINT:") {
            assert_eq!(attr(line, "TYPE"), Some("PART"), "{line}");
            p.preload_hint = attr(line, "URI").map(String::from);
        } else if line.starts_with("#EXT-X-RENDITION-REPORT:") {
            p.reports.push((
                attr(line, "URI").unwrap().to_string(),
                attr(line, "LAST-MSN").unwrap().parse().unwrap(),
                attr(line, "LAST-PART").unwrap().parse().unwrap(),
            ));
        }
    }
    assert!(p.part_target > 0.0, "no PART-TARGET:\n{text}");
    assert!(
        p.part_hold_back >= 3.0 * p.part_target - 1e-9,
        "PART-HOLD-BACK under three parts:\n{text}"
    );
    assert!(!p.parts.is_empty(), "no parts:\n{text}");
    for (m, i, uri, d, independent) in &p.parts {
        assert!(
            *d > 0.0 && *d <= p.part_target + 1e-9,
            "part {m}.{i} ({uri}) lasts {d} s, over PART-TARGET:\n{text}"
        );
        if *i == 0 {
            assert!(
                independent,
                "segment {m} does not start with an independent part:\n{text}"
            );
        }
    }
    // Every segment whose parts are listed: its parts add up to it.
    for (m, d) in &p.segments {
        let parts: Vec<f64> = p.parts.iter().filter(|x| x.0 == *m).map(|x| x.3).collect();
        if !parts.is_empty() {
            let sum: f64 = parts.iter().sum();
            assert!(
                (sum - d).abs() < 0.002,
                "segment {m}: EXTINF {d} but parts add up to {sum}:\n{text}"
            );
        }
    }
    // Parts are numbered on: the hint names the one after the last.
    let numbers: Vec<u64> = p.parts.iter().map(|x| number_of(&x.2)).collect();
    assert!(
        numbers.windows(2).all(|w| w[1] == w[0] + 1),
        "part numbers skip: {numbers:?}"
    );
    let hint = p.preload_hint.as_deref().expect("a preload hint while live");
    assert_eq!(number_of(hint), numbers.last().unwrap() + 1, "{text}");
    p
}

/// The number in a part's file name (`SESSION-pNUMBER.m4s`).
fn number_of(uri: &str) -> u64 {
    uri.split("-p")
        .nth(1)
        .unwrap()
        .trim_end_matches(".m4s")
        .parse()
        .unwrap()
}

/// The newest part: (msn, index).
fn edge(p: &LowLatencyPlaylist) -> (u64, u32) {
    let last = p.parts.last().unwrap();
    (last.0, last.1)
}

#[tokio::test]
async fn a_live_stream_is_low_latency_hls_with_blocking_reloads() {
    // On S3, segments are redirected to the bucket; parts never are (a round trip per part),
    // which the checks of every part's own headers below then cover.
    let presigned: &[(&str, &str)] = if common::scale_out() {
        &[("KINO_S3__REDIRECT", "presigned")]
    } else {
        &[]
    };
    let server = Server::start(presigned);
    let (id, url) = server.create_live_stream("Low latency").await;
    let publisher = common::rtmp_publish(&url, 16, Some("854x480"));
    server
        .wait_for(&id, Duration::from_secs(30), |v| {
            v["status"] == "live" && v["playable"] == true
        })
        .await;
    let (status, _, master) = server.anon_text(&format!("/hls/{id}/master.m3u8")).await;
    assert_eq!(status, 200);
    let uris: Vec<String> = master
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(String::from)
        .collect();
    assert_eq!(uris, ["360p/index.m3u8", "source/index.m3u8"], "{master}");
    let mut a_part = None;

    for uri in &uris {
        let base = format!("/hls/{id}/{}", uri.trim_end_matches("index.m3u8"));
        let (status, cache, text) = server.anon_text(&format!("/hls/{id}/{uri}")).await;
        assert_eq!(status, 200);
        assert_eq!(cache, "public, no-cache");
        let p = check(&text);
        // 30 fps: six frames a part, 1 ms allowed for timestamp rounding.
        assert!((p.part_target - 0.201).abs() < 1e-9, "{text}");
        let other = uris.iter().find(|u| *u != uri).unwrap();
        assert_eq!(p.reports.len(), 1, "{text}");
        assert_eq!(p.reports[0].0, format!("../{other}"), "{text}");
        // Every part listed is stored and served as immutable media.
        a_part = p.parts.first().map(|x| format!("{base}{}", x.2));
        for (_, _, part, _, _) in &p.parts {
            let r = server
                .anon
                .get(server.url(&format!("{base}{part}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{part}");
            assert_eq!(r.headers()["content-type"], "video/mp4");
            assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
            assert!(
                r.url().path().starts_with("/hls/"),
                "a part is served by Kino: {}",
                r.url()
            );
            assert!(r.bytes().await.unwrap().starts_with(&[0, 0]), "a box");
        }

        if common::scale_out() {
            let (msn, _) = *p.segments.last().unwrap();
            let direct = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            let r = direct
                .get(server.url(&format!("{base}1-{msn:06}.m4s")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 307, "a whole segment goes to the bucket");
        }

        // A blocking reload for the part after the newest: held until it exists, then the
        // playlist lists it.
        let (msn, part) = edge(&p);
        let asked = Instant::now();
        let (status, cache, held) = server
            .anon_text(&format!("/hls/{id}/{uri}?_HLS_msn={msn}&_HLS_part={}", part + 1))
            .await;
        let waited = asked.elapsed();
        assert_eq!(status, 200, "{held}");
        assert_eq!(
            cache, "public, max-age=3",
            "held answers may be cached as long as they were held"
        );
        let after = check(&held);
        assert!(
            edge(&after) > (msn, part),
            "the answer lists a newer part: {:?} then {:?}",
            (msn, part),
            edge(&after)
        );
        assert!(
            waited < Duration::from_secs(3),
            "answered when the part came, not at the hold limit: {waited:?}"
        );

        // The hinted part: asked for before it exists, served once it does.
        let hinted = after.preload_hint.clone().unwrap();
        let r = server
            .anon
            .get(server.url(&format!("{base}{hinted}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "the hinted part {hinted}");
        assert!(!r.bytes().await.unwrap().is_empty());

        // Whole segments: a blocking reload without a part waits for the segment to close.
        let (status, _, whole) = server
            .anon_text(&format!("/hls/{id}/{uri}?_HLS_msn={}", edge(&after).0))
            .await;
        assert_eq!(status, 200);
        let whole = check(&whole);
        assert!(
            whole.segments.last().unwrap().0 >= edge(&after).0,
            "segment {} is listed whole",
            edge(&after).0
        );

        // Bad directives.
        for bad in [
            format!("_HLS_msn={}", msn + 5),
            "_HLS_part=1".to_string(),
            "_HLS_msn=soon".to_string(),
        ] {
            let (status, _, body) = server.anon_text(&format!("/hls/{id}/{uri}?{bad}")).await;
            assert_eq!(status, 400, "{bad}: {body}");
            assert!(body.contains("_HLS_"), "the error names the directive: {body}");
        }
    }

    // Delta updates, once more than CAN-SKIP-UNTIL (6 s) is listed.
    let uri = &uris[1];
    let deadline = Instant::now() + Duration::from_secs(20);
    let delta = loop {
        let (_, _, text) = server.anon_text(&format!("/hls/{id}/{uri}")).await;
        let full = check(&text);
        let (status, _, delta) = server.anon_text(&format!("/hls/{id}/{uri}?_HLS_skip=YES")).await;
        assert_eq!(status, 200);
        let d = check(&delta);
        if d.skipped > 0 {
            assert_eq!(full.first_msn, 0);
            assert_eq!(
                d.first_msn, d.skipped,
                "the first segment after the skip is numbered on"
            );
            let kept: f64 = d.segments.iter().map(|s| s.1).sum();
            assert!(
                kept >= full.can_skip_until - 1.0,
                "what is kept covers CAN-SKIP-UNTIL: {kept}\n{delta}"
            );
            break delta;
        }
        assert!(Instant::now() < deadline, "no delta update skipped anything:\n{delta}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(delta.contains("#EXT-X-VERSION:9"), "{delta}");

    // Waited for off the runtime, so the client's pooled connections stay serviced.
    let out = tokio::task::spawn_blocking(move || publisher.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The replay: standard VOD playlists, no parts, no delta left behind.
    server.wait_done(&id, Duration::from_secs(30)).await;
    let (_, _, replay) = server.anon_text(&format!("/hls/{id}/{uri}")).await;
    assert!(
        replay.contains("#EXT-X-ENDLIST") && !replay.contains("#EXT-X-PART"),
        "{replay}"
    );
    let (status, _, _) = server
        .anon_text(&format!("/hls/{id}/{}", uri.replace("index.m3u8", "delta.m3u8")))
        .await;
    assert_eq!(status, 404);
    let (status, _, _) = server.anon_text(&a_part.unwrap()).await;
    assert_eq!(status, 404, "parts leave with the live stream");
}
