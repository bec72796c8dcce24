/*
 * match.c - `alliancectl match CLIENT | --intake FILE`: the ranked,
 * explained shortlist, and why the others were excluded.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "cmds.h"
#include "doc.h"
#include "match_out.h"
#include "out.h"

static int cmd_match_exec(struct ctl *ctl, int argc, char **argv);

const struct cmd_entry cmd_match_entry = {
	"match",
	"CLIENT [--limit N] | --intake FILE [--limit N]",
	"rank therapists for a stored client, or for an intake file (nothing stored)",
	"  --limit N       at most N matches (1..50, default 5)\n"
	"  --intake FILE   a YAML or JSON intake: stateless matching, nothing stored\n"
	"CLIENT is the client's id.\n",
	0,
	cmd_match_exec,
};

static int
cmd_match_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { { "limit", required_argument, NULL, 'l' },
		{ "intake", required_argument, NULL, 'i' }, { NULL, 0, NULL, 0 } };
	const char *intake = NULL;
	struct api_reply r;
	struct doc d = { 0 };
	char path[96], err[512];
	long long id = 0, limit = 5;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (ctl_parse_id(optarg, &limit) != 0)
				return cmd_usage(&cmd_match_entry);
			break;
		case 'i': intake = optarg; break;
		default: return cmd_usage(&cmd_match_entry);
		}
	}
	if (intake != NULL ? optind != argc
	                   : (argc - optind != 1 || ctl_parse_id(argv[optind], &id) != 0))
		return cmd_usage(&cmd_match_entry);
	if (intake != NULL) {
		if (doc_load(&d, intake, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: %s\n", ctl->prog, err);
			return CTL_USAGE;
		}
		snprintf(path, sizeof(path), "/v1/match?limit=%lld", limit);
		rc = api_do(ctl->api, ctl->prog, "POST", path, d.root, NULL, &r);
	} else {
		snprintf(path, sizeof(path), "/v1/clients/%lld/matches?limit=%lld", id, limit);
		rc = api_do(ctl->api, ctl->prog, "GET", path, NULL, NULL, &r);
	}
	if (rc == CTL_OK) {
		if (ctl->out->json)
			out_raw(r.body);
		else if (api_expect(ctl->prog, &r, JSON_OBJECT) == NULL ||
		    match_print(ctl->out, r.json, "matches") != 0)
			rc = CTL_UNAVAILABLE;
	}
	api_reply_clear(&r);
	doc_clear(&d);
	return rc;
}
