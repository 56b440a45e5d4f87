/* creds_container: container credentials (ECS task roles, EKS Pod Identity):
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI, with an optional
 * authorization token; and the GET that IMDS shares. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "aws/creds_int.h"
#include "base/file.h"
#include "wire/url.h"

#define CREDS_META_BODY_MAX (64u << 10)

/* http is allowed only to loopback and the ECS/EKS link-local hosts. The
 * host is compared as url_parse left it (lower-cased, IPv6 without
 * brackets): only exact spellings pass, so nothing the resolver would read
 * differently (127.0.0.1.evil.com, 2130706433, 0177.0.0.1, 127.1) does. */
static int container_host_ok(const struct url *u)
{
	const char *h = u->host;
	struct in_addr a;

	if (u->https)
		return 1;
	if (u->ipv6)
		return strcmp(h, "::1") == 0 || strcmp(h, "fd00:ec2::23") == 0;
	if (strcmp(h, "169.254.170.2") == 0 || strcmp(h, "169.254.170.23") == 0 ||
	    strcmp(h, "localhost") == 0)
		return 1;
	/* inet_pton takes only the strict dotted quad (no octal, hex, short
	 * forms or leading zeros) */
	return strncmp(h, "127.", 4) == 0 && inet_pton(AF_INET, h, &a) == 1;
}

/* The Authorization value: the token file (re-read every time) or the
 * variable. "" when neither is set. */
static int container_auth(const struct creds_chain *c, char *dst, size_t cap, struct err *e)
{
	char path[1024];
	int n = env_get_buf(c->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path, sizeof path);

	dst[0] = '\0';
	if (n < 0)
		return err_set(e, ERR_CREDS, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE is too long");
	if (n > 0) {
		struct buf b;
		int got;
		struct slice v;

		buf_init(&b, cap);
		if ((got = file_read(path, cap - 1, &b, e)) != 1) {
			buf_free(&b);
			if (got == 0)
				err_set(e, ERR_CREDS, "%s does not exist", path);
			e->cls = ERR_CREDS;
			return err_wrap(e, "container authorization token file");
		}
		v = slice_trim(buf_slice(&b));
		memcpy(dst, v.p, v.n);
		dst[v.n] = '\0';
		buf_free(&b);
	} else if (env_get_buf(c->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN", dst, (unsigned)cap) <
		   0) {
		return err_set(e, ERR_CREDS, "AWS_CONTAINER_AUTHORIZATION_TOKEN is too long");
	}
	for (const char *p = dst; *p; p++)
		if (*p == '\r' || *p == '\n')
			return err_set(e, ERR_CREDS,
				       "container authorization token has a line break");
	return 0;
}

int creds_meta_get(struct creds_chain *c, const char *what, const char *url,
		   const struct httpc_header *h, size_t nh, const struct conn_opts *opts,
		   struct httpc_result *res, struct err *e)
{
	struct httpc_request rq;
	int r = -1;

	memset(&rq, 0, sizeof rq);
	rq.method = "GET";
	rq.url = url;
	rq.headers = h;
	rq.nheaders = nh;
	for (int attempt = 0; attempt < 2; attempt++) {
		memset(res, 0, sizeof *res);
		r = httpc_fetch(c->aws->pool, &rq, opts, CREDS_META_BODY_MAX, res, e);
		if ((r == 0 && res->status < 500) || (r != 0 && e->final))
			break;
		if (r == 0 && attempt == 1)
			break;
		httpc_result_free(res);
		memset(res, 0, sizeof *res);
	}
	if (r != 0) {
		e->cls = ERR_CREDS;
		return err_wrap(e, "%s", what);
	}
	return 0;
}

int creds_container_fetch(struct creds_chain *c, const char *url, struct aws_creds *out,
			  struct err *e)
{
	static const struct conn_opts opts = {2000, 5000};
	char auth[AWS_TOKEN_MAX];
	struct httpc_header h = {"Authorization", auth};
	struct httpc_result res;
	int r;

	if (container_auth(c, auth, sizeof auth, e) != 0) {
		secure_zero(auth, sizeof auth); /* a token with a line break is still one */
		return -1;
	}
	r = creds_meta_get(c, "container credentials", url, &h, auth[0] ? 1 : 0, &opts, &res, e);
	secure_zero(auth, sizeof auth);
	if (r != 0)
		return -1;
	if (res.status != 200) {
		err_set(e, ERR_CREDS, "container credentials: HTTP %d from %s", res.status, url);
		httpc_result_free(&res);
		return -1;
	}
	r = creds_json_creds("container credentials", &res.body, &creds_keys_meta, 0, out, e);
	httpc_result_free(&res);
	if (r != 0)
		return -1;
	snprintf(out->source, sizeof out->source, "container");
	return 0;
}

int creds_container_url(const struct creds_chain *c, char *url, size_t n, struct err *e)
{
	char v[AWS_URL_MAX];
	int len = env_get_buf(c->env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", v, sizeof v);

	if (len < 0)
		return err_set(e, ERR_CREDS, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is too long");
	if (len > 0) {
		if (v[0] != '/')
			return err_set(
				e, ERR_CREDS,
				"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with '/'");
		if ((size_t)snprintf(url, n, "http://169.254.170.2%s", v) >= n)
			return err_set(e, ERR_CREDS,
				       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is too long");
		return 1;
	}
	len = env_get_buf(c->env, "AWS_CONTAINER_CREDENTIALS_FULL_URI", v, sizeof v);
	if (len < 0)
		return err_set(e, ERR_CREDS, "AWS_CONTAINER_CREDENTIALS_FULL_URI is too long");
	if (len == 0)
		return 0;
	return creds_container_full_url(v, url, n, e) == 0 ? 1 : -1;
}

int creds_container_full_url(const char *v, char *url, size_t n, struct err *e)
{
	struct url u;
	int w;

	if (url_parse(&u, v, e) != 0) {
		e->cls = ERR_CREDS;
		return err_wrap(e, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	}
	url_wipe(&u);
	/* Nobody sends credentials that way, it hides the host from a reader,
	 * and the URL is repeated in messages. */
	if (u.has_userinfo)
		return err_set(e, ERR_CREDS,
			       "AWS_CONTAINER_CREDENTIALS_FULL_URI: a user name or "
			       "password in the URL is not supported");
	if (!container_host_ok(&u))
		return err_set(e, ERR_CREDS,
			       "AWS_CONTAINER_CREDENTIALS_FULL_URI: http is only allowed to "
			       "loopback, 169.254.170.2 or 169.254.170.23 (got host %s); use https",
			       u.host);
	if (!u.https && strcmp(u.host, "localhost") == 0) {
		/* Never looked up: without it in /etc/hosts, DNS (and its search
		 * domains) would decide where the token goes. */
		if (u.port_explicit)
			w = snprintf(url, n, "http://127.0.0.1:%u%s", (unsigned)u.port,
				     (const char *)u.path.p);
		else
			w = snprintf(url, n, "http://127.0.0.1%s", (const char *)u.path.p);
	} else {
		w = snprintf(url, n, "%s", v);
	}
	if (w < 0 || (size_t)w >= n)
		return err_set(e, ERR_CREDS, "AWS_CONTAINER_CREDENTIALS_FULL_URI is too long");
	return 0;
}
