//! Full-text search over videos: SQLite FTS5 (`videos_fts`, kept by triggers; see migration
//! 0003). The rest of Kino calls [`Db::search_videos`] only, so a PostgreSQL backend answers
//! the same call with `tsvector` + GIN.

use super::Db;
use super::videos::{VIDEO_COLUMNS, video_from_row};
use crate::db::VideoRecord;

/// Most words of a query that are used.
const MAX_TERMS: usize = 8;

/// Turns what someone typed into an FTS5 query: words (letters and digits; everything else
/// separates them, so FTS5 operators and quotes in the input are inert), each a quoted prefix
/// term (`"lec"*`), all required. `None` when nothing searchable is left.
pub fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_TERMS)
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

impl Db {
    /// Videos matching `text` that `viewer` may find — public ones, and the viewer's own of
    /// any privacy — best first: BM25 with a title match weighing 10× a description match
    /// (tags 4×), then newest. Returns a page and the total count; an empty query matches
    /// nothing.
    pub async fn search_videos(
        &self,
        text: &str,
        viewer: Option<i64>,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<VideoRecord>, u64), sqlx::Error> {
        let Some(query) = fts_query(text) else {
            return Ok((Vec::new(), 0));
        };
        let owner = viewer.unwrap_or(-1);
        let sql = format!(
            "SELECT {VIDEO_COLUMNS} FROM videos_fts
             JOIN videos v ON v.rowid = videos_fts.rowid
             LEFT JOIN users u ON u.id = v.owner_id
             WHERE videos_fts MATCH ? AND (v.privacy = 'public' OR v.owner_id = ?)
             ORDER BY bm25(videos_fts, 10.0, 1.0, 4.0), v.created_at DESC
             LIMIT ? OFFSET ?"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&query)
            .bind(owner)
            .bind(limit)
            .bind(offset as i64)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM videos_fts JOIN videos v ON v.rowid = videos_fts.rowid
             WHERE videos_fts MATCH ? AND (v.privacy = 'public' OR v.owner_id = ?)",
        )
        .bind(&query)
        .bind(owner)
        .fetch_one(&self.pool)
        .await?;
        let videos = rows.iter().map(video_from_row).collect::<Result<_, _>>()?;
        Ok((videos, total as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_becomes_safe_prefix_terms() {
        assert_eq!(fts_query("Lec").as_deref(), Some("\"Lec\"*"));
        assert_eq!(
            fts_query("intro to rust").as_deref(),
            Some("\"intro\"* \"to\"* \"rust\"*")
        );
        // FTS5 syntax in the input is just separators.
        assert_eq!(
            fts_query("\"a\" OR -b* NEAR(c)").as_deref(),
            Some("\"a\"* \"OR\"* \"b\"* \"NEAR\"* \"c\"*")
        );
        assert_eq!(fts_query("  -- \" ' "), None);
        assert_eq!(fts_query("élan").as_deref(), Some("\"élan\"*"));
    }
}
