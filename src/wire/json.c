/* json: strict JSON reader (validator + jsmn tokens) and writer. See json.h.
 *
 * Why a validator in front of jsmn: jsmn tokenises but does not check the
 * grammar ({"a":}, {}{}, [1 2], 01, tru, raw control characters, bad UTF-8
 * all get through). json_validate is a single-pass pushdown automaton over the
 * bytes with a bit stack for the nesting; it also counts the tokens, so jsmn
 * only ever runs on valid input with an array of the right size. A fix-up pass
 * then turns jsmn's tokens into ours: refined types (number/bool/null instead
 * of "primitive") and next-sibling links in place of parent links. */
#include "wire/json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/err.h"

#define JSMN_STATIC
#define JSMN_PARENT_LINKS
#include "jsmn.h"

/* json_parse hands the caller's struct json_tok array to jsmn as jsmntok_t:
 * the layouts must agree field for field. */
_Static_assert(sizeof(jsmntok_t) == sizeof(struct json_tok), "token size");
_Static_assert(offsetof(jsmntok_t, start) == offsetof(struct json_tok, start), "start");
_Static_assert(offsetof(jsmntok_t, end) == offsetof(struct json_tok, end), "end");
_Static_assert(offsetof(jsmntok_t, size) == offsetof(struct json_tok, size), "size");
_Static_assert(offsetof(jsmntok_t, parent) == offsetof(struct json_tok, next), "next");

/* ------------------------------------------------------------------------ */
/* UTF-8 (RFC 3629 table 3-7) */

/* Length of the valid sequence at p[0..n), or 0. When the bytes are a valid
 * prefix cut short by n, *trunc is set (the writer waits for the next piece). */
static size_t utf8_seq(const uint8_t *p, size_t n, int *trunc)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xBF;
	size_t len, i;

	*trunc = 0;
	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0; /* continuation byte, or overlong 2-byte lead */
	if (c < 0xE0) {
		len = 2;
	} else if (c < 0xF0) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* UTF-16 surrogates */
	} else if (c < 0xF5) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* > U+10FFFF */
	} else {
		return 0;
	}
	for (i = 1; i < len; i++) {
		if (i >= n) {
			*trunc = 1;
			return 0;
		}
		if (p[i] < lo || p[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xBF;
	}
	return len;
}

int json_utf8_valid(const void *s, size_t n, size_t *bad)
{
	const uint8_t *p = s;
	size_t i = 0, l;
	int trunc;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		l = utf8_seq(p + i, n - i, &trunc);
		if (!l) {
			if (bad)
				*bad = i;
			return 0;
		}
		i += l;
	}
	return 1;
}

/* ------------------------------------------------------------------------ */
/* Validator */

static int is_ws(uint8_t c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* A byte a string can hold as is (the fast path of every string loop). */
static int str_plain(uint8_t c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* 1 when all 8 bytes at p are str_plain: no byte has its high bit set, and
 * then x - 0x20.., (x ^ '"') - 0x01.. and (x ^ '\\') - 0x01.. set a high bit
 * exactly when some byte is a control, a quote or a backslash (a borrow
 * starts only at such a byte). Long text runs go 8 bytes per step. */
static int plain8(const uint8_t *p)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	uint64_t x;

	memcpy(&x, p, 8);
	return ((x | (x - ones * 0x20) | ((x ^ (ones * '"')) - ones) |
		 ((x ^ (ones * '\\')) - ones)) & high) == 0;
}

/* p[*pi] is the opening quote; on success *pi is just past the closing one.
 * On failure *pi is the offending byte. */
static int scan_string(const uint8_t *p, size_t len, size_t *pi, const char **why)
{
	size_t i = *pi + 1, l;
	int trunc, k;

	for (;;) {
		while (len - i >= 8 && plain8(p + i))
			i += 8;
		while (i < len && str_plain(p[i]))
			i++;
		if (i >= len) {
			*why = "unterminated string";
			*pi = i;
			return -1;
		}
		if (p[i] == '"') {
			*pi = i + 1;
			return 0;
		}
		if (p[i] == '\\') {
			if (i + 1 >= len) {
				*why = "unterminated string";
				*pi = len;
				return -1;
			}
			switch (p[i + 1]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				i += 2;
				continue;
			case 'u':
				for (k = 2; k < 6; k++) {
					if (i + k >= len || hex_digit(p[i + k]) < 0) {
						*why = "invalid \\u escape";
						*pi = i;
						return -1;
					}
				}
				i += 6;
				continue;
			default:
				*why = "invalid escape";
				*pi = i;
				return -1;
			}
		}
		if (p[i] < 0x20) {
			*why = "control character in string";
			*pi = i;
			return -1;
		}
		l = utf8_seq(p + i, len - i, &trunc);
		if (!l) {
			*why = "invalid UTF-8";
			*pi = i;
			return -1;
		}
		i += l;
	}
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and nothing number-like
 * directly after it (so "01", "1.", "1e", "-" fail here with a clear reason). */
static int scan_number(const uint8_t *p, size_t len, size_t *pi, const char **why)
{
	size_t i = *pi;

	*why = "invalid number";
	if (p[i] == '-')
		i++;
	if (i >= len || !is_digit(p[i]))
		goto bad;
	if (p[i] == '0') {
		i++;
	} else {
		while (i < len && is_digit(p[i]))
			i++;
	}
	if (i < len && p[i] == '.') {
		i++;
		if (i >= len || !is_digit(p[i]))
			goto bad;
		while (i < len && is_digit(p[i]))
			i++;
	}
	if (i < len && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < len && (p[i] == '+' || p[i] == '-'))
			i++;
		if (i >= len || !is_digit(p[i]))
			goto bad;
		while (i < len && is_digit(p[i]))
			i++;
	}
	if (i < len && (is_digit(p[i]) || p[i] == '.' || p[i] == 'e' || p[i] == 'E' ||
			p[i] == '+' || p[i] == '-'))
		goto bad;
	*pi = i;
	return 0;
bad:
	*pi = i < len ? i : len;
	return -1;
}

static int scan_literal(const uint8_t *p, size_t len, size_t *pi, const char **why)
{
	static const char *const lits[] = {"true", "false", "null"};
	size_t i = *pi, k, n;

	for (k = 0; k < 3; k++) {
		n = strlen(lits[k]);
		if (p[i] != (uint8_t)lits[k][0])
			continue;
		if (len - i < n || memcmp(p + i, lits[k], n) != 0)
			break;
		i += n;
		if (i < len && ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
				is_digit(p[i])))
			break;
		*pi = i;
		return 0;
	}
	*why = "invalid literal";
	return -1;
}

enum vstate {
	V_VALUE,          /* a value is due */
	V_VALUE_OR_CLOSE, /* just after '[' */
	V_KEY,            /* after ',' in an object */
	V_KEY_OR_CLOSE,   /* just after '{' */
	V_COLON,          /* after a key */
	V_AFTER           /* after a value */
};

static int json_fail(size_t pos, const char *why, size_t *errpos, struct err *e)
{
	if (errpos)
		*errpos = pos;
	return err_set(e, ERR_PROTO, "json: %s at byte %zu", why, pos);
}

/* One value: pushes containers, scans scalars; *st is updated. */
static int v_value(const uint8_t *p, size_t len, size_t *pi, enum vstate *st, uint8_t *stack,
		   int *depth, const char **why)
{
	uint8_t c = p[*pi];

	switch (c) {
	case '{':
	case '[':
		if (*depth >= JSON_MAX_DEPTH) {
			*why = "nesting too deep";
			return -1;
		}
		if (c == '{')
			stack[*depth / 8] |= (uint8_t)(1u << (*depth % 8));
		else
			stack[*depth / 8] &= (uint8_t) ~(1u << (*depth % 8));
		(*depth)++;
		(*pi)++;
		*st = c == '{' ? V_KEY_OR_CLOSE : V_VALUE_OR_CLOSE;
		return 0;
	case '"':
		*st = V_AFTER;
		return scan_string(p, len, pi, why);
	case 't':
	case 'f':
	case 'n':
		*st = V_AFTER;
		return scan_literal(p, len, pi, why);
	default:
		if (c == '-' || is_digit(c)) {
			*st = V_AFTER;
			return scan_number(p, len, pi, why);
		}
		*why = "unexpected character";
		return -1;
	}
}

static int top_is_object(const uint8_t *stack, int depth)
{
	return (stack[(depth - 1) / 8] >> ((depth - 1) % 8)) & 1;
}

int json_validate(const char *js, size_t len, int *ntok, size_t *errpos, struct err *e)
{
	const uint8_t *p = (const uint8_t *)js;
	uint8_t stack[JSON_MAX_DEPTH / 8];
	enum vstate st = V_VALUE;
	const char *why = "unexpected character";
	size_t i = 0;
	int depth = 0, n = 0;

	if (len > JSON_MAX_LEN)
		return json_fail(0, "document too large", errpos, e);
	for (;;) {
		while (i < len && is_ws(p[i]))
			i++;
		if (i >= len) {
			if (st == V_AFTER && depth == 0)
				break;
			return json_fail(i, "unexpected end of input", errpos, e);
		}
		switch (st) {
		case V_VALUE_OR_CLOSE:
			if (p[i] == ']') {
				depth--;
				i++;
				st = V_AFTER;
				break;
			}
			/* fall through */
		case V_VALUE:
			n++;
			if (v_value(p, len, &i, &st, stack, &depth, &why))
				return json_fail(i, why, errpos, e);
			break;
		case V_KEY_OR_CLOSE:
			if (p[i] == '}') {
				depth--;
				i++;
				st = V_AFTER;
				break;
			}
			/* fall through */
		case V_KEY:
			if (p[i] != '"')
				return json_fail(i, "expected a string key", errpos, e);
			n++;
			if (scan_string(p, len, &i, &why))
				return json_fail(i, why, errpos, e);
			st = V_COLON;
			break;
		case V_COLON:
			if (p[i] != ':')
				return json_fail(i, "expected ':'", errpos, e);
			i++;
			st = V_VALUE;
			break;
		case V_AFTER:
			if (depth == 0)
				return json_fail(i, "trailing data after the value", errpos, e);
			if (p[i] == ',') {
				st = top_is_object(stack, depth) ? V_KEY : V_VALUE;
			} else if (p[i] == (top_is_object(stack, depth) ? '}' : ']')) {
				depth--;
			} else {
				return json_fail(i, top_is_object(stack, depth) ? "expected ',' or '}'"
									  : "expected ',' or ']'",
						 errpos, e);
			}
			i++;
			break;
		}
	}
	if (ntok)
		*ntok = n;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Tokens */

struct fix_ent {
	int idx;       /* container or key token */
	int remaining; /* children still to come */
	int last;      /* last child seen, or -1 */
	int is_obj;
};

/* Converts jsmn's tokens in place: refined types, next-sibling links. jsmn
 * wrote the array through jsmntok_t; each token is read back with memcpy
 * before it is rewritten as struct json_tok, so no access crosses the types. */
static int fix_tokens(struct json_doc *d)
{
	struct fix_ent stack[2 * JSON_MAX_DEPTH + 2];
	int sp = 0, i;

	for (i = 0; i < d->ntok; i++) {
		jsmntok_t jt;
		struct json_tok *t = &d->tok[i];

		memcpy(&jt, (const char *)d->tok + (size_t)i * sizeof(jt), sizeof(jt));
		t->start = jt.start;
		t->end = jt.end;
		t->size = jt.size;
		t->next = -1;
		switch (jt.type) {
		case JSMN_OBJECT: t->type = JSON_OBJECT; break;
		case JSMN_ARRAY: t->type = JSON_ARRAY; break;
		case JSMN_STRING: t->type = JSON_STRING; break;
		case JSMN_PRIMITIVE:
			if (jt.start < 0 || (size_t)jt.start >= d->len)
				return -1;
			switch (d->js[jt.start]) {
			case 't': case 'f': t->type = JSON_BOOL; break;
			case 'n': t->type = JSON_NULL; break;
			default: t->type = JSON_NUMBER; break;
			}
			break;
		default:
			return -1;
		}
		if (jt.start < 0 || jt.end < jt.start || (size_t)jt.end > d->len)
			return -1;
		if (sp > 0) {
			struct fix_ent *top = &stack[sp - 1];

			if (top->remaining <= 0)
				return -1;
			if (top->last >= 0) {
				d->tok[top->last].next = i;
				if (top->is_obj) /* the previous member's value too */
					d->tok[top->last + 1].next = i;
			}
			if (top->is_obj && t->type != JSON_STRING)
				return -1;
			top->last = i;
			top->remaining--;
		} else if (i != 0) {
			return -1; /* a second root */
		}
		if (t->size > 0) {
			if (sp >= (int)(sizeof(stack) / sizeof(stack[0])))
				return -1;
			stack[sp].idx = i;
			stack[sp].remaining = t->size;
			stack[sp].last = -1;
			stack[sp].is_obj = t->type == JSON_OBJECT;
			sp++;
		} else {
			while (sp > 0 && stack[sp - 1].remaining == 0)
				sp--;
		}
	}
	return sp == 0 ? 0 : -1;
}

static int tokenise(struct json_doc *d, struct err *e)
{
	jsmn_parser jp;
	int r;

	jsmn_init(&jp);
	r = jsmn_parse(&jp, d->js, d->len, (jsmntok_t *)(void *)d->tok, (unsigned)d->cap);
	if (r != d->ntok || fix_tokens(d) != 0)
		return err_set(e, ERR_OTHER, "json: tokeniser disagrees with the validator");
	return 0;
}

static void doc_init(struct json_doc *d, const char *js, size_t len)
{
	d->js = js;
	d->len = len;
	d->tok = NULL;
	d->ntok = 0;
	d->cap = 0;
	d->owned = 0;
	d->errpos = 0;
}

int json_parse(struct json_doc *d, const char *js, size_t len, struct json_tok *tok, int cap,
	       struct err *e)
{
	int n;

	doc_init(d, js, len);
	if (json_validate(js, len, &n, &d->errpos, e))
		return -1;
	if (n > cap) {
		d->errpos = len;
		return err_set(e, ERR_PROTO, "json: too many tokens (%d needed, limit %d)", n, cap);
	}
	d->tok = tok;
	d->cap = cap;
	d->ntok = n;
	return tokenise(d, e);
}

int json_parse_alloc(struct json_doc *d, const char *js, size_t len, int max_tok, struct err *e)
{
	int n;

	doc_init(d, js, len);
	if (json_validate(js, len, &n, &d->errpos, e))
		return -1;
	if (n > max_tok) {
		d->errpos = len;
		return err_set(e, ERR_PROTO, "json: too many tokens (%d needed, limit %d)", n,
			       max_tok);
	}
	d->tok = malloc((size_t)n * sizeof(*d->tok));
	if (!d->tok)
		return err_set(e, ERR_OTHER, "json: out of memory for %d tokens", n);
	d->owned = 1;
	d->cap = n;
	d->ntok = n;
	if (tokenise(d, e)) {
		json_doc_free(d);
		return -1;
	}
	return 0;
}

void json_doc_free(struct json_doc *d)
{
	if (d->owned)
		free(d->tok);
	d->tok = NULL;
	d->ntok = d->cap = 0;
	d->owned = 0;
}

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

		if (!is_digit(r.p[i]))
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

/* ------------------------------------------------------------------------ */
/* Writer */

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
		l = utf8_seq(w->pend, w->npend, &trunc);
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

		if (str_plain(c)) {
			i++;
			continue;
		}
		if (c < 0x80) {
			w_put(w, s + run, i - run);
			w_escape(w, c);
			run = ++i;
			continue;
		}
		l = utf8_seq(s + i, n - i, &trunc);
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
	char tmp[24];
	int n;

	if (w_value(w))
		return;
	n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	w_put(w, tmp, (size_t)n);
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
	const uint8_t *p = json;
	size_t pos;

	if (w->error)
		return;
	if (json_validate(json, n, NULL, &pos, NULL)) {
		w_fail(w, JW_E_RAW, pos);
		return;
	}
	/* surrounding whitespace would break one-value-per-line output */
	while (n && is_ws(p[n - 1]))
		n--;
	while (n && is_ws(*p)) {
		p++;
		n--;
	}
	if (w_value(w))
		return;
	w_put(w, p, n);
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
