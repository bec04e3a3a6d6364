/*
 * dl.c: the symbols of a library loaded with dlopen().  The optional
 * libraries (libcurl, libcrypto and the SQL clients) are each loaded
 * only when the config needs them (upstream.c says why), and each
 * caller names the library (struct lbx_dl_lib) and the symbols it uses
 * (a table of {name, slot}); this is the one place that opens it, fills
 * the slots, names the first symbol missing and closes it again on
 * failure.  It calls nothing of lbauth's.
 */
#include <dlfcn.h>
#include <stdio.h>

#include "extern.h"

/*
 * Looks up each of the n symbols of syms in the handle dl and stores it
 * in its slot (a function pointer's storage, written as POSIX dlsym(3)
 * allows).  Returns 0, or -1 at the first symbol dl lacks, with "lib
 * lacks name" in err; slots already filled stay filled, and dl stays
 * open (the caller's to close).
 */
int
lbx_dl_syms(void *dl, const char *lib, const struct lbx_dl_sym *syms,
    size_t n, char *err, size_t errsz)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if ((*syms[i].slot = dlsym(dl, syms[i].name)) == NULL) {
			snprintf(err, errsz, "%s lacks %s", lib, syms[i].name);
			return -1;
		}
	return 0;
}

/*
 * Opens lib once per handle: when *dl_r is set already, does nothing
 * and returns 0.  Else dlopen()s lib->soname with lib->flags into *dl_r
 * and fills syms (n of them) from it.  Returns 0, or -1 with "needs:
 * dlerror()" or "name lacks symbol" in err, and *dl_r closed and NULL.
 */
int
lbx_dl_open(const struct lbx_dl_lib *lib, const struct lbx_dl_sym *syms,
    size_t n, void **dl_r, char *err, size_t errsz)
{

	if (*dl_r != NULL)
		return 0;
	if ((*dl_r = dlopen(lib->soname, lib->flags)) == NULL) {
		snprintf(err, errsz, "%s: %s", lib->needs, dlerror());
		return -1;
	}
	if (lbx_dl_syms(*dl_r, lib->name, syms, n, err, errsz) == -1) {
		dlclose(*dl_r);
		*dl_r = NULL;
		return -1;
	}
	return 0;
}
