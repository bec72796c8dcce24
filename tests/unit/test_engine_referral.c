/* Unit tests: referral.c (colleague suggestions). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "engine/engine.h"

static struct engine_params P;
static struct vocab *V;

static int
setup(void **state)
{
	(void)state;
	engine_params_defaults(&P);
	V = vocab_new_default();
	return V ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	vocab_free(V);
	return 0;
}

static void
prof(struct therapist_profile *t, uint32_t id)
{
	therapist_profile_init(t, id);
	t->active = t->accepting_new = true;
	t->capacity = 10;
	profile_add_language(t, "en");
	profile_set_concern(t, vocab_lookup(V, VOCAB_CONCERNS, "anxiety"), CONCERN_EXPERIENCED);
	tagset_add(&t->modalities, vocab_lookup(V, VOCAB_MODALITIES, "cbt"));
}

static struct intake
client(void)
{
	struct intake in;
	intake_init(&in);
	intake_add_language(&in, "en");
	intake_add_concern(&in, vocab_lookup(V, VOCAB_CONCERNS, "anxiety"), 2);
	return in;
}

static struct match_item OUT[MATCH_MAX_K];
static struct match_summary SUM;

static void
test_never_current_or_mismatch(void **state)
{
	(void)state;
	struct catalog *c = catalog_new();
	for (uint32_t id = 1; id <= 30; id++) {
		struct therapist_profile t;
		prof(&t, id);
		assert_int_equal(catalog_upsert(c, &t), 0);
	}
	struct intake in = client();
	uint32_t mism[] = { 3, 17 };
	for (uint32_t cur = 1; cur <= 30; cur++) {
		struct referral_request req = { .intake = &in,
			.current_therapist = cur,
			.mismatches = mism,
			.n_mismatches = 2 };
		assert_int_equal(referral_suggest(c, &P, &req, MATCH_MAX_K, OUT, &SUM), 0);
		assert_true(SUM.n_results >= 27);
		for (uint32_t i = 0; i < SUM.n_results; i++) {
			assert_int_not_equal(OUT[i].therapist_id, cur);
			assert_int_not_equal(OUT[i].therapist_id, 3);
			assert_int_not_equal(OUT[i].therapist_id, 17);
		}
		assert_int_equal(SUM.excluded[EXCL_EXCLUDED], (cur == 3 || cur == 17) ? 2 : 3);
	}
	catalog_free(c);
}

static void
test_colleague_outranks_identical_stranger(void **state)
{
	(void)state;
	struct catalog *c = catalog_new();
	struct therapist_profile t;
	for (uint32_t id = 1; id <= 3; id++) {
		prof(&t, id);
		catalog_upsert(c, &t);
	}
	struct intake in = client();
	struct colleague_link link = { .therapist_id = 3 };
	struct referral_request req = { .intake = &in,
		.current_therapist = 1,
		.colleagues = &link,
		.n_colleagues = 1 };
	assert_int_equal(referral_suggest(c, &P, &req, 5, OUT, &SUM), 0);
	assert_int_equal(SUM.n_results, 2);
	assert_int_equal(OUT[0].therapist_id, 3); /* beats 2, which wins the id tie-break */
	assert_true(OUT[0].colleague);
	assert_false(OUT[1].colleague);
	assert_int_equal(OUT[0].reasons[0].code, REASON_COLLEAGUE);
	float full = OUT[0].score - OUT[1].score;
	assert_true(full > 0);
	assert_true(OUT[0].score <= 100.0f);
	/* a link for tags the client did not ask for gives a partial bonus */
	tagset_add(&link.modalities, vocab_lookup(V, VOCAB_MODALITIES, "gottman"));
	assert_int_equal(referral_suggest(c, &P, &req, 5, OUT, &SUM), 0);
	assert_int_equal(OUT[0].therapist_id, 3);
	assert_float_equal(OUT[0].score - OUT[1].score, full * P.colleague_partial, 1e-3);
	/* without the link, the stranger with the lower id comes first */
	req.n_colleagues = 0;
	assert_int_equal(referral_suggest(c, &P, &req, 5, OUT, &SUM), 0);
	assert_int_equal(OUT[0].therapist_id, 2);
	catalog_free(c);
}

static void
test_need_emdr_first(void **state)
{
	(void)state;
	struct catalog *c = catalog_new();
	struct therapist_profile t;
	int emdr = vocab_lookup(V, VOCAB_MODALITIES, "emdr");
	int anxiety = vocab_lookup(V, VOCAB_CONCERNS, "anxiety");
	for (uint32_t id = 1; id <= 6; id++) {
		prof(&t, id);
		if (id <= 3) /* better on concerns, no EMDR */
			profile_set_concern(&t, anxiety, CONCERN_SPECIALIST);
		else
			tagset_add(&t.modalities, emdr);
		catalog_upsert(c, &t);
	}
	struct intake in = client();
	struct referral_need need;
	memset(&need, 0, sizeof(need));
	tagset_add(&need.modalities, emdr);
	struct referral_request req = { .intake = &in, .current_therapist = 6 };
	assert_int_equal(referral_suggest(c, &P, &req, 5, OUT, &SUM), 0);
	assert_true(OUT[0].therapist_id <= 3); /* without the need, specialists lead */
	req.need = &need;
	assert_int_equal(referral_suggest(c, &P, &req, 5, OUT, &SUM), 0);
	assert_int_equal(OUT[0].therapist_id, 4);
	assert_int_equal(OUT[1].therapist_id, 5);
	assert_int_equal(OUT[0].need_met, 1);
	assert_int_equal(OUT[2].need_met, 0);
	int said = 0;
	char buf[64];
	for (int i = 0; i < OUT[0].n_reasons; i++)
		if (OUT[0].reasons[i].code == REASON_NEED_MODALITY) {
			reason_render(&OUT[0].reasons[i], V, buf, sizeof(buf));
			said = strcmp(buf, "offers EMDR, as you asked") == 0;
		}
	assert_true(said);
	/* a need the client also prefers is said once, as the need */
	tagset_add(&in.mod_prefer, emdr);
	assert_int_equal(referral_suggest(c, &P, &req, 5, OUT, &SUM), 0);
	for (int i = 0; i < OUT[0].n_reasons; i++)
		assert_false(
		    OUT[0].reasons[i].code == REASON_OFFERS && OUT[0].reasons[i].arg[0] == emdr);
	catalog_free(c);
}

static void
test_low_approach_moves_away(void **state)
{
	(void)state;
	struct catalog *c = catalog_new();
	struct therapist_profile t;
	int cbt = vocab_lookup(V, VOCAB_MODALITIES, "cbt"),
	    act = vocab_lookup(V, VOCAB_MODALITIES, "act");
	prof(&t, 1); /* current: cbt, directive */
	t.style[STYLE_DIRECTIVENESS] = 3;
	catalog_upsert(c, &t);
	prof(&t, 2); /* same approach as the current therapist */
	t.style[STYLE_DIRECTIVENESS] = 3;
	catalog_upsert(c, &t);
	prof(&t, 3); /* different modality and style */
	tagset_clear(&t.modalities);
	tagset_add(&t.modalities, act);
	t.style[STYLE_DIRECTIVENESS] = -2;
	catalog_upsert(c, &t);
	struct intake in = client();
	struct referral_request req = { .intake = &in, .current_therapist = 1 };
	assert_int_equal(referral_suggest(c, &P, &req, 5, OUT, &SUM), 0);
	assert_int_equal(OUT[0].therapist_id, 2); /* identical scores: lower id */
	req.signals.low_approach = true;
	assert_int_equal(referral_suggest(c, &P, &req, 5, OUT, &SUM), 0);
	assert_int_equal(OUT[0].therapist_id, 3);
	assert_true(OUT[0].components[COMP_MODALITY] > OUT[1].components[COMP_MODALITY]);
	int diff = 0;
	for (int i = 0; i < OUT[0].n_reasons; i++)
		diff |= OUT[0].reasons[i].code == REASON_DIFFERENT_APPROACH;
	assert_true(diff);
	(void)cbt;
	catalog_free(c);
}

static void
test_low_heard_weighs_alliance_record(void **state)
{
	(void)state;
	struct catalog *c = catalog_new();
	struct therapist_profile t;
	int anxiety = vocab_lookup(V, VOCAB_CONCERNS, "anxiety");
	prof(&t, 1);
	catalog_upsert(c, &t);
	prof(&t, 2); /* experienced, strong alliance record */
	catalog_upsert(c, &t);
	prof(&t, 3); /* specialist, weak alliance record */
	profile_set_concern(&t, anxiety, CONCERN_SPECIALIST);
	catalog_upsert(c, &t);
	struct therapist_records r = { 0 };
	r.alliance = (struct record){ 100, 95 };
	catalog_set_records(c, 2, &r);
	r.alliance = (struct record){ 100, 40 };
	catalog_set_records(c, 3, &r);
	struct intake in;
	intake_init(&in);
	intake_add_concern(&in, anxiety, 1);
	struct referral_request req = { .intake = &in, .current_therapist = 1 };
	assert_int_equal(referral_suggest(c, &P, &req, 5, OUT, &SUM), 0);
	assert_int_equal(OUT[0].therapist_id, 3);
	req.signals.low_heard = true;
	assert_int_equal(referral_suggest(c, &P, &req, 5, OUT, &SUM), 0);
	assert_int_equal(OUT[0].therapist_id, 2);
	catalog_free(c);
}

static void
test_signals_from_feedback(void **state)
{
	(void)state;
	struct feedback fb[4];
	memset(fb, 0, sizeof(fb));
	for (int i = 0; i < 4; i++) {
		fb[i].session = (uint32_t)(i + 1);
		fb[i].instrument = INSTR_SRS;
		fb[i].items_present = 0xf;
		fb[i].items[0] = 9; /* relationship */
		fb[i].items[1] = 9;
		fb[i].items[2] = i == 0 ? 9 : 5; /* approach low in the last three */
		fb[i].items[3] = 9;
	}
	struct referral_signals s;
	assert_int_equal(referral_signals_from_feedback(&P, fb, 4, &s), 0);
	assert_true(s.low_approach);
	assert_false(s.low_heard);
	for (int i = 1; i < 4; i++) {
		fb[i].items[2] = 9;
		fb[i].items[0] = 6;
	}
	assert_int_equal(referral_signals_from_feedback(&P, fb, 4, &s), 0);
	assert_false(s.low_approach);
	assert_true(s.low_heard);
}

#define T(fn) cmocka_unit_test(fn)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_never_current_or_mismatch),
		T(test_colleague_outranks_identical_stranger),
		T(test_need_emdr_first),
		T(test_low_approach_moves_away),
		T(test_low_heard_weighs_alliance_record),
		T(test_signals_from_feedback),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
