/*
 * db_cancel.h - cancels running statements on the server without blocking the loop.
 *
 * libpq 15 has only a blocking cancel (PQcancel: connect, send the key, wait for the server
 * to close) and does not expose the backend's secret key, so the cancel protocol cannot be
 * spoken on the loop by hand either.  One helper thread therefore runs PQcancel for the
 * requests queued here and reports each one back on the loop (through a pipe; libevent is
 * not made thread-aware for this).  PQcancel returns only after the server has signalled the
 * backend, so once `done` runs, the cancel can no longer hit a later statement on that
 * connection: the pool keeps the connection out of use until then.
 *
 * Ownership: the creator owns the canceller (db_cancel_new ... db_cancel_free); a submitted
 * PGcancel belongs to the canceller.  `done` runs on the loop only, never inside a call here.
 */
#ifndef ALLIANCE_DB_CANCEL_H
#define ALLIANCE_DB_CANCEL_H

#include <libpq-fe.h>

struct event_base;
struct db_cancel;

/* done(arg, id, gen) on the loop once the cancel for (id, gen) was tried (sent or failed). */
typedef void (*db_cancel_done_cb)(void *arg, int id, unsigned gen);

/* Starts the helper thread.  NULL on failure (no thread, no pipe, no memory). */
struct db_cancel *db_cancel_new(struct event_base *base, db_cancel_done_cb done, void *arg);
/* Queues a cancel; takes pc.  0, or -1 when the queue is full (pc freed, done will not run). */
int db_cancel_submit(struct db_cancel *dc, PGcancel *pc, int id, unsigned gen);
/* Stops the thread (waits for a PQcancel in progress), drops what is queued.  NULL: no-op. */
void db_cancel_free(struct db_cancel *dc);

#endif
