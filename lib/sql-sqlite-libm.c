/*
 * sql-sqlite-libm.c: the math functions of lbauth-sqlite.so, loaded
 * from libm.so.6 on first use instead of with the module.
 *
 * SQLite calls libm only for SQL's math functions (sin(), pow(), ...)
 * and FTS5's bm25() ranking, never on its own; yet a module that needs
 * libm.so.6 loads and relocates it on every dlopen(), about 0.15 ms of
 * a CGI run of some 1.6 ms (a CGI process loads the module once per
 * request).  These definitions satisfy the static libsqlite3's
 * references at link time (the Makefile links the module with -z defs
 * and without -lm), and each forwards to libm's own function, found
 * with dlsym() when a query first calls it.  The result is libm's,
 * bit for bit.  If libm.so.6 cannot be loaded (it is part of libc6, so
 * it always can), the function returns NaN, which SQLite turns into
 * NULL.
 *
 * Under the sandbox (sqlite profile) loading libm means openat() for
 * reading, fstat(), mmap() and mprotect(), which the profile allows.
 * Only the module is built from this file; lbauth never is.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

static void		*libm;
static pthread_once_t	 once = PTHREAD_ONCE_INIT;

static void
open_libm(void)
{

	libm = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
}

/*
 * libm's function name, cached in *slot (NULL: not found yet, so the
 * next call looks again).  Thread-safe.
 */
static void *
resolve(_Atomic(void *) *slot, const char *name)
{
	void	*p;

	if ((p = atomic_load_explicit(slot, memory_order_acquire)) != NULL)
		return p;
	pthread_once(&once, open_libm);
	if (libm != NULL && (p = dlsym(libm, name)) != NULL)
		atomic_store_explicit(slot, p, memory_order_release);
	return p;
}

typedef double	(*fn1)(double);
typedef double	(*fn2)(double, double);

#define MATH1(name)							\
double	name(double);							\
double									\
name(double x)								\
{									\
	static _Atomic(void *) slot;					\
	void	*p = resolve(&slot, #name);				\
	fn1	 f;							\
									\
	if (p == NULL)							\
		return __builtin_nan("");				\
	memcpy(&f, &p, sizeof(f));					\
	return f(x);							\
}

#define MATH2(name)							\
double	name(double, double);						\
double									\
name(double x, double y)						\
{									\
	static _Atomic(void *) slot;					\
	void	*p = resolve(&slot, #name);				\
	fn2	 f;							\
									\
	if (p == NULL)							\
		return __builtin_nan("");				\
	memcpy(&f, &p, sizeof(f));					\
	return f(x, y);							\
}

/* What Debian's libsqlite3.a (3.40) takes from libm. */
MATH1(acos)
MATH1(acosh)
MATH1(asin)
MATH1(asinh)
MATH1(atan)
MATH1(atanh)
MATH1(cos)
MATH1(cosh)
MATH1(exp)
MATH1(log)
MATH1(sin)
MATH1(sinh)
MATH1(sqrt)
MATH1(tan)
MATH1(tanh)
MATH1(trunc)
MATH2(atan2)
MATH2(fmod)
MATH2(pow)
