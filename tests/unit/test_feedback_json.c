/*
 * test_feedback_json.c - feedback JSON validation, storage form and rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec/feedback_json.h"

/* Parses TEXT; returns the error fields joined by ',' into buf ("" when valid). */
static int
parse(const char *text, struct feedback_request *out, char *buf, size_t len)
{
	json_t *obj = json_loads(text, 0, NULL);
	struct field_errors fe;
	size_t i;
	int rc;

	assert_non_null(obj);
	field_errors_init(&fe);
	rc = feedback_from_json(obj, out, &fe);
	buf[0] = '\0';
	for (i = 0; fe.errors != NULL && i < json_array_size(fe.errors); i++) {
		const char *f =
		    json_string_value(json_object_get(json_array_get(fe.errors, i), "field"));

		if (i > 0)
			strncat(buf, ",", len - strlen(buf) - 1);
		strncat(buf, f, len - strlen(buf) - 1);
	}
	field_errors_clear(&fe);
	/* occurred_at borrows from obj: not used after this point by the tests. */
	json_decref(obj);
	return rc;
}

static void
test_alliance5_valid(void **state)
{
	struct feedback_request fr;
	char errs[256];

	(void)state;
	assert_int_equal(
	    parse(
	        "{\"session\":3,\"instrument\":\"alliance5\","
	        "\"items\":{\"heard\":8,\"open\":7,\"adapts\":8,\"trust\":9,\"looking_forward\":6},"
	        "\"flags\":{\"judged\":false,\"unsafe\":true},\"negative_feelings\":7,"
	        "\"occurred_at\":\"2026-11-20T17:00:00Z\"}",
	        &fr, errs, sizeof(errs)),
	    0);
	assert_string_equal(errs, "");
	assert_int_equal(fr.fb.session, 3);
	assert_int_equal(fr.fb.instrument, INSTR_ALLIANCE5);
	assert_true(fr.fb.items[3] == 9.0);
	assert_int_equal(fr.fb.items_present, 0x1f);
	assert_int_equal(fr.fb.flags, 1u << FLAG_UNSAFE);
	assert_true(fr.fb.has_negative_feelings);
	assert_true(fr.fb.negative_feelings == 7.0);
}

static void
test_srs_one_decimal(void **state)
{
	struct feedback_request fr;
	char errs[256];

	(void)state;
	assert_int_equal(parse("{\"session\":1,\"instrument\":\"srs\",\"items\":{"
	                       "\"relationship\":9.5,\"goals\":9,\"approach\":8.5,\"overall\":10}}",
	                     &fr, errs, sizeof(errs)),
	    0);
	assert_null(fr.occurred_at);
	assert_int_equal(
	    parse("{\"session\":1,\"instrument\":\"srs\",\"items\":{"
	          "\"relationship\":9.55,\"goals\":11,\"approach\":8.5,\"overall\":\"9\"}}",
	        &fr, errs, sizeof(errs)),
	    -1);
	assert_string_equal(errs, "items.relationship,items.goals,items.overall");
}

static void
test_unknown_and_missing(void **state)
{
	struct feedback_request fr;
	char errs[256];

	(void)state;
	assert_int_equal(
	    parse("{\"session\":1,\"instrument\":\"alliance5\",\"mood\":1,"
	          "\"items\":{\"heard\":8,\"open\":7,\"adapts\":8,\"trust\":9,\"hear\":1},"
	          "\"flags\":{\"judgd\":true}}",
	        &fr, errs, sizeof(errs)),
	    -1);
	assert_non_null(strstr(errs, "mood"));
	assert_non_null(strstr(errs, "items.hear"));
	assert_non_null(strstr(errs, "items.looking_forward"));
	assert_non_null(strstr(errs, "flags.judgd"));
	assert_int_equal(parse("{\"instrument\":\"phq9\",\"items\":{}}", &fr, errs, sizeof(errs)),
	    -1);
	assert_string_equal(errs, "session,instrument");
	assert_int_equal(parse("[1]", &fr, errs, sizeof(errs)), -1);
	assert_string_equal(errs, "");
}

static void
test_wai_range_and_time(void **state)
{
	struct feedback_request fr;
	char errs[512];

	(void)state;
	assert_int_equal(
	    parse(
	        "{\"session\":2,\"instrument\":\"wai_sr\",\"items\":{"
	        "\"q1\":1,\"q2\":2,\"q3\":3,\"q4\":4,\"q5\":5,\"q6\":1,\"q7\":2,\"q8\":3,\"q9\":4,"
	        "\"q10\":5,\"q11\":1,\"q12\":0},\"negative_feelings\":11,"
	        "\"occurred_at\":\"2026-11-20 17:00\"}",
	        &fr, errs, sizeof(errs)),
	    -1);
	assert_string_equal(errs, "items.q12,negative_feelings,occurred_at");
}

static void
test_storage_round_trip(void **state)
{
	struct feedback_request fr;
	struct feedback back;
	json_t *items, *flags;
	char *it, *fl, errs[128];

	(void)state;
	assert_int_equal(
	    parse("{\"session\":4,\"instrument\":\"ors\",\"items\":{"
	          "\"individual\":6,\"interpersonal\":5.5,\"social\":7,\"overall\":6.5},"
	          "\"flags\":{\"dread\":true,\"judged\":false}}",
	        &fr, errs, sizeof(errs)),
	    0);
	items = feedback_items_json(&fr.fb);
	flags = feedback_flags_json(&fr.fb);
	it = json_dumps(items, JSON_COMPACT);
	fl = json_dumps(flags, JSON_COMPACT);
	assert_string_equal(it,
	    "{\"individual\":6,\"interpersonal\":5.5,\"social\":7,"
	    "\"overall\":6.5}");
	assert_string_equal(fl, "{\"dread\":true}");
	assert_int_equal(feedback_from_row(4, "ors", it, fl, NULL, &back), 0);
	assert_int_equal(back.instrument, INSTR_ORS);
	assert_int_equal(back.flags, 1u << FLAG_DREAD);
	assert_true(back.items[1] == 5.5);
	assert_false(back.has_negative_feelings);
	assert_int_equal(feedback_from_row(4, "ors", it, fl, "3", &back), 0);
	assert_true(back.has_negative_feelings && back.negative_feelings == 3.0);
	/* Rows are never trusted blindly. */
	assert_int_equal(feedback_from_row(4, "srs", it, fl, NULL, &back), -1);
	assert_int_equal(feedback_from_row(4, "ors", "{\"individual\":60}", NULL, NULL, &back), -1);
	assert_int_equal(feedback_from_row(4, "nope", it, NULL, NULL, &back), -1);
	free(it);
	free(fl);
	json_decref(items);
	json_decref(flags);
}

static void
test_rfc3339(void **state)
{
	(void)state;
	assert_true(rfc3339_valid("2026-11-20T17:00:00Z"));
	assert_true(rfc3339_valid("2026-11-20T17:00:00.123+01:00"));
	assert_true(rfc3339_valid("2026-11-20t17:00:00-05:30"));
	assert_false(rfc3339_valid("2026-11-20T17:00:00"));
	assert_false(rfc3339_valid("2026-13-20T17:00:00Z"));
	assert_false(rfc3339_valid("2026-11-20T24:00:00Z"));
	assert_false(rfc3339_valid("2026-11-20T17:00:00.Z"));
	assert_false(rfc3339_valid("yesterday"));
	assert_false(rfc3339_valid("2026-11-20T17:00:00Z "));
}

/* An unknown item whose path is cut in the middle of a character: the error
 * must survive the cut, and the feedback must be refused. */
static void
test_cut_item_name_still_refuses(void **state)
{
	struct feedback_request fr;
	char text[400], key[120], errs[512];

	(void)state;
	memset(key, 'a', 88);
	strcpy(key + 88, "\xc3\xa9"); /* "items." + 88 + 2 bytes: é straddles the cut */
	snprintf(text, sizeof(text),
	    "{\"session\":1,\"instrument\":\"alliance5\",\"items\":{"
	    "\"heard\":8,\"open\":7,\"adapts\":8,\"trust\":9,\"looking_forward\":6,\"%s\":1}}",
	    key);
	assert_int_equal(parse(text, &fr, errs, sizeof(errs)), -1);
	assert_non_null(strstr(errs, "items.aaaa"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alliance5_valid),
		cmocka_unit_test(test_srs_one_decimal),
		cmocka_unit_test(test_unknown_and_missing),
		cmocka_unit_test(test_wai_range_and_time),
		cmocka_unit_test(test_storage_round_trip),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_cut_item_name_still_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
