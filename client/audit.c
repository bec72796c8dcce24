/*
 * audit.c - `alliancectl report audit`: who read or wrote a client's or an
 * episode's data, oldest first (GET /v1/reports/audit, paged through next).
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cmds.h"
#include "out.h"

static int cmd_report_audit_exec(struct ctl *ctl, int argc, char **argv);

const struct cmd_entry cmd_report_audit_entry = {
	"report audit",
	"--client ID | --episode ID | --actor NAME [--since TIME]",
	"the audit trail of a client, an episode or an actor",
	"  --client ID        accesses to this client's data\n"
	"  --episode ID       accesses to this episode's data\n"
	"  --actor NAME       accesses by this token name (or uid:N for a socket peer)\n"
	"  --since TIME       from this RFC 3339 time on (e.g. 2026-11-01T00:00:00Z)\n",
	0,
	cmd_report_audit_exec,
};

/* Appends "&KEY=VALUE" percent-encoded; -1 when it does not fit. */
static int
add_param(char *buf, size_t cap, const char *key, const char *value)
{
	size_t at = strlen(buf);
	const unsigned char *s;

	if (value == NULL)
		return 0;
	at += (size_t)snprintf(buf + at, cap - at, "%s%s=", strchr(buf, '?') ? "&" : "?", key);
	for (s = (const unsigned char *)value; *s != '\0' && at + 4 < cap; s++) {
		if (isalnum(*s) || *s == '-' || *s == '_' || *s == '.' || *s == '~')
			buf[at++] = (char)*s;
		else
			at += (size_t)snprintf(buf + at, cap - at, "%%%02X", *s);
	}
	buf[at] = '\0';
	return *s == '\0' ? 0 : -1;
}

static void
cell_id(struct out_table *t, size_t col, const json_t *v, int *bad)
{
	if (json_is_integer(v))
		*bad |= out_cellf(t, col, "%lld", (long long)json_integer_value(v));
	else
		*bad |= out_cell(t, col, "-", NULL);
}

static int
print_entries(struct out_table *t, const json_t *list)
{
	const json_t *e;
	size_t i;
	int bad = 0;

	json_array_foreach (list, i, e) {
		bad |= out_row(t);
		bad |= out_cell(t, 0, json_string_value(json_object_get(e, "at")), NULL);
		bad |= out_cell(t, 1, json_string_value(json_object_get(e, "actor")), NULL);
		bad |= out_cell(t, 2, json_string_value(json_object_get(e, "action")), NULL);
		cell_id(t, 3, json_object_get(e, "client_id"), &bad);
		cell_id(t, 4, json_object_get(e, "episode_id"), &bad);
		bad |= out_cell(t, 5, json_string_value(json_object_get(e, "status")), NULL);
		bad |= out_cell(t, 6, json_string_value(json_object_get(e, "peer")), NULL);
		bad |= out_cell(t, 7, json_string_value(json_object_get(e, "request_id")), NULL);
	}
	return bad ? -1 : 0;
}

static int
cmd_report_audit_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { { "client", required_argument, NULL, 'c' },
		{ "episode", required_argument, NULL, 'e' },
		{ "actor", required_argument, NULL, 'a' },
		{ "since", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 } };
	static const char *const cols[] = { "AT", "ACTOR", "ACTION", "CLIENT>", "EPISODE>",
		"STATUS", "PEER", "REQUEST" };
	const char *client = NULL, *episode = NULL, *actor = NULL, *since = NULL, *next;
	char base[512] = "/v1/reports/audit", path[600];
	struct out_table *t = NULL;
	json_t *all = NULL;
	struct api_reply r;
	long long id;
	int c, rc = CTL_OK;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': client = optarg; break;
		case 'e': episode = optarg; break;
		case 'a': actor = optarg; break;
		case 's': since = optarg; break;
		default: return cmd_usage(&cmd_report_audit_entry);
		}
	}
	if (optind != argc || (client == NULL && episode == NULL && actor == NULL) ||
	    (client != NULL && ctl_parse_id(client, &id) != 0) ||
	    (episode != NULL && ctl_parse_id(episode, &id) != 0))
		return cmd_usage(&cmd_report_audit_entry);
	if (add_param(base, sizeof(base), "client", client) != 0 ||
	    add_param(base, sizeof(base), "episode", episode) != 0 ||
	    add_param(base, sizeof(base), "actor", actor) != 0 ||
	    add_param(base, sizeof(base), "since", since) != 0)
		return cmd_usage(&cmd_report_audit_entry);
	if (ctl->out->json)
		all = json_array();
	else
		t = out_table_new(ctl->out, cols, 8);
	if (all == NULL && t == NULL)
		return CTL_UNAVAILABLE;
	snprintf(path, sizeof(path), "%s", base);
	for (;;) {
		rc = api_do(ctl->api, ctl->prog, "GET", path, NULL, NULL, &r);
		if (rc == CTL_OK && api_expect(ctl->prog, &r, JSON_OBJECT) == NULL)
			rc = CTL_UNAVAILABLE;
		if (rc == CTL_OK &&
		    (all ? json_array_extend(all, json_object_get(r.json, "entries")) != 0
		         : print_entries(t, json_object_get(r.json, "entries")) != 0))
			rc = CTL_UNAVAILABLE;
		next = rc == CTL_OK ? json_string_value(json_object_get(r.json, "next")) : NULL;
		if (next != NULL)
			snprintf(path, sizeof(path), "%s%safter=%s", base,
			    strchr(base, '?') ? "&" : "?", next);
		api_reply_clear(&r);
		if (next == NULL)
			break;
	}
	if (out_listing_end(rc == CTL_OK, "entries", all, json_null(), t) != 0)
		rc = CTL_UNAVAILABLE;
	return rc;
}
