/* config.c — the table of config keys and the libyaml loader.
 *
 * Every key lives in keys[] below, once, with its type, field, reload flag,
 * default (as YAML text) and range. Defaults, loading, diffing, freeing and
 * the documentation test all walk that one table. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

enum config_type {
	CT_INT,      /* decimal integer in [min, max] */
	CT_DOUBLE,   /* finite number in [min, max] */
	CT_BOOL,     /* true | false */
	CT_STRING,   /* string, length in [min, max] bytes */
	CT_HOSTPORT, /* "host:port" or "" */
	CT_SOCKPATH, /* path of at most max bytes, or "" */
	CT_MODE,     /* octal file mode "0660", at most max */
	CT_LOGLEVEL, /* debug | info | warning | error */
	CT_WORDS,    /* list of snake_case names, at most max entries */
};

#define CF_RELOAD 1u /* applied by a SIGHUP; otherwise needs a restart */

struct config_key {
	const char *name; /* "section.key" */
	enum config_type type;
	size_t offset; /* of the field in struct config */
	unsigned flags;
	const char *def; /* default, as YAML text (CT_WORDS: space-separated) */
	double min, max;
};

#define OFF(f) offsetof(struct config, f)
#define R      CF_RELOAD

static const struct config_key keys[] = {
	{ "listen.tcp", CT_HOSTPORT, OFF(listen_tcp), 0, "127.0.0.1:7420", 0, 0 },
	/* 107: sizeof(sockaddr_un.sun_path) minus the NUL on Linux */
	{ "listen.unix", CT_SOCKPATH, OFF(listen_unix), 0, "/run/allianced/allianced.sock", 0,
	    107 },
	{ "listen.unix_mode", CT_MODE, OFF(listen_unix_mode), 0, "0660", 0, 0777 },
	{ "listen.unix_group", CT_STRING, OFF(listen_unix_group), 0, "", 0, 64 },
	{ "listen.tls_cert", CT_STRING, OFF(listen_tls_cert), 0, "", 0, 4096 },
	{ "listen.tls_key", CT_STRING, OFF(listen_tls_key), 0, "", 0, 4096 },
	{ "listen.allow_plaintext", CT_BOOL, OFF(listen_allow_plaintext), 0, "false", 0, 0 },
	{ "listen.allowed_hosts", CT_STRING, OFF(listen_allowed_hosts), 0,
	    "localhost 127.0.0.1 [::1]", 0, 1024 },

	{ "database.url", CT_STRING, OFF(db_url), 0, "postgresql:///alliance", 1, 4096 },
	{ "database.pool_size", CT_INT, OFF(db_pool_size), 0, "4", 1, 64 },
	{ "database.connect_timeout", CT_INT, OFF(db_connect_timeout), 0, "5", 1, 300 },
	{ "database.migrate_url", CT_STRING, OFF(db_migrate_url), 0, "", 0, 4096 },
	{ "database.statement_timeout_ms", CT_INT, OFF(db_statement_timeout_ms), 0, "0", 0,
	    600000 },

	{ "limits.max_body_bytes", CT_INT, OFF(max_body_bytes), R, "65536", 1024, 16777216 },
	{ "limits.max_header_bytes", CT_INT, OFF(max_header_bytes), R, "8192", 1024, 1048576 },
	{ "limits.request_timeout", CT_INT, OFF(request_timeout), R, "10", 1, 600 },
	{ "limits.idle_timeout", CT_INT, OFF(idle_timeout), R, "60", 1, 3600 },
	{ "limits.max_connections", CT_INT, OFF(max_connections), R, "512", 1, 65536 },
	{ "limits.max_json_depth", CT_INT, OFF(max_json_depth), R, "16", 2, 64 },
	{ "limits.request_read_timeout", CT_INT, OFF(request_read_timeout), R, "30", 1, 600 },
	{ "limits.max_connections_per_peer", CT_INT, OFF(max_connections_per_peer), R, "64", 1,
	    65536 },
	{ "limits.unix_reserved_connections", CT_INT, OFF(unix_reserved_connections), R, "16", 0,
	    1024 },
	{ "limits.max_sessions", CT_INT, OFF(max_sessions), R, "500", 1, 10000 },

	/* Webhook (issue 13): one receiver; need a restart. */
	{ "webhook.name", CT_STRING, OFF(webhook.name), 0, "intake", 1, 63 },
	{ "webhook.url", CT_STRING, OFF(webhook.url), 0, "", 0, 2048 },
	{ "webhook.secret_file", CT_STRING, OFF(webhook.secret_file), 0, "", 0, 4096 },
	{ "webhook.events", CT_STRING, OFF(webhook.events), 0, "", 0, 1024 },
	{ "webhook.timeout", CT_INT, OFF(webhook.timeout), 0, "10", 1, 300 },
	{ "webhook.retry_base_ms", CT_INT, OFF(webhook.retry_base_ms), 0, "1000", 10, 3600000 },
	{ "webhook.retry_max_ms", CT_INT, OFF(webhook.retry_max_ms), 0, "3600000", 10, 86400000 },
	{ "webhook.horizon", CT_INT, OFF(webhook.horizon), 0, "86400", 1, 2592000 },

	{ "log.level", CT_LOGLEVEL, OFF(log_level), R, "info", 0, 0 },

	{ "security.allow_root", CT_BOOL, OFF(allow_root), 0, "false", 0, 0 },
	{ "security.token_rate", CT_DOUBLE, OFF(token_rate), R, "50", 0, 1000000 },
	{ "security.token_burst", CT_INT, OFF(token_burst), R, "200", 1, 1000000 },

	{ "engine.weight_concerns", CT_DOUBLE, OFF(engine_weight_concerns), R, "3", 0, 100 },
	{ "engine.weight_modality", CT_DOUBLE, OFF(engine_weight_modality), R, "1.5", 0, 100 },
	{ "engine.weight_style", CT_DOUBLE, OFF(engine_weight_style), R, "1", 0, 100 },
	{ "engine.weight_identity", CT_DOUBLE, OFF(engine_weight_identity), R, "1", 0, 100 },
	{ "engine.weight_gender", CT_DOUBLE, OFF(engine_weight_gender), R, "1", 0, 100 },
	{ "engine.weight_availability", CT_DOUBLE, OFF(engine_weight_availability), R, "1.5", 0,
	    100 },
	{ "engine.weight_alliance_record", CT_DOUBLE, OFF(engine_weight_alliance_record), R, "2", 0,
	    100 },
	{ "engine.weight_outcome_record", CT_DOUBLE, OFF(engine_weight_outcome_record), R, "2", 0,
	    100 },
	{ "engine.weight_capacity", CT_DOUBLE, OFF(engine_weight_capacity), R, "0.5", 0, 100 },
	{ "engine.min_overlap_hours", CT_INT, OFF(engine_min_overlap_hours), R, "1", 0, 168 },
	{ "engine.record_prior_weight", CT_DOUBLE, OFF(engine_record_prior_weight), R, "20", 0,
	    10000 },
	{ "engine.concern_prior_weight", CT_DOUBLE, OFF(engine_concern_prior_weight), R, "10", 0,
	    10000 },
	{ "engine.record_min_episodes", CT_INT, OFF(engine_record_min_episodes), R, "5", 1, 1000 },
	{ "engine.default_limit", CT_INT, OFF(engine_default_limit), R, "5", 1, 100 },
	{ "engine.max_limit", CT_INT, OFF(engine_max_limit), R, "50", 1, 1000 },
	{ "engine.colleague_bonus", CT_DOUBLE, OFF(engine_colleague_bonus), R, "10", 0, 100 },
	{ "engine.records_refresh", CT_INT, OFF(engine_records_refresh), R, "60", 1, 3600 },

	{ "alliance.threshold_alliance5", CT_DOUBLE, OFF(alliance_threshold_alliance5), R, "70", 0,
	    100 },
	{ "alliance.threshold_srs", CT_DOUBLE, OFF(alliance_threshold_srs), R, "90", 0, 100 },
	{ "alliance.threshold_wai_sr", CT_DOUBLE, OFF(alliance_threshold_wai_sr), R, "62.5", 0,
	    100 },
	{ "alliance.trust_floor", CT_DOUBLE, OFF(alliance_trust_floor), R, "70", 0, 100 },
	{ "alliance.affect_threshold", CT_DOUBLE, OFF(alliance_affect_threshold), R, "6", 0, 10 },
	{ "alliance.min_sessions", CT_INT, OFF(alliance_min_sessions), R, "3", 1, 20 },
	{ "alliance.strained_drop", CT_DOUBLE, OFF(alliance_strained_drop), R, "15", 0, 100 },
	{ "alliance.ewma_alpha", CT_DOUBLE, OFF(alliance_ewma_alpha), R, "0.5", 0.01, 1 },
	{ "alliance.ors_cutoff", CT_DOUBLE, OFF(alliance_ors_cutoff), R, "25", 0, 40 },
	{ "alliance.ors_reliable_change", CT_DOUBLE, OFF(alliance_ors_reliable_change), R, "5", 1,
	    40 },
	{ "alliance.item_flag_max", CT_DOUBLE, OFF(alliance_item_flag_max), R, "3", 0, 10 },
	{ "alliance.repair_window", CT_INT, OFF(alliance_repair_window), R, "6", 1, 16 },

	{ "vocabulary.concerns", CT_WORDS, OFF(vocab_concerns), R,
	    "anxiety depression trauma grief relationships couples family substance_use eating "
	    "ocd bipolar adhd self_esteem stress life_transitions identity parenting anger sleep "
	    "chronic_illness",
	    0, 128 },
	{ "vocabulary.modalities", CT_WORDS, OFF(vocab_modalities), R,
	    "cbt dbt act emdr psychodynamic person_centered ifs schema mindfulness "
	    "solution_focused narrative gottman eft somatic exposure motivational_interviewing",
	    0, 128 },
	{ "vocabulary.formats", CT_WORDS, OFF(vocab_formats), R, "in_person video phone", 0, 128 },
	{ "vocabulary.populations", CT_WORDS, OFF(vocab_populations), R,
	    "child teen adult older_adult couple family", 0, 128 },
	{ "vocabulary.identity", CT_WORDS, OFF(vocab_identity), R,
	    "lgbtq_affirming bipoc faith_based neurodivergent_affirming veteran_informed", 0, 128 },
};

#undef R
#undef OFF

#define NKEYS          (sizeof keys / sizeof keys[0])
#define MAX_FILE_BYTES (1024 * 1024) /* a config is a few KB; refuse surprises */
#define WORD_MAX       32

size_t
config_key_count(void)
{
	return NKEYS;
}
const char *
config_key_name(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}
const char *
config_key_default(size_t i)
{
	return i < NKEYS ? keys[i].def : NULL;
}
bool
config_key_reloadable(size_t i)
{
	return i < NKEYS && (keys[i].flags & CF_RELOAD);
}

static void *
field(struct config *cfg, const struct config_key *k)
{
	return (char *)cfg + k->offset;
}

static const void *
cfield(const struct config *cfg, const struct config_key *k)
{
	return (const char *)cfg + k->offset;
}

/* ---- value parsers: text -> field; on error a message without position ---- */

static void
vocab_clear(struct config_vocab *v)
{
	for (size_t i = 0; i < v->count; i++)
		free(v->names[i]);
	free(v->names);
	v->names = NULL;
	v->count = 0;
}

bool
config_vocab_has(const struct config_vocab *v, const char *name)
{
	for (size_t i = 0; i < v->count; i++)
		if (strcmp(v->names[i], name) == 0)
			return true;
	return false;
}

static int
set_string(char **dst, const char *s)
{
	char *copy = strdup(s);
	if (!copy)
		return -1;
	free(*dst);
	*dst = copy;
	return 0;
}

static int
parse_int(const char *s, long long *out)
{
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	errno = 0;
	long long v = strtoll(s, NULL, 10);
	if (errno == ERANGE)
		v = (*s == '-') ? LLONG_MIN : LLONG_MAX; /* reported as out of range */
	*out = v;
	return 0;
}

static int
parse_double(const char *s, double *out)
{
	/* strtod also takes "nan", "inf" and hex; a config wants plain decimals */
	if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
		return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || end == s || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

static bool
valid_host(const char *h, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		        c == '.' || c == '-'))
			return false;
	}
	return true;
}

static bool
valid_ipv6(const char *h, size_t n)
{
	if (n < 2 || memchr(h, ':', n) == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF:.", h[i]))
			return false;
	return true;
}

static bool
valid_hostport(const char *s)
{
	const char *colon;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':' || !valid_ipv6(s + 1, (size_t)(close - s - 1)))
			return false;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || !valid_host(s, (size_t)(colon - s)))
			return false;
	}
	long long port;
	if (colon[1] == '+' || colon[1] == '-' || parse_int(colon + 1, &port) < 0)
		return false;
	return port >= 1 && port <= 65535;
}

static bool
valid_word(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > WORD_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static void
range_msg(const struct config_key *k, char *msg, size_t len)
{
	if (k->type == CT_INT)
		snprintf(msg, len, "must be between %lld and %lld", (long long)k->min,
		    (long long)k->max);
	else
		snprintf(msg, len, "must be between %g and %g", k->min, k->max);
}

/* Parse scalar TEXT for key K into CFG. Returns 0, -1 with MSG set, or -2 on
 * out of memory. */
static int
set_scalar(struct config *cfg, const struct config_key *k, const char *text, char *msg, size_t len)
{
	void *dst = field(cfg, k);

	switch (k->type) {
	case CT_INT: {
		long long v;
		if (parse_int(text, &v) < 0) {
			snprintf(msg, len, "expected an integer");
			return -1;
		}
		if (v < (long long)k->min || v > (long long)k->max) {
			range_msg(k, msg, len);
			return -1;
		}
		*(int *)dst = (int)v;
		return 0;
	}
	case CT_DOUBLE: {
		double v;
		if (parse_double(text, &v) < 0) {
			snprintf(msg, len, "expected a number");
			return -1;
		}
		if (v < k->min || v > k->max) {
			range_msg(k, msg, len);
			return -1;
		}
		*(double *)dst = v;
		return 0;
	}
	case CT_BOOL:
		if (strcmp(text, "true") == 0)
			*(bool *)dst = true;
		else if (strcmp(text, "false") == 0)
			*(bool *)dst = false;
		else {
			snprintf(msg, len, "expected true or false");
			return -1;
		}
		return 0;
	case CT_STRING:
		if (strlen(text) < (size_t)k->min || strlen(text) > (size_t)k->max) {
			snprintf(msg, len, "must be %lld to %lld bytes long", (long long)k->min,
			    (long long)k->max);
			return -1;
		}
		return set_string(dst, text) < 0 ? -2 : 0;
	case CT_HOSTPORT:
		if (*text && !valid_hostport(text)) {
			snprintf(msg, len,
			    "expected \"host:port\" (e.g. \"127.0.0.1:7420\" or "
			    "\"[::1]:7420\", port 1..65535), or \"\" to disable");
			return -1;
		}
		return set_string(dst, text) < 0 ? -2 : 0;
	case CT_SOCKPATH:
		if (strlen(text) > (size_t)k->max) {
			snprintf(msg, len, "socket path must be at most %lld bytes",
			    (long long)k->max);
			return -1;
		}
		return set_string(dst, text) < 0 ? -2 : 0;
	case CT_MODE: {
		/* exactly "0" + three octal digits: "660" or 432 would be ambiguous */
		long v = -1;
		if (strlen(text) == 4 && text[0] == '0' && strspn(text, "01234567") == 4)
			v = strtol(text, NULL, 8);
		if (v < 0 || v > (long)k->max) {
			snprintf(msg, len, "expected an octal file mode like \"0660\"");
			return -1;
		}
		*(int *)dst = (int)v;
		return 0;
	}
	case CT_LOGLEVEL:
		for (int l = LOG_DEBUG; l <= LOG_ERROR; l++)
			if (strcmp(text, log_level_name((enum log_level)l)) == 0) {
				*(enum log_level *)dst = (enum log_level)l;
				return 0;
			}
		snprintf(msg, len, "expected one of debug, info, warning, error");
		return -1;
	case CT_WORDS: break;
	}
	snprintf(msg, len, "expected a list");
	return -1;
}

/* Append WORD to the list of key K. Returns 0, -1 with MSG set, -2 on OOM. */
static int
words_add(struct config_vocab *v, const struct config_key *k, const char *word, char *msg,
    size_t len)
{
	if (!valid_word(word)) {
		snprintf(msg, len,
		    "\"%.40s\" is not a valid name (lowercase a-z, 0-9 and _, "
		    "1 to %d characters)",
		    word, WORD_MAX);
		return -1;
	}
	if (config_vocab_has(v, word)) {
		snprintf(msg, len, "duplicate entry \"%s\" in %s", word, k->name);
		return -1;
	}
	if (v->count >= (size_t)k->max) {
		snprintf(msg, len, "%s has more than %lld entries", k->name, (long long)k->max);
		return -1;
	}
	char **names = realloc(v->names, (v->count + 1) * sizeof *names);
	if (!names)
		return -2;
	v->names = names;
	if (!(names[v->count] = strdup(word)))
		return -2;
	v->count++;
	return 0;
}

/* ---- defaults, free, compare ---- */

/* systemd's LoadCredential=database_url:FILE hands the URL (and its
 * password) to the service alone, as $CREDENTIALS_DIRECTORY/database_url;
 * an empty credential (SetCredential= default) means none.  0 when absent,
 * 1 when url was filled, -1 on a read error. */
static int
read_database_credential(char *url, size_t size)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char path[4096];
	FILE *f;
	size_t n;

	if (dir == NULL || *dir == '\0')
		return 0;
	snprintf(path, sizeof(path), "%s/database_url", dir);
	f = fopen(path, "r");
	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	n = fread(url, 1, size - 1, f);
	fclose(f);
	while (n > 0 && (url[n - 1] == '\n' || url[n - 1] == '\r' || url[n - 1] == ' '))
		n--;
	url[n] = '\0';
	return n > 0 ? 1 : 0;
}

static int
apply_env(struct config *cfg)
{
	const char *url = getenv("ALLIANCE_DATABASE_URL");
	char cred[4097];
	int rc;

	if (url && *url)
		return set_string(&cfg->db_url, url);
	rc = read_database_credential(cred, sizeof(cred));
	if (rc < 0)
		return -1;
	if (rc > 0)
		return set_string(&cfg->db_url, cred);
	return 0;
}

static int
set_default(struct config *cfg, const struct config_key *k)
{
	char msg[256];

	if (k->type != CT_WORDS)
		return set_scalar(cfg, k, k->def, msg, sizeof msg) == 0 ? 0 : -1;

	struct config_vocab *v = field(cfg, k);
	char word[WORD_MAX + 2];
	const char *p = k->def;
	vocab_clear(v);
	while (*p) {
		size_t n = strcspn(p, " ");
		if (n > 0) {
			if (n > WORD_MAX)
				return -1;
			memcpy(word, p, n);
			word[n] = '\0';
			if (words_add(v, k, word, msg, sizeof msg) != 0)
				return -1;
		}
		p += n;
		p += strspn(p, " ");
	}
	return 0;
}

/* ---- webhooks: the section's one mapping or each item of its list ---- */

static void
webhooks_clear(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nwebhooks; i++) {
		struct config_webhook *w = &cfg->webhooks[i];
		free(w->name);
		free(w->url);
		free(w->secret_file);
		free(w->events);
	}
	free(cfg->webhooks);
	cfg->webhooks = NULL;
	cfg->nwebhooks = 0;
}

/* Appends a copy of W to cfg->webhooks; 0 or -1 (out of memory). */
static int
webhooks_add(struct config *cfg, const struct config_webhook *w)
{
	struct config_webhook *grown, *d;

	grown = realloc(cfg->webhooks, (cfg->nwebhooks + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	cfg->webhooks = grown;
	d = &grown[cfg->nwebhooks];
	*d = *w;
	d->name = strdup(w->name);
	d->url = strdup(w->url);
	d->secret_file = strdup(w->secret_file);
	d->events = strdup(w->events);
	cfg->nwebhooks++;
	if (!d->name || !d->url || !d->secret_file || !d->events)
		return -1; /* cleared with the rest by webhooks_clear */
	return 0;
}

static bool
webhooks_equal(const struct config *a, const struct config *b)
{
	if (a->nwebhooks != b->nwebhooks)
		return false;
	for (size_t i = 0; i < a->nwebhooks; i++) {
		const struct config_webhook *x = &a->webhooks[i], *y = &b->webhooks[i];
		if (strcmp(x->name, y->name) || strcmp(x->url, y->url) ||
		    strcmp(x->secret_file, y->secret_file) || strcmp(x->events, y->events) ||
		    x->timeout != y->timeout || x->retry_base_ms != y->retry_base_ms ||
		    x->retry_max_ms != y->retry_max_ms || x->horizon != y->horizon)
			return false;
	}
	return true;
}

static int
webhooks_copy(struct config *dst, const struct config *src)
{
	webhooks_clear(dst);
	for (size_t i = 0; i < src->nwebhooks; i++)
		if (webhooks_add(dst, &src->webhooks[i]) < 0)
			return -1;
	return 0;
}

void
config_free(struct config *cfg)
{
	if (!cfg)
		return;
	webhooks_clear(cfg);
	for (size_t i = 0; i < NKEYS; i++) {
		const struct config_key *k = &keys[i];
		switch (k->type) {
		case CT_STRING:
		case CT_HOSTPORT:
		case CT_SOCKPATH: free(*(char **)field(cfg, k)); break;
		case CT_WORDS: vocab_clear(field(cfg, k)); break;
		default: break;
		}
	}
	free(cfg);
}

struct config *
config_new_defaults(void)
{
	struct config *cfg = calloc(1, sizeof *cfg);
	if (!cfg)
		return NULL;
	for (size_t i = 0; i < NKEYS; i++)
		if (set_default(cfg, &keys[i]) < 0)
			goto fail;
	if (apply_env(cfg) < 0)
		goto fail;
	return cfg;
fail:
	config_free(cfg);
	return NULL;
}

static bool
key_equal(const struct config *a, const struct config *b, const struct config_key *k)
{
	const void *x = cfield(a, k), *y = cfield(b, k);

	switch (k->type) {
	case CT_INT:
	case CT_MODE: return *(const int *)x == *(const int *)y;
	case CT_DOUBLE: return *(const double *)x == *(const double *)y;
	case CT_BOOL: return *(const bool *)x == *(const bool *)y;
	case CT_LOGLEVEL: return *(const enum log_level *)x == *(const enum log_level *)y;
	case CT_STRING:
	case CT_HOSTPORT:
	case CT_SOCKPATH: return strcmp(*(char *const *)x, *(char *const *)y) == 0;
	case CT_WORDS: {
		const struct config_vocab *v = x, *w = y;
		if (v->count != w->count)
			return false;
		for (size_t i = 0; i < v->count; i++)
			if (strcmp(v->names[i], w->names[i]) != 0)
				return false;
		return true;
	}
	}
	return false;
}

static int
diff(const struct config *a, const struct config *b, bool restart_only, char *buf, size_t len)
{
	int n = 0;
	size_t used = 0;

	if (buf && len)
		buf[0] = '\0';
	for (size_t i = 0; i < NKEYS; i++) {
		if (restart_only && (keys[i].flags & CF_RELOAD))
			continue;
		if (key_equal(a, b, &keys[i]))
			continue;
		if (buf && used < len) {
			int w =
			    snprintf(buf + used, len - used, "%s%s", n ? ", " : "", keys[i].name);
			if (w > 0)
				used += (size_t)w;
		}
		n++;
	}
	/* A webhook list is compared as a whole (it needs a restart). */
	if (!webhooks_equal(a, b)) {
		bool flat = false;
		for (size_t i = 0; i < NKEYS && !flat; i++)
			flat =
			    strncmp(keys[i].name, "webhook.", 8) == 0 && !key_equal(a, b, &keys[i]);
		if (!flat) { /* the list changed, not a key of the mapping */
			if (buf && used < len) {
				int w =
				    snprintf(buf + used, len - used, "%swebhook", n ? ", " : "");
				if (w > 0)
					used += (size_t)w;
			}
			n++;
		}
	}
	return n;
}

int
config_restart_needed(const struct config *old, const struct config *new, char *buf, size_t len)
{
	return diff(old, new, true, buf, len);
}

int
config_diff(const struct config *a, const struct config *b, char *buf, size_t len)
{
	return diff(a, b, false, buf, len);
}

int
config_keep_restart_keys(struct config *new, const struct config *old)
{
	if (!webhooks_equal(new, old) && webhooks_copy(new, old) < 0)
		return -1;
	for (size_t i = 0; i < NKEYS; i++) {
		const struct config_key *k = &keys[i];
		if ((k->flags & CF_RELOAD) || key_equal(new, old, k))
			continue;
		void *dst = field(new, k);
		const void *src = cfield(old, k);
		switch (k->type) {
		case CT_INT:
		case CT_MODE: *(int *)dst = *(const int *)src; break;
		case CT_DOUBLE: *(double *)dst = *(const double *)src; break;
		case CT_BOOL: *(bool *)dst = *(const bool *)src; break;
		case CT_LOGLEVEL: *(enum log_level *)dst = *(const enum log_level *)src; break;
		case CT_STRING:
		case CT_HOSTPORT:
		case CT_SOCKPATH:
			if (set_string(dst, *(char *const *)src) < 0)
				return -1;
			break;
		case CT_WORDS: {
			const struct config_vocab *from = src;
			struct config_vocab copy = { NULL, 0 };
			char msg[128];
			for (size_t j = 0; j < from->count; j++)
				if (words_add(&copy, k, from->names[j], msg, sizeof msg) != 0) {
					vocab_clear(&copy);
					return -1;
				}
			vocab_clear(dst);
			*(struct config_vocab *)dst = copy;
			break;
		}
		}
	}
	return 0;
}

/* ---- the loader ---- */

struct load {
	const char *path;
	char *err;
	size_t errlen;
	yaml_document_t *doc;
	struct config *cfg;
	bool seen[NKEYS];        /* duplicate-key detection */
	yaml_mark_t mark[NKEYS]; /* where each key was set, for cross-key errors */
	bool webhook_list;       /* the webhook section was a list */
};

static int fail_at(struct load *ld, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail_at(struct load *ld, yaml_mark_t m, const char *fmt, ...)
{
	if (ld->err && ld->errlen) {
		int n = snprintf(ld->err, ld->errlen, "%s:%zu:%zu: ", ld->path, m.line + 1,
		    m.column + 1);
		if (n >= 0 && (size_t)n < ld->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -1;
}

/* Levenshtein distance, for "did you mean"; SIZE_MAX when a name is too long. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[65];
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static size_t
section_len(const char *name)
{
	return strcspn(name, ".");
}

static bool
in_section(const struct config_key *k, const char *sec, size_t seclen)
{
	return section_len(k->name) == seclen && strncmp(k->name, sec, seclen) == 0;
}

static bool
known_section(const char *sec)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (in_section(&keys[i], sec, strlen(sec)))
			return true;
	return false;
}

static const char *
node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE: return "a mapping";
	case YAML_SEQUENCE_NODE: return "a list";
	default: return "a value";
	}
}

/* Scalar text of N, or NULL when N is not a scalar or holds a NUL byte. */
static const char *
scalar(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE)
		return NULL;
	const char *s = (const char *)n->data.scalar.value;
	return strlen(s) == n->data.scalar.length ? s : NULL;
}

static bool
is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *s = (const char *)n->data.scalar.value;
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	    !strcmp(s, "NULL");
}

static const char *
type_noun(enum config_type t)
{
	switch (t) {
	case CT_INT: return "an integer";
	case CT_DOUBLE: return "a number";
	case CT_BOOL: return "true or false";
	case CT_WORDS: return "a list of names";
	case CT_STRING:
	case CT_HOSTPORT:
	case CT_SOCKPATH:
	case CT_MODE:
	case CT_LOGLEVEL: break;
	}
	return "a string";
}

static int
load_words(struct load *ld, const struct config_key *k, yaml_node_t *val, yaml_mark_t keymark)
{
	struct config_vocab *v = field(ld->cfg, k);
	char msg[256];

	if (val->type != YAML_SEQUENCE_NODE)
		return fail_at(ld, is_null(val) ? keymark : val->start_mark,
		    "%s: expected a list of names, got %s", k->name,
		    is_null(val) ? "nothing" : node_kind(val));
	vocab_clear(v); /* a list in the file replaces the default list */
	for (yaml_node_item_t *it = val->data.sequence.items.start;
	     it < val->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(ld->doc, *it);
		const char *s = scalar(item);
		if (!s || is_null(item))
			return fail_at(ld, item->start_mark, "%s: expected a name, got %s", k->name,
			    is_null(item) ? "nothing" : node_kind(item));
		int r = words_add(v, k, s, msg, sizeof msg);
		if (r == -2)
			return fail_at(ld, item->start_mark, "out of memory");
		if (r < 0)
			return fail_at(ld, item->start_mark, "%s", msg);
	}
	return 0;
}

/* KEYMARK: where the key is, for a value that is missing (null). */
static int
load_value(struct load *ld, const struct config_key *k, yaml_node_t *val, yaml_mark_t keymark)
{
	char msg[256];

	if (k->type == CT_WORDS)
		return load_words(ld, k, val, keymark);
	const char *s = scalar(val);
	if (!s || is_null(val)) {
		bool str = k->type == CT_HOSTPORT || k->type == CT_SOCKPATH;
		return fail_at(ld, is_null(val) ? keymark : val->start_mark,
		    "%s: expected %s, got %s%s", k->name, type_noun(k->type),
		    is_null(val) ? "nothing" : node_kind(val),
		    str ? " (write \"\" to disable)" : "");
	}
	int r = set_scalar(ld->cfg, k, s, msg, sizeof msg);
	if (r == -2)
		return fail_at(ld, val->start_mark, "out of memory");
	if (r < 0)
		return fail_at(ld, val->start_mark, "%s: %s", k->name, msg);
	return 0;
}

static int
unknown_key(struct load *ld, const char *sec, const char *name, yaml_mark_t m)
{
	size_t seclen = strlen(sec), best = SIZE_MAX, besti = 0;

	for (size_t i = 0; i < NKEYS; i++) {
		if (!in_section(&keys[i], sec, seclen))
			continue;
		size_t d = edit_distance(name, keys[i].name + seclen + 1);
		if (d < best) {
			best = d;
			besti = i;
		}
	}
	if (best <= 2)
		return fail_at(ld, m, "unknown key \"%s\" in section \"%s\" (did you mean \"%s\"?)",
		    name, sec, keys[besti].name + seclen + 1);
	/* the right key in the wrong section */
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name + section_len(keys[i].name) + 1, name) == 0)
			return fail_at(ld, m,
			    "unknown key \"%s\" in section \"%s\" "
			    "(did you mean \"%s\"?)",
			    name, sec, keys[i].name);
	return fail_at(ld, m, "unknown key \"%s\" in section \"%s\"", name, sec);
}

static int
load_section(struct load *ld, const char *sec, yaml_node_t *map)
{
	size_t seclen = strlen(sec);

	if (is_null(map))
		return 0; /* "engine:" with nothing under it: keep the defaults */
	if (map->type != YAML_MAPPING_NODE)
		return fail_at(ld, map->start_mark,
		    "section \"%s\": expected a mapping of keys, "
		    "got %s",
		    sec, node_kind(map));
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(ld->doc, p->value);
		const char *name = scalar(kn);
		if (!name || !*name)
			return fail_at(ld, kn->start_mark, "section \"%s\": expected a key name",
			    sec);
		size_t i;
		for (i = 0; i < NKEYS; i++)
			if (in_section(&keys[i], sec, seclen) &&
			    strcmp(keys[i].name + seclen + 1, name) == 0)
				break;
		if (i == NKEYS)
			return unknown_key(ld, sec, name, kn->start_mark);
		if (ld->seen[i])
			return fail_at(ld, kn->start_mark,
			    "duplicate key \"%s\" (first set at "
			    "line %zu)",
			    keys[i].name, ld->mark[i].line + 1);
		ld->seen[i] = true;
		ld->mark[i] = kn->start_mark;
		if (load_value(ld, &keys[i], vn, kn->start_mark) < 0)
			return -1;
	}
	return 0;
}

/* webhook: a list of mappings, each read like the section's one mapping (the
 * same keys, defaults and checks) into a config of its own, then copied. */
static int
load_webhook_list(struct load *ld, yaml_node_t *list)
{
	size_t n = 0;

	ld->webhook_list = true;
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++, n++) {
		yaml_node_t *item = yaml_document_get_node(ld->doc, *it);
		struct load sub;
		struct config_webhook w;
		int rc;

		memset(&sub, 0, sizeof sub);
		sub.path = ld->path;
		sub.err = ld->err;
		sub.errlen = ld->errlen;
		sub.doc = ld->doc;
		if (item->type != YAML_MAPPING_NODE)
			return fail_at(ld, item->start_mark,
			    "webhook: expected a list of mappings (one receiver each), got %s",
			    node_kind(item));
		if (!(sub.cfg = config_new_defaults()))
			return fail_at(ld, item->start_mark, "out of memory");
		rc = load_section(&sub, "webhook", item);
		w = sub.cfg->webhook;
		if (rc == 0 && !*w.url)
			rc = fail_at(ld, item->start_mark, "webhook (item %zu): url is required",
			    n + 1);
		for (size_t i = 0; rc == 0 && i < ld->cfg->nwebhooks; i++)
			if (strcmp(ld->cfg->webhooks[i].name, w.name) == 0)
				rc = fail_at(ld, item->start_mark,
				    "webhook (item %zu): name \"%s\" is already item %zu's", n + 1,
				    w.name, i + 1);
		if (rc == 0 && webhooks_add(ld->cfg, &w) < 0)
			rc = fail_at(ld, item->start_mark, "out of memory");
		config_free(sub.cfg);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static size_t
key_index(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return i;
	return 0; /* not reached: names below are in the table */
}

/* Where to report a rule between two keys: the later of those the file set. */
static yaml_mark_t
later_mark(const struct load *ld, size_t a, size_t b)
{
	yaml_mark_t none = { 0, 0, 0 };
	if (ld->seen[a] && (!ld->seen[b] || ld->mark[a].index > ld->mark[b].index))
		return ld->mark[a];
	return ld->seen[b] ? ld->mark[b] : none;
}

/* Rules between keys, checked once the whole file is read. */
static int
check_cross(struct load *ld)
{
	const struct config *c = ld->cfg;

	if (c->engine_default_limit > c->engine_max_limit) {
		size_t a = key_index("engine.default_limit"), b = key_index("engine.max_limit");
		return fail_at(ld, later_mark(ld, a, b),
		    "engine.default_limit (%d) must not "
		    "exceed engine.max_limit (%d)",
		    c->engine_default_limit, c->engine_max_limit);
	}
	if (!*c->listen_tcp && !*c->listen_unix) {
		size_t a = key_index("listen.tcp"), b = key_index("listen.unix");
		return fail_at(ld, later_mark(ld, a, b),
		    "listen.tcp and listen.unix are both "
		    "disabled: the daemon would accept no connections");
	}
	return 0;
}

static int
load_root(struct load *ld, yaml_node_t *root)
{
	bool seen_sec[NKEYS] = { false }; /* indexed by the section's first key */

	if (!root || is_null(root))
		return 0; /* an empty file means all defaults */
	if (root->type != YAML_MAPPING_NODE)
		return fail_at(ld, root->start_mark,
		    "expected a mapping of sections (listen, "
		    "database, limits, log, security, engine, alliance, vocabulary), got %s",
		    node_kind(root));
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(ld->doc, p->value);
		const char *sec = scalar(kn);
		if (!sec || !*sec || strchr(sec, '.'))
			return fail_at(ld, kn->start_mark, "expected a section name");
		if (!known_section(sec)) {
			const char *best = NULL;
			size_t bestd = 3;
			for (size_t i = 0; i < NKEYS; i++) {
				char name[64];
				size_t n = section_len(keys[i].name);
				snprintf(name, sizeof name, "%.*s", (int)n, keys[i].name);
				size_t d = edit_distance(sec, name);
				if (d < bestd) {
					bestd = d;
					best = keys[i].name;
				}
			}
			if (best)
				return fail_at(ld, kn->start_mark,
				    "unknown section \"%s\" (did you "
				    "mean \"%.*s\"?)",
				    sec, (int)section_len(best), best);
			return fail_at(ld, kn->start_mark,
			    "unknown section \"%s\" (sections: "
			    "listen, database, limits, log, security, engine, "
			    "alliance, vocabulary)",
			    sec);
		}
		size_t first;
		for (first = 0; !in_section(&keys[first], sec, strlen(sec)); first++)
			;
		if (seen_sec[first])
			return fail_at(ld, kn->start_mark, "duplicate section \"%s\"", sec);
		seen_sec[first] = true;
		if (strcmp(sec, "webhook") == 0 && vn->type == YAML_SEQUENCE_NODE) {
			if (load_webhook_list(ld, vn) < 0)
				return -1;
			continue;
		}
		if (load_section(ld, sec, vn) < 0)
			return -1;
	}
	if (!ld->webhook_list && *ld->cfg->webhook.url) {
		yaml_mark_t none = { 0, 0, 0 };
		if (webhooks_add(ld->cfg, &ld->cfg->webhook) < 0)
			return fail_at(ld, none, "out of memory");
	}
	return check_cross(ld);
}

/* libyaml's own error, with its position (1-based). */
static int
parser_error(struct load *ld, const yaml_parser_t *parser, const char *text)
{
	if (parser->error == YAML_MEMORY_ERROR) {
		yaml_mark_t none = { 0, 0, 0 };
		return fail_at(ld, none, "out of memory");
	}
	if (parser->error == YAML_READER_ERROR) {
		/* only a byte offset (e.g. invalid UTF-8): count lines ourselves */
		yaml_mark_t m = { parser->problem_offset, 0, 0 };
		for (size_t i = 0; i < parser->problem_offset && text[i]; i++) {
			if (text[i] == '\n') {
				m.line++;
				m.column = 0;
			} else {
				m.column++;
			}
		}
		return fail_at(ld, m, "%s", parser->problem ? parser->problem : "invalid input");
	}
	if (parser->context)
		return fail_at(ld, parser->problem_mark, "%s (%s at line %zu, column %zu)",
		    parser->problem ? parser->problem : "syntax error", parser->context,
		    parser->context_mark.line + 1, parser->context_mark.column + 1);
	return fail_at(ld, parser->problem_mark, "%s",
	    parser->problem ? parser->problem : "syntax error");
}

static char *
read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;

	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (!(buf = malloc(MAX_FILE_BYTES + 1))) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	n = fread(buf, 1, MAX_FILE_BYTES + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		goto fail;
	}
	if (n > MAX_FILE_BYTES) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, MAX_FILE_BYTES);
		goto fail;
	}
	buf[n] = '\0';
	fclose(f);
	*len = n;
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

struct config *
config_load(const char *path, char *errbuf, size_t errlen)
{
	char scratch[1];
	struct load ld;
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	bool parser_ok = false, doc_ok = false;
	size_t len;
	char *text = NULL;

	if (!errbuf || !errlen) {
		errbuf = scratch;
		errlen = sizeof scratch;
	}
	errbuf[0] = '\0';
	memset(&ld, 0, sizeof ld);
	ld.path = path;
	ld.err = errbuf;
	ld.errlen = errlen;
	ld.doc = &doc;

	if (!(text = read_file(path, &len, errbuf, errlen)))
		return NULL;
	if (!(ld.cfg = config_new_defaults())) {
		snprintf(errbuf, errlen, "%s: out of memory", path);
		goto fail;
	}
	if (!yaml_parser_initialize(&parser)) {
		snprintf(errbuf, errlen, "%s: out of memory", path);
		goto fail;
	}
	parser_ok = true;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		parser_error(&ld, &parser, text);
		goto fail;
	}
	doc_ok = true;
	if (load_root(&ld, yaml_document_get_root_node(&doc)) < 0)
		goto fail;

	/* a second "---" document would be silently ignored: refuse it */
	if (!yaml_parser_load(&parser, &extra)) {
		parser_error(&ld, &parser, text);
		goto fail;
	}
	yaml_node_t *more = yaml_document_get_root_node(&extra);
	if (more) {
		fail_at(&ld, more->start_mark, "only one YAML document is allowed");
		yaml_document_delete(&extra);
		goto fail;
	}
	yaml_document_delete(&extra);

	/* the environment wins over the file (secrets stay out of the file) */
	if (apply_env(ld.cfg) < 0) {
		snprintf(errbuf, errlen, "%s: database_url credential: %s", path, strerror(errno));
		goto fail;
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	free(text);
	return ld.cfg;
fail:
	if (doc_ok)
		yaml_document_delete(&doc);
	if (parser_ok)
		yaml_parser_delete(&parser);
	config_free(ld.cfg);
	free(text);
	return NULL;
}
