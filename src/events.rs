//! Events that open pages need — new, edited and deleted comments, transcode progress, a video
//! becoming ready or failing, a live broadcast starting and stopping, chat — published by whichever process
//! causes them and delivered to every subscriber.
//!
//! Two transports behind the same [`Events::publish`] / [`Events::subscribe`]:
//! - in-process (`tokio::sync::broadcast`), the embedded default, for one node;
//! - NATS ([`Events::connect`], `nats_url`), so an event published on a worker or another API
//!   node reaches pages connected to any node. Each event is a NATS message on the subject
//!   `kino.events.<video id>` carrying the page's JSON and a `Kino-Node` header naming the
//!   publishing process. Events are delivered locally at once; every node subscribes to
//!   `kino.events.>` and feeds what other nodes sent into its local broadcast, skipping its
//!   own echo, so nothing arrives twice and a NATS outage only cuts events between nodes.
//!   Delivery is at most once (core NATS, no JetStream): a page that reconnects reloads what it
//!   shows, as it does after a lagging subscriber is cut off.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::auth::Privacy;
use crate::ids::VideoId;
use tokio::sync::{broadcast, mpsc};

/// Subject prefix of Kino's events on NATS; the video id follows.
pub const SUBJECT_PREFIX: &str = "kino.events.";

/// Events waiting to be handed to the NATS client; past this, new ones are dropped (logged).
const OUTBOX: usize = 4096;

/// NATS header naming the process that published an event.
const NODE_HEADER: &str = "Kino-Node";

/// Events buffered per subscriber; a subscriber that falls further behind misses the oldest
/// (and is told so, see [`broadcast::error::RecvError::Lagged`]).
const BUFFER: usize = 1024;

/// What happened to a video, as pushed to its open pages and carried between nodes: a JSON
/// object whose `type` names the variant (`{"type": "comment.created", "comment": {…}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum VideoEvent {
    /// A comment was posted: `comment` is the comment as `GET /api/videos/{id}/comments` shows
    /// it, with the per-viewer fields (`can_edit`, `can_delete`) false.
    #[serde(rename = "comment.created")]
    CommentCreated { comment: serde_json::Value },
    /// A comment's body was edited (same shape as [`VideoEvent::CommentCreated`]).
    #[serde(rename = "comment.updated")]
    CommentUpdated { comment: serde_json::Value },
    /// A comment and its replies were deleted.
    #[serde(rename = "comment.deleted")]
    CommentDeleted { id: i64, video_id: String },
    /// Transcoding progress, percent (0–100).
    #[serde(rename = "job.progress")]
    JobProgress { progress: f64 },
    /// A first rendition is published while the rest of the ladder is encoded ("playable
    /// first"): the multivariant playlist plays; `renditions` names what it lists.
    #[serde(rename = "video.playable")]
    VideoPlayable { renditions: Vec<String> },
    /// The ladder is published; the source lasts `duration_secs` seconds.
    #[serde(rename = "video.ready")]
    VideoReady { duration_secs: f64 },
    /// Processing failed for good; `error` is the sentence the video's `error` holds.
    #[serde(rename = "video.failed")]
    VideoFailed { error: String },
    /// The privacy changed, or every playback link was revoked (`privacy` then unchanged):
    /// open pages re-check that their viewer may still watch, nodes drop cached records.
    #[serde(rename = "video.privacy")]
    VideoPrivacy { privacy: Privacy },
    /// The video was deleted.
    #[serde(rename = "video.deleted")]
    VideoDeleted,
    /// A live stream's broadcast changed state (`live` when a publisher started, `ended` when
    /// it stopped, `idle` when nothing usable came); `reason` says why it ended.
    #[serde(rename = "live.state")]
    LiveState {
        state: crate::video::LiveState,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Ingest health of a live broadcast, every 2 s from the ingest node: what the publisher
    /// sends (bits/s, frames/s), seconds between its last two keyframes, and frames missing
    /// against its declared frame rate over the window (a sign of a congested uplink).
    #[serde(rename = "live.health")]
    LiveHealth {
        bitrate: u64,
        frame_rate: f64,
        keyframe_interval_secs: Option<f64>,
        frames_missing: u64,
    },
    /// A chat message was posted: `message` as `GET /api/videos/{id}/chat` lists it.
    #[serde(rename = "chat.message")]
    ChatMessage { message: serde_json::Value },
    /// A chat message was removed by a moderator.
    #[serde(rename = "chat.deleted")]
    ChatDeleted { id: i64 },
    /// A low-latency live rendition gained a part, stored with the playlists that list it:
    /// part `part` (from 0) of segment `msn`, number `number` of publishing session
    /// `session`. Wakes blocking playlist reloads on every node ([`crate::live::edge`]); not
    /// sent to pages.
    #[serde(rename = "live.part")]
    LivePart {
        rendition: String,
        msn: u64,
        part: u32,
        session: u64,
        number: u64,
    },
}

impl VideoEvent {
    /// True for the events after which a cached copy of the video's record is stale: all but
    /// comments, chat, progress and ingest health.
    pub fn changes_video(&self) -> bool {
        !matches!(
            self,
            VideoEvent::CommentCreated { .. }
                | VideoEvent::CommentUpdated { .. }
                | VideoEvent::CommentDeleted { .. }
                | VideoEvent::JobProgress { .. }
                | VideoEvent::LiveHealth { .. }
                | VideoEvent::LivePart { .. }
                | VideoEvent::ChatMessage { .. }
                | VideoEvent::ChatDeleted { .. }
        )
    }

    /// True for the events after which a viewer's right to watch must be checked again (a
    /// failed video is its owner's only).
    pub fn changes_access(&self) -> bool {
        matches!(
            self,
            VideoEvent::VideoPrivacy { .. } | VideoEvent::VideoDeleted | VideoEvent::VideoFailed { .. }
        )
    }
}

/// One event about one video.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// The video it concerns (subscribers filter on it).
    #[serde(skip)]
    pub video_id: VideoId,
    /// What happened; serialised as the JSON pages receive.
    #[serde(flatten)]
    pub kind: VideoEvent,
}

/// The event bus, cheap to clone.
#[derive(Clone, Debug)]
pub struct Events {
    tx: broadcast::Sender<Arc<Event>>,
    /// With NATS: the link to the server.
    nats: Option<Arc<NatsLink>>,
}

/// The NATS side of a bus: the queue of the task that publishes, in order, to the server.
#[derive(Debug)]
struct NatsLink {
    outbox: mpsc::Sender<Arc<Event>>,
    /// Events queued or being sent (for [`Events::flush`]).
    pending: Arc<AtomicUsize>,
    client: async_nats::Client,
}

impl Default for Events {
    fn default() -> Self {
        Events::new()
    }
}

impl Events {
    /// An in-process bus.
    pub fn new() -> Events {
        Events {
            tx: broadcast::channel(BUFFER).0,
            nats: None,
        }
    }

    /// A bus shared by every node connected to the NATS server at `url`
    /// (`nats://HOST:PORT`). Reconnects by itself if the server goes away.
    ///
    /// Errors: the server cannot be reached or refuses the subscription.
    pub async fn connect(url: &str) -> anyhow::Result<Events> {
        let client = async_nats::ConnectOptions::new()
            .name("kino")
            .connection_timeout(std::time::Duration::from_secs(10))
            .connect(url)
            .await
            .with_context(|| format!("cannot connect to NATS at {url} (is nats-server running there?)"))?;
        let mut sub = client
            .subscribe(format!("{SUBJECT_PREFIX}>"))
            .await
            .context("NATS subscription failed")?;
        client.flush().await.context("NATS subscription failed")?;
        let tx = broadcast::channel(BUFFER).0;
        let local = tx.clone();
        let node: Arc<str> = crate::ids::random_token().into();
        let me = node.clone();
        tokio::spawn(async move {
            use futures::StreamExt;
            while let Some(msg) = sub.next().await {
                let mine = msg
                    .headers
                    .as_ref()
                    .and_then(|h| h.get(NODE_HEADER))
                    .is_some_and(|v| v.as_str() == &*me);
                if mine {
                    continue; // delivered locally when published
                }
                let Some(video_id) = msg.subject.strip_prefix(SUBJECT_PREFIX).and_then(VideoId::parse) else {
                    tracing::warn!(subject = %msg.subject, "ignoring an event on a subject that names no video");
                    continue;
                };
                match serde_json::from_slice::<VideoEvent>(&msg.payload) {
                    Ok(kind) => {
                        let _ = local.send(Arc::new(Event { video_id, kind }));
                    }
                    Err(e) => tracing::warn!(subject = %msg.subject, error = %e, "ignoring a malformed event"),
                }
            }
        });
        let (outbox, mut queue) = mpsc::channel::<Arc<Event>>(OUTBOX);
        let pending = Arc::new(AtomicUsize::new(0));
        let (publisher, sent) = (client.clone(), pending.clone());
        tokio::spawn(async move {
            while let Some(event) = queue.recv().await {
                let body = serde_json::to_vec(&event.kind).unwrap_or_default();
                let subject = format!("{SUBJECT_PREFIX}{}", event.video_id);
                let mut headers = async_nats::HeaderMap::new();
                headers.insert(NODE_HEADER, &*node);
                if let Err(e) = publisher.publish_with_headers(subject, headers, body.into()).await {
                    tracing::warn!(error = %e, "publishing an event to NATS failed");
                }
                sent.fetch_sub(1, Ordering::SeqCst);
            }
        });
        Ok(Events {
            tx,
            nats: Some(Arc::new(NatsLink {
                outbox,
                pending,
                client,
            })),
        })
    }

    /// Waits (at most `limit`) until every event published so far has reached the NATS
    /// server; at once without NATS. Called before a process exits so its last events (a
    /// worker's `video.ready`) are not lost.
    pub async fn flush(&self, limit: std::time::Duration) {
        let Some(nats) = &self.nats else { return };
        let deadline = tokio::time::Instant::now() + limit;
        while nats.pending.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let _ = tokio::time::timeout_at(deadline, nats.client.flush()).await;
    }

    /// The bus a configuration names: NATS when `nats_url` is set, else in-process.
    ///
    /// Errors: see [`Events::connect`].
    pub async fn from_config(config: &crate::config::Config) -> anyhow::Result<Events> {
        match &config.nats_url {
            Some(url) => Events::connect(url).await,
            None => Ok(Events::new()),
        }
    }

    /// Sends `kind` to everyone watching `video_id`, on every node. Never fails: with no
    /// subscriber the event is simply dropped, and an event the NATS outbox has no room for
    /// reaches this node's subscribers only (logged).
    pub fn publish(&self, video_id: &VideoId, kind: VideoEvent) {
        let event = Arc::new(Event {
            video_id: video_id.clone(),
            kind,
        });
        let _ = self.tx.send(event.clone());
        if let Some(nats) = &self.nats {
            nats.pending.fetch_add(1, Ordering::SeqCst);
            if nats.outbox.try_send(event).is_err() {
                nats.pending.fetch_sub(1, Ordering::SeqCst);
                tracing::warn!(%video_id, "NATS event outbox full; an event reached this node only");
            }
        }
    }

    /// A stream of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_receive_what_is_published_after_they_subscribe() {
        let bus = Events::new();
        bus.publish(&VideoId::new(), VideoEvent::VideoDeleted);
        let mut rx = bus.subscribe();
        let vid = VideoId::new();
        bus.publish(&vid, VideoEvent::JobProgress { progress: 12.5 });
        let got = rx.recv().await.unwrap();
        assert_eq!(got.video_id, vid);
        assert_eq!(
            serde_json::to_value(&*got).unwrap(),
            serde_json::json!({"type": "job.progress", "progress": 12.5})
        );
    }

    /// Two buses on one NATS server stand for two nodes: what one publishes, the other's
    /// subscribers receive, and the publisher's own subscribers receive it once.
    #[tokio::test]
    async fn events_cross_nodes_over_nats() {
        let url = std::env::var("KINO_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
        let addr = url.trim_start_matches("nats://").to_string();
        if std::net::TcpStream::connect(&addr).is_err() && std::env::var("CI").is_err() {
            eprintln!("SKIPPED events_cross_nodes_over_nats: no NATS server at {url}");
            return;
        }
        let a = Events::connect(&url).await.expect("NATS reachable");
        let b = Events::connect(&url).await.expect("NATS reachable");
        let mut on_a = a.subscribe();
        let mut on_b = b.subscribe();
        let video = VideoId::new();
        a.publish(&video, VideoEvent::VideoReady { duration_secs: 5.0 });
        // Generous limits: on a loaded 2-core CI machine (browsers, ffmpeg, eight test
        // processes) a loopback round trip through nats-server has taken over 5 s.
        let got_b = tokio::time::timeout(std::time::Duration::from_secs(30), next_for(&mut on_b, &video))
            .await
            .expect("node B receives node A's event");
        assert_eq!(got_b.kind, VideoEvent::VideoReady { duration_secs: 5.0 });
        let got_a = tokio::time::timeout(std::time::Duration::from_secs(30), next_for(&mut on_a, &video))
            .await
            .expect("node A receives its own event");
        assert_eq!(got_a.kind, VideoEvent::VideoReady { duration_secs: 5.0 });
        // Exactly once on A: nothing more for this video arrives.
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(300), next_for(&mut on_a, &video))
                .await
                .is_err()
        );
    }

    #[test]
    fn events_read_back_what_they_write() {
        for kind in [
            VideoEvent::CommentDeleted {
                id: 7,
                video_id: "v".into(),
            },
            VideoEvent::VideoPrivacy {
                privacy: Privacy::Unlisted,
            },
            VideoEvent::VideoFailed { error: "why".into() },
            VideoEvent::LivePart {
                rendition: "360p".into(),
                msn: 12,
                part: 3,
                session: 2,
                number: 63,
            },
        ] {
            let text = serde_json::to_string(&kind).unwrap();
            assert_eq!(serde_json::from_str::<VideoEvent>(&text).unwrap(), kind, "{text}");
        }
        assert_eq!(
            serde_json::to_value(VideoEvent::VideoPrivacy {
                privacy: Privacy::Private
            })
            .unwrap(),
            serde_json::json!({"type": "video.privacy", "privacy": "private"})
        );
        assert!(serde_json::from_str::<VideoEvent>(r#"{"type": "video.exploded"}"#).is_err());
    }

    async fn next_for(rx: &mut broadcast::Receiver<Arc<Event>>, video: &str) -> Arc<Event> {
        loop {
            let e = rx.recv().await.unwrap();
            if e.video_id == video {
                return e;
            }
        }
    }
}
