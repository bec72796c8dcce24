/*
 * call.c - one request, one object in the answer (see call.h).
 */
#include "api.h"
#include "call.h"
#include "out.h"

int
call_object(struct ctl *ctl, const char *method, const char *path, const json_t *body,
    call_line_fn line, const void *arg)
{
	struct api_reply r;
	const json_t *obj;
	int rc = api_do(ctl->api, ctl->prog, method, path, body, NULL, &r);

	if (rc != CTL_OK)
		goto out;
	if (ctl->out->json) {
		out_raw(r.body);
		goto out;
	}
	obj = api_expect(ctl->prog, &r, JSON_OBJECT);
	if (obj == NULL)
		rc = CTL_UNAVAILABLE;
	else if (line != NULL)
		line(obj, r.status, arg);
	else if (out_object(ctl->out, obj) != 0)
		rc = CTL_UNAVAILABLE;
out:
	api_reply_clear(&r);
	return rc;
}
