/*
 * test-dl.c: lib/dl.c, loading an optional library's symbols: every
 * slot filled, the first missing symbol named, a library that will not
 * open named by the caller's sentence, and the handle closed again on
 * either failure.  libm stands in for the optional libraries (it is
 * part of every glibc system, and nothing here links it).
 */
#include <dlfcn.h>
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"

static double	(*fn_cos)(double);
static double	(*fn_sqrt)(double);
static void	*fn_none;

int
main(void)
{
	static const struct lbx_dl_lib libm = {
		.soname = "libm.so.6",
		.flags = RTLD_NOW | RTLD_LOCAL,
		.name = "libm",
		.needs = "the test needs libm",
	};
	static const struct lbx_dl_lib absent = {
		.soname = "libnot-there.so.9",
		.flags = RTLD_NOW | RTLD_LOCAL,
		.name = "libnot-there",
		.needs = "the test needs libnot-there",
	};
	static const struct lbx_dl_sym good[] = {
		{ "cos", (void **)&fn_cos },
		{ "sqrt", (void **)&fn_sqrt },
	};
	static const struct lbx_dl_sym bad[] = {
		{ "cos", (void **)&fn_cos },
		{ "lbauth_no_such_symbol", &fn_none },
		{ "sqrt", (void **)&fn_sqrt },
	};
	char	 err[256];
	void	*dl = NULL, *kept;

	/* Every slot filled; a second open keeps the handle. */
	test_assert(lbx_dl_open(&libm, good, 2, &dl, err, sizeof(err)) == 0);
	test_assert(dl != NULL && fn_cos != NULL && fn_sqrt != NULL);
	test_assert(fn_sqrt != NULL && fn_sqrt(16.0) == 4.0);
	kept = dl;
	test_assert(lbx_dl_open(&libm, bad, 3, &dl, err, sizeof(err)) == 0);
	test_assert(dl == kept);
	test_assert(lbx_dl_syms(dl, "libm", bad, 3, err, sizeof(err)) == -1);
	test_assert(strcmp(err, "libm lacks lbauth_no_such_symbol") == 0);
	dlclose(dl);

	/* The first missing symbol is named, and the handle closed. */
	dl = NULL;
	err[0] = '\0';
	test_assert(lbx_dl_open(&libm, bad, 3, &dl, err, sizeof(err)) == -1);
	test_assert(dl == NULL);
	test_assert(strcmp(err, "libm lacks lbauth_no_such_symbol") == 0);

	/* A library that will not open: the caller's sentence, then why. */
	test_assert(lbx_dl_open(&absent, good, 2, &dl, err, sizeof(err)) ==
	    -1);
	test_assert(dl == NULL);
	test_assert(strncmp(err, "the test needs libnot-there: ",
	    strlen("the test needs libnot-there: ")) == 0);
	test_assert(strstr(err, "libnot-there.so.9") != NULL);
	return test_done();
}
