/*
 * server.h - the HTTP listeners: TCP (optionally TLS) and the UNIX socket.
 *
 * Owns one evhttp per listener (so that each knows which kind of
 * connection it makes), the TLS context, and the connection accounting
 * libevent 2.1 lacks: every connection is counted when libevent asks for
 * its bufferevent and uncounted when evhttp has freed it (a periodic sweep
 * sees the callbacks bufferevent_free cleared).  limits.max_connections
 * caps both listeners together, limits.unix_reserved_connections of them
 * are kept for the UNIX socket (a TCP flood never locks the admins out),
 * and limits.max_connections_per_peer caps one TCP peer address.  Each
 * connection's request framing (http/framing.h) enforces the body limit,
 * the Host allowlist and the request read deadline.
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
	int request_read_timeout;      /* seconds from accept to a complete request */
	int max_connections_per_peer;  /* TCP connections from one address */
	int unix_reserved_connections; /* of max_connections, only for the UNIX socket */
};

/* Everything the server needs, given at creation; pointers are borrowed and
 * must outlive the server, strings are copied. */
struct server_settings {
	struct event_base *base;
	const struct logger *log;
	const char *listen_tcp;        /* "host:port"; "" = none */
	const char *listen_unix;       /* socket path; "" = none */
	int listen_unix_mode;          /* chmod of the socket file */
	const char *listen_unix_group; /* chgrp of the socket file; "" = the daemon's */
	const char *tls_cert;          /* PEM chain; "" with tls_key "" = plaintext TCP */
	const char *tls_key;
	bool allow_plaintext;      /* plaintext TCP on a non-loopback address */
	const char *allowed_hosts; /* space-separated Host names the TCP listener answers */
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
/* Binds the listeners (a stale UNIX socket file is removed first).  Refuses
 * a plaintext TCP listener on a non-loopback address unless allow_plaintext. */
int server_listen(struct server *s, char *err, size_t errlen);
/* SIGHUP: re-reads the TLS certificate and key for new connections (open
 * ones keep theirs).  0 when done or when TLS is off; -1 keeps the old one. */
int server_reload_tls(struct server *s, const char *cert, const char *key, char *err,
    size_t errlen);
/* Answers evhttp wrote itself (HTML) since start, by status (100..599). */
unsigned long server_libevent_errors(const struct server *s, int status);
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
