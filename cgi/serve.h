/*
 * serve.h: serving FastCGI requests in a worker (serve.c), used by
 * lbauth.c only.
 */
#ifndef LBAUTH_SERVE_H
#define LBAUTH_SERVE_H

#include <stdbool.h>

/*
 * The most unread request body read and discarded before a request's
 * connection is closed (a CGI run's stdin, a FastCGI request's input),
 * so that the close does not reset it and lose the answer.
 */
#define DRAIN_MAX	(1024 * 1024)

struct lbauth_app;

/*
 * Makes the calling process app's worker, confines it, and then, when
 * concurrent, starts the backend's thread; 0, or -1 after printing why
 * (and undoing the worker start).
 */
int	serve_worker_begin(struct lbauth_app *app, bool concurrent);
/*
 * Serves FastCGI on fd 0 (serially, or with request threads when the
 * app is concurrent) until a stop signal; returns the exit status.
 */
int	serve_fcgi(struct lbauth_app *app);
/* Answers every FastCGI request on fd 0 with the "misconfigured" 500. */
int	serve_misconfigured(void);

#endif /* !LBAUTH_SERVE_H */
