//! `GET /api/videos/{id}/live` — a WebSocket (RFC 6455) pushing a video's events to an open
//! watch page: `comment.created`, `comment.updated`, `comment.deleted`, and while the video is
//! processing `job.progress` (`{"progress": percent}`), then `video.ready` or `video.failed`
//! (`{"error": why}`) — from whichever node or worker caused them (see [`crate::events`]).
//! Later chat and viewer counts. Server → client only; text frames of JSON.
//!
//! Access is checked at the handshake and again whenever the video's privacy changes
//! (`video.privacy`, from any node) or it is deleted (`video.deleted`): a socket whose caller
//! may no longer watch is closed (code 1008, policy violation), so a video made private stops
//! reaching pages that could see it before.
//!
//! Cookies ride along on a WebSocket handshake and the CSRF layer lets GETs through, so the
//! handshake's `Origin` is checked here: only this site's pages (and `auth.trusted_origins`)
//! may open one.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use tokio::sync::broadcast::error::RecvError;

use crate::app::AppState;
use crate::http::caller::MediaCaller;
use crate::http::error::ApiError;
use crate::http::videos::find_watchable;

/// Upgrades to a WebSocket for a video the caller may watch; 403 for a foreign `Origin`,
/// 404 when the video is not visible.
pub async fn live(
    State(app): State<AppState>,
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
    let events = app.events.subscribe();
    Ok(ws.on_upgrade(move |socket| pump(socket, events, video.id, app, caller.0)))
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
    video_id: String,
    app: AppState,
    caller: Option<crate::auth::Principal>,
) {
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(e) if e.video_id == video_id => {
                    let kind = e.payload.get("type").and_then(|t| t.as_str()).unwrap_or_default();
                    if matches!(kind, "video.privacy" | "video.deleted")
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
