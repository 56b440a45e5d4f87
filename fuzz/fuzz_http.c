/* fuzz_http: the HTTP/1.1 parser. Input: one mode byte (bit 0 request,
 * bit 1 HEAD, bit 2 CONNECT, bit 3 small body limit), two bytes of split
 * point, then the stream. The stream is parsed whole and then in two pieces
 * (copied to exact-size heap blocks so ASan sees over-reads), each followed
 * by EOF; both runs must report the same events, or the target aborts.
 * Every head is also written as httpc collects a response's headers (one
 * "name: value" line each) and read back: each name must find the value of
 * its first occurrence. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/httpc.h"
#include "wire/http.h"

/* FNV-1a over everything the parser reports. */
static void mix(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		*h = (*h ^ b[i]) * 1099511628211u;
}

static void mix_int(uint64_t *h, uint64_t v)
{
	mix(h, &v, sizeof(v));
}

static char *strz(struct slice s)
{
	char *z = malloc(s.n + 1);

	if (!z)
		abort();
	memcpy(z, s.p, s.n);
	z[s.n] = '\0';
	return z;
}

static void lines_round_trip(const struct http_parser *p)
{
	struct buf lines;

	buf_init(&lines, 2 * HTTP_HEAD_MAX);
	if (httpc_header_lines(p, &lines) < 0)
		abort();
	for (size_t i = 0; i < p->nhdr; i++) {
		char *name = strz(p->hdr[i].name);
		size_t j = 0;
		struct slice v;

		/* a name holds no NUL: strlen sees all of it */
		if (strlen(name) != p->hdr[i].name.n)
			abort();
		while (!slice_eq_nocase(p->hdr[j].name, name))
			j++;
		if (!httpc_lines_header(buf_slice(&lines), name, &v) || v.n != p->hdr[j].value.n ||
		    (v.n && memcmp(v.p, p->hdr[j].value.p, v.n) != 0))
			abort();
		free(name);
	}
	buf_free(&lines);
}

static void mix_head(uint64_t *h, const struct http_parser *p)
{
	size_t i;

	mix_int(h, (uint64_t)p->version);
	mix_int(h, (uint64_t)p->status);
	mix(h, p->reason.p, p->reason.n);
	mix(h, p->method.p, p->method.n);
	mix(h, p->target.p, p->target.n);
	mix_int(h, p->nhdr);
	for (i = 0; i < p->nhdr; i++) {
		mix(h, p->hdr[i].name.p, p->hdr[i].name.n);
		mix_int(h, 0xfe);
		mix(h, p->hdr[i].value.p, p->hdr[i].value.n);
		mix_int(h, 0xff);
	}
	mix_int(h, (uint64_t)p->framing);
	{
		struct slice v;
		struct buf j;

		http_header(p, "content-type", &v);
		buf_init(&j, 1u << 17);
		if (http_header_join(p, "connection", &j) < 0)
			abort();
		buf_free(&j);
		(void)http_header_has_token(p, "transfer-encoding", "chunked");
	}
	lines_round_trip(p);
}

static uint64_t run(int kind, unsigned expect, uint64_t max_body, const uint8_t *in, size_t n,
		    size_t cut)
{
	struct http_parser p;
	struct err e;
	uint64_t h = 14695981039346656037u;
	size_t total = 0, piece;
	const size_t bounds[3] = {0, cut, n};
	int ev = 0;

	http_parser_init(&p, kind);
	http_parser_expect(&p, expect);
	if (max_body)
		http_parser_max_body(&p, max_body);
	for (piece = 0; piece < 2; piece++) {
		size_t len = bounds[piece + 1] - bounds[piece], off = 0;
		uint8_t *g = malloc(len ? len : 1);

		memcpy(g, in + bounds[piece], len);
		for (;;) {
			size_t used;
			struct slice b;

			ev = http_parse(&p, g + off, len - off, &used, &b, &e);
			if (used > len - off)
				abort();
			off += used;
			total += used;
			if (ev < 0) {
				mix_int(&h, (uint64_t)-ev);
				free(g);
				goto out;
			}
			if (ev == HTTP_EV_HEAD)
				mix_head(&h, &p);
			if (ev == HTTP_EV_BODY) {
				if (b.n == 0 || b.p < g || b.p + b.n > g + len)
					abort();
				mix(&h, b.p, b.n);
			}
			if (ev == HTTP_EV_DONE) {
				if (p.framing == HTTP_BODY_LENGTH && p.body_seen != p.content_length)
					abort();
				mix_int(&h, 1000 + (uint64_t)p.keep_alive);
				mix_int(&h, total);
				http_parser_reset(&p);
				http_parser_expect(&p, expect);
				continue;
			}
			if (ev == HTTP_EV_NEED) {
				if (off != len)
					abort();
				break;
			}
		}
		free(g);
	}
	ev = http_parse_eof(&p, &e);
	mix_int(&h, 2000 + (uint64_t)(ev + 100));
	if (ev < 0 && !e.msg[0])
		abort();
out:
	http_parser_free(&p);
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned mode, expect = 0;
	size_t cut;
	int kind;
	uint64_t max_body;

	if (size < 3)
		return 0;
	mode = data[0];
	cut = (size_t)data[1] << 8 | data[2];
	data += 3;
	size -= 3;
	if (cut > size)
		cut = size ? cut % (size + 1) : 0;
	kind = mode & 1 ? HTTP_REQUEST : HTTP_RESPONSE;
	if (mode & 2)
		expect |= HTTP_EXPECT_HEAD;
	if (mode & 4)
		expect |= HTTP_EXPECT_CONNECT;
	max_body = mode & 8 ? 16 : 0;
	if (run(kind, expect, max_body, data, size, size) != run(kind, expect, max_body, data, size, cut))
		abort();
	return 0;
}
