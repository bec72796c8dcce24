/*
 * test_engine_config.c - the config's defaults are the engine's defaults,
 * and config values reach the engine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "engine/engine.h"
#include "engine_config.h"

static void
test_config_defaults_equal_engine_defaults(void **state)
{
	struct config *cfg = config_new_defaults();
	struct engine_params fromcfg, builtin;
	struct vocab *v = NULL, *dv = vocab_new_default();
	char err[256];
	int k, i;

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(engine_config_build(cfg, &fromcfg, &v, err, sizeof(err)), 0);
	engine_params_defaults(&builtin);
	/* Field by field would miss a new field; the struct is plain doubles and ints. */
	assert_memory_equal(&fromcfg, &builtin, sizeof(builtin));
	for (k = 0; k < VOCAB_KIND_COUNT; k++) {
		assert_int_equal(vocab_count(v, k), vocab_count(dv, k));
		for (i = 0; i < vocab_count(v, k); i++)
			assert_string_equal(vocab_name(v, k, i), vocab_name(dv, k, i));
	}
	vocab_free(v);
	vocab_free(dv);
	config_free(cfg);
}

static void
test_config_values_reach_engine(void **state)
{
	struct config *cfg = config_new_defaults();
	struct engine_params p;
	struct vocab *v = NULL;
	char err[256];

	(void)state;
	cfg->engine_weight_style = 7;
	cfg->alliance_trust_floor = 55;
	cfg->alliance_min_sessions = 4;
	assert_int_equal(engine_config_build(cfg, &p, &v, err, sizeof(err)), 0);
	assert_true(p.weight[COMP_STYLE] == 7);
	assert_true(p.trust_floor == 55);
	assert_int_equal(p.min_sessions, 4);
	vocab_free(v);
	config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults_equal_engine_defaults),
		cmocka_unit_test(test_config_values_reach_engine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
