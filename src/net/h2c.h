/* h2c: HTTP/2 upstream client on a loop (the gateway's Bedrock calls).
 *
 * One h2c per loop thread. Streams to the same host and port share one TLS
 * connection; another is opened only when the peer's
 * SETTINGS_MAX_CONCURRENT_STREAMS is reached, or when the connection is
 * draining after GOAWAY (its streams finish, new ones go to a new one).
 * Everything runs on the loop thread and nothing blocks: DNS runs on a
 * loop_pool helper that posts back, connect and TLS (tls_start, ALPN) are
 * driven by readiness, and the deadlines are loop timers.
 *
 * Flow control: the connection window is given back as soon as DATA is
 * handed to a stream's consumer, the stream window only as the consumer
 * lets it (h2c_pause / h2c_resume), so a slow consumer stalls only its
 * own stream, never the connection. A stream buffers nothing: DATA goes
 * straight from the TLS record buffer to the data callback.
 *
 * Callbacks run on the loop thread. After end or error the stream is gone
 * (do not touch it again); h2c_cancel before that sends RST_STREAM(CANCEL)
 * and no callback follows. A callback may call h2c_cancel/pause/resume on
 * any stream and h2c_open.
 *
 * For a handler that still makes blocking calls on a helper thread, moving
 * to this API is: build the signed request (aws_sign_request), then
 * h2c_open from the loop (loop_post from the helper), and feed the data
 * callback into the same decoder the blocking path feeds.
 *
 * ALPN: only "h2" is spoken here. An endpoint that picks http/1.1 fails
 * every stream with H2C_E_NO_H2 (the caller falls back to the blocking
 * HTTP/1.1 path) and is remembered, so later opens fail at once. */
#ifndef BROCK_H2C_H
#define BROCK_H2C_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "net/loop.h"
#include "wire/hpack.h"

struct tls_trust;
struct h2c_conn;
struct h2c_stream;

#define H2C_CONNECT_MS 10000    /* DNS + TCP + TLS */
#define H2C_SILENCE_MS 300000   /* a stream that hears nothing this long fails */
#define H2C_PING_MS 30000       /* a connection quiet this long with streams is PINGed */
#define H2C_PING_WAIT_MS 20000  /* ... and is dead without an answer within this */
#define H2C_IDLE_MS 60000       /* a connection without streams is closed after this */
#define H2C_STREAM_WINDOW 65535 /* what a consumer may be handed before it resumes */
#define H2C_CONN_WINDOW (16u << 20)
#define H2C_OUT_MAX (1u << 20) /* frames queued per connection */

/* Error codes in struct err's message are words; these tell the caller
 * what it may do (h2c_stream_cb.error's kind). */
enum h2c_kind {
	H2C_E_NET = 1,    /* connection failed or died (retry when no byte had come) */
	H2C_E_NO_H2 = 2,  /* the endpoint does not speak HTTP/2 (use HTTP/1.1) */
	H2C_E_RESET = 3,  /* the peer reset the stream */
	H2C_E_TIMEOUT = 4 /* connect deadline or upstream silence */
};

struct h2c_head {
	int status;
	char request_id[80];   /* x-amzn-requestid (empty when absent) */
	char content_type[96]; /* content-type */
	char error_type[96];   /* x-amzn-errortype */
	/* content-type and every x-amzn-* header as "name: value\n" lines (the
	 * form of aws_response.headers; what does not fit is left out) */
	char lines[512];
};

struct h2c_stream_cb {
	void (*head)(struct h2c_stream *s, void *user, const struct h2c_head *h);
	void (*data)(struct h2c_stream *s, void *user, const uint8_t *p, size_t n);
	void (*end)(struct h2c_stream *s, void *user);
	/* got_head: the response had started (no retry then). */
	void (*error)(struct h2c_stream *s, void *user, int kind, int got_head,
		      const struct err *e);
};

/* The request. Field names lowercase; rep HPACK_REP_NEVER for secrets
 * (authorization, x-amz-security-token). Everything is copied by h2c_open. */
struct h2c_req {
	const char *method;
	const char *path;
	const struct hpack_field *fields;
	size_t nfields;
	const uint8_t *body;
	size_t nbody;
};

struct h2c_stats {
	uint64_t conns_opened, streams_opened, resets_sent, pings_sent;
	size_t conns_open, streams_open;
};

struct h2c {
	struct loop *loop;
	struct loop_pool *pool;
	const struct tls_trust *trust;
	struct h2c_conn *conns;
	char no_h2[8][272]; /* host:port that chose http/1.1 (a small ring) */
	unsigned no_h2_next;
	struct h2c_stats st;
	int64_t connect_ms, silence_ms; /* tests shorten them */
};

void h2c_init(struct h2c *c, struct loop *l, struct loop_pool *pool, const struct tls_trust *trust);
/* Fails every stream (error callbacks), closes every connection. Connections
 * whose DNS job still runs are freed when it posts back: keep the loop
 * running until h2c_idle. */
void h2c_free(struct h2c *c);
int h2c_idle(const struct h2c *c);

/* Opens a stream to https://host:port. *out is valid until its end or error
 * callback, or h2c_cancel. Fails only on arguments or memory. */
int h2c_open(struct h2c *c, const char *host, int port, const struct h2c_req *rq,
	     const struct h2c_stream_cb *cb, void *user, struct h2c_stream **out, struct err *e);
/* The consumer is over its bound: stop granting this stream window. */
void h2c_pause(struct h2c_stream *s);
/* ... and has room again: grant what was consumed. */
void h2c_resume(struct h2c_stream *s);
/* The consumer leaves: RST_STREAM(CANCEL); no further callbacks. */
void h2c_cancel(struct h2c_stream *s);

#endif
