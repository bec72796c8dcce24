/*
 * ctl.h - what every alliancectl command shares: the exit codes, the
 * command entry (tmux's cmd_entry: one per command, beside its handler) and
 * the run context a command receives.
 *
 * Ownership: main() owns the struct ctl and everything in it; a command
 * borrows it for the length of its exec() call and frees only what it
 * allocates itself.  The const entries are the only file-level state.
 */
#ifndef CTL_H
#define CTL_H

#include <stdbool.h>

/* Exit codes (listed in --help and alliancectl(1)). */
enum ctl_exit {
	CTL_OK = 0,           /* done */
	CTL_USAGE = 1,        /* bad command line, unreadable input file */
	CTL_REFUSED = 2,      /* the daemon refused: validation, not found, conflict */
	CTL_UNAVAILABLE = 3,  /* the daemon is unreachable or not ready */
	CTL_UNAUTHORISED = 4, /* 401 or 403 */
};

struct api;
struct out;

/* The run context: global options, the API connection, the output mode. */
struct ctl {
	const char *prog;        /* borrowed: "alliancectl" */
	const char *config_path; /* borrowed from argv: -c FILE, or NULL */
	struct api *api;         /* owned by main(); NULL for CMD_LOCAL commands */
	struct out *out;         /* owned by main() */
};

/* An entry's flags. */
#define CMD_LOCAL 0x1 /* runs without the daemon's API (no connection set up) */

struct cmd_entry {
	const char *name;    /* one or two words: "status", "therapist list" */
	const char *args;    /* arguments after the name, for usage lines */
	const char *summary; /* one line for the command list */
	const char *help;    /* the options, for `COMMAND --help`, or NULL */
	int flags;           /* CMD_* */
	/* argv[0] is the last word of the name; returns an enum ctl_exit. */
	int (*exec)(struct ctl *ctl, int argc, char **argv);
};

/* The command table (alliancectl.c): NULL-terminated, in --help order. */
extern const struct cmd_entry *const ctl_commands[];

/* Prints "Usage: alliancectl NAME ARGS" and the entry's help to stderr and
 * returns CTL_USAGE: what a command does with a bad command line. */
int cmd_usage(const struct cmd_entry *e);

/* Parses a positive decimal id ("12"); 0 on success, -1 when S is not one. */
int ctl_parse_id(const char *s, long long *id);

#endif
