/*
 * lbauth: the auth endpoint binary.
 *
 * One binary, two modes, chosen the way libfcgi chooses (FCGX_IsCGI()):
 *  - FastCGI: fd 0 is a listening socket (spawn-fcgi, mod_fcgid, a
 *    systemd socket): loop FCGX_Accept_r -> serve -> FCGX_Finish_r.
 *  - CGI: one request from the environment and stdin (RFC 3875), the
 *    answer on stdout.
 *
 * argv is ignored: a CGI request whose query string has no '=' arrives
 * as command-line words (RFC 3875 section 4.4), so nothing a request
 * can reach may act on them.  The config file comes from LBAUTH_CONFIG
 * or /etc/lbauth/lbauth.conf.  Parameters come only from the request
 * (FCGX_GetParam on the request's envp) in FastCGI mode: the daemon's
 * own environment never leaks into a request (fcgiwrap's lesson).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "../lib/lbauth.h"

#define DEFAULT_CONFIG	"/etc/lbauth/lbauth.conf"

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

static void
on_term(int sig)
{

	(void)sig;
	FCGX_ShutdownPending();
}

/* Serves one CGI request; returns the exit status. */
static int
serve_cgi(struct lbauth_app *app, struct lbauth_resp *resp)
{
	const char	*out;
	size_t		 len;

	lbauth_app_serve(app, cgi_param, cgi_read, NULL, resp, STDERR_FILENO);
	out = lbauth_resp_data(resp, &len);
	if (len == 0)
		return 1;
	return write_all(STDOUT_FILENO, out, len) == 0 ? 0 : 1;
}

/* Serves FastCGI requests until shutdown; returns the exit status. */
static int
serve_fcgi(struct lbauth_app *app, struct lbauth_resp *resp)
{
	FCGX_Request		 rq;
	struct sigaction	 sa;
	const char		*out;
	size_t			 len;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked accept returns and the loop ends. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (FCGX_Init() != 0 || FCGX_InitRequest(&rq, 0, 0) != 0) {
		fprintf(stderr, "lbauth: cannot initialise FastCGI\n");
		return 1;
	}
	while (FCGX_Accept_r(&rq) >= 0) {
		lbauth_app_serve(app, fcgi_param, fcgi_read, &rq, resp,
		    STDERR_FILENO);
		out = lbauth_resp_data(resp, &len);
		if (len == 0)
			FCGX_PutStr(misconfigured, sizeof(misconfigured) - 1,
			    rq.out);
		else
			FCGX_PutStr(out, (int)len, rq.out);
		FCGX_Finish_r(&rq);
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct lbauth_app	*app = NULL;
	struct lbauth_resp	*resp = NULL;
	const char		*path;
	char			 err[1024];
	int			 cgi, rc;

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	cgi = FCGX_IsCGI();
	if (sodium_init() < 0) {
		fprintf(stderr, "lbauth: libsodium failed to initialise\n");
		return 1;
	}
	if ((path = getenv("LBAUTH_CONFIG")) == NULL || *path == '\0')
		path = DEFAULT_CONFIG;
	if (lbauth_app_new(path, &app, err, sizeof(err)) != LBAUTH_OK) {
		fprintf(stderr, "lbauth: %s\n", err);
		if (cgi)
			write_all(STDOUT_FILENO, misconfigured,
			    sizeof(misconfigured) - 1);
		return 1;
	}
	if ((resp = lbauth_resp_new()) == NULL) {
		fprintf(stderr, "lbauth: out of memory\n");
		lbauth_app_free(app);
		return 1;
	}
	rc = cgi ? serve_cgi(app, resp) : serve_fcgi(app, resp);
	lbauth_resp_free(resp);
	lbauth_app_free(app);
	return rc;
}
