/*
 * server.h - the HTTP listeners (TCP and UNIX socket) on one evhttp.
 *
 * Owns the evhttp, its listeners and the connection accounting that
 * enforces limits.max_connections (libevent 2.1 has no such knob): new
 * connections are counted when libevent makes their bufferevent and
 * uncounted when they close; at the limit, accepting pauses.
 */
#ifndef ALLIANCE_SERVER_H
#define ALLIANCE_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct evhttp_request;
struct logger;
struct server;

/* The limits a SIGHUP may change. */
struct server_limits {
	size_t max_body_bytes;
	size_t max_header_bytes;
	int idle_timeout; /* seconds */
	int max_connections;
};

/* Everything the server needs, given at creation; pointers are borrowed and
 * must outlive the server, strings are copied. */
struct server_settings {
	struct event_base *base;
	const struct logger *log;
	const char *listen_tcp;  /* "host:port"; "" = none */
	const char *listen_unix; /* socket path; "" = none */
	int listen_unix_mode;    /* chmod of the socket file */
	struct server_limits limits;
	/* Called once when the last in-flight request of a stopping server
	 * ends (server_stop_accepting was called). */
	void (*on_drained)(void *arg);
	void *drained_arg;
};

/* Creates the evhttp with the settings' limits; binds nothing yet.  NULL on error. */
struct server *server_new(const struct server_settings *set);
/* Every request goes to handler(req, arg) (the router): set before server_listen. */
void server_set_handler(struct server *s, void (*handler)(struct evhttp_request *, void *),
    void *arg);
/* Binds the listeners (a stale UNIX socket file is removed first). */
int server_listen(struct server *s, char *err, size_t errlen);
void server_apply_limits(struct server *s, const struct server_limits *lim);
/* Closes the listeners (and removes the UNIX socket file): graceful stop.
 * From then on server_stopping() is true and on_drained follows the last request. */
void server_stop_accepting(struct server *s);
bool server_stopping(const struct server *s);
/* Frees everything; open connections are closed. */
void server_free(struct server *s);

/* Request accounting, called by the router. */
void server_request_begin(struct server *s, struct evhttp_request *req);
void server_request_end(struct server *s);
int server_inflight(const struct server *s);
int server_connections(const struct server *s);

#endif
