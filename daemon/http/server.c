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

#include "base/clock.h"
#include "base/log.h"
#include "http/server.h"

#define SET_CAPACITY 131072 /* twice the largest limits.max_connections */
#define BACKOFF_SEC  1      /* pause after EMFILE, as tmux does */

/* A set of pointers: open addressing, fixed capacity. */
struct ptrset {
	void **slot; /* SET_CAPACITY entries */
	int n;
};

struct server {
	struct event_base *base;        /* borrowed */
	const struct logger *log;       /* borrowed */
	char *listen_tcp, *listen_unix; /* owned copies of the settings */
	int listen_unix_mode;
	void (*on_drained)(void *arg);
	void *drained_arg;
	bool stopping;
	struct evhttp *http;
	struct evconnlistener *tcp; /* owned via evhttp's bound socket */
	struct evconnlistener *unix_l;
	struct evhttp_bound_socket *tcp_bound, *unix_bound;
	char *unix_path;    /* owned; removed at stop */
	struct event *tick; /* housekeeping: pending-connection expiry, backoff */
	bool paused;        /* accepting paused (limit or EMFILE) */
	double backoff_until;
	int max_connections;
	int idle_timeout;
	int inflight;
	int connections; /* counted live connections */
	/* Connections that have sent no request yet, by bufferevent.  evhttp
	 * frees them without telling us (idle timeout, client gone), so each
	 * holds a reference on its bufferevent: the sweep sees the callbacks
	 * cleared by bufferevent_free() and drops the reference, which closes
	 * the socket and uncounts the connection. */
	struct ptrset pending;
	struct event *sweep;
	/* Connections seen with a request, by evhttp connection: their close
	 * callback is set and uncounts them. */
	struct ptrset seen;
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
ptrset_insert(struct ptrset *set, void *p)
{
	size_t i = ptr_hash(p);

	while (set->slot[i] != NULL) {
		if (set->slot[i] == p)
			return false;
		i = (i + 1) & (SET_CAPACITY - 1);
	}
	set->slot[i] = p;
	set->n++;
	return true;
}

/* Removal with backward shift keeps probe chains intact without tombstones. */
static bool
ptrset_remove_at(struct ptrset *set, size_t i)
{
	size_t j = i, k;

	set->slot[i] = NULL;
	set->n--;
	for (;;) {
		j = (j + 1) & (SET_CAPACITY - 1);
		if (set->slot[j] == NULL)
			return true;
		k = ptr_hash(set->slot[j]);
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			set->slot[i] = set->slot[j];
			set->slot[j] = NULL;
			i = j;
		}
	}
}

static bool
ptrset_remove(struct ptrset *set, void *p)
{
	size_t i = ptr_hash(p);

	while (set->slot[i] != p) {
		if (set->slot[i] == NULL)
			return false;
		i = (i + 1) & (SET_CAPACITY - 1);
	}
	return ptrset_remove_at(set, i);
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
	if (s->stopping)
		return;
	set_accepting(s, s->connections < s->max_connections && clock_now() >= s->backoff_until);
}

static void
conn_closed_cb(struct evhttp_connection *c, void *arg)
{
	struct server *s = arg;

	ptrset_remove(&s->seen, c);
	s->connections--;
	update_accepting(s);
}

/* Drops the references of pending connections evhttp has freed. */
static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	size_t i = 0;

	(void)fd;
	(void)what;
	while (i < SET_CAPACITY && s->pending.n > 0) {
		struct bufferevent *bev = s->pending.slot[i];
		bufferevent_event_cb eventcb = NULL;

		if (bev != NULL)
			bufferevent_getcb(bev, NULL, NULL, &eventcb, NULL);
		if (bev == NULL || eventcb != NULL) {
			i++;
			continue;
		}
		/* Backward shift may move another entry into slot i: look again. */
		ptrset_remove_at(&s->pending, i);
		bufferevent_decref(bev);
		s->connections--;
	}
	if (s->pending.n == 0)
		event_del(s->sweep);
	update_accepting(s);
}

/* evhttp asks us for each new connection's bufferevent: the place to count. */
static struct bufferevent *
bufferevent_cb(struct event_base *base, void *arg)
{
	struct server *s = arg;
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	struct timeval tv = { 0, 250000 };

	if (bev == NULL)
		return NULL; /* evhttp makes its own; it goes uncounted */
	if (s->pending.n < SET_CAPACITY / 2 && ptrset_insert(&s->pending, bev)) {
		bufferevent_incref(bev);
		s->connections++;
		if (!event_pending(s->sweep, EV_TIMEOUT, NULL))
			event_add(s->sweep, &tv);
	}
	update_accepting(s);
	return bev;
}

void
server_request_begin(struct server *s, struct evhttp_request *req)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);

	s->inflight++;
	if (c != NULL && ptrset_insert(&s->seen, c)) {
		struct bufferevent *bev = evhttp_connection_get_bufferevent(c);

		/* Promoted: the close callback uncounts it from now on. */
		if (bev != NULL && ptrset_remove(&s->pending, bev))
			bufferevent_decref(bev);
		else
			s->connections++; /* made without our bufferevent */
		evhttp_connection_set_closecb(c, conn_closed_cb, s);
	}
}

void
server_request_end(struct server *s)
{
	if (--s->inflight == 0 && s->stopping && s->on_drained != NULL)
		s->on_drained(s->drained_arg);
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

	(void)fd;
	(void)what;
	update_accepting(s); /* the EMFILE backoff may be over */
}

/* accept() failed: on descriptor exhaustion pause instead of spinning. */
static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct server *s = arg;
	int err = EVUTIL_SOCKET_ERROR();

	(void)l;
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		log_warn(s->log, "accept: %s; pausing for %d s", strerror(err), BACKOFF_SEC);
		s->backoff_until = clock_now() + BACKOFF_SEC;
		set_accepting(s, false);
	} else {
		log_warn(s->log, "accept: %s", strerror(err));
	}
}

void
server_apply_limits(struct server *s, const struct server_limits *lim)
{
	evhttp_set_max_body_size(s->http, lim->max_body_bytes);
	evhttp_set_max_headers_size(s->http, lim->max_header_bytes);
	evhttp_set_timeout(s->http, lim->idle_timeout);
	s->max_connections = lim->max_connections;
	s->idle_timeout = lim->idle_timeout;
	update_accepting(s);
}

struct server *
server_new(const struct server_settings *set)
{
	struct server *s = calloc(1, sizeof(*s));
	struct timeval tv = { 1, 0 };

	if (s == NULL)
		return NULL;
	s->base = set->base;
	s->log = set->log;
	s->listen_unix_mode = set->listen_unix_mode;
	s->on_drained = set->on_drained;
	s->drained_arg = set->drained_arg;
	s->listen_tcp = strdup(set->listen_tcp ? set->listen_tcp : "");
	s->listen_unix = strdup(set->listen_unix ? set->listen_unix : "");
	s->pending.slot = calloc(SET_CAPACITY, sizeof(void *));
	s->seen.slot = calloc(SET_CAPACITY, sizeof(void *));
	s->http = evhttp_new(s->base);
	s->tick = event_new(s->base, -1, EV_PERSIST, tick_cb, s);
	s->sweep = event_new(s->base, -1, EV_PERSIST, sweep_cb, s);
	if (s->listen_tcp == NULL || s->listen_unix == NULL || s->pending.slot == NULL ||
	    s->seen.slot == NULL || s->http == NULL || s->tick == NULL || s->sweep == NULL)
		goto fail;
	evhttp_set_allowed_methods(s->http,
	    EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH |
	        EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
	evhttp_set_bevcb(s->http, bufferevent_cb, s);
	server_apply_limits(s, &set->limits);
	event_add(s->tick, &tv);
	return s;
fail:
	server_free(s);
	return NULL;
}

void
server_set_handler(struct server *s, void (*handler)(struct evhttp_request *, void *), void *arg)
{
	evhttp_set_gencb(s->http, handler, arg);
}

bool
server_stopping(const struct server *s)
{
	return s->stopping;
}

static struct evconnlistener *
listen_on(struct server *s, struct sockaddr *sa, socklen_t len, struct evhttp_bound_socket **bound)
{
	struct evconnlistener *l;

	l = evconnlistener_new_bind(s->base, NULL, NULL,
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 511, sa, (int)len);
	if (l == NULL)
		return NULL;
	*bound = evhttp_bind_listener(s->http, l);
	if (*bound == NULL) {
		evconnlistener_free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l, accept_error_cb);
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
	evconnlistener_set_error_cb(s->tcp, accept_error_cb);
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
		snprintf(err, errlen, "listen.unix \"%s\": cannot remove stale socket: %s", path,
		    strerror(errno));
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
	if (s->listen_tcp[0] == '\0' && s->listen_unix[0] == '\0') {
		snprintf(err, errlen, "no listener: listen.tcp and listen.unix are both empty");
		return -1;
	}
	if (s->listen_tcp[0] != '\0' && listen_tcp(s, s->listen_tcp, err, errlen) != 0)
		return -1;
	if (s->listen_unix[0] != '\0' &&
	    listen_unix(s, s->listen_unix, s->listen_unix_mode, err, errlen) != 0)
		return -1;
	if (s->tcp)
		evconnlistener_set_error_cb(s->tcp, accept_error_cb);
	return 0;
}

void
server_stop_accepting(struct server *s)
{
	s->stopping = true;
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
		/* Closing connections calls conn_closed_cb: keep the set alive until then. */
		evhttp_free(s->http);
	}
	if (s->tick)
		event_free(s->tick);
	/* evhttp_free freed every connection: drop the references still held. */
	if (s->pending.slot != NULL) {
		size_t i;

		for (i = 0; i < SET_CAPACITY; i++)
			if (s->pending.slot[i] != NULL)
				bufferevent_decref(s->pending.slot[i]);
	}
	if (s->sweep)
		event_free(s->sweep);
	free(s->pending.slot);
	free(s->seen.slot);
	free(s->listen_tcp);
	free(s->listen_unix);
	free(s);
}
