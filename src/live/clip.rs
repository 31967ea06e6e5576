//! Clips of a replay without re-encoding: the segments covering a time range are copied
//! (hard links on the local store, server-side copies on S3) under a new video, which gets
//! its own `VOD` playlists, multivariant playlist and poster and is `ready` at once. Cuts are
//! segment-aligned: the clip starts at the segment holding `start_secs` and ends with the one
//! holding `end_secs`, so with 1 s live segments a clip is at most a second longer at each end.

use anyhow::Context;

use super::LiveHub;
use super::playlist::{self, LiveSegment, Window};
use crate::db::{NewVideo, VideoRecord};
use crate::media::playlist::{MULTIVARIANT_PLAYLIST, required_target_duration, write_multivariant};
use crate::media::transcode::MEDIA_PLAYLIST;
use crate::storage::keys;
use crate::video::Rendition;

/// Why a clip cannot be cut.
#[derive(Debug, thiserror::Error)]
pub enum ClipError {
    /// The range is empty, negative or past the end; the sentence says which.
    #[error("{0}")]
    Range(String),
    /// The video has no segment index (it was not a live stream).
    #[error("only the replay of a live stream can be clipped without re-encoding")]
    NotAReplay,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The segments of `all` that cover `[start, end)` seconds of the timeline, renumbered from 0
/// with their program date-times kept. `None` when the range covers none.
pub fn select(all: &[LiveSegment], start: f64, end: f64) -> Option<Vec<LiveSegment>> {
    let mut at = 0.0;
    let mut out = Vec::new();
    for s in all {
        let (from, to) = (at, at + s.duration);
        at = to;
        if to > start && from < end {
            let mut s = s.clone();
            s.discontinuity = s.discontinuity && !out.is_empty();
            s.seq = out.len() as u64;
            out.push(s);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Cuts `[start_secs, end_secs)` of replay `source` into the new video `clip` (already
/// validated: title, owner, privacy). Returns its duration in seconds.
///
/// Errors: [`ClipError::Range`] for a range outside the video, [`ClipError::NotAReplay`],
/// or a store or database failure (what was copied is removed again).
pub async fn cut(
    hub: &LiveHub,
    source: &VideoRecord,
    clip: &NewVideo,
    start_secs: f64,
    end_secs: f64,
) -> Result<f64, ClipError> {
    if !(start_secs >= 0.0 && end_secs > start_secs) {
        return Err(ClipError::Range("start_secs must be ≥ 0 and below end_secs".into()));
    }
    let result = copy(hub, source, clip, start_secs, end_secs).await;
    if result.is_err() {
        let _ = hub.store.delete_prefix(&keys::derived_prefix(&clip.id)).await;
    }
    result
}

async fn copy(
    hub: &LiveHub,
    source: &VideoRecord,
    clip: &NewVideo,
    start_secs: f64,
    end_secs: f64,
) -> Result<f64, ClipError> {
    let mut renditions: Vec<Rendition> = Vec::new();
    let mut indexes = Vec::new();
    for r in &source.renditions {
        let all = hub
            .db
            .live_segments(&source.id, &r.name)
            .await
            .map_err(anyhow::Error::from)?;
        if all.is_empty() {
            return Err(ClipError::NotAReplay);
        }
        let Some(chosen) = select(&all, start_secs, end_secs) else {
            return Err(ClipError::Range(format!(
                "the range starts after the end of the video ({:.1} s)",
                all.iter().map(|s| s.duration).sum::<f64>()
            )));
        };
        let mut inits = Vec::new();
        for (old, new) in all
            .iter()
            .filter(|s| overlaps(&all, s, start_secs, end_secs))
            .zip(&chosen)
        {
            if !inits.contains(&new.init) {
                let from = keys::hls(&source.id, &format!("{}/{}", r.name, new.init));
                let to = keys::hls(&clip.id, &format!("{}/{}", r.name, new.init));
                hub.store
                    .copy(&from, &to)
                    .await
                    .context("cannot copy an init segment")?;
                inits.push(new.init.clone());
            }
            let from = keys::hls(
                &source.id,
                &format!("{}/{}", r.name, playlist::segment_file(old.session, old.seq)),
            );
            let to = keys::hls(
                &clip.id,
                &format!("{}/{}", r.name, playlist::segment_file(new.session, new.seq)),
            );
            hub.store.copy(&from, &to).await.context("cannot copy a segment")?;
        }
        let target = required_target_duration(chosen.iter().map(|s| s.duration));
        hub.store
            .put_bytes(
                &keys::hls(&clip.id, &format!("{}/{MEDIA_PLAYLIST}", r.name)),
                playlist::media_playlist(&chosen, target, Window::Replay, 0),
            )
            .await
            .context("cannot store a clip's playlist")?;
        renditions.push(super::measured(r, &chosen));
        indexes.push((r.name.clone(), chosen));
    }
    if renditions.is_empty() {
        return Err(ClipError::NotAReplay);
    }
    hub.store
        .put_bytes(
            &keys::hls(&clip.id, MULTIVARIANT_PLAYLIST),
            write_multivariant(&renditions),
        )
        .await
        .context("cannot store a clip's multivariant playlist")?;
    let duration = renditions.iter().map(|r| r.duration).fold(0.0, f64::max);
    let json = serde_json::to_string(&renditions).map_err(anyhow::Error::from)?;
    hub.db
        .insert_clip(clip, &json, duration, &indexes)
        .await
        .map_err(anyhow::Error::from)?;
    if super::poster(hub, &clip.id, &renditions).await.is_ok() {
        hub.db.set_poster(&clip.id).await.map_err(anyhow::Error::from)?;
    }
    Ok(duration)
}

/// True when segment `s` of `all` overlaps `[start, end)`.
fn overlaps(all: &[LiveSegment], s: &LiveSegment, start: f64, end: f64) -> bool {
    let from: f64 = all.iter().take_while(|x| x.seq != s.seq).map(|x| x.duration).sum();
    from + s.duration > start && from < end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(seq: u64, init: &str, discontinuity: bool) -> LiveSegment {
        LiveSegment {
            seq,
            session: 1,
            duration: 1.0,
            bytes: 10,
            init: init.into(),
            discontinuity,
            program_date_time_ms: seq as i64 * 1000,
        }
    }

    #[test]
    fn a_range_selects_the_segments_covering_it_renumbered() {
        let all: Vec<_> = (0..10).map(|i| seg(i, "init-1.mp4", i == 5)).collect();
        let got = select(&all, 2.5, 5.2).unwrap();
        assert_eq!(got.iter().map(|s| s.seq).collect::<Vec<_>>(), [0, 1, 2, 3]);
        assert_eq!(got[0].program_date_time_ms, 2000, "the first kept is segment 2");
        assert!(got[3].discontinuity, "a discontinuity inside the clip stays");
        let got = select(&all, 5.0, 6.0).unwrap();
        assert_eq!(got.len(), 1);
        assert!(!got[0].discontinuity, "a clip starting on one needs none");
        assert!(select(&all, 10.0, 12.0).is_none());
    }
}
