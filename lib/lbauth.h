/*
 * lbauth.h: the one public header of liblbauth.
 *
 * lbauth answers a Liveblocks-style auth endpoint request ("POST
 * {"room": "..."}" with a session cookie) with a token.  This header is
 * what the endpoint binaries use and what an access-policy plugin may
 * call: everything not marked LBAUTH_API is hidden from plugins.
 *
 * Conventions (README "Writing a policy" and "Verifying tokens from C"
 * show them in use):
 *  - every fallible function returns enum lbauth_err, LBAUTH_OK (0) on
 *    success; lbauth_strerror() and lbauth_err_status() describe a code;
 *  - out-parameters come last and end in _r;
 *  - a function returning heap memory names the _free that releases it;
 *    x_free(NULL) does nothing;
 *  - strings are NUL-terminated UTF-8 unless a length is passed beside
 *    them.
 */
#ifndef LBAUTH_H
#define LBAUTH_H

/*
 * The release this header belongs to, as "lbauth --version" and
 * "lbauthctl --version" print it.
 */
#define LBAUTH_VERSION		"0.2.0"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#if defined(__GNUC__)
#define LBAUTH_API	__attribute__((visibility("default")))
#define LBAUTH_WUR	__attribute__((warn_unused_result))
#else
#define LBAUTH_API
#define LBAUTH_WUR
#endif

/*
 * Liveblocks limits (@liveblocks/node 3.x): room ids, patterns and user
 * ids are at most 128 characters, userInfo at most 1024 characters once
 * serialized, a session has at most 10 patterns.  "Characters" are
 * JavaScript string units (UTF-16), which is what the Liveblocks servers
 * count.
 */
#define LBAUTH_ROOM_MAX		128
#define LBAUTH_USERID_MAX	128
#define LBAUTH_USERINFO_MAX	1024
#define LBAUTH_PATTERNS_MAX	10

/*
 * The one error enum.  err.c maps each code to an HTTP status, a short
 * machine-readable code (the "error" member of a JSON error body) and a
 * default sentence (the "message" member).  Statuses are chosen for the
 * Liveblocks client: it gives up for good on 400, 401, 403, 404, 405,
 * 410, 412, 414, 422, 431 and 451 and retries with backoff on anything
 * else, so a permanent failure is one of those 4xx and a transient one
 * is a 5xx.
 *
 * Every value is pinned: a plugin compiled against this header sees the
 * same numbers, and from now on a new code takes the next free number
 * before LBAUTH_ERR__MAX.  Release 0.2.0 renumbered them once, together
 * with its LBAUTH_POLICY_ABI bump to 2: the never-returned EUSERID and
 * EUSERINFO went, and the session-id and SQL codes came in their groups.
 */
enum lbauth_err {
	LBAUTH_OK = 0,
	/* The request itself (4xx, permanent). */
	LBAUTH_EMETHOD = 1,	/* 405: not POST (or OPTIONS) */
	LBAUTH_ECTYPE = 2,	/* 415: not application/json */
	LBAUTH_ELENGTH = 3,	/* 400: CONTENT_LENGTH not a decimal */
	LBAUTH_ETOOBIG = 4,	/* 413: body over max_body */
	LBAUTH_ESHORT = 5,	/* 400: body shorter than CONTENT_LENGTH */
	LBAUTH_EJSON = 6,	/* 400: body is not a JSON object */
	LBAUTH_EROOM = 7,	/* 400: bad "room" */
	LBAUTH_EORIGIN = 8,	/* 403: Origin not allowed */
	/* Identity (401, permanent until the user signs in again). */
	LBAUTH_ENOSESSION = 9,	/* 401: no session cookie */
	LBAUTH_ECOOKIE = 10,	/* 401: Cookie header malformed/ambiguous */
	LBAUTH_ETOKEN = 11,	/* 401: session JWT malformed */
	LBAUTH_EALG = 12,	/* 401: JWT alg is not the pinned one */
	LBAUTH_ESIG = 13,	/* 401: JWT signature does not verify */
	LBAUTH_EEXPIRED = 14,	/* 401: exp passed */
	LBAUTH_ENOTYET = 15,	/* 401: nbf in the future */
	LBAUTH_EISSUER = 16,	/* 401: iss is not cookie_issuer */
	LBAUTH_EAUDIENCE = 17,	/* 401: aud lacks cookie_audience */
	LBAUTH_ECLAIM = 18,	/* 401: sub/org/groups/rooms/info invalid */
	LBAUTH_ESID = 19,	/* 401: session-id cookie malformed/unsigned */
	LBAUTH_ENOUSER = 20,	/* 401: the identity query found no row */
	/* The decision. */
	LBAUTH_EDENIED = 21,	/* 403: policy granted nothing */
	/* Session rules broken by a policy (a bug there: 500). */
	LBAUTH_EPATTERN = 22,	/* pattern not ^([*]|[^*]{1,128}[*]?)$ */
	LBAUTH_EEMPTY = 23,	/* empty permission list */
	LBAUTH_ESCOPE = 24,	/* unknown permission scope */
	LBAUTH_ETOOMANY = 25,	/* more than 10 patterns */
	/* Internal (5xx, transient from the client's point of view). */
	LBAUTH_EPOLICY = 26,	/* 500: the policy reported an error */
	LBAUTH_ENOMEM = 27,	/* 500: out of memory */
	LBAUTH_ESYS = 28,	/* 500: a system call failed (no thread) */
	LBAUTH_EUPSTREAM = 29,	/* 503: token backend unreachable */
	LBAUTH_EIDDOWN = 30,	/* 503: user database down or slow */
	LBAUTH_EPOLDOWN = 31,	/* 503: room-access database down or slow */
	LBAUTH_EROWS = 32,	/* 500: identity query gave > 1 row */
	LBAUTH_ESQL = 33,	/* 500: a query failed or gave bad rows */
	/* Start-up only: never reach a client. */
	LBAUTH_ECONFIG = 34,	/* config file invalid */
	LBAUTH_EKEYFILE = 35,	/* key file unsafe or invalid */
	/*
	 * The request, transient (the one 4xx the client retries): the
	 * body did not arrive within the reader's deadline
	 * (lbauth_read_fn returned -2; request_timeout_ms in lbauth).
	 */
	LBAUTH_ETIMEOUT = 36,	/* 408: body too slow to arrive */
	LBAUTH_ERR__MAX = 37
};

/* A sentence describing err; static storage, never NULL. */
LBAUTH_API const char	*lbauth_strerror(enum lbauth_err err);
/* The HTTP status a request failing with err is answered with. */
LBAUTH_API int		 lbauth_err_status(enum lbauth_err err);
/* The short "error" code of the JSON error body; static storage. */
LBAUTH_API const char	*lbauth_err_code(enum lbauth_err err);

/*
 * A CGI/FastCGI parameter getter: returns the value of the CGI
 * meta-variable name (RFC 3875, e.g. "REQUEST_METHOD", "HTTP_COOKIE") or
 * NULL when it is not set.  The returned string is borrowed and must
 * stay valid until the request is answered.  The library never calls
 * getenv(): the binary decides where parameters come from.
 */
typedef const char	*(*lbauth_param_fn)(void *arg, const char *name);

/*
 * A request-body reader: reads up to len bytes into buf and returns the
 * number read, 0 at end of input, -1 on an error, or -2 when the input
 * did not arrive in time (the caller's own deadline): the request is
 * then answered 408 (LBAUTH_ETIMEOUT), which the client sends again,
 * where a body cut short is a 400 it gives up on.
 */
typedef long		 (*lbauth_read_fn)(void *arg, char *buf, size_t len);

/* ---------------------------------------------------------------------
 * Objects a policy sees.  All are owned by the library and live until
 * the policy's decide() returns; a policy must not keep pointers to them
 * or to the strings they return.
 */
struct lbauth_request;	/* the HTTP request: room, CGI parameters */
struct lbauth_user;	/* the verified identity */
struct lbauth_session;	/* the permissions being granted */

/* The room the client asked for, or NULL when it asked for none. */
LBAUTH_API const char	*lbauth_request_room(const struct lbauth_request *);
/* A CGI parameter of the request (see lbauth_param_fn), or NULL. */
LBAUTH_API const char	*lbauth_request_param(const struct lbauth_request *,
			    const char *name);

/* The user id (the cookie's "sub", or REMOTE_USER); never NULL. */
LBAUTH_API const char	*lbauth_user_id(const struct lbauth_user *);
/* The "org" claim, or NULL. */
LBAUTH_API const char	*lbauth_user_org(const struct lbauth_user *);
/* The number of "groups" and the i-th one (NULL when out of range). */
LBAUTH_API size_t	 lbauth_user_ngroups(const struct lbauth_user *);
LBAUTH_API const char	*lbauth_user_group(const struct lbauth_user *,
			    size_t i);
/*
 * Whether the "rooms" claim lets the user enter room: an entry equal to
 * room, or an entry "prefix*" that room begins with ("*" alone matches
 * every room).
 */
LBAUTH_API bool		 lbauth_user_may_enter(const struct lbauth_user *,
			    const char *room);
/* A string claim of the session cookie by name, or NULL. */
LBAUTH_API const char	*lbauth_user_claim(const struct lbauth_user *,
			    const char *name);

/*
 * Permission lists, NULL-terminated, as in @liveblocks/node:
 * lbauth_full_access is {"*:write"}, lbauth_read_access is {"*:read"}.
 */
LBAUTH_API extern const char *const lbauth_full_access[];
LBAUTH_API extern const char *const lbauth_read_access[];

/*
 * Grants the NULL-terminated list of scopes on pattern, with exactly the
 * rules of @liveblocks/node's Session.allow(): pattern matches
 * ^([*]|[^*]{1,128}[*]?)$ (LBAUTH_EPATTERN), the list is not empty
 * (LBAUTH_EEMPTY), every scope is a Liveblocks permission
 * (LBAUTH_ESCOPE), and at most 10 distinct patterns exist
 * (LBAUTH_ETOOMANY).  Scopes for one pattern add up, without repeats,
 * in the order first granted.  On an error the session is unchanged.
 */
LBAUTH_API enum lbauth_err lbauth_session_allow(struct lbauth_session *,
			    const char *pattern, const char *const *scopes)
			    LBAUTH_WUR;
/* The number of patterns granted so far. */
LBAUTH_API size_t	 lbauth_session_npatterns(const struct lbauth_session *);

/* ---------------------------------------------------------------------
 * Access-policy plugins.
 *
 * A plugin is a shared object that defines
 *
 *	LBAUTH_API const struct lbauth_policy_ops lbauth_policy_module = {
 *		.abi = LBAUTH_POLICY_ABI,
 *		.name = "mine",
 *		.decide = my_decide,
 *	};
 *
 * lbauth dlopen()s it at start-up and refuses a module whose abi
 * differs from its own LBAUTH_POLICY_ABI.  Then, in this order:
 *
 *	init		once per configuration, in the process that loads it
 *			(the --workers master before it forks, again at each
 *			reload; a spawn-fcgi, mod_fcgid or CGI process
 *			itself), before any worker exists: check policy_arg,
 *			read files.  Its ctx is copied into every worker by
 *			fork().
 *	worker_init	in each worker process after fork (and in a
 *			process that is its own worker), before the
 *			sandbox and before the first request: open what
 *			must not be shared between processes (a database
 *			connection, a socket), storing it in ctx, which is
 *			this process's own copy.
 *	decide		for each access-token request, INSIDE the sandbox
 *			(README "Sandbox": no execve, no fork, no file
 *			opened for writing; sockets are allowed).
 *	worker_fini	in that worker when it exits (after SIGTERM, a
 *			reload, or when its web server stops it), once its
 *			last request is answered, inside the sandbox.
 *	fini		in the process that ran init, when that
 *			configuration is dropped (exit, or a reload).
 *
 * Threads: with backend = liveblocks a worker serves several requests
 * at once, and decide may run concurrently on several threads of one
 * process (with the same ctx).  A plugin whose decide is not
 * thread-safe sets LBAUTH_POLICY_SERIAL in flags, and lbauth then calls
 * its decide from one thread at a time per process (a mutex: other
 * requests wait their turn, so keep such a decide short).
 * init, worker_init, worker_fini and fini are never concurrent with
 * anything.  Threads the plugin starts in worker_init are confined by
 * the sandbox too (it covers every thread of the process).
 *
 * decide grants permissions with lbauth_session_allow() and returns:
 *	LBAUTH_DECISION_ALLOW	answer with a token for what was granted
 *				(403 if nothing was);
 *	LBAUTH_DECISION_DENY	answer 403;
 *	LBAUTH_DECISION_ERROR	answer 500: the policy could not decide
 *				(a database down, say).  Never turned into
 *				allow or deny.
 *
 * ABI 2 (lbauth 0.2.0) added flags, worker_init and worker_fini, made
 * decide concurrent, and pinned the values of enum lbauth_err; a
 * module built for ABI 1 is refused: rebuild it against this header.
 */
#define LBAUTH_POLICY_ABI	2

/* lbauth_policy_ops.flags */
#define LBAUTH_POLICY_SERIAL	0x1u	/* decide is not thread-safe */

enum lbauth_decision {
	LBAUTH_DECISION_ERROR = -1,
	LBAUTH_DECISION_DENY = 0,
	LBAUTH_DECISION_ALLOW = 1
};

struct lbauth_policy_ops {
	unsigned	 abi;		/* LBAUTH_POLICY_ABI */
	const char	*name;
	unsigned	 flags;		/* LBAUTH_POLICY_* */
	/*
	 * Optional.  arg is the config's policy_arg (or NULL).  Stores the
	 * policy's state in *ctx_r; returns 0, or -1 after writing a
	 * NUL-terminated reason into err (errsz bytes), which stops start-up
	 * (or refuses the reload).
	 */
	int		(*init)(const char *arg, void **ctx_r, char *err,
			    size_t errsz);
	/*
	 * Optional.  ctx is what init stored (this process's copy).
	 * Returns 0, or -1 after writing a reason into err: the worker then
	 * exits without serving (and the master pauses before replacing it).
	 */
	int		(*worker_init)(void *ctx, char *err, size_t errsz);
	/* Required.  See above. */
	enum lbauth_decision (*decide)(void *ctx,
			    const struct lbauth_request *req,
			    const struct lbauth_user *user,
			    struct lbauth_session *session);
	/* Optional.  Releases what worker_init set up, in that worker. */
	void		(*worker_fini)(void *ctx);
	/* Optional.  Releases what init set up. */
	void		(*fini)(void *ctx);
};

/* ---------------------------------------------------------------------
 * The endpoint: what cgi/lbauth.c (CGI) and cgi/serve.c (FastCGI) drive.
 */
struct lbauth_app;	/* config + keys + policy, loaded once */
struct lbauth_resp;	/* one response: status, headers, body */

/*
 * Loads the config file at path, the key files it names and its policy.
 * On success stores a new app in *app_r (free with lbauth_app_free) and
 * returns LBAUTH_OK.  On failure returns LBAUTH_ECONFIG, LBAUTH_EKEYFILE
 * or LBAUTH_ENOMEM and writes a NUL-terminated sentence naming the file
 * (and line) into err.  Never prints.
 */
LBAUTH_API enum lbauth_err lbauth_app_new(const char *path,
			    struct lbauth_app **app_r, char *err, size_t errsz)
			    LBAUTH_WUR;
/*
 * The confinement app's config asks for a worker (README "Security"):
 * none (sandbox = no); strict (backend local with the built-in policy:
 * no files, no network); or network (backend liveblocks or a policy
 * plugin: no execve, fork, file changes or privilege changes).
 */
enum lbauth_confine {
	LBAUTH_CONFINE_OFF = 0,
	LBAUTH_CONFINE_STRICT = 1,
	LBAUTH_CONFINE_NETWORK = 2,
	/* strict, and opening files for reading (sql_driver = sqlite) */
	LBAUTH_CONFINE_FILES = 3
};
LBAUTH_API enum lbauth_confine lbauth_app_confinement(
			    const struct lbauth_app *app);

/*
 * Whether app's requests wait for the network (backend = liveblocks, or
 * sql_driver = pgsql or mysql) so that a FastCGI worker serves many at
 * once: lbauth_app_threads() request threads with lbauth_app_start();
 * otherwise it serves one at a time with lbauth_app_serve().
 */
LBAUTH_API bool		 lbauth_app_concurrent(const struct lbauth_app *app);

/* The request threads of a concurrent worker (request_threads), >= 1. */
LBAUTH_API unsigned	 lbauth_app_threads(const struct lbauth_app *app);

/*
 * How long, in milliseconds, a FastCGI worker of app gives a web server
 * connection to deliver its whole request, from accept to the end of its
 * input (request_timeout_ms): >= 100.
 */
LBAUTH_API long		 lbauth_app_request_timeout(const struct lbauth_app *app);

/*
 * How long, in seconds, a worker of app may need to answer the requests
 * it holds once told to stop: every request is bounded by its waits
 * (request_timeout_ms to read it, sql_timeout_ms for the user and for
 * the rooms, upstream_timeout_ms for the API), so the longest is their
 * sum; with a margin of 5 s, and
 * never less than 30 s.  The --workers master waits this long before it
 * kills workers that are still running.
 */
LBAUTH_API unsigned	 lbauth_app_stop_grace(const struct lbauth_app *app);

/*
 * Makes the calling process a worker of app: runs the policy's
 * worker_init, and with concurrent (a FastCGI worker about to run
 * request threads) starts what lbauth_app_start() needs (the upstream
 * thread of backend = liveblocks).  Call it after fork and before the
 * first request: once without concurrent before the sandbox, and again
 * with concurrent once confined, so that lbauth's threads start inside
 * the sandbox (what ran already is not run again).  Returns LBAUTH_OK,
 * or a code with a sentence in err: the worker must not serve.
 */
LBAUTH_API enum lbauth_err lbauth_app_worker_start(struct lbauth_app *app,
			    bool concurrent, char *err, size_t errsz)
			    LBAUTH_WUR;
/*
 * Ends the calling worker: waits until every request in flight has been
 * answered (each is bounded by upstream_timeout_ms), then runs the
 * policy's worker_fini.  No request may be started after.  A no-op
 * when lbauth_app_worker_start() did not succeed.
 */
LBAUTH_API void		 lbauth_app_worker_stop(struct lbauth_app *app);

/*
 * A warning from loading app that did not stop it (a database its
 * queries could not be checked against, because it could not be
 * reached: requests get 503 until it can), or NULL.  Lives as app.
 */
LBAUTH_API const char	*lbauth_app_warning(const struct lbauth_app *app);

/*
 * How the policy query kind (0: room_query, 1: roomless_query) meets
 * the database per request, a sentence that lbauthctl check prints
 * into buf (size bytes): in one round trip with identity_query or in
 * two, and why.  false, buf empty, when there is nothing to say (the
 * query is not set, or its driver runs one query at a time).  Call it
 * before lbauth_app_detach(): it reads the connection the queries were
 * checked on.
 */
LBAUTH_API bool		 lbauth_app_sql_trips(const struct lbauth_app *app,
			    unsigned kind, char *buf, size_t size);

/*
 * Closes the database connection lbauth_app_new() checked the queries
 * on, which the process would otherwise go on using (a CGI process, a
 * FastCGI process that serves itself).  A process that will not serve
 * requests, a --workers master, calls it before it forks: it then
 * holds no connection, and each worker opens its own.
 */
LBAUTH_API void		 lbauth_app_detach(struct lbauth_app *app);

/* Wipes the keys and releases app.  NULL is a no-op. */
LBAUTH_API void		 lbauth_app_free(struct lbauth_app *app);

/* A new, empty response buffer; NULL when out of memory. */
LBAUTH_API struct lbauth_resp *lbauth_resp_new(void);
/* Releases resp.  NULL is a no-op. */
LBAUTH_API void		 lbauth_resp_free(struct lbauth_resp *resp);
/*
 * The whole response as CGI output ("Status: ..." and headers, a blank
 * line, the body): *len_r bytes at the returned pointer, valid until
 * resp is reused or freed.
 */
LBAUTH_API const char	*lbauth_resp_data(const struct lbauth_resp *resp,
			    size_t *len_r);
/* The HTTP status of the response. */
LBAUTH_API int		 lbauth_resp_status(const struct lbauth_resp *resp);

/*
 * Answers one request.  param reads its CGI parameters, read its body
 * (both with arg).  The whole answer, success or error, is written into
 * resp (which is reset first), and one line is logged to the file
 * descriptor logfd (-1: no log).  Returns the error the request ended with (LBAUTH_OK for a
 * token); the response already says it, so the caller only writes
 * lbauth_resp_data() out.
 */
LBAUTH_API enum lbauth_err lbauth_app_serve(struct lbauth_app *app,
			    lbauth_param_fn param, lbauth_read_fn read,
			    void *arg, struct lbauth_resp *resp, int logfd);

/*
 * Called once when a request begun with lbauth_app_start() has its
 * answer in resp: arg is the caller's, rc what lbauth_app_serve() would
 * have returned.  It may run on another thread than the one that
 * started the request (the backend's), and may free arg.
 */
typedef void		 (*lbauth_done_fn)(void *arg, enum lbauth_err rc);

/*
 * Answers one request like lbauth_app_serve(), but may leave it in
 * flight while it waits for the network: then it returns at once, and
 * done(done_arg, rc) is called from another thread once resp holds the
 * answer.  Otherwise done is called before it returns.  param, read,
 * arg and resp must stay valid until done; read is only called before
 * lbauth_app_start() returns.  Needs lbauth_app_worker_start() with
 * concurrent for requests to go in flight.  Returns LBAUTH_OK (done will
 * be called), or LBAUTH_ENOMEM (it will not: answer with
 * lbauth_resp_fixed_500()).  Thread-safe: several threads may start
 * requests of one app at once.
 */
LBAUTH_API enum lbauth_err lbauth_app_start(struct lbauth_app *app,
			    lbauth_param_fn param, lbauth_read_fn read,
			    void *arg, struct lbauth_resp *resp, int logfd,
			    lbauth_done_fn done, void *done_arg) LBAUTH_WUR;

/*
 * The fixed response for when no other can be made: err LBAUTH_ENOMEM
 * (out of memory) or anything else (the configuration is invalid, see
 * the error log).  Static storage; *len_r bytes.
 */
LBAUTH_API const char	*lbauth_resp_fixed_500(enum lbauth_err err,
			    size_t *len_r);

/* ---------------------------------------------------------------------
 * Verifying lbauth's tokens (backend = local) in a C realtime server:
 * link liblbauth.a (pkg-config --cflags --libs lbauth).
 */
struct lbauth_verifier;	/* a set of Ed25519 public keys */

/*
 * Makes a verifier from a JWKS document (len bytes of JSON, as
 * "lbauthctl jwks" prints it): every key with "kty":"OKP" and
 * "crv":"Ed25519" is taken, others are skipped.  Stores it in *v_r
 * (free with lbauth_verifier_free) and returns LBAUTH_OK; LBAUTH_EKEYFILE
 * when the document is not a JWKS or holds no usable key; LBAUTH_ENOMEM.
 */
LBAUTH_API enum lbauth_err lbauth_verifier_new(const char *jwks, size_t len,
			    struct lbauth_verifier **v_r) LBAUTH_WUR;
/* Releases v.  NULL is a no-op. */
LBAUTH_API void		 lbauth_verifier_free(struct lbauth_verifier *v);
/*
 * Verifies the compact JWS token (len bytes, at most 4096): header alg
 * EdDSA (nothing else is accepted), signature by a key of v (the one
 * whose kid matches, when the token names one), payload a JSON object
 * whose "exp" is a number after now.  On success stores the payload
 * JSON, NUL-terminated, in new memory at *payload_r (free() it) and
 * returns LBAUTH_OK; otherwise returns LBAUTH_ETOKEN, LBAUTH_EALG,
 * LBAUTH_ESIG, LBAUTH_EEXPIRED or LBAUTH_ENOMEM and *payload_r is NULL.
 */
LBAUTH_API enum lbauth_err lbauth_token_verify(const struct lbauth_verifier *v,
			    const char *token, size_t len, time_t now,
			    char **payload_r) LBAUTH_WUR;

#endif /* !LBAUTH_H */
