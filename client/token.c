/*
 * token.c - `alliancectl token create|list|revoke`: the API tokens
 * (README "Security").  create prints the token once: the daemon keeps only
 * its SHA-256, so a lost token is revoked and made anew.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cmds.h"
#include "out.h"

static int cmd_token_create_exec(struct ctl *ctl, int argc, char **argv);
static int cmd_token_list_exec(struct ctl *ctl, int argc, char **argv);
static int cmd_token_revoke_exec(struct ctl *ctl, int argc, char **argv);

const struct cmd_entry cmd_token_create_entry = {
	"token create",
	"--name NAME --scope intake|feedback|admin [--expires DAYSd]",
	"make an API token and print it (once: only its hash is stored)",
	"  --name NAME        1 to 100 letters, digits, '-', '_' or '.'; unique among live tokens\n"
	"  --scope SCOPE      intake, feedback or admin (admin may call every route)\n"
	"  --expires Nd       the token stops working after N days (1..3650); default never\n",
	0,
	cmd_token_create_exec,
};
const struct cmd_entry cmd_token_list_entry = {
	"token list",
	"[--all]",
	"API tokens: name, scope, created, last used, expiry (never the token)",
	"  --all              revoked tokens too\n",
	0,
	cmd_token_list_exec,
};
const struct cmd_entry cmd_token_revoke_entry = {
	"token revoke",
	"NAME",
	"revoke the live token NAME (every daemon refuses it within a second)",
	NULL,
	0,
	cmd_token_revoke_exec,
};

/* "90d" or "90": days; -1 when neither. */
static long
parse_days(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (end == s || n < 1 || n > 3650 || (*end != '\0' && strcmp(end, "d") != 0))
		return -1;
	return n;
}

static int
cmd_token_create_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { { "name", required_argument, NULL, 'n' },
		{ "scope", required_argument, NULL, 's' },
		{ "expires", required_argument, NULL, 'e' }, { NULL, 0, NULL, 0 } };
	const char *name = NULL, *scope = NULL;
	long days = 0;
	struct api_reply r;
	json_t *body;
	const char *token;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': name = optarg; break;
		case 's': scope = optarg; break;
		case 'e':
			if ((days = parse_days(optarg)) < 0) {
				fprintf(stderr, "%s: --expires: expected days, e.g. 90d\n",
				    ctl->prog);
				return CTL_USAGE;
			}
			break;
		default: return cmd_usage(&cmd_token_create_entry);
		}
	}
	if (optind != argc || name == NULL || scope == NULL)
		return cmd_usage(&cmd_token_create_entry);
	body = json_pack("{s:s, s:s}", "name", name, "scope", scope);
	if (body == NULL ||
	    (days > 0 && json_object_set_new(body, "expires_in_days", json_integer(days)) != 0)) {
		json_decref(body);
		return CTL_UNAVAILABLE;
	}
	rc = api_do(ctl->api, ctl->prog, "POST", "/v1/tokens", body, NULL, &r);
	json_decref(body);
	if (rc == CTL_OK) {
		if (ctl->out->json) {
			out_raw(r.body);
		} else if (api_expect(ctl->prog, &r, JSON_OBJECT) == NULL ||
		    (token = json_string_value(json_object_get(r.json, "token"))) == NULL) {
			rc = CTL_UNAVAILABLE;
		} else {
			/* The token alone on stdout (for a file); the note on stderr. */
			printf("%s\n", token);
			fprintf(stderr,
			    "token \"%s\" (%s) created; it is shown only now: keep it in a file "
			    "of mode 0600\n",
			    name, scope);
		}
	}
	api_reply_clear(&r);
	return rc;
}

static const char *
or_dash(const json_t *v)
{
	const char *s = json_string_value(v);

	return s != NULL ? s : "-";
}

static int
print_tokens(const struct out *o, const json_t *list)
{
	static const char *const cols[] = { "NAME", "SCOPE", "CREATED", "LAST USED", "EXPIRES",
		"REVOKED" };
	struct out_table *t;
	const json_t *tok;
	size_t i;
	int bad = 0;

	if (json_array_size(list) == 0) {
		printf("no token\n");
		return 0;
	}
	t = out_table_new(o, cols, 6);
	if (t == NULL)
		return -1;
	json_array_foreach (list, i, tok) {
		bad |= out_row(t);
		bad |= out_cell(t, 0, or_dash(json_object_get(tok, "name")), NULL);
		bad |= out_cell(t, 1, or_dash(json_object_get(tok, "scope")), NULL);
		bad |= out_cell(t, 2, or_dash(json_object_get(tok, "created_at")), NULL);
		bad |= out_cell(t, 3, or_dash(json_object_get(tok, "last_used_at")), NULL);
		bad |= out_cell(t, 4, or_dash(json_object_get(tok, "expires_at")), NULL);
		bad |= out_cell(t, 5, or_dash(json_object_get(tok, "revoked_at")), NULL);
		if (bad) {
			out_table_free(t);
			return -1;
		}
	}
	return out_table_print(t);
}

static int
cmd_token_list_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 } };
	struct api_reply r;
	bool all = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'a')
			return cmd_usage(&cmd_token_list_entry);
		all = true;
	}
	if (optind != argc)
		return cmd_usage(&cmd_token_list_entry);
	rc = api_do(ctl->api, ctl->prog, "GET", all ? "/v1/tokens?all=true" : "/v1/tokens", NULL,
	    NULL, &r);
	if (rc == CTL_OK) {
		if (ctl->out->json)
			out_raw(r.body);
		else if (api_expect(ctl->prog, &r, JSON_OBJECT) == NULL ||
		    print_tokens(ctl->out, json_object_get(r.json, "tokens")) != 0)
			rc = CTL_UNAVAILABLE;
	}
	api_reply_clear(&r);
	return rc;
}

static int
cmd_token_revoke_exec(struct ctl *ctl, int argc, char **argv)
{
	struct api_reply r;
	const json_t *tok;
	long long id = 0;
	char path[64];
	size_t i;
	int rc;

	if (argc != 2 || argv[1][0] == '-')
		return cmd_usage(&cmd_token_revoke_entry);
	/* The API revokes by id: the live token of that name. */
	rc = api_do(ctl->api, ctl->prog, "GET", "/v1/tokens", NULL, NULL, &r);
	if (rc == CTL_OK && api_expect(ctl->prog, &r, JSON_OBJECT) == NULL)
		rc = CTL_UNAVAILABLE;
	if (rc == CTL_OK)
		json_array_foreach (json_object_get(r.json, "tokens"), i, tok)
			if (strcmp(or_dash(json_object_get(tok, "name")), argv[1]) == 0)
				id = (long long)json_integer_value(json_object_get(tok, "id"));
	api_reply_clear(&r);
	if (rc != CTL_OK)
		return rc;
	if (id <= 0) {
		fprintf(stderr, "%s: no live token \"%s\"\n", ctl->prog, argv[1]);
		return CTL_REFUSED;
	}
	snprintf(path, sizeof(path), "/v1/tokens/%lld", id);
	rc = api_do(ctl->api, ctl->prog, "DELETE", path, NULL, NULL, &r);
	if (rc == CTL_OK) {
		if (ctl->out->json)
			out_raw(r.body);
		else
			printf("token \"%s\": revoked\n", argv[1]);
	}
	api_reply_clear(&r);
	return rc;
}
