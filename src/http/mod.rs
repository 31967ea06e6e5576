//! The HTTP API and pages. One module per resource; [`error`] is the one error → response
//! map, [`delivery`] the one place files are served from storage, and [`caller`] the one place
//! credentials are read.

pub mod auth;
pub mod blob_source;
pub mod body_timeout;
pub mod caller;
pub mod captions;
pub mod chat;
pub mod client_ip;
pub mod comments;
pub mod delivery;
pub mod direct;
pub mod engagement;
pub mod error;
pub mod form_limit;
pub mod http1_media;
pub mod live;
pub mod live_streams;
pub mod ll_hls;
pub mod media;
pub mod openapi;
pub mod pages;
pub mod qoe;
pub mod ranges;
pub mod search;
pub mod security_headers;
pub mod segment_cache;
pub mod server;
pub mod share;
pub mod site_config;
pub mod tokens;
pub mod tus;
pub mod types;
pub mod upload;
pub mod users;
pub mod validators;
pub mod video_cache;
pub mod videos;
pub mod whole;
