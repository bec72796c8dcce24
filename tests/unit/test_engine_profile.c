/* Unit tests: profile.c (availability mask, profile and intake helpers). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine/engine.h"

static void
test_availability_mask(void **state)
{
	(void)state;
	struct avail a, b;
	avail_clear(&a);
	avail_clear(&b);
	assert_int_equal(avail_day_index("mon"), 0);
	assert_int_equal(avail_day_index("sun"), 6);
	assert_int_equal(avail_day_index("Mon"), -1);
	assert_int_equal(avail_add(&a, 0, 9, 12), 0);  /* mon 09:00-12:00 = 3 h */
	assert_int_equal(avail_add(&a, 6, 22, 24), 0); /* sun, last bits of the week */
	assert_int_equal(avail_hours(&a), 5);
	assert_int_equal(avail_add(&b, 0, 11, 13), 0);
	assert_int_equal(avail_add(&b, 6, 23, 24), 0);
	assert_int_equal(avail_overlap(&a, &b), 2);
	assert_int_equal(avail_add(&a, 7, 1, 2), ENGINE_EINVAL);
	assert_int_equal(avail_add(&a, 1, 12, 12), ENGINE_EINVAL);
	assert_int_equal(avail_add(&a, 1, 20, 25), ENGINE_EINVAL);
	assert_int_equal(a.w[2] >> 40, 0);
}

static void
test_profile_helpers(void **state)
{
	(void)state;
	struct therapist_profile p;
	const char *field = NULL;
	therapist_profile_init(&p, 9);
	assert_int_equal(profile_set_concern(&p, 2, CONCERN_SPECIALIST), 0);
	assert_int_equal(profile_concern_level(&p, 2), CONCERN_SPECIALIST);
	assert_int_equal(profile_set_concern(&p, 2, CONCERN_EXPERIENCED), 0);
	assert_int_equal(profile_concern_level(&p, 2), CONCERN_EXPERIENCED);
	assert_int_equal(profile_set_concern(&p, 128, CONCERN_EXPERIENCED), ENGINE_EINVAL);
	assert_int_equal(profile_add_language(&p, "es"), 0);
	assert_int_equal(profile_add_language(&p, "es"), 0); /* no duplicate */
	assert_int_equal(p.n_languages, 1);
	assert_int_equal(profile_add_language(&p, "spanish"), ENGINE_EINVAL);
	assert_int_equal(profile_set_gender(&p, "a gender string longer than thirty-one"),
	    ENGINE_EINVAL);
	assert_int_equal(profile_validate(&p, &field), 0);
	p.style[STYLE_CHALLENGE] = -4;
	assert_int_equal(profile_validate(&p, &field), ENGINE_EINVAL);
	assert_string_equal(field, "style.challenge");
	assert_string_equal(style_axis_name(STYLE_PAST_ORIENTATION), "past_orientation");
	assert_int_equal(style_axis_index("emotional_intensity"), STYLE_EMOTIONAL_INTENSITY);
}

static void
test_intake_helpers(void **state)
{
	(void)state;
	struct intake in;
	const char *field = NULL;
	intake_init(&in);
	assert_int_equal(in.population, -1);
	assert_int_equal(in.self_pay_max, -1);
	assert_int_equal(intake_add_concern(&in, 3, 4), ENGINE_EINVAL);
	assert_int_equal(intake_add_concern(&in, 3, 2), 0);
	assert_int_equal(intake_add_concern(&in, 3, 3), 0); /* updates priority */
	assert_int_equal(in.n_concerns, 1);
	assert_int_equal(in.concerns[0].priority, 3);
	assert_int_equal(intake_set_style(&in, STYLE_DIRECTIVENESS, 4), ENGINE_EINVAL);
	assert_int_equal(intake_set_style(&in, STYLE_DIRECTIVENESS, -3), 0);
	assert_int_equal(in.style_given, 1);
	for (uint32_t i = 1; i <= INTAKE_MAX_EXCLUDE; i++)
		assert_int_equal(intake_add_exclude(&in, i), 0);
	assert_int_equal(intake_add_exclude(&in, 1), 0);
	assert_int_equal(intake_add_exclude(&in, 1000), ENGINE_EFULL);
	assert_int_equal(intake_validate(&in, &field), 0);
	in.population = 70;
	assert_int_equal(intake_validate(&in, &field), ENGINE_EINVAL);
	assert_string_equal(field, "population");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_availability_mask),
		cmocka_unit_test(test_profile_helpers),
		cmocka_unit_test(test_intake_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
