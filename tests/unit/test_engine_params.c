/* Unit tests: params.c (defaults and validation). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine/engine.h"

static void
test_defaults_are_design_values(void **state)
{
	(void)state;
	struct engine_params p;
	engine_params_defaults(&p);
	assert_true(p.threshold_alliance5 == 70.0);
	assert_true(p.threshold_srs == 90.0);
	assert_true(p.threshold_wai_sr == 62.5);
	assert_true(p.trust_floor == 70.0);
	assert_true(p.affect_threshold == 6.0);
	assert_int_equal(p.min_sessions, 3);
	assert_true(p.strained_drop == 15.0);
	assert_true(p.ors_cutoff == 25.0);
	assert_true(p.ors_reliable_change == 5.0);
	assert_int_equal(p.trend_window, 5);
	assert_true(p.record_prior_weight == 20.0);
	assert_true(p.concern_prior_weight == 10.0);
	assert_true(p.strong_alliance_reason == 80.0);
	assert_int_equal(p.record_min_episodes, 5);
	assert_true(p.item_flag_max == 3.0);
	assert_int_equal(p.repair_window, 6);
	assert_true(p.weight[COMP_CAPACITY] > 0);
	const char *f = NULL, *m = NULL;
	assert_int_equal(engine_params_validate(&p, &f, &m), 0);
}

static void
test_validation_names_the_field(void **state)
{
	(void)state;
	struct engine_params p;
	const char *f = NULL, *m = NULL;
	engine_params_defaults(&p);
	p.trust_floor = 120;
	assert_int_equal(engine_params_validate(&p, &f, &m), ENGINE_EINVAL);
	assert_string_equal(f, "trust_floor");
	assert_string_equal(m, "must be between 0 and 100");
	engine_params_defaults(&p);
	p.weight[COMP_STYLE] = -1;
	assert_int_equal(engine_params_validate(&p, &f, &m), ENGINE_EINVAL);
	assert_string_equal(f, "weight.style");
	engine_params_defaults(&p);
	p.min_sessions = 0;
	assert_int_equal(engine_params_validate(&p, &f, &m), ENGINE_EINVAL);
	assert_string_equal(f, "min_sessions");
	engine_params_defaults(&p);
	p.weight[COMP_CAPACITY] = 0;
	assert_int_equal(engine_params_validate(&p, &f, &m), ENGINE_EINVAL);
	assert_string_equal(f, "weight.capacity");
	engine_params_defaults(&p);
	p.repair_window = 17; /* beyond the 16 sessions the status keeps */
	assert_int_equal(engine_params_validate(&p, &f, &m), ENGINE_EINVAL);
	assert_string_equal(f, "repair_window");
	engine_params_defaults(&p);
	p.item_flag_max = 11;
	assert_int_equal(engine_params_validate(&p, &f, &m), ENGINE_EINVAL);
	assert_string_equal(f, "item_flag_max");
	assert_string_equal(component_name(COMP_ALLIANCE_RECORD), "alliance_record");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_design_values),
		cmocka_unit_test(test_validation_names_the_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
