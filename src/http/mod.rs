//! The HTTP API and pages. One module per resource; [`error`] is the one error → response
//! map and [`delivery`] the one place files are served from storage.

pub mod delivery;
pub mod error;
pub mod media;
pub mod pages;
pub mod videos;
