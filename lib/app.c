/*
 * app.c: the endpoint.  lbauth_app_new() loads everything once;
 * lbauth_app_serve() runs one request through the steps
 *
 *	origin -> method -> content type -> length -> body -> identity
 *	-> policy (access tokens) -> token -> response + log line
 *
 * and is the one place where an error code becomes a response.  The
 * binary (cgi/lbauth.c) only supplies parameters and body bytes and
 * writes the finished response out.
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

#include "extern.h"

struct lbauth_app {
	struct lbauth_conf	 conf;
	struct lbx_key		 cookie_key;	/* alg 0 when none */
	struct lbx_key		 sign_key;
	struct lbx_minter	 minter;
	struct lbx_policy	 policy;
	struct lbx_upstream	 upstream;	/* backend = liveblocks */
	bool			 has_upstream;
	struct lbx_buf		 apibody;	/* scratch: the API request */
	struct lbx_buf		 answer;	/* scratch: the API answer */
	char			*body;		/* max_body + 1 bytes */
};

/*
 * Writes "file:line: key: " (or "file: key: " for an unset key) before
 * what into err.
 */
static void
key_error(const struct lbauth_app *a, enum lbx_conf_key k, const char *what,
    char *err, size_t errsz)
{

	if (a->conf.line[k] != 0)
		snprintf(err, errsz, "%s:%u: %s: %s", a->conf.file,
		    a->conf.line[k], lbx_conf_key_name(k), what);
	else
		snprintf(err, errsz, "%s: %s: %s", a->conf.file,
		    lbx_conf_key_name(k), what);
}

/* Loads the key file named by config key k into key. */
static enum lbauth_err
load_key(struct lbauth_app *a, enum lbx_conf_key k, const char *path,
    enum lbx_keykind kind, struct lbx_key *key, char *err, size_t errsz)
{
	char		 why[512];
	enum lbauth_err	 rc;

	if ((rc = lbx_key_load(key, path, kind, why, sizeof(why))) !=
	    LBAUTH_OK)
		key_error(a, k, why, err, errsz);
	return rc;
}

/*
 * Whether the file at path is a regular file we can open for reading;
 * LBAUTH_OK, or LBAUTH_EKEYFILE with "path: reason" in err.
 */
static enum lbauth_err
readable(const char *path, char *err, size_t errsz)
{
	struct stat	 st;
	int		 fd, er;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		er = errno;
		snprintf(err, errsz, "%s: %s", path, strerror(er));
		return LBAUTH_EKEYFILE;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "%s: is not a regular file", path);
		close(fd);
		return LBAUTH_EKEYFILE;
	}
	close(fd);
	return LBAUTH_OK;
}

/* Loads the Liveblocks secret and prepares the API client. */
static enum lbauth_err
open_upstream(struct lbauth_app *a, char *err, size_t errsz)
{
	unsigned char	*secret;
	size_t		 len;
	char		 why[512];
	enum lbauth_err	 rc;

	/* Refused now rather than as a 503 at the first request. */
	if (a->conf.upstream_ca_file != NULL &&
	    (rc = readable(a->conf.upstream_ca_file, why, sizeof(why))) !=
	    LBAUTH_OK) {
		key_error(a, LBX_CONF_UPSTREAM_CA_FILE, why, err, errsz);
		return rc;
	}
	if ((rc = lbx_keyfile_api_secret(a->conf.liveblocks_secret_file,
	    &secret, &len, why, sizeof(why))) != LBAUTH_OK) {
		key_error(a, LBX_CONF_LIVEBLOCKS_SECRET_FILE, why, err, errsz);
		return rc;
	}
	rc = lbx_upstream_init(&a->upstream, a->conf.liveblocks_base_url,
	    a->conf.upstream_ca_file, secret, len,
	    a->conf.upstream_timeout_ms, why, sizeof(why));
	sodium_free(secret);
	a->has_upstream = true;
	if (rc == LBAUTH_ECONFIG)
		key_error(a, LBX_CONF_BACKEND, why, err, errsz);
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
	    (rc = load_key(a, LBX_CONF_COOKIE_SECRET_FILE,
	    c->cookie_secret_file, LBX_KEY_HS256, &a->cookie_key, err, errsz)) !=
	    LBAUTH_OK)
		goto err;
	if (c->cookie_public_key_file != NULL &&
	    (rc = load_key(a, LBX_CONF_COOKIE_PUBLIC_KEY_FILE,
	    c->cookie_public_key_file, LBX_KEY_ED25519_PUB, &a->cookie_key, err,
	    errsz)) != LBAUTH_OK)
		goto err;
	if (c->backend == LBX_BACKEND_LOCAL &&
	    ((rc = load_key(a, LBX_CONF_SIGNING_KEY_FILE, c->signing_key_file,
	    LBX_KEY_ED25519_PRIV, &a->sign_key, err, errsz)) != LBAUTH_OK ||
	    (rc = lbx_minter_init(&a->minter, &a->sign_key, c->project_id,
	    c->token_ttl)) != LBAUTH_OK))
		goto err;
	if (c->backend == LBX_BACKEND_LIVEBLOCKS &&
	    (rc = open_upstream(a, err, errsz)) != LBAUTH_OK)
		goto err;
	/* Only checked here: "lbauthctl jwks" publishes them. */
	if ((rc = lbx_keyset_load(&published, c, false, err, errsz)) !=
	    LBAUTH_OK)
		goto err;
	lbx_keyset_clear(&published);
	/* Opened for ID tokens too: a bad policy line is an error anyway. */
	if ((rc = lbx_policy_open(&a->policy, c->policy, c->policy_arg, why,
	    sizeof(why))) != LBAUTH_OK) {
		key_error(a, LBX_CONF_POLICY, why, err, errsz);
		goto err;
	}
	if ((a->body = malloc((size_t)c->max_body + 1)) == NULL) {
		rc = LBAUTH_ENOMEM;
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
lbauth_app_free(struct lbauth_app *a)
{

	if (a == NULL)
		return;
	lbx_policy_close(&a->policy);
	if (a->has_upstream)
		lbx_upstream_clear(&a->upstream);
	lbx_buf_clear(&a->apibody);
	lbx_buf_clear(&a->answer);
	lbx_minter_clear(&a->minter);
	lbx_key_clear(&a->cookie_key);
	lbx_key_clear(&a->sign_key);
	lbx_conf_clear(&a->conf);
	free(a->body);
	free(a);
}

/* See lbauth.h. */
enum lbauth_confine
lbauth_app_confinement(const struct lbauth_app *a)
{

	if (!a->conf.sandbox)
		return LBAUTH_CONFINE_OFF;
	if (a->conf.backend == LBX_BACKEND_LOCAL && a->policy.dl == NULL)
		return LBAUTH_CONFINE_STRICT;
	return LBAUTH_CONFINE_NETWORK;
}

/* See lbauth.h. */
bool
lbauth_app_waits_upstream(const struct lbauth_app *a)
{

	return a->conf.backend == LBX_BACKEND_LIVEBLOCKS;
}

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

/*
 * Reads exactly len body bytes into buf.  Returns LBAUTH_OK, or
 * LBAUTH_ESHORT when the body ends early (or cannot be read: the client
 * is gone or sent less than it announced).
 */
static enum lbauth_err
read_body(lbauth_read_fn rd, void *arg, char *buf, size_t len)
{
	size_t	 got = 0;
	long	 n;

	while (got < len) {
		if ((n = rd(arg, buf + got, len - got)) <= 0)
			return LBAUTH_ESHORT;
		got += (size_t)n;
	}
	buf[len] = '\0';
	return LBAUTH_OK;
}

/* Adds the CORS headers for an allowed cross-origin request. */
static void
cors(struct lbauth_resp *r, const char *origin)
{

	lbx_resp_header(r, "Access-Control-Allow-Origin", origin);
	lbx_resp_header(r, "Access-Control-Allow-Credentials", "true");
	lbx_resp_header(r, "Vary", "Origin");
}

/* Microseconds since t0. */
static long
since(const struct timespec *t0)
{
	struct timespec	 t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)(t1.tv_sec - t0->tv_sec) * 1000000L +
	    (t1.tv_nsec - t0->tv_nsec) / 1000;
}

/*
 * Has Liveblocks issue the token (backend = liveblocks): POSTs the
 * session to /v2/authorize-user (access tokens) or the identity to
 * /v2/identify-user (ID tokens), as @liveblocks/node does, leaving the
 * answer in a->answer and its status, mapped as @liveblocks/node maps
 * it (2xx -> 200, >= 500 -> 503, anything else as is), in *status_r.
 * Returns LBAUTH_OK when an answer came, else LBAUTH_EUPSTREAM (with
 * libcurl's static reason in *reason_r) or LBAUTH_ENOMEM.
 */
static enum lbauth_err
ask_liveblocks(struct lbauth_app *a, const struct lbauth_user *u,
    const struct lbauth_session *s, long *status_r, const char **reason_r)
{
	const char	*org, *path;
	long		 conns;
	enum lbauth_err	 rc;

	org = a->conf.forward_organization ? u->org : NULL;
	lbx_buf_reset(&a->apibody);
	if (a->conf.token == LBX_TOKEN_ID) {
		path = "/v2/identify-user";
		lbx_apibody_identify(&a->apibody, u, org);
	} else {
		path = "/v2/authorize-user";
		lbx_apibody_authorize(&a->apibody, u, s, org);
	}
	if (a->apibody.oom)
		return LBAUTH_ENOMEM;
	rc = lbx_upstream_post(&a->upstream, path, a->apibody.p,
	    a->apibody.len, status_r, &a->answer, &conns, reason_r);
	if (rc != LBAUTH_OK)
		return rc;
	if (*status_r >= 200 && *status_r < 300)
		*status_r = 200;
	else if (*status_r >= 500 || *status_r < 100)
		*status_r = 503;
	return LBAUTH_OK;
}

/* See lbauth.h. */
enum lbauth_err
lbauth_app_serve(struct lbauth_app *a, lbauth_param_fn param,
    lbauth_read_fn rd, void *arg, struct lbauth_resp *resp, int logfd)
{
	struct lbauth_request	 req;
	struct lbauth_user	 user;
	struct lbauth_session	 sess;
	struct lbx_claims_rules	 rules;
	struct timespec		 t0;
	const struct lbauth_session *logsess = NULL;
	const char		*origin, *remote, *reason = NULL;
	const char		*message = NULL;
	char			 msg[600];
	long			 status;
	enum lbx_method		 method;
	enum lbauth_decision	 d;
	enum lbauth_err		 rc;
	size_t			 len;
	bool			 cross = false;
	time_t			 now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&req, 0, sizeof(req));
	req.param = param;
	req.arg = arg;
	lbx_user_init(&user);
	lbx_session_init(&sess);
	lbx_resp_reset(resp);

	origin = param(arg, "HTTP_ORIGIN");
	method = lbx_req_method(param(arg, "REQUEST_METHOD"));
	rc = lbx_req_origin(origin, scheme(param, arg),
	    param(arg, "HTTP_HOST"), param(arg, "SERVER_PORT"),
	    a->conf.origins, &cross);
	if (rc != LBAUTH_OK)
		goto out;
	if (method == LBX_METHOD_OPTIONS) {
		lbx_resp_begin(resp, 204, NULL);
		lbx_resp_header(resp, "Allow", "POST, OPTIONS");
		if (cross) {
			cors(resp, origin);
			lbx_resp_header(resp, "Access-Control-Allow-Methods",
			    "POST, OPTIONS");
			lbx_resp_header(resp, "Access-Control-Allow-Headers",
			    "Content-Type, Authorization");
			lbx_resp_header(resp, "Access-Control-Max-Age", "600");
		}
		lbx_resp_end(resp, NULL, 0);
		goto done;
	}
	if (method != LBX_METHOD_POST) {
		rc = LBAUTH_EMETHOD;
		goto out;
	}
	if ((rc = lbx_req_ctype(param(arg, "CONTENT_TYPE"))) != LBAUTH_OK)
		goto out;
	if ((rc = lbx_req_length(param(arg, "CONTENT_LENGTH"),
	    (size_t)a->conf.max_body, &len)) != LBAUTH_OK)
		goto out;
	if ((rc = read_body(rd, arg, a->body, len)) != LBAUTH_OK)
		goto out;
	if ((rc = lbx_req_body(&req, a->body, len, &reason)) != LBAUTH_OK)
		goto out;

	now = time(NULL);
	remote = a->conf.trust_remote_user ? param(arg, "REMOTE_USER") : NULL;
	if (remote != NULL && *remote != '\0')
		rc = lbx_user_remote(&user, remote);
	else if (a->cookie_key.alg != 0) {
		rules.now = now;
		rules.skew = a->conf.clock_skew;
		rules.issuer = a->conf.cookie_issuer;
		rules.audience = a->conf.cookie_audience;
		rc = lbx_cookie_verify(&user, param(arg, "HTTP_COOKIE"),
		    a->conf.cookie_name, &a->cookie_key, &rules, &reason);
	} else
		rc = LBAUTH_ENOSESSION;
	if (rc != LBAUTH_OK)
		goto out;

	if (a->conf.token == LBX_TOKEN_ACCESS) {
		d = a->policy.ops->decide(a->policy.ctx, &req, &user, &sess);
		logsess = &sess;
		if (d == LBAUTH_DECISION_ERROR) {
			rc = LBAUTH_EPOLICY;
			goto out;
		}
		if (d != LBAUTH_DECISION_ALLOW || sess.ngrants == 0) {
			rc = LBAUTH_EDENIED;
			goto out;
		}
	}
	if (a->conf.backend == LBX_BACKEND_LIVEBLOCKS) {
		if ((rc = ask_liveblocks(a, &user, &sess, &status, &reason)) !=
		    LBAUTH_OK) {
			if (rc == LBAUTH_EUPSTREAM) {
				snprintf(msg, sizeof(msg), "Could not reach %s "
				    "(%s); try again later.",
				    lbx_upstream_url(&a->upstream), reason);
				message = msg;
			}
			goto out;
		}
		lbx_resp_begin(resp, (int)status, "application/json");
		if (cross)
			cors(resp, origin);
		lbx_resp_end(resp, a->answer.p, a->answer.len);
		goto done;
	}
	lbx_buf_puts(&resp->token, "{\"token\":\"");
	if (a->conf.token == LBX_TOKEN_ID)
		lbx_token_id(&resp->token, &a->minter, &user, now);
	else
		lbx_token_access(&resp->token, &a->minter, &user, &sess, now);
	lbx_buf_puts(&resp->token, "\"}");
	if (resp->token.oom) {
		rc = LBAUTH_ENOMEM;
		goto out;
	}
	lbx_resp_begin(resp, 200, "application/json");
	if (cross)
		cors(resp, origin);
	lbx_resp_end(resp, resp->token.p, resp->token.len);
	lbx_buf_reset(&resp->token);
	goto done;
out:
	lbx_buf_reset(&resp->token);
	lbx_resp_error_body(&resp->token, rc, message);
	lbx_resp_begin(resp, lbauth_err_status(rc), "application/json");
	if (rc == LBAUTH_EMETHOD)
		lbx_resp_header(resp, "Allow", "POST, OPTIONS");
	if (cross)
		cors(resp, origin);
	lbx_resp_end(resp, resp->token.p, resp->token.len);
done:
	if (resp->out.oom) {
		/* Last resort: a fixed 500 that needs no allocation. */
		static const char oom[] = "Status: 500 Internal Server Error"
		    "\r\nContent-Type: application/json\r\nCache-Control: "
		    "no-store\r\n\r\n{\"error\":\"internal_error\","
		    "\"message\":\"Out of memory; try again later.\"}";

		rc = LBAUTH_ENOMEM;
		resp->out.len = 0;
		resp->out.oom = 0;
		resp->status = 500;
		if (resp->out.cap > sizeof(oom)) {
			memcpy(resp->out.p, oom, sizeof(oom));
			resp->out.len = sizeof(oom) - 1;
		}
	}
	if (a->conf.log_requests)
		lbx_log_request(logfd, resp->status, rc == LBAUTH_OK ? NULL :
		    lbauth_err_code(rc), reason, user.id, req.room, logsess,
		    since(&t0));
	lbx_user_clear(&user);
	lbx_req_clear(&req);
	return rc;
}
