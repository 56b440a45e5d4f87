/* json5: JSON5 reader with byte spans (see json5.h). A recursive-descent
 * parser bounded by J5_MAX_DEPTH; line and column are computed only when an
 * error is reported, so the happy path tracks offsets alone. */
#include "wire/json5.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"

struct j5p {
	struct j5_doc *d;
	const uint8_t *s;
	size_t n, i;
	int depth;
	struct err *e;
};

/* ---- UTF-8 ---------------------------------------------------------------- */

/* Decodes one code point at s[i..n); returns its length, 0 when invalid. */
static size_t utf8_dec(const uint8_t *s, size_t n, size_t i, uint32_t *cp)
{
	uint8_t c = s[i];
	size_t len;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2, v = c & 0x1F, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3, v = c & 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n - i < len)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((s[i + k] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i + k] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

static int utf8_put(struct buf *out, uint32_t cp)
{
	uint8_t b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (uint8_t)cp, n = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xC0 | (cp >> 6)), b[1] = (uint8_t)(0x80 | (cp & 0x3F)), n = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xE0 | (cp >> 12)), b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (uint8_t)(0x80 | (cp & 0x3F)), n = 3;
	} else {
		b[0] = (uint8_t)(0xF0 | (cp >> 18)), b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return buf_append(out, b, n);
}

static int is_line_term(uint32_t cp)
{
	return cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029;
}

static int is_space(uint32_t cp)
{
	switch (cp) {
	case ' ': case '\t': case '\n': case '\r': case 0x0B: case 0x0C:
	case 0xA0: case 0xFEFF: case 0x2028: case 0x2029: case 0x1680:
	case 0x202F: case 0x205F: case 0x3000:
		return 1;
	default:
		return cp >= 0x2000 && cp <= 0x200A;
	}
}

static int is_id_start(uint32_t cp)
{
	return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '$' || cp == '_' ||
	       (cp >= 0x80 && !is_space(cp));
}

static int is_id_part(uint32_t cp)
{
	/* ZWNJ/ZWJ and combining marks are >= 0x80 and so covered */
	return is_id_start(cp) || (cp >= '0' && cp <= '9');
}

static int hex_n(const uint8_t *s, size_t n, size_t i, size_t k, uint32_t *v)
{
	*v = 0;
	if (n - i < k)
		return -1;
	for (size_t j = 0; j < k; j++) {
		int h = hex_digit(s[i + j]);
		if (h < 0)
			return -1;
		*v = (*v << 4) | (uint32_t)h;
	}
	return 0;
}

/* ---- errors ----------------------------------------------------------------- */

static void line_col(const uint8_t *s, size_t n, size_t off, uint32_t *line, uint32_t *col)
{
	uint32_t l = 1, c = 1;

	if (off > n)
		off = n;
	for (size_t i = 0; i < off; i++) {
		uint8_t b = s[i];
		if (b == '\n' || (b == '\r' && (i + 1 >= n || s[i + 1] != '\n'))) {
			l++, c = 1;
		} else if (b == 0xE2 && i + 2 < n && s[i + 1] == 0x80 &&
			   (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)) {
			l++, c = 1, i += 2;
		} else if (b != '\r' && (b & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l, *col = c;
}

static int fail_at(struct j5p *p, size_t off, const char *msg)
{
	struct j5_doc *d = p->d;

	line_col(p->s, p->n, off, &d->err_line, &d->err_col);
	d->err_off = (uint32_t)off;
	snprintf(d->err_msg, sizeof d->err_msg, "%s", msg);
	return err_set(p->e, ERR_USAGE, "%u:%u: %s", (unsigned)d->err_line, (unsigned)d->err_col,
		       msg);
}

/* "unexpected 'x'" / "unexpected end of input" with a suffix. */
static int fail_unexpected(struct j5p *p, const char *want)
{
	char msg[96];

	if (p->i >= p->n)
		snprintf(msg, sizeof msg, "unexpected end of input, %s", want);
	else if (p->s[p->i] >= 0x21 && p->s[p->i] < 0x7F)
		snprintf(msg, sizeof msg, "%s", want);
	else
		snprintf(msg, sizeof msg, "unexpected byte 0x%02x, %s", p->s[p->i], want);
	return fail_at(p, p->i, msg);
}

/* ---- lexing ------------------------------------------------------------------ */

/* Skips white space and comments; -1 on an unterminated comment or bad UTF-8. */
static int skip_ws(struct j5p *p)
{
	while (p->i < p->n) {
		uint8_t c = p->s[p->i];
		uint32_t cp;
		size_t len;

		if (c == '/' && p->i + 1 < p->n && p->s[p->i + 1] == '/') {
			p->i += 2;
			while (p->i < p->n) {
				if (!(len = utf8_dec(p->s, p->n, p->i, &cp)))
					return fail_at(p, p->i, "invalid UTF-8");
				if (is_line_term(cp))
					break;
				p->i += len;
			}
			continue;
		}
		if (c == '/' && p->i + 1 < p->n && p->s[p->i + 1] == '*') {
			size_t at = p->i;
			p->i += 2;
			for (;;) {
				if (p->i + 1 >= p->n) {
					p->i = p->n;
					return fail_at(p, at, "unterminated comment");
				}
				if (p->s[p->i] == '*' && p->s[p->i + 1] == '/')
					break;
				if (!(len = utf8_dec(p->s, p->n, p->i, &cp)))
					return fail_at(p, p->i, "invalid UTF-8");
				p->i += len;
			}
			p->i += 2;
			continue;
		}
		if (!(len = utf8_dec(p->s, p->n, p->i, &cp)))
			return fail_at(p, p->i, "invalid UTF-8");
		if (!is_space(cp))
			return 0;
		p->i += len;
	}
	return 0;
}

/* Scans a quoted string starting at the quote; validates escapes and UTF-8. */
static int scan_string(struct j5p *p)
{
	uint8_t q = p->s[p->i];
	size_t at = p->i;

	p->i++;
	for (;;) {
		uint32_t cp, v;
		size_t len;

		if (p->i >= p->n)
			return fail_at(p, at, "unterminated string");
		if (p->s[p->i] == q) {
			p->i++;
			return 0;
		}
		if (!(len = utf8_dec(p->s, p->n, p->i, &cp)))
			return fail_at(p, p->i, "invalid UTF-8 in string");
		if (cp == '\n' || cp == '\r')
			return fail_at(p, p->i, "unterminated string (use \\n for a line break)");
		if (cp != '\\') {
			p->i += len;
			continue;
		}
		size_t esc = p->i++;
		if (p->i >= p->n)
			return fail_at(p, at, "unterminated string");
		uint8_t c = p->s[p->i];
		if (c == 'x') {
			if (hex_n(p->s, p->n, p->i + 1, 2, &v) < 0)
				return fail_at(p, esc, "bad \\x escape (want two hex digits)");
			p->i += 3;
		} else if (c == 'u') {
			if (hex_n(p->s, p->n, p->i + 1, 4, &v) < 0)
				return fail_at(p, esc, "bad \\u escape (want four hex digits)");
			p->i += 5;
			if (v >= 0xDC00 && v <= 0xDFFF)
				return fail_at(p, esc, "lone low surrogate in \\u escape");
			if (v >= 0xD800 && v <= 0xDBFF) {
				uint32_t lo;
				if (p->n - p->i < 2 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u' ||
				    hex_n(p->s, p->n, p->i + 2, 4, &lo) < 0 || lo < 0xDC00 ||
				    lo > 0xDFFF)
					return fail_at(p, esc, "lone high surrogate in \\u escape");
				p->i += 6;
			}
		} else if (c >= '1' && c <= '9') {
			return fail_at(p, esc, "octal and digit escapes are not allowed");
		} else if (c == '0') {
			if (p->i + 1 < p->n && p->s[p->i + 1] >= '0' && p->s[p->i + 1] <= '9')
				return fail_at(p, esc, "\\0 must not be followed by a digit");
			p->i++;
		} else if (c == '\r') {
			p->i += (p->i + 1 < p->n && p->s[p->i + 1] == '\n') ? 2 : 1;
		} else {
			/* one escaped character, any code point (line continuation too) */
			if (!(len = utf8_dec(p->s, p->n, p->i, &cp)))
				return fail_at(p, p->i, "invalid UTF-8 in string");
			p->i += len;
		}
	}
}

/* Scans an identifier name (keys, literals); \uXXXX escapes allowed. */
static int scan_ident(struct j5p *p)
{
	int first = 1;

	while (p->i < p->n) {
		uint32_t cp;
		size_t len, at = p->i;

		if (p->s[p->i] == '\\') {
			if (p->n - p->i < 2 || p->s[p->i + 1] != 'u' ||
			    hex_n(p->s, p->n, p->i + 2, 4, &cp) < 0)
				return fail_at(p, at, "bad escape in identifier");
			len = 6;
			if (cp >= 0xD800 && cp <= 0xDFFF)
				return fail_at(p, at, "surrogate escape in identifier");
		} else if (!(len = utf8_dec(p->s, p->n, p->i, &cp))) {
			return fail_at(p, at, "invalid UTF-8");
		}
		if (first ? !is_id_start(cp) : !is_id_part(cp)) {
			if (p->s[p->i] == '\\')
				return fail_at(p, at, "escape is not an identifier character");
			break;
		}
		first = 0;
		p->i += len;
	}
	return 0;
}

static int at_word(const struct j5p *p, const char *w)
{
	size_t k = strlen(w);
	return p->n - p->i >= k && memcmp(p->s + p->i, w, k) == 0;
}

/* After a number or literal the next character must not continue it. */
static int word_ends(struct j5p *p)
{
	uint32_t cp;

	if (p->i >= p->n)
		return 0;
	if (p->s[p->i] == '\\')
		return fail_at(p, p->i, "unexpected character after value");
	if (utf8_dec(p->s, p->n, p->i, &cp) && is_id_part(cp))
		return fail_at(p, p->i, "unexpected character after value");
	return 0;
}

static int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static int scan_number(struct j5p *p)
{
	size_t at = p->i, digits = 0;

	if (p->s[p->i] == '+' || p->s[p->i] == '-')
		p->i++;
	if (at_word(p, "Infinity")) {
		p->i += 8;
	} else if (at_word(p, "NaN")) {
		p->i += 3;
	} else if (p->n - p->i >= 2 && p->s[p->i] == '0' && (p->s[p->i + 1] | 0x20) == 'x') {
		p->i += 2;
		while (p->i < p->n && hex_digit(p->s[p->i]) >= 0)
			p->i++, digits++;
		if (!digits)
			return fail_at(p, at, "bad hex number");
	} else {
		if (p->i < p->n && p->s[p->i] == '0' && p->i + 1 < p->n && is_digit(p->s[p->i + 1]))
			return fail_at(p, at, "numbers must not have leading zeros");
		while (p->i < p->n && is_digit(p->s[p->i]))
			p->i++, digits++;
		if (p->i < p->n && p->s[p->i] == '.') {
			p->i++;
			while (p->i < p->n && is_digit(p->s[p->i]))
				p->i++, digits++;
		}
		if (!digits)
			return fail_at(p, at, "bad number");
		if (p->i < p->n && (p->s[p->i] | 0x20) == 'e') {
			size_t ed = 0;
			p->i++;
			if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
				p->i++;
			while (p->i < p->n && is_digit(p->s[p->i]))
				p->i++, ed++;
			if (!ed)
				return fail_at(p, at, "bad number exponent");
		}
	}
	if (p->i - at > J5_MAX_NUMLEN)
		return fail_at(p, at, "number literal too long");
	return word_ends(p);
}

/* ---- tree ------------------------------------------------------------------- */

static uint32_t add_node(struct j5p *p, uint8_t type, uint32_t parent)
{
	struct j5_doc *d = p->d;
	struct j5_node *nd;

	if (d->count == d->cap) {
		uint32_t ncap = d->cap ? d->cap * 2 : 64;
		struct j5_node *nn;
		if (d->cap >= J5_MAX_NODES) {
			fail_at(p, p->i, "too many values");
			return J5_NONE;
		}
		if (ncap > J5_MAX_NODES)
			ncap = J5_MAX_NODES;
		nn = realloc(d->nodes, ncap * sizeof *nn);
		if (!nn) {
			err_set(p->e, ERR_OTHER, "out of memory");
			return J5_NONE;
		}
		d->nodes = nn, d->cap = ncap;
	}
	nd = &d->nodes[d->count];
	memset(nd, 0, sizeof *nd);
	nd->type = type;
	nd->start = (uint32_t)p->i;
	nd->comma = J5_NONE;
	nd->parent = parent;
	nd->key_start = nd->key_end = nd->start;
	return d->count++;
}

static int parse_value(struct j5p *p, uint32_t parent, uint32_t *out);

/* Parses the items of an object or array after its opening bracket. */
static int parse_items(struct j5p *p, uint32_t self, int is_obj)
{
	uint8_t close = is_obj ? '}' : ']';
	const char *want = is_obj ? "expected ',' or '}'" : "expected ',' or ']'";

	for (;;) {
		uint32_t ks = 0, ke = 0, child;

		if (skip_ws(p) < 0)
			return -1;
		if (p->i < p->n && p->s[p->i] == close)
			break;
		if (is_obj) {
			ks = (uint32_t)p->i;
			if (p->i < p->n && (p->s[p->i] == '"' || p->s[p->i] == '\'')) {
				if (scan_string(p) < 0)
					return -1;
			} else {
				if (scan_ident(p) < 0)
					return -1;
				if (p->i == ks)
					return fail_unexpected(p, "expected a key or '}'");
			}
			ke = (uint32_t)p->i;
			if (skip_ws(p) < 0)
				return -1;
			if (p->i >= p->n || p->s[p->i] != ':')
				return fail_unexpected(p, "expected ':' after the key");
			p->i++;
			if (skip_ws(p) < 0)
				return -1;
		}
		if (parse_value(p, self, &child) < 0)
			return -1;
		p->d->nodes[self].count++;
		if (is_obj) {
			p->d->nodes[child].flags |= J5_F_MEMBER;
			p->d->nodes[child].key_start = ks;
			p->d->nodes[child].key_end = ke;
		}
		if (skip_ws(p) < 0)
			return -1;
		if (p->i < p->n && p->s[p->i] == ',') {
			p->d->nodes[child].comma = (uint32_t)p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == close)
			break;
		return fail_unexpected(p, want);
	}
	p->i++;
	return 0;
}

static int parse_value(struct j5p *p, uint32_t parent, uint32_t *out)
{
	uint32_t self;
	uint8_t c, type;

	if (p->i >= p->n)
		return fail_unexpected(p, "expected a value");
	c = p->s[p->i];
	if (c == '{' || c == '[') {
		type = c == '{' ? J5_OBJECT : J5_ARRAY;
	} else if (c == '"' || c == '\'') {
		type = J5_STRING;
	} else if (is_digit(c) || c == '.' || c == '+' || c == '-' || at_word(p, "Infinity") ||
		   at_word(p, "NaN")) {
		type = J5_NUMBER;
	} else if (at_word(p, "true") || at_word(p, "false")) {
		type = J5_BOOL;
	} else if (at_word(p, "null")) {
		type = J5_NULL;
	} else {
		return fail_unexpected(p, "expected a value");
	}
	if ((self = add_node(p, type, parent)) == J5_NONE)
		return -1;
	*out = self;
	switch (type) {
	case J5_OBJECT:
	case J5_ARRAY:
		if (++p->depth > J5_MAX_DEPTH)
			return fail_at(p, p->i, "nesting too deep");
		p->i++;
		if (parse_items(p, self, type == J5_OBJECT) < 0)
			return -1;
		p->depth--;
		break;
	case J5_STRING:
		if (scan_string(p) < 0)
			return -1;
		break;
	case J5_NUMBER:
		if (scan_number(p) < 0)
			return -1;
		break;
	default:
		p->i += c == 'f' ? 5 : 4;
		if (word_ends(p) < 0)
			return -1;
		break;
	}
	p->d->nodes[self].end = (uint32_t)p->i;
	p->d->nodes[self].next = p->d->count;
	return 0;
}

int j5_parse(struct j5_doc *d, const char *src, size_t n, struct err *e)
{
	/* storing the out-parameters is not reading them (callers pass fresh ones) */
	/* cppcheck-suppress ctuuninitvar */
	struct j5p p = {d, (const uint8_t *)src, n, 0, 0, e};
	uint32_t root;

	memset(d, 0, sizeof *d);
	d->src = src;
	d->n = n;
	if (n > J5_MAX_SIZE)
		return fail_at(&p, 0, "file too large (limit 4 MiB)");
	if (skip_ws(&p) < 0)
		return -1;
	if (p.i >= n)
		return fail_at(&p, p.i, "empty document, expected a value");
	if (parse_value(&p, J5_NONE, &root) < 0)
		return -1;
	if (skip_ws(&p) < 0)
		return -1;
	if (p.i < n)
		return fail_unexpected(&p, "unexpected text after the value");
	return 0;
}

void j5_free(struct j5_doc *d)
{
	free(d->nodes);
	d->nodes = NULL;
	d->count = d->cap = 0;
}

int j5_is_blank(const char *src, size_t n)
{
	struct j5_doc d;
	struct j5p p = {&d, (const uint8_t *)src, n, 0, 0, NULL};

	memset(&d, 0, sizeof d);
	return skip_ws(&p) == 0 && p.i == n;
}

/* ---- access ------------------------------------------------------------------ */

uint32_t j5_item_start(const struct j5_doc *d, uint32_t i)
{
	const struct j5_node *nd = &d->nodes[i];
	return (nd->flags & J5_F_MEMBER) ? nd->key_start : nd->start;
}

uint32_t j5_item_end(const struct j5_doc *d, uint32_t i)
{
	const struct j5_node *nd = &d->nodes[i];
	return nd->comma != J5_NONE ? nd->comma + 1 : nd->end;
}

/* Decodes a validated string literal or identifier in src[a..b). */
static int decode(const struct j5_doc *d, uint32_t a, uint32_t b, struct buf *out)
{
	const uint8_t *s = (const uint8_t *)d->src;
	size_t i = a, n = b;
	uint32_t v, lo;

	if (out->len == 0 && buf_reserve(out, 0) < 0)
		return -1;
	if (s[a] == '"' || s[a] == '\'')
		i++, n--;
	while (i < n) {
		size_t run = i;
		while (run < n && s[run] != '\\')
			run++;
		if (buf_append(out, s + i, run - i) < 0)
			return -1;
		if ((i = run) >= n)
			break;
		uint8_t c = s[++i];
		i++;
		switch (c) {
		case 'b': v = '\b'; break;
		case 'f': v = '\f'; break;
		case 'n': v = '\n'; break;
		case 'r': v = '\r'; break;
		case 't': v = '\t'; break;
		case 'v': v = '\v'; break;
		case '0': v = 0; break;
		case 'x':
			hex_n(s, n, i, 2, &v);
			i += 2;
			break;
		case 'u':
			hex_n(s, n, i, 4, &v);
			i += 4;
			if (v >= 0xD800 && v <= 0xDBFF) {
				hex_n(s, n, i + 2, 4, &lo);
				v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
				i += 6;
			}
			break;
		case '\r':
			if (i < n && s[i] == '\n')
				i++;
			continue;
		case '\n':
			continue;
		default:
			if (c == 0xE2 && i + 1 < n && s[i] == 0x80 && (s[i + 1] == 0xA8 || s[i + 1] == 0xA9)) {
				i += 2; /* U+2028/U+2029 line continuation */
				continue;
			}
			i--; /* any other escaped character stands for itself */
			size_t len = utf8_dec(s, n, i, &v);
			i += len ? len : 1;
			break;
		}
		if (utf8_put(out, v) < 0)
			return -1;
	}
	return 0;
}

int j5_string(const struct j5_doc *d, uint32_t i, struct buf *out)
{
	if (d->nodes[i].type != J5_STRING)
		return -1;
	return decode(d, d->nodes[i].start, d->nodes[i].end, out);
}

int j5_key(const struct j5_doc *d, uint32_t i, struct buf *out)
{
	if (!(d->nodes[i].flags & J5_F_MEMBER))
		return -1;
	return decode(d, d->nodes[i].key_start, d->nodes[i].key_end, out);
}

int j5_key_eq(const struct j5_doc *d, uint32_t i, const char *key, size_t keylen)
{
	const struct j5_node *nd = &d->nodes[i];
	const char *k = d->src + nd->key_start;
	size_t kn = nd->key_end - nd->key_start;
	struct buf b;
	int eq;

	if (!(nd->flags & J5_F_MEMBER))
		return 0;
	if (kn && (k[0] == '"' || k[0] == '\''))
		k++, kn -= 2;
	if (!memchr(k, '\\', kn)) /* the common case: no escapes */
		return kn == keylen && memcmp(k, key, kn) == 0;
	buf_init(&b, J5_MAX_SIZE);
	eq = j5_key(d, i, &b) == 0 && b.len == keylen && memcmp(b.p, key, keylen) == 0;
	buf_free(&b);
	return eq;
}

uint32_t j5_member(const struct j5_doc *d, uint32_t obj, const char *key, size_t keylen)
{
	uint32_t found = J5_NONE;

	if (obj >= d->count || d->nodes[obj].type != J5_OBJECT)
		return J5_NONE;
	for (uint32_t c = obj + 1; c < d->nodes[obj].next; c = d->nodes[c].next)
		if (j5_key_eq(d, c, key, keylen))
			found = c;
	return found;
}

uint32_t j5_member_str(const struct j5_doc *d, uint32_t obj, const char *key)
{
	return j5_member(d, obj, key, strlen(key));
}

uint32_t j5_elem(const struct j5_doc *d, uint32_t arr, size_t idx)
{
	size_t k = 0;

	if (arr >= d->count || d->nodes[arr].type != J5_ARRAY)
		return J5_NONE;
	for (uint32_t c = arr + 1; c < d->nodes[arr].next; c = d->nodes[c].next, k++)
		if (k == idx)
			return c;
	return J5_NONE;
}

int j5_number(const struct j5_doc *d, uint32_t i, double *out)
{
	const struct j5_node *nd = &d->nodes[i];
	const char *s = d->src + nd->start;
	size_t n = nd->end - nd->start, k = 0;
	double sign = 1, v = 0;
	char tmp[J5_MAX_NUMLEN + 1];

	if (nd->type != J5_NUMBER)
		return -1;
	if (s[0] == '+' || s[0] == '-')
		sign = s[0] == '-' ? -1 : 1, k = 1;
	if (s[k] == 'I') {
		*out = sign * INFINITY;
		return 0;
	}
	if (s[k] == 'N') {
		*out = NAN;
		return 0;
	}
	if (n - k > 2 && s[k] == '0' && (s[k + 1] | 0x20) == 'x') {
		for (k += 2; k < n; k++)
			v = v * 16 + hex_digit((uint8_t)s[k]);
		*out = sign * v;
		return 0;
	}
	/* the scanner already enforced the grammar and J5_MAX_NUMLEN */
	memcpy(tmp, s + k, n - k);
	tmp[n - k] = '\0';
	*out = sign * strtod(tmp, NULL);
	return 0;
}

int j5_number_is_json(const struct j5_doc *d, uint32_t i)
{
	const struct j5_node *nd = &d->nodes[i];
	const char *s = d->src + nd->start;
	size_t n = nd->end - nd->start, k = 0;

	if (nd->type != J5_NUMBER)
		return 0;
	if (s[0] == '-')
		k = 1;
	if (k >= n || !is_digit((uint8_t)s[k]))
		return 0; /* '+', '.5', Infinity, NaN */
	if (n - k > 1 && (s[k + 1] | 0x20) == 'x')
		return 0;
	for (; k < n; k++)
		if (s[k] == '.' && (k + 1 >= n || !is_digit((uint8_t)s[k + 1])))
			return 0; /* '5.' */
	return 1;
}

int j5_bool(const struct j5_doc *d, uint32_t i)
{
	return d->nodes[i].type == J5_BOOL && d->src[d->nodes[i].start] == 't';
}

/* ---- paths ------------------------------------------------------------------- */

int j5_is_ident(const char *key, size_t n)
{
	static const char *const reserved[] = {"true", "false", "null", "Infinity", "NaN"};

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)key[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '$' || c == '_' ||
		      (i > 0 && is_digit(c))))
			return 0;
	}
	/* legal as keys, but quoting them keeps older JSON5 readers happy */
	for (size_t r = 0; r < sizeof reserved / sizeof reserved[0]; r++)
		if (strlen(reserved[r]) == n && memcmp(reserved[r], key, n) == 0)
			return 0;
	return 1;
}

static int seg_key(struct j5_seg *sg, const void *k, size_t n)
{
	sg->key = malloc(n + 1);
	if (!sg->key)
		return -1;
	if (n)
		memcpy(sg->key, k, n);
	sg->key[n] = '\0';
	sg->keylen = n;
	return 0;
}

/* A quoted key inside brackets: reuse the JSON5 string scanner and decoder. */
static int path_quoted(struct j5_seg *sg, const char *s, size_t n, size_t *i, struct err *e)
{
	struct j5_doc d;
	struct j5p p = {&d, (const uint8_t *)s, n, *i, 0, e};
	struct buf b;
	int rc;

	memset(&d, 0, sizeof d);
	d.src = s;
	d.n = n;
	if (scan_string(&p) < 0)
		return err_set(e, ERR_USAGE, "bad path: quoted key at offset %zu: %s", *i,
			       d.err_msg);
	buf_init(&b, J5_MAX_SIZE);
	rc = decode(&d, (uint32_t)*i, (uint32_t)p.i, &b) < 0 || seg_key(sg, b.p, b.len) < 0;
	buf_free(&b);
	if (rc)
		return err_set(e, ERR_OTHER, "out of memory");
	*i = p.i;
	return 0;
}

int j5_path_parse(struct j5_path *p, const char *expr, struct err *e)
{
	size_t n = strlen(expr), i = 0;

	memset(p, 0, sizeof *p);
	if (n > J5_MAX_SIZE)
		return err_set(e, ERR_USAGE, "bad path: too long");
	while (i < n) {
		struct j5_seg *sg;

		if (p->n == J5_MAX_DEPTH) {
			j5_path_free(p);
			return err_set(e, ERR_USAGE, "bad path: more than %d levels", J5_MAX_DEPTH);
		}
		sg = &p->seg[p->n];
		if (expr[i] == '[') {
			i++;
			if (i < n && (expr[i] == '"' || expr[i] == '\'')) {
				if (path_quoted(sg, expr, n, &i, e) < 0) {
					j5_path_free(p);
					return -1;
				}
			} else {
				size_t v = 0, d0 = i;
				while (i < n && is_digit((uint8_t)expr[i]) && v < (SIZE_MAX - 9) / 10)
					v = v * 10 + (size_t)(expr[i++] - '0');
				if (i == d0 || (expr[d0] == '0' && i - d0 > 1) ||
				    (i < n && is_digit((uint8_t)expr[i]))) {
					j5_path_free(p);
					return err_set(e, ERR_USAGE,
						       "bad path: expected an index or a quoted key "
						       "after '[' at offset %zu",
						       d0);
				}
				sg->is_index = 1;
				sg->index = v;
			}
			if (i >= n || expr[i] != ']') {
				j5_path_free(p);
				return err_set(e, ERR_USAGE, "bad path: expected ']' at offset %zu", i);
			}
			i++;
		} else {
			size_t a = i;
			if (p->n > 0) {
				if (expr[i] != '.') {
					j5_path_free(p);
					return err_set(e, ERR_USAGE,
						       "bad path: expected '.' or '[' at offset %zu", i);
				}
				a = ++i;
			}
			while (i < n && expr[i] != '.' && expr[i] != '[')
				i++;
			if (i == a) {
				j5_path_free(p);
				return err_set(e, ERR_USAGE, "bad path: empty key at offset %zu", a);
			}
			if (seg_key(sg, expr + a, i - a) < 0) {
				j5_path_free(p);
				return err_set(e, ERR_OTHER, "out of memory");
			}
		}
		p->n++;
	}
	return 0;
}

void j5_path_free(struct j5_path *p)
{
	for (size_t k = 0; k < J5_MAX_DEPTH; k++) {
		free(p->seg[k].key);
		p->seg[k].key = NULL;
	}
	p->n = 0;
}

int j5_path_format(const struct j5_path *p, size_t upto, struct buf *out)
{
	if (upto > p->n)
		upto = p->n;
	if (out->len == 0 && buf_reserve(out, 0) < 0)
		return -1;
	for (size_t k = 0; k < upto; k++) {
		const struct j5_seg *sg = &p->seg[k];
		int rc = 0;
		if (sg->is_index) {
			rc = buf_appendf(out, "[%zu]", sg->index);
		} else if (j5_is_ident(sg->key, sg->keylen)) {
			if (k > 0)
				rc = buf_append_byte(out, '.');
			rc = rc || buf_append(out, sg->key, sg->keylen);
		} else {
			rc = buf_append_str(out, "[\"");
			for (size_t j = 0; !rc && j < sg->keylen; j++) {
				uint8_t c = (uint8_t)sg->key[j];
				if (c == '"' || c == '\\')
					rc = buf_append_byte(out, '\\') || buf_append_byte(out, c);
				else if (c < 0x20)
					rc = buf_appendf(out, "\\u%04x", c);
				else
					rc = buf_append_byte(out, c);
			}
			rc = rc || buf_append_str(out, "\"]");
		}
		if (rc)
			return -1;
	}
	return 0;
}

uint32_t j5_lookup(const struct j5_doc *d, uint32_t from, const struct j5_path *p,
		   size_t *matched, uint32_t *last)
{
	uint32_t cur = from;
	size_t k = 0;

	if (from < d->count) {
		for (; k < p->n; k++) {
			const struct j5_seg *sg = &p->seg[k];
			uint32_t nx = sg->is_index ? j5_elem(d, cur, sg->index)
						   : j5_member(d, cur, sg->key, sg->keylen);
			if (nx == J5_NONE)
				break;
			cur = nx;
		}
	}
	if (matched)
		*matched = k;
	if (last)
		*last = from < d->count ? cur : J5_NONE;
	return (from < d->count && k == p->n) ? cur : J5_NONE;
}
