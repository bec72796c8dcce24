/*
 * token_cache.c - api_tokens in memory, reloaded on NOTIFY (see token_cache.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "store/db.h"
#include "store/token_cache.h"

#define CHANNEL        "alliance_tokens"
#define RETRY_MS       200
#define FLUSH_NAME_MAX 101

struct token_cache {
	struct token_cache_settings set;
	struct token_entry *tokens; /* owned; n entries */
	int n;
	bool ready;               /* a load has completed */
	bool again;               /* a change arrived while loading */
	struct db_query *load_q;  /* in flight, or NULL */
	struct db_query *flush_q; /* in flight, or NULL */
	struct event *retry;      /* owned; a load that could not be sent */
	struct event *flush;      /* owned; persistent */
};

/* clang-format off */
static const char load_sql[] =
    "SELECT encode(token_hash, 'hex'), name,"
    " CASE scope WHEN 'intake' THEN 1 WHEN 'feedback' THEN 2 ELSE 3 END,"
    " coalesce(extract(epoch FROM expires_at), 0)"
    " FROM api_tokens WHERE revoked_at IS NULL"
    " AND (expires_at IS NULL OR expires_at > now()) AND octet_length(token_hash) = 32";
static const char flush_sql[] =
    "UPDATE api_tokens SET last_used_at = now()"
    " WHERE revoked_at IS NULL AND name = ANY ($1::text[])";
/* clang-format on */

static void load_start(struct token_cache *tc);

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
parse_digest(const char *hex, unsigned char out[TOKEN_CACHE_DIGEST_LEN])
{
	int i, hi, lo;

	if (strlen(hex) != 2 * TOKEN_CACHE_DIGEST_LEN)
		return -1;
	for (i = 0; i < TOKEN_CACHE_DIGEST_LEN; i++) {
		hi = hexval(hex[2 * i]);
		lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static bool
was_used(const struct token_cache *tc, const char *name)
{
	int i;

	for (i = 0; i < tc->n; i++)
		if (tc->tokens[i].used && strcmp(tc->tokens[i].name, name) == 0)
			return true;
	return false;
}

static void
schedule_retry(struct token_cache *tc)
{
	struct timeval tv = { 0, RETRY_MS * 1000 };

	evtimer_add(tc->retry, &tv);
}

static void
load_cb(void *arg, enum db_status st, const PGresult *res)
{
	struct token_cache *tc = arg;
	struct token_entry *next;
	int i, rows, n = 0;

	tc->load_q = NULL;
	if (st != DB_OK) {
		log_warn(tc->set.log, "tokens: load failed; retrying");
		schedule_retry(tc);
		return;
	}
	rows = PQntuples(res);
	next = calloc((size_t)rows + 1, sizeof(*next));
	if (next == NULL) {
		schedule_retry(tc);
		return;
	}
	for (i = 0; i < rows; i++) {
		struct token_entry *e = &next[n];

		if (parse_digest(PQgetvalue(res, i, 0), e->digest) != 0)
			continue;
		snprintf(e->name, sizeof(e->name), "%s", PQgetvalue(res, i, 1));
		e->scope = atoi(PQgetvalue(res, i, 2));
		e->expires = strtod(PQgetvalue(res, i, 3), NULL);
		e->used = was_used(tc, e->name);
		n++;
	}
	if (tc->tokens != NULL)
		OPENSSL_cleanse(tc->tokens, (size_t)tc->n * sizeof(*tc->tokens));
	free(tc->tokens);
	tc->tokens = next;
	tc->n = n;
	if (!tc->ready)
		log_info(tc->set.log, "tokens: %d live token(s) loaded", n);
	else
		log_debug(tc->set.log, "tokens: reloaded, %d live", n);
	tc->ready = true;
	if (tc->again) {
		tc->again = false;
		load_start(tc);
	}
}

static void
load_start(struct token_cache *tc)
{
	if (tc->load_q != NULL) {
		tc->again = true; /* the load in flight may predate the change */
		return;
	}
	tc->load_q = db_query(tc->set.db, load_sql, 0, NULL, load_cb, tc);
	if (tc->load_q == NULL)
		schedule_retry(tc); /* no connection up yet */
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	load_start(arg);
}

static void
notify_cb(void *arg, const char *channel, const char *payload)
{
	(void)channel;
	(void)payload; /* any change, or the LISTEN (re)established: reload */
	load_start(arg);
}

static void
flush_done_cb(void *arg, enum db_status st, const PGresult *res)
{
	struct token_cache *tc = arg;

	(void)res;
	tc->flush_q = NULL;
	if (st != DB_OK)
		log_debug(tc->set.log, "tokens: last_used_at not written (next time)");
}

/* Appends NAME to a text[] literal, quoted and escaped. */
static size_t
append_name(char *buf, size_t at, size_t cap, const char *name)
{
	const char *s;

	if (at + 2 * strlen(name) + 4 >= cap)
		return at;
	if (at > 1)
		buf[at++] = ',';
	buf[at++] = '"';
	for (s = name; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf[at++] = '\\';
		buf[at++] = *s;
	}
	buf[at++] = '"';
	return at;
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct token_cache *tc = arg;
	size_t cap = 2 + (size_t)tc->n * (2 * FLUSH_NAME_MAX + 4) + 1, at = 1;
	const char *values[1];
	char *buf;
	int i;

	(void)fd;
	(void)what;
	if (tc->flush_q != NULL)
		return;
	for (i = 0; i < tc->n && !tc->tokens[i].used; i++)
		;
	if (i == tc->n)
		return;
	buf = malloc(cap);
	if (buf == NULL)
		return;
	buf[0] = '{';
	for (i = 0; i < tc->n; i++)
		if (tc->tokens[i].used)
			at = append_name(buf, at, cap, tc->tokens[i].name);
	buf[at++] = '}';
	buf[at] = '\0';
	values[0] = buf;
	tc->flush_q = db_query(tc->set.db, flush_sql, 1, values, flush_done_cb, tc);
	free(buf);
	if (tc->flush_q != NULL) /* sent: a lost write costs one "last used", not a request */
		for (i = 0; i < tc->n; i++)
			tc->tokens[i].used = false;
}

struct token_cache *
token_cache_new(const struct token_cache_settings *set)
{
	struct token_cache *tc;

	if (set->base == NULL || set->db == NULL || set->log == NULL || set->flush_interval < 1)
		return NULL;
	tc = calloc(1, sizeof(*tc));
	if (tc == NULL)
		return NULL;
	tc->set = *set;
	return tc;
}

int
token_cache_start(struct token_cache *tc)
{
	struct timeval tv = { tc->set.flush_interval, 0 };

	tc->retry = evtimer_new(tc->set.base, retry_cb, tc);
	tc->flush = event_new(tc->set.base, -1, EV_PERSIST, flush_cb, tc);
	if (tc->retry == NULL || tc->flush == NULL || event_add(tc->flush, &tv) != 0)
		return -1;
	/* The LISTEN's first establishment calls notify_cb: the first load. */
	return db_pool_listen(tc->set.db, CHANNEL, notify_cb, tc);
}

void
token_cache_free(struct token_cache *tc)
{
	if (tc == NULL)
		return;
	db_query_cancel(tc->load_q);
	db_query_cancel(tc->flush_q);
	if (tc->retry != NULL)
		event_free(tc->retry);
	if (tc->flush != NULL)
		event_free(tc->flush);
	if (tc->tokens != NULL)
		OPENSSL_cleanse(tc->tokens, (size_t)tc->n * sizeof(*tc->tokens));
	free(tc->tokens);
	free(tc);
}

bool
token_cache_ready(const struct token_cache *tc)
{
	return tc->ready;
}

int
token_cache_lookup(struct token_cache *tc, const unsigned char digest[TOKEN_CACHE_DIGEST_LEN],
    struct token_entry *out)
{
	int i, found = -1;

	for (i = 0; i < tc->n; i++)
		if (CRYPTO_memcmp(tc->tokens[i].digest, digest, TOKEN_CACHE_DIGEST_LEN) == 0)
			found = i;
	if (found < 0)
		return 0;
	*out = tc->tokens[found];
	return 1;
}

void
token_cache_used(struct token_cache *tc, const char *name)
{
	int i;

	for (i = 0; i < tc->n; i++)
		if (strcmp(tc->tokens[i].name, name) == 0)
			tc->tokens[i].used = true;
}
