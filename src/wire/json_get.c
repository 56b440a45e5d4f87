/* json_get: navigation and typed getters over a parsed json_doc (see
 * json.h). Nothing here parses: the tokens come from json.c, whose single
 * pass already validated every byte, so these functions trust token offsets
 * and only decode what they are asked for. */
#include "wire/json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/err.h"

/* ------------------------------------------------------------------------ */
/* Navigation */

static const struct json_tok *tok_at(const struct json_doc *d, int t)
{
	if (!d || t < 0 || t >= d->ntok)
		return NULL;
	return &d->tok[t];
}

int json_type(const struct json_doc *d, int t)
{
	const struct json_tok *k = tok_at(d, t);

	return k ? k->type : JSON_NONE;
}

int json_size(const struct json_doc *d, int t)
{
	const struct json_tok *k = tok_at(d, t);

	if (!k)
		return -1;
	return k->type == JSON_OBJECT || k->type == JSON_ARRAY ? k->size : 0;
}

int json_child(const struct json_doc *d, int t)
{
	return json_size(d, t) > 0 ? t + 1 : -1;
}

int json_next(const struct json_doc *d, int t)
{
	const struct json_tok *k = tok_at(d, t);

	return k ? k->next : -1;
}

int json_at(const struct json_doc *d, int arr, size_t idx)
{
	int i;

	if (json_type(d, arr) != JSON_ARRAY || idx >= (size_t)d->tok[arr].size)
		return -1;
	for (i = arr + 1; idx > 0 && i >= 0; idx--)
		i = d->tok[i].next;
	return i;
}

int json_getn(const struct json_doc *d, int obj, const char *key, size_t klen)
{
	int k, found = -1;

	if (json_type(d, obj) != JSON_OBJECT)
		return -1;
	/* the last duplicate wins, as in JavaScript and Python */
	for (k = json_child(d, obj); k >= 0; k = d->tok[k].next)
		if (json_str_eqn(d, k, key, klen))
			found = k + 1;
	return found;
}

int json_get(const struct json_doc *d, int obj, const char *key)
{
	return key ? json_getn(d, obj, key, strlen(key)) : -1;
}

int json_path(const struct json_doc *d, int t, const char *path)
{
	const char *p = path;

	if (!p)
		return -1;
	while (*p && t >= 0) {
		if (*p == '[') {
			size_t idx = 0;
			const char *q = ++p;

			while (*p >= '0' && *p <= '9' && p - q < 9)
				idx = idx * 10 + (size_t)(*p++ - '0');
			if (p == q || *p != ']')
				return -1;
			p++;
			t = json_at(d, t, idx);
		} else {
			size_t n;

			if (p != path && *p++ != '.')
				return -1;
			n = strcspn(p, ".[");
			if (n == 0)
				return -1;
			t = json_getn(d, t, p, n);
			p += n;
		}
	}
	return *p ? -1 : t;
}

int json_getv(const struct json_doc *d, int t, ...)
{
	va_list ap;
	const char *k;

	va_start(ap, t);
	while ((k = va_arg(ap, const char *)) != NULL && t >= 0)
		t = json_get(d, t, k);
	va_end(ap);
	return t;
}

struct slice json_raw(const struct json_doc *d, int t)
{
	const struct json_tok *k = tok_at(d, t);
	struct slice s = {(const uint8_t *)"", 0};

	if (k) {
		s.p = (const uint8_t *)d->js + k->start;
		s.n = (size_t)(k->end - k->start);
	}
	return s;
}

struct slice json_raw_value(const struct json_doc *d, int t)
{
	struct slice s = json_raw(d, t);

	if (json_type(d, t) == JSON_STRING) {
		s.p--;
		s.n += 2;
	}
	return s;
}

/* ------------------------------------------------------------------------ */
/* Strings */

/* Where decoded bytes go: appended to a buf, copied to a fixed array, or
 * compared against an expected string. */
struct sink {
	enum { SINK_BUF, SINK_FIXED, SINK_CMP } mode;
	struct buf *b;
	uint8_t *dst;       /* FIXED: dst[0..cap); CMP: expected bytes */
	const uint8_t *cmp;
	size_t cap, len;
};

static int sink_put(struct sink *s, const uint8_t *p, size_t n)
{
	switch (s->mode) {
	case SINK_BUF:
		return buf_append(s->b, p, n);
	case SINK_FIXED:
		if (n > s->cap - s->len)
			return -1;
		memcpy(s->dst + s->len, p, n);
		break;
	case SINK_CMP:
		if (n > s->cap - s->len || memcmp(s->cmp + s->len, p, n) != 0)
			return -1;
		break;
	}
	s->len += n;
	return 0;
}

static int hex4(const uint8_t *p, const uint8_t *end)
{
	int v = 0, k, h;

	if (end - p < 4)
		return -1;
	for (k = 0; k < 4; k++) {
		h = hex_digit(p[k]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static size_t utf8_put(uint32_t c, uint8_t out[4])
{
	if (c < 0x80) {
		out[0] = (uint8_t)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (uint8_t)(0xC0 | (c >> 6));
		out[1] = (uint8_t)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (uint8_t)(0xE0 | (c >> 12));
		out[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
		out[2] = (uint8_t)(0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (uint8_t)(0xF0 | (c >> 18));
	out[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
	out[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
	out[3] = (uint8_t)(0x80 | (c & 0x3F));
	return 4;
}

/* Decodes the escape at *pp (a backslash) into out; advances *pp. */
static int unescape(const uint8_t **pp, const uint8_t *end, uint8_t out[4], size_t *n,
		    const char **why)
{
	const uint8_t *p = *pp;
	int u, lo;

	*why = "invalid escape";
	if (end - p < 2)
		return -1;
	switch (p[1]) {
	case '"': case '\\': case '/':
		out[0] = p[1];
		break;
	case 'b': out[0] = '\b'; break;
	case 'f': out[0] = '\f'; break;
	case 'n': out[0] = '\n'; break;
	case 'r': out[0] = '\r'; break;
	case 't': out[0] = '\t'; break;
	case 'u':
		u = hex4(p + 2, end);
		if (u < 0)
			return -1;
		p += 6;
		if (u >= 0xDC00 && u <= 0xDFFF) {
			*why = "lone surrogate escape";
			return -1;
		}
		if (u >= 0xD800 && u <= 0xDBFF) {
			*why = "lone surrogate escape";
			if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
				return -1;
			lo = hex4(p + 2, end);
			if (lo < 0xDC00 || lo > 0xDFFF)
				return -1;
			p += 6;
			*n = utf8_put(0x10000 + (((uint32_t)u - 0xD800) << 10) + ((uint32_t)lo - 0xDC00),
				      out);
		} else {
			*n = utf8_put((uint32_t)u, out);
		}
		*pp = p;
		return 0;
	default:
		return -1;
	}
	*n = 1;
	*pp = p + 2;
	return 0;
}

/* Decodes string token t into s. Returns 0, -1 (bad string: *why set) or -2
 * (the sink refused: full buffer, or a mismatch when comparing). */
static int str_walk(const struct json_doc *d, int t, struct sink *s, const char **why)
{
	struct slice r;
	const uint8_t *p, *end, *q;
	uint8_t u[4];
	size_t n;

	*why = "not a string";
	if (json_type(d, t) != JSON_STRING)
		return -1;
	r = json_raw(d, t);
	p = r.p;
	end = r.p + r.n;
	while (p < end) {
		q = memchr(p, '\\', (size_t)(end - p));
		if (!q)
			q = end;
		if (q > p && sink_put(s, p, (size_t)(q - p)))
			return -2;
		if (q == end)
			break;
		p = q;
		if (unescape(&p, end, u, &n, why))
			return -1;
		if (sink_put(s, u, n))
			return -2;
	}
	return 0;
}

static int str_fail(const struct json_doc *d, int t, const char *why, struct err *e)
{
	const struct json_tok *k = tok_at(d, t);

	if (k)
		return err_set(e, ERR_PROTO, "json: %s at byte %d", why, k->start);
	return err_set(e, ERR_PROTO, "json: %s", why);
}

int json_str_view(const struct json_doc *d, int t, struct slice *out)
{
	struct slice r;

	if (json_type(d, t) != JSON_STRING)
		return -1;
	r = json_raw(d, t);
	if (memchr(r.p, '\\', r.n))
		return 1;
	*out = r;
	return 0;
}

int json_str_decode(const struct json_doc *d, int t, struct buf *out, struct err *e)
{
	struct sink s = {SINK_BUF, out, NULL, NULL, 0, 0};
	const char *why;
	int r = str_walk(d, t, &s, &why);

	if (r == -2)
		return err_set(e, ERR_PROTO, "json: string too long for its buffer");
	return r ? str_fail(d, t, why, e) : 0;
}

int json_str(const struct json_doc *d, int t, struct buf *scratch, struct slice *out,
	     struct err *e)
{
	int r = json_str_view(d, t, out);

	if (r == 0)
		return 0;
	if (r < 0)
		return str_fail(d, t, "not a string", e);
	buf_reset(scratch);
	if (json_str_decode(d, t, scratch, e))
		return -1;
	*out = buf_slice(scratch);
	return 0;
}

int json_strz(const struct json_doc *d, int t, char *dst, size_t cap, struct err *e)
{
	struct sink s = {SINK_FIXED, NULL, (uint8_t *)dst, NULL, cap ? cap - 1 : 0, 0};
	const char *why;
	int r;

	if (!cap)
		return err_set(e, ERR_OTHER, "json: no room for a string");
	dst[0] = 0;
	r = str_walk(d, t, &s, &why);
	if (r == -2)
		return str_fail(d, t, "string too long", e);
	if (r)
		return str_fail(d, t, why, e);
	if (memchr(dst, 0, s.len)) {
		dst[0] = 0;
		return str_fail(d, t, "NUL character in string", e);
	}
	dst[s.len] = 0;
	return 0;
}

int json_str_eqn(const struct json_doc *d, int t, const char *str, size_t n)
{
	struct sink s = {SINK_CMP, NULL, NULL, (const uint8_t *)str, n, 0};
	struct slice r;
	const char *why;

	if (json_type(d, t) != JSON_STRING)
		return 0;
	r = json_raw(d, t);
	if (!memchr(r.p, '\\', r.n))
		return r.n == n && memcmp(r.p, str, n) == 0;
	return str_walk(d, t, &s, &why) == 0 && s.len == n;
}

int json_str_eq(const struct json_doc *d, int t, const char *s)
{
	return s ? json_str_eqn(d, t, s, strlen(s)) : 0;
}

/* ------------------------------------------------------------------------ */
/* Numbers and literals */

int json_int64(const struct json_doc *d, int t, int64_t *out, struct err *e)
{
	struct slice r = json_raw(d, t);
	uint64_t v = 0, lim = INT64_MAX;
	size_t i = 0;
	int neg = 0;

	if (json_type(d, t) != JSON_NUMBER)
		return str_fail(d, t, "not a number", e);
	if (r.p[0] == '-') {
		neg = 1;
		lim = (uint64_t)INT64_MAX + 1;
		i = 1;
	}
	for (; i < r.n; i++) {
		unsigned dg;

		if (r.p[i] < '0' || r.p[i] > '9')
			return str_fail(d, t, "not an integer", e);
		dg = (unsigned)(r.p[i] - '0');
		if (v > (lim - dg) / 10)
			return str_fail(d, t, "integer out of range", e);
		v = v * 10 + dg;
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

int json_double(const struct json_doc *d, int t, double *out, struct err *e)
{
	struct slice r = json_raw(d, t);
	char tmp[512];
	char *end;
	double v;

	if (json_type(d, t) != JSON_NUMBER)
		return str_fail(d, t, "not a number", e);
	if (r.n >= sizeof(tmp))
		return str_fail(d, t, "number too long", e);
	memcpy(tmp, r.p, r.n);
	tmp[r.n] = 0;
	errno = 0;
	v = strtod(tmp, &end);
	if (end != tmp + r.n || isinf(v) || isnan(v))
		return str_fail(d, t, "number out of range", e);
	*out = v;
	return 0;
}

int json_bool(const struct json_doc *d, int t, int *out, struct err *e)
{
	if (json_type(d, t) != JSON_BOOL)
		return str_fail(d, t, "not a boolean", e);
	*out = d->js[d->tok[t].start] == 't';
	return 0;
}

int json_is_null(const struct json_doc *d, int t)
{
	return json_type(d, t) == JSON_NULL;
}

