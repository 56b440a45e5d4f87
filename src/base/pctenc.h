/* pctenc: THE percent-encoder of the program (RFC 3986). Used for URL
 * paths and query strings, SigV4 canonicalisation and form bodies, so that
 * every byte that leaves brock is escaped one way only.
 *
 * Encoding keeps the unreserved set A-Z a-z 0-9 - _ . ~ and writes every other
 * byte as %XX with upper-case hex digits (what SigV4 requires). Decoding is
 * strict: a '%' not followed by two hex digits is an error. */
#ifndef BROCK_PCTENC_H
#define BROCK_PCTENC_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* flags */
#define PCT_KEEP_SLASH 0x1u /* encode: leave '/' as is (URL paths) */
#define PCT_PLUS_SPACE 0x2u /* decode: '+' means a space (x-www-form-urlencoded) */
#define PCT_LENIENT    0x4u /* decode: a bad %-escape is kept literally, not an error */

/* return values (0 = success) */
#define PCT_ERR_LIMIT (-1) /* the output buffer would exceed its max, or out of memory */
#define PCT_ERR_BAD   (-2) /* decode: '%' not followed by two hex digits */

/* Appends the encoding of p[0..n) to out. 0 or PCT_ERR_LIMIT. */
int pct_encode(struct buf *out, const uint8_t *p, size_t n, unsigned flags);

/* Appends the decoding of p[0..n) to out (the result may hold any byte,
 * including NUL). 0, PCT_ERR_LIMIT or PCT_ERR_BAD; on error out->len is
 * restored to its value on entry. */
int pct_decode(struct buf *out, const uint8_t *p, size_t n, unsigned flags);

/* Conveniences over a NUL-terminated string / a slice. */
int pct_encode_str(struct buf *out, const char *s, unsigned flags);
int pct_encode_slice(struct buf *out, struct slice s, unsigned flags);

/* 1 if c is in the RFC 3986 unreserved set. */
int pct_is_unreserved(uint8_t c);

#endif
