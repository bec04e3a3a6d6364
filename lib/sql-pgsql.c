/*
 * sql-pgsql.c: the PostgreSQL driver (sql_driver = pgsql), over libpq
 * loaded with dlopen() when configured.
 *
 * The connect string is a libpq one, keyword=value pairs or a
 * postgresql:// URI.  Its syntax is checked with PQconninfoParse()
 * first, whose error message, which quotes the string, is never shown
 * (the string holds the password).  lbauth adds "options" that make the
 * session read-only (default_transaction_read_only) and bound every
 * statement by sql_timeout_ms on the server (statement_timeout), and it
 * also waits at most sql_timeout_ms itself, connect and query alike:
 * libpq's non-blocking calls (PQconnectStartParams, PQsendQueryPrepared)
 * and poll() with a deadline.  A connection that timed out is closed
 * (the server's statement_timeout ends its query).
 *
 * Two queries in one round trip: send and recv run queries in libpq's
 * pipeline mode (libpq 14; the protocol is the extended query protocol
 * every server since 7.4 speaks), all that were sent under one Sync,
 * in one write.  sql.c sends a room query by :session behind the
 * identity query this way; the connection leaves pipeline mode when
 * the last result is read (or dropped, by end).
 */
#include <errno.h>
#include <dlfcn.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "extern.h"

static struct {
	PQconninfoOption *(*conninfo_parse)(const char *, char **);
	void	 (*conninfo_free)(PQconninfoOption *);
	void	 (*freemem)(void *);
	PGconn	*(*connect_start_params)(const char *const *,
		    const char *const *, int);
	PostgresPollingStatusType (*connect_poll)(PGconn *);
	ConnStatusType (*status)(const PGconn *);
	int	 (*socket)(const PGconn *);
	char	*(*error_message)(const PGconn *);
	void	 (*finish)(PGconn *);
	int	 (*set_nonblocking)(PGconn *, int);
	int	 (*send_prepare)(PGconn *, const char *, const char *, int,
		    const Oid *);
	int	 (*send_query_prepared)(PGconn *, const char *, int,
		    const char *const *, const int *, const int *, int);
	int	 (*flush)(PGconn *);
	int	 (*consume_input)(PGconn *);
	int	 (*is_busy)(PGconn *);
	PGresult *(*get_result)(PGconn *);
	ExecStatusType (*result_status)(const PGresult *);
	char	*(*result_error_field)(const PGresult *, int);
	char	*(*result_error_message)(const PGresult *);
	int	 (*ntuples)(const PGresult *);
	int	 (*nfields)(const PGresult *);
	char	*(*fname)(const PGresult *, int);
	char	*(*getvalue)(const PGresult *, int, int);
	int	 (*getlength)(const PGresult *, int, int);
	int	 (*getisnull)(const PGresult *, int, int);
	void	 (*clear)(PGresult *);
	int	 (*enter_pipeline)(PGconn *);
	int	 (*exit_pipeline)(PGconn *);
	int	 (*pipeline_sync)(PGconn *);
	int	 (*send_describe_prepared)(PGconn *, const char *);
	int	 (*nparams)(const PGresult *);
	Oid	 (*paramtype)(const PGresult *, int);
	Oid	 (*ftype)(const PGresult *, int);
} f;

/* A connection, and how many queries sent in pipeline mode are unread. */
struct conn {
	PGconn		*pg;
	int		 pending;	/* queries sent in pipeline mode, unread */
	bool		 unsynced;	/* sent since the last Sync */
	long		 timeout_ms;
};
static void	*dl;

static int
load(char *err, size_t errsz)
{
	static const struct lbx_dl_lib lib = {
		.soname = "libpq.so.5",
		.flags = RTLD_NOW | RTLD_LOCAL,
		.name = "libpq",
		.needs = "sql_driver = pgsql needs libpq (Debian package "
		    "libpq5)",
	};
	static const struct lbx_dl_sym syms[] = {
		{ "PQconninfoParse", (void **)&f.conninfo_parse },
		{ "PQconninfoFree", (void **)&f.conninfo_free },
		{ "PQfreemem", (void **)&f.freemem },
		{ "PQconnectStartParams", (void **)&f.connect_start_params },
		{ "PQconnectPoll", (void **)&f.connect_poll },
		{ "PQstatus", (void **)&f.status },
		{ "PQsocket", (void **)&f.socket },
		{ "PQerrorMessage", (void **)&f.error_message },
		{ "PQfinish", (void **)&f.finish },
		{ "PQsetnonblocking", (void **)&f.set_nonblocking },
		{ "PQsendPrepare", (void **)&f.send_prepare },
		{ "PQsendQueryPrepared", (void **)&f.send_query_prepared },
		{ "PQflush", (void **)&f.flush },
		{ "PQconsumeInput", (void **)&f.consume_input },
		{ "PQisBusy", (void **)&f.is_busy },
		{ "PQgetResult", (void **)&f.get_result },
		{ "PQresultStatus", (void **)&f.result_status },
		{ "PQresultErrorField", (void **)&f.result_error_field },
		{ "PQresultErrorMessage", (void **)&f.result_error_message },
		{ "PQntuples", (void **)&f.ntuples },
		{ "PQnfields", (void **)&f.nfields },
		{ "PQfname", (void **)&f.fname },
		{ "PQgetvalue", (void **)&f.getvalue },
		{ "PQgetlength", (void **)&f.getlength },
		{ "PQgetisnull", (void **)&f.getisnull },
		{ "PQclear", (void **)&f.clear },
		{ "PQenterPipelineMode", (void **)&f.enter_pipeline },
		{ "PQexitPipelineMode", (void **)&f.exit_pipeline },
		{ "PQpipelineSync", (void **)&f.pipeline_sync },
		{ "PQsendDescribePrepared",
		    (void **)&f.send_describe_prepared },
		{ "PQnparams", (void **)&f.nparams },
		{ "PQparamtype", (void **)&f.paramtype },
		{ "PQftype", (void **)&f.ftype },
	};

	return lbx_dl_open(&lib, syms, sizeof(syms) / sizeof(syms[0]), &dl,
	    err, errsz);
}

/* Milliseconds left until d, at least 0: a poll() timeout. */
static int
left(const struct timespec *d)
{
	long	 ms = lbx_clock_ms_until(d);

	return ms < 0 ? 0 : (int)ms;
}

/* Waits for fd to be readable (or writable); 1, 0 on timeout, -1. */
static int
wait_fd(int fd, bool writing, const struct timespec *d)
{
	struct pollfd	 p;
	int		 n;

	p.fd = fd;
	p.events = writing ? POLLOUT : POLLIN;
	do
		n = poll(&p, 1, left(d));
	while (n == -1 && errno == EINTR);
	return n;
}

/* The server-side name of prepared query id (an LBX_SQLQ_* value). */
static const char *
stmt_name(size_t id)
{
	static const char *const names[] = { "lbauth_0", "lbauth_1",
	    "lbauth_2", "lbauth_fused_1", "lbauth_fused_2" };

	_Static_assert(sizeof(names) / sizeof(names[0]) == LBX_SQL_STMTS,
	    "a name per statement");
	return names[id];
}

/* Copies libpq's message, first line only, into err. */
static void
message(char *err, size_t errsz, const char *what, const char *m)
{
	size_t	 n;

	if (m == NULL || *m == '\0')
		m = "no message";
	n = strcspn(m, "\n");
	snprintf(err, errsz, "%s: %.*s", what, (int)(n > 300 ? 300 : n), m);
}

static enum lbx_sql_rc
pg_connect(void **conn_r, const char *cs, long timeout_ms, char *err,
    size_t errsz)
{
	const char		*kw[3] = { "dbname", "options", NULL };
	const char		*val[3], *user_opts;
	char			 opts[1024];
	size_t			 i;
	char			*perr = NULL;
	PQconninfoOption	*o;
	PGconn			*c;
	struct timespec		 d;
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	struct conn		*w;
	int			 n;

	*conn_r = NULL;
	if (load(err, errsz) == -1)
		return LBX_SQL_FAIL;
	if ((o = f.conninfo_parse(cs, &perr)) == NULL) {
		if (perr != NULL)
			f.freemem(perr);	/* quotes the string: not shown */
		snprintf(err, errsz, "the connect string is not a valid "
		    "libpq connection string");
		return LBX_SQL_FAIL;
	}
	/* The connect string's own options (search_path, say) come first. */
	for (i = 0, user_opts = NULL; o[i].keyword != NULL; i++)
		if (strcmp(o[i].keyword, "options") == 0 && o[i].val != NULL)
			user_opts = o[i].val;
	n = snprintf(opts, sizeof(opts), "%s%s-c "
	    "default_transaction_read_only=on -c statement_timeout=%ld",
	    user_opts != NULL ? user_opts : "", user_opts != NULL ? " " : "",
	    timeout_ms);
	f.conninfo_free(o);
	if (n < 0 || (size_t)n >= sizeof(opts)) {
		snprintf(err, errsz, "the connect string's options are longer "
		    "than %zu bytes", sizeof(opts) - 80);
		return LBX_SQL_FAIL;
	}
	val[0] = cs;
	val[1] = opts;
	val[2] = NULL;
	lbx_clock_after(&d, timeout_ms);
	if ((c = f.connect_start_params(kw, val, 1)) == NULL) {
		snprintf(err, errsz, "connect: out of memory");
		return LBX_SQL_DOWN;
	}
	if (f.status(c) == CONNECTION_BAD)
		goto bad;
	for (;;) {
		if (st == PGRES_POLLING_OK)
			break;
		if (st == PGRES_POLLING_FAILED)
			goto bad;
		n = wait_fd(f.socket(c), st == PGRES_POLLING_WRITING, &d);
		if (n == 0) {
			snprintf(err, errsz, "connect: timed out after %ld ms",
			    timeout_ms);
			f.finish(c);
			return LBX_SQL_TIMEOUT;
		}
		if (n == -1)
			goto bad;
		st = f.connect_poll(c);
	}
	if (f.set_nonblocking(c, 1) != 0)
		goto bad;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		f.finish(c);
		snprintf(err, errsz, "connect: out of memory");
		return LBX_SQL_DOWN;
	}
	w->pg = c;
	w->timeout_ms = timeout_ms;
	*conn_r = w;
	return LBX_SQL_OK;
bad:
	message(err, errsz, "connect", f.error_message(c));
	f.finish(c);
	return LBX_SQL_DOWN;
}

/*
 * Sends what libpq has queued, waiting for the socket until d.  Returns
 * OK, TIMEOUT (or the wait failed) or DOWN.
 */
static enum lbx_sql_rc
flush_out(PGconn *c, const struct timespec *d)
{
	int	 n;

	while ((n = f.flush(c)) == 1)
		if (wait_fd(f.socket(c), true, d) <= 0)
			return LBX_SQL_TIMEOUT;
	return n == -1 ? LBX_SQL_DOWN : LBX_SQL_OK;
}

/*
 * Reads from the server until libpq holds a whole result (or knows
 * there is none), waiting until d.  Returns OK, TIMEOUT or DOWN.
 */
static enum lbx_sql_rc
read_in(PGconn *c, const struct timespec *d)
{
	int	 n;

	while (f.is_busy(c)) {
		if ((n = wait_fd(f.socket(c), false, d)) == 0)
			return LBX_SQL_TIMEOUT;
		if (n == -1 || f.consume_input(c) == 0)
			return LBX_SQL_DOWN;
	}
	return LBX_SQL_OK;
}

/*
 * The sentence for rc, TIMEOUT or DOWN, from flush_out() or read_in()
 * into err; clears *res (NULL allowed) and returns rc.
 */
static enum lbx_sql_rc
lost(PGconn *c, enum lbx_sql_rc rc, PGresult *res, char *err, size_t errsz)
{

	if (res != NULL)
		f.clear(res);
	if (rc == LBX_SQL_TIMEOUT)
		snprintf(err, errsz, "query timed out");
	else
		message(err, errsz, "query", f.error_message(c));
	return rc;
}

/*
 * Sends what is queued and collects the results until libpq has no
 * more, keeping the last one in *res_r (PQclear it).  Returns OK, DOWN
 * or TIMEOUT.
 */
static enum lbx_sql_rc
collect(PGconn *c, const struct timespec *d, PGresult **res_r, char *err,
    size_t errsz)
{
	PGresult	*r, *res = NULL;
	enum lbx_sql_rc	 rc;

	*res_r = NULL;
	if ((rc = flush_out(c, d)) != LBX_SQL_OK)
		return lost(c, rc, NULL, err, errsz);
	for (;;) {
		if ((rc = read_in(c, d)) != LBX_SQL_OK)
			return lost(c, rc, res, err, errsz);
		if ((r = f.get_result(c)) == NULL)
			break;
		if (res != NULL)
			f.clear(res);
		res = r;
	}
	if (res == NULL)
		return lost(c, LBX_SQL_DOWN, NULL, err, errsz);
	*res_r = res;
	return LBX_SQL_OK;
}

/* The outcome of a failed result: a lost server is DOWN, else FAIL. */
static enum lbx_sql_rc
failed(PGconn *c, PGresult *r, char *err, size_t errsz)
{
	const char	*state = f.result_error_field(r, 'C'); /* SQLSTATE */

	message(err, errsz, "query", f.result_error_message(r));
	if (f.status(c) == CONNECTION_BAD)
		return LBX_SQL_DOWN;
	if (state == NULL)
		return LBX_SQL_FAIL;
	/* 57014 query_canceled (statement_timeout) */
	if (strcmp(state, "57014") == 0)
		return LBX_SQL_TIMEOUT;
	/*
	 * A value given that its column's type cannot hold: a session id
	 * compared with a uuid or integer column (22P02, 22003), a date
	 * (22007, 22008), bytes the encoding lacks (22021).  The client
	 * chose the value, and no row can match it: NOMATCH (401, 403),
	 * not a server error.
	 */
	if (strcmp(state, "22P02") == 0 || strcmp(state, "22003") == 0 ||
	    strcmp(state, "22007") == 0 || strcmp(state, "22008") == 0 ||
	    strcmp(state, "22021") == 0)
		return LBX_SQL_NOMATCH;
	/*
	 * A statement the server no longer runs as prepared: 0A000 "cached
	 * plan must not change result type" after a migration changed a
	 * column's type, 26000 no such statement (a pooler gave another
	 * session).  DOWN closes the connection, and the next try prepares
	 * the queries afresh, at once (sql.c).
	 */
	if (strcmp(state, "0A000") == 0 || strcmp(state, "26000") == 0)
		return LBX_SQL_DOWN;
	/*
	 * 08 connection exceptions, 57P operator intervention, 53
	 * insufficient resources; but 08P01, a protocol violation on a live
	 * connection, is the query's (the server refusing its values).
	 */
	if ((strncmp(state, "08", 2) == 0 && strcmp(state, "08P01") != 0) ||
	    strncmp(state, "57P", 3) == 0 || strncmp(state, "53", 2) == 0)
		return LBX_SQL_DOWN;
	return LBX_SQL_FAIL;
}

/*
 * The result of a command libpq took (sent: its PQsend*()'s return) and
 * the server ran, into *r_r (PQclear it) until d.  Returns OK, or as
 * collect() and failed() do, with *r_r NULL.
 */
static enum lbx_sql_rc
answer(PGconn *c, int sent, const struct timespec *d, PGresult **r_r,
    char *err, size_t errsz)
{
	enum lbx_sql_rc	 rc;

	if (sent == 0) {
		message(err, errsz, "prepare", f.error_message(c));
		return LBX_SQL_DOWN;
	}
	if ((rc = collect(c, d, r_r, err, errsz)) != LBX_SQL_OK)
		return rc;
	if (f.result_status(*r_r) != PGRES_COMMAND_OK) {
		rc = failed(c, *r_r, err, errsz);
		f.clear(*r_r);
		*r_r = NULL;
	}
	return rc;
}

static enum lbx_sql_rc
pg_prepare(void *arg, size_t id, const char *sql, size_t nparams, char *err,
    size_t errsz)
{
	const char	*name;
	PGconn		*c = ((struct conn *)arg)->pg;
	PGresult	*r;
	struct timespec	 d;
	enum lbx_sql_rc	 rc;

	name = stmt_name(id);
	lbx_clock_after(&d, ((struct conn *)arg)->timeout_ms);
	if ((rc = answer(c, f.send_prepare(c, name, sql, (int)nparams, NULL),
	    &d, &r, err, errsz)) != LBX_SQL_OK)
		return rc;
	f.clear(r);
	/*
	 * A $n of its own would prepare (the server infers its type) and
	 * then fail every request for want of a value.
	 */
	if ((rc = answer(c, f.send_describe_prepared(c, name), &d, &r, err,
	    errsz)) != LBX_SQL_OK)
		return rc;
	if ((size_t)f.nparams(r) != nparams) {
		snprintf(err, errsz, "has a placeholder of its own: name its "
		    "values with :session, :user, :org or :room");
		rc = LBX_SQL_FAIL;
	}
	f.clear(r);
	return rc;
}

/*
 * A type as sql.c compares them (struct lbx_sql_desc): varchar is text,
 * whose = and other operators it takes.  The OIDs are the built-in
 * types' (pg_type.dat), the same on every server.
 */
static unsigned
type_class(Oid t)
{

	return t == 1043 ? 25 : (unsigned)t;	/* varchar -> text */
}

static enum lbx_sql_rc
pg_describe(void *arg, size_t id, struct lbx_sql_desc *d, char *err,
    size_t errsz)
{
	PGconn		*c = ((struct conn *)arg)->pg;
	PGresult	*r;
	struct timespec	 due;
	enum lbx_sql_rc	 rc;
	size_t		 i;

	lbx_clock_after(&due, ((struct conn *)arg)->timeout_ms);
	if ((rc = answer(c, f.send_describe_prepared(c, stmt_name(id)), &due,
	    &r, err, errsz)) != LBX_SQL_OK)
		return rc;
	memset(d, 0, sizeof(*d));
	d->nparams = (size_t)f.nparams(r);
	d->ncols = (size_t)f.nfields(r);
	if (d->nparams > LBX_SQL_PARAMS_MAX || d->ncols > LBX_SQL_COLS_MAX) {
		f.clear(r);
		snprintf(err, errsz, "more than %d columns", LBX_SQL_COLS_MAX);
		return LBX_SQL_FAIL;
	}
	for (i = 0; i < d->nparams; i++)
		d->ptype[i] = type_class(f.paramtype(r, (int)i));
	for (i = 0; i < d->ncols; i++) {
		d->ctype[i] = type_class(f.ftype(r, (int)i));
		snprintf(d->cname[i], sizeof(d->cname[i]), "%s",
		    f.fname(r, (int)i));
	}
	f.clear(r);
	return LBX_SQL_OK;
}

/*
 * Calls fn with arg for each row of the query result r, and clears r.
 * Returns OK, or as failed() for a failed query.  With fn NULL the rows
 * are dropped, and so is a query's error: DOWN only for a lost server.
 */
static enum lbx_sql_rc
rows(PGconn *c, PGresult *r, lbx_sql_row_fn fn, void *fnarg, char *err,
    size_t errsz)
{
	const char	*names[LBX_SQL_COLS_MAX], *v[LBX_SQL_COLS_MAX];
	size_t		 lens[LBX_SQL_COLS_MAX];
	enum lbx_sql_rc	 rc = LBX_SQL_OK;
	int		 i, j, ncols, nrows;

	if (fn == NULL) {	/* dropped: only a lost server matters */
		f.clear(r);
		return f.status(c) == CONNECTION_BAD ? LBX_SQL_DOWN :
		    LBX_SQL_OK;
	}
	if (f.result_status(r) != PGRES_TUPLES_OK) {
		rc = failed(c, r, err, errsz);
		f.clear(r);
		return rc;
	}
	if ((ncols = f.nfields(r)) > LBX_SQL_COLS_MAX) {
		snprintf(err, errsz, "more than %d columns", LBX_SQL_COLS_MAX);
		f.clear(r);
		return LBX_SQL_FAIL;
	}
	for (j = 0; j < ncols; j++)
		names[j] = f.fname(r, j);
	nrows = f.ntuples(r);
	for (i = 0; i < nrows && rc == LBX_SQL_OK; i++) {
		for (j = 0; j < ncols; j++) {
			v[j] = f.getisnull(r, i, j) ? NULL :
			    f.getvalue(r, i, j);
			lens[j] = v[j] == NULL ? 0 :
			    (size_t)f.getlength(r, i, j);
		}
		if (fn(fnarg, (size_t)ncols, names, v, lens) == -1) {
			snprintf(err, errsz, "out of memory");
			rc = LBX_SQL_FAIL;
		}
	}
	f.clear(r);
	return rc;
}

static enum lbx_sql_rc
pg_exec(void *arg, size_t id, const char *const *vals, size_t n,
    long timeout_ms, lbx_sql_row_fn fn, void *fnarg, char *err, size_t errsz)
{
	const char	*name;
	PGconn		*c = ((struct conn *)arg)->pg;
	PGresult	*r;
	struct timespec	 d;
	enum lbx_sql_rc	 rc;

	name = stmt_name(id);
	lbx_clock_after(&d, timeout_ms);
	if (f.send_query_prepared(c, name, (int)n, vals, NULL, NULL, 0) == 0) {
		message(err, errsz, "query", f.error_message(c));
		return LBX_SQL_DOWN;
	}
	if ((rc = collect(c, &d, &r, err, errsz)) != LBX_SQL_OK)
		return rc;
	return rows(c, r, fn, fnarg, err, errsz);
}

/*
 * Queues query id with its values in pipeline mode; the bytes go out
 * with the Sync that the next recv sends, so that queries sent one
 * after the other reach the server in one write.  DOWN if libpq
 * refuses.
 */
static enum lbx_sql_rc
pg_send(void *arg, size_t id, const char *const *vals, size_t n, char *err,
    size_t errsz)
{
	const char	*name;
	struct conn	*w = arg;

	name = stmt_name(id);
	if ((w->pending == 0 && f.enter_pipeline(w->pg) == 0) ||
	    f.send_query_prepared(w->pg, name, (int)n, vals, NULL, NULL,
	    0) == 0) {
		message(err, errsz, "query", f.error_message(w->pg));
		return LBX_SQL_DOWN;
	}
	w->pending++;
	w->unsynced = true;
	return LBX_SQL_OK;
}

/*
 * Reads the oldest query sent in pipeline mode and calls fn (NULL:
 * none) for its rows, sending the Sync first if it is not out yet.
 * After the last one it reads the Sync's result and leaves pipeline
 * mode.  The queries of one Sync are one transaction: one that fails
 * aborts those after it, which then fail too.  Returns as pg_exec().
 */
static enum lbx_sql_rc
pg_recv(void *arg, long timeout_ms, lbx_sql_row_fn fn, void *fnarg,
    char *err, size_t errsz)
{
	struct conn	*w = arg;
	PGconn		*c = w->pg;
	PGresult	*r, *res = NULL;
	struct timespec	 d;
	enum lbx_sql_rc	 rc;
	bool		 last, ended = false;

	if (w->pending == 0) {
		snprintf(err, errsz, "query: nothing was sent");
		return LBX_SQL_FAIL;
	}
	lbx_clock_after(&d, timeout_ms);
	if (w->unsynced) {
		if (f.pipeline_sync(c) == 0)
			return lost(c, LBX_SQL_DOWN, NULL, err, errsz);
		w->unsynced = false;
	}
	if ((rc = flush_out(c, &d)) != LBX_SQL_OK)
		return lost(c, rc, NULL, err, errsz);
	/* The query's results and a NULL; after the last, the Sync's. */
	last = w->pending == 1;
	for (;;) {
		if ((rc = read_in(c, &d)) != LBX_SQL_OK)
			return lost(c, rc, res, err, errsz);
		r = f.get_result(c);
		/* A query without a result, or no Sync after it: lost. */
		if (r == NULL && (res == NULL || ended))
			return lost(c, LBX_SQL_DOWN, res, err, errsz);
		if (r == NULL && !last)
			break;
		if (r != NULL && f.result_status(r) == PGRES_PIPELINE_SYNC) {
			f.clear(r);
			if (res == NULL)
				return lost(c, LBX_SQL_DOWN, NULL, err, errsz);
			break;
		}
		if ((ended = r == NULL))
			continue;
		if (res != NULL)
			f.clear(res);
		res = r;
	}
	if (--w->pending == 0 && f.exit_pipeline(c) == 0)
		return lost(c, LBX_SQL_DOWN, res, err, errsz);
	if (fn != NULL && f.result_status(res) == PGRES_PIPELINE_ABORTED) {
		f.clear(res);
		snprintf(err, errsz, "query: not run: the query before it "
		    "failed");
		return LBX_SQL_FAIL;
	}
	return rows(c, res, fn, fnarg, err, errsz);
}

/* Drops the rows of what was sent and never read: -1 if it could not. */
static int
pg_end(void *arg)
{
	struct conn	*w = arg;
	char		 err[64];

	while (w->pending > 0)
		if (pg_recv(w, w->timeout_ms, NULL, NULL, err, sizeof(err)) !=
		    LBX_SQL_OK)
			return -1;
	return 0;
}

static void
pg_close(void *arg)
{
	struct conn	*w = arg;

	if (w == NULL)
		return;
	f.finish(w->pg);
	free(w);
}

const struct lbx_sql_driver lbx_sql_pgsql = {
	.name = "pgsql",
	.placeholder = LBX_PH_DOLLAR,
	.load = load,
	.connect = pg_connect,
	.prepare = pg_prepare,
	.exec = pg_exec,
	.close = pg_close,
	.end = pg_end,
	.send = pg_send,
	.recv = pg_recv,
	.describe = pg_describe,
};
