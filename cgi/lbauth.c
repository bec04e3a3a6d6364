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
 * This file holds the options, the choice of mode and the CGI path;
 * serve.c serves FastCGI.  FastCGI workers of backend = liveblocks
 * serve many requests at once, with request threads and an upstream
 * thread (serve.c); other workers (backend = local: all CPU) and CGI
 * serve one request at a time, with no thread.
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

#include "../lib/extern.h"
#include "listen.h"
#include "master.h"
#include "serve.h"

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
		out = lbauth_resp_fixed_500(LBAUTH_ENOMEM, &len);
	rc = write_all(STDOUT_FILENO, out, len) == 0 ? 0 : 1;
	drain_stdin();
	return rc;
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
		if ((lfd = listen_bind(o->mo.listen, o->mode, uid, gid,
		    &o->mo.lid)) == -1)
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
		out = lbauth_resp_fixed_500(LBAUTH_ECONFIG, &len);
		write_all(STDOUT_FILENO, out, len);
		drain_stdin();
		return 1;
	}
	if ((resp = lbauth_resp_new()) == NULL)
		fprintf(stderr, "lbauth: out of memory\n");
	else if (serve_worker_begin(app, false) == 0) {
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
	/* An empty --config counts as none, as an empty $LBAUTH_CONFIG. */
	o.mo.config = lbx_conf_path(o.mo.config != NULL && *o.mo.config !=
	    '\0' ? o.mo.config : NULL, getenv("LBAUTH_CONFIG"));
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
	if (lbauth_app_warning(app) != NULL)
		fprintf(stderr, "lbauth: warning: %s\n", lbauth_app_warning(app));
	if (o.mo.workers > 0) {
		lbauth_app_detach(app);	/* the master holds no connection */
		return master_run(&o.mo, app, serve_fcgi);
	}
	rc = serve_fcgi(app);
	lbauth_app_free(app);
	return rc;
}
