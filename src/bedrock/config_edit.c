/* config_edit: `config set/unset` as edits of the file text in place over the
 * byte spans of the JSON5 tree (see config.h): comments, order and formatting
 * of everything else are kept byte for byte, new text follows the file's own
 * habits (line endings, indentation, trailing commas, key quotes). Pure: no
 * I/O (config.c reads, locks and writes the file). */
#include "bedrock/config.h"
#include "bedrock/config_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/json.h"
#include "wire/json5.h"

/* ---- text editing ------------------------------------------------------------- */

struct ed {
	const char *s; /* the text */
	size_t n;
	const char *nl; /* "\n" or "\r\n", as the file writes it */
	char unit[16];  /* one indentation level */
	int tc;         /* the file uses trailing commas in multi-line containers */
	char quote;     /* key style: 0 unquoted where possible, '"' or '\'' */
	/* config unset: byte ranges already removed, highest first; the text
	 * after an item is read as if they were gone (see edit_unset) */
	const struct cut *cut;
	size_t ncut;
};

struct cut {
	size_t a, b; /* [a, b) */
};

struct splice {
	size_t at, del;
	struct buf ins;
};

static size_t line_start(const struct ed *x, size_t pos)
{
	while (pos > 0 && x->s[pos - 1] != '\n' && x->s[pos - 1] != '\r')
		pos--;
	return pos;
}

static int is_blank_ch(char c)
{
	return c == ' ' || c == '\t';
}

/* Length of the indentation of the line holding pos. */
static size_t indent_len(const struct ed *x, size_t pos)
{
	size_t a = line_start(x, pos), i = a;

	while (i < x->n && is_blank_ch(x->s[i]))
		i++;
	return i - a;
}

/* Only blanks before pos on its line (read backwards: a long line costs
 * nothing). */
static int first_on_line(const struct ed *x, size_t pos)
{
	while (pos > 0 && is_blank_ch(x->s[pos - 1]))
		pos--;
	return pos == 0 || x->s[pos - 1] == '\n' || x->s[pos - 1] == '\r';
}

/* p, or the end of the removed range that holds p. */
static size_t ed_live(const struct ed *x, size_t p)
{
	size_t lo = 0, hi = x->ncut;

	/* the first range (highest first) that starts at or before p */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->cut[mid].a <= p)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo < x->ncut && p < x->cut[lo].b ? x->cut[lo].b : p;
}

/* The byte after i, past removed ranges. */
static size_t ed_next(const struct ed *x, size_t i)
{
	return ed_live(x, i + 1);
}

/* From pos, skips blanks and comments that end on this line. Returns the
 * offset of the line terminator (or n), or SIZE_MAX when something else
 * follows on the line. */
static size_t rest_of_line(const struct ed *x, size_t pos)
{
	size_t i = ed_live(x, pos);

	for (;;) {
		while (i < x->n && is_blank_ch(x->s[i]))
			i = ed_next(x, i);
		if (i >= x->n || x->s[i] == '\n' || x->s[i] == '\r')
			return i;
		size_t i1 = ed_next(x, i);
		if (x->s[i] == '/' && i1 < x->n && x->s[i1] == '/') {
			while (i < x->n && x->s[i] != '\n' && x->s[i] != '\r')
				i = ed_next(x, i);
			return i;
		}
		if (x->s[i] != '/' || i1 >= x->n || x->s[i1] != '*')
			return SIZE_MAX;
		for (size_t j = ed_next(x, i1);; j = ed_next(x, j)) {
			size_t j1 = j < x->n ? ed_next(x, j) : x->n;
			if (j1 >= x->n)
				return SIZE_MAX;
			if (x->s[j] == '*' && x->s[j1] == '/') {
				i = ed_next(x, j1);
				break;
			}
			if (x->s[j] == '\n' || x->s[j] == '\r')
				return SIZE_MAX;
		}
	}
}

static size_t past_eol(const struct ed *x, size_t eol)
{
	if (eol < x->n && x->s[eol] == '\r')
		eol = ed_next(x, eol);
	if (eol < x->n && x->s[eol] == '\n')
		eol = ed_next(x, eol);
	return eol;
}

static int has_newline(const struct ed *x, size_t a, size_t b)
{
	for (size_t i = a; i < b; i++)
		if (x->s[i] == '\n' || x->s[i] == '\r')
			return 1;
	return 0;
}

/* Learns the file's habits: line ending, indentation unit, trailing commas,
 * key quoting. */
static void ed_learn(struct ed *x, const struct j5_doc *d)
{
	const char *lf = x->n ? memchr(x->s, '\n', x->n) : NULL;
	int unit_found = 0;

	x->nl = (lf && lf > x->s && lf[-1] == '\r') ? "\r\n" : "\n";
	snprintf(x->unit, sizeof x->unit, "%s",
		 (lf && lf + 1 < x->s + x->n && lf[1] == '\t') ? "\t" : "  ");
	x->tc = 0;
	x->quote = 0;
	if (!d)
		return;
	for (uint32_t i = 1; i < d->count; i++) {
		const struct j5_node *nd = &d->nodes[i];
		const struct j5_node *pa = &d->nodes[nd->parent];
		size_t is = j5_item_start(d, i);

		if (!x->quote && (nd->flags & J5_F_MEMBER)) {
			char q = x->s[nd->key_start];
			x->quote = (q == '"' || q == '\'') ? q : 'u';
		}
		if (!unit_found && first_on_line(x, is) && first_on_line(x, pa->start)) {
			size_t pi = indent_len(x, pa->start), ci = indent_len(x, is);
			size_t a = line_start(x, is);
			if (ci > pi && ci - pi < sizeof x->unit &&
			    memcmp(x->s + line_start(x, pa->start), x->s + a, pi) == 0) {
				memcpy(x->unit, x->s + a + pi, ci - pi);
				x->unit[ci - pi] = '\0';
				unit_found = 1;
			}
		}
		/* the last item of a multi-line container */
		if (!x->tc && nd->next == pa->next && has_newline(x, is, pa->end) &&
		    nd->comma != J5_NONE)
			x->tc = 1;
	}
	if (x->quote == 'u')
		x->quote = 0;
}

/* A key as the file would write it. */
static int put_key(const struct ed *x, struct buf *b, const struct j5_seg *sg)
{
	struct jw w;
	struct err e;

	if (!x->quote && j5_is_ident(sg->key, sg->keylen))
		return buf_append(b, sg->key, sg->keylen);
	if (x->quote == '\'' && !memchr(sg->key, '\'', sg->keylen) &&
	    !memchr(sg->key, '\\', sg->keylen)) {
		int plain = 1;
		for (size_t i = 0; i < sg->keylen; i++)
			if ((uint8_t)sg->key[i] < 0x20)
				plain = 0;
		if (plain)
			return buf_append_byte(b, '\'') || buf_append(b, sg->key, sg->keylen) ||
			       buf_append_byte(b, '\'');
	}
	jw_init(&w, b);
	jw_strn(&w, sg->key, sg->keylen);
	return jw_finish(&w, &e);
}

static int put_indent(struct buf *b, const char *base, size_t bn, const struct ed *x, int levels)
{
	if (buf_append(b, base, bn) < 0)
		return -1;
	for (int i = 0; i < levels; i++)
		if (buf_append_str(b, x->unit) < 0)
			return -1;
	return 0;
}

/* The value for path segments [k, p->n): nested objects around the value
 * literal. Multi-line (ind = indentation of the line the value starts on)
 * or inline. */
static int put_nested(const struct ed *x, struct buf *b, const struct j5_path *p, size_t k,
		      const char *val, size_t valn, int ml, const char *ind, size_t indn)
{
	if (k == p->n)
		return buf_append(b, val, valn);
	if (buf_append_byte(b, '{') < 0)
		return -1;
	if (ml) {
		if (buf_append_str(b, x->nl) < 0 || put_indent(b, ind, indn, x, 1) < 0)
			return -1;
	} else if (buf_append_byte(b, ' ') < 0) {
		return -1;
	}
	if (put_key(x, b, &p->seg[k]) < 0 || buf_append_str(b, ": ") < 0)
		return -1;
	if (ml) {
		/* the deeper level's indentation, as a string */
		struct buf in2;
		int rc;
		buf_init(&in2, 4096);
		rc = put_indent(&in2, ind, indn, x, 1) < 0 ||
		     put_nested(x, b, p, k + 1, val, valn, ml, (const char *)in2.p, in2.len) < 0 ||
		     (x->tc && buf_append_byte(b, ',') < 0) || buf_append_str(b, x->nl) < 0 ||
		     buf_append(b, ind, indn) < 0 || buf_append_byte(b, '}') < 0;
		buf_free(&in2);
		return rc ? -1 : 0;
	}
	if (put_nested(x, b, p, k + 1, val, valn, ml, ind, indn) < 0 ||
	    buf_append_str(b, " }") < 0)
		return -1;
	return 0;
}

/* One new item for container c: "key: value" (objects) or "value". */
static int put_item(const struct ed *x, struct buf *b, const struct j5_doc *d, uint32_t c,
		    const struct j5_path *p, size_t k, const char *val, size_t valn, int ml,
		    const char *ind, size_t indn)
{
	if (d && d->nodes[c].type == J5_OBJECT) {
		if (put_key(x, b, &p->seg[k]) < 0 || buf_append_str(b, ": ") < 0)
			return -1;
	}
	return put_nested(x, b, p, k + 1, val, valn, ml, ind, indn);
}

static int apply(const struct ed *x, struct splice *sp, size_t nsp, struct buf *out)
{
	size_t at = 0;

	if (buf_reserve(out, 0) < 0)
		return -1;
	for (size_t i = 0; i < nsp; i++) {
		if (buf_append(out, x->s + at, sp[i].at - at) < 0 ||
		    buf_append(out, sp[i].ins.p, sp[i].ins.len) < 0)
			return -1;
		at = sp[i].at + sp[i].del;
	}
	return buf_append(out, x->s + at, x->n - at);
}

/* The indentation of the line holding pos, plus `deeper` units, into ind. */
static size_t make_indent(const struct ed *x, size_t pos, int deeper, char *ind, size_t cap)
{
	size_t n = indent_len(x, pos), u = strlen(x->unit);

	if (n + u + 1 > cap)
		n = cap - u - 1;
	memcpy(ind, x->s + line_start(x, pos), n);
	if (deeper) {
		memcpy(ind + n, x->unit, u);
		n += u;
	}
	return n;
}

/* Inserts after the last item of container c, in the style of that item
 * (same line or a line of its own, trailing comma or not). */
static int plan_after(const struct ed *x, const struct j5_doc *d, uint32_t c, uint32_t last,
		      const struct j5_path *p, size_t k, const char *val, size_t valn,
		      struct splice *sp, size_t *nsp)
{
	const struct j5_node *cn = &d->nodes[c];
	size_t ls = j5_item_start(d, last), indn;
	int tc = d->nodes[last].comma != J5_NONE, ml;
	struct buf *b = &sp[0].ins;
	char ind[256];

	/* a new line only when the last item has a line of its own */
	ml = has_newline(x, cn->start, ls) && first_on_line(x, ls);
	indn = ml ? make_indent(x, ls, 0, ind, sizeof ind) : 0;
	size_t eol = ml ? rest_of_line(x, j5_item_end(d, last)) : SIZE_MAX;
	if (!tc) {
		/* the comma goes right after the last value */
		sp[0].at = d->nodes[last].end;
		if (buf_append_byte(b, ',') < 0)
			return -1;
		if (eol != SIZE_MAX) {
			*nsp = 2;
			sp[1].at = eol;
			b = &sp[1].ins;
		}
	} else {
		sp[0].at = eol != SIZE_MAX ? eol : j5_item_end(d, last);
	}
	if (ml) {
		if (buf_append_str(b, x->nl) < 0 || buf_append(b, ind, indn) < 0)
			return -1;
	} else if (buf_append_byte(b, ' ') < 0) {
		return -1;
	}
	if (put_item(x, b, d, c, p, k, val, valn, ml, ind, indn) < 0 ||
	    (tc && buf_append_byte(b, ',') < 0))
		return -1;
	return 0;
}

/* Inserts into the empty container c: "{}", "{ }", "{\n}", "{ // nothing\n}". */
static int plan_empty(const struct ed *x, const struct j5_doc *d, uint32_t c,
		      const struct j5_path *p, size_t k, const char *val, size_t valn,
		      struct splice *sp)
{
	const struct j5_node *cn = &d->nodes[c];
	size_t open = cn->start + 1, close = cn->end - 1, indn;
	int ml = has_newline(x, open, close), blank = 1;
	struct buf *b = &sp[0].ins;
	char ind[256];

	for (size_t i = open; i < close; i++)
		if (!is_blank_ch(x->s[i]))
			blank = 0;
	if (c == 0 && !ml && blank) {
		/* the whole config is "{}": give it a real shape */
		sp[0].at = open;
		sp[0].del = close - open;
		if (buf_append_str(b, x->nl) < 0 || buf_append_str(b, x->unit) < 0 ||
		    put_item(x, b, d, c, p, k, val, valn, 1, x->unit, strlen(x->unit)) < 0 ||
		    buf_append_str(b, x->nl) < 0 || buf_append_str(b, "}") < 0)
			return -1;
		sp[0].del++; /* the closing brace was rewritten */
		return 0;
	}
	if (!ml) {
		int obj = cn->type == J5_OBJECT;
		sp[0].at = open;
		sp[0].del = blank ? close - open : 0;
		if ((obj && buf_append_byte(b, ' ') < 0) ||
		    put_item(x, b, d, c, p, k, val, valn, 0, "", 0) < 0 ||
		    ((obj || !blank) && buf_append_byte(b, ' ') < 0))
			return -1;
		return 0;
	}
	/* multi-line: one level deeper than the closing bracket's line */
	indn = make_indent(x, first_on_line(x, close) ? close : cn->start, 1, ind, sizeof ind);
	size_t eol = rest_of_line(x, open);
	sp[0].at = eol != SIZE_MAX ? eol : open;
	if (buf_append_str(b, x->nl) < 0 || buf_append(b, ind, indn) < 0 ||
	    put_item(x, b, d, c, p, k, val, valn, 1, ind, indn) < 0 ||
	    (x->tc && buf_append_byte(b, ',') < 0))
		return -1;
	if (eol == SIZE_MAX && buf_append_str(b, x->nl) < 0)
		return -1;
	return 0;
}

/* Inserts a new item into container c (object: key p->seg[k]). */
static int plan_insert(const struct ed *x, const struct j5_doc *d, uint32_t c,
		       const struct j5_path *p, size_t k, const char *val, size_t valn,
		       struct splice *sp, size_t *nsp)
{
	const struct j5_node *cn = &d->nodes[c];
	uint32_t last = J5_NONE;

	for (uint32_t ch = c + 1; ch < cn->next; ch = d->nodes[ch].next)
		last = ch;
	if (last != J5_NONE)
		return plan_after(x, d, c, last, p, k, val, valn, sp, nsp);
	return plan_empty(x, d, c, p, k, val, valn, sp);
}

static const char *type_name(int t)
{
	static const char *const names[] = {"null", "a boolean", "a number", "a string",
					    "an object", "an array"};
	return names[t];
}

/* The literal to write for a VALUE: its JSON5 text, else a JSON string. */
static int value_literal(const char *value, struct buf *lit, int *type, struct err *e)
{
	struct j5_doc vd;
	struct err ign;
	size_t n = strlen(value);

	if (j5_parse(&vd, value, n, &ign) == 0) {
		/* the value's own span: outer comments and blanks stay out */
		*type = vd.nodes[0].type;
		int rc = buf_append(lit, value + vd.nodes[0].start, vd.nodes[0].end - vd.nodes[0].start);
		j5_free(&vd);
		return rc < 0 ? err_set(e, ERR_USAGE, "value too long") : 0;
	}
	j5_free(&vd);
	struct jw w;
	jw_init(&w, lit);
	jw_str(&w, value);
	*type = J5_STRING;
	if (jw_finish(&w, e) < 0)
		return err_wrap(e, "value");
	return 0;
}


#define LANDED_GONE (-1) /* check_result: the path must be absent */
#define LANDED_ANY (-2)  /* anything there will do */

/* Re-parses an edit result: refuses one that does not parse, and checks that
 * the edit landed: the path holds a value of type `want` (enum j5_type), or
 * LANDED_GONE / LANDED_ANY. */
static int check_result(const char *name, const struct buf *out, const struct j5_path *p,
			int want, struct err *e)
{
	struct j5_doc d;
	struct err pe;
	uint32_t node;
	int ok;

	if (j5_parse(&d, (const char *)out->p, out->len, &pe) < 0) {
		j5_free(&d);
		return err_set(e, ERR_USAGE, "%s: refusing the edit: the result would not parse (%s)",
			       name, pe.msg);
	}
	node = j5_lookup(&d, 0, p, NULL, NULL);
	ok = want == LANDED_ANY ||
	     (want == LANDED_GONE ? node == J5_NONE : node != J5_NONE && d.nodes[node].type == want);
	j5_free(&d);
	return ok ? 0 : err_set(e, ERR_OTHER, "%s: internal error: the edit did not take", name);
}

/* config set on a blank file: a fresh object after whatever comments it has. */
static int set_blank(struct ed *x, const char *name, const struct j5_path *p,
		     const struct buf *lit, struct splice *sp, struct err *e)
{
	struct buf *b = &sp[0].ins;

	for (size_t k = 0; k < p->n; k++)
		if (p->seg[k].is_index)
			return config_path_err(p, k, e, ERR_USAGE, "%s",
					       k ? "does not exist; cannot create an array element"
						 : "is an object, not an array");
	ed_learn(x, NULL);
	sp[0].at = x->n;
	if ((x->n && x->s[x->n - 1] != '\n' && buf_append_str(b, x->nl) < 0) ||
	    buf_append_str(b, "{") < 0 || buf_append_str(b, x->nl) < 0 ||
	    buf_append_str(b, x->unit) < 0 || put_key(x, b, &p->seg[0]) < 0 ||
	    buf_append_str(b, ": ") < 0 ||
	    put_nested(x, b, p, 1, (const char *)lit->p, lit->len, 1, x->unit,
		       strlen(x->unit)) < 0 ||
	    buf_append_str(b, x->nl) < 0 || buf_append_str(b, "}") < 0 ||
	    buf_append_str(b, x->nl) < 0)
		return err_set(e, ERR_USAGE, "%s: edit too large", name);
	return 0;
}

/* config set of a path that is not there: p->seg[0..matched) leads to
 * container last, which must be able to take p->seg[matched] (and the rest
 * of the path is created as objects). */
static int set_missing(const struct ed *x, const struct j5_doc *d, const char *name,
		       const struct j5_path *p, size_t matched, uint32_t last,
		       const struct buf *lit, struct splice *sp, size_t *nsp, struct err *e)
{
	const struct j5_node *ln = &d->nodes[last];
	const struct j5_seg *sg = &p->seg[matched];

	if (ln->type != J5_OBJECT && ln->type != J5_ARRAY)
		return config_path_err(p, matched, e, ERR_USAGE, "is %s, not an object",
				       type_name(ln->type));
	if (ln->type == J5_OBJECT && sg->is_index)
		return config_path_err(p, matched, e, ERR_USAGE, "%s",
				       "is an object, not an array");
	if (ln->type == J5_ARRAY && !sg->is_index)
		return config_path_err(p, matched, e, ERR_USAGE, "%s",
				       "is an array, not an object");
	if (ln->type == J5_ARRAY && sg->index != ln->count) {
		char m[96];
		snprintf(m, sizeof m, "index %zu is out of range (%u elements)", sg->index,
			 (unsigned)ln->count);
		return config_path_err(p, matched, e, ERR_USAGE, "%s", m);
	}
	for (size_t k = matched + 1; k < p->n; k++)
		if (p->seg[k].is_index)
			return config_path_err(p, k, e, ERR_USAGE, "%s",
					       "does not exist; cannot create an array element");
	if (plan_insert(x, d, last, p, matched, (const char *)lit->p, lit->len, sp, nsp) < 0)
		return err_set(e, ERR_USAGE, "%s: edit too large", name);
	return 0;
}

/* config set on a file with content (parsed into d, which the caller
 * frees): the value replaced in place, or inserted. */
static int set_in_doc(struct ed *x, struct j5_doc *d, const char *name, const struct j5_path *p,
		      const struct buf *lit, struct splice *sp, size_t *nsp, struct err *e)
{
	size_t matched = 0;
	uint32_t node, last;

	if (j5_parse(d, x->s, x->n, e) < 0)
		return config_parse_err(name, d, e);
	if (d->nodes[0].type != J5_OBJECT)
		return err_set(e, ERR_USAGE, "%s: the top level must be an object ({ ... })", name);
	ed_learn(x, d);
	node = j5_lookup(d, 0, p, &matched, &last);
	if (node == J5_NONE)
		return set_missing(x, d, name, p, matched, last, lit, sp, nsp, e);
	sp[0].at = d->nodes[node].start;
	sp[0].del = d->nodes[node].end - d->nodes[node].start;
	if (buf_append(&sp[0].ins, lit->p, lit->len) < 0)
		return err_set(e, ERR_USAGE, "%s: edit too large", name);
	return 0;
}

static int edit_set(const char *name, const char *text, size_t n, const struct j5_path *p,
		    const char *value, struct buf *out, struct err *e)
{
	struct ed x = {text, n, "\n", "  ", 0, 0, NULL, 0};
	struct j5_doc d;
	struct buf lit;
	struct splice sp[2];
	size_t nsp = 1;
	int vtype, rc = -1;

	if (p->n == 0)
		return err_set(e, ERR_USAGE, "config set needs a path");
	memset(sp, 0, sizeof sp);
	buf_init(&sp[0].ins, CFG_TEXT_MAX);
	buf_init(&sp[1].ins, CFG_TEXT_MAX);
	buf_init(&lit, CFG_TEXT_MAX);
	memset(&d, 0, sizeof d);
	if (value_literal(value, &lit, &vtype, e) < 0)
		goto out;
	if (j5_is_blank(text, n) ? set_blank(&x, name, p, &lit, sp, e) < 0
				 : set_in_doc(&x, &d, name, p, &lit, sp, &nsp, e) < 0)
		goto out;
	if (apply(&x, sp, nsp, out) < 0) {
		err_set(e, ERR_USAGE, "%s: the result would be larger than 4 MiB", name);
		goto out;
	}
	/* the edit must have landed where asked, with the type asked for */
	if (check_result(name, out, p, vtype, e) == 0)
		rc = 0;
out:
	j5_free(&d);
	buf_free(&lit);
	buf_free(&sp[0].ins);
	buf_free(&sp[1].ins);
	if (rc < 0)
		buf_reset(out);
	return rc;
}

/* The ranges config unset removes, highest first. */
struct cuts {
	struct cut *r;
	size_t n, cap;
};

/* Adds [a, b), which must start below every range so far (else -2), merged
 * with the ranges it overlaps or touches. -1: out of memory. */
static int cut_add(struct cuts *c, size_t a, size_t b)
{
	if (c->n > 0 && a >= c->r[c->n - 1].a)
		return -2;
	while (c->n > 0 && c->r[c->n - 1].a <= b) {
		if (c->r[c->n - 1].b > b)
			b = c->r[c->n - 1].b;
		c->n--;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct cut *r = realloc(c->r, cap * sizeof *r);
		if (!r)
			return -1;
		c->r = r;
		c->cap = cap;
	}
	c->r[c->n++] = (struct cut){a, b};
	return 0;
}

/* Removes item i (a member or an element), whose previous sibling is prev,
 * with its comma: adds the ranges to cs (cut_add's result). x reads the text
 * as the removals so far left it; *taken is the item whose comma they took,
 * if any. */
static int remove_item(const struct ed *x, const struct j5_doc *d, uint32_t i, uint32_t prev,
		       uint32_t *taken, struct cuts *cs)
{
	const struct j5_node *nd = &d->nodes[i];
	const struct j5_node *pa = &d->nodes[nd->parent];
	int comma = nd->comma != J5_NONE && i != *taken;
	size_t is = j5_item_start(d, i), ie = comma ? nd->comma + 1 : nd->end, eol;
	/* the last item without its own comma takes the previous item's comma
	 * with it, so "{a: 1, b: 2}" becomes "{a: 1}" */
	int take_prev = !comma && prev != J5_NONE && d->nodes[prev].comma != J5_NONE;
	size_t pc = take_prev ? d->nodes[prev].comma : 0;

	if (take_prev)
		*taken = prev;
	if (first_on_line(x, is) && (eol = rest_of_line(x, ie)) != SIZE_MAX) {
		/* the item has its own line(s): remove them whole */
		int rc = cut_add(cs, line_start(x, is), past_eol(x, eol));
		return rc < 0 || !take_prev ? rc : cut_add(cs, pc, pc + 1);
	}
	if (take_prev)
		return cut_add(cs, pc, nd->end);
	size_t a = is, b0 = ed_live(x, ie), b = b0;
	while (b < x->n && is_blank_ch(x->s[b]))
		b = ed_next(x, b);
	/* no blanks left dangling before a line end or a closing bracket */
	if (b >= x->n || x->s[b] == '\n' || x->s[b] == '\r' ||
	    (b == b0 && b == (size_t)pa->end - 1)) {
		b = ie;
		while (a > (size_t)pa->start + 1 && is_blank_ch(x->s[a - 1]))
			a--;
	}
	return cut_add(cs, a, b);
}

/* Removes the item at p and, for a key, every earlier duplicate of it in the
 * same object (the last one wins; removing it alone would uncover the one
 * before). One parse: the items go from the last to the first, each reading
 * the text as the removals after it left it, which is what removing them one
 * at a time and parsing again in between would give. */
static int edit_unset(const char *name, const char *text, size_t n, const struct j5_path *p,
		      struct buf *out, struct err *e)
{
	const struct j5_seg *leaf;
	struct ed x = {text, n, "\n", "  ", 0, 0, NULL, 0};
	struct cuts cs = {NULL, 0, 0};
	struct j5_doc d;
	uint32_t node, *hit = NULL, nhit = 0, taken = J5_NONE, prev = J5_NONE;
	int rc = -1;

	if (p->n == 0)
		return err_set(e, ERR_USAGE, "config unset needs a path");
	leaf = &p->seg[p->n - 1];
	buf_reset(out);
	if (n > CFG_TEXT_MAX)
		return err_set(e, ERR_USAGE, "%s: larger than 4 MiB", name);
	if (j5_is_blank(text, n))
		return buf_append(out, text, n) < 0 ? err_set(e, ERR_OTHER, "out of memory") : 0;
	if (j5_parse(&d, text, n, e) < 0) {
		config_parse_err(name, &d, e);
		goto out;
	}
	if (d.nodes[0].type != J5_OBJECT) {
		err_set(e, ERR_USAGE, "%s: the top level must be an object ({ ... })", name);
		goto out;
	}
	node = j5_lookup(&d, 0, p, NULL, NULL);
	if (node == J5_NONE) {
		rc = buf_append(out, text, n) < 0 ? err_set(e, ERR_OTHER, "out of memory") : 0;
		goto out;
	}
	uint32_t pa = d.nodes[node].parent;
	/* the items to remove, each with its previous sibling */
	hit = malloc(2 * (size_t)d.nodes[pa].count * sizeof *hit);
	if (!hit) {
		err_set(e, ERR_OTHER, "out of memory");
		goto out;
	}
	for (uint32_t c = pa + 1; c < d.nodes[pa].next; prev = c, c = d.nodes[c].next) {
		if (leaf->is_index ? c == node : j5_key_eq(&d, c, leaf->key, leaf->keylen)) {
			hit[2 * nhit] = c;
			hit[2 * nhit++ + 1] = prev;
		}
	}
	while (nhit > 0) {
		nhit--;
		x.cut = cs.r;
		x.ncut = cs.n;
		int r = remove_item(&x, &d, hit[2 * nhit], hit[2 * nhit + 1], &taken, &cs);
		if (r < 0) {
			if (r == -1)
				err_set(e, ERR_OTHER, "out of memory");
			else
				err_set(e, ERR_OTHER, "%s: internal error: overlapping removals", name);
			goto out;
		}
	}
	size_t at = 0;
	for (size_t k = cs.n; k-- > 0; at = cs.r[k].b) {
		if (buf_append(out, text + at, cs.r[k].a - at) < 0) {
			err_set(e, ERR_OTHER, "out of memory");
			goto out;
		}
	}
	if (buf_append(out, text + at, n - at) < 0) {
		err_set(e, ERR_OTHER, "out of memory");
		goto out;
	}
	/* a key must be gone (an element's place holds the next one now) */
	if (check_result(name, out, p, leaf->is_index ? LANDED_ANY : LANDED_GONE, e) == 0)
		rc = 0;
out:
	j5_free(&d);
	free(hit);
	free(cs.r);
	if (rc < 0)
		buf_reset(out);
	return rc;
}

int config_edit_set(const char *name, const char *text, size_t n, const char *path_expr,
		    const char *value_text, struct buf *out, struct err *e)
{
	struct j5_path p;
	int rc;

	if (j5_path_parse(&p, path_expr, e) < 0)
		return -1;
	rc = edit_set(name, text, n, &p, value_text, out, e);
	j5_path_free(&p);
	return rc;
}

int config_edit_unset(const char *name, const char *text, size_t n, const char *path_expr,
		      struct buf *out, struct err *e)
{
	struct j5_path p;
	int rc;

	if (j5_path_parse(&p, path_expr, e) < 0)
		return -1;
	rc = edit_unset(name, text, n, &p, out, e);
	j5_path_free(&p);
	return rc;
}
