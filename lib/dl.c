/*
 * dl.c: the symbols of a library loaded with dlopen().  The optional
 * libraries (libcurl, libcrypto and the SQL clients) are each loaded
 * only when the config needs them (upstream.c says why), and each
 * caller names the symbols it uses in a table of {name, slot}; this is
 * the one loop that fills the slots and names the first symbol missing.
 * It calls nothing of lbauth's.
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
