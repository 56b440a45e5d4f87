/* server_impl: what server.c (listener, loops, caps), server_conn.c (the
 * connection state machine) and server_out.c (answers) share. Not an
 * interface for anyone else. */
#ifndef BROCK_SERVER_IMPL_H
#define BROCK_SERVER_IMPL_H

#include "net/server.h"
#include "wire/h2.h"

#define SERVER_SCRATCH 16384        /* per loop: every read lands here first */
#define SERVER_LINGER_MS 1000
#define SERVER_LINGER_BYTES (16u << 20)

/* Connection states (server_conn.c is the state machine). */
enum server_state {
	SC_WAIT,   /* no byte of the next request yet (idle or new) */
	SC_HEAD,   /* header section arriving */
	SC_BODY,   /* body arriving */
	SC_RUN,    /* the handler runs (on a helper thread or inline) */
	SC_FLUSH,  /* the handler returned; output still being written */
	SC_H2,     /* HTTP/2: streams multiplexed on the connection (server_h2.c) */
	SC_LINGER, /* after a refusal: answer flushed, reading and dropping input */
	SC_ZOMBIE, /* socket closed while a helper thread still runs the handler */
	SC_DEAD    /* closed; freed after the current batch of events */
};

/* Bits of a connection's loop_msg. */
#define SC_MSG_OUT 1u  /* output was queued by the handler's thread */
#define SC_MSG_DONE 2u /* the handler's thread returned */
#define SC_MSG_PEND 4u /* a pipelined request waits in pend */

struct server_loop {
	struct loop l;
	struct server *s;
	struct loop_io lis; /* the shared listener */
	pthread_t t;
	int started;
	uint8_t scratch[SERVER_SCRATCH];
	struct server_conn *conns; /* every connection of this loop (doubly linked) */
	struct server_conn *dead;  /* closed during this batch: freed after it */
	int drained;               /* the drain pass ran on this loop */
	uint8_t *h2scratch;        /* HPACK strings of the header block being read (lazy) */
};

struct server_conn {
	struct server *s;
	struct server_loop *sl;
	struct server_conn *prev, *next, *dead_next;
	struct loop_io io;
	struct loop_timer tm;
	struct loop_msg msg;
	struct loop_job job;
	int fd;
	enum server_state st;
	int64_t since;       /* clock_ms the state's deadline counts from */
	int64_t req_start;   /* first byte of the current request */
	int64_t last_write;  /* the last time output moved (or was queued onto empty) */

	/* the request */
	struct http_parser *p; /* allocated per request, freed at its end */
	struct buf body;
	size_t body_reserved;  /* bytes of body_held this request holds */
	uint8_t *pend;         /* bytes after the request (pipelining) */
	size_t pend_len;
	void *udata;
	struct server_request rq;
	int served;            /* requests completed on this connection */
	int inline_run;        /* the handler runs on the loop thread */
	int async;             /* 1: the answer goes on after the inline handler (server_defer) */
	int async_full;        /* server_out_full said so: tell the owner when there is room */
	server_async_fn async_fn;
	void *async_user;

	/* the answer: written by the handler's thread, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;     /* output drained, or the client gone */
	struct buf out;
	size_t out_off;
	int status, streaming, keep, head_only, refused;
	int gone;              /* under mu: the socket is closed or failed */
	int want_out;          /* under mu: EPOLLOUT is needed */

	/* the client */
	char client[SERVER_CLIENT_MAX];
	uint8_t ip[16];        /* counted address (v4 mapped), valid when ip_counted */
	int ip_counted;
	int peer_proxy;        /* the peer is a trusted proxy */

	/* HTTP/2 (server_h2.c) */
	int sniffed;            /* the first bytes were checked for the HTTP/2 preface */
	struct server_h2 *h2;   /* an HTTP/2 connection: its session */
	struct server_conn *up; /* an HTTP/2 stream (struct server_h2s): its connection */
};

/* server.c */
int server_ipt_add(struct server *s, const uint8_t ip[16], int max);
void server_ipt_del(struct server *s, const uint8_t ip[16]);
int server_is_proxy(struct server *s, const uint8_t ip[16]);
int server_opt(struct server *s, const int *field);

/* server_conn.c */
void server_conn_accepted(struct server_loop *sl, int fd, const uint8_t ip[16], const char *txt,
			  int counted);
void server_conn_drain(struct server_loop *sl);
void server_conn_free_dead(struct server_loop *sl);
int server_conn_reap_idle(struct server_loop *sl);
void server_conn_close(struct server_conn *c);
void server_conn_refuse(struct server_conn *c, int status, const char *msg);
void server_conn_linger(struct server_conn *c);
void server_conn_split(struct server_conn *c);
int server_budget_take(struct server *s, size_t n);
int server_forwarded_for(struct server *s, const struct http_parser *p,
			 char txt[SERVER_CLIENT_MAX], uint8_t ip[16]);

/* server_out.c */
int server_send_locked(struct server_conn *c);
int server_conn_flush(struct server_conn *c);
const char *server_reason(int status);
void server_write_busy(int fd);

/* server_h2*.c: HTTP/2 connections; their streams answer through server_out.c */
void server_h2_start(struct server_conn *c, const uint8_t *pre, size_t npre, const uint8_t *p,
		     size_t n);
void server_h2_on_io(struct server_conn *c, uint32_t events);
void server_h2_on_msg(struct server_conn *c, unsigned bits);
void server_h2_on_timer(struct server_conn *c);
void server_h2_drain(struct server_conn *c);
int server_h2_closed(struct server_conn *c);
void server_h2_free(struct server_conn *c);
void server_h2_pump_locked(struct server_conn *c);
int server_h2_reply(struct server_conn *c, int status, const char *ctype, const char *extra,
		    const void *body, size_t n);
int server_h2_stream_start(struct server_conn *c, int status, const char *ctype,
			   const char *extra);
int server_h2_stream_send(struct server_conn *c, const void *p, size_t n);
int server_h2_stream_end(struct server_conn *c);
int server_h2_stream_abort(struct server_conn *c);
int server_h2_stream_idle_send(struct server_conn *c, const void *p, size_t n);

#endif
