/*
 * daemon_modes.c - `alliancectl config check` and `alliancectl migrate`:
 * they run the daemon binary's own --check-config and --migrate, so there
 * is one implementation of each.
 *
 * The binary: $ALLIANCED, else allianced next to alliancectl (a build
 * tree), else ../sbin/allianced beside its bin/ (an install), else the
 * configured SBINDIR.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmds.h"

#ifndef ALLIANCE_SBINDIR
#define ALLIANCE_SBINDIR "/usr/local/sbin"
#endif
#ifndef ALLIANCE_CONFIG_DEFAULT
#define ALLIANCE_CONFIG_DEFAULT "/etc/alliance/allianced.yaml"
#endif

static int cmd_config_check_exec(struct ctl *ctl, int argc, char **argv);
static int cmd_migrate_exec(struct ctl *ctl, int argc, char **argv);

const struct cmd_entry cmd_config_check_entry = {
	"config check",
	"[-c FILE]",
	"validate the daemon's configuration (allianced --check-config)",
	"  -c FILE   the configuration (default: the global -c, else " ALLIANCE_CONFIG_DEFAULT ")\n"
	"Errors read FILE:LINE:COLUMN: message.  Exit 2 when the file is invalid.\n"
	"The daemon binary: $ALLIANCED, else allianced beside alliancectl, else\n"
	"../sbin/allianced, else " ALLIANCE_SBINDIR "/allianced.\n",
	CMD_LOCAL,
	cmd_config_check_exec,
};
const struct cmd_entry cmd_migrate_entry = {
	"migrate",
	"[-c FILE]",
	"apply the missing database migrations (allianced --migrate)",
	"  -c FILE   the configuration naming the database (default: the global -c,\n"
	"            else " ALLIANCE_CONFIG_DEFAULT ")\n"
	"Exit 3 when the migrations could not be applied.\n",
	CMD_LOCAL,
	cmd_migrate_exec,
};

/* DIR + TAIL in OUT when it fits and is executable. */
static int
beside(const char *dir, const char *tail, char *out, size_t outlen)
{
	if (strlen(dir) + strlen(tail) >= outlen)
		return 0;
	strcpy(out, dir);
	strcat(out, tail);
	return access(out, X_OK) == 0;
}

/* The daemon binary's path in OUT; -1 after a message. */
static int
find_daemon(const char *prog, char *out, size_t outlen)
{
	const char *env = getenv("ALLIANCED");
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (env != NULL && env[0] != '\0') {
		snprintf(out, outlen, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			if (beside(self, "/allianced", out, outlen) ||
			    beside(self, "/../sbin/allianced", out, outlen))
				return 0;
		}
	}
	snprintf(out, outlen, "%s/allianced", ALLIANCE_SBINDIR);
	if (access(out, X_OK) == 0)
		return 0;
	fprintf(stderr, "%s: the daemon binary allianced was not found (set ALLIANCED)\n", prog);
	return -1;
}

/* Runs the daemon with MODE and the config; its exit status, or -1. */
static int
run_daemon(struct ctl *ctl, const char *mode, const char *config)
{
	char bin[PATH_MAX];
	int status;
	pid_t pid;

	if (find_daemon(ctl->prog, bin, sizeof(bin)) != 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", ctl->prog, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execl(bin, "allianced", mode, "-c", config, (char *)NULL);
		fprintf(stderr, "%s: %s: %s\n", ctl->prog, bin, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			fprintf(stderr, "%s: waitpid: %s\n", ctl->prog, strerror(errno));
			return -1;
		}
	if (!WIFEXITED(status)) {
		fprintf(stderr, "%s: allianced %s was killed by signal %d\n", ctl->prog, mode,
		    WTERMSIG(status));
		return -1;
	}
	return WEXITSTATUS(status);
}

/* -c FILE, else the global -c, else the default; NULL on a usage error. */
static const char *
config_arg(struct ctl *ctl, int argc, char **argv)
{
	const char *path = ctl->config_path != NULL ? ctl->config_path : ALLIANCE_CONFIG_DEFAULT;
	int c;

	while ((c = getopt(argc, argv, "c:")) != -1) {
		if (c != 'c')
			return NULL;
		path = optarg;
	}
	return optind == argc ? path : NULL;
}

static int
cmd_config_check_exec(struct ctl *ctl, int argc, char **argv)
{
	const char *path = config_arg(ctl, argc, argv);
	int rc;

	if (path == NULL)
		return cmd_usage(&cmd_config_check_entry);
	rc = run_daemon(ctl, "--check-config", path);
	if (rc == 0)
		return CTL_OK;
	return rc == 1 ? CTL_REFUSED : CTL_USAGE;
}

static int
cmd_migrate_exec(struct ctl *ctl, int argc, char **argv)
{
	const char *path = config_arg(ctl, argc, argv);
	int rc;

	if (path == NULL)
		return cmd_usage(&cmd_migrate_entry);
	rc = run_daemon(ctl, "--migrate", path);
	if (rc == 0)
		return CTL_OK;
	return rc == 1 ? CTL_UNAVAILABLE : CTL_USAGE;
}
