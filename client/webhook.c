/*
 * webhook.c - `alliancectl webhook test NAME`: a signed ping through the
 * daemon's webhook NAME, and how the receiver took it (POST
 * /v1/webhooks/{name}/test; README "Events").
 */
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "cmds.h"
#include "out.h"

static int cmd_webhook_test_exec(struct ctl *ctl, int argc, char **argv);

const struct cmd_entry cmd_webhook_test_entry = {
	"webhook test",
	"NAME",
	"send a signed webhook.ping to the receiver of webhook NAME now",
	"The ping carries a fresh webhook-id and the same signature headers as every\n"
	"event; nothing is stored or retried.  Exit status 0 when the receiver\n"
	"answered 2xx, 3 when it did not (its status or error is printed).\n",
	0,
	cmd_webhook_test_exec,
};

static int
cmd_webhook_test_exec(struct ctl *ctl, int argc, char **argv)
{
	struct api_reply r;
	char path[160];
	const json_t *status;
	int rc;
	bool delivered;

	if (argc != 2 || argv[1][0] == '-')
		return cmd_usage(&cmd_webhook_test_entry);
	if (snprintf(path, sizeof(path), "/v1/webhooks/%s/test", argv[1]) >= (int)sizeof(path))
		return cmd_usage(&cmd_webhook_test_entry);
	rc = api_do(ctl->api, ctl->prog, "POST", path, NULL, NULL, &r);
	if (rc == CTL_OK && api_expect(ctl->prog, &r, JSON_OBJECT) == NULL)
		rc = CTL_UNAVAILABLE;
	if (rc != CTL_OK) {
		api_reply_clear(&r);
		return rc;
	}
	delivered = json_is_true(json_object_get(r.json, "delivered"));
	status = json_object_get(r.json, "status");
	if (ctl->out->json)
		out_raw(r.body);
	else if (delivered)
		printf("webhook %s: ping %s answered %lld in %.1f ms\n", argv[1],
		    json_string_value(json_object_get(r.json, "id")),
		    (long long)json_integer_value(status),
		    json_real_value(json_object_get(r.json, "ms")));
	else
		printf("webhook %s: ping %s failed: %s\n", argv[1],
		    json_string_value(json_object_get(r.json, "id")),
		    json_string_value(json_object_get(r.json, "error")));
	api_reply_clear(&r);
	return delivered ? CTL_OK : CTL_UNAVAILABLE;
}
