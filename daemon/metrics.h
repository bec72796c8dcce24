/*
 * metrics.h - request counters and latency histograms per route, rendered
 * in the Prometheus text format (version 0.0.4).
 *
 * Route index -1 (no route matched) is counted under route="unmatched".
 */
#ifndef ALLIANCE_METRICS_H
#define ALLIANCE_METRICS_H

struct catalog_sync;
struct db_pool;
struct evbuffer;
struct loop_lag;
struct metrics;
struct router;
struct server;

/* What /metrics reports beside the per-route counters (all borrowed). */
struct metrics_sources {
	double uptime; /* seconds */
	const struct server *server;
	const struct db_pool *db;
	const struct catalog_sync *catalog;
	const struct loop_lag *lag; /* may be NULL */
};

/* Sized for the router's routes (labels borrowed from it: the router must
 * outlive the metrics); NULL on allocation failure.  Caller frees. */
struct metrics *metrics_new(const struct router *rt);
void metrics_free(struct metrics *m);

/* router_settings.observe takes this through a wrapper (void *arg). */
void metrics_observe(struct metrics *m, int route_index, int status, double seconds);

/* Appends every family: HTTP, database pool, catalog.  0 or -1. */
int metrics_render(const struct metrics *m, const struct metrics_sources *src,
    struct evbuffer *out);

#endif
