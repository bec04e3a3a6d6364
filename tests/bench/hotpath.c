/*
 * hotpath.c: the deterministic hot-path measure of make bench.  Serves
 * one fixed request (POST {"room":"acme:doc-1"} with an HS256 cookie,
 * policy org, local Ed25519 token) through lbauth_app_serve() K times in
 * one process.  Run under callgrind for K=1 and K=101, the difference
 * divided by 100 is the instructions per request: parse + cookie verify
 * + policy + mint + response, without process start or I/O.
 *
 * Usage: hotpath CONFIG K COOKIE_HEADER
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../../lib/lbauth.h"

static const char	*cookie;
static const char	 body[] = "{\"room\":\"acme:doc-1\"}";
static size_t		 off;

static const char *
param(void *arg, const char *name)
{

	(void)arg;
	if (strcmp(name, "REQUEST_METHOD") == 0)
		return "POST";
	if (strcmp(name, "CONTENT_TYPE") == 0)
		return "application/json";
	if (strcmp(name, "CONTENT_LENGTH") == 0)
		return "21";
	if (strcmp(name, "HTTP_COOKIE") == 0)
		return cookie;
	if (strcmp(name, "HTTP_HOST") == 0)
		return "127.0.0.1";
	return NULL;
}

static long
rd(void *arg, char *buf, size_t len)
{
	size_t	 n = sizeof(body) - 1 - off;

	(void)arg;
	if (n > len)
		n = len;
	memcpy(buf, body + off, n);
	off += n;
	return (long)n;
}

int
main(int argc, char *argv[])
{
	struct lbauth_app	*app;
	struct lbauth_resp	*resp;
	char			 err[512];
	int			 i, k;

	if (argc != 4 || sodium_init() < 0)
		return 2;
	k = atoi(argv[2]);
	cookie = argv[3];
	if (lbauth_app_new(argv[1], &app, err, sizeof(err)) != LBAUTH_OK) {
		fprintf(stderr, "hotpath: %s\n", err);
		return 1;
	}
	if ((resp = lbauth_resp_new()) == NULL)
		return 1;
	for (i = 0; i < k; i++) {
		off = 0;
		lbauth_app_serve(app, param, rd, NULL, resp, -1);
	}
	i = lbauth_resp_status(resp);
	lbauth_resp_free(resp);
	lbauth_app_free(app);
	return i == 200 ? 0 : 1;
}
