/*
 * fuzz_feedback.c - a feedback body through feedback_from_json, then the
 * stored form both ways: the writer's text must equal Jansson's dump of the
 * same objects (feedback_json.h promises it), and the stored row must read
 * back (feedback_from_row) as a valid feedback with the same items and flags.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/feedback_json.h"
#include "http/json_body.h"
#include "codec/json_writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The text both ways; the caller frees it. */
static char *
stored_text(json_t *o, void (*write)(struct json_writer *, const struct feedback *),
    const struct feedback *fb)
{
	struct json_writer w;
	/* Precision 15, as json_writer.h says: Jansson's default 17 digits
	 * print 8.4 as 8.4000000000000004 (found by this target). */
	char buf[64], *dumped = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
	const char *written;

	jw_init(&w, buf, sizeof(buf));
	write(&w, fb);
	written = jw_cstr(&w);
	if (dumped == NULL || written == NULL || strcmp(dumped, written) != 0)
		abort();
	jw_free(&w);
	json_decref(o);
	return dumped;
}

static void
check_stored(const struct feedback *fb)
{
	char *items = stored_text(feedback_items_json(fb), feedback_items_write, fb);
	char *flags = stored_text(feedback_flags_json(fb), feedback_flags_write, fb);
	char neg[8];
	struct feedback back;

	snprintf(neg, sizeof(neg), "%d", (int)fb->negative_feelings);
	if (feedback_from_row(fb->session, instrument_name(fb->instrument), items, flags,
	        fb->has_negative_feelings ? neg : NULL, &back) != 0 ||
	    back.items_present != fb->items_present || back.flags != fb->flags)
		abort();
	free(items);
	free(flags);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feedback_request fr;
	struct field_errors fe;
	char err[200];
	json_t *j;
	int rc;

	j = json_body_parse((const char *)data, size, 16, err, sizeof(err));
	if (j == NULL)
		return 0;
	field_errors_init(&fe);
	rc = feedback_from_json(j, &fr, &fe);
	if (rc != 0 && !field_errors_any(&fe))
		abort(); /* refused without a word */
	if (rc == 0)
		check_stored(&fr.fb);
	field_errors_clear(&fe);
	json_decref(j);
	return 0;
}

#include "fuzz_replay.h"
