/* aws: signed requests, retries, clock skew, error decoding (endpoints: aws_endpoint.c). */
#include "aws/aws.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire/json.h"
#include "base/timefmt.h"
#include "wire/url.h"
#include "wire/xml.h"

#define AWS_HEADERS_MAX (64u * 1024u) /* header lines kept in aws_response.headers */
#define AWS_BODY_DEFAULT (8u * 1024u * 1024u)
#define AWS_MAX_ATTEMPTS_CAP 20
#define AWS_SKEW_MIN_S 60 /* a smaller difference cannot explain a rejection */

void aws_creds_wipe(struct aws_creds *c)
{
	secure_zero(c, sizeof *c);
}

static time_t aws_real_now(void)
{
	return time(NULL);
}

static void aws_real_sleep(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void aws_init(struct aws *a, const struct env *env, struct conn_pool *pool)
{
	const char *v;

	memset(a, 0, sizeof *a);
	a->env = env;
	a->pool = pool;
	memcpy(a->region, "us-east-1", sizeof "us-east-1");
	a->max_attempts = 3;
	v = env ? env_get(env, "AWS_MAX_ATTEMPTS") : NULL;
	if (v) {
		char *end;
		long n = strtol(v, &end, 10);

		while (*end == ' ' || *end == '\t')
			end++;
		if (*end == '\0' && n >= 1)
			a->max_attempts = n > AWS_MAX_ATTEMPTS_CAP ? AWS_MAX_ATTEMPTS_CAP : (int)n;
	}
	pthread_mutex_init(&a->mu, NULL);
	sigv4_ctx_init(&a->sig);
}

void aws_free(struct aws *a)
{
	sigv4_ctx_release(&a->sig);
	pthread_mutex_destroy(&a->mu);
}

/* ------------------------------------------------------------------------ */
/* Error decoding and the retry policy */

static void aws_copy_clean(char *dst, size_t cap, const uint8_t *p, size_t n)
{
	size_t i, o = 0;

	if (!cap)
		return;
	/* one printable line: control bytes become spaces, runs collapse */
	for (i = 0; i < n && o + 1 < cap; i++) {
		uint8_t c = p[i];

		if (c < 0x20 || c == 0x7f)
			c = ' ';
		if (c == ' ' && (o == 0 || dst[o - 1] == ' '))
			continue;
		dst[o++] = (char)c;
	}
	while (o && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

/* "com.amazon.coral.service#ThrottlingException" and
 * "ThrottlingException:http://internal.amazon.com/..." -> the bare name. */
static void aws_type_clean(char *dst, size_t cap, const uint8_t *p, size_t n)
{
	const uint8_t *c = memchr(p, ':', n), *h;

	if (c)
		n = (size_t)(c - p);
	while ((h = memchr(p, '#', n)) != NULL) {
		n -= (size_t)(h + 1 - p);
		p = h + 1;
	}
	aws_copy_clean(dst, cap, p, n);
}

static void aws_decode_json_error(const uint8_t *body, size_t n, char *type, size_t typen,
				  char *msg, size_t msgn)
{
	struct json_tok tok[256];
	struct json_doc d;
	struct buf s;
	struct slice v;
	struct err e;
	int t;

	if (json_parse(&d, (const char *)body, n, tok, 256, &e) < 0 ||
	    json_type(&d, 0) != JSON_OBJECT)
		return;
	buf_init(&s, 4096);
	if (typen && !type[0]) {
		t = json_get(&d, 0, "__type");
		if (t < 0)
			t = json_get(&d, 0, "code");
		if (t < 0)
			t = json_get(&d, 0, "Code");
		if (json_str(&d, t, &s, &v, &e) == 0)
			aws_type_clean(type, typen, v.p, v.n);
	}
	if (msgn && !msg[0]) {
		t = json_get(&d, 0, "message");
		if (t < 0)
			t = json_get(&d, 0, "Message");
		if (json_str(&d, t, &s, &v, &e) == 0)
			aws_copy_clean(msg, msgn, v.p, v.n);
	}
	buf_free(&s);
}

static void aws_decode_xml_error(const uint8_t *body, size_t n, char *type, size_t typen,
				 char *msg, size_t msgn)
{
	static const char *const code_path[] = {"ErrorResponse", "Error", "Code", NULL};
	static const char *const msg_path[] = {"ErrorResponse", "Error", "Message", NULL};
	struct buf s;
	struct err e;

	buf_init(&s, 4096);
	if (typen && !type[0] && xml_find_text(body, n, code_path, &s, &e) == 1)
		aws_type_clean(type, typen, s.p, s.len);
	buf_reset(&s);
	if (msgn && !msg[0] && xml_find_text(body, n, msg_path, &s, &e) == 1)
		aws_copy_clean(msg, msgn, s.p, s.len);
	buf_free(&s);
}

void aws_decode_error(const char *errtype_header, const char *errmsg_header, const void *body,
		      size_t n, char *type, size_t typen, char *msg, size_t msgn)
{
	const uint8_t *b = body;
	size_t i = 0;

	if (typen)
		type[0] = '\0';
	if (msgn)
		msg[0] = '\0';
	if (errtype_header && errtype_header[0])
		aws_type_clean(type, typen, (const uint8_t *)errtype_header, strlen(errtype_header));
	while (b && i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
		i++;
	if (b && i < n && b[i] == '{')
		aws_decode_json_error(b, n, type, typen, msg, msgn);
	else if (b && i < n && b[i] == '<')
		aws_decode_xml_error(b + i, n - i, type, typen, msg, msgn);
	if (msgn && !msg[0] && errmsg_header && errmsg_header[0])
		aws_copy_clean(msg, msgn, (const uint8_t *)errmsg_header, strlen(errmsg_header));
}

static int aws_type_in(const char *type, const char *const *list)
{
	size_t i;

	for (i = 0; list[i]; i++)
		if (strcmp(type, list[i]) == 0)
			return 1;
	return 0;
}

static const char *const aws_throttling_types[] = {
	"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
	"TooManyRequestsException", "ProvisionedThroughputExceededException",
	"TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
	"LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException", NULL};

static const char *const aws_transient_types[] = {
	"ServiceUnavailableException", "ServiceUnavailable", "RequestTimeout",
	"RequestTimeoutException", "InternalServerException", "InternalFailure",
	"InternalError", "ModelNotReadyException", "IDPCommunicationError", NULL};

static const char *const aws_creds_types[] = {
	"UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException",
	"IncompleteSignatureException", "MissingAuthenticationTokenException",
	"MissingAuthenticationToken", "InvalidClientTokenId", "SignatureDoesNotMatch",
	"ExpiredToken", "IncompleteSignature", "UnauthorizedException", NULL};

int aws_retryable(int status, const char *type)
{
	if (type && type[0] &&
	    (aws_type_in(type, aws_throttling_types) || aws_type_in(type, aws_transient_types)))
		return 1;
	return status == 429 || (status >= 500 && status <= 599);
}

/* 1 when AWS rejected the credentials themselves (exit 3). */
int aws_creds_error(const char *type)
{
	return type && type[0] && aws_type_in(type, aws_creds_types);
}

unsigned aws_backoff_ms(int n, uint32_t r)
{
	uint32_t cap = 20000;

	if (n < 1)
		n = 1;
	if (n <= 15 && (1000u << (n - 1)) < cap)
		cap = 1000u << (n - 1);
	return (unsigned)(r % (cap + 1u));
}

static int aws_contains_nocase(const char *s, const char *needle)
{
	size_t n = strlen(needle), sl = strlen(s), i;

	for (i = 0; i + n <= sl; i++)
		if (slice_eq_nocase((struct slice){(const uint8_t *)s + i, n}, needle))
			return 1;
	return 0;
}

/* An answer that says the request time is off (SPEC 2, clock skew). */
int aws_skew_error(const char *type, const char *msg)
{
	static const char *const always[] = {"RequestTimeTooSkewed", "RequestExpired",
					     "RequestInTheFuture", NULL};

	if (!type || !type[0])
		return 0;
	if (aws_type_in(type, always))
		return 1;
	if (strcmp(type, "InvalidSignatureException") != 0 &&
	    strcmp(type, "SignatureDoesNotMatch") != 0 && strcmp(type, "AuthFailure") != 0)
		return 0;
	return msg && (aws_contains_nocase(msg, "signature expired") ||
		       aws_contains_nocase(msg, "not yet current") ||
		       aws_contains_nocase(msg, "time") || aws_contains_nocase(msg, "skew"));
}

/* ------------------------------------------------------------------------ */
/* Responses */

void aws_response_init(struct aws_response *r)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->body, AWS_BODY_DEFAULT);
	buf_init(&r->headers, AWS_HEADERS_MAX);
}

void aws_response_free(struct aws_response *r)
{
	buf_free(&r->body);
	buf_free(&r->headers);
}

int aws_response_header(const struct aws_response *r, const char *name, struct slice *val)
{
	return httpc_lines_header(buf_slice(&r->headers), name, val);
}

/* ------------------------------------------------------------------------ */
/* The call */

/* Per-attempt state shared with the httpc callbacks. */
struct aws_att {
	const struct aws_request *rq;
	struct aws_response *r;
	int status;
	int ok;           /* 2xx without an error type: the caller's answer */
	int delivered;    /* a 2xx body byte reached the caller: never retry */
	int cb_failed;    /* a caller callback returned < 0 */
	size_t body_max;
};

static int aws_on_headers(void *user, const struct http_parser *p, struct err *e)
{
	struct aws_att *at = user;
	struct aws_response *r = at->r;
	struct slice v;

	at->status = p->status;
	r->status = p->status;
	buf_reset(&r->headers);
	buf_reset(&r->body);
	r->request_id[0] = '\0';
	/* a header section too large for the copy is cut, not fatal */
	(void)httpc_header_lines(p, &r->headers);
	if (http_header(p, "x-amzn-RequestId", &v) || http_header(p, "x-amz-request-id", &v))
		aws_copy_clean(r->request_id, sizeof r->request_id, v.p, v.n);
	/* a 2xx that names an error type is an error answer (SPEC 3.3) */
	at->ok = p->status >= 200 && p->status <= 299 && !http_header(p, "x-amzn-ErrorType", &v);
	if (at->ok && at->rq->on_headers && at->rq->on_headers(at->rq->user, p, e) < 0) {
		at->cb_failed = 1;
		return -1;
	}
	return 0;
}

static int aws_on_body(void *user, const uint8_t *p, size_t n, struct err *e)
{
	struct aws_att *at = user;
	struct buf *b = &at->r->body;

	if (!at->ok) {
		/* error bodies: keep the head, enough to decode */
		size_t room = AWS_ERROR_BODY_MAX > b->len ? AWS_ERROR_BODY_MAX - b->len : 0;

		if (n > room)
			n = room;
		if (n && buf_append(b, p, n) < 0)
			return err_set(e, ERR_OTHER, "out of memory");
		return 0;
	}
	if (at->rq->on_body) {
		at->delivered = 1;
		if (at->rq->on_body(at->rq->user, p, n, e) < 0) {
			at->cb_failed = 1;
			return -1;
		}
		return 0;
	}
	if (b->len + n > at->body_max) {
		at->cb_failed = 1;
		return err_set(e, ERR_PROTO, "response body larger than %zu bytes", at->body_max);
	}
	if (buf_append(b, p, n) < 0) {
		at->cb_failed = 1;
		return err_set(e, ERR_OTHER, "out of memory");
	}
	return 0;
}

static void aws_logf(const struct aws *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void aws_logf(const struct aws *a, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!a->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	a->log(a->log_user, "%s", line);
}

static uint32_t aws_random(void)
{
	uint32_t r = 0;

	if (getentropy(&r, sizeof r) != 0)
		r = (uint32_t)time(NULL) * 2654435761u;
	return r;
}

static int aws_is_bedrock(enum aws_service svc)
{
	return svc == AWS_SVC_RUNTIME || svc == AWS_SVC_CONTROL;
}

static int aws_wire_add(struct aws_wire *w, const char *name, const char *value)
{
	if (w->nh >= AWS_MAX_HDRS)
		return -1;
	w->h[w->nh].name = name;
	w->h[w->nh].value = value;
	w->nh++;
	return 0;
}

static int aws_sign(struct aws *a, const struct aws_creds *creds, const struct aws_request *rq,
		    struct aws_wire *w, struct err *e)
{
	const struct aws_endpoint *ep = &w->ep;
	const struct url *u = &w->u;
	struct sigv4_header sh[4];
	struct sigv4_creds sc;
	struct sigv4_request sreq;
	struct sigv4_params sp;
	size_t nsh = 0;
	int rc;

	sh[nsh].name = SLICE_LIT("host");
	sh[nsh++].value = slice_str(w->host);
	if (rq->content_type) {
		sh[nsh].name = SLICE_LIT("content-type");
		sh[nsh++].value = slice_str(rq->content_type);
	}
	/* x-amz-date and x-amz-security-token are added by the signer */
	sc.akid = creds->akid;
	sc.secret = creds->secret;
	sc.token = creds->token[0] ? creds->token : NULL;
	memset(&sreq, 0, sizeof sreq);
	sreq.method = slice_str(rq->method);
	sreq.path = u->path; /* the full wire path: endpoint base path + request */
	sreq.query = rq->query ? slice_str(rq->query) : (struct slice){NULL, 0};
	sreq.headers = sh;
	sreq.nheaders = nsh;
	sreq.body = (struct slice){rq->body, rq->body_len};
	memset(&sp, 0, sizeof sp);
	sp.creds = &sc;
	sp.region = ep->signing_region;
	sp.service = ep->signing_name;
	sp.flags = SIGV4_DOUBLE_ENCODE;
	pthread_mutex_lock(&a->mu);
	sp.now = (a->now ? a->now() : aws_real_now()) + a->skew;
	rc = sigv4_sign(&a->sig, &sreq, &sp, &w->sr, e);
	pthread_mutex_unlock(&a->mu);
	if (rc < 0)
		return -1;
	memcpy(w->amz_date, w->sr.amz_date, sizeof w->amz_date);
	aws_wire_add(w, "X-Amz-Date", w->amz_date);
	if (creds->token[0])
		aws_wire_add(w, "X-Amz-Security-Token", creds->token);
	if (buf_append(&w->auth, w->sr.authorization.p, w->sr.authorization.len) < 0)
		return err_set(e, ERR_OTHER, "out of memory");
	aws_wire_add(w, "Authorization", (const char *)w->auth.p);
	return 0;
}

int aws_wire_sign(struct aws *a, const struct aws_creds *creds, const struct aws_request *rq,
		  struct aws_wire *w, struct err *e)
{
	const struct aws_endpoint *ep = &w->ep;
	const struct url *u = &w->u;
	struct buf host;
	size_t i;

	w->nh = 0;
	buf_reset(&w->auth);
	buf_init(&host, sizeof w->host - 1);
	if (url_authority(u, 0, &host) < 0) {
		buf_free(&host);
		return err_set(e, ERR_USAGE, "endpoint host too long");
	}
	memcpy(w->host, host.p, host.len + 1);
	buf_free(&host);
	aws_wire_add(w, "Host", w->host);
	if (rq->content_type)
		aws_wire_add(w, "Content-Type", rq->content_type);
	if (rq->accept)
		aws_wire_add(w, "Accept", rq->accept);
	if (rq->auth == AWS_AUTH_SIGV4) {
		if (!creds)
			return err_set(e, ERR_CREDS, "no credentials for a signed request");
		if (creds->bearer[0] && aws_is_bedrock(rq->svc)) {
			if (buf_append_str(&w->auth, "Bearer ") < 0 ||
			    buf_append_str(&w->auth, creds->bearer) < 0)
				return err_set(e, ERR_OTHER, "out of memory");
			aws_wire_add(w, "Authorization", (const char *)w->auth.p);
		} else if (creds->akid[0] && creds->secret[0]) {
			if (aws_sign(a, creds, rq, w, e) < 0)
				return -1;
		} else {
			return err_set(e, ERR_CREDS, "%s needs AWS access keys (a Bedrock API key "
				       "only works for Bedrock)", ep->signing_name);
		}
	}
	for (i = 0; i < rq->nextra; i++)
		if (aws_wire_add(w, rq->extra[i].name, rq->extra[i].value) < 0)
			return err_set(e, ERR_OTHER, "too many request headers");
	return 0;
}

/* The skew implied by the answer's Date header: server time - local time. */
static int aws_skew_from_date(struct aws *a, const struct aws_response *r, long *skew)
{
	struct slice d;
	time_t server;

	if (!aws_response_header(r, "Date", &d) ||
	    timefmt_parse_rfc1123((const char *)d.p, d.n, &server) < 0)
		return 0;
	*skew = (long)(server - (a->now ? a->now() : aws_real_now()));
	return 1;
}

/* Longest part of an AWS error message kept in the one error line: the
 * line (ERR_MSG_MAX) must still hold the type, the request id at its end
 * and the context callers prepend with err_wrap. */
#define AWS_ERRMSG_SHOWN 240

void aws_response_error(const struct aws_response *r, struct err *e)
{
	int cls = aws_creds_error(r->error_type) ? ERR_CREDS : ERR_SERVICE;
	size_t k = strlen(r->error_message);
	int cut = k > AWS_ERRMSG_SHOWN;
	char rid[160] = "", msg[AWS_ERRMSG_SHOWN + 4];

	if (r->request_id[0])
		snprintf(rid, sizeof rid, " (request id %s)", r->request_id);
	if (cut) /* not inside a UTF-8 sequence */
		for (k = AWS_ERRMSG_SHOWN; k > 0 && ((uint8_t)r->error_message[k] & 0xc0) == 0x80; k--)
			;
	snprintf(msg, sizeof msg, "%.*s%s", (int)k, r->error_message, cut ? "..." : "");
	if (r->error_type[0] && msg[0])
		err_set(e, cls, "%s: %s%s", r->error_type, msg, rid);
	else if (r->error_type[0])
		err_set(e, cls, "%s (HTTP %d)%s", r->error_type, r->status, rid);
	else if (msg[0])
		err_set(e, cls, "HTTP %d: %s%s", r->status, msg, rid);
	else
		err_set(e, cls, "HTTP %d with no error details%s", r->status, rid);
}

static void aws_decode_response_error(struct aws_response *r)
{
	struct slice t, m;
	char th[256] = "", mh[1024] = "";

	if (aws_response_header(r, "x-amzn-ErrorType", &t))
		aws_copy_clean(th, sizeof th, t.p, t.n);
	if (aws_response_header(r, "x-amzn-ErrorMessage", &m))
		aws_copy_clean(mh, sizeof mh, m.p, m.n);
	aws_decode_error(th, mh, r->body.p, r->body.len, r->error_type, sizeof r->error_type,
			 r->error_message, sizeof r->error_message);
}

/* The state of one aws_call across its attempts. */
struct aws_run {
	struct aws *a;
	const struct aws_creds *creds;
	const struct aws_request *rq;
	struct aws_response *r;
	struct aws_wire w;
	int skew_retried;
	char why[1280]; /* the cause of a retry, for the log (type: message) */
};

/* What one attempt says should happen next. */
enum aws_step {
	AWS_DONE,   /* a 2xx answer went to the caller */
	AWS_RETRY,  /* retryable and attempts left: back off, then again */
	AWS_RESIGN, /* the clock skew was corrected: again at once, not counted */
	AWS_FAIL    /* final: e is set */
};

int aws_wire_open(struct aws *a, const struct aws_request *rq, struct aws_wire *w, struct err *e)
{
	memset(w, 0, sizeof *w);
	buf_init(&w->auth, AWS_TOKEN_MAX + 64);
	sigv4_result_init(&w->sr);
	buf_init(&w->url, AWS_URL_MAX * 4 + 16384);
	if (aws_endpoint_region(a, rq->svc, rq->region, &w->ep, e) < 0)
		return -1;
	if (buf_append_str(&w->url, w->ep.base) < 0 || buf_append_str(&w->url, rq->path) < 0 ||
	    (rq->query && rq->query[0] &&
	     (buf_append_byte(&w->url, '?') < 0 || buf_append_str(&w->url, rq->query) < 0)))
		return err_set(e, ERR_USAGE, "request URL too long");
	if (url_parse(&w->u, (const char *)w->url.p, e) < 0)
		return -1;
	w->have_url = 1;
	aws_logf(a, "%s %s (signing %s/%s)", rq->method, (const char *)w->url.p,
		 w->ep.signing_region, w->ep.signing_name);
	return 0;
}

void aws_wire_close(struct aws_wire *w)
{
	if (w->have_url)
		url_wipe(&w->u);
	w->have_url = 0;
	buf_free(&w->url);
	buf_free(&w->auth);
	sigv4_result_free(&w->sr);
}

/* A skewed-time answer whose Date moves our offset by at least
 * AWS_SKEW_MIN_S: the offset is updated and 1 returned (once per call). */
static int aws_skew_fix(struct aws_run *run)
{
	struct aws *a = run->a;
	long skew, old;

	if (run->skew_retried || !aws_skew_error(run->r->error_type, run->r->error_message) ||
	    !aws_skew_from_date(a, run->r, &skew))
		return 0;
	pthread_mutex_lock(&a->mu);
	old = a->skew;
	if (labs(skew - old) >= AWS_SKEW_MIN_S)
		a->skew = skew;
	pthread_mutex_unlock(&a->mu);
	if (labs(skew - old) < AWS_SKEW_MIN_S)
		return 0;
	run->skew_retried = 1;
	aws_logf(a, "clock skew: the service clock is %+ld s from ours; re-signing and retrying",
		 skew);
	return 1;
}

/* One attempt (number attempt of a->max_attempts): signs, sends, reads the
 * answer and decides what comes next. */
static enum aws_step aws_attempt(struct aws_run *run, int attempt, struct err *e)
{
	struct aws *a = run->a;
	const struct aws_request *rq = run->rq;
	struct aws_response *r = run->r;
	int more = attempt < a->max_attempts;
	struct httpc_request hr;
	struct httpc_info info;
	struct aws_att at;

	err_clear(e);
	if (aws_wire_sign(a, run->creds, rq, &run->w, e) < 0)
		return AWS_FAIL;
	memset(&hr, 0, sizeof hr);
	hr.method = rq->method;
	hr.url = (const char *)run->w.url.p;
	hr.headers = run->w.h;
	hr.nheaders = run->w.nh;
	hr.body = rq->body;
	hr.body_len = rq->body_len;
	memset(&at, 0, sizeof at);
	at.rq = rq;
	at.r = r;
	at.body_max = rq->max_body ? rq->max_body : AWS_BODY_DEFAULT;
	r->body.max = at.body_max > AWS_ERROR_BODY_MAX ? at.body_max : AWS_ERROR_BODY_MAX;
	r->status = 0;
	r->error_type[0] = r->error_message[0] = '\0';
	if (httpc_request(a->pool, &hr, &a->opts, aws_on_headers, aws_on_body, &at, &info, e) <
	    0) {
		if (at.cb_failed || at.delivered || e->cls != ERR_NET || e->final || !more)
			return AWS_FAIL;
		snprintf(run->why, sizeof run->why, "%s", e->msg);
		return AWS_RETRY;
	}
	if (r->request_id[0])
		aws_logf(a, "HTTP %d, request id %s", r->status, r->request_id);
	if (at.ok)
		return AWS_DONE;
	aws_decode_response_error(r);
	if (!r->error_type[0] && r->status >= 200 && r->status <= 299) {
		/* x-amzn-ErrorType was present but empty */
		memcpy(r->error_type, "UnknownError", sizeof "UnknownError");
	}
	if (aws_skew_fix(run))
		return AWS_RESIGN;
	if (aws_retryable(r->status, r->error_type) && more) {
		snprintf(run->why, sizeof run->why, "%s: %s",
			 r->error_type[0] ? r->error_type : "HTTP error",
			 r->error_message[0] ? r->error_message : "(no message)");
		return AWS_RETRY;
	}
	aws_response_error(r, e);
	return AWS_FAIL;
}

int aws_call(struct aws *a, const struct aws_creds *creds, const struct aws_request *rq,
	     struct aws_response *r, struct err *e)
{
	struct aws_response local;
	struct aws_run run;
	int attempt, rc = -1;

	if (!r) {
		r = &local;
		aws_response_init(r);
	}
	memset(&run, 0, sizeof run);
	run.a = a;
	run.creds = creds;
	run.rq = rq;
	run.r = r;
	if (aws_wire_open(a, rq, &run.w, e) == 0)
		for (attempt = 1;; attempt++) {
			enum aws_step step;
			unsigned ms;

			r->attempts = attempt;
			step = aws_attempt(&run, attempt, e);
			if (step == AWS_DONE)
				rc = 0;
			if (step == AWS_DONE || step == AWS_FAIL)
				break;
			if (step == AWS_RESIGN) {
				attempt--; /* a re-signed retry is not an attempt */
				continue;
			}
			ms = aws_backoff_ms(attempt, aws_random());
			aws_logf(a, "retry %d/%d in %u ms: %s", attempt, a->max_attempts - 1, ms,
				 run.why);
			(a->sleep_ms ? a->sleep_ms : aws_real_sleep)(ms);
		}
	if (rc < 0 && !e->cls)
		e->cls = ERR_OTHER;
	aws_wire_close(&run.w);
	if (r == &local)
		aws_response_free(r);
	return rc;
}
