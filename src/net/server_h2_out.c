/* server_h2_out: answers on an HTTP/2 stream (server_out.c hands them
 * here) and the pump that frames them into the connection's output as the
 * client's windows allow (see server_h2.c). */
#include "net/server_h2_int.h"
#include "wire/h2msg.h"

#include <time.h>

/* Under mu: frames stream output into the connection's output while the
 * windows and out_max allow, one frame per stream in turn. */
void server_h2_pump_locked(struct server_conn *c)
{
	struct server_h2 *h = c->h2;
	uint32_t mf = h->peer.max_frame_size;
	int progress, moved = 0;

	do {
		struct server_h2s *st;

		progress = 0;
		for (st = h->streams; st && !c->gone; st = st->next) {
			size_t avail, k;
			int end;

			if (st->final_held || st->sent_end || st->reset)
				continue;
			if (c->out.len - c->out_off >= c->s->o.out_max)
				goto out;
			h2_mark(c);
			if (st->hb.len) {
				if (buf_append(&c->out, st->hb.p, st->hb.len) < 0)
					c->gone = 1;
				buf_reset(&st->hb);
				progress = moved = 1;
				st->sent_end = st->end_in_head;
				if (st->sent_end)
					continue;
			}
			avail = st->pend.len - st->pend_off;
			if (avail == 0 && !st->end_queued)
				continue;
			k = avail < mf ? avail : mf;
			if ((int64_t)k > st->win)
				k = st->win > 0 ? (size_t)st->win : 0;
			if ((int64_t)k > h->win)
				k = h->win > 0 ? (size_t)h->win : 0;
			if (avail && k == 0)
				continue; /* its window is shut: others go on */
			end = st->end_queued && k == avail;
			if (h2_write_data(&c->out, st->id, end, k ? st->pend.p + st->pend_off : NULL, k,
					  mf) < 0) {
				c->gone = 1;
				break;
			}
			st->pend_off += k;
			st->win -= (int32_t)k;
			h->win -= (int32_t)k;
			if (st->pend_off == st->pend.len) {
				buf_reset(&st->pend);
				st->pend_off = 0;
			}
			st->sent_end = end;
			st->last_move = clock_ms();
			progress = moved = 1;
		}
	} while (progress && !c->gone);
out:
	if (moved)
		pthread_cond_broadcast(&c->cv);
}


/* Under mu: the answer's head as HEADERS frames in hb. */
static int h2s_head_locked(struct server_h2s *st, int status, const char *ctype,
			   const char *extra, int64_t len, int end)
{
	struct server_h2 *h = st->c.up->h2;
	struct buf blk;
	int rc;

	buf_init(&blk, HTTP_HEAD_MAX);
	rc = h2msg_response(&h->enc, &blk, status, ctype, extra, len);
	if (rc == 0 &&
	    h2_write_headers(&st->hb, st->id, end, blk.p, blk.len, h->peer.max_frame_size) < 0)
		rc = -1;
	buf_free(&blk);
	st->end_in_head = end;
	st->end_queued |= end;
	return rc;
}

/* Under mu, after an answer failed to fit its bounds: reset the stream. */
static void h2s_fail_locked(struct server_h2s *st)
{
	struct server_conn *c = st->c.up;

	h2_mark(c);
	h2_write_rst_stream(&c->out, st->id, H2_INTERNAL_ERROR);
	h2s_gone_locked(st);
}

/* Under mu: frames what the windows allow and, from a helper thread, tries
 * the socket; 1 when the loop must look (output left, or the client gone). */
static int h2s_push_locked(struct server_h2s *st)
{
	struct server_conn *c = st->c.up;

	server_h2_pump_locked(c);
	if (st->c.inline_run)
		return 0; /* on the loop: it writes after the handler */
	return server_send_locked(c) || c->gone;
}

int server_h2_reply(struct server_conn *c, int status, const char *ctype, const char *extra,
		    const void *body, size_t n)
{
	struct server_h2s *st = h2s_of(c);
	size_t k = c->head_only ? 0 : n;
	int rc = -1;

	if (c->status)
		return -1; /* one answer per request */
	c->status = status;
	pthread_mutex_lock(&c->up->mu);
	if (!h2s_gone(st)) {
		rc = h2s_head_locked(st, status, ctype, extra, (int64_t)n, k == 0);
		if (rc == 0 && k && buf_append(&st->pend, body, k) < 0)
			rc = -1;
		st->end_queued = 1;
		st->final_held = 1; /* framed by the loop once the done hook ran */
		if (rc < 0)
			h2s_fail_locked(st);
	}
	pthread_mutex_unlock(&c->up->mu);
	return rc;
}

int server_h2_stream_start(struct server_conn *c, int status, const char *ctype,
			   const char *extra)
{
	struct server_h2s *st = h2s_of(c);
	int rc = -1, post = 0;

	if (c->status)
		return -1;
	c->status = status;
	c->streaming = 1;
	atomic_fetch_add(&c->s->streams, 1);
	pthread_mutex_lock(&c->up->mu);
	if (!h2s_gone(st)) {
		rc = h2s_head_locked(st, status, ctype, extra, -1, 0);
		if (rc < 0)
			h2s_fail_locked(st);
		post = h2s_push_locked(st);
	}
	pthread_mutex_unlock(&c->up->mu);
	if (post)
		loop_post(&c->up->sl->l, &c->up->msg, SC_MSG_OUT);
	return rc;
}

int server_h2_stream_send(struct server_conn *c, const void *p, size_t n)
{
	struct server_h2s *st = h2s_of(c);
	struct server_conn *up = c->up;
	int rc = 0;

	if (c->streaming <= 0)
		return -1;
	if (n == 0 || c->head_only)
		return 0;
	pthread_mutex_lock(&up->mu);
	if (h2s_gone(st)) {
		pthread_mutex_unlock(&up->mu);
		return -1;
	}
	if (st->pend.len == st->pend_off)
		st->last_move = clock_ms();
	if (buf_append(&st->pend, p, n) < 0)
		h2s_fail_locked(st);
	if (h2s_push_locked(st))
		loop_post(&up->sl->l, &up->msg, SC_MSG_OUT);
	while (!c->inline_run && !h2s_gone(st) && st->pend.len - st->pend_off > c->s->o.out_max) {
		struct timespec dl;

		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 1; /* the loop's write_ms deadline decides; this only re-checks */
		pthread_cond_timedwait(&up->cv, &up->mu, &dl);
	}
	if (h2s_gone(st))
		rc = -1;
	pthread_mutex_unlock(&up->mu);
	return rc;
}

int server_h2_stream_end(struct server_conn *c)
{
	struct server_h2s *st = h2s_of(c);
	int gone;

	if (c->streaming <= 0)
		return -1;
	pthread_mutex_lock(&c->up->mu);
	st->end_queued = 1;
	st->final_held = 1; /* framed by the loop once the done hook ran */
	gone = h2s_gone(st);
	pthread_mutex_unlock(&c->up->mu);
	c->streaming = 0;
	atomic_fetch_sub(&c->s->streams, 1);
	return gone ? -1 : 0;
}

/* A cut answer: what the windows let out now is framed, then the stream is
 * reset (INTERNAL_ERROR) instead of ended, so the client sees a broken
 * body, never a complete one. */
int server_h2_stream_abort(struct server_conn *c)
{
	struct server_h2s *st = h2s_of(c);
	struct server_conn *up = c->up;
	int post = 0;

	if (c->streaming <= 0)
		return -1;
	pthread_mutex_lock(&up->mu);
	if (!h2s_gone(st)) {
		server_h2_pump_locked(up);
		h2s_fail_locked(st);
		post = 1;
	}
	pthread_mutex_unlock(&up->mu);
	c->streaming = 0;
	atomic_fetch_sub(&c->s->streams, 1);
	if (post)
		loop_post(&up->sl->l, &up->msg, SC_MSG_OUT);
	return 0;
}

/* A keep-alive piece while the handler keeps the stream open: queued only
 * when nothing of the stream waits, never waiting itself. 1 queued, 0
 * skipped, -1 gone. */
int server_h2_stream_idle_send(struct server_conn *c, const void *p, size_t n)
{
	struct server_h2s *st = h2s_of(c);
	struct server_conn *up = c->up;
	int rc = 0, post = 0;

	if (c->streaming <= 0 || c->head_only || c->inline_run)
		return 0;
	pthread_mutex_lock(&up->mu);
	if (h2s_gone(st)) {
		rc = -1;
	} else if (st->hb.len == 0 && st->pend.len == st->pend_off &&
		   buf_append(&st->pend, p, n) == 0) {
		st->last_move = clock_ms();
		server_h2_pump_locked(up);
		post = rc = 1;
	}
	pthread_mutex_unlock(&up->mu);
	if (post)
		loop_post(&up->sl->l, &up->msg, SC_MSG_OUT);
	return rc;
}
