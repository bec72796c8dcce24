/*
 * alliancectl.c - the admin CLI's entry point and its command table.
 *
 * Commands are looked up in one table, tmux style; each entry names its
 * usage and its handler.  The admin commands proper arrive with the CLI
 * issue; this is the frame they slot into.
 */
#include <stdio.h>
#include <string.h>

struct ctl_command {
	const char *name;
	const char *usage;
	const char *help;
	int (*exec)(int argc, char **argv);
};

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct ctl_command commands[] = {
	{ "help", "help", "show this text", cmd_help },
	{ "version", "version", "print the version", cmd_version },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *out)
{
	size_t i;

	fprintf(out,
	    "Usage: alliancectl [--help | --version] COMMAND [ARGS]\n"
	    "\n"
	    "Admin CLI of the Alliance daemon (allianced).\n"
	    "\n"
	    "Commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-24s %s\n", commands[i].usage, commands[i].help);
}

static int
cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("alliancectl %s\n", ALLIANCE_VERSION);
	return 0;
}

static int
cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(argc - 1, argv + 1);
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return cmd_version(argc - 1, argv + 1);
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].exec(argc - 1, argv + 1);
	fprintf(stderr, "alliancectl: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
