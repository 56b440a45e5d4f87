/* test_bedrock_token: short-term Bedrock API keys. The keys are compared byte
 * for byte with those AWS's own generator (@aws/bedrock-token-generator,
 * tests/gen/bedrock_token_vectors.mjs) minted for the same credentials,
 * region, time and lifetime (tests/vectors/bedrock/token-*.txt); then the
 * lifetime cap, the refusals, and the reader on good and broken keys. */
#include <stdlib.h>
#include <string.h>

#include "aws/bedrock_token.h"
#include "base/base64.h"
#include "t.h"

#define BRDIR "tests/vectors/bedrock/"

/* The value of "key: value" in a vector file, as a malloc'd string. */
static char *kv(const char *txt, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = txt; p && *p;) {
		if (strncmp(p, key, kl) == 0 && p[kl] == ':' && p[kl + 1] == ' ') {
			const char *v = p + kl + 2, *nl = strchr(v, '\n');
			size_t n = nl ? (size_t)(nl - v) : strlen(v);
			char *s = malloc(n + 1);

			if (!s)
				abort();
			memcpy(s, v, n);
			s[n] = 0;
			return s;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static int vector_case(const char *name)
{
	char path[256];
	char *txt, *akid, *secret, *tok, *region, *time_s, *exp_s, *url, *want;
	struct sigv4_creds cr;
	struct bedrock_token_info info;
	struct buf out;
	struct err e = {0, ""};
	int ok = 1;

	snprintf(path, sizeof path, BRDIR "%s.txt", name);
	txt = t_slurp(path, NULL);
	if (!txt)
		return 0;
	akid = kv(txt, "akid");
	secret = kv(txt, "secret");
	tok = kv(txt, "token");
	region = kv(txt, "region");
	time_s = kv(txt, "time");
	exp_s = kv(txt, "expires");
	url = kv(txt, "url");
	want = kv(txt, "key");
	if (!akid || !secret || !tok || !region || !time_s || !exp_s || !url || !want) {
		free(txt);
		return 0;
	}
	cr = (struct sigv4_creds){akid, secret, tok};
	buf_init(&out, BEDROCK_TOKEN_MAX);
	ok &= bedrock_token_build(&cr, region, (time_t)strtoll(time_s, NULL, 10),
				  strtoul(exp_s, NULL, 10), &out, &e) == 0;
	if (ok && strcmp((const char *)out.p, want) != 0) {
		fprintf(stderr, "  %s\n  got:  %s\n  want: %s\n", name, (const char *)out.p, want);
		ok = 0;
	}
	/* and the key reads back as what was signed */
	ok &= bedrock_token_parse(want, strlen(want), &info, &e) == 0;
	ok &= strcmp(info.region, region) == 0 && strcmp(info.akid, akid) == 0;
	ok &= info.signed_at == (time_t)strtoll(time_s, NULL, 10);
	ok &= info.expires == strtoul(exp_s, NULL, 10);
	ok &= info.expiration == info.signed_at + (time_t)info.expires;
	ok &= info.session == (tok[0] != 0);
	buf_free(&out);
	free(akid), free(secret), free(tok), free(region), free(time_s), free(exp_s);
	free(url), free(want), free(txt);
	return ok;
}

static void test_vectors(void)
{
	static const char *const names[] = {"token-default", "token-session", "token-eu-1s"};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		t_case(names[i], vector_case(names[i]));
}

static void test_lifetime(void)
{
	struct err e = {0, ""};
	unsigned long x = 0;
	const time_t now = 1800000000;

	/* long-term keys: what was asked */
	CHECK(bedrock_token_lifetime(now, 0, 43200, &x, &e) == 0 && x == 43200);
	CHECK(bedrock_token_lifetime(now, 0, 1, &x, &e) == 0 && x == 1);
	/* temporary credentials: never past their expiry */
	CHECK(bedrock_token_lifetime(now, now + 600, 43200, &x, &e) == 0 && x == 600);
	CHECK(bedrock_token_lifetime(now, now + 1, 900, &x, &e) == 0 && x == 1);
	CHECK(bedrock_token_lifetime(now, now + 900, 900, &x, &e) == 0 && x == 900);
	CHECK(bedrock_token_lifetime(now, now + 50000, 43200, &x, &e) == 0 && x == 43200);
	/* expired credentials: exit 3 */
	CHECK(bedrock_token_lifetime(now, now, 900, &x, &e) < 0 && e.cls == ERR_CREDS);
	CHECK(bedrock_token_lifetime(now, now - 5, 900, &x, &e) < 0 && e.cls == ERR_CREDS);
	/* out of the generators' range: usage */
	CHECK(bedrock_token_lifetime(now, 0, 0, &x, &e) < 0 && e.cls == ERR_USAGE);
	CHECK(bedrock_token_lifetime(now, 0, 43201, &x, &e) < 0 && e.cls == ERR_USAGE);
	CHECK(bedrock_token_lifetime(now, now + 600, 604800, &x, &e) < 0 && e.cls == ERR_USAGE);
}

static const struct sigv4_creds good = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
					"IQoJb3JpZ2luX2VjEXAMPLE/+/token"};

/* The key leaks neither the secret nor anything but what the URL carries. */
static void test_no_secret(void)
{
	struct buf out, url;
	struct err e = {0, ""};
	const char *b64;

	buf_init(&out, BEDROCK_TOKEN_MAX);
	buf_init(&url, BEDROCK_TOKEN_MAX);
	CHECK(bedrock_token_build(&good, "us-west-2", 1800000000, 3600, &out, &e) == 0);
	CHECK(strstr((const char *)out.p, good.secret) == NULL);
	b64 = (const char *)out.p + strlen(BEDROCK_TOKEN_PREFIX);
	CHECK(base64_decode_buf(&url, b64, strlen(b64), 0) == 0);
	CHECK(url.len && strstr((const char *)url.p, "wJalrXUtnFEMI") == NULL);
	CHECK(strncmp((const char *)url.p, "bedrock.amazonaws.com/?Action=CallWithBearerToken&", 50) == 0);
	CHECK(url.len > 10 && memcmp(url.p + url.len - 10, "&Version=1", 10) == 0);
	buf_free(&out);
	buf_free(&url);
}

/* Refusals leave the output as it was, and say nothing secret. */
static void test_build_errors(void)
{
	struct buf out;
	struct err e = {0, ""};
	struct sigv4_creds c = good;

	buf_init(&out, BEDROCK_TOKEN_MAX);
	CHECK(buf_append_str(&out, "keep") == 0);
	c.secret = "";
	CHECK(bedrock_token_build(&c, "us-east-1", 1800000000, 60, &out, &e) < 0 && e.cls == ERR_CREDS);
	c = good;
	c.akid = "";
	CHECK(bedrock_token_build(&c, "us-east-1", 1800000000, 60, &out, &e) < 0 && e.cls == ERR_CREDS);
	CHECK(bedrock_token_build(&good, "us east 1", 1800000000, 60, &out, &e) < 0 &&
	      e.cls == ERR_USAGE);
	CHECK(strstr(e.msg, good.secret) == NULL && strstr(e.msg, good.token) == NULL);
	CHECK(bedrock_token_build(&good, "us-east-1", 1800000000, 0, &out, &e) < 0);
	CHECK(bedrock_token_build(&good, "us-east-1", 1800000000, 604801, &out, &e) < 0);
	CHECK_STR((const char *)out.p, "keep");
	/* a key too long for the output's limit */
	buf_free(&out);
	buf_init(&out, 100);
	CHECK(bedrock_token_build(&good, "us-east-1", 1800000000, 60, &out, &e) < 0);
	CHECK(out.len == 0);
	buf_free(&out);
}

/* Encodes url as a key and parses it; returns the parse result. */
static int parse_url(const char *url, struct bedrock_token_info *info, struct err *e)
{
	struct buf k;
	int r;

	buf_init(&k, BEDROCK_TOKEN_MAX);
	if (buf_append_str(&k, BEDROCK_TOKEN_PREFIX) < 0 || base64_encode_buf(&k, url, strlen(url)) < 0)
		abort();
	r = bedrock_token_parse((const char *)k.p, k.len, info, e);
	buf_free(&k);
	return r;
}

#define U_HEAD "bedrock.amazonaws.com/?"
#define U_ACT "Action=CallWithBearerToken"
#define U_ALG "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
#define U_CRED "&X-Amz-Credential=AKID%2F20270101%2Feu-west-1%2Fbedrock%2Faws4_request"
#define U_DATE "&X-Amz-Date=20270101T000000Z"
#define U_EXP "&X-Amz-Expires=900"
#define U_SIG "&X-Amz-Signature=574bfbbe1ac1affd829e26c26b97685a50833036dcea47dcb15ccba8d17ecc28"
#define U_SH "&X-Amz-SignedHeaders=host"
#define U_VER "&Version=1"

static void test_parse(void)
{
	struct bedrock_token_info in;
	struct err e = {0, ""};

	CHECK(parse_url(U_HEAD U_ACT U_ALG U_CRED U_DATE U_EXP U_SIG U_SH U_VER, &in, &e) == 0);
	CHECK_STR(in.region, "eu-west-1");
	CHECK_STR(in.akid, "AKID");
	CHECK(in.signed_at == 1798761600 && in.expires == 900 && in.expiration == 1798762500);
	CHECK(in.session == 0);
	/* any order (other generators may sort differently), with a session token */
	CHECK(parse_url(U_HEAD "Version=1&" U_ACT U_SH U_SIG U_EXP U_DATE U_CRED U_ALG
			"&X-Amz-Security-Token=a%2Fb", &in, &e) == 0);
	CHECK(in.session == 1 && in.expires == 900);
	/* the longest lifetime SigV4 allows */
	CHECK(parse_url(U_HEAD U_ACT U_ALG U_CRED U_DATE "&X-Amz-Expires=604800" U_SIG U_SH U_VER,
			&in, &e) == 0);
}

static void test_parse_rejects(void)
{
	static const char *const bad[] = {
		/* another host, scheme kept, another action or version */
		"bedrock.amazonaws.co/?" U_ACT U_ALG U_CRED U_DATE U_EXP U_SIG U_SH U_VER,
		"https://" U_HEAD U_ACT U_ALG U_CRED U_DATE U_EXP U_SIG U_SH U_VER,
		U_HEAD "Action=Other" U_ALG U_CRED U_DATE U_EXP U_SIG U_SH U_VER,
		U_HEAD U_ACT U_ALG U_CRED U_DATE U_EXP U_SIG U_SH "&Version=2",
		/* missing, repeated, unknown, valueless parameters */
		U_HEAD U_ACT U_ALG U_CRED U_DATE U_EXP U_SIG U_SH,
		U_HEAD U_ACT U_ALG U_CRED U_DATE U_SIG U_SH U_VER,
		U_HEAD U_ACT U_ALG U_CRED U_DATE U_EXP U_EXP U_SIG U_SH U_VER,
		U_HEAD U_ACT U_ALG U_CRED U_DATE U_EXP U_SIG U_SH U_VER "&X-Amz-Foo=1",
		U_HEAD U_ACT U_ALG U_CRED U_DATE U_EXP U_SIG U_SH U_VER "&X-Amz-Security-Token",
		U_HEAD U_ACT U_ALG U_CRED U_DATE U_EXP U_SIG U_SH U_VER "&X-Amz-Security-Token=",
		U_HEAD U_ACT U_ALG U_CRED U_DATE U_EXP U_SIG U_SH U_VER "&",
		/* algorithm, signed headers, signature */
		U_HEAD U_ACT "&X-Amz-Algorithm=AWS4-HMAC-SHA1" U_CRED U_DATE U_EXP U_SIG U_SH U_VER,
		U_HEAD U_ACT U_ALG U_CRED U_DATE U_EXP U_SIG "&X-Amz-SignedHeaders=host%3Bx" U_VER,
		U_HEAD U_ACT U_ALG U_CRED U_DATE U_EXP "&X-Amz-Signature=ABCD" U_SH U_VER,
		U_HEAD U_ACT U_ALG U_CRED U_DATE U_EXP
		"&X-Amz-Signature=574BFBBE1ac1affd829e26c26b97685a50833036dcea47dcb15ccba8d17ecc28" U_SH U_VER,
		/* lifetime */
		U_HEAD U_ACT U_ALG U_CRED U_DATE "&X-Amz-Expires=0" U_SIG U_SH U_VER,
		U_HEAD U_ACT U_ALG U_CRED U_DATE "&X-Amz-Expires=0900" U_SIG U_SH U_VER,
		U_HEAD U_ACT U_ALG U_CRED U_DATE "&X-Amz-Expires=604801" U_SIG U_SH U_VER,
		U_HEAD U_ACT U_ALG U_CRED U_DATE "&X-Amz-Expires=-1" U_SIG U_SH U_VER,
		U_HEAD U_ACT U_ALG U_CRED U_DATE "&X-Amz-Expires=" U_SIG U_SH U_VER,
		/* date, and the credential scope against it */
		U_HEAD U_ACT U_ALG U_CRED "&X-Amz-Date=20270101T000000" U_EXP U_SIG U_SH U_VER,
		U_HEAD U_ACT U_ALG U_CRED "&X-Amz-Date=20270102T000000Z" U_EXP U_SIG U_SH U_VER,
		U_HEAD U_ACT U_ALG "&X-Amz-Credential=AKID%2F20270101%2Feu-west-1%2Fsts%2Faws4_request"
		U_DATE U_EXP U_SIG U_SH U_VER,
		U_HEAD U_ACT U_ALG "&X-Amz-Credential=AKID%2F20270101%2Feu-west-1%2Fbedrock"
		U_DATE U_EXP U_SIG U_SH U_VER,
		U_HEAD U_ACT U_ALG "&X-Amz-Credential=AKID%2F20270101%2Feu%2Bwest%2Fbedrock%2Faws4_request"
		U_DATE U_EXP U_SIG U_SH U_VER,
		U_HEAD U_ACT U_ALG "&X-Amz-Credential=%2F20270101%2Feu-west-1%2Fbedrock%2Faws4_request"
		U_DATE U_EXP U_SIG U_SH U_VER,
		U_HEAD U_ACT U_ALG "&X-Amz-Credential=AKID%2F20270101%2Feu-west-1%2Fbedrock%2Faws4_request%2Fx"
		U_DATE U_EXP U_SIG U_SH U_VER,
		U_HEAD U_ACT U_ALG "&X-Amz-Credential=AKID%ZZ20270101%2Feu-west-1%2Fbedrock%2Faws4_request"
		U_DATE U_EXP U_SIG U_SH U_VER,
		U_HEAD U_ACT U_ALG "&X-Amz-Credential=AK%00D%2F20270101%2Feu-west-1%2Fbedrock%2Faws4_request"
		U_DATE U_EXP U_SIG U_SH U_VER,
	};
	struct bedrock_token_info in;
	struct err e = {0, ""};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		e.cls = 0;
		if (parse_url(bad[i], &in, &e) == 0 || e.cls != ERR_USAGE) {
			fprintf(stderr, "  accepted: %s\n", bad[i]);
			CHECK(!"malformed key accepted");
		}
		CHECK(in.region[0] == 0 && in.expires == 0);
	}
}

static void test_parse_not_a_key(void)
{
	static const char *const bad[] = {
		"", "bedrock-api-key-", "bedrock-api-key", "Bedrock-api-key-YQ==",
		/* a long-term key is not a short-term one */
		"ABSKZW11bGF0b3ItYmVkcm9jay1hcGkta2V5LTAwMDE=",
		"bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29tLz9", /* bad padding */
		"bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29tLz8=", /* the URL head alone */
		"bedrock-api-key- YmVk", "bedrock-api-key-YmVk\n",
	};
	struct bedrock_token_info in;
	struct err e = {0, ""};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(bedrock_token_parse(bad[i], strlen(bad[i]), &in, &e) < 0 && e.cls == ERR_USAGE);
}

/* Whatever the build makes, the reader reads back (every region shape and
 * lifetime boundary). */
static void test_round_trip(void)
{
	static const char *const regions[] = {"us-east-1", "ap-southeast-2", "us-gov-west-1", "X_.9"};
	static const unsigned long lifetimes[] = {1, 59, 43200, 604800};
	struct err e = {0, ""};

	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < 4; j++) {
			struct buf out;
			struct bedrock_token_info in;
			struct sigv4_creds c = good;

			c.token = (j & 1) ? good.token : NULL;
			buf_init(&out, BEDROCK_TOKEN_MAX);
			CHECK(bedrock_token_build(&c, regions[i], 1800000000 + (time_t)j, lifetimes[j],
						  &out, &e) == 0);
			CHECK(bedrock_token_parse((const char *)out.p, out.len, &in, &e) == 0);
			CHECK_STR(in.region, regions[i]);
			CHECK(in.expires == lifetimes[j] && in.signed_at == 1800000000 + (time_t)j);
			CHECK(in.session == (int)(j & 1));
			buf_free(&out);
		}
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_vectors);
	T_RUN(test_lifetime);
	T_RUN(test_no_secret);
	T_RUN(test_build_errors);
	T_RUN(test_parse);
	T_RUN(test_parse_rejects);
	T_RUN(test_parse_not_a_key);
	T_RUN(test_round_trip);
	return t_done(argv[0]);
}
