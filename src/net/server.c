/* server: the listener, the loops, the caps (see server.h). The
 * connection state machine is server_conn.c, answers server_out.c. */
#define _GNU_SOURCE /* accept4 on glibc (the sanitizer builds) */
#include "net/server_impl.h"
#include "base/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define SERVER_IPT_BUCKETS 4096
#define SERVER_BACKLOG 4096
#define SERVER_ACCEPT_BATCH 64

struct server_ipn {
	struct server_ipn *next;
	uint8_t ip[16];
	int n;
};

struct server_ipt {
	struct server_ipn *b[SERVER_IPT_BUCKETS];
};

/* ------------------------------------------------------------------------ */
/* Addresses */

int server_parse_listen(const char *s, char *host, size_t hostn, unsigned *port, struct err *e)
{
	const char *colon, *h = s;
	size_t hn;
	unsigned long v = 0;
	const char *q;

	if (!s || !s[0])
		return err_set(e, ERR_USAGE, "listen address is empty (expected ADDR:PORT)");
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return err_set(e, ERR_USAGE,
				       "listen address '%.200s': expected [IPv6]:PORT", s);
		h = s + 1;
		hn = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return err_set(e, ERR_USAGE, "listen address '%.200s': expected ADDR:PORT", s);
		hn = (size_t)(colon - s);
		if (memchr(s, ':', hn))
			return err_set(e, ERR_USAGE,
				       "listen address '%.200s': write IPv6 addresses as [ADDR]:PORT", s);
	}
	if (hn == 0)
		return err_set(e, ERR_USAGE, "listen address '%.200s' has no host (use 0.0.0.0 for "
			       "every interface)", s);
	if (hn >= hostn)
		return err_set(e, ERR_USAGE, "listen address '%.200s': host too long", s);
	for (q = h; q < h + hn; q++)
		if ((unsigned char)*q <= 0x20 || *q == 0x7f || *q == '[' || *q == ']' || *q == '/')
			return err_set(e, ERR_USAGE, "listen address '%.200s': bad host", s);
	q = colon + 1;
	if (!*q)
		return err_set(e, ERR_USAGE, "listen address '%.200s' has no port", s);
	for (; *q; q++) {
		if (*q < '0' || *q > '9' || v > 65535)
			return err_set(e, ERR_USAGE, "listen address '%.200s': bad port", s);
		v = v * 10 + (unsigned long)(*q - '0');
	}
	if (v > 65535 || q - colon - 1 > 5)
		return err_set(e, ERR_USAGE, "listen address '%.200s': port out of range", s);
	memcpy(host, h, hn);
	host[hn] = '\0';
	*port = (unsigned)v;
	return 0;
}

static int server_addr_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;

		return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;
		const uint8_t *b = a->sin6_addr.s6_addr;
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
			return 1;
		return memcmp(b, mapped, 12) == 0 && b[12] == 127;
	}
	return 0;
}

static int server_resolve(const char *listen, struct addrinfo **res, struct err *e)
{
	char host[SERVER_HOST_MAX], port[8];
	struct addrinfo hints;
	unsigned pn;
	int r;

	if (server_parse_listen(listen, host, sizeof host, &pn, e) < 0)
		return -1;
	snprintf(port, sizeof port, "%u", pn);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	r = getaddrinfo(host, port, &hints, res);
	if (r != 0)
		return err_set(e, ERR_USAGE, "listen address '%.200s': %s", listen,
			       r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
	return 0;
}

int server_listen_is_loopback(const char *s, struct err *e)
{
	struct addrinfo *res, *a;
	int lo = 1;

	if (server_resolve(s, &res, e) < 0)
		return -1;
	/* a name is loopback only when everything it names is */
	for (a = res; a; a = a->ai_next)
		if (!server_addr_loopback(a->ai_addr))
			lo = 0;
	freeaddrinfo(res);
	return lo;
}

static void server_make_url(struct server *s, const struct sockaddr *sa, socklen_t n)
{
	char host[INET6_ADDRSTRLEN];
	const void *ip;
	unsigned port;

	/* inet_ntop, not getnameinfo: numeric text needs none of the resolver */
	if (sa->sa_family == AF_INET6 && n >= (socklen_t)sizeof(struct sockaddr_in6)) {
		ip = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		port = ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	} else if (sa->sa_family == AF_INET && n >= (socklen_t)sizeof(struct sockaddr_in)) {
		ip = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		port = ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
	} else {
		ip = NULL;
		port = 0;
	}
	if (!ip || !inet_ntop(sa->sa_family, ip, host, sizeof host)) {
		snprintf(s->url, sizeof s->url, "http://?");
		return;
	}
	snprintf(s->url, sizeof s->url, sa->sa_family == AF_INET6 ? "http://[%s]:%u" : "http://%s:%u",
		 host, port);
}

int server_addr_text_loopback(const char *a)
{
	uint8_t ip[16];
	static const uint8_t lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

	if (server_ip_parse(a, ip) < 0)
		return 0;
	if (memcmp(ip, lo6, 16) == 0)
		return 1;
	return ip[10] == 0xff && ip[11] == 0xff && memcmp(ip, lo6, 10) == 0 && ip[12] == 127;
}

/* ------------------------------------------------------------------------ */
/* Client addresses: 16 bytes, IPv4 as ::ffff:a.b.c.d */

int server_ip_parse(const char *txt, uint8_t ip[16])
{
	struct in_addr a4;

	memset(ip, 0, 16);
	if (inet_pton(AF_INET, txt, &a4) == 1) {
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &a4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, txt, ip) == 1)
		return 0;
	return -1;
}

static void server_ip_of(const struct sockaddr_storage *ss, uint8_t ip[16], char *txt, size_t n)
{
	memset(ip, 0, 16);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)ss;

		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &a->sin_addr, 4);
		inet_ntop(AF_INET, &a->sin_addr, txt, (socklen_t)n);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)ss;

		memcpy(ip, &a->sin6_addr, 16);
		inet_ntop(AF_INET6, &a->sin6_addr, txt, (socklen_t)n);
	} else {
		snprintf(txt, n, "?");
	}
}

static size_t server_ip_hash(const uint8_t ip[16])
{
	uint32_t h = 2166136261u;
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ ip[i]) * 16777619u;
	return h % SERVER_IPT_BUCKETS;
}

/* Counts one more connection from ip; -1 (nothing counted) at max. */
int server_ipt_add(struct server *s, const uint8_t ip[16], int max)
{
	struct server_ipn **b, *n;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	b = &s->ipt->b[server_ip_hash(ip)];
	for (n = *b; n; n = n->next)
		if (memcmp(n->ip, ip, 16) == 0)
			break;
	if (!n) {
		n = calloc(1, sizeof *n);
		if (n) {
			memcpy(n->ip, ip, 16);
			n->next = *b;
			*b = n;
		}
	}
	if (!n || n->n >= max)
		rc = -1;
	else
		n->n++;
	if (n && n->n == 0) {
		*b = n->next;
		free(n);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void server_ipt_del(struct server *s, const uint8_t ip[16])
{
	struct server_ipn **b, *n;

	pthread_mutex_lock(&s->mu);
	for (b = &s->ipt->b[server_ip_hash(ip)]; (n = *b); b = &n->next) {
		if (memcmp(n->ip, ip, 16) != 0)
			continue;
		if (--n->n <= 0) {
			*b = n->next;
			free(n);
		}
		break;
	}
	pthread_mutex_unlock(&s->mu);
}

int server_is_proxy(struct server *s, const uint8_t ip[16])
{
	size_t i;
	int r = 0;

	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->o.nproxies && !r; i++) {
		uint8_t p[16];

		r = server_ip_parse(s->o.proxies[i], p) == 0 && memcmp(p, ip, 16) == 0;
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* One int limit of s->o, read under the lock (SIGHUP changes them). */
int server_opt(struct server *s, const int *field)
{
	int v;

	pthread_mutex_lock(&s->mu);
	v = *field;
	pthread_mutex_unlock(&s->mu);
	return v;
}

static void server_defaults(struct server_opts *o)
{
	if (o->max_conns <= 0)
		o->max_conns = SERVER_MAX_CONNS;
	if (o->max_conns_per_ip <= 0)
		o->max_conns_per_ip = SERVER_MAX_PER_IP;
	if (o->max_body == 0)
		o->max_body = SERVER_MAX_BODY;
	if (o->body_budget == 0)
		o->body_budget = SERVER_BODY_BUDGET;
	if (o->out_max == 0)
		o->out_max = SERVER_OUT_MAX;
	if (o->head_ms <= 0)
		o->head_ms = SERVER_HEAD_MS;
	if (o->request_ms <= 0)
		o->request_ms = SERVER_REQUEST_MS;
	if (o->idle_ms <= 0)
		o->idle_ms = SERVER_IDLE_MS;
	if (o->write_ms <= 0)
		o->write_ms = SERVER_WRITE_MS;
	if (o->drain_ms <= 0)
		o->drain_ms = SERVER_DRAIN_MS;
	if (o->max_threads <= 0)
		o->max_threads = SERVER_MAX_THREADS;
	if (o->loops <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		o->loops = n > 0 ? (int)n : 1;
	}
	if (o->loops > SERVER_MAX_LOOPS)
		o->loops = SERVER_MAX_LOOPS;
	if (o->nproxies > SERVER_MAX_PROXIES)
		o->nproxies = SERVER_MAX_PROXIES;
}

void server_set_limits(struct server *s, const struct server_opts *o)
{
	struct server_opts n = *o;

	server_defaults(&n);
	pthread_mutex_lock(&s->mu);
	/* what loops read under the lock (server_opt); sizes stay as started */
	s->o.max_conns = n.max_conns;
	s->o.max_conns_per_ip = n.max_conns_per_ip;
	s->o.head_ms = n.head_ms;
	s->o.request_ms = n.request_ms;
	s->o.idle_ms = n.idle_ms;
	s->o.write_ms = n.write_ms;
	s->o.drain_ms = n.drain_ms;
	memcpy(s->o.proxies, n.proxies, sizeof s->o.proxies);
	s->o.nproxies = n.nproxies;
	pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------------ */
/* Opening */

/* Serve mode holds a descriptor per client and per upstream connection. */
static void server_raise_nofile(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		prlimit(0, RLIMIT_NOFILE, &r, NULL); /* not setrlimit: see ctx_no_core_dumps */
	}
}

static int server_bind(struct server *s, const char *addr, struct err *e)
{
	struct addrinfo *res;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int one = 1, fd;

	if (server_resolve(addr, &res, e) < 0)
		return -1;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		freeaddrinfo(res);
		return err_set(e, ERR_OTHER, "socket: %s", strerror(errno));
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, SERVER_BACKLOG) < 0) {
		int er = errno;

		close(fd);
		freeaddrinfo(res);
		return err_set(e, er == EADDRINUSE || er == EACCES || er == EADDRNOTAVAIL ? ERR_USAGE
											 : ERR_OTHER,
			       "cannot listen on %.200s: %s", addr, strerror(er));
	}
	s->family = res->ai_family;
	freeaddrinfo(res);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		close(fd);
		return err_set(e, ERR_OTHER, "getsockname: %s", strerror(errno));
	}
	s->loopback = server_addr_loopback((const struct sockaddr *)&ss);
	server_make_url(s, (const struct sockaddr *)&ss, sl);
	s->fd = fd;
	return 0;
}

int server_open(struct server *s, const char *addr, const struct server_opts *o, struct err *e)
{
	memset(s, 0, sizeof *s);
	s->fd = -1;
	if (o)
		s->o = *o;
	server_defaults(&s->o);
	server_raise_nofile();
	if (server_bind(s, addr, e) < 0)
		return -1;
	s->ipt = calloc(1, sizeof *s->ipt);
	if (!s->ipt) {
		close(s->fd);
		s->fd = -1;
		return err_set(e, ERR_OTHER, "out of memory");
	}
	pthread_mutex_init(&s->mu, NULL);
	loop_pool_init(&s->pool, s->o.max_threads);
	s->inited = 1;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Accepting */

static int server_is_stopping(const struct server *s)
{
	return s->stop && atomic_load_explicit(s->stop, memory_order_relaxed);
}

/* Over a cap: a 503 the accept loop never waits for. */
void server_write_busy(int fd)
{
	static const char body[] = "{\"error\":{\"message\":\"too many connections; try again "
				   "later\",\"type\":\"server_error\",\"param\":null,\"code\":null}}";
	char msg[512];
	uint8_t b[4096];
	int n = snprintf(msg, sizeof msg,
			 "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
			 "Connection: close\r\nRetry-After: 1\r\nContent-Length: %zu\r\n\r\n%s",
			 sizeof body - 1, body);
	int k = 0;

	/* what the client already sent is dropped first, so that the close is
	 * a FIN, not a reset that could destroy the answer */
	while (k++ < 16 && recv(fd, b, sizeof b, MSG_DONTWAIT) > 0)
		;
	if (send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* a full socket buffer just loses the answer */
	}
	shutdown(fd, SHUT_WR);
	close(fd);
}

static void server_busy(struct server *s, int fd)
{
	atomic_fetch_add(&s->rejected, 1);
	server_write_busy(fd);
	if (s->done)
		s->done(s->user, NULL, NULL, 503);
}

/* 0 when a connection from ip may open (and is counted), -1 when over a cap. */
static int server_admit(struct server_loop *sl, const uint8_t ip[16], int *counted)
{
	struct server *s = sl->s;
	long max = server_opt(s, &s->o.max_conns);

	*counted = 0;
	if (atomic_fetch_add(&s->conns, 1) >= max) {
		/* at the cap: an idle kept-alive connection of this loop makes room */
		if (!server_conn_reap_idle(sl)) {
			atomic_fetch_sub(&s->conns, 1);
			return -1;
		}
	}
	if (server_is_proxy(s, ip))
		return 0; /* counted by X-Forwarded-For once its request arrives */
	if (server_ipt_add(s, ip, server_opt(s, &s->o.max_conns_per_ip)) < 0) {
		atomic_fetch_sub(&s->conns, 1);
		return -1;
	}
	*counted = 1;
	return 0;
}

static void server_on_listen(struct loop *l, struct loop_io *w, uint32_t events)
{
	struct server_loop *sl = w->user;
	struct server *s = sl->s;
	int i;

	(void)l;
	(void)events;
	for (i = 0; i < SERVER_ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t sl_len = sizeof ss;
		char txt[SERVER_CLIENT_MAX];
		uint8_t ip[16];
		int fd, one = 1, counted;

		fd = accept4(s->fd, (struct sockaddr *)&ss, &sl_len, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return; /* EAGAIN, or EMFILE: the next readiness tries again */
		server_ip_of(&ss, ip, txt, sizeof txt);
		if (server_admit(sl, ip, &counted) < 0) {
			server_busy(s, fd);
			continue;
		}
		atomic_fetch_add(&s->accepted, 1);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		server_conn_accepted(sl, fd, ip, txt, counted);
	}
}

/* ------------------------------------------------------------------------ */
/* Running */

static void server_tick(struct loop *l, void *user)
{
	struct server_loop *sl = user;
	struct server *s = sl->s;

	if (server_is_stopping(s) && !atomic_exchange(&s->draining, 1))
		atomic_store(&s->drain_until, l->now + server_opt(s, &s->o.drain_ms));
	if (atomic_load(&s->draining) && !sl->drained) {
		sl->drained = 1;
		server_conn_drain(sl);
	}
	if (sl == &s->loops[0] && atomic_load(&s->draining) &&
	    (atomic_load(&s->busy) == 0 || l->now >= atomic_load(&s->drain_until)))
		atomic_store(&s->quit, 1);
	if (sl == &s->loops[0] && s->tick)
		s->tick(s->user);
	if (atomic_load(&s->quit))
		loop_stop(l);
}

int server_submit(struct server *s, struct loop_job *j)
{
	return loop_pool_submit(&s->pool, j);
}

static void server_after(struct loop *l, void *user)
{
	(void)l;
	server_conn_free_dead(user);
}

static void *server_loop_main(void *arg)
{
	struct server_loop *sl = arg;

	loop_run(&sl->l);
	return NULL;
}

static int server_loops_init(struct server *s, struct err *e)
{
	int i;

	s->loops = calloc((size_t)s->o.loops, sizeof *s->loops);
	if (!s->loops)
		return err_set(e, ERR_OTHER, "out of memory");
	for (i = 0; i < s->o.loops; i++) {
		struct server_loop *sl = &s->loops[i];

		if (loop_init(&sl->l, e) < 0)
			return -1;
		s->nloops++;
		sl->s = s;
		sl->l.id = i;
		sl->l.tick = server_tick;
		sl->l.after = server_after;
		sl->l.tick_user = sl;
		sl->lis.fn = server_on_listen;
		sl->lis.user = sl;
		if (loop_io_add(&sl->l, &sl->lis, s->fd, EPOLLIN | EPOLLEXCLUSIVE) < 0)
			return err_set(e, ERR_OTHER, "epoll_ctl: %s", strerror(errno));
	}
	return 0;
}

int server_run(struct server *s, struct err *e)
{
	int i, rc = 0;

	if (server_loops_init(s, e) < 0)
		rc = -1;
	for (i = 1; rc == 0 && i < s->nloops; i++) {
		struct server_loop *sl = &s->loops[i];
		pthread_attr_t at;

		pthread_attr_init(&at);
		pthread_attr_setstacksize(&at, LOOP_STACK);
		if (pthread_create(&sl->t, &at, server_loop_main, sl) == 0)
			sl->started = 1;
		else
			rc = err_set(e, ERR_OTHER, "cannot start an event loop thread");
		pthread_attr_destroy(&at);
	}
	if (rc == 0)
		loop_run(&s->loops[0].l);
	atomic_store(&s->quit, 1);
	for (i = 1; i < s->nloops; i++)
		if (s->loops[i].started)
			pthread_join(s->loops[i].t, NULL);
	/* the listener goes first: nothing new arrives while the rest closes */
	for (i = 0; i < s->nloops; i++)
		loop_io_del(&s->loops[i].l, &s->loops[i].lis);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	for (i = 0; i < s->nloops; i++) {
		struct server_loop *sl = &s->loops[i];

		while (sl->conns)
			server_conn_close(sl->conns);
		server_conn_free_dead(sl);
	}
	return rc;
}

int server_close(struct server *s)
{
	int i;

	if (!s->inited)
		return 0;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (loop_pool_stop(&s->pool, 1000) < 0)
		return 1; /* handlers still run: they use the loops, the lock, the table */
	for (i = 0; i < s->nloops; i++) {
		loop_free(&s->loops[i].l);
		free(s->loops[i].h2scratch);
	}
	free(s->loops);
	s->loops = NULL;
	s->nloops = 0;
	if (s->ipt) {
		size_t b;

		for (b = 0; b < SERVER_IPT_BUCKETS; b++)
			while (s->ipt->b[b]) {
				struct server_ipn *n = s->ipt->b[b];

				s->ipt->b[b] = n->next;
				free(n);
			}
		free(s->ipt);
		s->ipt = NULL;
	}
	pthread_mutex_destroy(&s->mu);
	s->inited = 0;
	return 0;
}
