/*
 * daemon.h - the one daemon context.  Everything mutable the daemon has
 * hangs off this struct; nothing lives in globals.
 */
#ifndef ALLIANCE_DAEMON_H
#define ALLIANCE_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/log.h"
#include "engine/params.h"
#include "sdnotify.h"

struct event_base;
struct event;
struct config;
struct server;
struct db_pool;
struct metrics;
struct catalog_sync;

struct daemon {
	struct event_base *base;	/* owned */
	char *config_path;		/* owned; NULL = built-in defaults */
	struct config *cfg;		/* owned; replaced whole on SIGHUP */
	struct logger log;
	struct sdnotify notify;
	struct server *server;		/* owned */
	struct db_pool *db;		/* owned */
	struct metrics *metrics;	/* owned */
	struct catalog_sync *catalog;	/* owned; the engine catalog and its vocabulary */
	struct engine_params params;	/* from cfg; replaced on SIGHUP */
	struct event *sig_term, *sig_int, *sig_hup;	/* owned */
	struct event *watchdog;		/* owned; NULL without WATCHDOG_USEC */
	struct event *drain_timer;	/* owned; bounds a graceful stop */
	struct timespec started;	/* CLOCK_MONOTONIC */
	uint64_t next_request_id;
	bool stopping;
	int exit_code;
};

/* Seconds since the daemon started (monotonic). */
double daemon_uptime(const struct daemon *d);
/* Monotonic now in seconds; the one clock the server reads. */
double daemon_now(void);

/* Called by the server when the last in-flight request of a draining daemon ends. */
void daemon_drained(struct daemon *d);

#endif
