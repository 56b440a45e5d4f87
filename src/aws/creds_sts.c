/* creds_sts: STS AssumeRole (role_arn with a source) and
 * AssumeRoleWithWebIdentity (web_identity_token_file, AWS_ROLE_ARN), form
 * requests with XML answers through aws_call. */
#include <stdio.h>
#include <string.h>

#include "aws/creds_int.h"
#include "base/file.h"
#include "base/pctenc.h"
#include "wire/xml.h"

#define CREDS_STS_BODY_MAX (256u << 10)

static int form_add(struct buf *b, const char *k, const char *v)
{
	if (b->len && buf_append_byte(b, '&') != 0)
		return -1;
	if (buf_append_str(b, k) != 0 || buf_append_byte(b, '=') != 0 ||
	    pct_encode_str(b, v, 0) != 0)
		return -1;
	return 0;
}

/* The text of <Action>Response/<Action>Result/Credentials/<field>, trimmed. */
static int sts_field(const struct buf *body, const char *action, const char *field, char *dst,
		     size_t cap, struct err *e)
{
	char resp[64], result[64];
	const char *path[] = {resp, result, "Credentials", field, NULL};
	struct buf t;
	struct slice v;
	int r;

	snprintf(resp, sizeof resp, "%sResponse", action);
	snprintf(result, sizeof result, "%sResult", action);
	buf_init(&t, AWS_TOKEN_MAX);
	r = xml_find_text(body->p, body->len, path, &t, e);
	if (r == 1) {
		v = slice_trim(buf_slice(&t));
		if (v.n == 0 || creds_copy_str(dst, cap, v.p, v.n) != 0)
			r = 0;
	}
	buf_free(&t);
	if (r < 0) {
		e->cls = ERR_CREDS;
		return err_wrap(e, "STS %s: malformed answer", action);
	}
	if (r == 0)
		return err_set(e, ERR_CREDS, "STS %s: no usable %s in the answer", action, field);
	return 0;
}

/* One STS call (form-encoded POST to /, XML answer): signed with signer, or
 * unsigned when signer is NULL (AssumeRoleWithWebIdentity). */
static int sts_call(struct creds_chain *c, const struct aws_creds *signer, const char *action,
		    const struct buf *form, struct aws_creds *out, struct err *e)
{
	struct aws_request rq;
	struct aws_response r;
	char exp[64];
	int rc = -1;

	memset(&rq, 0, sizeof rq);
	rq.svc = AWS_SVC_STS;
	rq.auth = signer ? AWS_AUTH_SIGV4 : AWS_AUTH_NONE;
	rq.method = "POST";
	rq.path = "/";
	rq.content_type = "application/x-www-form-urlencoded; charset=utf-8";
	rq.body = form->p;
	rq.body_len = form->len;
	rq.max_body = CREDS_STS_BODY_MAX;
	aws_response_init(&r);
	if (aws_call(c->aws, signer, &rq, &r, e) != 0) {
		if (e->cls == ERR_SERVICE)
			e->cls = ERR_CREDS;
		err_wrap(e, "STS %s", action);
		goto out;
	}
	if (sts_field(&r.body, action, "AccessKeyId", out->akid, sizeof out->akid, e) != 0 ||
	    sts_field(&r.body, action, "SecretAccessKey", out->secret, sizeof out->secret, e) !=
		    0 ||
	    sts_field(&r.body, action, "SessionToken", out->token, sizeof out->token, e) != 0 ||
	    sts_field(&r.body, action, "Expiration", exp, sizeof exp, e) != 0)
		goto out;
	if (creds_parse_expiration(exp, &out->expires) != 0) {
		err_set(e, ERR_CREDS, "STS %s: bad Expiration \"%s\"", action, exp);
		goto out;
	}
	rc = 0;
out:
	aws_response_free(&r);
	return rc;
}

void creds_session_name(const struct creds_chain *c, char *out, size_t n)
{
	snprintf(out, n, "brock-%lld", (long long)creds_now(c));
}

int creds_sts_assume_role(struct creds_chain *c, const struct aws_creds *signer,
			  const struct creds_role *p, struct aws_creds *out, struct err *e)
{
	struct buf form;
	int r = -1;

	buf_init(&form, 16384);
	if (form_add(&form, "Action", "AssumeRole") != 0 ||
	    form_add(&form, "Version", "2011-06-15") != 0 ||
	    form_add(&form, "RoleArn", p->arn) != 0 ||
	    form_add(&form, "RoleSessionName", p->session) != 0 ||
	    (p->external_id[0] && form_add(&form, "ExternalId", p->external_id) != 0) ||
	    (p->duration[0] && form_add(&form, "DurationSeconds", p->duration) != 0)) {
		err_set(e, ERR_OTHER, "out of memory");
		goto out;
	}
	r = sts_call(c, signer, "AssumeRole", &form, out, e);
out:
	buf_free(&form);
	return r;
}

int creds_sts_web_identity(struct creds_chain *c, const char *arn, const char *session,
			   const char *token_file, struct aws_creds *out, struct err *e)
{
	struct buf tok, form;
	int got, r = -1;
	struct slice v;

	buf_init(&tok, 64u << 10);
	buf_init(&form, 128u << 10);
	if ((got = file_read(token_file, tok.max, &tok, e)) < 0) {
		e->cls = ERR_CREDS;
		err_wrap(e, "web identity token file");
		goto out;
	}
	if (!got) {
		err_set(e, ERR_CREDS, "web identity token file %s does not exist", token_file);
		goto out;
	}
	v = slice_trim(buf_slice(&tok));
	if (v.n == 0) {
		err_set(e, ERR_CREDS, "web identity token file %s is empty", token_file);
		goto out;
	}
	tok.p[(size_t)(v.p - tok.p) + v.n] = '\0';
	if (form_add(&form, "Action", "AssumeRoleWithWebIdentity") != 0 ||
	    form_add(&form, "Version", "2011-06-15") != 0 || form_add(&form, "RoleArn", arn) != 0 ||
	    form_add(&form, "RoleSessionName", session) != 0 ||
	    form_add(&form, "WebIdentityToken", (const char *)v.p) != 0) {
		err_set(e, ERR_OTHER, "out of memory");
		goto out;
	}
	r = sts_call(c, NULL, "AssumeRoleWithWebIdentity", &form, out, e);
out:
	buf_free(&tok);
	buf_free(&form);
	return r;
}
