/*
 * test_auth.c - http/auth on its own: token format and digest, and
 * auth_check's answers (401, 403, admin implies every scope, expiry, the
 * token bucket) with a lookup callback standing where the token cache is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <event2/http.h>
#include <event2/http_struct.h>

#include "http/auth.h"

/* One known token: its digest, name and scope come from the test. */
struct table {
	unsigned char digest[AUTH_DIGEST_LEN];
	struct auth_token tok;
	int used;
};

static int
lookup_cb(void *arg, const unsigned char digest[AUTH_DIGEST_LEN], struct auth_token *out)
{
	struct table *t = arg;

	if (memcmp(digest, t->digest, AUTH_DIGEST_LEN) != 0)
		return 0;
	*out = t->tok;
	return 1;
}

static void
used_cb(void *arg, const char *name)
{
	struct table *t = arg;

	assert_string_equal(name, t->tok.name);
	t->used++;
}

static struct evhttp_request *
request_with(const char *authorization)
{
	struct evhttp_request *req = evhttp_request_new(NULL, NULL);

	assert_non_null(req);
	if (authorization != NULL)
		evhttp_add_header(evhttp_request_get_input_headers(req), "Authorization",
		    authorization);
	return req;
}

static enum auth_status
check(struct auth *a, const char *authorization, int need, double now, int *retry)
{
	struct evhttp_request *req = request_with(authorization);
	struct auth_result res;
	enum auth_status st;

	st = auth_check(a, req, need, now, &res, retry);
	if (st == AUTH_OK)
		assert_true(strncmp(res.actor, "token:", 6) == 0);
	evhttp_request_free(req);
	return st;
}

static void
test_token_format_and_digest(void **state)
{
	static const unsigned char abc[AUTH_DIGEST_LEN] = { 0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01,
		0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3,
		0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad };
	unsigned char d[AUTH_DIGEST_LEN];
	char t1[AUTH_TOKEN_LEN + 1], t2[AUTH_TOKEN_LEN + 1];
	size_t i;

	(void)state;
	auth_token_digest("abc", d);
	assert_memory_equal(d, abc, sizeof(abc)); /* FIPS 180-2's example */
	assert_int_equal(auth_token_generate(t1), 0);
	assert_int_equal(auth_token_generate(t2), 0);
	assert_int_equal(strlen(t1), AUTH_TOKEN_LEN);
	assert_true(strncmp(t1, "alc_", 4) == 0);
	for (i = 4; i < AUTH_TOKEN_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", t1[i]));
	assert_string_not_equal(t1, t2);
}

static struct auth *
new_auth(struct table *t, const char *token, int scope, double rate, int burst)
{
	struct auth_settings set = { lookup_cb, used_cb, t, 12345, rate, burst };

	memset(t, 0, sizeof(*t));
	auth_token_digest(token, t->digest);
	snprintf(t->tok.name, sizeof(t->tok.name), "%s", "intake-system");
	t->tok.scope = scope;
	return auth_new(&set);
}

static void
test_401_403_and_scopes(void **state)
{
	char tok[AUTH_TOKEN_LEN + 1], hdr[AUTH_TOKEN_LEN + 16], other[AUTH_TOKEN_LEN + 16];
	struct table t;
	struct auth *a;
	int retry = 0;

	(void)state;
	assert_int_equal(auth_token_generate(tok), 0);
	a = new_auth(&t, tok, 1 /* intake */, 0, 1);
	assert_non_null(a);
	snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
	snprintf(other, sizeof(other), "Bearer alc_%064d", 0);
	assert_int_equal(check(a, NULL, 1, 0, &retry), AUTH_UNAUTHORIZED);
	assert_int_equal(check(a, "Basic dXNlcjpwYXNz", 1, 0, &retry), AUTH_UNAUTHORIZED);
	assert_int_equal(check(a, other, 1, 0, &retry), AUTH_UNAUTHORIZED);
	assert_int_equal(check(a, "Bearer short", 1, 0, &retry), AUTH_UNAUTHORIZED);
	assert_int_equal(check(a, hdr, 1, 0, &retry), AUTH_OK);
	assert_int_equal(check(a, hdr, 2, 0, &retry), AUTH_FORBIDDEN);
	assert_int_equal(check(a, hdr, 3, 0, &retry), AUTH_FORBIDDEN);
	assert_int_equal(t.used, 3);
	/* admin implies every scope */
	t.tok.scope = 3;
	assert_int_equal(check(a, hdr, 1, 0, &retry), AUTH_OK);
	assert_int_equal(check(a, hdr, 2, 0, &retry), AUTH_OK);
	/* expired: refused at its second, not before */
	t.tok.expires = 1000.5;
	assert_int_equal(check(a, hdr, 1, 1000.4, &retry), AUTH_OK);
	assert_int_equal(check(a, hdr, 1, 1000.5, &retry), AUTH_UNAUTHORIZED);
	auth_free(a);
}

static void
test_token_bucket(void **state)
{
	char tok[AUTH_TOKEN_LEN + 1], hdr[AUTH_TOKEN_LEN + 16];
	struct table t;
	struct auth *a;
	int retry = 0;

	(void)state;
	assert_int_equal(auth_token_generate(tok), 0);
	a = new_auth(&t, tok, 3, 0.25, 2); /* one request per 4 s, two at once */
	assert_non_null(a);
	snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
	assert_int_equal(check(a, hdr, 1, 0, &retry), AUTH_OK);
	assert_int_equal(check(a, hdr, 1, 0, &retry), AUTH_OK);
	assert_int_equal(check(a, hdr, 1, 0, &retry), AUTH_RATE_LIMITED);
	assert_true(retry >= 3 && retry <= 4);
	auth_set_rate(a, 0, 2); /* 0 = no limit */
	assert_int_equal(check(a, hdr, 1, 0, &retry), AUTH_OK);
	auth_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_format_and_digest),
		cmocka_unit_test(test_401_403_and_scopes),
		cmocka_unit_test(test_token_bucket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
