/*
 * sqlite-floor.c: what SQLite itself costs a CGI run, with nothing of
 * lbauth around it.  sql.mjs builds it twice:
 *   -DFLOOR_SQL  opens the database read-only, begins a read
 *                transaction, prepares the identity and the room query
 *                (argv[2], argv[3], with SQLite's own :name parameters),
 *                binds :session, :user and :room, steps both and closes:
 *                the work lbauth's SQLite driver does for one CGI request
 *                (lib/sql-sqlite.c), linked the cheapest way there is
 *                (libsqlite3's static archive into the program, and,
 *                as lbauth-sqlite.so does, without the extensions
 *                lib/sql-sqlite-omit.c leaves out) and configured as
 *                the driver configures it (no memory statistics);
 *   without it   the same program doing none of that.
 * The difference between the two is the least a CGI request with SQLite
 * identity and policy can cost over one without, whatever lbauth does;
 * sql.mjs prints (JWT CGI time + that difference) / JWT CGI time as the
 * bound of the CGI goal.  Exits 0 when both queries gave one row each.
 * usage: sqlite-floor DB IDENTITY-QUERY ROOM-QUERY SESSION USER ROOM
 */
#ifdef FLOOR_SQL
#include <stddef.h>

#include <sqlite3.h>
#endif

#ifdef FLOOR_SQL
/*
 * Binds value to the named parameter name of st if st has it.
 */
static void
bind(sqlite3_stmt *st, const char *name, const char *value)
{
	int	 i;

	if ((i = sqlite3_bind_parameter_index(st, name)) > 0)
		sqlite3_bind_text(st, i, value, -1, SQLITE_STATIC);
}

/*
 * Prepares q on db, binds the three parameters, steps it to the end and
 * returns the number of rows, or -1 on an error.
 */
static int
rows(sqlite3 *db, const char *q, char **argv)
{
	sqlite3_stmt	*st;
	int		 n = 0, rc;

	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		return -1;
	bind(st, ":session", argv[4]);
	bind(st, ":user", argv[5]);
	bind(st, ":room", argv[6]);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		n++;
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? n : -1;
}
#endif

int
main(int argc, char **argv)
{
#ifdef FLOOR_SQL
	sqlite3	*db;
	int	 a, b;

	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (argc != 7 || sqlite3_open_v2(argv[1], &db,
	    SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return 2;
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	a = rows(db, argv[2], argv);
	b = rows(db, argv[3], argv);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	return a == 1 && b == 1 ? 0 : 1;
#else
	(void)argv;
	return argc == 7 ? 0 : 2;
#endif
}
