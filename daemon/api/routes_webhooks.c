/*
 * routes_webhooks.c - POST /v1/webhooks/{name}/test: a signed ping through
 * one of this daemon's webhooks, answered with how the receiver took it
 * (README "Events"; `alliancectl webhook test NAME`).
 *
 * The ping is a "webhook.ping" message with a fresh webhook-id, signed like
 * every event, sent at once beside the deliveries; nothing is stored.  The
 * answer is 200 either way ("delivered" says whether the receiver answered
 * 2xx): the test ran, its outcome is the content.  A name no webhook of this
 * daemon has is 404.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/api.h"
#include "api/routes.h"
#include "http/router.h"

struct ping_state {
	struct request *r;
	struct webhook_ping *ping; /* in flight; NULL once answered */
};

static void
ping_state_free(void *p)
{
	struct ping_state *s = p;
	const struct webhook_ops *ops = request_api(s->r)->webhooks;

	if (s->ping != NULL) /* the request ended first (timeout, hang-up) */
		ops->cancel(ops->ctx, s->ping);
	free(s);
}

static void
pinged_cb(void *arg, const struct webhook_ping_result *res)
{
	struct ping_state *s = arg;

	s->ping = NULL;
	request_reply_json(s->r, 200,
	    json_pack("{s:s, s:s, s:b, s:o, s:o, s:f}", "webhook", res->webhook, "id", res->id,
	        "delivered", res->error == NULL, "status",
	        res->status > 0 ? json_integer(res->status) : json_null(), "error",
	        res->error != NULL ? json_string(res->error) : json_null(), "ms",
	        round(res->seconds * 1e5) / 100.0));
}

static void
route_webhook_test(struct request *r)
{
	const struct webhook_ops *ops = request_api(r)->webhooks;
	struct ping_state *s;
	int unknown = 0;
	char what[128];

	s = request_state_new(r, sizeof(*s), ping_state_free);
	if (s == NULL)
		return;
	s->r = r;
	s->ping = ops->ping(ops->ctx, r->name, pinged_cb, s, &unknown);
	if (s->ping != NULL)
		return;
	if (unknown) {
		snprintf(what, sizeof(what), "this daemon has no webhook named %s", r->name);
		request_problem(r, 404, what, NULL);
		return;
	}
	request_problem(r, 500, "cannot send the ping", NULL);
}

const struct route routes_webhooks[] = {
	{ "POST", "/v1/webhooks/{name}/test", SCOPE_ADMIN, 0, route_webhook_test },
	ROUTE_END,
};
