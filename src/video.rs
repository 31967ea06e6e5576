//! What a video is, below every layer that stores, serves or processes it: its life
//! ([`VideoStatus`]), its produced renditions ([`Rendition`]), what access decisions need of it
//! ([`VideoAcl`]), and the rules of its text fields. `db`, `media`, `auth::policy`, the HTTP
//! handlers and `kino import` all use these, so the arrows point down to here.

use serde::{Deserialize, Serialize};

use crate::auth::Privacy;

/// Longest accepted title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest accepted description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 5000;

/// Where a video is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VideoStatus {
    /// Uploaded; waiting for or being transcoded.
    Processing,
    /// The ladder is published and playable.
    Ready,
    /// Refused or failed for good; `error` says why.
    Failed,
    /// A resumable upload still arriving ([`crate::http::tus`]); seen by its owner only. Not a
    /// stored status: the row says `processing` with its `uploading` flag set.
    Uploading,
    /// A live stream no publisher has sent to yet ([`crate::live`]). Like the next two, not a
    /// stored status: the row says `processing` and its `live_streams` row has the state.
    Idle,
    /// A live stream receiving a broadcast; playable once its first segment is published.
    Live,
    /// A broadcast that stopped: waiting for a reconnect (`live.reconnect_grace_secs`) or
    /// being turned into its replay, after which the video is `ready`.
    Ended,
}

impl std::str::FromStr for VideoStatus {
    type Err = String;

    /// The stored spelling (`processing`, `ready`, `failed`). Errors: any other text, named.
    fn from_str(s: &str) -> Result<VideoStatus, String> {
        match s {
            "processing" => Ok(VideoStatus::Processing),
            "ready" => Ok(VideoStatus::Ready),
            "failed" => Ok(VideoStatus::Failed),
            other => Err(format!("unknown video status {other:?} in the database")),
        }
    }
}

/// Where a live stream's broadcast is (`live_streams.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LiveState {
    /// Created; no publisher yet.
    Idle,
    /// A publisher is sending.
    Live,
    /// The broadcast stopped (its replay follows).
    Ended,
}

impl LiveState {
    /// The stored spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<LiveState> {
        match s {
            "idle" => Some(LiveState::Idle),
            "live" => Some(LiveState::Live),
            // `finishing`: one node is making the replay; to everyone else it has ended.
            "ended" | "finishing" => Some(LiveState::Ended),
            _ => None,
        }
    }

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LiveState::Idle => "idle",
            LiveState::Live => "live",
            LiveState::Ended => "ended",
        }
    }
}

/// What [`crate::auth::policy::may_watch`] and [`crate::auth::policy::may_manage`] need to
/// know of a video.
#[derive(Debug, Clone, Copy)]
pub struct VideoAcl {
    /// The owner's user id; `None` for videos imported by an operator (admins manage them).
    pub owner_id: Option<i64>,
    pub privacy: Privacy,
    /// Its source is still arriving, or processing failed for good: only its owner and
    /// administrators see it, whatever its privacy.
    pub owner_only: bool,
}

/// A produced rendition (variant stream) with measured figures; stored as the video's
/// `renditions` and returned by the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rendition {
    /// Directory and variant name, e.g. `720p` or `audio`.
    pub name: String,
    /// Picture size in pixels; absent for an audio-only variant.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Peak segment bitrate, bits/s (`BANDWIDTH`).
    pub bandwidth: u64,
    /// Mean bitrate over the whole rendition, bits/s (`AVERAGE-BANDWIDTH`).
    pub average_bandwidth: u64,
    /// RFC 6381 codec list, e.g. `avc1.64001f,mp4a.40.2`.
    pub codecs: String,
    /// Frames per second; absent for audio-only.
    pub frame_rate: Option<f64>,
    /// Sum of segment durations, seconds.
    pub duration: f64,
    /// Bytes of the init segment and all media segments.
    pub bytes: u64,
    /// Number of media segments.
    pub segments: usize,
    /// Set on an audio rendition of its own (`EXT-X-MEDIA:TYPE=AUDIO`, a source with several
    /// audio languages); absent on variant streams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_track: Option<AudioTrack>,
}

/// What an audio rendition of its own is, for the audio menu (RFC 8216 §4.3.4.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AudioTrack {
    /// BCP 47 language tag (`en`, `fr`); absent when the source did not say.
    pub language: Option<String>,
    /// `NAME`: what the audio menu shows.
    pub label: String,
    /// Played unless the viewer picks another (`DEFAULT=YES`).
    pub default: bool,
}

/// A title from an uploaded file's name: the stem, with separators turned into spaces.
pub fn title_from_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let stem = base
        .rsplit_once('.')
        .map(|(s, _)| s)
        .filter(|s| !s.is_empty())
        .unwrap_or(base);
    let title: String = stem
        .chars()
        .map(|c| if c == '_' || c == '-' || c.is_control() { ' ' } else { c })
        .take(MAX_TITLE_CHARS)
        .collect();
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.is_empty() { "Untitled".into() } else { title }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_come_from_file_names() {
        assert_eq!(title_from_file_name("bbb-720p_h264.mp4"), "bbb 720p h264");
        assert_eq!(title_from_file_name("C:\\Users\\me\\lecture 1.mov"), "lecture 1");
        assert_eq!(title_from_file_name(".mp4"), ".mp4");
        assert_eq!(title_from_file_name(""), "Untitled");
    }

    #[test]
    fn unknown_statuses_are_errors() {
        assert_eq!("ready".parse::<VideoStatus>(), Ok(VideoStatus::Ready));
        assert!("processing ".parse::<VideoStatus>().is_err());
        assert!("live".parse::<VideoStatus>().unwrap_err().contains("live"));
        assert_eq!(LiveState::parse("ended"), Some(LiveState::Ended));
        assert_eq!(LiveState::parse("gone"), None);
    }
}
