/* fuzz_h2: the HTTP/2 frame parser on arbitrary bytes.
 * Input: byte 0 picks the split point of the rest (two feeds) and byte 1 the
 * piece size of a second, chunked pass (bits 0-5), the role (bit 6: server)
 * and whether a valid start is put in front (bit 7: the client preface for a
 * server, an empty SETTINGS for a client), so that the fuzzer gets past the
 * preface rules. Oracles: both passes see the same frames (hashed) and the
 * same final status; a connection error uses no byte and is sticky; every
 * view lies in the input piece or the parser's buffers; each frame type has
 * the shape the parser promises; each frame written again by our writers
 * (DATA, HEADERS, RST_STREAM, PING, GOAWAY, WINDOW_UPDATE, SETTINGS) and
 * parsed again gives back the same frame. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "piece.h"
#include "wire/h2.h"

struct run {
	uint64_t hash;
	size_t frames;
	int status;
};

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static int inside(struct slice s, const void *base, size_t n)
{
	const uint8_t *b = base;

	return s.n == 0 || (b && s.p >= b && s.n <= n && s.p - b <= (ptrdiff_t)(n - s.n));
}

/* Writes f again and parses it back (after an empty SETTINGS). */
static void rewrite(const struct h2_frame *f)
{
	struct h2_parser p;
	struct h2_frame g;
	struct buf b;
	struct slice it = f->payload;
	struct h2_setting s[16];
	size_t n = 0, used, off = 0;
	int r = 0;
	uint16_t id;

	buf_init(&b, 1 << 26);
	h2_write_settings(&b, NULL, 0);
	switch (f->type) {
	case H2_DATA: r = h2_write_data(&b, f->stream, f->flags & 1, f->payload.p, f->payload.n, H2_MAX_FRAME_SIZE); break;
	case H2_HEADERS: r = h2_write_headers(&b, f->stream, f->flags & 1, f->payload.p, f->payload.n, 16384); break;
	case H2_RST_STREAM: r = h2_write_rst_stream(&b, f->stream, f->error_code); break;
	case H2_PING: r = h2_write_ping(&b, f->flags & 1, f->payload.p); break;
	case H2_GOAWAY: r = f->payload.n > 16384 - 8 ? 1 : h2_write_goaway(&b, f->last_stream, f->error_code, f->payload.p, f->payload.n); break;
	case H2_WINDOW_UPDATE: r = h2_write_window_update(&b, f->stream, f->increment); break;
	case H2_SETTINGS:
		if (f->flags & H2_FLAG_ACK) {
			r = h2_write_settings_ack(&b);
			break;
		}
		while (n < 16 && h2_settings_next(&it, &id, &s[n].value))
			s[n++].id = id;
		r = it.n ? 1 : h2_write_settings(&b, s, n);
		break;
	default: r = 1;
	}
	if (r == 1) {
		buf_free(&b);
		return;
	}
	if (r != 0)
		abort();
	h2_parser_init(&p, H2_SERVER, 1 << 24);
	p.preface = H2_PREFACE_LEN;
	h2_parser_set_max_frame(&p, H2_MAX_FRAME_SIZE);
	while ((r = h2_feed(&p, b.p + off, b.len - off, &used, &g)) == 1) {
		off += used;
		if (g.type == H2_SETTINGS && off == 9)
			continue;
		if (g.type != f->type || g.stream != f->stream || !slice_eq(g.payload, f->payload) ||
		    g.error_code != f->error_code || g.last_stream != f->last_stream ||
		    g.increment != f->increment)
			abort();
		if (g.type != H2_DATA)
			break;
	}
	if (r < 0)
		abort();
	h2_parser_free(&p);
	buf_free(&b);
}

static void check_frame(const struct h2_parser *p, const struct h2_frame *f, const uint8_t *piece,
			size_t len)
{
	if (!inside(f->payload, piece, len) && !inside(f->payload, p->frame.p, p->frame.len) &&
	    !inside(f->payload, p->block.p, p->block.len))
		abort();
	if (f->stream > 0x7fffffffu || f->payload.n > f->length + p->block.len)
		abort();
	if ((f->type == H2_PING && f->payload.n != 8) ||
	    (f->type == H2_SETTINGS && f->payload.n % 6) ||
	    (f->type == H2_WINDOW_UPDATE && f->increment == 0) ||
	    (f->type == H2_HEADERS && !(f->flags & H2_FLAG_END_HEADERS)) ||
	    f->type == H2_CONTINUATION || f->type == H2_PUSH_PROMISE || f->type > H2_CONTINUATION)
		abort();
	rewrite(f);
}

static void run(int role, const uint8_t *data, size_t size, size_t first, size_t step,
		struct run *res)
{
	static struct fz_arena arena;
	struct h2_parser p;
	size_t off = 0, pieces = 0;
	int r = 0;

	fz_arena_begin(&arena, size, size + 1);
	h2_parser_init(&p, role, 4096);
	res->hash = 14695981039346656037ull;
	res->frames = 0;
	while (off < size && (r >= 0 || h2_is_stream_error(r))) {
		size_t len = pieces++ == 0 ? first : step, used;
		const uint8_t *q;
		uint8_t *piece;
		if (len > size - off)
			len = size - off;
		piece = fz_piece(&arena, data + off, len); /* exact size: ASan sees over-reads */
		q = piece;
		off += len;
		while (len) {
			struct h2_frame f;
			r = h2_feed(&p, q, len, &used, &f);
			if (used > len || (r == 0 && used != len))
				abort();
			if (r < 0 && !h2_is_stream_error(r)) {
				if (used != 0)
					abort();
				break;
			}
			if (r == 1) {
				check_frame(&p, &f, piece, (size_t)(q - piece) + len);
				res->hash = mix(res->hash, &f.type, 1);
				res->hash = mix(res->hash, &f.flags, 1);
				res->hash = mix(res->hash, &f.stream, 4);
				res->hash = mix(res->hash, f.payload.p, f.payload.n);
			} else if (r < 0) {
				res->hash = mix(res->hash, &r, sizeof r);
				res->hash = mix(res->hash, &f.stream, 4);
			}
			res->frames += r != 0;
			q += used;
			len -= used;
		}
		fz_piece_done(piece, (size_t)(q - piece) + len);
	}
	res->status = r < 0 && !h2_is_stream_error(r) ? r : h2_finish(&p);
	if (res->status < 0 && res->status != H2_E_TRUNCATED &&
	    h2_feed(&p, data, size, &off, NULL) != res->status)
		abort(); /* connection errors are sticky */
	h2_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t settings[9] = {0, 0, 0, H2_SETTINGS, 0, 0, 0, 0, 0};
	struct run a, b;
	size_t first, step, pre = 0;
	uint8_t *buf;
	int role;

	if (size < 2)
		return 0;
	first = (size_t)data[0] * (size - 2) / 255;
	step = (size_t)(data[1] & 0x3f) + 1;
	role = data[1] & 0x40 ? H2_SERVER : H2_CLIENT;
	buf = malloc(size + H2_PREFACE_LEN + 9);
	if (data[1] & 0x80) {
		if (role == H2_SERVER) {
			memcpy(buf, H2_PREFACE, H2_PREFACE_LEN);
			pre = H2_PREFACE_LEN;
		}
		memcpy(buf + pre, settings, 9);
		pre += 9;
	}
	memcpy(buf + pre, data + 2, size - 2);
	size = size - 2 + pre;
	run(role, buf, size, first + pre, size ? size : 1, &a);
	run(role, buf, size, step, step, &b);
	if (a.status != b.status || a.frames != b.frames || a.hash != b.hash)
		abort();
	free(buf);
	return 0;
}
