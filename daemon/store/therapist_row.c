/*
 * therapist_row.c - a therapist's engine profile from the columns of its
 * database row (see therapist_row.h).  The rules are those of
 * therapist_from_json() in THERAPIST_STORED mode, on PostgreSQL's text forms.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "codec/therapist_json.h"
#include "store/therapist_row.h"

/* The next element of a one-dimensional array's text form ("{a,"b c",d}")
 * into buf; *s moves past it.  1 an element, 0 the end, -1 malformed, too
 * long or NULL (the tables' checks allow no NULL element). */
static int
array_next(const char **s, char *buf, size_t len)
{
	const char *p = *s;
	size_t n = 0;

	if (*p == '{')
		p++;
	if (*p == '}' || *p == '\0')
		return *p == '}' ? 0 : -1;
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\\')
				p++;
			if (*p == '\0' || n + 1 >= len)
				return -1;
			buf[n++] = *p;
		}
		p++;
	} else {
		for (; *p != ',' && *p != '}'; p++) {
			if (*p == '\0' || n + 1 >= len)
				return -1;
			buf[n++] = *p;
		}
		if (n == 4 && strncmp(buf, "NULL", 4) == 0)
			return -1;
	}
	buf[n] = '\0';
	if (*p == ',')
		p++;
	else if (*p != '}')
		return -1;
	*s = p;
	return 1;
}

/* Tags of KIND; those the vocabulary lacks are skipped (stored mode). */
static int
read_tags(const char *text, const struct vocab *v, enum vocab_kind kind, struct tagset *out)
{
	char tag[80];
	int rc;

	tagset_clear(out);
	while ((rc = array_next(&text, tag, sizeof(tag))) == 1) {
		int idx = vocab_lookup(v, kind, tag);

		if (idx >= 0)
			tagset_add(out, idx);
	}
	return rc;
}

static int
read_languages(const char *text, struct therapist_profile *out)
{
	char code[8];
	int rc;

	out->n_languages = 0;
	while ((rc = array_next(&text, code, sizeof(code))) == 1) {
		uint16_t c;

		if (strlen(code) != 2 || code[0] < 'a' || code[0] > 'z' || code[1] < 'a' ||
		    code[1] > 'z' || (c = lang_pack(code)) == 0 ||
		    out->n_languages >= PROFILE_MAX_LANGS)
			return -1;
		for (int j = 0; j < out->n_languages; j++)
			if (out->languages[j] == c)
				return -1;
		out->languages[out->n_languages++] = c;
	}
	return rc;
}

/* sites / payers: at most MAX labels the profile holds. */
static int
read_labels(const char *text, bool sites, size_t max, struct therapist_profile *out)
{
	char label[PROFILE_STR_MAX];
	size_t n = 0;
	int rc;

	while ((rc = array_next(&text, label, sizeof(label))) == 1) {
		if (++n > max ||
		    (sites ? profile_add_site(out, label) : profile_add_payer(out, label)) != 0)
			return -1;
	}
	return rc;
}

/* "tag level;tag level" (levels 1, 2); unknown tags skipped. */
static int
read_concerns(const char *text, const struct vocab *v, struct therapist_profile *out)
{
	while (*text != '\0') {
		const char *sp = strchr(text, ' '), *end = strchr(text, ';');
		char tag[80];
		size_t len;
		int idx;
		long level;

		if (end == NULL)
			end = text + strlen(text);
		if (sp == NULL || sp > end || (len = (size_t)(sp - text)) == 0 ||
		    len >= sizeof(tag))
			return -1;
		memcpy(tag, text, len);
		tag[len] = '\0';
		level = strtol(sp + 1, NULL, 10);
		if (level < 1 || level > 2)
			return -1;
		idx = vocab_lookup(v, VOCAB_CONCERNS, tag);
		if (idx >= 0)
			profile_set_concern(out, idx, (enum concern_level)level);
		text = *end == ';' ? end + 1 : end;
	}
	return 0;
}

static const char *
col(const PGresult *res, int row, int c)
{
	return PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
}

int
therapist_from_row(const PGresult *res, int row, int first, uint32_t id, const struct vocab *v,
    struct therapist_profile *out, const char **field)
{
	struct tagset set;
	const char *s;
	int a;

	therapist_profile_init(out, id);
	out->capacity = THERAPIST_DEFAULT_CAPACITY;
	out->accepting_new = true;
	out->active = true;
	*field = "external_ref";
	if (col(res, row, first + TR_EXTERNAL_REF) == NULL)
		return -1;
	*field = "display_name";
	if (col(res, row, first + TR_DISPLAY_NAME) == NULL)
		return -1;
	*field = "gender";
	if ((s = col(res, row, first + TR_GENDER)) != NULL && profile_set_gender(out, s) != 0)
		return -1;
	*field = "languages";
	if (read_languages(PQgetvalue(res, row, first + TR_LANGUAGES), out) != 0)
		return -1;
	*field = "concerns";
	if ((s = col(res, row, first + TR_CONCERNS)) != NULL && read_concerns(s, v, out) != 0)
		return -1;
	*field = "modalities";
	if (read_tags(PQgetvalue(res, row, first + TR_MODALITIES), v, VOCAB_MODALITIES,
	        &out->modalities) != 0)
		return -1;
	*field = "formats";
	if (read_tags(PQgetvalue(res, row, first + TR_FORMATS), v, VOCAB_FORMATS, &set) != 0)
		return -1;
	out->formats = set.w[0]; /* narrow kinds have at most 64 tags */
	*field = "populations";
	if (read_tags(PQgetvalue(res, row, first + TR_POPULATIONS), v, VOCAB_POPULATIONS, &set) !=
	    0)
		return -1;
	out->populations = set.w[0];
	*field = "identity";
	if (read_tags(PQgetvalue(res, row, first + TR_IDENTITY), v, VOCAB_IDENTITY, &set) != 0)
		return -1;
	out->identity = set.w[0];
	*field = "sites";
	if (read_labels(PQgetvalue(res, row, first + TR_SITES), true, PROFILE_MAX_SITES, out) != 0)
		return -1;
	*field = "payers";
	if (read_labels(PQgetvalue(res, row, first + TR_PAYERS), false, PROFILE_MAX_PAYERS, out) !=
	    0)
		return -1;
	*field = "style";
	for (a = 0; a < STYLE_AXES; a++) {
		long x;

		if ((s = col(res, row, first + TR_STYLE + a)) == NULL)
			continue;
		x = strtol(s, NULL, 10);
		if (x < -3 || x > 3)
			return -1;
		out->style[a] = (int8_t)x;
	}
	*field = "availability";
	if (therapist_avail_from_bits(PQgetvalue(res, row, first + TR_AVAILABILITY),
	        &out->availability) != 0)
		return -1;
	*field = "self_pay_fee";
	if ((s = col(res, row, first + TR_SELF_PAY_FEE)) != NULL) {
		double fee = strtod(s, NULL);

		if (!(fee >= 0 && fee <= THERAPIST_FEE_MAX))
			return -1;
		/* Whole units up, as therapist_from_json(): 150.50 is above 150. */
		out->self_pay_fee = (uint16_t)ceil(fee - 1e-9);
	}
	*field = "capacity";
	s = PQgetvalue(res, row, first + TR_CAPACITY);
	a = atoi(s);
	if (a < 0 || a > THERAPIST_CAPACITY_MAX)
		return -1;
	out->capacity = (uint16_t)a;
	out->sliding_scale = PQgetvalue(res, row, first + TR_SLIDING_SCALE)[0] == 't';
	out->accepting_new = PQgetvalue(res, row, first + TR_ACCEPTING_NEW)[0] == 't';
	out->active = PQgetvalue(res, row, first + TR_ACTIVE)[0] == 't';
	*field = NULL;
	return 0;
}
