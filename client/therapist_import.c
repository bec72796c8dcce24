/*
 * therapist_import.c - `alliancectl therapist import FILE`: the clinic
 * roster, idempotent by external_ref (creates or updates, leaves equal
 * records alone), every bad record reported with its line and field while
 * the others are stored.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "cmds.h"
#include "out.h"
#include "roster.h"
#include "therapist_ref.h"

static int cmd_therapist_import_exec(struct ctl *ctl, int argc, char **argv);

const struct cmd_entry cmd_therapist_import_entry = {
	"therapist import",
	"FILE [--dry-run]",
	"create or update therapists from a roster (YAML, JSON or CSV)",
	"  --dry-run   read and check the file, say what would change, write nothing\n"
	"Records are matched by external_ref: a new one is created, a changed one\n"
	"replaced, an equal one left alone.  Each bad record is reported as\n"
	"FILE:LINE: REF: FIELD: message and the others are still imported; prints\n"
	"created/updated/unchanged/failed counts and exits 2 when any failed.\n"
	"CSV: a header row; lists separated by \";\" (see alliancectl(1)).\n",
	0,
	cmd_therapist_import_exec,
};

struct import_counts {
	int created, updated, unchanged, failed;
};

struct importer {
	struct ctl *ctl;
	const char *path;
	bool dry_run;
	json_t *stored; /* owned: external_ref -> stored therapist */
	json_t *seen;   /* owned: external_ref -> line, refs already in the file */
	json_t *report; /* owned: the --json answer's "errors" */
	struct import_counts n;
};

static int same_value(const json_t *a, const json_t *b);

/* Weekly hours as 168 bits (day * 24 + hour); -1 when a slot is unreadable. */
static int
hour_bits(const json_t *slots, unsigned char bits[168])
{
	static const char *const days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
	const json_t *slot;
	const char *day, *from, *to;
	int d, h, h0, h1;
	size_t i;

	memset(bits, 0, 168);
	json_array_foreach (slots, i, slot) {
		day = json_string_value(json_object_get(slot, "day"));
		from = json_string_value(json_object_get(slot, "from"));
		to = json_string_value(json_object_get(slot, "to"));
		if (day == NULL || from == NULL || to == NULL)
			return -1;
		for (d = 0; d < 7 && strcmp(days[d], day) != 0; d++)
			;
		if (d == 7 || sscanf(from, "%d", &h0) != 1 || sscanf(to, "%d", &h1) != 1 ||
		    h0 < 0 || h1 > 24 || h0 >= h1)
			return -1;
		for (h = h0; h < h1; h++)
			bits[d * 24 + h] = 1;
	}
	return 0;
}

/* Lists are sets to the daemon: the same elements in any order. */
static int
same_set(const json_t *a, const json_t *b)
{
	const json_t *x, *y;
	size_t i, j;
	int found;

	if (json_array_size(a) != json_array_size(b))
		return 0;
	json_array_foreach (a, i, x) {
		found = 0;
		json_array_foreach (b, j, y)
			if (same_value(x, y)) {
				found = 1;
				break;
			}
		if (!found)
			return 0;
	}
	return 1;
}

/* Numbers compare by value (the daemon may answer 150 for 150.0). */
static int
same_value(const json_t *a, const json_t *b)
{
	const char *k;
	json_t *v;

	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_is_array(a) && json_is_array(b))
		return same_set(a, b);
	if (json_is_object(a) && json_is_object(b)) {
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach ((json_t *)a, k, v)
			if (!same_value(v, json_object_get(b, k)))
				return 0;
		return 1;
	}
	return json_equal(a, b);
}

static int
same_field(const char *key, const json_t *rec, const json_t *stored)
{
	unsigned char a[168], b[168];

	if (strcmp(key, "availability") == 0 && hour_bits(rec, a) == 0 && hour_bits(stored, b) == 0)
		return memcmp(a, b, sizeof(a)) == 0;
	return same_value(rec, stored);
}

/* A stored field the record leaves out holds what a PUT would set. */
static int
is_default(const char *key, const json_t *v)
{
	if (strcmp(key, "id") == 0 || json_is_null(v))
		return 1;
	if ((json_is_array(v) && json_array_size(v) == 0) ||
	    (json_is_object(v) && json_object_size(v) == 0))
		return 1;
	if (strcmp(key, "accepting_new") == 0 || strcmp(key, "active") == 0)
		return json_is_true(v);
	if (strcmp(key, "sliding_scale") == 0)
		return json_is_false(v);
	if (strcmp(key, "capacity") == 0) /* the daemon's default caseload */
		return json_integer_value(v) == 25;
	if (strcmp(key, "style") == 0) {
		const char *k;
		json_t *x;

		json_object_foreach ((json_t *)v, k, x)
			if (json_integer_value(x) != 0)
				return 0;
		return 1;
	}
	return 0;
}

static int
unchanged(const json_t *rec, const json_t *stored)
{
	const char *k;
	json_t *v, *s;

	json_object_foreach ((json_t *)rec, k, v) {
		s = json_object_get(stored, k);
		if (strcmp(k, "style") == 0 && json_is_object(s) && json_is_object(v)) {
			const char *axis;
			json_t *x;

			/* An axis left out of the record is 0. */
			json_object_foreach (s, axis, x)
				if (!same_value(x, json_object_get(v, axis)) &&
				    !(json_integer_value(x) == 0 &&
				        json_object_get(v, axis) == NULL))
					return 0;
			continue;
		}
		if (s == NULL ? !json_is_null(v) : !same_field(k, v, s))
			return 0;
	}
	json_object_foreach ((json_t *)stored, k, s)
		if (json_object_get(rec, k) == NULL && !is_default(k, s))
			return 0;
	return 1;
}

static void
fail(struct importer *im, unsigned line, const char *ref, const char *field, const char *msg)
{
	im->n.failed++;
	fprintf(stderr, "%s:%u: %s: %s: %s\n", im->path, line, ref != NULL ? ref : "(no ref)",
	    field, msg);
	json_array_append_new(im->report,
	    json_pack("{s:I, s:s?, s:s, s:s}", "line", (json_int_t)line, "external_ref", ref,
	        "field", field, "message", msg));
}

static const char *
str_or(const json_t *v, const char *dflt)
{
	return json_is_string(v) ? json_string_value(v) : dflt;
}

/* The daemon refused the record: one failure line per field error. */
static void
refused(struct importer *im, unsigned line, const char *ref, const struct api_reply *r)
{
	const json_t *errors = json_object_get(r->json, "errors"), *e;
	const char *detail = json_string_value(json_object_get(r->json, "detail"));
	size_t i;

	if (json_array_size(errors) == 0) {
		fail(im, line, ref, "(record)", detail != NULL ? detail : "refused");
		return;
	}
	json_array_foreach (errors, i, e) {
		fail(im, line, ref, str_or(json_object_get(e, "field"), "(record)"),
		    str_or(json_object_get(e, "message"), "invalid"));
		if (i > 0)
			im->n.failed--; /* one record, however many fields */
	}
}

/* Creates or replaces one record; CTL_OK, or the code that stops the import. */
static int
store(struct importer *im, const struct roster_record *rec, const char *ref, const json_t *stored)
{
	struct api_reply r;
	char path[64];
	int rc;

	if (stored == NULL)
		rc = api_call(im->ctl->api, "POST", "/v1/therapists", rec->obj, NULL, &r);
	else {
		snprintf(path, sizeof(path), "/v1/therapists/%lld",
		    (long long)json_integer_value(json_object_get(stored, "id")));
		rc = api_call(im->ctl->api, "PUT", path, rec->obj, NULL, &r);
	}
	if (rc == CTL_REFUSED) {
		refused(im, rec->line, ref, &r);
		rc = CTL_OK;
	} else if (rc == CTL_OK) {
		if (stored == NULL)
			im->n.created++;
		else
			im->n.updated++;
	} else {
		api_report(im->ctl->prog, &r);
	}
	api_reply_clear(&r);
	return rc;
}

static int
one(struct importer *im, const struct roster_record *rec)
{
	const char *ref;
	const json_t *stored, *first;
	char msg[128];

	if (rec->obj == NULL) {
		fail(im, rec->line, rec->ref[0] ? rec->ref : NULL, rec->field, rec->error);
		return CTL_OK;
	}
	ref = json_string_value(json_object_get(rec->obj, "external_ref"));
	if (ref == NULL || ref[0] == '\0') {
		fail(im, rec->line, NULL, "external_ref", "required: the key of the import");
		return CTL_OK;
	}
	first = json_object_get(im->seen, ref);
	if (first != NULL) {
		snprintf(msg, sizeof(msg), "appears twice in the file (first at line %lld)",
		    (long long)json_integer_value(first));
		fail(im, rec->line, ref, "external_ref", msg);
		return CTL_OK;
	}
	json_object_set_new(im->seen, ref, json_integer(rec->line));
	stored = json_object_get(im->stored, ref);
	if (stored != NULL && unchanged(rec->obj, stored)) {
		im->n.unchanged++;
		return CTL_OK;
	}
	if (im->dry_run) {
		if (stored == NULL)
			im->n.created++;
		else
			im->n.updated++;
		return CTL_OK;
	}
	return store(im, rec, ref, stored);
}

static int
index_stored(struct importer *im)
{
	json_t *list, *t;
	const char *ref;
	size_t i;
	int rc = therapists_fetch(im->ctl, NULL, &list);

	if (rc != CTL_OK)
		return rc;
	json_array_foreach (list, i, t) {
		ref = json_string_value(json_object_get(t, "external_ref"));
		if (ref != NULL && json_object_set(im->stored, ref, t) != 0)
			rc = CTL_UNAVAILABLE;
	}
	json_decref(list);
	return rc;
}

static int
summary(struct importer *im)
{
	json_t *j;
	int rc = 0;

	if (!im->ctl->out->json) {
		printf("%s%d created, %d updated, %d unchanged, %d failed\n",
		    im->dry_run ? "dry run: would be " : "", im->n.created, im->n.updated,
		    im->n.unchanged, im->n.failed);
		return 0;
	}
	j = json_pack("{s:b, s:i, s:i, s:i, s:i, s:O}", "dry_run", im->dry_run, "created",
	    im->n.created, "updated", im->n.updated, "unchanged", im->n.unchanged, "failed",
	    im->n.failed, "errors", im->report);
	if (j == NULL || out_json(j) != 0)
		rc = -1;
	json_decref(j);
	return rc;
}

static int
cmd_therapist_import_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { { "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 } };
	struct importer im = { .ctl = ctl };
	struct roster ro = { 0 };
	char err[512];
	size_t i;
	int c, rc = CTL_UNAVAILABLE;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'n')
			return cmd_usage(&cmd_therapist_import_entry);
		im.dry_run = true;
	}
	if (argc - optind != 1)
		return cmd_usage(&cmd_therapist_import_entry);
	im.path = argv[optind];
	if (roster_load(&ro, im.path, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", ctl->prog, err);
		return CTL_USAGE;
	}
	im.stored = json_object();
	im.seen = json_object();
	im.report = json_array();
	if (im.stored == NULL || im.seen == NULL || im.report == NULL)
		goto out;
	rc = index_stored(&im);
	for (i = 0; rc == CTL_OK && i < ro.n; i++)
		rc = one(&im, &ro.v[i]);
	if (rc != CTL_OK)
		goto out;
	if (summary(&im) != 0)
		rc = CTL_UNAVAILABLE;
	else if (im.n.failed > 0)
		rc = CTL_REFUSED;
out:
	json_decref(im.stored);
	json_decref(im.seen);
	json_decref(im.report);
	roster_clear(&ro);
	return rc;
}
