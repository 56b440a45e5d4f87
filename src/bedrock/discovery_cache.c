/* discovery_cache: the flat-file cache of the discovered models (file names,
 * the canonical text format, its parser, load and store). See discovery.h
 * for the format; the parser (disc_cache_parse) does no I/O. */
#include "bedrock/discovery.h"
#include "bedrock/discovery_priv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "wire/json.h"

/* ------------------------------------------------------------------ cache: names */

int disc_cache_dir(const struct env *env, char *out, size_t n, struct err *e)
{
	const char *v, *tail;
	struct slice t;
	int w;

	if ((v = env_get(env, "BROCK_CACHE_DIR")) != NULL)
		tail = "";
	else if ((v = env_get(env, "XDG_CACHE_HOME")) != NULL && v[0] == '/')
		tail = "/brock";
	else if ((v = env_get(env, "HOME")) != NULL)
		tail = "/.cache/brock";
	else
		return err_set(e, ERR_OTHER, "no cache directory (set BROCK_CACHE_DIR or HOME)");
	t = slice_trim(slice_str(v)); /* env_get may leave trailing blanks */
	w = snprintf(out, n, "%.*s%s", (int)t.n, (const char *)t.p, tail);
	if (w < 0 || (size_t)w >= n)
		return err_set(e, ERR_OTHER, "cache directory path too long");
	return 0;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static int name_safe(const char *s, size_t max, int comma_ok)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		      (comma_ok && c == ',')))
			return 0;
	}
	return 1;
}

int disc_cache_name(const char *region, const char *norm_filter, char *out, size_t n)
{
	char r[80], f[120];
	int w;

	if (name_safe(region, 64, 0))
		snprintf(r, sizeof r, "%s", region);
	else
		snprintf(r, sizeof r, "r%016llx", (unsigned long long)fnv1a(region));
	if (!norm_filter || !*norm_filter) {
		f[0] = 0;
	} else if (name_safe(norm_filter, 100, 1) && norm_filter[0] != ',') {
		f[0] = '-';
		snprintf(f + 1, sizeof f - 1, "%s", norm_filter);
		for (char *c = f; *c; c++)
			if (*c == ',')
				*c = '+';
	} else {
		snprintf(f, sizeof f, "-f%016llx", (unsigned long long)fnv1a(norm_filter));
	}
	w = snprintf(out, n, "models-%s%s.tsv", r, f);
	return (w < 0 || (size_t)w >= n) ? -1 : 0;
}

/* ------------------------------------------------------------------ cache: format */

static int put_field(struct buf *b, const char *s)
{
	for (; *s; s++) {
		const char *esc = NULL;

		switch (*s) {
		case '\\':
			esc = "\\\\";
			break;
		case '\t':
			esc = "\\t";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		default:
			break;
		}
		if (esc ? buf_append_str(b, esc) < 0 : buf_append_byte(b, (uint8_t)*s) < 0)
			return -1;
	}
	return 0;
}

static const char *input_name(unsigned in)
{
	switch (in & (DISC_IN_TEXT | DISC_IN_IMAGE)) {
	case DISC_IN_TEXT:
		return "text";
	case DISC_IN_IMAGE:
		return "image";
	case DISC_IN_TEXT | DISC_IN_IMAGE:
		return "text+image";
	default:
		return "none";
	}
}

int disc_cache_format(const struct disc_list *l, const char *region, const char *norm_filter,
		      struct buf *out)
{
	if (buf_appendf(out, "%s\t%lld\t%zu\t", DISC_CACHE_MAGIC, (long long)l->fetched, l->n) <
		    0 ||
	    put_field(out, region) < 0 || buf_append_byte(out, '\t') < 0 ||
	    put_field(out, norm_filter ? norm_filter : "") < 0 || buf_append_byte(out, '\n') < 0)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		const struct disc_model *m = &l->v[i];

		if (put_field(out, m->id) < 0 || buf_append_byte(out, '\t') < 0 ||
		    put_field(out, m->name) < 0 || buf_append_byte(out, '\t') < 0 ||
		    put_field(out, m->provider) < 0 ||
		    buf_appendf(out, "\t%s\t%s\t", input_name(m->input),
				m->profile ? "profile" : "model") < 0 ||
		    put_field(out, m->base ? m->base : "") < 0 || buf_append_byte(out, '\n') < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ cache: parse */

/* A cursor over one line's fields. */
struct line {
	const char *p, *end;
};

/* The next field of a line, unescaped into b (reset first). 0 ok, -1 bad
 * escape, NUL, or too long. *last is set when the field ends the line. */
static int next_field(struct line *ln, struct buf *b, int *last)
{
	buf_reset(b);
	while (ln->p < ln->end && *ln->p != '\t') {
		char c = *ln->p++;

		if (c == 0)
			return -1;
		if (c == '\\') {
			if (ln->p >= ln->end)
				return -1;
			switch (*ln->p++) {
			case '\\':
				c = '\\';
				break;
			case 't':
				c = '\t';
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			default:
				return -1;
			}
		}
		if (b->len >= DISC_MAX_FIELD || buf_append_byte(b, (uint8_t)c) < 0)
			return -1;
	}
	*last = ln->p >= ln->end;
	if (!*last)
		ln->p++; /* the tab */
	return 0;
}

static int parse_uint(const char *s, size_t n, long long *out)
{
	long long v = 0;

	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Header fields into the five bufs; 0 when they are all there. */
static int header_fields(struct line *ln, struct buf f[5])
{
	int last = 0;

	for (int i = 0; i < 5; i++) {
		if (last || next_field(ln, &f[i], &last) < 0)
			return -1;
	}
	return last ? 0 : -1;
}

static int parse_input(const struct buf *b, unsigned *in)
{
	static const char *const names[] = {"none", "text", "image", "text+image"};

	for (unsigned i = 0; i < 4; i++)
		if (slice_eq_str(buf_slice(b), names[i])) {
			*in = i;
			return 0;
		}
	return -1;
}

static int model_line(struct line *ln, struct buf f[6], struct disc_list *out, struct err *e)
{
	int last = 0, profile;
	unsigned in;

	for (int i = 0; i < 6; i++)
		if (last || next_field(ln, &f[i], &last) < 0)
			return err_set(e, ERR_PROTO, "bad field");
	if (!last)
		return err_set(e, ERR_PROTO, "too many fields");
	if (!disc_id_ok((const char *)f[0].p, f[0].len) || parse_input(&f[3], &in) < 0 ||
	    (f[5].len && !disc_id_ok((const char *)f[5].p, f[5].len)))
		return err_set(e, ERR_PROTO, "bad id, input or base");
	if (slice_eq_str(buf_slice(&f[4]), "profile"))
		profile = 1;
	else if (slice_eq_str(buf_slice(&f[4]), "model"))
		profile = 0;
	else
		return err_set(e, ERR_PROTO, "bad kind");
	if (disc_list_find(out, (const char *)f[0].p, f[0].len) >= 0)
		return err_set(e, ERR_PROTO, "duplicate id");
	if (memchr(f[1].p, 0, f[1].len) || memchr(f[2].p, 0, f[2].len))
		return err_set(e, ERR_PROTO, "NUL in a field");
	if (disc_list_add(out, (const char *)f[0].p, f[0].len, (const char *)f[1].p, f[1].len,
			  (const char *)f[2].p, f[2].len, in, profile, e) < 0)
		return -1;
	return disc_list_set_base(out, out->n - 1, (const char *)f[5].p, f[5].len, e);
}

static int cache_parse(const char *text, size_t n, const char *region, const char *norm_filter,
		       struct disc_list *out, struct buf f[6], struct err *e)
{
	const char *p = text, *end = text + n, *nl;
	long long fetched, count;
	struct line ln;
	size_t lines = 0;

	if (n > DISC_CACHE_MAX)
		return err_set(e, ERR_PROTO, "too large");
	if (!json_utf8_valid(text, n, NULL))
		return err_set(e, ERR_PROTO, "not UTF-8");
	nl = memchr(p, '\n', n);
	if (!nl)
		return err_set(e, ERR_PROTO, "no header line");
	ln.p = p;
	ln.end = nl;
	if (header_fields(&ln, f) < 0 || !slice_eq_str(buf_slice(&f[0]), DISC_CACHE_MAGIC))
		return err_set(e, ERR_PROTO, "not a brock models cache (v2)");
	if (parse_uint((const char *)f[1].p, f[1].len, &fetched) < 0 ||
	    parse_uint((const char *)f[2].p, f[2].len, &count) < 0 || count > DISC_MAX_MODELS)
		return err_set(e, ERR_PROTO, "bad header");
	if (!slice_eq_str(buf_slice(&f[3]), region) ||
	    !slice_eq_str(buf_slice(&f[4]), norm_filter ? norm_filter : ""))
		return err_set(e, ERR_PROTO, "written for another region or provider filter");
	out->fetched = (time_t)fetched;
	for (p = nl + 1; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return err_set(e, ERR_PROTO, "truncated line %zu", lines + 2);
		ln.p = p;
		ln.end = nl;
		if (model_line(&ln, f, out, e) < 0)
			return err_wrap(e, "line %zu", lines + 2);
		lines++;
	}
	if ((long long)lines != count)
		return err_set(e, ERR_PROTO, "%zu models, header says %lld", lines, count);
	return 0;
}

int disc_cache_parse(const char *text, size_t n, const char *region, const char *norm_filter,
		     struct disc_list *out, struct err *e)
{
	struct buf f[6];
	int rc;

	for (int i = 0; i < 6; i++)
		buf_init(&f[i], DISC_MAX_FIELD + 1);
	rc = cache_parse(text, n, region, norm_filter, out, f, e);
	for (int i = 0; i < 6; i++)
		buf_free(&f[i]);
	if (rc < 0) {
		disc_list_free(out);
		e->cls = ERR_PROTO;
	}
	return rc;
}

/* ------------------------------------------------------------------ cache: files */

int disc_cache_load(const char *path, const char *region, const char *norm_filter,
		    struct disc_list *out, struct err *e)
{
	struct buf b;
	int rc;

	buf_init(&b, DISC_CACHE_MAX);
	rc = file_read_nofollow(path, DISC_CACHE_MAX, &b, e);
	if (rc == 1 && disc_cache_parse((const char *)b.p, b.len, region, norm_filter, out, e) < 0)
		rc = -1;
	buf_free(&b);
	if (rc == 0)
		err_set(e, ERR_OTHER, "%s: no cache file", path);
	return rc == 1 ? 1 : 0;
}

int disc_cache_store(const char *dir, const char *name, const struct disc_list *l,
		     const char *region, const char *norm_filter, struct err *e)
{
	char path[CONFIG_PATH_MAX];
	struct buf b;
	int w, rc;

	w = snprintf(path, sizeof path, "%s/%s", dir, name);
	if (w < 0 || (size_t)w >= sizeof path)
		return err_set(e, ERR_OTHER, "cache path too long");
	if (file_mkdirs(dir, 0700, e) < 0)
		return -1;
	buf_init(&b, DISC_CACHE_MAX);
	if (disc_cache_format(l, region, norm_filter, &b) < 0) {
		buf_free(&b);
		return err_set(e, ERR_OTHER, "cache too large");
	}
	rc = file_write_atomic(path, b.p, b.len, 0600, e);
	buf_free(&b);
	return rc;
}
