/*
 * routes_episodes.c - start, show and end episodes; attendance.
 *
 * Capacity is enforced in the database, not in memory: starting an episode
 * runs in a transaction that first locks the therapist's row (and the episode
 * it is referred from), then checks and inserts in a second statement, whose
 * fresh READ COMMITTED snapshot sees every episode committed before the lock
 * was granted.  (One statement with FOR UPDATE in a CTE would count the
 * caseload in the snapshot taken *before* waiting for the lock, so two
 * concurrent starts could overbook.)  Attendance runs in the episode's
 * transaction with its status event (episode_txn.h); an end is one statement.
 *
 * Idempotency-Key (start and end): stored on the episode with a SHA-256 of
 * the request's fields.  A retry with the same key and fields answers the
 * episode as it is now and changes nothing; other fields are a 409.  Retries
 * of a start serialize on the therapist's lock, so the second sees the
 * first; an end that lost the race to its own retry looks once more.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "api/api.h"
#include "api/audit.h"
#include "api/episode_alliance.h"
#include "api/episode_txn.h"
#include "api/idempotency.h"
#include "api/request_db.h"
#include "api/routes.h"
#include "codec/json_fields.h"
#include "http/router.h"
#include "store/db.h"

#define ISO(x) "to_char(" x " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* The episode object's columns, in episode_json's order (8 columns). */
/* clang-format off */
#define EPISODE_COLS(e) \
	e ".id, " e ".client_id, " e ".therapist_id, " e ".status, " ISO(e ".started_at") ", " \
	ISO(e ".ended_at") ", " e ".end_reason, " e ".referred_from"
/* clang-format on */

static json_t *
nullable_int(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return json_null();
	return json_integer(strtoll(PQgetvalue(res, row, col), NULL, 10));
}

static json_t *
nullable_str(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return json_null();
	return json_string(PQgetvalue(res, row, col));
}

static json_t *
episode_json(const PGresult *res, int row, int col)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
	    nullable_int(res, row, col), "client_id", nullable_int(res, row, col + 1),
	    "therapist_id", nullable_int(res, row, col + 2), "status",
	    nullable_str(res, row, col + 3), "started_at", nullable_str(res, row, col + 4),
	    "ended_at", nullable_str(res, row, col + 5), "end_reason",
	    nullable_str(res, row, col + 6), "referred_from", nullable_int(res, row, col + 7));
}

/* ------------------------------------------------------------------------ */
/* POST /v1/episodes */

struct episode_start {
	char client[24], therapist[24], referred[24];
	char *audit; /* audit_param(r), owned */
	bool has_referred;
	char key[IDEMPOTENCY_KEY_LEN + 1];
	bool has_key;
	char fields[80]; /* what the key's hash covers */
	json_t *episode; /* the answer, held until COMMIT */
};

static void
episode_start_free(void *p)
{
	struct episode_start *s = p;

	json_decref(s->episode);
	free(s->audit);
	free(s);
}

/* Every step's failure is the standard answer; answering releases the
 * lease, which rolls the transaction back. */
static const struct request_db_call start_call = { "episode start", NULL, NULL };

static void
start_committed_cb(struct request *r, const PGresult *res)
{
	struct episode_start *s = r->state;
	json_t *ep;

	(void)res;
	request_db_release_lease(r);
	ep = s->episode;
	s->episode = NULL;
	/* The episodes trigger's NOTIFY reloads both therapists (caseload and
	 * records) in every daemon, this one included. */
	request_reply_json(r, 201, ep);
}

/* Columns of the check-and-insert statement below. */
enum {
	SC_CLIENT,
	SC_T_FOUND,
	SC_T_ACTIVE,
	SC_T_ACCEPTING,
	SC_T_CAPACITY,
	SC_LOAD,
	SC_OLD_CLIENT,
	SC_OLD_STATUS,
	SC_OLD_THERAPIST,
	SC_PAIR,
	SC_EPISODE,
	SC_ENDED = SC_EPISODE + 8,
	SC_PRIOR,                    /* the episode an earlier start with this key made */
	SC_PRIOR_SAME = SC_PRIOR + 8 /* ... and whether its fields were these */
};

static void
start_checked_cb(struct request *r, const PGresult *res)
{
	struct episode_start *s = r->state;
	json_t *errs;
	const char *conflict = NULL;
	char msg[96];

	if (PQntuples(res) != 1) {
		request_problem(r, 500, "the database refused the request", NULL);
		return;
	}
	if (!PQgetisnull(res, 0, SC_PRIOR_SAME)) {
		/* answering releases the lease: rolls back (nothing was written) */
		if (strcmp(PQgetvalue(res, 0, SC_PRIOR_SAME), "t") != 0)
			request_problem(r, 409,
			    "this Idempotency-Key was used with a different body", NULL);
		else
			request_reply_json(r, 201, episode_json(res, 0, SC_PRIOR));
		return;
	}
	errs = json_array();
	if (strcmp(PQgetvalue(res, 0, SC_CLIENT), "0") == 0) {
		snprintf(msg, sizeof(msg), "no client %s", s->client);
		json_array_append_new(errs,
		    json_pack("{s:s, s:s}", "field", "client_id", "message", msg));
	}
	if (strcmp(PQgetvalue(res, 0, SC_T_FOUND), "0") == 0) {
		snprintf(msg, sizeof(msg), "no therapist %s", s->therapist);
		json_array_append_new(errs,
		    json_pack("{s:s, s:s}", "field", "therapist_id", "message", msg));
	}
	if (s->has_referred &&
	    (PQgetisnull(res, 0, SC_OLD_CLIENT) ||
	        strcmp(PQgetvalue(res, 0, SC_OLD_CLIENT), s->client) != 0)) {
		snprintf(msg, sizeof(msg), "no episode %s of this client", s->referred);
		json_array_append_new(errs,
		    json_pack("{s:s, s:s}", "field", "referred_from", "message", msg));
	}
	if (json_array_size(errs) > 0) {
		request_problem(r, 422, "invalid episode", errs); /* rolls back */
		return;
	}
	json_decref(errs);
	if (strcmp(PQgetvalue(res, 0, SC_T_ACTIVE), "t") != 0)
		conflict = "therapist is retired or inactive";
	else if (strcmp(PQgetvalue(res, 0, SC_T_ACCEPTING), "t") != 0)
		conflict = "therapist is not accepting new clients";
	else if (s->has_referred && strcmp(PQgetvalue(res, 0, SC_OLD_STATUS), "active") != 0)
		conflict = "the episode referred from has already ended";
	else if (strcmp(PQgetvalue(res, 0, SC_PAIR), "t") == 0)
		conflict = "the client already has an active episode with this therapist";
	else if (strtol(PQgetvalue(res, 0, SC_LOAD), NULL, 10) >=
	    strtol(PQgetvalue(res, 0, SC_T_CAPACITY), NULL, 10))
		conflict = "therapist at capacity";
	if (conflict != NULL || PQgetisnull(res, 0, SC_EPISODE)) {
		/* answering releases the lease: rolls back */
		request_problem(r, 409, conflict ? conflict : "the episode could not be started",
		    NULL);
		return;
	}
	s->episode = episode_json(res, 0, SC_EPISODE);
	request_db_lease_query(r, &start_call, "COMMIT", 0, NULL, start_committed_cb);
}

static void
start_locked_cb(struct request *r, const PGresult *res)
{
	/*
	 * A fresh snapshot, taken after the locks: the caseload counted here
	 * includes every episode committed before.  The insert happens only when
	 * every check passes; the old episode ends only when the insert happens.
	 */
	/* clang-format off */
	static const char sql[] =
	    "WITH c AS (SELECT id FROM clients WHERE id = $1::bigint),"
	    " t AS (SELECT id, active, accepting_new, capacity FROM therapists WHERE id = $2::bigint),"
	    " load AS (SELECT count(*) AS n FROM episodes"
	    "          WHERE therapist_id = $2::bigint AND status = 'active'),"
	    " old AS (SELECT id, client_id, status, therapist_id FROM episodes WHERE id = $3::bigint),"
	    " pair AS (SELECT 1 FROM episodes WHERE client_id = $1::bigint"
	    "          AND therapist_id = $2::bigint AND status = 'active'),"
	    " prior AS (SELECT " EPISODE_COLS("e") ","
	    "           e.start_hash = sha256(convert_to($5::text, 'UTF8')) AS same"
	    "           FROM episodes e WHERE e.client_id = $1::bigint AND e.start_key = $4::text),"
	    " ok AS (SELECT 1 FROM c, t, load WHERE t.active AND t.accepting_new"
	    "        AND load.n < t.capacity AND NOT EXISTS (SELECT 1 FROM pair)"
	    "        AND NOT EXISTS (SELECT 1 FROM prior)"
	    "        AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM old"
	    "             WHERE old.client_id = $1::bigint AND old.status = 'active'))),"
	    " ins AS (INSERT INTO episodes (client_id, therapist_id, referred_from, start_key,"
	    "           start_hash)"
	    "         SELECT $1::bigint, $2::bigint, $3::bigint, $4::text,"
	    "           CASE WHEN $4::text IS NULL THEN NULL"
	    "                ELSE sha256(convert_to($5::text, 'UTF8')) END FROM ok"
	    "         RETURNING " EPISODE_COLS("episodes") "),"
	    " ended AS (UPDATE episodes SET status = 'ended', ended_at = now(),"
	    "           end_reason = 'referred'"
	    "           WHERE id = $3::bigint AND status = 'active' AND EXISTS (SELECT 1 FROM ins)"
	    "           RETURNING id),"
	    AUDIT_CTE("$6", "ins.client_id", "ins.id", "'201'", "ins")
	    " SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM t),"
	    "  coalesce((SELECT active FROM t), false), coalesce((SELECT accepting_new FROM t), false),"
	    "  coalesce((SELECT capacity FROM t), 0), (SELECT n FROM load),"
	    "  (SELECT client_id FROM old), (SELECT status FROM old), (SELECT therapist_id FROM old),"
	    "  EXISTS (SELECT 1 FROM pair), ins.*, (SELECT count(*) FROM ended), prior.*"
	    " FROM (SELECT 1) one LEFT JOIN ins ON true LEFT JOIN prior ON true";
	/* clang-format on */
	struct episode_start *s = r->state;
	const char *values[6] = { s->client, s->therapist, s->has_referred ? s->referred : NULL,
		s->has_key ? s->key : NULL, s->has_key ? s->fields : NULL, s->audit };

	(void)res;
	request_db_lease_query(r, &start_call, sql, 6, values, start_checked_cb);
}

static void
start_begun_cb(struct request *r, const PGresult *res)
{
	/* Lock order: therapist, then the old episode (an end locks only the episode). */
	/* clang-format off */
	static const char sql[] =
	    "WITH t AS (SELECT id FROM therapists WHERE id = $1::bigint FOR UPDATE),"
	    " o AS (SELECT id FROM episodes WHERE id = $2::bigint FOR UPDATE)"
	    " SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM o)";
	/* clang-format on */
	struct episode_start *s = r->state;
	const char *values[2] = { s->therapist, s->has_referred ? s->referred : NULL };

	(void)res;
	request_db_lease_query(r, &start_call, sql, 2, values, start_locked_cb);
}

static void
start_leased_cb(struct request *r)
{
	request_db_lease_query(r, &start_call, "BEGIN", 0, NULL, start_begun_cb);
}

static void
route_episode_start(struct request *r)
{
	static const char *const fields[] = { "client_id", "therapist_id", "referred_from", NULL };
	struct field_errors fe;
	struct episode_start *s;
	long long client = 0, therapist = 0, referred = 0;
	int has_referred;

	field_errors_init(&fe);
	if (jf_only(r->body, "", fields, &fe) < 0 && !json_is_object(r->body)) {
		request_problem(r, 422, "invalid episode", field_errors_take(&fe));
		return;
	}
	if (jf_int(r->body, "client_id", "client_id", 1, INT64_MAX, &client, &fe) == 0)
		field_error(&fe, "client_id", "is required");
	if (jf_int(r->body, "therapist_id", "therapist_id", 1, UINT32_MAX, &therapist, &fe) == 0)
		field_error(&fe, "therapist_id", "is required");
	has_referred =
	    jf_int(r->body, "referred_from", "referred_from", 1, INT64_MAX, &referred, &fe);
	if (field_errors_any(&fe)) {
		request_problem(r, 422, "invalid episode", field_errors_take(&fe));
		return;
	}
	if ((s = request_state_new(r, sizeof(*s), episode_start_free)) == NULL)
		return;
	snprintf(s->client, sizeof(s->client), "%lld", client);
	snprintf(s->therapist, sizeof(s->therapist), "%lld", therapist);
	snprintf(s->referred, sizeof(s->referred), "%lld", referred);
	s->has_referred = has_referred == 1;
	if (idempotency_key_read(r, s->key, &s->has_key) < 0)
		return;
	snprintf(s->fields, sizeof(s->fields), "%s:%s:%s", s->client, s->therapist,
	    s->has_referred ? s->referred : "");
	if ((s->audit = audit_param(r)) == NULL) {
		request_problem(r, 500, "out of memory", NULL);
		return;
	}
	request_db_acquire(r, &start_call, start_leased_cb);
}

/* ------------------------------------------------------------------------ */
/* GET /v1/episodes/{id} */

static void
got_cb(struct request *r, const PGresult *res)
{
	request_reply_json(r, 200, episode_json(res, 0, 0));
}

static void
route_episode_get(struct request *r)
{
	/* clang-format off */
	static const char sql[] =
	    AUDIT_EPISODE_READ("$2")
	    " SELECT " EPISODE_COLS("e") " FROM episodes e WHERE e.id = $1::bigint";
	/* clang-format on */

	static const struct request_db_call call = { "episode get", "episode", NULL };

	request_db_by_id_audited(r, &call, sql, got_cb);
}

/* ------------------------------------------------------------------------ */
/* POST /v1/episodes/{id}/end */

struct episode_end {
	char id[24];
	char reason[16];
	char key[IDEMPOTENCY_KEY_LEN + 1];
	bool has_key;
	int tries;
	char *audit; /* audit_param(r), owned */
};

static void
episode_end_free(void *p)
{
	struct episode_end *s = p;

	free(s->audit);
	free(s);
}

static void end_send(struct request *r);

/* Columns: 0 the episode's id, 1..8 the episode just ended (NULL: not by
 * this request), 9 the key was the one it ended with, 10 and so was the
 * reason, 11..18 the episode as it was. */
static void
ended_cb(struct request *r, const PGresult *res)
{
	struct episode_end *s = r->state;

	if (!PQgetisnull(res, 0, 1)) {
		/* Caseload and records follow through the episodes trigger's NOTIFY. */
		request_reply_json(r, 200, episode_json(res, 0, 1));
		return;
	}
	if (s->has_key && strcmp(PQgetvalue(res, 0, 9), "t") == 0) {
		if (strcmp(PQgetvalue(res, 0, 10), "t") == 0)
			request_reply_json(r, 200, episode_json(res, 0, 11));
		else
			request_problem(r, 409,
			    "this Idempotency-Key was used with a different body", NULL);
		return;
	}
	if (s->has_key && s->tries < 2) {
		/* Ended meanwhile, maybe by a retry of this very request that committed
		 * after this statement's snapshot: a fresh snapshot tells. */
		end_send(r);
		return;
	}
	request_problem(r, 409, "the episode has already ended", NULL);
}

static void
end_send(struct request *r)
{
	/* The UPDATE re-checks status after any concurrent end: at most one wins. */
	/* clang-format off */
	static const char sql[] =
	    "WITH cur AS (SELECT e.*, e.end_key = $3::text AS same_key,"
	    "             e.end_hash = sha256(convert_to($2::text, 'UTF8')) AS same_body"
	    "             FROM episodes e WHERE e.id = $1::bigint),"
	    " upd AS (UPDATE episodes SET status = 'ended', ended_at = now(), end_reason = $2,"
	    "           end_key = $3::text,"
	    "           end_hash = CASE WHEN $3::text IS NULL THEN NULL"
	    "                      ELSE sha256(convert_to($2::text, 'UTF8')) END"
	    "         WHERE id = $1::bigint AND status = 'active'"
	    "         RETURNING " EPISODE_COLS("episodes") "),"
	    AUDIT_CTE("$4", "upd.client_id", "upd.id", "'200'", "upd")
	    " SELECT cur.id, upd.*, coalesce(cur.same_key, false), coalesce(cur.same_body, false),"
	    "  " EPISODE_COLS("cur")
	    " FROM cur LEFT JOIN upd ON true";
	/* clang-format on */
	static const struct request_db_call call = { "episode end", "episode", NULL };
	struct episode_end *s = r->state;
	const char *values[4] = { s->id, s->reason, s->has_key ? s->key : NULL, s->audit };

	s->tries++;
	request_db_query(r, &call, sql, 4, values, ended_cb);
}

static void
route_episode_end(struct request *r)
{
	static const char *const fields[] = { "reason", NULL };
	static const char *const reasons[] = { "completed", "mismatch", "referred", "client_left",
		"other", NULL };
	struct field_errors fe;
	struct episode_end *s;
	const char *reason = NULL;
	const char *const *p;

	field_errors_init(&fe);
	if (jf_only(r->body, "", fields, &fe) < 0 && !json_is_object(r->body)) {
		request_problem(r, 422, "invalid end", field_errors_take(&fe));
		return;
	}
	if (jf_string(r->body, "reason", "reason", 32, &reason, &fe) == 0)
		field_error(&fe, "reason", "is required");
	else if (reason != NULL) {
		for (p = reasons; *p != NULL && strcmp(*p, reason) != 0; p++)
			;
		if (*p == NULL)
			field_error(&fe, "reason",
			    "must be one of completed, mismatch, referred, "
			    "client_left, other");
	}
	if (field_errors_any(&fe)) {
		request_problem(r, 422, "invalid end", field_errors_take(&fe));
		return;
	}
	if ((s = request_state_new(r, sizeof(*s), episode_end_free)) == NULL)
		return;
	if (idempotency_key_read(r, s->key, &s->has_key) < 0)
		return;
	if ((s->audit = audit_param(r)) == NULL) {
		request_problem(r, 500, "out of memory", NULL);
		return;
	}
	snprintf(s->id, sizeof(s->id), "%" PRId64, r->params[0]);
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	end_send(r);
}

/* ------------------------------------------------------------------------ */
/* POST /v1/episodes/{id}/attendance */

static void
session_over_cap(struct request *r, struct field_errors *fe)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "must be at most %d (limits.max_sessions)",
	    request_api(r)->max_sessions);
	field_error(fe, "session", msg);
}

struct attendance_req {
	struct episode_txn txn; /* first: the transaction's callbacks find it */
	uint32_t session;
	enum attendance_status status;
	char sess[16];
	char *audit; /* owned; audit_param(r) */
};

static void
attendance_free(void *p)
{
	struct attendance_req *a = p;

	episode_txn_clear(&a->txn);
	free(a->audit);
	free(a);
}

static const struct request_db_call attendance_call = { "attendance", "episode", NULL };

/* Columns: 0 episode status, 1 upserted (t/f), 2.. the episode's other rows. */
static void
attendance_cb(struct request *r, const PGresult *res)
{
	struct attendance_req *a = r->state;

	if (strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
		request_problem(r, 409, "the episode has ended", NULL);
		return;
	}
	episode_txn_finish(r, res, 2, NULL, a->session, a->status);
}

/* Upsert per session, in the episode's transaction (episode_txn.h); the
 * other rows come from the snapshot before it, this session's entry is
 * added in C (so "before" leaves out an entry this one replaces). */
static void
attendance_send(struct request *r)
{
	/* clang-format off */
	static const char sql[] =
	    "WITH ep AS (SELECT id, status, client_id FROM episodes WHERE id = $1::bigint),"
	    " up AS (INSERT INTO attendance (episode_id, session, status)"
	    "        SELECT id, $2::integer, $3 FROM ep WHERE status = 'active'"
	    "        ON CONFLICT (episode_id, session)"
	    "        DO UPDATE SET status = EXCLUDED.status, recorded_at = now()"
	    "        RETURNING 1),"
	    AUDIT_CTE("$4", "ep.client_id", "ep.id", "'200'", "ep WHERE EXISTS (SELECT 1 FROM up)")
	    " SELECT ep.status, EXISTS (SELECT 1 FROM up), r.*"
	    " FROM ep LEFT JOIN LATERAL ("
	    EPISODE_ROWS_SQL("ep.id", "true", "t.session <> $2::integer")
	    " ) r ON true";
	/* clang-format on */
	struct attendance_req *a = r->state;
	const char *values[4] = { a->txn.episode, a->sess, attendance_status_name(a->status),
		a->audit };

	request_db_lease_query(r, &attendance_call, sql, 4, values, attendance_cb);
}

static void
route_attendance(struct request *r)
{
	static const char *const fields[] = { "session", "status", NULL };
	struct field_errors fe;
	struct attendance_req *a;
	long long session = 0;
	const char *status = NULL;
	int stv = -1;

	field_errors_init(&fe);
	if (jf_only(r->body, "", fields, &fe) < 0 && !json_is_object(r->body)) {
		request_problem(r, 422, "invalid attendance", field_errors_take(&fe));
		return;
	}
	if (jf_int(r->body, "session", "session", 1, 10000, &session, &fe) == 0)
		field_error(&fe, "session", "is required");
	else if (session > request_api(r)->max_sessions)
		session_over_cap(r, &fe);
	if (jf_string(r->body, "status", "status", 32, &status, &fe) == 0)
		field_error(&fe, "status", "is required");
	else if (status != NULL && (stv = attendance_status_lookup(status)) < 0)
		field_error(&fe, "status", "must be one of attended, cancelled, no_show");
	if (field_errors_any(&fe)) {
		request_problem(r, 422, "invalid attendance", field_errors_take(&fe));
		return;
	}
	if ((a = request_state_new(r, sizeof(*a), attendance_free)) == NULL)
		return;
	a->session = (uint32_t)session;
	a->status = (enum attendance_status)stv;
	snprintf(a->sess, sizeof(a->sess), "%lld", session);
	if ((a->audit = audit_param(r)) == NULL) {
		request_problem(r, 500, "out of memory", NULL);
		return;
	}
	a->txn.call = &attendance_call;
	a->txn.statement = attendance_send;
	episode_txn_start(r);
}

const struct route routes_episodes[] = {
	{ "POST", "/v1/episodes", SCOPE_INTAKE, ROUTE_JSON_BODY | ROUTE_NEEDS_DB | ROUTE_AUDIT,
	    route_episode_start },
	{ "GET", "/v1/episodes/{id}", SCOPE_INTAKE, ROUTE_NEEDS_DB | ROUTE_AUDIT_EPISODE,
	    route_episode_get },
	{ "POST", "/v1/episodes/{id}/end", SCOPE_INTAKE,
	    ROUTE_JSON_BODY | ROUTE_NEEDS_DB | ROUTE_AUDIT_EPISODE, route_episode_end },
	{ "POST", "/v1/episodes/{id}/attendance", SCOPE_INTAKE,
	    ROUTE_JSON_BODY | ROUTE_NEEDS_DB | ROUTE_AUDIT_EPISODE, route_attendance },
	ROUTE_END,
};
