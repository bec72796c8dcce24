/*
 * router.h - requests, the route table's types and dispatch.
 *
 * Every request is a struct request owned by the router from arrival until
 * one of the reply functions is called; a reply frees it, so a handler must
 * not touch the request after replying.  Work a request waits for outside
 * the router (a database query, a leased connection) is parked in
 * r->pending and r->lease; when the request ends first (timeout, early
 * answer) the router hands them to the settings' cancel and release hooks,
 * so a late callback never sees a freed request.  A request that runs past
 * its timeout is answered 503 by the router.
 *
 * The router knows nothing of the routes' resources: it gets the route
 * table, the application context (r->app) and its hooks at creation.
 */
#ifndef ALLIANCE_ROUTER_H
#define ALLIANCE_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event_struct.h>
#include <jansson.h>

#include "base/compiler.h"
#include "http/auth.h"

struct evhttp_request;
struct event_base;
struct evkeyvalq;
struct json_writer;
struct logger;
struct request;
struct router;
struct server;

/* Who may call a route (README "API": scopes). */
enum scope {
	SCOPE_NONE = 0, /* health, readiness, metrics */
	SCOPE_INTAKE,
	SCOPE_FEEDBACK,
	SCOPE_ADMIN
};

/* Route flags. */
#define ROUTE_JSON_BODY     0x01 /* a JSON body is required */
#define ROUTE_OPTIONAL_BODY 0x02 /* a JSON body may be sent */
#define ROUTE_NEEDS_DB      0x04 /* 503 at once while the database is down */
#define ROUTE_ARRAY_BODY    0x08 /* the body is a JSON array (else an object) */
/* Audited routes (README "Security"): a 2xx answer wrote its audit row in the
 * route's own statement; any other answer gets one from the finished hook.
 * The path's first {id} names a client or an episode. */
#define ROUTE_AUDIT         0x10
#define ROUTE_AUDIT_CLIENT  (ROUTE_AUDIT | 0x20)
#define ROUTE_AUDIT_EPISODE (ROUTE_AUDIT | 0x40)

#define ROUTE_MAX_PARAMS 2
#define ROUTE_NAME_MAX   64 /* a {name} segment and its NUL */

typedef void (*route_fn)(struct request *r);

/* One route, declared beside its handler: each api/routes_*.c ends with its
 * table of entries closed by ROUTE_END, and api/routes.c lists the tables. */
struct route {
	const char *method; /* "GET", "POST", ...; NULL ends a table */
	const char *path;   /* pattern; "{id}" matches a positive integer, "{name}"
			     * 1..63 of [A-Za-z0-9._-] */
	enum scope scope;
	int flags;
	route_fn handler;
};
#define ROUTE_END                               \
	{                                       \
		NULL, NULL, SCOPE_NONE, 0, NULL \
	}

struct request {
	struct router *rt;          /* the router that owns the request */
	void *app;                  /* the settings' app: the routes' context */
	struct evhttp_request *req; /* not owned (libevent's) */
	const struct route *route;
	int route_index;                  /* into the table; -1 when unmatched */
	char id[48];                      /* the daemon's request id, echoed as X-Request-Id */
	char correlation[48];             /* the caller's X-Request-Id when sane, else "" */
	struct auth_result auth;          /* who called (actor, scope, peer) */
	double started;                   /* clock_now() at arrival */
	int64_t params[ROUTE_MAX_PARAMS]; /* the {id}s of the path, in order */
	char name[ROUTE_NAME_MAX];        /* the path's {name}, else "" */
	json_t *body;                     /* owned; parsed JSON body or NULL */
	struct evkeyvalq *query;          /* owned; decoded query string */
	struct event timer;               /* request_timeout; inside the request: no
					 * allocation per request */
	bool timer_set;
	void *pending; /* work to cancel (hooks.cancel) if the request
					 * ends first */
	void *lease;   /* a held resource (a leased connection) given to
					 * hooks.release when the request ends */
	void *state;   /* handler state, freed by state_free */
	void (*state_free)(void *state);
};

/* What the router needs, given at creation; every pointer is borrowed and
 * must outlive the router. */
struct router_settings {
	struct event_base *base;
	const struct logger *log;
	struct server *server; /* request accounting and the stopping state */
	/* NULL-terminated list of route tables (each closed by ROUTE_END). */
	const struct route *const *tables;
	int request_timeout; /* seconds; router_apply_limits changes it */
	int max_json_depth;
	unsigned long long id_epoch; /* prefix of generated request ids (start time) */
	void *app;                   /* handed to every request as r->app */
	/* ROUTE_NEEDS_DB routes answer 503 at once while this says false. */
	bool (*available)(void *app);
	/* r->pending and r->lease of a request that ends (either may be NULL:
	 * not called then). */
	void (*cancel)(void *pending);
	void (*release)(void *lease);
	/* Each answered request: its route index (-1 unmatched), status, duration. */
	void (*observe)(void *arg, int route_index, int status, double seconds);
	void *observe_arg;
	/* Authentication (http/auth.h), borrowed; NULL = every route open (unit
	 * tests of the router).  Routes of SCOPE_NONE are always open. */
	struct auth *auth;
	/* Optional: each answered request, just before it is freed (the audit of
	 * refused requests). */
	void (*finished)(void *app, const struct request *r, int status);
};

/* NULL on bad settings or out of memory. */
struct router *router_new(const struct router_settings *set);
void router_free(struct router *rt);
void router_apply_limits(struct router *rt, int request_timeout, int max_json_depth);
/* The routes in dispatch order; index i is the route_index of metrics. */
int router_route_count(const struct router *rt);
const struct route *router_route(const struct router *rt, int i);
/* The route a method and path resolve to (HEAD finds GET); -1 when none. */
int router_find(const struct router *rt, const char *method, const char *path,
    int64_t params[ROUTE_MAX_PARAMS]);

/* libevent's generic callback (server_set_handler): matching, body checks, dispatch. */
void router_dispatch(struct evhttp_request *req, void *arg /* struct router * */);
/* The logger of the request's router (for handlers' log lines). */
const struct logger *request_log(const struct request *r);

/* Replies; each frees r. body is stolen (json_decref'd); sent as application/json. */
void request_reply_json(struct request *r, int status, json_t *body);
void request_reply_text(struct request *r, int status, const char *content_type, const char *text,
    size_t len);
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
/* Zeroed handler state of SIZE bytes in r->state, freed with free_fn (free
 * when NULL) when the request ends.  NULL after answering 500 (out of
 * memory): the handler returns. */
void *request_state_new(struct request *r, size_t size, void (*free_fn)(void *));
/* Whether s could be a {name} segment: 1..ROUTE_NAME_MAX-1 of [A-Za-z0-9._-]. */
bool route_name_valid(const char *s);
/* Adds a response header (before replying). */
void request_header(struct request *r, const char *name, const char *value);

/* 422 "invalid query parameter" naming the parameter NAME and what is wrong. */
void request_query_problem(struct request *r, const char *name, const char *message);
/* Query-string helpers: 0 ok, -1 replied with 422 already (r is gone). */
const char *request_query(struct request *r, const char *name);
MUSTCHECK int request_query_int(struct request *r, const char *name, int def, int min, int max,
    int *out);

#endif
