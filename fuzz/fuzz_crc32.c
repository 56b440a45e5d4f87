/* fuzz_crc32: every CRC-32 implementation the CPU has (crc32_impls) against
 * a bitwise reference, whole and split. Input: 2 bytes choosing the split
 * point and starting CRC, then the data, taken where the fuzzer put it and
 * again from one byte further on (another alignment). */
#include <stdint.h>
#include <stdlib.h>

#include "wire/crc32.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct crc32_impl impl[CRC32_IMPL_MAX];
	size_t nimpl = crc32_impls(impl), cut;
	uint32_t start, want;

	if (size < 2)
		return 0;
	start = data[1] & 1 ? 0 : (uint32_t)data[0] * 0x01010101u;
	data += 2;
	size -= 2;
	cut = size ? data[-2] % (size + 1) : 0;
	for (int shift = 0; shift < 2 && (size_t)shift <= size; shift++) {
		const uint8_t *p = data + shift;
		size_t n = size - (size_t)shift, c = cut < n ? cut : n;

		want = ref_crc32(start, p, n);
		if (crc32_update(start, p, n) != want)
			abort();
		for (size_t i = 0; i < nimpl; i++) {
			const struct crc32_impl *a = &impl[i], *b = &impl[(i + 1) % nimpl];
			if (a->update(start, p, n) != want ||
			    b->update(a->update(start, p, c), p + c, n - c) != want)
				abort();
		}
	}
	return 0;
}
