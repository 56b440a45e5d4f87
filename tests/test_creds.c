/* test_creds: the credential chain and the region chain with fake
 * environments and temporary files (no network: sources that would call AWS
 * are only checked up to the point where they fail or are skipped). */
#include "creds.h"
#include "t.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- fixture: a temp HOME, an env array, the chain ---- */

static char t_home[256];
static char *t_vars[64];
static size_t t_nvars;
static struct env t_env = {t_vars};
static time_t t_clock;

static time_t fake_now(void)
{
	return t_clock;
}

static void env_reset(void)
{
	for (size_t i = 0; i < t_nvars; i++)
		free(t_vars[i]);
	t_nvars = 0;
	t_vars[0] = NULL;
}

static void env_put(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 2;
	char *s = malloc(n);

	snprintf(s, n, "%s=%s", name, value);
	t_vars[t_nvars++] = s;
	t_vars[t_nvars] = NULL;
}

static void rm_rf(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "rm failed\n");
}

/* A fresh temp HOME with HOME set (and IMDS disabled, always). */
static void fx_begin(void)
{
	env_reset();
	snprintf(t_home, sizeof t_home, "/tmp/brock-test-creds-XXXXXX");
	if (!mkdtemp(t_home))
		abort();
	env_put("HOME", t_home);
	env_put("AWS_EC2_METADATA_DISABLED", "true");
}

static void fx_end(void)
{
	rm_rf(t_home);
	env_reset();
}

/* Writes HOME-relative file rel (directories made), mode 0600. */
static void fx_write(const char *rel, const char *fmt, ...)
{
	char path[512], cmd[700];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", t_home, rel);
	snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
	if (system(cmd) != 0)
		abort();
	f = fopen(path, "w");
	if (!f)
		abort();
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	chmod(path, 0600);
}

struct fx_chain {
	struct conn_pool pool;
	struct aws aws;
	struct creds_chain c;
};

static void chain_open(struct fx_chain *x, const char *profile)
{
	conn_pool_init(&x->pool, &t_env);
	aws_init(&x->aws, &t_env, &x->pool);
	if (t_clock)
		x->aws.now = fake_now;
	creds_init(&x->c, &t_env, &x->aws, profile);
}

static void chain_close(struct fx_chain *x)
{
	creds_free(&x->c);
	aws_free(&x->aws);
	conn_pool_free(&x->pool);
}

/* One creds_get on a fresh chain: returns its result, fills out/e. */
static int get_once(const char *profile, struct aws_creds *out, struct err *e)
{
	struct fx_chain x;
	int r;

	chain_open(&x, profile);
	err_clear(e);
	r = creds_get(&x.c, out, e);
	chain_close(&x);
	return r;
}

/* ---- tests ---- */

static void test_bearer_wins(void)
{
	struct aws_creds cr;
	struct err e;

	fx_begin();
	env_put("AWS_BEARER_TOKEN_BEDROCK", "  ABSKtoken123  ");
	env_put("AWS_ACCESS_KEY_ID", "AKIAENV");
	env_put("AWS_SECRET_ACCESS_KEY", "secret");
	CHECK(get_once(NULL, &cr, &e) == 0);
	CHECK_STR(cr.source, "bearer-token");
	CHECK_STR(cr.bearer, "ABSKtoken123");
	CHECK_STR(cr.akid, "");
	CHECK(cr.expires == 0);
	fx_end();
}

static void test_env_keys(void)
{
	struct aws_creds cr;
	struct err e;

	fx_begin();
	env_put("AWS_BEARER_TOKEN_BEDROCK", " \t ");
	env_put("AWS_ACCESS_KEY_ID", "AKIAENV");
	env_put("AWS_SECRET_ACCESS_KEY", "secret");
	env_put("AWS_SESSION_TOKEN", "tok");
	fx_write(".aws/credentials", "[default]\naws_access_key_id = AKIAFILE\n"
				     "aws_secret_access_key = s2\n");
	CHECK(get_once(NULL, &cr, &e) == 0);
	CHECK_STR(cr.source, "env");
	CHECK_STR(cr.akid, "AKIAENV");
	CHECK_STR(cr.secret, "secret");
	CHECK_STR(cr.token, "tok");
	CHECK_STR(cr.bearer, "");
	fx_end();
}

static void test_env_half_pair(void)
{
	struct aws_creds cr;
	struct err e;

	fx_begin();
	env_put("AWS_ACCESS_KEY_ID", "AKIAENV");
	env_put("AWS_SECRET_ACCESS_KEY", "   ");
	CHECK(get_once(NULL, &cr, &e) < 0);
	CHECK(e.cls == ERR_CREDS);
	CHECK(strstr(e.msg, "AWS_SECRET_ACCESS_KEY") != NULL);
	CHECK(strstr(e.msg, "AKIAENV") == NULL);
	fx_end();

	fx_begin();
	env_put("AWS_SECRET_ACCESS_KEY", "verysecret");
	CHECK(get_once(NULL, &cr, &e) < 0);
	CHECK(e.cls == ERR_CREDS);
	CHECK(strstr(e.msg, "AWS_ACCESS_KEY_ID") != NULL);
	CHECK(strstr(e.msg, "verysecret") == NULL);
	fx_end();
}

static void test_none(void)
{
	struct aws_creds cr;
	struct err e;

	fx_begin();
	CHECK(get_once(NULL, &cr, &e) < 0);
	CHECK(e.cls == ERR_CREDS);
	CHECK(strstr(e.msg, "no AWS credentials") != NULL);
	CHECK(strstr(e.msg, "AWS_BEARER_TOKEN_BEDROCK") != NULL);
	CHECK(strstr(e.msg, "profile default") != NULL);
	fx_end();
}

static void test_profile_static(void)
{
	struct aws_creds cr;
	struct err e;

	fx_begin();
	fx_write(".aws/config", "[default]\nregion = eu-west-1\n"
				"[profile dev]\naws_access_key_id = AKIACONFIG\n"
				"aws_secret_access_key = cfgsecret\n");
	fx_write(".aws/credentials", "[dev]\naws_access_key_id = AKIACREDS\n"
				     "aws_secret_access_key = credsecret\naws_session_token = st\n");
	CHECK(get_once("dev", &cr, &e) == 0);
	CHECK_STR(cr.source, "profile:dev");
	CHECK_STR(cr.akid, "AKIACREDS"); /* credentials file wins per key */
	CHECK_STR(cr.secret, "credsecret");
	CHECK_STR(cr.token, "st");
	/* AWS_PROFILE when there is no flag */
	env_put("AWS_PROFILE", "dev");
	CHECK(get_once(NULL, &cr, &e) == 0);
	CHECK_STR(cr.source, "profile:dev");
	fx_end();
}

static void test_profile_missing(void)
{
	struct aws_creds cr;
	struct err e;

	fx_begin();
	fx_write(".aws/config", "[default]\nregion = eu-west-1\n");
	/* an explicitly named profile that does not exist is an error */
	CHECK(get_once("nope", &cr, &e) < 0);
	CHECK(e.cls == ERR_CREDS);
	CHECK(strstr(e.msg, "profile nope not found") != NULL);
	/* the default profile without credentials is skipped */
	CHECK(get_once(NULL, &cr, &e) < 0);
	CHECK(strstr(e.msg, "no AWS credentials") != NULL);
	CHECK(strstr(e.msg, "no credentials in it") != NULL);
	fx_end();
}

static void test_profile_files_env(void)
{
	struct aws_creds cr;
	struct err e;
	char p[600];

	fx_begin();
	fx_write("elsewhere/creds", "[x]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n");
	env_put("AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere/creds");
	CHECK(get_once("x", &cr, &e) == 0);
	CHECK_STR(cr.akid, "AKIAX");
	fx_end();

	fx_begin();
	fx_write("c2", "[profile y]\naws_access_key_id = AKIAY\naws_secret_access_key = s\n");
	snprintf(p, sizeof p, "%s/c2", t_home);
	env_put("AWS_CONFIG_FILE", p);
	CHECK(get_once("y", &cr, &e) == 0);
	CHECK_STR(cr.akid, "AKIAY");
	fx_end();
}

static void test_profile_broken(void)
{
	struct aws_creds cr;
	struct err e;

	fx_begin();
	fx_write(".aws/config", "[default]\nregion = x\n[profile bad\n");
	CHECK(get_once(NULL, &cr, &e) < 0);
	CHECK(e.cls == ERR_USAGE);
	CHECK(strstr(e.msg, ".aws/config") != NULL);
	CHECK(strstr(e.msg, "line 3") != NULL);
	fx_end();

	fx_begin();
	fx_write(".aws/credentials", "[default]\naws_access_key_id = AKIAHALF\n");
	CHECK(get_once(NULL, &cr, &e) < 0);
	CHECK(e.cls == ERR_CREDS);
	CHECK(strstr(e.msg, "aws_secret_access_key") != NULL);
	fx_end();
}

/* ---- region ---- */

static int region(const char *flag, const char *profile, const char *disc, const char *base,
		  char *out, char *src)
{
	struct err e;

	return creds_region(&t_env, flag, profile, disc, base, out, AWS_REGION_MAX, src, 64, &e);
}

static void test_region_chain(void)
{
	char r[AWS_REGION_MAX], s[64];

	fx_begin();
	CHECK(region(NULL, NULL, NULL, NULL, r, s) == 0);
	CHECK_STR(r, "us-east-1");
	CHECK_STR(s, "default");
	CHECK(region(NULL, NULL, NULL, "https://bedrock-runtime.ap-south-1.amazonaws.com", r, s) ==
	      0);
	CHECK_STR(r, "ap-south-1");
	CHECK_STR(s, "baseUrl");
	CHECK(region(NULL, NULL, NULL, "http://127.0.0.1:8080", r, s) == 0);
	CHECK_STR(r, "us-east-1");
	CHECK(region(NULL, NULL, "eu-central-1", "https://bedrock-runtime.ap-south-1.amazonaws.com",
		     r, s) == 0);
	CHECK_STR(r, "eu-central-1");
	fx_write(".aws/config", "[default]\nregion = eu-west-3\n[profile dev]\nregion = us-west-2\n");
	CHECK(region(NULL, NULL, "eu-central-1", NULL, r, s) == 0);
	CHECK_STR(r, "eu-west-3");
	CHECK_STR(s, "profile:default");
	CHECK(region(NULL, "dev", "eu-central-1", NULL, r, s) == 0);
	CHECK_STR(r, "us-west-2");
	CHECK_STR(s, "profile:dev");
	env_put("AWS_PROFILE", "dev");
	CHECK(region(NULL, NULL, NULL, NULL, r, s) == 0);
	CHECK_STR(r, "us-west-2");
	env_put("AWS_DEFAULT_REGION", " ca-central-1 ");
	CHECK(region(NULL, NULL, NULL, NULL, r, s) == 0);
	CHECK_STR(r, "ca-central-1");
	CHECK_STR(s, "AWS_DEFAULT_REGION");
	env_put("AWS_REGION", "   ");
	CHECK(region(NULL, NULL, NULL, NULL, r, s) == 0);
	CHECK_STR(s, "AWS_DEFAULT_REGION");
	env_reset();
	env_put("HOME", t_home);
	env_put("AWS_REGION", "sa-east-1");
	env_put("AWS_DEFAULT_REGION", "ca-central-1");
	CHECK(region(NULL, NULL, NULL, NULL, r, s) == 0);
	CHECK_STR(r, "sa-east-1");
	CHECK_STR(s, "AWS_REGION");
	CHECK(region("eu-north-1", NULL, NULL, NULL, r, s) == 0);
	CHECK_STR(r, "eu-north-1");
	CHECK_STR(s, "--region");
	CHECK(region("eu north", NULL, NULL, NULL, r, s) < 0);
	fx_end();
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_bearer_wins);
	T_RUN(test_env_keys);
	T_RUN(test_env_half_pair);
	T_RUN(test_none);
	T_RUN(test_profile_static);
	T_RUN(test_profile_missing);
	T_RUN(test_profile_files_env);
	T_RUN(test_profile_broken);
	T_RUN(test_region_chain);
	return t_done(argv[0]);
}
