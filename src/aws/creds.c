/* creds: the AWS default credential chain and the region chain (SPEC
 * section 2). See creds.h for the order of the sources. Every source is a
 * function that either yields credentials (0), says it is not configured
 * (SRC_SKIP, with a note for the "what was tried" message), or fails (-1:
 * the chain stops there, the way the AWS SDKs stop on a broken profile). */
#include "aws/creds.h"

#include <arpa/inet.h>
#include <bearssl.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base64.h"
#include "base/buf.h"
#include "base/file.h"
#include "net/httpc.h"
#include "wire/json.h"
#include "base/pctenc.h"
#include "wire/profile.h"
#include "base/timefmt.h"
#include "wire/url.h"
#include "wire/xml.h"

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
	if (c->sigv4_only) {
		secure_zero(out->bearer, sizeof out->bearer);
		tried_add(tried, "AWS_BEARER_TOKEN_BEDROCK: set, but a bearer token cannot sign");
		return SRC_SKIP;
	}
	snprintf(out->source, sizeof out->source, "bearer-token");
	return 0;
}

static int env_keys(struct creds_chain *c, struct aws_creds *out, struct buf *tried,
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

/* Like the AWS CLI, an explicit --profile wins over keys in the environment
 * (AWS_PROFILE does not: it only names the profile). */
static int src_env(struct creds_chain *c, struct aws_creds *out, struct buf *tried,
		   struct err *e)
{
	if (c->profile && c->profile[0]) {
		tried_add(tried, "environment: skipped (--profile given)");
		return SRC_SKIP;
	}
	return env_keys(c, out, tried, e);
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

/* ---- credentials in JSON (credential_process, container, IMDS) ---- */

#define CREDS_JSON_MAX (64u << 10) /* bytes of a credentials JSON document */
#define CREDS_JSON_TOKENS 512

struct creds_keys {
	const char *akid, *secret, *token, *expiration;
};

static const struct creds_keys keys_process = {"AccessKeyId", "SecretAccessKey", "SessionToken",
					       "Expiration"};
static const struct creds_keys keys_meta = {"AccessKeyId", "SecretAccessKey", "Token",
					    "Expiration"};

/* String member key of obj into dst: 1 found, 0 absent (or null), -1 bad. */
static int jstr(const struct json_doc *d, int obj, const char *key, char *dst, size_t cap,
		const char *what, struct err *e)
{
	int t = json_get(d, obj, key);

	dst[0] = '\0';
	if (t < 0 || json_is_null(d, t))
		return 0;
	if (json_type(d, t) != JSON_STRING)
		return err_set(e, ERR_CREDS, "%s: \"%s\" is not a string", what, key);
	if (json_strz(d, t, dst, cap, e) != 0) {
		dst[0] = '\0';
		return err_set(e, ERR_CREDS, "%s: \"%s\" is too long or not a clean string", what,
			       key);
	}
	return 1;
}

/* A required string member. */
static int jstr_req(const struct json_doc *d, int obj, const char *key, char *dst, size_t cap,
		    const char *what, struct err *e)
{
	int r = jstr(d, obj, key, dst, cap, what, e);

	if (r == 0 || (r == 1 && dst[0] == '\0'))
		return err_set(e, ERR_CREDS, "%s: no \"%s\" in the answer", what, key);
	return r < 0 ? -1 : 0;
}

static int parse_expiration(const char *s, time_t *t)
{
	size_t n = strlen(s);

	return timefmt_parse_iso8601(s, n, t, NULL) == 0 ? 0 : timefmt_parse_any(s, n, t);
}

static int json_open(struct json_doc *d, const struct buf *b, const char *what, struct err *e)
{
	memset(d, 0, sizeof *d);
	if (json_parse_alloc(d, (const char *)b->p, b->len, CREDS_JSON_TOKENS, e) != 0) {
		e->cls = ERR_CREDS;
		return err_wrap(e, "%s: answer is not valid JSON", what);
	}
	if (json_type(d, 0) != JSON_OBJECT) {
		json_doc_free(d);
		return err_set(e, ERR_CREDS, "%s: answer is not a JSON object", what);
	}
	return 0;
}

/* Credentials from a JSON object with the member names k. */
static int json_creds(const char *what, const struct buf *b, const struct creds_keys *k,
		      int need_version, struct aws_creds *out, struct err *e)
{
	struct json_doc d;
	char exp[64];
	int r = -1;

	if (json_open(&d, b, what, e) != 0)
		return -1;
	if (need_version) {
		int64_t ver = 0;
		int t = json_get(&d, 0, "Version");

		if (t < 0 || json_type(&d, t) != JSON_NUMBER || json_int64(&d, t, &ver, e) != 0 ||
		    ver != 1) {
			err_set(e, ERR_CREDS, "%s: \"Version\" must be 1", what);
			goto out;
		}
	} else {
		int t = json_get(&d, 0, "Code");

		if (t >= 0 && !json_str_eq(&d, t, "Success")) {
			char code[64];

			if (jstr(&d, 0, "Code", code, sizeof code, what, e) < 0)
				goto out;
			err_set(e, ERR_CREDS, "%s: answer has Code \"%s\"", what, code);
			goto out;
		}
	}
	if (jstr_req(&d, 0, k->akid, out->akid, sizeof out->akid, what, e) != 0 ||
	    jstr_req(&d, 0, k->secret, out->secret, sizeof out->secret, what, e) != 0 ||
	    jstr(&d, 0, k->token, out->token, sizeof out->token, what, e) < 0)
		goto out;
	switch (jstr(&d, 0, k->expiration, exp, sizeof exp, what, e)) {
	case -1:
		goto out;
	case 1:
		if (parse_expiration(exp, &out->expires) != 0) {
			err_set(e, ERR_CREDS, "%s: \"%s\" is not a timestamp: \"%s\"", what,
				k->expiration, exp);
			goto out;
		}
		break;
	default:
		break;
	}
	r = 0;
out:
	json_doc_free(&d);
	return r;
}

/* ---- credential_process ---- */

#define CREDS_PROCESS_OUT_MAX (64u << 10)

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Reads the child's stdout until EOF, the size limit or the deadline
 * (timeout_ms after t0). 0 at EOF, 1 on timeout, -1 on error. */
static int drain(int fd, struct buf *out, const struct timespec *t0, int timeout_ms,
		 struct err *e)
{
	uint8_t tmp[4096];
	int rc = 0;

	for (;;) {
		long left = timeout_ms - ms_since(t0);
		struct pollfd pfd = {fd, POLLIN, 0};
		ssize_t r;
		int pr;

		if (left <= 0) {
			rc = 1;
			break;
		}
		pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			rc = err_set(e, ERR_CREDS, "credential_process: poll: %s", strerror(errno));
			break;
		}
		if (pr == 0) {
			rc = 1;
			break;
		}
		r = read(fd, tmp, sizeof tmp);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = err_set(e, ERR_CREDS, "credential_process: read: %s", strerror(errno));
			break;
		}
		if (r == 0)
			break;
		if (buf_append(out, tmp, (size_t)r) != 0) {
			rc = err_set(e, ERR_CREDS, "credential_process: output larger than %u bytes",
				     CREDS_PROCESS_OUT_MAX);
			break;
		}
	}
	secure_zero(tmp, sizeof tmp); /* it held credentials */
	return rc;
}

/* Waits for pid until the deadline: 0 reaped (status in st), 1 timed out
 * (the caller kills and reaps), -1 waitpid failed. A helper that closed its
 * stdout but lingers must not hang the chain. */
static int reap_until(pid_t pid, const struct timespec *t0, int timeout_ms, int *st)
{
	int nap = 1;

	for (;;) {
		pid_t w = waitpid(pid, st, WNOHANG);

		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -1;
		if (ms_since(t0) >= timeout_ms)
			return 1;
		poll(NULL, 0, nap);
		if (nap < 50)
			nap *= 2;
	}
}

/* The helper's environment: the chain's, without the serve API keys (a
 * credential helper has no business with the gateway's client keys). The
 * strings are shared; free only the array. */
static char **process_env(const struct env *env)
{
	size_t n = 0, k = 0;
	char **v;

	while (env && env->vars && env->vars[n])
		n++;
	v = calloc(n + 1, sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(env->vars[i], "BROCK_API_KEYS=", 15) != 0)
			v[k++] = env->vars[i];
	v[k] = NULL;
	return v;
}

/* The highest descriptor number the child closes by hand when close_range
 * is not there. */
static int fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > 65536)
		return 65536;
	return (int)rl.rlim_cur;
}

/* In the child, before exec: only async-signal-safe calls. stdin is
 * /dev/null, stdout the pipe, stderr ours; every other descriptor is closed
 * (whatever brock or its embedder opened without O_CLOEXEC, e.g. a serve
 * client socket between accept and fcntl); signals are back to their
 * defaults with nothing blocked (serve ignores SIGPIPE, and ignored signals
 * survive exec). */
static void child_setup(int out_fd, int maxfd, const sigset_t *none,
			const struct sigaction *dfl)
{
	int nul = open("/dev/null", O_RDONLY);

	if (nul < 0)
		close(0);
	else if (nul != 0) {
		dup2(nul, 0);
		if (nul != out_fd)
			close(nul);
	}
	if (out_fd == 1)
		fcntl(1, F_SETFD, 0); /* dup2 onto itself would keep FD_CLOEXEC */
	else
		dup2(out_fd, 1);
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0)
#endif
		for (int fd = 3; fd < maxfd; fd++)
			close(fd);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, dfl, NULL);
	sigprocmask(SIG_SETMASK, none, NULL);
}

/* Runs cmd with /bin/sh -c (stdin /dev/null, stdout to us, stderr passed
 * through, the environment the chain sees); its stdout goes to out. The
 * timeout covers the whole run, exit included. */
static int run_process(const struct creds_chain *c, const char *cmd, struct buf *out,
		       struct err *e)
{
	char *const argv[] = {"sh", "-c", (char *)cmd, NULL};
	char **envp;
	int fds[2], st = 0, dr, tty, maxfd = fd_limit();
	struct timespec t0;
	struct sigaction dfl;
	sigset_t none;
	pid_t pid;

	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigemptyset(&none);
	envp = process_env(c->env);
	if (!envp)
		return err_set(e, ERR_OTHER, "out of memory");
	if (pipe(fds) != 0) {
		free(envp);
		return err_set(e, ERR_CREDS, "credential_process: pipe: %s", strerror(errno));
	}
	/* Not inherited by anything else this process may start. */
	(void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	/* Without a terminal the helper gets its own process group, so a
	 * timeout kills everything it started (a grandchild would otherwise
	 * keep our stderr open). With one it stays in ours: helpers prompt for
	 * MFA codes on /dev/tty, which a background group may not read. */
	tty = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
	if (tty >= 0)
		close(tty);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		free(envp);
		return err_set(e, ERR_CREDS, "credential_process: fork: %s", strerror(errno));
	}
	if (pid == 0) {
		if (tty < 0)
			setpgid(0, 0);
		child_setup(fds[1], maxfd, &none, &dfl);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	if (tty < 0)
		setpgid(pid, pid); /* also here: a kill may come before the child ran */
	free(envp);
	close(fds[1]);
	dr = drain(fds[0], out, &t0, c->process_timeout_ms, e);
	close(fds[0]);
	if (dr == 0) {
		int w = reap_until(pid, &t0, c->process_timeout_ms, &st);

		if (w < 0)
			return err_set(e, ERR_CREDS, "credential_process: waitpid: %s",
				       strerror(errno));
		dr = w;
	}
	if (dr != 0) {
		if (tty < 0)
			kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	if (dr == 1)
		return err_set(e, ERR_CREDS, "credential_process: timed out after %d s",
			       (c->process_timeout_ms + 999) / 1000);
	if (dr < 0)
		return -1;
	if (WIFSIGNALED(st))
		return err_set(e, ERR_CREDS, "credential_process: killed by signal %d",
			       WTERMSIG(st));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return err_set(e, ERR_CREDS, "credential_process: exited with status %d",
			       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}

static int process_creds(const struct creds_chain *c, const char *name, const char *cmd,
			 struct aws_creds *out, struct err *e)
{
	struct buf b;
	int r;

	buf_init(&b, CREDS_PROCESS_OUT_MAX);
	r = run_process(c, cmd, &b, e);
	if (r == 0)
		r = json_creds("credential_process", &b, &keys_process, 1, out, e);
	buf_free(&b);
	if (r != 0)
		return err_wrap(e, "profile %s", name);
	snprintf(out->source, sizeof out->source, "process:%s", name);
	return 0;
}

/* ---- STS ---- */

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

/* b's bytes without surrounding spaces, tabs and line ends (NUL bytes too:
 * strchr finds the terminator). */
static struct slice trimmed(const struct buf *b)
{
	size_t a = 0, z = b->len;

	while (a < z && strchr(" \t\r\n", b->p[a]))
		a++;
	while (z > a && strchr(" \t\r\n", b->p[z - 1]))
		z--;
	return (struct slice){b->p + a, z - a};
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
		v = trimmed(&t);
		if (v.n == 0 || copy_str(dst, cap, v.p, v.n) != 0)
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
	if (parse_expiration(exp, &out->expires) != 0) {
		err_set(e, ERR_CREDS, "STS %s: bad Expiration \"%s\"", action, exp);
		goto out;
	}
	rc = 0;
out:
	aws_response_free(&r);
	return rc;
}

static void default_session_name(const struct creds_chain *c, char *out, size_t n)
{
	snprintf(out, n, "brock-%lld", (long long)creds_now(c));
}

struct role_params {
	char arn[2048];
	char session[128];
	char external_id[1280];
	char duration[16];
};

static int sts_assume_role(struct creds_chain *c, const struct aws_creds *signer,
			   const struct role_params *p, struct aws_creds *out, struct err *e)
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

/* AssumeRoleWithWebIdentity with the token read (fresh) from token_file. */
static int sts_web_identity(struct creds_chain *c, const char *arn, const char *session,
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
	v = trimmed(&tok);
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

/* ---- container credentials ---- */

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
		v = trimmed(&b);
		memcpy(dst, v.p, v.n);
		dst[v.n] = '\0';
		buf_free(&b);
	} else if (env_get_buf(c->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN", dst, (unsigned)cap) <
		   0) {
		return err_set(e, ERR_CREDS, "AWS_CONTAINER_AUTHORIZATION_TOKEN is too long");
	}
	for (const char *p = dst; *p; p++)
		if (*p == '\r' || *p == '\n')
			return err_set(e, ERR_CREDS, "container authorization token has a line break");
	return 0;
}

/* A GET answered with JSON credentials; one retry on a network error. */
static int meta_get(struct creds_chain *c, const char *what, const char *url,
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
		if (r == 0 && res->status < 500)
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

static int container_fetch(struct creds_chain *c, const char *url, struct aws_creds *out,
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
	r = meta_get(c, "container credentials", url, &h, auth[0] ? 1 : 0, &opts, &res, e);
	secure_zero(auth, sizeof auth);
	if (r != 0)
		return -1;
	if (res.status != 200) {
		err_set(e, ERR_CREDS, "container credentials: HTTP %d from %s", res.status, url);
		httpc_result_free(&res);
		return -1;
	}
	r = json_creds("container credentials", &res.body, &keys_meta, 0, out, e);
	httpc_result_free(&res);
	if (r != 0)
		return -1;
	snprintf(out->source, sizeof out->source, "container");
	return 0;
}

/* The container URL from the environment: 1 found, 0 not configured. */
static int container_url(const struct creds_chain *c, char *url, size_t n, struct err *e)
{
	char v[AWS_URL_MAX];
	int len = env_get_buf(c->env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", v, sizeof v);

	if (len < 0)
		return err_set(e, ERR_CREDS, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is too long");
	if (len > 0) {
		if (v[0] != '/')
			return err_set(e, ERR_CREDS,
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
		return err_set(e, ERR_CREDS, "AWS_CONTAINER_CREDENTIALS_FULL_URI: a user name or "
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

/* ---- EC2 instance metadata (IMDSv2, v1 fallback) ---- */

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
		if (r == 0 && res.status < 500)
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
		size_t n = res.body.len;

		while (n && strchr(" \t\r\n", res.body.p[n - 1]))
			n--;
		if (n == 0 || copy_str(c->imds_token, sizeof c->imds_token, res.body.p, n) != 0) {
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

		if (meta_get(c, "IMDS", url, &h, m->v1 ? 0 : 1, &imds_opts, res, e) != 0)
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
			return err_set(e, ERR_CREDS, "IMDS: no IAM role attached to this instance "
				       "(HTTP 404 for %s)", path);
		return err_set(e, ERR_CREDS, "IMDS: HTTP %d for %s", st, path);
	}
	return 0;
}

static int imds_fetch(struct creds_chain *c, struct aws_creds *out, struct err *e)
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
	/* The first line is the role name. */
	n = 0;
	while (n < res.body.len && res.body.p[n] != '\n' && res.body.p[n] != '\r')
		n++;
	r = (n == 0 || copy_str(role, sizeof role, res.body.p, n) != 0) ? -1 : 0;
	for (size_t i = 0; r == 0 && i < n; i++)
		if (!isalnum(role[i]) && !strchr("+=,.@_-", role[i]))
			r = -1;
	httpc_result_free(&res);
	if (r != 0)
		return err_set(e, ERR_CREDS, "IMDS: no usable role name");
	snprintf(path, sizeof path, "%s%s", list, role);
	if (imds_get(c, &m, path, &res, e) != 0)
		return -1;
	r = json_creds("IMDS", &res.body, &keys_meta, 0, out, e);
	httpc_result_free(&res);
	if (r != 0)
		return -1;
	snprintf(out->source, sizeof out->source, "imds");
	return 0;
}

/* ---- IAM Identity Center (SSO) ---- */

#define SSO_CACHE_MAX (64u << 10)

struct sso_params {
	char session[256];   /* sso_session name, "" for the legacy form */
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
static int sso_params_get(const struct creds_chain *c, const struct aws_files *f,
			  const char *name, struct sso_params *p, struct err *e)
{
	char hex[41];
	const char *home = env_get(c->env, "HOME");
	int rs;
	struct slice v;

	memset(p, 0, sizeof *p);
	rs = pget(f, name, "sso_session", p->session, sizeof p->session, e);
	if (rs < 0)
		return -1;
	if (rs) {
		if (!profile_file_has(f->config, PROFILE_SEC_SSO_SESSION, p->session))
			return err_set(e, ERR_CREDS, "profile %s: sso_session %s has no "
				       "[sso-session %s] section in %s", name, p->session,
				       p->session, f->config_path);
		if (!profile_sso_get(&f->set, p->session, "sso_start_url", &v) ||
		    copy_str(p->start_url, sizeof p->start_url, v.p, v.n) != 0 ||
		    !profile_sso_get(&f->set, p->session, "sso_region", &v) ||
		    copy_str(p->sso_region, sizeof p->sso_region, v.p, v.n) != 0)
			return err_set(e, ERR_CREDS, "[sso-session %s]: sso_start_url and sso_region "
				       "are required", p->session);
		sha1_hex(p->session, hex);
	} else {
		rs = pget(f, name, "sso_start_url", p->start_url, sizeof p->start_url, e);
		if (rs <= 0)
			return rs;
		if (pget(f, name, "sso_region", p->sso_region, sizeof p->sso_region, e) != 1)
			return err_set(e, ERR_CREDS, "profile %s: sso_start_url without sso_region",
				       name);
		sha1_hex(p->start_url, hex);
	}
	if (pget(f, name, "sso_account_id", p->account, sizeof p->account, e) != 1 ||
	    pget(f, name, "sso_role_name", p->role, sizeof p->role, e) != 1)
		return err_set(e, ERR_CREDS, "profile %s: sso_account_id and sso_role_name are "
			       "required", name);
	snprintf(p->cache_path, sizeof p->cache_path, "%s/.aws/sso/cache/%s.json",
		 home ? home : "", hex);
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
		return err_set(e, ERR_CREDS, "profile %s: no SSO login found (%s); run 'aws sso "
			       "login --profile %s'", name, p->cache_path, name);
	if (json_open(&d, text, "SSO token cache", e) != 0)
		return -1;
	if (jstr_req(&d, 0, "accessToken", t->access, sizeof t->access, "SSO token cache", e) ||
	    jstr_req(&d, 0, "expiresAt", when, sizeof when, "SSO token cache", e))
		goto out;
	if (parse_expiration(when, &t->expires) != 0) {
		err_set(e, ERR_CREDS, "SSO token cache %s: bad expiresAt", p->cache_path);
		goto out;
	}
	if (jstr(&d, 0, "refreshToken", t->refresh, sizeof t->refresh, "SSO token cache", e) < 0 ||
	    jstr(&d, 0, "clientId", t->client_id, sizeof t->client_id, "SSO token cache", e) < 0 ||
	    jstr(&d, 0, "clientSecret", t->client_secret, sizeof t->client_secret,
		 "SSO token cache", e) < 0 ||
	    jstr(&d, 0, "registrationExpiresAt", when, sizeof when, "SSO token cache", e) < 0)
		goto out;
	if (when[0] && parse_expiration(when, &t->reg_expires) != 0)
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

	if (json_open(&d, old, "SSO token cache", e) != 0)
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
	if (json_open(&d, &r.body, "SSO-OIDC CreateToken", e) != 0)
		goto out;
	tt = json_get(&d, 0, "expiresIn");
	if (jstr_req(&d, 0, "accessToken", t->access, sizeof t->access, "SSO-OIDC CreateToken",
		     e) == 0 &&
	    jstr(&d, 0, "refreshToken", t->refresh, sizeof t->refresh, "SSO-OIDC CreateToken",
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
			err_set(e, ERR_CREDS, "profile %s: the SSO session was rejected (%s); run "
				"'aws sso login --profile %s'", name,
				r.error_type[0] ? r.error_type : "unauthorized", name);
		} else {
			if (e->cls == ERR_SERVICE)
				e->cls = ERR_CREDS;
			err_wrap(e, "SSO GetRoleCredentials");
		}
		goto out;
	}
	if (json_open(&d, &r.body, "SSO GetRoleCredentials", e) != 0)
		goto out;
	rcred = json_get(&d, 0, "roleCredentials");
	ex = json_get(&d, rcred, "expiration");
	if (json_type(&d, rcred) != JSON_OBJECT)
		err_set(e, ERR_CREDS, "SSO GetRoleCredentials: no roleCredentials in the answer");
	else if (jstr_req(&d, rcred, "accessKeyId", out->akid, sizeof out->akid,
			  "SSO GetRoleCredentials", e) == 0 &&
		 jstr_req(&d, rcred, "secretAccessKey", out->secret, sizeof out->secret,
			  "SSO GetRoleCredentials", e) == 0 &&
		 jstr(&d, rcred, "sessionToken", out->token, sizeof out->token,
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

		if (can && sso_refresh(c, p, t, &re) == 0) {
			if (sso_cache_write(p, &text, t, e) != 0)
				goto out;
		} else if (now >= t->expires) {
			if (can)
				err_set(e, ERR_CREDS, "profile %s: the SSO session expired and "
					"refreshing it failed (%s); run 'aws sso login --profile "
					"%s'", name, re.msg, name);
			else
				err_set(e, ERR_CREDS, "profile %s: the SSO session expired; run "
					"'aws sso login --profile %s'", name, name);
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

/* ---- the profile (all its forms) ---- */

#define CREDS_MAX_CHAIN 8 /* source_profile hops */

/* role_arn's companions. */
static int role_params_get(const struct creds_chain *c, const struct aws_files *f,
			   const char *name, struct role_params *rp, struct err *e)
{
	int r;

	if (pget(f, name, "role_session_name", rp->session, sizeof rp->session, e) < 0 ||
	    pget(f, name, "external_id", rp->external_id, sizeof rp->external_id, e) < 0 ||
	    (r = pget(f, name, "duration_seconds", rp->duration, sizeof rp->duration, e)) < 0)
		return -1;
	if (!rp->session[0])
		default_session_name(c, rp->session, sizeof rp->session);
	if (r == 1) {
		char *end;
		long v = strtol(rp->duration, &end, 10);

		if (*end || v < 900 || v > 43200)
			return err_set(e, ERR_CREDS, "profile %s: duration_seconds must be 900..43200",
				       name);
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
		r = env_keys(c, out, &t, e);
		buf_free(&t);
		if (r == SRC_SKIP)
			return err_set(e, ERR_CREDS, "profile %s: credential_source Environment but "
				       "AWS_ACCESS_KEY_ID is not set", name);
		return r;
	}
	if (strcmp(src, "Ec2InstanceMetadata") == 0) {
		if (env_is_true(c->env, "AWS_EC2_METADATA_DISABLED"))
			return err_set(e, ERR_CREDS, "profile %s: credential_source "
				       "Ec2InstanceMetadata but AWS_EC2_METADATA_DISABLED is set",
				       name);
		return imds_fetch(c, out, e);
	}
	if (strcmp(src, "EcsContainer") == 0) {
		r = container_url(c, url, sizeof url, e);
		if (r < 0)
			return -1;
		if (r == 0)
			return err_set(e, ERR_CREDS, "profile %s: credential_source EcsContainer but "
				       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI is not set",
				       name);
		return container_fetch(c, url, out, e);
	}
	return err_set(e, ERR_CREDS, "profile %s: unknown credential_source \"%s\" (Environment, "
		       "Ec2InstanceMetadata or EcsContainer)", name, src);
}

static int role_creds(struct creds_chain *c, const struct aws_files *f, const char *name,
		      const char *arn, const char **visited, int depth, struct aws_creds *out,
		      struct err *e)
{
	struct role_params *rp = calloc(1, sizeof *rp);
	struct aws_creds *src = calloc(1, sizeof *src);
	char sp[PROFILE_MAX_NAME], cs[64], wif[1024];
	int r = -1, has_sp, has_cs, has_wif;

	if (!rp || !src) {
		err_set(e, ERR_OTHER, "out of memory");
		goto out;
	}
	snprintf(rp->arn, sizeof rp->arn, "%s", arn);
	if ((has_sp = pget(f, name, "source_profile", sp, sizeof sp, e)) < 0 ||
	    (has_cs = pget(f, name, "credential_source", cs, sizeof cs, e)) < 0 ||
	    (has_wif = pget(f, name, "web_identity_token_file", wif, sizeof wif, e)) < 0 ||
	    role_params_get(c, f, name, rp, e) != 0)
		goto out;
	if (has_wif) {
		r = sts_web_identity(c, rp->arn, rp->session, wif, out, e);
		goto done;
	}
	if (has_sp && has_cs) {
		err_set(e, ERR_CREDS, "profile %s: source_profile and credential_source are "
			"mutually exclusive", name);
		goto out;
	}
	if (has_sp) {
		if (strcmp(sp, name) == 0) {
			/* A profile that is its own source uses its static keys. */
			r = profile_static(f, name, src, e);
			if (r == 0)
				err_set(e, ERR_CREDS, "profile %s: source_profile is itself but it "
					"has no static keys", name);
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
		err_set(e, ERR_CREDS, "profile %s: role_arn needs source_profile, "
			"credential_source or web_identity_token_file", name);
		goto out;
	}
	r = sts_assume_role(c, src, rp, out, e);
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
	struct sso_params *sp;
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
	if ((r = pget(f, name, "role_arn", arn, sizeof arn, e)) != 0)
		return r < 0 ? -1 : role_creds(c, f, name, arn, visited, depth, out, e);
	sp = calloc(1, sizeof *sp);
	if (!sp)
		return err_set(e, ERR_OTHER, "out of memory");
	r = sso_params_get(c, f, name, sp, e);
	if (r == 1)
		r = sso_creds(c, name, sp, out, e) == 0 ? 0 : -1;
	else if (r == 0)
		r = SRC_SKIP;
	free(sp);
	if (r != SRC_SKIP)
		return r;
	if ((r = profile_static(f, name, out, e)) != 0)
		return r < 0 ? -1 : 0;
	cmd = malloc(PROFILE_MAX_VALUE + 1);
	if (!cmd)
		return err_set(e, ERR_OTHER, "out of memory");
	r = pget(f, name, "credential_process", cmd, PROFILE_MAX_VALUE + 1, e);
	if (r == 1)
		r = process_creds(c, name, cmd, out, e);
	else if (r == 0)
		r = depth == 0 ? SRC_SKIP
			       : err_set(e, ERR_CREDS, "source profile %s has no credentials", name);
	secure_zero(cmd, PROFILE_MAX_VALUE + 1); /* command lines do carry passwords */
	free(cmd);
	return r;
}

static int src_profile(struct creds_chain *c, struct aws_creds *out, struct buf *tried,
		       struct err *e)
{
	const char *name = profile_name(c->env, c->profile);
	int explicit = (c->profile && c->profile[0]) || env_get(c->env, "AWS_PROFILE");
	const char *visited[CREDS_MAX_CHAIN];
	struct aws_files *f = calloc(1, sizeof *f);
	int r;

	if (!f)
		return err_set(e, ERR_OTHER, "out of memory");
	if (files_load(c->env, f, e) != 0) {
		free(f);
		return -1;
	}
	if (!profile_exists(&f->set, name)) {
		if (explicit) {
			r = err_set(e, ERR_CREDS, "profile %s not found in %s or %s", name,
				    f->config_path, f->creds_path);
		} else {
			tried_add(tried, "profile %s: not in %s or %s", name, f->config_path,
				  f->creds_path);
			r = SRC_SKIP;
		}
	} else {
		r = profile_creds(c, f, name, visited, 0, out, e);
		if (r == SRC_SKIP)
			tried_add(tried, "profile %s: no credentials in it", name);
	}
	files_free(f);
	free(f);
	return r;
}

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
		tried_add(tried, "web identity: AWS_WEB_IDENTITY_TOKEN_FILE not set");
		return SRC_SKIP;
	}
	if (nf == 0 || na == 0)
		return err_set(e, ERR_CREDS, "%s is set but %s is not",
			       nf ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN",
			       nf ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE");
	if (ns == 0)
		default_session_name(c, session, sizeof session);
	if (sts_web_identity(c, arn, session, file, out, e) != 0)
		return err_wrap(e, "web identity (AWS_WEB_IDENTITY_TOKEN_FILE)");
	snprintf(out->source, sizeof out->source, "web-identity");
	return 0;
}

static int src_container(struct creds_chain *c, struct aws_creds *out, struct buf *tried,
			 struct err *e)
{
	char url[AWS_URL_MAX];
	int r = container_url(c, url, sizeof url, e);

	if (r < 0)
		return -1;
	if (r == 0) {
		tried_add(tried, "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set");
		return SRC_SKIP;
	}
	return container_fetch(c, url, out, e);
}

static int src_imds(struct creds_chain *c, struct aws_creds *out, struct buf *tried,
		    struct err *e)
{
	struct err ie;

	if (env_is_true(c->env, "AWS_EC2_METADATA_DISABLED")) {
		tried_add(tried, "IMDS: disabled by AWS_EC2_METADATA_DISABLED");
		return SRC_SKIP;
	}
	if (c->imds_unreachable) {
		tried_add(tried, "IMDS: unreachable (not on EC2?)");
		return SRC_SKIP;
	}
	err_clear(&ie);
	if (imds_fetch(c, out, &ie) == 0)
		return 0;
	/* The last source: its failure is one more thing that was tried. */
	tried_add(tried, "%s", ie.msg);
	(void)e;
	return SRC_SKIP;
}

/* ---- the chain ---- */

typedef int (*creds_source_fn)(struct creds_chain *c, struct aws_creds *out, struct buf *tried,
			       struct err *e);

static const creds_source_fn creds_sources[] = {src_bearer,       src_env,       src_profile,
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
