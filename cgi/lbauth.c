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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "../lib/lbauth.h"
#include "accept.h"
#include "master.h"
#include "sandbox.h"

#define DEFAULT_CONFIG	"/etc/lbauth/lbauth.conf"
#define DRAIN_MAX	(1024 * 1024)	/* unread CGI body discarded at exit */

static const char misconfigured[] =
    "Status: 500 Internal Server Error\r\n"
    "Content-Type: application/json\r\n"
    "Cache-Control: no-store\r\n\r\n"
    "{\"error\":\"misconfigured\",\"message\":\"The endpoint's "
    "configuration is invalid; see its error log.\"}";

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
	rc = len > 0 && write_all(STDOUT_FILENO, out, len) == 0 ? 0 : 1;
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

/*
 * Serves FastCGI requests on fd 0 until SIGTERM, SIGINT or SIGUSR1,
 * which end the loop between requests (accept.c); returns the exit
 * status.  Each connection is closed after its request, even when the
 * web server asked to keep it (FCGI_KEEP_CONN, nginx's
 * fastcgi_keep_conn): a single-threaded worker held by one idle kept
 * connection would leave every other connection waiting.
 */
static int
serve_fcgi(struct lbauth_app *app)
{
	FCGX_Request		 rq;
	struct lbauth_resp	*resp;
	const char		*out;
	size_t			 len;
	int			 rc;

	if (accept_init(0) == -1 || FCGX_Init() != 0 ||
	    FCGX_InitRequest(&rq, 0, 0) != 0) {
		fprintf(stderr, "lbauth: cannot initialise FastCGI: %s\n",
		    strerror(errno));
		return 1;
	}
	if ((resp = lbauth_resp_new()) == NULL) {
		fprintf(stderr, "lbauth: out of memory\n");
		return 1;
	}
	if (confine(app) == -1) {
		lbauth_resp_free(resp);
		return 1;
	}
	while ((rc = accept_next(&rq)) == 1) {
		lbauth_app_serve(app, fcgi_param, fcgi_read, &rq, resp,
		    STDERR_FILENO);
		out = lbauth_resp_data(resp, &len);
		if (len == 0)
			FCGX_PutStr(misconfigured, sizeof(misconfigured) - 1,
			    rq.out);
		else
			FCGX_PutStr(out, (int)len, rq.out);
		finish(&rq);
	}
	if (rc == -1)
		fprintf(stderr, "lbauth: accept: %s\n", strerror(errno));
	lbauth_resp_free(resp);
	return rc == -1 ? 1 : 0;
}

/* Answers every FastCGI request with the "misconfigured" 500. */
static int
serve_misconfigured(void)
{
	FCGX_Request	 rq;

	if (accept_init(0) == -1 || FCGX_Init() != 0 ||
	    FCGX_InitRequest(&rq, 0, 0) != 0)
		return 1;
	while (accept_next(&rq) == 1) {
		FCGX_PutStr(misconfigured, sizeof(misconfigured) - 1, rq.out);
		finish(&rq);
	}
	return 1;
}

/*
 * The number of workers of --listen without --workers: one per CPU, two
 * when the backend waits for the Liveblocks API, since such a worker
 * spends most of each request waiting for its answer (make bench on 2
 * cores: 4 workers served 23% more requests than 2).
 */
static int
default_workers(const struct lbauth_app *app)
{
	long	 n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if (lbauth_app_waits_upstream(app))
		n *= 2;
	return n > 256 ? 256 : (int)n;
}

static int
usage(void)
{

	fprintf(stderr, "usage: lbauth [--config FILE] [--listen "
	    "unix:/path | host:port] [--workers N]\n"
	    "              [--socket-mode MODE] [--user USER] [--group "
	    "GROUP]\n"
	    "Without options: FastCGI on the socket at fd 0 (spawn-fcgi, "
	    "mod_fcgid),\nor one CGI request.  See lbauth(8).\n");
	return 2;
}

/*
 * The listening socket systemd passed (sd_listen_fds(3): LISTEN_PID is
 * us, LISTEN_FDS >= 1, the first at fd 3), or -1.
 */
static int
systemd_socket(void)
{
	const char	*pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");

	if (pid == NULL || fds == NULL || strtol(pid, NULL, 10) != getpid() ||
	    strtol(fds, NULL, 10) < 1)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return 3;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "workers", required_argument, NULL, 'w' },
		{ "socket-mode", required_argument, NULL, 'm' },
		{ "user", required_argument, NULL, 'u' },
		{ "group", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct master_opts	 mo;
	struct lbauth_app	*app = NULL;
	struct lbauth_resp	*resp = NULL;
	const char		*user = NULL, *group = NULL;
	char			 err[1024], *end;
	mode_t			 mode = 0660;
	uid_t			 uid;
	gid_t			 gid;
	int			 cgi, rc, ch, lfd = -1;
	long			 l;

	signal(SIGPIPE, SIG_IGN);
	memset(&mo, 0, sizeof(mo));
	if (getenv("GATEWAY_INTERFACE") == NULL) {
		while ((ch = getopt_long(argc, argv, "c:l:w:m:u:g:h", longopts,
		    NULL)) != -1)
			switch (ch) {
			case 'c': mo.config = optarg; break;
			case 'l': mo.listen = optarg; break;
			case 'w':
				l = strtol(optarg, &end, 10);
				if (*end != '\0' || l < 1 || l > 256)
					return usage();
				mo.workers = (int)l;
				break;
			case 'm':
				l = strtol(optarg, &end, 8);
				if (*end != '\0' || l < 0 || l > 0777)
					return usage();
				mode = (mode_t)l;
				break;
			case 'u': user = optarg; break;
			case 'g': group = optarg; break;
			default: return usage();
			}
		if (optind != argc)
			return usage();
		if (mo.config == NULL)
			mo.config = getenv("LBAUTH_CONFIG");
		if (mo.listen != NULL) {
			master_ids(user, group, &uid, &gid);
			if ((lfd = master_listen(mo.listen, mode, uid, gid)) ==
			    -1)
				return 1;
		} else
			lfd = systemd_socket();
		if (lfd > 0) {
			if (dup2(lfd, 0) == -1)
				return 1;
			close(lfd);
		}
		if (master_drop(user, group) == -1)
			return 1;
		if (mo.listen != NULL && mo.workers == 0)
			mo.workers = -1;	/* once the config is loaded */
	}
	if (mo.config == NULL || *mo.config == '\0') {
		mo.config = getenv("LBAUTH_CONFIG");
		if (mo.config == NULL || *mo.config == '\0')
			mo.config = DEFAULT_CONFIG;
	}
	cgi = FCGX_IsCGI();
	if (cgi && mo.workers > 0) {
		fprintf(stderr, "lbauth: --workers needs a socket: --listen, "
		    "a systemd socket or one on standard input\n");
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "lbauth: libsodium failed to initialise\n");
		return 1;
	}
	if (lbauth_app_new(mo.config, &app, err, sizeof(err)) != LBAUTH_OK) {
		fprintf(stderr, "lbauth: %s\n", err);
		if (cgi) {
			write_all(STDOUT_FILENO, misconfigured,
			    sizeof(misconfigured) - 1);
			drain_stdin();
			return 1;
		}
		/*
		 * Handed a socket (mod_fcgid, spawn-fcgi, systemd) rather
		 * than binding one: exiting would only be restarted, again
		 * and again, while clients get the web server's HTML error.
		 * Answer every request with the JSON 500 instead; the reason
		 * is in the log above.  A --workers master fails fast.
		 */
		if (mo.workers == 0)
			return serve_misconfigured();
		return 1;
	}
	if (lbauth_app_warning(app) != NULL)
		fprintf(stderr, "lbauth: warning: %s\n", lbauth_app_warning(app));
	if (cgi) {
		if ((resp = lbauth_resp_new()) == NULL) {
			fprintf(stderr, "lbauth: out of memory\n");
			lbauth_app_free(app);
			return 1;
		}
		rc = confine(app) == -1 ? 1 : serve_cgi(app, resp);
		lbauth_resp_free(resp);
		lbauth_app_free(app);
		return rc;
	}
	if (mo.workers == -1)
		mo.workers = default_workers(app);
	if (mo.workers > 0)
		return master_run(&mo, app, serve_fcgi);
	rc = serve_fcgi(app);
	lbauth_app_free(app);
	return rc;
}
