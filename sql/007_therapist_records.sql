-- 007_therapist_records.sql — per-therapist records (overall and per concern of the
-- client's intake) kept up to date by triggers in the same transaction as every change
-- they depend on, so that a daemon's start reads one row per therapist plus its
-- per-concern rows, never the episodes and the clients' intakes (issue 12; the
-- definitions are those of docs/matching.md "Records", from episode_stats of sql/004).
--
-- An episode counts for its therapist with:
--   a          its mean alliance score (score_sum / rated; NULL without a rated session),
--   ors_change its latest ORS total minus its first (NULL without an ORS),
--   status     (active episodes are the caseload; outcome counts ended episodes only),
--   the concern tags of its client's intake (clients.preferences->concerns[].tag), for
--   the per-concern records.
-- So the records of a therapist change with episode_stats (feedback), with episodes
-- (start, end, a move to another therapist or client) and with clients.preferences.
-- The rows hold counts and sums (means are sum / n when read), so that feedback, the
-- frequent change, ADDS its episode's change of contribution to the therapist's row and
-- to the rows of its client's concerns (no scan of the therapist's episodes); a change
-- of episodes or of an intake recomputes the therapists it touched from their episodes.
-- Both take a transaction lock per therapist first: a concurrent writer of the same
-- therapist waits, then reads the episode status and the intake with a snapshot that
-- sees the first one's commit (READ COMMITTED takes a snapshot per statement), so no
-- update is lost and the stored rows always equal a full recompute.
--
-- The outcome rule needs ors_reliable_change: it joins the thresholds in
-- alliance_score_settings, and a daemon sets all four with alliance_records_settings_set()
-- (a change rebuilds every record; daemons sharing a database must agree on them).

ALTER TABLE alliance_score_settings
	ADD COLUMN ors_reliable_change double precision NOT NULL DEFAULT 5
		CHECK (ors_reliable_change BETWEEN 0 AND 40);

CREATE TABLE therapist_records (
	therapist_id bigint PRIMARY KEY REFERENCES therapists (id) ON DELETE CASCADE,
	caseload     integer NOT NULL DEFAULT 0,          -- active episodes
	a_n          integer NOT NULL DEFAULT 0,          -- episodes with a rated session
	a_sum        double precision NOT NULL DEFAULT 0, -- the sum of their mean scores
	o_n          integer NOT NULL DEFAULT 0,          -- ended episodes with an ORS
	o_k          integer NOT NULL DEFAULT 0,          -- those with a reliable change
	-- the transaction of the last change of this row or of its per-concern rows (a reader
	-- that remembers pg_snapshot_xmin finds every change it has not seen with xact >= it)
	xact         xid8 NOT NULL DEFAULT pg_current_xact_id()
) WITH (fillfactor = 80); -- room on the page: feedback's updates stay there (HOT)
CREATE INDEX therapist_records_by_xact ON therapist_records (xact);

CREATE TABLE therapist_concern_records (
	therapist_id bigint NOT NULL REFERENCES therapists (id) ON DELETE CASCADE,
	concern      text NOT NULL,
	a_n          integer NOT NULL DEFAULT 0,
	a_sum        double precision NOT NULL DEFAULT 0,
	o_n          integer NOT NULL DEFAULT 0,
	o_k          integer NOT NULL DEFAULT 0,
	PRIMARY KEY (therapist_id, concern)
) WITH (fillfactor = 80);

-- What each episode contributes (the truth the triggers maintain; the tests read it).
CREATE VIEW alliance_episode_contrib AS
SELECT e.id AS episode_id, e.therapist_id, e.client_id, e.status,
	CASE WHEN s.rated > 0 THEN s.score_sum / s.rated END AS a,
	CASE WHEN s.ors_n > 0 THEN s.ors_last - s.ors_first END AS ors_change
FROM episodes e LEFT JOIN episode_stats s ON s.episode_id = e.id;

CREATE VIEW therapist_records_full AS
SELECT c.therapist_id,
	(count(*) FILTER (WHERE c.status = 'active'))::integer AS caseload,
	count(c.a)::integer AS a_n,
	coalesce(sum(c.a), 0) AS a_sum,
	(count(*) FILTER (WHERE c.status = 'ended' AND c.ors_change IS NOT NULL))::integer AS o_n,
	(count(*) FILTER (WHERE c.status = 'ended'
		AND c.ors_change >= st.ors_reliable_change))::integer AS o_k
FROM alliance_episode_contrib c CROSS JOIN alliance_score_settings st
GROUP BY c.therapist_id;

-- Per concern: the episodes whose client's intake names the concern (each tag once).
CREATE VIEW therapist_concern_records_full AS
SELECT c.therapist_id, ct.tag AS concern,
	count(c.a)::integer AS a_n,
	coalesce(sum(c.a), 0) AS a_sum,
	(count(*) FILTER (WHERE c.status = 'ended' AND c.ors_change IS NOT NULL))::integer AS o_n,
	(count(*) FILTER (WHERE c.status = 'ended'
		AND c.ors_change >= st.ors_reliable_change))::integer AS o_k
FROM alliance_episode_contrib c CROSS JOIN alliance_score_settings st
CROSS JOIN LATERAL (SELECT DISTINCT x.c->>'tag' AS tag
	FROM clients cl, jsonb_array_elements(CASE
		WHEN jsonb_typeof(cl.preferences->'concerns') = 'array'
		THEN cl.preferences->'concerns' ELSE '[]'::jsonb END) AS x(c)
	WHERE cl.id = c.client_id AND jsonb_typeof(x.c) = 'object' AND x.c->>'tag' IS NOT NULL) ct
WHERE c.a IS NOT NULL OR (c.status = 'ended' AND c.ors_change IS NOT NULL)
GROUP BY c.therapist_id, ct.tag;

-- The records of the therapists IDS computed again (in the caller's transaction), one
-- therapist at a time: with a scalar id the generic plan (kept, never planned again per
-- call) walks that therapist's episodes by index; a custom plan per call would cost
-- more than the work, and a generic plan for an array would scan every episode.
CREATE FUNCTION alliance_therapist_records_recompute(ids bigint[]) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
	tid bigint;
BEGIN
	IF ids IS NULL OR cardinality(ids) = 0 THEN
		RETURN;
	END IF;
	PERFORM alliance_records_lock(ids);
	FOR tid IN SELECT DISTINCT i FROM unnest(ids) i LOOP
		WITH want AS (SELECT * FROM therapist_concern_records_full f
			WHERE f.therapist_id = tid AND (f.a_n > 0 OR f.o_n > 0)),
		gone AS (DELETE FROM therapist_concern_records r
			WHERE r.therapist_id = tid AND NOT EXISTS (SELECT 1 FROM want w
				WHERE w.concern = r.concern))
		INSERT INTO therapist_concern_records AS r (therapist_id, concern, a_n, a_sum, o_n,
			o_k)
		SELECT w.therapist_id, w.concern, w.a_n, w.a_sum, w.o_n, w.o_k FROM want w
		ON CONFLICT (therapist_id, concern) DO UPDATE SET a_n = EXCLUDED.a_n,
			a_sum = EXCLUDED.a_sum, o_n = EXCLUDED.o_n, o_k = EXCLUDED.o_k
		WHERE (r.a_n, r.a_sum, r.o_n, r.o_k)
			IS DISTINCT FROM (EXCLUDED.a_n, EXCLUDED.a_sum, EXCLUDED.o_n, EXCLUDED.o_k);
		-- (a therapist deleted in this transaction has no row to refer to)
		INSERT INTO therapist_records AS r (therapist_id, caseload, a_n, a_sum, o_n, o_k,
			xact)
		SELECT t.id, coalesce(f.caseload, 0), coalesce(f.a_n, 0), coalesce(f.a_sum, 0),
			coalesce(f.o_n, 0), coalesce(f.o_k, 0), pg_current_xact_id()
		FROM therapists t
		LEFT JOIN (SELECT * FROM therapist_records_full f0 WHERE f0.therapist_id = tid) f
			ON true
		WHERE t.id = tid
		ON CONFLICT (therapist_id) DO UPDATE SET caseload = EXCLUDED.caseload,
			a_n = EXCLUDED.a_n, a_sum = EXCLUDED.a_sum, o_n = EXCLUDED.o_n,
			o_k = EXCLUDED.o_k, xact = EXCLUDED.xact;
	END LOOP;
END
$$;

-- Every record computed again (the migration, a threshold or outcome-rule change, bulk
-- loads).  Writers of records wait meanwhile and recompute theirs after it.
CREATE FUNCTION alliance_therapist_records_rebuild() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	LOCK TABLE therapist_records, therapist_concern_records IN EXCLUSIVE MODE;
	DELETE FROM therapist_concern_records;
	INSERT INTO therapist_concern_records (therapist_id, concern, a_n, a_sum, o_n, o_k)
	SELECT therapist_id, concern, a_n, a_sum, o_n, o_k FROM therapist_concern_records_full
	WHERE a_n > 0 OR o_n > 0
	ORDER BY therapist_id, concern; -- a therapist's rows together: a load reads few pages
	DELETE FROM therapist_records;
	INSERT INTO therapist_records (therapist_id, caseload, a_n, a_sum, o_n, o_k)
	SELECT t.id, coalesce(f.caseload, 0), coalesce(f.a_n, 0), coalesce(f.a_sum, 0),
		coalesce(f.o_n, 0), coalesce(f.o_k, 0)
	FROM therapists t LEFT JOIN therapist_records_full f ON f.therapist_id = t.id
	ORDER BY t.id;
END
$$;

-- Bulk work (the rebuilds below, a data load) sets alliance.records_bulk to 'on' for
-- its transaction and rebuilds every record once at the end instead of per statement.
CREATE FUNCTION alliance_records_bulk() RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT coalesce(current_setting('alliance.records_bulk', true), '') = 'on'
$$;

-- The therapists in IDS locked for a records change, in a fixed order (no deadlock
-- between two writers of the same therapists); the caller's next statements take their
-- snapshots after it.
CREATE FUNCTION alliance_records_lock(ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	k integer;
BEGIN
	FOR k IN SELECT DISTINCT hashint8(i) AS h FROM unnest(ids) i ORDER BY h LOOP
		PERFORM pg_advisory_xact_lock(7113006, k);
	END LOOP;
END
$$;

-- The row-level trigger of episode_stats (feedback, the frequent change): the episode's
-- difference of contribution is added to its therapist's row and to the rows of its
-- client's concerns.  Row-level: no transition tables to build for one row.
CREATE FUNCTION alliance_records_of_stats() RETURNS trigger
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
	ep bigint;
	a0 double precision;
	c0 double precision;
	a1 double precision;
	c1 double precision;
	tid bigint;
	locked bigint[] := '{}';
	cid bigint;
	st text;
	rc double precision;
	da_n integer;
	da_sum double precision;
	do_n integer := 0;
	do_k integer := 0;
BEGIN
	IF alliance_records_bulk() THEN
		RETURN NULL;
	END IF;
	IF TG_OP <> 'INSERT' THEN
		ep := OLD.episode_id;
		a0 := CASE WHEN OLD.rated > 0 THEN OLD.score_sum / OLD.rated END;
		c0 := CASE WHEN OLD.ors_n > 0 THEN OLD.ors_last - OLD.ors_first END;
	END IF;
	IF TG_OP <> 'DELETE' THEN
		ep := NEW.episode_id;
		a1 := CASE WHEN NEW.rated > 0 THEN NEW.score_sum / NEW.rated END;
		c1 := CASE WHEN NEW.ors_n > 0 THEN NEW.ors_last - NEW.ors_first END;
	END IF;
	-- (the intake trigger of sql/004 only moves xact: nothing changes)
	IF a0 IS NOT DISTINCT FROM a1 AND c0 IS NOT DISTINCT FROM c1 THEN
		RETURN NULL;
	END IF;
	-- The therapist's lock, then the episode read again (a snapshot after the lock):
	-- if it moved to another therapist meanwhile, that one's lock too.
	LOOP
		SELECT e.therapist_id, e.client_id, e.status, s.ors_reliable_change
		INTO tid, cid, st, rc
		FROM episodes e, alliance_score_settings s WHERE e.id = ep;
		IF NOT FOUND THEN
			RETURN NULL; -- deleted with its stats: the episodes trigger recomputes
		END IF;
		EXIT WHEN tid = ANY (locked);
		PERFORM pg_advisory_xact_lock(7113006, hashint8(tid));
		locked := locked || tid;
	END LOOP;
	da_n := (a1 IS NOT NULL)::integer - (a0 IS NOT NULL)::integer;
	da_sum := coalesce(a1, 0) - coalesce(a0, 0);
	IF st = 'ended' THEN
		do_n := (c1 IS NOT NULL)::integer - (c0 IS NOT NULL)::integer;
		do_k := coalesce((c1 >= rc)::integer, 0) - coalesce((c0 >= rc)::integer, 0);
	END IF;
	IF da_n = 0 AND da_sum = 0 AND do_n = 0 AND do_k = 0 THEN
		RETURN NULL;
	END IF;
	-- (the row of every therapist with an episode exists: the episode's insert made it)
	UPDATE therapist_records r SET a_n = r.a_n + da_n, a_sum = r.a_sum + da_sum,
		o_n = r.o_n + do_n, o_k = r.o_k + do_k, xact = pg_current_xact_id()
	WHERE r.therapist_id = tid;
	IF NOT FOUND THEN
		INSERT INTO therapist_records AS r (therapist_id, a_n, a_sum, o_n, o_k)
		VALUES (tid, da_n, da_sum, do_n, do_k)
		ON CONFLICT (therapist_id) DO UPDATE SET a_n = r.a_n + EXCLUDED.a_n,
			a_sum = r.a_sum + EXCLUDED.a_sum, o_n = r.o_n + EXCLUDED.o_n,
			o_k = r.o_k + EXCLUDED.o_k, xact = EXCLUDED.xact;
	END IF;
	IF cid IS NULL OR NOT EXISTS (SELECT 1 FROM clients cl WHERE cl.id = cid
		AND jsonb_typeof(cl.preferences->'concerns') = 'array') THEN
		RETURN NULL; -- no concerns: no per-concern rows
	END IF;
	INSERT INTO therapist_concern_records AS r (therapist_id, concern, a_n, a_sum, o_n, o_k)
	SELECT tid, ct.tag, da_n, da_sum, do_n, do_k
	FROM (SELECT DISTINCT x.c->>'tag' AS tag
		FROM clients cl, jsonb_array_elements(CASE
			WHEN jsonb_typeof(cl.preferences->'concerns') = 'array'
			THEN cl.preferences->'concerns' ELSE '[]'::jsonb END) AS x(c)
		WHERE cl.id = cid AND jsonb_typeof(x.c) = 'object' AND x.c->>'tag' IS NOT NULL) ct
	ON CONFLICT (therapist_id, concern) DO UPDATE SET a_n = r.a_n + EXCLUDED.a_n,
		a_sum = r.a_sum + EXCLUDED.a_sum, o_n = r.o_n + EXCLUDED.o_n,
		o_k = r.o_k + EXCLUDED.o_k;
	IF da_n < 0 OR do_n < 0 THEN
		-- a concern no episode counts in any more has no row (as in the full recompute)
		DELETE FROM therapist_concern_records r
		WHERE r.therapist_id = tid AND r.a_n = 0 AND r.o_n = 0;
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER episode_stats_records AFTER INSERT OR UPDATE OR DELETE ON episode_stats
	FOR EACH ROW EXECUTE FUNCTION alliance_records_of_stats();

CREATE FUNCTION alliance_records_of_episodes() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	ids bigint[];
BEGIN
	IF alliance_records_bulk() THEN
		RETURN NULL;
	END IF;
	IF TG_OP = 'INSERT' THEN
		SELECT array_agg(DISTINCT n.therapist_id) INTO ids FROM new_rows n;
	ELSIF TG_OP = 'UPDATE' THEN
		-- status (caseload, outcome), therapist (both), client (the concerns)
		SELECT array_agg(DISTINCT x.tid) INTO ids
		FROM new_rows n JOIN old_rows o ON o.id = n.id,
			LATERAL (VALUES (o.therapist_id), (n.therapist_id)) x(tid)
		WHERE (o.status, o.therapist_id, o.client_id)
			IS DISTINCT FROM (n.status, n.therapist_id, n.client_id);
	ELSE
		SELECT array_agg(DISTINCT o.therapist_id) INTO ids FROM old_rows o;
	END IF;
	PERFORM alliance_therapist_records_recompute(ids);
	RETURN NULL;
END
$$;

CREATE TRIGGER episodes_records_ins AFTER INSERT ON episodes
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION alliance_records_of_episodes();
CREATE TRIGGER episodes_records_upd AFTER UPDATE ON episodes
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION alliance_records_of_episodes();
CREATE TRIGGER episodes_records_del AFTER DELETE ON episodes
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION alliance_records_of_episodes();

-- A client's changed intake moves their episodes between per-concern records.
CREATE FUNCTION alliance_records_of_clients() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	ids bigint[];
BEGIN
	IF alliance_records_bulk() THEN
		RETURN NULL;
	END IF;
	SELECT array_agg(DISTINCT e.therapist_id) INTO ids
	FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN episodes e ON e.client_id = n.id
	WHERE o.preferences IS DISTINCT FROM n.preferences;
	PERFORM alliance_therapist_records_recompute(ids);
	RETURN NULL;
END
$$;

CREATE TRIGGER clients_records AFTER UPDATE ON clients
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION alliance_records_of_clients();

-- Rebuilding every episode aggregate (sql/004: the migration, a threshold change, a bulk
-- load) now rebuilds every record once, not per statement of the rebuild.
CREATE OR REPLACE FUNCTION alliance_episode_stats_rebuild() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	bulk text := coalesce(current_setting('alliance.records_bulk', true), '');
BEGIN
	LOCK TABLE feedback IN SHARE MODE;
	PERFORM set_config('alliance.records_bulk', 'on', true);
	DELETE FROM episode_stats;
	INSERT INTO episode_stats (episode_id, rated, score_sum, ors_n, ors_first_session, ors_first,
		ors_last_session, ors_last)
	SELECT episode_id, rated, score_sum, ors_n, ors_first_session, ors_first, ors_last_session,
		ors_last
	FROM episode_stats_full;
	PERFORM set_config('alliance.records_bulk', bulk, true);
	PERFORM alliance_therapist_records_rebuild();
END
$$;

-- The daemon's thresholds and outcome rule, set before every full load: true when any
-- differed (then every aggregate and record was rebuilt).
CREATE FUNCTION alliance_records_settings_set(a5 double precision, srs double precision,
	wai double precision, ors double precision) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	ors_changed boolean;
BEGIN
	UPDATE alliance_score_settings SET ors_reliable_change = ors
	 WHERE ors_reliable_change IS DISTINCT FROM ors;
	ors_changed := FOUND;
	IF alliance_score_settings_set(a5, srs, wai) THEN
		RETURN true; -- rebuilt with the new rule too
	END IF;
	IF ors_changed THEN
		PERFORM alliance_therapist_records_rebuild();
	END IF;
	RETURN ors_changed;
END
$$;

-- The records of the data already stored.
SELECT alliance_therapist_records_rebuild();

-- The runtime role (002_security) keeps these through the triggers, in the caller's name.
GRANT SELECT, INSERT, UPDATE, DELETE ON therapist_records, therapist_concern_records
	TO alliance_runtime;
GRANT SELECT ON alliance_episode_contrib, therapist_records_full, therapist_concern_records_full
	TO alliance_runtime;
