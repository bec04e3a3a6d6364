/*
 * lifecycle.c: a test policy plugin that reports its life cycle and
 * checks lbauth's promises about threads (tests/integ/concurrency.test.mjs).
 *
 *  - init, worker_init, worker_fini and fini each write one line
 *    "lifecycle: <hook> pid=<pid>" to stderr (lbauth's log), so that a
 *    test sees which process ran which hook.
 *  - It declares LBAUTH_POLICY_SERIAL, and its decide checks that it
 *    really is never entered by two threads at once: it holds each call
 *    for 10 ms and returns an error (a 500) if another call came in
 *    meanwhile.  Otherwise it grants FULL_ACCESS on the room asked for.
 *  - policy_arg "exec-thread": worker_init starts a thread that waits
 *    until a request asks for room "exec:now" and then calls execve().
 *    The sandbox must cover that thread too (it was started before the
 *    sandbox), so the worker is killed and the request never answered.
 *  - policy_arg "fail-worker-init": worker_init fails, so every worker
 *    exits at once (the master's crash-loop pause).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/lbauth.h"

struct lifecycle {
	int		 exec_thread;
	int		 fail_worker;
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 go;
	int		 fire;
};

static atomic_int	 inside;

static void
say(const char *hook)
{
	char	 line[64];
	int	 n;

	n = snprintf(line, sizeof(line), "lifecycle: %s pid=%ld\n", hook,
	    (long)getpid());
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

static int
lc_init(const char *arg, void **ctx_r, char *err, size_t errsz)
{
	struct lifecycle	*lc;

	if ((lc = calloc(1, sizeof(*lc))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	lc->exec_thread = arg != NULL && strcmp(arg, "exec-thread") == 0;
	lc->fail_worker = arg != NULL && strcmp(arg, "fail-worker-init") == 0;
	*ctx_r = lc;
	say("init");
	return 0;
}

static void *
exec_later(void *arg)
{
	struct lifecycle	*lc = arg;
	char *const		 argv[] = { "true", NULL };

	pthread_mutex_lock(&lc->lock);
	while (!lc->fire)
		pthread_cond_wait(&lc->go, &lc->lock);
	pthread_mutex_unlock(&lc->lock);
	execve("/bin/true", argv, argv + 1);
	say("execve-returned");
	return NULL;
}

static int
lc_worker_init(void *ctx, char *err, size_t errsz)
{
	struct lifecycle	*lc = ctx;

	say("worker_init");
	if (lc->fail_worker) {
		snprintf(err, errsz, "asked to fail");
		return -1;
	}
	if (!lc->exec_thread)
		return 0;
	pthread_mutex_init(&lc->lock, NULL);
	pthread_cond_init(&lc->go, NULL);
	if (pthread_create(&lc->thread, NULL, exec_later, lc) != 0) {
		snprintf(err, errsz, "no thread");
		return -1;
	}
	pthread_detach(lc->thread);
	return 0;
}

static enum lbauth_decision
lc_decide(void *ctx, const struct lbauth_request *req,
    const struct lbauth_user *user, struct lbauth_session *session)
{
	struct lifecycle	*lc = ctx;
	const char		*room = lbauth_request_room(req);
	struct timespec		 ts = { 0, 10 * 1000 * 1000 };
	int			 overlap;

	if (lc->exec_thread && room != NULL && strcmp(room, "exec:now") == 0) {
		pthread_mutex_lock(&lc->lock);
		lc->fire = 1;
		pthread_cond_signal(&lc->go);
		pthread_mutex_unlock(&lc->lock);
		sleep(5);	/* the process is killed meanwhile */
		return LBAUTH_DECISION_ERROR;
	}
	overlap = atomic_fetch_add(&inside, 1) != 0;
	nanosleep(&ts, NULL);
	overlap |= atomic_fetch_sub(&inside, 1) != 1;
	if (overlap) {
		say("overlap");
		return LBAUTH_DECISION_ERROR;
	}
	if (room == NULL)
		return LBAUTH_DECISION_DENY;
	return lbauth_session_allow(session, room, lbauth_full_access) ==
	    LBAUTH_OK ? LBAUTH_DECISION_ALLOW : LBAUTH_DECISION_ERROR;
}

static void
lc_worker_fini(void *ctx)
{

	say("worker_fini");
}

static void
lc_fini(void *ctx)
{

	say("fini");
	free(ctx);
}

LBAUTH_API const struct lbauth_policy_ops lbauth_policy_module = {
	.abi = LBAUTH_POLICY_ABI,
	.name = "lifecycle",
	.flags = LBAUTH_POLICY_SERIAL,
	.init = lc_init,
	.worker_init = lc_worker_init,
	.decide = lc_decide,
	.worker_fini = lc_worker_fini,
	.fini = lc_fini,
};
