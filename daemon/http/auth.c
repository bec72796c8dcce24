/*
 * auth.c - bearer tokens, peer credentials, scopes and per-token rate limits.
 *
 * The router calls auth_check() before it parses the body: a caller who may
 * not call the route never gets a handler or the JSON parser to run.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/http.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base/clock.h"
#include "http/auth.h"

/* One token bucket per token name; tokens are few (a clinic has a handful
 * of systems), so a list is enough. */
struct bucket {
	struct bucket *next;
	char name[101];
	double level; /* requests left */
	double at;    /* clock_now() of the last refill */
};

struct auth {
	struct auth_settings set;
	struct bucket *buckets; /* owned */
};

struct auth *
auth_new(const struct auth_settings *set)
{
	struct auth *a;

	if (set->lookup == NULL || set->burst < 0 || set->rate < 0)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->set = *set;
	return a;
}

void
auth_free(struct auth *a)
{
	struct bucket *b, *next;

	if (a == NULL)
		return;
	for (b = a->buckets; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

void
auth_set_rate(struct auth *a, double rate, int burst)
{
	struct bucket *b;

	a->set.rate = rate;
	a->set.burst = burst;
	for (b = a->buckets; b != NULL; b = b->next)
		if (b->level > burst)
			b->level = burst;
}

void
auth_token_digest(const char *token, unsigned char out[AUTH_DIGEST_LEN])
{
	unsigned int n = AUTH_DIGEST_LEN;

	if (EVP_Digest(token, strlen(token), out, &n, EVP_sha256(), NULL) != 1)
		memset(out, 0, AUTH_DIGEST_LEN); /* matches no stored digest */
}

int
auth_token_generate(char out[AUTH_TOKEN_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[AUTH_TOKEN_BYTES];
	size_t i;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	memcpy(out, "alc_", 4);
	for (i = 0; i < sizeof(raw); i++) {
		out[4 + 2 * i] = hex[raw[i] >> 4];
		out[4 + 2 * i + 1] = hex[raw[i] & 15];
	}
	out[AUTH_TOKEN_LEN] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

/* The connection's socket, or -1. */
static int
request_fd(struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;

	return bev ? (int)bufferevent_getfd(bev) : -1;
}

/* The UNIX peer's uid through SO_PEERCRED; false on a TCP connection. */
static bool
unix_peer(int fd, uid_t *uid)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct ucred cred;
	socklen_t clen = sizeof(cred);

	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0 || ss.ss_family != AF_UNIX)
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0)
		return false; /* a UNIX peer we cannot identify: needs a token */
	*uid = cred.uid;
	return true;
}

void
auth_peer(struct evhttp_request *req, struct auth_result *out)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	uid_t uid;

	out->via_unix = false;
	out->peer[0] = '\0';
	if (unix_peer(request_fd(req), &uid)) {
		out->via_unix = true;
		snprintf(out->peer, sizeof(out->peer), "unix:uid=%lu", (unsigned long)uid);
		return;
	}
	if (conn != NULL) {
		char *host = NULL;
		ev_uint16_t port = 0;

		evhttp_connection_get_peer(conn, &host, &port);
		if (host != NULL && strchr(host, ':') != NULL)
			snprintf(out->peer, sizeof(out->peer), "[%s]:%u", host, (unsigned)port);
		else if (host != NULL)
			snprintf(out->peer, sizeof(out->peer), "%s:%u", host, (unsigned)port);
	}
}

/* The token of an Authorization header ("Bearer TOKEN"), or NULL. */
static const char *
bearer(struct evhttp_request *req)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h != '\0' ? h : NULL;
}

static struct bucket *
bucket_of(struct auth *a, const char *name, double now)
{
	struct bucket *b;

	for (b = a->buckets; b != NULL; b = b->next)
		if (strcmp(b->name, name) == 0)
			return b;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	snprintf(b->name, sizeof(b->name), "%s", name);
	b->level = a->set.burst;
	b->at = now;
	b->next = a->buckets;
	a->buckets = b;
	return b;
}

/* True when the token may make one more request; else *retry_after. */
static bool
take(struct auth *a, const char *name, int *retry_after)
{
	double now = clock_now();
	struct bucket *b;
	double wait;

	if (a->set.rate <= 0)
		return true;
	b = bucket_of(a, name, now);
	if (b == NULL)
		return true; /* out of memory: do not refuse service for it */
	b->level += (now - b->at) * a->set.rate;
	if (b->level > a->set.burst)
		b->level = a->set.burst;
	b->at = now;
	if (b->level >= 1.0) {
		b->level -= 1.0;
		return true;
	}
	wait = (1.0 - b->level) / a->set.rate;
	*retry_after = wait < 1.0 ? 1 : (int)(wait + 0.999);
	return false;
}

enum auth_status
auth_check(struct auth *a, struct evhttp_request *req, int need, double now,
    struct auth_result *out, int *retry_after)
{
	unsigned char digest[AUTH_DIGEST_LEN];
	struct auth_token tok;
	const char *token;
	uid_t uid;

	out->actor[0] = '\0';
	out->scope = 0;
	auth_peer(req, out);
	token = bearer(req);
	if (token == NULL && out->via_unix && unix_peer(request_fd(req), &uid) &&
	    (uid == 0 || uid == a->set.daemon_uid)) {
		snprintf(out->actor, sizeof(out->actor), "uid:%lu", (unsigned long)uid);
		out->scope = 3;
		return AUTH_OK;
	}
	if (token == NULL || strlen(token) != AUTH_TOKEN_LEN)
		return AUTH_UNAUTHORIZED;
	auth_token_digest(token, digest);
	memset(&tok, 0, sizeof(tok));
	if (a->set.lookup(a->set.arg, digest, &tok) != 1)
		return AUTH_UNAUTHORIZED;
	if (tok.expires > 0 && now >= tok.expires)
		return AUTH_UNAUTHORIZED;
	snprintf(out->actor, sizeof(out->actor), "token:%s", tok.name);
	out->scope = tok.scope;
	if (a->set.used != NULL)
		a->set.used(a->set.arg, tok.name);
	if (tok.scope != 3 && tok.scope != need)
		return AUTH_FORBIDDEN;
	if (!take(a, tok.name, retry_after))
		return AUTH_RATE_LIMITED;
	return AUTH_OK;
}
