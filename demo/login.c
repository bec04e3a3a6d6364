/*
 * login: the sign-in helper of the "make run" demo.  A DEMO TOOL, NOT
 * A LOGIN SYSTEM: anyone who can reach it becomes any sample user by
 * naming them, with no password.  It stands in for the real app that,
 * in production, signs its users in and sets lbauth's session cookie
 * (README "The session cookie").  Never deploy it.
 *
 *	GET /login		200 {"me": who the session cookie names, or
 *				null; "users": the sample users (public data:
 *				what the page's sign-in list shows)}
 *	GET /login?user=ada	303 to /, with Set-Cookie: session=<JWT>
 *				(HS256, signed with the cookie_secret_file of
 *				lbauth's config, as "lbauthctl cookie" signs)
 *	GET /logout		303 to /, clearing the cookie
 *	an unknown user		400 {"error":"unknown_user",...}
 *
 * The sample users: ada and bob of org acme, cy of org globex, and gus,
 * a guest without an org (lbauth's org policy grants him nothing).
 *
 * A FastCGI responder over libfcgi (spawn-fcgi hands it the listening
 * socket as fd 0, as for lbauth), or one CGI request.  Usage:
 *
 *	login [CONFIG]		CONFIG: lbauth's config file, else
 *				$LBAUTH_CONFIG, else /etc/lbauth/lbauth.conf
 *
 * The config's cookie_name, cookie_issuer and cookie_audience are
 * honoured, so lbauth accepts every cookie this helper sets.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "../lib/extern.h"

#define SESSION_TTL	(8 * 3600)	/* seconds a sign-in lasts */

/*
 * An avatar without a network: a round SVG badge with the initials, as
 * a data: URI (no external URL; the demo runs offline).  COLOR is six
 * hex digits.
 */
#define AVATAR(color, initials)						\
	"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' "	\
	"width='64' height='64'%3E%3Crect width='64' height='64' "	\
	"rx='32' fill='%23" color "'/%3E%3Ctext x='32' y='42' "		\
	"font-family='sans-serif' font-size='26' font-weight='bold' "	\
	"fill='white' text-anchor='middle'%3E" initials "%3C/text%3E"	\
	"%3C/svg%3E"

static const struct sample_user {
	const char	*id;
	const char	*org;		/* NULL: none */
	const char	*name;
	const char	*color;		/* CSS color of cursor and badge */
	const char	*avatar;
} users[] = {
	{ "ada", "acme", "Ada Lovelace", "#d9480f", AVATAR("d9480f", "AL") },
	{ "bob", "acme", "Bob Kahn", "#1971c2", AVATAR("1971c2", "BK") },
	{ "cy", "globex", "Cy Young", "#2f9e44", AVATAR("2f9e44", "CY") },
	{ "gus", NULL, "Gus Guest", "#868e96", AVATAR("868e96", "GG") },
};
#define NUSERS	(sizeof(users) / sizeof(users[0]))

struct helper {
	struct lbauth_conf	 conf;
	struct lbx_key		 key;
};

/* One request's parameters and output, for FastCGI or CGI alike. */
struct exchange {
	const char	*(*param)(void *, const char *);
	void		*arg;
	struct lbx_buf	 out;
};

static const char *
cgi_param(void *arg, const char *name)
{

	(void)arg;
	return getenv(name);
}

static const char *
fcgi_param(void *arg, const char *name)
{

	return FCGX_GetParam(name, ((FCGX_Request *)arg)->envp);
}

static void
on_term(int sig)
{

	(void)sig;
	FCGX_ShutdownPending();
}

static const struct sample_user *
find_user(const char *id, size_t len)
{
	size_t	 i;

	for (i = 0; i < NUSERS; i++)
		if (strlen(users[i].id) == len &&
		    memcmp(users[i].id, id, len) == 0)
			return &users[i];
	return NULL;
}

/*
 * Finds parameter name in query string q (name=value&...); sets *val_r
 * and *len_r to the raw (not percent-decoded) value.  Returns 1 if
 * found, else 0.  The sample ids need no decoding: an encoded one is
 * simply not found.
 */
static int
query_param(const char *q, const char *name, const char **val_r,
    size_t *len_r)
{
	const char	*p, *amp, *end;
	size_t		 nlen = strlen(name);

	if (q == NULL)
		return 0;
	end = q + strlen(q);
	for (p = q; p < end; p = amp + 1) {
		if ((amp = strchr(p, '&')) == NULL)
			amp = end;
		if ((size_t)(amp - p) > nlen && memcmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			*val_r = p + nlen + 1;
			*len_r = (size_t)(amp - *val_r);
			return 1;
		}
	}
	return 0;
}

static void
json_field(struct lbx_buf *b, const char *sep, const char *key,
    const char *val)
{

	lbx_buf_printf(b, "%s\"%s\":", sep, key);
	lbx_jsonw_str(b, val, strlen(val));
}

/* The userInfo others see: {"name", "avatar", "color"}. */
static void
put_info(struct lbx_buf *b, const struct sample_user *u)
{

	json_field(b, "{", "name", u->name);
	json_field(b, ",", "avatar", u->avatar);
	json_field(b, ",", "color", u->color);
	lbx_buf_putc(b, '}');
}

static void
answer_json(struct exchange *x, const char *status, const char *body)
{

	lbx_buf_printf(&x->out, "Status: %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n\r\n%s\n", status, body);
}

/*
 * The user the request's session cookie names, verified as lbauth
 * verifies it, as {"id","org","info"}; "null" without a valid cookie.
 */
static void
put_me(struct lbx_buf *b, const struct helper *h, const char *cookie)
{
	struct lbauth_user	 u;
	struct lbx_claims_rules	 rules;
	const char		*reason;

	rules.now = time(NULL);
	rules.skew = h->conf.clock_skew;
	rules.issuer = h->conf.cookie_issuer;
	rules.audience = h->conf.cookie_audience;
	lbx_user_init(&u);
	if (cookie == NULL || lbx_cookie_verify(&u, cookie, h->conf.cookie_name,
	    &h->key, &rules, &reason) != LBAUTH_OK || u.id == NULL) {
		lbx_buf_puts(b, "null");
		lbx_user_clear(&u);
		return;
	}
	json_field(b, "{", "id", u.id);
	if (u.org != NULL)
		json_field(b, ",", "org", u.org);
	if (u.info.len > 0) {
		lbx_buf_puts(b, ",\"info\":");
		lbx_buf_put(b, u.info.p, u.info.len);
	}
	lbx_buf_putc(b, '}');
	lbx_user_clear(&u);
}

static void
answer_users(struct exchange *x, const struct helper *h)
{
	struct lbx_buf	 b;
	size_t		 i;

	lbx_buf_init(&b);
	lbx_buf_puts(&b, "{\"me\":");
	put_me(&b, h, x->param(x->arg, "HTTP_COOKIE"));
	lbx_buf_puts(&b, ",\"users\":[");
	for (i = 0; i < NUSERS; i++) {
		json_field(&b, i == 0 ? "{" : ",{", "id", users[i].id);
		if (users[i].org != NULL)
			json_field(&b, ",", "org", users[i].org);
		lbx_buf_puts(&b, ",\"info\":");
		put_info(&b, &users[i]);
		lbx_buf_putc(&b, '}');
	}
	lbx_buf_puts(&b, "]}");
	if (b.oom)
		answer_json(x, "500 Internal Server Error",
		    "{\"error\":\"internal_error\",\"message\":\"Out of memory.\"}");
	else
		answer_json(x, "200 OK", b.p);
	lbx_buf_clear(&b);
}

/* 303 to / with the session cookie set to value ("" clears it). */
static void
answer_cookie(struct exchange *x, const struct helper *h, const char *value)
{

	lbx_buf_printf(&x->out, "Status: 303 See Other\r\n"
	    "Location: /\r\n"
	    "Set-Cookie: %s=%s; Path=/; HttpOnly; SameSite=Lax%s\r\n"
	    "Cache-Control: no-store\r\n"
	    "Content-Type: text/plain\r\n\r\nSee /\n", h->conf.cookie_name,
	    value, *value == '\0' ? "; Max-Age=0" : "");
}

/* Signs u's session cookie into tok, with the minter of "lbauthctl cookie". */
static enum lbauth_err
sign_session(struct lbx_buf *tok, const struct helper *h,
    const struct sample_user *u)
{
	struct lbx_signin	 in;
	struct lbx_buf		 info;
	enum lbauth_err		 rc = LBAUTH_ENOMEM;

	lbx_buf_init(&info);
	put_info(&info, u);
	memset(&in, 0, sizeof(in));
	in.sub = u->id;
	in.org = u->org;
	in.info = info.p;
	in.ttl = SESSION_TTL;
	if (!info.oom)
		rc = lbx_signin_cookie(tok, &in, &h->conf, &h->key, time(NULL));
	lbx_buf_clear(&info);
	return rc;
}

static void
serve(struct exchange *x, const struct helper *h)
{
	const struct sample_user	*u;
	const char			*method, *path, *id;
	struct lbx_buf			 tok;
	size_t				 len, plen;

	method = x->param(x->arg, "REQUEST_METHOD");
	if ((path = x->param(x->arg, "SCRIPT_NAME")) == NULL ||
	    *path == '\0')
		path = x->param(x->arg, "DOCUMENT_URI");
	plen = path == NULL ? 0 : strlen(path);
	if (method == NULL || (strcmp(method, "GET") != 0 &&
	    strcmp(method, "HEAD") != 0)) {
		lbx_buf_puts(&x->out, "Allow: GET, HEAD\r\n");
		answer_json(x, "405 Method Not Allowed",
		    "{\"error\":\"method_not_allowed\",\"message\":"
		    "\"Use GET.\"}");
		return;
	}
	if (plen >= 7 && strcmp(path + plen - 7, "/logout") == 0) {
		answer_cookie(x, h, "");
		fprintf(stderr, "demo login: signed out\n");
		return;
	}
	if (!query_param(x->param(x->arg, "QUERY_STRING"), "user", &id,
	    &len)) {
		answer_users(x, h);
		return;
	}
	if ((u = find_user(id, len)) == NULL) {
		answer_json(x, "400 Bad Request",
		    "{\"error\":\"unknown_user\",\"message\":\"No such sample "
		    "user; the demo has ada and bob (org acme), cy (org "
		    "globex) and gus (no org).\"}");
		return;
	}
	lbx_buf_init(&tok);
	if (sign_session(&tok, h, u) != LBAUTH_OK)
		answer_json(x, "500 Internal Server Error",
		    "{\"error\":\"internal_error\",\"message\":\"Could not "
		    "sign the cookie.\"}");
	else {
		answer_cookie(x, h, tok.p);
		fprintf(stderr, "demo login: signed in %s (org %s)\n", u->id,
		    u->org != NULL ? u->org : "none");
	}
	lbx_buf_clear(&tok);
}

/* Loads the config and its HS256 cookie secret; -1 after printing why. */
static int
helper_load(struct helper *h, const char *path)
{
	char	 err[1024];

	if (lbx_conf_load(&h->conf, path, err, sizeof(err)) != LBAUTH_OK) {
		fprintf(stderr, "demo login: %s\n", err);
		lbx_conf_clear(&h->conf);
		return -1;
	}
	if (h->conf.cookie_secret_file == NULL) {
		fprintf(stderr, "demo login: %s has no cookie_secret_file: "
		    "this helper signs HS256 cookies only\n", path);
		lbx_conf_clear(&h->conf);
		return -1;
	}
	if (lbx_key_load(&h->key, h->conf.cookie_secret_file, LBX_KEY_HS256,
	    err, sizeof(err)) != LBAUTH_OK) {
		fprintf(stderr, "demo login: %s\n", err);
		lbx_conf_clear(&h->conf);
		return -1;
	}
	return 0;
}

static int
run_cgi(const struct helper *h)
{
	struct exchange	 x;
	int		 rc = 1;

	x.param = cgi_param;
	x.arg = NULL;
	lbx_buf_init(&x.out);
	serve(&x, h);
	if (!x.out.oom && fwrite(x.out.p, 1, x.out.len, stdout) == x.out.len &&
	    fflush(stdout) == 0)
		rc = 0;
	lbx_buf_clear(&x.out);
	return rc;
}

static int
run_fcgi(const struct helper *h)
{
	FCGX_Request		 rq;
	struct sigaction	 sa;
	struct exchange		 x;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);	/* no SA_RESTART: accept ends */
	sigaction(SIGINT, &sa, NULL);
	if (FCGX_Init() != 0 ||
	    FCGX_InitRequest(&rq, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		fprintf(stderr, "demo login: cannot initialise FastCGI\n");
		return 1;
	}
	x.param = fcgi_param;
	x.arg = &rq;
	lbx_buf_init(&x.out);
	while (FCGX_Accept_r(&rq) >= 0) {
		lbx_buf_reset(&x.out);
		serve(&x, h);
		if (!x.out.oom)
			FCGX_PutStr(x.out.p, (int)x.out.len, rq.out);
		rq.keepConnection = 0;
		FCGX_Finish_r(&rq);
	}
	lbx_buf_clear(&x.out);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct helper	 h;
	const char	*path;
	int		 rc;

	signal(SIGPIPE, SIG_IGN);
	/* A CGI query without '=' arrives as argv (RFC 3875 4.4). */
	path = lbx_conf_path(getenv("GATEWAY_INTERFACE") == NULL && argc > 1 ?
	    argv[1] : NULL, getenv("LBAUTH_CONFIG"));
	if (sodium_init() < 0) {
		fprintf(stderr, "demo login: libsodium failed to initialise\n");
		return 1;
	}
	memset(&h, 0, sizeof(h));
	if (helper_load(&h, path) == -1)
		return 1;
	rc = FCGX_IsCGI() ? run_cgi(&h) : run_fcgi(&h);
	lbx_key_clear(&h.key);
	lbx_conf_clear(&h.conf);
	return rc;
}
