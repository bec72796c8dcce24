/*
 * intake_check.c - see intake_check.h.
 *
 * An exclusion of a therapist who does not exist excludes nobody: most likely a typo or an id
 * from another system, which the client would believe was honoured.  So it is refused, as an
 * unknown tag is.  Retired and inactive therapists stay in the catalog: excluding them is
 * allowed (they may come back).
 */
#include "api/intake_check.h"

#include <stdint.h>
#include <stdio.h>

#include "api/api.h"
#include "codec/intake_json.h"
#include "codec/json_fields.h"
#include "engine/engine.h"
#include "store/catalog_sync.h"

int
intake_excludes_known(struct request *r, const json_t *body)
{
	const json_t *arr = json_object_get(body, "exclude_therapists"), *item;
	struct catalog_sync *cs = request_api(r)->catalog;
	struct field_errors fe;
	char path[64];
	size_t i;

	if (json_array_size(arr) == 0)
		return 0;
	if (!catalog_sync_ready(cs)) {
		request_retry_later(r, CATALOG_LOADING);
		return -1;
	}
	field_errors_init(&fe);
	json_array_foreach (arr, i, item) {
		json_int_t id = json_integer_value(item);

		if (id >= 1 && id <= (json_int_t)UINT32_MAX &&
		    catalog_lookup(catalog_sync_catalog(cs), (uint32_t)id, NULL, NULL))
			continue;
		jf_index_path(path, sizeof(path), "exclude_therapists", i);
		field_error(&fe, path, "no therapist %lld", (long long)id);
	}
	if (!field_errors_any(&fe)) {
		field_errors_clear(&fe);
		return 0;
	}
	request_problem(r, 422, "invalid intake", field_errors_take(&fe));
	return -1;
}

int
intake_read(struct request *r, bool require_ref, struct intake *in)
{
	struct field_errors fe;

	field_errors_init(&fe);
	if (intake_from_json(r->body, catalog_sync_vocab(request_api(r)->catalog), require_ref, in,
	        &fe) != 0) {
		request_problem(r, 422, "invalid intake", field_errors_take(&fe));
		return -1;
	}
	field_errors_clear(&fe);
	return intake_excludes_known(r, r->body);
}
