/* test_loop: the event loop (timer order, moving and stopping timers, a
 * watcher, messages posted from another thread) and the helper-thread pool
 * (a burst of jobs that all block must all run at once, also when idle
 * threads are left from an earlier burst). */
#include <pthread.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "net/loop.h"
#include "t.h"

static char order[16];
static size_t norder;

static void on_timer(struct loop *l, struct loop_timer *t)
{
	const char *name = t->user;

	if (norder < sizeof order - 1)
		order[norder++] = name[0];
	if (name[0] == 'z')
		loop_stop(l);
}

static void test_timers(void)
{
	struct loop l;
	struct loop_timer a = {0, 0, on_timer, "a"}, b = {0, 0, on_timer, "b"},
			  c = {0, 0, on_timer, "c"}, d = {0, 0, on_timer, "d"}, z = {0, 0, on_timer, "z"};
	struct err e;
	int64_t now;

	CHECK(loop_init(&l, &e) == 0);
	now = clock_ms();
	norder = 0;
	CHECK(loop_timer_set(&l, &a, now + 30) == 0);
	CHECK(loop_timer_set(&l, &b, now + 10) == 0);
	CHECK(loop_timer_set(&l, &c, now + 20) == 0);
	CHECK(loop_timer_set(&l, &d, now + 5) == 0);
	CHECK(loop_timer_set(&l, &z, now + 60) == 0);
	loop_timer_set(&l, &a, now + 1); /* moved earlier */
	loop_timer_set(&l, &b, now + 40); /* moved later */
	loop_timer_stop(&l, &c);
	loop_timer_stop(&l, &c); /* twice: harmless */
	loop_run(&l);
	order[norder] = '\0';
	CHECK_STR(order, "adbz");
	CHECK(a.idx == 0 && c.idx == 0 && l.nheap == 0);
	loop_free(&l);
}

/* ---- messages from another thread, and a watcher ---- */

static int got_msgs;
static unsigned got_bits;

static void on_msg(struct loop *l, struct loop_msg *m, unsigned bits)
{
	(void)m;
	got_msgs++;
	got_bits |= bits;
	if (bits & 4u)
		loop_stop(l);
}

struct poster {
	struct loop *l;
	struct loop_msg *m;
};

static void *post_thread(void *arg)
{
	struct poster *p = arg;
	int i;

	for (i = 0; i < 1000; i++)
		loop_post(p->l, p->m, 1u);
	loop_post(p->l, p->m, 2u);
	usleep(20000);
	loop_post(p->l, p->m, 4u);
	return NULL;
}

static int io_hits;

static void on_io(struct loop *l, struct loop_io *w, uint32_t ev)
{
	char b[16];

	(void)l;
	(void)ev;
	if (read(w->fd, b, sizeof b) > 0)
		io_hits++;
}

static void test_messages(void)
{
	struct loop l;
	struct loop_msg m = {NULL, 0, 0, on_msg, NULL};
	struct loop_io w = {-1, 0, on_io, NULL};
	struct poster p;
	struct err e;
	pthread_t t;
	int fds[2];

	CHECK(loop_init(&l, &e) == 0);
	CHECK(pipe(fds) == 0);
	CHECK(loop_io_add(&l, &w, fds[0], EPOLLIN) == 0);
	CHECK(write(fds[1], "x", 1) == 1);
	p.l = &l;
	p.m = &m;
	CHECK(pthread_create(&t, NULL, post_thread, &p) == 0);
	loop_run(&l);
	pthread_join(t, NULL);
	/* posts coalesce: far fewer calls than posts, every bit delivered */
	CHECK(got_msgs >= 2 && got_msgs <= 1002);
	CHECK(got_bits == 7u);
	CHECK(m.queued == 0);
	CHECK(io_hits == 1);
	loop_io_del(&l, &w);
	close(fds[0]);
	close(fds[1]);
	loop_free(&l);
}

/* ---- a timer that re-arms itself in the past ---- */

static long spins;

static void on_spin(struct loop *l, struct loop_timer *t)
{
	if (++spins >= 50000000L) /* the fallback: without the bound this is reached inside one pass */
		loop_stop(l);
	else
		loop_timer_set(l, t, l->now); /* due at once: a bug in a timer's owner */
}

/* The loop still gets back to epoll (here: a message that stops it) while a
 * timer keeps re-arming itself at the loop's now. */
static void test_timer_rearmed_in_the_past(void)
{
	struct loop l;
	struct loop_msg m = {NULL, 0, 0, on_msg, NULL};
	struct loop_timer t = {0, 0, on_spin, NULL};
	struct poster p;
	struct err e;
	pthread_t th;

	CHECK(loop_init(&l, &e) == 0);
	got_msgs = 0;
	got_bits = 0;
	CHECK(loop_timer_set(&l, &t, clock_ms()) == 0);
	p.l = &l;
	p.m = &m;
	CHECK(pthread_create(&th, NULL, post_thread, &p) == 0);
	loop_run(&l);
	pthread_join(th, NULL);
	CHECK(got_bits & 4u);        /* stopped by the message, */
	CHECK(spins < 50000000L);    /* not by the fallback */
	loop_timer_stop(&l, &t);
	loop_free(&l);
}

/* ---- the pool ---- */

#define BURST 16
static pthread_mutex_t bmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bcv = PTHREAD_COND_INITIALIZER;
static int arrived, all_met, target;

/* Blocks until every job of the burst runs (or 3 s pass). */
static void burst_job(struct loop_job *j)
{
	struct timespec dl;
	int met = 1;

	(void)j;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 3;
	pthread_mutex_lock(&bmu);
	arrived++;
	pthread_cond_broadcast(&bcv);
	while (arrived < target && met)
		met = pthread_cond_timedwait(&bcv, &bmu, &dl) == 0 || arrived >= target;
	all_met += met;
	pthread_mutex_unlock(&bmu);
}

static void test_pool_burst(void)
{
	struct loop_pool p;
	struct loop_job jobs[3 * BURST];
	int i, n = 0;

	loop_pool_init(&p, 64);
	/* round 1: BURST jobs; round 2: 2 * BURST jobs while BURST threads
	 * sit idle from round 1 (a woken idle thread that has not taken its
	 * job yet must not count as free for the next one) */
	for (i = 0; i < 3 * BURST; i++) {
		if (i == 0 || i == BURST) {
			int k;

			for (k = 0; k < 400 && loop_pool_running(&p) > 0; k++)
				usleep(10000);
			pthread_mutex_lock(&bmu);
			target = i == 0 ? BURST : 3 * BURST;
			pthread_mutex_unlock(&bmu);
		}
		jobs[i].fn = burst_job;
		jobs[i].user = NULL;
		CHECK(loop_pool_submit(&p, &jobs[i]) == 0);
		n++;
	}
	for (i = 0; i < 400 && loop_pool_running(&p) > 0; i++)
		usleep(10000);
	pthread_mutex_lock(&bmu);
	CHECK(arrived == n);
	CHECK(all_met == n);
	pthread_mutex_unlock(&bmu);
	CHECK(p.started >= 2 * BURST);
	CHECK(loop_pool_stop(&p, 2000) == 0);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_timers);
	T_RUN(test_messages);
	T_RUN(test_timer_rearmed_in_the_past);
	T_RUN(test_pool_burst);
	return t_done(argv[0]);
}
