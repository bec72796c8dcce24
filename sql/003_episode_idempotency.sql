-- Idempotency-Key on starting and ending an episode (issue 11), as feedback has: a client
-- that lost the answer retries with the same key and gets the same episode back, never a
-- second episode or a 409 for its own end.  The key is stored with a SHA-256 of the
-- request's canonical fields; the same key with other fields is a 409.
ALTER TABLE episodes
	ADD COLUMN start_key  text CHECK (length(start_key) BETWEEN 1 AND 255),
	ADD COLUMN start_hash bytea,
	ADD COLUMN end_key    text CHECK (length(end_key) BETWEEN 1 AND 255),
	ADD COLUMN end_hash   bytea,
	ADD CHECK (start_key IS NULL OR start_hash IS NOT NULL),
	ADD CHECK (end_key IS NULL OR end_hash IS NOT NULL);
-- A start key names one episode of its client.
CREATE UNIQUE INDEX episodes_start_key ON episodes (client_id, start_key)
	WHERE start_key IS NOT NULL;
