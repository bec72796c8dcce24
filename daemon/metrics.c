/*
 * metrics.c - counters kept per route in plain arrays: the route table is
 * fixed at build time, so there is nothing to look up at request time.
 */
#include <stdint.h>
#include <stdlib.h>

#include <event2/buffer.h>

#include "http/router.h"
#include "http/server.h"
#include "loop_lag.h"
#include "metrics.h"
#include "store/catalog_sync.h"
#include "store/db.h"

static const double bucket_le[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10 };
#define NBUCKETS     (sizeof(bucket_le) / sizeof(bucket_le[0]))
#define MAX_STATUSES 16 /* distinct statuses tracked per route */

struct route_metrics {
	struct {
		int status;
		uint64_t count;
	} by_status[MAX_STATUSES];
	uint64_t buckets[NBUCKETS]; /* cumulative at render time, not here */
	uint64_t count;
	double sum;
};

struct metrics {
	const struct router *rt; /* borrowed: route labels */
	int nroutes;
	struct route_metrics *routes; /* nroutes + 1: the last is "unmatched" */
};

struct metrics *
metrics_new(const struct router *rt)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->rt = rt;
	m->nroutes = router_route_count(rt);
	m->routes = calloc((size_t)m->nroutes + 1, sizeof(*m->routes));
	if (m->routes == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	free(m->routes);
	free(m);
}

void
metrics_observe(struct metrics *m, int route_index, int status, double seconds)
{
	struct route_metrics *rm;
	size_t i;

	if (m == NULL)
		return;
	if (route_index < 0 || route_index >= m->nroutes)
		route_index = m->nroutes;
	rm = &m->routes[route_index];
	for (i = 0; i < MAX_STATUSES; i++) {
		if (rm->by_status[i].status == status || rm->by_status[i].status == 0) {
			rm->by_status[i].status = status;
			rm->by_status[i].count++;
			break;
		}
	}
	for (i = 0; i < NBUCKETS; i++) {
		if (seconds <= bucket_le[i]) {
			rm->buckets[i]++;
			break;
		}
	}
	rm->count++;
	rm->sum += seconds;
}

static void
labels(const struct metrics *m, int i, const char **method, const char **route)
{
	const struct route *e = router_route(m->rt, i);

	if (e == NULL) {
		*method = "any";
		*route = "unmatched";
	} else {
		*method = e->method;
		*route = e->path;
	}
}

static int
render_http(const struct metrics *m, struct evbuffer *out)
{
	const char *method, *route;
	int i;
	size_t s, b;

	evbuffer_add_printf(out,
	    "# HELP alliance_http_requests_total HTTP requests answered, by route and status.\n"
	    "# TYPE alliance_http_requests_total counter\n");
	for (i = 0; i <= m->nroutes; i++) {
		const struct route_metrics *rm = &m->routes[i];

		labels(m, i, &method, &route);
		for (s = 0; s < MAX_STATUSES && rm->by_status[s].status != 0; s++)
			evbuffer_add_printf(out,
			    "alliance_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %llu\n",
			    method, route, rm->by_status[s].status,
			    (unsigned long long)rm->by_status[s].count);
	}
	evbuffer_add_printf(out,
	    "# HELP alliance_http_request_duration_seconds Time from a request's arrival to its reply.\n"
	    "# TYPE alliance_http_request_duration_seconds histogram\n");
	for (i = 0; i <= m->nroutes; i++) {
		const struct route_metrics *rm = &m->routes[i];
		uint64_t cum = 0;

		if (rm->count == 0)
			continue;
		labels(m, i, &method, &route);
		for (b = 0; b < NBUCKETS; b++) {
			cum += rm->buckets[b];
			evbuffer_add_printf(out,
			    "alliance_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"%g\"} %llu\n",
			    method, route, bucket_le[b], (unsigned long long)cum);
		}
		evbuffer_add_printf(out,
		    "alliance_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"+Inf\"} %llu\n"
		    "alliance_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n"
		    "alliance_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %llu\n",
		    method, route, (unsigned long long)rm->count, method, route, rm->sum, method,
		    route, (unsigned long long)rm->count);
	}
	return 0;
}

static int
render_one(struct evbuffer *out, const char *name, const char *type, const char *help, double value)
{
	return evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name,
	           type, name, value) < 0
	    ? -1
	    : 0;
}

/* Answers evhttp wrote itself (HTML: request lines or headers it could not
 * parse), by status; 400 is always present so the family is. */
static int
render_libevent_errors(const struct server *s, struct evbuffer *out)
{
	int status, rc = 0;

	rc |= evbuffer_add_printf(out,
	          "# HELP alliance_http_libevent_errors_total Answers libevent wrote itself "
	          "(not problem+json), by status.\n"
	          "# TYPE alliance_http_libevent_errors_total counter\n") < 0;
	for (status = 100; status < 600; status++) {
		unsigned long n = server_libevent_errors(s, status);

		if (n > 0 || status == 400)
			rc |= evbuffer_add_printf(out,
			          "alliance_http_libevent_errors_total{status=\"%d\"} %lu\n",
			          status, n) < 0;
	}
	return rc ? -1 : 0;
}

int
metrics_render(const struct metrics *m, const struct metrics_sources *src, struct evbuffer *out)
{
	struct db_stats st;
	unsigned therapists;
	unsigned long long full_loads, reloads;
	int rc = 0;

	db_pool_stats(src->db, &st);
	catalog_sync_stats(src->catalog, &therapists, &full_loads, &reloads);
	rc |= render_http(m, out);
	rc |= render_one(out, "alliance_uptime_seconds", "gauge",
	    "Seconds since the daemon started.", src->uptime);
	rc |= render_one(out, "alliance_http_connections", "gauge", "Open client connections.",
	    server_connections(src->server));
	rc |= render_one(out, "alliance_http_requests_in_flight", "gauge",
	    "Requests being handled.", server_inflight(src->server));
	rc |= render_libevent_errors(src->server, out);
	rc |= render_one(out, "alliance_db_pool_size", "gauge", "Configured database connections.",
	    st.size);
	rc |= render_one(out, "alliance_db_pool_connected", "gauge",
	    "Database connections ready for queries.", st.connected);
	rc |= render_one(out, "alliance_db_pool_idle", "gauge", "Database connections idle.",
	    st.idle);
	rc |= render_one(out, "alliance_db_pool_busy", "gauge",
	    "Database connections running a query.", st.busy);
	rc |= render_one(out, "alliance_db_pool_connecting", "gauge",
	    "Database connections being (re)established.", st.connecting);
	rc |= render_one(out, "alliance_db_pool_queued", "gauge",
	    "Queries waiting for a free connection.", st.queued);
	rc |= render_one(out, "alliance_db_reconnects_total", "counter",
	    "Database reconnections since start.", (double)st.reconnects);
	rc |= render_one(out, "alliance_db_queries_total", "counter", "Database queries sent.",
	    (double)st.queries);
	rc |= render_one(out, "alliance_db_errors_total", "counter",
	    "Database queries that failed.", (double)st.errors);
	rc |= render_one(out, "alliance_db_listen_up", "gauge",
	    "1 when the LISTEN connection for catalog changes is up.", st.listen_up);
	rc |= render_one(out, "alliance_catalog_therapists", "gauge",
	    "Therapists in the in-memory matching catalog.", therapists);
	rc |= render_one(out, "alliance_catalog_therapists_not_loaded", "gauge",
	    "Therapists in the database the catalog could not hold (listed by /readyz).",
	    (double)catalog_sync_unheld(src->catalog, NULL));
	rc |= render_one(out, "alliance_catalog_ready", "gauge",
	    "1 once the catalog has been loaded in full.", catalog_sync_ready(src->catalog));
	rc |= render_one(out, "alliance_catalog_full_loads_total", "counter",
	    "Full catalog loads (start, reconnect, vocabulary change).", (double)full_loads);
	rc |= render_one(out, "alliance_catalog_reloads_total", "counter",
	    "Single-therapist catalog reloads (NOTIFY or local write).", (double)reloads);
	if (src->lag != NULL)
		rc |= loop_lag_render(src->lag, out);
	return rc != 0 ? -1 : 0;
}
