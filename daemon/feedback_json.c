/*
 * feedback_json.c - feedback JSON <-> struct feedback, through the engine's
 * instrument tables so that names, ranges and steps live in one place.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedback_json.h"

static const char *const feedback_fields[] = {
	"session", "instrument", "items", "flags", "negative_feelings", "occurred_at", NULL
};

/* The engine's own rule, for one item: in range and on the step. */
static bool
item_ok(enum instrument in, double v)
{
	double min, max, step;

	instrument_item_range(in, &min, &max, &step);
	if (!(v >= min && v <= max))
		return false;
	return step <= 0 || fabs(v / step - round(v / step)) < 1e-6;
}

static void
item_error(enum instrument in, const char *path, struct field_errors *fe)
{
	struct feedback_error err;
	char msg[128];

	memset(&err, 0, sizeof(err));
	err.kind = FBE_RANGE;
	instrument_item_range(in, &err.min, &err.max, &err.step);
	feedback_error_message(&err, msg, sizeof(msg));
	field_error(fe, path, "%s", msg);
}

static void
read_items(const json_t *items, enum instrument in, struct feedback *fb, struct field_errors *fe)
{
	const char *key;
	json_t *val;
	char path[96];
	int i, n = instrument_item_count(in);

	json_object_foreach((json_t *)items, key, val) {
		int idx = instrument_item_index(in, key);

		jf_path(path, sizeof(path), "items", key);
		if (idx < 0) {
			field_error(fe, path, "unknown item of %s", instrument_name(in));
			continue;
		}
		if (!json_is_number(val) || !item_ok(in, json_number_value(val))) {
			item_error(in, path, fe);
			continue;
		}
		fb->items[idx] = json_number_value(val);
		fb->items_present |= (uint16_t)(1u << idx);
	}
	for (i = 0; i < n; i++) {
		if (fb->items_present & (1u << i))
			continue;
		if (json_object_get(items, instrument_item_name(in, i)) != NULL)
			continue;	/* present but bad: already reported */
		field_error(fe, jf_path(path, sizeof(path), "items", instrument_item_name(in, i)),
		    "is required");
	}
}

static void
read_flags(const json_t *flags, struct feedback *fb, struct field_errors *fe)
{
	const char *key;
	json_t *val;
	char path[96];

	json_object_foreach((json_t *)flags, key, val) {
		int f = feedback_flag_index(key);
		bool on;

		jf_path(path, sizeof(path), "flags", key);
		if (f < 0) {
			field_error(fe, path, "unknown flag; allowed: judged, boundaries, unheard, "
			    "dread, unsafe, misunderstood");
			continue;
		}
		if (jf_bool(flags, key, path, &on, fe) == 1 && on)
			fb->flags |= (uint8_t)(1u << f);
	}
}

int
feedback_from_json(const json_t *obj, struct feedback_request *out, struct field_errors *fe)
{
	const json_t *items = NULL, *flags = NULL;
	const char *name = NULL;
	long long session = 0, neg = 0;
	int instr = -1, got;
	struct feedback_error err;

	memset(out, 0, sizeof(*out));
	if (jf_only(obj, "", feedback_fields, fe) < 0 && !json_is_object(obj))
		return -1;
	got = jf_int(obj, "session", "session", 1, FEEDBACK_MAX_SESSION, &session, fe);
	if (got == 0)
		field_error(fe, "session", "is required");
	got = jf_string(obj, "instrument", "instrument", 32, &name, fe);
	if (got == 0)
		field_error(fe, "instrument", "is required");
	else if (got == 1 && (instr = instrument_lookup(name)) < 0)
		field_error(fe, "instrument", "must be one of alliance5, srs, wai_sr, ors");
	got = jf_object(obj, "items", "items", &items, fe);
	if (got == 0)
		field_error(fe, "items", "is required");
	if (items != NULL && instr >= 0) {
		out->fb.instrument = (enum instrument)instr;
		read_items(items, out->fb.instrument, &out->fb, fe);
	}
	if (jf_object(obj, "flags", "flags", &flags, fe) == 1)
		read_flags(flags, &out->fb, fe);
	if (jf_int(obj, "negative_feelings", "negative_feelings", 0, 10, &neg, fe) == 1) {
		out->fb.has_negative_feelings = true;
		out->fb.negative_feelings = (double)neg;
	}
	if (jf_string(obj, "occurred_at", "occurred_at", 64, &out->occurred_at, fe) == 1 &&
	    !rfc3339_valid(out->occurred_at))
		field_error(fe, "occurred_at",
		    "must be an RFC 3339 date-time such as 2026-11-20T17:00:00Z");
	out->fb.session = (uint32_t)session;
	if (field_errors_any(fe))
		return -1;
	/* The engine has the last word (a check added there must not be bypassed). */
	if (feedback_validate(&out->fb, &err) != 0) {
		char msg[128];

		feedback_error_message(&err, msg, sizeof(msg));
		field_error(fe, err.field[0] ? err.field : "", "%s", msg);
		return -1;
	}
	return 0;
}

static json_t *
number_json(double v)
{
	/* Items are integers or one decimal: keep integers integral in storage. */
	if (v == floor(v) && fabs(v) < 1e9)
		return json_integer((json_int_t)v);
	return json_real(round(v * 10.0) / 10.0);
}

json_t *
feedback_items_json(const struct feedback *fb)
{
	json_t *o = json_object();
	int i, n = instrument_item_count(fb->instrument);

	if (o == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if ((fb->items_present & (1u << i)) &&
		    json_object_set_new(o, instrument_item_name(fb->instrument, i),
			number_json(fb->items[i])) != 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

json_t *
feedback_flags_json(const struct feedback *fb)
{
	json_t *o = json_object();
	int f;

	if (o == NULL)
		return NULL;
	for (f = 0; f < FLAG_COUNT; f++)
		if ((fb->flags & (1u << f)) &&
		    json_object_set_new(o, feedback_flag_name((enum feedback_flag)f),
			json_true()) != 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

int
feedback_from_row(uint32_t session, const char *instrument, const char *items,
		  const char *flags, const char *negative_feelings, struct feedback *out)
{
	json_t *it = NULL, *fl = NULL, *val;
	const char *key;
	int instr = instrument ? instrument_lookup(instrument) : -1;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (instr < 0 || items == NULL)
		return -1;
	out->session = session;
	out->instrument = (enum instrument)instr;
	it = json_loads(items, 0, NULL);
	if (!json_is_object(it))
		goto done;
	json_object_foreach(it, key, val) {
		int idx = instrument_item_index(out->instrument, key);

		if (idx < 0 || !json_is_number(val))
			goto done;
		out->items[idx] = json_number_value(val);
		out->items_present |= (uint16_t)(1u << idx);
	}
	if (flags != NULL && flags[0] != '\0') {
		fl = json_loads(flags, 0, NULL);
		if (!json_is_object(fl))
			goto done;
		json_object_foreach(fl, key, val) {
			int f = feedback_flag_index(key);

			if (f < 0 || !json_is_boolean(val))
				goto done;
			if (json_is_true(val))
				out->flags |= (uint8_t)(1u << f);
		}
	}
	if (negative_feelings != NULL && negative_feelings[0] != '\0') {
		out->has_negative_feelings = true;
		out->negative_feelings = strtod(negative_feelings, NULL);
	}
	rc = feedback_validate(out, NULL) == 0 ? 0 : -1;
done:
	json_decref(it);
	json_decref(fl);
	return rc;
}

/* n digits at s. */
static bool
digits(const char *s, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

bool
rfc3339_valid(const char *s)
{
	const char *p = s;
	int mon, day, hh, mm, ss;

	/* YYYY-MM-DDTHH:MM:SS */
	if (strlen(s) < 20 || !digits(p, 4) || p[4] != '-' || !digits(p + 5, 2) || p[7] != '-' ||
	    !digits(p + 8, 2) || (p[10] != 'T' && p[10] != 't') || !digits(p + 11, 2) ||
	    p[13] != ':' || !digits(p + 14, 2) || p[16] != ':' || !digits(p + 17, 2))
		return false;
	mon = atoi(p + 5);
	day = atoi(p + 8);
	hh = atoi(p + 11);
	mm = atoi(p + 14);
	ss = atoi(p + 17);
	if (mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
		return false;
	p += 19;
	if (*p == '.') {
		int n = 0;

		for (p++; isdigit((unsigned char)*p); p++)
			n++;
		if (n == 0 || n > 9)
			return false;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		return true;
	if ((*p == '+' || *p == '-') && digits(p + 1, 2) && p[3] == ':' && digits(p + 4, 2) &&
	    p[6] == '\0')
		return atoi(p + 1) <= 23 && atoi(p + 4) <= 59;
	return false;
}
