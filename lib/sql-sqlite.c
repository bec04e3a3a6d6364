/*
 * sql-sqlite.c: the SQLite driver (sql_driver = sqlite), over
 * libsqlite3 loaded with dlopen() when configured (see upstream.c for
 * why lbauth links no client library).
 *
 * Which libsqlite3: lbauth's own module lbauth-sqlite.so when there is
 * one beside the binary or in the install's lib/lbauth (dl.c), else the
 * system's libsqlite3.so.0.  SQLite under CGI is the shared-hosting
 * path, and a CGI process loads the library on every request: Debian's
 * libsqlite3.so.0 is built with BIND_NOW and binds some 1,600 symbols
 * when loaded, most of them its own, 0.95 of the 2.23 million
 * instructions of a whole CGI run with SQLite (callgrind).  The module
 * is the same SQLite linked from Debian's static libsqlite3.a with only
 * the functions below exported and its own references bound at link
 * time (-Bsymbolic), so loading it binds some 90 (Makefile,
 * lib/sql-sqlite.map), and without libm, which it loads only when a
 * query calls a math function (sql-sqlite-libm.c).  It is the system's
 * SQLite as of the build: rebuild after a security update of
 * libsqlite3-dev, as for STATIC=1.
 *
 * The connect string is the database file's path.  The file is opened
 * with SQLITE_OPEN_READONLY and "PRAGMA query_only", and a query that
 * is not read-only (sqlite3_stmt_readonly()) or holds more than one
 * statement is refused when prepared.  sql_timeout_ms bounds the wait
 * for a writer's lock (busy timeout) and the query itself (a progress
 * handler interrupts it).
 *
 * Under the sandbox a worker opens the file after confinement, so the
 * sqlite profile allows opening files for reading (mkfilter.c).  A
 * database in WAL mode needs its -shm file writable by readers; lbauth
 * never opens a file for writing, so use a rollback journal (SQLite's
 * default, and Laravel's) or make sure the -shm file exists.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "extern.h"

static struct {
	int	(*open_v2)(const char *, sqlite3 **, int, const char *);
	int	(*close_v2)(sqlite3 *);
	const char *(*errmsg)(sqlite3 *);
	int	(*busy_timeout)(sqlite3 *, int);
	void	(*progress_handler)(sqlite3 *, int, int (*)(void *), void *);
	int	(*exec)(sqlite3 *, const char *, int (*)(void *, int, char **,
		    char **), void *, char **);
	int	(*prepare_v3)(sqlite3 *, const char *, int, unsigned int,
		    sqlite3_stmt **, const char **);
	int	(*stmt_readonly)(sqlite3_stmt *);
	int	(*reset)(sqlite3_stmt *);
	int	(*clear_bindings)(sqlite3_stmt *);
	int	(*bind_text)(sqlite3_stmt *, int, const char *, int,
		    void (*)(void *));
	int	(*bind_null)(sqlite3_stmt *, int);
	int	(*bind_parameter_count)(sqlite3_stmt *);
	int	(*step)(sqlite3_stmt *);
	int	(*column_count)(sqlite3_stmt *);
	const char *(*column_name)(sqlite3_stmt *, int);
	const unsigned char *(*column_text)(sqlite3_stmt *, int);
	int	(*column_bytes)(sqlite3_stmt *, int);
	int	(*column_type)(sqlite3_stmt *, int);
	int	(*finalize)(sqlite3_stmt *);
	int	(*config)(int, ...);
} f;
static void	*dl;

/*
 * RTLD_DEEPBIND: the system's libsqlite3 looks up its own symbols in its
 * own scope first, which cut the instructions of a CGI run with SQLite
 * by 13% (2.70 to 2.34 million, callgrind).  The sanitizers refuse
 * RTLD_DEEPBIND.
 */
#ifdef LBAUTH_SANITIZE
#define DLFLAGS	(RTLD_NOW | RTLD_LOCAL)
#else
#define DLFLAGS	(RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND)
#endif

struct conn {
	sqlite3		*db;
	sqlite3_stmt	*st[LBX_SQLQ__MAX];
	sqlite3_stmt	*begin, *commit;	/* a request's read transaction */
	struct timespec	 deadline;
	long		 timeout_ms;		/* sql_timeout_ms */
	bool		 timed_out;
};

/*
 * The outcome of SQLite's result code r for a prepare or a step: the
 * file locked by a writer past sql_timeout_ms (busy_timeout) or the
 * query stopped by the progress handler is TIMEOUT; a file that cannot
 * be read as it is now is DOWN: an I/O error, a corrupt or missing
 * file, and READONLY, which a read-only connection gets only for a hot
 * journal (a writer that crashed mid-transaction, until it is rolled
 * back) since no statement here writes.  Both are transient: 503, and
 * the connection is opened again.  Anything else (bad SQL) is FAIL.
 */
static enum lbx_sql_rc
outcome(int r)
{

	switch (r & 0xff) {
	case SQLITE_INTERRUPT:
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return LBX_SQL_TIMEOUT;
	case SQLITE_IOERR:
	case SQLITE_CORRUPT:
	case SQLITE_CANTOPEN:
	case SQLITE_NOTADB:
	case SQLITE_SCHEMA:
	case SQLITE_READONLY:
	case SQLITE_NOMEM:
		return LBX_SQL_DOWN;
	default:
		return LBX_SQL_FAIL;
	}
}

/*
 * Loads libsqlite3 once per process, lbauth's module first (see the top
 * of this file), and fills f.  Returns 0, or -1 with the sentence in
 * err (no library, a symbol missing, a module others may write).  Its
 * list of functions is lib/sql-sqlite.map's.
 */
static int
load(char *err, size_t errsz)
{
	static const struct lbx_dl_lib lib = {
		.soname = "libsqlite3.so.0",
		.flags = DLFLAGS,
		.name = "libsqlite3",
		.needs = "sql_driver = sqlite needs libsqlite3 (Debian package "
		    "libsqlite3-0)",
	};
	static const struct lbx_dl_sym syms[] = {
		{ "sqlite3_open_v2", (void **)&f.open_v2 },
		{ "sqlite3_close_v2", (void **)&f.close_v2 },
		{ "sqlite3_errmsg", (void **)&f.errmsg },
		{ "sqlite3_busy_timeout", (void **)&f.busy_timeout },
		{ "sqlite3_progress_handler", (void **)&f.progress_handler },
		{ "sqlite3_exec", (void **)&f.exec },
		{ "sqlite3_prepare_v3", (void **)&f.prepare_v3 },
		{ "sqlite3_stmt_readonly", (void **)&f.stmt_readonly },
		{ "sqlite3_reset", (void **)&f.reset },
		{ "sqlite3_clear_bindings", (void **)&f.clear_bindings },
		{ "sqlite3_bind_text", (void **)&f.bind_text },
		{ "sqlite3_bind_null", (void **)&f.bind_null },
		{ "sqlite3_bind_parameter_count",
		    (void **)&f.bind_parameter_count },
		{ "sqlite3_step", (void **)&f.step },
		{ "sqlite3_column_count", (void **)&f.column_count },
		{ "sqlite3_column_name", (void **)&f.column_name },
		{ "sqlite3_column_text", (void **)&f.column_text },
		{ "sqlite3_column_bytes", (void **)&f.column_bytes },
		{ "sqlite3_column_type", (void **)&f.column_type },
		{ "sqlite3_finalize", (void **)&f.finalize },
		{ "sqlite3_config", (void **)&f.config },
	};

	struct lbx_dl_lib	 mod = {
		.flags = RTLD_NOW | RTLD_LOCAL,
		.name = "lbauth-sqlite.so",
		.needs = "cannot load lbauth-sqlite.so",
	};
	char			 path[PATH_MAX];
	int			 rc;

	if (dl != NULL)
		return 0;
	if ((rc = lbx_dl_find_module(mod.name, path, sizeof(path), err,
	    errsz)) == -1)
		return -1;
	mod.soname = path;
	if (lbx_dl_open(rc == 1 ? &mod : &lib, syms,
	    sizeof(syms) / sizeof(syms[0]), &dl, err, errsz) == -1)
		return -1;
	/*
	 * No memory statistics: with them every sqlite3_malloc() and
	 * sqlite3_free() takes a global mutex to count bytes that lbauth
	 * never asks for (sqlite3_memory_used(), the heap limits).  They
	 * were 69,000 of the 479,000 instructions of SQLite's own work in a
	 * CGI request (open, schema, two prepares, two steps: callgrind of
	 * tests/bench/sqlite-floor.c).  It must come before SQLite's
	 * initialization, which the first sqlite3_open_v2() does: load()
	 * runs at start, before any thread or connection.  When another
	 * part of the process (a policy plugin with its own use of the
	 * system's libsqlite3) initialized that copy first, SQLite refuses
	 * with SQLITE_MISUSE and keeps its statistics, which is harmless:
	 * the return value is not checked.
	 */
	(void)f.config(SQLITE_CONFIG_MEMSTATUS, 0);
	return 0;
}

/* Interrupts a query running past its deadline. */
static int
progress(void *arg)
{
	struct conn	*c = arg;

	if (lbx_clock_passed(&c->deadline)) {
		c->timed_out = true;
		return 1;
	}
	return 0;
}

static void
sqlite_close(void *arg)
{
	struct conn	*c = arg;
	size_t		 i;

	if (c == NULL)
		return;
	for (i = 0; i < LBX_SQLQ__MAX; i++)
		if (c->st[i] != NULL)
			f.finalize(c->st[i]);
	if (c->begin != NULL)
		f.finalize(c->begin);
	if (c->commit != NULL)
		f.finalize(c->commit);
	if (c->db != NULL)
		f.close_v2(c->db);
	free(c);
}

static enum lbx_sql_rc
sqlite_connect(void **conn_r, const char *path, long timeout_ms, char *err,
    size_t errsz)
{
	struct conn	*c;
	int		 rc;

	*conn_r = NULL;
	if (load(err, errsz) == -1)
		return LBX_SQL_FAIL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return LBX_SQL_DOWN;
	}
	rc = f.open_v2(path, &c->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errsz, "cannot open %s: %s", path,
		    c->db != NULL ? f.errmsg(c->db) : "out of memory");
		sqlite_close(c);
		return LBX_SQL_DOWN;
	}
	c->timeout_ms = timeout_ms;
	f.busy_timeout(c->db, (int)timeout_ms);
	f.progress_handler(c->db, 1000, progress, c);
	/* The pragmas below run under the progress handler too. */
	lbx_clock_after(&c->deadline, timeout_ms + 1000);
	/*
	 * A second guard: no statement on this connection may write.
	 * Pages read through a shared read-only mapping rather than a
	 * pread() each (64 MiB of address space, not of memory).
	 */
	if (f.exec(c->db, "PRAGMA query_only = 1; PRAGMA mmap_size = "
	    "67108864", NULL, NULL, NULL) != SQLITE_OK ||
	    f.prepare_v3(c->db, "BEGIN", -1, SQLITE_PREPARE_PERSISTENT,
	    &c->begin, NULL) != SQLITE_OK ||
	    f.prepare_v3(c->db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT,
	    &c->commit, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "%s: %s", path, f.errmsg(c->db));
		sqlite_close(c);
		return LBX_SQL_DOWN;
	}
	*conn_r = c;
	return LBX_SQL_OK;
}

static enum lbx_sql_rc
sqlite_prepare(void *arg, size_t id, const char *sql, size_t nparams,
    char *err, size_t errsz)
{
	struct conn	*c = arg;
	const char	*tail = NULL;
	int		 r;

	/*
	 * Preparing reads the schema: a writer may hold the file (busy
	 * timeout), and it is bounded as a query is.
	 */
	lbx_clock_after(&c->deadline, c->timeout_ms);
	c->timed_out = false;
	r = f.prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->st[id],
	    &tail);
	if (r != SQLITE_OK) {
		snprintf(err, errsz, "%s", c->timed_out ? "query timed out" :
		    f.errmsg(c->db));
		return outcome(r);
	}
	if (c->st[id] == NULL) {
		snprintf(err, errsz, "empty query");
		return LBX_SQL_FAIL;
	}
	while (tail != NULL && (*tail == ' ' || *tail == '\t' ||
	    *tail == '\n' || *tail == ';'))
		tail++;
	if (tail != NULL && *tail != '\0') {
		snprintf(err, errsz, "holds more than one statement");
		return LBX_SQL_FAIL;
	}
	if (!f.stmt_readonly(c->st[id])) {
		snprintf(err, errsz, "is not a read-only query (use SELECT)");
		return LBX_SQL_FAIL;
	}
	/* A ?, ?NNN, $x or @x of its own would be bound to nothing: NULL. */
	if ((size_t)f.bind_parameter_count(c->st[id]) != nparams) {
		snprintf(err, errsz, "has a placeholder of its own: name its "
		    "values with :session, :user, :org or :room");
		return LBX_SQL_FAIL;
	}
	return LBX_SQL_OK;
}

static enum lbx_sql_rc
sqlite_exec(void *arg, size_t id, const char *const *vals, size_t n,
    long timeout_ms, lbx_sql_row_fn fn, void *fnarg, char *err, size_t errsz)
{
	struct conn		*c = arg;
	sqlite3_stmt		*st = c->st[id];
	const char		*names[LBX_SQL_COLS_MAX];
	const char		*v[LBX_SQL_COLS_MAX];
	size_t			 lens[LBX_SQL_COLS_MAX];
	enum lbx_sql_rc		 rc = LBX_SQL_OK;
	int			 i, ncols, r;

	lbx_clock_after(&c->deadline, timeout_ms);
	c->timed_out = false;
	f.reset(st);
	f.clear_bindings(st);
	for (i = 0; i < (int)n; i++)
		if ((vals[i] == NULL ? f.bind_null(st, i + 1) :
		    f.bind_text(st, i + 1, vals[i], -1, SQLITE_STATIC)) !=
		    SQLITE_OK) {
			snprintf(err, errsz, "bind: %s", f.errmsg(c->db));
			return LBX_SQL_FAIL;
		}
	/*
	 * The columns are read after the first step: a schema change since
	 * the statement was prepared makes that step prepare it again, and
	 * the old names are then freed (a migration that added a column to
	 * a "SELECT *").
	 */
	for (ncols = -1; (r = f.step(st)) == SQLITE_ROW; ) {
		if (ncols == -1) {
			if ((ncols = f.column_count(st)) > LBX_SQL_COLS_MAX) {
				snprintf(err, errsz, "more than %d columns",
				    LBX_SQL_COLS_MAX);
				rc = LBX_SQL_FAIL;
				goto out;
			}
			for (i = 0; i < ncols; i++)
				names[i] = f.column_name(st, i);
		}
		for (i = 0; i < ncols; i++) {
			if (f.column_type(st, i) == SQLITE_NULL) {
				v[i] = NULL;
				lens[i] = 0;
				continue;
			}
			v[i] = (const char *)f.column_text(st, i);
			lens[i] = (size_t)f.column_bytes(st, i);
			if (v[i] == NULL) {
				snprintf(err, errsz, "out of memory");
				rc = LBX_SQL_FAIL;
				goto out;
			}
		}
		if (fn(fnarg, (size_t)ncols, names, v, lens) == -1) {
			snprintf(err, errsz, "out of memory");
			rc = LBX_SQL_FAIL;
			goto out;
		}
	}
	if (r != SQLITE_DONE) {
		snprintf(err, errsz, "%s", c->timed_out ? "query timed out" :
		    f.errmsg(c->db));
		rc = outcome(r);
	}
out:
	f.reset(st);
	f.clear_bindings(st);
	return rc;
}

/*
 * A deferred BEGIN: the shared lock is taken by the first query and kept
 * until sqlite_end(), so the request's queries lock the file once and
 * read one state of it (sql.c, lbx_sql_hold).
 */
static enum lbx_sql_rc
sqlite_begin(void *arg, char *err, size_t errsz)
{
	struct conn	*c = arg;
	int		 r;

	r = f.step(c->begin);
	f.reset(c->begin);
	if (r == SQLITE_DONE)
		return LBX_SQL_OK;
	snprintf(err, errsz, "begin: %s", f.errmsg(c->db));
	return LBX_SQL_DOWN;
}

/* Ends the read transaction: the lock goes.  -1 if it could not. */
static int
sqlite_end(void *arg)
{
	struct conn	*c = arg;
	int		 r;

	r = f.step(c->commit);
	f.reset(c->commit);
	return r == SQLITE_DONE ? 0 : -1;
}

const struct lbx_sql_driver lbx_sql_sqlite = {
	.name = "sqlite",
	.placeholder = LBX_PH_QNUM,
	.load = load,
	.connect = sqlite_connect,
	.prepare = sqlite_prepare,
	.exec = sqlite_exec,
	.close = sqlite_close,
	.begin = sqlite_begin,
	.end = sqlite_end,
};
