/*
 * routes_events.c - GET /v1/events: the outbox in order, with a long poll
 * (README "Events").
 *
 * ?after=CURSOR (the last id seen, default 0) &limit=N (1..1000, default
 * 100) &wait=S (0..60 seconds, default 0).  Events with ids above the
 * cursor are answered at once; with none and wait > 0 the request parks on
 * the events feed until a NOTIFY (an event committed somewhere: any daemon
 * on the database) or until wait runs out, then answers the empty page.
 * Ids commit in order (sql/005_events.sql), so a cursor never skips one.
 *
 * GET /v1/events/failed lists the webhook's dead letters; POST
 * /v1/events/{id}/replay queues one event (any, dead or not) to be sent
 * again (sql/006_webhook_replays.sql).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "api/api.h"
#include "api/events_feed.h"
#include "api/request_db.h"
#include "api/routes.h"
#include "base/clock.h"
#include "http/problem.h"
#include "http/router.h"

#define EVENTS_WAIT_MAX    60
#define EVENTS_LIMIT_MAX   1000
#define EVENTS_LIMIT_DEF   100
#define EVENTS_FINAL_SLACK 10 /* seconds past wait for the last statement */

struct events_state {
	struct events_waiter waiter; /* first: the wake callback casts back */
	struct request *r;
	struct event *timer; /* owned; the end of wait */
	char after[24], limit[16];
	uint64_t generation; /* the feed's, when the statement was sent */
	double deadline;     /* clock_now() at which wait runs out */
};

static void
events_state_free(void *p)
{
	struct events_state *s = p;

	events_feed_unpark(request_api(s->r)->events, &s->waiter);
	if (s->timer != NULL)
		event_free(s->timer);
	free(s);
}

static void events_send(struct request *r);

/* Columns: 0 the page as JSON text, 1 how many events it holds. */
static void
events_cb(struct request *r, const PGresult *res)
{
	struct events_state *s = r->state;
	const char *page = PQgetvalue(res, 0, 0);
	struct timeval tv;
	double left;

	left = s->deadline - clock_now();
	/* A stopping daemon answers what it has: a parked poll would hold up
	 * the drain for its whole wait. */
	if (strcmp(PQgetvalue(res, 0, 1), "0") != 0 || left <= 0 ||
	    events_feed_stopping(request_api(r)->events)) {
		request_reply_text(r, 200, "application/json", page, strlen(page));
		return;
	}
	/* A NOTIFY came while the statement ran: its event may be past the
	 * statement's snapshot, so read again rather than park. */
	if (events_feed_generation(request_api(r)->events) != s->generation) {
		events_send(r);
		return;
	}
	tv.tv_sec = (time_t)left;
	tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6);
	if (event_add(s->timer, &tv) != 0) {
		request_problem(r, 500, "cannot wait for events", NULL);
		return;
	}
	events_feed_park(request_api(r)->events, &s->waiter);
}

static void
events_send(struct request *r)
{
	static const char sql[] =
	    "SELECT json_build_object('events', coalesce(json_agg(json_build_object("
	    "  'id', e.id, 'type', e.type, 'created_at', e.created_at, 'data', e.data)"
	    "  ORDER BY e.id), '[]'::json), 'next', coalesce(max(e.id), $1::bigint))::text,"
	    " count(*) FROM (SELECT * FROM events WHERE id > $1::bigint ORDER BY id"
	    "  LIMIT $2::integer) e";
	static const struct request_db_call call = { "events read", NULL, NULL };
	struct events_state *s = r->state;
	const char *values[2] = { s->after, s->limit };

	s->generation = events_feed_generation(request_api(r)->events);
	request_db_query(r, &call, sql, 2, values, events_cb);
}

/* An event committed: read from the cursor. */
static void
events_wake(struct events_waiter *w)
{
	struct events_state *s = (struct events_state *)w;

	event_del(s->timer);
	events_send(s->r);
}

/* wait ran out: one last read (an event may have come without a NOTIFY
 * reaching this daemon, e.g. across a reconnect), answered whatever it holds. */
static void
events_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct events_state *s = arg;

	(void)fd;
	(void)what;
	events_feed_unpark(request_api(s->r)->events, &s->waiter);
	s->deadline = 0;
	events_send(s->r);
}

static int
read_after(struct request *r, int64_t *out)
{
	const char *v = request_query(r, "after");
	char *end;
	long long n;

	*out = 0;
	if (v == NULL)
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < 0) {
		request_query_problem(r, "after", "must be an event id (a non-negative integer)");
		return -1;
	}
	*out = (int64_t)n;
	return 0;
}

static void
route_events(struct request *r)
{
	struct events_state *s;
	struct timeval tv;
	int64_t after;
	int wait, limit;

	if (read_after(r, &after) < 0 ||
	    request_query_int(r, "wait", 0, 0, EVENTS_WAIT_MAX, &wait) < 0 ||
	    request_query_int(r, "limit", EVENTS_LIMIT_DEF, 1, EVENTS_LIMIT_MAX, &limit) < 0)
		return;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		request_problem(r, 500, "out of memory", NULL);
		return;
	}
	s->r = r;
	s->waiter.wake = events_wake;
	r->state = s;
	r->state_free = events_state_free;
	s->timer = evtimer_new(event_get_base(&r->timer), events_timeout_cb, s);
	if (s->timer == NULL) {
		request_problem(r, 500, "out of memory", NULL);
		return;
	}
	snprintf(s->after, sizeof(s->after), "%" PRId64, after);
	snprintf(s->limit, sizeof(s->limit), "%d", limit);
	s->deadline = clock_now() + wait;
	/* The router's request timeout would end a long poll early: this
	 * request's own timer is pushed past its wait. */
	if (wait > 0) {
		tv.tv_sec = wait + EVENTS_FINAL_SLACK;
		tv.tv_usec = 0;
		evtimer_add(&r->timer, &tv);
	}
	events_send(r);
}

/* ------------------------------------------------------------------------ */
/* GET /v1/events/failed: the webhook's dead letters, newest first */

static void
failed_cb(struct request *r, const PGresult *res)
{
	const char *page = PQgetvalue(res, 0, 0);

	request_reply_text(r, 200, "application/json", page, strlen(page));
}

static void
route_events_failed(struct request *r)
{
	static const char sql[] =
	    "SELECT json_build_object('failed', coalesce(json_agg(json_build_object("
	    "  'webhook', d.webhook, 'event_id', d.event_id, 'type', e.type,"
	    "  'attempts', d.attempts, 'last_error', d.last_error, 'dead_at', d.dead_at)"
	    "  ORDER BY d.dead_at DESC, d.event_id DESC), '[]'::json))::text"
	    " FROM (SELECT * FROM webhook_dead ORDER BY dead_at DESC, event_id DESC"
	    "  LIMIT $1::integer) d JOIN events e ON e.id = d.event_id";
	static const struct request_db_call call = { "events failed", NULL, NULL };
	char limit[16];
	const char *values[1] = { limit };
	int n;

	if (request_query_int(r, "limit", EVENTS_LIMIT_DEF, 1, EVENTS_LIMIT_MAX, &n) < 0)
		return;
	snprintf(limit, sizeof(limit), "%d", n);
	request_db_query(r, &call, sql, 1, values, failed_cb);
}

/* ------------------------------------------------------------------------ */
/* POST /v1/events/{id}/replay: send one event again to a webhook */

/* Columns: 0 the event's type, 1 queued at (NULL: no such webhook). */
static void
replay_cb(struct request *r, const PGresult *res)
{
	const char *webhook = r->state;

	if (PQgetisnull(res, 0, 1)) {
		json_t *errs = json_array();

		problem_add_error(errs, "webhook",
		    "no webhook of that name has run on this database");
		request_problem(r, 422, "unknown webhook", errs);
		return;
	}
	log_info(request_log(r), "request id=%s event id=%lld replay queued for webhook %s by %s",
	    r->id, (long long)r->params[0], webhook, r->auth.actor);
	request_reply_json(r, 202,
	    json_pack("{s:I, s:s, s:s, s:s}", "event_id", (json_int_t)r->params[0], "type",
	        PQgetvalue(res, 0, 0), "webhook", webhook, "queued_at", PQgetvalue(res, 0, 1)));
}

/* The webhook named in the body, else this daemon's; NULL when answered. */
static const char *
replay_target(struct request *r)
{
	const json_t *v = r->body != NULL ? json_object_get(r->body, "webhook") : NULL;
	const char *name = request_api(r)->webhooks->default_name;
	const char *why = NULL;
	json_t *errs;

	if (v != NULL) {
		name = json_string_value(v);
		if (name == NULL || !route_name_valid(name))
			why = "must be a webhook name (1..63 of A-Z a-z 0-9 . _ -)";
	} else if (name[0] == '\0')
		why = "required: this daemon has no webhook, or several, to default to";
	if (why == NULL)
		return name;
	errs = json_array();
	problem_add_error(errs, "webhook", why);
	request_problem(r, 422, "invalid replay request", errs);
	return NULL;
}

static void
route_event_replay(struct request *r)
{
	/* Queued again while queued: due now, its attempts start over. */
	/* clang-format off */
	static const char sql[] =
	    "WITH wh AS (SELECT name FROM webhook_cursors WHERE name = $2),"
	    " q AS (INSERT INTO webhook_replays (webhook, event_id)"
	    "  SELECT wh.name, e.id FROM events e, wh WHERE e.id = $1::bigint"
	    "  ON CONFLICT (webhook, event_id) DO UPDATE SET requested_at = now(),"
	    "   next_attempt_at = now(), attempts = 0, failing_since = NULL, last_error = NULL"
	    "  RETURNING requested_at)"
	    " SELECT e.type, (SELECT requested_at FROM q),"
	    "  (SELECT pg_notify('alliance_webhooks', $2) FROM q)"
	    " FROM events e WHERE e.id = $1::bigint";
	/* clang-format on */
	static const struct request_db_call call = { "event replay", "event", NULL };
	const char *name = replay_target(r);
	char id[24];
	const char *values[2] = { id, NULL };
	char *copy;

	if (name == NULL)
		return;
	copy = request_state_new(r, strlen(name) + 1, NULL);
	if (copy == NULL)
		return;
	memcpy(copy, name, strlen(name) + 1);
	snprintf(id, sizeof(id), "%lld", (long long)r->params[0]);
	values[1] = copy;
	request_db_query(r, &call, sql, 2, values, replay_cb);
}

const struct route routes_events[] = {
	{ "GET", "/v1/events", SCOPE_INTAKE, ROUTE_NEEDS_DB, route_events },
	{ "GET", "/v1/events/failed", SCOPE_ADMIN, ROUTE_NEEDS_DB, route_events_failed },
	{ "POST", "/v1/events/{id}/replay", SCOPE_ADMIN, ROUTE_OPTIONAL_BODY | ROUTE_NEEDS_DB,
	    route_event_replay },
	ROUTE_END,
};
