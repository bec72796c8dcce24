/*
 * routes_health.c - liveness, readiness and metrics.
 *
 * /healthz answers as long as the loop runs.  /readyz asks the database for
 * real (a live query, not a cached flag) whether it is reachable and whether
 * its schema is the one this binary was built for.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <libpq-fe.h>

#include "api/api.h"
#include "api/request_db.h"
#include "api/routes.h"
#include "base/clock.h"
#include "store/catalog_sync.h"
#include "store/migrate.h"
#include "store/token_cache.h"

static void
route_healthz(struct request *r)
{
	request_reply_json(r, 200,
	    json_pack("{s:s, s:f}", "status", "ok", "uptime_seconds",
	        clock_now() - request_api(r)->started));
}

/* How many therapists, and which the catalog could not hold: matching misses
 * them, so they are an error to report, not a log line to find.  Readiness
 * stays 200 for them (one bad profile must not take every match away). */
#define UNHELD_LISTED 20

static json_t *
catalog_json(const struct catalog_sync *cs, bool ready, unsigned therapists)
{
	const uint32_t *ids;
	size_t n = catalog_sync_unheld(cs, &ids), i;
	json_t *list = json_array();

	for (i = 0; i < n && i < UNHELD_LISTED; i++)
		json_array_append_new(list, json_integer(ids[i]));
	return json_pack("{s:b, s:i, s:i, s:o}", "ready", ready, "therapists", (int)therapists,
	    "not_loaded", (int)n, "not_loaded_ids", list);
}

/* Ready = the database answers, its schema is current, and the matching
 * catalog has been loaded once (before that, matching answers 503). */
static void
ready_reply(struct request *r, bool up, int version, const char *why)
{
	int expected = migrate_latest_version();
	const struct catalog_sync *cs = request_api(r)->catalog;
	bool catalog = catalog_sync_ready(cs);
	/* Tokens too: before their first load every token would be refused. */
	bool tokens = request_api(r)->tokens == NULL || token_cache_ready(request_api(r)->tokens);
	bool ready = up && version == expected && catalog && tokens;
	json_t *db = json_pack("{s:b, s:i, s:i}", "up", up, "schema_version", version,
	    "expected_version", expected);
	unsigned therapists;
	unsigned long long full, single;

	if (why != NULL)
		json_object_set_new(db, "detail", json_string(why));
	else if (up && version < expected)
		json_object_set_new(db, "detail",
		    json_string("migrations are behind: run allianced --migrate"));
	catalog_sync_stats(cs, &therapists, &full, &single);
	if (!ready)
		request_header(r, "Retry-After", "1");
	request_reply_json(r, ready ? 200 : 503,
	    json_pack("{s:s, s:o, s:o}", "status", ready ? "ready" : "not_ready", "database", db,
	        "catalog", catalog_json(cs, catalog, therapists)));
}

static void
ready_cb(struct request *r, const PGresult *res)
{
	ready_reply(r, true, atoi(PQgetvalue(res, 0, 0)), NULL);
}

/* Readiness answers every failure itself: not ready, and why. */
static bool
ready_failed_cb(struct request *r, enum db_status st, const PGresult *res)
{
	switch (st) {
	case DB_OK: break;
	case DB_SQL_ERROR:
		/* 42P01: no schema_migrations table yet = nothing migrated. */
		ready_reply(r, true, 0,
		    strcmp(db_sqlstate(res), "42P01") == 0
		        ? "the schema is not installed: run allianced --migrate"
		        : "the schema version could not be read");
		break;
	case DB_TIMEOUT: ready_reply(r, false, 0, "the database did not answer in time"); break;
	case DB_UNAVAILABLE: ready_reply(r, false, 0, "the database is unreachable"); break;
	}
	return true;
}

static const struct request_db_call ready_call = { "readiness", NULL, ready_failed_cb };

static void
route_readyz(struct request *r)
{
	static const char sql[] = "SELECT coalesce(max(version), 0) FROM schema_migrations";

	if (!db_pool_up(request_api(r)->db)) {
		ready_reply(r, false, 0, "the database is unreachable");
		return;
	}
	request_db_query(r, &ready_call, sql, 0, NULL, ready_cb);
}

/* The counters live in the process wiring (above the routes): it renders. */
static void
route_metrics(struct request *r)
{
	const struct api *api = request_api(r);
	struct evbuffer *out = evbuffer_new();
	size_t len;

	if (out == NULL || api->render_metrics(api->render_arg, out) != 0) {
		if (out != NULL)
			evbuffer_free(out);
		request_problem(r, 500, "out of memory", NULL);
		return;
	}
	len = evbuffer_get_length(out);
	request_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8",
	    (const char *)evbuffer_pullup(out, -1), len);
	evbuffer_free(out);
}

const struct route routes_health[] = {
	{ "GET", "/healthz", SCOPE_NONE, 0, route_healthz },
	{ "GET", "/readyz", SCOPE_NONE, 0, route_readyz },
	{ "GET", "/metrics", SCOPE_NONE, 0, route_metrics },
	ROUTE_END,
};
