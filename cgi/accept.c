/*
 * accept.c: waiting for the next FastCGI connection without libfcgi's
 * signal handling.
 *
 * libfcgi stops its accept loop through a flag that its SIGTERM and
 * SIGUSR1 handlers set (FCGX_ShutdownPending).  In libfcgi 2.4.2, when
 * the signal interrupts the poll() in which OS_Accept waits for an
 * accepted unix-socket connection's first bytes, OS_Accept closes that
 * connection and loops with the closed descriptor: it then polls and
 * closes it forever, at 100% CPU, and the worker never exits.  It
 * happens whenever a stop or reload meets a connection that nginx has
 * opened but not yet written to: under load, often.  Its accept() also
 * has a window in which the signal is missed and the worker blocks
 * until the next connection.
 *
 * So the stop signals never reach libfcgi: they are blocked all the
 * time except inside ppoll(), which waits for the listening socket to
 * become readable and unblocks them atomically (no lost wake-up).  A
 * signal sets `stopping' and ends the wait; a request that has begun is
 * always served to its end.  The listening socket is non-blocking, so
 * when several workers wake for one connection the losers' accept()
 * fails with EAGAIN and they wait again, instead of blocking in
 * accept() where a signal could not reach them.  Connections accepted
 * from it stay blocking (Linux accept() does not inherit O_NONBLOCK).
 *
 * Threads (backend = liveblocks runs several request threads per
 * worker, each waiting here on its own FCGX_Request): the signals are
 * blocked by accept_init() before any thread exists, so every thread
 * inherits the mask and the analysis above holds per thread; the
 * kernel delivers a process-directed signal to a thread whose ppoll()
 * has it unblocked, and only to such a thread.  The handler also
 * writes to an eventfd that is in every thread's ppoll() set and is
 * never read, so one signal wakes every waiting thread, and a thread
 * that comes back to wait later sees it at once.
 *
 * One thread of a process waits at a time (accept_mu, as Apache's
 * accept mutex; held for the wait, not the accept: accept_next()): a
 * connection wakes every thread that polls the listening socket, and
 * all but one then find nothing to accept.  With
 * four request threads in each of two workers that was eight wake-ups
 * for one connection, most of lbauth's CPU per request with PostgreSQL
 * on the same two cores (a context switch per wake-up, and a costly
 * inter-processor interrupt on a virtual machine).  The others wait on
 * the mutex, which hands over to one of them; a signal that comes while
 * no thread is in ppoll() stays pending until the next one is, and then
 * ends its wait as before.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accept.h"

/* Atomic, not volatile sig_atomic_t: threads other than the signal's read it. */
static atomic_int		 stopping;
static sigset_t			 waitmask;	/* mask while in ppoll() */
static sigset_t			 stopsigs;	/* the stop signals caught */
static int			 stopfd = -1;	/* eventfd: readable once stopping */
static pthread_mutex_t		 accept_mu = PTHREAD_MUTEX_INITIALIZER;

/* See accept.h.  Async-signal-safe: the signal handler. */
void
accept_stop(void)
{
	uint64_t	 one = 1;
	int		 saved = errno;
	ssize_t		 n;

	atomic_store(&stopping, 1);
	if (stopfd != -1)
		n = write(stopfd, &one, sizeof(one));
	(void)n;
	errno = saved;
}

static void
on_stop(int sig)
{

	(void)sig;
	accept_stop();
}

/* See accept.h. */
int
accept_init(int lfd)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGUSR1 };
	struct sigaction	 sa, old;
	sigset_t		 block;
	size_t			 i;
	int			 fl;

	if (stopfd == -1 &&
	    (stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		/* An ignored signal stays ignored (the master's workers
		 * ignore SIGINT, as do background jobs). */
		if (sigaction(sigs[i], NULL, &old) == -1)
			return -1;
		if (old.sa_handler == SIG_IGN)
			continue;
		if (sigaction(sigs[i], &sa, NULL) == -1)
			return -1;
		sigaddset(&block, sigs[i]);
	}
	if (sigprocmask(SIG_BLOCK, &block, &waitmask) == -1)
		return -1;
	stopsigs = block;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigismember(&block, sigs[i]))
			sigdelset(&waitmask, sigs[i]);
	if ((fl = fcntl(lfd, F_GETFL)) == -1 ||
	    fcntl(lfd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	return 0;
}

/*
 * Whether a stop signal is pending.  ppoll() delivers a pending signal
 * only when nothing is ready: with connections waiting in the backlog
 * it returns them, and the signal stays pending (blocked again) however
 * long the backlog lasts.  Under steady load a worker then never saw its
 * stop until the master killed it; with silent connections waiting, it
 * took each in turn until its deadline.
 */
static bool
stop_pending(void)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGUSR1 };
	sigset_t		 p;
	size_t			 i;

	if (sigpending(&p) == -1)
		return false;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigismember(&stopsigs, sigs[i]) == 1 &&
		    sigismember(&p, sigs[i]) == 1)
			return true;
	return false;
}

/*
 * accept_next() for the thread that holds accept_mu: waits until the
 * listening socket lfd is readable (1) or a stop (0); -1 on an error.
 */
static int
wait_ready(int lfd)
{
	struct pollfd	 pfd[2];

	pfd[0].fd = lfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = stopfd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (atomic_load(&stopping))
			return 0;
		pfd[0].revents = pfd[1].revents = 0;
		if (ppoll(pfd, 2, NULL, &waitmask) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (atomic_load(&stopping) || pfd[1].revents != 0)
			return 0;
		if (pfd[0].revents != 0) {
			if (!stop_pending())
				return 1;
			accept_stop();	/* every thread, as the handler would */
			return 0;
		}
	}
}

/*
 * Logs accept()'s error e (at most once every 10 s, from any thread)
 * and sleeps 100 ms, or less if a stop comes.
 */
static void
pause_after(int e)
{
	static atomic_long	 last;
	struct pollfd		 pfd;
	struct timespec		 now;
	long			 prev;

	clock_gettime(CLOCK_MONOTONIC, &now);
	prev = atomic_load(&last);
	if ((prev == 0 || now.tv_sec - prev >= 10) &&
	    atomic_compare_exchange_strong(&last, &prev, (long)now.tv_sec))
		fprintf(stderr, "lbauth: accept: %s: waiting for requests in "
		    "flight to end\n", strerror(e));
	pfd.fd = stopfd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	(void)ppoll(&pfd, 1, &(struct timespec){ 0, 100000000L }, &waitmask);
}

/*
 * See accept.h.  accept_mu is held for the wait only.  FCGX_Accept_r()
 * reads the new connection's first records with blocking reads (and
 * waits up to 2 s for a unix connection's first byte), so a peer that
 * connects and stalls holds the thread that accepted it: had that
 * thread kept accept_mu, every other thread of the worker would have
 * waited behind it, and no thread would have been left in ppoll() to
 * take a stop signal.  The cost: the next thread may find the socket
 * still readable before this one has accepted, and then try once for
 * nothing (EAGAIN) and wait again.
 */
int
accept_next(FCGX_Request *rq)
{
	int	 rc;

	for (;;) {
		pthread_mutex_lock(&accept_mu);
		rc = wait_ready(rq->listen_sock);
		pthread_mutex_unlock(&accept_mu);
		if (rc != 1)
			return rc;
		if ((rc = FCGX_Accept_r(rq)) >= 0)
			return 1;
		/*
		 * Another thread or worker took the connection, or it was
		 * gone (libfcgi also drops a unix connection that sends
		 * nothing for 2 s): wait again.
		 */
		if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR ||
		    rc == -ECONNABORTED)
			continue;
		/*
		 * Out of descriptors or memory for now (each request in
		 * flight holds some): the connection waits in the backlog
		 * while requests end.  Not a reason to stop the worker, nor
		 * to try again at once at full CPU.
		 */
		if (rc == -EMFILE || rc == -ENFILE || rc == -ENOBUFS ||
		    rc == -ENOMEM) {
			pause_after(-rc);
			continue;
		}
		errno = rc > -4096 ? -rc : EIO;	/* -9999: no errno */
		return -1;
	}
}
