/*
 * echo_server.c — the ceiling for a JSON request on this machine (make bench).
 *
 * The least any JSON endpoint can do with the same stack as allianced: one
 * libevent evhttp loop on one thread, the body parsed by Jansson and the
 * parsed value serialised back as the answer (200, application/json).
 * Malformed JSON gets 400, anything but POST 405. No routing, validation,
 * logging or database: whatever allianced spends beyond this is its own.
 *
 * Usage: echo_server PORT   (listens on 127.0.0.1; SIGTERM/SIGINT stop it)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

static void
reply(struct evhttp_request *req, int code, const char *reason, const char *body, size_t len)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "application/json");
	evbuffer_add(out, body, len);
	evhttp_send_reply(req, code, reason, NULL);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	(void)arg;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		static const char msg[] = "{\"error\":\"method not allowed\"}";
		reply(req, 405, "Method Not Allowed", msg, sizeof(msg) - 1);
		return;
	}
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	/* pullup makes the body contiguous (a no-op for a body in one chunk) */
	const char *body = (const char *)evbuffer_pullup(in, -1);
	json_error_t err;
	json_t *doc = json_loadb(body ? body : "", n, 0, &err);
	if (!doc) {
		static const char msg[] = "{\"error\":\"malformed JSON\"}";
		reply(req, 400, "Bad Request", msg, sizeof(msg) - 1);
		return;
	}
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!text) {
		static const char msg[] = "{\"error\":\"out of memory\"}";
		reply(req, 500, "Internal Server Error", msg, sizeof(msg) - 1);
		return;
	}
	reply(req, 200, "OK", text, strlen(text));
	free(text);
}

static void
on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

int
main(int argc, char **argv)
{
	int rc = 1;
	struct event_base *base = NULL;
	struct evhttp *http = NULL;
	struct event *sig_term = NULL, *sig_int = NULL;
	char *end = NULL;
	long port = argc == 2 ? strtol(argv[1], &end, 10) : 0;

	if (argc != 2 || *end || port < 1 || port > 65535) {
		fprintf(stderr, "usage: echo_server PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	if (!base)
		goto fail;
	http = evhttp_new(base);
	if (!http)
		goto fail;
	evhttp_set_gencb(http, on_request, NULL);
	if (evhttp_bind_socket(http, "127.0.0.1", (unsigned short)port) != 0) {
		fprintf(stderr, "echo_server: cannot listen on 127.0.0.1:%ld\n", port);
		goto fail;
	}
	sig_term = evsignal_new(base, SIGTERM, on_signal, base);
	sig_int = evsignal_new(base, SIGINT, on_signal, base);
	if (!sig_term || !sig_int || evsignal_add(sig_term, NULL) || evsignal_add(sig_int, NULL))
		goto fail;
	fprintf(stderr, "echo_server: listening on 127.0.0.1:%ld\n", port);
	if (event_base_dispatch(base) < 0)
		goto fail;
	rc = 0;
fail:
	if (sig_term)
		event_free(sig_term);
	if (sig_int)
		event_free(sig_int);
	if (http)
		evhttp_free(http);
	if (base)
		event_base_free(base);
	return rc;
}
