/*
 * fuzz_therapist.c - a therapist body through therapist_from_json in each
 * mode (FULL, PATCH, STORED) and the canonical statement parameter.  A
 * refused body always carries an error; an accepted FULL body's canonical
 * form is accepted again, to the same profile.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "http/json_body.h"
#include "codec/therapist_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_canonical(const json_t *body, enum therapist_json_mode mode, const struct vocab *v,
    const struct therapist_profile *p)
{
	struct field_errors fe;
	struct therapist_profile again;
	json_t *c = therapist_json_canonical(body, mode);
	char *text;

	if (c == NULL)
		abort();
	text = json_dumps(c, JSON_COMPACT); /* what the statement is sent */
	if (text == NULL)
		abort();
	free(text);
	field_errors_init(&fe);
	if (mode == THERAPIST_FULL &&
	    (therapist_from_json(c, THERAPIST_FULL, v, &again, NULL, &fe) != 0 ||
	        memcmp(p, &again, sizeof(again)) != 0))
		abort();
	field_errors_clear(&fe);
	json_decref(c);
}

static void
one(const json_t *j, enum therapist_json_mode mode, const struct vocab *v)
{
	struct field_errors fe;
	struct therapist_profile p;
	bool has_avail;
	int rc;

	field_errors_init(&fe);
	rc = therapist_from_json(j, mode, v, &p, &has_avail, &fe);
	if (rc != 0 && !field_errors_any(&fe))
		abort();
	if (rc == 0 && mode != THERAPIST_STORED)
		check_canonical(j, mode, v, &p);
	field_errors_clear(&fe);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vocab *v;
	char err[200];
	json_t *j;

	if (v == NULL && (v = vocab_new_default()) == NULL)
		abort();
	j = json_body_parse((const char *)data, size, 16, err, sizeof(err));
	if (j == NULL)
		return 0;
	one(j, THERAPIST_FULL, v);
	one(j, THERAPIST_PATCH, v);
	one(j, THERAPIST_STORED, v);
	json_decref(j);
	return 0;
}

#include "fuzz_replay.h"
