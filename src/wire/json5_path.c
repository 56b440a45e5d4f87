/* json5_path: path expressions into a JSON5 tree (see json5.h): parsing
 * models.providers["amazon-bedrock"].baseUrl style paths, formatting them
 * back for messages, and following them through a document. */
#include "wire/json5.h"

#include <stdlib.h>
#include <string.h>

#include "wire/json.h"
#include "wire/json5_int.h"

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
	if (j5_scan_string(&p) < 0)
		return err_set(e, ERR_USAGE, "bad path: quoted key at offset %zu: %s at offset %u",
			       *i, d.err_msg, (unsigned)d.err_off);
	buf_init(&b, J5_MAX_SIZE);
	rc = j5_decode(&d, (uint32_t)*i, (uint32_t)p.i, &b) < 0 || seg_key(sg, b.p, b.len) < 0;
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
			size_t a = i, bad;
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
			/* a document's keys are UTF-8 (the reader checks): other bytes
			 * could never match, and no quoted form could write them */
			if (!json_utf8_valid(expr + a, i - a, &bad)) {
				j5_path_free(p);
				return err_set(e, ERR_USAGE, "bad path: invalid UTF-8 at offset %zu",
					       a + bad);
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
