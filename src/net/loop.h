/* loop: one epoll event loop (one per core in serve mode) and a pool of
 * helper threads for the few jobs that must block (DNS, a credential
 * refresh that runs a process, a handler that still does blocking I/O).
 *
 * A loop belongs to the thread that runs loop_run: fd watchers and timers
 * are added, changed and removed on that thread only. Other threads talk
 * to a loop through loop_post alone (a mutex-protected list and an eventfd
 * that wakes epoll_wait). Every struct here is owned by the caller and
 * embedded where it likes (a connection holds its watcher, its timer and
 * its message): the loop itself allocates only its timer heap.
 *
 * Timers: a binary min-heap on 64-bit monotonic milliseconds (clock_ms),
 * O(log n) to set, move or stop. One timer per connection is the usual
 * shape: a deadline that moves as the connection changes phase.
 *
 * Stack: callbacks run on the loop thread's stack (LOOP_STACK for the
 * threads the server starts); keep large state on the heap. */
#ifndef BROCK_LOOP_H
#define BROCK_LOOP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define LOOP_STACK (256u << 10)     /* loop threads: callbacks keep big state on the heap */
#define LOOP_POOL_STACK (1u << 20)  /* helper threads: blocking AWS calls (creds ~17 KiB) */
#define LOOP_POOL_IDLE_MS 10000     /* a helper thread idle this long exits */
#define LOOP_MAX_WAIT_MS 100        /* epoll_wait never sleeps longer: loop_tick runs */

struct loop;

/* ---- fd watchers (level-triggered) ---- */
struct loop_io;
typedef void (*loop_io_fn)(struct loop *l, struct loop_io *w, uint32_t events);
struct loop_io {
	int fd;
	uint32_t events; /* EPOLLIN | EPOLLOUT ... as registered */
	loop_io_fn fn;
	void *user;
};

/* ---- timers ---- */
struct loop_timer;
typedef void (*loop_timer_fn)(struct loop *l, struct loop_timer *t);
struct loop_timer {
	int64_t at;  /* clock_ms deadline */
	size_t idx;  /* position in the heap + 1; 0: not armed */
	loop_timer_fn fn;
	void *user;
};

/* ---- messages from other threads ---- */
struct loop_msg;
/* bits: the union of every loop_post since the last call. */
typedef void (*loop_msg_fn)(struct loop *l, struct loop_msg *m, unsigned bits);
struct loop_msg {
	struct loop_msg *next;
	unsigned bits;
	int queued;
	loop_msg_fn fn;
	void *user;
};

typedef void (*loop_tick_fn)(struct loop *l, void *user);

struct loop {
	int ep;     /* epoll */
	int wake;   /* eventfd */
	int stop;   /* loop_run returns (set on the loop thread) */
	int id;     /* index among the server's loops */
	int64_t now; /* clock_ms at the last wake-up */
	struct loop_timer **heap;
	size_t nheap, capheap;
	pthread_mutex_t mu; /* guards the message list */
	struct loop_msg *head, *tail;
	loop_tick_fn tick;  /* at least every LOOP_MAX_WAIT_MS (stop flags, drains) */
	loop_tick_fn after; /* after each batch of events: frees what callbacks closed */
	void *tick_user;    /* for both */
};

int loop_init(struct loop *l, struct err *e);
void loop_free(struct loop *l);
/* Runs until loop_stop is called from a callback. */
void loop_run(struct loop *l);
void loop_stop(struct loop *l);

int loop_io_add(struct loop *l, struct loop_io *w, int fd, uint32_t events);
int loop_io_mod(struct loop *l, struct loop_io *w, uint32_t events); /* no-op when unchanged */
void loop_io_del(struct loop *l, struct loop_io *w);

/* Arms (or moves) t to fire at the clock_ms time `at`. -1 when out of memory. */
int loop_timer_set(struct loop *l, struct loop_timer *t, int64_t at);
void loop_timer_stop(struct loop *l, struct loop_timer *t);

/* Any thread: queue m (once; bits accumulate) and wake the loop. m must
 * stay valid until its fn has run with the last bits posted. */
void loop_post(struct loop *l, struct loop_msg *m, unsigned bits);

/* ---- helper threads for blocking jobs ---- */
struct loop_job;
typedef void (*loop_job_fn)(struct loop_job *j);
struct loop_job {
	struct loop_job *next;
	loop_job_fn fn;
	void *user;
};

struct loop_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;   /* jobs queued / a thread exited */
	struct loop_job *head, *tail;
	int threads, idle, max;
	int queued;          /* jobs waiting: more than idle threads means start one */
	int stopping;
	unsigned long started; /* threads ever started (tests) */
};

/* max: most threads at once (jobs beyond wait in order). */
void loop_pool_init(struct loop_pool *p, int max);
/* Queues j; a thread is started when none is idle and fewer than max run.
 * -1 when no thread runs and none could be started (j is not queued). */
int loop_pool_submit(struct loop_pool *p, struct loop_job *j);
/* Stops idle threads and waits up to ms for every thread to exit; 0 when
 * they all did (then the pool may be freed), -1 when jobs still run. */
int loop_pool_stop(struct loop_pool *p, int ms);
int loop_pool_running(struct loop_pool *p); /* threads busy with a job */

#endif
