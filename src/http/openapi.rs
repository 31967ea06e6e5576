//! The API contract: an OpenAPI 3.1 document generated from the handlers' own types and
//! `#[utoipa::path]` attributes (utoipa + utoipa-axum, so a route and its documentation are
//! registered by the same call and cannot drift apart), served at `GET /api/openapi.json`,
//! and a reference page at `GET /api/docs` (Redoc, bundled from npm at build time).
//!
//! Every operation also lists a `default` response of [`ErrorBody`]: every error Kino
//! answers, whatever its status, is `{"error": "…"}` (see [`crate::http::error`]).

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::http::error::ErrorBody;
use crate::http::security_headers::DOCS_POLICY;
use crate::http::{
    auth, captions, chat, comments, engagement, live, live_streams, qoe, search, share, site_config, tokens, tus,
    upload, users, videos,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kino API",
        description = "Upload videos, follow their transcoding into an adaptive-bitrate HLS ladder, \
            play them with signed URLs, and manage comments, watch progress, accounts and API tokens. \
            Authenticate with a bearer API token (`Authorization: Bearer kino_…`, scopes `read`, \
            `write`, `upload`, `admin`) or the session cookies a sign-in sets. Every error is \
            `{\"error\": \"…\"}`. Media itself (`/hls/…`, `/media/…`) is plain HTTP with Range and \
            conditional requests (RFC 9110) and is not part of this document.",
        license(name = "AGPL-3.0-or-later")
    ),
    modifiers(&Security),
    tags(
        (name = "videos", description = "Upload, list, read, change and delete videos; playback URLs; live events"),
        (name = "comments", description = "Comments and replies on videos"),
        (name = "live", description = "Live streams: stream keys for RTMP publishers (OBS), chat beside the broadcast"),
        (name = "engagement", description = "Watch progress, history and view counts"),
        (name = "analytics", description = "Quality of experience: player beacons in, reports out (definitions in docs/qoe.md)"),
        (name = "search", description = "Full-text search over titles and descriptions"),
        (name = "users", description = "Public profiles and their videos"),
        (name = "auth", description = "Accounts and sessions (cookies)"),
        (name = "tokens", description = "API tokens, created and revoked from a signed-in session"),
        (name = "site", description = "Rules clients follow: limits and switches"),
        (name = "uploads", description = "Resumable uploads: the tus 1.0.0 protocol (creation, creation-with-upload, termination, expiration, checksum)")
    ),
    components(schemas(ErrorBody, crate::db::VideoSort))
)]
struct ApiDoc;

/// The two ways to authenticate.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some(
            "An API token (`kino tokens create` or `POST /api/tokens`). The scopes an operation \
             needs are listed with it: `read`, `write`, `upload`, `admin`."
                .into(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::http::caller::ACCESS_COOKIE,
                "The access cookie set by sign-in, registration and refresh (with all scopes of the account).",
            ))),
        );
    }
}

/// The `/api/` routes, in three routers, and the document describing them all.
pub struct ApiRoutes {
    /// Most of the API.
    pub api: Router<AppState>,
    /// tus: apart because tower-http's CORS layer answers every `OPTIONS` itself, and tus's
    /// `OPTIONS` must reach its handler.
    pub tus: Router<AppState>,
    /// Player beacons: apart because they are taken from any site (no CSRF check).
    pub beacons: Router<AppState>,
    pub doc: utoipa::openapi::OpenApi,
}

/// The `/api/` routes with their operations, and the document describing them.
pub fn api_routes() -> ApiRoutes {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(videos::list, upload::create))
        .routes(routes!(videos::get, videos::patch, videos::delete))
        .routes(routes!(videos::playback))
        .routes(routes!(videos::cancel))
        .routes(routes!(videos::retry))
        .routes(routes!(videos::revoke_links))
        .routes(routes!(comments::list, comments::create))
        .routes(routes!(comments::edit, comments::delete))
        .routes(routes!(live::live))
        .routes(routes!(live_streams::create))
        .routes(routes!(live_streams::rotate_key))
        .routes(routes!(live_streams::create_clip))
        .routes(routes!(chat::list, chat::create))
        .routes(routes!(chat::delete))
        .routes(routes!(chat::ban))
        .routes(routes!(chat::settings))
        .routes(routes!(engagement::load, engagement::save))
        .routes(routes!(engagement::view))
        .routes(routes!(engagement::history))
        .routes(routes!(engagement::continue_watching))
        .routes(routes!(search::search))
        .routes(routes!(users::get))
        .routes(routes!(users::videos))
        .routes(routes!(auth::me))
        .routes(routes!(videos::list_mine))
        .routes(routes!(auth::register))
        .routes(routes!(auth::signin))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::signout))
        .routes(routes!(auth::change_password))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(site_config::get))
        .routes(routes!(captions::list, captions::create))
        .routes(routes!(captions::delete))
        .routes(routes!(share::oembed))
        .routes(routes!(share::embed_link))
        .routes(routes!(qoe::video_report))
        .routes(routes!(qoe::site_report))
        .routes(routes!(qoe::view_timeline))
        .split_for_parts();
    let (tus_router, tus_doc) = OpenApiRouter::new()
        .routes(routes!(tus::options, tus::create))
        .routes(routes!(tus::head, tus::patch, tus::terminate))
        .split_for_parts();
    let (beacon_router, beacon_doc) = OpenApiRouter::new().routes(routes!(qoe::beacons)).split_for_parts();
    doc.merge(tus_doc);
    doc.merge(beacon_doc);
    add_default_errors(&mut doc);
    // tus clients often name the endpoint with a trailing slash.
    let tus_router = tus_router.route("/api/uploads/", axum::routing::post(tus::create).options(tus::options));
    ApiRoutes {
        api: router,
        tus: tus_router,
        beacons: beacon_router,
        doc,
    }
}

/// Schema of a list of tags in canonical form (see [`crate::tags`]): at most 10 strings of 1–30
/// letters, digits, `-` and `_`; null leaves the tags as they are.
pub fn tag_list() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^[\w-]{1,30}$")),
        )
        .max_items(Some(crate::tags::MAX_TAGS))
        .build()
}

/// Adds the `default` [`ErrorBody`] response to every operation.
fn add_default_errors(doc: &mut utoipa::openapi::OpenApi) {
    let error = ResponseBuilder::new()
        .description("Any other error: its status says which (RFC 9110 §15); the body says why")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build();
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ];
        for op in operations.into_iter().flatten() {
            op.responses
                .responses
                .entry("default".into())
                .or_insert_with(|| error.clone().into());
        }
    }
}

/// `GET /api/openapi.json` and `GET /api/docs`, serving `doc`.
pub fn contract_routes(doc: &utoipa::openapi::OpenApi) -> anyhow::Result<Router<AppState>> {
    let json = axum::body::Bytes::from(doc.to_json()?);
    Ok(Router::new()
        .route(
            "/api/openapi.json",
            get(move || {
                let json = json.clone();
                async move {
                    (
                        [
                            (header::CONTENT_TYPE, "application/json"),
                            (header::CACHE_CONTROL, "no-cache"),
                        ],
                        json,
                    )
                }
            }),
        )
        .route("/api/docs", get(docs_page)))
}

/// The reference page: Redoc renders `/api/openapi.json`.
async fn docs_page() -> Response {
    let mut resp = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        DOCS_HTML,
    )
        .into_response();
    resp.headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOCS_POLICY));
    resp
}

const DOCS_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Kino API reference</title>
  <link rel="icon" href="/assets/favicon.svg">
</head>
<body>
  <redoc spec-url="/api/openapi.json" hide-download-button="false" path-in-middle-panel="true"></redoc>
  <script src="/assets/redoc.standalone.js"></script>
</body>
</html>
"#;
