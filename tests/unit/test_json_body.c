/*
 * test_json_body.c - the checks every request body goes through.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/json_body.h"

static void
test_depth_counts_nesting(void **state)
{
	(void)state;
	assert_true(json_depth_ok("{\"a\":[1,2]}", 11, 2));
	assert_false(json_depth_ok("{\"a\":[[1]]}", 11, 2));
	assert_true(json_depth_ok("[[[]]]", 6, 3));
	assert_false(json_depth_ok("[[[[]]]]", 8, 3));
}

static void
test_depth_ignores_brackets_in_strings(void **state)
{
	const char *s = "{\"a\":\"[[[[{{{{\\\"[[[\"}";

	(void)state;
	assert_true(json_depth_ok(s, strlen(s), 1));
}

static void
test_content_types(void **state)
{
	(void)state;
	assert_true(json_content_type_ok("application/json"));
	assert_true(json_content_type_ok("application/json; charset=utf-8"));
	assert_true(json_content_type_ok("Application/JSON"));
	assert_true(json_content_type_ok("application/merge-patch+json"));
	assert_false(json_content_type_ok(NULL));
	assert_false(json_content_type_ok("text/plain"));
	assert_false(json_content_type_ok("application/jsonx"));
	assert_false(json_content_type_ok("application/x-www-form-urlencoded"));
}

static void
test_parse_errors_give_position_not_content(void **state)
{
	char err[160];
	const char *bad = "{\n  \"secret_preference\": tru\n}";
	json_t *j;

	(void)state;
	j = json_body_parse(bad, strlen(bad), 16, err, sizeof(err));
	assert_null(j);
	assert_non_null(strstr(err, "line 2"));
	assert_null(strstr(err, "tru"));
	assert_null(strstr(err, "secret"));
}

static void
test_parse_rejects_duplicates_depth_and_empty(void **state)
{
	char err[160];

	(void)state;
	assert_null(json_body_parse("{\"a\":1,\"a\":2}", 13, 16, err, sizeof(err)));
	assert_non_null(strstr(err, "duplicate"));
	assert_null(json_body_parse("[[[1]]]", 7, 2, err, sizeof(err)));
	assert_non_null(strstr(err, "deeper than 2"));
	assert_null(json_body_parse("", 0, 16, err, sizeof(err)));
}

static void
test_parse_ok(void **state)
{
	char err[160];
	json_t *j = json_body_parse("{\"external_ref\":\"C-1\"}", 22, 16, err, sizeof(err));

	(void)state;
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "external_ref")), "C-1");
	json_decref(j);
}

/* Well-formed values of any shape parse: the caller refuses the shape by
 * name (422), it is not a syntax error. */
static void
test_parse_any_value(void **state)
{
	static const char *const bodies[] = { "42", "\"x\"", "null", "[]", "true", "1.5" };
	char err[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		json_t *j = json_body_parse(bodies[i], strlen(bodies[i]), 16, err, sizeof(err));

		assert_non_null(j);
		assert_false(json_is_object(j));
		json_decref(j);
	}
}

/* A NUL in a string says what is refused and why, not "syntax error". */
static void
test_parse_refuses_nul_by_name(void **state)
{
	const char *body = "{\"external_ref\": \"C-\\u0000\"}";
	char err[160];

	(void)state;
	assert_null(json_body_parse(body, strlen(body), 16, err, sizeof(err)));
	assert_non_null(strstr(err, "\\u0000"));
	assert_non_null(strstr(err, "NUL"));
	assert_null(strstr(err, "syntax error"));
	assert_null(json_body_parse("\"\xff\"", 3, 16, err, sizeof(err)));
	assert_non_null(strstr(err, "UTF-8"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_depth_counts_nesting),
		cmocka_unit_test(test_depth_ignores_brackets_in_strings),
		cmocka_unit_test(test_content_types),
		cmocka_unit_test(test_parse_errors_give_position_not_content),
		cmocka_unit_test(test_parse_rejects_duplicates_depth_and_empty),
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_any_value),
		cmocka_unit_test(test_parse_refuses_nul_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
