/*
 * extern.h: private cross-file declarations of liblbauth.  Never
 * installed, never seen by plugins.  Internal functions are lbx_*.
 */
#ifndef LBAUTH_EXTERN_H
#define LBAUTH_EXTERN_H

#include <pthread.h>
#include <stdarg.h>
#include <time.h>
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
#define LBX_COOKIE_TOKEN_MAX	4096	/* the session cookie's value, bytes */
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

void	lbx_buf_init(struct lbx_buf *b);
void	lbx_buf_fixed(struct lbx_buf *b, char *p, size_t cap);
void	lbx_buf_clear(struct lbx_buf *b);
void	lbx_buf_reset(struct lbx_buf *b);
void	lbx_buf_put(struct lbx_buf *b, const void *p, size_t n);
void	lbx_buf_puts(struct lbx_buf *b, const char *s);
void	lbx_buf_putc(struct lbx_buf *b, char c);
void	lbx_buf_printf(struct lbx_buf *b, const char *fmt, ...)
		    LBX_PRINTF(2, 3);
void	lbx_buf_b64url(struct lbx_buf *b, const void *p, size_t n);

/* ---------------------------------------------------------------------
 * utf8.c
 */
size_t	lbx_utf8_len16(const char *s, size_t len);
bool	lbx_utf8_has_ctl(const char *s, size_t len);
bool	lbx_utf8_is_text(const char *s, size_t len, size_t max);

/* ---------------------------------------------------------------------
 * dl.c: the symbols of a library loaded with dlopen().
 */
struct lbx_dl_sym {
	const char	*name;
	void		**slot;		/* where the symbol goes */
};

struct lbx_dl_lib {
	const char	*soname;	/* what dlopen() opens */
	int		 flags;		/* dlopen()'s flags */
	const char	*name;		/* "libpq": "libpq lacks PQfinish" */
	const char	*needs;		/* the sentence when it will not open */
};

int	lbx_dl_syms(void *dl, const char *lib, const struct lbx_dl_sym *syms,
	    size_t n, char *err, size_t errsz);
int	lbx_dl_open(const struct lbx_dl_lib *lib, const struct lbx_dl_sym *syms,
	    size_t n, void **dl_r, char *err, size_t errsz);
int	lbx_dl_find_module(const char *name, char *buf, size_t bufsz,
	    char *err, size_t errsz);

/* ---------------------------------------------------------------------
 * pattern.c: room patterns: their syntax and matching a room.
 */
bool	lbx_pattern_is_valid(const char *p, size_t len);
bool	lbx_pattern_matches(const char *p, size_t plen, const char *room,
		    size_t rlen);

/* ---------------------------------------------------------------------
 * clock.c: deadlines and elapsed times on CLOCK_MONOTONIC.
 */
/* *t becomes *t plus ms (either sign), its nanoseconds in [0, 1e9). */
void	lbx_clock_add(struct timespec *t, long ms);
/* to minus from in milliseconds, rounded up: > 0 only when to is later. */
long	lbx_clock_ms_between(const struct timespec *from,
		    const struct timespec *to);
/* to minus from in microseconds, rounded toward zero. */
long	lbx_clock_us_between(const struct timespec *from,
		    const struct timespec *to);
/* *t becomes the monotonic time ms from now: a deadline. */
void	lbx_clock_after(struct timespec *t, long ms);
/* Milliseconds until t, rounded up: <= 0 once t has passed. */
long	lbx_clock_ms_until(const struct timespec *t);
/* Microseconds since t0 (from the monotonic clock). */
long	lbx_clock_us_since(const struct timespec *t0);
/* Whether the monotonic time is t or later. */
bool	lbx_clock_passed(const struct timespec *t);

/* ---------------------------------------------------------------------
 * b64.c: base64url without padding (RFC 4648 section 5, RFC 7515
 * section 2).
 */
#define LBX_B64URL_LEN(n)	(((n) / 3) * 4 + (((n) % 3) ? ((n) % 3) + 1 : 0))
enum lbauth_err lbx_b64url_decode(unsigned char *out, size_t outsz,
		    size_t *outlen_r, const char *in, size_t inlen) LBAUTH_WUR;
size_t	lbx_b64url_encode(char *out, size_t outsz, const void *in,
		    size_t inlen);

/* ---------------------------------------------------------------------
 * json.c: the strict JSON reader (json-c, read as JSON.parse() reads).
 */
enum lbauth_err lbx_json_parse(const char *buf, size_t len,
		    struct json_object **obj_r) LBAUTH_WUR;
/* The rule a text refused by lbx_json_parse_ex() broke. */
enum lbx_json_fault {
	LBX_JSON_FAULT_NONE,		/* none: accepted, or out of memory */
	LBX_JSON_FAULT_SYNTAX,		/* not RFC 8259 JSON in UTF-8 */
	LBX_JSON_FAULT_DEEP,		/* nested deeper than LBX_JSON_DEPTH */
	LBX_JSON_FAULT_NULNAME,		/* "\u0000" in a member name */
	LBX_JSON_FAULT_DUP,		/* a member name twice in one object */
	LBX_JSON_FAULT_NULL,		/* the text is null, no object */
	LBX_JSON_FAULT__MAX
};
enum lbauth_err lbx_json_parse_ex(const char *buf, size_t len,
		    struct json_object **obj_r,
		    enum lbx_json_fault *fault_r) LBAUTH_WUR;
const char *lbx_json_get_str(const struct json_object *obj, const char *key,
		    size_t *len_r);

/* ---------------------------------------------------------------------
 * jsonw.c: the JSON writer, byte for byte as JSON.stringify() writes.
 */
void	lbx_jsonw_str(struct lbx_buf *b, const char *s, size_t len);
void	lbx_jsonw_value(struct lbx_buf *b, struct json_object *obj);

/* ---------------------------------------------------------------------
 * confval.c: the syntaxes of config values, pure.
 */
struct lbx_confval_word {
	const char	*name;		/* NULL ends a table */
	int		 value;
};

int	lbx_confval_word(const struct lbx_confval_word *l, const char *v,
		    size_t n);
char	*lbx_confval_dup(const char *s, size_t n);
char	*lbx_confval_path(const char *v, size_t n, const char *dir,
		    size_t dirlen);
bool	lbx_confval_origin(const char *o, size_t n);
const char *lbx_confval_list(char ***list_r, size_t *n_r, const char *v,
		    size_t n, bool (*ok)(const char *, size_t), const char *dir,
		    size_t dirlen, int *oom);
const char *lbx_confval_long(const char *v, size_t n, long min, long max,
		    long *l_r);
const char *lbx_confval_url(const char *v, size_t *n_r);

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

/*
 * The most request threads a worker may run (request_threads), and so
 * the most SQL connections it holds (struct lbx_sql).
 */
#define LBX_REQUEST_THREADS_MAX	64

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
	/* Sessions and room access from SQL (sql.c, sid.c). */
	LBX_CONF_SESSION_FORMAT,
	LBX_CONF_SESSION_SECRET_FILES,
	LBX_CONF_LARAVEL_CIPHER,
	LBX_CONF_SQL_DRIVER,
	LBX_CONF_SQL_CONNECT_FILE,
	LBX_CONF_SQL_TIMEOUT_MS,
	LBX_CONF_IDENTITY_QUERY,
	LBX_CONF_ROOM_QUERY,
	LBX_CONF_ROOMLESS_QUERY,
	LBX_CONF_REQUEST_THREADS,
	LBX_CONF_REQUEST_TIMEOUT_MS,
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
	long		 request_threads; /* per worker that waits (serve.c) */
	long		 request_timeout_ms; /* to read a request (accept.c) */
	char		*upstream_ca_file;	/* NULL: the system's CAs */
	bool		 forward_organization;
	char		**published;	/* NULL-terminated key file paths */
	size_t		 npublished;
	bool		 sandbox;
	/* Sessions and room access from SQL. */
	int		 session_format;	/* enum lbx_sidfmt */
	int		 laravel_cipher;	/* enum lbx_lvcipher */
	char		**session_secrets;	/* NULL-terminated paths */
	size_t		 nsession_secrets;
	char		*sql_driver;
	char		*sql_connect_file;
	long		 sql_timeout_ms;
	char		*identity_query;
	char		*room_query;
	char		*roomless_query;
};

enum lbauth_err lbx_conf_parse(struct lbauth_conf *c, const char *file,
		    const char *buf, size_t len, char *err,
		    size_t errsz) LBAUTH_WUR;
enum lbauth_err lbx_conf_load(struct lbauth_conf *c, const char *path,
		    char *err, size_t errsz) LBAUTH_WUR;
enum lbauth_err lbx_conf_check(const struct lbauth_conf *c, char *err,
		    size_t errsz) LBAUTH_WUR;
void	lbx_conf_clear(struct lbauth_conf *c);
const char *lbx_conf_key_name(enum lbx_conf_key k);
const char *lbx_conf_path(const char *opt, const char *env);
void	lbx_conf_error(const struct lbauth_conf *c, enum lbx_conf_key k,
		    const char *what, char *err, size_t errsz);

/* ---------------------------------------------------------------------
 * keyfile.c: key files read safely into sodium_malloc() memory.
 */
enum lbauth_err lbx_keyfile_read(const char *path, bool secret, size_t max,
		    unsigned char **buf_r, size_t *len_r, char *err,
		    size_t errsz) LBAUTH_WUR;
enum lbauth_err lbx_keyfile_api_secret(const char *path,
		    unsigned char **buf_r, size_t *len_r, char *err,
		    size_t errsz) LBAUTH_WUR;

/* ---------------------------------------------------------------------
 * key.c: key material.  Secrets live in sodium_malloc() memory.
 */
enum lbx_alg {
	LBX_ALG_HS256 = 1,
	LBX_ALG_EDDSA = 2
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

enum lbx_keykind {
	LBX_KEY_HS256 = 0,
	LBX_KEY_ED25519_PUB = 1,
	LBX_KEY_ED25519_PRIV = 2
};

enum lbauth_err lbx_key_hs256(struct lbx_key *key,
		    const unsigned char *secret, size_t len,
		    const char **reason_r) LBAUTH_WUR;
enum lbauth_err lbx_key_ed25519_sk_pem(struct lbx_key *key,
		    const unsigned char *pem, size_t len,
		    const char **reason_r) LBAUTH_WUR;
enum lbauth_err lbx_key_ed25519_pk_pem(struct lbx_key *key,
		    const unsigned char *pem, size_t len,
		    const char **reason_r) LBAUTH_WUR;
enum lbauth_err lbx_key_ed25519_seed(struct lbx_key *key,
		    const unsigned char *seed) LBAUTH_WUR;
enum lbauth_err lbx_key_ed25519_pk(struct lbx_key *key,
		    const unsigned char *pk) LBAUTH_WUR;
enum lbauth_err lbx_key_load(struct lbx_key *key, const char *path,
		    enum lbx_keykind kind, char *err, size_t errsz) LBAUTH_WUR;
enum lbauth_err lbx_key_load_any(struct lbx_key *key, const char *path,
		    char *err, size_t errsz) LBAUTH_WUR;
void	lbx_key_clear(struct lbx_key *key);
void	lbx_key_pem_sk(struct lbx_buf *b, const struct lbx_key *key);
void	lbx_key_pem_pk(struct lbx_buf *b, const struct lbx_key *key);
void	lbx_key_jwk(struct lbx_buf *b, const struct lbx_key *key);

/* ---------------------------------------------------------------------
 * keyset.c: a config's signing key and then its published keys.
 */
struct lbx_keyset {
	struct lbx_key	*keys;		/* owned, nkeys of them */
	size_t		 nkeys;
};

enum lbauth_err lbx_keyset_load(struct lbx_keyset *ks,
		    const struct lbauth_conf *c, bool signing, char *err,
		    size_t errsz) LBAUTH_WUR;
void	lbx_keyset_clear(struct lbx_keyset *ks);

/* ---------------------------------------------------------------------
 * jwt.c: compact JWS (RFC 7515) with the algorithm pinned by the caller.
 */
/*
 * The longest compact JWS jwt.c parses, bytes: its own bound, for every
 * token it reads (session cookies, lbauth's tokens in the public
 * verifier).  A cookie is also held to LBX_COOKIE_TOKEN_MAX by cookie.c.
 */
#define LBX_JWT_MAX	4096

struct lbx_jwt {
	const char		*signed_part;	/* header.payload, borrowed */
	size_t			 signed_len;
	const char		*payload_b64;	/* borrowed */
	size_t			 payload_b64_len;
	unsigned char		 sig[crypto_sign_BYTES];
	size_t			 sig_len;
	struct json_object	*header;	/* owned */
};

enum lbauth_err lbx_jwt_parse(struct lbx_jwt *jwt, const char *tok, size_t len,
		    enum lbx_alg alg, const char **reason_r) LBAUTH_WUR;
enum lbauth_err lbx_jwt_verify(const struct lbx_jwt *jwt,
		    const struct lbx_key *key) LBAUTH_WUR;
enum lbauth_err lbx_jwt_payload(const struct lbx_jwt *jwt,
		    struct json_object **claims_r) LBAUTH_WUR;
enum lbauth_err lbx_jwt_claims(const struct lbx_jwt *jwt,
		    struct json_object **claims_r,
		    const char **reason_r) LBAUTH_WUR;
void	lbx_jwt_clear(struct lbx_jwt *jwt);
void	lbx_jwt_sign(struct lbx_buf *b, const char *hdr, size_t hlen,
		    const char *payload, size_t plen,
		    const struct lbx_key *key);
void	lbx_jwt_header(struct lbx_buf *b, const struct lbx_key *key);

/* ---------------------------------------------------------------------
 * user.c: the user object (the verified identity) and its writers.
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

void	lbx_user_init(struct lbauth_user *u);
void	lbx_user_clear(struct lbauth_user *u);
enum lbauth_err lbx_user_remote(struct lbauth_user *u,
		    const char *remote) LBAUTH_WUR;
void	lbx_user_write_groups(struct lbx_buf *b, const struct lbauth_user *u);

/* ---------------------------------------------------------------------
 * cookie.c: Cookie header -> session JWT -> checked claims -> the user.
 */
struct lbx_claims_rules {
	time_t		 now;
	long		 skew;
	const char	*issuer;	/* NULL: not checked */
	const char	*audience;	/* NULL: not checked */
};

enum lbauth_err lbx_cookie_find(const char *hdr, const char *name,
		    const char **val_r, size_t *len_r) LBAUTH_WUR;
enum lbauth_err lbx_cookie_claims(struct lbauth_user *u,
		    struct json_object *claims,
		    const struct lbx_claims_rules *rules,
		    const char **reason_r) LBAUTH_WUR;
enum lbauth_err lbx_cookie_verify(struct lbauth_user *u, const char *hdr,
		    const char *name, const struct lbx_key *key,
		    const struct lbx_claims_rules *rules,
		    const char **reason_r) LBAUTH_WUR;

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

void	lbx_session_init(struct lbauth_session *s);
void	lbx_session_write(struct lbx_buf *b, const struct lbauth_session *s);
const char *lbx_session_scope(unsigned i);

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

enum lbx_method lbx_req_method(const char *m);
enum lbauth_err lbx_req_ctype(const char *ct) LBAUTH_WUR;
enum lbauth_err lbx_req_length(const char *cl, size_t max,
		    size_t *len_r) LBAUTH_WUR;
enum lbauth_err lbx_req_body(struct lbauth_request *req, const char *body,
		    size_t len, const char **reason_r) LBAUTH_WUR;
enum lbauth_err lbx_req_origin(const char *origin, const char *scheme,
		    const char *host, const char *port, char *const *allowed,
		    bool *cross_r) LBAUTH_WUR;
void	lbx_req_clear(struct lbauth_request *req);

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

enum lbauth_err lbx_policy_open(struct lbx_policy *p, const char *name,
		    const char *arg, char *err, size_t errsz) LBAUTH_WUR;
void	lbx_policy_close(struct lbx_policy *p);
enum lbauth_err lbx_policy_worker_init(struct lbx_policy *p, char *err,
		    size_t errsz) LBAUTH_WUR;
void	lbx_policy_worker_fini(struct lbx_policy *p);
enum lbauth_decision lbx_policy_decide(struct lbx_policy *p,
		    const struct lbauth_request *req,
		    const struct lbauth_user *user,
		    struct lbauth_session *session);

/* ---------------------------------------------------------------------
 * token.c: Liveblocks access and ID tokens, signed locally.
 */
struct lbx_minter {
	const struct lbx_key	*key;
	const char		*project_id;
	long			 ttl;
	struct lbx_buf		 header;	/* base64url JWS header, once */
};

enum lbauth_err lbx_token_minter_init(struct lbx_minter *m,
		    const struct lbx_key *key, const char *project_id,
		    long ttl) LBAUTH_WUR;
void	lbx_token_minter_clear(struct lbx_minter *m);
void	lbx_token_access(struct lbx_buf *out, struct lbx_buf *scratch,
		    const struct lbx_minter *m, const struct lbauth_user *u,
		    const struct lbauth_session *s, time_t now);
void	lbx_token_id(struct lbx_buf *out, struct lbx_buf *scratch,
		    const struct lbx_minter *m, const struct lbauth_user *u,
		    time_t now);

/* ---------------------------------------------------------------------
 * signin.c: the session cookie minter ("lbauthctl cookie", demo/login).
 */
struct lbx_signin {
	const char	*sub;		/* the user id */
	const char	*org;		/* NULL: none, as for all below */
	const char	*groups;	/* comma-separated group ids */
	const char	*rooms;		/* comma-separated rooms or "prefix*" */
	const char	*name;
	const char	*avatar;
	const char	*info;		/* userInfo: a JSON object's text */
	long		 ttl;		/* seconds from iat to exp */
};

enum lbauth_err lbx_signin_cookie(struct lbx_buf *tok,
		    const struct lbx_signin *in, const struct lbauth_conf *c,
		    const struct lbx_key *key, time_t now) LBAUTH_WUR;

/* ---------------------------------------------------------------------
 * verify.c: the one checker of lbauth's own tokens (one "exp" rule).
 */
enum lbauth_err lbx_verify_token(const struct lbx_key *keys, size_t nkeys,
		    const char *token, size_t len, time_t now,
		    struct json_object **claims_r) LBAUTH_WUR;

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

enum lbauth_err lbx_upstream_init(struct lbx_upstream *up, const char *base,
		    const char *ca_file, const unsigned char *secret,
		    size_t len, long timeout_ms, char *err,
		    size_t errsz) LBAUTH_WUR;
enum lbauth_err lbx_upstream_post(struct lbx_upstream *up, const char *path,
		    const char *body, size_t len, long *status_r,
		    struct lbx_buf *resp, long *conns_r,
		    const char **reason_r) LBAUTH_WUR;
const char *lbx_upstream_url(const struct lbx_upstream *up);
enum lbauth_err lbx_upstream_start(struct lbx_upstream *up, long maxconns)
		    LBAUTH_WUR;
void	lbx_upstream_stop(struct lbx_upstream *up);
bool	lbx_upstream_started(const struct lbx_upstream *up);
enum lbauth_err lbx_upstream_submit(struct lbx_upstream *up,
		    struct lbx_xfer *x) LBAUTH_WUR;
void	lbx_upstream_clear(struct lbx_upstream *up);

/* ---------------------------------------------------------------------
 * apibody.c: the JSON bodies of the Liveblocks API requests.
 */
void	lbx_apibody_authorize(struct lbx_buf *b, const struct lbauth_user *u,
		    const struct lbauth_session *s, const char *org);
void	lbx_apibody_identify(struct lbx_buf *b, const struct lbauth_user *u,
		    const char *org);

/* ---------------------------------------------------------------------
 * resp.c: one whole CGI response in one buffer.
 */
struct lbauth_resp {
	struct lbx_buf	 out;
	struct lbx_buf	 token;		/* scratch for the token, reused */
	struct lbx_buf	 payload;	/* scratch for its payload, reused */
	int		 status;
};

void	lbx_resp_reset(struct lbauth_resp *r);
void	lbx_resp_begin(struct lbauth_resp *r, int status, const char *ctype);
void	lbx_resp_header(struct lbauth_resp *r, const char *name,
		    const char *value);
void	lbx_resp_end(struct lbauth_resp *r, const char *body, size_t len);
void	lbx_resp_error_body(struct lbx_buf *b, enum lbauth_err err,
		    const char *message);
void	lbx_resp_fixed_500(struct lbauth_resp *r, enum lbauth_err err);

/* ---------------------------------------------------------------------
 * log.c: one line per request.  It takes no argument that could carry a
 * token, a cookie or a key.
 */
void	lbx_log_request(int fd, int status, const char *code,
		    const char *reason, const char *user, const char *room,
		    const struct lbauth_session *s, long usec);
void	lbx_log_escape(struct lbx_buf *b, const char *s);

/* ---------------------------------------------------------------------
 * sid.c: session-id cookies (raw, express, laravel); ossl.c: the
 * libcrypto primitives the laravel format needs.
 */
#define LBX_SID_MAX		256	/* bytes of a session id */
#define LBX_SECRETS_MAX		8	/* session_secret_files */

/* A secret in sodium_malloc() memory. */
struct lbx_secret {
	unsigned char	*p;
	size_t		 len;
};

enum lbx_sidfmt {
	LBX_SID_RAW = 0,
	LBX_SID_EXPRESS,
	LBX_SID_LARAVEL
};

/* laravel_cipher: the 'cipher' of Laravel's config/app.php. */
enum lbx_lvcipher {
	LBX_LV_AES_256_CBC = 0,	/* Laravel's default */
	LBX_LV_AES_128_CBC,
	LBX_LV_AES_256_GCM,
	LBX_LV_AES_128_GCM
};

enum lbauth_err lbx_sid_raw(const char *, size_t, char *) LBAUTH_WUR;
enum lbauth_err lbx_sid_express(const char *, size_t,
		    const struct lbx_secret *, size_t, char *) LBAUTH_WUR;
enum lbauth_err lbx_sid_laravel(const char *, size_t, const char *,
		    enum lbx_lvcipher, const struct lbx_secret *, size_t,
		    char *) LBAUTH_WUR;
size_t	lbx_lvcipher_keylen(enum lbx_lvcipher);
const char *lbx_lvcipher_name(enum lbx_lvcipher);
enum lbauth_err lbx_ossl_load(char *, size_t) LBAUTH_WUR;
int	lbx_ossl_decrypt(enum lbx_lvcipher, const unsigned char *,
		    const unsigned char *, const unsigned char *, size_t,
		    const unsigned char *, unsigned char *, size_t *);
int	lbx_ossl_hmac_sha1(const unsigned char *, size_t, const void *,
		    size_t, unsigned char[20]);
enum lbauth_err lbx_keyfile_session_secret(const char *, enum lbx_sidfmt,
		    size_t, struct lbx_secret *, char *, size_t) LBAUTH_WUR;
void	lbx_keyfile_secret_clear(struct lbx_secret *);

/* ---------------------------------------------------------------------
 * sql.c: SQL drivers (sql-sqlite.c, sql-pgsql.c, sql-mysql.c) behind one
 * table of operations, named parameters, per-process connections.
 */
enum lbx_sql_param {
	LBX_SQLP_SESSION = 0,
	LBX_SQLP_USER,
	LBX_SQLP_ORG,
	LBX_SQLP_ROOM,
	LBX_SQLP__MAX
};

enum lbx_sql_qid {
	LBX_SQLQ_IDENTITY = 0,
	LBX_SQLQ_ROOM,
	LBX_SQLQ_ROOMLESS,
	LBX_SQLQ__MAX
};

#define LBX_SQL_PARAMS_MAX	16	/* placeholders in one query */
#define LBX_SQL_COLS_MAX	16	/* columns of a result row */

/*
 * A driver's statements: the queries, then room_query and
 * roomless_query each fused with identity_query into one statement
 * (sql.c, lbx_sql_fuse): LBX_SQL_FUSED(LBX_SQLQ_ROOM) and so on.
 */
#define LBX_SQL_FUSED(qid)	((size_t)LBX_SQLQ__MAX + (size_t)(qid) - 1)
#define LBX_SQL_STMTS		((size_t)LBX_SQLQ__MAX + 2)

/*
 * What a driver tells of a prepared statement (describe): the type of
 * each placeholder and column, as the driver numbers types, two types
 * that compare alike given the same number (PostgreSQL: varchar is
 * text), and the columns' names.
 */
struct lbx_sql_desc {
	size_t		 nparams;
	unsigned	 ptype[LBX_SQL_PARAMS_MAX];
	size_t		 ncols;
	unsigned	 ctype[LBX_SQL_COLS_MAX];
	char		 cname[LBX_SQL_COLS_MAX][64];	/* cut to 63 bytes */
};

/* What a driver's operations return. */
enum lbx_sql_rc {
	LBX_SQL_OK = 0,
	LBX_SQL_DOWN,		/* connection refused or lost: reconnect */
	LBX_SQL_TIMEOUT,	/* sql_timeout_ms passed: reconnect */
	LBX_SQL_FAIL,		/* the query failed (bad SQL, bad result) */
	LBX_SQL_NOMATCH		/* a value given is not of its column's type
				   (a session id on a uuid column): no row */
};

enum lbx_placeholder {
	LBX_PH_QMARK = 0,	/* ?, ?, ... in order (MariaDB) */
	LBX_PH_QNUM,		/* ?1, ?2, ... (SQLite) */
	LBX_PH_DOLLAR		/* $1, $2, ... (PostgreSQL) */
};

/*
 * One result row: ncols columns named names[i] with values vals[i]
 * (lens[i] bytes, NUL-terminated; NULL for SQL NULL), all borrowed
 * until the callback returns.  Returns 0, or -1 to stop (out of memory).
 */
typedef int (*lbx_sql_row_fn)(void *, size_t, const char *const *,
		    const char *const *, const size_t *);

struct lbx_sql_driver {
	const char		*name;
	enum lbx_placeholder	 placeholder;
	/* dlopen()s the client library once per process. */
	int			(*load)(char *, size_t);
	/* Opens a read-only connection with the connect string. */
	enum lbx_sql_rc		(*connect)(void **, const char *, long,
				    char *, size_t);
	/* Prepares query number id (driver placeholders, n params). */
	enum lbx_sql_rc		(*prepare)(void *, size_t, const char *,
				    size_t, char *, size_t);
	/* Runs prepared query id with n text values (NULL: SQL NULL). */
	enum lbx_sql_rc		(*exec)(void *, size_t, const char *const *,
				    size_t, long, lbx_sql_row_fn, void *,
				    char *, size_t);
	void			(*close)(void *);
	/*
	 * Optional: begin and end one read transaction over the queries
	 * of a request (lbx_sql_hold); end returns -1 when it failed.
	 */
	enum lbx_sql_rc		(*begin)(void *, char *, size_t);
	int			(*end)(void *);
	/*
	 * Optional: exec in two halves, so that two queries can go out in
	 * one round trip (lbx_sql_ahead).  send queues query id with n
	 * values, taken as they are (they need not outlive the call);
	 * recv waits for the oldest query sent and calls the row function
	 * for its rows (NULL: drops them).  end also drops what was sent
	 * and never received.
	 */
	enum lbx_sql_rc		(*send)(void *, size_t, const char *const *,
				    size_t, char *, size_t);
	enum lbx_sql_rc		(*recv)(void *, long, lbx_sql_row_fn,
				    void *, char *, size_t);
	/*
	 * Optional: the types of prepared statement id (a round trip), so
	 * that sql.c can fuse a policy query with the identity query.
	 */
	enum lbx_sql_rc		(*describe)(void *, size_t,
				    struct lbx_sql_desc *, char *, size_t);
};

extern const struct lbx_sql_driver lbx_sql_sqlite;
extern const struct lbx_sql_driver lbx_sql_pgsql;
extern const struct lbx_sql_driver lbx_sql_mysql;

struct lbx_sql_query {
	char		*sql;	/* with the driver's placeholders; NULL unset */
	unsigned char	 params[LBX_SQL_PARAMS_MAX];	/* enum lbx_sql_param */
	size_t		 nparams;
};

/* ---------------------------------------------------------------------
 * sqlhint.c: who a session was last time, a guess that sql.c checks.
 */

#define LBX_SQL_HINTS		256	/* entries per process */
#define LBX_SQL_HINT_MAX	128	/* bytes of a user or org, with NUL */

struct lbx_sql_hint {
	uint64_t	 hash;		/* of the session id; 0: empty */
	bool		 has_org;	/* false: :org was SQL NULL */
	char		 user[LBX_SQL_HINT_MAX];
	char		 org[LBX_SQL_HINT_MAX];
};

struct lbx_sql_hints {
	unsigned char		 key[crypto_shorthash_KEYBYTES];
	struct lbx_sql_hint	 e[LBX_SQL_HINTS];
};

struct lbx_sql_hints *lbx_sqlhint_new(void);
void	lbx_sqlhint_free(struct lbx_sql_hints *);
const struct lbx_sql_hint *lbx_sqlhint_find(struct lbx_sql_hints *,
		    const char *);
void	lbx_sqlhint_store(struct lbx_sql_hints *, const char *, const char *,
		    const char *);
void	lbx_sqlhint_forget(struct lbx_sql_hints *, const char *);

/*
 * One connection of a process, used by one thread at a time (mu).  A
 * worker with request threads has a slot per thread, connected when a
 * thread first takes it.
 */
#define LBX_SQL_SLOTS	LBX_REQUEST_THREADS_MAX

struct lbx_sql_slot {
	pthread_mutex_t		 mu;
	void			*conn;		/* NULL: not connected */
	pid_t			 pid;		/* the process conn is for */
	struct timespec		 retry_at;	/* no connect before */
	long			 backoff_ms;	/* 0: none */
	char			 why[160];	/* the failure behind it */
	/*
	 * By policy query: whether its fused statement is prepared on
	 * conn, and where the identity query's id and org columns are in
	 * its rows (-1: the policy query does not name :user, :org).
	 */
	bool			 fused[LBX_SQLQ__MAX];
	size_t			 fuse_k[LBX_SQLQ__MAX];	/* identity columns */
	int			 fuse_id[LBX_SQLQ__MAX];
	int			 fuse_org[LBX_SQLQ__MAX];
};

struct lbx_sql {
	const struct lbx_sql_driver *drv;	/* NULL: no SQL */
	struct lbx_secret	 connstr;	/* NUL-terminated */
	long			 timeout_ms;
	struct lbx_sql_query	 q[LBX_SQLQ__MAX];
	/* By policy query: fused with the identity query; sql NULL: not. */
	struct lbx_sql_query	 fused[LBX_SQLQ__MAX];
	/* Why the last connection could not use it (static), or NULL. */
	const char *_Atomic	 fuse_why[LBX_SQLQ__MAX];
	struct lbx_sql_slot	 slots[LBX_SQL_SLOTS];
	int			 bad_query;	/* the one that failed, -1 */
	pthread_mutex_t		 hints_mu;	/* over hints */
	struct lbx_sql_hints	*hints;		/* NULL until the first */
};

const struct lbx_sql_driver *lbx_sql_driver_find(const char *);
enum lbauth_err lbx_sql_translate(struct lbx_sql_query *, const char *,
		    size_t, enum lbx_placeholder, unsigned, const char **)
		    LBAUTH_WUR;
enum lbauth_err lbx_sql_translate_sub(struct lbx_sql_query *, const char *,
		    size_t, enum lbx_placeholder, unsigned, size_t,
		    const char *const *, const char **) LBAUTH_WUR;
enum lbauth_err lbx_sql_fuse(struct lbx_sql *, enum lbx_sql_qid,
		    const char *) LBAUTH_WUR;
void	lbx_sql_init(struct lbx_sql *, const struct lbx_sql_driver *);
enum lbx_sql_rc lbx_sql_open(struct lbx_sql *, char *, size_t);
enum lbx_sql_rc lbx_sql_run(struct lbx_sql *, enum lbx_sql_qid,
		    const char *const *, lbx_sql_row_fn, void *, char *, size_t);
void	lbx_sql_hold(struct lbx_sql *);
void	lbx_sql_ahead(struct lbx_sql *, enum lbx_sql_qid,
		    const char *const *);
bool	lbx_sql_names(const struct lbx_sql *, enum lbx_sql_qid,
		    enum lbx_sql_param);
void	lbx_sql_release(struct lbx_sql *);
long	lbx_sql_retry_after(struct lbx_sql *);
void	lbx_sql_disconnect(struct lbx_sql *);
void	lbx_sql_clear(struct lbx_sql *);
void	lbx_sql_scrub(const struct lbx_sql *, char *);
void	lbx_sql_scrub_str(char *, const char *, size_t);

/* ---------------------------------------------------------------------
 * sqluser.c, sqlpolicy.c: identity and policy from SQL rows.
 */
enum lbauth_err lbx_sqluser_lookup(struct lbauth_user *, struct lbx_sql *,
		    const char *, char *, size_t) LBAUTH_WUR;
enum lbauth_err lbx_sqlpolicy_decide(struct lbauth_session *,
		    struct lbx_sql *, const char *, const struct lbauth_user *,
		    const char *, char *, size_t) LBAUTH_WUR;
enum lbauth_err lbx_sqlpolicy_access(const char *, size_t,
		    const char **, const char **) LBAUTH_WUR;

/* ---------------------------------------------------------------------
 * err.c
 */

/* Whether and when a failed request may come back (Retry-After). */
enum lbx_retry {
	LBX_RETRY_NO = 0,	/* none: a permanent problem */
	LBX_RETRY_SOON,		/* 1 second */
	LBX_RETRY_DB		/* when the database's backoff allows */
};

const char *lbx_err_status_text(int status);
enum lbx_retry lbx_err_retry(enum lbauth_err);

#endif /* !LBAUTH_EXTERN_H */
