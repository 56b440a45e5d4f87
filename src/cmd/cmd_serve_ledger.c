/* cmd_serve_ledger: the gateway's ledger file (SPEC 7.4), <state dir>/ledger,
 * in bedrock/ledger.h's format. At start it is read (this month's lines;
 * a torn, corrupt or foreign line is skipped with a warning), written back
 * compacted (file_write_atomic: one line per day and key) and opened for
 * appends. Charges become lines in memory (pol.pending); about once a
 * second the tick hands them to a helper thread, which appends them with
 * one write(2), so a crash loses at most the last second and never leaves
 * half a record in the middle of the file (a torn last line is skipped on
 * the next start, which rewrites the file without it). The file is
 * compacted again when the appends pass LEDGER_COMPACT_AT bytes, when the
 * UTC day changes, after a failed write, and at exit. A failed write (a
 * full disk) is said once, and again when the file is written whole; the
 * gateway keeps serving and counting budgets from memory meanwhile. One
 * brock serve per state directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/file.h"
#include "cmd/serve.h"

#define LEDGER_FILE_MAX (64u << 20)
#define LEDGER_COMPACT_AT (1u << 20)
#define LEDGER_FLUSH_MS 1000

struct sl_warns {
	long n;
	size_t first;
	const char *why;
};

static void sl_on_warn(void *user, size_t line, const char *why)
{
	struct sl_warns *w = user;

	if (w->n++ == 0) {
		w->first = line;
		w->why = why;
	}
}

static int sl_reopen(struct serve_pol *p, struct err *e)
{
	int fd = open(p->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return err_set(e, ERR_OTHER, "cannot open %s: %s", p->path, strerror(errno));
	if (p->fd >= 0)
		close(p->fd);
	p->fd = fd;
	return 0;
}

/* The table, this month only, written over the file; then reopened. */
static int sl_compact(struct serve_pol *p, const struct buf *text, struct err *e)
{
	if (file_write_atomic(p->path, text->p, text->len, 0600, e) < 0)
		return -1;
	return sl_reopen(p, e);
}

static int sl_need(const struct serve_keys *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (k->k[i].pol.has_budget)
			return 1;
	return 0;
}

static int sl_load(struct serve *sv, const char *dir, struct err *e)
{
	struct serve_pol *p = &sv->pol;
	int64_t t = (int64_t)time(NULL);
	struct sl_warns w = {0, 0, NULL};
	struct buf text;
	int r;

	if (file_mkdirs(dir, 0700, e) < 0 || file_dir_private(dir, "BROCK_STATE_DIR", e) < 0)
		return -1;
	snprintf(p->path, sizeof p->path, "%s/ledger", dir);
	buf_init(&text, LEDGER_FILE_MAX + 65536);
	r = file_read_nofollow(p->path, LEDGER_FILE_MAX, &text, e);
	if (r > 0 &&
	    ledger_parse(&p->led, (const char *)text.p, text.len,
			 policy_period_start(t, POLICY_MONTH), sl_on_warn, &w, e) < 0)
		r = -1;
	buf_free(&text);
	if (r < 0)
		return -1;
	if (w.n && !sv->g->quiet)
		fprintf(stderr, "brock: warning: %s: skipped %ld line%s that %s (first: line "
			"%zu, %s)\n", p->path, w.n, w.n == 1 ? "" : "s",
			w.n == 1 ? "is not a ledger record" : "are not ledger records", w.first,
			w.why);
	buf_init(&text, LEDGER_FILE_MAX + 65536);
	r = ledger_format(&p->led, &text) < 0 ? err_set(e, ERR_OTHER, "ledger too large")
						 : sl_compact(p, &text, e);
	buf_free(&text);
	p->compacted_day = policy_period_start(t, POLICY_DAY);
	return r;
}

int cmd_serve_ledger_open(struct serve *sv, const struct serve_keys *k, struct err *e)
{
	char dir[4000];
	struct err le;

	if (k->n == 0)
		return 0;
	if (ctx_state_dir(&sv->g->env, dir, sizeof dir) < 0) {
		if (sl_need(k))
			return err_set(e, ERR_USAGE, "a key has a budget but there is no state "
				       "directory for the ledger: set BROCK_STATE_DIR or HOME");
		if (!sv->g->quiet)
			fprintf(stderr, "brock: warning: no state directory (set BROCK_STATE_DIR or "
				"HOME): usage is not kept across restarts\n");
		return 0;
	}
	if (sl_load(sv, dir, &le) < 0) {
		if (sl_need(k))
			return err_set(e, le.cls, "ledger: %s", le.msg);
		if (!sv->g->quiet)
			fprintf(stderr, "brock: warning: ledger: %s; usage is not kept across "
				"restarts\n", le.msg);
		ledger_free(&sv->pol.led);
		return 0;
	}
	sv->pol.ledger_on = 1;
	return 0;
}

void cmd_serve_ledger_add(struct serve *sv, const struct ledger_rec *r)
{
	struct serve_pol *p = &sv->pol;
	struct err e;

	if (!p->ledger_on)
		return;
	if (ledger_add(&p->led, r, &e) < 0 || ledger_format_rec(r, &p->pending) < 0)
		p->dirty = 1; /* the table has it, or it is lost: a compaction says which */
}

/* On a helper thread: the pending lines appended, or the file compacted. */
static void sl_job(struct loop_job *j)
{
	struct serve *sv = j->user;
	struct serve_pol *p = &sv->pol;
	int64_t t = (int64_t)time(NULL), day = policy_period_start(t, POLICY_DAY);
	struct buf out;
	struct err e;
	int compact;

	buf_init(&out, LEDGER_FILE_MAX + 1);
	pthread_mutex_lock(&p->mu);
	compact = p->dirty || p->appended + p->pending.len > LEDGER_COMPACT_AT ||
		  p->compacted_day != day;
	if (compact) {
		ledger_prune(&p->led, policy_period_start(t, POLICY_MONTH));
		if (ledger_format(&p->led, &out) < 0)
			buf_reset(&out);
		p->appended = 0;
		p->compacted_day = day;
		p->dirty = 0;
	} else {
		buf_append(&out, p->pending.p, p->pending.len);
		p->appended += p->pending.len;
	}
	buf_reset(&p->pending); /* written below, or inside the compacted table */
	pthread_mutex_unlock(&p->mu);
	if (compact ? (out.len == 0 ? err_set(&e, ERR_OTHER, "ledger too large")
				    : sl_compact(p, &out, &e))
		    : (out.len && file_write_all(p->fd, out.p, out.len) < 0
			       ? err_set(&e, ERR_OTHER, "cannot append to %s: %s", p->path,
					 strerror(errno))
			       : 0)) {
		if (!sv->g->quiet && !p->failing)
			fprintf(stderr, "brock: warning: ledger: %s; kept in memory until "
				"it can be written\n", e.msg);
		p->failing = 1;
		pthread_mutex_lock(&p->mu);
		p->dirty = 1;
		pthread_mutex_unlock(&p->mu);
	} else if (p->failing) {
		p->failing = 0;
		if (!sv->g->quiet)
			fprintf(stderr, "brock: ledger: %s written again\n", p->path);
	}
	buf_free(&out);
	atomic_store(&p->job_busy, 0);
}

void cmd_serve_ledger_tick(struct serve *sv)
{
	struct serve_pol *p = &sv->pol;
	int64_t now = clock_ms();
	int due;

	if (!p->ledger_on || now < p->flush_next)
		return;
	p->flush_next = now + LEDGER_FLUSH_MS;
	pthread_mutex_lock(&p->mu);
	due = p->pending.len > 0 || p->dirty ||
	      p->compacted_day != policy_period_start((int64_t)time(NULL), POLICY_DAY);
	pthread_mutex_unlock(&p->mu);
	if (!due || atomic_exchange(&p->job_busy, 1))
		return;
	p->job.fn = sl_job;
	p->job.user = sv;
	if (server_submit(&sv->srv, &p->job) < 0)
		atomic_store(&p->job_busy, 0);
}

void cmd_serve_ledger_close(struct serve *sv)
{
	struct serve_pol *p = &sv->pol;
	int i;

	if (!p->ledger_on)
		return;
	for (i = 0; i < 300 && atomic_exchange(&p->job_busy, 1); i++)
		usleep(10000); /* a job still writing */
	if (i == 300) { /* still busy: never two compactions at once; its lines went out */
		fprintf(stderr, "brock: warning: the ledger was still being written at exit: "
				"not compacted\n");
		p->ledger_on = 0;
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->dirty = 1; /* compact */
	pthread_mutex_unlock(&p->mu);
	p->job.user = sv;
	sl_job(&p->job);
	if (p->failing)
		fprintf(stderr, "brock: warning: ledger: %s not written at exit\n", p->path);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->ledger_on = 0;
}
