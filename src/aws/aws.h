/* aws: calls to AWS services. Endpoint resolution (SPEC section 2), SigV4 or
 * Bedrock API-key (bearer) authentication, the "standard" retry policy with
 * full-jitter backoff, clock-skew correction, and the decoding of AWS error
 * answers (SPEC section 3.3) into classed errors. Every request of the
 * program to an AWS service goes through aws_call; credentials are an
 * argument (the credential chain, creds.h, sits beside this module and uses
 * aws_call for STS/SSO with the credentials it already has). */
#ifndef BROCK_AWS_H
#define BROCK_AWS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "net/conn.h"
#include "base/env.h"
#include "base/err.h"
#include "net/httpc.h"
#include "base/timefmt.h"
#include "wire/sigv4.h"
#include "wire/url.h"

#define AWS_REGION_MAX 64
#define AWS_URL_MAX 1024
#define AWS_TOKEN_MAX 8192       /* session tokens and bearer keys */
#define AWS_ERROR_BODY_MAX 65536 /* bytes of a non-2xx body kept for decoding */

enum aws_service {
	AWS_SVC_RUNTIME,  /* bedrock-runtime: signing name "bedrock" */
	AWS_SVC_CONTROL,  /* bedrock (control plane): "bedrock" */
	AWS_SVC_STS,      /* "sts" */
	AWS_SVC_SSO,      /* portal.sso: "awsssoportal" (bearer-token header, unsigned) */
	AWS_SVC_SSO_OIDC, /* oidc: unsigned JSON */
	AWS_SVC_COUNT
};

/* Credentials as the chain produced them. Wiped by aws_creds_wipe. */
struct aws_creds {
	char akid[128];
	char secret[SIGV4_MAX_SECRET];
	char token[AWS_TOKEN_MAX];  /* session token, "" when none */
	char bearer[AWS_TOKEN_MAX]; /* AWS_BEARER_TOKEN_BEDROCK: when set, no SigV4 */
	time_t expires;             /* 0: does not expire */
	char source[128];           /* "env", "profile:dev", "imds", ... (SPEC 6) */
};
void aws_creds_wipe(struct aws_creds *c);

/* Diagnostics for -v: never passed a secret, signature or token. */
typedef void (*aws_log_fn)(void *user, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct aws {
	const struct env *env;
	struct conn_pool *pool;
	struct conn_opts opts; /* timeouts (--timeout) */
	char region[AWS_REGION_MAX]; /* resolved region (creds.h: aws_region_resolve) */
	const char *runtime_base_url; /* config models.providers["amazon-bedrock"].baseUrl, or NULL */
	int max_attempts;             /* AWS_MAX_ATTEMPTS, default 3 */
	aws_log_fn log;               /* NULL: quiet */
	void *log_user;
	/* Test seams (NULL = real clock / real sleep). */
	time_t (*now)(void);
	void (*sleep_ms)(unsigned ms);
	/* Mutable state shared by every call (guarded by mu: serve mode). */
	pthread_mutex_t mu;
	long skew; /* seconds added to the local clock when signing */
	struct sigv4_ctx sig;
};

/* env and pool must outlive a. Reads AWS_MAX_ATTEMPTS. */
void aws_init(struct aws *a, const struct env *env, struct conn_pool *pool);
void aws_free(struct aws *a);

struct aws_endpoint {
	char base[AWS_URL_MAX];           /* "https://host[:port][/base/path]" without trailing '/' */
	char signing_region[AWS_REGION_MAX]; /* region in a standard AWS host name wins */
	const char *signing_name;         /* "bedrock", "sts", ... */
};

/* Resolves the endpoint of svc: AWS_ENDPOINT_URL_<SVC>, then AWS_ENDPOINT_URL,
 * then (runtime only) the configured baseUrl, then the standard
 * https://<prefix>.<region>.amazonaws.com. ERR_USAGE for a malformed URL. */
int aws_endpoint(const struct aws *a, enum aws_service svc, struct aws_endpoint *out,
		 struct err *e);
/* The same for another region than a->region (NULL or "": a->region). */
int aws_endpoint_region(const struct aws *a, enum aws_service svc, const char *region,
			struct aws_endpoint *out, struct err *e);

enum aws_auth {
	AWS_AUTH_SIGV4,  /* SigV4 (or Bearer when creds->bearer is set and svc is bedrock) */
	AWS_AUTH_NONE    /* unsigned (AssumeRoleWithWebIdentity, SSO, OIDC) */
};

struct aws_request {
	enum aws_service svc;
	enum aws_auth auth;
	const char *method;       /* "GET", "POST" */
	const char *path;         /* wire path, already %-encoded, starting with '/' */
	const char *query;        /* wire query without '?', already encoded; NULL for none */
	const char *content_type; /* NULL: none */
	const char *accept;       /* NULL: none */
	const void *body;
	size_t body_len;
	const struct httpc_header *extra; /* more headers (unsigned), e.g. x-amz-sso_bearer_token */
	size_t nextra;
	/* Streaming 2xx answers: when on_body is set, the 2xx body goes to it as it
	 * arrives (and after its first byte the call is never retried); else a 2xx
	 * body is collected into aws_response.body up to max_body (default 8 MiB). */
	httpc_on_headers on_headers;
	httpc_on_body on_body;
	void *user;
	size_t max_body;
	const char *region; /* NULL: a->region (SSO calls go to the sso_region) */
};

struct aws_response {
	int status;
	struct buf body;           /* collected 2xx body (no on_body) or the error body */
	struct buf headers;        /* "name: value\n" lines of the final answer */
	char request_id[128];      /* x-amzn-RequestId (or x-amz-request-id) */
	char error_type[128];      /* decoded AWS error type of a non-2xx answer */
	char error_message[1024];
	int attempts;
};
/* Call before aws_call (and aws_response_free after, whatever it returned). */
void aws_response_init(struct aws_response *r);
void aws_response_free(struct aws_response *r);
/* First value of a response header (case-insensitive); 1 found, 0 not. */
int aws_response_header(const struct aws_response *r, const char *name, struct slice *val);

/* Runs one request with retries. Returns 0 for a 2xx answer. Otherwise -1
 * with e set: ERR_CREDS when AWS rejected the credentials
 * (UnrecognizedClientException, InvalidSignatureException,
 * ExpiredTokenException, IncompleteSignatureException, ...), ERR_SERVICE for
 * any other non-2xx after retries ("ThrottlingException: Rate exceeded
 * (request id ...)"), ERR_NET for connection failures after retries, and
 * whatever the callbacks returned. r (may be NULL) gets the details. */
int aws_call(struct aws *a, const struct aws_creds *creds, const struct aws_request *rq,
	     struct aws_response *r, struct err *e);

/* The wire form of one request, for aws_call and for a caller that sends it
 * itself (the gateway's HTTP/2 path, net/h2c): one way to build and sign.
 * aws_wire_open resolves the endpoint and the URL once; aws_wire_sign fills
 * the headers (Host, Content-Type, Accept, X-Amz-Date, the session token,
 * Authorization: SigV4 or a Bedrock API key, then rq->extra) and is run
 * again for every attempt (the signing time moves, so may the clock-skew
 * offset). Header names are as HTTP/1.1 spells them; an HTTP/2 sender
 * lowercases them and takes Host as :authority. aws_wire_close wipes. */
#define AWS_MAX_HDRS (12 + 16)
struct aws_wire {
	struct aws_endpoint ep;
	struct buf url; /* the whole request URL */
	struct url u;   /* its parts (u.path is the wire path that was signed) */
	int have_url;
	struct httpc_header h[AWS_MAX_HDRS];
	size_t nh;
	char host[URL_HOST_MAX + 16];
	char amz_date[TIMEFMT_AMZ_LEN + 1];
	struct buf auth; /* Authorization value (wiped) */
	struct sigv4_result sr;
};
int aws_wire_open(struct aws *a, const struct aws_request *rq, struct aws_wire *w, struct err *e);
int aws_wire_sign(struct aws *a, const struct aws_creds *creds, const struct aws_request *rq,
		  struct aws_wire *w, struct err *e);
void aws_wire_close(struct aws_wire *w);

/* The error of a final non-2xx answer (status, error_type, error_message,
 * request_id filled) as aws_call reports it: ERR_CREDS or ERR_SERVICE. */
void aws_response_error(const struct aws_response *r, struct err *e);

/* Pure helpers (unit-tested): */
/* Decodes an AWS error answer per SPEC 3.3 into type/message. */
void aws_decode_error(const char *errtype_header, const char *errmsg_header, const void *body,
		      size_t n, char *type, size_t typen, char *msg, size_t msgn);
/* 1 when the error type says AWS rejected the credentials (exit 3). */
int aws_creds_error(const char *type);
/* 1 when the error says the request time is off (expired / not yet current
 * signature, RequestTimeTooSkewed, ...): worth one re-signed retry. */
int aws_skew_error(const char *type, const char *msg);
/* 1 when an error type/status is retryable under the standard policy. */
int aws_retryable(int status, const char *type);
/* Full-jitter backoff delay (ms) before attempt n (n >= 1 retries so far):
 * random in [0, min(20000, 1000 * 2^(n-1))]; r is a uniform random u32. */
unsigned aws_backoff_ms(int n, uint32_t r);
/* The region of a standard AWS host ("bedrock-runtime.eu-west-1.amazonaws.com"
 * -> "eu-west-1", also -fips and .amazonaws.com.cn); 1 when found. */
int aws_host_region(const char *host, char *out, size_t n);

#endif
