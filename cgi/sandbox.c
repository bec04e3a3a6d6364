/*
 * sandbox.c: confining a worker with seccomp (Linux) once its config,
 * keys and policy are loaded, before it reads a request (kcgi's
 * sandbox-*.c do the same for its parsers).
 *
 * The two profiles, strict and network, are described and built in
 * mkfilter.c, which compiles them with libseccomp at build time into
 * cgi/filter.h; here the finished BPF program is handed to the kernel
 * (about 10 microseconds instead of 250 for compiling it at each start,
 * which a CGI run would pay on every request).
 *
 * A worker killed by the filter (SIGSYS) is replaced by the master (or
 * by spawn-fcgi's or mod_fcgid's process manager), so the endpoint
 * keeps serving; "sandbox = no" turns confinement off.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sandbox.h"

#if defined(__linux__) && defined(HAVE_SECCOMP) && !defined(LBAUTH_SANITIZE)
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <dirent.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "filter.h"

/* Whether the process has one thread (/proc/self/task); false if unknown. */
static int
single_threaded(void)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	if ((d = opendir("/proc/self/task")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n == 1;
}

/* See sandbox.h. */
int
sandbox_enter(enum lbauth_confine profile, char *err, size_t errsz)
{
	struct sock_fprog	 prog;
	long			 rc;

	switch (profile) {
	case LBAUTH_CONFINE_OFF:
		return 0;
	case LBAUTH_CONFINE_STRICT:
		prog.filter = (struct sock_filter *)filter_strict;
		prog.len = sizeof(filter_strict) / sizeof(filter_strict[0]);
		break;
	default:
		prog.filter = (struct sock_filter *)filter_network;
		prog.len = sizeof(filter_network) / sizeof(filter_network[0]);
		break;
	}
	/*
	 * NO_NEW_PRIVS: required to install a filter without
	 * CAP_SYS_ADMIN.  TSYNC: the filter covers every thread of the
	 * process at once (the upstream thread, a plugin's threads), not
	 * only the caller; threads started later inherit it.  seccomp(2)
	 * returns a thread id when some thread could not be synchronized.
	 */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errsz, "seccomp: %s", strerror(errno));
		return -1;
	}
	rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	    SECCOMP_FILTER_FLAG_TSYNC, &prog);
	/*
	 * seccomp(2) itself may be refused by an outer filter (systemd's
	 * SystemCallFilter=@system-service does, with EPERM).  prctl()
	 * confines the calling thread only: good enough when it is the only
	 * one, which is the case but for a plugin's own threads (lbauth.c
	 * starts its threads once confined).
	 */
	if (rc == -1 && (errno == EPERM || errno == ENOSYS ||
	    errno == EACCES) && single_threaded())
		rc = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
	if (rc != 0) {
		if (rc > 0)
			snprintf(err, errsz, "seccomp: thread %ld could not "
			    "be confined", rc);
		else if (errno == EPERM || errno == ENOSYS || errno == EACCES)
			snprintf(err, errsz, "seccomp: %s, and other threads "
			    "run already (allow the seccomp system call, or set "
			    "sandbox = no)", strerror(errno));
		else
			snprintf(err, errsz, "seccomp: %s", strerror(errno));
		return -1;
	}
	return 0;
}

#elif defined(LBAUTH_SANITIZE)

/*
 * Sanitizer builds (make SANITIZE=1) run unconfined: AddressSanitizer
 * and LeakSanitizer read /proc, and LeakSanitizer stops the world with
 * ptrace at exit, which both profiles forbid.  Never deploy one.
 */
int
sandbox_enter(enum lbauth_confine profile, char *err, size_t errsz)
{

	(void)profile;
	(void)err;
	(void)errsz;
	return 0;
}

#else /* !__linux__ || !HAVE_SECCOMP */

/* See sandbox.h.  Without seccomp, a profile other than off is refused. */
int
sandbox_enter(enum lbauth_confine profile, char *err, size_t errsz)
{

	if (profile == LBAUTH_CONFINE_OFF)
		return 0;
	snprintf(err, errsz, "this lbauth was built without seccomp; set "
	    "sandbox = no");
	return -1;
}

#endif
