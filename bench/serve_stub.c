/* serve_stub: the upstream for `make bench-serve`. Every request is answered
 * with a ConverseStream event stream made by brock's own encoder:
 * messageStart, DELTAS contentBlockDelta events CADENCE ms apart (due at
 * start + k * cadence), messageStop, metadata; POST .../converse gets one
 * JSON Converse answer (over HTTP/1.1 and HTTP/2 alike). One epoll loop
 * (brock's loop.c); a connection's output is queued and written once per
 * loop batch.
 *
 * Modes: plain HTTP/1.1 (default); --tls DIR: TLS (BearSSL server, DIR holds
 * cert.der and key.der, an EC key) with ALPN h2 and http/1.1; --no-h2 offers
 * http/1.1 only. HTTP/2 reuses brock's frame parser and writers (wire/h2),
 * HPACK and request/response mapping (wire/h2msg); flow control honoured.
 *
 *   serve_stub [--tls DIR] [--no-h2] [--max-streams N] PORT DELTAS CADENCE_MS
 *
 * Prints "ready PORT" when listening. SIGUSR1 prints the counters (since the
 * last report) and resets them; SIGTERM / SIGINT print them and exit. */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bearssl.h"

#include "base/clock.h"
#include "net/loop.h"
#include "wire/evstream.h"
#include "wire/h2.h"
#include "wire/h2msg.h"
#include "wire/hpack.h"
#include "wire/http.h"

#define STUB_OUT_MAX (64u << 20)
#define STUB_WINDOW (1u << 24) /* what we grant the client, stream and connection */

struct stub_h2;

struct stub_conn {
	struct loop_io io;
	struct loop_timer tm;
	struct http_parser p;
	int fd, sent, streaming;
	int64_t start; /* deltas are due at start + k * cadence: a late tick does not shift the rest */
	struct buf out;           /* application bytes not yet written (or given to TLS) */
	br_ssl_server_context *sc; /* TLS, or NULL */
	unsigned char *iob;
	int proto; /* TLS: 0 handshake, 1 HTTP/1.1, 2 HTTP/2 */
	int dead, dirty;
	struct stub_conn *next; /* dirty or dead list */
	struct stub_h2 *h2;
};

static int n_deltas = 100, cadence = 50;
static struct loop L;
static struct loop_io lis;
static struct stub_conn *dirty, *dead;

/* TLS: the certificate (DER) and key, loaded once. */
static br_x509_certificate chain;
static br_skey_decoder_context skey;
static const char *alpn[2] = {"h2", "http/1.1"};
static int use_tls, no_h2;
static uint32_t max_streams = 100;

/* Counters since the last report. */
static unsigned long n_conns, n_conns_h2, n_streams, n_done, n_refused;
static long n_open, n_open_peak;
static volatile sig_atomic_t sig_report, sig_quit;

static void stub_event(struct buf *o, const char *type, const char *json, int chunked)
{
	static struct buf m;
	struct evs_header h[3] = {evs_hdr_string(":event-type", type),
				  evs_hdr_string(":content-type", "application/json"),
				  evs_hdr_string(":message-type", "event")};
	char size[24];

	if (!m.max)
		buf_init(&m, 1 << 16);
	m.len = 0;
	evs_encode(&m, h, 3, json, strlen(json));
	if (chunked) {
		snprintf(size, sizeof size, "%zx\r\n", m.len);
		buf_append_str(o, size);
	}
	buf_append(o, m.p, m.len);
	if (chunked)
		buf_append_str(o, "\r\n");
}

/* The events due at the next tick; 1 when the stream is complete. */
static int stub_next(struct buf *o, int *sent, int chunked)
{
	char j[160];

	if (*sent < n_deltas) {
		snprintf(j, sizeof j, "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"tok%d \"},\"p\":\"x\"}",
			 *sent);
		stub_event(o, "contentBlockDelta", j, chunked);
		(*sent)++;
	}
	if (*sent < n_deltas)
		return 0;
	stub_event(o, "contentBlockStop", "{\"contentBlockIndex\":0,\"p\":\"x\"}", chunked);
	stub_event(o, "messageStop", "{\"stopReason\":\"end_turn\",\"p\":\"x\"}", chunked);
	stub_event(o, "metadata", "{\"usage\":{\"inputTokens\":10,\"outputTokens\":100,"
				  "\"totalTokens\":110},\"metrics\":{\"latencyMs\":5},\"p\":\"x\"}", chunked);
	return 1;
}

static void stub_h2_free(struct stub_conn *c);
static void stub_mark(struct stub_conn *c);

static void stub_close(struct stub_conn *c)
{
	if (c->dead)
		return;
	c->dead = 1;
	loop_io_del(&L, &c->io);
	loop_timer_stop(&L, &c->tm);
	if (c->h2)
		stub_h2_free(c);
	close(c->fd);
	n_open--;
	c->next = dead; /* freed after the batch: a later event of it may be in this one */
	dead = c;
}

static int stub_send(struct stub_conn *c, const struct buf *o)
{
	if (buf_append(&c->out, o->p, o->len) < 0)
		return -1; /* a reader this far behind is stuck */
	stub_mark(c);
	return 0;
}

static void stub_tick(struct loop *l, struct loop_timer *t)
{
	struct stub_conn *c = t->user;
	struct buf o;

	buf_init(&o, 1 << 20);
	if (stub_next(&o, &c->sent, 1)) {
		buf_append_str(&o, "0\r\n\r\n");
		c->streaming = 0;
		n_done++;
	}
	if (stub_send(c, &o) < 0) {
		buf_free(&o);
		stub_close(c);
		return;
	}
	buf_free(&o);
	if (c->streaming)
		loop_timer_set(l, t, c->start + (int64_t)(c->sent + 1) * cadence);
}

static void stub_start(struct stub_conn *c)
{
	struct buf o;

	buf_init(&o, 1 << 16);
	buf_append_str(&o, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.amazon.eventstream\r\n"
			   "x-amzn-RequestId: stub-0001\r\nTransfer-Encoding: chunked\r\n\r\n");
	stub_event(&o, "messageStart", "{\"role\":\"assistant\",\"p\":\"x\"}", 1);
	if (stub_send(c, &o) < 0) {
		buf_free(&o);
		stub_close(c);
		return;
	}
	buf_free(&o);
	n_streams++;
	c->sent = 0;
	c->streaming = 1;
	c->start = L.now;
	loop_timer_set(&L, &c->tm, c->start + cadence);
}

/* POST /model/<id>/converse: one short JSON Converse answer at once (the
 * non-stream keep-alive bench). -1: the connection is closed. */
static const char converse_json[] =
	"{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":"
	"[{\"text\":\"ok\"}]}},\"stopReason\":\"end_turn\",\"usage\":"
	"{\"inputTokens\":10,\"outputTokens\":1,\"totalTokens\":11},"
	"\"metrics\":{\"latencyMs\":1}}";

static int stub_converse(struct stub_conn *c)
{
	struct buf o;
	int r;

	buf_init(&o, 1 << 12);
	buf_appendf(&o,
		    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		    "x-amzn-RequestId: stub-0002\r\nContent-Length: %zu\r\n\r\n%s",
		    sizeof converse_json - 1, converse_json);
	r = stub_send(c, &o);
	buf_free(&o);
	if (r < 0)
		stub_close(c);
	return r;
}

static void stub_h1_input(struct stub_conn *c, const uint8_t *b, size_t n)
{
	size_t off = 0;

	for (;;) {
		struct slice body;
		struct err e;
		size_t used = 0;
		int r = http_parse(&c->p, b + off, n - off, &used, &body, &e);

		off += used;
		if (r < 0) {
			stub_close(c);
			return;
		}
		if (r == HTTP_EV_DONE) {
			int conv = c->p.target.n > 9 &&
				   memcmp(c->p.target.p + c->p.target.n - 9, "/converse", 9) == 0;

			http_parser_reset(&c->p);
			if (conv && stub_converse(c) < 0)
				return;
			if (!conv && !c->streaming)
				stub_start(c);
			continue;
		}
		if (r == HTTP_EV_NEED)
			return;
	}
}

/* ---- HTTP/2 (after ALPN h2) ---- */

struct stub_stream {
	struct loop_timer tm;
	struct stub_conn *c;
	struct stub_stream *next;
	uint32_t id;
	int sent, started, fin, conv;
	int32_t win;     /* what we may still send on it */
	int64_t start;
	struct buf pend; /* events not yet sent as DATA (flow control) */
};

struct stub_h2 {
	struct h2_parser p;
	struct hpack_decoder dec;
	struct hpack_encoder enc;
	struct h2_settings peer;
	struct http_parser req; /* the request being decoded (h2msg) */
	int32_t win;            /* our send window on the connection */
	uint32_t owed;          /* DATA received and not yet granted back */
	uint32_t last_id, nstreams;
	struct stub_stream *streams;
};

static uint8_t h2_scratch[HTTP_HEAD_MAX]; /* HPACK Huffman strings; one loop, one decoder at a time */

static void stub_mark(struct stub_conn *c)
{
	if (!c->dirty) {
		c->dirty = 1;
		c->next = dirty;
		dirty = c;
	}
}

static struct stub_stream *h2_find(struct stub_h2 *h, uint32_t id)
{
	struct stub_stream *s = h->streams;

	while (s && s->id != id)
		s = s->next;
	return s;
}

static void h2_stream_free(struct stub_h2 *h, struct stub_stream *s)
{
	struct stub_stream **pp = &h->streams;

	while (*pp != s)
		pp = &(*pp)->next;
	*pp = s->next;
	loop_timer_stop(&L, &s->tm);
	buf_free(&s->pend);
	free(s);
	h->nstreams--;
}

/* Sends what the windows allow; 1 when the stream ended (and is freed). */
static int h2_stream_flush(struct stub_conn *c, struct stub_stream *s)
{
	struct stub_h2 *h = c->h2;
	uint32_t mf = h->peer.max_frame_size;

	while (s->pend.len && s->win > 0 && h->win > 0) {
		size_t n = s->pend.len;
		int end;

		if (n > (size_t)s->win)
			n = (size_t)s->win;
		if (n > (size_t)h->win)
			n = (size_t)h->win;
		end = s->fin && n == s->pend.len;
		if (h2_write_data(&c->out, s->id, end, s->pend.p, n, mf) < 0) {
			stub_close(c);
			return 1;
		}
		s->win -= (int32_t)n;
		h->win -= (int32_t)n;
		buf_consume(&s->pend, n);
		stub_mark(c);
		if (end) {
			n_done++;
			h2_stream_free(h, s);
			return 1;
		}
	}
	return 0;
}

static void h2_flush_all(struct stub_conn *c)
{
	struct stub_stream *s = c->h2->streams, *next;

	for (; s && !c->dead; s = next) {
		next = s->next;
		h2_stream_flush(c, s);
	}
}

static void h2_tick(struct loop *l, struct loop_timer *t)
{
	struct stub_stream *s = t->user;

	if (stub_next(&s->pend, &s->sent, 0))
		s->fin = 1;
	if (!h2_stream_flush(s->c, s) && !s->fin)
		loop_timer_set(l, t, s->start + (int64_t)(s->sent + 1) * cadence);
}

static void h2_start(struct stub_conn *c, struct stub_stream *s)
{
	struct stub_h2 *h = c->h2;
	struct buf blk;

	buf_init(&blk, 1 << 12);
	if (h2msg_response(&h->enc, &blk, 200,
			   s->conv ? "application/json" : "application/vnd.amazon.eventstream",
			   "x-amzn-RequestId: stub-0001\r\n",
			   s->conv ? (int64_t)sizeof converse_json - 1 : -1) < 0 ||
	    h2_write_headers(&c->out, s->id, 0, blk.p, blk.len, h->peer.max_frame_size) < 0) {
		buf_free(&blk);
		stub_close(c);
		return;
	}
	buf_free(&blk);
	n_streams++;
	if (s->conv) { /* non-stream Converse: the JSON answer at once */
		buf_append(&s->pend, converse_json, sizeof converse_json - 1);
		s->fin = 1;
		h2_stream_flush(c, s);
		return;
	}
	stub_event(&s->pend, "messageStart", "{\"role\":\"assistant\",\"p\":\"x\"}", 0);
	s->started = 1;
	s->start = L.now;
	if (!h2_stream_flush(c, s))
		loop_timer_set(&L, &s->tm, s->start + cadence);
}

static void h2_rst(struct stub_conn *c, uint32_t id, uint32_t code)
{
	h2_write_rst_stream(&c->out, id, code);
	stub_mark(c);
}

static void h2_headers(struct stub_conn *c, const struct h2_frame *f)
{
	struct stub_h2 *h = c->h2;
	struct stub_stream *s = h2_find(h, f->stream);
	int r;

	if (s || f->stream <= h->last_id) { /* trailers: decoded to keep HPACK in step */
		if (h2msg_trailers(&h->dec, f->payload.p, f->payload.n) == H2MSG_E_COMPRESSION)
			stub_close(c);
		else if (s && !s->started && (f->flags & H2_FLAG_END_STREAM))
			h2_start(c, s);
		return;
	}
	h->last_id = f->stream;
	http_parser_reset(&h->req);
	r = h2msg_request(&h->dec, f->payload.p, f->payload.n, &h->req);
	if (r == H2MSG_E_COMPRESSION || (f->stream & 1) == 0) {
		stub_close(c);
		return;
	}
	if (r < 0 || h->nstreams >= max_streams || !(s = calloc(1, sizeof *s))) {
		n_refused++;
		h2_rst(c, f->stream, r < 0 ? H2_PROTOCOL_ERROR : H2_REFUSED_STREAM);
		return;
	}
	s->c = c;
	s->id = f->stream;
	s->conv = h->req.target.n > 9 &&
		  memcmp(h->req.target.p + h->req.target.n - 9, "/converse", 9) == 0;
	s->win = (int32_t)h->peer.initial_window_size;
	s->tm.fn = h2_tick;
	s->tm.user = s;
	buf_init(&s->pend, 1 << 20);
	s->next = h->streams;
	h->streams = s;
	h->nstreams++;
	if (f->flags & H2_FLAG_END_STREAM)
		h2_start(c, s);
}

static void h2_settings(struct stub_conn *c, const struct h2_frame *f)
{
	struct stub_h2 *h = c->h2;
	uint32_t old = h->peer.initial_window_size;
	struct stub_stream *s;

	if (f->flags & H2_FLAG_ACK)
		return;
	h2_settings_apply(&h->peer, f);
	for (s = h->streams; s; s = s->next)
		if (h2_window_adjust(&s->win, old, h->peer.initial_window_size) < 0) {
			stub_close(c);
			return;
		}
	h2_write_settings_ack(&c->out);
	stub_mark(c);
	h2_flush_all(c);
}

static void h2_frame(struct stub_conn *c, const struct h2_frame *f)
{
	struct stub_h2 *h = c->h2;
	struct stub_stream *s;

	switch (f->type) {
	case H2_HEADERS: h2_headers(c, f); break;
	case H2_SETTINGS: h2_settings(c, f); break;
	case H2_DATA:
		h->owed += f->length; /* request bodies: granted back in large steps */
		if (h->owed >= STUB_WINDOW / 2) {
			h2_write_window_update(&c->out, 0, h->owed);
			h->owed = 0;
			stub_mark(c);
		}
		s = h2_find(h, f->stream);
		if (s && !s->started && (f->flags & H2_FLAG_END_STREAM))
			h2_start(c, s);
		break;
	case H2_PING:
		if (!(f->flags & H2_FLAG_ACK) && f->payload.n == 8) {
			h2_write_ping(&c->out, 1, f->payload.p);
			stub_mark(c);
		}
		break;
	case H2_WINDOW_UPDATE:
		if (f->stream == 0) {
			if (h2_window_increase(&h->win, f->increment) < 0)
				stub_close(c);
			else
				h2_flush_all(c);
		} else if ((s = h2_find(h, f->stream))) {
			if (h2_window_increase(&s->win, f->increment) == 0) {
				h2_stream_flush(c, s);
				break;
			}
			h2_rst(c, s->id, H2_FLOW_CONTROL_ERROR);
			h2_stream_free(h, s);
		}
		break;
	case H2_RST_STREAM:
		if ((s = h2_find(h, f->stream)))
			h2_stream_free(h, s);
		break;
	default: break; /* PRIORITY, GOAWAY (the client closes when done) */
	}
}

static void stub_h2_input(struct stub_conn *c, const uint8_t *in, size_t n)
{
	while (n && !c->dead) {
		struct h2_frame f;
		size_t used = 0;
		int r = h2_feed(&c->h2->p, in, n, &used, &f);

		in += used;
		n -= used;
		if (r == 1) {
			h2_frame(c, &f);
		} else if (r < 0 && h2_is_stream_error(r)) {
			h2_rst(c, f.stream, h2_error_code(r));
		} else if (r < 0) {
			fprintf(stderr, "serve_stub: %s\n", h2_strerror(r));
			stub_close(c);
		}
	}
}

static int stub_h2_new(struct stub_conn *c)
{
	struct h2_setting set[2] = {{H2_SETTINGS_MAX_CONCURRENT_STREAMS, max_streams},
				    {H2_SETTINGS_INITIAL_WINDOW_SIZE, STUB_WINDOW}};
	struct stub_h2 *h = calloc(1, sizeof *h);

	if (!h)
		return -1;
	c->h2 = h;
	h2_parser_init(&h->p, H2_SERVER, HTTP_HEAD_MAX);
	hpack_decoder_init(&h->dec, HPACK_TABLE_CAP, HTTP_HEAD_MAX, h2_scratch, sizeof h2_scratch);
	hpack_encoder_init(&h->enc, 0);
	h2_settings_init(&h->peer);
	http_parser_init(&h->req, HTTP_REQUEST);
	h->win = H2_DEFAULT_WINDOW;
	h2_write_settings(&c->out, set, 2);
	h2_write_window_update(&c->out, 0, STUB_WINDOW - H2_DEFAULT_WINDOW);
	stub_mark(c);
	n_conns_h2++;
	return 0;
}

static void stub_h2_free(struct stub_conn *c)
{
	struct stub_h2 *h = c->h2;

	while (h->streams)
		h2_stream_free(h, h->streams);
	h2_parser_free(&h->p);
	http_parser_free(&h->req);
	free(h);
	c->h2 = NULL;
}

/* ---- TLS (BearSSL server engine, driven on readiness) ---- */

static int stub_read_file(const char *dir, const char *name, unsigned char **p, size_t *n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "rb");
	*p = malloc(1 << 16);
	if (!f || !*p) {
		perror(path);
		return -1;
	}
	*n = fread(*p, 1, 1 << 16, f);
	fclose(f);
	return 0;
}

static int stub_tls_load(const char *dir)
{
	unsigned char *k;
	size_t kn;

	if (stub_read_file(dir, "cert.der", &chain.data, &chain.data_len) < 0 ||
	    stub_read_file(dir, "key.der", &k, &kn) < 0)
		return -1;
	br_skey_decoder_init(&skey);
	br_skey_decoder_push(&skey, k, kn);
	if (br_skey_decoder_last_error(&skey) || br_skey_decoder_key_type(&skey) != BR_KEYTYPE_EC) {
		fprintf(stderr, "serve_stub: %s/key.der is not an EC private key (DER)\n", dir);
		return -1;
	}
	return 0;
}

static int stub_tls_new(struct stub_conn *c)
{
	c->sc = malloc(sizeof *c->sc);
	c->iob = malloc(BR_SSL_BUFSIZE_BIDI);
	if (!c->sc || !c->iob) {
		free(c->sc);
		free(c->iob);
		return -1;
	}
	br_ssl_server_init_full_ec(c->sc, &chain, 1, BR_KEYTYPE_EC, br_skey_decoder_get_ec(&skey));
	br_ssl_engine_set_buffer(&c->sc->eng, c->iob, BR_SSL_BUFSIZE_BIDI, 1);
	br_ssl_engine_set_protocol_names(&c->sc->eng, no_h2 ? alpn + 1 : alpn, no_h2 ? 1 : 2);
	return br_ssl_server_reset(c->sc) ? 0 : -1;
}

/* Moves bytes socket <-> engine <-> c->out / the protocol until nothing moves. */
static void stub_tls_pump(struct stub_conn *c)
{
	br_ssl_engine_context *eng = &c->sc->eng;
	int blocked = 0;

	while (!c->dead) {
		unsigned st = br_ssl_engine_current_state(eng);
		unsigned char *p;
		size_t len;
		ssize_t k;

		if (st & BR_SSL_CLOSED) {
			stub_close(c);
			return;
		}
		if (!c->proto && (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))) {
			const char *pr = br_ssl_engine_get_selected_protocol(eng);

			c->proto = pr && strcmp(pr, "h2") == 0 ? 2 : 1;
			if (c->proto == 2 && stub_h2_new(c) < 0) {
				stub_close(c);
				return;
			}
		}
		if (st & BR_SSL_SENDREC) {
			p = br_ssl_engine_sendrec_buf(eng, &len);
			k = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (k > 0) {
				br_ssl_engine_sendrec_ack(eng, (size_t)k);
				continue;
			}
			if (k < 0 && errno != EAGAIN) {
				stub_close(c);
				return;
			}
			blocked = 1;
		}
		if (st & BR_SSL_RECVAPP) {
			p = br_ssl_engine_recvapp_buf(eng, &len);
			if (c->proto == 2)
				stub_h2_input(c, p, len);
			else
				stub_h1_input(c, p, len);
			if (c->dead)
				return;
			br_ssl_engine_recvapp_ack(eng, len);
			continue;
		}
		if ((st & BR_SSL_SENDAPP) && c->out.len) {
			p = br_ssl_engine_sendapp_buf(eng, &len);
			if (len > c->out.len)
				len = c->out.len;
			memcpy(p, c->out.p, len);
			br_ssl_engine_sendapp_ack(eng, len);
			buf_consume(&c->out, len);
			if (!c->out.len)
				br_ssl_engine_flush(eng, 0);
			continue;
		}
		if (st & BR_SSL_RECVREC) {
			p = br_ssl_engine_recvrec_buf(eng, &len);
			k = recv(c->fd, p, len, 0);
			if (k > 0) {
				br_ssl_engine_recvrec_ack(eng, (size_t)k);
				continue;
			}
			if (k == 0 || errno != EAGAIN) {
				stub_close(c);
				return;
			}
		}
		break;
	}
	loop_io_mod(&L, &c->io, EPOLLIN | (blocked ? EPOLLOUT : 0));
}

/* Plain: writes what is queued; EPOLLOUT while some remains. */
static void stub_flush_plain(struct stub_conn *c)
{
	while (c->out.len) {
		ssize_t k = send(c->fd, c->out.p, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (k < 0 && errno == EAGAIN)
			break;
		if (k <= 0) {
			stub_close(c);
			return;
		}
		buf_consume(&c->out, (size_t)k);
	}
	loop_io_mod(&L, &c->io, EPOLLIN | (c->out.len ? EPOLLOUT : 0));
}

static void stub_flush(struct stub_conn *c)
{
	if (c->sc)
		stub_tls_pump(c);
	else
		stub_flush_plain(c);
}

static void stub_on_io(struct loop *l, struct loop_io *w, uint32_t ev)
{
	struct stub_conn *c = w->user;
	uint8_t b[65536];
	ssize_t n;

	(void)l;
	if (c->dead)
		return;
	if (c->sc) {
		stub_tls_pump(c);
		return;
	}
	if (ev & EPOLLOUT)
		stub_flush_plain(c);
	if (c->dead || !(ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = recv(c->fd, b, sizeof b, 0);
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return;
		stub_close(c);
		return;
	}
	stub_h1_input(c, b, (size_t)n);
}

static void stub_on_accept(struct loop *l, struct loop_io *w, uint32_t ev)
{
	int fd, one = 1;

	(void)ev;
	while ((fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct stub_conn *c = calloc(1, sizeof *c);

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->fd = fd;
		buf_init(&c->out, STUB_OUT_MAX);
		http_parser_init(&c->p, HTTP_REQUEST);
		http_parser_max_body(&c->p, 64u << 20);
		c->io.fn = stub_on_io;
		c->io.user = c;
		c->tm.fn = stub_tick;
		c->tm.user = c;
		if (use_tls && stub_tls_new(c) < 0) {
			close(fd);
			http_parser_free(&c->p);
			free(c);
			continue;
		}
		loop_io_add(l, &c->io, fd, EPOLLIN);
		n_conns++;
		if (++n_open > n_open_peak)
			n_open_peak = n_open;
	}
}

static void stub_report(void)
{
	static double cpu0;
	struct rusage ru;
	double cpu;

	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	      (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	printf("stub: connections %lu (h2 %lu) streams %lu completed %lu refused %lu open %ld peak %ld "
	       "cpu_s %.2f\n",
	       n_conns, n_conns_h2, n_streams, n_done, n_refused, n_open, n_open_peak, cpu - cpu0);
	cpu0 = cpu;
	fflush(stdout);
	n_conns = n_conns_h2 = n_streams = n_done = n_refused = 0;
	n_open_peak = n_open;
}

/* After each batch: write what the batch queued, then free what it closed. */
static void stub_after(struct loop *l, void *user)
{
	(void)l;
	(void)user;
	while (dirty) {
		struct stub_conn *c = dirty;

		dirty = c->next;
		c->dirty = 0;
		if (!c->dead)
			stub_flush(c);
	}
	while (dead) {
		struct stub_conn *c = dead;

		dead = c->next;
		http_parser_free(&c->p);
		buf_free(&c->out);
		free(c->sc);
		free(c->iob);
		free(c);
	}
}

static void stub_tick_all(struct loop *l, void *user)
{
	(void)user;
	if (sig_report || sig_quit) {
		sig_report = 0;
		stub_report();
	}
	if (sig_quit)
		loop_stop(l);
}

static void stub_on_signal(int sig)
{
	if (sig == SIGUSR1)
		sig_report = 1;
	else
		sig_quit = 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a;
	struct sigaction sa;
	struct rlimit r;
	struct err e;
	socklen_t al = sizeof a;
	int fd, one = 1, i = 1;

	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (strcmp(argv[i], "--tls") == 0 && i + 1 < argc) {
			if (stub_tls_load(argv[++i]) < 0)
				return 1;
			use_tls = 1;
		} else if (strcmp(argv[i], "--no-h2") == 0) {
			no_h2 = 1;
		} else if (strcmp(argv[i], "--max-streams") == 0 && i + 1 < argc) {
			max_streams = (uint32_t)atoi(argv[++i]);
		} else {
			break;
		}
	}
	if (argc - i < 3) {
		fprintf(stderr, "usage: serve_stub [--tls DIR] [--no-h2] [--max-streams N] PORT DELTAS "
				"CADENCE_MS\n");
		return 2;
	}
	n_deltas = atoi(argv[i + 1]);
	cadence = atoi(argv[i + 2]);
	if (getrlimit(RLIMIT_NOFILE, &r) == 0) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = stub_on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)atoi(argv[i]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 4096) < 0) {
		perror("serve_stub: listen");
		return 1;
	}
	getsockname(fd, (struct sockaddr *)&a, &al);
	if (loop_init(&L, &e) < 0)
		return 1;
	L.after = stub_after;
	L.tick = stub_tick_all;
	lis.fn = stub_on_accept;
	loop_io_add(&L, &lis, fd, EPOLLIN);
	printf("ready %u\n", ntohs(a.sin_port));
	fflush(stdout);
	loop_run(&L);
	return 0;
}
