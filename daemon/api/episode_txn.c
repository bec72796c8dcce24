/*
 * episode_txn.c - a feedback or attendance write and its status event in
 * one transaction (see episode_txn.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/episode_alliance.h"
#include "api/episode_txn.h"
#include "base/log.h"
#include "engine/reasons.h"
#include "store/catalog_sync.h"

/* BEGIN, COMMIT and the event: no rows expected (no 404). */
static const struct request_db_call txn_call = { "episode transaction", NULL, NULL };

void
episode_txn_clear(struct episode_txn *t)
{
	jw_free(&t->reply);
	jw_free(&t->event);
}

static void
committed_cb(struct request *r, const PGresult *res)
{
	struct episode_txn *t = r->state;
	const char *text;
	size_t len;

	(void)res;
	request_db_release_lease(r);
	if (t->refresh != NULL)
		catalog_sync_refresh(t->refresh, t->refresh_therapist);
	if (jw_failed(&t->reply)) {
		request_problem(r, 500, "out of memory", NULL);
		return;
	}
	/* The writer lives in r's state: the text is copied out before r is
	 * freed, the state's clear frees a heap buffer. */
	text = jw_text(&t->reply, &len);
	request_reply_text(r, 200, "application/json", text, len);
}

static void
commit(struct request *r, const PGresult *res)
{
	(void)res;
	request_db_lease_query(r, &txn_call, "COMMIT", 0, NULL, committed_cb);
}

static void
locked_cb(struct request *r, const PGresult *res)
{
	struct episode_txn *t = r->state;

	snprintf(t->therapist, sizeof(t->therapist), "%s", PQgetvalue(res, 0, 0));
	t->statement(r);
}

static void
begun_cb(struct request *r, const PGresult *res)
{
	static const char sql[] = "SELECT therapist_id FROM episodes WHERE id = $1::bigint"
	                          " FOR UPDATE";
	struct episode_txn *t = r->state;
	const char *values[1] = { t->episode };

	(void)res;
	request_db_lease_query(r, t->call, sql, 1, values, locked_cb);
}

static void
leased_cb(struct request *r)
{
	request_db_lease_query(r, &txn_call, "BEGIN", 0, NULL, begun_cb);
}

void
episode_txn_start(struct request *r)
{
	struct episode_txn *t = r->state;

	snprintf(t->episode, sizeof(t->episode), "%" PRId64, r->params[0]);
	jw_init(&t->reply, t->reply_buf, sizeof(t->reply_buf));
	jw_init(&t->event, t->event_buf, sizeof(t->event_buf));
	t->has_event = false;
	request_db_acquire(r, t->call, leased_cb);
}

/* Rows of res from col, plus the extras; 0 or -1. */
static int
evaluate(struct request *r, const PGresult *res, int col, const struct feedback *extra_fb,
    uint32_t extra_session, enum attendance_status extra_status, struct alliance_result *out)
{
	struct episode_rows er;
	int i, n = PQntuples(res), rc = -1;

	episode_rows_init(&er);
	for (i = 0; i < n; i++)
		if (episode_rows_add_pg(&er, res, i, col) < 0)
			goto out;
	if (extra_fb != NULL && episode_rows_add_feedback(&er, extra_fb) < 0)
		goto out;
	if (extra_session != 0 && episode_rows_add_attendance(&er, extra_session, extra_status) < 0)
		goto out;
	if (episode_rows_evaluate(&er, request_api(r)->params, out) != 0)
		goto out;
	rc = 0;
out:
	episode_rows_clear(&er);
	return rc;
}

/* The event's data: ids, statuses, the action and the engine's reason codes
 * (never ratings, items or the sentences that quote them). */
static void
event_write(struct json_writer *w, const struct episode_txn *t,
    const struct alliance_result *before, const struct alliance_result *after)
{
	int i;

	jw_object_begin(w);
	jw_key(w, "episode_id");
	jw_int(w, strtoll(t->episode, NULL, 10));
	jw_key(w, "therapist_id");
	jw_int(w, strtoll(t->therapist, NULL, 10));
	jw_key(w, "old_status");
	jw_string(w, alliance_state_name(before->status));
	jw_key(w, "new_status");
	jw_string(w, alliance_state_name(after->status));
	jw_key(w, "action");
	jw_string(w, alliance_action_name(after->action));
	jw_key(w, "reasons");
	jw_array_begin(w);
	for (i = 0; i < after->n_reasons; i++)
		jw_string(w, reason_code_name((enum reason_code)after->reasons[i].code));
	jw_array_end(w);
	jw_object_end(w);
}

static void
fail_evaluate(struct request *r)
{
	log_warn(request_log(r), "request id=%s episode=%lld rows do not evaluate", r->id,
	    (long long)r->params[0]);
	request_problem(r, 500, "the episode's feedback could not be evaluated", NULL);
}

void
episode_txn_finish(struct request *r, const PGresult *res, int col, const struct feedback *extra_fb,
    uint32_t extra_session, enum attendance_status extra_status)
{
	static const char sql[] = "SELECT alliance_event('episode.status_changed', $1::bigint,"
	                          " $2::bigint, $3::jsonb)";
	struct episode_txn *t = r->state;
	struct alliance_result before, after;
	const char *values[3];

	if (evaluate(r, res, col, NULL, 0, ATT_ATTENDED, &before) != 0 ||
	    evaluate(r, res, col, extra_fb, extra_session, extra_status, &after) != 0) {
		fail_evaluate(r);
		return;
	}
	alliance_write(&t->reply, r->params[0], &after,
	    catalog_sync_vocab(request_api(r)->catalog));
	if (before.status == after.status) {
		commit(r, NULL);
		return;
	}
	event_write(&t->event, t, &before, &after);
	if (jw_cstr(&t->event) == NULL) {
		request_problem(r, 500, "out of memory", NULL);
		return;
	}
	t->has_event = true;
	values[0] = t->episode;
	values[1] = t->therapist;
	values[2] = jw_cstr(&t->event);
	request_db_lease_query(r, &txn_call, sql, 3, values, commit);
}

void
episode_txn_finish_quiet(struct request *r, const PGresult *res, int col)
{
	struct episode_txn *t = r->state;
	struct alliance_result a;

	if (evaluate(r, res, col, NULL, 0, ATT_ATTENDED, &a) != 0) {
		fail_evaluate(r);
		return;
	}
	alliance_write(&t->reply, r->params[0], &a, catalog_sync_vocab(request_api(r)->catalog));
	commit(r, NULL);
}
