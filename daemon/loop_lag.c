/* loop_lag.c - the event loop's lag, measured by a periodic timer (see loop_lag.h). */
#include <stdint.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "base/clock.h"
#include "loop_lag.h"

static const double lag_le[] = { 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 };
#define NLAG (sizeof(lag_le) / sizeof(lag_le[0]))

struct loop_lag {
	struct event *tick; /* owned */
	double interval;    /* seconds */
	double due;         /* when the timer should fire next */
	uint64_t buckets[NLAG], count;
	double sum, max;
};

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loop_lag *l = arg;
	double now = clock_now(), lag = now - l->due;
	size_t b;

	(void)fd;
	(void)what;
	if (lag < 0)
		lag = 0;
	for (b = 0; b < NLAG && lag > lag_le[b]; b++)
		;
	if (b < NLAG)
		l->buckets[b]++;
	l->count++;
	l->sum += lag;
	if (lag > l->max)
		l->max = lag;
	l->due = now + l->interval;
}

struct loop_lag *
loop_lag_new(struct event_base *base, int interval_ms)
{
	struct loop_lag *l = calloc(1, sizeof(*l));
	struct timeval tv = { interval_ms / 1000, (interval_ms % 1000) * 1000 };

	if (l == NULL)
		return NULL;
	l->interval = interval_ms / 1000.0;
	l->tick = event_new(base, -1, EV_PERSIST, tick_cb, l);
	if (l->tick == NULL || event_add(l->tick, &tv) != 0) {
		loop_lag_free(l);
		return NULL;
	}
	l->due = clock_now() + l->interval;
	return l;
}

void
loop_lag_free(struct loop_lag *l)
{
	if (l == NULL)
		return;
	if (l->tick != NULL)
		event_free(l->tick);
	free(l);
}

double
loop_lag_max(const struct loop_lag *l)
{
	return l->max;
}

int
loop_lag_render(const struct loop_lag *l, struct evbuffer *out)
{
	uint64_t cum = 0;
	size_t b;
	int rc = 0;

	rc |= evbuffer_add_printf(out,
	          "# HELP allianced_event_loop_lag_seconds How late the event loop ran a "
	          "periodic timer: the time every request waited on a callback.\n"
	          "# TYPE allianced_event_loop_lag_seconds histogram\n") < 0;
	for (b = 0; b < NLAG; b++) {
		cum += l->buckets[b];
		rc |= evbuffer_add_printf(out,
		          "allianced_event_loop_lag_seconds_bucket{le=\"%g\"} %llu\n", lag_le[b],
		          (unsigned long long)cum) < 0;
	}
	rc |= evbuffer_add_printf(out,
	          "allianced_event_loop_lag_seconds_bucket{le=\"+Inf\"} %llu\n"
	          "allianced_event_loop_lag_seconds_sum %.6f\n"
	          "allianced_event_loop_lag_seconds_count %llu\n"
	          "# HELP allianced_event_loop_lag_max_seconds The largest loop lag since start.\n"
	          "# TYPE allianced_event_loop_lag_max_seconds gauge\n"
	          "allianced_event_loop_lag_max_seconds %.6f\n",
	          (unsigned long long)l->count, l->sum, (unsigned long long)l->count, l->max) < 0;
	return rc ? -1 : 0;
}
