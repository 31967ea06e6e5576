//! Captions: WebVTT (W3C WebVTT §4) and SubRip (SRT) files read into cues, written back as
//! WebVTT, and packaged as an HLS subtitle rendition (RFC 8216 §3.5 and §4.3.4.1): a media
//! playlist of WebVTT segments, each with the `X-TIMESTAMP-MAP` header that ties its times to
//! the media timeline (Kino's fMP4 segments start at 0, so `MPEGTS:0` ↔ `LOCAL:0`).
//!
//! Only what players use is kept: cue timings and text (with WebVTT's inline tags as they
//! are); cue settings are kept on WebVTT input; `NOTE`, `STYLE` and `REGION` blocks are dropped.

use std::fmt::Write;

use crate::media::probe::SubtitleStream;

/// Longest caption file accepted, bytes.
pub const MAX_BYTES: usize = 1024 * 1024;
/// Seconds per subtitle segment (Apple's HLS authoring spec: 6 s segments).
pub const SEGMENT_SECS: f64 = 6.0;
/// The subtitle rendition's media playlist.
pub const PLAYLIST: &str = "index.m3u8";
/// The whole track as one WebVTT file (for downloads and sidecar `<track>` use).
pub const WHOLE: &str = "captions.vtt";

/// One cue: seconds, its settings (WebVTT only) and text lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    pub start: f64,
    pub end: f64,
    pub settings: String,
    pub text: String,
}

/// A caption file that cannot be read, with the 1-based line where reading stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {why}")]
pub struct CaptionError {
    pub line: usize,
    pub why: String,
}

fn error(line: usize, why: impl Into<String>) -> CaptionError {
    CaptionError { line, why: why.into() }
}

/// Reads a WebVTT or SRT file (told apart by the `WEBVTT` signature; UTF-8, a BOM allowed).
///
/// Errors: not UTF-8, a malformed timing line, a cue ending before it starts, or no cue at
/// all, each naming its line.
pub fn parse(bytes: &[u8]) -> Result<Vec<Cue>, CaptionError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
        error(line, "the file is not UTF-8 text")
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let vtt = text.starts_with("WEBVTT")
        && text[6..]
            .chars()
            .next()
            .is_none_or(|c| c == ' ' || c == '\t' || c == '\n' || c == '\r');
    let lines: Vec<&str> = text.lines().collect();
    let mut cues = Vec::new();
    let mut i = if vtt { 1 } else { 0 };
    // WebVTT: the header runs to the first blank line.
    if vtt {
        while i < lines.len() && !lines[i].trim().is_empty() {
            i += 1;
        }
    }
    while i < lines.len() {
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        // A block: an optional identifier (SRT: the cue number), the timing line, the text.
        let block_start = i;
        let first = lines[i].trim();
        if vtt && (first.starts_with("NOTE") || first == "STYLE" || first == "REGION") {
            while i < lines.len() && !lines[i].trim().is_empty() {
                i += 1;
            }
            continue;
        }
        if !first.contains("-->") {
            i += 1;
        }
        let Some(timing) = lines.get(i).filter(|l| l.contains("-->")) else {
            return Err(error(
                block_start + 1,
                format!(
                    "expected a cue timing line like `00:00:01.000 --> 00:00:03.500`, found {:?}",
                    lines[block_start]
                ),
            ));
        };
        let (start, end, settings) = parse_timing(timing, vtt).map_err(|why| error(i + 1, why))?;
        if end < start {
            return Err(error(i + 1, "the cue ends before it starts"));
        }
        i += 1;
        let mut body = Vec::new();
        while i < lines.len() && !lines[i].trim().is_empty() {
            body.push(lines[i].trim_end());
            i += 1;
        }
        cues.push(Cue {
            start,
            end,
            settings,
            text: body.join("\n"),
        });
    }
    if cues.is_empty() {
        return Err(error(lines.len().max(1), "the file holds no cue"));
    }
    cues.sort_by(|a, b| a.start.total_cmp(&b.start));
    Ok(cues)
}

/// `start --> end [settings]`: WebVTT uses `.` before milliseconds and may omit hours; SRT
/// uses `,` (a `.` is accepted too, as many files have it).
fn parse_timing(line: &str, vtt: bool) -> Result<(f64, f64, String), String> {
    let (a, rest) = line.split_once("-->").ok_or("no `-->` in the timing line")?;
    let rest = rest.trim();
    let (b, settings) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let start = timestamp(a.trim()).ok_or_else(|| format!("{:?} is not a time like 00:01:02.500", a.trim()))?;
    let end = timestamp(b).ok_or_else(|| format!("{b:?} is not a time like 00:01:02.500"))?;
    Ok((
        start,
        end,
        if vtt {
            settings.trim().to_string()
        } else {
            String::new()
        },
    ))
}

/// `[HH:]MM:SS.mmm` or `HH:MM:SS,mmm` → seconds.
fn timestamp(s: &str) -> Option<f64> {
    let s = s.replace(',', ".");
    let (clock, ms) = s.split_once('.')?;
    if ms.len() != 3 || !ms.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parts: Vec<&str> = clock.split(':').collect();
    let num =
        |p: &str| -> Option<f64> { (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())).then(|| p.parse().ok())? };
    let (h, m, sec) = match parts.as_slice() {
        [m, s] => (0.0, num(m)?, num(s)?),
        [h, m, s] => (num(h)?, num(m)?, num(s)?),
        _ => return None,
    };
    if m >= 60.0 || sec >= 60.0 {
        return None;
    }
    Some(h * 3600.0 + m * 60.0 + sec + ms.parse::<f64>().ok()? / 1000.0)
}

/// A WebVTT timestamp, `HH:MM:SS.mmm` (WebVTT §4.1).
pub fn vtt_time(secs: f64) -> String {
    let ms = (secs.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

fn write_cues<'a>(out: &mut String, cues: impl Iterator<Item = &'a Cue>) {
    for c in cues {
        let _ = write!(out, "{} --> {}", vtt_time(c.start), vtt_time(c.end));
        if !c.settings.is_empty() {
            let _ = write!(out, " {}", c.settings);
        }
        // A blank line would end the cue early; "-->" in text would read as a timing line.
        let text = c.text.replace("-->", "--&gt;");
        let _ = write!(out, "\n{text}\n\n");
    }
}

/// The whole track as one WebVTT file.
pub fn to_vtt(cues: &[Cue]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    write_cues(&mut out, cues.iter());
    out
}

/// The HLS subtitle rendition of `cues` for a video of `duration` seconds: the media playlist
/// and its segments `(file name, WebVTT)`, one per [`SEGMENT_SECS`] of the video; a cue is in
/// every segment it overlaps (RFC 8216 §3.5 allows the repeat; players drop duplicates).
pub fn segments(cues: &[Cue], duration: f64) -> (String, Vec<(String, String)>) {
    let count = ((duration / SEGMENT_SECS).ceil() as usize).max(1);
    let mut files = Vec::with_capacity(count);
    let mut playlist = format!(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n",
        SEGMENT_SECS as u64
    );
    for n in 0..count {
        let from = n as f64 * SEGMENT_SECS;
        let to = if n + 1 == count {
            duration.max(from)
        } else {
            from + SEGMENT_SECS
        };
        let mut body = String::from("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n");
        write_cues(&mut body, cues.iter().filter(|c| c.end > from && c.start < to));
        let name = format!("seg_{n:05}.vtt");
        let _ = write!(playlist, "#EXTINF:{:.3},\n{name}\n", to - from);
        files.push((name, body));
    }
    playlist.push_str("#EXT-X-ENDLIST\n");
    (playlist, files)
}

/// ffmpeg arguments that write each text subtitle stream of `input` as WebVTT,
/// `out_dir/<stream index>.vtt` (ffmpeg converts SubRip, mov_text and ASS/SSA, dropping ASS
/// styling), in one run that demuxes the source without decoding its pictures.
pub fn extract_args(input: &std::path::Path, out_dir: &std::path::Path, streams: &[SubtitleStream]) -> Vec<String> {
    let mut a = crate::media::transcode::input_args(input, false);
    for s in streams {
        a.extend([
            "-map".into(),
            format!("0:{}", s.index),
            "-c:s".into(),
            "webvtt".into(),
            "-f".into(),
            "webvtt".into(),
            out_dir.join(format!("{}.vtt", s.index)).display().to_string(),
        ]);
    }
    a
}

/// The captions-menu label of a source subtitle stream: its title, else its language's name,
/// else `Subtitles <n>` (`n` from 1); "(forced)" added for a forced stream.
pub fn embedded_label(stream: &SubtitleStream, n: usize) -> String {
    let base = crate::media::language::track_label(stream.title.as_deref(), stream.language.as_deref(), || {
        format!("Subtitles {n}")
    });
    let label = if stream.forced {
        format!("{base} (forced)")
    } else {
        base
    };
    label.chars().take(50).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRT: &str = "1\n00:00:01,000 --> 00:00:02,500\nHello, <i>world</i>.\n\n2\n00:00:05,000 --> 00:00:07,000\nTwo lines\nof text\n";

    #[test]
    fn srt_becomes_webvtt() {
        let cues = parse(SRT.as_bytes()).unwrap();
        assert_eq!(cues.len(), 2);
        assert_eq!((cues[0].start, cues[0].end), (1.0, 2.5));
        assert_eq!(cues[1].text, "Two lines\nof text");
        assert_eq!(
            to_vtt(&cues),
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHello, <i>world</i>.\n\n00:00:05.000 --> 00:00:07.000\nTwo lines\nof text\n\n"
        );
    }

    #[test]
    fn webvtt_keeps_settings_and_drops_notes() {
        let vtt = "\u{feff}WEBVTT - a title\nKind: captions\n\nNOTE made by hand\n\nintro\n01:02.000 --> 01:04.250 align:start line:0\n<v Ann>Hi\n\nSTYLE\n::cue { color: red }\n";
        let cues = parse(vtt.as_bytes()).unwrap();
        assert_eq!(cues.len(), 1);
        assert_eq!((cues[0].start, cues[0].end), (62.0, 64.25));
        assert_eq!(cues[0].settings, "align:start line:0");
        assert_eq!(cues[0].text, "<v Ann>Hi");
    }

    #[test]
    fn errors_name_the_line() {
        let bad = "1\n00:00:01,000 --> 00:00:02,500\nfine\n\n2\n00:00:03,000 -> 00:00:04,000\nbroken\n";
        let e = parse(bad.as_bytes()).unwrap_err();
        assert_eq!(e.line, 5, "{e}");
        let e = parse(b"WEBVTT\n\n00:00:05.000 --> 00:00:04.000\nbackwards\n").unwrap_err();
        assert_eq!((e.line, e.why.as_str()), (3, "the cue ends before it starts"));
        let e = parse(b"WEBVTT\n\n00:00:01.5 --> 00:00:02.000\nx\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.why.contains("00:00:01.5"), "{e}");
        assert_eq!(parse(b"WEBVTT\n\n").unwrap_err().why, "the file holds no cue");
        assert_eq!(parse(b"ok\n\xff\xfe").unwrap_err().line, 2);
        assert!(
            parse(b"just some text\nand more\n")
                .unwrap_err()
                .why
                .starts_with("expected a cue timing line")
        );
    }

    #[test]
    fn segments_cover_the_video_and_repeat_straddling_cues() {
        let cues =
            parse(b"WEBVTT\n\n00:00:05.000 --> 00:00:07.000\nacross\n\n00:00:13.000 --> 00:00:14.000\nlate\n").unwrap();
        let (playlist, files) = segments(&cues, 14.5);
        assert_eq!(files.len(), 3);
        assert!(playlist.contains("#EXT-X-TARGETDURATION:6\n"));
        assert!(playlist.contains("#EXTINF:6.000,\nseg_00000.vtt\n#EXTINF:6.000,\nseg_00001.vtt\n#EXTINF:2.500,\nseg_00002.vtt\n#EXT-X-ENDLIST\n"), "{playlist}");
        for (_, body) in &files {
            assert!(body.starts_with("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n"));
        }
        assert!(files[0].1.contains("across") && files[1].1.contains("across"));
        assert!(!files[1].1.contains("late") && files[2].1.contains("late"));
    }

    #[test]
    fn source_subtitle_streams_are_extracted_as_webvtt_in_one_run() {
        let stream = |index, language: Option<&str>, title: Option<&str>, forced| SubtitleStream {
            index,
            codec: "subrip".into(),
            language: language.map(String::from),
            title: title.map(String::from),
            forced,
        };
        let streams = [stream(2, Some("en"), None, false), stream(3, None, None, true)];
        let args = extract_args(std::path::Path::new("/s/src"), std::path::Path::new("/o"), &streams);
        let outputs: Vec<_> = args.iter().filter(|a| a.ends_with(".vtt")).collect();
        assert_eq!(outputs, ["/o/2.vtt", "/o/3.vtt"]);
        assert!(args.windows(2).any(|w| w[0] == "-map" && w[1] == "0:3"));
        assert_eq!(embedded_label(&streams[0], 1), "English");
        assert_eq!(embedded_label(&streams[1], 2), "Subtitles 2 (forced)");
        assert_eq!(
            embedded_label(&stream(4, Some("fr"), Some("Director"), false), 3),
            "Director"
        );
    }
}
