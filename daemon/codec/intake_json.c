/*
 * intake_json.c - the API's intake object into struct intake.
 *
 * Every field is read with the json_fields readers so that one 422 names
 * every bad field at once; nested objects reject unknown keys too, so a typo
 * ("modalities.prefered") surfaces instead of silently meaning "no
 * preference".  Strings are copied into the intake (it owns nothing).
 */
#include <stdint.h>
#include <string.h>

#include "codec/intake_json.h"

#define REF_MAX_CHARS 128
#define SELF_PAY_MAX  1000000.0
/* JSON ids are exact up to 2^53 - 1 (the router's {id} takes 15 digits). */
#define ID_MAX 9007199254740991LL

static const char *const intake_keys[] = { "external_ref", "population", "languages", "concerns",
	"modalities", "formats", "sites", "gender", "identity", "style", "availability",
	"wanted_hours", "payment", "exclude_therapists", NULL };
static const char *const concern_keys[] = { "tag", "priority", NULL };
static const char *const modality_keys[] = { "prefer", "avoid", "required", NULL };
static const char *const prefer_keys[] = { "prefer", "required", NULL };
static const char *const payment_keys[] = { "payer", "self_pay_max", NULL };
static const char *const style_keys[] = { "directiveness", "emotional_intensity",
	"past_orientation", "challenge", NULL };
static const char *const slot_keys[] = { "day", "from", "to", NULL };

/* What a stored client keeps: every intake field but external_ref, nested
 * objects (or each object of an array) with only their own KEYS. */
static const struct {
	const char *key;
	const char *const *keys; /* NULL: a plain value */
} stored_fields[] = {
	{ "population", NULL },
	{ "languages", NULL },
	{ "concerns", concern_keys },
	{ "modalities", modality_keys },
	{ "formats", NULL },
	{ "sites", NULL },
	{ "gender", prefer_keys },
	{ "identity", prefer_keys },
	{ "style", style_keys },
	{ "availability", slot_keys },
	{ "wanted_hours", NULL },
	{ "payment", payment_keys },
	{ "exclude_therapists", NULL },
};

/* UTF-8 code points of s (the database counts characters, not bytes). */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* Each reader below returns 0 when its field is absent or valid and -1 when
 * it is not: validity is decided from these, never by counting recorded
 * errors (an error may fail to be recorded; the refusal must not). */

static int
read_ref(const json_t *obj, bool require_ref, struct field_errors *fe)
{
	const char *ref = NULL;
	int rc = jf_string(obj, "external_ref", "external_ref", REF_MAX_CHARS * 4, &ref, fe);

	if (rc == 0 && require_ref) {
		field_error(fe, "external_ref", "is required");
		return -1;
	}
	if (rc == 1 && utf8_chars(ref) > REF_MAX_CHARS) {
		field_error(fe, "external_ref", "must be 1 to %d characters", REF_MAX_CHARS);
		return -1;
	}
	return rc < 0 ? -1 : 0;
}

/* "concerns[i]" or "concerns[i].key" without printf: every intake names
 * these paths up front, so they are on the matching hot path. */
static const char *
concern_path(char *buf, size_t len, size_t i, const char *key)
{
	char digits[24], *d = digits + sizeof(digits);
	size_t n = 0, nd, nk = key ? strlen(key) : 0;

	do {
		*--d = (char)('0' + i % 10);
		i /= 10;
	} while (i != 0);
	nd = (size_t)(digits + sizeof(digits) - d);
	if (sizeof("concerns[]") + nd + (key ? nk + 1 : 0) > len) {
		buf[0] = '\0'; /* never with the callers' buffers */
		return buf;
	}
	memcpy(buf, "concerns[", 9);
	n = 9;
	memcpy(buf + n, d, nd);
	n += nd;
	buf[n++] = ']';
	if (key != NULL) {
		buf[n++] = '.';
		memcpy(buf + n, key, nk);
		n += nk;
	}
	buf[n] = '\0';
	return buf;
}

/* One {"tag", "priority"} item of concerns; 0 or -1. */
static int
read_concern(const json_t *item, size_t i, const struct vocab *v, struct tagset *seen,
    struct intake *out, struct field_errors *fe)
{
	char ipath[64], fpath[96];
	long long prio = 0;
	int tag = -1, trc, prc, bad = 0;

	concern_path(ipath, sizeof(ipath), i, NULL);
	if (jf_only(item, ipath, concern_keys, fe) != 0) {
		if (!json_is_object(item))
			return -1;
		bad = 1;
	}
	trc = jf_tag(item, "tag", concern_path(fpath, sizeof(fpath), i, "tag"), v, VOCAB_CONCERNS,
	    &tag, fe);
	if (trc == 0) {
		field_error(fe, fpath, "is required");
	} else if (trc == 1 && tagset_has(seen, tag)) {
		field_error(fe, fpath, "duplicate concern \"%s\"",
		    vocab_name(v, VOCAB_CONCERNS, tag));
		trc = -1;
	} else if (trc == 1) {
		tagset_add(seen, tag);
	}
	prc = jf_int(item, "priority", concern_path(fpath, sizeof(fpath), i, "priority"), 1, 3,
	    &prio, fe);
	if (prc == 0)
		field_error(fe, fpath, "is required");
	if (bad || trc != 1 || prc != 1)
		return -1;
	return intake_add_concern(out, tag, (int)prio) == 0 ? 0 : -1;
}

static int
read_concerns(const json_t *obj, const struct vocab *v, struct intake *out, struct field_errors *fe)
{
	const json_t *arr = NULL, *item;
	struct tagset seen;
	size_t i;
	int rc = jf_array(obj, "concerns", "concerns", INTAKE_MAX_CONCERNS, &arr, fe), bad = 0;

	if (rc <= 0)
		return rc;
	tagset_clear(&seen);
	json_array_foreach (arr, i, item)
		bad |= read_concern(item, i, v, &seen, out, fe) != 0;
	return bad ? -1 : 0;
}

/* Preferring and avoiding one modality is a contradiction, not a wish. */
static int
check_avoid(const json_t *m, const struct vocab *v, const struct intake *out,
    struct field_errors *fe)
{
	const json_t *item;
	char ipath[64];
	size_t i;
	int bad = 0;

	json_array_foreach (json_object_get(m, "avoid"), i, item) {
		int idx = vocab_lookup(v, VOCAB_MODALITIES, json_string_value(item));

		if (idx >= 0 && tagset_has(&out->mod_prefer, idx)) {
			field_error(fe, jf_index_path(ipath, sizeof(ipath), "modalities.avoid", i),
			    "\"%s\" is also in modalities.prefer", json_string_value(item));
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

static int
read_modalities(const json_t *obj, const struct vocab *v, struct intake *out,
    struct field_errors *fe)
{
	const json_t *m = NULL;
	int rc = jf_object(obj, "modalities", "modalities", &m, fe), bad = 0;

	if (rc <= 0)
		return rc;
	bad |= jf_only(m, "modalities", modality_keys, fe) != 0;
	bad |= jf_tags(m, "prefer", "modalities.prefer", v, VOCAB_MODALITIES, &out->mod_prefer,
	           fe) < 0;
	rc = jf_tags(m, "avoid", "modalities.avoid", v, VOCAB_MODALITIES, &out->mod_avoid, fe);
	bad |= rc < 0 || (rc == 1 && check_avoid(m, v, out, fe) != 0);
	bad |= jf_bool(m, "required", "modalities.required", &out->mod_required, fe) < 0;
	return bad ? -1 : 0;
}

static int
read_gender(const json_t *obj, struct intake *out, struct field_errors *fe)
{
	const json_t *g = NULL;
	const char *names[INTAKE_MAX_GENDERS];
	size_t n = 0, i;
	int rc = jf_object(obj, "gender", "gender", &g, fe), bad = 0;

	if (rc <= 0)
		return rc;
	bad |= jf_only(g, "gender", prefer_keys, fe) != 0;
	rc = jf_strings(g, "prefer", "gender.prefer", PROFILE_STR_MAX - 1, names,
	    INTAKE_MAX_GENDERS, &n, fe);
	bad |= rc < 0;
	for (i = 0; rc == 1 && i < n; i++)
		bad |= intake_add_gender(out, names[i]) != 0;
	bad |= jf_bool(g, "required", "gender.required", &out->gender_required, fe) < 0;
	return bad ? -1 : 0;
}

static int
read_identity(const json_t *obj, const struct vocab *v, struct intake *out, struct field_errors *fe)
{
	const json_t *id = NULL;
	int rc = jf_object(obj, "identity", "identity", &id, fe), bad = 0;

	if (rc <= 0)
		return rc;
	bad |= jf_only(id, "identity", prefer_keys, fe) != 0;
	bad |= jf_tags_mask(id, "prefer", "identity.prefer", v, VOCAB_IDENTITY, &out->identity,
	           fe) < 0;
	bad |= jf_bool(id, "required", "identity.required", &out->identity_required, fe) < 0;
	return bad ? -1 : 0;
}

static int
read_style(const json_t *obj, struct intake *out, struct field_errors *fe)
{
	static const char *const paths[] = { "style.directiveness", "style.emotional_intensity",
		"style.past_orientation", "style.challenge" };
	const json_t *s = NULL;
	int a, rc = jf_object(obj, "style", "style", &s, fe), bad = 0;

	if (rc <= 0)
		return rc;
	bad |= jf_only(s, "style", style_keys, fe) != 0;
	_Static_assert(STYLE_AXES == 4, "one path per style axis");
	for (a = 0; a < STYLE_AXES; a++) {
		long long val;

		rc = jf_int(s, style_keys[a], paths[a], -3, 3, &val, fe);
		bad |= rc < 0;
		if (rc == 1)
			bad |= intake_set_style(out,
			           (enum style_axis)style_axis_index(style_keys[a]), (int)val) != 0;
	}
	return bad ? -1 : 0;
}

static int
read_payment(const json_t *obj, struct intake *out, struct field_errors *fe)
{
	const json_t *p = NULL;
	const char *payer = NULL;
	double max;
	int rc = jf_object(obj, "payment", "payment", &p, fe), bad = 0;

	if (rc <= 0)
		return rc;
	bad |= jf_only(p, "payment", payment_keys, fe) != 0;
	rc = jf_string(p, "payer", "payment.payer", PROFILE_STR_MAX - 1, &payer, fe);
	bad |= rc < 0 || (rc == 1 && intake_set_payer(out, payer) != 0);
	/* Whole currency units: fees are compared in whole units in the catalog,
	 * and rounding down never admits a fee above what the client can pay. */
	rc = jf_number(p, "self_pay_max", "payment.self_pay_max", 0, SELF_PAY_MAX, 0, &max, fe);
	bad |= rc < 0;
	if (rc == 1)
		out->self_pay_max = (int32_t)max;
	return bad ? -1 : 0;
}

static int
read_excludes(const json_t *obj, struct intake *out, struct field_errors *fe)
{
	const json_t *arr = NULL, *item;
	char ipath[64];
	size_t i, j;
	int rc = jf_array(obj, "exclude_therapists", "exclude_therapists", INTAKE_MAX_EXCLUDE, &arr,
	        fe),
	    bad = 0;

	if (rc <= 0)
		return rc;
	json_array_foreach (arr, i, item) {
		json_int_t id = json_is_integer(item) ? json_integer_value(item) : 0;

		jf_index_path(ipath, sizeof(ipath), "exclude_therapists", i);
		if (id < 1 || id > ID_MAX) {
			field_error(fe, ipath, "must be a therapist id (a positive integer)");
			bad = 1;
			continue;
		}
		for (j = 0; j < i; j++)
			if (json_integer_value(json_array_get(arr, j)) == id)
				break;
		if (j < i) {
			field_error(fe, ipath, "duplicate therapist id %lld", (long long)id);
			bad = 1;
			continue;
		}
		/* The engine's ids are 32-bit; a larger id names no therapist in
		 * the catalog, so there is nothing to exclude. */
		if (id <= (json_int_t)UINT32_MAX && intake_add_exclude(out, (uint32_t)id) != 0)
			bad = 1;
	}
	return bad ? -1 : 0;
}

static int
read_sites(const json_t *obj, struct intake *out, struct field_errors *fe)
{
	const char *sites[PROFILE_MAX_SITES];
	size_t n = 0, i;
	int rc = jf_strings(obj, "sites", "sites", PROFILE_STR_MAX - 1, sites, PROFILE_MAX_SITES,
	        &n, fe),
	    bad = rc < 0;

	for (i = 0; rc == 1 && i < n; i++)
		bad |= intake_add_site(out, sites[i]) != 0;
	return bad ? -1 : 0;
}

static int
read_top(const json_t *obj, const struct vocab *v, bool require_ref, struct intake *out,
    struct field_errors *fe)
{
	long long wanted;
	int bad = 0, rc;

	bad |= jf_only(obj, "", intake_keys, fe) != 0;
	bad |= read_ref(obj, require_ref, fe) != 0;
	bad |=
	    jf_tag(obj, "population", "population", v, VOCAB_POPULATIONS, &out->population, fe) < 0;
	bad |= jf_languages(obj, "languages", "languages", out->languages, &out->n_languages,
	           PROFILE_MAX_LANGS, fe) < 0;
	bad |= read_concerns(obj, v, out, fe) != 0;
	bad |= read_modalities(obj, v, out, fe) != 0;
	bad |= jf_tags_mask(obj, "formats", "formats", v, VOCAB_FORMATS, &out->formats, fe) < 0;
	bad |= read_sites(obj, out, fe) != 0;
	bad |= read_gender(obj, out, fe) != 0;
	bad |= read_identity(obj, v, out, fe) != 0;
	bad |= read_style(obj, out, fe) != 0;
	bad |= jf_availability(obj, "availability", "availability", &out->availability, fe) < 0;
	rc = jf_int(obj, "wanted_hours", "wanted_hours", 0, 168, &wanted, fe);
	bad |= rc < 0;
	if (rc == 1)
		out->wanted_hours = (uint8_t)wanted;
	bad |= read_payment(obj, out, fe) != 0;
	bad |= read_excludes(obj, out, fe) != 0;
	return bad ? -1 : 0;
}

int
intake_from_json(const json_t *obj, const struct vocab *v, bool require_ref, struct intake *out,
    struct field_errors *fe)
{
	const char *bad_field = NULL;

	intake_init(out);
	if (!json_is_object(obj)) {
		field_error(fe, "", "must be an object");
		return -1;
	}
	out->in_person_format = vocab_lookup(v, VOCAB_FORMATS, "in_person");
	if (read_top(obj, v, require_ref, out, fe) != 0) {
		/* A reader that refused without a word (an add that failed) must
		 * still leave a reason. */
		if (!field_errors_any(fe))
			field_error(fe, "", "invalid intake");
		return -1;
	}
	/* The engine's own consistency check; the readers above should make it
	 * unreachable, but a disagreement must be a 422, never a bad match. */
	if (intake_validate(out, &bad_field) != 0) {
		field_error(fe, bad_field, "is not valid");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The stored form */

/* VAL when it is a plain value (a scalar or an array of scalars), copied. */
static json_t *
stored_plain(const json_t *val)
{
	const json_t *item;
	size_t i;

	if (json_is_object(val))
		return NULL;
	json_array_foreach (val, i, item)
		if (json_is_object(item) || json_is_array(item))
			return NULL;
	return json_deep_copy(val);
}

/* OBJ with only the KEYS, their values plain and never null. */
static json_t *
stored_object(const json_t *obj, const char *const *keys)
{
	json_t *out = json_is_object(obj) ? json_object() : NULL;

	for (; out != NULL && *keys != NULL; keys++) {
		const json_t *val = json_object_get(obj, *keys);

		if (val == NULL || json_is_null(val))
			continue;
		if (json_object_set_new(out, *keys, stored_plain(val)) != 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* A field's value: plain, or an object / array of objects with KEYS only. */
static json_t *
stored_value(const json_t *val, const char *const *keys)
{
	const json_t *item;
	json_t *out;
	size_t i;

	if (keys == NULL)
		return stored_plain(val);
	if (!json_is_array(val))
		return stored_object(val, keys);
	out = json_array();
	json_array_foreach (val, i, item)
		if (out == NULL || json_array_append_new(out, stored_object(item, keys)) != 0) {
			json_decref(out);
			return NULL;
		}
	return out;
}

json_t *
intake_json_stored(const json_t *obj)
{
	json_t *out = json_is_object(obj) ? json_object() : NULL;
	size_t i;

	for (i = 0; out != NULL && i < sizeof(stored_fields) / sizeof(stored_fields[0]); i++) {
		const json_t *val = json_object_get(obj, stored_fields[i].key);

		if (val == NULL || json_is_null(val))
			continue;
		if (json_object_set_new(out, stored_fields[i].key,
		        stored_value(val, stored_fields[i].keys)) != 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}
