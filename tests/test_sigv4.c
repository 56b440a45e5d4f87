/* test_sigv4: the aws-c-auth SigV4 suite (38 cases, header and query form),
 * Bedrock requests signed by AWS's JavaScript signer (tests/vectors/bedrock,
 * made by tests/gen/bedrock_vectors.mjs), the signing-key cache, and the
 * error paths. */
#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "wire/sigv4.h"
#include "t.h"

#define V4DIR "tests/vectors/sigv4/v4/"
#define BRDIR "tests/vectors/bedrock/"

static const char *const v4_cases[] = {
	"get-header-key-duplicate", "get-header-value-multiline", "get-header-value-order",
	"get-header-value-trim", "get-relative-normalized", "get-relative-relative-normalized",
	"get-relative-relative-unnormalized", "get-relative-unnormalized",
	"get-slash-dot-slash-normalized", "get-slash-dot-slash-unnormalized", "get-slash-normalized",
	"get-slash-pointless-dot-normalized", "get-slash-pointless-dot-unnormalized",
	"get-slash-unnormalized", "get-slashes-normalized", "get-slashes-unnormalized",
	"get-space-normalized", "get-space-unnormalized", "get-unreserved", "get-utf8",
	"get-vanilla", "get-vanilla-empty-query-key", "get-vanilla-query",
	"get-vanilla-query-order-encoded", "get-vanilla-query-order-key-case",
	"get-vanilla-query-unreserved", "get-vanilla-utf8-query", "get-vanilla-with-session-token",
	"post-header-key-case", "post-header-key-sort", "post-header-value-case",
	"post-sts-header-after", "post-sts-header-before", "post-vanilla",
	"post-vanilla-empty-query-value", "post-vanilla-query", "post-x-www-form-urlencoded",
	"post-x-www-form-urlencoded-parameters",
};

/* ------------------------------------------------------------ raw requests */

#define MAXH 80

/* A raw HTTP/1.1 request (request.txt): views into the file text. A folded
 * continuation line extends the previous value's view (the signer folds the
 * white space). */
struct rawreq {
	struct slice method, path, query;
	struct sigv4_header h[MAXH];
	size_t nh;
	struct slice body;
};

static size_t line_end(const char *s, size_t n, size_t i)
{
	while (i < n && s[i] != '\n')
		i++;
	return i;
}

static size_t trim_cr(const char *s, size_t a, size_t b)
{
	return (b > a && s[b - 1] == '\r') ? b - 1 : b;
}

static int parse_request(const char *s, size_t n, struct rawreq *r)
{
	size_t e = line_end(s, n, 0), le = trim_cr(s, 0, e), sp1, sp2, i;

	memset(r, 0, sizeof(*r));
	/* "METHOD target HTTP/1.1": the target may hold spaces */
	for (sp1 = 0; sp1 < le && s[sp1] != ' '; sp1++)
		;
	for (sp2 = le; sp2 > sp1 && s[sp2 - 1] != ' '; sp2--)
		;
	if (sp1 == le || sp2 <= sp1 + 1)
		return -1;
	r->method = (struct slice){(const uint8_t *)s, sp1};
	{
		size_t ts = sp1 + 1, te = sp2 - 1, q = ts;
		while (q < te && s[q] != '?')
			q++;
		r->path = (struct slice){(const uint8_t *)s + ts, q - ts};
		r->query = (struct slice){(const uint8_t *)s + (q < te ? q + 1 : te),
					  q < te ? te - q - 1 : 0};
	}
	i = e + 1;
	while (i < n) {
		size_t le2, c;

		e = line_end(s, n, i);
		le2 = trim_cr(s, i, e);
		if (le2 == i) { /* blank line: the body follows */
			i = e + 1;
			break;
		}
		if ((s[i] == ' ' || s[i] == '\t') && r->nh) {
			struct sigv4_header *last = &r->h[r->nh - 1];
			last->value.n = (size_t)((const uint8_t *)s + le2 - last->value.p);
		} else {
			for (c = i; c < le2 && s[c] != ':'; c++)
				;
			if (c == le2 || r->nh == MAXH)
				return -1;
			r->h[r->nh].name = (struct slice){(const uint8_t *)s + i, c - i};
			r->h[r->nh].value = (struct slice){(const uint8_t *)s + c + 1, le2 - c - 1};
			r->nh++;
		}
		i = e + 1;
	}
	if (i < n)
		r->body = (struct slice){(const uint8_t *)s + i, n - i};
	else
		r->body = (struct slice){(const uint8_t *)"", 0};
	return 0;
}

/* ------------------------------------------------------ context.json (flat) */

/* The value of "key" in a small flat-ish JSON file: a string (no escapes in
 * these files), a number or a bool, copied to out. */
static int json_get(const char *js, const char *key, char *out, size_t outn)
{
	char pat[80];
	const char *p, *q;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(js, pat);
	out[0] = 0;
	if (!p)
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == ':' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	if (*p == '"') {
		q = strchr(++p, '"');
	} else {
		q = p;
		while (*q && *q != ',' && *q != '}' && *q != '\n' && *q != ' ')
			q++;
	}
	if (!q || (size_t)(q - p) >= outn)
		return -1;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = 0;
	return 0;
}

static int json_bool(const char *js, const char *key)
{
	char v[16];

	return json_get(js, key, v, sizeof(v)) == 0 && strcmp(v, "true") == 0;
}

/* "2015-08-30T12:36:00Z" -> seconds since the epoch (days from civil). */
static time_t iso_time(const char *s)
{
	long y = strtol(s, NULL, 10), m = strtol(s + 5, NULL, 10), d = strtol(s + 8, NULL, 10);
	long hh = strtol(s + 11, NULL, 10), mm = strtol(s + 14, NULL, 10),
	     ss = strtol(s + 17, NULL, 10);
	long yy = m <= 2 ? y - 1 : y, era = yy / 400, yoe = yy - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	long days = era * 146097 + doe - 719468;

	return (time_t)(days * 86400 + hh * 3600 + mm * 60 + ss);
}

/* ------------------------------------------------------------- comparisons */

static int file_eq(const char *path, const uint8_t *got, size_t gn)
{
	size_t wn;
	char *want = t_slurp(path, &wn);
	int ok;

	if (!want) {
		fprintf(stderr, "  missing %s\n", path);
		return 0;
	}
	ok = wn == gn && memcmp(want, got, gn) == 0;
	if (!ok)
		fprintf(stderr, "  %s differs\n  got:  \"%.*s\"\n  want: \"%s\"\n", path, (int)gn,
			(const char *)got, want);
	free(want);
	return ok;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Two '&'-separated queries hold the same parameters (any order). */
static int same_params(const char *a, const char *b)
{
	char *ca = strdup(a), *cb = strdup(b), *pa[64], *pb[64];
	size_t na = 0, nb = 0;
	int ok = 1;

	for (char *p = ca; p && *p && na < 64;) {
		char *amp = strchr(p, '&');
		if (amp)
			*amp = 0;
		pa[na++] = p;
		p = amp ? amp + 1 : NULL;
	}
	for (char *p = cb; p && *p && nb < 64;) {
		char *amp = strchr(p, '&');
		if (amp)
			*amp = 0;
		pb[nb++] = p;
		p = amp ? amp + 1 : NULL;
	}
	if (na != nb)
		ok = 0;
	qsort(pa, na, sizeof(pa[0]), cmp_str);
	qsort(pb, nb, sizeof(pb[0]), cmp_str);
	for (size_t i = 0; ok && i < na; i++)
		ok = strcmp(pa[i], pb[i]) == 0;
	if (!ok)
		fprintf(stderr, "  params differ:\n  got:  %s\n  want: %s\n", a, b);
	free(ca);
	free(cb);
	return ok;
}

static int name_eq(struct slice a, struct slice b)
{
	if (a.n != b.n)
		return 0;
	for (size_t i = 0; i < a.n; i++)
		if ((a.p[i] | 0x20) != (b.p[i] | 0x20))
			return 0;
	return 1;
}

/* The header form's signed request = the request plus our added headers. */
static int check_signed_headers(const char *dir, const struct rawreq *orig,
				const struct sigv4_result *r)
{
	char path[256];
	size_t n;
	char *txt;
	struct rawreq *sr = malloc(sizeof(*sr));
	struct sigv4_header add[SIGV4_MAX_ADDED];
	size_t na = sigv4_added_headers(r, add);
	int ok;

	snprintf(path, sizeof(path), "%s/header-signed-request.txt", dir);
	txt = t_slurp(path, &n);
	ok = txt && sr && parse_request(txt, n, sr) == 0 && sr->nh == orig->nh + na;
	for (size_t i = 0; ok && i < na; i++) {
		int found = 0;
		for (size_t k = 0; k < sr->nh; k++)
			if (name_eq(sr->h[k].name, add[i].name) && slice_eq(sr->h[k].value, add[i].value))
				found = 1;
		if (!found)
			fprintf(stderr, "  %s: no %.*s: %.*s\n", path, (int)add[i].name.n,
				(const char *)add[i].name.p, (int)add[i].value.n,
				(const char *)add[i].value.p);
		ok = found;
	}
	free(txt);
	free(sr);
	return ok;
}

/* The query form's signed request line = the query plus our parameters. */
static int check_signed_query(const char *dir, const struct rawreq *orig,
			      const struct sigv4_result *r)
{
	char path[256], *got;
	size_t n;
	char *txt;
	struct rawreq *sr = malloc(sizeof(*sr));
	int ok;

	snprintf(path, sizeof(path), "%s/query-signed-request.txt", dir);
	txt = t_slurp(path, &n);
	ok = txt && sr && parse_request(txt, n, sr) == 0;
	if (ok) {
		char *want = strndup((const char *)sr->query.p, sr->query.n);
		size_t gl = orig->query.n + 1 + r->query.len + 1;
		got = malloc(gl);
		snprintf(got, gl, "%.*s%s%s", (int)orig->query.n, (const char *)orig->query.p,
			 orig->query.n ? "&" : "", (const char *)r->query.p);
		ok = same_params(got, want);
		free(got);
		free(want);
	}
	free(txt);
	free(sr);
	return ok;
}

/* ------------------------------------------------------------- v4 vectors */

static int run_v4_case(const char *name, int presign)
{
	char dir[200], path[256], js_akid[64], js_secret[128], token[1024], region[64],
		service[64], ts[64], exp[32];
	const char *form = presign ? "query" : "header";
	size_t n;
	char *req_txt, *js;
	struct rawreq *rq = malloc(sizeof(*rq));
	struct sigv4_creds cr;
	struct sigv4_params p;
	struct sigv4_request req;
	struct sigv4_result r;
	struct sigv4_ctx ctx;
	struct err e = {0};
	int ok = 1;

	snprintf(dir, sizeof(dir), V4DIR "%s", name);
	snprintf(path, sizeof(path), "%s/request.txt", dir);
	req_txt = t_slurp(path, &n);
	snprintf(path, sizeof(path), "%s/context.json", dir);
	js = t_slurp(path, NULL);
	if (!req_txt || !js || !rq || parse_request(req_txt, n, rq) < 0) {
		free(req_txt);
		free(js);
		free(rq);
		return 0;
	}
	json_get(js, "access_key_id", js_akid, sizeof(js_akid));
	json_get(js, "secret_access_key", js_secret, sizeof(js_secret));
	json_get(js, "token", token, sizeof(token));
	json_get(js, "region", region, sizeof(region));
	json_get(js, "service", service, sizeof(service));
	json_get(js, "timestamp", ts, sizeof(ts));
	json_get(js, "expiration_in_seconds", exp, sizeof(exp));

	cr = (struct sigv4_creds){js_akid, js_secret, token};
	p = (struct sigv4_params){&cr, region, service, iso_time(ts), SIGV4_DOUBLE_ENCODE,
				  strtoul(exp, NULL, 10)};
	if (json_bool(js, "normalize"))
		p.flags |= SIGV4_NORMALIZE;
	if (json_bool(js, "sign_body"))
		p.flags |= SIGV4_SIGN_BODY;
	if (json_bool(js, "omit_session_token"))
		p.flags |= SIGV4_OMIT_TOKEN;
	if (presign)
		p.flags |= SIGV4_PRESIGN;
	req = (struct sigv4_request){rq->method, rq->path, rq->query, rq->h, rq->nh, rq->body, NULL};
	/* the suite's harness: the payload is the body's hash only when it is signed */
	if (!(p.flags & SIGV4_SIGN_BODY))
		req.body = (struct slice){(const uint8_t *)"", 0};

	sigv4_ctx_init(&ctx);
	sigv4_result_init(&r);
	if (sigv4_sign(&ctx, &req, &p, &r, &e) < 0) {
		fprintf(stderr, "  %s/%s: %s\n", name, form, e.msg);
		ok = 0;
	} else {
		snprintf(path, sizeof(path), "%s/%s-canonical-request.txt", dir, form);
		ok &= file_eq(path, r.canonical.p, r.canonical.len);
		snprintf(path, sizeof(path), "%s/%s-string-to-sign.txt", dir, form);
		ok &= file_eq(path, r.string_to_sign.p, r.string_to_sign.len);
		snprintf(path, sizeof(path), "%s/%s-signature.txt", dir, form);
		ok &= file_eq(path, (const uint8_t *)r.signature, strlen(r.signature));
		ok &= presign ? check_signed_query(dir, rq, &r) : check_signed_headers(dir, rq, &r);
		/* the secret never reaches the result */
		ok &= strstr((const char *)r.canonical.p, js_secret) == NULL &&
		      strstr((const char *)r.string_to_sign.p, js_secret) == NULL &&
		      (presign || strstr((const char *)r.authorization.p, js_secret) == NULL);
	}
	sigv4_result_free(&r);
	sigv4_ctx_release(&ctx);
	free(req_txt);
	free(js);
	free(rq);
	return ok;
}

static void test_v4_suite(void)
{
	char name[160];

	for (size_t i = 0; i < sizeof(v4_cases) / sizeof(v4_cases[0]); i++) {
		snprintf(name, sizeof(name), "v4/%s/header", v4_cases[i]);
		t_case(name, run_v4_case(v4_cases[i], 0));
		snprintf(name, sizeof(name), "v4/%s/query", v4_cases[i]);
		t_case(name, run_v4_case(v4_cases[i], 1));
	}
}

/* --------------------------------------------------------- bedrock vectors */

static const char *const br_cases[] = {
	"converse-stream", "converse-stream-token", "converse-profile-arn",
	"converse-profile-arn-token-checksum", "list-inference-profiles",
	"list-inference-profiles-token", "list-inference-profiles-presign",
};

/* "key: value" on its own line (the first one); a view into txt. */
static struct slice kv(const char *txt, const char *key)
{
	char pat[64];
	const char *p = txt;
	size_t kl;

	snprintf(pat, sizeof(pat), "%s: ", key);
	kl = strlen(pat);
	while (p && *p) {
		if (strncmp(p, pat, kl) == 0) {
			const char *e = strchr(p, '\n');
			p += kl;
			return (struct slice){(const uint8_t *)p, e ? (size_t)(e - p) : strlen(p)};
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return (struct slice){(const uint8_t *)"", 0};
}

static char *kvdup(const char *txt, const char *key)
{
	struct slice s = kv(txt, key);
	return strndup((const char *)s.p, s.n);
}

static int run_bedrock_case(const char *name)
{
	char path[256];
	char *txt, *akid, *secret, *token, *region, *service, *want_canon, *want_sts;
	const char *p, *cs, *ss;
	struct sigv4_header h[8];
	size_t nh = 0;
	struct sigv4_creds cr;
	struct sigv4_params pa;
	struct sigv4_request req;
	struct sigv4_result r;
	struct err e = {0};
	struct slice form, want_sig;
	int ok = 1;

	snprintf(path, sizeof(path), BRDIR "%s.txt", name);
	txt = t_slurp(path, NULL);
	if (!txt)
		return 0;
	akid = kvdup(txt, "akid");
	secret = kvdup(txt, "secret");
	token = kvdup(txt, "token");
	region = kvdup(txt, "region");
	service = kvdup(txt, "service");
	for (p = txt; (p = strstr(p, "\nheader: ")) != NULL && nh < 8; p++) {
		const char *l = p + 9, *e2 = strchr(l, '\n'), *c = memchr(l, ':', (size_t)(e2 - l));
		h[nh].name = (struct slice){(const uint8_t *)l, (size_t)(c - l)};
		h[nh].value = (struct slice){(const uint8_t *)c + 1, (size_t)(e2 - c - 1)};
		nh++;
	}
	cs = strstr(txt, "--- canonical request\n");
	ss = strstr(txt, "\n--- string to sign\n");
	want_canon = strndup(cs + 22, (size_t)(ss - cs - 22));
	want_sts = strdup(ss + 20);
	want_sts[strlen(want_sts) - 1] = 0; /* the file's final newline */

	cr = (struct sigv4_creds){akid, secret, token};
	pa = (struct sigv4_params){&cr, region, service,
				   (time_t)strtoll((const char *)kv(txt, "time").p, NULL, 10),
				   SIGV4_DOUBLE_ENCODE | SIGV4_NORMALIZE,
				   strtoul((const char *)kv(txt, "expires").p, NULL, 10)};
	form = kv(txt, "form");
	if (slice_eq_str(form, "query"))
		pa.flags |= SIGV4_PRESIGN;
	if (kv(txt, "sign_body").p[0] == '1')
		pa.flags |= SIGV4_SIGN_BODY;
	req = (struct sigv4_request){kv(txt, "method"), kv(txt, "path"), kv(txt, "query"), h, nh,
				     kv(txt, "body"), NULL};
	want_sig = kv(txt, "signature");

	sigv4_result_init(&r);
	if (sigv4_sign(NULL, &req, &pa, &r, &e) < 0) {
		fprintf(stderr, "  %s: %s\n", name, e.msg);
		ok = 0;
	} else {
		if (strcmp((const char *)r.canonical.p, want_canon) != 0) {
			fprintf(stderr, "  %s canonical:\n  got:  %s\n  want: %s\n", name,
				(const char *)r.canonical.p, want_canon);
			ok = 0;
		}
		if (strcmp((const char *)r.string_to_sign.p, want_sts) != 0) {
			fprintf(stderr, "  %s sts:\n  got:  %s\n  want: %s\n", name,
				(const char *)r.string_to_sign.p, want_sts);
			ok = 0;
		}
		ok &= slice_eq_str(want_sig, r.signature);
		if (pa.flags & SIGV4_PRESIGN) {
			char *want_q = kvdup(txt, "presign-query");
			ok &= same_params((const char *)r.query.p, want_q);
			free(want_q);
		} else {
			ok &= slice_eq(kv(txt, "authorization"), buf_slice(&r.authorization));
		}
	}
	sigv4_result_free(&r);
	free(akid);
	free(secret);
	free(token);
	free(region);
	free(service);
	free(want_canon);
	free(want_sts);
	free(txt);
	return ok;
}

static void test_bedrock_vectors(void)
{
	char name[160];

	for (size_t i = 0; i < sizeof(br_cases) / sizeof(br_cases[0]); i++) {
		snprintf(name, sizeof(name), "bedrock/%s", br_cases[i]);
		t_case(name, run_bedrock_case(br_cases[i]));
	}
}

/* ------------------------------------------------------------- unit tests */

static const struct sigv4_creds t_creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
					   NULL};

static struct sigv4_request simple_req(const struct sigv4_header *h, size_t nh)
{
	return (struct sigv4_request){SLICE_LIT("GET"), SLICE_LIT("/"), SLICE_LIT(""), h, nh,
				      SLICE_LIT(""), NULL};
}

static void test_key_cache(void)
{
	struct sigv4_header h[] = {{SLICE_LIT("Host"), SLICE_LIT("example.amazonaws.com")}};
	struct sigv4_request req = simple_req(h, 1);
	struct sigv4_params p = {&t_creds, "us-east-1", "service", 1440938160, SIGV4_DOUBLE_ENCODE,
				 0};
	struct sigv4_creds other = t_creds;
	struct sigv4_ctx c;
	struct sigv4_result r, r2;
	struct err e = {0};
	char sig1[65];

	sigv4_ctx_init(&c);
	sigv4_result_init(&r);
	sigv4_result_init(&r2);
	/* get-vanilla */
	CHECK(sigv4_sign(&c, &req, &p, &r, &e) == 0);
	CHECK_STR(r.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	CHECK(c.derivations == 1 && c.valid);
	memcpy(sig1, r.signature, 65);
	/* same day, later: the key is reused, the signature is right */
	p.now += 3600;
	CHECK(sigv4_sign(&c, &req, &p, &r, &e) == 0);
	CHECK(c.derivations == 1);
	CHECK(sigv4_sign(NULL, &req, &p, &r2, &e) == 0);
	CHECK_STR(r.signature, r2.signature);
	CHECK(strcmp(r.signature, sig1) != 0);
	/* next day: a new key */
	p.now += 86400;
	CHECK(sigv4_sign(&c, &req, &p, &r, &e) == 0);
	CHECK(c.derivations == 2);
	CHECK_STR(c.date, "20150831");
	CHECK(sigv4_sign(NULL, &req, &p, &r2, &e) == 0);
	CHECK_STR(r.signature, r2.signature);
	/* another region, service, key id or secret: a miss each */
	p.region = "us-west-2";
	CHECK(sigv4_sign(&c, &req, &p, &r, &e) == 0 && c.derivations == 3);
	p.service = "bedrock";
	CHECK(sigv4_sign(&c, &req, &p, &r, &e) == 0 && c.derivations == 4);
	other.akid = "AKIDOTHER";
	p.creds = &other;
	CHECK(sigv4_sign(&c, &req, &p, &r, &e) == 0 && c.derivations == 5);
	other.secret = "anothersecret";
	CHECK(sigv4_sign(&c, &req, &p, &r, &e) == 0 && c.derivations == 6);
	CHECK(sigv4_sign(NULL, &req, &p, &r2, &e) == 0);
	CHECK_STR(r.signature, r2.signature);
	CHECK(sigv4_sign(&c, &req, &p, &r, &e) == 0 && c.derivations == 6);
	/* release wipes */
	sigv4_ctx_release(&c);
	{
		static const uint8_t zero[32];
		CHECK(!c.valid && memcmp(c.key, zero, 32) == 0 && c.akid[0] == 0);
	}
	sigv4_result_free(&r);
	sigv4_result_free(&r2);
}

static void test_added_headers(void)
{
	struct sigv4_header h[] = {{SLICE_LIT("host"), SLICE_LIT("h")}};
	struct sigv4_request req = simple_req(h, 1);
	struct sigv4_creds c = {"AKID", "secret", "TOKEN=="};
	struct sigv4_params p = {&c, "us-east-1", "bedrock", 0, SIGV4_DOUBLE_ENCODE | SIGV4_SIGN_BODY,
				 0};
	struct sigv4_header a[SIGV4_MAX_ADDED];
	struct sigv4_result r;
	struct err e = {0};
	size_t n;

	sigv4_result_init(&r);
	CHECK(sigv4_added_headers(&r, a) == 0); /* nothing signed yet */
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) == 0);
	n = sigv4_added_headers(&r, a);
	CHECK(n == 4);
	CHECK(slice_eq_str(a[0].name, "X-Amz-Date") && slice_eq_str(a[0].value, "19700101T000000Z"));
	CHECK(slice_eq_str(a[1].name, "X-Amz-Security-Token") && slice_eq_str(a[1].value, "TOKEN=="));
	CHECK(slice_eq_str(a[2].name, "X-Amz-Content-Sha256") &&
	      slice_eq_str(a[2].value,
			   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	CHECK(slice_eq_str(a[3].name, "Authorization"));
	CHECK_STR((const char *)r.signed_headers.p,
		  "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
	/* omit: the token is sent, not signed */
	p.flags = SIGV4_DOUBLE_ENCODE | SIGV4_OMIT_TOKEN;
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) == 0);
	CHECK(sigv4_added_headers(&r, a) == 3);
	CHECK_STR((const char *)r.signed_headers.p, "host;x-amz-date");
	/* presign: nothing to add as headers; the token is in the query */
	p.flags = SIGV4_DOUBLE_ENCODE | SIGV4_PRESIGN;
	p.expires = 60;
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) == 0);
	CHECK(sigv4_added_headers(&r, a) == 0);
	CHECK(strstr((const char *)r.query.p, "X-Amz-Security-Token=TOKEN%3D%3D&") != NULL);
	CHECK(strstr((const char *)r.query.p, "X-Amz-Expires=60&") != NULL);
	CHECK(r.authorization.len == 0);
	sigv4_result_free(&r);
}

static void test_payload_hash(void)
{
	struct sigv4_header h[] = {{SLICE_LIT("host"), SLICE_LIT("h")}};
	struct sigv4_request req = simple_req(h, 1);
	struct buf cr, sh;
	struct err e = {0};

	buf_init(&cr, 65536);
	buf_init(&sh, 1024);
	req.payload_hash = "UNSIGNED-PAYLOAD";
	req.body = SLICE_LIT("ignored");
	CHECK(sigv4_canonical_request(&req, 0, &cr, &sh, &e) == 0);
	CHECK_STR((const char *)cr.p, "GET\n/\n\nhost:h\n\nhost\nUNSIGNED-PAYLOAD");
	req.payload_hash = NULL;
	req.body = SLICE_LIT("Param1=value1");
	CHECK(sigv4_canonical_request(&req, 0, &cr, &sh, &e) == 0);
	CHECK(strstr((const char *)cr.p,
		     "\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e") != NULL);
	req.payload_hash = "bad hash";
	CHECK(sigv4_canonical_request(&req, 0, &cr, &sh, &e) < 0);
	req.payload_hash = "";
	CHECK(sigv4_canonical_request(&req, 0, &cr, &sh, &e) < 0);
	buf_free(&cr);
	buf_free(&sh);
}

/* Canonical URI of a path under flags (the line after the method). */
static int canon_path_is(const char *path, unsigned flags, const char *want)
{
	struct sigv4_request req = simple_req(NULL, 0);
	struct buf cr, sh;
	struct err e = {0};
	int ok;

	req.path = slice_str(path);
	buf_init(&cr, 65536);
	buf_init(&sh, 1024);
	ok = sigv4_canonical_request(&req, flags, &cr, &sh, &e) == 0;
	if (ok) {
		const char *l = strchr((const char *)cr.p, '\n') + 1, *le = strchr(l, '\n');
		ok = strlen(want) == (size_t)(le - l) && memcmp(l, want, (size_t)(le - l)) == 0;
		if (!ok)
			fprintf(stderr, "  path %s -> %.*s, want %s\n", path, (int)(le - l), l, want);
	}
	buf_free(&cr);
	buf_free(&sh);
	return ok;
}

static void test_paths(void)
{
	const unsigned N = SIGV4_DOUBLE_ENCODE | SIGV4_NORMALIZE, D = SIGV4_DOUBLE_ENCODE;

	CHECK(canon_path_is("", N, "/"));
	CHECK(canon_path_is("", 0, "/"));
	CHECK(canon_path_is("/a/b/..", N, "/a"));
	CHECK(canon_path_is("/a/b/../", N, "/a/"));
	CHECK(canon_path_is("/..", N, "/"));
	CHECK(canon_path_is("/../../a", N, "/a"));
	CHECK(canon_path_is("/a/./b//c/", N, "/a/b/c/"));
	CHECK(canon_path_is("/a/./b//c/", D, "/a/./b//c/"));
	CHECK(canon_path_is("/%2E%2E/x", N, "/%252E%252E/x"));
	CHECK(canon_path_is("/model/a%3Ab%2Fc/converse", N, "/model/a%253Ab%252Fc/converse"));
	CHECK(canon_path_is("/model/a%3Ab%2Fc/converse", 0, "/model/a%3Ab%2Fc/converse"));
	CHECK(canon_path_is("/a b+c*", D, "/a%20b%2Bc%2A"));
}

static int canon_query_is(const char *q, const char *want)
{
	struct sigv4_request req = simple_req(NULL, 0);
	struct buf cr, sh;
	struct err e = {0};
	int ok;

	req.query = slice_str(q);
	buf_init(&cr, 65536);
	buf_init(&sh, 1024);
	ok = sigv4_canonical_request(&req, SIGV4_DOUBLE_ENCODE, &cr, &sh, &e) == 0;
	if (!want) { /* expected to fail, with a message */
		ok = !ok && e.cls == ERR_PROTO && e.msg[0];
	} else if (ok) {
		const char *l = strchr(strchr((const char *)cr.p, '\n') + 1, '\n') + 1;
		const char *le = strchr(l, '\n');
		ok = strlen(want) == (size_t)(le - l) && memcmp(l, want, (size_t)(le - l)) == 0;
		if (!ok)
			fprintf(stderr, "  query %s -> %.*s, want %s\n", q, (int)(le - l), l, want);
	}
	buf_free(&cr);
	buf_free(&sh);
	return ok;
}

static void test_queries(void)
{
	CHECK(canon_query_is("a", "a="));
	CHECK(canon_query_is("b=2&a=1&a=0", "a=0&a=1&b=2"));
	CHECK(canon_query_is("a=2&a=10&a=1", "a=1&a=10&a=2"));
	CHECK(canon_query_is("&&a=1&&", "a=1"));
	CHECK(canon_query_is("a=%7e&b=~", "a=~&b=~"));
	CHECK(canon_query_is("a=+b", "a=%2Bb"));
	CHECK(canon_query_is("a=b=c", "a=b%3Dc"));
	CHECK(canon_query_is("=v", "=v"));
	CHECK(canon_query_is("nextToken=abc%2bdef%2F%3D", "nextToken=abc%2Bdef%2F%3D"));
	CHECK(canon_query_is("k=%e1%88%b4", "k=%E1%88%B4"));
	CHECK(canon_query_is("a=%zz", NULL));
	CHECK(canon_query_is("a=%4", NULL));
	CHECK(canon_query_is("%", NULL));
}

/* n parameters "p<i>=v" joined by '&' (plus empty pieces when gaps): the
 * table is sized from the query, never past SIGV4_MAX_PARAMS. */
static int query_of_n_fits(int n, int gaps)
{
	struct sigv4_request req = simple_req(NULL, 0);
	struct buf q, cr, sh;
	struct err e = {0};
	char one[32];
	int ok;

	buf_init(&q, 1 << 16);
	for (int i = 0; i < n; i++) {
		snprintf(one, sizeof one, "%sp%d=v", i ? (gaps ? "&&" : "&") : "", i);
		buf_append_str(&q, one);
	}
	req.query = (struct slice){q.p, q.len};
	buf_init(&cr, 1 << 20);
	buf_init(&sh, 1024);
	ok = sigv4_canonical_request(&req, 0, &cr, &sh, &e) == 0;
	if (!ok)
		ok = -(strstr(e.msg, "more than 256 query parameters") != NULL);
	buf_free(&q);
	buf_free(&cr);
	buf_free(&sh);
	return ok;
}

static void test_query_limit(void)
{
	CHECK(query_of_n_fits(1, 0) == 1);
	CHECK(query_of_n_fits(SIGV4_MAX_PARAMS, 0) == 1);
	CHECK(query_of_n_fits(SIGV4_MAX_PARAMS, 1) == 1);
	CHECK(query_of_n_fits(SIGV4_MAX_PARAMS + 1, 0) == -1);
	CHECK(query_of_n_fits(SIGV4_MAX_PARAMS + 1, 1) == -1);
}

static void test_errors(void)
{
	struct sigv4_header h[] = {{SLICE_LIT("host"), SLICE_LIT("h")},
				   {SLICE_LIT("X-Amz-Date"), SLICE_LIT("x")}};
	struct sigv4_header bad[] = {{SLICE_LIT("bad name"), SLICE_LIT("h")}};
	struct sigv4_header empty[] = {{SLICE_LIT(""), SLICE_LIT("h")}};
	struct sigv4_header authz[] = {{SLICE_LIT("authorization"), SLICE_LIT("x")}};
	struct sigv4_header many[SIGV4_MAX_HEADERS + 1];
	struct sigv4_request req = simple_req(h, 1);
	struct sigv4_creds c = t_creds;
	struct sigv4_params p = {&c, "us-east-1", "bedrock", 0, SIGV4_DOUBLE_ENCODE, 0};
	struct sigv4_result r;
	struct err e = {0};
	char longsecret[SIGV4_MAX_SECRET + 2];

	sigv4_result_init(&r);
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) == 0);
	/* the signer owns x-amz-date in the header form, not in the query form */
	req.nheaders = 2;
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) < 0 && e.cls == ERR_OTHER);
	p.flags |= SIGV4_PRESIGN;
	p.expires = 0;
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) < 0); /* expiry 0 */
	p.expires = 604801;
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) < 0);
	p.expires = 604800;
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) == 0);
	p.flags = SIGV4_DOUBLE_ENCODE;
	req.nheaders = 1;
	req.headers = authz;
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) < 0);
	req.headers = bad;
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) < 0 && e.cls == ERR_PROTO);
	req.headers = empty;
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) < 0);
	for (size_t i = 0; i < SIGV4_MAX_HEADERS + 1; i++)
		many[i] = h[0];
	req.headers = many;
	req.nheaders = SIGV4_MAX_HEADERS;
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) == 0);
	CHECK(strstr((const char *)r.canonical.p, "host:h,h,h,") != NULL);
	req.nheaders = SIGV4_MAX_HEADERS + 1;
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) < 0);
	req = simple_req(h, 1);
	req.path = SLICE_LIT("noslash");
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) < 0 && e.cls == ERR_PROTO);
	req.path = SLICE_LIT("/");
	req.method = SLICE_LIT("");
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) < 0);
	req.method = SLICE_LIT("GE T");
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) < 0);
	req.method = SLICE_LIT("GET");
	/* credentials and scope */
	c.akid = "";
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) < 0 && e.cls == ERR_CREDS);
	c.akid = "AKID/evil";
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) < 0 && e.cls == ERR_CREDS);
	c.akid = "AKID";
	c.secret = NULL;
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) < 0 && e.cls == ERR_CREDS);
	memset(longsecret, 'k', sizeof(longsecret) - 1);
	longsecret[sizeof(longsecret) - 1] = 0;
	c.secret = longsecret;
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) < 0 && e.cls == ERR_CREDS);
	CHECK(strstr(e.msg, "kkkk") == NULL);
	longsecret[SIGV4_MAX_SECRET] = 0;
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) == 0);
	c.secret = "s";
	c.token = "tok\r\nInjected: 1";
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) < 0 && e.cls == ERR_CREDS);
	c.token = "";
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) == 0);
	CHECK(strstr((const char *)r.signed_headers.p, "token") == NULL);
	p.region = "us east";
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) < 0);
	p.region = "";
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) < 0);
	p.region = "us-east-1";
	p.service = NULL;
	CHECK(sigv4_sign(NULL, &req, &p, &r, &e) < 0);
	p.service = "bedrock";
	/* a failed signing leaves no stale signature behind */
	CHECK(r.signature[0] == 0);
	sigv4_result_free(&r);
}

static void test_amz_date(void)
{
	char d[17];

	CHECK(sigv4_amz_date(0, d) == 0);
	CHECK_STR(d, "19700101T000000Z");
	CHECK(sigv4_amz_date(1440938160, d) == 0);
	CHECK_STR(d, "20150830T123600Z");
	CHECK(sigv4_amz_date(951782400, d) == 0); /* leap day 2000 */
	CHECK_STR(d, "20000229T000000Z");
	CHECK(sigv4_amz_date(253402300799, d) == 0);
	CHECK_STR(d, "99991231T235959Z");
	CHECK(sigv4_amz_date(253402300800, d) < 0);
	CHECK(iso_time("2015-08-30T12:36:00Z") == 1440938160);
}

int main(int argc, char **argv)
{
	(void)argc;
	test_v4_suite();
	test_bedrock_vectors();
	T_RUN(test_key_cache);
	T_RUN(test_added_headers);
	T_RUN(test_payload_hash);
	T_RUN(test_paths);
	T_RUN(test_queries);
	T_RUN(test_query_limit);
	T_RUN(test_errors);
	T_RUN(test_amz_date);
	return t_done(argv[0]);
}
