/*
 * test-resp.c: lib/resp.c, the whole CGI response in one buffer: the
 * Status line and the headers every response carries (Cache-Control:
 * no-store, nosniff), Content-Length but on a 204, the JSON error body
 * {"error", "message"} from err.c's table or a given sentence, and the
 * reuse of one response across requests.
 */
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"

/* The response's bytes as a string (they hold no NUL here). */
static const char *
data(const struct lbauth_resp *r)
{
	size_t	 len;
	const char *p = lbauth_resp_data(r, &len);

	return p != NULL && strlen(p) == len ? p : "(length mismatch)";
}

int
main(void)
{
	struct lbauth_resp	*r;
	struct lbx_buf		 b;
	size_t			 i;

	test_assert((r = lbauth_resp_new()) != NULL);
	if (r == NULL)
		return test_done();
	test_assert(lbauth_resp_status(r) == 0);

	/* A token answer. */
	lbx_resp_begin(r, 200, "application/json");
	lbx_resp_header(r, "Vary", "Origin");
	lbx_resp_end(r, "{\"token\":\"t\"}", 13);
	test_assert(lbauth_resp_status(r) == 200);
	test_assert(strcmp(data(r), "Status: 200 OK\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Vary: Origin\r\n"
	    "Content-Length: 13\r\n\r\n{\"token\":\"t\"}") == 0);

	/* A preflight: no Content-Type asked, no Content-Length, no body. */
	lbx_resp_reset(r);
	test_assert(lbauth_resp_status(r) == 0);
	lbx_resp_begin(r, 204, NULL);
	lbx_resp_header(r, "Allow", "POST, OPTIONS");
	lbx_resp_end(r, NULL, 0);
	test_assert(strcmp(data(r), "Status: 204 No Content\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Allow: POST, OPTIONS\r\n\r\n") == 0);

	/* begin starts over: a second begin drops the first's headers. */
	lbx_resp_begin(r, 200, "application/json");
	lbx_resp_begin(r, 403, "application/json");
	lbx_resp_end(r, "{}", 2);
	test_assert(lbauth_resp_status(r) == 403);
	test_assert(strncmp(data(r), "Status: 403 Forbidden\r\n", 23) == 0 &&
	    strstr(data(r), "200") == NULL);

	/* Error bodies: err.c's code and sentence, or the given one. */
	lbx_buf_init(&b);
	for (i = 1; i < LBAUTH_ERR__MAX; i++) {
		char	 want[512];

		lbx_buf_reset(&b);
		lbx_resp_error_body(&b, (enum lbauth_err)i, NULL);
		snprintf(want, sizeof(want), "{\"error\":\"%s\",\"message\":",
		    lbauth_err_code((enum lbauth_err)i));
		test_assert_idx(!b.oom && strncmp(b.p, want, strlen(want)) ==
		    0, i);
		test_assert_idx(b.len > 2 && strcmp(b.p + b.len - 2, "\"}") ==
		    0, i);
	}
	lbx_buf_reset(&b);
	lbx_resp_error_body(&b, LBAUTH_EDENIED, NULL);
	test_assert(strcmp(b.p, "{\"error\":\"forbidden\",\"message\":"
	    "\"You do not have access to this room.\"}") == 0);
	lbx_buf_reset(&b);
	lbx_resp_error_body(&b, LBAUTH_EUPSTREAM, "Could not reach "
	    "\"http://x\"\n(timeout); try again later.");
	test_assert(strcmp(b.p, "{\"error\":\"upstream_unavailable\","
	    "\"message\":\"Could not reach \\\"http://x\\\"\\n(timeout); try "
	    "again later.\"}") == 0);

	/* The whole error answer as app.c builds it. */
	lbx_resp_reset(r);
	lbx_resp_begin(r, lbauth_err_status(LBAUTH_EMETHOD),
	    "application/json");
	lbx_resp_header(r, "Allow", "POST, OPTIONS");
	lbx_buf_reset(&b);
	lbx_resp_error_body(&b, LBAUTH_EMETHOD, NULL);
	lbx_resp_end(r, b.p, b.len);
	test_assert(strncmp(data(r), "Status: 405 Method Not Allowed\r\n", 32)
	    == 0);
	test_assert(strstr(data(r), "\r\n\r\n{\"error\":\"method_not_allowed\","
	    "\"message\":\"Use POST with a JSON body.\"}") != NULL);
	lbx_buf_clear(&b);

	lbauth_resp_free(r);
	lbauth_resp_free(NULL);
	return test_done();
}
