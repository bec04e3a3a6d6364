/*
 * test.h: the whole unit-test harness (after redis's testhelp.h).
 *
 *	test_assert(cond)		one check
 *	test_assert_idx(cond, i)	one check of table row i (Dovecot)
 *	test_done()			prints the tally; use as main's return
 *
 * A failed check prints file, line, the expression and the row, and the
 * binary exits 1.  Tests include the library's private header, so they
 * can call lbx_* directly.
 */
#ifndef LBAUTH_TEST_H
#define LBAUTH_TEST_H

#include <stdio.h>

static int	 test_checks;
static int	 test_failures;

#define test_assert_idx(cond, i) do {					\
	test_checks++;							\
	if (!(cond)) {							\
		test_failures++;					\
		fprintf(stderr, "%s:%d: FAILED (row %d): %s\n",		\
		    __FILE__, __LINE__, (int)(i), #cond);		\
	}								\
} while (0)

#define test_assert(cond)	test_assert_idx(cond, -1)

#define test_done() (							\
	printf("%s: %d checks, %d failed\n", __FILE__, test_checks,	\
	    test_failures),						\
	test_failures != 0 || test_checks == 0)

#endif /* !LBAUTH_TEST_H */
