/*
 * test-apibody.c: lib/apibody.c, the bodies POSTed to the Liveblocks
 * API, compared byte for byte with what @liveblocks/node 3.x's
 * JSON.stringify() sends for the same user and session: member order,
 * members left out when undefined (no userInfo, no groups claim, no
 * organization), and JSON.stringify's escaping.
 */
#include <stdlib.h>
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"
#include "fixture.h"


/* One user and what each endpoint's body must be for it. */
static const struct {
	const char	*claims;	/* NULL: REMOTE_USER "remote\"u" */
	const char	*org;		/* organizationId, NULL: none */
	const char	*authorize;	/* with the session below */
	const char	*identify;
} rows[] = {
	{ "{\"sub\":\"u1\",\"exp\":1800000000}", NULL,
	  "{\"userId\":\"u1\",\"permissions\":{\"acme:*\":[\"*:read\"],"
	  "\"acme:doc\":[\"*:write\",\"comments:read\"]}}",
	  "{\"userId\":\"u1\"}" },
	{ "{\"sub\":\"u1\",\"exp\":1800000000,\"name\":\"Ada\","
	  "\"avatar\":\"https://x/a.png\",\"org\":\"acme\"}", "acme",
	  "{\"userId\":\"u1\",\"permissions\":{\"acme:*\":[\"*:read\"],"
	  "\"acme:doc\":[\"*:write\",\"comments:read\"]},\"userInfo\":"
	  "{\"name\":\"Ada\",\"avatar\":\"https://x/a.png\"},"
	  "\"organizationId\":\"acme\"}",
	  "{\"userId\":\"u1\",\"userInfo\":{\"name\":\"Ada\",\"avatar\":"
	  "\"https://x/a.png\"},\"organizationId\":\"acme\"}" },
	/* groupIds: the claim when present, even empty; info as given. */
	{ "{\"sub\":\"u\\\"2\",\"exp\":1800000000,\"groups\":[\"g1\","
	  "\"g\\\\2\"],\"info\":{\"b\":1,\"0\":[true,null]}}", "o\"rg",
	  "{\"userId\":\"u\\\"2\",\"permissions\":{\"acme:*\":[\"*:read\"],"
	  "\"acme:doc\":[\"*:write\",\"comments:read\"]},\"userInfo\":"
	  "{\"0\":[true,null],\"b\":1},\"organizationId\":\"o\\\"rg\"}",
	  "{\"userId\":\"u\\\"2\",\"groupIds\":[\"g1\",\"g\\\\2\"],"
	  "\"userInfo\":{\"0\":[true,null],\"b\":1},\"organizationId\":"
	  "\"o\\\"rg\"}" },
	{ "{\"sub\":\"u3\",\"exp\":1800000000,\"groups\":[]}", NULL,
	  "{\"userId\":\"u3\",\"permissions\":{\"acme:*\":[\"*:read\"],"
	  "\"acme:doc\":[\"*:write\",\"comments:read\"]}}",
	  "{\"userId\":\"u3\",\"groupIds\":[]}" },
	/* A user from REMOTE_USER: no claims, so nothing but the id. */
	{ NULL, NULL,
	  "{\"userId\":\"remote\\\"u\",\"permissions\":{\"acme:*\":"
	  "[\"*:read\"],\"acme:doc\":[\"*:write\",\"comments:read\"]}}",
	  "{\"userId\":\"remote\\\"u\"}" },
};

int
main(void)
{
	struct lbauth_user	 u;
	struct lbauth_session	 s, empty;
	struct lbx_buf		 b;
	size_t			 i;

	lbx_session_init(&s);
	lbx_session_init(&empty);
	test_assert(lbauth_session_allow(&s, "acme:*", lbauth_read_access) ==
	    LBAUTH_OK);
	test_assert(lbauth_session_allow(&s, "acme:doc", (const char *[]){
	    "*:write", "comments:read", NULL }) == LBAUTH_OK);
	lbx_buf_init(&b);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (rows[i].claims != NULL)
			test_user(&u, rows[i].claims);
		else {
			lbx_user_init(&u);
			test_assert_idx(lbx_user_remote(&u, "remote\"u") ==
			    LBAUTH_OK, i);
		}
		lbx_buf_reset(&b);
		lbx_apibody_authorize(&b, &u, &s, rows[i].org);
		test_assert_idx(!b.oom && strcmp(b.p, rows[i].authorize) == 0,
		    i);
		lbx_buf_reset(&b);
		lbx_apibody_identify(&b, &u, rows[i].org);
		test_assert_idx(!b.oom && strcmp(b.p, rows[i].identify) == 0,
		    i);
		/* Both append: what b held stays in front. */
		lbx_buf_reset(&b);
		lbx_buf_puts(&b, "x");
		lbx_apibody_identify(&b, &u, rows[i].org);
		test_assert_idx(b.p[0] == 'x' &&
		    strcmp(b.p + 1, rows[i].identify) == 0, i);
		lbx_user_clear(&u);
	}

	/* No grant: "permissions":{} (app.c answers 403 before, though). */
	test_user(&u, "{\"sub\":\"u1\",\"exp\":1800000000}");
	lbx_buf_reset(&b);
	lbx_apibody_authorize(&b, &u, &empty, NULL);
	test_assert(strcmp(b.p, "{\"userId\":\"u1\",\"permissions\":{}}") ==
	    0);
	lbx_user_clear(&u);

	/* A fixed buffer too small for the body: oom, never past its end. */
	{
		struct lbx_buf	 f;
		char		 small[16];

		test_user(&u, "{\"sub\":\"u1\",\"exp\":1800000000}");
		lbx_buf_fixed(&f, small, sizeof(small));
		lbx_apibody_authorize(&f, &u, &s, NULL);
		test_assert(f.oom && f.len < sizeof(small));
		lbx_user_clear(&u);
	}
	lbx_buf_clear(&b);
	return test_done();
}
