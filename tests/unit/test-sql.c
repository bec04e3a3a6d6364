/*
 * test-sql.c: named parameters (lbx_sql_translate), the password scrub
 * and the access column of policy = sql, sql.c and sqlpolicy.c.
 */
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"

#define ALL	0xfu

static void
test_translate(void)
{
	static const struct {
		const char		*in;
		enum lbx_placeholder	 ph;
		unsigned		 allowed;
		const char		*out;	/* NULL: refused */
		const char		*params;	/* first letters */
	} rows[] = {
		{ "SELECT 1 WHERE a = :session", LBX_PH_QNUM, ALL,
		    "SELECT 1 WHERE a = ?1", "s" },
		{ "x :user :org :room :user", LBX_PH_DOLLAR, ALL,
		    "x $1 $2 $3 $4", "uoru" },
		{ "x :user, :room", LBX_PH_QMARK, ALL, "x ?, ?", "ur" },
		/* Literals, comments and casts keep their colons. */
		{ "x ':room' :room", LBX_PH_QNUM, ALL, "x ':room' ?1", "r" },
		{ "x 'it''s :user' :org", LBX_PH_QNUM, ALL,
		    "x 'it''s :user' ?1", "o" },
		{ "x \":user\" `:org`", LBX_PH_QMARK, ALL,
		    "x \":user\" `:org`", "" },
		{ "x 'a\\':user' :org", LBX_PH_QMARK, ALL,
		    "x 'a\\':user' ?", "o" },
		{ "x -- :user\n:org", LBX_PH_DOLLAR, ALL, "x -- :user\n$1",
		    "o" },
		{ "x /* :user */ :org", LBX_PH_DOLLAR, ALL,
		    "x /* :user */ $1", "o" },
		{ "x :session::text", LBX_PH_DOLLAR, ALL, "x $1::text", "s" },
		{ "x a::int", LBX_PH_DOLLAR, ALL, "x a::int", "" },
		{ "x ':", LBX_PH_QNUM, ALL, NULL, NULL },
		{ "x /* :user", LBX_PH_QNUM, ALL, NULL, NULL },
		{ "x :usr", LBX_PH_QNUM, ALL, NULL, NULL },
		{ "x :session", LBX_PH_QNUM, 1u << LBX_SQLP_USER, NULL, NULL },
		{ "x :room", LBX_PH_QNUM, 1u << LBX_SQLP_SESSION, NULL, NULL },
		{ "", LBX_PH_QNUM, ALL, NULL, NULL },
	};
	struct lbx_sql_query	 q;
	const char		*why;
	size_t			 i, j;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum lbauth_err rc;

		memset(&q, 0, sizeof(q));
		rc = lbx_sql_translate(&q, rows[i].in, strlen(rows[i].in),
		    rows[i].ph, rows[i].allowed, &why);
		if (rows[i].out == NULL) {
			test_assert_idx(rc == LBAUTH_ECONFIG && why != NULL, i);
			continue;
		}
		test_assert_idx(rc == LBAUTH_OK, i);
		test_assert_idx(q.sql != NULL && strcmp(q.sql, rows[i].out) ==
		    0, i);
		test_assert_idx(q.nparams == strlen(rows[i].params), i);
		for (j = 0; j < q.nparams && j < strlen(rows[i].params); j++)
			test_assert_idx("suor"[q.params[j]] ==
			    rows[i].params[j], i);
		free(q.sql);
	}
}

static void
test_scrub(void)
{
	struct lbx_sql	 s;
	char		 msg[128];
	char		 cs1[] = "host=h password=hunter22 user=u";
	char		 cs2[] = "postgresql://u:s3cr3t@h/db";

	memset(&s, 0, sizeof(s));
	s.connstr.p = (unsigned char *)cs1;
	snprintf(msg, sizeof(msg), "bad: hunter22 and hunter22.");
	lbx_sql_scrub(&s, msg);
	test_assert(strcmp(msg, "bad: *** and ***.") == 0);
	s.connstr.p = (unsigned char *)cs2;
	snprintf(msg, sizeof(msg), "x s3cr3t y");
	lbx_sql_scrub(&s, msg);
	test_assert(strcmp(msg, "x *** y") == 0);
	snprintf(msg, sizeof(msg), "aXa");
	lbx_sql_scrub_str(msg, "X", 1);
	test_assert(strcmp(msg, "a*a") == 0);
}

static void
test_access(void)
{
	static const struct {
		const char	*in;
		enum lbauth_err	 rc;
		const char	*first;
	} rows[] = {
		{ "full", LBAUTH_OK, "*:write" },
		{ "read", LBAUTH_OK, "*:read" },
		{ "room:write comments:write", LBAUTH_OK, "room:write" },
		{ " room:read\tfeeds:write ", LBAUTH_OK, "room:read" },
		{ "", LBAUTH_EEMPTY, NULL },
		{ "   ", LBAUTH_EEMPTY, NULL },
		{ "FULL", LBAUTH_ESCOPE, NULL },
		{ "room:write fly:high", LBAUTH_ESCOPE, NULL },
	};
	const char	*first, *why;
	size_t		 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		test_assert_idx(lbx_sqlpolicy_access(rows[i].in,
		    strlen(rows[i].in), &first, &why) == rows[i].rc, i);
		if (rows[i].first != NULL)
			test_assert_idx(first != NULL &&
			    strcmp(first, rows[i].first) == 0, i);
	}
}

int
main(void)
{

	test_translate();
	test_scrub();
	test_access();
	return test_done();
}
