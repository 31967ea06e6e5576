-- Caption tracks extracted from a source's own text subtitle streams (src/jobs/pipeline.rs)
-- keep the stream's index; uploaded tracks have none. A retried transcode replaces the former.
ALTER TABLE captions ADD COLUMN source_stream INTEGER;
-- A forced track (signs, foreign dialogue) is shown without being chosen: FORCED=YES in the
-- multivariant playlist (RFC 8216 §4.3.4.1).
ALTER TABLE captions ADD COLUMN forced INTEGER NOT NULL DEFAULT 0;
