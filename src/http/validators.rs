//! A blob's validators (RFC 9110 §8.8): its strong entity tag and its modification time,
//! formatted once — when a blob is located, or when a hot segment is taken into memory, so
//! that answering it again formats nothing.

use std::time::SystemTime;

use axum::http::HeaderValue;

/// The validators of one version of a blob.
#[derive(Debug, Clone)]
pub struct Validators {
    /// The strong entity tag, quoted (RFC 9110 §8.8.3), as the `ETag` value.
    pub etag: HeaderValue,
    /// The modification time.
    pub modified: SystemTime,
    /// `modified` as the `Last-Modified` value (an IMF-fixdate, whole seconds; §8.8.2).
    pub last_modified: HeaderValue,
}

impl Validators {
    /// Validators from a store's entity tag (quotes and any character outside
    /// `[A-Za-z0-9-]` dropped; when the store has none, `size` in bytes and `modified` in whole
    /// seconds since the Unix epoch, both in hex) and `modified`, which is taken as the epoch
    /// if earlier and as the end of year 9999 if later (the range of an HTTP date).
    pub fn new(store_tag: Option<&str>, size: u64, modified: SystemTime) -> Validators {
        let modified = modified.clamp(SystemTime::UNIX_EPOCH, latest_http_date());
        let raw = store_tag
            .map(|t| {
                t.trim_matches('"')
                    .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "")
            })
            .unwrap_or_else(|| {
                let secs = modified
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                format!("{size:x}-{secs:x}")
            });
        let etag = HeaderValue::from_str(&format!("\"{raw}\"")).expect("a quoted token is a header value");
        let last_modified = HeaderValue::from_str(&httpdate::fmt_http_date(modified)).expect("an HTTP date is ASCII");
        Validators {
            etag,
            modified,
            last_modified,
        }
    }

    /// Validators of a local file, from its `stat(2)`: the tag object_store's local store
    /// gives it (`{inode:x}-{mtime µs:x}-{size:x}`), so they do not depend on which path served it.
    pub fn of_file(meta: &std::fs::Metadata) -> Validators {
        use std::os::unix::fs::MetadataExt;
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let micros = modified
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_micros();
        let tag = format!("{:x}-{micros:x}-{:x}", meta.ino(), meta.len());
        Validators::new(Some(&tag), meta.len(), modified)
    }

    /// The entity tag as text, quotes included (for `If-Range`, compared as text).
    pub fn etag_text(&self) -> &str {
        self.etag.to_str().expect("built from a str")
    }
}

/// 9999-12-31T23:59:59Z, the last time an HTTP date can say.
fn latest_http_date() -> SystemTime {
    SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(253_402_300_799)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_tags_become_strong_quoted_tokens() {
        let when = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let v = Validators::new(Some("\"a1/b2+c3\""), 10, when);
        assert_eq!(v.etag_text(), "\"a1b2c3\"");
        assert_eq!(v.last_modified, "Tue, 14 Nov 2023 22:13:20 GMT");
        let none = Validators::new(None, 255, when);
        assert_eq!(none.etag_text(), "\"ff-6553f100\"");
        // A file dated before 1970 (touch -d 1960-01-01) is answered, not a panic.
        let old = SystemTime::UNIX_EPOCH - std::time::Duration::from_secs(315_619_200);
        assert_eq!(
            Validators::new(Some("t"), 1, old).last_modified,
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }
}
