/*
 * fuzz-req.c: the request parsers of req.c over untrusted CGI
 * parameters and body.
 *
 * Input: four lines, CONTENT_TYPE, CONTENT_LENGTH, HTTP_ORIGIN and
 * HTTP_HOST (a missing line is an unset parameter, NULL), then the
 * body.  The body is handed over in a buffer of exactly its length (no
 * NUL after it) and parsed whatever CONTENT_LENGTH says, so that the
 * JSON path is reached by every input.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../lib/extern.h"
#include "fuzz.h"

/* A copy of the next line of data (at *off, size bytes), or NULL. */
static char *
next_line(const uint8_t *data, size_t size, size_t *off)
{
	const uint8_t	*nl;
	size_t		 n;
	char		*s;

	if (*off >= size)
		return NULL;
	nl = memchr(data + *off, '\n', size - *off);
	n = nl == NULL ? size - *off : (size_t)(nl - (data + *off));
	if ((s = malloc(n + 1)) == NULL)
		abort();
	memcpy(s, data + *off, n);
	s[n] = '\0';	/* a NUL inside cuts it short, as in a C string */
	*off += n + (nl != NULL);
	return s;
}

/*
 * Checks origin; CORS headers (cross) only ever go to a listed origin,
 * and no origin at all is a same-origin request.  With a HTTP_HOST
 * without a port and SERVER_PORT port, an origin taken for our own
 * names that port (issue 12: "http://host" was taken for port 8443's).
 */
static void
origins(const char *origin, const char *scheme, const char *host,
    const char *port, char *const *allowed)
{
	const char	*sep, *colon;
	bool		 cross, listed = false;
	size_t		 i;
	enum lbauth_err	 rc;

	rc = lbx_req_origin(origin, scheme, host, port, allowed, &cross);
	for (i = 0; origin != NULL && allowed != NULL && allowed[i] != NULL;
	    i++)
		if (strcmp(origin, allowed[i]) == 0)
			listed = true;
	if ((rc != LBAUTH_OK && rc != LBAUTH_EORIGIN) ||
	    (rc != LBAUTH_OK && cross) || (cross && !listed) ||
	    (origin == NULL && rc != LBAUTH_OK))
		abort();
	if (rc == LBAUTH_OK && !cross && origin != NULL && host != NULL &&
	    strchr(host, ':') == NULL && port != NULL &&
	    ((sep = strstr(origin, "://")) == NULL ||
	    (colon = strrchr(origin, ':')) < sep + 3 ||
	    atol(colon + 1) != atol(port)))
		abort();
}

/*
 * An accepted CONTENT_TYPE is application/json, blanks, then nothing
 * or ';' (issue 12: "application/json text/plain" was accepted).
 */
static void
ctype(const char *ct)
{
	const char	*p;

	if (lbx_req_ctype(ct) != LBAUTH_OK)
		return;
	for (p = ct; *p == ' ' || *p == '\t'; p++)
		continue;
	if (strncasecmp(p, "application/json", 16) != 0)
		abort();
	for (p += 16; *p == ' ' || *p == '\t'; p++)
		continue;
	if (*p != '\0' && *p != ';')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *const	 allowed[] = {
		"https://app.example.com", "http://localhost:5173", NULL
	};
	struct lbauth_request	 req;
	char			*ct, *cl, *origin, *host, *body;
	const char		*reason;
	size_t			 off = 0, len, blen;
	enum lbauth_err		 rc;

	ct = next_line(data, size, &off);
	cl = next_line(data, size, &off);
	origin = next_line(data, size, &off);
	host = next_line(data, size, &off);
	blen = size - off;

	rc = lbx_req_ctype(ct);
	if (rc != LBAUTH_OK && rc != LBAUTH_ECTYPE)
		abort();
	ctype(ct);
	rc = lbx_req_length(cl, 4096, &len);
	if (rc == LBAUTH_OK && len > 4096)
		abort();	/* the cap is the whole point */

	memset(&req, 0, sizeof(req));
	if ((body = malloc(blen == 0 ? 1 : blen)) == NULL)
		abort();
	memcpy(body, data + off, blen);
	rc = lbx_req_body(&req, body, blen, &reason);
	if (rc == LBAUTH_OK && req.room != NULL &&
	    (strlen(req.room) == 0 || strchr(req.room, '*') != NULL))
		abort();	/* a client never gets to ask for a wildcard */
	lbx_req_clear(&req);
	free(body);

	origins(origin, "https", host, "8443", allowed);
	origins(origin, "http", host, NULL, NULL);
	origins(origin, "https", "", NULL, allowed);

	free(ct);
	free(cl);
	free(origin);
	free(host);
	return 0;
}
