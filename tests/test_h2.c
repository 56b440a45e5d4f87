/* test_h2: the frame parser on a capture holding every frame type (with
 * padding, priority, CONTINUATION, an unknown type) fed whole, in two pieces
 * at every offset and byte by byte (same frames every time), header blocks
 * split across HEADERS and CONTINUATION at every offset and decoded with
 * hpack, the writers to the exact bytes and back through the parser,
 * malformed frames of every kind with the error and its class, SETTINGS and
 * flow-control arithmetic. */
#include "base/buf.h"
#include "base/err.h"
#include "wire/h2.h"
#include "wire/hpack.h"
#include "t.h"

#include <stdint.h>

/* Appends a raw frame. */
static void frame(struct buf *b, uint8_t type, uint8_t flags, uint32_t stream, const void *p,
		  size_t n)
{
	uint8_t h[9] = {(uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
			(uint8_t)(stream >> 24), (uint8_t)(stream >> 16), (uint8_t)(stream >> 8),
			(uint8_t)stream};
	buf_append(b, h, 9);
	if (n)
		buf_append(b, p, n);
}

static const uint8_t settings_empty[9] = {0, 0, 0, 4, 0, 0, 0, 0, 0};

/* One line per frame (or error) into trace. */
static void trace_frame(struct buf *t, int r, const struct h2_frame *f)
{
	if (r != 1) {
		buf_appendf(t, "error %d stream %u\n", r, (unsigned)f->stream);
		return;
	}
	buf_appendf(t, "type %u flags %02x stream %u len %u dep %u w %u x %u code %u last %u inc %u [",
		    f->type, f->flags, (unsigned)f->stream, (unsigned)f->length,
		    (unsigned)f->dependency, f->weight, f->exclusive, (unsigned)f->error_code,
		    (unsigned)f->last_stream, (unsigned)f->increment);
	for (size_t i = 0; i < f->payload.n; i++)
		buf_appendf(t, "%02x", f->payload.p[i]);
	buf_appendf(t, "]\n");
}

/* Feeds data in pieces (the first `first` bytes long, then `step`), each
 * piece in an exact-size copy; the trace of every frame and the final status. */
static void run(int role, const uint8_t *data, size_t size, size_t first, size_t step,
		struct buf *t)
{
	struct h2_parser p;
	size_t off = 0, pieces = 0;
	int r = 0;

	h2_parser_init(&p, role, 0);
	buf_init(t, 1 << 20);
	while (off < size && (r >= 0 || h2_is_stream_error(r))) {
		size_t len = pieces++ == 0 ? first : step, used;
		uint8_t *piece;
		const uint8_t *q;
		if (len > size - off)
			len = size - off;
		piece = malloc(len ? len : 1);
		memcpy(piece, data + off, len);
		q = piece;
		off += len;
		while (len) {
			struct h2_frame f;
			r = h2_feed(&p, q, len, &used, &f);
			if (used > len || (r == 0 && used != len)) {
				buf_appendf(t, "bad consumed\n");
				r = -100;
			}
			if (r < 0 && !h2_is_stream_error(r)) {
				trace_frame(t, r, &f);
				break;
			}
			q += used;
			len -= used;
			if (r != 0)
				trace_frame(t, r, &f);
		}
		free(piece);
	}
	buf_appendf(t, "finish %d\n", r < 0 && !h2_is_stream_error(r) ? r : h2_finish(&p));
	h2_parser_free(&p);
}

/* A server-side capture with one frame of every kind. */
static void capture(struct buf *b)
{
	static const uint8_t set[] = {0, 1, 0, 0, 0x10, 0, 0, 2, 0, 0, 0, 0, 0, 4, 0, 0, 0xff, 0xff,
				      0, 0x99, 1, 2, 3, 4}; /* and an unknown id */
	static const uint8_t hdr_prio[] = {3, 0x80, 0, 0, 0, 15, 0x82, 0x86, 0x84, 'p', 'a', 'd'};
	static const uint8_t data_pad[] = {2, 'h', 'e', 'l', 'l', 'o', 0, 0};
	static const uint8_t prio[] = {0, 0, 0, 1, 7};
	static const uint8_t ping[] = {1, 2, 3, 4, 5, 6, 7, 8};
	static const uint8_t wu[] = {0x80, 0, 0x10, 0}; /* reserved bit set */
	static const uint8_t rst[] = {0, 0, 0, 8};
	static const uint8_t goaway[] = {0, 0, 0, 3, 0, 0, 0, 0, 'b', 'y', 'e'};

	buf_init(b, 1 << 16);
	buf_append(b, H2_PREFACE, H2_PREFACE_LEN);
	frame(b, H2_SETTINGS, 0, 0, set, sizeof set);
	frame(b, H2_SETTINGS, H2_FLAG_ACK, 0, NULL, 0);
	frame(b, H2_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_PADDED | H2_FLAG_PRIORITY, 1, hdr_prio,
	      sizeof hdr_prio);
	frame(b, H2_HEADERS, H2_FLAG_END_STREAM, 3, "\x82\x86", 2);
	frame(b, H2_CONTINUATION, 0, 3, "\x84", 1);
	frame(b, H2_CONTINUATION, 0, 3, "", 0);
	frame(b, H2_CONTINUATION, H2_FLAG_END_HEADERS, 3, "\x41\x01\x61", 3);
	frame(b, 0xfa, 0xff, 3, "ignored", 7);
	frame(b, H2_DATA, H2_FLAG_PADDED, 1, data_pad, sizeof data_pad);
	frame(b, H2_DATA, H2_FLAG_END_STREAM, 1, NULL, 0);
	frame(b, H2_PRIORITY, 0, 5, prio, sizeof prio);
	frame(b, H2_PING, 0, 0, ping, sizeof ping);
	frame(b, H2_WINDOW_UPDATE, 0, 0, wu, sizeof wu);
	frame(b, H2_WINDOW_UPDATE, 0, 0x80000001u, wu, sizeof wu); /* reserved bit in the id */
	frame(b, H2_RST_STREAM, 0, 3, rst, sizeof rst);
	frame(b, H2_PRIORITY, 0, 7, prio, 4); /* a stream error: parsing goes on */
	frame(b, H2_GOAWAY, 0, 0, goaway, sizeof goaway);
}

static const char *const capture_trace =
	"type 4 flags 00 stream 0 len 24 dep 0 w 0 x 0 code 0 last 0 inc 0 "
	"[000100001000000200000000000400"
	"00ffff0099"
	"01020304]\n"
	"type 4 flags 01 stream 0 len 0 dep 0 w 0 x 0 code 0 last 0 inc 0 []\n"
	"type 1 flags 2c stream 1 len 12 dep 0 w 15 x 1 code 0 last 0 inc 0 [828684]\n"
	"type 1 flags 05 stream 3 len 2 dep 0 w 0 x 0 code 0 last 0 inc 0 [828684410161]\n"
	"type 0 flags 08 stream 1 len 8 dep 0 w 0 x 0 code 0 last 0 inc 0 [68656c6c6f]\n"
	"type 0 flags 01 stream 1 len 0 dep 0 w 0 x 0 code 0 last 0 inc 0 []\n"
	"type 2 flags 00 stream 5 len 5 dep 1 w 7 x 0 code 0 last 0 inc 0 []\n"
	"type 6 flags 00 stream 0 len 8 dep 0 w 0 x 0 code 0 last 0 inc 0 [0102030405060708]\n"
	"type 8 flags 00 stream 0 len 4 dep 0 w 0 x 0 code 0 last 0 inc 4096 []\n"
	"type 8 flags 00 stream 1 len 4 dep 0 w 0 x 0 code 0 last 0 inc 4096 []\n"
	"type 3 flags 00 stream 3 len 4 dep 0 w 0 x 0 code 8 last 0 inc 0 []\n"
	"error -33 stream 7\n"
	"type 7 flags 00 stream 0 len 11 dep 0 w 0 x 0 code 0 last 3 inc 0 [627965]\n"
	"finish 0\n";

static void test_capture_splits(void)
{
	struct buf cap, t;
	int ok = 1;

	capture(&cap);
	run(H2_SERVER, cap.p, cap.len, cap.len, cap.len, &t);
	CHECK_STR((const char *)t.p, capture_trace);
	buf_free(&t);
	for (size_t k = 0; k <= cap.len && ok; k++) {
		run(H2_SERVER, cap.p, cap.len, k, cap.len, &t);
		ok = strcmp((const char *)t.p, capture_trace) == 0;
		if (!ok)
			fprintf(stderr, "  split at %zu:\n%s", k, (const char *)t.p);
		buf_free(&t);
	}
	CHECK(ok);
	for (size_t step = 1; step <= 10; step++) {
		run(H2_SERVER, cap.p, cap.len, step, step, &t);
		CHECK_STR((const char *)t.p, capture_trace);
		buf_free(&t);
	}
	/* truncated anywhere inside: finish says so */
	for (size_t k = H2_PREFACE_LEN; k < cap.len && ok; k++) {
		run(H2_SERVER, cap.p, k, k, k, &t);
		ok = strstr((const char *)t.p, "finish -14\n") != NULL ||
		     strstr((const char *)t.p, "finish 0\n") != NULL;
		buf_free(&t);
	}
	CHECK(ok);
	run(H2_SERVER, cap.p, 10, 10, 10, &t);
	CHECK(strstr((const char *)t.p, "finish -14\n") != NULL);
	buf_free(&t);
	buf_free(&cap);
}

/* RFC 7541 C.4.3's block split across HEADERS + CONTINUATION at every offset
 * (and in three pieces), assembled by the parser, decoded by hpack. */
static void test_block_splits(void)
{
	static const uint8_t c41[] = {0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5,
				      0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff};
	static const uint8_t c42[] = {0x82, 0x86, 0x84, 0xbe, 0x58, 0x86, 0xa8,
				      0xeb, 0x10, 0x64, 0x9c, 0xbf};
	static const uint8_t c43[] = {0x82, 0x87, 0x85, 0xbf, 0x40, 0x88, 0x25, 0xa8, 0x49,
				      0xe9, 0x5b, 0xa9, 0x7d, 0x7f, 0x89, 0x25, 0xa8, 0x49,
				      0xe9, 0x5b, 0xb8, 0xe8, 0xb4, 0xbf};
	static const char *const want = ":method=GET;:scheme=https;:path=/index.html;"
					":authority=www.example.com;custom-key=custom-value;";
	uint8_t scratch[256];
	int ok = 1;

	for (size_t k = 0; k <= sizeof c43 && ok; k++) {
		for (size_t j = k; j <= sizeof c43 && ok; j++) {
			struct h2_parser p;
			struct hpack_decoder d;
			struct hpack_field hf;
			struct h2_frame f;
			struct buf in, names;
			size_t used, off = 0;
			int r;

			buf_init(&in, 4096);
			buf_init(&names, 4096);
			buf_append(&in, settings_empty, 9);
			frame(&in, H2_HEADERS, H2_FLAG_END_HEADERS, 1, c41, sizeof c41);
			frame(&in, H2_HEADERS, H2_FLAG_END_HEADERS, 3, c42, sizeof c42);
			frame(&in, H2_HEADERS, k == sizeof c43 ? H2_FLAG_END_HEADERS : 0, 5, c43, k);
			if (k < sizeof c43) {
				frame(&in, H2_CONTINUATION, j == sizeof c43 ? H2_FLAG_END_HEADERS : 0,
				      5, c43 + k, j - k);
				if (j < sizeof c43)
					frame(&in, H2_CONTINUATION, H2_FLAG_END_HEADERS, 5, c43 + j,
					      sizeof c43 - j);
			}
			h2_parser_init(&p, H2_CLIENT, 0);
			hpack_decoder_init(&d, 4096, 0, scratch, sizeof scratch);
			while ((r = h2_feed(&p, in.p + off, in.len - off, &used, &f)) == 1) {
				off += used;
				if (f.type != H2_HEADERS)
					continue;
				hpack_block_begin(&d, f.payload.p, f.payload.n);
				buf_reset(&names);
				while (hpack_next(&d, &hf) == 1)
					buf_appendf(&names, "%.*s=%.*s;", (int)hf.name.n, hf.name.p,
						    (int)hf.value.n, hf.value.p);
			}
			ok = r == 0 && off + used == in.len && f.stream == 5 &&
			     strcmp((const char *)names.p, want) == 0 && h2_finish(&p) == 0;
			h2_parser_free(&p);
			buf_free(&in);
			buf_free(&names);
		}
	}
	CHECK(ok);
}

/* ------------------------------------------------------------ malformed */

/* Feeds a client-side connection: an empty SETTINGS, then the given frames;
 * the first non-frame result, with *stream of a stream error. */
static int feed_status(int role, const struct buf *frames, uint32_t *stream)
{
	struct h2_parser p;
	struct h2_frame f;
	struct buf in;
	size_t off = 0, used;
	int r;

	buf_init(&in, 1 << 20);
	if (role == H2_SERVER)
		buf_append(&in, H2_PREFACE, H2_PREFACE_LEN);
	buf_append(&in, settings_empty, 9);
	buf_append(&in, frames->p, frames->len);
	h2_parser_init(&p, role, 64);
	while ((r = h2_feed(&p, in.p + off, in.len - off, &used, &f)) == 1)
		off += used;
	if (stream)
		*stream = f.stream;
	if (r < 0 && !h2_is_stream_error(r)) {
		size_t again;
		if (used != 0 || h2_feed(&p, in.p, in.len, &again, &f) != r || again != 0)
			r = -200; /* not sticky */
	}
	if (r == 0)
		r = h2_finish(&p);
	h2_parser_free(&p);
	buf_free(&in);
	return r;
}

/* One frame's result. */
static int one(uint8_t type, uint8_t flags, uint32_t stream, const void *p, size_t n)
{
	struct buf b;
	int r;

	buf_init(&b, 1 << 20);
	frame(&b, type, flags, stream, p, n);
	r = feed_status(H2_CLIENT, &b, NULL);
	buf_free(&b);
	return r;
}

static void test_malformed_lengths(void)
{
	static uint8_t big[H2_MAX_FRAME_SIZE / 512];
	uint8_t hdr[9] = {0, 0x40, 0x01, H2_DATA, 0, 0, 0, 0, 1}; /* 16385 bytes */
	struct buf b;

	CHECK(one(H2_DATA, 0, 1, big, 16384) == 0);
	CHECK(one(H2_DATA, 0, 1, big, 16385) == H2_E_FRAME_SIZE);
	/* refused from the header alone, before the payload arrives */
	buf_init(&b, 64);
	buf_append(&b, hdr, 9);
	CHECK(feed_status(H2_CLIENT, &b, NULL) == H2_E_FRAME_SIZE);
	buf_free(&b);
	CHECK(one(H2_PING, 0, 0, big, 7) == H2_E_LENGTH);
	CHECK(one(H2_PING, 0, 0, big, 9) == H2_E_LENGTH);
	CHECK(one(H2_PING, H2_FLAG_ACK, 0, big, 8) == 0);
	CHECK(one(H2_RST_STREAM, 0, 1, big, 3) == H2_E_LENGTH);
	CHECK(one(H2_RST_STREAM, 0, 1, big, 5) == H2_E_LENGTH);
	CHECK(one(H2_WINDOW_UPDATE, 0, 0, "\0\0\0\1\0", 5) == H2_E_LENGTH);
	CHECK(one(H2_WINDOW_UPDATE, 0, 0, "\0\0\1", 3) == H2_E_LENGTH);
	CHECK(one(H2_GOAWAY, 0, 0, big, 7) == H2_E_LENGTH);
	CHECK(one(H2_GOAWAY, 0, 0, big, 8) == 0);
	CHECK(one(H2_SETTINGS, 0, 0, big, 5) == H2_E_LENGTH);
	CHECK(one(H2_SETTINGS, H2_FLAG_ACK, 0, big, 6) == H2_E_LENGTH);
	CHECK(one(H2_HEADERS, H2_FLAG_PRIORITY | H2_FLAG_END_HEADERS, 1, big, 4) == H2_E_LENGTH);
	CHECK(one(H2_HEADERS, H2_FLAG_PADDED | H2_FLAG_END_HEADERS, 1, big, 0) == H2_E_LENGTH);
	CHECK(one(H2_DATA, H2_FLAG_PADDED, 1, big, 0) == H2_E_LENGTH);
}

static void test_malformed_streams(void)
{
	static const uint8_t z[8] = {0, 0, 0, 1, 0, 0, 0, 0};

	CHECK(one(H2_DATA, 0, 0, "x", 1) == H2_E_STREAM_ID);
	CHECK(one(H2_HEADERS, H2_FLAG_END_HEADERS, 0, "\x82", 1) == H2_E_STREAM_ID);
	CHECK(one(H2_PRIORITY, 0, 0, "\0\0\0\1\1", 5) == H2_E_STREAM_ID);
	CHECK(one(H2_RST_STREAM, 0, 0, z, 4) == H2_E_STREAM_ID);
	CHECK(one(H2_SETTINGS, 0, 1, NULL, 0) == H2_E_STREAM_ID);
	CHECK(one(H2_PING, 0, 1, z, 8) == H2_E_STREAM_ID);
	CHECK(one(H2_GOAWAY, 0, 1, z, 8) == H2_E_STREAM_ID);
	CHECK(one(H2_CONTINUATION, H2_FLAG_END_HEADERS, 0, "\x82", 1) == H2_E_CONTINUATION);
	CHECK(one(H2_PUSH_PROMISE, H2_FLAG_END_HEADERS, 1, "\0\0\0\2\x82", 5) == H2_E_PUSH);
	CHECK(one(H2_WINDOW_UPDATE, 0, 0, "\0\0\0\0", 4) == H2_E_WINDOW_ZERO);
	CHECK(one(H2_WINDOW_UPDATE, 0, 0, "\x80\0\0\0", 4) == H2_E_WINDOW_ZERO);
	CHECK(one(0x20, 0xff, 0, "anything", 8) == 0); /* unknown type, any stream */
}

static void test_malformed_padding(void)
{
	CHECK(one(H2_DATA, H2_FLAG_PADDED, 1, "\1", 1) == H2_E_PADDING);
	CHECK(one(H2_DATA, H2_FLAG_PADDED, 1, "\4\0\0\0\0", 5) == 0); /* all padding */
	CHECK(one(H2_DATA, H2_FLAG_PADDED, 1, "\5\0\0\0\0", 5) == H2_E_PADDING);
	CHECK(one(H2_DATA, H2_FLAG_PADDED, 1, "\xff", 1) == H2_E_PADDING);
	CHECK(one(H2_HEADERS, H2_FLAG_PADDED | H2_FLAG_END_HEADERS, 1, "\2\x82", 2) == H2_E_PADDING);
	CHECK(one(H2_HEADERS, H2_FLAG_PADDED | H2_FLAG_END_HEADERS, 1, "\1\x82", 2) == 0);
	CHECK(one(H2_HEADERS, H2_FLAG_PADDED | H2_FLAG_END_HEADERS, 1, "\1\x82\0", 3) == 0);
	/* padding counted after the priority fields */
	CHECK(one(H2_HEADERS, H2_FLAG_PADDED | H2_FLAG_PRIORITY | H2_FLAG_END_HEADERS, 1,
		  "\3\0\0\0\0\x10\x82\0", 8) == H2_E_PADDING);
	CHECK(one(H2_HEADERS, H2_FLAG_PADDED | H2_FLAG_PRIORITY | H2_FLAG_END_HEADERS, 1,
		  "\2\0\0\0\0\x10\x82\0", 8) == 0);
	CHECK(one(H2_HEADERS, H2_FLAG_PADDED | H2_FLAG_PRIORITY | H2_FLAG_END_HEADERS, 1,
		  "\1\0\0\0\0\x10\x82\0", 8) == 0);
	CHECK(one(H2_HEADERS, H2_FLAG_PRIORITY | H2_FLAG_END_HEADERS, 3, "\0\0\0\3\x10\x82", 6) ==
	      H2_E_DEPENDENCY);
}

static void test_malformed_settings(void)
{
	struct buf b;

	CHECK(one(H2_SETTINGS, 0, 0, "\0\2\0\0\0\0", 6) == 0);
	CHECK(one(H2_SETTINGS, 0, 0, "\0\2\0\0\0\1", 6) == H2_E_SETTINGS_VALUE); /* from a server */
	CHECK(one(H2_SETTINGS, 0, 0, "\0\2\0\0\0\2", 6) == H2_E_SETTINGS_VALUE);
	CHECK(one(H2_SETTINGS, 0, 0, "\0\4\x7f\xff\xff\xff", 6) == 0);
	CHECK(one(H2_SETTINGS, 0, 0, "\0\4\x80\0\0\0", 6) == H2_E_SETTINGS_WINDOW);
	CHECK(one(H2_SETTINGS, 0, 0, "\0\5\0\0\x40\0", 6) == 0);
	CHECK(one(H2_SETTINGS, 0, 0, "\0\5\0\0\x3f\xff", 6) == H2_E_SETTINGS_VALUE);
	CHECK(one(H2_SETTINGS, 0, 0, "\0\5\0\xff\xff\xff", 6) == 0);
	CHECK(one(H2_SETTINGS, 0, 0, "\0\5\1\0\0\0", 6) == H2_E_SETTINGS_VALUE);
	CHECK(one(H2_SETTINGS, 0, 0, "\xff\xff\xff\xff\xff\xff", 6) == 0); /* unknown id */
	CHECK(one(H2_SETTINGS, 0, 0, "\0\1\0\0\0\0\0\2\0\0\0\2", 12) == H2_E_SETTINGS_VALUE);
	/* a client may send ENABLE_PUSH 1 to a server */
	buf_init(&b, 64);
	frame(&b, H2_SETTINGS, 0, 0, "\0\2\0\0\0\1", 6);
	CHECK(feed_status(H2_SERVER, &b, NULL) == 0);
	buf_free(&b);
}

static void test_malformed_continuation(void)
{
	struct buf b;

	buf_init(&b, 1024);
	frame(&b, H2_HEADERS, 0, 1, "\x82", 1);
	frame(&b, H2_DATA, 0, 1, "x", 1);
	CHECK(feed_status(H2_CLIENT, &b, NULL) == H2_E_CONTINUATION);
	buf_reset(&b);
	frame(&b, H2_HEADERS, 0, 1, "\x82", 1);
	frame(&b, H2_CONTINUATION, H2_FLAG_END_HEADERS, 3, "\x82", 1);
	CHECK(feed_status(H2_CLIENT, &b, NULL) == H2_E_CONTINUATION);
	buf_reset(&b);
	frame(&b, H2_HEADERS, 0, 1, "\x82", 1);
	frame(&b, 0x30, 0, 1, "x", 1); /* even an unknown type */
	CHECK(feed_status(H2_CLIENT, &b, NULL) == H2_E_CONTINUATION);
	buf_reset(&b);
	frame(&b, H2_HEADERS, 0, 1, "\x82", 1);
	frame(&b, H2_PING, 0, 0, "12345678", 8);
	CHECK(feed_status(H2_CLIENT, &b, NULL) == H2_E_CONTINUATION);
	buf_reset(&b);
	frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 1, "\x82", 1);
	frame(&b, H2_CONTINUATION, H2_FLAG_END_HEADERS, 1, "\x82", 1);
	CHECK(feed_status(H2_CLIENT, &b, NULL) == H2_E_CONTINUATION);
	/* the block bound (64 in feed_status) */
	buf_reset(&b);
	frame(&b, H2_HEADERS, 0, 1, "0123456789012345678901234567890123456789", 40);
	frame(&b, H2_CONTINUATION, H2_FLAG_END_HEADERS, 1, "012345678901234567890123", 24);
	CHECK(feed_status(H2_CLIENT, &b, NULL) == 0);
	buf_reset(&b);
	frame(&b, H2_HEADERS, 0, 1, "0123456789012345678901234567890123456789", 40);
	frame(&b, H2_CONTINUATION, H2_FLAG_END_HEADERS, 1, "0123456789012345678901234", 25);
	CHECK(feed_status(H2_CLIENT, &b, NULL) == H2_E_BLOCK_TOO_BIG);
	/* the bound holds for a block in a single frame too */
	buf_reset(&b);
	frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 1, "0123456789012345678901234567890123456789"
						       "0123456789012345678901234", 65);
	CHECK(feed_status(H2_CLIENT, &b, NULL) == H2_E_BLOCK_TOO_BIG);
	/* a block left open at the end */
	buf_reset(&b);
	frame(&b, H2_HEADERS, 0, 1, "\x82", 1);
	CHECK(feed_status(H2_CLIENT, &b, NULL) == H2_E_TRUNCATED);
	buf_free(&b);
}

static void test_stream_errors(void)
{
	struct buf b;
	uint32_t stream = 0;

	buf_init(&b, 1024);
	frame(&b, H2_WINDOW_UPDATE, 0, 3, "\0\0\0\0", 4);
	CHECK(feed_status(H2_CLIENT, &b, &stream) == H2_E_STREAM_WINDOW_ZERO && stream == 3);
	buf_reset(&b);
	frame(&b, H2_PRIORITY, 0, 5, "\0\0\0\1", 4);
	CHECK(feed_status(H2_CLIENT, &b, &stream) == H2_E_STREAM_PRIORITY && stream == 5);
	buf_reset(&b);
	frame(&b, H2_PRIORITY, 0, 7, "\x80\0\0\7\1", 5);
	CHECK(feed_status(H2_CLIENT, &b, &stream) == H2_E_STREAM_DEPENDENCY && stream == 7);
	CHECK(h2_is_stream_error(H2_E_STREAM_DEPENDENCY) && !h2_is_stream_error(H2_E_DEPENDENCY));
	CHECK(h2_error_code(H2_E_STREAM_WINDOW_ZERO) == H2_PROTOCOL_ERROR);
	CHECK(h2_error_code(H2_E_STREAM_PRIORITY) == H2_FRAME_SIZE_ERROR);
	CHECK(h2_error_code(H2_E_STREAM_DEPENDENCY) == H2_PROTOCOL_ERROR);
	buf_free(&b);
}

static void test_first_frame_and_preface(void)
{
	struct h2_parser p;
	struct h2_frame f;
	size_t used;
	uint8_t ping[17] = {0, 0, 8, H2_PING, 0, 0, 0, 0, 0};
	uint8_t ack[9] = {0, 0, 0, H2_SETTINGS, H2_FLAG_ACK, 0, 0, 0, 0};

	h2_parser_init(&p, H2_CLIENT, 0);
	CHECK(h2_feed(&p, ping, sizeof ping, &used, &f) == H2_E_FIRST_SETTINGS && used == 0);
	h2_parser_free(&p);
	h2_parser_init(&p, H2_CLIENT, 0);
	CHECK(h2_feed(&p, ack, sizeof ack, &used, &f) == H2_E_FIRST_SETTINGS);
	h2_parser_free(&p);
	/* refused from the first header bytes */
	h2_parser_init(&p, H2_CLIENT, 0);
	CHECK(h2_feed(&p, ping, 9, &used, &f) == H2_E_FIRST_SETTINGS);
	h2_parser_free(&p);

	h2_parser_init(&p, H2_SERVER, 0);
	CHECK(h2_feed(&p, (const uint8_t *)"PRI * HTTP/2.0\r\n", 16, &used, &f) == 0 && used == 16);
	CHECK(h2_finish(&p) == H2_E_TRUNCATED);
	CHECK(h2_feed(&p, (const uint8_t *)"\r\nSM\r\n\r\n", 8, &used, &f) == 0 && used == 8);
	CHECK(h2_finish(&p) == 0);
	CHECK(h2_feed(&p, settings_empty, 9, &used, &f) == 1 && f.type == H2_SETTINGS);
	h2_parser_free(&p);
	h2_parser_init(&p, H2_SERVER, 0);
	CHECK(h2_feed(&p, (const uint8_t *)"GET / HTTP/1.1\r\n", 16, &used, &f) == H2_E_PREFACE);
	CHECK(h2_feed(&p, (const uint8_t *)"PRI", 3, &used, &f) == H2_E_PREFACE); /* sticky */
	h2_parser_free(&p);

	CHECK(h2_preface_check((const uint8_t *)H2_PREFACE, H2_PREFACE_LEN) == 1);
	CHECK(h2_preface_check((const uint8_t *)H2_PREFACE "\0\0", H2_PREFACE_LEN + 2) == 1);
	CHECK(h2_preface_check((const uint8_t *)"PRI * HTTP/2", 12) == 0);
	CHECK(h2_preface_check(NULL, 0) == 0);
	CHECK(h2_preface_check((const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18) == -1);
	CHECK(h2_preface_check((const uint8_t *)"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\r", 24) == -1);
}

/* A bad header that arrives a byte at a time is refused at its ninth byte,
 * with no byte used, and the error stays. */
static void test_header_bytewise(void)
{
	static const uint8_t in[18] = {0, 0, 0, H2_SETTINGS, 0, 0, 0, 0, 0,
				       0, 0x40, 0x01, H2_DATA, 0, 0, 0, 0, 1};
	struct h2_parser p;
	struct h2_frame f;
	size_t used;
	int r = 0;

	h2_parser_init(&p, H2_CLIENT, 0);
	CHECK(h2_feed(&p, in, 9, &used, &f) == 1 && used == 9);
	for (size_t i = 9; i < 17; i++)
		r |= h2_feed(&p, in + i, 1, &used, &f) != 0 || used != 1;
	CHECK(r == 0);
	CHECK(h2_feed(&p, in + 17, 1, &used, &f) == H2_E_FRAME_SIZE && used == 0);
	CHECK(h2_finish(&p) == H2_E_FRAME_SIZE);
	h2_parser_free(&p);
}

static void test_max_frame(void)
{
	static uint8_t big[20000];
	struct h2_parser p;
	struct h2_frame f;
	struct buf b;
	size_t used;

	buf_init(&b, 1 << 20);
	buf_append(&b, settings_empty, 9);
	frame(&b, H2_DATA, 0, 1, big, sizeof big);
	h2_parser_init(&p, H2_CLIENT, 0);
	CHECK(h2_parser_set_max_frame(&p, 16383) == H2_E_ARG);
	CHECK(h2_parser_set_max_frame(&p, H2_MAX_FRAME_SIZE + 1) == H2_E_ARG);
	CHECK(h2_parser_set_max_frame(&p, 20000) == 0);
	CHECK(h2_feed(&p, b.p, b.len, &used, &f) == 1 && used == 9);
	/* straddling: gathered in the parser */
	CHECK(h2_feed(&p, b.p + 9, 100, &used, &f) == 0 && used == 100);
	CHECK(h2_feed(&p, b.p + 109, b.len - 109, &used, &f) == 1 && used == b.len - 109);
	CHECK(f.type == H2_DATA && f.payload.n == sizeof big && f.length == sizeof big);
	CHECK(h2_finish(&p) == 0);
	h2_parser_free(&p);
	buf_free(&b);
}

/* ------------------------------------------------------------ writers */

static int bytes_are(const struct buf *b, const char *want, size_t n)
{
	return b->len == n && memcmp(b->p, want, n) == 0;
}

static void test_writers_exact(void)
{
	static const struct h2_setting s[] = {{H2_SETTINGS_ENABLE_PUSH, 0},
					      {H2_SETTINGS_INITIAL_WINDOW_SIZE, 0x7fffffff}};
	struct buf b;

	buf_init(&b, 1 << 16);
	CHECK(h2_write_preface(&b) == 0 && bytes_are(&b, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24));
	buf_reset(&b);
	CHECK(h2_write_settings(&b, s, 2) == 0);
	CHECK(bytes_are(&b, "\0\0\14\4\0\0\0\0\0\0\2\0\0\0\0\0\4\x7f\xff\xff\xff", 21));
	buf_reset(&b);
	CHECK(h2_write_settings(&b, NULL, 0) == 0 && bytes_are(&b, "\0\0\0\4\0\0\0\0\0", 9));
	buf_reset(&b);
	CHECK(h2_write_settings_ack(&b) == 0 && bytes_are(&b, "\0\0\0\4\1\0\0\0\0", 9));
	buf_reset(&b);
	CHECK(h2_write_window_update(&b, 3, 0x7fffffff) == 0);
	CHECK(bytes_are(&b, "\0\0\4\x08\0\0\0\0\3\x7f\xff\xff\xff", 13));
	buf_reset(&b);
	CHECK(h2_write_rst_stream(&b, 5, H2_CANCEL) == 0);
	CHECK(bytes_are(&b, "\0\0\4\3\0\0\0\0\5\0\0\0\x08", 13));
	buf_reset(&b);
	CHECK(h2_write_ping(&b, 1, (const uint8_t *)"abcdefgh") == 0);
	CHECK(bytes_are(&b, "\0\0\x08\6\1\0\0\0\0abcdefgh", 17));
	buf_reset(&b);
	CHECK(h2_write_goaway(&b, 7, H2_ENHANCE_YOUR_CALM, (const uint8_t *)"hi", 2) == 0);
	CHECK(bytes_are(&b, "\0\0\x0a\7\0\0\0\0\0\0\0\0\7\0\0\0\x0bhi", 19));
	buf_reset(&b);
	CHECK(h2_write_headers(&b, 1, 1, (const uint8_t *)"\x82\x86", 2, 16384) == 0);
	CHECK(bytes_are(&b, "\0\0\2\1\5\0\0\0\1\x82\x86", 11));
	buf_reset(&b);
	CHECK(h2_write_data(&b, 3, 0, (const uint8_t *)"hey", 3, 16384) == 0);
	CHECK(bytes_are(&b, "\0\0\3\0\0\0\0\0\3hey", 12));
	buf_reset(&b);
	CHECK(h2_write_data(&b, 3, 1, NULL, 0, 16384) == 0);
	CHECK(bytes_are(&b, "\0\0\0\0\1\0\0\0\3", 9));
	buf_reset(&b);
	CHECK(h2_write_frame_header(&b, 0x123456, 0xab, 0xcd, 0x7fffffff) == 0);
	CHECK(bytes_are(&b, "\x12\x34\x56\xab\xcd\x7f\xff\xff\xff", 9));
	buf_free(&b);
}

static void test_writers_args(void)
{
	struct h2_setting s[17] = {{0, 0}};
	struct buf b;

	buf_init(&b, 1 << 16);
	CHECK(h2_write_window_update(&b, 0, 0) == H2_E_ARG);
	CHECK(h2_write_window_update(&b, 0, 0x80000000u) == H2_E_ARG);
	CHECK(h2_write_rst_stream(&b, 0, 0) == H2_E_ARG);
	CHECK(h2_write_headers(&b, 0, 0, NULL, 0, 16384) == H2_E_ARG);
	CHECK(h2_write_headers(&b, 0x80000000u, 0, NULL, 0, 16384) == H2_E_ARG);
	CHECK(h2_write_headers(&b, 1, 0, NULL, 0, 16383) == H2_E_ARG);
	CHECK(h2_write_data(&b, 1, 0, NULL, 0, H2_MAX_FRAME_SIZE + 1) == H2_E_ARG);
	CHECK(h2_write_data(&b, 0, 0, NULL, 0, 16384) == H2_E_ARG);
	CHECK(h2_write_settings(&b, s, 17) == H2_E_ARG);
	CHECK(h2_write_goaway(&b, 0x80000000u, 0, NULL, 0) == H2_E_ARG);
	CHECK(h2_write_frame_header(&b, H2_MAX_FRAME_SIZE + 1, 0, 0, 1) == H2_E_ARG);
	CHECK(h2_write_frame_header(&b, 0, 0, 0, 0x80000000u) == H2_E_ARG);
	CHECK(h2_error_code(H2_E_ARG) == H2_INTERNAL_ERROR);
	CHECK(h2_error_code(H2_E_NOMEM) == H2_INTERNAL_ERROR);
	CHECK(b.len == 0);
	buf_free(&b);
	/* out of room: nothing written */
	buf_init(&b, 18);
	buf_append(&b, "xy", 2);
	CHECK(h2_write_data(&b, 1, 1, (const uint8_t *)"0123456789", 10, 16384) == H2_E_NOMEM);
	CHECK(h2_write_headers(&b, 1, 1, (const uint8_t *)"0123456789", 10, 16384) == H2_E_NOMEM);
	CHECK(h2_write_goaway(&b, 1, 0, (const uint8_t *)"0123456789", 10) == H2_E_NOMEM);
	CHECK(h2_write_ping(&b, 0, (const uint8_t *)"12345678") == H2_E_NOMEM);
	CHECK(h2_write_preface(&b) == H2_E_NOMEM);
	CHECK(b.len == 2 && memcmp(b.p, "xy", 3) == 0);
	buf_free(&b);
}

/* Large blocks and bodies are split at max_frame and read back whole. */
static void test_writers_split(void)
{
	static uint8_t block[40000], body[40000];
	struct h2_parser p;
	struct h2_frame f;
	struct buf b;
	size_t off = 0, used, got = 0;
	int r, frames = 0, ends = 0;

	for (size_t i = 0; i < sizeof block; i++) {
		block[i] = (uint8_t)(i * 7);
		body[i] = (uint8_t)(i * 13);
	}
	buf_init(&b, 1 << 20);
	h2_write_settings(&b, NULL, 0);
	CHECK(h2_write_headers(&b, 1, 0, block, sizeof block, 16384) == 0);
	CHECK(b.len == 9 + 3 * 9 + sizeof block);
	CHECK(b.p[9 + 3] == H2_HEADERS && b.p[9 + 4] == 0);
	CHECK(b.p[9 + 9 + 16384 + 3] == H2_CONTINUATION && b.p[9 + 9 + 16384 + 4] == 0);
	CHECK(b.p[9 + 2 * (9 + 16384) + 4] == H2_FLAG_END_HEADERS);
	CHECK(h2_write_data(&b, 1, 1, body, sizeof body, 16384) == 0);
	h2_parser_init(&p, H2_CLIENT, sizeof block);
	while ((r = h2_feed(&p, b.p + off, b.len - off, &used, &f)) == 1) {
		off += used;
		if (f.type == H2_HEADERS)
			CHECK_MEM(f.payload.p, f.payload.n, block, sizeof block);
		if (f.type == H2_DATA) {
			CHECK(memcmp(f.payload.p, body + got, f.payload.n) == 0);
			got += f.payload.n;
			frames++;
			ends += (f.flags & H2_FLAG_END_STREAM) != 0;
		}
	}
	CHECK(r == 0 && got == sizeof body && frames == 3 && ends == 1 && f.stream == 1);
	h2_parser_free(&p);
	buf_free(&b);
}

/* ------------------------------------------------------------ settings, windows */

static void test_settings_apply(void)
{
	struct h2_settings s;
	struct h2_frame f;
	struct slice it;
	uint16_t id;
	uint32_t v;

	h2_settings_init(&s);
	CHECK(s.header_table_size == 4096 && s.enable_push == 1 && s.initial_window_size == 65535 &&
	      s.max_frame_size == 16384 && s.max_concurrent_streams == UINT32_MAX &&
	      s.max_header_list_size == UINT32_MAX);
	memset(&f, 0, sizeof f);
	f.type = H2_SETTINGS;
	f.payload.p = (const uint8_t *)"\0\1\0\0\0\0\0\2\0\0\0\0\0\3\0\0\0\144"
				       "\0\4\0\1\0\0\0\5\0\0\x40\1\0\6\0\0\x20\0\0\x77\0\0\0\1";
	f.payload.n = 42;
	it = f.payload;
	CHECK(h2_settings_next(&it, &id, &v) == 1 && id == 1 && v == 0);
	h2_settings_apply(&s, &f);
	CHECK(s.header_table_size == 0 && s.enable_push == 0 && s.max_concurrent_streams == 100 &&
	      s.initial_window_size == 65536 && s.max_frame_size == 16385 &&
	      s.max_header_list_size == 8192);
	f.flags = H2_FLAG_ACK; /* an ACK carries nothing */
	h2_settings_init(&s);
	h2_settings_apply(&s, &f);
	CHECK(s.header_table_size == 4096);
}

static void test_windows(void)
{
	int32_t w = H2_DEFAULT_WINDOW;

	CHECK(h2_window_consume(&w, 65535) == 0 && w == 0);
	CHECK(h2_window_consume(&w, 1) == H2_E_FLOW && w == 0);
	CHECK(h2_window_consume(&w, 0) == 0 && w == 0);
	CHECK(h2_window_increase(&w, H2_MAX_WINDOW) == 0 && w == H2_MAX_WINDOW);
	CHECK(h2_window_increase(&w, 1) == H2_E_FLOW && w == H2_MAX_WINDOW);
	CHECK(h2_window_consume(&w, 0xffffffffu) == H2_E_FLOW);
	w = 100;
	/* the initial window shrinks: the stream's window goes negative */
	CHECK(h2_window_adjust(&w, 65535, 0) == 0 && w == 100 - 65535);
	CHECK(h2_window_consume(&w, 1) == H2_E_FLOW);
	CHECK(h2_window_adjust(&w, 0, H2_MAX_WINDOW) == 0 && w == 100 - 65535 + H2_MAX_WINDOW);
	CHECK(h2_window_adjust(&w, 0, 65535) == H2_E_FLOW);
	w = -H2_MAX_WINDOW;
	CHECK(h2_window_adjust(&w, H2_MAX_WINDOW, 0) == H2_E_FLOW); /* below INT32_MIN */
	CHECK(h2_error_code(H2_E_FLOW) == H2_FLOW_CONTROL_ERROR);
}

static void test_errors(void)
{
	struct err e;

	for (int c = H2_E_FLOW; c <= 0; c++)
		CHECK(strcmp(h2_strerror(c), "unknown error") != 0);
	for (int c = H2_E_STREAM_DEPENDENCY; c <= H2_E_STREAM_WINDOW_ZERO; c++)
		CHECK(strcmp(h2_strerror(c), "unknown error") != 0 && h2_is_stream_error(c));
	CHECK(strcmp(h2_strerror(-18), "unknown error") == 0);
	CHECK(h2_error_code(H2_E_FRAME_SIZE) == H2_FRAME_SIZE_ERROR);
	CHECK(h2_error_code(H2_E_LENGTH) == H2_FRAME_SIZE_ERROR);
	CHECK(h2_error_code(H2_E_SETTINGS_WINDOW) == H2_FLOW_CONTROL_ERROR);
	CHECK(h2_error_code(H2_E_PUSH) == H2_PROTOCOL_ERROR);
	CHECK(h2_error_code(H2_E_BLOCK_TOO_BIG) == H2_ENHANCE_YOUR_CALM);
	CHECK(h2_error_code(0) == H2_NO_ERROR);
	CHECK(h2_err(&e, H2_E_PADDING) == -1 && e.cls == ERR_PROTO);
	CHECK_STR(e.msg, "http2: padding exceeds the payload");
	h2_err(&e, H2_E_TRUNCATED);
	CHECK(e.cls == ERR_NET);
	h2_err(&e, H2_E_NOMEM);
	CHECK(e.cls == ERR_OTHER);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_capture_splits);
	T_RUN(test_block_splits);
	T_RUN(test_malformed_lengths);
	T_RUN(test_malformed_streams);
	T_RUN(test_malformed_padding);
	T_RUN(test_malformed_settings);
	T_RUN(test_malformed_continuation);
	T_RUN(test_stream_errors);
	T_RUN(test_first_frame_and_preface);
	T_RUN(test_header_bytewise);
	T_RUN(test_max_frame);
	T_RUN(test_writers_exact);
	T_RUN(test_writers_args);
	T_RUN(test_writers_split);
	T_RUN(test_settings_apply);
	T_RUN(test_windows);
	T_RUN(test_errors);
	return t_done(argv[0]);
}
