/* profile: the AWS shared config and credentials files. Line oriented: each
 * line is blank, a comment, a section header, a continuation (leading
 * whitespace) or a property. The rules follow the cross-SDK parser test
 * suite; where SDKs differ we take the lenient choice (ignore and warn)
 * unless the suite calls the line an error. See profile.h. */
#include "wire/profile.h"

#include <string.h>

struct pstate {
	struct profile_file *pf;
	struct err *e;
	uint32_t line;
	int sec;          /* current section, -1 when none or ignored */
	int in_ignored;   /* inside a section we ignore: skip its lines */
	int seen_section; /* a section line was seen (even an ignored one) */
	int prop;         /* property continuation lines extend, or -1 */
	int skip_cont;    /* the last property was ignored: so are its continuations */
	int sub_mode;     /* prop had an empty value: continuations are sub-properties */
};

static int is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int is_comment(uint8_t c)
{
	return c == '#' || c == ';';
}

/* The identifier set of the SDKs (and '\\' kept for compatibility). */
static int is_ident(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("_-/.%@:+\\", c) != NULL);
}

/* A view [off, off+len) of the text, trimmed on both sides. */
struct view {
	size_t off, len;
};

static struct view trim(const uint8_t *t, struct view v)
{
	while (v.len && is_ws(t[v.off])) {
		v.off++;
		v.len--;
	}
	while (v.len && is_ws(t[v.off + v.len - 1]))
		v.len--;
	return v;
}

static int valid_name(const uint8_t *t, struct view v)
{
	if (v.len == 0)
		return 0;
	for (size_t i = 0; i < v.len; i++)
		if (!is_ident(t[v.off + i]))
			return 0;
	return 1;
}

static struct profile_span text_span(struct view v)
{
	struct profile_span s = {(uint32_t)v.off, (uint32_t)v.len, 0};
	return s;
}

static struct slice span_slice(const struct profile_file *pf, struct profile_span s)
{
	struct slice r;

	r.p = s.in_arena ? pf->arena.p + s.off : pf->text + s.off;
	r.n = s.len;
	if (!r.p) /* empty text or arena */
		r.p = (const uint8_t *)"";
	return r;
}

static int fail(struct pstate *st, const char *what)
{
	return err_set(st->e, ERR_USAGE, "line %u: %s", (unsigned)st->line, what);
}

static void warn(struct pstate *st, const char *why)
{
	struct profile_file *pf = st->pf;

	if (pf->nwarn < PROFILE_MAX_WARN) {
		pf->warn[pf->nwarn].line = st->line;
		pf->warn[pf->nwarn].why = why;
	}
	pf->nwarn++;
}

/* ---- lookup primitives ---- */

static int find_sec(const struct profile_file *pf, int type, struct slice name)
{
	for (size_t i = 0; i < pf->nsec; i++)
		if (pf->sec[i].type == type && slice_eq(span_slice(pf, pf->sec[i].name), name))
			return (int)i;
	return -1;
}

static int find_prop(const struct profile_file *pf, int sec, int parent, struct slice key)
{
	for (size_t i = 0; i < pf->nprop; i++) {
		const struct profile_prop *p = &pf->prop[i];
		if (!p->dead && p->sec == sec && p->parent == parent &&
		    slice_eq(span_slice(pf, p->key), key))
			return (int)i;
	}
	return -1;
}

/* ---- building ---- */

static void kill_children(struct profile_file *pf, int parent)
{
	for (size_t i = 0; i < pf->nprop; i++)
		if (pf->prop[i].parent == parent)
			pf->prop[i].dead = 1;
}

static void kill_section_props(struct profile_file *pf, int sec)
{
	for (size_t i = 0; i < pf->nprop; i++)
		if (pf->prop[i].sec == sec)
			pf->prop[i].dead = 1;
}

/* Defines key in sec (under parent): a redefinition replaces the value in
 * place and drops the old sub-properties. Returns the index or -1. */
static int add_prop(struct pstate *st, int parent, struct view key, struct view value)
{
	struct profile_file *pf = st->pf;
	struct slice k = {pf->text + key.off, key.len};
	int i = find_prop(pf, st->sec, parent, k);

	if (i >= 0) {
		pf->prop[i].value = text_span(value);
		if (parent < 0)
			kill_children(pf, i);
		return i;
	}
	if (pf->nprop >= PROFILE_MAX_PROPS)
		return fail(st, "too many properties (limit " "1024)");
	i = (int)pf->nprop++;
	pf->prop[i].key = text_span(key);
	pf->prop[i].value = text_span(value);
	pf->prop[i].sec = (uint16_t)st->sec;
	pf->prop[i].parent = (int16_t)parent;
	pf->prop[i].dead = 0;
	return i;
}

/* Appends "\n" + c to the current property's value, in the arena. The value
 * being continued is always the arena's tail once it has been moved there,
 * so the arena never holds more than the text did. */
static int continue_value(struct pstate *st, struct view c)
{
	struct profile_file *pf = st->pf;
	struct profile_span *v = &pf->prop[st->prop].value;

	if ((size_t)v->len + 1 + c.len > PROFILE_MAX_VALUE)
		return fail(st, "value too long (limit 64 KiB)");
	if (!v->in_arena || (size_t)v->off + v->len != pf->arena.len) {
		size_t off = pf->arena.len;
		if (buf_append(&pf->arena, pf->text + v->off, v->len) < 0)
			return err_set(st->e, ERR_OTHER, "out of memory");
		v->off = (uint32_t)off;
		v->in_arena = 1;
	}
	if (buf_append_byte(&pf->arena, '\n') < 0 ||
	    buf_append(&pf->arena, pf->text + c.off, c.len) < 0)
		return err_set(st->e, ERR_OTHER, "out of memory");
	v->len += (uint32_t)(1 + c.len);
	return 0;
}

/* ---- line kinds ---- */

static int starts_with_word(const uint8_t *t, struct view v, const char *w)
{
	size_t n = strlen(w);

	/* the keyword must be followed by whitespace: "[profilefoo]" is a name */
	return v.len > n && memcmp(t + v.off, w, n) == 0 && is_ws(t[v.off + n]);
}

static void enter_ignored(struct pstate *st, const char *why)
{
	st->sec = -1;
	st->in_ignored = 1;
	if (why)
		warn(st, why);
}

/* The name inside a section header line "[prefix name] ; comment": *name,
 * and the type and *prefixed when one of the prefix words leads. Returns 0,
 * or fail()'s -1 when the ']' is missing. */
static int section_header(struct pstate *st, struct view line, struct view *name, int *type,
			  int *prefixed)
{
	static const struct {
		const char *word;
		int type;
	} prefixes[] = {{"profile", PROFILE_SEC_PROFILE},
			{"sso-session", PROFILE_SEC_SSO_SESSION},
			{"services", PROFILE_SEC_SERVICES}};
	const uint8_t *t = st->pf->text;
	struct view inner;
	size_t end = 0, rb = 0;

	/* a comment may follow a section header, even without whitespace */
	while (end < line.len && !is_comment(t[line.off + end]))
		end++;
	for (rb = 1; rb < end && t[line.off + rb] != ']'; rb++)
		;
	if (rb >= end)
		return fail(st, "section header without ']'");
	inner.off = line.off + 1;
	inner.len = rb - 1;
	inner = trim(t, inner);
	*name = inner;
	*type = PROFILE_SEC_PROFILE;
	*prefixed = 0;
	for (size_t k = 0; k < sizeof prefixes / sizeof prefixes[0]; k++) {
		if (starts_with_word(t, inner, prefixes[k].word)) {
			size_t w = strlen(prefixes[k].word);
			name->off = inner.off + w;
			name->len = inner.len - w;
			*name = trim(t, *name);
			*type = prefixes[k].type;
			*prefixed = 1;
			break;
		}
	}
	return 0;
}

static int parse_section(struct pstate *st, struct view line)
{
	struct profile_file *pf = st->pf;
	struct view name;
	int type, prefixed, i;
	struct slice nm;

	st->prop = -1;
	st->skip_cont = 0;
	st->in_ignored = 0;
	st->seen_section = 1;
	if (section_header(st, line, &name, &type, &prefixed))
		return -1;
	if (!valid_name(pf->text, name)) {
		enter_ignored(st, "section ignored: name is empty or has invalid characters");
		return 0;
	}
	if (name.len > PROFILE_MAX_NAME)
		return fail(st, "section name too long (limit 256)");
	nm.p = pf->text + name.off;
	nm.n = name.len;
	if (pf->kind == PROFILE_CREDENTIALS && prefixed) {
		enter_ignored(st, "section ignored: the credentials file takes [NAME] only");
		return 0;
	}
	if (pf->kind == PROFILE_CONFIG && !prefixed && !slice_eq_str(nm, "default")) {
		enter_ignored(st, "section ignored: the config file needs [profile NAME]");
		return 0;
	}
	i = find_sec(pf, type, nm);
	if (i >= 0 && pf->kind == PROFILE_CONFIG && type == PROFILE_SEC_PROFILE &&
	    slice_eq_str(nm, "default")) {
		/* [profile default] supersedes [default], whatever the order */
		if (!prefixed && pf->sec[i].prefixed) {
			enter_ignored(st, "section ignored: [profile default] supersedes [default]");
			return 0;
		}
		if (prefixed && !pf->sec[i].prefixed) {
			kill_section_props(pf, i);
			pf->sec[i].prefixed = 1;
		}
	}
	if (i < 0) {
		if (pf->nsec >= PROFILE_MAX_SECTIONS)
			return fail(st, "too many sections (limit 256)");
		i = (int)pf->nsec++;
		pf->sec[i].name = text_span(name);
		pf->sec[i].type = (uint8_t)type;
		pf->sec[i].prefixed = (uint8_t)prefixed;
	}
	st->sec = i;
	return 0;
}

/* "key = value" without the leading whitespace of sub-property lines.
 * Comments start at whitespace followed by '#' or ';'. */
static int split_property(struct pstate *st, struct view line, struct view *key,
			  struct view *value)
{
	const uint8_t *t = st->pf->text;
	size_t end = 0, eq;

	while (end < line.len &&
	       !(end + 1 < line.len && is_ws(t[line.off + end]) && is_comment(t[line.off + end + 1])))
		end++;
	for (eq = 0; eq < end && t[line.off + eq] != '='; eq++)
		;
	if (eq >= end)
		return fail(st, "expected 'name = value'");
	key->off = line.off;
	key->len = eq;
	*key = trim(t, *key);
	if (key->len == 0)
		return fail(st, "property with an empty name");
	value->off = line.off + eq + 1;
	value->len = end - eq - 1;
	*value = trim(t, *value);
	if (key->len > PROFILE_MAX_NAME)
		return fail(st, "property name too long (limit 256)");
	if (value->len > PROFILE_MAX_VALUE)
		return fail(st, "value too long (limit 64 KiB)");
	return 0;
}

static int parse_property(struct pstate *st, struct view line)
{
	struct view key, value;

	st->prop = -1;
	st->skip_cont = 0;
	if (split_property(st, line, &key, &value) < 0)
		return -1;
	if (st->sec < 0) {
		if (!st->seen_section)
			return fail(st, "property before any [section]");
		st->skip_cont = 1; /* in an ignored section */
		return 0;
	}
	if (!valid_name(st->pf->text, key)) {
		warn(st, "property ignored: name has invalid characters");
		st->skip_cont = 1;
		return 0;
	}
	st->prop = add_prop(st, -1, key, value);
	if (st->prop < 0)
		return -1;
	st->sub_mode = value.len == 0;
	return 0;
}

static int parse_continuation(struct pstate *st, struct view line)
{
	const uint8_t *t = st->pf->text;
	struct view c = trim(t, line), key, value;
	int i;

	if (st->in_ignored || st->skip_cont)
		return 0;
	/* an indented comment where no value is being continued is a comment */
	if (is_comment(t[c.off]) && (st->prop < 0 || st->sub_mode))
		return 0;
	if (st->prop < 0)
		return fail(st, "continuation line without a property to continue");
	if (!st->sub_mode)
		return continue_value(st, c);
	if (split_property(st, c, &key, &value) < 0)
		return -1;
	if (!valid_name(t, key)) {
		warn(st, "sub-property ignored: name has invalid characters");
		return 0;
	}
	i = add_prop(st, st->prop, key, value);
	return i < 0 ? -1 : 0;
}

static int parse_line(struct pstate *st, struct view line)
{
	const uint8_t *t = st->pf->text;

	if (trim(t, line).len == 0)
		return 0; /* blank; keeps the property being continued */
	if (is_comment(t[line.off]))
		return 0;
	if (t[line.off] == '[')
		return parse_section(st, line);
	if (is_ws(t[line.off]))
		return parse_continuation(st, line);
	return parse_property(st, line);
}

static void reset(struct profile_file *pf, int kind)
{
	pf->kind = kind;
	pf->text = NULL;
	pf->text_len = 0;
	pf->nsec = 0;
	pf->nprop = 0;
	pf->nwarn = 0;
}

int profile_parse(struct profile_file *pf, enum profile_kind kind, const void *text, size_t n,
		  struct err *e)
{
	const uint8_t *t = text;
	struct pstate st;
	size_t pos = 0;

	reset(pf, kind);
	buf_init(&pf->arena, n + 16);
	if (n > PROFILE_MAX_TEXT)
		return err_set(e, ERR_USAGE, "file too large (limit 1 MiB)");
	if (n && memchr(t, 0, n)) {
		/* values must be usable as C strings */
		return err_set(e, ERR_USAGE, "NUL byte in file");
	}
	pf->text = t;
	pf->text_len = n;
	memset(&st, 0, sizeof st);
	st.pf = pf;
	st.e = e;
	st.sec = -1;
	st.prop = -1;
	if (n >= 3 && t[0] == 0xEF && t[1] == 0xBB && t[2] == 0xBF)
		pos = 3;
	while (pos < n) {
		const uint8_t *nl = memchr(t + pos, '\n', n - pos);
		size_t end = nl ? (size_t)(nl - t) : n;
		struct view line = {pos, end - pos};

		st.line++;
		if (parse_line(&st, line) < 0) {
			profile_free(pf);
			reset(pf, kind);
			return -1;
		}
		pos = end + 1;
	}
	return 0;
}

void profile_free(struct profile_file *pf)
{
	buf_free(&pf->arena);
	pf->nsec = 0;
	pf->nprop = 0;
}

/* ---- one file ---- */

int profile_file_has(const struct profile_file *pf, enum profile_sec_type t, const char *section)
{
	return pf && find_sec(pf, (int)t, slice_str(section)) >= 0;
}

int profile_file_get(const struct profile_file *pf, enum profile_sec_type t, const char *section,
		     const char *key, struct slice *out)
{
	int s, p;

	if (!pf || (s = find_sec(pf, (int)t, slice_str(section))) < 0)
		return 0;
	if ((p = find_prop(pf, s, -1, slice_str(key))) < 0)
		return 0;
	*out = span_slice(pf, pf->prop[p].value);
	return 1;
}

int profile_file_get_sub(const struct profile_file *pf, enum profile_sec_type t,
			 const char *section, const char *key, const char *sub, struct slice *out)
{
	int s, p, q;

	if (!pf || (s = find_sec(pf, (int)t, slice_str(section))) < 0)
		return 0;
	if ((p = find_prop(pf, s, -1, slice_str(key))) < 0)
		return 0;
	if ((q = find_prop(pf, s, p, slice_str(sub))) < 0)
		return 0;
	*out = span_slice(pf, pf->prop[q].value);
	return 1;
}

int profile_file_section(const struct profile_file *pf, enum profile_sec_type t, size_t i,
			 struct slice *name)
{
	if (!pf)
		return 0;
	for (size_t k = 0; k < pf->nsec; k++) {
		if (pf->sec[k].type != (int)t)
			continue;
		if (i-- == 0) {
			*name = span_slice(pf, pf->sec[k].name);
			return 1;
		}
	}
	return 0;
}

/* ---- merged ---- */

int profile_get(const struct profile_set *ps, const char *profile, const char *key,
		struct slice *out)
{
	return profile_file_get(ps->credentials, PROFILE_SEC_PROFILE, profile, key, out) ||
	       profile_file_get(ps->config, PROFILE_SEC_PROFILE, profile, key, out);
}

int profile_get_str(const struct profile_set *ps, const char *profile, const char *key, char *dst,
		    size_t dstsz)
{
	struct slice v;

	if (dstsz)
		dst[0] = 0;
	if (!profile_get(ps, profile, key, &v))
		return 0;
	if (v.n >= dstsz)
		return -1;
	memcpy(dst, v.p, v.n);
	dst[v.n] = 0;
	return 1;
}

int profile_get_sub(const struct profile_set *ps, const char *profile, const char *key,
		    const char *sub, struct slice *out)
{
	return profile_file_get_sub(ps->credentials, PROFILE_SEC_PROFILE, profile, key, sub, out) ||
	       profile_file_get_sub(ps->config, PROFILE_SEC_PROFILE, profile, key, sub, out);
}

int profile_exists(const struct profile_set *ps, const char *profile)
{
	return profile_file_has(ps->credentials, PROFILE_SEC_PROFILE, profile) ||
	       profile_file_has(ps->config, PROFILE_SEC_PROFILE, profile);
}

size_t profile_list(const struct profile_set *ps, struct slice *names, size_t max)
{
	size_t total = 0;
	struct slice nm;

	for (size_t i = 0; profile_file_section(ps->config, PROFILE_SEC_PROFILE, i, &nm); i++) {
		if (total < max)
			names[total] = nm;
		total++;
	}
	for (size_t i = 0; profile_file_section(ps->credentials, PROFILE_SEC_PROFILE, i, &nm); i++) {
		if (ps->config && find_sec(ps->config, PROFILE_SEC_PROFILE, nm) >= 0)
			continue;
		if (total < max)
			names[total] = nm;
		total++;
	}
	return total;
}

int profile_sso_get(const struct profile_set *ps, const char *session, const char *key,
		    struct slice *out)
{
	return profile_file_get(ps->config, PROFILE_SEC_SSO_SESSION, session, key, out);
}

int profile_services_get(const struct profile_set *ps, const char *services, const char *service,
			 const char *key, struct slice *out)
{
	return profile_file_get_sub(ps->config, PROFILE_SEC_SERVICES, services, service, key, out);
}
