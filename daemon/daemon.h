/*
 * daemon.h - the one daemon context.  Everything mutable the daemon has
 * hangs off this struct; nothing lives in globals.
 */
#ifndef ALLIANCE_DAEMON_H
#define ALLIANCE_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "api/api.h"
#include "base/log.h"
#include "engine/params.h"
#include "sdnotify.h"

struct event_base;
struct event;
struct config;
struct server;
struct router;
struct db_pool;
struct metrics;
struct catalog_sync;
struct token_cache;
struct auth;

/* The top of the house: it owns every object and hands each lower layer
 * what it needs at creation (settings structs, callbacks); nothing below
 * daemon/ includes this header. */
struct daemon {
	struct event_base *base; /* owned */
	char *config_path;       /* owned; NULL = built-in defaults */
	struct config *cfg;      /* owned; replaced whole on SIGHUP */
	struct logger log;
	struct sdnotify notify;
	struct server *server;        /* owned */
	struct router *router;        /* owned */
	struct api api;               /* the routes' context (r->app) */
	struct db_pool *db;           /* owned */
	struct metrics *metrics;      /* owned */
	struct loop_lag *lag;         /* owned; the loop-lag histogram of /metrics */
	struct catalog_sync *catalog; /* owned; the engine catalog and its vocabulary */
	struct token_cache *tokens;   /* owned; the live API tokens */
	struct events_feed *events;   /* owned; wakes the events long polls */
	struct webhook **webhooks;    /* owned, nwebhooks of them (config's webhooks[]) */
	size_t nwebhooks;
	struct webhook_ops webhook_ops; /* api.webhooks */
	struct auth *auth;              /* owned; tokens, peer credentials, rate limits */
	struct engine_params params;    /* from cfg; replaced on SIGHUP */
	struct event *sig_term, *sig_int, *sig_hup; /* owned */
	struct event *watchdog;                     /* owned; NULL without WATCHDOG_USEC */
	struct event *drain_timer;                  /* owned; bounds a graceful stop */
	double started;                             /* clock_now() at start */
	time_t started_wall;                        /* prefix of request ids */
	bool stopping;
	int exit_code;
};

#endif
