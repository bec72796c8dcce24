/*
 * webhook.h - delivers the events to one receiver, signed the Standard
 * Webhooks way (README "Events").
 *
 * Each round leases a connection, BEGINs and locks the webhook's cursor row
 * FOR UPDATE SKIP LOCKED (another daemon holding it: try again in a second),
 * reads the first event past the cursor and POSTs it with libcurl's multi
 * interface on the event loop, the transaction still open.  A 2xx moves the
 * cursor and commits; a failure records the attempt and its backoff
 * (retry_base_ms doubling to retry_max_ms) and commits; an event failing for
 * longer than the horizon is dead-lettered (webhook_dead) and the cursor
 * moves on.  A daemon killed mid-delivery rolls back: the event is sent
 * again.  Events are sent one at a time in id order.
 *
 * Headers: webhook-id "evt_<id>" (the same on every attempt), webhook-timestamp
 * (Unix seconds of the attempt), webhook-signature "v1,<base64 HMAC-SHA256 of
 * id.timestamp.body>" keyed with the secret's bytes (base64-decoded after a
 * "whsec_" prefix, else the file's bytes without a final newline).
 *
 * Replays (webhook_replays, queued by POST /v1/events/{id}/replay with a
 * NOTIFY on 'alliance_webhooks') go before the cursor's next event once
 * due, with the event's own webhook-id and their own attempts and backoff.
 * A ping (POST /v1/webhooks/{name}/test) is a signed "webhook.ping" sent at
 * once beside the deliveries, with a fresh webhook-id; nothing is stored.
 *
 * Ownership: the daemon owns the webhook; settings strings are copied.
 */
#ifndef ALLIANCE_WEBHOOK_H
#define ALLIANCE_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "api/webhook_ops.h"
#include "base/compiler.h"

struct db_pool;
struct event_base;
struct logger;

struct webhook_settings {
	struct event_base *base;
	struct db_pool *db;
	const struct logger *log;
	const char *name, *url, *secret_file, *events;
	int timeout;       /* seconds */
	int retry_base_ms; /* first backoff */
	int retry_max_ms;
	int horizon; /* seconds */
};

struct webhook_stats {
	uint64_t delivered, retried, dead; /* by this daemon since start */
	/* clock_now() when the oldest event not yet delivered was created, as
	 * this daemon last saw it; 0 none (or not known here). */
	double undelivered_since;
};

/* NULL on a bad setting (err says which) or out of memory. */
struct webhook *webhook_new(const struct webhook_settings *s, char *err, size_t errlen);
/* LISTENs for new events and starts the first round; 0 or -1. */
MUSTCHECK int webhook_start(struct webhook *w);
void webhook_free(struct webhook *w);
void webhook_stats(const struct webhook *w, struct webhook_stats *out);
const char *webhook_name(const struct webhook *w);

/* Sends a signed ping; done(arg, result) runs once on the loop (also when
 * the webhook is freed first: "the daemon is stopping").  NULL out of
 * memory.  The ping is the webhook's until done runs or it is cancelled. */
struct webhook_ping *webhook_ping(struct webhook *w, webhook_ping_done_fn done, void *arg);
/* Drops a ping before its answer; done does not run. */
void webhook_ping_cancel(struct webhook_ping *p);

/* The signature header's value for id, timestamp and body into out (>= 64
 * bytes): "v1,BASE64".  0 or -1. */
int webhook_sign(const unsigned char *key, size_t keylen, const char *id, const char *ts,
    const char *body, size_t bodylen, char *out, size_t outlen);

#endif
