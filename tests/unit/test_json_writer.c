/*
 * test_json_writer.c - the fast JSON writer must print what Jansson prints
 * (the answers changed from json_dumps to json_writer byte for byte).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "codec/json_writer.h"

/* What the old code sent: json_real(round(v * s) / s), dumped with 15 digits. */
static char *
jansson_fixed(double v, int decimals)
{
	double s = pow(10, decimals);
	json_t *a = json_pack("[o]", json_real(round(v * s) / s));
	char *t = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(15));

	json_decref(a);
	return t;
}

static void
check_fixed(double v, int decimals)
{
	char mine[48], *theirs = jansson_fixed(v, decimals);
	char wrapped[64];
	int n = jw_format_fixed(v, decimals, mine);

	assert_true(n > 0);
	assert_int_equal((int)strlen(mine), n);
	snprintf(wrapped, sizeof(wrapped), "[%s]", mine);
	if (strcmp(theirs, "[-0.0]") == 0)
		assert_string_equal(wrapped, "[0.0]"); /* no negative zero */
	else
		assert_string_equal(wrapped, theirs);
	free(theirs);
}

static void
test_fixed_matches_jansson(void **state)
{
	unsigned seed = 12345;
	int i;

	(void)state;
	check_fixed(0, 1);
	check_fixed(1, 3);
	check_fixed(87.25, 1);
	check_fixed(87.35, 1);
	check_fixed(0.0005, 3);
	check_fixed(0.001, 3);
	check_fixed(0.999, 3);
	check_fixed(0.9996, 3);
	check_fixed(100, 1);
	check_fixed(-3.14159, 3);
	check_fixed(-0.04, 1);
	check_fixed(123456789.123, 3);
	for (i = 0; i < 200000; i++) {
		double v;

		seed = seed * 1103515245u + 12345u;
		v = (double)(seed >> 8) / (double)(1u << 24);
		check_fixed(v, 3);                  /* components: [0, 1] */
		check_fixed(v * 100.0, 1);          /* scores and indices: 0..100 */
		check_fixed((float)(v * 100.0), 1); /* the engine's scores are floats */
		check_fixed(v * 80.0 - 40.0, 1);    /* trends */
	}
}

static void
test_fixed_refuses_nan(void **state)
{
	char buf[48];
	struct json_writer w;

	(void)state;
	assert_int_equal(jw_format_fixed(NAN, 1, buf), -1);
	assert_int_equal(jw_format_fixed(INFINITY, 3, buf), -1);
	jw_init(&w, NULL, 0);
	jw_array_begin(&w);
	jw_fixed(&w, NAN, 1);
	jw_array_end(&w);
	assert_true(jw_failed(&w));
	jw_free(&w);
}

static void
test_strings_match_jansson(void **state)
{
	static const char *const cases[] = {
		"plain",
		"",
		"quote \" and backslash \\",
		"slash / stays",
		"\b\f\n\r\t\x01\x1f\x7f",
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		"offers EMDR, which you wanted to avoid",
	};
	size_t i, len;
	char buf[8]; /* tiny: the text must move to the heap */

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_writer w;
		json_t *a = json_pack("[s]", cases[i]);
		char *theirs = json_dumps(a, JSON_COMPACT);
		char *mine;
		const char *t;

		jw_init(&w, buf, sizeof(buf));
		jw_array_begin(&w);
		jw_string(&w, cases[i]);
		jw_array_end(&w);
		assert_false(jw_failed(&w));
		t = jw_text(&w, &len);
		mine = strndup(t, len);
		assert_string_equal(mine, theirs);
		free(mine);
		free(theirs);
		json_decref(a);
		jw_free(&w);
	}
}

static void
test_invalid_utf8_fails(void **state)
{
	static const char *const bad[] = { "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xff", "a\x80" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_writer w;

		jw_init(&w, NULL, 0);
		jw_string(&w, bad[i]);
		assert_true(jw_failed(&w));
		jw_free(&w);
	}
}

static void
test_structure_and_commas(void **state)
{
	struct json_writer w;
	char buf[16];
	const char *t;
	size_t len;
	json_t *parsed;

	(void)state;
	jw_init(&w, buf, sizeof(buf));
	jw_object_begin(&w);
	jw_key(&w, "a");
	jw_int(&w, -9007199254740991LL);
	jw_key(&w, "b");
	jw_array_begin(&w);
	jw_array_end(&w);
	jw_key(&w, "c");
	jw_array_begin(&w);
	jw_bool(&w, true);
	jw_null(&w);
	jw_object_begin(&w);
	jw_object_end(&w);
	jw_fixed(&w, 2.5, 1);
	jw_array_end(&w);
	jw_key(&w, "d");
	jw_object_begin(&w);
	jw_key(&w, "e");
	jw_bool(&w, false);
	jw_object_end(&w);
	jw_object_end(&w);
	assert_false(jw_failed(&w));
	t = jw_text(&w, &len);
	assert_int_equal(len,
	    strlen("{\"a\":-9007199254740991,\"b\":[],\"c\":[true,null,{},2.5],"
	           "\"d\":{\"e\":false}}"));
	assert_memory_equal(t,
	    "{\"a\":-9007199254740991,\"b\":[],\"c\":[true,null,{},2.5],"
	    "\"d\":{\"e\":false}}",
	    len);
	parsed = json_loadb(t, len, 0, NULL);
	assert_non_null(parsed);
	json_decref(parsed);
	jw_free(&w);
}

static void
test_unbalanced_fails(void **state)
{
	struct json_writer w;

	(void)state;
	jw_init(&w, NULL, 0);
	jw_object_begin(&w);
	jw_key(&w, "a");
	assert_true(jw_failed(&w)); /* open object, key without value */
	jw_free(&w);
	jw_init(&w, NULL, 0);
	jw_array_end(&w);
	assert_true(jw_failed(&w));
	jw_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_matches_jansson),
		cmocka_unit_test(test_fixed_refuses_nan),
		cmocka_unit_test(test_strings_match_jansson),
		cmocka_unit_test(test_invalid_utf8_fails),
		cmocka_unit_test(test_structure_and_commas),
		cmocka_unit_test(test_unbalanced_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
