/* buf: bounded byte buffers and read-only slices.
 * A struct buf grows up to a maximum fixed at init; exceeding it is an error,
 * never silent growth. Memory is wiped before it is freed (it may hold secrets). */
#ifndef BROCK_BUF_H
#define BROCK_BUF_H

#include <stddef.h>
#include <stdint.h>

struct slice {
	const uint8_t *p;
	size_t n;
};

#define SLICE_LIT(s) ((struct slice){(const uint8_t *)(s), sizeof(s) - 1})
struct slice slice_str(const char *s); /* NUL-terminated string (NULL -> empty) */
int slice_eq(struct slice a, struct slice b);
int slice_eq_str(struct slice a, const char *s);
int slice_eq_nocase(struct slice a, const char *s); /* ASCII case-insensitive */

/* Checked reads from the front of a slice, for binary formats: each returns 0
 * and advances s past what it read, or -1 with s and *out untouched when
 * fewer bytes remain than it needs. Integers are big-endian (network order).
 * Inline: they sit in per-message loops (event-stream headers). */
static inline int slice_take(struct slice *s, size_t n, struct slice *out)
{
	if (s->n < n)
		return -1;
	out->p = s->p;
	out->n = n;
	if (n == 0)
		return 0; /* s->p may be NULL: no arithmetic on it */
	s->p += n;
	s->n -= n;
	return 0;
}

static inline int slice_u8(struct slice *s, uint8_t *out)
{
	if (s->n < 1)
		return -1;
	*out = s->p[0];
	s->p++;
	s->n--;
	return 0;
}

static inline int slice_u16be(struct slice *s, uint16_t *out)
{
	if (s->n < 2)
		return -1;
	*out = (uint16_t)(s->p[0] << 8 | s->p[1]);
	s->p += 2;
	s->n -= 2;
	return 0;
}

static inline int slice_u32be(struct slice *s, uint32_t *out)
{
	if (s->n < 4)
		return -1;
	*out = (uint32_t)s->p[0] << 24 | (uint32_t)s->p[1] << 16 | (uint32_t)s->p[2] << 8 |
	       s->p[3];
	s->p += 4;
	s->n -= 4;
	return 0;
}

/* An unsigned big-endian integer of n bytes (1..8) into a uint64_t. */
static inline int slice_uint_be(struct slice *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n < 1 || n > 8 || s->n < n)
		return -1;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | s->p[i];
	*out = v;
	s->p += n;
	s->n -= n;
	return 0;
}

struct buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t max; /* hard limit on len */
};

void buf_init(struct buf *b, size_t max);
/* All return 0, or -1 when the limit would be exceeded or memory is short.
 * After a successful append p[len] is a NUL byte (not counted in len). */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_append_byte(struct buf *b, uint8_t c);
int buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_consume(struct buf *b, size_t n); /* drop the first n bytes */
void buf_reset(struct buf *b);             /* len = 0, keep memory (wiped) */
void buf_free(struct buf *b);              /* wipe and release */
struct slice buf_slice(const struct buf *b);

/* A NUL-terminated heap copy of s[0..n) (s may be NULL when n is 0), for
 * free(); NULL when memory is short. */
char *str_dupn(const char *s, size_t n);
/* ASCII A-Z to a-z in place (model ids, provider names: never locale). */
void str_lower(char *s, size_t n);
/* The one ASCII lower-casing of a byte; anything but A-Z is returned as is. */
static inline int str_lower_ch(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}
/* s without leading and trailing spaces, tabs, CR and LF. */
struct slice slice_trim(struct slice s);

/* Wipes memory the compiler may not optimise away (secrets). */
void secure_zero(void *p, size_t n);
/* 1 when a[0..n) == b[0..n), in time that depends on n only (keys, MACs). */
int secure_equal(const void *a, const void *b, size_t n);

#endif
