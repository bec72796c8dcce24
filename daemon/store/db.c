/*
 * db.c - asynchronous PostgreSQL pool on libevent (see db.h for the contract).
 *
 * Each connection is a small state machine (DOWN -> CONNECTING -> READY -> DOWN ...) with
 * two events inside it: `io` on the current PQsocket() (re-assigned after every
 * PQconnectPoll step, since the socket can change) and `timer` (connect timeout while
 * CONNECTING, reconnect backoff while DOWN).  While READY, EV_READ stays armed so that a
 * server shutdown or a NOTIFY is seen at once; EV_WRITE is added only while PQflush() has
 * output left.  A READY connection runs at most one job: a user statement, the ROLLBACK
 * after a release, or the LISTENs of the dedicated connection.
 *
 * Safety of callbacks: user callbacks run only from event callbacks.  Failures detected
 * inside an API call (a send that breaks the connection, queued requests failed because
 * the last connection went away, a lease handed out) are delivered through the request's
 * own event made active ("deferred"), so no user code runs underneath a db_* call and no
 * pending callback can see a freed request.  Connections live as long as the pool; only
 * their PGconn comes and goes, so a struct db_conn held by a caller never dangles.
 */
#include "store/db.h"
#include "store/db_cancel.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 1000
#define MAX_CHANNEL    63 /* NAMEDATALEN - 1 */
/* Statements prepared per connection.  The daemon's SQL is a fixed set of
 * constant strings, so each is parsed and planned once per connection
 * instead of once per request (the feedback statement plans in ~0.35 ms). */
#define PREP_MAX 64

enum conn_state {
	CONN_DOWN,       /* no PGconn; the reconnect timer runs unless leased */
	CONN_CONNECTING, /* PQconnectPoll steps under the connect timer */
	CONN_READY,      /* connected: free, running a job, or leased */
};

enum conn_job {
	JOB_NONE,
	JOB_USER,     /* cur: a db_query() or db_conn_query() statement */
	JOB_PREPARE,  /* cur: preparing its statement; JOB_USER follows */
	JOB_ROLLBACK, /* closing a transaction left open by a lease */
	JOB_LISTEN,   /* LISTEN for the registered channels (listen connection) */
};

struct db_conn {
	struct db_pool *pool;
	int id; /* 1..pool_size; 0 = the listen connection */
	PGconn *pg;
	enum conn_state state;
	enum conn_job job;
	struct db_query *cur; /* JOB_USER: owned by the connection while sent */
	PGresult *res;        /* result being collected for the job */
	int listen_sent;      /* JOB_LISTEN: listeners[0..listen_sent) covered */
	bool leased;          /* held by a caller (or being handed to one) */
	bool release_pending; /* released while its statement was still running */
	bool flushing;        /* PQflush() returned 1: wait for write too */
	bool ever_ready;      /* counts reconnects */
	bool down_logged;     /* one "unavailable" line per outage, not one per attempt */
	bool cancel_pending;  /* a server-side cancel is on its way: take no new work */
	bool cancel_wait;     /* the job ended meanwhile: conn_after_job when it is done */
	unsigned cancel_gen;  /* matches a cancel's completion to this PGconn's request */
	int backoff_ms;
	struct event io;
	bool io_set;
	struct event timer;
	char notice[200]; /* last FATAL notice: why the server closed the connection */
	struct {
		uint64_t hash; /* of the SQL text */
		bool ok;       /* prepared as "a<hash>"; false: cannot be (sent plain) */
	} prep[PREP_MAX];
	int n_prep; /* reset with every new PGconn */
};

enum query_kind { Q_RESULT, Q_LEASE };
enum query_state { QS_NEW, QS_QUEUED, QS_SENT, QS_DEFERRED };

struct db_query {
	struct db_pool *pool;
	struct db_query *prev, *next; /* in pool->queue or pool->deferred */
	enum query_kind kind;
	enum query_state state;
	bool cancelled; /* QS_SENT: discard the result */
	db_result_cb cb;
	db_lease_cb lcb;
	void *arg;
	char *sql; /* copies, in the same allocation */
	int nparams;
	char **values;
	struct event ev; /* queue timeout, then deferred delivery */
	bool ev_set;
	enum db_status status; /* QS_DEFERRED: what to deliver */
	struct db_conn *conn;  /* QS_DEFERRED lease: the connection handed over */
};

struct qlist {
	struct db_query *head, *tail;
	int n;
};

struct listener {
	char *channel;
	db_notify_cb cb;
	void *arg;
	bool active; /* LISTEN confirmed on the current listen connection */
};

struct db_pool {
	struct event_base *base;
	struct db_settings s; /* s.url points at url */
	char *url;
	struct db_conn *conns; /* s.pool_size of them */
	struct db_conn *lconn; /* NULL until a channel is registered and the pool started */
	struct listener *listeners;
	int nlisteners, listeners_cap;
	bool listen_dirty;     /* a channel was added while a LISTEN was running */
	struct qlist queue;    /* waiting for a free connection, oldest first */
	struct qlist deferred; /* deliveries pending on the loop */
	bool started, closing;
	unsigned long long reconnects, queries, errors;
	struct db_cancel *canceller; /* NULL: abandoned statements run to their end */
	char options[64];            /* "-c statement_timeout=N" or "" */
};

static void conn_io_cb(evutil_socket_t fd, short what, void *arg);
static void conn_timer_cb(evutil_socket_t fd, short what, void *arg);
static void conn_lost(struct db_conn *c, const char *why);
static void conn_release(struct db_conn *c);
static void pool_dispatch(struct db_pool *p);
static void listen_send(struct db_conn *c);
static void conn_after_job(struct db_conn *c);

/* ---- small helpers ------------------------------------------------------------------- */

static void conn_log(const struct db_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
conn_log(const struct db_conn *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* A lost connection is worth a warning; coming back is news. */
	enum log_level lv = strncmp(msg, "ready", 5) == 0 ? LOG_INFO : LOG_WARNING;

	if (c->id == 0)
		log_msg(c->pool->s.log, lv, "database: listen connection %s", msg);
	else
		log_msg(c->pool->s.log, lv, "database: connection %d %s", c->id, msg);
}

/*
 * Why a connection failed, as one line.  libpq's error buffer can still hold an earlier
 * statement's error (with row values in its DETAIL), so only the last line that is not a
 * continuation is taken: the newest, generic connection message.
 */
static void
conn_reason(const struct db_conn *c, char *buf, size_t n)
{
	const char *msg = c->pg ? PQerrorMessage(c->pg) : "";
	const char *best = NULL, *line = msg;
	size_t len;

	if (c->notice[0] != '\0') {
		snprintf(buf, n, "%s", c->notice);
		return;
	}
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t l = end ? (size_t)(end - line) : strlen(line);
		if (l > 0 && line[0] != '\t' && line[0] != ' ' &&
		    strncmp(line, "DETAIL:", 7) != 0 && strncmp(line, "HINT:", 5) != 0)
			best = line;
		line += l + (end ? 1 : 0);
	}
	if (best == NULL) {
		snprintf(buf, n, "unknown error");
		return;
	}
	len = strcspn(best, "\n");
	snprintf(buf, n, "%.*s", (int)(len < INT_MAX ? len : 0), best);
}

/* Keeps the server's FATAL message (e.g. "terminating connection due to administrator
 * command") to explain the EOF that follows; other notices are dropped, not printed. */
static void
conn_notice(void *arg, const char *message)
{
	struct db_conn *c = arg;

	if (strncmp(message, "FATAL:", 6) == 0) {
		snprintf(c->notice, sizeof c->notice, "%s", message);
		c->notice[strcspn(c->notice, "\n")] = '\0';
	}
}

static void
qlist_push(struct qlist *l, struct db_query *q)
{
	q->next = NULL;
	q->prev = l->tail;
	if (l->tail)
		l->tail->next = q;
	else
		l->head = q;
	l->tail = q;
	l->n++;
}

static void
qlist_unlink(struct qlist *l, struct db_query *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		l->head = q->next;
	if (q->next)
		q->next->prev = q->prev;
	else
		l->tail = q->prev;
	q->prev = q->next = NULL;
	l->n--;
}

static struct db_query *
qlist_pop(struct qlist *l)
{
	struct db_query *q = l->head;

	if (q)
		qlist_unlink(l, q);
	return q;
}

/* ---- requests -------------------------------------------------------------------------- */

/* One allocation: the struct, the values array, then the strings. */
static struct db_query *
query_new(struct db_pool *p, enum query_kind kind, const char *sql, int nparams,
    const char *const *values)
{
	size_t size = sizeof(struct db_query), sqllen = 0;
	struct db_query *q;
	char *str;

	if (nparams < 0 || nparams > 65535 || (nparams > 0 && values == NULL))
		return NULL;
	if (kind == Q_RESULT) {
		if (sql == NULL)
			return NULL;
		sqllen = strlen(sql) + 1;
		size += (size_t)nparams * sizeof(char *) + sqllen;
		for (int i = 0; i < nparams; i++)
			if (values[i])
				size += strlen(values[i]) + 1;
	}
	q = calloc(1, size);
	if (q == NULL)
		return NULL;
	q->pool = p;
	q->kind = kind;
	q->state = QS_NEW;
	if (kind == Q_RESULT) {
		q->values = (char **)(q + 1);
		str = (char *)(q->values + nparams);
		q->sql = memcpy(str, sql, sqllen);
		str += sqllen;
		q->nparams = nparams;
		for (int i = 0; i < nparams; i++) {
			if (values[i] == NULL)
				continue; /* SQL NULL */
			size_t l = strlen(values[i]) + 1;
			q->values[i] = memcpy(str, values[i], l);
			str += l;
		}
	}
	return q;
}

static void
query_free(struct db_query *q)
{
	if (q->ev_set)
		event_del(&q->ev);
	free(q);
}

/* The one place a result reaches a caller (counts errors). */
static void
query_notify(struct db_query *q, enum db_status st, const PGresult *res)
{
	if (st != DB_OK)
		q->pool->errors++;
	q->cb(q->arg, st, res);
}

static void
query_notify_lease(struct db_query *q, struct db_conn *c)
{
	if (c == NULL)
		q->pool->errors++;
	q->lcb(q->arg, c);
}

/* Runs a deferred delivery; the request is already off every list. */
static void
query_deliver(struct db_query *q)
{
	struct db_pool *p = q->pool;

	if (q->kind == Q_LEASE) {
		struct db_conn *c = q->conn;
		q->conn = NULL;
		if (c != NULL && (p->closing || c->state != CONN_READY)) {
			/* Broke (or closing) before the hand-over: give it back, report unavailable. */
			conn_release(c);
			c = NULL;
		}
		query_notify_lease(q, c);
	} else {
		query_notify(q, q->status, NULL);
	}
	query_free(q);
}

static void
query_deferred_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_query *q = arg;

	(void)fd;
	(void)what;
	qlist_unlink(&q->pool->deferred, q);
	query_deliver(q);
}

/* Delivers status (or, for a lease, conn) from the loop, not from the current call stack. */
static void
query_defer(struct db_query *q, enum db_status st, struct db_conn *conn)
{
	struct db_pool *p = q->pool;

	if (q->ev_set)
		event_del(&q->ev);
	q->state = QS_DEFERRED;
	q->status = st;
	q->conn = conn;
	event_assign(&q->ev, p->base, -1, 0, query_deferred_cb, q);
	q->ev_set = true;
	qlist_push(&p->deferred, q);
	event_active(&q->ev, EV_TIMEOUT, 1);
}

static void
query_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_query *q = arg;

	(void)fd;
	(void)what;
	qlist_unlink(&q->pool->queue, q);
	if (q->kind == Q_LEASE)
		query_notify_lease(q, NULL);
	else
		query_notify(q, DB_TIMEOUT, NULL);
	query_free(q);
}

/* Queues a request behind busy connections; -1 when the queue is full. */
static int
queue_push(struct db_pool *p, struct db_query *q)
{
	if (p->queue.n >= p->s.max_queue)
		return -1;
	if (p->s.queue_timeout_ms > 0) {
		struct timeval tv = { p->s.queue_timeout_ms / 1000,
			(p->s.queue_timeout_ms % 1000) * 1000 };
		event_assign(&q->ev, p->base, -1, 0, query_timeout_cb, q);
		q->ev_set = true;
		if (event_add(&q->ev, &tv) < 0)
			return -1;
	}
	q->state = QS_QUEUED;
	qlist_push(&p->queue, q);
	return 0;
}

/* Fails every waiting request: no connection is left to serve it. */
static void
queue_fail(struct db_pool *p)
{
	struct db_query *q;

	while ((q = qlist_pop(&p->queue)) != NULL)
		query_defer(q, DB_UNAVAILABLE, NULL);
}

/* ---- connections ----------------------------------------------------------------------- */

static bool
conn_free_for_work(const struct db_conn *c)
{
	return c->state == CONN_READY && !c->leased && c->job == JOB_NONE && !c->cancel_pending;
}

static struct db_conn *
pool_free_conn(struct db_pool *p)
{
	for (int i = 0; i < p->s.pool_size; i++)
		if (conn_free_for_work(&p->conns[i]))
			return &p->conns[i];
	return NULL;
}

static void
conn_init(struct db_pool *p, struct db_conn *c, int id)
{
	memset(c, 0, sizeof *c);
	c->pool = p;
	c->id = id;
	c->state = CONN_DOWN;
	c->backoff_ms = BACKOFF_MIN_MS;
	event_assign(&c->timer, p->base, -1, 0, conn_timer_cb, c);
}

/* (Re)assigns the io event to the current socket; -1 if that is impossible. */
static int
conn_arm(struct db_conn *c, short what)
{
	evutil_socket_t fd = PQsocket(c->pg);

	if (c->io_set) {
		event_del(&c->io);
		c->io_set = false;
	}
	if (fd < 0)
		return -1;
	event_assign(&c->io, c->pool->base, fd, what | EV_PERSIST, conn_io_cb, c);
	c->io_set = true;
	return event_add(&c->io, NULL);
}

/* Drops the PGconn and every event of the connection (not the struct). */
static void
conn_close(struct db_conn *c)
{
	if (c->io_set) {
		event_del(&c->io);
		c->io_set = false;
	}
	event_del(&c->timer);
	if (c->res) {
		PQclear(c->res);
		c->res = NULL;
	}
	if (c->pg) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	c->flushing = false;
	c->job = JOB_NONE;
	c->state = CONN_DOWN;
	c->n_prep = 0;
	/* A cancel still on its way targets the old backend's key: harmless. */
	c->cancel_pending = false;
	c->cancel_wait = false;
}

static void
conn_schedule(struct db_conn *c)
{
	struct timeval tv = { c->backoff_ms / 1000, (c->backoff_ms % 1000) * 1000 };

	event_add(&c->timer, &tv);
	c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
}

static void
conn_connect(struct db_conn *c)
{
	struct db_pool *p = c->pool;
	/* statement_timeout comes first: an "options" in the url replaces it. */
	const char *const keys[] = { "options", "dbname", "fallback_application_name", NULL };
	const char *vals[] = { p->options, p->url, "allianced", NULL };
	int first = p->options[0] == '\0' ? 1 : 0;

	c->notice[0] = '\0';
	c->pg = PQconnectStartParams(keys + first, vals + first, 1);
	if (c->pg == NULL) {
		conn_lost(c, "out of memory");
		return;
	}
	c->state = CONN_CONNECTING;
	PQsetNoticeProcessor(c->pg, conn_notice, c);
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		conn_lost(c, NULL);
		return;
	}
	/* PQconnectStart has begun: act as if PQconnectPoll said WRITING. */
	if (conn_arm(c, EV_WRITE) < 0) {
		conn_lost(c, "cannot watch the socket");
		return;
	}
	if (p->s.connect_timeout > 0) {
		struct timeval tv = { p->s.connect_timeout, 0 };
		event_add(&c->timer, &tv);
	}
}

static void
conn_ready(struct db_conn *c)
{
	struct db_pool *p = c->pool;

	event_del(&c->timer);
	if (PQsetnonblocking(c->pg, 1) != 0) {
		conn_lost(c, NULL);
		return;
	}
	c->state = CONN_READY;
	c->backoff_ms = BACKOFF_MIN_MS;
	c->down_logged = false;
	c->notice[0] = '\0';
	if (c->ever_ready)
		p->reconnects++;
	c->ever_ready = true;
	if (conn_arm(c, EV_READ) < 0) {
		conn_lost(c, "cannot watch the socket");
		return;
	}
	conn_log(c, "ready");
	if (c == p->lconn)
		listen_send(c);
	else
		pool_dispatch(p);
}

/*
 * The connection is gone (or never came): log it, drop the PGconn, fail its statement with
 * DB_UNAVAILABLE (deferred), and reconnect in the background unless a caller holds it.
 * why == NULL: ask libpq.
 */
static void
conn_lost(struct db_conn *c, const char *why)
{
	struct db_pool *p = c->pool;
	struct db_query *q = c->cur;
	char reason[256];

	if (why == NULL) {
		conn_reason(c, reason, sizeof reason);
		why = reason;
	}
	if (c->state == CONN_READY) {
		conn_log(c, "lost: %s", why);
		c->down_logged = true;
	} else if (!c->down_logged) {
		conn_log(c, "unavailable: %s", why);
		c->down_logged = true;
	}
	conn_close(c);
	c->cur = NULL;
	if (q != NULL) {
		if (q->cancelled)
			query_free(q);
		else
			query_defer(q, DB_UNAVAILABLE, NULL);
	}
	if (c == p->lconn)
		for (int i = 0; i < p->nlisteners; i++)
			p->listeners[i].active = false;
	if (c->release_pending) {
		c->release_pending = false;
		c->leased = false;
	}
	if (!c->leased && !p->closing)
		conn_schedule(c);
	if (!db_pool_up(p))
		queue_fail(p);
}

/* Starts flushing what PQsend* queued; on failure the connection is lost. */
static void
conn_flush(struct db_conn *c)
{
	int r = PQflush(c->pg);

	if (r < 0) {
		conn_lost(c, NULL);
	} else if (r == 1) {
		c->flushing = true;
		if (conn_arm(c, EV_READ | EV_WRITE) < 0)
			conn_lost(c, "cannot watch the socket");
	}
}

/*
 * Sends a user statement.  0: the connection owns q (its callback will run, even if the
 * connection breaks during the flush); -1: not sent, the caller still owns q.
 */
static uint64_t
sql_hash(const char *sql)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *sql; sql++)
		h = (h ^ (unsigned char)*sql) * 0x100000001b3ULL;
	return h;
}

/* -1 unknown, 0 cannot be prepared, 1 prepared. */
static int
prep_state(const struct db_conn *c, uint64_t h)
{
	for (int i = 0; i < c->n_prep; i++)
		if (c->prep[i].hash == h)
			return c->prep[i].ok;
	return -1;
}

static void
prep_name(char *buf, size_t n, uint64_t h)
{
	snprintf(buf, n, "a%016llx", (unsigned long long)h);
}

static int
conn_sent(struct db_conn *c, struct db_query *q, enum conn_job job)
{
	c->job = job;
	c->cur = q;
	q->state = QS_SENT;
	conn_flush(c);
	return 0;
}

/* Sends q: prepared when its statement is (or can be); the first use on a
 * connection prepares it first (JOB_PREPARE), conn_finish then sends it. */
static int
conn_send(struct db_conn *c, struct db_query *q)
{
	const char *const *vals = (const char *const *)q->values;
	uint64_t h = sql_hash(q->sql);
	int st = prep_state(c, h);
	char name[24];
	int ok;

	prep_name(name, sizeof name, h);
	if (st == 1)
		ok = PQsendQueryPrepared(c->pg, name, q->nparams, vals, NULL, NULL, 0);
	else if (st == -1 && c->n_prep < PREP_MAX)
		ok = PQsendPrepare(c->pg, name, q->sql, q->nparams, NULL);
	else
		ok = PQsendQueryParams(c->pg, q->sql, q->nparams, NULL, vals, NULL, NULL, 0);
	if (!ok) {
		conn_lost(c, NULL);
		return -1;
	}
	if (st == -1 && c->n_prep < PREP_MAX)
		return conn_sent(c, q, JOB_PREPARE);
	c->pool->queries++;
	return conn_sent(c, q, JOB_USER);
}

static bool
result_failed(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	return st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY;
}

/* Keeps the first error, otherwise the last result of the job. */
static void
conn_keep_result(struct db_conn *c, PGresult *r)
{
	if (c->res == NULL) {
		c->res = r;
	} else if (result_failed(c->res)) {
		PQclear(r);
	} else {
		PQclear(c->res);
		c->res = r;
	}
}

/* A failed statement: the server's own error (DB_SQL_ERROR) or a lost connection. */
static enum db_status
classify(const struct db_conn *c, const PGresult *res, char *why, size_t n)
{
	const char *state, *msg;

	if (res == NULL) {
		snprintf(why, n, "no result");
		return DB_UNAVAILABLE;
	}
	if (!result_failed(res))
		return DB_OK;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	/* 57P*: the server is shutting down or the session was terminated; 08*: connection
	 * exceptions (08P01 is a protocol complaint on a live session); no SQLSTATE: libpq's own
	 * error, i.e. the connection broke. */
	if (PQstatus(c->pg) == CONNECTION_BAD || state == NULL || strncmp(state, "57P", 3) == 0 ||
	    (strncmp(state, "08", 2) == 0 && strcmp(state, "08P01") != 0)) {
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		snprintf(why, n, "%s", state != NULL && msg != NULL ? msg : "connection broken");
		why[strcspn(why, "\n")] = '\0';
		return DB_UNAVAILABLE;
	}
	return DB_SQL_ERROR;
}

static void
listen_done(struct db_conn *c, PGresult *res)
{
	struct db_pool *p = c->pool;
	bool ok = res != NULL && !result_failed(res);
	int n = c->listen_sent;

	PQclear(res);
	if (!ok) {
		conn_lost(c, "LISTEN failed");
		return;
	}
	/* Announce (re)subscription: notifications may have been missed meanwhile.  Callbacks
	 * may register channels (realloc), so index afresh each time. */
	for (int i = 0; i < n && i < p->nlisteners; i++) {
		struct listener *l = &p->listeners[i];
		if (l->active)
			continue;
		l->active = true;
		l->cb(l->arg, l->channel, NULL);
		if (c->state != CONN_READY)
			return;
	}
	if (c->job == JOB_NONE && (p->listen_dirty || n < p->nlisteners))
		listen_send(c);
}

/* The job's last result has arrived: the connection is free for its owner again. */
/* The statement's PREPARE came back: remember the outcome, then run it (a
 * statement that cannot be prepared, e.g. several commands, is sent plain and
 * never prepared again on this connection). */
static void
prepare_done(struct db_conn *c, PGresult *res)
{
	struct db_query *q = c->cur;
	bool ok = res != NULL && !result_failed(res);
	char why[256];

	if (res == NULL || (!ok && classify(c, res, why, sizeof why) == DB_UNAVAILABLE)) {
		PQclear(res);
		conn_lost(c, res == NULL ? NULL : why);
		return;
	}
	PQclear(res);
	c->cur = NULL;
	if (q->cancelled) {
		/* Abandoned while it was prepared: never run it.  A PREPARE that failed
		 * because it was cancelled says nothing about the statement. */
		if (ok) {
			c->prep[c->n_prep].hash = sql_hash(q->sql);
			c->prep[c->n_prep].ok = true;
			c->n_prep++;
		}
		query_free(q);
		conn_after_job(c);
		return;
	}
	c->prep[c->n_prep].hash = sql_hash(q->sql);
	c->prep[c->n_prep].ok = ok;
	c->n_prep++;
	/* A refused send has lost the connection (conn_send); the caller hears of it the
	 * deferred way like any other failure, and its query does not leak. */
	if (conn_send(c, q) < 0)
		query_defer(q, DB_UNAVAILABLE, NULL);
}

/* After a job on a connection that is still up: hand it back (finish a pending release,
 * or serve the queue), but only once a cancel sent for its statement has been delivered,
 * so that the cancel cannot hit the next statement. */
static void
conn_after_job(struct db_conn *c)
{
	if (c->state != CONN_READY)
		return;
	if (c->cancel_pending) {
		c->cancel_wait = true;
		return;
	}
	if (c->release_pending) {
		c->release_pending = false;
		conn_release(c);
	} else if (!c->leased) {
		pool_dispatch(c->pool);
	}
}

/* Asks the server to stop c's running statement (abandoned by its caller). */
static void
conn_cancel_running(struct db_conn *c)
{
	struct db_pool *p = c->pool;
	PGcancel *pc;

	if (p->canceller == NULL || c->state != CONN_READY || c->cancel_pending ||
	    (c->job != JOB_USER && c->job != JOB_PREPARE))
		return;
	pc = PQgetCancel(c->pg);
	if (pc == NULL)
		return;
	c->cancel_gen++;
	if (db_cancel_submit(p->canceller, pc, c->id, c->cancel_gen) < 0)
		return; /* left to statement_timeout */
	c->cancel_pending = true;
}

/* On the loop: the helper thread has delivered (or failed) the cancel. */
static void
cancel_done_cb(void *arg, int id, unsigned gen)
{
	struct db_pool *p = arg;
	struct db_conn *c;

	if (id < 1 || id > p->s.pool_size)
		return;
	c = &p->conns[id - 1];
	if (!c->cancel_pending || c->cancel_gen != gen)
		return; /* the connection was lost and reopened meanwhile */
	c->cancel_pending = false;
	if (c->cancel_wait) {
		c->cancel_wait = false;
		conn_after_job(c);
	}
}

static void
conn_finish(struct db_conn *c)
{
	struct db_pool *p = c->pool;
	PGresult *res = c->res;
	enum conn_job job = c->job;
	struct db_query *q;
	enum db_status st;
	char why[256];

	c->res = NULL;
	c->job = JOB_NONE;
	if (job == JOB_LISTEN) {
		listen_done(c, res);
		return;
	}
	if (job == JOB_PREPARE) {
		prepare_done(c, res);
		return;
	}
	if (job == JOB_ROLLBACK) {
		bool ok = res != NULL && !result_failed(res) &&
		    PQtransactionStatus(c->pg) == PQTRANS_IDLE;
		PQclear(res);
		if (!ok)
			conn_lost(c, "ROLLBACK after release failed");
		else
			pool_dispatch(p);
		return;
	}
	q = c->cur;
	c->cur = NULL;
	st = classify(c, res, why, sizeof why);
	if (st == DB_UNAVAILABLE) {
		PQclear(res);
		c->cur = q; /* conn_lost fails it (or drops it when cancelled) */
		conn_lost(c, why);
		return;
	}
	q->state = QS_NEW;
	/* Free the connection first: the callback may run the next statement on the lease. */
	conn_after_job(c);
	if (!q->cancelled)
		query_notify(q, st, res);
	PQclear(res);
	query_free(q);
}

static void
listen_dispatch(struct db_pool *p, const char *channel, const char *payload)
{
	for (int i = 0; i < p->nlisteners; i++) {
		struct listener *l = &p->listeners[i];
		if (l->active && strcmp(l->channel, channel) == 0)
			l->cb(l->arg, l->channel, payload);
	}
}

/* Collects results (PQgetResult while !PQisBusy), then NOTIFYs.  Re-checks the state after
 * every callback: a callback may have sent, released or lost the connection. */
static void
conn_process(struct db_conn *c)
{
	struct db_pool *p = c->pool;

	while (c->state == CONN_READY) {
		if (c->job != JOB_NONE && !PQisBusy(c->pg)) {
			PGresult *r = PQgetResult(c->pg);
			if (r == NULL) {
				conn_finish(c);
				continue;
			}
			switch (PQresultStatus(r)) {
			case PGRES_COPY_IN:
			case PGRES_COPY_OUT:
			case PGRES_COPY_BOTH:
				PQclear(r);
				conn_lost(c, "COPY is not supported");
				return;
			default: conn_keep_result(c, r); continue;
			}
		}
		PGnotify *n = PQnotifies(c->pg);
		if (n == NULL)
			break;
		if (c == p->lconn)
			listen_dispatch(p, n->relname, n->extra);
		PQfreemem(n);
	}
	if (c->state == CONN_READY && PQstatus(c->pg) == CONNECTION_BAD)
		conn_lost(c, NULL);
}

static void
conn_poll(struct db_conn *c)
{
	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		if (conn_arm(c, EV_READ) < 0)
			conn_lost(c, "cannot watch the socket");
		break;
	case PGRES_POLLING_WRITING:
		if (conn_arm(c, EV_WRITE) < 0)
			conn_lost(c, "cannot watch the socket");
		break;
	case PGRES_POLLING_OK: conn_ready(c); break;
	default: conn_lost(c, NULL); break;
	}
}

static void
conn_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;

	(void)fd;
	if (c->state == CONN_CONNECTING) {
		conn_poll(c);
		return;
	}
	if (c->state != CONN_READY)
		return;
	if ((what & EV_READ) && !PQconsumeInput(c->pg)) {
		conn_lost(c, NULL);
		return;
	}
	if (c->flushing) {
		int r = PQflush(c->pg);
		if (r < 0) {
			conn_lost(c, NULL);
			return;
		}
		if (r == 0) {
			c->flushing = false;
			if (conn_arm(c, EV_READ) < 0) {
				conn_lost(c, "cannot watch the socket");
				return;
			}
		}
	}
	conn_process(c);
}

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == CONN_CONNECTING)
		conn_lost(c, "connect timeout");
	else if (c->state == CONN_DOWN && !c->pool->closing)
		conn_connect(c);
}

/* Ends a lease (internal): roll back an open transaction, reconnect a broken connection. */
static void
conn_release(struct db_conn *c)
{
	struct db_pool *p = c->pool;

	c->leased = false;
	if (p->closing)
		return;
	if (c->state == CONN_DOWN) {
		conn_schedule(c);
		return;
	}
	if (c->state != CONN_READY)
		return;
	switch (PQtransactionStatus(c->pg)) {
	case PQTRANS_IDLE: pool_dispatch(p); break;
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
		if (!PQsendQuery(c->pg, "ROLLBACK")) {
			conn_lost(c, NULL);
			return;
		}
		c->job = JOB_ROLLBACK;
		conn_flush(c);
		break;
	default: conn_lost(c, "unknown transaction state after release"); break;
	}
}

/* Hands waiting requests to free connections, oldest first. */
static void
pool_dispatch(struct db_pool *p)
{
	struct db_conn *c;

	if (p->closing)
		return;
	while (p->queue.head != NULL && (c = pool_free_conn(p)) != NULL) {
		struct db_query *q = qlist_pop(&p->queue);
		if (q->ev_set)
			event_del(&q->ev);
		if (q->kind == Q_LEASE) {
			c->leased = true;
			query_defer(q, DB_OK, c);
		} else if (conn_send(c, q) < 0) {
			query_defer(q, DB_UNAVAILABLE, NULL);
		}
	}
}

/* ---- LISTEN ---------------------------------------------------------------------------- */

/* LISTEN for every registered channel, as one simple-protocol string (identifiers cannot be
 * parameters; PQescapeIdentifier quotes them). */
static void
listen_send(struct db_conn *c)
{
	struct db_pool *p = c->pool;
	size_t cap = 1, len = 0;
	char *sql;

	if (p->nlisteners == 0)
		return;
	for (int i = 0; i < p->nlisteners; i++)
		cap += 2 * strlen(p->listeners[i].channel) + 16;
	sql = malloc(cap);
	if (sql == NULL) {
		conn_lost(c, "out of memory");
		return;
	}
	sql[0] = '\0';
	for (int i = 0; i < p->nlisteners; i++) {
		const char *ch = p->listeners[i].channel;
		char *id = PQescapeIdentifier(c->pg, ch, strlen(ch));
		if (id == NULL) {
			free(sql);
			conn_lost(c, "cannot quote a channel name");
			return;
		}
		len += (size_t)snprintf(sql + len, cap - len, "LISTEN %s;", id);
		PQfreemem(id);
	}
	c->listen_sent = p->nlisteners;
	p->listen_dirty = false;
	if (!PQsendQuery(c->pg, sql)) {
		free(sql);
		conn_lost(c, NULL);
		return;
	}
	free(sql);
	c->job = JOB_LISTEN;
	conn_flush(c);
}

/* Makes sure the listen connection exists and covers every channel. */
static int
listen_kick(struct db_pool *p)
{
	if (p->lconn == NULL) {
		p->lconn = malloc(sizeof *p->lconn);
		if (p->lconn == NULL)
			return -1;
		conn_init(p, p->lconn, 0);
		conn_connect(p->lconn);
		return 0;
	}
	if (p->lconn->state != CONN_READY)
		return 0; /* LISTENs everything once ready */
	if (p->lconn->job == JOB_NONE)
		listen_send(p->lconn);
	else
		p->listen_dirty = true;
	return 0;
}

int
db_pool_listen(struct db_pool *p, const char *channel, db_notify_cb cb, void *arg)
{
	struct listener *l;
	size_t len;

	if (p == NULL || p->closing || channel == NULL || cb == NULL)
		return -1;
	len = strlen(channel);
	if (len == 0 || len > MAX_CHANNEL)
		return -1;
	if (p->nlisteners == p->listeners_cap) {
		int cap = p->listeners_cap ? p->listeners_cap * 2 : 4;
		struct listener *nl = realloc(p->listeners, (size_t)cap * sizeof *nl);
		if (nl == NULL)
			return -1;
		p->listeners = nl;
		p->listeners_cap = cap;
	}
	l = &p->listeners[p->nlisteners];
	l->channel = strdup(channel);
	if (l->channel == NULL)
		return -1;
	l->cb = cb;
	l->arg = arg;
	l->active = false;
	p->nlisteners++;
	if (p->started)
		return listen_kick(p);
	return 0;
}

/* ---- public API ------------------------------------------------------------------------ */

struct db_pool *
db_pool_new(struct event_base *base, const struct db_settings *s)
{
	struct db_pool *p;

	if (base == NULL || s == NULL || s->url == NULL || s->pool_size < 1 ||
	    s->pool_size > 1000 || s->max_queue < 0)
		return NULL;
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	p->base = base;
	p->s = *s;
	p->url = strdup(s->url);
	p->conns = calloc((size_t)s->pool_size, sizeof *p->conns);
	if (p->url == NULL || p->conns == NULL)
		goto fail;
	p->s.url = p->url;
	if (s->statement_timeout_ms > 0)
		snprintf(p->options, sizeof p->options, "-c statement_timeout=%d",
		    s->statement_timeout_ms);
	for (int i = 0; i < s->pool_size; i++)
		conn_init(p, &p->conns[i], i + 1);
	return p;
fail:
	free(p->url);
	free(p->conns);
	free(p);
	return NULL;
}

int
db_pool_start(struct db_pool *p)
{
	PQconninfoOption *opts;
	char *errmsg = NULL;

	if (p == NULL || p->closing)
		return -1;
	if (p->started)
		return 0;
	/* Parse errors can quote the string, password included: keep the message generic. */
	opts = PQconninfoParse(p->url, &errmsg);
	if (opts == NULL) {
		log_error(p->s.log, "database: the database url does not parse");
		PQfreemem(errmsg);
		return -1;
	}
	PQconninfoFree(opts);
	/* Started here, not in db_pool_new: after any fork of the process. */
	p->canceller = db_cancel_new(p->base, cancel_done_cb, p);
	if (p->canceller == NULL)
		log_warn(p->s.log, "database: no cancel helper; abandoned statements run on");
	p->started = true;
	for (int i = 0; i < p->s.pool_size; i++)
		conn_connect(&p->conns[i]);
	if (p->nlisteners > 0 && listen_kick(p) < 0)
		return -1;
	return 0;
}

bool
db_pool_up(const struct db_pool *p)
{
	if (p == NULL)
		return false;
	for (int i = 0; i < p->s.pool_size; i++)
		if (p->conns[i].state == CONN_READY)
			return true;
	return false;
}

void
db_pool_stats(const struct db_pool *p, struct db_stats *out)
{
	memset(out, 0, sizeof *out);
	if (p == NULL)
		return;
	out->size = p->s.pool_size;
	for (int i = 0; i < p->s.pool_size; i++) {
		const struct db_conn *c = &p->conns[i];
		if (c->state == CONN_CONNECTING) {
			out->connecting++;
		} else if (c->state == CONN_READY) {
			out->connected++;
			if (conn_free_for_work(c))
				out->idle++;
			else
				out->busy++;
		}
	}
	out->queued = p->queue.n;
	out->reconnects = p->reconnects;
	out->queries = p->queries;
	out->errors = p->errors;
	out->listen_up = p->lconn != NULL && p->lconn->state == CONN_READY && p->nlisteners > 0;
	for (int i = 0; i < p->nlisteners && out->listen_up; i++)
		out->listen_up = p->listeners[i].active;
}

struct db_query *
db_query(struct db_pool *p, const char *sql, int nparams, const char *const *values,
    db_result_cb cb, void *arg)
{
	struct db_query *q;
	struct db_conn *c;

	if (p == NULL || p->closing || cb == NULL || !db_pool_up(p))
		return NULL;
	q = query_new(p, Q_RESULT, sql, nparams, values);
	if (q == NULL)
		return NULL;
	q->cb = cb;
	q->arg = arg;
	/* Older waiters go first. */
	c = p->queue.n == 0 ? pool_free_conn(p) : NULL;
	if (c != NULL) {
		if (conn_send(c, q) < 0)
			goto fail;
		return q;
	}
	if (queue_push(p, q) < 0)
		goto fail;
	return q;
fail:
	query_free(q);
	return NULL;
}

void
db_query_cancel(struct db_query *q)
{
	struct db_pool *p;

	if (q == NULL)
		return;
	p = q->pool;
	switch (q->state) {
	case QS_QUEUED:
		qlist_unlink(&p->queue, q);
		query_free(q);
		break;
	case QS_SENT:
		q->cancelled = true; /* the connection frees it when the result comes */
		for (int i = 0; i < p->s.pool_size; i++)
			if (p->conns[i].cur == q)
				conn_cancel_running(&p->conns[i]);
		break;
	case QS_DEFERRED:
		qlist_unlink(&p->deferred, q);
		if (q->conn != NULL) {
			struct db_conn *c = q->conn;
			q->conn = NULL;
			conn_release(c);
		}
		query_free(q);
		break;
	case QS_NEW: break; /* its callback is running: too late */
	}
}

struct db_query *
db_acquire(struct db_pool *p, db_lease_cb cb, void *arg)
{
	struct db_query *q;
	struct db_conn *c;

	if (p == NULL || p->closing || cb == NULL || !db_pool_up(p))
		return NULL;
	q = query_new(p, Q_LEASE, NULL, 0, NULL);
	if (q == NULL)
		return NULL;
	q->lcb = cb;
	q->arg = arg;
	c = p->queue.n == 0 ? pool_free_conn(p) : NULL;
	if (c != NULL) {
		c->leased = true;
		query_defer(q, DB_OK, c);
		return q;
	}
	if (queue_push(p, q) < 0) {
		query_free(q);
		return NULL;
	}
	return q;
}

int
db_conn_query(struct db_conn *c, const char *sql, int nparams, const char *const *values,
    db_result_cb cb, void *arg)
{
	struct db_query *q;

	if (c == NULL || cb == NULL || !c->leased || c->pool->closing || c->state != CONN_READY ||
	    c->job != JOB_NONE || c->release_pending)
		return -1;
	q = query_new(c->pool, Q_RESULT, sql, nparams, values);
	if (q == NULL)
		return -1;
	q->cb = cb;
	q->arg = arg;
	if (conn_send(c, q) < 0) {
		query_free(q);
		return -1;
	}
	return 0;
}

void
db_release(struct db_conn *c)
{
	if (c == NULL || !c->leased)
		return;
	if ((c->job == JOB_USER || c->job == JOB_PREPARE) && c->cur != NULL && !c->pool->closing) {
		/* Discard the running statement, stop it on the server (a COMMIT
		 * caught in time never commits), finish the release when it ends. */
		c->cur->cancelled = true;
		c->release_pending = true;
		conn_cancel_running(c);
		return;
	}
	if (c->cur != NULL)
		c->cur->cancelled = true;
	conn_release(c);
}

/* Fails the statement a connection is running (pool shutting down). */
static void
conn_fail_current(struct db_conn *c)
{
	struct db_query *q = c->cur;

	c->cur = NULL;
	if (q == NULL)
		return;
	if (!q->cancelled)
		query_notify(q, DB_UNAVAILABLE, NULL);
	query_free(q);
}

void
db_pool_free(struct db_pool *p)
{
	struct db_query *q;
	bool again = true;

	if (p == NULL)
		return;
	p->closing = true;
	/* Callbacks may cancel other requests or release leases; loop until nothing is left. */
	while (again) {
		again = false;
		while ((q = qlist_pop(&p->queue)) != NULL) {
			again = true;
			if (q->ev_set)
				event_del(&q->ev);
			q->state = QS_NEW;
			if (q->kind == Q_LEASE)
				query_notify_lease(q, NULL);
			else
				query_notify(q, DB_UNAVAILABLE, NULL);
			query_free(q);
		}
		while ((q = qlist_pop(&p->deferred)) != NULL) {
			again = true;
			if (q->ev_set)
				event_del(&q->ev);
			q->state = QS_NEW;
			query_deliver(q);
		}
		for (int i = 0; i < p->s.pool_size; i++) {
			if (p->conns[i].cur != NULL) {
				again = true;
				conn_fail_current(&p->conns[i]);
			}
		}
	}
	db_cancel_free(p->canceller);
	for (int i = 0; i < p->s.pool_size; i++)
		conn_close(&p->conns[i]);
	if (p->lconn != NULL) {
		conn_close(p->lconn);
		free(p->lconn);
	}
	for (int i = 0; i < p->nlisteners; i++)
		free(p->listeners[i].channel);
	free(p->listeners);
	free(p->conns);
	free(p->url);
	free(p);
}
