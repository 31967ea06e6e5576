//! `GET /api/videos/{id}/live` — a WebSocket (RFC 6455) pushing a video's events to an open
//! watch page: `comment.created`, `comment.updated`, `comment.deleted`, and while the video is
//! processing `job.progress` (`{"progress": percent}`), then `video.ready` or `video.failed`
//! (`{"error": why}`) — from whichever node or worker caused them (see [`crate::events`]).
//! For live streams also `live.state`, `chat.message` and `chat.deleted`; the sockets open on a
//! video are its viewer count. Server → client only; text frames of JSON.
//!
//! Access is checked at the handshake and again whenever the video's privacy changes
//! (`video.privacy`, from any node) or it is deleted (`video.deleted`): a socket whose caller
//! may no longer watch is closed (code 1008, policy violation), so a video made private stops
//! reaching pages that could see it before.
//!
//! The route never reads client data, so client messages and frames are capped at
//! [`MAX_CLIENT_MESSAGE_BYTES`] (a larger one closes the socket), and open sockets are capped
//! per client address (`http.live_sockets_per_address`, then 429) and in total
//! (`http.max_live_sockets`, then 503) by [`SocketLimit`].
//!
//! Cookies ride along on a WebSocket handshake and the CSRF layer lets GETs through, so the
//! handshake's `Origin` is checked here: only this site's pages (and `auth.trusted_origins`)
//! may open one.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use tokio::sync::broadcast::error::RecvError;

use crate::app::AppState;
use crate::http::caller::MediaCaller;
use crate::http::error::ApiError;
use crate::http::videos::find_watchable;
use crate::ids::VideoId;

/// Largest message or frame a client may send on a live socket, bytes (RFC 6455 §5.4); the
/// route expects only control frames (ping, pong, close).
pub const MAX_CLIENT_MESSAGE_BYTES: usize = 4 * 1024;

/// Upgrades to a WebSocket for a video the caller may watch; 403 for a foreign `Origin`,
/// 404 when the video is not visible, 429 past `http.live_sockets_per_address` sockets from
/// the caller's address, 503 past `http.max_live_sockets` on the node.
#[utoipa::path(
    get,
    path = "/api/videos/{id}/live",
    tag = "videos",
    operation_id = "video_events",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`")),
    responses(
        (status = 101, description = "Switching to a WebSocket (RFC 6455) of JSON text frames: `comment.created`, `comment.updated`, `comment.deleted`, `job.progress`, `video.ready`, `video.failed`"),
        (status = 400, description = "Not a WebSocket handshake", body = crate::http::error::ErrorBody),
        (status = 403, description = "Opened by another site's page", body = crate::http::error::ErrorBody),
        (status = 404, description = "No such video, or the caller may not see it", body = crate::http::error::ErrorBody),
        (status = 429, description = "Too many sockets from this address", body = crate::http::error::ErrorBody)
    ),
    security((), ("bearer" = []), ("session" = []))
)]
pub async fn live(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: MediaCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if !origin_allowed(&app, &headers) {
        return Err(ApiError::Forbidden(
            "WebSocket refused: it must be opened by this site's own pages".into(),
        ));
    }
    let video = find_watchable(&app, &id, caller.0.as_ref()).await?;
    let slot = app.live_sockets.try_acquire(peer.ip(), &video.id)?;
    let events = app.events.subscribe();
    Ok(ws
        .max_message_size(MAX_CLIENT_MESSAGE_BYTES)
        .max_frame_size(MAX_CLIENT_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            let manages = crate::auth::policy::may_manage(caller.0.as_ref(), video.acl());
            pump(socket, events, video.id, app, caller.0, manages).await;
            drop(slot);
        }))
}

/// Counts open live sockets per client address and in total; cheap to clone.
#[derive(Debug, Clone)]
pub struct SocketLimit {
    open: Arc<Mutex<SocketCounts>>,
    per_address: usize,
    total: usize,
}

#[derive(Debug, Default)]
struct SocketCounts {
    by_address: HashMap<IpAddr, usize>,
    /// Open sockets per video: the viewers of a live stream on this node.
    by_video: HashMap<VideoId, usize>,
    total: usize,
}

/// One open socket's place under [`SocketLimit`]; given back on drop.
#[derive(Debug)]
pub struct SocketSlot {
    limit: SocketLimit,
    address: IpAddr,
    video: VideoId,
}

impl SocketLimit {
    /// At most `per_address` sockets from one address and `total` on the node.
    pub fn new(per_address: usize, total: usize) -> SocketLimit {
        SocketLimit {
            open: Arc::default(),
            per_address,
            total,
        }
    }

    /// Takes a place for a socket from `address` watching `video`. Errors: 429 when that
    /// address has `per_address` open, 503 when the node has `total`.
    pub fn try_acquire(&self, address: IpAddr, video: &VideoId) -> Result<SocketSlot, ApiError> {
        let mut open = self.open.lock().expect("socket counts poisoned");
        if open.total >= self.total {
            return Err(ApiError::Overloaded {
                retry_after_secs: 5,
                streams: self.total,
            });
        }
        let mine = open.by_address.entry(address).or_default();
        if *mine >= self.per_address {
            return Err(ApiError::TooManyRequests { retry_after_secs: 5 });
        }
        *mine += 1;
        open.total += 1;
        *open.by_video.entry(video.clone()).or_default() += 1;
        Ok(SocketSlot {
            limit: self.clone(),
            address,
            video: video.clone(),
        })
    }

    /// Sockets open on this node.
    pub fn open(&self) -> usize {
        self.open.lock().expect("socket counts poisoned").total
    }

    /// Pages open on `video` on this node (its live viewers here).
    pub fn watching(&self, video: &VideoId) -> usize {
        let open = self.open.lock().expect("socket counts poisoned");
        open.by_video.get(video).copied().unwrap_or(0)
    }

    /// Sockets open now from `address`.
    pub fn open_from(&self, address: IpAddr) -> usize {
        let open = self.open.lock().expect("socket counts poisoned");
        open.by_address.get(&address).copied().unwrap_or(0)
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = self.limit.open.lock().expect("socket counts poisoned");
        open.total -= 1;
        if let Some(n) = open.by_video.get_mut(&self.video) {
            *n -= 1;
            if *n == 0 {
                open.by_video.remove(&self.video);
            }
        }
        if let Some(n) = open.by_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                open.by_address.remove(&self.address);
            }
        }
    }
}

/// No `Origin` (a script, not a browser) or one whose authority is our `Host`, or a trusted one.
fn origin_allowed(app: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if app.config.auth.trusted_origins.iter().any(|t| t == origin) {
        return true;
    }
    let authority = origin.split_once("://").map(|(_, a)| a).unwrap_or("");
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|host| host.eq_ignore_ascii_case(authority))
}

async fn pump(
    mut socket: WebSocket,
    mut events: tokio::sync::broadcast::Receiver<std::sync::Arc<crate::events::Event>>,
    video_id: crate::ids::VideoId,
    app: AppState,
    caller: Option<crate::auth::Principal>,
    manages: bool,
) {
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(e) if e.video_id == video_id => {
                    if e.kind.changes_access()
                        && find_watchable(&app, &video_id, caller.as_ref()).await.is_err()
                    {
                        let _ = socket
                            .send(Message::Close(Some(axum::extract::ws::CloseFrame {
                                code: axum::extract::ws::close_code::POLICY,
                                reason: "this video is no longer available to you".into(),
                            })))
                            .await;
                        return;
                    }
                    if matches!(e.kind, crate::events::VideoEvent::LiveHealth { .. }) && !manages {
                        continue; // ingest health is for the stream's owner and admins
                    }
                    if matches!(e.kind, crate::events::VideoEvent::LivePart { .. }) {
                        continue; // the players learn of parts from their playlists
                    }
                    let Ok(text) = serde_json::to_string(&*e) else { continue };
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                // Fell behind and missed events: close, so the page reconnects and reloads
                // what it shows instead of silently drifting.
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {} // pings are answered by the library; nothing else is expected
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_are_capped_per_address_and_in_total() {
        let limit = SocketLimit::new(2, 3);
        let video = VideoId::new();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let a1 = limit.try_acquire(a, &video).unwrap();
        let _a2 = limit.try_acquire(a, &VideoId::new()).unwrap();
        assert_eq!(limit.watching(&video), 1);
        assert!(matches!(
            limit.try_acquire(a, &video),
            Err(ApiError::TooManyRequests { .. })
        ));
        let _b1 = limit.try_acquire(b, &video).unwrap();
        assert!(matches!(limit.try_acquire(b, &video), Err(ApiError::Overloaded { .. })));
        drop(a1);
        assert_eq!(limit.open_from(a), 1);
        let _b2 = limit.try_acquire(b, &video).unwrap();
        assert_eq!(limit.open_from(b), 2);
    }
}
