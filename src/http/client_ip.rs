//! Middleware putting the client's address (see [`crate::proxies`]) in place of a trusted
//! proxy's, so rate limits, view counting and IP-bound grants see viewers.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::app::AppState;

/// Middleware: replaces the request's `ConnectInfo<SocketAddr>` with the client's address when
/// the peer is a trusted proxy, so every handler sees the viewer, not the proxy.
pub async fn resolve(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        let client = app.proxies.client_ip(peer.ip(), req.headers());
        if client != peer.ip() {
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(client, peer.port())));
        }
    }
    next.run(req).await
}
