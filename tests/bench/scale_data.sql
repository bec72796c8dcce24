-- scale_data.sql — the network of make bench-scale (tests/bench/scale.sh), in SQL with a
-- fixed seed.  psql variables: n_t (therapists), n_c (clients).  Run on a freshly migrated
-- database (therapist ids then start at 1).
--
-- 20 languages, 30 sites, 20 payers, 2-7 concerns per therapist, 1-3 concerns per client
-- intake; per client one episode, 30% a second (the first then ended); 70% of the others
-- ended.  Episodes with history: 5-15 sessions, half rated with alliance5, half with SRS
-- plus an ORS each session.  From 1M clients on, a third of the episodes have no history
-- (about 10M feedback rows at SIZE=l, 200k at s).  Then 2,000 "B-" clients with an active
-- episode and no feedback, for the feedback benchmark.

SELECT setseed(0.42);
SET synchronous_commit = off;
-- The per-therapist records (sql/007) likewise: their triggers stand aside in this session
-- and the rebuild at the end fills them once.
SET alliance.records_bulk = on;

-- The per-episode aggregates (sql/002) are filled once at the end, as the migration
-- does for existing data, rather than by the trigger row by row.
DO $$ BEGIN
	IF to_regclass('episode_stats') IS NOT NULL THEN
		ALTER TABLE feedback DISABLE TRIGGER feedback_stats;
	END IF;
END $$;

CREATE FUNCTION pg_temp.pick(a text[], k integer) RETURNS text[]
LANGUAGE sql VOLATILE AS $$
	SELECT coalesce(array_agg(x), '{}') FROM (SELECT x FROM unnest(a) x ORDER BY random() LIMIT k) s
$$;

CREATE FUNCTION pg_temp.avail() RETURNS bit(168)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	s text := '';
	f integer;
	t integer;
BEGIN
	FOR d IN 0..6 LOOP
		IF (d < 5 AND random() < 0.75) OR (d >= 5 AND random() < 0.15) THEN
			f := 8 + floor(random() * 5)::integer;
			t := least(22, f + 4 + floor(random() * 6)::integer);
			s := s || repeat('0', f) || repeat('1', t - f) || repeat('0', 24 - t);
		ELSE
			s := s || repeat('0', 24);
		END IF;
	END LOOP;
	RETURN s::bit(168);
END
$$;

CREATE FUNCTION pg_temp.style() RETURNS smallint
LANGUAGE sql VOLATILE AS $$ SELECT (floor(random() * 7) - 3)::smallint $$;

CREATE FUNCTION pg_temp.labels(prefix text, n integer) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
	SELECT array_agg(prefix || lpad(i::text, 2, '0') ORDER BY i) FROM generate_series(1, n) i
$$;

-- A client's intake: 1-3 concerns with priorities (g makes it per row).
CREATE FUNCTION pg_temp.prefs(g bigint) RETURNS jsonb
LANGUAGE sql VOLATILE AS $$
	SELECT jsonb_build_object('concerns', jsonb_agg(jsonb_build_object('tag', c,
		'priority', 1 + floor(random() * 3)::integer)))
	FROM unnest(pg_temp.pick('{anxiety,depression,trauma,grief,relationships,couples,family,
		substance_use,eating,ocd,bipolar,adhd,self_esteem,stress,life_transitions,identity,
		parenting,anger,sleep,chronic_illness}', 1 + floor(random() * 3)::integer + 0 * g::integer)) c
$$;

INSERT INTO therapists (external_ref, display_name, gender, languages, modalities, formats,
	sites, populations, identity, payers, self_pay_fee, sliding_scale,
	style_directiveness, style_emotional_intensity, style_past_orientation, style_challenge,
	availability, capacity, accepting_new, active)
SELECT 'T-' || g, 'Therapist ' || g,
	CASE WHEN r < 0.55 THEN 'female' WHEN r < 0.95 THEN 'male' ELSE 'nonbinary' END,
	CASE WHEN random() < 0.6 THEN ARRAY['en'] ELSE '{}' END ||
		pg_temp.pick('{es,fr,de,pt,zh,ar,ru,it,pl,vi,ko,ja,hi,tr,fa,uk,ro,nl,el}',
			CASE WHEN random() < 0.6 THEN floor(random() * 2)::integer ELSE 1 END),
	pg_temp.pick('{cbt,dbt,act,emdr,psychodynamic,person_centered,ifs,schema,mindfulness,
		solution_focused,narrative,gottman,eft,somatic,exposure,motivational_interviewing}',
		2 + floor(random() * 3)::integer),
	pg_temp.pick('{in_person,video,phone}', 1 + floor(random() * 3)::integer),
	pg_temp.pick(pg_temp.labels('site-', 30), 1 + floor(random() * 2)::integer),
	ARRAY['adult'] || pg_temp.pick('{teen,older_adult,couple}', floor(random() * 2)::integer),
	pg_temp.pick('{lgbtq_affirming,bipoc,faith_based,neurodivergent_affirming,veteran_informed}',
		floor(random() * 3)::integer),
	pg_temp.pick(pg_temp.labels('payer-', 20), 2 + floor(random() * 4)::integer),
	80 + floor(random() * 150), random() < 0.3,
	pg_temp.style(), pg_temp.style(), pg_temp.style(), pg_temp.style(),
	pg_temp.avail(), 15 + floor(random() * 21)::integer, random() < 0.9, random() < 0.97
FROM (SELECT g, random() AS r FROM generate_series(1, :n_t) g) s;

INSERT INTO therapist_concerns (therapist_id, concern, level)
SELECT t.id, c, CASE WHEN random() < 0.35 THEN 2 ELSE 1 END
FROM therapists t,
	LATERAL unnest(pg_temp.pick('{anxiety,depression,trauma,grief,relationships,couples,family,
		substance_use,eating,ocd,bipolar,adhd,self_esteem,stress,life_transitions,identity,
		parenting,anger,sleep,chronic_illness}', 2 + floor(random() * 6)::integer + 0 * t.id::integer)) c;

INSERT INTO clients (external_ref, preferences)
SELECT 'C-' || g, pg_temp.prefs(g) FROM generate_series(1, :n_c) g;

-- Episodes: the plan first (therapist, status, history), then the rows.
CREATE TEMP TABLE plan AS
SELECT c.id AS client_id, k AS nth, second,
	1 + floor(random() * :n_t)::bigint AS therapist_id,
	CASE WHEN k = 1 AND second THEN 'ended' WHEN random() < 0.7 THEN 'ended' ELSE 'active' END
		AS status,
	random() < CASE WHEN :n_c >= 1000000 THEN 0.67 ELSE 1.0 END AS history,
	5 + floor(random() * 11)::integer AS sessions,
	random() < 0.5 AS srs,
	-- the therapist's alliance level plus the episode's own
	least(98, greatest(20, 62 + 12 * random() + 14 * (random() - 0.5))) AS level,
	10 + 15 * random() AS ors0,
	2 * (random() - 0.3) AS ors_slope
FROM clients c, LATERAL (SELECT random() < 0.3 + 0 * c.id AS second) s2,
	LATERAL generate_series(1, CASE WHEN s2.second THEN 2 ELSE 1 END + 0 * c.id::integer) k;

INSERT INTO episodes (client_id, therapist_id, status, started_at, ended_at, end_reason)
SELECT client_id, therapist_id, status, now() - interval '200 days',
	CASE WHEN status = 'ended' THEN now() - interval '10 days' END,
	CASE WHEN status = 'ended' THEN 'completed' END
FROM plan ORDER BY client_id, nth;

CREATE TEMP TABLE ep AS
SELECT e.id, p.sessions, p.srs, p.level, p.ors0, p.ors_slope
FROM (SELECT id, client_id, row_number() OVER (PARTITION BY client_id ORDER BY id) AS nth
      FROM episodes) e
JOIN plan p ON p.client_id = e.client_id AND p.nth = e.nth
WHERE p.history;

INSERT INTO feedback (episode_id, session, instrument, items, flags, negative_feelings,
	occurred_at, alliance_index, trust_signal)
SELECT ep.id, s, CASE WHEN ep.srs THEN 'srs' ELSE 'alliance5' END,
	CASE WHEN ep.srs THEN '{"relationship": 8.1, "goals": 7.6, "approach": 8.4, "overall": 8.0}'::jsonb
	     ELSE '{"heard": 8, "open": 7, "adapts": 8, "trust": 9, "looking_forward": 6}'::jsonb END,
	'{"judged": false, "unsafe": false}', floor(random() * 4)::smallint,
	now() - interval '190 days' + s * interval '7 days',
	least(100, greatest(0, ep.level + 12 * (random() - 0.5))),
	least(100, greatest(0, ep.level + 10 * (random() - 0.5)))
FROM ep, generate_series(1, ep.sessions) s;

INSERT INTO feedback (episode_id, session, instrument, items, flags, occurred_at, ors_total)
SELECT ep.id, s, 'ors',
	'{"individual": 5.1, "interpersonal": 5.5, "social": 6.0, "overall": 5.4}'::jsonb, '{}',
	now() - interval '190 days' + s * interval '7 days',
	least(40, greatest(0, ep.ors0 + ep.ors_slope * s + 3 * (random() - 0.5)))
FROM ep, generate_series(1, ep.sessions) s
WHERE ep.srs;

-- Fresh active episodes for the feedback benchmark (round robin over therapists).
INSERT INTO clients (external_ref)
SELECT 'B-' || g FROM generate_series(1, 2000) g;
INSERT INTO episodes (client_id, therapist_id)
SELECT c.id, 1 + (row_number() OVER (ORDER BY c.id) - 1) % :n_t
FROM clients c WHERE c.external_ref LIKE 'B-%' ORDER BY c.id;

DROP TABLE plan;
DROP TABLE ep;
DO $$ BEGIN
	IF to_regclass('episode_stats') IS NOT NULL THEN
		ALTER TABLE feedback ENABLE TRIGGER feedback_stats;
		PERFORM alliance_episode_stats_rebuild();
	END IF;
END $$;
VACUUM ANALYZE;
