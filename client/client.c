/*
 * client.c - `alliancectl client show|add`: clients as the intake system
 * stored them (known by id; the API has no lookup by external_ref).
 */
#include <stdio.h>

#include "api.h"
#include "call.h"
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

static void
client_line(const json_t *c, long status, const void *arg)
{
	(void)arg;
	printf("client %lld (%s): %s\n", (long long)json_integer_value(json_object_get(c, "id")),
	    json_string_value(json_object_get(c, "external_ref")),
	    status == 201 ? "created" : "updated");
}

/* A write says what happened in one line; a read shows the client. */
static int
client_call(struct ctl *ctl, const char *method, const char *path, const json_t *body)
{
	return call_object(ctl, method, path, body, body != NULL ? client_line : NULL, NULL);
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
