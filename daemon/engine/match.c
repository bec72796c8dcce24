/* match.c — hard filters, component scores and top-k selection (see match.h). */
#include "engine/match.h"
#include "engine/catalog_layout.h"
#include "engine/engine_err.h"
#include "engine/records.h"

#include <string.h>

static const char *const excl_names[EXCL_COUNT] = {
	[EXCL_INACTIVE] = "inactive",
	[EXCL_NOT_ACCEPTING] = "not_accepting",
	[EXCL_LANGUAGE] = "language",
	[EXCL_FORMAT] = "format",
	[EXCL_POPULATION] = "population",
	[EXCL_PAYMENT] = "payment",
	[EXCL_AVAILABILITY] = "availability",
	[EXCL_EXCLUDED] = "excluded",
	[EXCL_REQUIRED] = "required",
};

const char *
exclusion_name(enum exclusion e)
{
	return (unsigned)e < EXCL_COUNT ? excl_names[e] : "unknown";
}

#define BIT(c) (1u << (c))

/* Everything about the intake that the pass needs, precomputed once. */
struct query {
	const struct catalog *cat;
	const struct intake *in;
	const struct match_adjust *adj;
	const struct engine_params *p;
	/* filters: the bitmap rows (catalog_layout.h) of the client's labels */
	bool f_lang, f_format, f_sites, f_pop, f_pay, f_avail;
	uint64_t formats, site_formats;
	uint64_t fmt_free, fmt_site; /* format rows in use: any site, the client's sites only */
	uint16_t lang_rows[PROFILE_MAX_LANGS], site_rows[PROFILE_MAX_SITES];
	int n_lang_rows, n_site_rows;
	int pop_row, payer_row; /* -1 = none */
	int32_t max_fee;
	uint64_t avail[3];
	uint8_t hours[CAT_HOURS]; /* the client's hours (BM_HOUR rows) */
	int n_hours;
	int min_overlap;
	uint32_t excl[MATCH_MAX_EXCLUDE];
	size_t n_excl;
	bool req_mod, req_avoid, req_gender, req_identity;
	/* exact label indices, checked only where a table is wider than its
	 * folded bits (catalog_layout.h) and a folded bit matched */
	bool lang_exact, site_exact, payer_exact, gender_exact;
	uint16_t lang_idx[PROFILE_MAX_LANGS], site_idx[PROFILE_MAX_SITES];
	uint16_t gender_idx[INTAKE_MAX_GENDERS]; /* index + 1 */
	int n_lang_idx, n_site_idx, n_gender_idx;
	int payer_idx; /* -1 = none */
	/* components */
	uint16_t used;
	float w[COMP_COUNT]; /* 100 x weight / total weight of the used components */
	float w_all;         /* sum of w[] (100, or 0 when no weight) */
	float w_rest;        /* w_all less the concerns and the two records */
	uint8_t concern_idx[INTAKE_MAX_CONCERNS], concern_prio[INTAKE_MAX_CONCERNS];
	int n_concerns;
	float inv_concern_total;
	uint8_t prio_of[VOCAB_MAX_WIDE];
	uint64_t concern_mask[2]; /* the client's concerns (priority > 0) */
	uint64_t mod_prefer[2], mod_avoid[2];
	float inv_prefer;
	float style_tbl[STYLE_AXES][7];
	uint64_t identity;
	float inv_identity;
	uint64_t gender_mask; /* bit (folded interned index + 1) */
	float inv_wanted;
	/* records */
	float k, kc;
	float inv_prio_total;   /* 1 / sum of the client's concern priorities */
	float a_prior, o_prior; /* clinic means M */
	/* the record weights per unit of struct cat_best */
	float best_a_w, best_o_w, o_prior_units;
	/* referral adjustments */
	bool away_mod;
	uint64_t away_mods[2];
	float away_mod_w;
	uint64_t need_mods[2], need_concerns[2];
	bool has_need;
	/* no need tier and no colleague bonus: the score alone orders, so
	 * bound pruning is exact (away_* and the alliance boost only change
	 * components and weights) */
	bool plain;
};

/* Hardware popcount where the CPU has it: the pass is compiled twice and the
 * loader picks the clone (GNU ifunc); elsewhere the compiler's fallback. */
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define SCAN_TARGET __attribute__((target_clones("popcnt", "default")))
#endif
#endif
#ifndef SCAN_TARGET
#define SCAN_TARGET
#endif

static inline __attribute__((always_inline)) int
pc64(uint64_t x)
{
	return __builtin_popcountll(x);
}

struct cand {
	float score;
	uint16_t free;
	uint8_t tier;
	uint32_t id;
	uint32_t slot;
};

static inline __attribute__((always_inline)) int
pop2(const uint64_t a[2], const uint64_t b[2])
{
	return pc64(a[0] & b[0]) + pc64(a[1] & b[1]);
}

static inline __attribute__((always_inline)) int
bit128(const uint64_t s[2], unsigned i)
{
	return (int)((s[i >> 6] >> (i & 63)) & 1);
}

/* records_shrink() in float, inlined for the hot loop (same formula, records.h). */
static inline __attribute__((always_inline)) float
shrink(float n, float mean, float prior, float k)
{
	if (n <= 0)
		return prior;
	return (n * mean + k * prior) / (n + k);
}

static void
sort_u32(uint32_t *a, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint32_t v = a[i];
		size_t j = i;
		for (; j > 0 && a[j - 1] > v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

static bool
any_u16(const uint16_t *a, int na, const uint16_t *b, int nb)
{
	for (int i = 0; i < na; i++)
		for (int j = 0; j < nb; j++)
			if (a[i] == b[j])
				return true;
	return false;
}

/* A folded bit matched in a table wider than its bits: confirm with the
 * therapist's exact labels. */
static bool
lang_exact_hit(const struct query *q, size_t slot)
{
	return any_u16(q->cat->lab[slot].langs, q->cat->lab[slot].n_langs, q->lang_idx,
	    q->n_lang_idx);
}

static bool
site_exact_hit(const struct query *q, size_t slot)
{
	return any_u16(q->cat->lab[slot].sites, q->cat->lab[slot].n_sites, q->site_idx,
	    q->n_site_idx);
}

static bool
payer_exact_hit(const struct query *q, size_t slot)
{
	uint16_t p = (uint16_t)q->payer_idx;
	return any_u16(q->cat->lab[slot].payers, q->cat->lab[slot].n_payers, &p, 1);
}

static bool
gender_hit(const struct query *q, const struct cat_score *h, size_t slot)
{
	if (!((q->gender_mask >> h->gender) & 1))
		return false;
	return q->gender_exact ||
	    any_u16(&q->cat->lab[slot].gender, 1, q->gender_idx, q->n_gender_idx);
}

static int
add_excl(struct query *q, uint32_t id)
{
	long s = catalog_slot(q->cat, id);
	if (s < 0)
		return 0; /* not in the catalog: nothing to exclude */
	if (q->n_excl >= MATCH_MAX_EXCLUDE)
		return ENGINE_EINVAL;
	q->excl[q->n_excl++] = (uint32_t)s;
	return 0;
}

static int
build_query(struct query *q, const struct catalog *c, const struct engine_params *p,
    const struct intake *in, const struct match_adjust *adj)
{
	memset(q, 0, sizeof(*q));
	q->cat = c;
	q->in = in;
	q->adj = adj;
	q->p = p;
	q->lang_exact = c->n_langs <= CAT_LANG_BITS;
	q->site_exact = c->sites.n <= CAT_SITE_BITS;
	q->payer_exact = c->payers.n <= CAT_PAYER_BITS;
	q->gender_exact = c->genders.n <= CAT_GENDER_BITS;
	q->payer_idx = -1;
	q->pop_row = q->payer_row = -1;

	if (in->n_languages) {
		q->f_lang = true;
		for (int i = 0; i < in->n_languages; i++) {
			int b = catalog_lang_bit(c, in->languages[i]);
			if (b >= 0) {
				q->lang_rows[q->n_lang_rows++] =
				    (uint16_t)(BM_LANG + cat_fold(b, CAT_LANG_BITS));
				q->lang_idx[q->n_lang_idx++] = (uint16_t)b;
			}
		}
	}
	if (in->formats) {
		q->f_format = true;
		q->formats = in->formats;
	}
	if (in->n_sites && !in->formats) {
		/* sites without formats: any format, but in person only at those
		 * sites (a stated site is never ignored) */
		q->f_format = true;
		q->formats = ~UINT64_C(0);
	}
	if (in->n_sites) {
		q->f_sites = true;
		q->site_formats = in->in_person_format >= 0 && in->in_person_format < 64
		    ? UINT64_C(1) << in->in_person_format
		    : ~UINT64_C(0);
		for (int i = 0; i < in->n_sites; i++) {
			int b = catalog_site_bit(c, in->sites[i]);
			if (b >= 0) {
				q->site_rows[q->n_site_rows++] =
				    (uint16_t)(BM_SITE + cat_fold(b, CAT_SITE_BITS));
				q->site_idx[q->n_site_idx++] = (uint16_t)b;
			}
		}
	}
	/* rows never set are empty: leaving them out changes nothing */
	q->fmt_free = q->formats & ~(q->f_sites ? q->site_formats : 0) & c->formats_seen;
	q->fmt_site = q->formats & (q->f_sites ? q->site_formats : 0) & c->formats_seen;
	if (in->population >= 0) {
		q->f_pop = true;
		q->pop_row = BM_POP + in->population;
	}
	if (in->payer[0] || in->self_pay_max >= 0) {
		q->f_pay = true;
		if (in->payer[0]) {
			int b = catalog_payer_bit(c, in->payer);
			if (b >= 0) {
				q->payer_row = (int)(BM_PAYER + cat_fold(b, CAT_PAYER_BITS));
				q->payer_idx = b;
			}
		}
		q->max_fee = in->self_pay_max;
	}
	int client_hours = avail_hours(&in->availability);
	if (client_hours) {
		q->f_avail = true;
		memcpy(q->avail, in->availability.w, sizeof(q->avail));
		for (unsigned w = 0; w < 3; w++)
			for (uint64_t b = q->avail[w]; b; b &= b - 1) {
				unsigned hr = w * 64 + (unsigned)__builtin_ctzll(b);
				if (hr < CAT_HOURS)
					q->hours[q->n_hours++] = (uint8_t)hr;
			}
		q->min_overlap = p->min_overlap_hours;
		int wanted = in->wanted_hours ? in->wanted_hours : client_hours;
		q->inv_wanted = 1.0f / (float)wanted;
		q->used |= BIT(COMP_AVAILABILITY);
	}
	for (int i = 0; i < in->n_exclude; i++)
		if (add_excl(q, in->exclude[i]))
			return ENGINE_EINVAL;
	if (adj)
		for (size_t i = 0; i < adj->n_exclude; i++)
			if (add_excl(q, adj->exclude[i]))
				return ENGINE_EINVAL;
	sort_u32(q->excl, q->n_excl);

	/* concerns */
	unsigned total = 0;
	for (int i = 0; i < in->n_concerns; i++) {
		q->concern_idx[i] = in->concerns[i].tag;
		q->concern_prio[i] = in->concerns[i].priority;
		q->prio_of[in->concerns[i].tag] = in->concerns[i].priority;
		total += in->concerns[i].priority;
	}
	for (int i = 0; i < in->n_concerns; i++) {
		unsigned t = in->concerns[i].tag;
		if (q->prio_of[t])
			q->concern_mask[t >> 6] |= UINT64_C(1) << (t & 63);
	}
	q->n_concerns = in->n_concerns;
	if (total) {
		q->used |= BIT(COMP_CONCERNS);
		q->inv_concern_total = 1.0f / (2.0f * (float)total);
	}

	/* modality */
	memcpy(q->mod_prefer, in->mod_prefer.w, sizeof(q->mod_prefer));
	memcpy(q->mod_avoid, in->mod_avoid.w, sizeof(q->mod_avoid));
	int n_prefer = tagset_count(&in->mod_prefer);
	if (n_prefer)
		q->inv_prefer = 1.0f / (float)n_prefer;
	if (n_prefer || !tagset_empty(&in->mod_avoid))
		q->used |= BIT(COMP_MODALITY);
	q->req_mod = in->mod_required && n_prefer;
	q->req_avoid = in->mod_required && !tagset_empty(&in->mod_avoid);
	if (adj && adj->away_modality && !tagset_empty(&adj->away_modalities)) {
		q->away_mod = true;
		memcpy(q->away_mods, adj->away_modalities.w, sizeof(q->away_mods));
		q->away_mod_w = (float)p->referral_away_modality;
		q->used |= BIT(COMP_MODALITY);
	}

	/* style: a per-axis table over the therapist's value -3..3 */
	float wsum = 0;
	for (int a = 0; a < STYLE_AXES; a++)
		if (in->style_given >> a & 1)
			wsum += 1.0f + (float)(in->style[a] < 0 ? -in->style[a] : in->style[a]);
	bool away_style = adj && adj->away_style;
	float away_w = away_style ? (float)p->referral_away_style : 0.0f;
	if (away_style && away_w <= 0)
		away_style = false;
	if (wsum > 0 || away_style) {
		q->used |= BIT(COMP_STYLE);
		/* fit part weight 1 (if given), away part weight away_w */
		float norm = (wsum > 0 ? 1.0f : 0.0f) + (away_style ? away_w : 0.0f);
		for (int a = 0; a < STYLE_AXES; a++)
			for (int t = -3; t <= 3; t++) {
				float v = 0;
				if (wsum > 0 && (in->style_given >> a & 1)) {
					int d = in->style[a] - t;
					float w = 1.0f +
					    (float)(in->style[a] < 0 ? -in->style[a]
					                             : in->style[a]);
					v += w * (1.0f - (float)(d < 0 ? -d : d) / 6.0f) / wsum;
				}
				if (away_style) {
					int d = adj->away_style_from[a] - t;
					v += away_w * (float)(d < 0 ? -d : d) / (6.0f * STYLE_AXES);
				}
				q->style_tbl[a][t + 3] = v / norm;
			}
	}

	/* identity, gender */
	q->identity = in->identity;
	if (in->identity) {
		q->used |= BIT(COMP_IDENTITY);
		q->inv_identity = 1.0f / (float)engine_popcount64(in->identity);
		q->req_identity = in->identity_required;
	}
	if (in->n_genders) {
		q->used |= BIT(COMP_GENDER);
		for (int i = 0; i < in->n_genders; i++) {
			int g = catalog_gender_index(c, in->genders[i]);
			if (g >= 0) {
				q->gender_mask |= UINT64_C(1) << (cat_fold(g, CAT_GENDER_BITS) + 1);
				q->gender_idx[q->n_gender_idx++] = (uint16_t)(g + 1);
			}
		}
		q->req_gender = in->gender_required;
	}

	/* records: count once the clinic has any */
	q->k = (float)p->record_prior_weight;
	q->kc = (float)p->concern_prior_weight;
	q->inv_prio_total = total ? 1.0f / (float)total : 0.0f;
	q->a_prior = (float)record_total_mean(&c->a_total);
	q->o_prior = (float)record_total_mean(&c->o_total);
	if (c->a_total.n > 0)
		q->used |= BIT(COMP_ALLIANCE_RECORD);
	if (c->o_total.n > 0)
		q->used |= BIT(COMP_OUTCOME_RECORD);
	q->used |= BIT(COMP_CAPACITY);

	/* weights, normalised so the score is a weighted mean x 100 */
	double wt[COMP_COUNT], total_w = 0;
	for (int i = 0; i < COMP_COUNT; i++) {
		wt[i] = (q->used >> i & 1) ? p->weight[i] : 0.0;
		if (i == COMP_ALLIANCE_RECORD && adj && adj->alliance_weight_mult > 0)
			wt[i] *= adj->alliance_weight_mult;
		total_w += wt[i];
	}
	for (int i = 0; i < COMP_COUNT; i++) {
		q->w[i] = total_w > 0 ? (float)(100.0 * wt[i] / total_w) : 0.0f;
		q->w_all += q->w[i];
	}
	q->w_rest =
	    q->w_all - q->w[COMP_CONCERNS] - q->w[COMP_ALLIANCE_RECORD] - q->w[COMP_OUTCOME_RECORD];
	q->best_a_w = q->w[COMP_ALLIANCE_RECORD] / 100.0f;
	q->o_prior_units = q->o_prior * (float)CAT_O_BEST_UNIT;
	q->best_o_w = q->w[COMP_OUTCOME_RECORD] / (float)CAT_O_BEST_UNIT;

	if (adj) {
		memcpy(q->need_mods, adj->need_modalities.w, sizeof(q->need_mods));
		memcpy(q->need_concerns, adj->need_concerns.w, sizeof(q->need_concerns));
		q->has_need =
		    !tagset_empty(&adj->need_modalities) || !tagset_empty(&adj->need_concerns);
	}
	q->plain = !adj || (!q->has_need && adj->n_colleagues == 0);
	return 0;
}

/* The two record components, shrunk hierarchically (records.h): r_t toward
 * the clinic mean, then per client concern r_tc toward r_t, priority-weighted
 * over the client's concerns (a concern without history contributes r_t
 * itself).  The records of the client's concerns are found directly in the
 * therapist's (concern-ordered) run of the arena; the sums run in the order
 * the records were given (their rank), as a scan of them all would. */
static inline __attribute__((always_inline)) void
record_comps(const struct query *q, const struct cat_rec *rc, float *alliance, float *outcome)
{
	float ra = shrink((float)rc->a_n, rc->a_mean, q->a_prior, q->k);
	float ro = shrink((float)rc->o_n, rc->o_mean, q->o_prior, q->k);
	uint64_t m0 = rc->pc_mask[0] & q->concern_mask[0], m1 = rc->pc_mask[1] & q->concern_mask[1];
	if (m0 | m1) {
		const struct cat_pc *pc = &q->cat->pc[rc->pc_off];
		uint8_t at[INTAKE_MAX_CONCERNS];
		int n = 0;
		for (; m0; m0 &= m0 - 1)
			at[n++] = (uint8_t)pc64(rc->pc_mask[0] & ((m0 & (0 - m0)) - 1));
		unsigned below1 = (unsigned)pc64(rc->pc_mask[0]);
		for (; m1; m1 &= m1 - 1)
			at[n++] = (uint8_t)(below1 +
			    (unsigned)pc64(rc->pc_mask[1] & ((m1 & (0 - m1)) - 1)));
		/* two terms add the same either way; three or more in rank order */
		for (int i = 1; i < n && n > 2; i++) {
			uint8_t v = at[i];
			int j = i;
			for (; j > 0 && pc[at[j - 1]].rank > pc[v].rank; j--)
				at[j] = at[j - 1];
			at[j] = v;
		}
		float acc_a = 0, acc_o = 0;
		for (int i = 0; i < n; i++) {
			const struct cat_pc *x = &pc[at[i]];
			unsigned prio = q->prio_of[x->concern];
			if (x->a_n)
				acc_a += (float)prio *
				    (shrink((float)x->a_n, x->a_mean, ra, q->kc) - ra);
			if (x->o_n)
				acc_o += (float)prio *
				    (shrink((float)x->o_n, x->o_mean, ro, q->kc) - ro);
		}
		ra += acc_a * q->inv_prio_total;
		ro += acc_o * q->inv_prio_total;
	}
	*alliance = ra / 100.0f;
	*outcome = ro;
}

/* Each component in [0,1] (match.h gives the definitions). */
static inline __attribute__((always_inline)) float
comp_concerns(const struct query *q, const struct cat_hot *h)
{
	unsigned acc = 0;
	for (int i = 0; i < q->n_concerns; i++) {
		unsigned t = q->concern_idx[i];
		acc += q->concern_prio[i] *
		    (unsigned)(bit128(h->concerns_any, t) + bit128(h->concerns_spec, t));
	}
	return (float)acc * q->inv_concern_total;
}

static inline __attribute__((always_inline)) float
comp_modality(const struct query *q, const struct cat_score *h)
{
	float s;
	if ((h->modalities[0] & q->mod_avoid[0]) | (h->modalities[1] & q->mod_avoid[1]))
		s = 0;
	else if (q->inv_prefer > 0)
		s = (float)pop2(h->modalities, q->mod_prefer) * q->inv_prefer;
	else
		s = 1;
	if (q->away_mod) {
		int offered = pc64(h->modalities[0]) + pc64(h->modalities[1]);
		if (offered)
			s *= 1.0f -
			    q->away_mod_w * (float)pop2(h->modalities, q->away_mods) /
			        (float)offered;
	}
	return s;
}

/* Every component except the two records; unused ones are 0. */
static inline __attribute__((always_inline)) void
components_cheap(const struct query *q, const struct cat_hot *h, const struct cat_score *sc,
    int overlap, float comp[COMP_COUNT])
{
	uint16_t used = q->used;
	comp[COMP_CONCERNS] = (used & BIT(COMP_CONCERNS)) ? comp_concerns(q, h) : 0;
	comp[COMP_MODALITY] = (used & BIT(COMP_MODALITY)) ? comp_modality(q, sc) : 0;
	comp[COMP_STYLE] = (used & BIT(COMP_STYLE))
	    ? q->style_tbl[0][sc->style[0] + 3] + q->style_tbl[1][sc->style[1] + 3] +
	        q->style_tbl[2][sc->style[2] + 3] + q->style_tbl[3][sc->style[3] + 3]
	    : 0;
	comp[COMP_IDENTITY] = (float)pc64(sc->identity & q->identity) * q->inv_identity;
	comp[COMP_GENDER] = q->gender_exact ? (float)((q->gender_mask >> sc->gender) & 1)
	                                    : (float)gender_hit(q, sc, (size_t)(h - q->cat->hot));
	if (used & BIT(COMP_AVAILABILITY)) {
		float a = (float)overlap * q->inv_wanted;
		comp[COMP_AVAILABILITY] = a > 1 ? 1 : a;
	} else
		comp[COMP_AVAILABILITY] = 0;
	comp[COMP_CAPACITY] = (float)(sc->capacity - sc->caseload) / (float)sc->capacity;
}

static inline __attribute__((always_inline)) void
components_records(const struct query *q, const struct cat_rec *r, float comp[COMP_COUNT])
{
	float a, o;
	record_comps(q, r, &a, &o);
	comp[COMP_ALLIANCE_RECORD] = (q->used & BIT(COMP_ALLIANCE_RECORD)) ? a : 0;
	comp[COMP_OUTCOME_RECORD] = (q->used & BIT(COMP_OUTCOME_RECORD)) ? o : 0;
}

static void
components(const struct query *q, const struct cat_hot *h, const struct cat_score *sc,
    const struct cat_rec *r, int overlap, float comp[COMP_COUNT])
{
	components_cheap(q, h, sc, overlap, comp);
	components_records(q, r, comp);
}

/* The colleague link of a therapist, if any. */
static const struct colleague_link *
colleague_of(const struct query *q, uint32_t id)
{
	for (size_t i = 0; i < q->adj->n_colleagues; i++)
		if (q->adj->colleagues[i].therapist_id == id)
			return &q->adj->colleagues[i];
	return NULL;
}

/* Bonus share: 1 when the link names no tags or a tag the client cares about. */
static float
colleague_share(const struct query *q, const struct colleague_link *l)
{
	if (tagset_empty(&l->concerns) && tagset_empty(&l->modalities))
		return 1.0f;
	for (int w = 0; w < 2; w++) {
		uint64_t concerns = q->need_concerns[w];
		for (int i = 0; i < q->n_concerns; i++)
			if ((unsigned)q->concern_idx[i] >> 6 == (unsigned)w)
				concerns |= UINT64_C(1) << (q->concern_idx[i] & 63);
		if ((l->concerns.w[w] & concerns) ||
		    (l->modalities.w[w] & (q->mod_prefer[w] | q->need_mods[w])))
			return 1.0f;
	}
	return (float)q->p->colleague_partial;
}

/* Referral adjustments applied after the weighted mean: need tier and colleague bonus. */
static float
adjust_score(const struct query *q, const struct cat_hot *hf, const struct cat_score *h,
    float score, uint8_t *tier)
{
	*tier =
	    (uint8_t)(pop2(h->modalities, q->need_mods) + pop2(hf->concerns_any, q->need_concerns));
	const struct colleague_link *l = colleague_of(q, h->id);
	if (l) /* closes a bonus share of the gap to 100, so the score stays <= 100 */
		score += (100.0f - score) * (float)q->p->colleague_bonus / 100.0f *
		    colleague_share(q, l);
	return score;
}

static inline __attribute__((always_inline)) bool
better(const struct cand *a, const struct cand *b)
{
	if (a->tier != b->tier)
		return a->tier > b->tier;
	if (a->score != b->score)
		return a->score > b->score;
	if (a->free != b->free)
		return a->free > b->free;
	return a->id < b->id;
}

/* Min-heap on "better": the root is the worst of the kept candidates. */
static void
heap_up(struct cand *hp, size_t i)
{
	struct cand x = hp[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!better(&hp[parent], &x))
			break;
		hp[i] = hp[parent];
		i = parent;
	}
	hp[i] = x;
}

static void
heap_down(struct cand *hp, size_t n, size_t i)
{
	struct cand x = hp[i];
	for (;;) {
		size_t l = 2 * i + 1, worst;
		if (l >= n)
			break;
		worst = l;
		if (l + 1 < n && better(&hp[l], &hp[l + 1]))
			worst = l + 1;
		if (!better(&x, &hp[worst]))
			break;
		hp[i] = hp[worst];
		i = worst;
	}
	hp[i] = x;
}

static void
add_reason(struct match_item *it, enum reason_code code, int32_t a0)
{
	if (it->n_reasons < MATCH_MAX_REASONS)
		it->reasons[it->n_reasons++] = (struct reason){ (uint16_t)code, { a0, 0 } };
}

/* Components, reasons and warnings of one winner. */
static void
fill_item(const struct query *q, const struct cand *cd, struct match_item *it)
{
	const struct catalog *c = q->cat;
	const struct cat_hot *hf = &c->hot[cd->slot];
	const struct cat_score *h = &c->score[cd->slot];
	const struct cat_rec *r = &c->rec[cd->slot];
	const struct intake *in = q->in;
	int overlap = q->f_avail ? engine_popcount64(hf->avail[0] & q->avail[0]) +
	        engine_popcount64(hf->avail[1] & q->avail[1]) +
	        engine_popcount64(hf->avail[2] & q->avail[2])
	                         : 0;
	memset(it, 0, sizeof(*it));
	it->therapist_id = h->id;
	it->score = cd->score;
	it->free_slots = cd->free;
	it->comp_used = q->used;
	it->need_met = cd->tier;
	components(q, hf, h, r, overlap, it->components);
	for (int i = 0; i < COMP_COUNT; i++)
		if (!(q->used >> i & 1))
			it->components[i] = 0;

	if (q->adj) {
		if (colleague_of(q, h->id)) {
			it->colleague = true;
			add_reason(it, REASON_COLLEAGUE, 0);
		}
		for (int t = 0; t < VOCAB_MAX_WIDE; t++) {
			if (bit128(q->need_mods, (unsigned)t) && bit128(h->modalities, (unsigned)t))
				add_reason(it, REASON_NEED_MODALITY, t);
			if (bit128(q->need_concerns, (unsigned)t) &&
			    bit128(hf->concerns_any, (unsigned)t))
				add_reason(it, REASON_NEED_CONCERN, t);
		}
		if (q->away_mod && !pop2(h->modalities, q->away_mods))
			add_reason(it, REASON_DIFFERENT_APPROACH, 0);
		if (q->adj->away_style) {
			int d = 0;
			for (int a = 0; a < STYLE_AXES; a++) {
				int x = h->style[a] - q->adj->away_style_from[a];
				d += x < 0 ? -x : x;
			}
			if (d >= STYLE_AXES) /* on average a full step away per axis */
				add_reason(it, REASON_DIFFERENT_STYLE, 0);
		}
	}
	for (int i = 0; i < q->n_concerns; i++) {
		unsigned t = q->concern_idx[i];
		if (bit128(hf->concerns_spec, t))
			add_reason(it, REASON_SPECIALIST, (int32_t)t);
		else if (bit128(hf->concerns_any, t))
			add_reason(it, REASON_EXPERIENCED, (int32_t)t);
	}
	for (int t = 0; t < VOCAB_MAX_WIDE; t++) {
		/* Already said as "offers EMDR, as you asked" when it was a need. */
		if (bit128(q->mod_prefer, (unsigned)t) && bit128(h->modalities, (unsigned)t) &&
		    !(q->adj && bit128(q->need_mods, (unsigned)t)))
			add_reason(it, REASON_OFFERS, t);
		if (bit128(q->mod_avoid, (unsigned)t) && bit128(h->modalities, (unsigned)t) &&
		    it->n_warnings < MATCH_MAX_WARNINGS)
			it->warnings[it->n_warnings++] =
			    (struct reason){ WARN_AVOIDED_MODALITY, { t, 0 } };
	}
	for (int i = 0; i < in->n_languages; i++) {
		int b = catalog_lang_bit(c, in->languages[i]);
		uint16_t ub = (uint16_t)b;
		if (b >= 0 && any_u16(c->lab[cd->slot].langs, c->lab[cd->slot].n_langs, &ub, 1))
			add_reason(it, REASON_SPEAKS, in->languages[i]);
	}
	if (q->f_avail && overlap > 0)
		add_reason(it, REASON_SHARED_HOURS, overlap);
	/* on the score scale, and only from enough rated episodes to mean something
	 * (the margin absorbs float rounding of a record exactly at the threshold) */
	if ((q->used & BIT(COMP_ALLIANCE_RECORD)) &&
	    r->a_n >= (uint32_t)q->p->record_min_episodes &&
	    it->components[COMP_ALLIANCE_RECORD] * 100.0f + 1e-3f >=
	        (float)q->p->strong_alliance_reason) {
		add_reason(it, REASON_STRONG_ALLIANCE,
		    (int32_t)(it->components[COMP_ALLIANCE_RECORD] * 100.0f + 0.5f));
		if (q->adj && q->adj->alliance_weight_mult > 1)
			add_reason(it, REASON_ALLIANCE_FOCUS, 0);
	}
	if ((q->used & BIT(COMP_OUTCOME_RECORD)) && r->o_n > 0 &&
	    it->components[COMP_OUTCOME_RECORD] >= (float)q->p->good_outcome_reason)
		add_reason(it, REASON_GOOD_OUTCOMES,
		    (int32_t)(it->components[COMP_OUTCOME_RECORD] * 100.0f + 0.5f));
	for (int t = 0; t < 64; t++)
		if ((q->identity >> t & 1) && (h->identity >> t & 1))
			add_reason(it, REASON_IDENTITY, t);
	if ((q->used & BIT(COMP_GENDER)) && it->components[COMP_GENDER] > 0)
		add_reason(it, REASON_GENDER, 0);
	if ((q->used & BIT(COMP_STYLE)) && in->style_given &&
	    it->components[COMP_STYLE] >= (float)q->p->style_fit_reason)
		add_reason(it, REASON_STYLE_FIT, 0);
	if (q->f_format)
		for (int t = 0; t < 64; t++)
			if ((q->formats >> t & 1) && (h->formats >> t & 1)) {
				add_reason(it, REASON_FORMAT, t);
				break;
			}
}

/* A required avoid: offers an avoided modality and nothing else. */
static inline __attribute__((always_inline)) bool
only_avoided(const struct query *q, const struct cat_score *h)
{
	return pop2(h->modalities, q->mod_avoid) &&
	    !((h->modalities[0] & ~q->mod_avoid[0]) | (h->modalities[1] & ~q->mod_avoid[1]));
}

/* A preference marked required is not met (rare: reads the score record). */
static bool
required_miss(const struct query *q, const struct cat_score *sc, size_t i)
{
	return (q->req_mod && !pop2(sc->modalities, q->mod_prefer)) ||
	    (q->req_avoid && only_avoided(q, sc)) || (q->req_gender && !gender_hit(q, sc, i)) ||
	    (q->req_identity && (sc->identity & q->identity) != q->identity);
}

/* Slots per block (scan()). */
#ifndef SCAN_WORDS
#define SCAN_WORDS 4
#endif
#define SCAN_BLOCK (SCAN_WORDS * 64)

/* Bit b of a word, for clearing. */
#define WBIT(b) (UINT64_C(1) << (b))

/* The hard filters for the 64 slots of bitmap word w, in the order of enum
 * exclusion: each counts the slots it is the first to exclude, and the slots
 * left are returned. The bitmaps answer all but what a row cannot hold: a
 * fee against the client's maximum (the fee array), more than one shared
 * hour, exact labels where a table outgrew its folded bits, and the required
 * preferences; those read per slot, and only for the slots still in. */
static inline __attribute__((always_inline)) uint64_t
filter_word(const struct query *q, size_t w, uint32_t excl[EXCL_COUNT + 1], size_t *ep)
{
	const struct catalog *c = q->cat;
	const size_t base = w * 64, left = c->n - base;
	uint64_t a = left >= 64 ? ~UINT64_C(0) : WBIT(left) - 1, p;
	p = cat_bm(c, BM_ACTIVE)[w];
	excl[EXCL_INACTIVE] += (uint32_t)pc64(a & ~p);
	a &= p;
	p = cat_bm(c, BM_ACCEPTING)[w];
	excl[EXCL_NOT_ACCEPTING] += (uint32_t)pc64(a & ~p);
	a &= p;
	if (q->f_lang) {
		p = 0;
		for (int r = 0; r < q->n_lang_rows; r++)
			p |= cat_bm(c, q->lang_rows[r])[w];
		if (!q->lang_exact) /* folded: confirm the hits */
			for (uint64_t b = a & p; b; b &= b - 1)
				if (!lang_exact_hit(q, base + (size_t)__builtin_ctzll(b)))
					p &= ~WBIT(__builtin_ctzll(b));
		excl[EXCL_LANGUAGE] += (uint32_t)pc64(a & ~p);
		a &= p;
	}
	if (q->f_format) {
		/* a shared format; one the client wants only at their sites
		 * (in person) counts where the therapist has one of them */
		uint64_t any = 0, at_site = 0;
		for (uint64_t f = q->fmt_free; f; f &= f - 1)
			any |= cat_bm(c, BM_FORMAT + (unsigned)__builtin_ctzll(f))[w];
		for (uint64_t f = q->fmt_site; f; f &= f - 1)
			at_site |= cat_bm(c, BM_FORMAT + (unsigned)__builtin_ctzll(f))[w];
		at_site &= a & ~any;
		if (at_site) {
			uint64_t site = 0;
			for (int r = 0; r < q->n_site_rows; r++)
				site |= cat_bm(c, q->site_rows[r])[w];
			at_site &= site;
			if (!q->site_exact)
				for (uint64_t b = at_site; b; b &= b - 1)
					if (!site_exact_hit(q, base + (size_t)__builtin_ctzll(b)))
						at_site &= ~WBIT(__builtin_ctzll(b));
		}
		p = any | at_site;
		excl[EXCL_FORMAT] += (uint32_t)pc64(a & ~p);
		a &= p;
	}
	if (q->f_pop) {
		p = cat_bm(c, (unsigned)q->pop_row)[w];
		excl[EXCL_POPULATION] += (uint32_t)pc64(a & ~p);
		a &= p;
	}
	if (q->f_pay) {
		/* the client's payer, or self-pay: no fee set = no self-pay,
		 * never free; a sliding scale only lowers a fee */
		uint64_t payer = q->payer_row >= 0 ? cat_bm(c, (unsigned)q->payer_row)[w] & a : 0;
		uint64_t self = a & cat_bm(c, BM_FEE)[w];
		if (q->max_fee >= 0) {
			uint64_t check =
			    self & ~cat_bm(c, BM_SLIDING)[w] & ~(q->payer_exact ? payer : 0);
			for (uint64_t b = check; b; b &= b - 1)
				if ((int32_t)c->fee[base + (size_t)__builtin_ctzll(b)] > q->max_fee)
					self &= ~WBIT(__builtin_ctzll(b));
		}
		if (!q->payer_exact) /* folded: confirm the hits that matter */
			for (uint64_t b = payer & ~self; b; b &= b - 1)
				if (!payer_exact_hit(q, base + (size_t)__builtin_ctzll(b)))
					payer &= ~WBIT(__builtin_ctzll(b));
		p = payer | self;
		excl[EXCL_PAYMENT] += (uint32_t)pc64(a & ~p);
		a &= p;
	}
	if (q->f_avail && q->min_overlap >= 1) {
		if (q->min_overlap == 1) { /* any shared hour */
			p = 0;
			for (int r = 0; r < q->n_hours; r++)
				p |= cat_bm(c, BM_HOUR + q->hours[r])[w];
		} else {
			p = a;
			for (uint64_t b = a; b; b &= b - 1) {
				const struct cat_hot *h =
				    &c->hot[base + (size_t)__builtin_ctzll(b)];
				if (pc64(h->avail[0] & q->avail[0]) +
				        pc64(h->avail[1] & q->avail[1]) +
				        pc64(h->avail[2] & q->avail[2]) <
				    q->min_overlap)
					p &= ~WBIT(__builtin_ctzll(b));
			}
		}
		excl[EXCL_AVAILABILITY] += (uint32_t)pc64(a & ~p);
		a &= p;
	}
	if (q->n_excl) {
		p = ~UINT64_C(0);
		while (*ep < q->n_excl && q->excl[*ep] < base)
			(*ep)++;
		for (; *ep < q->n_excl && q->excl[*ep] < base + 64; (*ep)++)
			p &= ~WBIT(q->excl[*ep] - base);
		excl[EXCL_EXCLUDED] += (uint32_t)pc64(a & ~p);
		a &= p;
	}
	if (q->req_mod | q->req_avoid | q->req_gender | q->req_identity) {
		p = a;
		for (uint64_t b = a; b; b &= b - 1) {
			size_t i = base + (size_t)__builtin_ctzll(b);
			if (required_miss(q, &c->score[i], i))
				p &= ~WBIT(__builtin_ctzll(b));
		}
		excl[EXCL_REQUIRED] += (uint32_t)pc64(a & ~p);
		a &= p;
	}
	excl[EXCL_COUNT] += (uint32_t)pc64(a);
	return a;
}

/* The most a record component can reach through the per-concern records,
 * without reading them: a client concern's record moves the overall record r
 * by prio x n/(n + k_c) x (m - r) in a priority-weighted mean, so never above
 * r + top_n/(top_n + k_c) x (top - r) (top: the highest per-concern mean,
 * top_n: the most episodes of one, both increase the move). Exact (r itself)
 * when the therapist has no record in the client's concerns. */
static inline __attribute__((always_inline)) float
record_hi(float r, bool any, float top, float top_n, float kc)
{
	if (!any || top <= r || top_n <= 0)
		return r;
	return r + top_n / (top_n + kc) * (top - r);
}

/* The first bound, for the survivors a of bitmap word w once the heap is
 * full (plain queries: see offer()): the concerns exactly from the concern
 * rows, the records at the best they can give (struct cat_best), everything
 * else at 1, so most candidates are ranked out before any of their records is
 * read. Returns the survivors that may still enter. */
static inline __attribute__((always_inline)) uint64_t
bound_word(const struct query *q, size_t w, uint64_t a, float floor_score)
{
	const struct catalog *c = q->cat;
	uint64_t any[INTAKE_MAX_CONCERNS], spec[INTAKE_MAX_CONCERNS];
	for (int r = 0; r < q->n_concerns; r++) {
		any[r] = cat_bm(c, BM_CONCERN + q->concern_idx[r])[w];
		spec[r] = cat_bm(c, BM_SPECIALIST + q->concern_idx[r])[w];
	}
	float need = floor_score - q->w_rest, wc = q->w[COMP_CONCERNS] * q->inv_concern_total;
	for (uint64_t b = a; b; b &= b - 1) {
		unsigned j = (unsigned)__builtin_ctzll(b);
		unsigned acc = 0;
		for (int r = 0; r < q->n_concerns; r++)
			acc += q->concern_prio[r] *
			    (unsigned)(((any[r] >> j) & 1) + ((spec[r] >> j) & 1));
		struct cat_best best = c->best[w * 64 + j];
		float ba = (float)best.a, bo = (float)best.o;
		ba = ba > q->a_prior ? ba : q->a_prior;
		bo = bo > q->o_prior_units ? bo : q->o_prior_units;
		if (wc * (float)acc + q->best_a_w * ba + q->best_o_w * bo < need)
			a &= ~WBIT(j);
	}
	return a;
}

/* Score survivor i and offer it to the heap; returns the new heap size. */
static inline __attribute__((always_inline)) size_t
offer(const struct query *q, size_t i, size_t k, struct cand *heap, size_t hn)
{
	const struct cat_hot *h = &q->cat->hot[i];
	const struct cat_score *sc = &q->cat->score[i];
	const struct cat_rec *rc = &q->cat->rec[i];
	float comp[COMP_COUNT];
	int overlap = q->f_avail ? pc64(h->avail[0] & q->avail[0]) +
	        pc64(h->avail[1] & q->avail[1]) + pc64(h->avail[2] & q->avail[2])
	                         : 0;
	/* Bound pruning once the heap is full (plain queries only: the
	 * colleague bonus and need tier reorder): a candidate whose best
	 * possible score is below the worst kept one cannot enter. The
	 * margin absorbs float rounding, so pruning never changes a result. */
	if (hn == k && q->plain) {
		float floor_score = heap[0].score - 1e-3f;
		/* Second bound (the first, bound_word(), let it through): the
		 * concerns exactly, the therapist's own records at their best
		 * (record_hi: without the arena), everything else at 1. */
		float c = (q->used & BIT(COMP_CONCERNS)) ? comp_concerns(q, h) : 0;
		bool any = ((rc->pc_mask[0] & q->concern_mask[0]) |
		               (rc->pc_mask[1] & q->concern_mask[1])) != 0;
		float ra = shrink((float)rc->a_n, rc->a_mean, q->a_prior, q->k);
		float ro = shrink((float)rc->o_n, rc->o_mean, q->o_prior, q->k);
		float records_hi = q->w[COMP_ALLIANCE_RECORD] *
		        (record_hi(ra, any, rc->a_top, (float)rc->a_top_n, q->kc) / 100.0f) +
		    q->w[COMP_OUTCOME_RECORD] *
		        record_hi(ro, any, rc->o_top, (float)rc->o_top_n, q->kc);
		if (q->w[COMP_CONCERNS] * c + records_hi + q->w_rest < floor_score)
			return hn;
		/* Third: every component but the records exactly. */
		components_cheap(q, h, sc, overlap, comp);
		float cheap = 0;
		for (int ci = 0; ci < COMP_COUNT; ci++)
			if (ci != COMP_ALLIANCE_RECORD && ci != COMP_OUTCOME_RECORD)
				cheap += q->w[ci] * comp[ci];
		if (cheap + records_hi < floor_score)
			return hn;
	} else
		components_cheap(q, h, sc, overlap, comp);
	components_records(q, rc, comp);
	float score = 0;
	for (int ci = 0; ci < COMP_COUNT; ci++)
		score += q->w[ci] * comp[ci];
	struct cand cd = { score, (uint16_t)(sc->capacity - sc->caseload), 0, sc->id, (uint32_t)i };
	if (!q->plain)
		cd.score = adjust_score(q, h, sc, score, &cd.tier);
	if (hn < k) {
		heap[hn] = cd;
		heap_up(heap, hn++);
	} else if (better(&cd, &heap[0])) {
		heap[0] = cd;
		heap_down(heap, hn, 0);
	}
	return hn;
}

/* The candidates of the block from bitmap word w0: the filters on the
 * bitmaps, then (once the heap is full) the first bound; their records are
 * fetched now and scored a block later, so memory and compute overlap.
 * Returns how many were written to surv[]. */
static inline __attribute__((always_inline)) size_t
block_candidates(const struct query *q, size_t w0, size_t k, const struct cand *heap, size_t hn,
    uint32_t excl[EXCL_COUNT + 1], size_t *ep, uint32_t surv[SCAN_BLOCK])
{
	const struct catalog *c = q->cat;
	const size_t words = (c->n + 63) / 64;
	size_t m = 0;
	for (size_t w = w0; w < w0 + SCAN_WORDS && w < words; w++) {
		uint64_t a = filter_word(q, w, excl, ep);
		if (a && hn == k && q->plain)
			a = bound_word(q, w, a, heap[0].score - 1e-3f);
		for (; a; a &= a - 1) {
			size_t i = w * 64 + (size_t)__builtin_ctzll(a);
			surv[m++] = (uint32_t)i;
			__builtin_prefetch(&c->hot[i]);
			__builtin_prefetch(&c->rec[i]);
			__builtin_prefetch((const char *)&c->rec[i + 1] - 1);
			__builtin_prefetch(&c->score[i]);
		}
	}
	return m;
}

/* The pass, a block of SCAN_BLOCK slots at a time: the candidates of the next
 * block found (block_candidates) while those of this one are scored.
 * excl[EXCL_COUNT] counts the survivors of the filters. Returns the heap
 * size. */
SCAN_TARGET static size_t
scan(const struct query *q, size_t k, struct cand *heap, uint32_t excl[EXCL_COUNT + 1])
{
	const size_t words = (q->cat->n + 63) / 64;
	uint32_t surv[2][SCAN_BLOCK];
	size_t hn = 0, ep = 0, cur = 0;
	size_t m = block_candidates(q, 0, k, heap, hn, excl, &ep, surv[0]);
	for (size_t w0 = 0; w0 < words; w0 += SCAN_WORDS, cur ^= 1) {
		size_t next = w0 + SCAN_WORDS < words
		    ? block_candidates(q, w0 + SCAN_WORDS, k, heap, hn, excl, &ep, surv[cur ^ 1])
		    : 0;
		for (size_t j = 0; j < m; j++)
			hn = offer(q, surv[cur][j], k, heap, hn);
		m = next;
	}
	return hn;
}

int
match_run(const struct catalog *c, const struct engine_params *p, const struct intake *in, size_t k,
    struct match_item *out, struct match_summary *sum)
{
	return match_run_adjusted(c, p, in, NULL, k, out, sum);
}

int
match_run_adjusted(const struct catalog *c, const struct engine_params *p, const struct intake *in,
    const struct match_adjust *adj, size_t k, struct match_item *out, struct match_summary *sum)
{
	if (!c || !p || !in || !out || !sum || k == 0)
		return ENGINE_EINVAL;
	if (intake_validate(in, NULL) != 0 || engine_params_validate(p, NULL, NULL) != 0)
		return ENGINE_EINVAL;
	if (k > MATCH_MAX_K)
		k = MATCH_MAX_K;
	struct query q;
	int rc = build_query(&q, c, p, in, adj);
	if (rc)
		return rc;

	uint32_t excl[EXCL_COUNT + 1] = { 0 };
	struct cand heap[MATCH_MAX_K];
	size_t hn = scan(&q, k, heap, excl);

	/* Pop worst-first into the back: out[] ends best-first. */
	size_t m = hn;
	struct cand sorted[MATCH_MAX_K];
	while (hn > 0) {
		sorted[hn - 1] = heap[0];
		heap[0] = heap[--hn];
		heap_down(heap, hn, 0);
	}
	for (size_t i = 0; i < m; i++)
		fill_item(&q, &sorted[i], &out[i]);
	memcpy(sum->excluded, excl, sizeof(sum->excluded)); /* excl[EXCL_COUNT] counts survivors */
	sum->considered = (uint32_t)c->n;
	sum->n_results = (uint32_t)m;
	return 0;
}
