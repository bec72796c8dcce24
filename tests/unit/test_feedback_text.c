/*
 * test_feedback_text.c - the feedback hot path's text forms: items and flags
 * written with json_writer (as Jansson would), and stored rows read back by
 * the fast flat reader (with Jansson as the fallback, same results).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec/feedback_json.h"

static struct feedback
ors_feedback(void)
{
	struct feedback fb;

	memset(&fb, 0, sizeof(fb));
	fb.session = 4;
	fb.instrument = INSTR_ORS;
	fb.items[0] = 6;
	fb.items[1] = 5.5;
	fb.items[2] = 7;
	fb.items[3] = 6.5;
	fb.items_present = 0xf;
	fb.flags = (uint8_t)(1u << FLAG_DREAD | 1u << FLAG_UNSAFE);
	return fb;
}

/* The writer's text equals json_dumps of the json_t builders. */
static void
test_written_like_jansson(void **state)
{
	struct feedback fb = ors_feedback();
	struct json_writer w;
	json_t *j;
	char *theirs, buf[64];
	const char *mine;

	(void)state;
	jw_init(&w, buf, sizeof(buf));
	feedback_items_write(&w, &fb);
	mine = jw_cstr(&w);
	j = feedback_items_json(&fb);
	theirs = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
	assert_non_null(mine);
	assert_string_equal(mine, theirs);
	assert_string_equal(mine,
	    "{\"individual\":6,\"interpersonal\":5.5,\"social\":7,"
	    "\"overall\":6.5}");
	free(theirs);
	json_decref(j);
	jw_free(&w);

	jw_init(&w, buf, sizeof(buf));
	feedback_flags_write(&w, &fb);
	mine = jw_cstr(&w);
	j = feedback_flags_json(&fb);
	theirs = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
	assert_string_equal(mine, theirs);
	free(theirs);
	json_decref(j);
	jw_free(&w);
}

/* PostgreSQL's jsonb text and odd-but-valid JSON give the same feedback. */
static void
test_rows_fast_and_fallback_agree(void **state)
{
	static const char *const items[] = {
		"{\"social\": 7, \"overall\": 6.5, \"individual\": 6, \"interpersonal\": 5.5}",
		"{\"individual\":6,\"interpersonal\":5.5,\"social\":7,\"overall\":6.5}",
		" {\n\"individual\" : 6.0 , \"interpersonal\":55e-1,\"social\":7,\"overall\":6.5 } ",
		"{\"indiv\\u0069dual\": 6, \"interpersonal\": 5.5, \"social\": 7, \"overall\": 6.5}",
	};
	static const char *const flags[] = {
		"{\"dread\": true, \"unsafe\": true}",
		"{\"dread\": true, \"judged\": false, \"unsafe\": true}",
		"{\"dre\\u0061d\": true, \"unsafe\": true}",
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++)
		for (j = 0; j < sizeof(flags) / sizeof(flags[0]); j++) {
			struct feedback back, want = ors_feedback();

			assert_int_equal(feedback_from_row(4, "ors", items[i], flags[j], NULL,
			                     &back),
			    0);
			assert_int_equal(back.items_present, want.items_present);
			assert_memory_equal(back.items, want.items, sizeof(want.items));
			assert_int_equal(back.flags, want.flags);
		}
}

static void
test_rows_rejected(void **state)
{
	static const char *const bad_items[] = {
		"{\"individual\": true, \"interpersonal\": 5.5, \"social\": 7, \"overall\": 6.5}",
		"{\"individual\": 6, \"interpersonal\": 5.5, \"social\": 7, \"nope\": 6.5}",
		"{\"individual\": 6, \"interpersonal\": 5.5, \"social\": 7}",
		"{\"individual\": 60, \"interpersonal\": 5.5, \"social\": 7, \"overall\": 6.5}",
		"{\"individual\": {}, \"interpersonal\": 5.5, \"social\": 7, \"overall\": 6.5}",
		"[6, 5.5, 7, 6.5]",
		"{\"individual\": 6, \"interpersonal\": 5.5, \"social\": 7, \"overall\": 6.5",
		"",
	};
	static const char *const bad_flags[] = {
		"{\"dread\": 1}",
		"{\"dreadful\": true}",
		"[true]",
		"{\"dread\": \"yes\"}",
	};
	const char *good = "{\"individual\": 6, \"interpersonal\": 5.5, \"social\": 7, "
	                   "\"overall\": 6.5}";
	struct feedback back;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_items) / sizeof(bad_items[0]); i++)
		assert_int_equal(feedback_from_row(4, "ors", bad_items[i], NULL, NULL, &back), -1);
	for (i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++)
		assert_int_equal(feedback_from_row(4, "ors", good, bad_flags[i], NULL, &back), -1);
	assert_int_equal(feedback_from_row(4, "ors", good, "{}", "7", &back), 0);
	assert_true(back.has_negative_feelings && back.negative_feelings == 7.0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_written_like_jansson),
		cmocka_unit_test(test_rows_fast_and_fallback_agree),
		cmocka_unit_test(test_rows_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
