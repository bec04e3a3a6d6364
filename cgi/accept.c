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
 * time except inside epoll_pwait(), which waits for the listening socket
 * to become readable and unblocks them atomically (no lost wake-up).  A
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
 * kernel delivers a process-directed signal to a thread whose
 * epoll_pwait() has it unblocked, and only to such a thread.  The handler
 * also writes to an eventfd that is in every thread's epoll set and is
 * never read, so one signal wakes every waiting thread, and a thread
 * that comes back to wait later sees it at once.
 *
 * One wake-up per connection.  A connection wakes every thread that
 * poll()s the listening socket, and all but one then find nothing to
 * accept: with four request threads in each of two workers that was
 * eight wake-ups for one connection, most of lbauth's CPU per request
 * with PostgreSQL on the same two cores (a context switch per wake-up,
 * and a costly inter-processor interrupt on a virtual machine).  So each
 * thread waits in epoll_pwait() on an epoll instance of its own that
 * holds the listening socket with EPOLLEXCLUSIVE (Linux 4.5) and the
 * stop eventfd without it: the kernel wakes one waiting thread, of any
 * worker, per connection, and every thread for a stop.  epoll_pwait()
 * unblocks the stop signals atomically as ppoll() does, and as ppoll()
 * it returns a ready socket rather than deliver a pending signal
 * (stop_pending()); a signal that comes while no thread waits stays
 * pending until one does, and then ends its wait.  This replaced an
 * accept mutex (one thread of the process in ppoll() at a time, as
 * Apache's), whose hand-over to the next thread was a second wake-up
 * per connection, and which let every worker's waiting thread wake:
 * PostgreSQL on the same two cores, 1.20 x the requests/s (4 pairs of
 * 10 s runs).  A thread whose epoll instance cannot be made (a kernel
 * before 4.5) stops its worker, saying why.
 *
 * The request deadline.  libfcgi reads a connection's records with
 * blocking reads: a peer that connects and then sends part of a request
 * (one byte, or a byte a second) held the thread that accepted it for
 * as long as it liked, and a serial worker with it; libfcgi's own guard,
 * 2 s for a unix connection's first byte, ended at that byte, and TCP
 * had none.  So lbauth accepts the connection itself and gives it
 * request_timeout_ms, from accept to the end of its input: a POSIX timer
 * of the accepting thread (SIGEV_THREAD_ID) sends that thread SIGALRM at
 * the deadline and then every 20 ms until accept_done(); the handler does
 * nothing and is installed without SA_RESTART, so each blocking read or
 * poll of the thread fails with EINTR, libfcgi takes that as a broken
 * connection, and the thread closes it and goes on.  A signal only
 * interrupts; no descriptor is touched from the handler (one closed and
 * reused by another thread in between would be the wrong one).  The
 * accepted descriptor is handed to libfcgi as a kept connection (ipcFd
 * with keepConnection), and listen_sock is -1 during FCGX_Accept_r(), so
 * that libfcgi, when the connection fails before its request is read,
 * cannot accept another one itself (its retry loop would, and that one
 * would then meet the signals meant for the first): its accept() of -1
 * fails with EBADF, and accept_next() waits again.  The web server
 * writes a request at once, so the deadline only ever meets a peer that
 * stalls.  It ends when the request's input has been read (accept_done(),
 * from serve.c), not when the answer is written: work that waits on a
 * database or the API has its own bounds and is never interrupted.
 *
 * A stop with connections waiting (stop_pending(), drain_left()): what
 * is in the backlog is taken for DRAIN_MS more, each with only what is
 * left of that to send its request, and then the worker stops.
 *
 * FCGI_WEB_SERVER_ADDRS: libfcgi's list of the web servers' addresses
 * that may connect over TCP is kept (its accept no longer runs), and
 * checked for IPv6 peers too, which libfcgi let through.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/extern.h"
#include "accept.h"

/* Atomic, not volatile sig_atomic_t: threads other than the signal's read it. */
static atomic_int		 stopping;
static sigset_t			 waitmask;	/* mask while waiting */
static sigset_t			 stopsigs;	/* the stop signals caught */
static int			 stopfd = -1;	/* eventfd: readable once stopping */
/*
 * The calling thread's epoll instance (thread_ep()), -1 until made; it
 * lasts as long as the thread, which waits here until its process ends.
 */
static _Thread_local int	 ep = -1;
static long			 deadline_ms = 5000;	/* accept_init() */
#define DRAIN_MS		 200	/* drain_left() */

/* FCGI_WEB_SERVER_ADDRS, parsed: IPv6 or IPv4-mapped addresses. */
static struct in6_addr		*peers;
static size_t			 npeers;

/* The calling thread's deadline timer (accept_next()). */
#ifndef sigev_notify_thread_id	/* glibc before 2.41 */
#define sigev_notify_thread_id	 _sigev_un._tid
#endif
#define LATE_EVERY_NS		 20000000L	/* 20 ms after the deadline */
static _Thread_local timer_t	 timer;
static _Thread_local int	 timer_state;	/* 0 none, 1 made, -1 failed */
static _Thread_local bool	 armed;
static _Thread_local volatile sig_atomic_t late; /* the deadline passed */

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

/* SIGALRM from the deadline timer: only there to interrupt (see above). */
static void
on_late(int sig)
{

	(void)sig;
	late = 1;
}

/*
 * Parses FCGI_WEB_SERVER_ADDRS (list: comma-separated IPv4 or IPv6
 * addresses, blanks around each allowed) into peers; NULL or empty: any
 * peer.  Returns 0, or -1 after printing the entry that is not an
 * address (a list that silently let everyone in would be worse than no
 * start), with errno set.
 */
static int
peers_parse(const char *list)
{
	const char	*p, *e;
	char		 one[INET6_ADDRSTRLEN];
	struct in_addr	 a4;
	size_t		 n, len;

	if (list == NULL || *list == '\0')
		return 0;
	for (n = 1, p = list; (p = strchr(p, ',')) != NULL; p++)
		n++;
	if ((peers = calloc(n, sizeof(*peers))) == NULL)
		return -1;
	for (p = list; ; p = e + 1) {
		p += strspn(p, " \t");
		e = strchr(p, ',');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len >= sizeof(one))
			len = sizeof(one) - 1;	/* too long: not an address */
		memcpy(one, p, len);
		one[len] = '\0';
		if (inet_pton(AF_INET, one, &a4) == 1) {
			peers[npeers].s6_addr[10] = 0xff;
			peers[npeers].s6_addr[11] = 0xff;
			memcpy(&peers[npeers].s6_addr[12], &a4, 4);
		} else if (inet_pton(AF_INET6, one, &peers[npeers]) != 1) {
			fprintf(stderr, "lbauth: FCGI_WEB_SERVER_ADDRS: \"%s\" "
			    "is not an IPv4 or IPv6 address\n", one);
			errno = EINVAL;
			return -1;
		}
		npeers++;
		if (e == NULL)
			return 0;
	}
}

/*
 * Whether a connection from sa may be served: always over a unix socket;
 * over TCP only from an address in FCGI_WEB_SERVER_ADDRS, when it is set.
 * Sets TCP_NODELAY on a TCP one (an answer is one write: no reason to
 * wait), as libfcgi did.
 */
static bool
peer_ok(int fd, const struct sockaddr_storage *sa)
{
	struct in6_addr	 a;
	size_t		 i;
	int		 one = 1;

	if (sa->ss_family == AF_INET) {
		memset(&a, 0, sizeof(a));
		a.s6_addr[10] = a.s6_addr[11] = 0xff;
		memcpy(&a.s6_addr[12],
		    &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->ss_family == AF_INET6)
		a = ((const struct sockaddr_in6 *)sa)->sin6_addr;
	else
		return true;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (npeers == 0)
		return true;
	for (i = 0; i < npeers; i++)
		if (memcmp(&a, &peers[i], sizeof(a)) == 0)
			return true;
	return false;
}

/* See accept.h. */
int
accept_init(int lfd, long timeout_ms)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGUSR1 };
	struct sigaction	 sa, old;
	sigset_t		 block;
	size_t			 i;
	int			 fl;

	if (stopfd == -1 &&
	    (stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		return -1;
	deadline_ms = timeout_ms;
	if (peers == NULL && peers_parse(getenv("FCGI_WEB_SERVER_ADDRS")) ==
	    -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_late;	/* no SA_RESTART: reads fail */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) == -1)
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
 * Whether a stop signal is pending.  epoll_pwait(), as ppoll(), delivers
 * a pending signal only when nothing is ready: with connections waiting
 * in the backlog it returns them, and the signal stays pending (blocked
 * again) however long the backlog lasts.  Under steady load a worker
 * then never saw its stop until the master killed it; with silent
 * connections waiting, it took each in turn until its deadline.
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
 * How long a worker with a stop pending may still take connections that
 * are waiting: the milliseconds left of DRAIN_MS from the first time it
 * asks, or 0 once they are over.  A connection in the backlog is one that
 * nginx has opened and is writing a request to; had the worker stopped at
 * once, the last few requests sent before the stop would have been reset
 * (nginx answers 502), where before, by accident of the wait, they were
 * served.  Bounded, because under steady load the backlog never empties
 * (stop_pending()); and a connection taken in the drain must send its
 * request before the drain ends, not within request_timeout_ms, so that
 * silent ones cannot stretch it.  Any thread.
 */
static long
drain_left(void)
{
	static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
	static struct timespec	 end;	/* mu */
	static bool		 draining;	/* mu */
	long			 ms;

	pthread_mutex_lock(&mu);
	if (!draining) {
		lbx_clock_after(&end, DRAIN_MS);
		draining = true;
	}
	ms = lbx_clock_ms_until(&end);
	pthread_mutex_unlock(&mu);
	return ms > 0 ? ms : 0;
}

/*
 * Makes the calling thread's epoll instance for lfd on its first call:
 * lfd with EPOLLEXCLUSIVE, stopfd without.  Returns 0, or -1 with errno
 * set after saying why (EINVAL: a kernel without EPOLLEXCLUSIVE); the
 * next call tries again.
 */
static int
thread_ep(int lfd)
{
	struct epoll_event	 ev;
	int			 fd;

	if (ep != -1)
		return 0;
	if ((fd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.fd = lfd;
	if (epoll_ctl(fd, EPOLL_CTL_ADD, lfd, &ev) == 0) {
		ev.events = EPOLLIN;
		ev.data.fd = stopfd;
		if (epoll_ctl(fd, EPOLL_CTL_ADD, stopfd, &ev) == 0) {
			ep = fd;
			return 0;
		}
	}
	close(fd);
fail:
	fprintf(stderr, "lbauth: epoll for the listening socket (it needs "
	    "EPOLLEXCLUSIVE, Linux 4.5): %s\n", strerror(errno));
	return -1;
}

/*
 * One wait of the calling thread, with the stop signals unblocked, in
 * epoll_pwait() on its instance (thread_ep()) for lfd or stopfd to become
 * readable.  Sets *lready and *sready; returns 0, or -1 with errno set
 * (EINTR for a signal).
 */
static int
wait_once(int lfd, bool *lready, bool *sready)
{
	struct epoll_event	 evs[2];
	int			 i, n;

	*lready = *sready = false;
	if ((n = epoll_pwait(ep, evs, 2, -1, &waitmask)) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (evs[i].data.fd == lfd)
			*lready = true;
		else
			*sready = true;
	}
	return 0;
}

/*
 * accept_next()'s wait: until the listening socket lfd is readable (1)
 * or a stop (0); -1 on an error.  On 1, *ms is the time the
 * connection to be accepted has to send its request: deadline_ms, or
 * what is left of a drain when that is less.
 */
static int
wait_ready(int lfd, long *ms)
{
	long	 left;
	bool	 lready, sready;

	for (;;) {
		if (atomic_load(&stopping))
			return 0;
		if (wait_once(lfd, &lready, &sready) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (atomic_load(&stopping) || sready)
			return 0;
		if (lready) {
			*ms = deadline_ms;
			if (!stop_pending())
				return 1;
			if ((left = drain_left()) > 0) {
				if (left < *ms)
					*ms = left;
				return 1;
			}
			accept_stop();	/* every thread, as the handler would */
			return 0;
		}
	}
}

/*
 * Whether a message last said at *last (seconds, CLOCK_MONOTONIC; 0:
 * never) may be said again: at most once every 10 s, from any thread.
 * If so, *last becomes now.
 */
static bool
now_due(atomic_long *last)
{
	struct timespec	 now;
	long		 prev;

	clock_gettime(CLOCK_MONOTONIC, &now);
	prev = atomic_load(last);
	return (prev == 0 || now.tv_sec - prev >= 10) &&
	    atomic_compare_exchange_strong(last, &prev, (long)now.tv_sec);
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

	if (now_due(&last))
		fprintf(stderr, "lbauth: accept: %s: waiting for requests in "
		    "flight to end\n", strerror(e));
	pfd.fd = stopfd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	(void)ppoll(&pfd, 1, &(struct timespec){ 0, 100000000L }, &waitmask);
}

/*
 * Starts the calling thread's deadline: SIGALRM in ms (> 0), then
 * every 20 ms.  The timer is made on the thread's first call; when that
 * fails (the kernel's limit on timers), the thread serves without a
 * deadline, and says so once.
 */
static void
arm(long ms)
{
	struct sigevent		 sev;
	struct itimerspec	 its;

	if (timer_state == 0) {
		memset(&sev, 0, sizeof(sev));
		sev.sigev_notify = SIGEV_THREAD_ID;
		sev.sigev_signo = SIGALRM;
		sev.sigev_notify_thread_id = gettid();
		timer_state = timer_create(CLOCK_MONOTONIC, &sev, &timer) == 0 ?
		    1 : -1;
		if (timer_state == -1)
			fprintf(stderr, "lbauth: timer_create: %s: this thread "
			    "reads requests without request_timeout_ms\n",
			    strerror(errno));
	}
	late = 0;
	if (timer_state != 1)
		return;
	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = ms % 1000 * 1000000L;
	its.it_interval.tv_sec = 0;
	its.it_interval.tv_nsec = LATE_EVERY_NS;
	armed = timer_settime(timer, 0, &its, NULL) == 0;
}

/*
 * See accept.h.  A signal the timer sent just before it was stopped is
 * delivered as timer_settime() returns, so nothing after this sees it.
 */
void
accept_done(void)
{
	static const struct itimerspec	 off;

	if (!armed)
		return;
	(void)timer_settime(timer, 0, &off, NULL);
	armed = false;
}

/* See accept.h. */
bool
accept_running(void)
{

	return armed;
}

/* See accept.h. */
bool
accept_late(void)
{

	return late != 0;
}

/*
 * Logs (at most once every 10 s per process) that a connection was
 * closed for sending no whole request within its ms: request_timeout_ms,
 * or the end of a stop's drain (drain_left()).
 */
static void
log_late(long ms)
{
	static atomic_long	 last;

	if (!now_due(&last))
		return;
	if (ms == deadline_ms)
		fprintf(stderr, "lbauth: a connection sent no whole request "
		    "within request_timeout_ms (%ld): closed\n", deadline_ms);
	else
		fprintf(stderr, "lbauth: a connection sent no whole request "
		    "before the stop (%ld ms after it was taken): closed\n",
		    ms);
}

/*
 * Accepts a connection on the non-blocking lfd for the calling thread:
 * the descriptor (close-on-exec, blocking), or -1 with errno set (EAGAIN:
 * another thread or worker took it; ECONNABORTED: it was refused here,
 * not from FCGI_WEB_SERVER_ADDRS).
 */
static int
take(int lfd)
{
	struct sockaddr_storage	 sa;
	socklen_t		 len = sizeof(sa);
	int			 fd;

	memset(&sa, 0, sizeof(sa));
	if ((fd = accept4(lfd, (struct sockaddr *)&sa, &len,
	    SOCK_CLOEXEC)) == -1)
		return -1;
	if (!peer_ok(fd, &sa)) {
		close(fd);
		errno = ECONNABORTED;
		return -1;
	}
	return fd;
}

/*
 * See accept.h.  Another thread or worker may find the socket still
 * readable before the one the kernel woke has accepted (it came back
 * from a request and found the connection waiting), and then one of
 * them tries once for nothing (EAGAIN) and waits again.
 */
int
accept_next(FCGX_Request *rq)
{
	long	 ms = 0;
	int	 fd, rc, lfd = rq->listen_sock;

	if (thread_ep(lfd) == -1)
		return -1;
	for (;;) {
		rc = wait_ready(lfd, &ms);
		if (rc != 1)
			return rc;
		if ((fd = take(lfd)) == -1) {
			/*
			 * Another thread or worker took the connection, or it
			 * was gone or refused: wait again.
			 */
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR || errno == ECONNABORTED ||
			    errno == EPROTO)
				continue;
			/*
			 * Out of descriptors or memory for now (each request
			 * in flight holds some): the connection waits in the
			 * backlog while requests end.  Not a reason to stop
			 * the worker, nor to try again at once at full CPU.
			 */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				pause_after(errno);
				continue;
			}
			return -1;
		}
		arm(ms);
		/* libfcgi reads fd as a connection kept from before. */
		rq->ipcFd = fd;
		rq->keepConnection = 1;
		rq->listen_sock = -1;
		rc = FCGX_Accept_r(rq);
		rq->listen_sock = lfd;
		if (rc >= 0)
			return 1;	/* the deadline runs on: accept_done() */
		/*
		 * No request on fd (a protocol error, the peer gone, or the
		 * deadline): libfcgi has closed it, then failed to accept
		 * from -1.
		 */
		if (rq->ipcFd >= 0) {
			close(rq->ipcFd);
			rq->ipcFd = -1;
		}
		if (accept_late())
			log_late(ms);
		accept_done();
	}
}
