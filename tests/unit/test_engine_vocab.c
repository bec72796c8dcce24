/* Unit tests: vocab.c (vocabulary as data, tag sets, language codes). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"

static void
test_defaults_match_design(void **state)
{
	(void)state;
	struct vocab *v = vocab_new_default();
	assert_non_null(v);
	assert_int_equal(vocab_count(v, VOCAB_CONCERNS), 20);
	assert_int_equal(vocab_count(v, VOCAB_MODALITIES), 16);
	assert_int_equal(vocab_count(v, VOCAB_FORMATS), 3);
	assert_int_equal(vocab_count(v, VOCAB_POPULATIONS), 6);
	assert_int_equal(vocab_count(v, VOCAB_IDENTITY), 5);
	assert_int_equal(vocab_lookup(v, VOCAB_CONCERNS, "anxiety"), 0);
	assert_int_equal(vocab_lookup(v, VOCAB_CONCERNS, "chronic_illness"), 19);
	assert_int_equal(vocab_lookup(v, VOCAB_MODALITIES, "emdr"), 3);
	assert_int_equal(vocab_lookup(v, VOCAB_MODALITIES, "motivational_interviewing"), 15);
	assert_int_equal(vocab_lookup(v, VOCAB_FORMATS, "phone"), 2);
	assert_int_equal(vocab_lookup(v, VOCAB_IDENTITY, "veteran_informed"), 4);
	assert_int_equal(vocab_lookup(v, VOCAB_CONCERNS, "Anxiety"), -1);
	assert_int_equal(vocab_lookup(v, VOCAB_CONCERNS, "nope"), -1);
	assert_string_equal(vocab_name(v, VOCAB_POPULATIONS, 3), "older_adult");
	assert_null(vocab_name(v, VOCAB_POPULATIONS, 6));
	assert_string_equal(vocab_kind_name(VOCAB_MODALITIES), "modalities");
	vocab_free(v);
}

static void
test_clinic_adds_a_concern(void **state)
{
	(void)state;
	struct vocab *v = vocab_new_default();
	assert_int_equal(vocab_add(v, VOCAB_CONCERNS, "burnout"), 20);
	assert_int_equal(vocab_lookup(v, VOCAB_CONCERNS, "burnout"), 20);
	assert_int_equal(vocab_add(v, VOCAB_CONCERNS, "burnout"), ENGINE_EEXIST);
	assert_int_equal(vocab_add(v, VOCAB_CONCERNS, "Burn Out"), ENGINE_EINVAL);
	assert_int_equal(vocab_add(v, VOCAB_CONCERNS, ""), ENGINE_EINVAL);
	assert_int_equal(vocab_add(v, VOCAB_CONCERNS, "1abc"), ENGINE_EINVAL);
	vocab_free(v);
}

static void
test_capacity_limits(void **state)
{
	(void)state;
	struct vocab *v = vocab_new();
	char name[16];
	for (int i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		assert_int_equal(vocab_add(v, VOCAB_FORMATS, name), i);
	}
	assert_int_equal(vocab_add(v, VOCAB_FORMATS, "one_more"), ENGINE_EFULL);
	for (int i = 0; i < 128; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		assert_int_equal(vocab_add(v, VOCAB_CONCERNS, name), i);
	}
	assert_int_equal(vocab_add(v, VOCAB_CONCERNS, "one_more"), ENGINE_EFULL);
	vocab_free(v);
}

static void
test_set_replaces_list_and_parse_set(void **state)
{
	(void)state;
	struct vocab *v = vocab_new_default();
	const char *mods[] = { "cbt", "art_therapy" };
	assert_int_equal(vocab_set(v, VOCAB_MODALITIES, mods, 2), 0);
	assert_int_equal(vocab_count(v, VOCAB_MODALITIES), 2);
	assert_int_equal(vocab_lookup(v, VOCAB_MODALITIES, "emdr"), -1);
	struct tagset s;
	size_t bad = 99;
	assert_int_equal(vocab_parse_set(v, VOCAB_MODALITIES, mods, 2, &s, &bad), 0);
	assert_true(tagset_has(&s, 0) && tagset_has(&s, 1));
	assert_int_equal(tagset_count(&s), 2);
	const char *bad_list[] = { "cbt", "emdr" };
	assert_int_equal(vocab_parse_set(v, VOCAB_MODALITIES, bad_list, 2, &s, &bad),
	    ENGINE_ENOTFOUND);
	assert_int_equal(bad, 1);
	vocab_free(v);
}

static void
test_tagset_wide_bits(void **state)
{
	(void)state;
	struct tagset a, b;
	tagset_clear(&a);
	tagset_clear(&b);
	tagset_add(&a, 127);
	tagset_add(&a, 0);
	assert_true(tagset_has(&a, 127));
	assert_false(tagset_has(&a, 63));
	assert_int_equal(tagset_count(&a), 2);
	tagset_add(&b, 127);
	assert_true(tagset_intersects(&a, &b));
	assert_int_equal(engine_popcount64(~UINT64_C(0)), 64);
	assert_int_equal(engine_popcount64(0x8000000000000001ULL), 2);
}

static void
test_language_codes(void **state)
{
	(void)state;
	char out[3];
	uint16_t es = lang_pack("es");
	assert_true(es > 0 && es < 1024);
	assert_int_equal(lang_pack("ES"), es);
	assert_int_equal(lang_pack("e"), 0);
	assert_int_equal(lang_pack("esp"), 0);
	assert_int_equal(lang_pack("e1"), 0);
	assert_int_equal(lang_pack(NULL), 0);
	assert_int_not_equal(lang_pack("en"), es);
	lang_unpack(es, out);
	assert_string_equal(out, "es");
	lang_unpack(lang_pack("zz"), out);
	assert_string_equal(out, "zz");
	lang_unpack(0, out);
	assert_int_equal(out[0], 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_match_design),
		cmocka_unit_test(test_clinic_adds_a_concern),
		cmocka_unit_test(test_capacity_limits),
		cmocka_unit_test(test_set_replaces_list_and_parse_set),
		cmocka_unit_test(test_tagset_wide_bits),
		cmocka_unit_test(test_language_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
