/* server: the HTTP/1.1 and cleartext HTTP/2 listener of serve mode, on
 * event loops (loop.h).
 *
 * One epoll loop per core shares one non-blocking listener (each loop
 * watches it with EPOLLEXCLUSIVE). Every client connection is a state
 * machine on one loop (server_conn.c): wait for a request -> read the
 * header section -> the head hook (authorise: no body byte is read and no
 * 100 Continue is sent for a request it refuses) -> read the body -> the
 * handler -> write out -> keep-alive or close. Nothing on a loop thread
 * blocks: a handler that does blocking I/O runs on a helper thread
 * (loop_pool) and its answer reaches the client through the connection's
 * bounded output buffer, which the loop writes as the socket allows.
 *
 * Limits: header section HTTP_HEAD_MAX (64 KiB, else 431) within head_ms
 * (10 s) of the request's first byte (of the connection, for its first
 * request), the whole request within request_ms (60 s) (else 408), idle_ms
 * (60 s) between kept-alive requests, a body of at most max_body (else
 * 413), all bodies held at once at most body_budget (else 503 with
 * Retry-After), max_conns connections (at the cap a newcomer takes the
 * slot of an idle kept-alive connection of its loop, else 503), per client
 * address max_conns_per_ip (503). A client whose unread output exceeds
 * out_max makes the handler's server_stream_send wait (backpressure: it
 * stops reading its upstream); one that reads nothing for write_ms while
 * output waits is dropped, and the handler sees server_client_gone.
 *
 * HTTP/2 with prior knowledge (server_h2.c): a connection that opens with
 * the client preface is served as HTTP/2; each stream is handed to the
 * hooks and answered through this API as a struct server_conn of its own
 * (its request an http_parser filled from the header block, version 20),
 * with the same limits per stream and per connection.
 *
 * Stopping: when *stop becomes non-zero every request that starts from
 * then on (on open or new connections) gets 503 with Connection: close,
 * requests not yet complete and idle connections are closed at once,
 * running answers finish (Connection: close) for at most drain_ms, then
 * server_run returns. */
#ifndef BROCK_SERVER_H
#define BROCK_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "net/loop.h"
#include "wire/http.h"

#define SERVER_MAX_CONNS 10000
#define SERVER_MAX_PER_IP 256
#define SERVER_MAX_BODY (8u << 20)
#define SERVER_BODY_BUDGET (128u << 20) /* all request bodies held at once */
#define SERVER_OUT_MAX (64u << 10)      /* unread output per client before backpressure */
#define SERVER_HEAD_MS 10000
#define SERVER_REQUEST_MS 60000
#define SERVER_IDLE_MS 60000
#define SERVER_WRITE_MS 30000
#define SERVER_DRAIN_MS 30000
#define SERVER_MAX_LOOPS 64
#define SERVER_MAX_THREADS 4096   /* helper threads running blocking handlers */
#define SERVER_MAX_PROXIES 32     /* serve.trustedProxies entries */
#define SERVER_HOST_MAX 256
#define SERVER_ADDR_MAX 300       /* "[v6 address]:port" */
#define SERVER_CLIENT_MAX 48      /* a client address as text */

struct server_request {
	const struct http_parser *p; /* method, target, version, headers (http_header) */
	struct slice path;           /* target up to '?' */
	struct slice query;          /* after '?' (may be empty) */
	const uint8_t *body;         /* NULL in the head hook */
	size_t body_len;
	const char *client;          /* the client's address (X-Forwarded-For behind a trusted proxy) */
};

struct server_conn; /* one client connection (opaque) */

/* What the head hook decided. */
enum server_go {
	SERVER_GO = 0,        /* read the body; run the handler on a helper thread (may block) */
	SERVER_GO_INLINE = 1, /* read the body; run the handler on the loop thread (must not block) */
	SERVER_ANSWERED = 2   /* answered (a refusal): the body is not read, the connection closes */
};

/* Called on the loop thread once the header section is complete. */
typedef int (*server_head_fn)(void *user, struct server_conn *c, const struct server_request *rq);
/* Answers one request. Must answer it (server_reply or a complete stream);
 * a handler that returns without answering gets a 500. */
typedef void (*server_handler_fn)(void *user, struct server_conn *c,
				  const struct server_request *rq);
/* Writes an error answer for the server's own refusals (400, 408, 413, 431,
 * 503) through server_reply: the caller decides the body's shape. Runs on
 * the loop thread. */
typedef void (*server_error_fn)(void *user, struct server_conn *c, int status, const char *msg);
/* Called once per answered request (also the server's own refusals; rq is
 * NULL when no request was parsed), on the loop thread, once the handler
 * has returned. */
typedef void (*server_done_fn)(void *user, struct server_conn *c, const struct server_request *rq,
			       int status);
/* Events of a deferred answer (server_defer). */
typedef void (*server_async_fn)(void *user, struct server_conn *c, int ev);

struct server_opts {
	int max_conns;        /* 0: SERVER_MAX_CONNS */
	int max_conns_per_ip; /* 0: SERVER_MAX_PER_IP */
	size_t max_body;      /* 0: SERVER_MAX_BODY */
	size_t body_budget;   /* 0: SERVER_BODY_BUDGET */
	size_t out_max;       /* 0: SERVER_OUT_MAX */
	int head_ms, request_ms, idle_ms, write_ms, drain_ms; /* 0: the defaults above */
	int loops;            /* 0: one per online CPU */
	int max_threads;      /* 0: SERVER_MAX_THREADS */
	/* client addresses whose X-Forwarded-For is believed (numeric IPv4/IPv6) */
	char proxies[SERVER_MAX_PROXIES][SERVER_CLIENT_MAX];
	size_t nproxies;
};

struct server_ipt; /* per-address connection counts (server.c) */
struct server_loop;

struct server {
	int fd;
	int inited;
	int family;
	int loopback;                  /* bound to a loopback address */
	char url[SERVER_ADDR_MAX + 8]; /* "http://127.0.0.1:8080" with the real port */
	struct server_opts o;          /* limits: change with server_set_limits */
	server_head_fn head;
	server_handler_fn handler;
	server_error_fn error;
	server_done_fn done;
	void (*tick)(void *user); /* on the first loop, about every LOOP_MAX_WAIT_MS */
	void *user;
	/* Set by a signal handler, read by every loop: an atomic (lock-free,
	 * so async-signal-safe), not a volatile sig_atomic_t. */
	const atomic_int *stop;

	/* run time */
	struct server_loop *loops;
	int nloops;
	struct loop_pool pool;
	struct server_ipt *ipt;
	pthread_mutex_t mu; /* o (limits), ipt */
	atomic_int draining, quit;
	atomic_llong drain_until; /* clock_ms: set by the loop that saw the stop first */
	atomic_long conns;      /* open client connections */
	atomic_long busy;       /* requests being handled or written */
	atomic_long streams;    /* streamed answers in progress */
	atomic_size_t body_held; /* request body bytes held (budgeted) */
	atomic_ulong accepted;  /* connections accepted */
	atomic_ulong rejected;  /* refused with 503 (a cap or the body budget) */
	atomic_ulong dropped;   /* clients dropped for not reading */
};

/* "ADDR:PORT" -> host and port: "127.0.0.1:8080", "[::1]:0", "localhost:80".
 * The port is decimal 0..65535 (0: any free port). ERR_USAGE when malformed. */
int server_parse_listen(const char *s, char *host, size_t hostn, unsigned *port, struct err *e);

/* 1 when the listen address s resolves to loopback only (127.0.0.0/8, ::1,
 * ::ffff:127.x) without binding anything; 0 otherwise; -1 with e filled
 * when it is malformed or does not resolve. */
int server_listen_is_loopback(const char *s, struct err *e);
/* A numeric IPv4 or IPv6 address -> 16 bytes (IPv4 as ::ffff:a.b.c.d); -1 when not one. */
int server_ip_parse(const char *txt, uint8_t ip[16]);
/* 1 when the numeric address text a is a loopback address. */
int server_addr_text_loopback(const char *a);

/* Parses, resolves (numeric or a local name), binds and listens; raises
 * RLIMIT_NOFILE to its hard limit. The hook fields and stop must be set
 * before server_run. */
int server_open(struct server *s, const char *addr, const struct server_opts *o, struct err *e);
/* Runs the loops (this thread runs the first) until *s->stop and the
 * drain; 0, or -1 when the loops could not start. */
int server_run(struct server *s, struct err *e);
/* Frees everything once no handler runs; 1 when handlers still ran (after
 * a drain that timed out) and memory was left for them, else 0. */
int server_close(struct server *s);
/* Runs j on a helper thread (blocking work: a config reload). */
int server_submit(struct server *s, struct loop_job *j);
/* New limits (SIGHUP): caps, proxies, timeouts for what starts from now
 * (sizes: max_body, body_budget, out_max, stay as opened). */
void server_set_limits(struct server *s, const struct server_opts *o);

/* ---- answering (from the handler, on its connection; any thread) ---- */

/* A whole answer with Content-Length. extra: "Name: value\r\n" lines or
 * NULL. Returns 0, or -1 when the client is gone (nothing else to do). */
int server_reply(struct server_conn *c, int status, const char *ctype, const char *extra,
		 const void *body, size_t n);
/* A streamed answer: the status line and headers (Transfer-Encoding:
 * chunked on HTTP/1.1; an HTTP/1.0 client gets the raw bytes and the
 * connection closes after), then pieces, each queued as one write, then
 * the end. server_stream_send waits (on a helper thread) while the
 * client's unread output is over out_max. */
int server_stream_start(struct server_conn *c, int status, const char *ctype, const char *extra);
int server_stream_send(struct server_conn *c, const void *p, size_t n);
int server_stream_end(struct server_conn *c);
/* Ends a streamed answer without its last chunk: the connection closes
 * once what is queued is written (the client sees a cut body). */
int server_stream_abort(struct server_conn *c);
/* From another thread while the handler's stream is open (an SSE ping):
 * queued only when no output waits, never waits itself. 1 queued, 0
 * skipped, -1 the client is gone. */
int server_stream_idle_send(struct server_conn *c, const void *p, size_t n);
/* The status already sent on this request (0: nothing sent yet). */
int server_status(const struct server_conn *c);
/* 1 once the client went away, or was dropped for not reading. */
int server_client_gone(struct server_conn *c);
/* The handler no longer needs rq->body: freed now, and its bytes leave
 * the body budget (before a long stream starts). */
void server_body_done(struct server_conn *c);
/* A pointer the caller may keep with the current request (head hook ->
 * handler -> done); NULL at the start of each request. */
void **server_udata(struct server_conn *c);
/* ---- answers that go on after the handler (loop thread only) ----
 * An inline handler (SERVER_GO_INLINE) that starts an upstream call on the
 * loop (net/h2c) calls server_defer and returns; the request stays open
 * until server_defer_done. Meanwhile fn is called on the loop thread with
 * SERVER_EV_GONE (the client left or was dropped: stop the upstream call,
 * then server_defer_done; nothing may be sent any more) or SERVER_EV_ROOM
 * (output fell back under out_max after server_out_full said 1: read the
 * upstream again). Sending never waits on the loop thread; the sender
 * checks server_out_full after each piece and stops reading its upstream
 * while it is 1. server_handoff (inline handler or deferred, before any
 * byte of the answer) runs the handler again on a helper thread instead,
 * where it may block (the HTTP/1.1 fallback); server_on_loop tells the
 * handler which of the two it is. */
enum { SERVER_EV_GONE = 1, SERVER_EV_ROOM = 2 };
void server_defer(struct server_conn *c, server_async_fn fn, void *user);
void server_defer_done(struct server_conn *c);
int server_out_full(struct server_conn *c);
int server_handoff(struct server_conn *c);
int server_on_loop(const struct server_conn *c);
struct loop *server_loop_of(struct server_conn *c);
struct loop_pool *server_pool(struct server *s);

/* The client's address as text (see server_request.client). */
const char *server_client(const struct server_conn *c);

#endif
