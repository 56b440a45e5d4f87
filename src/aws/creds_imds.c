/* creds_imds: EC2 instance metadata credentials (IMDSv2 with a session
 * token, the v1 fallback when the token is refused, and the "unreachable"
 * memo so a machine off EC2 pays the timeout once). */
#include <stdio.h>
#include <string.h>

#include "aws/creds_int.h"

#define IMDS_TOKEN_TTL 21600
static const struct conn_opts imds_opts = {1000, 1000};

struct imds {
	char base[AWS_URL_MAX];
	int v1; /* token refused with 403/404/405: no token on GETs */
};

/* PUT /latest/api/token. 0 ok (or v1 fallback decided), -1 failure. */
static int imds_token(struct creds_chain *c, struct imds *m, int force, struct err *e)
{
	static const struct httpc_header h = {"X-aws-ec2-metadata-token-ttl-seconds", "21600"};
	struct httpc_request rq;
	struct httpc_result res;
	char url[AWS_URL_MAX + 32];
	time_t now = creds_now(c);
	int r = -1, neterr = 0;

	if (!force && c->imds_token[0] && now + 60 < c->imds_token_expires)
		return 0;
	c->imds_token[0] = '\0';
	snprintf(url, sizeof url, "%s/latest/api/token", m->base);
	memset(&rq, 0, sizeof rq);
	rq.method = "PUT";
	rq.url = url;
	rq.headers = &h;
	rq.nheaders = 1;
	for (int attempt = 0; attempt < 2; attempt++) {
		memset(&res, 0, sizeof res);
		r = httpc_fetch(c->aws->pool, &rq, &imds_opts, 4096, &res, e);
		neterr = r != 0;
		if ((r == 0 && res.status < 500) || (neterr && e->final))
			break;
		if (attempt == 0)
			httpc_result_free(&res);
	}
	if (neterr) {
		c->imds_unreachable = 1;
		e->cls = ERR_CREDS;
		return err_wrap(e, "IMDS unreachable at %s", m->base);
	}
	if (res.status == 200) {
		if (creds_imds_token(res.body.p, res.body.len, c->imds_token, sizeof c->imds_token) != 0) {
			httpc_result_free(&res);
			return err_set(e, ERR_CREDS, "IMDS: unusable session token");
		}
		c->imds_token_expires = now + IMDS_TOKEN_TTL;
		httpc_result_free(&res);
		return 0;
	}
	r = res.status;
	httpc_result_free(&res);
	if (r == 403 || r == 404 || r == 405) {
		if (env_is_true(c->env, "AWS_EC2_METADATA_V1_DISABLED"))
			return err_set(e, ERR_CREDS,
				       "IMDS refused a session token (HTTP %d) and IMDSv1 is "
				       "disabled by AWS_EC2_METADATA_V1_DISABLED",
				       r);
		m->v1 = 1;
		return 0;
	}
	return err_set(e, ERR_CREDS, "IMDS: session token request answered HTTP %d", r);
}

/* GET path with the token; one token refetch on 401. */
static int imds_get(struct creds_chain *c, struct imds *m, const char *path,
		    struct httpc_result *res, struct err *e)
{
	char url[AWS_URL_MAX + 256];

	snprintf(url, sizeof url, "%s%s", m->base, path);
	for (int attempt = 0; attempt < 2; attempt++) {
		struct httpc_header h = {"X-aws-ec2-metadata-token", c->imds_token};

		if (creds_meta_get(c, "IMDS", url, &h, m->v1 ? 0 : 1, &imds_opts, res, e) != 0)
			return -1;
		if (res->status != 401 || m->v1 || attempt == 1)
			break;
		httpc_result_free(res);
		if (imds_token(c, m, 1, e) != 0)
			return -1;
	}
	if (res->status != 200) {
		int st = res->status;

		httpc_result_free(res);
		if (st == 404)
			return err_set(e, ERR_CREDS,
				       "IMDS: no IAM role attached to this instance "
				       "(HTTP 404 for %s)",
				       path);
		return err_set(e, ERR_CREDS, "IMDS: HTTP %d for %s", st, path);
	}
	return 0;
}

/* IAM's role-name alphabet, byte by byte: no <ctype.h> (undefined for a
 * negative char, locale-dependent) and no strchr (it finds the NUL). */
static int role_byte_ok(uint8_t b)
{
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
	       memchr("+=,.@_-", b, 7) != NULL;
}

int creds_imds_token(const uint8_t *p, size_t n, char *tok, size_t cap)
{
	while (n && memchr(" \t\r\n", p[n - 1], 4)) /* memchr: a NUL is not white space */
		n--;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x21 || p[i] > 0x7e) /* it goes into a header */
			return -1;
	return n == 0 ? -1 : creds_copy_str(tok, cap, p, n);
}

int creds_imds_role(const uint8_t *p, size_t n, char *role, size_t cap)
{
	size_t k = 0;

	/* The first line is the role name. */
	while (k < n && p[k] != '\n' && p[k] != '\r')
		k++;
	if (k == 0 || creds_copy_str(role, cap, p, k) != 0)
		return -1;
	for (size_t i = 0; i < k; i++)
		if (!role_byte_ok(p[i]))
			return -1;
	return 0;
}

int creds_imds_fetch(struct creds_chain *c, struct aws_creds *out, struct err *e)
{
	static const char list[] = "/latest/meta-data/iam/security-credentials/";
	struct httpc_result res;
	struct imds m;
	char role[256], path[sizeof list + sizeof role];
	int len = env_get_buf(c->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT", m.base, sizeof m.base);
	size_t n;
	int r;

	m.v1 = 0;
	if (len < 0)
		return err_set(e, ERR_CREDS, "AWS_EC2_METADATA_SERVICE_ENDPOINT is too long");
	if (len == 0)
		snprintf(m.base, sizeof m.base, "http://169.254.169.254");
	n = strlen(m.base);
	while (n && m.base[n - 1] == '/')
		m.base[--n] = '\0';
	if (imds_token(c, &m, 0, e) != 0)
		return -1;
	if (imds_get(c, &m, list, &res, e) != 0)
		return -1;
	r = creds_imds_role(res.body.p, res.body.len, role, sizeof role);
	httpc_result_free(&res);
	if (r != 0)
		return err_set(e, ERR_CREDS, "IMDS: no usable role name");
	snprintf(path, sizeof path, "%s%s", list, role);
	if (imds_get(c, &m, path, &res, e) != 0)
		return -1;
	r = creds_json_creds("IMDS", &res.body, &creds_keys_meta, 0, out, e);
	httpc_result_free(&res);
	if (r != 0)
		return -1;
	snprintf(out->source, sizeof out->source, "imds");
	return 0;
}
