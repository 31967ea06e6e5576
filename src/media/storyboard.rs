//! Storyboards: the seek-bar previews of a video. A thumbnail every [`StoryboardPlan::interval`]
//! seconds, taken by ffmpeg's `fps` and `scale` filters in a branch of the ladder's own filter
//! graph (the source is decoded once), tiled into JPEG sprite sheets of [`COLUMNS`] × [`ROWS`]
//! by a second ffmpeg over those small thumbnails — and a WebVTT "thumbnails" track whose cues point into the sheets with media
//! fragments (`sprite_000.jpg#xywh=X,Y,W,H`, W3C Media Fragments URI §4.2.1), the form
//! Media Chrome, Video.js and JW Player read.
//!
//! Files, under the video's HLS prefix: `storyboard/sprite_NNN.jpg` and
//! `storyboard/thumbs.vtt` (served by the rendition route, so a grant covers them).

use std::fmt::Write;
use std::path::Path;

use crate::media::captions::vtt_time;
use crate::media::probe::MediaInfo;

/// The directory (a pseudo-rendition) holding the storyboard.
pub const DIR: &str = "storyboard";
/// The WebVTT thumbnails track.
pub const TRACK: &str = "thumbs.vtt";
/// The thumbnails the ladder's pass writes, one file each, before they are tiled.
pub const THUMB_PATTERN: &str = "thumb_%05d.jpg";
/// Thumbnails per sheet row and column.
pub const COLUMNS: u32 = 10;
pub const ROWS: u32 = 10;
/// Width of a thumbnail, pixels (landscape; portrait ones are this tall).
pub const THUMB_LONG_SIDE: u32 = 160;
/// Most thumbnails of one video: longer sources get a longer interval, so the sheets of a
/// two-hour film stay at 4 (≈ 300 KB).
pub const MAX_THUMBS: u32 = 400;

/// What to make for one video.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoryboardPlan {
    /// Seconds between thumbnails.
    pub interval: f64,
    /// Thumbnail size, pixels (even).
    pub width: u32,
    pub height: u32,
    /// Thumbnails in all: one at 0 s and one per interval after it while the video lasts.
    pub count: u32,
}

fn even(x: f64) -> u32 {
    ((x / 2.0).round() as u32).max(1) * 2
}

impl StoryboardPlan {
    /// The plan for a source, with thumbnails every `every_secs` at least (`ladder.storyboard_secs`);
    /// None without a picture, a duration, or with `every_secs` 0 (off).
    pub fn for_source(info: &MediaInfo, every_secs: f64) -> Option<StoryboardPlan> {
        let video = info.video.as_ref()?;
        if every_secs <= 0.0 || !info.duration.is_finite() || info.duration <= 0.0 {
            return None;
        }
        let (w, h) = (f64::from(video.display_width), f64::from(video.display_height));
        if w < 1.0 || h < 1.0 {
            return None;
        }
        let long = f64::from(THUMB_LONG_SIDE);
        let (width, height) = if w >= h {
            (even(long), even(long * h / w))
        } else {
            (even(long * w / h), even(long))
        };
        let interval = every_secs.max(info.duration / f64::from(MAX_THUMBS));
        // The `fps` filter's frames: at 0, interval, 2 × interval, … before the end.
        let count = ((info.duration / interval).ceil() as u32).max(1);
        Some(StoryboardPlan {
            interval,
            width,
            height,
            count,
        })
    }

    /// Sprite sheets the plan makes.
    pub fn sheets(&self) -> u32 {
        self.count.div_ceil(COLUMNS * ROWS)
    }

    /// The filter branch from a prepared picture to the sheets (`[in]…[out]` is the caller's).
    pub fn filter(&self) -> String {
        format!(
            "fps=1/{:.3}:round=down,scale={}:{}:flags=bicubic,setsar=1",
            self.interval, self.width, self.height
        )
    }

    /// The ffmpeg output arguments writing the sheets of the filter output `label` into
    /// `out_dir/storyboard/` (a second output of the ladder's command).
    pub fn output_args(&self, label: &str, out_dir: &Path) -> Vec<String> {
        vec![
            "-map".into(),
            format!("[{label}]"),
            "-c:v".into(),
            "mjpeg".into(),
            "-q:v".into(),
            "5".into(),
            "-an".into(),
            "-start_number".into(),
            "0".into(),
            "-f".into(),
            "image2".into(),
            out_dir.join(DIR).join(THUMB_PATTERN).display().to_string(),
        ]
    }

    /// The second, small step: ffmpeg tiles the thumbnails the ladder's pass wrote (one JPEG
    /// each, ~5 KB) into the sheets. Tiling inside the ladder's pass would hold its output back
    /// until a whole sheet is full, and ffmpeg reports no progress for a pass with an output
    /// that has not started.
    pub fn sheet_args(dir: &Path) -> Vec<String> {
        [
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-progress",
            "pipe:1",
            "-protocol_whitelist",
            "file",
            "-framerate",
            "1",
            "-start_number",
            "0",
            "-i",
        ]
        .into_iter()
        .map(String::from)
        .chain([
            dir.join(THUMB_PATTERN).display().to_string(),
            "-vf".into(),
            format!("tile={COLUMNS}x{ROWS}"),
            "-c:v".into(),
            "mjpeg".into(),
            "-q:v".into(),
            "5".into(),
            "-start_number".into(),
            "0".into(),
            "-f".into(),
            "image2".into(),
            dir.join("sprite_%03d.jpg").display().to_string(),
        ])
        .collect()
    }

    /// The WebVTT thumbnails track: one cue per thumbnail, its sheet and rectangle as a media
    /// fragment, times `HH:MM:SS.mmm` (WebVTT §4.1), the last cue ending at `duration`.
    pub fn vtt(&self, duration: f64) -> String {
        let mut out = String::from("WEBVTT\n\n");
        let per_sheet = COLUMNS * ROWS;
        for i in 0..self.count {
            let start = f64::from(i) * self.interval;
            let end = (start + self.interval).min(duration.max(start + 0.001));
            let (sheet, at) = (i / per_sheet, i % per_sheet);
            let (x, y) = ((at % COLUMNS) * self.width, (at / COLUMNS) * self.height);
            let _ = write!(
                out,
                "{} --> {}\nsprite_{sheet:03}.jpg#xywh={x},{y},{},{}\n\n",
                vtt_time(start),
                vtt_time(end),
                self.width,
                self.height
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(duration: f64, w: u32, h: u32, every: f64) -> Option<StoryboardPlan> {
        let info = MediaInfo {
            format_name: "mov".into(),
            duration,
            video: Some(crate::media::probe::VideoStream {
                display_width: w,
                display_height: h,
                frame_rate: 30.0,
                ..Default::default()
            }),
            audio: None,
            audio_streams: Vec::new(),
            subtitles: Vec::new(),
            bit_rate: None,
        };
        StoryboardPlan::for_source(&info, every)
    }

    #[test]
    fn thumbnails_keep_the_picture_shape_and_long_videos_fewer_of_them() {
        let p = plan(25.0, 1280, 720, 2.0).unwrap();
        assert_eq!((p.width, p.height, p.interval, p.count), (160, 90, 2.0, 13));
        assert_eq!(p.sheets(), 1);
        let portrait = plan(25.0, 720, 1280, 2.0).unwrap();
        assert_eq!((portrait.width, portrait.height), (90, 160));
        // Two hours: capped at 400 thumbnails, 18 s apart, four sheets.
        let film = plan(7200.0, 1920, 1080, 2.0).unwrap();
        assert_eq!((film.interval, film.count, film.sheets()), (18.0, 400, 4));
        assert!(plan(25.0, 1280, 720, 0.0).is_none(), "0 turns storyboards off");
    }

    #[test]
    fn cues_point_into_their_sheet() {
        let p = StoryboardPlan {
            interval: 2.0,
            width: 160,
            height: 90,
            count: 102,
        };
        let vtt = p.vtt(203.5);
        assert!(vtt.starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nsprite_000.jpg#xywh=0,0,160,90\n"));
        // The 12th thumbnail: row 1, column 1.
        assert!(
            vtt.contains("00:00:22.000 --> 00:00:24.000\nsprite_000.jpg#xywh=160,90,160,90\n"),
            "{vtt}"
        );
        // The 101st starts the second sheet; the last ends with the video.
        assert!(
            vtt.contains("00:03:20.000 --> 00:03:22.000\nsprite_001.jpg#xywh=0,0,160,90\n"),
            "{vtt}"
        );
        assert!(
            vtt.ends_with("00:03:22.000 --> 00:03:23.500\nsprite_001.jpg#xywh=160,0,160,90\n\n"),
            "{vtt}"
        );
    }
}
