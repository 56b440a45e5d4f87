#include "wire/sigv4.h"

#include <bearssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/pctenc.h"
#include "base/timefmt.h"
#include "wire/http.h"

#define SV_ALGO "AWS4-HMAC-SHA256"

/* ---------------------------------------------------------------- helpers */

void sigv4_sha256(const void *p, size_t n, uint8_t out[32])
{
	br_sha256_context h;

	br_sha256_init(&h);
	br_sha256_update(&h, p, n);
	br_sha256_out(&h, out);
	secure_zero(&h, sizeof h);
}

/* HMAC-SHA256; every context that saw the key is wiped. */
static void sv_hmac(const uint8_t *key, size_t klen, const void *msg, size_t mlen, uint8_t out[32])
{
	br_hmac_key_context kc;
	br_hmac_context hc;

	br_hmac_key_init(&kc, &br_sha256_vtable, key, klen);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, msg, mlen);
	br_hmac_out(&hc, out);
	secure_zero(&kc, sizeof(kc));
	secure_zero(&hc, sizeof(hc));
}

static int sv_is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Scope parts (region, service, akid) go into the Authorization header and
 * the credential scope unescaped: keep them to a harmless alphabet. */
static int sv_is_scope_word(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

/* Header values we emit (token, payload hash) must be visible ASCII. */
static int sv_is_visible(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((uint8_t)s[i] <= 0x20 || (uint8_t)s[i] >= 0x7f)
			return 0;
	return 1;
}

static int sv_cmp_bytes(struct slice a, struct slice b)
{
	size_t n = a.n < b.n ? a.n : b.n;
	int c = n ? memcmp(a.p, b.p, n) : 0;

	if (c)
		return c;
	return a.n < b.n ? -1 : a.n > b.n;
}

static int sv_cmp_nocase(struct slice a, struct slice b)
{
	size_t n = a.n < b.n ? a.n : b.n;

	for (size_t i = 0; i < n; i++) {
		int d = str_lower_ch(a.p[i]) - str_lower_ch(b.p[i]);
		if (d)
			return d;
	}
	return a.n < b.n ? -1 : a.n > b.n;
}

/* One date formatter for the program: timefmt's. */
int sigv4_amz_date(time_t t, char out[17])
{
	return timefmt_amz(out, t) == TIMEFMT_AMZ_LEN ? 0 : -1;
}

/* ------------------------------------------------------------ canonical URI */

/* Removes "." and empty segments and applies ".." (the rule of the AWS
 * SDKs: a trailing slash survives only when the input had one). */
static int sv_normalize_path(struct buf *out, struct slice path)
{
	size_t i = 0, segs = 0;

	while (i < path.n) {
		size_t j = i;
		struct slice seg;

		while (j < path.n && path.p[j] != '/')
			j++;
		seg.p = path.p + i;
		seg.n = j - i;
		i = j + 1;
		if (seg.n == 0 || slice_eq_str(seg, "."))
			continue;
		if (slice_eq_str(seg, "..")) {
			/* out is "/a/b": drop back to the last '/' */
			while (out->len > 0 && out->p[out->len - 1] != '/')
				out->len--;
			if (out->len > 0) {
				out->len--;
				out->p[out->len] = 0;
			}
			if (segs)
				segs--;
			continue;
		}
		if (buf_append_byte(out, '/') < 0 || buf_append(out, seg.p, seg.n) < 0)
			return -1;
		segs++;
	}
	if (segs == 0)
		return buf_append_byte(out, '/');
	if (path.p[path.n - 1] == '/')
		return buf_append_byte(out, '/');
	return 0;
}

static int sv_canon_path(struct buf *out, struct slice path, unsigned flags, struct err *e)
{
	struct buf norm;
	int rc;

	if (path.n == 0)
		path = SLICE_LIT("/");
	if (path.p[0] != '/')
		return err_set(e, ERR_PROTO, "sigv4: path must start with '/'");
	if (!(flags & SIGV4_NORMALIZE)) {
		rc = (flags & SIGV4_DOUBLE_ENCODE) ? pct_encode(out, path.p, path.n, PCT_KEEP_SLASH)
						   : buf_append(out, path.p, path.n);
		return rc < 0 ? err_set(e, ERR_OTHER, "sigv4: canonical request too long") : 0;
	}
	buf_init(&norm, path.n + 1);
	rc = sv_normalize_path(&norm, path);
	if (rc == 0)
		rc = (flags & SIGV4_DOUBLE_ENCODE) ? pct_encode(out, norm.p, norm.len, PCT_KEEP_SLASH)
						   : buf_append(out, norm.p, norm.len);
	buf_free(&norm);
	return rc < 0 ? err_set(e, ERR_OTHER, "sigv4: canonical request too long") : 0;
}

/* ---------------------------------------------------------- canonical query */

struct sv_param {
	size_t ko, kn, vo, vn; /* offsets into the scratch buffer while it grows */
	struct slice k, v;
};

/* Sized for the request: at most one parameter per '&'-separated piece of
 * the query plus the extra ones, and never more than SIGV4_MAX_PARAMS (a
 * Bedrock call has none: a few bytes, not the 16 KiB of the limit). */
struct sv_params {
	size_t n, cap;
	struct buf scratch; /* encoded keys and values */
	struct sv_param a[];
};

static int sv_param_cmp(const void *x, const void *y)
{
	const struct sv_param *a = x, *b = y;
	int c = sv_cmp_bytes(a->k, b->k);

	return c ? c : sv_cmp_bytes(a->v, b->v);
}

/* Adds an already-encoded key and value. */
static int sv_param_add_raw(struct sv_params *ps, struct slice k, struct slice v, struct err *e)
{
	struct sv_param *pp;

	if (ps->n == ps->cap)
		return err_set(e, ERR_OTHER, "sigv4: more than %d query parameters", SIGV4_MAX_PARAMS);
	pp = &ps->a[ps->n];
	pp->ko = ps->scratch.len;
	pp->kn = k.n;
	if (buf_append(&ps->scratch, k.p, k.n) < 0)
		goto limit;
	pp->vo = ps->scratch.len;
	pp->vn = v.n;
	if (buf_append(&ps->scratch, v.p, v.n) < 0)
		goto limit;
	ps->n++;
	return 0;
limit:
	return err_set(e, ERR_OTHER, "sigv4: query too long");
}

/* Decodes then re-encodes one key or value into scratch, so that the wire
 * spelling (%7e or ~, raw UTF-8 or %E1) does not change the signature. */
static int sv_reencode(struct sv_params *ps, struct buf *tmp, struct slice s, size_t *off,
		       size_t *len, struct err *e)
{
	int rc;

	buf_reset(tmp);
	rc = pct_decode(tmp, s.p, s.n, 0);
	if (rc == PCT_ERR_BAD)
		return err_set(e, ERR_PROTO, "sigv4: bad %%-escape in query");
	*off = ps->scratch.len;
	if (rc < 0 || pct_encode(&ps->scratch, tmp->p, tmp->len, 0) < 0)
		return err_set(e, ERR_OTHER, "sigv4: query too long");
	*len = ps->scratch.len - *off;
	return 0;
}

static int sv_parse_query(struct sv_params *ps, struct slice q, struct err *e)
{
	struct buf tmp;
	size_t i = 0;
	int rc = 0;

	buf_init(&tmp, q.n + 1);
	while (i < q.n && rc == 0) {
		size_t j = i, eq;
		struct sv_param *pp;

		while (j < q.n && q.p[j] != '&')
			j++;
		if (j == i) { /* "a&&b", a leading or trailing '&' */
			i = j + 1;
			continue;
		}
		if (ps->n == ps->cap) {
			rc = err_set(e, ERR_OTHER, "sigv4: more than %d query parameters",
				     SIGV4_MAX_PARAMS);
			break;
		}
		for (eq = i; eq < j && q.p[eq] != '='; eq++)
			;
		pp = &ps->a[ps->n];
		rc = sv_reencode(ps, &tmp, (struct slice){q.p + i, eq - i}, &pp->ko, &pp->kn, e);
		if (rc == 0) {
			/* a key without '=' has an empty value */
			struct slice v = {q.p + eq, 0};
			if (eq < j)
				v = (struct slice){q.p + eq + 1, j - eq - 1};
			rc = sv_reencode(ps, &tmp, v, &pp->vo, &pp->vn, e);
		}
		if (rc == 0)
			ps->n++;
		i = j + 1;
	}
	buf_free(&tmp);
	return rc;
}

static int sv_canon_query(struct buf *out, struct sv_params *ps, struct err *e)
{
	for (size_t i = 0; i < ps->n; i++) {
		ps->a[i].k = (struct slice){ps->scratch.p + ps->a[i].ko, ps->a[i].kn};
		ps->a[i].v = (struct slice){ps->scratch.p + ps->a[i].vo, ps->a[i].vn};
	}
	if (ps->n > 1)
		qsort(ps->a, ps->n, sizeof(ps->a[0]), sv_param_cmp);
	for (size_t i = 0; i < ps->n; i++) {
		if ((i && buf_append_byte(out, '&') < 0) ||
		    buf_append(out, ps->a[i].k.p, ps->a[i].k.n) < 0 || buf_append_byte(out, '=') < 0 ||
		    buf_append(out, ps->a[i].v.p, ps->a[i].v.n) < 0)
			return err_set(e, ERR_OTHER, "sigv4: canonical request too long");
	}
	return 0;
}

/* -------------------------------------------------------- canonical headers */

struct sv_hdrs {
	struct sigv4_header a[SIGV4_MAX_HEADERS + SIGV4_MAX_ADDED];
	size_t n;
};

/* Sorted by lower-cased name; duplicates keep their request order
 * (insertion sort is stable, and n is small). */
static void sv_hdrs_sort(struct sv_hdrs *h)
{
	for (size_t i = 1; i < h->n; i++) {
		struct sigv4_header x = h->a[i];
		size_t j = i;

		while (j > 0 && sv_cmp_nocase(h->a[j - 1].name, x.name) > 0) {
			h->a[j] = h->a[j - 1];
			j--;
		}
		h->a[j] = x;
	}
}

static int sv_hdrs_collect(struct sv_hdrs *h, const struct sigv4_request *req,
			   const struct sigv4_header *extra, size_t nextra, struct err *e)
{
	if (req->nheaders > SIGV4_MAX_HEADERS)
		return err_set(e, ERR_OTHER, "sigv4: more than %d headers", SIGV4_MAX_HEADERS);
	h->n = 0;
	for (size_t i = 0; i < req->nheaders; i++) {
		struct slice nm = req->headers[i].name;

		if (nm.n == 0)
			return err_set(e, ERR_PROTO, "sigv4: empty header name");
		for (size_t k = 0; k < nm.n; k++)
			if (!http_is_tchar(nm.p[k]))
				return err_set(e, ERR_PROTO, "sigv4: bad header name");
		/* the signer owns these: a caller that sets them has a bug */
		if (slice_eq_nocase(nm, "authorization"))
			return err_set(e, ERR_OTHER, "sigv4: request is already signed");
		for (size_t k = 0; k < nextra; k++)
			if (sv_cmp_nocase(nm, extra[k].name) == 0)
				return err_set(e, ERR_OTHER, "sigv4: request already has %.*s",
					       (int)extra[k].name.n, (const char *)extra[k].name.p);
		h->a[h->n++] = req->headers[i];
	}
	for (size_t k = 0; k < nextra; k++)
		h->a[h->n++] = extra[k];
	sv_hdrs_sort(h);
	return 0;
}

static int sv_append_lower(struct buf *out, struct slice s)
{
	if (buf_reserve(out, s.n) < 0)
		return -1;
	for (size_t i = 0; i < s.n; i++)
		out->p[out->len++] = (uint8_t)str_lower_ch(s.p[i]);
	out->p[out->len] = 0;
	return 0;
}

/* Trimmed, every run of white space (folded lines included) as one space. */
static int sv_append_value(struct buf *out, struct slice v)
{
	size_t i = 0, end = v.n;

	while (i < end && sv_is_ws(v.p[i]))
		i++;
	while (end > i && sv_is_ws(v.p[end - 1]))
		end--;
	if (buf_reserve(out, end - i) < 0)
		return -1;
	while (i < end) {
		if (sv_is_ws(v.p[i])) {
			out->p[out->len++] = ' ';
			while (sv_is_ws(v.p[i]))
				i++;
		} else {
			out->p[out->len++] = v.p[i++];
		}
	}
	out->p[out->len] = 0;
	return 0;
}

static int sv_signed_headers(struct buf *out, const struct sv_hdrs *h)
{
	for (size_t i = 0; i < h->n; i++) {
		if (i && sv_cmp_nocase(h->a[i - 1].name, h->a[i].name) == 0)
			continue;
		if ((out->len && buf_append_byte(out, ';') < 0) || sv_append_lower(out, h->a[i].name) < 0)
			return -1;
	}
	if (out->len == 0) {
		if (buf_reserve(out, 0) < 0)
			return -1;
		out->p[0] = 0;
	}
	return 0;
}

static int sv_canon_headers(struct buf *out, const struct sv_hdrs *h)
{
	for (size_t i = 0; i < h->n; i++) {
		int same = i && sv_cmp_nocase(h->a[i - 1].name, h->a[i].name) == 0;

		if (same) { /* "a:1\n" becomes "a:1,2\n": replace the newline */
			out->len--;
			if (buf_append_byte(out, ',') < 0)
				return -1;
		} else if (sv_append_lower(out, h->a[i].name) < 0 || buf_append_byte(out, ':') < 0) {
			return -1;
		}
		if (sv_append_value(out, h->a[i].value) < 0 || buf_append_byte(out, '\n') < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------- canonical request */

static int sv_payload_hash(const struct sigv4_request *req, char out[129], struct err *e)
{
	uint8_t d[32];

	if (req->payload_hash) {
		if (!sv_is_visible(req->payload_hash, 128))
			return err_set(e, ERR_OTHER, "sigv4: bad payload hash");
		memcpy(out, req->payload_hash, strlen(req->payload_hash) + 1);
		return 0;
	}
	sigv4_sha256(req->body.n ? req->body.p : (const uint8_t *)"", req->body.n, d);
	hex_encode(out, d, 32);
	return 0;
}

/* The whole canonical request: method, path, query (+ extra encoded
 * params), headers (+ extra headers), signed headers, payload hash. */
static int sv_canonical(const struct sigv4_request *req, unsigned flags,
			const struct sigv4_header *xh, size_t nxh, const struct sigv4_header *xp,
			size_t nxp, const char *payload_hash, struct buf *out,
			struct buf *signed_headers, struct err *e)
{
	struct sv_hdrs *h = NULL;
	struct sv_params *ps = NULL;
	size_t cap = nxp + (req->query.n > 0);
	int rc = -1;

	if (req->method.n == 0)
		return err_set(e, ERR_OTHER, "sigv4: empty method");
	for (size_t i = 0; i < req->method.n; i++)
		if (!http_is_tchar(req->method.p[i]))
			return err_set(e, ERR_PROTO, "sigv4: bad method");
	for (size_t i = 0; i < req->query.n; i++)
		cap += req->query.p[i] == '&';
	if (cap > SIGV4_MAX_PARAMS)
		cap = SIGV4_MAX_PARAMS;
	/* off the stack, which serve-mode threads keep small */
	h = malloc(sizeof(*h));
	ps = malloc(sizeof(*ps) + cap * sizeof(ps->a[0]));
	if (ps) {
		ps->n = 0;
		ps->cap = cap;
		buf_init(&ps->scratch, SIGV4_MAX_CANON); /* before any goto out frees it */
	}
	if (!h || !ps) {
		rc = err_set(e, ERR_OTHER, "sigv4: out of memory");
		goto out;
	}
	if (sv_hdrs_collect(h, req, xh, nxh, e) < 0)
		goto out;
	buf_reset(signed_headers);
	if (sv_signed_headers(signed_headers, h) < 0) {
		rc = err_set(e, ERR_OTHER, "sigv4: too many signed headers");
		goto out;
	}
	if (sv_parse_query(ps, req->query, e) < 0)
		goto out;
	for (size_t i = 0; i < nxp; i++)
		if (sv_param_add_raw(ps, xp[i].name, xp[i].value, e) < 0)
			goto out;
	buf_reset(out);
	if (buf_append(out, req->method.p, req->method.n) < 0 || buf_append_byte(out, '\n') < 0)
		goto limit;
	if (sv_canon_path(out, req->path, flags, e) < 0)
		goto out;
	if (buf_append_byte(out, '\n') < 0)
		goto limit;
	if (sv_canon_query(out, ps, e) < 0)
		goto out;
	if (buf_append_byte(out, '\n') < 0 || sv_canon_headers(out, h) < 0 ||
	    buf_append_byte(out, '\n') < 0 ||
	    buf_append(out, signed_headers->p, signed_headers->len) < 0 ||
	    buf_append_byte(out, '\n') < 0 || buf_append_str(out, payload_hash) < 0)
		goto limit;
	rc = 0;
	goto out;
limit:
	rc = err_set(e, ERR_OTHER, "sigv4: canonical request too long");
out:
	if (ps)
		buf_free(&ps->scratch);
	free(ps);
	free(h);
	return rc;
}

int sigv4_canonical_request(const struct sigv4_request *req, unsigned flags, struct buf *out,
			    struct buf *signed_headers, struct err *e)
{
	char ph[129];

	if (sv_payload_hash(req, ph, e) < 0)
		return -1;
	return sv_canonical(req, flags, NULL, 0, NULL, 0, ph, out, signed_headers, e);
}

/* ---------------------------------------------------------------- signing key */

void sigv4_ctx_init(struct sigv4_ctx *c)
{
	memset(c, 0, sizeof(*c));
}

void sigv4_ctx_release(struct sigv4_ctx *c)
{
	secure_zero(c, sizeof(*c));
}

static void sv_derive_key(const char *secret, const char *date, const char *region,
			  const char *service, uint8_t out[32])
{
	uint8_t k1[4 + SIGV4_MAX_SECRET], k2[32];
	size_t sn = strlen(secret);

	memcpy(k1, "AWS4", 4);
	memcpy(k1 + 4, secret, sn);
	sv_hmac(k1, 4 + sn, date, strlen(date), k2);
	sv_hmac(k2, 32, region, strlen(region), out);
	sv_hmac(out, 32, service, strlen(service), k2);
	sv_hmac(k2, 32, "aws4_request", 12, out);
	secure_zero(k1, sizeof(k1));
	secure_zero(k2, sizeof(k2));
}

/* The signing key for the tuple, from the cache when it matches. */
static void sv_signing_key(struct sigv4_ctx *c, const char *secret, const char *date,
			   const char *region, const char *service, const char *akid, uint8_t out[32])
{
	uint8_t fp[32];

	if (!c) {
		sv_derive_key(secret, date, region, service, out);
		return;
	}
	sigv4_sha256(secret, strlen(secret), fp);
	if (c->valid && strcmp(c->date, date) == 0 && strcmp(c->region, region) == 0 &&
	    strcmp(c->service, service) == 0 && strcmp(c->akid, akid) == 0 &&
	    memcmp(c->secret_fp, fp, 32) == 0) {
		memcpy(out, c->key, 32);
		secure_zero(fp, sizeof(fp));
		return;
	}
	sv_derive_key(secret, date, region, service, out);
	c->derivations++;
	/* the parameters were length-checked against these fields */
	c->valid = strlen(region) < sizeof(c->region) && strlen(service) < sizeof(c->service) &&
		   strlen(akid) < sizeof(c->akid);
	if (c->valid) {
		memcpy(c->date, date, 9);
		memcpy(c->region, region, strlen(region) + 1);
		memcpy(c->service, service, strlen(service) + 1);
		memcpy(c->akid, akid, strlen(akid) + 1);
		memcpy(c->secret_fp, fp, 32);
		memcpy(c->key, out, 32);
	}
	secure_zero(fp, sizeof(fp));
}

/* ---------------------------------------------------------------- signing */

void sigv4_result_init(struct sigv4_result *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->canonical, SIGV4_MAX_CANON);
	buf_init(&r->string_to_sign, 1024);
	buf_init(&r->signed_headers, 8192);
	buf_init(&r->authorization, 16384);
	buf_init(&r->query, 65536);
}

void sigv4_result_free(struct sigv4_result *r)
{
	buf_free(&r->canonical);
	buf_free(&r->string_to_sign);
	buf_free(&r->signed_headers);
	buf_free(&r->authorization);
	buf_free(&r->query);
	secure_zero(r, sizeof(*r));
}

static void sv_result_reset(struct sigv4_result *r)
{
	buf_reset(&r->canonical);
	buf_reset(&r->string_to_sign);
	buf_reset(&r->signed_headers);
	buf_reset(&r->authorization);
	buf_reset(&r->query);
	r->amz_date[0] = r->payload_hash[0] = r->signature[0] = 0;
	r->token = (struct slice){(const uint8_t *)"", 0};
	r->flags = 0;
}

static int sv_check_params(const struct sigv4_params *p, struct err *e)
{
	const struct sigv4_creds *c = p->creds;

	if (!c || !sv_is_scope_word(c->akid, 128))
		return err_set(e, ERR_CREDS, "sigv4: missing or malformed access key id");
	if (!c->secret || !c->secret[0] || strlen(c->secret) > SIGV4_MAX_SECRET)
		return err_set(e, ERR_CREDS, "sigv4: missing or malformed secret access key");
	if (c->token && c->token[0] && !sv_is_visible(c->token, 8192))
		return err_set(e, ERR_CREDS, "sigv4: malformed session token");
	if (!sv_is_scope_word(p->region, 64))
		return err_set(e, ERR_USAGE, "sigv4: bad region name");
	if (!sv_is_scope_word(p->service, 64))
		return err_set(e, ERR_OTHER, "sigv4: bad service name");
	if ((p->flags & SIGV4_PRESIGN) && (p->expires < 1 || p->expires > 604800))
		return err_set(e, ERR_OTHER, "sigv4: presign expiry out of range");
	return 0;
}

/* The X-Amz-* query parameters of the presigned form, encoded, in
 * canonical order; with_token says whether the token is among them. */
static int sv_presign_params(struct buf *store, struct sigv4_header xp[6], size_t *n,
			     const struct sigv4_params *p, const char *amz_date, const char *scope,
			     const struct buf *signed_headers, int with_token)
{
	size_t off[6][2], k = 0;
	const char *tok = p->creds->token;

	/* values go into one store first (it may move while it grows) */
	off[k][0] = store->len;
	if (buf_append_str(store, SV_ALGO) < 0)
		return -1;
	off[k++][1] = store->len;
	off[k][0] = store->len;
	if (buf_appendf(store, "%s%%2F", p->creds->akid) < 0 || pct_encode_str(store, scope, 0) < 0)
		return -1;
	off[k++][1] = store->len;
	off[k][0] = store->len;
	if (buf_append_str(store, amz_date) < 0)
		return -1;
	off[k++][1] = store->len;
	off[k][0] = store->len;
	if (buf_appendf(store, "%lu", p->expires) < 0)
		return -1;
	off[k++][1] = store->len;
	if (with_token) {
		off[k][0] = store->len;
		if (pct_encode_str(store, tok, 0) < 0)
			return -1;
		off[k++][1] = store->len;
	}
	off[k][0] = store->len;
	if (pct_encode(store, signed_headers->p, signed_headers->len, 0) < 0)
		return -1;
	off[k++][1] = store->len;

	static const char *const names[] = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
					    "X-Amz-Expires", "X-Amz-Security-Token",
					    "X-Amz-SignedHeaders"};
	for (size_t i = 0, ni = 0; i < k; i++, ni++) {
		if (ni == 4 && !with_token)
			ni++;
		xp[i].name = slice_str(names[ni]);
		xp[i].value = (struct slice){store->p + off[i][0], off[i][1] - off[i][0]};
	}
	*n = k;
	return 0;
}

static int sv_string_to_sign(struct sigv4_result *r, const char *scope)
{
	uint8_t d[32];
	char hx[65];

	sigv4_sha256(r->canonical.p, r->canonical.len, d);
	hex_encode(hx, d, 32);
	return buf_appendf(&r->string_to_sign, SV_ALGO "\n%s\n%s\n%s", r->amz_date, scope, hx);
}

/* The header form: the signer's own x-amz-* headers join the canonical request. */
static int sv_canonical_headers_form(const struct sigv4_request *req, const struct sigv4_params *p,
				     struct sigv4_result *out, int sign_tok, struct err *e)
{
	struct sigv4_header xh[SIGV4_MAX_ADDED];
	size_t nxh = 0;

	xh[nxh++] = (struct sigv4_header){SLICE_LIT("x-amz-date"), slice_str(out->amz_date)};
	if (sign_tok)
		xh[nxh++] = (struct sigv4_header){SLICE_LIT("x-amz-security-token"), out->token};
	if (p->flags & SIGV4_SIGN_BODY)
		xh[nxh++] = (struct sigv4_header){SLICE_LIT("x-amz-content-sha256"),
						  slice_str(out->payload_hash)};
	return sv_canonical(req, p->flags, xh, nxh, NULL, 0, out->payload_hash, &out->canonical,
			    &out->signed_headers, e);
}

/* The presigned form: the signed header list is a query parameter, so it is
 * computed first; the signer's own values travel in the query (xp, whose
 * values live in store). */
static int sv_canonical_query_form(const struct sigv4_request *req, const struct sigv4_params *p,
				   struct sigv4_result *out, const char *scope, int sign_tok,
				   struct buf *store, struct sigv4_header xp[6], size_t *nxp,
				   struct err *e)
{
	if (sv_canonical(req, p->flags, NULL, 0, NULL, 0, out->payload_hash, &out->canonical,
			 &out->signed_headers, e) < 0)
		return -1;
	if (sv_presign_params(store, xp, nxp, p, out->amz_date, scope, &out->signed_headers,
			      sign_tok) < 0)
		return err_set(e, ERR_OTHER, "sigv4: presign parameters too long");
	return sv_canonical(req, p->flags, NULL, 0, xp, *nxp, out->payload_hash, &out->canonical,
			    &out->signed_headers, e);
}

/* The query string of the presigned form, signature last; a token left out
 * of the signature still has to travel with the request. */
static int sv_emit_query(struct sigv4_result *out, const struct sigv4_header *xp, size_t nxp,
			 const char *unsigned_tok)
{
	int rc = 0;

	for (size_t i = 0; i < nxp && rc == 0; i++)
		rc = buf_appendf(&out->query, "%s%.*s=%.*s", i ? "&" : "", (int)xp[i].name.n,
				 (const char *)xp[i].name.p, (int)xp[i].value.n,
				 (const char *)xp[i].value.p);
	if (rc == 0)
		rc = buf_appendf(&out->query, "&X-Amz-Signature=%s", out->signature);
	if (rc == 0 && unsigned_tok) {
		rc = buf_append_str(&out->query, "&X-Amz-Security-Token=");
		if (rc == 0)
			rc = pct_encode_str(&out->query, unsigned_tok, 0);
	}
	return rc;
}

int sigv4_sign(struct sigv4_ctx *ctx, const struct sigv4_request *req,
	       const struct sigv4_params *p, struct sigv4_result *out, struct err *e)
{
	const char *tok;
	int has_tok, sign_tok, presign = (p->flags & SIGV4_PRESIGN) != 0;
	char date[9], scope[200];
	struct sigv4_header xp[6];
	size_t nxp = 0;
	struct buf store;
	uint8_t key[32], sig[32];
	int rc = -1;

	sv_result_reset(out);
	if (sv_check_params(p, e) < 0)
		return -1;
	tok = p->creds->token ? p->creds->token : "";
	has_tok = tok[0] != 0;
	sign_tok = has_tok && !(p->flags & SIGV4_OMIT_TOKEN);
	out->flags = p->flags;
	if (sigv4_amz_date(p->now, out->amz_date) < 0)
		return err_set(e, ERR_OTHER, "sigv4: time out of range");
	memcpy(date, out->amz_date, 8);
	date[8] = 0;
	snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date, p->region, p->service);
	if (sv_payload_hash(req, out->payload_hash, e) < 0)
		return -1;
	if (has_tok)
		out->token = slice_str(tok);

	buf_init(&store, 65536);
	if ((presign ? sv_canonical_query_form(req, p, out, scope, sign_tok, &store, xp, &nxp, e)
		     : sv_canonical_headers_form(req, p, out, sign_tok, e)) < 0)
		goto done;
	if (sv_string_to_sign(out, scope) < 0) {
		err_set(e, ERR_OTHER, "sigv4: string to sign too long");
		goto done;
	}
	sv_signing_key(ctx, p->creds->secret, date, p->region, p->service, p->creds->akid, key);
	sv_hmac(key, 32, out->string_to_sign.p, out->string_to_sign.len, sig);
	secure_zero(key, sizeof(key));
	hex_encode(out->signature, sig, 32);

	if (!presign)
		rc = buf_appendf(&out->authorization,
				 SV_ALGO " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
				 p->creds->akid, scope, (const char *)out->signed_headers.p,
				 out->signature);
	else
		rc = sv_emit_query(out, xp, nxp, has_tok && !sign_tok ? tok : NULL);
	if (rc < 0)
		err_set(e, ERR_OTHER, "sigv4: signed request too long");
done:
	buf_free(&store);
	return rc < 0 ? -1 : 0;
}

size_t sigv4_added_headers(const struct sigv4_result *r, struct sigv4_header out[SIGV4_MAX_ADDED])
{
	size_t n = 0;

	if ((r->flags & SIGV4_PRESIGN) || r->signature[0] == 0)
		return 0;
	out[n++] = (struct sigv4_header){SLICE_LIT("X-Amz-Date"), slice_str(r->amz_date)};
	if (r->token.n)
		out[n++] = (struct sigv4_header){SLICE_LIT("X-Amz-Security-Token"), r->token};
	if (r->flags & SIGV4_SIGN_BODY)
		out[n++] = (struct sigv4_header){SLICE_LIT("X-Amz-Content-Sha256"),
						 slice_str(r->payload_hash)};
	out[n++] = (struct sigv4_header){SLICE_LIT("Authorization"), buf_slice(&r->authorization)};
	return n;
}
