/* alliance.c — session judgement and episode status (see alliance.h). */
#include "engine/alliance.h"
#include "engine/engine_err.h"

#include <string.h>

static const char *const state_names[AST_COUNT] = {
	"forming",
	"transference",
	"unsafe",
	"disengaging",
	"mismatch",
	"strained",
	"repaired",
	"strong",
};
static const char *const action_names[ACT_COUNT] = {
	"continue",
	"discuss",
	"refer",
	"review",
	"reach_out",
};
static const char *const att_names[] = { "attended", "cancelled", "no_show" };

const char *
alliance_state_name(enum alliance_state s)
{
	return (unsigned)s < AST_COUNT ? state_names[s] : "unknown";
}

const char *
alliance_action_name(enum alliance_action a)
{
	return (unsigned)a < ACT_COUNT ? action_names[a] : "unknown";
}

const char *
attendance_status_name(enum attendance_status s)
{
	return (unsigned)s <= ATT_NO_SHOW ? att_names[s] : "unknown";
}

int
attendance_status_lookup(const char *name)
{
	for (int i = 0; name && i <= ATT_NO_SHOW; i++)
		if (strcmp(name, att_names[i]) == 0)
			return i;
	return -1;
}

const char *
evidence_item_name(enum instrument i, int bit)
{
	if (bit == EVI_NEGATIVE)
		return "negative_feelings";
	if (bit >= EVI_FLAG0 && bit < EVI_FLAG0 + FLAG_COUNT)
		return feedback_flag_name((enum feedback_flag)(bit - EVI_FLAG0));
	return instrument_item_name(i, bit);
}

static double
threshold_of(const struct engine_params *p, enum instrument i)
{
	return i == INSTR_SRS   ? p->threshold_srs
	    : i == INSTR_WAI_SR ? p->threshold_wai_sr
	                        : p->threshold_alliance5;
}

static double
item_low_of(const struct engine_params *p, enum instrument i)
{
	return i == INSTR_SRS   ? p->item_low_srs
	    : i == INSTR_WAI_SR ? p->item_low_wai_sr
	                        : p->item_low_alliance5;
}

/*
 * Items are sums of one-decimal values: 9.1 + 8.9 + 9.0 + 9.0 may land a hair
 * off 36. Every boundary docs/alliance.md names is exact, so comparisons allow this
 * much binary rounding (far below the 0.1 step of any item).
 */
#define EPS 1e-9

double
alliance_score(const struct engine_params *p, enum instrument i, double index)
{
	double thr = threshold_of(p, i);
	if (index < thr)
		return index / thr * 70.0; /* thr > 0 here: index >= 0 */
	if (thr >= 100)
		return 100;
	return 70.0 + (index - thr) / (100.0 - thr) * 30.0;
}

double
alliance_index_of_score(const struct engine_params *p, enum instrument i, double score)
{
	double thr = threshold_of(p, i);
	if (score < 70)
		return score / 70.0 * thr;
	return thr + (score - 70.0) / 30.0 * (100.0 - thr);
}

/* Evidence bits of the items behind the trust signal. */
static uint32_t
trust_bits(enum instrument i)
{
	switch (i) {
	case INSTR_ALLIANCE5: return 1u << 3; /* trust */
	case INSTR_SRS: return 1u << 0;       /* relationship */
	case INSTR_WAI_SR:
		return (1u << 2) | (1u << 4) | (1u << 6) | (1u << 8); /* Bond q3 q5 q7 q9 */
	default: return 0;
	}
}

/* An item that mirrors a red flag, and the flag a low value raises. */
struct item_flag {
	enum instrument instrument;
	int item;
	enum feedback_flag flag;
};

/* docs/alliance.md "Per session": looking_forward is deliberately absent (a client in
 * transference may not look forward either; only the dread flag says so). */
static const struct item_flag item_flags[] = {
	{ INSTR_ALLIANCE5, 0, FLAG_UNHEARD },       /* heard */
	{ INSTR_ALLIANCE5, 1, FLAG_JUDGED },        /* open */
	{ INSTR_ALLIANCE5, 2, FLAG_MISUNDERSTOOD }, /* adapts */
	{ INSTR_SRS, 0, FLAG_UNHEARD },             /* relationship */
	{ INSTR_SRS, 2, FLAG_MISUNDERSTOOD },       /* approach */
};

/* Flags raised by low items; *items gets the evidence bits of those items. */
static uint8_t
raised_flags(const struct engine_params *p, const struct feedback *fb, uint32_t *items)
{
	uint8_t flags = 0;
	for (size_t i = 0; i < sizeof(item_flags) / sizeof(item_flags[0]); i++) {
		const struct item_flag *f = &item_flags[i];
		if (f->instrument == fb->instrument &&
		    fb->items[f->item] <= p->item_flag_max + EPS) {
			flags |= (uint8_t)(1u << f->flag);
			*items |= 1u << f->item;
		}
	}
	return flags;
}

/*
 * Judge one session from its alliance form a and its ORS o (either may be
 * NULL, not both; both validated). The flags of both count; only a scores.
 */
static void
session_judge(const struct engine_params *p, const struct feedback *a, const struct feedback *o,
    struct session_eval *out)
{
	memset(out, 0, sizeof(*out));
	out->session = a ? a->session : o->session;
	out->instrument = a ? a->instrument : INSTR_ORS;
	out->flags = (uint8_t)((a ? a->flags : 0) | (o ? o->flags : 0));
	bool strong_affect = false, trust_low = false;
	if (a) {
		struct instrument_score sc;
		instrument_score(a, &sc);
		out->index = sc.index;
		out->trust = sc.trust;
		out->score = alliance_score(p, a->instrument, sc.index);
		out->has_score = true;
		out->flags |= raised_flags(p, a, &out->items);
		double low = item_low_of(p, a->instrument);
		for (int i = 0; i < instrument_item_count(a->instrument); i++)
			if (a->items[i] < low)
				out->items |= 1u << i;
		strong_affect =
		    a->has_negative_feelings && a->negative_feelings >= p->affect_threshold;
		trust_low = sc.trust < p->trust_floor - EPS;
	}
	out->red_flag = (out->flags & FLAGS_RED) != 0;
	out->unsafe = (out->flags & FLAGS_UNSAFE) != 0;
	/* trust is the foundation: below the floor it is an alliance problem, never transference */
	out->transference = strong_affect && !trust_low && !out->red_flag;
	out->poor = out->red_flag || trust_low ||
	    (out->has_score && out->score < 70.0 - EPS && !out->transference);
	out->items |= (uint32_t)out->flags << EVI_FLAG0;
	if (strong_affect)
		out->items |= 1u << EVI_NEGATIVE;
}

int
alliance_session_eval(const struct engine_params *p, const struct feedback *fb,
    struct session_eval *out)
{
	if (!p || !fb || !out || fb->instrument == INSTR_ORS || feedback_validate(fb, NULL) != 0)
		return ENGINE_EINVAL;
	session_judge(p, fb, NULL, out);
	return 0;
}

#define WIN 16

struct stream {
	struct session_eval win[WIN]; /* the last rated sessions, oldest first */
	size_t wn;
	uint32_t n;                        /* rated sessions */
	uint32_t n_scored;                 /* of which with a score (an alliance form) */
	double ewma;                       /* of the score */
	const struct session_eval *scored; /* the latest with a score, in win[] */
};

static void
push_session(struct stream *s, const struct session_eval *e, double alpha)
{
	if (s->wn == WIN) {
		memmove(s->win, s->win + 1, (WIN - 1) * sizeof(s->win[0]));
		s->wn--;
	}
	s->win[s->wn++] = *e;
	s->n++;
	if (!e->has_score)
		return;
	s->ewma = s->n_scored == 0 ? e->score : alpha * e->score + (1 - alpha) * s->ewma;
	s->n_scored++;
}

/* The latest scored session of the window, or NULL. */
static const struct session_eval *
latest_scored(const struct stream *s)
{
	for (size_t i = s->wn; i > 0; i--)
		if (s->win[i - 1].has_score)
			return &s->win[i - 1];
	return NULL;
}

/* Least-squares slope of the score over session number, last `window` scored sessions. */
static double
trend_of(const struct stream *s, int window)
{
	const struct session_eval *w[WIN];
	size_t m = 0;
	for (size_t i = s->wn; i > 0 && m < (size_t)window; i--)
		if (s->win[i - 1].has_score)
			w[m++] = &s->win[i - 1];
	if (m < 2)
		return 0;
	double mx = 0, my = 0;
	for (size_t i = 0; i < m; i++) {
		mx += w[i]->session;
		my += w[i]->score;
	}
	mx /= (double)m;
	my /= (double)m;
	double sxy = 0, sxx = 0;
	for (size_t i = 0; i < m; i++) {
		sxy += (w[i]->session - mx) * (w[i]->score - my);
		sxx += (w[i]->session - mx) * (w[i]->session - mx);
	}
	return sxx > 0 ? sxy / sxx : 0;
}

/*
 * The two latest scheduled (not cancelled) sessions and their status, in one pass over each
 * array: a session's status is attended when it is rated, else its last attendance entry.
 * Kept per session number (at most ALLIANCE_MAX_SESSION, one byte each) and read from the
 * top, so an evaluation is linear in its rows, never a scan of all rows per row: one episode
 * may hold tens of thousands of rows, evaluated on the event loop.
 */
struct last_two {
	uint32_t s1, s2; /* s1 > s2; 0 = none */
	enum attendance_status a1, a2;
};

static void
last_two_scheduled(const struct feedback *fb, size_t n_fb, const struct attendance *att,
    size_t n_att, struct last_two *out)
{
	/* 0 unknown, else 1 + enum attendance_status */
	uint8_t st[ALLIANCE_MAX_SESSION + 1];
	uint32_t top = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n_att; i++)
		if (att[i].session > top)
			top = att[i].session;
	if (n_fb > 0 && fb[n_fb - 1].session > top)
		top = fb[n_fb - 1].session; /* sorted */
	memset(st, 0, (size_t)top + 1);
	for (size_t i = 0; i < n_att; i++)
		st[att[i].session] = (uint8_t)(1 + att[i].status);
	for (size_t i = 0; i < n_fb; i++)
		st[fb[i].session] = (uint8_t)(1 + ATT_ATTENDED);
	for (uint32_t s = top; s > 0 && out->s2 == 0; s--) {
		if (st[s] == 0 || st[s] == 1 + ATT_CANCELLED)
			continue;
		if (out->s1 == 0) {
			out->s1 = s;
			out->a1 = (enum attendance_status)(st[s] - 1);
		} else {
			out->s2 = s;
			out->a2 = (enum attendance_status)(st[s] - 1);
		}
	}
}

static void
add_reason(struct alliance_result *r, enum reason_code code, int32_t a0, int32_t a1)
{
	if (r->n_reasons < ALLIANCE_MAX_REASONS)
		r->reasons[r->n_reasons++] = (struct reason){ (uint16_t)code, { a0, a1 } };
}

static void
add_evidence(struct alliance_result *r, uint32_t session, enum instrument in, uint32_t items,
    enum reason_code why, int32_t a0, int32_t a1)
{
	if (r->n_evidence < ALLIANCE_MAX_EVIDENCE)
		r->evidence[r->n_evidence++] =
		    (struct evidence){ session, in, items, { (uint16_t)why, { a0, a1 } } };
}

static int32_t
round_i(double x)
{
	return (int32_t)(x < 0 ? x - 0.5 : x + 0.5);
}

/* Why a session was poor, first cause first: what the client said, trust, the score. */
static struct reason
poor_why(const struct engine_params *p, const struct session_eval *e)
{
	if (e->red_flag)
		return (struct reason){ AREASON_RED_FLAG,
			{ (int32_t)e->session, (int32_t)(e->flags & FLAGS_RED) } };
	if (e->has_score && e->trust < p->trust_floor - EPS)
		return (
		    struct reason){ AREASON_LOW_TRUST, { (int32_t)e->session, round_i(e->trust) } };
	return (
	    struct reason){ AREASON_BELOW_THRESHOLD, { (int32_t)e->session, round_i(e->score) } };
}

/* Evidence for a poor session: its low items and red flags, and its cause. */
static void
poor_evidence(const struct engine_params *p, struct alliance_result *r,
    const struct session_eval *e)
{
	struct reason why = poor_why(p, e);
	uint32_t items = e->items & ~(1u << EVI_NEGATIVE);
	if (why.code == AREASON_LOW_TRUST)
		items |= trust_bits(e->instrument);
	add_evidence(r, e->session, e->instrument, items, (enum reason_code)why.code, why.arg[0],
	    why.arg[1]);
}

/* The cause of a poor session as a status reason. */
static void
poor_reason(const struct engine_params *p, struct alliance_result *r, const struct session_eval *e)
{
	struct reason why = poor_why(p, e);
	add_reason(r, (enum reason_code)why.code, why.arg[0], why.arg[1]);
}

static void
transference_evidence(struct alliance_result *r, const struct session_eval *e)
{
	add_evidence(r, e->session, e->instrument, (1u << EVI_NEGATIVE) | trust_bits(e->instrument),
	    AREASON_TRANSFERENCE, (int32_t)e->session, 0);
}

static void
set_status(struct alliance_result *r, enum alliance_state s, enum alliance_action a)
{
	r->status = s;
	r->action = a;
}

/* Rule 1 evidence, gathered over every form: safety flags are never superseded. */
static void
note_unsafe(struct alliance_result *ev, const struct feedback *f, bool *unsafe)
{
	if (!(f->flags & FLAGS_UNSAFE))
		return;
	enum reason_code code =
	    (f->flags & (1u << FLAG_UNSAFE)) ? AREASON_UNSAFE : AREASON_BOUNDARIES;
	if (!*unsafe)
		add_reason(ev, code, (int32_t)f->session, 0);
	*unsafe = true;
	add_evidence(ev, f->session, f->instrument,
	    ((uint32_t)f->flags & FLAGS_UNSAFE) << EVI_FLAG0, code, (int32_t)f->session, 0);
}

static void
note_ors(const struct feedback *f, struct alliance_outcome *o)
{
	struct instrument_score sc;
	instrument_score(f, &sc);
	if (!o->has)
		o->first = sc.total;
	o->has = true;
	o->n++;
	o->latest = sc.total;
}

/*
 * Read the forms of one session, fb[*i] onward while the session number holds:
 * the last alliance form and the last ORS of it count (a second rating of the
 * same family replaces the first). Pushes the session when it is rated: an
 * alliance form, or an ORS alone that carries a flag.
 */
static int
read_session(const struct engine_params *p, const struct feedback *fb, size_t n_fb, size_t *i,
    struct stream *st, struct alliance_result *out, struct alliance_result *unsafe_ev, bool *unsafe)
{
	const struct feedback *a = NULL, *o = NULL;
	uint32_t session = fb[*i].session;
	for (; *i < n_fb && fb[*i].session == session; (*i)++) {
		const struct feedback *f = &fb[*i];
		if (feedback_validate(f, NULL) != 0)
			return ENGINE_EINVAL;
		note_unsafe(unsafe_ev, f, unsafe);
		if (f->instrument == INSTR_ORS)
			o = f;
		else
			a = f;
	}
	if (*i < n_fb && fb[*i].session < session)
		return ENGINE_EUNSORTED;
	if (o)
		note_ors(o, &out->outcome);
	if (a || (o && o->flags)) {
		struct session_eval e;
		session_judge(p, a, o, &e);
		push_session(st, &e, p->ewma_alpha);
	}
	return 0;
}

/* Rule 2: the last two scheduled sessions were no-shows. */
static bool
disengaging(const struct feedback *fb, size_t n_fb, const struct attendance *att, size_t n_att,
    struct alliance_result *out)
{
	struct last_two lt;

	last_two_scheduled(fb, n_fb, att, n_att, &lt);
	if (!(lt.s2 && lt.a1 == ATT_NO_SHOW && lt.a2 == ATT_NO_SHOW))
		return false;
	uint32_t s1 = lt.s1, s2 = lt.s2;
	set_status(out, AST_DISENGAGING, ACT_REACH_OUT);
	add_reason(out, AREASON_NO_SHOWS, (int32_t)s2, (int32_t)s1);
	add_evidence(out, s2, INSTR_COUNT, 0, AREASON_NO_SHOWS, (int32_t)s2, (int32_t)s1);
	add_evidence(out, s1, INSTR_COUNT, 0, AREASON_NO_SHOWS, (int32_t)s2, (int32_t)s1);
	return true;
}

/* Rule 3: too early to judge. */
static void
forming(const struct engine_params *p, const struct stream *st, struct alliance_result *out)
{
	const struct session_eval *latest = st->wn ? &st->win[st->wn - 1] : NULL;
	add_reason(out, AREASON_FEW_SESSIONS, (int32_t)st->n, p->min_sessions);
	if (latest && latest->transference) {
		set_status(out, AST_TRANSFERENCE, ACT_CONTINUE);
		add_reason(out, AREASON_TRANSFERENCE, (int32_t)latest->session, 0);
		transference_evidence(out, latest);
	} else if (latest && latest->poor) {
		set_status(out, AST_FORMING, ACT_DISCUSS);
		add_reason(out, AREASON_POOR, (int32_t)latest->session, 0);
		poor_reason(p, out, latest);
		add_reason(out, AREASON_SPEAK_UP, 0, 0);
		poor_evidence(p, out, latest);
	} else {
		set_status(out, AST_FORMING, ACT_CONTINUE);
	}
}

/* Rule 4: two of the last three poor, and the latest poor or a transference
 * pattern (one angry-but-trusting session does not erase the others). */
static bool
mismatch(const struct engine_params *p, const struct stream *st, struct alliance_result *out)
{
	const struct session_eval *latest = &st->win[st->wn - 1];
	size_t from = st->wn >= 3 ? st->wn - 3 : 0;
	int poor3 = 0;
	for (size_t i = from; i < st->wn; i++)
		poor3 += st->win[i].poor;
	if (poor3 < 2 || !(latest->poor || latest->transference))
		return false;
	set_status(out, AST_MISMATCH, ACT_REFER);
	add_reason(out, AREASON_POOR_OF_LAST_THREE, poor3, 0);
	for (size_t i = from; i < st->wn; i++)
		if (st->win[i].poor) {
			poor_reason(p, out, &st->win[i]);
			poor_evidence(p, out, &st->win[i]);
		}
	if (latest->transference)
		transference_evidence(out, latest);
	return true;
}

/* Rule 6: the latest poor, or its score more than strained_drop below the
 * highest score of the three rated sessions before it. */
static bool
strained(const struct engine_params *p, const struct stream *st, struct alliance_result *out)
{
	const struct session_eval *latest = &st->win[st->wn - 1];
	const struct session_eval *peak = NULL;
	for (size_t i = st->wn - 1, k = 0; i > 0 && k < 3; i--, k++)
		if (st->win[i - 1].has_score && (!peak || st->win[i - 1].score > peak->score))
			peak = &st->win[i - 1];
	double drop = peak && latest->has_score ? peak->score - latest->score : 0;
	bool fell = drop > p->strained_drop + EPS;
	if (!latest->poor && !fell)
		return false;
	set_status(out, AST_STRAINED, ACT_DISCUSS);
	if (fell) {
		add_reason(out, AREASON_INDEX_DROP, round_i(drop), (int32_t)peak->session);
		add_evidence(out, peak->session, peak->instrument, 0, AREASON_INDEX_DROP,
		    round_i(drop), (int32_t)peak->session);
		add_evidence(out, latest->session, latest->instrument, latest->items & 0xfffu,
		    AREASON_INDEX_DROP, round_i(drop), (int32_t)peak->session);
	}
	if (latest->poor) {
		add_reason(out, AREASON_POOR, (int32_t)latest->session, 0);
		poor_reason(p, out, latest);
		poor_evidence(p, out, latest);
	}
	return true;
}

/* Rule 7: a poor session among the last repair_window rated ones (the latest is not). */
static bool
repaired(const struct engine_params *p, const struct stream *st, struct alliance_result *out)
{
	const struct session_eval *latest = &st->win[st->wn - 1];
	size_t w = (size_t)p->repair_window < st->wn ? (size_t)p->repair_window : st->wn;
	const struct session_eval *poor = NULL;
	for (size_t i = st->wn; i > st->wn - w && !poor; i--)
		if (st->win[i - 1].poor)
			poor = &st->win[i - 1];
	if (!poor)
		return false;
	set_status(out, AST_REPAIRED, ACT_CONTINUE);
	add_reason(out, AREASON_REPAIRED, (int32_t)poor->session, 0);
	poor_evidence(p, out, poor);
	add_evidence(out, latest->session, latest->instrument, 0, AREASON_REPAIRED,
	    (int32_t)poor->session, 0);
	return true;
}

static void
fill_values(const struct engine_params *p, const struct stream *st, struct alliance_result *out)
{
	const struct session_eval *s = latest_scored(st);
	out->sessions = st->n;
	for (size_t i = 0; i < st->wn && out->n_recent < ALLIANCE_MAX_RECENT; i++)
		if (st->win[i].has_score)
			out->recent[out->n_recent++] =
			    (struct scored_session){ st->win[i].session, st->win[i].score };
	if (!s)
		return;
	out->has_index = true;
	out->instrument_latest = s->instrument;
	out->index_latest = s->index;
	out->score_latest = s->score;
	out->score_ewma = st->ewma;
	/* the ewma is taken on the common score; shown on the latest instrument's scale too */
	out->index_ewma = alliance_index_of_score(p, s->instrument, st->ewma);
	out->trend = trend_of(st, p->trend_window < WIN ? p->trend_window : WIN);
}

int
alliance_evaluate(const struct engine_params *p, const struct feedback *fb, size_t n_fb,
    const struct attendance *att, size_t n_att, struct alliance_result *out)
{
	if (!p || !out || (n_fb && !fb) || (n_att && !att))
		return ENGINE_EINVAL;
	for (size_t i = 0; i < n_att; i++)
		if (att[i].session < 1 || att[i].session > ALLIANCE_MAX_SESSION ||
		    (unsigned)att[i].status > ATT_NO_SHOW)
			return ENGINE_EINVAL;
	memset(out, 0, sizeof(*out));
	struct stream st;
	memset(&st, 0, sizeof(st));
	struct alliance_result unsafe_ev;
	memset(&unsafe_ev, 0, sizeof(unsafe_ev));
	bool unsafe = false;
	for (size_t i = 0; i < n_fb;) {
		int rc = read_session(p, fb, n_fb, &i, &st, out, &unsafe_ev, &unsafe);
		if (rc)
			return rc;
	}
	if (n_fb > 0 && fb[n_fb - 1].session > ALLIANCE_MAX_SESSION)
		return ENGINE_EINVAL; /* sorted: the last is the highest */
	if (out->outcome.has) {
		out->outcome.reliable_improvement =
		    out->outcome.latest - out->outcome.first >= p->ors_reliable_change - EPS;
		out->outcome.latest_clinical = out->outcome.latest < p->ors_cutoff - EPS;
	}
	fill_values(p, &st, out);

	/* 1. unsafe */
	if (unsafe) {
		set_status(out, AST_UNSAFE, ACT_REVIEW);
		memcpy(out->reasons, unsafe_ev.reasons, sizeof(out->reasons));
		out->n_reasons = unsafe_ev.n_reasons;
		memcpy(out->evidence, unsafe_ev.evidence, sizeof(out->evidence));
		out->n_evidence = unsafe_ev.n_evidence;
		return 0;
	}
	/* 2. disengaging */
	if (disengaging(fb, n_fb, att, n_att, out))
		return 0;
	/* 3. too early to judge */
	if (st.n < (uint32_t)p->min_sessions) {
		forming(p, &st, out);
		return 0;
	}
	/* 4. mismatch */
	if (mismatch(p, &st, out))
		return 0;
	/* 5. transference */
	const struct session_eval *latest = &st.win[st.wn - 1];
	if (latest->transference) {
		set_status(out, AST_TRANSFERENCE, ACT_CONTINUE);
		add_reason(out, AREASON_TRANSFERENCE, (int32_t)latest->session, 0);
		transference_evidence(out, latest);
		return 0;
	}
	/* 6. strained, 7. repaired */
	if (strained(p, &st, out) || repaired(p, &st, out))
		return 0;
	/* 8. strong */
	set_status(out, AST_STRONG, ACT_CONTINUE);
	add_reason(out, AREASON_STRONG, round_i(latest->score), 0);
	add_evidence(out, latest->session, latest->instrument, 0, AREASON_STRONG,
	    round_i(latest->score), 0);
	return 0;
}
