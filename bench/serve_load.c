/* serve_load: the load generator of `make bench-serve` and
 * `make bench-serve-proto`. Opens N concurrent streaming completions
 * against `brock serve` (one connection each, all started at once),
 * records when each text delta arrives, and prints one line of results.
 * With PID it also reads brock's peak RSS (VmHWM) and CPU time from /proc.
 *
 *   serve_load [OPTIONS] PORT N DELTAS CADENCE_MS [PID]
 *     --proto openai     POST /v1/chat/completions, counts "content":"tok (default)
 *     --proto anthropic  POST /v1/messages stream:true, counts text_delta events
 *     --proto bedrock    POST /model/<id>/converse-stream (pass-through), counts
 *                        contentBlockDelta event-stream frames (lengths from the
 *                        prelude; CRCs are brock's business, not checked here)
 *     --direct           the same request as bedrock, sent to the stub itself
 *                        (PORT is the stub's): the baseline without brock
 *     --model ID         the Bedrock model (default: a Claude model for openai,
 *                        amazon.nova-pro-v1:0 for anthropic and bedrock)
 *     --short SECONDS    instead of streams: N keep-alive clients, each sending
 *                        one non-stream request after another for SECONDS;
 *                        requests/s and latency p50/p99 (DELTAS, CADENCE ignored)
 *
 * Added latency of delta k (1-based) = arrival - request sent - k * cadence:
 * what brock (and the stub's timer) add beyond the upstream's own pacing.
 * The constant part (connection, request mapping, the first event) is in
 * every sample; p50 and p99 over all deltas of all streams. Responses are
 * read with brock's own HTTP/1.1 parser (chunked or not). */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wire/http.h"

enum proto { P_OPENAI, P_ANTHROPIC, P_BEDROCK };

/* One event-stream frame being skipped over: prelude and headers kept. */
struct frame {
	uint8_t h[512];
	size_t have;
	uint32_t total, need;
	uint64_t skip;
};

struct lc {
	int fd, k, status, done, bad;
	size_t m; /* bytes of the SSE pattern matched */
	struct frame fr;
	struct http_parser p;
	int64_t t0; /* request sent, us */
};

struct run {
	int ep, n, deltas, cadence, ok, failed, open_n, proto, shortmode;
	const char *pat; /* SSE marker of one delta */
	int *lat;        /* us */
	size_t nlat, cap;
	int64_t first_sum, first_n; /* the first delta alone: start-up cost */
	int64_t t_end;              /* short mode: no new request after this (us) */
	const char *req;
	size_t reqlen;
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

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

static void lat_add(struct run *r, int64_t v)
{
	if (r->nlat == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 65536;
		int *p = realloc(r->lat, cap * sizeof *p);

		if (!p)
			return;
		r->lat = p;
		r->cap = cap;
	}
	r->lat[r->nlat++] = (int)v;
}

/* A delta arrived on c at now. */
static void on_delta(struct run *r, struct lc *c, int64_t now)
{
	c->k++;
	if (c->k == 1) {
		r->first_sum += now - c->t0 - (int64_t)r->cadence * 1000;
		r->first_n++;
	}
	lat_add(r, now - c->t0 - (int64_t)c->k * r->cadence * 1000);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Event-stream frames: total length and headers length from the 12-byte
 * prelude; a frame whose headers name contentBlockDelta is one delta. */
static int scan_frames(struct run *r, struct lc *c, const uint8_t *b, size_t n, int64_t now)
{
	struct frame *f = &c->fr;

	while (n > 0) {
		size_t t;

		if (f->skip) {
			t = f->skip < n ? (size_t)f->skip : n;
			f->skip -= t, b += t, n -= t;
			continue;
		}
		if (f->have < 12)
			f->need = 12;
		t = f->need - f->have < n ? f->need - f->have : n;
		memcpy(f->h + f->have, b, t);
		f->have += t, b += t, n -= t;
		if (f->have < f->need)
			return 0;
		if (f->need == 12) {
			f->total = be32(f->h);
			f->need = 12 + be32(f->h + 4);
			if (f->total < 16 || f->need > f->total || f->need > sizeof f->h)
				return -1;
			if (f->need > 12)
				continue;
		}
		if (memmem(f->h + 12, f->need - 12, "contentBlockDelta", 17))
			on_delta(r, c, now);
		f->skip = f->total - f->have;
		f->have = 0;
	}
	return 0;
}

static void scan_sse(struct run *r, struct lc *c, const uint8_t *b, size_t n, int64_t now)
{
	size_t j, pl = strlen(r->pat);

	for (j = 0; j < n; j++) {
		c->m = b[j] == (uint8_t)r->pat[c->m] ? c->m + 1 : (b[j] == (uint8_t)r->pat[0]);
		if (c->m == pl) {
			c->m = 0;
			on_delta(r, c, now);
		}
	}
}

static int lc_send(struct run *r, struct lc *c)
{
	c->t0 = now_us();
	return send(c->fd, r->req, r->reqlen, MSG_NOSIGNAL) == (ssize_t)r->reqlen ? 0 : -1;
}

static void lc_close(struct run *r, struct lc *c, int ok)
{
	if (r->shortmode ? now_us() < r->t_end : !ok)
		r->failed++; /* short mode: a keep-alive connection lost early */
	else if (!r->shortmode)
		r->ok++;
	epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	http_parser_free(&c->p);
	r->open_n--;
}

/* A whole response on c. Returns -1 when c is to be closed. */
static int on_done(struct run *r, struct lc *c, int64_t now)
{
	if (!r->shortmode) {
		c->done = c->status == 200 && c->k == r->deltas;
		return -1;
	}
	if (c->status == 200) {
		r->ok++;
		lat_add(r, now - c->t0);
	} else {
		r->failed++;
	}
	http_parser_reset(&c->p);
	c->status = 0;
	if (now >= r->t_end || lc_send(r, c) < 0)
		return -1;
	return 0;
}

/* Feeds n received bytes (n == 0: EOF). Returns -1 when c is to be closed. */
static int lc_feed(struct run *r, struct lc *c, const uint8_t *b, size_t n, int64_t now)
{
	size_t off = 0, used;
	struct slice body;
	struct err e;

	for (;;) {
		int ev = n ? http_parse(&c->p, b + off, n - off, &used, &body, &e)
			   : http_parse_eof(&c->p, &e);

		if (n)
			off += used;
		if (ev < 0)
			return c->bad = 1, -1;
		if (ev == HTTP_EV_HEAD)
			c->status = c->p.status;
		else if (ev == HTTP_EV_BODY && !r->shortmode && c->status == 200) {
			if (r->proto == P_BEDROCK) {
				if (scan_frames(r, c, body.p, body.n, now) < 0)
					return c->bad = 1, -1;
			} else {
				scan_sse(r, c, body.p, body.n, now);
			}
		} else if (ev == HTTP_EV_DONE) {
			if (on_done(r, c, now) < 0)
				return -1;
			if (!n || off == n)
				return 0;
		} else if (ev == HTTP_EV_NEED) {
			return n ? 0 : -1;
		}
	}
}

/* One pass over ready connections (wait: epoll timeout ms). */
static void lc_pass(struct run *r, int wait)
{
	struct epoll_event ev[512];
	static uint8_t b[65536];
	int k = epoll_wait(r->ep, ev, 512, wait), i;

	for (i = 0; i < k; i++) {
		struct lc *c = ev[i].data.ptr;
		ssize_t got = recv(c->fd, b, sizeof b, 0);

		if (got < 0 && errno == EAGAIN)
			continue;
		if (lc_feed(r, c, b, got > 0 ? (size_t)got : 0, now_us()) < 0 || got <= 0)
			lc_close(r, c, c->done && !c->bad);
	}
}

static int lc_open(struct run *r, struct lc *c, int port)
{
	struct sockaddr_in a;
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0)
		return -1;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	if (r->shortmode)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	http_parser_init(&c->p, HTTP_RESPONSE);
	return 0;
}

/* The request of proto into req (stream or not; keep-alive in short mode). */
static size_t make_req(char *req, size_t cap, int proto, const char *model, int stream, int keep)
{
	char body[512], target[256], extra[128] = "";
	const char *conn = keep ? "" : "Connection: close\r\n";

	if (proto == P_OPENAI) {
		snprintf(target, sizeof target, "/v1/chat/completions");
		snprintf(body, sizeof body,
			 "{\"model\":\"amazon-bedrock/%s\",\"stream\":%s,"
			 "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
			 model, stream ? "true" : "false");
	} else if (proto == P_ANTHROPIC) {
		snprintf(target, sizeof target, "/v1/messages");
		snprintf(extra, sizeof extra, "anthropic-version: 2023-06-01\r\n");
		snprintf(body, sizeof body,
			 "{\"model\":\"%s\",\"max_tokens\":200,\"stream\":%s,"
			 "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
			 model, stream ? "true" : "false");
	} else {
		const char *colon = strchr(model, ':');
		int pre = colon ? (int)(colon - model) : (int)strlen(model);

		snprintf(target, sizeof target, "/model/%.*s%s%s/converse%s", pre, model,
			 colon ? "%3A" : "", colon ? colon + 1 : "", stream ? "-stream" : "");
		snprintf(body, sizeof body,
			 "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"hi\"}]}]}");
	}
	return (size_t)snprintf(req, cap,
				"POST %s HTTP/1.1\r\nHost: localhost\r\n"
				"Content-Type: application/json\r\n%s%sContent-Length: %zu\r\n\r\n%s",
				target, extra, conn, strlen(body), body);
}

/* Connect everything first, then send the requests in a tight loop
 * (reading what arrives meanwhile), so that no arrival waits for the
 * generator to finish opening connections. */
static void run_all(struct run *r, struct lc *cs, int port, double secs)
{
	int64_t t_start;
	int i;

	for (i = 0; i < r->n; i++)
		if (lc_open(r, &cs[i], port) < 0)
			r->failed++;
	t_start = now_us();
	r->t_end = t_start + (int64_t)(secs * 1e6);
	for (i = 0; i < r->n; i++) {
		struct epoll_event ev;

		if (cs[i].fd < 0)
			continue;
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN;
		ev.data.ptr = &cs[i];
		if (lc_send(r, &cs[i]) < 0 || epoll_ctl(r->ep, EPOLL_CTL_ADD, cs[i].fd, &ev) < 0) {
			close(cs[i].fd);
			http_parser_free(&cs[i].p);
			cs[i].fd = -1;
			r->failed++;
			continue;
		}
		r->open_n++;
		if (i % 64 == 63)
			lc_pass(r, 0);
	}
	while (r->open_n > 0 && now_us() - t_start < 600 * 1000000LL)
		lc_pass(r, 1000);
}

static void report(const struct run *r, int pid, double cpu, double wall)
{
	const char *tag = r->shortmode ? "latency" : "added";

	if (r->shortmode)
		printf("clients=%d requests_ok=%d failed=%d wall_s=%.2f req_per_s=%.0f", r->n, r->ok,
		       r->failed, wall, (double)r->ok / wall);
	else
		printf("streams=%d completed=%d failed=%d chunks=%zu wall_s=%.1f", r->n, r->ok,
		       r->failed, r->nlat, wall);
	if (r->nlat)
		printf(" %s_ms_p50=%.3f %s_ms_p99=%.3f", tag, r->lat[r->nlat / 2] / 1e3, tag,
		       r->lat[(size_t)((double)r->nlat * 0.99)] / 1e3);
	if (r->first_n)
		printf(" first_delta_added_ms_mean=%.2f", (double)r->first_sum / (double)r->first_n / 1e3);
	if (pid) {
		long hwm = proc_field(pid, "status", "VmHWM:");

		printf(" brock_peak_rss_mib=%.1f brock_cpu_s=%.2f", (double)hwm / 1024.0, cpu);
		if (r->shortmode)
			printf(" cpu_us_per_request=%.0f", r->ok ? cpu * 1e6 / r->ok : 0.0);
		else
			printf(" cpu_ms_per_1000_chunks=%.1f kib_per_stream=%.1f",
			       r->nlat ? cpu * 1e6 / (double)r->nlat : 0.0, (double)hwm / r->n);
	}
	printf("\n");
}

static int usage(void)
{
	fprintf(stderr, "usage: serve_load [--proto openai|anthropic|bedrock] [--direct] "
			"[--model ID] [--short SECONDS] PORT N DELTAS CADENCE_MS [PID]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static char req[2048];
	const char *model = NULL;
	int pid = 0, port, i = 1;
	double secs = 0, cpu0 = 0, cpu1 = 0;
	int64_t t0;
	struct lc *cs;
	struct run R;
	struct rlimit rl;

	memset(&R, 0, sizeof R);
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--direct") == 0)
			R.proto = P_BEDROCK;
		else if (i + 1 >= argc)
			return usage();
		else if (strcmp(argv[i], "--proto") == 0) {
			const char *p = argv[++i];

			R.proto = !strcmp(p, "anthropic") ? P_ANTHROPIC
				  : !strcmp(p, "bedrock") ? P_BEDROCK
				  : !strcmp(p, "openai")  ? P_OPENAI
							  : -1;
			if (R.proto < 0)
				return usage();
		} else if (strcmp(argv[i], "--model") == 0)
			model = argv[++i];
		else if (strcmp(argv[i], "--short") == 0)
			secs = atof(argv[++i]);
		else
			return usage();
	}
	if (argc - i < 4)
		return usage();
	port = atoi(argv[i]);
	R.n = atoi(argv[i + 1]);
	R.deltas = atoi(argv[i + 2]);
	R.cadence = atoi(argv[i + 3]);
	if (argc - i > 4)
		pid = atoi(argv[i + 4]);
	R.shortmode = secs > 0;
	R.pat = R.proto == P_OPENAI ? "\"content\":\"tok" : "\"text_delta\"";
	if (!model)
		model = R.proto == P_OPENAI ? "anthropic.claude-3-haiku-20240307-v1:0"
					    : "amazon.nova-pro-v1:0";
	if (R.n <= 0)
		return usage();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	R.req = req;
	R.reqlen = make_req(req, sizeof req, R.proto, model, !R.shortmode, R.shortmode);
	cs = calloc((size_t)R.n, sizeof *cs);
	R.ep = epoll_create1(0);
	if (!cs || R.ep < 0)
		return 1;
	if (pid)
		cpu0 = proc_cpu(pid);
	t0 = now_us();
	run_all(&R, cs, port, secs);
	if (pid)
		cpu1 = proc_cpu(pid);
	qsort(R.lat, R.nlat, sizeof *R.lat, cmp_i32);
	report(&R, pid, cpu1 - cpu0, (double)(now_us() - t0) / 1e6);
	free(cs);
	free(R.lat);
	return R.shortmode ? R.failed != 0 : R.ok != R.n;
}
