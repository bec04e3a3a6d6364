/*
 * lbauth: the auth endpoint binary.
 *
 * One binary, two modes, chosen the way libfcgi chooses (FCGX_IsCGI()):
 *  - FastCGI: fd 0 is a listening socket (spawn-fcgi, mod_fcgid, a
 *    systemd socket): loop FCGX_Accept_r -> serve -> FCGX_Finish_r.
 *  - CGI: one request from the environment and stdin (RFC 3875), the
 *    answer on stdout.
 *
 *  - Self-managed: "--listen unix:/path --workers N": master.c binds,
 *    drops privileges and supervises N workers running the FastCGI loop.
 *    A systemd socket (LISTEN_FDS) is used in place of --listen.
 *
 * FastCGI workers of backend = liveblocks serve many requests at once
 * (README "Performance"): FCGI_THREADS request threads per process,
 * each with its own FCGX_Request per request (FCGX_Init once,
 * FCGX_InitRequest + FCGX_Accept_r per thread), read and check a
 * request, identify the user and decide, then hand the API call to the
 * process's one upstream thread (lib/upstream.c) and go back to
 * accepting; the upstream thread writes the answer and finishes the
 * request when the API answers.  A request object is only ever used by
 * one thread at a time: the request thread until it hands it over,
 * then the upstream thread.  Other workers (backend = local: all CPU)
 * and CGI serve one request at a time, with no thread.
 *
 * Options are read only outside CGI (GATEWAY_INTERFACE unset): a CGI
 * request whose query string has no '=' arrives as command-line words
 * (RFC 3875 section 4.4), so in CGI mode argv is never looked at.  The
 * config file comes from --config, LBAUTH_CONFIG or
 * /etc/lbauth/lbauth.conf.  Parameters come only from the request
 * (FCGX_GetParam on the request's envp) in FastCGI mode: the daemon's
 * own environment never leaks into a request (fcgiwrap's lesson).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "../lib/lbauth.h"
#include "accept.h"
#include "listen.h"
#include "master.h"
#include "sandbox.h"

#define DEFAULT_CONFIG	"/etc/lbauth/lbauth.conf"
#define DRAIN_MAX	(1024 * 1024)	/* unread CGI body discarded at exit */
/*
 * Request threads per concurrent worker.  They only parse, verify and
 * decide (tens of microseconds) before handing a request to the
 * upstream thread, so a few keep up with a CPU; more help only a policy
 * plugin whose decide blocks (on a database, say).
 */
#define FCGI_THREADS	4

#ifdef LBAUTH_TSAN_LOG
/*
 * make tsan: ThreadSanitizer reads its defaults here, so that a
 * worker's reports land in files the build checks, not in a log.  Its
 * runtime is a shared library: the function must be exported
 * (LBAUTH_API, and cgi/lbauth.dynlist).
 */
LBAUTH_API const char *__tsan_default_options(void);

LBAUTH_API const char *
__tsan_default_options(void)
{

	return "log_path=" LBAUTH_TSAN_LOG " exitcode=66";
}
#endif

/* One FastCGI request of a concurrent worker, from accept to finish. */
struct job {
	FCGX_Request		 rq;
	struct lbauth_resp	*resp;
	struct lbauth_app	*app;
};

static const char *
cgi_param(void *arg, const char *name)
{

	(void)arg;
	return getenv(name);
}

static long
cgi_read(void *arg, char *buf, size_t len)
{
	ssize_t	 n;

	(void)arg;
	do
		n = read(STDIN_FILENO, buf, len);
	while (n == -1 && errno == EINTR);
	return (long)n;
}

static const char *
fcgi_param(void *arg, const char *name)
{

	return FCGX_GetParam(name, ((FCGX_Request *)arg)->envp);
}

static long
fcgi_read(void *arg, char *buf, size_t len)
{
	int	 n;

	if (len > 65536)
		len = 65536;
	n = FCGX_GetStr(buf, (int)len, ((FCGX_Request *)arg)->in);
	return n < 0 ? -1 : (long)n;
}

/* Writes all of buf to fd; returns 0 or -1. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
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
 * Reads and discards what is left of a CGI request body (up to
 * CONTENT_LENGTH, at most DRAIN_MAX bytes).  An answer decided before
 * the body was read (405, 413, 415, a bad Origin, a bad config) would
 * otherwise leave it unread: when stdin and stdout are one unix socket,
 * as under Apache's mod_cgid, closing it with unread data resets it, and
 * Apache loses the answer it had not read yet.
 */
static void
drain_stdin(void)
{
	const char	*cl = getenv("CONTENT_LENGTH");
	char		 buf[4096];
	unsigned long long left;
	ssize_t		 n;

	if (cl == NULL || *cl < '0' || *cl > '9')
		return;
	left = strtoull(cl, NULL, 10);
	if (left > DRAIN_MAX)
		left = DRAIN_MAX;
	while (left > 0) {
		n = read(STDIN_FILENO, buf, left < sizeof(buf) ?
		    (size_t)left : sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		left -= (unsigned long long)n;
	}
}

/* Serves one CGI request; returns the exit status. */
static int
serve_cgi(struct lbauth_app *app, struct lbauth_resp *resp)
{
	const char	*out;
	size_t		 len;
	int		 rc;

	lbauth_app_serve(app, cgi_param, cgi_read, NULL, resp, STDERR_FILENO);
	out = lbauth_resp_data(resp, &len);
	if (len == 0)
		out = lbauth_fixed_500(LBAUTH_ENOMEM, &len);
	rc = write_all(STDOUT_FILENO, out, len) == 0 ? 0 : 1;
	drain_stdin();
	return rc;
}

/*
 * Ends a request and closes its connection at once.  libfcgi's own close
 * lingers: shutdown(), then up to 2 s of poll() until the web server
 * closes its end, so that no unread input makes the close reset the
 * connection (which would lose the answer: see drain_stdin()).  Reading
 * the request's input to its end first (the empty FCGI_STDIN record;
 * nginx sends nothing after it) gives the same guarantee without the
 * wait, and the worker is free for the next connection.  "detached"
 * is the field libfcgi's FCGX_Free() reads to skip the lingering close.
 */
static void
finish(FCGX_Request *rq)
{
	char	 buf[4096];
	int	 n, left = DRAIN_MAX;

	while (left > 0 && (n = FCGX_GetStr(buf, sizeof(buf), rq->in)) > 0)
		left -= n;
	rq->keepConnection = 0;
	if (left > 0 && FCGX_HasSeenEOF(rq->in) == EOF)
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
		out = lbauth_fixed_500(LBAUTH_ENOMEM, &len);
	FCGX_PutStr(out, (int)len, rq->out);
}

/*
 * Makes the calling process app's worker (the policy's worker_init),
 * confines it, and then, when concurrent, starts the backend's thread:
 * lbauth's own threads start inside the sandbox.  -1 if any fails.
 */
static int
worker_begin(struct lbauth_app *app, bool concurrent)
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
	if (worker_begin(app, false) == -1) {
		lbauth_resp_free(resp);
		return 1;
	}
	while ((rc = accept_next(&rq)) == 1) {
		lbauth_app_serve(app, fcgi_param, fcgi_read, &rq, resp,
		    STDERR_FILENO);
		put_answer(&rq, resp);
		finish(&rq);
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

/*
 * The body reader of a concurrent worker.  The app asks for exactly
 * what is left of CONTENT_LENGTH each time, so a read that returns all
 * it asked for ends the body: the rest of the input (the empty
 * FCGI_STDIN record) is read at once, in the request thread, so that
 * finish() on the upstream thread never waits for the web server.
 */
static long
job_read(void *arg, char *buf, size_t len)
{
	struct job	*j = arg;
	char		 rest[4096];
	long		 n;
	int		 m, left = DRAIN_MAX;

	if ((n = fcgi_read(&j->rq, buf, len)) == (long)len)
		while (left > 0 &&
		    (m = FCGX_GetStr(rest, sizeof(rest), j->rq.in)) > 0)
			left -= m;
	return n;
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
	}
	return NULL;
}

/*
 * Serves FastCGI requests with FCGI_THREADS request threads and the
 * backend's upstream thread until a stop signal; then every request in
 * flight is answered before the worker exits.  The sandbox is entered
 * before any of lbauth's threads start (and covers a plugin's threads
 * too: sandbox.c).
 */
static int
serve_threads(struct lbauth_app *app)
{
	pthread_t	 t[FCGI_THREADS - 1];
	int		 i, n = 0;

	if (worker_begin(app, true) == -1)
		return 1;
	for (i = 0; i < FCGI_THREADS - 1; i++) {
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
	return 0;
}

/* A worker: FastCGI on fd 0 until told to stop; the exit status. */
static int
serve_fcgi(struct lbauth_app *app)
{

	if (accept_init(0) == -1 || FCGX_Init() != 0) {
		fprintf(stderr, "lbauth: cannot initialise FastCGI: %s\n",
		    strerror(errno));
		return 1;
	}
	if (lbauth_app_concurrent(app))
		return serve_threads(app);
	return serve_serial(app);
}

/* Answers every FastCGI request with the "misconfigured" 500. */
static int
serve_misconfigured(void)
{
	FCGX_Request	 rq;
	const char	*out;
	size_t		 len;

	out = lbauth_fixed_500(LBAUTH_ECONFIG, &len);
	if (accept_init(0) == -1 || FCGX_Init() != 0 ||
	    FCGX_InitRequest(&rq, 0, 0) != 0)
		return 1;
	while (accept_next(&rq) == 1) {
		FCGX_PutStr(out, (int)len, rq.out);
		finish(&rq);
	}
	return 1;
}

/*
 * The number of workers of --listen without --workers: one per CPU.
 * A worker of backend = liveblocks keeps up to max_inflight requests in
 * flight while they wait for the API, so waiting no longer needs more
 * processes than CPUs (make bench, README "Performance").
 */
static int
default_workers(void)
{
	long	 n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	return n > 256 ? 256 : (int)n;
}

static int
usage(void)
{

	fprintf(stderr, "usage: lbauth [--config FILE] [--listen "
	    "unix:/path | host:port] [--workers N]\n"
	    "              [--socket-mode MODE] [--user USER] [--group "
	    "GROUP]\n"
	    "       lbauth --version\n"
	    "Without options: FastCGI on the socket at fd 0 (spawn-fcgi, "
	    "mod_fcgid),\nor one CGI request.  See lbauth(8).\n");
	return 2;
}

/* What the command line asks for (only read outside CGI). */
struct opts {
	struct master_opts	 mo;
	const char		*user, *group;
	mode_t			 mode;
	bool			 version;
};

/* Parses argv into o; 0, or -1 on a usage error. */
static int
parse_opts(int argc, char *argv[], struct opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "workers", required_argument, NULL, 'w' },
		{ "socket-mode", required_argument, NULL, 'm' },
		{ "user", required_argument, NULL, 'u' },
		{ "group", required_argument, NULL, 'g' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char	*end;
	long	 l;
	int	 ch;

	while ((ch = getopt_long(argc, argv, "c:l:w:m:u:g:Vh", longopts,
	    NULL)) != -1)
		switch (ch) {
		case 'c': o->mo.config = optarg; break;
		case 'l': o->mo.listen = optarg; break;
		case 'w':
			l = strtol(optarg, &end, 10);
			if (*end != '\0' || l < 1 || l > 256)
				return -1;
			o->mo.workers = (int)l;
			break;
		case 'm':
			l = strtol(optarg, &end, 8);
			if (*end != '\0' || l < 0 || l > 0777)
				return -1;
			o->mode = (mode_t)l;
			break;
		case 'u': o->user = optarg; break;
		case 'g': o->group = optarg; break;
		case 'V': o->version = true; break;
		default: return -1;
		}
	return optind == argc ? 0 : -1;
}

/*
 * Puts the listening socket on fd 0 (--listen binds one, or systemd's)
 * and drops privileges; 0 or -1 after printing why.
 */
static int
take_socket(struct opts *o)
{
	uid_t	 uid;
	gid_t	 gid;
	int	 lfd;

	if (o->mo.listen != NULL) {
		listen_ids(o->user, o->group, &uid, &gid);
		if ((lfd = listen_bind(o->mo.listen, o->mode, uid, gid)) == -1)
			return -1;
	} else
		lfd = listen_systemd();
	if (lfd > 0) {
		if (dup2(lfd, 0) == -1)
			return -1;
		close(lfd);
	}
	return listen_drop(o->user, o->group);
}

/* One CGI request, from loading the config to exit; the exit status. */
static int
run_cgi(const char *config)
{
	struct lbauth_app	*app;
	struct lbauth_resp	*resp;
	const char		*out;
	char			 err[1024];
	size_t			 len;
	int			 rc = 1;

	if (lbauth_app_new(config, &app, err, sizeof(err)) != LBAUTH_OK) {
		fprintf(stderr, "lbauth: %s\n", err);
		out = lbauth_fixed_500(LBAUTH_ECONFIG, &len);
		write_all(STDOUT_FILENO, out, len);
		drain_stdin();
		return 1;
	}
	if ((resp = lbauth_resp_new()) == NULL)
		fprintf(stderr, "lbauth: out of memory\n");
	else if (worker_begin(app, false) == 0) {
		rc = serve_cgi(app, resp);
		lbauth_app_worker_stop(app);
	}
	lbauth_resp_free(resp);
	lbauth_app_free(app);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct opts		 o;
	struct lbauth_app	*app = NULL;
	char			 err[1024];
	int			 rc;

	signal(SIGPIPE, SIG_IGN);
	memset(&o, 0, sizeof(o));
	o.mode = 0660;
	if (getenv("GATEWAY_INTERFACE") == NULL) {
		if (parse_opts(argc, argv, &o) == -1)
			return usage();
		if (o.version) {
			printf("lbauth %s\n", LBAUTH_VERSION);
			return 0;
		}
		if (take_socket(&o) == -1)
			return 1;
		if (o.mo.listen != NULL && o.mo.workers == 0)
			o.mo.workers = default_workers();
	}
	if (o.mo.config == NULL || *o.mo.config == '\0')
		o.mo.config = getenv("LBAUTH_CONFIG");
	if (o.mo.config == NULL || *o.mo.config == '\0')
		o.mo.config = DEFAULT_CONFIG;
	if (sodium_init() < 0) {
		fprintf(stderr, "lbauth: libsodium failed to initialise\n");
		return 1;
	}
	if (FCGX_IsCGI()) {
		if (o.mo.workers > 0) {
			fprintf(stderr, "lbauth: --workers needs a socket: "
			    "--listen, a systemd socket or one on standard "
			    "input\n");
			return 2;
		}
		return run_cgi(o.mo.config);
	}
	if (lbauth_app_new(o.mo.config, &app, err, sizeof(err)) != LBAUTH_OK) {
		fprintf(stderr, "lbauth: %s\n", err);
		/*
		 * Handed a socket (mod_fcgid, spawn-fcgi, systemd) rather
		 * than binding one: exiting would only be restarted, again
		 * and again, while clients get the web server's HTML error.
		 * Answer every request with the JSON 500 instead; the reason
		 * is in the log above.  A --workers master fails fast.
		 */
		return o.mo.workers == 0 ? serve_misconfigured() : 1;
	}
	if (o.mo.workers > 0)
		return master_run(&o.mo, app, serve_fcgi);
	rc = serve_fcgi(app);
	lbauth_app_free(app);
	return rc;
}
