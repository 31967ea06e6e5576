//! The live edge of every low-latency rendition this node has heard of: its newest part,
//! learned from `live.part` events (published by the ingest node after the part and the
//! playlists listing it are stored; carried to other nodes by NATS). A blocking playlist
//! reload (`_HLS_msn`/`_HLS_part`, RFC 8216bis §6.2.5.2) or a request for a hinted part waits
//! on a [`tokio::sync::watch`] of its rendition's edge — woken when the part lands, never
//! polling — so thousands of held requests cost one small future each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::events::{Event, VideoEvent};
use crate::ids::VideoId;

/// The newest part of one rendition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    /// Media sequence number of the segment the part belongs to (the open segment).
    pub msn: u64,
    /// The part's index in that segment, from 0.
    pub part: u32,
}

impl Edge {
    /// True when a blocking reload for segment `msn` (and part `part`, when given) may be
    /// answered: the part exists, or a later segment has begun (RFC 8216bis §6.2.5.2: a part
    /// index past the end of a complete segment means the next segment's first part); without
    /// `part`, once segment `msn` is complete.
    pub fn reached(self, msn: u64, part: Option<u32>) -> bool {
        match part {
            Some(part) => self >= Edge { msn, part },
            None => self.msn > msn,
        }
    }
}

/// Part numbers too: what a request for a hinted part file waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Known {
    pub edge: Option<Edge>,
    /// Number of the newest part in its session, and the session.
    pub number: Option<(u64, u64)>,
}

type Key = (VideoId, String);

/// Edges by video and rendition; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct LiveEdges {
    map: Arc<Mutex<HashMap<Key, watch::Sender<Known>>>>,
}

impl LiveEdges {
    /// A receiver of `rendition`'s edge, registering the rendition if it is new (its edge is
    /// then unknown until an event or [`LiveEdges::advance`] sets it).
    pub fn watch(&self, video: &VideoId, rendition: &str) -> watch::Receiver<Known> {
        let mut map = self.map.lock().expect("live edges poisoned");
        map.entry((video.clone(), rendition.to_string()))
            .or_insert_with(|| watch::channel(Known::default()).0)
            .subscribe()
    }

    /// Moves `rendition`'s edge forward to `edge` (never back: events may arrive late), with
    /// part `number` of `session` when known; wakes its waiters. A part of a newer publishing
    /// session replaces the edge whatever its place: a session that ended abnormally may have
    /// published parts of a segment the next session numbers again.
    pub fn advance(&self, video: &VideoId, rendition: &str, edge: Edge, number: Option<(u64, u64)>) {
        let mut map = self.map.lock().expect("live edges poisoned");
        let tx = map
            .entry((video.clone(), rendition.to_string()))
            .or_insert_with(|| watch::channel(Known::default()).0);
        tx.send_if_modified(|k| {
            let newer_session = matches!((number, k.number), (Some((s, _)), Some((old, _))) if s > old);
            if !newer_session && k.edge.is_some_and(|e| e >= edge) {
                return false;
            }
            k.edge = Some(edge);
            if number.is_some() {
                k.number = number;
            }
            true
        });
    }

    /// Forgets every rendition of `video` (its broadcast ended or it was deleted): waiters see
    /// the channel close and answer with what is stored.
    pub fn forget(&self, video: &VideoId) {
        self.map
            .lock()
            .expect("live edges poisoned")
            .retain(|(v, _), _| v != video);
    }

    /// Follows the event bus until `shutdown`: `live.part` advances an edge, the end of a
    /// broadcast or a delete forgets the video's.
    pub async fn follow(self, mut events: broadcast::Receiver<Arc<Event>>, shutdown: CancellationToken) {
        loop {
            let event = tokio::select! {
                e = events.recv() => e,
                _ = shutdown.cancelled() => return,
            };
            match event {
                Ok(e) => match &e.kind {
                    VideoEvent::LivePart {
                        rendition,
                        msn,
                        part,
                        session,
                        number,
                    } => self.advance(
                        &e.video_id,
                        rendition,
                        Edge { msn: *msn, part: *part },
                        Some((*session, *number)),
                    ),
                    // A broadcast starting (a new session) or stopping: edges start over.
                    VideoEvent::LiveState { .. } => self.forget(&e.video_id),
                    VideoEvent::VideoDeleted | VideoEvent::VideoReady { .. } => self.forget(&e.video_id),
                    _ => {}
                },
                // Missed events: the next part's event sets the edge again.
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edge_is_reached_by_its_part_or_a_later_segment() {
        let e = Edge { msn: 10, part: 2 };
        assert!(e.reached(10, Some(2)) && e.reached(10, Some(0)) && e.reached(9, Some(7)));
        assert!(!e.reached(10, Some(3)));
        assert!(!e.reached(10, None), "segment 10 is still open");
        assert!(e.reached(9, None));
        assert!(
            Edge { msn: 11, part: 0 }.reached(10, Some(5)),
            "past the end of 10 is 11.0"
        );
    }

    #[tokio::test]
    async fn waiters_wake_when_the_edge_moves_forward_only() {
        let edges = LiveEdges::default();
        let v = VideoId::new();
        let mut rx = edges.watch(&v, "360p");
        assert_eq!(rx.borrow_and_update().edge, None);
        edges.advance(&v, "360p", Edge { msn: 3, part: 1 }, Some((1, 16)));
        rx.changed().await.unwrap();
        assert_eq!(rx.borrow_and_update().edge, Some(Edge { msn: 3, part: 1 }));
        edges.advance(&v, "360p", Edge { msn: 3, part: 0 }, None);
        assert!(!rx.has_changed().unwrap(), "a late event does not move it back");
        edges.advance(&v, "360p", Edge { msn: 3, part: 0 }, Some((2, 0)));
        assert_eq!(
            rx.borrow_and_update().edge,
            Some(Edge { msn: 3, part: 0 }),
            "a newer session's part replaces the edge"
        );
        edges.forget(&v);
        assert!(rx.changed().await.is_err(), "forgetting closes the watch");
        assert!(edges.map.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn events_move_the_edge() {
        let bus = crate::events::Events::new();
        let edges = LiveEdges::default();
        let stop = CancellationToken::new();
        tokio::spawn(edges.clone().follow(bus.subscribe(), stop.clone()));
        let v = VideoId::new();
        let mut rx = edges.watch(&v, "source");
        bus.publish(
            &v,
            VideoEvent::LivePart {
                rendition: "source".into(),
                msn: 7,
                part: 4,
                session: 2,
                number: 39,
            },
        );
        tokio::time::timeout(std::time::Duration::from_secs(5), rx.changed())
            .await
            .unwrap()
            .unwrap();
        let k = *rx.borrow();
        assert_eq!(k.edge, Some(Edge { msn: 7, part: 4 }));
        assert_eq!(k.number, Some((2, 39)));
        stop.cancel();
    }
}
