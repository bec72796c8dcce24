/*
 * test_json_fields.c - the error collector of the field readers: a message
 * or path cut to fit is cut on a character boundary, and an error that
 * cannot be recorded still makes the collection non-empty (a request is
 * never accepted because its error was lost).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec/json_fields.h"

/* True when S is well-formed UTF-8 (what json_string accepts). */
static bool
utf8_ok(const char *s)
{
	json_t *j = json_string(s);
	bool ok = j != NULL;

	json_decref(j);
	return ok;
}

static void
test_long_path_is_cut_on_a_character(void **state)
{
	struct field_errors fe;
	char path[600];
	json_t *e;

	(void)state;
	/* 510 bytes of "a", then an "é" (2 bytes) that does not fit whole. */
	memset(path, 'a', 510);
	strcpy(path + 510, "\xc3\xa9");
	field_errors_init(&fe);
	field_error(&fe, path, "unknown field");
	assert_true(field_errors_any(&fe));
	assert_int_equal(json_array_size(fe.errors), 1);
	e = json_array_get(fe.errors, 0);
	assert_true(utf8_ok(json_string_value(json_object_get(e, "field"))));
	assert_string_equal(json_string_value(json_object_get(e, "message")), "unknown field");
	field_errors_clear(&fe);
}

static void
test_long_message_is_cut_on_a_character(void **state)
{
	struct field_errors fe;
	char word[600];
	const char *msg;

	(void)state;
	memset(word, 'b', 509);
	strcpy(word + 509, "\xe2\x82\xac"); /* "€", 3 bytes, across the 512 cut */
	field_errors_init(&fe);
	field_error(&fe, "x", "%s", word);
	assert_int_equal(json_array_size(fe.errors), 1);
	msg = json_string_value(json_object_get(json_array_get(fe.errors, 0), "message"));
	assert_non_null(msg);
	assert_int_equal(strlen(msg), 509);
	field_errors_clear(&fe);
}

static void
test_an_unrecordable_error_is_not_lost(void **state)
{
	struct field_errors fe;
	json_t *taken;

	(void)state;
	/* Not UTF-8 at all (no caller should pass this; if one does, the
	 * error still counts). */
	field_errors_init(&fe);
	field_error(&fe, "\xff\xfe", "bad \xff");
	assert_true(field_errors_any(&fe));
	taken = field_errors_take(&fe);
	assert_true(json_array_size(taken) >= 1);
	assert_false(field_errors_any(&fe));
	json_decref(taken);
}

static void
test_paths_are_cut_on_a_character(void **state)
{
	char buf[7];

	(void)state;
	/* "ab.cdé" needs 8 bytes with its NUL: "é" does not fit, and goes whole. */
	jf_path(buf, sizeof(buf), "ab", "cd\xc3\xa9");
	assert_string_equal(buf, "ab.cd");
	/* "aééé[4]": the third "é" straddles the cut. */
	jf_index_path(buf, sizeof(buf), "a\xc3\xa9\xc3\xa9\xc3\xa9", 4);
	assert_string_equal(buf, "a\xc3\xa9\xc3\xa9");
	assert_true(utf8_ok(buf));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_path_is_cut_on_a_character),
		cmocka_unit_test(test_long_message_is_cut_on_a_character),
		cmocka_unit_test(test_an_unrecordable_error_is_not_lost),
		cmocka_unit_test(test_paths_are_cut_on_a_character),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
