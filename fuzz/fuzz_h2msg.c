/* fuzz_h2msg: HTTP/2 request header blocks to http_parser views, and
 * response heads to header blocks.
 * Input: byte 0 bit 0 picks trailers instead of a request; then a header
 * block (request mode: up to the first 0xff 0x00 pair), and after that
 * pair the text of a response's extra header lines. Oracles: a request
 * decoded without error has a method, an origin-form or "*" target and
 * every view inside the parser's header area, no uppercase or pseudo
 * name among its fields; the block never fails but for the documented
 * codes; a response head always encodes and decodes back (our decoder)
 * with :status first and only lowercase names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "wire/h2msg.h"
#include "wire/hpack.h"

static uint8_t scratch[HTTP_HEAD_MAX];

static int inside(struct slice s, const struct buf *b)
{
	return s.n == 0 || (b->p && s.p >= b->p && s.p + s.n <= b->p + b->len);
}

static void check_request(const struct http_parser *p)
{
	size_t i, j;

	if (p->method.n == 0 || p->target.n == 0 || !inside(p->method, &p->head) ||
	    !inside(p->target, &p->head) || (p->target.p[0] != '/' && p->target.n != 1))
		abort();
	for (i = 0; i < p->nhdr; i++) {
		struct slice n = p->hdr[i].name;

		if (n.n == 0 || n.p[0] == ':' || !inside(p->hdr[i].value, &p->head))
			abort();
		if (!inside(n, &p->head) && !slice_eq_str(n, "host"))
			abort();
		for (j = 0; j < n.n; j++)
			if (n.p[j] >= 'A' && n.p[j] <= 'Z')
				abort();
	}
}

static void check_response(const uint8_t *extra, size_t n)
{
	struct hpack_encoder enc;
	struct hpack_decoder dec;
	struct hpack_field f;
	struct buf b;
	char *x = malloc(n + 1);
	int r, k = 0;

	if (!x)
		return;
	memcpy(x, extra, n);
	x[n] = '\0';
	hpack_encoder_init(&enc, 0);
	hpack_decoder_init(&dec, 4096, HTTP_HEAD_MAX, scratch, sizeof scratch);
	buf_init(&b, 1u << 20);
	if (h2msg_response(&enc, &b, 200, "application/json", x, (int64_t)n) < 0)
		abort();
	hpack_block_begin(&dec, b.p, b.len);
	while ((r = hpack_next(&dec, &f)) == 1) {
		if (k++ == 0 && !slice_eq_str(f.name, ":status"))
			abort();
		for (size_t i = 0; i < f.name.n; i++)
			if ((f.name.p[i] >= 'A' && f.name.p[i] <= 'Z') || (k > 1 && f.name.p[i] == ':'))
				abort();
	}
	if (r != 0)
		abort();
	buf_free(&b);
	free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hpack_decoder dec;
	struct http_parser p;
	size_t blk = 0;
	int r;

	if (size < 1)
		return 0;
	while (1 + blk + 1 < size && !(data[1 + blk] == 0xff && data[2 + blk] == 0x00))
		blk++;
	if (1 + blk + 1 >= size)
		blk = size - 1;
	hpack_decoder_init(&dec, 4096, HTTP_HEAD_MAX, scratch, sizeof scratch);
	if (data[0] & 1) {
		r = h2msg_trailers(&dec, data + 1, blk);
		if (r != 0 && r != H2MSG_E_MALFORMED && r != H2MSG_E_TOO_BIG &&
		    r != H2MSG_E_COMPRESSION)
			abort();
	} else {
		http_parser_init(&p, HTTP_REQUEST);
		r = h2msg_request(&dec, data + 1, blk, &p);
		if (r == 0)
			check_request(&p);
		else if (r != H2MSG_E_MALFORMED && r != H2MSG_E_TOO_BIG && r != H2MSG_E_COMPRESSION)
			abort();
		http_parser_free(&p);
	}
	if (1 + blk + 2 <= size)
		check_response(data + 1 + blk + 2, size - 1 - blk - 2);
	return 0;
}
