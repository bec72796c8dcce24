/*
 * colleague.c - `alliancectl colleague link|unlink|list`: a therapist's
 * trusted colleagues for referrals (GET, change, PUT the whole network).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cmds.h"
#include "out.h"
#include "therapist_ref.h"

static int cmd_colleague_link_exec(struct ctl *ctl, int argc, char **argv);
static int cmd_colleague_unlink_exec(struct ctl *ctl, int argc, char **argv);
static int cmd_colleague_list_exec(struct ctl *ctl, int argc, char **argv);

const struct cmd_entry cmd_colleague_link_entry = {
	"colleague link",
	"THERAPIST COLLEAGUE [--for TAG,...]",
	"THERAPIST trusts COLLEAGUE for referrals (for TAGs, or any)",
	"  --for TAG,...   the concern or modality tags the link is for (default: any)\n"
	"Linking again replaces the link's tags.  THERAPIST and COLLEAGUE: ID or REF.\n",
	0,
	cmd_colleague_link_exec,
};
const struct cmd_entry cmd_colleague_unlink_entry = {
	"colleague unlink",
	"THERAPIST COLLEAGUE",
	"remove a colleague link",
	NULL,
	0,
	cmd_colleague_unlink_exec,
};
const struct cmd_entry cmd_colleague_list_entry = {
	"colleague list",
	"THERAPIST",
	"a therapist's colleagues",
	NULL,
	0,
	cmd_colleague_list_exec,
};

/* The network of therapist ID: a new array in *net. */
static int
get_network(struct ctl *ctl, long long id, json_t **net)
{
	struct api_reply r;
	char path[80];
	int rc;

	snprintf(path, sizeof(path), "/v1/therapists/%lld/colleagues", id);
	rc = api_do(ctl->api, ctl->prog, "GET", path, NULL, NULL, &r);
	if (rc == CTL_OK) {
		*net = api_expect(ctl->prog, &r, JSON_ARRAY);
		if (*net == NULL)
			rc = CTL_UNAVAILABLE;
		else
			json_incref(*net);
	}
	api_reply_clear(&r);
	return rc;
}

static int
put_network(struct ctl *ctl, long long id, const json_t *net)
{
	struct api_reply r;
	char path[80];
	int rc;

	snprintf(path, sizeof(path), "/v1/therapists/%lld/colleagues", id);
	rc = api_do(ctl->api, ctl->prog, "PUT", path, net, NULL, &r);
	if (rc == CTL_OK && ctl->out->json)
		out_raw(r.body);
	api_reply_clear(&r);
	return rc;
}

/* Removes COLLEAGUE from NET; 1 when it was there. */
static int
drop(json_t *net, long long colleague)
{
	json_t *c;
	size_t i;

	json_array_foreach (net, i, c)
		if (json_integer_value(json_object_get(c, "therapist_id")) == colleague) {
			json_array_remove(net, i);
			return 1;
		}
	return 0;
}

static json_t *
split_tags(const char *list)
{
	json_t *arr = json_array();
	char *copy = strdup(list), *tok, *save = NULL;

	if (arr == NULL || copy == NULL)
		goto fail;
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		if (tok[0] != '\0' && json_array_append_new(arr, json_string(tok)) != 0)
			goto fail;
	free(copy);
	return arr;
fail:
	free(copy);
	json_decref(arr);
	return NULL;
}

static int
change(struct ctl *ctl, int argc, char **argv, const char *tags, bool link)
{
	long long id, colleague;
	json_t *net = NULL, *entry = NULL;
	int rc;

	rc = therapist_resolve(ctl, argv[1], &id);
	if (rc == CTL_OK)
		rc = therapist_resolve(ctl, argv[2], &colleague);
	if (rc == CTL_OK)
		rc = get_network(ctl, id, &net);
	if (rc != CTL_OK)
		return rc;
	(void)argc;
	if (!drop(net, colleague) && !link) {
		fprintf(stderr, "%s: therapist %lld has no colleague %lld\n", ctl->prog, id,
		    colleague);
		rc = CTL_REFUSED;
		goto out;
	}
	if (link) {
		entry = json_pack("{s:I}", "therapist_id", (json_int_t)colleague);
		if (entry == NULL ||
		    (tags != NULL && json_object_set_new(entry, "for", split_tags(tags)) != 0) ||
		    json_array_append(net, entry) != 0) {
			rc = CTL_UNAVAILABLE;
			goto out;
		}
	}
	rc = put_network(ctl, id, net);
	if (rc == CTL_OK && !ctl->out->json)
		printf("therapist %lld %s colleague %lld\n", id,
		    link ? "trusts" : "no longer lists", colleague);
out:
	json_decref(entry);
	json_decref(net);
	return rc;
}

static int
cmd_colleague_link_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { { "for", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 } };
	const char *tags = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'f')
			return cmd_usage(&cmd_colleague_link_entry);
		tags = optarg;
	}
	if (argc - optind != 2)
		return cmd_usage(&cmd_colleague_link_entry);
	return change(ctl, 3, argv + optind - 1, tags, true);
}

static int
cmd_colleague_unlink_exec(struct ctl *ctl, int argc, char **argv)
{
	if (argc != 3)
		return cmd_usage(&cmd_colleague_unlink_entry);
	return change(ctl, argc, argv, NULL, false);
}

static int
print_network(const struct out *o, const json_t *net)
{
	static const char *const cols[] = { "COLLEAGUE>", "FOR" };
	struct out_table *t = out_table_new(o, cols, 2);
	const json_t *c;
	char *tags;
	size_t i;
	int bad;

	if (t == NULL)
		return -1;
	json_array_foreach (net, i, c) {
		tags = json_array_size(json_object_get(c, "for")) > 0
		    ? out_text(json_object_get(c, "for"))
		    : strdup("any");
		bad = tags == NULL || out_row(t) != 0 ||
		    out_cellf(t, 0, "%lld",
		        (long long)json_integer_value(json_object_get(c, "therapist_id"))) ||
		    out_cell(t, 1, tags, NULL);
		free(tags);
		if (bad) {
			out_table_free(t);
			return -1;
		}
	}
	return out_table_print(t);
}

static int
cmd_colleague_list_exec(struct ctl *ctl, int argc, char **argv)
{
	json_t *net;
	long long id;
	int rc;

	if (argc != 2)
		return cmd_usage(&cmd_colleague_list_entry);
	rc = therapist_resolve(ctl, argv[1], &id);
	if (rc == CTL_OK)
		rc = get_network(ctl, id, &net);
	if (rc != CTL_OK)
		return rc;
	if (ctl->out->json ? out_json(net) != 0 : print_network(ctl->out, net) != 0)
		rc = CTL_UNAVAILABLE;
	json_decref(net);
	return rc;
}
