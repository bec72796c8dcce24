/* reasons.c — reason codes and their English sentences (see reasons.h). */
#include "engine/reasons.h"
#include "engine/engine_err.h"

#include <stdio.h>
#include <string.h>

static const char *const names[REASON_CODE_COUNT] = {
	[REASON_NONE] = "none",
	[REASON_SPECIALIST] = "specialist",
	[REASON_EXPERIENCED] = "experienced",
	[REASON_OFFERS] = "offers",
	[REASON_SPEAKS] = "speaks",
	[REASON_SHARED_HOURS] = "shared_hours",
	[REASON_STRONG_ALLIANCE] = "strong_alliance",
	[REASON_GOOD_OUTCOMES] = "good_outcomes",
	[REASON_IDENTITY] = "identity",
	[REASON_GENDER] = "gender",
	[REASON_STYLE_FIT] = "style_fit",
	[REASON_FORMAT] = "format",
	[REASON_FREE_CAPACITY] = "free_capacity",
	[REASON_COLLEAGUE] = "colleague",
	[REASON_NEED_MODALITY] = "need_modality",
	[REASON_NEED_CONCERN] = "need_concern",
	[REASON_DIFFERENT_APPROACH] = "different_approach",
	[REASON_DIFFERENT_STYLE] = "different_style",
	[REASON_ALLIANCE_FOCUS] = "alliance_focus",
	[WARN_AVOIDED_MODALITY] = "avoided_modality",
	[AREASON_UNSAFE] = "unsafe",
	[AREASON_BOUNDARIES] = "boundaries",
	[AREASON_NO_SHOWS] = "no_shows",
	[AREASON_FEW_SESSIONS] = "few_sessions",
	[AREASON_SPEAK_UP] = "speak_up",
	[AREASON_POOR] = "poor",
	[AREASON_RED_FLAG] = "red_flag",
	[AREASON_BELOW_THRESHOLD] = "below_threshold",
	[AREASON_TRANSFERENCE] = "transference",
	[AREASON_POOR_OF_LAST_THREE] = "poor_of_last_three",
	[AREASON_INDEX_DROP] = "index_drop",
	[AREASON_REPAIRED] = "repaired",
	[AREASON_STRONG] = "strong",
	[AREASON_LOW_TRUST] = "low_trust",
};

const char *
reason_code_name(enum reason_code code)
{
	if ((unsigned)code >= REASON_CODE_COUNT || !names[code])
		return "unknown";
	return names[code];
}

/* A tag name made readable: acronyms upper-cased, underscores as spaces. */
static void
pretty_tag(const struct vocab *v, enum vocab_kind kind, int idx, char out[VOCAB_NAME_MAX])
{
	const char *s = vocab_name(v, kind, idx);
	if (!s) {
		strcpy(out, "?");
		return;
	}
	size_t len = strlen(s);
	int acronym = len <= 4 && !strchr(s, '_');
	for (size_t i = 0; i <= len; i++) {
		char ch = s[i];
		if (ch == '_')
			ch = ' ';
		else if (acronym && ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		out[i] = ch;
	}
}

/* What a red flag says, in the client's terms (bit = enum feedback_flag order
 * of instrument.h: judged, boundaries, unheard, dread, unsafe, misunderstood). */
static const char *const felt[] = {
	"felt judged",
	"felt their boundaries were not respected",
	"did not feel heard",
	"dreaded the session",
	"felt unsafe",
	"felt misunderstood",
};

/* "session 3: the client felt judged, did not feel heard and dreaded the session" */
static int
render_felt(int session, unsigned flags, char *buf, size_t n)
{
	const char *said[sizeof(felt) / sizeof(felt[0])];
	int k = 0;
	for (size_t i = 0; i < sizeof(felt) / sizeof(felt[0]); i++)
		if (flags >> i & 1)
			said[k++] = felt[i];
	char tmp[256];
	int len = snprintf(tmp, sizeof(tmp), "session %d: the client", session);
	for (int i = 0; i < k && len >= 0 && (size_t)len < sizeof(tmp); i++)
		len += snprintf(tmp + len, sizeof(tmp) - (size_t)len, "%s%s",
		    i == 0           ? " "
		        : i == k - 1 ? " and "
		                     : ", ",
		    said[i]);
	return snprintf(buf, n, "%s", tmp);
}

int
reason_render(const struct reason *r, const struct vocab *v, char *buf, size_t n)
{
	char t[VOCAB_NAME_MAX];
	char lang[3];
	int a0 = r->arg[0], a1 = r->arg[1];
	switch ((enum reason_code)r->code) {
	case REASON_SPECIALIST:
		pretty_tag(v, VOCAB_CONCERNS, a0, t);
		return snprintf(buf, n, "specialist in %s", t);
	case REASON_EXPERIENCED:
		pretty_tag(v, VOCAB_CONCERNS, a0, t);
		return snprintf(buf, n, "experienced with %s", t);
	case REASON_OFFERS:
		pretty_tag(v, VOCAB_MODALITIES, a0, t);
		return snprintf(buf, n, "offers %s", t);
	case REASON_SPEAKS:
		lang_unpack((uint16_t)a0, lang);
		return snprintf(buf, n, "speaks %s", lang[0] ? lang : "?");
	case REASON_SHARED_HOURS: return snprintf(buf, n, "%d h of shared availability", a0);
	case REASON_STRONG_ALLIANCE: return snprintf(buf, n, "strong alliance with past clients");
	case REASON_GOOD_OUTCOMES: return snprintf(buf, n, "good outcomes with past clients");
	case REASON_IDENTITY:
		pretty_tag(v, VOCAB_IDENTITY, a0, t);
		return snprintf(buf, n, "%s", t);
	case REASON_GENDER: return snprintf(buf, n, "matches your gender preference");
	case REASON_STYLE_FIT: return snprintf(buf, n, "working style close to your preferences");
	case REASON_FORMAT:
		pretty_tag(v, VOCAB_FORMATS, a0, t);
		return snprintf(buf, n, "offers %s sessions", t);
	case REASON_FREE_CAPACITY:
		return snprintf(buf, n, "has %d open slot%s", a0, a0 == 1 ? "" : "s");
	case REASON_COLLEAGUE: return snprintf(buf, n, "a trusted colleague of your therapist");
	case REASON_NEED_MODALITY:
		pretty_tag(v, VOCAB_MODALITIES, a0, t);
		return snprintf(buf, n, "offers %s, as you asked", t);
	case REASON_NEED_CONCERN:
		pretty_tag(v, VOCAB_CONCERNS, a0, t);
		return snprintf(buf, n, "works with %s, as you asked", t);
	case REASON_DIFFERENT_APPROACH: return snprintf(buf, n, "a different therapeutic approach");
	case REASON_DIFFERENT_STYLE: return snprintf(buf, n, "a different working style");
	case REASON_ALLIANCE_FOCUS:
		return snprintf(buf, n, "clients feel heard with this therapist");
	case WARN_AVOIDED_MODALITY:
		pretty_tag(v, VOCAB_MODALITIES, a0, t);
		return snprintf(buf, n, "offers %s, which you wanted to avoid", t);
	case AREASON_UNSAFE: return snprintf(buf, n, "session %d: the client felt unsafe", a0);
	case AREASON_BOUNDARIES:
		return snprintf(buf, n, "session %d: boundaries not respected", a0);
	case AREASON_NO_SHOWS: return snprintf(buf, n, "no-shows at sessions %d and %d", a0, a1);
	case AREASON_FEW_SESSIONS:
		return snprintf(buf, n, "%d of %d sessions rated: the alliance is still forming",
		    a0, a1);
	case AREASON_SPEAK_UP: return snprintf(buf, n, "speak up early about your needs");
	case AREASON_POOR: return snprintf(buf, n, "session %d was poor", a0);
	case AREASON_RED_FLAG:
		if (!a1)
			return snprintf(buf, n, "session %d had a red flag", a0);
		return render_felt(a0, (unsigned)a1, buf, n);
	case AREASON_BELOW_THRESHOLD:
		return snprintf(buf, n,
		    "session %d: alliance score %d, below the concern threshold (70)", a0, a1);
	case AREASON_TRANSFERENCE:
		return snprintf(buf, n, "session %d: strong negative feelings while trust holds",
		    a0);
	case AREASON_POOR_OF_LAST_THREE:
		return snprintf(buf, n, "%d of the last 3 sessions were poor", a0);
	case AREASON_INDEX_DROP:
		return snprintf(buf, n, "alliance score fell %d points below session %d", a0, a1);
	case AREASON_REPAIRED: return snprintf(buf, n, "recovered after a poor session %d", a0);
	case AREASON_STRONG:
		return snprintf(buf, n, "alliance score %d, above the concern threshold (70)", a0);
	case AREASON_LOW_TRUST:
		return snprintf(buf, n, "session %d: trust %d, below the trust floor", a0, a1);
	case REASON_NONE:
	case REASON_CODE_COUNT: break;
	}
	if (n)
		buf[0] = 0;
	return ENGINE_EINVAL;
}
