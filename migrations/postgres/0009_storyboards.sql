-- Seek-bar storyboards (src/media/storyboard.rs): sprite sheets and a WebVTT thumbnails track
-- under the video's `storyboard/` directory, made in the transcode pass.
ALTER TABLE videos ADD COLUMN has_storyboard BOOLEAN NOT NULL DEFAULT FALSE;
