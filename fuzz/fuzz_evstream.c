/* fuzz_evstream: the event-stream decoder on arbitrary bytes.
 * Input: byte 0 picks the split point of the rest (two feeds) and byte 1 the
 * piece size of a second, chunked pass (bit 6: a small message limit; bit 7:
 * first rewrite the CRCs of every message the lengths delimit, so that the
 * fuzzer reaches the length and header checks); the rest is the stream. Oracles:
 * both passes see the same messages and the same final status, every
 * message's views lie inside the input or the decoder, its headers iterate
 * cleanly, and re-encoding its headers and payload gives back its bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "wire/crc32.h"
#include "piece.h"
#include "wire/evstream.h"

#define MAX_MSGS 64

struct run {
	uint32_t crc[MAX_MSGS]; /* message CRCs, in order */
	size_t n;
	int status;
};

static void check_msg(const struct evs_msg *m)
{
	struct evs_header h[64];
	struct evs_iter it;
	struct buf out;
	size_t nh = 0;
	int r;

	if (m->raw.n != m->total_length || m->total_length < EVS_MIN_MESSAGE ||
	    m->headers.p != m->raw.p + EVS_PRELUDE_LEN || m->headers.n != m->headers_length ||
	    m->payload.p != m->headers.p + m->headers.n ||
	    m->payload.p + m->payload.n + 4 != m->raw.p + m->raw.n)
		abort();
	evs_iter_init(&it, m->headers);
	while ((r = evs_iter_next(&it, &h[nh < 64 ? nh : 63])) == 1)
		nh++;
	if (r != 0)
		abort(); /* the decoder handed out a message with bad headers */
	if (nh > 64)
		return;
	buf_init(&out, EVS_MAX_MESSAGE);
	if (evs_encode(&out, h, nh, m->payload.p, m->payload.n) != 0 || out.len != m->raw.n ||
	    memcmp(out.p, m->raw.p, out.len) != 0)
		abort();
	buf_free(&out);
}

/* Feeds data in pieces of `step` bytes, except that the first piece is
 * `first` bytes long. */
static void run(const uint8_t *data, size_t size, size_t first, size_t step, size_t limit,
		struct run *res)
{
	static struct fz_arena arena;
	struct evs_decoder d;
	size_t off = 0, pieces = 0;
	int r = 0;

	fz_arena_begin(&arena, size, size + 1);
	evs_init(&d, limit);
	res->n = 0;
	while (off < size && r >= 0) {
		size_t len = pieces++ == 0 ? first : step, used;
		const uint8_t *p;
		uint8_t *piece;
		if (len > size - off)
			len = size - off;
		piece = fz_piece(&arena, data + off, len); /* exact size: ASan sees over-reads */
		p = piece;
		off += len;
		while (len) {
			struct evs_msg m;
			r = evs_feed(&d, p, len, &used, &m);
			if (used > len || (r == 0 && used != len) || (r < 0 && used != 0))
				abort();
			if (r < 0)
				break;
			p += used;
			len -= used;
			if (r == 1) {
				check_msg(&m);
				if (res->n < MAX_MSGS)
					res->crc[res->n] = m.message_crc;
				res->n++;
			}
		}
		fz_piece_done(piece, (size_t)(p - piece) + len);
	}
	res->status = r < 0 ? r : evs_finish(&d);
	if (res->status < 0 && evs_feed(&d, data, size, &off, NULL) != res->status)
		abort(); /* errors are sticky */
	evs_free(&d);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Gives every message that the total_length fields delimit valid CRCs. */
static void fix_crcs(uint8_t *p, size_t n)
{
	size_t off = 0;

	while (n - off >= EVS_PRELUDE_LEN) {
		uint8_t *m = p + off;
		size_t total = (size_t)m[0] << 24 | (size_t)m[1] << 16 | (size_t)m[2] << 8 | m[3];
		put_be32(m + 8, crc32_update(0, m, 8));
		if (total < EVS_MIN_MESSAGE || total > n - off)
			return;
		put_be32(m + total - 4, crc32_update(0, m, total - 4));
		off += total;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run a, b;
	size_t first, step, limit;
	uint8_t *copy = NULL;

	if (size < 2)
		return 0;
	first = (size_t)data[0] * (size - 2) / 255;
	step = (size_t)(data[1] & 0x3f) + 1;
	/* odd bytes: a small decoder limit, so "too large" is reached as well */
	limit = data[1] & 0x40 ? 16 + data[0] : 0;
	if (data[1] & 0x80) {
		copy = malloc(size - 2 ? size - 2 : 1);
		memcpy(copy, data + 2, size - 2);
		fix_crcs(copy, size - 2);
		data = copy;
	} else {
		data += 2;
	}
	size -= 2;
	run(data, size, first, size ? size : 1, limit, &a);
	run(data, size, step, step, limit, &b);
	if (a.status != b.status || a.n != b.n)
		abort();
	for (size_t i = 0; i < a.n && i < MAX_MSGS; i++)
		if (a.crc[i] != b.crc[i])
			abort();
	free(copy);
	return 0;
}
