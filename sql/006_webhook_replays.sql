-- Replays (issue 13): `alliancectl events replay ID` (POST /v1/events/{id}/replay) queues an
-- event to be sent again to one webhook, typically a dead letter once the receiver is fixed.
-- The daemon that holds the webhook's cursor row (005_events.sql) sends due replays before the
-- next event past the cursor, with the same webhook-id as the first time (receivers that saw
-- it deduplicate) and its own attempts and backoff, so a failing replay never holds up the
-- events behind the cursor.  Delivered: the row and the event's dead letter go; failing past
-- the horizon: the row goes and the dead letter is back (or updated).
CREATE TABLE webhook_replays (
	webhook         text NOT NULL REFERENCES webhook_cursors (name),
	event_id        bigint NOT NULL REFERENCES events (id),
	requested_at    timestamptz NOT NULL DEFAULT now(),
	attempts        integer NOT NULL DEFAULT 0,
	failing_since   timestamptz,
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	last_error      text,
	PRIMARY KEY (webhook, event_id)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_replays TO alliance_runtime;
-- A replay that dies again updates its dead letter (attempts, error, time).
GRANT UPDATE ON webhook_dead TO alliance_runtime;
