/* test_crc32: known zlib values, incremental use, and the table-driven code against a
 * bitwise reference at every alignment, length and split. */
#include "wire/crc32.h"
#include "t.h"

#include <stdint.h>

/* The definition itself, one bit at a time: shares nothing with the tables. */
static uint32_t ref_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

static uint32_t crc_str(const char *s)
{
	return crc32_update(0, s, strlen(s));
}

static void test_known_values(void)
{
	/* values from zlib.crc32 */
	static const uint8_t zeros[32], ones[32] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t seq[1024];

	CHECK(crc_str("123456789") == 0xCBF43926u);
	CHECK(crc_str("") == 0);
	CHECK(crc32_update(0, NULL, 0) == 0);
	CHECK(crc32_update(0x12345678u, NULL, 0) == 0x12345678u);
	CHECK(crc_str("a") == 0xE8B7BE43u);
	CHECK(crc_str("abc") == 0x352441C2u);
	CHECK(crc_str("The quick brown fox jumps over the lazy dog") == 0x414FA339u);
	CHECK(crc32_update(0, zeros, sizeof zeros) == 0x190A55ADu);
	CHECK(crc32_update(0, ones, sizeof ones) == 0xFF6CAB0Bu);
	for (size_t i = 0; i < sizeof seq; i++)
		seq[i] = (uint8_t)i;
	CHECK(crc32_update(0, seq, sizeof seq) == 0xB70B4C26u);
}

static void test_incremental(void)
{
	uint32_t c = crc32_update(0, "123", 3);

	CHECK(crc32_update(c, "456789", 6) == 0xCBF43926u);
	c = 0;
	for (const char *s = "123456789"; *s; s++)
		c = crc32_update(c, s, 1);
	CHECK(c == 0xCBF43926u);
}

/* Every start offset 0..15 and every length 0..300, plus long buffers:
 * exercises the 8-byte loop entry, its tail and unaligned loads. */
static void test_against_reference(void)
{
	enum { N = 70000 };
	uint8_t *big = malloc(N + 16);
	uint32_t x = 2463534242u;
	int bad = 0;

	if (!big) {
		CHECK(!"out of memory");
		return;
	}
	for (size_t i = 0; i < N + 16; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32 */
		big[i] = (uint8_t)x;
	}
	for (size_t off = 0; off < 16; off++) {
		for (size_t len = 0; len <= 300; len++)
			bad += crc32_update(0, big + off, len) != ref_crc32(0, big + off, len);
		bad += crc32_update(0, big + off, N) != ref_crc32(0, big + off, N);
		bad += crc32_update(0xdeadbeefu, big + off, 1001) !=
		       ref_crc32(0xdeadbeefu, big + off, 1001);
	}
	/* every split of a 300-byte buffer gives the same CRC */
	for (size_t cut = 0; cut <= 300; cut++) {
		uint32_t c = crc32_update(0, big + 3, cut);
		bad += crc32_update(c, big + 3 + cut, 300 - cut) != ref_crc32(0, big + 3, 300);
	}
	CHECK(bad == 0);
	free(big);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_known_values);
	T_RUN(test_incremental);
	T_RUN(test_against_reference);
	return t_done(argv[0]);
}
