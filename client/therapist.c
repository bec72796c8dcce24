/*
 * therapist.c - `alliancectl therapist list|show|add|update|set|retire`.
 * (`therapist import` is in therapist_import.c.)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "call.h"
#include "cmds.h"
#include "doc.h"
#include "out.h"
#include "therapist_ref.h"

static int cmd_therapist_list_exec(struct ctl *ctl, int argc, char **argv);
static int cmd_therapist_show_exec(struct ctl *ctl, int argc, char **argv);
static int cmd_therapist_add_exec(struct ctl *ctl, int argc, char **argv);
static int cmd_therapist_update_exec(struct ctl *ctl, int argc, char **argv);
static int cmd_therapist_set_exec(struct ctl *ctl, int argc, char **argv);
static int cmd_therapist_retire_exec(struct ctl *ctl, int argc, char **argv);

const struct cmd_entry cmd_therapist_list_entry = {
	"therapist list",
	"[--active] [--accepting] [--concern TAG] [--language xx]",
	"list therapists (every page)",
	"  --active        only active therapists\n"
	"  --accepting     only therapists accepting new clients\n"
	"  --concern TAG   only therapists with expertise in TAG\n"
	"  --language xx   only therapists speaking the ISO 639-1 language xx\n",
	0,
	cmd_therapist_list_exec,
};
const struct cmd_entry cmd_therapist_show_entry = {
	"therapist show",
	"ID|REF",
	"show one therapist",
	NULL,
	0,
	cmd_therapist_show_exec,
};
const struct cmd_entry cmd_therapist_add_entry = {
	"therapist add",
	"FILE",
	"create a therapist from a YAML or JSON file",
	"FILE holds one therapist object (see alliancectl(1)); - reads stdin.\n",
	0,
	cmd_therapist_add_exec,
};
const struct cmd_entry cmd_therapist_update_entry = {
	"therapist update",
	"ID|REF FILE",
	"replace a therapist's whole profile from a file",
	"Fields left out of FILE take their defaults (a full replace, HTTP PUT).\n",
	0,
	cmd_therapist_update_exec,
};
const struct cmd_entry cmd_therapist_set_entry = {
	"therapist set",
	"ID|REF KEY=VALUE...",
	"change some fields of a therapist",
	"Each VALUE is read as JSON when it parses (20, false, [\"en\",\"es\"],\n"
	"{\"trauma\":2}), else as a string: accepting_new=false capacity=20.\n",
	0,
	cmd_therapist_set_exec,
};
const struct cmd_entry cmd_therapist_retire_entry = {
	"therapist retire",
	"ID|REF",
	"retire a therapist (no more matches; history stays)",
	NULL,
	0,
	cmd_therapist_retire_exec,
};

static char *
concerns_text(const json_t *concerns)
{
	const char *k;
	json_t *v;
	char *s = NULL, *tmp;

	json_object_foreach ((json_t *)concerns, k, v) {
		if (asprintf(&tmp, "%s%s%s%s", s != NULL ? s : "", s != NULL ? ", " : "", k,
		        json_integer_value(v) == 2 ? "*" : "") < 0) {
			free(s);
			return NULL;
		}
		free(s);
		s = tmp;
	}
	return s != NULL ? s : strdup("-");
}

/* Every list element TAG-matches: has VALUE in array KEY, or key in object. */
static int
keep(const json_t *t, bool accepting, const char *concern, const char *language)
{
	const json_t *v;
	size_t i;
	int found = 0;

	if (accepting && !json_is_true(json_object_get(t, "accepting_new")))
		return 0;
	if (concern != NULL && json_object_get(json_object_get(t, "concerns"), concern) == NULL)
		return 0;
	if (language == NULL)
		return 1;
	json_array_foreach (json_object_get(t, "languages"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), language) == 0)
			found = 1;
	return found;
}

static int
print_list(const struct out *o, const json_t *list)
{
	static const char *const cols[] = { "ID>", "REF", "NAME", "LANG", "CONCERNS~", "CAP>",
		"ACCEPTING", "ACTIVE" };
	struct out_table *t = out_table_new(o, cols, 8);
	const json_t *th;
	char *lang, *conc;
	size_t i;
	int bad;

	if (t == NULL)
		return -1;
	json_array_foreach (list, i, th) {
		lang = out_text(json_object_get(th, "languages"));
		conc = concerns_text(json_object_get(th, "concerns"));
		bad = lang == NULL || conc == NULL || out_row(t) != 0 ||
		    out_cellf(t, 0, "%lld",
		        (long long)json_integer_value(json_object_get(th, "id"))) ||
		    out_cell(t, 1, json_string_value(json_object_get(th, "external_ref")), NULL) ||
		    out_cell(t, 2, json_string_value(json_object_get(th, "display_name")), NULL) ||
		    out_cell(t, 3, lang, NULL) || out_cell(t, 4, conc, NULL) ||
		    out_cellf(t, 5, "%lld",
		        (long long)json_integer_value(json_object_get(th, "capacity"))) ||
		    out_cell(t, 6,
		        json_is_true(json_object_get(th, "accepting_new")) ? "yes" : "no", NULL) ||
		    out_cell(t, 7, json_is_true(json_object_get(th, "active")) ? "yes" : "no",
		        NULL);
		free(lang);
		free(conc);
		if (bad) {
			out_table_free(t);
			return -1;
		}
	}
	return out_table_print(t);
}

static int
cmd_therapist_list_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { { "active", no_argument, NULL, 'a' },
		{ "accepting", no_argument, NULL, 'n' },
		{ "concern", required_argument, NULL, 'c' },
		{ "language", required_argument, NULL, 'l' }, { NULL, 0, NULL, 0 } };
	const char *concern = NULL, *language = NULL;
	bool active = false, accepting = false;
	json_t *all = NULL, *kept = NULL, *t, *wrap = NULL;
	size_t i;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a': active = true; break;
		case 'n': accepting = true; break;
		case 'c': concern = optarg; break;
		case 'l': language = optarg; break;
		default: return cmd_usage(&cmd_therapist_list_entry);
		}
	}
	if (optind != argc)
		return cmd_usage(&cmd_therapist_list_entry);
	rc = therapists_fetch(ctl, active ? "active=true" : NULL, &all);
	if (rc != CTL_OK)
		return rc;
	rc = CTL_UNAVAILABLE;
	kept = json_array();
	if (kept == NULL)
		goto out;
	json_array_foreach (all, i, t)
		if (keep(t, accepting, concern, language) && json_array_append(kept, t) != 0)
			goto out;
	if (ctl->out->json) {
		wrap = json_pack("{s:O, s:n}", "therapists", kept, "next");
		if (wrap == NULL || out_json(wrap) != 0)
			goto out;
	} else if (print_list(ctl->out, kept) != 0) {
		goto out;
	}
	rc = CTL_OK;
out:
	json_decref(wrap);
	json_decref(kept);
	json_decref(all);
	return rc;
}

/* Sends BODY (may be NULL) and shows the therapist the daemon answers. */
static void
therapist_line(const json_t *t, long status, const void *done)
{
	(void)status;
	printf("therapist %lld (%s): %s\n", (long long)json_integer_value(json_object_get(t, "id")),
	    json_string_value(json_object_get(t, "external_ref")), (const char *)done);
}

static int
therapist_call(struct ctl *ctl, const char *method, const char *path, const json_t *body,
    const char *done)
{
	return call_object(ctl, method, path, body, done != NULL ? therapist_line : NULL, done);
}

static int
one_therapist(struct ctl *ctl, const struct cmd_entry *e, int argc, char **argv, const char *method,
    const char *done)
{
	char path[64];
	long long id;
	int rc;

	if (argc != 2)
		return cmd_usage(e);
	rc = therapist_resolve(ctl, argv[1], &id);
	if (rc != CTL_OK)
		return rc;
	snprintf(path, sizeof(path), "/v1/therapists/%lld", id);
	return therapist_call(ctl, method, path, NULL, done);
}

static int
cmd_therapist_show_exec(struct ctl *ctl, int argc, char **argv)
{
	return one_therapist(ctl, &cmd_therapist_show_entry, argc, argv, "GET", NULL);
}

static int
cmd_therapist_retire_exec(struct ctl *ctl, int argc, char **argv)
{
	return one_therapist(ctl, &cmd_therapist_retire_entry, argc, argv, "DELETE", "retired");
}

static int
load_object(struct ctl *ctl, const char *path, struct doc *d)
{
	char err[512];

	if (doc_load(d, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", ctl->prog, err);
		return CTL_USAGE;
	}
	if (!json_is_object(d->root)) {
		fprintf(stderr, "%s: %s: expected one object (a mapping)\n", ctl->prog, path);
		doc_clear(d);
		return CTL_USAGE;
	}
	return CTL_OK;
}

static int
cmd_therapist_add_exec(struct ctl *ctl, int argc, char **argv)
{
	struct doc d;
	int rc;

	if (argc != 2)
		return cmd_usage(&cmd_therapist_add_entry);
	rc = load_object(ctl, argv[1], &d);
	if (rc != CTL_OK)
		return rc;
	rc = therapist_call(ctl, "POST", "/v1/therapists", d.root, "created");
	doc_clear(&d);
	return rc;
}

static int
cmd_therapist_update_exec(struct ctl *ctl, int argc, char **argv)
{
	struct doc d;
	char path[64];
	long long id;
	int rc;

	if (argc != 3)
		return cmd_usage(&cmd_therapist_update_entry);
	rc = load_object(ctl, argv[2], &d);
	if (rc != CTL_OK)
		return rc;
	rc = therapist_resolve(ctl, argv[1], &id);
	if (rc == CTL_OK) {
		snprintf(path, sizeof(path), "/v1/therapists/%lld", id);
		rc = therapist_call(ctl, "PUT", path, d.root, "updated");
	}
	doc_clear(&d);
	return rc;
}

/* KEY=VALUE pairs into an object: VALUE as JSON when it parses. */
static int
parse_pairs(struct ctl *ctl, int argc, char **argv, json_t *obj)
{
	const char *eq;
	json_t *v;
	char key[128];
	int i;

	for (i = 0; i < argc; i++) {
		eq = strchr(argv[i], '=');
		if (eq == NULL || eq == argv[i] || (size_t)(eq - argv[i]) >= sizeof(key)) {
			fprintf(stderr, "%s: \"%s\" is not KEY=VALUE\n", ctl->prog, argv[i]);
			return -1;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - argv[i]), argv[i]);
		v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
		if (v == NULL)
			v = json_string(eq + 1);
		if (v == NULL || json_object_set_new(obj, key, v) != 0) {
			fprintf(stderr, "%s: \"%s\": not valid text\n", ctl->prog, argv[i]);
			return -1;
		}
	}
	return 0;
}

static int
cmd_therapist_set_exec(struct ctl *ctl, int argc, char **argv)
{
	json_t *patch;
	char path[64];
	long long id;
	int rc;

	if (argc < 3)
		return cmd_usage(&cmd_therapist_set_entry);
	patch = json_object();
	if (patch == NULL)
		return CTL_UNAVAILABLE;
	if (parse_pairs(ctl, argc - 2, argv + 2, patch) != 0) {
		json_decref(patch);
		return CTL_USAGE;
	}
	rc = therapist_resolve(ctl, argv[1], &id);
	if (rc == CTL_OK) {
		snprintf(path, sizeof(path), "/v1/therapists/%lld", id);
		rc = therapist_call(ctl, "PATCH", path, patch, "updated");
	}
	json_decref(patch);
	return rc;
}
