/* embeddings: OpenAI embeddings requests <-> Titan / Cohere InvokeModel
 * bodies (see embeddings.h). */
#include "bedrock/embeddings.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/base64.h"

static int emb_fail(struct emb_req *rq, const char *param, struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int emb_fail(struct emb_req *rq, const char *param, struct err *e, const char *fmt, ...)
{
	char text[300];
	va_list ap;

	snprintf(rq->param, sizeof rq->param, "%s", param);
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	return err_set(e, ERR_USAGE, "%s: %s", param, text);
}

int emb_family(const char *id)
{
	const char *dot = strchr(id, '.');

	/* a geo prefix ("us.") is one short segment before the maker */
	if (dot && strncmp(id, "amazon.", 7) != 0 && strncmp(id, "cohere.", 7) != 0 &&
	    dot - id <= 7)
		id = dot + 1;
	if (strncmp(id, "amazon.titan-embed-text-v2", 26) == 0)
		return EMB_TITAN_V2;
	if (strncmp(id, "amazon.titan-embed-text-v1", 26) == 0 ||
	    strcmp(id, "amazon.titan-embed-g1-text-02") == 0)
		return EMB_TITAN_V1;
	if (strncmp(id, "cohere.embed-", 13) == 0)
		return EMB_COHERE;
	return 0;
}

static int emb_dims_ok(const struct emb_req *rq, const char *id)
{
	long long d = rq->dimensions;

	if (d == 0)
		return 1;
	if (rq->family == EMB_TITAN_V2)
		return d == 256 || d == 512 || d == 1024;
	if (rq->family == EMB_COHERE && strstr(id, "embed-v4"))
		return d == 256 || d == 512 || d == 1024 || d == 1536;
	return 0;
}

int emb_set_model(struct emb_req *rq, const char *model_id, struct err *e)
{
	if (strlen(model_id) >= sizeof rq->model_id)
		return emb_fail(rq, "model", e, "model id too long");
	rq->family = emb_family(model_id);
	if (!rq->family)
		return emb_fail(rq, "model", e,
				"'%.200s' is not an embeddings model (Titan Text Embeddings "
				"or Cohere Embed)", model_id);
	if (!emb_dims_ok(rq, model_id))
		return emb_fail(rq, "dimensions", e, "%lld is not supported by %.200s",
				rq->dimensions, model_id);
	snprintf(rq->model_id, sizeof rq->model_id, "%s", model_id);
	return 0;
}

static int emb_input(struct emb_req *rq, struct err *e)
{
	const struct json_doc *d = &rq->doc;
	int in = json_get(d, 0, "input");

	if (json_type(d, in) == JSON_STRING) {
		if (json_raw(d, in).n == 0)
			return emb_fail(rq, "input", e, "must not be empty");
		rq->inputs[rq->ninputs++] = in;
		return 0;
	}
	if (json_type(d, in) != JSON_ARRAY || json_size(d, in) < 1)
		return emb_fail(rq, "input", e, "expected a string or a non-empty array of strings");
	if (json_size(d, in) > EMB_MAX_INPUTS)
		return emb_fail(rq, "input", e, "at most %d inputs", EMB_MAX_INPUTS);
	for (int t = json_child(d, in); t >= 0; t = json_next(d, t)) {
		if (json_type(d, t) != JSON_STRING)
			return emb_fail(rq, "input", e,
					"expected strings (token arrays are not supported)");
		if (json_raw(d, t).n == 0)
			return emb_fail(rq, "input", e, "input %zu is empty", rq->ninputs);
		rq->inputs[rq->ninputs++] = t;
	}
	return 0;
}

static int emb_options(struct emb_req *rq, struct err *e)
{
	const struct json_doc *d = &rq->doc;
	int t = json_get(d, 0, "encoding_format");
	int64_t v;

	if (t >= 0 && !json_is_null(d, t)) {
		if (json_str_eq(d, t, "base64"))
			rq->base64 = 1;
		else if (!json_str_eq(d, t, "float"))
			return emb_fail(rq, "encoding_format", e, "expected float or base64");
	}
	t = json_get(d, 0, "dimensions");
	if (t >= 0 && !json_is_null(d, t)) {
		if (json_int64(d, t, &v, NULL) < 0 || v < 1)
			return emb_fail(rq, "dimensions", e, "expected a positive integer");
		rq->dimensions = v;
	}
	snprintf(rq->input_type, sizeof rq->input_type, "search_document");
	t = json_get(d, 0, "input_type");
	if (t >= 0 && !json_is_null(d, t)) {
		if (!json_str_eq(d, t, "search_document") && !json_str_eq(d, t, "search_query") &&
		    !json_str_eq(d, t, "classification") && !json_str_eq(d, t, "clustering"))
			return emb_fail(rq, "input_type", e,
					"expected search_document, search_query, "
					"classification or clustering");
		(void)json_strz(d, t, rq->input_type, sizeof rq->input_type, NULL);
	}
	return 0;
}

int emb_parse(const uint8_t *body, size_t n, struct emb_req *rq, struct err *e)
{
	const char *id;
	int t;

	memset(rq, 0, sizeof *rq);
	if (json_parse_alloc(&rq->doc, (const char *)body, n, EMB_MAX_TOKENS, e) < 0) {
		char why[200];

		snprintf(why, sizeof why, "%.180s", e->msg);
		return err_set(e, ERR_USAGE, "the request body is not valid JSON (%s)", why);
	}
	if (json_type(&rq->doc, 0) != JSON_OBJECT)
		return err_set(e, ERR_USAGE, "the request body must be a JSON object");
	t = json_get(&rq->doc, 0, "model");
	if (json_type(&rq->doc, t) != JSON_STRING ||
	    json_strz(&rq->doc, t, rq->model, sizeof rq->model, NULL) < 0 || !rq->model[0])
		return emb_fail(rq, "model", e, "expected a model id");
	if (emb_input(rq, e) < 0 || emb_options(rq, e) < 0)
		return -1;
	id = rq->model;
	if (strncmp(id, "amazon-bedrock/", 15) == 0)
		id += 15;
	return emb_set_model(rq, id, e);
}

void emb_req_free(struct emb_req *rq)
{
	json_doc_free(&rq->doc);
}

size_t emb_ncalls(const struct emb_req *rq)
{
	if (rq->family == EMB_COHERE)
		return (rq->ninputs + EMB_COHERE_BATCH - 1) / EMB_COHERE_BATCH;
	return rq->ninputs;
}

/* Inputs of call k: [*first, *first + *count). */
static void emb_range(const struct emb_req *rq, size_t k, size_t *first, size_t *count)
{
	size_t per = rq->family == EMB_COHERE ? EMB_COHERE_BATCH : 1;

	*first = k * per;
	*count = *first >= rq->ninputs ? 0 : rq->ninputs - *first;
	if (*count > per)
		*count = per;
}

int emb_call_body(const struct emb_req *rq, size_t k, struct buf *out, struct err *e)
{
	size_t first, count, len0 = out->len;
	struct jw w;

	emb_range(rq, k, &first, &count);
	if (count == 0)
		return err_set(e, ERR_OTHER, "embeddings: no call %zu", k);
	jw_init(&w, out);
	jw_obj_begin(&w);
	if (rq->family == EMB_COHERE) {
		jw_key(&w, "texts");
		jw_arr_begin(&w);
		for (size_t i = first; i < first + count; i++)
			jw_tok(&w, &rq->doc, rq->inputs[i]);
		jw_arr_end(&w);
		jw_kstr(&w, "input_type", rq->input_type);
		jw_kstr(&w, "truncate", "NONE");
		if (rq->dimensions)
			jw_kint(&w, "output_dimension", rq->dimensions);
	} else {
		jw_key(&w, "inputText");
		jw_tok(&w, &rq->doc, rq->inputs[first]);
		if (rq->dimensions)
			jw_kint(&w, "dimensions", rq->dimensions);
	}
	jw_obj_end(&w);
	if (jw_finish(&w, e) < 0) {
		out->len = len0;
		return -1;
	}
	return 0;
}

void emb_acc_init(struct emb_acc *a, size_t max)
{
	memset(a, 0, sizeof *a);
	buf_init(&a->data, max);
	buf_init(&a->scratch, max);
}

void emb_acc_free(struct emb_acc *a)
{
	buf_free(&a->data);
	buf_free(&a->scratch);
}

/* One vector (an array of numbers) as a data element. */
static int emb_vector(const struct emb_req *rq, const struct json_doc *d, int vec,
		      struct emb_acc *a, struct err *e)
{

	if (json_type(d, vec) != JSON_ARRAY || json_size(d, vec) < 1)
		return err_set(e, ERR_PROTO, "embeddings answer: expected a vector");
	buf_reset(&a->scratch);
	for (int t = json_child(d, vec); t >= 0; t = json_next(d, t)) {
		double v;
		float f;
		uint32_t u;
		uint8_t le[4];

		if (json_double(d, t, &v, NULL) < 0)
			return err_set(e, ERR_PROTO, "embeddings answer: not a number");
		f = (float)v;
		memcpy(&u, &f, 4);
		le[0] = (uint8_t)u;
		le[1] = (uint8_t)(u >> 8);
		le[2] = (uint8_t)(u >> 16);
		le[3] = (uint8_t)(u >> 24);
		if (rq->base64 && buf_append(&a->scratch, le, 4) < 0)
			return err_set(e, ERR_OTHER, "embeddings answer too large");
	}
	if (buf_appendf(&a->data, "%s{\"object\":\"embedding\",\"index\":%zu,\"embedding\":",
			a->data.len ? "," : "", a->next_index) < 0)
		return err_set(e, ERR_OTHER, "embeddings answer too large");
	if (rq->base64) {
		if (buf_append_byte(&a->data, '"') < 0 ||
		    base64_encode_buf(&a->data, a->scratch.p, a->scratch.len) < 0 ||
		    buf_append_byte(&a->data, '"') < 0)
			return err_set(e, ERR_OTHER, "embeddings answer too large");
	} else {
		struct slice raw = json_raw(d, vec);

		if (buf_append(&a->data, raw.p, raw.n) < 0)
			return err_set(e, ERR_OTHER, "embeddings answer too large");
	}
	if (buf_append_byte(&a->data, '}') < 0)
		return err_set(e, ERR_OTHER, "embeddings answer too large");
	a->next_index++;
	return 0;
}

int emb_add_answer(const struct emb_req *rq, size_t k, const uint8_t *body, size_t n,
		   int64_t header_tokens, struct emb_acc *a, struct err *e)
{
	struct json_doc d;
	size_t first, count;
	int vecs, rc = 0;
	int64_t tok = -1;

	emb_range(rq, k, &first, &count);
	if (first != a->next_index || count == 0)
		return err_set(e, ERR_OTHER, "embeddings: answers out of order");
	if (json_parse_alloc(&d, (const char *)body, n, EMB_MAX_TOKENS * 4, e) < 0)
		return err_set(e, ERR_PROTO, "embeddings answer is not valid JSON");
	if (rq->family == EMB_COHERE) {
		vecs = json_get(&d, 0, "embeddings");
		if (json_type(&d, vecs) == JSON_OBJECT)
			vecs = json_get(&d, vecs, "float");
		if (json_type(&d, vecs) != JSON_ARRAY || (size_t)json_size(&d, vecs) != count)
			rc = err_set(e, ERR_PROTO, "embeddings answer: expected %zu vectors",
				     count);
		for (int v = json_child(&d, vecs); rc == 0 && v >= 0; v = json_next(&d, v))
			rc = emb_vector(rq, &d, v, a, e);
	} else {
		(void)json_int64(&d, json_get(&d, 0, "inputTextTokenCount"), &tok, NULL);
		rc = emb_vector(rq, &d, json_get(&d, 0, "embedding"), a, e);
	}
	if (tok < 0)
		tok = header_tokens;
	if (rc == 0 && tok > 0)
		a->tokens += tok;
	json_doc_free(&d);
	return rc;
}

int emb_finish(const struct emb_req *rq, const struct emb_acc *a, struct buf *out,
	       struct err *e)
{
	struct jw w;
	size_t len0 = out->len;

	if (a->next_index != rq->ninputs)
		return err_set(e, ERR_OTHER, "embeddings: %zu of %zu answers", a->next_index,
			       rq->ninputs);
	if (buf_append_str(out, "{\"object\":\"list\",\"data\":[") < 0 ||
	    buf_append(out, a->data.p, a->data.len) < 0 ||
	    buf_append_str(out, "],\"model\":") < 0)
		goto full;
	jw_init(&w, out);
	jw_str(&w, rq->model);
	if (jw_finish(&w, e) < 0 ||
	    buf_appendf(out, ",\"usage\":{\"prompt_tokens\":%lld,\"total_tokens\":%lld}}",
			(long long)a->tokens, (long long)a->tokens) < 0)
		goto full;
	return 0;
full:
	out->len = len0;
	return err_set(e, ERR_OTHER, "embeddings answer too large");
}
