/*
 * test-user.c: lib/user.c, the user object: REMOTE_USER's rules (1 to
 * 128 characters of text), the accessors a policy calls on users with
 * and without claims, the groups writer token.c and apibody.c use, and
 * clear.
 */
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"
#include "fixture.h"

static const struct {
	const char	*remote;
	enum lbauth_err	 rc;
} remotes[] = {
	{ "alice", LBAUTH_OK },
	{ "al\"ice", LBAUTH_OK },
	{ "caf\xc3\xa9", LBAUTH_OK },
	{ "", LBAUTH_ECLAIM },
	{ "a\nb", LBAUTH_ECLAIM },
	{ "a\x7f", LBAUTH_ECLAIM },
	{ "\xc3", LBAUTH_ECLAIM },		/* not UTF-8 */
	{ "\xed\xa0\x80", LBAUTH_ECLAIM },	/* a lone surrogate */
};

int
main(void)
{
	struct lbauth_user	 u;
	struct lbx_buf		 b;
	char			 id[140];
	size_t			 i;

	for (i = 0; i < sizeof(remotes) / sizeof(remotes[0]); i++) {
		lbx_user_init(&u);
		test_assert_idx(lbx_user_remote(&u, remotes[i].remote) ==
		    remotes[i].rc, i);
		if (remotes[i].rc == LBAUTH_OK)
			test_assert_idx(strcmp(lbauth_user_id(&u),
			    remotes[i].remote) == 0, i);
		lbx_user_clear(&u);
	}
	memset(id, 'u', 128);
	id[128] = '\0';
	lbx_user_init(&u);
	test_assert(lbx_user_remote(&u, id) == LBAUTH_OK);
	lbx_user_clear(&u);
	id[128] = 'u';
	id[129] = '\0';
	lbx_user_init(&u);
	test_assert(lbx_user_remote(&u, id) == LBAUTH_ECLAIM);
	lbx_user_clear(&u);

	/* A REMOTE_USER user has nothing but its id. */
	lbx_buf_init(&b);
	lbx_user_init(&u);
	test_assert(lbx_user_remote(&u, "r") == LBAUTH_OK);
	test_assert(lbauth_user_org(&u) == NULL);
	test_assert(lbauth_user_ngroups(&u) == 0);
	test_assert(lbauth_user_group(&u, 0) == NULL);
	test_assert(!lbauth_user_may_enter(&u, "acme:doc"));
	test_assert(lbauth_user_claim(&u, "sub") == NULL);
	lbx_user_write_groups(&b, &u);
	test_assert(strcmp(b.p, "[]") == 0);
	lbx_user_clear(&u);
	test_assert(u.id == NULL && u.idbuf == NULL && u.info.len == 0);

	/* A user from claims. */
	test_user(&u, "{\"sub\":\"u1\",\"exp\":1800000000,\"org\":\"acme\","
	    "\"groups\":[\"g1\",\"g\\\"2\"],\"rooms\":[\"acme:*\",\"x:doc\"],"
	    "\"team\":\"blue\",\"n\":1}");
	test_assert(strcmp(lbauth_user_id(&u), "u1") == 0);
	test_assert(strcmp(lbauth_user_org(&u), "acme") == 0);
	test_assert(lbauth_user_ngroups(&u) == 2);
	test_assert(strcmp(lbauth_user_group(&u, 1), "g\"2") == 0);
	test_assert(lbauth_user_group(&u, 2) == NULL);
	test_assert(lbauth_user_may_enter(&u, "acme:doc"));
	test_assert(lbauth_user_may_enter(&u, "x:doc"));
	test_assert(!lbauth_user_may_enter(&u, "x:doc2"));
	test_assert(!lbauth_user_may_enter(&u, "globex:doc"));
	test_assert(strcmp(lbauth_user_claim(&u, "team"), "blue") == 0);
	test_assert(lbauth_user_claim(&u, "n") == NULL);	/* not a string */
	test_assert(lbauth_user_claim(&u, "none") == NULL);
	lbx_buf_reset(&b);
	lbx_user_write_groups(&b, &u);
	test_assert(strcmp(b.p, "[\"g1\",\"g\\\"2\"]") == 0);
	lbx_user_clear(&u);
	test_assert(u.claims == NULL && u.groups == NULL && u.rooms == NULL);
	lbx_buf_clear(&b);
	return test_done();
}
