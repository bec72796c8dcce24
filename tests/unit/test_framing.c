/*
 * test_framing.c - a connection's request framing on its own, over a
 * bufferevent pair: what evhttp would get to read for each kind of input
 * (passed whole, held until complete, a refusal's stand-in, dropped).
 */
#include <setjmp.h>
#include <sys/queue.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "http/framing.h"

struct fixture {
	struct event_base *base;
	struct bufferevent *pair[2]; /* [0] the client, [1] evhttp's side */
	struct framing_limits lim;
	struct framing *f;
};

static const char *const hosts[] = { "localhost", "127.0.0.1", "[::1]", NULL };

static int
setup_with(void **state, const char *const *allowed)
{
	struct fixture *x = calloc(1, sizeof(*x));
	struct framing_settings fs;

	assert_non_null(x);
	x->base = event_base_new();
	assert_int_equal(bufferevent_pair_new(x->base, 0, x->pair), 0);
	bufferevent_enable(x->pair[1], EV_READ);
	x->lim.max_body_bytes = 1000;
	x->lim.max_header_bytes = 512;
	x->lim.read_timeout = 30;
	memset(&fs, 0, sizeof(fs));
	fs.base = x->base;
	fs.limits = &x->lim;
	fs.allowed_hosts = allowed;
	x->f = framing_new(&fs, x->pair[1]);
	assert_non_null(x->f);
	*state = x;
	return 0;
}

static int
setup(void **state)
{
	return setup_with(state, hosts);
}

static int
setup_unix(void **state)
{
	return setup_with(state, NULL);
}

static int
teardown(void **state)
{
	struct fixture *x = *state;

	framing_free(x->f);
	bufferevent_free(x->pair[0]);
	bufferevent_free(x->pair[1]);
	event_base_free(x->base);
	free(x);
	return 0;
}

static void
send_text(struct fixture *x, const char *s)
{
	bufferevent_write(x->pair[0], s, strlen(s));
}

/* What evhttp would read now (NUL-terminated copy; the buffer is left as is). */
static char *
seen(struct fixture *x)
{
	struct evbuffer *in = bufferevent_get_input(x->pair[1]);
	size_t n = evbuffer_get_length(in);
	char *s = malloc(n + 1);

	assert_non_null(s);
	evbuffer_copyout(in, s, n);
	s[n] = '\0';
	return s;
}

static void
assert_seen(struct fixture *x, const char *want)
{
	char *s = seen(x);

	assert_string_equal(s, want);
	free(s);
}

static void
test_whole_request_passes_unchanged(void **state)
{
	struct fixture *x = *state;
	const char *req = "POST /v1/match HTTP/1.1\r\nHost: localhost:7420\r\n"
	                  "Content-Length: 2\r\n\r\n{}";

	send_text(x, req);
	assert_seen(x, req);
}

static void
test_header_block_held_until_complete(void **state)
{
	struct fixture *x = *state;
	const char *req = "GET /healthz HTTP/1.1\nHost: 127.0.0.1\n\n";
	size_t i;

	for (i = 0; req[i + 1] != '\0'; i++) {
		bufferevent_write(x->pair[0], req + i, 1);
		assert_seen(x, "");
	}
	bufferevent_write(x->pair[0], req + i, 1);
	assert_seen(x, req);
}

static void
test_body_over_limit_stand_in(void **state)
{
	struct fixture *x = *state;

	send_text(x,
	    "POST /v1/match HTTP/1.1\r\nHost: localhost\r\nContent-Type: a/b\r\n"
	    "Expect: 100-continue\r\nContent-Length: 1001\r\n\r\nbody bytes");
	assert_seen(x,
	    "POST /v1/match HTTP/1.1\r\nConnection: close\r\n" FRAMING_REFUSE_HEADER
	    ": 413\r\n\r\n");
	send_text(x, "more body, and a request: GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
	assert_seen(x,
	    "POST /v1/match HTTP/1.1\r\nConnection: close\r\n" FRAMING_REFUSE_HEADER
	    ": 413\r\n\r\n"); /* dropped, never read */
}

static void
test_body_at_limit_and_pipelined(void **state)
{
	struct fixture *x = *state;
	char req[1200];
	char *body = malloc(1001);

	assert_non_null(body);
	memset(body, 'x', 1000);
	body[1000] = '\0';
	snprintf(req, sizeof(req),
	    "PUT /a HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n%sGET /b HTTP/1.1\r\n",
	    body);
	send_text(x, req);
	/* The body is passed; the next request's start is held. */
	*strstr(req, "GET /b") = '\0';
	assert_seen(x, req);
	send_text(x, "Host: localhost\r\n\r\n");
	strcat(req, "GET /b HTTP/1.1\r\nHost: localhost\r\n\r\n");
	assert_seen(x, req);
	free(body);
}

static void
test_chunked_411(void **state)
{
	struct fixture *x = *state;

	send_text(x,
	    "POST /x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n");
	assert_seen(x,
	    "POST /x HTTP/1.1\r\nConnection: close\r\n" FRAMING_REFUSE_HEADER ": 411\r\n\r\n");
}

static void
test_head_ignores_content_length(void **state)
{
	struct fixture *x = *state;
	const char *req = "HEAD /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 99999\r\n\r\n"
	                  "GET /y HTTP/1.1\r\nHost: localhost\r\n\r\n";

	send_text(x, req);
	assert_seen(x, req); /* evhttp reads no body for HEAD: neither do we */
}

static void
test_host_allowlist(void **state)
{
	struct fixture *x = *state;

	send_text(x, "GET /x HTTP/1.1\r\nHost: [::1]:7420\r\n\r\n");
	assert_seen(x, "GET /x HTTP/1.1\r\nHost: [::1]:7420\r\n\r\n");
	evbuffer_drain(bufferevent_get_input(x->pair[1]), 1000);
	send_text(x, "GET /x HTTP/1.1\r\nHost: attacker.example\r\n\r\n");
	assert_seen(x,
	    "GET /x HTTP/1.1\r\nConnection: close\r\n" FRAMING_REFUSE_HEADER ": 421\r\n\r\n");
}

static void
test_unix_socket_has_no_host_rule(void **state)
{
	struct fixture *x = *state;
	const char *req = "GET /x HTTP/1.1\r\nHost: anything\r\n\r\n";

	send_text(x, req);
	assert_seen(x, req);
}

static void
test_two_lengths_400(void **state)
{
	struct fixture *x = *state;

	send_text(x,
	    "POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n"
	    "Content-Length: 2\r\n\r\n");
	assert_seen(x,
	    "POST /x HTTP/1.1\r\nConnection: close\r\n" FRAMING_REFUSE_HEADER
	    ": 400 length\r\n\r\n");
}

static void
test_forged_marker_400(void **state)
{
	struct fixture *x = *state;

	send_text(x, "GET /x HTTP/1.1\r\nHost: localhost\r\n" FRAMING_REFUSE_HEADER ": 0\r\n\r\n");
	assert_seen(x,
	    "GET /x HTTP/1.1\r\nConnection: close\r\n" FRAMING_REFUSE_HEADER
	    ": 400 reserved\r\n\r\n");
}

static void
test_oversized_header_block_431(void **state)
{
	struct fixture *x = *state;
	char pad[700];

	memset(pad, 'a', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	send_text(x, "GET /x HTTP/1.1\r\nX-Pad: ");
	send_text(x, pad);
	assert_seen(x,
	    "GET / HTTP/1.1\r\nConnection: close\r\n" FRAMING_REFUSE_HEADER ": 431\r\n\r\n");
}

static void
test_refusal_header_read_and_removed(void **state)
{
	struct evkeyvalq h;
	const char *detail = NULL;

	(void)state;
	TAILQ_INIT(&h);
	assert_int_equal(framing_refusal(&h, &detail), 0);
	evhttp_add_header(&h, FRAMING_REFUSE_HEADER, "413");
	assert_int_equal(framing_refusal(&h, &detail), 413);
	assert_non_null(strstr(detail, "max_body_bytes"));
	assert_null(evhttp_find_header(&h, FRAMING_REFUSE_HEADER));
	evhttp_add_header(&h, FRAMING_REFUSE_HEADER, "400 fold");
	assert_int_equal(framing_refusal(&h, &detail), 400);
	assert_non_null(strstr(detail, "folded"));
	evhttp_clear_headers(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_whole_request_passes_unchanged, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_header_block_held_until_complete, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_body_over_limit_stand_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_at_limit_and_pipelined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunked_411, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_ignores_content_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_allowlist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unix_socket_has_no_host_rule, setup_unix,
		    teardown),
		cmocka_unit_test_setup_teardown(test_two_lengths_400, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_marker_400, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_header_block_431, setup, teardown),
		cmocka_unit_test(test_refusal_header_read_and_removed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
