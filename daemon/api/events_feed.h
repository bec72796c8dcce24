/*
 * events_feed.h - wakes the long polls of GET /v1/events when an event
 * commits (README "Events").
 *
 * The outbox triggers (sql/004_events.sql) NOTIFY 'alliance_events' with
 * each new event's id, delivered at COMMIT; the feed LISTENs on the pool's
 * dedicated connection and calls every parked waiter.  A waiter is parked
 * only between its statements: the generation counter tells a waiter whose
 * statement was in flight during a NOTIFY to read again instead of parking.
 *
 * Ownership: the daemon owns the feed and frees it after the router (no
 * request is parked then); a waiter is embedded in its request's state and
 * unparks itself from state_free.
 */
#ifndef ALLIANCE_EVENTS_FEED_H
#define ALLIANCE_EVENTS_FEED_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/queue.h>

#include "base/compiler.h"

struct db_pool;

struct events_waiter {
	TAILQ_ENTRY(events_waiter) link;
	bool parked;
	void (*wake)(struct events_waiter *w); /* called unparked */
};

struct events_feed;

/* NULL out of memory; db is borrowed and must outlive the feed. */
struct events_feed *events_feed_new(struct db_pool *db);
/* LISTENs; 0 or -1. */
MUSTCHECK int events_feed_start(struct events_feed *f);
void events_feed_free(struct events_feed *f);

/* Bumped by every notification (and every re-LISTEN). */
uint64_t events_feed_generation(const struct events_feed *f);
/* Parks w until the next notification (w->wake then runs, w unparked). */
void events_feed_park(struct events_feed *f, struct events_waiter *w);
/* Unparks w if parked (no wake). */
void events_feed_unpark(struct events_feed *f, struct events_waiter *w);
/* The daemon is stopping: every parked waiter is woken (to answer what it
 * has) and events_feed_stopping() tells the others not to park. */
void events_feed_stop(struct events_feed *f);
bool events_feed_stopping(const struct events_feed *f);
/* Events created since start, as NOTIFYs seen (for /metrics). */
uint64_t events_feed_seen(const struct events_feed *f);

#endif
