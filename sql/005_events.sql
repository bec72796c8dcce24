-- Events (issue 13): a transactional outbox.  An event row is written by a trigger of the
-- change that causes it, so it commits exactly when the change commits and a rolled-back
-- transaction leaves none.  Triggers rather than a CTE in each statement: every writer
-- (routes, catalog tools, psql) emits the same events, and the statements stay as they are.
-- Rows carry ids and statuses only, never preferences, ratings or items.
--
-- Order: alliance_event() takes a transaction-scoped advisory lock before taking an id, so
-- event-writing transactions commit in id order and a reader's cursor (the last id seen)
-- never skips a row that commits later with a smaller id.  The lock is held from the event's
-- insert to the COMMIT (the end of one statement on the API's paths).
CREATE TABLE events (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	type         text NOT NULL CHECK (type IN ('episode.status_changed', 'episode.started',
	                 'episode.ended', 'therapist.slot_opened', 'feedback.flagged')),
	episode_id   bigint,
	therapist_id bigint,
	data         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
	created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_episode ON events (episode_id, id);

-- 'alliance_events' carries the new id; listeners read from their cursor on.
CREATE FUNCTION alliance_event(p_type text, p_episode bigint, p_therapist bigint, p_data jsonb)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	new_id bigint;
BEGIN
	PERFORM pg_advisory_xact_lock(7113001);
	INSERT INTO events (type, episode_id, therapist_id, data)
	VALUES (p_type, p_episode, p_therapist, p_data) RETURNING id INTO new_id;
	PERFORM pg_notify('alliance_events', new_id::text);
	RETURN new_id;
END
$$;

CREATE FUNCTION alliance_events_episodes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM alliance_event('episode.started', NEW.id, NEW.therapist_id,
		    jsonb_build_object('episode_id', NEW.id, 'client_id', NEW.client_id,
		        'therapist_id', NEW.therapist_id, 'referred_from', NEW.referred_from));
	ELSIF OLD.status = 'active' AND NEW.status = 'ended' THEN
		-- AFTER triggers run at the end of the statement: a referral's new episode,
		-- inserted by the same statement, is visible here.
		PERFORM alliance_event('episode.ended', NEW.id, NEW.therapist_id,
		    jsonb_build_object('episode_id', NEW.id, 'client_id', NEW.client_id,
		        'therapist_id', NEW.therapist_id, 'reason', NEW.end_reason,
		        'referred_to', (SELECT e.id FROM episodes e WHERE e.referred_from = NEW.id)));
		PERFORM alliance_event('therapist.slot_opened', NULL, NEW.therapist_id,
		    jsonb_build_object('therapist_id', NEW.therapist_id, 'cause', 'episode_ended',
		        'episode_id', NEW.id));
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER episodes_events AFTER INSERT OR UPDATE OF status ON episodes
	FOR EACH ROW EXECUTE FUNCTION alliance_events_episodes();

CREATE FUNCTION alliance_events_therapists() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM alliance_event('therapist.slot_opened', NULL, NEW.id,
	    jsonb_build_object('therapist_id', NEW.id, 'cause', 'capacity_grew',
	        'capacity', NEW.capacity));
	RETURN NULL;
END
$$;
CREATE TRIGGER therapists_events AFTER UPDATE OF capacity ON therapists
	FOR EACH ROW WHEN (NEW.capacity > OLD.capacity AND NEW.active)
	EXECUTE FUNCTION alliance_events_therapists();

CREATE FUNCTION alliance_events_feedback() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM alliance_event('feedback.flagged', NEW.episode_id,
	    (SELECT e.therapist_id FROM episodes e WHERE e.id = NEW.episode_id),
	    jsonb_build_object('episode_id', NEW.episode_id, 'feedback_id', NEW.id,
	        'session', NEW.session,
	        'flags', to_jsonb(ARRAY(SELECT f FROM unnest(ARRAY['unsafe', 'boundaries']) f
	                                WHERE NEW.flags ? f))));
	RETURN NULL;
END
$$;
CREATE TRIGGER feedback_events AFTER INSERT ON feedback
	FOR EACH ROW WHEN (NEW.flags ? 'unsafe' OR NEW.flags ? 'boundaries')
	EXECUTE FUNCTION alliance_events_feedback();

-- The runtime role (002_security.sql) appends events and reads them; events are facts and are
-- never changed or removed by the daemon.
GRANT SELECT, INSERT ON events TO alliance_runtime;
GRANT USAGE, SELECT ON SEQUENCE events_id_seq TO alliance_runtime;

-- Webhook delivery (README "Events"): one cursor row per configured webhook name.  A daemon
-- delivers while holding the row FOR UPDATE SKIP LOCKED in an open transaction, so one daemon
-- at a time sends, in id order (hence in order per episode); the cursor moves only in the
-- transaction that saw the receiver's 2xx, so a daemon killed mid-delivery rolls back and the
-- event is sent again (at least once; receivers deduplicate by webhook-id).
CREATE TABLE webhook_cursors (
	name            text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 63),
	last_event_id   bigint NOT NULL DEFAULT 0,
	attempts        integer NOT NULL DEFAULT 0,  -- failed attempts of the next event
	failing_since   timestamptz,                 -- its first failure
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	last_error      text,
	delivered       bigint NOT NULL DEFAULT 0,
	retried         bigint NOT NULL DEFAULT 0,
	dead            bigint NOT NULL DEFAULT 0
);
-- Events that failed for longer than webhook.horizon; `alliancectl events replay` sends one
-- again.
CREATE TABLE webhook_dead (
	webhook    text NOT NULL,
	event_id   bigint NOT NULL REFERENCES events (id),
	attempts   integer NOT NULL,
	last_error text,
	dead_at    timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (webhook, event_id)
);
GRANT SELECT, INSERT, UPDATE ON webhook_cursors TO alliance_runtime;
GRANT SELECT, INSERT, DELETE ON webhook_dead TO alliance_runtime;
