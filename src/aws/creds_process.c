/* creds_process: credential_process, a helper run with /bin/sh whose stdout
 * is a JSON credentials document. It runs under a deadline, with a clean
 * environment of descriptors and signals, and is killed (with what it
 * started) when the deadline passes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aws/creds_int.h"
#include "base/clock.h"

#define CREDS_PROCESS_OUT_MAX (64u << 10)

/* Reads the child's stdout until EOF, the size limit or the deadline
 * (clock_ms). 0 at EOF, 1 on timeout, -1 on error. */
static int drain(int fd, struct buf *out, int64_t deadline, struct err *e)
{
	uint8_t tmp[4096];
	int rc = 0;

	for (;;) {
		int64_t left = deadline - clock_ms();
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
			rc = err_set(e, ERR_CREDS,
				     "credential_process: output larger than %u bytes",
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
static int reap_until(pid_t pid, int64_t deadline, int *st)
{
	int nap = 1;

	for (;;) {
		pid_t w = waitpid(pid, st, WNOHANG);

		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -1;
		if (clock_ms() >= deadline)
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
static void child_setup(int out_fd, int maxfd, const sigset_t *none, const struct sigaction *dfl)
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

/* Starts cmd with /bin/sh -c (stdin /dev/null, stdout the pipe whose read
 * end goes to *rd, stderr passed through, the environment the chain sees).
 * *own_group: the child leads its own process group. */
static int spawn(const struct creds_chain *c, const char *cmd, pid_t *pid, int *rd, int *own_group,
		 struct err *e)
{
	char *const argv[] = {"sh", "-c", (char *)cmd, NULL};
	char **envp;
	int fds[2], tty, maxfd = fd_limit();
	struct sigaction dfl;
	sigset_t none;

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
	*own_group = tty < 0;
	*pid = fork();
	if (*pid < 0) {
		close(fds[0]);
		close(fds[1]);
		free(envp);
		return err_set(e, ERR_CREDS, "credential_process: fork: %s", strerror(errno));
	}
	if (*pid == 0) {
		if (tty < 0)
			setpgid(0, 0);
		child_setup(fds[1], maxfd, &none, &dfl);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	if (tty < 0)
		setpgid(*pid, *pid); /* also here: a kill may come before the child ran */
	free(envp);
	close(fds[1]);
	*rd = fds[0];
	return 0;
}

/* The helper's wait status as an error (0 for a clean exit 0). */
static int exit_status(int st, struct err *e)
{
	if (WIFSIGNALED(st))
		return err_set(e, ERR_CREDS, "credential_process: killed by signal %d",
			       WTERMSIG(st));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return err_set(e, ERR_CREDS, "credential_process: exited with status %d",
			       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}

/* Runs cmd; its stdout goes to out. The timeout covers the whole run, exit
 * included. */
static int run_process(const struct creds_chain *c, const char *cmd, struct buf *out, struct err *e)
{
	int64_t deadline = clock_ms() + c->process_timeout_ms;
	int rd = -1, st = 0, dr, own_group = 0;
	pid_t pid = 0;

	if (spawn(c, cmd, &pid, &rd, &own_group, e) != 0)
		return -1;
	dr = drain(rd, out, deadline, e);
	close(rd);
	if (dr == 0) {
		int w = reap_until(pid, deadline, &st);

		if (w < 0)
			return err_set(e, ERR_CREDS, "credential_process: waitpid: %s",
				       strerror(errno));
		dr = w;
	}
	if (dr != 0) {
		if (own_group)
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
	return exit_status(st, e);
}

int creds_process(const struct creds_chain *c, const char *name, const char *cmd,
		  struct aws_creds *out, struct err *e)
{
	struct buf b;
	int r;

	buf_init(&b, CREDS_PROCESS_OUT_MAX);
	r = run_process(c, cmd, &b, e);
	if (r == 0)
		r = creds_json_creds("credential_process", &b, &creds_keys_process, 1, out, e);
	buf_free(&b);
	if (r != 0)
		return err_wrap(e, "profile %s", name);
	snprintf(out->source, sizeof out->source, "process:%s", name);
	return 0;
}
