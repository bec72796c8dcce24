/*
 * therapist_ref.c - the therapist list and ref-to-id resolution.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "therapist_ref.h"

int
therapists_fetch(struct ctl *ctl, const char *query, json_t **list)
{
	struct api_reply r;
	json_t *all = json_array(), *page;
	const char *next = NULL;
	char path[512], cursor[64] = "";
	int rc = CTL_UNAVAILABLE;

	if (all == NULL)
		return CTL_UNAVAILABLE;
	for (;;) {
		snprintf(path, sizeof(path), "/v1/therapists?limit=500%s%s%s%s",
		    query != NULL ? "&" : "", query != NULL ? query : "",
		    cursor[0] ? "&after=" : "", cursor);
		rc = api_do(ctl->api, ctl->prog, "GET", path, NULL, NULL, &r);
		if (rc != CTL_OK)
			goto fail;
		page = json_object_get(api_expect(ctl->prog, &r, JSON_OBJECT), "therapists");
		if (!json_is_array(page) || json_array_extend(all, page) != 0) {
			rc = CTL_UNAVAILABLE;
			goto fail;
		}
		next = json_string_value(json_object_get(r.json, "next"));
		if (next == NULL || strlen(next) >= sizeof(cursor)) {
			api_reply_clear(&r);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", next);
		api_reply_clear(&r);
	}
	*list = all;
	return CTL_OK;
fail:
	api_reply_clear(&r);
	json_decref(all);
	return rc;
}

int
therapist_resolve(struct ctl *ctl, const char *arg, long long *id)
{
	json_t *list, *t;
	size_t i;
	int rc;

	if (ctl_parse_id(arg, id) == 0)
		return CTL_OK;
	rc = therapists_fetch(ctl, NULL, &list);
	if (rc != CTL_OK)
		return rc;
	rc = CTL_REFUSED;
	json_array_foreach (list, i, t) {
		const char *ref = json_string_value(json_object_get(t, "external_ref"));

		if (ref != NULL && strcmp(ref, arg) == 0) {
			*id = json_integer_value(json_object_get(t, "id"));
			rc = CTL_OK;
			break;
		}
	}
	json_decref(list);
	if (rc != CTL_OK)
		fprintf(stderr, "%s: no therapist with id or external_ref \"%s\"\n", ctl->prog,
		    arg);
	return rc;
}
