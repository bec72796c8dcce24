/*
 * referrals.c - `alliancectl referrals EP`: colleagues to refer the client
 * to, colleagues of the current therapist first, each with why.
 */
#include <getopt.h>
#include <stdio.h>

#include "api.h"
#include "cmds.h"
#include "match_out.h"

static int cmd_referrals_exec(struct ctl *ctl, int argc, char **argv);

const struct cmd_entry cmd_referrals_entry = {
	"referrals",
	"EP [--need MODALITY]... [--need-concern TAG]... [--limit N]",
	"suggest colleagues to refer an episode's client to",
	"  --need MODALITY      the client looks for this modality (e.g. emdr)\n"
	"  --need-concern TAG   the client needs expertise in this concern\n"
	"  --limit N            at most N suggestions (1..50, default 3)\n",
	0,
	cmd_referrals_exec,
};

static int
cmd_referrals_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { { "need", required_argument, NULL, 'm' },
		{ "need-concern", required_argument, NULL, 'c' },
		{ "limit", required_argument, NULL, 'l' }, { NULL, 0, NULL, 0 } };
	json_t *mods = json_array(), *concerns = json_array(), *body = NULL;
	struct api_reply r = { 0 };
	long long ep, limit = 3;
	char path[96];
	int c, rc = CTL_UNAVAILABLE;

	if (mods == NULL || concerns == NULL)
		goto out;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((c == 'm' && json_array_append_new(mods, json_string(optarg)) == 0) ||
		    (c == 'c' && json_array_append_new(concerns, json_string(optarg)) == 0) ||
		    (c == 'l' && ctl_parse_id(optarg, &limit) == 0))
			continue;
		rc = cmd_usage(&cmd_referrals_entry);
		goto out;
	}
	if (argc - optind != 1 || ctl_parse_id(argv[optind], &ep) != 0) {
		rc = cmd_usage(&cmd_referrals_entry);
		goto out;
	}
	if (json_array_size(mods) > 0 || json_array_size(concerns) > 0) {
		body = json_pack("{s:{}}", "need");
		if (body == NULL ||
		    (json_array_size(mods) > 0 &&
		        json_object_set(json_object_get(body, "need"), "modalities", mods) != 0) ||
		    (json_array_size(concerns) > 0 &&
		        json_object_set(json_object_get(body, "need"), "concerns", concerns) != 0))
			goto out;
	}
	snprintf(path, sizeof(path), "/v1/episodes/%lld/referrals?limit=%lld", ep, limit);
	rc = api_do(ctl->api, ctl->prog, "POST", path, body, NULL, &r);
	if (rc == CTL_OK) {
		if (ctl->out->json)
			out_raw(r.body);
		else if (api_expect(ctl->prog, &r, JSON_OBJECT) == NULL ||
		    match_print(ctl->out, r.json, "suggestions") != 0)
			rc = CTL_UNAVAILABLE;
	}
out:
	api_reply_clear(&r);
	json_decref(body);
	json_decref(mods);
	json_decref(concerns);
	return rc;
}
