/* converse_fast: the text-delta fast path of conv_stream (converse.c).
 *
 * Nearly every event of a reply is a contentBlockDelta with a text piece:
 *     {"contentBlockIndex":N,"delta":{"text":"..."},"p":"..."}
 * conv_fast_delta reads exactly that shape in one pass, without the
 * tokeniser, and hands the text on as a view into the payload; for any other
 * shape it does nothing and the full JSON reader decides. It is a second JSON
 * reader, kept honest by fuzz_converse (same callbacks and JSON lines with
 * and without it) and kept at all because it wins end to end: see the
 * numbers in converse_fast.c and bench/RESULTS.md. */
#ifndef BROCK_CONVERSE_FAST_H
#define BROCK_CONVERSE_FAST_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "bedrock/converse.h"

/* The hot helpers run several times per event: inlined even in the -Os
 * build, where a call costs more than their bodies. */
#define CONV_FAST_INLINE inline __attribute__((always_inline))

/* p[0..n) == lit[0..n), eight then four bytes at a time (the library memcmp
 * goes byte by byte). converse.c matches event and header names with it. */
static CONV_FAST_INLINE int conv_fast_eq(const uint8_t *p, const char *lit, size_t n)
{
	uint64_t a, b;
	uint32_t c, d;

	for (; n >= 8; p += 8, lit += 8, n -= 8) {
		memcpy(&a, p, 8);
		memcpy(&b, lit, 8);
		if (a != b)
			return 0;
	}
	if (n >= 4) {
		memcpy(&c, p, 4);
		memcpy(&d, lit, 4);
		if (c != d)
			return 0;
		p += 4;
		lit += 4;
		n -= 4;
	}
	while (n--)
		if (*p++ != (uint8_t)*lit++)
			return 0;
	return 1;
}

static CONV_FAST_INLINE int conv_fast_slice_is(struct slice s, const char *lit, size_t n)
{
	return s.n == n && conv_fast_eq(s.p, lit, n);
}

/* One contentBlockDelta payload p[0..n) of stream s: 1 when it had the
 * common shape and was handled here (*r: 0, or -1 with e set by the
 * json_line or text callback), 0 (nothing done, nothing called) to take the
 * full path. Never answers when s->no_fast is set. */
int conv_fast_delta(struct conv_stream *s, const uint8_t *p, size_t n, int *r, struct err *e);

#endif
