/*
 * sqlpolicy.c: policy = sql, room access from the app's database.
 *
 * room_query (a request for a room) gets :user, :org and :room;
 * roomless_query (a request for no room, "{}") gets :user and :org.
 * Both may also name :session, the session id identity_query looked up
 * (a query that finds the user by it rather than by :user or :org goes
 * out with the identity query, in one round trip, where the driver can:
 * sql.c).
 * Each row is (pattern, access) and becomes one lbauth_session_allow():
 * access is "full" (FULL_ACCESS, {"*:write"}), "read" (READ_ACCESS,
 * {"*:read"}) or a blank-separated list of Liveblocks scopes, checked
 * exactly as allow() checks them.  0 rows: 403.  A row allow() refuses
 * (a bad pattern or scope, more than 10 patterns): 500 and a log line;
 * the grants are never cut short silently.  A database down or slow:
 * 503 policy_unavailable, never 403.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "extern.h"

#define ACCESS_MAX	512	/* bytes of an access column */
#define SCOPES_MAX	24	/* entries of a scope list */

/*
 * Turns the access text s (len bytes) into the NULL-terminated scope
 * list *list_r (pointers into buf, ACCESS_MAX + 1 bytes, or the
 * built-in lists).  Returns LBAUTH_OK or LBAUTH_EEMPTY/LBAUTH_ESCOPE
 * for what allow() would refuse anyway; allow() checks the scopes.
 */
static enum lbauth_err
access_list(const char *s, size_t len, char *buf, const char **list,
    const char *const **list_r)
{
	size_t	 i, n = 0;
	char	*p;

	if (len == 4 && memcmp(s, "full", 4) == 0) {
		*list_r = lbauth_full_access;
		return LBAUTH_OK;
	}
	if (len == 4 && memcmp(s, "read", 4) == 0) {
		*list_r = lbauth_read_access;
		return LBAUTH_OK;
	}
	if (len > ACCESS_MAX || memchr(s, '\0', len) != NULL)
		return LBAUTH_ESCOPE;
	memcpy(buf, s, len);
	buf[len] = '\0';
	for (p = buf, i = 0; i <= len; i++) {
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (*p != '\0') {
			if (n == SCOPES_MAX)
				return LBAUTH_ESCOPE;
			list[n++] = p;
		}
		p = buf + i + 1;
	}
	list[n] = NULL;
	*list_r = list;
	return n == 0 ? LBAUTH_EEMPTY : LBAUTH_OK;
}

/*
 * Checks the access text s (len bytes) as a row's access column: a
 * session to try it on is made and thrown away.  Returns as
 * lbauth_session_allow() does, with the first scope granted in
 * *first_r and a sentence in *reason_r (both static storage).  Pure.
 */
enum lbauth_err
lbx_sqlpolicy_access(const char *s, size_t len, const char **first_r,
    const char **reason_r)
{
	struct lbauth_session	 sess;
	char			 buf[ACCESS_MAX + 1];
	const char		*list[SCOPES_MAX + 1];
	const char *const	*l;
	enum lbauth_err		 rc;

	lbx_session_init(&sess);
	*reason_r = NULL;
	if ((rc = access_list(s, len, buf, list, &l)) == LBAUTH_OK)
		rc = lbauth_session_allow(&sess, "x", l);
	/* The scope table's own string: buf dies with this call. */
	*first_r = rc == LBAUTH_OK ?
	    lbx_session_scope(sess.grants[0].scopes[0]) : NULL;
	if (rc != LBAUTH_OK)
		*reason_r = lbauth_strerror(rc);
	return rc;
}

struct grants {
	struct lbauth_session	*sess;
	size_t			 n;
	enum lbauth_err		 err;	/* the first row refused */
	size_t			 bad;	/* its number, from 1 */
	const char		*why;
};

static int
row(void *arg, size_t ncols, const char *const *names,
    const char *const *vals, const size_t *lens)
{
	struct grants		*g = arg;
	char			 buf[ACCESS_MAX + 1];
	const char		*list[SCOPES_MAX + 1];
	const char *const	*l;
	const char		*pattern = NULL, *access = NULL;
	size_t			 i, plen = 0, alen = 0;
	enum lbauth_err		 rc;

	g->n++;
	if (g->err != LBAUTH_OK)
		return 0;	/* keep counting: the log gives the total */
	for (i = 0; i < ncols; i++) {
		if (strcasecmp(names[i], "pattern") == 0) {
			pattern = vals[i];
			plen = lens[i];
		} else if (strcasecmp(names[i], "access") == 0) {
			access = vals[i];
			alen = lens[i];
		}
	}
	if (pattern == NULL || access == NULL) {
		rc = pattern == NULL ? LBAUTH_EPATTERN : LBAUTH_EEMPTY;
		g->why = "a row lacks its pattern or access column (or it "
		    "is NULL)";
	} else if (memchr(pattern, '\0', plen) != NULL) {
		/*
		 * Read up to the NUL, "team-*\0x" would be the wildcard
		 * "team-*" (a BLOB or VARBINARY column can hold one).
		 */
		rc = LBAUTH_EPATTERN;
		g->why = "a pattern holds a NUL byte";
	} else if (lbx_utf8_has_ctl(pattern, plen)) {
		/* allow() takes them; a room id never has one (req.c). */
		rc = LBAUTH_EPATTERN;
		g->why = "a pattern holds a control character";
	} else if ((rc = access_list(access, alen, buf, list, &l)) ==
	    LBAUTH_OK)
		rc = lbauth_session_allow(g->sess, pattern, l);
	if (rc != LBAUTH_OK) {
		g->err = rc;
		g->bad = g->n;
	}
	return 0;
}

/*
 * Grants on sess what the room query (room not NULL) or the room-less
 * query says for user, whose session id is sid (NULL: none, as for
 * REMOTE_USER or a JWT cookie).  Returns LBAUTH_OK when something was
 * granted; LBAUTH_EDENIED for no rows (or no roomless_query); the error
 * of the first row allow() refuses (LBAUTH_EPATTERN, LBAUTH_ESCOPE,
 * LBAUTH_EEMPTY, LBAUTH_ETOOMANY) with a sentence in why;
 * LBAUTH_EPOLDOWN when the database is down or slow; LBAUTH_ESQL.
 */
enum lbauth_err
lbx_sqlpolicy_decide(struct lbauth_session *sess, struct lbx_sql *sql,
    const char *room, const struct lbauth_user *u, const char *sid, char *why,
    size_t whysz)
{
	const char		*vals[LBX_SQLP__MAX] = { NULL };
	enum lbx_sql_qid	 qid = room != NULL ? LBX_SQLQ_ROOM :
				    LBX_SQLQ_ROOMLESS;
	struct grants		 g;
	enum lbx_sql_rc		 rc;

	why[0] = '\0';
	if (sql->q[qid].sql == NULL) {
		snprintf(why, whysz, "no roomless_query");
		return LBAUTH_EDENIED;
	}
	memset(&g, 0, sizeof(g));
	g.sess = sess;
	vals[LBX_SQLP_USER] = lbauth_user_id(u);
	vals[LBX_SQLP_ORG] = lbauth_user_org(u);
	vals[LBX_SQLP_ROOM] = room;
	vals[LBX_SQLP_SESSION] = sid;
	rc = lbx_sql_run(sql, qid, vals, row, &g, why, whysz);
	if (rc == LBX_SQL_NOMATCH)
		return LBAUTH_EDENIED;	/* why says what */
	if (rc != LBX_SQL_OK)
		return rc == LBX_SQL_FAIL ? LBAUTH_ESQL : LBAUTH_EPOLDOWN;
	if (g.err != LBAUTH_OK) {
		snprintf(why, whysz, "%s row %zu of %zu: %s",
		    qid == LBX_SQLQ_ROOM ? "room_query" : "roomless_query",
		    g.bad, g.n, g.why != NULL ? g.why :
		    lbauth_strerror(g.err));
		lbx_session_init(sess);
		return g.err;
	}
	return g.n == 0 ? LBAUTH_EDENIED : LBAUTH_OK;
}
