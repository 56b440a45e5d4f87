/* creds: the AWS default credential chain and the region chain (SPEC
 * section 2). See creds.h for the order of the sources. Every source is a
 * function that either yields credentials (0), says it is not configured
 * (SRC_SKIP, with a note for the "what was tried" message), or fails (-1:
 * the chain stops there, the way the AWS SDKs stop on a broken profile). */
#include "creds.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "profile.h"
#include "url.h"

#define SRC_SKIP 1 /* the source is not configured: try the next one */

/* ---- small helpers ---- */

static time_t creds_now(const struct creds_chain *c)
{
	if (c->aws && c->aws->now)
		return c->aws->now();
	return time(NULL);
}

/* Appends "; what" to the tried list (silently truncated: it is a hint). */
static void tried_add(struct buf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tried_add(struct buf *t, const char *fmt, ...)
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

/* Copies s[0..n) into dst as a C string; -1 when it does not fit. */
static int copy_str(char *dst, size_t cap, const void *s, size_t n)
{
	if (n >= cap)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/* The profile name: --profile, else AWS_PROFILE, else "default". */
static const char *profile_name(const struct env *env, const char *flag)
{
	const char *p;

	if (flag && flag[0])
		return flag;
	p = env_get(env, "AWS_PROFILE");
	return p ? p : "default";
}

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

/* Reads a whole file up to max bytes into b. A missing file is empty
 * (returns 0 with *exists = 0). */
static int read_file(const char *path, size_t max, struct buf *b, int *exists, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t tmp[4096];

	*exists = 0;
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return err_set(e, ERR_OTHER, "%s: %s", path, strerror(errno));
	}
	*exists = 1;
	for (;;) {
		ssize_t r = read(fd, tmp, sizeof tmp);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(e, ERR_OTHER, "%s: %s", path, strerror(errno));
			break;
		}
		if (r == 0) {
			close(fd);
			secure_zero(tmp, sizeof tmp);
			return 0;
		}
		if (b->len + (size_t)r > max || buf_append(b, tmp, (size_t)r) != 0) {
			err_set(e, ERR_OTHER, "%s: larger than %zu bytes", path, max);
			break;
		}
	}
	close(fd);
	secure_zero(tmp, sizeof tmp);
	return -1;
}

/* Both shared files, read fresh (rotated files are picked up) and parsed. */
struct aws_files {
	char config_path[1024], creds_path[1024];
	struct buf config_text, creds_text;
	struct profile_file *config, *creds;
	struct profile_set set;
	int config_exists, creds_exists;
};

static void files_free(struct aws_files *f)
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
	buf_init(text, PROFILE_MAX_TEXT);
	if (read_file(path, PROFILE_MAX_TEXT, text, exists, e) != 0)
		return -1;
	*pf = malloc(sizeof **pf);
	if (!*pf)
		return err_set(e, ERR_OTHER, "out of memory");
	if (profile_parse(*pf, kind, text->p, text->len, e) != 0) {
		e->cls = ERR_USAGE;
		return err_wrap(e, "%s", path);
	}
	return 0;
}

static int files_load(const struct env *env, struct aws_files *f, struct err *e)
{
	memset(f, 0, sizeof *f);
	if (aws_file_path(env, "AWS_CONFIG_FILE", ".aws/config", f->config_path,
			  sizeof f->config_path, e) != 0 ||
	    aws_file_path(env, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials", f->creds_path,
			  sizeof f->creds_path, e) != 0)
		return -1;
	if (load_one(f->config_path, PROFILE_CONFIG, &f->config_text, &f->config,
		     &f->config_exists, e) != 0 ||
	    load_one(f->creds_path, PROFILE_CREDENTIALS, &f->creds_text, &f->creds,
		     &f->creds_exists, e) != 0) {
		files_free(f);
		return -1;
	}
	f->set.config = f->config;
	f->set.credentials = f->creds;
	return 0;
}

/* A profile property as a C string; 1 found (non-empty), 0 not, -1 too long. */
static int pget(const struct aws_files *f, const char *profile, const char *key, char *dst,
		size_t n, struct err *e)
{
	int r = profile_get_str(&f->set, profile, key, dst, n);

	if (r < 0)
		return err_set(e, ERR_CREDS, "profile %s: %s is too long", profile, key);
	if (r == 1 && dst[0] == '\0')
		return 0;
	return r;
}

/* ---- sources ---- */

static int src_bearer(struct creds_chain *c, struct aws_creds *out, struct buf *tried,
		      struct err *e)
{
	int n = env_get_buf(c->env, "AWS_BEARER_TOKEN_BEDROCK", out->bearer, sizeof out->bearer);

	if (n < 0)
		return err_set(e, ERR_CREDS, "AWS_BEARER_TOKEN_BEDROCK is too long");
	if (n == 0) {
		tried_add(tried, "AWS_BEARER_TOKEN_BEDROCK: not set");
		return SRC_SKIP;
	}
	snprintf(out->source, sizeof out->source, "bearer-token");
	return 0;
}

static int src_env(struct creds_chain *c, struct aws_creds *out, struct buf *tried,
		   struct err *e)
{
	int na = env_get_buf(c->env, "AWS_ACCESS_KEY_ID", out->akid, sizeof out->akid);
	int ns = env_get_buf(c->env, "AWS_SECRET_ACCESS_KEY", out->secret, sizeof out->secret);
	int nt = env_get_buf(c->env, "AWS_SESSION_TOKEN", out->token, sizeof out->token);

	if (na < 0 || ns < 0 || nt < 0)
		return err_set(e, ERR_CREDS, "%s is too long",
			       na < 0 ? "AWS_ACCESS_KEY_ID"
			       : ns < 0 ? "AWS_SECRET_ACCESS_KEY" : "AWS_SESSION_TOKEN");
	if (na == 0 && ns == 0) {
		tried_add(tried, "environment: AWS_ACCESS_KEY_ID not set");
		return SRC_SKIP;
	}
	if (na == 0 || ns == 0)
		return err_set(e, ERR_CREDS, "%s is set but %s is not: set both or neither",
			       na ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
			       na ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	snprintf(out->source, sizeof out->source, "env");
	return 0;
}

/* Static keys of one profile: 1 when the profile has them, 0 when not. */
static int profile_static(const struct aws_files *f, const char *name, struct aws_creds *out,
			  struct err *e)
{
	int ra = pget(f, name, "aws_access_key_id", out->akid, sizeof out->akid, e);
	int rs, rt;

	if (ra < 0)
		return -1;
	rs = pget(f, name, "aws_secret_access_key", out->secret, sizeof out->secret, e);
	if (rs < 0)
		return -1;
	if (!ra && !rs)
		return 0;
	if (!ra || !rs)
		return err_set(e, ERR_CREDS, "profile %s: %s without %s", name,
			       ra ? "aws_access_key_id" : "aws_secret_access_key",
			       ra ? "aws_secret_access_key" : "aws_access_key_id");
	rt = pget(f, name, "aws_session_token", out->token, sizeof out->token, e);
	if (rt < 0)
		return -1;
	snprintf(out->source, sizeof out->source, "profile:%s", name);
	return 1;
}

static int src_profile(struct creds_chain *c, struct aws_creds *out, struct buf *tried,
		       struct err *e)
{
	const char *name = profile_name(c->env, c->profile);
	int explicit = (c->profile && c->profile[0]) || env_get(c->env, "AWS_PROFILE");
	struct aws_files f;
	int r;

	if (files_load(c->env, &f, e) != 0)
		return -1;
	if (!profile_exists(&f.set, name)) {
		if (explicit) {
			err_set(e, ERR_CREDS, "profile %s not found in %s or %s", name,
				f.config_path, f.creds_path);
			files_free(&f);
			return -1;
		}
		tried_add(tried, "profile %s: not in %s or %s", name, f.config_path, f.creds_path);
		files_free(&f);
		return SRC_SKIP;
	}
	r = profile_static(&f, name, out, e);
	files_free(&f);
	if (r < 0)
		return -1;
	if (r == 0) {
		tried_add(tried, "profile %s: no credentials in it", name);
		return SRC_SKIP;
	}
	return 0;
}

/* ---- the chain ---- */

typedef int (*creds_source_fn)(struct creds_chain *c, struct aws_creds *out, struct buf *tried,
			       struct err *e);

static const creds_source_fn creds_sources[] = {src_bearer, src_env, src_profile};

void creds_init(struct creds_chain *c, const struct env *env, struct aws *aws, const char *profile)
{
	memset(c, 0, sizeof *c);
	c->env = env;
	c->aws = aws;
	c->profile = profile;
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
		/* Only temporary credentials are cached: long-term keys are
		 * re-read every time, so rotated files and variables count. */
		if (got.expires != 0) {
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

/* ---- region ---- */

static int region_valid(const char *r)
{
	size_t n = strlen(r);

	if (n == 0 || n >= AWS_REGION_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = r[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-'))
			return 0;
	}
	return 1;
}

static int region_set(const char *val, const char *src, char *out, size_t n, char *source,
		      size_t sn, struct err *e)
{
	if (!region_valid(val))
		return err_set(e, ERR_USAGE, "invalid region \"%.64s\" (from %s)", val, src);
	if (copy_str(out, n, val, strlen(val)) != 0)
		return err_set(e, ERR_USAGE, "region too long (from %s)", src);
	snprintf(source, sn, "%s", src);
	return 1;
}

/* The profile's region from the config (and credentials) file. */
static int region_from_profile(const struct env *env, const char *profile, char *out, size_t n,
			       char *source, size_t sn, struct err *e)
{
	struct aws_files f;
	char val[AWS_REGION_MAX];
	char src[300];
	int r;

	if (files_load(env, &f, e) != 0)
		return -1;
	r = profile_get_str(&f.set, profile, "region", val, sizeof val);
	files_free(&f);
	if (r < 0)
		return err_set(e, ERR_USAGE, "profile %s: invalid region (too long)", profile);
	if (r == 0 || val[0] == '\0')
		return 0;
	snprintf(src, sizeof src, "profile:%s", profile);
	return region_set(val, src, out, n, source, sn, e);
}

int creds_region(const struct env *env, const char *flag, const char *profile,
		 const char *discovery_region, const char *base_url, char *out, size_t n,
		 char *source, size_t sn, struct err *e)
{
	static const char *const vars[] = {"AWS_REGION", "AWS_DEFAULT_REGION"};
	char host_region[AWS_REGION_MAX];
	int r;

	if (flag && flag[0])
		return region_set(flag, "--region", out, n, source, sn, e) < 0 ? -1 : 0;
	for (size_t i = 0; i < 2; i++) {
		const char *v = env_get(env, vars[i]);
		char val[AWS_REGION_MAX];

		if (!v)
			continue;
		if (env_get_buf(env, vars[i], val, sizeof val) < 0)
			return err_set(e, ERR_USAGE, "%s is too long", vars[i]);
		return region_set(val, vars[i], out, n, source, sn, e) < 0 ? -1 : 0;
	}
	r = region_from_profile(env, profile_name(env, profile), out, n, source, sn, e);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (discovery_region && discovery_region[0])
		return region_set(discovery_region, "config discovery region", out, n, source, sn,
				  e) < 0
			       ? -1
			       : 0;
	if (base_url && base_url[0]) {
		struct url u;
		struct err ue;

		if (url_parse(&u, base_url, &ue) == 0 &&
		    aws_host_region(u.host, host_region, sizeof host_region))
			return region_set(host_region, "baseUrl", out, n, source, sn, e) < 0 ? -1
											   : 0;
	}
	return region_set("us-east-1", "default", out, n, source, sn, e) < 0 ? -1 : 0;
}
