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

#include "store/catalog_sync.h"
#include "daemon.h"
#include "store/db.h"
#include "metrics.h"
#include "store/migrate.h"
#include "http/router.h"
#include "api/routes_all.h"
#include "http/server.h"

void
route_healthz(struct request *r)
{
	request_reply_json(r, 200, json_pack("{s:s, s:f}", "status", "ok",
	    "uptime_seconds", daemon_uptime(r->d)));
}

/* Ready = the database answers, its schema is current, and the matching
 * catalog has been loaded once (before that, matching answers 503). */
static void
ready_reply(struct request *r, bool up, int version, const char *why)
{
	int expected = migrate_latest_version();
	bool catalog = catalog_sync_ready(r->d->catalog);
	bool ready = up && version == expected && catalog;
	json_t *db = json_pack("{s:b, s:i, s:i}", "up", up, "schema_version", version,
	    "expected_version", expected);
	unsigned therapists;
	unsigned long long full, single;

	if (why != NULL)
		json_object_set_new(db, "detail", json_string(why));
	else if (up && version < expected)
		json_object_set_new(db, "detail",
		    json_string("migrations are behind: run allianced --migrate"));
	catalog_sync_stats(r->d->catalog, &therapists, &full, &single);
	if (!ready)
		request_header(r, "Retry-After", "1");
	request_reply_json(r, ready ? 200 : 503, json_pack("{s:s, s:o, s:{s:b, s:i}}",
	    "status", ready ? "ready" : "not_ready", "database", db,
	    "catalog", "ready", catalog, "therapists", (int)therapists));
}

static void
ready_result(void *arg, enum db_status st, const PGresult *res)
{
	struct request *r = arg;

	r->pending = NULL;
	switch (st) {
	case DB_OK:
		ready_reply(r, true, atoi(PQgetvalue(res, 0, 0)), NULL);
		break;
	case DB_SQL_ERROR:
		/* 42P01: no schema_migrations table yet = nothing migrated. */
		ready_reply(r, true, 0, strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE) ?
		    PQresultErrorField(res, PG_DIAG_SQLSTATE) : "", "42P01") == 0 ?
		    "the schema is not installed: run allianced --migrate" :
		    "the schema version could not be read");
		break;
	case DB_TIMEOUT:
		ready_reply(r, false, 0, "the database did not answer in time");
		break;
	case DB_UNAVAILABLE:
		ready_reply(r, false, 0, "the database is unreachable");
		break;
	}
}

void
route_readyz(struct request *r)
{
	static const char sql[] = "SELECT coalesce(max(version), 0) FROM schema_migrations";

	if (!db_pool_up(r->d->db)) {
		ready_reply(r, false, 0, "the database is unreachable");
		return;
	}
	r->pending = db_query(r->d->db, sql, 0, NULL, ready_result, r);
	if (r->pending == NULL)
		ready_reply(r, false, 0, "the database is unreachable");
}

void
route_metrics(struct request *r)
{
	struct evbuffer *out = evbuffer_new();
	struct db_stats st;
	unsigned therapists;
	unsigned long long full_loads, reloads;
	size_t len;

	if (out == NULL) {
		request_problem(r, 500, "out of memory", NULL);
		return;
	}
	db_pool_stats(r->d->db, &st);
	metrics_render_http(r->d->metrics, out);
	metrics_render_one(out, "alliance_uptime_seconds", "gauge",
	    "Seconds since the daemon started.", daemon_uptime(r->d));
	metrics_render_one(out, "alliance_http_connections", "gauge",
	    "Open client connections.", server_connections(r->d->server));
	metrics_render_one(out, "alliance_http_requests_in_flight", "gauge",
	    "Requests being handled.", server_inflight(r->d->server));
	metrics_render_one(out, "alliance_db_pool_size", "gauge",
	    "Configured database connections.", st.size);
	metrics_render_one(out, "alliance_db_pool_connected", "gauge",
	    "Database connections ready for queries.", st.connected);
	metrics_render_one(out, "alliance_db_pool_idle", "gauge",
	    "Database connections idle.", st.idle);
	metrics_render_one(out, "alliance_db_pool_busy", "gauge",
	    "Database connections running a query.", st.busy);
	metrics_render_one(out, "alliance_db_pool_connecting", "gauge",
	    "Database connections being (re)established.", st.connecting);
	metrics_render_one(out, "alliance_db_pool_queued", "gauge",
	    "Queries waiting for a free connection.", st.queued);
	metrics_render_one(out, "alliance_db_reconnects_total", "counter",
	    "Database reconnections since start.", (double)st.reconnects);
	metrics_render_one(out, "alliance_db_queries_total", "counter",
	    "Database queries sent.", (double)st.queries);
	metrics_render_one(out, "alliance_db_errors_total", "counter",
	    "Database queries that failed.", (double)st.errors);
	metrics_render_one(out, "alliance_db_listen_up", "gauge",
	    "1 when the LISTEN connection for catalog changes is up.", st.listen_up);
	catalog_sync_stats(r->d->catalog, &therapists, &full_loads, &reloads);
	metrics_render_one(out, "alliance_catalog_therapists", "gauge",
	    "Therapists in the in-memory matching catalog.", therapists);
	metrics_render_one(out, "alliance_catalog_ready", "gauge",
	    "1 once the catalog has been loaded in full.", catalog_sync_ready(r->d->catalog));
	metrics_render_one(out, "alliance_catalog_full_loads_total", "counter",
	    "Full catalog loads (start, reconnect, vocabulary change).", (double)full_loads);
	metrics_render_one(out, "alliance_catalog_reloads_total", "counter",
	    "Single-therapist catalog reloads (NOTIFY or local write).", (double)reloads);
	len = evbuffer_get_length(out);
	request_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8",
	    (const char *)evbuffer_pullup(out, -1), len);
	evbuffer_free(out);
}
