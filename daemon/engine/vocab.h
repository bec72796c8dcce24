/*
 * vocab.h — the tag vocabulary as data, plus tag bitsets.
 *
 * A clinic's config may add tags (a new concern), so tags are not enums: a
 * struct vocab holds, per kind, an ordered list of lowercase snake_case
 * names; a tag's index in its list is its bit in a tagset. Defaults are the
 * lists of docs/matching.md "Vocabulary".
 *
 * Limits: concerns and modalities up to VOCAB_MAX_WIDE (128) tags (bitset
 * of two uint64_t); formats, populations and identity up to VOCAB_MAX_NARROW
 * (64) tags, so they pack into one uint64_t in the hot catalog record.
 *
 * Languages are ISO 639-1 codes packed into 10 bits (lang_pack), not part of
 * the vocabulary.
 *
 * Ownership: vocab_new*() returns a vocab owned by the caller, released with
 * vocab_free(); it copies every name it is given. Name pointers returned by
 * vocab_name() stay valid until vocab_free(). A vocab is read-only once
 * built, so it may be shared between threads.
 */
#ifndef ENGINE_VOCAB_H
#define ENGINE_VOCAB_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define VOCAB_MAX_WIDE   128
#define VOCAB_MAX_NARROW 64
#define VOCAB_NAME_MAX   48 /* including the terminating NUL */

enum vocab_kind {
	VOCAB_CONCERNS,
	VOCAB_MODALITIES,
	VOCAB_FORMATS,
	VOCAB_POPULATIONS,
	VOCAB_IDENTITY,
	VOCAB_KIND_COUNT
};

/* 128-bit tag set; bit i = tag index i of one vocabulary kind. */
struct tagset {
	uint64_t w[2];
};

struct vocab;

/* An empty vocabulary (add tags with vocab_add). NULL on ENOMEM. */
struct vocab *vocab_new(void);
/* The built-in default vocabulary (docs/matching.md "Vocabulary"). NULL on ENOMEM. */
struct vocab *vocab_new_default(void);
void vocab_free(struct vocab *v);

/*
 * Append a tag; returns its index (>= 0) or ENGINE_EINVAL (not lowercase
 * snake_case, empty or too long), ENGINE_EEXIST, ENGINE_EFULL.
 */
int vocab_add(struct vocab *v, enum vocab_kind kind, const char *name);
/* Replace a kind's list by names[0..n) (used when the config gives a list). */
int vocab_set(struct vocab *v, enum vocab_kind kind, const char *const *names, size_t n);
/* Index of name, or -1 when unknown (exact, case-sensitive: tags are lowercase). */
int vocab_lookup(const struct vocab *v, enum vocab_kind kind, const char *name);
/* Name of index, or NULL when out of range. */
const char *vocab_name(const struct vocab *v, enum vocab_kind kind, int idx);
int vocab_count(const struct vocab *v, enum vocab_kind kind);
/* Capacity of a kind: 128 or 64. */
int vocab_capacity(enum vocab_kind kind);
/* "concerns", "modalities", "formats", "populations", "identity". */
const char *vocab_kind_name(enum vocab_kind kind);
/* The built-in default list of a kind (static storage). */
const char *const *vocab_default_list(enum vocab_kind kind, size_t *n);
/* True if name is a valid tag spelling: [a-z][a-z0-9_]*, shorter than VOCAB_NAME_MAX. */
bool vocab_valid_name(const char *name);

/* --- tag sets --- */
static inline void
tagset_clear(struct tagset *s)
{
	s->w[0] = s->w[1] = 0;
}
static inline void
tagset_add(struct tagset *s, int i)
{
	s->w[(unsigned)i >> 6] |= UINT64_C(1) << (i & 63);
}
static inline bool
tagset_has(const struct tagset *s, int i)
{
	return (s->w[(unsigned)i >> 6] >> (i & 63)) & 1;
}
static inline bool
tagset_empty(const struct tagset *s)
{
	return (s->w[0] | s->w[1]) == 0;
}
static inline bool
tagset_intersects(const struct tagset *a, const struct tagset *b)
{
	return ((a->w[0] & b->w[0]) | (a->w[1] & b->w[1])) != 0;
}

/* Population count without relying on -mpopcnt (plain SWAR, branch-free). */
static inline int
engine_popcount64(uint64_t x)
{
	x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
	x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
	x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
	return (int)((x * UINT64_C(0x0101010101010101)) >> 56);
}
static inline int
tagset_count(const struct tagset *s)
{
	return engine_popcount64(s->w[0]) + engine_popcount64(s->w[1]);
}
/* Parse/validate a list of tag names into a set; on an unknown name returns
 * ENGINE_ENOTFOUND and sets *bad to its position. */
int vocab_parse_set(const struct vocab *v, enum vocab_kind kind, const char *const *names, size_t n,
    struct tagset *out, size_t *bad);

/* --- languages: ISO 639-1 two-letter codes --- */
/* Pack "es" (case-insensitive) into 1..1023; 0 if not two ASCII letters. */
uint16_t lang_pack(const char *code);
/* Unpack into out[3] ("es\0"); out[0] = 0 for an invalid code. */
void lang_unpack(uint16_t packed, char out[3]);

#endif
