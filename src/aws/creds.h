/* creds: the AWS default credential chain (SPEC section 2) and the region
 * chain. Sources in order: Bedrock API key (AWS_BEARER_TOKEN_BEDROCK),
 * environment keys, the shared-config profile (static keys,
 * credential_process, role_arn + source_profile / credential_source,
 * role_arn + web_identity_token_file, IAM Identity Center), web identity from
 * the environment, container credentials, EC2 IMDSv2. Temporary credentials
 * are cached here and refreshed 5 minutes before they expire; a refresh never
 * touches credentials a running request already copied. */
#ifndef BROCK_CREDS_H
#define BROCK_CREDS_H

#include <pthread.h>
#include <time.h>

#include "aws/aws.h"
#include "base/env.h"
#include "base/err.h"

#define CREDS_REFRESH_BEFORE_S 300
#define CREDS_PROCESS_TIMEOUT_MS 60000 /* credential_process may run this long */

struct creds_chain {
	const struct env *env;
	struct aws *aws;     /* for STS, SSO, IMDS and container calls */
	const char *profile; /* --profile, or NULL (then AWS_PROFILE, else "default") */
	int sigv4_only;      /* skip AWS_BEARER_TOKEN_BEDROCK: the caller must sign
				(brock token); set before the first creds_get */
	pthread_mutex_t mu;
	int have;
	struct aws_creds cached;
	char tried[1024]; /* what was tried, for the "no credentials" message */
	/* IMDS: token cache and "unreachable" memo (asked once per process). */
	char imds_token[128];
	time_t imds_token_expires;
	int imds_unreachable;
	int process_timeout_ms; /* CREDS_PROCESS_TIMEOUT_MS, or
				 * BROCK_CREDENTIAL_PROCESS_TIMEOUT seconds */
};

void creds_init(struct creds_chain *c, const struct env *env, struct aws *aws, const char *profile);
void creds_free(struct creds_chain *c); /* wipes */

/* Copies usable credentials into out (from the cache when still fresh).
 * ERR_CREDS with a message listing what was tried when no source yields
 * credentials, or naming the source that failed and why. */
int creds_get(struct creds_chain *c, struct aws_creds *out, struct err *e);
/* Without blocking: 1 with a copy of fresh cached credentials, or of keys
 * in the environment (read without I/O); 0 when getting them may block (a
 * refresh, a file, a process, a network source): use creds_get on a
 * helper thread then. */
int creds_peek(struct creds_chain *c, struct aws_creds *out);

/* The rule for AWS_CONTAINER_CREDENTIALS_FULL_URI (v): https to any host;
 * http only to a dotted-quad 127.x.y.z, [::1], 169.254.170.2,
 * 169.254.170.23, [fd00:ec2::23] or "localhost" (which is fetched as
 * 127.0.0.1: it is never looked up, so no resolver can send it elsewhere);
 * never with a user name or password in the URL. 0 with the URL to fetch in
 * url, or -1 (ERR_CREDS; the message never repeats a password). */
int creds_container_full_url(const char *v, char *url, size_t n, struct err *e);

/* The region chain: --region (flag), AWS_REGION, AWS_DEFAULT_REGION, the
 * profile's region, discovery_region (config), the region of base_url (a
 * standard AWS host), then "us-east-1". source names where it came from. */
int creds_region(const struct env *env, const char *flag, const char *profile,
		 const char *discovery_region, const char *base_url, char *out, size_t n,
		 char *source, size_t sn, struct err *e);

#endif
