/* Unit tests: match.c (hard filters, components, tie-breaks, top-k). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"

struct fx {
	struct vocab *v;
	struct catalog *c;
	struct engine_params p;
	struct match_item out[MATCH_MAX_K];
	struct match_summary sum;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->v = vocab_new_default();
	f->c = catalog_new();
	engine_params_defaults(&f->p);
	*state = f;
	return (f->v && f->c) ? 0 : -1;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	vocab_free(f->v);
	catalog_free(f->c);
	free(f);
	return 0;
}

static int
tag(struct fx *f, enum vocab_kind k, const char *name)
{
	int i = vocab_lookup(f->v, k, name);
	assert_true(i >= 0);
	return i;
}

/* A therapist who passes every filter of an empty intake. */
static void
base_profile(struct fx *f, struct therapist_profile *p, uint32_t id)
{
	therapist_profile_init(p, id);
	p->active = p->accepting_new = true;
	p->capacity = 10;
	assert_int_equal(profile_add_language(p, "en"), 0);
	p->formats = UINT64_C(1) << tag(f, VOCAB_FORMATS, "video") |
	    UINT64_C(1) << tag(f, VOCAB_FORMATS, "in_person");
	p->populations = UINT64_C(1) << tag(f, VOCAB_POPULATIONS, "adult");
	for (int d = 0; d < 5; d++)
		assert_int_equal(avail_add(&p->availability, d, 9, 17), 0);
	p->self_pay_fee = 100;
	assert_int_equal(profile_add_payer(p, "aetna"), 0);
	assert_int_equal(profile_add_site(p, "downtown"), 0);
	assert_int_equal(profile_set_gender(p, "female"), 0);
}

static void
put(struct fx *f, const struct therapist_profile *p)
{
	assert_int_equal(catalog_upsert(f->c, p), 0);
}

static void
run(struct fx *f, const struct intake *in, size_t k)
{
	assert_int_equal(match_run(f->c, &f->p, in, k, f->out, &f->sum), 0);
}

static int
found(struct fx *f, uint32_t id)
{
	for (uint32_t i = 0; i < f->sum.n_results; i++)
		if (f->out[i].therapist_id == id)
			return 1;
	return 0;
}

/* Therapist 1 fails the filter, therapist 2 passes: check count and results. */
static void
expect_excluded(struct fx *f, const struct intake *in, enum exclusion e)
{
	run(f, in, 10);
	assert_int_equal(f->sum.considered, 2);
	assert_int_equal(f->sum.excluded[e], 1);
	for (int i = 0; i < EXCL_COUNT; i++)
		if (i != (int)e)
			assert_int_equal(f->sum.excluded[i], 0);
	assert_int_equal(f->sum.n_results, 1);
	assert_int_equal(f->out[0].therapist_id, 2);
}

static void
two(struct fx *f, struct therapist_profile *bad)
{
	struct therapist_profile good;
	base_profile(f, &good, 2);
	put(f, &good);
	put(f, bad);
}

static void
test_filter_inactive(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	intake_init(&in);
	base_profile(f, &t, 1);
	t.active = false;
	two(f, &t);
	expect_excluded(f, &in, EXCL_INACTIVE);
	t.active = true; /* near miss */
	put(f, &t);
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 2);
}

static void
test_filter_not_accepting(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	intake_init(&in);
	base_profile(f, &t, 1);
	t.accepting_new = false;
	two(f, &t);
	expect_excluded(f, &in, EXCL_NOT_ACCEPTING);
	/* caseload at capacity counts as not accepting; one below does not */
	t.accepting_new = true;
	put(f, &t);
	assert_int_equal(catalog_set_caseload(f->c, 1, 10), 0);
	expect_excluded(f, &in, EXCL_NOT_ACCEPTING);
	assert_int_equal(catalog_set_caseload(f->c, 1, 9), 0);
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 2);
}

static void
test_filter_language(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	intake_init(&in);
	assert_int_equal(intake_add_language(&in, "es"), 0);
	assert_int_equal(intake_add_language(&in, "en"), 0);
	base_profile(f, &t, 1);
	t.n_languages = 0;
	assert_int_equal(profile_add_language(&t, "fr"), 0);
	two(f, &t);
	expect_excluded(f, &in, EXCL_LANGUAGE);
	assert_int_equal(profile_add_language(&t, "es"), 0); /* near miss: one shared language */
	put(f, &t);
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 2);
}

static void
test_filter_format_and_sites(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	intake_init(&in);
	in.formats = UINT64_C(1) << tag(f, VOCAB_FORMATS, "phone") |
	    UINT64_C(1) << tag(f, VOCAB_FORMATS, "in_person");
	in.in_person_format = tag(f, VOCAB_FORMATS, "in_person");
	assert_int_equal(intake_add_site(&in, "downtown"), 0);
	base_profile(f, &t, 1);
	t.formats = UINT64_C(1) << tag(f, VOCAB_FORMATS, "video");
	two(f, &t);
	expect_excluded(f, &in, EXCL_FORMAT);
	/* in person, but at another site: still excluded */
	t.formats = UINT64_C(1) << tag(f, VOCAB_FORMATS, "in_person");
	t.n_sites = 0;
	assert_int_equal(profile_add_site(&t, "uptown"), 0);
	put(f, &t);
	expect_excluded(f, &in, EXCL_FORMAT);
	/* phone does not need a site */
	t.formats |= UINT64_C(1) << tag(f, VOCAB_FORMATS, "phone");
	put(f, &t);
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 2);
}

static void
test_filter_population(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	intake_init(&in);
	in.population = tag(f, VOCAB_POPULATIONS, "adult");
	base_profile(f, &t, 1);
	t.populations = UINT64_C(1) << tag(f, VOCAB_POPULATIONS, "teen");
	two(f, &t);
	expect_excluded(f, &in, EXCL_POPULATION);
	t.populations |= UINT64_C(1) << in.population;
	put(f, &t);
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 2);
}

static void
test_filter_payment(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	intake_init(&in);
	assert_int_equal(intake_set_payer(&in, "aetna"), 0);
	in.self_pay_max = 120;
	base_profile(f, &t, 1);
	t.n_payers = 0;
	assert_int_equal(profile_add_payer(&t, "cigna"), 0);
	t.self_pay_fee = 150;
	two(f, &t);
	expect_excluded(f, &in, EXCL_PAYMENT); /* payer not taken and fee above max */
	t.sliding_scale = true;                /* sliding scale counts */
	put(f, &t);
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 2);
	t.sliding_scale = false;
	t.self_pay_fee = 120; /* fee at the maximum */
	put(f, &t);
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 2);
	t.self_pay_fee = 150;
	assert_int_equal(profile_add_payer(&t, "AETNA"), 0); /* payer taken (case-insensitive) */
	put(f, &t);
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 2);
}

static void
test_filter_availability(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	intake_init(&in);
	assert_int_equal(avail_add(&in.availability, 1, 17, 20), 0); /* tue 17-20 */
	f->p.min_overlap_hours = 2;
	base_profile(f, &t, 1);
	avail_clear(&t.availability);
	assert_int_equal(avail_add(&t.availability, 1, 12, 18), 0); /* 1 h overlap */
	struct therapist_profile g;
	base_profile(f, &g, 2);
	assert_int_equal(avail_add(&g.availability, 1, 17, 19), 0);
	put(f, &g);
	put(f, &t);
	expect_excluded(f, &in, EXCL_AVAILABILITY);
	assert_int_equal(avail_add(&t.availability, 1, 18, 19), 0); /* now 2 h */
	put(f, &t);
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 2);
}

static void
test_filter_excluded(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	intake_init(&in);
	assert_int_equal(intake_add_exclude(&in, 1), 0);
	assert_int_equal(intake_add_exclude(&in, 999), 0); /* unknown ids are ignored */
	base_profile(f, &t, 1);
	two(f, &t);
	expect_excluded(f, &in, EXCL_EXCLUDED);
	in.n_exclude = 0;
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 2);
}

static void
test_filter_required(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	int emdr = tag(f, VOCAB_MODALITIES, "emdr");
	base_profile(f, &t, 1);
	two(f, &t); /* both without emdr, both female, no identity */
	/* modality required */
	intake_init(&in);
	tagset_add(&in.mod_prefer, emdr);
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 2); /* preferred, not required: nobody excluded */
	in.mod_required = true;
	struct therapist_profile g;
	base_profile(f, &g, 2);
	tagset_add(&g.modalities, emdr);
	put(f, &g);
	expect_excluded(f, &in, EXCL_REQUIRED);
	/* gender required */
	intake_init(&in);
	assert_int_equal(intake_add_gender(&in, "Male"), 0);
	in.gender_required = true;
	assert_int_equal(profile_set_gender(&g, "male"), 0);
	put(f, &g);
	expect_excluded(f, &in, EXCL_REQUIRED);
	/* identity required: all requested tags */
	intake_init(&in);
	in.identity = UINT64_C(1) << tag(f, VOCAB_IDENTITY, "bipoc") |
	    UINT64_C(1) << tag(f, VOCAB_IDENTITY, "lgbtq_affirming");
	in.identity_required = true;
	g.identity = in.identity;
	t.identity = UINT64_C(1) << tag(f, VOCAB_IDENTITY, "bipoc");
	put(f, &g);
	put(f, &t);
	expect_excluded(f, &in, EXCL_REQUIRED);
	in.identity_required = false;
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 2);
}

static void
test_exclusion_counted_once_in_order(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	intake_init(&in);
	assert_int_equal(intake_add_language(&in, "es"), 0);
	base_profile(f, &t, 1);
	t.active = false; /* also fails language: counted as inactive only */
	put(f, &t);
	run(f, &in, 10);
	assert_int_equal(f->sum.excluded[EXCL_INACTIVE], 1);
	assert_int_equal(f->sum.excluded[EXCL_LANGUAGE], 0);
	assert_int_equal(f->sum.n_results, 0);
	assert_string_equal(exclusion_name(EXCL_NOT_ACCEPTING), "not_accepting");
}

/* --- components --- */

static const struct match_item *
only(struct fx *f, const struct intake *in)
{
	run(f, in, 10);
	assert_int_equal(f->sum.n_results, 1);
	return &f->out[0];
}

static void
test_component_concerns(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	int trauma = tag(f, VOCAB_CONCERNS, "trauma"), sleep = tag(f, VOCAB_CONCERNS, "sleep");
	base_profile(f, &t, 1);
	profile_set_concern(&t, trauma, CONCERN_SPECIALIST);
	profile_set_concern(&t, sleep, CONCERN_EXPERIENCED);
	put(f, &t);
	intake_init(&in);
	intake_add_concern(&in, trauma, 3);
	intake_add_concern(&in, sleep, 1);
	/* (3*2 + 1*1) / (2*(3+1)) = 7/8 */
	const struct match_item *it = only(f, &in);
	assert_float_equal(it->components[COMP_CONCERNS], 0.875, 1e-6);
	assert_true(it->comp_used & (1u << COMP_CONCERNS));
	assert_int_equal(it->reasons[0].code, REASON_SPECIALIST);
	assert_int_equal(it->reasons[0].arg[0], trauma);
	assert_int_equal(it->reasons[1].code, REASON_EXPERIENCED);
	profile_set_concern(&t, trauma, CONCERN_NONE);
	put(f, &t);
	it = only(f, &in);
	assert_float_equal(it->components[COMP_CONCERNS], 1.0 / 8.0, 1e-6);
}

static void
test_component_modality_and_avoid_warning(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	int emdr = tag(f, VOCAB_MODALITIES, "emdr"), cbt = tag(f, VOCAB_MODALITIES, "cbt");
	int pd = tag(f, VOCAB_MODALITIES, "psychodynamic");
	base_profile(f, &t, 1);
	tagset_add(&t.modalities, emdr);
	put(f, &t);
	intake_init(&in);
	tagset_add(&in.mod_prefer, emdr);
	tagset_add(&in.mod_prefer, cbt);
	const struct match_item *it = only(f, &in);
	assert_float_equal(it->components[COMP_MODALITY], 0.5, 1e-6);
	assert_int_equal(it->n_warnings, 0);
	tagset_add(&in.mod_avoid, pd);
	tagset_add(&t.modalities, pd);
	put(f, &t);
	it = only(f, &in);
	assert_float_equal(it->components[COMP_MODALITY], 0.0, 1e-6);
	assert_int_equal(it->n_warnings, 1);
	assert_int_equal(it->warnings[0].code, WARN_AVOIDED_MODALITY);
	assert_int_equal(it->warnings[0].arg[0], pd);
}

static void
test_component_style(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	base_profile(f, &t, 1);
	t.style[STYLE_DIRECTIVENESS] = 1;
	t.style[STYLE_CHALLENGE] = 0;
	t.style[STYLE_PAST_ORIENTATION] = -3; /* not given by the client: ignored */
	put(f, &t);
	intake_init(&in);
	intake_set_style(&in, STYLE_DIRECTIVENESS, 2); /* w 3, closeness 5/6 */
	intake_set_style(&in, STYLE_CHALLENGE, -1);    /* w 2, closeness 5/6 */
	const struct match_item *it = only(f, &in);
	assert_float_equal(it->components[COMP_STYLE], 5.0 / 6.0, 1e-5);
	t.style[STYLE_CHALLENGE] = 3; /* closeness 2/6: (3*5/6 + 2*2/6)/5 = 19/30 */
	put(f, &t);
	it = only(f, &in);
	assert_float_equal(it->components[COMP_STYLE], 19.0 / 30.0, 1e-5);
}

static void
test_component_identity_gender_availability_capacity(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	base_profile(f, &t, 1);
	t.identity = UINT64_C(1) << tag(f, VOCAB_IDENTITY, "bipoc");
	put(f, &t);
	assert_int_equal(catalog_set_caseload(f->c, 1, 4), 0);
	intake_init(&in);
	in.identity = t.identity | UINT64_C(1) << tag(f, VOCAB_IDENTITY, "faith_based");
	intake_add_gender(&in, "FEMALE");
	avail_add(&in.availability, 0, 15, 20); /* 2 h overlap with 9-17 */
	in.wanted_hours = 4;
	const struct match_item *it = only(f, &in);
	assert_float_equal(it->components[COMP_IDENTITY], 0.5, 1e-6);
	assert_float_equal(it->components[COMP_GENDER], 1.0, 1e-6);
	assert_float_equal(it->components[COMP_AVAILABILITY], 0.5, 1e-6);
	assert_float_equal(it->components[COMP_CAPACITY], 0.6, 1e-6);
	int hours = 0;
	for (int i = 0; i < it->n_reasons; i++)
		if (it->reasons[i].code == REASON_SHARED_HOURS)
			hours = it->reasons[i].arg[0];
	assert_int_equal(hours, 2);
	in.wanted_hours = 0; /* all the client's 5 hours wanted */
	it = only(f, &in);
	assert_float_equal(it->components[COMP_AVAILABILITY], 0.4, 1e-6);
	in.n_genders = 0;
	intake_add_gender(&in, "male");
	it = only(f, &in);
	assert_float_equal(it->components[COMP_GENDER], 0.0, 1e-6);
}

static void
test_component_records_shrunk_per_concern(void **state)
{
	struct fx *f = *state;
	struct therapist_profile a, b;
	struct intake in;
	int trauma = tag(f, VOCAB_CONCERNS, "trauma");
	base_profile(f, &a, 1);
	base_profile(f, &b, 2);
	put(f, &a);
	put(f, &b);
	intake_init(&in);
	run(f, &in, 10);
	/* no feedback in the clinic yet: the records do not count */
	assert_false(f->out[0].comp_used & (1u << COMP_ALLIANCE_RECORD));
	assert_false(f->out[0].comp_used & (1u << COMP_OUTCOME_RECORD));
	struct therapist_records ra = { 0 }, rb = { 0 };
	ra.alliance = (struct record){ 20, 90 };
	rb.alliance = (struct record){ 20, 70 };
	ra.outcome = (struct record){ 10, 0.8 };
	rb.outcome = (struct record){ 10, 0.2 };
	ra.n_per_concern = 1;
	ra.per_concern[0] = (struct concern_record){ (uint8_t)trauma, { 10, 60 }, { 10, 0.1 } };
	assert_int_equal(catalog_set_records(f->c, 1, &ra), 0);
	assert_int_equal(catalog_set_records(f->c, 2, &rb), 0);
	assert_float_equal(catalog_clinic_alliance(f->c, NULL), 80.0, 1e-4);
	run(f, &in, 10);
	assert_int_equal(f->out[0].therapist_id, 1);
	/* clinic mean 80, k 20: (20*90 + 20*80)/40 = 85 */
	assert_float_equal(f->out[0].components[COMP_ALLIANCE_RECORD], 0.85, 1e-4);
	assert_float_equal(f->out[0].components[COMP_OUTCOME_RECORD], (8 + 20 * 0.5) / 30.0, 1e-4);
	/* a trauma client: therapist 1's trauma record shrinks toward their own
	 * overall record (85) with k_c = 10: (10 x 60 + 10 x 85) / 20 = 72.5; the
	 * outcome the same way: (10 x 0.1 + 10 x 0.6) / 20. (The old test read 60:
	 * the clinic's trauma mean, set by therapist 1 alone, was the prior.) */
	intake_add_concern(&in, trauma, 2);
	run(f, &in, 10);
	const struct match_item *it = f->out[0].therapist_id == 1 ? &f->out[0] : &f->out[1];
	assert_float_equal(it->components[COMP_ALLIANCE_RECORD], 0.725, 1e-4);
	assert_float_equal(it->components[COMP_OUTCOME_RECORD], 0.35, 1e-4);
	/* a concern with no history sits at the overall record */
	intake_init(&in);
	intake_add_concern(&in, tag(f, VOCAB_CONCERNS, "grief"), 2);
	run(f, &in, 10);
	it = f->out[0].therapist_id == 1 ? &f->out[0] : &f->out[1];
	assert_float_equal(it->components[COMP_ALLIANCE_RECORD], 0.85, 1e-4);
	/* two concerns, priority-weighted: grief 2 x 85, trauma 1 x 72.5 */
	intake_add_concern(&in, trauma, 1);
	run(f, &in, 10);
	it = f->out[0].therapist_id == 1 ? &f->out[0] : &f->out[1];
	assert_float_equal(it->components[COMP_ALLIANCE_RECORD], (72.5 + 2 * 85) / 3 / 100, 1e-4);
}

static void
test_mean_leaves_out_unexpressed(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	base_profile(f, &t, 1);
	put(f, &t);
	catalog_set_caseload(f->c, 1, 5);
	intake_init(&in);
	const struct match_item *it = only(f, &in);
	/* nothing expressed: only capacity counts → score = 100 * 0.5 */
	assert_int_equal(it->comp_used, 1u << COMP_CAPACITY);
	assert_float_equal(it->score, 50.0, 1e-4);
	/* add a concern the therapist lacks: (3*0 + 0.5*0.5)/3.5 */
	intake_add_concern(&in, tag(f, VOCAB_CONCERNS, "grief"), 2);
	it = only(f, &in);
	assert_int_equal(it->comp_used, (1u << COMP_CAPACITY) | (1u << COMP_CONCERNS));
	assert_float_equal(it->score, 100.0 * 0.25 / 3.5, 1e-3);
	/* only avoid given → modality expressed, 1 when not offered */
	intake_init(&in);
	tagset_add(&in.mod_avoid, tag(f, VOCAB_MODALITIES, "dbt"));
	it = only(f, &in);
	assert_true(it->comp_used & (1u << COMP_MODALITY));
	assert_float_equal(it->components[COMP_MODALITY], 1.0, 1e-6);
	assert_float_equal(it->score, 100.0 * (1.5 + 0.25) / 2.0, 1e-3);
}

static void
test_tie_breaks(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	intake_init(&in);
	intake_add_concern(&in, 0, 1);
	for (uint32_t id = 5; id >= 1; id--) {
		base_profile(f, &t, id);
		t.capacity = 20;
		profile_set_concern(&t, 0, CONCERN_SPECIALIST);
		put(f, &t);
	}
	/* same capacity, same caseload → equal scores: lower id first */
	run(f, &in, 5);
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(f->out[i].therapist_id, i + 1);
	/* equal scores, different free capacity: give 4 and 5 bigger capacity and
	 * caseload with the same share */
	base_profile(f, &t, 4);
	t.capacity = 40;
	profile_set_concern(&t, 0, CONCERN_SPECIALIST);
	put(f, &t);
	catalog_set_caseload(f->c, 4, 0);
	catalog_set_caseload(f->c, 1, 0);
	run(f, &in, 5);
	/* 4 and 1..3,5 all have free share 1.0 → equal score; 4 has 40 free */
	assert_int_equal(f->out[0].therapist_id, 4);
	assert_int_equal(f->out[1].therapist_id, 1);
	assert_true(f->out[0].score == f->out[1].score);
	/* higher score beats more free capacity */
	catalog_set_caseload(f->c, 4, 20); /* share 0.5 */
	run(f, &in, 5);
	assert_int_equal(f->out[4].therapist_id, 4);
}

/* --- top-k against a full sort --- */

static uint32_t rnd_state;
static uint32_t
rnd(void)
{
	rnd_state = rnd_state * 1664525u + 1013904223u;
	return rnd_state >> 8;
}

static int
cmp_items(const void *pa, const void *pb)
{
	const struct match_item *a = pa, *b = pb;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if (a->free_slots != b->free_slots)
		return a->free_slots > b->free_slots ? -1 : 1;
	return a->therapist_id < b->therapist_id ? -1 : 1;
}

static void
random_profile(struct therapist_profile *t, uint32_t id)
{
	therapist_profile_init(t, id);
	t->active = rnd() % 10 != 0;
	t->accepting_new = rnd() % 10 != 0;
	t->capacity = (uint16_t)(1 + rnd() % 30);
	profile_add_language(t, rnd() % 4 ? "en" : "es");
	t->formats = 1 + rnd() % 7;
	t->populations = 1 + rnd() % 63;
	for (int i = 0; i < 4; i++)
		profile_set_concern(t, (int)(rnd() % 20), (enum concern_level)(1 + rnd() % 2));
	for (int i = 0; i < 3; i++)
		tagset_add(&t->modalities, (int)(rnd() % 16));
	t->identity = rnd() % 32;
	for (int a = 0; a < STYLE_AXES; a++)
		t->style[a] = (int8_t)((int)(rnd() % 7) - 3);
	for (int d = 0; d < 7; d++)
		if (rnd() % 2)
			avail_add(&t->availability, d, (int)(8 + rnd() % 4), (int)(13 + rnd() % 8));
	profile_set_gender(t, rnd() % 2 ? "female" : "male");
	t->self_pay_fee = (uint16_t)(rnd() % 200);
	profile_add_payer(t, rnd() % 2 ? "aetna" : "cigna");
}

static void
test_topk_equals_full_sort(void **state)
{
	struct fx *f = *state;
	rnd_state = 12345;
	static struct match_item full[MATCH_MAX_K], top[MATCH_MAX_K];
	struct match_summary s_full, s_top;
	int nonempty = 0;
	for (int round = 0; round < 1000; round++) {
		struct catalog *c = catalog_new();
		assert_non_null(c);
		int n = 20 + (int)(rnd() % 80);
		for (int i = 0; i < n; i++) {
			struct therapist_profile t;
			random_profile(&t, (uint32_t)(1 + rnd() % 1000));
			assert_int_equal(catalog_upsert(c, &t), 0);
			catalog_set_caseload(c, t.id, rnd() % 30);
			if (rnd() % 3 == 0) {
				struct therapist_records r = { 0 };
				r.alliance = (struct record){ rnd() % 40, (double)(rnd() % 101) };
				catalog_set_records(c, t.id, &r);
			}
		}
		struct intake in;
		intake_init(&in);
		intake_add_language(&in, "en");
		in.population = (int)(rnd() % 6);
		intake_add_concern(&in, (int)(rnd() % 20), 1 + (int)(rnd() % 3));
		intake_add_concern(&in, (int)(rnd() % 20), 1 + (int)(rnd() % 3));
		tagset_add(&in.mod_prefer, (int)(rnd() % 16));
		intake_set_style(&in, STYLE_DIRECTIVENESS, (int)(rnd() % 7) - 3);
		if (rnd() % 2)
			avail_add(&in.availability, (int)(rnd() % 7), 9, 18);
		if (rnd() % 3 == 0)
			intake_add_gender(&in, "female");
		size_t k = 1 + rnd() % 10;
		assert_int_equal(match_run(c, &f->p, &in, MATCH_MAX_K, full, &s_full), 0);
		assert_int_equal(match_run(c, &f->p, &in, k, top, &s_top), 0);
		uint32_t excluded = 0;
		for (int e = 0; e < EXCL_COUNT; e++) {
			excluded += s_full.excluded[e];
			assert_int_equal(s_full.excluded[e], s_top.excluded[e]);
		}
		assert_int_equal(s_full.n_results, catalog_count(c) - excluded);
		qsort(full, s_full.n_results, sizeof(full[0]), cmp_items);
		size_t m = s_full.n_results < k ? s_full.n_results : k;
		assert_int_equal(s_top.n_results, m);
		for (size_t i = 0; i < m; i++) {
			assert_int_equal(top[i].therapist_id, full[i].therapist_id);
			assert_true(top[i].score == full[i].score);
		}
		nonempty += m > 0;
		catalog_free(c);
	}
	assert_true(nonempty > 500); /* the test exercised real rankings */
}

static void
test_reasons_of_a_result(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	char buf[96];
	base_profile(f, &t, 1);
	profile_add_language(&t, "es");
	tagset_add(&t.modalities, tag(f, VOCAB_MODALITIES, "emdr"));
	profile_set_concern(&t, tag(f, VOCAB_CONCERNS, "trauma"), CONCERN_SPECIALIST);
	put(f, &t);
	struct therapist_records r = { 0 };
	r.alliance = (struct record){ 200, 95 };
	catalog_set_records(f->c, 1, &r);
	intake_init(&in);
	intake_add_language(&in, "es");
	intake_add_concern(&in, tag(f, VOCAB_CONCERNS, "trauma"), 3);
	tagset_add(&in.mod_prefer, tag(f, VOCAB_MODALITIES, "emdr"));
	avail_add(&in.availability, 2, 14, 17);
	const struct match_item *it = only(f, &in);
	const char *want[] = { "specialist in trauma", "offers EMDR", "speaks es",
		"3 h of shared availability", "strong alliance with past clients" };
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		int hit = 0;
		for (int i = 0; i < it->n_reasons; i++) {
			reason_render(&it->reasons[i], f->v, buf, sizeof(buf));
			hit |= strcmp(buf, want[w]) == 0;
		}
		if (!hit)
			fail_msg("missing reason \"%s\"", want[w]);
	}
}

static void
test_bad_arguments(void **state)
{
	struct fx *f = *state;
	struct intake in;
	intake_init(&in);
	assert_int_equal(match_run(f->c, &f->p, &in, 0, f->out, &f->sum), ENGINE_EINVAL);
	assert_int_equal(match_run(NULL, &f->p, &in, 5, f->out, &f->sum), ENGINE_EINVAL);
	in.concerns[0] = (struct intake_concern){ 1, 9 };
	in.n_concerns = 1;
	assert_int_equal(match_run(f->c, &f->p, &in, 5, f->out, &f->sum), ENGINE_EINVAL);
	intake_init(&in);
	run(f, &in, 5); /* empty catalog */
	assert_int_equal(f->sum.n_results, 0);
	assert_int_equal(f->sum.considered, 0);
	assert_false(found(f, 1));
}

/* --- issue 10: filters that must never ignore a client's statement ------- */

/* Case 1: sites without formats still restrict in-person sessions. */
static void
test_case1_sites_without_formats(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	intake_init(&in);
	in.in_person_format = tag(f, VOCAB_FORMATS, "in_person");
	assert_int_equal(intake_add_site(&in, "downtown"), 0);
	base_profile(f, &t, 1);
	t.formats = UINT64_C(1) << tag(f, VOCAB_FORMATS, "in_person");
	t.n_sites = 0;
	assert_int_equal(profile_add_site(&t, "uptown"), 0);
	two(f, &t);
	expect_excluded(f, &in, EXCL_FORMAT);
	/* near miss: any other format is fine without a site */
	t.formats |= UINT64_C(1) << tag(f, VOCAB_FORMATS, "video");
	put(f, &t);
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 2);
	/* near miss: in person at the client's site */
	t.formats = UINT64_C(1) << tag(f, VOCAB_FORMATS, "in_person");
	assert_int_equal(profile_add_site(&t, "Downtown"), 0);
	put(f, &t);
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 2);
}

/* Case 2: a required avoid excludes who offers only avoided modalities. */
static void
test_case2_required_avoid(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	int psy = tag(f, VOCAB_MODALITIES, "psychodynamic");
	intake_init(&in);
	tagset_add(&in.mod_avoid, psy);
	in.mod_required = true;
	base_profile(f, &t, 1);
	tagset_add(&t.modalities, psy);
	two(f, &t);
	expect_excluded(f, &in, EXCL_REQUIRED);
	/* not required: passes with the warning */
	in.mod_required = false;
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 2);
	/* required, but offers another modality too: passes with the warning */
	in.mod_required = true;
	tagset_add(&t.modalities, tag(f, VOCAB_MODALITIES, "cbt"));
	put(f, &t);
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 2);
	const struct match_item *it = f->out[0].therapist_id == 1 ? &f->out[0] : &f->out[1];
	assert_int_equal(it->n_warnings, 1);
	assert_int_equal(it->warnings[0].code, WARN_AVOIDED_MODALITY);
	/* required prefer and required avoid together: both apply */
	tagset_add(&in.mod_prefer, tag(f, VOCAB_MODALITIES, "emdr"));
	run(f, &in, 10);
	assert_int_equal(f->sum.excluded[EXCL_REQUIRED], 2);
}

/* Case 3: no self-pay fee is no self-pay, never free. */
static void
test_case3_no_fee_is_not_free(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	intake_init(&in);
	assert_int_equal(intake_set_payer(&in, "aetna"), 0);
	in.self_pay_max = 120;
	base_profile(f, &t, 1);
	t.n_payers = 0;
	assert_int_equal(profile_add_payer(&t, "cigna"), 0);
	t.self_pay_fee = 0;
	two(f, &t);
	expect_excluded(f, &in, EXCL_PAYMENT);
	t.sliding_scale = true; /* a sliding scale of no fee is still no self-pay */
	put(f, &t);
	expect_excluded(f, &in, EXCL_PAYMENT);
	/* a payer and no maximum: self-pay at any fee, but not none */
	in.self_pay_max = -1;
	expect_excluded(f, &in, EXCL_PAYMENT);
	t.self_pay_fee = 200;
	put(f, &t);
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 2);
	/* only a maximum, no payer */
	intake_init(&in);
	in.self_pay_max = 150;
	t.self_pay_fee = 0;
	put(f, &t);
	expect_excluded(f, &in, EXCL_PAYMENT);
	/* near miss: the payer is taken, no fee needed */
	assert_int_equal(intake_set_payer(&in, "cigna"), 0);
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 2);
}

/* Case 11: the summary holds exactly EXCL_COUNT counters and a true
 * "considered" (the copy of EXCL_COUNT + 1 counters wrote past excluded[]). */
static void
test_case11_summary_counts(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	intake_init(&in);
	for (uint32_t id = 1; id <= 7; id++) {
		base_profile(f, &t, id);
		t.active = id % 3 != 0;
		put(f, &t);
	}
	struct match_summary sum;
	memset(&sum, 0xa5, sizeof(sum));
	assert_int_equal(match_run(f->c, &f->p, &in, 10, f->out, &sum), 0);
	assert_int_equal(sum.considered, 7);
	assert_int_equal(sum.n_results, 5);
	assert_int_equal(sum.excluded[EXCL_INACTIVE], 2);
	uint32_t total = 0;
	for (int e = 0; e < EXCL_COUNT; e++)
		total += sum.excluded[e];
	assert_int_equal(total + sum.n_results, sum.considered);
}

/* --- issue 10: hierarchical records -------------------------------------- */

static void
set_rec(struct catalog *c, uint32_t id, uint32_t n, double mean, int concern, uint32_t nc,
    double mc)
{
	struct therapist_records r = { 0 };
	r.alliance = (struct record){ n, mean };
	if (concern >= 0) {
		r.n_per_concern = 1;
		r.per_concern[0] =
		    (struct concern_record){ (uint8_t)concern, { nc, mc }, { 0, 0 } };
	}
	assert_int_equal(catalog_set_records(c, id, &r), 0);
}

static const struct match_item *
item_of(struct fx *f, uint32_t id)
{
	for (uint32_t i = 0; i < f->sum.n_results; i++)
		if (f->out[i].therapist_id == id)
			return &f->out[i];
	fail_msg("therapist %u not in the results", id);
	return NULL;
}

static uint32_t
rank_of(struct fx *f, uint32_t id)
{
	for (uint32_t i = 0; i < f->sum.n_results; i++)
		if (f->out[i].therapist_id == id)
			return i;
	fail_msg("therapist %u not in the results", id);
	return 0;
}

/* Case 6: per-concern records shrink toward the therapist's own record. */
static void
test_case6_concern_records_shrink_hierarchically(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	int eating = tag(f, VOCAB_CONCERNS, "eating");
	for (uint32_t id = 1; id <= 3; id++) {
		base_profile(f, &t, id);
		put(f, &t);
	}
	/* 5 eating episodes at 100 against 200 at 90 (therapist 3 sets M to 80) */
	set_rec(f->c, 1, 5, 100, eating, 5, 100);
	set_rec(f->c, 2, 200, 90, eating, 200, 90);
	set_rec(f->c, 3, 1795, 141500 / 1795.0, -1, 0, 0);
	assert_float_equal(catalog_clinic_alliance(f->c, NULL), 80.0, 1e-3);
	intake_init(&in);
	intake_add_concern(&in, eating, 3);
	run(f, &in, 10);
	assert_true(rank_of(f, 2) < rank_of(f, 1));
	/* r_1 = (500 + 20 x 80) / 25 = 84; r_1,eating = (500 + 10 x 84) / 15 */
	assert_float_equal(item_of(f, 1)->components[COMP_ALLIANCE_RECORD],
	    (500 + 840) / 15.0 / 100, 1e-4);
	/* no history in the concern: exactly the overall record */
	assert_float_equal(item_of(f, 3)->components[COMP_ALLIANCE_RECORD],
	    records_shrink(1795, 141500 / 1795.0, 80.0, 20) / 100, 1e-4);
}

/* Case 6, second half: per-concern and overall records share one baseline. */
static void
test_case6_one_baseline(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	int eating = tag(f, VOCAB_CONCERNS, "eating");
	for (uint32_t id = 1; id <= 3; id++) {
		base_profile(f, &t, id);
		put(f, &t);
	}
	/* 1: above the clinic overall (88) and in eating (84); 2: below the clinic
	 * overall (79), no eating history; 3: the clinic's eating mean is low (60) */
	set_rec(f->c, 1, 20, 88, eating, 6, 84);
	set_rec(f->c, 2, 20, 79, -1, 0, 0);
	set_rec(f->c, 3, 200, 80, eating, 100, 60);
	intake_init(&in);
	intake_add_concern(&in, eating, 3);
	run(f, &in, 10);
	assert_true(rank_of(f, 1) < rank_of(f, 2));
}

/* "strong alliance with past clients": r >= 80 from at least 5 rated episodes. */
static void
test_case5_strong_alliance_reason(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	base_profile(f, &t, 1);
	put(f, &t);
	intake_init(&in);
	set_rec(f->c, 1, 200, 77, -1, 0, 0); /* 77: below 80 on the score scale */
	const struct match_item *it = only(f, &in);
	for (int i = 0; i < it->n_reasons; i++)
		assert_int_not_equal(it->reasons[i].code, REASON_STRONG_ALLIANCE);
	set_rec(f->c, 1, 4, 100, -1, 0, 0); /* r = 100, but 4 episodes */
	it = only(f, &in);
	for (int i = 0; i < it->n_reasons; i++)
		assert_int_not_equal(it->reasons[i].code, REASON_STRONG_ALLIANCE);
	set_rec(f->c, 1, 5, 100, -1, 0, 0);
	it = only(f, &in);
	int hit = 0;
	for (int i = 0; i < it->n_reasons; i++)
		hit |= it->reasons[i].code == REASON_STRONG_ALLIANCE;
	assert_true(hit);
	set_rec(f->c, 1, 200, 80, -1, 0, 0); /* exactly 80 */
	it = only(f, &in);
	hit = 0;
	for (int i = 0; i < it->n_reasons; i++)
		hit |= it->reasons[i].code == REASON_STRONG_ALLIANCE;
	assert_true(hit);
}

/* Generated catalogs for the record properties: n random therapists with
 * random records (some with per-concern records), all passing the filters of
 * an empty intake plus one concern. */
static struct catalog *
record_catalog(struct fx *f, uint32_t n, int concern)
{
	struct catalog *c = catalog_new();
	assert_non_null(c);
	for (uint32_t id = 1; id <= n; id++) {
		struct therapist_profile t;
		base_profile(f, &t, id);
		assert_int_equal(catalog_upsert(c, &t), 0);
		if (rnd() % 4 == 0)
			continue; /* no history */
		int pc = rnd() % 2 ? (rnd() % 2 ? concern : (int)(rnd() % 20)) : -1;
		set_rec(c, id, 1 + rnd() % 300, (double)(rnd() % 1001) / 10, pc, rnd() % 50,
		    (double)(rnd() % 1001) / 10);
	}
	return c;
}

/* Add therapist id with a record that brings the clinic mean to exactly m. */
static void
balance_clinic(struct fx *f, struct catalog *c, uint32_t id, double m)
{
	double n;
	double cur = catalog_clinic_alliance(c, &n);
	struct therapist_profile t;
	base_profile(f, &t, id);
	t.active = false; /* counts in the clinic mean, not in the ranking */
	assert_int_equal(catalog_upsert(c, &t), 0);
	/* n_b episodes at mean_b: (cur n + n_b mean_b) / (n + n_b) = m, mean_b in [0, 100] */
	double nb = 10;
	double mb;
	for (;; nb *= 2) {
		mb = (m * (n + nb) - cur * n) / nb;
		if (mb >= 0 && mb <= 100)
			break;
	}
	set_rec(c, id, (uint32_t)nb, mb, -1, 0, 0);
}

static void
run_on(struct fx *f, struct catalog *c, const struct intake *in)
{
	assert_int_equal(match_run(c, &f->p, in, MATCH_MAX_K, f->out, &f->sum), 0);
}

/* Property: with M = 80, 5 episodes at 100 never outrank 200 at 90. */
static void
test_property_five_at_100_never_outrank_200_at_90(void **state)
{
	struct fx *f = *state;
	rnd_state = 4242;
	for (int round = 0; round < 300; round++) {
		int concern = (int)(rnd() % 20);
		struct catalog *c = record_catalog(f, 5 + rnd() % 40, concern);
		uint32_t a = 1000, b = 1001;
		struct therapist_profile t;
		base_profile(f, &t, a);
		assert_int_equal(catalog_upsert(c, &t), 0);
		base_profile(f, &t, b);
		assert_int_equal(catalog_upsert(c, &t), 0);
		/* in the client's concern, overall, or both */
		int where = (int)(rnd() % 3);
		set_rec(c, a, 5, 100, where ? concern : -1, where ? 5 : 0, 100);
		set_rec(c, b, 200, 90, where ? concern : -1, where ? 200 : 0, 90);
		balance_clinic(f, c, 2000, 80);
		struct intake in;
		intake_init(&in);
		intake_add_concern(&in, concern, 1 + (int)(rnd() % 3));
		run_on(f, c, &in);
		/* b first by id when tied, so b must be strictly ahead */
		assert_true(rank_of(f, b) < rank_of(f, a));
		catalog_free(c);
	}
}

/* The shrunk concern record the spec defines, from first principles. */
static double
expected_record(double m_clinic, double k, double kc, uint32_t n, double mean, uint32_t nc,
    double mc)
{
	double rt = n ? (n * mean + k * m_clinic) / (n + k) : m_clinic;
	return nc ? (nc * mc + kc * rt) / (nc + kc) : rt;
}

/* Property: all else equal, a higher shrunk record in the client's concern
 * ranks higher; and the component is that record. */
static void
test_property_higher_concern_record_ranks_higher(void **state)
{
	struct fx *f = *state;
	rnd_state = 777;
	int checked = 0;
	for (int round = 0; round < 300; round++) {
		int concern = (int)(rnd() % 20);
		struct catalog *c = record_catalog(f, 5 + rnd() % 40, concern);
		uint32_t ids[2] = { 1000, 1001 };
		uint32_t n[2], nc[2];
		double mean[2], mc[2];
		for (int i = 0; i < 2; i++) {
			struct therapist_profile t;
			base_profile(f, &t, ids[i]);
			assert_int_equal(catalog_upsert(c, &t), 0);
			n[i] = rnd() % 100;
			mean[i] = (double)(rnd() % 1001) / 10;
			nc[i] = n[i] ? rnd() % (n[i] + 1) : 0;
			mc[i] = (double)(rnd() % 1001) / 10;
			set_rec(c, ids[i], n[i], mean[i], nc[i] ? concern : -1, nc[i], mc[i]);
		}
		double m_clinic = catalog_clinic_alliance(c, NULL);
		struct intake in;
		intake_init(&in);
		intake_add_concern(&in, concern, 1 + (int)(rnd() % 3));
		run_on(f, c, &in);
		double r[2];
		for (int i = 0; i < 2; i++) {
			r[i] = expected_record(m_clinic, f->p.record_prior_weight,
			    f->p.concern_prior_weight, n[i], (float)mean[i], nc[i], (float)mc[i]);
			assert_float_equal(item_of(f, ids[i])->components[COMP_ALLIANCE_RECORD],
			    r[i] / 100, 1e-4);
		}
		if (r[0] - r[1] > 0.01 || r[1] - r[0] > 0.01) {
			int hi = r[1] > r[0];
			assert_true(rank_of(f, ids[hi]) < rank_of(f, ids[!hi]));
			checked++;
		}
		catalog_free(c);
	}
	assert_true(checked > 250);
}

/* Property: a therapist with no history sits exactly at the clinic mean, in
 * any concern, for the alliance and the outcome record. */
static void
test_property_no_history_at_clinic_mean(void **state)
{
	struct fx *f = *state;
	rnd_state = 99;
	for (int round = 0; round < 300; round++) {
		int concern = (int)(rnd() % 20);
		struct catalog *c = record_catalog(f, 5 + rnd() % 40, concern);
		struct therapist_records ro = { 0 };
		ro.outcome = (struct record){ 1 + rnd() % 50, (double)(rnd() % 101) / 100 };
		assert_int_equal(catalog_set_records(c, 1, &ro), 0); /* some outcome data */
		struct therapist_profile t;
		base_profile(f, &t, 1000);
		assert_int_equal(catalog_upsert(c, &t), 0);
		double m_a = catalog_clinic_alliance(c, NULL),
		       m_o = catalog_clinic_outcome(c, NULL);
		struct intake in;
		intake_init(&in);
		if (rnd() % 4)
			intake_add_concern(&in, concern, 1 + (int)(rnd() % 3));
		run_on(f, c, &in);
		const struct match_item *it = item_of(f, 1000);
		if (it->comp_used & (1u << COMP_ALLIANCE_RECORD))
			assert_float_equal(it->components[COMP_ALLIANCE_RECORD], m_a / 100, 1e-5);
		assert_float_equal(it->components[COMP_OUTCOME_RECORD], m_o, 1e-5);
		catalog_free(c);
	}
}

/* Beyond 32 sites and payers, 64 languages and 63 genders the hot bits fold:
 * site 40 shares a bit with site 8. A therapist at site 8 must not pass a
 * filter for site 40, and the one at site 40 must (like any other). */
static void
test_labels_beyond_the_bits(void **state)
{
	struct fx *f = *state;
	struct therapist_profile t;
	struct intake in;
	char s[32], lang[3] = { 0 };
	for (uint32_t i = 0; i < 70; i++) {
		base_profile(f, &t, i + 1);
		t.n_sites = t.n_payers = t.n_languages = 0;
		snprintf(s, sizeof(s), "site%u", i);
		assert_int_equal(profile_add_site(&t, s), 0);
		snprintf(s, sizeof(s), "payer%u", i);
		assert_int_equal(profile_add_payer(&t, s), 0);
		snprintf(s, sizeof(s), "gender%u", i);
		assert_int_equal(profile_set_gender(&t, s), 0);
		lang[0] = (char)('a' + i / 26);
		lang[1] = (char)('a' + i % 26);
		assert_int_equal(profile_add_language(&t, lang), 0);
		put(f, &t);
	}
	intake_init(&in);
	assert_int_equal(intake_add_site(&in, "site40"), 0);
	assert_int_equal(intake_set_payer(&in, "payer39"), 0);
	in.self_pay_max = 0; /* the insurance only, no self-pay */
	run(f, &in, 10);
	/* site 40 is therapist 41, payer 39 therapist 40: nobody has both */
	assert_int_equal(f->sum.n_results, 0);
	intake_init(&in);
	assert_int_equal(intake_add_site(&in, "site40"), 0);
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 1);
	assert_int_equal(f->out[0].therapist_id, 41);
	intake_init(&in);
	assert_int_equal(intake_set_payer(&in, "payer39"), 0);
	in.self_pay_max = 0;
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 1);
	assert_int_equal(f->out[0].therapist_id, 40);
	intake_init(&in);
	lang[0] = (char)('a' + 69 / 26);
	lang[1] = (char)('a' + 69 % 26);
	assert_int_equal(intake_add_language(&in, lang), 0);
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 1);
	assert_int_equal(f->out[0].therapist_id, 70);
	assert_int_equal(f->sum.excluded[EXCL_LANGUAGE], 69);
	intake_init(&in);
	assert_int_equal(intake_add_gender(&in, "gender66"), 0);
	in.gender_required = true;
	run(f, &in, 10);
	assert_int_equal(f->sum.n_results, 1);
	assert_int_equal(f->out[0].therapist_id, 67);
	assert_float_equal(f->out[0].components[COMP_GENDER], 1, 1e-6);
	in.gender_required = false;
	run(f, &in, 70);
	for (uint32_t i = 0; i < f->sum.n_results; i++)
		assert_float_equal(f->out[i].components[COMP_GENDER],
		    f->out[i].therapist_id == 67 ? 1 : 0, 1e-6);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_filter_inactive),
		T(test_filter_not_accepting),
		T(test_filter_language),
		T(test_filter_format_and_sites),
		T(test_filter_population),
		T(test_filter_payment),
		T(test_filter_availability),
		T(test_filter_excluded),
		T(test_filter_required),
		T(test_exclusion_counted_once_in_order),
		T(test_component_concerns),
		T(test_component_modality_and_avoid_warning),
		T(test_component_style),
		T(test_component_identity_gender_availability_capacity),
		T(test_component_records_shrunk_per_concern),
		T(test_mean_leaves_out_unexpressed),
		T(test_tie_breaks),
		T(test_topk_equals_full_sort),
		T(test_reasons_of_a_result),
		T(test_bad_arguments),
		T(test_case1_sites_without_formats),
		T(test_case2_required_avoid),
		T(test_case3_no_fee_is_not_free),
		T(test_case11_summary_counts),
		T(test_case6_concern_records_shrink_hierarchically),
		T(test_case6_one_baseline),
		T(test_case5_strong_alliance_reason),
		T(test_property_five_at_100_never_outrank_200_at_90),
		T(test_property_higher_concern_record_ranks_higher),
		T(test_property_no_history_at_clinic_mean),
		T(test_labels_beyond_the_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
