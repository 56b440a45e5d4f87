/* creds_profile: the shared files (~/.aws/config, ~/.aws/credentials) and
 * every form a profile can take: static keys, role_arn with source_profile,
 * credential_source or web_identity_token_file, IAM Identity Center, and
 * credential_process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/creds_int.h"
#include "base/file.h"

/* ---- the shared files ---- */

/* "~" expanded path of a file given by an environment variable or a default
 * under ~/.aws. */
static int aws_file_path(const struct env *env, const char *var, const char *dflt, char *out,
			 size_t n, struct err *e)
{
	char v[1024];
	int len = env_get_buf(env, var, v, sizeof v);
	const char *home;
	int w;

	if (len < 0)
		return err_set(e, ERR_USAGE, "%s is too long", var);
	if (len == 0) {
		home = env_get(env, "HOME");
		if (!home)
			home = "";
		w = snprintf(out, n, "%s/%s", home, dflt);
	} else if (v[0] == '~' && (v[1] == '/' || v[1] == '\0')) {
		home = env_get(env, "HOME");
		if (!home)
			home = "";
		w = snprintf(out, n, "%s%s", home, v + 1);
	} else {
		w = snprintf(out, n, "%s", v);
	}
	if (w < 0 || (size_t)w >= n)
		return err_set(e, ERR_USAGE, "%s: path too long", var);
	return 0;
}

void creds_files_free(struct aws_files *f)
{
	if (f->config) {
		profile_free(f->config);
		free(f->config);
	}
	if (f->creds) {
		profile_free(f->creds);
		free(f->creds);
	}
	buf_free(&f->config_text);
	buf_free(&f->creds_text);
	memset(f, 0, sizeof *f);
}

static int load_one(const char *path, enum profile_kind kind, struct buf *text,
		    struct profile_file **pf, int *exists, struct err *e)
{
	int r;

	buf_init(text, PROFILE_MAX_TEXT);
	if ((r = file_read(path, PROFILE_MAX_TEXT, text, e)) < 0)
		return -1;
	*exists = r;
	*pf = malloc(sizeof **pf);
	if (!*pf)
		return err_set(e, ERR_OTHER, "out of memory");
	if (profile_parse(*pf, kind, text->p, text->len, e) != 0) {
		e->cls = ERR_USAGE;
		return err_wrap(e, "%s", path);
	}
	return 0;
}

int creds_files_load(const struct env *env, struct aws_files *f, struct err *e)
{
	memset(f, 0, sizeof *f);
	if (aws_file_path(env, "AWS_CONFIG_FILE", ".aws/config", f->config_path,
			  sizeof f->config_path, e) != 0 ||
	    aws_file_path(env, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials", f->creds_path,
			  sizeof f->creds_path, e) != 0)
		return -1;
	if (load_one(f->config_path, PROFILE_CONFIG, &f->config_text, &f->config, &f->config_exists,
		     e) != 0 ||
	    load_one(f->creds_path, PROFILE_CREDENTIALS, &f->creds_text, &f->creds,
		     &f->creds_exists, e) != 0) {
		creds_files_free(f);
		return -1;
	}
	f->set.config = f->config;
	f->set.credentials = f->creds;
	return 0;
}

int creds_pget(const struct aws_files *f, const char *profile, const char *key, char *dst, size_t n,
	       struct err *e)
{
	int r = profile_get_str(&f->set, profile, key, dst, n);

	if (r < 0)
		return err_set(e, ERR_CREDS, "profile %s: %s is too long", profile, key);
	if (r == 1 && dst[0] == '\0')
		return 0;
	return r;
}

static int profile_static(const struct aws_files *f, const char *name, struct aws_creds *out,
			  struct err *e)
{
	int ra = creds_pget(f, name, "aws_access_key_id", out->akid, sizeof out->akid, e);
	int rs, rt;

	if (ra < 0)
		return -1;
	rs = creds_pget(f, name, "aws_secret_access_key", out->secret, sizeof out->secret, e);
	if (rs < 0)
		return -1;
	if (!ra && !rs)
		return 0;
	if (!ra || !rs)
		return err_set(e, ERR_CREDS, "profile %s: %s without %s", name,
			       ra ? "aws_access_key_id" : "aws_secret_access_key",
			       ra ? "aws_secret_access_key" : "aws_access_key_id");
	rt = creds_pget(f, name, "aws_session_token", out->token, sizeof out->token, e);
	if (rt < 0)
		return -1;
	snprintf(out->source, sizeof out->source, "profile:%s", name);
	return 1;
}

/* ---- the profile (all its forms) ---- */

#define CREDS_MAX_CHAIN 8 /* source_profile hops */

/* role_arn's companions. */
static int role_params_get(const struct creds_chain *c, const struct aws_files *f, const char *name,
			   struct creds_role *rp, struct err *e)
{
	int r;

	if (creds_pget(f, name, "role_session_name", rp->session, sizeof rp->session, e) < 0 ||
	    creds_pget(f, name, "external_id", rp->external_id, sizeof rp->external_id, e) < 0 ||
	    (r = creds_pget(f, name, "duration_seconds", rp->duration, sizeof rp->duration, e)) < 0)
		return -1;
	if (!rp->session[0])
		creds_session_name(c, rp->session, sizeof rp->session);
	if (r == 1) {
		char *end;
		long v = strtol(rp->duration, &end, 10);

		if (*end || v < 900 || v > 43200)
			return err_set(e, ERR_CREDS,
				       "profile %s: duration_seconds must be 900..43200", name);
	}
	return 0;
}

static int profile_creds(struct creds_chain *c, const struct aws_files *f, const char *name,
			 const char **visited, int depth, struct aws_creds *out, struct err *e);

/* Credentials for role_arn + credential_source. */
static int credential_source(struct creds_chain *c, const char *name, const char *src,
			     struct aws_creds *out, struct err *e)
{
	char url[AWS_URL_MAX];
	struct buf t;
	int r;

	if (strcmp(src, "Environment") == 0) {
		buf_init(&t, 256);
		r = creds_env_keys(c, out, &t, e);
		buf_free(&t);
		if (r == SRC_SKIP)
			return err_set(e, ERR_CREDS,
				       "profile %s: credential_source Environment but "
				       "AWS_ACCESS_KEY_ID is not set",
				       name);
		return r;
	}
	if (strcmp(src, "Ec2InstanceMetadata") == 0) {
		if (env_is_true(c->env, "AWS_EC2_METADATA_DISABLED"))
			return err_set(e, ERR_CREDS,
				       "profile %s: credential_source "
				       "Ec2InstanceMetadata but AWS_EC2_METADATA_DISABLED is set",
				       name);
		return creds_imds_fetch(c, out, e);
	}
	if (strcmp(src, "EcsContainer") == 0) {
		r = creds_container_url(c, url, sizeof url, e);
		if (r < 0)
			return -1;
		if (r == 0)
			return err_set(e, ERR_CREDS,
				       "profile %s: credential_source EcsContainer but "
				       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI is not set",
				       name);
		return creds_container_fetch(c, url, out, e);
	}
	return err_set(e, ERR_CREDS,
		       "profile %s: unknown credential_source \"%s\" (Environment, "
		       "Ec2InstanceMetadata or EcsContainer)",
		       name, src);
}

static int role_creds(struct creds_chain *c, const struct aws_files *f, const char *name,
		      const char *arn, const char **visited, int depth, struct aws_creds *out,
		      struct err *e)
{
	struct creds_role *rp = calloc(1, sizeof *rp);
	struct aws_creds *src = calloc(1, sizeof *src);
	char sp[PROFILE_MAX_NAME], cs[64], wif[1024];
	int r = -1, has_sp, has_cs, has_wif;

	if (!rp || !src) {
		err_set(e, ERR_OTHER, "out of memory");
		goto out;
	}
	snprintf(rp->arn, sizeof rp->arn, "%s", arn);
	if ((has_sp = creds_pget(f, name, "source_profile", sp, sizeof sp, e)) < 0 ||
	    (has_cs = creds_pget(f, name, "credential_source", cs, sizeof cs, e)) < 0 ||
	    (has_wif = creds_pget(f, name, "web_identity_token_file", wif, sizeof wif, e)) < 0 ||
	    role_params_get(c, f, name, rp, e) != 0)
		goto out;
	if (has_wif) {
		r = creds_sts_web_identity(c, rp->arn, rp->session, wif, out, e);
		goto done;
	}
	if (has_sp && has_cs) {
		err_set(e, ERR_CREDS,
			"profile %s: source_profile and credential_source are "
			"mutually exclusive",
			name);
		goto out;
	}
	if (has_sp) {
		if (strcmp(sp, name) == 0) {
			/* A profile that is its own source uses its static keys. */
			r = profile_static(f, name, src, e);
			if (r == 0)
				err_set(e, ERR_CREDS,
					"profile %s: source_profile is itself but it "
					"has no static keys",
					name);
			if (r <= 0) {
				r = -1;
				goto out;
			}
		} else if (profile_creds(c, f, sp, visited, depth + 1, src, e) != 0) {
			goto out;
		}
	} else if (has_cs) {
		if (credential_source(c, name, cs, src, e) != 0)
			goto out;
	} else {
		err_set(e, ERR_CREDS,
			"profile %s: role_arn needs source_profile, "
			"credential_source or web_identity_token_file",
			name);
		goto out;
	}
	r = creds_sts_assume_role(c, src, rp, out, e);
done:
	if (r != 0)
		err_wrap(e, "profile %s", name);
out:
	if (src) {
		aws_creds_wipe(src);
		free(src);
	}
	if (rp) {
		secure_zero(rp, sizeof *rp); /* external_id is a shared secret of sorts */
		free(rp);
	}
	if (r == 0)
		snprintf(out->source, sizeof out->source, "assume-role:%s", name);
	return r == 0 ? 0 : -1;
}

/* Any form of a profile: 0 ok, SRC_SKIP when it holds no credentials
 * (only at depth 0), -1 error. */
static int profile_creds(struct creds_chain *c, const struct aws_files *f, const char *name,
			 const char **visited, int depth, struct aws_creds *out, struct err *e)
{
	char arn[2048];
	char *cmd;
	int r;

	for (int i = 0; i < depth; i++)
		if (strcmp(visited[i], name) == 0) {
			char chain[400] = "";

			for (int j = 0; j < depth; j++) {
				size_t l = strlen(chain);

				snprintf(chain + l, sizeof chain - l, "%s -> ", visited[j]);
			}
			return err_set(e, ERR_CREDS, "source_profile cycle: %s%s", chain, name);
		}
	if (depth >= CREDS_MAX_CHAIN)
		return err_set(e, ERR_CREDS, "profile %s: more than %d source_profile hops", name,
			       CREDS_MAX_CHAIN);
	if (!profile_exists(&f->set, name))
		return err_set(e, ERR_CREDS, "profile %s not found in %s or %s", name,
			       f->config_path, f->creds_path);
	visited[depth] = name;
	if ((r = creds_pget(f, name, "role_arn", arn, sizeof arn, e)) != 0)
		return r < 0 ? -1 : role_creds(c, f, name, arn, visited, depth, out, e);
	if ((r = creds_sso(c, f, name, out, e)) != SRC_SKIP)
		return r;
	if ((r = profile_static(f, name, out, e)) != 0)
		return r < 0 ? -1 : 0;
	cmd = malloc(PROFILE_MAX_VALUE + 1);
	if (!cmd)
		return err_set(e, ERR_OTHER, "out of memory");
	r = creds_pget(f, name, "credential_process", cmd, PROFILE_MAX_VALUE + 1, e);
	if (r == 1)
		r = creds_process(c, name, cmd, out, e);
	else if (r == 0)
		r = depth == 0
			    ? SRC_SKIP
			    : err_set(e, ERR_CREDS, "source profile %s has no credentials", name);
	secure_zero(cmd, PROFILE_MAX_VALUE + 1); /* command lines do carry passwords */
	free(cmd);
	return r;
}

int creds_src_profile(struct creds_chain *c, struct aws_creds *out, struct buf *tried,
		      struct err *e)
{
	const char *name = creds_profile_name(c->env, c->profile);
	int explicit = (c->profile && c->profile[0]) || env_get(c->env, "AWS_PROFILE");
	const char *visited[CREDS_MAX_CHAIN];
	struct aws_files *f = calloc(1, sizeof *f);
	int r;

	if (!f)
		return err_set(e, ERR_OTHER, "out of memory");
	if (creds_files_load(c->env, f, e) != 0) {
		free(f);
		return -1;
	}
	if (!profile_exists(&f->set, name)) {
		if (explicit) {
			r = err_set(e, ERR_CREDS, "profile %s not found in %s or %s", name,
				    f->config_path, f->creds_path);
		} else {
			creds_tried_add(tried, "profile %s: not in %s or %s", name, f->config_path,
					f->creds_path);
			r = SRC_SKIP;
		}
	} else {
		r = profile_creds(c, f, name, visited, 0, out, e);
		if (r == SRC_SKIP)
			creds_tried_add(tried, "profile %s: no credentials in it", name);
	}
	creds_files_free(f);
	free(f);
	return r;
}
