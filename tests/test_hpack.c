/* test_hpack: RFC 7541 Appendix C (C.1 integers, C.2 single representations,
 * C.3 to C.6 request and response sequences decoded and encoded to the exact
 * bytes, with the dynamic table's contents and size after each block), the
 * Huffman code checked for canonical form and against the RFC strings, and
 * malformed input of every kind. The decoder's API takes a whole header block
 * (wire/h2 assembles it); the splitting of a block across HEADERS and
 * CONTINUATION frames at every offset is tested in test_h2. */
#include "base/buf.h"
#include "base/err.h"
#include "wire/hpack.h"
#include "t.h"

#include <stdint.h>

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;

	for (; h[0] && h[1] && n < cap; h += 2) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char c = h[k];
			v = v << 4 | (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
		}
		out[n++] = (uint8_t)v;
	}
	return n;
}

struct want {
	const char *name, *value;
};

static uint8_t scratch[8192];

/* Decodes hex block into fields and compares with want[0..n). */
static int decode_check(struct hpack_decoder *d, const char *hex, const struct want *w, size_t n)
{
	uint8_t block[512];
	size_t len = unhex(hex, block, sizeof block), i = 0;
	struct hpack_field f;
	int r, ok = 1;

	hpack_block_begin(d, block, len);
	while ((r = hpack_next(d, &f)) == 1) {
		if (i >= n || !slice_eq_str(f.name, w[i].name) || !slice_eq_str(f.value, w[i].value))
			ok = 0;
		i++;
	}
	return ok && r == 0 && i == n;
}

/* The dynamic table holds exactly want[0..n) (newest first), of RFC size size. */
static int table_check(const struct hpack_table *t, const struct want *w, size_t n, size_t size)
{
	struct slice name, value;

	if (hpack_table_count(t) != n || hpack_table_size(t) != size)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (hpack_table_entry(t, i + 1, &name, &value) != 0 ||
		    !slice_eq_str(name, w[i].name) || !slice_eq_str(value, w[i].value))
			return 0;
	return 1;
}

static int encode_check(struct hpack_encoder *e, const struct want *w, size_t n, const char *hex)
{
	struct hpack_field f[8];
	uint8_t want[512];
	size_t len = unhex(hex, want, sizeof want);
	struct buf out;
	int ok;

	for (size_t i = 0; i < n; i++) {
		f[i].name = slice_str(w[i].name);
		f[i].value = slice_str(w[i].value);
		f[i].rep = HPACK_REP_INDEX;
	}
	buf_init(&out, 4096);
	ok = hpack_encode(e, &out, f, n) == 0 && out.len == len &&
	     (len == 0 || memcmp(out.p, want, len) == 0);
	if (!ok) {
		fprintf(stderr, "  encoded: ");
		for (size_t i = 0; i < out.len; i++)
			fprintf(stderr, "%02x", out.p[i]);
		fprintf(stderr, "\n  want:    %s\n", hex);
	}
	buf_free(&out);
	return ok;
}

/* ------------------------------------------------------------ C.1 integers */

static void test_integers(void)
{
	uint8_t b[8], in[8];
	uint32_t v;

	CHECK(hpack_int_encode(b, sizeof b, 5, 0xe0, 10) == 1 && b[0] == 0xea);
	CHECK(hpack_int_encode(b, sizeof b, 5, 0, 1337) == 3 && b[0] == 0x1f && b[1] == 0x9a &&
	      b[2] == 0x0a);
	CHECK(hpack_int_encode(b, sizeof b, 8, 0, 42) == 1 && b[0] == 42);
	CHECK(hpack_int_decode(b, 1, 8, &v) == 1 && v == 42);
	unhex("1f9a0a", in, 3);
	CHECK(hpack_int_decode(in, 3, 5, &v) == 3 && v == 1337);
	CHECK(hpack_int_decode(in, 2, 5, &v) == HPACK_E_TRUNCATED);
	CHECK(hpack_int_decode(in, 0, 5, &v) == HPACK_E_TRUNCATED);
	/* exactly 2^N - 1 needs a zero continuation byte */
	CHECK(hpack_int_encode(b, sizeof b, 5, 0, 31) == 2 && b[0] == 0x1f && b[1] == 0);
	CHECK(hpack_int_decode(b, 2, 5, &v) == 2 && v == 31);
	/* the largest value, and one more */
	CHECK(hpack_int_encode(b, sizeof b, 7, 0, 0xffffffffu) == 6);
	CHECK(hpack_int_decode(b, 6, 7, &v) == 6 && v == 0xffffffffu);
	unhex("7f80ffffff0f", in, 6); /* 127 + 0xffffff80 = 2^32 - 1 */
	CHECK(hpack_int_decode(in, 6, 7, &v) == 6 && v == 0xffffffffu);
	unhex("7f81ffffff0f", in, 6); /* 2^32 */
	CHECK(hpack_int_decode(in, 6, 7, &v) == HPACK_E_INTEGER);
	unhex("1fe1ffffff0f", in, 6); /* 31 + 0xffffffe1 = 2^32 */
	CHECK(hpack_int_decode(in, 6, 5, &v) == HPACK_E_INTEGER);
	/* zero padding continuation bytes: a sixth one is refused */
	unhex("1f808080808000", in, 7);
	CHECK(hpack_int_decode(in, 7, 5, &v) == HPACK_E_INTEGER);
	unhex("1f8080808000", in, 6);
	CHECK(hpack_int_decode(in, 6, 5, &v) == 6 && v == 31);
	CHECK(hpack_int_encode(b, 2, 7, 0, 0xffffffffu) == 0); /* no room */
	CHECK(hpack_int_encode(b, 0, 7, 0, 1) == 0);
}

/* ------------------------------------------------------------ Huffman */

static void test_huffman_canonical(void)
{
	/* derive the canonical code from the lengths alone, as the decoder does */
	unsigned count[31] = {0}, bits;
	uint32_t next[31], code = 0;
	int ok = 1;

	for (unsigned s = 0; s <= 256; s++) {
		hpack_huff_code(s, &bits);
		CHECK(bits >= 5 && bits <= 30);
		count[bits]++;
	}
	for (unsigned l = 1; l <= 30; l++) {
		code = (code + count[l - 1]) << 1;
		next[l] = code;
	}
	for (unsigned s = 0; s <= 256; s++) {
		uint32_t c = hpack_huff_code(s, &bits);
		if (c != next[bits]++)
			ok = 0;
	}
	CHECK(ok);
	CHECK(next[30] == (1u << 30)); /* the code is complete (Kraft sum 1) */
	CHECK(hpack_huff_code(256, &bits) == 0x3fffffff && bits == 30);
	CHECK(hpack_huff_code(257, &bits) == 0 && bits == 0);
}

static void test_huffman_strings(void)
{
	static const struct want s[] = {
		{"www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"},
		{"no-cache", "a8eb10649cbf"},
		{"custom-key", "25a849e95ba97d7f"},
		{"custom-value", "25a849e95bb8e8b4bf"},
		{"302", "6402"},
		{"307", "640eff"},
		{"private", "aec3771a4b"},
		{"Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff"},
		{"https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3"},
		{"gzip", "9bd9ab"},
		{"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
		 "94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007"},
		{"", ""}};
	uint8_t want[128], got[128];

	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		size_t n = unhex(s[i].value, want, sizeof want), plain = strlen(s[i].name), out;
		CHECK(hpack_huff_encoded_len((const uint8_t *)s[i].name, plain) == n);
		hpack_huff_encode(got, (const uint8_t *)s[i].name, plain);
		CHECK_MEM(got, n, want, n);
		CHECK(hpack_huff_decode(want, n, got, sizeof got, &out) == 0);
		CHECK_MEM(got, out, s[i].name, plain);
		if (plain) /* one byte short of room */
			CHECK(hpack_huff_decode(want, n, got, plain - 1, &out) == HPACK_E_STRING_TOO_BIG);
	}
}

static void test_huffman_all_bytes(void)
{
	uint8_t in[256], enc[1024], out[256];
	size_t n, len;

	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)(255 - i);
	n = hpack_huff_encoded_len(in, 256);
	CHECK(n <= sizeof enc);
	hpack_huff_encode(enc, in, 256);
	CHECK(hpack_huff_decode(enc, n, out, sizeof out, &len) == 0);
	CHECK_MEM(out, len, in, 256);
	/* every single byte, so every padding length 0..7 is exercised */
	for (int i = 0; i < 256; i++) {
		uint8_t c = (uint8_t)i;
		n = hpack_huff_encoded_len(&c, 1);
		hpack_huff_encode(enc, &c, 1);
		CHECK(hpack_huff_decode(enc, n, out, 1, &len) == 0 && len == 1 && out[0] == c);
	}
}

static void test_huffman_malformed(void)
{
	uint8_t in[8], out[16];
	size_t len;

	/* EOS (30 ones) then padding */
	unhex("ffffffff", in, 4);
	CHECK(hpack_huff_decode(in, 4, out, sizeof out, &len) == HPACK_E_HUFF_EOS);
	/* 'a' (00011, 5 bits) then EOS */
	unhex("1fffffffff", in, 5);
	CHECK(hpack_huff_decode(in, 5, out, sizeof out, &len) == HPACK_E_HUFF_EOS);
	/* padding of 8 ones: one full byte */
	CHECK(hpack_huff_decode((const uint8_t *)"\xff", 1, out, sizeof out, &len) ==
	      HPACK_E_HUFF_PADDING);
	/* 'a' then 11 padding bits of ones */
	unhex("1fff", in, 2);
	CHECK(hpack_huff_decode(in, 2, out, sizeof out, &len) == HPACK_E_HUFF_PADDING);
	/* 'a' then padding 011 (not all ones) */
	unhex("1b", in, 1);
	CHECK(hpack_huff_decode(in, 1, out, sizeof out, &len) == HPACK_E_HUFF_PADDING);
	/* 'a' then padding 111: fine */
	unhex("1f", in, 1);
	CHECK(hpack_huff_decode(in, 1, out, sizeof out, &len) == 0 && len == 1 && out[0] == 'a');
	/* a 5-bit code, then 3 zero bits: '0' is 00000, so "00000 000" is '0' + bad padding */
	CHECK(hpack_huff_decode((const uint8_t *)"\x00", 1, out, sizeof out, &len) ==
	      HPACK_E_HUFF_PADDING);
	/* no room at all */
	CHECK(hpack_huff_decode(in, 1, NULL, 0, &len) == HPACK_E_STRING_TOO_BIG);
	CHECK(hpack_huff_decode(in, 0, NULL, 0, &len) == 0 && len == 0);
}

/* ------------------------------------------------------------ C.2 */

static void test_c2(void)
{
	static const struct want w1[] = {{"custom-key", "custom-header"}};
	static const struct want w2[] = {{":path", "/sample/path"}};
	static const struct want w3[] = {{"password", "secret"}};
	static const struct want w4[] = {{":method", "GET"}};
	struct hpack_decoder d;
	struct hpack_field f;
	uint8_t b[32];

	hpack_decoder_init(&d, 4096, 0, scratch, sizeof scratch);
	CHECK(decode_check(&d, "400a637573746f6d2d6b65790d637573746f6d2d686561646572", w1, 1));
	CHECK(table_check(&d.t, w1, 1, 55));

	hpack_decoder_init(&d, 4096, 0, scratch, sizeof scratch);
	CHECK(decode_check(&d, "040c2f73616d706c652f70617468", w2, 1));
	CHECK(table_check(&d.t, NULL, 0, 0));

	hpack_decoder_init(&d, 4096, 0, scratch, sizeof scratch);
	CHECK(decode_check(&d, "100870617373776f726406736563726574", w3, 1));
	CHECK(table_check(&d.t, NULL, 0, 0));
	hpack_block_begin(&d, b, unhex("100870617373776f726406736563726574", b, sizeof b));
	CHECK(hpack_next(&d, &f) == 1 && f.rep == HPACK_REP_NEVER);

	hpack_decoder_init(&d, 4096, 0, scratch, sizeof scratch);
	CHECK(decode_check(&d, "82", w4, 1));
	CHECK(table_check(&d.t, NULL, 0, 0));
}

/* ------------------------------------------------------------ C.3 / C.4 */

static const struct want req1[] = {
	{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {":authority", "www.example.com"}};
static const struct want req2[] = {{":method", "GET"},
				   {":scheme", "http"},
				   {":path", "/"},
				   {":authority", "www.example.com"},
				   {"cache-control", "no-cache"}};
static const struct want req3[] = {{":method", "GET"},
				   {":scheme", "https"},
				   {":path", "/index.html"},
				   {":authority", "www.example.com"},
				   {"custom-key", "custom-value"}};
static const struct want req_t1[] = {{":authority", "www.example.com"}};
static const struct want req_t2[] = {{"cache-control", "no-cache"},
				     {":authority", "www.example.com"}};
static const struct want req_t3[] = {{"custom-key", "custom-value"},
				     {"cache-control", "no-cache"},
				     {":authority", "www.example.com"}};

static const char *const c3[] = {
	"828684410f7777772e6578616d706c652e636f6d", "828684be58086e6f2d6361636865",
	"828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"};
static const char *const c4[] = {"828684418cf1e3c2e5f23a6ba0ab90f4ff",
				 "828684be5886a8eb10649cbf",
				 "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"};

static void requests(const char *const *hex, int huffman)
{
	struct hpack_decoder d;
	struct hpack_encoder e;

	hpack_decoder_init(&d, 4096, 0, scratch, sizeof scratch);
	CHECK(decode_check(&d, hex[0], req1, 4));
	CHECK(table_check(&d.t, req_t1, 1, 57));
	CHECK(decode_check(&d, hex[1], req2, 5));
	CHECK(table_check(&d.t, req_t2, 2, 110));
	CHECK(decode_check(&d, hex[2], req3, 5));
	CHECK(table_check(&d.t, req_t3, 3, 164));

	hpack_encoder_init(&e, 4096);
	e.huffman = huffman;
	CHECK(encode_check(&e, req1, 4, hex[0]));
	CHECK(encode_check(&e, req2, 5, hex[1]));
	CHECK(encode_check(&e, req3, 5, hex[2]));
	CHECK(table_check(&e.t, req_t3, 3, 164));
}

static void test_c3(void)
{
	requests(c3, 0);
}

static void test_c4(void)
{
	requests(c4, 1);
}

/* ------------------------------------------------------------ C.5 / C.6 */

#define DATE1 "Mon, 21 Oct 2013 20:13:21 GMT"
#define DATE2 "Mon, 21 Oct 2013 20:13:22 GMT"
#define COOKIE "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
static const struct want resp1[] = {{":status", "302"},
				    {"cache-control", "private"},
				    {"date", DATE1},
				    {"location", "https://www.example.com"}};
static const struct want resp2[] = {{":status", "307"},
				    {"cache-control", "private"},
				    {"date", DATE1},
				    {"location", "https://www.example.com"}};
static const struct want resp3[] = {{":status", "200"},
				    {"cache-control", "private"},
				    {"date", DATE2},
				    {"location", "https://www.example.com"},
				    {"content-encoding", "gzip"},
				    {"set-cookie", COOKIE}};
static const struct want resp_t1[] = {{"location", "https://www.example.com"},
				      {"date", DATE1},
				      {"cache-control", "private"},
				      {":status", "302"}};
static const struct want resp_t2[] = {{":status", "307"},
				      {"location", "https://www.example.com"},
				      {"date", DATE1},
				      {"cache-control", "private"}};
static const struct want resp_t3[] = {
	{"set-cookie", COOKIE}, {"content-encoding", "gzip"}, {"date", DATE2}};

static const char *const c5[] = {
	"4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d",
	"4803333037c1c0bf",
	"88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31"};
static const char *const c6[] = {
	"488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3",
	"4883640effc1c0bf",
	"88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007"};

static void responses(const char *const *hex, int huffman)
{
	struct hpack_decoder d;
	struct hpack_encoder e;

	hpack_decoder_init(&d, 256, 0, scratch, sizeof scratch);
	CHECK(decode_check(&d, hex[0], resp1, 4));
	CHECK(table_check(&d.t, resp_t1, 4, 222));
	CHECK(decode_check(&d, hex[1], resp2, 4));
	CHECK(table_check(&d.t, resp_t2, 4, 222));
	CHECK(decode_check(&d, hex[2], resp3, 6));
	CHECK(table_check(&d.t, resp_t3, 3, 215));

	hpack_encoder_init(&e, 256);
	e.huffman = huffman;
	CHECK(encode_check(&e, resp1, 4, hex[0]));
	CHECK(table_check(&e.t, resp_t1, 4, 222));
	CHECK(encode_check(&e, resp2, 4, hex[1]));
	CHECK(table_check(&e.t, resp_t2, 4, 222));
	CHECK(encode_check(&e, resp3, 6, hex[2]));
	CHECK(table_check(&e.t, resp_t3, 3, 215));
}

static void test_c5(void)
{
	responses(c5, 0);
}

static void test_c6(void)
{
	responses(c6, 1);
}

/* ------------------------------------------------------------ malformed */

/* Decodes a hex block with a fresh decoder (limit 4096); the first
 * non-field result. */
static int decode_status(const char *hex)
{
	struct hpack_decoder d;
	struct hpack_field f;
	uint8_t b[256];
	int r;

	hpack_decoder_init(&d, 4096, 0, scratch, sizeof scratch);
	hpack_block_begin(&d, b, unhex(hex, b, sizeof b));
	while ((r = hpack_next(&d, &f)) == 1)
		;
	return r;
}

static void test_malformed(void)
{
	CHECK(decode_status("82") == 0);
	CHECK(decode_status("") == 0);
	CHECK(decode_status("80") == HPACK_E_INDEX);         /* index 0 */
	CHECK(decode_status("be") == HPACK_E_INDEX);         /* 62, empty dynamic table */
	CHECK(decode_status("ff00") == HPACK_E_INDEX);       /* 127 */
	CHECK(decode_status("7e0161") == HPACK_E_INDEX);     /* name index 62 */
	CHECK(decode_status("0f2f0161") == HPACK_E_INDEX);   /* 15 + 47 = 62 */
	CHECK(decode_status("1f2f0161") == HPACK_E_INDEX);   /* never indexed, 62 */
	CHECK(decode_status("ffffffffff0f") == HPACK_E_INTEGER);
	CHECK(decode_status("ff8080808080") == HPACK_E_INTEGER);
	CHECK(decode_status("ff80") == HPACK_E_TRUNCATED);
	CHECK(decode_status("41") == HPACK_E_TRUNCATED);     /* no value */
	CHECK(decode_status("40") == HPACK_E_TRUNCATED);     /* no name */
	CHECK(decode_status("400161") == HPACK_E_TRUNCATED); /* name, no value */
	CHECK(decode_status("410f7777") == HPACK_E_TRUNCATED);
	CHECK(decode_status("417f") == HPACK_E_TRUNCATED);
	CHECK(decode_status("41ffffffff0f") == HPACK_E_TRUNCATED); /* 4 GiB string */
	CHECK(decode_status("41ffffffffff70") == HPACK_E_INTEGER);
	/* Huffman: EOS inside (h2spec's case), padding of 8 ones, padding with a zero */
	CHECK(decode_status("0085f2b24a84ff874951fffffffa7f") == HPACK_E_HUFF_EOS);
	CHECK(decode_status("0081ff0100") == HPACK_E_HUFF_PADDING);
	CHECK(decode_status("00811b0100") == HPACK_E_HUFF_PADDING);
	CHECK(decode_status("0082ffff0100") == HPACK_E_HUFF_PADDING);
	CHECK(decode_status("00811f0100") == 0);
	/* size updates: at the start (several), after a field, above the limit */
	CHECK(decode_status("20") == 0);
	CHECK(decode_status("203fe11f82") == 0);
	CHECK(decode_status("8220") == HPACK_E_SIZE_UPDATE);
	CHECK(decode_status("208220") == HPACK_E_SIZE_UPDATE);
	CHECK(decode_status("3fe11f") == 0);                 /* 4096 */
	CHECK(decode_status("3fe21f") == HPACK_E_SIZE_LIMIT); /* 4097 */
	CHECK(decode_status("3fffffffff0f") == HPACK_E_INTEGER);
}

static void test_sticky(void)
{
	struct hpack_decoder d;
	struct hpack_field f;
	uint8_t b[4];

	hpack_decoder_init(&d, 4096, 0, scratch, sizeof scratch);
	hpack_block_begin(&d, b, unhex("80", b, sizeof b));
	CHECK(hpack_next(&d, &f) == HPACK_E_INDEX);
	hpack_block_begin(&d, b, unhex("82", b, sizeof b));
	CHECK(hpack_next(&d, &f) == HPACK_E_INDEX);
}

static void test_size_update_required(void)
{
	static const struct want w[] = {{":method", "GET"}};
	struct hpack_decoder d;
	struct hpack_field f;
	uint8_t b[8];

	CHECK(hpack_decoder_init(&d, 4097, 0, scratch, sizeof scratch) == HPACK_E_ARG);
	hpack_decoder_init(&d, 4096, 0, scratch, sizeof scratch);
	CHECK(decode_check(&d, "418cf1e3c2e5f23a6ba0ab90f4ff", req_t1, 1));
	CHECK(hpack_decoder_set_limit(&d, 4097) == HPACK_E_ARG);
	CHECK(hpack_decoder_set_limit(&d, 8) == 0);
	CHECK(hpack_table_count(&d.t) == 0); /* the entry no longer fits */
	/* the next block must start with an update to at most 8 */
	hpack_block_begin(&d, b, unhex("82", b, sizeof b));
	CHECK(hpack_next(&d, &f) == HPACK_E_SIZE_UPDATE);

	hpack_decoder_init(&d, 4096, 0, scratch, sizeof scratch);
	hpack_decoder_set_limit(&d, 100);
	CHECK(decode_status("3f4682") == 0); /* a fresh decoder: 100 is fine */
	hpack_block_begin(&d, b, unhex("3f4682", b, sizeof b)); /* 101 > 100 */
	CHECK(hpack_next(&d, &f) == HPACK_E_SIZE_LIMIT);

	hpack_decoder_init(&d, 4096, 0, scratch, sizeof scratch);
	hpack_decoder_set_limit(&d, 100);
	CHECK(decode_check(&d, "3f4582", w, 1)); /* 100 */
	CHECK(d.t.max == 100);
	CHECK(decode_check(&d, "82", w, 1)); /* satisfied */
	/* an empty block does not count as the first block */
	hpack_decoder_set_limit(&d, 50);
	CHECK(decode_check(&d, "", w, 0));
	CHECK(decode_check(&d, "2082", w, 1));
	/* raising the limit needs no update */
	hpack_decoder_set_limit(&d, 4096);
	CHECK(decode_check(&d, "82", w, 1));
	CHECK(d.t.max == 0);
}

static void test_list_size(void)
{
	static const struct want w[] = {{":method", "GET"}};
	struct hpack_decoder d;
	struct hpack_field f;
	uint8_t b[64];
	int r, n = 0;

	/* 3 fields of 32 + 10 bytes: the third passes a limit of 100 */
	hpack_decoder_init(&d, 4096, 100, scratch, sizeof scratch);
	hpack_block_begin(&d, b, unhex("82828240047878787806797979797979", b, sizeof b));
	while ((r = hpack_next(&d, &f)) == 1)
		n++;
	CHECK(r == HPACK_E_LIST_SIZE && n == 2);
	CHECK(hpack_table_count(&d.t) == 1); /* the refused field still entered the table */
	CHECK(decode_check(&d, "82", w, 1)); /* not sticky */
	hpack_decoder_init(&d, 4096, 42 * 3, scratch, sizeof scratch);
	hpack_block_begin(&d, b, unhex("828282", b, sizeof b));
	while ((r = hpack_next(&d, &f)) == 1)
		;
	CHECK(r == 0);
}

static void test_scratch(void)
{
	struct hpack_decoder d;
	struct hpack_field f;
	uint8_t small[4], b[32];

	hpack_decoder_init(&d, 4096, 0, small, sizeof small);
	hpack_block_begin(&d, b, unhex("418cf1e3c2e5f23a6ba0ab90f4ff", b, sizeof b));
	CHECK(hpack_next(&d, &f) == HPACK_E_STRING_TOO_BIG);
	/* no scratch: plain literals and empty Huffman strings still decode */
	hpack_decoder_init(&d, 4096, 0, NULL, 0);
	hpack_block_begin(&d, b, unhex("008080410161", b, sizeof b));
	CHECK(hpack_next(&d, &f) == 1 && f.name.n == 0 && f.value.n == 0);
	CHECK(hpack_next(&d, &f) == 1 && slice_eq_str(f.value, "a"));
	CHECK(hpack_next(&d, &f) == 0);
	/* a dynamic name copied before insertion needs room too */
	hpack_decoder_init(&d, 4096, 0, small, sizeof small);
	hpack_block_begin(&d, b, unhex("400561616161610162" "7e0163", b, sizeof b));
	CHECK(hpack_next(&d, &f) == 1);
	CHECK(hpack_next(&d, &f) == HPACK_E_STRING_TOO_BIG);
}

/* RFC 7541 section 4.4: a new entry may name an entry its insertion evicts. */
static void test_evicted_name(void)
{
	static const struct want t1[] = {{"custom-name", "v"}};
	char x40[41], x60[61];
	struct want big[1] = {{"custom-name", x40}}, bigger[1] = {{"custom-name", x60}};
	struct hpack_decoder d;
	struct hpack_field f;
	uint8_t b[80];
	int r, n = 0;

	memset(x40, 'x', 40);
	x40[40] = 0;
	memset(x60, 'x', 60);
	x60[60] = 0;
	hpack_decoder_init(&d, 90, 0, scratch, sizeof scratch);
	CHECK(decode_check(&d, "400b637573746f6d2d6e616d650176", t1, 1));
	CHECK(table_check(&d.t, t1, 1, 44));
	/* literal with indexing, name index 62, a 40-byte value: 83 bytes evict t1 */
	b[0] = 0x7e;
	b[1] = 40;
	memset(b + 2, 'x', 40);
	hpack_block_begin(&d, b, 42);
	while ((r = hpack_next(&d, &f)) == 1)
		n += slice_eq_str(f.name, "custom-name") && slice_eq_str(f.value, x40);
	CHECK(r == 0 && n == 1);
	CHECK(table_check(&d.t, big, 1, 83));
	/* an entry larger than the table empties it and is not added */
	b[1] = 60;
	memset(b + 2, 'x', 60);
	hpack_block_begin(&d, b, 62);
	n = 0;
	while ((r = hpack_next(&d, &f)) == 1)
		n += slice_eq_str(f.name, bigger[0].name) && slice_eq_str(f.value, x60);
	CHECK(r == 0 && n == 1);
	CHECK(table_check(&d.t, NULL, 0, 0));
}

/* ------------------------------------------------------------ encoder */

static int encode_hex(struct hpack_encoder *e, const struct hpack_field *f, size_t n,
		      const char *hex)
{
	uint8_t want[128];
	size_t len = unhex(hex, want, sizeof want);
	struct buf out;
	int ok;

	buf_init(&out, 4096);
	ok = hpack_encode(e, &out, f, n) == 0 && out.len == len &&
	     (len == 0 || memcmp(out.p, want, len) == 0);
	buf_free(&out);
	return ok;
}

static void test_encoder_reps(void)
{
	struct hpack_field f[2] = {{SLICE_LIT(":path"), SLICE_LIT("/sample/path"), HPACK_REP_NOINDEX},
				   {SLICE_LIT("password"), SLICE_LIT("secret"), HPACK_REP_NEVER}};
	struct hpack_field get = {SLICE_LIT(":method"), SLICE_LIT("GET"), HPACK_REP_NOINDEX};
	struct hpack_field sec = {SLICE_LIT("authorization"), SLICE_LIT("x"), HPACK_REP_NEVER};
	struct hpack_encoder e;

	hpack_encoder_init(&e, 4096);
	e.huffman = 0;
	CHECK(encode_hex(&e, &f[0], 1, "040c2f73616d706c652f70617468")); /* C.2.2 */
	CHECK(encode_hex(&e, &f[1], 1, "100870617373776f726406736563726574")); /* C.2.3 */
	CHECK(encode_hex(&e, &get, 1, "82")); /* C.2.4 */
	CHECK(hpack_table_count(&e.t) == 0);
	CHECK(encode_hex(&e, &sec, 1, "1f080178")); /* never indexed, static name 23 */
	CHECK(encode_hex(&e, NULL, 0, ""));
	/* a table of size 0: INDEX fields go out without indexing */
	hpack_encoder_set_peer_limit(&e, 0);
	f[0].rep = HPACK_REP_INDEX;
	CHECK(encode_hex(&e, &f[0], 1, "20040c2f73616d706c652f70617468"));
	CHECK(encode_hex(&e, &f[0], 1, "040c2f73616d706c652f70617468"));
	/* a NEVER field is not sent as an index into the dynamic table */
	hpack_encoder_init(&e, 4096);
	e.huffman = 0;
	sec.rep = HPACK_REP_INDEX;
	CHECK(encode_hex(&e, &sec, 1, "570178"));
	CHECK(encode_hex(&e, &sec, 1, "be"));
	sec.rep = HPACK_REP_NEVER;
	CHECK(encode_hex(&e, &sec, 1, "1f080178")); /* the static name, not entry 62 */
}

static void test_encoder_updates(void)
{
	struct hpack_field get = {SLICE_LIT(":method"), SLICE_LIT("GET"), HPACK_REP_INDEX};
	struct hpack_encoder e;

	hpack_encoder_init(&e, 65536); /* we use 4096 and say so */
	CHECK(encode_hex(&e, &get, 1, "3fe11f82"));
	CHECK(encode_hex(&e, &get, 1, "82"));
	hpack_encoder_set_peer_limit(&e, 0);
	hpack_encoder_set_peer_limit(&e, 100);
	CHECK(encode_hex(&e, &get, 1, "203f4582")); /* the minimum, then the final size */
	hpack_encoder_set_peer_limit(&e, 200);
	hpack_encoder_set_peer_limit(&e, 300);
	CHECK(encode_hex(&e, &get, 1, "3fa9013f8d0282")); /* 200 < 300 */
	hpack_encoder_set_peer_limit(&e, 50);
	CHECK(encode_hex(&e, &get, 1, "3f1382"));
}

static void test_encoder_nomem(void)
{
	struct hpack_field f = {SLICE_LIT("custom-key"), SLICE_LIT("custom-value"), HPACK_REP_NOINDEX};
	struct hpack_encoder e;
	struct buf out;

	hpack_encoder_init(&e, 4096);
	buf_init(&out, 10);
	CHECK(buf_append(&out, "ab", 2) == 0);
	CHECK(hpack_encode(&e, &out, &f, 1) == HPACK_E_NOMEM);
	CHECK(out.len == 2 && memcmp(out.p, "ab", 3) == 0);
	e.huffman = 0;
	CHECK(hpack_encode(&e, &out, &f, 1) == HPACK_E_NOMEM);
	CHECK(out.len == 2);
	buf_free(&out);
}

/* Random lists through the encoder and decoder: same fields, same tables,
 * across table resizes (this also exercises the table's compaction). */
static uint32_t rng = 12345;
static uint32_t next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static void test_round_trip(void)
{
	static const char *const names[] = {"a", "custom-key", ":path", "content-type",
					    "x-amz-date", "authorization", "set-cookie"};
	static char values[8][300];
	struct hpack_decoder d;
	struct hpack_encoder e;
	struct hpack_field f[8], g;
	struct slice n1, v1, n2, v2;
	int ok = 1;

	for (int i = 0; i < 8; i++)
		for (int k = 0; k < 299; k++)
			values[i][k] = (char)(' ' + (i * 7 + k * 3) % 90);
	hpack_decoder_init(&d, 4096, 0, scratch, sizeof scratch);
	hpack_encoder_init(&e, 4096);
	for (int round = 0; round < 2000 && ok; round++) {
		size_t n = next_rand() % 8, i = 0;
		struct buf out;
		int r = 0;
		if (round % 97 == 96) {
			uint32_t lim = next_rand() % 5000;
			if (lim > 4096)
				lim = 4096;
			hpack_decoder_set_limit(&d, lim);
			hpack_encoder_set_peer_limit(&e, lim);
		}
		e.huffman = (int)(next_rand() & 1);
		for (size_t k = 0; k < n; k++) {
			f[k].name = slice_str(names[next_rand() % 7]);
			f[k].value.p = (const uint8_t *)values[next_rand() % 8];
			f[k].value.n = next_rand() % 300;
			f[k].rep = (int)(next_rand() % 3);
		}
		buf_init(&out, 1 << 16);
		ok = hpack_encode(&e, &out, f, n) == 0;
		hpack_block_begin(&d, out.p, out.len);
		while (ok && (r = hpack_next(&d, &g)) == 1) {
			ok = i < n && slice_eq(g.name, f[i].name) && slice_eq(g.value, f[i].value);
			ok = ok && (f[i].rep == HPACK_REP_NEVER) == (g.rep == HPACK_REP_NEVER);
			i++;
		}
		ok = ok && r == 0 && i == n;
		ok = ok && hpack_table_count(&d.t) == hpack_table_count(&e.t) &&
		     hpack_table_size(&d.t) == hpack_table_size(&e.t);
		for (size_t k = 1; ok && k <= hpack_table_count(&d.t); k++) {
			hpack_table_entry(&d.t, k, &n1, &v1);
			hpack_table_entry(&e.t, k, &n2, &v2);
			ok = slice_eq(n1, n2) && slice_eq(v1, v2);
		}
		buf_free(&out);
	}
	CHECK(ok);
}

static void test_strerror(void)
{
	struct err e;

	for (int c = HPACK_E_ARG; c <= 0; c++)
		CHECK(strcmp(hpack_strerror(c), "unknown error") != 0);
	CHECK(strcmp(hpack_strerror(-100), "unknown error") == 0);
	CHECK(hpack_err(&e, HPACK_E_INDEX) == -1 && e.cls == ERR_PROTO);
	CHECK_STR(e.msg, "hpack: invalid table index");
	hpack_err(&e, HPACK_E_NOMEM);
	CHECK(e.cls == ERR_OTHER);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_integers);
	T_RUN(test_huffman_canonical);
	T_RUN(test_huffman_strings);
	T_RUN(test_huffman_all_bytes);
	T_RUN(test_huffman_malformed);
	T_RUN(test_c2);
	T_RUN(test_c3);
	T_RUN(test_c4);
	T_RUN(test_c5);
	T_RUN(test_c6);
	T_RUN(test_malformed);
	T_RUN(test_sticky);
	T_RUN(test_size_update_required);
	T_RUN(test_list_size);
	T_RUN(test_scratch);
	T_RUN(test_evicted_name);
	T_RUN(test_encoder_reps);
	T_RUN(test_encoder_updates);
	T_RUN(test_encoder_nomem);
	T_RUN(test_round_trip);
	T_RUN(test_strerror);
	return t_done(argv[0]);
}
