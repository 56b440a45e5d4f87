/* base64: RFC 4648 base64 and hex (see base64.h). */
#include "base/base64.h"

#include <string.h>

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63 for alphabet characters, -1 otherwise. A switch-free range test keeps
 * the decoder table-less (no init, no 256-byte table to get wrong). */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

size_t base64_encoded_len(size_t n)
{
	return (n / 3 + (n % 3 != 0)) * 4;
}

size_t base64_decoded_max(size_t n)
{
	return n / 4 * 3 + (n % 4 ? 3 : 0);
}

size_t base64_encode(char *dst, const void *src, size_t n)
{
	const uint8_t *s = src;
	char *w = dst;

	for (; n >= 3; n -= 3, s += 3) {
		uint32_t v = (uint32_t)s[0] << 16 | (uint32_t)s[1] << 8 | s[2];
		*w++ = b64_alphabet[v >> 18];
		*w++ = b64_alphabet[(v >> 12) & 63];
		*w++ = b64_alphabet[(v >> 6) & 63];
		*w++ = b64_alphabet[v & 63];
	}
	if (n) {
		uint32_t v = (uint32_t)s[0] << 16 | (n == 2 ? (uint32_t)s[1] << 8 : 0);
		*w++ = b64_alphabet[v >> 18];
		*w++ = b64_alphabet[(v >> 12) & 63];
		*w++ = n == 2 ? b64_alphabet[(v >> 6) & 63] : '=';
		*w++ = '=';
	}
	*w = 0;
	return (size_t)(w - dst);
}

int base64_encode_buf(struct buf *out, const void *src, size_t n)
{
	size_t len = base64_encoded_len(n);

	if (len / 4 < n / 3 || buf_reserve(out, len)) /* first test: overflow */
		return -1;
	out->len += base64_encode((char *)out->p + out->len, src, n);
	return 0;
}

/* Flushes the final group of k (2 or 3) characters held in v. */
static int b64_tail(uint8_t *dst, size_t cap, size_t *o, uint32_t v, int k)
{
	if (k == 2) {
		if (v & 0xf) /* unused bits must be zero */
			return -1;
		if (*o + 1 > cap)
			return -1;
		dst[(*o)++] = (uint8_t)(v >> 4);
		return 0;
	}
	if (v & 0x3)
		return -1;
	if (*o + 2 > cap)
		return -1;
	dst[(*o)++] = (uint8_t)(v >> 10);
	dst[(*o)++] = (uint8_t)(v >> 2);
	return 0;
}

int base64_decode(uint8_t *dst, size_t cap, const char *src, size_t n, unsigned flags,
		  size_t *outlen)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0, pad = 0;
	uint32_t v = 0;
	int k = 0; /* characters in the current group */

	for (size_t i = 0; i < n; i++) {
		int c;
		/* a whole group of four alphabet characters at once (the bulk of
		 * any text); anything else goes one character at a time below */
		while (k == 0 && n - i >= 4 && o + 3 <= cap) {
			int a = b64_value(s[i]), b = b64_value(s[i + 1]), d = b64_value(s[i + 2]),
			    f = b64_value(s[i + 3]);

			if ((a | b | d | f) < 0)
				break;
			dst[o++] = (uint8_t)(a << 2 | b >> 4);
			dst[o++] = (uint8_t)(b << 4 | d >> 2);
			dst[o++] = (uint8_t)(d << 6 | f);
			i += 4;
		}
		if (i == n)
			break;
		if ((flags & BASE64_WS) && is_ws(s[i]))
			continue;
		if (s[i] == '=') {
			/* padding completes a group of 2 (two '=') or 3 (one '=') */
			if (pad == 0 && k < 2)
				return -1;
			pad++;
			if (k + pad > 4)
				return -1;
			continue;
		}
		if (pad) /* data after padding */
			return -1;
		c = b64_value(s[i]);
		if (c < 0)
			return -1;
		v = v << 6 | (uint32_t)c;
		if (++k == 4) {
			if (o + 3 > cap)
				return -1;
			dst[o++] = (uint8_t)(v >> 16);
			dst[o++] = (uint8_t)(v >> 8);
			dst[o++] = (uint8_t)v;
			v = 0;
			k = 0;
		}
	}
	/* here pad > 0 implies k >= 2: '=' needs two characters before it and
	 * nothing but '=' may follow it */
	if (k == 1)
		return -1;
	if (k) {
		if (k + pad != 4 && !(pad == 0 && (flags & BASE64_NOPAD)))
			return -1;
		if (b64_tail(dst, cap, &o, v, k))
			return -1;
	}
	*outlen = o;
	return 0;
}

int base64_decode_buf(struct buf *out, const char *src, size_t n, unsigned flags)
{
	size_t max = base64_decoded_max(n), got;

	/* the estimate counts padding and white space as data: reserve no more
	 * than the limit allows and let the decoder say whether it fits */
	if (out->len <= out->max && max > out->max - out->len)
		max = out->max - out->len;
	if (buf_reserve(out, max))
		return -1;
	if (base64_decode(out->p + out->len, max, src, n, flags, &got)) {
		out->p[out->len] = 0;
		return -1;
	}
	out->len += got;
	out->p[out->len] = 0;
	return 0;
}

size_t hex_encode(char *dst, const void *src, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *s = src;

	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = digits[s[i] >> 4];
		dst[2 * i + 1] = digits[s[i] & 15];
	}
	dst[2 * n] = 0;
	return 2 * n;
}

int hex_encode_buf(struct buf *out, const void *src, size_t n)
{
	if (n > (SIZE_MAX - 1) / 2 || buf_reserve(out, 2 * n))
		return -1;
	out->len += hex_encode((char *)out->p + out->len, src, n);
	return 0;
}

int hex_digit(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(uint8_t *dst, size_t cap, const char *src, size_t n, size_t *outlen)
{
	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_digit((uint8_t)src[i]), lo = hex_digit((uint8_t)src[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		dst[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = n / 2;
	return 0;
}
