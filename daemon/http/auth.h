/*
 * auth.h - who is calling, and may they call this route (README "Security").
 *
 * A request is authenticated by one of two things:
 * - a bearer token (Authorization: Bearer TOKEN): its SHA-256 is looked up
 *   through the lookup callback given at creation (the token cache lives in
 *   the store layer; this layer never sees the database) and compared in
 *   constant time;
 * - on the UNIX socket only, the peer's credentials (SO_PEERCRED): root and
 *   the daemon's own uid are admin without a token.
 * A token's scope covers routes of that scope; admin covers every route.
 * Each token has a token bucket (rate, burst): an empty bucket is 429.
 *
 * Ownership: struct auth is its creator's (auth_new ... auth_free); the
 * settings' callbacks and arg are borrowed and must outlive it.
 */
#ifndef ALLIANCE_AUTH_H
#define ALLIANCE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/compiler.h"

struct evhttp_request;

#define AUTH_DIGEST_LEN  32  /* SHA-256 */
#define AUTH_TOKEN_BYTES 32  /* 256 random bits */
#define AUTH_TOKEN_LEN   68  /* "alc_" + 64 hex digits */
#define AUTH_ACTOR_MAX   112 /* "token:" + a name of up to 100 bytes, or "uid:N" */

/* What a token grants; the values match enum scope of router.h (1..3). */
struct auth_token {
	char name[101];
	int scope;      /* 1 intake, 2 feedback, 3 admin */
	double expires; /* wall-clock seconds since the epoch; 0 = never */
};

/* 1 and *out filled when a live token has this digest, 0 when none. */
typedef int (*auth_lookup_fn)(void *arg, const unsigned char digest[AUTH_DIGEST_LEN],
    struct auth_token *out);
/* A token was used (for last_used_at; the store batches the writes). */
typedef void (*auth_used_fn)(void *arg, const char *name);

struct auth_settings {
	auth_lookup_fn lookup;
	auth_used_fn used; /* may be NULL */
	void *arg;
	uid_t daemon_uid; /* its peers on the UNIX socket are admin */
	double rate;      /* requests per second per token; 0 = no limit */
	int burst;        /* bucket size */
};

/* The result of a check, kept on the request for handlers and the audit. */
struct auth_result {
	char actor[AUTH_ACTOR_MAX]; /* "token:NAME", "uid:N", or "" */
	char peer[72];              /* "127.0.0.1:5555", "[::1]:5555", "unix:uid=N" */
	int scope;                  /* what the caller holds; 0 = nothing */
	bool via_unix;
};

enum auth_status {
	AUTH_OK,
	AUTH_UNAUTHORIZED, /* 401: no, bad, expired or revoked token */
	AUTH_FORBIDDEN,    /* 403: the token's scope does not cover the route */
	AUTH_RATE_LIMITED, /* 429: *retry_after seconds */
};

struct auth *auth_new(const struct auth_settings *set);
void auth_free(struct auth *a);
/* SIGHUP: a new rate and burst (buckets keep their level, capped at burst). */
void auth_set_rate(struct auth *a, double rate, int burst);

/* Who sent REQ and whether they may call a route of scope NEED (> 0);
 * out is always filled (actor "" when unknown).  now is wall-clock seconds. */
enum auth_status auth_check(struct auth *a, struct evhttp_request *req, int need, double now,
    struct auth_result *out, int *retry_after);

/* The peer of REQ only (routes without a scope, and the audit). */
void auth_peer(struct evhttp_request *req, struct auth_result *out);

/* SHA-256 of a token's text. */
void auth_token_digest(const char *token, unsigned char out[AUTH_DIGEST_LEN]);
/* A new random token, "alc_" + 64 hex digits, NUL-terminated in out
 * (AUTH_TOKEN_LEN + 1 bytes); -1 when the random source failed. */
MUSTCHECK int auth_token_generate(char out[AUTH_TOKEN_LEN + 1]);

#endif
