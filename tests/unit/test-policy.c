/*
 * test-policy.c: lib/policy.c, the built-in "org" policy (the Liveblocks
 * guide's endpoint logic, with "<org>:*" instead of the guide's
 * "<org>*" so that org "acme" cannot read org "acmecorp"'s rooms) and
 * the registry's refusal of an unknown name.  Plugins are tested apart.
 */
#include <stdlib.h>
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"

#define O126	"012345678901234567890123456789012345678901234567890123456789" \
		"012345678901234567890123456789012345678901234567890123456789" \
		"012345"
#define R123	"012345678901234567890123456789012345678901234567890123456789" \
		"012345678901234567890123456789012345678901234567890123456789" \
		"012"

static const struct {
	const char		*claims;	/* beyond sub and exp */
	const char		*room;		/* NULL: none asked */
	enum lbauth_decision	 want;
	const char		*perms;		/* the session's JSON */
} rows[] = {
	/* The room is in the rooms claim: full access to it. */
	{ ",\"rooms\":[\"doc-1\"]", "doc-1", LBAUTH_DECISION_ALLOW,
	    "{\"doc-1\":[\"*:write\"]}" },
	{ ",\"rooms\":[\"team:*\"]", "team:x", LBAUTH_DECISION_ALLOW,
	    "{\"team:x\":[\"*:write\"]}" },
	{ ",\"rooms\":[\"*\"]", "any", LBAUTH_DECISION_ALLOW,
	    "{\"any\":[\"*:write\"]}" },
	{ ",\"org\":\"acme\",\"rooms\":[\"other\"]", "other",
	    LBAUTH_DECISION_ALLOW, "{\"other\":[\"*:write\"]}" },
	/* The room is the org's: full access to it. */
	{ ",\"org\":\"acme\"", "acme:x", LBAUTH_DECISION_ALLOW,
	    "{\"acme:x\":[\"*:write\"]}" },
	{ ",\"org\":\"acme\"", "acme:", LBAUTH_DECISION_ALLOW,
	    "{\"acme:\":[\"*:write\"]}" },
	{ ",\"org\":\"acme\"", "acme:" R123, LBAUTH_DECISION_ALLOW,
	    "{\"acme:" R123 "\":[\"*:write\"]}" },	/* 128 characters */
	/* Another org's room, prefix or not: read access to the org's. */
	{ ",\"org\":\"acme\"", "acmecorp:x", LBAUTH_DECISION_ALLOW,
	    "{\"acme:*\":[\"*:read\"]}" },
	{ ",\"org\":\"acme\"", "acme", LBAUTH_DECISION_ALLOW,
	    "{\"acme:*\":[\"*:read\"]}" },
	{ ",\"org\":\"acme\"", "other:x", LBAUTH_DECISION_ALLOW,
	    "{\"acme:*\":[\"*:read\"]}" },
	{ ",\"org\":\"acme\",\"rooms\":[\"a\"]", "b", LBAUTH_DECISION_ALLOW,
	    "{\"acme:*\":[\"*:read\"]}" },
	/* No room asked: read access to the org's rooms. */
	{ ",\"org\":\"acme\"", NULL, LBAUTH_DECISION_ALLOW,
	    "{\"acme:*\":[\"*:read\"]}" },
	{ ",\"org\":\"" O126 "\"", NULL, LBAUTH_DECISION_ALLOW,
	    "{\"" O126 ":*\":[\"*:read\"]}" },		/* longest org */
	/* No org and no match: deny, nothing granted. */
	{ "", NULL, LBAUTH_DECISION_DENY, "{}" },
	{ "", "x", LBAUTH_DECISION_DENY, "{}" },
	{ ",\"rooms\":[\"a\"]", "b", LBAUTH_DECISION_DENY, "{}" },
	{ ",\"rooms\":[\"a\"]", NULL, LBAUTH_DECISION_DENY, "{}" },
	{ ",\"rooms\":[\"team:*\"]", "team", LBAUTH_DECISION_DENY, "{}" },
};

static const char *
noparam(void *arg, const char *name)
{

	return NULL;
}

int
main(void)
{
	struct lbx_policy	 p;
	struct lbauth_request	 req;
	struct lbauth_user	 u;
	struct lbauth_session	 s;
	struct lbx_claims_rules	 r = { 1000, 60, NULL, NULL };
	struct json_object	*o;
	struct lbx_buf		 b;
	const char		*reason;
	char			 json[1024], err[512];
	size_t			 i;

	lbx_buf_init(&b);
	test_assert(lbx_policy_open(&p, "org", NULL, err, sizeof(err)) ==
	    LBAUTH_OK);
	test_assert(p.ops != NULL && p.dl == NULL &&
	    strcmp(p.ops->name, "org") == 0 &&
	    p.ops->abi == LBAUTH_POLICY_ABI && p.ops->decide != NULL);

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(json, sizeof(json), "{\"sub\":\"u\",\"exp\":2000%s}",
		    rows[i].claims);
		lbx_user_init(&u);
		test_assert_idx(lbx_json_parse(json, strlen(json), &o) ==
		    LBAUTH_OK, i);
		test_assert_idx(lbx_cookie_claims(&u, o, &r, &reason) ==
		    LBAUTH_OK, i);
		memset(&req, 0, sizeof(req));
		req.param = noparam;
		req.room = rows[i].room;
		lbx_session_init(&s);
		test_assert_idx(p.ops->decide(p.ctx, &req, &u, &s) ==
		    rows[i].want, i);
		lbx_buf_reset(&b);
		lbx_session_write(&b, &s);
		test_assert_idx(strcmp(b.p, rows[i].perms) == 0, i);
		lbx_user_clear(&u);
	}
	lbx_policy_close(&p);
	test_assert(p.ops == NULL);
	lbx_policy_close(&p);		/* a closed one closes again */

	/* Unknown built-in names stop start-up with a sentence. */
	err[0] = '\0';
	test_assert(lbx_policy_open(&p, "nope", NULL, err, sizeof(err)) ==
	    LBAUTH_ECONFIG);
	test_assert(strstr(err, "unknown policy \"nope\"") != NULL);
	test_assert(p.ops == NULL);
	lbx_policy_close(&p);
	test_assert(lbx_policy_open(&p, "Org", "arg", err, sizeof(err)) ==
	    LBAUTH_ECONFIG && strstr(err, "\"Org\"") != NULL);
	lbx_policy_close(&p);
	test_assert(lbx_policy_open(&p, "", NULL, err, sizeof(err)) ==
	    LBAUTH_ECONFIG);
	lbx_policy_close(&p);

	lbx_buf_clear(&b);
	return test_done();
}
