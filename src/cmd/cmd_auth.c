/* cmd_auth: `brock auth [--json]` (SPEC section 6). Shows where the region
 * and the credentials come from: region and its source, the credential
 * source, the access key id masked to its last 4 characters, the expiry of
 * temporary credentials. Never a secret key, a session token or a bearer
 * token (for the bearer token only that it is set and its length, and for a
 * short-term key the region it works in and its expiry, read from the key). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "aws/bedrock_token.h"
#include "aws/creds.h"
#include "cmd/ctx.h"
#include "wire/json.h"
#include "base/timefmt.h"

static const char auth_usage[] =
	"usage: brock auth [--json]\n"
	"  Shows the region and where credentials come from (no secrets).\n"
	"  --json   one JSON object instead of text\n";

/* All but the last 4 characters as '*'; short ids are masked entirely. */
static void auth_mask(const char *akid, char *out, size_t n)
{
	size_t len = strlen(akid), keep = len >= 12 ? 4 : 0, i;

	if (n == 0)
		return;
	for (i = 0; i < len && i + 1 < n; i++)
		out[i] = i + keep < len ? '*' : akid[i];
	out[i] = '\0';
}

/* "in 59 min", "in 2 h 5 min", "expired". */
static void auth_remaining(time_t now, time_t exp, char *out, size_t n)
{
	long s = (long)(exp - now);

	if (s <= 0)
		snprintf(out, n, "expired");
	else if (s < 3600)
		snprintf(out, n, "in %ld min", (s + 59) / 60);
	else
		snprintf(out, n, "in %ld h %ld min", s / 3600, (s % 3600) / 60);
}

/* A short-term key (brock token, AWS's generators) says where and until when
 * it works; a long-term key says nothing. 1 when bearer is a short-term key. */
static int auth_short_key(const char *bearer, struct bedrock_token_info *k)
{
	struct err e;

	return bearer[0] && bedrock_token_parse(bearer, strlen(bearer), k, &e) == 0;
}

static int auth_print_json(const struct ctx *x, const struct aws_creds *cr, const char *mask,
			   struct err *e)
{
	struct bedrock_token_info k;
	int short_key = auth_short_key(cr->bearer, &k);
	time_t exp = short_key ? k.expiration : cr->expires;
	struct buf b;
	struct jw w;
	char iso[TIMEFMT_ISO_LEN + 1];
	int r;

	buf_init(&b, 8192);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kstr(&w, "region", x->aws.region);
	jw_kstr(&w, "regionSource", x->region_source);
	jw_kstr(&w, "source", cr->source);
	jw_key(&w, "accessKeyId");
	jw_str(&w, cr->akid[0] ? mask : NULL);
	jw_kbool(&w, "temporary", exp != 0);
	jw_key(&w, "expiration");
	if (exp && timefmt_iso8601(iso, exp))
		jw_str(&w, iso);
	else
		jw_null(&w);
	jw_kbool(&w, "bearerToken", cr->bearer[0] != '\0');
	if (cr->bearer[0])
		jw_kint(&w, "bearerTokenLength", (int64_t)strlen(cr->bearer));
	if (short_key)
		jw_kstr(&w, "bearerTokenRegion", k.region);
	jw_obj_end(&w);
	r = jw_finish(&w, e);
	if (r == 0)
		printf("%s\n", (const char *)b.p);
	buf_free(&b);
	return r;
}

static void auth_print_text(const struct ctx *x, const struct aws_creds *cr, const char *mask)
{
	struct bedrock_token_info k;
	int short_key = auth_short_key(cr->bearer, &k);
	time_t exp = short_key ? k.expiration : cr->expires;
	char iso[TIMEFMT_ISO_LEN + 1], rem[64];

	printf("region:      %s (from %s)\n", x->aws.region, x->region_source);
	printf("credentials: %s\n", cr->source);
	if (cr->bearer[0])
		printf("bearer token: set (%zu characters; sent as Authorization: Bearer)\n",
		       strlen(cr->bearer));
	if (short_key) {
		printf("bearer token: short-term key for %s\n", k.region);
		if (strcmp(k.region, x->aws.region) != 0)
			printf("warning:     the key works in %s only, not in %s\n", k.region,
			       x->aws.region);
	}
	if (cr->akid[0])
		printf("access key:  %s\n", mask);
	if (exp && timefmt_iso8601(iso, exp)) {
		auth_remaining(x->aws.now ? x->aws.now() : time(NULL), exp, rem, sizeof rem);
		printf("expires:     %s (%s)\n", iso, rem);
	} else if (!cr->bearer[0]) {
		printf("expires:     never (long-term keys)\n");
	}
}

int cmd_auth(const struct globals *g, int argc, char **argv, struct err *e)
{
	struct ctx x;
	struct aws_creds cr;
	char mask[sizeof cr.akid];
	int json = 0, r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(auth_usage, stdout);
			return 0;
		} else {
			return err_set(e, ERR_USAGE, "auth: unknown argument '%s' (usage: brock auth "
				       "[--json])", argv[i]);
		}
	}
	if (ctx_open(&x, g, e) != 0)
		return -1;
	memset(&cr, 0, sizeof cr);
	r = creds_get(&x.creds, &cr, e);
	if (r == 0) {
		if (g->verbose)
			ctx_log(&x, "credentials from %s", cr.source);
		auth_mask(cr.akid, mask, sizeof mask);
		if (json)
			r = auth_print_json(&x, &cr, mask, e);
		else
			auth_print_text(&x, &cr, mask);
	}
	aws_creds_wipe(&cr);
	ctx_close(&x);
	return r;
}
