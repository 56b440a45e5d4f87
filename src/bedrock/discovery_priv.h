/* discovery_priv: what discovery.c (API answers) and discovery_cache.c (the
 * cache file) share. Private to src/bedrock/discovery*.c; discovery.h is the
 * interface. */
#ifndef BROCK_DISCOVERY_PRIV_H
#define BROCK_DISCOVERY_PRIV_H

#include <stddef.h>

/* 1 when a model id is 1 to 256 bytes of printable ASCII without spaces. */
int disc_id_ok(const char *s, size_t n);

#endif
