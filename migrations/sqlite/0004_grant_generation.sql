-- Playback grants sign the video's grant generation, a counter that only increases: every
-- privacy change and every "revoke all links" bumps it, so earlier grants never verify again.
ALTER TABLE videos ADD COLUMN grant_generation INTEGER NOT NULL DEFAULT 1;
