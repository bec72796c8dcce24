/*
 * request_db.h - a request's statements: the one place database callbacks
 * meet requests.
 *
 * Every statement a route runs goes through request_db_query() (or its
 * by-id and lease forms).  The callback a handler gives runs only with a
 * usable result: before it, r->pending is cleared, and a failure (database
 * away or busy: 503; by SQLSTATE 409/422/500; no row where one was required:
 * 404) has been answered the standard way.  So no handler can forget to
 * clear r->pending (a use after free) or answer a failure twice.  A route
 * with a more precise answer for some failures gives call->on_failure.
 *
 * A request that ends first (timeout, shutdown) cancels its statement and
 * releases its lease (router hooks request_db_cancel / request_db_release):
 * the callback then never runs.
 */
#ifndef ALLIANCE_REQUEST_DB_H
#define ALLIANCE_REQUEST_DB_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "base/compiler.h"
#include "http/router.h"
#include "store/db.h"

/* What a statement is, for the standard answers; a static const per call site. */
struct request_db_call {
	const char *what;  /* names the statement in the log ("client upsert") */
	const char *thing; /* non-NULL: zero rows answer 404 "no <thing> <id>" */
	/* Optional: sees a failed statement first (st != DB_OK), r->pending
	 * already clear; returns true when it answered (or sent r on its
	 * way again), false for the standard answer. */
	bool (*on_failure)(struct request *r, enum db_status st, const PGresult *res);
};

/* A successful result; valid during the call only. */
typedef void (*request_db_cb)(struct request *r, const PGresult *res);
/* A leased connection, in r->lease (released when r ends). */
typedef void (*request_lease_cb)(struct request *r);

/* Runs SQL on any free connection; cb follows with the result.  When the
 * database is away it answers 503 at once: the handler must return
 * without touching r after any of these calls. */
void request_db_query(struct request *r, const struct request_db_call *call, const char *sql,
    int nparams, const char *const *values, request_db_cb cb);
/* request_db_query with the path's first {id} as $1. */
void request_db_by_id(struct request *r, const struct request_db_call *call, const char *sql,
    request_db_cb cb);
/* Leases a connection for a transaction; cb runs with r->lease set. */
void request_db_acquire(struct request *r, const struct request_db_call *call, request_lease_cb cb);
/* A statement on r->lease (one at a time); failures answered as above (the
 * answer releases the lease: an open transaction rolls back). */
void request_db_lease_query(struct request *r, const struct request_db_call *call, const char *sql,
    int nparams, const char *const *values, request_db_cb cb);
/* Ends the lease early (after COMMIT, before a reply that takes long). */
void request_db_release_lease(struct request *r);

/* The standard answer to a failed statement: 503 with Retry-After when the
 * database is away or busy; by SQLSTATE 409 for a unique violation, 422 for
 * a foreign-key, check or data error, else 500.  Logs WHAT, the SQLSTATE and
 * the request id only (never values). */
void request_db_failure(struct request *r, enum db_status st, const PGresult *res,
    const char *what);
/* The SQLSTATE of a failed result; "" when there is none. */
MUSTCHECK const char *db_sqlstate(const PGresult *res);

/* Router hooks (router_settings.cancel / .release). */
void request_db_cancel(void *pending);
void request_db_release(void *lease);

#endif
