/*
 * test_db.c - the pool's fault paths against a real PostgreSQL: a send that
 * fails after its PREPARE, a statement cancelled while it is prepared, and
 * a statement abandoned while it waits for a lock (cancelled on the server).
 *
 * A failed send cannot be provoked from outside (libpq reports a broken
 * socket only on the next read), so this binary is linked with
 * -Wl,--wrap=PQsendQueryPrepared and fails the next call on request: the
 * server is real, only that one call is refused.
 *
 * It needs a migrated database: ALLIANCE_TEST_DATABASE_URL (a libpq string).
 * Without it every test is skipped; tests/e2e/test_unit_with_pg.py runs it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <libpq-fe.h>

#include "base/clock.h"
#include "base/log.h"
#include "store/db.h"

/* The one fault: the next PQsendQueryPrepared fails (as on a broken socket). */
static bool fail_next_send;

int __real_PQsendQueryPrepared(PGconn *conn, const char *stmtName, int nParams,
    const char *const *paramValues, const int *paramLengths, const int *paramFormats,
    int resultFormat);
int __wrap_PQsendQueryPrepared(PGconn *conn, const char *stmtName, int nParams,
    const char *const *paramValues, const int *paramLengths, const int *paramFormats,
    int resultFormat);

int
__wrap_PQsendQueryPrepared(PGconn *conn, const char *stmtName, int nParams,
    const char *const *paramValues, const int *paramLengths, const int *paramFormats,
    int resultFormat)
{
	if (fail_next_send) {
		fail_next_send = false;
		return 0;
	}
	return __real_PQsendQueryPrepared(conn, stmtName, nParams, paramValues, paramLengths,
	    paramFormats, resultFormat);
}

struct fixture {
	struct event_base *base;
	struct logger log;
	struct db_pool *db;
	PGconn *admin; /* blocking: the test's own statements */
	int calls;
	enum db_status st;
	char value[64];
	struct db_conn *lease;
};

static void
sql(struct fixture *f, const char *text)
{
	PGresult *res = PQexec(f->admin, text);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("%s: %s", text, PQerrorMessage(f->admin));
	PQclear(res);
}

static long
sql_long(struct fixture *f, const char *text)
{
	PGresult *res = PQexec(f->admin, text);
	long v;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		fail_msg("%s: %s", text, PQerrorMessage(f->admin));
	v = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

/* Runs the loop until pred(f) holds; fails after 10 s. */
static void
run_until(struct fixture *f, bool (*pred)(struct fixture *), const char *what)
{
	double deadline = clock_now() + 10;

	while (!pred(f)) {
		if (clock_now() > deadline)
			fail_msg("timed out waiting for %s", what);
		event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	}
}

static bool
pool_up(struct fixture *f)
{
	return db_pool_up(f->db);
}

static bool
called(struct fixture *f)
{
	return f->calls > 0;
}

static bool
pool_idle(struct fixture *f)
{
	struct db_stats s;

	db_pool_stats(f->db, &s);
	return s.idle == s.size;
}

static void
result_cb(void *arg, enum db_status st, const PGresult *res)
{
	struct fixture *f = arg;

	f->calls++;
	f->st = st;
	f->value[0] = '\0';
	if (st == DB_OK && PQntuples(res) > 0)
		snprintf(f->value, sizeof(f->value), "%s", PQgetvalue(res, 0, 0));
}

static void
lease_cb(void *arg, struct db_conn *conn)
{
	struct fixture *f = arg;

	f->calls++;
	f->lease = conn;
}

static int
setup(void **state)
{
	const char *url = getenv("ALLIANCE_TEST_DATABASE_URL");
	struct fixture *f;
	struct db_settings dbs;

	if (url == NULL || url[0] == '\0') {
		*state = NULL;
		return 0;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	f->base = event_base_new();
	logger_init(&f->log, LOG_ERROR, stderr);
	f->admin = PQconnectdb(url);
	if (f->base == NULL || PQstatus(f->admin) != CONNECTION_OK)
		return -1;
	memset(&dbs, 0, sizeof(dbs));
	dbs.url = url;
	dbs.pool_size = 1; /* every statement on the same connection: order is known */
	dbs.connect_timeout = 2;
	dbs.queue_timeout_ms = 5000;
	dbs.max_queue = 64;
	dbs.log = &f->log;
	f->db = db_pool_new(f->base, &dbs);
	if (f->db == NULL || db_pool_start(f->db) != 0)
		return -1;
	*state = f;
	run_until(f, pool_up, "the pool");
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f == NULL)
		return 0;
	db_pool_free(f->db);
	event_base_free(f->base);
	PQfinish(f->admin);
	free(f);
	return 0;
}

#define NEED_DATABASE(f)         \
	do {                     \
		if ((f) == NULL) \
			skip();  \
	} while (0)

/* A send refused after the PREPARE came back reaches the caller as
 * DB_UNAVAILABLE (before: the callback never ran and the query leaked), and
 * the pool serves the next statement. */
static void
test_a_failed_send_after_prepare_is_reported(void **state)
{
	struct fixture *f = *state;

	NEED_DATABASE(f);
	fail_next_send = true;
	assert_non_null(db_query(f->db, "SELECT 41 + 1", 0, NULL, result_cb, f));
	run_until(f, called, "the failed statement's callback");
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->st, DB_UNAVAILABLE);
	assert_false(fail_next_send);

	run_until(f, pool_up, "the reconnect");
	f->calls = 0;
	assert_non_null(db_query(f->db, "SELECT 41 + 1", 0, NULL, result_cb, f));
	run_until(f, called, "the next statement");
	assert_int_equal(f->st, DB_OK);
	assert_string_equal(f->value, "42");
}

/* The same on a lease (a transaction's next statement). */
static void
test_a_failed_send_on_a_lease_is_reported(void **state)
{
	struct fixture *f = *state;

	NEED_DATABASE(f);
	assert_non_null(db_acquire(f->db, lease_cb, f));
	run_until(f, called, "the lease");
	assert_non_null(f->lease);
	f->calls = 0;
	fail_next_send = true;
	assert_int_equal(db_conn_query(f->lease, "SELECT 43 + 1", 0, NULL, result_cb, f), 0);
	run_until(f, called, "the failed statement's callback");
	assert_int_equal(f->st, DB_UNAVAILABLE);
	db_release(f->lease);
	run_until(f, pool_up, "the reconnect");
}

/* A statement cancelled while its PREPARE runs is dropped after it: it
 * never executes.  The proof is a NOTIFY the statement would send, checked
 * after a later statement on the same connection has run. */
static void
test_a_statement_cancelled_during_prepare_never_runs(void **state)
{
	struct fixture *f = *state;
	struct db_query *q;
	PGnotify *n;
	int seen_dropped = 0, seen_later = 0;

	NEED_DATABASE(f);
	sql(f, "LISTEN db_test");
	q = db_query(f->db, "SELECT pg_notify('db_test', 'dropped' || $1)", 1,
	    (const char *const[]){ "" }, result_cb, f);
	assert_non_null(q);
	db_query_cancel(q); /* sent: its PREPARE is on the wire */
	assert_non_null(
	    db_query(f->db, "SELECT pg_notify('db_test', 'later')", 0, NULL, result_cb, f));
	run_until(f, called, "the later statement");
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->st, DB_OK);
	sql(f, "SELECT 1"); /* collects the notifications */
	PQconsumeInput(f->admin);
	while ((n = PQnotifies(f->admin)) != NULL) {
		if (strcmp(n->extra, "dropped") == 0)
			seen_dropped++;
		if (strcmp(n->extra, "later") == 0)
			seen_later++;
		PQfreemem(n);
	}
	sql(f, "UNLISTEN db_test");
	assert_int_equal(seen_later, 1);
	assert_int_equal(seen_dropped, 0);
}

/* A statement abandoned while it waits is cancelled on the server (not left
 * to finish), and its connection serves the next statement afterwards. */
static void
test_an_abandoned_statement_is_cancelled_on_the_server(void **state)
{
	struct fixture *f = *state;
	struct db_query *q;
	double t0, deadline;

	NEED_DATABASE(f);
	sql(f, "SELECT pg_advisory_lock(4242)");
	q = db_query(f->db, "SELECT pg_advisory_lock(4242), 'late'", 0, NULL, result_cb, f);
	assert_non_null(q);
	/* Wait until the pool's statement is really waiting on the lock. */
	deadline = clock_now() + 10;
	while (
	    sql_long(f,
	        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") == 0) {
		if (clock_now() > deadline)
			fail_msg("the statement never waited for the lock");
		event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	}
	t0 = clock_now();
	db_query_cancel(q);
	run_until(f, pool_idle, "the cancelled statement to end");
	assert_true(clock_now() - t0 < 5);
	/* The lock is still ours: the pool's statement ended without it. */
	assert_int_equal(sql_long(f, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"),
	    1);
	sql(f, "SELECT pg_advisory_unlock(4242)");
	assert_int_equal(f->calls, 0);
	assert_non_null(db_query(f->db, "SELECT 'next'", 0, NULL, result_cb, f));
	run_until(f, called, "the next statement");
	assert_int_equal(f->st, DB_OK);
	assert_string_equal(f->value, "next");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_failed_send_after_prepare_is_reported, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_a_failed_send_on_a_lease_is_reported, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_statement_cancelled_during_prepare_never_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_an_abandoned_statement_is_cancelled_on_the_server, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
