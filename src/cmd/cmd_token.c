/* cmd_token: `brock token [--expires SECONDS] [--json]` (SPEC section 8).
 * Mints a short-term Bedrock API key from the current SigV4 credentials,
 * offline (aws/bedrock_token.h), for the resolved region. The key is a
 * secret: it goes to stdout and nowhere else (no -v line, no error message
 * ever holds it), and every buffer that held it is wiped. A bearer token
 * alone cannot sign a new key: the credential chain skips
 * AWS_BEARER_TOKEN_BEDROCK here, so with nothing else the answer is exit 3. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/bedrock_token.h"
#include "aws/creds.h"
#include "base/timefmt.h"
#include "cmd/cmd.h"
#include "cmd/ctx.h"
#include "wire/json.h"

static const char token_usage[] =
	"usage: brock token [--expires SECONDS] [--json]\n"
	"  Mints a short-term Bedrock API key (bedrock-api-key-...) from the current\n"
	"  SigV4 credentials, offline, for the region (--region, AWS_REGION, ...).\n"
	"  Use it as AWS_BEARER_TOKEN_BEDROCK or 'Authorization: Bearer <key>'.\n"
	"  The key is a secret; it is printed on stdout only.\n"
	"  --expires SECONDS  lifetime, 1..43200 (default 43200, 12 hours); never past\n"
	"                     the expiry of temporary credentials\n"
	"  --json             {\"token\",\"region\",\"expiration\"} instead of the key alone\n";

struct token_opts {
	unsigned long expires;
	int json;
};

static int token_args(int argc, char **argv, struct token_opts *o, struct err *e)
{
	o->expires = BEDROCK_TOKEN_DEFAULT_EXPIRES;
	o->json = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		unsigned long long n;
		char *end;

		if (strcmp(a, "--json") == 0) {
			o->json = 1;
			continue;
		}
		if (strcmp(a, "--expires") == 0) {
			if (i + 1 >= argc)
				return err_set(e, ERR_USAGE, "--expires needs a value");
			v = argv[++i];
		} else if (strncmp(a, "--expires=", 10) == 0) {
			v = a + 10;
		} else {
			return err_set(e, ERR_USAGE, "token: unknown argument '%.60s' (usage: brock "
				       "token [--expires SECONDS] [--json])", a);
		}
		errno = 0;
		n = strtoull(v, &end, 10);
		if (v[0] < '0' || v[0] > '9' || *end || errno || n < 1 ||
		    n > BEDROCK_TOKEN_MAX_EXPIRES)
			return err_set(e, ERR_USAGE, "--expires: expected seconds from 1 to %lu, "
				       "got '%.40s'", BEDROCK_TOKEN_MAX_EXPIRES, v);
		o->expires = (unsigned long)n;
	}
	return 0;
}

static int token_print(const char *key, const char *region, time_t expiration, int json,
		       struct err *e)
{
	char iso[TIMEFMT_ISO_LEN + 1];
	struct buf b;
	struct jw w;
	int r;

	if (!json)
		return printf("%s\n", key) < 0 ? err_set(e, ERR_OTHER, "writing to stdout failed") : 0;
	if (!timefmt_iso8601(iso, expiration))
		return err_set(e, ERR_OTHER, "token: expiry out of range");
	buf_init(&b, 2 * BEDROCK_TOKEN_MAX);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kstr(&w, "token", key);
	jw_kstr(&w, "region", region);
	jw_kstr(&w, "expiration", iso);
	jw_obj_end(&w);
	r = jw_finish(&w, e);
	if (r == 0 && printf("%s\n", (const char *)b.p) < 0)
		r = err_set(e, ERR_OTHER, "writing to stdout failed");
	buf_free(&b); /* wipes the key */
	return r;
}

/* Signs the key with cr and prints it; the -v and capping notes name the
 * region, lifetime and expiry, never the key. */
static int token_mint(struct ctx *x, const struct aws_creds *cr, const struct token_opts *o,
		      struct err *e)
{
	const struct sigv4_creds sc = {cr->akid, cr->secret, cr->token};
	time_t now = x->aws.now ? x->aws.now() : time(NULL);
	char iso[TIMEFMT_ISO_LEN + 1];
	unsigned long life;
	struct buf key;
	int r;

	if (bedrock_token_lifetime(now, cr->expires, o->expires, &life, e) < 0)
		return -1;
	if (!timefmt_iso8601(iso, now + (time_t)life))
		return err_set(e, ERR_OTHER, "token: expiry out of range");
	if (x->g->verbose)
		ctx_log(x, "key for region %s, credentials from %s, valid %lu s (until %s)",
			x->aws.region, cr->source, life, iso);
	if (life < o->expires && !x->g->quiet)
		fprintf(stderr, "brock: key valid for %lu s only, until %s, when the %s credentials "
			"expire\n", life, iso, cr->source);
	buf_init(&key, BEDROCK_TOKEN_MAX);
	r = bedrock_token_build(&sc, x->aws.region, now, life, &key, e);
	if (r == 0)
		r = token_print((const char *)key.p, x->aws.region, now + (time_t)life, o->json, e);
	buf_free(&key);
	return r;
}

int cmd_token(const struct globals *g, int argc, char **argv, struct err *e)
{
	struct token_opts o;
	struct ctx x;
	struct aws_creds cr;
	int r;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(token_usage, stdout);
			return 0;
		}
	if (token_args(argc, argv, &o, e) < 0)
		return -1;
	if (ctx_open(&x, g, e) != 0)
		return -1;
	x.creds.sigv4_only = 1;
	memset(&cr, 0, sizeof cr);
	r = creds_get(&x.creds, &cr, e);
	if (r == 0)
		r = token_mint(&x, &cr, &o, e);
	else if (e->cls == ERR_CREDS && env_get(&g->env, "AWS_BEARER_TOKEN_BEDROCK"))
		err_wrap(e, "token: a new key must be signed with SigV4 credentials, and "
			 "AWS_BEARER_TOKEN_BEDROCK is only a bearer token");
	aws_creds_wipe(&cr);
	ctx_close(&x);
	return r;
}
