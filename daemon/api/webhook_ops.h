/*
 * webhook_ops.h - what the routes may ask of the process's webhooks, which
 * live above them (daemon/webhook.c): a signed ping for
 * POST /v1/webhooks/{name}/test, and the name a replay goes to by default.
 *
 * Ownership: the daemon owns the ops and the webhooks behind them; a ping's
 * handle is owned by the webhook until done runs or cancel is called,
 * whichever comes first (never both).
 */
#ifndef ALLIANCE_WEBHOOK_OPS_H
#define ALLIANCE_WEBHOOK_OPS_H

/* How a ping went.  Strings are borrowed for the duration of the call. */
struct webhook_ping_result {
	const char *webhook; /* the name */
	const char *id;      /* the webhook-id it carried */
	long status;         /* the receiver's HTTP status; 0 none */
	const char *error;   /* NULL on a 2xx, else why not */
	double seconds;      /* from sending to the answer */
};

typedef void (*webhook_ping_done_fn)(void *arg, const struct webhook_ping_result *res);

struct webhook_ping;

struct webhook_ops {
	/* Sends a signed "webhook.ping" through the webhook named name; done
	 * runs once, later, on the event loop.  NULL when no webhook of this
	 * daemon has that name (or out of memory: *unknown says which). */
	struct webhook_ping *(
	    *ping)(void *ctx, const char *name, webhook_ping_done_fn done, void *arg, int *unknown);
	/* Drops a ping whose requester went away; done will not run. */
	void (*cancel)(void *ctx, struct webhook_ping *p);
	const char *default_name; /* this daemon's webhook; "" when it has none */
	void *ctx;
};

#endif
