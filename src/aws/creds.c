/* creds: the AWS default credential chain (SPEC section 2): the sources in
 * order, the environment ones, and the cache of temporary credentials. The
 * other source families live beside it (creds_int.h lists the files). */
#include "aws/creds.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/creds_int.h"
#include "base/buf.h"

/* ---- small helpers ---- */

time_t creds_now(const struct creds_chain *c)
{
	if (c->aws && c->aws->now)
		return c->aws->now();
	return time(NULL);
}

void creds_tried_add(struct buf *t, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (t->len)
		(void)buf_append_str(t, "; ");
	(void)buf_append_str(t, line);
}

int creds_copy_str(char *dst, size_t cap, const void *s, size_t n)
{
	if (n >= cap)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

const char *creds_profile_name(const struct env *env, const char *flag)
{
	const char *p;

	if (flag && flag[0])
		return flag;
	p = env_get(env, "AWS_PROFILE");
	return p ? p : "default";
}

/* ---- sources ---- */

static int src_bearer(struct creds_chain *c, struct aws_creds *out, struct buf *tried,
		      struct err *e)
{
	int n = env_get_buf(c->env, "AWS_BEARER_TOKEN_BEDROCK", out->bearer, sizeof out->bearer);

	if (n < 0)
		return err_set(e, ERR_CREDS, "AWS_BEARER_TOKEN_BEDROCK is too long");
	if (n == 0) {
		creds_tried_add(tried, "AWS_BEARER_TOKEN_BEDROCK: not set");
		return SRC_SKIP;
	}
	if (c->sigv4_only) {
		secure_zero(out->bearer, sizeof out->bearer);
		creds_tried_add(tried, "AWS_BEARER_TOKEN_BEDROCK: set, but a bearer token cannot sign");
		return SRC_SKIP;
	}
	snprintf(out->source, sizeof out->source, "bearer-token");
	return 0;
}

int creds_env_keys(struct creds_chain *c, struct aws_creds *out, struct buf *tried, struct err *e)
{
	int na = env_get_buf(c->env, "AWS_ACCESS_KEY_ID", out->akid, sizeof out->akid);
	int ns = env_get_buf(c->env, "AWS_SECRET_ACCESS_KEY", out->secret, sizeof out->secret);
	int nt = env_get_buf(c->env, "AWS_SESSION_TOKEN", out->token, sizeof out->token);

	if (na < 0 || ns < 0 || nt < 0)
		return err_set(e, ERR_CREDS, "%s is too long",
			       na < 0   ? "AWS_ACCESS_KEY_ID"
			       : ns < 0 ? "AWS_SECRET_ACCESS_KEY"
					: "AWS_SESSION_TOKEN");
	if (na == 0 && ns == 0) {
		creds_tried_add(tried, "environment: AWS_ACCESS_KEY_ID not set");
		return SRC_SKIP;
	}
	if (na == 0 || ns == 0)
		return err_set(e, ERR_CREDS, "%s is set but %s is not: set both or neither",
			       na ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
			       na ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	snprintf(out->source, sizeof out->source, "env");
	return 0;
}

/* Like the AWS CLI, an explicit --profile wins over keys in the environment
 * (AWS_PROFILE does not: it only names the profile). */
static int src_env(struct creds_chain *c, struct aws_creds *out, struct buf *tried, struct err *e)
{
	if (c->profile && c->profile[0]) {
		creds_tried_add(tried, "environment: skipped (--profile given)");
		return SRC_SKIP;
	}
	return creds_env_keys(c, out, tried, e);
}

/* Static keys of one profile: 1 when the profile has them, 0 when not. */
/* ---- web identity, container, IMDS from the environment ---- */

static int src_web_identity(struct creds_chain *c, struct aws_creds *out, struct buf *tried,
			    struct err *e)
{
	char file[1024], arn[2048], session[128];
	int nf = env_get_buf(c->env, "AWS_WEB_IDENTITY_TOKEN_FILE", file, sizeof file);
	int na = env_get_buf(c->env, "AWS_ROLE_ARN", arn, sizeof arn);
	int ns = env_get_buf(c->env, "AWS_ROLE_SESSION_NAME", session, sizeof session);

	if (nf < 0 || na < 0 || ns < 0)
		return err_set(e, ERR_CREDS, "web identity: a variable is too long");
	if (nf == 0 && na == 0) {
		creds_tried_add(tried, "web identity: AWS_WEB_IDENTITY_TOKEN_FILE not set");
		return SRC_SKIP;
	}
	if (nf == 0 || na == 0)
		return err_set(e, ERR_CREDS, "%s is set but %s is not",
			       nf ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN",
			       nf ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE");
	if (ns == 0)
		creds_session_name(c, session, sizeof session);
	if (creds_sts_web_identity(c, arn, session, file, out, e) != 0)
		return err_wrap(e, "web identity (AWS_WEB_IDENTITY_TOKEN_FILE)");
	snprintf(out->source, sizeof out->source, "web-identity");
	return 0;
}

static int src_container(struct creds_chain *c, struct aws_creds *out, struct buf *tried,
			 struct err *e)
{
	char url[AWS_URL_MAX];
	int r = creds_container_url(c, url, sizeof url, e);

	if (r < 0)
		return -1;
	if (r == 0) {
		creds_tried_add(
			tried,
			"container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set");
		return SRC_SKIP;
	}
	return creds_container_fetch(c, url, out, e);
}

static int src_imds(struct creds_chain *c, struct aws_creds *out, struct buf *tried, struct err *e)
{
	struct err ie;

	if (env_is_true(c->env, "AWS_EC2_METADATA_DISABLED")) {
		creds_tried_add(tried, "IMDS: disabled by AWS_EC2_METADATA_DISABLED");
		return SRC_SKIP;
	}
	if (c->imds_unreachable) {
		creds_tried_add(tried, "IMDS: unreachable (not on EC2?)");
		return SRC_SKIP;
	}
	err_clear(&ie);
	if (creds_imds_fetch(c, out, &ie) == 0)
		return 0;
	/* The last source: its failure is one more thing that was tried. */
	creds_tried_add(tried, "%s", ie.msg);
	(void)e;
	return SRC_SKIP;
}

/* ---- the chain ---- */

typedef int (*creds_source_fn)(struct creds_chain *c, struct aws_creds *out, struct buf *tried,
			       struct err *e);

static const creds_source_fn creds_sources[] = {src_bearer,       src_env,       creds_src_profile,
						src_web_identity, src_container, src_imds};

void creds_init(struct creds_chain *c, const struct env *env, struct aws *aws, const char *profile)
{
	memset(c, 0, sizeof *c);
	c->env = env;
	c->aws = aws;
	c->profile = profile;
	c->process_timeout_ms = CREDS_PROCESS_TIMEOUT_MS;
	/* BROCK_CREDENTIAL_PROCESS_TIMEOUT: seconds (1..3600) instead of 60. */
	if (env) {
		const char *t = env_get(env, "BROCK_CREDENTIAL_PROCESS_TIMEOUT");
		char *end;
		long v = t ? strtol(t, &end, 10) : 0;

		if (t && end != t && (*end == '\0' || isspace((unsigned char)*end)) && v >= 1 &&
		    v <= 3600)
			c->process_timeout_ms = (int)v * 1000;
	}
	pthread_mutex_init(&c->mu, NULL);
}

void creds_free(struct creds_chain *c)
{
	aws_creds_wipe(&c->cached);
	secure_zero(c->imds_token, sizeof c->imds_token);
	pthread_mutex_destroy(&c->mu);
	c->have = 0;
}

/* Walks the sources in order. */
static int resolve(struct creds_chain *c, struct aws_creds *out, struct err *e)
{
	struct buf tried;
	int r = SRC_SKIP;

	buf_init(&tried, sizeof c->tried - 1);
	for (size_t i = 0; i < sizeof creds_sources / sizeof creds_sources[0]; i++) {
		memset(out, 0, sizeof *out);
		r = creds_sources[i](c, out, &tried, e);
		if (r != SRC_SKIP)
			break;
	}
	snprintf(c->tried, sizeof c->tried, "%s", tried.len ? (const char *)tried.p : "");
	buf_free(&tried);
	if (r == SRC_SKIP) {
		aws_creds_wipe(out);
		return err_set(e, ERR_CREDS, "no AWS credentials found (tried: %s)", c->tried);
	}
	if (r != 0)
		aws_creds_wipe(out);
	return r;
}

static int fresh(const struct creds_chain *c, const struct aws_creds *cr)
{
	return cr->expires == 0 || creds_now(c) + CREDS_REFRESH_BEFORE_S < cr->expires;
}

int creds_peek(struct creds_chain *c, struct aws_creds *out)
{
	struct err e;
	int env_keys = (env_get(c->env, "AWS_ACCESS_KEY_ID") && env_get(c->env, "AWS_SECRET_ACCESS_KEY")) ||
		       (!c->sigv4_only && env_get(c->env, "AWS_BEARER_TOKEN_BEDROCK"));

	pthread_mutex_lock(&c->mu);
	if (c->have && fresh(c, &c->cached)) {
		*out = c->cached;
		pthread_mutex_unlock(&c->mu);
		return 1;
	}
	pthread_mutex_unlock(&c->mu);
	/* the environment comes first in the chain and is read without I/O */
	return env_keys && creds_get(c, out, &e) == 0;
}

int creds_get(struct creds_chain *c, struct aws_creds *out, struct err *e)
{
	struct aws_creds got;
	int r;

	pthread_mutex_lock(&c->mu);
	if (c->have && fresh(c, &c->cached)) {
		*out = c->cached;
		pthread_mutex_unlock(&c->mu);
		return 0;
	}
	r = resolve(c, &got, e);
	if (r == 0) {
		/* Temporary credentials are cached, and those of a
		 * credential_process (it may prompt, and it is slow); long-term
		 * keys are read again every time, so rotated files count. */
		if (got.expires != 0 || strncmp(got.source, "process:", 8) == 0) {
			c->cached = got;
			c->have = 1;
		}
		*out = got;
	} else if (c->have && creds_now(c) < c->cached.expires) {
		/* The refresh failed but the old credentials still work. */
		*out = c->cached;
		r = 0;
	}
	aws_creds_wipe(&got);
	pthread_mutex_unlock(&c->mu);
	return r;
}
