/* test_crc32: every implementation the running CPU has (crc32_impls) against a
 * bitwise reference: known zlib values, every alignment 0..63 with every length
 * up to 1100 (each loop, its tail and the thresholds between paths), random
 * lengths up to 1 MiB, splits between and across implementations, buffers
 * that end or start at an unmapped page; and the folding constants derived
 * again from the polynomial. Prints which implementations ran. */
#include "wire/crc32.h"
#include "t.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#if defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#endif

static struct crc32_impl impl[CRC32_IMPL_MAX];
static size_t nimpl;

/* The definition itself, one bit at a time: shares nothing with the code under test. */
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

/* The same a byte at a time through a table built here from ref_crc32, for
 * the long buffers. */
static uint32_t ref_tab[256];

static void ref_init(void)
{
	for (unsigned b = 0; b < 256; b++) {
		uint8_t c = (uint8_t)b;
		/* the CRC of one byte with register 0 in and out */
		ref_tab[b] = ~ref_crc32(~0u, &c, 1);
	}
}

static uint32_t ref_fast(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--)
		crc = ref_tab[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static uint8_t *random_bytes(size_t n, uint32_t seed)
{
	uint8_t *p = malloc(n ? n : 1);

	for (size_t i = 0; p && i < n; i++) {
		seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5; /* xorshift32 */
		p[i] = (uint8_t)(seed >> 7);
	}
	return p;
}

static int has_impl(const char *name)
{
	for (size_t i = 0; i < nimpl; i++)
		if (strcmp(impl[i].name, name) == 0)
			return 1;
	return 0;
}

static void test_paths(void)
{
	CHECK(nimpl >= 1 && nimpl <= CRC32_IMPL_MAX);
	CHECK(strcmp(impl[nimpl - 1].name, "table") == 0 && has_impl("table"));
	printf("crc32 paths on this CPU:");
	for (size_t i = 0; i < nimpl; i++)
		printf(" %s", impl[i].name);
	printf("\n");
#if defined(__x86_64__)
	{
		/* the kernel's reading of cpuid, independent of ours */
		FILE *f = fopen("/proc/cpuinfo", "r");
		char line[4096];

		while (f && fgets(line, sizeof line, f)) {
			if (strncmp(line, "flags", 5) != 0)
				continue;
			CHECK(!(strstr(line, " pclmulqdq") && strstr(line, " sse4_1")) ||
			      has_impl("pclmul"));
			CHECK(!(strstr(line, " vpclmulqdq") && strstr(line, " avx2 ")) ||
			      has_impl("vpclmul-avx2"));
			CHECK(!(strstr(line, " vpclmulqdq") && strstr(line, " avx512f ")) ||
			      has_impl("vpclmul-avx512"));
			break;
		}
		if (f)
			fclose(f);
	}
#elif defined(__aarch64__)
	/* qemu-aarch64's default CPU has the CRC32 instructions: make check-cross
	 * must exercise them */
	CHECK(getenv("BROCK_CROSS") == NULL || has_impl("armv8"));
	CHECK(!(getauxval(AT_HWCAP) & HWCAP_CRC32) || has_impl("armv8"));
#endif
}

/* The constants derived here from P alone: K(e) = x^e mod P by repeated
 * multiplication by x, mu = x^64 div P by long division (unreflected), then
 * reflected over 33 bits. */
static void test_constants(void)
{
	struct crc32_consts c;
	uint64_t rem = 1ull << 32, q = 0, mu = 0; /* x^64's 33 leading coefficients */
	int bad = 0;

	crc32_fold_consts(&c);
	CHECK(c.n >= 10);
	for (size_t i = 0; i < c.n; i++) {
		uint32_t k = 0x80000000u; /* x^0, reflected */
		for (unsigned e = 0; e < c.exp[i]; e++)
			k = (k >> 1) ^ (0xEDB88320u & (0u - (k & 1)));
		bad += k != c.k[i];
	}
	/* x^64 div P: rem holds the 33 leading coefficients of the running remainder */
	for (int b = 32; b >= 0; b--) {
		if (rem >> 32) {
			q |= 1ull << b;
			rem ^= 0x104C11DB7ull;
		}
		rem <<= 1;
	}
	for (int b = 0; b <= 32; b++)
		mu |= (q >> b & 1) << (32 - b);
	CHECK(q == 0x104D101DFull);
	CHECK(mu == c.mu);
	CHECK(bad == 0);
}

static void test_known_values(void)
{
	/* values from zlib.crc32 */
	static const uint8_t zeros[32],
		ones[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const char fox[] = "The quick brown fox jumps over the lazy dog";
	uint8_t seq[1024];

	for (size_t i = 0; i < sizeof seq; i++)
		seq[i] = (uint8_t)i;
	for (size_t i = 0; i <= nimpl; i++) {
		/* i == nimpl: the dispatching crc32_update */
		uint32_t (*f)(uint32_t, const void *, size_t) =
			i < nimpl ? impl[i].update : crc32_update;
		uint32_t c = f(0, "123", 3);

		CHECK(f(0, "123456789", 9) == 0xCBF43926u);
		CHECK(f(c, "456789", 6) == 0xCBF43926u);
		CHECK(f(0, "", 0) == 0);
		CHECK(f(0, NULL, 0) == 0);
		CHECK(f(0x12345678u, NULL, 0) == 0x12345678u);
		CHECK(f(0, "a", 1) == 0xE8B7BE43u);
		CHECK(f(0, "abc", 3) == 0x352441C2u);
		CHECK(f(0, fox, sizeof fox - 1) == 0x414FA339u);
		CHECK(f(0, zeros, sizeof zeros) == 0x190A55ADu);
		CHECK(f(0, ones, sizeof ones) == 0xFF6CAB0Bu);
		CHECK(f(0, seq, sizeof seq) == 0xB70B4C26u);
	}
}

/* Every start offset 0..63 and every length 0..1100: the 64/128/256-byte main
 * loops with each remainder, the 16-byte tail loop, the table tail. */
static void test_every_length(void)
{
	enum { LEN = 1100 };
	uint8_t *big = random_bytes(64 + LEN, 2463534242u);
	int bad = 0;

	if (!big) {
		CHECK(!"out of memory");
		return;
	}
	for (size_t off = 0; off < 64; off++) {
		uint32_t want = 0; /* ref of big[off .. off+len) */
		uint32_t seed = (uint32_t)off * 0x9E3779B9u;
		for (size_t len = 0; len <= LEN; len++) {
			if (len)
				want = ref_crc32(want, big + off + len - 1, 1);
			for (size_t i = 0; i < nimpl; i++)
				bad += impl[i].update(0, big + off, len) != want;
		}
		/* a nonzero starting register */
		for (size_t i = 0; i < nimpl; i++)
			bad += impl[i].update(seed, big + off, LEN) !=
			       ref_crc32(seed, big + off, LEN);
	}
	CHECK(bad == 0);
	free(big);
}

/* Random lengths up to 1 MiB at random alignments, whole and split at a random
 * point with the two halves done by different implementations. */
static void test_random_long(void)
{
	enum { MAX = 1 << 20, ROUNDS = 24 };
	uint8_t *big = random_bytes(MAX + 64, 0x2545F491u);
	uint32_t x = 88172645u;
	int bad = 0;

	if (!big) {
		CHECK(!"out of memory");
		return;
	}
	for (int r = 0; r < ROUNDS; r++) {
		size_t len, off, cut;
		uint32_t want;

		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		len = r == 0 ? MAX : x % (MAX + 1);
		off = (x >> 20) % 64;
		cut = len ? (size_t)(x * 2654435761u) % len : 0;
		want = ref_fast(0, big + off, len);
		for (size_t i = 0; i < nimpl; i++) {
			const struct crc32_impl *a = &impl[i], *b = &impl[(i + r) % nimpl];
			bad += a->update(0, big + off, len) != want;
			bad += b->update(a->update(0, big + off, cut), big + off + cut,
					 len - cut) != want;
		}
	}
	CHECK(bad == 0);
	free(big);
}

/* Every split of a 1100-byte buffer, each implementation feeding the next. */
static void test_splits(void)
{
	enum { LEN = 1100 };
	uint8_t *p = random_bytes(LEN + 3, 12345u);
	int bad = 0;
	uint32_t want;

	if (!p) {
		CHECK(!"out of memory");
		return;
	}
	want = ref_crc32(0, p + 3, LEN);
	for (size_t cut = 0; cut <= LEN; cut++) {
		for (size_t i = 0; i < nimpl; i++) {
			uint32_t c = impl[i].update(0, p + 3, cut);
			bad += impl[(i + 1) % nimpl].update(c, p + 3 + cut, LEN - cut) != want;
		}
	}
	/* a byte at a time */
	for (size_t i = 0; i < nimpl; i++) {
		uint32_t c = 0;
		for (size_t k = 0; k < 300; k++)
			c = impl[i].update(c, p + k, 1);
		bad += c != ref_crc32(0, p, 300);
	}
	CHECK(bad == 0);
	free(p);
}

/* Buffers that end right before an unmapped page, or start right after one:
 * any read past either end faults (no sanitizer needed). */
static void test_guard_pages(void)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *m = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *mid = m + pg;
	int bad = 0;

	if (m == MAP_FAILED) {
		CHECK(!"mmap");
		return;
	}
	for (size_t i = 0; i < pg; i++)
		mid[i] = (uint8_t)(i * 131 + 7);
	CHECK(mprotect(m, pg, PROT_NONE) == 0);
	CHECK(mprotect(mid + pg, pg, PROT_NONE) == 0);
	for (size_t len = 0; len <= 600 && len <= pg; len++) {
		uint32_t tail = ref_crc32(0, mid + pg - len, len), head = ref_crc32(0, mid, len);
		for (size_t i = 0; i < nimpl; i++) {
			bad += impl[i].update(0, mid + pg - len, len) != tail;
			bad += impl[i].update(0, mid, len) != head;
		}
	}
	CHECK(bad == 0);
	munmap(m, 3 * pg);
}

int main(int argc, char **argv)
{
	(void)argc;
	ref_init();
	nimpl = crc32_impls(impl);
	T_RUN(test_paths);
	T_RUN(test_constants);
	T_RUN(test_known_values);
	T_RUN(test_every_length);
	T_RUN(test_random_long);
	T_RUN(test_splits);
	T_RUN(test_guard_pages);
	return t_done(argv[0]);
}
