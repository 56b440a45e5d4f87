/* json5_int: what the files of the JSON5 reader share (private: only
 * src/wire/json5*.c include it; json5.h is the interface).
 *
 *   json5.c       the reader: UTF-8 and white space, the scanners, the tree
 *   json5_get.c   access to a parsed tree: spans, lookups, decoded values
 *   json5_path.c  path expressions: parse, format, look up */
#ifndef BROCK_JSON5_INT_H
#define BROCK_JSON5_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/base64.h"
#include "base/buf.h"
#include "base/err.h"
#include "wire/json5.h"

/* The reader's state over src[0..n): position i, nesting depth. */
struct j5p {
	struct j5_doc *d;
	const uint8_t *s;
	size_t n, i;
	int depth;
	struct err *e;
};

/* ---- small helpers ---- */

/* Decodes one code point at s[i..n); returns its length, 0 when invalid. */
static inline size_t utf8_dec(const uint8_t *s, size_t n, size_t i, uint32_t *cp)
{
	uint8_t c = s[i];
	size_t len;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2, v = c & 0x1F, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3, v = c & 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n - i < len)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((s[i + k] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i + k] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

static inline int hex_n(const uint8_t *s, size_t n, size_t i, size_t k, uint32_t *v)
{
	*v = 0;
	if (n - i < k)
		return -1;
	for (size_t j = 0; j < k; j++) {
		int h = hex_digit(s[i + j]);
		if (h < 0)
			return -1;
		*v = (*v << 4) | (uint32_t)h;
	}
	return 0;
}

static inline int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* Scans a quoted string starting at the quote; validates escapes and UTF-8
 * (json5.c). */
int j5_scan_string(struct j5p *p);
/* Decodes a validated string literal or identifier in src[a..b) (json5_get.c). */
int j5_decode(const struct j5_doc *d, uint32_t a, uint32_t b, struct buf *out);

#endif
