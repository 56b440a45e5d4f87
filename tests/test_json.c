/* Tests for json.c: the strict reader (accept/reject tables in the spirit of
 * JSONTestSuite's y_/n_/i_ cases, written for this project), string
 * decoding, navigation, typed getters, the writer, writer->reader round trips,
 * realistic Bedrock payloads, big documents and nesting limits. Every table
 * document is also parsed from the very end of a page followed by a
 * PROT_NONE page, so any over-read crashes at once. */
#include <math.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "t.h"

#include "base/buf.h"
#include "base/err.h"
#include "wire/json.h"

#define NTOK 512

/* ---- guard page: input ends right where the mapping does ---- */

static uint8_t *guard_base;
static size_t guard_page;

static const char *guarded(const void *p, size_t n)
{
	if (!guard_base) {
		guard_page = (size_t)sysconf(_SC_PAGESIZE);
		guard_base = mmap(NULL, 64 * guard_page, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (guard_base == MAP_FAILED)
			abort();
		mprotect(guard_base + 63 * guard_page, guard_page, PROT_NONE);
	}
	if (n > 63 * guard_page)
		abort();
	memcpy(guard_base + 63 * guard_page - n, p, n);
	return (const char *)guard_base + 63 * guard_page - n;
}

static int parse_ok(const char *s, size_t n)
{
	static struct json_tok tok[NTOK];
	struct json_doc d;
	struct err e;

	return json_parse(&d, guarded(s, n), n, tok, NTOK, &e) == 0;
}

/* ---- accept / reject tables ---- */

struct jcase {
	const char *name;
	const char *doc; /* NUL-terminated unless n is given */
	size_t n;
};
#define J(name, doc) {name, doc, sizeof(doc) - 1}

static const struct jcase valid_docs[] = {
	J("empty object", "{}"),
	J("empty array", "[]"),
	J("ws around", " \t\r\n{} \n\t\r "),
	J("ws inside", "[ 1 , 2 ,\n3 ]"),
	J("ws object", "{ \"a\" : 1 , \"b\" :\t[ ] }"),
	J("top string", "\"x\""),
	J("top empty string", "\"\""),
	J("top number", "1"),
	J("top zero", "0"),
	J("top neg zero", "-0"),
	J("top true", "true"),
	J("top false", "false"),
	J("top null", "null"),
	J("top number ws", " 42 "),
	J("numbers", "[0,-0,1,-1,10,123456789,0.5,-0.5,1.25e10,1E10,1e+10,1e-10,1.5E-3,0e0,0E+0,-0.0e-0]"),
	J("big int", "[123456789012345678901234567890]"),
	J("huge exp", "[1e999999]"),
	J("tiny exp", "[1e-999999]"),
	J("escapes", "[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0000 \\u00e9 \\uABCD \\uabcd\"]"),
	J("surrogate pair", "[\"\\ud83d\\ude00\"]"),
	J("utf8 2", "[\"\xc3\xa9\"]"),
	J("utf8 3", "[\"\xe2\x82\xac\"]"),
	J("utf8 4", "[\"\xf0\x9f\x98\x80\"]"),
	J("utf8 max", "[\"\xf4\x8f\xbf\xbf\"]"),
	J("utf8 U+FFFF", "[\"\xef\xbf\xbf\"]"),
	J("utf8 U+D7FF", "[\"\xed\x9f\xbf\"]"),
	J("utf8 U+E000", "[\"\xee\x80\x80\"]"),
	J("utf8 U+0080", "[\"\xc2\x80\"]"),
	J("utf8 U+0800", "[\"\xe0\xa0\x80\"]"),
	J("utf8 U+10000", "[\"\xf0\x90\x80\x80\"]"),
	J("del char raw", "[\"\x7f\"]"),
	J("u2028 raw", "[\"\xe2\x80\xa8\"]"),
	J("nested", "{\"a\":{\"b\":[1,{\"c\":[[],{}]}]}}"),
	J("dup keys", "{\"a\":1,\"a\":2}"),
	J("empty key", "{\"\":0}"),
	J("slash", "[\"/\"]"),
	J("lone hi surrogate", "[\"\\ud800\"]"), /* i_: grammar allows; decode fails */
	J("lone lo surrogate", "[\"\\udc00\"]"),
	J("converse delta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hi\"},\"p\":\"abcdefgh\"}"),
	J("many types", "{\"s\":\"x\",\"n\":1.5,\"t\":true,\"f\":false,\"z\":null,\"a\":[],\"o\":{}}"),
	{"NUL in string escaped", "[\"\\u0000\"]", 10},
};

static const struct jcase invalid_docs[] = {
	J("empty", ""),
	J("only ws", "  \n "),
	J("obj missing value", "{\"a\":}"),
	J("two objects", "{}{}"),
	J("two values", "1 2"),
	J("array no comma", "[1 2]"),
	J("obj no colon", "{\"a\" \"b\"}"),
	J("obj key number", "{1:2}"),
	J("obj key literal", "{true:1}"),
	J("obj key unquoted", "{a:1}"),
	J("obj single quote", "{'a':1}"),
	J("trailing comma arr", "[1,]"),
	J("trailing comma obj", "{\"a\":1,}"),
	J("leading comma", "[,1]"),
	J("double comma", "[1,,2]"),
	J("lone comma", "[,]"),
	J("colon in array", "[1:2]"),
	J("unclosed array", "[1"),
	J("unclosed object", "{\"a\":1"),
	J("unclosed string", "[\"abc"),
	J("unopened", "]"),
	J("mismatch", "[}"),
	J("mismatch2", "{]"),
	J("extra close", "[]]"),
	J("leading zero", "01"),
	J("leading zero neg", "-01"),
	J("leading zeros", "[00]"),
	J("dot end", "[1.]"),
	J("dot start", "[.5]"),
	J("minus only", "[-]"),
	J("minus space", "[- 1]"),
	J("plus", "[+1]"),
	J("exp empty", "[1e]"),
	J("exp sign only", "[1e+]"),
	J("exp dot", "[1e1.5]"),
	J("hex", "[0x10]"),
	J("inf", "[Infinity]"),
	J("nan", "[NaN]"),
	J("neg inf", "[-Infinity]"),
	J("double minus", "[--1]"),
	J("number letter", "[1a]"),
	J("tru", "[tru]"),
	J("truex", "[truex]"),
	J("True", "[True]"),
	J("nul", "nul"),
	J("nulll", "[nulll]"),
	J("fals", "[fals]"),
	J("ctrl in string", "[\"a\x01\"]"),
	J("tab in string", "[\"a\tb\"]"),
	J("newline in string", "[\"a\nb\"]"),
	{"NUL in string", "[\"a\0b\"]", 6},
	{"NUL after value", "[1]\0", 4},
	J("bad escape", "[\"\\x\"]"),
	J("bad escape a", "[\"\\a\"]"),
	J("escape apostrophe", "[\"\\'\"]"),
	J("short u", "[\"\\u12\"]"),
	J("u bad hex", "[\"\\u12G4\"]"),
	J("U upper", "[\"\\U1234\"]"),
	J("backslash end", "[\"\\"),
	J("trailing garbage", "{} x"),
	J("trailing garbage2", "[1]x"),
	J("comment", "[1] // c"),
	J("block comment", "/* c */ [1]"),
	J("bom", "\xef\xbb\xbf[1]"),
	J("utf8 outside string", "[\xc3\xa9]"),
	J("overlong 2", "[\"\xc0\xaf\"]"),
	J("overlong 2b", "[\"\xc1\xbf\"]"),
	J("overlong 3", "[\"\xe0\x80\xaf\"]"),
	J("overlong 3b", "[\"\xe0\x9f\xbf\"]"),
	J("overlong 4", "[\"\xf0\x80\x80\xaf\"]"),
	J("overlong 4b", "[\"\xf0\x8f\xbf\xbf\"]"),
	J("surrogate d800 utf8", "[\"\xed\xa0\x80\"]"),
	J("surrogate dfff utf8", "[\"\xed\xbf\xbf\"]"),
	J("above 10ffff", "[\"\xf4\x90\x80\x80\"]"),
	J("f5 lead", "[\"\xf5\x80\x80\x80\"]"),
	J("ff byte", "[\"\xff\"]"),
	J("fe byte", "[\"\xfe\"]"),
	J("lone continuation", "[\"\x80\"]"),
	J("truncated 2", "[\"\xc3\"]"),
	J("truncated 3", "[\"\xe2\x82\"]"),
	J("truncated 4", "[\"\xf0\x9f\x98\"]"),
	J("truncated at end", "[\"\xe2\x82"),
	J("bad continuation", "[\"\xc3\x28\"]"),
	J("bad continuation 3", "[\"\xe2\x28\xa1\"]"),
	J("bad continuation 4", "[\"\xf0\x9f\x28\x80\"]"),
	J("obj in key position", "{{}:1}"),
	J("arr as key", "{[]:1}"),
	J("colon twice", "{\"a\"::1}"),
	J("key only", "{\"a\"}"),
	J("comma after open obj", "{,\"a\":1}"),
	J("nothing but string key", "{\"a\":1 \"b\":2}"),
	J("vertical tab ws", "[\v1]"),
	J("form feed ws", "[\f1]"),
	J("nbsp ws", "[\xc2\xa0" "1]"),
	J("unicode escape key unquoted", "{\\u0061:1}"),
	J("just minus", "-"),
	J("just dot", "."),
	J("exp only", "e1"),
	J("space in number", "[1 0]"),
	J("single quote string", "['a']"),
};

/* Byte offsets the error message must carry. */
static const struct {
	const char *doc;
	size_t pos;
} errpos_cases[] = {
	{"{\"a\":}", 5},  {"{}{}", 2},       {"[1 2]", 3},         {"{\"a\" \"b\"}", 5},
	{"01", 1},        {"[1.]", 3},       {"[tru]", 1},         {"[\"a\x01\"]", 3},
	{"[\"\\x\"]", 2}, {"[1] x", 4},      {"[\"\xc3\x28\"]", 2}, {"[", 1},
	{"", 0},          {"{\"a\":1,}", 7}, {"[-]", 2},
};

static void test_valid_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(valid_docs) / sizeof(valid_docs[0]); i++)
		t_case(valid_docs[i].name, parse_ok(valid_docs[i].doc, valid_docs[i].n));
}

static void test_invalid_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(invalid_docs) / sizeof(invalid_docs[0]); i++)
		t_case(invalid_docs[i].name, !parse_ok(invalid_docs[i].doc, invalid_docs[i].n));
}

static void test_error_offsets(void)
{
	struct json_tok tok[16];
	struct json_doc d;
	struct err e;
	char want[32];
	size_t i;

	for (i = 0; i < sizeof(errpos_cases) / sizeof(errpos_cases[0]); i++) {
		const char *s = errpos_cases[i].doc;

		err_clear(&e);
		CHECK(json_parse(&d, s, strlen(s), tok, 16, &e) == -1);
		CHECK(e.cls == ERR_PROTO);
		CHECK(d.errpos == errpos_cases[i].pos);
		snprintf(want, sizeof(want), "at byte %zu", errpos_cases[i].pos);
		CHECK(strstr(e.msg, want) != NULL);
		if (d.errpos != errpos_cases[i].pos)
			fprintf(stderr, "  %s: %s\n", s, e.msg);
	}
}

/* The string scanner skips plain text 8 bytes at a time: a byte that needs
 * a look (control, quote, backslash, non-ASCII) at any offset of a long run
 * must still be seen, with the same verdict and error offset as when it is
 * alone, and the word scan must not read past the end. */
static void test_string_word_scan(void)
{
	static const struct {
		const char *ins;
		int ok;
		size_t bad; /* error offset from the inserted bytes */
	} cases[] = {
		{"\\n", 1, 0},      {"\\\"", 1, 0},   {"\\u00e9", 1, 0}, {"\xc3\xa9", 1, 0},
		{"\xf0\x9f\x98\x80", 1, 0}, {"\x7f", 1, 0},    {"\x01", 0, 0},    {"\x1f", 0, 0},
		{"\x80", 0, 0},      {"\xc3(", 0, 0},   {"\xff", 0, 0},    {"\\x", 0, 0},
		{"\\u12x4", 0, 0},  {"\xed\xa0\x80", 0, 0},
	};
	static const char fill[] = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	struct json_tok tok[4];
	struct json_doc d;
	struct err e;
	char doc[256];
	size_t c, at, tail;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (at = 0; at <= 40; at++) {
			for (tail = 0; tail <= 17; tail++) {
				int n = snprintf(doc, sizeof doc, "[\"%.*s%s%.*s\"]", (int)at, fill,
						 cases[c].ins, (int)tail, fill);
				char *heap = malloc((size_t)n); /* no slack: ASan sees overreads */
				int r;

				memcpy(heap, doc, (size_t)n);
				err_clear(&e);
				r = json_parse(&d, heap, (size_t)n, tok, 4, &e);
				CHECK((r == 0) == cases[c].ok);
				if (!cases[c].ok)
					CHECK(d.errpos == 2 + at + cases[c].bad);
				free(heap);
			}
		}
	}
	/* unterminated at every length: the scan stops at the end */
	for (at = 0; at <= 40; at++) {
		int n = snprintf(doc, sizeof doc, "\"%.*s", (int)at, fill);
		char *heap = malloc((size_t)n);

		memcpy(heap, doc, (size_t)n);
		err_clear(&e);
		CHECK(json_parse(&d, heap, (size_t)n, tok, 4, &e) == -1);
		CHECK(d.errpos == (size_t)n);
		free(heap);
	}
}

/* Every proper prefix of a container document is invalid (nothing closes). */
static void test_prefixes(void)
{
	size_t i, k;

	for (i = 0; i < sizeof(valid_docs) / sizeof(valid_docs[0]); i++) {
		const char *s = valid_docs[i].doc;
		size_t n = valid_docs[i].n, lead = 0;

		while (lead < n && strchr(" \t\r\n", s[lead]))
			lead++;
		if (lead >= n || (s[lead] != '[' && s[lead] != '{'))
			continue;
		while (n > lead && strchr(" \t\r\n", s[n - 1]))
			n--;
		for (k = 0; k < n; k++)
			CHECK(!parse_ok(s, k));
	}
}

static void test_too_many_tokens(void)
{
	struct json_tok tok[3];
	struct json_doc d;
	struct err e;

	CHECK(json_parse(&d, "[1,2]", 5, tok, 3, &e) == 0);
	CHECK(d.ntok == 3);
	CHECK(json_parse(&d, "[1,2,3]", 7, tok, 3, &e) == -1);
	CHECK(strstr(e.msg, "too many tokens") != NULL);
	CHECK(json_parse_alloc(&d, "[1,2,3]", 7, 3, &e) == -1);
	CHECK(json_parse_alloc(&d, "[1,2,3]", 7, 4, &e) == 0);
	CHECK(d.ntok == 4 && d.owned);
	json_doc_free(&d);
	CHECK(d.tok == NULL);
}

static void test_validate_counts(void)
{
	int n = -1;
	struct err e;

	CHECK(json_validate("{\"a\":[1,{\"b\":null}],\"c\":\"d\"}", 28, &n, NULL, &e) == 0);
	CHECK(n == 9);
	CHECK(json_validate("7", 1, &n, NULL, &e) == 0 && n == 1);
}

/* ---- nesting ---- */

static char *nest(int depth, const char *open, const char *close, const char *mid)
{
	size_t lo = strlen(open), lc = strlen(close), lm = strlen(mid);
	char *s = malloc((size_t)depth * (lo + lc) + lm + 1), *p = s;
	int i;

	for (i = 0; i < depth; i++, p += lo)
		memcpy(p, open, lo);
	memcpy(p, mid, lm);
	p += lm;
	for (i = 0; i < depth; i++, p += lc)
		memcpy(p, close, lc);
	*p = 0;
	return s;
}

static void test_nesting(void)
{
	struct json_doc d;
	struct err e;
	char *s;

	s = nest(JSON_MAX_DEPTH, "[", "]", "1");
	CHECK(json_parse_alloc(&d, s, strlen(s), 100000, &e) == 0);
	CHECK(d.ntok == JSON_MAX_DEPTH + 1);
	CHECK(json_type(&d, d.ntok - 1) == JSON_NUMBER);
	json_doc_free(&d);
	free(s);
	s = nest(JSON_MAX_DEPTH + 1, "[", "]", "");
	CHECK(json_parse_alloc(&d, s, strlen(s), 100000, &e) == -1);
	CHECK(strstr(e.msg, "nesting too deep") != NULL);
	free(s);
	s = nest(JSON_MAX_DEPTH, "{\"a\":", "}", "{}");
	CHECK(json_parse_alloc(&d, s, strlen(s), 100000, &e) == -1);
	free(s);
	s = nest(JSON_MAX_DEPTH - 1, "{\"k\":", "}", "{\"x\":[]}");
	CHECK(json_parse_alloc(&d, s, strlen(s), 100000, &e) == -1);
	free(s);
	s = nest(JSON_MAX_DEPTH - 1, "{\"k\":", "}", "[]");
	CHECK(json_parse_alloc(&d, s, strlen(s), 100000, &e) == 0);
	{
		/* the innermost array is reachable by path through every key */
		int t = 0, i;

		for (i = 0; i < JSON_MAX_DEPTH - 1; i++)
			t = json_get(&d, t, "k");
		CHECK(json_type(&d, t) == JSON_ARRAY);
		CHECK(json_size(&d, t) == 0);
	}
	json_doc_free(&d);
	free(s);
	/* one million unclosed brackets: rejected quickly, no recursion */
	s = nest(1000000, "[", "", "");
	CHECK(json_parse_alloc(&d, s, strlen(s), 100000, &e) == -1);
	free(s);
}

/* ---- navigation ---- */

static void test_navigation(void)
{
	static const char doc[] =
		"{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hi\"},\"p\":\"abcdefgh\","
		"\"arr\":[10,[20,21],{\"x\":30},\"s\",true,null],\"a.b\":1,\"esc\\u0061ped\":2,"
		"\"dup\":1,\"dup\":2}";
	struct json_tok tok[64];
	struct json_doc d;
	struct err e;
	int t, k, n;
	int64_t v;

	CHECK(json_parse(&d, doc, sizeof(doc) - 1, tok, 64, &e) == 0);
	CHECK(json_type(&d, 0) == JSON_OBJECT);
	CHECK(json_size(&d, 0) == 8);
	/* member iteration: keys in order, values at key + 1 */
	n = 0;
	for (k = json_child(&d, 0); k >= 0; k = json_next(&d, k)) {
		CHECK(json_type(&d, k) == JSON_STRING);
		n++;
	}
	CHECK(n == 8);
	/* a member value's next is the next key */
	t = json_get(&d, 0, "delta");
	CHECK(json_type(&d, t) == JSON_OBJECT);
	CHECK(json_str_eq(&d, json_next(&d, t), "p"));
	CHECK(json_str_eq(&d, json_path(&d, 0, "delta.text"), "Hi"));
	CHECK(json_str_eq(&d, json_getv(&d, 0, "delta", "text", (char *)NULL), "Hi"));
	CHECK(json_getv(&d, 0, "delta", "nope", (char *)NULL) == -1);
	CHECK(json_int64(&d, json_get(&d, 0, "contentBlockIndex"), &v, &e) == 0 && v == 0);
	/* arrays */
	t = json_get(&d, 0, "arr");
	CHECK(json_size(&d, t) == 6);
	n = 0;
	for (k = json_child(&d, t); k >= 0; k = json_next(&d, k))
		n++;
	CHECK(n == 6);
	CHECK(json_int64(&d, json_at(&d, t, 0), &v, &e) == 0 && v == 10);
	CHECK(json_type(&d, json_at(&d, t, 1)) == JSON_ARRAY);
	CHECK(json_type(&d, json_at(&d, t, 3)) == JSON_STRING);
	CHECK(json_type(&d, json_at(&d, t, 4)) == JSON_BOOL);
	CHECK(json_is_null(&d, json_at(&d, t, 5)));
	CHECK(json_at(&d, t, 6) == -1);
	CHECK(json_next(&d, json_at(&d, t, 5)) == -1);
	CHECK(json_int64(&d, json_path(&d, 0, "arr[1][1]"), &v, &e) == 0 && v == 21);
	CHECK(json_int64(&d, json_path(&d, 0, "arr[2].x"), &v, &e) == 0 && v == 30);
	CHECK(json_path(&d, t, "[2].x") == json_path(&d, 0, "arr[2].x"));
	CHECK(json_path(&d, 0, "") == 0);
	CHECK(json_path(&d, 0, "arr[9]") == -1);
	CHECK(json_path(&d, 0, "arr[]") == -1);
	CHECK(json_path(&d, 0, "arr[1") == -1);
	CHECK(json_path(&d, 0, "delta..text") == -1);
	CHECK(json_path(&d, 0, ".delta") == -1);
	CHECK(json_path(&d, 0, "delta.") == -1);
	CHECK(json_path(&d, 0, "arr[2]x") == -1);
	CHECK(json_path(&d, 0, "delta.text.more") == -1);
	CHECK(json_path(&d, 0, "arr.x") == -1);
	/* keys: with dots (json_get only), escaped keys, duplicates */
	CHECK(json_path(&d, 0, "a.b") == -1);
	CHECK(json_int64(&d, json_get(&d, 0, "a.b"), &v, &e) == 0 && v == 1);
	CHECK(json_int64(&d, json_get(&d, 0, "escaped"), &v, &e) == 0 && v == 2);
	CHECK(json_get(&d, 0, "esc\\u0061ped") == -1);
	CHECK(json_int64(&d, json_get(&d, 0, "dup"), &v, &e) == 0 && v == 2);
	CHECK(json_getn(&d, 0, "deltaXYZ", 5) == json_get(&d, 0, "delta"));
	/* -1 flows through everything */
	CHECK(json_type(&d, -1) == JSON_NONE);
	CHECK(json_get(&d, -1, "a") == -1);
	CHECK(json_child(&d, -1) == -1 && json_next(&d, -1) == -1 && json_size(&d, -1) == -1);
	CHECK(json_at(&d, -1, 0) == -1);
	CHECK(json_type(&d, 9999) == JSON_NONE);
	CHECK(json_get(&d, t, "x") == -1); /* not an object */
	CHECK(json_child(&d, json_get(&d, 0, "p")) == -1);
	CHECK(json_raw(&d, -1).n == 0);
	/* raw spans */
	CHECK(slice_eq_str(json_raw(&d, json_get(&d, 0, "delta")), "{\"text\":\"Hi\"}"));
	CHECK(slice_eq_str(json_raw(&d, json_get(&d, 0, "p")), "abcdefgh"));
	CHECK(slice_eq_str(json_raw_value(&d, json_get(&d, 0, "p")), "\"abcdefgh\""));
	CHECK(slice_eq_str(json_raw(&d, json_path(&d, 0, "arr[4]")), "true"));
}

static void test_empty_containers(void)
{
	struct json_tok tok[16];
	struct json_doc d;
	struct err e;

	CHECK(json_parse(&d, "[[],{},[[]],{\"a\":{}}]", 21, tok, 16, &e) == 0);
	CHECK(json_size(&d, 0) == 4);
	CHECK(json_child(&d, json_at(&d, 0, 0)) == -1);
	CHECK(json_type(&d, json_at(&d, 0, 1)) == JSON_OBJECT);
	CHECK(json_size(&d, json_at(&d, 0, 2)) == 1);
	CHECK(json_type(&d, json_path(&d, 0, "[3].a")) == JSON_OBJECT);
	CHECK(json_next(&d, json_at(&d, 0, 3)) == -1);
	CHECK(json_next(&d, 0) == -1);
}

/* ---- typed getters ---- */

static void test_numbers(void)
{
	static const char doc[] = "[0,-0,9223372036854775807,-9223372036854775808,"
				  "9223372036854775808,-9223372036854775809,1.5,1e3,"
				  "99999999999999999999,0.1,-2.5e-3,1e400,1e-400,\"1\",true]";
	struct json_tok tok[32];
	struct json_doc d;
	struct err e;
	int64_t v;
	double x;
	int b;

	CHECK(json_parse(&d, doc, sizeof(doc) - 1, tok, 32, &e) == 0);
	CHECK(json_int64(&d, json_at(&d, 0, 0), &v, &e) == 0 && v == 0);
	CHECK(json_int64(&d, json_at(&d, 0, 1), &v, &e) == 0 && v == 0);
	CHECK(json_int64(&d, json_at(&d, 0, 2), &v, &e) == 0 && v == INT64_MAX);
	CHECK(json_int64(&d, json_at(&d, 0, 3), &v, &e) == 0 && v == INT64_MIN);
	CHECK(json_int64(&d, json_at(&d, 0, 4), &v, &e) == -1);
	CHECK(strstr(e.msg, "out of range") != NULL);
	CHECK(json_int64(&d, json_at(&d, 0, 5), &v, &e) == -1);
	CHECK(json_int64(&d, json_at(&d, 0, 6), &v, &e) == -1);
	CHECK(json_int64(&d, json_at(&d, 0, 7), &v, &e) == -1);
	CHECK(json_int64(&d, json_at(&d, 0, 8), &v, &e) == -1);
	CHECK(json_int64(&d, json_at(&d, 0, 13), &v, &e) == -1);
	CHECK(json_int64(&d, -1, &v, &e) == -1);
	CHECK(json_double(&d, json_at(&d, 0, 6), &x, &e) == 0 && x == 1.5);
	CHECK(json_double(&d, json_at(&d, 0, 7), &x, &e) == 0 && x == 1000.0);
	CHECK(json_double(&d, json_at(&d, 0, 2), &x, &e) == 0 && x == 9223372036854775807.0);
	CHECK(json_double(&d, json_at(&d, 0, 9), &x, &e) == 0 && x == 0.1);
	CHECK(json_double(&d, json_at(&d, 0, 10), &x, &e) == 0 && x == -2.5e-3);
	CHECK(json_double(&d, json_at(&d, 0, 11), &x, &e) == -1);
	CHECK(json_double(&d, json_at(&d, 0, 12), &x, &e) == 0 && x == 0.0);
	CHECK(json_double(&d, json_at(&d, 0, 1), &x, &e) == 0 && x == 0.0 && signbit(x));
	CHECK(json_double(&d, json_at(&d, 0, 13), &x, &e) == -1);
	CHECK(json_bool(&d, json_at(&d, 0, 14), &b, &e) == 0 && b == 1);
	CHECK(json_bool(&d, json_at(&d, 0, 0), &b, &e) == -1);
	CHECK(json_parse(&d, "false", 5, tok, 32, &e) == 0);
	CHECK(json_bool(&d, 0, &b, &e) == 0 && b == 0);
	CHECK(json_type(&d, 0) == JSON_BOOL);
}

struct dcase {
	const char *json; /* a JSON string literal */
	const char *want;  /* decoded bytes; NULL = decode must fail */
	size_t wn;
};

static const struct dcase decode_cases[] = {
	{"\"\"", "", 0},
	{"\"abc\"", "abc", 3},
	{"\"\\\"\"", "\"", 1},
	{"\"\\\\\"", "\\", 1},
	{"\"\\/\"", "/", 1},
	{"\"\\b\\f\\n\\r\\t\"", "\b\f\n\r\t", 5},
	{"\"\\u0041\"", "A", 1},
	{"\"\\u0000\"", "\0", 1},
	{"\"a\\u0000b\"", "a\0b", 3},
	{"\"\\u007f\"", "\x7f", 1},
	{"\"\\u0080\"", "\xc2\x80", 2},
	{"\"\\u00e9\\u00E9\"", "\xc3\xa9\xc3\xa9", 4},
	{"\"\\u07ff\"", "\xdf\xbf", 2},
	{"\"\\u0800\"", "\xe0\xa0\x80", 3},
	{"\"\\u20ac\"", "\xe2\x82\xac", 3},
	{"\"\\u2028\"", "\xe2\x80\xa8", 3},
	{"\"\\ud7ff\"", "\xed\x9f\xbf", 3},
	{"\"\\ue000\"", "\xee\x80\x80", 3},
	{"\"\\uffff\"", "\xef\xbf\xbf", 3},
	{"\"\\ud800\\udc00\"", "\xf0\x90\x80\x80", 4},
	{"\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4},
	{"\"\\uD83D\\uDE00\"", "\xf0\x9f\x98\x80", 4},
	{"\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf", 4},
	{"\"x\\ud83d\\ude00y\\n\"", "x\xf0\x9f\x98\x80y\n", 7},
	{"\"\xf0\x9f\x98\x80\\u00e9\xc3\xa9\"", "\xf0\x9f\x98\x80\xc3\xa9\xc3\xa9", 8},
	{"\"\\ud800\"", NULL, 0},
	{"\"\\udc00\"", NULL, 0},
	{"\"\\udfff\\ud800\"", NULL, 0},
	{"\"\\ud800x\"", NULL, 0},
	{"\"\\ud800\\n\"", NULL, 0},
	{"\"\\ud800\\u0041\"", NULL, 0},
	{"\"\\ud800\\ud800\"", NULL, 0},
	{"\"abc\\ud83d\"", NULL, 0},
};

static void test_decode(void)
{
	struct json_tok tok[4];
	struct json_doc d;
	struct err e;
	struct buf b, scratch;
	struct slice s;
	char z[64];
	size_t i;

	buf_init(&b, 1024);
	buf_init(&scratch, 1024);
	for (i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
		const struct dcase *c = &decode_cases[i];
		size_t n = strlen(c->json);
		int ok;

		buf_reset(&b);
		ok = json_parse(&d, guarded(c->json, n), n, tok, 4, &e) == 0 &&
		     json_type(&d, 0) == JSON_STRING;
		if (!c->want) {
			ok = ok && json_str_decode(&d, 0, &b, &e) == -1 &&
			     strstr(e.msg, "surrogate") != NULL &&
			     json_str(&d, 0, &scratch, &s, &e) == -1 &&
			     json_strz(&d, 0, z, sizeof(z), &e) == -1 &&
			     !json_str_eq(&d, 0, "");
			t_case(c->json, ok);
			continue;
		}
		ok = ok && json_str_decode(&d, 0, &b, &e) == 0 && b.len == c->wn && (c->wn == 0 ||
		     memcmp(b.p, c->want, c->wn) == 0);
		ok = ok && json_str(&d, 0, &scratch, &s, &e) == 0 && s.n == c->wn &&
		     memcmp(s.p, c->want, c->wn) == 0;
		ok = ok && json_str_eqn(&d, 0, c->want, c->wn);
		ok = ok && (c->wn == 0 || !json_str_eqn(&d, 0, c->want, c->wn - 1));
		if (!memchr(c->want, 0, c->wn))
			ok = ok && json_strz(&d, 0, z, sizeof(z), &e) == 0 && strcmp(z, c->want) == 0;
		else
			ok = ok && json_strz(&d, 0, z, sizeof(z), &e) == -1;
		t_case(c->json, ok);
	}
	buf_free(&b);
	buf_free(&scratch);
}

static void test_str_views(void)
{
	static const char doc[] = "[\"plain\",\"esc\\naped\",5]";
	struct json_tok tok[8];
	struct json_doc d;
	struct err e;
	struct slice s;
	struct buf scratch, small;
	char z[6];

	buf_init(&scratch, 64);
	buf_init(&small, 3);
	CHECK(json_parse(&d, doc, sizeof(doc) - 1, tok, 8, &e) == 0);
	/* zero copy: the view points into the document */
	CHECK(json_str_view(&d, 1, &s) == 0);
	CHECK(s.p == (const uint8_t *)doc + 2 && s.n == 5);
	CHECK(json_str_view(&d, 2, &s) == 1);
	CHECK(json_str_view(&d, 3, &s) == -1);
	CHECK(json_str(&d, 1, &scratch, &s, &e) == 0 && s.p == (const uint8_t *)doc + 2);
	CHECK(json_str(&d, 2, &scratch, &s, &e) == 0 && slice_eq_str(s, "esc\naped"));
	CHECK(s.p == scratch.p);
	CHECK(json_str(&d, 3, &scratch, &s, &e) == -1);
	CHECK(json_str_decode(&d, 2, &small, &e) == -1); /* buf limit */
	CHECK(json_strz(&d, 1, z, sizeof(z), &e) == 0 && strcmp(z, "plain") == 0);
	CHECK(json_strz(&d, 2, z, sizeof(z), &e) == -1);
	CHECK(json_strz(&d, 1, z, 5, &e) == -1);
	CHECK(json_str_eq(&d, 1, "plain") && !json_str_eq(&d, 1, "plai") &&
	      !json_str_eq(&d, 1, "plainx") && !json_str_eq(&d, 3, "5"));
	CHECK(json_str_eq(&d, 2, "esc\naped") && !json_str_eq(&d, 2, "esc\\naped"));
	buf_free(&scratch);
	buf_free(&small);
}

/* ---- UTF-8 ---- */

static void test_utf8(void)
{
	size_t bad = 99;

	CHECK(json_utf8_valid("", 0, &bad));
	CHECK(json_utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10, &bad));
	CHECK(!json_utf8_valid("ab\xc0\xaf", 4, &bad) && bad == 2);
	CHECK(!json_utf8_valid("\xed\xa0\x80", 3, &bad) && bad == 0);
	CHECK(!json_utf8_valid("x\xf4\x90\x80\x80", 5, &bad) && bad == 1);
	CHECK(!json_utf8_valid("xy\xe2\x82", 4, &bad) && bad == 2);
	CHECK(!json_utf8_valid("\x80", 1, &bad));
	CHECK(json_utf8_valid("\0", 1, &bad));
}

/* Every code point class, encoded by a reference encoder, is accepted in a
 * string; every 1-4 byte sequence that is not in the RFC 3629 table is not. */
static void test_utf8_exhaustive_2_3(void)
{
	uint8_t s[8];
	unsigned a, b, c;
	int bad = 0;

	for (a = 0x80; a <= 0xFF; a++) {
		for (b = 0; b <= 0xFF; b++) {
			int want2 = a >= 0xC2 && a <= 0xDF && b >= 0x80 && b <= 0xBF;

			s[0] = (uint8_t)a;
			s[1] = (uint8_t)b;
			if (a < 0xE0 && json_utf8_valid(s, 2, NULL) != want2)
				bad++;
			if (a < 0xE0 || a > 0xEF)
				continue;
			for (c = 0x80; c <= 0xC0; c += 0x10) {
				unsigned cp = ((a & 0x0F) << 12) | ((b & 0x3F) << 6) | (c & 0x3F);
				int want3 = b >= 0x80 && b <= 0xBF && c <= 0xBF && cp >= 0x800 &&
					    (cp < 0xD800 || cp > 0xDFFF);

				s[2] = (uint8_t)c;
				if (json_utf8_valid(s, 3, NULL) != want3)
					bad++;
			}
		}
	}
	/* 4-byte sequences: leads F0..FF, every second byte, edge third/fourth */
	for (a = 0xF0; a <= 0xFF; a++) {
		for (b = 0; b <= 0xFF; b++) {
			for (c = 0; c < 4; c++) {
				static const uint8_t tail[4][2] = {
					{0x80, 0x80}, {0xBF, 0xBF}, {0x7F, 0x80}, {0x80, 0xC0}};
				unsigned cp = ((a & 7) << 18) | ((b & 0x3F) << 12) |
					      ((tail[c][0] & 0x3F) << 6) | (tail[c][1] & 0x3F);
				int want4 = a <= 0xF4 && b >= 0x80 && b <= 0xBF && c < 2 &&
					    cp >= 0x10000 && cp <= 0x10FFFF;

				s[0] = (uint8_t)a;
				s[1] = (uint8_t)b;
				s[2] = tail[c][0];
				s[3] = tail[c][1];
				if (json_utf8_valid(s, 4, NULL) != want4)
					bad++;
			}
		}
	}
	CHECK(bad == 0);
}

/* ---- writer ---- */

static const char *wr_out(struct buf *b)
{
	return (const char *)b->p;
}

static void test_writer_basic(void)
{
	struct buf b;
	struct jw w;
	struct err e;

	buf_init(&b, 4096);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kstr(&w, "a", "x");
	jw_kint(&w, "n", -42);
	jw_key(&w, "arr");
	jw_arr_begin(&w);
	jw_int(&w, 1);
	jw_bool(&w, 1);
	jw_bool(&w, 0);
	jw_null(&w);
	jw_str(&w, NULL);
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_obj_begin(&w);
	jw_obj_end(&w);
	jw_double(&w, 0.5);
	jw_arr_end(&w);
	jw_kbool(&w, "t", 1);
	jw_key(&w, "raw");
	jw_raw(&w, " {\"x\": [1, 2]} \n", 16);
	jw_kstrn(&w, "k", "ab\0c", 4);
	jw_obj_end(&w);
	CHECK(jw_finish(&w, &e) == 0);
	CHECK_STR(wr_out(&b), "{\"a\":\"x\",\"n\":-42,\"arr\":[1,true,false,null,null,[],{},0.5],"
			      "\"t\":true,\"raw\":{\"x\": [1, 2]},\"k\":\"ab\\u0000c\"}");
	CHECK(parse_ok((const char *)b.p, b.len));

	/* top-level scalars; existing content is kept */
	buf_reset(&b);
	buf_append_str(&b, "X");
	jw_init(&w, &b);
	jw_int(&w, INT64_MIN);
	CHECK(jw_finish(&w, &e) == 0);
	CHECK_STR(wr_out(&b), "X-9223372036854775808");
	buf_reset(&b);
	jw_init(&w, &b);
	jw_arr_begin(&w);
	jw_int(&w, 0);
	jw_int(&w, 9);
	jw_int(&w, 10);
	jw_int(&w, -1);
	jw_int(&w, INT64_MAX);
	jw_arr_end(&w);
	CHECK(jw_finish(&w, &e) == 0);
	CHECK_STR(wr_out(&b), "[0,9,10,-1,9223372036854775807]");
	buf_free(&b);
}

static void test_writer_escapes(void)
{
	struct buf b;
	struct jw w;
	struct err e;
	char all[32];
	int i;

	buf_init(&b, 4096);
	for (i = 0; i < 32; i++)
		all[i] = (char)i;
	jw_init(&w, &b);
	jw_strn(&w, all, 32);
	CHECK(jw_finish(&w, &e) == 0);
	CHECK_STR(wr_out(&b), "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007"
			      "\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013"
			      "\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c"
			      "\\u001d\\u001e\\u001f\"");
	buf_reset(&b);
	jw_init(&w, &b);
	jw_str(&w, "q\" b\\ s/ del\x7f e\xc3\xa9 \xe2\x80\xa8\xe2\x80\xa9 \xe2\x80\xaa \xf0\x9f\x98\x80");
	CHECK(jw_finish(&w, &e) == 0);
	CHECK_STR(wr_out(&b), "\"q\\\" b\\\\ s/ del\x7f e\xc3\xa9 \\u2028\\u2029 \xe2\x80\xaa "
			      "\xf0\x9f\x98\x80\"");
	buf_free(&b);
}

static void test_writer_errors(void)
{
	static const char *const bad_utf8[] = {
		"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "\x80", "ab\xc3", "\xe2\x82",
	};
	struct buf b;
	struct jw w;
	struct err e;
	size_t i;

	buf_init(&b, 64);
	for (i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
		buf_reset(&b);
		jw_init(&w, &b);
		jw_arr_begin(&w);
		jw_str(&w, bad_utf8[i]);
		jw_arr_end(&w);
		t_case(bad_utf8[i], jw_finish(&w, &e) == -1 && e.cls == ERR_USAGE &&
					    w.error == JW_E_UTF8);
	}
	/* in a key, too */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kint(&w, "\xc3", 1);
	jw_obj_end(&w);
	CHECK(jw_finish(&w, &e) == -1 && w.error == JW_E_UTF8);
	/* the error offset is the bad byte's offset in the string */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_str(&w, "abcd\xff");
	CHECK(jw_finish(&w, &e) == -1 && strstr(e.msg, "at byte 4") != NULL);

#define EXPECT_ERR(code, stmts)                                                  \
	do {                                                                     \
		buf_reset(&b);                                                   \
		jw_init(&w, &b);                                                 \
		stmts;                                                           \
		CHECK(jw_finish(&w, &e) == -1 && w.error == (code));             \
	} while (0)
	EXPECT_ERR(JW_E_NUMBER, jw_double(&w, NAN));
	EXPECT_ERR(JW_E_NUMBER, jw_double(&w, INFINITY));
	EXPECT_ERR(JW_E_NUMBER, (jw_arr_begin(&w), jw_double(&w, -INFINITY), jw_arr_end(&w)));
	EXPECT_ERR(JW_E_STATE, (jw_obj_begin(&w), jw_int(&w, 1)));              /* value, no key */
	EXPECT_ERR(JW_E_STATE, (jw_arr_begin(&w), jw_key(&w, "a")));            /* key in array */
	EXPECT_ERR(JW_E_STATE, (jw_obj_begin(&w), jw_key(&w, "a"), jw_key(&w, "b")));
	EXPECT_ERR(JW_E_STATE, (jw_obj_begin(&w), jw_key(&w, "a"), jw_obj_end(&w)));
	EXPECT_ERR(JW_E_STATE, (jw_obj_begin(&w), jw_arr_end(&w)));
	EXPECT_ERR(JW_E_STATE, jw_obj_end(&w));
	EXPECT_ERR(JW_E_STATE, (jw_int(&w, 1), jw_int(&w, 2)));                /* two values */
	EXPECT_ERR(JW_E_STATE, jw_key(&w, "a"));
	EXPECT_ERR(JW_E_STATE, jw_key(&w, NULL));
	EXPECT_ERR(JW_E_STATE, jw_str_piece(&w, "a", 1));
	EXPECT_ERR(JW_E_STATE, jw_str_end(&w));
	EXPECT_ERR(JW_E_STATE, (jw_str_begin(&w), jw_int(&w, 1)));
	EXPECT_ERR(JW_E_STATE, jw_tok(&w, NULL, 0));
	EXPECT_ERR(JW_E_RAW, jw_raw(&w, "{\"a\":}", 6));
	EXPECT_ERR(JW_E_RAW, jw_raw(&w, "", 0));
	EXPECT_ERR(JW_E_RAW, jw_raw(&w, "1 2", 3));
	EXPECT_ERR(JW_E_NOMEM, jw_str(&w, "this string is longer than sixty-four bytes, "
					   "which is the buffer's limit"));
	EXPECT_ERR(JW_E_DEPTH, (jw_set_max_depth(&w, 2), jw_arr_begin(&w), jw_arr_begin(&w),
				jw_arr_begin(&w)));
#undef EXPECT_ERR
	/* incomplete values are errors too */
	buf_reset(&b);
	jw_init(&w, &b);
	CHECK(jw_finish(&w, &e) == -1);
	jw_arr_begin(&w);
	CHECK(jw_finish(&w, &e) == -1);
	jw_arr_end(&w);
	CHECK(jw_finish(&w, &e) == 0);
	/* sticky: the first error stays, nothing more is written */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_arr_begin(&w);
	jw_double(&w, NAN);
	jw_str(&w, "\xff");
	jw_int(&w, 5);
	jw_arr_end(&w);
	CHECK(w.error == JW_E_NUMBER);
	CHECK_STR(wr_out(&b), "[");
	CHECK(strcmp(jw_strerror(JW_E_UTF8), "unknown error") != 0);
	buf_free(&b);
}

static void test_writer_depth(void)
{
	struct buf b;
	struct jw w;
	struct err e;
	struct json_doc d;
	int i;

	buf_init(&b, 1 << 20);
	jw_init(&w, &b);
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		jw_arr_begin(&w);
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		jw_arr_end(&w);
	CHECK(jw_finish(&w, &e) == 0);
	CHECK(json_parse_alloc(&d, (const char *)b.p, b.len, 1000, &e) == 0);
	json_doc_free(&d);
	buf_reset(&b);
	jw_init(&w, &b);
	for (i = 0; i <= JSON_MAX_DEPTH; i++)
		jw_obj_begin(&w), jw_key(&w, "k");
	CHECK(jw_finish(&w, &e) == -1 && w.error == JW_E_DEPTH);
	buf_free(&b);
}

static void test_writer_doubles(void)
{
	static const double vals[] = {0.0,  -0.0,   1.0,     -1.5,     0.1,    1.0 / 3.0,
				      1e21, 1e-7,   5e-324,  1.7976931348623157e308,
				      123456789.0, 2.5e-3, 3.14159, 9007199254740993.0};
	struct buf b;
	struct jw w;
	struct err e;
	struct json_tok tok[2];
	struct json_doc d;
	size_t i;
	double x;

	buf_init(&b, 256);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		int ok;

		buf_reset(&b);
		jw_init(&w, &b);
		jw_double(&w, vals[i]);
		ok = jw_finish(&w, &e) == 0 &&
		     json_parse(&d, (const char *)b.p, b.len, tok, 2, &e) == 0 &&
		     json_double(&d, 0, &x, &e) == 0 && x == vals[i] &&
		     signbit(x) == signbit(vals[i]);
		t_case((const char *)b.p, ok);
	}
	buf_reset(&b);
	jw_init(&w, &b);
	jw_arr_begin(&w);
	jw_double(&w, 0.1);
	jw_double(&w, 100.0);
	jw_arr_end(&w);
	CHECK(jw_finish(&w, &e) == 0);
	CHECK_STR(wr_out(&b), "[0.1,100]");
	buf_free(&b);
}

/* A string in pieces, split at every point (UTF-8 sequences cut anywhere),
 * gives exactly the output of writing it whole. */
static void test_writer_pieces(void)
{
	static const char s[] = "a\xc3\xa9\"\xe2\x82\xac\n\xf0\x9f\x98\x80\xe2\x80\xa8z";
	const size_t n = sizeof(s) - 1;
	struct buf whole, b;
	struct jw w;
	struct err e;
	size_t i, j;

	buf_init(&whole, 256);
	buf_init(&b, 256);
	jw_init(&w, &whole);
	jw_strn(&w, s, n);
	CHECK(jw_finish(&w, &e) == 0);
	for (i = 0; i <= n; i++) {
		for (j = i; j <= n; j++) {
			buf_reset(&b);
			jw_init(&w, &b);
			jw_str_begin(&w);
			jw_str_piece(&w, s, i);
			jw_str_piece(&w, s + i, j - i);
			jw_str_piece(&w, s + j, n - j);
			jw_str_end(&w);
			CHECK(jw_finish(&w, &e) == 0);
			CHECK(b.len == whole.len && memcmp(b.p, whole.p, b.len) == 0);
		}
	}
	/* byte by byte */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_str_begin(&w);
	for (i = 0; i < n; i++)
		jw_str_piece(&w, s + i, 1);
	jw_str_end(&w);
	CHECK(jw_finish(&w, &e) == 0 && b.len == whole.len && memcmp(b.p, whole.p, b.len) == 0);
	/* a sequence cut at the end of the last piece is an error */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_str_begin(&w);
	jw_str_piece(&w, "ab\xf0\x9f", 4);
	jw_str_end(&w);
	CHECK(jw_finish(&w, &e) == -1 && w.error == JW_E_UTF8 && strstr(e.msg, "byte 2"));
	/* invalid across a split */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_str_begin(&w);
	jw_str_piece(&w, "ab\xe2", 3);
	jw_str_piece(&w, "(", 1);
	jw_str_end(&w);
	CHECK(jw_finish(&w, &e) == -1 && w.error == JW_E_UTF8);
	/* a surrogate split across pieces */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_str_begin(&w);
	jw_str_piece(&w, "\xed", 1);
	jw_str_piece(&w, "\xa0\x80", 2);
	jw_str_end(&w);
	CHECK(jw_finish(&w, &e) == -1 && w.error == JW_E_UTF8);
	buf_free(&whole);
	buf_free(&b);
}

/* ---- round trips ---- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* A random code point from each class: ASCII (incl. controls, quote,
 * backslash), 2-byte, 3-byte below and above the surrogates, U+2028/9,
 * noncharacters, 4-byte up to U+10FFFF. */
static uint32_t rnd_cp(void)
{
	switch (rnd() % 9) {
	case 0: return rnd() % 0x20;
	case 1: return "\"\\/ a~"[rnd() % 6];
	case 2: return 0x20 + rnd() % 0x60;
	case 3: return 0x80 + rnd() % 0x780;
	case 4: return 0x800 + rnd() % (0xD800 - 0x800);
	case 5: return 0xE000 + rnd() % 0x2000;
	case 6: return 0x2028 + rnd() % 2;
	case 7: return rnd() % 2 ? 0xFFFF : 0xFFFE;
	default: return 0x10000 + rnd() % 0x100000;
	}
}

static size_t put_cp(uint32_t c, uint8_t *o)
{
	if (c < 0x80)
		return o[0] = (uint8_t)c, 1;
	if (c < 0x800)
		return o[0] = (uint8_t)(0xC0 | c >> 6), o[1] = (uint8_t)(0x80 | (c & 63)), 2;
	if (c < 0x10000)
		return o[0] = (uint8_t)(0xE0 | c >> 12), o[1] = (uint8_t)(0x80 | ((c >> 6) & 63)),
		       o[2] = (uint8_t)(0x80 | (c & 63)), 3;
	o[0] = (uint8_t)(0xF0 | c >> 18);
	o[1] = (uint8_t)(0x80 | ((c >> 12) & 63));
	o[2] = (uint8_t)(0x80 | ((c >> 6) & 63));
	o[3] = (uint8_t)(0x80 | (c & 63));
	return 4;
}

static void test_roundtrip_random(void)
{
	uint8_t s[1024];
	struct buf b, dec;
	struct jw w;
	struct err e;
	struct json_tok tok[8];
	struct json_doc d;
	int iter, bad = 0;

	buf_init(&b, 1 << 16);
	buf_init(&dec, 1 << 16);
	for (iter = 0; iter < 3000; iter++) {
		size_t n = 0, want = rnd() % 200;

		while (n < want)
			n += put_cp(rnd_cp(), s + n);
		buf_reset(&b);
		buf_reset(&dec);
		jw_init(&w, &b);
		jw_obj_begin(&w);
		jw_keyn(&w, (const char *)s, n);
		jw_strn(&w, s, n);
		jw_obj_end(&w);
		if (jw_finish(&w, &e) != 0 ||
		    json_parse(&d, guarded(b.p, b.len), b.len, tok, 8, &e) != 0 ||
		    json_str_decode(&d, 2, &dec, &e) != 0 || dec.len != n ||
		    memcmp(dec.p, s, n) != 0 || !json_str_eqn(&d, 2, (const char *)s, n) ||
		    memchr(b.p, '\n', b.len) || memchr(b.p, 0, b.len)) {
			bad++;
			continue;
		}
		/* nothing but escapes and raw UTF-8 (no raw controls, no U+2028) */
		if (!json_utf8_valid(b.p, b.len, NULL))
			bad++;
	}
	CHECK(bad == 0);
	buf_free(&b);
	buf_free(&dec);
}

/* Random invalid UTF-8 (a valid string with one byte flipped somewhere):
 * the writer and the reader agree with json_utf8_valid. */
static void test_utf8_agreement(void)
{
	uint8_t s[256], doc[300];
	struct buf b;
	struct jw w;
	struct err e;
	int iter, bad = 0;

	buf_init(&b, 1 << 12);
	for (iter = 0; iter < 5000; iter++) {
		size_t n = 0, want = 1 + rnd() % 40;
		int valid, wok, pok;

		while (n < want)
			n += put_cp(0x80 + rnd() % 0x10FF80, s + n);
		s[rnd() % n] = (uint8_t)rnd();
		valid = json_utf8_valid(s, n, NULL);
		buf_reset(&b);
		jw_init(&w, &b);
		jw_strn(&w, s, n);
		wok = jw_finish(&w, &e) == 0;
		doc[0] = '"';
		memcpy(doc + 1, s, n);
		doc[n + 1] = '"';
		/* a flipped byte may be a quote, backslash or control: only
		 * compare when every byte is >= 0x80 or plain */
		{
			size_t k;
			int plain = 1;

			for (k = 0; k < n; k++)
				if (s[k] < 0x20 || s[k] == '"' || s[k] == '\\')
					plain = 0;
			if (!plain)
				continue;
		}
		pok = parse_ok((const char *)doc, n + 2);
		if (valid != wok || valid != pok)
			bad++;
	}
	CHECK(bad == 0);
	buf_free(&b);
}

/* ---- realistic payloads ---- */

static void test_converse_events(void)
{
	static const char *const events[] = {
		"{\"p\":\"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS\",\"role\":\"assistant\"}",
		"{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hi\"},\"p\":\"abcdefgh\"}",
		"{\"contentBlockIndex\":0,\"delta\":{\"text\":\" there\\n\\\"quoted\\\" \\u00e9\"},"
		"\"p\":\"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0\"}",
		"{\"contentBlockIndex\":1,\"p\":\"abcd\",\"start\":{\"toolUse\":{\"name\":\"get_weather\","
		"\"toolUseId\":\"tooluse_abc123\"}}}",
		"{\"contentBlockIndex\":1,\"delta\":{\"toolUse\":{\"input\":\"{\\\"city\\\": \\\"Par\"}},"
		"\"p\":\"abcdefghijklmn\"}",
		"{\"contentBlockIndex\":0,\"p\":\"abcdefghijklmnopqrstu\"}",
		"{\"p\":\"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW\",\"stopReason\":\"end_turn\"}",
		"{\"metrics\":{\"latencyMs\":512},\"p\":\"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL\","
		"\"usage\":{\"inputTokens\":12,\"outputTokens\":34,\"totalTokens\":46}}",
	};
	struct json_tok tok[32];
	struct json_doc d;
	struct err e;
	struct buf text, out;
	struct jw w;
	struct slice s;
	int64_t v;
	size_t i;

	buf_init(&text, 1024);
	buf_init(&out, 4096);
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		const char *ev = events[i];
		int t, k;

		CHECK(json_parse(&d, ev, strlen(ev), tok, 32, &e) == 0);
		t = json_path(&d, 0, "delta.text");
		if (t >= 0)
			CHECK(json_str_decode(&d, t, &text, &e) == 0);
		/* chat --json: the payload without "p", copied token by token */
		buf_reset(&out);
		jw_init(&w, &out);
		jw_obj_begin(&w);
		jw_key(&w, "contentBlockDelta");
		jw_obj_begin(&w);
		for (k = json_child(&d, 0); k >= 0; k = json_next(&d, k)) {
			if (json_str_eq(&d, k, "p"))
				continue;
			CHECK(json_str_view(&d, k, &s) == 0);
			jw_keyn(&w, (const char *)s.p, s.n);
			jw_tok(&w, &d, k + 1);
		}
		jw_obj_end(&w);
		jw_obj_end(&w);
		CHECK(jw_finish(&w, &e) == 0);
		CHECK(parse_ok((const char *)out.p, out.len));
		CHECK(strstr((const char *)out.p, "\"p\"") == NULL);
		if (i == 1)
			CHECK_STR(wr_out(&out),
				  "{\"contentBlockDelta\":{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hi\"}}}");
	}
	CHECK(slice_eq_str(buf_slice(&text), "Hi there\n\"quoted\" \xc3\xa9"));
	CHECK(json_parse(&d, events[7], strlen(events[7]), tok, 32, &e) == 0);
	CHECK(json_int64(&d, json_path(&d, 0, "usage.totalTokens"), &v, &e) == 0 && v == 46);
	CHECK(json_parse(&d, events[4], strlen(events[4]), tok, 32, &e) == 0);
	buf_reset(&text);
	CHECK(json_str_decode(&d, json_path(&d, 0, "delta.toolUse.input"), &text, &e) == 0);
	CHECK(slice_eq_str(buf_slice(&text), "{\"city\": \"Par"));
	buf_free(&text);
	buf_free(&out);
}

/* A ListFoundationModels-sized response, written by our writer and read back
 * with json_parse_alloc. */
static void test_big_document(void)
{
	struct buf b;
	struct jw w;
	struct err e;
	struct json_doc d;
	char id[96];
	int i, k, models, n;

	buf_init(&b, 4 << 20);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_key(&w, "modelSummaries");
	jw_arr_begin(&w);
	for (i = 0; i < 200; i++) {
		snprintf(id, sizeof(id), "vendor%d.model-%d-v%d:0", i % 7, i, i % 3);
		jw_obj_begin(&w);
		jw_kstr(&w, "modelArn", "arn:aws:bedrock:us-east-1::foundation-model/x");
		jw_kstr(&w, "modelId", id);
		jw_kstr(&w, "modelName", "Some Model \xe2\x80\x94 Large");
		jw_kstr(&w, "providerName", "Vendor");
		jw_key(&w, "inputModalities");
		jw_arr_begin(&w);
		jw_str(&w, "TEXT");
		jw_str(&w, "IMAGE");
		jw_arr_end(&w);
		jw_key(&w, "outputModalities");
		jw_arr_begin(&w);
		jw_str(&w, "TEXT");
		jw_arr_end(&w);
		jw_kbool(&w, "responseStreamingSupported", i % 5 != 0);
		jw_key(&w, "customizationsSupported");
		jw_arr_begin(&w);
		jw_arr_end(&w);
		jw_key(&w, "inferenceTypesSupported");
		jw_arr_begin(&w);
		jw_str(&w, i % 2 ? "ON_DEMAND" : "INFERENCE_PROFILE");
		jw_arr_end(&w);
		jw_key(&w, "modelLifecycle");
		jw_obj_begin(&w);
		jw_kstr(&w, "status", "ACTIVE");
		jw_obj_end(&w);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	CHECK(jw_finish(&w, &e) == 0);
	CHECK(json_parse_alloc(&d, (const char *)b.p, b.len, 20000, &e) == 0);
	models = json_get(&d, 0, "modelSummaries");
	CHECK(json_size(&d, models) == 200);
	n = 0;
	for (k = json_child(&d, models); k >= 0; k = json_next(&d, k), n++) {
		int streaming;

		snprintf(id, sizeof(id), "vendor%d.model-%d-v%d:0", n % 7, n, n % 3);
		CHECK(json_str_eq(&d, json_get(&d, k, "modelId"), id));
		CHECK(json_bool(&d, json_get(&d, k, "responseStreamingSupported"), &streaming, &e) ==
			      0 &&
		      streaming == (n % 5 != 0));
		CHECK(json_str_eq(&d, json_path(&d, k, "modelLifecycle.status"), "ACTIVE"));
	}
	CHECK(n == 200);
	CHECK(json_str_eq(&d, json_path(&d, 0, "modelSummaries[199].inputModalities[1]"), "IMAGE"));
	json_doc_free(&d);
	buf_free(&b);
}

/* A 1 MiB prompt streamed in pieces, then read back. */
static void test_big_string(void)
{
	const size_t n = 1 << 20;
	uint8_t *s = malloc(n);
	struct buf b, dec;
	struct jw w;
	struct err e;
	struct json_doc d;
	size_t i, m = 0;

	while (m + 4 <= n)
		m += put_cp(rnd_cp(), s + m);
	buf_init(&b, 8 << 20);
	buf_init(&dec, 2 << 20);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_key(&w, "text");
	jw_str_begin(&w);
	for (i = 0; i < m; i += 4093)
		jw_str_piece(&w, s + i, m - i < 4093 ? m - i : 4093);
	jw_str_end(&w);
	jw_obj_end(&w);
	CHECK(jw_finish(&w, &e) == 0);
	CHECK(json_parse_alloc(&d, (const char *)b.p, b.len, 4, &e) == 0);
	CHECK(json_str_decode(&d, json_get(&d, 0, "text"), &dec, &e) == 0);
	CHECK(dec.len == m && memcmp(dec.p, s, m) == 0);
	json_doc_free(&d);
	buf_free(&b);
	buf_free(&dec);
	free(s);
}

/* Wide and long documents stay linear: a 100k-element array and a 20k-member
 * object parse and iterate (quadratic code would take minutes). */
static void test_wide(void)
{
	struct buf b;
	struct json_doc d;
	struct err e;
	int i, k, n = 0;

	buf_init(&b, 8 << 20);
	buf_append_str(&b, "[");
	for (i = 0; i < 100000; i++)
		buf_appendf(&b, "%s{\"a\":[%d]}", i ? "," : "", i);
	buf_append_str(&b, "]");
	CHECK(json_parse_alloc(&d, (const char *)b.p, b.len, 1000000, &e) == 0);
	for (k = json_child(&d, 0); k >= 0; k = json_next(&d, k))
		n++;
	CHECK(n == 100000);
	json_doc_free(&d);
	buf_reset(&b);
	buf_append_str(&b, "{");
	for (i = 0; i < 20000; i++)
		buf_appendf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
	buf_append_str(&b, "}");
	CHECK(json_parse_alloc(&d, (const char *)b.p, b.len, 1000000, &e) == 0);
	{
		int64_t v;

		CHECK(json_int64(&d, json_get(&d, 0, "k19999"), &v, &e) == 0 && v == 19999);
	}
	json_doc_free(&d);
	buf_free(&b);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_valid_table);
	T_RUN(test_invalid_table);
	T_RUN(test_error_offsets);
	T_RUN(test_prefixes);
	T_RUN(test_string_word_scan);
	T_RUN(test_too_many_tokens);
	T_RUN(test_validate_counts);
	T_RUN(test_nesting);
	T_RUN(test_navigation);
	T_RUN(test_empty_containers);
	T_RUN(test_numbers);
	T_RUN(test_decode);
	T_RUN(test_str_views);
	T_RUN(test_utf8);
	T_RUN(test_utf8_exhaustive_2_3);
	T_RUN(test_writer_basic);
	T_RUN(test_writer_escapes);
	T_RUN(test_writer_errors);
	T_RUN(test_writer_depth);
	T_RUN(test_writer_doubles);
	T_RUN(test_writer_pieces);
	T_RUN(test_roundtrip_random);
	T_RUN(test_utf8_agreement);
	T_RUN(test_converse_events);
	T_RUN(test_big_document);
	T_RUN(test_big_string);
	T_RUN(test_wide);
	return t_done(argv[0]);
}
