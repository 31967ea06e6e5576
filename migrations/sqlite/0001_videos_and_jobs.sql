-- Videos and their transcode jobs. Times are Unix milliseconds (UTC).
CREATE TABLE videos (
    id            TEXT PRIMARY KEY,                -- random, URL-safe, 12 characters
    title         TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL CHECK (status IN ('processing', 'ready', 'failed')),
    progress      REAL NOT NULL DEFAULT 0,         -- percent, 0..100
    error         TEXT,                            -- why it failed, for people
    source_name   TEXT NOT NULL,                   -- the uploader's file name (display only)
    source_bytes  INTEGER NOT NULL,
    duration_secs REAL,
    renditions    TEXT NOT NULL DEFAULT '[]',      -- JSON array of media::playlist::Rendition
    has_poster    INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX videos_newest ON videos (created_at DESC, id DESC);

CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    video_id         TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,                -- 'transcode'
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,   -- claims so far
    max_attempts     INTEGER NOT NULL,
    run_after        INTEGER NOT NULL,             -- not claimed before this time (retry backoff)
    lease_owner      TEXT,                         -- worker id holding the lease
    lease_until      INTEGER,                      -- lease expiry; a running job past it is reclaimed
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX jobs_claimable ON jobs (state, run_after);
CREATE INDEX jobs_by_video ON jobs (video_id);
