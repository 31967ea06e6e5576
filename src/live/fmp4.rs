//! Fragmented MP4 as the live ffmpeg writes it to a pipe (ISO/IEC 14496-12 §8.8, CMAF
//! fragments): an init segment (`ftyp` + `moov`), then one `moof` + `mdat` pair per fragment.
//! [`FragmentReader`] frames the top-level boxes and, with `mp4-atom`, reads from each
//! fragment's video `traf` what the packager needs to cut LL-HLS parts: its decode time
//! (`tfdt`), duration (the `trun` sample durations) and whether it starts on a sync sample
//! (an independent part, RFC 8216bis §4.4.4.9 `INDEPENDENT=YES`).

use anyhow::{Context, bail};
use bytes::{Bytes, BytesMut};
use mp4_atom::{Decode, Moof, Moov};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest top-level box accepted, bytes: a fragment of ~200 ms at the highest ingest bitrate
/// is far below this; anything larger is a broken stream.
const MAX_BOX_BYTES: u64 = 64 << 20;

/// `sample_is_non_sync_sample` in ISO/IEC 14496-12 §8.8.3.1 sample flags.
const NON_SYNC_SAMPLE: u32 = 0x0001_0000;

/// One fragment: its bytes (every box from the one after the previous `mdat` through its own
/// `mdat`), ready to be a part and, concatenated with its neighbours, a segment.
#[derive(Debug, Clone)]
pub struct Fragment {
    pub bytes: Bytes,
    /// Decode time of its first video sample, seconds from the track's start.
    pub decode_secs: f64,
    /// Sum of its video samples' durations, seconds.
    pub duration_secs: f64,
    /// Its first video sample is a sync sample (a keyframe): a player can start here.
    pub independent: bool,
}

/// The video track of an init segment, with the defaults its fragments may rely on.
#[derive(Debug, Clone, Copy, PartialEq)]
struct VideoTrack {
    id: u32,
    /// Ticks per second (`mdhd`).
    timescale: u32,
    /// `trex` defaults.
    default_duration: u32,
    default_flags: u32,
}

/// Reads an ffmpeg fragmented-MP4 stream fragment by fragment.
pub struct FragmentReader<R> {
    input: R,
    video: VideoTrack,
}

impl<R: AsyncRead + Unpin> FragmentReader<R> {
    /// Reads the init segment (every box up to and including `moov`) and returns it with a
    /// reader of the fragments that follow.
    ///
    /// Errors: the stream ends or breaks before `moov`, a box is malformed or over 64 MiB, or
    /// the `moov` has no video track.
    pub async fn open(mut input: R) -> anyhow::Result<(Bytes, FragmentReader<R>)> {
        let mut init = BytesMut::new();
        loop {
            let Some((kind, bytes)) = next_box(&mut input).await? else {
                bail!("the stream ended before its init segment");
            };
            init.extend_from_slice(&bytes);
            if &kind == b"moov" {
                let video = video_track(&bytes)?;
                return Ok((init.freeze(), FragmentReader { input, video }));
            }
        }
    }

    /// The next fragment; `None` at the end of the stream (ffmpeg's trailer boxes, such as
    /// `mfra`, are skipped).
    ///
    /// Errors: a broken box, a `moof` that does not decode or has no video `traf`, or the
    /// stream ending inside a fragment.
    pub async fn next(&mut self) -> anyhow::Result<Option<Fragment>> {
        let mut bytes = BytesMut::new();
        let mut moof = None;
        loop {
            let Some((kind, b)) = next_box(&mut self.input).await? else {
                if moof.is_some() {
                    bail!("the stream ended inside a fragment");
                }
                return Ok(None);
            };
            match &kind {
                b"moof" => {
                    moof = Some(
                        Moof::decode(&mut std::io::Cursor::new(&b[..])).context("a fragment's moof does not decode")?,
                    );
                    bytes.extend_from_slice(&b);
                }
                b"mdat" if moof.is_some() => {
                    bytes.extend_from_slice(&b);
                    let moof = moof.take().expect("checked");
                    return Ok(Some(self.fragment(&moof, bytes.freeze())?));
                }
                // Index and trailer boxes (mfra, sidx written at the end) are not media.
                b"mfra" | b"sidx" | b"free" | b"skip" if moof.is_none() => {}
                _ => bytes.extend_from_slice(&b),
            }
        }
    }

    fn fragment(&self, moof: &Moof, bytes: Bytes) -> anyhow::Result<Fragment> {
        let v = self.video;
        let Some(traf) = moof.traf.iter().find(|t| t.tfhd.track_id == v.id) else {
            // A fragment with audio only (the muxer flushed before a video sample came).
            return Ok(Fragment {
                bytes,
                decode_secs: f64::NAN,
                duration_secs: 0.0,
                independent: false,
            });
        };
        let default_duration = traf.tfhd.default_sample_duration.unwrap_or(v.default_duration);
        let default_flags = traf.tfhd.default_sample_flags.unwrap_or(v.default_flags);
        let mut ticks: u64 = 0;
        let mut first_flags = None;
        for trun in &traf.trun {
            for e in trun.samples.iter() {
                ticks += u64::from(e.duration.unwrap_or(default_duration));
                if first_flags.is_none() {
                    first_flags = Some(e.flags.unwrap_or(default_flags));
                }
            }
        }
        let timescale = f64::from(v.timescale.max(1));
        Ok(Fragment {
            bytes,
            decode_secs: traf.tfdt.as_ref().map_or(0, |t| t.base_media_decode_time) as f64 / timescale,
            duration_secs: ticks as f64 / timescale,
            independent: first_flags.is_some_and(|f| f & NON_SYNC_SAMPLE == 0),
        })
    }
}

/// The first video track of a `moov` box (`bytes` is the whole box).
fn video_track(bytes: &[u8]) -> anyhow::Result<VideoTrack> {
    let moov = Moov::decode(&mut std::io::Cursor::new(bytes)).context("the init segment's moov does not decode")?;
    let trak = moov
        .trak
        .iter()
        .find(|t| t.mdia.hdlr.handler == b"vide".into())
        .context("the init segment has no video track")?;
    let id = trak.tkhd.track_id;
    let trex = moov
        .mvex
        .as_ref()
        .and_then(|m| m.trex.iter().find(|t| t.track_id == id));
    Ok(VideoTrack {
        id,
        timescale: trak.mdia.mdhd.timescale,
        default_duration: trex.map_or(0, |t| t.default_sample_duration),
        default_flags: trex.map_or(0, |t| t.default_sample_flags),
    })
}

/// The next top-level box: its type and all its bytes, header included. `None` at a clean end
/// of stream (no byte of a new box read).
///
/// Errors: the stream breaks or ends inside a box, or a box declares a size under its header
/// or over [`MAX_BOX_BYTES`] (size 0, "to the end of the file", cannot be framed on a pipe).
async fn next_box<R: AsyncRead + Unpin>(input: &mut R) -> anyhow::Result<Option<([u8; 4], Bytes)>> {
    let mut head = [0u8; 8];
    let mut got = 0;
    while got < head.len() {
        let n = input
            .read(&mut head[got..])
            .await
            .context("reading ffmpeg's fragments")?;
        if n == 0 {
            if got == 0 {
                return Ok(None);
            }
            bail!("the stream ended inside a box header");
        }
        got += n;
    }
    let kind = [head[4], head[5], head[6], head[7]];
    let mut size = u64::from(u32::from_be_bytes([head[0], head[1], head[2], head[3]]));
    let mut header = head.to_vec();
    if size == 1 {
        let mut large = [0u8; 8];
        input
            .read_exact(&mut large)
            .await
            .context("reading a box's 64-bit size")?;
        size = u64::from_be_bytes(large);
        header.extend_from_slice(&large);
    }
    if size < header.len() as u64 || size > MAX_BOX_BYTES {
        bail!(
            "a {} box declares {size} bytes; not a fragmented MP4 stream this reader takes",
            String::from_utf8_lossy(&kind)
        );
    }
    let mut bytes = BytesMut::with_capacity(size as usize);
    bytes.extend_from_slice(&header);
    bytes.resize(size as usize, 0);
    input
        .read_exact(&mut bytes[header.len()..])
        .await
        .context("the stream ended inside a box")?;
    Ok(Some((kind, bytes.freeze())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn boxes_are_framed_and_bad_sizes_refused() {
        let mut stream: &[u8] = &[0, 0, 0, 12, b'f', b'r', b'e', b'e', 1, 2, 3, 4];
        let (kind, bytes) = next_box(&mut stream).await.unwrap().unwrap();
        assert_eq!((&kind, bytes.len()), (b"free", 12));
        assert!(next_box(&mut stream).await.unwrap().is_none(), "clean end");
        let mut short: &[u8] = &[0, 0, 0, 4, b'm', b'o', b'o', b'f'];
        assert!(next_box(&mut short).await.is_err(), "size under the header");
        let mut cut: &[u8] = &[0, 0, 0, 20, b'm', b'd', b'a', b't', 1];
        assert!(next_box(&mut cut).await.is_err(), "ends inside the box");
        let mut huge: &[u8] = &[0, 0, 0, 1, b'm', b'd', b'a', b't', 0, 0, 1, 0, 0, 0, 0, 0];
        assert!(next_box(&mut huge).await.unwrap_err().to_string().contains("declares"));
    }
}
