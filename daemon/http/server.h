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

#include <stddef.h>

struct daemon;
struct config;
struct server;
struct evhttp_request;

/* Creates the evhttp with d->cfg's limits; binds nothing yet.  NULL on error. */
struct server *server_new(struct daemon *d);
/* Binds the listeners of d->cfg (a stale UNIX socket file is removed first). */
int server_listen(struct server *s, char *err, size_t errlen);
/* Applies the reloadable limits of CFG (body, headers, timeouts, connections). */
void server_apply_limits(struct server *s, const struct config *cfg);
/* Closes the listeners (and removes the UNIX socket file): graceful stop. */
void server_stop_accepting(struct server *s);
/* Frees everything; open connections are closed. */
void server_free(struct server *s);

/* Request accounting, called by the router. */
void server_request_begin(struct server *s, struct evhttp_request *req);
void server_request_end(struct server *s);
int server_inflight(const struct server *s);
int server_connections(const struct server *s);

#endif
