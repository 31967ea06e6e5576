-- Captions (src/media/captions.rs): uploaded WebVTT/SRT tracks, published as HLS subtitle
-- renditions under the video's `subs_<id>/` directory.
CREATE TABLE captions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    video_id   TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    lang       TEXT NOT NULL,                 -- BCP 47 language tag, e.g. en, pt-BR
    label      TEXT NOT NULL,                 -- shown in the captions menu
    cues       INTEGER NOT NULL,
    created_at INTEGER NOT NULL               -- Unix ms
);
CREATE INDEX captions_video ON captions (video_id);
