/*
 * clock.c: deadlines and elapsed times on CLOCK_MONOTONIC, in the
 * milliseconds lbauth's settings are given in (sql_timeout_ms, the
 * reconnect backoff) and the microseconds its request log counts.
 *
 * The arithmetic is pure (lbx_clock_add(), lbx_clock_ms_between(),
 * lbx_clock_us_between()) and tested on fixed times; the rest reads the
 * clock once and calls it.  Each driver had its own copy of "now plus
 * ms, carry the nanoseconds" and "ms until", with two roundings.  A
 * time left is rounded up: a positive answer means the deadline has not
 * passed, so a poll() given it does not wake a millisecond early only
 * to find it has time left, and "waiting 1 ms" is never said as 0.
 */
#include "extern.h"

#define NS_PER_S	1000000000LL

/* t as nanoseconds; a monotonic clock's values fit 64 bits for 292 years. */
static long long
ns(const struct timespec *t)
{

	return (long long)t->tv_sec * NS_PER_S + t->tv_nsec;
}

/* See extern.h.  Pure. */
void
lbx_clock_add(struct timespec *t, long ms)
{
	long long	 v = ns(t) + (long long)ms * 1000000LL;
	long long	 s = v / NS_PER_S, r = v % NS_PER_S;

	if (r < 0) {
		r += NS_PER_S;
		s--;
	}
	t->tv_sec = (time_t)s;
	t->tv_nsec = (long)r;
}

/* See extern.h.  Pure. */
long
lbx_clock_ms_between(const struct timespec *from, const struct timespec *to)
{
	long long	 d = ns(to) - ns(from);

	/* Rounded up: toward +infinity, for either sign. */
	return (long)(d > 0 ? (d + 999999) / 1000000 : d / 1000000);
}

/* See extern.h.  Pure. */
long
lbx_clock_us_between(const struct timespec *from, const struct timespec *to)
{

	return (long)((ns(to) - ns(from)) / 1000);
}

/* See extern.h. */
void
lbx_clock_after(struct timespec *t, long ms)
{

	clock_gettime(CLOCK_MONOTONIC, t);
	lbx_clock_add(t, ms);
}

/* See extern.h. */
long
lbx_clock_ms_until(const struct timespec *t)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return lbx_clock_ms_between(&now, t);
}

/* See extern.h. */
long
lbx_clock_us_since(const struct timespec *t0)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return lbx_clock_us_between(t0, &now);
}

/* See extern.h. */
bool
lbx_clock_passed(const struct timespec *t)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ns(&now) >= ns(t);
}
