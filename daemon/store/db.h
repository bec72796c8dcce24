/*
 * db.h - an asynchronous PostgreSQL pool on the libevent loop (libpq, non-blocking).
 *
 * A fixed set of connections (pool_size) plus one dedicated LISTEN connection, opened only
 * once a channel is registered.  Connections are opened with PQconnectStart/PQconnectPoll
 * under our own connect timer, and reopened in the background with a backoff of 100 ms
 * doubling to 1 s, so service returns within about a second of PostgreSQL coming back.
 * Nothing here ever blocks the loop (but see "url" below).
 *
 * Ownership and lifetime
 * - The pool is owned by its creator: db_pool_new() ... db_pool_free().  db_pool_free() must
 *   not be called from inside one of the pool's callbacks.  It first runs every pending
 *   callback with DB_UNAVAILABLE (lease callbacks with NULL); API calls made from those
 *   callbacks are refused (NULL / -1) and db_release() is accepted.
 * - `sql` and `values` are copied: they may be freed as soon as the call returns.
 * - A struct db_query handle belongs to the pool.  It stays valid until its callback starts
 *   or db_query_cancel() is called, whichever comes first; never touch it after that.
 * - Callbacks are only ever called from the event loop, never from inside a db_* call, so a
 *   caller can finish its own bookkeeping after db_query() returns.  A callback may call any
 *   db_* function except db_pool_free().
 * - A struct db_conn (a lease) is the holder's from the lease callback until db_release().
 *   Every lease must be released, also after an error (the pool then rolls back or
 *   reconnects); release all leases before db_pool_free().
 * - Statements run one at a time per connection: wait for a callback before the next
 *   db_conn_query() on the same lease.  COPY is not supported.
 *
 * Cancelling: a statement abandoned while it runs (db_query_cancel, db_release) is also
 * cancelled on the server, by a helper thread (db_cancel.h); the connection takes no new
 * work until that cancel was delivered.  A statement abandoned during its PREPARE is never
 * run.
 *
 * Failures: a connection lost mid-statement fails that statement with DB_UNAVAILABLE; it is
 * never retried silently (the caller decides).  Nothing here logs SQL text or parameters.
 */
#ifndef ALLIANCE_DB_H
#define ALLIANCE_DB_H

#include <stdbool.h>

#include "base/log.h"

#include <libpq-fe.h>

struct event_base;
struct db_pool;
struct db_conn;
struct db_query;

struct db_settings {
	/* libpq URL or key=value string.  Use a socket path or an IP address: PQconnectStart
	 * resolves host names synchronously. */
	const char *url;
	int pool_size;       /* connections for queries, >= 1 */
	int connect_timeout; /* seconds for one connection attempt; <= 0 = no limit */
	int queue_timeout_ms; /* how long a request may wait for a free connection; <= 0 = no limit */
	int max_queue;        /* waiting requests beyond this are refused (NULL); 0 = no queue */
	const struct logger *log; /* not owned; must outlive the pool */
	/* > 0: statement_timeout of every query connection (ms), set when it connects, so a
	 * statement cannot outlive the request that ran it; 0 = the server's default. */
	int statement_timeout_ms;
};

struct db_stats {
	int size;                      /* pool_size */
	int connected;                 /* ready: idle + busy */
	int idle;                      /* ready and free */
	int busy;                      /* running a statement or leased */
	int connecting;                /* attempt in progress */
	int queued;                    /* requests waiting for a connection */
	unsigned long long reconnects; /* connections re-established after the first time */
	unsigned long long queries;    /* statements sent */
	unsigned long long errors;     /* callbacks with a status other than DB_OK */
	bool listen_up;                /* the LISTEN connection is up and every channel listened;
				 * false while no channel is registered */
};

/* Copies the settings (and the url).  NULL on bad settings or out of memory. */
struct db_pool *db_pool_new(struct event_base *base, const struct db_settings *s);
/* Begins connecting; 0, or -1 if the url does not parse (logged).  Never blocks. */
int db_pool_start(struct db_pool *pool);
/* Fails everything pending with DB_UNAVAILABLE first, then closes and frees.  NULL is a no-op. */
void db_pool_free(struct db_pool *pool);
/* At least one query connection is ready. */
bool db_pool_up(const struct db_pool *pool);
void db_pool_stats(const struct db_pool *pool, struct db_stats *out);

/*
 * Registers cb for NOTIFYs on `channel` (1..63 bytes); the channel is LISTENed on the
 * dedicated connection now and again after every reconnect.  cb(arg, channel, payload) per
 * notification; and cb(arg, channel, NULL) each time the LISTEN is (re)established,
 * including the first time: notifications sent while it was down are lost, so a NULL payload
 * means "reload everything".  arg must outlive the pool.  0, or -1 on a bad channel / no memory.
 */
typedef void (*db_notify_cb)(void *arg, const char *channel, const char *payload);
int db_pool_listen(struct db_pool *pool, const char *channel, db_notify_cb cb, void *arg);

enum db_status {
	DB_OK,          /* res: PGRES_COMMAND_OK or PGRES_TUPLES_OK */
	DB_SQL_ERROR,   /* the statement failed; the connection is fine */
	DB_UNAVAILABLE, /* connection lost or pool shutting down: answer 503 */
	DB_TIMEOUT,     /* waited queue_timeout_ms for a free connection */
};

/* res is valid only during the callback (the pool PQclear()s it after); on DB_SQL_ERROR res
 * is the failed result (read SQLSTATE with PQresultErrorField); on DB_UNAVAILABLE/DB_TIMEOUT
 * res is NULL. */
typedef void (*db_result_cb)(void *arg, enum db_status st, const PGresult *res);

/* One statement on any free connection (autocommit), parameters as text ($1...).  If no
 * connection is up: returns NULL at once (caller answers 503).  If all are busy: queued
 * (bounded by max_queue; beyond it NULL), failing with DB_TIMEOUT after queue_timeout_ms.
 * The returned handle can be cancelled (the callback then never runs; if already sent, the
 * result is discarded). */
struct db_query *db_query(struct db_pool *pool, const char *sql, int nparams,
    const char *const *values, db_result_cb cb, void *arg);
/* NULL is a no-op.  Only before the callback has started. */
void db_query_cancel(struct db_query *q);

/* Transactions: lease one connection, run statements on it in order, release. */
typedef void (*db_lease_cb)(void *arg, struct db_conn *conn /* NULL if unavailable/timeout */);
/* NULL at once when no connection is up or the queue is full; otherwise cb runs later with a
 * connection (or NULL), unless the handle is cancelled first. */
struct db_query *db_acquire(struct db_pool *pool, db_lease_cb cb, void *arg);
/* 0 sent (cb will run), -1 connection broken or a statement still running (cb will not run;
 * release the lease). */
int db_conn_query(struct db_conn *conn, const char *sql, int nparams, const char *const *values,
    db_result_cb cb, void *arg);
/* Ends a lease.  If a transaction is still open the pool sends ROLLBACK before reusing the
 * connection; a broken one is reconnected.  A statement still running is discarded (its
 * callback does not run).  NULL is a no-op. */
void db_release(struct db_conn *conn);

#endif
