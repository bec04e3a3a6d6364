/*
 * err.c: enum lbauth_err -> HTTP status, short code and a sentence.
 *
 * One table (kcgi's khttps[] / kcgi_strerror()).  The code and message
 * become the JSON error body {"error": code, "message": message}, in the
 * shape the Liveblocks API itself answers errors with.  Messages never
 * contain request data: a message is static text a developer can act
 * on, and reasons with detail come from the function that failed as
 * static strings too (see call.c).
 */
#include <assert.h>

#include "extern.h"

#define SOON	LBX_RETRY_SOON
#define DB	LBX_RETRY_DB

static const struct {
	int		 status;
	const char	*code;
	const char	*message;
	enum lbx_retry	 retry;		/* Retry-After; unset: none */
} errs[LBAUTH_ERR__MAX] = {
	[LBAUTH_OK] = { 200, "ok", "Success." },
	[LBAUTH_EMETHOD] = { 405, "method_not_allowed",
	    "Use POST with a JSON body." },
	[LBAUTH_ECTYPE] = { 415, "unsupported_media_type",
	    "The request body must be sent with "
	    "Content-Type: application/json." },
	[LBAUTH_ELENGTH] = { 400, "invalid_content_length",
	    "Content-Length is not a decimal number of bytes." },
	[LBAUTH_ETOOBIG] = { 413, "payload_too_large",
	    "The request body is larger than this endpoint accepts." },
	[LBAUTH_ESHORT] = { 400, "incomplete_body",
	    "The request body ended before Content-Length bytes." },
	[LBAUTH_EJSON] = { 400, "invalid_body",
	    "The request body must be a JSON object, such as "
	    "{\"room\":\"my-room\"} or {}." },
	[LBAUTH_EROOM] = { 400, "invalid_room",
	    "\"room\" must be a non-empty string of at most 128 characters, "
	    "without '*' or control characters." },
	[LBAUTH_EORIGIN] = { 403, "forbidden_origin",
	    "Requests from this Origin are not allowed; add it to "
	    "allowed_origins." },
	[LBAUTH_ENOSESSION] = { 401, "unauthenticated",
	    "No session cookie: sign in first." },
	[LBAUTH_ECOOKIE] = { 401, "invalid_cookie",
	    "The Cookie header is malformed, too large or holds the session "
	    "cookie more than once." },
	[LBAUTH_ETOKEN] = { 401, "invalid_session",
	    "The session cookie is not a well-formed JWT." },
	[LBAUTH_EALG] = { 401, "invalid_session",
	    "The session cookie is signed with an algorithm this endpoint "
	    "does not accept." },
	[LBAUTH_ESIG] = { 401, "invalid_session",
	    "The session cookie's signature does not verify." },
	[LBAUTH_EEXPIRED] = { 401, "session_expired",
	    "The session has expired: sign in again." },
	[LBAUTH_ENOTYET] = { 401, "invalid_session",
	    "The session is not valid yet (nbf is in the future)." },
	[LBAUTH_EISSUER] = { 401, "invalid_session",
	    "The session cookie was issued by another issuer." },
	[LBAUTH_EAUDIENCE] = { 401, "invalid_session",
	    "The session cookie is meant for another audience." },
	[LBAUTH_ECLAIM] = { 401, "invalid_session",
	    "The session cookie's claims are invalid." },
	[LBAUTH_ESID] = { 401, "invalid_session",
	    "The session cookie is malformed or its signature does not "
	    "verify." },
	[LBAUTH_ENOUSER] = { 401, "invalid_session",
	    "The session is unknown or has ended: sign in again." },
	[LBAUTH_EDENIED] = { 403, "forbidden",
	    "You do not have access to this room." },
	[LBAUTH_EPATTERN] = { 500, "internal_error",
	    "The access policy granted an invalid room name or pattern.",
	    SOON },
	[LBAUTH_EEMPTY] = { 500, "internal_error",
	    "The access policy granted an empty permission list.", SOON },
	[LBAUTH_ESCOPE] = { 500, "internal_error",
	    "The access policy granted an unknown permission.", SOON },
	[LBAUTH_ETOOMANY] = { 500, "internal_error",
	    "The access policy granted more than 10 room patterns.", SOON },
	[LBAUTH_EPOLICY] = { 500, "internal_error",
	    "The access policy could not decide; try again later.", SOON },
	[LBAUTH_ENOMEM] = { 500, "internal_error",
	    "Out of memory; try again later.", SOON },
	[LBAUTH_ESYS] = { 500, "internal_error",
	    "A system error occurred; try again later.", SOON },
	[LBAUTH_EUPSTREAM] = { 503, "upstream_unavailable",
	    "The token service could not be reached; try again later.", SOON },
	[LBAUTH_EIDDOWN] = { 503, "identity_unavailable",
	    "The user database could not be reached; try again later.", DB },
	[LBAUTH_EPOLDOWN] = { 503, "policy_unavailable",
	    "The room-access database could not be reached; try again "
	    "later.", DB },
	[LBAUTH_EROWS] = { 500, "internal_error",
	    "The identity query returned more than one row for the "
	    "session.", SOON },
	[LBAUTH_ESQL] = { 500, "internal_error",
	    "A database query failed or returned invalid rows; see the "
	    "endpoint's error log.", SOON },
	[LBAUTH_ECONFIG] = { 500, "misconfigured",
	    "The endpoint's configuration is invalid; see its error log.",
	    SOON },
	[LBAUTH_EKEYFILE] = { 500, "misconfigured",
	    "The endpoint's key files are invalid; see its error log.", SOON },
	[LBAUTH_ETIMEOUT] = { 408, "request_timeout",
	    "The request body did not arrive in time; send it again.", SOON },
};

static const struct {
	int		 status;
	const char	*text;
} texts[] = {
	{ 200, "OK" }, { 204, "No Content" }, { 400, "Bad Request" },
	{ 401, "Unauthorized" }, { 403, "Forbidden" },
	{ 404, "Not Found" }, { 405, "Method Not Allowed" },
	{ 408, "Request Timeout" },
	{ 413, "Payload Too Large" }, { 415, "Unsupported Media Type" },
	{ 422, "Unprocessable Content" }, { 429, "Too Many Requests" },
	{ 500, "Internal Server Error" }, { 502, "Bad Gateway" },
	{ 503, "Service Unavailable" }, { 504, "Gateway Timeout" },
};

/*
 * Returns the sentence for err.  err must be a member of the enum: any
 * other value is a programmer error.
 */
const char *
lbauth_strerror(enum lbauth_err err)
{

	assert((unsigned)err < LBAUTH_ERR__MAX);
	return errs[err].message;
}

/* Returns the HTTP status a request failing with err gets. */
int
lbauth_err_status(enum lbauth_err err)
{

	assert((unsigned)err < LBAUTH_ERR__MAX);
	return errs[err].status;
}

/*
 * Whether a request failing with err may come back, and when: the
 * Retry-After header it gets.  Every 5xx may, and a body that came too
 * slowly (408); a database down at once its reconnect backoff allows.
 */
enum lbx_retry
lbx_err_retry(enum lbauth_err err)
{

	assert((unsigned)err < LBAUTH_ERR__MAX);
	return errs[err].retry;
}

/* Returns the JSON "error" code for err. */
const char *
lbauth_err_code(enum lbauth_err err)
{

	assert((unsigned)err < LBAUTH_ERR__MAX);
	return errs[err].code;
}

/*
 * Returns the reason phrase of an HTTP status for the CGI "Status:"
 * line, or "Unknown" (a status passed through from an upstream may be
 * any number; the phrase is informative only, RFC 9110 section 15).
 */
const char *
lbx_err_status_text(int status)
{
	size_t	 i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i].status == status)
			return texts[i].text;
	return "Unknown";
}
