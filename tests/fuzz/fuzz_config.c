/*
 * fuzz_config.c - a configuration file through config_load (libyaml, the
 * key table, every value check).  Whatever the bytes: no crash, no leak; a
 * refused file always says where and why; an accepted one compares with
 * the defaults (the SIGHUP path) without trouble.
 *
 * config_load reads a path, so each input is written to one temporary file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char input[64];

static void
remove_input(void)
{
	unlink(input);
}

/* One temporary file for every input, removed at exit. */
static const char *
input_path(void)
{
	int fd;

	if (input[0] != '\0')
		return input;
	snprintf(input, sizeof(input), "/tmp/fuzz_config.XXXXXX");
	if ((fd = mkstemp(input)) < 0)
		abort();
	close(fd);
	if (atexit(remove_input) != 0)
		abort();
	return input;
}

static void
write_input(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config *defaults;
	const char *path = input_path();
	struct config *cfg;
	char err[512], diff[512];

	if (defaults == NULL && (defaults = config_new_defaults()) == NULL)
		abort();
	/* The environment would override what the file says. */
	unsetenv("ALLIANCE_DATABASE_URL");
	write_input(path, data, size);
	cfg = config_load(path, err, sizeof(err));
	if (cfg == NULL) {
		if (err[0] == '\0')
			abort(); /* refused without a reason */
		return 0;
	}
	(void)config_restart_needed(defaults, cfg, diff, sizeof(diff));
	(void)config_diff(defaults, cfg, diff, sizeof(diff));
	config_free(cfg);
	return 0;
}

#include "fuzz_replay.h"
