/*
 * test-clock.c: lib/clock.c, deadlines on the monotonic clock: the pure
 * arithmetic on fixed times (the carry of nanoseconds, either sign, the
 * rounding of a time left), then the clock-reading wrappers against
 * clock_gettime() itself.
 */
#include <time.h>

#include "../../lib/extern.h"
#include "../test.h"

static const struct {
	struct timespec	 t;
	long		 ms;
	struct timespec	 want;
} adds[] = {
	{ { 10, 0 }, 0, { 10, 0 } },
	{ { 10, 0 }, 1, { 10, 1000000 } },
	{ { 10, 999999999 }, 1, { 11, 999999 } },	/* carry */
	{ { 10, 500000000 }, 1500, { 12, 0 } },
	{ { 10, 0 }, 60000, { 70, 0 } },
	{ { 10, 0 }, -1, { 9, 999000000 } },		/* borrow */
	{ { 10, 200000000 }, -1200, { 9, 0 } },
	{ { 0, 0 }, 123456789, { 123456, 789000000 } },
};

static const struct {
	struct timespec	 from, to;
	long		 ms, us;
} betweens[] = {
	{ { 5, 0 }, { 5, 0 }, 0, 0 },
	{ { 5, 0 }, { 5, 1 }, 1, 0 },			/* 1 ns left: 1 ms */
	{ { 5, 0 }, { 5, 999999 }, 1, 999 },
	{ { 5, 0 }, { 5, 1000000 }, 1, 1000 },
	{ { 5, 0 }, { 5, 1000001 }, 2, 1000 },
	{ { 5, 999999999 }, { 6, 0 }, 1, 0 },		/* across a second */
	{ { 5, 0 }, { 7, 250000000 }, 2250, 2250000 },
	{ { 5, 1 }, { 5, 0 }, 0, 0 },			/* passed by 1 ns */
	{ { 5, 1500000 }, { 5, 0 }, -1, -1500 },	/* up: toward 0 */
	{ { 7, 0 }, { 5, 0 }, -2000, -2000000 },
};

int
main(void)
{
	struct timespec	 t, now, d;
	long		 ms;
	size_t		 i;

	for (i = 0; i < sizeof(adds) / sizeof(adds[0]); i++) {
		t = adds[i].t;
		lbx_clock_add(&t, adds[i].ms);
		test_assert_idx(t.tv_sec == adds[i].want.tv_sec &&
		    t.tv_nsec == adds[i].want.tv_nsec, i);
	}
	for (i = 0; i < sizeof(betweens) / sizeof(betweens[0]); i++) {
		test_assert_idx(lbx_clock_ms_between(&betweens[i].from,
		    &betweens[i].to) == betweens[i].ms, i);
		test_assert_idx(lbx_clock_us_between(&betweens[i].from,
		    &betweens[i].to) == betweens[i].us, i);
	}

	/* A deadline 10 s away: not passed, 9,999 to 10,000 ms left. */
	lbx_clock_after(&d, 10000);
	clock_gettime(CLOCK_MONOTONIC, &now);
	test_assert(!lbx_clock_passed(&d));
	ms = lbx_clock_ms_until(&d);
	test_assert(ms > 9000 && ms <= 10000);
	test_assert(lbx_clock_ms_between(&now, &d) <= 10000);
	/* One 1 s ago: passed, about -1000 ms left, 1 s since. */
	lbx_clock_after(&d, -1000);
	test_assert(lbx_clock_passed(&d));
	ms = lbx_clock_ms_until(&d);
	test_assert(ms <= -1000 && ms > -2000);
	test_assert(lbx_clock_us_since(&d) >= 1000000 &&
	    lbx_clock_us_since(&d) < 2000000);
	/* Now itself has passed as soon as it is read. */
	clock_gettime(CLOCK_MONOTONIC, &t);
	test_assert(lbx_clock_passed(&t));
	test_assert(lbx_clock_ms_until(&t) <= 0);
	test_assert(lbx_clock_us_since(&t) >= 0);
	return test_done();
}
