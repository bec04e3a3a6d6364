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
 * lbx_conf_load() reads the file and calls it.  Neither opens key
 * files: app.c does that with the paths stored here.
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

#define CONF_FILE_MAX	(256 * 1024)
#define CONF_LINE_MAX	4096

enum vtype {
	V_STR,		/* any non-empty string */
	V_PATH,		/* a file name; relative to the config's folder */
	V_LONG,		/* decimal in [min, max] */
	V_BOOL,		/* yes/no, true/false, on/off, 1/0 */
	V_BACKEND,	/* local | liveblocks */
	V_TOKEN,	/* access | id */
	V_ORIGINS,	/* blank-separated list of scheme://host[:port] */
	V_URL,		/* http:// or https:// URL, no query or fragment */
	V_PATHS		/* blank-separated V_PATH values */
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
#undef K
};

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
	c->clock_skew = 60;
	c->token_ttl = 3600;
	c->max_body = 4096;
	c->log_requests = true;
	c->sandbox = true;
}

static char *
dupn(const char *s, size_t n)
{
	char	*p;

	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/*
 * Whether o (n bytes) is an origin as browsers send it (RFC 6454
 * section 6.1): "http" or "https", "://", a host of letters, digits,
 * '-', '.', or a bracketed IPv6 literal, and an optional ":port"; no
 * path, no trailing slash, lower case.
 */
static bool
is_origin(const char *o, size_t n)
{
	size_t	 i;

	if (n > 7 && strncmp(o, "http://", 7) == 0)
		i = 7;
	else if (n > 8 && strncmp(o, "https://", 8) == 0)
		i = 8;
	else
		return false;
	if (o[i] == '[') {
		for (i++; i < n && o[i] != ']'; i++)
			if (!((o[i] >= '0' && o[i] <= '9') ||
			    (o[i] >= 'a' && o[i] <= 'f') || o[i] == ':'))
				return false;
		if (i == n)
			return false;
		i++;
	} else {
		size_t start = i;

		for (; i < n && o[i] != ':'; i++)
			if (!((o[i] >= 'a' && o[i] <= 'z') ||
			    (o[i] >= '0' && o[i] <= '9') ||
			    o[i] == '-' || o[i] == '.'))
				return false;
		if (i == start)
			return false;
	}
	if (i == n)
		return true;
	if (o[i] != ':' || i + 1 == n || n - i > 6)
		return false;
	for (i++; i < n; i++)
		if (o[i] < '0' || o[i] > '9')
			return false;
	return true;
}

/* v (n bytes) joined to the folder dir (dirlen bytes) unless absolute. */
static char *
join_path(const char *v, size_t n, const char *dir, size_t dirlen)
{
	char	*s;

	if (v[0] == '/' || dirlen == 0)
		return dupn(v, n);
	if ((s = malloc(dirlen + 1 + n + 1)) != NULL) {
		memcpy(s, dir, dirlen);
		s[dirlen] = '/';
		memcpy(s + dirlen + 1, v, n);
		s[dirlen + 1 + n] = '\0';
	}
	return s;
}

/*
 * Splits v (n bytes) at blanks and appends each word to the
 * NULL-terminated list *list_r of *n_r entries (at most 64): checked
 * by ok when given (origins), else as a path joined to dir.  Returns
 * NULL or a static reason; sets *oom.
 */
static const char *
add_words(char ***list_r, size_t *n_r, const char *v, size_t n,
    bool (*ok)(const char *, size_t), const char *dir, size_t dirlen,
    int *oom)
{
	size_t	 i, j;
	char	**l;

	for (i = 0; i < n; i = j) {
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		for (j = i; j < n && v[j] != ' ' && v[j] != '\t'; j++)
			continue;
		if (j == i)
			break;
		if (ok != NULL && !ok(v + i, j - i))
			return "must list origins such as "
			    "https://app.example.com (scheme, host, "
			    "optional port; lower case; no path)";
		if (*n_r >= 64)
			return "lists more than 64 entries";
		if ((l = realloc(*list_r, (*n_r + 2) * sizeof(*l))) == NULL) {
			*oom = 1;
			return NULL;
		}
		*list_r = l;
		l[*n_r] = ok != NULL ? dupn(v + i, j - i) :
		    join_path(v + i, j - i, dir, dirlen);
		if (l[*n_r] == NULL) {
			*oom = 1;
			return NULL;
		}
		l[++*n_r] = NULL;
	}
	return NULL;
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
	char		*s;
	long		 l;
	size_t		 i;

	switch (keys[k].type) {
	case V_STR:
		if (memchr(v, '\0', n) != NULL)
			return "contains a NUL byte";
		if ((s = dupn(v, n)) == NULL)
			*oom = 1;
		*(char **)field = s;
		return NULL;
	case V_PATH:
		if (memchr(v, '\0', n) != NULL)
			return "contains a NUL byte";
		if ((s = join_path(v, n, dir, dirlen)) == NULL)
			*oom = 1;
		*(char **)field = s;
		return NULL;
	case V_PATHS:
		if (memchr(v, '\0', n) != NULL)
			return "contains a NUL byte";
		return add_words(&c->published, &c->npublished, v, n, NULL,
		    dir, dirlen, oom);
	case V_LONG:
		for (i = 0; i < n; i++)
			if (v[i] < '0' || v[i] > '9')
				return "is not a non-negative decimal number";
		if (n > 9)
			return "is out of range";
		/*
		 * Not strtol(): v is not NUL-terminated, and on a last line
		 * without a newline it would read past the buffer (found by
		 * tests/fuzz/fuzz-conf, tests/regress/conf-long-eof.bin).
		 */
		for (l = 0, i = 0; i < n; i++)
			l = l * 10 + (v[i] - '0');
		if (l < keys[k].min || l > keys[k].max)
			return "is out of range";
		*(long *)field = l;
		return NULL;
	case V_BOOL:
		if ((n == 3 && strncmp(v, "yes", 3) == 0) ||
		    (n == 4 && strncmp(v, "true", 4) == 0) ||
		    (n == 2 && strncmp(v, "on", 2) == 0) ||
		    (n == 1 && v[0] == '1'))
			*(bool *)field = true;
		else if ((n == 2 && strncmp(v, "no", 2) == 0) ||
		    (n == 5 && strncmp(v, "false", 5) == 0) ||
		    (n == 3 && strncmp(v, "off", 3) == 0) ||
		    (n == 1 && v[0] == '0'))
			*(bool *)field = false;
		else
			return "must be yes or no";
		return NULL;
	case V_URL:
		if (!((n > 7 && strncmp(v, "http://", 7) == 0) ||
		    (n > 8 && strncmp(v, "https://", 8) == 0)))
			return "must begin with https:// (or http://)";
		for (i = 0; i < n; i++)
			if ((unsigned char)v[i] <= ' ' || v[i] == '?' ||
			    v[i] == '#' || (unsigned char)v[i] >= 0x7f)
				return "must be a URL without blanks, query or "
				    "fragment";
		while (n > 0 && v[n - 1] == '/')
			n--;	/* the API paths begin with '/' */
		if ((s = dupn(v, n)) == NULL)
			*oom = 1;
		*(char **)field = s;
		return NULL;
	case V_BACKEND:
		if (n == 5 && strncmp(v, "local", 5) == 0)
			c->backend = LBX_BACKEND_LOCAL;
		else if (n == 10 && strncmp(v, "liveblocks", 10) == 0)
			c->backend = LBX_BACKEND_LIVEBLOCKS;
		else
			return "must be local or liveblocks";
		return NULL;
	case V_TOKEN:
		if (n == 6 && strncmp(v, "access", 6) == 0)
			c->token = LBX_TOKEN_ACCESS;
		else if (n == 2 && strncmp(v, "id", 2) == 0)
			c->token = LBX_TOKEN_ID;
		else
			return "must be access or id";
		return NULL;
	case V_ORIGINS:
		return add_words(&c->origins, &c->norigins, v, n, is_origin,
		    NULL, 0, oom);
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
	free(c->file);
	memset(c, 0, sizeof(*c));
}
