/*
 * sql.c: the SQL drivers' common part, as Dovecot's lib-sql: a table of
 * drivers (sql-sqlite.c, sql-pgsql.c, sql-mysql.c, one file each,
 * registered below), queries with named parameters, and the one
 * connection of a process with its reconnect backoff.
 *
 * Named parameters.  A query names its values :session, :user, :org and
 * :room; lbx_sql_translate() replaces each with the driver's bound
 * placeholder (?, ?N or $N) and records which value goes there, so a
 * value is never pasted into SQL text.  A ':' inside a quoted string
 * ('...', "...", `...`, with doubled quotes and, for MariaDB, backslash
 * escapes), a comment (-- to the end of the line, slash-star to
 * star-slash) or a PostgreSQL cast (::) is left alone.  Any other
 * :name is an error, so a typo stops start-up instead of reaching the
 * database as text.
 *
 * Connections.  A process opens its own connection on first use and
 * keeps it (a worker forked by the master, or a CGI process): the
 * master never holds one, and a connection made in one process is
 * never used in another (sql->pid).  A connect or query that fails as
 * "down" or "timeout" closes the connection; the next connect waits for
 * a backoff that starts at 250 ms and doubles to 8 s, and requests
 * meanwhile fail at once (503) instead of each waiting sql_timeout_ms.
 * A worker with request threads has up to LBX_SQL_SLOTS connections,
 * each used by one thread at a time.
 *
 * One snapshot per request.  Between lbx_sql_hold() and
 * lbx_sql_release() a thread keeps one connection, and a driver with
 * begin/end (SQLite) runs the thread's queries in one read transaction:
 * the user and their rooms are read from the same state of the
 * database, and SQLite takes and drops its file lock (three fcntl()s
 * and two stat()s of the journal) once per request instead of once per
 * query.  The caller (call.c) releases on every path, at once after the
 * lookups, so no lock outlives a request.
 *
 * One round trip per request.  A driver that can split exec into send
 * and recv (PostgreSQL) sends the room query together with the identity
 * query (lbx_sql_ahead): one wait for the database instead of two.  A
 * room query that finds the user by :session can always go.  One that
 * names :user or :org needs the identity query's answer: a driver that
 * can describe a statement's types (PostgreSQL) fuses the two into one
 * statement (lbx_sql_fuse) where the types let it compare what the two
 * would (fuse_types), and keeps the policy query's rows until it runs.
 * One that cannot be fused goes only when the process has seen the
 * session before (sqlhint.c, one table for all its threads under
 * s->hints_mu), with the user and org that the session was then; its
 * rows are read only if the identity query gives exactly those, and are
 * dropped for a fresh query otherwise.  Fused or not, the rows reach
 * the policy query only when it runs with the values they were read for.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"

#define BACKOFF_MIN_MS	250
#define BACKOFF_MAX_MS	8000

static const struct lbx_sql_driver *const drivers[] = {
	&lbx_sql_sqlite, &lbx_sql_pgsql, &lbx_sql_mysql,
};

static const char *const param_names[LBX_SQLP__MAX] = {
	"session", "user", "org", "room",
};

/* The driver called name, or NULL. */
const struct lbx_sql_driver *
lbx_sql_driver_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (strcmp(drivers[i]->name, name) == 0)
			return drivers[i];
	return NULL;
}

static bool
is_namech(char c)
{

	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/*
 * Translates the query sql (len bytes) into q: the text with each
 * :name replaced by a placeholder of style ph, and q->params the value
 * of each placeholder in order.  allowed is a bit mask of the enum
 * lbx_sql_param values the query may use.  Returns LBAUTH_OK;
 * LBAUTH_ECONFIG with a static reason in *reason_r (an unknown or
 * disallowed name, an unterminated string or comment, too many
 * placeholders); LBAUTH_ENOMEM.  q->sql is freed by lbx_sql_clear().
 * Pure.
 */
enum lbauth_err
lbx_sql_translate(struct lbx_sql_query *q, const char *sql, size_t len,
    enum lbx_placeholder ph, unsigned allowed, const char **reason_r)
{

	return lbx_sql_translate_sub(q, sql, len, ph, allowed, 0, NULL,
	    reason_r);
}

/*
 * As lbx_sql_translate(), with the placeholders numbered from first + 1
 * (the query goes after first others in one statement), and each name
 * p that subst[p] is set for (subst may be NULL) replaced by that SQL
 * text instead of a placeholder.  Pure.
 */
enum lbauth_err
lbx_sql_translate_sub(struct lbx_sql_query *q, const char *sql, size_t len,
    enum lbx_placeholder ph, unsigned allowed, size_t first,
    const char *const *subst, const char **reason_r)
{
	struct lbx_buf	 b;
	size_t		 i, j, k;
	char		 quote;

	*reason_r = NULL;
	q->nparams = 0;
	lbx_buf_init(&b);
	for (i = 0; i < len; i++) {
		char c = sql[i];

		if (c == '\'' || c == '"' || c == '`') {
			quote = c;
			lbx_buf_putc(&b, c);
			for (i++; i < len; i++) {
				lbx_buf_putc(&b, sql[i]);
				if (sql[i] == '\\' && ph == LBX_PH_QMARK &&
				    quote != '`' && i + 1 < len) {
					lbx_buf_putc(&b, sql[++i]);
					continue;
				}
				if (sql[i] == quote) {
					if (i + 1 < len && sql[i + 1] == quote) {
						lbx_buf_putc(&b, sql[++i]);
						continue;
					}
					break;
				}
			}
			if (i == len) {
				*reason_r = "has an unterminated quoted string";
				goto bad;
			}
			continue;
		}
		if (c == '-' && i + 1 < len && sql[i + 1] == '-') {
			for (; i < len && sql[i] != '\n'; i++)
				lbx_buf_putc(&b, sql[i]);
			if (i < len)
				lbx_buf_putc(&b, sql[i]);
			continue;
		}
		if (c == '/' && i + 1 < len && sql[i + 1] == '*') {
			for (j = i + 2; j + 1 < len &&
			    !(sql[j] == '*' && sql[j + 1] == '/'); j++)
				continue;
			if (j + 1 >= len) {
				*reason_r = "has an unterminated comment";
				goto bad;
			}
			lbx_buf_put(&b, sql + i, j + 2 - i);
			i = j + 1;
			continue;
		}
		if (c == ':' && i + 1 < len && sql[i + 1] == ':') {
			lbx_buf_puts(&b, "::");
			i++;
			continue;
		}
		if (c != ':' || i + 1 == len || !is_namech(sql[i + 1])) {
			lbx_buf_putc(&b, c);
			continue;
		}
		for (j = i + 1; j < len && is_namech(sql[j]); j++)
			continue;
		for (k = 0; k < LBX_SQLP__MAX; k++)
			if (strlen(param_names[k]) == j - i - 1 &&
			    memcmp(param_names[k], sql + i + 1, j - i - 1) == 0)
				break;
		if (k == LBX_SQLP__MAX) {
			*reason_r = "uses an unknown parameter (the names are "
			    ":session, :user, :org and :room)";
			goto bad;
		}
		if ((allowed & (1u << k)) == 0) {
			*reason_r = k == LBX_SQLP_SESSION ? "cannot use "
			    ":session (only identity_query can)" :
			    "uses a parameter it is not given (identity_query "
			    "gets :session; room_query :user, :org and "
			    ":room; roomless_query :user and :org)";
			goto bad;
		}
		i = j - 1;
		if (subst != NULL && subst[k] != NULL) {
			lbx_buf_puts(&b, subst[k]);
			continue;
		}
		if (first + q->nparams == LBX_SQL_PARAMS_MAX) {
			*reason_r = "has more than 16 parameters";
			goto bad;
		}
		q->params[q->nparams++] = (unsigned char)k;
		if (ph == LBX_PH_QMARK)
			lbx_buf_putc(&b, '?');
		else
			lbx_buf_printf(&b, "%c%zu", ph == LBX_PH_QNUM ? '?' :
			    '$', first + q->nparams);
	}
	if (memchr(sql, '\0', len) != NULL) {
		*reason_r = "contains a NUL byte";
		goto bad;
	}
	if (b.oom) {
		lbx_buf_clear(&b);
		return LBAUTH_ENOMEM;
	}
	if (b.p == NULL) {
		*reason_r = "is empty";
		goto bad;
	}
	free(q->sql);
	q->sql = b.p;
	return LBAUTH_OK;
bad:
	lbx_buf_clear(&b);
	return LBAUTH_ECONFIG;
}

/*
 * Fuses policy query qid, whose config text is text, with the identity
 * query (translated already) into s->fused[qid]: one statement that the
 * server plans and runs as one, so that a request waits for one round
 * trip even for a session this process has not seen (PostgreSQL only:
 * LATERAL; lbx_sql_open() and each connection check its types first):
 *
 *   WITH "lbauth identity" AS MATERIALIZED (identity_query)
 *   SELECT (SELECT count(*) FROM "lbauth identity"), "lbauth identity".*,
 *       "lbauth room".* FROM "lbauth identity" LEFT JOIN LATERAL
 *       (SELECT 1, "lbauth q".* FROM (room_query) AS "lbauth q")
 *       AS "lbauth room" ON true
 *
 * with room_query's :user and :org the identity row's id and org
 * columns and its other names placeholders after the identity query's.
 * A row is then: the count of identity rows, one identity row, a 1 (NULL
 * when the room query gave no row for it) and one room row.  The quoted
 * names, with a blank in them, cannot be a table or alias of the app's.
 * Leaves s->fused[qid] unset (LBAUTH_OK) when it cannot be done: a
 * query that does not name :user or :org (the two queries go in one
 * round trip already) or too many placeholders.  LBAUTH_ENOMEM.  Pure
 * but for s->fused[qid].
 */
static bool	needs_identity(const struct lbx_sql *, enum lbx_sql_qid);

enum lbauth_err
lbx_sql_fuse(struct lbx_sql *s, enum lbx_sql_qid qid, const char *text)
{
	static const char *const subst[LBX_SQLP__MAX] = {
		[LBX_SQLP_USER] = "\"lbauth identity\".id",
		[LBX_SQLP_ORG] = "\"lbauth identity\".org",
	};
	const struct lbx_sql_query *id = &s->q[LBX_SQLQ_IDENTITY];
	struct lbx_sql_query	 pq = { NULL, { 0 }, 0 }, *f = &s->fused[qid];
	struct lbx_buf		 b;
	const char		*reason;
	enum lbauth_err		 rc;

	if (s->drv->describe == NULL || id->sql == NULL || text == NULL ||
	    qid == LBX_SQLQ_IDENTITY || !needs_identity(s, qid))
		return LBAUTH_OK;
	rc = lbx_sql_translate_sub(&pq, text, strlen(text),
	    s->drv->placeholder, ~0u, id->nparams, subst, &reason);
	if (rc != LBAUTH_OK) {
		free(pq.sql);
		return rc == LBAUTH_ENOMEM ? rc : LBAUTH_OK;
	}
	lbx_buf_init(&b);
	lbx_buf_printf(&b, "WITH \"lbauth identity\" AS MATERIALIZED (\n%s\n"
	    ") SELECT (SELECT count(*) FROM \"lbauth identity\"), "
	    "\"lbauth identity\".*, \"lbauth room\".* FROM "
	    "\"lbauth identity\" LEFT JOIN LATERAL (SELECT 1, \"lbauth q\".* "
	    "FROM (\n%s\n) AS \"lbauth q\") AS \"lbauth room\" ON true",
	    id->sql, pq.sql);
	free(pq.sql);
	if (b.oom) {
		lbx_buf_clear(&b);
		return LBAUTH_ENOMEM;
	}
	free(f->sql);
	f->sql = b.p;
	memcpy(f->params, id->params, id->nparams);
	memcpy(f->params + id->nparams, pq.params, pq.nparams);
	f->nparams = id->nparams + pq.nparams;
	return LBAUTH_OK;
}

/*
 * This process's id, kept by a fork handler: a connection's owner is
 * checked on every query, and getpid() is a system call (glibc no
 * longer caches it), two per query before.
 */
static pid_t		 self_pid;
static pthread_once_t	 self_once = PTHREAD_ONCE_INIT;

static void
self_forked(void)
{

	self_pid = getpid();
}

static void
self_init(void)
{

	self_pid = getpid();
	pthread_atfork(NULL, NULL, self_forked);
}

static pid_t
self(void)
{

	pthread_once(&self_once, self_init);
	return self_pid;
}

/* Makes s empty, for driver drv. */
void
lbx_sql_init(struct lbx_sql *s, const struct lbx_sql_driver *drv)
{
	size_t	 i;

	memset(s, 0, sizeof(*s));
	s->drv = drv;
	s->bad_query = -1;
	for (i = 0; i < LBX_SQL_SLOTS; i++)
		pthread_mutex_init(&s->slots[i].mu, NULL);
	pthread_mutex_init(&s->hints_mu, NULL);
}

/* Closes slot t's connection (this process's only). */
static void
slot_close(struct lbx_sql *s, struct lbx_sql_slot *t)
{

	if (t->conn != NULL && t->pid == self())
		s->drv->close(t->conn);
	t->conn = NULL;
}

/* Closes the connection and schedules the next connect. */
static void
backoff(struct lbx_sql *s, struct lbx_sql_slot *t)
{

	slot_close(s, t);
	t->backoff_ms = t->backoff_ms == 0 ? BACKOFF_MIN_MS :
	    t->backoff_ms * 2;
	if (t->backoff_ms > BACKOFF_MAX_MS)
		t->backoff_ms = BACKOFF_MAX_MS;
	lbx_clock_after(&t->retry_at, t->backoff_ms);
}

/* Whether c is a blank of a connect string. */
static bool
blank(char c)
{

	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Scrubs from msg the password value that starts at v in a connect
 * string: single-quoted with backslash escapes (libpq) or up to a blank
 * (also '&' in a URI's query).  Both the value as written and as
 * unquoted are scrubbed.
 */
static void
scrub_value(char *msg, const char *v)
{
	char	 buf[512];
	size_t	 n = 0;
	const char *e;

	if (*v == '\'' || *v == '"') {
		for (e = v + 1; *e != '\0' && *e != *v; e++) {
			if (*e == '\\' && e[1] != '\0')
				e++;
			if (n < sizeof(buf))
				buf[n++] = *e;
		}
		lbx_sql_scrub_str(msg, v + 1, (size_t)(e - v - 1));
		lbx_sql_scrub_str(msg, buf, n < sizeof(buf) ? n : 0);
		sodium_memzero(buf, sizeof(buf));
		return;
	}
	for (e = v; *e != '\0' && !blank(*e) && *e != '&'; e++)
		continue;
	lbx_sql_scrub_str(msg, v, (size_t)(e - v));
}

/*
 * Replaces every copy of the connect string's passwords in the
 * NUL-terminated message msg with "***" (a driver's error may quote
 * what it was given).  Every value of a key that ends in "password"
 * (password, sslpassword), with or without blanks around its '=',
 * quoted or not, also in a URI's query; and a URI's ":pass@" up to the
 * authority's last '@', with each '@'-separated piece of it, since
 * libpq splits a password holding an unescaped '@' at the first one
 * and may quote the rest as the host.
 */
void
lbx_sql_scrub(const struct lbx_sql *s, char *msg)
{
	const char	*c = (const char *)s->connstr.p, *p, *q, *a, *at, *e;

	if (c == NULL || msg[0] == '\0')	/* the usual case: no error */
		return;
	for (p = c; (p = strstr(p, "password")) != NULL; p += 8) {
		for (q = p + 8; blank(*q); q++)
			continue;
		if (*q != '=')
			continue;
		for (q++; blank(*q); q++)
			continue;
		scrub_value(msg, q);
	}
	if ((a = strstr(c, "://")) == NULL)
		return;
	a += 3;
	for (e = a; *e != '\0' && *e != '/' && *e != '?' && !blank(*e); e++)
		continue;
	for (at = NULL, q = a; q < e; q++)
		if (*q == '@')
			at = q;
	if (at == NULL || (p = memchr(a, ':', (size_t)(at - a))) == NULL)
		return;
	p++;
	lbx_sql_scrub_str(msg, p, (size_t)(at - p));
	for (q = p; q <= at; q++)
		if (q == at || *q == '@') {
			lbx_sql_scrub_str(msg, p, (size_t)(q - p));
			p = q + 1;
		}
}

/*
 * Replaces every copy of the n bytes at secret in the NUL-terminated
 * msg with "***" (or n '*' when shorter).
 */
void
lbx_sql_scrub_str(char *msg, const char *secret, size_t n)
{
	char	*hit, *cur;

	if (n == 0)
		return;
	for (cur = msg; (hit = memmem(cur, strlen(cur), secret, n)) != NULL;
	    cur = hit + (n < 3 ? n : 3)) {
		if (n < 3) {
			memset(hit, '*', n);
			continue;
		}
		memmove(hit + 3, hit + n, strlen(hit + n) + 1);
		memcpy(hit, "***", 3);
	}
}

/*
 * Column name of the description d that is name, exactly, and no other
 * column's in any case (sqluser.c reads columns in any case); -1.
 */
static int
desc_col(const struct lbx_sql_desc *d, const char *name)
{
	size_t	 i;
	int	 at = -1;

	for (i = 0; i < d->ncols; i++)
		if (strcasecmp(d->cname[i], name) == 0) {
			if (at != -1 || strcmp(d->cname[i], name) != 0)
				return -1;
			at = (int)i;
		}
	return at;
}

/*
 * Whether policy query qid, described by dq, can run fused with the
 * identity query, described by di: each of its :user and :org
 * placeholders is of the type of the identity row's id and org column,
 * so that the fused statement compares exactly what the two queries
 * would.  NULL and the columns in t, or why not (static).  Pure but
 * for t.
 */
static const char *
fuse_types(const struct lbx_sql *s, struct lbx_sql_slot *t,
    enum lbx_sql_qid qid, const struct lbx_sql_desc *di,
    const struct lbx_sql_desc *dq)
{
	const struct lbx_sql_query *q = &s->q[qid];
	int		 col[LBX_SQLP__MAX] = { -1, -1, -1, -1 };
	size_t		 i;

	if (2 + di->ncols + dq->ncols > LBX_SQL_COLS_MAX)
		return "more than 16 columns in the two together";
	col[LBX_SQLP_USER] = desc_col(di, "id");
	col[LBX_SQLP_ORG] = desc_col(di, "org");
	for (i = 0; i < q->nparams && i < dq->nparams; i++) {
		unsigned p = q->params[i];

		if (p != LBX_SQLP_USER && p != LBX_SQLP_ORG)
			continue;
		if (col[p] == -1)
			return p == LBX_SQLP_USER ? "identity_query has no "
			    "column named exactly id" : "identity_query has "
			    "no column named exactly org";
		if (dq->ptype[i] != di->ctype[col[p]])
			return p == LBX_SQLP_USER ? "the query compares :user "
			    "as a type other than identity_query's id" :
			    "the query compares :org as a type other than "
			    "identity_query's org";
	}
	t->fuse_k[qid] = di->ncols;
	t->fuse_id[qid] = lbx_sql_names(s, qid, LBX_SQLP_USER) ?
	    col[LBX_SQLP_USER] : -1;
	t->fuse_org[qid] = lbx_sql_names(s, qid, LBX_SQLP_ORG) ?
	    col[LBX_SQLP_ORG] : -1;
	return NULL;
}

/*
 * Prepares on slot t, just connected, each fused statement (lbx_sql_fuse)
 * whose two queries the server types alike (fuse_types).  One it cannot
 * use (other types; the server refuses it, as a PostgreSQL before 12
 * does MATERIALIZED) leaves the two queries to run as before, with the
 * reason in s->fuse_why.  Returns OK, or DOWN or TIMEOUT from the
 * driver, with why in err.
 */
static enum lbx_sql_rc
fuse_prepare(struct lbx_sql *s, struct lbx_sql_slot *t, char *err,
    size_t errsz)
{
	struct lbx_sql_desc	 di, dq;
	enum lbx_sql_rc		 rc;
	const char		*why;
	bool			 described = false;
	size_t			 qid;

	for (qid = LBX_SQLQ_ROOM; qid < LBX_SQLQ__MAX; qid++) {
		t->fused[qid] = false;
		if (s->fused[qid].sql == NULL)
			continue;
		if (!described && (rc = s->drv->describe(t->conn,
		    LBX_SQLQ_IDENTITY, &di, err, errsz)) != LBX_SQL_OK)
			return rc == LBX_SQL_FAIL ? LBX_SQL_DOWN : rc;
		described = true;
		if ((rc = s->drv->describe(t->conn, qid, &dq, err, errsz)) !=
		    LBX_SQL_OK)
			return rc == LBX_SQL_FAIL ? LBX_SQL_DOWN : rc;
		if ((why = fuse_types(s, t, qid, &di, &dq)) == NULL) {
			rc = s->drv->prepare(t->conn, LBX_SQL_FUSED(qid),
			    s->fused[qid].sql, s->fused[qid].nparams, err,
			    errsz);
			if (rc != LBX_SQL_OK && rc != LBX_SQL_FAIL)
				return rc;
			if (rc == LBX_SQL_FAIL)
				why = "the server refused the statement";
		}
		t->fused[qid] = why == NULL;
		atomic_store(&s->fuse_why[qid], why);
	}
	err[0] = '\0';
	return LBX_SQL_OK;
}

/*
 * Connects slot t and prepares every set query, unless connected
 * already.  Returns LBX_SQL_OK; LBX_SQL_DOWN during a backoff or when
 * the connect fails; LBX_SQL_TIMEOUT; LBX_SQL_FAIL when a query does
 * not prepare (*bad_r says which, when bad_r is not NULL; why in err,
 * scrubbed of the password).  t is locked by the caller.
 */
static enum lbx_sql_rc
slot_open(struct lbx_sql *s, struct lbx_sql_slot *t, int *bad_r, char *err,
    size_t errsz)
{
	enum lbx_sql_rc	 rc;
	size_t		 i;
	long		 wait;

	err[0] = '\0';
	if (t->conn != NULL && t->pid == self())
		return LBX_SQL_OK;
	/*
	 * Inherited over fork(): never used, and not closed either (a
	 * PostgreSQL goodbye would end the parent's session).
	 */
	t->conn = NULL;
	if (t->backoff_ms != 0 &&
	    (wait = lbx_clock_ms_until(&t->retry_at)) > 0) {
		snprintf(err, errsz, "waiting %ld ms before reconnecting "
		    "(%s)", wait, t->why);
		return LBX_SQL_DOWN;
	}
	rc = s->drv->connect(&t->conn, (const char *)s->connstr.p,
	    s->timeout_ms, err, errsz);
	if (rc == LBX_SQL_OK) {
		t->pid = self();
		for (i = 0; i < LBX_SQLQ__MAX && rc == LBX_SQL_OK; i++)
			if (s->q[i].sql != NULL &&
			    (rc = s->drv->prepare(t->conn, i, s->q[i].sql,
			    s->q[i].nparams, err, errsz)) != LBX_SQL_OK &&
			    bad_r != NULL)
				*bad_r = (int)i;
		if (rc == LBX_SQL_OK && s->drv->describe != NULL)
			rc = fuse_prepare(s, t, err, errsz);
	}
	lbx_sql_scrub(s, err);
	if (rc == LBX_SQL_OK)
		t->backoff_ms = 0;
	else if (rc == LBX_SQL_FAIL)
		slot_close(s, t);
	else {
		backoff(s, t);
		snprintf(t->why, sizeof(t->why), "%s", err);
	}
	return rc;
}

/*
 * Connects the first slot (start-up checks, a worker's start) as
 * slot_open() does, with the query that failed in s->bad_query.  From
 * one thread only (start-up).
 */
enum lbx_sql_rc
lbx_sql_open(struct lbx_sql *s, char *err, size_t errsz)
{
	enum lbx_sql_rc	 rc;

	s->bad_query = -1;
	pthread_mutex_lock(&s->slots[0].mu);
	rc = slot_open(s, &s->slots[0], &s->bad_query, err, errsz);
	pthread_mutex_unlock(&s->slots[0].mu);
	return rc;
}

/*
 * The connection this thread holds (lbx_sql_hold), and whether its
 * driver's read transaction is open.
 */
static _Thread_local struct {
	struct lbx_sql		*sql;
	struct lbx_sql_slot	*slot;
	bool			 begun;
	int			 ahead;	/* a query to send with the next, -1 */
	const char		*av[LBX_SQL_PARAMS_MAX];	/* its values */
	int			 sent;	/* sent, its rows not read yet, -1 */
	const char		*sid;	/* the session id given ahead, or NULL */
	bool			 guessed; /* ahead's :user, :org from a hint */
	char			 user[LBX_SQL_HINT_MAX];	/* the hint's */
	char			 org[LBX_SQL_HINT_MAX];
	int			 fuse;	/* a query to fuse with the next, -1 */
	const char		*fv[LBX_SQLP__MAX];	/* its values */
	int			 fused;	/* ran fused; its rows in rows, -1 */
	struct lbx_buf		 rows;	/* names, then rows (keep_cols) */
	size_t			 ncols, nrows;	/* in rows */
} held;

/*
 * Locks and returns a free slot, else waits for this thread's own: one
 * dealt round to each thread at its first wait (pthread_self() values
 * are aligned addresses, and would all pick one slot).
 */
static struct lbx_sql_slot *
slot_get(struct lbx_sql *s)
{
	static atomic_uint		 dealt;
	static _Thread_local int	 mine = -1;
	size_t				 i;

	for (i = 0; i < LBX_SQL_SLOTS; i++)
		if (pthread_mutex_trylock(&s->slots[i].mu) == 0)
			return &s->slots[i];
	if (mine == -1)
		mine = (int)(atomic_fetch_add(&dealt, 1) % LBX_SQL_SLOTS);
	pthread_mutex_lock(&s->slots[mine].mu);
	return &s->slots[mine];
}

/*
 * Whether policy query qid needs the identity query's answer (it names
 * :user or :org), and so goes ahead only on a hint.  Pure.
 */
static bool
needs_identity(const struct lbx_sql *s, enum lbx_sql_qid qid)
{

	return lbx_sql_names(s, qid, LBX_SQLP_USER) ||
	    lbx_sql_names(s, qid, LBX_SQLP_ORG);
}

/* Whether the n values a and b are the same (NULL is SQL NULL).  Pure. */
static bool
same_values(const char *const *a, const char *const *b, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if ((a[i] == NULL) != (b[i] == NULL) ||
		    (a[i] != NULL && strcmp(a[i], b[i]) != 0))
			return false;
	return true;
}

/*
 * The policy query's rows of a fused statement are kept in held.rows
 * until it runs: first its column names, then each row, every value as
 * a flag byte (0: SQL NULL), its length and its bytes with a NUL.
 */
static void
keep_cols(size_t n, const char *const *v, const size_t *lens)
{
	size_t	 i, len;

	for (i = 0; i < n; i++) {
		len = lens != NULL ? lens[i] : v[i] == NULL ? 0 : strlen(v[i]);
		lbx_buf_putc(&held.rows, v[i] != NULL);
		lbx_buf_put(&held.rows, &len, sizeof(len));
		if (v[i] != NULL)
			lbx_buf_put(&held.rows, v[i], len);
		lbx_buf_putc(&held.rows, '\0');
	}
}

/* Reads n values kept by keep_cols() at *at into v and lens. */
static void
read_cols(size_t *at, size_t n, const char **v, size_t *lens)
{
	size_t	 i;
	bool	 set;

	for (i = 0; i < n; i++) {
		set = held.rows.p[(*at)++] != 0;
		memcpy(&lens[i], held.rows.p + *at, sizeof(lens[i]));
		*at += sizeof(lens[i]);
		v[i] = set ? held.rows.p + *at : NULL;
		*at += (set ? lens[i] : 0) + 1;
	}
}

/* A fused statement's rows on their way to the identity query's fn. */
struct split {
	lbx_sql_row_fn	 fn;
	void		*arg;
	size_t		 k;		/* identity columns */
	int		 id, org;	/* of those, id and org (-1: not named) */
	size_t		 calls;		/* of fn */
	size_t		 ncols;		/* of a room row, once seen */
	size_t		 nrows;		/* room rows */
	bool		 seen;		/* the first row */
	bool		 hold;		/* its id and org fit held.user, org */
	bool		 has_org;	/* its org is not NULL */
	bool		 bad;		/* a row too short: never */
};

/*
 * Copies the n-byte value v into the held buffer dst, if it fits:
 * false if it does not or is NULL (then the fused rows go unused).
 */
static bool
hold_value(char *dst, const char *v, size_t n)
{

	if (v == NULL || n >= LBX_SQL_HINT_MAX || memchr(v, '\0', n) != NULL)
		return false;
	memcpy(dst, v, n + 1);
	return true;
}

/*
 * A row of a fused statement (lbx_sql_fuse): at the first, the identity
 * row goes to the identity query's fn as many times as the identity
 * query gave rows (so that 2 rows are 2 rows), and its id and org are
 * kept; each room row is kept (keep_cols) for the policy query.
 */
static int
split_row(void *arg, size_t ncols, const char *const *names,
    const char *const *vals, const size_t *lens)
{
	struct split		*sp = arg;
	unsigned long long	 n, i;

	if (ncols < sp->k + 2 || vals[0] == NULL) {
		sp->bad = true;
		return -1;
	}
	if (!sp->seen) {
		sp->seen = true;
		n = strtoull(vals[0], NULL, 10);
		for (i = 0; i < n; i++) {
			sp->calls++;
			if (sp->fn(sp->arg, sp->k, names + 1, vals + 1,
			    lens + 1) == -1)
				return -1;
		}
		sp->hold = sp->id < 0 || hold_value(held.user,
		    vals[1 + sp->id], lens[1 + sp->id]);
		sp->has_org = sp->org >= 0 && vals[1 + sp->org] != NULL;
		if (sp->has_org)
			sp->hold = sp->hold && hold_value(held.org,
			    vals[1 + sp->org], lens[1 + sp->org]);
		sp->ncols = ncols - sp->k - 2;
		keep_cols(sp->ncols, names + sp->k + 2, NULL);
	}
	if (vals[sp->k + 1] == NULL)	/* the identity row had no room row */
		return 0;
	sp->nrows++;
	keep_cols(sp->ncols, vals + sp->k + 2, lens + sp->k + 2);
	return held.rows.oom ? -1 : 0;
}

/*
 * The identity query, values v, on the held slot t as the statement
 * fused with policy query pq: its rows to fn, the policy query's kept
 * for run_held() with held.av the values that it ran with (the identity
 * row's id and org for :user and :org).  A fused statement that fails
 * on the server before a row (a value of the wrong type for a column of
 * the policy query, say) is the policy query's failure, not the
 * identity query's: the identity query then runs alone, and the policy
 * query after it, as without fusion.  Returns as the driver's exec.
 */
static enum lbx_sql_rc
run_fused(struct lbx_sql *s, struct lbx_sql_slot *t, int pq,
    const char *const *v, lbx_sql_row_fn fn, void *arg, char *err,
    size_t errsz)
{
	const struct lbx_sql_query *f = &s->fused[pq], *q = &s->q[pq];
	const char	*fvals[LBX_SQL_PARAMS_MAX];
	struct split	 sp;
	enum lbx_sql_rc	 rc;
	size_t		 i;

	memset(&sp, 0, sizeof(sp));
	sp.fn = fn;
	sp.arg = arg;
	sp.k = t->fuse_k[pq];
	sp.id = t->fuse_id[pq];
	sp.org = t->fuse_org[pq];
	for (i = 0; i < f->nparams; i++)
		fvals[i] = held.fv[f->params[i]];
	lbx_buf_reset(&held.rows);
	rc = s->drv->exec(t->conn, LBX_SQL_FUSED(pq), fvals, f->nparams,
	    s->timeout_ms, split_row, &sp, err, errsz);
	if (rc == LBX_SQL_OK && sp.seen && sp.hold) {
		held.fused = pq;
		for (i = 0; i < q->nparams; i++)
			held.av[i] = q->params[i] == LBX_SQLP_USER ? held.user :
			    q->params[i] == LBX_SQLP_ORG ? (sp.has_org ?
			    held.org : NULL) : held.fv[q->params[i]];
		held.ncols = sp.ncols;
		held.nrows = sp.nrows;
		return rc;
	}
	if (rc != LBX_SQL_OK && sp.calls == 0 && (rc == LBX_SQL_FAIL ||
	    rc == LBX_SQL_NOMATCH)) {
		err[0] = '\0';
		rc = s->drv->exec(t->conn, LBX_SQLQ_IDENTITY, v,
		    s->q[LBX_SQLQ_IDENTITY].nparams, s->timeout_ms, fn, arg,
		    err, errsz);
	}
	return rc;
}

/* The kept rows of the fused policy query to fn.  Returns as exec. */
static enum lbx_sql_rc
replay(lbx_sql_row_fn fn, void *arg, char *err, size_t errsz)
{
	const char	*names[LBX_SQL_COLS_MAX], *v[LBX_SQL_COLS_MAX];
	size_t		 lens[LBX_SQL_COLS_MAX], nlens[LBX_SQL_COLS_MAX];
	size_t		 at = 0, i, ncols = held.ncols;

	if (held.nrows == 0)
		return LBX_SQL_OK;
	read_cols(&at, ncols, names, nlens);
	for (i = 0; i < held.nrows; i++) {
		read_cols(&at, ncols, v, lens);
		if (fn(arg, ncols, names, v, lens) == -1) {
			snprintf(err, errsz, "out of memory");
			return LBX_SQL_FAIL;
		}
	}
	return LBX_SQL_OK;
}

/*
 * Query qid with its values v on the held slot t: its rows read if it
 * went out ahead with exactly these values, else sent now, with the
 * query lbx_sql_ahead() named behind it in the same round trip when the
 * driver can.  Rows of a query sent ahead but not asked for, or asked
 * for with other values (a wrong hint), are dropped first, so that rows
 * never reach the wrong caller.  Returns as the driver's exec.
 */
static enum lbx_sql_rc
run_held(struct lbx_sql *s, struct lbx_sql_slot *t, enum lbx_sql_qid qid,
    const char *const *v, lbx_sql_row_fn fn, void *arg, char *err,
    size_t errsz)
{
	const struct lbx_sql_driver *d = s->drv;
	enum lbx_sql_rc	 rc;
	int		 ahead = held.ahead, fq = held.fused;

	if (qid == LBX_SQLQ_IDENTITY && held.fuse >= 0 &&
	    t->fused[held.fuse]) {
		fq = held.fuse;
		/* One statement: nothing goes with it, and no hint is used. */
		held.fuse = held.ahead = -1;
		held.guessed = false;
		held.sid = NULL;
		return run_fused(s, t, fq, v, fn, arg, err, errsz);
	}
	held.ahead = held.fused = -1;
	if (fq == (int)qid && same_values(held.av, v, s->q[qid].nparams))
		return replay(fn, arg, err, errsz);
	if (held.sent >= 0 && (held.sent != (int)qid ||
	    !same_values(held.av, v, s->q[qid].nparams))) {
		held.sent = -1;
		/*
		 * A query error among rows no one wants is not this
		 * query's; a connection lost or timed out is.
		 */
		rc = d->recv(t->conn, s->timeout_ms, NULL, NULL, err, errsz);
		if (rc != LBX_SQL_OK && rc != LBX_SQL_FAIL &&
		    rc != LBX_SQL_NOMATCH)
			return rc;
		err[0] = '\0';
	}
	if (held.sent == (int)qid) {
		held.sent = -1;
		return d->recv(t->conn, s->timeout_ms, fn, arg, err, errsz);
	}
	if (ahead < 0 || ahead == (int)qid || d->send == NULL)
		return d->exec(t->conn, qid, v, s->q[qid].nparams,
		    s->timeout_ms, fn, arg, err, errsz);
	if ((rc = d->send(t->conn, qid, v, s->q[qid].nparams, err,
	    errsz)) != LBX_SQL_OK)
		return rc;
	/* Once sent, the rows must be read or dropped (lbx_sql_release). */
	rc = d->send(t->conn, (size_t)ahead, held.av, s->q[ahead].nparams,
	    err, errsz);
	if (rc != LBX_SQL_OK)
		return rc == LBX_SQL_FAIL ? LBX_SQL_DOWN : rc;
	held.sent = ahead;
	return d->recv(t->conn, s->timeout_ms, fn, arg, err, errsz);
}

/*
 * After policy query qid ran under this thread's hold with vals (rc: how
 * it went), keeps who the session given ahead turned out to be: vals'
 * :user and :org are the identity query's answer.  Only for a driver
 * that sends ahead and a query that names either, and only when the
 * query reached the database.
 */
static void
remember(struct lbx_sql *s, enum lbx_sql_qid qid, const char *const *vals,
    enum lbx_sql_rc rc)
{

	held.guessed = false;
	if (held.sid == NULL || s->drv->send == NULL ||
	    vals[LBX_SQLP_USER] == NULL ||
	    (rc != LBX_SQL_OK && rc != LBX_SQL_NOMATCH) ||
	    !needs_identity(s, qid))
		return;
	pthread_mutex_lock(&s->hints_mu);
	if (s->hints != NULL || (s->hints = lbx_sqlhint_new()) != NULL)
		lbx_sqlhint_store(s->hints, held.sid, vals[LBX_SQLP_USER],
		    vals[LBX_SQLP_ORG]);
	pthread_mutex_unlock(&s->hints_mu);
}

/*
 * Runs query qid with vals (indexed by enum lbx_sql_param; NULL is SQL
 * NULL), calling fn with arg for each row, on a connection of this
 * process that no other thread uses meanwhile; connects first if
 * needed.  A connection found dead at the first try is reopened once
 * at once (the server restarted since the last request).  Returns as
 * slot_open() and the driver's exec do, with why in err (scrubbed).
 */
enum lbx_sql_rc
lbx_sql_run(struct lbx_sql *s, enum lbx_sql_qid qid, const char *const *vals,
    lbx_sql_row_fn fn, void *arg, char *err, size_t errsz)
{
	const char	*v[LBX_SQL_PARAMS_MAX];
	const struct lbx_sql_query *q = &s->q[qid];
	struct lbx_sql_slot *t;
	enum lbx_sql_rc	 rc;
	size_t		 i;
	bool		 fresh;
	int		 tries;

	for (i = 0; i < q->nparams; i++)
		v[i] = vals[q->params[i]];
	t = held.sql == s ? held.slot : slot_get(s);
	for (tries = 0; tries < 2; tries++) {
		fresh = t->conn == NULL || t->pid != self();
		if ((rc = slot_open(s, t, NULL, err, errsz)) != LBX_SQL_OK)
			break;
		if (held.sql == s && !held.begun && s->drv->begin != NULL) {
			if ((rc = s->drv->begin(t->conn, err, errsz)) ==
			    LBX_SQL_OK)
				held.begun = true;
			else if (rc == LBX_SQL_FAIL)
				break;
		}
		if (rc == LBX_SQL_OK)
			rc = held.sql == s ? run_held(s, t, qid, v, fn, arg,
			    err, errsz) : s->drv->exec(t->conn, qid, v,
			    q->nparams, s->timeout_ms, fn, arg, err, errsz);
		lbx_sql_scrub(s, err);
		if (rc == LBX_SQL_OK || rc == LBX_SQL_FAIL ||
		    rc == LBX_SQL_NOMATCH)
			break;
		/* The connection is closed: its transaction with it. */
		held.begun = false;
		held.ahead = held.sent = held.fuse = held.fused = -1;
		if (rc == LBX_SQL_TIMEOUT || fresh || tries == 1) {
			backoff(s, t);
			break;
		}
		slot_close(s, t);
	}
	if (held.sql == s && qid != LBX_SQLQ_IDENTITY)
		remember(s, qid, vals, rc);
	if (held.sql != s)
		pthread_mutex_unlock(&t->mu);
	return rc;
}

/*
 * Makes this thread's next queries on s, up to lbx_sql_release(), run
 * on one connection it keeps meanwhile, in one read transaction where
 * the driver has them.  Holds are not nested.
 */
void
lbx_sql_hold(struct lbx_sql *s)
{

	held.slot = slot_get(s);
	held.sql = s;
	held.begun = false;
	held.ahead = held.sent = held.fuse = held.fused = -1;
	held.sid = NULL;
	held.guessed = false;
}

/*
 * Under this thread's hold on s, asks for policy query qid to go out
 * with the next query run (the identity query, given the session id
 * vals[LBX_SQLP_SESSION]), in the same round trip, where the driver can
 * (PostgreSQL's pipeline mode).  A query that names :user or :org goes
 * only with a hint of who this session was (sqlhint.c), its :user and
 * :org taken from it.  Its rows are read when qid runs next with the
 * values it went out with, and dropped if it runs with others (the hint
 * was wrong) or not at all (the identity query found no one; the hint
 * is then forgotten).  The strings vals points to (by enum
 * lbx_sql_param) must live until the hold ends.  Without a hold, or
 * else, nothing goes ahead and qid runs when asked, as always.
 */
void
lbx_sql_ahead(struct lbx_sql *s, enum lbx_sql_qid qid,
    const char *const *vals)
{
	const struct lbx_sql_query *q = &s->q[qid];
	const struct lbx_sql_hint *h;
	const char	*v[LBX_SQLP__MAX];
	size_t		 i;

	if (held.sql != s || s->drv->send == NULL || q->sql == NULL)
		return;
	memcpy(v, vals, sizeof(v));
	/* Fused, if the connection can (run_held); else as follows. */
	held.fuse = s->fused[qid].sql != NULL ? (int)qid : -1;
	memcpy(held.fv, vals, sizeof(held.fv));
	held.sid = vals[LBX_SQLP_SESSION];
	if (needs_identity(s, qid)) {
		if (held.sid == NULL)
			return;
		pthread_mutex_lock(&s->hints_mu);
		if (s->hints != NULL &&
		    (h = lbx_sqlhint_find(s->hints, held.sid)) != NULL) {
			memcpy(held.user, h->user, sizeof(held.user));
			memcpy(held.org, h->org, sizeof(held.org));
			v[LBX_SQLP_USER] = held.user;
			v[LBX_SQLP_ORG] = h->has_org ? held.org : NULL;
			held.guessed = true;
		}
		pthread_mutex_unlock(&s->hints_mu);
		if (!held.guessed)
			return;
	}
	for (i = 0; i < q->nparams; i++)
		held.av[i] = v[q->params[i]];
	held.ahead = (int)qid;
}

/* Whether query qid names the parameter p.  Pure. */
bool
lbx_sql_names(const struct lbx_sql *s, enum lbx_sql_qid qid,
    enum lbx_sql_param p)
{
	size_t	 i;

	for (i = 0; i < s->q[qid].nparams; i++)
		if (s->q[qid].params[i] == p)
			return true;
	return false;
}

/*
 * Ends this thread's hold on s, if any: the read transaction is ended
 * (and the connection closed if that fails, so that no lock stays with
 * it) and the connection goes back to the others.
 */
void
lbx_sql_release(struct lbx_sql *s)
{
	struct lbx_sql_slot	*t = held.slot;

	if (held.sql != s)
		return;
	/* A hint that went out and was never used: no one, or no longer. */
	if (held.guessed) {
		pthread_mutex_lock(&s->hints_mu);
		lbx_sqlhint_forget(s->hints, held.sid);
		pthread_mutex_unlock(&s->hints_mu);
	}
	if ((held.begun || held.sent >= 0) && t->conn != NULL &&
	    s->drv->end(t->conn) == -1)
		slot_close(s, t);
	held.sql = NULL;
	held.slot = NULL;
	held.begun = false;
	held.ahead = held.sent = held.fuse = held.fused = -1;
	lbx_buf_clear(&held.rows);
	held.sid = NULL;
	held.guessed = false;
	pthread_mutex_unlock(&t->mu);
}

/* Seconds a client should wait before trying again (Retry-After). */
long
lbx_sql_retry_after(struct lbx_sql *s)
{
	long	 ms, max = 0;
	size_t	 i;
	bool	 mine;

	for (i = 0; i < LBX_SQL_SLOTS; i++) {
		/* This thread's held slot is read as it is: it is ours. */
		mine = held.sql == s && held.slot == &s->slots[i];
		if (!mine && pthread_mutex_trylock(&s->slots[i].mu) != 0)
			continue;
		if (s->slots[i].backoff_ms != 0 &&
		    (ms = lbx_clock_ms_until(&s->slots[i].retry_at)) > max)
			max = ms;
		if (!mine)
			pthread_mutex_unlock(&s->slots[i].mu);
	}
	return max <= 0 ? 1 : (max + 999) / 1000;
}

/* Closes this process's connections, if any, and forgets backoffs. */
void
lbx_sql_disconnect(struct lbx_sql *s)
{
	size_t	 i;

	for (i = 0; i < LBX_SQL_SLOTS; i++) {
		pthread_mutex_lock(&s->slots[i].mu);
		slot_close(s, &s->slots[i]);
		s->slots[i].backoff_ms = 0;
		pthread_mutex_unlock(&s->slots[i].mu);
	}
}

/* Disconnects and frees everything s owns, wiping the connect string. */
void
lbx_sql_clear(struct lbx_sql *s)
{
	size_t	 i;

	if (s->drv == NULL)
		return;
	lbx_sql_disconnect(s);
	for (i = 0; i < LBX_SQL_SLOTS; i++)
		pthread_mutex_destroy(&s->slots[i].mu);
	lbx_sqlhint_free(s->hints);
	pthread_mutex_destroy(&s->hints_mu);
	lbx_keyfile_secret_clear(&s->connstr);
	for (i = 0; i < LBX_SQLQ__MAX; i++) {
		free(s->q[i].sql);
		free(s->fused[i].sql);
	}
	memset(s, 0, sizeof(*s));
}
