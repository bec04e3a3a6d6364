/*
 * accept.h: the FastCGI accept loop's wait for a connection, and the
 * signals that stop it between requests (accept.c).
 */
#ifndef LBAUTH_ACCEPT_H
#define LBAUTH_ACCEPT_H

#include <fcgiapp.h>

/*
 * Prepares the calling process to accept on rq's listening socket:
 * SIGTERM, SIGINT and SIGUSR1 (those not ignored) are caught and
 * blocked, and the socket is made non-blocking.  Call before
 * FCGX_Init() (so that libfcgi keeps its hands off those signals),
 * before the sandbox, and before starting any thread (which then
 * inherits the blocked signals).  Returns 0, or -1
 * with errno set.
 */
int	accept_init(int);

/*
 * Waits for the next request on rq and accepts it.  Returns 1 with the
 * request in rq; 0 when a stop signal arrived (never in the middle of a
 * request: the signals are unblocked only while waiting here); -1 when
 * accepting failed for good, with errno set.
 */
int	accept_next(FCGX_Request *);

/*
 * Makes every accept_next() of the process, waiting or to come, return
 * 0, as a stop signal does.  Async-signal-safe; any thread.
 */
void	accept_stop(void);

#endif /* !LBAUTH_ACCEPT_H */
