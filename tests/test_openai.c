/* test_openai: OpenAI request -> Converse body (every field, tools, merging,
 * images, every bad input), Converse event stream -> SSE chunks (built with
 * evs_encode, fed at every split point), Converse answer -> chat.completion,
 * error classification and error objects. JSON compared byte for byte. */
#include "t.h"

#include <stdlib.h>

#include "base/base64.h"
#include "bedrock/converse.h"
#include "wire/evstream.h"
#include "wire/json.h"
#include "bedrock/config.h"
#include "bedrock/openai.h"

/* Test JSON is written with ' for " (none of the texts needs a quote). */
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

static struct oai_req rq;
static struct err er;

/* Maps q(in); returns the Converse body (static) or NULL with er set. */
static const char *map(const char *in)
{
	static struct buf out;
	const char *j = q(in);

	buf_free(&out);
	buf_init(&out, 1 << 20);
	err_clear(&er);
	if (oai_map_request((const uint8_t *)j, strlen(j), &rq, &out, &er) < 0) {
		CHECK(out.len == 0);
		return NULL;
	}
	CHECK(json_validate((const char *)out.p, out.len, NULL, NULL, &er) == 0);
	return (const char *)out.p;
}

static void mapeq(const char *in, const char *want)
{
	const char *got = map(in);

	if (!got)
		fprintf(stderr, "  error: %s\n", er.msg);
	CHECK_STR(got, q(want));
}

#define M "'model':'amazon-bedrock/us.anthropic.claude-sonnet-4-v1:0',"
#define HI "{'role':'user','content':'Hi'}"

static void test_minimal(void)
{
	mapeq("{" M "'messages':[" HI "]}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}]}");
	CHECK_STR(rq.model, "amazon-bedrock/us.anthropic.claude-sonnet-4-v1:0");
	CHECK_STR(rq.model_id, "us.anthropic.claude-sonnet-4-v1:0");
	CHECK(rq.stream == 0 && rq.include_usage == 0 && rq.thinking == 0);
	/* a bare id, escapes decoded, unknown fields and nulls ignored; user is
	 * request metadata (SPEC 7.1) */
	mapeq("{'model':'amazon.nova-pro-v1:0','messages':[{'role':'user','content':'a\\nb\\u00e9',"
	      "'name':'bob'}],'user':'x','logprobs':true,'temperature':null,'stop':null,"
	      "'tools':null,'n':1,'seed':3,'response_format':{'type':'text'}}",
	      "{'messages':[{'role':'user','content':[{'text':'a\\nb\xc3\xa9'}]}],"
	      "'requestMetadata':{'user':'x'}}");
	CHECK_STR(rq.model_id, "amazon.nova-pro-v1:0");
	CHECK_STR(rq.model, "amazon.nova-pro-v1:0");
}

static void test_all_fields(void)
{
	mapeq("{" M "'messages':[{'role':'system','content':'Be brief.'},"
	      "{'role':'developer','content':[{'type':'text','text':'Use SI.'},"
	      "{'type':'text','text':'No emoji.'}]}," HI "],"
	      "'max_tokens':100,'temperature':0.5,'top_p':0.9,'stop':['END','\\n\\n'],"
	      "'stream':true,'stream_options':{'include_usage':true},"
	      "'tools':[{'type':'function','function':{'name':'get_weather','description':'Weather',"
	      "'parameters':{'type':'object','properties':{'city':{'type':'string'}},"
	      "'required':['city']},'strict':true}},{'type':'function','function':{'name':'now'}}],"
	      "'tool_choice':'required'}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}],"
	      "'system':[{'text':'Be brief.'},{'text':'Use SI.'},{'text':'No emoji.'}],"
	      "'inferenceConfig':{'maxTokens':100,'temperature':0.5,'topP':0.9,"
	      "'stopSequences':['END','\\n\\n']},"
	      "'toolConfig':{'tools':[{'toolSpec':{'name':'get_weather','description':'Weather',"
	      "'inputSchema':{'json':{'type':'object','properties':{'city':{'type':'string'}},"
	      "'required':['city']}}}},{'toolSpec':{'name':'now','inputSchema':{'json':"
	      "{'type':'object','properties':{}}}}}],'toolChoice':{'any':{}}}}");
	CHECK(rq.stream == 1 && rq.include_usage == 1);
	/* stop as a string; max_completion_tokens wins over max_tokens */
	mapeq("{" M "'messages':[" HI "],'stop':'x','max_tokens':5,'max_completion_tokens':7}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}],"
	      "'inferenceConfig':{'maxTokens':7,'stopSequences':['x']}}");
	/* include_usage without stream means nothing */
	CHECK(map("{" M "'messages':[" HI "],'stream_options':{'include_usage':true}}") != NULL);
	CHECK(rq.stream == 0 && rq.include_usage == 0);
	/* tool choice forms */
	mapeq("{" M "'messages':[" HI "],'tools':[{'type':'function','function':{'name':'f'}}],"
	      "'tool_choice':'auto'}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}],'toolConfig':{'tools':"
	      "[{'toolSpec':{'name':'f','inputSchema':{'json':{'type':'object','properties':{}}}}}],"
	      "'toolChoice':{'auto':{}}}}");
	mapeq("{" M "'messages':[" HI "],'tools':[{'type':'function','function':{'name':'f'}}],"
	      "'tool_choice':{'type':'function','function':{'name':'f'}}}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}],'toolConfig':{'tools':"
	      "[{'toolSpec':{'name':'f','inputSchema':{'json':{'type':'object','properties':{}}}}}],"
	      "'toolChoice':{'tool':{'name':'f'}}}}");
	/* none, without tool history: no toolConfig at all */
	mapeq("{" M "'messages':[" HI "],'tools':[{'type':'function','function':{'name':'f'}}],"
	      "'tool_choice':'none'}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}]}");
}

#define TOOLTURN                                                                             \
	"{'role':'assistant','content':'Let me look.','tool_calls':["                        \
	"{'id':'c1','type':'function','function':{'name':'get','arguments':'{\\'a\\': 1}'}},"  \
	"{'id':'c2','type':'function','function':{'name':'now','arguments':''}}]},"            \
	"{'role':'tool','tool_call_id':'c1','content':'sunny'},"                               \
	"{'role':'tool','tool_call_id':'c2','content':[{'type':'text','text':'noon'}]},"

static void test_tools_multi_turn(void)
{
	const char *got;

	mapeq("{" M "'messages':[" HI "," TOOLTURN "{'role':'user','content':'thanks'}],"
	      "'tools':[{'type':'function','function':{'name':'get'}}]}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]},"
	      "{'role':'assistant','content':[{'text':'Let me look.'},"
	      "{'toolUse':{'toolUseId':'c1','name':'get','input':{'a': 1}}},"
	      "{'toolUse':{'toolUseId':'c2','name':'now','input':{}}}]},"
	      "{'role':'user','content':[{'toolResult':{'toolUseId':'c1','content':[{'text':'sunny'}]}},"
	      "{'toolResult':{'toolUseId':'c2','content':[{'text':'noon'}]}},{'text':'thanks'}]}],"
	      "'toolConfig':{'tools':[{'toolSpec':{'name':'get','inputSchema':{'json':"
	      "{'type':'object','properties':{}}}}}],'toolChoice':{'auto':{}}}}");
	/* tool history but no tools (or none): Converse still wants a toolConfig */
	mapeq("{" M "'messages':[" HI ",{'role':'assistant','content':null,'tool_calls':["
	      "{'id':'c1','type':'function','function':{'name':'get','arguments':'{}'}}]},"
	      "{'role':'tool','tool_call_id':'c1','content':''}]}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]},"
	      "{'role':'assistant','content':[{'toolUse':{'toolUseId':'c1','name':'get','input':{}}}]},"
	      "{'role':'user','content':[{'toolResult':{'toolUseId':'c1','content':"
	      "[{'text':'(empty)'}]}}]}],"
	      "'toolConfig':{'tools':[{'toolSpec':{'name':'no_tools_available','description':"
	      "'No tools are available for this request. Never call this.','inputSchema':{'json':"
	      "{'type':'object','properties':{}}}}}]}}");
	/* tool_choice none with tool history: the placeholder, not the real tools */
	got = map("{" M "'messages':[" HI "," TOOLTURN "{'role':'user','content':'x'}],"
		  "'tools':[{'type':'function','function':{'name':'get'}}],'tool_choice':'none'}");
	CHECK(got && strstr(got, "\"toolConfig\":{\"tools\":[{\"toolSpec\":{\"name\":"
				 "\"no_tools_available\"") != NULL);
	CHECK(got && strstr(got, "toolChoice") == NULL);
	got = map("{" M "'messages':[" HI "," TOOLTURN "{'role':'user','content':'x'}],"
		  "'tools':[]}");
	CHECK(got && strstr(got, "no_tools_available") != NULL);
}

static void test_merging(void)
{
	/* consecutive same-role messages become one turn; blank text is dropped;
	 * a system message in the middle does not split a turn */
	mapeq("{" M "'messages':[{'role':'user','content':'a'},{'role':'user','content':"
	      "[{'type':'text','text':'b'},{'type':'text','text':'  \\n'}]},"
	      "{'role':'system','content':'s'},{'role':'user','content':'c'},"
	      "{'role':'assistant','content':'d'},{'role':'assistant','content':''},"
	      "{'role':'assistant','content':[{'type':'text','text':'e'},"
	      "{'type':'refusal','refusal':'f'}]},{'role':'user','content':'g'}]}",
	      "{'messages':[{'role':'user','content':[{'text':'a'},{'text':'b'},{'text':'c'}]},"
	      "{'role':'assistant','content':[{'text':'d'},{'text':'e'},{'text':'f'}]},"
	      "{'role':'user','content':[{'text':'g'}]}],'system':[{'text':'s'}]}");
	/* an empty assistant message between two users vanishes: one user turn */
	mapeq("{" M "'messages':[{'role':'user','content':'a'},{'role':'assistant','content':''},"
	      "{'role':'user','content':'b'}]}",
	      "{'messages':[{'role':'user','content':[{'text':'a'},{'text':'b'}]}]}");
	/* a final assistant turn (prefill) is kept */
	mapeq("{" M "'messages':[" HI ",{'role':'assistant','content':'{'}]}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]},"
	      "{'role':'assistant','content':[{'text':'{'}]}]}");
}

#define PNG64 "iVBORw0KGgoAAAANSUhEUg=="
#define JPG64 "/9j/4AAQSkZJRg=="

static void test_images(void)
{
	mapeq("{" M "'messages':[{'role':'user','content':[{'type':'text','text':'What?'},"
	      "{'type':'image_url','image_url':{'url':'data:image/png;base64," PNG64 "',"
	      "'detail':'high'}}]}]}",
	      "{'messages':[{'role':'user','content':[{'text':'What?'},{'image':{'format':'png',"
	      "'source':{'bytes':'" PNG64 "'}}}]}]}");
	/* image_url as a bare string, image/jpg, escaped '/', whitespace and no
	 * padding: re-encoded canonically */
	mapeq("{" M "'messages':[{'role':'user','content':[{'type':'image_url','image_url':"
	      "'DATA:image/JPG;base64,\\/9j\\/4AAQ\\nSkZJRg'}]}]}",
	      "{'messages':[{'role':'user','content':[{'image':{'format':'jpeg',"
	      "'source':{'bytes':'" JPG64 "'}}}]}]}");
	/* a media-type parameter before ;base64 */
	CHECK(map("{" M "'messages':[{'role':'user','content':[{'type':'image_url','image_url':"
		  "{'url':'data:image/png;name=a.png;base64," PNG64 "'}}]}]}") != NULL);
}

struct bad {
	const char *in, *param, *msg;
};

static void test_bad_requests(void)
{
	static const struct bad v[] = {
		{"{", "", "not valid JSON"},
		{"[]", "", "must be a JSON object"},
		{"{'messages':[" HI "]}", "model", "missing"},
		{"{'model':7,'messages':[" HI "]}", "model", "expected a string"},
		{"{'model':'','messages':[" HI "]}", "model", "1 to"},
		{"{'model':'amazon-bedrock/','messages':[" HI "]}", "model", "empty model id"},
		{"{'model':'a\\nb','messages':[" HI "]}", "model", "control character"},
		{"{" M "'messages':[]}", "messages", "non-empty array"},
		{"{" M "'messages':{}}", "messages", "non-empty array"},
		{"{'model':'x'}", "messages", "missing"},
		{"{" M "'messages':[3]}", "messages[0]", "message object"},
		{"{" M "'messages':[{'role':'function','content':'x'}]}", "messages[0].role",
		 "is not supported"},
		{"{" M "'messages':[{'role':'assistant','content':'x'}]}", "messages[0].content",
		 "must start with a user message"},
		{"{" M "'messages':[{'role':'system','content':'x'}]}", "messages",
		 "no user message"},
		{"{" M "'messages':[{'role':'user','content':''}]}", "messages", "no user message"},
		{"{" M "'messages':[{'role':'user'}]}", "messages[0].content", "missing"},
		{"{" M "'messages':[{'role':'user','content':5}]}", "messages[0].content",
		 "string or an array"},
		{"{" M "'messages':[{'role':'user','content':[{'type':'input_audio'}]}]}",
		 "messages[0].content[0]", "input_audio"},
		{"{" M "'messages':[{'role':'user','content':[{'text':'x'}]}]}",
		 "messages[0].content[0]", "with a type"},
		{"{" M "'messages':[{'role':'user','content':[{'type':'text','text':3}]}]}",
		 "messages[0].content[0].text", "expected a string"},
		{"{" M "'messages':[{'role':'user','content':[{'type':'refusal','refusal':'x'}]}]}",
		 "messages[0].content[0]", "assistant"},
		{"{" M "'messages':[{'role':'user','content':'\\ud800'}]}", "messages[0].content",
		 "lone surrogate"},
		{"{" M "'messages':[{'role':'user','content':[{'type':'image_url','image_url':"
		 "{'url':'https://x/y.png'}}]}]}",
		 "messages[0].content[0].image_url.url", "does not fetch"},
		{"{" M "'messages':[{'role':'user','content':[{'type':'image_url','image_url':"
		 "{'url':'ftp://x'}}]}]}",
		 "messages[0].content[0].image_url.url", "data: URL"},
		{"{" M "'messages':[{'role':'user','content':[{'type':'image_url','image_url':{}}]}]}",
		 "messages[0].content[0].image_url.url", "missing"},
		{"{" M "'messages':[{'role':'user','content':[{'type':'image_url','image_url':"
		 "{'url':'data:image/png," PNG64 "'}}]}]}",
		 "messages[0].content[0].image_url.url", "not base64"},
		{"{" M "'messages':[{'role':'user','content':[{'type':'image_url','image_url':"
		 "{'url':'data:image/png;base64'}}]}]}",
		 "messages[0].content[0].image_url.url", "data URL without"},
		{"{" M "'messages':[{'role':'user','content':[{'type':'image_url','image_url':"
		 "{'url':'data:image/tiff;base64," PNG64 "'}}]}]}",
		 "messages[0].content[0].image_url.url", "image/tiff"},
		{"{" M "'messages':[{'role':'user','content':[{'type':'image_url','image_url':"
		 "{'url':'data:image/jpeg;base64," PNG64 "'}}]}]}",
		 "messages[0].content[0].image_url.url", "says jpeg but the image data is png"},
		{"{" M "'messages':[{'role':'user','content':[{'type':'image_url','image_url':"
		 "{'url':'data:image/png;base64,aGVsbG8='}}]}]}",
		 "messages[0].content[0].image_url.url", "not a png"},
		{"{" M "'messages':[{'role':'user','content':[{'type':'image_url','image_url':"
		 "{'url':'data:image/png;base64,@@@@'}}]}]}",
		 "messages[0].content[0].image_url.url", "not valid base64"},
		{"{" M "'messages':[" HI ",{'role':'assistant','tool_calls':[{'id':'c',"
		 "'function':{'name':'f','arguments':'{bad'}}]}]}",
		 "messages[1].tool_calls[0].function.arguments", "JSON object"},
		{"{" M "'messages':[" HI ",{'role':'assistant','tool_calls':[{'id':'c',"
		 "'function':{'name':'f','arguments':'[1]'}}]}]}",
		 "messages[1].tool_calls[0].function.arguments", "JSON object"},
		{"{" M "'messages':[" HI ",{'role':'assistant','tool_calls':[{'id':'c',"
		 "'function':{'name':'f','arguments':{}}}]}]}",
		 "messages[1].tool_calls[0].function.arguments", "expected a string"},
		{"{" M "'messages':[" HI ",{'role':'assistant','tool_calls':[{'id':'c',"
		 "'function':{'name':''}}]}]}",
		 "messages[1].tool_calls[0].function.name", "empty"},
		{"{" M "'messages':[" HI ",{'role':'assistant','tool_calls':[{'function':"
		 "{'name':'f'}}]}]}",
		 "messages[1].tool_calls[0].id", "expected a string"},
		{"{" M "'messages':[" HI ",{'role':'assistant','tool_calls':[{'id':'c','type':'x',"
		 "'function':{'name':'f'}}]}]}",
		 "messages[1].tool_calls[0]", "type \"function\""},
		{"{" M "'messages':[" HI ",{'role':'assistant','tool_calls':{}}]}",
		 "messages[1].tool_calls", "expected an array"},
		{"{" M "'messages':[" HI ",{'role':'tool','content':'x'}]}",
		 "messages[1].tool_call_id", "missing"},
		{"{" M "'messages':[" HI ",{'role':'tool','tool_call_id':'c','content':7}]}",
		 "messages[1].content", "string or an array"},
		{"{" M "'messages':[" HI ",{'role':'tool','tool_call_id':'c','content':"
		 "[{'type':'image_url'}]}]}",
		 "messages[1].content", "text parts only"},
		{"{" M "'messages':[{'role':'system','content':3}," HI "]}", "messages[0].content",
		 "string or an array"},
		{"{" M "'messages':[" HI "],'n':2}", "n", "only n=1"},
		{"{" M "'messages':[" HI "],'n':1.0}", "n", "only n=1"},
		{"{" M "'messages':[" HI "],'temperature':'hot'}", "temperature", "expected a number"},
		{"{" M "'messages':[" HI "],'top_p':true}", "top_p", "expected a number"},
		{"{" M "'messages':[" HI "],'max_tokens':0}", "max_tokens", "positive integer"},
		{"{" M "'messages':[" HI "],'max_tokens':1.5}", "max_tokens", "positive integer"},
		{"{" M "'messages':[" HI "],'max_completion_tokens':3000000000}",
		 "max_completion_tokens", "positive integer"},
		{"{" M "'messages':[" HI "],'stop':5}", "stop", "string or an array"},
		{"{" M "'messages':[" HI "],'stop':['a',1]}", "stop", "expected a string"},
		{"{" M "'messages':[" HI "],'stream':'yes'}", "stream", "true or false"},
		{"{" M "'messages':[" HI "],'stream':true,'stream_options':{'include_usage':1}}",
		 "stream_options.include_usage", "true or false"},
		{"{" M "'messages':[" HI "],'stream_options':3}", "stream_options", "an object"},
		{"{" M "'messages':[" HI "],'tools':{}}", "tools", "expected an array"},
		{"{" M "'messages':[" HI "],'tools':[{'type':'code_interpreter','function':{}}]}",
		 "tools[0]", "type \"function\""},
		{"{" M "'messages':[" HI "],'tools':[{'type':'function'}]}", "tools[0]",
		 "expected {type"},
		{"{" M "'messages':[" HI "],'tools':[{'type':'function','function':{'name':'f',"
		 "'parameters':[]}}]}",
		 "tools[0].function.parameters", "JSON Schema object"},
		{"{" M "'messages':[" HI "],'tools':[{'type':'function','function':{'name':'f',"
		 "'description':1}}]}",
		 "tools[0].function.description", "expected a string"},
		{"{" M "'messages':[" HI "],'tools':[{'type':'function','function':{}}]}",
		 "tools[0].function.name", "expected a string"},
		{"{" M "'messages':[" HI "],'tool_choice':'any'}", "tool_choice", "expected \"none\""},
		{"{" M "'messages':[" HI "],'tool_choice':{'type':'function'}}", "tool_choice",
		 "expected {"},
		{"{" M "'messages':[" HI "],'reasoning_effort':'max'}", "reasoning_effort",
		 "expected \"none\""},
		{"{" M "'messages':[" HI "],'reasoning_effort':2}", "reasoning_effort",
		 "expected \"none\""},
		{"{" M "'messages':[" HI "],'service_tier':'gold'}", "service_tier", "expected"},
		{"{" M "'messages':[{'role':'user','content':[{'type':'text','text':'a',"
		 "'cache_control':{'type':'forever'}}]}]}", "messages[0].content", "cache_control"},
		{"{" M "'messages':[{'role':'user','content':[{'type':'text','text':'a',"
		 "'cache_control':{'type':'ephemeral','ttl':'2h'}}]}]}", "messages[0].content",
		 "cache_control.ttl"},
	};
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		const char *got = map(v[i].in);
		char want[128];
		int ok = !got && er.cls == ERR_USAGE && strcmp(rq.param, q(v[i].param)) == 0 &&
			 strstr(er.msg, q(v[i].msg)) != NULL;

		if (!ok)
			fprintf(stderr, "  case %zu: got %s [%s] \"%s\"\n", i, got ? got : "error",
				rq.param, er.msg);
		snprintf(want, sizeof want, "bad request %zu", i);
		t_case(want, ok);
	}
}

static void test_reasoning_effort(void)
{
	/* no max_tokens: budget + answer room */
	mapeq("{" M "'messages':[" HI "],'reasoning_effort':'low'}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}],"
	      "'inferenceConfig':{'maxTokens':6144},"
	      "'additionalModelRequestFields':{'thinking':{'type':'enabled','budget_tokens':2048}}}");
	CHECK(rq.thinking == 2048);
	/* max_tokens below the budget: the budget comes on top */
	mapeq("{" M "'messages':[" HI "],'reasoning_effort':'high','max_tokens':1000}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}],"
	      "'inferenceConfig':{'maxTokens':25576},"
	      "'additionalModelRequestFields':{'thinking':{'type':'enabled','budget_tokens':24576}}}");
	/* enough room already: kept */
	mapeq("{" M "'messages':[" HI "],'reasoning_effort':'medium','max_tokens':20000}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}],"
	      "'inferenceConfig':{'maxTokens':20000},"
	      "'additionalModelRequestFields':{'thinking':{'type':'enabled','budget_tokens':8192}}}");
	/* none, and other makers: nothing sent */
	mapeq("{" M "'messages':[" HI "],'reasoning_effort':'none'}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}]}");
	mapeq("{'model':'amazon.nova-pro-v1:0','messages':[" HI "],'reasoning_effort':'high'}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}]}");
	CHECK(rq.thinking == 0);
	/* adaptive-only models: the effort, no budget, maxTokens untouched */
	mapeq("{'model':'amazon-bedrock/us.anthropic.claude-opus-4-7','messages':[" HI "],"
	      "'reasoning_effort':'medium','max_tokens':100}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}],"
	      "'inferenceConfig':{'maxTokens':100},"
	      "'additionalModelRequestFields':{'thinking':{'type':'adaptive'},"
	      "'output_config':{'effort':'medium'}}}");
	CHECK(rq.thinking == 0 && strcmp(rq.effort, "medium") == 0);
	mapeq("{'model':'global.anthropic.claude-opus-4-7','messages':[" HI "],"
	      "'reasoning_effort':'minimal'}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}],"
	      "'additionalModelRequestFields':{'thinking':{'type':'adaptive'},"
	      "'output_config':{'effort':'low'}}}");
	/* a date suffix is no minor version: Opus 4 keeps the budget */
	mapeq("{'model':'us.anthropic.claude-opus-4-20250514-v1:0','messages':[" HI "],"
	      "'reasoning_effort':'high'}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}],"
	      "'inferenceConfig':{'maxTokens':28672},"
	      "'additionalModelRequestFields':{'thinking':{'type':'enabled','budget_tokens':24576}}}");
}

/* cache_control -> cachePoint (SPEC 3.5, 7.1); service_tier; user. */
static void test_cache_tier_user(void)
{
	mapeq("{" M "'messages':[{'role':'system','content':[{'type':'text','text':'S',"
	      "'cache_control':{'type':'ephemeral','ttl':'1h'}}]},"
	      "{'role':'user','content':[{'type':'text','text':'A','cache_control':{'type':'ephemeral'}},"
	      "{'type':'text','text':'B'}]}]}",
	      "{'messages':[{'role':'user','content':[{'text':'A'},{'cachePoint':{'type':'default'}},"
	      "{'text':'B'}]}],"
	      "'system':[{'text':'S'},{'cachePoint':{'type':'default','ttl':'1h'}}]}");
	CHECK(rq.cache_points == 2);
	/* a 1h point after a 5m one is sent as 5m */
	mapeq("{" M "'messages':[{'role':'system','content':[{'type':'text','text':'S',"
	      "'cache_control':{'type':'ephemeral'}}]},"
	      "{'role':'user','content':[{'type':'text','text':'A',"
	      "'cache_control':{'type':'ephemeral','ttl':'1h'}}]}]}",
	      "{'messages':[{'role':'user','content':[{'text':'A'},{'cachePoint':{'type':'default'}}]}],"
	      "'system':[{'text':'S'},{'cachePoint':{'type':'default'}}]}");
	/* at most 4: the first three and the last */
	mapeq("{" M "'messages':[{'role':'user','content':["
	      "{'type':'text','text':'1','cache_control':{'type':'ephemeral'}},"
	      "{'type':'text','text':'2','cache_control':{'type':'ephemeral'}},"
	      "{'type':'text','text':'3','cache_control':{'type':'ephemeral'}},"
	      "{'type':'text','text':'4','cache_control':{'type':'ephemeral'}},"
	      "{'type':'text','text':'5','cache_control':{'type':'ephemeral'}}]}]}",
	      "{'messages':[{'role':'user','content':[{'text':'1'},{'cachePoint':{'type':'default'}},"
	      "{'text':'2'},{'cachePoint':{'type':'default'}},{'text':'3'},"
	      "{'cachePoint':{'type':'default'}},{'text':'4'},{'text':'5'},"
	      "{'cachePoint':{'type':'default'}}]}]}");
	CHECK(rq.cache_points == 4 && rq.cache_dropped == 1);
	/* a model without caching: left out */
	mapeq("{'model':'meta.llama3-70b-instruct-v1:0','messages':[{'role':'user','content':["
	      "{'type':'text','text':'A','cache_control':{'type':'ephemeral'}}]}]}",
	      "{'messages':[{'role':'user','content':[{'text':'A'}]}]}");
	CHECK(rq.cache_points == 0 && rq.cache_dropped == 1);
	/* Nova: system and messages, never tools */
	mapeq("{'model':'us.amazon.nova-pro-v1:0','messages':[{'role':'user','content':["
	      "{'type':'text','text':'A','cache_control':{'type':'ephemeral'}}]}],'tools':["
	      "{'type':'function','function':{'name':'t'},'cache_control':{'type':'ephemeral'}}]}",
	      "{'messages':[{'role':'user','content':[{'text':'A'},{'cachePoint':{'type':'default'}}]}],"
	      "'toolConfig':{'tools':[{'toolSpec':{'name':'t','inputSchema':{'json':{'type':'object',"
	      "'properties':{}}}}}],'toolChoice':{'auto':{}}}}");
	CHECK(rq.cache_points == 1 && rq.cache_dropped == 1);
	/* service_tier and user */
	mapeq("{" M "'messages':[" HI "],'service_tier':'flex','user':'u-1'}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}],"
	      "'serviceTier':{'type':'flex'},'requestMetadata':{'user':'u-1'}}");
	mapeq("{" M "'messages':[" HI "],'service_tier':'auto'}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}]}");
}

/* A tool's cache_control: a point after that tool, tools first in the TTL
 * order; anthropic_beta and additionalModelRequestFields (SPEC 3.5, 7.1). */
static void test_tools_cache_betas(void)
{
#define TOOL(n, cc) "{'type':'function','function':{'name':'" n "'}" cc "}"
#define SPEC(n) "{'toolSpec':{'name':'" n "','inputSchema':{'json':{'type':'object','properties':{}}}}}"
	mapeq("{" M "'messages':[{'role':'system','content':[{'type':'text','text':'S',"
	      "'cache_control':{'type':'ephemeral','ttl':'1h'}}]}," HI "],'tools':[" TOOL("a", "")
	      "," TOOL("b", ",'cache_control':{'type':'ephemeral'}") "]}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}],"
	      "'system':[{'text':'S'},{'cachePoint':{'type':'default'}}],"
	      "'toolConfig':{'tools':[" SPEC("a") "," SPEC("b") ",{'cachePoint':{'type':'default'}}],"
	      "'toolChoice':{'auto':{}}}}");
	CHECK(rq.cache_points == 2);
	/* tool_choice none: no tools sent, their marks do not count */
	mapeq("{" M "'messages':[" HI "],'tool_choice':'none','tools':["
	      TOOL("b", ",'cache_control':{'type':'ephemeral'}") "]}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}]}");
	CHECK(rq.cache_points == 0);
	mapeq("{" M "'messages':[" HI "],'anthropic_beta':' context-1m-2025-08-07,bogus,"
	      "context-1m-2025-08-07','additionalModelRequestFields':{'top_k':5,'anthropic_beta':['x']},"
	      "'reasoning_effort':'low','max_tokens':10}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}],"
	      "'inferenceConfig':{'maxTokens':2058},"
	      "'additionalModelRequestFields':{'top_k':5,'anthropic_beta':['context-1m-2025-08-07'],"
	      "'thinking':{'type':'enabled','budget_tokens':2048}}}");
	/* the client's own object passes as it is when no beta is kept */
	mapeq("{" M "'messages':[" HI "],'anthropic_beta':['bogus'],"
	      "'additionalModelRequestFields':{'anthropic_beta':['x']}}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}],"
	      "'additionalModelRequestFields':{'anthropic_beta':['x']}}");
	mapeq("{'model':'amazon.nova-pro-v1:0','messages':[" HI "],"
	      "'anthropic_beta':['context-1m-2025-08-07']}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]}]}");
	CHECK(map("{" M "'messages':[" HI "],'anthropic_beta':{}}") == NULL);
	CHECK_STR(rq.param, "anthropic_beta");
	CHECK(map("{" M "'messages':[" HI "],'additionalModelRequestFields':'x'}") == NULL);
	CHECK_STR(rq.param, "additionalModelRequestFields");
#undef TOOL
#undef SPEC
}

/* The gateway's config defaults bedrock.* under the request's fields. */
static void test_config_defaults(void)
{
	char *keys[] = {"app", "user"}, *vals[] = {"brock", "nobody"};
	struct config_features f;
	struct buf out;
	const char *j;

	memset(&f, 0, sizeof f);
	f.service_tier = "priority";
	f.latency = "optimized";
	f.guardrail_id = "gr-1";
	f.guardrail_trace = 1;
	f.meta_keys = keys;
	f.meta_values = vals;
	f.n_meta = 2;
	buf_init(&out, 1 << 16);
	j = q("{" M "'messages':[" HI "]}");
	CHECK(oai_map_request_def((const uint8_t *)j, strlen(j), &f, &rq, &out, &er) == 0);
	CHECK_STR((const char *)out.p,
		  q("{'messages':[{'role':'user','content':[{'text':'Hi'}]}],"
		    "'serviceTier':{'type':'priority'},'performanceConfig':{'latency':'optimized'},"
		    "'guardrailConfig':{'guardrailIdentifier':'gr-1','guardrailVersion':'DRAFT',"
		    "'trace':'enabled'},'requestMetadata':{'app':'brock','user':'nobody'}}"));
	buf_reset(&out);
	j = q("{" M "'messages':[" HI "],'service_tier':'flex','user':'alice'}");
	CHECK(oai_map_request_def((const uint8_t *)j, strlen(j), &f, &rq, &out, &er) == 0);
	CHECK(strstr((const char *)out.p, q("'serviceTier':{'type':'flex'}")) != NULL);
	CHECK(strstr((const char *)out.p, q("'requestMetadata':{'app':'brock','user':'alice'}")) != NULL);
	buf_free(&out);
}

/* Replaying reasoning: signatures and redacted content kept, a block without
 * a signature dropped (SPEC 3.5). */
static void test_thinking_blocks_replay(void)
{
	mapeq("{" M "'messages':[" HI ",{'role':'assistant','content':'4',"
	      "'thinking_blocks':[{'type':'thinking','thinking':'2+2','signature':'c2ln'},"
	      "{'type':'redacted_thinking','data':'UkVE'},"
	      "{'type':'thinking','thinking':'lost its signature'},"
	      "{'type':'thinking','thinking':'empty','signature':''}]},"
	      "{'role':'user','content':'and 3+3?'}]}",
	      "{'messages':[{'role':'user','content':[{'text':'Hi'}]},"
	      "{'role':'assistant','content':[{'reasoningContent':{'reasoningText':{'text':'2+2',"
	      "'signature':'c2ln'}}},{'reasoningContent':{'redactedContent':'UkVE'}},{'text':'4'}]},"
	      "{'role':'user','content':[{'text':'and 3+3?'}]}]}");
}

static void test_out_limit(void)
{
	struct buf out;
	const char *j = q("{" M "'messages':[{'role':'user','content':'0123456789012345678901234567"
			  "890123456789'}]}");

	buf_init(&out, 32);
	CHECK(buf_append_str(&out, "keep") == 0);
	CHECK(oai_map_request((const uint8_t *)j, strlen(j), &rq, &out, &er) < 0);
	CHECK(er.cls == ERR_OTHER);
	CHECK_STR((const char *)out.p, "keep"); /* nothing half-written stays */
	buf_free(&out);
}

/* ---- streaming ---- */

static struct buf sse;
static int fail_writes_after = -1;

static int sse_write(void *user, const uint8_t *p, size_t n, struct err *e)
{
	(void)user;
	if (fail_writes_after == 0)
		return err_set(e, ERR_NET, "client went away");
	if (fail_writes_after > 0)
		fail_writes_after--;
	CHECK(n >= 8 && memcmp(p, "data: ", 6) == 0 && memcmp(p + n - 2, "\n\n", 2) == 0);
	CHECK(buf_append(&sse, p, n) == 0);
	return 0;
}

static void ev(struct buf *out, const char *type, const char *json)
{
	struct evs_header h[3];
	const char *j = q(json);

	h[0] = evs_hdr_string(":event-type", type);
	h[1] = evs_hdr_string(":content-type", "application/json");
	h[2] = evs_hdr_string(":message-type", "event");
	CHECK(evs_encode(out, h, 3, j, strlen(j)) == 0);
}

static void exc(struct buf *out, const char *type, const char *json)
{
	struct evs_header h[3];
	const char *j = q(json);

	h[0] = evs_hdr_string(":exception-type", type);
	h[1] = evs_hdr_string(":content-type", "application/json");
	h[2] = evs_hdr_string(":message-type", "exception");
	CHECK(evs_encode(out, h, 3, j, strlen(j)) == 0);
}

/* Runs the stream in two feeds split at `split` (SIZE_MAX: one feed); returns
 * the feed/finish result, with the SSE output in sse. */
static int run_stream(const struct buf *in, size_t split, int include_usage, struct err *e)
{
	struct oai_stream os;
	struct conv_stream cs;
	struct conv_handler h;
	int rc;

	buf_free(&sse);
	buf_init(&sse, 1 << 20);
	oai_stream_init(&os, "chatcmpl-1", "m", 1700000000, include_usage, sse_write, NULL);
	oai_stream_handler(&os, &h);
	conv_stream_init(&cs, &h, 0);
	CHECK(!oai_stream_started(&os));
	if (split > in->len)
		split = in->len;
	rc = conv_stream_feed(&cs, in->p, split, e);
	if (rc == 0)
		rc = conv_stream_feed(&cs, in->p + split, in->len - split, e);
	if (rc == 0)
		rc = conv_stream_finish(&cs, e);
	if (rc == 0) {
		CHECK(oai_stream_end(&os, e) == 0);
	} else if (oai_stream_started(&os)) {
		struct err e2;

		CHECK(oai_stream_fail(&os, e, &e2) == 0 || fail_writes_after == 0);
	}
	if (rc == 0)
		CHECK(oai_stream_end(&os, e) == 0); /* idempotent after [DONE] */
	conv_stream_free(&cs);
	oai_stream_free(&os);
	return rc;
}

#define CH "data: {'id':'chatcmpl-1','object':'chat.completion.chunk','created':1700000000,"  \
	   "'model':'m','choices':[{'index':0,'delta':"
#define NUL_END ",'logprobs':null,'finish_reason':null}]}\n\n"

static void full_stream(struct buf *in)
{
	buf_init(in, 1 << 16);
	ev(in, "messageStart", "{'role':'assistant','p':'abc'}");
	ev(in, "contentBlockDelta",
	   "{'contentBlockIndex':0,'delta':{'reasoningContent':{'text':'Think'}}}");
	ev(in, "contentBlockDelta",
	   "{'contentBlockIndex':0,'delta':{'reasoningContent':{'signature':'sig'}}}");
	ev(in, "contentBlockStop", "{'contentBlockIndex':0}");
	ev(in, "contentBlockDelta", "{'contentBlockIndex':1,'delta':{'text':'Hel'}}");
	ev(in, "contentBlockDelta", "{'contentBlockIndex':1,'delta':{'text':'lo \\'w\\'\\n'}}");
	ev(in, "contentBlockStop", "{'contentBlockIndex':1}");
	ev(in, "contentBlockStart",
	   "{'contentBlockIndex':3,'start':{'toolUse':{'toolUseId':'t1','name':'get'}}}");
	ev(in, "contentBlockDelta",
	   "{'contentBlockIndex':3,'delta':{'toolUse':{'input':'{\\'a\\':'}}}");
	ev(in, "contentBlockDelta", "{'contentBlockIndex':3,'delta':{'toolUse':{'input':'1}'}}}");
	ev(in, "contentBlockStop", "{'contentBlockIndex':3}");
	ev(in, "contentBlockStart",
	   "{'contentBlockIndex':7,'start':{'toolUse':{'toolUseId':'t2','name':'now'}}}");
	ev(in, "contentBlockStop", "{'contentBlockIndex':7}");
	ev(in, "messageStop", "{'stopReason':'tool_use'}");
	ev(in, "metadata", "{'usage':{'inputTokens':10,'outputTokens':5,'totalTokens':15,"
			   "'cacheReadInputTokens':4},'metrics':{'latencyMs':100}}");
}

static const char *full_want(int usage)
{
	static char w[8192];

	snprintf(w, sizeof w, "%s%s",
		 q(CH "{'role':'assistant','content':''}" NUL_END
		   CH "{'reasoning_content':'Think'}" NUL_END
		   CH "{'content':'Hel'}" NUL_END
		   CH "{'content':'lo \\'w\\'\\n'}" NUL_END
		   CH "{'tool_calls':[{'index':0,'id':'t1','type':'function','function':"
		   "{'name':'get','arguments':''}}]}" NUL_END
		   CH "{'tool_calls':[{'index':0,'function':{'arguments':'{\\'a\\':'}}]}" NUL_END
		   CH "{'tool_calls':[{'index':0,'function':{'arguments':'1}'}}]}" NUL_END
		   CH "{'tool_calls':[{'index':1,'id':'t2','type':'function','function':"
		   "{'name':'now','arguments':''}}]}" NUL_END
		   CH "{'tool_calls':[{'index':1,'function':{'arguments':'{}'}}]}" NUL_END
		   CH "{},'logprobs':null,'finish_reason':'tool_calls'}]}\n\n"),
		 usage ? q("data: {'id':'chatcmpl-1','object':'chat.completion.chunk','created':"
			   "1700000000,'model':'m','choices':[],'usage':{'prompt_tokens':14,"
			   "'completion_tokens':5,'total_tokens':19,'prompt_tokens_details':"
			   "{'cached_tokens':4}}}\n\ndata: [DONE]\n\n")
		       : "data: [DONE]\n\n");
	return w;
}

static void test_stream_full(void)
{
	struct buf in;
	size_t split;
	int bad = 0;

	full_stream(&in);
	CHECK(run_stream(&in, SIZE_MAX, 1, &er) == 0);
	CHECK_STR((const char *)sse.p, full_want(1));
	CHECK(run_stream(&in, SIZE_MAX, 0, &er) == 0);
	CHECK_STR((const char *)sse.p, full_want(0));
	/* the same bytes whatever the split */
	for (split = 0; split <= in.len; split++) {
		if (run_stream(&in, split, 1, &er) != 0 ||
		    strcmp((const char *)sse.p, full_want(1)) != 0)
			bad++;
	}
	t_case("stream at every split point", bad == 0);
	buf_free(&in);
}

static void finish_case(const char *reason, const char *want)
{
	char tail[256], stop[128];
	struct buf in;

	buf_init(&in, 4096);
	snprintf(stop, sizeof stop, "{'stopReason':'%s'}", reason);
	ev(&in, "messageStart", "{'role':'assistant'}");
	ev(&in, "contentBlockDelta", "{'contentBlockIndex':0,'delta':{'text':'x'}}");
	ev(&in, "messageStop", stop);
	CHECK(run_stream(&in, SIZE_MAX, 0, &er) == 0);
	snprintf(tail, sizeof tail,
		 "{},\"logprobs\":null,\"finish_reason\":\"%s\"}]}\n\ndata: [DONE]\n\n", want);
	CHECK(sse.len > strlen(tail) &&
	      strcmp((const char *)sse.p + sse.len - strlen(tail), tail) == 0);
	CHECK_STR(oai_finish_reason(slice_str(reason)), want);
	buf_free(&in);
}

static void test_finish_reasons(void)
{
	finish_case("end_turn", "stop");
	finish_case("stop_sequence", "stop");
	finish_case("tool_use", "tool_calls");
	finish_case("max_tokens", "length");
	finish_case("model_context_window_exceeded", "length");
	finish_case("guardrail_intervened", "content_filter");
	finish_case("content_filtered", "content_filter");
	finish_case("something_new", "stop");
}

static void test_stream_usage_without_metadata(void)
{
	struct buf in;

	/* usage asked for but no metadata: a zero usage chunk still precedes [DONE] */
	buf_init(&in, 4096);
	ev(&in, "messageStop", "{'stopReason':'end_turn'}");
	CHECK(run_stream(&in, SIZE_MAX, 1, &er) == 0);
	CHECK_STR((const char *)sse.p,
		  q(CH "{'role':'assistant','content':''}" NUL_END
		    CH "{},'logprobs':null,'finish_reason':'stop'}]}\n\n"
		    "data: {'id':'chatcmpl-1','object':'chat.completion.chunk','created':1700000000,"
		    "'model':'m','choices':[],'usage':{'prompt_tokens':0,'completion_tokens':0,"
		    "'total_tokens':0}}\n\ndata: [DONE]\n\n"));
	buf_free(&in);
}

static void test_stream_exception(void)
{
	struct buf in;
	struct oai_stream os;
	struct err e2;

	buf_init(&in, 4096);
	ev(&in, "messageStart", "{'role':'assistant'}");
	ev(&in, "contentBlockDelta", "{'contentBlockIndex':0,'delta':{'text':'par'}}");
	exc(&in, "throttlingException", "{'message':'Too many tokens'}");
	CHECK(run_stream(&in, SIZE_MAX, 1, &er) < 0);
	CHECK(er.cls == ERR_SERVICE);
	CHECK_STR((const char *)sse.p,
		  q(CH "{'role':'assistant','content':''}" NUL_END CH "{'content':'par'}" NUL_END
		    "data: {'error':{'message':'throttlingException: Too many tokens',"
		    "'type':'rate_limit_error','param':null,'code':'rate_limit_exceeded'}}\n\n"
		    "data: [DONE]\n\n"));
	/* ends early (no messageStop): an error event, no finish chunk */
	buf_reset(&in);
	ev(&in, "messageStart", "{'role':'assistant'}");
	ev(&in, "contentBlockDelta", "{'contentBlockIndex':0,'delta':{'text':'par'}}");
	CHECK(run_stream(&in, SIZE_MAX, 0, &er) < 0);
	CHECK(er.cls == ERR_NET);
	CHECK(strstr((const char *)sse.p, "\"finish_reason\":\"") == NULL);
	CHECK(strstr((const char *)sse.p, "data: {\"error\":{\"message\":") != NULL);
	CHECK(sse.len > 14 && strcmp((const char *)sse.p + sse.len - 14, "data: [DONE]\n\n") == 0);
	/* nothing streamed yet: not started, so the server answers with an HTTP error */
	buf_reset(&in);
	exc(&in, "validationException", "{'message':'bad'}");
	CHECK(run_stream(&in, SIZE_MAX, 0, &er) < 0);
	CHECK(sse.len == 0);
	/* fail / end after [DONE] write nothing more */
	buf_free(&sse);
	buf_init(&sse, 4096);
	oai_stream_init(&os, "chatcmpl-1", "m", 1, 0, sse_write, NULL);
	CHECK(oai_stream_fail(&os, &er, &e2) == 0);
	CHECK(oai_stream_started(&os));
	CHECK_STR((const char *)sse.p,
		  q("data: {'error':{'message':'validationException: bad','type':"
		    "'invalid_request_error','param':null,'code':null}}\n\ndata: [DONE]\n\n"));
	CHECK(oai_stream_fail(&os, &er, &e2) == 0 && oai_stream_end(&os, &e2) == 0);
	CHECK(sse.len == strlen(q("data: {'error':{'message':'validationException: bad','type':"
				  "'invalid_request_error','param':null,'code':null}}\n\n"
				  "data: [DONE]\n\n")));
	oai_stream_free(&os);
	buf_free(&in);
}

static void test_stream_write_error(void)
{
	struct buf in;

	full_stream(&in);
	fail_writes_after = 3; /* the client goes away after three events */
	CHECK(run_stream(&in, SIZE_MAX, 0, &er) < 0);
	CHECK(er.cls == ERR_NET);
	CHECK_STR(er.msg, "client went away");
	fail_writes_after = -1;
	buf_free(&in);
}

static void test_stream_many_tools(void)
{
	struct buf in;
	char j[256];
	int i, ok = 1;

	buf_init(&in, 1 << 20);
	for (i = 0; i <= OAI_MAX_TOOL_CALLS; i++) {
		snprintf(j, sizeof j,
			 "{'contentBlockIndex':%d,'start':{'toolUse':{'toolUseId':'t%d','name':'f'}}}",
			 2 * i + 1, i);
		ev(&in, "contentBlockStart", j);
		snprintf(j, sizeof j, "{'contentBlockIndex':%d}", 2 * i + 1);
		ev(&in, "contentBlockStop", j);
	}
	ev(&in, "messageStop", "{'stopReason':'tool_use'}");
	CHECK(run_stream(&in, SIZE_MAX, 0, &er) < 0);
	CHECK(er.cls == ERR_PROTO);
	/* dense indexes up to the cap */
	snprintf(j, sizeof j, "\"index\":%d,\"id\":\"t%d\"", OAI_MAX_TOOL_CALLS - 1,
		 OAI_MAX_TOOL_CALLS - 1);
	ok = strstr((const char *)sse.p, j) != NULL;
	t_case("dense tool index at the cap", ok);
	buf_free(&in);
}

/* ---- non-streaming ---- */

static const char *complete(const char *conv, struct err *e)
{
	static struct buf out;
	const char *j = q(conv);

	buf_free(&out);
	buf_init(&out, 1 << 20);
	if (oai_completion((const uint8_t *)j, strlen(j), "chatcmpl-9", "mm", 42, &out, e) < 0)
		return NULL;
	return (const char *)out.p;
}

static void test_completion(void)
{
	const char *got;

	got = complete("{'output':{'message':{'role':'assistant','content':["
		       "{'reasoningContent':{'reasoningText':{'text':'hmm','signature':'s'}}},"
		       "{'text':'Hi \\'x\\''},{'toolUse':{'toolUseId':'t1','name':'f','input':"
		       "{'a': [1, 2]}}},{'toolUse':{'toolUseId':'t2','name':'g','input':{}}}]}},"
		       "'stopReason':'tool_use','usage':{'inputTokens':3,'outputTokens':4,"
		       "'totalTokens':7},'metrics':{'latencyMs':5}}",
		       &er);
	if (!got)
		fprintf(stderr, "  %s\n", er.msg);
	CHECK_STR(got, q("{'id':'chatcmpl-9','object':'chat.completion','created':42,'model':'mm',"
			 "'choices':[{'index':0,'message':{'role':'assistant','content':'Hi \\'x\\'',"
			 "'reasoning_content':'hmm','tool_calls':[{'id':'t1','type':'function',"
			 "'function':{'name':'f','arguments':'{\\'a\\':[1,2]}'}},{'id':'t2','type':"
			 "'function','function':{'name':'g','arguments':'{}'}}]},'logprobs':null,"
			 "'finish_reason':'tool_calls'}],'usage':{'prompt_tokens':3,"
			 "'completion_tokens':4,'total_tokens':7}}"));
	/* only a tool call: content null */
	got = complete("{'output':{'message':{'role':'assistant','content':[{'toolUse':"
		       "{'toolUseId':'t1','name':'f','input':{}}}]}},'stopReason':'tool_use'}",
		       &er);
	CHECK(got && strstr(got, "\"content\":null,\"tool_calls\":[") != NULL);
	/* plain text, max_tokens, cache */
	got = complete("{'output':{'message':{'role':'assistant','content':[{'text':'a'},"
		       "{'text':'b'}]}},'stopReason':'max_tokens','usage':{'inputTokens':1,"
		       "'outputTokens':2,'cacheReadInputTokens':10,'cacheWriteInputTokens':5}}",
		       &er);
	CHECK_STR(got, q("{'id':'chatcmpl-9','object':'chat.completion','created':42,'model':'mm',"
			 "'choices':[{'index':0,'message':{'role':'assistant','content':'ab'},"
			 "'logprobs':null,'finish_reason':'length'}],'usage':{'prompt_tokens':16,"
			 "'completion_tokens':2,'total_tokens':18,'prompt_tokens_details':"
			 "{'cached_tokens':10}}}"));
	/* empty answer: content "" */
	got = complete("{'output':{'message':{'role':'assistant','content':[]}},"
		       "'stopReason':'end_turn'}",
		       &er);
	CHECK(got && strstr(got, "\"content\":\"\"},") != NULL);
	/* errors */
	CHECK(complete("{'__type':'ValidationException','message':'nope'}", &er) == NULL);
	CHECK(er.cls == ERR_SERVICE);
	CHECK(complete("{'output':", &er) == NULL);
	CHECK(er.cls == ERR_PROTO);
	CHECK(complete("{'output':{}}", &er) == NULL);
}

/* ---- errors ---- */

struct cls_case {
	int cls;
	const char *msg;
	int up_status;
	const char *up_type;
	int status;
	const char *type, *code;
};

static void test_error_classify(void)
{
	static const struct cls_case v[] = {
		{ERR_USAGE, "messages: missing", 0, NULL, 400, "invalid_request_error", NULL},
		{ERR_SERVICE, "ValidationException: too long (request id x)", 400,
		 "ValidationException", 400, "invalid_request_error", NULL},
		{ERR_SERVICE, "x", 404, "ResourceNotFoundException", 404, "invalid_request_error",
		 "model_not_found"},
		{ERR_SERVICE, "x", 403, "AccessDeniedException", 403, "permission_error",
		 "upstream_access_denied"},
		{ERR_SERVICE, "ThrottlingException: slow down", 0, NULL, 429, "rate_limit_error",
		 "rate_limit_exceeded"},
		{ERR_SERVICE, "throttlingException: in the stream", 0, NULL, 429, "rate_limit_error",
		 "rate_limit_exceeded"},
		{ERR_SERVICE, "x", 400, "ServiceQuotaExceededException", 429, "rate_limit_error",
		 "rate_limit_exceeded"},
		{ERR_SERVICE, "x", 503, "ServiceUnavailableException", 503, "server_error",
		 "service_unavailable"},
		{ERR_SERVICE, "x", 429, "ModelNotReadyException", 503, "server_error",
		 "model_not_ready"},
		{ERR_SERVICE, "x", 408, "ModelTimeoutException", 504, "server_error",
		 "upstream_timeout"},
		{ERR_SERVICE, "modelStreamErrorException: boom", 0, NULL, 502, "server_error",
		 "upstream_error"},
		{ERR_SERVICE, "x", 500, "InternalServerException", 502, "server_error",
		 "upstream_error"},
		{ERR_SERVICE, "x", 500, "com.amazon#WeirdException", 502, "server_error",
		 "upstream_error"},
		{ERR_SERVICE, "x", 400, "SomethingNewException", 400, "invalid_request_error", NULL},
		{ERR_SERVICE, "x", 429, "SomethingNewException", 429, "rate_limit_error",
		 "rate_limit_exceeded"},
		{ERR_SERVICE, "x", 409, "ConflictException", 502, "server_error", "upstream_error"},
		{ERR_SERVICE, "x", 400, "aws#ValidationException", 400, "invalid_request_error", NULL},
		{ERR_CREDS, "ExpiredTokenException: expired", 403, "ExpiredTokenException", 502,
		 "server_error", "upstream_auth_error"},
		{ERR_NET, "timed out after 300 s waiting for bedrock", 0, NULL, 504, "server_error",
		 "upstream_timeout"},
		{ERR_NET, "cannot connect to x port 443: refused", 0, NULL, 502, "server_error",
		 "upstream_unreachable"},
		{ERR_PROTO, "bad CRC", 0, NULL, 502, "server_error", "upstream_protocol_error"},
		{ERR_OTHER, "out of memory", 0, NULL, 500, "server_error", NULL},
	};
	struct oai_error oe;
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		struct err e;
		char name[64];
		int ok;

		err_set(&e, v[i].cls, "%s", v[i].msg);
		oai_error_classify(&e, v[i].up_status, v[i].up_type, &oe);
		ok = oe.status == v[i].status && strcmp(oe.type, v[i].type) == 0 &&
		     (v[i].code ? oe.code && strcmp(oe.code, v[i].code) == 0 : oe.code == NULL);
		if (!ok)
			fprintf(stderr, "  case %zu: %d %s %s\n", i, oe.status, oe.type,
				oe.code ? oe.code : "null");
		snprintf(name, sizeof name, "classify %zu", i);
		t_case(name, ok);
	}
	oai_error_classify(NULL, 0, NULL, &oe);
	CHECK(oe.status == 500);
}

static void test_error_body(void)
{
	struct buf b;

	buf_init(&b, 4096);
	CHECK(oai_error_body(&b, "messages[0].content: missing", "invalid_request_error",
			     "messages[0].content", NULL) == 0);
	CHECK_STR((const char *)b.p,
		  q("{'error':{'message':'messages[0].content: missing','type':"
		    "'invalid_request_error','param':'messages[0].content','code':null}}"));
	buf_reset(&b);
	/* invalid UTF-8 and quotes in a message from upstream */
	CHECK(oai_error_body(&b, "bad \xff\xfe \"q\" \xc3\xa9", "server_error", "", "x") == 0);
	CHECK_STR((const char *)b.p, "{\"error\":{\"message\":\"bad ?? \\\"q\\\" \xc3\xa9\","
				     "\"type\":\"server_error\",\"param\":null,\"code\":\"x\"}}");
	buf_free(&b);
	buf_init(&b, 8);
	CHECK(oai_error_body(&b, "long message", "t", NULL, NULL) < 0);
	buf_free(&b);
}

static void test_make_id(void)
{
	static const uint8_t r[40] = {0x01, 0xab, 0xff};
	char id[OAI_ID_MAX];

	oai_make_id(id, r, 3);
	CHECK_STR(id, "chatcmpl-01abff");
	oai_make_id(id, r, sizeof r);
	CHECK(strlen(id) < OAI_ID_MAX && strncmp(id, "chatcmpl-01abff00", 17) == 0);
}

/* "{" key then containers down to a total nesting of depth (depth >= 2). */
static const char *nest(const char *key, int depth)
{
	static char o[2048];
	size_t n = 0;
	int i;

	n += (size_t)snprintf(o, sizeof o, "{%s:", key);
	for (i = 1; i < depth && n + 2 < sizeof o; i++)
		o[n++] = '[';
	for (i = 1; i < depth && n + 2 < sizeof o; i++)
		o[n++] = ']';
	o[n++] = '}';
	o[n] = '\0';
	return o;
}

/* Pasted JSON (tool parameters, function.arguments) lands 6 levels deep in
 * the Converse request, whose writer allows JSON_MAX_DEPTH (256) in all:
 * 250 levels fit, 251 are a usage error naming the field, never a body
 * nested deeper than a JSON reader accepts. */
static void test_deep_json(void)
{
	static char in[4096];
	const char *tools = "{" M "'messages':[" HI "],'tools':[{'type':'function','function':"
			    "{'name':'f','parameters':%s}}]}";
	const char *calls = "{" M "'messages':[" HI ",{'role':'assistant','tool_calls':[{'id':'c1',"
			    "'type':'function','function':{'name':'f','arguments':'%s'}}]}]}";
	const char *got;

	snprintf(in, sizeof in, tools, nest("'a'", 250));
	got = map(in);
	CHECK(got != NULL);
	CHECK(got && strstr(got, "]]]}}}}],\"toolChoice\"") != NULL);
	snprintf(in, sizeof in, tools, nest("'a'", 251));
	CHECK(map(in) == NULL);
	CHECK(er.cls == ERR_USAGE);
	CHECK_STR(rq.param, "tools[0].function.parameters");
	CHECK(strstr(er.msg, "nested too deeply") != NULL);

	snprintf(in, sizeof in, calls, nest("\\'a\\'", 250));
	CHECK(map(in) != NULL);
	snprintf(in, sizeof in, calls, nest("\\'a\\'", 251));
	CHECK(map(in) == NULL);
	CHECK(er.cls == ERR_USAGE);
	CHECK_STR(rq.param, "messages[1].tool_calls[0].function.arguments");
	CHECK(strstr(er.msg, "nested too deeply") != NULL);
	snprintf(in, sizeof in, calls, nest("\\'a\\'", 255));
	CHECK(map(in) == NULL);
	CHECK(er.cls == ERR_USAGE);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_minimal);
	T_RUN(test_all_fields);
	T_RUN(test_tools_multi_turn);
	T_RUN(test_merging);
	T_RUN(test_images);
	T_RUN(test_bad_requests);
	T_RUN(test_reasoning_effort);
	T_RUN(test_cache_tier_user);
	T_RUN(test_tools_cache_betas);
	T_RUN(test_config_defaults);
	T_RUN(test_thinking_blocks_replay);
	T_RUN(test_deep_json);
	T_RUN(test_out_limit);
	T_RUN(test_stream_full);
	T_RUN(test_finish_reasons);
	T_RUN(test_stream_usage_without_metadata);
	T_RUN(test_stream_exception);
	T_RUN(test_stream_write_error);
	T_RUN(test_stream_many_tools);
	T_RUN(test_completion);
	T_RUN(test_error_classify);
	T_RUN(test_error_body);
	T_RUN(test_make_id);
	buf_free(&sse);
	return t_done(argv[0]);
}
