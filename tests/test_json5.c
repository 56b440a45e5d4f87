/* test_json5: JSON5 conformance (valid and invalid documents), error
 * positions, spans, decoding, numbers, paths. */
#include <math.h>

#include "wire/json5.h"
#include "t.h"

static int parses(const char *s)
{
	struct j5_doc d;
	struct err e;
	int rc = j5_parse(&d, s, strlen(s), &e);
	j5_free(&d);
	return rc == 0;
}

static void test_valid(void)
{
	static const char *const ok[] = {
		"{}", "[]", "null", "true", "false", "0", "-0", "1.5e3", "\"x\"", "'x'",
		"{a:1}", "{$a:1}", "{_a:1}", "{a1$_:1}", "{'a':1}", "{\"a\":1}",
		"{a:1,}", "[1,]", "[1,2,]", "{a:[1,{b:2,},],}",
		"// c\n{}", "{} // c", "/* c */ {} /* d */", "{/**/a/**/:/**/1/**/,/**/}",
		"{a: 1 // c\n}", "/* multi\nline */ 1", "// only a comment then\n1",
		"0x1F", "0XaBc", "-0x1", "+0x1", ".5", "5.", "+1", "-.5e-3", "+.5E+3", "1e0",
		"Infinity", "-Infinity", "+Infinity", "NaN", "-NaN", "+NaN",
		"'\\'\"'", "\"\\\"'\"", "'\\\\ \\/ \\b \\f \\n \\r \\t \\v \\0'", "'\\x41'",
		"'\\u0041'", "'\\uD83D\\uDE00'", "'a\\\nb'", "'a\\\r\nb'", "'a\\\rb'",
		"'a\\\xe2\x80\xa8" "b'", "'\\a\\c\\q'", "'\xe2\x80\xa8'", "'\t'",
		"{\\u0061b: 1}", "{\xc3\xa9t\xc3\xa9: 1}", "{null: 1, true: 2, Infinity: 3}",
		"\xef\xbb\xbf{}", "\xc2\xa0{}\xe2\x80\xa9", "{a:\x0b\x0c 1}",
		"{ // spec example\n  unquoted: 'and you can quote me on that',\n"
		"  singleQuotes: 'I can use \"double quotes\" here',\n"
		"  lineBreaks: \"Look, Mom! \\\nNo \\\\n's!\",\n  hexadecimal: 0xdecaf,\n"
		"  leadingDecimalPoint: .8675309, andTrailing: 8675309.,\n"
		"  positiveSign: +1,\n  trailingComma: 'in objects', andIn: ['arrays',],\n"
		"  \"backwardsCompatible\": \"with JSON\",\n}\n",
		"[\n  [\n    [ ] ,\n  ] ,\n]",
		"{a:{a:{a:{}}}}", "{a:1, a:2}",
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		int r = parses(ok[i]);
		if (!r)
			fprintf(stderr, "  should parse: %s\n", ok[i]);
		t_case(ok[i], r);
	}
}

static void test_invalid(void)
{
	static const char *const bad[] = {
		"", " ", "// nothing", "{", "}", "[", "]", "{a}", "{a:}", "{:1}", "{,}", "[,]",
		"[1,,]", "{a:1,,}", "{a:1 b:2}", "[1 2]", "{} {}", "1 2", "{1:1}", "{-a:1}",
		"{a-b:1}", "{'a' 1}", "'abc", "\"abc", "'a\nb'", "'a\rb'", "'\\x4'", "'\\xZZ'",
		"'\\u12'", "'\\uD800'", "'\\uDC00'", "'\\uD800\\u0041'", "'\\1'", "'\\01'",
		"'\\08'", "01", "00", "-01", "1.e", "1e", "1e+", ".", "+", "-", "0x", "0xG",
		"1a", "0x1g", "Infinityx", "NaNa", "nul", "tru", "truex", "nullx", "undefined",
		"/* unterminated", "{/ }", "/", "[1]]", "{a:1}}", "{\\u0030a: 1}", "{\\x41: 1}",
		"'\xff'", "'\xc0\x80'", "'\xed\xa0\x80'", "{a\xff: 1}", "// \xff\n1", "+-1",
		"--1", "0b1", "1_000", "{a:1}/", "[\x01]",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int r = !parses(bad[i]);
		if (!r)
			fprintf(stderr, "  should fail: %s\n", bad[i]);
		t_case(bad[i], r);
	}
}

static void expect_err(const char *s, unsigned line, unsigned col, const char *msg)
{
	struct j5_doc d;
	struct err e;
	char want[256];

	CHECK(j5_parse(&d, s, strlen(s), &e) < 0);
	CHECK(d.err_line == line);
	CHECK(d.err_col == col);
	CHECK(e.cls == ERR_USAGE);
	snprintf(want, sizeof want, "%u:%u: %s", line, col, msg);
	CHECK_STR(e.msg, want);
	j5_free(&d);
}

static void test_error_positions(void)
{
	expect_err("{\n  a: 1\n  b: 2\n}", 3, 3, "expected ',' or '}'");
	expect_err("[1 2]", 1, 4, "expected ',' or ']'");
	expect_err("{a 1}", 1, 4, "expected ':' after the key");
	expect_err("{\r\n\r\n  'x\n", 3, 5, "unterminated string (use \\n for a line break)");
	expect_err("{\n\xc3\xa9\xc3\xa9: 1, 'k': @}", 2, 13, "expected a value");
	expect_err("{ /* open", 1, 3, "unterminated comment");
	expect_err("[1,\n", 2, 1, "unexpected end of input, expected a value");
	expect_err("'\\1'", 1, 2, "octal and digit escapes are not allowed");
	expect_err("{a:1}x", 1, 6, "unexpected text after the value");
	expect_err("\xe2\x80\xa8 @", 2, 2, "expected a value");
}

static void test_limits(void)
{
	char deep[200];
	struct j5_doc d;
	struct err e;

	memset(deep, '[', 64);
	memset(deep + 64, ']', 64);
	deep[128] = 0;
	CHECK(parses(deep));
	memset(deep, '[', 65);
	memset(deep + 65, ']', 65);
	deep[130] = 0;
	CHECK(!parses(deep));

	char num[300];
	memset(num, '1', 256);
	num[256] = 0;
	CHECK(parses(num));
	num[256] = '1', num[257] = 0;
	CHECK(!parses(num));

	/* token limit: more than J5_MAX_NODES values */
	size_t n = J5_MAX_NODES * 2 + 8;
	char *big = malloc(n);
	size_t k = 0;
	big[k++] = '[';
	for (size_t i = 0; i < J5_MAX_NODES; i++)
		big[k++] = '0', big[k++] = ',';
	big[k++] = ']';
	CHECK(j5_parse(&d, big, k, &e) < 0);
	CHECK(strstr(e.msg, "too many values") != NULL);
	j5_free(&d);
	/* one fewer fits (the array itself is a node) */
	k = 0;
	big[k++] = '[';
	for (size_t i = 0; i + 1 < J5_MAX_NODES; i++)
		big[k++] = '0', big[k++] = ',';
	big[k++] = ']';
	CHECK(j5_parse(&d, big, k, &e) == 0);
	CHECK(d.count == J5_MAX_NODES);
	j5_free(&d);
	free(big);
	CHECK(j5_parse(&d, "{}", J5_MAX_SIZE + 1, &e) < 0); /* size checked first */
	j5_free(&d);
}

static void test_spans(void)
{
	const char *s = "{ a: 1, /*x*/ 'b' : [true , null] , c:{},\n}";
	struct j5_doc d;
	struct err e;
	uint32_t a, b, c, t;

	CHECK(j5_parse(&d, s, strlen(s), &e) == 0);
	CHECK(d.nodes[0].type == J5_OBJECT && d.nodes[0].count == 3);
	CHECK(d.nodes[0].start == 0 && d.nodes[0].end == strlen(s));
	a = j5_member_str(&d, 0, "a");
	b = j5_member_str(&d, 0, "b");
	c = j5_member_str(&d, 0, "c");
	CHECK(a == 1 && b == 2 && c == 5);
	CHECK(d.nodes[a].key_start == 2 && d.nodes[a].key_end == 3);
	CHECK(d.nodes[a].start == 5 && d.nodes[a].end == 6 && d.nodes[a].comma == 6);
	CHECK(j5_item_start(&d, a) == 2 && j5_item_end(&d, a) == 7);
	CHECK(memcmp(s + d.nodes[b].key_start, "'b'", 3) == 0);
	CHECK(d.nodes[b].key_end - d.nodes[b].key_start == 3);
	CHECK(d.nodes[b].type == J5_ARRAY && d.nodes[b].count == 2);
	CHECK(memcmp(s + d.nodes[b].start, "[true , null]", 13) == 0);
	CHECK(d.nodes[b].end - d.nodes[b].start == 13);
	CHECK(s[d.nodes[b].comma] == ',' && d.nodes[b].comma == d.nodes[b].end + 1);
	t = j5_elem(&d, b, 0);
	CHECK(t == 3 && d.nodes[t].type == J5_BOOL && j5_bool(&d, t) == 1);
	CHECK(s[d.nodes[t].comma] == ',');
	CHECK(j5_elem(&d, b, 1) == 4 && d.nodes[4].comma == J5_NONE);
	CHECK(j5_elem(&d, b, 2) == J5_NONE);
	CHECK(d.nodes[c].count == 0 && s[d.nodes[c].comma] == ',');
	CHECK(d.nodes[c].parent == 0 && d.nodes[4].parent == b);
	CHECK(j5_member_str(&d, 0, "z") == J5_NONE);
	CHECK(j5_member_str(&d, b, "x") == J5_NONE);
	j5_free(&d);
}

static void test_decode(void)
{
	const char *s = "{'k\\x41\\u00e9': \"a\\tb\\u00e9\\uD83D\\uDE00\\0z\\\nq\\q\\'\", "
			"\\u0061b: 'x', dup: 1, dup: 2}";
	struct j5_doc d;
	struct err e;
	struct buf b;
	uint32_t v;

	CHECK(j5_parse(&d, s, strlen(s), &e) == 0);
	buf_init(&b, 1024);
	v = j5_member_str(&d, 0, "kA\xc3\xa9");
	CHECK(v != J5_NONE);
	CHECK(j5_string(&d, v, &b) == 0);
	CHECK_MEM(b.p, b.len, "a\tb\xc3\xa9\xf0\x9f\x98\x80\0zqq'", 14);
	buf_reset(&b);
	CHECK(j5_key(&d, v, &b) == 0);
	CHECK_STR((char *)b.p, "kA\xc3\xa9");
	v = j5_member_str(&d, 0, "ab");
	CHECK(v != J5_NONE && j5_key_eq(&d, v, "ab", 2));
	v = j5_member_str(&d, 0, "dup");
	CHECK(v != J5_NONE && d.src[d.nodes[v].start] == '2');
	CHECK(j5_string(&d, 0, &b) < 0); /* not a string */
	buf_free(&b);
	j5_free(&d);
}

static void test_numbers(void)
{
	static const struct {
		const char *s;
		double v;
		int json;
	} cases[] = {
		{"0", 0, 1}, {"-0", 0, 1}, {"12", 12, 1}, {"1.5e3", 1500, 1}, {"-2.5E-1", -0.25, 1},
		{"0x1F", 31, 0}, {"-0xff", -255, 0}, {"+0x10", 16, 0}, {".5", 0.5, 0},
		{"5.", 5, 0}, {"+1", 1, 0}, {"-.25", -0.25, 0}, {"0.5", 0.5, 1},
		{"123456789012", 123456789012.0, 1},
	};
	struct j5_doc d;
	struct err e;
	double v;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int ok = j5_parse(&d, cases[i].s, strlen(cases[i].s), &e) == 0 &&
			 j5_number(&d, 0, &v) == 0 && v == cases[i].v &&
			 j5_number_is_json(&d, 0) == cases[i].json;
		t_case(cases[i].s, ok);
		j5_free(&d);
	}
	CHECK(j5_parse(&d, "-Infinity", 9, &e) == 0 && j5_number(&d, 0, &v) == 0);
	CHECK(isinf(v) && v < 0);
	CHECK(!j5_number_is_json(&d, 0));
	j5_free(&d);
	CHECK(j5_parse(&d, "NaN", 3, &e) == 0 && j5_number(&d, 0, &v) == 0 && isnan(v));
	j5_free(&d);
}

static void check_path(const char *expr, const char *canon)
{
	struct j5_path p;
	struct err e;
	struct buf b;

	buf_init(&b, 1024);
	CHECK(j5_path_parse(&p, expr, &e) == 0);
	CHECK(j5_path_format(&p, p.n, &b) == 0);
	CHECK_STR(b.p ? (char *)b.p : "", canon);
	j5_path_free(&p);
	buf_free(&b);
}

static void test_paths(void)
{
	struct j5_path p;
	struct err e;

	CHECK(j5_path_parse(&p, "models.providers[\"amazon-bedrock\"].baseUrl", &e) == 0);
	CHECK(p.n == 4);
	CHECK_STR(p.seg[0].key, "models");
	CHECK_STR(p.seg[2].key, "amazon-bedrock");
	CHECK(!p.seg[2].is_index);
	j5_path_free(&p);
	CHECK(j5_path_parse(&p, "a.b[12][0].c", &e) == 0);
	CHECK(p.n == 5 && p.seg[2].is_index && p.seg[2].index == 12 && p.seg[3].index == 0);
	j5_path_free(&p);
	CHECK(j5_path_parse(&p, "['a.b']['x\\'y'][\"q\\\"\\u0041\"]", &e) == 0);
	CHECK(p.n == 3);
	CHECK_STR(p.seg[0].key, "a.b");
	CHECK_STR(p.seg[1].key, "x'y");
	CHECK_STR(p.seg[2].key, "q\"A");
	j5_path_free(&p);
	CHECK(j5_path_parse(&p, "", &e) == 0 && p.n == 0);
	j5_path_free(&p);

	check_path("models.bedrockDiscovery.enabled", "models.bedrockDiscovery.enabled");
	check_path("a['amazon-bedrock'].x[3]", "a[\"amazon-bedrock\"].x[3]");
	check_path("['a.b'].c", "[\"a.b\"].c");
	/* non-identifier bare keys format quoted, and that form reads back */
	check_path("serve.\xc3\xa9t\xc3\xa9", "serve[\"\xc3\xa9t\xc3\xa9\"]");
	check_path("a b.c]", "[\"a b\"][\"c]\"]");
	check_path("[\"a b\"][\"c]\"]", "[\"a b\"][\"c]\"]");

	static const char *const bad[] = {".a", "a.", "a..b", "a[", "a[]", "a[x]", "a[01]",
					  "a[1", "a['x]", "a['x'", "a.[0]", "a[0]b", "a[-1]",
					  "[\"\\1\"]",
					  /* invalid UTF-8, bare as quoted: a document's keys never are */
					  "se\x84ve.x", "a.\xc3", "a.\xed\xa0\x80", "['\xff']"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int r = j5_path_parse(&p, bad[i], &e) < 0 && e.cls == ERR_USAGE;
		t_case(bad[i], r);
		if (!r)
			j5_path_free(&p);
	}
	CHECK(j5_path_parse(&p, "se\x84ve.x", &e) < 0);
	CHECK_STR(e.msg, "bad path: invalid UTF-8 at offset 2");
	/* a quoted key names the bad byte, not only where the key starts */
	CHECK(j5_path_parse(&p, "a[\"x\x84y\"]", &e) < 0);
	CHECK_STR(e.msg, "bad path: quoted key at offset 2: invalid UTF-8 in string at offset 4");
}

static void test_lookup(void)
{
	const char *s = "{a: {b: [10, {c: 'x'}]}, 'k.j': 1}";
	struct j5_doc d;
	struct j5_path p;
	struct err e;
	size_t m;
	uint32_t last, v;

	CHECK(j5_parse(&d, s, strlen(s), &e) == 0);
	CHECK(j5_path_parse(&p, "a.b[1].c", &e) == 0);
	v = j5_lookup(&d, 0, &p, &m, &last);
	CHECK(v != J5_NONE && d.nodes[v].type == J5_STRING && m == 4 && last == v);
	j5_path_free(&p);
	CHECK(j5_path_parse(&p, "a.b[2].c", &e) == 0);
	v = j5_lookup(&d, 0, &p, &m, &last);
	CHECK(v == J5_NONE && m == 2 && d.nodes[last].type == J5_ARRAY);
	j5_path_free(&p);
	CHECK(j5_path_parse(&p, "['k.j']", &e) == 0);
	CHECK(j5_lookup(&d, 0, &p, NULL, NULL) != J5_NONE);
	j5_path_free(&p);
	CHECK(j5_path_parse(&p, "a.b.x", &e) == 0);
	CHECK(j5_lookup(&d, 0, &p, &m, NULL) == J5_NONE && m == 2);
	j5_path_free(&p);
	j5_free(&d);
}

static void test_blank(void)
{
	CHECK(j5_is_blank("", 0));
	CHECK(j5_is_blank(" \n// x\n/* y */\t", 15));
	CHECK(!j5_is_blank("{}", 2));
	CHECK(!j5_is_blank("/* open", 7));
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_valid);
	T_RUN(test_invalid);
	T_RUN(test_error_positions);
	T_RUN(test_limits);
	T_RUN(test_spans);
	T_RUN(test_decode);
	T_RUN(test_numbers);
	T_RUN(test_paths);
	T_RUN(test_lookup);
	T_RUN(test_blank);
	return t_done(argv[0]);
}
