/* crc32: CRC-32/IEEE, the checksum of zlib, gzip, PNG and the AWS event
 * stream (reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF).
 * Table-driven slice-by-16: sixteen bytes per step, no alignment requirement,
 * byte order independent. Pure function, no state, no allocation. */
#ifndef BROCK_CRC32_H
#define BROCK_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC over n more bytes: crc32_update(0, p, n) equals zlib's
 * crc32(0, p, n), and crc32_update(crc32_update(0, a, na), b, nb) is the CRC
 * of a followed by b. p may be NULL when n is 0. */
uint32_t crc32_update(uint32_t crc, const void *p, size_t n);

#endif
