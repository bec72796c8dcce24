/*
 * fuzz_json_request.c - a request body through everything that reads one:
 * the depth check and parser (json_body), then the intake and therapist
 * validators against the default vocabulary.  Nothing may crash, leak or
 * trip a sanitizer, whatever the bytes.
 *
 * With gcc (make check) a small main() replays every file given on the
 * command line; with clang, `make fuzz` links libFuzzer instead.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "codec/intake_json.h"
#include "http/json_body.h"
#include "codec/therapist_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vocab *v;
	struct field_errors fe;
	struct intake in;
	struct therapist_profile p;
	bool has_avail;
	char err[160];
	json_t *j;

	if (v == NULL && (v = vocab_new_default()) == NULL)
		abort();
	j = json_body_parse((const char *)data, size, 16, err, sizeof(err));
	if (j == NULL)
		return 0;
	field_errors_init(&fe);
	(void)intake_from_json(j, v, false, &in, &fe);
	field_errors_clear(&fe);
	(void)therapist_from_json(j, THERAPIST_FULL, v, &p, &has_avail, &fe);
	field_errors_clear(&fe);
	(void)therapist_from_json(j, THERAPIST_PATCH, v, &p, &has_avail, &fe);
	field_errors_clear(&fe);
	json_decref(j);
	return 0;
}

#include "fuzz_replay.h"
