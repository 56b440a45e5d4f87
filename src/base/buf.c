#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slice slice_str(const char *s)
{
	struct slice r = {(const uint8_t *)"", 0};

	if (s) {
		r.p = (const uint8_t *)s;
		r.n = strlen(s);
	}
	return r;
}

int slice_eq(struct slice a, struct slice b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

int slice_eq_str(struct slice a, const char *s)
{
	return slice_eq(a, slice_str(s));
}

int slice_eq_nocase(struct slice a, const char *s)
{
	size_t n = strlen(s);

	if (a.n != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (str_lower_ch(a.p[i]) != str_lower_ch((unsigned char)s[i]))
			return 0;
	return 1;
}

char *str_dupn(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		return NULL;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void str_lower(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s[i] = (char)str_lower_ch((unsigned char)s[i]);
}

static int is_blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct slice slice_trim(struct slice s)
{
	while (s.n && is_blank(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && is_blank(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* memset's speed (a volatile byte loop took ~3 instructions a byte, and
 * every buf_reset wipes the buffer's capacity), kept by libc's barrier. */
void secure_zero(void *p, size_t n)
{
	if (n)
		explicit_bzero(p, n);
}

int secure_equal(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= (uint8_t)(x[i] ^ y[i]);
	return d == 0;
}

void buf_init(struct buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

int buf_reserve(struct buf *b, size_t extra)
{
	size_t need, ncap;
	uint8_t *np;

	/* the NUL after len + extra must be addressable too (max may be SIZE_MAX) */
	if (extra > b->max || b->len > b->max - extra || b->len + extra == SIZE_MAX)
		return -1;
	need = b->len + extra + 1; /* room for the NUL */
	if (need <= b->cap) {
		b->p[b->len] = 0;
		return 0;
	}
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (b->max < SIZE_MAX && ncap > b->max + 1)
		ncap = b->max + 1;
	/* realloc would leave a copy of secrets behind: move by hand */
	np = malloc(ncap);
	if (!np)
		return -1;
	if (b->p) {
		memcpy(np, b->p, b->len);
		secure_zero(b->p, b->cap);
		free(b->p);
	}
	b->p = np;
	b->cap = ncap;
	b->p[b->len] = 0;
	return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n))
		return -1;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
	return 0;
}

int buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_append_byte(struct buf *b, uint8_t c)
{
	return buf_append(b, &c, 1);
}

int buf_appendf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n))
		return -1;
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->p, b->p + n, b->len - n);
		b->len -= n;
	}
	if (b->p)
		b->p[b->len] = 0;
}

void buf_reset(struct buf *b)
{
	if (b->p)
		secure_zero(b->p, b->cap);
	b->len = 0;
}

void buf_free(struct buf *b)
{
	if (b->p) {
		secure_zero(b->p, b->cap);
		free(b->p);
	}
	b->p = NULL;
	b->len = b->cap = 0;
}

struct slice buf_slice(const struct buf *b)
{
	struct slice s = {b->p ? b->p : (const uint8_t *)"", b->len};
	return s;
}
