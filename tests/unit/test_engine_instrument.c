/* Unit tests: instrument.c (scoring against hand-computed values, validation). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "engine/engine.h"

static struct feedback
fb_of(enum instrument in, uint32_t session, const double *items)
{
	struct feedback f;
	memset(&f, 0, sizeof(f));
	f.session = session;
	f.instrument = in;
	for (int i = 0; i < instrument_item_count(in); i++) {
		f.items[i] = items[i];
		f.items_present |= (uint16_t)(1u << i);
	}
	return f;
}

static void
test_srs_scoring(void **state)
{
	(void)state;
	struct instrument_score s;
	struct feedback f = fb_of(INSTR_SRS, 1, (double[]){ 9, 9, 9, 9 });
	assert_int_equal(instrument_score(&f, &s), 0);
	assert_float_equal(s.total, 36, 1e-9);
	assert_float_equal(s.index, 90, 1e-9); /* the published cutoff 36 = threshold 90 */
	assert_float_equal(s.trust, 90, 1e-9);
	f = fb_of(INSTR_SRS, 1, (double[]){ 6.5, 8.2, 9.9, 7.0 });
	assert_int_equal(instrument_score(&f, &s), 0);
	assert_float_equal(s.total, 31.6, 1e-9);
	assert_float_equal(s.index, 79.0, 1e-9);
	assert_float_equal(s.trust, 65.0, 1e-9);
}

static void
test_wai_sr_scoring(void **state)
{
	(void)state;
	struct instrument_score s;
	/* Bond items (q3 q5 q7 q9) 5, the rest 1 */
	double items[12];
	for (int i = 0; i < 12; i++)
		items[i] = 1;
	items[2] = items[4] = items[6] = items[8] = 5;
	struct feedback f = fb_of(INSTR_WAI_SR, 1, items);
	assert_int_equal(instrument_score(&f, &s), 0);
	assert_float_equal(s.bond, 20, 1e-9);
	assert_float_equal(s.task, 4, 1e-9);
	assert_float_equal(s.goal, 4, 1e-9);
	assert_float_equal(s.trust, 100, 1e-9);         /* Bond mean 5 */
	assert_float_equal(s.index, 100.0 / 3.0, 1e-9); /* mean 28/12, (mean-1)/4*100 */
	/* Task q1 q2 q10 q12 = 5, others 1 */
	for (int i = 0; i < 12; i++)
		items[i] = 1;
	items[0] = items[1] = items[9] = items[11] = 5;
	f = fb_of(INSTR_WAI_SR, 1, items);
	instrument_score(&f, &s);
	assert_float_equal(s.task, 20, 1e-9);
	assert_float_equal(s.bond, 4, 1e-9);
	assert_float_equal(s.trust, 0, 1e-9);
	/* Goal q4 q6 q8 q11 */
	for (int i = 0; i < 12; i++)
		items[i] = 1;
	items[3] = items[5] = items[7] = items[10] = 5;
	f = fb_of(INSTR_WAI_SR, 1, items);
	instrument_score(&f, &s);
	assert_float_equal(s.goal, 20, 1e-9);
	/* all 3.5 is not allowed (integers); all 4 → 75 */
	for (int i = 0; i < 12; i++)
		items[i] = 4;
	f = fb_of(INSTR_WAI_SR, 1, items);
	instrument_score(&f, &s);
	assert_float_equal(s.index, 75, 1e-9);
}

static void
test_ors_and_alliance5_scoring(void **state)
{
	(void)state;
	struct instrument_score s;
	struct feedback f = fb_of(INSTR_ORS, 1, (double[]){ 4.5, 5, 3.5, 5 });
	assert_int_equal(instrument_score(&f, &s), 0);
	assert_float_equal(s.total, 18, 1e-9);
	f = fb_of(INSTR_ALLIANCE5, 1, (double[]){ 8, 7, 8, 9, 6 });
	assert_int_equal(instrument_score(&f, &s), 0);
	assert_float_equal(s.index, 76, 1e-9);
	assert_float_equal(s.trust, 90, 1e-9);
}

static void
test_validation_errors_are_precise(void **state)
{
	(void)state;
	struct feedback_error e;
	char msg[96];
	struct feedback f = fb_of(INSTR_SRS, 3, (double[]){ 10.5, 9, 9, 9 });
	assert_int_equal(feedback_validate(&f, &e), ENGINE_EINVAL);
	assert_int_equal(e.kind, FBE_RANGE);
	assert_string_equal(e.field, "items.relationship");
	feedback_error_message(&e, msg, sizeof(msg));
	assert_string_equal(msg, "must be between 0 and 10 with at most one decimal");
	f.items[0] = 7.25;
	assert_int_equal(feedback_validate(&f, &e), ENGINE_EINVAL);
	assert_int_equal(e.kind, FBE_STEP);
	f.items[0] = 7.3;
	assert_int_equal(feedback_validate(&f, &e), 0);
	f.items_present &= (uint16_t) ~(1u << 2);
	assert_int_equal(feedback_validate(&f, &e), ENGINE_EINVAL);
	assert_int_equal(e.kind, FBE_MISSING);
	assert_string_equal(e.field, "items.approach");
	feedback_error_message(&e, msg, sizeof(msg));
	assert_string_equal(msg, "is required");

	double items[12];
	for (int i = 0; i < 12; i++)
		items[i] = 3;
	items[6] = 0;
	f = fb_of(INSTR_WAI_SR, 1, items);
	assert_int_equal(feedback_validate(&f, &e), ENGINE_EINVAL);
	assert_string_equal(e.field, "items.q7");
	feedback_error_message(&e, msg, sizeof(msg));
	assert_string_equal(msg, "must be an integer between 1 and 5");
	assert_true(e.min == 1 && e.max == 5);

	f = fb_of(INSTR_ALLIANCE5, 1, (double[]){ 8, 7, 8, 9, 6 });
	f.has_negative_feelings = true;
	f.negative_feelings = 11;
	assert_int_equal(feedback_validate(&f, &e), ENGINE_EINVAL);
	assert_string_equal(e.field, "negative_feelings");
	feedback_error_message(&e, msg, sizeof(msg));
	assert_string_equal(msg, "must be between 0 and 10");
	f.negative_feelings = 10;
	f.session = 0;
	assert_int_equal(feedback_validate(&f, &e), ENGINE_EINVAL);
	assert_string_equal(e.field, "session");
}

static void
test_names_and_item_ranges_look_up_both_ways(void **state)
{
	(void)state;
	assert_int_equal(instrument_lookup("wai_sr"), INSTR_WAI_SR);
	assert_int_equal(instrument_lookup("nope"), -1);
	assert_int_equal(instrument_item_index(INSTR_ALLIANCE5, "looking_forward"), 4);
	assert_int_equal(instrument_item_index(INSTR_SRS, "heard"), -1);
	assert_string_equal(instrument_item_name(INSTR_ORS, 1), "interpersonal");
	assert_int_equal(feedback_flag_index("misunderstood"), FLAG_MISUNDERSTOOD);
	assert_string_equal(feedback_flag_name(FLAG_BOUNDARIES), "boundaries");
	double lo, hi, step;
	instrument_item_range(INSTR_WAI_SR, &lo, &hi, &step);
	assert_true(lo == 1 && hi == 5 && step == 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srs_scoring),
		cmocka_unit_test(test_wai_sr_scoring),
		cmocka_unit_test(test_ors_and_alliance5_scoring),
		cmocka_unit_test(test_validation_errors_are_precise),
		cmocka_unit_test(test_names_and_item_ranges_look_up_both_ways),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
