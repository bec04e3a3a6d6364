/*
 * sandbox.c: confining a worker with seccomp (Linux, libseccomp) once
 * its config, keys and policy are loaded, before it reads a request
 * (kcgi's sandbox-*.c do the same for its parsers).
 *
 * Two profiles (README "Sandbox"):
 *
 *  - strict, for backend = local with the built-in policy: only what the
 *    accept loop, json-c, libsodium and malloc need (accept, read,
 *    write, poll, close, shutdown, getrandom, memory, time, signals,
 *    exit).  Anything else -- open, socket, connect, execve, fork --
 *    kills the process.
 *
 *  - network, for backend = liveblocks or a policy plugin: libcurl
 *    resolves names, connects, reads CA files and starts resolver
 *    threads, and a plugin may talk to a database, so the filter allows
 *    by default and kills the process on what an auth worker never does:
 *    execve, fork (clone without CLONE_THREAD), ptrace, opening a file
 *    for writing, changing files, owners, modes or credentials,
 *    mounting, loading modules or BPF.
 *
 * A killed worker (SIGSYS) is replaced by the master (or by spawn-fcgi's
 * or mod_fcgid's process manager), so the endpoint keeps serving;
 * "sandbox = no" turns confinement off.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "sandbox.h"

#if defined(__linux__) && defined(HAVE_SECCOMP) && !defined(LBAUTH_SANITIZE)
#include <seccomp.h>

/* The system calls of the strict profile. */
static const char *const strict_calls[] = {
	"read", "readv", "write", "writev", "pread64", "pwrite64",
	"accept", "accept4", "poll", "ppoll", "select", "pselect6",
	"close", "shutdown", "getsockopt", "getpeername", "getsockname",
	"recvfrom", "sendto", "recvmsg", "sendmsg",
	"getrandom",
	"brk", "mmap", "munmap", "mremap", "madvise", "mprotect", "mlock",
	"munlock",
	"futex", "sched_yield", "set_robust_list", "rseq",
	"clock_gettime", "clock_getres", "gettimeofday", "time",
	"nanosleep", "clock_nanosleep", "restart_syscall",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
	"getpid", "gettid", "getuid", "geteuid", "getgid", "getegid",
	"fstat", "newfstatat", "lseek", "fcntl",
	"exit", "exit_group",
};

/* What kills a worker under the network profile. */
static const char *const never_calls[] = {
	"execve", "execveat", "fork", "vfork", "ptrace",
	"process_vm_readv", "process_vm_writev",
	"creat", "truncate", "unlink", "unlinkat", "rename", "renameat",
	"renameat2", "mkdir", "mkdirat", "rmdir", "link", "linkat",
	"symlink", "symlinkat", "mknod", "mknodat",
	"chmod", "fchmod", "fchmodat", "chown", "fchown", "lchown",
	"fchownat", "utimensat", "utimes",
	"setuid", "setgid", "setreuid", "setregid", "setresuid",
	"setresgid", "setgroups", "setfsuid", "setfsgid", "capset",
	"chroot", "pivot_root", "mount", "umount2", "unshare", "setns",
	"init_module", "finit_module", "delete_module", "kexec_load",
	"kexec_file_load", "reboot", "swapon", "swapoff", "bpf",
	"perf_event_open", "userfaultfd", "personality", "acct",
	"settimeofday", "clock_settime", "adjtimex", "sethostname",
	"setdomainname", "iopl", "ioperm",
};

static int
add(scmp_filter_ctx ctx, uint32_t action, const char *name)
{
	int	 nr;

	/* A name this kernel/architecture lacks is no hole: skip it. */
	if ((nr = seccomp_syscall_resolve_name(name)) == __NR_SCMP_ERROR)
		return 0;
	return seccomp_rule_add(ctx, action, nr, 0);
}

/* See sandbox.h. */
int
sandbox_enter(enum lbauth_confine profile, char *err, size_t errsz)
{
	scmp_filter_ctx	 ctx;
	size_t		 i;
	int		 rc = 0;
	const uint32_t	 kill = SCMP_ACT_KILL_PROCESS;
	static const scmp_datum_t wflags[] = {
		O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND
	};

	if (profile == LBAUTH_CONFINE_OFF)
		return 0;
	ctx = seccomp_init(profile == LBAUTH_CONFINE_STRICT ? kill : SCMP_ACT_ALLOW);
	if (ctx == NULL) {
		snprintf(err, errsz, "seccomp_init failed");
		return -1;
	}
	if (profile == LBAUTH_CONFINE_STRICT) {
		for (i = 0; rc == 0 && i < sizeof(strict_calls) /
		    sizeof(strict_calls[0]); i++)
			rc = add(ctx, SCMP_ACT_ALLOW, strict_calls[i]);
	} else {
		for (i = 0; rc == 0 && i < sizeof(never_calls) /
		    sizeof(never_calls[0]); i++)
			rc = add(ctx, kill, never_calls[i]);
		/* Threads yes (libcurl's resolver), processes no. */
		if (rc == 0)
			rc = seccomp_rule_add(ctx, kill, SCMP_SYS(clone), 1,
			    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
		/* clone3 hides its flags; glibc falls back to clone. */
		if (rc == 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
			    SCMP_SYS(clone3), 0);
		/* Files are opened for reading only (CA bundle, hosts). */
		for (i = 0; rc == 0 && i < sizeof(wflags) / sizeof(wflags[0]);
		    i++) {
			rc = seccomp_rule_add(ctx, kill, SCMP_SYS(openat), 1,
			    SCMP_A2(SCMP_CMP_MASKED_EQ, wflags[i], wflags[i]));
			if (rc == 0)
				rc = seccomp_rule_add(ctx, kill, SCMP_SYS(open),
				    1, SCMP_A1(SCMP_CMP_MASKED_EQ, wflags[i],
				    wflags[i]));
		}
	}
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0) {
		snprintf(err, errsz, "seccomp: %s", strerror(-rc));
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
