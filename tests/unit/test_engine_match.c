/* Unit tests: match.c (hard filters, components, tie-breaks, top-k). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"

struct fx {
	struct vocab *v;
	struct catalog *c;
	struct engine_params p;
	struct match_item out[MATCH_MAX_K];
	struct match_summary sum;
};

static int setup(void **state)
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

static int teardown(void **state)
{
	struct fx *f = *state;
	vocab_free(f->v);
	catalog_free(f->c);
	free(f);
	return 0;
}

static int tag(struct fx *f, enum vocab_kind k, const char *name)
{
	int i = vocab_lookup(f->v, k, name);
	assert_true(i >= 0);
	return i;
}

/* A therapist who passes every filter of an empty intake. */
static void base_profile(struct fx *f, struct therapist_profile *p, uint32_t id)
{
	profile_init(p, id);
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

static void put(struct fx *f, const struct therapist_profile *p)
{
	assert_int_equal(catalog_upsert(f->c, p), 0);
}

static void run(struct fx *f, const struct intake *in, size_t k)
{
	assert_int_equal(match_run(f->c, &f->p, in, k, f->out, &f->sum), 0);
}

static int found(struct fx *f, uint32_t id)
{
	for (uint32_t i = 0; i < f->sum.n_results; i++)
		if (f->out[i].therapist_id == id)
			return 1;
	return 0;
}

/* Therapist 1 fails the filter, therapist 2 passes: check count and results. */
static void expect_excluded(struct fx *f, const struct intake *in, enum exclusion e)
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

static void two(struct fx *f, struct therapist_profile *bad)
{
	struct therapist_profile good;
	base_profile(f, &good, 2);
	put(f, &good);
	put(f, bad);
}

static void test_filter_inactive(void **state)
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

static void test_filter_not_accepting(void **state)
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

static void test_filter_language(void **state)
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

static void test_filter_format_and_sites(void **state)
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

static void test_filter_population(void **state)
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

static void test_filter_payment(void **state)
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

static void test_filter_availability(void **state)
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

static void test_filter_excluded(void **state)
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

static void test_filter_required(void **state)
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

static void test_exclusion_counted_once_in_order(void **state)
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

static const struct match_item *only(struct fx *f, const struct intake *in)
{
	run(f, in, 10);
	assert_int_equal(f->sum.n_results, 1);
	return &f->out[0];
}

static void test_component_concerns(void **state)
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

static void test_component_modality_and_avoid_warning(void **state)
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

static void test_component_style(void **state)
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
	intake_set_style(&in, STYLE_DIRECTIVENESS, 2);  /* w 3, closeness 5/6 */
	intake_set_style(&in, STYLE_CHALLENGE, -1);     /* w 2, closeness 5/6 */
	const struct match_item *it = only(f, &in);
	assert_float_equal(it->components[COMP_STYLE], 5.0 / 6.0, 1e-5);
	t.style[STYLE_CHALLENGE] = 3; /* closeness 2/6: (3*5/6 + 2*2/6)/5 = 19/30 */
	put(f, &t);
	it = only(f, &in);
	assert_float_equal(it->components[COMP_STYLE], 19.0 / 30.0, 1e-5);
}

static void test_component_identity_gender_availability_capacity(void **state)
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

static void test_component_records_shrunk_per_concern(void **state)
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
	/* a trauma client: therapist 1's trauma record (10 episodes >= 5) is used,
	 * prior = the clinic's trauma mean (60): stays 60 */
	intake_add_concern(&in, trauma, 2);
	run(f, &in, 10);
	const struct match_item *it = f->out[0].therapist_id == 1 ? &f->out[0] : &f->out[1];
	assert_float_equal(it->components[COMP_ALLIANCE_RECORD], 0.60, 1e-4);
	assert_float_equal(it->components[COMP_OUTCOME_RECORD], 0.1, 1e-4);
	/* below record_min_concern_n the overall record is used again */
	f->p.record_min_concern_n = 11;
	run(f, &in, 10);
	it = f->out[0].therapist_id == 1 ? &f->out[0] : &f->out[1];
	assert_float_equal(it->components[COMP_ALLIANCE_RECORD], 0.85, 1e-4);
}

static void test_mean_leaves_out_unexpressed(void **state)
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

static void test_tie_breaks(void **state)
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
static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1664525u + 1013904223u;
	return rnd_state >> 8;
}

static int cmp_items(const void *pa, const void *pb)
{
	const struct match_item *a = pa, *b = pb;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if (a->free_slots != b->free_slots)
		return a->free_slots > b->free_slots ? -1 : 1;
	return a->therapist_id < b->therapist_id ? -1 : 1;
}

static void random_profile(struct therapist_profile *t, uint32_t id)
{
	profile_init(t, id);
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

static void test_topk_equals_full_sort(void **state)
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

static void test_reasons_of_a_result(void **state)
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

static void test_bad_arguments(void **state)
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

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
