/* Unit tests: alliance.c — every status rule with a hit and a near miss. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "engine/engine.h"

static struct engine_params P;

static int setup(void **state)
{
	(void)state;
	engine_params_defaults(&P);
	return 0;
}

/* alliance5 with all five items = v (index 10 v) */
static struct feedback a5(uint32_t s, double heard, double open, double adapts, double trust,
			  double fwd)
{
	struct feedback f;
	memset(&f, 0, sizeof(f));
	f.session = s;
	f.instrument = INSTR_ALLIANCE5;
	double it[5] = { heard, open, adapts, trust, fwd };
	for (int i = 0; i < 5; i++)
		f.items[i] = it[i];
	f.items_present = 0x1f;
	return f;
}

static struct feedback good(uint32_t s) { return a5(s, 8, 8, 8, 8, 8); }  /* 80 */
static struct feedback low(uint32_t s) { return a5(s, 5, 5, 5, 5, 5); }   /* 50: poor */

static struct feedback srs(uint32_t s, double rel, double g, double ap, double ov)
{
	struct feedback f;
	memset(&f, 0, sizeof(f));
	f.session = s;
	f.instrument = INSTR_SRS;
	f.items[0] = rel;
	f.items[1] = g;
	f.items[2] = ap;
	f.items[3] = ov;
	f.items_present = 0xf;
	return f;
}

static struct feedback ors(uint32_t s, double total)
{
	struct feedback f;
	memset(&f, 0, sizeof(f));
	f.session = s;
	f.instrument = INSTR_ORS;
	f.items[0] = total - 18; /* totals 18-28 with one decimal */
	f.items[1] = f.items[2] = f.items[3] = 6;
	f.items_present = 0xf;
	return f;
}

static struct alliance_result eval(const struct feedback *fb, size_t n,
				   const struct attendance *att, size_t n_att)
{
	struct alliance_result r;
	assert_int_equal(alliance_evaluate(&P, fb, n, att, n_att, &r), 0);
	return r;
}

#define EVAL(fb) eval(fb, sizeof(fb) / sizeof(fb[0]), NULL, 0)

static void expect(const struct alliance_result *r, enum alliance_state s, enum alliance_action a)
{
	if (r->status != s || r->action != a)
		fail_msg("got %s/%s, want %s/%s", alliance_state_name(r->status),
			 alliance_action_name(r->action), alliance_state_name(s), alliance_action_name(a));
}

static void test_strong(void **state)
{
	(void)state;
	struct feedback fb[] = { good(1), good(2), good(3) };
	struct alliance_result r = EVAL(fb);
	expect(&r, AST_STRONG, ACT_CONTINUE);
	assert_int_equal(r.sessions, 3);
	assert_float_equal(r.index_latest, 80, 1e-9);
	/* near miss: one session fewer is still forming */
	r = eval(fb, 2, NULL, 0);
	expect(&r, AST_FORMING, ACT_CONTINUE);
}

static void test_forming_low_early_is_discuss(void **state)
{
	(void)state;
	struct feedback fb[] = { low(1), low(2), low(3) };
	struct alliance_result r = eval(fb, 1, NULL, 0);
	expect(&r, AST_FORMING, ACT_DISCUSS);
	r = eval(fb, 2, NULL, 0);
	expect(&r, AST_FORMING, ACT_DISCUSS);
	int speak = 0;
	for (int i = 0; i < r.n_reasons; i++)
		speak |= r.reasons[i].code == AREASON_SPEAK_UP;
	assert_true(speak);
	assert_int_equal(r.n_evidence, 1);
	assert_int_equal(r.evidence[0].session, 2);
	/* near miss 1: good early sessions → continue */
	struct feedback ok[] = { good(1), good(2) };
	r = EVAL(ok);
	expect(&r, AST_FORMING, ACT_CONTINUE);
	/* near miss 2: the third low session is judged: mismatch */
	r = EVAL(fb);
	expect(&r, AST_MISMATCH, ACT_REFER);
	/* min_sessions is a parameter */
	P.min_sessions = 2;
	r = eval(fb, 2, NULL, 0);
	expect(&r, AST_MISMATCH, ACT_REFER);
	P.min_sessions = 3;
}

static void test_transference_at_trust_floor(void **state)
{
	(void)state;
	/* SRS 7/7/7/7: index 70 < 90, relationship 7.0 = trust 70 = the floor */
	struct feedback fb[] = { srs(1, 9.5, 9.5, 9.5, 9.5), srs(2, 9.5, 9.5, 9.5, 9.5),
				 srs(3, 7.0, 7, 7, 7) };
	fb[2].has_negative_feelings = true;
	fb[2].negative_feelings = 7;
	struct alliance_result r = EVAL(fb);
	expect(&r, AST_TRANSFERENCE, ACT_CONTINUE);
	assert_int_equal(r.evidence[0].session, 3);
	assert_true(r.evidence[0].items & (1u << EVI_NEGATIVE));
	assert_true(r.evidence[0].items & 1u); /* relationship */
	/* one point under the floor: not transference, a poor session → strained */
	fb[2].items[0] = 6.9;
	r = EVAL(fb);
	assert_int_not_equal(r.status, AST_TRANSFERENCE);
	expect(&r, AST_STRAINED, ACT_DISCUSS);
	/* affect below the threshold: not transference either */
	fb[2].items[0] = 7.0;
	fb[2].negative_feelings = 5;
	r = EVAL(fb);
	expect(&r, AST_STRAINED, ACT_DISCUSS);
	/* a red flag rules transference out */
	fb[2].negative_feelings = 8;
	fb[2].flags = 1u << FLAG_JUDGED;
	r = EVAL(fb);
	expect(&r, AST_STRAINED, ACT_DISCUSS);
}

static void test_transference_early(void **state)
{
	(void)state;
	struct feedback fb[] = { a5(1, 6, 6, 6, 8, 5) }; /* index 62, trust 80 */
	fb[0].has_negative_feelings = true;
	fb[0].negative_feelings = 6; /* = affect threshold */
	struct alliance_result r = EVAL(fb);
	expect(&r, AST_TRANSFERENCE, ACT_CONTINUE);
	fb[0].negative_feelings = 5.9;
	r = EVAL(fb);
	expect(&r, AST_FORMING, ACT_DISCUSS);
}

static void test_mismatch(void **state)
{
	(void)state;
	struct feedback fb[] = { good(1), good(2), low(3), low(4) };
	struct alliance_result r = EVAL(fb);
	expect(&r, AST_MISMATCH, ACT_REFER);
	assert_int_equal(r.reasons[0].code, AREASON_POOR_OF_LAST_THREE);
	assert_int_equal(r.reasons[0].arg[0], 2);
	assert_int_equal(r.n_evidence, 2);
	/* poor by a red flag despite a good index */
	struct feedback flag[] = { good(1), good(2), good(3), good(4) };
	flag[2].flags = 1u << FLAG_UNHEARD;
	flag[3].flags = 1u << FLAG_DREAD;
	r = EVAL(flag);
	expect(&r, AST_MISMATCH, ACT_REFER);
	/* near miss: two poor of the last three but the latest is good */
	struct feedback miss[] = { good(1), low(2), low(3), good(4) };
	r = EVAL(miss);
	assert_int_not_equal(r.status, AST_MISMATCH);
	expect(&r, AST_REPAIRED, ACT_CONTINUE);
	/* near miss: latest poor, only one of the last three */
	struct feedback one[] = { low(1), good(2), good(3), low(4) };
	r = EVAL(one);
	expect(&r, AST_STRAINED, ACT_DISCUSS);
}

static void test_unsafe_at_session_one(void **state)
{
	(void)state;
	struct feedback fb[] = { good(1) };
	fb[0].flags = 1u << FLAG_UNSAFE;
	struct alliance_result r = EVAL(fb);
	expect(&r, AST_UNSAFE, ACT_REVIEW);
	assert_int_equal(r.reasons[0].code, AREASON_UNSAFE);
	assert_true(r.evidence[0].items & (1u << (EVI_FLAG0 + FLAG_UNSAFE)));
	fb[0].flags = 1u << FLAG_BOUNDARIES;
	r = EVAL(fb);
	expect(&r, AST_UNSAFE, ACT_REVIEW);
	assert_int_equal(r.reasons[0].code, AREASON_BOUNDARIES);
	/* an unsafe flag on an ORS counts too, and an old one is not forgotten */
	struct feedback later[] = { good(1), good(2), good(3), good(4) };
	later[1].flags = 1u << FLAG_UNSAFE;
	r = EVAL(later);
	expect(&r, AST_UNSAFE, ACT_REVIEW);
	/* near miss: no flag */
	fb[0].flags = 0;
	r = EVAL(fb);
	expect(&r, AST_FORMING, ACT_CONTINUE);
	/* unsafe wins over no-shows */
	struct attendance att[] = { { 2, ATT_NO_SHOW }, { 3, ATT_NO_SHOW } };
	fb[0].flags = 1u << FLAG_UNSAFE;
	r = eval(fb, 1, att, 2);
	expect(&r, AST_UNSAFE, ACT_REVIEW);
}

static void test_strained_then_repaired(void **state)
{
	(void)state;
	struct feedback fb[] = { good(1), good(2), good(3), low(4), good(5) };
	struct alliance_result r = eval(fb, 4, NULL, 0);
	expect(&r, AST_STRAINED, ACT_DISCUSS);
	r = eval(fb, 5, NULL, 0);
	expect(&r, AST_REPAIRED, ACT_CONTINUE);
	assert_int_equal(r.reasons[0].code, AREASON_REPAIRED);
	assert_int_equal(r.reasons[0].arg[0], 4);
	/* near miss for repaired: no earlier poor session → strong */
	struct feedback clean[] = { good(1), good(2), good(3), good(4), good(5) };
	r = EVAL(clean);
	expect(&r, AST_STRONG, ACT_CONTINUE);
}

static void test_strained_by_drop(void **state)
{
	(void)state;
	/* 90 → 80 → 74: fell 16 > 15, every session above the threshold */
	struct feedback fb[] = { a5(1, 9, 9, 9, 9, 9), a5(2, 8, 8, 8, 8, 8), a5(3, 8, 8, 7, 7, 7) };
	struct alliance_result r = EVAL(fb);
	expect(&r, AST_STRAINED, ACT_DISCUSS);
	assert_int_equal(r.reasons[0].code, AREASON_INDEX_DROP);
	assert_int_equal(r.reasons[0].arg[0], 16);
	/* near miss: 90 → 80 → 76 fell 14 */
	fb[2] = a5(3, 8, 8, 8, 7, 7);
	r = EVAL(fb);
	expect(&r, AST_STRONG, ACT_CONTINUE);
}

static void test_disengaging(void **state)
{
	(void)state;
	struct feedback fb[] = { good(1), good(2), good(3) };
	struct attendance att[] = { { 1, ATT_ATTENDED }, { 2, ATT_ATTENDED }, { 3, ATT_ATTENDED },
				    { 4, ATT_NO_SHOW }, { 5, ATT_NO_SHOW } };
	struct alliance_result r = eval(fb, 3, att, 5);
	expect(&r, AST_DISENGAGING, ACT_REACH_OUT);
	assert_int_equal(r.reasons[0].arg[0], 4);
	assert_int_equal(r.reasons[0].arg[1], 5);
	/* a cancelled session between no-shows is not scheduled */
	struct attendance gap[] = { { 4, ATT_NO_SHOW }, { 5, ATT_CANCELLED }, { 6, ATT_NO_SHOW } };
	r = eval(fb, 3, gap, 3);
	expect(&r, AST_DISENGAGING, ACT_REACH_OUT);
	/* near miss: only the last one is a no-show */
	struct attendance one[] = { { 4, ATT_ATTENDED }, { 5, ATT_NO_SHOW } };
	r = eval(fb, 3, one, 2);
	expect(&r, AST_STRONG, ACT_CONTINUE);
	/* near miss: a rated session after two no-shows means the client came back */
	struct feedback back[] = { good(1), good(2), good(3), good(6) };
	r = eval(back, 4, att, 5);
	expect(&r, AST_STRONG, ACT_CONTINUE);
}

static void test_ors_outcome_and_not_a_session(void **state)
{
	(void)state;
	struct feedback fb[] = { ors(1, 18), good(1), ors(2, 20), good(2), ors(3, 22.9) };
	struct alliance_result r = EVAL(fb);
	assert_int_equal(r.sessions, 2); /* ORS never counts as an alliance session */
	expect(&r, AST_FORMING, ACT_CONTINUE);
	assert_true(r.outcome.has);
	assert_float_equal(r.outcome.first, 18, 1e-9);
	assert_float_equal(r.outcome.latest, 22.9, 1e-9);
	assert_false(r.outcome.reliable_improvement); /* +5 needed */
	fb[4] = ors(3, 23); /* exactly +5: reliable */
	r = EVAL(fb);
	assert_true(r.outcome.reliable_improvement);
	assert_true(r.outcome.latest_clinical);      /* below 25 */
	struct feedback fb3[] = { ors(1, 18), good(1), ors(2, 25.2) };
	r = EVAL(fb3);
	assert_true(r.outcome.reliable_improvement);
	assert_false(r.outcome.latest_clinical);
}

static void test_indices_ewma_trend(void **state)
{
	(void)state;
	struct feedback fb[] = { a5(1, 6, 6, 6, 6, 6), a5(2, 7, 7, 7, 7, 7), a5(3, 8, 8, 8, 8, 8) };
	struct alliance_result r = EVAL(fb);
	assert_float_equal(r.index_latest, 80, 1e-9);
	assert_float_equal(r.index_ewma, 72.5, 1e-9); /* 60 → 65 → 72.5 */
	assert_float_equal(r.trend, 10, 1e-9);
	/* trend over the last five only: 7 sessions 90,90,50,60,70,80,90 → slope 10 */
	struct feedback seven[] = { a5(1, 9, 9, 9, 9, 9), a5(2, 9, 9, 9, 9, 9), a5(3, 5, 5, 5, 5, 5),
				    a5(4, 6, 6, 6, 6, 6), a5(5, 7, 7, 7, 7, 7), a5(6, 8, 8, 8, 8, 8),
				    a5(7, 9, 9, 9, 9, 9) };
	r = EVAL(seven);
	assert_float_equal(r.trend, 10, 1e-9);
	assert_int_equal(r.sessions, 7);
	/* the same session rated twice: the second replaces the first */
	struct feedback twice[] = { good(1), low(2), good(2) };
	r = EVAL(twice);
	assert_int_equal(r.sessions, 2);
	assert_float_equal(r.index_latest, 80, 1e-9);
	assert_float_equal(r.index_ewma, 80, 1e-9);
}

static void test_input_errors(void **state)
{
	(void)state;
	struct feedback fb[] = { good(2), good(1) };
	struct alliance_result r;
	assert_int_equal(alliance_evaluate(&P, fb, 2, NULL, 0, &r), ENGINE_EUNSORTED);
	fb[1] = good(3);
	fb[1].items[0] = 11;
	assert_int_equal(alliance_evaluate(&P, fb, 2, NULL, 0, &r), ENGINE_EINVAL);
	assert_int_equal(alliance_evaluate(&P, NULL, 0, NULL, 0, &r), 0);
	expect(&r, AST_FORMING, ACT_CONTINUE);
	assert_false(r.has_index);
	assert_string_equal(alliance_state_name(AST_DISENGAGING), "disengaging");
	assert_string_equal(alliance_action_name(ACT_REACH_OUT), "reach_out");
	assert_string_equal(evidence_item_name(INSTR_SRS, 0), "relationship");
	assert_string_equal(evidence_item_name(INSTR_SRS, EVI_NEGATIVE), "negative_feelings");
	assert_string_equal(evidence_item_name(INSTR_SRS, EVI_FLAG0 + FLAG_DREAD), "dread");
}

static void test_session_eval(void **state)
{
	(void)state;
	struct session_eval e;
	struct feedback f = a5(1, 9, 9, 6, 9, 9); /* index 84, adapts low */
	assert_int_equal(alliance_session_eval(&P, &f, &e), 0);
	assert_false(e.poor);
	assert_true(e.items & (1u << 2));
	f.flags = 1u << FLAG_MISUNDERSTOOD;
	alliance_session_eval(&P, &f, &e);
	assert_true(e.poor && e.red_flag);
	struct feedback o = ors(1, 20);
	assert_int_equal(alliance_session_eval(&P, &o, &e), ENGINE_EINVAL);
}

#define T(fn) cmocka_unit_test_setup(fn, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_strong),
		T(test_forming_low_early_is_discuss),
		T(test_transference_at_trust_floor),
		T(test_transference_early),
		T(test_mismatch),
		T(test_unsafe_at_session_one),
		T(test_strained_then_repaired),
		T(test_strained_by_drop),
		T(test_disengaging),
		T(test_ors_outcome_and_not_a_session),
		T(test_indices_ewma_trend),
		T(test_input_errors),
		T(test_session_eval),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
