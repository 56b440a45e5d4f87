/* test_h2msg: HTTP/2 request header blocks to http_parser views (pseudo-
 * headers, Host from :authority, every malformation RFC 9113 section 8
 * names, the size limits, HPACK failures) and response heads to header
 * blocks (decoded back with hpack). Blocks are written with hpack's encoder,
 * Huffman on and off. */
#include "base/buf.h"
#include "wire/h2msg.h"
#include "wire/hpack.h"
#include "t.h"

static uint8_t scratch[HTTP_HEAD_MAX];

struct fv {
	const char *n, *v;
};

/* Encodes fields, decodes the block with h2msg_request into p. */
static int decode(const struct fv *f, size_t n, int huff, struct http_parser *p)
{
	struct hpack_encoder enc;
	struct hpack_decoder dec;
	struct hpack_field hf[160];
	struct buf b;
	size_t i;
	int r;

	hpack_encoder_init(&enc, 4096);
	enc.huffman = huff;
	hpack_decoder_init(&dec, 4096, HTTP_HEAD_MAX, scratch, sizeof scratch);
	memset(hf, 0, sizeof hf);
	for (i = 0; i < n; i++) {
		hf[i].name = slice_str(f[i].n);
		hf[i].value = slice_str(f[i].v);
		hf[i].rep = HPACK_REP_INDEX;
	}
	buf_init(&b, 1u << 20);
	if (hpack_encode(&enc, &b, hf, n) < 0)
		return 99;
	http_parser_init(p, HTTP_REQUEST);
	r = h2msg_request(&dec, b.p, b.len, p);
	buf_free(&b);
	return r;
}

static int hdr_is(const struct http_parser *p, const char *name, const char *want)
{
	struct slice v;

	return http_header(p, name, &v) && slice_eq_str(v, want);
}

static void test_request_ok(void)
{
	static const struct fv f[] = {{":method", "POST"},
				      {":scheme", "http"},
				      {":authority", "127.0.0.1:8080"},
				      {":path", "/v1/chat/completions?x=1"},
				      {"content-type", "application/json"},
				      {"authorization", "Bearer k"},
				      {"content-length", "12"},
				      {"te", "trailers"}};
	int huff;

	for (huff = 0; huff < 2; huff++) {
		struct http_parser p;

		CHECK(decode(f, sizeof f / sizeof f[0], huff, &p) == 0);
		CHECK(slice_eq_str(p.method, "POST"));
		CHECK(slice_eq_str(p.target, "/v1/chat/completions?x=1"));
		CHECK(p.version == 20);
		CHECK(hdr_is(&p, "Host", "127.0.0.1:8080"));
		CHECK(hdr_is(&p, "Content-Type", "application/json"));
		CHECK(hdr_is(&p, "Authorization", "Bearer k"));
		CHECK(p.framing == HTTP_BODY_LENGTH && p.content_length == 12);
		CHECK(p.nhdr == 5); /* 4 regular + host */
		http_parser_free(&p);
	}
}

static void test_request_host(void)
{
	static const struct fv same[] = {{":method", "GET"}, {":scheme", "http"},
					 {":authority", "a:1"}, {":path", "/"},
					 {"host", "a:1"}};
	static const struct fv differ[] = {{":method", "GET"}, {":scheme", "http"},
					   {":authority", "a:1"}, {":path", "/"},
					   {"host", "b:1"}};
	static const struct fv none[] = {{":method", "GET"}, {":scheme", "http"}, {":path", "/"}};
	struct http_parser p;

	CHECK(decode(same, 5, 1, &p) == 0);
	CHECK(p.nhdr == 1 && hdr_is(&p, "host", "a:1"));
	CHECK(p.framing == HTTP_BODY_NONE);
	http_parser_free(&p);
	CHECK(decode(differ, 5, 1, &p) == H2MSG_E_MALFORMED);
	http_parser_free(&p);
	CHECK(decode(none, 3, 1, &p) == 0);
	CHECK(!http_header(&p, "host", NULL));
	http_parser_free(&p);
}

static void test_request_malformed(void)
{
	static const struct {
		struct fv f[6];
		size_t n;
	} bad[] = {
		{{{":method", "GET"}, {":scheme", "http"}}, 2},                    /* no :path */
		{{{":scheme", "http"}, {":path", "/"}}, 2},                        /* no :method */
		{{{":method", "GET"}, {":path", "/"}}, 2},                         /* no :scheme */
		{{{":method", "GET"}, {":scheme", "http"}, {":path", ""}}, 3},     /* empty path */
		{{{":method", "GET"}, {":scheme", "http"}, {":path", "x"}}, 3},    /* not origin-form */
		{{{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {":path", "/"}}, 4},
		{{{":method", "GET"}, {":scheme", "http"}, {"a", "b"}, {":path", "/"}}, 4},
		{{{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {":status", "200"}}, 4},
		{{{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {"X-Up", "1"}}, 4},
		{{{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {"connection", "x"}}, 4},
		{{{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {"transfer-encoding", "chunked"}},
		 4},
		{{{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {"te", "gzip"}}, 4},
		{{{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {"a", " lead"}}, 4},
		{{{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {"a", "x\ry"}}, 4},
		{{{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {"content-length", "1x"}}, 4},
		{{{":method", "GET"},
		  {":scheme", "http"},
		  {":path", "/"},
		  {"content-length", "1"},
		  {"content-length", "2"}},
		 5},
		{{{":method", "CONNECT"}, {":authority", "a:443"}}, 2},
		{{{":method", ""}, {":scheme", ""}, {":path", ""}}, 3}, /* nothing stored at all */
	};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct http_parser p;
		int r = decode(bad[i].f, bad[i].n, (int)(i & 1), &p);

		if (r != H2MSG_E_MALFORMED)
			fprintf(stderr, "  case %zu: %d\n", i, r);
		CHECK(r == H2MSG_E_MALFORMED);
		http_parser_free(&p);
	}
}

static void test_request_limits(void)
{
	static struct fv f[110];
	static char names[110][8];
	static char big[HTTP_HEAD_MAX];
	struct hpack_decoder dec;
	struct http_parser p;
	size_t i;
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	f[0] = (struct fv){":method", "GET"};
	f[1] = (struct fv){":scheme", "http"};
	f[2] = (struct fv){":path", "/"};
	for (i = 3; i < 110; i++) {
		snprintf(names[i], sizeof names[i], "h%zu", i);
		f[i] = (struct fv){names[i], "v"};
	}
	CHECK(decode(f, 3 + HTTP_HDR_MAX, 0, &p) == 0);
	CHECK(p.nhdr == HTTP_HDR_MAX);
	http_parser_free(&p);
	CHECK(decode(f, 4 + HTTP_HDR_MAX, 0, &p) == H2MSG_E_TOO_BIG);
	http_parser_free(&p);
	memset(big, 'a', sizeof big - 100);
	f[3] = (struct fv){"x", big};
	CHECK(decode(f, 4, 0, &p) == H2MSG_E_TOO_BIG); /* the decoder's list limit */
	http_parser_free(&p);

	hpack_decoder_init(&dec, 4096, HTTP_HEAD_MAX, scratch, sizeof scratch);
	http_parser_init(&p, HTTP_REQUEST);
	CHECK(h2msg_request(&dec, garbage, sizeof garbage, &p) == H2MSG_E_COMPRESSION);
	http_parser_free(&p);
	CHECK(h2msg_strerror(H2MSG_E_COMPRESSION)[0] == 'h');
}

static void test_trailers(void)
{
	struct hpack_encoder enc;
	struct hpack_decoder dec;
	struct hpack_field f[2];
	struct buf b;

	memset(f, 0, sizeof f);
	hpack_encoder_init(&enc, 4096);
	hpack_decoder_init(&dec, 4096, HTTP_HEAD_MAX, scratch, sizeof scratch);
	buf_init(&b, 4096);
	f[0].name = SLICE_LIT("x-checksum");
	f[0].value = SLICE_LIT("abc");
	hpack_encode(&enc, &b, f, 1);
	CHECK(h2msg_trailers(&dec, b.p, b.len) == 0);
	buf_reset(&b);
	f[1].name = SLICE_LIT(":path");
	f[1].value = SLICE_LIT("/");
	hpack_encode(&enc, &b, f, 2);
	CHECK(h2msg_trailers(&dec, b.p, b.len) == H2MSG_E_MALFORMED);
	buf_free(&b);
}

static void test_response(void)
{
	struct hpack_encoder enc;
	struct hpack_decoder dec;
	struct hpack_field f;
	struct buf b;
	const char *want[][2] = {{":status", "429"},
				 {"content-type", "application/json"},
				 {"content-length", "17"},
				 {"retry-after", "1"},
				 {"www-authenticate", "Bearer"},
				 {"x-a", "b c"}};
	size_t k = 0;
	int r, round;

	hpack_encoder_init(&enc, 0); /* no dynamic table: a size update to 0 first */
	hpack_decoder_init(&dec, 4096, HTTP_HEAD_MAX, scratch, sizeof scratch);
	buf_init(&b, 4096);
	for (round = 0; round < 2; round++) {
		buf_reset(&b);
		CHECK(h2msg_response(&enc, &b, 429, "application/json",
				     "Retry-After: 1\r\nConnection: close\r\nWWW-Authenticate: Bearer\r\n"
				     "Transfer-Encoding: chunked\r\nbad line\r\nX-A:  b c \r\n",
				     17) == 0);
		hpack_block_begin(&dec, b.p, b.len);
		k = 0;
		while ((r = hpack_next(&dec, &f)) == 1) {
			CHECK(k < 6);
			if (k < 6) {
				CHECK(slice_eq_str(f.name, want[k][0]));
				CHECK(slice_eq_str(f.value, want[k][1]));
			}
			k++;
		}
		CHECK(r == 0 && k == 6);
		CHECK(hpack_table_count(&dec.t) == 0);
	}
	buf_reset(&b);
	CHECK(h2msg_response(&enc, &b, 200, NULL, NULL, -1) == 0);
	hpack_block_begin(&dec, b.p, b.len);
	CHECK(hpack_next(&dec, &f) == 1 && slice_eq_str(f.value, "200"));
	CHECK(hpack_next(&dec, &f) == 0);
	buf_free(&b);
	buf_init(&b, 2); /* the limit */
	CHECK(h2msg_response(&enc, &b, 200, "text/plain", NULL, 5) == -1);
	buf_free(&b);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_request_ok);
	T_RUN(test_request_host);
	T_RUN(test_request_malformed);
	T_RUN(test_request_limits);
	T_RUN(test_trailers);
	T_RUN(test_response);
	return t_done(argv[0]);
}
