/*
 * metrics.c - counters kept per route in plain arrays: the route table is
 * fixed at build time, so there is nothing to look up at request time.
 */
#include <stdint.h>
#include <stdlib.h>

#include <event2/buffer.h>

#include "metrics.h"
#include "http/router.h"

static const double bucket_le[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};
#define NBUCKETS (sizeof(bucket_le) / sizeof(bucket_le[0]))
#define MAX_STATUSES 16		/* distinct statuses tracked per route */

struct route_metrics {
	struct {
		int status;
		uint64_t count;
	} by_status[MAX_STATUSES];
	uint64_t buckets[NBUCKETS];	/* cumulative at render time, not here */
	uint64_t count;
	double sum;
};

struct metrics {
	int nroutes;
	struct route_metrics *routes;	/* nroutes + 1: the last is "unmatched" */
};

struct metrics *
metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->nroutes = route_count;
	m->routes = calloc((size_t)route_count + 1, sizeof(*m->routes));
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
labels(int i, int nroutes, const char **method, const char **route)
{
	if (i == nroutes) {
		*method = "any";
		*route = "unmatched";
	} else {
		*method = route_table[i].method;
		*route = route_table[i].path;
	}
}

int
metrics_render_http(const struct metrics *m, struct evbuffer *out)
{
	const char *method, *route;
	int i;
	size_t s, b;

	evbuffer_add_printf(out,
	    "# HELP alliance_http_requests_total HTTP requests answered, by route and status.\n"
	    "# TYPE alliance_http_requests_total counter\n");
	for (i = 0; i <= m->nroutes; i++) {
		const struct route_metrics *rm = &m->routes[i];

		labels(i, m->nroutes, &method, &route);
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
		labels(i, m->nroutes, &method, &route);
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
		    method, route, (unsigned long long)rm->count,
		    method, route, rm->sum,
		    method, route, (unsigned long long)rm->count);
	}
	return 0;
}

int
metrics_render_one(struct evbuffer *out, const char *name, const char *type,
		   const char *help, double value)
{
	return evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n",
	    name, help, name, type, name, value) < 0 ? -1 : 0;
}
