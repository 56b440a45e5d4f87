/* creds_int: what the files of the credential chain share (private: only
 * src/aws/creds*.c and the unit test include it; creds.h is the interface).
 *
 *   creds.c            the chain, the cache, the environment sources
 *   creds_profile.c    the shared files and every form of a profile
 *   creds_json.c       credentials in JSON (process, container, IMDS, SSO)
 *   creds_process.c    credential_process
 *   creds_sts.c        STS AssumeRole and AssumeRoleWithWebIdentity
 *   creds_container.c  container credentials (ECS/EKS)
 *   creds_imds.c       EC2 instance metadata (IMDSv2, v1 fallback)
 *   creds_sso.c        IAM Identity Center (SSO)
 *   creds_region.c     the region chain
 *
 * A source either yields credentials (0), says it is not configured
 * (SRC_SKIP, with a note for the "what was tried" message), or fails (-1:
 * the chain stops there, the way the AWS SDKs stop on a broken profile). */
#ifndef BROCK_CREDS_INT_H
#define BROCK_CREDS_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "aws/creds.h"
#include "base/buf.h"
#include "net/httpc.h"
#include "wire/json.h"
#include "wire/profile.h"

#define SRC_SKIP 1 /* the source is not configured: try the next one */

/* ---- small helpers (creds.c) ---- */

/* The chain's clock (the aws test seam, else time()). */
time_t creds_now(const struct creds_chain *c);
/* Appends "; what" to the tried list (silently truncated: it is a hint). */
void creds_tried_add(struct buf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copies s[0..n) into dst as a C string; -1 when it does not fit. */
int creds_copy_str(char *dst, size_t cap, const void *s, size_t n);
/* The profile name: --profile, else AWS_PROFILE, else "default". */
const char *creds_profile_name(const struct env *env, const char *flag);
/* AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN: 0, SRC_SKIP
 * when unset, -1 when only half is set. */
int creds_env_keys(struct creds_chain *c, struct aws_creds *out, struct buf *tried, struct err *e);

/* ---- the shared files and the profile (creds_profile.c) ---- */

/* Both shared files, read fresh (rotated files are picked up) and parsed. */
struct aws_files {
	char config_path[1024], creds_path[1024];
	struct buf config_text, creds_text;
	struct profile_file *config, *creds;
	struct profile_set set;
	int config_exists, creds_exists;
};

int creds_files_load(const struct env *env, struct aws_files *f, struct err *e);
void creds_files_free(struct aws_files *f);
/* A profile property as a C string; 1 found (non-empty), 0 not, -1 too long. */
int creds_pget(const struct aws_files *f, const char *profile, const char *key, char *dst, size_t n,
	       struct err *e);
/* The profile source of the chain (every form of a profile). */
int creds_src_profile(struct creds_chain *c, struct aws_creds *out, struct buf *tried,
		      struct err *e);

/* ---- credentials in JSON (creds_json.c) ---- */

struct creds_keys {
	const char *akid, *secret, *token, *expiration;
};
extern const struct creds_keys creds_keys_process; /* credential_process */
extern const struct creds_keys creds_keys_meta;    /* container, IMDS */

/* String member key of obj into dst: 1 found, 0 absent (or null), -1 bad. */
int creds_jstr(const struct json_doc *d, int obj, const char *key, char *dst, size_t cap,
	       const char *what, struct err *e);
/* A required string member: 0 or -1. */
int creds_jstr_req(const struct json_doc *d, int obj, const char *key, char *dst, size_t cap,
		   const char *what, struct err *e);
/* ISO 8601 or any other form timefmt knows: 0 or -1. */
int creds_parse_expiration(const char *s, time_t *t);
/* Parses b as a JSON object (ERR_CREDS naming what otherwise). */
int creds_json_open(struct json_doc *d, const struct buf *b, const char *what, struct err *e);
/* Credentials from a JSON object with the member names k; need_version:
 * "Version": 1 is required (credential_process), else a "Code" other than
 * "Success" is an error (container, IMDS). */
int creds_json_creds(const char *what, const struct buf *b, const struct creds_keys *k,
		     int need_version, struct aws_creds *out, struct err *e);

/* ---- credential_process (creds_process.c) ---- */

/* Runs cmd (profile name's credential_process) and parses its answer. */
int creds_process(const struct creds_chain *c, const char *name, const char *cmd,
		  struct aws_creds *out, struct err *e);

/* ---- STS (creds_sts.c) ---- */

struct creds_role {
	char arn[2048];
	char session[128];
	char external_id[1280];
	char duration[16];
};

/* "brock-<unix time>", the session name when none is configured. */
void creds_session_name(const struct creds_chain *c, char *out, size_t n);
int creds_sts_assume_role(struct creds_chain *c, const struct aws_creds *signer,
			  const struct creds_role *p, struct aws_creds *out, struct err *e);
/* AssumeRoleWithWebIdentity with the token read (fresh) from token_file. */
int creds_sts_web_identity(struct creds_chain *c, const char *arn, const char *session,
			   const char *token_file, struct aws_creds *out, struct err *e);

/* ---- container and IMDS (creds_container.c, creds_imds.c) ---- */

/* A GET answered with JSON credentials; one retry on a 5xx or a network
 * error that is not final (a rejected certificate is). */
int creds_meta_get(struct creds_chain *c, const char *what, const char *url,
		   const struct httpc_header *h, size_t nh, const struct conn_opts *opts,
		   struct httpc_result *res, struct err *e);
/* The container URL from the environment: 1 found, 0 not configured. */
int creds_container_url(const struct creds_chain *c, char *url, size_t n, struct err *e);
int creds_container_fetch(struct creds_chain *c, const char *url, struct aws_creds *out,
			  struct err *e);
int creds_imds_fetch(struct creds_chain *c, struct aws_creds *out, struct err *e);
/* The role name on the first line of IMDS's security-credentials listing
 * p[0..n): 1 to cap-1 bytes of A-Z a-z 0-9 + = , . @ _ - (IAM's alphabet),
 * copied into role as a C string. 0, or -1 when there is no usable name. */
int creds_imds_role(const uint8_t *p, size_t n, char *role, size_t cap);
/* IMDSv2's session token from the PUT's body p[0..n): trailing white space
 * dropped, then 1 to cap-1 visible ASCII bytes (no NUL, no control byte),
 * copied into tok as a C string. 0, or -1 when unusable. */
int creds_imds_token(const uint8_t *p, size_t n, char *tok, size_t cap);

/* ---- IAM Identity Center (creds_sso.c) ---- */

/* Credentials of profile name when it uses SSO (either form): 0, SRC_SKIP
 * when it does not, -1 on failure. */
int creds_sso(struct creds_chain *c, const struct aws_files *f, const char *name,
	      struct aws_creds *out, struct err *e);

#endif
