/*
 * episode.c - `alliancectl episode start|end|show`.
 */
#include <getopt.h>
#include <stdio.h>

#include "api.h"
#include "call.h"
#include "cmds.h"
#include "out.h"
#include "therapist_ref.h"

static int cmd_episode_start_exec(struct ctl *ctl, int argc, char **argv);
static int cmd_episode_end_exec(struct ctl *ctl, int argc, char **argv);
static int cmd_episode_show_exec(struct ctl *ctl, int argc, char **argv);

const struct cmd_entry cmd_episode_start_entry = {
	"episode start",
	"CLIENT THERAPIST [--referred-from EP]",
	"start an episode between a client (id) and a therapist (ID or REF)",
	"  --referred-from EP  the episode this one replaces: it ends as \"referred\"\n"
	"                      and its slot is freed, in the same transaction\n",
	0,
	cmd_episode_start_exec,
};
const struct cmd_entry cmd_episode_end_entry = {
	"episode end",
	"EP --reason REASON",
	"end an episode",
	"  --reason REASON  completed, mismatch, referred, client_left or other\n",
	0,
	cmd_episode_end_exec,
};
const struct cmd_entry cmd_episode_show_entry = {
	"episode show",
	"EP",
	"show an episode",
	NULL,
	0,
	cmd_episode_show_exec,
};

static void
episode_line(const json_t *e, long status, const void *done)
{
	(void)status;
	printf("episode %lld: %s (client %lld, therapist %lld)\n",
	    (long long)json_integer_value(json_object_get(e, "id")), (const char *)done,
	    (long long)json_integer_value(json_object_get(e, "client_id")),
	    (long long)json_integer_value(json_object_get(e, "therapist_id")));
}

/* DONE ("started", "ended") says what happened in one line; NULL shows the episode. */
static int
episode_call(struct ctl *ctl, const char *method, const char *path, const json_t *body,
    const char *done)
{
	return call_object(ctl, method, path, body, done != NULL ? episode_line : NULL, done);
}

static int
cmd_episode_start_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { { "referred-from", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 } };
	long long client, therapist, from = 0;
	json_t *body;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'r' || ctl_parse_id(optarg, &from) != 0)
			return cmd_usage(&cmd_episode_start_entry);
	}
	if (argc - optind != 2 || ctl_parse_id(argv[optind], &client) != 0)
		return cmd_usage(&cmd_episode_start_entry);
	rc = therapist_resolve(ctl, argv[optind + 1], &therapist);
	if (rc != CTL_OK)
		return rc;
	body = json_pack("{s:I, s:I}", "client_id", (json_int_t)client, "therapist_id",
	    (json_int_t)therapist);
	if (body == NULL ||
	    (from != 0 && json_object_set_new(body, "referred_from", json_integer(from)) != 0)) {
		json_decref(body);
		return CTL_UNAVAILABLE;
	}
	rc = episode_call(ctl, "POST", "/v1/episodes", body, "started");
	json_decref(body);
	return rc;
}

static int
cmd_episode_end_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { { "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 } };
	const char *reason = NULL;
	char path[64];
	long long ep;
	json_t *body;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'r')
			return cmd_usage(&cmd_episode_end_entry);
		reason = optarg;
	}
	if (reason == NULL || argc - optind != 1 || ctl_parse_id(argv[optind], &ep) != 0)
		return cmd_usage(&cmd_episode_end_entry);
	body = json_pack("{s:s}", "reason", reason);
	if (body == NULL)
		return CTL_UNAVAILABLE;
	snprintf(path, sizeof(path), "/v1/episodes/%lld/end", ep);
	rc = episode_call(ctl, "POST", path, body, "ended");
	json_decref(body);
	return rc;
}

static int
cmd_episode_show_exec(struct ctl *ctl, int argc, char **argv)
{
	char path[64];
	long long ep;

	if (argc != 2 || ctl_parse_id(argv[1], &ep) != 0)
		return cmd_usage(&cmd_episode_show_entry);
	snprintf(path, sizeof(path), "/v1/episodes/%lld", ep);
	return episode_call(ctl, "GET", path, NULL, NULL);
}
