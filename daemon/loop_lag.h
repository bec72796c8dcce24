/*
 * loop_lag.h - how late the event loop runs a periodic timer: the time a
 * callback (a large result applied, a long computation) kept every request
 * waiting.  Rendered as the histogram allianced_event_loop_lag_seconds.
 *
 * Ownership: the daemon owns the struct loop_lag (loop_lag_new ...
 * loop_lag_free); the event base is borrowed and must outlive it.
 */
#ifndef ALLIANCE_LOOP_LAG_H
#define ALLIANCE_LOOP_LAG_H

struct event_base;
struct evbuffer;
struct loop_lag;

/* A timer every interval_ms on base.  NULL on allocation failure. */
struct loop_lag *loop_lag_new(struct event_base *base, int interval_ms);
void loop_lag_free(struct loop_lag *l);

/* The largest lag seen since start, in seconds. */
double loop_lag_max(const struct loop_lag *l);

/* Appends the histogram (and the largest lag as a gauge).  0 or -1. */
int loop_lag_render(const struct loop_lag *l, struct evbuffer *out);

#endif
