/*
 * framing.h - each connection's request framing, seen before evhttp reads it.
 *
 * libevent 2.1 decides a request's fate only after it has read the body
 * (its 413 is HTML, after reading), and it has no deadline for a whole
 * request, only for silence.  A framing watches the bytes a connection's
 * bufferevent receives (a callback on its input buffer, run inside the
 * read, before evhttp's read callback) and holds back each request's
 * header block until it is complete.  Then it either passes the block on
 * unchanged (and counts its body through) or, for a request it refuses
 * (body over limits.max_body_bytes, a chunked upload, a Host outside the
 * allowlist, a header block over limits.max_header_bytes, ambiguous
 * framing), hands evhttp a bodiless stand-in with the same request line,
 * "Connection: close" and a FRAMING_REFUSE_HEADER naming the status; the
 * router answers it as problem+json in the connection's order, and the
 * body is never read (whatever follows is dropped as it arrives).
 *
 * Why not a filtering bufferevent: bufferevent_filter hands evhttp its
 * "written" callback when the bytes reach the underlying buffer, not the
 * socket, so evhttp frees a "Connection: close" answer before it is sent;
 * and it does not write output queued while EV_WRITE was off, as evhttp
 * does.  Watching the input buffer leaves evhttp's own bufferevent (plain
 * or TLS) doing all the I/O.
 *
 * The deadline: limits.request_read_timeout runs from accept, and from the
 * first byte of each later request, to the end of that request's body;
 * when it passes, the connection is closed whatever the client still
 * trickles.  Answers evhttp writes itself (HTML, for request lines it
 * cannot parse) are seen on the output buffer and reported through
 * on_libevent_error.
 */
#ifndef ALLIANCE_FRAMING_H
#define ALLIANCE_FRAMING_H

#include <stddef.h>

struct bufferevent;
struct event_base;
struct evkeyvalq;
struct framing;

/* The header a refused request's stand-in carries: "413", "411", ... */
#define FRAMING_REFUSE_HEADER "X-Alliance-Refuse"

/* Reloadable; the server owns them and framings read them at each request. */
struct framing_limits {
	size_t max_body_bytes;
	size_t max_header_bytes;
	int read_timeout; /* seconds from accept (or first byte) to a complete request */
};

struct framing_settings {
	struct event_base *base;
	const struct framing_limits *limits; /* borrowed; outlives the framing */
	/* NULL-terminated Host names a request may carry (port ignored);
	 * NULL: no Host check (the UNIX socket).  Borrowed. */
	const char *const *allowed_hosts;
	/* evhttp wrote one of its own (HTML) error answers with this status. */
	void (*on_libevent_error)(void *arg, int status);
	void *arg;
};

/* Starts watching bev (borrowed; free the framing before bev goes). NULL on
 * allocation failure. */
struct framing *framing_new(const struct framing_settings *set, struct bufferevent *bev);
/* Stops watching (removes the buffer callbacks) and frees. */
void framing_free(struct framing *f);
/* Ends the connection now: evhttp sees end-of-file and frees it. */
void framing_close(struct framing *f);

/* For the router: the status a stand-in request carries (0 when none) with
 * the problem's detail; the header is removed from headers. */
int framing_refusal(struct evkeyvalq *headers, const char **detail);

#endif
