/* cmd_serve_status: GET /status, the operator's page (SPEC 7.5), and
 * GET /status.json, the data it shows: uptime, open streams and
 * connections, API requests and errors per minute over the last hour (a
 * ring of 60 minutes in the serve metrics), tokens and spend by key and by
 * model, time-to-first-token percentiles (from the /metrics histogram),
 * upstream errors by type, and the credentials' source and expiry (from the
 * background check, so the loop never waits on a refresh).
 *
 * The page is one self-contained document (inline CSS and script, no
 * external asset) that fetches status.json every 5 s and renders it with
 * textContent, so no value from the data is ever parsed as markup. Access:
 * a key with admin: true (cmd_serve_key_admin), or anyone on loopback when
 * no keys are configured (the Host and Origin gate has run). A browser
 * cannot send a bearer key on its own: the key is also taken as the
 * password of HTTP Basic authentication, and the 401 asks for it. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/base64.h"
#include "base/clock.h"
#include "base/timefmt.h"
#include "cmd/serve.h"
#include "wire/json.h"

#include "version.h" /* build/gen, written by vendor/version.sh */

/* The page (edit it here; keep it a few KiB), in pieces of under 4095
 * bytes, the longest string literal C11 promises. */
static const char *const status_page[] = {
	"<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content=\"width=device-width\">\n"
	"<title>brock status</title>\n"
	"<style>\n"
	"body{font:14px system-ui,sans-serif;font-variant-numeric:tabular-nums;margin:0;background:#f3f4f6;color:#1f2937}\n"
	"header{background:#1f2937;color:#fff;padding:10px 20px;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}\n"
	"h1{font-size:20px;margin:0}\n"
	"main{padding:16px;display:grid;gap:16px;grid-template-columns:repeat(auto-fit,minmax(340px,1fr))}\n"
	".w{grid-column:1/-1}.w2{grid-column:span 2}\n"
	"section{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 3px #0002}\n"
	"h2{font-size:12px;text-transform:uppercase;color:#6b7280;margin:0 0 8px}\n"
	".t{display:flex;gap:28px;flex-wrap:wrap}\n"
	".t b{display:block;font-size:30px}\n"
	".t span,small{color:#6b7280;font-size:12px}\n"
	"table{border-collapse:collapse;width:100%}\n"
	"td,th{padding:3px 6px;text-align:right}th{color:#6b7280;font-weight:500}\n"
	"td:first-child,th:first-child{text-align:left;word-break:break-all}\n"
	"tr+tr td{border-top:1px solid #eee}\n"
	"svg{width:100%;height:110px;display:block;border-bottom:1px solid #9ca3af}\n"
	".ax{display:flex;justify-content:space-between}\n"
	".ok{color:#4ade80}.warn{color:#fbbf24}.bad{color:#f87171}\n"
	"</style>\n"
	"<header><h1>brock</h1><span id=ver></span><span>up <b id=up>-</b></span><span>credentials <b id=cred>-</b></span><span id=msg class=bad></span></header>\n"
	"<main>\n",
	"<section class=w><h2>Now</h2><div class=t>\n"
	"<div><b id=streams>-</b><span>open streams</span></div>\n"
	"<div><b id=conns>-</b><span>open connections</span></div>\n"
	"<div><b id=rpm>-</b><span>requests this minute</span></div>\n"
	"<div><b id=epm>-</b><span>errors this minute</span></div>\n"
	"<div><b id=total>-</b><span>requests since start</span></div>\n"
	"<div><b id=errors>-</b><span>errors since start</span></div>\n"
	"<div><b id=tin>-</b><span>tokens in</span></div>\n"
	"<div><b id=tout>-</b><span>tokens out</span></div>\n"
	"</div></section>\n"
	"<section class=w2><h2>Requests per minute, last hour</h2><svg id=chart viewBox=\"0 0 600 100\" preserveAspectRatio=none></svg>\n"
	"<small class=ax><span>60 min ago</span><span><span style=color:#60a5fa>&#9632;</span> requests <span style=color:#ef4444>&#9632;</span> errors, peak <b id=peak>-</b>/min</span><span>now</span></small></section>\n"
	"<section><h2>Time to first token</h2><div class=t>\n"
	"<div><b id=p50>-</b><span>p50</span></div><div><b id=p90>-</b><span>p90</span></div>\n"
	"<div><b id=p99>-</b><span>p99</span></div><div><b id=mean>-</b><span>mean</span></div>\n"
	"</div><small><b id=ttftn>-</b> streams; percentiles are bucket bounds</small></section>\n"
	"<section class=w2><h2>Tokens and spend by model</h2><table id=models></table></section>\n"
	"<section><h2>Tokens and spend by key</h2><table id=keys></table></section>\n"
	"<section><h2>Upstream errors</h2><table id=uperr></table></section>\n"
	"</main>\n",
	"<script>\n"
	"const $=i=>document.getElementById(i),N=n=>n==null?'-':n.toLocaleString('en-US'),\n"
	"U=x=>x==null?'-':'$'+x.toFixed(x<10?4:2),\n"
	"M=x=>x<1?Math.round(x*1e3)+' ms':x.toFixed(2)+' s',S=(x,n)=>x!=null?'\\u2264 '+M(x):n?'> 120 s':'-',\n"
	"D=s=>{const d=s/86400|0,h=s/3600%24|0,m=s/60%60|0;return d?d+'d '+h+'h':h?h+'h '+m+'m':m+'m '+s%60+'s'};\n"
	"function tab(id,head,rows){const t=$(id);t.replaceChildren();let r=t.insertRow();\n"
	"for(const h of head){const c=document.createElement('th');c.textContent=h;r.append(c)}\n"
	"for(const x of rows){r=t.insertRow();for(const v of x)r.insertCell().textContent=v}\n"
	"if(!rows.length){const c=t.insertRow().insertCell();c.colSpan=head.length;c.textContent='none yet'}}\n"
	"function bars(q,e){const m=Math.max(1,...q);let h='';q.forEach((v,i)=>[[+v,'#60a5fa'],[+e[i],'#ef4444']].forEach(([n,f])=>{\n"
	"if(n)h+=`<rect x=${i*10+1} width=8 y=${100-n/m*96} height=${n/m*96} fill=${f}><title>${59-i} min ago: ${n}</title></rect>`}));\n"
	"$('chart').innerHTML=h;$('peak').textContent=N(Math.max(...q))}\n"
	"function show(s){const q=s.per_minute.requests,e=s.per_minute.errors,c=s.credentials,t=s.ttft;\n"
	"$('ver').textContent='v'+s.version+' · '+s.region;$('up').textContent=D(s.uptime_s);\n"
	"$('streams').textContent=N(s.streams.open);$('conns').textContent=N(s.connections.open);\n"
	"$('rpm').textContent=N(q[59]);$('epm').textContent=N(e[59]);$('total').textContent=N(s.requests.total);$('errors').textContent=N(s.requests.errors);\n"
	"$('tin').textContent=N(s.tokens.input);$('tout').textContent=N(s.tokens.output);\n"
	"bars(q,e);for(const k of['p50','p90','p99'])$(k).textContent=S(t[k],t.count);$('mean').textContent=t.mean==null?'-':M(t.mean);$('ttftn').textContent=N(t.count);\n"
	"tab('models',['model','requests','input','output','spend'],s.models.map(m=>[m.model,N(m.requests),N(m.input),N(m.output),U(m.usd)]));\n"
	"tab('keys',['key','requests','input','output','spend'],s.keys.map(k=>[k.key,N(k.requests),N(k.input),N(k.output),U(k.usd)]));\n"
	"tab('uperr',['type','count'],s.upstream_errors.map(u=>[u.type,N(u.count)]));\n"
	"const x=$('cred'),l=c.expires_in_s;x.textContent=!c.checked?'checking':c.error?'none: '+c.error:c.source+(l==null?', no expiry':', expires in '+D(Math.max(l,0)));\n"
	"x.className=!c.checked?'':c.error||l!=null&&l<300?'bad':l!=null&&l<3600?'warn':'ok';document.body.dataset.at=s.now}\n"
	"async function tick(){try{const r=await fetch(location.origin+'/status.json',{cache:'no-store'});if(!r.ok)throw Error('HTTP '+r.status);show(await r.json());$('msg').textContent=''}\n"
	"catch(e){$('msg').textContent='no data: '+e.message}}\n"
	"tick();setInterval(tick,5000)\n"
	"</script>\n",
};

#define STATUS_JSON_MAX (256u << 10)
#define STATUS_CSP                                                                                 \
	"Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; "                 \
	"script-src 'unsafe-inline'; connect-src 'self'\r\n"

/* The key of a /status request: "Authorization: Bearer KEY", or Basic with
 * the key as the password (what a browser sends after its prompt). */
static int status_key(struct serve *sv, const struct server_request *rq, struct serve_req *q)
{
	struct slice v, k = {NULL, 0};
	struct buf b;
	int key;

	if (!http_header(rq->p, "Authorization", &v))
		return cmd_serve_key_find(sv, k, NULL);
	if (v.n > 7 && slice_eq_nocase((struct slice){v.p, 7}, "bearer "))
		return cmd_serve_key_find(sv, slice_trim((struct slice){v.p + 7, v.n - 7}), &q->ks);
	if (v.n <= 6 || !slice_eq_nocase((struct slice){v.p, 6}, "basic "))
		return cmd_serve_key_find(sv, k, NULL);
	v = slice_trim((struct slice){v.p + 6, v.n - 6});
	buf_init(&b, SERVE_KEY_MAX + 1024);
	if (base64_decode_buf(&b, (const char *)v.p, v.n, 0) == 0) {
		const uint8_t *colon = memchr(b.p, ':', b.len);

		if (colon)
			k = (struct slice){colon + 1, b.len - (size_t)(colon + 1 - b.p)};
	}
	key = cmd_serve_key_find(sv, k, &q->ks);
	buf_free(&b); /* wipes the key */
	return key;
}

int cmd_serve_status(struct serve *sv, struct server_conn *c, const struct server_request *rq)
{
	struct serve_req *q = *server_udata(c);
	int key = status_key(sv, rq, q);
	struct buf b;

	q->key = key > 0 ? key : 0;
	if (key == 0) {
		cmd_serve_error(c, 401, "invalid_request_error", NULL, "invalid_api_key",
				"an admin key is needed: 'Authorization: Bearer <key>', or the key "
				"as the Basic password",
				"WWW-Authenticate: Basic realm=\"brock\", charset=\"UTF-8\"\r\n");
		return SERVER_ANSWERED;
	}
	if (!cmd_serve_key_admin(sv, q)) {
		cmd_serve_error(c, 403, "permission_error", NULL, "forbidden",
				"this key may not see /status (admin keys only)", NULL);
		return SERVER_ANSWERED;
	}
	if (!slice_eq_str(rq->p->method, "GET") && !slice_eq_str(rq->p->method, "HEAD")) {
		cmd_serve_error(c, 405, "invalid_request_error", NULL, "method_not_allowed",
				"this route takes GET requests", "Allow: GET, HEAD\r\n");
		return SERVER_ANSWERED;
	}
	buf_init(&b, STATUS_JSON_MAX);
	if (slice_eq_str(rq->path, "/status")) {
		size_t i;

		for (i = 0; i < sizeof status_page / sizeof *status_page; i++)
			buf_append_str(&b, status_page[i]);
		server_reply(c, 200, "text/html; charset=utf-8",
			     "Cache-Control: no-store\r\nX-Frame-Options: DENY\r\n"
			     "X-Content-Type-Options: nosniff\r\n" STATUS_CSP,
			     b.p, b.len);
	} else if (cmd_serve_status_json(sv, &b) == 0)
		server_reply(c, 200, "application/json", "Cache-Control: no-store\r\n", b.p, b.len);
	else
		cmd_serve_error(c, 500, "server_error", NULL, NULL, "status too large", NULL);
	buf_free(&b);
	return SERVER_ANSWERED;
}

/* ------------------------------------------------------------------------ */
/* Counting */

void cmd_serve_status_tally(struct serve_metrics *m, int req, int err)
{
	int64_t minute = clock_ms() / 60000;
	struct serve_status *st = &m->st;
	size_t i = (size_t)(minute % SERVE_MINUTES);

	if (st->ring[i].minute != minute) {
		st->ring[i].minute = minute;
		st->ring[i].req = st->ring[i].err = 0;
	}
	st->ring[i].req += (unsigned)req;
	st->ring[i].err += (unsigned)err;
	st->req += (unsigned)req;
	st->err += (unsigned)err;
}

void cmd_serve_count_upstream_error(struct serve *sv, const char *type, const struct err *e)
{
	static const char *const cls[] = {"none", "other", "usage", "credentials", "network",
					  "service", "protocol"};
	struct serve_status *st = &sv->m.st;
	size_t i;

	if (!type)
		type = e && e->cls >= 0 && e->cls <= ERR_PROTO ? cls[e->cls] : "other";
	pthread_mutex_lock(&sv->m.mu);
	for (i = 0; i < st->nuperr; i++)
		if (strcmp(st->uperr[i].type, type) == 0)
			break;
	if (i == st->nuperr && i < SERVE_UPERR_MAX) { /* later types: into the last slot */
		snprintf(st->uperr[i].type, sizeof st->uperr[i].type, "%s", type);
		st->nuperr++;
	}
	st->uperr[i < SERVE_UPERR_MAX ? i : SERVE_UPERR_MAX - 1].n++;
	pthread_mutex_unlock(&sv->m.mu);
}

void cmd_serve_status_creds(struct serve *sv, const struct aws_creds *c, const struct err *e)
{
	struct serve_status *st = &sv->m.st;

	pthread_mutex_lock(&sv->m.mu);
	st->creds_known = 1;
	snprintf(st->creds_source, sizeof st->creds_source, "%s", c ? c->source : "");
	st->creds_expires = c ? (int64_t)c->expires : 0;
	snprintf(st->creds_error, sizeof st->creds_error, "%.250s", c ? "" : e->msg);
	pthread_mutex_unlock(&sv->m.mu);
}

/* ------------------------------------------------------------------------ */
/* /status.json */

static void status_kdouble(struct jw *w, const char *k, double v)
{
	jw_key(w, k);
	if (v < 0)
		jw_null(w);
	else
		jw_double(w, v);
}

static void status_time(struct jw *w, const char *k, int64_t t)
{
	char s[TIMEFMT_ISO_LEN + 1];

	timefmt_iso8601(s, (time_t)t);
	jw_kstr(w, k, s);
}

/* Under m->mu: a histogram's count, mean and percentiles, in seconds. */
static void status_hist(struct jw *w, const char *k, const unsigned long long *b,
			unsigned long long n, double sum)
{
	jw_key(w, k);
	jw_obj_begin(w);
	jw_kint(w, "count", (int64_t)n);
	status_kdouble(w, "mean", n ? sum / (double)n : -1);
	status_kdouble(w, "p50", cmd_serve_quantile(b, n, 0.50));
	status_kdouble(w, "p90", cmd_serve_quantile(b, n, 0.90));
	status_kdouble(w, "p99", cmd_serve_quantile(b, n, 0.99));
	jw_obj_end(w);
}

/* Under m->mu: the last hour, oldest minute first. */
static void status_minutes(struct jw *w, const struct serve_status *st, int64_t now)
{
	int64_t minute = now / 60000, t;
	int errs;

	jw_key(w, "per_minute");
	jw_obj_begin(w);
	for (errs = 0; errs < 2; errs++) {
		jw_key(w, errs ? "errors" : "requests");
		jw_arr_begin(w);
		for (t = minute - SERVE_MINUTES + 1; t <= minute; t++) {
			const struct serve_minute *s = t < 0 ? NULL : &st->ring[t % SERVE_MINUTES];

			jw_int(w, !s || s->minute != t ? 0 : (int64_t)(errs ? s->err : s->req));
		}
		jw_arr_end(w);
	}
	jw_obj_end(w);
}

/* Requests, tokens and spend summed over the policy's (key, model) rows. */
struct status_sum {
	unsigned long long req, in, out;
	int64_t nanos;
};

static void status_add(struct status_sum *t, const struct serve_pair *x)
{
	size_t i;

	for (i = 0; i < SERVE_PAIR_CODES; i++)
		t->req += x->codes[i].n;
	t->in += x->in;
	t->out += x->out;
	t->nanos += x->nanos;
}

static void status_row(struct jw *w, const char *k, const char *name, const struct status_sum *t)
{
	jw_obj_begin(w);
	jw_key(w, k);
	jw_str_lossy(w, name);
	jw_kint(w, "requests", (int64_t)t->req);
	jw_kint(w, "input", (int64_t)t->in);
	jw_kint(w, "output", (int64_t)t->out);
	status_kdouble(w, "usd", t->nanos > 0 ? (double)t->nanos / 1e9 : -1);
	jw_obj_end(w);
}

/* Under pol.mu: a row per model, then a row per key (key-less requests
 * last, as "(no key)"), from the per-key metrics of cmd_serve_policy.c. */
static void status_usage(const struct serve_pol *p, struct jw *w)
{
	struct status_sum t;
	size_t i, j;

	jw_key(w, "models");
	jw_arr_begin(w);
	for (i = 0; i < p->npairs; i++) {
		for (j = 0; j < i && strcmp(p->pairs[j].model, p->pairs[i].model) != 0; j++)
			;
		if (j < i) /* summed at its first row */
			continue;
		memset(&t, 0, sizeof t);
		for (j = i; j < p->npairs; j++)
			if (strcmp(p->pairs[j].model, p->pairs[i].model) == 0)
				status_add(&t, &p->pairs[j]);
		status_row(w, "model", p->pairs[i].model, &t);
	}
	jw_arr_end(w);
	jw_key(w, "keys");
	jw_arr_begin(w);
	for (i = 0; i <= p->nks; i++) {
		const struct serve_kstate *ks = i < p->nks ? p->ks[i] : NULL;
		int any = 0;

		memset(&t, 0, sizeof t);
		for (j = 0; j < p->npairs; j++)
			if (p->pairs[j].ks == ks) {
				status_add(&t, &p->pairs[j]);
				any = 1;
			}
		if (any)
			status_row(w, "key", ks ? ks->name : "(no key)", &t);
	}
	jw_arr_end(w);
}

/* Under m->mu: upstream errors and the credentials of the last check. */
static void status_upstream(const struct serve_status *st, struct jw *w, int64_t now)
{
	size_t i;

	jw_key(w, "upstream_errors");
	jw_arr_begin(w);
	for (i = 0; i < st->nuperr; i++) {
		jw_obj_begin(w);
		jw_key(w, "type");
		jw_str_lossy(w, st->uperr[i].type);
		jw_kint(w, "count", (int64_t)st->uperr[i].n);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "credentials");
	jw_obj_begin(w);
	jw_kbool(w, "checked", st->creds_known);
	jw_key(w, "source");
	jw_str(w, st->creds_source[0] ? st->creds_source : NULL);
	jw_key(w, "error");
	if (st->creds_error[0])
		jw_str_lossy(w, st->creds_error);
	else
		jw_null(w);
	if (st->creds_expires) {
		status_time(w, "expires", st->creds_expires);
		jw_kint(w, "expires_in_s", st->creds_expires - now);
	} else {
		jw_key(w, "expires");
		jw_null(w);
		jw_key(w, "expires_in_s");
		jw_null(w);
	}
	jw_obj_end(w);
}

/* The server's own gauges and counters (atomics: no lock). */
static void status_server(struct serve *sv, struct jw *w)
{
	jw_key(w, "connections");
	jw_obj_begin(w);
	jw_kint(w, "open", atomic_load(&sv->srv.conns));
	jw_kint(w, "accepted", (int64_t)atomic_load(&sv->srv.accepted));
	jw_kint(w, "rejected", (int64_t)atomic_load(&sv->srv.rejected));
	jw_kint(w, "dropped", (int64_t)atomic_load(&sv->srv.dropped));
	jw_obj_end(w);
	jw_key(w, "streams");
	jw_obj_begin(w);
	jw_kint(w, "open", atomic_load(&sv->srv.streams));
	jw_obj_end(w);
}

int cmd_serve_status_json(struct serve *sv, struct buf *o)
{
	struct serve_metrics *m = &sv->m;
	int64_t now = (int64_t)time(NULL), mono = clock_ms();
	struct jw w;
	struct err e;

	jw_init(&w, o);
	jw_obj_begin(&w);
	jw_kstr(&w, "version", BROCK_VERSION);
	jw_kstr(&w, "commit", BROCK_COMMIT);
	status_time(&w, "now", now);
	status_time(&w, "started", m->st.started);
	jw_kint(&w, "uptime_s", (mono - m->st.started_ms) / 1000);
	jw_kstr(&w, "region", sv->ctx.aws.region);
	status_server(sv, &w);
	pthread_mutex_lock(&m->mu);
	jw_key(&w, "requests");
	jw_obj_begin(&w);
	jw_kint(&w, "total", (int64_t)m->st.req);
	jw_kint(&w, "errors", (int64_t)m->st.err);
	jw_kint(&w, "client_gone", (int64_t)m->client_gone);
	jw_obj_end(&w);
	status_minutes(&w, &m->st, mono);
	status_hist(&w, "ttft", m->ttft_bucket, m->ttft_count, m->ttft_sum);
	status_hist(&w, "latency", m->lat_bucket, m->lat_count, m->lat_sum);
	jw_key(&w, "tokens");
	jw_obj_begin(&w);
	jw_kint(&w, "input", (int64_t)m->tokens_in);
	jw_kint(&w, "output", (int64_t)m->tokens_out);
	jw_obj_end(&w);
	status_upstream(&m->st, &w, now);
	pthread_mutex_unlock(&m->mu);
	pthread_mutex_lock(&sv->pol.mu);
	status_usage(&sv->pol, &w);
	pthread_mutex_unlock(&sv->pol.mu);
	jw_obj_end(&w);
	return jw_finish(&w, &e);
}
