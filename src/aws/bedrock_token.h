/* bedrock_token: short-term Bedrock API keys (SPEC section 8), minted
 * offline the way AWS's token generators do, and read back.
 *
 * A key is "bedrock-api-key-" + base64 (standard, padded) of a SigV4
 * presigned URL without its "https://":
 *
 *   bedrock.amazonaws.com/?Action=CallWithBearerToken&X-Amz-Algorithm=...
 *     &X-Amz-Credential=...&X-Amz-Date=...&X-Amz-Expires=...
 *     [&X-Amz-Security-Token=...]&X-Amz-Signature=...&X-Amz-SignedHeaders=host
 *     &Version=1
 *
 * presigned for POST / with only the host header signed, service "bedrock",
 * the caller's region; the parameters sorted by name as the reference
 * generator (@aws/bedrock-token-generator) writes them, so the same
 * credentials, region, time and expiry give the same bytes
 * (tests/vectors/bedrock/token-*.txt).
 *
 * A key is a secret: it carries the session token and a signature that
 * grants access until it expires. Buffers that held one are wiped. The
 * reader needs no credentials and never checks the signature (only AWS, or
 * the test emulator, can); it extracts what a user may see: region, access
 * key id, signing time and lifetime. No I/O. */
#ifndef BROCK_BEDROCK_TOKEN_H
#define BROCK_BEDROCK_TOKEN_H

#include <stddef.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "wire/sigv4.h"

#define BEDROCK_TOKEN_PREFIX "bedrock-api-key-"
#define BEDROCK_TOKEN_HOST "bedrock.amazonaws.com"
#define BEDROCK_TOKEN_DEFAULT_EXPIRES 43200ul /* 12 hours, the generators' default */
#define BEDROCK_TOKEN_MAX_EXPIRES 43200ul     /* and their maximum */
#define BEDROCK_TOKEN_MAX (64u * 1024u)       /* bytes of a key (8 KiB session tokens fit) */

/* The lifetime to sign: requested (1..BEDROCK_TOKEN_MAX_EXPIRES, else
 * ERR_USAGE) capped at the credentials' expiry creds_expires (0: they do not
 * expire), so a key never outlives the credentials that signed it.
 * Credentials already expired at now: ERR_CREDS. */
int bedrock_token_lifetime(time_t now, time_t creds_expires, unsigned long requested,
			   unsigned long *out, struct err *e);

/* Appends the key for creds, signed at now for region, valid for expires
 * seconds (1..604800, SigV4's limit; use bedrock_token_lifetime first), to
 * out (whose limit must allow BEDROCK_TOKEN_MAX). Errors as sigv4_sign's
 * (ERR_CREDS for malformed credentials, ERR_USAGE for a bad region);
 * messages never hold a secret. On error out is left as it was. */
int bedrock_token_build(const struct sigv4_creds *creds, const char *region, time_t now,
			unsigned long expires, struct buf *out, struct err *e);

/* What a key says about itself. */
struct bedrock_token_info {
	char region[64];
	char akid[128];
	time_t signed_at;      /* X-Amz-Date */
	unsigned long expires; /* X-Amz-Expires */
	time_t expiration;     /* signed_at + expires */
	int session;           /* carries X-Amz-Security-Token (temporary credentials) */
};

/* Reads the key s[0..n) (surrounding whitespace is not allowed). 0, or -1
 * with ERR_USAGE when it is not a well-formed short-term Bedrock API key
 * (a long-term key, "ABSK...", is not one): wrong prefix or base64, another
 * host or action, a missing, repeated or unknown parameter, a malformed
 * credential scope, date, lifetime or signature. The message never quotes
 * the key. */
int bedrock_token_parse(const char *s, size_t n, struct bedrock_token_info *out, struct err *e);

#endif
