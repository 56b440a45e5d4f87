/* discovery: ListFoundationModels + ListInferenceProfiles, the SPEC 5
 * filters, and the refresh step over the cache. See discovery.h; the
 * flat-file cache itself is discovery_cache.c. */
#include "bedrock/discovery.h"
#include "base/file.h"
#include "bedrock/discovery_priv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/json.h"
#include "base/pctenc.h"

/* ------------------------------------------------------------------ list */

void disc_list_free(struct disc_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].id);
		free(l->v[i].name);
		free(l->v[i].provider);
		free(l->v[i].base);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

int disc_list_add(struct disc_list *l, const char *id, size_t idn, const char *name, size_t namen,
		  const char *provider, size_t provn, unsigned input, int profile, struct err *e)
{
	struct disc_model *m;

	if (l->n >= DISC_MAX_MODELS)
		return err_set(e, ERR_OTHER, "more than %d models", DISC_MAX_MODELS);
	if (idn > DISC_MAX_FIELD || namen > DISC_MAX_FIELD || provn > DISC_MAX_FIELD)
		return err_set(e, ERR_OTHER, "model field longer than %d bytes", DISC_MAX_FIELD);
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		struct disc_model *nv = realloc(l->v, nc * sizeof *nv);

		if (!nv)
			return err_set(e, ERR_OTHER, "out of memory");
		l->v = nv;
		l->cap = nc;
	}
	m = &l->v[l->n];
	memset(m, 0, sizeof *m);
	m->id = str_dupn(id, idn);
	m->name = str_dupn(name, name ? namen : 0);
	m->provider = str_dupn(provider, provider ? provn : 0);
	m->base = str_dupn("", 0);
	if (!m->id || !m->name || !m->provider || !m->base) {
		free(m->id);
		free(m->name);
		free(m->provider);
		free(m->base);
		return err_set(e, ERR_OTHER, "out of memory");
	}
	m->input = input;
	m->profile = profile;
	l->n++;
	return 0;
}

int disc_list_set_base(struct disc_list *l, size_t i, const char *base, size_t n, struct err *e)
{
	char *b;

	if (i >= l->n || n > DISC_MAX_FIELD)
		return err_set(e, ERR_OTHER, "bad base model");
	b = str_dupn(base, n);
	if (!b)
		return err_set(e, ERR_OTHER, "out of memory");
	free(l->v[i].base);
	l->v[i].base = b;
	return 0;
}

long disc_list_find(const struct disc_list *l, const char *id, size_t idn)
{
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->v[i].id) == idn && memcmp(l->v[i].id, id, idn) == 0)
			return (long)i;
	return -1;
}

/* Ids reach terminals, URLs and the tab-separated cache: printable ASCII
 * without spaces only (declared in discovery_priv.h). */
int disc_id_ok(const char *s, size_t n)
{
	if (n == 0 || n > 256)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ filter */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int disc_filter_norm(const char *const *filter, size_t n, struct buf *out)
{
	char **v = n ? calloc(n, sizeof *v) : NULL;
	size_t k = 0;
	int rc = 0;

	if (n && !v)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct slice s = slice_trim(slice_str(filter[i]));

		if (!s.n)
			continue;
		v[k] = str_dupn((const char *)s.p, s.n);
		if (!v[k]) {
			rc = -1;
			break;
		}
		str_lower(v[k], s.n);
		k++;
	}
	if (rc == 0 && k)
		qsort(v, k, sizeof *v, cmp_str);
	for (size_t i = 0; rc == 0 && i < k; i++) {
		if (i && strcmp(v[i], v[i - 1]) == 0)
			continue;
		if ((i && buf_append_byte(out, ',') < 0) || buf_append_str(out, v[i]) < 0)
			rc = -1;
	}
	for (size_t i = 0; i < k; i++)
		free(v[i]);
	free(v);
	return rc;
}

/* a[0..an) == b[0..bn), ASCII case-insensitive (slice_eq_nocase wants b
 * NUL-terminated; a maker inside an id is not). */
static int eq_nocase(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return 0;
	for (size_t i = 0; i < an; i++)
		if (str_lower_ch((unsigned char)a[i]) != str_lower_ch((unsigned char)b[i]))
			return 0;
	return 1;
}

int disc_id_maker(const char *id, const char **p, size_t *n)
{
	static const char *const geo[] = {"us", "us-gov", "eu", "apac",   "ap",
					  "ca", "jp",     "au", "global", NULL};
	const char *s = strrchr(id, '/');
	const char *dot;
	int geo_prefix = 0;

	s = s ? s + 1 : id;
	dot = strchr(s, '.');
	if (dot && strchr(dot + 1, '.')) {
		for (size_t i = 0; geo[i]; i++)
			if (eq_nocase(s, (size_t)(dot - s), geo[i], strlen(geo[i]))) {
				s = dot + 1;
				dot = strchr(s, '.');
				geo_prefix = 1;
				break;
			}
	}
	*p = s;
	*n = dot ? (size_t)(dot - s) : strlen(s);
	return geo_prefix;
}

int disc_filter_pass(const char *norm_filter, const char *provider, const char *id)
{
	const char *f = norm_filter ? norm_filter : "";
	const char *mk;
	size_t mkn;

	if (!*f)
		return 1;
	disc_id_maker(id ? id : "", &mk, &mkn);
	while (*f) {
		const char *c = strchr(f, ',');
		size_t n = c ? (size_t)(c - f) : strlen(f);

		if ((provider && eq_nocase(f, n, provider, strlen(provider))) ||
		    eq_nocase(f, n, mk, mkn))
			return 1;
		f += n;
		if (*f == ',')
			f++;
	}
	return 0;
}

/* ------------------------------------------------------------------ API answers */

static int arr_has(const struct json_doc *d, int arr, const char *s)
{
	if (json_type(d, arr) != JSON_ARRAY)
		return 0;
	for (int k = json_child(d, arr); k >= 0; k = json_next(d, k))
		if (json_str_eq(d, k, s))
			return 1;
	return 0;
}

/* A 200 whose body names an error type (SPEC 3.3) is a service error;
 * anything else without the expected array is a protocol error. */
static int shape_error(const struct json_doc *d, const char *what, struct err *e)
{
	int t = json_get(d, 0, "__type");
	char type[128], msg[256];
	const char *h;
	struct err ig;

	if (t < 0)
		t = json_get(d, 0, "code");
	if (json_type(d, t) != JSON_STRING)
		return err_set(e, ERR_PROTO, "%s: unexpected answer (no list in the JSON)", what);
	if (json_strz(d, t, type, sizeof type, &ig) < 0)
		snprintf(type, sizeof type, "(unreadable error type)");
	if ((h = strchr(type, '#')) != NULL)
		memmove(type, h + 1, strlen(h + 1) + 1);
	if (json_strz(d, json_get(d, 0, "message"), msg, sizeof msg, &ig) < 0 &&
	    json_strz(d, json_get(d, 0, "Message"), msg, sizeof msg, &ig) < 0)
		msg[0] = 0;
	return err_set(e, ERR_SERVICE, "%s: %s%s%s", what, type, msg[0] ? ": " : "", msg);
}

/* Decodes a string member into scratch as a C string (NUL bytes become
 * spaces); returns its length, or -1 when absent or not a string. */
static long get_str(const struct json_doc *d, int obj, const char *key, struct buf *scratch)
{
	int t = json_get(d, obj, key);
	struct err ig;

	buf_reset(scratch);
	if (json_type(d, t) != JSON_STRING || json_str_decode(d, t, scratch, &ig) < 0)
		return -1;
	for (size_t i = 0; i < scratch->len; i++)
		if (scratch->p[i] == 0)
			scratch->p[i] = ' ';
	if (scratch->len > DISC_MAX_FIELD)
		return -1;
	return (long)scratch->len;
}

static unsigned inputs_of(const struct json_doc *d, int m)
{
	int a = json_get(d, m, "inputModalities");

	return (arr_has(d, a, "TEXT") ? DISC_IN_TEXT : 0) |
	       (arr_has(d, a, "IMAGE") ? DISC_IN_IMAGE : 0);
}

static int parse_doc(struct json_doc *d, const char *body, size_t n, const char *what,
		     struct err *e)
{
	if (json_parse_alloc(d, body, n, DISC_MAX_TOKENS, e) < 0) {
		e->cls = ERR_PROTO;
		return err_wrap(e, "%s", what);
	}
	if (json_type(d, 0) != JSON_OBJECT) {
		json_doc_free(d);
		return err_set(e, ERR_PROTO, "%s: the answer is not a JSON object", what);
	}
	return 0;
}

/* One modelSummaries entry: appended to fms when it is a candidate. */
static int take_model(const struct json_doc *d, int m, const char *norm_filter,
		      struct disc_list *fms, struct buf *idb, struct buf *nb, struct buf *pb,
		      struct err *e)
{
	int streaming = 0;
	long idn, nn, pn;
	struct err ig;

	if (json_type(d, m) != JSON_OBJECT)
		return 0;
	idn = get_str(d, m, "modelId", idb);
	if (idn < 0 || !disc_id_ok((const char *)idb->p, (size_t)idn))
		return 0;
	if (json_bool(d, json_get(d, m, "responseStreamingSupported"), &streaming, &ig) < 0 ||
	    !streaming)
		return 0;
	if (!arr_has(d, json_get(d, m, "outputModalities"), "TEXT"))
		return 0;
	if (!json_str_eq(d, json_path(d, m, "modelLifecycle.status"), "ACTIVE"))
		return 0;
	pn = get_str(d, m, "providerName", pb);
	if (pn <= 0) {
		const char *mk;
		size_t mkn;

		disc_id_maker((const char *)idb->p, &mk, &mkn);
		buf_reset(pb);
		if (buf_append(pb, mk, mkn) < 0)
			return err_set(e, ERR_OTHER, "out of memory");
		pn = (long)mkn;
	}
	str_lower((char *)pb->p, (size_t)pn);
	if (!disc_filter_pass(norm_filter, (const char *)pb->p, (const char *)idb->p))
		return 0;
	if (disc_list_find(fms, (const char *)idb->p, (size_t)idn) >= 0)
		return 0;
	nn = get_str(d, m, "modelName", nb);
	if (disc_list_add(fms, (const char *)idb->p, (size_t)idn, (const char *)nb->p,
			  nn < 0 ? 0 : (size_t)nn, (const char *)pb->p, (size_t)pn, inputs_of(d, m),
			  0, e) < 0)
		return -1;
	fms->v[fms->n - 1].on_demand =
		arr_has(d, json_get(d, m, "inferenceTypesSupported"), "ON_DEMAND");
	return 0;
}

int disc_parse_models(const char *body, size_t n, const char *norm_filter, struct disc_list *fms,
		      struct err *e)
{
	static const char what[] = "ListFoundationModels";
	struct json_doc d;
	struct buf idb, nb, pb;
	int arr, rc = 0;

	if (parse_doc(&d, body, n, what, e) < 0)
		return -1;
	arr = json_get(&d, 0, "modelSummaries");
	if (json_type(&d, arr) != JSON_ARRAY) {
		shape_error(&d, what, e);
		json_doc_free(&d);
		return -1;
	}
	buf_init(&idb, 1u << 20);
	buf_init(&nb, 1u << 20);
	buf_init(&pb, 1u << 20);
	for (int m = json_child(&d, arr); m >= 0 && rc == 0; m = json_next(&d, m))
		rc = take_model(&d, m, norm_filter, fms, &idb, &nb, &pb, e);
	buf_free(&idb);
	buf_free(&nb);
	buf_free(&pb);
	json_doc_free(&d);
	return rc;
}

/* The foundation model of a profile: the first models[].modelArn that names
 * a candidate. */
static long profile_model(const struct json_doc *d, int p, const struct disc_list *fms,
			  struct buf *scratch)
{
	static const char mark[] = "foundation-model/";
	int arr = json_get(d, p, "models");

	if (json_type(d, arr) != JSON_ARRAY)
		return -1;
	for (int k = json_child(d, arr); k >= 0; k = json_next(d, k)) {
		long n = get_str(d, k, "modelArn", scratch);
		const char *s, *at;
		long i;

		if (n < 0)
			continue;
		s = (const char *)scratch->p;
		at = strstr(s, mark);
		if (!at)
			continue;
		at += sizeof mark - 1;
		i = disc_list_find(fms, at, strlen(at));
		if (i >= 0)
			return i;
	}
	return -1;
}

int disc_parse_profiles(const char *body, size_t n, const struct disc_list *fms,
			struct disc_list *out, struct buf *next, struct err *e)
{
	static const char what[] = "ListInferenceProfiles";
	struct json_doc d;
	struct buf idb, nb, scratch;
	int arr, nt, rc = 0;

	buf_reset(next);
	if (parse_doc(&d, body, n, what, e) < 0)
		return -1;
	arr = json_get(&d, 0, "inferenceProfileSummaries");
	if (json_type(&d, arr) != JSON_ARRAY) {
		shape_error(&d, what, e);
		json_doc_free(&d);
		return -1;
	}
	nt = json_get(&d, 0, "nextToken");
	if (json_type(&d, nt) == JSON_STRING) {
		if (json_str_decode(&d, nt, next, e) < 0 || next->len > 4096 ||
		    memchr(next->p, 0, next->len)) {
			json_doc_free(&d);
			buf_reset(next);
			return err_set(e, ERR_PROTO, "%s: unusable nextToken", what);
		}
	}
	buf_init(&idb, 1u << 20);
	buf_init(&nb, 1u << 20);
	buf_init(&scratch, 1u << 20);
	for (int p = json_child(&d, arr); p >= 0 && rc == 0; p = json_next(&d, p)) {
		long idn, nn, fm;

		if (json_type(&d, p) != JSON_OBJECT ||
		    !json_str_eq(&d, json_get(&d, p, "status"), "ACTIVE"))
			continue;
		/* an application profile is called by its ARN (SPEC 5); its
		 * name is what users see */
		idn = json_str_eq(&d, json_get(&d, p, "type"), "APPLICATION")
			      ? get_str(&d, p, "inferenceProfileArn", &idb)
			      : get_str(&d, p, "inferenceProfileId", &idb);
		if (idn < 0 || !disc_id_ok((const char *)idb.p, (size_t)idn) ||
		    disc_list_find(out, (const char *)idb.p, (size_t)idn) >= 0)
			continue;
		fm = profile_model(&d, p, fms, &scratch);
		if (fm < 0)
			continue;
		nn = get_str(&d, p, "inferenceProfileName", &nb);
		rc = disc_list_add(out, (const char *)idb.p, (size_t)idn, (const char *)nb.p,
				   nn < 0 ? 0 : (size_t)nn, fms->v[fm].provider,
				   strlen(fms->v[fm].provider), fms->v[fm].input, 1, e);
		if (rc == 0)
			rc = disc_list_set_base(out, out->n - 1, fms->v[fm].id,
						strlen(fms->v[fm].id), e);
	}
	buf_free(&idb);
	buf_free(&nb);
	buf_free(&scratch);
	json_doc_free(&d);
	if (rc < 0)
		buf_reset(next);
	return rc;
}

int disc_select_on_demand(const struct disc_list *fms, struct disc_list *out, struct err *e)
{
	for (size_t i = 0; i < fms->n; i++) {
		const struct disc_model *m = &fms->v[i];

		if (!m->on_demand || disc_list_find(out, m->id, strlen(m->id)) >= 0)
			continue;
		if (disc_list_add(out, m->id, strlen(m->id), m->name, strlen(m->name), m->provider,
				  strlen(m->provider), m->input, 0, e) < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ fetching */

static int get_json(struct aws *a, const struct aws_creds *creds, const char *path,
		    const char *query, struct aws_response *resp, struct err *e)
{
	struct aws_request rq;

	memset(&rq, 0, sizeof rq);
	rq.svc = AWS_SVC_CONTROL;
	rq.auth = AWS_AUTH_SIGV4;
	rq.method = "GET";
	rq.path = path;
	rq.query = query;
	rq.accept = "application/json";
	rq.max_body = DISC_MAX_BODY;
	aws_response_free(resp);
	aws_response_init(resp);
	if (aws_call(a, creds, &rq, resp, e) < 0)
		return err_wrap(e, "GET %s", path);
	return 0;
}

/* Every page of one profile type. */
static int fetch_profiles(struct aws *a, const struct aws_creds *creds, const char *type,
			  const struct disc_list *fms, struct disc_list *out,
			  struct aws_response *resp, struct err *e)
{
	struct buf q, next, prev;
	int rc = -1;

	buf_init(&q, 16384);
	buf_init(&next, 8192);
	buf_init(&prev, 8192);
	for (int page = 0;; page++) {
		if (page >= DISC_MAX_PAGES) {
			err_set(e, ERR_PROTO, "ListInferenceProfiles: more than %d pages",
				DISC_MAX_PAGES);
			break;
		}
		/* parameters in canonical (sorted) order */
		buf_reset(&q);
		if (buf_append_str(&q, "maxResults=1000") < 0 ||
		    (next.len && (buf_append_str(&q, "&nextToken=") < 0 ||
				  pct_encode(&q, next.p, next.len, 0) < 0)) ||
		    buf_appendf(&q, "&type=%s", type) < 0) {
			err_set(e, ERR_OTHER, "page token too long");
			break;
		}
		if (get_json(a, creds, "/inference-profiles", (const char *)q.p, resp, e) < 0)
			break;
		buf_reset(&prev);
		if (buf_append(&prev, next.p, next.len) < 0) {
			err_set(e, ERR_OTHER, "out of memory");
			break;
		}
		if (disc_parse_profiles((const char *)resp->body.p, resp->body.len, fms, out, &next,
					e) < 0)
			break;
		if (next.len == 0) {
			rc = 0;
			break;
		}
		if (slice_eq(buf_slice(&next), buf_slice(&prev))) {
			err_set(e, ERR_PROTO, "ListInferenceProfiles: the same nextToken twice");
			break;
		}
	}
	buf_free(&q);
	buf_free(&next);
	buf_free(&prev);
	return rc;
}

int disc_fetch(struct aws *a, const struct aws_creds *creds, const char *norm_filter,
	       struct disc_list *out, struct err *e)
{
	struct disc_list fms, profiles;
	struct aws_response resp;
	int rc = -1;

	memset(&fms, 0, sizeof fms);
	memset(&profiles, 0, sizeof profiles);
	aws_response_init(&resp);
	if (get_json(a, creds, "/foundation-models", NULL, &resp, e) < 0 ||
	    disc_parse_models((const char *)resp.body.p, resp.body.len, norm_filter, &fms, e) < 0 ||
	    fetch_profiles(a, creds, "SYSTEM_DEFINED", &fms, &profiles, &resp, e) < 0 ||
	    fetch_profiles(a, creds, "APPLICATION", &fms, &profiles, &resp, e) < 0 ||
	    disc_select_on_demand(&fms, out, e) < 0)
		goto done;
	for (size_t i = 0; i < profiles.n; i++) {
		const struct disc_model *m = &profiles.v[i];

		if (disc_list_find(out, m->id, strlen(m->id)) >= 0)
			continue;
		if (disc_list_add(out, m->id, strlen(m->id), m->name, strlen(m->name), m->provider,
				  strlen(m->provider), m->input, 1, e) < 0 ||
		    disc_list_set_base(out, out->n - 1, m->base, strlen(m->base), e) < 0)
			goto done;
	}
	rc = 0;
done:
	aws_response_free(&resp);
	disc_list_free(&fms);
	disc_list_free(&profiles);
	if (rc < 0)
		disc_list_free(out);
	return rc;
}

/* ------------------------------------------------------------------ the step */

void disc_result_free(struct disc_result *r)
{
	disc_list_free(&r->list);
}

#define LOG(a, ...)                                           \
	do {                                                  \
		if ((a)->log)                                 \
			(a)->log((a)->log_user, __VA_ARGS__); \
	} while (0)

static void age_text(long long s, char *out, size_t n)
{
	if (s < 120)
		snprintf(out, n, "%llds", s < 0 ? 0 : s);
	else if (s < 7200)
		snprintf(out, n, "%lldm", s / 60);
	else if (s < 172800)
		snprintf(out, n, "%lldh", s / 3600);
	else
		snprintf(out, n, "%lldd", s / 86400);
}

struct run_state {
	struct buf filter;
	char dir[CONFIG_PATH_MAX], name[256], path[CONFIG_PATH_MAX + 256];
	int use_cache;
	struct disc_list cached;
	int have_cache, fresh;
};

/* Reads the cache when there is one. An unsafe cache directory (another
 * user's, or group/world-writable: a planted model list) is an error. */
static int cache_lookup(struct aws *a, const struct disc_opts *o, struct run_state *s, time_t now,
			struct err *e)
{
	struct err ce = {0};
	long long interval = o->cfg->refresh_interval;

	s->use_cache = interval > 0;
	if (!s->use_cache)
		return 0;
	if (disc_cache_dir(o->env, s->dir, sizeof s->dir, &ce) < 0 ||
	    disc_cache_name(a->region, (const char *)s->filter.p, s->name, sizeof s->name) < 0) {
		LOG(a, "discovery: no cache (%s)", ce.msg[0] ? ce.msg : "name too long");
		s->use_cache = 0;
		return 0;
	}
	if (file_dir_private(s->dir, "BROCK_CACHE_DIR", e) < 0) {
		err_wrap(e, "model cache");
		return -1;
	}
	snprintf(s->path, sizeof s->path, "%s/%s", s->dir, s->name);
	s->have_cache =
		disc_cache_load(s->path, a->region, (const char *)s->filter.p, &s->cached, &ce);
	if (!s->have_cache) {
		LOG(a, "discovery: cache not used: %s", ce.msg);
		return 0;
	}
	s->fresh = !o->refresh && now >= s->cached.fetched && now - s->cached.fetched < interval;
	LOG(a, "discovery: cache %s (%zu models, age %llds)%s", s->path, s->cached.n,
	    (long long)(now - s->cached.fetched),
	    o->refresh ? ", --refresh"
	    : s->fresh ? ", fresh"
		       : ", stale");
	return 0;
}

static void take_list(struct disc_result *r, struct disc_list *l)
{
	r->list = *l;
	memset(l, 0, sizeof *l);
}

/* The refresh failed: a stale cache saves the day (not with --refresh). */
static int fallback(struct aws *a, const struct disc_opts *o, struct run_state *s,
		    struct disc_result *r, time_t now, struct err *e)
{
	char age[32];

	if (!s->have_cache || o->refresh)
		return -1;
	age_text((long long)(now - s->cached.fetched), age, sizeof age);
	snprintf(r->warning, sizeof r->warning,
		 "model discovery failed (%s); using the cached list from %s ago", e->msg, age);
	LOG(a, "discovery: stale cache used");
	take_list(r, &s->cached);
	r->source = DISC_STALE;
	err_clear(e);
	return 0;
}

static int run(struct aws *a, struct creds_chain *cc, const struct disc_opts *o,
	       struct run_state *s, struct disc_result *r, struct err *e)
{
	const struct config_discovery *cfg = o->cfg;
	time_t now = o->now ? o->now : time(NULL);
	struct aws_creds creds;
	struct err ce = {0};
	struct disc_list fresh_list;

	if (disc_filter_norm((const char *const *)cfg->provider_filter, cfg->n_provider_filter,
			     &s->filter) < 0)
		return err_set(e, ERR_OTHER, "out of memory");
	if (cache_lookup(a, o, s, now, e) < 0)
		return -1;
	if (s->fresh && cfg->enabled == 1) {
		take_list(r, &s->cached);
		r->source = DISC_CACHED;
		return 0;
	}
	memset(&creds, 0, sizeof creds);
	if (creds_get(cc, &creds, &ce) < 0) {
		aws_creds_wipe(&creds);
		if (cfg->enabled == -1) {
			snprintf(
				r->warning, sizeof r->warning,
				"model discovery skipped (no AWS credentials: %s); showing configured models only",
				ce.msg);
			r->source = DISC_SKIPPED;
			return 0;
		}
		*e = ce;
		return fallback(a, o, s, r, now, e);
	}
	if (s->fresh) {
		aws_creds_wipe(&creds);
		take_list(r, &s->cached);
		r->source = DISC_CACHED;
		return 0;
	}
	memset(&fresh_list, 0, sizeof fresh_list);
	if (disc_fetch(a, &creds, (const char *)s->filter.p, &fresh_list, e) < 0) {
		aws_creds_wipe(&creds);
		return fallback(a, o, s, r, now, e);
	}
	aws_creds_wipe(&creds);
	fresh_list.fetched = now;
	LOG(a, "discovery: %zu models fetched", fresh_list.n);
	if (s->use_cache && disc_cache_store(s->dir, s->name, &fresh_list, a->region,
					     (const char *)s->filter.p, &ce) < 0) {
		snprintf(r->warning, sizeof r->warning, "model cache not written: %s", ce.msg);
		r->store_failed = 1;
	}
	take_list(r, &fresh_list);
	r->source = DISC_FETCHED;
	return 0;
}

int disc_run(struct aws *a, struct creds_chain *cc, const struct disc_opts *o,
	     struct disc_result *r, struct err *e)
{
	struct run_state *s;
	int rc;

	memset(r, 0, sizeof *r);
	if (o->cfg->enabled == 0) {
		r->source = DISC_OFF;
		return 0;
	}
	s = calloc(1, sizeof *s);
	if (!s)
		return err_set(e, ERR_OTHER, "out of memory");
	buf_init(&s->filter, 65536);
	rc = run(a, cc, o, s, r, e);
	disc_list_free(&s->cached);
	buf_free(&s->filter);
	free(s);
	if (rc < 0)
		disc_result_free(r);
	return rc;
}
