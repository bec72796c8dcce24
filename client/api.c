/*
 * api.c - HTTP requests to allianced through libcurl (one easy handle,
 * reused, so a command that pages through a list keeps one connection).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "api.h"
#include "ctl.h"

struct api {
	CURL *curl;        /* owned */
	char *base;        /* owned: "http://localhost" for the socket, else the URL */
	char *socket_path; /* owned, or NULL */
	char *auth;        /* owned: "Authorization: Bearer ...", or NULL */
};

struct api *
api_new(const struct api_target *t, char *err, size_t errlen)
{
	struct api *a = calloc(1, sizeof(*a));
	size_t n;

	if (a == NULL)
		goto nomem;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		snprintf(err, errlen, "libcurl could not be initialised");
		free(a);
		return NULL;
	}
	a->curl = curl_easy_init();
	if (a->curl == NULL)
		goto nomem;
	if (t->url != NULL) {
		if (strncmp(t->url, "http://", 7) != 0 && strncmp(t->url, "https://", 8) != 0) {
			snprintf(err, errlen, "--url must start with http:// or https://");
			goto fail;
		}
		a->base = strdup(t->url);
		if (a->base == NULL)
			goto nomem;
		n = strlen(a->base);
		while (n > 0 && a->base[n - 1] == '/')
			a->base[--n] = '\0';
	} else {
		a->base = strdup("http://localhost");
		a->socket_path = strdup(t->socket_path);
		if (a->base == NULL || a->socket_path == NULL)
			goto nomem;
	}
	if (t->token != NULL) {
		if (asprintf(&a->auth, "Authorization: Bearer %s", t->token) < 0) {
			a->auth = NULL;
			goto nomem;
		}
	}
	return a;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	api_free(a);
	return NULL;
}

void
api_free(struct api *a)
{
	if (a == NULL)
		return;
	if (a->curl != NULL) {
		curl_easy_cleanup(a->curl);
		curl_global_cleanup();
	}
	free(a->base);
	free(a->socket_path);
	if (a->auth != NULL) {
		/* The token must not linger in freed memory. */
		memset(a->auth, 0, strlen(a->auth));
		free(a->auth);
	}
	free(a);
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct api_reply *r = arg;
	size_t n = size * nmemb;
	char *p = realloc(r->body, r->len + n + 1);

	if (p == NULL)
		return 0; /* curl fails the transfer: CURLE_WRITE_ERROR */
	memcpy(p + r->len, data, n);
	r->len += n;
	p[r->len] = '\0';
	r->body = p;
	return n;
}

int
api_status_exit(long status)
{
	if (status >= 200 && status < 300)
		return CTL_OK;
	if (status == 401 || status == 403)
		return CTL_UNAUTHORISED;
	if (status == 0 || status >= 500)
		return CTL_UNAVAILABLE;
	return CTL_REFUSED;
}

static int
prepare(struct api *a, const char *method, const char *path, const json_t *body, char **payload,
    struct api_reply *r)
{
	char *url = NULL;
	CURL *c = a->curl;

	curl_easy_reset(c);
	if (asprintf(&url, "%s%s", a->base, path) < 0)
		return -1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	free(url); /* curl copies it */
	if (a->socket_path != NULL)
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, a->socket_path);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->error);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "alliancectl/" ALLIANCE_VERSION);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	if (body != NULL) {
		*payload = json_dumps(body, JSON_COMPACT);
		if (*payload == NULL)
			return -1;
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, *payload);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(*payload));
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	}
	return 0;
}

int
api_call(struct api *a, const char *method, const char *path, const json_t *body,
    const char *extra_header, struct api_reply *r)
{
	struct curl_slist *h = NULL, *tmp;
	const char *hdrs[4];
	char *payload = NULL;
	CURLcode cc;
	int i, n = 0, rc = CTL_UNAVAILABLE;

	memset(r, 0, sizeof(*r));
	if (prepare(a, method, path, body, &payload, r) != 0) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		goto out;
	}
	hdrs[n++] = "Accept: application/json, application/problem+json";
	hdrs[n++] = body != NULL ? "Content-Type: application/json" : "Expect:";
	if (a->auth != NULL)
		hdrs[n++] = a->auth;
	if (extra_header != NULL)
		hdrs[n++] = extra_header;
	for (i = 0; i < n; i++) {
		tmp = curl_slist_append(h, hdrs[i]);
		if (tmp == NULL) {
			snprintf(r->error, sizeof(r->error), "out of memory");
			goto out;
		}
		h = tmp;
	}
	curl_easy_setopt(a->curl, CURLOPT_HTTPHEADER, h);
	cc = curl_easy_perform(a->curl);
	if (cc != CURLE_OK) {
		if (r->error[0] == '\0')
			snprintf(r->error, sizeof(r->error), "%s", curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->body != NULL)
		r->json = json_loadb(r->body, r->len, JSON_DECODE_ANY, NULL);
	rc = api_status_exit(r->status);
out:
	curl_easy_setopt(a->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(a->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(a->curl, CURLOPT_WRITEDATA, NULL);
	curl_slist_free_all(h);
	free(payload);
	return rc;
}

void
api_reply_clear(struct api_reply *r)
{
	free(r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

void
api_report(const char *prog, const struct api_reply *r)
{
	const char *detail, *field, *msg;
	json_t *errors, *e;
	size_t i;

	if (r->status == 0) {
		fprintf(stderr, "%s: the daemon is unreachable: %s\n", prog, r->error);
		return;
	}
	detail = json_string_value(json_object_get(r->json, "detail"));
	if (detail == NULL)
		detail = json_string_value(json_object_get(r->json, "title"));
	fprintf(stderr, "%s: %ld: %s\n", prog, r->status,
	    detail != NULL ? detail : "the daemon refused the request");
	errors = json_object_get(r->json, "errors");
	json_array_foreach (errors, i, e) {
		field = json_string_value(json_object_get(e, "field"));
		msg = json_string_value(json_object_get(e, "message"));
		fprintf(stderr, "  %s: %s\n", field != NULL ? field : "(body)",
		    msg != NULL ? msg : "invalid");
	}
}

int
api_do(struct api *a, const char *prog, const char *method, const char *path, const json_t *body,
    const char *extra_header, struct api_reply *r)
{
	int rc = api_call(a, method, path, body, extra_header, r);

	if (rc != CTL_OK)
		api_report(prog, r);
	return rc;
}

json_t *
api_expect(const char *prog, struct api_reply *r, json_type type)
{
	if (r->json != NULL && json_typeof(r->json) == type)
		return r->json;
	fprintf(stderr, "%s: the daemon's answer is not the expected JSON\n", prog);
	return NULL;
}
