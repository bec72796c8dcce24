/*
 * idempotency.c - reads the Idempotency-Key header (see idempotency.h).
 */
#include "api/idempotency.h"

#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "http/problem.h"

int
idempotency_key_read(struct request *r, char *key, bool *has)
{
	const char *k =
	    evhttp_find_header(evhttp_request_get_input_headers(r->req), "Idempotency-Key");
	size_t n;
	json_t *errs;

	*has = false;
	if (k == NULL)
		return 0;
	n = strlen(k);
	for (size_t i = 0; i < n && n <= IDEMPOTENCY_KEY_LEN; i++)
		if (k[i] < 0x21 || k[i] > 0x7e) /* visible ASCII only */
			n = 0;
	if (n < 1 || n > IDEMPOTENCY_KEY_LEN) {
		errs = json_array();
		json_array_append_new(errs,
		    json_pack("{s:s, s:s}", "field", "Idempotency-Key", "message",
		        "must be 1 to 255 visible ASCII characters"));
		request_problem(r, 422, "invalid Idempotency-Key header", errs);
		return -1;
	}
	memcpy(key, k, n + 1);
	*has = true;
	return 0;
}
