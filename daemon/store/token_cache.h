/*
 * token_cache.h - the live API tokens of api_tokens, in memory.
 *
 * Holds the SHA-256 of every token that is neither revoked nor expired,
 * with its name, scope and expiry; never a token itself.  Reloaded whole
 * when api_tokens changes (NOTIFY alliance_tokens, sent by a trigger) and
 * each time the LISTEN is (re)established, so a revocation reaches every
 * daemon within a second.  Lookups compare digests in constant time
 * (CRYPTO_memcmp).  Uses are marked in memory and written to last_used_at
 * in one statement every few seconds, not once per request.
 *
 * Ownership: token_cache_new ... token_cache_free; the pool, base and
 * logger are borrowed; free it after the pool (the pool calls its
 * callbacks until then).
 */
#ifndef ALLIANCE_TOKEN_CACHE_H
#define ALLIANCE_TOKEN_CACHE_H

#include <stdbool.h>

#include "base/log.h"

struct event_base;
struct db_pool;
struct token_cache;

#define TOKEN_CACHE_DIGEST_LEN 32

struct token_cache_settings {
	struct event_base *base;
	struct db_pool *db;
	const struct logger *log;
	int flush_interval; /* seconds between last_used_at writes, >= 1 */
};

/* One live token. */
struct token_entry {
	unsigned char digest[TOKEN_CACHE_DIGEST_LEN];
	char name[101];
	int scope;      /* 1 intake, 2 feedback, 3 admin */
	double expires; /* wall-clock epoch seconds; 0 = never */
	bool used;      /* since the last last_used_at write */
};

struct token_cache *token_cache_new(const struct token_cache_settings *set);
/* LISTENs and starts the first load; 0 or -1. */
int token_cache_start(struct token_cache *tc);
void token_cache_free(struct token_cache *tc);
/* The first load has completed (readiness). */
bool token_cache_ready(const struct token_cache *tc);
/* 1 and *out copied when a live token has DIGEST; 0 when none.  Every entry
 * is compared, in constant time, whatever matches. */
int token_cache_lookup(struct token_cache *tc, const unsigned char digest[TOKEN_CACHE_DIGEST_LEN],
    struct token_entry *out);
/* Marks NAME used; written with the next flush. */
void token_cache_used(struct token_cache *tc, const char *name);

#endif
