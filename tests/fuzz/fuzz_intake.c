/*
 * fuzz_intake.c - a client intake body: the JSON parser, intake_from_json
 * (stored and stateless) and the stored form.  Beyond "no crash, no leak":
 * a refused intake always carries an error (none is lost), and the stored
 * form of an accepted intake is accepted again, to the same intake.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "codec/intake_json.h"
#include "http/json_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The stored form, read back, must give the same intake as the body. */
static void
check_stored(const json_t *body, const struct vocab *v, const struct intake *in)
{
	struct field_errors fe;
	struct intake again;
	json_t *stored = intake_json_stored(body);

	if (stored == NULL)
		abort();
	field_errors_init(&fe);
	if (intake_from_json(stored, v, false, &again, &fe) != 0 || field_errors_any(&fe))
		abort();
	if (memcmp(in, &again, sizeof(again)) != 0)
		abort();
	field_errors_clear(&fe);
	json_decref(stored);
}

static void
one(const json_t *j, const struct vocab *v, bool require_ref)
{
	struct field_errors fe;
	struct intake in;
	int rc;

	field_errors_init(&fe);
	rc = intake_from_json(j, v, require_ref, &in, &fe);
	if (rc != 0 && !field_errors_any(&fe))
		abort(); /* refused without a word */
	if (rc == 0 && field_errors_any(&fe))
		abort(); /* accepted with an error */
	if (rc == 0)
		check_stored(j, v, &in);
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
	one(j, v, true);
	one(j, v, false);
	json_decref(j);
	return 0;
}

#include "fuzz_replay.h"
