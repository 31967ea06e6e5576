//! Captions: the owner uploads SRT or WebVTT; each track becomes an HLS subtitle rendition
//! (segmented WebVTT with X-TIMESTAMP-MAP) listed in the multivariant playlist, served under
//! the video's grants; malformed files are refused with their line; tracks can be removed.

mod common;

use std::time::Duration;

use common::{H264_FAST, Server, ffmpeg_in, kino_cli, make_clip, shared_media};
use serde_json::Value;

const SRT: &str = "1\n00:00:01,000 --> 00:00:02,500\nHello from the <i>captions</i>.\n\n2\n00:00:05,500 --> 00:00:07,500\nA cue across a segment boundary\n";

async fn add(
    server: &Server,
    id: &str,
    token: Option<&str>,
    file: (&str, Vec<u8>),
    lang: &str,
    label: &str,
) -> (u16, Value) {
    let form = reqwest::multipart::Form::new()
        .text("lang", lang.to_string())
        .text("label", label.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(file.1).file_name(file.0.to_string()),
        );
    let req = match token {
        Some(t) => server
            .anon
            .post(server.url(&format!("/api/videos/{id}/captions")))
            .bearer_auth(t),
        None => server.http.post(server.url(&format!("/api/videos/{id}/captions"))),
    };
    let r = req.multipart(form).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn text(server: &Server, path: &str) -> (u16, String) {
    let r = server.anon.get(server.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn caption_tracks_become_subtitle_renditions() {
    let server = Server::start(&[]);
    let clip = make_clip(&server.data_dir, "talk.mp4", "640x360", 8, H264_FAST);
    let id = server.upload_ok(&clip).await;
    let v = server.wait_done(&id, Duration::from_secs(300)).await;
    assert_eq!(v["status"], "ready", "{v}");

    let (status, track) = add(&server, &id, None, ("talk.srt", SRT.into()), "en", "English").await;
    assert_eq!(status, 201, "{track}");
    assert_eq!(
        (track["lang"].as_str(), track["label"].as_str(), track["cues"].as_i64()),
        (Some("en"), Some("English"), Some(2))
    );
    let cid = track["id"].as_i64().unwrap();

    // The multivariant playlist lists the track and every variant names its group.
    let (_, master) = text(&server, &format!("/hls/{id}/master.m3u8")).await;
    let parsed = m3u8_rs::parse_master_playlist_res(master.as_bytes()).expect("a multivariant playlist");
    assert_eq!(parsed.alternatives.len(), 1, "{master}");
    let alt = &parsed.alternatives[0];
    assert_eq!(alt.media_type, m3u8_rs::AlternativeMediaType::Subtitles);
    assert_eq!((alt.language.as_deref(), alt.name.as_str()), (Some("en"), "English"));
    assert!(
        parsed.variants.iter().all(|v| v.subtitles.as_deref() == Some("subs")),
        "{master}"
    );

    // Its media playlist: 6 s WebVTT segments covering the video, each mapped to its timeline.
    let uri = alt.uri.clone().unwrap();
    let (status, playlist) = text(&server, &format!("/hls/{id}/{uri}")).await;
    assert_eq!(status, 200);
    let list = m3u8_rs::parse_media_playlist_res(playlist.as_bytes()).expect("a media playlist");
    assert!(list.end_list);
    let total: f32 = list.segments.iter().map(|s| s.duration).sum();
    assert!(
        (total - v["duration"].as_f64().unwrap() as f32).abs() < 0.1,
        "{playlist}"
    );
    let dir = uri.trim_end_matches("index.m3u8");
    let mut seen = Vec::new();
    for s in &list.segments {
        let r = server
            .anon
            .get(server.url(&format!("/hls/{id}/{dir}{}", s.uri)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/vtt; charset=utf-8");
        let body = r.text().await.unwrap();
        assert!(
            body.starts_with("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n"),
            "{body}"
        );
        seen.push(body);
    }
    assert!(seen[0].contains("00:00:01.000 --> 00:00:02.500\nHello from the <i>captions</i>."));
    assert!(
        seen[0].contains("A cue across") && seen[1].contains("A cue across"),
        "{seen:?}"
    );
    let (status, whole) = text(&server, track["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert!(
        whole.starts_with("WEBVTT\n\n00:00:01.000 --> 00:00:02.500\n"),
        "{whole}"
    );

    // Anyone who may watch sees the list.
    let (status, listed) = server.anon_json(&format!("/api/videos/{id}/captions")).await;
    assert_eq!(status, 200);
    assert_eq!(listed["captions"].as_array().unwrap().len(), 1);

    // Bad input: the line of a malformed file, a bad tag, a missing file.
    let broken = "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:03,000 -> 00:00:04,000\nbroken\n";
    let (status, e) = add(&server, &id, None, ("x.srt", broken.into()), "en", "English").await;
    assert_eq!(status, 400);
    assert!(e["error"].as_str().unwrap().starts_with("captions line 5:"), "{e}");
    let (status, e) = add(&server, &id, None, ("x.srt", SRT.into()), "english", "English").await;
    assert_eq!(status, 400, "{e}");
    let (status, _) = add(&server, &id, None, ("x.bin", vec![0xff, 0xfe, 0x00]), "en", "x").await;
    assert_eq!(status, 400);
    // Only the owner or an admin.
    let out = kino_cli(
        &server.data_dir,
        &["users", "create", "guest", "--role", "uploader", "--password-stdin"],
        "guest-password-1\n",
    );
    assert!(out.status.success());
    let out = kino_cli(
        &server.data_dir,
        &["tokens", "create", "guest", "--scope", "read,write"],
        "",
    );
    let guest = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let (status, _) = add(&server, &id, Some(&guest), ("x.srt", SRT.into()), "en", "English").await;
    assert_eq!(status, 403);

    // Private: the track's files are under the grant only.
    server.set_privacy(&id, "private").await;
    assert_eq!(text(&server, &format!("/hls/{id}/{uri}")).await.0, 404);
    let (_, mine) = server
        .http
        .get(server.url(&format!("/api/videos/{id}/captions")))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .map(|v| (0, v))
        .unwrap();
    let signed = mine["captions"][0]["url"].as_str().unwrap();
    assert!(signed.contains("/g/"), "{signed}");
    assert_eq!(text(&server, signed).await.0, 200);
    server.set_privacy(&id, "public").await;

    // Removed: out of the playlist, its files gone.
    assert_eq!(delete_track(&server, &id, cid).await, 204);
    let (_, master) = text(&server, &format!("/hls/{id}/master.m3u8")).await;
    assert!(
        !master.contains("TYPE=SUBTITLES") && !master.contains("SUBTITLES="),
        "{master}"
    );
    assert_eq!(text(&server, &format!("/hls/{id}/{uri}")).await.0, 404);
    assert_eq!(delete_track(&server, &id, cid).await, 404);
}

#[tokio::test]
async fn the_shared_set_s_caption_files_are_taken() {
    let (Some(vtt), Some(srt)) = (shared_media("friday.en.vtt"), shared_media("friday.en.srt")) else {
        return;
    };
    let server = Server::start(&[]);
    let clip = make_clip(&server.data_dir, "friday.mp4", "320x240", 4, H264_FAST);
    let id = server.upload_ok(&clip).await;
    server.wait_done(&id, Duration::from_secs(300)).await;
    for (path, label) in [(vtt, "English (WebVTT)"), (srt, "English (SRT)")] {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (status, track) = add(&server, &id, None, (&name, std::fs::read(&path).unwrap()), "en", label).await;
        assert_eq!(status, 201, "{name}: {track}");
        assert!(track["cues"].as_i64().unwrap() > 0);
    }
}

/// `DELETE /api/videos/{id}/captions/{cid}` as the admin; its status.
async fn delete_track(server: &Server, id: &str, cid: i64) -> u16 {
    let url = server.url(&format!("/api/videos/{id}/captions/{cid}"));
    server.http.delete(url).send().await.unwrap().status().as_u16()
}

/// `GET /api/videos/{id}/captions` as the admin.
async fn captions_of(server: &Server, id: &str) -> Value {
    server
        .get(&format!("/api/videos/{id}/captions"))
        .await
        .json()
        .await
        .unwrap()
}

/// Makes `name` in `dir`: 6 s of test pattern and tone with the subtitle streams of `subs`
/// (`(srt text, codec, ffmpeg stream metadata…)`, `disposition=…` for a disposition), muxed by
/// ffmpeg as the codec says.
fn with_subtitles(dir: &std::path::Path, name: &str, subs: &[(&str, &str, &[&str])]) -> std::path::PathBuf {
    let mut inputs = String::new();
    let (mut maps, mut codecs) = (String::new(), String::new());
    for (n, (srt, codec, meta)) in subs.iter().enumerate() {
        let file = format!("{name}.{n}.srt");
        std::fs::write(dir.join(&file), srt).unwrap();
        inputs.push_str(&format!(" -i {file}"));
        maps.push_str(&format!(" -map {}:s", n + 2));
        codecs.push_str(&format!(" -c:s:{n} {codec}"));
        for m in meta.iter() {
            match m.strip_prefix("disposition=") {
                Some(d) => codecs.push_str(&format!(" -disposition:s:{n} {d}")),
                None => codecs.push_str(&format!(" -metadata:s:s:{n} {m}")),
            }
        }
    }
    ffmpeg_in(
        dir,
        &format!(
            "-f lavfi -i testsrc2=size=640x360:rate=25:duration=6 \
             -f lavfi -i sine=frequency=440:sample_rate=48000:duration=6{inputs} \
             -map 0:v -map 1:a{maps} -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac{codecs} {name}"
        ),
    );
    dir.join(name)
}

#[tokio::test]
async fn text_subtitle_streams_of_the_source_become_caption_tracks() {
    let server = Server::start(&[("KINO_LADDER__PRESET", "ultrafast")]);
    let dir = tempfile::tempdir().unwrap();
    let english = "1\n00:00:00,500 --> 00:00:02,000\nEmbedded English line\n";
    let french = "1\n00:00:03,000 --> 00:00:05,000\nUne ligne en français\n";
    // Matroska: SubRip in English, ASS with the bibliographic code `fre` and a title.
    let mkv = with_subtitles(
        dir.path(),
        "subs.mkv",
        &[
            (english, "srt", &["language=eng"]),
            (french, "ass", &["language=fre", "title=Français", "disposition=forced"]),
        ],
    );
    // MP4: mov_text, no language.
    let mp4 = with_subtitles(dir.path(), "subs.mp4", &[(english, "mov_text", &[])]);

    let id = server.upload_ok(&mkv).await;
    let v = server.wait_done(&id, Duration::from_secs(300)).await;
    assert_eq!(v["status"], "ready", "{v}");
    let list = captions_of(&server, &id).await;
    let tracks = list["captions"].as_array().unwrap();
    let summary: Vec<_> = tracks
        .iter()
        .map(|t| {
            (
                t["lang"].as_str().unwrap(),
                t["label"].as_str().unwrap(),
                t["embedded"].as_bool().unwrap(),
                t["cues"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [("en", "English", true, 1), ("fr", "Français (forced)", true, 1)],
        "{list}"
    );
    let whole = String::from_utf8(server.bytes(tracks[1]["url"].as_str().unwrap()).await).unwrap();
    // At its time on the source's timeline (Matroska shifts it by the AAC priming delay,
    // 21 ms, as it does the pictures).
    assert!(
        whole.contains("00:00:03.0") && whole.contains("--> 00:00:05.0"),
        "{whole}"
    );
    assert!(whole.contains("Une ligne en français"), "{whole}");
    let master = String::from_utf8(server.bytes(v["hls_url"].as_str().unwrap()).await).unwrap();
    let parsed = m3u8_rs::parse_master_playlist_res(master.as_bytes()).expect("the multivariant playlist parses");
    assert_eq!(tracks[1]["forced"], true, "{list}");
    assert!(
        master.contains("NAME=\"Français (forced)\",LANGUAGE=\"fr\",DEFAULT=NO,AUTOSELECT=YES,FORCED=YES"),
        "{master}"
    );
    let langs: Vec<_> = parsed
        .alternatives
        .iter()
        .filter_map(|a| a.language.as_deref())
        .collect();
    assert_eq!(langs, ["en", "fr"], "{master}");
    assert!(
        parsed.variants.iter().all(|v| v.subtitles.as_deref() == Some("subs")),
        "{master}"
    );
    // The subtitle rendition's first segment has the cue at its time.
    let cid = tracks[0]["id"].as_i64().unwrap();
    let seg = String::from_utf8(server.bytes(&format!("/hls/{id}/subs_{cid}/seg_00000.vtt")).await).unwrap();
    assert!(
        seg.contains("X-TIMESTAMP-MAP") && seg.contains("Embedded English line"),
        "{seg}"
    );
    // The owner may remove an extracted track like an uploaded one; its files go with it.
    assert_eq!(delete_track(&server, &id, cid).await, 204);
    let gone = server.get(&format!("/hls/{id}/subs_{cid}/seg_00000.vtt")).await;
    assert_eq!(gone.status(), 404);

    let id = server.upload_ok(&mp4).await;
    let v = server.wait_done(&id, Duration::from_secs(300)).await;
    assert_eq!(v["status"], "ready", "{v}");
    let list = captions_of(&server, &id).await;
    let t = &list["captions"][0];
    assert_eq!(
        (t["lang"].as_str(), t["label"].as_str(), t["embedded"].as_bool()),
        (Some("und"), Some("Subtitles 1"), Some(true)),
        "{list}"
    );

    // The shared set's Matroska file with its SubRip track, where present.
    if let Some(file) = shared_media("mkv-1080x720-h264-ac3-subrip.mkv") {
        let id = server.upload_ok(&file).await;
        let v = server.wait_done(&id, Duration::from_secs(300)).await;
        assert_eq!(v["status"], "ready", "{v}");
        let list = captions_of(&server, &id).await;
        let url = list["captions"][0]["url"]
            .as_str()
            .unwrap_or_else(|| panic!("no track: {list}"));
        let whole = String::from_utf8(server.bytes(url).await).unwrap();
        assert!(whole.contains("This is the first subtitle."), "{whole}");
    }
}
