/*
 * dl.c: the symbols of a library loaded with dlopen().  The optional
 * libraries (libcurl, libcrypto and the SQL clients) are each loaded
 * only when the config needs them (upstream.c says why), and each
 * caller names the library (struct lbx_dl_lib) and the symbols it uses
 * (a table of {name, slot}); this is the one place that opens it, fills
 * the slots, names the first symbol missing and closes it again on
 * failure.  It calls nothing of lbauth's.
 *
 * A library may also come as lbauth's own module (lbx_dl_find_module):
 * the same functions, linked from the library's static archive so that
 * loading it binds almost no symbol (lbauth-sqlite.so: sql-sqlite.c
 * says why).
 */
#include <sys/stat.h>

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/*
 * Finds the module file name (lbauth's own build of a library, such as
 * lbauth-sqlite.so: Makefile) in the directory of the running program
 * (/proc/self/exe), else in LBAUTH_MODDIR (the install's lib/lbauth),
 * and writes its path to buf (bufsz bytes).  Returns 1 when found; 0
 * when there is none, and the caller loads the system's library
 * instead; -1 when one is there but its owner is neither root nor this
 * user, or it or its directory may be written by others (a module is
 * code this process runs), with the sentence in err.
 */
int
lbx_dl_find_module(const char *name, char *buf, size_t bufsz, char *err,
    size_t errsz)
{
	char		 self[PATH_MAX], *slash;
	const char	*dirs[2];
	struct stat	 st, dst;
	ssize_t		 n;
	size_t		 i, nd = 0;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			dirs[nd++] = self[0] != '\0' ? self : "/";
		}
	}
#ifdef LBAUTH_MODDIR
	dirs[nd++] = LBAUTH_MODDIR;
#endif
	for (i = 0; i < nd; i++) {
		if ((size_t)snprintf(buf, bufsz, "%s/%s", dirs[i], name) >=
		    bufsz || stat(buf, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		if (stat(dirs[i], &dst) == -1)
			continue;
		if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
		    (st.st_mode & 022) != 0 || ((dst.st_mode & 002) != 0 &&
		    (dst.st_mode & S_ISVTX) == 0)) {
			snprintf(err, errsz, "%s: refused: it must belong to "
			    "root or to this user and be writable by its owner "
			    "only, in a directory others cannot write (chmod "
			    "go-w it, or remove it to use the system's library)",
			    buf);
			return -1;
		}
		return 1;
	}
	return 0;
}
