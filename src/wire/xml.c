/* xml: a pull reader for the small, DTD-free XML documents of AWS query
 * APIs. Every byte is checked before it is trusted: the whole document for
 * control characters up front, each construct for its terminator, each
 * reference for a known entity or a valid code point. See xml.h. */
#include "wire/xml.h"

#include <string.h>

#include "base/base64.h"

static int perr(struct xml_reader *r, struct err *e, const char *what)
{
	r->state = 3;
	return err_set(e, ERR_PROTO, "malformed XML at byte %zu: %s", r->pos, what);
}

static int is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_name_start(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || c >= 0x80;
}

static int is_name_char(uint8_t c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int starts(const struct xml_reader *r, const char *s)
{
	size_t k = strlen(s);
	return r->n - r->pos >= k && memcmp(r->p + r->pos, s, k) == 0;
}

/* Position just past the next occurrence of s at or after from, or 0. */
static size_t find_end(const struct xml_reader *r, size_t from, const char *s)
{
	size_t k = strlen(s);

	for (size_t i = from; i + k <= r->n; i++)
		if (r->p[i] == (uint8_t)s[0] && memcmp(r->p + i, s, k) == 0)
			return i + k;
	return 0;
}

static void skip_space(struct xml_reader *r)
{
	while (r->pos < r->n && is_space(r->p[r->pos]))
		r->pos++;
}

static int read_name(struct xml_reader *r, struct slice *name)
{
	size_t s = r->pos;

	if (r->pos >= r->n || !is_name_start(r->p[r->pos]))
		return -1;
	while (r->pos < r->n && is_name_char(r->p[r->pos]))
		r->pos++;
	name->p = r->p + s;
	name->n = r->pos - s;
	return 0;
}

static struct slice local_part(struct slice name)
{
	const uint8_t *c = memchr(name.p, ':', name.n);
	struct slice l = name;

	if (c) {
		l.p = c + 1;
		l.n = name.n - (size_t)(l.p - name.p);
	}
	return l;
}

/* XML 1.0 Char production, for code points from character references. */
static int valid_char(uint32_t c)
{
	return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
	       (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

static int put_utf8(struct buf *out, uint32_t c)
{
	uint8_t u[4];
	size_t n;

	if (c < 0x80) {
		u[0] = (uint8_t)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (uint8_t)(0xC0 | (c >> 6));
		u[1] = (uint8_t)(0x80 | (c & 0x3F));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (uint8_t)(0xE0 | (c >> 12));
		u[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
		u[2] = (uint8_t)(0x80 | (c & 0x3F));
		n = 3;
	} else {
		u[0] = (uint8_t)(0xF0 | (c >> 18));
		u[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
		u[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
		u[3] = (uint8_t)(0x80 | (c & 0x3F));
		n = 4;
	}
	return out ? buf_append(out, u, n) : 0;
}

/* Decodes the reference starting at s[0] == '&'; returns its length or 0. */
static size_t decode_ref(const uint8_t *s, size_t n, uint32_t *cp)
{
	static const struct {
		const char *name;
		uint8_t ch;
	} ents[] = {{"lt;", '<'}, {"gt;", '>'}, {"amp;", '&'}, {"apos;", '\''}, {"quot;", '"'}};
	uint32_t v = 0;
	size_t i = 2, digits = 0;
	int hex;

	for (size_t k = 0; k < sizeof ents / sizeof ents[0]; k++) {
		size_t l = strlen(ents[k].name);
		if (n >= 1 + l && memcmp(s + 1, ents[k].name, l) == 0) {
			*cp = ents[k].ch;
			return 1 + l;
		}
	}
	if (n < 2 || s[1] != '#')
		return 0;
	hex = n > 2 && s[2] == 'x';
	if (hex)
		i = 3;
	for (; i < n && s[i] != ';'; i++, digits++) {
		int d = hex ? hex_digit(s[i]) : (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1);
		if (d < 0 || digits >= 8)
			return 0; /* 8 digits cover every valid code point, with zeros */
		v = v * (hex ? 16u : 10u) + (uint32_t)d;
	}
	if (i >= n || digits == 0 || !valid_char(v))
		return 0;
	*cp = v;
	return i + 1;
}

int xml_decode(struct slice raw, struct buf *out, struct err *e)
{
	size_t i = 0;

	while (i < raw.n) {
		size_t run = i;
		/* copy plain runs in one go */
		while (run < raw.n && raw.p[run] != '&' && raw.p[run] != '\r')
			run++;
		if (run > i && out && buf_append(out, raw.p + i, run - i) < 0)
			return err_set(e, ERR_PROTO, "XML text too long");
		i = run;
		if (i >= raw.n)
			break;
		if (raw.p[i] == '\r') {
			if (out && buf_append_byte(out, '\n') < 0)
				return err_set(e, ERR_PROTO, "XML text too long");
			i += (i + 1 < raw.n && raw.p[i + 1] == '\n') ? 2 : 1;
			continue;
		}
		uint32_t cp;
		size_t len = decode_ref(raw.p + i, raw.n - i, &cp);
		if (!len)
			return err_set(e, ERR_PROTO, "malformed XML: bad entity or character reference");
		if (put_utf8(out, cp) < 0)
			return err_set(e, ERR_PROTO, "XML text too long");
		i += len;
	}
	return 0;
}

/* CDATA: literal, but line ends are still normalised. */
static int append_cdata(struct slice raw, struct buf *out, struct err *e)
{
	for (size_t i = 0; i < raw.n; i++) {
		uint8_t c = raw.p[i];
		if (c == '\r') {
			c = '\n';
			if (i + 1 < raw.n && raw.p[i + 1] == '\n')
				i++;
		}
		if (buf_append_byte(out, c) < 0)
			return err_set(e, ERR_PROTO, "XML text too long");
	}
	return 0;
}

void xml_init(struct xml_reader *r, const void *doc, size_t n)
{
	memset(r, 0, sizeof *r);
	r->p = doc;
	r->n = n;
}

/* Before the first event: size, control characters, the BOM. */
static int start(struct xml_reader *r, struct err *e)
{
	if (r->n > XML_MAX_DOC)
		return perr(r, e, "document too large");
	for (size_t i = 0; i < r->n; i++) {
		uint8_t c = r->p[i];
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
			r->pos = i;
			return perr(r, e, "control character");
		}
	}
	if (starts(r, "\xEF\xBB\xBF"))
		r->pos = 3;
	r->state = 1;
	return 0;
}

/* Attributes up to '>' or "/>": well-formed, then ignored. */
static int skip_attributes(struct xml_reader *r, struct err *e, int *self_close)
{
	struct err tmp;

	for (;;) {
		size_t before = r->pos;
		struct slice an, val;
		uint8_t q;
		const uint8_t *close;

		skip_space(r);
		if (r->pos >= r->n)
			return perr(r, e, "unterminated start tag");
		if (r->p[r->pos] == '>') {
			r->pos++;
			*self_close = 0;
			return 0;
		}
		if (starts(r, "/>")) {
			r->pos += 2;
			*self_close = 1;
			return 0;
		}
		if (r->pos == before)
			return perr(r, e, "expected whitespace before an attribute");
		if (read_name(r, &an) < 0)
			return perr(r, e, "bad attribute name");
		skip_space(r);
		if (r->pos >= r->n || r->p[r->pos] != '=')
			return perr(r, e, "expected '=' after attribute name");
		r->pos++;
		skip_space(r);
		if (r->pos >= r->n || (r->p[r->pos] != '"' && r->p[r->pos] != '\''))
			return perr(r, e, "expected a quoted attribute value");
		q = r->p[r->pos++];
		close = memchr(r->p + r->pos, q, r->n - r->pos);
		if (!close)
			return perr(r, e, "unterminated attribute value");
		val.p = r->p + r->pos;
		val.n = (size_t)(close - val.p);
		if (memchr(val.p, '<', val.n))
			return perr(r, e, "'<' in attribute value");
		if (xml_decode(val, NULL, &tmp) < 0)
			return perr(r, e, "bad reference in attribute value");
		r->pos += val.n + 1;
	}
}

static int start_tag(struct xml_reader *r, struct xml_event *ev, struct err *e)
{
	struct slice name;
	int self_close;

	if (r->state == 2)
		return perr(r, e, "element after the root element");
	if (r->depth >= XML_MAX_DEPTH)
		return perr(r, e, "elements nested too deeply");
	r->pos++; /* '<' */
	if (read_name(r, &name) < 0)
		return perr(r, e, "bad element name");
	if (skip_attributes(r, e, &self_close) < 0)
		return -1;
	r->open[r->depth++] = name;
	r->pending_end = self_close;
	ev->type = XML_START;
	ev->depth = r->depth;
	ev->name = name;
	ev->local = local_part(name);
	return 1;
}

static int end_of(struct xml_reader *r, struct xml_event *ev)
{
	struct slice name = r->open[--r->depth];

	ev->type = XML_END;
	ev->depth = r->depth + 1;
	ev->name = name;
	ev->local = local_part(name);
	if (r->depth == 0)
		r->state = 2;
	return 1;
}

static int end_tag(struct xml_reader *r, struct xml_event *ev, struct err *e)
{
	struct slice name;

	r->pos += 2; /* "</" */
	if (r->depth == 0)
		return perr(r, e, "end tag without a start tag");
	if (read_name(r, &name) < 0)
		return perr(r, e, "bad end tag name");
	skip_space(r);
	if (r->pos >= r->n || r->p[r->pos] != '>')
		return perr(r, e, "unterminated end tag");
	if (!slice_eq(name, r->open[r->depth - 1]))
		return perr(r, e, "mismatched end tag");
	r->pos++;
	return end_of(r, ev);
}

/* Comments, PIs, CDATA, the DTD: everything that starts "<!" or "<?".
 * Returns 1 with a CDATA event, 0 when skipped, -1 on error. */
static int markup(struct xml_reader *r, struct xml_event *ev, struct err *e)
{
	size_t end;

	if (starts(r, "<?")) {
		if (!(end = find_end(r, r->pos + 2, "?>")))
			return perr(r, e, "unterminated processing instruction");
		r->pos = end;
		return 0;
	}
	if (starts(r, "<!--")) {
		if (!(end = find_end(r, r->pos + 4, "-->")))
			return perr(r, e, "unterminated comment");
		r->pos = end;
		return 0;
	}
	if (starts(r, "<![CDATA[")) {
		if (r->depth == 0)
			return perr(r, e, "CDATA outside the root element");
		if (!(end = find_end(r, r->pos + 9, "]]>")))
			return perr(r, e, "unterminated CDATA section");
		ev->type = XML_CDATA;
		ev->depth = r->depth;
		ev->text.p = r->p + r->pos + 9;
		ev->text.n = end - 3 - (r->pos + 9);
		r->pos = end;
		return 1;
	}
	if (starts(r, "<!DOCTYPE"))
		return perr(r, e, "DTDs are not accepted");
	return perr(r, e, "unexpected '<!'");
}

static int text(struct xml_reader *r, struct xml_event *ev, struct err *e)
{
	const uint8_t *lt = memchr(r->p + r->pos, '<', r->n - r->pos);
	size_t end = lt ? (size_t)(lt - r->p) : r->n;
	struct err tmp;

	ev->type = XML_TEXT;
	ev->depth = r->depth;
	ev->text.p = r->p + r->pos;
	ev->text.n = end - r->pos;
	if (xml_decode(ev->text, NULL, &tmp) < 0)
		return perr(r, e, "bad entity or character reference");
	r->pos = end;
	return 1;
}

int xml_next(struct xml_reader *r, struct xml_event *ev, struct err *e)
{
	memset(ev, 0, sizeof *ev);
	if (r->state == 3)
		return err_set(e, ERR_PROTO, "malformed XML");
	if (r->state == 0 && start(r, e) < 0)
		return -1;
	if (r->pending_end) {
		r->pending_end = 0;
		return end_of(r, ev);
	}
	for (;;) {
		if (r->depth == 0)
			skip_space(r); /* only whitespace between top-level markup */
		if (r->pos >= r->n) {
			if (r->depth > 0)
				return perr(r, e, "unexpected end of document (unclosed element)");
			if (r->state != 2)
				return perr(r, e, "no root element");
			return 0;
		}
		if (r->p[r->pos] != '<') {
			if (r->depth == 0)
				return perr(r, e, "text outside the root element");
			return text(r, ev, e);
		}
		if (starts(r, "</"))
			return end_tag(r, ev, e);
		if (starts(r, "<!") || starts(r, "<?")) {
			int k = markup(r, ev, e);
			if (k != 0)
				return k;
			continue;
		}
		return start_tag(r, ev, e);
	}
}

int xml_find_text(const void *doc, size_t n, const char *const *path, struct buf *out,
		  struct err *e)
{
	struct xml_reader r;
	struct xml_event ev;
	int plen = 0, matched = 0, found = 0, capturing = 0, k;

	while (path[plen])
		plen++;
	xml_init(&r, doc, n);
	while ((k = xml_next(&r, &ev, e)) == 1) {
		switch (ev.type) {
		case XML_START:
			if (!found && matched == ev.depth - 1 && ev.depth <= plen &&
			    slice_eq_str(ev.local, path[ev.depth - 1])) {
				matched = ev.depth;
				capturing = matched == plen;
			}
			break;
		case XML_END:
			if (matched == ev.depth) {
				matched--;
				if (capturing) {
					capturing = 0;
					found = 1;
				}
			}
			break;
		case XML_TEXT:
			if (capturing && ev.depth == plen && xml_decode(ev.text, out, e) < 0)
				return -1;
			break;
		case XML_CDATA:
			if (capturing && ev.depth == plen && append_cdata(ev.text, out, e) < 0)
				return -1;
			break;
		}
	}
	if (k < 0)
		return -1;
	return found;
}
