/*
 * reasons.h — reason and warning codes with their arguments, and a pure
 * renderer into English sentences.
 *
 * The engine keeps codes (stable, testable, translatable); the server turns
 * them into the API's "reasons"/"warnings"/"why" strings with reason_render().
 * Each code documents its arguments; tag arguments are vocabulary indices of
 * the kind named, languages are lang_pack() codes.
 */
#ifndef ENGINE_REASONS_H
#define ENGINE_REASONS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/vocab.h"

enum reason_code {
	REASON_NONE = 0,
	/* --- match: why this therapist --- */
	REASON_SPECIALIST,   /* arg0 = concern: "specialist in trauma" */
	REASON_EXPERIENCED,  /* arg0 = concern: "experienced with sleep" */
	REASON_OFFERS,       /* arg0 = modality: "offers EMDR" */
	REASON_SPEAKS,       /* arg0 = language code: "speaks es" */
	REASON_SHARED_HOURS, /* arg0 = hours: "3 h of shared availability" */
	REASON_STRONG_ALLIANCE, /* arg0 = shrunk record (score scale) rounded: "strong alliance with past clients" */
	REASON_GOOD_OUTCOMES, /* arg0 = percent reliable improvement: "good outcomes with past clients" */
	REASON_IDENTITY,      /* arg0 = identity tag: "lgbtq affirming" */
	REASON_GENDER,        /* "matches your gender preference" */
	REASON_STYLE_FIT,     /* "working style close to your preferences" */
	REASON_FORMAT,        /* arg0 = format: "offers video sessions" */
	REASON_FREE_CAPACITY, /* arg0 = free slots: "has 5 open slots" */
	/* --- referral --- */
	REASON_COLLEAGUE,          /* "a trusted colleague of your therapist" */
	REASON_NEED_MODALITY,      /* arg0 = modality: "offers EMDR, as you asked" */
	REASON_NEED_CONCERN,       /* arg0 = concern: "works with trauma, as you asked" */
	REASON_DIFFERENT_APPROACH, /* "a different therapeutic approach" */
	REASON_DIFFERENT_STYLE,    /* "a different working style" */
	REASON_ALLIANCE_FOCUS,     /* "clients feel heard with this therapist" */
	/* --- match warnings --- */
	WARN_AVOIDED_MODALITY, /* arg0 = modality: "offers psychodynamic, which you wanted to avoid" */
	/* --- alliance status reasons and evidence "why" --- */
	AREASON_UNSAFE,     /* arg0 = session: "session 2: felt unsafe" */
	AREASON_BOUNDARIES, /* arg0 = session: "session 2: boundaries not respected" */
	AREASON_NO_SHOWS,   /* arg0, arg1 = sessions: "no-shows at sessions 4 and 5" */
	AREASON_FEW_SESSIONS, /* arg0 = rated, arg1 = minimum: "2 of 3 sessions rated: the alliance is still forming" */
	AREASON_SPEAK_UP, /* "speak up early about your needs" */
	AREASON_POOR,     /* arg0 = session: "session 3 was poor" */
	AREASON_RED_FLAG, /* arg0 = session, arg1 = red flag bits (enum feedback_flag), ticked
	                             or raised by low items: "session 3: the client felt judged";
	                             arg1 0: "session 3 had a red flag" */
	AREASON_BELOW_THRESHOLD, /* arg0 = session, arg1 = score: "session 3: alliance score 55, below the concern threshold (70)" */
	AREASON_TRANSFERENCE, /* arg0 = session: "session 3: strong negative feelings while trust holds" */
	AREASON_POOR_OF_LAST_THREE, /* arg0 = count: "2 of the last 3 sessions were poor" */
	AREASON_INDEX_DROP,         /* arg0 = score points, arg1 = the earlier session it fell from:
	                             "alliance score fell 18 points below session 2" */
	AREASON_REPAIRED, /* arg0 = earlier poor session: "recovered after a poor session 2" */
	AREASON_STRONG, /* arg0 = latest score: "alliance score 85, above the concern threshold (70)" */
	AREASON_LOW_TRUST, /* arg0 = session, arg1 = trust: "session 2: trust 25, below the trust floor" */
	REASON_CODE_COUNT
};

struct reason {
	uint16_t code; /* enum reason_code */
	int32_t arg[2];
};

/* Stable snake_case name of a code ("specialist", "avoided_modality"…); "unknown" otherwise. */
const char *reason_code_name(enum reason_code code);

/*
 * Render r into buf (always NUL-terminated when n > 0), like snprintf:
 * returns the length the full sentence needs, or ENGINE_EINVAL for an unknown
 * code. Tag names come from v; a missing name renders as "?". Short
 * underscore-free tag names of up to 4 letters are taken as acronyms and
 * upper-cased ("EMDR", "CBT"); underscores become spaces.
 */
int reason_render(const struct reason *r, const struct vocab *v, char *buf, size_t n);

#endif
