//! The RTMP ingest: accepts TCP connections, runs the RTMP 1.0 handshake and chunk stream
//! (`rml_rtmp`'s sans-I/O server session), and hands each accepted publish's audio and video
//! messages to a [`broadcast`] task. Only `rtmp://HOST/live/STREAM_KEY` is served; a bad key,
//! a stream already live, a replayed stream or a full node is refused at `publish` with an
//! `onStatus` error (`NetStream.Publish.BadName` / `NetStream.Publish.Denied`) that OBS and
//! ffmpeg show, and nothing is written. Playback over RTMP is refused.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use rml_rtmp::sessions::{ServerSession, ServerSessionConfig, ServerSessionEvent, ServerSessionResult};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::broadcast::{self, Media, StreamMeta};
use super::flv::{TAG_AUDIO, TAG_VIDEO};
use super::{LiveHub, RTMP_APP};

/// Seconds a client has from connecting to an accepted publish (handshake, connect, publish).
const PUBLISH_WITHIN_SECS: u64 = 15;
/// Bytes a client may send before its publish is accepted (commands are a few hundred bytes):
/// an unauthenticated peer cannot make the chunk decoder buffer more.
const MAX_BYTES_BEFORE_PUBLISH: usize = 256 * 1024;
/// Connections beyond the node's `live.max_streams` publishers (connecting, or refused and
/// closing); past it a new connection is closed at once.
const SPARE_CONNECTIONS: usize = 32;
/// Media messages queued between the connection and its broadcast (backpressure beyond).
const QUEUE: usize = 1024;

/// Accepts publishers until `shutdown`, at most `live.max_streams` + [`SPARE_CONNECTIONS`]
/// connections at once.
pub async fn serve(listener: TcpListener, hub: Arc<LiveHub>, shutdown: CancellationToken) {
    let slots = Arc::new(tokio::sync::Semaphore::new(
        hub.config.live.max_streams + SPARE_CONNECTIONS,
    ));
    loop {
        let (socket, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "RTMP accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => return,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "too many RTMP connections; one closed at once");
            continue;
        };
        let hub = hub.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let _ = socket.set_nodelay(true);
            match connection(socket, &hub, stop).await {
                Ok(()) => tracing::debug!(%peer, "RTMP connection closed"),
                Err(e) => tracing::info!(%peer, error = %format!("{e:#}"), "RTMP connection ended"),
            }
        });
    }
}

/// The publishing side of one connection, once its publish is accepted.
struct Publishing {
    tx: mpsc::Sender<Media>,
}

/// One client connection.
async fn connection(mut socket: TcpStream, hub: &Arc<LiveHub>, shutdown: CancellationToken) -> anyhow::Result<()> {
    let idle = Duration::from_secs_f64(hub.config.live.idle_timeout_secs);
    let publish_by = tokio::time::Instant::now() + Duration::from_secs(PUBLISH_WITHIN_SECS);
    let mut before_publish = 0usize;
    let mut buf = vec![0u8; 16 * 1024];
    let mut handshake = Handshake::new(PeerType::Server);
    let remaining = loop {
        let n = tokio::time::timeout_at(publish_by, socket.read(&mut buf))
            .await
            .context("handshake timed out")??;
        if n == 0 {
            return Ok(());
        }
        match handshake
            .process_bytes(&buf[..n])
            .map_err(|e| anyhow::anyhow!("bad RTMP handshake: {e:?}"))?
        {
            HandshakeProcessResult::InProgress { response_bytes } => socket.write_all(&response_bytes).await?,
            HandshakeProcessResult::Completed {
                response_bytes,
                remaining_bytes,
            } => {
                socket.write_all(&response_bytes).await?;
                break remaining_bytes;
            }
        }
    };
    let (mut session, initial) =
        ServerSession::new(ServerSessionConfig::new()).map_err(|e| anyhow::anyhow!("RTMP session: {e:?}"))?;
    let mut publishing: Option<Publishing> = None;
    let mut pending = initial;
    let mut input = remaining;
    let outcome: anyhow::Result<()> = async {
        loop {
            if !input.is_empty() {
                let results = session
                    .handle_input(&input)
                    .map_err(|e| anyhow::anyhow!("malformed RTMP data: {e:?}"))?;
                pending.extend(results);
                input.clear();
            }
            while !pending.is_empty() {
                let mut next = Vec::new();
                for result in pending.drain(..) {
                    match result {
                        ServerSessionResult::OutboundResponse(packet) => socket.write_all(&packet.bytes).await?,
                        ServerSessionResult::RaisedEvent(event) => {
                            if let Some(done) = on_event(hub, &mut session, &mut publishing, event, &mut next).await? {
                                // Send the refusal before closing.
                                for r in next.drain(..) {
                                    if let ServerSessionResult::OutboundResponse(p) = r {
                                        socket.write_all(&p.bytes).await?;
                                    }
                                }
                                socket.flush().await?;
                                tokio::time::sleep(Duration::from_millis(200)).await;
                                anyhow::bail!("{done}");
                            }
                        }
                        ServerSessionResult::UnhandleableMessageReceived(_) => {}
                    }
                }
                pending = next;
            }
            if publishing.as_ref().is_some_and(|p| p.tx.is_closed()) {
                anyhow::bail!("the broadcast ended");
            }
            let deadline = if publishing.is_some() {
                tokio::time::Instant::now() + idle
            } else {
                publish_by.min(tokio::time::Instant::now() + idle)
            };
            let n = tokio::select! {
                read = tokio::time::timeout_at(deadline, socket.read(&mut buf)) => match read {
                    Ok(read) => read?,
                    Err(_) if publishing.is_none() => anyhow::bail!("no publish within {PUBLISH_WITHIN_SECS} s"),
                    Err(_) => anyhow::bail!("no data for {} s", idle.as_secs_f64()),
                },
                _ = shutdown.cancelled() => anyhow::bail!("the server is shutting down"),
            };
            if n == 0 {
                return Ok(());
            }
            if publishing.is_none() {
                before_publish += n;
                if before_publish > MAX_BYTES_BEFORE_PUBLISH {
                    anyhow::bail!("over {MAX_BYTES_BEFORE_PUBLISH} bytes sent before publishing");
                }
            }
            input.extend_from_slice(&buf[..n]);
        }
    }
    .await;
    if let Some(p) = publishing.take() {
        let reason = match &outcome {
            Ok(()) => "the publisher closed the connection without unpublishing".to_string(),
            Err(e) => format!("{e:#}"),
        };
        let _ = p.tx.send(Media::End { clean: false, reason }).await;
    }
    outcome
}

/// Reacts to one session event; `Some(reason)` closes the connection after the responses
/// in `out` are sent.
async fn on_event(
    hub: &Arc<LiveHub>,
    session: &mut ServerSession,
    publishing: &mut Option<Publishing>,
    event: ServerSessionEvent,
    out: &mut Vec<ServerSessionResult>,
) -> anyhow::Result<Option<String>> {
    let rtmp_err = |e| anyhow::anyhow!("RTMP session: {e:?}");
    match event {
        ServerSessionEvent::ConnectionRequested { request_id, app_name } => {
            if app_name.trim_matches('/') == RTMP_APP {
                out.extend(session.accept_request(request_id).map_err(rtmp_err)?);
            } else {
                out.extend(
                    session
                        .reject_request(
                            request_id,
                            "NetConnection.Connect.Rejected",
                            &format!("unknown application {app_name:?}: publish to rtmp://HOST/{RTMP_APP}/STREAM_KEY"),
                        )
                        .map_err(rtmp_err)?,
                );
                return Ok(Some(format!("unknown RTMP application {app_name:?}")));
            }
        }
        ServerSessionEvent::PublishStreamRequested {
            request_id, stream_key, ..
        } => {
            if publishing.is_some() {
                out.extend(
                    session
                        .reject_request(request_id, "NetStream.Publish.Denied", "one stream per connection")
                        .map_err(rtmp_err)?,
                );
                return Ok(Some("a second publish on one connection".into()));
            }
            match hub.authorize(&stream_key).await {
                Ok((video_id, n)) => {
                    out.extend(session.accept_request(request_id).map_err(rtmp_err)?);
                    let (tx, rx) = mpsc::channel(QUEUE);
                    tracing::info!(%video_id, session = n, "live publish accepted");
                    tokio::spawn(broadcast::run(hub.clone(), video_id, n, rx));
                    *publishing = Some(Publishing { tx });
                }
                Err(why) => {
                    out.extend(
                        session
                            .reject_request(request_id, "NetStream.Publish.BadName", &why)
                            .map_err(rtmp_err)?,
                    );
                    return Ok(Some(format!("publish refused: {why}")));
                }
            }
        }
        ServerSessionEvent::PlayStreamRequested { request_id, .. } => {
            out.extend(
                session
                    .reject_request(
                        request_id,
                        "NetStream.Play.Failed",
                        "this server only ingests: watch over HLS on the web",
                    )
                    .map_err(rtmp_err)?,
            );
            return Ok(Some("RTMP playback refused".into()));
        }
        ServerSessionEvent::StreamMetadataChanged { metadata, .. } => {
            if let Some(p) = publishing {
                let bitrate = match (metadata.video_bitrate_kbps, metadata.audio_bitrate_kbps) {
                    (None, None) => None,
                    (v, a) => Some(u64::from(v.unwrap_or(0) + a.unwrap_or(0)) * 1000),
                };
                let meta = StreamMeta {
                    width: metadata.video_width,
                    height: metadata.video_height,
                    frame_rate: metadata.video_frame_rate.map(f64::from),
                    bitrate,
                };
                let _ = p.tx.send(Media::Meta(meta)).await;
            }
        }
        ServerSessionEvent::AudioDataReceived { data, timestamp, .. } => {
            send(publishing, TAG_AUDIO, timestamp.value, data).await
        }
        ServerSessionEvent::VideoDataReceived { data, timestamp, .. } => {
            send(publishing, TAG_VIDEO, timestamp.value, data).await
        }
        ServerSessionEvent::PublishStreamFinished { .. } => {
            if let Some(p) = publishing.take() {
                let _ =
                    p.tx.send(Media::End {
                        clean: true,
                        reason: "the publisher stopped".into(),
                    })
                    .await;
            }
        }
        _ => {}
    }
    Ok(None)
}

/// Forwards a media message; a broadcast that ended (a refusal or a limit) drops it, and the
/// connection loop then closes the connection.
async fn send(publishing: &mut Option<Publishing>, kind: u8, timestamp_ms: u32, body: Bytes) {
    if let Some(p) = publishing {
        let _ =
            p.tx.send(Media::Tag {
                kind,
                timestamp_ms,
                body,
            })
            .await;
    }
}
