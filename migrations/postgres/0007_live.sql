-- Live streams (RTMP ingest → HLS). A live stream is a video: its `videos` row stays
-- `processing` until the broadcast has become a replay (`ready`); `live_streams.state` says
-- where the broadcast is (`idle` before the first publish, `live` while a publisher sends,
-- `ended` once it stopped (a reconnect may resume it), `finishing` while one node turns it
-- into the replay).
CREATE TABLE live_streams (
    video_id     TEXT PRIMARY KEY REFERENCES videos (id) ON DELETE CASCADE,
    key_hash     TEXT NOT NULL UNIQUE,        -- SHA-256 (hex) of the stream key; the key is never stored
    state        TEXT NOT NULL DEFAULT 'idle' CHECK (state IN ('idle', 'live', 'ended', 'finishing')),
    node         TEXT,                        -- the ingest node holding the publishing session
    sessions     BIGINT NOT NULL DEFAULT 0,  -- publishing sessions so far (a reconnect adds one)
    started_at   BIGINT,                     -- Unix ms the first session started
    ended_at     BIGINT,                     -- Unix ms the broadcast ended
    heartbeat_at BIGINT,                     -- Unix ms, renewed by the ingest node while live
    chat_slow_mode_secs BIGINT NOT NULL DEFAULT 0 -- seconds between two messages of one viewer (0 = off)
);
-- The segment index: one row per finished segment per rendition, written by the ingest node
-- after the segment's bytes are stored. Every playlist of a live stream is rendered from it.
CREATE TABLE live_segments (
    video_id          TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    rendition         TEXT NOT NULL,
    seq               BIGINT NOT NULL,            -- media sequence number, from 0
    session           BIGINT NOT NULL,            -- the publishing session that made it
    duration          DOUBLE PRECISION NOT NULL,               -- seconds
    bytes             BIGINT NOT NULL,
    init              TEXT NOT NULL,               -- file name of its init segment
    discontinuity     BOOLEAN NOT NULL DEFAULT FALSE,  -- first segment after a reconnect
    program_date_time BIGINT NOT NULL,            -- Unix ms of its first frame
    PRIMARY KEY (video_id, rendition, seq)
);
-- Chat beside a live stream, kept with the broadcast time it was sent at so the replay shows
-- it in sync with the video.
CREATE TABLE chat_messages (
    id          BIGSERIAL PRIMARY KEY,
    video_id    TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    author_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body        TEXT NOT NULL,
    offset_secs DOUBLE PRECISION NOT NULL,                     -- seconds into the broadcast
    created_at  BIGINT NOT NULL
);
CREATE INDEX chat_messages_by_time ON chat_messages (video_id, offset_secs, id);
-- Users the owner or an administrator timed out or banned from a stream's chat.
CREATE TABLE chat_bans (
    video_id TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    until_ms BIGINT,                              -- Unix ms; NULL bans for good
    PRIMARY KEY (video_id, user_id)
);
