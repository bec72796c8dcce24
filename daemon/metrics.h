/*
 * metrics.h - request counters and latency histograms per route, rendered
 * in the Prometheus text format (version 0.0.4).
 *
 * Route index -1 (no route matched) is counted under route="unmatched".
 */
#ifndef ALLIANCE_METRICS_H
#define ALLIANCE_METRICS_H

struct evbuffer;
struct metrics;

/* Sized for the route table; NULL on allocation failure.  Caller frees. */
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

void metrics_observe(struct metrics *m, int route_index, int status, double seconds);

/* Appends the HTTP families (requests_total, request_duration_seconds). */
int metrics_render_http(const struct metrics *m, struct evbuffer *out);

/* Appends "# HELP/# TYPE" and one sample of a gauge or counter. */
int metrics_render_one(struct evbuffer *out, const char *name, const char *type,
		       const char *help, double value);

#endif
