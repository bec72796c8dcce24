/* Unit tests: records.c (empirical-Bayes shrinkage). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine/engine.h"

static void
test_shrink_formula(void **state)
{
	(void)state;
	/* (n*mean + k*prior)/(n+k): 5 clients at 90, clinic 70, k 20 → 74 */
	assert_float_equal(records_shrink(5, 90, 70, 20), 74.0, 1e-9);
	/* dozens of clients move it most of the way */
	assert_float_equal(records_shrink(60, 90, 70, 20), 85.0, 1e-9);
	assert_float_equal(records_shrink(0, 90, 70, 20), 70.0, 1e-9);
	assert_float_equal(records_shrink(10, 90, 70, 0), 90.0, 1e-9);
}

/* docs/matching.md "Records": a concern record shrinks toward the therapist's own
 * overall record, which shrinks toward the clinic mean. */
static void
test_hierarchical_shrink(void **state)
{
	(void)state;
	/* M 80, k 20, k_c 10: 5 episodes at 100 → r_t 84, in a concern → 89.33 */
	double rt = records_shrink(5, 100, 80, 20);
	assert_float_equal(rt, 84.0, 1e-9);
	assert_float_equal(records_shrink(5, 100, rt, 10), (500 + 840) / 15.0, 1e-9);
	/* 200 at 90 → r_t 89.09, in the concern 89.96: still ahead */
	double rt2 = records_shrink(200, 90, 80, 20);
	assert_true(records_shrink(200, 90, rt2, 10) > records_shrink(5, 100, rt, 10));
	/* no history in the concern: exactly r_t */
	assert_float_equal(records_shrink(0, 55, rt, 10), rt, 1e-12);
}

static void
test_clinic_total_adds_and_removes_records(void **state)
{
	(void)state;
	struct record_total t = { 0, 0 };
	struct record a = { 10, 80 }, b = { 30, 60 };
	record_total_add(&t, &a);
	record_total_add(&t, &b);
	assert_float_equal(record_total_mean(&t), 65.0, 1e-9);
	record_total_sub(&t, &b);
	assert_float_equal(record_total_mean(&t), 80.0, 1e-9);
	record_total_sub(&t, &a);
	assert_float_equal(record_total_mean(&t), 0.0, 1e-9);
}

static void
test_records_refuse_bad_means_and_concerns(void **state)
{
	(void)state;
	struct therapist_records r = { 0 };
	r.alliance = (struct record){ 3, 80 };
	r.outcome = (struct record){ 3, 0.5 };
	assert_int_equal(therapist_records_validate(&r, 20), 0);
	r.outcome.mean = 1.5;
	assert_int_equal(therapist_records_validate(&r, 20), ENGINE_EINVAL);
	r.outcome.mean = 0.5;
	r.n_per_concern = 2;
	r.per_concern[0].concern = 2;
	r.per_concern[1].concern = 2;
	assert_int_equal(therapist_records_validate(&r, 20), ENGINE_EINVAL);
	r.per_concern[1].concern = 25;
	assert_int_equal(therapist_records_validate(&r, 20), ENGINE_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shrink_formula),
		cmocka_unit_test(test_hierarchical_shrink),
		cmocka_unit_test(test_clinic_total_adds_and_removes_records),
		cmocka_unit_test(test_records_refuse_bad_means_and_concerns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
