//! The requests of low-latency HLS that wait for the live edge (RFC 8216bis §6.2.5.2 and
//! Apple's "Enabling Low-Latency HLS"): a blocking playlist reload (`_HLS_msn`, `_HLS_part`)
//! is held until the playlist lists that part, and a request for the part named by
//! `EXT-X-PRELOAD-HINT` until it is stored — each at most three target durations, then 503.
//! The wait is on the rendition's [`crate::live::edge`] watch, woken by `live.part` events.

use std::time::Duration;

use tokio::time::{Instant, timeout_at};

use super::error::ApiError;
use crate::app::AppState;
use crate::ids::VideoId;
use crate::live::edge::{Edge, Known};
use crate::media::transcode::MEDIA_PLAYLIST;
use crate::storage::keys;

/// The `_HLS_` query parameters of a media playlist request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Directives {
    /// `_HLS_msn`: hold until this segment (with `part`, this part of it) is listed.
    pub msn: Option<u64>,
    /// `_HLS_part`: the part's index in segment `msn`.
    pub part: Option<u32>,
    /// `_HLS_skip=YES` or `v2`: answer with the delta update.
    pub skip: bool,
}

impl Directives {
    /// Reads the directives of `query` (other parameters are left alone).
    ///
    /// Errors: 400 when a value is not a number, or `_HLS_part` comes without `_HLS_msn`
    /// (RFC 8216bis §6.2.5.2).
    pub fn parse(query: &str) -> Result<Directives, ApiError> {
        let mut d = Directives::default();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let number = || {
                ApiError::BadRequest(format!(
                    "{name}={value} is not a number; low-latency HLS directives take whole numbers"
                ))
            };
            match &*name {
                "_HLS_msn" => d.msn = Some(value.parse().map_err(|_| number())?),
                "_HLS_part" => d.part = Some(value.parse().map_err(|_| number())?),
                "_HLS_skip" => d.skip = value == "YES" || value == "v2",
                _ => {}
            }
        }
        if d.part.is_some() && d.msn.is_none() {
            return Err(ApiError::BadRequest(
                "_HLS_part needs _HLS_msn: name the segment the part belongs to".into(),
            ));
        }
        Ok(d)
    }
}

/// The longest a request is held: three target durations (RFC 8216bis §6.2.5.2).
pub fn hold_limit(app: &AppState) -> Duration {
    Duration::from_secs(3 * app.config.live.segment_secs.ceil().max(1.0) as u64)
}

/// Waits until `rendition` of live `video` lists segment `msn` (and part `part` of it).
/// Returns true once it does; false at once when the rendition is not low-latency, or when
/// the broadcast ends meanwhile (the stored playlist is then the answer, which may not list
/// the part, so it must not be cached as if it did).
///
/// Errors: 400 when `msn` is more than two segments past the playlist's last; 503 when the
/// part did not come within [`hold_limit`].
pub async fn await_playlist(
    app: &AppState,
    video: &VideoId,
    rendition: &str,
    msn: u64,
    part: Option<u32>,
) -> Result<bool, ApiError> {
    await_edge(app, video, rendition, |k| {
        let edge = k.edge?;
        if edge.reached(msn, part) {
            return Some(Ok(true));
        }
        // The last listed segment is the one before the open one.
        if msn > edge.msn + 1 {
            return Some(Err(ApiError::BadRequest(format!(
                "_HLS_msn={msn} is more than two segments past the playlist's last ({}); reload the playlist",
                edge.msn.saturating_sub(1)
            ))));
        }
        None
    })
    .await
}

/// Waits until part `number` of publishing session `session` of `rendition` is stored (the
/// part a preload hint named). Returns at once for a part of an older session or one the
/// edge has passed; waits for the next event when this node knows the edge but not its
/// part number (learned from a stored playlist).
///
/// Errors: 404 for a part more than two past the newest (only the next one is ever hinted;
/// one more allows for this node hearing of a part after the client did); 503 when it did
/// not come within [`hold_limit`].
pub async fn await_part(
    app: &AppState,
    video: &VideoId,
    rendition: &str,
    session: u64,
    number: u64,
) -> Result<(), ApiError> {
    await_edge(app, video, rendition, |k| match k.number {
        Some((s, newest)) if s == session && newest < number => {
            if number > newest + 2 {
                Some(Err(ApiError::NotFound))
            } else {
                None
            }
        }
        Some((s, _)) if s < session => None, // this node has not heard of the session yet
        None => None,
        _ => Some(Ok(true)),
    })
    .await
    .map(|_| ())
}

/// Waits on `rendition`'s edge until `ready` says what to answer (`None`: keep waiting).
/// An edge this node has not heard of yet is read once from the stored playlist. `Ok(false)`
/// when there is nothing to wait for (no low-latency playlist, or the broadcast ended).
async fn await_edge(
    app: &AppState,
    video: &VideoId,
    rendition: &str,
    ready: impl Fn(&Known) -> Option<Result<bool, ApiError>>,
) -> Result<bool, ApiError> {
    let edges = &app.live.edges;
    let mut rx = edges.watch(video, rendition);
    let deadline = Instant::now() + hold_limit(app);
    let mut seeded = false;
    loop {
        let known = *rx.borrow_and_update();
        if known.edge.is_none() {
            if seeded {
                return Ok(false);
            }
            seeded = true;
            match stored_edge(app, video, rendition).await {
                Some(edge) => {
                    edges.advance(video, rendition, edge, None);
                    continue;
                }
                None => return Ok(false), // not low-latency, or no part yet: answer as it is
            }
        }
        if let Some(answer) = ready(&known) {
            return answer;
        }
        match timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Ok(false), // the broadcast ended: what is stored is the answer
            Err(_) => {
                return Err(ApiError::Status {
                    status: 503,
                    message: format!(
                        "the part asked for did not appear within {} s; reload the playlist",
                        hold_limit(app).as_secs()
                    ),
                });
            }
        }
    }
}

/// The newest part the stored media playlist of `rendition` lists.
async fn stored_edge(app: &AppState, video: &VideoId, rendition: &str) -> Option<Edge> {
    let key = keys::hls(video, &format!("{rendition}/{MEDIA_PLAYLIST}"));
    let bytes = app.store.get(&key, None).await.ok()?.bytes().await.ok()?;
    let (msn, part) = crate::live::playlist::newest_part(std::str::from_utf8(&bytes).ok()?)?;
    Some(Edge { msn, part })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_are_read_and_checked() {
        let d = Directives::parse("_HLS_msn=12&_HLS_part=3&_HLS_skip=YES&t=1").unwrap();
        assert_eq!(
            d,
            Directives {
                msn: Some(12),
                part: Some(3),
                skip: true
            }
        );
        assert!(Directives::parse("_HLS_skip=v2").unwrap().skip);
        assert_eq!(Directives::parse("").unwrap(), Directives::default());
        assert!(matches!(Directives::parse("_HLS_part=2"), Err(ApiError::BadRequest(_))));
        assert!(matches!(Directives::parse("_HLS_msn=x"), Err(ApiError::BadRequest(_))));
        assert!(matches!(Directives::parse("_HLS_msn=-1"), Err(ApiError::BadRequest(_))));
    }
}
