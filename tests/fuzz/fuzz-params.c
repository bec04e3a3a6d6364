/*
 * fuzz-params.c: a whole request as the library receives it, through
 * lbauth_app_serve().
 *
 * Input: CGI parameters, one NAME=VALUE line each (a line without '='
 * is skipped), up to an empty line; the rest is the body, read through
 * the read callback in chunks.  The app is made once, from a config
 * written into a mkdtemp() folder (removed again once loaded): backend
 * local with an Ed25519 signing key from a fixed seed, the HS256 cookie
 * secret of fuzz-cookie.c (so "lbauthctl cookie" mints seeds that
 * verify), cookie_issuer and cookie_audience, policy org, two allowed
 * origins, no log.  Every response must be well formed: a status of
 * 200 to 599 matching the return code, a "Status: " line, CRLF headers
 * and a Content-Length that is the body's.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/extern.h"
#include "fuzz.h"

#define PARAMS_MAX	64

static const unsigned char cookie_secret[32] =
    "lbauth-fuzz-cookie-secret-32byte";
static const unsigned char signing_seed[32] = "lbauth-fuzz-signing-key-seed-32b";

static const char config[] =
    "backend = local\n"
    "token = access\n"
    "cookie_name = session\n"
    "cookie_secret_file = cookie.secret\n"
    "cookie_issuer = https://app.example.com\n"
    "cookie_audience = lbauth\n"
    "signing_key_file = signing.key\n"
    "project_id = fuzz\n"
    "policy = org\n"
    "allowed_origins = https://app.example.com http://localhost:5173\n"
    "max_body = 4096\n"
    "log_requests = no\n";

struct input {
	const char	*name[PARAMS_MAX];
	const char	*value[PARAMS_MAX];
	size_t		 n;
	const char	*body;
	size_t		 len, off;
};

static void
write_file(const char *dir, const char *name, const void *p, size_t len)
{
	char	 path[256];
	int	 fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1 ||
	    write(fd, p, len) != (ssize_t)len || close(fd) == -1) {
		perror(path);
		abort();
	}
}

static void
remove_file(const char *dir, const char *name)
{
	char	 path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

/* The app, made at the first call and kept (still reachable) after. */
static struct lbauth_app *
app(void)
{
	static struct lbauth_app *a;
	struct lbx_key		 key;
	struct lbx_buf		 pem;
	char			 dir[] = "/tmp/lbauth-fuzz.XXXXXX";
	char			 path[256], err[1024];

	if (a != NULL)
		return a;
	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		abort();
	lbx_buf_init(&pem);
	if (lbx_key_ed25519_seed(&key, signing_seed) != LBAUTH_OK)
		abort();
	lbx_key_pem_sk(&pem, &key);
	lbx_key_clear(&key);
	if (pem.oom)
		abort();
	write_file(dir, "signing.key", pem.p, pem.len);
	lbx_buf_clear(&pem);
	write_file(dir, "cookie.secret", cookie_secret, sizeof(cookie_secret));
	write_file(dir, "lbauth.conf", config, sizeof(config) - 1);
	snprintf(path, sizeof(path), "%s/lbauth.conf", dir);
	if (lbauth_app_new(path, &a, err, sizeof(err)) != LBAUTH_OK) {
		fprintf(stderr, "fuzz-params: %s\n", err);
		abort();
	}
	/* Everything is loaded: nothing is read from there again. */
	remove_file(dir, "signing.key");
	remove_file(dir, "cookie.secret");
	remove_file(dir, "lbauth.conf");
	rmdir(dir);
	return a;
}

static const char *
param(void *arg, const char *name)
{
	const struct input	*in = arg;
	size_t			 i;

	for (i = 0; i < in->n; i++)
		if (strcmp(in->name[i], name) == 0)
			return in->value[i];
	return NULL;
}

/* Hands the body out in chunks of 1 to 331 bytes, as a socket may. */
static long
readfn(void *arg, char *buf, size_t len)
{
	struct input	*in = arg;
	size_t		 n = 1 + in->off % 331;

	if (n > len)
		n = len;
	if (n > in->len - in->off)
		n = in->len - in->off;
	if (n == 0)
		return 0;
	memcpy(buf, in->body + in->off, n);
	in->off += n;
	return (long)n;
}

/* Aborts unless resp is a well-formed CGI response for rc. */
static void
check(const struct lbauth_resp *resp, enum lbauth_err rc)
{
	const char	*p, *hend, *cl;
	char		 want[32];
	size_t		 len, n;
	int		 status = lbauth_resp_status(resp);

	if (status < 200 || status > 599)
		abort();
	if (rc == LBAUTH_OK && status != 200 && status != 204)
		abort();
	if (rc != LBAUTH_OK && rc != LBAUTH_ENOMEM &&
	    status != lbauth_err_status(rc))
		abort();
	if ((p = lbauth_resp_data(resp, &len)) == NULL || len == 0)
		abort();
	n = (size_t)snprintf(want, sizeof(want), "Status: %d ", status);
	if (len < n || memcmp(p, want, n) != 0)
		abort();
	if ((hend = memmem(p, len, "\r\n\r\n", 4)) == NULL)
		abort();
	/* No header injection: every line of the head ends in CRLF. */
	for (n = 0; p + n < hend; n++)
		if (p[n] == '\0' || (p[n] == '\r' && p[n + 1] != '\n') ||
		    (p[n] == '\n' && (n == 0 || p[n - 1] != '\r')))
			abort();
	hend += 4;
	cl = memmem(p, (size_t)(hend - p), "\r\nContent-Length: ", 18);
	if (status == 204) {
		if (cl != NULL || hend != p + len)
			abort();
	} else if (cl == NULL ||
	    strtoul(cl + 18, NULL, 10) != (unsigned long)(p + len - hend))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lbauth_resp *resp;
	struct input		 in;
	char			*head, *line, *next, *eq;
	const uint8_t		*end;
	size_t			 hlen;
	enum lbauth_err		 rc;

	if (resp == NULL && (resp = lbauth_resp_new()) == NULL)
		abort();
	memset(&in, 0, sizeof(in));

	/* The head runs to the first empty line (or the end). */
	if (size > 0 && data[0] == '\n')
		end = data;
	else if ((end = memmem(data, size, "\n\n", 2)) != NULL)
		end++;
	hlen = end == NULL ? size : (size_t)(end - data);
	in.body = end == NULL ? NULL : (const char *)end + 1;
	in.len = end == NULL ? 0 : size - hlen - 1;
	if ((head = malloc(hlen + 1)) == NULL)
		abort();
	memcpy(head, data, hlen);
	head[hlen] = '\0';
	for (line = head; line != NULL && in.n < PARAMS_MAX; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		in.name[in.n] = line;
		in.value[in.n++] = eq + 1;
	}

	rc = lbauth_app_serve(app(), param, readfn, &in, resp, -1);
#ifdef FUZZ_REPLAY
	if (getenv("FUZZ_VERBOSE") != NULL) {
		const char *p = lbauth_resp_data(resp, &hlen);

		fprintf(stderr, "%.*s\n\n", (int)hlen, p);
	}
#endif
	check(resp, rc);
	free(head);
	return 0;
}
