/* anthropic_req: Anthropic Messages requests -> InvokeModel / CountTokens
 * bodies, beta filtering and model-name resolution (see anthropic.h). */
#include "bedrock/anthropic.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/base64.h"
#include "wire/json.h"

const char *const anth_default_betas[] = {
	"computer-use-2024-10-22",     "computer-use-2025-01-24",
	"computer-use-2025-11-24",     "token-efficient-tools-2025-02-19",
	"interleaved-thinking-2025-05-14", "output-128k-2025-02-19",
	"dev-full-thinking-2025-05-14", "context-1m-2025-08-07",
	"context-management-2025-06-27", "effort-2025-11-24",
	"tool-search-tool-2025-10-19", "tool-examples-2025-10-29",
	NULL};

struct anth_map {
	struct json_doc d;
	struct anth_req *rq;
	struct err *e;
	struct jw w;
};

static int anth_fail(struct anth_map *m, const char *param, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int anth_fail(struct anth_map *m, const char *param, const char *fmt, ...)
{
	char text[400];
	va_list ap;

	snprintf(m->rq->param, sizeof m->rq->param, "%s", param ? param : "");
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (m->rq->param[0])
		return err_set(m->e, ERR_USAGE, "%s: %s", m->rq->param, text);
	return err_set(m->e, ERR_USAGE, "%s", text);
}

/* Member with JSON null read as absent. */
static int anth_member(const struct json_doc *d, int obj, const char *key)
{
	int v = json_get(d, obj, key);

	return json_type(d, v) == JSON_NULL ? -1 : v;
}

static int anth_beta_allowed(struct slice b, const char *const *allowed)
{
	for (size_t i = 0; allowed[i]; i++)
		if (slice_eq_str(b, allowed[i]))
			return 1;
	return 0;
}

/* Writes the filtered betas (if any) as "anthropic_beta"; sets *effort and
 * *ctxm when those betas are forwarded. Duplicates are sent once. */
static void anth_betas(struct anth_map *m, const char *beta, const char *const *allowed,
		       int *effort, int *ctxm)
{
	struct slice sent[ANTH_MAX_BETAS];
	int ns = 0;
	const char *p = beta;

	*effort = *ctxm = 0;
	while (p && *p) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		struct slice b = slice_trim((struct slice){(const uint8_t *)p, len});
		int dup = 0;

		p = c ? c + 1 : NULL;
		if (b.n == 0)
			continue;
		for (int i = 0; i < ns; i++)
			dup |= slice_eq(sent[i], b);
		if (dup)
			continue;
		if (!anth_beta_allowed(b, allowed) || ns == ANTH_MAX_BETAS) {
			m->rq->ndropped++;
			continue;
		}
		if (ns == 0) {
			jw_key(&m->w, "anthropic_beta");
			jw_arr_begin(&m->w);
		}
		sent[ns++] = b;
		jw_strn(&m->w, b.p, b.n);
		*effort |= slice_eq_str(b, "effort-2025-11-24");
		*ctxm |= slice_eq_str(b, "context-management-2025-06-27");
	}
	if (ns)
		jw_arr_end(&m->w);
	m->rq->nbetas = ns;
}

/* Opens the system array before its first block. */
static void anth_sys_open(struct anth_map *m, int *open)
{
	if (!(*open)++) {
		jw_key(&m->w, "system");
		jw_arr_begin(&m->w);
	}
}

/* One system source (a string or an array of blocks); "" adds nothing
 * (Bedrock rejects empty text). */
static int anth_system_part(struct anth_map *m, int t, const char *param, int *open)
{
	if (json_type(&m->d, t) == JSON_STRING) {
		if (json_raw(&m->d, t).n == 0)
			return 0;
		anth_sys_open(m, open);
		jw_obj_begin(&m->w);
		jw_kstr(&m->w, "type", "text");
		jw_key(&m->w, "text");
		jw_tok(&m->w, &m->d, t);
		jw_obj_end(&m->w);
		return 0;
	}
	if (json_type(&m->d, t) != JSON_ARRAY)
		return anth_fail(m, param, "expected a string or an array of text blocks");
	for (int b = json_child(&m->d, t); b >= 0; b = json_next(&m->d, b)) {
		if (json_type(&m->d, b) != JSON_OBJECT)
			return anth_fail(m, param, "expected an array of text blocks");
		anth_sys_open(m, open);
		jw_tok(&m->w, &m->d, b);
	}
	return 0;
}

/* system + the messages of role system, as one block array (none when
 * nothing is in them). */
static int anth_system(struct anth_map *m, int msgs)
{
	int sys = anth_member(&m->d, 0, "system"), open = 0;
	char param[64];
	size_t i = 0;

	if (sys >= 0 && anth_system_part(m, sys, "system", &open) < 0)
		return -1;
	for (int k = json_child(&m->d, msgs); k >= 0; k = json_next(&m->d, k), i++) {
		if (!json_str_eq(&m->d, json_get(&m->d, k, "role"), "system"))
			continue;
		snprintf(param, sizeof param, "messages[%zu].content", i);
		if (anth_system_part(m, json_get(&m->d, k, "content"), param, &open) < 0)
			return -1;
	}
	if (open)
		jw_arr_end(&m->w);
	return 0;
}

static int anth_messages(struct anth_map *m, int msgs)
{
	char param[64];
	size_t i = 0;
	int nconv = 0;

	for (int k = json_child(&m->d, msgs); k >= 0; k = json_next(&m->d, k), i++) {
		int role = json_get(&m->d, k, "role"), c = json_get(&m->d, k, "content");

		snprintf(param, sizeof param, "messages[%zu]", i);
		if (json_type(&m->d, k) != JSON_OBJECT)
			return anth_fail(m, param, "expected an object");
		if (!json_str_eq(&m->d, role, "user") && !json_str_eq(&m->d, role, "assistant") &&
		    !json_str_eq(&m->d, role, "system"))
			return anth_fail(m, param, "role must be user, assistant or system");
		if (json_type(&m->d, c) != JSON_STRING && json_type(&m->d, c) != JSON_ARRAY)
			return anth_fail(m, param,
					 "content must be a string or an array of blocks");
		nconv += !json_str_eq(&m->d, role, "system");
	}
	if (nconv == 0)
		return anth_fail(m, "messages", "at least one user message is required");
	jw_key(&m->w, "messages");
	jw_arr_begin(&m->w);
	for (int k = json_child(&m->d, msgs); k >= 0; k = json_next(&m->d, k))
		if (!json_str_eq(&m->d, json_get(&m->d, k, "role"), "system"))
			jw_tok(&m->w, &m->d, k);
	jw_arr_end(&m->w);
	return 0;
}

static int anth_dropped_key(struct slice k, int effort, int ctxm)
{
	static const char *const drop[] = {"model",	    "stream",	     "metadata",
					   "service_tier", "container",     "inference_geo",
					   "system",	    "messages",	     "anthropic_version",
					   "anthropic_beta", "max_tokens",   NULL};

	for (size_t i = 0; drop[i]; i++)
		if (slice_eq_str(k, drop[i]))
			return 1;
	if (slice_eq_str(k, "output_config"))
		return !effort;
	if (slice_eq_str(k, "context_management"))
		return !ctxm;
	return 0;
}

/* The request-level checks; fills rq. */
static int anth_check(struct anth_map *m, int need_max, int *msgs)
{
	int t;
	int64_t v;
	struct err tmp;

	if (json_type(&m->d, 0) != JSON_OBJECT)
		return anth_fail(m, NULL, "the request body must be a JSON object");
	t = json_get(&m->d, 0, "model");
	if (json_type(&m->d, t) != JSON_STRING ||
	    json_strz(&m->d, t, m->rq->model, sizeof m->rq->model, &tmp) < 0 || !m->rq->model[0])
		return anth_fail(m, "model", "expected a model name");
	t = anth_member(&m->d, 0, "stream");
	if (t >= 0 && json_bool(&m->d, t, &m->rq->stream, &tmp) < 0)
		return anth_fail(m, "stream", "expected true or false");
	t = anth_member(&m->d, 0, "max_tokens");
	if (t < 0 && need_max)
		return anth_fail(m, "max_tokens", "field required");
	if (t >= 0 && (json_int64(&m->d, t, &v, &tmp) < 0 || v < 1))
		return anth_fail(m, "max_tokens", "expected a positive integer");
	m->rq->max_tokens = t >= 0 ? (long long)v : 0;
	t = json_path(&m->d, 0, "metadata.user_id");
	if (json_type(&m->d, t) == JSON_STRING)
		(void)json_strz(&m->d, t, m->rq->user_id, sizeof m->rq->user_id, &tmp);
	*msgs = json_get(&m->d, 0, "messages");
	if (json_type(&m->d, *msgs) != JSON_ARRAY || json_size(&m->d, *msgs) < 1)
		return anth_fail(m, "messages", "expected a non-empty array of messages");
	return 0;
}

static int anth_build(struct anth_map *m, const char *beta, const char *const *allowed,
		      int need_max)
{
	int msgs = -1, effort, ctxm;

	if (anth_check(m, need_max, &msgs) < 0)
		return -1;
	jw_obj_begin(&m->w);
	jw_kstr(&m->w, "anthropic_version", ANTH_VERSION);
	anth_betas(m, beta, allowed ? allowed : anth_default_betas, &effort, &ctxm);
	jw_kint(&m->w, "max_tokens", m->rq->max_tokens ? m->rq->max_tokens : 1);
	if (anth_system(m, msgs) < 0 || anth_messages(m, msgs) < 0)
		return -1;
	for (int k = json_child(&m->d, 0); k >= 0; k = json_next(&m->d, k)) {
		struct slice key = json_raw(&m->d, k);

		if (anth_dropped_key(key, effort, ctxm))
			continue;
		jw_keyn(&m->w, (const char *)key.p, key.n);
		jw_tok(&m->w, &m->d, k + 1);
	}
	jw_obj_end(&m->w);
	return 0;
}

static int anth_map_into(const uint8_t *body, size_t n, const char *beta,
			 const char *const *allowed, struct anth_req *rq, struct buf *out,
			 int need_max, struct err *e)
{
	struct anth_map m;
	size_t len0 = out->len;
	int r;

	memset(rq, 0, sizeof *rq);
	memset(&m, 0, sizeof m);
	m.rq = rq;
	m.e = e;
	if (json_parse_alloc(&m.d, (const char *)body, n, ANTH_MAX_TOKENS, e) < 0) {
		char why[200];

		snprintf(why, sizeof why, "%.180s", e->msg);
		return err_set(e, ERR_USAGE, "the request body is not valid JSON (%s)", why);
	}
	jw_init(&m.w, out);
	r = anth_build(&m, beta, allowed, need_max);
	if (r == 0)
		r = jw_finish(&m.w, e);
	json_doc_free(&m.d);
	if (r < 0)
		out->len = len0;
	return r;
}

int anth_map_invoke(const uint8_t *body, size_t n, const char *beta,
		    const char *const *allowed, struct anth_req *rq, struct buf *out,
		    struct err *e)
{
	return anth_map_into(body, n, beta, allowed, rq, out, 1, e);
}

int anth_map_count_tokens(const uint8_t *body, size_t n, const char *beta,
			  const char *const *allowed, struct anth_req *rq, struct buf *out,
			  struct err *e)
{
	struct buf inner;
	size_t len0 = out->len;
	int r;

	buf_init(&inner, out->max);
	r = anth_map_into(body, n, beta, allowed, rq, &inner, 0, e);
	if (r == 0) {
		if (buf_append_str(out, "{\"input\":{\"invokeModel\":{\"body\":\"") < 0 ||
		    base64_encode_buf(out, inner.p, inner.len) < 0 ||
		    buf_append_str(out, "\"}}}") < 0) {
			out->len = len0;
			r = err_set(e, ERR_OTHER, "count_tokens body too large");
		}
	}
	buf_free(&inner);
	return r;
}

int anth_count_tokens_answer(const uint8_t *body, size_t n, struct buf *out, struct err *e)
{
	struct json_tok tok[64];
	struct json_doc d;
	int64_t v;
	struct jw w;

	if (json_parse(&d, (const char *)body, n, tok, 64, e) < 0 ||
	    json_int64(&d, json_get(&d, 0, "inputTokens"), &v, e) < 0)
		return err_set(e, ERR_PROTO, "malformed CountTokens answer");
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kint(&w, "input_tokens", v);
	jw_obj_end(&w);
	return jw_finish(&w, e);
}

/* ---- model names ---- */

static const char *anth_strip_geo(const char *id, struct slice *geo)
{
	static const char *const geos[] = {"us.", "eu.", "apac.", "global.", "jp.", "au.",
					   "ca.", "us-gov.", "uk.", NULL};

	*geo = (struct slice){NULL, 0};
	for (size_t i = 0; geos[i]; i++) {
		size_t g = strlen(geos[i]);

		if (strncmp(id, geos[i], g) == 0) {
			*geo = (struct slice){(const uint8_t *)id, g - 1};
			return id + g;
		}
	}
	return id;
}

int anth_model_is_claude(const char *id)
{
	struct slice geo;
	const char *p = anth_strip_geo(id, &geo);

	return strncmp(p, "anthropic.claude", 16) == 0 || strncmp(id, "claude-", 7) == 0;
}

static int anth_digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* The base name of a candidate (after "anthropic."): its length without the
 * version suffix ("-v2:0", ":0", "-v1"). */
static size_t anth_base_len(const char *p)
{
	size_t n = strlen(p);
	const char *colon = strrchr(p, ':');
	const char *v;

	if (colon && anth_digits(colon + 1, strlen(colon + 1)))
		n = (size_t)(colon - p);
	v = n ? p + n : p;
	while (v > p && v[-1] >= '0' && v[-1] <= '9')
		v--;
	if (v > p + 2 && v < p + n && v[-1] == 'v' && v[-2] == '-')
		n = (size_t)(v - 2 - p);
	return n;
}

/* Rank of candidate id for name: 0 no match, else 1 bare, 2 global, 3 geo.
 * *date points at its "YYYYMMDD" (or "" when the name carried it). */
static int anth_rank(const char *name, const char *id, const char *want_geo, const char **date)
{
	struct slice geo;
	const char *p = anth_strip_geo(id, &geo);
	size_t nl = strlen(name), bl;

	if (strncmp(p, "anthropic.", 10) != 0)
		return 0;
	p += 10;
	bl = anth_base_len(p);
	if (bl < nl || strncmp(p, name, nl) != 0)
		return 0;
	if (bl == nl)
		*date = "";
	else if (bl == nl + 9 && p[nl] == '-' && anth_digits(p + nl + 1, 8))
		*date = p + nl + 1;
	else
		return 0;
	if (!geo.n)
		return 1;
	if (slice_eq_str(geo, "global"))
		return 2;
	return want_geo && want_geo[0] && slice_eq_str(geo, want_geo) ? 3 : 0;
}

int anth_resolve_model(const char *name, const char *const *ids, size_t n, const char *geo,
		       char out[ANTH_MODEL_MAX], struct err *e)
{
	const char *best = NULL, *best_date = "";
	int best_rank = 0;

	for (size_t i = 0; i < n; i++)
		if (strcmp(ids[i], name) == 0) {
			snprintf(out, ANTH_MODEL_MAX, "%s", name);
			return 0;
		}
	for (size_t i = 0; i < n && strncmp(name, "claude-", 7) == 0; i++) {
		const char *date = "";
		int r = anth_rank(name, ids[i], geo, &date);
		int c;

		if (r == 0 || r < best_rank)
			continue;
		c = strncmp(date, best_date, 8);
		if (r > best_rank || c > 0 || (c == 0 && strcmp(ids[i], best) > 0)) {
			best = ids[i];
			best_rank = r;
			best_date = date;
		}
	}
	if (!best || strlen(best) >= ANTH_MODEL_MAX)
		return err_set(e, ERR_USAGE, "unknown model '%.200s' (not in the model catalog)",
			       name);
	snprintf(out, ANTH_MODEL_MAX, "%s", best);
	return 0;
}
