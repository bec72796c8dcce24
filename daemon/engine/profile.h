/*
 * profile.h — a therapist profile and a client intake as plain structs,
 * plus the 168-hour weekly availability mask.
 *
 * The server fills these from JSON (tags through vocab.h, languages through
 * lang_pack). Strings (gender, sites, payers) are copied into fixed arrays so
 * the structs own nothing and can be copied by value. A missing preference is
 * the "empty" value (empty set, n = 0, style axis not given), meaning "no
 * preference" (docs/matching.md).
 */
#ifndef ENGINE_PROFILE_H
#define ENGINE_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/vocab.h"

/* --- availability: bit (day * 24 + hour), day 0 = Monday, clinic-local time --- */
struct avail {
	uint64_t w[3]; /* 168 bits used, upper 24 bits of w[2] always 0 */
};

/* "mon".."sun" → 0..6, -1 otherwise. */
int avail_day_index(const char *day);
/* Add hours [from_hour, to_hour) of a day; 0 <= from < to <= 24.
 * ENGINE_EINVAL on a bad day or range. */
int avail_add(struct avail *a, int day, int from_hour, int to_hour);
static inline void
avail_clear(struct avail *a)
{
	a->w[0] = a->w[1] = a->w[2] = 0;
}
int avail_hours(const struct avail *a);
int avail_overlap(const struct avail *a, const struct avail *b);
static inline bool
avail_empty(const struct avail *a)
{
	return (a->w[0] | a->w[1] | a->w[2]) == 0;
}

/* --- style: Cooper–Norcross preference dimensions, each -3..+3 --- */
enum style_axis {
	STYLE_DIRECTIVENESS,
	STYLE_EMOTIONAL_INTENSITY,
	STYLE_PAST_ORIENTATION,
	STYLE_CHALLENGE,
	STYLE_AXES
};
/* "directiveness", "emotional_intensity", "past_orientation", "challenge". */
const char *style_axis_name(enum style_axis a);
int style_axis_index(const char *name); /* -1 if unknown */

#define PROFILE_MAX_LANGS  8
#define PROFILE_MAX_SITES  8
#define PROFILE_MAX_PAYERS 16
#define PROFILE_STR_MAX    32 /* gender, site, payer strings, including NUL */

/* Level of a concern a therapist rates: 1 = experienced, 2 = specialist. */
enum concern_level { CONCERN_NONE = 0, CONCERN_EXPERIENCED = 1, CONCERN_SPECIALIST = 2 };

struct therapist_profile {
	uint32_t id;                           /* the database id; never 0 */
	char gender[PROFILE_STR_MAX];          /* free short string, "" = not given */
	uint16_t languages[PROFILE_MAX_LANGS]; /* lang_pack codes */
	uint8_t n_languages;
	struct tagset concerns_any;        /* concerns rated 1 or 2 */
	struct tagset concerns_specialist; /* concerns rated 2 (subset of concerns_any) */
	struct tagset modalities;
	uint64_t formats, populations, identity; /* narrow vocab kinds */
	char sites[PROFILE_MAX_SITES][PROFILE_STR_MAX];
	uint8_t n_sites;
	char payers[PROFILE_MAX_PAYERS][PROFILE_STR_MAX];
	uint8_t n_payers;
	int8_t style[STYLE_AXES]; /* -3..+3 */
	struct avail availability;
	uint16_t self_pay_fee; /* 0 = no fee set */
	bool sliding_scale;
	uint16_t capacity; /* maximum caseload */
	bool accepting_new;
	bool active;
};

/* Zero a profile (no tags, no availability, inactive). */
void therapist_profile_init(struct therapist_profile *p, uint32_t id);
/* Rate a concern; level CONCERN_NONE clears it. ENGINE_EINVAL on a bad index/level. */
int profile_set_concern(struct therapist_profile *p, int concern, enum concern_level level);
enum concern_level profile_concern_level(const struct therapist_profile *p, int concern);
int profile_add_language(struct therapist_profile *p, const char *iso639_1);
int profile_add_site(struct therapist_profile *p, const char *site);
int profile_add_payer(struct therapist_profile *p, const char *payer);
int profile_set_gender(struct therapist_profile *p, const char *gender);
/* 0 if consistent; else ENGINE_EINVAL with *field naming the field ("style.challenge"). */
int profile_validate(const struct therapist_profile *p, const char **field);

#define INTAKE_MAX_CONCERNS 16
#define INTAKE_MAX_GENDERS  4
#define INTAKE_MAX_EXCLUDE  64

struct intake_concern {
	uint8_t tag;      /* concern index */
	uint8_t priority; /* 1..3 */
};

struct intake {
	int population; /* population index, -1 = not given */
	uint16_t languages[PROFILE_MAX_LANGS];
	uint8_t n_languages;
	struct intake_concern concerns[INTAKE_MAX_CONCERNS];
	uint8_t n_concerns;
	struct tagset mod_prefer, mod_avoid;
	bool mod_required;
	uint64_t formats; /* 0 = any */
	/* Sites restrict in-person sessions only: the server sets in_person_format
	 * to vocab_lookup(v, VOCAB_FORMATS, "in_person"); -1 = sites restrict
	 * every format. Ignored when n_sites == 0. */
	int in_person_format;
	char sites[PROFILE_MAX_SITES][PROFILE_STR_MAX];
	uint8_t n_sites;
	char genders[INTAKE_MAX_GENDERS][PROFILE_STR_MAX];
	uint8_t n_genders;
	bool gender_required;
	uint64_t identity;
	bool identity_required;
	int8_t style[STYLE_AXES];
	uint8_t style_given;         /* bit per axis */
	struct avail availability;   /* empty = any time */
	uint8_t wanted_hours;        /* 0 = all the hours given */
	char payer[PROFILE_STR_MAX]; /* "" = none */
	int32_t self_pay_max;        /* -1 = no maximum */
	uint32_t exclude[INTAKE_MAX_EXCLUDE];
	uint8_t n_exclude;
};

/* No preferences at all (population -1, self_pay_max -1). */
void intake_init(struct intake *in);
int intake_add_concern(struct intake *in, int concern, int priority);
int intake_add_language(struct intake *in, const char *iso639_1);
int intake_add_site(struct intake *in, const char *site);
int intake_add_gender(struct intake *in, const char *gender);
int intake_set_style(struct intake *in, enum style_axis axis, int value);
int intake_set_payer(struct intake *in, const char *payer);
int intake_add_exclude(struct intake *in, uint32_t therapist_id);
/* 0 if consistent; else ENGINE_EINVAL with *field ("concerns", "style.challenge"…). */
int intake_validate(const struct intake *in, const char **field);

#endif
