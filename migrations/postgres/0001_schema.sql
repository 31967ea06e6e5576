-- Kino's schema on PostgreSQL: the same tables, columns and meanings as migrations/sqlite
-- (0001..0003), in one step. Times are Unix milliseconds (UTC), BIGINT; flags are BOOLEAN.
-- Search uses generated tsvector columns with GIN indexes instead of SQLite's FTS5 table;
-- text is folded with the same accent table as src/db/search.rs (FOLD_FROM / FOLD_TO), and ASCII
-- punctuation becomes a space, so words split where the Rust side splits typed text
-- ("node.js" is two words, as on SQLite).

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,            -- lowercase, [a-z0-9_.-]{3,32}
    email         TEXT UNIQUE,                     -- lowercase; NULL for accounts made by `kino users create`
    password_hash TEXT NOT NULL,                   -- PHC string, Argon2id
    role          TEXT NOT NULL CHECK (role IN ('admin', 'uploader', 'viewer')),
    created_at    BIGINT NOT NULL
);

CREATE TABLE videos (
    id               TEXT PRIMARY KEY,             -- random, URL-safe, 12 characters
    title            TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL CHECK (status IN ('processing', 'ready', 'failed')),
    progress         DOUBLE PRECISION NOT NULL DEFAULT 0,   -- percent, 0..100
    error            TEXT,
    source_name      TEXT NOT NULL,
    source_bytes     BIGINT NOT NULL,
    duration_secs    DOUBLE PRECISION,
    renditions       TEXT NOT NULL DEFAULT '[]',    -- JSON array of media::playlist::Rendition
    has_poster       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    owner_id         BIGINT REFERENCES users (id) ON DELETE SET NULL,
    privacy          TEXT NOT NULL DEFAULT 'public' CHECK (privacy IN ('public', 'unlisted', 'private')),
    tags             TEXT NOT NULL DEFAULT '',      -- space-separated, lowercase
    views            BIGINT NOT NULL DEFAULT 0,
    comments_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    search_title     tsvector GENERATED ALWAYS AS
        (to_tsvector('simple', translate(lower(title || ' ' || tags), 'àÀáÁâÂãÃäÄåÅāĀăĂąĄçÇćĆčČĉĈċĊďĎđĐèÈéÉêÊëËēĒėĖęĘěĚĕĔğĞĝĜġĠģĢĥĤħĦìÌíÍîÎïÏīĪįĮıIĩĨĭĬĵĴķĶłŁľĽĺĹļĻñÑńŃňŇņŅòÒóÓôÔõÕöÖøØōŌőŐŏŎřŘŕŔŗŖśŚšŠşŞșȘŝŜťŤţŢțȚùÙúÚûÛüÜūŪůŮűŰųŲũŨŭŬýÝÿŸŷŶžŽźŹżŻŵŴ.-_/:@+#&,;!?()[]{}"`~$%^*=|\<>', 'aaaaaaaaaaaaaaaaaaccccccccccddddeeeeeeeeeeeeeeeeeegggggggghhhhiiiiiiiiiiiiiiiiiijjkkllllllllnnnnnnnnoooooooooooooooooorrrrrrssssssssssttttttuuuuuuuuuuuuuuuuuuuuyyyyyyzzzzzzww                               '))) STORED,
    search_all       tsvector GENERATED ALWAYS AS
        (to_tsvector('simple', translate(lower(title || ' ' || tags || ' ' || description), 'àÀáÁâÂãÃäÄåÅāĀăĂąĄçÇćĆčČĉĈċĊďĎđĐèÈéÉêÊëËēĒėĖęĘěĚĕĔğĞĝĜġĠģĢĥĤħĦìÌíÍîÎïÏīĪįĮıIĩĨĭĬĵĴķĶłŁľĽĺĹļĻñÑńŃňŇņŅòÒóÓôÔõÕöÖøØōŌőŐŏŎřŘŕŔŗŖśŚšŠşŞșȘŝŜťŤţŢțȚùÙúÚûÛüÜūŪůŮűŰųŲũŨŭŬýÝÿŸŷŶžŽźŹżŻŵŴ.-_/:@+#&,;!?()[]{}"`~$%^*=|\<>', 'aaaaaaaaaaaaaaaaaaccccccccccddddeeeeeeeeeeeeeeeeeegggggggghhhhiiiiiiiiiiiiiiiiiijjkkllllllllnnnnnnnnoooooooooooooooooorrrrrrssssssssssttttttuuuuuuuuuuuuuuuuuuuuyyyyyyzzzzzzww                               '))) STORED
);
CREATE INDEX videos_newest ON videos (created_at DESC, id DESC);
CREATE INDEX videos_by_privacy ON videos (privacy, created_at DESC, id DESC);
CREATE INDEX videos_by_owner ON videos (owner_id, created_at DESC, id DESC);
CREATE INDEX videos_most_viewed ON videos (privacy, views DESC, created_at DESC);
CREATE INDEX videos_search_title ON videos USING GIN (search_title);
CREATE INDEX videos_search_all ON videos USING GIN (search_all);

CREATE TABLE jobs (
    id               BIGSERIAL PRIMARY KEY,
    video_id         TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    max_attempts     BIGINT NOT NULL,
    run_after        BIGINT NOT NULL,
    lease_owner      TEXT,
    lease_until      BIGINT,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX jobs_claimable ON jobs (state, run_after);
CREATE INDEX jobs_by_video ON jobs (video_id);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    rotated_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);

CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

CREATE TABLE signing_keys (
    id         TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE video_tags (
    video_id TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    tag      TEXT NOT NULL,
    PRIMARY KEY (video_id, tag)
);
CREATE INDEX video_tags_by_tag ON video_tags (tag, video_id);

CREATE TABLE video_views (
    video_id   TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    viewer     TEXT NOT NULL,
    counted_at BIGINT NOT NULL,
    PRIMARY KEY (video_id, viewer)
);

CREATE TABLE comments (
    id         BIGSERIAL PRIMARY KEY,
    video_id   TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    parent_id  BIGINT REFERENCES comments (id) ON DELETE CASCADE,
    author_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    edited_at  BIGINT
);
CREATE INDEX comments_top_level ON comments (video_id, created_at DESC, id DESC) WHERE parent_id IS NULL;
CREATE INDEX comments_replies ON comments (parent_id, created_at, id);

CREATE TABLE watch_progress (
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    video_id      TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    position_secs DOUBLE PRECISION NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (user_id, video_id)
);
CREATE INDEX watch_progress_recent ON watch_progress (user_id, updated_at DESC);
