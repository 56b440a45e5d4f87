/* serve_load: the load generator of `make bench-serve`. Opens N concurrent
 * streaming chat completions against `brock serve` (one connection each,
 * all started at once), records when each text delta arrives, and prints
 * one line of results. With --pid it also reads brock's peak RSS (VmHWM)
 * and CPU time from /proc.
 *
 *   serve_load PORT N DELTAS CADENCE_MS [PID]
 *
 * Added latency of delta k (1-based) = arrival - request sent - k * cadence:
 * what brock (and the stub's timer) add beyond the upstream's own pacing.
 * The constant part (connection, request mapping, the first event) is in
 * every sample; p50 and p99 over all deltas of all streams. */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"

static const char pat[] = "\"content\":\"tok";

struct lc {
	int fd, st, k, done;
	size_t m; /* bytes of pat matched */
	size_t dm;
	int64_t t0;
};

static int cmp_i32(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

static long proc_field(int pid, const char *file, const char *key)
{
	char path[64], line[256];
	FILE *f;
	long v = -1;

	snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return v;
}

static double proc_cpu(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	int i;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof buf, f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')');
	for (i = 0; p && i < 12; i++)
		p = strchr(p + 1, ' ');
	if (p) { /* fields 14 and 15 */
		ut = strtoul(p + 1, &p, 10);
		st = strtoul(p, NULL, 10);
	}
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int lc_connect(struct lc *c, int port)
{
	struct sockaddr_in a;

	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0)
		return -1;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return connect(c->fd, (struct sockaddr *)&a, sizeof a);
}

static int lc_send(struct lc *c, int ep, const char *req, size_t reqlen)
{
	struct epoll_event ev;

	if (send(c->fd, req, reqlen, MSG_NOSIGNAL) != (ssize_t)reqlen)
		return -1;
	c->t0 = clock_ms() * 1000;
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

struct run {
	int ep, n, deltas, cadence, ok, failed, open_n;
	int *lat;
	size_t nlat;
	int64_t first_sum, first_n; /* the first delta alone: start-up cost */
};

/* One pass over ready connections (wait: epoll timeout ms). */
static void lc_pass(struct run *r, int wait)
{
	struct epoll_event ev[512];
	int k = epoll_wait(r->ep, ev, 512, wait), i;

	for (i = 0; i < k; i++) {
		struct lc *c = ev[i].data.ptr;
		char b[65536];
		ssize_t got = recv(c->fd, b, sizeof b, 0);
		int64_t now = clock_ms() * 1000;
		ssize_t j;

		if (got > 0) {
			for (j = 0; j < got; j++) {
				c->m = b[j] == pat[c->m] ? c->m + 1 : (b[j] == pat[0]);
				if (c->m == sizeof pat - 1) {
					c->k++;
					c->m = 0;
					if (c->k == 1) {
						r->first_sum += now - c->t0 - r->cadence * 1000;
						r->first_n++;
					}
					if (r->nlat < (size_t)r->n * (size_t)r->deltas)
						r->lat[r->nlat++] = (int)(now - c->t0 -
									  (int64_t)c->k * r->cadence * 1000);
				}
			}
			if (memmem(b, (size_t)got, "data: [DONE]", 12))
				c->done = 1;
			continue;
		}
		if (c->done == 1 && c->k == r->deltas)
			r->ok++;
		else
			r->failed++;
		epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		r->open_n--;
	}
}

int main(int argc, char **argv)
{
	static const char body[] = "{\"model\":\"amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0\","
				   "\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
	char req[1024];
	int port, n, deltas, cadence, pid = 0, i;
	size_t reqlen;
	struct lc *cs;
	struct run R;
	struct rlimit r;
	double cpu0 = 0, cpu1;
	int64_t t_start;

	if (argc < 5) {
		fprintf(stderr, "usage: serve_load PORT N DELTAS CADENCE_MS [PID]\n");
		return 2;
	}
	port = atoi(argv[1]);
	n = atoi(argv[2]);
	deltas = atoi(argv[3]);
	cadence = atoi(argv[4]);
	if (argc > 5)
		pid = atoi(argv[5]);
	if (getrlimit(RLIMIT_NOFILE, &r) == 0) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
	reqlen = (size_t)snprintf(req, sizeof req,
				  "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
				  "Content-Type: application/json\r\nConnection: close\r\n"
				  "Content-Length: %zu\r\n\r\n%s",
				  sizeof body - 1, body);
	cs = calloc((size_t)n, sizeof *cs);
	memset(&R, 0, sizeof R);
	R.n = n;
	R.deltas = deltas;
	R.cadence = cadence;
	R.lat = calloc((size_t)n * (size_t)deltas + 1, sizeof *R.lat);
	R.ep = epoll_create1(0);
	/* connect everything first, then send the requests in a tight loop
	 * (reading what arrives meanwhile), so that no arrival waits for the
	 * generator to finish opening connections */
	for (i = 0; i < n; i++)
		if (lc_connect(&cs[i], port) < 0) {
			if (cs[i].fd >= 0)
				close(cs[i].fd);
			cs[i].fd = -1;
			R.failed++;
		}
	if (pid)
		cpu0 = proc_cpu(pid);
	t_start = clock_ms();
	for (i = 0; i < n; i++) {
		if (cs[i].fd < 0)
			continue;
		if (lc_send(&cs[i], R.ep, req, reqlen) < 0) {
			close(cs[i].fd);
			R.failed++;
			continue;
		}
		R.open_n++;
		if (i % 64 == 63)
			lc_pass(&R, 0);
	}
	while (R.open_n > 0 && clock_ms() - t_start < 600000)
		lc_pass(&R, 1000);
	cpu1 = pid ? proc_cpu(pid) : 0;
	qsort(R.lat, R.nlat, sizeof *R.lat, cmp_i32);
	printf("streams=%d completed=%d failed=%d chunks=%zu wall_s=%.1f", n, R.ok, R.failed, R.nlat,
	       (double)(clock_ms() - t_start) / 1e3);
	if (R.nlat)
		printf(" added_ms_p50=%.2f added_ms_p99=%.2f", R.lat[R.nlat / 2] / 1e3,
		       R.lat[(size_t)((double)R.nlat * 0.99)] / 1e3);
	if (R.first_n)
		printf(" first_delta_added_ms_mean=%.2f", (double)R.first_sum / (double)R.first_n / 1e3);
	if (pid) {
		long hwm = proc_field(pid, "status", "VmHWM:");

		printf(" brock_peak_rss_mib=%.1f brock_cpu_s=%.2f cpu_ms_per_1000_chunks=%.1f",
		       (double)hwm / 1024.0, cpu1 - cpu0,
		       R.nlat ? (cpu1 - cpu0) * 1e6 / (double)R.nlat : 0.0);
		if (R.ok)
			printf(" kib_per_stream=%.1f", (double)hwm / (double)n);
	}
	printf("\n");
	free(cs);
	free(R.lat);
	return R.ok == n ? 0 : 1;
}
