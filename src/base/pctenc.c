#include "base/pctenc.h"

#include "base/base64.h"

static const char pct_hex[] = "0123456789ABCDEF";

int pct_is_unreserved(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

int pct_encode(struct buf *out, const uint8_t *p, size_t n, unsigned flags)
{
	size_t start = out->len, run = 0;

	/* copy runs of kept bytes in one append: paths are mostly unreserved */
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i], esc[3];

		if (pct_is_unreserved(c) || (c == '/' && (flags & PCT_KEEP_SLASH))) {
			run++;
			continue;
		}
		if (run && buf_append(out, p + i - run, run) < 0)
			goto limit;
		run = 0;
		esc[0] = '%';
		esc[1] = (uint8_t)pct_hex[c >> 4];
		esc[2] = (uint8_t)pct_hex[c & 15];
		if (buf_append(out, esc, 3) < 0)
			goto limit;
	}
	if (run && buf_append(out, p + n - run, run) < 0)
		goto limit;
	/* make an empty result still a valid NUL-terminated string */
	if (out->len == start) {
		if (buf_reserve(out, 0) < 0)
			goto limit;
		out->p[out->len] = 0;
	}
	return 0;
limit:
	out->len = start;
	if (out->p)
		out->p[start] = 0;
	return PCT_ERR_LIMIT;
}

int pct_decode(struct buf *out, const uint8_t *p, size_t n, unsigned flags)
{
	size_t start = out->len, room;
	int rc = PCT_ERR_LIMIT;

	/* the result is never longer than the input: one reservation, of at
	 * most what the buffer's limit allows (escapes may make it fit) */
	room = out->len < out->max ? out->max - out->len : 0;
	if (room > n)
		room = n;
	if (buf_reserve(out, room) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c == '%') {
			int hi = i + 2 < n ? hex_digit(p[i + 1]) : -1;
			int lo = i + 2 < n ? hex_digit(p[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				if (!(flags & PCT_LENIENT)) {
					rc = PCT_ERR_BAD;
					goto fail;
				}
			} else {
				c = (uint8_t)(hi << 4 | lo);
				i += 2;
			}
		} else if (c == '+' && (flags & PCT_PLUS_SPACE)) {
			c = ' ';
		}
		if (out->len - start == room)
			goto fail;
		out->p[out->len++] = c;
	}
	out->p[out->len] = 0;
	return 0;
fail:
	out->len = start;
	if (out->p)
		out->p[start] = 0;
	return rc;
}

int pct_encode_str(struct buf *out, const char *s, unsigned flags)
{
	return pct_encode_slice(out, slice_str(s), flags);
}

int pct_encode_slice(struct buf *out, struct slice s, unsigned flags)
{
	return pct_encode(out, s.p, s.n, flags);
}
