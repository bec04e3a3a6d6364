/*
 * test-sql.c: named parameters (lbx_sql_translate), the password scrub
 * and the access column of policy = sql, sql.c and sqlpolicy.c; and
 * which driver calls lbx_sql_run() makes when a query goes out ahead
 * (lbx_sql_ahead), on a hint of who the session was or not, against a
 * driver that writes down its calls; and the hint table (sqlhint.c).
 */
#include <stdbool.h>
#include <stdio.h>
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

/*
 * Connect strings that hide a password in other ways (found in review:
 * each was quoted back before), and a message quoting the parts.
 */
static void
scrub_rows(void)
{
	static const struct {
		const char *cs, *msg, *want;
	} rows[] = {
		{ "host=h password = hunter22 user=u", "x hunter22 y",
		    "x *** y" },
		{ "sslpassword=keypass password=hunter22",
		    "keypass hunter22", "*** ***" },
		{ "password='a b\\'c' host=h", "got a b'c and a b\\'c",
		    "got *** and ***" },
		{ "password=\"qq1\" host=h", "qq1", "***" },
		{ "postgresql://u:pa@ss9@h/db", "invalid port \"ss9@h\" pa@ss9",
		    "invalid port \"***@h\" ***" },
		{ "postgresql://h/db?user=u&password=hunter22&sslmode=x",
		    "hunter22", "***" },
		{ "host=h user=password", "password", "password" },
	};
	struct lbx_sql	 s;
	char		 cs[128], msg[128];
	size_t		 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&s, 0, sizeof(s));
		snprintf(cs, sizeof(cs), "%s", rows[i].cs);
		s.connstr.p = (unsigned char *)cs;
		snprintf(msg, sizeof(msg), "%s", rows[i].msg);
		lbx_sql_scrub(&s, msg);
		test_assert_idx(strcmp(msg, rows[i].want) == 0, i);
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
	scrub_rows();
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

/*
 * The recording driver: each call appends a word to trace ("exec0",
 * "send1:s-1,r-1", "recv1", "drop1", "end"), and the rows of query N
 * are one row with column q = "N".  sent is the FIFO of queries sent
 * and not read.
 */
static struct {
	char	 trace[512];
	int	 sent[8];
	size_t	 nsent;
	unsigned user_type;	/* of :user in a policy query (describe) */
	const char *fused_id;	/* the id of the fused statement's row */
} rec;

static void
note(const char *w)
{

	if (rec.trace[0] != '\0')
		strncat(rec.trace, " ", sizeof(rec.trace) - strlen(rec.trace) - 1);
	strncat(rec.trace, w, sizeof(rec.trace) - strlen(rec.trace) - 1);
}

static int
give_row(lbx_sql_row_fn fn, void *arg, int id)
{
	static const char *const names[] = { "q" };
	const char	*v[1];
	size_t		 len = 1;
	char		 buf[2] = { (char)('0' + id), '\0' };

	v[0] = buf;
	return fn(arg, 1, names, v, &len);
}

static enum lbx_sql_rc
rec_connect(void **c, const char *cs, long ms, char *err, size_t errsz)
{

	*c = &rec;
	return LBX_SQL_OK;
}

static enum lbx_sql_rc
rec_prepare(void *c, size_t id, const char *sql, size_t n, char *err,
    size_t errsz)
{

	return LBX_SQL_OK;
}

static enum lbx_sql_rc
rec_exec(void *c, size_t id, const char *const *v, size_t n, long ms,
    lbx_sql_row_fn fn, void *arg, char *err, size_t errsz)
{
	char	 w[16];

	snprintf(w, sizeof(w), "exec%zu", id);
	note(w);
	give_row(fn, arg, (int)id);
	return LBX_SQL_OK;
}

static enum lbx_sql_rc
rec_send(void *c, size_t id, const char *const *v, size_t n, char *err,
    size_t errsz)
{
	char	 w[128];
	size_t	 i, len;

	len = (size_t)snprintf(w, sizeof(w), "send%zu", id);
	for (i = 0; i < n && len < sizeof(w); i++)
		len += (size_t)snprintf(w + len, sizeof(w) - len, "%c%s",
		    i == 0 ? ':' : ',', v[i] != NULL ? v[i] : "NULL");
	note(w);
	rec.sent[rec.nsent++] = (int)id;
	return LBX_SQL_OK;
}

static enum lbx_sql_rc
rec_recv(void *c, long ms, lbx_sql_row_fn fn, void *arg, char *err,
    size_t errsz)
{
	char	 w[16];
	int	 id;

	if (rec.nsent == 0) {
		note("recv-nothing");
		return LBX_SQL_FAIL;
	}
	id = rec.sent[0];
	memmove(rec.sent, rec.sent + 1, --rec.nsent * sizeof(rec.sent[0]));
	snprintf(w, sizeof(w), "%s%d", fn != NULL ? "recv" : "drop", id);
	note(w);
	if (fn != NULL)
		give_row(fn, arg, id);
	return LBX_SQL_OK;
}

static int
rec_end(void *c)
{

	note("end");
	while (rec.nsent > 0)
		rec_recv(c, 0, NULL, NULL, NULL, 0);
	return 0;
}

static void
rec_close(void *c)
{
}

static const struct lbx_sql_driver rec_driver = {
	.name = "rec", .placeholder = LBX_PH_QNUM, .load = NULL,
	.connect = rec_connect, .prepare = rec_prepare, .exec = rec_exec,
	.close = rec_close, .end = rec_end, .send = rec_send,
	.recv = rec_recv,
};
/*
 * The fused driver: rec_driver with describe (the identity query has
 * columns id and org of type 25; a policy query's :user is of type
 * rec.user_type), and its exec of a fused statement gives one row: 1
 * identity row, id rec.fused_id, org o-1, a room row "F".
 */
static enum lbx_sql_rc
rec_describe(void *c, size_t id, struct lbx_sql_desc *d, char *err,
    size_t errsz)
{
	size_t	 i;

	memset(d, 0, sizeof(*d));
	if (id == LBX_SQLQ_IDENTITY) {
		d->ncols = 2;
		strcpy(d->cname[0], "id");
		strcpy(d->cname[1], "org");
		d->ctype[0] = d->ctype[1] = 25;
		return LBX_SQL_OK;
	}
	d->nparams = LBX_SQL_PARAMS_MAX;
	for (i = 0; i < d->nparams; i++)
		d->ptype[i] = rec.user_type;
	d->ncols = 1;
	strcpy(d->cname[0], "q");
	return LBX_SQL_OK;
}

static enum lbx_sql_rc
rec_fexec(void *c, size_t id, const char *const *v, size_t n, long ms,
    lbx_sql_row_fn fn, void *arg, char *err, size_t errsz)
{
	static const char *const names[] = { "count", "id", "org", "?column?",
	    "q" };
	const char	*row[5] = { "1", rec.fused_id, "o-1", "1", "F" };
	size_t		 lens[5], i;
	char		 w[32];

	if (id < LBX_SQLQ__MAX)
		return rec_exec(c, id, v, n, ms, fn, arg, err, errsz);
	snprintf(w, sizeof(w), "fused%zu", id);
	note(w);
	for (i = 0; i < 5; i++)
		lens[i] = strlen(row[i]);
	return fn(arg, 5, names, row, lens) == 0 ? LBX_SQL_OK : LBX_SQL_FAIL;
}

static const struct lbx_sql_driver rec_fused = {
	.name = "fused", .placeholder = LBX_PH_DOLLAR, .load = NULL,
	.connect = rec_connect, .prepare = rec_prepare, .exec = rec_fexec,
	.close = rec_close, .end = rec_end, .send = rec_send,
	.recv = rec_recv, .describe = rec_describe,
};
static const struct lbx_sql_driver rec_plain = {
	.name = "plain", .placeholder = LBX_PH_QNUM, .load = NULL,
	.connect = rec_connect, .prepare = rec_prepare, .exec = rec_exec,
	.close = rec_close,
};

/* A row function: the q column of each row, appended to the string. */
static int
got(void *arg, size_t n, const char *const *names, const char *const *v,
    const size_t *lens)
{

	strcat(arg, v[0]);
	return 0;
}

/* Sets up s on drv with the three queries; room and roomless as given. */
static void
rec_setup(struct lbx_sql *s, const struct lbx_sql_driver *drv,
    const char *room, const char *roomless)
{
	static char	 cs[] = "x";
	const char	*why;
	const char	*text[LBX_SQLQ__MAX] = { "SELECT :session", room,
			    roomless };
	size_t		 i;

	lbx_sql_init(s, drv);
	s->connstr.p = (unsigned char *)cs;
	for (i = 0; i < LBX_SQLQ__MAX; i++)
		test_assert(lbx_sql_translate(&s->q[i], text[i],
		    strlen(text[i]), LBX_PH_QNUM, ALL, &why) == LBAUTH_OK);
	memset(&rec, 0, sizeof(rec));
}

/* Clears s, whose connect string is not the key file's to free. */
static void
rec_clear(struct lbx_sql *s)
{

	s->connstr.p = NULL;
	lbx_sql_clear(s);
}

static const char *const vals[LBX_SQLP__MAX] = { "s-1", "u-1", "o-1",
    "r-1" };

/*
 * Sets s up on drv with the room and roomless queries given, holds it
 * if hold, asks for the room query ahead and runs the identity query,
 * its rows into out (8 bytes).
 */
static void
identity_first(struct lbx_sql *s, const struct lbx_sql_driver *drv,
    const char *room, const char *roomless, bool hold, char *out)
{
	char	 e[128];

	rec_setup(s, drv, room, roomless);
	if (hold)
		lbx_sql_hold(s);
	lbx_sql_ahead(s, LBX_SQLQ_ROOM, vals);
	out[0] = '\0';
	test_assert(lbx_sql_run(s, LBX_SQLQ_IDENTITY, vals, got, out, e,
	    sizeof(e)) == LBX_SQL_OK);
}

/* Runs query qid on s, its rows appended to out. */
static void
then(struct lbx_sql *s, enum lbx_sql_qid qid, char *out)
{
	char	 e[128];

	test_assert(lbx_sql_run(s, qid, vals, got, out, e, sizeof(e)) ==
	    LBX_SQL_OK);
}

static void
test_ahead(void)
{
	static const char	*room = "SELECT :room, :session";
	static const char	*roomless = "SELECT :session";
	struct lbx_sql		 s;
	char			 a[8], b[8];

	/* By :session: both go out with the identity query, read in turn. */
	identity_first(&s, &rec_driver, room, roomless, true, a);
	b[0] = '\0';
	then(&s, LBX_SQLQ_ROOM, b);
	lbx_sql_release(&s);
	test_assert(strcmp(rec.trace,
	    "send0:s-1 send1:r-1,s-1 recv0 recv1") == 0);
	test_assert(strcmp(a, "0") == 0 && strcmp(b, "1") == 0);
	rec_clear(&s);

	/* The identity query found no one: the room's rows are dropped. */
	identity_first(&s, &rec_driver, room, roomless, true, a);
	lbx_sql_release(&s);
	test_assert(strcmp(rec.trace, "send0:s-1 send1:r-1,s-1 recv0 end "
	    "drop1") == 0);
	rec_clear(&s);

	/* Another query runs first: the unread rows go before it. */
	identity_first(&s, &rec_driver, room, roomless, true, a);
	then(&s, LBX_SQLQ_ROOMLESS, a);
	lbx_sql_release(&s);
	test_assert(strcmp(rec.trace, "send0:s-1 send1:r-1,s-1 recv0 drop1 "
	    "exec2") == 0);
	test_assert(strcmp(a, "02") == 0);
	rec_clear(&s);

	/* By :user or :org: it needs the identity's answer, so it waits. */
	identity_first(&s, &rec_driver, "SELECT :user, :room", "SELECT :org",
	    true, a);
	lbx_sql_ahead(&s, LBX_SQLQ_ROOMLESS, vals);
	then(&s, LBX_SQLQ_ROOMLESS, a);
	lbx_sql_release(&s);
	test_assert(strcmp(rec.trace, "exec0 exec2") == 0);
	test_assert(!lbx_sql_names(&s, LBX_SQLQ_ROOM, LBX_SQLP_SESSION));
	test_assert(lbx_sql_names(&s, LBX_SQLQ_ROOM, LBX_SQLP_USER));
	rec_clear(&s);

	/* No hold, or a driver without send: nothing goes ahead. */
	identity_first(&s, &rec_driver, room, roomless, false, a);
	test_assert(strcmp(rec.trace, "exec0") == 0);
	rec_clear(&s);
	identity_first(&s, &rec_plain, room, roomless, true, a);
	then(&s, LBX_SQLQ_ROOM, a);
	lbx_sql_release(&s);
	test_assert(strcmp(rec.trace, "exec0 exec1") == 0);
	rec_clear(&s);
}

/*
 * One request on s as call.c makes it: hold, policy query qid asked
 * ahead with the session and room of answer, the identity query, then
 * (when found) qid with answer, whose :user and :org are the identity
 * query's; release.  rec.trace holds its calls, out its rows.
 */
static void
request(struct lbx_sql *s, enum lbx_sql_qid qid, const char *const *answer,
    bool found, char *out)
{
	const char	*given[LBX_SQLP__MAX] = { NULL };
	char		 e[128];

	rec.trace[0] = '\0';
	out[0] = '\0';
	given[LBX_SQLP_SESSION] = answer[LBX_SQLP_SESSION];
	given[LBX_SQLP_ROOM] = answer[LBX_SQLP_ROOM];
	lbx_sql_hold(s);
	lbx_sql_ahead(s, qid, given);
	test_assert(lbx_sql_run(s, LBX_SQLQ_IDENTITY, given, got, out, e,
	    sizeof(e)) == LBX_SQL_OK);
	if (found)
		test_assert(lbx_sql_run(s, qid, answer, got, out, e,
		    sizeof(e)) == LBX_SQL_OK);
	lbx_sql_release(s);
}

static void
test_hint(void)
{
	static const char *const ann[LBX_SQLP__MAX] = { "s-1", "ann",
	    "acme", "r-1" };
	static const char *const bob[LBX_SQLP__MAX] = { "s-1", "bob", NULL,
	    "r-1" };
	static const char *const other[LBX_SQLP__MAX] = { "s-2", "ann",
	    "acme", "r-1" };
	struct lbx_sql	 s;
	char		 a[8];

	rec_setup(&s, &rec_driver, "SELECT :user, :org, :room", "SELECT :org");
	/* A session new to the process: two round trips. */
	request(&s, LBX_SQLQ_ROOM, ann, true, a);
	test_assert(strcmp(rec.trace, "exec0 exec1") == 0);
	test_assert(strcmp(a, "01") == 0);
	/* Seen before: the room query goes out with the identity query. */
	request(&s, LBX_SQLQ_ROOM, ann, true, a);
	test_assert(strcmp(rec.trace,
	    "send0:s-1 send1:ann,acme,r-1 recv0 recv1") == 0);
	test_assert(strcmp(a, "01") == 0);
	/* Another session: no hint, as the first time. */
	request(&s, LBX_SQLQ_ROOM, other, true, a);
	test_assert(strcmp(rec.trace, "exec0 exec1") == 0);
	/* The session is now bob's: the guess's rows go, a fresh query. */
	request(&s, LBX_SQLQ_ROOM, bob, true, a);
	test_assert(strcmp(rec.trace,
	    "send0:s-1 send1:ann,acme,r-1 recv0 drop1 exec1") == 0);
	test_assert(strcmp(a, "01") == 0);
	/* ... and the hint is bob's, with no org (SQL NULL). */
	request(&s, LBX_SQLQ_ROOM, bob, true, a);
	test_assert(strcmp(rec.trace,
	    "send0:s-1 send1:bob,NULL,r-1 recv0 recv1") == 0);
	/* The room-less query by :org takes the same hint. */
	request(&s, LBX_SQLQ_ROOMLESS, bob, true, a);
	test_assert(strcmp(rec.trace,
	    "send0:s-1 send2:NULL recv0 recv2") == 0);
	/* No one any more: the rows are dropped and the hint forgotten. */
	request(&s, LBX_SQLQ_ROOM, bob, false, a);
	test_assert(strcmp(rec.trace,
	    "send0:s-1 send1:bob,NULL,r-1 recv0 end drop1") == 0);
	request(&s, LBX_SQLQ_ROOM, bob, false, a);
	test_assert(strcmp(rec.trace, "exec0") == 0);
	rec_clear(&s);

	/* A driver that cannot send ahead keeps no hints. */
	rec_setup(&s, &rec_plain, "SELECT :user, :org, :room", "SELECT :org");
	request(&s, LBX_SQLQ_ROOM, ann, true, a);
	request(&s, LBX_SQLQ_ROOM, ann, true, a);
	test_assert(strcmp(rec.trace, "exec0 exec1") == 0);
	test_assert(s.hints == NULL);
	rec_clear(&s);
}

/*
 * The hint table alone: keyed by a hash of the session id (no id kept),
 * one place per hash, long values refused.
 */
static void
test_hints(void)
{
	struct lbx_sql_hints		*t;
	const struct lbx_sql_hint	*h;
	char				 longer[LBX_SQL_HINT_MAX + 1];
	size_t				 i;

	test_assert((t = lbx_sqlhint_new()) != NULL);
	test_assert(lbx_sqlhint_find(t, "sid-1") == NULL);
	lbx_sqlhint_store(t, "sid-1", "ann", "acme");
	test_assert((h = lbx_sqlhint_find(t, "sid-1")) != NULL);
	test_assert(strcmp(h->user, "ann") == 0 && h->has_org &&
	    strcmp(h->org, "acme") == 0);
	test_assert(lbx_sqlhint_find(t, "sid-2") == NULL);
	test_assert(lbx_sqlhint_find(t, "sid-") == NULL);
	/* No entry holds the session id. */
	for (i = 0; i < LBX_SQL_HINTS; i++)
		test_assert(memmem(&t->e[i], sizeof(t->e[i]), "sid-1", 5) ==
		    NULL);
	lbx_sqlhint_store(t, "sid-1", "bob", NULL);
	test_assert((h = lbx_sqlhint_find(t, "sid-1")) != NULL);
	test_assert(strcmp(h->user, "bob") == 0 && !h->has_org);
	/* Too long to keep: the old hint goes too, never a cut one. */
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	lbx_sqlhint_store(t, "sid-1", longer, NULL);
	test_assert(lbx_sqlhint_find(t, "sid-1") == NULL);
	lbx_sqlhint_store(t, "sid-1", "ann", longer);
	test_assert(lbx_sqlhint_find(t, "sid-1") == NULL);
	longer[LBX_SQL_HINT_MAX - 1] = '\0';
	lbx_sqlhint_store(t, "sid-1", longer, longer);
	test_assert((h = lbx_sqlhint_find(t, "sid-1")) != NULL &&
	    strcmp(h->user, longer) == 0 && strcmp(h->org, longer) == 0);
	lbx_sqlhint_forget(t, "sid-2");
	test_assert(lbx_sqlhint_find(t, "sid-1") != NULL);
	lbx_sqlhint_forget(t, "sid-1");
	test_assert(lbx_sqlhint_find(t, "sid-1") == NULL);
	/* Many sessions: each finds its own or none, never another's. */
	for (i = 0; i < 4 * LBX_SQL_HINTS; i++) {
		char	 sid[16], user[16];

		snprintf(sid, sizeof(sid), "s%zu", i);
		snprintf(user, sizeof(user), "u%zu", i);
		lbx_sqlhint_store(t, sid, user, NULL);
	}
	for (i = 0; i < 4 * LBX_SQL_HINTS; i++) {
		char	 sid[16], user[16];

		snprintf(sid, sizeof(sid), "s%zu", i);
		snprintf(user, sizeof(user), "u%zu", i);
		if ((h = lbx_sqlhint_find(t, sid)) != NULL)
			test_assert(strcmp(h->user, user) == 0);
	}
	lbx_sqlhint_free(t);
	lbx_sqlhint_free(NULL);
}

/* Placeholders numbered after others, and names given as SQL text. */
static void
test_translate_sub(void)
{
	static const char *const subst[LBX_SQLP__MAX] = {
		[LBX_SQLP_USER] = "i.id" };
	struct lbx_sql_query	 q = { NULL, { 0 }, 0 };
	const char		*why, *in = "SELECT ':user', :room, :user -- :user";

	test_assert(lbx_sql_translate_sub(&q, in, strlen(in), LBX_PH_DOLLAR,
	    ALL, 2, subst, &why) == LBAUTH_OK);
	test_assert(strcmp(q.sql, "SELECT ':user', $3, i.id -- :user") == 0);
	test_assert(q.nparams == 1 && q.params[0] == LBX_SQLP_ROOM);
	free(q.sql);
}

/*
 * One request for a room on s, held: the identity query with the room
 * query asked for ahead, then the room query; their rows into out.
 */
static void
room_request(struct lbx_sql *s, char *out)
{
	char	 e[128];

	lbx_sql_hold(s);
	lbx_sql_ahead(s, LBX_SQLQ_ROOM, vals);
	out[0] = '\0';
	test_assert(lbx_sql_run(s, LBX_SQLQ_IDENTITY, vals, got, out, e,
	    sizeof(e)) == LBX_SQL_OK);
	then(s, LBX_SQLQ_ROOM, out);
	lbx_sql_release(s);
}

/*
 * A room query by :user fused with the identity query: the statement's
 * text and values, its one exec in place of two, its rows kept for the
 * room query and used only with the values it ran with; and no fusion
 * where the types differ, the query goes by :session or the driver
 * cannot describe.
 */
static void
test_fuse(void)
{
	struct lbx_sql	 s;
	char		 out[32], e[128];
	const char	*v[LBX_SQLP__MAX];
	const struct lbx_sql_query *f;

	rec_setup(&s, &rec_fused, "SELECT :user, :room", "SELECT :session");
	test_assert(lbx_sql_fuse(&s, LBX_SQLQ_ROOM, "SELECT :user, :room") ==
	    LBAUTH_OK);
	test_assert(lbx_sql_fuse(&s, LBX_SQLQ_ROOMLESS, "SELECT :session") ==
	    LBAUTH_OK);
	f = &s.fused[LBX_SQLQ_ROOM];
	test_assert(f->sql != NULL && s.fused[LBX_SQLQ_ROOMLESS].sql == NULL);
	test_assert(strstr(f->sql, "MATERIALIZED (\nSELECT ?1\n)") != NULL);
	test_assert(strstr(f->sql, "(\nSELECT \"lbauth identity\".id, $2\n)")
	    != NULL);
	test_assert(f->nparams == 2 && f->params[0] == LBX_SQLP_SESSION &&
	    f->params[1] == LBX_SQLP_ROOM);

	/* The types agree: one statement, the room query's rows kept. */
	rec.user_type = 25;
	rec.fused_id = "u-1";
	room_request(&s, out);
	test_assert(strcmp(out, "u-1F") == 0);
	test_assert(strcmp(rec.trace, "fused3") == 0);

	/* Asked for with another user than the row's: a fresh query. */
	rec.trace[0] = '\0';
	rec.fused_id = "u-2";
	room_request(&s, out);
	test_assert(strcmp(out, "u-21") == 0);
	test_assert(strcmp(rec.trace, "fused3 exec1") == 0);

	/* A room-less request by :session: pipelined, never fused. */
	rec.trace[0] = '\0';
	lbx_sql_hold(&s);
	memcpy(v, vals, sizeof(v));
	v[LBX_SQLP_ROOM] = NULL;
	lbx_sql_ahead(&s, LBX_SQLQ_ROOMLESS, v);
	out[0] = '\0';
	test_assert(lbx_sql_run(&s, LBX_SQLQ_IDENTITY, v, got, out, e,
	    sizeof(e)) == LBX_SQL_OK);
	lbx_sql_release(&s);
	test_assert(strncmp(rec.trace, "send0", 5) == 0);
	rec_clear(&s);

	/* :user of another type than the identity's id: two queries. */
	rec_setup(&s, &rec_fused, "SELECT :user, :room", "SELECT :session");
	test_assert(lbx_sql_fuse(&s, LBX_SQLQ_ROOM, "SELECT :user, :room") ==
	    LBAUTH_OK);
	rec.user_type = 19;
	rec.fused_id = "u-1";
	room_request(&s, out);
	test_assert(strcmp(out, "01") == 0);
	test_assert(strcmp(rec.trace, "exec0 exec1") == 0);
	test_assert(s.fuse_why[LBX_SQLQ_ROOM] != NULL);
	rec_clear(&s);

	/* A driver that cannot describe: nothing fused. */
	rec_setup(&s, &rec_driver, "SELECT :user, :room", "SELECT :session");
	test_assert(lbx_sql_fuse(&s, LBX_SQLQ_ROOM, "SELECT :user, :room") ==
	    LBAUTH_OK);
	test_assert(s.fused[LBX_SQLQ_ROOM].sql == NULL);
	rec_clear(&s);
}

int
main(void)
{

	test_translate();
	test_translate_sub();
	test_scrub();
	test_access();
	test_ahead();
	test_hint();
	test_hints();
	test_fuse();
	return test_done();
}
