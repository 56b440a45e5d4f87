/* test_pctenc: the one percent-encoder: every byte, the slash flag, strict
 * and lenient decoding, '+' in forms, limits and error rollback. */
#include "base/buf.h"
#include "base/pctenc.h"
#include "t.h"

static int enc_is(const char *in, unsigned flags, const char *want)
{
	struct buf b;
	int ok;

	buf_init(&b, 4096);
	ok = pct_encode_str(&b, in, flags) == 0 && b.p && strcmp((const char *)b.p, want) == 0;
	if (!ok)
		fprintf(stderr, "  enc(%s) = %s, want %s\n", in, b.p ? (const char *)b.p : "(null)",
			want);
	buf_free(&b);
	return ok;
}

static int dec_is(const char *in, unsigned flags, const char *want, size_t wn)
{
	struct buf b;
	int ok;

	buf_init(&b, 4096);
	ok = pct_decode(&b, (const uint8_t *)in, strlen(in), flags) == 0 && b.len == wn &&
	     memcmp(b.p, want, wn) == 0 && b.p[b.len] == 0;
	buf_free(&b);
	return ok;
}

static int dec_bad(const char *in, unsigned flags)
{
	struct buf b;
	int ok;

	buf_init(&b, 4096);
	buf_append_str(&b, "keep");
	ok = pct_decode(&b, (const uint8_t *)in, strlen(in), flags) == PCT_ERR_BAD &&
	     b.len == 4 && strcmp((const char *)b.p, "keep") == 0;
	buf_free(&b);
	return ok;
}

static void test_encode_every_byte(void)
{
	struct buf b;
	uint8_t c;
	char want[4];

	buf_init(&b, 16);
	for (int i = 0; i < 256; i++) {
		c = (uint8_t)i;
		buf_reset(&b);
		CHECK(pct_encode(&b, &c, 1, 0) == 0);
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			CHECK(b.len == 1 && b.p[0] == c);
			CHECK(pct_is_unreserved(c));
		} else {
			snprintf(want, sizeof(want), "%%%02X", c);
			CHECK(b.len == 3 && memcmp(b.p, want, 3) == 0);
			CHECK(!pct_is_unreserved(c));
		}
		/* PCT_KEEP_SLASH changes '/' only */
		buf_reset(&b);
		CHECK(pct_encode(&b, &c, 1, PCT_KEEP_SLASH) == 0);
		CHECK((c == '/') == (b.len == 1 && !pct_is_unreserved(c)));
	}
	buf_free(&b);
}

static void test_encode(void)
{
	CHECK(enc_is("", 0, ""));
	CHECK(enc_is("abc", 0, "abc"));
	CHECK(enc_is("a b", 0, "a%20b"));
	CHECK(enc_is("us.anthropic.claude-opus-4-6-v1:0", 0, "us.anthropic.claude-opus-4-6-v1%3A0"));
	CHECK(enc_is("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123", 0,
		     "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%"
		     "2Fabc123"));
	CHECK(enc_is("/a b/c", PCT_KEEP_SLASH, "/a%20b/c"));
	CHECK(enc_is("/a b/c", 0, "%2Fa%20b%2Fc"));
	CHECK(enc_is("x+y=z&w", 0, "x%2By%3Dz%26w"));
	CHECK(enc_is("%41", 0, "%2541")); /* encoding is not idempotent, by design */
	CHECK(enc_is("\xe1\x88\xb4", 0, "%E1%88%B4"));
	CHECK(enc_is("!*'()", 0, "%21%2A%27%28%29"));
}

static void test_encode_appends_and_limits(void)
{
	struct buf b;

	buf_init(&b, 8);
	CHECK(buf_append_str(&b, "ab") == 0);
	CHECK(pct_encode_str(&b, "c/", 0) == 0); /* "abc%2F" = 6 */
	CHECK_STR((const char *)b.p, "abc%2F");
	CHECK(pct_encode_str(&b, " ", 0) == PCT_ERR_LIMIT); /* would be 9 > 8 */
	CHECK(b.len == 6);
	CHECK_STR((const char *)b.p, "abc%2F");
	CHECK(pct_encode_str(&b, "xyz", 0) == PCT_ERR_LIMIT);
	CHECK_STR((const char *)b.p, "abc%2F");
	CHECK(pct_encode_str(&b, "xy", 0) == 0);
	CHECK_STR((const char *)b.p, "abc%2Fxy");
	buf_free(&b);
	/* an empty result on a fresh buffer is still a string */
	buf_init(&b, 8);
	CHECK(pct_encode(&b, (const uint8_t *)"", 0, 0) == 0);
	CHECK(b.p && b.p[0] == 0 && b.len == 0);
	buf_free(&b);
	buf_init(&b, 2);
	CHECK(pct_encode_str(&b, "é", 0) == PCT_ERR_LIMIT);
	CHECK(b.len == 0);
	buf_free(&b);
}

static void test_decode(void)
{
	CHECK(dec_is("", 0, "", 0));
	CHECK(dec_is("abc", 0, "abc", 3));
	CHECK(dec_is("a%20b", 0, "a b", 3));
	CHECK(dec_is("%e1%88%B4", 0, "\xe1\x88\xb4", 3));
	CHECK(dec_is("%00x", 0, "\0x", 2));
	CHECK(dec_is("a+b", 0, "a+b", 3));
	CHECK(dec_is("a+b", PCT_PLUS_SPACE, "a b", 3));
	CHECK(dec_is("%2B+", PCT_PLUS_SPACE, "+ ", 2));
	CHECK(dec_is("%2541", 0, "%41", 3)); /* one level only */
	CHECK(dec_bad("%", 0));
	CHECK(dec_bad("a%", 0));
	CHECK(dec_bad("%4", 0));
	CHECK(dec_bad("ab%4", 0));
	CHECK(dec_bad("%4g", 0));
	CHECK(dec_bad("%g4", 0));
	CHECK(dec_bad("%%41", 0));
	CHECK(dec_bad("ok%zz", PCT_PLUS_SPACE));
	/* lenient: a bad escape stays as it is */
	CHECK(dec_is("%", PCT_LENIENT, "%", 1));
	CHECK(dec_is("%zz%41", PCT_LENIENT, "%zzA", 4));
	CHECK(dec_is("100%", PCT_LENIENT, "100%", 4));
	CHECK(dec_is("%4", PCT_LENIENT, "%4", 2));
}

static void test_decode_limits(void)
{
	struct buf b;

	buf_init(&b, 4);
	/* 12 bytes in, 4 out: fits a buffer of 4 */
	CHECK(pct_decode(&b, (const uint8_t *)"%41%42%43%44", 12, 0) == 0);
	CHECK(b.len == 4 && memcmp(b.p, "ABCD", 5) == 0);
	buf_reset(&b);
	CHECK(pct_decode(&b, (const uint8_t *)"abcde", 5, 0) == PCT_ERR_LIMIT);
	CHECK(b.len == 0);
	CHECK(pct_decode(&b, (const uint8_t *)"abcd", 4, 0) == 0);
	CHECK(b.len == 4);
	CHECK(pct_decode(&b, (const uint8_t *)"e", 1, 0) == PCT_ERR_LIMIT);
	CHECK(b.len == 4 && memcmp(b.p, "abcd", 5) == 0);
	buf_free(&b);
}

static void test_roundtrip(void)
{
	uint8_t all[256];
	struct buf e, d;

	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	buf_init(&e, 4096);
	buf_init(&d, 4096);
	for (unsigned f = 0; f <= PCT_KEEP_SLASH; f++) {
		buf_reset(&e);
		buf_reset(&d);
		CHECK(pct_encode(&e, all, 256, f) == 0);
		CHECK(pct_decode(&d, e.p, e.len, 0) == 0);
		CHECK_MEM(d.p, d.len, all, 256);
	}
	/* every byte of the encoding is unreserved or '%' */
	for (size_t i = 0; i < e.len; i++)
		CHECK(pct_is_unreserved(e.p[i]) || e.p[i] == '%' || e.p[i] == '/');
	buf_free(&e);
	buf_free(&d);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_encode_every_byte);
	T_RUN(test_encode);
	T_RUN(test_encode_appends_and_limits);
	T_RUN(test_decode);
	T_RUN(test_decode_limits);
	T_RUN(test_roundtrip);
	return t_done(argv[0]);
}
