/*
 * framing.c - request framing checked on the input buffer, before evhttp.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "http/framing.h"

enum fstate {
	F_HEAD, /* holding the bytes of a header block until it is complete */
	F_BODY, /* passing body_left bytes of a body */
	F_PASS, /* evhttp will refuse what it gets and close: pass everything */
	F_DROP  /* a refusal was handed on: drop whatever else arrives */
};

struct framing {
	struct framing_settings set;
	struct bufferevent *bev; /* borrowed: evhttp's connection */
	struct evbuffer *in, *out;
	struct evbuffer_cb_entry *in_cb, *out_cb;
	struct evbuffer *hold; /* owned: the header block so far */
	size_t scanned;        /* bytes of hold already split into lines */
	bool first_line_seen;
	enum fstate st;
	uint64_t body_left;
	bool busy; /* inside our own buffer changes: ignore the callbacks */
	struct event *deadline;
	int last_status; /* of the last status line evhttp wrote */
};

/* Inside our own buffer callback evhttp must not free the connection under
 * us: close from the loop instead. */
static void
close_soon(struct framing *f)
{
	f->st = F_DROP;
	event_active(f->deadline, EV_TIMEOUT, 0);
}

/* The stand-in of a refused request keeps its request line and nothing else. */
static void
hand_on_refusal(struct framing *f, const char *line, size_t len, const char *code)
{
	evbuffer_add(f->in, line, len);
	evbuffer_add_printf(f->in, "\r\nConnection: close\r\n%s: %s\r\n\r\n", FRAMING_REFUSE_HEADER,
	    code);
	f->st = F_DROP;
	event_del(f->deadline);
}

static bool
name_is(const char *p, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(p, name, n) == 0;
}

/* Host without its port, checked against the allowlist. */
static bool
host_allowed(const struct framing *f, const char *v, size_t n)
{
	const char *const *a;
	size_t hl = n;

	if (n > 0 && v[0] == '[') {
		const char *e = memchr(v, ']', n);

		if (e == NULL)
			return false;
		hl = (size_t)(e - v) + 1;
	} else {
		const char *c = memchr(v, ':', n);

		if (c != NULL)
			hl = (size_t)(c - v);
	}
	for (a = f->set.allowed_hosts; *a != NULL; a++)
		if (strlen(*a) == hl && strncasecmp(*a, v, hl) == 0)
			return true;
	return false;
}

/* "0" .. "18446744073709551615" within int64 like evhttp's strtoll; -1 when not. */
static int
parse_length(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

/* Methods evhttp reads a body for (evhttp_method_may_have_body in 2.1). */
static bool
method_has_body(const char *m, size_t n)
{
	static const char *const with_body[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
		"CONNECT", NULL };
	const char *const *w;

	for (w = with_body; *w != NULL; w++)
		if (name_is(m, n, *w) && strncmp(m, *w, n) == 0)
			return true;
	return false;
}

static bool
known_method(const char *m, size_t n)
{
	return method_has_body(m, n) || (n == 4 && memcmp(m, "HEAD", 4) == 0) ||
	    (n == 5 && memcmp(m, "TRACE", 5) == 0);
}

/* One complete header block of len bytes at the front of hold: pass it on or refuse it. */
static void
take_block(struct framing *f, size_t len)
{
	char *b = malloc(len + 1);
	const char *line, *end, *refuse = NULL, *host = NULL;
	size_t line_len, first_len = 0, host_len = 0;
	int hosts = 0, lengths = 0;
	bool chunked = false;
	uint64_t cl = 0;

	if (b == NULL) {
		close_soon(f);
		return;
	}
	evbuffer_copyout(f->hold, b, len);
	b[len] = '\0';
	for (line = b; line < b + len; line = end + 1) {
		const char *colon, *v, *ve;

		end = memchr(line, '\n', (size_t)(b + len - line));
		if (end == NULL)
			end = b + len;
		line_len = (size_t)(end - line);
		if (line_len > 0 && line[line_len - 1] == '\r')
			line_len--;
		if (line == b) {
			first_len = line_len;
			continue;
		}
		if (line_len == 0)
			break;
		if (memchr(line, '\0', line_len) != NULL) {
			refuse = "400 nul";
			continue;
		}
		if (line[0] == ' ' || line[0] == '\t') {
			refuse = "400 fold"; /* obsolete line folding: ambiguous */
			continue;
		}
		colon = memchr(line, ':', line_len);
		if (colon == NULL)
			continue; /* evhttp refuses the block itself */
		v = colon + 1;
		ve = line + line_len;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if (name_is(line, (size_t)(colon - line), "Content-Length")) {
			if (++lengths > 1 || parse_length(v, (size_t)(ve - v), &cl) != 0)
				refuse = "400 length";
		} else if (name_is(line, (size_t)(colon - line), "Transfer-Encoding")) {
			chunked = true;
		} else if (name_is(line, (size_t)(colon - line), "Host")) {
			hosts++;
			host = v;
			host_len = (size_t)(ve - v);
		} else if (name_is(line, (size_t)(colon - line), FRAMING_REFUSE_HEADER)) {
			refuse = "400 reserved";
		}
	}
	{
		const char *sp = memchr(b, ' ', first_len);
		size_t mlen = sp ? (size_t)(sp - b) : first_len;
		bool body = method_has_body(b, mlen);

		if (first_len == 0 || !known_method(b, mlen)) {
			/* evhttp answers (and closes) itself: counted from its output. */
			f->st = F_PASS;
			evbuffer_remove_buffer(f->hold, f->in, len);
			free(b);
			return;
		}
		if (refuse == NULL && f->set.allowed_hosts != NULL) {
			if (hosts != 1)
				refuse = "400 host";
			else if (!host_allowed(f, host, host_len))
				refuse = "421";
		}
		if (refuse == NULL && body && chunked)
			refuse = "411";
		if (refuse == NULL && body && cl > f->set.limits->max_body_bytes)
			refuse = "413";
		if (refuse != NULL) {
			hand_on_refusal(f, b, first_len, refuse);
			evbuffer_drain(f->hold, evbuffer_get_length(f->hold));
			free(b);
			return;
		}
		evbuffer_remove_buffer(f->hold, f->in, len);
		f->body_left = body ? cl : 0;
	}
	free(b);
	if (f->body_left > 0)
		f->st = F_BODY;
	else
		event_del(f->deadline); /* the request is complete */
}

/* Splits hold into lines from where the last look stopped; the length of
 * the complete block, or 0. */
static size_t
block_length(struct framing *f)
{
	struct evbuffer_ptr p;
	size_t eol_len;

	for (;;) {
		if (evbuffer_ptr_set(f->hold, &p, f->scanned, EVBUFFER_PTR_SET) != 0)
			return 0;
		p = evbuffer_search_eol(f->hold, &p, &eol_len, EVBUFFER_EOL_CRLF);
		if (p.pos < 0)
			return 0;
		if ((size_t)p.pos == f->scanned && f->first_line_seen) {
			f->scanned = 0;
			f->first_line_seen = false;
			return (size_t)p.pos + eol_len;
		}
		if (!f->first_line_seen && (size_t)p.pos == 0) {
			/* An empty request line: evhttp refuses it. */
			f->first_line_seen = false;
			return (size_t)p.pos + eol_len;
		}
		f->first_line_seen = true;
		f->scanned = (size_t)p.pos + eol_len;
	}
}

static void
refuse_oversized_block(struct framing *f)
{
	static const char line[] = "GET / HTTP/1.1";

	f->scanned = 0;
	f->first_line_seen = false;
	evbuffer_drain(f->hold, evbuffer_get_length(f->hold));
	hand_on_refusal(f, line, sizeof(line) - 1, "431");
}

/* Moves what hold allows into the input buffer, request by request. */
static void
process_hold(struct framing *f)
{
	for (;;) {
		size_t have = evbuffer_get_length(f->hold), n;

		if (f->st == F_DROP) {
			evbuffer_drain(f->hold, have);
			return;
		}
		if (f->st == F_PASS) {
			evbuffer_add_buffer(f->in, f->hold);
			return;
		}
		if (have == 0)
			return;
		if (f->st == F_BODY) {
			n = have < f->body_left ? have : (size_t)f->body_left;
			evbuffer_remove_buffer(f->hold, f->in, n);
			f->body_left -= n;
			if (f->body_left == 0) {
				f->st = F_HEAD;
				event_del(f->deadline);
			}
			continue;
		}
		/* F_HEAD: a new request's first byte starts its deadline. */
		if (!event_pending(f->deadline, EV_TIMEOUT, NULL)) {
			struct timeval tv = { f->set.limits->read_timeout, 0 };

			event_add(f->deadline, &tv);
		}
		n = block_length(f);
		if (n == 0 || n > f->set.limits->max_header_bytes) {
			if (n > 0 || have > f->set.limits->max_header_bytes)
				refuse_oversized_block(f);
			return;
		}
		take_block(f, n);
	}
}

/* Runs inside the read that added bytes, before evhttp's read callback. */
static void
input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct framing *f = arg;
	struct evbuffer *tmp;
	size_t len, keep;

	if (f->busy || info->n_added == 0)
		return;
	f->busy = true;
	len = evbuffer_get_length(buf);
	keep = len - info->n_added; /* what was there before stays for evhttp */
	tmp = evbuffer_new();
	if (tmp == NULL) {
		f->busy = false;
		close_soon(f);
		return;
	}
	/* The new bytes are at the end and an evbuffer only gives up its
	 * front: move everything out and the old bytes back (no copies). */
	evbuffer_remove_buffer(buf, tmp, len);
	evbuffer_remove_buffer(tmp, buf, keep);
	evbuffer_add_buffer(f->hold, tmp);
	evbuffer_free(tmp);
	process_hold(f);
	f->busy = false;
}

/* evhttp's own answers: a status line, then an HTML body (ours never are). */
static void
output_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	static const char html[] = "<HTML><HEAD>\n<TITLE>";
	struct framing *f = arg;
	struct evbuffer_ptr p;
	char head[24];
	size_t start;
	ev_ssize_t got;

	if (info->n_added == 0)
		return;
	start = evbuffer_get_length(buf) - info->n_added;
	if (evbuffer_ptr_set(buf, &p, start, EVBUFFER_PTR_SET) != 0)
		return;
	got = evbuffer_copyout_from(buf, &p, head, sizeof(head) - 1);
	if (got <= 0)
		return;
	head[got] = '\0';
	if (got >= 12 && strncmp(head, "HTTP/1.", 7) == 0)
		f->last_status = atoi(head + 9);
	else if ((size_t)got >= sizeof(html) - 1 && memcmp(head, html, sizeof(html) - 1) == 0 &&
	    f->set.on_libevent_error != NULL)
		f->set.on_libevent_error(f->set.arg, f->last_status);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	framing_close(arg);
}

struct framing *
framing_new(const struct framing_settings *set, struct bufferevent *bev)
{
	struct framing *f = calloc(1, sizeof(*f));
	struct timeval tv;

	if (f == NULL)
		return NULL;
	f->set = *set;
	f->bev = bev;
	f->in = bufferevent_get_input(bev);
	f->out = bufferevent_get_output(bev);
	f->hold = evbuffer_new();
	f->deadline = evtimer_new(set->base, deadline_cb, f);
	if (f->hold == NULL || f->deadline == NULL)
		goto fail;
	f->in_cb = evbuffer_add_cb(f->in, input_cb, f);
	f->out_cb = evbuffer_add_cb(f->out, output_cb, f);
	if (f->in_cb == NULL || f->out_cb == NULL)
		goto fail;
	tv.tv_sec = set->limits->read_timeout;
	tv.tv_usec = 0;
	event_add(f->deadline, &tv); /* from accept */
	return f;
fail:
	framing_free(f);
	return NULL;
}

void
framing_free(struct framing *f)
{
	if (f == NULL)
		return;
	if (f->in_cb != NULL)
		evbuffer_remove_cb_entry(f->in, f->in_cb);
	if (f->out_cb != NULL)
		evbuffer_remove_cb_entry(f->out, f->out_cb);
	if (f->deadline != NULL)
		event_free(f->deadline);
	if (f->hold != NULL)
		evbuffer_free(f->hold);
	free(f);
}

void
framing_close(struct framing *f)
{
	bufferevent_event_cb eventcb = NULL;
	void *cbarg = NULL;

	event_del(f->deadline);
	f->st = F_DROP;
	/* Already freed by evhttp (callbacks cleared): the sweep closes it. */
	bufferevent_getcb(f->bev, NULL, NULL, &eventcb, &cbarg);
	if (eventcb != NULL)
		eventcb(f->bev, BEV_EVENT_READING | BEV_EVENT_EOF, cbarg);
}

int
framing_refusal(struct evkeyvalq *headers, const char **detail)
{
	const char *v = evhttp_find_header(headers, FRAMING_REFUSE_HEADER);
	int status;

	if (v == NULL)
		return 0;
	status = atoi(v);
	if (status == 413)
		*detail = "the body is larger than limits.max_body_bytes; it was not read";
	else if (status == 411)
		*detail = "a body must come with Content-Length (no Transfer-Encoding)";
	else if (status == 421)
		*detail = "the Host header names no host this server answers for";
	else if (status == 431)
		*detail = "the request header block is larger than limits.max_header_bytes";
	else if (strcmp(v, "400 host") == 0)
		*detail = "exactly one Host header is required";
	else if (strcmp(v, "400 length") == 0)
		*detail = "Content-Length must be one decimal number";
	else if (strcmp(v, "400 fold") == 0)
		*detail = "folded header lines are not accepted";
	else
		*detail = "malformed request header block";
	if (status < 400 || status > 499)
		status = 400;
	evhttp_remove_header(headers, FRAMING_REFUSE_HEADER);
	return status;
}
