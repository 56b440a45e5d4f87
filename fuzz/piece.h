/* Exact-size copies of input pieces for the fuzz targets that feed a parser
 * in pieces, without a malloc per piece: a malloc and free per piece (up to
 * one per input byte) cost ASan more than the parser itself. Each piece is
 * placed in a per-execution arena at its own 16-aligned offset, never reused
 * within the execution; everything but the live piece is poisoned, so ASan
 * reports a read past the piece, before it, or into an earlier piece (a view
 * kept past its feed) as it did with malloc'd pieces. */
#ifndef BROCK_FUZZ_PIECE_H
#define BROCK_FUZZ_PIECE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define FZ_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define FZ_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#endif
#endif
#ifndef FZ_POISON
#define FZ_POISON(p, n) ((void)(p), (void)(n))
#define FZ_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

struct fz_arena {
	uint8_t *p;
	size_t cap, used;
};

/* Room for pieces totalling bytes in at most count pieces. Kept across
 * executions (grown when needed); all of it poisoned. */
static void fz_arena_begin(struct fz_arena *a, size_t bytes, size_t count)
{
	size_t need = bytes + 32 * (count + 1);

	if (a->p)
		FZ_UNPOISON(a->p, a->cap);
	if (need > a->cap) {
		free(a->p);
		a->p = malloc(need);
		if (!a->p)
			abort();
		a->cap = need;
	}
	a->used = 16; /* a poisoned gap before the first piece too */
	FZ_POISON(a->p, a->cap);
}

/* An exact-size copy of src[0..n); its bytes alone are addressable. */
static uint8_t *fz_piece(struct fz_arena *a, const uint8_t *src, size_t n)
{
	uint8_t *q;

	a->used = (a->used + 15) & ~(size_t)15;
	if (a->used + n + 16 > a->cap)
		abort(); /* fz_arena_begin was told less */
	q = a->p + a->used;
	FZ_UNPOISON(q, n);
	if (n)
		memcpy(q, src, n);
	a->used += n + 16;
	return q;
}

/* The piece is done: any later read of it is reported. */
static void fz_piece_done(uint8_t *q, size_t n)
{
	FZ_POISON(q, n);
}

#endif
