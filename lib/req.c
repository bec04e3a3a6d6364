/*
 * req.c: the HTTP request, parsed from CGI meta-variables (RFC 3875)
 * and the body, without I/O.
 *
 *	method		POST; OPTIONS for CORS preflights; else 405
 *	CONTENT_TYPE	application/json, then only ";" parameters
 *			(charset, if any, utf-8), else 415: a cross-site
 *			<form> cannot send it
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

/* Whether c is a tchar of RFC 9110 section 5.6.2. */
static bool
is_tchar(unsigned char c)
{

	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Skips optional white space, OWS of RFC 9110 section 5.6.3. */
static const char *
ows(const char *p)
{

	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * Reads the parameter-value at p, a token or a quoted-string (RFC 9110
 * sections 5.6.2, 5.6.4), and returns the first byte after it, or NULL
 * when there is none.  Its text, unquoted and unescaped, goes to val
 * (cap bytes with the NUL) when it fits; val is "" when it does not.
 */
static const char *
param_value(const char *p, char *val, size_t cap)
{
	size_t		 n = 0;
	bool		 fits = true;
	unsigned char	 c;

	if (*p != '"') {
		for (; is_tchar((unsigned char)*p); p++)
			if (n + 1 < cap)
				val[n++] = *p;
			else
				fits = false;
		if (n == 0 && fits)
			return NULL;
	} else {
		for (p++; *p != '"'; p++) {
			c = (unsigned char)*p;
			if (c == '\\') {
				/* quoted-pair: HTAB, SP, VCHAR, obs-text */
				c = (unsigned char)*++p;
				if (c != '\t' && (c < 0x20 || c == 0x7f))
					return NULL;
			} else if (c != '\t' && (c < 0x20 || c == '"' ||
			    c == 0x7f))
				return NULL;	/* qdtext, or the end */
			if (n + 1 < cap)
				val[n++] = (char)c;
			else
				fits = false;
		}
		p++;
	}
	val[fits ? n : 0] = '\0';
	return p;
}

/*
 * Returns LBAUTH_OK when CONTENT_TYPE ct is the media type
 * application/json (RFC 8259 section 11) as RFC 9110 section 8.3.1
 * writes one: type "/" subtype, compared case-insensitively, then only
 * parameters, *( OWS ";" OWS [ name "=" ( token / quoted-string ) ] ),
 * with optional white space around the whole.  A charset parameter
 * must be utf-8 (any case, quoted or not): JSON is UTF-8 (RFC 8259
 * section 8.1) and lbauth reads nothing else.  Other parameters are
 * ignored.  Anything else, "application/json text/plain" included, is
 * LBAUTH_ECTYPE.
 */
enum lbauth_err
lbx_req_ctype(const char *ct)
{
	static const char	 json[] = "application/json";
	const char		*p, *name;
	char			 val[8];
	size_t			 nlen;

	if (ct == NULL)
		return LBAUTH_ECTYPE;
	p = ows(ct);
	if (strncasecmp(p, json, sizeof(json) - 1) != 0)
		return LBAUTH_ECTYPE;
	p = ows(p + sizeof(json) - 1);
	while (*p == ';') {
		p = ows(p + 1);
		if (!is_tchar((unsigned char)*p))
			continue;		/* an empty parameter */
		for (name = p; is_tchar((unsigned char)*p); p++)
			continue;
		nlen = (size_t)(p - name);
		if (*p != '=' ||
		    (p = param_value(p + 1, val, sizeof(val))) == NULL)
			return LBAUTH_ECTYPE;
		if (nlen == 7 && strncasecmp(name, "charset", 7) == 0 &&
		    strcasecmp(val, "utf-8") != 0)
			return LBAUTH_ECTYPE;
		p = ows(p);
	}
	return *p == '\0' ? LBAUTH_OK : LBAUTH_ECTYPE;
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
 * when the body is not a JSON object (lbx_json_parse_ex(): a member name
 * twice in one object is refused too); LBAUTH_EROOM when "room" is
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
	enum lbx_json_fault	 f;
	enum lbauth_err		 rc;
	static const char *const faults[LBX_JSON_FAULT__MAX] = {
		[LBX_JSON_FAULT_SYNTAX] = "body is not JSON (RFC 8259, UTF-8)",
		[LBX_JSON_FAULT_DEEP] = "body nests more than 16 arrays and "
		    "objects",
		[LBX_JSON_FAULT_NULNAME] = "body has \\u0000 in a member name",
		[LBX_JSON_FAULT_DUP] = "body repeats a member name in one "
		    "object",
		[LBX_JSON_FAULT_NULL] = "body is not a JSON object",
	};

	*reason_r = NULL;
	req->room = NULL;
	if ((rc = lbx_json_parse_ex(body, len, &req->body, &f)) !=
	    LBAUTH_OK) {
		*reason_r = faults[f];
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
	if (n == SIZE_MAX) {
		*reason_r = "room holds a lone surrogate";
		return LBAUTH_EROOM;
	}
	if (n == 0 || n > LBAUTH_ROOM_MAX) {
		*reason_r = "room is not 1 to 128 characters";
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

/* The port number written as the decimal s (len bytes), or -1. */
static long
port_num(const char *s, size_t len)
{
	size_t	 i;
	long	 v = 0;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v > 65535 ? -1 : v;
}

/*
 * Splits the host [":" port] at s: the host is the first *hlen_r bytes
 * of s (an IPv6 literal keeps its brackets and the colons inside them).
 * Returns the port, def when s has none, or -1 when it is not a port
 * number.
 */
static long
split_host(const char *s, size_t *hlen_r, long def)
{
	const char	*rb, *colon;

	rb = s[0] == '[' ? strchr(s, ']') : NULL;
	if ((colon = strchr(rb != NULL ? rb : s, ':')) == NULL) {
		*hlen_r = strlen(s);
		return def;
	}
	*hlen_r = (size_t)(colon - s);
	return port_num(colon + 1, strlen(colon + 1));
}

/*
 * Whether origin is this endpoint's own origin (RFC 6454 section 4):
 * scheme "://" host, then the port.  The endpoint's host is HTTP_HOST
 * host; its port is the one in HTTP_HOST, else SERVER_PORT port (unset
 * or empty: the scheme's default), since nginx's $host, which Debian's
 * fastcgi_params pass as HTTP_HOST, drops it.  An origin without a port
 * has the scheme's default port, 80 or 443 (RFC 6454 section 4 step 5),
 * so "http://127.0.0.1" is not the origin of port 8080.  Hosts compare
 * case-insensitively, ports as numbers.
 */
static bool
is_self(const char *origin, const char *scheme, const char *host,
    const char *port)
{
	size_t		 slen = strlen(scheme), olen, hlen;
	long		 def, oport, hport;
	const char	*o;

	def = strcasecmp(scheme, "https") == 0 ? 443 : 80;
	if (strncasecmp(origin, scheme, slen) != 0 ||
	    strncmp(origin + slen, "://", 3) != 0)
		return false;
	o = origin + slen + 3;
	oport = split_host(o, &olen, def);
	if ((hport = split_host(host, &hlen, -2)) == -2)
		hport = port == NULL || *port == '\0' ? def :
		    port_num(port, strlen(port));
	return oport >= 0 && hport >= 0 && oport == hport && olen > 0 &&
	    olen == hlen && strncasecmp(o, host, hlen) == 0;
}

/*
 * Checks the Origin header (RFC 6454) origin against this endpoint's
 * own origin (scheme, HTTP_HOST host, and the port of HTTP_HOST or else
 * SERVER_PORT port: see is_self()) and the NULL-terminated list
 * allowed.  Returns LBAUTH_OK with *cross_r false
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
