/*
 * therapist_json.c - the therapist object in and out of JSON (see
 * therapist_json.h).  Every bad field is named, so an intake system fixes a
 * profile in one round.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "codec/therapist_json.h"

/* The fields of the API's therapist object; the database's object adds "id". */
static const char *const request_fields[] = { "external_ref", "display_name", "gender", "languages",
	"concerns", "modalities", "formats", "sites", "populations", "identity", "style",
	"availability", "payers", "self_pay_fee", "sliding_scale", "capacity", "accepting_new",
	"active", NULL };
static const char *const stored_fields[] = { "id", "external_ref", "display_name", "gender",
	"languages", "concerns", "modalities", "formats", "sites", "populations", "identity",
	"style", "availability", "payers", "self_pay_fee", "sliding_scale", "capacity",
	"accepting_new", "active", NULL };
static const char *const style_fields[] = { "directiveness", "emotional_intensity",
	"past_orientation", "challenge", NULL };

/* Defaults of the optional fields: what "left out" (PUT) and null (PATCH) mean. */
static const struct {
	const char *key;
	char kind; /* n null, a [], o {}, t true, f false, c default capacity */
} defaults[] = {
	{ "gender", 'n' },
	{ "languages", 'a' },
	{ "concerns", 'o' },
	{ "modalities", 'a' },
	{ "formats", 'a' },
	{ "sites", 'a' },
	{ "populations", 'a' },
	{ "identity", 'a' },
	{ "style", 'o' },
	{ "availability", 'a' },
	{ "payers", 'a' },
	{ "self_pay_fee", 'n' },
	{ "sliding_scale", 'f' },
	{ "capacity", 'c' },
	{ "accepting_new", 't' },
	{ "active", 't' },
};

static json_t *
default_value(char kind)
{
	switch (kind) {
	case 'a': return json_array();
	case 'o': return json_object();
	case 't': return json_true();
	case 'f': return json_false();
	case 'c': return json_integer(THERAPIST_DEFAULT_CAPACITY);
	default: return json_null();
	}
}

/* "a, b, c" (truncated with "..." when long). */
static void
allowed_list(const struct vocab *v, enum vocab_kind kind, char *buf, size_t len)
{
	size_t used = 0;
	int i, n = vocab_count(v, kind);

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		int w =
		    snprintf(buf + used, len - used, "%s%s", i ? ", " : "", vocab_name(v, kind, i));

		if (w < 0 || (size_t)w >= len - used) {
			snprintf(buf + len - 5, 5, "...");
			return;
		}
		used += (size_t)w;
	}
}

/* external_ref and display_name: required in FULL mode, never null. */
static int
required_string(const json_t *obj, const char *key, size_t maxlen, enum therapist_json_mode mode,
    struct field_errors *fe)
{
	const json_t *val = json_object_get(obj, key);
	const char *s = NULL;

	if (val == NULL && mode == THERAPIST_PATCH)
		return 0;
	if (val == NULL || json_is_null(val)) {
		field_error(fe, key, val == NULL ? "is required" : "must not be null");
		return -1;
	}
	return jf_string(obj, key, key, maxlen, &s, fe) == 1 ? 0 : -1;
}

/* A free label: no blank at either end (the database refuses those too). */
static int
label_ok(const char *s, const char *path, struct field_errors *fe)
{
	size_t n = strlen(s);

	if (isspace((unsigned char)s[0]) || isspace((unsigned char)s[n - 1])) {
		field_error(fe, path, "must not begin or end with a blank");
		return -1;
	}
	return 0;
}

static int
read_gender(const json_t *obj, struct therapist_profile *out, struct field_errors *fe)
{
	const char *s = NULL;
	int rc = jf_string(obj, "gender", "gender", THERAPIST_LABEL_MAX, &s, fe);

	if (rc != 1)
		return rc < 0 ? -1 : 0;
	if (label_ok(s, "gender", fe) != 0)
		return -1;
	return profile_set_gender(out, s) == 0 ? 0 : -1;
}

/* sites / payers: short labels, at most max. */
static int
read_labels(const json_t *obj, const char *key, size_t max, struct therapist_profile *out,
    struct field_errors *fe)
{
	const char *items[PROFILE_MAX_PAYERS];
	char path[64];
	size_t i, n = 0;
	int rc, bad = 0;

	rc = jf_strings(obj, key, key, THERAPIST_LABEL_MAX, items, max, &n, fe);
	if (rc != 1)
		return rc < 0 ? -1 : 0;
	for (i = 0; i < n; i++) {
		if (label_ok(items[i], jf_index_path(path, sizeof(path), key, i), fe) != 0) {
			bad = 1;
			continue;
		}
		if ((strcmp(key, "sites") == 0 ? profile_add_site(out, items[i])
		                               : profile_add_payer(out, items[i])) != 0)
			bad = 1;
	}
	return bad ? -1 : 0;
}

/* A tag list; LENIENT (stored objects) skips tags the vocabulary lacks. */
static int
read_tags(const json_t *obj, const char *key, const struct vocab *v, enum vocab_kind kind,
    bool lenient, struct tagset *out, struct field_errors *fe)
{
	const json_t *arr = NULL, *item;
	struct tagset set;
	size_t i;
	int rc;

	if (!lenient) {
		rc = jf_tags(obj, key, key, v, kind, out, fe);
		return rc < 0 ? -1 : 0;
	}
	rc = jf_array(obj, key, key, 1024, &arr, fe);
	if (rc != 1)
		return rc < 0 ? -1 : 0;
	tagset_clear(&set);
	json_array_foreach (arr, i, item) {
		int idx =
		    json_is_string(item) ? vocab_lookup(v, kind, json_string_value(item)) : -1;

		if (idx >= 0)
			tagset_add(&set, idx);
	}
	*out = set;
	return 0;
}

static int
read_mask(const json_t *obj, const char *key, const struct vocab *v, enum vocab_kind kind,
    bool lenient, uint64_t *out, struct field_errors *fe)
{
	struct tagset set;

	tagset_clear(&set);
	if (read_tags(obj, key, v, kind, lenient, &set, fe) != 0)
		return -1;
	*out = set.w[0]; /* narrow kinds have at most 64 tags */
	return 0;
}

/* {"trauma": 2, "anxiety": 1}: concern tags rated 1 (experienced) or 2 (specialist). */
static int
read_concerns(const json_t *obj, const struct vocab *v, bool lenient, struct therapist_profile *out,
    struct field_errors *fe)
{
	const json_t *c = NULL, *val;
	const char *key;
	char path[96], allowed[400];
	int rc = jf_object(obj, "concerns", "concerns", &c, fe), bad = 0;

	if (rc != 1)
		return rc < 0 ? -1 : 0;
	json_object_foreach ((json_t *)c, key, val) {
		int idx = vocab_lookup(v, VOCAB_CONCERNS, key);

		/* Keys that are not tag-shaped are named by position only: the path
		 * must stay short and valid UTF-8. */
		if (vocab_valid_name(key))
			jf_path(path, sizeof(path), "concerns", key);
		else
			snprintf(path, sizeof(path), "concerns");
		if (idx < 0) {
			if (lenient)
				continue;
			allowed_list(v, VOCAB_CONCERNS, allowed, sizeof(allowed));
			if (vocab_valid_name(key))
				field_error(fe, path, "unknown concerns tag \"%s\"; allowed: %s",
				    key, allowed);
			else
				field_error(fe, path, "keys must be concerns tags; allowed: %s",
				    allowed);
			bad = 1;
			continue;
		}
		if (!json_is_integer(val) || json_integer_value(val) < 1 ||
		    json_integer_value(val) > 2) {
			field_error(fe, path, "must be 1 (experienced) or 2 (specialist)");
			bad = 1;
			continue;
		}
		profile_set_concern(out, idx, (enum concern_level)json_integer_value(val));
	}
	return bad ? -1 : 0;
}

static int
read_style(const json_t *obj, struct therapist_profile *out, struct field_errors *fe)
{
	const json_t *st = NULL;
	char path[64];
	int rc = jf_object(obj, "style", "style", &st, fe), bad = 0, a;

	if (rc != 1)
		return rc < 0 ? -1 : 0;
	if (jf_only(st, "style", style_fields, fe) != 0)
		bad = 1;
	for (a = 0; a < STYLE_AXES; a++) {
		long long x;
		const char *name = style_axis_name((enum style_axis)a);

		rc = jf_int(st, name, jf_path(path, sizeof(path), "style", name), -3, 3, &x, fe);
		if (rc < 0)
			bad = 1;
		else if (rc == 1)
			out->style[a] = (int8_t)x;
	}
	return bad ? -1 : 0;
}

static int
read_scalars(const json_t *obj, struct therapist_profile *out, struct field_errors *fe)
{
	long long cap;
	double fee;
	int bad = 0, rc;

	rc = jf_number(obj, "self_pay_fee", "self_pay_fee", 0, THERAPIST_FEE_MAX, 0.01, &fee, fe);
	if (rc < 0)
		bad = 1;
	else if (rc == 1)
		/* Whole units up: a fee of 150.50 is above a maximum of 150. */
		out->self_pay_fee = (uint16_t)ceil(fee - 1e-9);
	rc = jf_int(obj, "capacity", "capacity", 0, THERAPIST_CAPACITY_MAX, &cap, fe);
	if (rc < 0)
		bad = 1;
	else if (rc == 1)
		out->capacity = (uint16_t)cap;
	if (jf_bool(obj, "sliding_scale", "sliding_scale", &out->sliding_scale, fe) < 0)
		bad = 1;
	if (jf_bool(obj, "accepting_new", "accepting_new", &out->accepting_new, fe) < 0)
		bad = 1;
	if (jf_bool(obj, "active", "active", &out->active, fe) < 0)
		bad = 1;
	return bad ? -1 : 0;
}

int
therapist_from_json(const json_t *obj, enum therapist_json_mode mode, const struct vocab *v,
    struct therapist_profile *out, bool *has_avail, struct field_errors *fe)
{
	bool lenient = mode == THERAPIST_STORED;
	int bad = 0;

	therapist_profile_init(out, 0);
	out->capacity = THERAPIST_DEFAULT_CAPACITY;
	out->accepting_new = true;
	out->active = true;
	if (has_avail != NULL)
		*has_avail = false;
	if (!json_is_object(obj)) {
		field_error(fe, "", "must be an object");
		return -1;
	}
	if (jf_only(obj, "", lenient ? stored_fields : request_fields, fe) != 0)
		bad = 1;
	if (mode == THERAPIST_PATCH && json_object_size(obj) == 0) {
		field_error(fe, "", "must name at least one field");
		bad = 1;
	}
	if (mode == THERAPIST_STORED) {
		long long id = 0;
		int rc = jf_int(obj, "id", "id", 1, UINT32_MAX, &id, fe);

		if (rc == 0)
			field_error(fe, "id", "is required");
		bad |= rc != 1;
		out->id = (uint32_t)id;
	}
	bad |= required_string(obj, "external_ref", THERAPIST_REF_MAX, mode, fe) != 0;
	bad |= required_string(obj, "display_name", THERAPIST_NAME_MAX, mode, fe) != 0;
	bad |= read_gender(obj, out, fe) != 0;
	bad |= jf_languages(obj, "languages", "languages", out->languages, &out->n_languages,
	           PROFILE_MAX_LANGS, fe) < 0;
	bad |= read_concerns(obj, v, lenient, out, fe) != 0;
	bad |=
	    read_tags(obj, "modalities", v, VOCAB_MODALITIES, lenient, &out->modalities, fe) != 0;
	bad |= read_mask(obj, "formats", v, VOCAB_FORMATS, lenient, &out->formats, fe) != 0;
	bad |= read_mask(obj, "populations", v, VOCAB_POPULATIONS, lenient, &out->populations,
	           fe) != 0;
	bad |= read_mask(obj, "identity", v, VOCAB_IDENTITY, lenient, &out->identity, fe) != 0;
	bad |= read_labels(obj, "sites", PROFILE_MAX_SITES, out, fe) != 0;
	bad |= read_labels(obj, "payers", PROFILE_MAX_PAYERS, out, fe) != 0;
	bad |= read_style(obj, out, fe) != 0;
	bad |= jf_availability(obj, "availability", "availability", &out->availability, fe) < 0;
	if (has_avail != NULL)
		*has_avail = json_object_get(obj, "availability") != NULL;
	bad |= read_scalars(obj, out, fe) != 0;
	/* A field_error that could not be recorded must still refuse the object. */
	if (bad && !field_errors_any(fe))
		field_error(fe, "", "invalid therapist");
	return bad ? -1 : 0;
}

json_t *
therapist_json_canonical(const json_t *obj, enum therapist_json_mode mode)
{
	json_t *out = json_object();
	size_t i;

	if (out == NULL)
		return NULL;
	if (mode != THERAPIST_PATCH || json_object_get(obj, "external_ref") != NULL)
		json_object_set(out, "external_ref", json_object_get(obj, "external_ref"));
	if (mode != THERAPIST_PATCH || json_object_get(obj, "display_name") != NULL)
		json_object_set(out, "display_name", json_object_get(obj, "display_name"));
	for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		json_t *val = json_object_get(obj, defaults[i].key);

		if (val == NULL && mode == THERAPIST_PATCH)
			continue;
		if (json_object_set_new(out, defaults[i].key,
		        val == NULL || json_is_null(val) ? default_value(defaults[i].kind)
		                                         : json_incref(val)) != 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

void
therapist_avail_bits(const struct avail *a, char out[169])
{
	int i;

	for (i = 0; i < 168; i++)
		out[i] = (a->w[i >> 6] >> (i & 63)) & 1 ? '1' : '0';
	out[168] = '\0';
}

int
therapist_avail_from_bits(const char *bits, struct avail *a)
{
	int i;

	avail_clear(a);
	for (i = 0; i < 168; i++) {
		if (bits[i] == '1')
			a->w[i >> 6] |= UINT64_C(1) << (i & 63);
		else if (bits[i] != '0')
			goto bad;
	}
	if (bits[168] == '\0')
		return 0;
bad:
	avail_clear(a);
	return -1;
}
