/* json: the strict JSON reader: validation and tokens in one pass. See json.h.
 *
 * One pass. json_parse walks the bytes once with a pushdown automaton
 * (scan_doc: one state per grammar position, a bit stack for the nesting)
 * that checks RFC 8259 strictly (grammar, numbers, literals, escapes, control
 * characters, UTF-8, depth, exactly one value) and writes each token as it
 * goes: refined types (number/bool/null), offsets, member/element counts and
 * next-sibling links. Earlier versions validated, then ran jsmn_parse over the
 * same bytes, then rewrote jsmn's tokens: three passes.
 *
 * jsmn. The token representation is still jsmn's: struct json_tok has the
 * layout of jsmntok_t with JSMN_PARENT_LINKS (checked below against the
 * vendored jsmn.h), so callers and token arrays are unchanged. jsmn_parse is
 * no longer called: everything it did (find token boundaries, count
 * children) falls out of the validating automaton for free, while calling it
 * costs a second pass, a fix-up pass for types and links, and a consistency
 * check between two parsers that can only fail on a bug. jsmn stays the
 * reference in fuzz_json, which checks every accepted document token by token
 * against jsmn_parse (strict, parent links).
 *
 * When the caller's token array is too small, the pass goes on without
 * writing, so an invalid document still reports its first syntax error and a
 * valid one the exact number of tokens it needs (json_validate is the same
 * pass with no array at all). */
#include "wire/json.h"

#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/err.h"

/* The type only: jsmn's functions are neither defined nor called here. */
#define JSMN_HEADER
#define JSMN_PARENT_LINKS
#include "jsmn.h"

/* struct json_tok is jsmntok_t field for field (next in place of parent),
 * and the container and string types keep jsmn's numbers. */
_Static_assert(sizeof(jsmntok_t) == sizeof(struct json_tok), "token size");
_Static_assert(offsetof(jsmntok_t, type) == offsetof(struct json_tok, type), "type");
_Static_assert(offsetof(jsmntok_t, start) == offsetof(struct json_tok, start), "start");
_Static_assert(offsetof(jsmntok_t, end) == offsetof(struct json_tok, end), "end");
_Static_assert(offsetof(jsmntok_t, size) == offsetof(struct json_tok, size), "size");
_Static_assert(offsetof(jsmntok_t, parent) == offsetof(struct json_tok, next), "next");
_Static_assert(JSON_OBJECT == (int)JSMN_OBJECT && JSON_ARRAY == (int)JSMN_ARRAY &&
		       JSON_STRING == (int)JSMN_STRING,
	       "types");

/* ------------------------------------------------------------------------ */
/* UTF-8 (RFC 3629 table 3-7) */

size_t json_utf8_seq(const uint8_t *p, size_t n, int *trunc)
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
		l = json_utf8_seq(p + i, n - i, &trunc);
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

/* 1 when all 8 bytes at p are json_plain_byte: no byte has its high bit set, and
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
		while (i < len && json_plain_byte(p[i]))
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
		l = json_utf8_seq(p + i, len - i, &trunc);
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

/* ------------------------------------------------------------------------ */
/* The single pass: grammar and tokens */

/* Parser state. tok is NULL when only validating and counting (json_validate)
 * and becomes NULL when the caller's array is full (json_parse goes on
 * counting, so that an invalid document still reports its syntax error and a
 * valid one the exact number of tokens it needs). */
struct scan {
	const uint8_t *p;
	size_t len;
	struct json_tok *tok;
	int cap;
	int n;     /* tokens so far (written or counted) */
	int depth; /* open containers */
	int full;  /* the array ran out */
	uint8_t is_obj[JSON_MAX_DEPTH / 8]; /* 1 bit per level: 1 = object */
	int cont[JSON_MAX_DEPTH];           /* token of each open container */
	int last[JSON_MAX_DEPTH];           /* its last child (key or element), or -1 */
};

static int top_is_object(const struct scan *s)
{
	return (s->is_obj[(s->depth - 1) / 8] >> ((s->depth - 1) % 8)) & 1;
}

/* A new token starting at byte start; returns its index. */
static int emit(struct scan *s, int type, size_t start, int size)
{
	int i = s->n++;
	struct json_tok *t;

	if (!s->tok)
		return i;
	if (i >= s->cap) {
		s->tok = NULL;
		s->full = 1;
		return i;
	}
	t = &s->tok[i];
	t->type = type;
	t->start = (int)start;
	t->end = (int)start;
	t->size = size;
	t->next = -1;
	return i;
}

static void set_end(struct scan *s, int t, size_t end)
{
	if (s->tok)
		s->tok[t].end = (int)end;
}

/* Token i is the next element of the open array, or the next key of the open
 * object: count it and link the previous sibling to it (in an object the
 * previous member's value too, so that key and value both lead on). */
static void add_child(struct scan *s, int i)
{
	int d = s->depth - 1, prev;

	if (d < 0 || !s->tok)
		return;
	prev = s->last[d];
	if (prev >= 0) {
		s->tok[prev].next = i;
		if (top_is_object(s))
			s->tok[prev + 1].next = i;
	}
	s->last[d] = i;
	s->tok[s->cont[d]].size++;
}

static int open_container(struct scan *s, size_t at, int obj, const char **why)
{
	int t;

	if (s->depth >= JSON_MAX_DEPTH) {
		*why = "nesting too deep";
		return -1;
	}
	t = emit(s, obj ? JSON_OBJECT : JSON_ARRAY, at, 0);
	if (obj)
		s->is_obj[s->depth / 8] |= (uint8_t)(1u << (s->depth % 8));
	else
		s->is_obj[s->depth / 8] &= (uint8_t) ~(1u << (s->depth % 8));
	s->cont[s->depth] = t;
	s->last[s->depth] = -1;
	s->depth++;
	return 0;
}

/* The bracket at byte at closes the innermost container. */
static void close_container(struct scan *s, size_t at)
{
	s->depth--;
	set_end(s, s->cont[s->depth], at + 1);
}

static int scalar_type(uint8_t c)
{
	if (c == '"')
		return JSON_STRING;
	if (c == 't' || c == 'f')
		return JSON_BOOL;
	return c == 'n' ? JSON_NULL : JSON_NUMBER;
}

/* One scalar at *pi (a string value or key, number or literal): scans it and
 * emits its token (strings: the bytes between the quotes). key is 1 for an
 * object key (size 1: its value follows). */
static int scalar(struct scan *s, size_t *pi, int key, const char **why)
{
	int type = scalar_type(s->p[*pi]), t, r;

	if (type == JSON_STRING) {
		t = emit(s, type, *pi + 1, key);
		r = scan_string(s->p, s->len, pi, why);
		if (r == 0)
			set_end(s, t, *pi - 1); /* the closing quote */
		return r;
	}
	t = emit(s, type, *pi, 0);
	r = type == JSON_NUMBER ? scan_number(s->p, s->len, pi, why)
				: scan_literal(s->p, s->len, pi, why);
	set_end(s, t, *pi);
	return r;
}

/* One value: opens a container or scans a scalar; *st is updated. An array
 * element is linked to its parent first; an object's value needs no link (it
 * follows its key). */
static int v_value(struct scan *s, size_t *pi, enum vstate *st, const char **why)
{
	uint8_t c = s->p[*pi];

	if (s->depth > 0 && !top_is_object(s))
		add_child(s, s->n);
	if (c == '{' || c == '[') {
		if (open_container(s, *pi, c == '{', why))
			return -1;
		(*pi)++;
		*st = c == '{' ? V_KEY_OR_CLOSE : V_VALUE_OR_CLOSE;
		return 0;
	}
	if (c == '"' || c == 't' || c == 'f' || c == 'n' || c == '-' || is_digit(c)) {
		*st = V_AFTER;
		return scalar(s, pi, 0, why);
	}
	*why = "unexpected character";
	return -1;
}

/* After a value inside a container: ',' or the matching close. */
static int v_after(struct scan *s, size_t i, enum vstate *st, const char **why)
{
	int obj = top_is_object(s);

	if (s->p[i] == ',') {
		*st = obj ? V_KEY : V_VALUE;
		return 0;
	}
	if (s->p[i] == (obj ? '}' : ']')) {
		close_container(s, i);
		return 0;
	}
	*why = obj ? "expected ',' or '}'" : "expected ',' or ']'";
	return -1;
}

/* The pushdown automaton over the whole input: one state per grammar position
 * (enum vstate) and the bit stack in s for the nesting. It is one loop with a
 * switch because the states hand over to one another byte by byte; each
 * arm is a few lines and the work is in the helpers above. Returns 0, or -1
 * with *pos and *why describing the first error. */
static int scan_doc(struct scan *s, size_t *pos, const char **why)
{
	const uint8_t *p = s->p;
	size_t i = 0, len = s->len;
	enum vstate st = V_VALUE;

	for (;;) {
		while (i < len && is_ws(p[i]))
			i++;
		*pos = i;
		if (i >= len) {
			if (st == V_AFTER && s->depth == 0)
				return 0;
			*why = "unexpected end of input";
			return -1;
		}
		switch (st) {
		case V_VALUE_OR_CLOSE:
			if (p[i] == ']') {
				close_container(s, i++);
				st = V_AFTER;
				break;
			}
			/* fall through */
		case V_VALUE:
			if (v_value(s, &i, &st, why)) {
				*pos = i;
				return -1;
			}
			break;
		case V_KEY_OR_CLOSE:
			if (p[i] == '}') {
				close_container(s, i++);
				st = V_AFTER;
				break;
			}
			/* fall through */
		case V_KEY:
			if (p[i] != '"') {
				*why = "expected a string key";
				return -1;
			}
			add_child(s, s->n);
			if (scalar(s, &i, 1, why)) {
				*pos = i;
				return -1;
			}
			st = V_COLON;
			break;
		case V_COLON:
			if (p[i] != ':') {
				*why = "expected ':'";
				return -1;
			}
			i++;
			st = V_VALUE;
			break;
		case V_AFTER:
			if (s->depth == 0) {
				*why = "trailing data after the value";
				return -1;
			}
			if (v_after(s, i, &st, why))
				return -1;
			i++;
			break;
		}
	}
}

/* Scans js[0..len) into tok[0..cap) (tok NULL: count only). Returns 0 with
 * *n tokens, or -1 with e and *errpos set; when the array is too small the
 * whole input is still checked, and *n is the number needed. */
static int scan_run(const char *js, size_t len, struct json_tok *tok, int cap, int *n,
		    int *full, size_t *errpos, struct err *e)
{
	struct scan s;
	const char *why = "unexpected character";
	size_t pos = 0;

	if (len > JSON_MAX_LEN)
		return json_fail(0, "document too large", errpos, e);
	s.p = (const uint8_t *)js;
	s.len = len;
	s.tok = tok;
	s.cap = tok ? cap : 0;
	s.n = 0;
	s.depth = 0;
	s.full = 0;
	if (scan_doc(&s, &pos, &why))
		return json_fail(pos, why, errpos, e);
	*n = s.n;
	*full = s.full;
	return 0;
}

int json_validate(const char *js, size_t len, int *ntok, size_t *errpos, struct err *e)
{
	int n, full;

	if (scan_run(js, len, NULL, 0, &n, &full, errpos, e))
		return -1;
	if (ntok)
		*ntok = n;
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

static int too_many(struct json_doc *d, int n, int limit, struct err *e)
{
	d->errpos = d->len;
	return err_set(e, ERR_PROTO, "json: too many tokens (%d needed, limit %d)", n, limit);
}

int json_parse(struct json_doc *d, const char *js, size_t len, struct json_tok *tok, int cap,
	       struct err *e)
{
	int n, full;

	doc_init(d, js, len);
	if (scan_run(js, len, tok, cap, &n, &full, &d->errpos, e))
		return -1;
	if (full)
		return too_many(d, n, cap, e);
	d->tok = tok;
	d->cap = cap;
	d->ntok = n;
	return 0;
}

/* Two passes here, by design: the count first, so that the one allocation is
 * exactly the size needed (and a document over max_tok costs no memory). */
int json_parse_alloc(struct json_doc *d, const char *js, size_t len, int max_tok, struct err *e)
{
	struct json_tok *tok;
	int n;

	doc_init(d, js, len);
	if (json_validate(js, len, &n, &d->errpos, e))
		return -1;
	if (n > max_tok)
		return too_many(d, n, max_tok, e);
	tok = malloc((size_t)n * sizeof(*tok));
	if (!tok)
		return err_set(e, ERR_OTHER, "json: out of memory for %d tokens", n);
	if (json_parse(d, js, len, tok, n, e)) {
		free(tok);
		return -1;
	}
	d->owned = 1;
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
