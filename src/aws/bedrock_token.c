#include "aws/bedrock_token.h"

#include <string.h>

#include "base/base64.h"
#include "base/pctenc.h"
#include "base/timefmt.h"

#define BT_ACTION "CallWithBearerToken"
#define BT_URL_HEAD BEDROCK_TOKEN_HOST "/?"
#define BT_MAX_PARAMS 16 /* the form has 9 at most; more is malformed */

int bedrock_token_lifetime(time_t now, time_t creds_expires, unsigned long requested,
			   unsigned long *out, struct err *e)
{
	if (requested < 1 || requested > BEDROCK_TOKEN_MAX_EXPIRES)
		return err_set(e, ERR_USAGE, "token lifetime must be 1..%lu seconds, not %lu",
			       BEDROCK_TOKEN_MAX_EXPIRES, requested);
	*out = requested;
	if (creds_expires == 0)
		return 0;
	if (creds_expires <= now)
		return err_set(e, ERR_CREDS, "the credentials have expired; a key signed with them "
			       "would never work");
	if ((unsigned long)(creds_expires - now) < requested)
		*out = (unsigned long)(creds_expires - now);
	return 0;
}

/* Splits q at '&' into at most max pieces. -1 when there are more. */
static int bt_split(struct slice q, struct slice *v, size_t max, size_t *n)
{
	size_t k = 0, start = 0;

	for (size_t i = 0; i <= q.n; i++) {
		if (i < q.n && q.p[i] != '&')
			continue;
		if (k == max)
			return -1;
		v[k++] = (struct slice){q.p + start, i - start};
		start = i + 1;
	}
	*n = k;
	return 0;
}

/* The name of "name=value" (all of it when there is no '='). */
static struct slice bt_name(struct slice kv)
{
	const uint8_t *eq = kv.n ? memchr(kv.p, '=', kv.n) : NULL;

	return (struct slice){kv.p, eq ? (size_t)(eq - kv.p) : kv.n};
}

/* Byte order of the names, as JavaScript's default sort orders ASCII keys. */
static int bt_name_before(struct slice a, struct slice b)
{
	struct slice na = bt_name(a), nb = bt_name(b);
	size_t m = na.n < nb.n ? na.n : nb.n;
	int c = m ? memcmp(na.p, nb.p, m) : 0;

	return c < 0 || (c == 0 && na.n < nb.n);
}

/* "host/?" + the presigned parameters and Action, sorted by name, +
 * "&Version=1": the URL the reference generator encodes. */
static int bt_url(const struct sigv4_result *r, struct buf *url)
{
	struct slice v[BT_MAX_PARAMS];
	size_t n = 0;

	v[0] = SLICE_LIT("Action=" BT_ACTION);
	if (bt_split(buf_slice(&r->query), v + 1, BT_MAX_PARAMS - 1, &n) < 0)
		return -1;
	n++;
	for (size_t i = 1; i < n; i++) /* insertion sort: n is 9 at most */
		for (size_t j = i; j > 0 && bt_name_before(v[j], v[j - 1]); j--) {
			struct slice t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	if (buf_append_str(url, BT_URL_HEAD) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((i && buf_append_byte(url, '&') < 0) || buf_append(url, v[i].p, v[i].n) < 0)
			return -1;
	return buf_append_str(url, "&Version=1");
}

int bedrock_token_build(const struct sigv4_creds *creds, const char *region, time_t now,
			unsigned long expires, struct buf *out, struct err *e)
{
	const struct sigv4_header host = {SLICE_LIT("host"), SLICE_LIT(BEDROCK_TOKEN_HOST)};
	const struct sigv4_request rq = {
		.method = SLICE_LIT("POST"),
		.path = SLICE_LIT("/"),
		.query = SLICE_LIT("Action=" BT_ACTION),
		.headers = &host,
		.nheaders = 1,
	};
	const struct sigv4_params p = {
		.creds = creds,
		.region = region,
		.service = "bedrock",
		.now = now,
		.flags = SIGV4_DOUBLE_ENCODE | SIGV4_PRESIGN,
		.expires = expires,
	};
	struct sigv4_result r;
	struct buf url;
	size_t was = out->len;
	int rc = -1;

	sigv4_result_init(&r);
	buf_init(&url, BEDROCK_TOKEN_MAX);
	if (sigv4_sign(NULL, &rq, &p, &r, e) < 0)
		goto done;
	if (bt_url(&r, &url) < 0 || buf_append_str(out, BEDROCK_TOKEN_PREFIX) < 0 ||
	    base64_encode_buf(out, url.p, url.len) < 0) {
		err_set(e, ERR_OTHER, "token: the key would exceed %u bytes", BEDROCK_TOKEN_MAX);
		goto done;
	}
	rc = 0;
done:
	if (rc < 0 && out->len > was) {
		secure_zero(out->p + was, out->len - was);
		out->len = was;
		out->p[was] = 0;
	}
	buf_free(&url);
	sigv4_result_free(&r);
	return rc;
}

/* ---- reading a key ---- */

enum { P_ACTION, P_ALGO, P_CRED, P_DATE, P_EXPIRES, P_TOKEN, P_SIG, P_SIGNED, P_VERSION, P_N };

static const char *const bt_names[P_N] = {
	"Action",        "X-Amz-Algorithm",      "X-Amz-Credential",
	"X-Amz-Date",    "X-Amz-Expires",        "X-Amz-Security-Token",
	"X-Amz-Signature", "X-Amz-SignedHeaders", "Version",
};

static int bt_all(struct slice s, int (*ok)(int c), size_t min, size_t max)
{
	if (s.n < min || s.n > max)
		return 0;
	for (size_t i = 0; i < s.n; i++)
		if (!ok(s.p[i]))
			return 0;
	return 1;
}

static int bt_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int bt_lhex(int c)
{
	return bt_digit(c) || (c >= 'a' && c <= 'f');
}

/* What the signer accepts in an access key id or a region (sigv4.c). */
static int bt_scope_ch(int c)
{
	return bt_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' ||
	       c == '_' || c == '.';
}

/* One slot per known parameter; a repeated or unknown one is an error. */
static int bt_params(struct slice q, struct slice val[P_N], struct err *e)
{
	struct slice v[BT_MAX_PARAMS];
	size_t n;

	memset(val, 0, P_N * sizeof *val);
	if (bt_split(q, v, BT_MAX_PARAMS, &n) < 0)
		return err_set(e, ERR_USAGE, "token: too many parameters");
	for (size_t i = 0; i < n; i++) {
		struct slice name = bt_name(v[i]);
		size_t k = 0;

		while (k < P_N && !slice_eq_str(name, bt_names[k]))
			k++;
		if (k == P_N || name.n == v[i].n)
			return err_set(e, ERR_USAGE, "token: unexpected parameter");
		if (val[k].p)
			return err_set(e, ERR_USAGE, "token: repeated parameter %s", bt_names[k]);
		val[k] = (struct slice){v[i].p + name.n + 1, v[i].n - name.n - 1};
	}
	for (size_t k = 0; k < P_N; k++)
		if (!val[k].p && k != P_TOKEN)
			return err_set(e, ERR_USAGE, "token: no %s", bt_names[k]);
	return 0;
}

/* X-Amz-Credential: "<akid>/<yyyymmdd>/<region>/bedrock/aws4_request",
 * its date the one of X-Amz-Date. */
static int bt_credential(struct slice raw, const char amz_date[8], struct bedrock_token_info *out,
			 struct err *e)
{
	struct buf d;
	struct slice part[6];
	size_t n = 0;
	int ok;

	buf_init(&d, 512);
	if (pct_decode(&d, raw.p, raw.n, 0) != 0) {
		buf_free(&d);
		return err_set(e, ERR_USAGE, "token: malformed X-Amz-Credential");
	}
	ok = 0;
	for (size_t i = 0, start = 0; i <= d.len && n < 6; i++)
		if (i == d.len || d.p[i] == '/') {
			part[n++] = (struct slice){d.p + start, i - start};
			start = i + 1;
		}
	if (n == 5 && bt_all(part[0], bt_scope_ch, 1, sizeof out->akid - 1) &&
	    part[1].n == 8 && memcmp(part[1].p, amz_date, 8) == 0 &&
	    bt_all(part[2], bt_scope_ch, 1, sizeof out->region - 1) &&
	    slice_eq_str(part[3], "bedrock") && slice_eq_str(part[4], "aws4_request")) {
		memcpy(out->akid, part[0].p, part[0].n);
		out->akid[part[0].n] = 0;
		memcpy(out->region, part[2].p, part[2].n);
		out->region[part[2].n] = 0;
		ok = 1;
	}
	buf_free(&d);
	return ok ? 0 : err_set(e, ERR_USAGE, "token: malformed X-Amz-Credential");
}

static int bt_fields(struct slice q, struct bedrock_token_info *out, struct err *e)
{
	struct slice v[P_N];
	unsigned long x = 0;

	if (bt_params(q, v, e) < 0)
		return -1;
	if (!slice_eq_str(v[P_ACTION], BT_ACTION) || !slice_eq_str(v[P_VERSION], "1"))
		return err_set(e, ERR_USAGE, "token: not a CallWithBearerToken key (version 1)");
	if (!slice_eq_str(v[P_ALGO], "AWS4-HMAC-SHA256") || !slice_eq_str(v[P_SIGNED], "host"))
		return err_set(e, ERR_USAGE, "token: not signed with SigV4 over the host header");
	if (!bt_all(v[P_SIG], bt_lhex, 64, 64))
		return err_set(e, ERR_USAGE, "token: malformed X-Amz-Signature");
	if (!bt_all(v[P_EXPIRES], bt_digit, 1, 6) || v[P_EXPIRES].p[0] == '0')
		return err_set(e, ERR_USAGE, "token: malformed X-Amz-Expires");
	for (size_t i = 0; i < v[P_EXPIRES].n; i++)
		x = x * 10 + (unsigned long)(v[P_EXPIRES].p[i] - '0');
	if (x > 604800)
		return err_set(e, ERR_USAGE, "token: X-Amz-Expires beyond SigV4's 7 days");
	if (timefmt_parse_amz((const char *)v[P_DATE].p, v[P_DATE].n, &out->signed_at) < 0)
		return err_set(e, ERR_USAGE, "token: malformed X-Amz-Date");
	if (bt_credential(v[P_CRED], (const char *)v[P_DATE].p, out, e) < 0)
		return -1;
	if (v[P_TOKEN].p && v[P_TOKEN].n == 0)
		return err_set(e, ERR_USAGE, "token: empty X-Amz-Security-Token");
	out->expires = x;
	out->expiration = out->signed_at + (time_t)x;
	out->session = v[P_TOKEN].p != NULL;
	return 0;
}

int bedrock_token_parse(const char *s, size_t n, struct bedrock_token_info *out, struct err *e)
{
	const size_t pn = sizeof BEDROCK_TOKEN_PREFIX - 1, hn = sizeof BT_URL_HEAD - 1;
	struct buf url;
	int rc;

	memset(out, 0, sizeof *out);
	if (n > BEDROCK_TOKEN_MAX)
		return err_set(e, ERR_USAGE, "token: longer than %u bytes", BEDROCK_TOKEN_MAX);
	if (n < pn || memcmp(s, BEDROCK_TOKEN_PREFIX, pn) != 0)
		return err_set(e, ERR_USAGE, "token: not a short-term Bedrock API key "
			       "(no " BEDROCK_TOKEN_PREFIX " prefix)");
	buf_init(&url, BEDROCK_TOKEN_MAX);
	if (base64_decode_buf(&url, s + pn, n - pn, 0) < 0) {
		rc = err_set(e, ERR_USAGE, "token: malformed base64");
	} else if (url.len < hn || memcmp(url.p, BT_URL_HEAD, hn) != 0) {
		rc = err_set(e, ERR_USAGE, "token: not a URL of " BEDROCK_TOKEN_HOST "/");
	} else {
		rc = bt_fields((struct slice){url.p + hn, url.len - hn}, out, e);
	}
	buf_free(&url);
	if (rc < 0)
		memset(out, 0, sizeof *out);
	return rc;
}
