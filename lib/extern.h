/*
 * extern.h: private cross-file declarations of liblbauth.  Never
 * installed, never seen by plugins.  Internal functions are lbx_*.
 */
#ifndef LBAUTH_EXTERN_H
#define LBAUTH_EXTERN_H

#include <stdarg.h>
#include <sys/types.h>

#include <pthread.h>

#include <json.h>
#include <sodium.h>

#include "lbauth.h"

#if defined(__GNUC__)
#define LBX_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LBX_PRINTF(a, b)
#endif

/* Caps on untrusted input (README "Limits"). */
#define LBX_COOKIE_HEADER_MAX	16384	/* whole Cookie header, bytes */
#define LBX_COOKIE_TOKEN_MAX	4096	/* the session JWT, bytes */
#define LBX_JSON_DEPTH		16	/* nesting of any parsed JSON */
#define LBX_GROUPS_MAX		64	/* entries of "groups" */
#define LBX_ROOMS_MAX		64	/* entries of "rooms" */
#define LBX_ORG_MAX		126	/* so that "<org>:*" is a pattern */
#define LBX_CLAIM_STR_MAX	1024	/* name, avatar, iss, aud, kid */
/* 128 UTF-16 units are at most 512 UTF-8 bytes; plus '*' and NUL. */
#define LBX_PATTERN_BYTES	(4 * LBAUTH_ROOM_MAX + 2)

/* ---------------------------------------------------------------------
 * buf.c: a growable output buffer with a sticky out-of-memory flag, so
 * that a run of appends is checked once at the end.
 */
struct lbx_buf {
	char	*p;	/* NUL-terminated when cap > 0 */
	size_t	 len;
	size_t	 cap;
	int	 oom;
	int	 fixed;	/* p is caller storage: never realloc() it */
};

void	lbx_buf_init(struct lbx_buf *);
void	lbx_buf_fixed(struct lbx_buf *, char *, size_t);
void	lbx_buf_clear(struct lbx_buf *);
void	lbx_buf_reset(struct lbx_buf *);
void	lbx_buf_put(struct lbx_buf *, const void *, size_t);
void	lbx_buf_puts(struct lbx_buf *, const char *);
void	lbx_buf_putc(struct lbx_buf *, char);
void	lbx_buf_printf(struct lbx_buf *, const char *, ...) LBX_PRINTF(2, 3);
void	lbx_buf_json_str(struct lbx_buf *, const char *, size_t);
void	lbx_buf_b64url(struct lbx_buf *, const void *, size_t);

/* ---------------------------------------------------------------------
 * utf8.c
 */
size_t	lbx_utf8_len16(const char *, size_t);
bool	lbx_utf8_has_ctl(const char *, size_t);

/* ---------------------------------------------------------------------
 * b64.c: base64url without padding (RFC 4648 section 5, RFC 7515
 * section 2).
 */
#define LBX_B64URL_LEN(n)	(((n) / 3) * 4 + (((n) % 3) ? ((n) % 3) + 1 : 0))
enum lbauth_err lbx_b64url_decode(unsigned char *, size_t, size_t *,
		    const char *, size_t) LBAUTH_WUR;
size_t	lbx_b64url_encode(char *, size_t, const void *, size_t);

/* ---------------------------------------------------------------------
 * json.c
 */
enum lbauth_err lbx_json_parse(const char *, size_t, struct json_object **)
		    LBAUTH_WUR;
const char *lbx_json_get_str(const struct json_object *, const char *,
		    size_t *);
void	lbx_json_stringify(struct lbx_buf *, struct json_object *);

/* ---------------------------------------------------------------------
 * conf.c: the config file.  Every key has a row in conf.c's table and a
 * paragraph in README and nginx/lbauth.conf.
 */
enum lbx_backend {
	LBX_BACKEND_LOCAL = 0,
	LBX_BACKEND_LIVEBLOCKS
};

enum lbx_token {
	LBX_TOKEN_ACCESS = 0,
	LBX_TOKEN_ID
};

enum lbx_conf_key {
	LBX_CONF_BACKEND = 0,
	LBX_CONF_TOKEN,
	LBX_CONF_COOKIE_NAME,
	LBX_CONF_COOKIE_SECRET_FILE,
	LBX_CONF_COOKIE_PUBLIC_KEY_FILE,
	LBX_CONF_COOKIE_ISSUER,
	LBX_CONF_COOKIE_AUDIENCE,
	LBX_CONF_CLOCK_SKEW,
	LBX_CONF_TRUST_REMOTE_USER,
	LBX_CONF_POLICY,
	LBX_CONF_POLICY_ARG,
	LBX_CONF_SIGNING_KEY_FILE,
	LBX_CONF_PROJECT_ID,
	LBX_CONF_TOKEN_TTL,
	LBX_CONF_ALLOWED_ORIGINS,
	LBX_CONF_MAX_BODY,
	LBX_CONF_LOG_REQUESTS,
	LBX_CONF_LIVEBLOCKS_SECRET_FILE,
	LBX_CONF_LIVEBLOCKS_BASE_URL,
	LBX_CONF_UPSTREAM_TIMEOUT_MS,
	LBX_CONF_FORWARD_ORGANIZATION,
	LBX_CONF_PUBLISHED_KEY_FILES,
	LBX_CONF_SANDBOX,
	LBX_CONF_UPSTREAM_CA_FILE,
	LBX_CONF_MAX_INFLIGHT,
	LBX_CONF__MAX
};

struct lbauth_conf {
	char		*file;		/* the config file's path */
	unsigned	 line[LBX_CONF__MAX]; /* where each key was set, 0 */
	enum lbx_backend backend;
	enum lbx_token	 token;
	char		*cookie_name;
	char		*cookie_secret_file;
	char		*cookie_public_key_file;
	char		*cookie_issuer;
	char		*cookie_audience;
	long		 clock_skew;
	bool		 trust_remote_user;
	char		*policy;
	char		*policy_arg;
	char		*signing_key_file;
	char		*project_id;
	long		 token_ttl;
	char		**origins;	/* NULL-terminated */
	size_t		 norigins;
	long		 max_body;
	bool		 log_requests;
	char		*liveblocks_secret_file;
	char		*liveblocks_base_url;
	long		 upstream_timeout_ms;
	long		 max_inflight;	/* requests in flight per process */
	char		*upstream_ca_file;	/* NULL: the system's CAs */
	bool		 forward_organization;
	char		**published;	/* NULL-terminated key file paths */
	size_t		 npublished;
	bool		 sandbox;
};

enum lbauth_err lbx_conf_parse(struct lbauth_conf *, const char *,
		    const char *, size_t, char *, size_t) LBAUTH_WUR;
enum lbauth_err lbx_conf_load(struct lbauth_conf *, const char *, char *,
		    size_t) LBAUTH_WUR;
void	lbx_conf_clear(struct lbauth_conf *);
const char *lbx_conf_key_name(enum lbx_conf_key);

/* ---------------------------------------------------------------------
 * keyfile.c: key material.  Secrets live in sodium_malloc() memory.
 */
enum lbx_alg {
	LBX_ALG_HS256 = 1,
	LBX_ALG_EDDSA
};

struct lbx_key {
	enum lbx_alg	 alg;
	/* HS256: the keyed HMAC state, copied per use (sodium_malloc). */
	crypto_auth_hmacsha256_state *hmac;
	/* EdDSA: secret key (seed||pk, sodium_malloc) when we sign. */
	unsigned char	*sk;
	unsigned char	 pk[crypto_sign_PUBLICKEYBYTES];
	/* RFC 7638 thumbprint of the public JWK, base64url. */
	char		 kid[44];
};

#define LBX_PEM_SK_LEN	119	/* PKCS#8 Ed25519 private key, PEM */
#define LBX_PEM_PK_LEN	113	/* SPKI Ed25519 public key, PEM */
#define LBX_HS256_MIN	32	/* RFC 7518 section 3.2 */
#define LBX_HS256_MAX	1024

enum lbauth_err lbx_keyfile_read(const char *, bool, size_t,
		    unsigned char **, size_t *, char *, size_t) LBAUTH_WUR;
enum lbauth_err lbx_key_hs256(struct lbx_key *, const unsigned char *,
		    size_t, const char **) LBAUTH_WUR;
enum lbauth_err lbx_key_ed25519_sk_pem(struct lbx_key *,
		    const unsigned char *, size_t, const char **) LBAUTH_WUR;
enum lbauth_err lbx_key_ed25519_pk_pem(struct lbx_key *,
		    const unsigned char *, size_t, const char **) LBAUTH_WUR;
enum lbauth_err lbx_key_ed25519_seed(struct lbx_key *,
		    const unsigned char *) LBAUTH_WUR;
enum lbauth_err lbx_key_ed25519_pk(struct lbx_key *,
		    const unsigned char *) LBAUTH_WUR;
enum lbx_keykind {
	LBX_KEY_HS256,
	LBX_KEY_ED25519_PUB,
	LBX_KEY_ED25519_PRIV
};

enum lbauth_err lbx_key_load(struct lbx_key *, const char *,
		    enum lbx_keykind, char *, size_t) LBAUTH_WUR;
enum lbauth_err lbx_key_load_any(struct lbx_key *, const char *, char *,
		    size_t) LBAUTH_WUR;
enum lbauth_err lbx_keyfile_api_secret(const char *, unsigned char **,
		    size_t *, char *, size_t) LBAUTH_WUR;
void	lbx_key_clear(struct lbx_key *);
void	lbx_key_pem_sk(struct lbx_buf *, const struct lbx_key *);
void	lbx_key_pem_pk(struct lbx_buf *, const struct lbx_key *);
void	lbx_key_jwk(struct lbx_buf *, const struct lbx_key *);

/* ---------------------------------------------------------------------
 * jwt.c: compact JWS (RFC 7515) with the algorithm pinned by the caller.
 */
struct lbx_jwt {
	const char		*signed_part;	/* header.payload, borrowed */
	size_t			 signed_len;
	const char		*payload_b64;	/* borrowed */
	size_t			 payload_b64_len;
	unsigned char		 sig[crypto_sign_BYTES];
	size_t			 sig_len;
	struct json_object	*header;	/* owned */
};

enum lbauth_err lbx_jwt_parse(struct lbx_jwt *, const char *, size_t,
		    enum lbx_alg, const char **) LBAUTH_WUR;
enum lbauth_err lbx_jwt_verify(const struct lbx_jwt *,
		    const struct lbx_key *) LBAUTH_WUR;
enum lbauth_err lbx_jwt_payload(const struct lbx_jwt *,
		    struct json_object **) LBAUTH_WUR;
void	lbx_jwt_clear(struct lbx_jwt *);
void	lbx_jwt_sign(struct lbx_buf *, const char *, size_t, const char *,
		    size_t, const struct lbx_key *);
void	lbx_jwt_header(struct lbx_buf *, const struct lbx_key *);

/* ---------------------------------------------------------------------
 * cookie.c: Cookie header -> session JWT -> verified claims -> user.
 */
struct lbauth_user {
	struct json_object	*claims;	/* owned; NULL for REMOTE_USER */
	const char		*id;		/* borrowed from claims or idbuf */
	char			*idbuf;		/* owned copy of REMOTE_USER */
	const char		*org;		/* borrowed from claims */
	struct json_object	*groups;	/* borrowed, array of strings */
	struct json_object	*rooms;		/* borrowed, array of strings */
	struct lbx_buf		 info;		/* serialized userInfo, or len 0 */
};

struct lbx_claims_rules {
	time_t		 now;
	long		 skew;
	const char	*issuer;	/* NULL: not checked */
	const char	*audience;	/* NULL: not checked */
};

enum lbauth_err lbx_cookie_find(const char *, const char *, const char **,
		    size_t *) LBAUTH_WUR;
enum lbauth_err lbx_cookie_claims(struct lbauth_user *, struct json_object *,
		    const struct lbx_claims_rules *, const char **) LBAUTH_WUR;
enum lbauth_err lbx_cookie_verify(struct lbauth_user *, const char *,
		    const char *, const struct lbx_key *,
		    const struct lbx_claims_rules *, const char **) LBAUTH_WUR;
enum lbauth_err lbx_user_remote(struct lbauth_user *, const char *)
		    LBAUTH_WUR;
void	lbx_user_write_groups(struct lbx_buf *, const struct lbauth_user *);
void	lbx_user_init(struct lbauth_user *);
void	lbx_user_clear(struct lbauth_user *);

/* ---------------------------------------------------------------------
 * session.c: the permission model of @liveblocks/node's Session.
 */
#define LBX_SCOPES	20	/* rows of session.c's scope table */

struct lbx_grant {
	char		 pattern[LBX_PATTERN_BYTES];
	unsigned char	 scopes[LBX_SCOPES];	/* indexes, first-granted order */
	size_t		 nscopes;
};

struct lbauth_session {
	struct lbx_grant grants[LBAUTH_PATTERNS_MAX];
	size_t		 ngrants;
};

void	lbx_session_init(struct lbauth_session *);
bool	lbx_session_is_pattern(const char *, size_t);
void	lbx_session_write(struct lbx_buf *, const struct lbauth_session *);

/* ---------------------------------------------------------------------
 * req.c: the HTTP request, parsed without I/O.
 */
enum lbx_method {
	LBX_METHOD_OTHER = 0,
	LBX_METHOD_POST,
	LBX_METHOD_OPTIONS
};

struct lbauth_request {
	lbauth_param_fn		 param;
	void			*arg;
	struct json_object	*body;		/* owned */
	const char		*room;		/* borrowed from body, or NULL */
};

enum lbx_method lbx_req_method(const char *);
enum lbauth_err lbx_req_ctype(const char *) LBAUTH_WUR;
enum lbauth_err lbx_req_length(const char *, size_t, size_t *) LBAUTH_WUR;
enum lbauth_err lbx_req_body(struct lbauth_request *, const char *, size_t,
		    const char **) LBAUTH_WUR;
enum lbauth_err lbx_req_origin(const char *, const char *, const char *,
		    const char *, char *const *, bool *) LBAUTH_WUR;
void	lbx_req_clear(struct lbauth_request *);

/* ---------------------------------------------------------------------
 * policy.c: built-in policies and the plugin loader.
 */
struct lbx_policy {
	const struct lbauth_policy_ops	*ops;
	void				*ctx;
	void				*dl;	/* dlopen handle, or NULL */
	pthread_mutex_t			 serial; /* LBAUTH_POLICY_SERIAL */
	bool				 worker; /* worker_init ran */
};

enum lbauth_err lbx_policy_open(struct lbx_policy *, const char *,
		    const char *, char *, size_t) LBAUTH_WUR;
void	lbx_policy_close(struct lbx_policy *);
enum lbauth_err lbx_policy_worker_init(struct lbx_policy *, char *, size_t)
		    LBAUTH_WUR;
void	lbx_policy_worker_fini(struct lbx_policy *);
enum lbauth_decision lbx_policy_decide(struct lbx_policy *,
		    const struct lbauth_request *, const struct lbauth_user *,
		    struct lbauth_session *);

/* ---------------------------------------------------------------------
 * token.c: Liveblocks access and ID tokens, signed locally.
 */
struct lbx_minter {
	const struct lbx_key	*key;
	const char		*project_id;
	long			 ttl;
	struct lbx_buf		 header;	/* base64url JWS header, once */
	struct lbx_buf		 payload;	/* scratch, reused */
};

enum lbauth_err lbx_minter_init(struct lbx_minter *, const struct lbx_key *,
		    const char *, long) LBAUTH_WUR;
void	lbx_minter_clear(struct lbx_minter *);
void	lbx_token_access(struct lbx_buf *, struct lbx_minter *,
		    const struct lbauth_user *, const struct lbauth_session *,
		    time_t);
void	lbx_token_id(struct lbx_buf *, struct lbx_minter *,
		    const struct lbauth_user *, time_t);

/* ---------------------------------------------------------------------
 * upstream.c: POSTs to the Liveblocks API over a dlopen()ed libcurl.
 */
#define LBX_UPSTREAM_MAX	65536	/* bytes of an upstream answer */

struct lbx_engine;
struct lbx_xfer;
typedef void	(*lbx_xfer_fn)(struct lbx_xfer *);

/* One transfer handed to the engine (lbx_upstream_submit). */
struct lbx_xfer {
	const char		*path;		/* "/v2/...", static */
	struct lbx_buf		 body;		/* the JSON to POST */
	struct lbx_buf		 answer;	/* the API's answer */
	struct lbx_buf		 url;
	long			 status;
	long			 conns;
	const char		*reason;	/* static, or NULL */
	enum lbauth_err		 rc;
	lbx_xfer_fn		 done;
	void			*h;		/* the easy handle in flight */
	struct lbx_xfer		*next;		/* the engine's queue */
};

struct lbx_upstream {
	struct lbx_engine	*eng;		/* a worker's, or NULL */
	void			*dl;		/* libcurl */
	struct lbx_curl		*curl;		/* its functions */
	void			*h;		/* the easy handle, or NULL */
	struct curl_slist	*headers;	/* Authorization etc. */
	const char		*base;		/* borrowed */
	const char		*ca_file;	/* borrowed; NULL: system */
	long			 timeout_ms;
	struct lbx_buf		 url;
};

enum lbauth_err lbx_upstream_init(struct lbx_upstream *, const char *,
		    const char *, const unsigned char *, size_t, long, char *,
		    size_t) LBAUTH_WUR;
enum lbauth_err lbx_upstream_post(struct lbx_upstream *, const char *,
		    const char *, size_t, long *, struct lbx_buf *, long *,
		    const char **) LBAUTH_WUR;
const char *lbx_upstream_url(const struct lbx_upstream *);
enum lbauth_err lbx_upstream_start(struct lbx_upstream *, long) LBAUTH_WUR;
void	lbx_upstream_stop(struct lbx_upstream *);
bool	lbx_upstream_started(const struct lbx_upstream *);
enum lbauth_err lbx_upstream_submit(struct lbx_upstream *, struct lbx_xfer *)
		    LBAUTH_WUR;
void	lbx_upstream_clear(struct lbx_upstream *);

/* ---------------------------------------------------------------------
 * apibody.c: the JSON bodies of the Liveblocks API requests.
 */
void	lbx_apibody_authorize(struct lbx_buf *, const struct lbauth_user *,
		    const struct lbauth_session *, const char *);
void	lbx_apibody_identify(struct lbx_buf *, const struct lbauth_user *,
		    const char *);

/* ---------------------------------------------------------------------
 * resp.c: one whole CGI response in one buffer.
 */
struct lbauth_resp {
	struct lbx_buf	 out;
	struct lbx_buf	 token;		/* scratch for the token, reused */
	int		 status;
};

void	lbx_resp_reset(struct lbauth_resp *);
void	lbx_resp_begin(struct lbauth_resp *, int, const char *);
void	lbx_resp_header(struct lbauth_resp *, const char *, const char *);
void	lbx_resp_end(struct lbauth_resp *, const char *, size_t);
void	lbx_resp_error_body(struct lbx_buf *, enum lbauth_err, const char *);
void	lbx_resp_fixed_500(struct lbauth_resp *, enum lbauth_err);

/* ---------------------------------------------------------------------
 * log.c: one line per request.  It takes no argument that could carry a
 * token, a cookie or a key.
 */
void	lbx_log_request(int, int, const char *, const char *, const char *,
		    const char *, const struct lbauth_session *, long);
void	lbx_log_escape(struct lbx_buf *, const char *);

/* ---------------------------------------------------------------------
 * err.c
 */
const char *lbx_status_text(int);

#endif /* !LBAUTH_EXTERN_H */
