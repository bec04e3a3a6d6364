/*
 * sql-sqlite-omit.c: the SQLite extensions lbauth-sqlite.so leaves out.
 *
 * Debian's libsqlite3.a (3.40) registers its built-in extensions on
 * every sqlite3_open_v2(): FTS3/FTS4 and FTS5 full-text search, R*Tree
 * and Geopoly, and the dbstat and sqlite_stmt tables.  An identity or
 * room query has no use for them, yet a CGI process opens the database
 * once per request, so it paid for them every time: with them the
 * module's code is 1.25 MB instead of 0.90 MB, and their set-up is 55,000
 * instructions and 15 page faults of a run's 1.4 million and 142 (a CGI
 * run with SQLite takes 0.975 x the time without them, 10 pairs of 300
 * runs).
 *
 * Each definition below is the function sqlite3_open_v2() calls to
 * register one extension, and registers nothing.  Linked before the
 * archive (Makefile), it satisfies main.o's reference, so the linker
 * never takes that extension's objects from the archive.  The
 * definitions are weak: if a later libsqlite3.a needed one of those
 * objects for some other symbol, its own function would win and the
 * extension would simply be there, never a link error.
 *
 * What it means for a query: a virtual table of these modules in the
 * app's database is harmless (SQLite connects to one only when a query
 * reads it), and a query that reads one is refused when it is prepared
 * at start, "no such module: fts5", naming the config line.  The
 * system's libsqlite3.so.0 (STATIC=0, or no module beside lbauth) keeps
 * them all.  JSON, date and math functions are not extensions and stay.
 * Only the module is built from this file; lbauth never is.
 */

typedef struct sqlite3 sqlite3;

#define OMIT(name)							\
int	name(sqlite3 *);						\
__attribute__((weak)) int						\
name(sqlite3 *db)							\
{									\
									\
	(void)db;							\
	return 0;	/* SQLITE_OK: nothing to register */		\
}

OMIT(sqlite3Fts3Init)
OMIT(sqlite3Fts5Init)
OMIT(sqlite3RtreeInit)
OMIT(sqlite3DbstatRegister)
OMIT(sqlite3StmtVtabInit)
