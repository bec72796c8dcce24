/*
 * request_db.c - statements of requests (see request_db.h).
 *
 * Each statement carries a small call record: the request, the handler's
 * callback and the call's description.  r->pending points at it while the
 * statement runs; the pool's callback clears it, answers failures, then
 * hands the result to the handler.  A request that ends first cancels it
 * (request_db_cancel): the pool drops the statement and the record is freed,
 * so nothing late runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/request_db.h"
#include "base/log.h"

struct pending_call {
	struct request *r;
	const struct request_db_call *call;
	request_db_cb cb;
	request_lease_cb lease_cb;
	struct db_query *q; /* NULL for a statement on a lease: releasing
				 * the lease discards it */
};

const char *
db_sqlstate(const PGresult *res)
{
	const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return s ? s : "";
}

void
request_db_failure(struct request *r, enum db_status st, const PGresult *res, const char *what)
{
	const char *state;

	if (st != DB_SQL_ERROR) {
		request_unavailable(r);
		return;
	}
	state = db_sqlstate(res);
	log_warn(request_log(r), "request id=%s %s refused by the database sqlstate=%s", r->id,
	    what, state[0] ? state : "?");
	if (strcmp(state, "57014") == 0)
		request_retry_later(r, "the database did not answer in time; retry shortly");
	else if (strcmp(state, "23505") == 0)
		request_problem(r, 409, "conflicts with an existing record", NULL);
	else if (strcmp(state, "23503") == 0)
		request_problem(r, 422, "a referenced record does not exist", NULL);
	else if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0)
		request_problem(r, 422, "a value was refused by the database", NULL);
	else
		request_problem(r, 500, "the database refused the request", NULL);
}

void
request_db_cancel(void *pending)
{
	struct pending_call *pc = pending;

	if (pc->q != NULL)
		db_query_cancel(pc->q);
	free(pc);
}

void
request_db_release(void *lease)
{
	db_release(lease);
}

/* The record of a statement about to be sent; NULL when out of memory
 * (answered 500 then: the caller returns). */
static struct pending_call *
call_new(struct request *r, const struct request_db_call *call, request_db_cb cb,
    request_lease_cb lease_cb)
{
	struct pending_call *pc = calloc(1, sizeof(*pc));

	if (pc == NULL) {
		request_problem(r, 500, "out of memory", NULL);
		return NULL;
	}
	pc->r = r;
	pc->call = call;
	pc->cb = cb;
	pc->lease_cb = lease_cb;
	return pc;
}

/* After the send: the record waits in r->pending, or a refused send (no
 * connection, queue full, broken lease) answers 503 at once. */
static void
call_sent(struct pending_call *pc, bool sent)
{
	struct request *r = pc->r;

	if (!sent) {
		free(pc);
		request_unavailable(r);
		return;
	}
	r->pending = pc;
}

/* The pool's callback: the record is done with whatever happens next. */
static void
result_cb(void *arg, enum db_status st, const PGresult *res)
{
	struct pending_call *pc = arg;
	struct request *r = pc->r;
	const struct request_db_call *call = pc->call;
	request_db_cb cb = pc->cb;

	r->pending = NULL;
	free(pc);
	if (st != DB_OK) {
		if (call->on_failure == NULL || !call->on_failure(r, st, res))
			request_db_failure(r, st, res, call->what);
		return;
	}
	if (call->thing != NULL && PQntuples(res) == 0) {
		request_not_found(r, call->thing);
		return;
	}
	cb(r, res);
}

void
request_db_query(struct request *r, const struct request_db_call *call, const char *sql,
    int nparams, const char *const *values, request_db_cb cb)
{
	struct pending_call *pc = call_new(r, call, cb, NULL);

	if (pc == NULL)
		return;
	pc->q = db_query(request_api(r)->db, sql, nparams, values, result_cb, pc);
	call_sent(pc, pc->q != NULL);
}

void
request_db_by_id(struct request *r, const struct request_db_call *call, const char *sql,
    request_db_cb cb)
{
	char id[24];
	const char *values[1] = { id };

	snprintf(id, sizeof(id), "%lld", (long long)r->params[0]);
	request_db_query(r, call, sql, 1, values, cb);
}

static void
leased_cb(void *arg, struct db_conn *conn)
{
	struct pending_call *pc = arg;
	struct request *r = pc->r;
	request_lease_cb cb = pc->lease_cb;

	r->pending = NULL;
	free(pc);
	if (conn == NULL) {
		request_unavailable(r);
		return;
	}
	r->lease = conn;
	cb(r);
}

void
request_db_acquire(struct request *r, const struct request_db_call *call, request_lease_cb cb)
{
	struct pending_call *pc = call_new(r, call, NULL, cb);

	if (pc == NULL)
		return;
	pc->q = db_acquire(request_api(r)->db, leased_cb, pc);
	call_sent(pc, pc->q != NULL);
}

void
request_db_lease_query(struct request *r, const struct request_db_call *call, const char *sql,
    int nparams, const char *const *values, request_db_cb cb)
{
	struct pending_call *pc = call_new(r, call, cb, NULL);

	if (pc == NULL)
		return;
	/* pc->q stays NULL: releasing the lease discards the statement */
	call_sent(pc, db_conn_query(r->lease, sql, nparams, values, result_cb, pc) == 0);
}

void
request_db_release_lease(struct request *r)
{
	db_release(r->lease);
	r->lease = NULL;
}
