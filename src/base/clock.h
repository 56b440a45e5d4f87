/* clock: the one monotonic clock. Milliseconds in 64 bits everywhere (a long of
 * milliseconds overflows on 32-bit targets after 24.8 days). */
#ifndef BROCK_CLOCK_H
#define BROCK_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds; only differences mean anything. */
int64_t clock_ms(void);

#endif
