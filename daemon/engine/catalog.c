/* catalog.c — the therapist catalog (see catalog.h and catalog_layout.h). */
#include "engine/catalog_layout.h"
#include "engine/engine_err.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(struct cat_hot) == 64, "filter record must stay one cache line");
_Static_assert(sizeof(struct cat_score) == 64, "score record must stay one cache line");
_Static_assert(sizeof(struct cat_rec) == 48, "record summary must stay 48 bytes");
_Static_assert(RECORDS_MAX_CONCERNS <= 256, "struct cat_pc keeps a record's rank in a byte");

struct catalog *
catalog_new(void)
{
	return calloc(1, sizeof(struct catalog));
}

void
catalog_free(struct catalog *c)
{
	if (!c)
		return;
	free(c->hot);
	free(c->score);
	free(c->rec);
	free(c->pc);
	free(c->n_pc);
	free(c->lab);
	free(c->fee);
	free(c->best);
	free(c->bm);
	free(c->langs);
	free(c->genders.v);
	free(c->sites.v);
	free(c->payers.v);
	free(c->map_key);
	free(c->map_slot);
	free(c);
}

/* --- id -> slot map --- */

static size_t
hash_id(uint32_t id, size_t cap)
{
	return (size_t)((id * UINT32_C(2654435761)) & (uint32_t)(cap - 1));
}

long
catalog_slot(const struct catalog *c, uint32_t id)
{
	if (!c || !c->map_cap || id == 0)
		return -1;
	for (size_t i = hash_id(id, c->map_cap);; i = (i + 1) & (c->map_cap - 1)) {
		if (c->map_key[i] == id)
			return (long)c->map_slot[i];
		if (c->map_key[i] == 0)
			return -1;
	}
}

static void
map_put(struct catalog *c, uint32_t id, uint32_t slot)
{
	size_t i = hash_id(id, c->map_cap);
	while (c->map_key[i] != 0 && c->map_key[i] != id)
		i = (i + 1) & (c->map_cap - 1);
	c->map_key[i] = id;
	c->map_slot[i] = slot;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void
map_del(struct catalog *c, uint32_t id)
{
	size_t mask = c->map_cap - 1, i = hash_id(id, c->map_cap);
	while (c->map_key[i] != id) {
		if (c->map_key[i] == 0)
			return;
		i = (i + 1) & mask;
	}
	size_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (c->map_key[j] == 0)
			break;
		size_t home = hash_id(c->map_key[j], c->map_cap);
		/* move j back to i unless its home lies cyclically in (i, j] */
		int in_range = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!in_range) {
			c->map_key[i] = c->map_key[j];
			c->map_slot[i] = c->map_slot[j];
			i = j;
		}
	}
	c->map_key[i] = 0;
}

static int
map_grow(struct catalog *c, size_t want)
{
	size_t cap = 64;
	while (cap < want * 2)
		cap <<= 1;
	if (cap <= c->map_cap)
		return 0;
	uint32_t *k = calloc(cap, sizeof(*k));
	uint32_t *s = calloc(cap, sizeof(*s));
	if (!k || !s)
		goto fail;
	uint32_t *ok = c->map_key, *os = c->map_slot;
	size_t ocap = c->map_cap;
	c->map_key = k;
	c->map_slot = s;
	c->map_cap = cap;
	for (size_t i = 0; i < ocap; i++)
		if (ok[i])
			map_put(c, ok[i], os[i]);
	free(ok);
	free(os);
	return 0;
fail:
	free(k);
	free(s);
	return ENGINE_ENOMEM;
}

/* Room for cap therapists (a multiple of 64, above c->cap): every array is
 * reallocated and copied once. */
static int
grow_to(struct catalog *c, size_t cap)
{
	if (map_grow(c, cap) != 0) /* first, so the map always has room for cap ids */
		return ENGINE_ENOMEM;
	struct cat_hot *hot = aligned_alloc(64, cap * sizeof(struct cat_hot));
	struct cat_score *score = aligned_alloc(64, cap * sizeof(struct cat_score));
	struct cat_rec *rec = NULL;
	uint8_t *n_pc = NULL;
	struct cat_labels *lab = NULL;
	uint16_t *fee = NULL;
	struct cat_best *best = NULL;
	uint64_t *bm = calloc(BM_ROWS * (cap / 64), sizeof(*bm)); /* cap: a multiple of 64 */
	if (!hot || !score || !bm)
		goto fail;
	rec = realloc(c->rec, cap * sizeof(*rec));
	if (!rec)
		goto fail;
	c->rec = rec;
	n_pc = realloc(c->n_pc, cap * sizeof(*n_pc));
	if (!n_pc)
		goto fail;
	c->n_pc = n_pc;
	lab = realloc(c->lab, cap * sizeof(*lab));
	if (!lab)
		goto fail;
	c->lab = lab;
	fee = realloc(c->fee, cap * sizeof(*fee));
	if (!fee)
		goto fail;
	c->fee = fee;
	best = realloc(c->best, cap * sizeof(*best));
	if (!best)
		goto fail;
	c->best = best;
	if (c->n) {
		memcpy(hot, c->hot, c->n * sizeof(*hot));
		memcpy(score, c->score, c->n * sizeof(*score));
	}
	for (size_t r = 0; r < BM_ROWS && c->bm; r++)
		memcpy(bm + r * (cap / 64), c->bm + r * c->bm_words, c->bm_words * sizeof(*bm));
	free(c->hot);
	free(c->score);
	free(c->bm);
	c->hot = hot;
	c->score = score;
	c->bm = bm;
	c->bm_words = cap / 64;
	c->cap = cap;
	return 0;
fail:
	free(hot);
	free(score);
	free(bm);
	return ENGINE_ENOMEM;
}

static int
grow(struct catalog *c)
{
	if (c->n < c->cap)
		return 0;
	return grow_to(c, c->cap ? c->cap * 2 : 256);
}

int
catalog_reserve(struct catalog *c, size_t n)
{
	size_t cap = c->cap ? c->cap : 256;

	if (n <= c->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	return grow_to(c, cap);
}

/* --- filter bitmaps --- */

static void
bm_put(struct catalog *c, unsigned row, size_t s, bool on)
{
	uint64_t *w = &c->bm[(size_t)row * c->bm_words + s / 64];
	uint64_t bit = UINT64_C(1) << (s % 64);
	*w = on ? *w | bit : *w & ~bit;
}

static bool
accepting(const struct catalog *c, size_t s)
{
	return (c->hot[s].flags & HOT_ACCEPTING) && c->score[s].caseload < c->score[s].capacity;
}

/* Set (on) or clear slot s in the rows its records name: clear before the
 * records of a slot change, set after. */
static void
bm_slot(struct catalog *c, size_t s, bool on)
{
	const struct cat_hot *h = &c->hot[s];
	const struct cat_score *sc = &c->score[s];
	const struct cat_labels *lab = &c->lab[s];
	bm_put(c, BM_ACTIVE, s, on && (h->flags & HOT_ACTIVE));
	bm_put(c, BM_ACCEPTING, s, on && accepting(c, s));
	for (int i = 0; i < lab->n_langs; i++)
		bm_put(c, BM_LANG + cat_fold(lab->langs[i], CAT_LANG_BITS), s, on);
	for (int i = 0; i < lab->n_sites; i++)
		bm_put(c, BM_SITE + cat_fold(lab->sites[i], CAT_SITE_BITS), s, on);
	for (int i = 0; i < lab->n_payers; i++)
		bm_put(c, BM_PAYER + cat_fold(lab->payers[i], CAT_PAYER_BITS), s, on);
	for (uint64_t f = sc->formats; f; f &= f - 1)
		bm_put(c, BM_FORMAT + (unsigned)__builtin_ctzll(f), s, on);
	for (uint64_t f = sc->populations; f; f &= f - 1)
		bm_put(c, BM_POP + (unsigned)__builtin_ctzll(f), s, on);
	bm_put(c, BM_FEE, s, on && c->fee[s] != 0);
	bm_put(c, BM_SLIDING, s, on && (h->flags & HOT_SLIDING));
	for (unsigned w = 0; w < 2; w++) {
		for (uint64_t b = h->concerns_any[w]; b; b &= b - 1)
			bm_put(c, BM_CONCERN + w * 64 + (unsigned)__builtin_ctzll(b), s, on);
		for (uint64_t b = h->concerns_spec[w]; b; b &= b - 1)
			bm_put(c, BM_SPECIALIST + w * 64 + (unsigned)__builtin_ctzll(b), s, on);
	}
	for (unsigned w = 0; w < 3; w++)
		for (uint64_t b = h->avail[w]; b; b &= b - 1) {
			unsigned hour = w * 64 + (unsigned)__builtin_ctzll(b);
			if (hour < CAT_HOURS)
				bm_put(c, BM_HOUR + hour, s, on);
		}
	if (on) {
		c->formats_seen |= sc->formats;
		c->pops_seen |= sc->populations;
	}
}

/* --- interning --- */

static int
lower(int ch)
{
	return (ch >= 'A' && ch <= 'Z') ? ch - 'A' + 'a' : ch;
}

static int
streq_ci(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (lower((unsigned char)*a) != lower((unsigned char)*b))
			return 0;
	return *a == *b;
}

static int
find_str(const struct cat_strtab *t, const char *s)
{
	for (int i = 0; i < t->n; i++)
		if (streq_ci(t->v[i], s))
			return i;
	return -1;
}

/* Intern s (lowercased, at most 31 bytes); -1 when too long,
 * ENGINE_ENOMEM, or beyond CAT_MAX_LABELS (ENGINE_EFULL). */
static int
intern_str(struct cat_strtab *t, const char *s, int *err)
{
	int i = find_str(t, s);
	if (i >= 0)
		return i;
	if (strlen(s) >= 32 || t->n >= CAT_MAX_LABELS) {
		*err = ENGINE_EFULL;
		return -1;
	}
	if (t->n == t->cap) {
		int cap = t->cap ? t->cap * 2 : 32;
		char(*v)[32] = realloc(t->v, (size_t)cap * sizeof(*v));
		if (!v) {
			*err = ENGINE_ENOMEM;
			return -1;
		}
		t->v = v;
		t->cap = cap;
	}
	size_t k = 0;
	for (; s[k]; k++)
		t->v[t->n][k] = (char)lower((unsigned char)s[k]);
	t->v[t->n][k] = 0;
	return t->n++;
}

static int
intern_lang(struct catalog *c, uint16_t code, int *err)
{
	int b = catalog_lang_bit(c, code);
	if (b >= 0)
		return b;
	if (c->n_langs >= CAT_MAX_LABELS) {
		*err = ENGINE_EFULL;
		return -1;
	}
	if (c->n_langs == c->cap_langs) {
		int cap = c->cap_langs ? c->cap_langs * 2 : 64;
		uint16_t *v = realloc(c->langs, (size_t)cap * sizeof(*v));
		if (!v) {
			*err = ENGINE_ENOMEM;
			return -1;
		}
		c->langs = v;
		c->cap_langs = cap;
	}
	c->langs[c->n_langs] = code;
	return c->n_langs++;
}

int
catalog_lang_bit(const struct catalog *c, uint16_t code)
{
	for (int i = 0; i < c->n_langs; i++)
		if (c->langs[i] == code)
			return i;
	return -1;
}

int
catalog_gender_index(const struct catalog *c, const char *g)
{
	return find_str(&c->genders, g);
}

int
catalog_site_bit(const struct catalog *c, const char *s)
{
	return find_str(&c->sites, s);
}

int
catalog_payer_bit(const struct catalog *c, const char *s)
{
	return find_str(&c->payers, s);
}

/* Fill the filter and score records and the exact labels; interning fails only with
 * ENGINE_ENOMEM or ENGINE_EFULL (a string over 31 bytes, or CAT_MAX_LABELS
 * distinct labels of one kind). The tables only grow, so a failed upsert
 * leaves harmless extra entries but no half-written record. */
static int
build_hot(struct catalog *c, const struct therapist_profile *p, struct cat_hot *h,
    struct cat_score *sc, struct cat_labels *lab, uint16_t *fee)
{
	int err = 0;
	memset(h, 0, sizeof(*h));
	memset(sc, 0, sizeof(*sc));
	memset(lab, 0, sizeof(*lab));
	sc->id = p->id;
	h->flags = (uint8_t)((p->active ? HOT_ACTIVE : 0) | (p->accepting_new ? HOT_ACCEPTING : 0) |
	    (p->sliding_scale ? HOT_SLIDING : 0));
	if (p->gender[0]) {
		int g = intern_str(&c->genders, p->gender, &err);
		if (g < 0)
			return err;
		sc->gender = (uint8_t)(cat_fold(g, CAT_GENDER_BITS) + 1);
		lab->gender = (uint16_t)(g + 1);
	}
	sc->capacity = p->capacity;
	*fee = p->self_pay_fee;
	memcpy(sc->style, p->style, sizeof(sc->style));
	for (int i = 0; i < p->n_languages; i++) {
		int b = intern_lang(c, p->languages[i], &err);
		if (b < 0)
			return err;
		lab->langs[lab->n_langs++] = (uint16_t)b;
	}
	for (int i = 0; i < p->n_sites; i++) {
		int b = intern_str(&c->sites, p->sites[i], &err);
		if (b < 0)
			return err;
		lab->sites[lab->n_sites++] = (uint16_t)b;
	}
	for (int i = 0; i < p->n_payers; i++) {
		int b = intern_str(&c->payers, p->payers[i], &err);
		if (b < 0)
			return err;
		lab->payers[lab->n_payers++] = (uint16_t)b;
	}
	sc->formats = p->formats;
	sc->populations = p->populations;
	memcpy(h->avail, p->availability.w, sizeof(h->avail));
	sc->identity = p->identity;
	memcpy(h->concerns_any, p->concerns_any.w, sizeof(h->concerns_any));
	memcpy(h->concerns_spec, p->concerns_specialist.w, sizeof(h->concerns_spec));
	memcpy(sc->modalities, p->modalities.w, sizeof(sc->modalities));
	return 0;
}

int
catalog_upsert(struct catalog *c, const struct therapist_profile *p)
{
	if (!c || !p || profile_validate(p, NULL) != 0)
		return ENGINE_EINVAL;
	struct cat_hot h;
	struct cat_score sc;
	struct cat_labels lab;
	uint16_t fee = 0;
	int rc = build_hot(c, p, &h, &sc, &lab, &fee);
	if (rc)
		return rc;
	long s = catalog_slot(c, p->id);
	if (s >= 0) {
		sc.caseload = c->score[s].caseload;
		bm_slot(c, (size_t)s, false);
		c->hot[s] = h;
		c->score[s] = sc;
		c->lab[s] = lab;
		c->fee[s] = fee;
		bm_slot(c, (size_t)s, true);
		return 0;
	}
	rc = grow(c);
	if (rc)
		return rc;
	size_t i = c->n++;
	c->hot[i] = h;
	c->score[i] = sc;
	c->lab[i] = lab;
	c->fee[i] = fee;
	c->best[i] = (struct cat_best){ 0, 0 };
	memset(&c->rec[i], 0, sizeof(c->rec[i]));
	c->n_pc[i] = 0;
	bm_slot(c, i, true);
	map_put(c, p->id, (uint32_t)i);
	return 0;
}

/* Take a slot's records out of the clinic totals. */
static void
totals_remove(struct catalog *c, size_t s)
{
	struct record a = { c->rec[s].a_n, c->rec[s].a_mean };
	struct record o = { c->rec[s].o_n, c->rec[s].o_mean };
	record_total_sub(&c->a_total, &a);
	record_total_sub(&c->o_total, &o);
}

int
catalog_remove(struct catalog *c, uint32_t id)
{
	long s = catalog_slot(c, id);
	if (s < 0)
		return ENGINE_ENOTFOUND;
	totals_remove(c, (size_t)s);
	c->pc_garbage += c->n_pc[s];
	map_del(c, id);
	size_t last = c->n - 1;
	bm_slot(c, (size_t)s, false);
	if ((size_t)s != last) {
		bm_slot(c, last, false);
		c->hot[s] = c->hot[last];
		c->score[s] = c->score[last];
		c->rec[s] = c->rec[last];
		c->n_pc[s] = c->n_pc[last];
		c->lab[s] = c->lab[last];
		c->fee[s] = c->fee[last];
		c->best[s] = c->best[last];
		map_put(c, c->score[s].id, (uint32_t)s);
		bm_slot(c, (size_t)s, true);
	}
	c->n--;
	return 0;
}

int
catalog_set_caseload(struct catalog *c, uint32_t id, unsigned caseload)
{
	long s = catalog_slot(c, id);
	if (s < 0)
		return ENGINE_ENOTFOUND;
	c->score[s].caseload = (uint16_t)(caseload > UINT16_MAX ? UINT16_MAX : caseload);
	bm_put(c, BM_ACCEPTING, (size_t)s, accepting(c, (size_t)s));
	return 0;
}

int
catalog_caseload_add(struct catalog *c, uint32_t id, int delta)
{
	long s = catalog_slot(c, id);
	if (s < 0)
		return ENGINE_ENOTFOUND;
	long v = (long)c->score[s].caseload + delta;
	c->score[s].caseload = (uint16_t)(v < 0 ? 0 : v > UINT16_MAX ? UINT16_MAX : v);
	bm_put(c, BM_ACCEPTING, (size_t)s, accepting(c, (size_t)s));
	return 0;
}

/* Rewrite the arena in slot order without garbage. */
static int
pc_compact(struct catalog *c, size_t extra)
{
	size_t live = c->pc_used - c->pc_garbage, cap = 64;
	while (cap < (live + extra) * 2)
		cap <<= 1;
	struct cat_pc *v = malloc(cap * sizeof(*v));
	if (!v)
		return ENGINE_ENOMEM;
	size_t used = 0;
	for (size_t i = 0; i < c->n; i++) {
		memcpy(&v[used], &c->pc[c->rec[i].pc_off], c->n_pc[i] * sizeof(*v));
		c->rec[i].pc_off = (uint32_t)used;
		used += c->n_pc[i];
	}
	free(c->pc);
	c->pc = v;
	c->pc_cap = cap;
	c->pc_used = used;
	c->pc_garbage = 0;
	return 0;
}

/* Room for want records of slot s: in place when they fit, else at the end. */
static int
pc_place(struct catalog *c, size_t s, size_t want, uint32_t *off)
{
	if (want <= c->n_pc[s]) {
		c->pc_garbage += c->n_pc[s] - want;
		*off = c->rec[s].pc_off;
		return 0;
	}
	c->pc_garbage += c->n_pc[s];
	c->n_pc[s] = 0;
	if (c->pc_garbage > 4096 && c->pc_garbage * 2 > c->pc_used) {
		if (pc_compact(c, want) != 0)
			return ENGINE_ENOMEM;
	} else if (c->pc_used + want > c->pc_cap) {
		size_t cap = c->pc_cap ? c->pc_cap * 2 : 1024;
		while (cap < c->pc_used + want)
			cap *= 2;
		struct cat_pc *v = realloc(c->pc, cap * sizeof(*v));
		if (!v)
			return ENGINE_ENOMEM;
		c->pc = v;
		c->pc_cap = cap;
	}
	if (c->pc_used + want > UINT32_MAX)
		return ENGINE_EFULL;
	*off = (uint32_t)c->pc_used;
	c->pc_used += want;
	return 0;
}

static uint16_t
clamp16(uint32_t n)
{
	return (uint16_t)(n > UINT16_MAX ? UINT16_MAX : n);
}

/* max(a, b) in units, rounded up (a bound), within [0, max]. */
static uint8_t
best_byte(float a, float b, float unit, int max)
{
	float v = (a > b ? a : b) * unit;
	int u = (int)v;
	if ((float)u < v)
		u++;
	return (uint8_t)(u < 0 ? 0 : u > max ? max : u);
}

int
catalog_set_records(struct catalog *c, uint32_t id, const struct therapist_records *r)
{
	long s = catalog_slot(c, id);
	if (s < 0)
		return ENGINE_ENOTFOUND;
	if (therapist_records_validate(r, VOCAB_MAX_WIDE) != 0)
		return ENGINE_EINVAL;
	uint32_t off = 0;
	int rc = pc_place(c, (size_t)s, r->n_per_concern, &off);
	if (rc)
		return rc;
	totals_remove(c, (size_t)s);
	c->n_pc[s] = r->n_per_concern;
	struct cat_rec *rs = &c->rec[s];
	memset(rs, 0, sizeof(*rs));
	rs->pc_off = off;
	rs->a_mean = (float)r->alliance.mean;
	rs->o_mean = (float)r->outcome.mean;
	rs->a_n = r->alliance.n;
	rs->o_n = r->outcome.n;
	for (int i = 0; i < r->n_per_concern; i++) {
		const struct concern_record *x = &r->per_concern[i];
		rs->pc_mask[x->concern >> 6] |= UINT64_C(1) << (x->concern & 63);
	}
	/* in concern order (the mask's order): concerns are distinct (validated) */
	for (int i = 0; i < r->n_per_concern; i++) {
		const struct concern_record *x = &r->per_concern[i];
		struct cat_pc v = { x->concern, (uint8_t)i, clamp16(x->alliance.n),
			clamp16(x->outcome.n), 0, (float)x->alliance.mean, (float)x->outcome.mean };
		c->pc[off + pc_index(rs->pc_mask, x->concern)] = v;
		/* the bounds use the stored (clamped, float) values the pass uses */
		if (v.a_n) {
			rs->a_top = v.a_mean > rs->a_top ? v.a_mean : rs->a_top;
			rs->a_top_n = v.a_n > rs->a_top_n ? v.a_n : rs->a_top_n;
		}
		if (v.o_n) {
			rs->o_top = v.o_mean > rs->o_top ? v.o_mean : rs->o_top;
			rs->o_top_n = v.o_n > rs->o_top_n ? v.o_n : rs->o_top_n;
		}
	}
	if (!r->alliance.n)
		rs->a_mean = 0;
	if (!r->outcome.n)
		rs->o_mean = 0;
	c->best[s].a = best_byte(rs->a_n ? rs->a_mean : 0, rs->a_top, 1, 100);
	c->best[s].o =
	    best_byte(rs->o_n ? rs->o_mean : 0, rs->o_top, CAT_O_BEST_UNIT, CAT_O_BEST_UNIT);
	/* totals use the stored (float) values so removal subtracts exactly what was added */
	struct record a = { c->rec[s].a_n, c->rec[s].a_mean };
	struct record o = { c->rec[s].o_n, c->rec[s].o_mean };
	record_total_add(&c->a_total, &a);
	record_total_add(&c->o_total, &o);
	return 0;
}

size_t
catalog_count(const struct catalog *c)
{
	return c ? c->n : 0;
}

int
catalog_lookup(const struct catalog *c, uint32_t id, unsigned *caseload, unsigned *capacity)
{
	long s = catalog_slot(c, id);
	if (s < 0)
		return 0;
	if (caseload)
		*caseload = c->score[s].caseload;
	if (capacity)
		*capacity = c->score[s].capacity;
	return 1;
}

double
catalog_clinic_alliance(const struct catalog *c, double *n)
{
	if (n)
		*n = c->a_total.n;
	return record_total_mean(&c->a_total);
}

double
catalog_clinic_outcome(const struct catalog *c, double *n)
{
	if (n)
		*n = c->o_total.n;
	return record_total_mean(&c->o_total);
}

size_t
catalog_scan_memory(const struct catalog *c, const void **ptr, size_t *bytes, size_t max)
{
	const void *p[3] = { c->hot, c->score, c->rec };
	size_t b[3] = { c->n * sizeof(struct cat_hot), c->n * sizeof(struct cat_score),
		c->n * sizeof(struct cat_rec) };
	size_t n = max < 3 ? max : 3;
	for (size_t i = 0; i < n; i++) {
		ptr[i] = p[i];
		bytes[i] = b[i];
	}
	return n;
}
