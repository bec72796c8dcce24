-- 001_init: every table the daemon keeps.
--
-- Applied by `allianced --migrate` inside one transaction (the migrator wraps it, so no
-- BEGIN/COMMIT here) and recorded in schema_migrations, which the migrator itself creates.
-- Tags are checked for shape only: the vocabulary is configurable, so the daemon validates
-- values against it; the database guards against junk (case, blanks, duplicates, NULLs).

-- ---------------------------------------------------------------------------------------
-- Helpers for CHECK constraints (IMMUTABLE: they only look at their argument).

-- A tag list: lowercase snake_case tags, no NULL, no duplicate, at most 64 entries.
CREATE FUNCTION alliance_tags_ok(tags text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT cardinality(tags) <= 64
	   AND array_position(tags, NULL) IS NULL
	   AND coalesce(bool_and(t ~ '^[a-z][a-z0-9_]{0,63}$'), true)
	   AND count(DISTINCT t) = count(*)
	  FROM unnest(tags) AS t
$$;

-- ISO 639-1 language codes.
CREATE FUNCTION alliance_langs_ok(codes text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT cardinality(codes) <= 64
	   AND array_position(codes, NULL) IS NULL
	   AND coalesce(bool_and(c ~ '^[a-z]{2}$'), true)
	   AND count(DISTINCT c) = count(*)
	  FROM unnest(codes) AS c
$$;

-- Free short labels (sites, payers): non-blank, at most 64 characters, no duplicate.
CREATE FUNCTION alliance_labels_ok(labels text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT cardinality(labels) <= 64
	   AND array_position(labels, NULL) IS NULL
	   AND coalesce(bool_and(length(l) BETWEEN 1 AND 64 AND l !~ '^\s|\s$'), true)
	   AND count(DISTINCT l) = count(*)
	  FROM unnest(labels) AS l
$$;

CREATE FUNCTION alliance_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.updated_at := now();
	RETURN NEW;
END
$$;

-- ---------------------------------------------------------------------------------------
-- Therapists.  Ids are integers in the API; rows are never deleted (DELETE in the API
-- retires: active = false, retired_at set) so that episodes keep their history.
--
-- availability: one bit per weekly clinic-local hour, bit i = day * 24 + hour, day 0 =
-- Monday, i counted from the left of the text form ('1' = available).  B'0' pads to 168 zeros.
CREATE TABLE therapists (
	id                        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	external_ref              text NOT NULL UNIQUE CHECK (length(external_ref) BETWEEN 1 AND 128),
	display_name              text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
	gender                    text CHECK (length(gender) BETWEEN 1 AND 64),
	languages                 text[] NOT NULL DEFAULT '{}' CHECK (alliance_langs_ok(languages)),
	modalities                text[] NOT NULL DEFAULT '{}' CHECK (alliance_tags_ok(modalities)),
	formats                   text[] NOT NULL DEFAULT '{}' CHECK (alliance_tags_ok(formats)),
	sites                     text[] NOT NULL DEFAULT '{}' CHECK (alliance_labels_ok(sites)),
	populations               text[] NOT NULL DEFAULT '{}' CHECK (alliance_tags_ok(populations)),
	identity                  text[] NOT NULL DEFAULT '{}' CHECK (alliance_tags_ok(identity)),
	payers                    text[] NOT NULL DEFAULT '{}' CHECK (alliance_labels_ok(payers)),
	self_pay_fee              numeric(10,2) CHECK (self_pay_fee >= 0),
	sliding_scale             boolean NOT NULL DEFAULT false,
	-- Cooper-Norcross style axes; NULL = not described.
	style_directiveness       smallint CHECK (style_directiveness BETWEEN -3 AND 3),
	style_emotional_intensity smallint CHECK (style_emotional_intensity BETWEEN -3 AND 3),
	style_past_orientation    smallint CHECK (style_past_orientation BETWEEN -3 AND 3),
	style_challenge           smallint CHECK (style_challenge BETWEEN -3 AND 3),
	availability              bit(168) NOT NULL DEFAULT B'0'::bit(168),
	capacity                  integer NOT NULL DEFAULT 25 CHECK (capacity BETWEEN 0 AND 10000),
	accepting_new             boolean NOT NULL DEFAULT true,
	active                    boolean NOT NULL DEFAULT true,
	retired_at                timestamptz,
	created_at                timestamptz NOT NULL DEFAULT now(),
	updated_at                timestamptz NOT NULL DEFAULT now(),
	CHECK (retired_at IS NULL OR NOT active)
);

CREATE TRIGGER therapists_updated_at BEFORE UPDATE ON therapists
	FOR EACH ROW EXECUTE FUNCTION alliance_touch_updated_at();

-- Concern expertise: level 1 = experienced, 2 = specialist.
CREATE TABLE therapist_concerns (
	therapist_id bigint NOT NULL REFERENCES therapists (id) ON DELETE CASCADE,
	concern      text NOT NULL CHECK (concern ~ '^[a-z][a-z0-9_]{0,63}$'),
	level        smallint NOT NULL CHECK (level IN (1, 2)),
	PRIMARY KEY (therapist_id, concern)
);
CREATE INDEX therapist_concerns_concern ON therapist_concerns (concern);

-- A therapist's trusted colleagues for referrals, optionally for some tags only.
CREATE TABLE colleagues (
	therapist_id bigint NOT NULL REFERENCES therapists (id) ON DELETE CASCADE,
	colleague_id bigint NOT NULL REFERENCES therapists (id) ON DELETE CASCADE,
	for_tags     text[] NOT NULL DEFAULT '{}' CHECK (alliance_tags_ok(for_tags)),
	created_at   timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (therapist_id, colleague_id),
	CHECK (therapist_id <> colleague_id)
);
CREATE INDEX colleagues_colleague ON colleagues (colleague_id);

-- ---------------------------------------------------------------------------------------
-- Clients: only the intake system's reference and what matching needs (the intake
-- preferences, read back whole for matching).  No names, no notes.
CREATE TABLE clients (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	external_ref text NOT NULL UNIQUE CHECK (length(external_ref) BETWEEN 1 AND 128),
	preferences  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(preferences) = 'object'),
	created_at   timestamptz NOT NULL DEFAULT now(),
	updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER clients_updated_at BEFORE UPDATE ON clients
	FOR EACH ROW EXECUTE FUNCTION alliance_touch_updated_at();

-- ---------------------------------------------------------------------------------------
-- Episodes: one client with one therapist.  referred_from must be an episode of the same
-- client (composite foreign key) and can be referred from only once.
CREATE TABLE episodes (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	client_id     bigint NOT NULL REFERENCES clients (id),
	therapist_id  bigint NOT NULL REFERENCES therapists (id),
	status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
	started_at    timestamptz NOT NULL DEFAULT now(),
	ended_at      timestamptz,
	end_reason    text CHECK (end_reason IN ('completed', 'mismatch', 'referred', 'client_left', 'other')),
	referred_from bigint,
	UNIQUE (id, client_id),
	FOREIGN KEY (referred_from, client_id) REFERENCES episodes (id, client_id),
	CHECK (referred_from IS NULL OR referred_from <> id),
	CHECK ((status = 'active' AND ended_at IS NULL AND end_reason IS NULL)
	    OR (status = 'ended' AND ended_at IS NOT NULL AND end_reason IS NOT NULL)),
	CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX episodes_client ON episodes (client_id);
-- Caseloads: active episodes per therapist.
CREATE INDEX episodes_therapist_active ON episodes (therapist_id) WHERE status = 'active';
CREATE INDEX episodes_therapist ON episodes (therapist_id, status);
-- A pair has at most one open episode.
CREATE UNIQUE INDEX episodes_one_active_pair ON episodes (client_id, therapist_id)
	WHERE status = 'active';
CREATE UNIQUE INDEX episodes_referred_once ON episodes (referred_from)
	WHERE referred_from IS NOT NULL;

-- ---------------------------------------------------------------------------------------
-- Feedback: one row per rated session (alliance instruments) or per ORS.
-- alliance_index / trust_signal (0..100) are the engine's values at submission, stored so
-- that reports need not recompute; ors_total (0..40) for ORS rows.  idempotency_key +
-- request_hash make a retry answer the same and store once (same key, other hash = 409).
CREATE TABLE feedback (
	id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	episode_id        bigint NOT NULL REFERENCES episodes (id),
	session           integer NOT NULL CHECK (session BETWEEN 1 AND 10000),
	instrument        text NOT NULL CHECK (instrument IN ('alliance5', 'srs', 'wai_sr', 'ors')),
	-- The daemon validates every item and flag through the engine before it
	-- writes; the database checks the shape only (feedback is the hot write path).
	items             jsonb NOT NULL CHECK (jsonb_typeof(items) = 'object'),
	flags             jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(flags) = 'object'),
	negative_feelings smallint CHECK (negative_feelings BETWEEN 0 AND 10),
	occurred_at       timestamptz NOT NULL,
	received_at       timestamptz NOT NULL DEFAULT now(),
	idempotency_key   text CHECK (length(idempotency_key) BETWEEN 1 AND 255),
	request_hash      bytea CHECK (octet_length(request_hash) BETWEEN 16 AND 64),
	alliance_index    double precision CHECK (alliance_index BETWEEN 0 AND 100),
	trust_signal      double precision CHECK (trust_signal BETWEEN 0 AND 100),
	ors_total         double precision CHECK (ors_total BETWEEN 0 AND 40),
	UNIQUE (episode_id, idempotency_key),
	CHECK (idempotency_key IS NULL OR request_hash IS NOT NULL),
	CHECK (CASE WHEN instrument = 'ors' THEN alliance_index IS NULL AND trust_signal IS NULL
	            ELSE ors_total IS NULL END)
);
-- One alliance rating and one ORS per session.
CREATE UNIQUE INDEX feedback_one_rating ON feedback (episode_id, session) WHERE instrument <> 'ors';
CREATE UNIQUE INDEX feedback_one_ors ON feedback (episode_id, session) WHERE instrument = 'ors';

-- ---------------------------------------------------------------------------------------
CREATE TABLE attendance (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	episode_id  bigint NOT NULL REFERENCES episodes (id),
	session     integer NOT NULL CHECK (session BETWEEN 1 AND 10000),
	status      text NOT NULL CHECK (status IN ('attended', 'cancelled', 'no_show')),
	recorded_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (episode_id, session)
);

-- ---------------------------------------------------------------------------------------
-- API tokens, stored hashed only (e.g. SHA-256 of the secret).  A name is unique among
-- tokens that are not revoked.
CREATE TABLE api_tokens (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	token_hash   bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) BETWEEN 16 AND 64),
	scope        text NOT NULL CHECK (scope IN ('intake', 'feedback', 'admin')),
	created_at   timestamptz NOT NULL DEFAULT now(),
	revoked_at   timestamptz,
	last_used_at timestamptz,
	CHECK (revoked_at IS NULL OR revoked_at >= created_at)
);
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- ---------------------------------------------------------------------------------------
-- Audit: who read or wrote which client's data, when, with what outcome.  No foreign keys on
-- purpose: a refused or not-found access is audited too, and the log outlives what it names.
-- Rows are append-only (UPDATE refused).
CREATE TABLE audit_log (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at         timestamptz NOT NULL DEFAULT now(),
	actor      text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
	action     text NOT NULL CHECK (length(action) BETWEEN 1 AND 200),
	client_id  bigint,
	episode_id bigint,
	outcome    text NOT NULL CHECK (length(outcome) BETWEEN 1 AND 100),
	request_id text CHECK (length(request_id) BETWEEN 1 AND 100)
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_client ON audit_log (client_id, at) WHERE client_id IS NOT NULL;
CREATE INDEX audit_log_episode ON audit_log (episode_id, at) WHERE episode_id IS NOT NULL;

CREATE FUNCTION alliance_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION alliance_audit_append_only();

-- ---------------------------------------------------------------------------------------
-- Catalog change notifications: every daemon LISTENs on 'alliance_catalog' and reloads the
-- therapist whose id is the payload.  Episodes notify too, so that caseloads follow in every
-- daemon.  NOTIFY is delivered at COMMIT and duplicates within a transaction fold into one.
CREATE FUNCTION alliance_notify_therapist() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		PERFORM pg_notify('alliance_catalog', OLD.id::text);
	ELSE
		PERFORM pg_notify('alliance_catalog', NEW.id::text);
	END IF;
	RETURN NULL;
END
$$;

-- For tables with a therapist_id column.
CREATE FUNCTION alliance_notify_therapist_ref() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		PERFORM pg_notify('alliance_catalog', OLD.therapist_id::text);
	END IF;
	IF TG_OP IN ('UPDATE', 'INSERT') THEN
		PERFORM pg_notify('alliance_catalog', NEW.therapist_id::text);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER therapists_notify AFTER INSERT OR UPDATE OR DELETE ON therapists
	FOR EACH ROW EXECUTE FUNCTION alliance_notify_therapist();
CREATE TRIGGER therapist_concerns_notify AFTER INSERT OR UPDATE OR DELETE ON therapist_concerns
	FOR EACH ROW EXECUTE FUNCTION alliance_notify_therapist_ref();
CREATE TRIGGER colleagues_notify AFTER INSERT OR UPDATE OR DELETE ON colleagues
	FOR EACH ROW EXECUTE FUNCTION alliance_notify_therapist_ref();
CREATE TRIGGER episodes_notify AFTER INSERT OR DELETE OR UPDATE OF status, therapist_id ON episodes
	FOR EACH ROW EXECUTE FUNCTION alliance_notify_therapist_ref();
