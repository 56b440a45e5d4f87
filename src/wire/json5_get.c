/* json5_get: access to a parsed JSON5 tree (see json5.h): item spans,
 * member and element lookups, decoded strings and keys, numbers, booleans.
 * The tree comes from json5.c, whose scanners validated every literal, so
 * decoding trusts the spans. */
#include "wire/json5.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "wire/json5_int.h"

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
int j5_decode(const struct j5_doc *d, uint32_t a, uint32_t b, struct buf *out)
{
	const uint8_t *s = (const uint8_t *)d->src;
	size_t i = a, n = b;
	uint32_t v = 0, lo = 0; /* set before use; gcc -O2 cannot tell */

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
	return j5_decode(d, d->nodes[i].start, d->nodes[i].end, out);
}

int j5_key(const struct j5_doc *d, uint32_t i, struct buf *out)
{
	if (!(d->nodes[i].flags & J5_F_MEMBER))
		return -1;
	return j5_decode(d, d->nodes[i].key_start, d->nodes[i].key_end, out);
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
