/* Unit tests: alliance.c — every status rule with a hit and a near miss. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "engine/engine.h"

static struct engine_params P;

static int
setup(void **state)
{
	(void)state;
	engine_params_defaults(&P);
	return 0;
}

/* alliance5 with all five items = v (index 10 v) */
static struct feedback
a5(uint32_t s, double heard, double open, double adapts, double trust, double fwd)
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

static struct feedback
good(uint32_t s)
{
	return a5(s, 8, 8, 8, 8, 8);
} /* 80 */
static struct feedback
low(uint32_t s)
{
	return a5(s, 5, 5, 5, 5, 5);
} /* 50: poor */

static struct feedback
srs(uint32_t s, double rel, double g, double ap, double ov)
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

static struct feedback
ors(uint32_t s, double total)
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

static struct alliance_result
eval(const struct feedback *fb, size_t n, const struct attendance *att, size_t n_att)
{
	struct alliance_result r;
	assert_int_equal(alliance_evaluate(&P, fb, n, att, n_att, &r), 0);
	return r;
}

#define EVAL(fb) eval(fb, sizeof(fb) / sizeof(fb[0]), NULL, 0)

static void
expect(const struct alliance_result *r, enum alliance_state s, enum alliance_action a)
{
	if (r->status != s || r->action != a)
		fail_msg("got %s/%s, want %s/%s", alliance_state_name(r->status),
		    alliance_action_name(r->action), alliance_state_name(s),
		    alliance_action_name(a));
}

static void
test_strong(void **state)
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

static void
test_forming_low_early_is_discuss(void **state)
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

static void
test_transference_at_trust_floor(void **state)
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

static void
test_transference_early(void **state)
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

static void
test_mismatch(void **state)
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

static void
test_unsafe_at_session_one(void **state)
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

static void
test_strained_then_repaired(void **state)
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

static void
test_strained_by_drop(void **state)
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

static void
test_disengaging(void **state)
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
	/* out of order, and the last entry of a session wins: 7 was re-marked cancelled, so 4
	 * and 6 are the last two scheduled */
	struct attendance shuffled[] = { { 7, ATT_NO_SHOW }, { 6, ATT_NO_SHOW }, { 4, ATT_NO_SHOW },
		{ 7, ATT_CANCELLED } };
	r = eval(fb, 3, shuffled, 4);
	expect(&r, AST_DISENGAGING, ACT_REACH_OUT);
	assert_int_equal(r.reasons[0].arg[0], 4);
	assert_int_equal(r.reasons[0].arg[1], 6);
	/* near miss: a cancelled session re-marked a no-show is scheduled again */
	struct attendance remarked[] = { { 5, ATT_NO_SHOW }, { 6, ATT_CANCELLED },
		{ 6, ATT_ATTENDED } };
	r = eval(fb, 3, remarked, 3);
	expect(&r, AST_STRONG, ACT_CONTINUE);
}

/* Session numbers beyond the schema's are refused, not written past a table. */
static void
test_sessions_out_of_range_are_einval(void **state)
{
	(void)state;
	struct feedback fb[] = { good(1), good(ALLIANCE_MAX_SESSION + 1) };
	struct attendance att[] = { { ALLIANCE_MAX_SESSION + 1, ATT_NO_SHOW } };
	struct attendance zero[] = { { 0, ATT_NO_SHOW } };
	struct alliance_result r;

	assert_int_equal(alliance_evaluate(&P, fb, 2, NULL, 0, &r), ENGINE_EINVAL);
	assert_int_equal(alliance_evaluate(&P, fb, 1, att, 1, &r), ENGINE_EINVAL);
	assert_int_equal(alliance_evaluate(&P, fb, 1, zero, 1, &r), ENGINE_EINVAL);
	assert_int_equal(alliance_evaluate(&P, fb, 1, NULL, 0, &r), 0);
}

static void
test_ors_outcome_and_not_a_session(void **state)
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
	fb[4] = ors(3, 23);                           /* exactly +5: reliable */
	r = EVAL(fb);
	assert_true(r.outcome.reliable_improvement);
	assert_true(r.outcome.latest_clinical); /* below 25 */
	struct feedback fb3[] = { ors(1, 18), good(1), ors(2, 25.2) };
	r = EVAL(fb3);
	assert_true(r.outcome.reliable_improvement);
	assert_false(r.outcome.latest_clinical);
}

static void
test_indices_ewma_trend(void **state)
{
	(void)state;
	struct feedback fb[] = { a5(1, 6, 6, 6, 6, 6), a5(2, 7, 7, 7, 7, 7), a5(3, 8, 8, 8, 8, 8) };
	struct alliance_result r = EVAL(fb);
	assert_float_equal(r.index_latest, 80, 1e-9);
	assert_float_equal(r.index_ewma, 72.5, 1e-9); /* 60 → 65 → 72.5 */
	assert_float_equal(r.trend, 10, 1e-9);
	/* trend over the last five only: 7 sessions 90,90,50,60,70,80,90 → slope 10 */
	struct feedback seven[] = { a5(1, 9, 9, 9, 9, 9), a5(2, 9, 9, 9, 9, 9),
		a5(3, 5, 5, 5, 5, 5), a5(4, 6, 6, 6, 6, 6), a5(5, 7, 7, 7, 7, 7),
		a5(6, 8, 8, 8, 8, 8), a5(7, 9, 9, 9, 9, 9) };
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

static void
test_input_errors(void **state)
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

static void
test_session_eval(void **state)
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

/* --- issue 10: clinical fidelity ---------------------------------------- */

static struct feedback
with_flags(struct feedback f, unsigned flags)
{
	f.flags = (uint8_t)flags;
	return f;
}

static struct feedback
with_nf(struct feedback f, double nf)
{
	f.has_negative_feelings = true;
	f.negative_feelings = nf;
	return f;
}

static struct feedback
ors_items(uint32_t s, double a, double b, double c, double d)
{
	struct feedback f = ors(s, 24);
	f.items[0] = a;
	f.items[1] = b;
	f.items[2] = c;
	f.items[3] = d;
	return f;
}

static struct feedback
wai(uint32_t s, double bond, double rest)
{
	struct feedback f;
	memset(&f, 0, sizeof(f));
	f.session = s;
	f.instrument = INSTR_WAI_SR;
	for (int i = 0; i < 12; i++)
		f.items[i] = (i == 2 || i == 4 || i == 6 || i == 8) ? bond : rest;
	f.items_present = 0xfff;
	return f;
}

#define JUDGED_DREAD ((1u << FLAG_JUDGED) | (1u << FLAG_DREAD))

static int
has_reason(const struct alliance_result *r, enum reason_code code)
{
	for (int i = 0; i < r->n_reasons; i++)
		if (r->reasons[i].code == code)
			return 1;
	return 0;
}

/* Case 4: the flags an ORS carries reach the status. */
static void
test_case4_ors_flags_count(void **state)
{
	(void)state;
	struct feedback fb[8];
	for (uint32_t s = 1; s <= 4; s++) {
		fb[2 * (s - 1)] = with_flags(ors(s, 20), JUDGED_DREAD);
		fb[2 * (s - 1) + 1] = good(s);
	}
	struct alliance_result r = EVAL(fb);
	expect(&r, AST_MISMATCH, ACT_REFER);
	assert_int_equal(r.sessions, 4);
	assert_true(r.evidence[0].items & (1u << (EVI_FLAG0 + FLAG_JUDGED)));
	/* the ORS after the rating of the same session counts the same */
	struct feedback after[] = { good(1), good(2), good(3),
		with_flags(ors(3, 20), 1u << FLAG_UNHEARD), good(4),
		with_flags(ors(4, 20), 1u << FLAG_UNHEARD) };
	r = EVAL(after);
	expect(&r, AST_MISMATCH, ACT_REFER);
	/* an ORS-only session with a flag is a rated session with no score */
	struct feedback only[] = { good(1), good(2), with_flags(ors(3, 20), 1u << FLAG_JUDGED),
		with_flags(ors(4, 20), 1u << FLAG_JUDGED) };
	r = EVAL(only);
	expect(&r, AST_MISMATCH, ACT_REFER);
	assert_int_equal(r.sessions, 4);
	assert_float_equal(r.index_latest, 80, 1e-9); /* session 2's: the ORS has no score */
	/* near miss: an ORS without flags is no alliance session */
	struct feedback plain[] = { good(1), good(2), ors(3, 20), ors(4, 20) };
	r = EVAL(plain);
	assert_int_equal(r.sessions, 2);
	expect(&r, AST_FORMING, ACT_CONTINUE);
}

/* The common score: each instrument's threshold maps to 70. */
static void
test_score_scale(void **state)
{
	(void)state;
	assert_float_equal(alliance_score(&P, INSTR_ALLIANCE5, 70), 70, 1e-9);
	assert_float_equal(alliance_score(&P, INSTR_ALLIANCE5, 85), 85, 1e-9);
	assert_float_equal(alliance_score(&P, INSTR_ALLIANCE5, 35), 35, 1e-9);
	assert_float_equal(alliance_score(&P, INSTR_SRS, 90), 70, 1e-9);
	assert_float_equal(alliance_score(&P, INSTR_SRS, 95), 85, 1e-9);
	assert_float_equal(alliance_score(&P, INSTR_SRS, 45), 35, 1e-9);
	assert_float_equal(alliance_score(&P, INSTR_SRS, 100), 100, 1e-9);
	assert_float_equal(alliance_score(&P, INSTR_WAI_SR, 62.5), 70, 1e-9);
	assert_float_equal(alliance_score(&P, INSTR_WAI_SR, 81.25), 85, 1e-9);
	assert_float_equal(alliance_score(&P, INSTR_WAI_SR, 0), 0, 1e-9);
	for (double x = 0; x <= 100; x += 2.5)
		for (int i = 0; i < INSTR_ORS; i++)
			assert_float_equal(alliance_index_of_score(&P, (enum instrument)i,
			                       alliance_score(&P, (enum instrument)i, x)),
			    x, 1e-9);
}

/* Case 5: indexes of different instruments are never subtracted. */
static void
test_case5_one_scale_across_instruments(void **state)
{
	(void)state;
	/* SRS 95 (score 85) three times, then alliance5 at 78 (score 78): a fall of 7 */
	struct feedback fb[] = { srs(1, 9.5, 9.5, 9.5, 9.5), srs(2, 9.5, 9.5, 9.5, 9.5),
		srs(3, 9.5, 9.5, 9.5, 9.5), a5(4, 8, 8, 8, 8, 7) };
	struct alliance_result r = EVAL(fb);
	expect(&r, AST_STRONG, ACT_CONTINUE);
	assert_float_equal(r.index_latest, 78, 1e-9);
	assert_float_equal(r.score_latest, 78, 1e-9);
	assert_float_equal(r.score_ewma, 0.5 * 78 + 0.5 * 85, 1e-9);
	assert_float_equal(r.index_ewma, 81.5,
	    1e-9); /* the ewma on the latest instrument's scale */
	/* an SRS at 95 reads score 85 */
	r = eval(fb, 3, NULL, 0);
	assert_float_equal(r.index_latest, 95, 1e-9);
	assert_float_equal(r.score_latest, 85, 1e-9);
	assert_int_equal(r.reasons[0].code, AREASON_STRONG);
	assert_int_equal(r.reasons[0].arg[0], 85);
	/* a real fall on the score: SRS 100 (score 100) → alliance5 at 80 (80) is 20 */
	struct feedback fall[] = { srs(1, 10, 10, 10, 10), srs(2, 10, 10, 10, 10), good(3) };
	r = EVAL(fall);
	expect(&r, AST_STRAINED, ACT_DISCUSS);
	assert_int_equal(r.reasons[0].code, AREASON_INDEX_DROP);
	assert_int_equal(r.reasons[0].arg[0], 20);
}

/* Case 7: low trust is never strong or transference; low items are flags. */
static void
test_case7_low_trust_and_item_flags(void **state)
{
	(void)state;
	/* WAI-SR Bond at 2, the rest at 5: index 75, trust 25 */
	struct feedback w[5];
	for (uint32_t s = 1; s <= 5; s++)
		w[s - 1] = with_nf(wai(s, 2, 5), 9);
	struct alliance_result r = EVAL(w);
	assert_float_equal(r.index_latest, 75, 1e-9);
	assert_int_not_equal(r.status, AST_STRONG);
	assert_int_not_equal(r.status, AST_TRANSFERENCE);
	expect(&r, AST_MISMATCH, ACT_REFER);
	/* alliance5: heard, open, adapts, looking_forward 2, trust 8, negative feelings 8 */
	struct feedback a[5];
	for (uint32_t s = 1; s <= 5; s++)
		a[s - 1] = with_nf(a5(s, 2, 2, 2, 8, 2), 8);
	r = EVAL(a);
	expect(&r, AST_MISMATCH, ACT_REFER);
	/* near miss: only looking_forward low, trust holds, strong affect: transference */
	for (uint32_t s = 1; s <= 5; s++)
		a[s - 1] = with_nf(a5(s, 8, 8, 8, 8, 0), 8);
	r = EVAL(a);
	expect(&r, AST_TRANSFERENCE, ACT_CONTINUE);
}

static void
test_item_flags(void **state)
{
	(void)state;
	struct session_eval e;
	struct feedback f = a5(1, 3, 9, 9, 9, 9); /* heard 3 = item_flag_max */
	assert_int_equal(alliance_session_eval(&P, &f, &e), 0);
	assert_true(e.poor && e.red_flag);
	assert_true(e.flags & (1u << FLAG_UNHEARD));
	f = a5(1, 4, 9, 9, 9, 9); /* heard 4: no flag */
	alliance_session_eval(&P, &f, &e);
	assert_false(e.red_flag);
	f = a5(1, 9, 3, 9, 9, 9);
	alliance_session_eval(&P, &f, &e);
	assert_true(e.flags & (1u << FLAG_JUDGED));
	f = a5(1, 9, 9, 3, 9, 9);
	alliance_session_eval(&P, &f, &e);
	assert_true(e.flags & (1u << FLAG_MISUNDERSTOOD));
	f = a5(1, 9, 9, 9, 9, 0); /* looking_forward is never a flag */
	alliance_session_eval(&P, &f, &e);
	assert_false(e.red_flag);
	assert_false(e.poor);
	f = a5(1, 9, 9, 9, 3, 9); /* low trust: poor, but no flag */
	alliance_session_eval(&P, &f, &e);
	assert_false(e.red_flag);
	assert_true(e.poor);
	f = srs(1, 9.5, 9.5, 3.0, 9.5); /* approach */
	alliance_session_eval(&P, &f, &e);
	assert_true(e.flags & (1u << FLAG_MISUNDERSTOOD));
	f = srs(1, 9.5, 3.0, 9.5, 9.5); /* goals: no flag */
	alliance_session_eval(&P, &f, &e);
	assert_false(e.red_flag);
	f = srs(1, 9.5, 9.5, 3.1, 9.5);
	alliance_session_eval(&P, &f, &e);
	assert_false(e.red_flag);
	/* item_flag_max is a parameter */
	P.item_flag_max = 5;
	f = a5(1, 5, 9, 9, 9, 9);
	alliance_session_eval(&P, &f, &e);
	assert_true(e.flags & (1u << FLAG_UNHEARD));
	P.item_flag_max = 3;
}

/* Case 8: one angry-but-trusting session does not erase a mismatch. */
static void
test_case8_transference_does_not_erase_mismatch(void **state)
{
	(void)state;
	struct feedback fb[] = { good(1), good(2), with_flags(good(3), 1u << FLAG_JUDGED),
		with_flags(good(4), 1u << FLAG_JUDGED), with_nf(a5(5, 6, 6, 6, 8, 5), 8) };
	struct alliance_result r = EVAL(fb);
	expect(&r, AST_MISMATCH, ACT_REFER);
	/* near miss: one poor of the last three, then transference */
	fb[2] = good(3);
	r = EVAL(fb);
	expect(&r, AST_TRANSFERENCE, ACT_CONTINUE);
}

/* Case 9: repaired only within repair_window rated sessions. */
static void
test_case9_repair_window(void **state)
{
	(void)state;
	struct feedback fb[10];
	for (uint32_t s = 1; s <= 10; s++)
		fb[s - 1] = s == 2 ? low(2) : good(s);
	/* the poor session 2 is within the last six at session 7 */
	struct alliance_result r = eval(fb, 7, NULL, 0);
	expect(&r, AST_REPAIRED, ACT_CONTINUE);
	assert_int_equal(r.reasons[0].arg[0], 2);
	r = eval(fb, 8, NULL, 0);
	expect(&r, AST_STRONG, ACT_CONTINUE);
	r = EVAL(fb);
	expect(&r, AST_STRONG, ACT_CONTINUE);
	P.repair_window = 3;
	r = eval(fb, 4, NULL, 0);
	expect(&r, AST_REPAIRED, ACT_CONTINUE);
	r = eval(fb, 5, NULL, 0);
	expect(&r, AST_STRONG, ACT_CONTINUE);
	P.repair_window = 6;
}

/* The trend chart: the last scored sessions on the common scale, oldest
 * first; an ORS alone draws nothing, and only the last 16 are kept. */
static void
test_recent_scores_for_the_chart(void **state)
{
	(void)state;
	struct feedback fb[20];
	for (uint32_t s = 1; s <= 20; s++)
		fb[s - 1] = s == 3 ? ors(3, 20) : s == 4 ? srs(4, 9, 9, 9, 9) : good(s);
	struct alliance_result r = eval(fb, 5, NULL, 0);
	assert_int_equal(r.n_recent, 4);
	assert_int_equal(r.recent[0].session, 1);
	assert_int_equal(r.recent[2].session, 4);
	/* alliance5 index 80: 70 + (80 - 70) / (100 - 70) x 30 = 80 */
	assert_float_equal(r.recent[0].score, 80.0, 1e-9);
	assert_float_equal(r.recent[2].score, 70.0, 1e-9); /* SRS total 36 = threshold */
	r = EVAL(fb);
	assert_int_equal(r.n_recent, ALLIANCE_MAX_RECENT);
	assert_int_equal(r.recent[ALLIANCE_MAX_RECENT - 1].session, 20);
	assert_int_equal(r.recent[0].session, 5);
}

/* Case 10: the drop is measured from the highest of the three sessions before. */
static void
test_case10_strained_from_peak(void **state)
{
	(void)state;
	struct feedback fb[] = { good(1), a5(2, 10, 10, 10, 10, 10),
		a5(3, 9, 8, 8, 8, 8) }; /* 80 100 82 */
	struct alliance_result r = EVAL(fb);
	expect(&r, AST_STRAINED, ACT_DISCUSS);
	assert_int_equal(r.reasons[0].code, AREASON_INDEX_DROP);
	assert_int_equal(r.reasons[0].arg[0], 18);
	assert_int_equal(r.reasons[0].arg[1], 2);
	/* the peak may be three sessions back */
	struct feedback four[] = { a5(1, 10, 10, 10, 10, 10), good(2), good(3),
		a5(4, 9, 8, 8, 8, 8) };
	r = EVAL(four);
	expect(&r, AST_STRAINED, ACT_DISCUSS);
	/* but not four */
	struct feedback five[] = { a5(1, 10, 10, 10, 10, 10), good(2), good(3), good(4),
		a5(5, 9, 8, 8, 8, 8) };
	r = EVAL(five);
	expect(&r, AST_STRONG, ACT_CONTINUE);
}

/* Boundaries docs/alliance.md names. */
static void
test_boundaries(void **state)
{
	(void)state;
	/* score exactly 70 is not poor */
	struct feedback s70[] = { a5(1, 7, 7, 7, 7, 7), a5(2, 7, 7, 7, 7, 7),
		a5(3, 7, 7, 7, 7, 7) };
	struct alliance_result r = EVAL(s70);
	expect(&r, AST_STRONG, ACT_CONTINUE);
	assert_float_equal(r.score_latest, 70, 1e-9);
	/* SRS total exactly 36 (score 70) is not poor; 35.9 is */
	struct feedback t36[] = { srs(1, 8.9, 8.9, 9.1, 9.1), srs(2, 9.1, 8.9, 9.0, 9.0),
		srs(3, 8.9, 8.9, 9.1, 9.1) };
	r = EVAL(t36);
	expect(&r, AST_STRONG, ACT_CONTINUE);
	assert_float_equal(r.score_latest, 70, 1e-9);
	t36[2] = srs(3, 9.1, 8.9, 9.0, 8.9);
	r = EVAL(t36);
	expect(&r, AST_STRAINED, ACT_DISCUSS);
	/* a drop of exactly 15 is not strained; more is */
	struct feedback drop[] = { good(1), a5(2, 10, 10, 10, 10, 10), a5(3, 9, 9, 9, 8, 8) };
	r = EVAL(drop); /* 100 → 86: fell 14 */
	expect(&r, AST_STRONG, ACT_CONTINUE);
	drop[2] = a5(3, 9, 9, 8, 8, 8); /* 100 → 84: fell 16 */
	r = EVAL(drop);
	expect(&r, AST_STRAINED, ACT_DISCUSS);
	struct feedback e15[] = { srs(1, 10, 10, 10, 10), srs(2, 10, 10, 10, 10),
		srs(3, 9.5, 9.5, 9.5, 9.5) }; /* score 100 → 85: exactly 15 */
	r = EVAL(e15);
	expect(&r, AST_STRONG, ACT_CONTINUE);
	e15[2] = srs(3, 9.5, 9.5, 9.5, 9.4); /* 84.25 */
	r = EVAL(e15);
	expect(&r, AST_STRAINED, ACT_DISCUSS);
	/* ORS exactly 25 is not below the cutoff, even when the sum rounds below */
	struct feedback o25[] = { ors_items(1, 5.0, 5.1, 8.2, 6.7) }; /* 24.999999999999996 */
	r = EVAL(o25);
	assert_false(r.outcome.latest_clinical);
	o25[0] = ors_items(1, 5.0, 5.1, 8.2, 6.6);
	r = EVAL(o25);
	assert_true(r.outcome.latest_clinical);
	/* a rise of exactly 5 is reliable (22.000000000000004 → 27.0) */
	struct feedback rise[] = { ors_items(1, 6.1, 5.7, 4.9, 5.3),
		ors_items(2, 5.5, 7.9, 8.4, 5.2) };
	r = EVAL(rise);
	assert_true(r.outcome.reliable_improvement);
	rise[1].items[3] = 5.1;
	r = EVAL(rise);
	assert_false(r.outcome.reliable_improvement);
}

/* Plain-language reasons name what the client said. */
static void
test_reasons_name_the_flags(void **state)
{
	(void)state;
	struct feedback fb[] = { with_flags(good(1), 1u << FLAG_JUDGED),
		with_flags(good(2), 1u << FLAG_JUDGED), with_flags(good(3), 1u << FLAG_JUDGED) };
	struct alliance_result r = EVAL(fb);
	expect(&r, AST_MISMATCH, ACT_REFER);
	assert_true(has_reason(&r, AREASON_POOR_OF_LAST_THREE));
	assert_true(has_reason(&r, AREASON_RED_FLAG));
	struct vocab *v = vocab_new_default();
	char buf[128];
	struct reason why = { AREASON_RED_FLAG, { 3, 1 << FLAG_JUDGED } };
	reason_render(&why, v, buf, sizeof(buf));
	assert_string_equal(buf, "session 3: the client felt judged");
	why.arg[1] = (1 << FLAG_JUDGED) | (1 << FLAG_UNHEARD) | (1 << FLAG_DREAD);
	reason_render(&why, v, buf, sizeof(buf));
	assert_string_equal(buf,
	    "session 3: the client felt judged, did not feel heard and dreaded the session");
	struct reason trust = { AREASON_LOW_TRUST, { 2, 25 } };
	reason_render(&trust, v, buf, sizeof(buf));
	assert_string_equal(buf, "session 2: trust 25, below the trust floor");
	vocab_free(v);
	/* a low-trust session says so */
	struct feedback lt[] = { good(1), good(2), a5(3, 9, 9, 9, 5, 9) };
	r = EVAL(lt);
	expect(&r, AST_STRAINED, ACT_DISCUSS);
	assert_true(has_reason(&r, AREASON_LOW_TRUST));
}

#define T(fn) cmocka_unit_test_setup(fn, setup)

int
main(void)
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
		T(test_sessions_out_of_range_are_einval),
		T(test_ors_outcome_and_not_a_session),
		T(test_indices_ewma_trend),
		T(test_input_errors),
		T(test_session_eval),
		T(test_case4_ors_flags_count),
		T(test_score_scale),
		T(test_case5_one_scale_across_instruments),
		T(test_case7_low_trust_and_item_flags),
		T(test_item_flags),
		T(test_case8_transference_does_not_erase_mismatch),
		T(test_case9_repair_window),
		T(test_recent_scores_for_the_chart),
		T(test_case10_strained_from_peak),
		T(test_boundaries),
		T(test_reasons_name_the_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
