-- Caption tracks extracted from a source's own text subtitle streams (src/jobs/pipeline.rs)
-- keep the stream's index; uploaded tracks have none. A retried transcode replaces the former.
ALTER TABLE captions ADD COLUMN source_stream BIGINT;
