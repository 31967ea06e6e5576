-- Captions (src/media/captions.rs): uploaded WebVTT/SRT tracks, published as HLS subtitle
-- renditions under the video's `subs_<id>/` directory.
CREATE TABLE captions (
    id         BIGSERIAL PRIMARY KEY,
    video_id   TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    lang       TEXT NOT NULL,
    label      TEXT NOT NULL,
    cues       BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX captions_video ON captions (video_id);
