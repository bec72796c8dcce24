/*
 * match_json.c - engine match results as the API's JSON.
 *
 * The engine keeps reasons as codes; the sentences are rendered here with
 * the catalog's own vocabulary so that tag indices and names always agree.
 */
#include <math.h>

#include "catalog_sync.h"
#include "match_json.h"

/* Scores are shown with one decimal, components with three: enough to
 * explain a ranking without printing float noise. */
static double
round_to(double x, double scale)
{
	return round(x * scale) / scale;
}

/* Appends the rendered sentences of reasons[0..n) to a new array. */
static json_t *
sentences(const struct vocab *v, const struct reason *reasons, size_t n)
{
	json_t *a = json_array();
	char buf[256];
	size_t i;

	if (a == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (reason_render(&reasons[i], v, buf, sizeof(buf)) < 0)
			continue;	/* an unknown code: nothing a client could read */
		if (json_array_append_new(a, json_string(buf)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *
match_item_json(const struct catalog_sync *cs, const struct match_item *it,
		bool with_colleague)
{
	const struct vocab *v = catalog_sync_vocab(cs);
	const char *ref = NULL, *name = NULL;
	json_t *o = json_object(), *comp = json_object();
	int c;

	if (o == NULL || comp == NULL)
		goto fail;
	if (json_object_set_new(o, "therapist_id", json_integer(it->therapist_id)) != 0)
		goto fail;
	if (catalog_sync_names(cs, it->therapist_id, &ref, &name) == 0) {
		if (ref != NULL && json_object_set_new(o, "external_ref", json_string(ref)) != 0)
			goto fail;
		if (name != NULL && json_object_set_new(o, "display_name", json_string(name)) != 0)
			goto fail;
	}
	if (json_object_set_new(o, "score", json_real(round_to(it->score, 10))) != 0)
		goto fail;
	for (c = 0; c < COMP_COUNT; c++)
		if ((it->comp_used >> c & 1) &&
		    json_object_set_new(comp, component_name((enum component)c),
		    json_real(round_to(it->components[c], 1000))) != 0)
			goto fail;
	if (json_object_set_new(o, "components", comp) != 0) {
		comp = NULL;
		goto fail;
	}
	comp = NULL;
	if (json_object_set_new(o, "reasons", sentences(v, it->reasons, it->n_reasons)) != 0 ||
	    json_object_set_new(o, "warnings", sentences(v, it->warnings, it->n_warnings)) != 0)
		goto fail;
	if (with_colleague && json_object_set_new(o, "colleague", json_boolean(it->colleague)) != 0)
		goto fail;
	return o;
fail:
	json_decref(comp);
	json_decref(o);
	return NULL;
}

json_t *
match_excluded_json(const struct match_summary *sum)
{
	json_t *o = json_object();
	int e;

	if (o == NULL)
		return NULL;
	for (e = 0; e < EXCL_COUNT; e++)
		if (sum->excluded[e] > 0 &&
		    json_object_set_new(o, exclusion_name((enum exclusion)e),
		    json_integer(sum->excluded[e])) != 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

json_t *
match_result_json(const struct catalog_sync *cs, const struct match_item *items, size_t n,
		  const struct match_summary *sum)
{
	json_t *o = json_object(), *arr = json_array();
	size_t i;

	if (o == NULL || arr == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		if (json_array_append_new(arr, match_item_json(cs, &items[i], false)) != 0)
			goto fail;
	if (json_object_set_new(o, "matches", arr) != 0) {
		arr = NULL;
		goto fail;
	}
	arr = NULL;
	if (json_object_set_new(o, "excluded", match_excluded_json(sum)) != 0 ||
	    json_object_set_new(o, "considered", json_integer(sum->considered)) != 0)
		goto fail;
	return o;
fail:
	json_decref(arr);
	json_decref(o);
	return NULL;
}
