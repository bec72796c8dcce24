/* Unit tests: reasons.c (codes rendered into English sentences). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "engine/engine.h"

static void
expect(const struct vocab *v, enum reason_code code, int a0, int a1, const char *want)
{
	char buf[128];
	struct reason r = { (uint16_t)code, { a0, a1 } };
	int n = reason_render(&r, v, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(buf, want);
}

static void
test_design_examples(void **state)
{
	(void)state;
	struct vocab *v = vocab_new_default();
	expect(v, REASON_SPECIALIST, vocab_lookup(v, VOCAB_CONCERNS, "trauma"), 0,
	    "specialist in trauma");
	expect(v, REASON_SPEAKS, lang_pack("es"), 0, "speaks es");
	expect(v, REASON_SHARED_HOURS, 3, 0, "3 h of shared availability");
	expect(v, REASON_STRONG_ALLIANCE, 88, 0, "strong alliance with past clients");
	expect(v, REASON_OFFERS, vocab_lookup(v, VOCAB_MODALITIES, "emdr"), 0, "offers EMDR");
	expect(v, REASON_OFFERS, vocab_lookup(v, VOCAB_MODALITIES, "person_centered"), 0,
	    "offers person centered");
	expect(v, WARN_AVOIDED_MODALITY, vocab_lookup(v, VOCAB_MODALITIES, "psychodynamic"), 0,
	    "offers psychodynamic, which you wanted to avoid");
	expect(v, REASON_IDENTITY, vocab_lookup(v, VOCAB_IDENTITY, "lgbtq_affirming"), 0,
	    "lgbtq affirming");
	expect(v, AREASON_NO_SHOWS, 4, 5, "no-shows at sessions 4 and 5");
	expect(v, AREASON_SPEAK_UP, 0, 0, "speak up early about your needs");
	expect(v, REASON_SPECIALIST, 99, 0, "specialist in ?");
	vocab_free(v);
}

static void
test_every_code_renders_and_truncates(void **state)
{
	(void)state;
	struct vocab *v = vocab_new_default();
	char buf[8];
	for (int c = 1; c < REASON_CODE_COUNT; c++) {
		struct reason r = { (uint16_t)c, { 1, 2 } };
		char big[128];
		assert_true(reason_render(&r, v, big, sizeof(big)) > 0);
		assert_string_not_equal(reason_code_name((enum reason_code)c), "unknown");
		int n = reason_render(&r, v, buf, sizeof(buf));
		assert_true(n >= 0 && strlen(buf) < sizeof(buf));
	}
	struct reason bad = { REASON_CODE_COUNT, { 0, 0 } };
	assert_int_equal(reason_render(&bad, v, buf, sizeof(buf)), ENGINE_EINVAL);
	assert_string_equal(reason_code_name(REASON_SPEAKS), "speaks");
	vocab_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_design_examples),
		cmocka_unit_test(test_every_code_renders_and_truncates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
