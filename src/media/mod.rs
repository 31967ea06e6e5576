//! The media engine: ffprobe and ffmpeg run as controlled child processes.
//!
//! Read in this order: [`probe`] (what is the source?), [`ladder`] (which renditions?),
//! [`passthrough`] (what plays first?), [`transcode`] (the ladder's ffmpeg run), [`playlist`]
//! (measure and publish), [`poster`].
//! [`process`] is the only place a child process is started.

pub mod captions;
pub mod ladder;
pub mod language;
pub mod passthrough;
pub mod playlist;
pub mod poster;
pub mod probe;
pub mod process;
pub mod storyboard;
pub mod transcode;
