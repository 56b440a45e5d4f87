/* json_write: the JSON writer (struct jw over a bounded buf). See json.h.
 * Kept apart from the reader (json.c); the two share UTF-8 validation
 * (json_utf8_seq) and the plain-byte test, and jw_raw uses json_validate. */
#include "wire/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

static void w_fail(struct jw *w, int code, size_t pos)
{
	if (!w->error) {
		w->error = code;
		w->errpos = pos;
	}
}

static void w_put(struct jw *w, const void *p, size_t n)
{
	if (!w->error && buf_append(w->b, p, n))
		w_fail(w, JW_E_NOMEM, 0);
}

static void w_putc(struct jw *w, char c)
{
	w_put(w, &c, 1);
}

static int w_top_obj(const struct jw *w)
{
	return w->depth > 0 && ((w->stack[(w->depth - 1) / 8] >> ((w->depth - 1) % 8)) & 1);
}

void jw_init(struct jw *w, struct buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
	w->max_depth = JSON_MAX_DEPTH;
	w->first = 1;
}

void jw_set_max_depth(struct jw *w, int max_depth)
{
	if (max_depth < 0 || max_depth > JSON_MAX_DEPTH)
		max_depth = JSON_MAX_DEPTH;
	w->max_depth = max_depth;
}

/* Before any value: state checks and the comma. Returns -1 if nothing may be
 * written. */
static int w_value(struct jw *w)
{
	if (w->error)
		return -1;
	if (w->in_str || (w->depth == 0 && w->done) || (w_top_obj(w) && !w->after_key)) {
		w_fail(w, JW_E_STATE, 0);
		return -1;
	}
	if (w->after_key)
		w->after_key = 0;
	else if (!w->first)
		w_putc(w, ',');
	w->first = 0;
	return w->error ? -1 : 0;
}

/* After a complete value. */
static void w_done(struct jw *w)
{
	if (w->depth == 0)
		w->done = 1;
}

static void w_begin(struct jw *w, int obj)
{
	if (w_value(w))
		return;
	if (w->depth >= w->max_depth) {
		w_fail(w, JW_E_DEPTH, 0);
		return;
	}
	if (obj)
		w->stack[w->depth / 8] |= (uint8_t)(1u << (w->depth % 8));
	else
		w->stack[w->depth / 8] &= (uint8_t) ~(1u << (w->depth % 8));
	w->depth++;
	w->first = 1;
	w_putc(w, obj ? '{' : '[');
}

static void w_end(struct jw *w, int obj)
{
	if (w->error)
		return;
	if (w->in_str || w->depth == 0 || w_top_obj(w) != obj || w->after_key) {
		w_fail(w, JW_E_STATE, 0);
		return;
	}
	w->depth--;
	w->first = 0;
	w_putc(w, obj ? '}' : ']');
	w_done(w);
}

void jw_obj_begin(struct jw *w) { w_begin(w, 1); }
void jw_obj_end(struct jw *w) { w_end(w, 1); }
void jw_arr_begin(struct jw *w) { w_begin(w, 0); }
void jw_arr_end(struct jw *w) { w_end(w, 0); }

static void w_escape(struct jw *w, uint8_t c)
{
	static const char hex[] = "0123456789abcdef";
	char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

	switch (c) {
	case '"': w_put(w, "\\\"", 2); return;
	case '\\': w_put(w, "\\\\", 2); return;
	case '\n': w_put(w, "\\n", 2); return;
	case '\t': w_put(w, "\\t", 2); return;
	case '\r': w_put(w, "\\r", 2); return;
	case '\b': w_put(w, "\\b", 2); return;
	case '\f': w_put(w, "\\f", 2); return;
	}
	w_put(w, e, 6);
}

/* U+2028 and U+2029 are valid in JSON but end lines in JavaScript. */
static int is_line_sep(const uint8_t *s)
{
	return s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9);
}

/* One complete, valid multi-byte sequence. */
static void w_seq(struct jw *w, const uint8_t *s, size_t l)
{
	if (l == 3 && is_line_sep(s))
		w_put(w, s[2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
	else
		w_put(w, s, l);
}

/* The body of a string, escaped, from one piece. A sequence cut at the end of
 * the piece waits in w->pend for the next one. */
static void w_str_bytes(struct jw *w, const uint8_t *s, size_t n)
{
	size_t i = 0, run, l;
	int trunc;

	while (w->npend && i < n) {
		w->pend[w->npend++] = s[i++];
		l = json_utf8_seq(w->pend, w->npend, &trunc);
		if (l) {
			w_seq(w, w->pend, l);
			w->npend = 0;
		} else if (!trunc) {
			w_fail(w, JW_E_UTF8, w->str_off + i - w->npend);
			return;
		}
	}
	run = i;
	while (i < n) {
		uint8_t c = s[i];

		if (json_plain_byte(c)) {
			i++;
			continue;
		}
		if (c < 0x80) {
			w_put(w, s + run, i - run);
			w_escape(w, c);
			run = ++i;
			continue;
		}
		l = json_utf8_seq(s + i, n - i, &trunc);
		if (!l) {
			if (!trunc) {
				w_fail(w, JW_E_UTF8, w->str_off + i);
				return;
			}
			w_put(w, s + run, i - run);
			memcpy(w->pend, s + i, n - i);
			w->npend = (uint8_t)(n - i);
			run = i = n;
			break;
		}
		if (l == 3 && is_line_sep(s + i)) {
			w_put(w, s + run, i - run);
			w_seq(w, s + i, l);
			run = i + l;
		}
		i += l; /* a valid sequence stays in the run */
	}
	if (i > run)
		w_put(w, s + run, i - run);
	w->str_off += n;
}

/* A whole quoted string (key or value), after the state checks. */
static void w_quoted(struct jw *w, const void *s, size_t n)
{
	w_putc(w, '"');
	w->str_off = 0;
	w->npend = 0;
	w_str_bytes(w, s, n);
	if (w->npend)
		w_fail(w, JW_E_UTF8, w->str_off - w->npend);
	w->npend = 0;
	w_putc(w, '"');
}

void jw_keyn(struct jw *w, const char *k, size_t n)
{
	if (w->error)
		return;
	if (w->in_str || !w_top_obj(w) || w->after_key) {
		w_fail(w, JW_E_STATE, 0);
		return;
	}
	if (!w->first)
		w_putc(w, ',');
	w->first = 0;
	w_quoted(w, k, n);
	w_putc(w, ':');
	w->after_key = 1;
}

void jw_key(struct jw *w, const char *k)
{
	if (!k) {
		w_fail(w, JW_E_STATE, 0);
		return;
	}
	jw_keyn(w, k, strlen(k));
}

void jw_strn(struct jw *w, const void *s, size_t n)
{
	if (w_value(w))
		return;
	w_quoted(w, s, n);
	w_done(w);
}

void jw_str(struct jw *w, const char *s)
{
	if (!s)
		jw_null(w);
	else
		jw_strn(w, s, strlen(s));
}

void jw_str_begin(struct jw *w)
{
	if (w_value(w))
		return;
	w_putc(w, '"');
	w->in_str = 1;
	w->str_off = 0;
	w->npend = 0;
}

void jw_str_piece(struct jw *w, const void *s, size_t n)
{
	if (w->error)
		return;
	if (!w->in_str) {
		w_fail(w, JW_E_STATE, 0);
		return;
	}
	w_str_bytes(w, s, n);
}

void jw_str_end(struct jw *w)
{
	if (w->error)
		return;
	if (!w->in_str) {
		w_fail(w, JW_E_STATE, 0);
		return;
	}
	if (w->npend) {
		w_fail(w, JW_E_UTF8, w->str_off - w->npend);
		return;
	}
	w->in_str = 0;
	w_putc(w, '"');
	w_done(w);
}

void jw_int(struct jw *w, int64_t v)
{
	char tmp[24], *q = tmp + sizeof tmp;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v; /* INT64_MIN too */

	if (w_value(w))
		return;
	do /* no snprintf: three per streamed chunk showed in the profile */
		*--q = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--q = '-';
	w_put(w, q, (size_t)(tmp + sizeof tmp - q));
	w_done(w);
}

void jw_double(struct jw *w, double v)
{
	char tmp[40];
	int n = 0, prec;

	if (!isfinite(v)) {
		w_fail(w, JW_E_NUMBER, 0);
		return;
	}
	if (w_value(w))
		return;
	/* the shortest %.Ng that reads back as the same double */
	for (prec = 15; prec <= 17; prec++) {
		n = snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	w_put(w, tmp, (size_t)n);
	w_done(w);
}

void jw_bool(struct jw *w, int v)
{
	if (w_value(w))
		return;
	if (v)
		w_put(w, "true", 4);
	else
		w_put(w, "false", 5);
	w_done(w);
}

void jw_null(struct jw *w)
{
	if (w_value(w))
		return;
	w_put(w, "null", 4);
	w_done(w);
}

void jw_raw(struct jw *w, const void *json, size_t n)
{
	struct slice v;
	size_t pos;

	if (w->error)
		return;
	if (json_validate(json, n, NULL, &pos, NULL)) {
		w_fail(w, JW_E_RAW, pos);
		return;
	}
	/* surrounding whitespace would break one-value-per-line output (JSON's
	 * four whitespace bytes are exactly what slice_trim drops) */
	v = slice_trim((struct slice){json, n});
	if (w_value(w))
		return;
	w_put(w, v.p, v.n);
	w_done(w);
}

void jw_tok(struct jw *w, const struct json_doc *d, int t)
{
	struct slice s;

	if (w->error)
		return;
	if (json_type(d, t) == JSON_NONE) {
		w_fail(w, JW_E_STATE, 0);
		return;
	}
	if (w_value(w))
		return;
	s = json_raw_value(d, t);
	w_put(w, s.p, s.n);
	w_done(w);
}

void jw_kstr(struct jw *w, const char *k, const char *v)
{
	jw_key(w, k);
	jw_str(w, v);
}

void jw_kstrn(struct jw *w, const char *k, const void *v, size_t n)
{
	jw_key(w, k);
	jw_strn(w, v, n);
}

void jw_kint(struct jw *w, const char *k, int64_t v)
{
	jw_key(w, k);
	jw_int(w, v);
}

void jw_kbool(struct jw *w, const char *k, int v)
{
	jw_key(w, k);
	jw_bool(w, v);
}

const char *jw_strerror(int code)
{
	switch (code) {
	case JW_OK: return "no error";
	case JW_E_NOMEM: return "output too large";
	case JW_E_UTF8: return "invalid UTF-8 in string";
	case JW_E_NUMBER: return "NaN or infinity";
	case JW_E_DEPTH: return "nesting too deep";
	case JW_E_STATE: return "malformed structure";
	case JW_E_RAW: return "raw value is not valid JSON";
	}
	return "unknown error";
}

int jw_finish(const struct jw *w, struct err *e)
{
	if (w->error == JW_E_UTF8 || w->error == JW_E_RAW)
		return err_set(e, w->error == JW_E_UTF8 ? ERR_USAGE : ERR_OTHER,
			       "json writer: %s at byte %zu", jw_strerror(w->error), w->errpos);
	if (w->error)
		return err_set(e, ERR_OTHER, "json writer: %s", jw_strerror(w->error));
	if (w->in_str || w->depth || w->after_key || !w->done)
		return err_set(e, ERR_OTHER, "json writer: %s", "incomplete value");
	return 0;
}

void jw_str_lossy(struct jw *w, const char *s)
{
	size_t n = strlen(s), bad;

	jw_str_begin(w);
	while (n) {
		if (json_utf8_valid(s, n, &bad)) {
			jw_str_piece(w, s, n);
			break;
		}
		jw_str_piece(w, s, bad);
		jw_str_piece(w, "?", 1);
		s += bad + 1;
		n -= bad + 1;
	}
	jw_str_end(w);
}
