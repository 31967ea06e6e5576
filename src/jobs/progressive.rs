//! Publishes one rendition while ffmpeg is still writing it ("playable first"): each time
//! ffmpeg renames a new media playlist into place, the segments it lists that are not yet in
//! the blob store are stored (init segment first), then the playlist itself, so a player
//! never sees a segment listed before its bytes exist.
//!
//! The published playlist is ffmpeg's `EVENT` playlist (RFC 8216 §4.3.3.5: segments are only
//! ever appended) with one change: `EXT-X-TARGETDURATION` never goes down between two
//! versions (it starts at the rendition's expected segment length), because a client may not
//! expect it to change (RFC 8216 §6.2.1).

use std::path::PathBuf;

use anyhow::Context;

use super::WorkerContext;
use crate::media::playlist::{self, Picture};
use crate::media::transcode::MEDIA_PLAYLIST;
use crate::storage::keys;
use crate::video::Rendition;

/// The publishing state of one growing rendition.
pub struct ProgressiveRendition {
    video_id: String,
    /// Variant name, e.g. `source` or `360p`.
    name: String,
    /// Local directory ffmpeg writes into.
    dir: PathBuf,
    picture: Option<Picture>,
    has_audio: bool,
    /// Media segments already in the blob store.
    published: usize,
    /// Target duration (seconds) of the last published playlist; never lowered.
    target: u64,
    /// The first publication has been reported by [`ProgressiveRendition::sync`].
    reported: bool,
}

impl ProgressiveRendition {
    /// `expected_segment_secs` is the longest segment the rendition should have (the ladder's
    /// segment length, or a passthrough source's keyframe spacing): the first target duration.
    pub fn new(
        video_id: &str,
        name: &str,
        dir: PathBuf,
        picture: Option<Picture>,
        has_audio: bool,
        expected_segment_secs: f64,
    ) -> Self {
        ProgressiveRendition {
            video_id: video_id.to_string(),
            name: name.to_string(),
            dir,
            picture,
            has_audio,
            published: 0,
            target: playlist::required_target_duration(std::iter::once(expected_segment_secs)),
            reported: false,
        }
    }

    /// Segments published so far.
    pub fn published(&self) -> usize {
        self.published
    }

    /// Publishes what ffmpeg added since the last call. Returns the figures of what is
    /// published the first time anything is (the rendition has become playable), `None`
    /// otherwise.
    ///
    /// Errors: the blob store refused a write, or a listed file is missing.
    pub async fn sync(&mut self, ctx: &WorkerContext) -> anyhow::Result<Option<Rendition>> {
        let Some(list) = self.publish(ctx, false).await? else {
            return Ok(None);
        };
        if self.reported {
            return Ok(None);
        }
        self.reported = true;
        playlist::figures(&self.dir, &self.name, self.picture, self.has_audio, &list).map(Some)
    }

    /// Publishes the finished rendition: any segments not yet stored, then its final playlist
    /// (`#EXT-X-ENDLIST`, as [`playlist::measure`] left it), with a target duration no lower
    /// than any version before.
    ///
    /// Errors: the playlist is missing or unparsable, the blob store refused a write, or a
    /// listed file is missing.
    pub async fn finish(&mut self, ctx: &WorkerContext) -> anyhow::Result<()> {
        self.publish(ctx, true)
            .await?
            .map(|_| ())
            .context("the finished media playlist is missing or does not parse")
    }

    /// Reads ffmpeg's current playlist and, when it lists new segments (or `always`), stores
    /// them and then the playlist with a target duration that never went down. Returns the
    /// playlist when it was published.
    async fn publish(&mut self, ctx: &WorkerContext, always: bool) -> anyhow::Result<Option<m3u8_rs::MediaPlaylist>> {
        let text = match tokio::fs::read(self.dir.join(MEDIA_PLAYLIST)).await {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).context("cannot read a growing media playlist"),
        };
        let Ok(m3u8_rs::Playlist::MediaPlaylist(list)) = m3u8_rs::parse_playlist_res(&text) else {
            tracing::warn!(
                video_id = self.video_id,
                rendition = self.name,
                "growing media playlist does not parse; skipped"
            );
            return Ok(None);
        };
        if list.segments.len() <= self.published && !always {
            return Ok(None);
        }
        if self.published == 0
            && let Some(map) = list.segments.iter().find_map(|s| s.map.as_ref())
        {
            self.put(ctx, &map.uri).await?;
        }
        for seg in list.segments.iter().skip(self.published) {
            self.put(ctx, &seg.uri).await?;
        }
        self.published = self.published.max(list.segments.len());
        let needed = playlist::required_target_duration(list.segments.iter().map(|s| f64::from(s.duration)));
        if needed > self.target {
            tracing::warn!(
                video_id = self.video_id,
                rendition = self.name,
                from = self.target,
                to = needed,
                "a segment outgrew the target duration of a growing playlist"
            );
        }
        self.target = self.target.max(needed).max(list.target_duration);
        let published = playlist::set_target_duration(&String::from_utf8_lossy(&text), self.target);
        ctx.store
            .put_bytes(
                &keys::hls(&self.video_id, &format!("{}/{MEDIA_PLAYLIST}", self.name)),
                published,
            )
            .await
            .context("cannot store a media playlist")?;
        Ok(Some(list))
    }

    async fn put(&self, ctx: &WorkerContext, file: &str) -> anyhow::Result<()> {
        ctx.store
            .put_file(
                &keys::hls(&self.video_id, &format!("{}/{file}", self.name)),
                &self.dir.join(file),
            )
            .await
            .with_context(|| format!("cannot store {}/{file}", self.name))
            .map(|_| ())
    }
}
