//! Caption tracks as published media: each track (uploaded by the owner through
//! `/api/videos/{id}/captions`, or extracted from the source's own text subtitle streams by
//! the transcode job) is an HLS subtitle rendition `subs_<id>/` — WebVTT segments, their media
//! playlist and the whole track as one file — listed in the video's multivariant playlist.
//! Both writers go through here, so the playlist always lists every track the database has.

use anyhow::Context;

use crate::db::Db;
use crate::media::captions::{self, Cue};
use crate::media::playlist::{self, MULTIVARIANT_PLAYLIST, SubtitleTrack};
use crate::storage::{BlobStore, keys};
use crate::video::Rendition;

/// Most caption tracks of one video (uploads past it get 409; a source's streams past it are
/// not extracted).
pub const MAX_TRACKS: usize = 20;

/// The directory of caption track `id` under the video's ladder.
pub fn dir(id: i64) -> String {
    format!("subs_{id}")
}

/// Stores caption track `id` of `video_id`: its WebVTT segments, then its media playlist,
/// then the whole track (`captions.vtt`). `duration`: the video's, in seconds (the playlist
/// covers all of it).
///
/// Errors: a store write failed.
pub async fn publish_track(
    store: &BlobStore,
    video_id: &str,
    id: i64,
    cues: &[Cue],
    duration: f64,
) -> anyhow::Result<()> {
    let (media_playlist, segments) = captions::segments(cues, duration);
    let base = dir(id);
    let files = segments.into_iter().chain([
        (captions::PLAYLIST.to_string(), media_playlist),
        (captions::WHOLE.to_string(), captions::to_vtt(cues)),
    ]);
    for (name, body) in files {
        store
            .put_bytes(&keys::hls(video_id, &format!("{base}/{name}")), body)
            .await
            .with_context(|| format!("cannot store caption file {base}/{name}"))?;
    }
    Ok(())
}

/// The subtitle renditions of `video_id`'s multivariant playlist: every caption track, oldest
/// first.
pub async fn subtitle_tracks(db: &Db, video_id: &str) -> anyhow::Result<Vec<SubtitleTrack>> {
    Ok(db
        .captions(video_id)
        .await
        .context("cannot read the caption tracks")?
        .into_iter()
        .map(|c| SubtitleTrack {
            dir: dir(c.id),
            lang: c.lang,
            name: c.label,
            forced: c.forced,
        })
        .collect())
}

/// Writes `video_id`'s multivariant playlist for `renditions` with all its caption tracks.
///
/// Errors: reading the tracks or the store write failed.
pub async fn publish_multivariant(
    db: &Db,
    store: &BlobStore,
    video_id: &str,
    renditions: &[Rendition],
) -> anyhow::Result<()> {
    let tracks = subtitle_tracks(db, video_id).await?;
    store
        .put_bytes(
            &keys::hls(video_id, MULTIVARIANT_PLAYLIST),
            playlist::write_multivariant_with(renditions, &tracks),
        )
        .await
        .context("cannot store the multivariant playlist")
}
