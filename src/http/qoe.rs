//! Quality-of-experience endpoints (`docs/qoe.md`): player beacons in
//! (`POST /api/qoe/beacons`), reports out (`GET /api/videos/{id}/qoe`, `GET /api/qoe`,
//! `GET /api/qoe/views/{view_id}`).

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::app::AppState;
use crate::auth::{Role, Scope, policy};
use crate::db::now_ms;
use crate::db::qoe::{BeaconBatch, QoeScope};
use crate::http::caller::{Caller, MediaCaller};
use crate::http::error::{ApiError, ErrorBody};
use crate::qoe::beacon::{self, MAX_BODY_BYTES};
use crate::qoe::queue::Refusal;
use crate::qoe::report::{self, MAX_RANGE_MS, Report, ViewSummary};

/// One player event: these fields, `type`, and the fields of its type (docs/qoe.md).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // the document's shape; events are parsed by `qoe::beacon`
pub struct BeaconEvent {
    /// The view's UUID v4, lowercase.
    #[schema(pattern = "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")]
    view_id: String,
    /// An existing video's id.
    #[schema(pattern = "^[A-Za-z0-9_-]{12}$")]
    video_id: String,
    /// 0, 1, 2, … per view.
    #[schema(minimum = 0, maximum = 1000000)]
    seq: i64,
    /// Milliseconds since the view started.
    #[schema(minimum = 0, maximum = 86400000)]
    t: f64,
    /// One of `view_start`, `play_request`, `first_frame`, `rebuffer_start`, `rebuffer_end`,
    /// `rendition`, `seek`, `seeked`, `error`, `dropped_frames`, `pause`, `play`, `ended`,
    /// `watch`, `page_hide`.
    r#type: String,
}

/// The body of `POST /api/qoe/beacons`.
#[derive(Debug, utoipa::ToSchema)]
#[schema(min_items = 1, max_items = 200)]
#[allow(dead_code)]
pub struct BeaconBody(Vec<BeaconEvent>);

/// Answer of `POST /api/qoe/beacons`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    /// Events queued for storage.
    pub accepted: usize,
}

fn disabled() -> ApiError {
    ApiError::Missing("analytics are turned off on this server (analytics.enabled)".into())
}

/// `POST /api/qoe/beacons` — a JSON array of 1–200 player events (schema in `docs/qoe.md`),
/// as `application/json` or `text/plain` (what `navigator.sendBeacon` sends for a string);
/// no authentication. 202 once queued; 400 naming the first invalid event (nothing of the
/// batch is kept); 404 naming a video that does not exist; 415 for another body type; 413 past 64 KiB; 429 with
/// `Retry-After` past `analytics.beacons_per_minute` per address; 503 with `Retry-After` when
/// the write queue is full. Cross-site beacons are accepted, but only a same-site one names a
/// signed-in viewer (and only with `analytics.store_user_id`).
#[utoipa::path(
    post,
    path = "/api/qoe/beacons",
    tag = "analytics",
    operation_id = "send_beacons",
    request_body(content = BeaconBody, content_type = "application/json", description = "1–200 player events; the fields of each type are in docs/qoe.md"),
    responses((status = 202, description = "Queued for storage", body = Accepted), (status = 400, description = "An invalid event, named by its index", body = ErrorBody), (status = 404, description = "An event names a video that does not exist", body = ErrorBody), (status = 413, description = "Over 64 KiB", body = ErrorBody), (status = 415, description = "Neither JSON nor text", body = ErrorBody), (status = 429, description = "Rate-limited; `Retry-After` says when to try again", body = ErrorBody), (status = 503, description = "The write queue is full; `Retry-After` says when to try again", body = ErrorBody)),
    security((), ("session" = []))
)]
pub async fn beacons(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: MediaCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if !app.config.analytics.enabled {
        return Err(disabled());
    }
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
        if !(ct.starts_with("application/json") || ct.starts_with("text/plain")) {
            return Err(ApiError::UnsupportedMediaType(
                "send beacons as application/json or text/plain".into(),
            ));
        }
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES as u64,
        });
    }
    if let Err(Refusal::RateLimited(secs)) = app.qoe.admit(peer.ip()) {
        return Err(ApiError::TooManyRequests {
            retry_after_secs: secs.ceil().max(1.0) as u64,
        });
    }
    let events = beacon::parse(&body).map_err(|why| {
        metrics::counter!("kino_qoe_beacon_events_total", "result" => "rejected").increment(1);
        ApiError::BadRequest(why)
    })?;
    // Every video named must exist (the cache answers most of them).
    let mut checked: Vec<&str> = Vec::new();
    for e in &events {
        if checked.contains(&e.video_id.as_str()) {
            continue;
        }
        match crate::http::videos::find_cached(&app, &e.video_id).await {
            Ok(_) => {}
            Err(ApiError::NotFound) => {
                metrics::counter!("kino_qoe_beacon_events_total", "result" => "rejected").increment(1);
                return Err(ApiError::Missing(format!("no video {}", e.video_id)));
            }
            Err(e) => return Err(e),
        }
        checked.push(&e.video_id);
    }
    let same_site = headers
        .get("sec-fetch-site")
        .is_none_or(|v| v.as_bytes() == b"same-origin" || v.as_bytes() == b"none");
    let user_id = match caller.0 {
        Some(who) if app.config.analytics.store_user_id && same_site => Some(who.user_id),
        _ => None,
    };
    let (browser, os) = crate::qoe::client_families(
        headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default(),
    );
    let n = events.len();
    let batch = BeaconBatch {
        received_at: now_ms(),
        browser,
        os,
        user_id,
        events,
    };
    if app.qoe.push(batch).is_err() {
        let mut resp = ApiError::Status {
            status: 503,
            message: "analytics storage is behind; retry later".into(),
        }
        .into_response();
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        return Ok(resp);
    }
    metrics::counter!("kino_qoe_beacon_events_total", "result" => "accepted").increment(n as u64);
    Ok((StatusCode::ACCEPTED, Json(Accepted { accepted: n })).into_response())
}

/// Query of the reports: a time range.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// RFC 3339 start (default: 24 hours before `to`).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// RFC 3339 end (default: now). A range longer than 400 days is cut to the 400 days
    /// before `to`; `from` after `to` gives an empty report.
    #[param(format = DateTime)]
    pub to: Option<String>,
}

impl RangeQuery {
    /// (from, to) in Unix ms. Errors: 400 for a malformed time.
    fn resolve(&self, now: i64) -> Result<(i64, i64), ApiError> {
        let parse = |name: &str, s: &str| -> Result<i64, ApiError> {
            OffsetDateTime::parse(s, &Rfc3339)
                .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
                .map_err(|_| ApiError::BadRequest(format!("{name} must be an RFC 3339 time like 2026-12-01T00:00:00Z")))
        };
        // An empty value is the default, as a form with an empty field sends it.
        fn given(v: &Option<String>) -> Option<&str> {
            v.as_deref().filter(|s| !s.is_empty())
        }
        let to = given(&self.to).map(|s| parse("to", s)).transpose()?.unwrap_or(now);
        let from = given(&self.from)
            .map(|s| parse("from", s))
            .transpose()?
            .unwrap_or(to - 86_400_000);
        // Longer ranges are cut to their last 400 days; an empty one gives an empty report.
        Ok((from.max(to - MAX_RANGE_MS).min(to), to))
    }
}

fn idle_ms(app: &AppState) -> i64 {
    (app.config.analytics.view_idle_secs * 1000.0) as i64
}

/// `GET /api/videos/{id}/qoe` — the video's QoE report (docs/qoe.md) over `from`–`to`: for its
/// owner or an admin, with `read`. 404 when the caller may not see the video, 403 when they may
/// see but not manage it.
#[utoipa::path(
    get,
    path = "/api/videos/{id}/qoe",
    tag = "analytics",
    operation_id = "video_qoe",
    params(("id" = String, Path, description = "Video id: 12 characters of `A-Z a-z 0-9 - _`"), RangeQuery),
    responses((status = 200, description = "The report", body = Report), (status = 400, description = "A malformed range", body = ErrorBody), (status = 401, description = "Not signed in", body = ErrorBody), (status = 403, description = "Not the owner, or the token lacks `read`", body = ErrorBody), (status = 404, description = "No such video, or the caller may not see it", body = ErrorBody)),
    security(("bearer" = ["read"]), ("session" = []))
)]
pub async fn video_report(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(range): Query<RangeQuery>,
) -> Result<Json<Report>, ApiError> {
    if !app.config.analytics.enabled {
        return Err(disabled());
    }
    let who = caller.with_scope(Scope::Read)?;
    let video = crate::http::videos::find(&app, &id).await?;
    if !policy::may_manage(Some(&who), video.acl()) {
        return Err(if policy::may_watch(Some(&who), video.acl()) {
            ApiError::Forbidden("only the video's owner or an administrator sees its analytics".into())
        } else {
            ApiError::NotFound
        });
    }
    let now = now_ms();
    let (from, to) = range.resolve(now)?;
    Ok(Json(
        report::build(&app.db, &QoeScope::Video(id), from, to, now, idle_ms(&app)).await?,
    ))
}

/// `GET /api/qoe` — the QoE report over `from`–`to` of every video for admins (`scope:
/// "site"`), of the caller's own videos for anyone else signed in (`scope: "mine"`); needs
/// `read`.
#[utoipa::path(
    get,
    path = "/api/qoe",
    tag = "analytics",
    operation_id = "site_qoe",
    params(RangeQuery),
    responses((status = 200, description = "The report", body = Report), (status = 400, description = "A malformed range", body = ErrorBody), (status = 401, description = "Not signed in", body = ErrorBody), (status = 403, description = "The token lacks `read`", body = ErrorBody)),
    security(("bearer" = ["read"]), ("session" = []))
)]
pub async fn site_report(
    State(app): State<AppState>,
    caller: Caller,
    Query(range): Query<RangeQuery>,
) -> Result<Json<Report>, ApiError> {
    if !app.config.analytics.enabled {
        return Err(disabled());
    }
    let who = caller.with_scope(Scope::Read)?;
    let scope = if who.role == Role::Admin {
        QoeScope::Site
    } else {
        QoeScope::Owner(who.user_id)
    };
    let now = now_ms();
    let (from, to) = range.resolve(now)?;
    Ok(Json(
        report::build(&app.db, &scope, from, to, now, idle_ms(&app)).await?,
    ))
}

/// Answer of `GET /api/qoe/views/{view_id}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ViewTimeline {
    pub view: ViewSummary,
    /// The view's events in `seq` order: `seq`, `t` (ms since the view started),
    /// `received_at` (RFC 3339), `type` and the event's own fields.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<serde_json::Value>,
}

/// `GET /api/qoe/views/{view_id}` — one view and its events, for the video's owner or an admin
/// (`read`); 404 for an unknown view or one the caller may not see.
#[utoipa::path(
    get,
    path = "/api/qoe/views/{view_id}",
    tag = "analytics",
    operation_id = "qoe_view",
    params(("view_id" = String, Path, description = "The view's UUID")),
    responses((status = 200, description = "The view and its events", body = ViewTimeline), (status = 401, description = "Not signed in", body = ErrorBody), (status = 403, description = "The token lacks `read`", body = ErrorBody), (status = 404, description = "No such view, or not the caller's", body = ErrorBody)),
    security(("bearer" = ["read"]), ("session" = []))
)]
pub async fn view_timeline(
    State(app): State<AppState>,
    caller: Caller,
    Path(view_id): Path<String>,
) -> Result<Json<ViewTimeline>, ApiError> {
    if !app.config.analytics.enabled {
        return Err(disabled());
    }
    let who = caller.with_scope(Scope::Read)?;
    if !beacon::is_view_id(&view_id) {
        return Err(ApiError::NotFound);
    }
    let view = app
        .db
        .qoe_view(&view_id, now_ms(), idle_ms(&app))
        .await?
        .ok_or(ApiError::NotFound)?;
    let video = crate::http::videos::find(&app, &view.video_id).await?;
    if !policy::may_manage(Some(&who), video.acl()) {
        return Err(ApiError::NotFound);
    }
    let events = app
        .db
        .qoe_events(&view_id)
        .await?
        .into_iter()
        .map(|(seq, t, received_at, data)| {
            let mut v: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
            if let Some(m) = v.as_object_mut() {
                m.insert("seq".into(), seq.into());
                m.insert("t".into(), t.into());
                m.insert("received_at".into(), crate::http::types::rfc3339(received_at).into());
            }
            v
        })
        .collect();
    Ok(Json(ViewTimeline {
        view: ViewSummary::of(&view),
        events,
    }))
}
