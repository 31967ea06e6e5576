//! The `comments` table: plain-text comments on videos, one level of replies.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, DbError, now_ms, query, query_scalar};

/// A comment with its author's name.
#[derive(Debug, Clone)]
pub struct CommentRecord {
    pub id: i64,
    pub video_id: crate::ids::VideoId,
    /// The top-level comment this replies to; `None` for a top-level comment.
    pub parent_id: Option<i64>,
    pub author_id: i64,
    pub author: String,
    pub body: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds of the last edit.
    pub edited_at: Option<i64>,
}

const COMMENT_SELECT: &str =
    "SELECT c.id, c.video_id, c.parent_id, c.author_id, u.username AS author, c.body, c.created_at, c.edited_at
     FROM comments c JOIN users u ON u.id = c.author_id";

fn comment_from_row(row: &AnyRow) -> Result<CommentRecord, sqlx::Error> {
    Ok(CommentRecord {
        id: row.try_get("id")?,
        video_id: crate::ids::VideoId::parse(&row.try_get::<String, _>("video_id")?)
            .ok_or_else(|| sqlx::Error::Decode("a stored video id is malformed".into()))?,
        parent_id: row.try_get("parent_id")?,
        author_id: row.try_get("author_id")?,
        author: row.try_get("author")?,
        body: row.try_get("body")?,
        created_at: row.try_get("created_at")?,
        edited_at: row.try_get("edited_at")?,
    })
}

impl Db {
    /// Adds a comment. A `parent_id` naming a reply is moved to that reply's own parent, so
    /// threads stay one level deep. Returns `None` when `parent_id` names no comment of this
    /// video.
    pub async fn insert_comment(
        &self,
        video_id: &str,
        parent_id: Option<i64>,
        author_id: i64,
        body: &str,
    ) -> Result<Option<CommentRecord>, DbError> {
        let parent = match parent_id {
            None => None,
            Some(pid) => {
                let row = query("SELECT id, parent_id FROM comments WHERE id = ? AND video_id = ?")
                    .bind(pid)
                    .bind(video_id)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(row) = row else { return Ok(None) };
                Some(
                    row.try_get::<Option<i64>, _>("parent_id")?
                        .unwrap_or(row.try_get("id")?),
                )
            }
        };
        let id: i64 = query_scalar(
            "INSERT INTO comments (video_id, parent_id, author_id, body, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(video_id)
        .bind(parent)
        .bind(author_id)
        .bind(body)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        self.comment(id).await
    }

    /// One comment.
    pub async fn comment(&self, id: i64) -> Result<Option<CommentRecord>, DbError> {
        let sql = format!("{COMMENT_SELECT} WHERE c.id = ?");
        let row = query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(comment_from_row).transpose().map_err(DbError::from)
    }

    /// A page of a video's top-level comments, newest first, with the total count.
    pub async fn top_level_comments(
        &self,
        video_id: &str,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<CommentRecord>, u64), DbError> {
        let sql = format!(
            "{COMMENT_SELECT} WHERE c.video_id = ? AND c.parent_id IS NULL ORDER BY c.created_at DESC, c.id DESC LIMIT ? OFFSET ?"
        );
        let rows = query(&sql)
            .bind(video_id)
            .bind(i64::from(limit))
            .bind(offset as i64)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = query_scalar("SELECT COUNT(*) FROM comments WHERE video_id = ? AND parent_id IS NULL")
            .bind(video_id)
            .fetch_one(&self.pool)
            .await?;
        Ok((
            rows.iter().map(comment_from_row).collect::<Result<_, _>>()?,
            total as u64,
        ))
    }

    /// The replies to the given top-level comments, oldest first.
    pub async fn replies_to(&self, parents: &[i64]) -> Result<Vec<CommentRecord>, DbError> {
        if parents.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; parents.len()].join(",");
        let sql = format!("{COMMENT_SELECT} WHERE c.parent_id IN ({marks}) ORDER BY c.created_at, c.id");
        let mut q = query(&sql);
        for p in parents {
            q = q.bind(p);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(comment_from_row)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(DbError::from)
    }

    /// Replaces a comment's body and marks it edited.
    pub async fn update_comment(&self, id: i64, body: &str) -> Result<(), DbError> {
        query("UPDATE comments SET body = ?, edited_at = ? WHERE id = ?")
            .bind(body)
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(DbError::from)
    }

    /// Deletes a comment and its replies.
    pub async fn delete_comment(&self, id: i64) -> Result<(), DbError> {
        query("DELETE FROM comments WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(DbError::from)
    }
}
