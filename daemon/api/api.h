/*
 * api.h - what the routes share: the application context every request
 * carries (r->app), set up by the daemon and handed to the router.
 *
 * Ownership: the daemon owns the struct api and everything it points to;
 * the routes only borrow.  The daemon updates the plain values (limits,
 * *params) on SIGHUP between requests.
 */
#ifndef ALLIANCE_API_H
#define ALLIANCE_API_H

#include "api/webhook_ops.h"
#include "http/router.h"

struct catalog_sync;
struct db_pool;
struct events_feed;
struct engine_params;
struct evbuffer;
struct logger;
struct token_cache;

struct api {
	struct db_pool *db;
	struct catalog_sync *catalog;
	struct token_cache *tokens;         /* the live API tokens (auth, readiness) */
	struct events_feed *events;         /* wakes GET /v1/events long polls */
	const struct webhook_ops *webhooks; /* ping, the default replay target */
	const struct engine_params *params; /* replaced in place on SIGHUP */
	const struct logger *log;
	int default_limit; /* engine.default_limit */
	int max_limit;     /* engine.max_limit */
	int max_sessions;  /* limits.max_sessions: highest session number (422 beyond) */
	double started;    /* clock_now() at start: uptime */
	/* GET /metrics: appends every family the process exports (the
	 * counters live in the process wiring, above the routes).  0 or -1. */
	int (*render_metrics)(void *arg, struct evbuffer *out);
	void *render_arg;
};

/* The context of a request (r->app). */
static inline struct api *
request_api(const struct request *r)
{
	return (struct api *)r->app;
}

/* The route tables, NULL-terminated (routes.c); router_settings.tables. */
extern const struct route *const api_route_tables[];

/* router_settings.available: the database pool has a connection up. */
bool api_available(void *app);

#endif
