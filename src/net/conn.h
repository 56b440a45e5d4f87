/* conn: client connections. TCP (IPv4 and IPv6, every resolved address in
 * turn, non-blocking connect with a deadline), read/write with a deadline
 * per operation (the longest silence tolerated), proxies (HTTP CONNECT for
 * https targets, forwarding for http targets, NO_PROXY), TLS via tls.h, and
 * a keep-alive pool owned by the caller. Outgoing sockets live here alone;
 * the listening side is server.h. */
#ifndef BROCK_CONN_H
#define BROCK_CONN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/env.h"
#include "base/err.h"
#include "net/tls.h"
#include "wire/url.h"

#define CONN_CONNECT_TIMEOUT_MS 10000 /* default: connecting alone */
#define CONN_IO_TIMEOUT_MS 300000     /* default: any read/write/handshake step */
#define CONN_IOBUF 16384 /* bytes read from a connection at once (conn_iobuf) */
#define CONN_POOL_MAX 64              /* idle connections kept (a gateway runs many calls at once) */
#define CONN_IDLE_MAX_S 50            /* an idle connection older than this is closed */

struct conn_opts {
	int connect_timeout_ms; /* 0: CONN_CONNECT_TIMEOUT_MS */
	int io_timeout_ms;      /* 0: CONN_IO_TIMEOUT_MS */
};

struct conn; /* opaque: one open connection */

/* The keep-alive pool and everything a connection needs from the process:
 * the environment (proxies) and the trust anchors, loaded on first TLS use.
 * Safe to share between threads. */
struct conn_pool {
	const struct env *env;
	struct tls_trust trust;
	pthread_mutex_t mu;
	struct conn *idle[CONN_POOL_MAX];
	size_t nidle;
	unsigned long opened; /* connections opened (tests, metrics) */
	unsigned long reused; /* connections taken from the pool */
};

/* env must outlive the pool. */
void conn_pool_init(struct conn_pool *p, const struct env *env);
/* Closes idle connections and frees the anchors. */
void conn_pool_free(struct conn_pool *p);
/* Loads the trust anchors now (so a bad AWS_CA_BUNDLE is reported early). */
int conn_pool_load_trust(struct conn_pool *p, struct err *e);

/* A connection to u's scheme+host+port (through the proxy the environment
 * names unless NO_PROXY matches): an idle one from the pool unless fresh,
 * else a new one (TLS handshake done for https). opts may be NULL. */
int conn_get(struct conn_pool *p, const struct url *u, const struct conn_opts *opts, int fresh,
	     struct conn **out, struct err *e);
/* Returns a connection that can carry another request to the pool. */
void conn_put(struct conn_pool *p, struct conn *c);
/* Closes and frees (NULL ok). */
void conn_close(struct conn *c);
/* The connection's own input buffer of CONN_IOBUF bytes (NULL when out of
 * memory): it lives as long as the connection, so a reused connection
 * costs no allocation per request. */
uint8_t *conn_iobuf(struct conn *c);

/* 1 when the connection came from the pool (it may have gone stale). */
int conn_reused(const struct conn *c);
/* 1 when a read or write failed by timing out (not worth a retry). */
int conn_timed_out(const struct conn *c);
/* Plain http through a proxy: requests use the absolute-form target and
 * carry conn_proxy_auth() (a "Basic ..." value, or NULL) as
 * Proxy-Authorization. */
int conn_forward_proxy(const struct conn *c);
const char *conn_proxy_auth(const struct conn *c);

/* Reads up to n bytes; *got = 0 at end of stream. Waits at most the I/O
 * timeout: "timed out after N s waiting for HOST" (ERR_NET). */
int conn_read(struct conn *c, uint8_t *p, size_t n, size_t *got, struct err *e);
/* Writes all n bytes (TLS: may stay buffered until conn_flush). */
int conn_write(struct conn *c, const void *p, size_t n, struct err *e);
int conn_flush(struct conn *c, struct err *e);

#endif
