//! Response headers that keep browsers from misreading or misusing what Kino serves:
//! `X-Content-Type-Options: nosniff` on every response (WHATWG Fetch §3.5: a script or style
//! is never guessed from content), and a `Content-Security-Policy` (CSP Level 3) on every
//! response — the pages' policy on pages, [`RESOURCE_POLICY`] on everything else (API JSON,
//! media, originals), so an uploaded file opened directly can run nothing and nothing can
//! frame it.
//!
//! Pages may not be framed by other sites (`frame-ancestors 'none'`); the embed page
//! (`/embed/{id}`, the player alone) is the one exception ([`embed_policy`]).

use axum::http::HeaderValue;

use crate::config::{Config, RedirectMode};

/// CSP for anything that is not a page: no scripts, no subresources, no framing, and a
/// sandbox (an HTML or SVG original opened in a tab runs in an opaque origin).
pub const RESOURCE_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; sandbox";

/// CSP for the API reference page (`/api/docs`): Redoc injects its styles at run time
/// (styled-components) and renders the schema in a web worker from a `blob:` URL.
pub const DOCS_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// CSP for Kino's pages: scripts and styles from Kino only; media and hls.js's requests to
/// Kino, plus the CDN or object store that segments are redirected to when
/// `s3.cdn_base_url` or `s3.redirect = "presigned"` is set; `blob:` for Media Source
/// Extensions and hls.js's worker; `data:` media for the `<track src="data:,WEBVTT">` hls.js
/// makes for each subtitle rendition.
pub fn page_policy(config: &Config) -> HeaderValue {
    policy_with_ancestors(config, "'none'")
}

/// [`page_policy`] for the embed page: any site may frame it (`frame-ancestors *`; CSP Level 3
/// §7.7.3), which is what an embed is for.
pub fn embed_policy(config: &Config) -> HeaderValue {
    policy_with_ancestors(config, "*")
}

fn policy_with_ancestors(config: &Config, ancestors: &str) -> HeaderValue {
    let extra: String = media_origins(config).iter().map(|o| format!(" {o}")).collect();
    let policy = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         media-src 'self' blob: data:{extra}; connect-src 'self'{extra}; worker-src 'self' blob:; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
    );
    HeaderValue::from_str(&policy).expect("origins were checked to be header-safe")
}

/// Origins other than Kino's own that a player fetches media from under `config`.
fn media_origins(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let s3 = &config.s3;
    if let Some(cdn) = s3.cdn_base_url.as_deref().and_then(origin_of) {
        out.push(cdn);
    }
    if s3.redirect == RedirectMode::Presigned {
        match s3.endpoint.as_deref().and_then(origin_of) {
            Some(endpoint) => out.push(endpoint),
            // AWS itself: presigned URLs name the bucket's regional host.
            None => out.push("https://*.amazonaws.com".into()),
        }
    }
    out
}

/// `scheme://host[:port]` of an absolute URL, or None when it is not one or holds
/// characters a header may not.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]*".contains(&b));
    (ok(scheme) && ok(authority)).then(|| format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_keep_scheme_host_and_port_only() {
        assert_eq!(
            origin_of("https://cdn.example.com/media/x").as_deref(),
            Some("https://cdn.example.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:9000").as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert_eq!(origin_of("cdn.example.com/media"), None);
        assert_eq!(origin_of("https://evil.example;script-src *"), None);
    }

    #[test]
    fn the_page_policy_names_redirect_targets() {
        let mut config = Config::default();
        let plain = page_policy(&config);
        assert!(plain.to_str().unwrap().contains("frame-ancestors 'none'"));
        assert!(!plain.to_str().unwrap().contains("cdn.example.com"));
        config.s3.cdn_base_url = Some("https://cdn.example.com/media".into());
        config.s3.redirect = RedirectMode::Presigned;
        config.s3.endpoint = Some("http://127.0.0.1:9000".into());
        let policy = page_policy(&config);
        let policy = policy.to_str().unwrap();
        assert!(policy.contains("media-src 'self' blob: data: https://cdn.example.com http://127.0.0.1:9000"));
        assert!(policy.contains("connect-src 'self' https://cdn.example.com http://127.0.0.1:9000;"));
    }
}
