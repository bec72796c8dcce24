/*
 * webhook.c - one receiver's deliveries (see webhook.h).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "base/clock.h"
#include "api/webhook_ops.h"
#include "base/log.h"
#include "store/db.h"
#include "webhook.h"

#define SECRET_MAX     1024
#define BODY_MAX       8192
#define BUSY_RETRY_S   1                   /* the cursor is held by another daemon */
#define IDLE_TICK_S    5                   /* a NOTIFY may be lost across a reconnect */
#define REPLAY_CHANNEL "alliance_webhooks" /* a replay was queued */

/* A signed ping (POST /v1/webhooks/{name}/test), beside the deliveries. */
struct webhook_ping {
	struct webhook *w;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	char id[48];
	char error[CURL_ERROR_SIZE];
	double started;
	webhook_ping_done_fn done;
	void *arg;
	struct webhook_ping *next;
};

struct webhook {
	struct event_base *base;
	struct db_pool *db;
	const struct logger *log;
	char *name, *url, *events;
	int timeout, retry_base_ms, retry_max_ms, horizon;
	unsigned char secret[SECRET_MAX];
	size_t secret_len;

	CURLM *multi;
	struct event *curl_timer; /* libcurl's timeout */
	struct event *tick;       /* the next round */
	bool running;             /* a round is under way */
	bool again;               /* a NOTIFY came during the round */
	struct db_query *acquiring;
	struct db_conn *conn; /* leased for the round */
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	char error[CURL_ERROR_SIZE];
	char event_id[24], attempts[16];
	bool replay;                /* the event is a queued replay, not the cursor's next */
	struct webhook_ping *pings; /* in flight */
	double failing_for;         /* seconds the event has failed; -1 none */
	double next_round;          /* seconds from the COMMIT to the next round */
	struct webhook_stats stats;
};

/* ------------------------------------------------------------------------ */
/* Signing */

int
webhook_sign(const unsigned char *key, size_t keylen, const char *id, const char *ts,
    const char *body, size_t bodylen, char *out, size_t outlen)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	size_t idl = strlen(id), tsl = strlen(ts), n = idl + tsl + 2 + bodylen;
	char *msg;
	int rc = -1;

	if (outlen < 3 + 4 * ((32 + 2) / 3) + 1)
		return -1;
	msg = malloc(n);
	if (msg == NULL)
		return -1;
	memcpy(msg, id, idl);
	msg[idl] = '.';
	memcpy(msg + idl + 1, ts, tsl);
	msg[idl + 1 + tsl] = '.';
	memcpy(msg + idl + tsl + 2, body, bodylen);
	if (HMAC(EVP_sha256(), key, (int)keylen, (unsigned char *)msg, n, mac, &maclen) != NULL) {
		memcpy(out, "v1,", 3);
		EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)maclen);
		rc = 0;
	}
	free(msg);
	return rc;
}

/* "whsec_" + base64 (the Standard Webhooks form), else the raw bytes. */
static int
load_secret(struct webhook *w, const char *path, char *err, size_t errlen)
{
	char buf[SECRET_MAX * 2];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		snprintf(err, errlen, "webhook.secret_file: cannot open %s", path);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	if (n > 6 && strncmp(buf, "whsec_", 6) == 0) {
		size_t b64 = n - 6, pad = 0;
		int dec;

		if (b64 % 4 != 0 || b64 / 4 * 3 > sizeof(w->secret))
			goto bad;
		dec = EVP_DecodeBlock(w->secret, (unsigned char *)buf + 6, (int)b64);
		if (dec < 0)
			goto bad;
		pad = (buf[n - 1] == '=') + (buf[n - 2] == '=');
		w->secret_len = (size_t)dec - pad;
	} else {
		if (n > sizeof(w->secret))
			goto bad;
		memcpy(w->secret, buf, n);
		w->secret_len = n;
	}
	if (w->secret_len < 16) {
		snprintf(err, errlen,
		    "webhook.secret_file: the secret must have at least 16 bytes");
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "webhook.secret_file: not whsec_BASE64 or too long");
	return -1;
}

/* ------------------------------------------------------------------------ */
/* libcurl's multi interface on the event loop */

static void transfer_done(struct webhook *w, CURLcode rc);
static void ping_done(struct webhook_ping *p, CURLcode rc);

static void
check_multi(struct webhook *w)
{
	CURLMsg *m;
	int left;
	void *priv;

	while ((m = curl_multi_info_read(w->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		if (m->easy_handle == w->easy) {
			transfer_done(w, m->data.result);
			continue;
		}
		priv = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		if (priv != NULL)
			ping_done(priv, m->data.result);
	}
}

static void
curl_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct webhook *w = arg;
	int action =
	    ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	int running;

	curl_multi_socket_action(w->multi, fd, action, &running);
	check_multi(w);
}

static int
curl_socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct webhook *w = userp;
	struct event *ev = socketp;
	short kind;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (ev != NULL)
			event_free(ev);
		curl_multi_assign(w->multi, s, NULL);
		return 0;
	}
	kind = (short)(EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0));
	if (ev != NULL)
		event_free(ev);
	ev = event_new(w->base, s, kind, curl_event_cb, w);
	if (ev == NULL || event_add(ev, NULL) != 0)
		return -1;
	curl_multi_assign(w->multi, s, ev);
	return 0;
}

static void
curl_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct webhook *w = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_multi(w);
}

static int
curl_timerfunc(CURLM *m, long ms, void *userp)
{
	struct webhook *w = userp;
	struct timeval tv;

	(void)m;
	if (ms < 0) {
		evtimer_del(w->curl_timer);
		return 0;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return evtimer_add(w->curl_timer, &tv);
}

/* ------------------------------------------------------------------------ */
/* Rounds */

static void
schedule(struct webhook *w, double seconds)
{
	struct timeval tv;

	if (seconds < 0)
		seconds = 0;
	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	evtimer_add(w->tick, &tv);
}

static void
transfer_clear(struct webhook *w)
{
	if (w->easy != NULL) {
		curl_multi_remove_handle(w->multi, w->easy);
		curl_easy_cleanup(w->easy);
		w->easy = NULL;
	}
	curl_slist_free_all(w->headers);
	w->headers = NULL;
	free(w->body);
	w->body = NULL;
}

/* Ends the round; the next one after `seconds` (now at once if a NOTIFY came). */
static void
round_end(struct webhook *w, double seconds)
{
	transfer_clear(w);
	db_release(w->conn);
	w->conn = NULL;
	w->running = false;
	if (w->again) { /* the next round sees the new event (or its backoff) */
		w->again = false;
		seconds = 0;
	}
	schedule(w, seconds);
}

static void
committed_cb(void *arg, enum db_status st, const PGresult *res)
{
	struct webhook *w = arg;

	(void)res;
	if (st != DB_OK)
		log_warn(w->log, "webhook %s: commit failed", w->name);
	/* After a delivery or a dead letter, the next event at once; after a
	 * failure the tick was computed by the caller. */
	round_end(w, w->next_round);
}

static void
updated_cb(void *arg, enum db_status st, const PGresult *res)
{
	struct webhook *w = arg;

	(void)res;
	if (st != DB_OK || db_conn_query(w->conn, "COMMIT", 0, NULL, committed_cb, w) != 0) {
		log_warn(w->log, "webhook %s: cannot record the attempt", w->name);
		round_end(w, BUSY_RETRY_S);
	}
}

static void
record(struct webhook *w, const char *sql, int n, const char *const *values, double next_round)
{
	w->next_round = next_round < 0 ? 0 : next_round;
	if (db_conn_query(w->conn, sql, n, values, updated_cb, w) != 0)
		round_end(w, BUSY_RETRY_S);
}

/* The statements that record an attempt: [0] the cursor's next event, [1] a
 * replay.  Parameters: ok $1 name, $2 event; retry $1 name, $2 event, $3
 * backoff ms, $4 error; dead $1 name, $2 event, $3 attempts so far, $4 error. */
static const char *const ok_sql[2] = {
	"UPDATE webhook_cursors SET last_event_id = $2::bigint, attempts = 0,"
	" failing_since = NULL, next_attempt_at = now(), last_error = NULL,"
	" delivered = delivered + 1 WHERE name = $1",
	"WITH r AS (DELETE FROM webhook_replays WHERE webhook = $1 AND event_id = $2::bigint),"
	" d AS (DELETE FROM webhook_dead WHERE webhook = $1 AND event_id = $2::bigint)"
	" UPDATE webhook_cursors SET delivered = delivered + 1 WHERE name = $1",
};
static const char *const retry_sql[2] = {
	"UPDATE webhook_cursors SET attempts = attempts + 1,"
	" failing_since = coalesce(failing_since, now()),"
	" next_attempt_at = now() + $3::float8 * interval '1 millisecond',"
	" last_error = $4, retried = retried + 1 WHERE name = $1 AND last_event_id < $2::bigint",
	"WITH r AS (UPDATE webhook_replays SET attempts = attempts + 1,"
	"  failing_since = coalesce(failing_since, now()),"
	"  next_attempt_at = now() + $3::float8 * interval '1 millisecond', last_error = $4"
	"  WHERE webhook = $1 AND event_id = $2::bigint)"
	" UPDATE webhook_cursors SET retried = retried + 1 WHERE name = $1",
};
static const char *const dead_sql[2] = {
	"WITH d AS (INSERT INTO webhook_dead (webhook, event_id, attempts, last_error)"
	" VALUES ($1, $2::bigint, $3::integer + 1, $4) ON CONFLICT DO NOTHING)"
	" UPDATE webhook_cursors SET last_event_id = $2::bigint, attempts = 0,"
	" failing_since = NULL, next_attempt_at = now(), last_error = $4,"
	" dead = dead + 1 WHERE name = $1",
	"WITH r AS (DELETE FROM webhook_replays WHERE webhook = $1 AND event_id = $2::bigint),"
	" d AS (INSERT INTO webhook_dead (webhook, event_id, attempts, last_error)"
	"  VALUES ($1, $2::bigint, $3::integer + 1, $4) ON CONFLICT (webhook, event_id) DO UPDATE"
	"  SET attempts = webhook_dead.attempts + EXCLUDED.attempts,"
	"  last_error = EXCLUDED.last_error, dead_at = now())"
	" UPDATE webhook_cursors SET dead = dead + 1 WHERE name = $1",
};

static void
transfer_done(struct webhook *w, CURLcode rc)
{
	long status = 0;
	char why[160], backoff[32];
	double ms;
	int attempts = atoi(w->attempts), k = w->replay ? 1 : 0;
	const char *what = w->replay ? "replay of event" : "event";

	curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_OK && status >= 200 && status < 300) {
		const char *v[2] = { w->name, w->event_id };

		w->stats.delivered++;
		if (!w->replay)
			w->stats.undelivered_since = 0; /* the next round says */
		log_info(w->log, "webhook %s: %s %s delivered (%ld)", w->name, what, w->event_id,
		    status);
		record(w, ok_sql[k], 2, v, -1);
		return;
	}
	if (rc != CURLE_OK)
		snprintf(why, sizeof(why), "%s", curl_easy_strerror(rc));
	else
		snprintf(why, sizeof(why), "HTTP %ld", status);
	if (w->failing_for >= 0 && w->failing_for >= w->horizon) {
		const char *v[4] = { w->name, w->event_id, w->attempts, why };

		w->stats.dead++;
		log_warn(w->log, "webhook %s: %s %s dead-lettered after %d attempts: %s", w->name,
		    what, w->event_id, attempts + 1, why);
		record(w, dead_sql[k], 4, v, -1);
		return;
	}
	ms = w->retry_base_ms * pow(2.0, attempts > 30 ? 30 : attempts);
	if (ms > w->retry_max_ms)
		ms = w->retry_max_ms;
	snprintf(backoff, sizeof(backoff), "%.0f", ms);
	{
		const char *v[4] = { w->name, w->event_id, backoff, why };

		w->stats.retried++;
		log_warn(w->log, "webhook %s: %s %s attempt %d failed (%s), next in %.0f ms",
		    w->name, what, w->event_id, attempts + 1, why, ms);
		/* A failed replay does not hold up the cursor: the next round
		 * goes on at once with what else is due. */
		record(w, retry_sql[k], 4, v, w->replay ? 0 : ms / 1000.0);
	}
}

/* A signed POST of body with webhook-id id into *easy (added to the multi
 * handle); *headers is the caller's to free.  0 or -1. */
static int
prepare_post(struct webhook *w, const char *id, const char *body, CURL **easy,
    struct curl_slist **headers, char *errbuf, void *priv)
{
	char ts[24], sig[128], h[256];

	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	if (webhook_sign(w->secret, w->secret_len, id, ts, body, strlen(body), sig, sizeof(sig)) !=
	    0)
		return -1;
	*headers = curl_slist_append(*headers, "Content-Type: application/json");
	snprintf(h, sizeof(h), "webhook-id: %s", id);
	*headers = curl_slist_append(*headers, h);
	snprintf(h, sizeof(h), "webhook-timestamp: %s", ts);
	*headers = curl_slist_append(*headers, h);
	snprintf(h, sizeof(h), "webhook-signature: %s", sig);
	*headers = curl_slist_append(*headers, h);
	*headers = curl_slist_append(*headers, "Expect:");
	*easy = curl_easy_init();
	if (*easy == NULL || *headers == NULL)
		return -1;
	curl_easy_setopt(*easy, CURLOPT_URL, w->url);
	curl_easy_setopt(*easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(*easy, CURLOPT_HTTPHEADER, *headers);
	curl_easy_setopt(*easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(*easy, CURLOPT_TIMEOUT, (long)w->timeout);
	curl_easy_setopt(*easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(*easy, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(*easy, CURLOPT_USERAGENT, "allianced-webhook");
	curl_easy_setopt(*easy, CURLOPT_PRIVATE, priv);
	/* TLS: libcurl verifies the peer and the host name by default. */
	curl_easy_setopt(*easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(*easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (curl_multi_add_handle(w->multi, *easy) != CURLM_OK)
		return -1;
	return 0;
}

static int
send_event(struct webhook *w, const PGresult *res)
{
	json_t *data, *doc;
	json_error_t jerr;
	char id[40];

	data = json_loads(PQgetvalue(res, 0, 7), 0, &jerr);
	if (data == NULL)
		return -1;
	/* The Standard Webhooks payload: type, timestamp, data. */
	doc = json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)strtoll(w->event_id, NULL, 10),
	    "type", PQgetvalue(res, 0, 5), "timestamp", PQgetvalue(res, 0, 6), "data", data);
	if (doc == NULL)
		return -1;
	w->body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (w->body == NULL)
		return -1;
	/* The same id on every attempt and every replay: receivers deduplicate. */
	snprintf(id, sizeof(id), "evt_%s", w->event_id);
	return prepare_post(w, id, w->body, &w->easy, &w->headers, w->error, NULL);
}

/* Columns: 0 cursor, 1 attempts, 2 seconds until the next attempt, 3 seconds
 * failing (NULL none), 4 event id (NULL none), 5 type, 6 created_at, 7 data,
 * 8 the event's age in seconds, 9 a replay ("t"/"f"), 10 seconds until the
 * next replay falls due (NULL none queued). */
static void
claimed_cb(void *arg, enum db_status st, const PGresult *res)
{
	struct webhook *w = arg;
	double wait, replay_wait = -1;

	if (st != DB_OK) {
		round_end(w, BUSY_RETRY_S);
		return;
	}
	if (PQntuples(res) == 0) { /* another daemon is delivering */
		round_end(w, BUSY_RETRY_S);
		return;
	}
	if (!PQgetisnull(res, 0, 10))
		replay_wait = atof(PQgetvalue(res, 0, 10));
	w->replay = strcmp(PQgetvalue(res, 0, 9), "t") == 0;
	if (PQgetisnull(res, 0, 4)) { /* nothing to send: wait for a NOTIFY */
		w->stats.undelivered_since = 0;
		round_end(w,
		    replay_wait >= 0 && replay_wait < IDLE_TICK_S ? replay_wait : IDLE_TICK_S);
		return;
	}
	if (!w->replay)
		w->stats.undelivered_since = clock_now() - atof(PQgetvalue(res, 0, 8));
	wait = atof(PQgetvalue(res, 0, 2));
	if (wait > 0) { /* the cursor's event is backing off */
		round_end(w, replay_wait >= 0 && replay_wait < wait ? replay_wait : wait);
		return;
	}
	snprintf(w->event_id, sizeof(w->event_id), "%s", PQgetvalue(res, 0, 4));
	snprintf(w->attempts, sizeof(w->attempts), "%s", PQgetvalue(res, 0, 1));
	w->failing_for = PQgetisnull(res, 0, 3) ? -1 : atof(PQgetvalue(res, 0, 3));
	if (send_event(w, res) != 0) {
		log_error(w->log, "webhook %s: cannot prepare event %s", w->name, w->event_id);
		round_end(w, BUSY_RETRY_S);
	}
	/* The transaction stays open (the row locked) until the answer. */
}

/* A due replay goes before the cursor's next event; it is sent whatever the
 * webhook's event types (an operator asked for it). */
static void
begun_cb(void *arg, enum db_status st, const PGresult *res)
{
	static const char sql[] =
	    "SELECT c.last_event_id, coalesce(r.attempts, c.attempts),"
	    " CASE WHEN r.event_id IS NULL THEN extract(epoch FROM c.next_attempt_at - now())"
	    "  ELSE 0 END,"
	    " extract(epoch FROM now() - CASE WHEN r.event_id IS NULL THEN c.failing_since"
	    "  ELSE r.failing_since END),"
	    " e.id, e.type, e.created_at, e.data::text, extract(epoch FROM now() - e.created_at),"
	    " r.event_id IS NOT NULL,"
	    " (SELECT extract(epoch FROM min(x.next_attempt_at) - now()) FROM webhook_replays x"
	    "  WHERE x.webhook = c.name)"
	    " FROM (SELECT * FROM webhook_cursors WHERE name = $1 FOR UPDATE SKIP LOCKED) c"
	    " LEFT JOIN LATERAL (SELECT * FROM webhook_replays x WHERE x.webhook = c.name"
	    "  AND x.next_attempt_at <= now() ORDER BY x.next_attempt_at, x.event_id LIMIT 1) r"
	    "  ON true"
	    " LEFT JOIN LATERAL ((SELECT * FROM events e WHERE e.id = r.event_id)"
	    "  UNION ALL (SELECT * FROM events e WHERE r.event_id IS NULL"
	    "   AND e.id > c.last_event_id"
	    "   AND ($2 = '' OR e.type = ANY (string_to_array($2, ' ')))"
	    "   ORDER BY e.id LIMIT 1)) e ON true";
	struct webhook *w = arg;
	const char *values[2] = { w->name, w->events };

	(void)res;
	if (st != DB_OK || db_conn_query(w->conn, sql, 2, values, claimed_cb, w) != 0)
		round_end(w, BUSY_RETRY_S);
}

static void
ensured_cb(void *arg, enum db_status st, const PGresult *res)
{
	struct webhook *w = arg;

	(void)res;
	if (st != DB_OK || db_conn_query(w->conn, "BEGIN", 0, NULL, begun_cb, w) != 0)
		round_end(w, BUSY_RETRY_S);
}

static void
leased_cb(void *arg, struct db_conn *conn)
{
	static const char sql[] = "INSERT INTO webhook_cursors (name) VALUES ($1)"
	                          " ON CONFLICT DO NOTHING";
	struct webhook *w = arg;
	const char *values[1] = { w->name };

	w->acquiring = NULL;
	if (conn == NULL) {
		w->running = false;
		schedule(w, BUSY_RETRY_S);
		return;
	}
	w->conn = conn;
	/* The row exists (autocommit) before the transaction locks it. */
	if (db_conn_query(conn, sql, 1, values, ensured_cb, w) != 0)
		round_end(w, BUSY_RETRY_S);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct webhook *w = arg;

	(void)fd;
	(void)what;
	if (w->running)
		return;
	w->running = true;
	w->acquiring = db_acquire(w->db, leased_cb, w);
	if (w->acquiring == NULL) {
		w->running = false;
		schedule(w, BUSY_RETRY_S);
	}
}

static void
notify_cb(void *arg, const char *channel, const char *payload)
{
	struct webhook *w = arg;

	(void)channel;
	(void)payload;
	if (w->running) {
		w->again = true;
		return;
	}
	schedule(w, 0);
}

/* ------------------------------------------------------------------------ */
/* Pings */

static void
ping_free(struct webhook_ping *p)
{
	struct webhook_ping **pp;

	for (pp = &p->w->pings; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	if (p->easy != NULL) {
		curl_multi_remove_handle(p->w->multi, p->easy);
		curl_easy_cleanup(p->easy);
	}
	curl_slist_free_all(p->headers);
	free(p->body);
	free(p);
}

/* Answers the requester, then frees the ping (done may cancel nothing). */
static void
ping_finish(struct webhook_ping *p, long status, const char *error)
{
	char id[sizeof(p->id)], why[CURL_ERROR_SIZE + 32];
	struct webhook_ping_result res = { p->w->name, id, status, NULL, clock_now() - p->started };
	webhook_ping_done_fn done = p->done;
	void *arg = p->arg;

	/* Free first (done may end the request, which must not cancel it), so
	 * the strings done sees are copies. */
	memcpy(id, p->id, sizeof(id));
	if (error != NULL) {
		snprintf(why, sizeof(why), "%s", error);
		res.error = why;
	}
	ping_free(p);
	done(arg, &res);
}

static void
ping_done(struct webhook_ping *p, CURLcode rc)
{
	long status = 0;
	char why[CURL_ERROR_SIZE + 32];

	curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_OK && status >= 200 && status < 300) {
		log_info(p->w->log, "webhook %s: ping %s answered %ld", p->w->name, p->id, status);
		ping_finish(p, status, NULL);
		return;
	}
	if (rc != CURLE_OK)
		snprintf(why, sizeof(why), "%s", p->error[0] ? p->error : curl_easy_strerror(rc));
	else
		snprintf(why, sizeof(why), "HTTP %ld", status);
	log_warn(p->w->log, "webhook %s: ping %s failed: %s", p->w->name, p->id, why);
	ping_finish(p, status, why);
}

struct webhook_ping *
webhook_ping(struct webhook *w, webhook_ping_done_fn done, void *arg)
{
	struct webhook_ping *p = calloc(1, sizeof(*p));
	unsigned char rnd[12];
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	json_t *doc;
	size_t i;

	if (p == NULL)
		return NULL;
	p->w = w;
	p->done = done;
	p->arg = arg;
	p->started = clock_now();
	p->next = w->pings;
	w->pings = p;
	/* A fresh id per ping: it is a message of its own, never deduplicated
	 * against another. */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto fail;
	memcpy(p->id, "ping_", 5);
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(p->id + 5 + 2 * i, 3, "%02x", rnd[i]);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	doc = json_pack("{s:s, s:s, s:{s:s}}", "type", "webhook.ping", "timestamp", stamp, "data",
	    "webhook", w->name);
	if (doc == NULL)
		goto fail;
	p->body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (p->body == NULL ||
	    prepare_post(w, p->id, p->body, &p->easy, &p->headers, p->error, p) != 0)
		goto fail;
	return p;
fail:
	ping_free(p);
	return NULL;
}

void
webhook_ping_cancel(struct webhook_ping *p)
{
	if (p != NULL)
		ping_free(p);
}

const char *
webhook_name(const struct webhook *w)
{
	return w->name;
}

/* ------------------------------------------------------------------------ */

struct webhook *
webhook_new(const struct webhook_settings *s, char *err, size_t errlen)
{
	struct webhook *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->base = s->base;
	w->db = s->db;
	w->log = s->log;
	w->timeout = s->timeout;
	w->retry_base_ms = s->retry_base_ms;
	w->retry_max_ms = s->retry_max_ms;
	w->horizon = s->horizon;
	w->name = strdup(s->name);
	w->url = strdup(s->url);
	w->events = strdup(s->events);
	if (w->name == NULL || w->url == NULL || w->events == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (strncmp(s->url, "http://", 7) != 0 && strncmp(s->url, "https://", 8) != 0) {
		snprintf(err, errlen, "webhook.url: must start with http:// or https://");
		goto fail;
	}
	if (s->secret_file[0] == '\0') {
		snprintf(err, errlen, "webhook.secret_file: required with webhook.url");
		goto fail;
	}
	if (load_secret(w, s->secret_file, err, errlen) != 0)
		goto fail;
	w->multi = curl_multi_init();
	w->curl_timer = evtimer_new(w->base, curl_timer_cb, w);
	w->tick = evtimer_new(w->base, tick_cb, w);
	if (w->multi == NULL || w->curl_timer == NULL || w->tick == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, curl_timerfunc);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
	return w;
fail:
	webhook_free(w);
	return NULL;
}

int
webhook_start(struct webhook *w)
{
	if (db_pool_listen(w->db, REPLAY_CHANNEL, notify_cb, w) != 0)
		return -1;
	return db_pool_listen(w->db, "alliance_events", notify_cb, w);
}

void
webhook_free(struct webhook *w)
{
	if (w == NULL)
		return;
	db_query_cancel(w->acquiring);
	/* Pings still out are answered while their requests exist. */
	while (w->pings != NULL)
		ping_finish(w->pings, 0, "the daemon is stopping");
	transfer_clear(w);
	db_release(w->conn);
	if (w->multi != NULL)
		curl_multi_cleanup(w->multi);
	if (w->curl_timer != NULL)
		event_free(w->curl_timer);
	if (w->tick != NULL)
		event_free(w->tick);
	OPENSSL_cleanse(w->secret, sizeof(w->secret));
	free(w->name);
	free(w->url);
	free(w->events);
	free(w);
}

void
webhook_stats(const struct webhook *w, struct webhook_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (w != NULL)
		*out = w->stats;
}
