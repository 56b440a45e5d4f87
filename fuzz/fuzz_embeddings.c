/* fuzz_embeddings: the embeddings mapping on arbitrary bytes, tried as a
 * request (then every call body is built) and as an upstream answer for a
 * Titan and a Cohere request. Oracles: no crash or leak; a rejected request
 * is ERR_USAGE; every call body and every finished answer is valid JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock/embeddings.h"

static void valid(const struct buf *b)
{
	struct err e;

	if (json_validate((const char *)b->p, b->len, NULL, NULL, &e) < 0)
		abort();
}

static void answer(const char *req, int b64, const uint8_t *data, size_t size)
{
	struct emb_req rq;
	struct emb_acc a;
	struct buf out;
	struct err e;

	if (emb_parse((const uint8_t *)req, strlen(req), &rq, &e) < 0)
		abort();
	rq.base64 = b64;
	emb_acc_init(&a, 1 << 24);
	buf_init(&out, 1 << 24);
	if (emb_add_answer(&rq, 0, data, size, 3, &a, &e) == 0 && emb_finish(&rq, &a, &out, &e) == 0)
		valid(&out);
	buf_free(&out);
	emb_acc_free(&a);
	emb_req_free(&rq);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct emb_req rq;
	struct err e;
	struct buf out;

	buf_init(&out, 1 << 24);
	if (emb_parse(data, size, &rq, &e) == 0) {
		for (size_t k = 0; k < emb_ncalls(&rq); k++) {
			buf_reset(&out);
			if (emb_call_body(&rq, k, &out, &e) < 0)
				abort();
			valid(&out);
		}
	} else if (e.cls != ERR_USAGE) {
		abort();
	}
	emb_req_free(&rq);
	buf_free(&out);
	answer("{\"model\":\"amazon.titan-embed-text-v2:0\",\"input\":\"a\"}", size & 1, data, size);
	answer("{\"model\":\"cohere.embed-english-v3\",\"input\":[\"a\",\"b\"]}", size & 1, data,
	       size);
	return 0;
}
