/* t.h: the tiny unit-test runner. Each tests/test_<module>.c defines test
 * functions and a main() that runs them with T_RUN and ends with t_done(),
 * which prints "<prog>: N passed, M failed". A test passes when none of its
 * CHECKs failed. T_CASE counts one data-driven case (a vector) on its own. */
#ifndef BROCK_T_H
#define BROCK_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_passed, t_failed, t_cur_failed;
static const char *t_cur = "";

static inline void t_fail_at(const char *file, int line, const char *what)
{
	fprintf(stderr, "FAIL %s: %s:%d: %s\n", t_cur, file, line, what);
	t_cur_failed++;
}

#define CHECK(c)                                                                 \
	do {                                                                     \
		if (!(c))                                                        \
			t_fail_at(__FILE__, __LINE__, #c);                       \
	} while (0)

#define CHECK_STR(got, want)                                                    \
	do {                                                                     \
		const char *t_g_ = (got), *t_w_ = (want);                        \
		if (!t_g_ || !t_w_ || strcmp(t_g_, t_w_) != 0) {                 \
			fprintf(stderr, "  got:  \"%s\"\n  want: \"%s\"\n",       \
				t_g_ ? t_g_ : "(null)", t_w_ ? t_w_ : "(null)");  \
			t_fail_at(__FILE__, __LINE__, #got " == " #want);         \
		}                                                                \
	} while (0)

#define CHECK_MEM(got, gn, want, wn)                                            \
	do {                                                                     \
		if ((size_t)(gn) != (size_t)(wn) ||                              \
		    ((wn) && memcmp((got), (want), (wn)) != 0))                  \
			t_fail_at(__FILE__, __LINE__, #got " == " #want);         \
	} while (0)

static inline void t_run(const char *name, void (*fn)(void))
{
	t_cur = name;
	t_cur_failed = 0;
	fn();
	if (t_cur_failed)
		t_failed++;
	else
		t_passed++;
}

#define T_RUN(fn) t_run(#fn, fn)

/* Records one data-driven case (e.g. a conformance vector). */
static inline void t_case(const char *name, int ok)
{
	if (ok) {
		t_passed++;
	} else {
		t_failed++;
		fprintf(stderr, "FAIL case %s\n", name);
	}
}

static inline int t_done(const char *prog)
{
	const char *base = strrchr(prog, '/');
	printf("%s: %d passed, %d failed\n", base ? base + 1 : prog, t_passed, t_failed);
	return t_failed ? 1 : 0;
}

/* Reads a whole file (test data); returns malloc'd NUL-terminated bytes. */
static inline char *t_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	size_t n = 0, cap = 0, r;

	if (!f)
		return NULL;
	do {
		if (cap - n < 4096) {
			char *np;
			cap = cap ? cap * 2 : 8192;
			np = realloc(p, cap);
			if (!np) {
				free(p);
				fclose(f);
				return NULL;
			}
			p = np;
		}
		r = fread(p + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	p[n] = 0;
	if (len)
		*len = n;
	return p;
}

#endif
