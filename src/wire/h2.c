/* h2: HTTP/2 frame parser, writers and flow-control arithmetic (RFC 9113).
 * See h2.h.
 *
 * h2_feed finds the next whole frame (a view into the input when it lies
 * there whole, else gathered in p->frame after its 9-byte header has been
 * checked, so an oversized frame is refused before a byte of it is held),
 * then checks it by type. HEADERS without END_HEADERS starts a header block
 * in p->block, CONTINUATION frames extend it and the last one hands the
 * block out as the HEADERS frame it belongs to. */
#include "wire/h2.h"

#include <string.h>

#include "base/err.h"

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t get_be31(const uint8_t *p)
{
	return get_be32(p) & 0x7fffffffu;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---------------------------------------------------------- parser */

void h2_parser_init(struct h2_parser *p, int role, size_t max_block)
{
	p->role = role;
	p->max_frame = H2_DEFAULT_FRAME_SIZE;
	/* the real bound is max_frame, checked on each frame header */
	buf_init(&p->frame, H2_FRAME_HEADER_LEN + H2_MAX_FRAME_SIZE);
	buf_init(&p->block, max_block ? max_block : H2_DEFAULT_BLOCK_MAX);
	memset(&p->head, 0, sizeof p->head);
	p->preface = role == H2_SERVER ? 0 : H2_PREFACE_LEN;
	p->in_block = p->settled = p->err = p->delivered = 0;
}

int h2_parser_set_max_frame(struct h2_parser *p, uint32_t max)
{
	if (max < H2_DEFAULT_FRAME_SIZE || max > H2_MAX_FRAME_SIZE)
		return H2_E_ARG;
	p->max_frame = max;
	return 0;
}

void h2_parser_free(struct h2_parser *p)
{
	buf_free(&p->frame);
	buf_free(&p->block);
}

int h2_preface_check(const uint8_t *p, size_t n)
{
	size_t k = n < H2_PREFACE_LEN ? n : H2_PREFACE_LEN;

	if (k && memcmp(p, H2_PREFACE, k) != 0)
		return -1;
	return n >= H2_PREFACE_LEN;
}

/* Checks made as soon as a frame's 9-byte header is known. */
static int check_header(const struct h2_parser *p, const uint8_t *h)
{
	uint32_t len = (uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2];

	if (len > p->max_frame)
		return H2_E_FRAME_SIZE;
	if (p->in_block && h[3] != H2_CONTINUATION)
		return H2_E_CONTINUATION;
	if (!p->settled && (h[3] != H2_SETTINGS || (h[4] & H2_FLAG_ACK)))
		return H2_E_FIRST_SETTINGS;
	return 0;
}

static size_t frame_len(const uint8_t *h)
{
	return H2_FRAME_HEADER_LEN + ((size_t)h[0] << 16 | (size_t)h[1] << 8 | h[2]);
}

/* The next whole frame: 1 and *fr (the input or p->frame), 0 when every byte
 * was taken into p->frame and more are needed, or an error. *took: bytes of
 * in used. */
static int next_frame(struct h2_parser *p, const uint8_t *in, size_t n, size_t *took,
		      const uint8_t **fr)
{
	size_t k, need;
	int r;

	*took = 0;
	if (p->frame.len == 0 && n >= H2_FRAME_HEADER_LEN) {
		if ((r = check_header(p, in)) < 0)
			return r;
		if (n >= frame_len(in)) {
			*took = frame_len(in);
			*fr = in;
			return 1;
		}
	}
	if (p->frame.len < H2_FRAME_HEADER_LEN) {
		k = H2_FRAME_HEADER_LEN - p->frame.len;
		k = k < n ? k : n;
		if (buf_append(&p->frame, in, k) < 0)
			return H2_E_NOMEM;
		*took = k;
		if (p->frame.len < H2_FRAME_HEADER_LEN)
			return 0;
		if ((r = check_header(p, p->frame.p)) < 0)
			return r;
	}
	need = frame_len(p->frame.p) - p->frame.len;
	k = need < n - *took ? need : n - *took;
	if (buf_append(&p->frame, in + *took, k) < 0)
		return H2_E_NOMEM;
	*took += k;
	if (k < need)
		return 0;
	*fr = p->frame.p;
	return 1;
}

/* Takes the pad length byte of a PADDED frame off *pl; *pad its value. */
static int pad_length(const struct h2_frame *f, struct slice *pl, size_t *pad)
{
	*pad = 0;
	if (!(f->flags & H2_FLAG_PADDED))
		return 0;
	if (pl->n < 1)
		return H2_E_LENGTH;
	*pad = pl->p[0];
	pl->p++;
	pl->n--;
	return 0;
}

static int strip_padding(struct slice *pl, size_t pad)
{
	if (pad > pl->n) /* padding as long as the payload or longer */
		return H2_E_PADDING;
	pl->n -= pad;
	return 0;
}

static int on_data(struct h2_frame *f, struct slice pl)
{
	size_t pad;
	int r;

	if (!f->stream)
		return H2_E_STREAM_ID;
	if ((r = pad_length(f, &pl, &pad)) < 0 || (r = strip_padding(&pl, pad)) < 0)
		return r;
	f->payload = pl;
	return 1;
}

static void priority_fields(struct h2_frame *f, const uint8_t *q)
{
	f->dependency = get_be31(q);
	f->exclusive = q[0] >> 7;
	f->weight = q[4];
}

static int on_headers(struct h2_parser *p, struct h2_frame *f, struct slice pl)
{
	size_t pad;
	int r;

	if (!f->stream)
		return H2_E_STREAM_ID;
	if ((r = pad_length(f, &pl, &pad)) < 0)
		return r;
	if (f->flags & H2_FLAG_PRIORITY) {
		if (pl.n < 5)
			return H2_E_LENGTH;
		priority_fields(f, pl.p);
		if (f->dependency == f->stream)
			return H2_E_DEPENDENCY;
		pl.p += 5;
		pl.n -= 5;
	}
	if ((r = strip_padding(&pl, pad)) < 0)
		return r;
	if (pl.n > p->block.max) /* the bound holds for a block in one frame too */
		return H2_E_BLOCK_TOO_BIG;
	f->payload = pl;
	if (f->flags & H2_FLAG_END_HEADERS)
		return 1;
	buf_reset(&p->block);
	if (buf_append(&p->block, pl.p, pl.n) < 0)
		return H2_E_NOMEM; /* pl.n fits the bound: only memory can be short */
	p->head = *f;
	p->in_block = 1;
	return 0;
}

static int on_continuation(struct h2_parser *p, struct h2_frame *f, struct slice pl)
{
	if (!p->in_block || f->stream != p->head.stream)
		return H2_E_CONTINUATION;
	if (buf_append(&p->block, pl.p, pl.n) < 0)
		return H2_E_BLOCK_TOO_BIG;
	if (!(f->flags & H2_FLAG_END_HEADERS))
		return 0;
	*f = p->head;
	f->flags |= H2_FLAG_END_HEADERS;
	f->payload = buf_slice(&p->block);
	p->in_block = 0;
	return 1;
}

static int on_priority(struct h2_frame *f, struct slice pl)
{
	if (!f->stream)
		return H2_E_STREAM_ID;
	if (pl.n != 5)
		return H2_E_STREAM_PRIORITY;
	priority_fields(f, pl.p);
	if (f->dependency == f->stream)
		return H2_E_STREAM_DEPENDENCY;
	return 1;
}

static int on_settings(const struct h2_parser *p, struct h2_frame *f, struct slice pl)
{
	struct slice it = pl;
	uint16_t id;
	uint32_t v;

	if (f->stream)
		return H2_E_STREAM_ID;
	if ((f->flags & H2_FLAG_ACK) ? pl.n != 0 : pl.n % 6 != 0)
		return H2_E_LENGTH;
	while (h2_settings_next(&it, &id, &v)) {
		if (id == H2_SETTINGS_ENABLE_PUSH && (v > 1 || (v == 1 && p->role == H2_CLIENT)))
			return H2_E_SETTINGS_VALUE;
		if (id == H2_SETTINGS_INITIAL_WINDOW_SIZE && v > H2_MAX_WINDOW)
			return H2_E_SETTINGS_WINDOW;
		if (id == H2_SETTINGS_MAX_FRAME_SIZE &&
		    (v < H2_DEFAULT_FRAME_SIZE || v > H2_MAX_FRAME_SIZE))
			return H2_E_SETTINGS_VALUE;
	}
	f->payload = pl;
	return 1;
}

/* The frames that carry fixed fields on stream 0 or a stream. */
static int on_control(struct h2_frame *f, struct slice pl)
{
	switch (f->type) {
	case H2_RST_STREAM:
		if (!f->stream)
			return H2_E_STREAM_ID;
		if (pl.n != 4)
			return H2_E_LENGTH;
		f->error_code = get_be32(pl.p);
		return 1;
	case H2_PING:
		if (f->stream)
			return H2_E_STREAM_ID;
		if (pl.n != 8)
			return H2_E_LENGTH;
		f->payload = pl;
		return 1;
	case H2_GOAWAY:
		if (f->stream)
			return H2_E_STREAM_ID;
		if (pl.n < 8)
			return H2_E_LENGTH;
		f->last_stream = get_be31(pl.p);
		f->error_code = get_be32(pl.p + 4);
		f->payload.p = pl.p + 8;
		f->payload.n = pl.n - 8;
		return 1;
	default: /* H2_WINDOW_UPDATE */
		if (pl.n != 4)
			return H2_E_LENGTH;
		f->increment = get_be31(pl.p);
		if (f->increment == 0)
			return f->stream ? H2_E_STREAM_WINDOW_ZERO : H2_E_WINDOW_ZERO;
		return 1;
	}
}

/* Checks one whole frame: 1 to hand it out, 0 to skip it, or an error. */
static int on_frame(struct h2_parser *p, const uint8_t *fr, struct h2_frame *f)
{
	struct slice pl;

	memset(f, 0, sizeof *f);
	f->length = (uint32_t)(frame_len(fr) - H2_FRAME_HEADER_LEN);
	f->type = fr[3];
	f->flags = fr[4];
	f->stream = get_be31(fr + 5);
	pl.p = fr + H2_FRAME_HEADER_LEN;
	pl.n = f->length;
	switch (f->type) {
	case H2_DATA: return on_data(f, pl);
	case H2_HEADERS: return on_headers(p, f, pl);
	case H2_PRIORITY: return on_priority(f, pl);
	case H2_SETTINGS: return on_settings(p, f, pl);
	case H2_PUSH_PROMISE: return H2_E_PUSH;
	case H2_CONTINUATION: return on_continuation(p, f, pl);
	case H2_RST_STREAM:
	case H2_PING:
	case H2_GOAWAY:
	case H2_WINDOW_UPDATE: return on_control(f, pl);
	default: return 0; /* unknown types are ignored (section 4.1) */
	}
}

static int fail(struct h2_parser *p, int code, size_t *consumed)
{
	*consumed = 0;
	p->err = code;
	return code;
}

/* A server first reads the client preface. */
static int read_preface(struct h2_parser *p, const uint8_t *in, size_t n, size_t *used)
{
	size_t k = H2_PREFACE_LEN - p->preface;

	k = k < n ? k : n;
	if (memcmp(in, &H2_PREFACE[p->preface], k) != 0)
		return H2_E_PREFACE;
	p->preface += k;
	*used = k;
	return 0;
}

int h2_feed(struct h2_parser *p, const uint8_t *in, size_t n, size_t *consumed,
	    struct h2_frame *f)
{
	size_t used = 0, took;
	const uint8_t *fr;
	int r;

	*consumed = 0;
	if (p->err)
		return p->err;
	if (p->delivered) { /* what the last call handed out may go now */
		if (p->frame.len)
			buf_reset(&p->frame);
		if (p->block.len && !p->in_block)
			buf_reset(&p->block);
		p->delivered = 0;
	}
	if (p->preface < H2_PREFACE_LEN && n && (r = read_preface(p, in, n, &used)) < 0)
		return fail(p, r, consumed);
	for (;;) {
		r = next_frame(p, in + used, n - used, &took, &fr);
		if (r < 0)
			return fail(p, r, consumed);
		used += took;
		*consumed = used;
		if (r == 0)
			return 0;
		r = on_frame(p, fr, f);
		if (r < 0 && !h2_is_stream_error(r))
			return fail(p, r, consumed);
		if (f->type == H2_SETTINGS)
			p->settled = 1;
		if (r == 1) {
			p->delivered = 1;
			return 1;
		}
		if (fr == p->frame.p)
			buf_reset(&p->frame);
		if (r < 0)
			return r;
	}
}

int h2_finish(const struct h2_parser *p)
{
	if (p->err)
		return p->err;
	if ((p->frame.len && !p->delivered) || p->in_block ||
	    (p->preface > 0 && p->preface < H2_PREFACE_LEN))
		return H2_E_TRUNCATED;
	return 0;
}

/* ---------------------------------------------------------- settings */

int h2_settings_next(struct slice *rest, uint16_t *id, uint32_t *value)
{
	if (rest->n < 6)
		return 0;
	*id = (uint16_t)(rest->p[0] << 8 | rest->p[1]);
	*value = get_be32(rest->p + 2);
	rest->p += 6;
	rest->n -= 6;
	return 1;
}

void h2_settings_init(struct h2_settings *s)
{
	s->header_table_size = 4096;
	s->enable_push = 1;
	s->max_concurrent_streams = UINT32_MAX;
	s->initial_window_size = H2_DEFAULT_WINDOW;
	s->max_frame_size = H2_DEFAULT_FRAME_SIZE;
	s->max_header_list_size = UINT32_MAX;
}

void h2_settings_apply(struct h2_settings *s, const struct h2_frame *f)
{
	struct slice it = f->payload;
	uint16_t id;
	uint32_t v;

	if (f->type != H2_SETTINGS || (f->flags & H2_FLAG_ACK))
		return;
	while (h2_settings_next(&it, &id, &v)) {
		switch (id) {
		case H2_SETTINGS_HEADER_TABLE_SIZE: s->header_table_size = v; break;
		case H2_SETTINGS_ENABLE_PUSH: s->enable_push = v; break;
		case H2_SETTINGS_MAX_CONCURRENT_STREAMS: s->max_concurrent_streams = v; break;
		case H2_SETTINGS_INITIAL_WINDOW_SIZE: s->initial_window_size = v; break;
		case H2_SETTINGS_MAX_FRAME_SIZE: s->max_frame_size = v; break;
		case H2_SETTINGS_MAX_HEADER_LIST_SIZE: s->max_header_list_size = v; break;
		default: break; /* unknown settings are ignored (section 6.5.2) */
		}
	}
}

/* ---------------------------------------------------------- flow control */

static int window_set(int32_t *w, int64_t v)
{
	if (v > H2_MAX_WINDOW || v < INT32_MIN)
		return H2_E_FLOW;
	*w = (int32_t)v;
	return 0;
}

int h2_window_consume(int32_t *w, uint32_t n)
{
	if ((int64_t)n > *w)
		return H2_E_FLOW;
	return window_set(w, (int64_t)*w - n);
}

int h2_window_increase(int32_t *w, uint32_t inc)
{
	return window_set(w, (int64_t)*w + inc);
}

int h2_window_adjust(int32_t *w, uint32_t old_initial, uint32_t new_initial)
{
	return window_set(w, (int64_t)*w + (int64_t)new_initial - (int64_t)old_initial);
}

/* ---------------------------------------------------------- writers */

static void frame_header(uint8_t h[H2_FRAME_HEADER_LEN], uint32_t length, uint8_t type,
			 uint8_t flags, uint32_t stream)
{
	h[0] = (uint8_t)(length >> 16);
	h[1] = (uint8_t)(length >> 8);
	h[2] = (uint8_t)length;
	h[3] = type;
	h[4] = flags;
	put_be32(h + 5, stream);
}

/* One frame; nothing is written unless all of it fits. */
static int put_frame(struct buf *out, uint8_t type, uint8_t flags, uint32_t stream,
		     const uint8_t *p, size_t n)
{
	uint8_t h[H2_FRAME_HEADER_LEN];

	if (n > H2_MAX_FRAME_SIZE || stream > 0x7fffffffu)
		return H2_E_ARG;
	frame_header(h, (uint32_t)n, type, flags, stream);
	if (buf_reserve(out, sizeof h + n) < 0)
		return H2_E_NOMEM;
	buf_append(out, h, sizeof h);
	if (n)
		buf_append(out, p, n);
	return 0;
}

int h2_write_preface(struct buf *out)
{
	return buf_append(out, H2_PREFACE, H2_PREFACE_LEN) < 0 ? H2_E_NOMEM : 0;
}

int h2_write_frame_header(struct buf *out, uint32_t length, uint8_t type, uint8_t flags,
			  uint32_t stream)
{
	uint8_t h[H2_FRAME_HEADER_LEN];

	if (length > H2_MAX_FRAME_SIZE || stream > 0x7fffffffu)
		return H2_E_ARG;
	frame_header(h, length, type, flags, stream);
	return buf_append(out, h, sizeof h) < 0 ? H2_E_NOMEM : 0;
}

int h2_write_settings(struct buf *out, const struct h2_setting *s, size_t n)
{
	uint8_t p[6 * 16];

	if (n > 16)
		return H2_E_ARG;
	for (size_t i = 0; i < n; i++) {
		p[6 * i] = (uint8_t)(s[i].id >> 8);
		p[6 * i + 1] = (uint8_t)s[i].id;
		put_be32(p + 6 * i + 2, s[i].value);
	}
	return put_frame(out, H2_SETTINGS, 0, 0, p, 6 * n);
}

int h2_write_settings_ack(struct buf *out)
{
	return put_frame(out, H2_SETTINGS, H2_FLAG_ACK, 0, NULL, 0);
}

/* Frames of one kind for n bytes: the count, for reserving room up front. */
static size_t chunks(size_t n, uint32_t max_frame)
{
	return n == 0 ? 1 : (n + max_frame - 1) / max_frame;
}

static int check_stream(uint32_t stream, uint32_t max_frame)
{
	if (stream == 0 || stream > 0x7fffffffu || max_frame < H2_DEFAULT_FRAME_SIZE ||
	    max_frame > H2_MAX_FRAME_SIZE)
		return H2_E_ARG;
	return 0;
}

int h2_write_headers(struct buf *out, uint32_t stream, int end_stream, const uint8_t *block,
		     size_t n, uint32_t max_frame)
{
	uint8_t type = H2_HEADERS, flags = end_stream ? H2_FLAG_END_STREAM : 0;
	size_t off = 0;

	if (check_stream(stream, max_frame) < 0)
		return H2_E_ARG;
	if (buf_reserve(out, n + H2_FRAME_HEADER_LEN * chunks(n, max_frame)) < 0)
		return H2_E_NOMEM;
	do {
		size_t k = n - off < max_frame ? n - off : max_frame;
		if (off + k == n)
			flags |= H2_FLAG_END_HEADERS;
		put_frame(out, type, flags, stream, k ? block + off : NULL, k);
		off += k;
		type = H2_CONTINUATION;
		flags = 0;
	} while (off < n);
	return 0;
}

int h2_write_data(struct buf *out, uint32_t stream, int end_stream, const uint8_t *p, size_t n,
		  uint32_t max_frame)
{
	size_t off = 0;

	if (check_stream(stream, max_frame) < 0)
		return H2_E_ARG;
	if (buf_reserve(out, n + H2_FRAME_HEADER_LEN * chunks(n, max_frame)) < 0)
		return H2_E_NOMEM;
	do {
		size_t k = n - off < max_frame ? n - off : max_frame;
		uint8_t flags = off + k == n && end_stream ? H2_FLAG_END_STREAM : 0;
		put_frame(out, H2_DATA, flags, stream, k ? p + off : NULL, k);
		off += k;
	} while (off < n);
	return 0;
}

int h2_write_window_update(struct buf *out, uint32_t stream, uint32_t increment)
{
	uint8_t p[4];

	if (increment == 0 || increment > H2_MAX_WINDOW)
		return H2_E_ARG;
	put_be32(p, increment);
	return put_frame(out, H2_WINDOW_UPDATE, 0, stream, p, 4);
}

int h2_write_rst_stream(struct buf *out, uint32_t stream, uint32_t code)
{
	uint8_t p[4];

	if (stream == 0)
		return H2_E_ARG;
	put_be32(p, code);
	return put_frame(out, H2_RST_STREAM, 0, stream, p, 4);
}

int h2_write_ping(struct buf *out, int ack, const uint8_t opaque[8])
{
	return put_frame(out, H2_PING, ack ? H2_FLAG_ACK : 0, 0, opaque, 8);
}

int h2_write_goaway(struct buf *out, uint32_t last_stream, uint32_t code, const uint8_t *debug,
		    size_t n)
{
	uint8_t h[8];
	size_t mark = out->len;

	if (last_stream > 0x7fffffffu || n > H2_DEFAULT_FRAME_SIZE - 8)
		return H2_E_ARG;
	put_be32(h, last_stream);
	put_be32(h + 4, code);
	if (h2_write_frame_header(out, (uint32_t)(8 + n), H2_GOAWAY, 0, 0) < 0 ||
	    buf_append(out, h, 8) < 0 || (n && buf_append(out, debug, n) < 0)) {
		out->len = mark;
		if (out->p)
			out->p[mark] = 0;
		return H2_E_NOMEM;
	}
	return 0;
}

/* ---------------------------------------------------------- errors */

int h2_is_stream_error(int err)
{
	return err <= H2_E_STREAM_WINDOW_ZERO && err >= H2_E_STREAM_DEPENDENCY;
}

uint32_t h2_error_code(int err)
{
	switch (err) {
	case 0: return H2_NO_ERROR;
	case H2_E_FRAME_SIZE:
	case H2_E_LENGTH:
	case H2_E_STREAM_PRIORITY: return H2_FRAME_SIZE_ERROR;
	case H2_E_SETTINGS_WINDOW:
	case H2_E_FLOW: return H2_FLOW_CONTROL_ERROR;
	case H2_E_BLOCK_TOO_BIG: return H2_ENHANCE_YOUR_CALM;
	case H2_E_NOMEM:
	case H2_E_ARG: return H2_INTERNAL_ERROR;
	default: return H2_PROTOCOL_ERROR;
	}
}

const char *h2_strerror(int err)
{
	switch (err) {
	case 0: return "no error";
	case H2_E_PREFACE: return "bad client preface";
	case H2_E_FIRST_SETTINGS: return "first frame is not SETTINGS";
	case H2_E_FRAME_SIZE: return "frame larger than SETTINGS_MAX_FRAME_SIZE";
	case H2_E_LENGTH: return "wrong frame length for its type";
	case H2_E_STREAM_ID: return "frame on the wrong stream";
	case H2_E_PADDING: return "padding exceeds the payload";
	case H2_E_SETTINGS_VALUE: return "invalid SETTINGS value";
	case H2_E_SETTINGS_WINDOW: return "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1";
	case H2_E_PUSH: return "PUSH_PROMISE refused";
	case H2_E_CONTINUATION: return "CONTINUATION out of place";
	case H2_E_BLOCK_TOO_BIG: return "header block too large";
	case H2_E_WINDOW_ZERO: return "WINDOW_UPDATE of 0 on the connection";
	case H2_E_DEPENDENCY: return "stream depends on itself";
	case H2_E_TRUNCATED: return "connection closed inside a frame";
	case H2_E_NOMEM: return "out of memory";
	case H2_E_ARG: return "invalid argument";
	case H2_E_FLOW: return "flow-control window overflow";
	case H2_E_STREAM_WINDOW_ZERO: return "WINDOW_UPDATE of 0 on a stream";
	case H2_E_STREAM_PRIORITY: return "PRIORITY frame of the wrong length";
	case H2_E_STREAM_DEPENDENCY: return "PRIORITY on its own stream";
	default: return "unknown error";
	}
}

int h2_err(struct err *e, int err)
{
	int cls = err == H2_E_NOMEM ? ERR_OTHER : err == H2_E_TRUNCATED ? ERR_NET : ERR_PROTO;

	return err_set(e, cls, "http2: %s", h2_strerror(err));
}
