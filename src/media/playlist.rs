//! Measures the renditions ffmpeg produced and writes the multivariant (master) playlist.
//!
//! RFC 8216 §4.3.4.2 makes `BANDWIDTH` the peak segment bitrate and `AVERAGE-BANDWIDTH` the
//! average; ffmpeg 5.1 declares the requested rate instead, which understates the peak. So
//! every segment's size and `EXTINF` duration are read back here and the playlist is written
//! from the measurements, with `CODECS` taken from the `avcC` box of each init segment.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, bail};

use crate::media::transcode::MEDIA_PLAYLIST;
use crate::video::Rendition;

/// File name of the multivariant playlist.
pub const MULTIVARIANT_PLAYLIST: &str = "master.m3u8";

/// RFC 6381 codec string of AAC-LC, the only audio codec Kino encodes.
pub const AAC_LC: &str = "mp4a.40.2";

/// Reads the `avc1.PPCCLL` codec string (RFC 6381 §3.3) from an init segment's `avcC` box.
pub fn avc_codec_string(init_segment: &[u8]) -> Option<String> {
    let at = init_segment.windows(4).position(|w| w == b"avcC")?;
    let rec = init_segment.get(at + 4..at + 8)?;
    // rec[0] is configurationVersion (1); then profile, constraint flags, level.
    (rec[0] == 1).then(|| format!("avc1.{:02x}{:02x}{:02x}", rec[1], rec[2], rec[3]))
}

/// The picture of a video variant stream, as the multivariant playlist declares it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Picture {
    /// Pixels.
    pub width: u32,
    pub height: u32,
    /// Frames/s, when constant.
    pub frame_rate: Option<f64>,
}

/// How [`measure`] leaves the `EXT-X-PLAYLIST-TYPE` of a finished playlist ffmpeg wrote as
/// `EVENT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Published only now: `VOD`.
    Vod,
    /// Already published while growing: stays `EVENT`, now with `#EXT-X-ENDLIST` — a client
    /// may reload it, and RFC 8216 §6.2.1 lets a server only append to such a playlist.
    KeepEvent,
}

/// Measures one finished rendition directory (`index.m3u8`, its init segment and media
/// segments) and finalises its playlist: `EVENT` becomes `VOD` as `finish` says (ffmpeg wrote
/// it growing, RFC 8216 §4.3.3.5), and `EXT-X-TARGETDURATION` is corrected where ffmpeg 5.1
/// rounds it half-to-even below an `EXTINF` (a single 2.5 s segment under a target of 2 breaks
/// RFC 8216 §4.3.3.1). `picture` is `None` for an audio-only variant.
///
/// Errors: a missing or unparsable playlist, a missing segment, or no segments at all.
pub fn measure(
    dir: &Path,
    name: &str,
    picture: Option<Picture>,
    has_audio: bool,
    finish: Finish,
) -> anyhow::Result<Rendition> {
    let text =
        std::fs::read(dir.join(MEDIA_PLAYLIST)).with_context(|| format!("rendition {name}: no media playlist"))?;
    let playlist = match m3u8_rs::parse_playlist_res(&text) {
        Ok(m3u8_rs::Playlist::MediaPlaylist(p)) => p,
        _ => bail!("rendition {name}: media playlist does not parse"),
    };
    if playlist.segments.is_empty() {
        bail!("rendition {name}: no segments were produced");
    }
    let target = required_target_duration(playlist.segments.iter().map(|s| f64::from(s.duration)));
    let event = finish == Finish::Vod && playlist.playlist_type == Some(m3u8_rs::MediaPlaylistType::Event);
    if target > playlist.target_duration || event {
        let text = String::from_utf8_lossy(&text).replace("#EXT-X-PLAYLIST-TYPE:EVENT", "#EXT-X-PLAYLIST-TYPE:VOD");
        std::fs::write(
            dir.join(MEDIA_PLAYLIST),
            set_target_duration(&text, target.max(playlist.target_duration)),
        )
        .with_context(|| format!("rendition {name}: cannot rewrite the media playlist"))?;
    }
    figures(dir, name, picture, has_audio, &playlist)
}

/// The figures of the segments `playlist` lists in `dir` (`bytes`, peak and average bitrate,
/// duration, `CODECS` from the init segment), without touching any file — for a rendition
/// still growing as well as a finished one.
///
/// Errors: a listed segment or init segment is missing, or a video init segment has no `avcC`.
pub fn figures(
    dir: &Path,
    name: &str,
    picture: Option<Picture>,
    has_audio: bool,
    playlist: &m3u8_rs::MediaPlaylist,
) -> anyhow::Result<Rendition> {
    let mut bytes = 0u64;
    let mut codecs = Vec::new();
    if let Some(map) = playlist.segments.iter().find_map(|s| s.map.as_ref()) {
        let init =
            std::fs::read(dir.join(&map.uri)).with_context(|| format!("rendition {name}: init segment missing"))?;
        bytes += init.len() as u64;
        if picture.is_some() {
            codecs.push(
                avc_codec_string(&init).with_context(|| format!("rendition {name}: no avcC box in init segment"))?,
            );
        }
    }
    if has_audio {
        codecs.push(AAC_LC.to_string());
    }
    let (mut peak, mut duration, mut media_bytes) = (0f64, 0f64, 0u64);
    for seg in &playlist.segments {
        let size = std::fs::metadata(dir.join(&seg.uri))
            .with_context(|| format!("rendition {name}: segment {} missing", seg.uri))?
            .len();
        let secs = f64::from(seg.duration);
        media_bytes += size;
        duration += secs;
        if secs > 0.0 {
            peak = peak.max(size as f64 * 8.0 / secs);
        }
    }
    bytes += media_bytes;
    Ok(Rendition {
        name: name.to_string(),
        width: picture.map(|p| p.width),
        height: picture.map(|p| p.height),
        bandwidth: peak.ceil() as u64,
        average_bandwidth: if duration > 0.0 {
            (media_bytes as f64 * 8.0 / duration).ceil() as u64
        } else {
            0
        },
        codecs: codecs.join(","),
        frame_rate: picture.and_then(|p| p.frame_rate),
        duration,
        bytes,
        segments: playlist.segments.len(),
        audio_track: None,
    })
}

/// RFC 8216 §4.3.3.1: the smallest target duration (whole seconds) that every `EXTINF`,
/// rounded to the nearest integer (halves up), fits under.
pub fn required_target_duration(durations: impl Iterator<Item = f64>) -> u64 {
    durations.map(|d| (d + 0.5).floor() as u64).max().unwrap_or(1).max(1)
}

/// Replaces the `#EXT-X-TARGETDURATION` line of a media playlist.
pub fn set_target_duration(playlist: &str, seconds: u64) -> String {
    playlist
        .lines()
        .map(|l| {
            if l.starts_with("#EXT-X-TARGETDURATION:") {
                format!("#EXT-X-TARGETDURATION:{seconds}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Writes the multivariant playlist (RFC 8216 §4.3.4.2): one `EXT-X-STREAM-INF` per
/// rendition with BANDWIDTH, AVERAGE-BANDWIDTH, CODECS and, for video, RESOLUTION and
/// FRAME-RATE; variants in ascending bandwidth order.
pub fn write_multivariant(renditions: &[Rendition]) -> String {
    write_multivariant_with(renditions, &[])
}

/// A subtitle rendition of the multivariant playlist (`EXT-X-MEDIA:TYPE=SUBTITLES`).
#[derive(Debug, Clone, PartialEq)]
pub struct SubtitleTrack {
    /// Directory of its media playlist, e.g. `subs_3`.
    pub dir: String,
    /// BCP 47 language tag.
    pub lang: String,
    /// `NAME`: what the captions menu shows.
    pub name: String,
    /// `FORCED=YES`: shown without being chosen (signs, foreign dialogue).
    pub forced: bool,
}

/// The group id of Kino's subtitle renditions.
pub const SUBTITLE_GROUP: &str = "subs";

/// The group id of Kino's audio renditions (a source with several audio languages).
pub const AUDIO_GROUP: &str = "aud";

/// [`write_multivariant`] with subtitle renditions (RFC 8216 §4.3.4.1): one `EXT-X-MEDIA`
/// per track in the `subs` group (none `DEFAULT`, all `AUTOSELECT`, so players pick one by
/// the viewer's language only when asked), and every variant naming the group
/// (`SUBTITLES="subs"`, §4.3.4.2).
///
/// Renditions with an [`crate::video::AudioTrack`] are audio renditions of the `aud` group
/// (`EXT-X-MEDIA:TYPE=AUDIO`, `CHANNELS="2"`, the source's default track `DEFAULT=YES`), not
/// variant streams: then every variant names the group (`AUDIO="aud"`), lists the audio codec
/// in `CODECS` and adds the largest audio rendition's bitrates to its own (§4.3.4.2: BANDWIDTH
/// is the peak of the variant with whichever rendition plays alongside).
pub fn write_multivariant_with(renditions: &[Rendition], subtitles: &[SubtitleTrack]) -> String {
    let (audio, mut variants): (Vec<&Rendition>, Vec<&Rendition>) =
        renditions.iter().partition(|r| r.audio_track.is_some());
    variants.sort_by_key(|r| r.bandwidth);
    let audio_peak = audio.iter().map(|r| r.bandwidth).max().unwrap_or(0);
    let audio_average = audio.iter().map(|r| r.average_bandwidth).max().unwrap_or(0);
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    let audio_names = unique(
        audio
            .iter()
            .filter_map(|r| r.audio_track.as_ref())
            .map(|t| t.label.as_str()),
    );
    let mut autoselected: Vec<&str> = Vec::new();
    for (r, name) in audio.iter().zip(&audio_names) {
        let Some(track) = &r.audio_track else { continue };
        let _ = write!(
            out,
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"{AUDIO_GROUP}\",NAME=\"{}\"",
            quoted(name)
        );
        if let Some(lang) = &track.language {
            let _ = write!(out, ",LANGUAGE=\"{}\"", quoted(lang));
        }
        // §4.3.4.1: DEFAULT=YES needs AUTOSELECT=YES; otherwise only the first rendition of
        // each language is chosen automatically (the rest — a second English track, one
        // without a language — only by hand).
        let auto = track.default || track.language.as_deref().is_some_and(|l| !autoselected.contains(&l));
        if let Some(lang) = track.language.as_deref().filter(|_| auto) {
            autoselected.push(lang);
        }
        let _ = writeln!(
            out,
            ",DEFAULT={},AUTOSELECT={},CHANNELS=\"2\",URI=\"{}/{}\"",
            yes_no(track.default),
            yes_no(auto),
            r.name,
            MEDIA_PLAYLIST
        );
    }
    let subtitle_names = unique(subtitles.iter().map(|t| t.name.as_str()));
    let mut autoselected: Vec<&str> = Vec::new();
    for (t, name) in subtitles.iter().zip(&subtitle_names) {
        // A forced track is picked by the audio's language, beside the full one of that
        // language (Apple HLS authoring spec: forced subtitles are AUTOSELECT=YES).
        let auto = t.lang != "und" && (t.forced || !autoselected.contains(&t.lang.as_str()));
        if auto && !t.forced {
            autoselected.push(&t.lang);
        }
        let forced = if t.forced { ",FORCED=YES" } else { "" };
        let _ = writeln!(
            out,
            "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"{SUBTITLE_GROUP}\",NAME=\"{}\",LANGUAGE=\"{}\",DEFAULT=NO,AUTOSELECT={}{forced},URI=\"{}/{}\"",
            quoted(name),
            quoted(&t.lang),
            yes_no(auto),
            t.dir,
            MEDIA_PLAYLIST
        );
    }
    for r in variants {
        let mut codecs = r.codecs.clone();
        if let Some(a) = audio.first()
            && !codecs.contains(&a.codecs)
        {
            codecs = format!("{codecs},{}", a.codecs);
        }
        let _ = write!(
            out,
            "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},CODECS=\"{codecs}\"",
            r.bandwidth + audio_peak,
            r.average_bandwidth + audio_average,
        );
        if !audio.is_empty() {
            let _ = write!(out, ",AUDIO=\"{AUDIO_GROUP}\"");
        }
        if !subtitles.is_empty() {
            let _ = write!(out, ",SUBTITLES=\"{SUBTITLE_GROUP}\"");
        }
        if let (Some(w), Some(h)) = (r.width, r.height) {
            let _ = write!(out, ",RESOLUTION={w}x{h}");
        }
        if let Some(fps) = r.frame_rate {
            let _ = write!(out, ",FRAME-RATE={fps:.3}");
        }
        let _ = write!(out, "\n{}/{}\n", r.name, MEDIA_PLAYLIST);
    }
    out
}

fn yes_no(b: bool) -> &'static str {
    if b { "YES" } else { "NO" }
}

/// `names` made unique in order (RFC 8216 §4.3.4.1.1: the renditions of a group have different
/// `NAME`s): a repeat becomes `English (2)`, `English (3)`…
pub fn unique<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for base in names {
        let mut name = base.to_string();
        let mut k = 2;
        while out.contains(&name) {
            name = format!("{base} ({k})");
            k += 1;
        }
        out.push(name);
    }
    out
}

/// A quoted-string attribute value (RFC 8216 §4.2): no `"`, CR or LF.
fn quoted(s: &str) -> String {
    s.chars().filter(|c| !matches!(c, '"' | '\r' | '\n')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtitle_renditions_are_a_group_every_variant_names() {
        let r = Rendition {
            name: "720p".into(),
            width: Some(1280),
            height: Some(720),
            bandwidth: 3_000_000,
            average_bandwidth: 2_000_000,
            codecs: "avc1.64001f,mp4a.40.2".into(),
            frame_rate: Some(30.0),
            duration: 10.0,
            bytes: 1,
            segments: 3,
            audio_track: None,
        };
        let subs = [SubtitleTrack {
            dir: "subs_1".into(),
            lang: "en".into(),
            name: "English \"CC\"".into(),
            forced: false,
        }];
        let m = write_multivariant_with(&[r], &subs);
        assert!(m.contains("#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English CC\",LANGUAGE=\"en\",DEFAULT=NO,AUTOSELECT=YES,URI=\"subs_1/index.m3u8\"\n"), "{m}");
        assert!(
            m.contains(",SUBTITLES=\"subs\"\n720p/index.m3u8\n") || m.contains("SUBTITLES=\"subs\""),
            "{m}"
        );
        let parsed = m3u8_rs::parse_master_playlist_res(m.as_bytes()).expect("a valid multivariant playlist");
        assert_eq!(parsed.alternatives.len(), 1);
        assert_eq!(parsed.variants[0].subtitles.as_deref(), Some("subs"));
    }

    #[test]
    fn audio_renditions_are_a_group_every_variant_names_and_counts() {
        let rendition = |name: &str, bw: u64, height: Option<u32>, codecs: &str| Rendition {
            name: name.into(),
            width: height.map(|h| h * 16 / 9),
            height,
            bandwidth: bw,
            average_bandwidth: bw / 2,
            codecs: codecs.into(),
            frame_rate: height.map(|_| 25.0),
            duration: 10.0,
            bytes: 1,
            segments: 3,
            audio_track: None,
        };
        let track = |language: Option<&str>, label: &str, default| {
            Some(crate::video::AudioTrack {
                language: language.map(String::from),
                label: label.into(),
                default,
            })
        };
        let mut en = rendition("audio_0", 140_000, None, AAC_LC);
        en.audio_track = track(Some("en"), "English", false);
        let mut fr = rendition("audio_1", 150_000, None, AAC_LC);
        fr.audio_track = track(Some("fr"), "French", true);
        let mut other = rendition("audio_2", 130_000, None, AAC_LC);
        other.audio_track = track(None, "Track 3", false);
        let video = rendition("720p", 2_000_000, Some(720), "avc1.64001f");
        let m = write_multivariant_with(&[video, en, fr, other], &[]);
        let parsed = m3u8_rs::parse_master_playlist_res(m.as_bytes()).expect("a valid multivariant playlist");
        assert_eq!(parsed.alternatives.len(), 3, "{m}");
        assert_eq!(
            parsed.variants.len(),
            1,
            "audio renditions are not variant streams: {m}"
        );
        let v = &parsed.variants[0];
        assert_eq!(v.audio.as_deref(), Some("aud"));
        assert_eq!(v.codecs.as_deref(), Some("avc1.64001f,mp4a.40.2"));
        assert_eq!(v.bandwidth, 2_150_000, "video peak plus the largest audio peak");
        assert_eq!(v.average_bandwidth, Some(1_075_000));
        assert!(m.contains("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"French\",LANGUAGE=\"fr\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"audio_1/index.m3u8\"\n"), "{m}");
        assert!(
            m.contains("NAME=\"Track 3\",DEFAULT=NO"),
            "no LANGUAGE when unknown: {m}"
        );
        let defaults = parsed.alternatives.iter().filter(|a| a.default).count();
        assert_eq!(defaults, 1);
        let auto: Vec<_> = parsed
            .alternatives
            .iter()
            .map(|a| (a.name.as_str(), a.autoselect))
            .collect();
        assert_eq!(auto, [("English", true), ("French", true), ("Track 3", false)]);
    }

    #[test]
    fn subtitle_names_are_unique_and_one_per_language_autoselects() {
        let track = |dir: &str, lang: &str, name: &str, forced| SubtitleTrack {
            dir: dir.into(),
            lang: lang.into(),
            name: name.into(),
            forced,
        };
        let subs = [
            track("subs_1", "en", "English", false),
            track("subs_2", "en", "English", false),
            track("subs_3", "und", "Subtitles 3", false),
            track("subs_4", "fr", "French (forced)", true),
            track("subs_5", "fr", "French", false),
        ];
        let m = write_multivariant_with(&[], &subs);
        let parsed = m3u8_rs::parse_master_playlist_res(m.as_bytes()).expect("parses");
        let got: Vec<_> = parsed
            .alternatives
            .iter()
            .map(|a| (a.name.as_str(), a.autoselect))
            .collect();
        assert_eq!(
            got,
            [
                ("English", true),
                ("English (2)", false),
                ("Subtitles 3", false),
                ("French (forced)", true),
                ("French", true)
            ],
            "{m}"
        );
        assert_eq!(m.matches("FORCED=YES").count(), 1, "{m}");
        assert!(
            m.contains("NAME=\"French (forced)\",LANGUAGE=\"fr\",DEFAULT=NO,AUTOSELECT=YES,FORCED=YES"),
            "{m}"
        );
    }

    #[test]
    fn avc_codec_string_comes_from_the_avcc_box() {
        let mut init = b"....moov....avc1....".to_vec();
        init.extend_from_slice(b"avcC\x01\x64\x00\x1f\xff");
        assert_eq!(avc_codec_string(&init).as_deref(), Some("avc1.64001f"));
        assert_eq!(avc_codec_string(b"no box here"), None);
    }

    #[test]
    fn target_duration_rounds_halves_up() {
        assert_eq!(required_target_duration([4.0, 1.28].into_iter()), 4);
        assert_eq!(required_target_duration([2.5].into_iter()), 3);
        assert_eq!(required_target_duration([4.004, 4.004, 0.3].into_iter()), 4);
        let fixed = set_target_duration("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.5,\na.m4s\n", 3);
        assert!(fixed.contains("#EXT-X-TARGETDURATION:3\n#EXTINF:2.5,"));
    }

    #[test]
    fn multivariant_playlist_lists_every_variant_with_measured_figures() {
        let r = |name: &str, bw, h| Rendition {
            name: name.into(),
            width: Some(h * 16 / 9),
            height: Some(h),
            bandwidth: bw,
            average_bandwidth: bw / 2,
            codecs: "avc1.64001f,mp4a.40.2".into(),
            frame_rate: Some(25.0),
            duration: 5.3,
            bytes: 1,
            segments: 2,
            audio_track: None,
        };
        let text = write_multivariant(&[r("720p", 3_484_768, 720), r("360p", 900_000, 360)]);
        let parsed = match m3u8_rs::parse_playlist_res(text.as_bytes()).unwrap() {
            m3u8_rs::Playlist::MasterPlaylist(m) => m,
            _ => panic!("not a multivariant playlist"),
        };
        assert_eq!(parsed.variants.len(), 2);
        assert_eq!(parsed.variants[0].uri, "360p/index.m3u8");
        assert_eq!(parsed.variants[1].bandwidth, 3_484_768);
        assert_eq!(parsed.variants[1].average_bandwidth, Some(1_742_384));
        assert!(text.contains("RESOLUTION=1280x720,FRAME-RATE=25.000"));
    }
}
