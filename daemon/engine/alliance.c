/* alliance.c — session judgement and episode status (see alliance.h). */
#include "engine/alliance.h"
#include "engine/engine_err.h"

#include <string.h>

static const char *const state_names[AST_COUNT] = {
	"forming", "transference", "unsafe", "disengaging", "mismatch", "strained", "repaired", "strong",
};
static const char *const action_names[ACT_COUNT] = {
	"continue", "discuss", "refer", "review", "reach_out",
};
static const char *const att_names[] = { "attended", "cancelled", "no_show" };

const char *alliance_state_name(enum alliance_state s)
{
	return (unsigned)s < AST_COUNT ? state_names[s] : "unknown";
}

const char *alliance_action_name(enum alliance_action a)
{
	return (unsigned)a < ACT_COUNT ? action_names[a] : "unknown";
}

const char *attendance_status_name(enum attendance_status s)
{
	return (unsigned)s <= ATT_NO_SHOW ? att_names[s] : "unknown";
}

int attendance_status_lookup(const char *name)
{
	for (int i = 0; name && i <= ATT_NO_SHOW; i++)
		if (strcmp(name, att_names[i]) == 0)
			return i;
	return -1;
}

const char *evidence_item_name(enum instrument i, int bit)
{
	if (bit == EVI_NEGATIVE)
		return "negative_feelings";
	if (bit >= EVI_FLAG0 && bit < EVI_FLAG0 + FLAG_COUNT)
		return feedback_flag_name((enum feedback_flag)(bit - EVI_FLAG0));
	return instrument_item_name(i, bit);
}

static double threshold_of(const struct engine_params *p, enum instrument i)
{
	return i == INSTR_SRS ? p->threshold_srs : i == INSTR_WAI_SR ? p->threshold_wai_sr
								       : p->threshold_alliance5;
}

static double item_low_of(const struct engine_params *p, enum instrument i)
{
	return i == INSTR_SRS ? p->item_low_srs : i == INSTR_WAI_SR ? p->item_low_wai_sr
								      : p->item_low_alliance5;
}

/* Evidence bits of the items behind the trust signal. */
static uint32_t trust_bits(enum instrument i)
{
	switch (i) {
	case INSTR_ALLIANCE5: return 1u << 3;                                 /* trust */
	case INSTR_SRS: return 1u << 0;                                       /* relationship */
	case INSTR_WAI_SR: return (1u << 2) | (1u << 4) | (1u << 6) | (1u << 8); /* Bond q3 q5 q7 q9 */
	default: return 0;
	}
}

int alliance_session_eval(const struct engine_params *p, const struct feedback *fb,
			  struct session_eval *out)
{
	struct instrument_score sc;
	if (!p || !fb || !out || fb->instrument == INSTR_ORS || instrument_score(fb, &sc) != 0)
		return ENGINE_EINVAL;
	memset(out, 0, sizeof(*out));
	out->session = fb->session;
	out->instrument = fb->instrument;
	out->index = sc.index;
	out->trust = sc.trust;
	out->red_flag = (fb->flags & FLAGS_RED) != 0;
	out->unsafe = (fb->flags & FLAGS_UNSAFE) != 0;
	bool strong_affect = fb->has_negative_feelings && fb->negative_feelings >= p->affect_threshold;
	out->transference = strong_affect && sc.trust >= p->trust_floor && !out->red_flag;
	out->poor = out->red_flag || (sc.index < threshold_of(p, fb->instrument) && !out->transference);
	double low = item_low_of(p, fb->instrument);
	for (int i = 0; i < instrument_item_count(fb->instrument); i++)
		if (fb->items[i] < low)
			out->items |= 1u << i;
	out->items |= (uint32_t)fb->flags << EVI_FLAG0;
	if (strong_affect)
		out->items |= 1u << EVI_NEGATIVE;
	return 0;
}

#define WIN 16

struct stream {
	struct session_eval win[WIN]; /* the last rated sessions, oldest first */
	size_t wn;
	uint32_t n;                   /* rated sessions */
	double ewma, ewma_prev;
	bool earlier_poor;            /* a poor session before the latest */
	struct session_eval last_earlier_poor;
};

static void push_session(struct stream *s, const struct session_eval *e, double alpha)
{
	if (s->wn && s->win[s->wn - 1].session == e->session) {
		/* same session rated again: replace, recompute the ewma step */
		s->win[s->wn - 1] = *e;
		s->ewma = s->n == 1 ? e->index : alpha * e->index + (1 - alpha) * s->ewma_prev;
		return;
	}
	if (s->wn) {
		const struct session_eval *prev = &s->win[s->wn - 1];
		if (prev->poor) {
			s->earlier_poor = true;
			s->last_earlier_poor = *prev;
		}
	}
	if (s->wn == WIN) {
		memmove(s->win, s->win + 1, (WIN - 1) * sizeof(s->win[0]));
		s->wn--;
	}
	s->win[s->wn++] = *e;
	s->ewma_prev = s->ewma;
	s->ewma = s->n == 0 ? e->index : alpha * e->index + (1 - alpha) * s->ewma;
	s->n++;
}

/* Least-squares slope of index over session number, last m sessions of the window. */
static double trend_of(const struct stream *s, int window)
{
	size_t m = s->wn < (size_t)window ? s->wn : (size_t)window;
	if (m < 2)
		return 0;
	const struct session_eval *w = s->win + (s->wn - m);
	double mx = 0, my = 0;
	for (size_t i = 0; i < m; i++) {
		mx += w[i].session;
		my += w[i].index;
	}
	mx /= (double)m;
	my /= (double)m;
	double sxy = 0, sxx = 0;
	for (size_t i = 0; i < m; i++) {
		sxy += (w[i].session - mx) * (w[i].index - my);
		sxx += (w[i].session - mx) * (w[i].session - mx);
	}
	return sxx > 0 ? sxy / sxx : 0;
}

/* Status of session s: rated = attended; else its last attendance entry. */
static bool session_status(uint32_t s, const struct feedback *fb, size_t n_fb,
			   const struct attendance *att, size_t n_att, enum attendance_status *st)
{
	for (size_t i = 0; i < n_fb; i++)
		if (fb[i].session == s) {
			*st = ATT_ATTENDED;
			return true;
		}
	bool found = false;
	for (size_t i = 0; i < n_att; i++)
		if (att[i].session == s) {
			*st = att[i].status;
			found = true;
		}
	return found;
}

/* Highest scheduled (not cancelled) session number below limit; 0 if none. */
static uint32_t scheduled_below(uint32_t limit, const struct feedback *fb, size_t n_fb,
				const struct attendance *att, size_t n_att)
{
	uint32_t best = 0;
	for (size_t i = 0; i < n_fb + n_att; i++) {
		uint32_t s = i < n_fb ? fb[i].session : att[i - n_fb].session;
		enum attendance_status st = ATT_CANCELLED;
		if (s < limit && s > best && session_status(s, fb, n_fb, att, n_att, &st) &&
		    st != ATT_CANCELLED)
			best = s;
	}
	return best;
}

static void add_reason(struct alliance_result *r, enum reason_code code, int32_t a0, int32_t a1)
{
	if (r->n_reasons < ALLIANCE_MAX_REASONS)
		r->reasons[r->n_reasons++] = (struct reason){ (uint16_t)code, { a0, a1 } };
}

static void add_evidence(struct alliance_result *r, uint32_t session, enum instrument in,
			 uint32_t items, enum reason_code why, int32_t a0, int32_t a1)
{
	if (r->n_evidence < ALLIANCE_MAX_EVIDENCE)
		r->evidence[r->n_evidence++] =
			(struct evidence){ session, in, items, { (uint16_t)why, { a0, a1 } } };
}

static int32_t round_i(double x)
{
	return (int32_t)(x < 0 ? x - 0.5 : x + 0.5);
}

/* Evidence for a poor session: its low items and red flags. */
static void poor_evidence(struct alliance_result *r, const struct session_eval *e)
{
	uint32_t items = e->items & ~(1u << EVI_NEGATIVE);
	if (e->red_flag)
		add_evidence(r, e->session, e->instrument, items, AREASON_RED_FLAG, (int32_t)e->session, 0);
	else
		add_evidence(r, e->session, e->instrument, items, AREASON_BELOW_THRESHOLD,
			     (int32_t)e->session, round_i(e->index));
}

static void transference_evidence(struct alliance_result *r, const struct session_eval *e)
{
	add_evidence(r, e->session, e->instrument, (1u << EVI_NEGATIVE) | trust_bits(e->instrument),
		     AREASON_TRANSFERENCE, (int32_t)e->session, 0);
}

static void set_status(struct alliance_result *r, enum alliance_state s, enum alliance_action a)
{
	r->status = s;
	r->action = a;
}

int alliance_evaluate(const struct engine_params *p, const struct feedback *fb, size_t n_fb,
		      const struct attendance *att, size_t n_att, struct alliance_result *out)
{
	if (!p || !out || (n_fb && !fb) || (n_att && !att))
		return ENGINE_EINVAL;
	memset(out, 0, sizeof(*out));
	struct stream st;
	memset(&st, 0, sizeof(st));
	/* unsafe evidence is gathered on the way: safety flags are never superseded */
	struct alliance_result unsafe_ev;
	memset(&unsafe_ev, 0, sizeof(unsafe_ev));
	bool unsafe = false;

	for (size_t i = 0; i < n_fb; i++) {
		if (i && fb[i].session < fb[i - 1].session)
			return ENGINE_EUNSORTED;
		if (feedback_validate(&fb[i], NULL) != 0)
			return ENGINE_EINVAL;
		if (fb[i].flags & FLAGS_UNSAFE) {
			if (!unsafe) {
				add_reason(&unsafe_ev, (fb[i].flags & (1u << FLAG_UNSAFE)) ? AREASON_UNSAFE
											   : AREASON_BOUNDARIES,
					   (int32_t)fb[i].session, 0);
			}
			unsafe = true;
			add_evidence(&unsafe_ev, fb[i].session, fb[i].instrument,
				     ((uint32_t)fb[i].flags & FLAGS_UNSAFE) << EVI_FLAG0,
				     (fb[i].flags & (1u << FLAG_UNSAFE)) ? AREASON_UNSAFE : AREASON_BOUNDARIES,
				     (int32_t)fb[i].session, 0);
		}
		if (fb[i].instrument == INSTR_ORS) {
			struct instrument_score sc;
			instrument_score(&fb[i], &sc);
			if (!out->outcome.has)
				out->outcome.first = sc.total;
			out->outcome.has = true;
			out->outcome.n++;
			out->outcome.latest = sc.total;
			continue;
		}
		struct session_eval e;
		alliance_session_eval(p, &fb[i], &e);
		push_session(&st, &e, p->ewma_alpha);
	}
	if (out->outcome.has) {
		out->outcome.reliable_improvement =
			out->outcome.latest - out->outcome.first >= p->ors_reliable_change;
		out->outcome.latest_clinical = out->outcome.latest < p->ors_cutoff;
	}
	out->sessions = st.n;
	const struct session_eval *latest = st.wn ? &st.win[st.wn - 1] : NULL;
	if (latest) {
		out->has_index = true;
		out->index_latest = latest->index;
		out->index_ewma = st.ewma;
		out->trend = trend_of(&st, p->trend_window < WIN ? p->trend_window : WIN);
	}

	/* 1. unsafe */
	if (unsafe) {
		set_status(out, AST_UNSAFE, ACT_REVIEW);
		memcpy(out->reasons, unsafe_ev.reasons, sizeof(out->reasons));
		out->n_reasons = unsafe_ev.n_reasons;
		memcpy(out->evidence, unsafe_ev.evidence, sizeof(out->evidence));
		out->n_evidence = unsafe_ev.n_evidence;
		return 0;
	}
	/* 2. disengaging: the last two scheduled sessions were no-shows */
	uint32_t s1 = scheduled_below(UINT32_MAX, fb, n_fb, att, n_att);
	uint32_t s2 = s1 ? scheduled_below(s1, fb, n_fb, att, n_att) : 0;
	enum attendance_status a1 = ATT_ATTENDED, a2 = ATT_ATTENDED;
	if (s2 && session_status(s1, fb, n_fb, att, n_att, &a1) && a1 == ATT_NO_SHOW &&
	    session_status(s2, fb, n_fb, att, n_att, &a2) && a2 == ATT_NO_SHOW) {
		set_status(out, AST_DISENGAGING, ACT_REACH_OUT);
		add_reason(out, AREASON_NO_SHOWS, (int32_t)s2, (int32_t)s1);
		add_evidence(out, s2, INSTR_COUNT, 0, AREASON_NO_SHOWS, (int32_t)s2, (int32_t)s1);
		add_evidence(out, s1, INSTR_COUNT, 0, AREASON_NO_SHOWS, (int32_t)s2, (int32_t)s1);
		return 0;
	}
	/* 3. too early to judge */
	if (st.n < (uint32_t)p->min_sessions) {
		add_reason(out, AREASON_FEW_SESSIONS, (int32_t)st.n, p->min_sessions);
		if (latest && latest->transference) {
			set_status(out, AST_TRANSFERENCE, ACT_CONTINUE);
			add_reason(out, AREASON_TRANSFERENCE, (int32_t)latest->session, 0);
			transference_evidence(out, latest);
		} else if (latest && latest->poor) {
			set_status(out, AST_FORMING, ACT_DISCUSS);
			add_reason(out, AREASON_POOR, (int32_t)latest->session, 0);
			add_reason(out, AREASON_SPEAK_UP, 0, 0);
			poor_evidence(out, latest);
		} else {
			set_status(out, AST_FORMING, ACT_CONTINUE);
		}
		return 0;
	}
	/* 4. mismatch: the latest and at least two of the last three are poor */
	size_t from = st.wn >= 3 ? st.wn - 3 : 0;
	int poor3 = 0;
	for (size_t i = from; i < st.wn; i++)
		poor3 += st.win[i].poor;
	if (latest->poor && poor3 >= 2) {
		set_status(out, AST_MISMATCH, ACT_REFER);
		add_reason(out, AREASON_POOR_OF_LAST_THREE, poor3, 0);
		for (size_t i = from; i < st.wn; i++)
			if (st.win[i].poor)
				poor_evidence(out, &st.win[i]);
		return 0;
	}
	/* 5. transference */
	if (latest->transference) {
		set_status(out, AST_TRANSFERENCE, ACT_CONTINUE);
		add_reason(out, AREASON_TRANSFERENCE, (int32_t)latest->session, 0);
		transference_evidence(out, latest);
		return 0;
	}
	/* 6. strained: a poor latest session, or a drop over the last three */
	double drop = st.wn >= 3 ? st.win[st.wn - 3].index - latest->index : 0;
	if (latest->poor || drop > p->strained_drop) {
		set_status(out, AST_STRAINED, ACT_DISCUSS);
		if (latest->poor) {
			add_reason(out, AREASON_POOR, (int32_t)latest->session, 0);
			poor_evidence(out, latest);
		}
		if (drop > p->strained_drop) {
			const struct session_eval *first = &st.win[st.wn - 3];
			add_reason(out, AREASON_INDEX_DROP, round_i(drop), 0);
			add_evidence(out, first->session, first->instrument, 0, AREASON_INDEX_DROP,
				     round_i(drop), 0);
			add_evidence(out, latest->session, latest->instrument, latest->items & 0xfffu,
				     AREASON_INDEX_DROP, round_i(drop), 0);
		}
		return 0;
	}
	/* 7. repaired */
	if (st.earlier_poor) {
		set_status(out, AST_REPAIRED, ACT_CONTINUE);
		add_reason(out, AREASON_REPAIRED, (int32_t)st.last_earlier_poor.session, 0);
		poor_evidence(out, &st.last_earlier_poor);
		add_evidence(out, latest->session, latest->instrument, 0, AREASON_REPAIRED,
			     (int32_t)st.last_earlier_poor.session, 0);
		return 0;
	}
	/* 8. strong */
	set_status(out, AST_STRONG, ACT_CONTINUE);
	add_reason(out, AREASON_STRONG, round_i(latest->index), 0);
	add_evidence(out, latest->session, latest->instrument, 0, AREASON_STRONG,
		     round_i(latest->index), 0);
	return 0;
}
