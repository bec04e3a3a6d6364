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
 * same numbers, and a new code takes the next free number before
 * LBAUTH_ERR__MAX.  Removing the never-returned EUSERID, EUSERINFO and
 * ESYS renumbered the codes after them; that change ships with the
 * LBAUTH_POLICY_ABI bump of the same release.
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
	/* The decision. */
	LBAUTH_EDENIED = 19,	/* 403: policy granted nothing */
	/* Session rules broken by a policy (a bug there: 500). */
	LBAUTH_EPATTERN = 20,	/* pattern not ^([*]|[^*]{1,128}[*]?)$ */
	LBAUTH_EEMPTY = 21,	/* empty permission list */
	LBAUTH_ESCOPE = 22,	/* unknown permission scope */
	LBAUTH_ETOOMANY = 23,	/* more than 10 patterns */
	/* Internal (5xx, transient from the client's point of view). */
	LBAUTH_EPOLICY = 24,	/* 500: the policy reported an error */
	LBAUTH_ENOMEM = 25,	/* 500: out of memory */
	LBAUTH_EUPSTREAM = 26,	/* 503: token backend unreachable */
	/* Start-up only: never reach a client. */
	LBAUTH_ECONFIG = 27,	/* config file invalid */
	LBAUTH_EKEYFILE = 28,	/* key file unsafe or invalid */
	LBAUTH_ERR__MAX = 29
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
 * number read, 0 at end of input, or -1 on an error.
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
 * lbauth dlopen()s it at start-up, refuses a module whose abi differs
 * from its own LBAUTH_POLICY_ABI, calls init once at start-up (before
 * the first request), decide for each access-token
 * request and fini at exit.  decide grants permissions with
 * lbauth_session_allow() and returns:
 *	LBAUTH_DECISION_ALLOW	answer with a token for what was granted
 *				(403 if nothing was);
 *	LBAUTH_DECISION_DENY	answer 403;
 *	LBAUTH_DECISION_ERROR	answer 500: the policy could not decide
 *				(a database down, say).  Never turned into
 *				allow or deny.
 * decide is called from one thread at a time per process.
 */
#define LBAUTH_POLICY_ABI	1

enum lbauth_decision {
	LBAUTH_DECISION_ERROR = -1,
	LBAUTH_DECISION_DENY = 0,
	LBAUTH_DECISION_ALLOW = 1
};

struct lbauth_policy_ops {
	unsigned	 abi;
	const char	*name;
	/*
	 * Optional.  arg is the config's policy_arg (or NULL).  Stores the
	 * policy's state in *ctx_r; returns 0, or -1 after writing a
	 * NUL-terminated reason into err (errsz bytes), which stops start-up.
	 */
	int		(*init)(const char *arg, void **ctx_r, char *err,
			    size_t errsz);
	/* Required.  See above. */
	enum lbauth_decision (*decide)(void *ctx,
			    const struct lbauth_request *req,
			    const struct lbauth_user *user,
			    struct lbauth_session *session);
	/* Optional.  Releases what init set up. */
	void		(*fini)(void *ctx);
};

/* ---------------------------------------------------------------------
 * The endpoint: what cgi/lbauth.c drives.
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
	LBAUTH_CONFINE_NETWORK = 2
};
LBAUTH_API enum lbauth_confine lbauth_app_confinement(
			    const struct lbauth_app *app);

/*
 * Whether app's requests wait on the network (backend = liveblocks): a
 * worker then spends most of a request waiting, so more workers than
 * CPUs keep the CPUs busy.
 */
LBAUTH_API bool		 lbauth_app_waits_upstream(
			    const struct lbauth_app *app);

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
