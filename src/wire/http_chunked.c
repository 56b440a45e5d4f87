/* http_chunked: the chunked transfer coding's framing (RFC 9112 section 7.1)
 * for the parser in http.c: chunk sizes, extensions, the CRLF after each
 * chunk and the trailer section. Chunk data itself is handed out by the
 * driver (http_parse) as views. */
#include <stddef.h>
#include <stdint.h>

#include "base/base64.h"
#include "wire/http_int.h"

/* The chunked framing is a byte-at-a-time state machine (p->state); each
 * helper below takes one byte in the states of one part of the framing and
 * returns 0 to go on, 1 when that byte ends a framing run (chunk data follows,
 * or the message is complete), or a negative HTTP_E_* recorded by FAIL. */

/* The size line is complete: chunk data follows, or the last chunk's
 * trailer section. */
static int size_line_end(struct http_parser *p, struct err *e)
{
	if (p->kind == HTTP_REQUEST && p->remain > p->max_body - p->body_seen)
		return FAIL(HTTP_E_BODY_TOO_BIG, "request body exceeds the limit of %llu bytes",
			    (unsigned long long)p->max_body);
	if (p->remain == 0) {
		p->state = ST_TRAILER;
		p->aux = 0;
		p->trailer_line = 0;
		return 0;
	}
	p->state = ST_CHUNK_DATA;
	return 1;
}

/* After the hex digits: whitespace, an extension, the line end. */
static int size_line_byte(struct http_parser *p, uint8_t c, struct err *e)
{
	switch (p->state) {
	case ST_CHUNK_SIZE_WS:
		if (is_ows(c))
			return 0;
		if (c == ';') {
			p->state = ST_CHUNK_EXT;
			p->aux = 0;
			return 0;
		}
		break;
	case ST_CHUNK_EXT:
		if (c == '\r' || c == '\n')
			break;
		if (!is_field_char(c))
			return FAIL(HTTP_E_CHUNK_EXT, "malformed chunk extension (control byte)");
		if (++p->aux > HTTP_CHUNK_EXT_MAX)
			return FAIL(HTTP_E_CHUNK_EXT, "chunk extension too long");
		return 0;
	default: /* ST_CHUNK_SIZE_LF */
		if (c != '\n')
			return FAIL(HTTP_E_CHUNK_SIZE, "malformed chunk size line (CR without LF)");
		return size_line_end(p, e);
	}
	if (c == '\r') {
		p->state = ST_CHUNK_SIZE_LF;
		return 0;
	}
	if (c == '\n')
		return size_line_end(p, e);
	return FAIL(HTTP_E_CHUNK_SIZE, "malformed chunk size (unexpected byte 0x%02x)", c);
}

static int chunk_size_byte(struct http_parser *p, uint8_t c, struct err *e)
{
	int h = hex_digit(c);

	if (h >= 0) {
		if (++p->ndigits > CHUNK_DIGITS_MAX || p->remain > (CHUNK_SIZE_MAX >> 4))
			return FAIL(HTTP_E_CHUNK_TOO_BIG, "chunk size too large");
		p->remain = p->remain << 4 | (uint64_t)h;
		return 0;
	}
	if (p->ndigits == 0)
		return FAIL(HTTP_E_CHUNK_SIZE, "malformed chunk size (no hex digits)");
	p->state = ST_CHUNK_SIZE_WS;
	return size_line_byte(p, c, e);
}

/* The CRLF (or bare LF) after chunk data. */
static int data_end_byte(struct http_parser *p, uint8_t c, struct err *e)
{
	if (p->state == ST_CHUNK_DATA_CR && c == '\r') {
		p->state = ST_CHUNK_DATA_LF;
		return 0;
	}
	if (c != '\n')
		return FAIL(HTTP_E_CHUNK_CRLF, "missing CRLF after chunk data");
	p->state = ST_CHUNK_SIZE;
	p->ndigits = 0;
	p->remain = 0;
	return 0;
}

/* Trailer lines, discarded; an empty line ends the message. */
static int trailer_byte(struct http_parser *p, uint8_t c, struct err *e)
{
	if (++p->aux > HTTP_TRAILER_MAX)
		return FAIL(HTTP_E_TRAILER, "trailer section exceeds 64 KiB");
	if (p->state == ST_TRAILER_LF && c != '\n')
		return FAIL(HTTP_E_TRAILER, "malformed trailer section (CR without LF)");
	if (c == '\r') {
		p->state = ST_TRAILER_LF;
		return 0;
	}
	if (c == '\n') {
		p->state = ST_TRAILER;
		if (p->trailer_line == 0) {
			p->state = ST_DONE;
			return 1;
		}
		p->trailer_line = 0;
		return 0;
	}
	if (c == 0)
		return FAIL(HTTP_E_TRAILER, "malformed trailer section (NUL byte)");
	if (p->trailer_line == 0 && is_ows(c))
		return FAIL(HTTP_E_TRAILER, "malformed trailer section (continuation line)");
	p->trailer_line++;
	return 0;
}

/* Consumes framing bytes (sizes, CRLFs, trailers) one at a time; returns
 * with the state at ST_CHUNK_DATA, ST_DONE, or all input used. */
int http_feed_chunk_framing(struct http_parser *p, const uint8_t *in, size_t n, size_t *k,
			    struct err *e)
{
	size_t off;
	int r;

	for (off = 0; off < n; off++) {
		*k = off;
		switch (p->state) {
		case ST_CHUNK_SIZE:
			r = chunk_size_byte(p, in[off], e);
			break;
		case ST_CHUNK_SIZE_WS:
		case ST_CHUNK_EXT:
		case ST_CHUNK_SIZE_LF:
			r = size_line_byte(p, in[off], e);
			break;
		case ST_CHUNK_DATA_CR:
		case ST_CHUNK_DATA_LF:
			r = data_end_byte(p, in[off], e);
			break;
		case ST_TRAILER:
		case ST_TRAILER_LF:
			r = trailer_byte(p, in[off], e);
			break;
		default:
			return FAIL(HTTP_E_STATE, "internal error: chunk state %d", p->state);
		}
		if (r < 0)
			return r;
		if (r == 1) {
			*k = off + 1;
			return 0;
		}
	}
	*k = off;
	return 0;
}
