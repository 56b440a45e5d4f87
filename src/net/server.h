/* server: the HTTP/1.1 listener of serve mode. One thread per client
 * connection (capped), keep-alive, bounded requests, timeouts, graceful stop.
 * Requests are parsed with http.h (request mode) and handed whole (headers
 * plus a body of at most max_body bytes) to the caller's handler, which
 * answers with server_reply (Content-Length) or server_stream_* (chunked,
 * each piece written to the socket at once: SSE). Knows nothing about
 * OpenAI or AWS.
 *
 * Limits: header section HTTP_HEAD_MAX (64 KiB, else 431), body max_body
 * (else 413), SERVER_MAX_CONNS connections (at the cap, a newcomer takes
 * the slot of a connection that sits idle -- between requests, or silent
 * for SERVER_REAP_FRESH_MS since it was opened -- waiting at most
 * SERVER_REAP_WAIT_MS for it to close; with none idle it is answered 503 at
 * once and closed), idle_ms of silence between requests on a kept-alive
 * connection, read_ms of silence inside a request and request_ms for the
 * whole of it (else 408), write_ms for
 * a client that does not read (the write fails; the handler sees an error).
 *
 * Stopping: server_run returns when *stop becomes non-zero (a signal
 * handler sets it): the listener is closed at once, idle connections close
 * within a poll step, requests in progress finish (their responses say
 * Connection: close) for at most drain_ms. */
#ifndef BROCK_SERVER_H
#define BROCK_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "wire/http.h"

#define SERVER_MAX_CONNS 64
#define SERVER_MAX_BODY (8u << 20)
#define SERVER_IDLE_MS 60000
#define SERVER_READ_MS 30000
#define SERVER_WRITE_MS 30000
#define SERVER_DRAIN_MS 30000
#define SERVER_REQUEST_MS 120000 /* a whole request (headers and body) must arrive in this */
#define SERVER_STACK (1u << 20) /* per connection thread; struct aws_creds alone is ~17 KiB */
#define SERVER_HOST_MAX 256
#define SERVER_ADDR_MAX 300     /* "[v6 address]:port" */
#define SERVER_POLL_MS 200      /* how soon a stop request is noticed */
#define SERVER_REAP_FRESH_MS 1000 /* a new connection silent this long may be reaped at the cap */
#define SERVER_REAP_WAIT_MS (2 * SERVER_POLL_MS + 100)

struct server_request {
	const struct http_parser *p; /* method, target, version, headers (http_header) */
	struct slice path;           /* target up to '?' */
	struct slice query;          /* after '?' (may be empty) */
	const uint8_t *body;
	size_t body_len;
};

struct server_conn; /* one client connection (opaque) */

/* Answers one request. Must answer it (server_reply or a complete stream);
 * a handler that returns without answering gets a 500. */
typedef void (*server_handler_fn)(void *user, struct server_conn *c,
				  const struct server_request *rq);
/* Writes an error answer for the server's own refusals (400, 408, 413, 431,
 * 503) through server_reply: the caller decides the body's shape. */
typedef void (*server_error_fn)(void *user, struct server_conn *c, int status, const char *msg);
/* Called once per answered request (also the server's own refusals; rq is
 * NULL when no request was parsed), after the answer was written. */
typedef void (*server_done_fn)(void *user, const struct server_request *rq, int status);

struct server_opts {
	int max_conns;     /* 0: SERVER_MAX_CONNS */
	size_t max_body;   /* 0: SERVER_MAX_BODY */
	int idle_ms, read_ms, write_ms, drain_ms, request_ms; /* 0: the defaults above */
};

struct server {
	int fd;
	int inited;
	int family;
	int loopback;                /* bound to a loopback address */
	char url[SERVER_ADDR_MAX + 8]; /* "http://127.0.0.1:8080" with the real port */
	struct server_opts o;
	server_handler_fn handler;
	server_error_fn error;
	server_done_fn done;
	void *user;
	/* Set by a signal handler, read by every thread: an atomic (lock-free,
	 * so async-signal-safe), not a volatile sig_atomic_t, which is only
	 * defined for the thread the handler interrupted. */
	const atomic_int *stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int active;              /* connection threads alive */
	int idle;                /* of those, waiting for a request */
	int reap;                /* idle connections asked to close (at the cap) */
	unsigned long accepted;  /* connections accepted */
	unsigned long rejected;  /* answered 503 (over the cap, no thread) */
};

/* "ADDR:PORT" -> host and port: "127.0.0.1:8080", "[::1]:0", "localhost:80".
 * The port is decimal 0..65535 (0: any free port). ERR_USAGE when malformed. */
int server_parse_listen(const char *s, char *host, size_t hostn, unsigned *port, struct err *e);

/* 1 when the listen address s resolves to loopback only (127.0.0.0/8, ::1,
 * ::ffff:127.x) without binding anything; 0 otherwise; -1 with e filled
 * when it is malformed or does not resolve. */
int server_listen_is_loopback(const char *s, struct err *e);

/* Parses, resolves (numeric or a local name), binds and listens. The
 * handler fields and stop must be set before server_run. */
int server_open(struct server *s, const char *addr, const struct server_opts *o, struct err *e);
/* Accepts until *s->stop, then drains (see above). 0, or -1 when accepting
 * failed for good. */
int server_run(struct server *s, struct err *e);
void server_close(struct server *s);

/* ---- answering (from the handler, on its connection) ---- */

/* A whole answer with Content-Length. extra: "Name: value\r\n" lines or
 * NULL. Returns 0, or -1 when the client is gone (nothing else to do). */
int server_reply(struct server_conn *c, int status, const char *ctype, const char *extra,
		 const void *body, size_t n);
/* A streamed answer: the status line and headers (Transfer-Encoding:
 * chunked on HTTP/1.1; an HTTP/1.0 client gets the raw bytes and the
 * connection closes after), then pieces, each sent at once, then the end. */
int server_stream_start(struct server_conn *c, int status, const char *ctype, const char *extra);
int server_stream_send(struct server_conn *c, const void *p, size_t n);
int server_stream_end(struct server_conn *c);
/* The status already sent on this request (0: nothing sent yet). */
int server_status(const struct server_conn *c);
/* 1 once a write to the client failed (it went away or stopped reading). */
int server_client_gone(const struct server_conn *c);


#endif
