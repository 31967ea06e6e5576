//! The `live_streams`, `live_segments`, `chat_messages` and `chat_bans` tables: stream keys
//! (hashed) and who holds a broadcast, the segment index every live playlist is rendered
//! from, and chat kept at its broadcast time.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::videos::{NewVideo, insert_video};
use super::{Db, DbError, now_ms, query, query_scalar};
use crate::ids::VideoId;
use crate::live::playlist::LiveSegment;
use crate::video::LiveState;

/// A row of `live_streams`.
#[derive(Debug, Clone)]
pub struct LiveStreamRecord {
    pub video_id: VideoId,
    pub state: LiveState,
    /// Publishing sessions so far; the current one's number while live.
    pub sessions: u64,
    /// Unix ms of the ingest node's last heartbeat.
    pub heartbeat_at: Option<i64>,
    /// Unix ms the broadcast first went live.
    pub started_at: Option<i64>,
    /// The video is `ready` (the broadcast became its replay).
    pub replayed: bool,
    /// Seconds a viewer waits between two chat messages (0 = off).
    pub chat_slow_mode_secs: u32,
}

const LIVE_SELECT: &str =
    "SELECT ls.video_id, ls.state, ls.sessions, ls.heartbeat_at, ls.started_at, ls.chat_slow_mode_secs, v.status
     FROM live_streams ls JOIN videos v ON v.id = ls.video_id";

fn live_from_row(row: &AnyRow) -> Result<LiveStreamRecord, sqlx::Error> {
    let state: String = row.try_get("state")?;
    Ok(LiveStreamRecord {
        video_id: VideoId::parse(row.try_get::<&str, _>("video_id")?)
            .ok_or_else(|| sqlx::Error::Decode("a stored video id is malformed".into()))?,
        state: LiveState::parse(&state)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown live state {state:?}").into()))?,
        sessions: row.try_get::<i64, _>("sessions")?.max(0) as u64,
        heartbeat_at: row.try_get("heartbeat_at")?,
        started_at: row.try_get("started_at")?,
        replayed: row.try_get::<&str, _>("status")? == "ready",
        chat_slow_mode_secs: row
            .try_get::<i64, _>("chat_slow_mode_secs")?
            .clamp(0, i64::from(u32::MAX)) as u32,
    })
}

/// What [`Db::insert_chat`] enforces.
#[derive(Debug, Clone, Copy)]
pub struct ChatLimits {
    /// Messages one author may post a minute in one chat.
    pub per_minute: u32,
    /// Seconds between two messages of one author (0 = off).
    pub slow_mode_secs: u32,
}

/// The outcome of [`Db::insert_chat`].
#[derive(Debug)]
pub enum ChatInsert {
    Posted(ChatRecord),
    /// Over a limit: try again in this many seconds.
    TooSoon {
        retry_after_secs: u64,
    },
}

/// A chat message with its author's name.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ChatRecord {
    pub id: i64,
    /// The author's username.
    pub author: String,
    #[serde(skip)]
    pub author_id: i64,
    pub body: String,
    /// Seconds into the broadcast it was sent at (the replay shows it at that video time).
    pub offset_secs: f64,
    /// Unix milliseconds.
    pub created_at: i64,
}

const CHAT_SELECT: &str = "SELECT c.id, c.author_id, u.username AS author, c.body, c.offset_secs, c.created_at
     FROM chat_messages c JOIN users u ON u.id = c.author_id";

fn chat_from_row(row: &AnyRow) -> Result<ChatRecord, sqlx::Error> {
    Ok(ChatRecord {
        id: row.try_get("id")?,
        author_id: row.try_get("author_id")?,
        author: row.try_get("author")?,
        body: row.try_get("body")?,
        offset_secs: row.try_get("offset_secs")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Db {
    /// Creates live stream `v` (its video row `processing`, no transcode job) with the SHA-256
    /// hex `key_hash` of its stream key, in one transaction.
    pub async fn insert_live_stream(&self, v: &NewVideo, key_hash: &str) -> Result<(), DbError> {
        let now = self.clock_ms().await?;
        let mut tx = self.write_tx().await?;
        insert_video(&mut tx, v, false, now).await?;
        query("INSERT INTO live_streams (video_id, key_hash) VALUES (?, ?)")
            .bind(v.id.as_str())
            .bind(key_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await.map_err(DbError::from)
    }

    /// Replaces the key hash of a live stream (the old key stops working at once; a session
    /// already publishing goes on). False when `video_id` is no live stream.
    pub async fn set_stream_key(&self, video_id: &str, key_hash: &str) -> Result<bool, DbError> {
        let done = query("UPDATE live_streams SET key_hash = ? WHERE video_id = ?")
            .bind(key_hash)
            .bind(video_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The live stream whose key hashes to `key_hash`.
    pub async fn live_stream_by_key(&self, key_hash: &str) -> Result<Option<LiveStreamRecord>, DbError> {
        let sql = format!("{LIVE_SELECT} WHERE ls.key_hash = ?");
        let row = query(&sql).bind(key_hash).fetch_optional(&self.pool).await?;
        row.as_ref().map(live_from_row).transpose().map_err(DbError::from)
    }

    /// The videos being broadcast now (state `live`), on any node.
    pub async fn live_now(&self) -> Result<Vec<VideoId>, DbError> {
        let ids: Vec<String> = query_scalar("SELECT video_id FROM live_streams WHERE state = 'live'")
            .fetch_all(&self.pool)
            .await?;
        Ok(ids.iter().filter_map(|id| VideoId::parse(id)).collect())
    }

    /// The live stream of video `video_id`.
    pub async fn live_stream(&self, video_id: &str) -> Result<Option<LiveStreamRecord>, DbError> {
        let sql = format!("{LIVE_SELECT} WHERE ls.video_id = ?");
        let row = query(&sql).bind(video_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(live_from_row).transpose().map_err(DbError::from)
    }

    /// Takes the broadcast of `video_id` for a new publishing session on `node`: allowed when
    /// no session is live (nor the replay being made), or the live one's heartbeat is older
    /// than `stale_before` (Unix ms; its node is gone), and the video is not yet its replay. Returns the new session's
    /// number, `None` when refused — atomic, so of two publishers on one key one wins.
    pub async fn claim_live(&self, video_id: &str, node: &str, stale_before: i64) -> Result<Option<u64>, DbError> {
        let now = now_ms();
        let session: Option<i64> = query_scalar(
            "UPDATE live_streams SET state = 'live', node = ?, sessions = sessions + 1, heartbeat_at = ?,
                 started_at = COALESCE(started_at, ?), ended_at = NULL
             WHERE video_id = ? AND (state IN ('idle', 'ended') OR heartbeat_at IS NULL OR heartbeat_at < ?)
               AND EXISTS (SELECT 1 FROM videos WHERE id = ? AND status = 'processing')
             RETURNING sessions",
        )
        .bind(node)
        .bind(now)
        .bind(now)
        .bind(video_id)
        .bind(stale_before)
        .bind(video_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(session.map(|s| s.max(0) as u64))
    }

    /// Renews the heartbeat of session `session` while it is live. False when another
    /// session took over (or the stream is gone).
    pub async fn live_heartbeat(&self, video_id: &str, session: u64) -> Result<bool, DbError> {
        let done =
            query("UPDATE live_streams SET heartbeat_at = ? WHERE video_id = ? AND sessions = ? AND state = 'live'")
                .bind(now_ms())
                .bind(video_id)
                .bind(session as i64)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks session `session` stopped (`ended`; a reconnect may still resume the event).
    /// False when another session took over.
    pub async fn end_live(&self, video_id: &str, session: u64) -> Result<bool, DbError> {
        let now = now_ms();
        let done = query(
            "UPDATE live_streams SET state = 'ended', ended_at = ?, heartbeat_at = ?
             WHERE video_id = ? AND sessions = ? AND state = 'live'",
        )
        .bind(now)
        .bind(now)
        .bind(video_id)
        .bind(session as i64)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Claims the making of the replay of a broadcast whose last session is `session`: the
    /// state becomes `finishing` (no publish can resume it from here) when that session ended,
    /// or its node stopped heartbeating before `stale_before` (Unix ms) — also a `finishing`
    /// whose node died. False when another session or node has it.
    pub async fn begin_finish(&self, video_id: &str, session: u64, stale_before: i64) -> Result<bool, DbError> {
        let now = now_ms();
        let done = query(
            "UPDATE live_streams SET state = 'finishing', heartbeat_at = ?, ended_at = COALESCE(ended_at, ?)
             WHERE video_id = ? AND sessions = ?
               AND (state = 'ended' OR (state IN ('live', 'finishing') AND heartbeat_at < ?))",
        )
        .bind(now)
        .bind(now)
        .bind(video_id)
        .bind(session as i64)
        .bind(stale_before)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Makes a broadcast that is `finishing` its replay: the video becomes `ready` with
    /// `renditions_json`, `duration` seconds and a poster when `has_poster`. False (nothing
    /// changed) when it is already done.
    pub async fn finish_live(
        &self,
        video_id: &str,
        renditions_json: &str,
        duration: f64,
        has_poster: bool,
    ) -> Result<bool, DbError> {
        let done = query(
            "UPDATE videos SET status = 'ready', progress = 100, renditions = ?, duration_secs = ?, has_poster = ?,
                 updated_at = ? WHERE id = ? AND status = 'processing'
                 AND EXISTS (SELECT 1 FROM live_streams WHERE video_id = ? AND state = 'finishing')",
        )
        .bind(renditions_json)
        .bind(duration)
        .bind(has_poster)
        .bind(now_ms())
        .bind(video_id)
        .bind(video_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Inserts clip `v` as a `ready` video with `renditions_json`, `duration` seconds and the
    /// segment index of each rendition (`indexes`: name and segments), in one transaction.
    pub async fn insert_clip(
        &self,
        v: &NewVideo,
        renditions_json: &str,
        duration: f64,
        indexes: &[(String, Vec<LiveSegment>)],
    ) -> Result<(), DbError> {
        let now = self.clock_ms().await?;
        let mut tx = self.write_tx().await?;
        insert_video(&mut tx, v, false, now).await?;
        query("UPDATE videos SET status = 'ready', progress = 100, renditions = ?, duration_secs = ? WHERE id = ?")
            .bind(renditions_json)
            .bind(duration)
            .bind(v.id.as_str())
            .execute(&mut *tx)
            .await?;
        for (rendition, segments) in indexes {
            for s in segments {
                insert_segment(&mut tx, &v.id, rendition, s).await?;
            }
        }
        tx.commit().await.map_err(DbError::from)
    }

    /// Records that a video's poster is stored.
    pub async fn set_poster(&self, video_id: &str) -> Result<(), DbError> {
        query("UPDATE videos SET has_poster = TRUE, updated_at = ? WHERE id = ?")
            .bind(now_ms())
            .bind(video_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Puts a broadcast whose session `session` produced nothing back to `idle` (not yet
    /// started: chat times count from the next start).
    pub async fn reset_live(&self, video_id: &str, session: u64) -> Result<(), DbError> {
        query(
            "UPDATE live_streams SET state = 'idle', node = NULL, started_at = NULL, ended_at = NULL
             WHERE video_id = ? AND sessions = ?",
        )
        .bind(video_id)
        .bind(session as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Broadcasts still `live`, `ended` or `finishing` (not yet replayed) whose heartbeat is
    /// older than `before` (Unix ms): their node stopped without finishing them. With the session
    /// number each was at.
    pub async fn abandoned_live_streams(&self, before: i64) -> Result<Vec<(VideoId, u64)>, DbError> {
        let rows = query(
            "SELECT ls.video_id, ls.sessions FROM live_streams ls JOIN videos v ON v.id = ls.video_id
             WHERE ls.state IN ('live', 'ended', 'finishing') AND ls.heartbeat_at < ? AND v.status = 'processing'",
        )
        .bind(before)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id = VideoId::parse(r.try_get::<&str, _>("video_id")?)
                    .ok_or_else(|| sqlx::Error::Decode("a stored video id is malformed".into()))?;
                Ok((id, r.try_get::<i64, _>("sessions")?.max(0) as u64))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(DbError::from)
    }

    /// Records a finished segment of `rendition` (after its bytes are stored), only while its
    /// session still holds the broadcast. Returns false when it does not (another session took
    /// over: the caller must stop).
    pub async fn insert_live_segment(&self, video_id: &str, rendition: &str, s: &LiveSegment) -> Result<bool, DbError> {
        let done = query(
            "INSERT INTO live_segments (video_id, rendition, seq, session, duration, bytes, init, discontinuity, program_date_time)
             SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS
                 (SELECT 1 FROM live_streams WHERE video_id = ? AND sessions = ? AND state = 'live')
             ON CONFLICT DO NOTHING",
        )
        .bind(video_id)
        .bind(rendition)
        .bind(s.seq as i64)
        .bind(s.session as i64)
        .bind(s.duration)
        .bind(s.bytes as i64)
        .bind(&s.init)
        .bind(s.discontinuity)
        .bind(s.program_date_time_ms)
        .bind(video_id)
        .bind(s.session as i64)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every indexed segment of one rendition, by sequence number.
    pub async fn live_segments(&self, video_id: &str, rendition: &str) -> Result<Vec<LiveSegment>, DbError> {
        let rows = query(
            "SELECT seq, session, duration, bytes, init, discontinuity, program_date_time FROM live_segments
             WHERE video_id = ? AND rendition = ? ORDER BY seq",
        )
        .bind(video_id)
        .bind(rendition)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LiveSegment {
                    seq: r.try_get::<i64, _>("seq")?.max(0) as u64,
                    session: r.try_get::<i64, _>("session")?.max(0) as u64,
                    duration: r.try_get("duration")?,
                    bytes: r.try_get::<i64, _>("bytes")?.max(0) as u64,
                    init: r.try_get("init")?,
                    discontinuity: super::get_bool(r, "discontinuity")?,
                    program_date_time_ms: r.try_get("program_date_time")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(DbError::from)
    }

    /// Renditions that have indexed segments.
    pub async fn live_renditions(&self, video_id: &str) -> Result<Vec<String>, DbError> {
        let rows = query("SELECT DISTINCT rendition FROM live_segments WHERE video_id = ? ORDER BY rendition")
            .bind(video_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("rendition"))
            .collect::<Result<_, _>>()
            .map_err(DbError::from)
    }

    /// Adds a chat message by `author_id` unless `limits` say it comes too soon, in one write
    /// transaction (so parallel posts cannot slip past the limits). The message is kept at the
    /// broadcast time of the live edge: the duration indexed so far (0 before the first
    /// segment), which is where the replay shows it.
    pub async fn insert_chat(
        &self,
        video_id: &str,
        author_id: i64,
        body: &str,
        limits: ChatLimits,
    ) -> Result<ChatInsert, DbError> {
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        let last: Option<i64> =
            query_scalar("SELECT MAX(created_at) FROM chat_messages WHERE video_id = ? AND author_id = ?")
                .bind(video_id)
                .bind(author_id)
                .fetch_one(&mut *tx)
                .await?;
        let in_last_minute: i64 =
            query_scalar("SELECT COUNT(*) FROM chat_messages WHERE video_id = ? AND author_id = ? AND created_at >= ?")
                .bind(video_id)
                .bind(author_id)
                .bind(now - 60_000)
                .fetch_one(&mut *tx)
                .await?;
        if in_last_minute >= i64::from(limits.per_minute) {
            return Ok(ChatInsert::TooSoon { retry_after_secs: 10 });
        }
        if limits.slow_mode_secs > 0
            && let Some(last) = last
        {
            let wait_ms = i64::from(limits.slow_mode_secs) * 1000 - (now - last);
            if wait_ms > 0 {
                return Ok(ChatInsert::TooSoon {
                    retry_after_secs: ((wait_ms + 999) / 1000) as u64,
                });
            }
        }
        let offset: Option<f64> = query_scalar(
            "SELECT MAX(total) FROM (SELECT SUM(duration) AS total FROM live_segments WHERE video_id = ? GROUP BY rendition) t",
        )
        .bind(video_id)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = query_scalar(
            "INSERT INTO chat_messages (video_id, author_id, body, offset_secs, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(video_id)
        .bind(author_id)
        .bind(body)
        .bind(offset.unwrap_or(0.0))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let sql = format!("{CHAT_SELECT} WHERE c.id = ?");
        let row = query(&sql).bind(id).fetch_one(&mut *tx).await?;
        let record = chat_from_row(&row)?;
        tx.commit().await?;
        Ok(ChatInsert::Posted(record))
    }

    /// Up to `limit` chat messages of a video from broadcast time `from_secs` on, in the order
    /// they were sent.
    pub async fn chat_messages(&self, video_id: &str, from_secs: f64, limit: u32) -> Result<Vec<ChatRecord>, DbError> {
        let sql =
            format!("{CHAT_SELECT} WHERE c.video_id = ? AND c.offset_secs >= ? ORDER BY c.offset_secs, c.id LIMIT ?");
        let rows = query(&sql)
            .bind(video_id)
            .bind(from_secs)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(chat_from_row)
            .collect::<Result<_, _>>()
            .map_err(DbError::from)
    }

    /// Deletes chat message `id` of video `video_id`; false when there is none.
    pub async fn delete_chat(&self, video_id: &str, id: i64) -> Result<bool, DbError> {
        let done = query("DELETE FROM chat_messages WHERE id = ? AND video_id = ?")
            .bind(id)
            .bind(video_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Sets a live stream's chat slow mode (seconds between two messages of one viewer, 0 =
    /// off). False when `video_id` is no live stream.
    pub async fn set_chat_slow_mode(&self, video_id: &str, secs: u32) -> Result<bool, DbError> {
        let done = query("UPDATE live_streams SET chat_slow_mode_secs = ? WHERE video_id = ?")
            .bind(i64::from(secs))
            .bind(video_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Keeps `user_id` out of a video's chat until `until` (Unix ms; `None`: for good).
    pub async fn ban_from_chat(&self, video_id: &str, user_id: i64, until: Option<i64>) -> Result<(), DbError> {
        query(
            "INSERT INTO chat_bans (video_id, user_id, until_ms) VALUES (?, ?, ?)
             ON CONFLICT (video_id, user_id) DO UPDATE SET until_ms = excluded.until_ms",
        )
        .bind(video_id)
        .bind(user_id)
        .bind(until)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// True when `user_id` is banned or timed out of a video's chat now.
    pub async fn chat_banned(&self, video_id: &str, user_id: i64) -> Result<bool, DbError> {
        let n: i64 = query_scalar(
            "SELECT COUNT(*) FROM chat_bans WHERE video_id = ? AND user_id = ? AND (until_ms IS NULL OR until_ms > ?)",
        )
        .bind(video_id)
        .bind(user_id)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }
}

/// Inside `conn`: the index row of segment `s` of `rendition` (a clip's).
async fn insert_segment(
    conn: &mut sqlx::AnyConnection,
    video_id: &str,
    rendition: &str,
    s: &LiveSegment,
) -> Result<(), DbError> {
    query(
        "INSERT INTO live_segments (video_id, rendition, seq, session, duration, bytes, init, discontinuity, program_date_time)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(video_id)
    .bind(rendition)
    .bind(s.seq as i64)
    .bind(s.session as i64)
    .bind(s.duration)
    .bind(s.bytes as i64)
    .bind(&s.init)
    .bind(s.discontinuity)
    .bind(s.program_date_time_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
