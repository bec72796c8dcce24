/*
 * routes_feedback.c - session feedback and the alliance status.
 *
 * A submission is ONE statement inside the episode's transaction
 * (episode_txn.h: the episode row locked first, the status_changed event
 * written before COMMIT): it checks the episode, looks up an earlier
 * submission with the same Idempotency-Key, inserts, and returns the
 * episode's other rows.  The new row is added to the evaluation in C (the
 * statement's snapshot predates it).
 *
 * Idempotency: the key is stored with a SHA-256 of the canonical body (keys
 * sorted, compact).  The same key and body answer the status as of the first
 * submission (rows up to it), the same key with another body is 409.  Two
 * concurrent submissions with one key: the loser hits the unique constraint
 * and is run once more, when it finds the winner's row.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <libpq-fe.h>

#include "api/api.h"
#include "api/idempotency.h"
#include "api/audit.h"
#include "api/episode_alliance.h"
#include "api/episode_txn.h"
#include "api/request_db.h"
#include "api/routes.h"
#include "codec/feedback_json.h"
#include "http/problem.h"
#include "http/router.h"
#include "store/catalog_sync.h"
#include "store/db.h"

enum {
	FB_ID,
	FB_SESSION,
	FB_INSTRUMENT,
	FB_ITEMS,
	FB_FLAGS,
	FB_NEG,
	FB_OCCURRED,
	FB_KEY,
	FB_BODY,
	FB_INDEX,
	FB_TRUST,
	FB_ORS,
	FB_AUDIT, /* $13 */
	FB_NPARAMS
};

struct feedback_state {
	struct episode_txn txn; /* first: the transaction's callbacks find it */
	struct feedback fb;
	struct json_writer items, flags;      /* the stored JSON text, written here */
	char *body;                           /* owned; canonical body (with a key) */
	char *audit;                          /* owned; audit_param(r) */
	char items_buf[1024], flags_buf[256]; /* room for any instrument */
	char id[24], session[16], neg[8], index[32], trust[32], ors[32];
	char key[IDEMPOTENCY_KEY_LEN + 1];
	const char *occurred_at; /* borrowed from r->body */
	bool has_key;
	int tries;
};

static void
feedback_state_free(void *p)
{
	struct feedback_state *s = p;

	episode_txn_clear(&s->txn);
	jw_free(&s->items);
	jw_free(&s->flags);
	free(s->body);
	free(s->audit);
	free(s);
}

static void feedback_send(struct request *r);

/* A duplicate session is named; a concurrent twin with the same key is
 * replayed; a data error can only be occurred_at (a date the calendar
 * lacks); the rest is the standard answer. */
static bool
feedback_failed_cb(struct request *r, enum db_status st, const PGresult *res)
{
	struct feedback_state *s = r->state;
	const char *state = db_sqlstate(res);

	if (st != DB_SQL_ERROR)
		return false;
	if (strcmp(state, "23505") == 0) {
		const char *cons = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);

		if (cons != NULL && strstr(cons, "idempotency") != NULL && s->tries < 2) {
			/* A concurrent twin won: replay it in a new transaction
			 * (this one is aborted). */
			request_db_release_lease(r);
			episode_txn_start(r);
			return true;
		}
		request_problem(r, 409,
		    s->fb.instrument == INSTR_ORS ? "this session already has an ORS"
		                                  : "this session already has an alliance rating",
		    NULL);
		return true;
	}
	if (strncmp(state, "22", 2) == 0) {
		json_t *errs = json_array();

		problem_add_error(errs, "occurred_at", "must be a valid RFC 3339 date-time");
		request_problem(r, 422, "invalid feedback", errs);
		return true;
	}
	return false;
}

static const struct request_db_call feedback_call = { "feedback", "episode", feedback_failed_cb };

/* Columns: 0 therapist_id, 1 outcome, 2.. the rows. */
static void
feedback_cb(struct request *r, const PGresult *res)
{
	struct feedback_state *s = r->state;
	struct catalog_sync *catalog = request_api(r)->catalog;
	const char *outcome;
	uint32_t therapist;

	outcome = PQgetvalue(res, 0, 1);
	if (strcmp(outcome, "ended") == 0) {
		request_problem(r, 409, "the episode has ended", NULL);
		return;
	}
	if (strcmp(outcome, "key_conflict") == 0) {
		request_problem(r, 409, "this Idempotency-Key was used with a different body",
		    NULL);
		return;
	}
	therapist = (uint32_t)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	if (strcmp(outcome, "replay") == 0) {
		episode_txn_finish_quiet(r, res, 2);
		return;
	}
	/* The records behind matching changed: this daemon follows at once,
	 * after the COMMIT.  An ORS changes none of them while its episode is
	 * active (outcomes count ended episodes, whose end reloads the
	 * therapist anyway). */
	if (s->fb.instrument != INSTR_ORS) {
		s->txn.refresh = catalog;
		s->txn.refresh_therapist = therapist;
	}
	episode_txn_finish(r, res, 2, &s->fb, 0, ATT_ATTENDED);
}

static void
feedback_send(struct request *r)
{
	/* clang-format off */
	static const char sql[] =
	    "WITH ep AS (SELECT id, therapist_id, status, client_id FROM episodes"
	    "            WHERE id = $1::bigint),"
	    " prior AS (SELECT f.id, f.received_at,"
	    "           f.request_hash = sha256(convert_to($9::text, 'UTF8')) AS same"
	    "           FROM feedback f WHERE f.episode_id = $1::bigint"
	    "           AND f.idempotency_key = $8::text),"
	    " ins AS (INSERT INTO feedback (episode_id, session, instrument, items, flags,"
	    "           negative_feelings, occurred_at, idempotency_key, request_hash,"
	    "           alliance_index, trust_signal, ors_total)"
	    "         SELECT ep.id, $2::integer, $3, $4::jsonb, $5::jsonb, $6::smallint,"
	    "           coalesce($7::timestamptz, now()), $8::text,"
	    "           CASE WHEN $8::text IS NULL THEN NULL"
	    "                ELSE sha256(convert_to($9::text, 'UTF8')) END,"
	    "           $10::float8, $11::float8, $12::float8"
	    "         FROM ep WHERE ep.status = 'active' AND NOT EXISTS (SELECT 1 FROM prior)"
	    "         RETURNING id),"
	    " st AS (SELECT ep.id, ep.therapist_id,"
	    "          CASE WHEN EXISTS (SELECT 1 FROM ins) THEN 'stored'"
	    "               WHEN (SELECT same FROM prior) THEN 'replay'"
	    "               WHEN EXISTS (SELECT 1 FROM prior) THEN 'key_conflict'"
	    "               ELSE 'ended' END AS outcome,"
	    "          (SELECT id FROM prior) AS upto_id, (SELECT received_at FROM prior) AS upto_at"
	    "        FROM ep),"
	    AUDIT_CTE("$13", "ep.client_id", "ep.id", "'200'",
		"ep, st WHERE st.outcome IN ('stored', 'replay')")
	    " SELECT st.therapist_id, st.outcome, r.*"
	    " FROM st LEFT JOIN LATERAL ("
	    EPISODE_ROWS_SQL("st.id", "st.upto_id IS NULL OR f.id <= st.upto_id",
		"st.upto_at IS NULL OR t.recorded_at <= st.upto_at")
	    " ) r ON st.outcome IN ('stored', 'replay')";
	/* clang-format on */
	struct feedback_state *s = r->state;
	const char *values[FB_NPARAMS];

	s->tries++;
	values[FB_ID] = s->id;
	values[FB_SESSION] = s->session;
	values[FB_INSTRUMENT] = instrument_name(s->fb.instrument);
	values[FB_ITEMS] = s->items.buf;
	values[FB_FLAGS] = s->flags.buf;
	values[FB_NEG] = s->fb.has_negative_feelings ? s->neg : NULL;
	values[FB_OCCURRED] = s->occurred_at;
	values[FB_KEY] = s->has_key ? s->key : NULL;
	values[FB_BODY] = s->has_key ? s->body : NULL;
	values[FB_INDEX] = s->fb.instrument == INSTR_ORS ? NULL : s->index;
	values[FB_TRUST] = s->fb.instrument == INSTR_ORS ? NULL : s->trust;
	values[FB_ORS] = s->fb.instrument == INSTR_ORS ? s->ors : NULL;
	values[FB_AUDIT] = s->audit;
	request_db_lease_query(r, &feedback_call, sql, FB_NPARAMS, values, feedback_cb);
}

static void
route_feedback(struct request *r)
{
	struct field_errors fe;
	struct feedback_request fr;
	struct instrument_score sc;
	struct feedback_state *s;

	field_errors_init(&fe);
	if (feedback_from_json(r->body, &fr, &fe) < 0) {
		request_problem(r, 422, "invalid feedback", field_errors_take(&fe));
		return;
	}
	if (fr.fb.session > (uint32_t)request_api(r)->max_sessions) {
		char msg[64];
		json_t *errs = json_array();

		snprintf(msg, sizeof(msg), "must be at most %d (limits.max_sessions)",
		    request_api(r)->max_sessions);
		problem_add_error(errs, "session", msg);
		request_problem(r, 422, "invalid feedback", errs);
		return;
	}
	if (instrument_score(&fr.fb, &sc) != 0) {
		request_problem(r, 422, "invalid feedback", NULL);
		return;
	}
	if ((s = request_state_new(r, sizeof(*s), feedback_state_free)) == NULL)
		return;
	if (idempotency_key_read(r, s->key, &s->has_key) < 0)
		return;
	s->fb = fr.fb;
	s->occurred_at = fr.occurred_at;
	jw_init(&s->items, s->items_buf, sizeof(s->items_buf));
	jw_init(&s->flags, s->flags_buf, sizeof(s->flags_buf));
	feedback_items_write(&s->items, &fr.fb);
	feedback_flags_write(&s->flags, &fr.fb);
	/* The hash input stays Jansson's canonical dump: keys stored by earlier
	 * versions must keep matching. */
	if (s->has_key)
		s->body = json_dumps(r->body, JSON_COMPACT | JSON_SORT_KEYS);
	s->audit = audit_param(r);
	if (jw_cstr(&s->items) == NULL || jw_cstr(&s->flags) == NULL ||
	    (s->has_key && s->body == NULL) || s->audit == NULL) {
		request_problem(r, 500, "out of memory", NULL);
		return;
	}
	snprintf(s->id, sizeof(s->id), "%" PRId64, r->params[0]);
	snprintf(s->session, sizeof(s->session), "%u", (unsigned)fr.fb.session);
	snprintf(s->neg, sizeof(s->neg), "%d", (int)fr.fb.negative_feelings);
	/* %.17g: the stored value is the engine's, to the last bit. */
	snprintf(s->index, sizeof(s->index), "%.17g", sc.index);
	snprintf(s->trust, sizeof(s->trust), "%.17g", sc.trust);
	snprintf(s->ors, sizeof(s->ors), "%.17g", sc.total);
	s->txn.call = &feedback_call;
	s->txn.statement = feedback_send;
	episode_txn_start(r);
}

/* ------------------------------------------------------------------------ */
/* GET /v1/episodes/{id}/alliance */

static void
alliance_got_cb(struct request *r, const PGresult *res)
{
	alliance_reply(r, res, 1, NULL, 0, ATT_ATTENDED);
}

static void
route_alliance_get(struct request *r)
{
	/* clang-format off */
	static const char sql[] =
	    AUDIT_EPISODE_READ("$2")
	    " SELECT ep.id, r.* FROM episodes ep LEFT JOIN LATERAL ("
	    EPISODE_ROWS_SQL("ep.id", "true", "true")
	    " ) r ON true WHERE ep.id = $1::bigint";
	/* clang-format on */

	static const struct request_db_call call = { "alliance", "episode", NULL };

	request_db_by_id_audited(r, &call, sql, alliance_got_cb);
}

const struct route routes_feedback[] = {
	{ "POST", "/v1/episodes/{id}/feedback", SCOPE_FEEDBACK,
	    ROUTE_JSON_BODY | ROUTE_NEEDS_DB | ROUTE_AUDIT_EPISODE, route_feedback },
	{ "GET", "/v1/episodes/{id}/alliance", SCOPE_FEEDBACK, ROUTE_NEEDS_DB | ROUTE_AUDIT_EPISODE,
	    route_alliance_get },
	ROUTE_END,
};
