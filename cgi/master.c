/*
 * master.c: the optional supervisor of "lbauth --workers N" (php-fpm
 * style).  Once lbauth.c has the listening socket on fd 0 (listen.c
 * binds it, or takes systemd's, and drops privileges) and the config is
 * loaded, the master preforks N workers running the accept loop, and
 * then only watches them:
 *
 *	a worker dies		 -> another is forked in its place (with a
 *				    pause when workers die right after
 *				    start, so a crash loop does not spin)
 *	SIGHUP			 -> the config and keys are loaded again; on
 *				    success a new generation of workers is
 *				    forked and the old one told to finish its
 *				    requests and exit; on failure the reason
 *				    is logged and the old workers go on
 *	SIGTERM, SIGINT		 -> workers finish their requests and exit;
 *				    the unix socket is removed
 *
 * Workers are told to stop with SIGTERM, which ends their accept loop
 * between requests (accept.c).  The listening socket is
 * shared: the kernel hands each connection to one idle worker.  The
 * master never accepts and never parses requests.
 *
 * Kept deliberately small (fcgiwrap's prefork bugs are the caution);
 * each fault it claims to survive has a test in tests/integ/.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "master.h"

#define MAX_WORKERS	256

static volatile sig_atomic_t	 got_chld, got_hup, got_term;

static void
on_signal(int sig)
{

	if (sig == SIGCHLD)
		got_chld = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

struct worker {
	pid_t	 pid;		/* 0: free slot */
	int	 gen;		/* generation: bumped by each reload */
	time_t	 started;
};

static struct worker	 workers[MAX_WORKERS];

/* Forks one worker of generation gen running run(app) in slot i. */
static void
spawn(int i, int gen, struct lbauth_app *app, master_worker_fn run)
{
	pid_t		 pid;
	sigset_t	 none;

	if ((pid = fork()) == -1) {
		fprintf(stderr, "lbauth: fork: %s\n", strerror(errno));
		return;
	}
	if (pid == 0) {
		signal(SIGHUP, SIG_IGN);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_IGN);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		_exit(run(app));
	}
	workers[i].pid = pid;
	workers[i].gen = gen;
	workers[i].started = time(NULL);
}

/* Sends sig to every worker of generation gen (-1: all). */
static void
signal_gen(int gen, int sig)
{
	int	 i;

	for (i = 0; i < MAX_WORKERS; i++)
		if (workers[i].pid > 0 && (gen == -1 || workers[i].gen == gen))
			kill(workers[i].pid, sig);
}

static int
alive(void)
{
	int	 i, n = 0;

	for (i = 0; i < MAX_WORKERS; i++)
		n += workers[i].pid > 0;
	return n;
}

/*
 * Forks workers of generation gen into free slots until n of them run
 * (fewer if a fork fails; the next reap tries again).  A reload forks
 * the new generation while the old one still holds its slots: with
 * --workers near MAX_WORKERS, the rest come as old workers exit.
 */
static void
top_up(int gen, int n, struct lbauth_app *app, master_worker_fn run)
{
	int	 i, have = 0;

	for (i = 0; i < MAX_WORKERS; i++)
		have += workers[i].pid > 0 && workers[i].gen == gen;
	for (i = 0; i < MAX_WORKERS && have < n; i++) {
		if (workers[i].pid != 0)
			continue;
		spawn(i, gen, app, run);
		if (workers[i].pid == 0)
			break;		/* fork failed: not now */
		have++;
	}
}

/*
 * Reaps dead workers; unless stopping, brings generation gen back to n
 * workers.  Returns how many of gen died.
 */
static int
reap(int gen, int n, bool stopping, struct lbauth_app *app,
    master_worker_fn run)
{
	pid_t	 pid;
	int	 st, i, died = 0;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < MAX_WORKERS && workers[i].pid != pid; i++)
			continue;
		if (i == MAX_WORKERS)
			continue;
		workers[i].pid = 0;
		if (stopping || workers[i].gen != gen)
			continue;
		if (WIFSIGNALED(st))
			fprintf(stderr, "lbauth: worker %ld killed by signal "
			    "%d; starting another\n", (long)pid,
			    WTERMSIG(st));
		else
			fprintf(stderr, "lbauth: worker %ld exited with %d; "
			    "starting another\n", (long)pid, WEXITSTATUS(st));
		/* Dying within a second of its start: pause, no spin. */
		if (died == 0 && time(NULL) - workers[i].started < 1)
			sleep(1);
		died++;
	}
	if (!stopping)
		top_up(gen, n, app, run);
	return died;
}

/* See master.h. */
int
master_run(const struct master_opts *o, struct lbauth_app *app,
    master_worker_fn run)
{
	struct sigaction	 sa;
	struct lbauth_app	*next;
	sigset_t		 block, old;
	char			 err[1024];
	int			 gen = 0, n = o->workers;
	time_t			 deadline;

	if (n < 1 || n > MAX_WORKERS) {
		fprintf(stderr, "lbauth: --workers must be 1 to %d\n",
		    MAX_WORKERS);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* Signals arrive only inside sigsuspend(): no lost wake-ups. */
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);

	top_up(gen, n, app, run);
	fprintf(stderr, "lbauth: master %ld serving with %d workers\n",
	    (long)getpid(), n);

	while (!got_term) {
		if (!got_chld && !got_hup)
			sigsuspend(&old);
		if (got_chld) {
			got_chld = 0;
			/*
			 * A SIGTERM to the whole process group reaches the
			 * workers too: do not replace them when it is ours.
			 */
			reap(gen, n, got_term != 0, app, run);
		}
		if (got_hup) {
			got_hup = 0;
			if (lbauth_app_new(o->config, &next, err, sizeof(err)) !=
			    LBAUTH_OK) {
				fprintf(stderr, "lbauth: reload refused, the "
				    "running workers go on: %s\n", err);
				continue;
			}
			lbauth_app_detach(next);	/* workers connect */
			/*
			 * The new generation starts before the old one is
			 * told to stop, so someone always accepts.  Slots of
			 * the old generation are reused once they are reaped
			 * (reap() tops the new one up to n).
			 */
			gen++;
			top_up(gen, n, next, run);
			signal_gen(gen - 1, SIGTERM);
			lbauth_app_free(app);
			app = next;
			fprintf(stderr, "lbauth: reloaded %s\n", o->config);
		}
	}

	/* Graceful stop: requests in flight finish; then SIGKILL. */
	signal_gen(-1, SIGTERM);
	/* The longest a request may still wait (lbauth_app_stop_grace). */
	deadline = time(NULL) + (time_t)lbauth_app_stop_grace(app);
	sigprocmask(SIG_SETMASK, &old, NULL);
	while (alive() > 0) {
		reap(gen, n, true, app, run);
		if (alive() == 0)
			break;
		if (time(NULL) >= deadline) {
			signal_gen(-1, SIGKILL);
			deadline = time(NULL) + 5;
		}
		usleep(20000);
	}
	listen_unlink(o->listen, &o->lid);
	lbauth_app_free(app);
	fprintf(stderr, "lbauth: master %ld stopped\n", (long)getpid());
	return 0;
}
