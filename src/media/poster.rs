//! The poster image: a representative frame (ffmpeg's `thumbnail` filter picks the frame
//! closest to the average histogram of a run of frames, which skips black fades and flashes),
//! taken a fifth of the way in, prepared like the renditions (rotation, HDR tone mapping,
//! deinterlacing) and scaled to at most 640 pixels wide, as JPEG.

use std::path::Path;
use std::time::Duration;

use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use crate::media::ladder::Ladder;
use crate::media::probe::MediaInfo;
use crate::media::process::{self, INPUT_GUARD, ProcessError};
use crate::media::transcode::prepare_filter;

/// File name of the poster.
pub const POSTER: &str = "poster.jpg";

/// Seconds into the source where the poster search starts: 20 % in, at most 30 s.
pub fn poster_seek(duration: f64) -> f64 {
    (duration * 0.2).min(30.0)
}

/// ffmpeg arguments writing the poster of `input` to `output`.
pub fn poster_args(input: &Path, output: &Path, info: &MediaInfo, ladder: &Ladder, seek: f64) -> Vec<String> {
    let mut filters = prepare_filter(info, ladder);
    filters.push("thumbnail=n=48".into());
    filters.push("scale='min(640,iw)':-2:flags=bicubic,format=yuvj420p".into());
    let mut a: Vec<String> = ["-hide_banner", "-nostdin", "-v", "error", "-ss", &format!("{seek:.3}")]
        .map(String::from)
        .to_vec();
    a.extend(INPUT_GUARD.map(String::from));
    a.extend(["-i".into(), input.display().to_string()]);
    if let Some(v) = &info.video {
        a.extend(["-map".into(), format!("0:{}", v.index)]);
    }
    a.extend([
        "-vf".into(),
        filters.join(","),
        "-frames:v".into(),
        "1".into(),
        "-q:v".into(),
        "3".into(),
        "-y".into(),
    ]);
    a.push(output.display().to_string());
    a
}

/// Writes the poster; retries from the start of the file when the seek point yields no frame.
///
/// Errors: [`ProcessError`] when no frame could be extracted at all.
pub async fn make_poster(
    ffmpeg: &Path,
    input: &Path,
    output: &Path,
    info: &MediaInfo,
    ladder: &Ladder,
    cancel: &CancellationToken,
) -> Result<(), ProcessError> {
    let mut last = None;
    for seek in [poster_seek(info.duration), 0.0] {
        let mut cmd = Command::new(ffmpeg);
        cmd.args(poster_args(input, output, info, ladder, seek));
        match process::run(cmd, Duration::from_secs(120), cancel, None).await {
            Ok(_) if tokio::fs::metadata(output).await.map(|m| m.len() > 0).unwrap_or(false) => {
                return Ok(());
            }
            Ok(_) => {}
            Err(e @ ProcessError::Cancelled { .. }) => return Err(e),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or(ProcessError::Failed {
        program: ffmpeg.display().to_string(),
        status: "no frame".into(),
        stderr: "no frame could be decoded for the poster".into(),
    }))
}
