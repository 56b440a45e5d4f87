/* rusage FD COMMAND [ARG...]: runs COMMAND as a child of this small process
 * and writes "user_us sys_us maxrss_kib exit" to descriptor FD once it ends
 * (bench/peers.py). Why not wait4 from Python: a child forked or vforked by
 * Python starts with Python's resident set (tens of MiB), and Linux keeps
 * the larger of that and the program's own peak in ru_maxrss across exec. A
 * child forked here starts with this program's few pages. SIGTERM and SIGINT
 * are passed on to the child. Exits with the child's status. */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child;

static void pass_on(int sig)
{
	if (child > 0)
		kill(child, sig);
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = pass_on};
	struct rusage ru;
	int status, fd;

	if (argc < 3)
		return 2;
	fd = (int)strtol(argv[1], NULL, 10);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	child = fork();
	if (child < 0)
		return 2;
	if (child == 0) {
		close(fd);
		execv(argv[2], argv + 2);
		_exit(127);
	}
	while (wait4(child, &status, 0, &ru) < 0)
		;
	dprintf(fd, "%ld %ld %ld %d\n", (long)ru.ru_utime.tv_sec * 1000000 + (long)ru.ru_utime.tv_usec,
		(long)ru.ru_stime.tv_sec * 1000000 + (long)ru.ru_stime.tv_usec, ru.ru_maxrss,
		WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
