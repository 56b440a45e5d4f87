/* test_base64: RFC 4648 section 10 vectors both ways, strictness of the
 * decoder (alphabet, padding, unused bits, whitespace flags), hex. */
#include "base/base64.h"
#include "t.h"

static const char *const rfc4648[][2] = {
	{"", ""},         {"f", "Zg=="},       {"fo", "Zm8="},         {"foo", "Zm9v"},
	{"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

static int dec(const char *s, unsigned flags, char *out, size_t cap)
{
	size_t n;

	if (base64_decode((uint8_t *)out, cap, s, strlen(s), flags, &n))
		return -1;
	out[n] = 0;
	return (int)n;
}

static void test_rfc4648(void)
{
	for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
		char enc[32], out[32];
		const char *raw = rfc4648[i][0], *b64 = rfc4648[i][1];
		size_t n = base64_encode(enc, raw, strlen(raw));
		int ok = n == strlen(b64) && strcmp(enc, b64) == 0 &&
			 base64_encoded_len(strlen(raw)) == n &&
			 dec(b64, 0, out, sizeof out) == (int)strlen(raw) && strcmp(out, raw) == 0 &&
			 base64_decoded_max(n) >= strlen(raw);
		t_case(b64[0] ? b64 : "(empty)", ok);
	}
}

static void test_all_bytes_roundtrip(void)
{
	uint8_t raw[256], back[256];
	char enc[400];
	size_t n;

	for (int i = 0; i < 256; i++)
		raw[i] = (uint8_t)(255 - i);
	for (size_t len = 0; len <= 256; len++) {
		size_t e = base64_encode(enc, raw, len);
		CHECK(e == base64_encoded_len(len));
		CHECK(base64_decode(back, sizeof back, enc, e, 0, &n) == 0);
		CHECK_MEM(back, n, raw, len);
	}
}

/* The decoder takes whole groups of four at once and single characters
 * otherwise: white space (with BASE64_WS) anywhere gives the same bytes, a
 * bad character or a '=' in the data anywhere is refused, for every length
 * and every position. */
static void test_every_position(void)
{
	static const char bad[] = {'*', '-', '_', 0, (char)0x80, '=', ' '};
	uint8_t raw[40], back[64];
	char enc[64], t[80];
	size_t n, e, len, pos, j;
	int wrong = 0;

	for (len = 0; len < sizeof raw; len++)
		raw[len] = (uint8_t)(len * 37 + 11);
	for (len = 0; len <= sizeof raw; len++) {
		e = base64_encode(enc, raw, len);
		for (pos = 0; pos <= e; pos++) {
			memcpy(t, enc, pos);
			t[pos] = '\n';
			memcpy(t + pos + 1, enc + pos, e - pos);
			wrong += base64_decode(back, sizeof back, t, e + 1, BASE64_WS, &n) != 0 ||
				 n != len || memcmp(back, raw, len) != 0;
			for (j = 0; j < sizeof bad; j++) {
				t[pos] = bad[j]; /* one '=' more is never valid padding */
				wrong += base64_decode(back, sizeof back, t, e + 1, 0, &n) != -1;
			}
		}
	}
	CHECK(wrong == 0);
}

static void test_strict_rejects(void)
{
	static const char *const bad[] = {
		"Zg",       /* missing padding */
		"Zg=",      /* short padding */
		"Zg===",    /* too much padding */
		"Z===",     /* padding after one character */
		"====",     /* padding only */
		"=Zg=",     /* padding first */
		"Zm9v=",    /* padding after a full group */
		"Zg==Zg==", /* data after padding */
		"Zm9=v",
		"Zm9=vYmE=",
		"Zg==Zm9v",
		"Zm9vY",    /* dangling character */
		"Zh==",     /* non-zero unused bits */
		"Zm9=",     /* non-zero unused bits */
		"Zm9v Yg==", /* space without BASE64_WS */
		"Zm9v\nYg==",
		"Zm9v-_==", /* url-safe alphabet */
		"Zm\x80v",
	};
	char out[32];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int r = dec(bad[i], 0, out, sizeof out);
		if (r != -1)
			fprintf(stderr, "  accepted: \"%s\"\n", bad[i]);
		CHECK(r == -1);
	}
	/* an embedded NUL counts as a bad character when it is inside n */
	{
		size_t n;
		CHECK(base64_decode((uint8_t *)out, sizeof out, "Zm9v\0Yg==", 9, 0, &n) == -1);
	}
}

static void test_flags(void)
{
	char out[32];

	CHECK(dec(" Zm9v\r\n Yg==\t\n", BASE64_WS, out, sizeof out) == 4);
	CHECK_STR(out, "foob");
	CHECK(dec("Zm9v\nYg=\n=", BASE64_WS, out, sizeof out) == 4);
	CHECK(dec("Zm9vYg", BASE64_NOPAD, out, sizeof out) == 4);
	CHECK_STR(out, "foob");
	CHECK(dec("Zm9vYmE", BASE64_NOPAD, out, sizeof out) == 5);
	CHECK(dec("Zm9vYg=", BASE64_NOPAD, out, sizeof out) == -1); /* partial padding */
	CHECK(dec("Zm9vY", BASE64_NOPAD, out, sizeof out) == -1);
	CHECK(dec("Zm9vYg==", BASE64_NOPAD, out, sizeof out) == 4); /* padded still fine */
	CHECK(dec("Zm9v Yg", BASE64_NOPAD, out, sizeof out) == -1);
	CHECK(dec("Zm9v Yg", BASE64_NOPAD | BASE64_WS, out, sizeof out) == 4);
}

static void test_capacity(void)
{
	uint8_t out[8];
	size_t n = 99;

	CHECK(base64_decode(out, 3, "Zm9vYmFy", 8, 0, &n) == -1);
	CHECK(base64_decode(out, 5, "Zm9vYmFy", 8, 0, &n) == -1);
	CHECK(base64_decode(out, 6, "Zm9vYmFy", 8, 0, &n) == 0 && n == 6);
	CHECK(base64_decode(out, 4, "Zm9vYmE=", 8, 0, &n) == -1);
	CHECK(base64_decode(out, 5, "Zm9vYmE=", 8, 0, &n) == 0 && n == 5);
	CHECK(base64_decode(out, 0, "", 0, 0, &n) == 0 && n == 0);
}

static void test_buf(void)
{
	struct buf b;

	buf_init(&b, 64);
	CHECK(base64_encode_buf(&b, "foobar", 6) == 0);
	CHECK(buf_append_str(&b, "|") == 0);
	CHECK(base64_decode_buf(&b, "Zm9vYg==", 8, 0) == 0);
	CHECK_STR((char *)b.p, "Zm9vYmFy|foob");
	CHECK(base64_decode_buf(&b, "Zm9vYg=", 7, 0) == -1);
	CHECK_STR((char *)b.p, "Zm9vYmFy|foob");
	CHECK(hex_encode_buf(&b, "\x01\xab", 2) == 0);
	CHECK_STR((char *)b.p, "Zm9vYmFy|foob01ab");
	buf_free(&b);
	buf_init(&b, 7);
	CHECK(base64_encode_buf(&b, "foobar", 6) == -1); /* 8 > limit 7 */
	CHECK(b.len == 0);
	CHECK(base64_encode_buf(&b, "foob", 4) == -1);
	CHECK(base64_encode_buf(&b, "foo", 3) == 0);
	buf_free(&b);
}

/* A decoded result that fits the buffer's limit must be accepted even when
 * the worst-case estimate for the input length (padding counted as data)
 * does not: "Zm9vYg==" is 4 bytes, not the 6 its 8 characters could be. */
static void test_buf_tight(void)
{
	struct buf b;

	buf_init(&b, 4);
	CHECK(base64_decode_buf(&b, "Zm9vYg==", 8, 0) == 0);
	CHECK(b.len == 4 && memcmp(b.p, "foob", 4) == 0 && b.p[4] == 0);
	CHECK(base64_decode_buf(&b, "QQ==", 4, 0) == -1); /* 5 > 4: still refused */
	CHECK(b.len == 4 && b.p[4] == 0);
	CHECK(base64_decode_buf(&b, " \n", 2, BASE64_WS) == 0); /* full, but nothing to add */
	CHECK(b.len == 4);
	buf_free(&b);
	buf_init(&b, 1);
	CHECK(base64_decode_buf(&b, "QQ", 2, BASE64_NOPAD) == 0);
	CHECK(b.len == 1 && b.p[0] == 'A');
	buf_free(&b);
}

static void test_hex_digit(void)
{
	const char *digits = "0123456789abcdef", *upper = "ABCDEF";
	int valid = 0;

	for (int c = 0; c < 256; c++) {
		int v = hex_digit((uint8_t)c);
		const char *d = c ? strchr(digits, c) : NULL;
		const char *u = c ? strchr(upper, c) : NULL;
		if (d)
			CHECK(v == (int)(d - digits));
		else if (u)
			CHECK(v == 10 + (int)(u - upper));
		else
			CHECK(v == -1);
		valid += v >= 0;
	}
	CHECK(valid == 22);
}

static void test_hex(void)
{
	char enc[64];
	uint8_t out[16];
	size_t n;

	CHECK(hex_encode(enc, "", 0) == 0 && enc[0] == 0);
	CHECK(hex_encode(enc, "\x00\x01\x7f\x80\xfe\xff", 6) == 12);
	CHECK_STR(enc, "00017f80feff");
	/* sha256("") as SigV4 writes it */
	CHECK(hex_decode(out, sizeof out, "e3b0c44298fc1c14", 16, &n) == 0 && n == 8);
	CHECK_MEM(out, n, "\xe3\xb0\xc4\x42\x98\xfc\x1c\x14", 8);
	CHECK(hex_decode(out, sizeof out, "E3B0C442", 8, &n) == 0 && n == 4);
	CHECK_MEM(out, n, "\xe3\xb0\xc4\x42", 4);
	CHECK(hex_decode(out, sizeof out, "abc", 3, &n) == -1);
	CHECK(hex_decode(out, sizeof out, "0g", 2, &n) == -1);
	CHECK(hex_decode(out, sizeof out, "g0", 2, &n) == -1);
	CHECK(hex_decode(out, sizeof out, " 0", 2, &n) == -1);
	CHECK(hex_decode(out, 1, "0000", 4, &n) == -1);
	CHECK(hex_decode(out, 0, "", 0, &n) == 0 && n == 0);
	for (int c = 0; c < 256; c++) {
		char s[2] = {'0', (char)c};
		int valid = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
		CHECK((hex_decode(out, 1, s, 2, &n) == 0) == valid);
	}
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_rfc4648);
	T_RUN(test_all_bytes_roundtrip);
	T_RUN(test_strict_rejects);
	T_RUN(test_every_position);
	T_RUN(test_flags);
	T_RUN(test_capacity);
	T_RUN(test_buf);
	T_RUN(test_buf_tight);
	T_RUN(test_hex);
	T_RUN(test_hex_digit);
	return t_done(argv[0]);
}
