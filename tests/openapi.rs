//! The API contract: `/api/openapi.json` describes every `/api/` operation with its auth and
//! errors, `/api/docs` renders it from bundled assets, and schemathesis (PyPI, pinned in
//! `scripts/api-contract.sh`) fuzzes the running server against the document: no 5xx, every
//! status, content type, header and body as documented.

mod common;

use common::Server;
use serde_json::Value;

/// Every operation the API serves, as (method, path).
const OPERATIONS: &[(&str, &str)] = &[
    ("get", "/api/videos"),
    ("post", "/api/videos"),
    ("get", "/api/videos/{id}"),
    ("patch", "/api/videos/{id}"),
    ("delete", "/api/videos/{id}"),
    ("get", "/api/videos/{id}/playback"),
    ("post", "/api/videos/{id}/cancel"),
    ("post", "/api/videos/{id}/retry"),
    ("post", "/api/videos/{id}/revoke-links"),
    ("post", "/api/videos/{id}/embed-link"),
    ("get", "/api/videos/{id}/comments"),
    ("post", "/api/videos/{id}/comments"),
    ("patch", "/api/comments/{cid}"),
    ("delete", "/api/comments/{cid}"),
    ("get", "/api/videos/{id}/live"),
    ("post", "/api/live"),
    ("post", "/api/live/{id}/key"),
    ("post", "/api/videos/{id}/clips"),
    ("get", "/api/videos/{id}/chat"),
    ("post", "/api/videos/{id}/chat"),
    ("delete", "/api/videos/{id}/chat/{mid}"),
    ("post", "/api/videos/{id}/chat/bans"),
    ("put", "/api/videos/{id}/chat/settings"),
    ("get", "/api/videos/{id}/progress"),
    ("put", "/api/videos/{id}/progress"),
    ("post", "/api/videos/{id}/views"),
    ("get", "/api/me/history"),
    ("get", "/api/me/continue"),
    ("get", "/api/search"),
    ("get", "/api/users/{name}"),
    ("get", "/api/users/{name}/videos"),
    ("get", "/api/me"),
    ("get", "/api/me/videos"),
    ("post", "/api/auth/register"),
    ("post", "/api/auth/signin"),
    ("post", "/api/auth/refresh"),
    ("post", "/api/auth/signout"),
    ("post", "/api/auth/password"),
    ("get", "/api/tokens"),
    ("post", "/api/tokens"),
    ("delete", "/api/tokens/{token_id}"),
    ("get", "/api/config"),
    ("get", "/api/oembed"),
    ("get", "/api/videos/{id}/captions"),
    ("post", "/api/videos/{id}/captions"),
    ("delete", "/api/videos/{id}/captions/{cid}"),
    ("get", "/api/videos/{id}/qoe"),
    ("get", "/api/qoe"),
    ("get", "/api/qoe/views/{view_id}"),
    ("post", "/api/qoe/beacons"),
    ("options", "/api/uploads"),
    ("post", "/api/uploads"),
    ("head", "/api/uploads/{id}"),
    ("patch", "/api/uploads/{id}"),
    ("delete", "/api/uploads/{id}"),
];

#[tokio::test]
async fn the_document_covers_every_operation_with_auth_and_errors() {
    let server = Server::start(&[]);
    let resp = server.get("/api/openapi.json").await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let doc: Value = resp.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );

    let paths = doc["paths"].as_object().unwrap();
    let mut documented = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            documented += 1;
            assert!(
                OPERATIONS.contains(&(method.as_str(), path.as_str())),
                "{method} {path} is documented but not in this test's list"
            );
            assert!(op["operationId"].is_string(), "{method} {path}: no operationId");
            assert!(
                op["responses"]["default"]["content"]["application/json"]["schema"]["$ref"]
                    .as_str()
                    .is_some_and(|r| r.ends_with("/ErrorBody")),
                "{method} {path}: no default error body"
            );
        }
    }
    for (method, path) in OPERATIONS {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} is not documented"
        );
    }
    assert_eq!(documented, OPERATIONS.len());

    // Auth: both schemes exist; an upload needs the `upload` scope; a listing is open.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["session"]["in"], "cookie");
    let upload = &paths["/api/videos"]["post"];
    assert!(
        upload["security"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({"bearer": ["upload"]}))
    );
    assert!(upload["requestBody"]["content"]["multipart/form-data"].is_object());
    let list = &paths["/api/videos"]["get"];
    assert!(list["security"].as_array().unwrap().contains(&serde_json::json!({})));
}

#[tokio::test]
async fn pages_get_the_rules_from_the_server() {
    let server = Server::start(&[
        ("KINO_COMMENTS__MAX_CHARS", "300"),
        ("KINO_AUTH__REGISTRATION", "false"),
    ]);
    let config: Value = server.get("/api/config").await.json().await.unwrap();
    assert_eq!(config["limits"]["comment_chars"], 300);
    assert_eq!(config["limits"]["title_chars"], 200);
    assert_eq!(config["limits"]["max_tags"], 10);
    assert_eq!(config["registration_open"], false);
}

#[tokio::test]
async fn the_reference_page_renders_from_bundled_assets() {
    let server = Server::start(&[]);
    let page = server.get("/api/docs").await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("spec-url=\"/api/openapi.json\""));
    assert!(!html.contains("https://"), "the page loads something from elsewhere");
    let bundle = server.get("/assets/redoc.standalone.js").await;
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 500_000);
}

#[tokio::test]
async fn schemathesis_finds_no_contract_violations() {
    let server = Server::start(&[]);
    // Something to read, edit and delete besides what the fuzzer creates.
    let (code, _) = server
        .upload(&common::media("bad-not-a-video.mp4"), Some("contract"))
        .await;
    assert_eq!(code, 201);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/api-contract.sh");
    let state = server.data_dir.join("api-contract");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .arg(&server.base)
        .arg(&server.admin_token)
        .arg(&state)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "schemathesis found problems:\n{stdout}\n{stderr}");
    // The server is still up (a new connection: pooled ones idled past the keep-alive limit).
    let fresh = reqwest::Client::new().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(fresh.status(), 200);
}
