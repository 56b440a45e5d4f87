/* spawn.h: helpers for tests that start local servers (test_tls, test_httpc).
 * A server prints "PORT <n>" (our Python servers) or "ACCEPT host:<n>"
 * (openssl s_server) on stdout once it listens; stdout goes to a file that
 * is polled for that line. Only 127.0.0.1 / ::1 servers, never anything else. */
#ifndef BROCK_TEST_SPAWN_H
#define BROCK_TEST_SPAWN_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/env.h"

struct sp {
	pid_t pid;
	int port;
	char out[512]; /* the child's stdout file */
};

static inline void sp_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static inline double sp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Finds the port in "PORT 123" or "ACCEPT 127.0.0.1:123" lines of text. */
static inline int sp_parse_port(const char *text)
{
	const char *l = text;

	while (l && *l) {
		if (strncmp(l, "PORT ", 5) == 0 || strncmp(l, "ACCEPT ", 7) == 0) {
			const char *end = strchr(l, '\n'), *c;
			if (!end)
				return 0;
			for (c = end; c > l && c[-1] >= '0' && c[-1] <= '9'; c--)
				;
			return (int)strtol(c, NULL, 10);
		}
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	return 0;
}

/* Starts argv (stdout to dir/name.out, stderr to dir/name.err) and waits
 * up to 10 s for its port. Returns 0 or -1. */
static inline int sp_start(struct sp *s, const char *dir, const char *name,
			   char *const argv[])
{
	char errf[512];
	double until = sp_now() + 10;

	snprintf(s->out, sizeof s->out, "%s/%s.out", dir, name);
	snprintf(errf, sizeof errf, "%s/%s.err", dir, name);
	s->port = 0;
	unlink(s->out); /* an earlier run's port must not be read */
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		int o = open(s->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int er = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int in = open("/dev/null", O_RDONLY);
		/* a test killed by a timeout must not leave servers behind */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(in, 0);
		dup2(o, 1);
		dup2(er, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (sp_now() < until) {
		FILE *f = fopen(s->out, "r");
		char text[4096];
		size_t n = 0;
		if (f) {
			n = fread(text, 1, sizeof text - 1, f);
			fclose(f);
		}
		text[n] = 0;
		s->port = sp_parse_port(text);
		if (s->port > 0)
			return 0;
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
			s->pid = -1;
			return -1;
		}
		sp_sleep_ms(20);
	}
	return -1;
}

static inline void sp_stop(struct sp *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = -1;
}

/* A temporary directory; removed by sp_rmdir. */
static inline int sp_tmpdir(char *out, size_t n)
{
	const char *t = getenv("TMPDIR");

	snprintf(out, n, "%s/brock-test-XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(out) ? 0 : -1;
}

static inline void sp_rmdir(const char *dir)
{
	pid_t p = fork();

	if (p == 0) {
		execlp("rm", "rm", "-rf", dir, (char *)NULL);
		_exit(127);
	}
	if (p > 0)
		waitpid(p, NULL, 0);
}

static inline int sp_run(char *const argv[])
{
	int st = 0;
	pid_t p = fork();

	if (p == 0) {
		int dn = open("/dev/null", O_WRONLY);
		dup2(dn, 1);
		dup2(dn, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (p < 0 || waitpid(p, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A small environment built by the test (struct env from env.h). */
struct tenv {
	char *vars[16];
	char store[16][1024];
	size_t n;
	struct env env;
};

static inline void tenv_init(struct tenv *t)
{
	t->n = 0;
	t->vars[0] = NULL;
	t->env.vars = t->vars;
}

static inline void tenv_set(struct tenv *t, const char *name, const char *value)
{
	if (t->n + 1 >= sizeof t->vars / sizeof t->vars[0])
		return;
	snprintf(t->store[t->n], sizeof t->store[0], "%s=%s", name, value);
	t->vars[t->n] = t->store[t->n];
	t->n++;
	t->vars[t->n] = NULL;
	t->env.vars = t->vars;
}

#endif
