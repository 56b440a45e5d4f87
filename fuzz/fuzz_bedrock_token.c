/* fuzz_bedrock_token: the Bedrock API key reader, and the mint/read round
 * trip. Input: first byte even: the rest is a key to read. Odd: 8 bytes of
 * signing time (mod 10000 years), 3 bytes of lifetime, then
 * "akid\nsecret\ntoken\nregion"; whatever the builder accepts, the reader
 * must read back as exactly what was signed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/bedrock_token.h"

#define FZ_YEARS_10K 315537897600LL /* about 10000 years of seconds: the last 2000 the signer refuses */

static void fz_read(const uint8_t *p, size_t n)
{
	struct bedrock_token_info a, b;
	struct err e;

	if (bedrock_token_parse((const char *)p, n, &a, &e) < 0) {
		if (!e.msg[0] || e.cls != ERR_USAGE || a.region[0] || a.expires)
			abort();
		return;
	}
	if (!a.region[0] || !a.akid[0] || a.expires < 1 || a.expires > 604800 ||
	    a.expiration != a.signed_at + (time_t)a.expires)
		abort();
	if (bedrock_token_parse((const char *)p, n, &b, &e) < 0 || memcmp(&a, &b, sizeof a) != 0)
		abort();
}

/* The next '\n'-terminated field as a NUL-terminated string in s (which the
 * caller owns); *p advances past it. */
static char *fz_field(char **p)
{
	char *s = *p, *nl = s ? strchr(s, '\n') : NULL;

	if (nl) {
		*nl = 0;
		*p = nl + 1;
	} else {
		*p = NULL;
	}
	return s ? s : "";
}

static void fz_round_trip(const uint8_t *p, size_t n)
{
	struct bedrock_token_info in;
	struct sigv4_creds c;
	struct err e;
	struct buf out;
	uint64_t t = 0;
	unsigned long life = 0;
	char *s, *cur;
	const char *region;

	if (n < 11)
		return;
	for (int i = 0; i < 8; i++)
		t = t << 8 | p[i];
	for (int i = 8; i < 11; i++)
		life = life << 8 | p[i];
	s = malloc(n - 11 + 1);
	if (!s)
		return;
	memcpy(s, p + 11, n - 11);
	s[n - 11] = 0;
	cur = s;
	c.akid = fz_field(&cur);
	c.secret = fz_field(&cur);
	c.token = fz_field(&cur);
	region = fz_field(&cur);
	buf_init(&out, BEDROCK_TOKEN_MAX);
	t %= (uint64_t)FZ_YEARS_10K;
	if (bedrock_token_build(&c, region, (time_t)t, life, &out, &e) == 0) {
		if (bedrock_token_parse((const char *)out.p, out.len, &in, &e) < 0)
			abort();
		if (strcmp(in.akid, c.akid) != 0 || strcmp(in.region, region) != 0 ||
		    in.signed_at != (time_t)t || in.expires != life || in.session != (c.token[0] != 0))
			abort();
	} else if (!e.msg[0] || out.len != 0) {
		abort();
	}
	buf_free(&out);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fz_round_trip(data + 1, size - 1);
	else
		fz_read(data + 1, size - 1);
	return 0;
}
