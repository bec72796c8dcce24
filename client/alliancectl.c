/*
 * alliancectl.c - the admin CLI's entry point: global options, the command
 * table (tmux style: each entry lives beside its handler, this table only
 * lists them), and the connection every API command gets.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cmds.h"
#include "ctl.h"
#include "ctl_config.h"
#include "out.h"

#ifndef ALLIANCE_SOCKET_DEFAULT
#define ALLIANCE_SOCKET_DEFAULT "/run/allianced/allianced.sock"
#endif

static int cmd_help_exec(struct ctl *ctl, int argc, char **argv);
static int cmd_version_exec(struct ctl *ctl, int argc, char **argv);

static const struct cmd_entry cmd_help_entry = {
	"help",
	"[COMMAND]",
	"show this text, or a command's help",
	NULL,
	CMD_LOCAL,
	cmd_help_exec,
};
static const struct cmd_entry cmd_version_entry = {
	"version",
	"",
	"print the version",
	NULL,
	CMD_LOCAL,
	cmd_version_exec,
};

const struct cmd_entry *const ctl_commands[] = {
	&cmd_status_entry,
	&cmd_therapist_list_entry,
	&cmd_therapist_show_entry,
	&cmd_therapist_add_entry,
	&cmd_therapist_update_entry,
	&cmd_therapist_set_entry,
	&cmd_therapist_retire_entry,
	&cmd_therapist_import_entry,
	&cmd_colleague_link_entry,
	&cmd_colleague_unlink_entry,
	&cmd_colleague_list_entry,
	&cmd_client_show_entry,
	&cmd_client_add_entry,
	&cmd_match_entry,
	&cmd_episode_start_entry,
	&cmd_episode_end_entry,
	&cmd_episode_show_entry,
	&cmd_feedback_add_entry,
	&cmd_attendance_entry,
	&cmd_alliance_entry,
	&cmd_referrals_entry,
	&cmd_report_alliance_entry,
	&cmd_report_at_risk_entry,
	&cmd_report_audit_entry,
	&cmd_events_list_entry,
	&cmd_events_replay_entry,
	&cmd_webhook_test_entry,
	&cmd_token_create_entry,
	&cmd_token_list_entry,
	&cmd_token_revoke_entry,
	&cmd_config_check_entry,
	&cmd_migrate_entry,
	&cmd_help_entry,
	&cmd_version_entry,
	NULL,
};

/* clang-format off */
static const char global_help[] =
    "Global options (before COMMAND):\n"
    "  -s, --socket PATH     the daemon's UNIX socket (else $ALLIANCE_SOCKET, else\n"
    "                        listen.unix of the -c FILE, else " ALLIANCE_SOCKET_DEFAULT ")\n"
    "  -c, --config FILE     the daemon's configuration (for its socket path)\n"
    "      --url URL         talk to http(s)://host:port instead of the socket\n"
    "      --token-file FILE send the bearer token in FILE ($ALLIANCE_TOKEN otherwise)\n"
    "      --json            print the daemon's JSON (any position)\n"
    "  -h, --help            this text;  COMMAND --help: the command's own\n"
    "  -V, --version         print the version\n"
    "\n"
    "Exit codes: 0 ok, 1 usage, 2 refused (validation, not found, conflict),\n"
    "3 daemon unreachable or not ready, 4 unauthorised or forbidden.\n";
/* clang-format on */

static void
usage(FILE *f)
{
	const struct cmd_entry *e;
	size_t i;
	char line[256];

	fprintf(f,
	    "Usage: alliancectl [OPTIONS] COMMAND [ARGS]\n\n"
	    "Admin CLI of the Alliance daemon (allianced).\n\nCommands:\n");
	for (i = 0; (e = ctl_commands[i]) != NULL; i++) {
		snprintf(line, sizeof(line), "%s%s%s", e->name, e->args[0] ? " " : "", e->args);
		if (strlen(line) > 34)
			fprintf(f, "  %s\n  %-34s %s\n", line, "", e->summary);
		else
			fprintf(f, "  %-34s %s\n", line, e->summary);
	}
	fprintf(f, "\n%s", global_help);
}

static void
entry_help(FILE *f, const struct cmd_entry *e)
{
	fprintf(f, "Usage: alliancectl %s%s%s\n\n%s.\n", e->name, e->args[0] ? " " : "", e->args,
	    e->summary);
	if (e->help != NULL)
		fprintf(f, "\n%s", e->help);
	fprintf(f,
	    "\nExit codes: 0 ok, 1 usage, 2 refused, 3 daemon unreachable or not ready,\n"
	    "4 unauthorised or forbidden.\n");
}

int
cmd_usage(const struct cmd_entry *e)
{
	entry_help(stderr, e);
	return CTL_USAGE;
}

int
ctl_parse_id(const char *s, long long *id)
{
	char *end;

	if (s == NULL || *s < '1' || *s > '9')
		return -1;
	errno = 0;
	*id = strtoll(s, &end, 10);
	return (errno != 0 || *end != '\0') ? -1 : 0;
}

/* The entry named by argv[0] (and argv[1] for two-word names); *words is
 * how many arguments the name took. */
static const struct cmd_entry *
find_entry(int argc, char **argv, int *words)
{
	const struct cmd_entry *e;
	const char *sp;
	size_t i, n;

	for (i = 0; (e = ctl_commands[i]) != NULL; i++) {
		sp = strchr(e->name, ' ');
		if (sp == NULL && strcmp(e->name, argv[0]) == 0) {
			*words = 1;
			return e;
		}
		n = sp != NULL ? (size_t)(sp - e->name) : 0;
		if (sp != NULL && argc > 1 && strlen(argv[0]) == n &&
		    strncmp(e->name, argv[0], n) == 0 && strcmp(sp + 1, argv[1]) == 0) {
			*words = 2;
			return e;
		}
	}
	return NULL;
}

/* "therapist" alone: the group's commands.  0 when WORD names a group. */
static int
group_help(FILE *f, const char *word)
{
	const struct cmd_entry *e;
	size_t i, n = strlen(word);
	int found = 0;

	for (i = 0; (e = ctl_commands[i]) != NULL; i++) {
		if (strncmp(e->name, word, n) != 0 || e->name[n] != ' ')
			continue;
		if (!found)
			fprintf(f, "Usage: alliancectl %s SUBCOMMAND ...\n\n", word);
		found = 1;
		fprintf(f, "  %s %s\n      %s\n", e->name, e->args, e->summary);
	}
	return found ? 0 : -1;
}

static int
cmd_help_exec(struct ctl *ctl, int argc, char **argv)
{
	const struct cmd_entry *e;
	int words;

	(void)ctl;
	if (argc < 2) {
		usage(stdout);
		return CTL_OK;
	}
	e = find_entry(argc - 1, argv + 1, &words);
	if (e != NULL) {
		entry_help(stdout, e);
		return CTL_OK;
	}
	if (group_help(stdout, argv[1]) == 0)
		return CTL_OK;
	fprintf(stderr, "alliancectl: unknown command \"%s\"\n", argv[1]);
	return CTL_USAGE;
}

static int
cmd_version_exec(struct ctl *ctl, int argc, char **argv)
{
	(void)ctl;
	(void)argc;
	(void)argv;
	printf("alliancectl %s\n", ALLIANCE_VERSION);
	return CTL_OK;
}

struct global_opts {
	const char *socket_path; /* borrowed from argv */
	const char *url;
	const char *token_file;
	const char *config_path;
	bool json;
};

/* Reads the token: --token-file wins over $ALLIANCE_TOKEN.  0 with *token
 * malloc'd (or NULL when there is none), -1 after a message. */
static int
read_token(const struct global_opts *g, char **token)
{
	const char *env = getenv("ALLIANCE_TOKEN");
	char buf[4096];
	size_t n;
	FILE *f;

	*token = NULL;
	if (g->token_file == NULL) {
		if (env != NULL && env[0] != '\0' && (*token = strdup(env)) == NULL)
			return -1;
		return 0;
	}
	f = fopen(g->token_file, "r");
	if (f == NULL) {
		fprintf(stderr, "alliancectl: %s: %s\n", g->token_file, strerror(errno));
		return -1;
	}
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	n = strlen(buf);
	while (n > 0 &&
	    (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	if (n == 0) {
		fprintf(stderr, "alliancectl: %s: no token in the file\n", g->token_file);
		return -1;
	}
	*token = strdup(buf);
	memset(buf, 0, sizeof(buf));
	return *token != NULL ? 0 : -1;
}

/* The UNIX socket: -s, $ALLIANCE_SOCKET, listen.unix of -c, the default. */
static int
socket_path(const struct global_opts *g, char *out, size_t outlen)
{
	const char *env = getenv("ALLIANCE_SOCKET");
	char err[512];
	int rc;

	if (g->socket_path != NULL || (env != NULL && env[0] != '\0')) {
		snprintf(out, outlen, "%s", g->socket_path != NULL ? g->socket_path : env);
		return 0;
	}
	if (g->config_path != NULL) {
		rc = ctl_config_socket(g->config_path, out, outlen, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "alliancectl: %s\n", err);
			return -1;
		}
		if (rc == 0 && out[0] == '\0') {
			fprintf(stderr, "alliancectl: %s disables the UNIX socket: use --url\n",
			    g->config_path);
			return -1;
		}
		if (rc == 0)
			return 0;
	}
	snprintf(out, outlen, "%s", ALLIANCE_SOCKET_DEFAULT);
	return 0;
}

static int
connect_api(const struct global_opts *g, struct ctl *ctl)
{
	struct api_target t = { NULL, g->url, NULL };
	char path[PATH_MAX], err[256], *token = NULL;

	if (g->url == NULL) {
		if (socket_path(g, path, sizeof(path)) != 0)
			return CTL_USAGE;
		t.socket_path = path;
	}
	if (read_token(g, &token) != 0)
		return CTL_USAGE;
	t.token = token;
	ctl->api = api_new(&t, err, sizeof(err));
	if (token != NULL) {
		memset(token, 0, strlen(token));
		free(token);
	}
	if (ctl->api == NULL) {
		fprintf(stderr, "alliancectl: %s\n", err);
		return CTL_USAGE;
	}
	return CTL_OK;
}

/* Parses the global options; the index of COMMAND, or -1 after usage. */
static int
parse_globals(int argc, char **argv, struct global_opts *g, int *early)
{
	static const struct option opts[] = { { "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' }, { "url", required_argument, NULL, 'U' },
		{ "token-file", required_argument, NULL, 'T' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 } };
	int c;

	*early = -1;
	while ((c = getopt_long(argc, argv, "+s:c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 's': g->socket_path = optarg; break;
		case 'c': g->config_path = optarg; break;
		case 'U': g->url = optarg; break;
		case 'T': g->token_file = optarg; break;
		case 'j': g->json = true; break;
		case 'h':
			usage(stdout);
			*early = CTL_OK;
			return -1;
		case 'V': *early = cmd_version_exec(NULL, 0, NULL); return -1;
		default:
			usage(stderr);
			*early = CTL_USAGE;
			return -1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		*early = CTL_USAGE;
		return -1;
	}
	return optind;
}

/* Takes --json and --help out of the command's arguments (before "--");
 * returns the new argc. */
static int
strip_common(int argc, char **argv, struct global_opts *g, bool *help)
{
	int i, n = 0;
	bool rest = false;

	for (i = 0; i < argc; i++) {
		if (!rest && strcmp(argv[i], "--") == 0)
			rest = true;
		if (!rest && i > 0 && strcmp(argv[i], "--json") == 0) {
			g->json = true;
			continue;
		}
		if (!rest && i > 0 &&
		    (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
			*help = true;
			continue;
		}
		argv[n++] = argv[i];
	}
	argv[n] = NULL;
	return n;
}

int
main(int argc, char **argv)
{
	struct global_opts g = { 0 };
	struct out out;
	struct ctl ctl = { "alliancectl", NULL, NULL, &out };
	const struct cmd_entry *e;
	int first, early, words, rc;
	bool help = false;

	setlocale(LC_ALL, ""); /* libsmartcols prints UTF-8 only in a UTF-8 locale */
	first = parse_globals(argc, argv, &g, &early);
	if (first < 0)
		return early;
	argc -= first;
	argv += first;
	e = find_entry(argc, argv, &words);
	if (e == NULL) {
		if (group_help(argc > 1 &&
		                (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		            ? stdout
		            : stderr,
		        argv[0]) == 0)
			return argc > 1 && strcmp(argv[1], "--help") == 0 ? CTL_OK : CTL_USAGE;
		fprintf(stderr, "alliancectl: unknown command \"%s\"\n", argv[0]);
		usage(stderr);
		return CTL_USAGE;
	}
	argc -= words - 1;
	argv += words - 1;
	argc = strip_common(argc, argv, &g, &help);
	if (help) {
		entry_help(stdout, e);
		return CTL_OK;
	}
	out_init(&out, g.json);
	ctl.config_path = g.config_path;
	if (!(e->flags & CMD_LOCAL)) {
		rc = connect_api(&g, &ctl);
		if (rc != CTL_OK)
			return rc;
	}
	optind = 0; /* each command parses its own options from argv[0] */
	rc = e->exec(&ctl, argc, argv);
	api_free(ctl.api);
	return rc;
}
