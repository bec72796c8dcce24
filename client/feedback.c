/*
 * feedback.c - `alliancectl feedback add` (a session's ratings) and
 * `alliancectl attendance` (attended, cancelled, no-show); both answer with
 * the episode's updated alliance.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alliance_out.h"
#include "api.h"
#include "cmds.h"

static int cmd_feedback_add_exec(struct ctl *ctl, int argc, char **argv);
static int cmd_attendance_exec(struct ctl *ctl, int argc, char **argv);

const struct cmd_entry cmd_feedback_add_entry = {
	"feedback add",
	"EP --session N --instrument NAME ITEM=SCORE... [--flag FLAG]... "
	"[--negative-feelings N] [--occurred-at TIME] [--idempotency-key K]",
	"record one session's ratings; prints the updated alliance",
	"  --session N             the session number (1, 2, ...)\n"
	"  --instrument NAME       alliance5, srs, wai_sr or ors\n"
	"  ITEM=SCORE              e.g. relationship=9 goals=8 approach=9 overall=8\n"
	"  --flag FLAG             judged, boundaries, unheard, dread, unsafe or\n"
	"                          misunderstood (repeat for several)\n"
	"  --negative-feelings N   0..10\n"
	"  --occurred-at TIME      RFC 3339, e.g. 2026-11-20T17:00:00Z\n"
	"  --idempotency-key K     send the same K on a retry: stored once\n",
	0,
	cmd_feedback_add_exec,
};
const struct cmd_entry cmd_attendance_entry = {
	"attendance",
	"EP SESSION no_show|attended|cancelled",
	"record whether a session took place; prints the updated alliance",
	NULL,
	0,
	cmd_attendance_exec,
};

/* ITEM=SCORE into ITEMS; -1 after a message. */
static int
add_item(struct ctl *ctl, json_t *items, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char key[64], *end;
	double v;

	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(key) || eq[1] == '\0')
		goto bad;
	v = strtod(eq + 1, &end);
	if (*end != '\0')
		goto bad;
	snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
	if (json_object_set_new(items, key,
	        v == (double)(long long)v ? json_integer((long long)v) : json_real(v)) == 0)
		return 0;
bad:
	fprintf(stderr, "%s: \"%s\" is not ITEM=SCORE\n", ctl->prog, arg);
	return -1;
}

struct feedback_args {
	long long episode, session, negative; /* negative -1: not given */
	const char *instrument, *occurred_at, *key;
	json_t *items, *flags; /* owned */
};

static int
parse_feedback(struct ctl *ctl, int argc, char **argv, struct feedback_args *fa)
{
	static const struct option opts[] = { { "session", required_argument, NULL, 's' },
		{ "instrument", required_argument, NULL, 'i' },
		{ "flag", required_argument, NULL, 'f' },
		{ "negative-feelings", required_argument, NULL, 'n' },
		{ "occurred-at", required_argument, NULL, 'o' },
		{ "idempotency-key", required_argument, NULL, 'k' }, { NULL, 0, NULL, 0 } };
	char *end;
	int c, i;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (ctl_parse_id(optarg, &fa->session) != 0)
				return -1;
			break;
		case 'i': fa->instrument = optarg; break;
		case 'f':
			if (json_object_set_new(fa->flags, optarg, json_true()) != 0)
				return -1;
			break;
		case 'n':
			fa->negative = strtoll(optarg, &end, 10);
			if (*end != '\0' || optarg[0] == '\0')
				return -1;
			break;
		case 'o': fa->occurred_at = optarg; break;
		case 'k': fa->key = optarg; break;
		default: return -1;
		}
	}
	if (fa->session == 0 || fa->instrument == NULL || argc - optind < 2 ||
	    ctl_parse_id(argv[optind], &fa->episode) != 0)
		return -1;
	for (i = optind + 1; i < argc; i++)
		if (add_item(ctl, fa->items, argv[i]) != 0)
			return -1;
	return 0;
}

static int
cmd_feedback_add_exec(struct ctl *ctl, int argc, char **argv)
{
	struct feedback_args fa = { 0, 0, -1, NULL, NULL, NULL, json_object(), json_object() };
	json_t *body = NULL;
	char path[80], *header = NULL;
	int rc = CTL_UNAVAILABLE;

	if (fa.items == NULL || fa.flags == NULL)
		goto out;
	if (parse_feedback(ctl, argc, argv, &fa) != 0) {
		rc = cmd_usage(&cmd_feedback_add_entry);
		goto out;
	}
	body = json_pack("{s:I, s:s, s:O, s:O}", "session", (json_int_t)fa.session, "instrument",
	    fa.instrument, "items", fa.items, "flags", fa.flags);
	if (body == NULL ||
	    (fa.negative >= 0 &&
	        json_object_set_new(body, "negative_feelings", json_integer(fa.negative)) != 0) ||
	    (fa.occurred_at != NULL &&
	        json_object_set_new(body, "occurred_at", json_string(fa.occurred_at)) != 0) ||
	    (fa.key != NULL && asprintf(&header, "Idempotency-Key: %s", fa.key) < 0)) {
		header = NULL;
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/episodes/%lld/feedback", fa.episode);
	rc = alliance_call(ctl, "POST", path, body, header);
out:
	free(header);
	json_decref(body);
	json_decref(fa.items);
	json_decref(fa.flags);
	return rc;
}

static int
cmd_attendance_exec(struct ctl *ctl, int argc, char **argv)
{
	long long ep, session;
	char path[80];
	json_t *body;
	int rc;

	if (argc != 4 || ctl_parse_id(argv[1], &ep) != 0 || ctl_parse_id(argv[2], &session) != 0)
		return cmd_usage(&cmd_attendance_entry);
	body = json_pack("{s:I, s:s}", "session", (json_int_t)session, "status", argv[3]);
	if (body == NULL)
		return CTL_UNAVAILABLE;
	snprintf(path, sizeof(path), "/v1/episodes/%lld/attendance", ep);
	rc = alliance_call(ctl, "POST", path, body, NULL);
	json_decref(body);
	return rc;
}
