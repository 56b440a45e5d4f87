/* cmd_chat: `brock chat` (SPEC section 1): one user turn to a Bedrock model
 * through ConverseStream (or Converse with --no-stream). Reply text goes to
 * stdout with write(2) the moment each delta is decoded; reasoning and tool
 * use go to stderr; the usage line goes to stderr after the reply. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "aws/aws.h"
#include "base/clock.h"
#include "cmd/cmd.h"
#include "bedrock/catalog.h"
#include "bedrock/converse.h"
#include "bedrock/discovery.h"
#include "bedrock/known.h"
#include "aws/creds.h"
#include "cmd/ctx.h"
#include "base/file.h"
#include "wire/json.h"
#include "cmd/cmd_chat_int.h"

/* ------------------------------------------------------------------------ */
/* Local input */

static int chat_read_file(const char *path, struct buf *out, struct err *e)
{
	int got;

	buf_init(out, CHAT_FILE_MAX);
	got = file_read(path, CHAT_FILE_MAX, out, e);
	if (got == 0)
		return err_set(e, ERR_OTHER, "cannot open %.300s: %s", path, strerror(ENOENT));
	return got < 0 ? -1 : 0;
}

/* The prompt: the words joined with spaces, or stdin. */
static int chat_prompt(const struct globals *g, const struct chat_opts *o, struct buf *out,
		       struct err *e)
{
	int i;

	buf_init(out, CHAT_STDIN_MAX);
	if (o->nwords == 0 || (o->nwords == 1 && strcmp(o->words[0], "-") == 0)) {
		/* someone typing at a terminal should know brock is waiting */
		if (!g->quiet && isatty(0))
			fputs("brock: reading the prompt from the terminal; end it with Ctrl-D\n",
			      stderr);
		return file_read_fd(0, CHAT_STDIN_MAX, out, "the prompt on stdin", e);
	}
	for (i = 0; i < o->nwords; i++)
		if ((i && buf_append_byte(out, ' ') < 0) || buf_append_str(out, o->words[i]) < 0)
			return err_set(e, ERR_USAGE, "the prompt is too long");
	return 0;
}

int cmd_chat_attachments(const struct chat_file *files, size_t nfiles, struct buf *data,
			 struct conv_attachment *att, struct err *e)
{
	size_t i, j;

	for (i = 0; i < nfiles; i++) {
		const char *path = files[i].path;
		struct conv_attachment *a = &att[i];

		if (chat_read_file(path, &data[i], e) < 0)
			return -1;
		a->kind = files[i].kind;
		a->data = data[i].p;
		a->n = data[i].len;
		if (a->n == 0)
			return err_set(e, ERR_USAGE, "%.300s is empty", path);
		if (a->kind == CONV_IMAGE) {
			a->format = conv_image_format(a->data, a->n);
			if (!a->format)
				return err_set(e, ERR_USAGE, "%.300s: not a png, jpeg, gif or webp image",
					       path);
			continue;
		}
		if (conv_document_format(path, a->data, a->n, &a->format, e) < 0)
			return -1;
		conv_document_name(path, a->name);
		/* Bedrock refuses two documents with one name */
		for (j = 0; j < i; j++) {
			if (att[j].kind == CONV_DOCUMENT && strcmp(att[j].name, a->name) == 0) {
				size_t n = strlen(a->name);

				if (n > CONV_NAME_MAX - 8)
					n = CONV_NAME_MAX - 8;
				snprintf(a->name + n, CONV_NAME_MAX - n, " (%zu)", i + 1);
				j = (size_t)-1; /* check again from the start */
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Output */

static int chat_write(int fd, const void *p, size_t n, struct err *e)
{
	if (file_write_all(fd, p, n) < 0)
		return err_set(e, ERR_OTHER, "writing to %s failed: %s",
			       fd == 1 ? "stdout" : "stderr", strerror(errno));
	return 0;
}

struct chat_run {
	const struct globals *g;
	struct ctx *ctx;
	struct conv_stream cs;
	int json;
	int wrote_text;
	uint8_t last_text;
	int reasoning_open; /* reasoning text on stderr without its final newline */
	int tool_open;
	int got_stop;
	char stop[64];
	struct conv_usage usage;
	int64_t t0; /* clock_ms() at the start */
};

static int chat_close_reasoning(struct chat_run *cr, struct err *e)
{
	if (!cr->reasoning_open)
		return 0;
	cr->reasoning_open = 0;
	return chat_write(2, "\n", 1, e);
}

static int chat_on_text(void *user, int index, struct slice t, struct err *e)
{
	struct chat_run *cr = user;

	(void)index;
	if (chat_close_reasoning(cr, e) < 0)
		return -1;
	cr->wrote_text = 1;
	cr->last_text = t.p[t.n - 1];
	return chat_write(1, t.p, t.n, e);
}

static int chat_on_reasoning(void *user, int index, struct slice t, struct err *e)
{
	struct chat_run *cr = user;

	(void)index;
	cr->reasoning_open = t.p[t.n - 1] != '\n';
	return chat_write(2, t.p, t.n, e);
}

static int chat_on_redacted(void *user, int index, struct slice t, struct err *e)
{
	static const char note[] = "[redacted reasoning]\n";

	(void)index;
	(void)t;
	if (chat_close_reasoning(user, e) < 0)
		return -1;
	return chat_write(2, note, sizeof note - 1, e);
}

static int chat_on_tool_start(void *user, int index, struct slice id, struct slice name,
			      struct err *e)
{
	struct chat_run *cr = user;
	char line[512];
	int n;

	(void)index;
	if (chat_close_reasoning(cr, e) < 0)
		return -1;
	n = snprintf(line, sizeof line, "[tool use: %.*s (%.*s)] ", (int)(name.n > 200 ? 200 : name.n),
		     (const char *)name.p, (int)(id.n > 200 ? 200 : id.n), (const char *)id.p);
	cr->tool_open = 1;
	return chat_write(2, line, (size_t)n, e);
}

static int chat_on_tool_input(void *user, int index, struct slice frag, struct err *e)
{
	(void)user;
	(void)index;
	return chat_write(2, frag.p, frag.n, e);
}

static int chat_on_block_stop(void *user, int index, struct err *e)
{
	struct chat_run *cr = user;

	(void)index;
	if (cr->tool_open) {
		cr->tool_open = 0;
		return chat_write(2, "\n", 1, e);
	}
	return chat_close_reasoning(cr, e);
}

static int chat_on_stop(void *user, struct slice reason, struct err *e)
{
	struct chat_run *cr = user;
	size_t k = reason.n < sizeof cr->stop - 1 ? reason.n : sizeof cr->stop - 1;

	(void)e;
	cr->got_stop = 1;
	memcpy(cr->stop, reason.p, k);
	cr->stop[k] = '\0';
	return 0;
}

static int chat_on_metadata(void *user, const struct conv_usage *u, struct err *e)
{
	struct chat_run *cr = user;

	(void)e;
	cr->usage = *u;
	return 0;
}

static int chat_on_json(void *user, struct slice line, struct err *e)
{
	(void)user;
	return chat_write(1, line.p, line.n, e);
}

/* "$0.001234": six decimals, trailing zeros dropped down to two. */
static void chat_cost(char *out, size_t n, double usd)
{
	size_t len;

	snprintf(out, n, "%.6f", usd);
	len = strlen(out);
	while (len > 0 && out[len - 1] == '0' && len >= 2 && out[len - 3] != '.')
		out[--len] = '\0';
}

static void chat_usage_line(const struct chat_run *cr, const char *model_id)
{
	const struct config_provider *pv = &cr->ctx->cfg.bedrock;
	const struct conv_usage *u = &cr->usage;
	char line[512], cost[64];
	size_t i;
	int n;
	struct err e;

	n = snprintf(line, sizeof line,
		     "in=%lld out=%lld cache_read=%lld cache_write=%lld latency=%lld stop=%s",
		     (long long)u->input_tokens, (long long)u->output_tokens,
		     (long long)u->cache_read, (long long)u->cache_write, (long long)u->latency_ms,
		     cr->stop[0] ? cr->stop : "-");
	for (i = 0; i < pv->n_models; i++) {
		const struct config_model *m = &pv->models[i];

		if (m->has_cost && strcmp(m->id, model_id) == 0) {
			double usd = ((double)u->input_tokens * m->cost.input +
				      (double)u->output_tokens * m->cost.output +
				      (double)u->cache_read * m->cost.cache_read +
				      (double)u->cache_write * m->cost.cache_write) / 1e6;

			chat_cost(cost, sizeof cost, usd);
			n += snprintf(line + n, sizeof line - (size_t)n, " cost=$%s", cost);
			break;
		}
	}
	if (n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	chat_write(2, line, (size_t)n, &e);
}

/* ------------------------------------------------------------------------ */

/* Ends a service error with the request id (SPEC 1); a message too long
 * for both is cut (at a UTF-8 boundary, marked "...") so that the id stays. */
static void chat_add_request_id(const struct aws_response *r, struct err *e)
{
	char rid[160];
	size_t n = strlen(e->msg), k;

	if (e->cls != ERR_SERVICE || !r->request_id[0] || strstr(e->msg, "(request id "))
		return;
	k = (size_t)snprintf(rid, sizeof rid, " (request id %s)", r->request_id);
	if (k >= sizeof rid)
		return;
	if (n + k >= sizeof e->msg) {
		n = sizeof e->msg - 1 - k - 3;
		while (n > 0 && ((uint8_t)e->msg[n] & 0xc0) == 0x80)
			n--;
		memcpy(e->msg + n, "...", 3);
		n += 3;
	}
	memcpy(e->msg + n, rid, k + 1);
}

static int chat_call(struct chat_run *cr, const struct chat_opts *o, const char *model_id,
		     const struct buf *body, struct err *e)
{
	struct aws_creds creds;
	struct conv_call cc;
	struct aws_response r;
	int rc;

	memset(&creds, 0, sizeof creds);
	if (creds_get(&cr->ctx->creds, &creds, e) < 0)
		return -1;
	if (cr->g->verbose)
		ctx_log(cr->ctx, "credentials from %s", creds.source);
	memset(&cc, 0, sizeof cc);
	cc.model_id = model_id;
	cc.stream = !o->no_stream;
	cc.body = body->p;
	cc.body_len = body->len;
	cc.cs = &cr->cs;
	cc.max_answer = CHAT_ANSWER_MAX;
	cc.t0_ms = cr->t0;
	rc = conv_call(&cr->ctx->aws, &creds, &cc, &r, e);
	aws_creds_wipe(&creds);
	if (rc == 0 && o->no_stream) {
		struct conv_handler h = cr->cs.h;

		rc = conv_parse_response(&h, o->json, r.body.p, r.body.len, e);
	}
	if (rc < 0)
		chat_add_request_id(&r, e);
	if (cr->g->verbose)
		ctx_log(cr->ctx, "done after %ld ms (%d attempt%s)", (long)(clock_ms() - cr->t0),
			r.attempts, r.attempts == 1 ? "" : "s");
	aws_response_free(&r);
	return rc;
}

static int chat_run_turn(const struct globals *g, const struct chat_opts *o, struct ctx *ctx,
			 const char *model_id, const struct buf *body, struct err *e)
{
	struct conv_handler h;
	struct chat_run cr;
	int rc;

	memset(&cr, 0, sizeof cr);
	cr.g = g;
	cr.ctx = ctx;
	cr.json = o->json;
	cr.t0 = clock_ms();
	memset(&h, 0, sizeof h);
	h.user = &cr;
	if (o->json) {
		h.json_line = chat_on_json;
	} else {
		h.text = chat_on_text;
		h.reasoning_text = chat_on_reasoning;
		h.reasoning_redacted = chat_on_redacted;
		h.tool_start = chat_on_tool_start;
		h.tool_input = chat_on_tool_input;
		h.block_stop = chat_on_block_stop;
	}
	h.message_stop = chat_on_stop;
	h.metadata = chat_on_metadata;
	conv_stream_init(&cr.cs, &h, o->json);
	rc = chat_call(&cr, o, model_id, body, e);
	{
		struct err e2;

		/* what was streamed stays, on a line of its own */
		chat_close_reasoning(&cr, &e2);
		if (cr.tool_open)
			chat_write(2, "\n", 1, &e2);
		if (cr.wrote_text && cr.last_text != '\n' && chat_write(1, "\n", 1, &e2) < 0 &&
		    rc == 0) {
			*e = e2;
			rc = -1;
		}
	}
	if (rc == 0 && !g->quiet)
		chat_usage_line(&cr, model_id);
	conv_stream_free(&cr.cs);
	return rc;
}

/* Zero configuration (SPEC 1): no -m and no configured model. The best
 * model discovery finds by the built-in preference order (known.h), named
 * on stderr; out stays "" when discovery found none (the caller's "no
 * model" error follows). */
int cmd_chat_pick_model(const struct globals *g, struct ctx *ctx, char *out, struct err *e)
{
	struct disc_opts o;
	struct disc_result dr;
	long best = 0;
	size_t i;

	memset(&o, 0, sizeof o);
	o.cfg = &ctx->cfg.discovery;
	o.env = &g->env;
	if (disc_run(&ctx->aws, &ctx->creds, &o, &dr, e) < 0)
		return err_wrap(e, "no model configured; model discovery");
	for (i = 0; i < dr.list.n; i++) {
		long p = known_preference(dr.list.v[i].id, ctx->aws.region);
		size_t n = strlen(dr.list.v[i].id);

		if (p > best && n <= DISC_MAX_FIELD) {
			best = p;
			memcpy(out, dr.list.v[i].id, n + 1);
		}
	}
	disc_result_free(&dr);
	if (out[0] && !g->quiet)
		fprintf(stderr, "brock: no model configured; using amazon-bedrock/%s (set "
			"agents.defaults.model.primary or pass -m)\n", out);
	return 0;
}

int cmd_chat_resolve_name(const struct globals *g, struct ctx *ctx, const char **model_id,
			  char *out, struct err *e)
{
	struct disc_opts o;
	struct disc_result dr;
	struct catalog cat;
	const struct cat_model *m;
	int rc;

	if (strchr(*model_id, '.') || strncmp(*model_id, "arn:", 4) == 0)
		return 0; /* a Bedrock model or profile id, or an ARN: sent as it is */
	memset(&o, 0, sizeof o);
	o.cfg = &ctx->cfg.discovery;
	o.env = &g->env;
	if (disc_run(&ctx->aws, &ctx->creds, &o, &dr, e) < 0)
		return err_wrap(e, "model discovery");
	rc = catalog_build(&cat, &ctx->cfg, dr.list.n ? &dr.list : NULL, e);
	if (rc == 0) {
		m = catalog_find(&cat, *model_id);
		if (!m || strlen(m->id) > DISC_MAX_FIELD)
			rc = err_set(e, ERR_USAGE,
				     "unknown model 'amazon-bedrock/%.200s': not a Bedrock model id, "
				     "and no application inference profile has that name (see "
				     "'brock models list')",
				     *model_id);
		else
			*model_id = memcpy(out, m->id, strlen(m->id) + 1);
		catalog_free(&cat);
	}
	disc_result_free(&dr);
	return rc;
}

/* The feature flags, over the config defaults bedrock.* (SPEC 3.5). */
static void chat_features(const struct chat_opts *o, const struct config *cfg,
			  struct conv_request *rq)
{
	const struct config_features *f = &cfg->features;

	rq->cache = o->cache;
	rq->cache_ttl = o->cache_ttl;
	rq->service_tier = o->service_tier ? o->service_tier : f->service_tier;
	rq->latency = o->latency ? o->latency : f->latency;
	rq->guardrail_id = o->guardrail ? o->guardrail : f->guardrail_id;
	rq->guardrail_version = o->guardrail_version ? o->guardrail_version
				: f->guardrail_version ? f->guardrail_version
						       : NULL;
	rq->guardrail_trace = rq->guardrail_id && (o->json || f->guardrail_trace);
	if (o->nmeta) {
		rq->meta_keys = o->meta_keys;
		rq->meta_values = o->meta_values;
		rq->nmeta = o->nmeta;
	} else {
		rq->meta_keys = (const char *const *)f->meta_keys;
		rq->meta_values = (const char *const *)f->meta_values;
		rq->nmeta = f->n_meta;
	}
	rq->extra = o->extra;
}

/* The turn failed because the thinking shape sent was enabled+budget on a
 * model that takes only adaptive thinking (SPEC 3.5): Bedrock's
 * ValidationException names "thinking.type.adaptive". Nothing was streamed
 * (the refusal comes before the stream). */
static int chat_wants_adaptive(const struct conv_request *rq, const struct err *e)
{
	if (e->cls != ERR_SERVICE || (!rq->thinking && !rq->effort))
		return 0;
	if (rq->thinking_shape == KNOWN_THINK_ADAPTIVE ||
	    known_thinking(rq->model_id) == KNOWN_THINK_ADAPTIVE)
		return 0;
	return strstr(e->msg, "ValidationException") && strstr(e->msg, "thinking.type.adaptive");
}

/* The Converse request of this turn: the prompt, attachments and options. */
static void chat_request(struct conv_request *rq, const struct chat_opts *o, const char *model_id,
			 const struct buf *prompt, const struct conv_attachment *att,
			 const struct config *cfg)
{
	memset(rq, 0, sizeof *rq);
	rq->model_id = model_id;
	rq->system = o->system;
	rq->text = prompt->p;
	rq->text_len = prompt->len;
	rq->att = att;
	rq->natt = o->nfiles;
	rq->max_tokens = o->max_tokens;
	rq->has_temperature = o->has_temperature;
	rq->temperature = o->temperature;
	rq->has_top_p = o->has_top_p;
	rq->top_p = o->top_p;
	rq->stop = o->stop;
	rq->nstop = o->nstop;
	rq->thinking = o->thinking;
	rq->effort = o->effort;
	chat_features(o, cfg, rq);
}

int cmd_chat(const struct globals *g, int argc, char **argv, struct err *e)
{
	struct buf prompt, body, files[CHAT_MAX_ATT];
	struct conv_attachment att[CHAT_MAX_ATT];
	struct conv_request rq;
	struct chat_opts o;
	struct ctx ctx;
	const char *model_id = NULL;
	char picked[DISC_MAX_FIELD + 1] = "", named[DISC_MAX_FIELD + 1];
	size_t i;
	int rc = -1, opened = 0;

	if (cmd_chat_args(&o, argc, argv, e) < 0)
		return -1;
	if (o.help) {
		fputs(cmd_chat_usage, stdout);
		return 0;
	}
	buf_init(&prompt, CHAT_STDIN_MAX);
	buf_init(&body, CHAT_BODY_MAX);
	for (i = 0; i < CHAT_MAX_ATT; i++)
		buf_init(&files[i], CHAT_FILE_MAX);
	memset(att, 0, sizeof att);
	/* a bad model ref given on the command line fails before any I/O */
	if (o.model && cmd_chat_model_id(o.model, &model_id, e) < 0)
		goto out;
	if (ctx_open(&ctx, g, e) < 0)
		goto out;
	opened = 1;
	if (!o.model && (!ctx.cfg.primary_model || !ctx.cfg.primary_model[0]) &&
	    cmd_chat_pick_model(g, &ctx, picked, e) < 0)
		goto out;
	if (!o.model && cmd_chat_model_id(picked[0] ? picked : ctx.cfg.primary_model, &model_id, e) < 0)
		goto out;
	if (cmd_chat_resolve_name(g, &ctx, &model_id, named, e) < 0)
		goto out;
	ctx.aws.opts.io_timeout_ms = (int)(o.timeout * 1000.0 + 0.5);
	if (ctx.aws.opts.io_timeout_ms < 1)
		ctx.aws.opts.io_timeout_ms = 1;
	ctx.aws.opts.connect_timeout_ms = ctx.aws.opts.io_timeout_ms < CONN_CONNECT_TIMEOUT_MS
						  ? ctx.aws.opts.io_timeout_ms
						  : CONN_CONNECT_TIMEOUT_MS;
	if (cmd_chat_attachments(o.files, o.nfiles, files, att, e) < 0 || chat_prompt(g, &o, &prompt, e) < 0)
		goto out;
	chat_request(&rq, &o, model_id, &prompt, att, &ctx.cfg);
	if (conv_build_body(&rq, &body, e) < 0)
		goto out;
	if (g->verbose)
		ctx_log(&ctx, "model %s, request body %zu bytes", model_id, body.len);
	rc = chat_run_turn(g, &o, &ctx, model_id, &body, e);
	if (rc < 0 && chat_wants_adaptive(&rq, e)) {
		/* Bedrock named adaptive thinking: the model takes only that shape */
		if (g->verbose)
			ctx_log(&ctx, "the model takes adaptive thinking only; sending it again");
		rq.thinking_shape = KNOWN_THINK_ADAPTIVE;
		body.len = 0;
		if (conv_build_body(&rq, &body, e) < 0)
			goto out;
		rc = chat_run_turn(g, &o, &ctx, model_id, &body, e);
	}
out:
	if (opened)
		ctx_close(&ctx);
	buf_free(&prompt);
	buf_free(&body);
	for (i = 0; i < CHAT_MAX_ATT; i++)
		buf_free(&files[i]);
	return rc;
}
