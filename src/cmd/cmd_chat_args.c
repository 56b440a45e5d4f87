/* cmd_chat_args: the arguments of `brock chat` (SPEC section 1): flags,
 * their values and ranges, the request features (--cache, --service-tier,
 * --latency, --guardrail, --meta, --extra), and model refs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock/converse.h"
#include "cmd/cmd_chat_int.h"

const char cmd_chat_usage[] =
	"usage: brock chat [OPTIONS] [PROMPT...]\n"
	"\n"
	"One turn with a Bedrock model, streamed. PROMPT words are joined with spaces;\n"
	"'-' or no PROMPT reads the prompt from stdin.\n"
	"\n"
	"Options:\n"
	"  -m, --model REF        amazon-bedrock/<modelId>, a bare modelId, or an ARN\n"
	"                         (default: agents.defaults.model.primary)\n"
	"  -s, --system TEXT      system prompt\n"
	"  --max-tokens N         largest reply, in tokens\n"
	"  --temperature X        sampling temperature\n"
	"  --top-p X              nucleus sampling\n"
	"  --stop SEQ             stop sequence (repeatable)\n"
	"  -i, --image FILE       attach an image: png, jpeg, gif, webp (repeatable)\n"
	"  -d, --document FILE    attach a document: pdf, csv, txt, md, html, doc, docx,\n"
	"                         xls, xlsx (repeatable)\n"
	"  --thinking N           extended-thinking budget in tokens (Anthropic models;\n"
	"                         an effort on models that take adaptive thinking only)\n"
	"  --effort LEVEL         reasoning effort: low, medium, high (adaptive thinking;\n"
	"                         a budget of 2048, 8192, 24576 on older models)\n"
	"  --cache [TTL]          prompt caching: cache points after the system prompt and\n"
	"                         the prompt (TTL 5m, the default, or 1h)\n"
	"  --service-tier TIER    default, priority, flex or reserved\n"
	"  --latency optimized    latency-optimized inference (or standard)\n"
	"  --guardrail ID         apply a Bedrock guardrail (id or ARN); --json shows the trace\n"
	"  --guardrail-version V  its version (default DRAFT)\n"
	"  --meta KEY=VALUE       request metadata (repeatable)\n"
	"  --extra JSON           object merged into additionalModelRequestFields\n"
	"  --json                 print each stream event as one JSON line\n"
	"  --no-stream            use Converse instead of ConverseStream\n"
	"  --timeout SECONDS      longest silence tolerated in any network step (default 300;\n"
	"                         connecting alone gives up after 10)\n"
	"  --help                 this text\n";

/* ------------------------------------------------------------------------ */
/* Arguments */

static int chat_num_ll(const char *opt, const char *v, long long lo, long long hi, long long *out,
		       struct err *e)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (!v[0] || *end || errno || n < lo || n > hi)
		return err_set(e, ERR_USAGE, "%s: expected a whole number from %lld to %lld, got '%.40s'",
			       opt, lo, hi, v);
	*out = n;
	return 0;
}

static int chat_num_d(const char *opt, const char *v, double lo, double hi, double *out,
		      struct err *e)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (!v[0] || *end || errno || !(d >= lo && d <= hi))
		return err_set(e, ERR_USAGE, "%s: expected a number from %g to %g, got '%.40s'", opt,
			       lo, hi, v);
	*out = d;
	return 0;
}

/* Options taking a value; the long name is the canonical one. */
static const struct {
	const char *shortn, *longn;
} chat_valued[] = {
	{"-m", "--model"}, {"-s", "--system"}, {NULL, "--max-tokens"}, {NULL, "--temperature"},
	{NULL, "--top-p"}, {NULL, "--stop"},   {"-i", "--image"},      {"-d", "--document"},
	{NULL, "--thinking"}, {NULL, "--timeout"}, {NULL, "--effort"},
	{NULL, "--service-tier"}, {NULL, "--latency"}, {NULL, "--guardrail"},
	{NULL, "--guardrail-version"}, {NULL, "--meta"}, {NULL, "--extra"},
};

static int chat_oneof(const char *opt, const char *v, const char *const *ok, struct err *e)
{
	for (size_t i = 0; ok[i]; i++)
		if (strcmp(v, ok[i]) == 0)
			return 0;
	return err_set(e, ERR_USAGE, "%s: unexpected value '%.40s'", opt, v);
}

/* --meta KEY=VALUE (Bedrock: at most 16, keys 1..256, values 0..256). */
static int chat_meta(struct chat_opts *o, const char *v, struct err *e)
{
	const char *eq = strchr(v, '=');
	size_t k, n = strlen(v);

	if (o->nmeta >= CHAT_MAX_META)
		return err_set(e, ERR_USAGE, "too many --meta pairs (at most %d)", CHAT_MAX_META);
	if (!eq || eq == v)
		return err_set(e, ERR_USAGE, "--meta: expected KEY=VALUE, got '%.60s'", v);
	if ((size_t)(eq - v) > 256 || n - (size_t)(eq - v) - 1 > 256)
		return err_set(e, ERR_USAGE, "--meta: keys and values are at most 256 characters");
	k = o->nmeta++;
	memcpy(o->meta_buf[k], v, n + 1);
	o->meta_buf[k][eq - v] = '\0';
	o->meta_keys[k] = o->meta_buf[k];
	o->meta_values[k] = o->meta_buf[k] + (eq - v) + 1;
	return 0;
}

/* The Bedrock feature flags (SPEC 3.5). */
static int chat_set_feature(struct chat_opts *o, const char *name, const char *v, struct err *e)
{
	static const char *const tiers[] = {"default", "priority", "flex", "reserved", NULL};
	static const char *const lat[] = {"optimized", "standard", NULL};

	if (strcmp(name, "--service-tier") == 0) {
		o->service_tier = v;
		return chat_oneof(name, v, tiers, e);
	}
	if (strcmp(name, "--latency") == 0) {
		o->latency = v;
		return chat_oneof(name, v, lat, e);
	}
	if (strcmp(name, "--guardrail") == 0 || strcmp(name, "--guardrail-version") == 0) {
		if (!v[0])
			return err_set(e, ERR_USAGE, "%s: empty value", name);
		*(name[11] ? &o->guardrail_version : &o->guardrail) = v;
		return 0;
	}
	if (strcmp(name, "--meta") == 0)
		return chat_meta(o, v, e);
	o->extra = v; /* --extra: checked when the body is built */
	return 0;
}

static int chat_set(struct chat_opts *o, const char *name, const char *v, struct err *e)
{
	if (strcmp(name, "--model") == 0) {
		o->model = v;
	} else if (strcmp(name, "--system") == 0) {
		o->system = v;
	} else if (strcmp(name, "--max-tokens") == 0) {
		return chat_num_ll(name, v, 1, 100000000, &o->max_tokens, e);
	} else if (strcmp(name, "--temperature") == 0) {
		o->has_temperature = 1;
		return chat_num_d(name, v, 0, 2, &o->temperature, e);
	} else if (strcmp(name, "--top-p") == 0) {
		o->has_top_p = 1;
		return chat_num_d(name, v, 0, 1, &o->top_p, e);
	} else if (strcmp(name, "--stop") == 0) {
		if (o->nstop >= CHAT_MAX_STOP)
			return err_set(e, ERR_USAGE, "too many --stop sequences (at most %d)",
				       CHAT_MAX_STOP);
		if (!v[0])
			return err_set(e, ERR_USAGE, "--stop: empty stop sequence");
		o->stop[o->nstop++] = v;
	} else if (strcmp(name, "--image") == 0 || strcmp(name, "--document") == 0) {
		if (o->nfiles >= CHAT_MAX_ATT)
			return err_set(e, ERR_USAGE, "too many attachments (at most %d)", CHAT_MAX_ATT);
		o->files[o->nfiles].kind = name[2] == 'i' ? CONV_IMAGE : CONV_DOCUMENT;
		o->files[o->nfiles++].path = v;
	} else if (strcmp(name, "--thinking") == 0) {
		return chat_num_ll(name, v, 1, 100000000, &o->thinking, e);
	} else if (strcmp(name, "--effort") == 0) {
		if (strcmp(v, "low") != 0 && strcmp(v, "medium") != 0 && strcmp(v, "high") != 0)
			return err_set(e, ERR_USAGE, "--effort: expected low, medium or high, got '%.40s'",
				       v);
		o->effort = v;
	} else if (strcmp(name, "--timeout") == 0) {
		return chat_num_d(name, v, 0.001, 86400, &o->timeout, e);
	} else {
		return chat_set_feature(o, name, v, e);
	}
	return 0;
}

int cmd_chat_args(struct chat_opts *o, int argc, char **argv, struct err *e)
{
	int i;

	memset(o, 0, sizeof *o);
	o->timeout = 300;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *v;
		size_t k, nlen;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || strcmp(a, "-") == 0)
			break; /* the prompt starts */
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			o->help = 1;
			return 0;
		}
		if (strcmp(a, "--json") == 0) {
			o->json = 1;
			continue;
		}
		if (strcmp(a, "--no-stream") == 0) {
			o->no_stream = 1;
			continue;
		}
		if (strcmp(a, "--cache") == 0 || strncmp(a, "--cache=", 8) == 0) {
			/* the TTL is optional: taken when the next word is one */
			o->cache = 1;
			if (a[7] == '=')
				o->cache_ttl = a + 8;
			else if (i + 1 < argc && (strcmp(argv[i + 1], "5m") == 0 ||
						  strcmp(argv[i + 1], "1h") == 0))
				o->cache_ttl = argv[++i];
			if (o->cache_ttl && strcmp(o->cache_ttl, "5m") != 0 &&
			    strcmp(o->cache_ttl, "1h") != 0)
				return err_set(e, ERR_USAGE, "--cache: expected 5m or 1h, got '%.40s'",
					       o->cache_ttl);
			continue;
		}
		eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
		nlen = eq ? (size_t)(eq - a) : strlen(a);
		for (k = 0; k < sizeof chat_valued / sizeof chat_valued[0]; k++) {
			const char *s = chat_valued[k].shortn, *l = chat_valued[k].longn;

			if ((strlen(l) == nlen && strncmp(a, l, nlen) == 0) ||
			    (!eq && s && strcmp(a, s) == 0))
				break;
		}
		if (k == sizeof chat_valued / sizeof chat_valued[0])
			return err_set(e, ERR_USAGE, "chat: unknown option '%.60s' (see 'brock chat --help')",
				       a);
		if (eq) {
			v = eq + 1;
		} else {
			if (i + 1 >= argc)
				return err_set(e, ERR_USAGE, "chat: %s needs a value", a);
			v = argv[++i];
		}
		if (chat_set(o, chat_valued[k].longn, v, e) < 0)
			return -1;
	}
	o->words = argv + i;
	o->nwords = argc - i;
	return 0;
}

/* The model id of a model ref (SPEC 1): "amazon-bedrock/<id>", an ARN, or a
 * bare id. Another provider prefix cannot be served by Bedrock. */
int cmd_chat_model_id(const char *ref, const char **id, struct err *e)
{
	static const char prefix[] = "amazon-bedrock/";
	const char *slash;
	size_t i;

	if (!ref || !ref[0])
		return err_set(e, ERR_USAGE,
			       "no model: pass -m amazon-bedrock/<modelId> or set "
			       "agents.defaults.model.primary in the config");
	if (strncmp(ref, prefix, sizeof prefix - 1) == 0)
		*id = ref + sizeof prefix - 1;
	else if (strncmp(ref, "arn:", 4) == 0)
		*id = ref;
	else if ((slash = strchr(ref, '/')) != NULL)
		return err_set(e, ERR_USAGE,
			       "model '%.200s' belongs to provider '%.*s', not amazon-bedrock; use "
			       "amazon-bedrock/<modelId> (see 'brock models list')",
			       ref, (int)(slash - ref > 60 ? 60 : slash - ref), ref);
	else
		*id = ref;
	if (!(*id)[0])
		return err_set(e, ERR_USAGE, "model '%.200s' has an empty model id", ref);
	for (i = 0; (*id)[i]; i++)
		if ((unsigned char)(*id)[i] <= 0x20 || (*id)[i] == 0x7f)
			return err_set(e, ERR_USAGE, "model id '%.200s' contains a space or control "
				       "character", *id);
	if (i > 2048)
		return err_set(e, ERR_USAGE, "model id too long");
	if (!json_utf8_valid(*id, i, NULL)) /* user input (SPEC 3.1) */
		return err_set(e, ERR_USAGE, "the model id is not valid UTF-8");
	return 0;
}
