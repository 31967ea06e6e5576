//! Kino: a self-hosted video platform. Uploads are probed, transcoded into an adaptive-bitrate
//! HLS ladder by ffmpeg, and streamed to any browser.
//!
//! Read in this order: [`config`], [`app`] (state and routes), [`http`] (handlers),
//! [`jobs`] (queue workers and the transcode pipeline), [`media`] (ffprobe/ffmpeg),
//! [`db`] (metadata), [`storage`] (blobs), [`auth`] (accounts, sessions, privacy, signed
//! playback), [`operator`] (account and token commands).

pub mod app;
pub mod auth;
pub mod captions;
pub mod config;
pub mod db;
pub mod events;
pub mod http;
pub mod ids;
pub mod import;
pub mod ingest;
pub mod jobs;
pub mod live;
pub mod media;
pub mod metrics;
pub mod operator;
pub mod proxies;
pub mod qoe;
pub mod storage;
pub mod tags;
pub mod video;
