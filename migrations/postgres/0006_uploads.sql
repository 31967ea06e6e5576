-- Resumable (tus 1.0) uploads. The video row exists from the creation request on, marked
-- `uploading`: seen by its owner and administrators only, no transcode job yet. `uploads` says
-- how much of its source has arrived; the bytes wait as numbered chunk blobs
-- (`uploads/{video id}/{n}-{token}`, one per PATCH attempt) until the last one, then become `sources/{video id}`.
ALTER TABLE videos ADD COLUMN uploading BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE uploads (
    video_id   TEXT PRIMARY KEY REFERENCES videos (id) ON DELETE CASCADE,
    length     BIGINT NOT NULL,               -- bytes announced by Upload-Length
    received   BIGINT NOT NULL DEFAULT 0,     -- bytes stored so far (the Upload-Offset)
    chunks     BIGINT NOT NULL DEFAULT 0,     -- chunk blobs stored so far
    chunk_keys TEXT NOT NULL DEFAULT '',      -- their blob keys, space-separated, in order
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL                -- Unix ms; unfinished uploads are removed after it
);
CREATE INDEX uploads_expires ON uploads (expires_at);
