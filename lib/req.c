/*
 * req.c: the HTTP request, parsed from CGI meta-variables (RFC 3875)
 * and the body, without I/O.
 *
 *	method		POST; OPTIONS for CORS preflights; else 405
 *	CONTENT_TYPE	application/json (optionally "; charset=..."),
 *			else 415: a cross-site <form> cannot send it
 *	CONTENT_LENGTH	strict decimal, capped by max_body (413) before
 *			anything is read
 *	body		a JSON object; "room" absent, or a string of 1..128
 *			characters without '*' or controls: a client must
 *			never be able to ask for a wildcard
 *	Origin		absent, this endpoint's own, or in allowed_origins
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "extern.h"

/* Returns the method named by REQUEST_METHOD m (NULL allowed). */
enum lbx_method
lbx_req_method(const char *m)
{

	if (m == NULL)
		return LBX_METHOD_OTHER;
	if (strcmp(m, "POST") == 0)
		return LBX_METHOD_POST;
	if (strcmp(m, "OPTIONS") == 0)
		return LBX_METHOD_OPTIONS;
	return LBX_METHOD_OTHER;
}

/*
 * Returns LBAUTH_OK when CONTENT_TYPE ct is application/json (RFC 8259
 * section 11; media types compare case-insensitively, RFC 9110 section
 * 8.3.1) with or without parameters, else LBAUTH_ECTYPE.
 */
enum lbauth_err
lbx_req_ctype(const char *ct)
{
	static const char	 json[] = "application/json";

	if (ct == NULL)
		return LBAUTH_ECTYPE;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, json, sizeof(json) - 1) != 0)
		return LBAUTH_ECTYPE;
	ct += sizeof(json) - 1;
	if (*ct != '\0' && *ct != ';' && *ct != ' ' && *ct != '\t')
		return LBAUTH_ECTYPE;
	return LBAUTH_OK;
}

/*
 * Parses CONTENT_LENGTH cl (NULL or empty: no body, RFC 3875 section
 * 4.1.2) into *len_r.  Returns LBAUTH_OK; LBAUTH_ELENGTH when cl is not
 * all decimal digits (no sign, no blanks); LBAUTH_ETOOBIG when it
 * exceeds max, however many digits it has.
 */
enum lbauth_err
lbx_req_length(const char *cl, size_t max, size_t *len_r)
{
	size_t	 v = 0;
	bool	 big = false;

	*len_r = 0;
	if (cl == NULL || *cl == '\0')
		return LBAUTH_OK;
	for (; *cl != '\0'; cl++) {
		if (*cl < '0' || *cl > '9')
			return LBAUTH_ELENGTH;
		if (big)
			continue;
		v = v * 10 + (size_t)(*cl - '0');
		if (v > max)
			big = true;
	}
	if (big)
		return LBAUTH_ETOOBIG;
	*len_r = v;
	return LBAUTH_OK;
}

/*
 * Parses the body (len bytes) into req->body and req->room (borrowed
 * from req->body, NULL when absent).  Returns LBAUTH_OK; LBAUTH_EJSON
 * when the body is not a JSON object; LBAUTH_EROOM when "room" is
 * present but not a valid room id; LBAUTH_ENOMEM.  *reason_r gets a
 * static detail.  Pure.
 */
enum lbauth_err
lbx_req_body(struct lbauth_request *req, const char *body, size_t len,
    const char **reason_r)
{
	struct json_object	*v;
	const char		*room;
	size_t			 rlen, n;
	enum lbauth_err		 rc;

	*reason_r = NULL;
	req->room = NULL;
	if ((rc = lbx_json_parse(body, len, &req->body)) != LBAUTH_OK) {
		*reason_r = "body is not valid JSON";
		return rc;
	}
	if (!json_object_is_type(req->body, json_type_object)) {
		*reason_r = "body is not a JSON object";
		return LBAUTH_EJSON;
	}
	if (!json_object_object_get_ex(req->body, "room", &v))
		return LBAUTH_OK;
	if (!json_object_is_type(v, json_type_string)) {
		*reason_r = "room is not a string";
		return LBAUTH_EROOM;
	}
	room = json_object_get_string(v);
	rlen = (size_t)json_object_get_string_len(v);
	n = lbx_utf8_len16(room, rlen);
	if (n == 0 || n > LBAUTH_ROOM_MAX) {
		*reason_r = "room is empty or too long";
		return LBAUTH_EROOM;
	}
	if (memchr(room, '*', rlen) != NULL) {
		*reason_r = "room contains '*'";
		return LBAUTH_EROOM;
	}
	if (lbx_utf8_has_ctl(room, rlen)) {
		*reason_r = "room contains a control character";
		return LBAUTH_EROOM;
	}
	req->room = room;
	return LBAUTH_OK;
}

/*
 * Whether origin is scheme "://" host, with ":" port appended to host
 * when port is given and host has none of its own.
 */
static bool
is_self(const char *origin, const char *scheme, const char *host,
    const char *port)
{
	size_t		 slen = strlen(scheme), hlen = strlen(host);
	const char	*o, *rb;

	if (strncasecmp(origin, scheme, slen) != 0 ||
	    strncmp(origin + slen, "://", 3) != 0)
		return false;
	o = origin + slen + 3;
	if (strncasecmp(o, host, hlen) != 0)
		return false;
	o += hlen;
	if (*o == '\0')
		return true;
	/* Debian's fastcgi_params pass $host, which drops the port. */
	rb = strrchr(host, ']');
	if (port == NULL || *o != ':' ||
	    strchr(rb != NULL ? rb : host, ':') != NULL)
		return false;
	return strcmp(o + 1, port) == 0;
}

/*
 * Checks the Origin header (RFC 6454) origin against this endpoint's
 * own origin, scheme "://" host (HTTP_HOST, plus ":" SERVER_PORT port
 * when HTTP_HOST has no port: nginx's $host drops it), and the
 * NULL-terminated list allowed.  Returns LBAUTH_OK with *cross_r false
 * when origin is NULL or our own (no CORS headers needed), LBAUTH_OK
 * with *cross_r true when it is listed (answer with CORS headers), and
 * LBAUTH_EORIGIN otherwise, "null" included.  Pure.
 */
enum lbauth_err
lbx_req_origin(const char *origin, const char *scheme, const char *host,
    const char *port, char *const *allowed, bool *cross_r)
{

	*cross_r = false;
	if (origin == NULL)
		return LBAUTH_OK;
	if (scheme != NULL && host != NULL && *host != '\0' &&
	    is_self(origin, scheme, host, port))
		return LBAUTH_OK;
	for (; allowed != NULL && *allowed != NULL; allowed++)
		if (strcmp(origin, *allowed) == 0) {
			*cross_r = true;
			return LBAUTH_OK;
		}
	return LBAUTH_EORIGIN;
}

/* Releases the parsed body; req may be reused. */
void
lbx_req_clear(struct lbauth_request *req)
{

	json_object_put(req->body);
	req->body = NULL;
	req->room = NULL;
}

/* --- the public accessors a policy uses ----------------------------- */

const char *
lbauth_request_room(const struct lbauth_request *req)
{

	return req->room;
}

const char *
lbauth_request_param(const struct lbauth_request *req, const char *name)
{

	return req->param(req->arg, name);
}
