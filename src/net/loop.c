/* loop: epoll, a timer heap, an eventfd for messages, helper threads (see loop.h). */
#include "net/loop.h"
#include "base/clock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define LOOP_EVENTS 256

int loop_init(struct loop *l, struct err *e)
{
	struct epoll_event ev;

	memset(l, 0, sizeof *l);
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0)
		return err_set(e, ERR_OTHER, "epoll_create1: %s", strerror(errno));
	l->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wake < 0) {
		close(l->ep);
		return err_set(e, ERR_OTHER, "eventfd: %s", strerror(errno));
	}
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL; /* NULL: the wake-up eventfd */
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake, &ev) < 0) {
		close(l->wake);
		close(l->ep);
		return err_set(e, ERR_OTHER, "epoll_ctl: %s", strerror(errno));
	}
	pthread_mutex_init(&l->mu, NULL);
	l->now = clock_ms();
	return 0;
}

void loop_free(struct loop *l)
{
	if (l->ep >= 0)
		close(l->ep);
	if (l->wake >= 0)
		close(l->wake);
	l->ep = l->wake = -1;
	free(l->heap);
	l->heap = NULL;
	l->nheap = l->capheap = 0;
	pthread_mutex_destroy(&l->mu);
}

void loop_stop(struct loop *l)
{
	l->stop = 1;
}

/* ------------------------------------------------------------------------ */
/* fd watchers */

int loop_io_add(struct loop *l, struct loop_io *w, int fd, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	w->fd = fd;
	w->events = events;
	ev.events = events;
	ev.data.ptr = w;
	return epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -1 : 0;
}

int loop_io_mod(struct loop *l, struct loop_io *w, uint32_t events)
{
	struct epoll_event ev;

	if (w->events == events)
		return 0;
	memset(&ev, 0, sizeof ev);
	w->events = events;
	ev.events = events;
	ev.data.ptr = w;
	return epoll_ctl(l->ep, EPOLL_CTL_MOD, w->fd, &ev) < 0 ? -1 : 0;
}

void loop_io_del(struct loop *l, struct loop_io *w)
{
	if (w->fd >= 0)
		epoll_ctl(l->ep, EPOLL_CTL_DEL, w->fd, NULL);
	w->events = 0;
}

/* ------------------------------------------------------------------------ */
/* Timer heap (1-based idx kept in each timer, so a timer moves in O(log n)) */

static void loop_heap_put(struct loop *l, size_t i, struct loop_timer *t)
{
	l->heap[i] = t;
	t->idx = i + 1;
}

static void loop_heap_up(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (l->heap[parent]->at <= t->at)
			break;
		loop_heap_put(l, i, l->heap[parent]);
		i = parent;
	}
	loop_heap_put(l, i, t);
}

static void loop_heap_down(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && l->heap[c + 1]->at < l->heap[c]->at)
			c++;
		if (t->at <= l->heap[c]->at)
			break;
		loop_heap_put(l, i, l->heap[c]);
		i = c;
	}
	loop_heap_put(l, i, t);
}

int loop_timer_set(struct loop *l, struct loop_timer *t, int64_t at)
{
	if (t->idx) {
		size_t i = t->idx - 1;
		int64_t old = t->at;

		t->at = at;
		if (at < old)
			loop_heap_up(l, i);
		else
			loop_heap_down(l, i);
		return 0;
	}
	if (l->nheap == l->capheap) {
		size_t cap = l->capheap ? l->capheap * 2 : 64;
		struct loop_timer **h = realloc(l->heap, cap * sizeof *h);

		if (!h)
			return -1;
		l->heap = h;
		l->capheap = cap;
	}
	t->at = at;
	l->heap[l->nheap++] = t;
	t->idx = l->nheap;
	loop_heap_up(l, l->nheap - 1);
	return 0;
}

void loop_timer_stop(struct loop *l, struct loop_timer *t)
{
	size_t i;
	struct loop_timer *last;

	if (!t->idx)
		return;
	i = t->idx - 1;
	t->idx = 0;
	last = l->heap[--l->nheap];
	if (i == l->nheap)
		return;
	loop_heap_put(l, i, last);
	if (i > 0 && l->heap[(i - 1) / 2]->at > last->at)
		loop_heap_up(l, i);
	else
		loop_heap_down(l, i);
}

/* At most as many runs as there were timers: one that re-arms itself at or
 * before now (a bug) costs a busy loop that still polls, not a loop thread
 * that never returns to epoll. */
static void loop_run_timers(struct loop *l)
{
	size_t budget = l->nheap;

	while (budget-- > 0 && l->nheap > 0 && l->heap[0]->at <= l->now && !l->stop) {
		struct loop_timer *t = l->heap[0];

		loop_timer_stop(l, t);
		t->fn(l, t);
	}
}

/* ------------------------------------------------------------------------ */
/* Messages */

void loop_post(struct loop *l, struct loop_msg *m, unsigned bits)
{
	int wake = 0;

	pthread_mutex_lock(&l->mu);
	m->bits |= bits;
	if (!m->queued) {
		m->queued = 1;
		m->next = NULL;
		if (l->tail)
			l->tail->next = m;
		else
			l->head = m;
		l->tail = m;
		wake = l->head == m;
	}
	pthread_mutex_unlock(&l->mu);
	if (wake) {
		uint64_t one = 1;

		if (write(l->wake, &one, sizeof one) < 0) {
			/* EAGAIN: the counter is saturated, a wake-up is pending anyway */
		}
	}
}

static void loop_run_msgs(struct loop *l)
{
	uint64_t v;

	if (read(l->wake, &v, sizeof v) < 0) {
		/* EAGAIN: nothing pending */
	}
	for (;;) {
		struct loop_msg *m;
		unsigned bits;

		pthread_mutex_lock(&l->mu);
		m = l->head;
		if (m) {
			l->head = m->next;
			if (!l->head)
				l->tail = NULL;
			bits = m->bits;
			m->bits = 0;
			m->queued = 0;
		}
		pthread_mutex_unlock(&l->mu);
		if (!m)
			return;
		m->fn(l, m, bits);
	}
}

/* ------------------------------------------------------------------------ */

void loop_run(struct loop *l)
{
	struct epoll_event ev[LOOP_EVENTS];
	int64_t last_tick = clock_ms();

	l->stop = 0;
	while (!l->stop) {
		int64_t wait = LOOP_MAX_WAIT_MS;
		int n, i;

		l->now = clock_ms();
		if (l->nheap > 0 && l->heap[0]->at - l->now < wait)
			wait = l->heap[0]->at - l->now;
		if (wait < 0)
			wait = 0;
		n = epoll_wait(l->ep, ev, LOOP_EVENTS, (int)wait);
		l->now = clock_ms();
		for (i = 0; i < n && !l->stop; i++) {
			struct loop_io *w = ev[i].data.ptr;

			if (!w)
				loop_run_msgs(l);
			else
				w->fn(l, w, ev[i].events);
		}
		if (!l->stop)
			loop_run_timers(l);
		/* a callback may close a watcher reported later in the same ev[]:
		 * owners free closed watchers only here, after the batch */
		if (l->after)
			l->after(l, l->tick_user);
		if (!l->stop && l->tick && l->now - last_tick >= LOOP_MAX_WAIT_MS) {
			last_tick = l->now;
			l->tick(l, l->tick_user);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Helper threads */

void loop_pool_init(struct loop_pool *p, int max)
{
	memset(p, 0, sizeof *p);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->max = max > 0 ? max : 1;
}

static void loop_pool_deadline(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *loop_pool_main(void *arg)
{
	struct loop_pool *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct loop_job *j = p->head;

		if (j) {
			p->head = j->next;
			if (!p->head)
				p->tail = NULL;
			p->queued--;
			pthread_mutex_unlock(&p->mu);
			j->fn(j); /* j may be freed by now */
			pthread_mutex_lock(&p->mu);
			continue;
		}
		if (p->stopping)
			break;
		{
			struct timespec dl;
			int r;

			loop_pool_deadline(&dl, LOOP_POOL_IDLE_MS);
			p->idle++;
			r = pthread_cond_timedwait(&p->cv, &p->mu, &dl);
			p->idle--;
			if (r == ETIMEDOUT && !p->head)
				break;
		}
	}
	p->threads--;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int loop_pool_submit(struct loop_pool *p, struct loop_job *j)
{
	int spawn, rc = 0;

	pthread_mutex_lock(&p->mu);
	j->next = NULL;
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	p->queued++;
	/* an idle thread woken for an earlier job may not have taken it yet:
	 * compare the queue with the idle threads, not idle with 0 */
	spawn = p->queued > p->idle && p->threads < p->max;
	if (spawn) {
		pthread_attr_t at;
		pthread_t t;

		pthread_attr_init(&at);
		pthread_attr_setstacksize(&at, LOOP_POOL_STACK);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &at, loop_pool_main, p) == 0) {
			p->threads++;
			p->started++;
		} else if (p->idle > 0) {
			pthread_cond_signal(&p->cv);
		} else if (p->threads == 0) {
			/* nobody would ever run it: take it back */
			struct loop_job **q = &p->head;

			while (*q != j)
				q = &(*q)->next;
			*q = NULL;
			p->tail = NULL;
			p->queued--;
			for (q = &p->head; *q; q = &(*q)->next)
				p->tail = *q;
			rc = -1;
		}
		pthread_attr_destroy(&at);
	} else {
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

int loop_pool_running(struct loop_pool *p)
{
	int n;

	pthread_mutex_lock(&p->mu);
	n = p->threads - p->idle;
	pthread_mutex_unlock(&p->mu);
	return n;
}

int loop_pool_stop(struct loop_pool *p, int ms)
{
	struct timespec dl;
	int left;

	loop_pool_deadline(&dl, ms);
	pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	pthread_cond_broadcast(&p->cv);
	while (p->threads > 0)
		if (pthread_cond_timedwait(&p->cv, &p->mu, &dl) == ETIMEDOUT)
			break;
	left = p->threads;
	pthread_mutex_unlock(&p->mu);
	if (left)
		return -1;
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	return 0;
}
