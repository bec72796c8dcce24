/*
 * router.c - from an evhttp request to a route handler and back.
 *
 * Matching walks the route tables (api/routes.c lists them).  The checks every route
 * shares happen here, once: method (405 with Allow), database availability
 * (503), Content-Type (415), body depth and syntax (400), the request
 * timeout, the request id, the access log line and the metrics.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "base/clock.h"
#include "base/log.h"
#include "codec/json_writer.h"
#include "http/json_body.h"
#include "http/problem.h"
#include "http/framing.h"
#include "http/router.h"
#include "http/server.h"

struct router {
	struct router_settings set;  /* pointers borrowed */
	const struct route **routes; /* owned array; the entries are borrowed */
	int nroutes;
	unsigned long long next_request_id;
};

static const char *
method_name(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "?";
}

/* A {name} segment: 1..ROUTE_NAME_MAX-1 of [A-Za-z0-9._-] (config names:
 * nothing to escape in logs, audits or problem details). */
static const char name_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";

bool
route_name_valid(const char *s)
{
	size_t n = strspn(s, name_chars);

	return n > 0 && n < ROUTE_NAME_MAX && s[n] == '\0';
}

static const char *
name_match(const char *path, char *name)
{
	size_t n = strspn(path, name_chars);

	if (n == 0 || n >= ROUTE_NAME_MAX)
		return NULL;
	memcpy(name, path, n);
	name[n] = '\0';
	return path + n;
}

/* Matches PATH against PATTERN; fills params with the {id} segments and
 * name with the {name} one. */
static bool
path_match(const char *pattern, const char *path, int64_t *params, char *name)
{
	int np = 0;

	while (*pattern != '\0' && *path != '\0') {
		if (strncmp(pattern, "{name}", 6) == 0) {
			path = name_match(path, name);
			if (path == NULL)
				return false;
			pattern += 6;
			continue;
		}
		if (pattern[0] == '{') {
			const char *end = strchr(pattern, '}');
			int64_t v = 0;
			int digits = 0;

			if (end == NULL)
				return false;
			/* One spelling per id: "0001" is not resource 1 (caches, logs
			 * and audits key on the path). */
			if (path[0] == '0')
				return false;
			while (isdigit((unsigned char)*path)) {
				if (++digits > 15)
					return false; /* ids fit a JSON number exactly */
				v = v * 10 + (*path - '0');
				path++;
			}
			if (digits == 0 || v <= 0 || np >= ROUTE_MAX_PARAMS)
				return false;
			params[np++] = v;
			pattern = end + 1;
			continue;
		}
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	return *pattern == '\0' && *path == '\0';
}

/* Every '%' starts an escape of two hex digits (RFC 3986): libevent passes
 * "%zz" through as text, so a typo would reach the handler as a value. */
static bool
query_escapes_valid(const char *qs)
{
	for (; *qs != '\0'; qs++)
		if (*qs == '%' &&
		    (!isxdigit((unsigned char)qs[1]) || !isxdigit((unsigned char)qs[2])))
			return false;
	return true;
}

static void
request_free(struct request *r)
{
	const struct router_settings *set = &r->rt->set;

	if (r->pending != NULL && set->cancel != NULL)
		set->cancel(r->pending);
	if (r->lease != NULL && set->release != NULL)
		set->release(r->lease);
	if (r->state_free != NULL)
		r->state_free(r->state);
	if (r->timer_set)
		event_del(&r->timer);
	if (r->query != NULL) {
		evhttp_clear_headers(r->query);
		free(r->query);
	}
	json_decref(r->body);
	server_request_end(r->rt->set.server);
	free(r);
}

static void
request_finish(struct request *r, int status)
{
	const struct router_settings *set = &r->rt->set;
	double dur = clock_now() - r->started;
	const char *route = r->route ? r->route->path : "unmatched";

	if (set->observe != NULL)
		set->observe(set->observe_arg, r->route_index, status, dur);
	if (set->finished != NULL)
		set->finished(set->app, r, status);
	log_info(set->log, "request id=%s method=%s route=%s status=%d duration_ms=%.2f", r->id,
	    method_name(evhttp_request_get_command(r->req)), route, status, dur * 1000.0);
	request_free(r);
}

void *
request_state_new(struct request *r, size_t size, void (*free_fn)(void *))
{
	void *state = calloc(1, size);

	if (state == NULL) {
		request_problem(r, 500, "out of memory", NULL);
		return NULL;
	}
	r->state = state;
	r->state_free = free_fn != NULL ? free_fn : free;
	return state;
}

void
request_header(struct request *r, const char *name, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->req), name, value);
}

/* HEAD: the GET answer's headers with its Content-Length, and no body
 * (evhttp 2.1 would send the body and no length, breaking keep-alive). */
static bool
head_only(struct request *r, size_t len)
{
	char n[24];

	if (evhttp_request_get_command(r->req) != EVHTTP_REQ_HEAD)
		return false;
	snprintf(n, sizeof(n), "%zu", len);
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Content-Length", n);
	return true;
}

static void
send_body(struct request *r, int status, const char *ctype, const char *text, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	struct evbuffer *out = evhttp_request_get_output_buffer(r->req);

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "X-Request-Id", r->id);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (server_stopping(r->rt->set.server))
		evhttp_add_header(h, "Connection", "close");
	if (len > 0 && !head_only(r, len))
		evbuffer_add(out, text, len);
	evhttp_send_reply(r->req, status, http_status_title(status), NULL);
	request_finish(r, status);
}

void
request_reply_text(struct request *r, int status, const char *ctype, const char *text, size_t len)
{
	send_body(r, status, ctype, text, len);
}

static void
reply_json_as(struct request *r, int status, json_t *body, const char *ctype)
{
	/* 15 significant digits: 87.3 prints as 87.3, not 87.299999999999997. */
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;

	json_decref(body);
	if (text == NULL) {
		/* clang-format off */
		static const char oom[] =
		    "{\"type\":\"urn:alliance:problem:500\",\"title\":\"Internal Server Error\","
		    "\"status\":500,\"detail\":\"out of memory\",\"errors\":[]}";
		/* clang-format on */
		send_body(r, 500, "application/problem+json", oom, sizeof(oom) - 1);
		return;
	}
	send_body(r, status, ctype, text, strlen(text));
	free(text);
}

void
request_reply_json(struct request *r, int status, json_t *body)
{
	reply_json_as(r, status, body, "application/json");
}

void
request_reply_writer(struct request *r, int status, struct json_writer *w)
{
	const char *text;
	size_t len;

	if (jw_failed(w)) {
		jw_free(w);
		request_problem(r, 500, "out of memory", NULL);
		return;
	}
	text = jw_text(w, &len);
	send_body(r, status, "application/json", text, len);
	jw_free(w);
}

void
request_problem(struct request *r, int status, const char *detail, json_t *errors)
{
	const char *uri = evhttp_request_get_uri(r->req);

	reply_json_as(r, status, problem_new(status, detail, uri, errors),
	    "application/problem+json");
}

void
request_retry_later(struct request *r, const char *detail)
{
	request_header(r, "Retry-After", "1");
	request_problem(r, 503, detail, NULL);
}

void
request_unavailable(struct request *r)
{
	request_retry_later(r, "the database is unavailable; retry shortly");
}

void
request_not_found(struct request *r, const char *what)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "no %s %lld", what, (long long)r->params[0]);
	request_problem(r, 404, msg, NULL);
}

void
request_query_problem(struct request *r, const char *name, const char *message)
{
	json_t *errs = json_array();

	problem_add_error(errs, name, message);
	request_problem(r, 422, "invalid query parameter", errs);
}

const char *
request_query(struct request *r, const char *name)
{
	return r->query ? evhttp_find_header(r->query, name) : NULL;
}

int
request_query_int(struct request *r, const char *name, int def, int min, int max, int *out)
{
	const char *v = request_query(r, name);
	char *end;
	long n;

	*out = def;
	if (v == NULL)
		return 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n < min || n > max) {
		char msg[96];

		snprintf(msg, sizeof(msg), "must be an integer between %d and %d", min, max);
		request_query_problem(r, name, msg);
		return -1;
	}
	*out = (int)n;
	return 0;
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct request *r = arg;

	(void)fd;
	(void)what;
	log_warn(request_log(r), "request id=%s timed out", r->id);
	request_retry_later(r, "the request timed out");
}

/* The request id is always the daemon's own (an audit row must not carry an
 * id a caller chose); a sane X-Request-Id from a proxy is kept apart as the
 * correlation id. */
static void
set_request_id(struct request *r)
{
	const char *in =
	    evhttp_find_header(evhttp_request_get_input_headers(r->req), "X-Request-Id");
	size_t i, n = in ? strlen(in) : 0;

	snprintf(r->id, sizeof(r->id), "%llx-%llu", r->rt->set.id_epoch, ++r->rt->next_request_id);
	if (n > 0 && n < sizeof(r->correlation)) {
		for (i = 0; i < n; i++)
			if (!isalnum((unsigned char)in[i]) && in[i] != '-' && in[i] != '_')
				break;
		if (i == n)
			memcpy(r->correlation, in, n + 1);
	}
}

/* The caller may call the route (auth_check); 0 to go on, -1 when already
 * answered 401, 403 or 429.  Runs before the body is parsed. */
static int
authorize(struct request *r)
{
	struct timespec now;
	int retry = 1;
	char buf[16];

	/* Expiry is wall-clock time, to the sub-second (the database's). */
	clock_gettime(CLOCK_REALTIME, &now);
	switch (auth_check(r->rt->set.auth, r->req, (int)r->route->scope,
	    (double)now.tv_sec + now.tv_nsec / 1e9, &r->auth, &retry)) {
	case AUTH_OK: return 0;
	case AUTH_UNAUTHORIZED:
		request_header(r, "WWW-Authenticate", "Bearer realm=\"alliance\"");
		request_problem(r, 401, "a valid bearer token is required", NULL);
		return -1;
	case AUTH_FORBIDDEN:
		request_problem(r, 403, "the token's scope does not cover this route", NULL);
		return -1;
	case AUTH_RATE_LIMITED:
		snprintf(buf, sizeof(buf), "%d", retry);
		request_header(r, "Retry-After", buf);
		request_problem(r, 429, "too many requests for this token", NULL);
		return -1;
	}
	request_problem(r, 500, "internal error", NULL);
	return -1;
}

/* Finds the route; on a path known under other methods builds the Allow list
 * (when allow is not NULL). */
static int
find_route(const struct router *rt, const char *method, const char *path, int64_t *params,
    char *name, char *allow, size_t allowlen)
{
	int i;

	if (allow != NULL)
		allow[0] = '\0';
	for (i = 0; i < rt->nroutes; i++) {
		const struct route *e = rt->routes[i];
		int64_t p[ROUTE_MAX_PARAMS] = { 0 };
		char nm[ROUTE_NAME_MAX] = "";

		if (!path_match(e->path, path, p, nm))
			continue;
		if (strcmp(e->method, method) == 0 ||
		    (strcmp(method, "HEAD") == 0 && strcmp(e->method, "GET") == 0)) {
			memcpy(params, p, sizeof(p));
			if (name != NULL)
				memcpy(name, nm, sizeof(nm));
			return i;
		}
		if (allow == NULL)
			continue;
		if (allow[0] != '\0')
			strncat(allow, ", ", allowlen - strlen(allow) - 1);
		strncat(allow, e->method, allowlen - strlen(allow) - 1);
	}
	return -1;
}

int
router_find(const struct router *rt, const char *method, const char *path,
    int64_t params[ROUTE_MAX_PARAMS])
{
	return find_route(rt, method, path, params, NULL, NULL, 0);
}

/* Well-formed JSON of the wrong shape (42, "x", null, [] where an object is
 * expected) is a validation error, not a malformed body: 422 naming the
 * shape.  0 to go on, -1 when already answered. */
static int
body_shape(struct request *r)
{
	bool want_array = (r->route->flags & ROUTE_ARRAY_BODY) != 0;
	const char *what =
	    want_array ? "the body must be a JSON array" : "the body must be a JSON object";
	json_t *errs;

	if (want_array ? json_is_array(r->body) : json_is_object(r->body))
		return 0;
	errs = json_array();
	problem_add_error(errs, "", want_array ? "must be a JSON array" : "must be a JSON object");
	request_problem(r, 422, what, errs);
	return -1;
}

/* Body checks shared by every route; 0 to go on, -1 when already answered. */
static int
read_body(struct request *r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	const char *ctype;
	char err[160];
	char *buf;

	if (len == 0 && !(r->route->flags & ROUTE_JSON_BODY))
		return 0;
	if (!(r->route->flags & (ROUTE_JSON_BODY | ROUTE_OPTIONAL_BODY))) {
		request_problem(r, 400, "this route takes no request body", NULL);
		return -1;
	}
	ctype = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Content-Type");
	if (len > 0 && !json_content_type_ok(ctype)) {
		request_problem(r, 415, "the request body must be application/json", NULL);
		return -1;
	}
	buf = (char *)evbuffer_pullup(in, -1);
	r->body = json_body_parse(buf, len, r->rt->set.max_json_depth, err, sizeof(err));
	if (r->body == NULL) {
		json_t *errs = json_array();

		problem_add_error(errs, "", err);
		request_problem(r, 400, err, errs);
		return -1;
	}
	return body_shape(r);
}

/* A request the connection's framing refused before evhttp read its body
 * (http/framing.h): answered here, in the connection's order, then closed. */
static bool
framing_refused(struct request *r)
{
	const char *detail = NULL;
	int status = framing_refusal(evhttp_request_get_input_headers(r->req), &detail);

	if (status == 0)
		return false;
	if (r->route_index >= 0)
		r->route = r->rt->routes[r->route_index];
	request_header(r, "Connection", "close");
	request_problem(r, status, detail, NULL);
	return true;
}

void
router_dispatch(struct evhttp_request *req, void *arg)
{
	struct router *rt = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
	const char *method = method_name(evhttp_request_get_command(req));
	struct request *r;
	struct timeval tv;
	char allow[64];

	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	r->rt = rt;
	r->app = rt->set.app;
	r->req = req;
	r->route_index = -1;
	r->started = clock_now();
	server_request_begin(rt->set.server, req);
	set_request_id(r);

	if (server_stopping(rt->set.server)) {
		request_retry_later(r, "the server is shutting down");
		return;
	}
	if (path == NULL || path[0] == '\0')
		path = "/";
	r->route_index = find_route(rt, method, path, r->params, r->name, allow, sizeof(allow));
	if (framing_refused(r))
		return;
	if (r->route_index < 0) {
		if (allow[0] != '\0') {
			request_header(r, "Allow", allow);
			request_problem(r, 405, "method not allowed on this resource", NULL);
		} else {
			request_problem(r, 404, "no such resource", NULL);
		}
		return;
	}
	r->route = rt->routes[r->route_index];
	if (r->route->scope != SCOPE_NONE && rt->set.auth != NULL) {
		if (authorize(r) < 0)
			return;
	} else {
		auth_peer(req, &r->auth);
	}
	if (qs != NULL) {
		r->query = calloc(1, sizeof(*r->query));
		if (r->query == NULL || !query_escapes_valid(qs) ||
		    evhttp_parse_query_str(qs, r->query) != 0) {
			request_problem(r, 400, "malformed query string", NULL);
			return;
		}
	}
	if (read_body(r) < 0)
		return;
	if ((r->route->flags & ROUTE_NEEDS_DB) && rt->set.available != NULL &&
	    !rt->set.available(rt->set.app)) {
		request_unavailable(r);
		return;
	}
	evtimer_assign(&r->timer, rt->set.base, timeout_cb, r);
	r->timer_set = true;
	tv.tv_sec = rt->set.request_timeout;
	tv.tv_usec = 0;
	evtimer_add(&r->timer, &tv);
	r->route->handler(r);
}

const struct logger *
request_log(const struct request *r)
{
	return r->rt->set.log;
}

struct router *
router_new(const struct router_settings *set)
{
	struct router *rt;
	const struct route *const *t;
	const struct route *e;
	int n = 0;

	if (set->base == NULL || set->log == NULL || set->server == NULL || set->tables == NULL)
		return NULL;
	for (t = set->tables; *t != NULL; t++)
		for (e = *t; e->method != NULL; e++)
			n++;
	rt = calloc(1, sizeof(*rt));
	if (rt == NULL)
		return NULL;
	rt->routes = calloc((size_t)n + 1, sizeof(*rt->routes));
	if (rt->routes == NULL) {
		free(rt);
		return NULL;
	}
	rt->set = *set;
	for (t = set->tables; *t != NULL; t++)
		for (e = *t; e->method != NULL; e++)
			rt->routes[rt->nroutes++] = e;
	return rt;
}

void
router_free(struct router *rt)
{
	if (rt == NULL)
		return;
	free(rt->routes);
	free(rt);
}

void
router_apply_limits(struct router *rt, int request_timeout, int max_json_depth)
{
	rt->set.request_timeout = request_timeout;
	rt->set.max_json_depth = max_json_depth;
}

int
router_route_count(const struct router *rt)
{
	return rt->nroutes;
}

const struct route *
router_route(const struct router *rt, int i)
{
	return i >= 0 && i < rt->nroutes ? rt->routes[i] : NULL;
}
