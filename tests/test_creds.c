/* test_creds: the credential chain and the region chain with fake
 * environments and temporary files (no network: sources that would call AWS
 * are only checked up to the point where they fail or are skipped). */
#include "aws/creds.h"
#include "aws/creds_int.h"
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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


/* ---- credential_process ---- */

/* A helper script under HOME; its invocations are counted in HOME/count. */
static void fx_script(const char *name, const char *body)
{
	char rel[128], path[512];

	snprintf(rel, sizeof rel, "%s", name);
	fx_write(rel, "#!/bin/sh\necho x >> \"$HOME/count\"\n%s", body);
	snprintf(path, sizeof path, "%s/%s", t_home, name);
	chmod(path, 0700);
}

static int fx_count(void)
{
	char path[512], line[16];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/count", t_home);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		n++;
	fclose(f);
	return n;
}

static void test_process_ok(void)
{
	struct aws_creds cr;
	struct err e;

	fx_begin();
	fx_script("p.sh", "echo '{\"Version\": 1, \"AccessKeyId\": \"AKIAPROC\", "
			  "\"SecretAccessKey\": \"psecret\", \"SessionToken\": \"ptok\", "
			  "\"Expiration\": \"2030-01-01T00:00:00Z\"}'\n");
	fx_write(".aws/config", "[profile p]\ncredential_process = %s/p.sh\n", t_home);
	CHECK(get_once("p", &cr, &e) == 0);
	CHECK_STR(cr.source, "process:p");
	CHECK_STR(cr.akid, "AKIAPROC");
	CHECK_STR(cr.secret, "psecret");
	CHECK_STR(cr.token, "ptok");
	CHECK(cr.expires == 1893456000);
	CHECK(fx_count() == 1);
	fx_end();
}

static void test_process_failures(void)
{
	static const struct {
		const char *body, *want;
	} cases[] = {
		{"exit 3\n", "exited with status 3"},
		{"kill -9 $PPID\n", "killed by signal 9"}, /* the sh -c */
		{"echo 'not json'\n", "not valid JSON"},
		{"echo '[1,2]'\n", "not a JSON object"},
		{"echo '{\"Version\":2,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"B\"}'\n", "Version"},
		{"echo '{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"B\"}'\n", "Version"},
		{"echo '{\"Version\":\"1\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"B\"}'\n",
		 "Version"},
		{"echo '{\"Version\":1,\"SecretAccessKey\":\"B\"}'\n", "AccessKeyId"},
		{"echo '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"\"}'\n",
		 "SecretAccessKey"},
		{"echo '{\"Version\":1,\"AccessKeyId\":7,\"SecretAccessKey\":\"B\"}'\n", "not a string"},
		{"echo '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"B\",\"Expiration\":"
		 "\"tomorrow\"}'\n",
		 "Expiration"},
		{"echo '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"B\"} trailing'\n",
		 "not valid JSON"},
		{"true\n", "not valid JSON"},
		{"head -c 70000 /dev/zero | tr '\\0' ' '\n", "larger than"},
	};
	struct aws_creds cr;
	struct err e;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int ok;

		fx_begin();
		fx_script("p.sh", cases[i].body);
		fx_write(".aws/config", "[default]\ncredential_process = %s/p.sh\n", t_home);
		ok = get_once(NULL, &cr, &e) < 0 && e.cls == ERR_CREDS &&
		     strstr(e.msg, cases[i].want) != NULL && strstr(e.msg, "profile default") != NULL;
		if (!ok)
			fprintf(stderr, "  case %zu: %s\n", i, e.msg);
		t_case(cases[i].body, ok);
		fx_end();
	}
}

static void test_process_timeout(void)
{
	struct fx_chain x;
	struct aws_creds cr;
	struct err e;
	struct timespec t0, t1;

	fx_begin();
	fx_script("p.sh", "sleep 20\n");
	fx_write(".aws/config", "[default]\ncredential_process = %s/p.sh\n", t_home);
	chain_open(&x, NULL);
	x.c.process_timeout_ms = 300;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(creds_get(&x.c, &cr, &e) < 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(strstr(e.msg, "timed out after 1 s") != NULL);
	CHECK(t1.tv_sec - t0.tv_sec < 3);
	chain_close(&x);
	fx_end();
}

static void test_process_timeout_env(void)
{
	struct fx_chain x;

	fx_begin();
	env_put("BROCK_CREDENTIAL_PROCESS_TIMEOUT", " 5 ");
	chain_open(&x, NULL);
	CHECK(x.c.process_timeout_ms == 5000);
	chain_close(&x);
	fx_end();
	fx_begin();
	env_put("BROCK_CREDENTIAL_PROCESS_TIMEOUT", "0");
	chain_open(&x, NULL);
	CHECK(x.c.process_timeout_ms == CREDS_PROCESS_TIMEOUT_MS);
	chain_close(&x);
	fx_end();
}

/* The chain's cache: temporary credentials are kept until 5 minutes before
 * they expire, then fetched again; a failed refresh keeps the old ones while
 * they are still valid. */
static void test_cache_and_refresh(void)
{
	const time_t exp = 1893456000; /* 2030-01-01T00:00:00Z */
	struct fx_chain x;
	struct aws_creds cr;
	struct err e;

	fx_begin();
	fx_script("p.sh", "n=$(wc -l < \"$HOME/count\")\n"
			  "[ \"$n\" -gt 2 ] && exit 9\n"
			  "echo \"{\\\"Version\\\":1,\\\"AccessKeyId\\\":\\\"AKIA$n\\\","
			  "\\\"SecretAccessKey\\\":\\\"s\\\",\\\"Expiration\\\":"
			  "\\\"2030-01-01T00:00:00Z\\\"}\"\n");
	fx_write(".aws/config", "[default]\ncredential_process = %s/p.sh\n", t_home);
	t_clock = exp - 3600;
	chain_open(&x, NULL);
	CHECK(creds_get(&x.c, &cr, &e) == 0);
	CHECK_STR(cr.akid, "AKIA1");
	t_clock = exp - 301;
	CHECK(creds_get(&x.c, &cr, &e) == 0);
	CHECK_STR(cr.akid, "AKIA1");
	CHECK(fx_count() == 1);
	t_clock = exp - 300; /* inside the window: refreshed */
	CHECK(creds_get(&x.c, &cr, &e) == 0);
	CHECK_STR(cr.akid, "AKIA2");
	CHECK(fx_count() == 2);
	t_clock = exp - 100; /* the helper now fails: the old ones still work */
	CHECK(creds_get(&x.c, &cr, &e) == 0);
	CHECK_STR(cr.akid, "AKIA2");
	CHECK(fx_count() == 3);
	t_clock = exp; /* expired and the refresh fails: an error */
	CHECK(creds_get(&x.c, &cr, &e) < 0);
	CHECK(strstr(e.msg, "exited with status 9") != NULL);
	chain_close(&x);
	t_clock = 0;
	fx_end();
}

/* Credentials that live less than twice the 5-minute window (a container
 * endpoint or credential_process handing out 60-second keys) are refreshed at
 * half their remaining life when they were fetched, not on every use. */
static void test_cache_short_lived(void)
{
	const time_t exp = 1893456000; /* 2030-01-01T00:00:00Z */
	struct fx_chain x;
	struct aws_creds cr;
	struct err e;

	fx_begin();
	fx_script("p.sh", "n=$(wc -l < \"$HOME/count\")\n"
			  "echo \"{\\\"Version\\\":1,\\\"AccessKeyId\\\":\\\"AKIA$n\\\","
			  "\\\"SecretAccessKey\\\":\\\"s\\\",\\\"Expiration\\\":"
			  "\\\"2030-01-01T00:00:00Z\\\"}\"\n");
	fx_write(".aws/config", "[default]\ncredential_process = %s/p.sh\n", t_home);
	t_clock = exp - 60; /* a 60-second lifetime: kept for 30 seconds */
	chain_open(&x, NULL);
	CHECK(creds_get(&x.c, &cr, &e) == 0);
	CHECK_STR(cr.akid, "AKIA1");
	t_clock = exp - 31;
	CHECK(creds_get(&x.c, &cr, &e) == 0);
	CHECK_STR(cr.akid, "AKIA1");
	CHECK(fx_count() == 1);
	t_clock = exp - 30;
	CHECK(creds_get(&x.c, &cr, &e) == 0);
	CHECK_STR(cr.akid, "AKIA2");
	CHECK(fx_count() == 2);
	t_clock = exp - 16; /* fetched with 30 seconds left: kept for 15 */
	CHECK(creds_get(&x.c, &cr, &e) == 0);
	CHECK_STR(cr.akid, "AKIA2");
	CHECK(fx_count() == 2);
	chain_close(&x);
	t_clock = 0;
	fx_end();
}

static void test_cache_long_term(void)
{
	struct fx_chain x;
	struct aws_creds cr;
	struct err e;

	/* credential_process without Expiration: run once per chain */
	fx_begin();
	fx_script("p.sh", "echo '{\"Version\":1,\"AccessKeyId\":\"AKIAP\",\"SecretAccessKey\":\"s\"}'\n");
	fx_write(".aws/config", "[default]\ncredential_process = %s/p.sh\n", t_home);
	chain_open(&x, NULL);
	CHECK(creds_get(&x.c, &cr, &e) == 0);
	CHECK(creds_get(&x.c, &cr, &e) == 0);
	CHECK(cr.expires == 0);
	CHECK(fx_count() == 1);
	chain_close(&x);
	fx_end();

	/* static keys in the files: read again each time (rotation) */
	fx_begin();
	fx_write(".aws/credentials", "[default]\naws_access_key_id = AKIAOLD\n"
				     "aws_secret_access_key = s\n");
	chain_open(&x, NULL);
	CHECK(creds_get(&x.c, &cr, &e) == 0);
	CHECK_STR(cr.akid, "AKIAOLD");
	fx_write(".aws/credentials", "[default]\naws_access_key_id = AKIANEW\n"
				     "aws_secret_access_key = s\n");
	CHECK(creds_get(&x.c, &cr, &e) == 0);
	CHECK_STR(cr.akid, "AKIANEW");
	chain_close(&x);
	fx_end();
}

/* ---- profile forms that fail before any network call ---- */

static void test_profile_errors(void)
{
	static const struct {
		const char *config, *profile, *want;
	} cases[] = {
		{"[profile a]\nrole_arn = r\nsource_profile = b\n[profile b]\nrole_arn = r\n"
		 "source_profile = a\n",
		 "a", "source_profile cycle: a -> b -> a"},
		{"[profile a]\nrole_arn = r\nsource_profile = b\n[profile b]\nrole_arn = r\n"
		 "source_profile = c\n[profile c]\nrole_arn = r\nsource_profile = b\n",
		 "a", "source_profile cycle: a -> b -> c -> b"},
		{"[profile a]\nrole_arn = r\nsource_profile = a\n", "a",
		 "source_profile is itself but it has no static keys"},
		{"[profile a]\nrole_arn = r\nsource_profile = ghost\n", "a", "profile ghost not found"},
		{"[profile a]\nrole_arn = r\nsource_profile = b\n[profile b]\nregion = x\n", "a",
		 "source profile b has no credentials"},
		{"[profile a]\nrole_arn = r\n", "a", "role_arn needs source_profile"},
		{"[profile a]\nrole_arn = r\nsource_profile = b\ncredential_source = Environment\n",
		 "a", "mutually exclusive"},
		{"[profile a]\nrole_arn = r\ncredential_source = Moon\n", "a",
		 "unknown credential_source"},
		{"[profile a]\nrole_arn = r\ncredential_source = Environment\n", "a",
		 "AWS_ACCESS_KEY_ID is not set"},
		{"[profile a]\nrole_arn = r\ncredential_source = Ec2InstanceMetadata\n", "a",
		 "AWS_EC2_METADATA_DISABLED"},
		{"[profile a]\nrole_arn = r\ncredential_source = EcsContainer\n", "a",
		 "AWS_CONTAINER_CREDENTIALS"},
		{"[profile a]\nrole_arn = r\nsource_profile = a\naws_access_key_id = A\n"
		 "aws_secret_access_key = B\nduration_seconds = 60\n",
		 "a", "duration_seconds"},
		{"[profile a]\nrole_arn = r\nweb_identity_token_file = /nonexistent/tok\n", "a",
		 "does not exist"},
		{"[profile a]\nsso_session = s\nsso_account_id = 1\nsso_role_name = r\n", "a",
		 "no [sso-session s] section"},
		{"[profile a]\nsso_session = s\nsso_account_id = 1\nsso_role_name = r\n"
		 "[sso-session s]\nsso_region = us-east-1\n",
		 "a", "sso_start_url and sso_region are required"},
		{"[profile a]\nsso_session = s\nsso_role_name = r\n[sso-session s]\n"
		 "sso_region = us-east-1\nsso_start_url = https://x\n",
		 "a", "sso_account_id and sso_role_name are required"},
		{"[profile a]\nsso_start_url = https://x\nsso_account_id = 1\nsso_role_name = r\n",
		 "a", "sso_start_url without sso_region"},
		{"[profile a]\nsso_session = s\nsso_account_id = 1\nsso_role_name = r\n"
		 "[sso-session s]\nsso_region = us-east-1\nsso_start_url = https://x\n",
		 "a", "run 'aws sso login --profile a'"},
		{"[profile a]\nsso_start_url = https://x\nsso_region = us-east-1\n"
		 "sso_account_id = 1\nsso_role_name = r\n",
		 "a", "no SSO login found"},
		{"[profile a]\naws_secret_access_key = B\n", "a", "aws_secret_access_key without"},
	};
	struct aws_creds cr;
	struct err e;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int ok;

		fx_begin();
		fx_write(".aws/config", "%s", cases[i].config);
		ok = get_once(cases[i].profile, &cr, &e) < 0 && e.cls == ERR_CREDS &&
		     strstr(e.msg, cases[i].want) != NULL;
		if (!ok)
			fprintf(stderr, "  case %zu: %s\n", i, e.msg);
		t_case(cases[i].want, ok);
		fx_end();
	}
}

/* An expired SSO token without a refresh token: the login hint, no network. */
static void test_sso_expired(void)
{
	struct aws_creds cr;
	struct err e;

	fx_begin();
	fx_write(".aws/config", "[profile a]\nsso_session = my-sso\nsso_account_id = 1\n"
				"sso_role_name = r\n[sso-session my-sso]\nsso_region = us-east-1\n"
				"sso_start_url = https://x\n");
	/* sha1("my-sso") */
	fx_write(".aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json",
		 "{\"accessToken\":\"t\",\"expiresAt\":\"2020-01-01T00:00:00Z\"}");
	CHECK(get_once("a", &cr, &e) < 0);
	CHECK(e.cls == ERR_CREDS);
	CHECK(strstr(e.msg, "the SSO session expired; run 'aws sso login --profile a'") != NULL);
	fx_write(".aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json", "{\"x\":1}");
	CHECK(get_once("a", &cr, &e) < 0);
	CHECK(strstr(e.msg, "accessToken") != NULL);
	fx_end();
}

/* ---- web identity, container, IMDS: configuration errors ---- */

static void test_env_sources_errors(void)
{
	struct aws_creds cr;
	struct err e;

	fx_begin();
	env_put("AWS_WEB_IDENTITY_TOKEN_FILE", "/tmp/x");
	CHECK(get_once(NULL, &cr, &e) < 0);
	CHECK(strstr(e.msg, "AWS_ROLE_ARN") != NULL);
	fx_end();

	fx_begin();
	env_put("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.0.0.1/creds");
	CHECK(get_once(NULL, &cr, &e) < 0);
	CHECK(strstr(e.msg, "only allowed to loopback") != NULL);
	fx_end();

	fx_begin();
	env_put("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1.evil.com/creds");
	CHECK(get_once(NULL, &cr, &e) < 0);
	CHECK(strstr(e.msg, "only allowed to loopback") != NULL);
	fx_end();

	fx_begin();
	env_put("AWS_CONTAINER_CREDENTIALS_FULL_URI", "ftp://127.0.0.1/creds");
	CHECK(get_once(NULL, &cr, &e) < 0);
	CHECK(strstr(e.msg, "AWS_CONTAINER_CREDENTIALS_FULL_URI") != NULL);
	fx_end();

	fx_begin();
	env_put("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "creds");
	CHECK(get_once(NULL, &cr, &e) < 0);
	CHECK(strstr(e.msg, "must start with '/'") != NULL);
	fx_end();

	fx_begin();
	env_put("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/creds");
	env_put("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/nonexistent/token");
	CHECK(get_once(NULL, &cr, &e) < 0);
	CHECK(strstr(e.msg, "container authorization token file") != NULL);
	fx_end();
}

/* The allowed-host rule of AWS_CONTAINER_CREDENTIALS_FULL_URI, as a table
 * (the rule function only: nothing here connects anywhere). want NULL:
 * refused; else the URL that would be fetched. */
static void test_container_url_rule(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"http://127.0.0.1/creds", "http://127.0.0.1/creds"},
		{"http://127.0.0.1:8080/x?y=1", "http://127.0.0.1:8080/x?y=1"},
		{"http://127.1.2.3/", "http://127.1.2.3/"},
		{"http://[::1]:80/c", "http://[::1]:80/c"},
		{"http://169.254.170.2/v2/credentials/x", "http://169.254.170.2/v2/credentials/x"},
		{"http://169.254.170.23/v1/credentials", "http://169.254.170.23/v1/credentials"},
		{"http://[fd00:ec2::23]/v1/credentials", "http://[fd00:ec2::23]/v1/credentials"},
		{"https://creds.example.com/c", "https://creds.example.com/c"},
		{"https://10.0.0.1:8443/c", "https://10.0.0.1:8443/c"},
		/* localhost is never looked up: a resolver (DNS when /etc/hosts
		 * lacks it, search domains) could answer anything */
		{"http://localhost:9911/creds", "http://127.0.0.1:9911/creds"},
		{"HTTP://LocalHost/creds?a=b", "http://127.0.0.1/creds?a=b"},
		{"http://localhost", "http://127.0.0.1"},
		/* refused */
		{"http://10.0.0.1/creds", NULL},
		{"http://169.254.169.254/latest", NULL},
		{"http://127.0.0.1.evil.com/creds", NULL},
		{"http://169.254.170.2.nip.io/creds", NULL},
		{"http://169.254.170.23.evil.com/", NULL},
		{"http://2130706433/creds", NULL},
		{"http://0177.0.0.1/creds", NULL},
		{"http://0x7f.0.0.1/creds", NULL},
		{"http://0x7f000001/creds", NULL},
		{"http://127.1/creds", NULL},
		{"http://127.0.0.01/creds", NULL},
		{"http://127.0.0.1./creds", NULL},
		{"http://localhost./creds", NULL},
		{"http://localhost.evil.com/creds", NULL},
		{"http://evil.localhost/creds", NULL},
		{"http://169.254.170.2@evil.com/creds", NULL},
		{"http://127.0.0.1:80@evil.com/creds", NULL},
		{"http://evil.com@169.254.170.2/creds", NULL},
		{"http://user:hunter2@127.0.0.1/creds", NULL},
		{"https://user:hunter2@creds.example.com/c", NULL},
		{"http://evil.com#@169.254.170.2/", NULL},
		{"http://evil.com?@169.254.170.2/", NULL},
		{"http://evil.com\\@169.254.170.2/", NULL},
		{"http://[::ffff:127.0.0.1]/creds", NULL},
		{"http://[::ffff:169.254.170.2]/creds", NULL},
		{"http://[fe80::1]/creds", NULL},
		{"http://::1/creds", NULL},
		{"ftp://127.0.0.1/creds", NULL},
		{"127.0.0.1/creds", NULL},
		{"http://127.0.0.1:0/creds", NULL},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char url[1024];
		struct err e;
		int r, ok;

		err_clear(&e);
		url[0] = '\0';
		r = creds_container_full_url(cases[i].in, url, sizeof url, &e);
		if (cases[i].want)
			ok = r == 0 && strcmp(url, cases[i].want) == 0;
		else
			ok = r < 0 && e.cls == ERR_CREDS && strstr(e.msg, "hunter2") == NULL &&
			     strstr(e.msg, "FULL_URI") != NULL;
		if (!ok)
			fprintf(stderr, "  %s: r=%d url=%s msg=%s\n", cases[i].in, r, url, e.msg);
		t_case(cases[i].in, ok);
	}
}

/* What the credential_process child gets: stdin /dev/null, stdout a pipe,
 * no other descriptor of ours, default signal dispositions and an empty
 * signal mask (serve ignores SIGPIPE), and no BROCK_API_KEYS. Each check
 * exits with its own status. */
static void test_process_hygiene(void)
{
	struct aws_creds cr;
	struct err e;
	char body[1200];
	int leak = open("/dev/null", O_RDONLY); /* deliberately without O_CLOEXEC */
	sigset_t block, old;
	void (*old_pipe)(int);

	CHECK(leak > 2);
	fx_begin();
	env_put("BROCK_API_KEYS", "sekrit-client-key");
	env_put("SOME_OTHER", "kept");
	snprintf(body, sizeof body,
		 "[ -e /proc/$$/fd/%d ] && exit 11\n"
		 "[ \"$(readlink /proc/$$/fd/0)\" = /dev/null ] || exit 12\n"
		 "m=$(awk '/^SigIgn/{print $2}' /proc/$$/status)\n"
		 "[ $(( 0x$m & 0x1000 )) -ne 0 ] && exit 13\n"
		 "b=$(awk '/^SigBlk/{print $2}' /proc/$$/status)\n"
		 "[ $(( 0x$b )) -ne 0 ] && exit 14\n"
		 "[ -n \"$BROCK_API_KEYS\" ] && exit 15\n"
		 "[ \"$SOME_OTHER\" = kept ] || exit 16\n"
		 "echo '{\"Version\": 1, \"AccessKeyId\": \"AKIAPROC\", "
		 "\"SecretAccessKey\": \"psecret\"}'\n",
		 leak);
	fx_script("p.sh", body);
	fx_write(".aws/config", "[default]\ncredential_process = %s/p.sh\n", t_home);
	old_pipe = signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	err_clear(&e);
	CHECK(get_once(NULL, &cr, &e) == 0);
	if (e.msg[0])
		fprintf(stderr, "  hygiene: %s\n", e.msg);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGPIPE, old_pipe);
	CHECK_STR(cr.akid, "AKIAPROC");
	close(leak);
	fx_end();
}

/* A helper that closes its stdout but does not exit is still bounded by
 * the timeout (and reaped). */
static void test_process_lingers(void)
{
	struct fx_chain x;
	struct aws_creds cr;
	struct err e;
	struct timespec t0, t1;

	fx_begin();
	/* inline, so that no outer shell keeps the pipe open */
	fx_write(".aws/config", "[default]\ncredential_process = echo '{\"Version\": 1, "
		 "\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"B\"}' && exec >&- && "
		 "sleep 8\n");
	chain_open(&x, NULL);
	x.c.process_timeout_ms = 1500; /* time enough to start on a loaded box */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(creds_get(&x.c, &cr, &e) < 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(strstr(e.msg, "timed out") != NULL);
	CHECK(t1.tv_sec - t0.tv_sec < 5);
	CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD); /* nothing left to reap */
	chain_close(&x);
	fx_end();
}

/* IMDS on a closed loopback port: listed as tried, and asked once per chain. */
static void test_imds_unreachable_memo(void)
{
	struct fx_chain x;
	struct aws_creds cr;
	struct err e;

	fx_begin();
	env_reset();
	env_put("HOME", t_home);
	env_put("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1/");
	chain_open(&x, NULL);
	CHECK(creds_get(&x.c, &cr, &e) < 0);
	CHECK(e.cls == ERR_CREDS);
	CHECK(strstr(e.msg, "IMDS unreachable at http://127.0.0.1:1:") != NULL);
	CHECK(x.c.imds_unreachable == 1);
	CHECK(creds_get(&x.c, &cr, &e) < 0);
	CHECK(strstr(e.msg, "IMDS: unreachable (not on EC2?)") != NULL);
	chain_close(&x);
	fx_end();
}

static int imds_role(const char *body, size_t n, char *role)
{
	return creds_imds_role((const uint8_t *)body, n, role, 256);
}

/* The role name of the IMDS listing: IAM's alphabet only, byte by byte (a
 * NUL or a byte >= 0x80 is no name, and never reaches the next URL). */
static int imds_token(const char *body, size_t n, char *tok)
{
	return creds_imds_token((const uint8_t *)body, n, tok, 64);
}

static void test_imds_token(void)
{
	char tok[64];

	CHECK(imds_token("AQAEAtok==\n", 11, tok) == 0);
	CHECK(strcmp(tok, "AQAEAtok==") == 0);
	CHECK(imds_token("tok \t\r\n", 7, tok) == 0 && strcmp(tok, "tok") == 0);
	CHECK(imds_token("tok\0", 4, tok) < 0);   /* a trailing NUL is not white space */
	CHECK(imds_token("to\0k", 4, tok) < 0);   /* nor is an embedded one accepted */
	CHECK(imds_token("to k", 4, tok) < 0);
	CHECK(imds_token("t\x01k", 3, tok) < 0);
	CHECK(imds_token("t\xc3\xa9", 3, tok) < 0);
	CHECK(imds_token(" \n", 2, tok) < 0);
	CHECK(imds_token("", 0, tok) < 0);
	char big[80];
	memset(big, 'A', sizeof big);
	CHECK(imds_token(big, 63, tok) == 0);
	CHECK(imds_token(big, 64, tok) < 0); /* does not fit */
}

static void test_imds_role_name(void)
{
	char role[256], big[300];

	CHECK(imds_role("brock-Role_1\n", 13, role) == 0);
	CHECK_STR(role, "brock-Role_1");
	CHECK(imds_role("a+=,.@_-Z9\r\nother\n", 18, role) == 0);
	CHECK_STR(role, "a+=,.@_-Z9");
	CHECK(imds_role("only", 4, role) == 0);
	CHECK_STR(role, "only");
	CHECK(imds_role("", 0, role) < 0);
	CHECK(imds_role("\nrole\n", 6, role) < 0);
	CHECK(imds_role("ro\0le\n", 6, role) < 0);     /* embedded NUL */
	CHECK(imds_role("role\0", 5, role) < 0);       /* trailing NUL */
	CHECK(imds_role("r\xc3\xa9le\n", 6, role) < 0); /* UTF-8 */
	CHECK(imds_role("r\xff", 2, role) < 0);
	CHECK(imds_role("ro/le", 5, role) < 0);
	CHECK(imds_role("ro le", 5, role) < 0);
	CHECK(imds_role("../x", 4, role) < 0);
	memset(big, 'a', sizeof big);
	CHECK(imds_role(big, 255, role) == 0);
	CHECK(strlen(role) == 255);
	CHECK(imds_role(big, 256, role) < 0); /* does not fit */
}

/* --profile skips the environment keys; AWS_PROFILE does not. */
static void test_explicit_profile(void)
{
	struct aws_creds cr;
	struct err e;

	fx_begin();
	env_put("AWS_ACCESS_KEY_ID", "AKIAENV");
	env_put("AWS_SECRET_ACCESS_KEY", "s");
	fx_write(".aws/credentials", "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = s\n");
	CHECK(get_once("dev", &cr, &e) == 0);
	CHECK_STR(cr.akid, "AKIADEV");
	env_put("AWS_PROFILE", "dev");
	CHECK(get_once(NULL, &cr, &e) == 0);
	CHECK_STR(cr.akid, "AKIAENV");
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
	T_RUN(test_process_ok);
	T_RUN(test_process_failures);
	T_RUN(test_process_timeout);
	T_RUN(test_process_timeout_env);
	T_RUN(test_process_hygiene);
	T_RUN(test_process_lingers);
	T_RUN(test_cache_and_refresh);
	T_RUN(test_cache_short_lived);
	T_RUN(test_cache_long_term);
	T_RUN(test_profile_errors);
	T_RUN(test_sso_expired);
	T_RUN(test_env_sources_errors);
	T_RUN(test_container_url_rule);
	T_RUN(test_imds_unreachable_memo);
	T_RUN(test_imds_token);
	T_RUN(test_imds_role_name);
	T_RUN(test_explicit_profile);
	T_RUN(test_region_chain);
	return t_done(argv[0]);
}
