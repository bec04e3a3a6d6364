/*
 * call.c: one request through the app, a short pipeline of named steps
 *
 *	preflight	origin, method (an OPTIONS preflight ends here)
 *	read		content type, length, body
 *	identify	REMOTE_USER or the session cookie -> the user
 *			(with identity_query: appsql.c)
 *	decide		the policy grants permissions (access tokens;
 *			policy = sql: appsql.c); when identify and decide
 *			both query the database, they read one snapshot
 *			of it (step_lookup)
 *	issue		the backend makes the token (backend-*.c)
 *	answer		the response and the log line
 *
 * and this is the one place where an error code becomes a response.
 * The binary (cgi/lbauth.c, cgi/serve.c) only supplies parameters and
 * body bytes and writes the finished response out.  Every step works on
 * one struct lbx_call, the request's own state: lbauth_app_serve() keeps
 * it on the stack and answers before it returns (CGI, one request per
 * process); lbauth_app_start() allocates it, and when the backend's
 * issue goes in flight (backend = liveblocks in a FastCGI worker) the
 * call returns at once and the answer step runs later, on the backend's
 * thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app.h"

/* This request's scheme, for the same-origin check. */
static const char *
scheme(lbauth_param_fn param, void *arg)
{
	const char	*s;

	if ((s = param(arg, "HTTPS")) != NULL &&
	    (strcasecmp(s, "on") == 0 || strcmp(s, "1") == 0))
		return "https";
	if ((s = param(arg, "REQUEST_SCHEME")) != NULL &&
	    (strcmp(s, "http") == 0 || strcmp(s, "https") == 0))
		return s;
	return "http";
}

/* Adds the CORS headers for an allowed cross-origin request. */
static void
cors(struct lbauth_resp *r, const char *origin)
{

	lbx_resp_header(r, "Access-Control-Allow-Origin", origin);
	lbx_resp_header(r, "Access-Control-Allow-Credentials", "true");
	lbx_resp_header(r, "Vary", "Origin");
}

/*
 * Step preflight: the Origin is allowed, the method is POST, or it is
 * an OPTIONS preflight, answered here (c->answered).
 */
static enum lbauth_err
step_preflight(struct lbx_call *c)
{
	struct lbauth_resp	*r = c->resp;
	enum lbx_method		 method;
	enum lbauth_err		 rc;

	c->origin = c->param(c->arg, "HTTP_ORIGIN");
	method = lbx_req_method(c->param(c->arg, "REQUEST_METHOD"));
	rc = lbx_req_origin(c->origin, scheme(c->param, c->arg),
	    c->param(c->arg, "HTTP_HOST"), c->param(c->arg, "SERVER_PORT"),
	    c->app->conf.origins, &c->cross);
	if (rc != LBAUTH_OK)
		return rc;
	if (method == LBX_METHOD_OPTIONS) {
		lbx_resp_begin(r, 204, NULL);
		lbx_resp_header(r, "Allow", "POST, OPTIONS");
		if (c->cross) {
			cors(r, c->origin);
			lbx_resp_header(r, "Access-Control-Allow-Methods",
			    "POST, OPTIONS");
			lbx_resp_header(r, "Access-Control-Allow-Headers",
			    "Content-Type, Authorization");
			lbx_resp_header(r, "Access-Control-Max-Age", "600");
		}
		lbx_resp_end(r, NULL, 0);
		c->answered = true;
		return LBAUTH_OK;
	}
	return method == LBX_METHOD_POST ? LBAUTH_OK : LBAUTH_EMETHOD;
}

/*
 * Step read: a JSON content type, a length within max_body, exactly
 * that many body bytes (LBAUTH_ESHORT when the body ends early or
 * cannot be read, LBAUTH_ETIMEOUT when the reader's deadline passed
 * first), and a body that is a valid request.
 */
static enum lbauth_err
step_read(struct lbx_call *c)
{
	size_t		 got = 0;
	long		 n;
	enum lbauth_err	 rc;

	if ((rc = lbx_req_ctype(c->param(c->arg, "CONTENT_TYPE"))) !=
	    LBAUTH_OK ||
	    (rc = lbx_req_length(c->param(c->arg, "CONTENT_LENGTH"),
	    (size_t)c->app->conf.max_body, &c->len)) != LBAUTH_OK)
		return rc;
	if ((c->body = malloc(c->len + 1)) == NULL)
		return LBAUTH_ENOMEM;
	while (got < c->len) {
		if ((n = c->rd(c->arg, c->body + got, c->len - got)) <= 0)
			return n == -2 ? LBAUTH_ETIMEOUT : LBAUTH_ESHORT;
		got += (size_t)n;
	}
	c->body[c->len] = '\0';
	return lbx_req_body(&c->req, c->body, c->len, &c->reason);
}

/* Step identify: REMOTE_USER (when trusted) or the session cookie. */
static enum lbauth_err
step_identify(struct lbx_call *c)
{
	const struct lbauth_conf *conf = &c->app->conf;
	struct lbx_claims_rules	 rules;
	const char		*remote;

	c->now = time(NULL);
	remote = conf->trust_remote_user ?
	    c->param(c->arg, "REMOTE_USER") : NULL;
	if (remote != NULL && *remote != '\0')
		return lbx_user_remote(&c->user, remote);
	if (c->app->sql_identity)
		return lbx_appsql_identify(c);
	if (c->app->cookie_key.alg == 0)
		return LBAUTH_ENOSESSION;
	rules.now = c->now;
	rules.skew = conf->clock_skew;
	rules.issuer = conf->cookie_issuer;
	rules.audience = conf->cookie_audience;
	return lbx_cookie_verify(&c->user, c->param(c->arg, "HTTP_COOKIE"),
	    conf->cookie_name, &c->app->cookie_key, &rules, &c->reason);
}

/* Step decide: the policy's permissions (access tokens only). */
static enum lbauth_err
step_decide(struct lbx_call *c)
{
	enum lbauth_decision	 d;

	if (c->app->conf.token != LBX_TOKEN_ACCESS)
		return LBAUTH_OK;
	if (c->app->sql_policy)
		return lbx_appsql_decide(c);
	d = lbx_policy_decide(&c->app->policy, &c->req, &c->user, &c->sess);
	c->logsess = &c->sess;
	if (d == LBAUTH_DECISION_ERROR)
		return LBAUTH_EPOLICY;
	if (d != LBAUTH_DECISION_ALLOW || c->sess.ngrants == 0)
		return LBAUTH_EDENIED;
	return LBAUTH_OK;
}

/*
 * Steps identify and decide; when both read the database, on one
 * connection in one read transaction (sql.c, lbx_sql_hold), released
 * on every path before the backend's issue.
 */
static enum lbauth_err
step_lookup(struct lbx_call *c)
{
	struct lbauth_app	*a = c->app;
	enum lbauth_err		 rc;
	bool			 both;

	both = a->sql_identity && a->sql_policy &&
	    a->conf.token == LBX_TOKEN_ACCESS;
	if (both)
		lbx_sql_hold(&a->sql);
	if ((rc = step_identify(c)) == LBAUTH_OK)
		rc = step_decide(c);
	if (both)
		lbx_sql_release(&a->sql);
	sodium_memzero(c->sid, sizeof(c->sid));
	return rc;
}

/*
 * The identify and decide steps for "lbauthctl explain" (explain.c),
 * which runs them on a call of its own and stops there.
 */
enum lbauth_err
lbx_app_identify(struct lbx_call *c)
{

	return step_identify(c);
}

enum lbauth_err
lbx_app_decide(struct lbx_call *c)
{

	return step_decide(c);
}

/* The error response for c->rc. */
static void
error_response(struct lbx_call *c)
{
	struct lbauth_resp	*r = c->resp;
	int			 status = lbauth_err_status(c->rc);

	lbx_buf_reset(&r->token);
	lbx_resp_error_body(&r->token, c->rc, c->message);
	lbx_resp_begin(r, status, "application/json");
	if (c->rc == LBAUTH_EMETHOD)
		lbx_resp_header(r, "Allow", "POST, OPTIONS");
	/* Transient: the client may come back (it backs off anyway). */
	switch (lbx_err_retry(c->rc)) {
	case LBX_RETRY_DB:
		snprintf(c->msg, sizeof(c->msg), "%ld",
		    lbx_sql_retry_after(&c->app->sql));
		lbx_resp_header(r, "Retry-After", c->msg);
		break;
	case LBX_RETRY_SOON:
		lbx_resp_header(r, "Retry-After", "1");
		break;
	case LBX_RETRY_NO:
		break;
	}
	if (c->cross)
		cors(r, c->origin);
	lbx_resp_end(r, r->token.p, r->token.len);
}

/*
 * Step answer: the response for c's outcome (the issued answer or
 * c->rc's error), the fixed 500 when even that ran out of memory, and
 * the log line.
 */
static void
step_answer(struct lbx_call *c)
{
	struct lbauth_resp	*r = c->resp;

	if (c->answered)
		;
	else if (c->rc == LBAUTH_OK) {
		lbx_resp_begin(r, c->status, "application/json");
		if (c->status >= 500)
			lbx_resp_header(r, "Retry-After", "1");
		if (c->cross)
			cors(r, c->origin);
		lbx_resp_end(r, c->answer, c->answerlen);
	} else
		error_response(c);
	lbx_buf_reset(&r->token);
	if (r->out.oom) {
		c->rc = LBAUTH_ENOMEM;
		lbx_resp_fixed_500(r, LBAUTH_ENOMEM);
	}
	if (c->app->conf.log_requests)
		lbx_log_request(c->logfd, r->status, c->rc == LBAUTH_OK ? NULL :
		    lbauth_err_code(c->rc), c->reason, c->user.id, c->req.room,
		    c->logsess, lbx_clock_us_since(&c->t0));
}

/* Releases what c owns (not c itself). */
static void
call_clear(struct lbx_call *c)
{

	lbx_user_clear(&c->user);
	lbx_req_clear(&c->req);
	lbx_buf_clear(&c->xfer.body);
	lbx_buf_clear(&c->xfer.answer);
	lbx_buf_clear(&c->xfer.url);
	free(c->body);
	c->body = NULL;
}

/* Ends c: the answer, the caller's done, and c's memory. */
static void
call_end(struct lbx_call *c)
{
	lbauth_done_fn	 done = c->done;
	void		*arg = c->done_arg;
	enum lbauth_err	 rc = c->rc;

	step_answer(c);
	rc = c->rc;
	call_clear(c);
	if (c->heap) {
		free(c);
		if (done != NULL)
			done(arg, rc);
	}
}

/* See app.h: a pending issue has its outcome in c. */
void
lbx_app_call_issued(struct lbx_call *c)
{

	call_end(c);
}

/* Prepares c for a request and runs the steps up to issue. */
static void
call_run(struct lbx_call *c)
{
	enum lbauth_err	 rc;
	bool		 pending = false;

	clock_gettime(CLOCK_MONOTONIC, &c->t0);
	lbx_user_init(&c->user);
	lbx_session_init(&c->sess);
	lbx_buf_init(&c->xfer.body);
	lbx_buf_init(&c->xfer.answer);
	lbx_buf_init(&c->xfer.url);
	c->req.param = c->param;
	c->req.arg = c->arg;
	lbx_resp_reset(c->resp);
	if ((rc = step_preflight(c)) == LBAUTH_OK && !c->answered &&
	    (rc = step_read(c)) == LBAUTH_OK &&
	    (rc = step_lookup(c)) == LBAUTH_OK)
		rc = c->app->backend->issue(c, &pending);
	if (pending)
		return;		/* c belongs to the backend now */
	c->rc = rc;
	call_end(c);
}

/* See lbauth.h. */
enum lbauth_err
lbauth_app_serve(struct lbauth_app *a, lbauth_param_fn param,
    lbauth_read_fn rd, void *arg, struct lbauth_resp *resp, int logfd)
{
	struct lbx_call	 c;

	memset(&c, 0, sizeof(c));
	c.app = a;
	c.param = param;
	c.rd = rd;
	c.arg = arg;
	c.resp = resp;
	c.logfd = logfd;
	call_run(&c);
	return c.rc;
}

/* See lbauth.h. */
enum lbauth_err
lbauth_app_start(struct lbauth_app *a, lbauth_param_fn param,
    lbauth_read_fn rd, void *arg, struct lbauth_resp *resp, int logfd,
    lbauth_done_fn done, void *done_arg)
{
	struct lbx_call	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return LBAUTH_ENOMEM;
	c->app = a;
	c->param = param;
	c->rd = rd;
	c->arg = arg;
	c->resp = resp;
	c->logfd = logfd;
	c->heap = true;
	c->done = done;
	c->done_arg = done_arg;
	call_run(c);
	return LBAUTH_OK;
}
