/*
 * accept.h: the FastCGI accept loop's wait for a connection, and the
 * signals that stop it between requests (accept.c).
 */
#ifndef LBAUTH_ACCEPT_H
#define LBAUTH_ACCEPT_H

#include <stdbool.h>

#include <fcgiapp.h>

/*
 * Prepares the calling process to accept on the listening socket lfd:
 * SIGTERM, SIGINT and SIGUSR1 (those not ignored) are caught and
 * blocked, SIGALRM is caught (the request deadline), the socket is made
 * non-blocking, each connection gets timeout_ms (>= 1) to deliver its
 * request, and FCGI_WEB_SERVER_ADDRS is read.  Call before FCGX_Init()
 * (so that libfcgi keeps its hands off those signals), before the
 * sandbox, and before starting any thread (which then inherits the
 * blocked signals).  Returns 0, or -1 with errno set (EINVAL after
 * printing which entry of FCGI_WEB_SERVER_ADDRS is not an address).
 */
int	accept_init(int lfd, long timeout_ms);

/*
 * Waits for the next connection on rq's listening socket, accepts it and
 * reads its request's records up to the body.  Returns 1 with the
 * request in rq and the calling thread's deadline running (the
 * connection has timeout_ms from its accept: every blocking read or poll
 * of this thread fails with EINTR once it passes), until accept_done();
 * 0 when a stop signal arrived (never in the middle of a request: the
 * signals are unblocked only while waiting here); -1 when accepting
 * failed for good, with errno set.  A connection that sends no whole
 * request in time, or is not from FCGI_WEB_SERVER_ADDRS, is closed, and
 * the wait goes on.
 */
int	accept_next(FCGX_Request *);

/*
 * Ends the calling thread's deadline: call once the request's input has
 * been read to its end (or its answer is written), before anything that
 * must not be interrupted.  Does nothing when none is running.
 */
void	accept_done(void);

/* Whether the calling thread's deadline is running. */
bool	accept_running(void);

/*
 * Whether the calling thread's deadline passed during its last request
 * (so a read of it failed for that reason, not the peer's).
 */
bool	accept_late(void);

/*
 * Makes every accept_next() of the process, waiting or to come, return
 * 0, as a stop signal does.  Async-signal-safe; any thread.
 */
void	accept_stop(void);

#endif /* !LBAUTH_ACCEPT_H */
