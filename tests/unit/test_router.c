/*
 * test_router.c - the router on its own: route lookup over several tables,
 * the API's scopes, and real dispatch over a UNIX socket (status, Allow,
 * params, HEAD, 503 while unavailable, the observe and cancel hooks).
 *
 * Only possible since the router gets what it needs at creation: no daemon,
 * no database, no configuration file.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "api/api.h"
#include "base/log.h"
#include "http/router.h"
#include "http/server.h"

/* --- a test application ---------------------------------------------- */

struct app {
	bool available;
	int handled;
	int64_t last_param;
	enum scope last_scope;
	int observed_route, observed_status, observed;
	int cancelled;
	bool park; /* the handler parks a pending marker, then replies */
};

static void
h_plain(struct request *r)
{
	struct app *a = r->app;

	a->handled++;
	a->last_param = r->params[0];
	a->last_scope = r->route->scope;
	if (a->park)
		r->pending = a; /* the router must hand it to cancel() */
	request_reply_text(r, 200, "text/plain", "ok", 2);
}

static const struct route table_a[] = { { "GET", "/a", SCOPE_NONE, 0, h_plain },
	{ "GET", "/a/{id}", SCOPE_INTAKE, 0, h_plain }, ROUTE_END };

static const struct route table_b[] = { { "POST", "/a/{id}", SCOPE_ADMIN, ROUTE_OPTIONAL_BODY,
	                                    h_plain },
	{ "GET", "/b/{id}/c/{id}", SCOPE_FEEDBACK, ROUTE_NEEDS_DB, h_plain },
	{ "POST", "/w/{name}/t", SCOPE_ADMIN, 0, h_plain }, ROUTE_END };

static const struct route *const tables[] = { table_a, table_b, NULL };

static bool
available(void *app)
{
	return ((struct app *)app)->available;
}

static void
cancel(void *pending)
{
	((struct app *)pending)->cancelled++;
}

static void
observe(void *arg, int route_index, int status, double seconds)
{
	struct app *a = arg;

	(void)seconds;
	a->observed++;
	a->observed_route = route_index;
	a->observed_status = status;
}

struct fixture {
	struct event_base *base;
	struct logger log;
	struct server *server;
	struct router *rt;
	struct app app;
	char dir[64], path[96];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct server_settings ss;
	struct router_settings rs;
	char err[256];

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/alliance-router-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/s.sock", f->dir);
	f->base = event_base_new();
	logger_init(&f->log, LOG_ERROR, stderr);
	memset(&ss, 0, sizeof(ss));
	ss.base = f->base;
	ss.log = &f->log;
	ss.listen_tcp = "";
	ss.listen_unix = f->path;
	ss.listen_unix_mode = 0600;
	ss.limits.max_body_bytes = 4096;
	ss.limits.max_header_bytes = 4096;
	ss.limits.idle_timeout = 5;
	ss.limits.max_connections = 8;
	f->server = server_new(&ss);
	memset(&rs, 0, sizeof(rs));
	rs.base = f->base;
	rs.log = &f->log;
	rs.server = f->server;
	rs.tables = tables;
	rs.request_timeout = 5;
	rs.max_json_depth = 8;
	rs.app = &f->app;
	rs.available = available;
	rs.cancel = cancel;
	rs.observe = observe;
	rs.observe_arg = &f->app;
	f->rt = router_new(&rs);
	if (f->server == NULL || f->rt == NULL)
		return -1;
	server_set_handler(f->server, router_dispatch, f->rt);
	if (server_listen(f->server, err, sizeof(err)) != 0) {
		fprintf(stderr, "listen: %s\n", err);
		return -1;
	}
	f->app.available = true;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	server_free(f->server);
	router_free(f->rt);
	event_base_free(f->base);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Sends one request on a new connection and runs the loop until the whole
 * answer (Connection: close) is back; returns it (static buffer). */
static const char *
roundtrip(struct fixture *f, const char *request)
{
	static char buf[8192];
	struct sockaddr_un sa;
	size_t got = 0;
	int fd, i;

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, f->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
	for (i = 0; i < 2000; i++) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		event_base_loop(f->base, EVLOOP_NONBLOCK);
		if (poll(&p, 1, 1) <= 0)
			continue;
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return buf;
}

static int
status_of(const char *answer)
{
	int st = 0;

	assert_int_equal(sscanf(answer, "HTTP/1.1 %d", &st), 1);
	return st;
}

/* --- lookup ------------------------------------------------------------ */

static void
test_lookup_spans_every_table_in_order(void **state)
{
	struct fixture *f = *state;
	int64_t p[ROUTE_MAX_PARAMS] = { 0 };

	assert_int_equal(router_route_count(f->rt), 5);
	assert_string_equal(router_route(f->rt, 2)->method, "POST");
	assert_null(router_route(f->rt, 5));
	assert_int_equal(router_find(f->rt, "GET", "/a", p), 0);
	assert_int_equal(router_find(f->rt, "GET", "/a/42", p), 1);
	assert_int_equal(p[0], 42);
	assert_int_equal(router_find(f->rt, "POST", "/a/7", p), 2);
	assert_int_equal(router_find(f->rt, "GET", "/b/3/c/9", p), 3);
	assert_true(p[0] == 3 && p[1] == 9);
	assert_int_equal(router_find(f->rt, "HEAD", "/a/1", p), 1);
	assert_int_equal(router_find(f->rt, "DELETE", "/a/1", p), -1);
	assert_int_equal(router_find(f->rt, "GET", "/a/0", p), -1); /* ids are positive */
	assert_int_equal(router_find(f->rt, "GET", "/a/x", p), -1);
	assert_int_equal(router_find(f->rt, "GET", "/a/1/", p), -1);
	/* One spelling per id: a leading zero names no resource (issue 11). */
	assert_int_equal(router_find(f->rt, "GET", "/a/0001", p), -1);
	assert_int_equal(router_find(f->rt, "GET", "/a/01", p), -1);
	assert_int_equal(router_find(f->rt, "GET", "/b/3/c/09", p), -1);
	assert_int_equal(router_find(f->rt, "GET", "/a/10", p), 1);
	/* {name}: 1..63 of [A-Za-z0-9._-], nothing else (issue 13). */
	assert_int_equal(router_find(f->rt, "POST", "/w/intake/t", p), 4);
	assert_int_equal(router_find(f->rt, "POST", "/w/crm-2.v_1/t", p), 4);
	assert_int_equal(router_find(f->rt, "POST", "/w//t", p), -1);
	assert_int_equal(router_find(f->rt, "POST", "/w/a b/t", p), -1);
	assert_int_equal(router_find(f->rt, "POST", "/w/a%20b/t", p), -1);
	assert_int_equal(router_find(f->rt, "POST", "/w/a/b/t", p), -1);
	assert_int_equal(router_find(f->rt, "POST",
	                     "/w/"
	                     "0123456789012345678901234567890123456789012345678901234567890123"
	                     "/t",
	                     p),
	    -1);
	assert_int_equal(router_find(f->rt, "POST",
	                     "/w/"
	                     "012345678901234567890123456789012345678901234567890123456789012"
	                     "/t",
	                     p),
	    4);
}

/* The real API: every /v1 route needs a scope; health routes none; each
 * route's own path (ids filled in) finds that route, never another. */
static void
test_api_scopes_and_no_shadowing(void **state)
{
	const struct route *const *t;
	const struct route *e;
	struct router_settings rs;
	struct router *rt;
	struct fixture *f = *state;
	int i, n = 0;

	memset(&rs, 0, sizeof(rs));
	rs.base = f->base;
	rs.log = &f->log;
	rs.server = f->server;
	rs.tables = api_route_tables;
	rt = router_new(&rs);
	assert_non_null(rt);
	for (t = api_route_tables; *t != NULL; t++)
		for (e = *t; e->method != NULL; e++)
			n++;
	assert_int_equal(router_route_count(rt), n);
	assert_true(n >= 24);
	for (i = 0; i < n; i++) {
		const struct route *r = router_route(rt, i);
		char path[128], *o = path;
		const char *s;
		int64_t p[ROUTE_MAX_PARAMS];

		if (strncmp(r->path, "/v1/", 4) == 0)
			assert_int_not_equal(r->scope, SCOPE_NONE);
		else
			assert_int_equal(r->scope, SCOPE_NONE);
		for (s = r->path; *s != '\0';) {
			if (strncmp(s, "{id}", 4) == 0) {
				*o++ = '5';
				s += 4;
			} else if (strncmp(s, "{name}", 6) == 0) {
				memcpy(o, "intake", 6);
				o += 6;
				s += 6;
			} else {
				*o++ = *s++;
			}
		}
		*o = '\0';
		assert_int_equal(router_find(rt, r->method, path, p), i);
	}
	router_free(rt);
}

/* --- dispatch ----------------------------------------------------------- */

static void
test_dispatch_calls_the_handler_with_params_and_scope(void **state)
{
	struct fixture *f = *state;
	const char *ans =
	    roundtrip(f, "GET /a/42 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");

	assert_int_equal(status_of(ans), 200);
	assert_non_null(strstr(ans, "X-Request-Id: "));
	assert_int_equal(f->app.handled, 1);
	assert_int_equal(f->app.last_param, 42);
	assert_int_equal(f->app.last_scope, SCOPE_INTAKE);
	assert_int_equal(f->app.observed, 1);
	assert_int_equal(f->app.observed_route, 1);
	assert_int_equal(f->app.observed_status, 200);
}

static void
test_dispatch_answers_404_405_and_head(void **state)
{
	struct fixture *f = *state;
	const char *ans;

	ans = roundtrip(f, "GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
	assert_int_equal(status_of(ans), 404);
	assert_non_null(strstr(ans, "application/problem+json"));
	assert_int_equal(f->app.observed_route, -1);
	ans = roundtrip(f, "DELETE /a/1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
	assert_int_equal(status_of(ans), 405);
	assert_non_null(strstr(ans, "Allow: GET, POST"));
	ans = roundtrip(f, "HEAD /a/9 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
	assert_int_equal(status_of(ans), 200);
	assert_int_equal(f->app.last_param, 9);
	assert_int_equal(f->app.handled, 1);
}

static void
test_dispatch_refuses_bodies_the_route_does_not_take(void **state)
{
	struct fixture *f = *state;
	const char *ans;

	ans = roundtrip(f,
	    "GET /a/1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
	    "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
	assert_int_equal(status_of(ans), 400);
	ans = roundtrip(f,
	    "POST /a/1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
	    "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}");
	assert_int_equal(status_of(ans), 415);
	ans = roundtrip(f,
	    "POST /a/1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
	    "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{]");
	assert_int_equal(status_of(ans), 400);
	assert_int_equal(f->app.handled, 0);
	ans = roundtrip(f,
	    "POST /a/1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
	    "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
	assert_int_equal(status_of(ans), 200);
	assert_int_equal(f->app.last_scope, SCOPE_ADMIN);
}

static void
test_dispatch_503_while_unavailable(void **state)
{
	struct fixture *f = *state;
	const char *ans;

	f->app.available = false;
	ans = roundtrip(f, "GET /b/1/c/2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
	assert_int_equal(status_of(ans), 503);
	assert_non_null(strstr(ans, "Retry-After: 1"));
	assert_int_equal(f->app.handled, 0);
	/* routes that need no database still answer */
	ans = roundtrip(f, "GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
	assert_int_equal(status_of(ans), 200);
}

static void
test_a_reply_hands_pending_work_to_cancel(void **state)
{
	struct fixture *f = *state;
	const char *ans;

	f->app.park = true;
	ans = roundtrip(f, "GET /a/3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
	assert_int_equal(status_of(ans), 200);
	assert_int_equal(f->app.cancelled, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lookup_spans_every_table_in_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_api_scopes_and_no_shadowing, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_dispatch_calls_the_handler_with_params_and_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_answers_404_405_and_head, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_dispatch_refuses_bodies_the_route_does_not_take, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_503_while_unavailable, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_a_reply_hands_pending_work_to_cancel, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
