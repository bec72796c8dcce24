/*
 * Unit tests: match.c at catalog scale — the filter bitmaps and the bounds
 * that rank candidates out before their records are read must never change an
 * answer. Generated catalogs of a few thousand therapists (many bitmap words
 * and scan blocks), with realistic per-concern records, label tables beyond
 * their folded bits, and removals, updates and caseload changes in between.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/engine.h"

#define MAX_ID 6000
#define ABSENT (MAX_ID + 1000) /* an id no catalog holds */

static uint64_t rs;
static uint32_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs >> 11);
}

/* What the catalog should hold, kept beside it. */
struct shadow {
	bool present;
	struct therapist_profile t;
	unsigned caseload;
};

struct world {
	struct catalog *a;
	struct shadow *sh; /* by id */
	bool tight;        /* see random_records() */
	int n_langs, n_sites, n_payers, n_genders;
};

static void
lang_code(char *b, int i)
{
	b[0] = (char)('a' + i / 26 % 26);
	b[1] = (char)('a' + i % 26);
	b[2] = 0;
}

static void
random_profile(struct world *w, struct therapist_profile *t, uint32_t id)
{
	char b[32];
	therapist_profile_init(t, id);
	t->active = rnd() % 20 != 0;
	t->accepting_new = rnd() % 8 != 0;
	t->capacity = (uint16_t)(1 + rnd() % 30);
	for (int k = 1 + (int)(rnd() % 3); k > 0; k--) {
		lang_code(b, (int)(rnd() % (unsigned)w->n_langs));
		profile_add_language(t, b);
	}
	t->formats = 1 + rnd() % 7;
	t->populations = 1 + rnd() % 63;
	for (int k = 0; k < 6; k++)
		profile_set_concern(t, (int)(rnd() % 24), (enum concern_level)(1 + rnd() % 2));
	for (int k = 0; k < 3; k++)
		tagset_add(&t->modalities, (int)(rnd() % 16));
	t->identity = rnd() % 32;
	for (int a = 0; a < STYLE_AXES; a++)
		t->style[a] = (int8_t)((int)(rnd() % 7) - 3);
	for (int d = 0; d < 7; d++)
		if (rnd() % 2)
			avail_add(&t->availability, d, (int)(8 + rnd() % 4), (int)(13 + rnd() % 8));
	snprintf(b, sizeof(b), rnd() % 2 ? "G%u" : "g%u", rnd() % (unsigned)w->n_genders);
	profile_set_gender(t, b);
	t->self_pay_fee = (uint16_t)(rnd() % 4 ? rnd() % 250 : 0);
	t->sliding_scale = rnd() % 3 == 0;
	for (int k = 1 + (int)(rnd() % 2); k > 0; k--) {
		snprintf(b, sizeof(b), "Site%u", rnd() % (unsigned)w->n_sites);
		profile_add_site(t, b);
	}
	for (int k = 1 + (int)(rnd() % 3); k > 0; k--) {
		snprintf(b, sizeof(b), "payer%u", rnd() % (unsigned)w->n_payers);
		profile_add_payer(t, b);
	}
}

/* Records as a network's history gives them: most therapists with one per
 * concern their clients named, some per-concern records without episodes of
 * one kind. Tight: many episodes, whole means, one per-concern record at
 * most among four concerns, so the bounds on the records are nearly exact (a
 * bound a little too low changes the answer). */
static void
random_records(struct therapist_records *r, bool tight)
{
	memset(r, 0, sizeof(*r));
	if (tight) {
		r->alliance = (struct record){ 2000 + rnd() % 4000, (double)(rnd() % 101) };
		r->outcome = (struct record){ 2000 + rnd() % 4000, (double)(rnd() % 51) / 50.0 };
		if (rnd() % 4)
			r->per_concern[r->n_per_concern++] =
			    (struct concern_record){ (uint8_t)(rnd() % 4),
				    { 1 + rnd() % 60000, (double)(rnd() % 101) },
				    { 1 + rnd() % 60000, (double)(rnd() % 51) / 50.0 } };
		return;
	}
	r->alliance = (struct record){ rnd() % 80, (double)(rnd() % 1001) / 10 };
	r->outcome = (struct record){ rnd() % 40, (double)(rnd() % 101) / 100.0 };
	if (rnd() % 10 == 0)
		return;
	uint32_t seen = 0;
	for (int k = 6 + (int)(rnd() % 11); k > 0; k--) {
		int c = (int)(rnd() % 24);
		if (seen >> c & 1)
			continue;
		seen |= UINT32_C(1) << c;
		r->per_concern[r->n_per_concern++] = (struct concern_record){ (uint8_t)c,
			{ rnd() % 3 ? 1 + rnd() % 30 : 0, (double)(rnd() % 1001) / 10 },
			{ rnd() % 3 ? rnd() % 10 : 0, (double)(rnd() % 101) / 100.0 } };
	}
}

static void
upsert(struct world *w, const struct therapist_profile *t)
{
	assert_int_equal(catalog_upsert(w->a, t), 0);
	struct shadow *s = &w->sh[t->id];
	if (!s->present)
		s->caseload = 0; /* an update keeps the caseload */
	s->present = true;
	s->t = *t;
}

static void
build(struct world *w, int n)
{
	for (int i = 0; i < n; i++) {
		struct therapist_profile t;
		uint32_t id = 1 + rnd() % MAX_ID;
		random_profile(w, &t, id);
		upsert(w, &t);
		unsigned cl = w->tight ? 0 : rnd() % 32; /* tight: capacity at 1 */
		assert_int_equal(catalog_set_caseload(w->a, id, cl), 0);
		w->sh[id].caseload = cl;
		if (rnd() % 5) {
			struct therapist_records r;
			random_records(&r, w->tight);
			assert_int_equal(catalog_set_records(w->a, id, &r), 0);
		}
		/* changes in between: removals (the last slot moves), updates
		 * with new labels, caseloads up and down */
		uint32_t other = 1 + rnd() % MAX_ID;
		if (rnd() % 40 == 0 && w->sh[other].present) {
			assert_int_equal(catalog_remove(w->a, other), 0);
			w->sh[other].present = false;
		}
		if (rnd() % 6 == 0 && w->sh[other].present && !w->tight) {
			int d = (int)(rnd() % 9) - 4;
			assert_int_equal(catalog_caseload_add(w->a, other, d), 0);
			long v = (long)w->sh[other].caseload + d;
			w->sh[other].caseload = v < 0 ? 0 : (unsigned)v;
		}
		if (rnd() % 8 == 0 && w->sh[other].present) {
			random_profile(w, &t, other);
			upsert(w, &t);
		}
	}
}

/* A random intake; sparse: concerns and filters only, so the records weigh
 * most and the bounds on them are tight. */
static void
random_intake(struct world *w, struct intake *in, uint32_t n_max, bool sparse)
{
	char b[32];
	intake_init(in);
	if (rnd() % 4) {
		lang_code(b, (int)(rnd() % (unsigned)w->n_langs));
		intake_add_language(in, b);
	}
	if (rnd() % 3 == 0) {
		lang_code(b, (int)(rnd() % (unsigned)w->n_langs));
		intake_add_language(in, b);
	}
	if (rnd() % 2)
		in->population = (int)(rnd() % 6);
	for (int k = (int)(rnd() % 6); k > 0; k--)
		intake_add_concern(in, (int)(rnd() % 24), 1 + (int)(rnd() % 3));
	if (w->tight) { /* one concern: the bounds on the records are exact */
		in->n_concerns = 0;
		intake_add_concern(in, (int)(rnd() % 4), 1 + (int)(rnd() % 3));
	}
	if (sparse) {
		if (rnd() % 2)
			in->formats = 1 + rnd() % 7;
		in->self_pay_max = rnd() % 2 ? (int32_t)(rnd() % 250) : -1;
		return;
	}
	if (rnd() % 2)
		tagset_add(&in->mod_prefer, (int)(rnd() % 16));
	if (rnd() % 3 == 0)
		tagset_add(&in->mod_avoid, (int)(rnd() % 16));
	in->mod_required = rnd() % 6 == 0;
	if (rnd() % 2)
		in->formats = 1 + rnd() % 7;
	in->in_person_format = rnd() % 4 ? 0 : -1;
	if (rnd() % 3 == 0) {
		snprintf(b, sizeof(b), "site%u", rnd() % (unsigned)(w->n_sites + 3));
		intake_add_site(in, b);
	}
	if (rnd() % 3 == 0) {
		snprintf(b, sizeof(b), "g%u", rnd() % 4);
		intake_add_gender(in, b);
		in->gender_required = rnd() % 3 == 0;
	}
	if (rnd() % 3 == 0) {
		in->identity = 1 + rnd() % 7;
		in->identity_required = rnd() % 4 == 0;
	}
	for (int a = 0; a < STYLE_AXES; a++)
		if (rnd() % 2)
			intake_set_style(in, (enum style_axis)a, (int)(rnd() % 7) - 3);
	if (rnd() % 2) {
		for (int d = 0; d < 5; d++)
			if (rnd() % 2)
				avail_add(&in->availability, d, 12, 19);
		in->wanted_hours = (uint8_t)(rnd() % 4);
	}
	if (rnd() % 2) {
		snprintf(b, sizeof(b), "PAYER%u", rnd() % (unsigned)(w->n_payers + 2));
		intake_set_payer(in, b);
	}
	in->self_pay_max = rnd() % 2 ? (int32_t)(rnd() % 250) : -1;
	for (int k = (int)(rnd() % 4); k > 0; k--)
		intake_add_exclude(in, 1 + rnd() % n_max);
}

static bool
any_str(const char (*a)[PROFILE_STR_MAX], int na, const char *s)
{
	for (int i = 0; i < na; i++)
		if (!strcasecmp(a[i], s))
			return true;
	return false;
}

/* The first hard filter a therapist fails (docs/matching.md "Hard filters",
 * in enum exclusion order), from the profile itself; EXCL_COUNT = passes. */
static enum exclusion
reference_reason(const struct shadow *s, const struct intake *in, const struct engine_params *p)
{
	const struct therapist_profile *t = &s->t;
	if (!t->active)
		return EXCL_INACTIVE;
	if (!t->accepting_new || s->caseload >= t->capacity)
		return EXCL_NOT_ACCEPTING;
	if (in->n_languages) {
		bool hit = false;
		for (int i = 0; i < in->n_languages; i++)
			for (int j = 0; j < t->n_languages; j++)
				hit |= in->languages[i] == t->languages[j];
		if (!hit)
			return EXCL_LANGUAGE;
	}
	if (in->formats || in->n_sites) {
		uint64_t want = in->formats ? in->formats : ~UINT64_C(0), at_site = 0;
		bool site = false;
		if (in->n_sites) {
			at_site = in->in_person_format >= 0 && in->in_person_format < 64
			    ? UINT64_C(1) << in->in_person_format
			    : ~UINT64_C(0);
			for (int i = 0; i < in->n_sites; i++)
				site |= any_str(t->sites, t->n_sites, in->sites[i]);
		}
		if (!(t->formats & want & ~(site ? 0 : at_site)))
			return EXCL_FORMAT;
	}
	if (in->population >= 0 && !(t->populations >> in->population & 1))
		return EXCL_POPULATION;
	if (in->payer[0] || in->self_pay_max >= 0) {
		bool payer = in->payer[0] && any_str(t->payers, t->n_payers, in->payer);
		bool self = t->self_pay_fee != 0 &&
		    (in->self_pay_max < 0 || t->self_pay_fee <= in->self_pay_max ||
		        t->sliding_scale);
		if (!payer && !self)
			return EXCL_PAYMENT;
	}
	if (avail_hours(&in->availability) &&
	    avail_overlap(&t->availability, &in->availability) < p->min_overlap_hours)
		return EXCL_AVAILABILITY;
	for (int i = 0; i < in->n_exclude; i++)
		if (in->exclude[i] == t->id)
			return EXCL_EXCLUDED;
	if (in->mod_required && !tagset_empty(&in->mod_prefer) &&
	    !(t->modalities.w[0] & in->mod_prefer.w[0]) &&
	    !(t->modalities.w[1] & in->mod_prefer.w[1]))
		return EXCL_REQUIRED;
	if (in->mod_required && !tagset_empty(&in->mod_avoid) &&
	    ((t->modalities.w[0] & in->mod_avoid.w[0]) |
	        (t->modalities.w[1] & in->mod_avoid.w[1])) &&
	    !((t->modalities.w[0] & ~in->mod_avoid.w[0]) |
	        (t->modalities.w[1] & ~in->mod_avoid.w[1])))
		return EXCL_REQUIRED;
	if (in->gender_required && in->n_genders &&
	    !(t->gender[0] && any_str(in->genders, in->n_genders, t->gender)))
		return EXCL_REQUIRED;
	if (in->identity_required && in->identity && (t->identity & in->identity) != in->identity)
		return EXCL_REQUIRED;
	return EXCL_COUNT;
}

static void
world_new(struct world *w, bool wide)
{
	memset(w, 0, sizeof(*w));
	w->a = catalog_new();
	w->sh = calloc(MAX_ID + 1, sizeof(*w->sh));
	assert_non_null(w->a);
	assert_non_null(w->sh);
	/* wide: more labels than the folded bits of every kind */
	w->n_langs = wide ? 90 : 8;
	w->n_sites = wide ? 45 : 10;
	w->n_payers = wide ? 40 : 6;
	w->n_genders = wide ? 70 : 3;
}

static void
world_free(struct world *w)
{
	catalog_free(w->a);
	free(w->sh);
}

/*
 * Property: on catalogs of thousands, the top k of a match (pruned by the
 * bounds) are exactly the first k of a pass that scores every survivor (a
 * referral adjustment naming a colleague nobody is turns pruning off and
 * changes no score): same therapists, same scores to the bit; the exclusion
 * counts are those of the filters applied to the profiles one by one.
 */
static void
test_property_pruned_pass_equals_full_pass(void **state)
{
	(void)state;
	struct engine_params p;
	engine_params_defaults(&p);
	static struct match_item top[MATCH_MAX_K], full[MATCH_MAX_K];
	struct match_summary s_top, s_full;
	struct colleague_link nobody;
	memset(&nobody, 0, sizeof(nobody));
	nobody.therapist_id = ABSENT;
	struct match_adjust adj;
	memset(&adj, 0, sizeof(adj));
	adj.colleagues = &nobody;
	adj.n_colleagues = 1;
	int ranked = 0;
	rs = 0x9E3779B97F4A7C15ULL;
	for (int round = 0; round < 24; round++) {
		struct world w;
		world_new(&w, round % 3 == 0);
		w.tight = round % 2 == 1;
		build(&w, 1500 + (int)(rnd() % 2500));
		for (int qn = 0; qn < 12; qn++) {
			struct intake in;
			random_intake(&w, &in, MAX_ID, w.tight || qn % 3 == 0);
			p.min_overlap_hours = (int)(rnd() % 3);
			size_t k = 1 + rnd() % 10;
			assert_int_equal(match_run(w.a, &p, &in, k, top, &s_top), 0);
			assert_int_equal(match_run_adjusted(w.a, &p, &in, &adj, MATCH_MAX_K, full,
			                     &s_full),
			    0);
			uint32_t want[EXCL_COUNT + 1] = { 0 };
			for (uint32_t id = 1; id <= MAX_ID; id++)
				if (w.sh[id].present)
					want[reference_reason(&w.sh[id], &in, &p)]++;
			for (int e = 0; e < EXCL_COUNT; e++) {
				assert_int_equal(s_top.excluded[e], want[e]);
				assert_int_equal(s_full.excluded[e], want[e]);
			}
			size_t m = want[EXCL_COUNT] < k ? want[EXCL_COUNT] : k;
			assert_int_equal(s_top.n_results, m);
			for (size_t i = 0; i < m; i++) {
				assert_int_equal(top[i].therapist_id, full[i].therapist_id);
				assert_true(top[i].score == full[i].score);
				assert_memory_equal(full[i].components, top[i].components,
				    sizeof(top[i].components));
			}
			ranked += m == k;
		}
		world_free(&w);
	}
	assert_true(ranked > 150); /* most intakes ranked more than k therapists */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_property_pruned_pass_equals_full_pass),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
