/*
 * events_feed.c - NOTIFY 'alliance_events' wakes the parked long polls
 * (see events_feed.h).
 */
#include <stdlib.h>

#include "api/events_feed.h"
#include "store/db.h"

#define CHANNEL "alliance_events"

TAILQ_HEAD(waiter_list, events_waiter);

struct events_feed {
	struct db_pool *db;
	struct waiter_list parked;
	uint64_t generation;
	uint64_t seen;
	bool stopping; /* the daemon is stopping: nobody parks any more */
};

struct events_feed *
events_feed_new(struct db_pool *db)
{
	struct events_feed *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->db = db;
	TAILQ_INIT(&f->parked);
	return f;
}

static void
wake_all(struct events_feed *f)
{
	struct waiter_list woken;
	struct events_waiter *w;

	f->generation++;
	/* Wake from a private list: a woken waiter may park again at once
	 * (its statement is asynchronous, but be safe about reentry). */
	TAILQ_INIT(&woken);
	TAILQ_CONCAT(&woken, &f->parked, link);
	while ((w = TAILQ_FIRST(&woken)) != NULL) {
		TAILQ_REMOVE(&woken, w, link);
		w->parked = false;
		w->wake(w);
	}
}

/* A payload is one new event; NULL is a (re)established LISTEN, when
 * notifications may have been lost: every waiter reads again either way. */
static void
notify_cb(void *arg, const char *channel, const char *payload)
{
	struct events_feed *f = arg;

	(void)channel;
	if (payload != NULL)
		f->seen++;
	wake_all(f);
}

void
events_feed_stop(struct events_feed *f)
{
	if (f == NULL)
		return;
	f->stopping = true;
	wake_all(f);
}

bool
events_feed_stopping(const struct events_feed *f)
{
	return f->stopping;
}

int
events_feed_start(struct events_feed *f)
{
	return db_pool_listen(f->db, CHANNEL, notify_cb, f);
}

void
events_feed_free(struct events_feed *f)
{
	free(f);
}

uint64_t
events_feed_generation(const struct events_feed *f)
{
	return f->generation;
}

uint64_t
events_feed_seen(const struct events_feed *f)
{
	return f->seen;
}

void
events_feed_park(struct events_feed *f, struct events_waiter *w)
{
	if (w->parked)
		return;
	TAILQ_INSERT_TAIL(&f->parked, w, link);
	w->parked = true;
}

void
events_feed_unpark(struct events_feed *f, struct events_waiter *w)
{
	if (!w->parked)
		return;
	TAILQ_REMOVE(&f->parked, w, link);
	w->parked = false;
}
