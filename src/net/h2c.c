/* h2c: HTTP/2 upstream client on a loop. See h2c.h. This file: streams,
 * frames and flow control; h2c_conn.c: DNS, connect, TLS and the socket. */
#include "net/h2c_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "wire/h2.h"

/* ------------------------------------------------------------------------ */
/* Streams */

static void h2c_stream_unlink(struct h2c_stream *s)
{
	struct h2c_conn *k = s->conn;
	struct h2c_stream **pp;

	for (pp = &k->streams; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (s->id)
		k->active--;
	k->c->st.streams_open--;
}

void h2c_stream_free(struct h2c_stream *s)
{
	h2c_stream_unlink(s);
	if (s->req)
		secure_zero(s->req, s->reqlen); /* a signature, a session token */
	free(s->req);
	free(s);
}

/* The stream's last callback; it is swept after the current handler. */
void h2c_stream_fail(struct h2c_stream *s, int kind, const struct err *e)
{
	if (s->gone)
		return;
	s->gone = 1;
	if (s->cb->error)
		s->cb->error(s, s->user, kind, s->got_head, e);
}

static void h2c_stream_end(struct h2c_stream *s)
{
	if (s->gone)
		return;
	s->gone = 1;
	if (s->cb->end)
		s->cb->end(s, s->user);
}

struct h2c_stream *h2c_find(struct h2c_conn *k, uint32_t id)
{
	struct h2c_stream *s;

	for (s = k->streams; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

/* Copies the request: fields as name\0value\0 pairs, then the body. */
static int h2c_copy_req(struct h2c_stream *s, const char *auth, const struct h2c_req *rq)
{
	size_t i, n = strlen(rq->method) + strlen(rq->path) + strlen(auth) + 3 + rq->nbody;
	uint8_t *p;

	for (i = 0; i < rq->nfields; i++)
		n += rq->fields[i].name.n + rq->fields[i].value.n + 3;
	s->req = malloc(n ? n : 1);
	if (!s->req)
		return -1;
	s->reqlen = n;
	p = s->req;
#define H2C_PUT(src, len)                \
	do {                             \
		memcpy(p, (src), (len)); \
		p += (len);              \
		*p++ = 0;                \
	} while (0)
	H2C_PUT(rq->method, strlen(rq->method));
	H2C_PUT(rq->path, strlen(rq->path));
	H2C_PUT(auth, strlen(auth));
	for (i = 0; i < rq->nfields; i++) {
		*p++ = (uint8_t)rq->fields[i].rep;
		H2C_PUT(rq->fields[i].name.p, rq->fields[i].name.n);
		H2C_PUT(rq->fields[i].value.p, rq->fields[i].value.n);
	}
#undef H2C_PUT
	s->nfields = rq->nfields;
	s->body = p;
	s->nbody = rq->nbody;
	if (rq->nbody)
		memcpy(p, rq->body, rq->nbody);
	return 0;
}

int h2c_open(struct h2c *c, const char *host, int port, const struct h2c_req *rq,
	     const struct h2c_stream_cb *cb, void *user, struct h2c_stream **out, struct err *e)
{
	struct h2c_stream *s;
	struct h2c_conn *k;
	char auth[272];

	*out = NULL;
	if (strlen(host) > 255 || port <= 0 || port > 65535)
		return err_set(e, ERR_USAGE, "bad upstream host");
	if (port == 443)
		snprintf(auth, sizeof auth, "%s", host);
	else
		snprintf(auth, sizeof auth, "%s:%d", host, port);
	s = calloc(1, sizeof *s);
	if (!s || h2c_copy_req(s, auth, rq) < 0) {
		free(s);
		return err_set(e, ERR_OTHER, "out of memory");
	}
	s->cb = cb;
	s->user = user;
	s->last_in = c->loop->now ? c->loop->now : clock_ms();
	k = h2c_conn_for(c, host, port, e);
	if (!k) {
		secure_zero(s->req, s->reqlen); /* signed: authorization, session token */
		free(s->req);
		free(s);
		return -1;
	}
	s->conn = k;
	s->next = k->streams;
	k->streams = s;
	c->st.streams_open++;
	c->st.streams_opened++;
	*out = s;
	h2c_kick(k);
	return 0;
}

void h2c_pause(struct h2c_stream *s)
{
	s->paused = 1;
}

void h2c_resume(struct h2c_stream *s)
{
	if (!s->paused)
		return;
	s->paused = 0;
	if (s->owed)
		h2c_kick(s->conn);
}

void h2c_cancel(struct h2c_stream *s)
{
	if (s->gone)
		return;
	s->gone = 1;
	if (s->id && !s->closed_remote) {
		s->rst = 1;
		s->conn->c->st.resets_sent++;
	}
	h2c_kick(s->conn);
}

/* ------------------------------------------------------------------------ */
/* Sending */

/* Opens queued streams while the peer allows: HEADERS (HPACK), ids in order. */
static int h2c_send_headers(struct h2c_conn *k, struct h2c_stream *s, struct err *e)
{
	struct hpack_field f[H2C_MAX_FIELDS + 4];
	const uint8_t *p = s->req;
	size_t i, n = 0, mark = k->out.len;
	struct buf bb;
	int r;

	if (s->nfields > H2C_MAX_FIELDS)
		return err_set(e, ERR_USAGE, "too many request headers");
	static const char *const pseudo[] = {":method", ":path", ":authority"};
	for (i = 0; i < 3; i++) {
		f[n].name = slice_str(pseudo[i]);
		f[n].value = slice_str((const char *)p);
		f[n++].rep = HPACK_REP_INDEX;
		p += f[n - 1].value.n + 1;
	}
	f[n].name = slice_str(":scheme");
	f[n].value = slice_str("https");
	f[n++].rep = HPACK_REP_NOINDEX;
	for (i = 0; i < s->nfields; i++) {
		f[n].rep = *p++;
		f[n].name = slice_str((const char *)p);
		p += f[n].name.n + 1;
		f[n].value = slice_str((const char *)p);
		p += f[n].value.n + 1;
		n++;
	}
	buf_init(&bb, H2C_BLOCK_MAX);
	if (hpack_encode(&k->enc, &bb, f, n) < 0) {
		buf_free(&bb);
		return err_set(e, ERR_PROTO, "request headers too large");
	}
	s->id = k->next_id;
	k->next_id += 2;
	k->active++;
	s->send_win = (int32_t)k->peer.initial_window_size;
	s->recv_win = H2C_STREAM_WINDOW;
	r = h2_write_headers(&k->out, s->id, s->nbody == 0, bb.p, bb.len, k->peer.max_frame_size);
	buf_free(&bb); /* wiped */
	if (r < 0) {
		k->out.len = mark;
		return err_set(e, ERR_OTHER, "upstream output full");
	}
	s->closed_local = s->nbody == 0;
	return 0;
}

/* Body bytes as the stream's and the connection's windows allow. */
static void h2c_send_body(struct h2c_conn *k, struct h2c_stream *s)
{
	while (!s->closed_local && k->send_win > 0 && s->send_win > 0) {
		size_t n = s->nbody - s->sent, room = k->out.max - k->out.len;
		if (n > (size_t)k->send_win)
			n = (size_t)k->send_win;
		if (n > (size_t)s->send_win)
			n = (size_t)s->send_win;
		if (n > k->peer.max_frame_size)
			n = k->peer.max_frame_size;
		if (room < H2_FRAME_HEADER_LEN + 1)
			return;
		if (n > room - H2_FRAME_HEADER_LEN)
			n = room - H2_FRAME_HEADER_LEN;
		if (h2_write_data(&k->out, s->id, s->sent + n == s->nbody, s->body + s->sent, n,
				  k->peer.max_frame_size) < 0)
			return;
		s->sent += n;
		k->send_win -= (int32_t)n;
		s->send_win -= (int32_t)n;
		s->closed_local = s->sent == s->nbody;
	}
}

/* Queues whatever can go now: resets, window grants, new streams, bodies. */
void h2c_queue(struct h2c_conn *k)
{
	struct h2c_stream *s;
	struct err e = {0};

	if (k->state != H2C_OPEN && k->state != H2C_DRAIN)
		return;
	if (k->conn_owed >= H2C_CONN_WINDOW / 4 &&
	    h2_write_window_update(&k->out, 0, k->conn_owed) == 0) {
		k->recv_win += (int32_t)k->conn_owed;
		k->conn_owed = 0;
	}
	for (s = k->streams; s; s = s->next) {
		if (s->rst && h2_write_rst_stream(&k->out, s->id, H2_CANCEL) == 0)
			s->rst = 0;
		if (s->gone || !s->id)
			continue;
		if (!s->paused && s->owed >= H2C_STREAM_WINDOW / 2 && !s->closed_remote &&
		    h2_write_window_update(&k->out, s->id, s->owed) == 0) {
			s->recv_win += (int32_t)s->owed;
			s->owed = 0;
		}
		h2c_send_body(k, s);
	}
	for (s = k->streams; s && k->state == H2C_OPEN; s = s->next) {
		if (s->id || s->gone)
			continue;
		if (k->active >= k->peer.max_concurrent_streams || k->out.len > k->out.max / 2)
			break;
		if (h2c_send_headers(k, s, &e) < 0) {
			h2c_stream_fail(s, H2C_E_NET, &e);
			continue;
		}
		h2c_send_body(k, s);
	}
}

/* ------------------------------------------------------------------------ */
/* Receiving */

static void h2c_copy_value(char *dst, size_t cap, struct slice v)
{
	size_t i, n = v.n < cap - 1 ? v.n : cap - 1;

	for (i = 0; i < n; i++)
		dst[i] = (v.p[i] >= 0x20 && v.p[i] < 0x7f) ? (char)v.p[i] : '?';
	dst[n] = 0;
}

/* One "name: value\n" line of h2c_head.lines, when it fits whole. */
static void h2c_add_line(struct h2c_head *h, struct hpack_field *fl)
{
	size_t used = strlen(h->lines);

	if (used + fl->name.n + fl->value.n + 4 > sizeof h->lines)
		return;
	h2c_copy_value(h->lines + used, fl->name.n + 1, fl->name);
	memcpy(h->lines + used + fl->name.n, ": ", 2);
	h2c_copy_value(h->lines + used + fl->name.n + 2, fl->value.n + 1, fl->value);
	memcpy(h->lines + used + fl->name.n + 2 + fl->value.n, "\n", 2);
}

/* Decodes a header block (always to its end: the table must stay in step). */
static int h2c_on_headers(struct h2c_conn *k, const struct h2_frame *f, struct err *e)
{
	struct h2c_stream *s = h2c_find(k, f->stream);
	struct h2c_head h;
	struct hpack_field fl;
	int r;

	memset(&h, 0, sizeof h);
	hpack_block_begin(&k->dec, f->payload.p, f->payload.n);
	while ((r = hpack_next(&k->dec, &fl)) == 1) {
		if (slice_eq_str(fl.name, ":status")) {
			unsigned i, v = 0;
			for (i = 0; i < fl.value.n && i < 3; i++)
				v = v * 10 + (unsigned)(fl.value.p[i] - '0');
			h.status = (int)v;
		} else if (slice_eq_str(fl.name, "x-amzn-requestid")) {
			h2c_copy_value(h.request_id, sizeof h.request_id, fl.value);
		} else if (slice_eq_str(fl.name, "content-type")) {
			h2c_copy_value(h.content_type, sizeof h.content_type, fl.value);
		} else if (slice_eq_str(fl.name, "x-amzn-errortype")) {
			h2c_copy_value(h.error_type, sizeof h.error_type, fl.value);
		}
		if (slice_eq_str(fl.name, "content-type") ||
		    (fl.name.n > 7 && memcmp(fl.name.p, "x-amzn-", 7) == 0))
			h2c_add_line(&h, &fl);
	}
	if (r < 0 && r != HPACK_E_LIST_SIZE)
		return hpack_err(e, r);
	if (!s || s->gone)
		return 0;
	s->last_in = k->c->loop->now;
	if (!s->got_head && h.status >= 200) {
		s->got_head = 1;
		if (s->cb->head)
			s->cb->head(s, s->user, &h);
	}
	if (f->flags & H2_FLAG_END_STREAM) {
		s->closed_remote = 1;
		h2c_stream_end(s);
	}
	return 0;
}

static int h2c_on_data(struct h2c_conn *k, const struct h2_frame *f, struct err *e)
{
	struct h2c_stream *s = h2c_find(k, f->stream);

	if (f->length > (uint32_t)k->recv_win)
		return err_set(e, ERR_PROTO, "http2: connection window overrun");
	k->recv_win -= (int32_t)f->length;
	k->conn_owed += f->length; /* handed on (or dropped): the connection gets it back */
	if (!s)
		return 0;
	if (f->length > (uint32_t)s->recv_win)
		return err_set(e, ERR_PROTO, "http2: stream window overrun");
	s->recv_win -= (int32_t)f->length;
	s->owed += f->length;
	s->last_in = k->c->loop->now;
	if (!s->gone && f->payload.n && s->cb->data)
		s->cb->data(s, s->user, f->payload.p, f->payload.n);
	if (f->flags & H2_FLAG_END_STREAM) {
		s->closed_remote = 1;
		h2c_stream_end(s);
	}
	return 0;
}

static void h2c_on_rst(struct h2c_conn *k, const struct h2_frame *f)
{
	struct h2c_stream *s = h2c_find(k, f->stream);
	struct err e = {0};

	if (!s)
		return;
	s->closed_remote = 1;
	s->rst = 0;
	if (f->error_code == H2_REFUSED_STREAM && !s->got_head && !s->gone) {
		h2c_stream_retry(k, s);
		return;
	}
	err_set(&e, ERR_NET, "upstream reset the stream (http2 code %u)", (unsigned)f->error_code);
	h2c_stream_fail(s, H2C_E_RESET, &e);
}

static int h2c_on_settings(struct h2c_conn *k, const struct h2_frame *f)
{
	uint32_t old = k->peer.initial_window_size;
	struct h2c_stream *s;

	if (f->flags & H2_FLAG_ACK)
		return 0;
	h2_settings_apply(&k->peer, f);
	hpack_encoder_set_peer_limit(&k->enc, k->peer.header_table_size);
	for (s = k->streams; s; s = s->next)
		if (s->id && h2_window_adjust(&s->send_win, old, k->peer.initial_window_size) < 0)
			return -1;
	if (h2_write_settings_ack(&k->out) < 0)
		return -1;
	if (k->state == H2C_HELLO)
		k->state = H2C_OPEN;
	return 0;
}

static void h2c_on_goaway(struct h2c_conn *k, const struct h2_frame *f)
{
	struct h2c_stream *s, *next;

	k->state = H2C_DRAIN;
	for (s = k->streams; s; s = next) {
		next = s->next;
		if (!s->gone && (!s->id || s->id > f->last_stream))
			h2c_stream_retry(k, s); /* never processed: safe on a new connection */
	}
}

static int h2c_on_window(struct h2c_conn *k, const struct h2_frame *f)
{
	struct h2c_stream *s;

	if (f->stream == 0)
		return h2_window_increase(&k->send_win, f->increment) < 0 ? -1 : 0;
	s = h2c_find(k, f->stream);
	if (s && h2_window_increase(&s->send_win, f->increment) < 0) {
		struct err e = {0};
		err_set(&e, ERR_PROTO, "http2: upstream overflowed a stream window");
		s->rst = 1; /* FLOW_CONTROL_ERROR on the stream; CANCEL is close enough */
		h2c_stream_fail(s, H2C_E_RESET, &e);
	}
	return 0;
}

int h2c_frame(struct h2c_conn *k, const struct h2_frame *f, struct err *e)
{
	switch (f->type) {
	case H2_DATA:
		return h2c_on_data(k, f, e);
	case H2_HEADERS:
		return h2c_on_headers(k, f, e);
	case H2_RST_STREAM:
		h2c_on_rst(k, f);
		return 0;
	case H2_SETTINGS:
		if (h2c_on_settings(k, f) < 0)
			return err_set(e, ERR_PROTO, "http2: bad SETTINGS from upstream");
		return 0;
	case H2_PING:
		if (f->flags & H2_FLAG_ACK)
			k->ping_at = 0;
		else if (h2_write_ping(&k->out, 1, f->payload.p) < 0)
			return err_set(e, ERR_OTHER, "upstream output full");
		return 0;
	case H2_GOAWAY:
		h2c_on_goaway(k, f);
		return 0;
	case H2_WINDOW_UPDATE:
		if (h2c_on_window(k, f) < 0)
			return err_set(e, ERR_PROTO, "http2: window overflow");
		return 0;
	default:
		return 0;
	}
}

/* Frees the streams whose last callback ran (and whose reset is queued). */
void h2c_sweep(struct h2c_conn *k)
{
	struct h2c_stream *s = k->streams, *next;

	for (; s; s = next) {
		next = s->next;
		if (s->gone && !s->rst)
			h2c_stream_free(s);
	}
}
