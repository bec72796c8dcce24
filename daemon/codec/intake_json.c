/*
 * intake_json.c - the DESIGN.md intake object into struct intake.
 *
 * Every field is read with the json_fields readers so that one 422 names
 * every bad field at once; nested objects reject unknown keys too, so a typo
 * ("modalities.prefered") surfaces instead of silently meaning "no
 * preference".  Strings are copied into the intake (it owns nothing).
 */
#include <stdint.h>
#include <string.h>

#include "codec/intake_json.h"

#define REF_MAX_CHARS	128
#define SELF_PAY_MAX	1000000.0
/* JSON ids are exact up to 2^53 - 1 (the router's {id} takes 15 digits). */
#define ID_MAX		9007199254740991LL

static const char *const intake_keys[] = {
	"external_ref", "population", "languages", "concerns", "modalities", "formats",
	"sites", "gender", "identity", "style", "availability", "wanted_hours", "payment",
	"exclude_therapists", NULL
};
static const char *const concern_keys[] = {"tag", "priority", NULL};
static const char *const modality_keys[] = {"prefer", "avoid", "required", NULL};
static const char *const prefer_keys[] = {"prefer", "required", NULL};
static const char *const payment_keys[] = {"payer", "self_pay_max", NULL};

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

static size_t
n_errors(const struct field_errors *fe)
{
	return fe->errors != NULL ? json_array_size(fe->errors) : 0;
}

static void
read_ref(const json_t *obj, bool require_ref, struct field_errors *fe)
{
	const char *ref = NULL;
	int rc = jf_string(obj, "external_ref", "external_ref", REF_MAX_CHARS * 4, &ref, fe);

	if (rc == 0 && require_ref)
		field_error(fe, "external_ref", "is required");
	else if (rc == 1 && utf8_chars(ref) > REF_MAX_CHARS)
		field_error(fe, "external_ref", "must be 1 to %d characters", REF_MAX_CHARS);
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
		buf[0] = '\0';	/* never with the callers' buffers */
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

static void
read_concerns(const json_t *obj, const struct vocab *v, struct intake *out,
	      struct field_errors *fe)
{
	const json_t *arr = NULL, *item;
	struct tagset seen;
	char ipath[64], fpath[96];
	size_t i;

	if (jf_array(obj, "concerns", "concerns", INTAKE_MAX_CONCERNS, &arr, fe) <= 0)
		return;
	tagset_clear(&seen);
	json_array_foreach(arr, i, item) {
		long long prio = 0;
		int tag = -1, trc, prc;

		concern_path(ipath, sizeof(ipath), i, NULL);
		if (jf_only(item, ipath, concern_keys, fe) != 0 && !json_is_object(item))
			continue;
		trc = jf_tag(item, "tag", concern_path(fpath, sizeof(fpath), i, "tag"), v,
		    VOCAB_CONCERNS, &tag, fe);
		if (trc == 0) {
			field_error(fe, fpath, "is required");
		} else if (trc == 1 && tagset_has(&seen, tag)) {
			field_error(fe, fpath, "duplicate concern \"%s\"",
			    vocab_name(v, VOCAB_CONCERNS, tag));
			trc = -1;
		} else if (trc == 1) {
			tagset_add(&seen, tag);
		}
		prc = jf_int(item, "priority", concern_path(fpath, sizeof(fpath), i, "priority"),
		    1, 3, &prio, fe);
		if (prc == 0)
			field_error(fe, fpath, "is required");
		if (trc == 1 && prc == 1)
			intake_add_concern(out, tag, (int)prio);
	}
}

static void
read_modalities(const json_t *obj, const struct vocab *v, struct intake *out,
		struct field_errors *fe)
{
	const json_t *m = NULL, *avoid = NULL, *item;
	char ipath[64];
	size_t i;

	if (jf_object(obj, "modalities", "modalities", &m, fe) <= 0)
		return;
	jf_only(m, "modalities", modality_keys, fe);
	jf_tags(m, "prefer", "modalities.prefer", v, VOCAB_MODALITIES, &out->mod_prefer, fe);
	if (jf_tags(m, "avoid", "modalities.avoid", v, VOCAB_MODALITIES, &out->mod_avoid,
	    fe) == 1) {
		/* Preferring and avoiding one modality is a contradiction, not a wish. */
		avoid = json_object_get(m, "avoid");
		json_array_foreach(avoid, i, item) {
			int idx = vocab_lookup(v, VOCAB_MODALITIES, json_string_value(item));

			if (idx >= 0 && tagset_has(&out->mod_prefer, idx))
				field_error(fe, jf_index_path(ipath, sizeof(ipath),
				    "modalities.avoid", i), "\"%s\" is also in modalities.prefer",
				    json_string_value(item));
		}
	}
	jf_bool(m, "required", "modalities.required", &out->mod_required, fe);
}

static void
read_gender(const json_t *obj, struct intake *out, struct field_errors *fe)
{
	const json_t *g = NULL;
	const char *names[INTAKE_MAX_GENDERS];
	size_t n = 0, i;

	if (jf_object(obj, "gender", "gender", &g, fe) <= 0)
		return;
	jf_only(g, "gender", prefer_keys, fe);
	if (jf_strings(g, "prefer", "gender.prefer", PROFILE_STR_MAX - 1, names,
	    INTAKE_MAX_GENDERS, &n, fe) == 1)
		for (i = 0; i < n; i++)
			intake_add_gender(out, names[i]);
	jf_bool(g, "required", "gender.required", &out->gender_required, fe);
}

static void
read_identity(const json_t *obj, const struct vocab *v, struct intake *out,
	      struct field_errors *fe)
{
	const json_t *id = NULL;

	if (jf_object(obj, "identity", "identity", &id, fe) <= 0)
		return;
	jf_only(id, "identity", prefer_keys, fe);
	jf_tags_mask(id, "prefer", "identity.prefer", v, VOCAB_IDENTITY, &out->identity, fe);
	jf_bool(id, "required", "identity.required", &out->identity_required, fe);
}

static void
read_style(const json_t *obj, struct intake *out, struct field_errors *fe)
{
	static const char *const axes[] = {
		"directiveness", "emotional_intensity", "past_orientation", "challenge", NULL
	};
	static const char *const paths[] = {
		"style.directiveness", "style.emotional_intensity", "style.past_orientation",
		"style.challenge"
	};
	const json_t *s = NULL;
	int a;

	if (jf_object(obj, "style", "style", &s, fe) <= 0)
		return;
	jf_only(s, "style", axes, fe);
	_Static_assert(STYLE_AXES == 4, "one path per style axis");
	for (a = 0; a < STYLE_AXES; a++) {
		long long val;

		if (jf_int(s, axes[a], paths[a], -3, 3, &val, fe) == 1)
			intake_set_style(out, (enum style_axis)style_axis_index(axes[a]),
			    (int)val);
	}
}

static void
read_payment(const json_t *obj, struct intake *out, struct field_errors *fe)
{
	const json_t *p = NULL;
	const char *payer = NULL;
	double max;

	if (jf_object(obj, "payment", "payment", &p, fe) <= 0)
		return;
	jf_only(p, "payment", payment_keys, fe);
	if (jf_string(p, "payer", "payment.payer", PROFILE_STR_MAX - 1, &payer, fe) == 1)
		intake_set_payer(out, payer);
	/* Whole currency units: fees are compared in whole units in the catalog,
	 * and rounding down never admits a fee above what the client can pay. */
	if (jf_number(p, "self_pay_max", "payment.self_pay_max", 0, SELF_PAY_MAX, 0, &max,
	    fe) == 1)
		out->self_pay_max = (int32_t)max;
}

static void
read_excludes(const json_t *obj, struct intake *out, struct field_errors *fe)
{
	const json_t *arr = NULL, *item;
	char ipath[64];
	size_t i, j;

	if (jf_array(obj, "exclude_therapists", "exclude_therapists", INTAKE_MAX_EXCLUDE, &arr,
	    fe) <= 0)
		return;
	json_array_foreach(arr, i, item) {
		json_int_t id = json_is_integer(item) ? json_integer_value(item) : 0;

		jf_index_path(ipath, sizeof(ipath), "exclude_therapists", i);
		if (id < 1 || id > ID_MAX) {
			field_error(fe, ipath, "must be a therapist id (a positive integer)");
			continue;
		}
		for (j = 0; j < i; j++)
			if (json_integer_value(json_array_get(arr, j)) == id)
				break;
		if (j < i) {
			field_error(fe, ipath, "duplicate therapist id %lld", (long long)id);
			continue;
		}
		/* The engine's ids are 32-bit; a larger id names no therapist in
		 * the catalog, so there is nothing to exclude. */
		if (id <= (json_int_t)UINT32_MAX)
			intake_add_exclude(out, (uint32_t)id);
	}
}

int
intake_from_json(const json_t *obj, const struct vocab *v, bool require_ref,
		 struct intake *out, struct field_errors *fe)
{
	const char *sites[PROFILE_MAX_SITES];
	const char *bad_field = NULL;
	size_t errors_before = n_errors(fe);
	size_t n = 0, i;
	long long wanted;

	intake_init(out);
	if (!json_is_object(obj)) {
		field_error(fe, "", "must be an object");
		return -1;
	}
	jf_only(obj, "", intake_keys, fe);
	out->in_person_format = vocab_lookup(v, VOCAB_FORMATS, "in_person");

	read_ref(obj, require_ref, fe);
	jf_tag(obj, "population", "population", v, VOCAB_POPULATIONS, &out->population, fe);
	jf_languages(obj, "languages", "languages", out->languages, &out->n_languages,
	    PROFILE_MAX_LANGS, fe);
	read_concerns(obj, v, out, fe);
	read_modalities(obj, v, out, fe);
	jf_tags_mask(obj, "formats", "formats", v, VOCAB_FORMATS, &out->formats, fe);
	if (jf_strings(obj, "sites", "sites", PROFILE_STR_MAX - 1, sites, PROFILE_MAX_SITES,
	    &n, fe) == 1)
		for (i = 0; i < n; i++)
			intake_add_site(out, sites[i]);
	read_gender(obj, out, fe);
	read_identity(obj, v, out, fe);
	read_style(obj, out, fe);
	jf_availability(obj, "availability", "availability", &out->availability, fe);
	if (jf_int(obj, "wanted_hours", "wanted_hours", 0, 168, &wanted, fe) == 1)
		out->wanted_hours = (uint8_t)wanted;
	read_payment(obj, out, fe);
	read_excludes(obj, out, fe);

	/* The engine's own consistency check; the readers above should make it
	 * unreachable, but a disagreement must be a 422, never a bad match. */
	if (n_errors(fe) == errors_before && intake_validate(out, &bad_field) != 0)
		field_error(fe, bad_field, "is not valid");
	return n_errors(fe) > errors_before ? -1 : 0;
}
