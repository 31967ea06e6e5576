//! Events that open pages need — new, edited and deleted comments now; job progress, chat and
//! viewer counts later — published by whichever handler causes them and delivered to every
//! subscriber. In-process (`tokio::sync::broadcast`) on the embedded default; a NATS
//! implementation slots in behind [`Events::publish`] / [`Events::subscribe`] so events cross
//! nodes.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;

/// Events buffered per subscriber; a subscriber that falls further behind misses the oldest
/// (and is told so, see [`broadcast::error::RecvError::Lagged`]).
const BUFFER: usize = 1024;

/// One event about one video.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// The video it concerns (subscribers filter on it).
    #[serde(skip)]
    pub video_id: String,
    /// The JSON pushed to pages as is: `{"type": "comment.created", …}`.
    #[serde(flatten)]
    pub payload: serde_json::Value,
}

/// The event bus, cheap to clone.
#[derive(Clone, Debug)]
pub struct Events {
    tx: broadcast::Sender<Arc<Event>>,
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
        }
    }

    /// Sends `payload` (a JSON object with a `type`) to everyone watching `video_id`. Never
    /// fails: with no subscriber the event is simply dropped.
    pub fn publish(&self, video_id: &str, payload: serde_json::Value) {
        let _ = self.tx.send(Arc::new(Event {
            video_id: video_id.to_string(),
            payload,
        }));
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
        bus.publish("early", serde_json::json!({"type": "x"}));
        let mut rx = bus.subscribe();
        bus.publish("vid", serde_json::json!({"type": "comment.created", "n": 1}));
        let got = rx.recv().await.unwrap();
        assert_eq!(got.video_id, "vid");
        assert_eq!(
            serde_json::to_value(&*got).unwrap(),
            serde_json::json!({"type": "comment.created", "n": 1})
        );
    }
}
