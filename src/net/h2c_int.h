/* h2c_int.h: private to h2c.c and h2c_conn.c. */
#ifndef BROCK_H2C_INT_H
#define BROCK_H2C_INT_H

#include <netdb.h>
#include <sys/socket.h>

#include "net/h2c.h"
#include "net/tls.h"
#include "wire/h2.h"
#include "wire/hpack.h"

#define H2C_MAX_FIELDS 32
#define H2C_BLOCK_MAX (16u << 10) /* one request's header block */
#define H2C_LIST_MAX (16u << 10)  /* response header list we accept */

enum h2c_state {
	H2C_DNS,     /* a helper thread resolves the name */
	H2C_CONNECT, /* non-blocking connect */
	H2C_TLS,     /* handshake */
	H2C_HELLO,   /* preface sent, waiting for the peer's SETTINGS */
	H2C_OPEN,
	H2C_DRAIN, /* GOAWAY: streams in flight finish, nothing new */
	H2C_DEAD   /* freed when the DNS job (if any) is back */
};

struct h2c_stream {
	struct h2c_conn *conn;
	struct h2c_stream *next;
	uint32_t id; /* 0: not sent yet */
	int32_t send_win, recv_win;
	uint32_t owed; /* consumed, not yet granted back */
	uint8_t *req;  /* method, path, authority, fields, body (h2c_copy_req) */
	size_t reqlen, nfields;
	const uint8_t *body;
	size_t nbody, sent;
	const struct h2c_stream_cb *cb;
	void *user;
	int64_t last_in;
	int retries;
	unsigned paused : 1, gone : 1, rst : 1, got_head : 1, closed_local : 1, closed_remote : 1;
};

struct h2c_conn {
	struct h2c *c;
	struct h2c_conn *next;
	char host[256];
	int port;
	enum h2c_state state;
	int fd;
	struct loop_io io;
	struct loop_timer timer;
	struct loop_job job;
	struct loop_msg msg;
	int dns_busy;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char dns_err[384];
	struct tls *tls;
	struct h2_parser parser;
	struct hpack_decoder dec;
	struct hpack_encoder enc;
	uint8_t scratch[H2C_LIST_MAX];
	struct h2_settings peer;
	struct buf out;
	int32_t send_win, recv_win;
	uint32_t conn_owed, next_id;
	size_t active; /* streams with an id not yet freed */
	struct h2c_stream *streams;
	int64_t deadline, last_in, ping_at, idle_since, next_check;
};

void h2c_stream_free(struct h2c_stream *s);
void h2c_stream_fail(struct h2c_stream *s, int kind, const struct err *e);
void h2c_stream_retry(struct h2c_conn *k, struct h2c_stream *s);
struct h2c_stream *h2c_find(struct h2c_conn *k, uint32_t id);
struct h2c_conn *h2c_conn_for(struct h2c *c, const char *host, int port, struct err *e);
void h2c_kick(struct h2c_conn *k);
void h2c_queue(struct h2c_conn *k);
int h2c_frame(struct h2c_conn *k, const struct h2_frame *f, struct err *e);
void h2c_sweep(struct h2c_conn *k);

#endif
