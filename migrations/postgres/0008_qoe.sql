-- Quality of experience (docs/qoe.md): player beacons, one summary per view, rollups.
-- No foreign keys: beacons are written in large batches that must not fail on a video deleted
-- meanwhile; deleting a video deletes its rows here explicitly.

-- Raw beacon events, kept analytics.raw_days. (view_id, seq) makes a resent event a no-op.
CREATE TABLE qoe_events (
    view_id     TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    video_id    TEXT NOT NULL,
    received_at BIGINT NOT NULL,           -- Unix ms
    t_ms        BIGINT NOT NULL,           -- ms since the view started (the player's clock)
    kind        TEXT NOT NULL,          -- the event's type
    data        TEXT NOT NULL,          -- the event's own fields, JSON
    PRIMARY KEY (view_id, seq)
);
CREATE INDEX qoe_events_received ON qoe_events (received_at);

-- One row per view, folded from its events as they arrive (every column but the first ones
-- only grows), kept analytics.raw_days.
CREATE TABLE qoe_views (
    view_id        TEXT PRIMARY KEY,
    video_id       TEXT NOT NULL,
    started_at     BIGINT NOT NULL,        -- Unix ms of its first stored beacon
    updated_at     BIGINT NOT NULL,        -- Unix ms of its latest beacon
    user_id        BIGINT,                 -- only with analytics.store_user_id
    browser        TEXT NOT NULL DEFAULT '',
    os             TEXT NOT NULL DEFAULT '',
    player         TEXT NOT NULL DEFAULT '',
    player_version TEXT NOT NULL DEFAULT '',
    live           BIGINT NOT NULL DEFAULT 0,
    play_requested BIGINT NOT NULL DEFAULT 0,
    startup_ms     BIGINT,                 -- video start time; NULL until the first frame
    watch_ms       BIGINT NOT NULL DEFAULT 0,
    rebuffer_count BIGINT NOT NULL DEFAULT 0,
    rebuffer_ms    BIGINT NOT NULL DEFAULT 0,
    seek_count     BIGINT NOT NULL DEFAULT 0,
    seek_ms        BIGINT NOT NULL DEFAULT 0,
    errors         BIGINT NOT NULL DEFAULT 0,
    failed         BIGINT NOT NULL DEFAULT 0,
    error_code     TEXT,
    error_detail   TEXT,
    dropped_frames BIGINT NOT NULL DEFAULT 0,
    bitrate_bits   BIGINT NOT NULL DEFAULT 0,
    bitrate_ms     BIGINT NOT NULL DEFAULT 0,
    latency_ms_sum BIGINT NOT NULL DEFAULT 0,
    latency_samples BIGINT NOT NULL DEFAULT 0,
    ended          BIGINT NOT NULL DEFAULT 0,
    page_hidden    BIGINT NOT NULL DEFAULT 0,
    rolled_at      BIGINT                  -- Unix ms it was added to the rollups; NULL while open
);
CREATE INDEX qoe_views_video ON qoe_views (video_id, started_at);
-- Views not rolled up yet (a few minutes' worth): for the rollup task and the reports.
CREATE INDEX qoe_views_open ON qoe_views (updated_at) WHERE rolled_at IS NULL;
CREATE INDEX qoe_views_open_started ON qoe_views (started_at) WHERE rolled_at IS NULL;

-- Milliseconds each view played at each rendition height.
CREATE TABLE qoe_view_renditions (
    view_id TEXT NOT NULL,
    height  BIGINT NOT NULL,
    ms      BIGINT NOT NULL,
    PRIMARY KEY (view_id, height)
);

-- Rollups of closed views by the minute (bucket_secs 60), hour (3600) and day (86400), per
-- video; dim is 'all', 'browser', 'os', 'player' or 'rendition' (value: the browser, …, the
-- height; '' for 'all'). A view counts in the bucket of its start.
CREATE TABLE qoe_rollups (
    bucket_secs  BIGINT NOT NULL,
    video_id     TEXT NOT NULL,
    dim          TEXT NOT NULL,
    value        TEXT NOT NULL,
    bucket_start BIGINT NOT NULL,          -- Unix ms
    views            BIGINT NOT NULL DEFAULT 0,
    play_requests    BIGINT NOT NULL DEFAULT 0,
    started          BIGINT NOT NULL DEFAULT 0,
    ebvs             BIGINT NOT NULL DEFAULT 0,   -- exits before video start
    failures         BIGINT NOT NULL DEFAULT 0,
    startup_ms_sum   BIGINT NOT NULL DEFAULT 0,
    startup_score_sum DOUBLE PRECISION NOT NULL DEFAULT 0,  -- Σ per-view startup score (0–100)
    watch_ms         BIGINT NOT NULL DEFAULT 0,
    rebuffer_count   BIGINT NOT NULL DEFAULT 0,
    rebuffer_ms      BIGINT NOT NULL DEFAULT 0,
    seek_count       BIGINT NOT NULL DEFAULT 0,
    seek_ms          BIGINT NOT NULL DEFAULT 0,
    dropped_frames   BIGINT NOT NULL DEFAULT 0,
    bitrate_bits     BIGINT NOT NULL DEFAULT 0,   -- Σ bitrate (bits/s) × seconds played at it
    bitrate_ms       BIGINT NOT NULL DEFAULT 0,   -- ms played at a known bitrate
    latency_ms_sum   BIGINT NOT NULL DEFAULT 0,
    latency_samples  BIGINT NOT NULL DEFAULT 0,
    -- video start time histogram: counts of started views per bucket (bounds in src/qoe/tally.rs)
    h0  BIGINT NOT NULL DEFAULT 0,
    h1  BIGINT NOT NULL DEFAULT 0,
    h2  BIGINT NOT NULL DEFAULT 0,
    h3  BIGINT NOT NULL DEFAULT 0,
    h4  BIGINT NOT NULL DEFAULT 0,
    h5  BIGINT NOT NULL DEFAULT 0,
    h6  BIGINT NOT NULL DEFAULT 0,
    h7  BIGINT NOT NULL DEFAULT 0,
    h8  BIGINT NOT NULL DEFAULT 0,
    h9  BIGINT NOT NULL DEFAULT 0,
    h10 BIGINT NOT NULL DEFAULT 0,
    h11 BIGINT NOT NULL DEFAULT 0,
    h12 BIGINT NOT NULL DEFAULT 0,
    h13 BIGINT NOT NULL DEFAULT 0,
    h14 BIGINT NOT NULL DEFAULT 0,
    h15 BIGINT NOT NULL DEFAULT 0,
    h16 BIGINT NOT NULL DEFAULT 0,
    h17 BIGINT NOT NULL DEFAULT 0,
    h18 BIGINT NOT NULL DEFAULT 0,
    h19 BIGINT NOT NULL DEFAULT 0,
    h20 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket_secs, video_id, bucket_start, dim, value)
);
CREATE INDEX qoe_rollups_time ON qoe_rollups (bucket_secs, dim, bucket_start);

-- The same over every video (kept when a video is deleted).
CREATE TABLE qoe_site_rollups (
    bucket_secs  BIGINT NOT NULL,
    dim          TEXT NOT NULL,
    value        TEXT NOT NULL,
    bucket_start BIGINT NOT NULL,
    views            BIGINT NOT NULL DEFAULT 0,
    play_requests    BIGINT NOT NULL DEFAULT 0,
    started          BIGINT NOT NULL DEFAULT 0,
    ebvs             BIGINT NOT NULL DEFAULT 0,   -- exits before video start
    failures         BIGINT NOT NULL DEFAULT 0,
    startup_ms_sum   BIGINT NOT NULL DEFAULT 0,
    startup_score_sum DOUBLE PRECISION NOT NULL DEFAULT 0,  -- Σ per-view startup score (0–100)
    watch_ms         BIGINT NOT NULL DEFAULT 0,
    rebuffer_count   BIGINT NOT NULL DEFAULT 0,
    rebuffer_ms      BIGINT NOT NULL DEFAULT 0,
    seek_count       BIGINT NOT NULL DEFAULT 0,
    seek_ms          BIGINT NOT NULL DEFAULT 0,
    dropped_frames   BIGINT NOT NULL DEFAULT 0,
    bitrate_bits     BIGINT NOT NULL DEFAULT 0,   -- Σ bitrate (bits/s) × seconds played at it
    bitrate_ms       BIGINT NOT NULL DEFAULT 0,   -- ms played at a known bitrate
    latency_ms_sum   BIGINT NOT NULL DEFAULT 0,
    latency_samples  BIGINT NOT NULL DEFAULT 0,
    -- video start time histogram: counts of started views per bucket (bounds in src/qoe/tally.rs)
    h0  BIGINT NOT NULL DEFAULT 0,
    h1  BIGINT NOT NULL DEFAULT 0,
    h2  BIGINT NOT NULL DEFAULT 0,
    h3  BIGINT NOT NULL DEFAULT 0,
    h4  BIGINT NOT NULL DEFAULT 0,
    h5  BIGINT NOT NULL DEFAULT 0,
    h6  BIGINT NOT NULL DEFAULT 0,
    h7  BIGINT NOT NULL DEFAULT 0,
    h8  BIGINT NOT NULL DEFAULT 0,
    h9  BIGINT NOT NULL DEFAULT 0,
    h10 BIGINT NOT NULL DEFAULT 0,
    h11 BIGINT NOT NULL DEFAULT 0,
    h12 BIGINT NOT NULL DEFAULT 0,
    h13 BIGINT NOT NULL DEFAULT 0,
    h14 BIGINT NOT NULL DEFAULT 0,
    h15 BIGINT NOT NULL DEFAULT 0,
    h16 BIGINT NOT NULL DEFAULT 0,
    h17 BIGINT NOT NULL DEFAULT 0,
    h18 BIGINT NOT NULL DEFAULT 0,
    h19 BIGINT NOT NULL DEFAULT 0,
    h20 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket_secs, bucket_start, dim, value)
);

-- The same over all the videos of one owner (their Analytics page; kept when a video is deleted).
CREATE TABLE qoe_owner_rollups (
    bucket_secs  BIGINT NOT NULL,
    owner_id     BIGINT NOT NULL,
    dim          TEXT NOT NULL,
    value        TEXT NOT NULL,
    bucket_start BIGINT NOT NULL,
    views            BIGINT NOT NULL DEFAULT 0,
    play_requests    BIGINT NOT NULL DEFAULT 0,
    started          BIGINT NOT NULL DEFAULT 0,
    ebvs             BIGINT NOT NULL DEFAULT 0,   -- exits before video start
    failures         BIGINT NOT NULL DEFAULT 0,
    startup_ms_sum   BIGINT NOT NULL DEFAULT 0,
    startup_score_sum DOUBLE PRECISION NOT NULL DEFAULT 0,  -- Σ per-view startup score (0–100)
    watch_ms         BIGINT NOT NULL DEFAULT 0,
    rebuffer_count   BIGINT NOT NULL DEFAULT 0,
    rebuffer_ms      BIGINT NOT NULL DEFAULT 0,
    seek_count       BIGINT NOT NULL DEFAULT 0,
    seek_ms          BIGINT NOT NULL DEFAULT 0,
    dropped_frames   BIGINT NOT NULL DEFAULT 0,
    bitrate_bits     BIGINT NOT NULL DEFAULT 0,   -- Σ bitrate (bits/s) × seconds played at it
    bitrate_ms       BIGINT NOT NULL DEFAULT 0,   -- ms played at a known bitrate
    latency_ms_sum   BIGINT NOT NULL DEFAULT 0,
    latency_samples  BIGINT NOT NULL DEFAULT 0,
    -- video start time histogram: counts of started views per bucket (bounds in src/qoe/tally.rs)
    h0  BIGINT NOT NULL DEFAULT 0,
    h1  BIGINT NOT NULL DEFAULT 0,
    h2  BIGINT NOT NULL DEFAULT 0,
    h3  BIGINT NOT NULL DEFAULT 0,
    h4  BIGINT NOT NULL DEFAULT 0,
    h5  BIGINT NOT NULL DEFAULT 0,
    h6  BIGINT NOT NULL DEFAULT 0,
    h7  BIGINT NOT NULL DEFAULT 0,
    h8  BIGINT NOT NULL DEFAULT 0,
    h9  BIGINT NOT NULL DEFAULT 0,
    h10 BIGINT NOT NULL DEFAULT 0,
    h11 BIGINT NOT NULL DEFAULT 0,
    h12 BIGINT NOT NULL DEFAULT 0,
    h13 BIGINT NOT NULL DEFAULT 0,
    h14 BIGINT NOT NULL DEFAULT 0,
    h15 BIGINT NOT NULL DEFAULT 0,
    h16 BIGINT NOT NULL DEFAULT 0,
    h17 BIGINT NOT NULL DEFAULT 0,
    h18 BIGINT NOT NULL DEFAULT 0,
    h19 BIGINT NOT NULL DEFAULT 0,
    h20 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket_secs, owner_id, bucket_start, dim, value)
);
