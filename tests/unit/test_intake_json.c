/*
 * test_intake_json.c - the intake object from JSON: every field into the
 * engine's struct intake, every bad field named, unknown fields refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/engine.h"
#include "codec/intake_json.h"

struct fx {
	struct vocab *v;
	struct intake in;
	struct field_errors fe;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || (f->v = vocab_new_default()) == NULL) {
		free(f);
		return -1;
	}
	field_errors_init(&f->fe);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	field_errors_clear(&f->fe);
	vocab_free(f->v);
	free(f);
	return 0;
}

/* clang-format off */
static const char full_intake[] =
    "{\"external_ref\": \"C-88231\", \"population\": \"adult\", \"languages\": [\"es\", \"en\"],"
    " \"concerns\": [{\"tag\": \"trauma\", \"priority\": 3}, {\"tag\": \"sleep\", \"priority\": 1}],"
    " \"modalities\": {\"prefer\": [\"emdr\"], \"avoid\": [\"psychodynamic\"], \"required\": true},"
    " \"formats\": [\"video\"], \"sites\": [\"downtown\"],"
    " \"gender\": {\"prefer\": [\"female\"], \"required\": true},"
    " \"identity\": {\"prefer\": [\"lgbtq_affirming\"], \"required\": false},"
    " \"style\": {\"directiveness\": 2, \"challenge\": -1},"
    " \"availability\": [{\"day\": \"tue\", \"from\": \"17:00\", \"to\": \"20:00\"}],"
    " \"wanted_hours\": 2, \"payment\": {\"payer\": \"aetna\", \"self_pay_max\": 120},"
    " \"exclude_therapists\": [12, 40]}";
/* clang-format on */

/* Parses TEXT into f->in; the return of intake_from_json. */
static int
parse(struct fx *f, const char *text, bool require_ref)
{
	json_t *j = json_loads(text, 0, NULL);
	int rc;

	assert_non_null(j);
	field_errors_clear(&f->fe);
	rc = intake_from_json(j, f->v, require_ref, &f->in, &f->fe);
	json_decref(j);
	return rc;
}

/* The message for FIELD among the collected errors, or NULL. */
static const char *
error_for(const struct fx *f, const char *field)
{
	size_t i;
	json_t *e;

	if (f->fe.errors == NULL)
		return NULL;
	json_array_foreach (f->fe.errors, i, e)
		if (strcmp(json_string_value(json_object_get(e, "field")), field) == 0)
			return json_string_value(json_object_get(e, "message"));
	return NULL;
}

static size_t
error_count(const struct fx *f)
{
	return f->fe.errors ? json_array_size(f->fe.errors) : 0;
}

static int
tag(const struct fx *f, enum vocab_kind k, const char *name)
{
	int i = vocab_lookup(f->v, k, name);

	assert_true(i >= 0);
	return i;
}

static void
test_full_intake(void **state)
{
	struct fx *f = *state;
	struct intake *in = &f->in;
	struct avail want;

	assert_int_equal(parse(f, full_intake, true), 0);
	assert_int_equal(error_count(f), 0);
	assert_int_equal(in->population, tag(f, VOCAB_POPULATIONS, "adult"));
	assert_int_equal(in->n_languages, 2);
	assert_int_equal(in->languages[0], lang_pack("es"));
	assert_int_equal(in->languages[1], lang_pack("en"));
	assert_int_equal(in->n_concerns, 2);
	assert_int_equal(in->concerns[0].tag, tag(f, VOCAB_CONCERNS, "trauma"));
	assert_int_equal(in->concerns[0].priority, 3);
	assert_int_equal(in->concerns[1].tag, tag(f, VOCAB_CONCERNS, "sleep"));
	assert_int_equal(in->concerns[1].priority, 1);
	assert_true(tagset_has(&in->mod_prefer, tag(f, VOCAB_MODALITIES, "emdr")));
	assert_int_equal(tagset_count(&in->mod_prefer), 1);
	assert_true(tagset_has(&in->mod_avoid, tag(f, VOCAB_MODALITIES, "psychodynamic")));
	assert_true(in->mod_required);
	assert_int_equal(in->formats, UINT64_C(1) << tag(f, VOCAB_FORMATS, "video"));
	assert_int_equal(in->in_person_format, tag(f, VOCAB_FORMATS, "in_person"));
	assert_int_equal(in->n_sites, 1);
	assert_string_equal(in->sites[0], "downtown");
	assert_int_equal(in->n_genders, 1);
	assert_string_equal(in->genders[0], "female");
	assert_true(in->gender_required);
	assert_int_equal(in->identity, UINT64_C(1) << tag(f, VOCAB_IDENTITY, "lgbtq_affirming"));
	assert_false(in->identity_required);
	assert_int_equal(in->style_given, (1u << STYLE_DIRECTIVENESS) | (1u << STYLE_CHALLENGE));
	assert_int_equal(in->style[STYLE_DIRECTIVENESS], 2);
	assert_int_equal(in->style[STYLE_CHALLENGE], -1);
	avail_clear(&want);
	assert_int_equal(avail_add(&want, 1, 17, 20), 0);
	assert_memory_equal(&in->availability, &want, sizeof(want));
	assert_int_equal(in->wanted_hours, 2);
	assert_string_equal(in->payer, "aetna");
	assert_int_equal(in->self_pay_max, 120);
	assert_int_equal(in->n_exclude, 2);
	assert_int_equal(in->exclude[0], 12);
	assert_int_equal(in->exclude[1], 40);
}

static void
test_empty_intake_means_no_preference(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, "{}", false), 0);
	assert_int_equal(f->in.population, -1);
	assert_int_equal(f->in.self_pay_max, -1);
	assert_int_equal(f->in.n_concerns, 0);
	assert_int_equal(f->in.formats, 0);
	assert_true(avail_empty(&f->in.availability));
	/* the stateless match needs no external_ref; a stored client does */
	assert_int_equal(parse(f, "{}", true), -1);
	assert_non_null(error_for(f, "external_ref"));
	/* null is absent */
	assert_int_equal(parse(f, "{\"population\": null, \"style\": null}", false), 0);
	assert_int_equal(f->in.population, -1);
}

static void
test_not_an_object(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, "[1, 2]", false), -1);
	assert_string_equal(error_for(f, ""), "must be an object");
}

static void
test_each_bad_field_is_named(void **state)
{
	struct fx *f = *state;
	static const char *const fields[] = {
		"external_ref",
		"languages[1]",
		"concerns[0].priority",
		"concerns[1].priority",
		"concerns[1].tag",
		"modalities.prefer[0]",
		"modalities.required",
		"formats",
		"sites[0]",
		"gender.prefer",
		"identity.required",
		"style.challenge",
		"style.directiveness",
		"availability[0].from",
		"availability[1].to",
		"wanted_hours",
		"payment.self_pay_max",
		"payment.payer",
		"exclude_therapists[0]",
		"exclude_therapists[2]",
		"population",
	};
	const char *bad =
	    "{\"external_ref\": \"\", \"population\": 3, \"languages\": [\"es\", \"ESP\"],"
	    " \"concerns\": [{\"tag\": \"trauma\", \"priority\": 4},"
	    "                {\"tag\": \"trauma\"}],"
	    " \"modalities\": {\"prefer\": [\"emdrr\"], \"required\": \"yes\"},"
	    " \"formats\": \"video\", \"sites\": [\"\"],"
	    " \"gender\": {\"prefer\": [\"a\", \"b\", \"c\", \"d\", \"e\"]},"
	    " \"identity\": {\"required\": 1},"
	    " \"style\": {\"challenge\": 4, \"directiveness\": 1.5},"
	    " \"availability\": [{\"day\": \"tue\", \"from\": \"17:30\", \"to\": \"20:00\"},"
	    "                    {\"day\": \"wed\", \"from\": \"10:00\", \"to\": \"09:00\"}],"
	    " \"wanted_hours\": 169, \"payment\": {\"payer\": 7, \"self_pay_max\": -1},"
	    " \"exclude_therapists\": [0, 5, 5]}";
	size_t i;

	assert_int_equal(parse(f, bad, true), -1);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (error_for(f, fields[i]) == NULL)
			fail_msg("no error for %s", fields[i]);
	assert_non_null(strstr(error_for(f, "concerns[0].priority"), "between 1 and 3"));
	assert_string_equal(error_for(f, "concerns[1].priority"), "is required");
	assert_non_null(strstr(error_for(f, "exclude_therapists[2]"), "duplicate"));
	assert_non_null(strstr(error_for(f, "wanted_hours"), "168"));
}

static void
test_unknown_fields_at_every_level(void **state)
{
	struct fx *f = *state;
	const char *text =
	    "{\"name\": \"Jane\", \"notes\": \"x\","
	    " \"concerns\": [{\"tag\": \"trauma\", \"priority\": 2, \"severity\": 9}],"
	    " \"modalities\": {\"prefered\": [\"cbt\"]},"
	    " \"gender\": {\"prefer\": [\"female\"], \"strict\": true},"
	    " \"identity\": {\"want\": []}, \"style\": {\"warmth\": 2},"
	    " \"availability\": [{\"day\": \"mon\", \"from\": \"09:00\", \"to\": \"10:00\", \"tz\": 1}],"
	    " \"payment\": {\"insurer\": \"aetna\"}}";
	static const char *const fields[] = {
		"name",
		"notes",
		"concerns[0].severity",
		"modalities.prefered",
		"gender.strict",
		"identity.want",
		"style.warmth",
		"availability[0].tz",
		"payment.insurer",
	};
	size_t i;

	assert_int_equal(parse(f, text, false), -1);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *m = error_for(f, fields[i]);

		if (m == NULL)
			fail_msg("no error for %s", fields[i]);
		assert_string_equal(m, "unknown field");
	}
	assert_int_equal(error_count(f), sizeof(fields) / sizeof(fields[0]));
}

static void
test_unknown_tags_list_allowed_values(void **state)
{
	struct fx *f = *state;
	const char *m;

	assert_int_equal(parse(f,
	                     "{\"population\": \"adults\", \"formats\": [\"video\", \"zoom\"],"
	                     " \"concerns\": [{\"tag\": \"sadness\", \"priority\": 1}],"
	                     " \"identity\": {\"prefer\": [\"lgbt\"]}}",
	                     false),
	    -1);
	m = error_for(f, "population");
	assert_non_null(m);
	assert_non_null(strstr(m, "\"adults\""));
	assert_non_null(strstr(m, "older_adult"));
	m = error_for(f, "formats[1]");
	assert_non_null(m);
	assert_non_null(strstr(m, "in_person, video, phone"));
	m = error_for(f, "concerns[0].tag");
	assert_non_null(m);
	assert_non_null(strstr(m, "chronic_illness"));
	m = error_for(f, "identity.prefer[0]");
	assert_non_null(m);
	assert_non_null(strstr(m, "lgbtq_affirming"));
	assert_null(error_for(f, "formats[0]"));
}

static void
test_configured_vocabulary_is_used(void **state)
{
	struct fx *f = *state;

	/* a clinic-added concern is accepted once it is in the vocabulary */
	assert_int_equal(parse(f, "{\"concerns\": [{\"tag\": \"burnout\", \"priority\": 2}]}",
	                     false),
	    -1);
	assert_true(vocab_add(f->v, VOCAB_CONCERNS, "burnout") >= 0);
	assert_int_equal(parse(f, "{\"concerns\": [{\"tag\": \"burnout\", \"priority\": 2}]}",
	                     false),
	    0);
	assert_int_equal(f->in.concerns[0].tag, tag(f, VOCAB_CONCERNS, "burnout"));
}

static void
test_contradictions_and_limits(void **state)
{
	struct fx *f = *state;

	/* preferring and avoiding one modality */
	assert_int_equal(parse(f,
	                     "{\"modalities\": {\"prefer\": [\"cbt\", \"act\"],"
	                     " \"avoid\": [\"act\"]}}",
	                     false),
	    -1);
	assert_non_null(error_for(f, "modalities.avoid[0]"));
	/* duplicate concern tags */
	assert_int_equal(parse(f,
	                     "{\"concerns\": [{\"tag\": \"grief\", \"priority\": 1},"
	                     " {\"tag\": \"grief\", \"priority\": 3}]}",
	                     false),
	    -1);
	assert_non_null(strstr(error_for(f, "concerns[1].tag"), "duplicate"));
	/* too many languages for the engine */
	assert_int_equal(parse(f,
	                     "{\"languages\": [\"aa\",\"ab\",\"ac\",\"ad\",\"ae\",\"af\","
	                     "\"ag\",\"ah\",\"ai\"]}",
	                     false),
	    -1);
	assert_non_null(error_for(f, "languages"));
	/* a site longer than the engine keeps */
	assert_int_equal(parse(f, "{\"sites\": [\"a-very-long-site-name-beyond-31-bytes\"]}",
	                     false),
	    -1);
	assert_non_null(error_for(f, "sites[0]"));
	/* an external_ref of 128 characters is fine, 129 is not */
	{
		char text[300];

		snprintf(text, sizeof(text), "{\"external_ref\": \"%0128d\"}", 0);
		assert_int_equal(parse(f, text, true), 0);
		snprintf(text, sizeof(text), "{\"external_ref\": \"%0129d\"}", 0);
		assert_int_equal(parse(f, text, true), -1);
		assert_non_null(error_for(f, "external_ref"));
	}
	/* a fractional self-pay maximum rounds down, never up */
	assert_int_equal(parse(f, "{\"payment\": {\"self_pay_max\": 99.9}}", false), 0);
	assert_int_equal(f->in.self_pay_max, 99);
}

static void
test_errors_are_appended_not_replaced(void **state)
{
	struct fx *f = *state;
	json_t *j = json_loads("{\"wanted_hours\": 3}", 0, NULL);

	/* a caller may have collected its own errors first: a valid intake is 0 */
	field_errors_clear(&f->fe);
	field_error(&f->fe, "other", "caller's own");
	assert_int_equal(intake_from_json(j, f->v, false, &f->in, &f->fe), 0);
	assert_int_equal(error_count(f), 1);
	json_decref(j);
}

/* A tag cut to fit its message must not take the error with it (the issue's
 * own example: the avoid list was ignored and the intake accepted). */
static void
test_cut_unknown_tag_still_refuses(void **state)
{
	struct fx *f = *state;
	char text[300];
	const char *m;

	snprintf(text, sizeof(text),
	    "{\"external_ref\": \"C-1\", \"modalities\": {\"avoid\":"
	    " [\"psychodynamic\", \"%047d\xc3\xa9\"]}}",
	    0);
	assert_int_equal(parse(f, text, true), -1);
	m = error_for(f, "modalities.avoid[1]");
	assert_non_null(m);
	assert_non_null(strstr(m, "unknown modalities tag"));
}

/* A key whose path is cut in the middle of a character is still refused. */
static void
test_long_unknown_key_still_refuses(void **state)
{
	struct fx *f = *state;
	char text[400];

	memset(text, 0, sizeof(text));
	strcpy(text, "{\"external_ref\": \"C-1\", \"");
	memset(text + strlen(text), 'a', 254);
	strcat(text, "\xc3\xa9\": \"Jane Doe\"}");
	assert_int_equal(parse(f, text, true), -1);
	assert_int_equal(error_count(f), 1);
}

/* What is stored for a client: the fields of the intake object only, at
 * every level, whatever else the object holds; nulls dropped. */
static void
test_stored_form_keeps_only_intake_fields(void **state)
{
	struct fx *f = *state;
	json_t *j = json_loads(full_intake, 0, NULL), *in, *s, *want;

	(void)f;
	assert_non_null(j);
	want = json_deep_copy(j);
	json_object_del(want, "external_ref");
	in = json_deep_copy(j);
	json_object_set_new(in, "notes", json_string("Jane Doe, call after 5"));
	json_object_set_new(in, "population", json_string("adult"));
	json_object_set_new(json_object_get(in, "payment"), "copay", json_integer(20));
	json_object_set_new(json_object_get(in, "modalities"), "note", json_string("x"));
	json_object_set_new(json_array_get(json_object_get(in, "concerns"), 0), "why",
	    json_string("x"));
	json_object_set_new(json_array_get(json_object_get(in, "availability"), 0), "who",
	    json_string("x"));
	json_object_set_new(in, "wanted_hours", json_null());
	json_object_del(want, "wanted_hours");
	s = intake_json_stored(in);
	assert_non_null(s);
	assert_true(json_equal(s, want));
	json_decref(s);
	json_decref(in);
	json_decref(want);
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_intake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_intake_means_no_preference, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_an_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_bad_field_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_fields_at_every_level, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unknown_tags_list_allowed_values, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_configured_vocabulary_is_used, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_contradictions_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_are_appended_not_replaced, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cut_unknown_tag_still_refuses, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_long_unknown_key_still_refuses, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stored_form_keeps_only_intake_fields, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
