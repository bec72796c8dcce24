/*
 * feedback_json.c - feedback JSON <-> struct feedback, through the engine's
 * instrument tables so that names, ranges and steps live in one place.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/feedback_json.h"

static const char *const feedback_fields[] = { "session", "instrument", "items", "flags",
	"negative_feelings", "occurred_at", NULL };

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

/* 0 when every item is known, valid and present; -1 otherwise. */
static int
read_items(const json_t *items, enum instrument in, struct feedback *fb, struct field_errors *fe)
{
	const char *key;
	json_t *val;
	char path[96];
	int i, n = instrument_item_count(in), bad = 0;

	json_object_foreach ((json_t *)items, key, val) {
		int idx = instrument_item_index(in, key);

		jf_path(path, sizeof(path), "items", key);
		if (idx < 0) {
			field_error(fe, path, "unknown item of %s", instrument_name(in));
			bad = 1;
			continue;
		}
		if (!json_is_number(val) || !item_ok(in, json_number_value(val))) {
			item_error(in, path, fe);
			bad = 1;
			continue;
		}
		fb->items[idx] = json_number_value(val);
		fb->items_present |= (uint16_t)(1u << idx);
	}
	for (i = 0; i < n; i++) {
		if (fb->items_present & (1u << i))
			continue;
		bad = 1;
		if (json_object_get(items, instrument_item_name(in, i)) != NULL)
			continue; /* present but bad: already reported */
		field_error(fe, jf_path(path, sizeof(path), "items", instrument_item_name(in, i)),
		    "is required");
	}
	return bad ? -1 : 0;
}

/* 0 when every flag is known and a boolean; -1 otherwise. */
static int
read_flags(const json_t *flags, struct feedback *fb, struct field_errors *fe)
{
	const char *key;
	json_t *val;
	char path[96];
	int bad = 0;

	json_object_foreach ((json_t *)flags, key, val) {
		int f = feedback_flag_index(key), rc;
		bool on;

		jf_path(path, sizeof(path), "flags", key);
		if (f < 0) {
			field_error(fe, path,
			    "unknown flag; allowed: judged, boundaries, unheard, "
			    "dread, unsafe, misunderstood");
			bad = 1;
			continue;
		}
		rc = jf_bool(flags, key, path, &on, fe);
		bad |= rc < 0;
		if (rc == 1 && on)
			fb->flags |= (uint8_t)(1u << f);
	}
	return bad ? -1 : 0;
}

/* session, instrument and items (all three required); 0 or -1. */
static int
read_required(const json_t *obj, struct feedback_request *out, struct field_errors *fe)
{
	const json_t *items = NULL;
	const char *name = NULL;
	long long session = 0;
	int instr = -1, got, bad = 0;

	got = jf_int(obj, "session", "session", 1, FEEDBACK_MAX_SESSION, &session, fe);
	if (got == 0)
		field_error(fe, "session", "is required");
	bad |= got != 1;
	out->fb.session = (uint32_t)session;
	got = jf_string(obj, "instrument", "instrument", 32, &name, fe);
	if (got == 0)
		field_error(fe, "instrument", "is required");
	else if (got == 1 && (instr = instrument_lookup(name)) < 0)
		field_error(fe, "instrument", "must be one of alliance5, srs, wai_sr, ors");
	bad |= instr < 0;
	got = jf_object(obj, "items", "items", &items, fe);
	if (got == 0)
		field_error(fe, "items", "is required");
	bad |= got != 1;
	if (items != NULL && instr >= 0) {
		out->fb.instrument = (enum instrument)instr;
		bad |= read_items(items, out->fb.instrument, &out->fb, fe) != 0;
	}
	return bad ? -1 : 0;
}

/* flags, negative_feelings and occurred_at; 0 or -1. */
static int
read_optional(const json_t *obj, struct feedback_request *out, struct field_errors *fe)
{
	const json_t *flags = NULL;
	long long neg = 0;
	int rc, bad = 0;

	rc = jf_object(obj, "flags", "flags", &flags, fe);
	bad |= rc < 0 || (rc == 1 && read_flags(flags, &out->fb, fe) != 0);
	rc = jf_int(obj, "negative_feelings", "negative_feelings", 0, 10, &neg, fe);
	bad |= rc < 0;
	if (rc == 1) {
		out->fb.has_negative_feelings = true;
		out->fb.negative_feelings = (double)neg;
	}
	rc = jf_string(obj, "occurred_at", "occurred_at", 64, &out->occurred_at, fe);
	if (rc == 1 && !rfc3339_valid(out->occurred_at)) {
		field_error(fe, "occurred_at",
		    "must be an RFC 3339 date-time such as 2026-11-20T17:00:00Z");
		rc = -1;
	}
	bad |= rc < 0;
	return bad ? -1 : 0;
}

int
feedback_from_json(const json_t *obj, struct feedback_request *out, struct field_errors *fe)
{
	struct feedback_error err;
	int bad = 0;

	memset(out, 0, sizeof(*out));
	if (jf_only(obj, "", feedback_fields, fe) < 0) {
		if (!json_is_object(obj))
			return -1;
		bad = 1;
	}
	/* Validity from the readers' answers, not from the errors recorded. */
	bad |= read_required(obj, out, fe) != 0;
	bad |= read_optional(obj, out, fe) != 0;
	if (bad)
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

void
feedback_items_write(struct json_writer *w, const struct feedback *fb)
{
	int i, n = instrument_item_count(fb->instrument);

	jw_object_begin(w);
	for (i = 0; i < n; i++) {
		double v = fb->items[i];

		if (!(fb->items_present & (1u << i)))
			continue;
		jw_key(w, instrument_item_name(fb->instrument, i));
		if (v == floor(v) && fabs(v) < 1e9) /* as number_json */
			jw_int(w, (long long)v);
		else
			jw_fixed(w, v, 1);
	}
	jw_object_end(w);
}

void
feedback_flags_write(struct json_writer *w, const struct feedback *fb)
{
	int f;

	jw_object_begin(w);
	for (f = 0; f < FLAG_COUNT; f++)
		if (fb->flags & (1u << f)) {
			jw_key(w, feedback_flag_name((enum feedback_flag)f));
			jw_bool(w, true);
		}
	jw_object_end(w);
}

/* ------------------------------------------------------------------------ */
/* Stored rows.  Every feedback answer reads all rows of its episode back, so
 * the flat objects PostgreSQL prints for jsonb ({"heard": 8, "open": 7.5},
 * {"unsafe": true}) are read here directly; anything unusual (escapes,
 * nesting) goes through Jansson, with the same result. */

enum flat_kind { FLAT_NUMBER, FLAT_TRUE, FLAT_FALSE };

/* Calls fn for each member of a flat object of numbers and booleans.
 * 0 when every member was accepted; -1 when fn refused one (the row is
 * invalid); 1 when the text is beyond this reader (use Jansson). */
static int
flat_object(const char *s, int (*fn)(void *arg, const char *key, enum flat_kind k, double v),
    void *arg)
{
	char key[64];
	const char *p = s;

#define SKIP_WS()                                                   \
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') \
	p++
	SKIP_WS();
	if (*p++ != '{')
		return 1;
	SKIP_WS();
	if (*p == '}')
		goto end;
	for (;;) {
		const char *k0;
		enum flat_kind kind;
		double v = 0;
		size_t n;

		if (*p++ != '"')
			return 1;
		for (k0 = p; *p != '"'; p++)
			if (*p == '\\' || *p == '\0' || (unsigned char)*p < 0x20)
				return 1;
		n = (size_t)(p - k0);
		if (n >= sizeof(key))
			return 1;
		memcpy(key, k0, n);
		key[n] = '\0';
		p++;
		SKIP_WS();
		if (*p++ != ':')
			return 1;
		SKIP_WS();
		if (strncmp(p, "true", 4) == 0) {
			kind = FLAT_TRUE;
			p += 4;
		} else if (strncmp(p, "false", 5) == 0) {
			kind = FLAT_FALSE;
			p += 5;
		} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			char *end;

			v = strtod(p, &end);
			if (end == p || !isfinite(v))
				return 1;
			kind = FLAT_NUMBER;
			p = end;
		} else {
			return 1;
		}
		if (fn(arg, key, kind, v) != 0)
			return -1;
		SKIP_WS();
		if (*p == ',') {
			p++;
			SKIP_WS();
			continue;
		}
		if (*p == '}')
			break;
		return 1;
	}
end:
	p++;
	SKIP_WS();
#undef SKIP_WS
	return *p == '\0' ? 0 : 1;
}

static int
flat_item(void *arg, const char *key, enum flat_kind k, double v)
{
	struct feedback *out = arg;
	int idx = instrument_item_index(out->instrument, key);

	if (idx < 0 || k != FLAT_NUMBER)
		return -1;
	out->items[idx] = v;
	out->items_present |= (uint16_t)(1u << idx);
	return 0;
}

static int
flat_flag(void *arg, const char *key, enum flat_kind k, double v)
{
	struct feedback *out = arg;
	int f = feedback_flag_index(key);

	(void)v;
	if (f < 0 || k == FLAT_NUMBER)
		return -1;
	if (k == FLAT_TRUE)
		out->flags |= (uint8_t)(1u << f);
	return 0;
}

/* The items through Jansson: 0 or -1. */
static int
items_jansson(const char *items, struct feedback *out)
{
	json_t *it = json_loads(items, 0, NULL), *val;
	const char *key;
	int rc = -1;

	if (!json_is_object(it))
		goto done;
	out->items_present = 0;
	json_object_foreach (it, key, val) {
		if (flat_item(out, key, json_is_number(val) ? FLAT_NUMBER : FLAT_FALSE,
		        json_is_number(val) ? json_number_value(val) : 0) != 0)
			goto done;
	}
	rc = 0;
done:
	json_decref(it);
	return rc;
}

/* The flags through Jansson: 0 or -1. */
static int
flags_jansson(const char *flags, struct feedback *out)
{
	json_t *fl = json_loads(flags, 0, NULL), *val;
	const char *key;
	int rc = -1;

	if (!json_is_object(fl))
		goto done;
	out->flags = 0;
	json_object_foreach (fl, key, val) {
		if (!json_is_boolean(val) ||
		    flat_flag(out, key, json_is_true(val) ? FLAT_TRUE : FLAT_FALSE, 0) != 0)
			goto done;
	}
	rc = 0;
done:
	json_decref(fl);
	return rc;
}

int
feedback_from_row(uint32_t session, const char *instrument, const char *items, const char *flags,
    const char *negative_feelings, struct feedback *out)
{
	int instr = instrument ? instrument_lookup(instrument) : -1;
	int rc;

	memset(out, 0, sizeof(*out));
	if (instr < 0 || items == NULL)
		return -1;
	out->session = session;
	out->instrument = (enum instrument)instr;
	rc = flat_object(items, flat_item, out);
	if (rc == 1)
		rc = items_jansson(items, out);
	if (rc != 0)
		return -1;
	if (flags != NULL && flags[0] != '\0') {
		rc = flat_object(flags, flat_flag, out);
		if (rc == 1)
			rc = flags_jansson(flags, out);
		if (rc != 0)
			return -1;
	}
	if (negative_feelings != NULL && negative_feelings[0] != '\0') {
		out->has_negative_feelings = true;
		out->negative_feelings = strtod(negative_feelings, NULL);
	}
	return feedback_validate(out, NULL) == 0 ? 0 : -1;
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
