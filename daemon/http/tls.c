/*
 * tls.c - SSL_CTX from PEM files, swapped on reload.
 */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include "http/tls.h"

struct tls {
	SSL_CTX *ctx; /* owned reference; open connections hold their own */
};

static void
openssl_error(const char *what, const char *file, char *err, size_t errlen)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s \"%s\": %s", what, file, e ? buf : "unknown error");
	ERR_clear_error();
}

static SSL_CTX *
make_ctx(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		snprintf(err, errlen, "TLS: out of memory");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		openssl_error("TLS: minimum version", "1.2", err, errlen);
		goto fail;
	}
	/* No renegotiation or compression: neither is needed, both are attack surface. */
	SSL_CTX_set_options(ctx,
	    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		openssl_error("listen.tls_cert", cert_file, err, errlen);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		openssl_error("listen.tls_key", key_file, err, errlen);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		openssl_error("listen.tls_key does not match listen.tls_cert", key_file, err,
		    errlen);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

struct tls *
tls_new(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	struct tls *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		snprintf(err, errlen, "TLS: out of memory");
		return NULL;
	}
	t->ctx = make_ctx(cert_file, key_file, err, errlen);
	if (t->ctx == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

int
tls_reload(struct tls *t, const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = make_ctx(cert_file, key_file, err, errlen);

	if (ctx == NULL)
		return -1;
	SSL_CTX_free(t->ctx); /* connections still using it hold references */
	t->ctx = ctx;
	return 0;
}

struct bufferevent *
tls_bufferevent_new(struct tls *t, struct event_base *base)
{
	SSL *ssl = SSL_new(t->ctx);
	struct bufferevent *bev;

	if (ssl == NULL)
		return NULL;
	/* BEV_OPT_CLOSE_ON_FREE: freeing the bufferevent frees the SSL too. */
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		SSL_free(ssl);
	return bev;
}

void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}
