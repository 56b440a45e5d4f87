/* creds_sso: IAM Identity Center (SSO) profiles, both the sso_session form
 * and the legacy one: the token cache written by `aws sso login`, its
 * refresh through SSO-OIDC (sso_session form only), and GetRoleCredentials. */
#include <bearssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/creds_int.h"
#include "base/base64.h"
#include "base/file.h"
#include "base/pctenc.h"
#include "base/timefmt.h"

#define SSO_CACHE_MAX (64u << 10)

struct sso_params {
	char session[256]; /* sso_session name, "" for the legacy form */
	char start_url[1024];
	char sso_region[AWS_REGION_MAX];
	char account[64];
	char role[256];
	char cache_path[1200];
};

static void sha1_hex(const char *s, char out[41])
{
	br_sha1_context h;
	uint8_t d[br_sha1_SIZE];

	br_sha1_init(&h);
	br_sha1_update(&h, s, strlen(s));
	br_sha1_out(&h, d);
	hex_encode(out, d, sizeof d);
}

/* The SSO settings of a profile (both forms); 1 when the profile uses SSO. */
static int sso_params_get(const struct creds_chain *c, const struct aws_files *f, const char *name,
			  struct sso_params *p, struct err *e)
{
	char hex[41];
	const char *home = env_get(c->env, "HOME");
	int rs;
	struct slice v;

	memset(p, 0, sizeof *p);
	rs = creds_pget(f, name, "sso_session", p->session, sizeof p->session, e);
	if (rs < 0)
		return -1;
	if (rs) {
		if (!profile_file_has(f->config, PROFILE_SEC_SSO_SESSION, p->session))
			return err_set(e, ERR_CREDS,
				       "profile %s: sso_session %s has no "
				       "[sso-session %s] section in %s",
				       name, p->session, p->session, f->config_path);
		if (!profile_sso_get(&f->set, p->session, "sso_start_url", &v) ||
		    creds_copy_str(p->start_url, sizeof p->start_url, v.p, v.n) != 0 ||
		    !profile_sso_get(&f->set, p->session, "sso_region", &v) ||
		    creds_copy_str(p->sso_region, sizeof p->sso_region, v.p, v.n) != 0)
			return err_set(e, ERR_CREDS,
				       "[sso-session %s]: sso_start_url and sso_region "
				       "are required",
				       p->session);
		sha1_hex(p->session, hex);
	} else {
		rs = creds_pget(f, name, "sso_start_url", p->start_url, sizeof p->start_url, e);
		if (rs <= 0)
			return rs;
		if (creds_pget(f, name, "sso_region", p->sso_region, sizeof p->sso_region, e) != 1)
			return err_set(e, ERR_CREDS, "profile %s: sso_start_url without sso_region",
				       name);
		sha1_hex(p->start_url, hex);
	}
	if (creds_pget(f, name, "sso_account_id", p->account, sizeof p->account, e) != 1 ||
	    creds_pget(f, name, "sso_role_name", p->role, sizeof p->role, e) != 1)
		return err_set(e, ERR_CREDS,
			       "profile %s: sso_account_id and sso_role_name are "
			       "required",
			       name);
	snprintf(p->cache_path, sizeof p->cache_path, "%s/.aws/sso/cache/%s.json", home ? home : "",
		 hex);
	return 1;
}

struct sso_token {
	char access[AWS_TOKEN_MAX];
	time_t expires;
	char refresh[AWS_TOKEN_MAX];
	char client_id[1024];
	char client_secret[AWS_TOKEN_MAX];
	time_t reg_expires; /* 0: unknown */
};

static void sso_token_wipe(struct sso_token *t)
{
	secure_zero(t, sizeof *t);
}

static int sso_cache_read(const struct sso_params *p, struct buf *text, struct sso_token *t,
			  const char *name, struct err *e)
{
	struct json_doc d;
	char when[64];
	int got, r = -1;

	memset(t, 0, sizeof *t);
	if ((got = file_read(p->cache_path, SSO_CACHE_MAX, text, e)) < 0) {
		e->cls = ERR_CREDS;
		return err_wrap(e, "SSO token cache");
	}
	if (!got)
		return err_set(e, ERR_CREDS,
			       "profile %s: no SSO login found (%s); run 'aws sso "
			       "login --profile %s'",
			       name, p->cache_path, name);
	if (creds_json_open(&d, text, "SSO token cache", e) != 0)
		return -1;
	if (creds_jstr_req(&d, 0, "accessToken", t->access, sizeof t->access, "SSO token cache",
			   e) ||
	    creds_jstr_req(&d, 0, "expiresAt", when, sizeof when, "SSO token cache", e))
		goto out;
	if (creds_parse_expiration(when, &t->expires) != 0) {
		err_set(e, ERR_CREDS, "SSO token cache %s: bad expiresAt", p->cache_path);
		goto out;
	}
	if (creds_jstr(&d, 0, "refreshToken", t->refresh, sizeof t->refresh, "SSO token cache", e) <
		    0 ||
	    creds_jstr(&d, 0, "clientId", t->client_id, sizeof t->client_id, "SSO token cache", e) <
		    0 ||
	    creds_jstr(&d, 0, "clientSecret", t->client_secret, sizeof t->client_secret,
		       "SSO token cache", e) < 0 ||
	    creds_jstr(&d, 0, "registrationExpiresAt", when, sizeof when, "SSO token cache", e) < 0)
		goto out;
	if (when[0] && creds_parse_expiration(when, &t->reg_expires) != 0)
		t->reg_expires = 0;
	r = 0;
out:
	json_doc_free(&d);
	return r;
}

/* Writes the cache file again (temp file in the same directory, fsync,
 * rename; mode 0600), keeping every member we do not change. */
static int sso_cache_write(const struct sso_params *p, const struct buf *old,
			   const struct sso_token *t, struct err *e)
{
	static const char *const mine[] = {"accessToken", "expiresAt", "refreshToken", NULL};
	struct json_doc d;
	struct buf out, key;
	struct jw w;
	char iso[TIMEFMT_ISO_LEN + 1];
	int r = -1;

	if (creds_json_open(&d, old, "SSO token cache", e) != 0)
		return -1;
	buf_init(&out, SSO_CACHE_MAX * 2);
	jw_init(&w, &out);
	jw_obj_begin(&w);
	buf_init(&key, 4096);
	for (int k = json_child(&d, 0); k >= 0; k = json_next(&d, k)) {
		struct slice kv;
		int skip = 0;

		for (size_t i = 0; mine[i]; i++)
			skip |= json_str_eq(&d, k, mine[i]);
		if (skip)
			continue;
		if (json_str(&d, k, &key, &kv, e) != 0) {
			buf_free(&key);
			json_doc_free(&d);
			goto out;
		}
		jw_keyn(&w, (const char *)kv.p, kv.n);
		jw_tok(&w, &d, k + 1);
	}
	buf_free(&key);
	timefmt_iso8601(iso, t->expires);
	jw_kstr(&w, "accessToken", t->access);
	jw_kstr(&w, "expiresAt", iso);
	if (t->refresh[0])
		jw_kstr(&w, "refreshToken", t->refresh);
	jw_obj_end(&w);
	json_doc_free(&d);
	if (jw_finish(&w, e) != 0)
		goto out;
	if (file_write_atomic(p->cache_path, out.p, out.len, 0600, e) != 0) {
		e->cls = ERR_CREDS;
		err_wrap(e, "SSO token cache");
		goto out;
	}
	r = 0;
out:
	buf_free(&out);
	return r;
}

/* SSO-OIDC CreateToken with the refresh token; updates t. */
static int sso_refresh(struct creds_chain *c, const struct sso_params *p, struct sso_token *t,
		       struct err *e)
{
	struct aws_request rq;
	struct aws_response r;
	struct buf body;
	struct jw w;
	struct json_doc d;
	int rc = -1, tt;
	int64_t secs = 0;

	buf_init(&body, 64u << 10);
	jw_init(&w, &body);
	jw_obj_begin(&w);
	jw_kstr(&w, "clientId", t->client_id);
	jw_kstr(&w, "clientSecret", t->client_secret);
	jw_kstr(&w, "grantType", "refresh_token");
	jw_kstr(&w, "refreshToken", t->refresh);
	jw_obj_end(&w);
	if (jw_finish(&w, e) != 0) {
		buf_free(&body);
		return -1;
	}
	memset(&rq, 0, sizeof rq);
	rq.svc = AWS_SVC_SSO_OIDC;
	rq.auth = AWS_AUTH_NONE;
	rq.method = "POST";
	rq.path = "/token";
	rq.content_type = "application/json";
	rq.body = body.p;
	rq.body_len = body.len;
	rq.max_body = 256u << 10;
	rq.region = p->sso_region;
	aws_response_init(&r);
	if (aws_call(c->aws, NULL, &rq, &r, e) != 0) {
		err_wrap(e, "SSO-OIDC CreateToken");
		goto out;
	}
	if (creds_json_open(&d, &r.body, "SSO-OIDC CreateToken", e) != 0)
		goto out;
	tt = json_get(&d, 0, "expiresIn");
	if (creds_jstr_req(&d, 0, "accessToken", t->access, sizeof t->access,
			   "SSO-OIDC CreateToken", e) == 0 &&
	    creds_jstr(&d, 0, "refreshToken", t->refresh, sizeof t->refresh, "SSO-OIDC CreateToken",
		       e) >= 0) {
		if (tt < 0 || json_int64(&d, tt, &secs, e) != 0 || secs <= 0 || secs > 31536000)
			err_set(e, ERR_CREDS, "SSO-OIDC CreateToken: no usable expiresIn");
		else {
			t->expires = creds_now(c) + (time_t)secs;
			rc = 0;
		}
	}
	json_doc_free(&d);
out:
	aws_response_free(&r);
	buf_free(&body);
	return rc;
}

/* Refresh under the lock of the cache directory, as `config set` does (no
 * sidecar file): another process may have refreshed while we waited, so the
 * cache is read again first and used as it is when it is fresh now. -2 when
 * the refreshed token could not be saved (the refresh token may have been
 * rotated: going on would lose the session silently). */
static int sso_refresh_locked(struct creds_chain *c, const struct sso_params *p,
			      struct buf *text, struct sso_token *t, const char *name,
			      struct err *e)
{
	char dir[sizeof p->cache_path];
	char *sl;
	int lfd, r = -1;

	snprintf(dir, sizeof dir, "%s", p->cache_path);
	sl = strrchr(dir, '/');
	if (sl)
		*(sl == dir ? sl + 1 : sl) = 0;
	if ((lfd = file_lock_dir(sl ? dir : ".", e)) < 0)
		return -1;
	buf_reset(text);
	sso_token_wipe(t);
	if (sso_cache_read(p, text, t, name, e) == 0) {
		if (creds_now(c) + CREDS_REFRESH_BEFORE_S < t->expires)
			r = 0;
		else if (sso_refresh(c, p, t, e) == 0)
			r = sso_cache_write(p, text, t, e) == 0 ? 0 : -2;
	}
	close(lfd);
	return r;
}

static int sso_role_creds(struct creds_chain *c, const struct sso_params *p,
			  const struct sso_token *t, const char *name, struct aws_creds *out,
			  struct err *e)
{
	struct httpc_header h = {"x-amz-sso_bearer_token", t->access};
	struct aws_request rq;
	struct aws_response r;
	struct buf q;
	struct json_doc d;
	int rc = -1, rcred, ex;
	int64_t ms = 0;

	buf_init(&q, 4096);
	if (buf_append_str(&q, "role_name=") || pct_encode_str(&q, p->role, 0) ||
	    buf_append_str(&q, "&account_id=") || pct_encode_str(&q, p->account, 0)) {
		buf_free(&q);
		return err_set(e, ERR_OTHER, "out of memory");
	}
	memset(&rq, 0, sizeof rq);
	rq.svc = AWS_SVC_SSO;
	rq.auth = AWS_AUTH_NONE;
	rq.method = "GET";
	rq.path = "/federation/credentials";
	rq.query = (const char *)q.p;
	rq.extra = &h;
	rq.nextra = 1;
	rq.max_body = 256u << 10;
	rq.region = p->sso_region;
	aws_response_init(&r);
	if (aws_call(c->aws, NULL, &rq, &r, e) != 0) {
		if (r.status == 401 || r.status == 403) {
			err_set(e, ERR_CREDS,
				"profile %s: the SSO session was rejected (%s); run "
				"'aws sso login --profile %s'",
				name, r.error_type[0] ? r.error_type : "unauthorized", name);
		} else {
			if (e->cls == ERR_SERVICE)
				e->cls = ERR_CREDS;
			err_wrap(e, "SSO GetRoleCredentials");
		}
		goto out;
	}
	if (creds_json_open(&d, &r.body, "SSO GetRoleCredentials", e) != 0)
		goto out;
	rcred = json_get(&d, 0, "roleCredentials");
	ex = json_get(&d, rcred, "expiration");
	if (json_type(&d, rcred) != JSON_OBJECT)
		err_set(e, ERR_CREDS, "SSO GetRoleCredentials: no roleCredentials in the answer");
	else if (creds_jstr_req(&d, rcred, "accessKeyId", out->akid, sizeof out->akid,
				"SSO GetRoleCredentials", e) == 0 &&
		 creds_jstr_req(&d, rcred, "secretAccessKey", out->secret, sizeof out->secret,
				"SSO GetRoleCredentials", e) == 0 &&
		 creds_jstr(&d, rcred, "sessionToken", out->token, sizeof out->token,
			    "SSO GetRoleCredentials", e) >= 0) {
		if (ex < 0 || json_int64(&d, ex, &ms, e) != 0 || ms <= 0)
			err_set(e, ERR_CREDS, "SSO GetRoleCredentials: no usable expiration");
		else {
			out->expires = (time_t)(ms / 1000);
			rc = 0;
		}
	}
	json_doc_free(&d);
out:
	aws_response_free(&r);
	buf_free(&q);
	return rc;
}

static int sso_creds(struct creds_chain *c, const char *name, const struct sso_params *p,
		     struct aws_creds *out, struct err *e)
{
	struct sso_token *t = calloc(1, sizeof *t);
	struct buf text;
	time_t now = creds_now(c);
	int r = -1;

	if (!t)
		return err_set(e, ERR_OTHER, "out of memory");
	buf_init(&text, SSO_CACHE_MAX);
	if (sso_cache_read(p, &text, t, name, e) != 0)
		goto out;
	if (now + CREDS_REFRESH_BEFORE_S >= t->expires) {
		int can = p->session[0] && t->refresh[0] && t->client_id[0] &&
			  t->client_secret[0] && (t->reg_expires == 0 || now < t->reg_expires);
		struct err re;
		int rr = can ? sso_refresh_locked(c, p, &text, t, name, &re) : -1;

		if (rr == 0) {
			/* refreshed, by us or by another process meanwhile */
		} else if (rr == -2) {
			err_set(e, ERR_CREDS, "profile %s: the SSO token was refreshed but not saved: %s",
				name, re.msg);
			goto out;
		} else if (now >= t->expires) {
			if (can)
				err_set(e, ERR_CREDS,
					"profile %s: the SSO session expired and "
					"refreshing it failed (%s); run 'aws sso login --profile "
					"%s'",
					name, re.msg, name);
			else
				err_set(e, ERR_CREDS,
					"profile %s: the SSO session expired; run "
					"'aws sso login --profile %s'",
					name, name);
			goto out;
		}
	}
	if (sso_role_creds(c, p, t, name, out, e) != 0)
		goto out;
	snprintf(out->source, sizeof out->source, "sso:%s", name);
	r = 0;
out:
	sso_token_wipe(t);
	free(t);
	buf_free(&text);
	return r;
}

int creds_sso(struct creds_chain *c, const struct aws_files *f, const char *name,
	      struct aws_creds *out, struct err *e)
{
	struct sso_params *sp = calloc(1, sizeof *sp);
	int r;

	if (!sp)
		return err_set(e, ERR_OTHER, "out of memory");
	r = sso_params_get(c, f, name, sp, e);
	if (r == 1)
		r = sso_creds(c, name, sp, out, e) == 0 ? 0 : -1;
	else if (r == 0)
		r = SRC_SKIP;
	free(sp);
	return r;
}
