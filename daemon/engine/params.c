/* params.c — defaults and validation of struct engine_params. */
#include "engine/params.h"
#include "engine/engine_err.h"

static const char *const comp_names[COMP_COUNT] = {
	[COMP_CONCERNS] = "concerns",
	[COMP_MODALITY] = "modality",
	[COMP_STYLE] = "style",
	[COMP_IDENTITY] = "identity",
	[COMP_GENDER] = "gender",
	[COMP_AVAILABILITY] = "availability",
	[COMP_ALLIANCE_RECORD] = "alliance_record",
	[COMP_OUTCOME_RECORD] = "outcome_record",
	[COMP_CAPACITY] = "capacity",
};

const char *
component_name(enum component c)
{
	return (unsigned)c < COMP_COUNT ? comp_names[c] : "unknown";
}

void
engine_params_defaults(struct engine_params *p)
{
	*p = (struct engine_params){
		.weight = {
			[COMP_CONCERNS] = 3.0,
			[COMP_MODALITY] = 1.5,
			[COMP_STYLE] = 1.0,
			[COMP_IDENTITY] = 1.0,
			[COMP_GENDER] = 1.0,
			[COMP_AVAILABILITY] = 1.5,
			[COMP_ALLIANCE_RECORD] = 2.0,
			[COMP_OUTCOME_RECORD] = 2.0,
			[COMP_CAPACITY] = 0.5,
		},
		.min_overlap_hours = 1,
		.record_prior_weight = 20.0,
		.concern_prior_weight = 10.0,
		.record_min_episodes = 5,
		.strong_alliance_reason = 80.0,
		.good_outcome_reason = 0.5,
		.style_fit_reason = 0.8,

		.threshold_alliance5 = 70.0,
		.threshold_srs = 90.0,
		.threshold_wai_sr = 62.5,
		.trust_floor = 70.0,
		.affect_threshold = 6.0,
		.min_sessions = 3,
		.strained_drop = 15.0,
		.ewma_alpha = 0.5,
		.trend_window = 5,
		.item_low_alliance5 = 7.0,
		.item_low_srs = 9.0,
		.item_low_wai_sr = 3.0,
		.item_flag_max = 3.0,
		.repair_window = 6,
		.ors_cutoff = 25.0,
		.ors_reliable_change = 5.0,

		.colleague_bonus = 10.0,
		.colleague_partial = 0.5,
		.referral_low_item = 70.0,
		.referral_away_modality = 0.5,
		.referral_away_style = 1.0,
		.referral_alliance_boost = 2.0,
	};
}

/* One row per numeric field: the table keeps names and ranges in one place. */
struct range_rule {
	const char *field;
	size_t offset;
	double min, max;
	const char *message;
	int is_int;
};

#define D(f, lo, hi, msg)                                             \
	{                                                             \
#f, offsetof(struct engine_params, f), lo, hi, msg, 0 \
	}
#define I(f, lo, hi, msg)                                             \
	{                                                             \
#f, offsetof(struct engine_params, f), lo, hi, msg, 1 \
	}

static const struct range_rule rules[] = {
	I(min_overlap_hours, 0, 168, "must be between 0 and 168"),
	D(record_prior_weight, 0, 1e6, "must be between 0 and 1000000"),
	D(concern_prior_weight, 0, 1e6, "must be between 0 and 1000000"),
	I(record_min_episodes, 1, 1000000, "must be between 1 and 1000000"),
	D(strong_alliance_reason, 0, 100, "must be between 0 and 100"),
	D(good_outcome_reason, 0, 1, "must be between 0 and 1"),
	D(style_fit_reason, 0, 1, "must be between 0 and 1"),
	D(threshold_alliance5, 0, 100, "must be between 0 and 100"),
	D(threshold_srs, 0, 100, "must be between 0 and 100"),
	D(threshold_wai_sr, 0, 100, "must be between 0 and 100"),
	D(trust_floor, 0, 100, "must be between 0 and 100"),
	D(affect_threshold, 0, 10, "must be between 0 and 10"),
	I(min_sessions, 1, 100, "must be between 1 and 100"),
	D(strained_drop, 0, 100, "must be between 0 and 100"),
	D(ewma_alpha, 0.001, 1, "must be between 0.001 and 1"),
	I(trend_window, 2, 16, "must be between 2 and 16"),
	D(item_low_alliance5, 0, 10, "must be between 0 and 10"),
	D(item_low_srs, 0, 10, "must be between 0 and 10"),
	D(item_low_wai_sr, 1, 5, "must be between 1 and 5"),
	D(item_flag_max, 0, 10, "must be between 0 and 10"),
	I(repair_window, 1, 16, "must be between 1 and 16"),
	D(ors_cutoff, 0, 40, "must be between 0 and 40"),
	D(ors_reliable_change, 0, 40, "must be between 0 and 40"),
	D(colleague_bonus, 0, 100, "must be between 0 and 100"),
	D(colleague_partial, 0, 1, "must be between 0 and 1"),
	D(referral_low_item, 0, 100, "must be between 0 and 100"),
	D(referral_away_modality, 0, 1, "must be between 0 and 1"),
	D(referral_away_style, 0, 100, "must be between 0 and 100"),
	D(referral_alliance_boost, 1, 100, "must be between 1 and 100"),
};

static const char *const weight_fields[COMP_COUNT] = {
	"weight.concerns",
	"weight.modality",
	"weight.style",
	"weight.identity",
	"weight.gender",
	"weight.availability",
	"weight.alliance_record",
	"weight.outcome_record",
	"weight.capacity",
};

static int
fail(const char **field, const char **message, const char *f, const char *m)
{
	if (field)
		*field = f;
	if (message)
		*message = m;
	return ENGINE_EINVAL;
}

int
engine_params_validate(const struct engine_params *p, const char **field, const char **message)
{
	if (!p)
		return fail(field, message, "", "missing");
	for (int c = 0; c < COMP_COUNT; c++)
		if (!(p->weight[c] >= 0 && p->weight[c] <= 100)) /* also rejects NaN */
			return fail(field, message, weight_fields[c], "must be between 0 and 100");
	if (p->weight[COMP_CAPACITY] <= 0)
		return fail(field, message, weight_fields[COMP_CAPACITY],
		    "must be above 0 (capacity always counts)");
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const char *base = (const char *)p + rules[i].offset;
		double v = rules[i].is_int ? (double)*(const int *)(const void *)base
		                           : *(const double *)(const void *)base;
		if (!(v >= rules[i].min && v <= rules[i].max))
			return fail(field, message, rules[i].field, rules[i].message);
	}
	return 0;
}
