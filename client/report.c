/*
 * report.c - `alliancectl report alliance` (per therapist) and
 * `alliancectl report at-risk` (the clinical lead's morning list).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cmds.h"
#include "out.h"

static int cmd_report_alliance_exec(struct ctl *ctl, int argc, char **argv);
static int cmd_report_at_risk_exec(struct ctl *ctl, int argc, char **argv);

const struct cmd_entry cmd_report_alliance_entry = {
	"report alliance",
	"",
	"per therapist: episodes, sessions, alliance and outcome records",
	NULL,
	0,
	cmd_report_alliance_exec,
};
const struct cmd_entry cmd_report_at_risk_entry = {
	"report at-risk",
	"[--status WORD,...]",
	"active episodes now unsafe, disengaging, mismatch or strained, most urgent first",
	"  --status WORD,...   keep episodes whose status or action is one of these\n"
	"                      (e.g. refer,review or mismatch,unsafe)\n",
	0,
	cmd_report_at_risk_exec,
};

static void
cell_num(struct out_table *t, size_t col, const json_t *v, const char *fmt, int *bad)
{
	if (json_is_number(v))
		*bad |= out_cellf(t, col, fmt, json_number_value(v));
	else
		*bad |= out_cell(t, col, "-", NULL);
}

static int
print_alliance(const struct out *o, const json_t *rep)
{
	static const char *const cols[] = { "ID>", "REF", "NAME", "ACTIVE>", "ENDED>", "SESSIONS>",
		"MEAN>", "RECORD>", "OUTCOME>", "AT RISK>" };
	struct out_table *t = out_table_new(o, cols, 10);
	const json_t *row;
	size_t i;
	int bad = 0;

	if (t == NULL)
		return -1;
	json_array_foreach (json_object_get(rep, "therapists"), i, row) {
		bad |= out_row(t);
		bad |= out_cellf(t, 0, "%lld",
		    (long long)json_integer_value(json_object_get(row, "therapist_id")));
		bad |=
		    out_cell(t, 1, json_string_value(json_object_get(row, "external_ref")), NULL);
		bad |=
		    out_cell(t, 2, json_string_value(json_object_get(row, "display_name")), NULL);
		cell_num(t, 3, json_object_get(row, "active_episodes"), "%.0f", &bad);
		cell_num(t, 4, json_object_get(row, "ended_episodes"), "%.0f", &bad);
		cell_num(t, 5, json_object_get(row, "rated_sessions"), "%.0f", &bad);
		cell_num(t, 6, json_object_get(row, "alliance_mean"), "%.1f", &bad);
		cell_num(t, 7, json_object_get(row, "alliance_record"), "%.1f", &bad);
		cell_num(t, 8, json_object_get(row, "outcome_record"), "%.2f", &bad);
		cell_num(t, 9, json_object_get(row, "at_risk"), "%.0f", &bad);
		if (bad) {
			out_table_free(t);
			return -1;
		}
	}
	if (out_table_print(t) != 0)
		return -1;
	if (json_is_number(json_object_get(rep, "clinic_mean")))
		printf("clinic mean %.1f\n",
		    json_number_value(json_object_get(rep, "clinic_mean")));
	return 0;
}

/* The whole report: every page (through next), the therapists of later pages appended to the
 * first page's.  *out is a new reference on CTL_OK. */
static int
fetch_alliance(struct ctl *ctl, json_t **out)
{
	struct api_reply r;
	const char *next;
	char path[128], cursor[64] = "";
	json_t *all = NULL;
	int rc;

	for (;;) {
		snprintf(path, sizeof(path), "/v1/reports/alliance?limit=500%s%s",
		    cursor[0] ? "&after=" : "", cursor);
		rc = api_do(ctl->api, ctl->prog, "GET", path, NULL, NULL, &r);
		if (rc == CTL_OK && api_expect(ctl->prog, &r, JSON_OBJECT) == NULL)
			rc = CTL_UNAVAILABLE;
		if (rc != CTL_OK)
			break;
		if (all == NULL)
			all = json_incref(r.json);
		else if (json_array_extend(json_object_get(all, "therapists"),
		             json_object_get(r.json, "therapists")) != 0)
			rc = CTL_UNAVAILABLE;
		next = json_string_value(json_object_get(r.json, "next"));
		if (rc != CTL_OK || next == NULL || strlen(next) >= sizeof(cursor))
			break;
		snprintf(cursor, sizeof(cursor), "%s", next);
		api_reply_clear(&r);
	}
	api_reply_clear(&r);
	if (rc != CTL_OK) {
		json_decref(all);
		return rc;
	}
	json_object_set_new(all, "next", json_null());
	*out = all;
	return CTL_OK;
}

static int
cmd_report_alliance_exec(struct ctl *ctl, int argc, char **argv)
{
	json_t *rep = NULL;
	int rc;

	(void)argv;
	if (argc != 1)
		return cmd_usage(&cmd_report_alliance_entry);
	rc = fetch_alliance(ctl, &rep);
	if (rc == CTL_OK) {
		if (ctl->out->json ? out_json(rep) != 0 : print_alliance(ctl->out, rep) != 0)
			rc = CTL_UNAVAILABLE;
	}
	json_decref(rep);
	return rc;
}

/* WORD is in the comma-separated LIST. */
static int
listed(const char *list, const char *word)
{
	size_t n;

	if (word == NULL)
		return 0;
	n = strlen(word);
	while (*list != '\0') {
		if (strncmp(list, word, n) == 0 && (list[n] == ',' || list[n] == '\0'))
			return 1;
		list = strchr(list, ',');
		if (list == NULL)
			return 0;
		list++;
	}
	return 0;
}

/* Every at-risk episode (paged through next), filtered by STATUS. */
static int
fetch_at_risk(struct ctl *ctl, const char *status, json_t *out)
{
	struct api_reply r;
	const json_t *ep;
	const char *next;
	char path[128], cursor[64] = "";
	size_t i;
	int rc;

	for (;;) {
		snprintf(path, sizeof(path), "/v1/reports/at-risk%s%s", cursor[0] ? "?after=" : "",
		    cursor);
		rc = api_do(ctl->api, ctl->prog, "GET", path, NULL, NULL, &r);
		if (rc == CTL_OK && api_expect(ctl->prog, &r, JSON_OBJECT) == NULL)
			rc = CTL_UNAVAILABLE;
		if (rc != CTL_OK)
			break;
		json_array_foreach (json_object_get(r.json, "episodes"), i, ep)
			if ((status == NULL ||
			        listed(status, json_string_value(json_object_get(ep, "status"))) ||
			        listed(status, json_string_value(json_object_get(ep, "action")))) &&
			    json_array_append(out, (json_t *)ep) != 0)
				rc = CTL_UNAVAILABLE;
		next = json_string_value(json_object_get(r.json, "next"));
		if (rc != CTL_OK || next == NULL || strlen(next) >= sizeof(cursor))
			break;
		snprintf(cursor, sizeof(cursor), "%s", next);
		api_reply_clear(&r);
	}
	api_reply_clear(&r);
	return rc;
}

static int
print_at_risk(const struct out *o, const json_t *eps)
{
	static const char *const cols[] = { "EPISODE>", "CLIENT>", "THERAPIST>", "STATUS", "ACTION",
		"SESSIONS>", "INDEX>", "WHY~" };
	struct out_table *t;
	const json_t *ep;
	const char *st, *ac;
	char *why;
	size_t i;
	int bad = 0;

	if (json_array_size(eps) == 0) {
		printf("no episode at risk\n");
		return 0;
	}
	t = out_table_new(o, cols, 8);
	if (t == NULL)
		return -1;
	json_array_foreach (eps, i, ep) {
		st = json_string_value(json_object_get(ep, "status"));
		ac = json_string_value(json_object_get(ep, "action"));
		why = out_text(json_object_get(ep, "reasons"));
		bad |= why == NULL || out_row(t);
		bad |= out_cellf(t, 0, "%lld",
		    (long long)json_integer_value(json_object_get(ep, "episode_id")));
		bad |= out_cellf(t, 1, "%lld",
		    (long long)json_integer_value(json_object_get(ep, "client_id")));
		bad |= out_cellf(t, 2, "%lld",
		    (long long)json_integer_value(json_object_get(ep, "therapist_id")));
		bad |= out_cell(t, 3, st, out_status_color(st));
		bad |= out_cell(t, 4, ac, out_status_color(ac));
		cell_num(t, 5, json_object_get(ep, "sessions"), "%.0f", &bad);
		cell_num(t, 6, json_object_get(ep, "index_latest"), "%.1f", &bad);
		bad |= why != NULL && out_cell(t, 7, why, NULL);
		free(why);
		if (bad) {
			out_table_free(t);
			return -1;
		}
	}
	return out_table_print(t);
}

static int
cmd_report_at_risk_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { { "status", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 } };
	const char *status = NULL;
	json_t *eps = json_array(), *wrap = NULL;
	int c, rc = CTL_UNAVAILABLE;

	if (eps == NULL)
		return rc;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 's') {
			rc = cmd_usage(&cmd_report_at_risk_entry);
			goto out;
		}
		status = optarg;
	}
	if (optind != argc) {
		rc = cmd_usage(&cmd_report_at_risk_entry);
		goto out;
	}
	rc = fetch_at_risk(ctl, status, eps);
	if (rc != CTL_OK)
		goto out;
	if (ctl->out->json) {
		wrap = json_pack("{s:O, s:n}", "episodes", eps, "next");
		if (wrap == NULL || out_json(wrap) != 0)
			rc = CTL_UNAVAILABLE;
	} else if (print_at_risk(ctl->out, eps) != 0) {
		rc = CTL_UNAVAILABLE;
	}
out:
	json_decref(wrap);
	json_decref(eps);
	return rc;
}
