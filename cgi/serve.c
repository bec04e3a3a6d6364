/*
 * serve.c: serving FastCGI requests in a worker, once the app is
 * loaded: the serial loop (one request at a time: backend = local
 * without a network database) and the threaded one (backend =
 * liveblocks, or sql_driver = pgsql or mysql: README "Performance"),
 * which runs request_threads request threads per process, each with its
 * own FCGX_Request per request (FCGX_Init once, FCGX_InitRequest +
 * FCGX_Accept_r per thread).  A request thread reads and checks a
 * request, identifies the user and decides (waiting for the database,
 * if any, on its own connection), then either answers (backend =
 * local) or hands the API call to the process's one upstream thread
 * (lib/upstream.c) and goes back to accepting; the upstream thread
 * writes the answer and finishes the request when the API answers.  A request object is
 * only ever used by one thread at a time: the request thread until it
 * hands it over, then the upstream thread.  Parameters come only from
 * the request (FCGX_GetParam on the request's envp): the daemon's own
 * environment never leaks into a request (fcgiwrap's lesson).  Called
 * by lbauth.c (and through master.c's workers); calls accept.c and
 * sandbox.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "../lib/extern.h"
#include "accept.h"
#include "sandbox.h"
#include "serve.h"

/* request_timeout_ms's default, for a worker whose config is unreadable. */
#define MISCONFIGURED_TIMEOUT_MS	5000

/* One FastCGI request of a concurrent worker, from accept to finish. */
struct job {
	FCGX_Request		 rq;
	struct lbauth_resp	*resp;
	struct lbauth_app	*app;
};

static const char *
fcgi_param(void *arg, const char *name)
{

	return FCGX_GetParam(name, ((FCGX_Request *)arg)->envp);
}

/*
 * Reads and discards what is left of rq's input, at most DRAIN_MAX
 * bytes: normally only the empty FCGI_STDIN record that ends it.
 */
static void
drain(FCGX_Request *rq)
{
	char	 buf[4096];
	int	 n, left = DRAIN_MAX;

	while (left > 0 && (n = FCGX_GetStr(buf, sizeof(buf), rq->in)) > 0)
		left -= n;
}

/*
 * The body reader (lbauth_read_fn) of both loops; arg is the
 * FCGX_Request.  The app asks for exactly what is left of
 * CONTENT_LENGTH each time, so a read that returns all it asked for ends
 * the body: the rest of the input is read at once (so that finish(),
 * maybe on the upstream thread, never waits for the web server), and
 * the request's deadline ends (accept.c): what follows, the database and
 * the API, has bounds of its own and must not be interrupted.  A read
 * the deadline interrupted is -2 (a 408 the client retries: a web server
 * that passes a slow client's body on as it comes, with
 * fastcgi_request_buffering off); any other failure -1.
 */
static long
fcgi_read(void *arg, char *buf, size_t len)
{
	FCGX_Request	*rq = arg;
	int		 n;

	if (len > 65536)
		len = 65536;
	/* libfcgi reports a failed read as the end of the input. */
	if ((n = FCGX_GetStr(buf, (int)len, rq->in)) <= 0)
		return accept_late() ? -2 : n < 0 ? -1 : 0;
	if ((size_t)n == len) {
		drain(rq);
		accept_done();
	}
	return n;
}

/* Enters the sandbox the config asks for; -1 if that fails. */
static int
confine(struct lbauth_app *app)
{
	char	 err[256];

	if (sandbox_enter(lbauth_app_confinement(app), err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "lbauth: %s\n", err);
		return -1;
	}
	return 0;
}

/*
 * Ends a request and closes its connection at once.  libfcgi's own close
 * lingers: shutdown(), then poll() and read until the web server closes
 * its end or sends nothing for 2 s, so that no unread input makes the
 * close reset the connection (which would lose the answer: see
 * drain_stdin() in lbauth.c).  Reading the request's input to its end
 * first (the empty FCGI_STDIN record; nginx sends nothing after it)
 * gives the same guarantee without the wait, and the worker is free for
 * the next connection.  So the close lingers only when input is still
 * unread (more than DRAIN_MAX after the body), and only on a thread whose
 * request deadline still runs, which bounds it: a peer that kept sending
 * would otherwise hold the thread, and on the upstream thread every
 * request of the process.  An input that failed (the peer gone, or the
 * deadline) counts as ended.  "detached" is the field libfcgi's
 * FCGX_Free() reads to skip the lingering close.
 */
static void
finish(FCGX_Request *rq)
{

	drain(rq);
	rq->keepConnection = 0;
	if (FCGX_HasSeenEOF(rq->in) == EOF || !accept_running())
		rq->detached = 1;
	FCGX_Finish_r(rq);
	rq->detached = 0;
}

/* Writes the finished response (or the fixed 500) to rq. */
static void
put_answer(FCGX_Request *rq, const struct lbauth_resp *resp)
{
	const char	*out;
	size_t		 len;

	out = resp != NULL ? lbauth_resp_data(resp, &len) : NULL;
	if (out == NULL || len == 0)
		out = lbauth_resp_fixed_500(LBAUTH_ENOMEM, &len);
	FCGX_PutStr(out, (int)len, rq->out);
}

/*
 * Makes the calling process app's worker (the policy's worker_init),
 * confines it, and then, when concurrent, starts the backend's thread:
 * lbauth's own threads start inside the sandbox.  -1 if any fails.
 * Also the start of a CGI run (lbauth.c).
 */
int
serve_worker_begin(struct lbauth_app *app, bool concurrent)
{
	char	 err[1024];

	if (lbauth_app_worker_start(app, false, err, sizeof(err)) !=
	    LBAUTH_OK) {
		fprintf(stderr, "lbauth: %s\n", err);
		lbauth_app_worker_stop(app);
		return -1;
	}
	if (confine(app) == -1) {
		lbauth_app_worker_stop(app);
		return -1;
	}
	if (concurrent && lbauth_app_worker_start(app, true, err,
	    sizeof(err)) != LBAUTH_OK) {
		fprintf(stderr, "lbauth: %s\n", err);
		lbauth_app_worker_stop(app);
		return -1;
	}
	return 0;
}

/*
 * Serves FastCGI requests one at a time until a stop signal (accept.c)
 * ends the loop between requests; returns the exit status.  Each
 * connection is closed after its request, even when the web server
 * asked to keep it (FCGI_KEEP_CONN, nginx's fastcgi_keep_conn): a
 * single-threaded worker held by one idle kept connection would leave
 * every other connection waiting.
 */
static int
serve_serial(struct lbauth_app *app)
{
	FCGX_Request		 rq;
	struct lbauth_resp	*resp;
	int			 rc;

	if (FCGX_InitRequest(&rq, 0, 0) != 0 ||
	    (resp = lbauth_resp_new()) == NULL) {
		fprintf(stderr, "lbauth: out of memory\n");
		return 1;
	}
	if (serve_worker_begin(app, false) == -1) {
		lbauth_resp_free(resp);
		return 1;
	}
	while ((rc = accept_next(&rq)) == 1) {
		lbauth_app_serve(app, fcgi_param, fcgi_read, &rq, resp,
		    STDERR_FILENO);
		put_answer(&rq, resp);
		finish(&rq);
		accept_done();
	}
	if (rc == -1)
		fprintf(stderr, "lbauth: accept: %s\n", strerror(errno));
	lbauth_app_worker_stop(app);
	lbauth_resp_free(resp);
	return rc == -1 ? 1 : 0;
}

/* Releases a finished job. */
static void
job_free(struct job *j)
{

	lbauth_resp_free(j->resp);
	free(j);
}

/* The body reader of a concurrent worker: fcgi_read() on j's request. */
static long
job_read(void *arg, char *buf, size_t len)
{

	return fcgi_read(&((struct job *)arg)->rq, buf, len);
}

/*
 * lbauth_done_fn: writes the answer and ends the request (any thread;
 * for a request that went in flight, the upstream thread).  The write
 * blocks, but an answer of a few hundred bytes fits in the socket's
 * buffer, and the input was read to its end already (job_read), so
 * finish() does not wait for the web server.
 */
static void
job_done(void *arg, enum lbauth_err rc)
{
	struct job	*j = arg;

	(void)rc;
	put_answer(&j->rq, j->resp);
	finish(&j->rq);
	job_free(j);
}

static atomic_bool	 accept_failed;	/* a request thread stopped the worker */

/* A request thread: accepts and starts requests until told to stop. */
static void *
request_thread(void *arg)
{
	struct lbauth_app	*app = arg;
	struct job		*j;
	int			 rc;

	for (;;) {
		if ((j = calloc(1, sizeof(*j))) == NULL ||
		    (j->resp = lbauth_resp_new()) == NULL ||
		    FCGX_InitRequest(&j->rq, 0, 0) != 0) {
			if (j != NULL)
				job_free(j);
			fprintf(stderr, "lbauth: out of memory\n");
			sleep(1);	/* let requests in flight end */
			continue;
		}
		j->app = app;
		if ((rc = accept_next(&j->rq)) != 1) {
			if (rc == -1) {
				fprintf(stderr, "lbauth: accept: %s\n",
				    strerror(errno));
				atomic_store(&accept_failed, true);
				accept_stop();	/* the whole worker */
			}
			job_free(j);
			break;
		}
		if (lbauth_app_start(app, fcgi_param, job_read, j, j->resp,
		    STDERR_FILENO, job_done, j) != LBAUTH_OK) {
			put_answer(&j->rq, NULL);
			finish(&j->rq);
			job_free(j);
		}
		accept_done();	/* answered, or its input read */
	}
	return NULL;
}

/*
 * Serves FastCGI requests with lbauth_app_threads() request threads and
 * the backend's upstream thread, if any, until a stop signal; then every
 * request in flight is answered before the worker exits.  With backend
 * = liveblocks the request threads only parse, verify and decide (tens
 * of microseconds) before handing a request over, so the default 4 keep
 * up with a CPU; a database round trip holds its thread, so more help
 * when the database is far away (README "Performance").  The sandbox is entered
 * before any of lbauth's threads start (and covers a plugin's threads
 * too: sandbox.c).
 */
static int
serve_threads(struct lbauth_app *app)
{
	pthread_t	 t[LBX_REQUEST_THREADS_MAX - 1];
	unsigned	 i, n = 0, want = lbauth_app_threads(app);

	if (want > LBX_REQUEST_THREADS_MAX)
		want = LBX_REQUEST_THREADS_MAX;
	if (serve_worker_begin(app, true) == -1)
		return 1;
	for (i = 0; i + 1 < want; i++) {
		if ((errno = pthread_create(&t[n], NULL, request_thread,
		    app)) != 0) {
			fprintf(stderr, "lbauth: thread: %s\n",
			    strerror(errno));
			break;
		}
		n++;
	}
	request_thread(app);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	lbauth_app_worker_stop(app);
	return atomic_load(&accept_failed) ? 1 : 0;
}

/* A worker: FastCGI on fd 0 until told to stop; the exit status. */
int
serve_fcgi(struct lbauth_app *app)
{

	if (accept_init(0, lbauth_app_request_timeout(app)) == -1 ||
	    FCGX_Init() != 0) {
		fprintf(stderr, "lbauth: cannot initialise FastCGI: %s\n",
		    strerror(errno));
		return 1;
	}
	if (lbauth_app_concurrent(app))
		return serve_threads(app);
	return serve_serial(app);
}

/* Answers every FastCGI request with the "misconfigured" 500. */
int
serve_misconfigured(void)
{
	FCGX_Request	 rq;
	const char	*out;
	size_t		 len;

	out = lbauth_resp_fixed_500(LBAUTH_ECONFIG, &len);
	if (accept_init(0, MISCONFIGURED_TIMEOUT_MS) == -1 ||
	    FCGX_Init() != 0 || FCGX_InitRequest(&rq, 0, 0) != 0)
		return 1;
	while (accept_next(&rq) == 1) {
		FCGX_PutStr(out, (int)len, rq.out);
		finish(&rq);
		accept_done();
	}
	return 1;
}
