/*
 * app.h: what the endpoint (app.c, and call.c, which runs a request
 * through it) shares with its backend drivers
 * (backend-local.c, backend-liveblocks.c), its SQL identity and policy
 * (appsql.c) and "lbauthctl explain" (explain.c).  Private to liblbauth.
 *
 * A backend is a table of operations, as Dovecot's passdb drivers are:
 * app.c picks the row the config's "backend" names and never asks which
 * backend it has.  One request is a struct lbx_call, which owns all of
 * the request's state (the body, the user, the session, the API
 * transfer), so that many can be in flight in one process at once.
 */
#ifndef LBAUTH_APP_H
#define LBAUTH_APP_H

#include <stdatomic.h>
#include <time.h>

#include "extern.h"

struct lbx_call;

struct lbx_backend_ops {
	const char	*name;
	/*
	 * Loads what the backend needs (keys, libcurl) from a->conf into
	 * a->be; LBAUTH_OK, or a code with "file:line: key: reason" in err.
	 */
	enum lbauth_err	(*init)(struct lbauth_app *a, char *err, size_t errsz);
	/*
	 * Issues c's token: sets c->status and c->answer and returns
	 * LBAUTH_OK, or returns an error code (c->message may say more).
	 * May instead set *pending_r, before anything else can touch c, and
	 * return LBAUTH_OK: the call is then in flight (the caller no longer
	 * owns c) and the backend calls lbx_app_call_issued(c) once, from any
	 * thread, when c->rc, c->status and c->answer are set.
	 */
	enum lbauth_err	(*issue)(struct lbx_call *c, bool *pending_r);
	/* The sandbox profile this backend needs (sandbox = yes). */
	enum lbauth_confine (*confinement)(const struct lbauth_app *a);
	/* Whether calls may go pending (a worker then runs threads). */
	bool		(*concurrent)(const struct lbauth_app *a);
	/* In a worker, after fork: start (and stop) what serves there. */
	enum lbauth_err	(*worker_start)(struct lbauth_app *a);
	void		(*worker_stop)(struct lbauth_app *a);
	/* Releases a->be. */
	void		(*free)(struct lbauth_app *a);
};

extern const struct lbx_backend_ops lbx_backend_local;
extern const struct lbx_backend_ops lbx_backend_liveblocks;

/* The liveblocks backend's state. */
struct lbx_be_liveblocks {
	struct lbx_upstream	 upstream;
	bool			 has_upstream;
	atomic_long		 inflight;	/* calls pending in this process */
};

/* The local backend's state. */
struct lbx_be_local {
	struct lbx_key		 sign_key;
	struct lbx_minter	 minter;
};

struct lbauth_app {
	struct lbauth_conf	 conf;
	struct lbx_key		 cookie_key;	/* alg 0 when none */
	struct lbx_policy	 policy;
	const struct lbx_backend_ops *backend;
	union {
		struct lbx_be_local	 local;
		struct lbx_be_liveblocks lb;
	}			 be;
	bool			 worker;	/* worker_start ran */
	/* Sessions and room access from SQL (sql.c); drv NULL: none. */
	struct lbx_sql		 sql;
	struct lbx_secret	 secrets[LBX_SECRETS_MAX];
	size_t			 nsecrets;
	bool			 sql_identity;	/* identity_query is set */
	bool			 sql_policy;	/* policy = sql */
	char			 sql_warning[1024]; /* start-up connect */
};

/* One request in flight: everything it owns, from start to answer. */
struct lbx_call {
	struct lbauth_app	*app;
	lbauth_param_fn		 param;
	lbauth_read_fn		 rd;
	void			*arg;
	struct lbauth_resp	*resp;
	int			 logfd;
	struct timespec		 t0;
	time_t			 now;
	struct lbauth_request	 req;
	struct lbauth_user	 user;
	struct lbauth_session	 sess;
	/* identity_query's session id, wiped after the lookups (call.c). */
	char			 sid[LBX_SID_MAX + 1];
	const struct lbauth_session *logsess;	/* NULL: none decided */
	const char		*origin;
	bool			 cross;
	bool			 answered;	/* a preflight: resp is done */
	bool			 heap;		/* lbauth_app_start's */
	char			*body;		/* len + 1 bytes, owned */
	size_t			 len;
	/* The result. */
	enum lbauth_err		 rc;
	const char		*reason;	/* static detail for the log */
	const char		*message;	/* for the error body, or NULL */
	char			 why[512];	/* a reason that is not static */
	char			 msg[600];
	int			 status;	/* issued: the answer's status */
	const char		*answer;	/* issued: its body, borrowed */
	size_t			 answerlen;
	/* lbauth_app_start's caller. */
	lbauth_done_fn		 done;
	void			*done_arg;
	/* backend = liveblocks: the API transfer. */
	struct lbx_xfer		 xfer;
};

void	lbx_app_call_issued(struct lbx_call *);
enum lbauth_err lbx_app_identify(struct lbx_call *);
enum lbauth_err lbx_app_decide(struct lbx_call *);
enum lbauth_err lbx_explain(struct lbauth_app *, const char *, const char *,
	    const char *, const char *, struct lbx_buf *, char *, size_t);
enum lbauth_err lbx_app_load_key(struct lbauth_app *, enum lbx_conf_key,
	    const char *, enum lbx_keykind, struct lbx_key *, char *, size_t);
void	lbx_app_key_error(const struct lbauth_app *, enum lbx_conf_key,
	    const char *, char *, size_t);

/* The app's SQL identity and policy (appsql.c). */
enum lbauth_err lbx_appsql_open(struct lbauth_app *a, char *err,
	    size_t errsz);
bool		lbx_appsql_trips(const struct lbauth_app *a, enum lbx_sql_qid qid,
		    char *buf, size_t size);
enum lbauth_err lbx_appsql_identify(struct lbx_call *c);
enum lbauth_err lbx_appsql_decide(struct lbx_call *c);

#endif /* !LBAUTH_APP_H */
