/*
 * alliance.c - `alliancectl alliance EP`: the status of an episode with its
 * action, reasons and evidence, and the trend as a sparkline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alliance_out.h"
#include "api.h"
#include "cmds.h"

static int cmd_alliance_exec(struct ctl *ctl, int argc, char **argv);

const struct cmd_entry cmd_alliance_entry = {
	"alliance",
	"EP",
	"an episode's alliance: status, action, reasons, evidence, trend",
	"Prints the status and action, the latest index (on its instrument's own\n"
	"scale), the alliance score and its weighted average (one scale for every\n"
	"instrument: 70 is the instrument's threshold, below is a concern), the\n"
	"trend, the reasons and the evidence (which sessions and items drove the\n"
	"status), and a sparkline of the last sessions' scores.\n",
	0,
	cmd_alliance_exec,
};

/* Scaled between the lowest and the highest value shown, as sparklines are:
 * the shape of the trend, with the numbers printed beside it. */
char *
alliance_sparkline(const double *values, size_t n, char *buf, size_t buflen)
{
	static const char *const bars[] = { "\u2581", "\u2582", "\u2583", "\u2584", "\u2585",
		"\u2586", "\u2587", "\u2588" };
	double lo = 0, hi = 0;
	size_t i, used = 0;
	int level;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i == 0 || values[i] < lo)
			lo = values[i];
		if (i == 0 || values[i] > hi)
			hi = values[i];
	}
	for (i = 0; i < n && used + 4 <= buflen; i++) {
		level = hi - lo < 0.5 ? 3 : (int)((values[i] - lo) / (hi - lo) * 7.0 + 0.5);
		if (level < 0)
			level = 0;
		if (level > 7)
			level = 7;
		memcpy(buf + used, bars[level], 3);
		used += 3;
		buf[used] = '\0';
	}
	return buf;
}

/* "scores": [{"session": 1, "score": 72.5}, ...] when the daemon sends them. */
static void
print_scores(const json_t *scores)
{
	double v[64];
	char line[64 * 3 + 1];
	const json_t *s;
	size_t i, n = 0;

	json_array_foreach (scores, i, s)
		if (n < 64 && json_is_number(json_object_get(s, "score")))
			v[n++] = json_number_value(json_object_get(s, "score"));
	if (n == 0)
		return;
	printf("%-12s %s  (%.0f .. %.0f)\n", "scores", alliance_sparkline(v, n, line, sizeof(line)),
	    v[0], v[n - 1]);
}

static void
number(const char *label, const json_t *v, const char *suffix)
{
	if (json_is_number(v))
		printf("%-12s %.1f%s\n", label, json_number_value(v), suffix);
	else
		printf("%-12s -\n", label);
}

int
alliance_print(const struct out *o, const json_t *a)
{
	const char *status = json_string_value(json_object_get(a, "status"));
	const char *action = json_string_value(json_object_get(a, "action"));
	const json_t *outcome = json_object_get(a, "outcome"), *v, *ev;
	char *items;
	size_t i;

	printf("%-12s %lld\n", "episode",
	    (long long)json_integer_value(json_object_get(a, "episode_id")));
	printf("%-12s ", "status");
	out_paint(o, out_status_color(status), status != NULL ? status : "-");
	printf("\n%-12s ", "action");
	out_paint(o, out_status_color(action), action != NULL ? action : "-");
	printf("\n%-12s %lld\n", "sessions",
	    (long long)json_integer_value(json_object_get(a, "sessions")));
	/* The index is on the latest instrument's own scale; the score, its
	 * weighted average and the trend on the common one (70 = threshold). */
	number("index", json_object_get(a, "index_latest"), "");
	number("score", json_object_get(a, "score_latest"), "");
	number("weighted", json_object_get(a, "score_ewma"), "");
	number("trend", json_object_get(a, "trend"), " points per session");
	print_scores(json_object_get(a, "scores"));
	if (json_is_object(outcome))
		printf("%-12s ORS %.1f -> %.1f%s\n", "outcome",
		    json_number_value(json_object_get(outcome, "first")),
		    json_number_value(json_object_get(outcome, "latest")),
		    json_is_true(json_object_get(outcome, "reliable_improvement"))
		        ? " (reliable improvement)"
		        : "");
	json_array_foreach (json_object_get(a, "reasons"), i, v)
		printf("%s %s\n", i == 0 ? "reasons     " : "            ", json_string_value(v));
	json_array_foreach (json_object_get(a, "evidence"), i, ev) {
		items = out_text(json_object_get(ev, "items"));
		printf("%s session %lld [%s]: %s\n", i == 0 ? "evidence    " : "            ",
		    (long long)json_integer_value(json_object_get(ev, "session")),
		    items != NULL ? items : "-",
		    json_string_value(json_object_get(ev, "why")) != NULL
		        ? json_string_value(json_object_get(ev, "why"))
		        : "");
		free(items);
	}
	fflush(stdout);
	return 0;
}

int
alliance_call(struct ctl *ctl, const char *method, const char *path, const json_t *body,
    const char *header)
{
	struct api_reply r;
	int rc = api_do(ctl->api, ctl->prog, method, path, body, header, &r);

	if (rc == CTL_OK) {
		if (ctl->out->json)
			out_raw(r.body);
		else if (api_expect(ctl->prog, &r, JSON_OBJECT) == NULL ||
		    alliance_print(ctl->out, r.json) != 0)
			rc = CTL_UNAVAILABLE;
	}
	api_reply_clear(&r);
	return rc;
}

static int
cmd_alliance_exec(struct ctl *ctl, int argc, char **argv)
{
	char path[64];
	long long ep;

	if (argc != 2 || ctl_parse_id(argv[1], &ep) != 0)
		return cmd_usage(&cmd_alliance_entry);
	snprintf(path, sizeof(path), "/v1/episodes/%lld/alliance", ep);
	return alliance_call(ctl, "GET", path, NULL, NULL);
}
