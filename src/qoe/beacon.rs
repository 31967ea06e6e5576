//! Player beacons (`POST /api/qoe/beacons`, schema in `docs/qoe.md`): parsing with every field
//! checked, and the fold of a view's events into the additive change of its summary
//! ([`ViewDelta`]).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

/// Most events in one beacon request.
pub const MAX_EVENTS: usize = 200;
/// Largest beacon request body, bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Latest `t` of an event: a day, in ms.
const MAX_T_MS: f64 = 86_400_000.0;
/// Largest media position, seconds (a week: live DVR included).
const MAX_POSITION_SECS: f64 = 604_800.0;

/// One validated event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// UUID v4 made by the player for the view.
    pub view_id: String,
    pub video_id: String,
    /// 0, 1, 2, … per view.
    pub seq: i64,
    /// Milliseconds since the view started (the player's clock).
    pub t_ms: i64,
    pub payload: Payload,
}

/// What happened, with its own fields (docs/qoe.md lists when each is sent).
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Payload {
    ViewStart {
        player: String,
        player_version: String,
        live: bool,
        autoplay: bool,
    },
    PlayRequest {},
    FirstFrame {
        startup_ms: f64,
    },
    RebufferStart {
        position: f64,
    },
    RebufferEnd {
        duration_ms: f64,
    },
    Rendition {
        bitrate: f64,
        height: f64,
        width: f64,
    },
    Seek {
        from: f64,
        to: f64,
    },
    Seeked {
        latency_ms: f64,
    },
    Error {
        fatal: bool,
        code: String,
        detail: String,
    },
    DroppedFrames {
        dropped: f64,
        decoded: f64,
    },
    Pause {
        #[serde(default)]
        position: Option<f64>,
    },
    Play {
        #[serde(default)]
        position: Option<f64>,
    },
    Ended {
        #[serde(default)]
        position: Option<f64>,
    },
    Watch {
        ms: f64,
        bitrate: f64,
        height: f64,
        #[serde(default)]
        latency: Option<f64>,
    },
    PageHide {},
}

impl Payload {
    /// The event's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Payload::ViewStart { .. } => "view_start",
            Payload::PlayRequest {} => "play_request",
            Payload::FirstFrame { .. } => "first_frame",
            Payload::RebufferStart { .. } => "rebuffer_start",
            Payload::RebufferEnd { .. } => "rebuffer_end",
            Payload::Rendition { .. } => "rendition",
            Payload::Seek { .. } => "seek",
            Payload::Seeked { .. } => "seeked",
            Payload::Error { .. } => "error",
            Payload::DroppedFrames { .. } => "dropped_frames",
            Payload::Pause { .. } => "pause",
            Payload::Play { .. } => "play",
            Payload::Ended { .. } => "ended",
            Payload::Watch { .. } => "watch",
            Payload::PageHide {} => "page_hide",
        }
    }

    /// The event's own fields as JSON (with `type`), as stored in `qoe_events.data`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// Every number in range, every string in shape; the message names the field.
    fn check(&self) -> Result<(), String> {
        match self {
            Payload::ViewStart {
                player, player_version, ..
            } => {
                text(player, "player", 40)?;
                text(player_version, "player_version", 40)
            }
            Payload::PlayRequest {} | Payload::PageHide {} => Ok(()),
            Payload::FirstFrame { startup_ms } => range(*startup_ms, "startup_ms", 600_000.0),
            Payload::RebufferStart { position } => range(*position, "position", MAX_POSITION_SECS),
            Payload::RebufferEnd { duration_ms } => range(*duration_ms, "duration_ms", 3_600_000.0),
            Payload::Rendition { bitrate, height, width } => {
                positive(*bitrate, "bitrate", 1e9)?;
                range(*height, "height", 8640.0)?;
                range(*width, "width", 15_360.0)
            }
            Payload::Seek { from, to } => {
                range(*from, "from", MAX_POSITION_SECS)?;
                range(*to, "to", MAX_POSITION_SECS)
            }
            Payload::Seeked { latency_ms } => range(*latency_ms, "latency_ms", 600_000.0),
            Payload::Error { code, detail, .. } => {
                if code.is_empty()
                    || code.len() > 64
                    || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))
                {
                    return Err("code must be 1–64 of A-Z a-z 0-9 _ . : -".into());
                }
                text(detail, "detail", 500)
            }
            Payload::DroppedFrames { dropped, decoded } => {
                range(*dropped, "dropped", 1e7)?;
                range(*decoded, "decoded", 1e7)
            }
            Payload::Pause { position } | Payload::Play { position } | Payload::Ended { position } => {
                position.map_or(Ok(()), |p| range(p, "position", MAX_POSITION_SECS))
            }
            Payload::Watch {
                ms,
                bitrate,
                height,
                latency,
            } => {
                range(*ms, "ms", 600_000.0)?;
                range(*bitrate, "bitrate", 1e9)?;
                range(*height, "height", 8640.0)?;
                latency.map_or(Ok(()), |l| range(l, "latency", 3600.0))
            }
        }
    }
}

fn range(x: f64, name: &str, max: f64) -> Result<(), String> {
    if x.is_finite() && (0.0..=max).contains(&x) {
        Ok(())
    } else {
        Err(format!("{name} must be a number 0–{max}"))
    }
}

fn positive(x: f64, name: &str, max: f64) -> Result<(), String> {
    if x.is_finite() && x >= 1.0 && x <= max {
        Ok(())
    } else {
        Err(format!("{name} must be a number 1–{max}"))
    }
}

fn text(s: &str, name: &str, max_chars: usize) -> Result<(), String> {
    if s.chars().count() > max_chars || s.chars().any(char::is_control) {
        Err(format!(
            "{name} must be at most {max_chars} characters, none of them control characters"
        ))
    } else {
        Ok(())
    }
}

/// True for a lowercase UUID v4 (`xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`).
pub fn is_view_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        })
        && b[14] == b'4'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
}

/// Parses a beacon body: a JSON array of 1–[`MAX_EVENTS`] events, each valid, and one video
/// per view. Errors: the first problem, naming the event's index (`"event 3: …"`); nothing of
/// an invalid batch is kept.
pub fn parse(body: &[u8]) -> Result<Vec<Event>, String> {
    let items: Vec<Map<String, Value>> =
        serde_json::from_slice(body).map_err(|e| format!("the body must be a JSON array of event objects: {e}"))?;
    if items.is_empty() || items.len() > MAX_EVENTS {
        return Err(format!("a beacon holds 1–{MAX_EVENTS} events (got {})", items.len()));
    }
    let mut out = Vec::with_capacity(items.len());
    let mut video_of: BTreeMap<String, String> = BTreeMap::new();
    for (i, mut item) in items.into_iter().enumerate() {
        let event = event(&mut item).map_err(|why| format!("event {i}: {why}"))?;
        match video_of.get(&event.view_id) {
            Some(v) if *v != event.video_id => {
                return Err(format!(
                    "event {i}: one view plays one video (view {} was {v})",
                    event.view_id
                ));
            }
            Some(_) => {}
            None => {
                video_of.insert(event.view_id.clone(), event.video_id.clone());
            }
        }
        out.push(event);
    }
    Ok(out)
}

fn event(item: &mut Map<String, Value>) -> Result<Event, String> {
    let view_id = match item.remove("view_id") {
        Some(Value::String(s)) if is_view_id(&s) => s,
        _ => return Err("view_id must be a lowercase UUID v4".into()),
    };
    let video_id = match item.remove("video_id") {
        Some(Value::String(s)) if crate::ids::is_video_id(&s) => s,
        _ => return Err("video_id must be a video id (12 characters of A-Z a-z 0-9 - _)".into()),
    };
    let seq = match item.remove("seq").as_ref().and_then(Value::as_i64) {
        Some(n) if (0..=1_000_000).contains(&n) => n,
        _ => return Err("seq must be an integer 0–1000000".into()),
    };
    let t_ms = match item.remove("t").as_ref().and_then(Value::as_f64) {
        Some(t) if t.is_finite() && (0.0..=MAX_T_MS).contains(&t) => t.round() as i64,
        _ => return Err(format!("t must be milliseconds 0–{MAX_T_MS}")),
    };
    let payload: Payload = serde_json::from_value(Value::Object(std::mem::take(item))).map_err(|e| e.to_string())?;
    payload.check()?;
    Ok(Event {
        view_id,
        video_id,
        seq,
        t_ms,
        payload,
    })
}

/// What a set of new events of one view adds to its summary row. Counters add; `startup_ms`
/// is kept from the first first frame; the last fatal error names the failure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ViewDelta {
    pub video_id: String,
    pub player: Option<(String, String)>,
    pub live: bool,
    pub play_requested: bool,
    pub startup_ms: Option<i64>,
    pub watch_ms: i64,
    pub rebuffer_count: i64,
    pub rebuffer_ms: i64,
    pub seek_count: i64,
    pub seek_ms: i64,
    pub errors: i64,
    pub failed: bool,
    /// (code, detail) of the error to show: the latest fatal one, else the latest.
    pub error: Option<(String, String)>,
    pub dropped_frames: i64,
    pub bitrate_bits: i64,
    pub bitrate_ms: i64,
    pub latency_ms_sum: i64,
    pub latency_samples: i64,
    pub ended: bool,
    pub page_hidden: bool,
    /// Milliseconds played per rendition height.
    pub renditions: BTreeMap<i64, i64>,
}

impl ViewDelta {
    /// Folds `events` (all of one view, in `seq` order) into the change they make.
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> ViewDelta {
        let mut d = ViewDelta::default();
        for e in events {
            if d.video_id.is_empty() {
                d.video_id = e.video_id.clone();
            }
            match &e.payload {
                Payload::ViewStart {
                    player,
                    player_version,
                    live,
                    ..
                } => {
                    d.player = Some((player.clone(), player_version.clone()));
                    d.live = *live;
                }
                Payload::PlayRequest {} => d.play_requested = true,
                Payload::FirstFrame { startup_ms } => {
                    d.startup_ms.get_or_insert(startup_ms.round() as i64);
                }
                Payload::RebufferStart { .. } => d.rebuffer_count += 1,
                Payload::RebufferEnd { duration_ms } => {
                    d.rebuffer_ms += duration_ms.round() as i64;
                    // Stalls count as watch time (docs/qoe.md): the viewer sat through them.
                    d.watch_ms += duration_ms.round() as i64;
                }
                // A chain of seeks settles once: the latency is per settled seek.
                Payload::Seeked { latency_ms } => {
                    d.seek_count += 1;
                    d.seek_ms += latency_ms.round() as i64;
                }
                Payload::Error { fatal, code, detail } => {
                    d.errors += 1;
                    if *fatal || !d.failed {
                        d.error = Some((code.clone(), detail.clone()));
                    }
                    d.failed |= *fatal;
                }
                Payload::DroppedFrames { dropped, .. } => d.dropped_frames += *dropped as i64,
                Payload::Watch {
                    ms,
                    bitrate,
                    height,
                    latency,
                } => {
                    let ms = ms.round() as i64;
                    d.watch_ms += ms;
                    // 1 bit/s is the player's "unknown" (native HLS does not say).
                    if *bitrate > 1.0 {
                        d.bitrate_bits += (*bitrate * ms as f64 / 1000.0).round() as i64;
                        d.bitrate_ms += ms;
                    }
                    if ms > 0 {
                        *d.renditions.entry(*height as i64).or_default() += ms;
                    }
                    if let Some(l) = latency {
                        d.latency_ms_sum += (l * 1000.0).round() as i64;
                        d.latency_samples += 1;
                    }
                }
                Payload::Ended { .. } => d.ended = true,
                Payload::PageHide {} => d.page_hidden = true,
                Payload::Seek { .. } | Payload::Rendition { .. } | Payload::Pause { .. } | Payload::Play { .. } => {}
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIEW: &str = "0b5f9d2e-3c1a-4b7e-9f00-123456789abc";

    fn body(events: &[Value]) -> Vec<u8> {
        serde_json::to_vec(events).unwrap()
    }

    fn ev(seq: i64, t: f64, rest: Value) -> Value {
        let mut m = serde_json::json!({"view_id": VIEW, "video_id": "abcdefghijkl", "seq": seq, "t": t});
        m.as_object_mut().unwrap().extend(rest.as_object().unwrap().clone());
        m
    }

    #[test]
    fn a_whole_view_folds_into_its_figures() {
        let events = parse(&body(&[
            ev(0, 0.0, serde_json::json!({"type": "view_start", "player": "kino", "player_version": "1.7.4", "live": false, "autoplay": true})),
            ev(1, 5.0, serde_json::json!({"type": "play_request"})),
            ev(2, 420.4, serde_json::json!({"type": "first_frame", "startup_ms": 415.4})),
            ev(3, 421.0, serde_json::json!({"type": "rendition", "bitrate": 3000000, "height": 720, "width": 1280})),
            ev(4, 9000.0, serde_json::json!({"type": "watch", "ms": 8000, "bitrate": 3000000, "height": 720})),
            ev(5, 9000.0, serde_json::json!({"type": "rebuffer_start", "position": 8.0})),
            ev(6, 9500.0, serde_json::json!({"type": "rebuffer_end", "duration_ms": 500})),
            ev(7, 9600.0, serde_json::json!({"type": "rendition", "bitrate": 800000, "height": 360, "width": 640})),
            ev(8, 13_500.0, serde_json::json!({"type": "watch", "ms": 4000, "bitrate": 800000, "height": 360})),
            ev(9, 13_600.0, serde_json::json!({"type": "error", "fatal": false, "code": "networkError:fragLoadError", "detail": "HTTP 500"})),
            ev(10, 14_000.0, serde_json::json!({"type": "page_hide"})),
        ]))
        .unwrap();
        let d = ViewDelta::fold(&events);
        assert_eq!(d.player, Some(("kino".into(), "1.7.4".into())));
        assert!(d.play_requested && d.page_hidden && !d.failed);
        assert_eq!(d.startup_ms, Some(415));
        assert_eq!((d.rebuffer_count, d.rebuffer_ms), (1, 500));
        assert_eq!(d.watch_ms, 12_500);
        assert_eq!(d.bitrate_bits, 8 * 3_000_000 + 4 * 800_000);
        assert_eq!(d.bitrate_ms, 12_000);
        assert_eq!(d.renditions, BTreeMap::from([(360, 4000), (720, 8000)]));
        assert_eq!(d.errors, 1);
        assert_eq!(d.error, Some(("networkError:fragLoadError".into(), "HTTP 500".into())));
    }

    #[test]
    fn bad_events_are_named_and_refused() {
        let cases = [
            (serde_json::json!([]), "1–200 events"),
            (serde_json::json!({"type": "play_request"}), "JSON array"),
            (
                serde_json::json!([ev(0, 0.0, serde_json::json!({"type": "first_frame", "startup_ms": -1}))]),
                "event 0: startup_ms",
            ),
            (
                serde_json::json!([ev(
                    0,
                    0.0,
                    serde_json::json!({"type": "first_frame", "startup_ms": 1, "extra": 2})
                )]),
                "unknown field",
            ),
            (
                serde_json::json!([ev(0, 0.0, serde_json::json!({"type": "teleport"}))]),
                "unknown variant",
            ),
            (
                serde_json::json!([ev(0, -5.0, serde_json::json!({"type": "play_request"}))]),
                "t must be",
            ),
            (
                serde_json::json!([ev(
                    0,
                    0.0,
                    serde_json::json!({"type": "error", "fatal": true, "code": "a b", "detail": ""})
                )]),
                "code must be",
            ),
            (
                serde_json::json!([ev(
                    0,
                    0.0,
                    serde_json::json!({"type": "rendition", "bitrate": 0, "height": 1, "width": 1})
                )]),
                "bitrate must be",
            ),
            (
                serde_json::json!([ev(
                    0,
                    0.0,
                    serde_json::json!({"type": "view_start", "player": "x\u{7}", "player_version": "", "live": false, "autoplay": false})
                )]),
                "control characters",
            ),
        ];
        for (value, needle) in cases {
            let err = parse(&serde_json::to_vec(&value).unwrap()).unwrap_err();
            assert!(err.contains(needle), "{value}: {err}");
        }
        let mut bad_view = ev(0, 0.0, serde_json::json!({"type": "play_request"}));
        bad_view["view_id"] = "0B5F9D2E-3C1A-4B7E-9F00-123456789ABC".into();
        assert!(parse(&body(&[bad_view])).unwrap_err().contains("view_id"));
        let mut other_video = ev(1, 0.0, serde_json::json!({"type": "play_request"}));
        other_video["video_id"] = "mnopqrstuvwx".into();
        let err = parse(&body(&[
            ev(0, 0.0, serde_json::json!({"type": "play_request"})),
            other_video,
        ]))
        .unwrap_err();
        assert!(err.starts_with("event 1: one view plays one video"), "{err}");
        let too_many: Vec<Value> = (0..201)
            .map(|i| ev(i, 0.0, serde_json::json!({"type": "play"})))
            .collect();
        assert!(parse(&body(&too_many)).is_err());
    }

    #[test]
    fn a_fatal_error_outranks_later_warnings() {
        let events = parse(&body(&[
            ev(0, 0.0, serde_json::json!({"type": "error", "fatal": true, "code": "networkError:fragLoadError", "detail": "HTTP 500"})),
            ev(1, 1.0, serde_json::json!({"type": "error", "fatal": false, "code": "mediaError:bufferStalledError", "detail": ""})),
        ]))
        .unwrap();
        let d = ViewDelta::fold(&events);
        assert!(d.failed);
        assert_eq!(d.error.unwrap().0, "networkError:fragLoadError");
    }
}
