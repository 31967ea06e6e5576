//! Kino's own HTTP/1.1 connection loop for media files (`http.sendfile`, on by default).
//!
//! Nearly every request a player makes is a plain `GET` of a segment, an init segment or a
//! media playlist; downloads are GETs of an original. Through hyper each costs a parse, a
//! response serialisation and, for a file, a copy of every byte into user space and back.
//! Here the connection is read by Kino: a request head is parsed with `httparse` (hyper's own
//! parser) and, when it is a plain GET or HEAD of a media file
//! ([`crate::http::direct::media_file`]), answered by [`Service::media_file_answer`] — the
//! same code, headers and status as through hyper (`tests/direct.rs` compares them) — and
//! written here (RFC 9112 §6 framing; delivery always sets `Content-Length`): the head by
//! Kino, a cached file body over [`SENDFILE_MIN_BYTES`] by the kernel with `sendfile(2)`, any other
//! body (hot segments from memory, short ranges, playlists, errors) in one `writev` with the
//! head.
//!
//! Everything else goes to hyper, with the bytes already read: other methods, HTTP/1.0, any
//! request with a body, `Expect`, `Upgrade` or `Transfer-Encoding`, absolute-form targets,
//! heads too large or malformed (hyper answers 400/431 as before), and every other path. Once
//! hyper has a connection it keeps it to the end.
//!
//! Limits are hyper's: the time to send a head, which also bounds an idle keep-alive
//! connection (`http.header_read_timeout_secs`), the largest head, and graceful shutdown (an
//! idle connection closes at once, a response in flight finishes). Pipelined requests are
//! answered in order.
//!
//! `sendfile(2)` reads the file's pages in the kernel, and a page not in the page cache would
//! be read from the disk inside the call, on the event loop. So it is used only when
//! `cachestat(2)` says every page of the body is cached ([`in_page_cache`]); a cold file goes
//! the usual way, its disk reads on the blocking pool. While an answer is being made (a held
//! LL-HLS reload) the connection is watched, and a client that leaves drops it, as with hyper.

use std::io::{self, IoSlice, Write as _};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode, Uri, header};
use bytes::{Buf, Bytes, BytesMut};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::http::delivery::{CHUNK_BYTES, FileRegion};
use crate::http::direct::{Service, media_file};

/// Most header fields a head answered here may have; a head with more goes to hyper.
const MAX_HEADERS: usize = 64;

/// Bodies from a file longer than this (bytes) go out with `sendfile(2)`; shorter ones are read
/// (one positioned read) and written with the head in one `writev`. Measured once with `wrk`
/// while choosing this (loopback, server on one core, kernel 6.18; `bench/run.sh` measures the
/// result): for a 64 KiB range, sendfile after a head sent with
/// `MSG_MORE` gave 19.7k answers/s, after a head in a packet of its own 30k, and the copy with
/// one `writev` 38k; for whole 585 KiB segments, sendfile with `MSG_MORE` matched a write from
/// memory (8.4–8.7k) and without it fell to 2.5k — nginx's `tcp_nopush` swings the same way.
const SENDFILE_MIN_BYTES: u64 = CHUNK_BYTES as u64;

/// What the next buffered request is.
enum Next {
    /// A media file request answered here, and the length of its head in bytes.
    Media(Box<MediaRequest>, usize),
    /// Anything else: hyper's.
    Other,
    /// The head is not complete yet.
    Partial,
}

/// A request answered here: a GET or HEAD with no body.
struct MediaRequest {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    /// The client asked to close the connection after this answer (`Connection: close`).
    close: bool,
}

/// Serves one connection: media files here, the rest of the connection from the first
/// other request on by `hand_over` (hyper), which gets the bytes already read.
///
/// `head_timeout`: the longest wait for a complete request head, idle time between requests
/// included (`http.header_read_timeout_secs`); `max_head`: the largest head in bytes (past it
/// hyper answers 431). When `shutdown` fires, an idle connection closes and a response in
/// flight finishes first.
pub async fn serve<F: Future<Output = ()>>(
    mut stream: TcpStream,
    peer: SocketAddr,
    service: Service,
    hand_over: impl FnOnce(Rewind) -> F,
    head_timeout: Duration,
    max_head: usize,
    shutdown: CancellationToken,
) {
    let mut buf = BytesMut::with_capacity(4096);
    // One timer and one shutdown waiter for the connection's life, re-armed per request.
    let head_deadline = tokio::time::sleep(head_timeout);
    let stopping = shutdown.cancelled();
    tokio::pin!(head_deadline, stopping);
    loop {
        // The whole head must arrive by then, however it is split (a slow-header client).
        head_deadline.as_mut().reset(tokio::time::Instant::now() + head_timeout);
        // Bytes of `buf` already searched for the end of a head: a head sent a byte at a time
        // is parsed once, when its blank line arrives, not once per read.
        let mut searched = 0;
        let next = loop {
            if let Some(end) = head_end(&buf, searched) {
                break match parse(&buf) {
                    Next::Media(_, head_len) if head_len > max_head => Next::Other,
                    Next::Partial if end >= max_head => Next::Other,
                    Next::Partial => {
                        // A blank line that did not end a head (leading empty lines).
                        searched = end;
                        continue;
                    }
                    next => next,
                };
            }
            searched = buf.len();
            if buf.len() >= max_head {
                // Too long a head: hyper answers 431.
                break Next::Other;
            }
            if buf.len() <= 1024 && matches!(parse(&buf), Next::Other) {
                // Not HTTP/1 at all (a TLS hello, garbage): hyper's 400 now, not at the timeout.
                break Next::Other;
            }
            if buf.capacity() - buf.len() < 1024 {
                buf.reserve(4096);
            }
            let read = tokio::select! {
                read = stream.read_buf(&mut buf) => read,
                // No complete head in time: close, as hyper does (it sends nothing either).
                _ = &mut head_deadline => return,
                // Between requests a shutdown closes the connection; a head half-read is
                // finished (hyper does the same).
                _ = &mut stopping, if buf.is_empty() => return,
            };
            match read {
                Ok(n) if n > 0 => {}
                // Closed by the client, or a read error.
                _ => return,
            }
        };
        let (request, head_len) = match next {
            Next::Media(request, head_len) => (request, head_len),
            _ => {
                hand_over(Rewind {
                    read: buf.freeze(),
                    stream,
                })
                .await;
                return;
            }
        };
        buf.advance(head_len);
        let answer = service.media_file_answer(peer, &request.method, &request.uri, &request.headers);
        let Some(response) = unless_gone(&stream, buf.is_empty(), answer).await else {
            // The client left while the answer was being made (a held LL-HLS reload): drop it.
            return;
        };
        let close = request.close || shutdown.is_cancelled();
        match write_response(&mut stream, &request.method, response, close).await {
            Ok(true) if !close && !shutdown.is_cancelled() => {}
            Ok(_) => {
                let _ = stream.shutdown().await;
                return;
            }
            Err(e) => {
                tracing::debug!(%peer, error = %e, "connection ended while writing a response");
                return;
            }
        }
    }
}

/// Where the first blank line whose last `\n` is at or after `from` ends in `buf` (the end of
/// a head, RFC 9112 §2.1: `\r\n\r\n`, or `\n\n` from lenient clients): only new bytes are
/// searched.
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    (from..buf.len())
        .find(|&i| buf[i] == b'\n' && (buf[..i].ends_with(b"\n") || buf[..i].ends_with(b"\n\r")))
        .map(|i| i + 1)
}

/// Awaits `answer`, watching the connection meanwhile (when nothing else is buffered): `None`
/// when the client closes it first, as hyper drops a handler whose client is gone. Data
/// arriving instead (the next request) stops the watch; it is read after this answer.
async fn unless_gone<T>(stream: &TcpStream, watch: bool, answer: impl Future<Output = T>) -> Option<T> {
    tokio::pin!(answer);
    let mut watching = watch;
    let mut probe = [0u8; 1];
    loop {
        tokio::select! {
            biased;
            answer = &mut answer => return Some(answer),
            peeked = stream.peek(&mut probe), if watching => match peeked {
                Ok(0) | Err(_) => return None,
                Ok(_) => watching = false,
            },
        }
    }
}

/// Parses the head at the start of `buf`. Only a request this loop answers the way hyper would
/// is [`Next::Media`]; anything unusual is [`Next::Other`], for hyper to answer or refuse.
fn parse(buf: &[u8]) -> Next {
    if buf.is_empty() {
        return Next::Partial;
    }
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut fields);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Next::Partial,
        Err(_) => return Next::Other,
    };
    let method = match req.method {
        Some("GET") => Method::GET,
        Some("HEAD") => Method::HEAD,
        _ => return Next::Other,
    };
    let (Some(1), Some(target)) = (req.version, req.path) else {
        return Next::Other;
    };
    // The path as `Uri` reads it (which is what the answer uses), and as sent: they differ
    // when the target holds a `#` or other text `Uri` cuts off — hyper's then.
    let Ok(uri) = target.parse::<Uri>() else {
        return Next::Other;
    };
    let sent = target.split_once('?').map_or(target, |(path, _)| path);
    if uri.path() != sent || media_file(uri.path()).is_none() {
        return Next::Other;
    }
    let mut headers = HeaderMap::with_capacity(req.headers.len());
    let mut close = false;
    for field in req.headers.iter() {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(field.name.as_bytes()),
            HeaderValue::from_bytes(field.value),
        ) else {
            return Next::Other;
        };
        if name == header::CONTENT_LENGTH {
            if value.as_bytes() != b"0" {
                return Next::Other;
            }
        } else if name == header::TRANSFER_ENCODING || name == header::EXPECT || name == header::UPGRADE {
            return Next::Other;
        } else if name == header::CONNECTION {
            let Ok(text) = value.to_str() else {
                return Next::Other;
            };
            for token in text.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    close = true;
                } else if !token.eq_ignore_ascii_case("keep-alive") {
                    // Hop-by-hop headers named in Connection: hyper's business.
                    return Next::Other;
                }
            }
        }
        headers.append(name, value);
    }
    Next::Media(
        Box::new(MediaRequest {
            method,
            uri,
            headers,
            close,
        }),
        head_len,
    )
}

/// Writes `response` to a `method` request (RFC 9112 §6: a HEAD, 1xx, 204 or 304 answer has no
/// body). Returns whether the connection may carry another request: false when the body had
/// no `Content-Length` (then its end is the connection's, RFC 9112 §6.3) or `close` is set
/// (the head then says `Connection: close`).
///
/// Errors: the client went away or the body failed mid-way; the connection must be closed.
async fn write_response(
    stream: &mut TcpStream,
    method: &Method,
    response: Response<Body>,
    close: bool,
) -> io::Result<bool> {
    let (parts, body) = response.into_parts();
    let bodiless = *method == Method::HEAD
        || parts.status.is_informational()
        || parts.status == StatusCode::NO_CONTENT
        || parts.status == StatusCode::NOT_MODIFIED;
    let length = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let close = close || (!bodiless && length.is_none());
    let head = head(&parts.status, &parts.headers, close, method);
    let region = parts.extensions.get::<FileRegion>().filter(|region| {
        let bytes = region.range.end - region.range.start;
        !bodiless && length == Some(bytes) && bytes > SENDFILE_MIN_BYTES && in_page_cache(region)
    });
    // Logged before the answer goes out (tests read it once they have the answer).
    let body_from = match (bodiless, region) {
        (true, _) => "none",
        (false, Some(_)) => "sendfile",
        (false, None) => "write",
    };
    tracing::debug!(
        status = parts.status.as_u16(),
        body = body_from,
        "answered on Kino's connection loop"
    );
    if bodiless {
        stream.write_all(&head).await?;
        return Ok(!close);
    }
    let mut head = Some(head);
    if let Some(region) = region {
        send_head_more(stream, &head.take().unwrap_or_default()).await?;
        match send_file(stream, region).await {
            Ok(()) => {
                // The body (and the stream permit it holds) is dropped only now, the bytes
                // sent.
                drop(body);
                return Ok(!close);
            }
            // No sendfile for this file (a file system without it): the body, read as
            // usual, follows the head already sent.
            Err(e) if e.kind() == io::ErrorKind::Unsupported => {}
            Err(e) => return Err(e),
        }
    }
    let mut body = body;
    let mut sent = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(io::Error::other)?;
        let Ok(data) = frame.into_data() else { continue };
        sent += data.len() as u64;
        if length.is_some_and(|length| sent > length) {
            return Err(io::Error::other(format!(
                "the body is longer than its Content-Length ({length:?} bytes)"
            )));
        }
        match head.take() {
            Some(head) => write_two(stream, &head, &data).await?,
            None => stream.write_all(&data).await?,
        }
    }
    if let Some(head) = head {
        stream.write_all(&head).await?;
    }
    if length.is_some_and(|length| length != sent) {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the body ended after {sent} of {length:?} bytes"),
        ));
    }
    Ok(!close)
}

/// Whether every page of `region` is in the page cache, asked with `cachestat(2)` (Linux 6.5):
/// only then does `sendfile(2)` run on the event loop, since it would read pages that are not
/// cached from the disk inside the call. Otherwise (not cached, or an older kernel) the body
/// goes the usual way, where a read that must wait for the disk runs on the blocking pool.
fn in_page_cache(region: &FileRegion) -> bool {
    /// `struct cachestat_range` of `<linux/mman.h>`.
    #[repr(C)]
    struct Range {
        off: u64,
        len: u64,
    }
    /// `struct cachestat` of `<linux/mman.h>`: page counts.
    #[repr(C)]
    #[derive(Default)]
    struct Stat {
        nr_cache: u64,
        nr_dirty: u64,
        nr_writeback: u64,
        nr_evicted: u64,
        nr_recently_evicted: u64,
    }
    /// The `cachestat` syscall's number, the same on every architecture (the table shared
    /// since Linux 5.1); the libc crate does not name it for x86-64 yet.
    const SYS_CACHESTAT: libc::c_long = 451;
    // SAFETY: sysconf has no preconditions.
    let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        n if n > 0 => n as u64,
        _ => return false,
    };
    let first = region.range.start / page * page;
    let range = Range {
        off: first,
        len: region.range.end - first,
    };
    let mut stat = Stat::default();
    // SAFETY: `range` and `stat` are live, properly laid out for the kernel's structs, and
    // the file descriptor is open for the call.
    let rc = unsafe {
        libc::syscall(
            SYS_CACHESTAT,
            region.file.as_raw_fd(),
            &range as *const Range,
            &mut stat as *mut Stat,
            0 as libc::c_uint,
        )
    };
    rc == 0 && stat.nr_cache >= range.len.div_ceil(page)
}

/// The status line and header fields (RFC 9112 §4, §5), with `Date` (RFC 9110 §6.6.1) unless
/// the response has one, and `Connection: close` when `close`. As hyper does, a 1xx or 204
/// answer, and a 304 to a GET, carry no `Content-Length` (RFC 9110 §8.6: not allowed in 1xx
/// and 204, optional in a 304); a 304 to a HEAD keeps the one delivery set (the full length).
fn head(status: &StatusCode, headers: &HeaderMap, close: bool, method: &Method) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    let _ = write!(
        out,
        "HTTP/1.1 {} {}\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or("")
    );
    let no_length = status.is_informational()
        || *status == StatusCode::NO_CONTENT
        || (*status == StatusCode::NOT_MODIFIED && *method != Method::HEAD);
    for (name, value) in headers {
        if no_length && name == header::CONTENT_LENGTH {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !headers.contains_key(header::DATE) {
        out.extend_from_slice(b"date: ");
        date::with_now(|now| out.extend_from_slice(now));
        out.extend_from_slice(b"\r\n");
    }
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Writes `a` then `b` with as few `writev(2)` calls as the socket allows.
async fn write_two(stream: &mut TcpStream, a: &[u8], b: &[u8]) -> io::Result<()> {
    let mut slices = [IoSlice::new(a), IoSlice::new(b)];
    let mut left: &mut [IoSlice<'_>] = &mut slices;
    while !left.is_empty() {
        let n = stream.write_vectored(left).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut left, n);
    }
    Ok(())
}

/// Writes the head with `MSG_MORE`, so the kernel sends it in one packet with the start of the
/// body that follows (the connection has `TCP_NODELAY`).
async fn send_head_more(stream: &TcpStream, head: &[u8]) -> io::Result<()> {
    let mut at = 0;
    while at < head.len() {
        stream.writable().await?;
        let rest = &head[at..];
        let sent = stream.try_io(Interest::WRITABLE, || {
            // SAFETY: `rest` is valid for `rest.len()` bytes for the duration of the call.
            let n = unsafe {
                libc::send(
                    stream.as_raw_fd(),
                    rest.as_ptr().cast(),
                    rest.len(),
                    libc::MSG_MORE | libc::MSG_NOSIGNAL,
                )
            };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        });
        match sent {
            Ok(n) => at += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Sends `region` of its file to the socket with `sendfile(2)`, waiting for the socket to
/// drain as the client reads (a slow reader holds no buffer of ours).
///
/// Errors: the client went away (`EPIPE`, `ECONNRESET`), or the file is shorter than the
/// region (it was truncated after the response was made); [`io::ErrorKind::Unsupported`]
/// when the file cannot be sent this way and nothing was sent.
async fn send_file(stream: &TcpStream, region: &FileRegion) -> io::Result<()> {
    /// Bytes per call: sendfile(2) moves at most 0x7ffff000 per call on Linux anyway.
    const MAX_PER_CALL: u64 = 1 << 30;
    let file = region.file.as_raw_fd();
    let mut offset = region.range.start;
    while offset < region.range.end {
        stream.writable().await?;
        let count = (region.range.end - offset).min(MAX_PER_CALL) as usize;
        let sent = stream.try_io(Interest::WRITABLE, || {
            let mut off = offset as libc::off_t;
            // SAFETY: both descriptors are open for the call (the socket is borrowed, the file
            // held by `region`); the kernel updates `off`, a local.
            let n = unsafe { libc::sendfile(stream.as_raw_fd(), file, &mut off, count) };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as u64)
            }
        });
        match sent {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file is shorter than its recorded size",
                ));
            }
            Ok(n) => offset += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if offset == region.range.start
                    && matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)) =>
            {
                return Err(io::Error::new(io::ErrorKind::Unsupported, e));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A connection handed to hyper: the bytes read so far, then the socket.
pub struct Rewind {
    read: Bytes,
    stream: TcpStream,
}

impl tokio::io::AsyncRead for Rewind {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        out: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        if !self.read.is_empty() {
            let n = self.read.len().min(out.remaining());
            out.put_slice(&self.read[..n]);
            self.read.advance(n);
            return std::task::Poll::Ready(Ok(()));
        }
        std::pin::Pin::new(&mut self.stream).poll_read(cx, out)
    }
}

impl tokio::io::AsyncWrite for Rewind {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.stream).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[IoSlice<'_>],
    ) -> std::task::Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.stream).poll_write_vectored(cx, data)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The `Date` header value, formatted once a second per thread (as hyper does).
mod date {
    use std::cell::RefCell;
    use std::time::{SystemTime, UNIX_EPOCH};

    thread_local! {
        static NOW: RefCell<(u64, String)> = const { RefCell::new((0, String::new())) };
    }

    /// Calls `f` with the IMF-fixdate of the current second (RFC 9110 §5.6.7).
    pub fn with_now<R>(f: impl FnOnce(&[u8]) -> R) -> R {
        let now = SystemTime::now();
        let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        NOW.with(|cell| {
            let mut cached = cell.borrow_mut();
            if cached.0 != secs || cached.1.is_empty() {
                *cached = (secs, httpdate::fmt_http_date(now));
            }
            f(cached.1.as_bytes())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(head: &str) -> &'static str {
        match parse(head.as_bytes()) {
            Next::Media(..) => "media",
            Next::Other => "other",
            Next::Partial => "partial",
        }
    }

    #[test]
    fn only_plain_gets_and_heads_of_rendition_files_are_taken() {
        let seg = "/hls/abc/720p/seg_00001.m4s";
        assert_eq!(kind(&format!("GET {seg} HTTP/1.1\r\nHost: x\r\n\r\n")), "media");
        assert_eq!(kind(&format!("HEAD {seg} HTTP/1.1\r\nHost: x\r\n\r\n")), "media");
        assert_eq!(
            kind(&format!("GET {seg}?_HLS_msn=3 HTTP/1.1\r\nHost: x\r\n\r\n")),
            "media"
        );
        assert_eq!(
            kind(&format!(
                "GET {seg} HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )),
            "media"
        );
        assert_eq!(kind(&format!("GET {seg} HTTP/1.1\r\nHost: x\r\n")), "partial");
        assert_eq!(kind(""), "partial");
        for other in [
            format!("GET {seg} HTTP/1.0\r\n\r\n"),
            format!("POST {seg} HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
            format!("OPTIONS {seg} HTTP/1.1\r\n\r\n"),
            format!("GET {seg} HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"),
            format!("GET {seg} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            format!("GET {seg} HTTP/1.1\r\nExpect: 100-continue\r\n\r\n"),
            format!("GET {seg} HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"),
            format!("GET http://x{seg} HTTP/1.1\r\n\r\n"),
            "GET /api/videos HTTP/1.1\r\n\r\n".to_string(),
            "GET /hls/abc/master.m3u8 HTTP/1.1\r\n\r\n".to_string(),
            "GET /hls/abc/720p/seg%5F1.m4s HTTP/1.1\r\n\r\n".to_string(),
            "GET /hls/abc/720p/#seg.m4s HTTP/1.1\r\n\r\n".to_string(),
            "GET /media/abc#/original HTTP/1.1\r\n\r\n".to_string(),
            format!("GET {seg} HTTP/1.1\r\nBad Header: x\r\n\r\n"),
            format!("GET  {seg} HTTP/1.1\r\n\r\n"),
        ] {
            assert_eq!(kind(&other), "other", "{other:?}");
        }
    }

    #[test]
    fn the_end_of_a_head_is_found_in_new_bytes_only() {
        let head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_eq!(head_end(head, 0), Some(head.len()));
        assert_eq!(head_end(head, head.len() - 1), Some(head.len()));
        assert_eq!(head_end(head, head.len()), None);
        assert_eq!(head_end(b"GET / HTTP/1.1\nHost: x\n\n", 0), Some(24));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: x\r\n", 0), None);
        // Leading blank lines end nothing: the search goes on after them.
        let led = b"\r\n\r\nGET / HTTP/1.1\r\n\r\n";
        assert_eq!(head_end(led, 0), Some(4));
        assert_eq!(head_end(led, 4), Some(led.len()));
    }

    #[test]
    fn a_head_says_date_and_close() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("3"));
        let text = String::from_utf8(head(&StatusCode::PARTIAL_CONTENT, &headers, true, &Method::GET)).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 206 Partial Content\r\ncontent-length: 3\r\ndate: "),
            "{text}"
        );
        assert!(text.ends_with(" GMT\r\nconnection: close\r\n\r\n"), "{text}");
        let date = text.split("date: ").nth(1).unwrap().split("\r\n").next().unwrap();
        assert!(httpdate::parse_http_date(date).is_ok(), "{date}");
        let text = String::from_utf8(head(&StatusCode::NOT_MODIFIED, &headers, false, &Method::GET)).unwrap();
        assert!(!text.contains("content-length"), "{text}");
        let text = String::from_utf8(head(&StatusCode::NOT_MODIFIED, &headers, false, &Method::HEAD)).unwrap();
        assert!(text.contains("content-length: 3\r\n"), "{text}");
    }
}
