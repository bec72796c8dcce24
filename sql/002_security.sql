-- 002_security: tokens that expire and tell every daemon when they change, an audit trail
-- that says who, from where, under which request, and a runtime role that can append to it
-- but never rewrite it (README "Security").

-- ---------------------------------------------------------------------------------------
-- Tokens: an optional expiry; every change but last_used_at tells the daemons to reload
-- their token cache (a revocation reaches all of them within a second).
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_expiry CHECK (expires_at IS NULL OR expires_at > created_at);

CREATE FUNCTION alliance_notify_tokens() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('alliance_tokens', '');
	RETURN NULL;
END
$$;
CREATE TRIGGER api_tokens_notify_ins_del AFTER INSERT OR DELETE ON api_tokens
	FOR EACH STATEMENT EXECUTE FUNCTION alliance_notify_tokens();
-- last_used_at is written every few seconds by every daemon: not a reason to reload.
CREATE TRIGGER api_tokens_notify_upd AFTER UPDATE OF name, token_hash, scope, revoked_at, expires_at
	ON api_tokens FOR EACH STATEMENT EXECUTE FUNCTION alliance_notify_tokens();

-- ---------------------------------------------------------------------------------------
-- Audit: the peer (IP address and port, or "unix:uid=N") and the caller's X-Request-Id as a
-- correlation field; request_id is always the daemon's own.  outcome is the HTTP status.
ALTER TABLE audit_log ADD COLUMN peer text CHECK (length(peer) <= 200);
ALTER TABLE audit_log ADD COLUMN correlation_id text CHECK (length(correlation_id) <= 100);
CREATE INDEX audit_log_actor ON audit_log (actor, at);

-- Append-only for everyone, the owner included: DELETE is refused like UPDATE.  (TRUNCATE
-- is not a row operation; it is revoked from every role but the owner below.)
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION alliance_audit_append_only();

-- ---------------------------------------------------------------------------------------
-- The runtime role.  The daemon logs in as a member of alliance_runtime; only the owner
-- (the role that runs `allianced --migrate`) changes the schema.  alliance_runtime may read
-- and write the data tables, but only INSERT and SELECT on audit_log.  Creating the role
-- needs CREATEROLE; an administrator may create it beforehand instead (NOLOGIN).
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'alliance_runtime') THEN
		CREATE ROLE alliance_runtime NOLOGIN;
	END IF;
END
$$;

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO alliance_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO alliance_runtime;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO alliance_runtime;
REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM alliance_runtime;
REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_log FROM alliance_runtime, PUBLIC;
GRANT SELECT, INSERT ON audit_log TO alliance_runtime;
