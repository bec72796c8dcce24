-- 002_episode_stats.sql — per-episode aggregates of the feedback, kept up to date in the
-- same transaction as the feedback (a trigger), so that records are derived from one row
-- per episode and never from the whole history (docs/matching.md "Records").
--
-- What the records need of an episode: its rated sessions and the SUM of their alliance
-- scores (the common scale: each instrument's threshold maps to 70), and its first and
-- latest ORS totals (by session).  The score is piecewise linear in the index, so a sum of
-- indexes cannot give a sum of scores under other thresholds: the sum is kept for the
-- thresholds in alliance_score_settings, and a daemon configured with other thresholds
-- sets them with alliance_score_settings_set(), which rebuilds every aggregate (rare: a
-- SIGHUP that changes a threshold).  Daemons sharing a database must agree on them.

-- The thresholds the aggregates are computed with (one row).
CREATE TABLE alliance_score_settings (
	only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
	alliance5 double precision NOT NULL CHECK (alliance5 BETWEEN 0 AND 100),
	srs       double precision NOT NULL CHECK (srs BETWEEN 0 AND 100),
	wai_sr    double precision NOT NULL CHECK (wai_sr BETWEEN 0 AND 100)
);
INSERT INTO alliance_score_settings (alliance5, srs, wai_sr) VALUES (70, 90, 62.5);

-- The common alliance score of one rating (engine alliance.h; the same formula as
-- ALLIANCE_SCORE_SQL of daemon/store/catalog_sync.h).
CREATE FUNCTION alliance_score(instrument text, idx double precision, a5 double precision,
	srs double precision, wai double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN idx IS NULL OR instrument = 'ors' THEN NULL
		WHEN idx < t THEN idx / t * 70
		WHEN t >= 100 THEN 100
		ELSE 70 + (idx - t) / (100 - t) * 30 END
	FROM (SELECT CASE instrument WHEN 'srs' THEN srs WHEN 'wai_sr' THEN wai ELSE a5 END AS t) s
$$;

CREATE TABLE episode_stats (
	episode_id        bigint PRIMARY KEY REFERENCES episodes (id) ON DELETE CASCADE,
	rated             integer NOT NULL DEFAULT 0,            -- sessions with an alliance index
	score_sum         double precision NOT NULL DEFAULT 0,   -- the sum of their scores
	ors_n             integer NOT NULL DEFAULT 0,
	ors_first_session integer,
	ors_first         double precision,
	ors_last_session  integer,
	ors_last          double precision,
	-- the transaction of the last change: a reader that remembers the xmin of its
	-- snapshot (pg_snapshot_xmin) finds every change it has not seen with xact >= it,
	-- also of transactions that were still running when it read
	xact              xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX episode_stats_by_xact ON episode_stats (xact);

-- The truth the trigger maintains incrementally (the rebuild and the tests read it).
CREATE VIEW episode_stats_full AS
SELECT f.episode_id,
	(count(f.alliance_index) FILTER (WHERE f.instrument <> 'ors'))::integer AS rated,
	coalesce(sum(alliance_score(f.instrument, f.alliance_index, s.alliance5, s.srs, s.wai_sr))
		FILTER (WHERE f.instrument <> 'ors'), 0) AS score_sum,
	(count(*) FILTER (WHERE f.instrument = 'ors'))::integer AS ors_n,
	min(f.session) FILTER (WHERE f.instrument = 'ors') AS ors_first_session,
	(array_agg(f.ors_total ORDER BY f.session) FILTER (WHERE f.instrument = 'ors'))[1]
		AS ors_first,
	max(f.session) FILTER (WHERE f.instrument = 'ors') AS ors_last_session,
	(array_agg(f.ors_total ORDER BY f.session DESC) FILTER (WHERE f.instrument = 'ors'))[1]
		AS ors_last
FROM feedback f CROSS JOIN alliance_score_settings s
GROUP BY f.episode_id;

-- One episode computed again from its history (after an UPDATE or DELETE of feedback).
CREATE FUNCTION alliance_episode_stats_recompute(ep bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM episode_stats WHERE episode_id = ep;
	INSERT INTO episode_stats (episode_id, rated, score_sum, ors_n, ors_first_session, ors_first,
		ors_last_session, ors_last)
	SELECT episode_id, rated, score_sum, ors_n, ors_first_session, ors_first, ors_last_session,
		ors_last
	FROM episode_stats_full WHERE episode_id = ep;
END
$$;

-- Every episode computed again (the migration, a threshold change).  Feedback waits
-- meanwhile, so no row is added with the old thresholds to a sum rebuilt with the new.
CREATE FUNCTION alliance_episode_stats_rebuild() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	LOCK TABLE feedback IN SHARE MODE;
	DELETE FROM episode_stats;
	INSERT INTO episode_stats (episode_id, rated, score_sum, ors_n, ors_first_session, ors_first,
		ors_last_session, ors_last)
	SELECT episode_id, rated, score_sum, ors_n, ors_first_session, ors_first, ors_last_session,
		ors_last
	FROM episode_stats_full;
END
$$;

-- The daemon's thresholds: true when they differed and every aggregate was rebuilt.
CREATE FUNCTION alliance_score_settings_set(a5 double precision, srs double precision,
	wai double precision) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM alliance_score_settings s
	 WHERE s.alliance5 = a5 AND s.srs = alliance_score_settings_set.srs AND s.wai_sr = wai;
	IF FOUND THEN
		RETURN false;
	END IF;
	INSERT INTO alliance_score_settings AS s (alliance5, srs, wai_sr)
	VALUES (a5, alliance_score_settings_set.srs, wai)
	ON CONFLICT (only_row) DO UPDATE SET alliance5 = EXCLUDED.alliance5, srs = EXCLUDED.srs,
		wai_sr = EXCLUDED.wai_sr;
	PERFORM alliance_episode_stats_rebuild();
	RETURN true;
END
$$;

-- A new rating or ORS adds to its episode's row (one upsert, same transaction); an UPDATE
-- or DELETE of feedback (never done by the API) computes the episode again.
CREATE FUNCTION alliance_feedback_stats() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	st alliance_score_settings;
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		PERFORM alliance_episode_stats_recompute(OLD.episode_id);
		IF TG_OP = 'UPDATE' AND NEW.episode_id <> OLD.episode_id THEN
			PERFORM alliance_episode_stats_recompute(NEW.episode_id);
		END IF;
		RETURN NULL;
	END IF;
	IF NEW.instrument = 'ors' THEN
		INSERT INTO episode_stats AS s (episode_id, ors_n, ors_first_session, ors_first,
			ors_last_session, ors_last)
		VALUES (NEW.episode_id, 1, NEW.session, NEW.ors_total, NEW.session, NEW.ors_total)
		ON CONFLICT (episode_id) DO UPDATE SET
			ors_n = s.ors_n + 1,
			ors_first = CASE WHEN s.ors_first_session IS NULL
				OR NEW.session < s.ors_first_session THEN NEW.ors_total ELSE s.ors_first END,
			ors_first_session = CASE WHEN s.ors_first_session IS NULL
				OR NEW.session < s.ors_first_session THEN NEW.session
				ELSE s.ors_first_session END,
			ors_last = CASE WHEN s.ors_last_session IS NULL
				OR NEW.session > s.ors_last_session THEN NEW.ors_total ELSE s.ors_last END,
			ors_last_session = CASE WHEN s.ors_last_session IS NULL
				OR NEW.session > s.ors_last_session THEN NEW.session
				ELSE s.ors_last_session END,
			xact = pg_current_xact_id();
	ELSIF NEW.alliance_index IS NOT NULL THEN
		SELECT * INTO st FROM alliance_score_settings;
		INSERT INTO episode_stats AS s (episode_id, rated, score_sum)
		VALUES (NEW.episode_id, 1,
			alliance_score(NEW.instrument, NEW.alliance_index, st.alliance5, st.srs, st.wai_sr))
		ON CONFLICT (episode_id) DO UPDATE SET
			rated = s.rated + 1,
			score_sum = s.score_sum + EXCLUDED.score_sum,
			xact = pg_current_xact_id();
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER feedback_stats AFTER INSERT OR UPDATE OR DELETE ON feedback
	FOR EACH ROW EXECUTE FUNCTION alliance_feedback_stats();

-- A client's concerns decide which per-concern records their episodes count in: a changed
-- intake marks the episodes as changed for the readers.
CREATE FUNCTION alliance_client_stats() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE episode_stats s SET xact = pg_current_xact_id()
	  FROM episodes e WHERE e.client_id = NEW.id AND s.episode_id = e.id;
	RETURN NULL;
END
$$;

CREATE TRIGGER clients_stats AFTER UPDATE OF preferences ON clients
	FOR EACH ROW WHEN (OLD.preferences IS DISTINCT FROM NEW.preferences)
	EXECUTE FUNCTION alliance_client_stats();

-- The aggregates of the feedback already stored.
INSERT INTO episode_stats (episode_id, rated, score_sum, ors_n, ors_first_session, ors_first,
	ors_last_session, ors_last)
SELECT episode_id, rated, score_sum, ors_n, ors_first_session, ors_first, ors_last_session,
	ors_last
FROM episode_stats_full;

-- The runtime role (002_security) reads and keeps these like the other data
-- tables: the feedback trigger writes episode_stats in the caller's name.
GRANT SELECT, INSERT, UPDATE, DELETE ON episode_stats, alliance_score_settings TO alliance_runtime;
