/*
 * main.c - allianced's command line: run, --check-config, --migrate.
 */
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon_run.h"
#include "store/migrate.h"

#define DEFAULT_CONFIG "/etc/alliance/allianced.yaml"

static void
usage(FILE *out)
{
	fprintf(out,
	    "Usage: allianced [-c FILE] [--check-config | --migrate]\n"
	    "\n"
	    "Alliance therapist-matching daemon: serves the HTTP/JSON API on the\n"
	    "TCP and UNIX listeners of the configuration, in the foreground.\n"
	    "\n"
	    "Options:\n"
	    "  -c, --config FILE   configuration file (default " DEFAULT_CONFIG ")\n"
	    "      --check-config  validate FILE, print errors as file:line:column, exit 0 or 1\n"
	    "      --migrate       apply the missing database migrations and exit (as\n"
	    "                      database.migrate_url, the schema owner, when set)\n"
	    "  -h, --help          this text\n"
	    "  -V, --version       print the version\n"
	    "\n"
	    "Environment:\n"
	    "  ALLIANCE_DATABASE_URL  overrides database.url\n"
	    "  CREDENTIALS_DIRECTORY  its database_url file (systemd LoadCredential=)\n"
	    "                         overrides database.url when the variable above is unset\n"
	    "\n"
	    "Refuses to run as root unless the config says security.allow_root: true.\n"
	    "\n"
	    "Signals: SIGTERM/SIGINT finish in-flight requests and exit 0;\n"
	    "SIGHUP reloads the configuration (a bad file is refused, the old one kept).\n");
}

static int
do_migrate(const struct config *cfg)
{
	char err[512];
	int applied = 0;

	/* The schema owner migrates; the daemon runs as the runtime role. */
	const char *url = cfg->db_migrate_url[0] != '\0' ? cfg->db_migrate_url : cfg->db_url;

	if (migrate_apply(url, cfg->db_connect_timeout, err, sizeof(err), &applied) != 0) {
		fprintf(stderr, "allianced: migrate: %s\n", err);
		return 1;
	}
	fprintf(stderr, "allianced: migrations: %d applied, schema at version %d\n", applied,
	    migrate_latest_version());
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' }, { "migrate", no_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 } };
	const char *path = DEFAULT_CONFIG;
	int check = 0, migrate = 0, c, rc;
	struct config *cfg;
	struct daemon *d;
	char err[512];

#ifdef __GLIBC__
	/* A fixed mmap threshold: glibc raises its default one to the size of
	 * every mmapped block freed, so after the first full reload the next
	 * catalog's arrays (megabytes at network scale) come from the heap and
	 * RSS kept 4 MB more per reload at 100k therapists.  Blocks of 1 MiB and
	 * more stay mmapped and go back to the system when freed. */
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
#endif
	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'C': check = 1; break;
		case 'M': migrate = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("allianced %s\n", ALLIANCE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || (check && migrate)) {
		usage(stderr);
		return 2;
	}
	cfg = config_load(path, err, sizeof(err));
	if (cfg == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check) {
		printf("%s: ok\n", path);
		config_free(cfg);
		return 0;
	}
	if (migrate) {
		rc = do_migrate(cfg);
		config_free(cfg);
		return rc;
	}
	d = daemon_new(path, cfg);
	if (d == NULL) {
		fprintf(stderr, "allianced: out of memory\n");
		return 1;
	}
	rc = daemon_run(d);
	daemon_free(d);
	return rc;
}
