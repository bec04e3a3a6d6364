/*
 * appsql.c: the app's SQL identity and policy.  When the config sets
 * identity_query or policy = sql, lbx_appsql_open() checks the SQL keys,
 * loads the driver, the connect string and the session secrets, and
 * translates and prepares the queries once at start-up;
 * lbx_appsql_identify() and lbx_appsql_decide() are the request
 * pipeline's identify and decide steps for them (call.c calls them in
 * place of the cookie and policy ones).  It works on the app's own
 * state (struct lbauth_app in app.h) and calls only the objects below
 * it: sql.c, sid.c, sqluser.c, sqlpolicy.c, keyfile.c.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "app.h"

/* Each query's config key and the parameters it may name (sql.c). */
static const struct {
	enum lbx_conf_key	 key;
	unsigned		 allowed;
} qs[LBX_SQLQ__MAX] = {
	[LBX_SQLQ_IDENTITY] = { LBX_CONF_IDENTITY_QUERY,
	    1u << LBX_SQLP_SESSION },
	[LBX_SQLQ_ROOM] = { LBX_CONF_ROOM_QUERY, 1u << LBX_SQLP_USER |
	    1u << LBX_SQLP_ORG | 1u << LBX_SQLP_ROOM | 1u << LBX_SQLP_SESSION },
	[LBX_SQLQ_ROOMLESS] = { LBX_CONF_ROOMLESS_QUERY,
	    1u << LBX_SQLP_USER | 1u << LBX_SQLP_ORG | 1u << LBX_SQLP_SESSION },
};

/*
 * The combination rules of the SQL keys: sets a->sql_identity and
 * a->sql_policy, then LBAUTH_OK, or LBAUTH_ECONFIG with the offending
 * key's "file:line: key: reason" in err.  text holds the queries by
 * LBX_SQLQ_* (NULL: not set).
 */
static enum lbauth_err
check_keys(struct lbauth_app *a, const char *const *text, char *err,
    size_t errsz)
{
	struct lbauth_conf	*c = &a->conf;
	size_t			 i;

	a->sql_identity = c->identity_query != NULL;
	a->sql_policy = strcmp(c->policy, "sql") == 0;
	if (a->sql_policy && c->room_query == NULL) {
		lbx_app_key_error(a, LBX_CONF_POLICY, "policy = sql needs room_query "
		    "(and roomless_query for requests without a room)", err,
		    errsz);
		return LBAUTH_ECONFIG;
	}
	for (i = 1; i < LBX_SQLQ__MAX; i++)
		if (text[i] != NULL && !a->sql_policy) {
			lbx_app_key_error(a, qs[i].key, "is only used with policy = "
			    "sql", err, errsz);
			return LBAUTH_ECONFIG;
		}
	if (!a->sql_identity && (c->line[LBX_CONF_SESSION_FORMAT] != 0 ||
	    c->nsession_secrets > 0)) {
		lbx_app_key_error(a, c->line[LBX_CONF_SESSION_FORMAT] != 0 ?
		    LBX_CONF_SESSION_FORMAT : LBX_CONF_SESSION_SECRET_FILES,
		    "is only used with identity_query", err, errsz);
		return LBAUTH_ECONFIG;
	}
	if (c->line[LBX_CONF_LARAVEL_CIPHER] != 0 &&
	    (!a->sql_identity || c->session_format != LBX_SID_LARAVEL)) {
		lbx_app_key_error(a, LBX_CONF_LARAVEL_CIPHER, "is only used "
		    "with identity_query and session_format = laravel", err,
		    errsz);
		return LBAUTH_ECONFIG;
	}
	if (!a->sql_identity && !a->sql_policy &&
	    (c->sql_driver != NULL || c->sql_connect_file != NULL)) {
		lbx_app_key_error(a, c->sql_driver != NULL ?
		    LBX_CONF_SQL_DRIVER : LBX_CONF_SQL_CONNECT_FILE,
		    "is set, but neither identity_query nor policy = "
		    "sql uses it", err, errsz);
		return LBAUTH_ECONFIG;
	}
	return LBAUTH_OK;
}

/*
 * The driver (sql_driver, default sqlite) loaded, and the connect string
 * read from sql_connect_file into a->sql (sql.c's lbx_sql_clear wipes
 * it).  LBAUTH_OK, or a code with the key's reason in err.
 */
static enum lbauth_err
open_driver(struct lbauth_app *a, char *err, size_t errsz)
{
	struct lbauth_conf	*c = &a->conf;
	char			 why[512];
	enum lbauth_err		 rc;

	lbx_sql_init(&a->sql, lbx_sql_driver_find(c->sql_driver != NULL ?
	    c->sql_driver : "sqlite"));
	if (a->sql.drv == NULL) {
		lbx_app_key_error(a, LBX_CONF_SQL_DRIVER, "must be sqlite, pgsql or "
		    "mysql", err, errsz);
		return LBAUTH_ECONFIG;
	}
	if (a->sql.drv->load(why, sizeof(why)) == -1) {
		lbx_app_key_error(a, LBX_CONF_SQL_DRIVER, why, err, errsz);
		return LBAUTH_ECONFIG;
	}
	if (c->sql_connect_file == NULL) {
		lbx_app_key_error(a, LBX_CONF_SQL_CONNECT_FILE, "required with "
		    "identity_query or policy = sql: a file (mode 0600) "
		    "holding the connect string", err, errsz);
		return LBAUTH_ECONFIG;
	}
	if ((rc = lbx_keyfile_session_secret(c->sql_connect_file, LBX_SID_RAW,
	    0, &a->sql.connstr, why, sizeof(why))) != LBAUTH_OK) {
		lbx_app_key_error(a, LBX_CONF_SQL_CONNECT_FILE, why, err, errsz);
		return rc;
	}
	a->sql.timeout_ms = c->sql_timeout_ms;
	return LBAUTH_OK;
}

/*
 * The session secrets for session_format = express or laravel (none for
 * raw) into a->secrets, counted in a->nsecrets as they load so that
 * lbauth_app_free() wipes exactly those.  LBAUTH_OK, or a code with the
 * key's reason in err.
 */
static enum lbauth_err
load_secrets(struct lbauth_app *a, char *err, size_t errsz)
{
	struct lbauth_conf	*c = &a->conf;
	char			 why[512];
	enum lbauth_err		 rc;
	size_t			 i;

	if (!a->sql_identity || c->session_format == LBX_SID_RAW)
		return LBAUTH_OK;
	if (c->nsession_secrets == 0 ||
	    c->nsession_secrets > LBX_SECRETS_MAX) {
		lbx_app_key_error(a, LBX_CONF_SESSION_SECRET_FILES, "must name "
		    "1 to 8 key files with session_format = express "
		    "or laravel", err, errsz);
		return LBAUTH_ECONFIG;
	}
	if (c->session_format == LBX_SID_LARAVEL &&
	    lbx_ossl_load(why, sizeof(why)) != LBAUTH_OK) {
		lbx_app_key_error(a, LBX_CONF_SESSION_FORMAT, why, err, errsz);
		return LBAUTH_ECONFIG;
	}
	for (i = 0; i < c->nsession_secrets; i++) {
		if ((rc = lbx_keyfile_session_secret(c->session_secrets[i],
		    c->session_format, lbx_lvcipher_keylen(c->laravel_cipher),
		    &a->secrets[i], why, sizeof(why))) != LBAUTH_OK) {
			lbx_app_key_error(a, LBX_CONF_SESSION_SECRET_FILES,
			    why, err, errsz);
			return rc;
		}
		a->nsecrets++;
	}
	return LBAUTH_OK;
}

/*
 * The queries in text (by LBX_SQLQ_*, NULL: not set) translated to the
 * driver's placeholders, then prepared on a connection opened here.  A
 * query that does not prepare is LBAUTH_ECONFIG naming its line; a
 * database that cannot be reached is not (the reason goes to
 * a->sql_warning).
 */
static enum lbauth_err
prepare_queries(struct lbauth_app *a, const char *const *text, char *err,
    size_t errsz)
{
	const char	*reason;
	char		 why[512];
	enum lbx_sql_rc	 src;
	enum lbauth_err	 rc;
	size_t		 i;

	for (i = 0; i < LBX_SQLQ__MAX; i++) {
		if (text[i] == NULL)
			continue;
		if ((rc = lbx_sql_translate(&a->sql.q[i], text[i],
		    strlen(text[i]), a->sql.drv->placeholder, qs[i].allowed,
		    &reason)) != LBAUTH_OK) {
			if (rc == LBAUTH_ECONFIG)
				lbx_app_key_error(a, qs[i].key, reason, err, errsz);
			return rc;
		}
		/*
		 * Only identity_query has a session id to give, and not
		 * for a request that REMOTE_USER identifies.
		 */
		if (i != LBX_SQLQ_IDENTITY && lbx_sql_names(&a->sql, i,
		    LBX_SQLP_SESSION) && (!a->sql_identity ||
		    a->conf.trust_remote_user)) {
			lbx_app_key_error(a, qs[i].key, a->sql_identity ?
			    "names :session, which a request that REMOTE_USER "
			    "identifies does not have (trust_remote_user)" :
			    "names :session, which only identity_query gives",
			    err, errsz);
			return LBAUTH_ECONFIG;
		}
	}
	/*
	 * A policy query by :user or :org fused with the identity query
	 * into one statement, where the driver can (sql.c).
	 */
	for (i = LBX_SQLQ_ROOM; i < LBX_SQLQ__MAX; i++)
		if ((rc = lbx_sql_fuse(&a->sql, i, text[i])) != LBAUTH_OK)
			return rc;
	/*
	 * Kept for this process's requests (a CGI run would connect twice
	 * otherwise); a master drops it (lbauth_app_detach()), and a
	 * forked worker never uses it (sql.c's pid check).  A database
	 * that did not answer leaves its backoff: a CGI run does not wait
	 * for it a second time before answering 503.
	 */
	src = lbx_sql_open(&a->sql, why, sizeof(why));
	if (src == LBX_SQL_FAIL) {
		if (a->sql.bad_query >= 0)
			lbx_app_key_error(a, qs[a->sql.bad_query].key, why, err, errsz);
		else
			lbx_app_key_error(a, LBX_CONF_SQL_DRIVER, why, err, errsz);
		return LBAUTH_ECONFIG;
	}
	if (src != LBX_SQL_OK)
		snprintf(a->sql_warning, sizeof(a->sql_warning), "%.200s: cannot "
		    "check the queries now: %s", a->conf.file, why);
	return LBAUTH_OK;
}

/*
 * Sets up sessions and room access from SQL when the config asks for
 * them: the driver, the connect string, the session secrets and the
 * queries, translated and then prepared on a connection opened here and
 * closed again (workers open their own: sql.c).  A query that does not
 * prepare stops start-up naming its line; a database that cannot be
 * reached does not (requests get 503 until it can), and the reason is
 * left in a->sql_warning.  LBAUTH_OK (also when no SQL is configured),
 * or a code with "file:line: key: reason" in err; what was loaded is
 * released by lbauth_app_free().
 */
enum lbauth_err
lbx_appsql_open(struct lbauth_app *a, char *err, size_t errsz)
{
	struct lbauth_conf	*c = &a->conf;
	const char		*text[LBX_SQLQ__MAX];
	enum lbauth_err		 rc;

	text[LBX_SQLQ_IDENTITY] = c->identity_query;
	text[LBX_SQLQ_ROOM] = c->room_query;
	text[LBX_SQLQ_ROOMLESS] = c->roomless_query;
	if ((rc = check_keys(a, text, err, errsz)) != LBAUTH_OK)
		return rc;
	if (!a->sql_identity && !a->sql_policy)
		return LBAUTH_OK;
	if ((rc = open_driver(a, err, errsz)) != LBAUTH_OK ||
	    (rc = load_secrets(a, err, errsz)) != LBAUTH_OK)
		return rc;
	return prepare_queries(a, text, err, errsz);
}

/*
 * A sentence into buf (size bytes) on how policy query qid meets the
 * database per request, for lbauthctl check; false, buf empty, when
 * there is nothing to say: the query or identity_query is not set, or
 * the driver runs one query at a time (SQLite, MariaDB).  Reads the
 * connection lbx_sql_open() checked the queries on (slot 0).
 */
bool
lbx_appsql_trips(const struct lbauth_app *a, enum lbx_sql_qid qid,
    char *buf, size_t size)
{
	const struct lbx_sql	*s = &a->sql;
	const char		*key = qid == LBX_SQLQ_ROOM ? "room_query" :
				    "roomless_query", *why;

	buf[0] = '\0';
	if (s->drv == NULL || s->drv->send == NULL ||
	    s->q[qid].sql == NULL || s->q[LBX_SQLQ_IDENTITY].sql == NULL)
		return false;
	if (!lbx_sql_names(s, qid, LBX_SQLP_USER) &&
	    !lbx_sql_names(s, qid, LBX_SQLP_ORG))
		snprintf(buf, size, "%s: sent with identity_query, one round "
		    "trip per request", key);
	else if (s->slots[0].fused[qid])
		snprintf(buf, size, "%s: fused with identity_query into one "
		    "statement, one round trip per request", key);
	else {
		why = atomic_load(&s->fuse_why[qid]);
		snprintf(buf, size, "%s: not fused with identity_query (%s): "
		    "two round trips for a session a worker has not seen; "
		    "find the user by :session for one", key,
		    s->fused[qid].sql == NULL ? "more than 16 parameters" :
		    why != NULL ? why : "not checked: no connection");
	}
	return true;
}

/*
 * The identity step with identity_query: the session cookie in the
 * Cookie header hdr -> its session id (sid.c, in session_format) into
 * sid (LBX_SID_MAX + 1 bytes, the caller's to wipe) -> the user
 * (sqluser.c).  When the policy's query for this request (room: the
 * room, NULL: none) goes by :session, it is sent along (sql.c,
 * lbx_sql_ahead).  why gets the log's reason on failure.
 */
static enum lbauth_err
identify_sql(struct lbauth_app *a, const char *hdr, const char *room,
    char *sid, struct lbauth_user *u, char *why, size_t whysz)
{
	const char	*vals[LBX_SQLP__MAX] = { NULL };
	const char	*v;
	size_t		 len;
	enum lbauth_err	 rc;

	why[0] = '\0';
	if ((rc = lbx_cookie_find(hdr, a->conf.cookie_name, &v, &len)) !=
	    LBAUTH_OK)
		return rc;
	switch (a->conf.session_format) {
	case LBX_SID_EXPRESS:
		rc = lbx_sid_express(v, len, a->secrets, a->nsecrets, sid);
		break;
	case LBX_SID_LARAVEL:
		rc = lbx_sid_laravel(v, len, a->conf.cookie_name,
		    a->conf.laravel_cipher, a->secrets, a->nsecrets, sid);
		break;
	default:
		rc = lbx_sid_raw(v, len, sid);
		break;
	}
	if (rc != LBAUTH_OK)
		return rc;
	/* A no-op unless call.c holds the connection for a policy query. */
	vals[LBX_SQLP_SESSION] = sid;
	vals[LBX_SQLP_ROOM] = room;
	lbx_sql_ahead(&a->sql, room != NULL ? LBX_SQLQ_ROOM : LBX_SQLQ_ROOMLESS,
	    vals);
	rc = lbx_sqluser_lookup(u, &a->sql, sid, why, whysz);
	/* A driver's message may quote the value it was given. */
	lbx_sql_scrub_str(why, sid, strlen(sid));
	return rc;
}

/*
 * Step identify with identity_query: c->user from the session cookie;
 * a reason that is not static goes to c->why, pointed at by c->reason.
 */
enum lbauth_err
lbx_appsql_identify(struct lbx_call *c)
{
	enum lbauth_err	 rc;

	rc = identify_sql(c->app, c->param(c->arg, "HTTP_COOKIE"), c->req.room,
	    c->sid, &c->user, c->why, sizeof(c->why));
	if (c->why[0] != '\0')
		c->reason = c->why;
	return rc;
}

/*
 * Step decide with policy = sql: c->sess from the room query (or the
 * roomless one) for c->user, as sqlpolicy.c decides it.
 */
enum lbauth_err
lbx_appsql_decide(struct lbx_call *c)
{
	enum lbauth_err	 rc;

	c->logsess = &c->sess;
	rc = lbx_sqlpolicy_decide(&c->sess, &c->app->sql, c->req.room,
	    &c->user, c->sid[0] != '\0' ? c->sid : NULL, c->why,
	    sizeof(c->why));
	if (c->sid[0] != '\0')
		lbx_sql_scrub_str(c->why, c->sid, strlen(c->sid));
	if (c->why[0] != '\0')
		c->reason = c->why;
	return rc;
}
