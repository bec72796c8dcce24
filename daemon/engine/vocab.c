/* vocab.c — tag vocabularies as data (see vocab.h). */
#include "engine/vocab.h"
#include "engine/engine_err.h"

#include <stdlib.h>
#include <string.h>

struct vocab {
	int count[VOCAB_KIND_COUNT];
	char names[VOCAB_KIND_COUNT][VOCAB_MAX_WIDE][VOCAB_NAME_MAX];
};

static const char *const default_concerns[] = {
	"anxiety",
	"depression",
	"trauma",
	"grief",
	"relationships",
	"couples",
	"family",
	"substance_use",
	"eating",
	"ocd",
	"bipolar",
	"adhd",
	"self_esteem",
	"stress",
	"life_transitions",
	"identity",
	"parenting",
	"anger",
	"sleep",
	"chronic_illness",
};
static const char *const default_modalities[] = {
	"cbt",
	"dbt",
	"act",
	"emdr",
	"psychodynamic",
	"person_centered",
	"ifs",
	"schema",
	"mindfulness",
	"solution_focused",
	"narrative",
	"gottman",
	"eft",
	"somatic",
	"exposure",
	"motivational_interviewing",
};
static const char *const default_formats[] = { "in_person", "video", "phone" };
static const char *const default_populations[] = {
	"child",
	"teen",
	"adult",
	"older_adult",
	"couple",
	"family",
};
static const char *const default_identity[] = {
	"lgbtq_affirming",
	"bipoc",
	"faith_based",
	"neurodivergent_affirming",
	"veteran_informed",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *kind_name;
	const char *const *list;
	size_t n;
	int capacity;
} kinds[VOCAB_KIND_COUNT] = {
	[VOCAB_CONCERNS] = { "concerns", default_concerns, N_OF(default_concerns), VOCAB_MAX_WIDE },
	[VOCAB_MODALITIES] = { "modalities", default_modalities, N_OF(default_modalities),
	    VOCAB_MAX_WIDE },
	[VOCAB_FORMATS] = { "formats", default_formats, N_OF(default_formats), VOCAB_MAX_NARROW },
	[VOCAB_POPULATIONS] = { "populations", default_populations, N_OF(default_populations),
	    VOCAB_MAX_NARROW },
	[VOCAB_IDENTITY] = { "identity", default_identity, N_OF(default_identity),
	    VOCAB_MAX_NARROW },
};

static bool
kind_ok(enum vocab_kind k)
{
	return (unsigned)k < VOCAB_KIND_COUNT;
}

struct vocab *
vocab_new(void)
{
	return calloc(1, sizeof(struct vocab));
}

struct vocab *
vocab_new_default(void)
{
	struct vocab *v = vocab_new();
	if (!v)
		return NULL;
	for (int k = 0; k < VOCAB_KIND_COUNT; k++)
		if (vocab_set(v, (enum vocab_kind)k, kinds[k].list, kinds[k].n) != 0)
			goto fail;
	return v;
fail:
	vocab_free(v);
	return NULL;
}

void
vocab_free(struct vocab *v)
{
	free(v);
}

bool
vocab_valid_name(const char *name)
{
	if (!name || !(name[0] >= 'a' && name[0] <= 'z'))
		return false;
	size_t i = 0;
	for (; name[i]; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
		if (i + 1 >= VOCAB_NAME_MAX)
			return false;
	}
	return true;
}

int
vocab_add(struct vocab *v, enum vocab_kind kind, const char *name)
{
	if (!v || !kind_ok(kind) || !vocab_valid_name(name))
		return ENGINE_EINVAL;
	if (vocab_lookup(v, kind, name) >= 0)
		return ENGINE_EEXIST;
	if (v->count[kind] >= kinds[kind].capacity)
		return ENGINE_EFULL;
	int i = v->count[kind]++;
	strcpy(v->names[kind][i], name); /* length checked by vocab_valid_name */
	return i;
}

int
vocab_set(struct vocab *v, enum vocab_kind kind, const char *const *names, size_t n)
{
	if (!v || !kind_ok(kind) || (n && !names))
		return ENGINE_EINVAL;
	if (n > (size_t)kinds[kind].capacity)
		return ENGINE_EFULL;
	v->count[kind] = 0;
	for (size_t i = 0; i < n; i++) {
		int rc = vocab_add(v, kind, names[i]);
		if (rc < 0) {
			/* Leave the kind empty rather than half-built; the caller
			 * reports the error and keeps its previous vocab. */
			v->count[kind] = 0;
			return rc;
		}
	}
	return 0;
}

int
vocab_lookup(const struct vocab *v, enum vocab_kind kind, const char *name)
{
	if (!v || !kind_ok(kind) || !name)
		return -1;
	for (int i = 0; i < v->count[kind]; i++)
		if (strcmp(v->names[kind][i], name) == 0)
			return i;
	return -1;
}

const char *
vocab_name(const struct vocab *v, enum vocab_kind kind, int idx)
{
	if (!v || !kind_ok(kind) || idx < 0 || idx >= v->count[kind])
		return NULL;
	return v->names[kind][idx];
}

int
vocab_count(const struct vocab *v, enum vocab_kind kind)
{
	if (!v || !kind_ok(kind))
		return 0;
	return v->count[kind];
}

int
vocab_capacity(enum vocab_kind kind)
{
	return kind_ok(kind) ? kinds[kind].capacity : 0;
}

const char *
vocab_kind_name(enum vocab_kind kind)
{
	return kind_ok(kind) ? kinds[kind].kind_name : "unknown";
}

const char *const *
vocab_default_list(enum vocab_kind kind, size_t *n)
{
	if (!kind_ok(kind)) {
		if (n)
			*n = 0;
		return NULL;
	}
	if (n)
		*n = kinds[kind].n;
	return kinds[kind].list;
}

int
vocab_parse_set(const struct vocab *v, enum vocab_kind kind, const char *const *names, size_t n,
    struct tagset *out, size_t *bad)
{
	if (!v || !out || (n && !names))
		return ENGINE_EINVAL;
	tagset_clear(out);
	for (size_t i = 0; i < n; i++) {
		int idx = vocab_lookup(v, kind, names[i]);
		if (idx < 0) {
			if (bad)
				*bad = i;
			return ENGINE_ENOTFOUND;
		}
		tagset_add(out, idx);
	}
	return 0;
}

static int
lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

uint16_t
lang_pack(const char *code)
{
	if (!code)
		return 0;
	int a = lower((unsigned char)code[0]);
	if (a < 'a' || a > 'z')
		return 0;
	int b = lower((unsigned char)code[1]);
	if (b < 'a' || b > 'z' || code[2] != '\0')
		return 0;
	return (uint16_t)((a - 'a') * 26 + (b - 'a') + 1);
}

void
lang_unpack(uint16_t packed, char out[3])
{
	if (packed == 0 || packed > 26 * 26) {
		out[0] = out[1] = out[2] = 0;
		return;
	}
	unsigned p = packed - 1u;
	out[0] = (char)('a' + p / 26);
	out[1] = (char)('a' + p % 26);
	out[2] = 0;
}
