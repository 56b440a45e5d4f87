/* cmd_serve_policy: the per-key policy of the gateway (SPEC 7.4): which
 * models a key may use, its rpm / tpm / maxConcurrent limits and budget,
 * model aliases and fallbacks, and the per-key metrics. The arithmetic is
 * bedrock/policy.c; the ledger file cmd_serve_ledger.c; the order in which
 * routes call this is in serve.h.
 *
 * State: one serve_kstate per key name, kept for the process's life (at
 * most SERVE_KSTATES_MAX names), so a reload keeps the windows, the
 * concurrency count and the spend of the names that stay, and a request
 * may keep a pointer to its key's state. One mutex (pol.mu) guards it all:
 * each operation is a few comparisons and additions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "bedrock/catalog.h"
#include "cmd/serve.h"

static const char *const serve_refuse_reasons[5] = {"model", "rpm", "tpm", "concurrency",
						    "budget"};

/* Histogram bounds, seconds, as cmd_serve_obs.c's. */
static const double pol_buckets[SERVE_NBUCKETS] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};

int cmd_serve_policy_init(struct serve *sv, struct err *e)
{
	struct serve_pol *p = &sv->pol;

	pthread_mutex_init(&p->mu, NULL);
	p->fd = -1;
	buf_init(&p->pending, 1u << 20);
	p->pairs = calloc(SERVE_PAIRS_MAX, sizeof *p->pairs);
	if (!p->pairs)
		return err_set(e, ERR_OTHER, "out of memory");
	return 0;
}

void cmd_serve_policy_free(struct serve *sv)
{
	struct serve_pol *p = &sv->pol;
	size_t i;

	for (i = 0; i < p->nks; i++)
		free(p->ks[i]);
	free(p->pairs);
	ledger_free(&p->led);
	buf_free(&p->pending);
	pthread_mutex_destroy(&p->mu);
}

/* ---- keys and their states ---- */

/* Under mu: the spend of ks's current day and month, from the ledger. */
static void pol_roll(struct serve_pol *p, struct serve_kstate *ks, int64_t t)
{
	int64_t day = policy_period_start(t, POLICY_DAY);
	int64_t month = policy_period_start(t, POLICY_MONTH);
	struct ledger_rec s;

	if (ks->day == day && ks->month == month)
		return;
	ks->day = day;
	ks->month = month;
	ledger_sum(&p->led, ks->name, day, day, &s);
	ks->day_nanos = s.nanos;
	ledger_sum(&p->led, ks->name, month, day, &s);
	ks->month_nanos = s.nanos;
}

static struct serve_kstate *pol_state(struct serve_pol *p, const char *name, struct err *e)
{
	struct serve_kstate *ks;
	size_t i;

	for (i = 0; i < p->nks; i++)
		if (strcmp(p->ks[i]->name, name) == 0)
			return p->ks[i];
	if (p->nks == SERVE_KSTATES_MAX) {
		err_set(e, ERR_USAGE, "more than %d key names since the start: restart brock serve",
			SERVE_KSTATES_MAX);
		return NULL;
	}
	ks = calloc(1, sizeof *ks);
	if (!ks) {
		err_set(e, ERR_OTHER, "out of memory");
		return NULL;
	}
	snprintf(ks->name, sizeof ks->name, "%s", name);
	ks->day = ks->month = INT64_MIN;
	p->ks[p->nks++] = ks;
	return ks;
}

int cmd_serve_keys_install(struct serve *sv, struct serve_keys *k, struct err *e)
{
	struct serve_pol *p = &sv->pol;
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	for (i = 0; i < k->n && rc == 0; i++)
		if (!(k->k[i].ks = pol_state(p, k->k[i].name, e)))
			rc = -1;
	if (rc == 0) {
		for (i = 0; i < p->nks; i++)
			p->ks[i]->active = 0;
		for (i = 0; i < k->n; i++) {
			k->k[i].ks->pol = k->k[i].pol;
			k->k[i].ks->active = 1;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/* ---- aliases and fallbacks ---- */

/* Under cfg_mu: the id name stands for (its alias's target, or itself
 * without "amazon-bedrock/"); *hit says whether it was an alias. */
static const char *pol_model_id(const struct config *cfg, const char *name, int *hit)
{
	size_t i;

	for (i = 0; i < cfg->n_serve_aliases; i++)
		if (strcmp(cfg->serve_aliases[i].name, name) == 0) {
			*hit = 1;
			return catalog_ref_id(cfg->serve_aliases[i].ref);
		}
	*hit = 0;
	return catalog_ref_id(name);
}

int cmd_serve_resolve(struct serve *sv, const char *name, char *out)
{
	int hit;

	pthread_rwlock_rdlock(&sv->cfg_mu);
	snprintf(out, SERVE_MODEL_MAX, "%s", pol_model_id(&sv->ctx.cfg, name, &hit));
	pthread_rwlock_unlock(&sv->cfg_mu);
	return hit;
}

int cmd_serve_fallback_worthy(int status)
{
	return status == 429 || (status >= 500 && status <= 599);
}

static int pol_allowed(struct serve *sv, const struct serve_req *q, const char *id)
{
	int ok = 1;

	if (!q || !q->ks)
		return 1;
	pthread_mutex_lock(&sv->pol.mu);
	ok = policy_model_allowed(q->ks->pol.globs, q->ks->pol.globs_len, id);
	pthread_mutex_unlock(&sv->pol.mu);
	return ok;
}

size_t cmd_serve_fallbacks(struct serve *sv, const struct serve_req *q, const char *model_id,
			   char (*out)[SERVE_MODEL_MAX], size_t max)
{
	const struct config *cfg = &sv->ctx.cfg;
	char to[CONFIG_FALLBACKS_MAX][SERVE_MODEL_MAX];
	size_t i, j, n = 0, k = 0;
	int hit;

	/* the entry of the model, named by its id, its ref or an alias of it */
	pthread_rwlock_rdlock(&sv->cfg_mu);
	for (i = 0; i < cfg->n_serve_fallbacks; i++) {
		const struct config_fallback *f = &cfg->serve_fallbacks[i];

		if (strcmp(pol_model_id(cfg, f->model, &hit), model_id) != 0)
			continue;
		for (j = 0; j < f->n_to && n < CONFIG_FALLBACKS_MAX; j++)
			snprintf(to[n++], SERVE_MODEL_MAX, "%s", pol_model_id(cfg, f->to[j], &hit));
		break;
	}
	pthread_rwlock_unlock(&sv->cfg_mu);
	for (i = 0; i < n && k < max; i++) {
		const char *id = to[i];

		if (!id[0] || strcmp(id, model_id) == 0 || !pol_allowed(sv, q, id))
			continue;
		for (j = 0; j < k && strcmp(out[j], id) != 0; j++)
			;
		if (j == k)
			snprintf(out[k++], SERVE_MODEL_MAX, "%.*s", SERVE_MODEL_MAX - 1, id);
	}
	return k;
}

/* ---- admission ---- */

static void pol_refuse(struct serve_refusal *r, int status, int reason, const char *type,
		       const char *code, int64_t retry)
{
	r->status = status;
	r->reason = reason >= 0 ? serve_refuse_reasons[reason] : "key";
	r->type = type;
	r->code = code;
	r->retry_after = (long)retry;
}

/* Under mu: the limits of ks at time now (clock seconds) and t (UTC);
 * model_id NULL: all but the model globs. */
static int pol_check(struct serve_kstate *ks, const char *model_id, int64_t now, int64_t t,
		     struct serve_refusal *r)
{
	const struct serve_policy *pol = &ks->pol;
	const char *n = ks->name;

	if (!ks->active) {
		pol_refuse(r, 401, -1, "invalid_request_error", "invalid_api_key", 0);
		snprintf(r->msg, sizeof r->msg, "The API key '%s' is no longer configured", n);
	} else if (model_id && !policy_model_allowed(pol->globs, pol->globs_len, model_id)) {
		pol_refuse(r, 403, 0, "permission_error", "model_not_allowed", 0);
		snprintf(r->msg, sizeof r->msg, "The API key '%s' may not use the model '%.150s'", n,
			 model_id);
	} else if (pol->rpm > 0 && policy_window_sum(&ks->req, now) >= pol->rpm) {
		pol_refuse(r, 429, 1, "requests", "rate_limit_exceeded",
			   policy_window_wait(&ks->req, now, pol->rpm));
		snprintf(r->msg, sizeof r->msg,
			 "Rate limit reached for key '%s': %lld requests per minute", n, pol->rpm);
	} else if (pol->tpm > 0 && policy_window_sum(&ks->tok, now) >= pol->tpm) {
		pol_refuse(r, 429, 2, "tokens", "rate_limit_exceeded",
			   policy_window_wait(&ks->tok, now, pol->tpm));
		snprintf(r->msg, sizeof r->msg,
			 "Rate limit reached for key '%s': %lld tokens per minute", n, pol->tpm);
	} else if (pol->max_concurrent > 0 && ks->inflight >= pol->max_concurrent) {
		pol_refuse(r, 429, 3, "requests", "rate_limit_exceeded", 1);
		snprintf(r->msg, sizeof r->msg,
			 "Rate limit reached for key '%s': %lld requests at a time", n,
			 pol->max_concurrent);
	} else if (pol->has_budget &&
		   (pol->budget_month ? ks->month_nanos : ks->day_nanos) >= pol->budget_nanos) {
		pol_refuse(r, 429, 4, "insufficient_quota", "insufficient_quota",
			   policy_period_left(t, pol->budget_month ? POLICY_MONTH : POLICY_DAY));
		snprintf(r->msg, sizeof r->msg,
			 "The API key '%s' has used its budget for this %s", n,
			 pol->budget_month ? "month (UTC)" : "day (UTC)");
	} else {
		return 0;
	}
	return -1;
}

static void pol_count_refusal(struct serve_kstate *ks, const struct serve_refusal *r)
{
	size_t i;

	for (i = 0; i < 5 && r->status != 401; i++)
		if (strcmp(r->reason, serve_refuse_reasons[i]) == 0)
			ks->refused[i]++;
}

int cmd_serve_precheck(struct serve *sv, struct serve_req *q, struct serve_refusal *r)
{
	int rc;

	memset(r, 0, sizeof *r);
	if (!q || !q->ks)
		return 0;
	pthread_mutex_lock(&sv->pol.mu);
	pol_roll(&sv->pol, q->ks, (int64_t)time(NULL));
	rc = pol_check(q->ks, NULL, clock_ms() / 1000, (int64_t)time(NULL), r);
	if (rc < 0)
		pol_count_refusal(q->ks, r);
	pthread_mutex_unlock(&sv->pol.mu);
	return rc;
}

int cmd_serve_admit(struct serve *sv, struct serve_req *q, const char *model_id,
		    struct serve_refusal *r)
{
	struct serve_kstate *ks = q ? q->ks : NULL;
	int64_t now = clock_ms() / 1000, t = (int64_t)time(NULL);
	int rc;

	memset(r, 0, sizeof *r);
	if (!ks) {
		if (q)
			q->admitted = 1;
		return 0;
	}
	pthread_mutex_lock(&sv->pol.mu);
	pol_roll(&sv->pol, ks, t);
	rc = pol_check(ks, model_id, now, t, r);
	if (rc == 0) {
		policy_window_add(&ks->req, now, 1);
		ks->inflight++;
		q->admitted = 1;
		q->released = 0;
	} else {
		pol_count_refusal(ks, r);
	}
	pthread_mutex_unlock(&sv->pol.mu);
	return rc;
}

void cmd_serve_refuse(struct server_conn *c, const struct serve_refusal *r)
{
	char extra[64] = "";

	if (r->retry_after > 0)
		snprintf(extra, sizeof extra, "Retry-After: %ld\r\n", r->retry_after);
	cmd_serve_error(c, r->status, r->type, r->status == 403 ? "model" : NULL, r->code, r->msg,
			extra[0] ? extra : NULL);
}

void cmd_serve_release(struct serve *sv, struct serve_req *q)
{
	if (!q || !q->admitted || q->released)
		return;
	q->released = 1;
	if (!q->ks)
		return;
	pthread_mutex_lock(&sv->pol.mu);
	if (q->ks->inflight > 0)
		q->ks->inflight--;
	pthread_mutex_unlock(&sv->pol.mu);
}

int cmd_serve_key_admin(struct serve *sv, const struct serve_req *q)
{
	int admin;

	if (!q || !q->ks)
		return sv->loopback_only;
	pthread_mutex_lock(&sv->pol.mu);
	admin = q->ks->active && q->ks->pol.admin;
	pthread_mutex_unlock(&sv->pol.mu);
	return admin;
}

/* ---- charges and the per-key metrics ---- */

/* Under mu: the row of (ks, model), created while there is room. */
static struct serve_pair *pol_pair(struct serve_pol *p, const struct serve_kstate *ks,
				   const char *model)
{
	struct serve_pair *x;
	char m[SERVE_LOG_MODEL]; /* rows keep the id as the log does: cut */
	size_t i;

	snprintf(m, sizeof m, "%.*s", (int)sizeof m - 1, model);
	for (i = 0; i < p->npairs; i++)
		if (p->pairs[i].ks == ks && strcmp(p->pairs[i].model, m) == 0)
			return &p->pairs[i];
	if (p->npairs == SERVE_PAIRS_MAX)
		return NULL;
	x = &p->pairs[p->npairs++];
	memset(x, 0, sizeof *x);
	x->ks = ks;
	memcpy(x->model, m, sizeof m);
	return x;
}

/* The configured cost of model_id (models.providers["amazon-bedrock"]),
 * in nano-dollars; 0 when the model has none. */
static int64_t pol_cost(struct serve *sv, const char *model_id, const struct conv_usage *u)
{
	const struct config_provider *pv = &sv->ctx.cfg.bedrock;
	int64_t nanos = 0;
	size_t i;

	pthread_rwlock_rdlock(&sv->cfg_mu);
	for (i = 0; i < pv->n_models; i++)
		if (pv->models[i].has_cost && strcmp(catalog_ref_id(pv->models[i].id), model_id) == 0) {
			nanos = policy_cost_nanos(&pv->models[i].cost, u);
			break;
		}
	pthread_rwlock_unlock(&sv->cfg_mu);
	return nanos;
}

static int64_t pol_pos(int64_t v)
{
	return v > 0 ? v : 0;
}

void cmd_serve_charge(struct serve *sv, struct serve_req *q, const char *model_id,
		      const struct conv_usage *u)
{
	struct serve_pol *p = &sv->pol;
	struct serve_kstate *ks = q ? q->ks : NULL;
	int64_t nanos, tokens, t = (int64_t)time(NULL);
	struct serve_pair *x;

	if (!u || !u->has_usage || !model_id[0])
		return;
	nanos = pol_cost(sv, model_id, u);
	tokens = pol_pos(u->input_tokens) + pol_pos(u->output_tokens); /* tpm: SPEC 7.4 */
	pthread_mutex_lock(&p->mu);
	if (ks) {
		struct ledger_rec r;

		policy_window_add(&ks->tok, clock_ms() / 1000, tokens);
		pol_roll(p, ks, t);
		ks->day_nanos += nanos;
		ks->month_nanos += nanos;
		memset(&r, 0, sizeof r);
		r.day = ks->day;
		memcpy(r.name, ks->name, sizeof r.name);
		r.requests = 1;
		r.in = pol_pos(u->input_tokens);
		r.out = pol_pos(u->output_tokens);
		r.cache_read = pol_pos(u->cache_read);
		r.cache_write = pol_pos(u->cache_write);
		r.nanos = nanos;
		cmd_serve_ledger_add(sv, &r);
	}
	if ((x = pol_pair(p, ks, model_id)) != NULL) {
		x->in += (unsigned long long)pol_pos(u->input_tokens);
		x->out += (unsigned long long)pol_pos(u->output_tokens);
		x->cache_read += (unsigned long long)pol_pos(u->cache_read);
		x->cache_write += (unsigned long long)pol_pos(u->cache_write);
		x->nanos += nanos;
	}
	pthread_mutex_unlock(&p->mu);
}

void cmd_serve_count_fallback(struct serve *sv, const struct serve_req *q, const char *from)
{
	struct serve_pair *x;

	pthread_mutex_lock(&sv->pol.mu);
	if ((x = pol_pair(&sv->pol, q ? q->ks : NULL, from)) != NULL)
		x->fallbacks++;
	pthread_mutex_unlock(&sv->pol.mu);
}

void cmd_serve_policy_done(struct serve *sv, struct serve_req *q, int status)
{
	struct serve_pair *x;
	size_t i;

	cmd_serve_release(sv, q);
	if (!q || !q->model[0])
		return;
	pthread_mutex_lock(&sv->pol.mu);
	x = pol_pair(&sv->pol, q->ks, q->model);
	for (i = 0; x && i < SERVE_PAIR_CODES; i++) {
		if (x->codes[i].code != status && x->codes[i].n)
			continue;
		x->codes[i].code = status;
		x->codes[i].n++;
		break;
	}
	if (x && q->ttft_ms >= 0) {
		double s = (double)q->ttft_ms / 1e3;

		for (i = 0; i < SERVE_NBUCKETS; i++)
			if (s <= pol_buckets[i])
				x->ttft_bucket[i]++;
		x->ttft_count++;
		x->ttft_sum += s;
	}
	pthread_mutex_unlock(&sv->pol.mu);
}

/* A label value: control characters escaped, '"' and '\' replaced. */
static void pol_label(const char *in, char *out, size_t n)
{
	char *c;

	ctx_log_escape(in, strlen(in), out, n);
	for (c = out; *c; c++)
		if (*c == '"' || *c == '\\')
			*c = '_';
}

/* One family's samples of row x (the families are written one after the
 * other, each with all its rows, as the text format wants). */
static int pol_metrics_pair(const struct serve_pair *x, int family, struct buf *o)
{
	char model[SERVE_LOG_MODEL * 6], lab[SERVE_LOG_MODEL * 6 + 100];
	size_t i;
	int r = 0;

	pol_label(x->model, model, sizeof model);
	snprintf(lab, sizeof lab, "key=\"%s\",model=\"%s\"", x->ks ? x->ks->name : "", model);
	switch (family) {
	case 0:
		for (i = 0; i < SERVE_PAIR_CODES && x->codes[i].n; i++)
			r |= buf_appendf(o, "brock_key_requests_total{%s,code=\"%d\"} %llu\n", lab,
					 x->codes[i].code, x->codes[i].n);
		return r;
	case 1:
		return buf_appendf(o,
				   "brock_key_tokens_total{%s,type=\"input\"} %llu\n"
				   "brock_key_tokens_total{%s,type=\"output\"} %llu\n"
				   "brock_key_tokens_total{%s,type=\"cache_read\"} %llu\n"
				   "brock_key_tokens_total{%s,type=\"cache_write\"} %llu\n",
				   lab, x->in, lab, x->out, lab, x->cache_read, lab, x->cache_write);
	case 2:
		return buf_appendf(o, "brock_key_spend_usd_total{%s} %.9f\n", lab,
				   (double)x->nanos / 1e9);
	case 3:
		return x->fallbacks ? buf_appendf(o, "brock_fallbacks_total{%s} %llu\n", lab,
						  x->fallbacks)
				    : 0;
	default:
		break;
	}
	if (!x->ttft_count)
		return 0;
	for (i = 0; i < SERVE_NBUCKETS; i++)
		r |= buf_appendf(o, "brock_key_time_to_first_token_seconds_bucket{%s,le=\"%g\"} %llu\n",
				 lab, pol_buckets[i], x->ttft_bucket[i]);
	r |= buf_appendf(o,
			 "brock_key_time_to_first_token_seconds_bucket{%s,le=\"+Inf\"} %llu\n"
			 "brock_key_time_to_first_token_seconds_sum{%s} %.6f\n"
			 "brock_key_time_to_first_token_seconds_count{%s} %llu\n",
			 lab, x->ttft_count, lab, x->ttft_sum, lab, x->ttft_count);
	return r;
}

static int pol_metrics_keys(struct serve_pol *p, int family, struct buf *o)
{
	int64_t t = (int64_t)time(NULL);
	size_t i, j;
	int r = 0;

	for (i = 0; i < p->nks; i++) {
		struct serve_kstate *ks = p->ks[i];

		if (family == 0) {
			for (j = 0; j < 5; j++)
				if (ks->refused[j])
					r |= buf_appendf(o, "brock_key_refused_total{key=\"%s\","
							 "reason=\"%s\"} %llu\n", ks->name,
							 serve_refuse_reasons[j], ks->refused[j]);
			continue;
		}
		if (!ks->active)
			continue;
		pol_roll(p, ks, t);
		if (family == 1)
			r |= buf_appendf(o, "brock_key_spend_period_usd{key=\"%s\",period=\"day\"} "
					 "%.9f\nbrock_key_spend_period_usd{key=\"%s\","
					 "period=\"month\"} %.9f\n", ks->name,
					 (double)ks->day_nanos / 1e9, ks->name,
					 (double)ks->month_nanos / 1e9);
		else if (family == 2)
			r |= buf_appendf(o, "brock_key_inflight{key=\"%s\"} %ld\n", ks->name,
					 ks->inflight);
		else if (ks->pol.has_budget)
			r |= buf_appendf(o, "brock_key_budget_usd{key=\"%s\",period=\"%s\"} %.9f\n",
					 ks->name, ks->pol.budget_month ? "month" : "day",
					 (double)ks->pol.budget_nanos / 1e9);
	}
	return r;
}

static const char *const pol_family_help[5] = {
	"brock_key_requests_total Model requests by key name, model and status code.\n"
	"# TYPE brock_key_requests_total counter",
	"brock_key_tokens_total Tokens by key name, model and type.\n"
	"# TYPE brock_key_tokens_total counter",
	"brock_key_spend_usd_total Spend by key name and model (the configured model costs).\n"
	"# TYPE brock_key_spend_usd_total counter",
	"brock_fallbacks_total Fallbacks taken, by key name and the model that failed.\n"
	"# TYPE brock_fallbacks_total counter",
	"brock_key_time_to_first_token_seconds From the complete request to the first "
	"streamed byte, by key name and model.\n"
	"# TYPE brock_key_time_to_first_token_seconds histogram",
};

static const char *const pol_keys_help[4] = {
	"brock_key_refused_total Requests a key's policy refused, by reason (model rpm tpm "
	"concurrency budget).\n# TYPE brock_key_refused_total counter",
	"brock_key_spend_period_usd Spend of the current UTC day and month (the ledger's).\n"
	"# TYPE brock_key_spend_period_usd gauge",
	"brock_key_inflight Requests of a key being answered.\n# TYPE brock_key_inflight gauge",
	"brock_key_budget_usd A key's budget per period.\n# TYPE brock_key_budget_usd gauge",
};

int cmd_serve_policy_metrics(struct serve *sv, struct buf *o)
{
	struct serve_pol *p = &sv->pol;
	size_t i;
	int f, r = 0;

	pthread_mutex_lock(&p->mu);
	for (f = 0; f < 5; f++) {
		r |= buf_appendf(o, "# HELP %s\n", pol_family_help[f]);
		for (i = 0; i < p->npairs; i++)
			r |= pol_metrics_pair(&p->pairs[i], f, o);
	}
	for (f = 0; f < 4; f++) {
		r |= buf_appendf(o, "# HELP %s\n", pol_keys_help[f]);
		r |= pol_metrics_keys(p, f, o);
	}
	pthread_mutex_unlock(&p->mu);
	return r ? -1 : 0;
}
