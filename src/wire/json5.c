/* json5: JSON5 reader with byte spans (see json5.h). A recursive-descent
 * parser bounded by J5_MAX_DEPTH; line and column are computed only when an
 * error is reported, so the happy path tracks offsets alone. Access to the
 * tree is json5_get.c, path expressions json5_path.c. */
#include "wire/json5.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "wire/json5_int.h"

/* ---- white space and identifiers ------------------------------------------ */

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
int j5_scan_string(struct j5p *p)
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
				if (j5_scan_string(p) < 0)
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
		if (j5_scan_string(p) < 0)
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
