/* test_config.c — the config table, the libyaml loader and its error
 * positions, and the documented example config/allianced.yaml.
 * Runs from the repository root (reads "config/allianced.yaml"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <yaml.h>

#include "config.h"

#define EXAMPLE "config/allianced.yaml"

/* Write TEXT to a fresh temporary file; its name goes into PATH (>= 64 bytes). */
static void
write_tmp(const char *text, char *path)
{
	strcpy(path, "/tmp/alliance_test_config_XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* Load TEXT from a temp file; the error (if any) goes into ERR, the file
 * name into PATH. The file is removed again. */
static struct config *
load_text(const char *text, char *path, char *err, size_t errlen)
{
	write_tmp(text, path);
	err[0] = '\0';
	struct config *cfg = config_load(path, err, errlen);
	unlink(path);
	return cfg;
}

/* TEXT must fail with exactly "<tmpfile>" + SUFFIX. */
static void
assert_load_error(const char *text, const char *suffix)
{
	char path[64], err[512], want[600];
	struct config *cfg = load_text(text, path, err, sizeof err);
	if (cfg)
		fail_msg("expected an error \"%s\", the file loaded", suffix);
	snprintf(want, sizeof want, "%s%s", path, suffix);
	assert_string_equal(err, want);
}

static struct config *
assert_loads(const char *text)
{
	char path[64], err[512];
	struct config *cfg = load_text(text, path, err, sizeof err);
	if (!cfg)
		fail_msg("expected to load, got: %s", err);
	return cfg;
}

static int
setup(void **state)
{
	(void)state;
	unsetenv("ALLIANCE_DATABASE_URL"); /* the defaults under test, not the runner's */
	return 0;
}

static void
test_defaults_are_the_documented_values(void **state)
{
	(void)state;
	struct config *c = config_new_defaults();
	assert_non_null(c);
	assert_string_equal(c->listen_tcp, "127.0.0.1:7420");
	assert_string_equal(c->listen_unix, "/run/allianced/allianced.sock");
	assert_int_equal(c->listen_unix_mode, 0660);
	assert_string_equal(c->db_url, "postgresql:///alliance");
	assert_int_equal(c->db_pool_size, 4);
	assert_int_equal(c->db_connect_timeout, 5);
	assert_int_equal(c->max_body_bytes, 65536);
	assert_int_equal(c->max_header_bytes, 8192);
	assert_int_equal(c->request_timeout, 10);
	assert_int_equal(c->idle_timeout, 60);
	assert_int_equal(c->max_connections, 512);
	assert_int_equal(c->max_json_depth, 16);
	assert_int_equal(c->log_level, LOG_INFO);
	assert_true(c->engine_weight_concerns == 3.0);
	assert_true(c->engine_weight_modality == 1.5);
	assert_true(c->engine_weight_style == 1.0);
	assert_true(c->engine_weight_identity == 1.0);
	assert_true(c->engine_weight_gender == 1.0);
	assert_true(c->engine_weight_availability == 1.5);
	assert_true(c->engine_weight_alliance_record == 2.0);
	assert_true(c->engine_weight_outcome_record == 2.0);
	assert_true(c->engine_weight_capacity == 0.5);
	assert_int_equal(c->engine_min_overlap_hours, 1);
	assert_true(c->engine_record_prior_weight == 20.0);
	assert_int_equal(c->engine_record_min_episodes, 5);
	assert_int_equal(c->engine_default_limit, 5);
	assert_int_equal(c->engine_max_limit, 50);
	assert_true(c->engine_colleague_bonus == 10.0);
	assert_int_equal(c->engine_records_refresh, 60);
	assert_true(c->alliance_threshold_alliance5 == 70.0);
	assert_true(c->alliance_threshold_srs == 90.0);
	assert_true(c->alliance_threshold_wai_sr == 62.5);
	assert_true(c->alliance_trust_floor == 70.0);
	assert_true(c->alliance_affect_threshold == 6.0);
	assert_int_equal(c->alliance_min_sessions, 3);
	assert_true(c->alliance_strained_drop == 15.0);
	assert_true(c->alliance_ewma_alpha == 0.5);
	assert_true(c->alliance_ors_cutoff == 25.0);
	assert_true(c->alliance_ors_reliable_change == 5.0);
	assert_true(c->alliance_item_flag_max == 3.0);
	assert_int_equal(c->alliance_repair_window, 6);
	assert_true(c->engine_concern_prior_weight == 10.0);
	assert_int_equal(c->vocab_concerns.count, 20);
	assert_string_equal(c->vocab_concerns.names[0], "anxiety");
	assert_string_equal(c->vocab_concerns.names[19], "chronic_illness");
	assert_int_equal(c->vocab_modalities.count, 16);
	assert_true(config_vocab_has(&c->vocab_modalities, "motivational_interviewing"));
	assert_int_equal(c->vocab_formats.count, 3);
	assert_int_equal(c->vocab_populations.count, 6);
	assert_int_equal(c->vocab_identity.count, 5);
	assert_true(config_vocab_has(&c->vocab_identity, "veteran_informed"));
	assert_false(config_vocab_has(&c->vocab_concerns, "gambling"));
	assert_false(c->allow_root);
	assert_true(c->token_rate == 50.0);
	assert_int_equal(c->token_burst, 200);
	assert_string_equal(c->db_migrate_url, "");
	config_free(c);
}

static void
test_key_table(void **state)
{
	(void)state;
	assert_int_equal(config_key_count(),
	    69); /* 47 + 8 transport + 4 security + 2 reliability + 8 webhook */
	assert_string_equal(config_key_name(0), "listen.tcp");
	assert_null(config_key_name(config_key_count()));
	for (size_t i = 0; i < config_key_count(); i++) {
		const char *name = config_key_name(i);
		assert_non_null(strchr(name, '.'));
		assert_non_null(config_key_default(i));
		/* allow_root is checked once, at start */
		bool restart = strncmp(name, "listen.", 7) == 0 ||
		    strncmp(name, "database.", 9) == 0 || strncmp(name, "webhook.", 8) == 0 ||
		    strcmp(name, "security.allow_root") == 0;
		if (config_key_reloadable(i) == restart)
			fail_msg("key %s: wrong reload flag", name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(name, config_key_name(j)) == 0)
				fail_msg("key %s is twice in the table", name);
	}
}

static void
test_example_is_defaults(void **state)
{
	(void)state;
	char err[512], diff[2048];
	struct config *def = config_new_defaults();
	struct config *ex = config_load(EXAMPLE, err, sizeof err);
	if (!ex)
		fail_msg("%s does not load: %s", EXAMPLE, err);
	int n = config_diff(def, ex, diff, sizeof diff);
	if (n != 0)
		fail_msg("%s differs from the defaults in: %s", EXAMPLE, diff);
	assert_int_equal(ex->db_pool_size, 4);
	assert_int_equal(ex->vocab_concerns.count, 20);
	config_free(def);
	config_free(ex);
}

/* Every key of the table must be written out (and commented) in the example,
 * read here with libyaml's event API, independently of the loader. */
static void
test_every_key_documented(void **state)
{
	(void)state;
	FILE *f = fopen(EXAMPLE, "rb");
	if (!f)
		fail_msg("cannot open %s (run from the repository root)", EXAMPLE);
	yaml_parser_t p;
	assert_true(yaml_parser_initialize(&p));
	yaml_parser_set_input_file(&p, f);

	size_t nkeys = config_key_count();
	size_t *line = calloc(nkeys, sizeof *line); /* 1-based; 0 = missing */
	assert_non_null(line);
	char section[64] = "";
	struct {
		bool map, key_next;
	} st[16]; /* open containers */
	int sp = -1;
	bool done = false;
	while (!done) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev))
			fail_msg("%s: YAML error: %s", EXAMPLE, p.problem);
		bool node_done = false;
		switch (ev.type) {
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			assert_true(sp < 15);
			sp++;
			st[sp].map = ev.type == YAML_MAPPING_START_EVENT;
			st[sp].key_next = true;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			sp--;
			node_done = true;
			break;
		case YAML_SCALAR_EVENT: {
			const char *v = (const char *)ev.data.scalar.value;
			if (sp >= 0 && st[sp].map && st[sp].key_next) {
				if (sp == 0)
					snprintf(section, sizeof section, "%s", v);
				if (sp == 1) {
					char full[160];
					snprintf(full, sizeof full, "%s.%s", section, v);
					for (size_t i = 0; i < nkeys; i++)
						if (strcmp(full, config_key_name(i)) == 0)
							line[i] = ev.start_mark.line + 1;
				}
			}
			node_done = true;
			break;
		}
		case YAML_STREAM_END_EVENT: done = true; break;
		default: break;
		}
		if (node_done && sp >= 0 && st[sp].map)
			st[sp].key_next = !st[sp].key_next;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);

	/* each key needs a comment on the line above it */
	rewind(f);
	char buf[512], prev[512] = "";
	size_t lineno = 0;
	char(*above)[512] = calloc(4096, sizeof *above);
	assert_non_null(above);
	while (fgets(buf, sizeof buf, f) && lineno < 4095) {
		lineno++;
		memcpy(above[lineno], prev, sizeof prev);
		memcpy(prev, buf, sizeof buf);
	}
	fclose(f);

	for (size_t i = 0; i < nkeys; i++) {
		if (line[i] == 0)
			fail_msg("key %s is missing from %s", config_key_name(i), EXAMPLE);
		const char *a = above[line[i]];
		a += strspn(a, " ");
		if (*a != '#')
			fail_msg("key %s (%s:%zu) has no comment above it", config_key_name(i),
			    EXAMPLE, line[i]);
	}
	free(above);
	free(line);
}

static void
test_unknown_key_position(void **state)
{
	(void)state;
	assert_load_error("listen:\n"
	                  "  tcp: \"127.0.0.1:7420\"\n"
	                  "database:\n"
	                  "  url: \"postgresql:///x\"\n"
	                  "  pool_size: 4\n"
	                  "  connect_timeout: 5\n"
	                  "  pool_sise: 8\n",
	    ":7:3: unknown key \"pool_sise\" in section \"database\" "
	    "(did you mean \"pool_size\"?)");
	/* far from every key: no suggestion */
	assert_load_error("log:\n    colour: red\n",
	    ":2:5: unknown key \"colour\" in section \"log\"");
	/* the right key in the wrong section */
	assert_load_error("limits:\n  pool_size: 3\n",
	    ":2:3: unknown key \"pool_size\" in section \"limits\" "
	    "(did you mean \"database.pool_size\"?)");
}

static void
test_unknown_section(void **state)
{
	(void)state;
	assert_load_error("log:\n  level: info\nlisen:\n  tcp: \"\"\n",
	    ":3:1: unknown section \"lisen\" (did you mean \"listen\"?)");
	assert_load_error("metrics: {}\n",
	    ":1:1: unknown section \"metrics\" (sections: listen, database, "
	    "limits, log, security, engine, alliance, vocabulary)");
}

static void
test_wrong_type(void **state)
{
	(void)state;
	assert_load_error("database:\n  pool_size: four\n",
	    ":2:14: database.pool_size: expected an integer");
	assert_load_error("database:\n  pool_size: 4.5\n",
	    ":2:14: database.pool_size: expected an integer");
	assert_load_error("alliance:\n  ewma_alpha: half\n",
	    ":2:15: alliance.ewma_alpha: expected a number");
	assert_load_error("alliance:\n  ewma_alpha: nan\n",
	    ":2:15: alliance.ewma_alpha: expected a number");
	assert_load_error("limits:\n  max_connections: [1, 2]\n",
	    ":2:20: limits.max_connections: expected an integer, got a list");
	assert_load_error("limits: 5\n",
	    ":1:9: section \"limits\": expected a mapping of keys, got a value");
	assert_load_error("vocabulary:\n  formats: video\n",
	    ":2:12: vocabulary.formats: expected a list of names, got a value");
	assert_load_error("listen:\n  tcp:\n",
	    ":2:3: listen.tcp: expected a string, got nothing (write \"\" to disable)");
}

static void
test_out_of_range(void **state)
{
	(void)state;
	assert_load_error("database:\n  pool_size: 65\n",
	    ":2:14: database.pool_size: must be between 1 and 64");
	assert_load_error("database:\n  pool_size: 0\n",
	    ":2:14: database.pool_size: must be between 1 and 64");
	assert_load_error("limits:\n  max_body_bytes: 99999999999999999999999\n",
	    ":2:19: limits.max_body_bytes: must be between 1024 and 16777216");
	assert_load_error("alliance:\n  ewma_alpha: 0\n",
	    ":2:15: alliance.ewma_alpha: must be between 0.01 and 1");
	assert_load_error("engine:\n  weight_style: 100.5\n",
	    ":2:17: engine.weight_style: must be between 0 and 100");
	/* the edges are in range */
	struct config *c = assert_loads("database:\n  pool_size: 64\nalliance:\n"
	                                "  ewma_alpha: 0.01\n  threshold_wai_sr: 100\n");
	assert_int_equal(c->db_pool_size, 64);
	assert_true(c->alliance_ewma_alpha == 0.01);
	assert_true(c->alliance_threshold_wai_sr == 100.0);
	config_free(c);
}

static void
test_log_level(void **state)
{
	(void)state;
	assert_load_error("log:\n  level: verbose\n",
	    ":2:10: log.level: expected one of debug, info, warning, error");
	assert_load_error("log:\n  level: INFO\n",
	    ":2:10: log.level: expected one of debug, info, warning, error");
	struct config *c = assert_loads("log:\n  level: warning\n");
	assert_int_equal(c->log_level, LOG_WARNING);
	config_free(c);
	c = assert_loads("log: {level: debug}\n");
	assert_int_equal(c->log_level, LOG_DEBUG);
	config_free(c);
}

static void
test_unix_mode(void **state)
{
	(void)state;
	static const char *const bad[] = { "\"0999\"", "\"660\"", "\"01777\"", "rw-rw----",
		"\"0660x\"", "432", "\"\"" };
	char text[128];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "listen:\n  unix_mode: %s\n", bad[i]);
		assert_load_error(text,
		    ":2:14: listen.unix_mode: expected an octal file mode "
		    "like \"0660\"");
	}
	struct config *c = assert_loads("listen:\n  unix_mode: \"0600\"\n");
	assert_int_equal(c->listen_unix_mode, 0600);
	config_free(c);
	c = assert_loads("listen:\n  unix_mode: 0777\n"); /* unquoted works too */
	assert_int_equal(c->listen_unix_mode, 0777);
	config_free(c);
}

static void
test_listen_values(void **state)
{
	(void)state;
	static const char *const bad[] = { "localhost", "localhost:0", "localhost:65536", ":7420",
		"host name:80", "[::1]7420", "[zz]:80", "1.2.3.4:-1" };
	char text[256];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "listen:\n  tcp: \"%s\"\n", bad[i]);
		char path[64], err[512];
		struct config *c = load_text(text, path, err, sizeof err);
		if (c)
			fail_msg("listen.tcp \"%s\" was accepted", bad[i]);
		assert_non_null(strstr(err, ":2:8: listen.tcp: expected \"host:port\""));
	}
	struct config *c = assert_loads("listen:\n  tcp: \"[::1]:8080\"\n  unix: \"\"\n");
	assert_string_equal(c->listen_tcp, "[::1]:8080");
	assert_string_equal(c->listen_unix, "");
	config_free(c);
	c = assert_loads("listen:\n  tcp: \"\"\n  unix: .run/a.sock\n");
	assert_string_equal(c->listen_tcp, "");
	assert_string_equal(c->listen_unix, ".run/a.sock");
	config_free(c);
	assert_load_error("listen:\n  tcp: \"\"\n  unix: \"\"\n",
	    ":3:3: listen.tcp and listen.unix are both disabled: the daemon "
	    "would accept no connections");
	char longpath[200];
	memset(longpath, 'a', 108);
	longpath[0] = '/';
	longpath[108] = '\0';
	snprintf(text, sizeof text, "listen:\n  unix: %s\n", longpath);
	assert_load_error(text, ":2:9: listen.unix: socket path must be at most 107 bytes");
}

static void
test_duplicate_key(void **state)
{
	(void)state;
	assert_load_error("limits:\n  idle_timeout: 30\n  idle_timeout: 40\n",
	    ":3:3: duplicate key \"limits.idle_timeout\" (first set at line 2)");
	assert_load_error("log:\n  level: info\nlimits: {}\nlog:\n  level: debug\n",
	    ":4:1: duplicate section \"log\"");
}

static void
test_yaml_syntax_error(void **state)
{
	(void)state;
	assert_load_error("limits:\n  max_body_bytes: 2048\n bad: [\n",
	    ":3:2: did not find expected key (while parsing a block mapping "
	    "at line 1, column 1)");
	assert_load_error("limits:\n\tmax_body_bytes: 2048\n",
	    ":2:1: found character that cannot start any token (while scanning "
	    "for the next token at line 2, column 1)");
	assert_load_error("log: {level: info}\n---\nlog: {}\n",
	    ":3:1: only one YAML document is allowed");
	assert_load_error("- listen\n",
	    ":1:1: expected a mapping of sections (listen, database, limits, "
	    "log, security, engine, alliance, vocabulary), got a list");
	/* a missing file names the file, without a position */
	char err[256];
	assert_null(config_load("/nonexistent/allianced.yaml", err, sizeof err));
	assert_string_equal(err,
	    "/nonexistent/allianced.yaml: cannot open: "
	    "No such file or directory");
	assert_null(config_load("/nonexistent/allianced.yaml", NULL, 0));
}

static void
test_partial_and_empty(void **state)
{
	(void)state;
	struct config *def = config_new_defaults();
	struct config *c = assert_loads("");
	assert_int_equal(config_diff(def, c, NULL, 0), 0);
	config_free(c);
	c = assert_loads("# only a comment\nengine:\n");
	assert_int_equal(config_diff(def, c, NULL, 0), 0);
	config_free(c);
	c = assert_loads("limits:\n  max_json_depth: 32\n");
	char buf[128];
	assert_int_equal(config_diff(def, c, buf, sizeof buf), 1);
	assert_string_equal(buf, "limits.max_json_depth");
	assert_int_equal(c->max_json_depth, 32);
	assert_int_equal(c->max_body_bytes, 65536);
	config_free(c);
	config_free(def);
}

static void
test_cross_key(void **state)
{
	(void)state;
	assert_load_error("engine:\n  default_limit: 60\n",
	    ":2:3: engine.default_limit (60) must not exceed engine.max_limit (50)");
	assert_load_error("engine:\n  default_limit: 10\n  max_limit: 8\n",
	    ":3:3: engine.default_limit (10) must not exceed engine.max_limit (8)");
	struct config *c = assert_loads("engine:\n  max_limit: 100\n  default_limit: 60\n");
	assert_int_equal(c->engine_default_limit, 60);
	config_free(c);
}

static void
test_env_override(void **state)
{
	(void)state;
	setenv("ALLIANCE_DATABASE_URL", "postgresql://u@db.example/alliance", 1);
	struct config *d = config_new_defaults();
	assert_string_equal(d->db_url, "postgresql://u@db.example/alliance");
	struct config *c = assert_loads("database:\n  url: \"postgresql:///fromfile\"\n");
	assert_string_equal(c->db_url, "postgresql://u@db.example/alliance");
	config_free(c);
	config_free(d);
	setenv("ALLIANCE_DATABASE_URL", "", 1); /* empty: ignored */
	c = assert_loads("database:\n  url: \"postgresql:///fromfile\"\n");
	assert_string_equal(c->db_url, "postgresql:///fromfile");
	config_free(c);
	unsetenv("ALLIANCE_DATABASE_URL");
	c = assert_loads("database:\n  url: \"postgresql:///fromfile\"\n");
	assert_string_equal(c->db_url, "postgresql:///fromfile");
	config_free(c);
}

static void
test_vocabulary_override(void **state)
{
	(void)state;
	/* a clinic adds a concern: the list replaces the default one */
	struct config *c = assert_loads(
	    "vocabulary:\n"
	    "  concerns: [anxiety, depression, trauma, grief, relationships, couples,\n"
	    "             family, substance_use, eating, ocd, bipolar, adhd, self_esteem,\n"
	    "             stress, life_transitions, identity, parenting, anger, sleep,\n"
	    "             chronic_illness, gambling]\n"
	    "  formats:\n"
	    "    - video\n");
	assert_int_equal(c->vocab_concerns.count, 21);
	assert_true(config_vocab_has(&c->vocab_concerns, "gambling"));
	assert_string_equal(c->vocab_concerns.names[20], "gambling");
	assert_int_equal(c->vocab_formats.count, 1);
	assert_false(config_vocab_has(&c->vocab_formats, "phone"));
	assert_int_equal(c->vocab_modalities.count, 16); /* untouched */
	config_free(c);

	c = assert_loads("vocabulary:\n  identity: []\n");
	assert_int_equal(c->vocab_identity.count, 0);
	config_free(c);

	assert_load_error("vocabulary:\n  concerns: [anxiety, Gambling]\n",
	    ":2:23: \"Gambling\" is not a valid name (lowercase a-z, 0-9 and _, "
	    "1 to 32 characters)");
	assert_load_error("vocabulary:\n  formats:\n    - video\n    - phone\n    - video\n",
	    ":5:7: duplicate entry \"video\" in vocabulary.formats");
	assert_load_error("vocabulary:\n  formats: [video, [phone]]\n",
	    ":2:20: vocabulary.formats: expected a name, got a list");
	assert_load_error("vocabulary:\n  formats: [\"\"]\n",
	    ":2:13: \"\" is not a valid name (lowercase a-z, 0-9 and _, "
	    "1 to 32 characters)");

	/* at most 128 entries */
	size_t cap = 129 * 8 + 64;
	char *text = malloc(cap);
	assert_non_null(text);
	size_t n = (size_t)snprintf(text, cap, "vocabulary:\n  concerns: [");
	for (int i = 0; i < 129; i++)
		n += (size_t)snprintf(text + n, cap - n, "%sc%d", i ? "," : "", i);
	snprintf(text + n, cap - n, "]\n");
	char path[64], err[512];
	c = load_text(text, path, err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "vocabulary.concerns has more than 128 entries"));
	free(text);
}

/* webhook: one mapping, or a list of mappings with the same keys (issue 13). */
static void
test_webhooks_mapping_or_list(void **state)
{
	(void)state;
	char buf[256];
	struct config *none = config_new_defaults();
	assert_int_equal(none->nwebhooks, 0);

	struct config *one =
	    assert_loads("webhook:\n  url: \"https://intake.example/hook\"\n  secret_file: /s\n");
	assert_int_equal(one->nwebhooks, 1);
	assert_string_equal(one->webhooks[0].name, "intake");
	assert_string_equal(one->webhooks[0].url, "https://intake.example/hook");
	assert_int_equal(one->webhooks[0].horizon, 86400);

	struct config *two = assert_loads("webhook:\n"
	                                  "  - url: \"https://intake.example/hook\"\n"
	                                  "    secret_file: /s1\n"
	                                  "  - name: oncall\n"
	                                  "    url: \"http://pager.local/alliance\"\n"
	                                  "    secret_file: /s2\n"
	                                  "    events: feedback.flagged\n"
	                                  "    horizon: 600\n");
	assert_int_equal(two->nwebhooks, 2);
	assert_string_equal(two->webhooks[0].name, "intake");
	assert_string_equal(two->webhooks[0].events, "");
	assert_string_equal(two->webhooks[1].name, "oncall");
	assert_string_equal(two->webhooks[1].events, "feedback.flagged");
	assert_int_equal(two->webhooks[1].horizon, 600);
	assert_int_equal(two->webhooks[1].timeout, 10); /* the default per item */

	/* the list needs a restart like the mapping; a reload keeps the old one */
	assert_int_equal(config_restart_needed(one, two, buf, sizeof buf), 2);
	assert_string_equal(buf, "webhook.url, webhook.secret_file");
	struct config *other = assert_loads("webhook:\n  - url: \"https://intake.example/hook\"\n"
	                                    "    secret_file: /s1\n");
	assert_int_equal(config_restart_needed(other, two, buf, sizeof buf), 1);
	assert_string_equal(buf, "webhook"); /* a list changed, no key of the mapping */
	config_free(other);
	assert_int_equal(config_keep_restart_keys(two, one), 0);
	assert_int_equal(two->nwebhooks, 1);
	assert_int_equal(config_restart_needed(one, two, buf, sizeof buf), 0);
	config_free(none);
	config_free(one);
	config_free(two);

	assert_load_error("webhook:\n  - url: \"http://a/\"\n  - name: b\n",
	    ":3:5: webhook (item 2): url is required");
	assert_load_error("webhook:\n  - url: \"http://a/\"\n  - url: \"http://b/\"\n",
	    ":3:5: webhook (item 2): name \"intake\" is already item 1's");
	assert_load_error("webhook:\n  - url: \"http://a/\"\n    timeout: 0\n",
	    ":3:14: webhook.timeout: must be between 1 and 300");
	assert_load_error("webhook:\n  - url: \"http://a/\"\n    urll: x\n",
	    ":3:5: unknown key \"urll\" in section \"webhook\" (did you mean \"url\"?)");
	assert_load_error("webhook:\n  - [1, 2]\n",
	    ":2:5: webhook: expected a list of mappings (one receiver each), got a list");
}

static void
test_restart_needed(void **state)
{
	(void)state;
	char buf[256];
	struct config *old = config_new_defaults();
	struct config *same = assert_loads("log:\n  level: debug\nlimits:\n  idle_timeout: 5\n"
	                                   "vocabulary:\n  formats: [video]\n");
	assert_int_equal(config_restart_needed(old, same, buf, sizeof buf), 0);
	assert_string_equal(buf, "");
	assert_int_equal(config_diff(old, same, buf, sizeof buf), 3);
	assert_string_equal(buf, "limits.idle_timeout, log.level, vocabulary.formats");
	config_free(same);

	struct config *new =
	    assert_loads("listen:\n  tcp: \"0.0.0.0:7420\"\n  unix_mode: \"0600\"\n"
	                 "database:\n  pool_size: 8\n"
	                 "log:\n  level: error\n");
	assert_int_equal(config_restart_needed(old, new, buf, sizeof buf), 3);
	assert_string_equal(buf, "listen.tcp, listen.unix_mode, database.pool_size");
	/* a short buffer is truncated but the count stays right */
	char small[12];
	assert_int_equal(config_restart_needed(old, new, small, sizeof small), 3);
	assert_string_equal(small, "listen.tcp,");

	/* what the daemon does after a reload: keep the restart keys in effect */
	assert_int_equal(config_keep_restart_keys(new, old), 0);
	assert_int_equal(config_restart_needed(old, new, buf, sizeof buf), 0);
	assert_string_equal(new->listen_tcp, "127.0.0.1:7420");
	assert_int_equal(new->listen_unix_mode, 0660);
	assert_int_equal(new->db_pool_size, 4);
	assert_int_equal(new->log_level, LOG_ERROR); /* reloadable: the new value */
	config_free(new);
	config_free(old);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_the_documented_values),
		cmocka_unit_test(test_key_table),
		cmocka_unit_test(test_example_is_defaults),
		cmocka_unit_test(test_every_key_documented),
		cmocka_unit_test(test_unknown_key_position),
		cmocka_unit_test(test_unknown_section),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_log_level),
		cmocka_unit_test(test_unix_mode),
		cmocka_unit_test(test_listen_values),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_yaml_syntax_error),
		cmocka_unit_test(test_partial_and_empty),
		cmocka_unit_test(test_cross_key),
		cmocka_unit_test(test_env_override),
		cmocka_unit_test(test_vocabulary_override),
		cmocka_unit_test(test_restart_needed),
		cmocka_unit_test(test_webhooks_mapping_or_list),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
