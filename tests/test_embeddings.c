/* test_embeddings: model families, request parsing (good and bad), the
 * model-native bodies per call, answers -> the OpenAI list object in float
 * and base64 (little-endian float32), batching for Cohere, bad answers. */
#include "t.h"

#include "base/base64.h"
#include "bedrock/embeddings.h"

static char *q(const char *s)
{
	static char tmp[4][8192];
	static int k;
	char *o = tmp[k++ & 3];
	size_t i;

	for (i = 0; s[i] && i + 1 < sizeof tmp[0]; i++)
		o[i] = s[i] == '\'' ? '"' : s[i];
	o[i] = '\0';
	return o;
}

static struct emb_req rq;
static struct err er;

static int parse(const char *in)
{
	static char body[8192];

	snprintf(body, sizeof body, "%s", q(in)); /* the body outlives rq */
	emb_req_free(&rq);
	err_clear(&er);
	return emb_parse((const uint8_t *)body, strlen(body), &rq, &er);
}

static void bad(const char *in, const char *param)
{
	CHECK(parse(in) < 0);
	CHECK(er.cls == ERR_USAGE);
	CHECK_STR(rq.param, param);
}

static const char *body(size_t k)
{
	static struct buf out;

	buf_free(&out);
	buf_init(&out, 1 << 20);
	if (emb_call_body(&rq, k, &out, &er) < 0)
		return NULL;
	return (const char *)out.p;
}

static void test_family(void)
{
	CHECK(emb_family("amazon.titan-embed-text-v2:0") == EMB_TITAN_V2);
	CHECK(emb_family("amazon.titan-embed-text-v1") == EMB_TITAN_V1);
	CHECK(emb_family("amazon.titan-embed-text-v1:2:8k") == EMB_TITAN_V1);
	CHECK(emb_family("cohere.embed-english-v3") == EMB_COHERE);
	CHECK(emb_family("us.cohere.embed-v4:0") == EMB_COHERE);
	CHECK(emb_family("cohere.command-r-v1:0") == 0);
	CHECK(emb_family("amazon.titan-embed-image-v1") == 0);
	CHECK(emb_family("amazon.nova-pro-v1:0") == 0);
	CHECK(emb_family("") == 0);
}

static void test_requests(void)
{
	CHECK(parse("{'model':'amazon-bedrock/amazon.titan-embed-text-v2:0','input':'hello',"
		    "'dimensions':256,'user':'u'}") == 0);
	CHECK_STR(rq.model_id, "amazon.titan-embed-text-v2:0");
	CHECK_STR(rq.model, "amazon-bedrock/amazon.titan-embed-text-v2:0");
	CHECK(emb_ncalls(&rq) == 1);
	CHECK_STR(body(0), q("{'inputText':'hello','dimensions':256}"));
	CHECK(body(1) == NULL);
	CHECK(parse("{'model':'amazon.titan-embed-text-v1','input':['a','b\\n'],"
		    "'encoding_format':'base64'}") == 0);
	CHECK(rq.base64 == 1 && emb_ncalls(&rq) == 2);
	CHECK_STR(body(0), q("{'inputText':'a'}"));
	CHECK_STR(body(1), q("{'inputText':'b\\n'}"));
	CHECK(parse("{'model':'cohere.embed-english-v3','input':['a','b'],'encoding_format':null}") ==
	      0);
	CHECK(emb_ncalls(&rq) == 1);
	CHECK_STR(body(0), q("{'texts':['a','b'],'input_type':'search_document','truncate':'NONE'}"));
	CHECK(parse("{'model':'cohere.embed-v4:0','input':'a','input_type':'search_query',"
		    "'dimensions':1536}") == 0);
	CHECK_STR(body(0), q("{'texts':['a'],'input_type':'search_query','truncate':'NONE',"
			     "'output_dimension':1536}"));
	bad("[]", "");
	bad("{'input':'a'}", "model");
	bad("{'model':'amazon.nova-pro-v1:0','input':'a'}", "model");
	bad("{'model':'cohere.embed-english-v3'}", "input");
	bad("{'model':'cohere.embed-english-v3','input':''}", "input");
	bad("{'model':'cohere.embed-english-v3','input':[]}", "input");
	bad("{'model':'cohere.embed-english-v3','input':['a','']}", "input");
	bad("{'model':'cohere.embed-english-v3','input':[[1,2]]}", "input");
	bad("{'model':'cohere.embed-english-v3','input':'a','encoding_format':'int8'}",
	    "encoding_format");
	bad("{'model':'cohere.embed-english-v3','input':'a','dimensions':256}", "dimensions");
	bad("{'model':'amazon.titan-embed-text-v1','input':'a','dimensions':256}", "dimensions");
	bad("{'model':'amazon.titan-embed-text-v2:0','input':'a','dimensions':300}", "dimensions");
	bad("{'model':'amazon.titan-embed-text-v2:0','input':'a','dimensions':-1}", "dimensions");
	bad("{'model':'cohere.embed-english-v3','input':'a','input_type':'x'}", "input_type");
	CHECK(parse("{") < 0 && er.cls == ERR_USAGE);
	/* batching */
	{
		static char big[EMB_COHERE_BATCH * 8 + 200];
		size_t n = 0;

		n += (size_t)snprintf(big, sizeof big, "{'model':'cohere.embed-english-v3','input':[");
		for (int i = 0; i < EMB_COHERE_BATCH + 1; i++)
			n += (size_t)snprintf(big + n, sizeof big - n, "%s'x'", i ? "," : "");
		snprintf(big + n, sizeof big - n, "]}");
		CHECK(parse(big) == 0);
		CHECK(emb_ncalls(&rq) == 2);
		CHECK_STR(body(1), q("{'texts':['x'],'input_type':'search_document',"
				     "'truncate':'NONE'}"));
	}
	emb_req_free(&rq);
	memset(&rq, 0, sizeof rq);
}

static void test_answers(void)
{
	struct emb_acc a;
	struct buf out, dec;
	const char *t1 = "{\"embedding\":[0.5, -1,2.25e0],\"inputTextTokenCount\":3}";
	const char *t2 = "{\"embedding\":[1],\"inputTextTokenCount\":2}";

	buf_init(&out, 1 << 16);
	buf_init(&dec, 1 << 16);
	CHECK(parse("{'model':'amazon.titan-embed-text-v2:0','input':['a','b']}") == 0);
	emb_acc_init(&a, 1 << 20);
	CHECK(emb_finish(&rq, &a, &out, &er) < 0); /* nothing yet */
	CHECK(emb_add_answer(&rq, 1, (const uint8_t *)t2, strlen(t2), -1, &a, &er) < 0);
	CHECK(emb_add_answer(&rq, 0, (const uint8_t *)t1, strlen(t1), -1, &a, &er) == 0);
	CHECK(emb_add_answer(&rq, 1, (const uint8_t *)t2, strlen(t2), 9, &a, &er) == 0);
	CHECK(emb_finish(&rq, &a, &out, &er) == 0);
	CHECK_STR((const char *)out.p,
		  q("{'object':'list','data':[{'object':'embedding','index':0,'embedding':"
		    "[0.5, -1,2.25e0]},{'object':'embedding','index':1,'embedding':[1]}],"
		    "'model':'amazon.titan-embed-text-v2:0','usage':{'prompt_tokens':5,"
		    "'total_tokens':5}}"));
	emb_acc_free(&a);
	/* base64: little-endian float32 */
	CHECK(parse("{'model':'amazon.titan-embed-text-v2:0','input':'a',"
		    "'encoding_format':'base64'}") == 0);
	emb_acc_init(&a, 1 << 20);
	CHECK(emb_add_answer(&rq, 0, (const uint8_t *)t2, strlen(t2), -1, &a, &er) == 0);
	buf_reset(&out);
	CHECK(emb_finish(&rq, &a, &out, &er) == 0);
	/* 1.0f = 00 00 80 3f */
	CHECK(strstr((const char *)out.p, "\"embedding\":\"AACAPw==\"") != NULL);
	emb_acc_free(&a);
	/* Cohere: both answer shapes, tokens from the header */
	CHECK(parse("{'model':'cohere.embed-english-v3','input':['a','b'],"
		    "'encoding_format':'base64'}") == 0);
	emb_acc_init(&a, 1 << 20);
	{
		const char *c1 = "{\"id\":\"x\",\"embeddings\":{\"float\":[[0.5],[-2]]}}";

		CHECK(emb_add_answer(&rq, 0, (const uint8_t *)c1, strlen(c1), 4, &a, &er) == 0);
		buf_reset(&out);
		CHECK(emb_finish(&rq, &a, &out, &er) == 0);
		CHECK(strstr((const char *)out.p, "\"embedding\":\"AAAAPw==\"") != NULL);
		CHECK(strstr((const char *)out.p, "\"index\":1,\"embedding\":\"AAAAwA==\"") != NULL);
		CHECK(strstr((const char *)out.p, "\"prompt_tokens\":4") != NULL);
	}
	emb_acc_free(&a);
	/* malformed answers */
	{
		static const char *badans[] = {"{", "{}", "{\"embeddings\":[[1]]}",
					       "{\"embeddings\":[[1],[\"x\"]]}",
					       "{\"embeddings\":[[1],[]]}",
					       "{\"embeddings\":{\"int8\":[[1],[2]]}}"};
		for (size_t i = 0; i < sizeof badans / sizeof badans[0]; i++) {
			emb_acc_init(&a, 1 << 20);
			CHECK(emb_add_answer(&rq, 0, (const uint8_t *)badans[i], strlen(badans[i]),
					     -1, &a, &er) < 0);
			CHECK(er.cls == ERR_PROTO);
			emb_acc_free(&a);
		}
	}
	emb_req_free(&rq);
	memset(&rq, 0, sizeof rq);
	buf_free(&out);
	buf_free(&dec);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_family);
	T_RUN(test_requests);
	T_RUN(test_answers);
	return t_done(argv[0]);
}
