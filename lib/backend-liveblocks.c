/*
 * backend-liveblocks.c: backend = liveblocks.  Liveblocks issues the
 * token: the session goes to /v2/authorize-user (access tokens) or the
 * identity to /v2/identify-user (ID tokens), as @liveblocks/node sends
 * them, and the answer is passed through, its status mapped as
 * @liveblocks/node maps it (2xx -> 200, >= 500 -> 503, others as is).
 *
 * The API is a WAN round trip away (tens of ms), so this is the
 * backend whose calls go in flight.  In a FastCGI worker
 * (lbauth_app_worker_start with concurrent) the upstream engine runs
 * (upstream.c: one thread, one curl multi handle) and a call hands its
 * transfer to it and returns; the engine's thread answers it.  At most
 * max_inflight calls are in flight per process: past that, and when
 * the API does not answer within upstream_timeout_ms, the answer is a
 * quick 503 with Retry-After (the Liveblocks client retries it with
 * backoff) rather than a wait in a queue.  Elsewhere (CGI, tests) the
 * call blocks in lbx_upstream_post().
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"

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
liveblocks_init(struct lbauth_app *a, char *err, size_t errsz)
{
	struct lbx_be_liveblocks *lb = &a->be.lb;
	unsigned char	*secret;
	size_t		 len;
	char		 why[512];
	enum lbauth_err	 rc;

	/* Refused now rather than as a 503 at the first request. */
	if (a->conf.upstream_ca_file != NULL &&
	    (rc = readable(a->conf.upstream_ca_file, why, sizeof(why))) !=
	    LBAUTH_OK) {
		lbx_app_key_error(a, LBX_CONF_UPSTREAM_CA_FILE, why, err,
		    errsz);
		return rc;
	}
	if ((rc = lbx_keyfile_api_secret(a->conf.liveblocks_secret_file,
	    &secret, &len, why, sizeof(why))) != LBAUTH_OK) {
		lbx_app_key_error(a, LBX_CONF_LIVEBLOCKS_SECRET_FILE, why,
		    err, errsz);
		return rc;
	}
	rc = lbx_upstream_init(&lb->upstream, a->conf.liveblocks_base_url,
	    a->conf.upstream_ca_file, secret, len,
	    a->conf.upstream_timeout_ms, why, sizeof(why));
	sodium_free(secret);
	lb->has_upstream = true;
	if (rc == LBAUTH_ECONFIG)
		lbx_app_key_error(a, LBX_CONF_BACKEND, why, err, errsz);
	return rc;
}


/* Sets c's answer from its finished transfer, status mapped. */
static enum lbauth_err
answered(struct lbx_call *c)
{
	struct lbx_xfer	*x = &c->xfer;

	if (x->rc != LBAUTH_OK) {
		c->reason = x->reason;
		if (x->rc == LBAUTH_EUPSTREAM) {
			snprintf(c->msg, sizeof(c->msg), "Could not reach "
			    "%s (%s); try again later.", x->url.p,
			    x->reason != NULL ? x->reason : "no answer");
			c->message = c->msg;
		}
		return x->rc;
	}
	if (x->status >= 200 && x->status < 300)
		c->status = 200;
	else if (x->status >= 500 || x->status < 100)
		c->status = 503;
	else
		c->status = (int)x->status;
	c->answer = x->answer.p != NULL ? x->answer.p : "";
	c->answerlen = x->answer.len;
	return LBAUTH_OK;
}

/* The engine's done function: the pending call has its answer. */
static void
xfer_done(struct lbx_xfer *x)
{
	struct lbx_call		*c = (struct lbx_call *)(void *)((char *)x -
	    offsetof(struct lbx_call, xfer));
	struct lbx_be_liveblocks *lb = &c->app->be.lb;

	c->rc = answered(c);
	atomic_fetch_sub(&lb->inflight, 1);
	lbx_app_call_issued(c);
}

static enum lbauth_err
liveblocks_issue(struct lbx_call *c, bool *pending_r)
{
	struct lbauth_app	*a = c->app;
	struct lbx_be_liveblocks *lb = &a->be.lb;
	struct lbx_xfer		*x = &c->xfer;
	const char		*org;
	enum lbauth_err		 rc;

	org = a->conf.forward_organization ? c->user.org : NULL;
	if (a->conf.token == LBX_TOKEN_ID) {
		x->path = "/v2/identify-user";
		lbx_apibody_identify(&x->body, &c->user, org);
	} else {
		x->path = "/v2/authorize-user";
		lbx_apibody_authorize(&x->body, &c->user, &c->sess, org);
	}
	if (x->body.oom)
		return LBAUTH_ENOMEM;
	if (!c->heap || !lbx_upstream_started(&lb->upstream)) {
		rc = lbx_upstream_post(&lb->upstream, x->path, x->body.p,
		    x->body.len, &x->status, &x->answer, &x->conns,
		    &x->reason);
		x->rc = rc;
		lbx_buf_reset(&x->url);
		lbx_buf_puts(&x->url, lbx_upstream_url(&lb->upstream));
		return answered(c);
	}
	if (atomic_fetch_add(&lb->inflight, 1) >= a->conf.max_inflight) {
		atomic_fetch_sub(&lb->inflight, 1);
		c->reason = "max_inflight reached";
		c->message = "Too many requests are waiting for the "
		    "Liveblocks API; try again later.";
		return LBAUTH_EUPSTREAM;
	}
	x->done = xfer_done;
	/* Set first: once submitted, c may be answered and freed. */
	*pending_r = true;
	if ((rc = lbx_upstream_submit(&lb->upstream, x)) != LBAUTH_OK) {
		*pending_r = false;
		atomic_fetch_sub(&lb->inflight, 1);
		return rc;
	}
	return LBAUTH_OK;
}

static enum lbauth_confine
liveblocks_confinement(const struct lbauth_app *a)
{

	return LBAUTH_CONFINE_NETWORK;
}

static bool
liveblocks_concurrent(const struct lbauth_app *a)
{

	return true;
}

/* Connections kept open: enough for max_inflight over HTTP/1.1. */
static enum lbauth_err
liveblocks_worker_start(struct lbauth_app *a)
{

	atomic_init(&a->be.lb.inflight, 0);
	return lbx_upstream_start(&a->be.lb.upstream, a->conf.max_inflight);
}

/* Waits for the calls in flight to be answered; stops the engine. */
static void
liveblocks_worker_stop(struct lbauth_app *a)
{

	lbx_upstream_stop(&a->be.lb.upstream);
}

static void
liveblocks_free(struct lbauth_app *a)
{

	if (a->be.lb.has_upstream)
		lbx_upstream_clear(&a->be.lb.upstream);
}

const struct lbx_backend_ops lbx_backend_liveblocks = {
	.name = "liveblocks",
	.init = liveblocks_init,
	.issue = liveblocks_issue,
	.confinement = liveblocks_confinement,
	.concurrent = liveblocks_concurrent,
	.worker_start = liveblocks_worker_start,
	.worker_stop = liveblocks_worker_stop,
	.free = liveblocks_free,
};
