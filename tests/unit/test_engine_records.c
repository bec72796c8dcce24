/* Unit tests: records.c (empirical-Bayes shrinkage). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine/engine.h"

static void test_shrink_formula(void **state)
{
	(void)state;
	/* (n*mean + k*prior)/(n+k): 5 clients at 90, clinic 70, k 20 → 74 */
	assert_float_equal(records_shrink(5, 90, 70, 20), 74.0, 1e-9);
	/* dozens of clients move it most of the way */
	assert_float_equal(records_shrink(60, 90, 70, 20), 85.0, 1e-9);
	assert_float_equal(records_shrink(0, 90, 70, 20), 70.0, 1e-9);
	assert_float_equal(records_shrink(10, 90, 70, 0), 90.0, 1e-9);
}

static void test_totals(void **state)
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

static void test_validate(void **state)
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shrink_formula),
		cmocka_unit_test(test_totals),
		cmocka_unit_test(test_validate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
