/*
 * events.c - `alliancectl events list`: the events after a cursor, oldest
 * first (GET /v1/events, paged through next; README "Events"); `events
 * replay ID`: send one again to a webhook (POST /v1/events/{id}/replay).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cmds.h"
#include "out.h"

static int cmd_events_list_exec(struct ctl *ctl, int argc, char **argv);
static int cmd_events_replay_exec(struct ctl *ctl, int argc, char **argv);

const struct cmd_entry cmd_events_list_entry = {
	"events list",
	"[--after ID] | --failed",
	"the events (status changes, starts, ends, open slots, safety flags), oldest first",
	"  --after ID         only the events after this id (a cursor kept from before)\n"
	"  --failed           the webhook's dead letters instead (admin), newest first\n",
	0,
	cmd_events_list_exec,
};
const struct cmd_entry cmd_events_replay_entry = {
	"events replay",
	"ID [--webhook NAME]",
	"send event ID again to a webhook (a dead letter, once the receiver is fixed)",
	"  --webhook NAME     the webhook to send it to; default the daemon's own\n"
	"The event is queued and sent within seconds, with its first webhook-id (a\n"
	"receiver that has it already drops it); delivered, it leaves the dead letters.\n",
	0,
	cmd_events_replay_exec,
};

/* The episode or therapist an event is about, and its gist. */
static int
print_events(struct out_table *t, const json_t *list)
{
	const json_t *e, *d, *v;
	size_t i;
	int bad = 0;
	char gist[128];

	json_array_foreach (list, i, e) {
		d = json_object_get(e, "data");
		bad |= out_row(t);
		bad |= out_cellf(t, 0, "%lld",
		    (long long)json_integer_value(json_object_get(e, "id")));
		bad |= out_cell(t, 1, json_string_value(json_object_get(e, "created_at")), NULL);
		bad |= out_cell(t, 2, json_string_value(json_object_get(e, "type")), NULL);
		v = json_object_get(d, "episode_id");
		if (json_is_integer(v))
			bad |= out_cellf(t, 3, "%lld", (long long)json_integer_value(v));
		else
			bad |= out_cell(t, 3, "-", NULL);
		v = json_object_get(d, "therapist_id");
		if (json_is_integer(v))
			bad |= out_cellf(t, 4, "%lld", (long long)json_integer_value(v));
		else
			bad |= out_cell(t, 4, "-", NULL);
		gist[0] = '\0';
		if (json_object_get(d, "new_status") != NULL)
			snprintf(gist, sizeof(gist), "%s -> %s (%s)",
			    json_string_value(json_object_get(d, "old_status")),
			    json_string_value(json_object_get(d, "new_status")),
			    json_string_value(json_object_get(d, "action")));
		else if (json_is_string(json_object_get(d, "reason")))
			snprintf(gist, sizeof(gist), "%s",
			    json_string_value(json_object_get(d, "reason")));
		else if (json_is_string(json_object_get(d, "cause")))
			snprintf(gist, sizeof(gist), "%s",
			    json_string_value(json_object_get(d, "cause")));
		else if (json_is_array(json_object_get(d, "flags")))
			snprintf(gist, sizeof(gist), "%s",
			    json_string_value(json_array_get(json_object_get(d, "flags"), 0)));
		bad |= out_cell(t, 5, gist[0] ? gist : "-", NULL);
	}
	return bad ? -1 : 0;
}

/* --failed: GET /v1/events/failed. */
static int
list_failed(struct ctl *ctl)
{
	static const char *const cols[] = { "EVENT>", "TYPE", "WEBHOOK", "ATTEMPTS>", "DEAD AT",
		"LAST ERROR" };
	const json_t *list, *e;
	struct out_table *t = NULL;
	struct api_reply r;
	size_t i;
	int rc, bad = 0;

	rc = api_do(ctl->api, ctl->prog, "GET", "/v1/events/failed?limit=1000", NULL, NULL, &r);
	if (rc == CTL_OK && api_expect(ctl->prog, &r, JSON_OBJECT) == NULL)
		rc = CTL_UNAVAILABLE;
	if (rc != CTL_OK) {
		api_reply_clear(&r);
		return rc;
	}
	if (ctl->out->json) {
		rc = out_json(r.json) != 0 ? CTL_UNAVAILABLE : CTL_OK;
		api_reply_clear(&r);
		return rc;
	}
	t = out_table_new(ctl->out, cols, 6);
	if (t == NULL) {
		api_reply_clear(&r);
		return CTL_UNAVAILABLE;
	}
	list = json_object_get(r.json, "failed");
	json_array_foreach (list, i, e) {
		const char *err = json_string_value(json_object_get(e, "last_error"));

		bad |= out_row(t);
		bad |= out_cellf(t, 0, "%lld",
		    (long long)json_integer_value(json_object_get(e, "event_id")));
		bad |= out_cell(t, 1, json_string_value(json_object_get(e, "type")), NULL);
		bad |= out_cell(t, 2, json_string_value(json_object_get(e, "webhook")), NULL);
		bad |= out_cellf(t, 3, "%lld",
		    (long long)json_integer_value(json_object_get(e, "attempts")));
		bad |= out_cell(t, 4, json_string_value(json_object_get(e, "dead_at")), NULL);
		bad |= out_cell(t, 5, err != NULL ? err : "-", NULL);
	}
	api_reply_clear(&r);
	if (bad) {
		out_table_free(t);
		return CTL_UNAVAILABLE;
	}
	return out_table_print(t) != 0 ? CTL_UNAVAILABLE : CTL_OK; /* frees t */
}

static int
cmd_events_list_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { { "after", required_argument, NULL, 'a' },
		{ "failed", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	static const char *const cols[] = { "ID>", "AT", "TYPE", "EPISODE>", "THERAPIST>", "WHAT" };
	long long after = 0, n;
	char path[128];
	struct out_table *t = NULL;
	json_t *all = NULL, *list;
	struct api_reply r;
	int c, rc = CTL_OK;
	bool failed = false;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (ctl_parse_id(optarg, &after) != 0)
				return cmd_usage(&cmd_events_list_entry);
			break;
		case 'f': failed = true; break;
		default: return cmd_usage(&cmd_events_list_entry);
		}
	}
	if (optind != argc || (failed && after != 0))
		return cmd_usage(&cmd_events_list_entry);
	if (failed)
		return list_failed(ctl);
	if (ctl->out->json)
		all = json_array();
	else
		t = out_table_new(ctl->out, cols, 6);
	if (all == NULL && t == NULL)
		return CTL_UNAVAILABLE;
	for (;;) {
		snprintf(path, sizeof(path), "/v1/events?after=%lld&limit=1000", after);
		rc = api_do(ctl->api, ctl->prog, "GET", path, NULL, NULL, &r);
		if (rc == CTL_OK && api_expect(ctl->prog, &r, JSON_OBJECT) == NULL)
			rc = CTL_UNAVAILABLE;
		list = rc == CTL_OK ? json_object_get(r.json, "events") : NULL;
		n = (long long)json_array_size(list);
		if (rc == CTL_OK &&
		    (all ? json_array_extend(all, list) != 0 : print_events(t, list) != 0))
			rc = CTL_UNAVAILABLE;
		if (rc == CTL_OK)
			after = (long long)json_integer_value(json_object_get(r.json, "next"));
		api_reply_clear(&r);
		if (rc != CTL_OK || n == 0)
			break;
	}
	if (out_listing_end(rc == CTL_OK, "events", all, json_integer(after), t) != 0)
		rc = CTL_UNAVAILABLE;
	return rc;
}

static int
cmd_events_replay_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { { "webhook", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 } };
	const char *webhook = NULL;
	long long id;
	char path[64];
	struct api_reply r;
	json_t *body = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'w': webhook = optarg; break;
		default: return cmd_usage(&cmd_events_replay_entry);
		}
	}
	if (optind != argc - 1 || ctl_parse_id(argv[optind], &id) != 0)
		return cmd_usage(&cmd_events_replay_entry);
	if (webhook != NULL && (body = json_pack("{s:s}", "webhook", webhook)) == NULL)
		return CTL_UNAVAILABLE;
	snprintf(path, sizeof(path), "/v1/events/%lld/replay", id);
	rc = api_do(ctl->api, ctl->prog, "POST", path, body, NULL, &r);
	json_decref(body);
	if (rc == CTL_OK && api_expect(ctl->prog, &r, JSON_OBJECT) == NULL)
		rc = CTL_UNAVAILABLE;
	if (rc == CTL_OK) {
		if (ctl->out->json)
			out_raw(r.body);
		else
			printf("event %lld (%s): queued for webhook %s\n", id,
			    json_string_value(json_object_get(r.json, "type")),
			    json_string_value(json_object_get(r.json, "webhook")));
	}
	api_reply_clear(&r);
	return rc;
}
