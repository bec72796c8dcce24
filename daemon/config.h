/* config.h — allianced's configuration: one table of keys (config.c), loaded
 * from YAML with libyaml over built-in defaults.
 *
 * Ownership: a struct config owns every string and list inside it; callers
 * read the fields directly and never free or keep pointers into it past
 * config_free(). config_new_defaults()/config_load() return a new config the
 * caller frees with config_free(). A loaded config is immutable: a SIGHUP
 * loads a new one and swaps the pointer (a bad file is refused and the old
 * config kept).
 *
 * The environment variable ALLIANCE_DATABASE_URL, when set and non-empty,
 * overrides database.url (in config_new_defaults and config_load); else a
 * non-empty systemd credential $CREDENTIALS_DIRECTORY/database_url does. */
#ifndef ALLIANCE_CONFIG_H
#define ALLIANCE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "base/log_level.h"

/* One webhook receiver (README "Events"): the webhook section's keys. */
struct config_webhook {
	char *name;        /* names the delivery cursor; alliancectl webhook test NAME */
	char *url;         /* http:// or https:// */
	char *secret_file; /* the signing secret's file (whsec_BASE64 or raw bytes) */
	char *events;      /* event types, space-separated; "" = all */
	int timeout;       /* seconds per attempt */
	int retry_base_ms; /* first backoff; doubles per failed attempt */
	int retry_max_ms;  /* the longest backoff */
	int horizon;       /* seconds of failing before an event is dead-lettered */
};

/* One vocabulary set: lowercase snake_case names, no duplicates, in file order. */
struct config_vocab {
	char **names; /* owned, count entries */
	size_t count;
};

struct config {
	/* listen.* — need a restart */
	char *listen_tcp;        /* "host:port" ("[::1]:7420" for IPv6), or "" = no TCP listener */
	char *listen_unix;       /* socket path, or "" = no UNIX listener */
	int listen_unix_mode;    /* file mode of the socket, e.g. 0660 */
	char *listen_unix_group; /* group of the socket, or "" = the daemon's */
	char *listen_tls_cert;   /* PEM chain for TLS on TCP, or "" = plaintext */
	char *listen_tls_key;    /* its PEM key; the files are re-read on SIGHUP */
	bool listen_allow_plaintext; /* plaintext TCP on a non-loopback address */
	char *listen_allowed_hosts;  /* Host names TCP answers, space-separated */

	/* database.* — need a restart */
	char *db_url;                /* libpq connection string or URI */
	int db_pool_size;            /* connections */
	int db_connect_timeout;      /* seconds */
	char *db_migrate_url;        /* the owner's URL for --migrate; "" = url */
	int db_statement_timeout_ms; /* 0: a little under request_timeout (daemon.c) */

	/* limits.* — reloadable */
	int max_body_bytes;
	int max_header_bytes;
	int request_timeout; /* seconds */
	int idle_timeout;    /* seconds */
	int max_connections;
	int max_json_depth;
	int request_read_timeout;      /* seconds from accept to a complete request */
	int max_connections_per_peer;  /* TCP connections from one address */
	int unix_reserved_connections; /* of max_connections, kept for the UNIX socket */
	int max_sessions;              /* highest session number of an episode */

	/* webhook.* — need a restart (README "Events").  The section is one
	 * mapping (webhook) or a list of mappings with the same keys (one
	 * receiver each); read the receivers from webhooks[], which holds the
	 * mapping's one when its url is set, or every item of the list. */
	struct config_webhook *webhooks; /* owned, nwebhooks entries, unique names */
	size_t nwebhooks;
	struct config_webhook webhook; /* the keys of the one mapping (url "" = none) */

	/* log.* — reloadable */
	enum log_level log_level;

	/* security.* — allow_root needs a restart, the rest is reloadable */
	bool allow_root;   /* may run as uid 0 */
	double token_rate; /* requests per second per token; 0 = no limit */
	int token_burst;   /* a token's bucket */

	/* engine.* — reloadable; weights of docs/matching.md (0..100 each) */
	double engine_weight_concerns;
	double engine_weight_modality;
	double engine_weight_style;
	double engine_weight_identity;
	double engine_weight_gender;
	double engine_weight_availability;
	double engine_weight_alliance_record;
	double engine_weight_outcome_record;
	double engine_weight_capacity;
	int engine_min_overlap_hours;      /* hours per week */
	double engine_record_prior_weight; /* empirical-Bayes prior weight (pseudo-episodes) */
	double
	    engine_concern_prior_weight; /* k_c: pseudo-episodes of a therapist's own record in a concern record */
	int engine_record_min_episodes; /* rated episodes before "strong alliance with past clients" */
	int engine_default_limit;       /* matches returned without ?limit= */
	int engine_max_limit;           /* largest ?limit= accepted */
	double
	    engine_colleague_bonus; /* % of the gap to 100 a trusted colleague closes in referrals */
	int engine_records_refresh; /* seconds between refreshes of every therapist's records */

	/* alliance.* — reloadable; thresholds of docs/alliance.md */
	double alliance_threshold_alliance5; /* index 0..100 */
	double alliance_threshold_srs;
	double alliance_threshold_wai_sr;
	double alliance_trust_floor;      /* trust signal 0..100 */
	double alliance_affect_threshold; /* negative_feelings 0..10 */
	int alliance_min_sessions;
	double
	    alliance_strained_drop; /* score points below the highest of the three sessions before */
	double alliance_ewma_alpha;
	double alliance_ors_cutoff;          /* ORS total 0..40 */
	double alliance_ors_reliable_change; /* ORS points */
	double alliance_item_flag_max;       /* item (0..10) at or below = the flag it mirrors */
	int alliance_repair_window;          /* rated sessions a poor one holds "repaired" */

	/* vocabulary.* — reloadable */
	struct config_vocab vocab_concerns;
	struct config_vocab vocab_modalities;
	struct config_vocab vocab_formats;
	struct config_vocab vocab_populations;
	struct config_vocab vocab_identity;
};

/* The built-in defaults (plus the environment override). NULL on out of memory. */
struct config *config_new_defaults(void);

/* Load FILE over the defaults. On error returns NULL and writes
 * "file:line:column: message" (1-based) into errbuf (errbuf may be NULL).
 * Only a file that cannot be read gives "file: message" without a position. */
struct config *config_load(const char *path, char *errbuf, size_t errlen);

void config_free(struct config *cfg);

/* After a SIGHUP: writes into buf a human list of keys that changed but need a
 * restart (not reloadable), e.g. "listen.tcp, database.pool_size"; returns
 * their count (buf is truncated, always NUL-terminated, when too small). */
int config_restart_needed(const struct config *old, const struct config *new, char *buf,
    size_t len);

/* Like config_restart_needed, for every key (what a reload changed). */
int config_diff(const struct config *a, const struct config *b, char *buf, size_t len);

/* Copy the values of the keys that need a restart from OLD into NEW, so that a
 * reloaded config describes what is really in effect. 0, or -1 on out of memory
 * (NEW is then still valid but may hold some of its own values). */
int config_keep_restart_keys(struct config *new, const struct config *old);

/* True when NAME is in the vocabulary set. */
bool config_vocab_has(const struct config_vocab *v, const char *name);

/* Iterate the key table ("section.key" names, in table order). */
size_t config_key_count(void);
const char *config_key_name(size_t i);
const char *config_key_default(size_t i); /* the default as written in YAML */
bool config_key_reloadable(size_t i);

#endif
