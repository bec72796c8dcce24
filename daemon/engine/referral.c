/* referral.c — colleague suggestions (see referral.h). */
#include "engine/referral.h"
#include "engine/catalog_layout.h"
#include "engine/engine_err.h"

#include <string.h>

/* approach-like and heard-like signals of one session, 0-100 */
static void
session_signals(const struct feedback *fb, double *approach, double *heard)
{
	struct instrument_score sc;
	instrument_score(fb, &sc);
	switch (fb->instrument) {
	case INSTR_ALLIANCE5:
		*approach = fb->items[2] * 10; /* adapts */
		*heard = fb->items[0] * 10;    /* heard */
		break;
	case INSTR_SRS:
		*approach = fb->items[2] * 10; /* approach */
		*heard = fb->items[0] * 10;    /* relationship */
		break;
	default: /* wai_sr: Task and Bond means, 1-5 → 0-100 */
		*approach = (sc.task / 4 - 1) / 4 * 100;
		*heard = sc.trust;
		break;
	}
}

int
referral_signals_from_feedback(const struct engine_params *p, const struct feedback *fb, size_t n,
    struct referral_signals *out)
{
	if (!p || !out || (n && !fb))
		return ENGINE_EINVAL;
	memset(out, 0, sizeof(*out));
	/* the three highest session numbers among alliance ratings */
	const struct feedback *last[3] = { NULL, NULL, NULL };
	for (size_t i = 0; i < n; i++) {
		if (fb[i].instrument == INSTR_ORS)
			continue;
		if (feedback_validate(&fb[i], NULL) != 0)
			return ENGINE_EINVAL;
		const struct feedback *x = &fb[i];
		for (int j = 0; j < 3 && x; j++)
			if (!last[j] || x->session >= last[j]->session) {
				const struct feedback *t = last[j];
				last[j] = x;
				x = t;
			}
	}
	double a = 0, h = 0;
	int m = 0;
	for (int j = 0; j < 3; j++)
		if (last[j]) {
			double sa, sh;
			session_signals(last[j], &sa, &sh);
			a += sa;
			h += sh;
			m++;
		}
	if (m) {
		out->low_approach = a / m < p->referral_low_item;
		out->low_heard = h / m < p->referral_low_item;
	}
	return 0;
}

int
referral_suggest(const struct catalog *c, const struct engine_params *p,
    const struct referral_request *req, size_t k, struct match_item *out, struct match_summary *sum)
{
	if (!c || !p || !req || !req->intake || (req->n_mismatches && !req->mismatches) ||
	    (req->n_colleagues && !req->colleagues))
		return ENGINE_EINVAL;
	uint32_t excl[1 + 63];
	size_t ne = 0;
	excl[ne++] = req->current_therapist;
	for (size_t i = 0; i < req->n_mismatches; i++) {
		if (ne >= sizeof(excl) / sizeof(excl[0]))
			return ENGINE_EINVAL;
		excl[ne++] = req->mismatches[i];
	}
	struct match_adjust adj;
	memset(&adj, 0, sizeof(adj));
	adj.exclude = excl;
	adj.n_exclude = ne;
	adj.colleagues = req->colleagues;
	adj.n_colleagues = req->n_colleagues;
	adj.alliance_weight_mult = req->signals.low_heard ? p->referral_alliance_boost : 1.0;
	long s = catalog_slot(c, req->current_therapist);
	if (req->signals.low_approach && s >= 0) {
		const struct cat_score *h = &c->score[s];
		adj.away_modality = true;
		memcpy(adj.away_modalities.w, h->modalities, sizeof(adj.away_modalities.w));
		adj.away_style = true;
		memcpy(adj.away_style_from, h->style, sizeof(adj.away_style_from));
	}
	if (req->need) {
		adj.need_modalities = req->need->modalities;
		adj.need_concerns = req->need->concerns;
	}
	return match_run_adjusted(c, p, req->intake, &adj, k, out, sum);
}
