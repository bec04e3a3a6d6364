/*
 * test-err.c: lib/err.c, the one table from enum lbauth_err to HTTP
 * status, JSON "error" code and message.
 */
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"

/* Every code's status (lbauth.h documents each). */
static const struct {
	enum lbauth_err	 err;
	int		 status;
	const char	*code;
} statuses[] = {
	{ LBAUTH_OK, 200, "ok" },
	{ LBAUTH_EMETHOD, 405, "method_not_allowed" },
	{ LBAUTH_ECTYPE, 415, "unsupported_media_type" },
	{ LBAUTH_ELENGTH, 400, "invalid_content_length" },
	{ LBAUTH_ETOOBIG, 413, "payload_too_large" },
	{ LBAUTH_ESHORT, 400, "incomplete_body" },
	{ LBAUTH_EJSON, 400, "invalid_body" },
	{ LBAUTH_EROOM, 400, "invalid_room" },
	{ LBAUTH_EORIGIN, 403, "forbidden_origin" },
	{ LBAUTH_ENOSESSION, 401, "unauthenticated" },
	{ LBAUTH_ECOOKIE, 401, "invalid_cookie" },
	{ LBAUTH_ETOKEN, 401, "invalid_session" },
	{ LBAUTH_EALG, 401, "invalid_session" },
	{ LBAUTH_ESIG, 401, "invalid_session" },
	{ LBAUTH_EEXPIRED, 401, "session_expired" },
	{ LBAUTH_ENOTYET, 401, "invalid_session" },
	{ LBAUTH_EISSUER, 401, "invalid_session" },
	{ LBAUTH_EAUDIENCE, 401, "invalid_session" },
	{ LBAUTH_ECLAIM, 401, "invalid_session" },
	{ LBAUTH_ESID, 401, "invalid_session" },
	{ LBAUTH_ENOUSER, 401, "invalid_session" },
	{ LBAUTH_EDENIED, 403, "forbidden" },
	{ LBAUTH_EPATTERN, 500, "internal_error" },
	{ LBAUTH_EEMPTY, 500, "internal_error" },
	{ LBAUTH_ESCOPE, 500, "internal_error" },
	{ LBAUTH_ETOOMANY, 500, "internal_error" },
	{ LBAUTH_EPOLICY, 500, "internal_error" },
	{ LBAUTH_ENOMEM, 500, "internal_error" },
	{ LBAUTH_ESYS, 500, "internal_error" },
	{ LBAUTH_EUPSTREAM, 503, "upstream_unavailable" },
	{ LBAUTH_EIDDOWN, 503, "identity_unavailable" },
	{ LBAUTH_EPOLDOWN, 503, "policy_unavailable" },
	{ LBAUTH_EROWS, 500, "internal_error" },
	{ LBAUTH_ESQL, 500, "internal_error" },
	{ LBAUTH_ECONFIG, 500, "misconfigured" },
	{ LBAUTH_EKEYFILE, 500, "misconfigured" },
	{ LBAUTH_ETIMEOUT, 408, "request_timeout" },
};

/*
 * The 4xx statuses on which the Liveblocks client gives up for good
 * (lbauth.h), plus 413 and 415, which only a misbuilt request gets.
 * The one other 4xx, 408, is transient on purpose (LBAUTH_ETIMEOUT: the
 * client should send its request again).
 */
static const int final4xx[] = {
	400, 401, 403, 404, 405, 410, 412, 414, 422, 431, 451, 413, 415
};

int
main(void)
{
	const char	*m, *c;
	size_t		 i, j;
	int		 st;

	/* The values are pinned (lbauth.h): a plugin's numbers stay valid. */
	test_assert(LBAUTH_OK == 0 && LBAUTH_EMETHOD == 1);
	test_assert(LBAUTH_EDENIED == 21 && LBAUTH_EPATTERN == 22);
	test_assert(LBAUTH_EKEYFILE == 35 && LBAUTH_ETIMEOUT == 36 &&
	    LBAUTH_ERR__MAX == 37);
	test_assert(sizeof(statuses) / sizeof(statuses[0]) == LBAUTH_ERR__MAX);
	for (i = 0; i < LBAUTH_ERR__MAX; i++) {
		st = lbauth_err_status((enum lbauth_err)i);
		m = lbauth_strerror((enum lbauth_err)i);
		c = lbauth_err_code((enum lbauth_err)i);
		test_assert_idx(st >= 200 && st <= 599, i);
		test_assert_idx(strcmp(lbx_err_status_text(st), "Unknown") != 0, i);
		test_assert_idx(c != NULL && c[0] != '\0' &&
		    strspn(c, "abcdefghijklmnopqrstuvwxyz_") == strlen(c), i);
		test_assert_idx(m != NULL && strlen(m) > 1, i);
		/* Static text: no format directive, a full sentence. */
		test_assert_idx(m != NULL && strchr(m, '%') == NULL, i);
		test_assert_idx(m != NULL && m[strlen(m) - 1] == '.', i);
		test_assert_idx(m != NULL && strchr(m, '\n') == NULL, i);
		/* Only success is 2xx; errors are 4xx or 5xx. */
		test_assert_idx((st == 200) == (i == LBAUTH_OK), i);
		/*
		 * Retry-After on every 5xx and the 408, never on a 4xx
		 * the client gives up on; a database's backoff only for a
		 * database down, which is a 503.
		 */
		test_assert_idx((lbx_err_retry((enum lbauth_err)i) !=
		    LBX_RETRY_NO) == (st >= 500 || i == LBAUTH_ETIMEOUT), i);
		test_assert_idx((lbx_err_retry((enum lbauth_err)i) ==
		    LBX_RETRY_DB) == (i == LBAUTH_EIDDOWN ||
		    i == LBAUTH_EPOLDOWN), i);
		test_assert_idx(lbx_err_retry((enum lbauth_err)i) !=
		    LBX_RETRY_DB || st == 503, i);
		if (st >= 400 && st < 500 && i != LBAUTH_ETIMEOUT) {
			for (j = 0; j < sizeof(final4xx) / sizeof(final4xx[0]);
			    j++)
				if (final4xx[j] == st)
					break;
			test_assert_idx(j < sizeof(final4xx) /
			    sizeof(final4xx[0]), i);
		}
	}

	test_assert(sizeof(statuses) / sizeof(statuses[0]) == LBAUTH_ERR__MAX);
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		test_assert_idx(statuses[i].err == (enum lbauth_err)i, i);
		test_assert_idx(lbauth_err_status(statuses[i].err) ==
		    statuses[i].status, i);
		test_assert_idx(strcmp(lbauth_err_code(statuses[i].err),
		    statuses[i].code) == 0, i);
	}

	/* The reason phrases of the Status: line. */
	test_assert(strcmp(lbx_err_status_text(200), "OK") == 0);
	test_assert(strcmp(lbx_err_status_text(204), "No Content") == 0);
	test_assert(strcmp(lbx_err_status_text(401), "Unauthorized") == 0);
	test_assert(strcmp(lbx_err_status_text(408), "Request Timeout") == 0);
	test_assert(strcmp(lbx_err_status_text(413), "Payload Too Large") == 0);
	test_assert(strcmp(lbx_err_status_text(503), "Service Unavailable") == 0);
	test_assert(strcmp(lbx_err_status_text(299), "Unknown") == 0);
	test_assert(strcmp(lbx_err_status_text(0), "Unknown") == 0);
	test_assert(strcmp(lbx_err_status_text(-1), "Unknown") == 0);

	return test_done();
}
