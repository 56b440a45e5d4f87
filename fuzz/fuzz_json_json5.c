/* fuzz_json_json5: differential, the strict JSON reader (json.c) against the
 * JSON5 reader (json5.c) on the same bytes. JSON5 is a superset of JSON, so
 * every text json_parse accepts must be accepted by j5_parse unless it hits a
 * limit only JSON5 has (nesting beyond J5_MAX_DEPTH, a number literal longer
 * than J5_MAX_NUMLEN, more than J5_MAX_NODES values, more than J5_MAX_SIZE
 * bytes) or holds a lone surrogate escape (JSON's grammar allows it, a config
 * value cannot carry it). When both accept, the two trees must be the same:
 * types, member and element counts, keys and strings decoded byte for byte,
 * numbers equal, booleans equal, and number nodes written as plain JSON. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "wire/json.h"
#include "wire/json5.h"

#define MAX_TOK 100000

static void must(int cond)
{
	if (!cond)
		abort();
}

static int j5_of(int json_type)
{
	switch (json_type) {
	case JSON_OBJECT: return J5_OBJECT;
	case JSON_ARRAY: return J5_ARRAY;
	case JSON_STRING: return J5_STRING;
	case JSON_NUMBER: return J5_NUMBER;
	case JSON_BOOL: return J5_BOOL;
	default: return J5_NULL;
	}
}

/* The JSON string token t and the JSON5 text from get(d5, i) must decode to
 * the same bytes; 1 when the JSON string could not be decoded (a lone
 * surrogate). */
static int same_text(const struct json_doc *d, int t, const struct j5_doc *d5, uint32_t i,
		     int key, struct buf *a, struct buf *b)
{
	struct err e;

	buf_consume(a, a->len);
	buf_consume(b, b->len);
	if (json_str_decode(d, t, a, &e) < 0)
		return 1;
	must((key ? j5_key(d5, i, b) : j5_string(d5, i, b)) == 0);
	must(a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0));
	return 0;
}

/* Walks JSON token t and JSON5 node i together; 1 when a lone surrogate made
 * the comparison stop (j5_parse must then have failed). */
static int walk(const struct json_doc *d, int t, const struct j5_doc *d5, uint32_t i,
		struct buf *a, struct buf *b)
{
	const struct j5_node *n = &d5->nodes[i];
	int type = json_type(d, t), k;
	uint32_t c;
	struct err e;

	must(n->type == j5_of(type));
	if (type == JSON_STRING)
		return same_text(d, t, d5, i, 0, a, b);
	if (type == JSON_NUMBER) {
		double x, y;

		must(j5_number(d5, i, &y) == 0 && j5_number_is_json(d5, i));
		/* json_double refuses what overflows a double (and literals of
		 * 512 bytes and more); JSON5 reads those as infinities */
		if (json_double(d, t, &x, &e) == 0)
			must(x == y);
		else
			must(isinf(y) || json_raw(d, t).n >= 512);
		return 0;
	}
	if (type == JSON_BOOL) {
		int v;

		must(json_bool(d, t, &v, &e) == 0 && v == j5_bool(d5, i));
		return 0;
	}
	if (type != JSON_OBJECT && type != JSON_ARRAY)
		return 0;
	must(n->count == (uint32_t)json_size(d, t));
	for (k = json_child(d, t), c = i + 1; k >= 0; k = json_next(d, k), c = d5->nodes[c].next) {
		must(c < d5->count && d5->nodes[c].parent == i);
		if (type == JSON_OBJECT) {
			must(d5->nodes[c].flags & J5_F_MEMBER);
			if (same_text(d, k, d5, c, 1, a, b) || walk(d, k + 1, d5, c, a, b))
				return 1;
		} else if (walk(d, k, d5, c, a, b)) {
			return 1;
		}
	}
	return 0;
}

/* Nesting depth of the JSON document (containers), computed from the text. */
static int depth_of(const uint8_t *p, size_t n, size_t *longest_number)
{
	int depth = 0, max = 0, in_str = 0;
	size_t run = 0;

	*longest_number = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = p[i];

		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = 0;
			continue;
		}
		if ((ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.' || ch == 'e' ||
		    ch == 'E') {
			if (++run > *longest_number)
				*longest_number = run;
			continue;
		}
		run = 0;
		if (ch == '"')
			in_str = 1;
		else if (ch == '[' || ch == '{')
			max = ++depth > max ? depth : max;
		else if (ch == ']' || ch == '}')
			depth--;
	}
	return max;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc d;
	struct j5_doc d5;
	struct err e;
	struct buf a, b;
	size_t numlen;
	int r5, stopped;

	if (size > J5_MAX_SIZE)
		return 0;
	if (json_parse_alloc(&d, (const char *)data, size, MAX_TOK, &e) < 0)
		return 0;
	r5 = j5_parse(&d5, (const char *)data, size, &e);
	if (r5 < 0) {
		/* only a JSON5 limit or a lone surrogate escape explains it */
		int deep = depth_of(data, size, &numlen) > J5_MAX_DEPTH;

		if (!deep && numlen <= J5_MAX_NUMLEN && (uint32_t)d.ntok <= J5_MAX_NODES) {
			int lone = 0;

			buf_init(&a, 1u << 26);
			for (int t = 0; t < d.ntok && !lone; t++)
				if (json_type(&d, t) == JSON_STRING) {
					buf_consume(&a, a.len);
					lone = json_str_decode(&d, t, &a, &e) < 0;
				}
			buf_free(&a);
			must(lone);
		}
		j5_free(&d5);
		json_doc_free(&d);
		return 0;
	}
	buf_init(&a, 1u << 26);
	buf_init(&b, 1u << 26);
	must(d5.count >= 1);
	stopped = walk(&d, 0, &d5, 0, &a, &b);
	must(!stopped); /* j5_parse refuses lone surrogates, so it cannot have accepted one */
	buf_free(&a);
	buf_free(&b);
	j5_free(&d5);
	json_doc_free(&d);
	return 0;
}
