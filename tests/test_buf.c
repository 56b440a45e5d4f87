#include "base/buf.h"
#include "base/err.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>

static void test_limit(void)
{
	struct buf b;

	buf_init(&b, 8);
	CHECK(buf_append(&b, "12345678", 8) == 0);
	CHECK(b.len == 8 && b.p[8] == 0);
	CHECK(buf_append(&b, "9", 1) == -1);
	CHECK(b.len == 8);
	buf_consume(&b, 3);
	CHECK_STR((char *)b.p, "45678");
	CHECK(buf_appendf(&b, "%d", 123) == 0);
	CHECK_STR((char *)b.p, "45678123");
	CHECK(buf_appendf(&b, "%d", 4) == -1);
	buf_free(&b);
	CHECK(b.p == NULL && b.len == 0);
}

static void test_grow(void)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	for (int i = 0; i < 100000; i++)
		CHECK(buf_append_byte(&b, (uint8_t)('a' + i % 26)) == 0);
	CHECK(b.len == 100000 && b.p[25] == 'z' && b.p[26] == 'a');
	buf_free(&b);
}

/* "No limit" spelt SIZE_MAX must not wrap the capacity arithmetic (max + 1,
 * len + extra + 1) into a tiny allocation. */
static void test_max_size_max(void)
{
	struct buf b;

	buf_init(&b, SIZE_MAX);
	CHECK(buf_append(&b, "hello", 5) == 0);
	CHECK(b.cap > 5 && b.len == 5 && b.p[5] == 0);
	for (int i = 0; i < 1000; i++)
		CHECK(buf_append(&b, "0123456789", 10) == 0);
	CHECK(b.len == 10005 && b.cap > b.len && b.p[b.len] == 0);
	CHECK(buf_reserve(&b, SIZE_MAX - b.len) == -1); /* no room for the NUL */
	CHECK(buf_reserve(&b, SIZE_MAX) == -1);
	buf_free(&b);
}

static void test_slices(void)
{
	struct slice s = SLICE_LIT("Content-Type");

	CHECK(slice_eq_nocase(s, "content-type"));
	CHECK(!slice_eq_nocase(s, "content-typ"));
	CHECK(slice_eq_str(s, "Content-Type"));
	CHECK(!slice_eq_str(s, "content-type"));
	CHECK(slice_str(NULL).n == 0);
}

static void test_err(void)
{
	struct err e;

	err_clear(&e);
	CHECK(err_set(&e, ERR_PROTO, "bad %s", "crc") == -1);
	CHECK(e.cls == ERR_PROTO);
	err_wrap(&e, "event stream");
	CHECK_STR(e.msg, "event stream: bad crc");
}

static void test_str(void)
{
	char *p = str_dupn("abcdef", 3);

	CHECK_STR(p, "abc");
	free(p);
	p = str_dupn(NULL, 0);
	CHECK(p && p[0] == 0);
	free(p);
	p = str_dupn("Anthropic.Claude-Z@[`{", 22);
	str_lower(p, 9); /* only the first 9 */
	CHECK_STR(p, "anthropic.Claude-Z@[`{");
	str_lower(p, strlen(p)); /* '@' '[' '`' '{' stay: ASCII letters only */
	CHECK_STR(p, "anthropic.claude-z@[`{");
	free(p);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_limit);
	T_RUN(test_grow);
	T_RUN(test_max_size_max);
	T_RUN(test_slices);
	T_RUN(test_err);
	T_RUN(test_str);
	return t_done(argv[0]);
}
