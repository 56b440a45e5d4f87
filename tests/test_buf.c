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

/* Every reader at every short length fails with s and *out untouched, and
 * at the exact length reads the value and leaves an empty slice. */
static void test_slice_readers(void)
{
	static const uint8_t b[9] = {0x81, 0x02, 0x03, 0xF4, 0x05, 0x06, 0x07, 0x08, 0x09};
	struct slice s, t, v;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	size_t n, k;

	for (n = 0; n < 4; n++) {
		s = (struct slice){b, n};
		u8 = 0x55;
		u16 = 0x5555;
		u32 = 0x55555555;
		if (n < 1)
			CHECK(slice_u8(&s, &u8) == -1 && u8 == 0x55 && s.p == b && s.n == n);
		if (n < 2)
			CHECK(slice_u16be(&s, &u16) == -1 && u16 == 0x5555 && s.p == b && s.n == n);
		CHECK(slice_u32be(&s, &u32) == -1 && u32 == 0x55555555 && s.p == b && s.n == n);
	}
	s = (struct slice){b, 1};
	CHECK(slice_u8(&s, &u8) == 0 && u8 == 0x81 && s.p == b + 1 && s.n == 0);
	s = (struct slice){b, 2};
	CHECK(slice_u16be(&s, &u16) == 0 && u16 == 0x8102 && s.p == b + 2 && s.n == 0);
	s = (struct slice){b, 4};
	CHECK(slice_u32be(&s, &u32) == 0 && u32 == 0x810203F4u && s.p == b + 4 && s.n == 0);
	/* take: every short length, then exact */
	for (k = 0; k <= sizeof(b); k++) {
		for (n = 0; n < k; n++) {
			s = (struct slice){b, n};
			v = (struct slice){NULL, 77};
			CHECK(slice_take(&s, k, &v) == -1 && v.p == NULL && v.n == 77);
			CHECK(s.p == b && s.n == n);
		}
		s = (struct slice){b, k};
		CHECK(slice_take(&s, k, &v) == 0 && v.p == b && v.n == k);
		CHECK(s.p == b + k && s.n == 0);
	}
	/* n-byte integers, 1..8, and the sizes it refuses */
	for (k = 1; k <= 8; k++) {
		uint64_t want = 0;

		for (n = 0; n < k; n++) {
			s = (struct slice){b, n};
			u64 = 5;
			CHECK(slice_uint_be(&s, k, &u64) == -1 && u64 == 5 && s.p == b && s.n == n);
			want = want << 8 | b[n];
		}
		s = (struct slice){b, k};
		CHECK(slice_uint_be(&s, k, &u64) == 0 && u64 == want && s.n == 0);
	}
	s = (struct slice){b, 9};
	CHECK(slice_uint_be(&s, 0, &u64) == -1 && slice_uint_be(&s, 9, &u64) == -1 && s.n == 9);
	/* a sequence of reads walks the bytes in order */
	s = (struct slice){b, 9};
	CHECK(slice_u8(&s, &u8) == 0 && slice_u16be(&s, &u16) == 0 && slice_u32be(&s, &u32) == 0);
	CHECK(u8 == 0x81 && u16 == 0x0203 && u32 == 0xF4050607u && s.n == 2);
	CHECK(slice_take(&s, 2, &t) == 0 && t.p == b + 7 && s.n == 0);
	CHECK(slice_u8(&s, &u8) == -1);
	/* an empty slice with a NULL pointer: taking 0 bytes is fine */
	s = (struct slice){NULL, 0};
	CHECK(slice_take(&s, 0, &v) == 0 && v.n == 0 && s.p == NULL);
	CHECK(slice_u8(&s, &u8) == -1 && slice_take(&s, 1, &v) == -1);
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
	T_RUN(test_slice_readers);
	return t_done(argv[0]);
}
