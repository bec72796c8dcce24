/*
 * client.c - `alliancectl client show|add`: clients as the intake system
 * stored them (known by id; the API has no lookup by external_ref).
 */
#include <stdio.h>

#include "api.h"
#include "cmds.h"
#include "doc.h"
#include "out.h"

static int cmd_client_show_exec(struct ctl *ctl, int argc, char **argv);
static int cmd_client_add_exec(struct ctl *ctl, int argc, char **argv);

const struct cmd_entry cmd_client_show_entry = {
	"client show",
	"ID",
	"show a client's stored intake",
	NULL,
	0,
	cmd_client_show_exec,
};
const struct cmd_entry cmd_client_add_entry = {
	"client add",
	"FILE",
	"store a client's intake from a YAML or JSON file (upsert)",
	"FILE holds one intake object with its external_ref; an existing\n"
	"external_ref has its preferences replaced.  - reads stdin.\n",
	0,
	cmd_client_add_exec,
};

static int
client_call(struct ctl *ctl, const char *method, const char *path, const json_t *body)
{
	struct api_reply r;
	const json_t *c;
	int rc = api_do(ctl->api, ctl->prog, method, path, body, NULL, &r);

	if (rc != CTL_OK)
		goto out;
	if (ctl->out->json) {
		out_raw(r.body);
		goto out;
	}
	c = api_expect(ctl->prog, &r, JSON_OBJECT);
	if (c == NULL)
		rc = CTL_UNAVAILABLE;
	else if (body != NULL)
		printf("client %lld (%s): %s\n",
		    (long long)json_integer_value(json_object_get(c, "id")),
		    json_string_value(json_object_get(c, "external_ref")),
		    r.status == 201 ? "created" : "updated");
	else if (out_object(ctl->out, c) != 0)
		rc = CTL_UNAVAILABLE;
out:
	api_reply_clear(&r);
	return rc;
}

static int
cmd_client_show_exec(struct ctl *ctl, int argc, char **argv)
{
	char path[64];
	long long id;

	if (argc != 2)
		return cmd_usage(&cmd_client_show_entry);
	if (ctl_parse_id(argv[1], &id) != 0) {
		fprintf(stderr,
		    "%s: \"%s\": a client is named by its id (the API has no "
		    "lookup by external_ref)\n",
		    ctl->prog, argv[1]);
		return CTL_USAGE;
	}
	snprintf(path, sizeof(path), "/v1/clients/%lld", id);
	return client_call(ctl, "GET", path, NULL);
}

static int
cmd_client_add_exec(struct ctl *ctl, int argc, char **argv)
{
	struct doc d;
	char err[512];
	int rc;

	if (argc != 2)
		return cmd_usage(&cmd_client_add_entry);
	if (doc_load(&d, argv[1], err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", ctl->prog, err);
		return CTL_USAGE;
	}
	rc = client_call(ctl, "POST", "/v1/clients", d.root);
	doc_clear(&d);
	return rc;
}
