/*
 * mkfilter.c: writes cgi/filter.h, the two seccomp programs of the
 * worker sandbox (sandbox.c), compiled once at build time with
 * libseccomp.  At run time lbauth only hands the finished BPF to the
 * kernel: compiling the filter with libseccomp at every start cost a CGI
 * request about 0.25 ms (a third of a trivial C CGI program's whole
 * run), and linking libseccomp cost every exec more.
 *
 * The profiles (README "Security"):
 *
 *  - strict, for backend = local with the built-in policy: only what the
 *    accept loop (with its deadline timer), json-c, libsodium and malloc
 *    need.  Anything else --
 *    open, socket, connect, execve, fork -- kills the process.
 *
 *  - files, for backend = local with sql_driver = sqlite: strict, and
 *    what SQLite needs to (re)open the database file read-only after
 *    confinement: open and openat without a write flag (one with a
 *    write flag fails with EACCES, which SQLite takes in its stride, so
 *    a WAL-mode -shm file it would open read-write is not a crash), and
 *    the stat, access and readlink calls it makes on the path.
 *
 *  - network, for backend = liveblocks or a policy plugin: libcurl
 *    resolves names, connects, reads CA files and starts resolver
 *    threads, and a plugin may talk to a database, so the filter allows
 *    by default and kills the process on what an auth worker never does:
 *    execve, fork (clone without CLONE_THREAD), ptrace, opening a file
 *    for writing, changing files, owners, modes or credentials,
 *    mounting, loading modules or BPF.
 *
 * Threads: a backend = liveblocks worker runs request threads and an
 * upstream thread (clone with CLONE_THREAD, futex, eventfd, poll), and
 * libcurl starts resolver threads; the network profile allows all of
 * it, and sandbox.c installs it with TSYNC so that it covers every
 * thread.  The strict profile never meets a thread: backend = local
 * serves one request at a time, and a plugin gets the network profile.
 *
 * Usage: mkfilter > cgi/filter.h
 */
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "../lib/lbauth.h"

/* The system calls of the strict profile. */
static const char *const strict_calls[] = {
	"read", "readv", "write", "writev", "pread64", "pwrite64",
	"accept", "accept4", "poll", "ppoll", "select", "pselect6",
	/* Waiting for a connection (accept.c). */
	"epoll_create1", "epoll_ctl", "epoll_pwait",
	"close", "shutdown", "getsockopt", "getpeername", "getsockname",
	"recvfrom", "sendto", "recvmsg", "sendmsg",
	"getrandom",
	"brk", "mmap", "munmap", "mremap", "madvise", "mprotect", "mlock",
	"munlock",
	"futex", "sched_yield", "set_robust_list", "rseq",
	"clock_gettime", "clock_getres", "gettimeofday", "time",
	"nanosleep", "clock_nanosleep", "restart_syscall",
	/* The request deadline: a timer per thread (accept.c). */
	"timer_create", "timer_settime", "timer_delete",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending",
	"sigaltstack",
	"getpid", "gettid", "getuid", "geteuid", "getgid", "getegid",
	"fstat", "newfstatat", "lseek", "fcntl",
	/*
	 * glibc 2.36's qsort() asks sysinfo() for the memory size before
	 * sorting 1 KiB or more (jsonw.c sorts a cookie's info keys).
	 */
	"sysinfo",
	"exit", "exit_group",
};

/* What the files profile adds to the strict one. */
static const char *const file_calls[] = {
	"stat", "lstat", "statx", "access", "faccessat", "faccessat2",
	"readlink", "readlinkat", "getcwd", "flock",
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

/*
 * Builds the filter of profile into a new libseccomp context, stored in
 * *ctx_r.  Returns 0, or -1 after writing why into err.
 */
static int
build(enum lbauth_confine profile, scmp_filter_ctx *ctx_r, char *err,
    size_t errsz)
{
	scmp_filter_ctx	 ctx;
	size_t		 i;
	int		 rc = 0;
	const uint32_t	 kill = SCMP_ACT_KILL_PROCESS;
	static const scmp_datum_t wflags[] = {
		O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND
	};

	ctx = seccomp_init(profile == LBAUTH_CONFINE_NETWORK ? SCMP_ACT_ALLOW :
	    kill);
	if (ctx == NULL) {
		snprintf(err, errsz, "seccomp_init failed");
		return -1;
	}
	/*
	 * A binary tree of system call numbers instead of a list.  When the
	 * kernel installs a filter it runs it once for every system call
	 * number to build its allow cache, and a list walks all its rules
	 * for each number it does not allow: with the strict profile that
	 * was about 70 us of every CGI request's 1 ms.
	 */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (profile != LBAUTH_CONFINE_NETWORK) {
		for (i = 0; rc == 0 && i < sizeof(strict_calls) /
		    sizeof(strict_calls[0]); i++)
			rc = add(ctx, SCMP_ACT_ALLOW, strict_calls[i]);
		/*
		 * accept.c sets TCP_NODELAY on each connection it accepts
		 * from a TCP listener (--listen HOST:PORT); that option only.
		 */
		if (rc == 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    SCMP_SYS(setsockopt), 2, SCMP_A1(SCMP_CMP_EQ,
			    IPPROTO_TCP), SCMP_A2(SCMP_CMP_EQ, TCP_NODELAY));
		/*
		 * abort() (an assertion, libsodium's misuse handler) raises
		 * SIGABRT with tgkill: without this the filter killed it
		 * with SIGSYS first, and the log, the core and the debugger
		 * said "sandbox" where the truth was "aborted".  That signal
		 * only; the target cannot be pinned to ourselves at build
		 * time, and SIGABRT to another process of ours ends it as a
		 * crash would.
		 */
		if (rc == 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    SCMP_SYS(tgkill), 1, SCMP_A2(SCMP_CMP_EQ, SIGABRT));
	}
	if (profile == LBAUTH_CONFINE_FILES) {
		const scmp_datum_t w = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC |
		    O_APPEND;

		for (i = 0; rc == 0 && i < sizeof(file_calls) /
		    sizeof(file_calls[0]); i++)
			rc = add(ctx, SCMP_ACT_ALLOW, file_calls[i]);
		if (rc == 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    SCMP_SYS(openat), 1, SCMP_A2(SCMP_CMP_MASKED_EQ,
			    w, 0));
		if (rc == 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
			    SCMP_SYS(openat), 1, SCMP_A2(SCMP_CMP_MASKED_EQ,
			    w & ~(scmp_datum_t)O_CREAT, O_RDWR));
		if (rc == 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    SCMP_SYS(open), 1, SCMP_A1(SCMP_CMP_MASKED_EQ,
			    w, 0));
	}
	if (profile == LBAUTH_CONFINE_NETWORK) {
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
	if (rc != 0) {
		snprintf(err, errsz, "seccomp: %s", strerror(-rc));
		seccomp_release(ctx);
		return -1;
	}
	*ctx_r = ctx;
	return 0;
}

/* Writes profile's BPF program as the C array name. */
static int
emit(enum lbauth_confine profile, const char *name)
{
	scmp_filter_ctx	 ctx;
	unsigned char	 bpf[65536];
	char		 err[256];
	FILE		*tmp;
	size_t		 n, i;

	if (build(profile, &ctx, err, sizeof(err)) == -1) {
		fprintf(stderr, "mkfilter: %s\n", err);
		return -1;
	}
	if ((tmp = tmpfile()) == NULL ||
	    seccomp_export_bpf(ctx, fileno(tmp)) != 0) {
		fprintf(stderr, "mkfilter: cannot export the filter\n");
		seccomp_release(ctx);
		return -1;
	}
	seccomp_release(ctx);
	rewind(tmp);
	n = fread(bpf, 1, sizeof(bpf), tmp);
	fclose(tmp);
	if (n == 0 || n % 8 != 0 || n == sizeof(bpf)) {
		fprintf(stderr, "mkfilter: odd filter size %zu\n", n);
		return -1;
	}
	/* struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }, host order. */
	printf("static const struct sock_filter %s[] = {\n", name);
	for (i = 0; i < n; i += 8) {
		unsigned short code;
		unsigned int k;

		memcpy(&code, bpf + i, 2);
		memcpy(&k, bpf + i + 4, 4);
		printf("\t{ 0x%04x, %u, %u, 0x%08x },\n", code, bpf[i + 2],
		    bpf[i + 3], k);
	}
	printf("};\n\n");
	return 0;
}

int
main(void)
{

	printf("/* Generated by cgi/mkfilter at build time: do not edit. */\n\n");
	if (emit(LBAUTH_CONFINE_STRICT, "filter_strict") == -1 ||
	    emit(LBAUTH_CONFINE_NETWORK, "filter_network") == -1 ||
	    emit(LBAUTH_CONFINE_FILES, "filter_files") == -1)
		return 1;
	return fflush(stdout) == 0 ? 0 : 1;
}

