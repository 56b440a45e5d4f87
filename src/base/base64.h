/* base64: RFC 4648 base64 (standard alphabet, '=' padding) and lowercase hex.
 * Encoders and strict decoders into caller buffers or a bounded struct buf.
 * The base64 decoder rejects characters outside the alphabet, misplaced or
 * missing padding, and non-zero unused bits (so every accepted text has one
 * canonical encoding); flags relax whitespace and padding only. */
#ifndef BROCK_BASE64_H
#define BROCK_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define BASE64_WS 1    /* decoder skips space, tab, CR and LF anywhere */
#define BASE64_NOPAD 2 /* decoder also accepts input without the final '=' padding */

/* Length of the encoding of n bytes (no NUL counted). */
size_t base64_encoded_len(size_t n);
/* Upper bound of the decoded size of n characters. */
size_t base64_decoded_max(size_t n);

/* Writes base64_encoded_len(n) characters and a NUL to dst, which must hold
 * base64_encoded_len(n) + 1 bytes. Returns the length written (no NUL). */
size_t base64_encode(char *dst, const void *src, size_t n);
/* Appends the encoding to out; 0, or -1 when out's limit is reached. */
int base64_encode_buf(struct buf *out, const void *src, size_t n);

/* Decodes n characters into dst (cap bytes). Returns 0 and *outlen, or -1 for
 * invalid input or when cap is too small (nothing useful is left in dst). */
int base64_decode(uint8_t *dst, size_t cap, const char *src, size_t n, unsigned flags,
		  size_t *outlen);
/* Appends the decoded bytes to out; on error (-1) out is left as it was. */
int base64_decode_buf(struct buf *out, const char *src, size_t n, unsigned flags);

/* Lowercase hex: writes 2n characters and a NUL (dst holds 2n + 1). Returns 2n. */
size_t hex_encode(char *dst, const void *src, size_t n);
int hex_encode_buf(struct buf *out, const void *src, size_t n);
/* Decodes an even number of hex digits (either case) into dst (cap bytes);
 * 0 and *outlen, or -1 for odd length, a non-hex character or a short dst. */
int hex_decode(uint8_t *dst, size_t cap, const char *src, size_t n, size_t *outlen);
/* The value of one hex digit (either case), or -1: the program's only copy. */
int hex_digit(uint8_t c);

#endif
