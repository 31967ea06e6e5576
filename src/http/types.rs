//! The shapes the API answers with that several handlers share — a video as a caller sees it
//! ([`VideoView`], with [`MediaUrls`]), a page of videos ([`VideoList`]), paging
//! ([`ListQuery`], [`Paging`]) — and the text rules of their fields.

use std::net::IpAddr;

use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::app::AppState;
use crate::auth::{Principal, Privacy, playback, policy};
use crate::db::{VideoListing, VideoRecord, VideoStatus, now_ms};
use crate::http::error::ApiError;
use crate::video::Rendition;

/// A video as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VideoView {
    pub id: String,
    pub title: String,
    pub description: String,
    pub status: VideoStatus,
    /// Percent, 0–100.
    pub progress: f64,
    pub error: Option<String>,
    /// Seconds.
    pub duration: Option<f64>,
    /// The renditions published so far: the whole ladder once `ready`; while `processing`,
    /// the first rendition when it is `playable` (a remux named `source`, or the lowest rung).
    pub renditions: Vec<Rendition>,
    /// True when `hls_url` plays: `ready`, or `processing` with a first rendition published.
    pub playable: bool,
    /// URL of the multivariant playlist, once playable.
    pub hls_url: Option<String>,
    pub poster_url: Option<String>,
    /// Seek-bar previews: a WebVTT thumbnails track (cues `sprite_000.jpg#xywh=X,Y,W,H`, W3C
    /// Media Fragments), signed like `hls_url`; null until the ladder is done, or when none was
    /// made (`ladder.storyboard_secs` 0, no picture).
    pub storyboard: Option<String>,
    /// URL of the original upload (supports Range); null when the caller may not watch, and for
    /// live streams and clips, which have none.
    pub download_url: Option<String>,
    /// Bytes of the original upload.
    pub source_bytes: i64,
    /// RFC 3339.
    pub created_at: String,
    pub privacy: Privacy,
    /// Username of the uploader; null for operator imports.
    pub owner: Option<String>,
    /// True when the caller may edit and delete this video.
    pub can_edit: bool,
    /// Lowercase tags.
    pub tags: Vec<String>,
    /// Counted views (once per viewer per 24 h after 10 s of playback).
    pub views: i64,
    pub comments_enabled: bool,
    /// For a live stream until it becomes its replay: the broadcast's state, start, viewers.
    pub live: Option<crate::http::live_streams::LiveView>,
}

/// Unix milliseconds → RFC 3339 (empty if out of range).
pub fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Where a caller fetches a video's media: plain URLs for a public video, URLs under a
/// playback grant (see [`playback`]) for others.
#[derive(Debug, Clone)]
pub struct MediaUrls {
    /// Path prefix of the ladder: `/hls/{id}` or `/hls/{id}/g/{grant}`.
    hls: String,
    /// Path prefix of poster and original: `/media/{id}` or `/media/{id}/g/{grant}`.
    media: String,
    /// Unix seconds when the grant expires; `None` for public videos.
    pub expires: Option<u64>,
}

impl MediaUrls {
    /// URLs for `video`, signing a grant when it is not public. The caller must already be
    /// allowed to watch it.
    pub fn new(app: &AppState, video: &VideoRecord, client: Option<IpAddr>) -> MediaUrls {
        if video.privacy == Privacy::Public {
            return MediaUrls {
                hls: format!("/hls/{}", video.id),
                media: format!("/media/{}", video.id),
                expires: None,
            };
        }
        let auth = &app.config.auth;
        let expires = (now_ms() / 1000) as u64 + auth.playback_grant_secs;
        let bind = if auth.bind_playback_to_ip { client } else { None };
        let grant = playback::issue(&app.keys, &video.id, video.grant_generation, expires, bind);
        MediaUrls {
            hls: format!("/hls/{}/g/{grant}", video.id),
            media: format!("/media/{}/g/{grant}", video.id),
            expires: Some(expires),
        }
    }

    /// URLs under a grant the viewer already holds (a private embed link's), valid until
    /// `expires` (Unix seconds).
    pub fn under_grant(video_id: &str, grant: &str, expires: u64) -> MediaUrls {
        MediaUrls {
            hls: format!("/hls/{video_id}/g/{grant}"),
            media: format!("/media/{video_id}/g/{grant}"),
            expires: Some(expires),
        }
    }

    /// The multivariant playlist.
    pub fn playlist(&self) -> String {
        format!("{}/master.m3u8", self.hls)
    }

    /// A file under the ladder's prefix, e.g. `subs_3/captions.vtt`.
    pub fn hls_file(&self, relative: &str) -> String {
        format!("{}/{relative}", self.hls)
    }

    /// The storyboard's WebVTT thumbnails track (its cues name sheets beside it, under the
    /// same grant).
    pub fn storyboard(&self) -> String {
        format!(
            "{}/{}/{}",
            self.hls,
            crate::media::storyboard::DIR,
            crate::media::storyboard::TRACK
        )
    }

    /// The poster image.
    pub fn poster(&self) -> String {
        format!("{}/poster.jpg", self.media)
    }

    /// The original upload.
    pub fn original(&self) -> String {
        format!("{}/original", self.media)
    }
}

impl VideoView {
    /// The video as `caller` sees it: media URLs only when they may watch it (signed when it
    /// is not public), `can_edit` from the policy.
    pub fn for_caller(app: &AppState, v: VideoRecord, caller: Option<&Principal>, client: Option<IpAddr>) -> VideoView {
        let urls = policy::may_watch(caller, v.acl()).then(|| MediaUrls::new(app, &v, client));
        VideoView::with_urls(app, v, caller, urls)
    }

    /// The video with the media URLs `urls` (none: not allowed to watch).
    pub fn with_urls(app: &AppState, v: VideoRecord, caller: Option<&Principal>, urls: Option<MediaUrls>) -> VideoView {
        let acl = v.acl();
        let playable = v.playable();
        let live = crate::http::live_streams::LiveView::of(app, &v);
        VideoView {
            live,
            hls_url: urls.as_ref().filter(|_| playable).map(MediaUrls::playlist),
            poster_url: urls
                .as_ref()
                .filter(|_| playable && v.has_poster)
                .map(MediaUrls::poster),
            storyboard: urls
                .as_ref()
                .filter(|_| playable && v.has_storyboard)
                .map(MediaUrls::storyboard),
            playable,
            // Live streams and clips have no original upload.
            download_url: urls.as_ref().filter(|_| v.source_bytes > 0).map(MediaUrls::original),
            can_edit: policy::may_manage(caller, acl),
            created_at: rfc3339(v.created_at),
            privacy: v.privacy,
            owner: v.owner_name,
            tags: v.tags,
            views: v.views,
            comments_enabled: v.comments_enabled,
            id: v.id.to_string(),
            title: v.title,
            description: v.description,
            status: v.status,
            progress: v.progress,
            error: v.error,
            duration: v.duration,
            renditions: v.renditions,
            source_bytes: v.source_bytes,
        }
    }
}

/// Paging of a listing.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1-based page number (default 1).
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 24; values outside are clamped).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// Body of `GET /api/videos`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VideoList {
    pub videos: Vec<VideoView>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
}

/// A resolved page of a listing: 1-based `page`, `per_page` items (1–100), and the `offset`
/// of its first item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u32,
    pub per_page: u32,
    pub offset: u64,
}

impl Paging {
    /// Page 1 by default (0 counts as 1); `per_page` defaults to `default_per_page` and is
    /// clamped to 1–100 (the OpenAPI document states both).
    pub fn of(page: Option<u32>, per_page: Option<u32>, default_per_page: u32) -> Paging {
        let page = page.unwrap_or(1).max(1);
        let per_page = per_page.unwrap_or(default_per_page).clamp(1, 100);
        Paging {
            page,
            per_page,
            offset: u64::from(page - 1) * u64::from(per_page),
        }
    }
}

/// One page of `listing` as `caller` sees it.
pub(crate) async fn list_page(
    app: &AppState,
    listing: &VideoListing,
    q: ListQuery,
    caller: Option<&Principal>,
    client: IpAddr,
) -> Result<Json<VideoList>, ApiError> {
    let Paging { page, per_page, offset } = Paging::of(q.page, q.per_page, 24);
    let (videos, total) = app.db.list_videos(listing, per_page, offset).await?;
    Ok(Json(VideoList {
        videos: videos
            .into_iter()
            .map(|v| VideoView::for_caller(app, v, caller, Some(client)))
            .collect(),
        page,
        per_page,
        total,
    }))
}

/// `s` trimmed, or 400 naming `what` when it has more than `max` characters.
pub(crate) fn limited_text(s: String, max: usize, what: &str) -> Result<String, ApiError> {
    if s.chars().count() > max {
        return Err(ApiError::BadRequest(format!(
            "the {what} is longer than {max} characters"
        )));
    }
    Ok(s.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_defaults_and_clamps() {
        assert_eq!(
            Paging::of(None, None, 24),
            Paging {
                page: 1,
                per_page: 24,
                offset: 0
            }
        );
        assert_eq!(
            Paging::of(Some(0), Some(0), 20),
            Paging {
                page: 1,
                per_page: 1,
                offset: 0
            }
        );
        assert_eq!(
            Paging::of(Some(3), Some(500), 20),
            Paging {
                page: 3,
                per_page: 100,
                offset: 200
            }
        );
        let far = Paging::of(Some(u32::MAX), Some(100), 20);
        assert_eq!(far.offset, u64::from(u32::MAX - 1) * 100);
    }
}
