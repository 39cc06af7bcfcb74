/*
 * check.h - the tiny assertion helper every unit test uses. A test program
 * exits 0 when all CHECKs held, 1 otherwise, 77 to mean "skipped" (automake).
 */
#ifndef EIPFLOATD_CHECK_H
#define EIPFLOATD_CHECK_H

#include <stdio.h>

static int check_total, check_failures;

#define CHECK(expr)                                                            \
	do {                                                                   \
		check_total++;                                                 \
		if (!(expr)) {                                                 \
			check_failures++;                                      \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #expr);                              \
		}                                                              \
	} while (0)

/* Announce a named test case (its name says the behaviour it proves). */
#define TEST(name) fprintf(stderr, "# %s\n", name)

static inline int
check_done(void)
{
	fprintf(stderr, "%d checks, %d failed\n", check_total, check_failures);
	return check_failures ? 1 : 0;
}

#endif
