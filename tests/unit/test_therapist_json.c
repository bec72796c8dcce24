/*
 * test_therapist_json.c - the therapist object: validation naming each bad
 * field, the engine profile, the canonical statement parameter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec/therapist_json.h"

/* clang-format off */
#define ANA \
	"{\"external_ref\": \"T-1001\", \"display_name\": \"Ana Ruiz\", \"gender\": \"female\"," \
	" \"languages\": [\"en\", \"es\"], \"concerns\": {\"trauma\": 2, \"anxiety\": 1}," \
	" \"modalities\": [\"emdr\", \"cbt\"], \"formats\": [\"video\", \"in_person\"]," \
	" \"sites\": [\"downtown\"], \"populations\": [\"adult\"]," \
	" \"identity\": [\"lgbtq_affirming\"]," \
	" \"style\": {\"directiveness\": 1, \"emotional_intensity\": 0," \
	"  \"past_orientation\": -1, \"challenge\": 0}," \
	" \"availability\": [{\"day\": \"mon\", \"from\": \"09:00\", \"to\": \"13:00\"}]," \
	" \"payers\": [\"aetna\"], \"self_pay_fee\": 150.5, \"sliding_scale\": true," \
	" \"capacity\": 25, \"accepting_new\": true, \"active\": true}"
/* clang-format on */

static int
setup(void **state)
{
	*state = vocab_new_default();
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	vocab_free(*state);
	return 0;
}

/* Parses TEXT as MODE; the errors (or NULL) through *errors (caller decrefs). */
static int
parse(const struct vocab *v, const char *text, enum therapist_json_mode mode,
    struct therapist_profile *p, json_t **errors)
{
	struct field_errors fe;
	json_error_t jerr;
	json_t *obj = json_loads(text, 0, &jerr);
	int rc;

	if (obj == NULL)
		fail_msg("test JSON does not parse: %s (%s)", jerr.text, text);
	field_errors_init(&fe);
	rc = therapist_from_json(obj, mode, v, p, NULL, &fe);
	*errors = fe.errors;
	json_decref(obj);
	return rc;
}

/* ANA with KEY replaced by VALUE (a JSON text); "" as VALUE deletes KEY. */
static char *
ana_with(const char *key, const char *value)
{
	json_t *obj = json_loads(ANA, 0, NULL);
	char *out;

	assert_non_null(obj);
	if (value[0] == '\0')
		json_object_del(obj, key);
	else
		json_object_set_new(obj, key, json_loads(value, JSON_DECODE_ANY, NULL));
	out = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	return out;
}

static void
test_full_object(void **state)
{
	const struct vocab *v = *state;
	struct therapist_profile p;
	json_t *errors = NULL;
	int trauma = vocab_lookup(v, VOCAB_CONCERNS, "trauma");
	int anxiety = vocab_lookup(v, VOCAB_CONCERNS, "anxiety");
	int emdr = vocab_lookup(v, VOCAB_MODALITIES, "emdr");
	int video = vocab_lookup(v, VOCAB_FORMATS, "video");
	struct avail want;

	assert_int_equal(parse(v, ANA, THERAPIST_FULL, &p, &errors), 0);
	assert_null(errors);
	assert_string_equal(p.gender, "female");
	assert_int_equal(p.n_languages, 2);
	assert_int_equal(p.languages[1], lang_pack("es"));
	assert_int_equal(profile_concern_level(&p, trauma), CONCERN_SPECIALIST);
	assert_int_equal(profile_concern_level(&p, anxiety), CONCERN_EXPERIENCED);
	assert_true(tagset_has(&p.modalities, emdr));
	assert_int_equal(tagset_count(&p.modalities), 2);
	assert_true((p.formats >> video) & 1);
	assert_int_equal(p.n_sites, 1);
	assert_string_equal(p.sites[0], "downtown");
	assert_string_equal(p.payers[0], "aetna");
	assert_int_equal(p.style[STYLE_DIRECTIVENESS], 1);
	assert_int_equal(p.style[STYLE_PAST_ORIENTATION], -1);
	avail_clear(&want);
	avail_add(&want, 0, 9, 13);
	assert_memory_equal(&p.availability, &want, sizeof(want));
	assert_int_equal(p.self_pay_fee, 151); /* 150.5 rounds up: never cheaper than asked */
	assert_true(p.sliding_scale);
	assert_int_equal(p.capacity, 25);
	assert_true(p.accepting_new);
	assert_true(p.active);
}

static void
test_missing_optional_fields_take_defaults(void **state)
{
	struct therapist_profile p;
	json_t *errors = NULL;

	assert_int_equal(parse(*state, "{\"external_ref\": \"T-1\", \"display_name\": \"X\"}",
	                     THERAPIST_FULL, &p, &errors),
	    0);
	assert_int_equal(p.capacity, THERAPIST_DEFAULT_CAPACITY);
	assert_true(p.accepting_new);
	assert_true(p.active);
	assert_false(p.sliding_scale);
	assert_true(avail_empty(&p.availability));
	assert_string_equal(p.gender, "");
}

/* Each bad field, alone, is named exactly. */
static void
test_each_bad_field_named(void **state)
{
	static const struct {
		const char *key, *value, *field;
	} cases[] = {
		{ "external_ref", "", "external_ref" },
		{ "external_ref", "\"\"", "external_ref" },
		{ "external_ref", "12", "external_ref" },
		{ "display_name", "", "display_name" },
		{ "display_name", "null", "display_name" },
		{ "gender", "5", "gender" },
		{ "gender",
		    "\""
		    "0123456789012345678901234567890123"
		    "\"",
		    "gender" },
		{ "gender", "\" female\"", "gender" },
		{ "languages", "[\"EN\"]", "languages[0]" },
		{ "languages", "[\"en\", \"en\"]", "languages[1]" },
		{ "languages", "\"en\"", "languages" },
		{ "concerns", "{\"trauma\": 3}", "concerns.trauma" },
		{ "concerns", "{\"trauma\": \"2\"}", "concerns.trauma" },
		{ "concerns", "{\"bogus\": 1}", "concerns.bogus" },
		{ "concerns", "[\"trauma\"]", "concerns" },
		{ "modalities", "[\"emdr\", \"nope\"]", "modalities[1]" },
		{ "modalities", "[\"emdr\", \"emdr\"]", "modalities[1]" },
		{ "formats", "[\"tv\"]", "formats[0]" },
		{ "populations", "\"adult\"", "populations" },
		{ "identity", "[1]", "identity[0]" },
		{ "sites", "[\"ok\", \" x\"]", "sites[1]" },
		{ "payers", "[\"\"]", "payers[0]" },
		{ "payers", "[\"a\", \"a\"]", "payers[1]" },
		{ "style", "{\"directiveness\": 4}", "style.directiveness" },
		{ "style", "{\"challenge\": -4}", "style.challenge" },
		{ "style", "{\"warmth\": 1}", "style.warmth" },
		{ "style", "3", "style" },
		{ "availability",
		    "[{\"day\": \"mon\", \"from\": \"09:00\", \"to\": \"10:00\"},"
		    " {\"day\": \"tue\", \"from\": \"12:00\", \"to\": \"11:00\"}]",
		    "availability[1].to" },
		{ "availability", "[{\"day\": \"xyz\", \"from\": \"09:00\", \"to\": \"10:00\"}]",
		    "availability[0].day" },
		{ "availability", "[{\"day\": \"mon\", \"from\": \"09:30\", \"to\": \"10:00\"}]",
		    "availability[0].from" },
		{ "availability",
		    "[{\"day\": \"mon\", \"from\": \"09:00\", \"to\": \"10:00\","
		    " \"tz\": 1}]",
		    "availability[0].tz" },
		{ "self_pay_fee", "-1", "self_pay_fee" },
		{ "self_pay_fee", "\"150\"", "self_pay_fee" },
		{ "self_pay_fee", "10.001", "self_pay_fee" },
		{ "sliding_scale", "\"yes\"", "sliding_scale" },
		{ "capacity", "10001", "capacity" },
		{ "capacity", "-1", "capacity" },
		{ "capacity", "2.5", "capacity" },
		{ "accepting_new", "1", "accepting_new" },
		{ "active", "\"no\"", "active" },
		{ "colour", "\"blue\"", "colour" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct therapist_profile p;
		json_t *errors = NULL;
		char *text = ana_with(cases[i].key, cases[i].value);
		const char *field;

		if (parse(*state, text, THERAPIST_FULL, &p, &errors) != -1)
			fail_msg("case %zu (%s = %s) was accepted", i, cases[i].key,
			    cases[i].value);
		assert_non_null(errors);
		if (json_array_size(errors) != 1)
			fail_msg("case %zu: %zu errors, want 1", i, json_array_size(errors));
		field = json_string_value(json_object_get(json_array_get(errors, 0), "field"));
		if (field == NULL || strcmp(field, cases[i].field) != 0)
			fail_msg("case %zu: field \"%s\", want \"%s\"", i, field ? field : "(null)",
			    cases[i].field);
		json_decref(errors);
		free(text);
	}
}

static void
test_unknown_tag_lists_allowed(void **state)
{
	struct therapist_profile p;
	json_t *errors = NULL;
	char *text = ana_with("concerns", "{\"bogus\": 1}");
	const char *msg;

	assert_int_equal(parse(*state, text, THERAPIST_FULL, &p, &errors), -1);
	msg = json_string_value(json_object_get(json_array_get(errors, 0), "message"));
	assert_non_null(msg);
	assert_non_null(strstr(msg, "\"bogus\""));
	assert_non_null(strstr(msg, "allowed: anxiety, depression, trauma"));
	assert_non_null(strstr(msg, "chronic_illness"));
	json_decref(errors);
	free(text);

	text = ana_with("modalities", "[\"reiki\"]");
	assert_int_equal(parse(*state, text, THERAPIST_FULL, &p, &errors), -1);
	msg = json_string_value(json_object_get(json_array_get(errors, 0), "message"));
	assert_non_null(strstr(msg, "allowed: cbt, dbt"));
	assert_non_null(strstr(msg, "motivational_interviewing"));
	json_decref(errors);
	free(text);
}

static void
test_all_errors_at_once(void **state)
{
	struct therapist_profile p;
	json_t *errors = NULL;

	assert_int_equal(parse(*state, "{\"capacity\": -5, \"languages\": [\"x\"], \"foo\": 1}",
	                     THERAPIST_FULL, &p, &errors),
	    -1);
	/* external_ref, display_name, capacity, languages[0], foo */
	assert_int_equal(json_array_size(errors), 5);
	json_decref(errors);
}

static void
test_not_an_object(void **state)
{
	struct therapist_profile p;
	json_t *errors = NULL;

	assert_int_equal(parse(*state, "[1]", THERAPIST_FULL, &p, &errors), -1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "field")),
	    "");
	json_decref(errors);
}

static void
test_patch_mode(void **state)
{
	struct therapist_profile p;
	json_t *errors = NULL;

	assert_int_equal(parse(*state, "{\"capacity\": 3}", THERAPIST_PATCH, &p, &errors), 0);
	assert_int_equal(p.capacity, 3);
	assert_int_equal(parse(*state, "{\"gender\": null, \"languages\": null}", THERAPIST_PATCH,
	                     &p, &errors),
	    0);
	assert_int_equal(parse(*state, "{}", THERAPIST_PATCH, &p, &errors), -1);
	json_decref(errors);
	assert_int_equal(parse(*state, "{\"external_ref\": null}", THERAPIST_PATCH, &p, &errors),
	    -1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "field")),
	    "external_ref");
	json_decref(errors);
}

static void
test_canonical(void **state)
{
	json_t *in = json_loads("{\"external_ref\": \"T\", \"display_name\": \"N\", "
	                        "\"capacity\": 4, \"gender\": null}",
	           0, NULL),
	       *c;

	(void)state;
	c = therapist_json_canonical(in, THERAPIST_FULL);
	assert_int_equal(json_integer_value(json_object_get(c, "capacity")), 4);
	assert_true(json_is_true(json_object_get(c, "active")));
	assert_true(json_is_true(json_object_get(c, "accepting_new")));
	assert_true(json_is_false(json_object_get(c, "sliding_scale")));
	assert_int_equal(json_array_size(json_object_get(c, "languages")), 0);
	assert_true(json_is_object(json_object_get(c, "concerns")));
	assert_true(json_is_null(json_object_get(c, "gender")));
	assert_true(json_is_null(json_object_get(c, "self_pay_fee")));
	assert_int_equal(json_object_size(c), 18);
	json_decref(c);
	json_decref(in);

	in = json_loads("{\"capacity\": null, \"sites\": null, \"gender\": null}", 0, NULL);
	c = therapist_json_canonical(in, THERAPIST_PATCH);
	assert_int_equal(json_object_size(c), 3); /* only what was given */
	assert_int_equal(json_integer_value(json_object_get(c, "capacity")),
	    THERAPIST_DEFAULT_CAPACITY);
	assert_true(json_is_array(json_object_get(c, "sites")));
	assert_true(json_is_null(json_object_get(c, "gender")));
	json_decref(c);
	json_decref(in);
}

static void
test_stored_mode(void **state)
{
	struct therapist_profile p;
	json_t *errors = NULL;

	/* A tag the vocabulary no longer has (SIGHUP) is skipped, not fatal. */
	assert_int_equal(
	    parse(*state,
	        "{\"id\": 7, \"external_ref\": \"T\", \"display_name\": "
	        "\"N\", \"modalities\": [\"retired_tag\", \"cbt\"], \"concerns\": {\"gone\": 2}, "
	        "\"active\": false}",
	        THERAPIST_STORED, &p, &errors),
	    0);
	assert_int_equal(p.id, 7);
	assert_int_equal(tagset_count(&p.modalities), 1);
	assert_true(tagset_empty(&p.concerns_any));
	assert_false(p.active);
	/* "id" is not a request field, and is required in a stored object. */
	assert_int_equal(parse(*state,
	                     "{\"id\": 7, \"external_ref\": \"T\", \"display_name\": "
	                     "\"N\"}",
	                     THERAPIST_FULL, &p, &errors),
	    -1);
	json_decref(errors);
	assert_int_equal(parse(*state, "{\"external_ref\": \"T\", \"display_name\": \"N\"}",
	                     THERAPIST_STORED, &p, &errors),
	    -1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "field")),
	    "id");
	json_decref(errors);
}

static void
test_avail_bits(void **state)
{
	struct avail a;
	char bits[169];
	int i;

	(void)state;
	avail_clear(&a);
	avail_add(&a, 0, 9, 13);
	avail_add(&a, 6, 23, 24);
	therapist_avail_bits(&a, bits);
	assert_int_equal(strlen(bits), 168);
	for (i = 0; i < 168; i++)
		assert_int_equal(bits[i], (i >= 9 && i < 13) || i == 167 ? '1' : '0');
}

/* The catalog loader reads the bit(168) column: the inverse of the above,
 * and anything but 168 '0'/'1' refused with an empty mask. */
static void
test_avail_from_bits(void **state)
{
	struct avail a, b;
	char bits[169], bad[170];

	(void)state;
	avail_clear(&a);
	avail_add(&a, 0, 0, 1);
	avail_add(&a, 2, 9, 17);
	avail_add(&a, 6, 23, 24);
	therapist_avail_bits(&a, bits);
	assert_int_equal(therapist_avail_from_bits(bits, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(avail_hours(&b), 10);
	memcpy(bad, bits, sizeof(bits));
	bad[5] = 'x';
	assert_int_equal(therapist_avail_from_bits(bad, &b), -1);
	assert_true(avail_empty(&b));
	memcpy(bad, bits, 168);
	bad[168] = '1';
	bad[169] = '\0';
	assert_int_equal(therapist_avail_from_bits(bad, &b), -1);
	assert_int_equal(therapist_avail_from_bits("0101", &b), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_optional_fields_take_defaults, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_each_bad_field_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_tag_lists_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_errors_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_an_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_patch_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canonical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stored_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_from_bits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
