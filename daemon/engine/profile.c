/* profile.c — profile/intake helpers and the weekly availability mask. */
#include "engine/profile.h"
#include "engine/engine_err.h"

/* Field names of the style axes in validation errors, by enum style_axis. */
static const char *const style_fields[STYLE_AXES] = { "style.directiveness",
	"style.emotional_intensity", "style.past_orientation", "style.challenge" };

#include <string.h>

static const char *const day_names[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

int
avail_day_index(const char *day)
{
	if (!day)
		return -1;
	for (int i = 0; i < 7; i++)
		if (strcmp(day, day_names[i]) == 0)
			return i;
	return -1;
}

int
avail_add(struct avail *a, int day, int from_hour, int to_hour)
{
	if (!a || day < 0 || day > 6 || from_hour < 0 || to_hour > 24 || from_hour >= to_hour)
		return ENGINE_EINVAL;
	for (int h = from_hour; h < to_hour; h++) {
		int bit = day * 24 + h;
		a->w[bit >> 6] |= UINT64_C(1) << (bit & 63);
	}
	return 0;
}

int
avail_hours(const struct avail *a)
{
	return engine_popcount64(a->w[0]) + engine_popcount64(a->w[1]) + engine_popcount64(a->w[2]);
}

int
avail_overlap(const struct avail *a, const struct avail *b)
{
	return engine_popcount64(a->w[0] & b->w[0]) + engine_popcount64(a->w[1] & b->w[1]) +
	    engine_popcount64(a->w[2] & b->w[2]);
}

static const char *const axis_names[STYLE_AXES] = {
	"directiveness",
	"emotional_intensity",
	"past_orientation",
	"challenge",
};

const char *
style_axis_name(enum style_axis a)
{
	return (unsigned)a < STYLE_AXES ? axis_names[a] : "unknown";
}

int
style_axis_index(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < STYLE_AXES; i++)
		if (strcmp(name, axis_names[i]) == 0)
			return i;
	return -1;
}

/* Copy a short string; reject empty or too long ones rather than truncate. */
static int
copy_str(char dst[PROFILE_STR_MAX], const char *src)
{
	if (!src || !src[0] || strlen(src) >= PROFILE_STR_MAX)
		return ENGINE_EINVAL;
	strcpy(dst, src);
	return 0;
}

void
therapist_profile_init(struct therapist_profile *p, uint32_t id)
{
	memset(p, 0, sizeof(*p));
	p->id = id;
}

int
profile_set_concern(struct therapist_profile *p, int concern, enum concern_level level)
{
	if (!p || concern < 0 || concern >= VOCAB_MAX_WIDE || level < CONCERN_NONE ||
	    level > CONCERN_SPECIALIST)
		return ENGINE_EINVAL;
	uint64_t bit = UINT64_C(1) << (concern & 63);
	int w = concern >> 6;
	p->concerns_any.w[w] &= ~bit;
	p->concerns_specialist.w[w] &= ~bit;
	if (level >= CONCERN_EXPERIENCED)
		p->concerns_any.w[w] |= bit;
	if (level == CONCERN_SPECIALIST)
		p->concerns_specialist.w[w] |= bit;
	return 0;
}

enum concern_level
profile_concern_level(const struct therapist_profile *p, int concern)
{
	if (!p || concern < 0 || concern >= VOCAB_MAX_WIDE)
		return CONCERN_NONE;
	return (enum concern_level)(
	    tagset_has(&p->concerns_any, concern) + tagset_has(&p->concerns_specialist, concern));
}

static int
add_lang(uint16_t *langs, uint8_t *n, const char *code)
{
	uint16_t c = lang_pack(code);
	if (!c)
		return ENGINE_EINVAL;
	for (int i = 0; i < *n; i++)
		if (langs[i] == c)
			return 0;
	if (*n >= PROFILE_MAX_LANGS)
		return ENGINE_EFULL;
	langs[(*n)++] = c;
	return 0;
}

int
profile_add_language(struct therapist_profile *p, const char *iso639_1)
{
	return add_lang(p->languages, &p->n_languages, iso639_1);
}

/* Appends s to a fixed list of short strings (sites, payers, genders). */
static int
add_str(char (*list)[PROFILE_STR_MAX], uint8_t *n, int max, const char *s)
{
	if (*n >= max)
		return ENGINE_EFULL;
	int rc = copy_str(list[*n], s);
	if (rc == 0)
		(*n)++;
	return rc;
}

int
profile_add_site(struct therapist_profile *p, const char *site)
{
	return add_str(p->sites, &p->n_sites, PROFILE_MAX_SITES, site);
}

int
profile_add_payer(struct therapist_profile *p, const char *payer)
{
	return add_str(p->payers, &p->n_payers, PROFILE_MAX_PAYERS, payer);
}

int
profile_set_gender(struct therapist_profile *p, const char *gender)
{
	if (gender && !gender[0]) {
		p->gender[0] = 0;
		return 0;
	}
	return copy_str(p->gender, gender);
}

int
profile_validate(const struct therapist_profile *p, const char **field)
{
	const char *f = NULL;
	if (!p)
		f = "";
	else if (p->id == 0)
		f = "id";
	else if (p->n_languages > PROFILE_MAX_LANGS)
		f = "languages";
	else if (p->n_sites > PROFILE_MAX_SITES)
		f = "sites";
	else if (p->n_payers > PROFILE_MAX_PAYERS)
		f = "payers";
	else if ((p->concerns_specialist.w[0] & ~p->concerns_any.w[0]) ||
	    (p->concerns_specialist.w[1] & ~p->concerns_any.w[1]))
		f = "concerns";
	else if (p->availability.w[2] >> 40)
		f = "availability";
	else
		for (int a = 0; a < STYLE_AXES && !f; a++)
			if (p->style[a] < -3 || p->style[a] > 3)
				f = style_fields[a];
	if (f) {
		if (field)
			*field = f;
		return ENGINE_EINVAL;
	}
	return 0;
}

void
intake_init(struct intake *in)
{
	memset(in, 0, sizeof(*in));
	in->population = -1;
	in->in_person_format = -1;
	in->self_pay_max = -1;
}

int
intake_add_concern(struct intake *in, int concern, int priority)
{
	if (concern < 0 || concern >= VOCAB_MAX_WIDE || priority < 1 || priority > 3)
		return ENGINE_EINVAL;
	for (int i = 0; i < in->n_concerns; i++)
		if (in->concerns[i].tag == concern) {
			in->concerns[i].priority = (uint8_t)priority;
			return 0;
		}
	if (in->n_concerns >= INTAKE_MAX_CONCERNS)
		return ENGINE_EFULL;
	in->concerns[in->n_concerns++] =
	    (struct intake_concern){ (uint8_t)concern, (uint8_t)priority };
	return 0;
}

int
intake_add_language(struct intake *in, const char *iso639_1)
{
	return add_lang(in->languages, &in->n_languages, iso639_1);
}

int
intake_add_site(struct intake *in, const char *site)
{
	return add_str(in->sites, &in->n_sites, PROFILE_MAX_SITES, site);
}

int
intake_add_gender(struct intake *in, const char *gender)
{
	return add_str(in->genders, &in->n_genders, INTAKE_MAX_GENDERS, gender);
}

int
intake_set_style(struct intake *in, enum style_axis axis, int value)
{
	if ((unsigned)axis >= STYLE_AXES || value < -3 || value > 3)
		return ENGINE_EINVAL;
	in->style[axis] = (int8_t)value;
	in->style_given |= (uint8_t)(1u << axis);
	return 0;
}

int
intake_set_payer(struct intake *in, const char *payer)
{
	if (payer && !payer[0]) {
		in->payer[0] = 0;
		return 0;
	}
	return copy_str(in->payer, payer);
}

int
intake_add_exclude(struct intake *in, uint32_t therapist_id)
{
	for (int i = 0; i < in->n_exclude; i++)
		if (in->exclude[i] == therapist_id)
			return 0;
	if (in->n_exclude >= INTAKE_MAX_EXCLUDE)
		return ENGINE_EFULL;
	in->exclude[in->n_exclude++] = therapist_id;
	return 0;
}

int
intake_validate(const struct intake *in, const char **field)
{
	const char *f = NULL;
	if (!in)
		f = "";
	else if (in->population < -1 || in->population >= VOCAB_MAX_NARROW)
		f = "population";
	else if (in->n_concerns > INTAKE_MAX_CONCERNS)
		f = "concerns";
	else if (in->n_languages > PROFILE_MAX_LANGS)
		f = "languages";
	else if (in->n_sites > PROFILE_MAX_SITES)
		f = "sites";
	else if (in->n_genders > INTAKE_MAX_GENDERS)
		f = "gender";
	else if (in->n_exclude > INTAKE_MAX_EXCLUDE)
		f = "exclude_therapists";
	else if (in->self_pay_max < -1)
		f = "payment.self_pay_max";
	else if (in->availability.w[2] >> 40)
		f = "availability";
	else if (in->wanted_hours > 168)
		f = "wanted_hours";
	else
		for (int i = 0; i < in->n_concerns && !f; i++)
			if (in->concerns[i].priority < 1 || in->concerns[i].priority > 3 ||
			    in->concerns[i].tag >= VOCAB_MAX_WIDE)
				f = "concerns";
	for (int a = 0; in && a < STYLE_AXES && !f; a++)
		if ((in->style_given >> a & 1) && (in->style[a] < -3 || in->style[a] > 3))
			f = style_fields[a];
	if (f) {
		if (field)
			*field = f;
		return ENGINE_EINVAL;
	}
	return 0;
}
