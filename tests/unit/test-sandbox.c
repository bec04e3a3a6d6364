/*
 * test-sandbox.c: the worker's seccomp profiles, installed for real in
 * forked children (cgi/sandbox.c, cgi/filter.h).
 *
 * What a confined worker may not do kills it with SIGSYS; but abort()
 * (an assertion, libsodium's misuse handler) must still end it with
 * SIGABRT, so that the master's log, a core file and a debugger say
 * "aborted" instead of "broke the sandbox".  glibc's abort() raises
 * SIGABRT with tgkill(2), which the strict and files profiles allow for
 * that signal only.
 *
 * Skipped, saying so, where the sandbox is compiled out (sanitizer
 * builds, no libseccomp) and under valgrind, whose own system calls a
 * filter would kill.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../test.h"
#include "../../cgi/sandbox.h"

enum act { ABORT, SOCKET, TGKILL_TERM };

/*
 * Forks a child that enters profile and then does act; returns the
 * signal that ended it, 0 if it exited, -1 if the sandbox refused.
 */
static int
run(enum lbauth_confine profile, enum act act)
{
	struct rlimit	 nocore = { 0, 0 };
	char		 err[256];
	pid_t		 pid;
	int		 st;

	if ((pid = fork()) == -1)
		return -2;
	if (pid == 0) {
		setrlimit(RLIMIT_CORE, &nocore);
		if (sandbox_enter(profile, err, sizeof(err)) == -1)
			_exit(99);
		switch (act) {
		case ABORT:
			abort();
		case SOCKET:
			(void)socket(AF_INET, SOCK_STREAM, 0);
			break;
		case TGKILL_TERM:
			(void)syscall(SYS_tgkill, getpid(), gettid(), SIGTERM);
			break;
		}
		_exit(0);
	}
	if (waitpid(pid, &st, 0) == -1)
		return -2;
	if (WIFEXITED(st))
		return WEXITSTATUS(st) == 99 ? -1 : 0;
	return WTERMSIG(st);
}

int
main(void)
{
	static const enum lbauth_confine profiles[] = {
		LBAUTH_CONFINE_STRICT, LBAUTH_CONFINE_FILES,
		LBAUTH_CONFINE_NETWORK
	};
	const char	*pre = getenv("LD_PRELOAD");
	size_t		 i;

	if (pre != NULL && strstr(pre, "vgpreload") != NULL) {
		puts("skipped: under valgrind, which a seccomp filter kills");
		return 0;
	}
	if (run(LBAUTH_CONFINE_STRICT, SOCKET) == 0) {
		puts("skipped: the sandbox is compiled out of this build");
		return 0;
	}
	for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		/* abort() ends a confined worker with SIGABRT, not SIGSYS. */
		test_assert_idx(run(profiles[i], ABORT) == SIGABRT, i);
	}
	/* The filter is there: a socket kills the strict and files ones, */
	test_assert(run(LBAUTH_CONFINE_STRICT, SOCKET) == SIGSYS);
	test_assert(run(LBAUTH_CONFINE_FILES, SOCKET) == SIGSYS);
	/* and tgkill(2) is allowed for SIGABRT only. */
	test_assert(run(LBAUTH_CONFINE_STRICT, TGKILL_TERM) == SIGSYS);
	test_assert(run(LBAUTH_CONFINE_FILES, TGKILL_TERM) == SIGSYS);
	return test_done();
}
