/* crc32: CRC-32/IEEE, the checksum of zlib, gzip, PNG and the AWS event
 * stream (reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF).
 * One function, several implementations chosen once at run time from what
 * the CPU has: carry-less multiplication folding on x86_64 (PCLMULQDQ, and
 * VPCLMULQDQ with AVX2 or AVX-512), the CRC32 instructions on aarch64, and a
 * slice-by-8 table everywhere else. No alignment requirement, no allocation;
 * every implementation gives the same result for every input. */
#ifndef BROCK_CRC32_H
#define BROCK_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC over n more bytes: crc32_update(0, p, n) equals zlib's
 * crc32(0, p, n), and crc32_update(crc32_update(0, a, na), b, nb) is the CRC
 * of a followed by b. p may be NULL when n is 0. Thread-safe: the first call
 * picks the implementation (cpuid or getauxval) and remembers it. */
uint32_t crc32_update(uint32_t crc, const void *p, size_t n);

/* One implementation, callable directly (same contract as crc32_update). */
struct crc32_impl {
	const char *name; /* "vpclmul-avx512", "vpclmul-avx2", "pclmul", "armv8", "table" */
	uint32_t (*update)(uint32_t crc, const void *p, size_t n);
};

#define CRC32_IMPL_MAX 4

/* For tests and the bench: writes the implementations this build and CPU can
 * run to out, best first, and returns how many (at least 1). out[0] is the
 * one crc32_update uses; the last is always "table". */
size_t crc32_impls(struct crc32_impl out[CRC32_IMPL_MAX]);

/* For tests: the constants of the carry-less multiply paths, so they can be
 * derived again from the polynomial. k[i] is x^exp[i] mod P bit-reflected
 * (bit 31 holds x^0, as in the CRC register); mu is x^64 div P reflected over
 * 33 bits (bit 0 holds x^32). */
struct crc32_consts {
	const uint16_t *exp;
	const uint32_t *k;
	size_t n;
	uint64_t mu;
};
void crc32_fold_consts(struct crc32_consts *out);

#endif
