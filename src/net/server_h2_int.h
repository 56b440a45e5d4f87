/* server_h2_int: what the files of the HTTP/2 connection mode share
 * (server_h2.c: the connection and its streams on the loop; server_h2_in.c:
 * frames from the client; server_h2_out.c: answers and the pump). Not an
 * interface for anyone else. */
#ifndef BROCK_SERVER_H2_INT_H
#define BROCK_SERVER_H2_INT_H

#include "net/server_impl.h"
#include "base/clock.h"
#include "wire/hpack.h"

#define H2S_MAX_STREAMS 100          /* SETTINGS_MAX_CONCURRENT_STREAMS we advertise */
#define H2S_CONN_WINDOW (1u << 20)   /* added to the connection receive window at start */
#define H2S_CTRL_MAX (1u << 20)      /* unread output beyond which a PING or SETTINGS is a flood */
#define H2S_PEND_HARD (160u << 20)   /* one stream's unframed answer (a whole JSON body) */
#define H2S_SCRATCH HTTP_HEAD_MAX    /* per loop: Huffman-coded strings of a header block */

enum h2s_phase { H2S_BODY = 0, H2S_RUN, H2S_OUT };

struct server_h2s {
	struct server_conn c; /* first: what the hooks and the answering API take */
	struct server_h2s *next;
	uint32_t id;
	int phase;      /* enum h2s_phase (loop thread) */
	int job;        /* the handler runs on a helper thread */
	int busy;       /* counted in s->busy */
	int remote_end; /* END_STREAM received */
	int32_t rwin;   /* what the client may still send */
	/* under the connection's mu */
	int32_t win;    /* what we may still send */
	struct buf hb;  /* HEADERS frames not yet queued */
	struct buf pend; /* answer bytes not yet framed */
	size_t pend_off;
	int end_in_head, end_queued, sent_end;
	int final_held; /* the last piece waits for the loop: the done hook goes first */
	int reset;      /* RST_STREAM sent or received: output dropped */
	int64_t last_move;
};

struct server_h2 {
	struct h2_parser p;
	struct hpack_decoder dec;
	struct hpack_encoder enc;   /* under mu (no dynamic table: size 0) */
	struct h2_settings peer;    /* under mu */
	int32_t win;                /* under mu: the connection's send window */
	int32_t rwin;               /* the connection's receive window */
	uint32_t last_id, last_run; /* highest stream opened, highest handled */
	struct server_h2s *streams; /* changed by the loop under mu; walked by the pump */
	int nstreams, jobs;
	int goaway;  /* no new streams; close once none is left */
	int closing; /* a connection error: close once the GOAWAY is written */
	int64_t active;
};


static inline struct server_h2s *h2s_of(struct server_conn *c)
{
	return (struct server_h2s *)(void *)c;
}

static inline int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Under mu: output is about to be queued; a write deadline counts from now
 * when nothing was waiting. */
static inline void h2_mark(struct server_conn *c)
{
	if (c->out.len == c->out_off)
		c->last_write = clock_ms();
}

static inline struct server_h2s *h2_find(const struct server_h2 *h, uint32_t id)
{
	struct server_h2s *st;

	for (st = h->streams; st; st = st->next)
		if (st->id == id)
			return st;
	return NULL;
}


/* Under mu: the stream is over for its client (reset either way). */
static inline void h2s_gone_locked(struct server_h2s *st)
{
	st->c.gone = st->reset = 1;
	buf_reset(&st->hb);
	buf_reset(&st->pend);
	st->pend_off = 0;
	pthread_cond_broadcast(&st->c.up->cv);
}

static inline int h2s_gone(const struct server_h2s *st)
{
	return st->c.gone || st->c.up->gone;
}

/* server_h2.c */
void server_h2_rst(struct server_conn *c, uint32_t id, uint32_t code);
void server_h2_window(struct server_conn *c, uint32_t id, uint32_t inc);
int server_h2_fail(struct server_conn *c, uint32_t code);
struct server_h2s *server_h2s_new(struct server_conn *c, uint32_t id, struct http_parser *p);
void server_h2s_reset(struct server_conn *c, struct server_h2s *st, uint32_t code, int send);
void server_h2s_complete(struct server_h2s *st);
void server_h2s_refuse(struct server_h2s *st, int status, const char *msg);
void server_h2s_dispatch(struct server_conn *c, struct server_h2s *st);
/* server_h2_in.c */
int server_h2_input(struct server_conn *c, const uint8_t *in, size_t n);

#endif
