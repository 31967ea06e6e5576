//! A bound on what the upload form's parser holds in memory. The multipart parser (multer)
//! buffers a part's header block until it finds the blank line that ends it, with no limit of
//! its own: a client could send a 60 MB "header" and have it held. Kino meters the bytes the
//! parser pulls from the request body against the part contents it hands to the handler;
//! the difference — boundaries, part headers, preamble, and whatever is buffered — may not
//! exceed [`MAX_FORM_OVERHEAD_BYTES`]. Body frames are fed to the parser in pieces of at most
//! [`PIECE_BYTES`], so one large network read cannot by itself overshoot the bound.
//!
//! A legitimate upload form (a handful of parts, headers of ~100 bytes each) uses under 2 KiB
//! of overhead.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::body::{Body, BodyDataStream, Bytes};
use futures::{Stream, StreamExt};

/// Most bytes of an upload form that may be anything but part contents (boundaries, part
/// headers, preamble) — and so the most the parser may hold beyond one piece.
pub const MAX_FORM_OVERHEAD_BYTES: u64 = 64 * 1024;

/// Largest piece of the request body handed to the parser at once, bytes.
pub const PIECE_BYTES: usize = 16 * 1024;

/// Shared counters between the metered body and the handler reading the form.
#[derive(Clone, Default)]
pub struct FormMeter(Arc<Counters>);

#[derive(Default)]
struct Counters {
    /// Bytes the parser pulled from the body.
    pulled: AtomicU64,
    /// Bytes of part contents the handler received.
    consumed: AtomicU64,
    /// The bound was crossed: the body read failed because of it.
    tripped: AtomicBool,
}

#[derive(Debug, thiserror::Error)]
#[error("the upload form holds more than {MAX_FORM_OVERHEAD_BYTES} bytes outside its parts' contents")]
struct FormOverheadExceeded;

impl FormMeter {
    /// Wraps a request body: its frames are cut into pieces of at most [`PIECE_BYTES`], and a
    /// read fails once the parser has pulled more than [`MAX_FORM_OVERHEAD_BYTES`] beyond
    /// what [`FormMeter::consumed`] reported.
    pub fn wrap(&self, body: Body) -> Body {
        Body::from_stream(Metered {
            inner: body.into_data_stream(),
            rest: Bytes::new(),
            counters: self.0.clone(),
            just_gave: false,
        })
    }

    /// Records `bytes` of part contents handed to the handler.
    pub fn consumed(&self, bytes: usize) {
        self.0.consumed.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// True once a read failed because the form's overhead crossed the bound.
    pub fn tripped(&self) -> bool {
        self.0.tripped.load(Ordering::Relaxed)
    }
}

/// The metered body. The parser reads whatever is ready in one go, so after each piece the
/// stream answers "not ready" once (waking itself at once): the parser then works through
/// what it holds before it pulls more, and what it holds stays near one piece.
struct Metered {
    inner: BodyDataStream,
    /// Unsent remainder of the last frame.
    rest: Bytes,
    counters: Arc<Counters>,
    /// The last poll handed out a piece.
    just_gave: bool,
}

impl Stream for Metered {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.just_gave {
            self.just_gave = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        while self.rest.is_empty() {
            match ready!(self.inner.poll_next_unpin(cx)) {
                Some(Ok(frame)) => self.rest = frame,
                other => return Poll::Ready(other),
            }
        }
        let take = self.rest.len().min(PIECE_BYTES);
        let piece = self.rest.split_to(take);
        let counters = &self.counters;
        let pulled = counters.pulled.fetch_add(take as u64, Ordering::Relaxed) + take as u64;
        let consumed = counters.consumed.load(Ordering::Relaxed);
        if pulled.saturating_sub(consumed) > MAX_FORM_OVERHEAD_BYTES + PIECE_BYTES as u64 {
            counters.tripped.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(axum::Error::new(FormOverheadExceeded))));
        }
        self.just_gave = true;
        Poll::Ready(Some(Ok(piece)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn a_body_the_reader_never_consumes_fails_past_the_bound() {
        let meter = FormMeter::default();
        let body = meter.wrap(Body::from(vec![b'x'; 200 * 1024]));
        let err = body.collect().await.expect_err("200 KiB of overhead must be refused");
        assert!(err.to_string().contains("outside its parts"), "{err}");
        assert!(meter.tripped());
    }

    #[tokio::test]
    async fn consumed_contents_do_not_count() {
        let meter = FormMeter::default();
        let mut body = meter.wrap(Body::from(vec![b'x'; 1024 * 1024]));
        let (mut total, mut sizes) = (0, Vec::new());
        while let Some(frame) = body.frame().await {
            let data = frame.unwrap().into_data().unwrap();
            meter.consumed(data.len());
            total += data.len();
            sizes.push(data.len());
        }
        assert_eq!(total, 1024 * 1024);
        assert!(
            sizes.iter().all(|n| *n <= PIECE_BYTES),
            "a piece above {PIECE_BYTES} bytes"
        );
        assert!(!meter.tripped());
    }
}
