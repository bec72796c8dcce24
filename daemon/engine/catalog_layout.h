/*
 * catalog_layout.h — the catalog's memory layout, shared by catalog.c and
 * match.c/referral.c only. Everything else goes through catalog.h.
 */
#ifndef ENGINE_CATALOG_LAYOUT_H
#define ENGINE_CATALOG_LAYOUT_H

#include <stdint.h>

#include "engine/catalog.h"
#include "engine/records.h"
#include "engine/vocab.h"

/* Label tables (languages, genders, sites, payers) grow without a fixed limit;
 * the filter bitmaps (and the gender bits of the score record) keep them
 * FOLDED: label index i is bit i % width. While a table has no more labels
 * than its width the bits are exact; beyond, a bit that matches is confirmed
 * against the therapist's exact label indices (struct cat_labels, a cold array
 * read only on a folded hit). */
#define CAT_LANG_BITS   64
#define CAT_GENDER_BITS 63 /* gender (folded index) + 1 must fit a uint64_t mask */
#define CAT_SITE_BITS   32
#define CAT_PAYER_BITS  32
#define CAT_MAX_LABELS  65535 /* indices are uint16_t in struct cat_labels */

#define CAT_HOURS 168 /* the bits of struct avail: day * 24 + hour */

/* The filter bitmaps: one row of bits (bit = slot) per label, so the filters
 * on labels take 64 therapists per AND and never read the records of the
 * therapists they exclude. Row indices: */
enum {
	BM_ACTIVE,
	BM_ACCEPTING,                       /* accepting new clients and caseload below capacity */
	BM_LANG,                            /* + folded language bit */
	BM_SITE = BM_LANG + CAT_LANG_BITS,  /* + folded site bit */
	BM_PAYER = BM_SITE + CAT_SITE_BITS, /* + folded payer bit */
	BM_FORMAT = BM_PAYER + CAT_PAYER_BITS,       /* + format index */
	BM_POP = BM_FORMAT + 64,                     /* + population index */
	BM_FEE = BM_POP + 64,                        /* a self-pay fee is set */
	BM_SLIDING,                                  /* on a sliding scale */
	BM_HOUR,                                     /* + hour of the week (struct avail bit) */
	BM_CONCERN = BM_HOUR + CAT_HOURS,            /* + concern: rated (1 or 2) */
	BM_SPECIALIST = BM_CONCERN + VOCAB_MAX_WIDE, /* + concern: rated 2 */
	BM_ROWS = BM_SPECIALIST + VOCAB_MAX_WIDE
};

static inline unsigned
cat_fold(int index, int width)
{
	return (unsigned)index % (unsigned)width;
}

enum {
	HOT_ACTIVE = 1,
	HOT_ACCEPTING = 2,
	HOT_SLIDING = 4,
};

/* The best a therapist's records can give, a byte each (rounded up, so a
 * bound), in a small array of its own: any mix of overall and per-concern
 * records and the clinic mean (the prior of both) lies between them, so the
 * alliance record (score points) never exceeds max(clinic mean, a), the
 * outcome record max(clinic mean, o / CAT_O_BEST_UNIT). With the concerns from
 * the bitmaps, this bounds a candidate's score before any of its records is
 * read. */
#define CAT_O_BEST_UNIT 250 /* o: share 0-1 in 250ths */
struct cat_best {
	uint8_t a, o;
};

/* 64 bytes, one cache line: what the scorer reads first (the concerns and
 * the hours: the availability component, and the filter when it asks for more
 * than one shared hour), for the candidates the first bound keeps. */
struct cat_hot {
	uint8_t flags;
	uint8_t pad[7];
	uint64_t avail[3];
	uint64_t concerns_any[2];
	uint64_t concerns_spec[2];
};

/* 64 bytes, one cache line, in a parallel array: the rest of what the scorer
 * reads, only for candidates the first bound keeps (and for the rare filters
 * on required preferences), and the labels the bitmaps are made from. */
struct cat_score {
	uint32_t id;
	int8_t style[4];
	uint64_t identity;
	uint64_t modalities[2];
	uint64_t formats;
	uint64_t populations;
	uint16_t capacity;
	uint16_t caseload;
	uint8_t gender; /* interned index (folded) + 1; 0 = not given */
	uint8_t pad[11];
};

/* 48 bytes: the overall records, read only for therapists that pass the
 * filters. pc_mask has bit c for each per-concern record of concern c, and the
 * records lie in the arena (from pc_off) in concern order, so the record of a
 * client concern is found directly (popcount of the mask below it). a_top /
 * o_top (the highest per-concern mean with episodes) and a_top_n / o_top_n (the
 * most episodes of one per-concern record) bound what the per-concern records
 * can add, so most candidates are ranked out without touching the arena. */
struct cat_rec {
	uint64_t pc_mask[2];
	float a_mean, o_mean;
	uint32_t a_n, o_n;
	float a_top, o_top;
	uint16_t a_top_n, o_top_n;
	uint32_t pc_off;
};

/* 16 bytes: one per-concern record, in the catalog's arena (see struct
 * catalog): the records of one therapist are contiguous and sorted by
 * concern, and the arena is kept in slot order, so reading them after the hot
 * record costs no pointer chase and no allocation of its own per therapist.
 * rank is the record's position as the caller gave it: sums over records run
 * in that order, so they do not depend on how the arena is laid out. */
struct cat_pc {
	uint8_t concern;
	uint8_t rank;
	uint16_t a_n, o_n; /* clamped at 65535 */
	uint16_t pad;
	float a_mean, o_mean;
};

/* A therapist's exact label indices (cold: read only when a folded bit matched
 * in a table wider than its bits, and for the reasons of the winners). */
struct cat_labels {
	uint16_t gender; /* index + 1; 0 = not given */
	uint8_t n_langs, n_sites, n_payers;
	uint16_t langs[PROFILE_MAX_LANGS];
	uint16_t sites[PROFILE_MAX_SITES];
	uint16_t payers[PROFILE_MAX_PAYERS];
};

/* A growable table of interned lowercase strings (at most 31 bytes). */
struct cat_strtab {
	char (*v)[32];
	int n, cap;
};

struct catalog {
	size_t n, cap;
	struct cat_hot *hot;     /* aligned to 64 */
	struct cat_score *score; /* aligned to 64 */
	struct cat_rec *rec;
	/* per-concern records: slot i has n_pc[i] of them at pc[rec[i].pc_off];
	 * replaced ones leave garbage, compacted (in slot order) once it is
	 * more than half of the arena */
	struct cat_pc *pc;
	size_t pc_used, pc_cap, pc_garbage;
	uint8_t *n_pc;
	struct cat_labels *lab; /* per slot */
	uint16_t *fee;          /* per slot: self-pay fee, 0 = none */
	struct cat_best *best;  /* per slot */
	/* filter bitmaps: row r (BM_*) is bm[r * bm_words ...], bm_words = cap / 64 */
	uint64_t *bm;
	size_t bm_words;
	uint64_t formats_seen, pops_seen; /* format / population rows ever set */
	/* id -> slot, open addressing with linear probing; key 0 = empty */
	uint32_t *map_key, *map_slot;
	size_t map_cap;
	/* interned strings */
	uint16_t *langs;
	int n_langs, cap_langs;
	struct cat_strtab genders, sites, payers;
	/* clinic totals: the prior of every overall record (per-concern
	 * records shrink toward the therapist's own, records.h) */
	struct record_total a_total, o_total;
};

/* Position of concern t's record among a therapist's records (its bit must be
 * set in mask): the records below it in concern order. */
static inline uint32_t
pc_index(const uint64_t mask[2], unsigned t)
{
	uint64_t below = (UINT64_C(1) << (t & 63)) - 1;
	return t < 64
	    ? (uint32_t)__builtin_popcountll(mask[0] & below)
	    : (uint32_t)(__builtin_popcountll(mask[0]) + __builtin_popcountll(mask[1] & below));
}

/* Row r of the filter bitmaps. */
static inline const uint64_t *
cat_bm(const struct catalog *c, unsigned r)
{
	return c->bm + (size_t)r * c->bm_words;
}

/* Slot of id, or -1. */
long catalog_slot(const struct catalog *c, uint32_t id);
/* Interned index (case-insensitive for strings), or -1 when the catalog never
 * saw it. The hot bit of index i is cat_fold(i, CAT_*_BITS). */
int catalog_lang_bit(const struct catalog *c, uint16_t code);
int catalog_gender_index(const struct catalog *c, const char *gender);
int catalog_site_bit(const struct catalog *c, const char *site);
int catalog_payer_bit(const struct catalog *c, const char *payer);

#endif
