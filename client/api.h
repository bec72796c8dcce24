/*
 * api.h - the daemon's HTTP API, through libcurl: over the UNIX socket by
 * default, or a http(s) URL with a bearer token.
 *
 * Ownership: api_new() copies what it needs from its arguments; api_free()
 * releases everything.  An api_reply owns its body and its parsed JSON
 * (api_reply_clear() frees both); the caller owns the reply struct itself.
 */
#ifndef API_H
#define API_H

#include <stddef.h>

#include <jansson.h>

struct api;

/* Where and how to reach the daemon. */
struct api_target {
	const char *socket_path; /* the UNIX socket; used when url is NULL */
	const char *url;         /* "http(s)://host:port", or NULL */
	const char *token;       /* bearer token, or NULL */
};

struct api_reply {
	long status; /* HTTP status; 0 when no answer came */
	char *body;  /* owned, NUL-terminated, may be empty */
	size_t len;
	json_t *json;    /* owned: the parsed body, NULL when not JSON */
	char error[256]; /* transport error when status == 0 */
};

/* NULL (and a message in err) on failure. */
struct api *api_new(const struct api_target *t, char *err, size_t errlen);
void api_free(struct api *a);

/* One request.  PATH starts with "/"; BODY (borrowed, may be NULL) is sent
 * as JSON; EXTRA_HEADER ("Name: value", may be NULL) is added.  Returns the
 * CLI exit code the answer means (CTL_OK for 2xx), and fills *r; the caller
 * calls api_reply_clear(r) in every case. */
int api_call(struct api *a, const char *method, const char *path, const json_t *body,
    const char *extra_header, struct api_reply *r);

void api_reply_clear(struct api_reply *r);

/* api_call(), then api_report() when the answer is not 2xx: what most
 * commands do.  Same return value; the caller still clears R. */
int api_do(struct api *a, const char *prog, const char *method, const char *path,
    const json_t *body, const char *extra_header, struct api_reply *r);

/* The answer's JSON when it is of TYPE; else a message and NULL. */
json_t *api_expect(const char *prog, struct api_reply *r, json_type type);

/* The exit code an HTTP status means (CTL_OK for 2xx). */
int api_status_exit(long status);

/* Prints why a call failed to stderr: the transport error, or the problem's
 * detail and each field error on its own line. */
void api_report(const char *prog, const struct api_reply *r);

#endif
