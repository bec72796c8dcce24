/*
 * tls.h - the TLS context of the TCP listener (OpenSSL through libevent_openssl).
 *
 * A tls holds the current SSL_CTX made from a certificate chain and a key
 * file (PEM), TLS 1.2 or later.  tls_reload makes a new context from the
 * files and swaps it in for new connections; connections already open keep
 * the context they started with (each SSL holds a reference on it), so a
 * reload drops nobody.
 */
#ifndef ALLIANCE_TLS_H
#define ALLIANCE_TLS_H

#include <stddef.h>

struct bufferevent;
struct event_base;
struct tls;

/* NULL with a message in err when the files cannot be loaded or do not match. */
struct tls *tls_new(const char *cert_file, const char *key_file, char *err, size_t errlen);
/* Re-reads the files (new paths allowed); on error keeps the current context. */
int tls_reload(struct tls *t, const char *cert_file, const char *key_file, char *err,
    size_t errlen);
/* A server-side TLS bufferevent, fd set later by evhttp; NULL on failure. */
struct bufferevent *tls_bufferevent_new(struct tls *t, struct event_base *base);
void tls_free(struct tls *t);

#endif
