/*
 * login: the sign-in helper of the "make run" demo.  A DEMO TOOL, NOT
 * A LOGIN SYSTEM: anyone who can reach it becomes any sample user by
 * naming them, with no password, and may change who is in which room.
 * It stands in for the real app that, in production, signs its users
 * in and keeps its sessions and room memberships in its own database,
 * which lbauth reads (README "Use your app's sessions").  Never deploy
 * it.
 *
 * It keeps everything in one SQLite file, created with the sample data
 * when it does not exist yet:
 *
 *	users(id, org, name, color, avatar)
 *	sessions(id, user_id, expires)		one row per sign-in
 *	room_members(room, user_id, access)	access: full or read
 *
 * lbauth (session_format = raw, sql_driver = sqlite, policy = sql)
 * opens the same file read-only: the session cookie holds a session
 * id, its identity_query finds the user, its room_query the user's
 * access to the room.  So a change of membership applies to that
 * user's next token, with no sign-out.
 *
 *	GET /login		200 {"me": who the session cookie names, or
 *				null; "users": the sample users (public data:
 *				what the page's sign-in list shows)}
 *	GET /login?user=ada	303 to /, with Set-Cookie: session=<id>, a
 *				new random session id (32 bytes, hex)
 *	GET /logout		303 to /: the session row is deleted and the
 *				cookie cleared
 *	GET /members		200 {"rooms": {room: [{"user", "access"}]}}
 *	POST /members		{"room", "user", "access": "full", "read" or
 *				null (remove)}: for a signed-in user (401
 *				otherwise), as JSON only (a cross-site form
 *				cannot send that without CORS); 200 as GET
 *	an unknown user		400 {"error":"unknown_user",...}
 *
 * The sample users: ada and bob of org acme, cy of org globex, and gus,
 * a guest without an org.  ada and bob may write in acme:whiteboard and
 * acme:standup, where cy may read; cy may write in globex:lobby; gus is
 * in no room.
 *
 * A FastCGI responder over libfcgi (spawn-fcgi hands it the listening
 * socket as fd 0, as for lbauth), or one CGI request.  Usage:
 *
 *	login DATABASE [COOKIE_NAME]	COOKIE_NAME: lbauth's cookie_name,
 *					by default "session"
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sqlite3.h>

#include "../lib/extern.h"

#define SESSION_TTL	(8 * 3600)	/* seconds a sign-in lasts */
#define SID_BYTES	32		/* random bytes of a session id */
#define BODY_MAX	1024		/* bytes of a POST /members body */

/*
 * An avatar without a network: a round SVG badge with the initials, as
 * a data: URI (no external URL; the demo runs offline).  COLOR is six
 * hex digits.
 */
#define AVATAR(color, initials)						\
	"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' "	\
	"width='64' height='64'%3E%3Crect width='64' height='64' "	\
	"rx='32' fill='%23" color "'/%3E%3Ctext x='32' y='42' "		\
	"font-family='sans-serif' font-size='26' font-weight='bold' "	\
	"fill='white' text-anchor='middle'%3E" initials "%3C/text%3E"	\
	"%3C/svg%3E"

static const struct sample_user {
	const char	*id;
	const char	*org;		/* NULL: none */
	const char	*name;
	const char	*color;		/* CSS color of cursor and badge */
	const char	*avatar;
} users[] = {
	{ "ada", "acme", "Ada Lovelace", "#d9480f", AVATAR("d9480f", "AL") },
	{ "bob", "acme", "Bob Kahn", "#1971c2", AVATAR("1971c2", "BK") },
	{ "cy", "globex", "Cy Young", "#2f9e44", AVATAR("2f9e44", "CY") },
	{ "gus", NULL, "Gus Guest", "#868e96", AVATAR("868e96", "GG") },
};
#define NUSERS	(sizeof(users) / sizeof(users[0]))

/* The sample memberships, written once, when the database is made. */
static const struct {
	const char	*room, *user, *access;
} members[] = {
	{ "acme:whiteboard", "ada", "full" },
	{ "acme:whiteboard", "bob", "full" },
	{ "acme:standup", "ada", "full" },
	{ "acme:standup", "bob", "full" },
	{ "acme:standup", "cy", "read" },
	{ "globex:lobby", "cy", "full" },
};
#define NMEMBERS	(sizeof(members) / sizeof(members[0]))

static const char schema[] =
	"CREATE TABLE users (\n"
	"	id	TEXT PRIMARY KEY,\n"
	"	org	TEXT,\n"
	"	name	TEXT NOT NULL,\n"
	"	color	TEXT NOT NULL,\n"
	"	avatar	TEXT NOT NULL);\n"
	"CREATE TABLE sessions (\n"
	"	id	TEXT PRIMARY KEY,\n"
	"	user_id	TEXT NOT NULL REFERENCES users(id),\n"
	"	expires	INTEGER NOT NULL);\n"
	"CREATE TABLE room_members (\n"
	"	room	TEXT NOT NULL,\n"
	"	user_id	TEXT NOT NULL REFERENCES users(id),\n"
	"	access	TEXT NOT NULL CHECK (access IN ('full', 'read')),\n"
	"	PRIMARY KEY (room, user_id));\n";

struct helper {
	sqlite3		*db;
	const char	*cookie_name;
};

/* One request's parameters, body and output, for FastCGI or CGI alike. */
struct exchange {
	const char	*(*param)(void *, const char *);
	size_t		(*read)(void *, char *, size_t);
	void		*arg;
	struct lbx_buf	 out;
};

static const char *
cgi_param(void *arg, const char *name)
{

	(void)arg;
	return getenv(name);
}

static size_t
cgi_read(void *arg, char *buf, size_t len)
{

	(void)arg;
	return fread(buf, 1, len, stdin);
}

static const char *
fcgi_param(void *arg, const char *name)
{

	return FCGX_GetParam(name, ((FCGX_Request *)arg)->envp);
}

static size_t
fcgi_read(void *arg, char *buf, size_t len)
{
	int	 n;

	n = FCGX_GetStr(buf, (int)len, ((FCGX_Request *)arg)->in);
	return n < 0 ? 0 : (size_t)n;
}

static void
on_term(int sig)
{

	(void)sig;
	FCGX_ShutdownPending();
}

static const struct sample_user *
find_user(const char *id, size_t len)
{
	size_t	 i;

	for (i = 0; i < NUSERS; i++)
		if (strlen(users[i].id) == len &&
		    memcmp(users[i].id, id, len) == 0)
			return &users[i];
	return NULL;
}

/*
 * Finds parameter name in query string q (name=value&...); sets *val_r
 * and *len_r to the raw (not percent-decoded) value.  Returns 1 if
 * found, else 0.  The sample ids need no decoding: an encoded one is
 * simply not found.
 */
static int
query_param(const char *q, const char *name, const char **val_r,
    size_t *len_r)
{
	const char	*p, *amp, *end;
	size_t		 nlen = strlen(name);

	if (q == NULL)
		return 0;
	end = q + strlen(q);
	for (p = q; p < end; p = amp + 1) {
		if ((amp = strchr(p, '&')) == NULL)
			amp = end;
		if ((size_t)(amp - p) > nlen && memcmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			*val_r = p + nlen + 1;
			*len_r = (size_t)(amp - *val_r);
			return 1;
		}
	}
	return 0;
}

static void
json_field(struct lbx_buf *b, const char *sep, const char *key,
    const char *val)
{

	lbx_buf_printf(b, "%s\"%s\":", sep, key);
	lbx_jsonw_str(b, val, strlen(val));
}

/* The userInfo others see: {"name", "avatar", "color"}. */
static void
put_info(struct lbx_buf *b, const struct sample_user *u)
{

	json_field(b, "{", "name", u->name);
	json_field(b, ",", "avatar", u->avatar);
	json_field(b, ",", "color", u->color);
	lbx_buf_putc(b, '}');
}

static void
answer_json(struct exchange *x, const char *status, const char *body)
{

	lbx_buf_printf(&x->out, "Status: %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n\r\n%s\n", status, body);
}

static void
answer_buf(struct exchange *x, struct lbx_buf *b)
{

	if (b->oom)
		answer_json(x, "500 Internal Server Error",
		    "{\"error\":\"internal_error\",\"message\":\"Out of memory.\"}");
	else
		answer_json(x, "200 OK", b->p);
}

static void
answer_db_error(struct exchange *x, const struct helper *h)
{

	fprintf(stderr, "demo login: database: %s\n", sqlite3_errmsg(h->db));
	answer_json(x, "500 Internal Server Error",
	    "{\"error\":\"internal_error\",\"message\":\"The demo's database "
	    "failed; see the log.\"}");
}

/*
 * Runs sql with up to three text parameters (NULL: SQL NULL) that
 * returns no rows.  Returns 0, or -1 on a database error.
 */
static int
db_run(const struct helper *h, const char *sql, const char *a,
    const char *b, const char *c)
{
	sqlite3_stmt	*st;
	const char	*v[3] = { a, b, c };
	int		 i, rc;

	if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	for (i = 0; i < 3 && i < sqlite3_bind_parameter_count(st); i++)
		sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * The session id of the request's cookie, copied into sid (at least
 * 2 * SID_BYTES + 1 bytes) when it has the shape this helper makes (hex
 * of SID_BYTES bytes).  Returns 1, or 0 without one.
 */
static int
cookie_sid(const struct exchange *x, const struct helper *h, char *sid)
{
	const char	*v;
	size_t		 len, i;

	if (lbx_cookie_find(x->param(x->arg, "HTTP_COOKIE"), h->cookie_name,
	    &v, &len) != LBAUTH_OK || len != 2 * SID_BYTES)
		return 0;
	for (i = 0; i < len; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' &&
		    v[i] <= 'f')))
			return 0;
	memcpy(sid, v, len);
	sid[len] = '\0';
	return 1;
}

/*
 * The sample user the request's session names (an unexpired row of
 * sessions), or NULL.
 */
static const struct sample_user *
session_user(const struct exchange *x, const struct helper *h)
{
	const struct sample_user	*u = NULL;
	sqlite3_stmt			*st;
	char				 sid[2 * SID_BYTES + 1];
	const unsigned char		*id;

	if (!cookie_sid(x, h, sid))
		return NULL;
	if (sqlite3_prepare_v2(h->db, "SELECT user_id FROM sessions "
	    "WHERE id = ?1 AND expires > ?2", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (id = sqlite3_column_text(st, 0)) != NULL)
		u = find_user((const char *)id, strlen((const char *)id));
	sqlite3_finalize(st);
	return u;
}

static void
answer_users(struct exchange *x, const struct helper *h)
{
	const struct sample_user	*me;
	struct lbx_buf			 b;
	size_t				 i;

	lbx_buf_init(&b);
	lbx_buf_puts(&b, "{\"me\":");
	if ((me = session_user(x, h)) == NULL)
		lbx_buf_puts(&b, "null");
	else {
		json_field(&b, "{", "id", me->id);
		if (me->org != NULL)
			json_field(&b, ",", "org", me->org);
		lbx_buf_puts(&b, ",\"info\":");
		put_info(&b, me);
		lbx_buf_putc(&b, '}');
	}
	lbx_buf_puts(&b, ",\"users\":[");
	for (i = 0; i < NUSERS; i++) {
		json_field(&b, i == 0 ? "{" : ",{", "id", users[i].id);
		if (users[i].org != NULL)
			json_field(&b, ",", "org", users[i].org);
		lbx_buf_puts(&b, ",\"info\":");
		put_info(&b, &users[i]);
		lbx_buf_putc(&b, '}');
	}
	lbx_buf_puts(&b, "]}");
	answer_buf(x, &b);
	lbx_buf_clear(&b);
}

/* 303 to / with the session cookie set to value ("" clears it). */
static void
answer_cookie(struct exchange *x, const struct helper *h, const char *value)
{

	lbx_buf_printf(&x->out, "Status: 303 See Other\r\n"
	    "Location: /\r\n"
	    "Set-Cookie: %s=%s; Path=/; HttpOnly; SameSite=Lax%s\r\n"
	    "Cache-Control: no-store\r\n"
	    "Content-Type: text/plain\r\n\r\nSee /\n", h->cookie_name,
	    value, *value == '\0' ? "; Max-Age=0" : "");
}

static void
sign_in(struct exchange *x, const struct helper *h,
    const struct sample_user *u)
{
	unsigned char	 raw[SID_BYTES];
	char		 sid[2 * SID_BYTES + 1], exp[32];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(sid, sizeof(sid), raw, sizeof(raw));
	snprintf(exp, sizeof(exp), "%lld", (long long)time(NULL) +
	    SESSION_TTL);
	if (db_run(h, "INSERT INTO sessions (id, user_id, expires) "
	    "VALUES (?1, ?2, CAST(?3 AS INTEGER))", sid, u->id, exp) == -1) {
		answer_db_error(x, h);
		return;
	}
	answer_cookie(x, h, sid);
	sodium_memzero(sid, sizeof(sid));
	fprintf(stderr, "demo login: signed in %s (org %s)\n", u->id,
	    u->org != NULL ? u->org : "none");
}

static void
sign_out(struct exchange *x, const struct helper *h)
{
	char	 sid[2 * SID_BYTES + 1];

	if (cookie_sid(x, h, sid) &&
	    db_run(h, "DELETE FROM sessions WHERE id = ?1", sid, NULL,
	    NULL) == -1) {
		answer_db_error(x, h);
		return;
	}
	answer_cookie(x, h, "");
	fprintf(stderr, "demo login: signed out\n");
}

/* {"rooms": {room: [{"user","access"}, ...]}}, every membership. */
static void
answer_members(struct exchange *x, const struct helper *h)
{
	sqlite3_stmt		*st;
	struct lbx_buf		 b;
	const unsigned char	*room, *user, *access;
	char			*last = NULL;
	int			 rc;

	if (sqlite3_prepare_v2(h->db, "SELECT room, user_id, access FROM "
	    "room_members ORDER BY room, user_id", -1, &st, NULL) !=
	    SQLITE_OK) {
		answer_db_error(x, h);
		return;
	}
	lbx_buf_init(&b);
	lbx_buf_puts(&b, "{\"rooms\":{");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		room = sqlite3_column_text(st, 0);
		user = sqlite3_column_text(st, 1);
		access = sqlite3_column_text(st, 2);
		if (room == NULL || user == NULL || access == NULL)
			continue;
		if (last == NULL || strcmp(last, (const char *)room) != 0) {
			if (last != NULL)
				lbx_buf_puts(&b, "],");
			free(last);
			if ((last = strdup((const char *)room)) == NULL)
				b.oom = true;
			lbx_jsonw_str(&b, (const char *)room,
			    strlen((const char *)room));
			lbx_buf_puts(&b, ":[");
		} else
			lbx_buf_putc(&b, ',');
		json_field(&b, "{", "user", (const char *)user);
		json_field(&b, ",", "access", (const char *)access);
		lbx_buf_putc(&b, '}');
	}
	sqlite3_finalize(st);
	if (last != NULL)
		lbx_buf_putc(&b, ']');
	free(last);
	lbx_buf_puts(&b, "}}");
	if (rc != SQLITE_DONE)
		answer_db_error(x, h);
	else
		answer_buf(x, &b);
	lbx_buf_clear(&b);
}

/*
 * Whether s (len bytes) is a room id the demo accepts: 1 to 128 bytes
 * of letters, digits and ":-_.", as the page's rooms are.
 */
static int
is_room(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > 128)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == ':' ||
		    s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

/* POST /members: adds, changes or removes one membership. */
static void
change_member(struct exchange *x, const struct helper *h)
{
	const struct sample_user	*me, *u;
	struct json_object		*o = NULL, *acc;
	const char			*ctype, *room, *user, *access = NULL;
	char				 body[BODY_MAX + 1];
	size_t				 n, rlen, ulen;
	int				 rc;

	ctype = x->param(x->arg, "CONTENT_TYPE");
	if (ctype == NULL || strncmp(ctype, "application/json", 16) != 0) {
		answer_json(x, "415 Unsupported Media Type",
		    "{\"error\":\"unsupported_media_type\",\"message\":"
		    "\"Send application/json.\"}");
		return;
	}
	if ((me = session_user(x, h)) == NULL) {
		answer_json(x, "401 Unauthorized",
		    "{\"error\":\"not_signed_in\",\"message\":\"Sign in "
		    "first.\"}");
		return;
	}
	n = x->read(x->arg, body, sizeof(body));
	if (n > BODY_MAX || lbx_json_parse(body, n, &o) != LBAUTH_OK ||
	    !json_object_is_type(o, json_type_object) ||
	    (room = lbx_json_get_str(o, "room", &rlen)) == NULL ||
	    !is_room(room, rlen) ||
	    (user = lbx_json_get_str(o, "user", &ulen)) == NULL ||
	    (u = find_user(user, ulen)) == NULL ||
	    !json_object_object_get_ex(o, "access", &acc) ||
	    (acc != NULL && ((access = json_object_get_string(acc)) == NULL ||
	    (strcmp(access, "full") != 0 && strcmp(access, "read") != 0)))) {
		json_object_put(o);
		answer_json(x, "400 Bad Request",
		    "{\"error\":\"bad_request\",\"message\":\"Send {\\\"room\\\","
		    "\\\"user\\\" (a sample user),\\\"access\\\": \\\"full\\\", "
		    "\\\"read\\\" or null}.\"}");
		return;
	}
	if (access == NULL)
		rc = db_run(h, "DELETE FROM room_members WHERE room = ?1 AND "
		    "user_id = ?2", room, u->id, NULL);
	else
		rc = db_run(h, "INSERT INTO room_members (room, user_id, "
		    "access) VALUES (?1, ?2, ?3) ON CONFLICT (room, user_id) "
		    "DO UPDATE SET access = excluded.access", room, u->id,
		    access);
	if (rc == -1) {
		json_object_put(o);
		answer_db_error(x, h);
		return;
	}
	fprintf(stderr, "demo login: %s set %s's access to %.*s: %s\n",
	    me->id, u->id, (int)rlen, room, access != NULL ? access : "none");
	json_object_put(o);
	answer_members(x, h);
}

static void
serve(struct exchange *x, const struct helper *h)
{
	const struct sample_user	*u;
	const char			*method, *path, *id;
	size_t				 len, plen;
	int				 get;

	method = x->param(x->arg, "REQUEST_METHOD");
	if ((path = x->param(x->arg, "SCRIPT_NAME")) == NULL ||
	    *path == '\0')
		path = x->param(x->arg, "DOCUMENT_URI");
	plen = path == NULL ? 0 : strlen(path);
	get = method != NULL && (strcmp(method, "GET") == 0 ||
	    strcmp(method, "HEAD") == 0);
	if (plen >= 8 && strcmp(path + plen - 8, "/members") == 0) {
		if (get)
			answer_members(x, h);
		else if (method != NULL && strcmp(method, "POST") == 0)
			change_member(x, h);
		else {
			lbx_buf_puts(&x->out, "Allow: GET, HEAD, POST\r\n");
			answer_json(x, "405 Method Not Allowed",
			    "{\"error\":\"method_not_allowed\",\"message\":"
			    "\"Use GET or POST.\"}");
		}
		return;
	}
	if (!get) {
		lbx_buf_puts(&x->out, "Allow: GET, HEAD\r\n");
		answer_json(x, "405 Method Not Allowed",
		    "{\"error\":\"method_not_allowed\",\"message\":"
		    "\"Use GET.\"}");
		return;
	}
	if (plen >= 7 && strcmp(path + plen - 7, "/logout") == 0) {
		sign_out(x, h);
		return;
	}
	if (!query_param(x->param(x->arg, "QUERY_STRING"), "user", &id,
	    &len)) {
		answer_users(x, h);
		return;
	}
	if ((u = find_user(id, len)) == NULL) {
		answer_json(x, "400 Bad Request",
		    "{\"error\":\"unknown_user\",\"message\":\"No such sample "
		    "user; the demo has ada and bob (org acme), cy (org "
		    "globex) and gus (no org).\"}");
		return;
	}
	sign_in(x, h, u);
}

/*
 * Opens (making it, with the sample data, when new) the database at
 * path.  Returns 0, or -1 after printing why.
 */
static int
helper_open(struct helper *h, const char *path)
{
	sqlite3_stmt	*st;
	size_t		 i;
	int		 fresh = 0, rc = -1;

	if (sqlite3_open_v2(path, &h->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(h->db, 2000);
	if (sqlite3_prepare_v2(h->db, "SELECT count(*) FROM sqlite_master "
	    "WHERE name = 'users'", -1, &st, NULL) != SQLITE_OK)
		goto out;
	fresh = sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_int(st, 0) == 0;
	sqlite3_finalize(st);
	if (!fresh)
		return 0;
	if (sqlite3_exec(h->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(h->db, schema, NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	for (i = 0; i < NUSERS; i++) {
		if (sqlite3_prepare_v2(h->db, "INSERT INTO users (id, org, "
		    "name, color, avatar) VALUES (?1, ?2, ?3, ?4, ?5)", -1, &st,
		    NULL) != SQLITE_OK)
			goto out;
		sqlite3_bind_text(st, 1, users[i].id, -1, SQLITE_STATIC);
		if (users[i].org != NULL)
			sqlite3_bind_text(st, 2, users[i].org, -1,
			    SQLITE_STATIC);
		sqlite3_bind_text(st, 3, users[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, users[i].color, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, users[i].avatar, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			rc = -1;
			goto out;
		}
	}
	rc = -1;
	for (i = 0; i < NMEMBERS; i++)
		if (db_run(h, "INSERT INTO room_members (room, user_id, access) "
		    "VALUES (?1, ?2, ?3)", members[i].room, members[i].user,
		    members[i].access) == -1)
			goto out;
	if (sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	fprintf(stderr, "demo login: made %s with the sample users and "
	    "rooms\n", path);
	return 0;
out:
	fprintf(stderr, "demo login: %s: %s\n", path, h->db != NULL ?
	    sqlite3_errmsg(h->db) : "cannot open");
	sqlite3_close(h->db);
	h->db = NULL;
	return -1;
}

static int
run_cgi(const struct helper *h)
{
	struct exchange	 x;
	int		 rc = 1;

	x.param = cgi_param;
	x.read = cgi_read;
	x.arg = NULL;
	lbx_buf_init(&x.out);
	serve(&x, h);
	if (!x.out.oom && fwrite(x.out.p, 1, x.out.len, stdout) == x.out.len &&
	    fflush(stdout) == 0)
		rc = 0;
	lbx_buf_clear(&x.out);
	return rc;
}

static int
run_fcgi(const struct helper *h)
{
	FCGX_Request		 rq;
	struct sigaction	 sa;
	struct exchange		 x;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);	/* no SA_RESTART: accept ends */
	sigaction(SIGINT, &sa, NULL);
	if (FCGX_Init() != 0 ||
	    FCGX_InitRequest(&rq, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		fprintf(stderr, "demo login: cannot initialise FastCGI\n");
		return 1;
	}
	x.param = fcgi_param;
	x.read = fcgi_read;
	x.arg = &rq;
	lbx_buf_init(&x.out);
	while (FCGX_Accept_r(&rq) >= 0) {
		lbx_buf_reset(&x.out);
		serve(&x, h);
		if (!x.out.oom)
			FCGX_PutStr(x.out.p, (int)x.out.len, rq.out);
		rq.keepConnection = 0;
		FCGX_Finish_r(&rq);
	}
	lbx_buf_clear(&x.out);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct helper	 h;
	const char	*path;
	int		 rc;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: login DATABASE [COOKIE_NAME]\n");
		return 2;
	}
	path = argv[1];
	memset(&h, 0, sizeof(h));
	h.cookie_name = argc == 3 ? argv[2] : "session";
	if (sodium_init() < 0) {
		fprintf(stderr, "demo login: libsodium failed to initialise\n");
		return 1;
	}
	if (helper_open(&h, path) == -1)
		return 1;
	rc = FCGX_IsCGI() ? run_cgi(&h) : run_fcgi(&h);
	sqlite3_close(h.db);
	return rc;
}
