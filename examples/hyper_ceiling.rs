//! The ceiling of `bench/run.sh` (server `hyper`): the least an HTTP/1.1 server built on
//! hyper can do per request — every file of a directory held in memory, answered with one
//! write, a single `Range: bytes=a-b` as 206, a range past the end as 416 — on the same Tokio
//! runtime and hyper version as Kino. What Kino loses against it is Kino's own work; what
//! this loses against nginx is hyper's.
//!
//! ```sh
//! cargo build --release --example hyper_ceiling
//! hyper_ceiling 127.0.0.1:8080 DIR    # GET /files/NAME for each file in DIR; GET /healthz
//! ```

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

type Files = Arc<HashMap<String, Bytes>>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(dir)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: hyper_ceiling ADDR DIR");
    };
    let addr: SocketAddr = addr.parse()?;
    let mut files = HashMap::new();
    for entry in std::fs::read_dir(&dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            let name = entry.file_name().to_string_lossy().into_owned();
            files.insert(format!("/files/{name}"), Bytes::from(std::fs::read(entry.path())?));
        }
    }
    let files: Files = Arc::new(files);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let files = files.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let files = files.clone();
                async move { Ok::<_, Infallible>(answer(&files, &req)) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn answer(files: &Files, req: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    if path == "/healthz" {
        return Response::new(Full::new(Bytes::from_static(b"ok")));
    }
    let Some(bytes) = files.get(path) else {
        return status(StatusCode::NOT_FOUND);
    };
    let size = bytes.len() as u64;
    let range = req.headers().get(RANGE).and_then(|v| v.to_str().ok());
    let mut resp = match range.map(|r| http_range_header::parse_range_header(r).map(|p| p.validate(size))) {
        None | Some(Err(_)) => Response::new(Full::new(bytes.clone())),
        Some(Ok(Ok(ranges))) if ranges.len() == 1 => {
            let (a, b) = (*ranges[0].start(), *ranges[0].end());
            let mut r = Response::new(Full::new(bytes.slice(a as usize..=b as usize)));
            *r.status_mut() = StatusCode::PARTIAL_CONTENT;
            r.headers_mut()
                .insert(CONTENT_RANGE, format!("bytes {a}-{b}/{size}").parse().unwrap());
            r
        }
        Some(Ok(_)) => {
            let mut r = status(StatusCode::RANGE_NOT_SATISFIABLE);
            r.headers_mut()
                .insert(CONTENT_RANGE, format!("bytes */{size}").parse().unwrap());
            r
        }
    };
    resp.headers_mut().insert(CONTENT_TYPE, "video/mp4".parse().unwrap());
    resp
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = code;
    r.headers_mut().insert(CONTENT_LENGTH, 0.into());
    r
}
