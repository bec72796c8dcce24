/* instrument.c — feedback item tables, validation and scoring (see instrument.h). */
#include "engine/instrument.h"
#include "engine/engine_err.h"

#include <stdio.h>
#include <string.h>

static const char *const a5_items[] = { "heard", "open", "adapts", "trust", "looking_forward" };
static const char *const srs_items[] = { "relationship", "goals", "approach", "overall" };
static const char *const wai_items[] = { "q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9",
	"q10", "q11", "q12" };
static const char *const ors_items[] = { "individual", "interpersonal", "social", "overall" };

static const struct {
	const char *name;
	const char *const *items;
	int n;
	double min, max, step;
} instr[INSTR_COUNT] = {
	[INSTR_ALLIANCE5] = { "alliance5", a5_items, 5, 0, 10, 1 },
	[INSTR_SRS] = { "srs", srs_items, 4, 0, 10, 0.1 },
	[INSTR_WAI_SR] = { "wai_sr", wai_items, 12, 1, 5, 1 },
	[INSTR_ORS] = { "ors", ors_items, 4, 0, 10, 0.1 },
};

static const char *const flag_names[FLAG_COUNT] = {
	"judged",
	"boundaries",
	"unheard",
	"dread",
	"unsafe",
	"misunderstood",
};

/* WAI-SR subscales (1-based item numbers), Hatcher & Gillaspy 2006. */
static const int wai_task[4] = { 1, 2, 10, 12 };
static const int wai_goal[4] = { 4, 6, 8, 11 };
static const int wai_bond[4] = { 3, 5, 7, 9 };

static bool
instr_ok(enum instrument i)
{
	return (unsigned)i < INSTR_COUNT;
}

const char *
instrument_name(enum instrument i)
{
	return instr_ok(i) ? instr[i].name : "unknown";
}

int
instrument_lookup(const char *name)
{
	for (int i = 0; name && i < INSTR_COUNT; i++)
		if (strcmp(name, instr[i].name) == 0)
			return i;
	return -1;
}

int
instrument_item_count(enum instrument i)
{
	return instr_ok(i) ? instr[i].n : 0;
}

const char *
instrument_item_name(enum instrument i, int item)
{
	if (!instr_ok(i) || item < 0 || item >= instr[i].n)
		return NULL;
	return instr[i].items[item];
}

int
instrument_item_index(enum instrument i, const char *name)
{
	for (int k = 0; name && instr_ok(i) && k < instr[i].n; k++)
		if (strcmp(name, instr[i].items[k]) == 0)
			return k;
	return -1;
}

void
instrument_item_range(enum instrument i, double *min, double *max, double *step)
{
	if (!instr_ok(i)) {
		*min = *max = *step = 0;
		return;
	}
	*min = instr[i].min;
	*max = instr[i].max;
	*step = instr[i].step;
}

const char *
feedback_flag_name(enum feedback_flag f)
{
	return (unsigned)f < FLAG_COUNT ? flag_names[f] : "unknown";
}

int
feedback_flag_index(const char *name)
{
	for (int i = 0; name && i < FLAG_COUNT; i++)
		if (strcmp(name, flag_names[i]) == 0)
			return i;
	return -1;
}

/* x a multiple of step (1 or 0.1), tolerating binary rounding. */
static bool
on_step(double x, double step)
{
	double units = x / step;
	double nearest = (double)(long long)(units + (units >= 0 ? 0.5 : -0.5));
	double d = units - nearest;
	return d < 1e-6 && d > -1e-6;
}

static int
fail(struct feedback_error *err, enum feedback_error_kind kind, const char *prefix,
    const char *name, double min, double max, double step)
{
	if (err) {
		err->kind = kind;
		snprintf(err->field, sizeof(err->field), "%s%s", prefix, name);
		err->min = min;
		err->max = max;
		err->step = step;
	}
	return ENGINE_EINVAL;
}

int
feedback_validate(const struct feedback *fb, struct feedback_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
	if (!fb || !instr_ok(fb->instrument))
		return fail(err, FBE_INSTRUMENT, "", "instrument", 0, 0, 0);
	if (fb->session < 1)
		return fail(err, FBE_SESSION, "", "session", 1, 0, 1);
	enum instrument in = fb->instrument;
	for (int i = 0; i < instr[in].n; i++) {
		double v = fb->items[i];
		if (!(fb->items_present >> i & 1))
			return fail(err, FBE_MISSING, "items.", instr[in].items[i], instr[in].min,
			    instr[in].max, instr[in].step);
		if (!(v >= instr[in].min && v <= instr[in].max)) /* NaN fails too */
			return fail(err, FBE_RANGE, "items.", instr[in].items[i], instr[in].min,
			    instr[in].max, instr[in].step);
		if (!on_step(v, instr[in].step))
			return fail(err, FBE_STEP, "items.", instr[in].items[i], instr[in].min,
			    instr[in].max, instr[in].step);
	}
	if (fb->has_negative_feelings &&
	    !(fb->negative_feelings >= 0 && fb->negative_feelings <= 10))
		return fail(err, FBE_RANGE, "", "negative_feelings", 0, 10, 0);
	if (fb->flags >> FLAG_COUNT)
		return fail(err, FBE_RANGE, "", "flags", 0, 0, 0);
	return 0;
}

int
feedback_error_message(const struct feedback_error *err, char *buf, size_t n)
{
	switch (err->kind) {
	case FBE_NONE: return snprintf(buf, n, "ok");
	case FBE_INSTRUMENT: return snprintf(buf, n, "must be one of alliance5, srs, wai_sr, ors");
	case FBE_SESSION: return snprintf(buf, n, "must be at least 1");
	case FBE_MISSING: return snprintf(buf, n, "is required");
	case FBE_RANGE:
		if (err->max <= err->min)
			return snprintf(buf, n, "has an unknown flag");
		/* fall through */
	case FBE_STEP:
		if (err->step == 1)
			return snprintf(buf, n, "must be an integer between %g and %g", err->min,
			    err->max);
		if (err->step > 0)
			return snprintf(buf, n,
			    "must be between %g and %g with at most one decimal", err->min,
			    err->max);
		return snprintf(buf, n, "must be between %g and %g", err->min, err->max);
	}
	return snprintf(buf, n, "invalid");
}

static double
sum_of(const double *items, const int *idx1, int n)
{
	double s = 0;
	for (int i = 0; i < n; i++)
		s += items[idx1[i] - 1];
	return s;
}

int
instrument_score(const struct feedback *fb, struct instrument_score *out)
{
	if (!out || feedback_validate(fb, NULL) != 0)
		return ENGINE_EINVAL;
	memset(out, 0, sizeof(*out));
	int n = instr[fb->instrument].n;
	for (int i = 0; i < n; i++)
		out->total += fb->items[i];
	switch (fb->instrument) {
	case INSTR_ALLIANCE5:
		out->index = out->total / n * 10.0;
		out->trust = fb->items[3] * 10.0; /* trust */
		break;
	case INSTR_SRS:
		out->index = out->total / 40.0 * 100.0;
		out->trust = fb->items[0] * 10.0; /* relationship */
		break;
	case INSTR_WAI_SR:
		out->task = sum_of(fb->items, wai_task, 4);
		out->goal = sum_of(fb->items, wai_goal, 4);
		out->bond = sum_of(fb->items, wai_bond, 4);
		out->index = (out->total / 12.0 - 1.0) / 4.0 * 100.0;
		out->trust = (out->bond / 4.0 - 1.0) / 4.0 * 100.0;
		break;
	case INSTR_ORS: out->index = out->total / 40.0 * 100.0; break;
	case INSTR_COUNT: return ENGINE_EINVAL;
	}
	return 0;
}
