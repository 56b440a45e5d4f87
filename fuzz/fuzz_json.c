/* fuzz_json: the strict reader and the writer.
 * - Differential against jsmn (the tokeniser json_parse used to run after its
 *   validator): every document json_parse accepts, jsmn_parse (parent links)
 *   must accept too with the same number of tokens, and every token must match
 *   what jsmn gives after the old fix-up (offsets, sizes, refined types, next
 *   links derived from jsmn's parent links): jsmn is looser than RFC 8259,
 *   never stricter, so whatever jsmn rejects we must have rejected.
 *   json_validate must agree with json_parse, and the only parse error is
 *   ERR_PROTO.
 * - If the input is accepted: walk every token, decode every string (only a
 *   lone surrogate escape may fail), read every number, then re-serialise the
 *   whole tree through the writer, re-parse it (must succeed) and check that
 *   the copy has the same shape and the same decoded strings.
 * - The input as one string through the writer: succeeds exactly when it is
 *   valid UTF-8, and then reads back byte for byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "wire/json.h"

#define JSMN_STATIC
#define JSMN_PARENT_LINKS
#include "jsmn.h"

#define MAX_TOK 100000

static void must(int cond)
{
	if (!cond)
		abort();
}

/* Empties b for the next string. buf_reset would zero the whole capacity:
 * once per string token after a long string, quadratic on big inputs. */
static void clear(struct buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = 0;
}

static int jsmn_type(const uint8_t *js, const jsmntok_t *t)
{
	switch (t->type) {
	case JSMN_OBJECT: return JSON_OBJECT;
	case JSMN_ARRAY: return JSON_ARRAY;
	case JSMN_STRING: return JSON_STRING;
	case JSMN_PRIMITIVE:
		if (js[t->start] == 't' || js[t->start] == 'f')
			return JSON_BOOL;
		return js[t->start] == 'n' ? JSON_NULL : JSON_NUMBER;
	default: return JSON_NONE;
	}
}

/* d (accepted) against jsmn over the same bytes. The expected next link of a
 * token is the following child of its parent; a member value (whose jsmn
 * parent is its key) leads on to the key's next. */
static void check_jsmn(const struct json_doc *d, const uint8_t *data, size_t size)
{
	jsmntok_t *jt = malloc((size_t)d->ntok * sizeof(*jt));
	int *last = malloc((size_t)d->ntok * sizeof(*last));
	int *next = malloc((size_t)d->ntok * sizeof(*next));
	jsmn_parser p;
	int i, root_last = -1;

	must(jt && last && next);
	jsmn_init(&p);
	must(jsmn_parse(&p, (const char *)data, size, jt, (unsigned)d->ntok) == d->ntok);
	for (i = 0; i < d->ntok; i++) {
		int par = jt[i].parent;

		last[i] = -1;
		next[i] = -1;
		must(par < i);
		if (par < 0) {
			must(root_last < 0); /* one root */
			root_last = i;
		} else if (jt[par].type != JSMN_STRING) { /* a key or an element */
			if (last[par] >= 0)
				next[last[par]] = i;
			last[par] = i;
		}
	}
	for (i = 0; i < d->ntok; i++) {
		int par = jt[i].parent;

		if (par >= 0 && jt[par].type == JSMN_STRING) /* a member value */
			next[i] = next[par];
		must(d->tok[i].type == jsmn_type(data, &jt[i]));
		must(d->tok[i].start == jt[i].start && d->tok[i].end == jt[i].end);
		must(d->tok[i].size == jt[i].size);
		must(d->tok[i].next == next[i]);
	}
	free(jt);
	free(last);
	free(next);
}

/* Writes token t of d (and its subtree) to w; returns the next token index. */
static int copy_tree(struct jw *w, const struct json_doc *d, int t, struct buf *tmp)
{
	struct err e;
	int k, n = t + 1;

	switch (json_type(d, t)) {
	case JSON_OBJECT:
		jw_obj_begin(w);
		for (k = json_child(d, t); k >= 0; k = json_next(d, k)) {
			clear(tmp);
			if (json_str_decode(d, k, tmp, &e) == 0)
				jw_keyn(w, (const char *)tmp->p, tmp->len);
			else
				jw_key(w, "?");
			n = copy_tree(w, d, k + 1, tmp);
		}
		jw_obj_end(w);
		return n;
	case JSON_ARRAY:
		jw_arr_begin(w);
		for (k = json_child(d, t); k >= 0; k = json_next(d, k))
			n = copy_tree(w, d, k, tmp);
		jw_arr_end(w);
		return n;
	case JSON_STRING:
		clear(tmp);
		if (json_str_decode(d, t, tmp, &e) == 0)
			jw_strn(w, tmp->p ? tmp->p : (const uint8_t *)"", tmp->len);
		else
			jw_null(w);
		return n;
	default:
		jw_tok(w, d, t);
		return n;
	}
}

/* Same shape, same scalars, same decoded strings. */
static void compare(const struct json_doc *a, const struct json_doc *b, struct buf *ta,
		    struct buf *tb)
{
	struct err e;
	int i, ra, rb;

	must(a->ntok == b->ntok);
	for (i = 0; i < a->ntok; i++) {
		int ty = json_type(a, i);

		must(json_size(a, i) == json_size(b, i));
		must(json_next(a, i) == json_next(b, i));
		if (ty != JSON_STRING) {
			struct slice sa = json_raw(a, i), sb = json_raw(b, i);

			must(ty == json_type(b, i));
			if (ty != JSON_OBJECT && ty != JSON_ARRAY)
				must(slice_eq(sa, sb));
			continue;
		}
		clear(ta);
		clear(tb);
		ra = json_str_decode(a, i, ta, &e);
		if (ra != 0) /* a lone surrogate: written as null (or key "?") */
			continue;
		rb = json_str_decode(b, i, tb, &e);
		must(rb == 0 && ta->len == tb->len &&
		     (ta->len == 0 || memcmp(ta->p, tb->p, ta->len) == 0));
	}
}

static void check_doc(const struct json_doc *d)
{
	struct buf tmp, out, tb;
	struct jw w;
	struct json_doc d2;
	struct err e;
	struct slice s;
	int i, r;
	int64_t iv;
	double dv;
	char z[64];

	buf_init(&tmp, 1 << 24);
	buf_init(&tb, 1 << 24);
	buf_init(&out, 1 << 26);
	for (i = 0; i < d->ntok; i++) {
		switch (json_type(d, i)) {
		case JSON_STRING:
			clear(&tmp);
			r = json_str_decode(d, i, &tmp, &e);
			must(r == 0 || strstr(e.msg, "surrogate") != NULL);
			if (r == 0) {
				must(json_utf8_valid(tmp.p, tmp.len, NULL));
				must(json_str_eqn(d, i, tmp.p ? (const char *)tmp.p : "", tmp.len));
				must(json_str(d, i, &tb, &s, &e) == 0 && s.n == tmp.len);
			}
			(void)json_strz(d, i, z, sizeof(z), &e);
			(void)json_str_eq(d, i, "text");
			break;
		case JSON_NUMBER:
			(void)json_int64(d, i, &iv, &e);
			(void)json_double(d, i, &dv, &e);
			break;
		case JSON_BOOL:
			must(json_bool(d, i, &r, &e) == 0);
			break;
		case JSON_NULL:
			must(json_is_null(d, i));
			break;
		case JSON_OBJECT:
			(void)json_get(d, i, "text");
			(void)json_path(d, i, "delta.text");
			break;
		case JSON_ARRAY:
			(void)json_at(d, i, 1);
			(void)json_path(d, i, "[0][1].a");
			break;
		default:
			abort();
		}
	}
	jw_init(&w, &out);
	copy_tree(&w, d, 0, &tmp);
	must(jw_finish(&w, &e) == 0);
	must(json_parse_alloc(&d2, (const char *)out.p, out.len, MAX_TOK, &e) == 0);
	compare(d, &d2, &tmp, &tb);
	json_doc_free(&d2);
	buf_free(&tmp);
	buf_free(&tb);
	buf_free(&out);
}

/* The input as one string value, whole and in two pieces. */
static void check_writer(const uint8_t *data, size_t size)
{
	struct buf out, dec;
	struct jw w;
	struct json_tok tok[2];
	struct json_doc d;
	struct err e;
	int valid = json_utf8_valid(data, size, NULL);
	size_t cut = size ? data[0] % (size + 1) : 0;

	buf_init(&out, 1 << 26);
	buf_init(&dec, 1 << 24);
	jw_init(&w, &out);
	jw_str_begin(&w);
	jw_str_piece(&w, data, cut);
	jw_str_piece(&w, data + cut, size - cut);
	jw_str_end(&w);
	must((jw_finish(&w, &e) == 0) == valid);
	if (valid) {
		must(json_parse(&d, (const char *)out.p, out.len, tok, 2, &e) == 0);
		must(json_str_decode(&d, 0, &dec, &e) == 0);
		must(dec.len == size && (size == 0 || memcmp(dec.p, data, size) == 0));
	}
	buf_free(&out);
	buf_free(&dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc d;
	struct err e;
	int n, v, p;

	err_clear(&e);
	v = json_validate((const char *)data, size, &n, NULL, &e) == 0;
	p = json_parse_alloc(&d, (const char *)data, size, MAX_TOK, &e) == 0;
	must(p == v || (v && n > MAX_TOK));
	must(p || e.cls == ERR_PROTO);
	if (p) {
		check_jsmn(&d, data, size);
		check_doc(&d);
		json_doc_free(&d);
	}
	check_writer(data, size);
	return 0;
}
