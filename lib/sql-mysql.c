/*
 * sql-mysql.c: the MariaDB/MySQL driver (sql_driver = mysql), over
 * MariaDB Connector/C (libmariadb) loaded with dlopen() when configured.
 *
 * The connect string is blank-separated key=value pairs: host, port,
 * user, password, database (or dbname) and socket (a unix socket path);
 * a value may be in single quotes.  Parsed here, so that no library
 * error message ever quotes it.  After connecting, lbauth runs
 * "SET SESSION TRANSACTION READ ONLY" and bounds statements on the
 * server by sql_timeout_ms (MariaDB's max_statement_time, or MySQL's
 * max_execution_time); the client's connect, read and write timeouts
 * are sql_timeout_ms rounded up to whole seconds (the library's unit).
 * Queries are server-side prepared statements; a column is read into
 * a buffer of LBX_MYSQL_COL bytes, and a longer value fails the query.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "extern.h"

#define LBX_MYSQL_COL	8192

static struct {
	MYSQL	*(*init)(MYSQL *);
	int	 (*options)(MYSQL *, enum mysql_option, const void *);
	MYSQL	*(*real_connect)(MYSQL *, const char *, const char *,
		    const char *, const char *, unsigned int, const char *,
		    unsigned long);
	const char *(*error)(MYSQL *);
	unsigned int (*errnum)(MYSQL *);
	int	 (*query)(MYSQL *, const char *);
	void	 (*close)(MYSQL *);
	MYSQL_STMT *(*stmt_init)(MYSQL *);
	int	 (*stmt_prepare)(MYSQL_STMT *, const char *, unsigned long);
	my_bool	 (*stmt_bind_param)(MYSQL_STMT *, MYSQL_BIND *);
	my_bool	 (*stmt_bind_result)(MYSQL_STMT *, MYSQL_BIND *);
	int	 (*stmt_execute)(MYSQL_STMT *);
	int	 (*stmt_fetch)(MYSQL_STMT *);
	MYSQL_RES *(*stmt_result_metadata)(MYSQL_STMT *);
	unsigned int (*num_fields)(MYSQL_RES *);
	MYSQL_FIELD *(*fetch_fields)(MYSQL_RES *);
	void	 (*free_result)(MYSQL_RES *);
	my_bool	 (*stmt_free_result)(MYSQL_STMT *);
	my_bool	 (*stmt_reset)(MYSQL_STMT *);
	my_bool	 (*stmt_close)(MYSQL_STMT *);
	const char *(*stmt_error)(MYSQL_STMT *);
	unsigned int (*stmt_errno)(MYSQL_STMT *);
	unsigned long (*stmt_param_count)(MYSQL_STMT *);
} f;
static void	*dl;

struct conn {
	MYSQL		*my;
	MYSQL_STMT	*st[LBX_SQLQ__MAX];
	char		*col;	/* LBX_SQL_COLS_MAX * (LBX_MYSQL_COL + 1) */
};

static int
load(char *err, size_t errsz)
{
	static const struct lbx_dl_lib lib = {
		.soname = "libmariadb.so.3",
		.flags = RTLD_NOW | RTLD_LOCAL,
		.name = "libmariadb",
		.needs = "sql_driver = mysql needs MariaDB Connector/C "
		    "(Debian package libmariadb3)",
	};
	static const struct lbx_dl_sym syms[] = {
		{ "mysql_init", (void **)&f.init },
		{ "mysql_options", (void **)&f.options },
		{ "mysql_real_connect", (void **)&f.real_connect },
		{ "mysql_error", (void **)&f.error },
		{ "mysql_errno", (void **)&f.errnum },
		{ "mysql_query", (void **)&f.query },
		{ "mysql_close", (void **)&f.close },
		{ "mysql_stmt_init", (void **)&f.stmt_init },
		{ "mysql_stmt_prepare", (void **)&f.stmt_prepare },
		{ "mysql_stmt_bind_param", (void **)&f.stmt_bind_param },
		{ "mysql_stmt_bind_result", (void **)&f.stmt_bind_result },
		{ "mysql_stmt_execute", (void **)&f.stmt_execute },
		{ "mysql_stmt_fetch", (void **)&f.stmt_fetch },
		{ "mysql_stmt_result_metadata",
		    (void **)&f.stmt_result_metadata },
		{ "mysql_num_fields", (void **)&f.num_fields },
		{ "mysql_fetch_fields", (void **)&f.fetch_fields },
		{ "mysql_free_result", (void **)&f.free_result },
		{ "mysql_stmt_free_result", (void **)&f.stmt_free_result },
		{ "mysql_stmt_reset", (void **)&f.stmt_reset },
		{ "mysql_stmt_close", (void **)&f.stmt_close },
		{ "mysql_stmt_error", (void **)&f.stmt_error },
		{ "mysql_stmt_errno", (void **)&f.stmt_errno },
		{ "mysql_stmt_param_count", (void **)&f.stmt_param_count },
	};

	return lbx_dl_open(&lib, syms, sizeof(syms) / sizeof(syms[0]), &dl,
	    err, errsz);
}

/* Whether a client or server error number means the server is gone. */
static bool
is_down(unsigned int e)
{

	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	    e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR ||
	    e == CR_UNKNOWN_HOST || e == CR_SERVER_LOST_EXTENDED ||
	    e == ER_SERVER_SHUTDOWN || e == ER_CON_COUNT_ERROR ||
	    e == ER_CONNECTION_KILLED || e == 4031 /* idle disconnect */;
}

static enum lbx_sql_rc
outcome(unsigned int e)
{

	if (e == ER_STATEMENT_TIMEOUT || e == 3024 /* MySQL */ ||
	    e == ER_QUERY_INTERRUPTED)
		return LBX_SQL_TIMEOUT;
	/*
	 * A statement the server no longer runs as prepared (a migration
	 * changed its result's columns, 2057 CR_NEW_STMT_METADATA, or its
	 * tables, 1615 ER_NEED_REPREPARE): DOWN closes the connection, and
	 * the next try prepares the queries afresh, at once (sql.c).
	 */
	if (e == 2057 || e == 1615)
		return LBX_SQL_DOWN;
	return is_down(e) ? LBX_SQL_DOWN : LBX_SQL_FAIL;
}

/*
 * outcome() for error e of a query begun at t0: CR_SERVER_LOST is also
 * what the client's read timeout gives, so it is TIMEOUT once
 * timeout_ms has passed (no retry on a fresh connection, which would
 * wait as long again), and DOWN before, a server restarted or a
 * connection killed (the next try reconnects at once).
 */
static enum lbx_sql_rc
outcome_since(unsigned int e, const struct timespec *t0, long timeout_ms)
{

	if (e != CR_SERVER_LOST)
		return outcome(e);
	return lbx_clock_us_since(t0) >= timeout_ms * 1000 ? LBX_SQL_TIMEOUT :
	    LBX_SQL_DOWN;
}

/*
 * Parses the connect string cs into the fields of kv (copies in buf,
 * as long as cs).  Returns 0, or -1 after writing why into err.
 */
enum { K_HOST, K_PORT, K_USER, K_PASSWORD, K_DATABASE, K_SOCKET, K__MAX };

static int
parse(const char *cs, char *buf, const char **kv, char *err, size_t errsz)
{
	static const char *const names[K__MAX] = {
		"host", "port", "user", "password", "database", "socket"
	};
	const char	*p = cs, *k;
	char		*o = buf;
	size_t		 klen, i;

	for (i = 0; i < K__MAX; i++)
		kv[i] = NULL;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '\0')
			return 0;
		for (k = p; *p != '=' && *p != '\0' && *p != ' '; p++)
			continue;
		if (*p != '=') {
			snprintf(err, errsz, "the connect string is not "
			    "blank-separated key=value pairs");
			return -1;
		}
		klen = (size_t)(p - k);
		p++;
		if (klen == 6 && strncmp(k, "dbname", 6) == 0)
			i = K_DATABASE;
		else
			for (i = 0; i < K__MAX; i++)
				if (strlen(names[i]) == klen &&
				    strncmp(k, names[i], klen) == 0)
					break;
		if (i == K__MAX) {
			snprintf(err, errsz, "the connect string has an unknown "
			    "key (host, port, user, password, database, socket)");
			return -1;
		}
		kv[i] = o;
		if (*p == '\'') {
			for (p++; *p != '\'' && *p != '\0'; p++)
				*o++ = *p;
			if (*p != '\'') {
				snprintf(err, errsz, "the connect string has "
				    "an unterminated quote");
				return -1;
			}
			p++;
		} else
			while (*p != ' ' && *p != '\t' && *p != '\n' &&
			    *p != '\0')
				*o++ = *p++;
		*o++ = '\0';
	}
}

static void
my_close(void *arg)
{
	struct conn	*c = arg;
	size_t		 i;

	if (c == NULL)
		return;
	for (i = 0; i < LBX_SQLQ__MAX; i++)
		if (c->st[i] != NULL)
			f.stmt_close(c->st[i]);
	if (c->my != NULL)
		f.close(c->my);
	free(c->col);
	free(c);
}

static enum lbx_sql_rc
my_connect(void **conn_r, const char *cs, long timeout_ms, char *err,
    size_t errsz)
{
	struct conn	*c;
	const char	*kv[K__MAX];
	char		*buf, q[96];
	unsigned int	 secs = (unsigned int)((timeout_ms + 999) / 1000);
	unsigned int	 port = 0;
	enum lbx_sql_rc	 rc;

	*conn_r = NULL;
	if (load(err, errsz) == -1)
		return LBX_SQL_FAIL;
	if ((buf = malloc(strlen(cs) + 1)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return LBX_SQL_DOWN;
	}
	if (parse(cs, buf, kv, err, errsz) == -1) {
		sodium_memzero(buf, strlen(cs) + 1);
		free(buf);
		return LBX_SQL_FAIL;
	}
	if (kv[K_PORT] != NULL)
		port = (unsigned int)strtoul(kv[K_PORT], NULL, 10);
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->col = malloc(LBX_SQL_COLS_MAX * (LBX_MYSQL_COL + 1))) ==
	    NULL || (c->my = f.init(NULL)) == NULL) {
		snprintf(err, errsz, "out of memory");
		rc = LBX_SQL_DOWN;
		goto out;
	}
	f.options(c->my, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
	f.options(c->my, MYSQL_OPT_READ_TIMEOUT, &secs);
	f.options(c->my, MYSQL_OPT_WRITE_TIMEOUT, &secs);
	/* Every value lbauth binds or reads is UTF-8. */
	f.options(c->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (f.real_connect(c->my, kv[K_HOST], kv[K_USER], kv[K_PASSWORD],
	    kv[K_DATABASE], port, kv[K_SOCKET], 0) == NULL) {
		snprintf(err, errsz, "connect: %.300s", f.error(c->my));
		rc = outcome(f.errnum(c->my)) == LBX_SQL_TIMEOUT ?
		    LBX_SQL_TIMEOUT : LBX_SQL_DOWN;
		goto out;
	}
	if (f.query(c->my, "SET SESSION TRANSACTION READ ONLY") != 0) {
		snprintf(err, errsz, "read only: %.300s", f.error(c->my));
		rc = is_down(f.errnum(c->my)) ? LBX_SQL_DOWN : LBX_SQL_FAIL;
		goto out;
	}
	/* MariaDB: seconds, fractions allowed; MySQL: milliseconds. */
	snprintf(q, sizeof(q), "SET SESSION max_statement_time = %ld.%03ld",
	    timeout_ms / 1000, timeout_ms % 1000);
	if (f.query(c->my, q) != 0) {
		snprintf(q, sizeof(q), "SET SESSION max_execution_time = %ld",
		    timeout_ms);
		(void)f.query(c->my, q);
	}
	*conn_r = c;
	c = NULL;
	rc = LBX_SQL_OK;
out:
	my_close(c);
	sodium_memzero(buf, strlen(cs) + 1);
	free(buf);
	return rc;
}

static enum lbx_sql_rc
my_prepare(void *arg, size_t id, const char *sql, size_t nparams, char *err,
    size_t errsz)
{
	struct conn	*c = arg;

	if ((c->st[id] = f.stmt_init(c->my)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return LBX_SQL_DOWN;
	}
	if (f.stmt_prepare(c->st[id], sql, (unsigned long)strlen(sql)) != 0) {
		snprintf(err, errsz, "%.300s", f.stmt_error(c->st[id]));
		return outcome(f.stmt_errno(c->st[id])) == LBX_SQL_FAIL ?
		    LBX_SQL_FAIL : LBX_SQL_DOWN;
	}
	if (f.stmt_param_count(c->st[id]) != nparams) {
		snprintf(err, errsz, "has a placeholder of its own: name its "
		    "values with :session, :user, :org or :room");
		return LBX_SQL_FAIL;
	}
	return LBX_SQL_OK;
}

static enum lbx_sql_rc
my_exec(void *arg, size_t id, const char *const *vals, size_t n,
    long timeout_ms, lbx_sql_row_fn fn, void *fnarg, char *err, size_t errsz)
{
	struct conn	*c = arg;
	MYSQL_STMT	*st = c->st[id];
	MYSQL_BIND	 in[LBX_SQL_PARAMS_MAX], out[LBX_SQL_COLS_MAX];
	my_bool		 innull[LBX_SQL_PARAMS_MAX];
	my_bool		 isnull[LBX_SQL_COLS_MAX], trunc[LBX_SQL_COLS_MAX];
	unsigned long	 inlen[LBX_SQL_PARAMS_MAX], len[LBX_SQL_COLS_MAX];
	const char	*names[LBX_SQL_COLS_MAX], *v[LBX_SQL_COLS_MAX];
	size_t		 lens[LBX_SQL_COLS_MAX], i, ncols = 0;
	MYSQL_RES	*meta = NULL;
	MYSQL_FIELD	*fields;
	enum lbx_sql_rc	 rc = LBX_SQL_OK;
	struct timespec	 t0;
	int		 r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(in, 0, sizeof(in));
	for (i = 0; i < n; i++) {
		innull[i] = vals[i] == NULL;
		inlen[i] = vals[i] == NULL ? 0 : (unsigned long)strlen(vals[i]);
		in[i].buffer_type = MYSQL_TYPE_STRING;
		in[i].buffer = (void *)(uintptr_t)vals[i];
		in[i].buffer_length = inlen[i];
		in[i].length = &inlen[i];
		in[i].is_null = &innull[i];
	}
	if ((n > 0 && f.stmt_bind_param(st, in) != 0) ||
	    f.stmt_execute(st) != 0) {
		snprintf(err, errsz, "%.300s (error %u)", f.stmt_error(st),
		    f.stmt_errno(st));
		rc = outcome_since(f.stmt_errno(st), &t0, timeout_ms);
		goto out;
	}
	if ((meta = f.stmt_result_metadata(st)) == NULL) {
		snprintf(err, errsz, "the query returns no rows");
		rc = LBX_SQL_FAIL;
		goto out;
	}
	if ((ncols = f.num_fields(meta)) > LBX_SQL_COLS_MAX) {
		snprintf(err, errsz, "more than %d columns", LBX_SQL_COLS_MAX);
		rc = LBX_SQL_FAIL;
		goto out;
	}
	fields = f.fetch_fields(meta);
	memset(out, 0, sizeof(out));
	for (i = 0; i < ncols; i++) {
		names[i] = fields[i].name;
		out[i].buffer_type = MYSQL_TYPE_STRING;
		out[i].buffer = c->col + i * (LBX_MYSQL_COL + 1);
		/* One byte to spare for the NUL written after a fetch. */
		out[i].buffer_length = LBX_MYSQL_COL;
		out[i].length = &len[i];
		out[i].is_null = &isnull[i];
		out[i].error = &trunc[i];
	}
	if (f.stmt_bind_result(st, out) != 0) {
		snprintf(err, errsz, "%.300s", f.stmt_error(st));
		rc = LBX_SQL_FAIL;
		goto out;
	}
	while ((r = f.stmt_fetch(st)) == 0 || r == MYSQL_DATA_TRUNCATED) {
		if (r == MYSQL_DATA_TRUNCATED) {
			snprintf(err, errsz, "a column is longer than %d bytes",
			    LBX_MYSQL_COL);
			rc = LBX_SQL_FAIL;
			goto out;
		}
		for (i = 0; i < ncols; i++) {
			v[i] = isnull[i] ? NULL : c->col + i *
			    (LBX_MYSQL_COL + 1);
			lens[i] = isnull[i] ? 0 : len[i];
			if (v[i] != NULL)
				c->col[i * (LBX_MYSQL_COL + 1) + len[i]] = '\0';
		}
		if (fn(fnarg, ncols, names, v, lens) == -1) {
			snprintf(err, errsz, "out of memory");
			rc = LBX_SQL_FAIL;
			goto out;
		}
	}
	if (r != MYSQL_NO_DATA) {
		/* An error while rows stream in is the connection's. */
		unsigned int e = f.stmt_errno(st);
		const char *m = f.stmt_error(st);

		if (e == 0) {
			e = f.errnum(c->my);
			m = f.error(c->my);
		}
		snprintf(err, errsz, "%.300s (error %u)", m, e);
		rc = e == 0 ? LBX_SQL_DOWN : outcome_since(e, &t0, timeout_ms);
	}
out:
	if (meta != NULL)
		f.free_result(meta);
	if (rc == LBX_SQL_OK || rc == LBX_SQL_FAIL) {
		f.stmt_free_result(st);
		f.stmt_reset(st);
	}
	return rc;
}

const struct lbx_sql_driver lbx_sql_mysql = {
	.name = "mysql",
	.placeholder = LBX_PH_QMARK,
	.load = load,
	.connect = my_connect,
	.prepare = my_prepare,
	.exec = my_exec,
	.close = my_close,
};
