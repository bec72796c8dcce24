/*
 * status.c - `alliancectl status`: version, health, readiness, database,
 * catalog size and uptime; exits 0 only when the daemon is ready.
 */
#include <stdio.h>

#include "api.h"
#include "cmds.h"
#include "out.h"

static int cmd_status_exec(struct ctl *ctl, int argc, char **argv);

const struct cmd_entry cmd_status_entry = {
	"status",
	"",
	"the daemon's health, readiness, database, catalog and uptime",
	"Asks /healthz and /readyz. Exits 0 only when the daemon is ready (database\n"
	"reachable, schema current, catalog loaded), else 3.\n",
	0,
	cmd_status_exec,
};

static void
print_uptime(double secs)
{
	long s = (long)secs;

	if (s >= 86400)
		printf("%ldd %02ldh %02ldm\n", s / 86400, s % 86400 / 3600, s % 3600 / 60);
	else
		printf("%ldh %02ldm %02lds\n", s / 3600, s % 3600 / 60, s % 60);
}

static void
print_status(const struct out *o, const json_t *health, const json_t *ready)
{
	const json_t *db = json_object_get(ready, "database");
	const json_t *cat = json_object_get(ready, "catalog");
	const char *st = json_string_value(json_object_get(ready, "status"));
	const char *detail = json_string_value(json_object_get(db, "detail"));

	printf("%-12s alliancectl %s\n", "version", ALLIANCE_VERSION);
	printf("%-12s ", "health");
	out_paint(o, "green", json_string_value(json_object_get(health, "status")));
	printf("\n%-12s ", "readiness");
	out_paint(o, out_status_color(st), st != NULL ? st : "unknown");
	printf("\n%-12s %s, schema version %lld of %lld%s%s\n", "database",
	    json_is_true(json_object_get(db, "up")) ? "up" : "down",
	    (long long)json_integer_value(json_object_get(db, "schema_version")),
	    (long long)json_integer_value(json_object_get(db, "expected_version")),
	    detail != NULL ? ": " : "", detail != NULL ? detail : "");
	printf("%-12s %lld therapists%s\n", "catalog",
	    (long long)json_integer_value(json_object_get(cat, "therapists")),
	    json_is_true(json_object_get(cat, "ready")) ? "" : " (loading)");
	printf("%-12s ", "uptime");
	print_uptime(json_number_value(json_object_get(health, "uptime_seconds")));
}

static int
cmd_status_exec(struct ctl *ctl, int argc, char **argv)
{
	struct api_reply h, r;
	json_t *both = NULL;
	int rc;

	(void)argv;
	if (argc != 1)
		return cmd_usage(&cmd_status_entry);
	rc = api_do(ctl->api, ctl->prog, "GET", "/healthz", NULL, NULL, &h);
	if (rc != CTL_OK) {
		api_reply_clear(&h);
		return rc;
	}
	/* 503 is an answer here: print it, then exit 3. */
	rc = api_call(ctl->api, "GET", "/readyz", NULL, NULL, &r);
	if (r.status != 200 && r.status != 503) {
		api_report(ctl->prog, &r);
		goto out;
	}
	if (!json_is_object(h.json) || !json_is_object(r.json)) {
		fprintf(stderr, "%s: the daemon's answer is not the expected JSON\n", ctl->prog);
		rc = CTL_UNAVAILABLE;
		goto out;
	}
	if (ctl->out->json) {
		both = json_pack("{s:O, s:O}", "health", h.json, "ready", r.json);
		if (both == NULL || out_json(both) != 0)
			rc = CTL_UNAVAILABLE;
	} else {
		print_status(ctl->out, h.json, r.json);
	}
	if (r.status == 503)
		rc = CTL_UNAVAILABLE;
out:
	json_decref(both);
	api_reply_clear(&h);
	api_reply_clear(&r);
	return rc;
}
