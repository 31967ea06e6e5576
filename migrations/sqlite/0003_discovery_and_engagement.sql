-- Tags, view counts, comments, watch progress and full-text search.
-- Times are Unix milliseconds (UTC).

ALTER TABLE videos ADD COLUMN tags TEXT NOT NULL DEFAULT '';          -- space-separated, lowercase
ALTER TABLE videos ADD COLUMN views INTEGER NOT NULL DEFAULT 0;
ALTER TABLE videos ADD COLUMN comments_enabled INTEGER NOT NULL DEFAULT 1;

-- One row per (video, tag), for exact tag filters.
CREATE TABLE video_tags (
    video_id TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    tag      TEXT NOT NULL,
    PRIMARY KEY (video_id, tag)
);
CREATE INDEX video_tags_by_tag ON video_tags (tag, video_id);
CREATE INDEX videos_most_viewed ON videos (privacy, views DESC, created_at DESC);

-- A view counts once per viewer per video per 24 h: the last time each viewer was counted.
CREATE TABLE video_views (
    video_id   TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    viewer     TEXT NOT NULL,                                         -- 'u:{user id}' or 'a:{cookie}'
    counted_at INTEGER NOT NULL,
    PRIMARY KEY (video_id, viewer)
);

CREATE TABLE comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    video_id   TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    parent_id  INTEGER REFERENCES comments (id) ON DELETE CASCADE,   -- NULL: top level; one level deep
    author_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       TEXT NOT NULL,                                         -- plain text, never HTML
    created_at INTEGER NOT NULL,
    edited_at  INTEGER
);
CREATE INDEX comments_top_level ON comments (video_id, created_at DESC, id DESC) WHERE parent_id IS NULL;
CREATE INDEX comments_replies ON comments (parent_id, created_at, id);

CREATE TABLE watch_progress (
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    video_id      TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    position_secs REAL NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (user_id, video_id)
);
CREATE INDEX watch_progress_recent ON watch_progress (user_id, updated_at DESC);

-- Full-text search over title, description and tags: an external-content FTS5 index kept in
-- step by triggers. unicode61 with remove_diacritics 2 folds case and accents ("Élan" = "elan");
-- prefix indexes make search-as-you-type cheap.
CREATE VIRTUAL TABLE videos_fts USING fts5(
    title, description, tags,
    content = 'videos', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);
CREATE TRIGGER videos_fts_insert AFTER INSERT ON videos BEGIN
    INSERT INTO videos_fts (rowid, title, description, tags) VALUES (new.rowid, new.title, new.description, new.tags);
END;
CREATE TRIGGER videos_fts_delete AFTER DELETE ON videos BEGIN
    INSERT INTO videos_fts (videos_fts, rowid, title, description, tags) VALUES ('delete', old.rowid, old.title, old.description, old.tags);
END;
CREATE TRIGGER videos_fts_update AFTER UPDATE OF title, description, tags ON videos BEGIN
    INSERT INTO videos_fts (videos_fts, rowid, title, description, tags) VALUES ('delete', old.rowid, old.title, old.description, old.tags);
    INSERT INTO videos_fts (rowid, title, description, tags) VALUES (new.rowid, new.title, new.description, new.tags);
END;
INSERT INTO videos_fts (videos_fts) VALUES ('rebuild');
