/*
 * server.c - listeners, limits and connection accounting for evhttp.
 */
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
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
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "base/log.h"
#include "http/framing.h"
#include "http/server.h"
#include "http/tls.h"

#define SET_CAPACITY 131072 /* twice the largest limits.max_connections */

/* The open connections, found by their bufferevent: open addressing,
 * fixed capacity. */
struct connset {
	struct conn **slot; /* SET_CAPACITY entries */
	int n;
};

#define PEER_KEY_LEN 17 /* family byte + IPv6 address (IPv4 mapped) */
#define MAX_HOSTS    32

/* TCP connections per peer address: open addressing, fixed capacity. */
struct peer_slot {
	unsigned char key[PEER_KEY_LEN];
	int count; /* 0 = empty slot */
};

/* Which listener a connection came through: each evhttp's bevcb argument. */
struct side {
	struct server *s;
	bool is_unix;
};

/* One accepted connection, from libevent's bufferevent request until the sweep
 * sees evhttp has freed it. */
struct conn {
	struct server *s;
	struct bufferevent *bev; /* a reference of ours keeps it until the sweep */
	struct framing *framing;
	struct event *start; /* runs once the fd is set: the per-peer check */
	bool is_unix;
	bool peer_counted;
	unsigned char peer[PEER_KEY_LEN];
};

struct server {
	struct event_base *base;        /* borrowed */
	const struct logger *log;       /* borrowed */
	char *listen_tcp, *listen_unix; /* owned copies of the settings */
	int listen_unix_mode;
	char *listen_unix_group;
	char *tls_cert, *tls_key;
	bool allow_plaintext;
	char *hosts_buf;                      /* owned; allowed_hosts split in place */
	const char *allowed_hosts[MAX_HOSTS]; /* into hosts_buf, NULL-terminated */
	struct tls *tls;                      /* NULL: plaintext TCP */
	void (*on_drained)(void *arg);
	void *drained_arg;
	void (*handler)(struct evhttp_request *, void *);
	void *handler_arg;
	bool stopping;
	struct evhttp *http;      /* TCP */
	struct evhttp *http_unix; /* the UNIX socket */
	struct side tcp_side, unix_side;
	struct evconnlistener *tcp; /* owned via evhttp's bound socket */
	struct evconnlistener *unix_l;
	struct evhttp_bound_socket *tcp_bound, *unix_bound;
	char *unix_path;    /* owned; removed at stop */
	struct event *tick; /* housekeeping: listeners paused by accept errors */
	bool tcp_on, unix_on;
	int max_connections;
	int max_per_peer;
	int unix_reserved;
	int idle_timeout;
	struct framing_limits flimits; /* read by every framing at each request */
	int inflight;
	int connections;     /* counted live connections, both listeners */
	int tcp_connections; /* of which TCP */
	struct connset conns;
	struct event *sweep;
	struct peer_slot *peers; /* SET_CAPACITY slots */
	unsigned long lev_errors[600];
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
connset_insert(struct connset *set, struct conn *c)
{
	size_t i = ptr_hash(c->bev);

	while (set->slot[i] != NULL) {
		if (set->slot[i] == c)
			return false;
		i = (i + 1) & (SET_CAPACITY - 1);
	}
	set->slot[i] = c;
	set->n++;
	return true;
}

/* The slot of the connection of bev, or -1. */
static long
connset_find(const struct connset *set, const struct bufferevent *bev)
{
	size_t i = ptr_hash(bev);

	while (set->slot[i] != NULL) {
		if (set->slot[i]->bev == bev)
			return (long)i;
		i = (i + 1) & (SET_CAPACITY - 1);
	}
	return -1;
}

/* Removal with backward shift keeps probe chains intact without tombstones. */
static void
connset_remove_at(struct connset *set, size_t i)
{
	size_t j = i, k;

	set->slot[i] = NULL;
	set->n--;
	for (;;) {
		j = (j + 1) & (SET_CAPACITY - 1);
		if (set->slot[j] == NULL)
			return;
		k = ptr_hash(set->slot[j]->bev);
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			set->slot[i] = set->slot[j];
			set->slot[j] = NULL;
			i = j;
		}
	}
}

static size_t
peer_hash(const unsigned char *k)
{
	uint64_t h = 1469598103934665603ULL;
	int i;

	for (i = 0; i < PEER_KEY_LEN; i++)
		h = (h ^ k[i]) * 1099511628211ULL;
	return (size_t)h & (SET_CAPACITY - 1);
}

/* The slot of key, or of the empty slot where it would go. */
static size_t
peer_find(const struct server *s, const unsigned char *k)
{
	size_t i = peer_hash(k);

	while (s->peers[i].count != 0 && memcmp(s->peers[i].key, k, PEER_KEY_LEN) != 0)
		i = (i + 1) & (SET_CAPACITY - 1);
	return i;
}

static void
peer_release(struct server *s, const unsigned char *k)
{
	size_t i = peer_find(s, k), j = i, h;

	if (s->peers[i].count == 0 || --s->peers[i].count > 0)
		return;
	/* Backward shift, as ptrset_remove_at. */
	for (;;) {
		j = (j + 1) & (SET_CAPACITY - 1);
		if (s->peers[j].count == 0)
			return;
		h = peer_hash(s->peers[j].key);
		if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
			s->peers[i] = s->peers[j];
			s->peers[j].count = 0;
			i = j;
		}
	}
}

static void
set_listener(struct evconnlistener *l, bool *state, bool on)
{
	if (l == NULL || *state == on)
		return;
	*state = on;
	on ? evconnlistener_enable(l) : evconnlistener_disable(l);
}

/* TCP stops short of the reserve kept for the UNIX socket. */
static void
update_accepting(struct server *s)
{
	bool ok = s->connections < s->max_connections;
	int tcp_cap = s->max_connections - s->unix_reserved;

	if (s->stopping)
		return;
	if (tcp_cap < 1)
		tcp_cap = 1;
	set_listener(s->tcp, &s->tcp_on, ok && s->tcp_connections < tcp_cap);
	set_listener(s->unix_l, &s->unix_on, ok);
}

static void
conn_free(struct conn *c)
{
	struct server *s = c->s;

	if (c->peer_counted)
		peer_release(s, c->peer);
	framing_free(c->framing);
	if (c->start != NULL)
		event_free(c->start);
	bufferevent_decref(c->bev);
	s->connections--;
	if (!c->is_unix)
		s->tcp_connections--;
	free(c);
}

/* Frees the connections evhttp has freed (bufferevent_free clears the callbacks). */
static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	size_t i = 0;

	(void)fd;
	(void)what;
	while (i < SET_CAPACITY && s->conns.n > 0) {
		struct conn *c = s->conns.slot[i];
		bufferevent_event_cb eventcb = NULL;

		if (c != NULL)
			bufferevent_getcb(c->bev, NULL, NULL, &eventcb, NULL);
		if (c == NULL || eventcb != NULL) {
			i++;
			continue;
		}
		/* Backward shift may move another entry into slot i: look again. */
		connset_remove_at(&s->conns, i);
		conn_free(c);
	}
	if (s->conns.n == 0)
		event_del(s->sweep);
	update_accepting(s);
}

/* A connection refused at once gives its slot back at once, not at the
 * next sweep (a flood would otherwise count its refused connections). */
static void
reap_now(struct conn *c)
{
	struct server *s = c->s;
	bufferevent_event_cb eventcb = NULL;
	long i;

	bufferevent_getcb(c->bev, NULL, NULL, &eventcb, NULL);
	if (eventcb != NULL)
		return; /* evhttp still holds it: the sweep will */
	i = connset_find(&s->conns, c->bev);
	if (i < 0)
		return;
	connset_remove_at(&s->conns, (size_t)i);
	conn_free(c); /* frees c->start, whose callback this is: nothing touches it after */
	update_accepting(s);
}

/* The key of a TCP peer: IPv4 as IPv4-mapped IPv6.  -1 when not IP. */
static int
peer_key(evutil_socket_t fd, unsigned char *k)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(k, 0, PEER_KEY_LEN);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	k[0] = 6;
	if (ss.ss_family == AF_INET) {
		k[11] = k[12] = 0xff;
		memcpy(k + 13, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	} else if (ss.ss_family == AF_INET6) {
		memcpy(k + 1, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	} else {
		return -1;
	}
	return 0;
}

/* Runs once evhttp has set the accepted fd: the per-peer limit. */
static void
conn_start_cb(evutil_socket_t unused, short what, void *arg)
{
	struct conn *c = arg;
	struct server *s = c->s;
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	size_t i;

	int one = 1;

	(void)unused;
	(void)what;
	if (c->is_unix || fd < 0 || peer_key(fd, c->peer) != 0)
		return;
	/* evhttp writes an answer's head and body separately, and TLS makes
	 * each a record: without this, Nagle holds the second behind the
	 * client's delayed ACK (40 ms per answer). */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	i = peer_find(s, c->peer);
	if (s->peers[i].count >= s->max_per_peer) {
		log_debug(s->log,
		    "connection refused: limits.max_connections_per_peer (%d) reached",
		    s->max_per_peer);
		framing_close(c->framing);
		reap_now(c);
		return;
	}
	if (s->peers[i].count == 0)
		memcpy(s->peers[i].key, c->peer, PEER_KEY_LEN);
	s->peers[i].count++;
	c->peer_counted = true;
}

static void
libevent_error_cb(void *arg, int status)
{
	struct server *s = arg;

	s->lev_errors[status >= 100 && status < 600 ? status : 0]++;
}

unsigned long
server_libevent_errors(const struct server *s, int status)
{
	return status >= 100 && status < 600 ? s->lev_errors[status] : 0;
}

/* evhttp asks us for each new connection's bufferevent: TLS or plain, watched
 * by a framing, counted. */
static struct bufferevent *
bufferevent_cb(struct event_base *base, void *arg)
{
	struct side *side = arg;
	struct server *s = side->s;
	struct conn *c = calloc(1, sizeof(*c));
	struct framing_settings fs;
	struct timeval tv = { 0, 250000 };

	if (c == NULL)
		return NULL; /* evhttp makes its own; tcp_gencb refuses it when TLS is on */
	c->s = s;
	c->is_unix = side->is_unix;
	if (!side->is_unix && s->tls != NULL)
		c->bev = tls_bufferevent_new(s->tls, base);
	else
		c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		goto fail;
	memset(&fs, 0, sizeof(fs));
	fs.base = base;
	fs.limits = &s->flimits;
	fs.allowed_hosts = side->is_unix ? NULL : s->allowed_hosts;
	fs.on_libevent_error = libevent_error_cb;
	fs.arg = s;
	c->framing = framing_new(&fs, c->bev);
	c->start = event_new(base, -1, 0, conn_start_cb, c);
	if (c->framing == NULL || c->start == NULL || s->conns.n >= SET_CAPACITY / 2 ||
	    !connset_insert(&s->conns, c))
		goto fail;
	bufferevent_incref(c->bev);
	s->connections++;
	if (!c->is_unix)
		s->tcp_connections++;
	event_active(c->start, EV_TIMEOUT, 0);
	if (!event_pending(s->sweep, EV_TIMEOUT, NULL))
		event_add(s->sweep, &tv);
	update_accepting(s);
	return c->bev;
fail:
	framing_free(c->framing);
	if (c->start != NULL)
		event_free(c->start);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	free(c);
	return NULL;
}

/* A TCP request on a connection evhttp made itself (our bufferevent could not
 * be made) would bypass TLS: refuse it. */
static void
tcp_gencb(struct evhttp_request *req, void *arg)
{
	struct server *s = arg;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;

	if (s->tls != NULL && (bev == NULL || bufferevent_openssl_get_ssl(bev) == NULL)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		evhttp_send_error(req, 503, "connection setup failed");
		return;
	}
	s->handler(req, s->handler_arg);
}

static void
unix_gencb(struct evhttp_request *req, void *arg)
{
	struct server *s = arg;

	s->handler(req, s->handler_arg);
}

/* evhttp frees a connection that has had a request: give its slot (and its
 * peer's) back now, not at the next sweep, so that a client opening a
 * connection per request is not counted twice. */
static void
conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct server *s = arg;
	long i = connset_find(&s->conns, evhttp_connection_get_bufferevent(evcon));
	struct conn *c;

	if (i < 0)
		return;
	c = s->conns.slot[i];
	connset_remove_at(&s->conns, (size_t)i);
	conn_free(c); /* evhttp frees the bufferevent next; our reference goes now */
	update_accepting(s);
}

void
server_request_begin(struct server *s, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);

	s->inflight++;
	if (evcon != NULL)
		evhttp_connection_set_closecb(evcon, conn_closed_cb, s);
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
	update_accepting(s);
	/* A listener paused by accept_error_cb: enabling twice is harmless. */
	if (!s->stopping && s->tcp != NULL && s->tcp_on)
		evconnlistener_enable(s->tcp);
	if (!s->stopping && s->unix_l != NULL && s->unix_on)
		evconnlistener_enable(s->unix_l);
}

/* accept() failed.  The argument is evhttp's, not ours (evhttp_bind_listener
 * sets the listener's): on descriptor exhaustion pause this listener instead
 * of spinning, touching nothing else; the tick turns it back on within a
 * second. */
static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();

	(void)arg;
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM)
		evconnlistener_disable(l);
}

static void
apply_http_limits(struct evhttp *http, const struct server_limits *lim)
{
	evhttp_set_max_body_size(http, lim->max_body_bytes);
	evhttp_set_max_headers_size(http, lim->max_header_bytes);
	evhttp_set_timeout(http, lim->idle_timeout);
}

void
server_apply_limits(struct server *s, const struct server_limits *lim)
{
	apply_http_limits(s->http, lim);
	apply_http_limits(s->http_unix, lim);
	s->max_connections = lim->max_connections;
	s->max_per_peer = lim->max_connections_per_peer > 0 ? lim->max_connections_per_peer : 1;
	s->unix_reserved = lim->unix_reserved_connections;
	s->idle_timeout = lim->idle_timeout;
	s->flimits.max_body_bytes = lim->max_body_bytes;
	s->flimits.max_header_bytes = lim->max_header_bytes;
	s->flimits.read_timeout = lim->request_read_timeout > 0 ? lim->request_read_timeout : 1;
	update_accepting(s);
}

/* "localhost 127.0.0.1 [::1]" into s->allowed_hosts. */
static int
split_hosts(struct server *s, const char *list)
{
	char *p, *save = NULL;
	int n = 0;

	s->hosts_buf = strdup(list ? list : "");
	if (s->hosts_buf == NULL)
		return -1;
	for (p = strtok_r(s->hosts_buf, " \t,", &save); p != NULL && n < MAX_HOSTS - 1;
	     p = strtok_r(NULL, " \t,", &save))
		s->allowed_hosts[n++] = p;
	s->allowed_hosts[n] = NULL;
	return 0;
}

static struct evhttp *
make_http(struct server *s, struct side *side, bool is_unix,
    void (*gencb)(struct evhttp_request *, void *))
{
	struct evhttp *http = evhttp_new(s->base);

	if (http == NULL)
		return NULL;
	side->s = s;
	side->is_unix = is_unix;
	evhttp_set_allowed_methods(http,
	    EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH |
	        EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
	evhttp_set_bevcb(http, bufferevent_cb, side);
	evhttp_set_gencb(http, gencb, s);
	return http;
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
	s->allow_plaintext = set->allow_plaintext;
	s->on_drained = set->on_drained;
	s->drained_arg = set->drained_arg;
	s->listen_tcp = strdup(set->listen_tcp ? set->listen_tcp : "");
	s->listen_unix = strdup(set->listen_unix ? set->listen_unix : "");
	s->listen_unix_group = strdup(set->listen_unix_group ? set->listen_unix_group : "");
	s->tls_cert = strdup(set->tls_cert ? set->tls_cert : "");
	s->tls_key = strdup(set->tls_key ? set->tls_key : "");
	s->conns.slot = calloc(SET_CAPACITY, sizeof(*s->conns.slot));
	s->peers = calloc(SET_CAPACITY, sizeof(*s->peers));
	s->http = make_http(s, &s->tcp_side, false, tcp_gencb);
	s->http_unix = make_http(s, &s->unix_side, true, unix_gencb);
	s->tick = event_new(s->base, -1, EV_PERSIST, tick_cb, s);
	s->sweep = event_new(s->base, -1, EV_PERSIST, sweep_cb, s);
	if (s->listen_tcp == NULL || s->listen_unix == NULL || s->listen_unix_group == NULL ||
	    s->tls_cert == NULL || s->tls_key == NULL || s->conns.slot == NULL ||
	    s->peers == NULL || s->http == NULL || s->http_unix == NULL || s->tick == NULL ||
	    s->sweep == NULL || split_hosts(s, set->allowed_hosts) != 0)
		goto fail;
	s->tcp_on = s->unix_on = true;
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
	s->handler = handler;
	s->handler_arg = arg;
}

bool
server_stopping(const struct server *s)
{
	return s->stopping;
}

static struct evconnlistener *
listen_on(struct server *s, struct evhttp *http, struct sockaddr *sa, socklen_t len,
    struct evhttp_bound_socket **bound)
{
	struct evconnlistener *l;

	l = evconnlistener_new_bind(s->base, NULL, NULL,
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 511, sa, (int)len);
	if (l == NULL)
		return NULL;
	*bound = evhttp_bind_listener(http, l);
	if (*bound == NULL) {
		evconnlistener_free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l, accept_error_cb);
	return l;
}

static bool
is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		    (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
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
	/* Health data in clear text on a network: only when the config says so
	 * (a TLS-terminating proxy on the same host, say). */
	if (s->tls == NULL && !s->allow_plaintext && !is_loopback(ai->ai_addr)) {
		snprintf(err, errlen,
		    "listen.tcp \"%s\" is not a loopback address and TLS is off: set "
		    "listen.tls_cert and listen.tls_key, or listen.allow_plaintext: true",
		    spec);
		freeaddrinfo(ai);
		return -1;
	}
	s->tcp = listen_on(s, s->http, ai->ai_addr, ai->ai_addrlen, &s->tcp_bound);
	if (s->tcp == NULL) {
		snprintf(err, errlen, "listen.tcp \"%s\": %s", spec, strerror(errno));
		freeaddrinfo(ai);
		return -1;
	}
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
	s->unix_l = listen_on(s, s->http_unix, (struct sockaddr *)&sa, sizeof(sa), &s->unix_bound);
	if (s->unix_l == NULL) {
		snprintf(err, errlen, "listen.unix \"%s\": %s", path, strerror(errno));
		return -1;
	}
	s->unix_path = strdup(path);
	if (s->unix_path == NULL || chmod(path, (mode_t)mode) != 0) {
		snprintf(err, errlen, "listen.unix \"%s\": chmod: %s", path, strerror(errno));
		return -1;
	}
	if (s->listen_unix_group[0] != '\0') {
		struct group *g = getgrnam(s->listen_unix_group);

		if (g == NULL) {
			snprintf(err, errlen, "listen.unix_group \"%s\": no such group",
			    s->listen_unix_group);
			return -1;
		}
		if (chown(path, (uid_t)-1, g->gr_gid) != 0) {
			snprintf(err, errlen, "listen.unix_group \"%s\": chown: %s",
			    s->listen_unix_group, strerror(errno));
			return -1;
		}
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
	if ((s->tls_cert[0] == '\0') != (s->tls_key[0] == '\0')) {
		snprintf(err, errlen, "listen.tls_cert and listen.tls_key go together");
		return -1;
	}
	if (s->listen_tcp[0] != '\0' && s->tls_cert[0] != '\0') {
		s->tls = tls_new(s->tls_cert, s->tls_key, err, errlen);
		if (s->tls == NULL)
			return -1;
	}
	if (s->listen_tcp[0] != '\0' && listen_tcp(s, s->listen_tcp, err, errlen) != 0)
		return -1;
	if (s->listen_unix[0] != '\0' &&
	    listen_unix(s, s->listen_unix, s->listen_unix_mode, err, errlen) != 0)
		return -1;
	update_accepting(s);
	return 0;
}

int
server_reload_tls(struct server *s, const char *cert, const char *key, char *err, size_t errlen)
{
	if (s->tls == NULL)
		return 0; /* TLS on or off needs a restart */
	return tls_reload(s->tls, cert, key, err, errlen);
}

void
server_stop_accepting(struct server *s)
{
	s->stopping = true;
	if (s->tcp_bound)
		evhttp_del_accept_socket(s->http, s->tcp_bound);
	if (s->unix_bound)
		evhttp_del_accept_socket(s->http_unix, s->unix_bound);
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
	size_t i;

	if (s == NULL)
		return;
	if (s->http || s->http_unix)
		server_stop_accepting(s);
	if (s->http)
		evhttp_free(s->http);
	if (s->http_unix)
		evhttp_free(s->http_unix);
	if (s->tick)
		event_free(s->tick);
	/* evhttp_free freed every connection: free ours and drop our references. */
	if (s->conns.slot != NULL)
		for (i = 0; i < SET_CAPACITY; i++)
			if (s->conns.slot[i] != NULL)
				conn_free(s->conns.slot[i]);
	if (s->sweep)
		event_free(s->sweep);
	tls_free(s->tls);
	free(s->conns.slot);
	free(s->peers);
	free(s->listen_tcp);
	free(s->listen_unix);
	free(s->listen_unix_group);
	free(s->tls_cert);
	free(s->tls_key);
	free(s->hosts_buf);
	free(s);
}
