//! Where a live rendition's segments begin: at an independent fragment (a keyframe) once the
//! open segment has lasted about `live.segment_secs`. Every rung of a broadcast has its
//! keyframes at the same instants (the plan keys them on the source's, or on the same
//! clock), and the rule reads only decode times, so every rung cuts at the same instants and
//! segment N of one rendition covers the same pictures as segment N of another.

/// Slack under the segment duration that still closes a segment, seconds: decode times of the
/// copied source and of encoded rungs differ by their composition offsets (B-frames).
const SLACK_SECS: f64 = 0.1;

/// What a fragment does to the segment being filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// It starts a new segment (the open one, if any, is complete).
    Starts,
    /// It is the next part of the open segment.
    Continues,
    /// Nothing can start with it (no segment is open and it is not independent): dropped.
    Dropped,
}

/// The segment boundary rule of one rendition.
#[derive(Debug, Clone)]
pub struct Cutter {
    segment_secs: f64,
    /// Decode time of the open segment's first fragment, seconds.
    open_since: Option<f64>,
}

impl Cutter {
    /// Segments of about `segment_secs` seconds.
    pub fn new(segment_secs: f64) -> Cutter {
        Cutter {
            segment_secs,
            open_since: None,
        }
    }

    /// Places the fragment that starts at `decode_secs`.
    pub fn place(&mut self, decode_secs: f64, independent: bool) -> Place {
        match self.open_since {
            _ if !independent || !decode_secs.is_finite() => {
                if self.open_since.is_some() {
                    Place::Continues
                } else {
                    Place::Dropped
                }
            }
            Some(since) if decode_secs - since < self.segment_secs - SLACK_SECS => Place::Continues,
            _ => {
                self.open_since = Some(decode_secs);
                Place::Starts
            }
        }
    }

    /// The open segment was closed from outside (the stream ended).
    pub fn close(&mut self) {
        self.open_since = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_start_on_keyframes_once_long_enough() {
        let mut c = Cutter::new(1.0);
        assert_eq!(c.place(0.0, false), Place::Dropped, "nothing to start from");
        assert_eq!(c.place(0.2, true), Place::Starts);
        assert_eq!(c.place(0.4, false), Place::Continues);
        assert_eq!(c.place(0.7, true), Place::Continues, "a keyframe 0.5 s in is too early");
        assert_eq!(c.place(1.13, true), Place::Starts, "0.93 s is within the slack");
        assert_eq!(c.place(1.33, false), Place::Continues);
        assert_eq!(
            c.place(f64::NAN, true),
            Place::Continues,
            "audio-only fragments ride along"
        );
        c.close();
        assert_eq!(c.place(5.0, false), Place::Dropped);
        assert_eq!(c.place(5.2, true), Place::Starts);
    }

    #[test]
    fn two_rungs_with_offset_decode_times_cut_alike() {
        let (mut a, mut b) = (Cutter::new(1.0), Cutter::new(1.0));
        for k in 0..20 {
            let t = f64::from(k) * 0.2;
            let key = k % 5 == 0;
            assert_eq!(a.place(t, key), b.place(t - 0.067, key), "fragment {k}");
        }
    }
}
