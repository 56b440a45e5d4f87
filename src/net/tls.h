/* tls: TLS client sessions and trust anchors.
 * The only module that knows the TLS library (BearSSL today). A session is
 * driven over a caller-supplied byte transport (struct tls_io: conn.c's
 * socket with deadlines), so this file never touches a socket and a TLS 1.3
 * backend could replace it behind the same few functions.
 *
 * Policy, fixed (no switches): TLS 1.2 only; ECDHE_{ECDSA,RSA} with
 * AES-128/256-GCM; SNI always sent; the certificate chain and the host name
 * always verified against the system clock. */
#ifndef BROCK_TLS_H
#define BROCK_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "base/env.h"
#include "base/err.h"

/* Limits: a bundle file is at most TLS_BUNDLE_MAX bytes, one certificate at
 * most TLS_CERT_MAX bytes of DER, at most TLS_ANCHORS_MAX anchors in a set. */
#define TLS_BUNDLE_MAX (8u << 20)
#define TLS_CERT_MAX (64u << 10)
#define TLS_ANCHORS_MAX 4096

/* A set of trust anchors, owned by the caller (zero-initialise it). */
struct tls_trust {
	void *ta;         /* br_x509_trust_anchor[n]; owned */
	size_t n, cap;
	char source[288]; /* where the anchors came from, for messages */
};

/* Loads anchors once: AWS_CA_BUNDLE, else SSL_CERT_FILE, else the first
 * existing system bundle, else the Amazon roots compiled in. A variable that
 * is set but names an unreadable file or a file without any certificate is
 * an error (ERR_USAGE) that names the variable. A no-op when already loaded.
 * The environment is passed in (env.h), never read here. */
int tls_trust_load(struct tls_trust *t, const struct env *env, struct err *e);

/* Adds every decodable certificate of a PEM bundle (RSA or EC key) as an
 * anchor; undecodable ones (bad base64, a label other than CERTIFICATE,
 * X509 CERTIFICATE or TRUSTED CERTIFICATE, no matching END line) are skipped. *added (may be NULL) gets the count.
 * Fails only on a limit or on memory. Pure: no I/O. */
int tls_trust_add_pem(struct tls_trust *t, const void *pem, size_t n, size_t *added,
		      struct err *e);

/* Adds a DER certificate as an anchor: 1 when added, 0 when it is not a
 * certificate with an RSA or P-256/384/521 key (skipped), -1 on a limit or
 * on memory. Pure: no I/O. */
int tls_trust_add_der(struct tls_trust *t, const void *der, size_t n, struct err *e);

/* Adds the Amazon Trust Services roots compiled into the binary. */
int tls_trust_add_builtin(struct tls_trust *t, size_t *added, struct err *e);

void tls_trust_free(struct tls_trust *t);

/* The byte transport a session runs over. read stores 0 in *got at end of
 * stream; both may transfer fewer bytes than asked; both return 0 or -1
 * with e filled (timeouts, resets). */
struct tls_io {
	int (*read)(void *ctx, uint8_t *p, size_t n, size_t *got, struct err *e);
	int (*write)(void *ctx, const uint8_t *p, size_t n, size_t *put, struct err *e);
	void *ctx;
};

struct tls; /* one client session (about 40 KiB, heap) */

/* Runs the full handshake with host (SNI + name check) before returning, so
 * certificate problems surface here as ERR_NET with a clear message. io must
 * outlive the session. */
int tls_open(struct tls **out, const struct tls_trust *trust, const char *host,
	     const struct tls_io *io, struct err *e);

/* Reads decrypted bytes; *got = 0 means the peer closed the stream. */
int tls_read(struct tls *t, uint8_t *p, size_t n, size_t *got, struct err *e);

/* Buffers bytes for sending (full records go out as they fill); tls_flush
 * pushes out what remains. */
int tls_write(struct tls *t, const uint8_t *p, size_t n, struct err *e);
int tls_flush(struct tls *t, struct err *e);

/* Nonzero when decrypted bytes are waiting (an idle pooled session with
 * pending data is not clean and must not be reused). */
int tls_pending(const struct tls *t);

/* Frees the session (no close_notify: the caller closes the socket). NULL ok. */
void tls_close(struct tls *t);

/* ---- Non-blocking sessions (the gateway's loop) ----
 * The caller owns the socket and moves bytes between it and the engine's
 * buffers as readiness allows; nothing here blocks or does I/O, so a session
 * can be driven from a test without any socket at all:
 *
 *     st = tls_state(t);
 *     if (st & TLS_WANT_WRITE) { p = tls_rec_out(t, &n); k = write(fd, p, n); tls_rec_out_ack(t, k); }
 *     if (st & TLS_WANT_READ)  { p = tls_rec_in(t, &n);  k = read(fd, p, n);  tls_rec_in_ack(t, k); }
 *     if (st & TLS_CAN_READ)   { p = tls_app_in(t, &n);  use; tls_app_in_ack(t, used); }
 *     if (st & TLS_CAN_WRITE)  { p = tls_app_out(t, &n); fill; tls_app_out_ack(t, k); tls_app_flush(t); }
 *     if (st & TLS_CLOSED)     r = tls_status(t, e);   // 1 clean end, -1 error (message as tls_open's)
 *
 * Re-read tls_state after every ack: one ack can change every bit. The
 * session offers ALPN "h2" then "http/1.1"; tls_alpn names the choice once
 * TLS_UP is set (NULL: the server chose none, which means HTTP/1.1).
 * Verification is tls_open's: chain against the trust anchors, host name. */
enum {
	TLS_WANT_WRITE = 1u, /* encrypted records wait to be written to the socket */
	TLS_WANT_READ = 2u,  /* the engine takes records read from the socket */
	TLS_CAN_READ = 4u,   /* decrypted application bytes are waiting */
	TLS_CAN_WRITE = 8u,  /* application bytes can be queued */
	TLS_CLOSED = 16u,    /* the session ended (tls_status says how) */
	TLS_UP = 32u         /* the handshake has completed */
};

/* Starts a client session for host; the ClientHello waits in tls_rec_out.
 * mono: one BR_SSL_BUFSIZE_MONO buffer (about 16 KiB less; strictly
 * request-then-response, enough for HTTP/1.1), else a two-way buffer. */
int tls_start(struct tls **out, const struct tls_trust *trust, const char *host, int mono,
	      struct err *e);
unsigned tls_state(struct tls *t);
/* 0 while open, 1 after a clean end, -1 with e filled after a failure. */
int tls_status(const struct tls *t, struct err *e);
const uint8_t *tls_rec_out(struct tls *t, size_t *n);
void tls_rec_out_ack(struct tls *t, size_t n);
uint8_t *tls_rec_in(struct tls *t, size_t *n);
void tls_rec_in_ack(struct tls *t, size_t n); /* 0: the transport reached end of stream */
const uint8_t *tls_app_in(struct tls *t, size_t *n);
void tls_app_in_ack(struct tls *t, size_t n);
uint8_t *tls_app_out(struct tls *t, size_t *n);
void tls_app_out_ack(struct tls *t, size_t n);
void tls_app_flush(struct tls *t); /* send what is queued as a record now */
const char *tls_alpn(struct tls *t);

/* The name of a BearSSL error code (for messages and tests). */
const char *tls_error_name(int code);

#endif
