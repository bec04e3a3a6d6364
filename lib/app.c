/*
 * app.c: the endpoint, loaded.  lbauth_app_new() reads the config and
 * loads everything a request needs once: the keys, the backend driver
 * (backend-*.c), the policy, the SQL identity and policy (appsql.c);
 * lbauth_app_worker_start() and _stop() run the per-worker parts after
 * fork; lbauth_app_free() wipes and releases it all.  What a request
 * does with it is call.c's.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "app.h"

/* The backends, by the config's "backend". */
static const struct lbx_backend_ops *const backends[] = {
	[LBX_BACKEND_LOCAL] = &lbx_backend_local,
	[LBX_BACKEND_LIVEBLOCKS] = &lbx_backend_liveblocks,
};

/*
 * Writes "file:line: key: " (or "file: key: " for an unset key) before
 * what into err.
 */
void
lbx_app_key_error(const struct lbauth_app *a, enum lbx_conf_key k,
    const char *what, char *err, size_t errsz)
{

	lbx_conf_error(&a->conf, k, what, err, errsz);
}

/* Loads the key file named by config key k into key. */
enum lbauth_err
lbx_app_load_key(struct lbauth_app *a, enum lbx_conf_key k, const char *path,
    enum lbx_keykind kind, struct lbx_key *key, char *err, size_t errsz)
{
	char		 why[512];
	enum lbauth_err	 rc;

	if ((rc = lbx_key_load(key, path, kind, why, sizeof(why))) !=
	    LBAUTH_OK)
		lbx_app_key_error(a, k, why, err, errsz);
	return rc;
}

/* See lbauth.h. */
enum lbauth_err
lbauth_app_new(const char *path, struct lbauth_app **app_r, char *err,
    size_t errsz)
{
	struct lbauth_app	*a;
	struct lbauth_conf	*c;
	struct lbx_keyset	 published;
	char			 why[512];
	enum lbauth_err		 rc;

	*app_r = NULL;
	err[0] = '\0';
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return LBAUTH_ENOMEM;
	c = &a->conf;
	if ((rc = lbx_conf_load(c, path, err, errsz)) != LBAUTH_OK ||
	    (rc = lbx_conf_check(c, err, errsz)) != LBAUTH_OK)
		goto err;
	if (c->cookie_secret_file != NULL &&
	    (rc = lbx_app_load_key(a, LBX_CONF_COOKIE_SECRET_FILE,
	    c->cookie_secret_file, LBX_KEY_HS256, &a->cookie_key, err,
	    errsz)) != LBAUTH_OK)
		goto err;
	if (c->cookie_public_key_file != NULL &&
	    (rc = lbx_app_load_key(a, LBX_CONF_COOKIE_PUBLIC_KEY_FILE,
	    c->cookie_public_key_file, LBX_KEY_ED25519_PUB, &a->cookie_key,
	    err, errsz)) != LBAUTH_OK)
		goto err;
	a->backend = backends[c->backend];
	if ((rc = a->backend->init(a, err, errsz)) != LBAUTH_OK)
		goto err;
	/* Only checked here: "lbauthctl jwks" publishes them. */
	if ((rc = lbx_keyset_load(&published, c, false, err, errsz)) !=
	    LBAUTH_OK)
		goto err;
	lbx_keyset_clear(&published);
	if ((rc = lbx_appsql_open(a, err, errsz)) != LBAUTH_OK)
		goto err;
	/* Opened for ID tokens too: a bad policy line is an error anyway. */
	if (!a->sql_policy && (rc = lbx_policy_open(&a->policy, c->policy,
	    c->policy_arg, why, sizeof(why))) != LBAUTH_OK) {
		lbx_app_key_error(a, LBX_CONF_POLICY, why, err, errsz);
		goto err;
	}
	*app_r = a;
	return LBAUTH_OK;
err:
	if (rc == LBAUTH_ENOMEM && err[0] == '\0')
		snprintf(err, errsz, "%s: out of memory", path);
	lbauth_app_free(a);
	return rc;
}

/* See lbauth.h. */
void
lbauth_app_detach(struct lbauth_app *a)
{

	if (a->sql.drv != NULL)
		lbx_sql_disconnect(&a->sql);
}

/* See lbauth.h. */
void
lbauth_app_free(struct lbauth_app *a)
{
	size_t	 i;

	if (a == NULL)
		return;
	lbx_policy_close(&a->policy);
	if (a->backend != NULL)
		a->backend->free(a);
	lbx_sql_clear(&a->sql);
	for (i = 0; i < a->nsecrets; i++)
		lbx_keyfile_secret_clear(&a->secrets[i]);
	lbx_key_clear(&a->cookie_key);
	lbx_conf_clear(&a->conf);
	free(a);
}

/* See lbauth.h. */
enum lbauth_confine
lbauth_app_confinement(const struct lbauth_app *a)
{
	enum lbauth_confine	 p;

	if (!a->conf.sandbox)
		return LBAUTH_CONFINE_OFF;
	p = a->backend->confinement(a);
	/* A plugin may talk to a database. */
	if (p == LBAUTH_CONFINE_STRICT && a->policy.dl != NULL)
		p = LBAUTH_CONFINE_NETWORK;
	/* SQLite opens its file after confinement; the others connect. */
	if (p == LBAUTH_CONFINE_STRICT && a->sql.drv == &lbx_sql_sqlite)
		p = LBAUTH_CONFINE_FILES;
	else if (p == LBAUTH_CONFINE_STRICT && a->sql.drv != NULL)
		p = LBAUTH_CONFINE_NETWORK;
	return p;
}

/* See lbauth.h. */
unsigned
lbauth_app_stop_grace(const struct lbauth_app *a)
{
	long	 ms = a->conf.request_timeout_ms + a->conf.upstream_timeout_ms;

	if (a->conf.identity_query != NULL)
		ms += a->conf.sql_timeout_ms;
	if (a->sql_policy)
		ms += a->conf.sql_timeout_ms;
	ms = (ms + 999) / 1000 + 5;
	return ms < 30 ? 30 : (unsigned)ms;
}

/* See lbauth.h. */
bool
lbauth_app_concurrent(const struct lbauth_app *a)
{

	return a->backend->concurrent(a);
}

/* See lbauth.h. */
unsigned
lbauth_app_threads(const struct lbauth_app *a)
{

	return (unsigned)a->conf.request_threads;
}

/* See lbauth.h. */
long
lbauth_app_request_timeout(const struct lbauth_app *a)
{

	return a->conf.request_timeout_ms;
}

/* See lbauth.h. */
enum lbauth_err
lbauth_app_worker_start(struct lbauth_app *a, bool concurrent, char *err,
    size_t errsz)
{
	char		 why[256];
	enum lbauth_err	 rc;

	err[0] = '\0';
	if ((rc = lbx_policy_worker_init(&a->policy, why, sizeof(why))) !=
	    LBAUTH_OK) {
		lbx_app_key_error(a, LBX_CONF_POLICY, why, err, errsz);
		return rc;
	}
	a->worker = true;
	/*
	 * This process's own connection, before confinement (sql.c); a
	 * database down now is retried at the first request.
	 */
	if (a->sql.drv != NULL && !concurrent)
		(void)lbx_sql_open(&a->sql, why, sizeof(why));
	if (concurrent && a->backend->concurrent(a) &&
	    (rc = a->backend->worker_start(a)) != LBAUTH_OK) {
		snprintf(err, errsz, "cannot start the %s backend's thread: "
		    "%s", a->backend->name, lbauth_strerror(rc));
		return rc;
	}
	return LBAUTH_OK;
}

/* See lbauth.h. */
void
lbauth_app_worker_stop(struct lbauth_app *a)
{

	if (!a->worker)
		return;
	a->backend->worker_stop(a);
	lbx_policy_worker_fini(&a->policy);
	a->worker = false;
}

/* See lbauth.h. */
bool
lbauth_app_sql_trips(const struct lbauth_app *a, unsigned kind, char *buf,
    size_t size)
{

	buf[0] = '\0';
	return kind < 2 && lbx_appsql_trips(a, kind == 0 ? LBX_SQLQ_ROOM :
	    LBX_SQLQ_ROOMLESS, buf, size);
}

/* See lbauth.h. */
const char *
lbauth_app_warning(const struct lbauth_app *a)
{

	return a->sql_warning[0] != '\0' ? a->sql_warning : NULL;
}
