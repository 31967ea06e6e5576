//! Byte-range requests, RFC 9110 §14: what a `Range` header asks of a representation of a
//! given size. Pure: parsing is `http-range-header`'s (strict RFC 9110 §14.1.1 grammar); this
//! module adds what that crate leaves to the server — resolving each range against the size,
//! coalescing overlapping or nearly adjacent ranges (§14.2: a server MAY), and a cap on their
//! number against amplification.
//!
//! The cases, as [`resolve`] answers them:
//! - no header, a unit other than `bytes`, or a syntactically invalid value → [`Ranges::Full`]
//!   (§14.2: a server MUST ignore a Range it does not understand);
//! - more than [`MAX_RANGES`] ranges → [`Ranges::Full`] (§14.2 lets a server ignore Range;
//!   nginx's `max_ranges` does the same);
//! - no range satisfiable → [`Ranges::Unsatisfiable`] (416, §15.5.17);
//! - one range left after coalescing → [`Ranges::Single`] (206 with `Content-Range`);
//! - several → [`Ranges::Multi`], sorted by offset (206 `multipart/byteranges`, §14.6).

use std::num::NonZeroUsize;
use std::ops::Range;

use http_range_header::{RangeUnsatisfiableError, SyntacticallyCorrectRange};

/// Most ranges honoured in one request; more and the whole representation is sent.
pub const MAX_RANGES: usize = 32;

/// Ranges closer than this many bytes are merged: a part's own headers (~80 bytes) would cost
/// more than sending the gap.
pub const COALESCE_GAP: u64 = 80;

/// What to send for a GET, byte offsets end-exclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ranges {
    /// 200 with the whole representation.
    Full,
    /// 206 with one range.
    Single(Range<u64>),
    /// 206 `multipart/byteranges`, at least two disjoint ranges in ascending order.
    Multi(Vec<Range<u64>>),
    /// 416 with `Content-Range: bytes */size`.
    Unsatisfiable,
}

/// Resolves the `Range` header value `header` (None: absent) against `size` bytes.
pub fn resolve(header: Option<&str>, size: u64) -> Ranges {
    let Some(value) = header else {
        return Ranges::Full;
    };
    let limit = NonZeroUsize::new(MAX_RANGES).expect("non-zero");
    let parsed = match http_range_header::parse_range_header_with_max_ranges(value, limit) {
        Ok(p) => p.into_ranges(),
        Err(RangeUnsatisfiableError::Unsatisfiable) => return Ranges::Unsatisfiable,
        // Invalid syntax, or rejected by the cap: ignore the header.
        Err(_) => return Ranges::Full,
    };
    let mut wanted: Vec<Range<u64>> = parsed.into_iter().filter_map(|r| satisfiable(r, size)).collect();
    if wanted.is_empty() {
        return Ranges::Unsatisfiable;
    }
    wanted.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<u64>> = Vec::with_capacity(wanted.len());
    for r in wanted {
        match merged.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(COALESCE_GAP) => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    match merged.len() {
        // Still a 206 when the one range is the whole representation: it was asked for.
        1 => Ranges::Single(merged.pop().expect("one range")),
        _ => Ranges::Multi(merged),
    }
}

/// RFC 9110 §14.1.2: one range-spec against `size` bytes, clamped to the end; `None` when it
/// selects nothing (a first position at or past the end, or a zero suffix).
fn satisfiable(r: SyntacticallyCorrectRange, size: u64) -> Option<Range<u64>> {
    let (start, end_incl) = match r {
        SyntacticallyCorrectRange::FromStart(start) => (start, size.checked_sub(1)?),
        SyntacticallyCorrectRange::FromLast(0) => return None,
        SyntacticallyCorrectRange::FromLast(n) => (size.saturating_sub(n), size.checked_sub(1)?),
        SyntacticallyCorrectRange::Indexed(start, end) => (start, end.min(size.checked_sub(1)?)),
    };
    (start <= end_incl && start < size).then(|| start..end_incl + 1)
}

/// Panics unless [`resolve`]'s answer for `header` against `size` bytes is well formed:
/// ranges non-empty, inside the representation, ascending, disjoint beyond [`COALESCE_GAP`],
/// at most [`MAX_RANGES`]. The property the `cargo fuzz` target (`fuzz/`) and the unit tests
/// check.
#[doc(hidden)]
pub fn check_invariants(header: &str, size: u64) {
    match resolve(Some(header), size) {
        Ranges::Single(x) => assert!(x.start < x.end && x.end <= size, "{header}: {x:?}"),
        Ranges::Multi(xs) => {
            assert!(xs.len() >= 2 && xs.len() <= MAX_RANGES, "{header}");
            for w in xs.windows(2) {
                assert!(w[0].end.saturating_add(COALESCE_GAP) < w[1].start, "{header}: {xs:?}");
            }
            assert!(xs.iter().all(|x| x.start < x.end && x.end <= size), "{header}: {xs:?}");
        }
        Ranges::Full | Ranges::Unsatisfiable => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(v: &str, size: u64) -> Ranges {
        resolve(Some(v), size)
    }

    #[test]
    fn single_open_ended_and_suffix_ranges() {
        assert_eq!(r("bytes=0-99", 1000), Ranges::Single(0..100));
        assert_eq!(r("bytes=500-", 1000), Ranges::Single(500..1000));
        assert_eq!(r("bytes=-300", 1000), Ranges::Single(700..1000));
        // §14.1.2: a suffix longer than the representation selects all of it.
        assert_eq!(r("bytes=-5000", 1000), Ranges::Single(0..1000));
        assert_eq!(r("bytes=900-5000", 1000), Ranges::Single(900..1000));
        assert_eq!(r("BYTES=0-0", 1000), Ranges::Single(0..1));
    }

    #[test]
    fn unsatisfiable_ranges_get_416() {
        assert_eq!(r("bytes=1000-", 1000), Ranges::Unsatisfiable);
        assert_eq!(r("bytes=1000-2000", 1000), Ranges::Unsatisfiable);
        assert_eq!(r("bytes=-0", 1000), Ranges::Unsatisfiable);
        assert_eq!(r("bytes=0-", 0), Ranges::Unsatisfiable);
        assert_eq!(r("bytes=5000-6000, 7000-", 1000), Ranges::Unsatisfiable);
    }

    #[test]
    fn invalid_headers_are_ignored() {
        assert_eq!(resolve(None, 1000), Ranges::Full);
        for bad in [
            "bytes=abc",
            "items=0-9",
            "bytes=5-1",
            "bytes 0-9",
            "bytes=",
            "bytes=--1",
            "bytes=0-9;x",
        ] {
            assert_eq!(r(bad, 1000), Ranges::Full, "{bad}");
        }
    }

    #[test]
    fn several_ranges_become_multipart_sorted_and_coalesced() {
        assert_eq!(r("bytes=0-99,500-599", 1000), Ranges::Multi(vec![0..100, 500..600]));
        assert_eq!(r("bytes=500-599,0-99", 1000), Ranges::Multi(vec![0..100, 500..600]));
        // Overlapping and touching ranges merge into one.
        assert_eq!(r("bytes=0-99,50-199", 1000), Ranges::Single(0..200));
        assert_eq!(r("bytes=0-99,100-199", 1000), Ranges::Single(0..200));
        // A gap smaller than a part's headers is sent rather than split.
        assert_eq!(r("bytes=0-99,150-199", 1000), Ranges::Single(0..200));
        assert_eq!(r("bytes=0-9,-10,400-", 1000), Ranges::Multi(vec![0..10, 400..1000]));
        // Unsatisfiable members are dropped when others are satisfiable.
        assert_eq!(r("bytes=0-9,2000-3000", 1000), Ranges::Single(0..10));
    }

    #[test]
    fn too_many_ranges_are_ignored_against_amplification() {
        let many: Vec<String> = (0..=MAX_RANGES as u64)
            .map(|i| format!("{}-{}", i * 200, i * 200 + 9))
            .collect();
        assert_eq!(r(&format!("bytes={}", many.join(",")), 100_000), Ranges::Full);
        let ok: Vec<String> = (0..MAX_RANGES as u64)
            .map(|i| format!("{}-{}", i * 200, i * 200 + 9))
            .collect();
        assert!(matches!(r(&format!("bytes={}", ok.join(",")), 100_000), Ranges::Multi(v) if v.len() == MAX_RANGES));
        // A thousand copies of the same range cannot multiply the response either.
        let same = vec!["0-999"; 20].join(",");
        assert_eq!(r(&format!("bytes={same}"), 1000), Ranges::Single(0..1000));
    }

    #[test]
    fn any_header_resolves_within_bounds() {
        // A cheap exhaustive sweep standing in for the fuzz target on CI.
        let parts = [
            "0",
            "1",
            "9",
            "10",
            "999",
            "1000",
            "",
            "-",
            "18446744073709551615",
            "x",
            " ",
        ];
        for a in parts {
            for b in parts {
                for c in parts {
                    let v = format!("bytes={a}-{b},{c}");
                    check_invariants(&v, 1000);
                    check_invariants(&v, 0);
                }
            }
        }
    }
}
