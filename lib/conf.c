/*
 * conf.c: the config file, "key = value" lines.
 *
 * Grammar: a line is blank, a comment (first non-blank character '#'),
 * or "key = value" with blanks around '=' ignored.  The value runs to
 * the end of the line ('#' inside a value is part of it, so that URLs
 * and secrets need no quoting) with trailing blanks removed.  Every key
 * may appear once; an unknown key, a missing '=', an empty or bad
 * value is an error naming the file and line, like "nginx -t".
 *
 * lbx_conf_parse() is pure (bytes in, struct out) so it can be fuzzed;
 * lbx_conf_load() reads the file and calls it.  lbx_conf_check() holds
 * the rules about keys together (which key files a backend needs),
 * for every program that loads a config: lbauth and lbauthctl alike.
 * lbx_conf_path() is the one rule for which file that is.  The syntax
 * of each kind of value is confval.c's.  Nothing here opens a key file:
 * key.c does that with the paths stored here.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

#define CONF_DEFAULT	"/etc/lbauth/lbauth.conf"
#define CONF_FILE_MAX	(256 * 1024)
#define CONF_LINE_MAX	4096

enum vtype {
	V_STR,		/* any non-empty string */
	V_PATH,		/* a file name; relative to the config's folder */
	V_LONG,		/* decimal in [min, max] */
	V_BOOL,		/* a word of bools[] */
	V_BACKEND,	/* a word of backends[] */
	V_TOKEN,	/* a word of tokens[] */
	V_ORIGINS,	/* blank-separated list of scheme://host[:port] */
	V_URL,		/* http:// or https:// URL, no query or fragment */
	V_PATHS,	/* blank-separated V_PATH values */
	V_SIDFMT,	/* a word of sidfmts[] */
	V_LVCIPHER	/* a word of lvciphers[] */
};

static const struct {
	const char	*name;
	enum vtype	 type;
	size_t		 off;
	long		 min, max;
} keys[LBX_CONF__MAX] = {
#define K(e, n, t, f, lo, hi) \
	[e] = { n, t, offsetof(struct lbauth_conf, f), lo, hi }
	K(LBX_CONF_BACKEND, "backend", V_BACKEND, backend, 0, 0),
	K(LBX_CONF_TOKEN, "token", V_TOKEN, token, 0, 0),
	K(LBX_CONF_COOKIE_NAME, "cookie_name", V_STR, cookie_name, 0, 0),
	K(LBX_CONF_COOKIE_SECRET_FILE, "cookie_secret_file", V_PATH,
	    cookie_secret_file, 0, 0),
	K(LBX_CONF_COOKIE_PUBLIC_KEY_FILE, "cookie_public_key_file", V_PATH,
	    cookie_public_key_file, 0, 0),
	K(LBX_CONF_COOKIE_ISSUER, "cookie_issuer", V_STR, cookie_issuer,
	    0, 0),
	K(LBX_CONF_COOKIE_AUDIENCE, "cookie_audience", V_STR,
	    cookie_audience, 0, 0),
	K(LBX_CONF_CLOCK_SKEW, "clock_skew", V_LONG, clock_skew, 0, 600),
	K(LBX_CONF_TRUST_REMOTE_USER, "trust_remote_user", V_BOOL,
	    trust_remote_user, 0, 0),
	K(LBX_CONF_POLICY, "policy", V_STR, policy, 0, 0),
	K(LBX_CONF_POLICY_ARG, "policy_arg", V_STR, policy_arg, 0, 0),
	K(LBX_CONF_SIGNING_KEY_FILE, "signing_key_file", V_PATH,
	    signing_key_file, 0, 0),
	K(LBX_CONF_PROJECT_ID, "project_id", V_STR, project_id, 0, 0),
	K(LBX_CONF_TOKEN_TTL, "token_ttl", V_LONG, token_ttl, 60, 86400),
	K(LBX_CONF_ALLOWED_ORIGINS, "allowed_origins", V_ORIGINS, origins,
	    0, 0),
	K(LBX_CONF_MAX_BODY, "max_body", V_LONG, max_body, 16, 65536),
	K(LBX_CONF_LOG_REQUESTS, "log_requests", V_BOOL, log_requests, 0, 0),
	K(LBX_CONF_LIVEBLOCKS_SECRET_FILE, "liveblocks_secret_file", V_PATH,
	    liveblocks_secret_file, 0, 0),
	K(LBX_CONF_LIVEBLOCKS_BASE_URL, "liveblocks_base_url", V_URL,
	    liveblocks_base_url, 0, 0),
	K(LBX_CONF_UPSTREAM_TIMEOUT_MS, "upstream_timeout_ms", V_LONG,
	    upstream_timeout_ms, 100, 60000),
	K(LBX_CONF_UPSTREAM_CA_FILE, "upstream_ca_file", V_PATH,
	    upstream_ca_file, 0, 0),
	K(LBX_CONF_FORWARD_ORGANIZATION, "forward_organization", V_BOOL,
	    forward_organization, 0, 0),
	K(LBX_CONF_PUBLISHED_KEY_FILES, "published_key_files", V_PATHS,
	    published, 0, 0),
	K(LBX_CONF_SANDBOX, "sandbox", V_BOOL, sandbox, 0, 0),
	K(LBX_CONF_MAX_INFLIGHT, "max_inflight", V_LONG, max_inflight, 1,
	    65536),
	K(LBX_CONF_SESSION_FORMAT, "session_format", V_SIDFMT,
	    session_format, 0, 0),
	K(LBX_CONF_SESSION_SECRET_FILES, "session_secret_files", V_PATHS,
	    session_secrets, 0, 0),
	K(LBX_CONF_LARAVEL_CIPHER, "laravel_cipher", V_LVCIPHER,
	    laravel_cipher, 0, 0),
	K(LBX_CONF_SQL_DRIVER, "sql_driver", V_STR, sql_driver, 0, 0),
	K(LBX_CONF_SQL_CONNECT_FILE, "sql_connect_file", V_PATH,
	    sql_connect_file, 0, 0),
	K(LBX_CONF_SQL_TIMEOUT_MS, "sql_timeout_ms", V_LONG, sql_timeout_ms,
	    50, 60000),
	K(LBX_CONF_IDENTITY_QUERY, "identity_query", V_STR, identity_query,
	    0, 0),
	K(LBX_CONF_ROOM_QUERY, "room_query", V_STR, room_query, 0, 0),
	K(LBX_CONF_ROOMLESS_QUERY, "roomless_query", V_STR, roomless_query,
	    0, 0),
	K(LBX_CONF_REQUEST_THREADS, "request_threads", V_LONG,
	    request_threads, 1, LBX_REQUEST_THREADS_MAX),
	K(LBX_CONF_REQUEST_TIMEOUT_MS, "request_timeout_ms", V_LONG,
	    request_timeout_ms, 100, 60000),
#undef K
};

/* The words a value of each choice type (V_BOOL ... V_LVCIPHER) may be. */
static const struct lbx_confval_word bools[] = {
	{ "yes", true }, { "true", true }, { "on", true }, { "1", true },
	{ "no", false }, { "false", false }, { "off", false }, { "0", false },
	{ NULL, 0 }
};
static const struct lbx_confval_word backends[] = {
	{ "local", LBX_BACKEND_LOCAL },
	{ "liveblocks", LBX_BACKEND_LIVEBLOCKS },
	{ NULL, 0 }
};
static const struct lbx_confval_word tokens[] = {
	{ "access", LBX_TOKEN_ACCESS }, { "id", LBX_TOKEN_ID },
	{ NULL, 0 }
};
static const struct lbx_confval_word sidfmts[] = {
	{ "raw", LBX_SID_RAW }, { "express", LBX_SID_EXPRESS },
	{ "laravel", LBX_SID_LARAVEL },
	{ NULL, 0 }
};
/* As config/app.php writes them (upper case) and as Laravel reads them. */
static const struct lbx_confval_word lvciphers[] = {
	{ "AES-256-CBC", LBX_LV_AES_256_CBC },
	{ "aes-256-cbc", LBX_LV_AES_256_CBC },
	{ "AES-128-CBC", LBX_LV_AES_128_CBC },
	{ "aes-128-cbc", LBX_LV_AES_128_CBC },
	{ "AES-256-GCM", LBX_LV_AES_256_GCM },
	{ "aes-256-gcm", LBX_LV_AES_256_GCM },
	{ "AES-128-GCM", LBX_LV_AES_128_GCM },
	{ "aes-128-gcm", LBX_LV_AES_128_GCM },
	{ NULL, 0 }
};

/* Each choice type's words and the reason given for any other value. */
static const struct {
	const struct lbx_confval_word *words;
	const char		*why;
} choices[] = {
	[V_BOOL] = { bools, "must be yes or no" },
	[V_BACKEND] = { backends, "must be local or liveblocks" },
	[V_TOKEN] = { tokens, "must be access or id" },
	[V_SIDFMT] = { sidfmts, "must be raw, express or laravel" },
	[V_LVCIPHER] = { lvciphers, "must be AES-256-CBC, AES-128-CBC, "
	    "AES-256-GCM or AES-128-GCM (config/app.php's cipher)" },
};

/* The enum fields are stored through an int (set_value). */
_Static_assert(sizeof(enum lbx_backend) == sizeof(int) &&
    sizeof(enum lbx_token) == sizeof(int) &&
    sizeof(enum lbx_sidfmt) == sizeof(int) &&
    sizeof(enum lbx_lvcipher) == sizeof(int), "enum fields are int-sized");

/* Returns the config file name of key k. */
const char *
lbx_conf_key_name(enum lbx_conf_key k)
{

	return keys[k].name;
}

/* Sets the defaults README documents; frees nothing. */
static void
defaults(struct lbauth_conf *c)
{

	memset(c, 0, sizeof(*c));
	c->backend = LBX_BACKEND_LIVEBLOCKS;
	c->token = LBX_TOKEN_ACCESS;
	c->upstream_timeout_ms = 5000;
	c->max_inflight = 256;
	c->request_threads = 4;
	c->request_timeout_ms = 5000;
	c->clock_skew = 60;
	c->token_ttl = 3600;
	c->max_body = 4096;
	c->log_requests = true;
	c->sandbox = true;
	c->sql_timeout_ms = 2000;
}

/*
 * Stores value v (n bytes, no leading/trailing blanks) for key k into
 * c.  dir is the config file's folder (for V_PATH).  Returns NULL, or a
 * static reason on a bad value; sets *oom on allocation failure.
 */
static const char *
set_value(struct lbauth_conf *c, enum lbx_conf_key k, const char *v,
    size_t n, const char *dir, size_t dirlen, int *oom)
{
	void		*field = (char *)c + keys[k].off;
	const char	*why;
	char		*s = NULL;
	long		 l;
	int		 w;

	if ((keys[k].type == V_STR || keys[k].type == V_PATH ||
	    keys[k].type == V_PATHS) && memchr(v, '\0', n) != NULL)
		return "contains a NUL byte";
	switch (keys[k].type) {
	case V_STR:
	case V_PATH:
	case V_URL:
		if (keys[k].type == V_URL &&
		    (why = lbx_confval_url(v, &n)) != NULL)
			return why;
		s = keys[k].type == V_PATH ? lbx_confval_path(v, n, dir,
		    dirlen) : lbx_confval_dup(v, n);
		if (s == NULL)
			*oom = 1;
		*(char **)field = s;
		return NULL;
	case V_PATHS:
		if (k == LBX_CONF_SESSION_SECRET_FILES)
			return lbx_confval_list(&c->session_secrets,
			    &c->nsession_secrets, v, n, NULL, dir, dirlen,
			    oom);
		return lbx_confval_list(&c->published, &c->npublished, v, n,
		    NULL, dir, dirlen, oom);
	case V_ORIGINS:
		return lbx_confval_list(&c->origins, &c->norigins, v, n,
		    lbx_confval_origin, NULL, 0, oom);
	case V_LONG:
		if ((why = lbx_confval_long(v, n, keys[k].min, keys[k].max,
		    &l)) != NULL)
			return why;
		*(long *)field = l;
		return NULL;
	case V_BOOL:
	case V_BACKEND:
	case V_TOKEN:
	case V_SIDFMT:
	case V_LVCIPHER:
		if ((w = lbx_confval_word(choices[keys[k].type].words, v, n)) ==
		    -1)
			return choices[keys[k].type].why;
		if (keys[k].type == V_BOOL)
			*(bool *)field = w != 0;
		else
			*(int *)field = w;
		return NULL;
	}
	return "has an unknown type";
}

static bool
is_blank(char ch)
{

	return ch == ' ' || ch == '\t' || ch == '\r';
}

/*
 * Parses len bytes of config text at buf into c, which it first fills
 * with defaults.  file names the file in messages and locates relative
 * paths (NULL: paths are kept as written).  Returns LBAUTH_OK;
 * LBAUTH_ECONFIG after writing "file:line: reason" into err; or
 * LBAUTH_ENOMEM.  On failure c holds what was set so far: release it
 * with lbx_conf_clear() either way.  Pure: no I/O.
 */
enum lbauth_err
lbx_conf_parse(struct lbauth_conf *c, const char *file, const char *buf,
    size_t len, char *err, size_t errsz)
{
	const char	*p = buf, *end = buf + len, *nl, *eq, *k, *v, *why;
	const char	*slash;
	size_t		 klen, vlen, dirlen = 0;
	unsigned	 line = 0;
	int		 i, oom = 0;

	defaults(c);
	if (file == NULL)
		file = "(config)";
	if ((c->file = strdup(file)) == NULL)
		return LBAUTH_ENOMEM;
	if ((slash = strrchr(file, '/')) != NULL)
		dirlen = (size_t)(slash - file);
	if (slash == file)
		dirlen = 1;
	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl - p > CONF_LINE_MAX) {
			snprintf(err, errsz, "%s:%u: line longer than %d "
			    "bytes", file, line, CONF_LINE_MAX);
			return LBAUTH_ECONFIG;
		}
		while (p < nl && is_blank(*p))
			p++;
		if (p == nl || *p == '#')
			continue;
		if ((eq = memchr(p, '=', (size_t)(nl - p))) == NULL) {
			snprintf(err, errsz, "%s:%u: expected \"key = value\"",
			    file, line);
			return LBAUTH_ECONFIG;
		}
		k = p;
		klen = (size_t)(eq - p);
		while (klen > 0 && is_blank(k[klen - 1]))
			klen--;
		v = eq + 1;
		while (v < nl && is_blank(*v))
			v++;
		vlen = (size_t)(nl - v);
		while (vlen > 0 && is_blank(v[vlen - 1]))
			vlen--;
		for (i = 0; i < LBX_CONF__MAX; i++)
			if (strlen(keys[i].name) == klen &&
			    strncmp(keys[i].name, k, klen) == 0)
				break;
		if (i == LBX_CONF__MAX) {
			snprintf(err, errsz, "%s:%u: unknown key \"%.*s\"",
			    file, line, (int)(klen > 64 ? 64 : klen), k);
			return LBAUTH_ECONFIG;
		}
		if (c->line[i] != 0) {
			snprintf(err, errsz, "%s:%u: %s is already set on "
			    "line %u", file, line, keys[i].name, c->line[i]);
			return LBAUTH_ECONFIG;
		}
		if (vlen == 0) {
			snprintf(err, errsz, "%s:%u: %s has no value",
			    file, line, keys[i].name);
			return LBAUTH_ECONFIG;
		}
		c->line[i] = line;
		why = set_value(c, (enum lbx_conf_key)i, v, vlen, file,
		    dirlen, &oom);
		if (oom)
			return LBAUTH_ENOMEM;
		if (why != NULL) {
			snprintf(err, errsz, "%s:%u: %s %s", file, line,
			    keys[i].name, why);
			return LBAUTH_ECONFIG;
		}
	}
	if (c->cookie_name == NULL && (c->cookie_name = strdup("session")) ==
	    NULL)
		return LBAUTH_ENOMEM;
	if (c->policy == NULL && (c->policy = strdup("org")) == NULL)
		return LBAUTH_ENOMEM;
	if (c->project_id == NULL && (c->project_id = strdup("lbauth")) ==
	    NULL)
		return LBAUTH_ENOMEM;
	if (c->liveblocks_base_url == NULL && (c->liveblocks_base_url =
	    strdup("https://api.liveblocks.io")) == NULL)
		return LBAUTH_ENOMEM;
	return LBAUTH_OK;
}

/*
 * Reads the config file at path (at most 256 KiB) and parses it with
 * lbx_conf_parse().  Returns as that does, or LBAUTH_ECONFIG with
 * "path: reason" when the file cannot be read.
 */
enum lbauth_err
lbx_conf_load(struct lbauth_conf *c, const char *path, char *err,
    size_t errsz)
{
	char		*buf = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, er;
	enum lbauth_err	 rc;

	defaults(c);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		er = errno;
		snprintf(err, errsz, "%s: %s", path, strerror(er));
		return LBAUTH_ECONFIG;
	}
	if ((buf = malloc(CONF_FILE_MAX + 1)) == NULL) {
		close(fd);
		return LBAUTH_ENOMEM;
	}
	while (len <= CONF_FILE_MAX &&
	    (n = read(fd, buf + len, CONF_FILE_MAX + 1 - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			er = errno;
			snprintf(err, errsz, "%s: %s", path, strerror(er));
			close(fd);
			free(buf);
			return LBAUTH_ECONFIG;
		}
		len += (size_t)n;
	}
	close(fd);
	if (len > CONF_FILE_MAX) {
		snprintf(err, errsz, "%s: larger than %d bytes", path,
		    CONF_FILE_MAX);
		free(buf);
		return LBAUTH_ECONFIG;
	}
	rc = lbx_conf_parse(c, path, buf, len, err, errsz);
	free(buf);
	return rc;
}

/* Frees everything c owns and leaves it zeroed.  Safe to call twice. */
void
lbx_conf_clear(struct lbauth_conf *c)
{
	size_t	 i;
	int	 k;

	for (k = 0; k < LBX_CONF__MAX; k++)
		if (keys[k].type == V_STR || keys[k].type == V_PATH ||
		    keys[k].type == V_URL)
			free(*(char **)((char *)c + keys[k].off));
	for (i = 0; i < c->norigins; i++)
		free(c->origins[i]);
	free(c->origins);
	for (i = 0; i < c->npublished; i++)
		free(c->published[i]);
	free(c->published);
	for (i = 0; i < c->nsession_secrets; i++)
		free(c->session_secrets[i]);
	free(c->session_secrets);
	free(c->file);
	memset(c, 0, sizeof(*c));
}

/*
 * The config file to load: opt (a --config or -c argument) when not
 * NULL, else env (the caller's $LBAUTH_CONFIG; the library reads no
 * environment) when not NULL or empty, else /etc/lbauth/lbauth.conf.
 * Borrowed: opt, env or static storage.  Pure.
 */
const char *
lbx_conf_path(const char *opt, const char *env)
{

	if (opt != NULL)
		return opt;
	if (env != NULL && *env != '\0')
		return env;
	return CONF_DEFAULT;
}

/*
 * Writes "file:line: key: what" into err, or "file: key: what" when
 * key k is not set in c's file: how every problem with one key's value
 * is reported.
 */
void
lbx_conf_error(const struct lbauth_conf *c, enum lbx_conf_key k,
    const char *what, char *err, size_t errsz)
{

	if (c->line[k] != 0)
		snprintf(err, errsz, "%s:%u: %s: %s", c->file, c->line[k],
		    keys[k].name, what);
	else
		snprintf(err, errsz, "%s: %s: %s", c->file, keys[k].name,
		    what);
}

/*
 * Why c's cookie_name can never match a cookie, or NULL.  A browser
 * sends a name as an RFC 6265 token: visible ASCII without separators
 * (a name with a blank, a quote or ';' would never be found, so it is
 * refused rather than answered 401 forever).  With session_format =
 * laravel a '.' is refused too: PHP renames "a.b" to "a_b" when it
 * reads cookies, so Laravel itself never finds its session cookie under
 * such a name (and its value prefix, which sid.c checks against
 * cookie_name, would be made from the name PHP sees).
 */
static const char *
cookie_name_why(const struct lbauth_conf *c)
{
	const unsigned char	*p = (const unsigned char *)c->cookie_name;

	if (p == NULL)
		return NULL;
	for (; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f ||
		    strchr("()<>@,;:\\\"/[]?={}", *p) != NULL)
			return "must be a cookie name: letters, digits and "
			    "!#$%&'*+-.^_`|~, no blanks, quotes, ';' or '='";
	if (c->identity_query != NULL &&
	    c->session_format == LBX_SID_LARAVEL &&
	    strchr(c->cookie_name, '.') != NULL)
		return "has a '.', which PHP reads as '_': Laravel never "
		    "finds a session cookie by that name (use '_')";
	return NULL;
}

/*
 * Checks the keys of the loaded config c together: a way to identify
 * users (cookie_secret_file or cookie_public_key_file, not both, or
 * identity_query, or trust_remote_user; a JWT cookie and
 * identity_query exclude each other) and the key file the backend needs
 * (signing_key_file for local, liveblocks_secret_file for liveblocks),
 * and a cookie_name a browser can send (cookie_name_why()).
 * Returns LBAUTH_OK, or LBAUTH_ECONFIG with the reason in err.  Opens
 * no file.
 */
enum lbauth_err
lbx_conf_check(const struct lbauth_conf *c, char *err, size_t errsz)
{
	const char	*why;

	if (c->cookie_secret_file != NULL && c->cookie_public_key_file != NULL) {
		lbx_conf_error(c, LBX_CONF_COOKIE_PUBLIC_KEY_FILE, "set either "
		    "cookie_secret_file (HS256) or cookie_public_key_file "
		    "(EdDSA), not both", err, errsz);
		return LBAUTH_ECONFIG;
	}
	if (c->cookie_secret_file == NULL && c->cookie_public_key_file ==
	    NULL && !c->trust_remote_user && c->identity_query == NULL) {
		snprintf(err, errsz, "%s: no way to identify users: set "
		    "cookie_secret_file or cookie_public_key_file, "
		    "identity_query (or trust_remote_user = yes)", c->file);
		return LBAUTH_ECONFIG;
	}
	if (c->identity_query != NULL && (c->cookie_secret_file != NULL ||
	    c->cookie_public_key_file != NULL)) {
		lbx_conf_error(c, LBX_CONF_IDENTITY_QUERY, "set either a JWT "
		    "session cookie (cookie_secret_file, "
		    "cookie_public_key_file) or identity_query, not both",
		    err, errsz);
		return LBAUTH_ECONFIG;
	}
	if ((why = cookie_name_why(c)) != NULL) {
		lbx_conf_error(c, LBX_CONF_COOKIE_NAME, why, err, errsz);
		return LBAUTH_ECONFIG;
	}
	if (c->backend == LBX_BACKEND_LOCAL && c->signing_key_file == NULL) {
		lbx_conf_error(c, LBX_CONF_SIGNING_KEY_FILE, "required with "
		    "backend = local (create one with \"lbauthctl keygen -o "
		    "FILE\")", err, errsz);
		return LBAUTH_ECONFIG;
	}
	if (c->backend == LBX_BACKEND_LIVEBLOCKS &&
	    c->liveblocks_secret_file == NULL) {
		lbx_conf_error(c, LBX_CONF_LIVEBLOCKS_SECRET_FILE, "required "
		    "with backend = liveblocks: a file holding your project's "
		    "secret key (sk_...), mode 0600", err, errsz);
		return LBAUTH_ECONFIG;
	}
	return LBAUTH_OK;
}
