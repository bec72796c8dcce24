/*
 * daemon.c - the daemon's life: start, signals, reload, graceful stop.
 *
 * SIGTERM/SIGINT: stop accepting, let in-flight requests finish (bounded by
 * limits.request_timeout), exit 0.  SIGHUP: load the file again; a bad file
 * is refused and the running configuration kept.  systemd hears about each
 * step through sd_notify.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "api/api.h"
#include "api/events_feed.h"
#include "api/audit.h"
#include "api/request_db.h"
#include "base/clock.h"
#include "config.h"
#include "daemon.h"
#include "daemon_run.h"
#include "engine/engine.h"
#include "engine_config.h"
#include "http/auth.h"
#include "http/router.h"
#include "http/server.h"
#include "loop_lag.h"
#include "metrics.h"
#include "store/catalog_sync.h"
#include "store/db.h"
#include "store/token_cache.h"
#include "webhook.h"

/* The loop-lag timer.  A stall shows as the lateness of the tick due in it,
 * so a tick every 10 ms sees every stall of 20 ms as at least 10 ms late
 * (at 50 ms, half of them were missed); 100 wakeups a second cost nothing. */
#define LOOP_LAG_INTERVAL_MS 10

/* The last reply is queued, not yet written: give the loop a moment to
 * flush it before leaving (replies while stopping say Connection: close). */
static void
exit_after_flush(struct daemon *d)
{
	struct timeval tv = { 0, 200000 };

	event_base_loopexit(d->base, &tv);
}

/* server_settings.on_drained: the last in-flight request of a stop ended. */
static void
drained_cb(void *arg)
{
	struct daemon *d = arg;

	log_info(&d->log, "drained: no request in flight; exiting");
	exit_after_flush(d);
}

static void
status_line(struct daemon *d, const char *what)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "STATUS=%s", what);
	sdnotify_send(&d->notify, msg);
}

static void
drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	log_warn(&d->log, "graceful stop timed out with %d request(s) in flight",
	    server_inflight(d->server));
	event_base_loopexit(d->base, NULL);
}

static void
begin_stop(struct daemon *d, const char *why)
{
	struct timeval tv;

	if (d->stopping) {
		log_warn(&d->log, "%s again: stopping now", why);
		event_base_loopexit(d->base, NULL);
		return;
	}
	d->stopping = true;
	catalog_sync_stop(d->catalog);
	events_feed_stop(d->events); /* long polls answer now, not after their wait */
	sdnotify_send(&d->notify, "STOPPING=1");
	log_info(&d->log, "%s: stopping; %d request(s) in flight", why, server_inflight(d->server));
	server_stop_accepting(d->server);
	if (server_inflight(d->server) == 0) {
		exit_after_flush(d);
		return;
	}
	tv.tv_sec = d->cfg->request_timeout + 1;
	tv.tv_usec = 0;
	d->drain_timer = evtimer_new(d->base, drain_timeout_cb, d);
	if (d->drain_timer == NULL || evtimer_add(d->drain_timer, &tv) != 0)
		event_base_loopexit(d->base, NULL);
}

static void
server_limits_of(const struct config *cfg, struct server_limits *lim)
{
	lim->max_body_bytes = cfg->max_body_bytes;
	lim->max_header_bytes = cfg->max_header_bytes;
	lim->idle_timeout = cfg->idle_timeout;
	lim->max_connections = cfg->max_connections;
	lim->request_read_timeout = cfg->request_read_timeout;
	lim->max_connections_per_peer = cfg->max_connections_per_peer;
	lim->unix_reserved_connections = cfg->unix_reserved_connections;
}

/* The reloadable limits of d->cfg, handed down to the layers that use them. */
static void
apply_limits(struct daemon *d)
{
	struct server_limits lim;

	server_limits_of(d->cfg, &lim);
	server_apply_limits(d->server, &lim);
	router_apply_limits(d->router, d->cfg->request_timeout, d->cfg->max_json_depth);
	auth_set_rate(d->auth, d->cfg->token_rate, d->cfg->token_burst);
	d->api.default_limit = d->cfg->engine_default_limit;
	d->api.max_limit = d->cfg->engine_max_limit;
	d->api.max_sessions = d->cfg->max_sessions;
}

/* router_settings.observe */
static void
observe_cb(void *arg, int route_index, int status, double seconds)
{
	struct daemon *d = arg;

	metrics_observe(d->metrics, route_index, status, seconds);
}

/* api.render_metrics */
/* Events (README "Events"): counted by this daemon since its start. */
static int
render_event_metrics(struct daemon *d, struct evbuffer *out)
{
	struct webhook_stats ws, one;

	/* Summed over the webhooks; the oldest undelivered event of any. */
	memset(&ws, 0, sizeof(ws));
	for (size_t i = 0; i < d->nwebhooks; i++) {
		webhook_stats(d->webhooks[i], &one);
		ws.delivered += one.delivered;
		ws.retried += one.retried;
		ws.dead += one.dead;
		if (one.undelivered_since > 0 &&
		    (ws.undelivered_since == 0 || one.undelivered_since < ws.undelivered_since))
			ws.undelivered_since = one.undelivered_since;
	}
	if (evbuffer_add_printf(out,
	        "# HELP alliance_events_notified_total Events committed (NOTIFYs seen).\n"
	        "# TYPE alliance_events_notified_total counter\n"
	        "alliance_events_notified_total %" PRIu64 "\n"
	        "# HELP alliance_webhook_delivered_total Events the webhook receiver accepted.\n"
	        "# TYPE alliance_webhook_delivered_total counter\n"
	        "alliance_webhook_delivered_total %" PRIu64 "\n"
	        "# HELP alliance_webhook_retried_total Failed webhook attempts (retried later).\n"
	        "# TYPE alliance_webhook_retried_total counter\n"
	        "alliance_webhook_retried_total %" PRIu64 "\n"
	        "# HELP alliance_webhook_dead_total Events dead-lettered past webhook.horizon.\n"
	        "# TYPE alliance_webhook_dead_total counter\n"
	        "alliance_webhook_dead_total %" PRIu64 "\n"
	        "# HELP alliance_webhook_oldest_undelivered_seconds Age of the oldest event not yet "
	        "delivered (0 none).\n"
	        "# TYPE alliance_webhook_oldest_undelivered_seconds gauge\n"
	        "alliance_webhook_oldest_undelivered_seconds %.3f\n",
	        events_feed_seen(d->events), ws.delivered, ws.retried, ws.dead,
	        ws.undelivered_since > 0 ? clock_now() - ws.undelivered_since : 0.0) < 0)
		return -1;
	return 0;
}

static int
render_metrics_cb(void *arg, struct evbuffer *out)
{
	struct daemon *d = arg;
	struct metrics_sources src;

	src.uptime = clock_now() - d->started;
	src.server = d->server;
	src.db = d->db;
	src.catalog = d->catalog;
	src.lag = d->lag;
	if (metrics_render(d->metrics, &src, out) != 0)
		return -1;
	return render_event_metrics(d, out);
}

/* The certificate and key files are re-read (a renewed certificate) for new
 * connections; their paths, like the rest of listen, need a restart. */
static int
reload_tls(struct daemon *d, char *err, size_t errlen)
{
	if (d->cfg->listen_tls_cert[0] == '\0')
		return 0;
	if (server_reload_tls(d->server, d->cfg->listen_tls_cert, d->cfg->listen_tls_key, err,
	        errlen) != 0)
		return -1;
	log_info(&d->log, "reload: TLS certificate re-read for new connections");
	return 0;
}

static void
reload(struct daemon *d)
{
	char err[512], changed[512];
	struct engine_params params;
	struct vocab *vocab = NULL;
	struct config *next;
	bool records_changed;
	int n;

	sdnotify_reloading(&d->notify);
	if (d->config_path == NULL) {
		log_warn(&d->log, "reload: no configuration file; nothing to do");
		sdnotify_send(&d->notify, "READY=1");
		return;
	}
	next = config_load(d->config_path, err, sizeof(err));
	if (next == NULL || engine_config_build(next, &params, &vocab, err, sizeof(err)) != 0) {
		log_error(&d->log, "reload refused, keeping the running configuration: %s", err);
		sdnotify_send(&d->notify, "READY=1\nSTATUS=reload refused: bad configuration");
		config_free(next);
		return;
	}
	if (reload_tls(d, err, sizeof(err)) != 0) {
		log_error(&d->log, "reload refused, keeping the running configuration: %s", err);
		sdnotify_send(&d->notify, "READY=1\nSTATUS=reload refused: bad TLS certificate");
		vocab_free(vocab);
		config_free(next);
		return;
	}
	n = config_restart_needed(d->cfg, next, changed, sizeof(changed));
	if (n > 0)
		log_warn(&d->log, "reload: %s changed but take effect only after a restart",
		    changed);
	config_keep_restart_keys(next, d->cfg);
	n = config_diff(d->cfg, next, changed, sizeof(changed));
	config_free(d->cfg);
	d->cfg = next;
	d->log.level = next->log_level;
	/* The catalog's outcome records are computed with ors_reliable_change at
	 * load time, and its tag bits follow the vocabulary: either change means
	 * a full reload. */
	records_changed = params.ors_reliable_change != d->params.ors_reliable_change;
	d->params = params;
	apply_limits(d);
	catalog_sync_set_records_refresh(d->catalog, next->engine_records_refresh);
	if (engine_vocab_equal(vocab, catalog_sync_vocab(d->catalog)) && !records_changed) {
		vocab_free(vocab);
	} else {
		log_info(&d->log,
		    "reload: the vocabulary or the outcome rule changed; "
		    "reloading the catalog");
		catalog_sync_reconfigure(d->catalog, vocab);
	}
	log_info(&d->log, "configuration reloaded from %s (%d key(s) changed%s%s)", d->config_path,
	    n, n > 0 ? ": " : "", n > 0 ? changed : "");
	sdnotify_send(&d->notify, "READY=1\nSTATUS=serving");
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	switch (sig) {
	case SIGHUP: reload(d); break;
	case SIGTERM: begin_stop(d, "SIGTERM"); break;
	case SIGINT: begin_stop(d, "SIGINT"); break;
	}
}

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	sdnotify_send(&d->notify, "WATCHDOG=1");
}

struct daemon *
daemon_new(const char *config_path, struct config *cfg)
{
	struct daemon *d = calloc(1, sizeof(*d));

	if (d == NULL) {
		config_free(cfg);
		return NULL;
	}
	d->cfg = cfg;
	d->config_path = config_path ? strdup(config_path) : NULL;
	d->started = clock_now();
	d->started_wall = time(NULL);
	logger_init(&d->log, cfg->log_level, stderr);
	sdnotify_init(&d->notify);
	return d;
}

static struct event *
add_signal(struct daemon *d, int sig)
{
	struct event *ev = evsignal_new(d->base, sig, signal_cb, d);

	if (ev != NULL && evsignal_add(ev, NULL) != 0) {
		event_free(ev);
		ev = NULL;
	}
	return ev;
}

/* auth_settings.lookup: the token cache of the store layer. */
static int
token_lookup_cb(void *arg, const unsigned char digest[AUTH_DIGEST_LEN], struct auth_token *out)
{
	struct daemon *d = arg;
	struct token_entry e;

	if (token_cache_lookup(d->tokens, digest, &e) != 1)
		return 0;
	memcpy(out->name, e.name, sizeof(out->name));
	out->scope = e.scope;
	out->expires = e.expires;
	return 1;
}

/* auth_settings.used */
static void
token_used_cb(void *arg, const char *name)
{
	struct daemon *d = arg;

	token_cache_used(d->tokens, name);
}

/* api.webhooks: the routes reach the webhook through these. */
static struct webhook_ping *
webhook_ping_cb(void *ctx, const char *name, webhook_ping_done_fn done, void *arg, int *unknown)
{
	struct daemon *d = ctx;

	for (size_t i = 0; i < d->nwebhooks; i++)
		if (strcmp(webhook_name(d->webhooks[i]), name) == 0) {
			*unknown = 0;
			return webhook_ping(d->webhooks[i], done, arg);
		}
	*unknown = 1;
	return NULL;
}

static void
webhook_cancel_cb(void *ctx, struct webhook_ping *p)
{
	(void)ctx;
	webhook_ping_cancel(p);
}

/* The HTTP layer and the routes, wired to the objects they borrow. */
static int
start_http(struct daemon *d)
{
	struct server_settings ss;
	struct router_settings rs;
	struct auth_settings as;

	memset(&ss, 0, sizeof(ss));
	ss.base = d->base;
	ss.log = &d->log;
	ss.listen_tcp = d->cfg->listen_tcp;
	ss.listen_unix = d->cfg->listen_unix;
	ss.listen_unix_mode = d->cfg->listen_unix_mode;
	ss.listen_unix_group = d->cfg->listen_unix_group;
	ss.tls_cert = d->cfg->listen_tls_cert;
	ss.tls_key = d->cfg->listen_tls_key;
	ss.allow_plaintext = d->cfg->listen_allow_plaintext;
	ss.allowed_hosts = d->cfg->listen_allowed_hosts;
	server_limits_of(d->cfg, &ss.limits);
	ss.on_drained = drained_cb;
	ss.drained_arg = d;
	d->server = server_new(&ss);
	if (d->server == NULL)
		return -1;

	memset(&as, 0, sizeof(as));
	as.lookup = token_lookup_cb;
	as.used = token_used_cb;
	as.arg = d;
	as.daemon_uid = geteuid();
	as.rate = d->cfg->token_rate;
	as.burst = d->cfg->token_burst;
	d->auth = auth_new(&as);
	if (d->auth == NULL)
		return -1;

	d->api.db = d->db;
	d->api.catalog = d->catalog;
	d->api.tokens = d->tokens;
	d->api.events = d->events;
	d->api.params = &d->params;
	d->api.log = &d->log;
	d->api.default_limit = d->cfg->engine_default_limit;
	d->api.max_limit = d->cfg->engine_max_limit;
	d->api.max_sessions = d->cfg->max_sessions;
	d->api.started = d->started;
	d->api.render_metrics = render_metrics_cb;
	d->api.render_arg = d;
	d->webhook_ops.ping = webhook_ping_cb;
	d->webhook_ops.cancel = webhook_cancel_cb;
	/* A replay without a name goes to the one webhook (the webhook's own
	 * copy of its name: it outlives SIGHUP's config); none or several: "". */
	d->webhook_ops.default_name = d->nwebhooks == 1 ? webhook_name(d->webhooks[0]) : "";
	d->webhook_ops.ctx = d;
	d->api.webhooks = &d->webhook_ops;

	memset(&rs, 0, sizeof(rs));
	rs.base = d->base;
	rs.log = &d->log;
	rs.server = d->server;
	rs.tables = api_route_tables;
	rs.request_timeout = d->cfg->request_timeout;
	rs.max_json_depth = d->cfg->max_json_depth;
	rs.id_epoch = (unsigned long long)d->started_wall;
	rs.app = &d->api;
	rs.available = api_available;
	rs.cancel = request_db_cancel;
	rs.release = request_db_release;
	rs.observe = observe_cb;
	rs.observe_arg = d;
	rs.auth = d->auth;
	rs.finished = audit_finished;
	d->router = router_new(&rs);
	if (d->router == NULL)
		return -1;
	d->metrics = metrics_new(d->router);
	if (d->metrics == NULL)
		return -1;
	d->lag = loop_lag_new(d->base, LOOP_LAG_INTERVAL_MS);
	if (d->lag == NULL)
		return -1;
	server_set_handler(d->server, router_dispatch, d->router);
	return 0;
}

static int
start_tokens(struct daemon *d)
{
	struct token_cache_settings ts;

	memset(&ts, 0, sizeof(ts));
	ts.base = d->base;
	ts.db = d->db;
	ts.log = &d->log;
	ts.flush_interval = 5;
	d->tokens = token_cache_new(&ts);
	return d->tokens == NULL ? -1 : token_cache_start(d->tokens);
}

/* database.statement_timeout_ms, or a little under the request timeout: the statement
 * stops (and its transaction rolls back) before the request is answered 503. */
static int
statement_timeout_ms(const struct config *cfg)
{
	int req = cfg->request_timeout * 1000, margin = req / 20;

	if (cfg->db_statement_timeout_ms > 0)
		return cfg->db_statement_timeout_ms;
	if (margin < 250)
		margin = 250;
	return req - margin > 100 ? req - margin : 100;
}

/* The webhooks of the config (none without webhook.url). */
static int
start_webhooks(struct daemon *d)
{
	struct webhook_settings ws;
	char err[512];

	if (d->cfg->nwebhooks == 0)
		return 0;
	d->webhooks = calloc(d->cfg->nwebhooks, sizeof(*d->webhooks));
	if (d->webhooks == NULL) {
		log_error(&d->log, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < d->cfg->nwebhooks; i++) {
		const struct config_webhook *c = &d->cfg->webhooks[i];

		memset(&ws, 0, sizeof(ws));
		ws.base = d->base;
		ws.db = d->db;
		ws.log = &d->log;
		ws.name = c->name;
		ws.url = c->url;
		ws.secret_file = c->secret_file;
		ws.events = c->events;
		ws.timeout = c->timeout;
		ws.retry_base_ms = c->retry_base_ms;
		ws.retry_max_ms = c->retry_max_ms;
		ws.horizon = c->horizon;
		d->webhooks[i] = webhook_new(&ws, err, sizeof(err));
		if (d->webhooks[i] == NULL) {
			log_error(&d->log, "webhook %s: %s", c->name, err);
			return -1;
		}
		d->nwebhooks++;
		if (webhook_start(d->webhooks[i]) != 0) {
			log_error(&d->log, "webhook %s: cannot start", c->name);
			return -1;
		}
	}
	return 0;
}

int
daemon_run(struct daemon *d)
{
	struct db_settings dbs;
	struct catalog_sync_settings cs;
	struct vocab *vocab = NULL;
	char err[512];

	/* Health data: a daemon running as root would turn any bug into the
	 * whole machine.  systemd runs it as a dynamic user. */
	if (geteuid() == 0 && !d->cfg->allow_root) {
		log_error(&d->log,
		    "refusing to run as root: run as an unprivileged user "
		    "(or set security.allow_root: true)");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	d->base = event_base_new();
	if (d->base == NULL) {
		log_error(&d->log, "cannot create the event loop");
		return 1;
	}
	memset(&dbs, 0, sizeof(dbs));
	dbs.url = d->cfg->db_url;
	dbs.pool_size = d->cfg->db_pool_size;
	dbs.connect_timeout = d->cfg->db_connect_timeout;
	dbs.queue_timeout_ms = d->cfg->request_timeout * 1000;
	dbs.max_queue = 4096;
	dbs.log = &d->log;
	dbs.statement_timeout_ms = statement_timeout_ms(d->cfg);
	d->db = db_pool_new(d->base, &dbs);
	if (d->db == NULL || db_pool_start(d->db) != 0) {
		log_error(&d->log, "cannot start the database pool");
		return 1;
	}
	if (engine_config_build(d->cfg, &d->params, &vocab, err, sizeof(err)) != 0) {
		log_error(&d->log, "%s", err);
		return 1;
	}
	memset(&cs, 0, sizeof(cs));
	cs.base = d->base;
	cs.db = d->db;
	cs.log = &d->log;
	cs.params = &d->params;
	cs.records_refresh = d->cfg->engine_records_refresh;
	d->catalog = catalog_sync_new(&cs, vocab);
	if (d->catalog == NULL || catalog_sync_start(d->catalog) != 0) {
		log_error(&d->log, "cannot start the catalog");
		return 1;
	}
	if (start_tokens(d) != 0) {
		log_error(&d->log, "cannot start the token cache");
		return 1;
	}
	d->events = events_feed_new(d->db);
	if (d->events == NULL || events_feed_start(d->events) != 0) {
		log_error(&d->log, "cannot start the events feed");
		return 1;
	}
	if (start_webhooks(d) != 0)
		return 1;
	if (start_http(d) != 0) {
		log_error(&d->log, "out of memory at start");
		return 1;
	}
	if (server_listen(d->server, err, sizeof(err)) != 0) {
		log_error(&d->log, "%s", err);
		return 1;
	}
	d->sig_term = add_signal(d, SIGTERM);
	d->sig_int = add_signal(d, SIGINT);
	d->sig_hup = add_signal(d, SIGHUP);
	if (d->sig_term == NULL || d->sig_int == NULL || d->sig_hup == NULL) {
		log_error(&d->log, "cannot install signal handlers");
		return 1;
	}
	if (d->notify.watchdog_usec > 0) {
		/* Half the interval, as systemd recommends. */
		struct timeval tv;
		uint64_t half = d->notify.watchdog_usec / 2;

		tv.tv_sec = (time_t)(half / 1000000);
		tv.tv_usec = (suseconds_t)(half % 1000000);
		d->watchdog = event_new(d->base, -1, EV_PERSIST, watchdog_cb, d);
		if (d->watchdog == NULL || event_add(d->watchdog, &tv) != 0) {
			log_error(&d->log, "cannot start the watchdog timer");
			return 1;
		}
	}
	log_info(&d->log, "allianced %s listening on tcp=%s unix=%s", ALLIANCE_VERSION,
	    d->cfg->listen_tcp[0] ? d->cfg->listen_tcp : "off",
	    d->cfg->listen_unix[0] ? d->cfg->listen_unix : "off");
	sdnotify_send(&d->notify, "READY=1");
	status_line(d, "serving");
	if (event_base_dispatch(d->base) < 0) {
		log_error(&d->log, "event loop failed");
		return 1;
	}
	log_info(&d->log, "stopped");
	return d->exit_code;
}

void
daemon_free(struct daemon *d)
{
	if (d == NULL)
		return;
	/* The pool first: failing its queries answers their requests while
	 * the HTTP server still exists. */
	if (d->catalog != NULL)
		catalog_sync_stop(d->catalog);
	for (size_t i = 0; i < d->nwebhooks; i++)
		webhook_free(d->webhooks[i]); /* before the pool: it may hold a lease */
	free(d->webhooks);
	db_pool_free(d->db);
	catalog_sync_free(d->catalog);
	token_cache_free(d->tokens);
	auth_free(d->auth);
	server_free(d->server);
	router_free(d->router);
	events_feed_free(d->events); /* after the router: no request parks on it */
	metrics_free(d->metrics);
	loop_lag_free(d->lag);
	if (d->sig_term)
		event_free(d->sig_term);
	if (d->sig_int)
		event_free(d->sig_int);
	if (d->sig_hup)
		event_free(d->sig_hup);
	if (d->watchdog)
		event_free(d->watchdog);
	if (d->drain_timer)
		event_free(d->drain_timer);
	if (d->base)
		event_base_free(d->base);
	sdnotify_close(&d->notify);
	config_free(d->cfg);
	free(d->config_path);
	free(d);
}
