/*
 * backend-local.c: backend = local.  lbauth signs the Liveblocks token
 * itself with the Ed25519 key of signing_key_file (token.c): no
 * network, so a call never goes in flight.  A worker serves one request
 * at a time, one worker per CPU, unless the config reads a database over
 * the network (sql_driver = pgsql or mysql): then every request waits a
 * round trip or two for the database, so the worker runs request threads
 * (cgi/serve.c), each with its own connection (sql.c), and a CPU stays
 * busy while some of them wait (request_threads, default 4; 1 keeps
 * the worker serial).  SQLite needs no thread: its queries are the
 * worker's own CPU work.
 */
#include <string.h>

#include "app.h"

static enum lbauth_err
local_init(struct lbauth_app *a, char *err, size_t errsz)
{
	struct lbx_be_local	*l = &a->be.local;
	const struct lbauth_conf *c = &a->conf;
	enum lbauth_err		 rc;

	if ((rc = lbx_app_load_key(a, LBX_CONF_SIGNING_KEY_FILE,
	    c->signing_key_file, LBX_KEY_ED25519_PRIV, &l->sign_key, err,
	    errsz)) != LBAUTH_OK)
		return rc;
	return lbx_token_minter_init(&l->minter, &l->sign_key, c->project_id,
	    c->token_ttl);
}

/*
 * Mints the token into the response's scratch buffers (the minter is
 * read-only, shared by the request threads).
 */
static enum lbauth_err
local_issue(struct lbx_call *c, bool *pending_r)
{
	struct lbx_be_local	*l = &c->app->be.local;
	struct lbx_buf		*t = &c->resp->token;

	lbx_buf_puts(t, "{\"token\":\"");
	if (c->app->conf.token == LBX_TOKEN_ID)
		lbx_token_id(t, &c->resp->payload, &l->minter, &c->user,
		    c->now);
	else
		lbx_token_access(t, &c->resp->payload, &l->minter, &c->user,
		    &c->sess, c->now);
	lbx_buf_puts(t, "\"}");
	if (t->oom)
		return LBAUTH_ENOMEM;
	/* step_answer copies it into the response before resetting it. */
	c->status = 200;
	c->answer = t->p;
	c->answerlen = t->len;
	return LBAUTH_OK;
}

static enum lbauth_confine
local_confinement(const struct lbauth_app *a)
{

	return LBAUTH_CONFINE_STRICT;
}

static bool
local_concurrent(const struct lbauth_app *a)
{

	return a->sql.drv != NULL && a->sql.drv != &lbx_sql_sqlite &&
	    a->conf.request_threads > 1;
}

static enum lbauth_err
local_worker_start(struct lbauth_app *a)
{

	return LBAUTH_OK;
}

static void
local_worker_stop(struct lbauth_app *a)
{
}

static void
local_free(struct lbauth_app *a)
{
	struct lbx_be_local	*l = &a->be.local;

	lbx_token_minter_clear(&l->minter);
	lbx_key_clear(&l->sign_key);
}

const struct lbx_backend_ops lbx_backend_local = {
	.name = "local",
	.init = local_init,
	.issue = local_issue,
	.confinement = local_confinement,
	.concurrent = local_concurrent,
	.worker_start = local_worker_start,
	.worker_stop = local_worker_stop,
	.free = local_free,
};
