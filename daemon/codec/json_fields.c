/*
 * json_fields.c - typed field readers that collect errors instead of
 * stopping at the first: an intake system fixes a request in one round.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec/json_fields.h"

void
field_errors_init(struct field_errors *fe)
{
	fe->errors = NULL;
	fe->lost = false;
}

void
field_errors_clear(struct field_errors *fe)
{
	json_decref(fe->errors);
	fe->errors = NULL;
	fe->lost = false;
}

bool
field_errors_any(const struct field_errors *fe)
{
	return fe->lost || (fe->errors != NULL && json_array_size(fe->errors) > 0);
}

json_t *
field_errors_take(struct field_errors *fe)
{
	json_t *e = fe->errors ? fe->errors : json_array();

	/* Static ASCII strings: this entry cannot fail the way the lost one did
	 * (short of memory, and then the caller's answer is still a refusal). */
	if (fe->lost && e != NULL)
		json_array_append_new(e,
		    json_pack("{s:s, s:s}", "field", "", "message",
		        "invalid input (an error could not be described)"));
	fe->errors = NULL;
	fe->lost = false;
	return e;
}

void
jf_utf8_trim(char *s)
{
	size_t n = strlen(s), lead = n, need;
	unsigned char c;

	while (lead > 0 && n - lead < 4 && ((unsigned char)s[lead - 1] & 0xC0) == 0x80)
		lead--;
	if (lead == 0)
		return; /* no lead byte: not UTF-8 to begin with */
	c = (unsigned char)s[lead - 1];
	need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
	if (n - (lead - 1) < need)
		s[lead - 1] = '\0';
}

void
field_error(struct field_errors *fe, const char *path, const char *fmt, ...)
{
	char msg[512], field[512];
	json_t *e;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(field, sizeof(field), "%s", path);
	/* json_string refuses invalid UTF-8, which a cut in the middle of a
	 * character is: cut before it instead. */
	jf_utf8_trim(msg);
	jf_utf8_trim(field);
	if (fe->errors == NULL)
		fe->errors = json_array();
	e = json_pack("{s:s, s:s}", "field", field, "message", msg);
	if (fe->errors == NULL || e == NULL || json_array_append_new(fe->errors, e) != 0)
		fe->lost = true; /* append_new has freed e on failure */
}

const char *
jf_path(char *buf, size_t len, const char *prefix, const char *key)
{
	if (prefix == NULL || prefix[0] == '\0')
		snprintf(buf, len, "%s", key);
	else
		snprintf(buf, len, "%s.%s", prefix, key);
	jf_utf8_trim(buf);
	return buf;
}

const char *
jf_index_path(char *buf, size_t len, const char *prefix, size_t i)
{
	snprintf(buf, len, "%s[%zu]", prefix, i);
	jf_utf8_trim(buf);
	return buf;
}

int
jf_only(const json_t *obj, const char *prefix, const char *const *allowed, struct field_errors *fe)
{
	const char *key;
	json_t *val;
	char path[256];
	int bad = 0;

	if (!json_is_object(obj)) {
		field_error(fe, prefix && prefix[0] ? prefix : "", "must be an object");
		return -1;
	}
	json_object_foreach ((json_t *)obj, key, val) {
		const char *const *a;

		(void)val;
		for (a = allowed; *a != NULL; a++)
			if (strcmp(*a, key) == 0)
				break;
		if (*a == NULL) {
			field_error(fe, jf_path(path, sizeof(path), prefix, key), "unknown field");
			bad = -1;
		}
	}
	return bad;
}

/* The value of key, NULL when absent or JSON null. */
static const json_t *
get(const json_t *obj, const char *key)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_null(v) ? NULL : v;
}

int
jf_string(const json_t *obj, const char *key, const char *path, size_t maxlen, const char **out,
    struct field_errors *fe)
{
	const json_t *v = get(obj, key);
	size_t n;

	if (v == NULL)
		return 0;
	if (!json_is_string(v)) {
		field_error(fe, path, "must be a string");
		return -1;
	}
	n = json_string_length(v);
	if (n == 0 || n > maxlen || strlen(json_string_value(v)) != n) {
		field_error(fe, path, "must be 1 to %zu characters", maxlen);
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

int
jf_int(const json_t *obj, const char *key, const char *path, long long min, long long max,
    long long *out, struct field_errors *fe)
{
	const json_t *v = get(obj, key);
	long long x;

	if (v == NULL)
		return 0;
	if (!json_is_integer(v)) {
		field_error(fe, path, "must be an integer between %lld and %lld", min, max);
		return -1;
	}
	x = json_integer_value(v);
	if (x < min || x > max) {
		field_error(fe, path, "must be between %lld and %lld", min, max);
		return -1;
	}
	*out = x;
	return 1;
}

int
jf_number(const json_t *obj, const char *key, const char *path, double min, double max, double step,
    double *out, struct field_errors *fe)
{
	const json_t *v = get(obj, key);
	double x;

	if (v == NULL)
		return 0;
	if (!json_is_number(v)) {
		field_error(fe, path, "must be a number between %g and %g", min, max);
		return -1;
	}
	x = json_number_value(v);
	if (!isfinite(x) || x < min || x > max) {
		field_error(fe, path, "must be between %g and %g", min, max);
		return -1;
	}
	if (step > 0 && fabs(x / step - round(x / step)) > 1e-6) {
		field_error(fe, path, "must be between %g and %g in steps of %g", min, max, step);
		return -1;
	}
	*out = x;
	return 1;
}

int
jf_bool(const json_t *obj, const char *key, const char *path, bool *out, struct field_errors *fe)
{
	const json_t *v = get(obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		field_error(fe, path, "must be true or false");
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

int
jf_object(const json_t *obj, const char *key, const char *path, const json_t **out,
    struct field_errors *fe)
{
	const json_t *v = get(obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_object(v)) {
		field_error(fe, path, "must be an object");
		return -1;
	}
	*out = v;
	return 1;
}

int
jf_array(const json_t *obj, const char *key, const char *path, size_t max_items, const json_t **out,
    struct field_errors *fe)
{
	const json_t *v = get(obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_array(v)) {
		field_error(fe, path, "must be an array");
		return -1;
	}
	if (json_array_size(v) > max_items) {
		field_error(fe, path, "must have at most %zu items", max_items);
		return -1;
	}
	*out = v;
	return 1;
}

json_t *
jf_vocab_list(const struct vocab *v, enum vocab_kind kind)
{
	json_t *a = json_array();
	int i, n = vocab_count(v, kind);

	for (i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_string(vocab_name(v, kind, i)));
	return a;
}

/* "unknown concerns tag \"x\"; allowed: anxiety, depression, ..." */
static void
unknown_tag(struct field_errors *fe, const char *path, const struct vocab *v, enum vocab_kind kind,
    const char *name)
{
	char allowed[400], shown[49];
	size_t used = 0;
	int i, n = vocab_count(v, kind);

	allowed[0] = '\0';
	for (i = 0; i < n && used + 4 < sizeof(allowed); i++) {
		int w = snprintf(allowed + used, sizeof(allowed) - used, "%s%s", i ? ", " : "",
		    vocab_name(v, kind, i));

		if (w < 0 || (size_t)w >= sizeof(allowed) - used) {
			snprintf(allowed + sizeof(allowed) - 5, 5, "...");
			break;
		}
		used += (size_t)w;
	}
	/* At most 48 bytes of the client's string, cut between characters. */
	snprintf(shown, sizeof(shown), "%s", name);
	jf_utf8_trim(shown);
	field_error(fe, path, "unknown %s tag \"%s\"; allowed: %s", vocab_kind_name(kind), shown,
	    allowed);
}

static int
tag_index(const json_t *item, const char *path, const struct vocab *v, enum vocab_kind kind,
    struct field_errors *fe)
{
	int idx;

	if (!json_is_string(item)) {
		field_error(fe, path, "must be a string (a %s tag)", vocab_kind_name(kind));
		return -1;
	}
	idx = vocab_lookup(v, kind, json_string_value(item));
	if (idx < 0)
		unknown_tag(fe, path, v, kind, json_string_value(item));
	return idx;
}

int
jf_tag(const json_t *obj, const char *key, const char *path, const struct vocab *v,
    enum vocab_kind kind, int *out, struct field_errors *fe)
{
	const json_t *item = get(obj, key);
	int idx;

	if (item == NULL)
		return 0;
	idx = tag_index(item, path, v, kind, fe);
	if (idx < 0)
		return -1;
	*out = idx;
	return 1;
}

int
jf_tags(const json_t *obj, const char *key, const char *path, const struct vocab *v,
    enum vocab_kind kind, struct tagset *out, struct field_errors *fe)
{
	const json_t *arr = NULL, *item;
	struct tagset set;
	char ipath[256];
	size_t i;
	int rc = jf_array(obj, key, path, (size_t)vocab_capacity(kind), &arr, fe), bad = 0;

	if (rc <= 0)
		return rc;
	tagset_clear(&set);
	json_array_foreach (arr, i, item) {
		int idx =
		    tag_index(item, jf_index_path(ipath, sizeof(ipath), path, i), v, kind, fe);

		if (idx < 0) {
			bad = 1;
		} else if (tagset_has(&set, idx)) {
			field_error(fe, ipath, "duplicate tag \"%s\"", vocab_name(v, kind, idx));
			bad = 1;
		} else {
			tagset_add(&set, idx);
		}
	}
	if (bad)
		return -1;
	*out = set;
	return 1;
}

int
jf_tags_mask(const json_t *obj, const char *key, const char *path, const struct vocab *v,
    enum vocab_kind kind, uint64_t *out, struct field_errors *fe)
{
	struct tagset set;
	int rc = jf_tags(obj, key, path, v, kind, &set, fe);

	if (rc == 1)
		*out = set.w[0]; /* narrow kinds have at most 64 tags */
	return rc;
}

int
jf_languages(const json_t *obj, const char *key, const char *path, uint16_t *out, uint8_t *n,
    size_t max, struct field_errors *fe)
{
	const json_t *arr = NULL, *item;
	char ipath[256];
	size_t i, k = 0;
	int rc = jf_array(obj, key, path, max, &arr, fe), bad = 0;

	if (rc <= 0)
		return rc;
	json_array_foreach (arr, i, item) {
		const char *s = json_is_string(item) ? json_string_value(item) : NULL;
		uint16_t code;
		size_t j;

		jf_index_path(ipath, sizeof(ipath), path, i);
		if (s == NULL || strlen(s) != 2 || s[0] < 'a' || s[0] > 'z' || s[1] < 'a' ||
		    s[1] > 'z' || (code = lang_pack(s)) == 0) {
			field_error(fe, ipath, "must be an ISO 639-1 code: two lowercase letters");
			bad = 1;
			continue;
		}
		for (j = 0; j < k; j++)
			if (out[j] == code)
				break;
		if (j < k) {
			field_error(fe, ipath, "duplicate language \"%s\"", s);
			bad = 1;
			continue;
		}
		out[k++] = code;
	}
	if (bad)
		return -1;
	*n = (uint8_t)k;
	return 1;
}

/* "HH:00" -> HH (0..24); -1 otherwise. */
static int
parse_hour(const char *s)
{
	if (s == NULL || strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '2' || s[1] < '0' ||
	    s[1] > '9' || s[3] != '0' || s[4] != '0')
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0') <= 24 ? (s[0] - '0') * 10 + (s[1] - '0') : -1;
}

int
jf_availability(const json_t *obj, const char *key, const char *path, struct avail *out,
    struct field_errors *fe)
{
	static const char *const slot_keys[] = { "day", "from", "to", NULL };
	const json_t *arr = NULL, *slot;
	struct avail a;
	char ipath[256], fpath[300];
	size_t i;
	int rc = jf_array(obj, key, path, 7 * 24, &arr, fe), bad = 0;

	if (rc <= 0)
		return rc;
	avail_clear(&a);
	json_array_foreach (arr, i, slot) {
		const char *day = NULL, *from = NULL, *to = NULL;
		int d, f, t;

		jf_index_path(ipath, sizeof(ipath), path, i);
		if (jf_only(slot, ipath, slot_keys, fe) != 0) {
			bad = 1;
			continue;
		}
		jf_string(slot, "day", jf_path(fpath, sizeof(fpath), ipath, "day"), 3, &day, fe);
		d = day ? avail_day_index(day) : -1;
		if (d < 0) {
			field_error(fe, fpath, "must be one of mon, tue, wed, thu, fri, sat, sun");
			bad = 1;
		}
		jf_string(slot, "from", jf_path(fpath, sizeof(fpath), ipath, "from"), 5, &from, fe);
		f = parse_hour(from);
		if (f < 0 || f > 23) {
			field_error(fe, fpath,
			    "must be a whole hour \"HH:00\" from 00:00 to 23:00");
			bad = 1;
		}
		jf_string(slot, "to", jf_path(fpath, sizeof(fpath), ipath, "to"), 5, &to, fe);
		t = parse_hour(to);
		if (t < 1) {
			field_error(fe, fpath,
			    "must be a whole hour \"HH:00\" from 01:00 to 24:00");
			bad = 1;
		} else if (f >= 0 && t <= f) {
			field_error(fe, fpath, "must be later than from");
			bad = 1;
		}
		if (!bad && avail_add(&a, d, f, t) != 0)
			bad = 1;
	}
	if (bad)
		return -1;
	*out = a;
	return 1;
}

int
jf_strings(const json_t *obj, const char *key, const char *path, size_t maxlen, const char **out,
    size_t max, size_t *n, struct field_errors *fe)
{
	const json_t *arr = NULL, *item;
	char ipath[256];
	size_t i, j;
	int rc = jf_array(obj, key, path, max, &arr, fe), bad = 0;

	if (rc <= 0)
		return rc;
	json_array_foreach (arr, i, item) {
		const char *s = json_is_string(item) ? json_string_value(item) : NULL;

		jf_index_path(ipath, sizeof(ipath), path, i);
		if (s == NULL || s[0] == '\0' || json_string_length(item) > maxlen ||
		    strlen(s) != json_string_length(item)) {
			field_error(fe, ipath, "must be a string of 1 to %zu characters", maxlen);
			out[i] = NULL;
			bad = 1;
			continue;
		}
		for (j = 0; j < i; j++)
			if (out[j] != NULL && strcmp(out[j], s) == 0)
				break;
		if (j < i) {
			field_error(fe, ipath, "duplicate value \"%s\"", s);
			bad = 1;
		}
		out[i] = s;
	}
	if (bad)
		return -1;
	*n = json_array_size(arr);
	return 1;
}

int
json_parse_ids(const char *text, uint32_t *out, size_t max)
{
	json_t *a = json_loads(text, 0, NULL), *v;
	size_t i;
	int n = 0;

	if (!json_is_array(a)) {
		json_decref(a);
		return -1;
	}
	json_array_foreach (a, i, v) {
		json_int_t id = json_integer_value(v);

		if (id > 0 && id <= (json_int_t)UINT32_MAX && (size_t)n < max)
			out[n++] = (uint32_t)id;
	}
	json_decref(a);
	return n;
}
