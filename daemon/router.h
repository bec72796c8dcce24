/*
 * router.h - requests, the route table's types and dispatch.
 *
 * Every request is a struct request owned by the router from arrival until
 * one of the reply functions is called; a reply frees it (after cancelling
 * any database query still pending for it), so a handler must not touch the
 * request after replying.  Handlers that wait for the database store the
 * query in r->pending (or, for a transaction, the leased connection in
 * r->lease); a request that runs past limits.request_timeout is answered 503
 * by the router, its pending query cancelled and its lease released.
 */
#ifndef ALLIANCE_ROUTER_H
#define ALLIANCE_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event_struct.h>
#include <jansson.h>

#include "db.h"

struct daemon;
struct evhttp_request;
struct event;
struct db_query;
struct db_conn;
struct request;
struct evkeyvalq;
struct pg_result;
struct json_writer;

/* Who may call a route (DESIGN.md "Scopes"); enforced by the auth layer. */
enum scope {
	SCOPE_NONE = 0,		/* health, readiness, metrics */
	SCOPE_INTAKE,
	SCOPE_FEEDBACK,
	SCOPE_ADMIN
};

/* Route flags. */
#define ROUTE_JSON_BODY		0x01	/* a JSON body is required */
#define ROUTE_OPTIONAL_BODY	0x02	/* a JSON body may be sent */
#define ROUTE_NEEDS_DB		0x04	/* 503 at once while the database is down */
#define ROUTE_ARRAY_BODY	0x08	/* the body is a JSON array (else an object) */

#define ROUTE_MAX_PARAMS 2

typedef void (*route_fn)(struct request *r);

struct route {
	const char *method;	/* "GET", "POST", ... */
	const char *path;	/* pattern; "{id}" matches a positive integer */
	enum scope scope;
	int flags;
	route_fn handler;
};

struct request {
	struct daemon *d;
	struct evhttp_request *req;	/* not owned (libevent's) */
	const struct route *route;
	int route_index;		/* into the table; -1 when unmatched */
	char id[48];			/* request id, echoed as X-Request-Id */
	double started;			/* daemon_now() at arrival */
	int64_t params[ROUTE_MAX_PARAMS];	/* the {id}s of the path, in order */
	json_t *body;			/* owned; parsed JSON body or NULL */
	struct evkeyvalq *query;	/* owned; decoded query string */
	struct event timer;		/* request_timeout; inside the request: no
					 * allocation per request */
	bool timer_set;
	struct db_query *pending;	/* query to cancel if the request ends first */
	struct db_conn *lease;		/* leased connection (transaction); released, and
					 * an open transaction rolled back, when the request
					 * ends first: a late callback never runs */
	void *state;			/* handler state, freed by state_free */
	void (*state_free)(void *state);
};

/* The table (routes.c) and its size. */
extern const struct route route_table[];
extern const int route_count;

/* libevent's generic callback: matching, body checks, dispatch. */
void router_dispatch(struct evhttp_request *req, void *arg /* struct daemon * */);

/* Replies; each frees r. body is stolen (json_decref'd); sent as application/json. */
void request_reply_json(struct request *r, int status, json_t *body);
void request_reply_text(struct request *r, int status, const char *content_type,
			const char *text, size_t len);
/* The writer's text as application/json (500 when writing it failed); frees
 * the writer's heap buffer, if it grew one. */
void request_reply_writer(struct request *r, int status, struct json_writer *w);
/* An RFC 9457 problem; errors (stolen, may be NULL) is a list of {field, message}. */
void request_problem(struct request *r, int status, const char *detail, json_t *errors);
/* 503 with Retry-After: 1, saying why in detail (a passing condition). */
void request_retry_later(struct request *r, const char *detail);
/* request_retry_later: the database is unavailable. */
void request_unavailable(struct request *r);
/* 404 "no <what> <id>" for the path's first {id}. */
void request_not_found(struct request *r, const char *what);
/* Answers a failed statement the one standard way: 503 with Retry-After when
 * the database is away or busy; by SQLSTATE 409 for a unique violation, 422
 * for a foreign-key, check or data error, else 500.  Logs WHAT, the SQLSTATE
 * and the request id only (never values).  A route with a more precise
 * answer for some SQLSTATE checks it first (db_sqlstate) and falls back here. */
void request_db_failure(struct request *r, enum db_status st, const PGresult *res,
			const char *what);
/* Runs SQL with the path's first {id} as $1, the request as the callback's
 * argument and r->pending set; 503 at once when the database is away. */
void request_db_by_id(struct request *r, const char *sql, db_result_cb cb);
/* In a callback: clears r->pending; true when the statement succeeded with
 * at least one row.  Otherwise it has answered (request_db_failure, or 404
 * "no <thing> <id>" for no row) and the caller must not touch r. */
bool request_db_row(struct request *r, enum db_status st, const PGresult *res,
		    const char *what, const char *thing);
/* The SQLSTATE of a failed result; "" when there is none. */
const char *db_sqlstate(const PGresult *res);
/* Adds a response header (before replying). */
void request_header(struct request *r, const char *name, const char *value);

/* Query-string helpers: 0 ok, -1 replied with 422 already. */
const char *request_query(struct request *r, const char *name);
int request_query_int(struct request *r, const char *name, int def, int min, int max, int *out);

#endif
