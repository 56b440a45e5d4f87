/* cmd_count_tokens: `brock count-tokens [-m REF] [-s TEXT] [-i FILE]
 * [-d FILE] [PROMPT...]` (SPEC 1, 3.5): the input tokens of a prompt and its
 * attachments through Bedrock CountTokens, POST /model/<id>/count-tokens
 * with {"input":{"converse":{messages, system}}}. Prints one number. With no
 * model configured, the model `brock chat` would pick. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "aws/aws.h"
#include "aws/creds.h"
#include "base/file.h"
#include "bedrock/catalog.h"
#include "bedrock/converse.h"
#include "bedrock/discovery.h"
#include "cmd/cmd.h"
#include "cmd/cmd_chat_int.h"
#include "cmd/ctx.h"
#include "wire/json.h"

#define CT_PROMPT_MAX (64u * 1024u * 1024u)
#define CT_ANSWER_MAX (64u * 1024u)

static const char ct_usage[] =
	"usage: brock count-tokens [-m REF] [-s TEXT] [-i FILE] [-d FILE] [PROMPT...]\n"
	"\n"
	"The input tokens of a prompt (Bedrock CountTokens), one number on stdout.\n"
	"PROMPT words are joined with spaces; '-' or no PROMPT reads stdin.\n"
	"\n"
	"  -m, --model REF        amazon-bedrock/<modelId>, a bare modelId, or an ARN\n"
	"                         (default: agents.defaults.model.primary, else the\n"
	"                         model brock chat picks from discovery)\n"
	"  -s, --system TEXT      system prompt\n"
	"  -i, --image FILE       an image (png, jpeg, gif, webp), repeatable\n"
	"  -d, --document FILE    a document (pdf, csv, txt, md, html, doc, docx, xls,\n"
	"                         xlsx), repeatable\n"
	"  --help                 this text\n";

struct ct_opts {
	const char *model, *system;
	struct chat_file files[CHAT_MAX_ATT];
	size_t nfiles;
	char **words;
	int nwords, help;
};

static int ct_is(const char *a, const char *s, const char *l)
{
	return strcmp(a, s) == 0 || strcmp(a, l) == 0;
}

static int ct_args(struct ct_opts *o, int argc, char **argv, struct err *e)
{
	int i;

	memset(o, 0, sizeof *o);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || strcmp(a, "-") == 0)
			break;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			o->help = 1;
			return 0;
		}
		if (ct_is(a, "-m", "--model") || ct_is(a, "-s", "--system") ||
		    ct_is(a, "-i", "--image") || ct_is(a, "-d", "--document")) {
			if (i + 1 >= argc)
				return err_set(e, ERR_USAGE, "count-tokens: %s needs a value", a);
			if (ct_is(a, "-m", "--model")) {
				o->model = argv[++i];
			} else if (ct_is(a, "-s", "--system")) {
				o->system = argv[++i];
			} else {
				if (o->nfiles == CHAT_MAX_ATT)
					return err_set(e, ERR_USAGE, "count-tokens: at most %d attachments",
						       CHAT_MAX_ATT);
				o->files[o->nfiles].kind = ct_is(a, "-i", "--image") ? CONV_IMAGE
										: CONV_DOCUMENT;
				o->files[o->nfiles++].path = argv[++i];
			}
			continue;
		}
		return err_set(e, ERR_USAGE,
			       "count-tokens: unknown option '%.60s' (see 'brock count-tokens --help')", a);
	}
	o->words = argv + i;
	o->nwords = argc - i;
	return 0;
}

static int ct_prompt(const struct ct_opts *o, struct buf *out, struct err *e)
{
	if (o->nwords == 0 || (o->nwords == 1 && strcmp(o->words[0], "-") == 0))
		return file_read_fd(0, CT_PROMPT_MAX, out, "the prompt on stdin", e);
	for (int i = 0; i < o->nwords; i++)
		if ((i && buf_append_byte(out, ' ') < 0) || buf_append_str(out, o->words[i]) < 0)
			return err_set(e, ERR_USAGE, "the prompt is too long");
	return 0;
}

/* {"input":{"converse":<the Converse body>}} */
static int ct_body(const char *model_id, const struct ct_opts *o, const struct buf *prompt,
		   const struct conv_attachment *att, struct buf *out, struct err *e)
{
	struct conv_request rq;

	memset(&rq, 0, sizeof rq);
	rq.model_id = model_id;
	rq.system = o->system;
	rq.text = prompt->p;
	rq.text_len = prompt->len;
	rq.att = att;
	rq.natt = o->nfiles;
	if (buf_append_str(out, "{\"input\":{\"converse\":") < 0)
		return err_set(e, ERR_OTHER, "out of memory");
	if (conv_build_body(&rq, out, e) < 0)
		return -1;
	if (buf_append_str(out, "}}") < 0)
		return err_set(e, ERR_OTHER, "request too large");
	return 0;
}

static int ct_call(struct ctx *c, const char *model_id, const struct buf *body, struct err *e)
{
	struct aws_creds creds;
	struct conv_call cc;
	struct aws_response r;
	struct json_doc d;
	int64_t n = 0;
	int rc;

	memset(&creds, 0, sizeof creds);
	if (creds_get(&c->creds, &creds, e) < 0)
		return -1;
	memset(&cc, 0, sizeof cc);
	cc.model_id = model_id;
	cc.operation = "count-tokens";
	cc.body = body->p;
	cc.body_len = body->len;
	cc.max_answer = CT_ANSWER_MAX;
	rc = conv_call(&c->aws, &creds, &cc, &r, e);
	aws_creds_wipe(&creds);
	if (rc == 0) {
		if (json_parse_alloc(&d, (const char *)r.body.p, r.body.len, 1024, e) < 0) {
			rc = err_set(e, ERR_PROTO, "CountTokens: the answer is not JSON");
		} else {
			if (json_int64(&d, json_get(&d, 0, "inputTokens"), &n, e) < 0)
				rc = err_set(e, ERR_PROTO, "CountTokens: no inputTokens in the answer");
			json_doc_free(&d);
		}
	}
	aws_response_free(&r);
	if (rc == 0)
		printf("%lld\n", (long long)n);
	return rc;
}

/* The model: -m, the configured primary, else chat's zero-config pick. */
static int ct_model(const struct globals *g, struct ctx *c, const struct ct_opts *o,
		    char picked[DISC_MAX_FIELD + 1], const char **model_id, struct err *e)
{
	const char *ref = o->model ? o->model : c->cfg.primary_model;

	if ((!ref || !ref[0]) && cmd_chat_pick_model(g, c, picked, e) < 0)
		return -1;
	if (!ref || !ref[0])
		ref = picked;
	*model_id = catalog_ref_id(ref);
	if (!*model_id || !(*model_id)[0] ||
	    (strchr(*model_id, '/') && strncmp(*model_id, "arn:", 4) != 0))
		return err_set(e, ERR_USAGE,
			       "count-tokens: no Bedrock model: pass -m amazon-bedrock/<modelId>");
	return cmd_chat_resolve_name(g, c, model_id, picked, e);
}

int cmd_count_tokens(const struct globals *g, int argc, char **argv, struct err *e)
{
	struct ct_opts o;
	struct ctx c;
	struct buf prompt, body, files[CHAT_MAX_ATT];
	struct conv_attachment att[CHAT_MAX_ATT];
	char picked[DISC_MAX_FIELD + 1] = "";
	const char *model_id;
	size_t i;
	int rc = -1;

	if (ct_args(&o, argc, argv, e) < 0)
		return -1;
	if (o.help) {
		fputs(ct_usage, stdout);
		return 0;
	}
	if (ctx_open(&c, g, e) < 0)
		return -1;
	buf_init(&prompt, CT_PROMPT_MAX);
	buf_init(&body, CT_PROMPT_MAX * 2);
	memset(att, 0, sizeof att);
	for (i = 0; i < CHAT_MAX_ATT; i++)
		buf_init(&files[i], CHAT_FILE_MAX);
	if (ct_model(g, &c, &o, picked, &model_id, e) == 0 &&
	    cmd_chat_attachments(o.files, o.nfiles, files, att, e) == 0 &&
	    ct_prompt(&o, &prompt, e) == 0 && ct_body(model_id, &o, &prompt, att, &body, e) == 0)
		rc = ct_call(&c, model_id, &body, e);
	buf_free(&prompt);
	buf_free(&body);
	for (i = 0; i < CHAT_MAX_ATT; i++)
		buf_free(&files[i]);
	ctx_close(&c);
	return rc;
}
