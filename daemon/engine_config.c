/*
 * engine_config.c - config keys to engine fields, in one place.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "engine/engine.h"
#include "engine_config.h"

static int
vocab_from_config(struct vocab *v, enum vocab_kind kind, const struct config_vocab *cv, char *err,
    size_t errlen)
{
	int rc = vocab_set(v, kind, (const char *const *)cv->names, cv->count);

	if (rc < 0) {
		snprintf(err, errlen, "vocabulary.%s: %s", vocab_kind_name(kind),
		    engine_strerror(rc));
		return -1;
	}
	return 0;
}

int
engine_config_build(const struct config *cfg, struct engine_params *p, struct vocab **out,
    char *err, size_t errlen)
{
	const char *field = NULL, *message = NULL;
	struct vocab *v;

	engine_params_defaults(p);
	p->weight[COMP_CONCERNS] = cfg->engine_weight_concerns;
	p->weight[COMP_MODALITY] = cfg->engine_weight_modality;
	p->weight[COMP_STYLE] = cfg->engine_weight_style;
	p->weight[COMP_IDENTITY] = cfg->engine_weight_identity;
	p->weight[COMP_GENDER] = cfg->engine_weight_gender;
	p->weight[COMP_AVAILABILITY] = cfg->engine_weight_availability;
	p->weight[COMP_ALLIANCE_RECORD] = cfg->engine_weight_alliance_record;
	p->weight[COMP_OUTCOME_RECORD] = cfg->engine_weight_outcome_record;
	p->weight[COMP_CAPACITY] = cfg->engine_weight_capacity;
	p->min_overlap_hours = cfg->engine_min_overlap_hours;
	p->record_prior_weight = cfg->engine_record_prior_weight;
	p->concern_prior_weight = cfg->engine_concern_prior_weight;
	p->record_min_episodes = cfg->engine_record_min_episodes;
	p->colleague_bonus = cfg->engine_colleague_bonus;
	p->threshold_alliance5 = cfg->alliance_threshold_alliance5;
	p->threshold_srs = cfg->alliance_threshold_srs;
	p->threshold_wai_sr = cfg->alliance_threshold_wai_sr;
	p->trust_floor = cfg->alliance_trust_floor;
	p->affect_threshold = cfg->alliance_affect_threshold;
	p->min_sessions = cfg->alliance_min_sessions;
	p->strained_drop = cfg->alliance_strained_drop;
	p->ewma_alpha = cfg->alliance_ewma_alpha;
	p->ors_cutoff = cfg->alliance_ors_cutoff;
	p->ors_reliable_change = cfg->alliance_ors_reliable_change;
	p->item_flag_max = cfg->alliance_item_flag_max;
	p->repair_window = cfg->alliance_repair_window;
	if (engine_params_validate(p, &field, &message) != 0) {
		snprintf(err, errlen, "engine parameter %s: %s", field ? field : "?",
		    message ? message : "invalid");
		return -1;
	}
	v = vocab_new();
	if (v == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (vocab_from_config(v, VOCAB_CONCERNS, &cfg->vocab_concerns, err, errlen) != 0 ||
	    vocab_from_config(v, VOCAB_MODALITIES, &cfg->vocab_modalities, err, errlen) != 0 ||
	    vocab_from_config(v, VOCAB_FORMATS, &cfg->vocab_formats, err, errlen) != 0 ||
	    vocab_from_config(v, VOCAB_POPULATIONS, &cfg->vocab_populations, err, errlen) != 0 ||
	    vocab_from_config(v, VOCAB_IDENTITY, &cfg->vocab_identity, err, errlen) != 0) {
		vocab_free(v);
		return -1;
	}
	*out = v;
	return 0;
}

bool
engine_vocab_equal(const struct vocab *a, const struct vocab *b)
{
	int k, i;

	for (k = 0; k < VOCAB_KIND_COUNT; k++) {
		if (vocab_count(a, k) != vocab_count(b, k))
			return false;
		for (i = 0; i < vocab_count(a, k); i++)
			if (strcmp(vocab_name(a, k, i), vocab_name(b, k, i)) != 0)
				return false;
	}
	return true;
}
