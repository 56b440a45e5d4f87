/* sigv4: AWS Signature Version 4 (HMAC-SHA256), header and presigned-query
 * forms, with the semantics of aws-c-auth's signing test suite (double URI
 * encoding for every service but S3, optional path normalisation).
 *
 * The signer works on a description of the wire request: the raw path and
 * query exactly as they will be sent, and the headers to sign. It fills a
 * caller-owned result with the canonical request, the string to sign, the
 * signature and what must be added to the request. The secret key and the
 * keys derived from it never reach the result (nor any error message); the
 * derived signing key is cached in a caller-owned context, wiped on release.
 *
 * Limits: SIGV4_MAX_HEADERS headers, SIGV4_MAX_PARAMS query parameters,
 * SIGV4_MAX_CANON bytes of canonical request; beyond them signing fails. */
#ifndef BROCK_SIGV4_H
#define BROCK_SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"

#define SIGV4_MAX_HEADERS 64
#define SIGV4_MAX_PARAMS  256
#define SIGV4_MAX_CANON   (256u * 1024u)
#define SIGV4_MAX_SECRET  256 /* bytes of secret access key */
#define SIGV4_MAX_ADDED   4   /* headers sigv4_added_headers() can return */

/* options (flags) */
#define SIGV4_DOUBLE_ENCODE 0x01u /* canonical path = the wire path %-encoded once more
                                     (every service but S3); else the wire path as is */
#define SIGV4_NORMALIZE     0x02u /* drop "." and empty segments, apply ".." */
#define SIGV4_SIGN_BODY     0x04u /* header form: add and sign x-amz-content-sha256 */
#define SIGV4_OMIT_TOKEN    0x08u /* the session token is sent but not signed */
#define SIGV4_PRESIGN       0x10u /* query form (presigned URL) instead of Authorization */

struct sigv4_header {
	struct slice name;
	struct slice value;
};

struct sigv4_creds {
	const char *akid;   /* access key id */
	const char *secret; /* secret access key: only ever fed to HMAC */
	const char *token;  /* session token, NULL or "" when none */
};

/* The request as it will go on the wire. */
struct sigv4_request {
	struct slice method;                /* "GET", "POST", ... */
	struct slice path;                  /* raw path, already %-encoded; empty = "/" */
	struct slice query;                 /* raw query without '?', may be empty */
	const struct sigv4_header *headers; /* every header to sign, host included */
	size_t nheaders;
	struct slice body;
	const char *payload_hash; /* NULL: hex SHA-256 of body; else used verbatim
	                             (a precomputed hex hash, "UNSIGNED-PAYLOAD") */
};

struct sigv4_params {
	const struct sigv4_creds *creds;
	const char *region;  /* e.g. "us-east-1" */
	const char *service; /* e.g. "bedrock" */
	time_t now;          /* signing time (UTC seconds; add any clock-skew offset first) */
	unsigned flags;      /* SIGV4_* */
	unsigned long expires; /* SIGV4_PRESIGN: X-Amz-Expires in seconds (1..604800) */
};

/* Signing-key cache: one derived key, for one (date, region, service,
 * access key, secret) tuple. Caller-owned, no globals; not thread-safe
 * (one per thread or under the caller's lock). */
struct sigv4_ctx {
	int valid;
	char date[9];
	char region[64];
	char service[64];
	char akid[128];
	uint8_t secret_fp[32]; /* SHA-256 of the secret: a changed secret is a miss */
	uint8_t key[32];
	unsigned long derivations; /* how many keys were derived (tests) */
};

void sigv4_ctx_init(struct sigv4_ctx *c);
void sigv4_ctx_release(struct sigv4_ctx *c); /* wipes the cached key */

struct sigv4_result {
	char amz_date[17];      /* "YYYYMMDDTHHMMSSZ" */
	char payload_hash[129]; /* as in the canonical request */
	char signature[65];     /* lower-case hex */
	struct buf canonical;   /* canonical request (never holds the secret; holds
	                           the session token when it is signed) */
	struct buf string_to_sign;
	struct buf signed_headers; /* "host;x-amz-date" */
	struct buf authorization;  /* header form: value of the Authorization header */
	struct buf query; /* presign form: "X-Amz-Algorithm=...&...&X-Amz-Signature=<sig>"
	                     (with X-Amz-Security-Token when there is a token), to append
	                     to the wire query with '&' (or '?' when it is empty) */
	struct slice token; /* header form: value for X-Amz-Security-Token (points
	                       into the creds), empty when none */
	unsigned flags;
};

void sigv4_result_init(struct sigv4_result *r);
void sigv4_result_free(struct sigv4_result *r); /* wipes */

/* Signs req. ctx may be NULL (no cache). Returns 0, or -1 with e filled
 * (ERR_OTHER: limits, memory, bad arguments; ERR_PROTO: malformed path or
 * query %-escapes, header names). The result is reset first. */
int sigv4_sign(struct sigv4_ctx *ctx, const struct sigv4_request *req,
	       const struct sigv4_params *p, struct sigv4_result *out, struct err *e);

/* Header form: the headers to add to the request, in this order:
 * X-Amz-Date, X-Amz-Security-Token (when there is a token),
 * X-Amz-Content-Sha256 (SIGV4_SIGN_BODY), Authorization. Slices point into
 * r (and the creds). Returns the count (0 for a presign result). */
size_t sigv4_added_headers(const struct sigv4_result *r, struct sigv4_header out[SIGV4_MAX_ADDED]);

/* The canonical request alone (tests, fuzzing, --verbose): no credentials
 * needed. signed_headers gets the signed header list. Used by sigv4_sign. */
int sigv4_canonical_request(const struct sigv4_request *req, unsigned flags,
			    struct buf *out, struct buf *signed_headers, struct err *e);

/* Formats t (UTC) as "YYYYMMDDTHHMMSSZ"; -1 if the year is not 4 digits. */
int sigv4_amz_date(time_t t, char out[17]);
/* One-shot SHA-256 of p[0..n); the hash context is wiped. */
void sigv4_sha256(const void *p, size_t n, uint8_t out[32]);

#endif
