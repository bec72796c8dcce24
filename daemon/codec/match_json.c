/*
 * match_json.c - engine match results as the API's JSON.
 *
 * The engine keeps reasons as codes; the sentences are rendered here with
 * the catalog's own vocabulary so that tag indices and names always agree.
 */
#include <math.h>

#include "codec/match_json.h"

/* Written straight into a buffer as text: no json_t tree per answer.  Scores
 * are shown with one decimal, components with three: enough to explain a
 * ranking without printing float noise. */

static void
sentences_write(struct json_writer *w, const struct vocab *v, const struct reason *reasons,
    size_t n)
{
	char buf[256];
	size_t i;
	int len;

	jw_array_begin(w);
	for (i = 0; i < n; i++) {
		len = reason_render(&reasons[i], v, buf, sizeof(buf));
		if (len < 0)
			continue; /* an unknown code: nothing a client could read */
		jw_string_n(w, buf, (size_t)len < sizeof(buf) ? (size_t)len : sizeof(buf) - 1);
	}
	jw_array_end(w);
}

void
match_item_write(struct json_writer *w, struct match_names names, const struct match_item *it,
    bool with_colleague)
{
	const struct vocab *v = names.vocab;
	const char *ref = NULL, *name = NULL;
	int c;

	jw_object_begin(w);
	jw_key(w, "therapist_id");
	jw_int(w, it->therapist_id);
	if (names.lookup(names.arg, it->therapist_id, &ref, &name) == 0) {
		if (ref != NULL) {
			jw_key(w, "external_ref");
			jw_string(w, ref);
		}
		if (name != NULL) {
			jw_key(w, "display_name");
			jw_string(w, name);
		}
	}
	jw_key(w, "score");
	jw_fixed(w, it->score, 1);
	jw_key(w, "components");
	jw_object_begin(w);
	for (c = 0; c < COMP_COUNT; c++)
		if (it->comp_used >> c & 1) {
			jw_key(w, component_name((enum component)c));
			jw_fixed(w, it->components[c], 3);
		}
	jw_object_end(w);
	jw_key(w, "reasons");
	sentences_write(w, v, it->reasons, it->n_reasons);
	jw_key(w, "warnings");
	sentences_write(w, v, it->warnings, it->n_warnings);
	if (with_colleague) {
		jw_key(w, "colleague");
		jw_bool(w, it->colleague);
	}
	jw_object_end(w);
}

/* {"<key>": [items], "excluded": {...}, "considered": N, "hint"?} */
static void
result_write(struct json_writer *w, struct match_names names, const char *key,
    const struct match_item *items, size_t n, const struct match_summary *sum, const char *hint,
    bool with_colleague)
{
	size_t i;
	int e;

	jw_object_begin(w);
	jw_key(w, key);
	jw_array_begin(w);
	for (i = 0; i < n; i++)
		match_item_write(w, names, &items[i], with_colleague);
	jw_array_end(w);
	jw_key(w, "excluded");
	jw_object_begin(w);
	for (e = 0; e < EXCL_COUNT; e++)
		if (sum->excluded[e] > 0) {
			jw_key(w, exclusion_name((enum exclusion)e));
			jw_int(w, sum->excluded[e]);
		}
	jw_object_end(w);
	jw_key(w, "considered");
	jw_int(w, sum->considered);
	if (hint != NULL) {
		jw_key(w, "hint");
		jw_string(w, hint);
	}
	jw_object_end(w);
}

void
match_result_write(struct json_writer *w, struct match_names names, const struct match_item *items,
    size_t n, const struct match_summary *sum, const char *hint)
{
	result_write(w, names, "matches", items, n, sum, hint, false);
}

void
referral_result_write(struct json_writer *w, struct match_names names,
    const struct match_item *items, size_t n, const struct match_summary *sum)
{
	result_write(w, names, "suggestions", items, n, sum, NULL, true);
}
