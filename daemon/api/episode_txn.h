/*
 * episode_txn.h - a write to an episode's feedback or attendance, with the
 * episode.status_changed event it causes, in one transaction (README
 * "Events").
 *
 * The alliance status is computed by the engine in C from the episode's rows,
 * so the event cannot come from a trigger.  The write runs on a leased
 * connection:
 *     BEGIN
 *     SELECT therapist_id FROM episodes WHERE id = $1 FOR UPDATE
 *     the route's statement (unchanged: it returns the episode's other rows)
 *     [SELECT alliance_event('episode.status_changed', ...)]  when it changed
 *     COMMIT, then the answer
 * The row lock serializes the writes of one episode, and the route's
 * statement, started after the lock was granted, gets a fresh READ COMMITTED
 * snapshot with every earlier write: "before" (the rows) and "after" (the
 * rows plus the new one) are exact.  A failure or a request that ends early
 * rolls back (the lease is released): no write without its event and no
 * event without its write.
 *
 * A route's state begins with a struct episode_txn (the callbacks find it as
 * r->state).
 */
#ifndef ALLIANCE_EPISODE_TXN_H
#define ALLIANCE_EPISODE_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "api/request_db.h"
#include "codec/json_writer.h"
#include "engine/engine.h"

struct catalog_sync;

struct episode_txn {
	const struct request_db_call *call;
	void (*statement)(struct request *r); /* sends the route's statement on r->lease */
	struct json_writer reply;             /* the answer, sent after COMMIT */
	struct json_writer event;             /* the event's data, when has_event */
	bool has_event;
	char reply_buf[4096], event_buf[1024];
	char episode[24], therapist[24];
	/* Optional: reloaded once committed (the records behind matching). */
	struct catalog_sync *refresh;
	uint32_t refresh_therapist;
};

/* Leases, begins, locks the episode ($1 = the path's id), then calls
 * txn->statement.  The request's answer comes later. */
void episode_txn_start(struct request *r);

/* From the route's statement callback: evaluates res's rows (from col) with
 * and without the extra feedback or attendance (session 0: none), writes the
 * alliance answer and, when the status changed, the event; then commits and
 * answers 200.  Answers 500 itself when the rows do not evaluate. */
void episode_txn_finish(struct request *r, const PGresult *res, int col,
    const struct feedback *extra_fb, uint32_t extra_session, enum attendance_status extra_status);

/* Commits what the statement wrote (an audit row of a replay) and answers
 * the evaluation of res without an event. */
void episode_txn_finish_quiet(struct request *r, const PGresult *res, int col);

void episode_txn_clear(struct episode_txn *t);

#endif
