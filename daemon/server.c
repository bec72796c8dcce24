/*
 * server.c - listeners, limits and connection accounting for evhttp.
 */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "config.h"
#include "daemon.h"
#include "router.h"
#include "server.h"

#define SET_CAPACITY 131072	/* twice the largest limits.max_connections */
#define BACKOFF_SEC 1		/* pause after EMFILE, as tmux does */

struct server {
	struct daemon *d;
	struct evhttp *http;
	struct evconnlistener *tcp;	/* owned via evhttp's bound socket */
	struct evconnlistener *unix_l;
	struct evhttp_bound_socket *tcp_bound, *unix_bound;
	char *unix_path;		/* owned; removed at stop */
	struct event *tick;		/* housekeeping: pending-connection expiry, backoff */
	bool paused;			/* accepting paused (limit or EMFILE) */
	double backoff_until;
	int max_connections;
	int idle_timeout;
	int inflight;
	int connections;		/* counted live connections */
	/* Connections that have not sent a request yet: their open times, oldest
	 * first.  evhttp closes them after idle_timeout without telling us, so
	 * they age out of the count. */
	double *pending;
	int pending_head, pending_len, pending_cap;
	/* Connections seen with a request: their close callback is set. */
	struct evhttp_connection **seen;	/* open addressing, SET_CAPACITY */
};

static size_t
ptr_hash(const void *p)
{
	uintptr_t x = (uintptr_t)p;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x & (SET_CAPACITY - 1);
}

static bool
seen_insert(struct server *s, struct evhttp_connection *c)
{
	size_t i = ptr_hash(c);

	while (s->seen[i] != NULL) {
		if (s->seen[i] == c)
			return false;
		i = (i + 1) & (SET_CAPACITY - 1);
	}
	s->seen[i] = c;
	return true;
}

/* Removal with backward shift keeps probe chains intact without tombstones. */
static void
seen_remove(struct server *s, struct evhttp_connection *c)
{
	size_t i = ptr_hash(c), j, k;

	while (s->seen[i] != c) {
		if (s->seen[i] == NULL)
			return;
		i = (i + 1) & (SET_CAPACITY - 1);
	}
	s->seen[i] = NULL;
	j = i;
	for (;;) {
		j = (j + 1) & (SET_CAPACITY - 1);
		if (s->seen[j] == NULL)
			return;
		k = ptr_hash(s->seen[j]);
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			s->seen[i] = s->seen[j];
			s->seen[j] = NULL;
			i = j;
		}
	}
}

static void
set_accepting(struct server *s, bool on)
{
	if (on == !s->paused)
		return;
	s->paused = !on;
	if (s->tcp)
		on ? evconnlistener_enable(s->tcp) : evconnlistener_disable(s->tcp);
	if (s->unix_l)
		on ? evconnlistener_enable(s->unix_l) : evconnlistener_disable(s->unix_l);
}

static void
update_accepting(struct server *s)
{
	if (s->d->stopping)
		return;
	set_accepting(s, s->connections < s->max_connections &&
	    daemon_now() >= s->backoff_until);
}

static void
pending_pop(struct server *s)
{
	if (s->pending_len == 0)
		return;
	s->pending_head = (s->pending_head + 1) % s->pending_cap;
	s->pending_len--;
}

static void
conn_closed(struct evhttp_connection *c, void *arg)
{
	struct server *s = arg;

	seen_remove(s, c);
	s->connections--;
	update_accepting(s);
}

/* evhttp asks us for each new connection's bufferevent: the place to count. */
static struct bufferevent *
make_bufferevent(struct event_base *base, void *arg)
{
	struct server *s = arg;

	if (s->pending_len < s->pending_cap) {
		s->pending[(s->pending_head + s->pending_len) % s->pending_cap] = daemon_now();
		s->pending_len++;
		s->connections++;
	}
	update_accepting(s);
	return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
}

void
server_request_begin(struct server *s, struct evhttp_request *req)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);

	s->inflight++;
	if (c != NULL && seen_insert(s, c)) {
		pending_pop(s);
		evhttp_connection_set_closecb(c, conn_closed, s);
	}
}

void
server_request_end(struct server *s)
{
	if (--s->inflight == 0 && s->d->stopping)
		daemon_drained(s->d);
}

int
server_inflight(const struct server *s)
{
	return s->inflight;
}

int
server_connections(const struct server *s)
{
	return s->connections;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	double cutoff = daemon_now() - s->idle_timeout - 1;

	(void)fd;
	(void)what;
	while (s->pending_len > 0 && s->pending[s->pending_head] < cutoff) {
		pending_pop(s);
		s->connections--;
	}
	update_accepting(s);
}

/* accept() failed: on descriptor exhaustion pause instead of spinning. */
static void
accept_error(struct evconnlistener *l, void *arg)
{
	struct server *s = arg;
	int err = EVUTIL_SOCKET_ERROR();

	(void)l;
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		log_warn(&s->d->log, "accept: %s; pausing for %d s", strerror(err), BACKOFF_SEC);
		s->backoff_until = daemon_now() + BACKOFF_SEC;
		set_accepting(s, false);
	} else {
		log_warn(&s->d->log, "accept: %s", strerror(err));
	}
}

void
server_apply_limits(struct server *s, const struct config *cfg)
{
	evhttp_set_max_body_size(s->http, cfg->max_body_bytes);
	evhttp_set_max_headers_size(s->http, cfg->max_header_bytes);
	evhttp_set_timeout(s->http, cfg->idle_timeout);
	s->max_connections = cfg->max_connections;
	s->idle_timeout = cfg->idle_timeout;
	update_accepting(s);
}

struct server *
server_new(struct daemon *d)
{
	struct server *s = calloc(1, sizeof(*s));
	struct timeval tv = {1, 0};

	if (s == NULL)
		return NULL;
	s->d = d;
	s->pending_cap = 65536 + 1;
	s->pending = calloc((size_t)s->pending_cap, sizeof(*s->pending));
	s->seen = calloc(SET_CAPACITY, sizeof(*s->seen));
	s->http = evhttp_new(d->base);
	s->tick = event_new(d->base, -1, EV_PERSIST, tick_cb, s);
	if (s->pending == NULL || s->seen == NULL || s->http == NULL || s->tick == NULL)
		goto fail;
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(s->http, router_dispatch, d);
	evhttp_set_bevcb(s->http, make_bufferevent, s);
	server_apply_limits(s, d->cfg);
	event_add(s->tick, &tv);
	return s;
fail:
	server_free(s);
	return NULL;
}

static struct evconnlistener *
listen_on(struct server *s, struct sockaddr *sa, socklen_t len, struct evhttp_bound_socket **bound)
{
	struct evconnlistener *l;

	l = evconnlistener_new_bind(s->d->base, NULL, NULL,
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 511, sa, (int)len);
	if (l == NULL)
		return NULL;
	*bound = evhttp_bind_listener(s->http, l);
	if (*bound == NULL) {
		evconnlistener_free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l, accept_error);
	/* evhttp_bind_listener installed its own callback; keep our arg for errors. */
	return l;
}

static int
listen_tcp(struct server *s, const char *spec, char *err, size_t errlen)
{
	char host[256];
	const char *colon, *h = spec;
	size_t hl;
	struct addrinfo hints, *ai = NULL;
	int rc;

	colon = strrchr(spec, ':');
	if (colon == NULL) {
		snprintf(err, errlen, "listen.tcp \"%s\": expected host:port", spec);
		return -1;
	}
	hl = (size_t)(colon - spec);
	if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
		h = spec + 1;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		hl = sizeof(host) - 1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "listen.tcp \"%s\": %s", spec, gai_strerror(rc));
		return -1;
	}
	s->tcp = listen_on(s, ai->ai_addr, ai->ai_addrlen, &s->tcp_bound);
	if (s->tcp == NULL) {
		snprintf(err, errlen, "listen.tcp \"%s\": %s", spec, strerror(errno));
		freeaddrinfo(ai);
		return -1;
	}
	evconnlistener_set_error_cb(s->tcp, accept_error);
	freeaddrinfo(ai);
	return 0;
}

/* A socket file nobody answers on is stale (a crash left it): remove it. */
static int
remove_stale_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "listen.unix \"%s\": exists and is not a socket", path);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "listen.unix \"%s\": another process is serving it", path);
		return -1;
	}
	if (unlink(path) != 0) {
		snprintf(err, errlen, "listen.unix \"%s\": cannot remove stale socket: %s",
		    path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
listen_unix(struct server *s, const char *path, int mode, char *err, size_t errlen)
{
	struct sockaddr_un sa;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "listen.unix \"%s\": path too long", path);
		return -1;
	}
	if (remove_stale_socket(path, err, errlen) != 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, path);
	s->unix_l = listen_on(s, (struct sockaddr *)&sa, sizeof(sa), &s->unix_bound);
	if (s->unix_l == NULL) {
		snprintf(err, errlen, "listen.unix \"%s\": %s", path, strerror(errno));
		return -1;
	}
	s->unix_path = strdup(path);
	if (s->unix_path == NULL || chmod(path, (mode_t)mode) != 0) {
		snprintf(err, errlen, "listen.unix \"%s\": chmod: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
server_listen(struct server *s, char *err, size_t errlen)
{
	const struct config *cfg = s->d->cfg;

	if (cfg->listen_tcp[0] == '\0' && cfg->listen_unix[0] == '\0') {
		snprintf(err, errlen, "no listener: listen.tcp and listen.unix are both empty");
		return -1;
	}
	if (cfg->listen_tcp[0] != '\0' && listen_tcp(s, cfg->listen_tcp, err, errlen) != 0)
		return -1;
	if (cfg->listen_unix[0] != '\0' &&
	    listen_unix(s, cfg->listen_unix, cfg->listen_unix_mode, err, errlen) != 0)
		return -1;
	if (s->tcp)
		evconnlistener_set_error_cb(s->tcp, accept_error);
	return 0;
}

void
server_stop_accepting(struct server *s)
{
	if (s->tcp_bound)
		evhttp_del_accept_socket(s->http, s->tcp_bound);
	if (s->unix_bound)
		evhttp_del_accept_socket(s->http, s->unix_bound);
	s->tcp_bound = s->unix_bound = NULL;
	s->tcp = s->unix_l = NULL;
	if (s->unix_path) {
		unlink(s->unix_path);
		free(s->unix_path);
		s->unix_path = NULL;
	}
}

void
server_free(struct server *s)
{
	if (s == NULL)
		return;
	if (s->http) {
		server_stop_accepting(s);
		/* Closing connections calls conn_closed: keep the set alive until then. */
		evhttp_free(s->http);
	}
	if (s->tick)
		event_free(s->tick);
	free(s->pending);
	free(s->seen);
	free(s);
}
