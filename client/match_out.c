/*
 * match_out.c - ranked therapists as a table, with reasons and warnings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match_out.h"

static int
row(struct out_table *t, size_t rank, const json_t *m, bool colleague_col)
{
	char *reasons = out_text(json_object_get(m, "reasons"));
	const json_t *w = json_object_get(m, "warnings");
	char *warn = json_array_size(w) > 0 ? out_text(w) : NULL;
	char *why = NULL;
	int bad;

	if (reasons == NULL)
		return -1;
	if (asprintf(&why, "%s%s%s", reasons, warn != NULL ? "; warning: " : "",
	        warn != NULL ? warn : "") < 0)
		why = NULL;
	bad = why == NULL || out_row(t) != 0 || out_cellf(t, 0, "%zu", rank) ||
	    out_cellf(t, 1, "%lld",
	        (long long)json_integer_value(json_object_get(m, "therapist_id"))) ||
	    out_cell(t, 2, json_string_value(json_object_get(m, "external_ref")), NULL) ||
	    out_cell(t, 3, json_string_value(json_object_get(m, "display_name")), NULL) ||
	    out_cellf(t, 4, "%.1f", json_number_value(json_object_get(m, "score")));
	if (!bad && colleague_col)
		bad = out_cell(t, 5, json_is_true(json_object_get(m, "colleague")) ? "yes" : "no",
		          NULL) ||
		    out_cell(t, 6, why, NULL);
	else if (!bad)
		bad = out_cell(t, 5, why, NULL);
	free(reasons);
	free(warn);
	free(why);
	return bad ? -1 : 0;
}

static void
print_excluded(const json_t *answer)
{
	const json_t *ex = json_object_get(answer, "excluded"), *n;
	const char *k, *hint = json_string_value(json_object_get(answer, "hint"));
	int first = 1;

	printf("considered %lld",
	    (long long)json_integer_value(json_object_get(answer, "considered")));
	json_object_foreach ((json_t *)ex, k, n) {
		printf("%s %s %lld", first ? "; excluded:" : ",", k,
		    (long long)json_integer_value(n));
		first = 0;
	}
	putchar('\n');
	if (hint != NULL)
		printf("hint: %s\n", hint);
}

int
match_print(const struct out *o, const json_t *answer, const char *list)
{
	static const char *const mcols[] = { "#>", "ID>", "REF", "NAME", "SCORE>", "WHY~" };
	static const char *const rcols[] = { "#>", "ID>", "REF", "NAME", "SCORE>", "COLLEAGUE",
		"WHY~" };
	bool referrals = strcmp(list, "suggestions") == 0;
	const json_t *items = json_object_get(answer, list), *m;
	struct out_table *t;
	size_t i;

	if (json_array_size(items) == 0) {
		printf("no %s\n", referrals ? "suggestions" : "matches");
		print_excluded(answer);
		return 0;
	}
	t = referrals ? out_table_new(o, rcols, 7) : out_table_new(o, mcols, 6);
	if (t == NULL)
		return -1;
	json_array_foreach (items, i, m)
		if (row(t, i + 1, m, referrals) != 0) {
			out_table_free(t);
			return -1;
		}
	if (out_table_print(t) != 0)
		return -1;
	print_excluded(answer);
	return 0;
}
