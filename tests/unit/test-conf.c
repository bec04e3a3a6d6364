/*
 * test-conf.c: lib/conf.c, the config file.  Defaults as README lists
 * them, every key parsed, comments and blank lines, every error naming
 * "file:line:", and relative paths joined to the config's folder; the
 * rules on keys together (lbx_conf_check()) and the config path
 * (lbx_conf_path()).
 */
#include <stdlib.h>
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"

#define FILE_	"/etc/lbauth/lbauth.conf"

/* Every word of the yes/no, backend and token tables, and near misses. */
static const struct {
	const char	*text;
	int		 ok;		/* parses */
	int		 value;		/* then: the field's value */
} words[] = {
	{ "sandbox = yes\n", 1, 1 }, { "sandbox = true\n", 1, 1 },
	{ "sandbox = on\n", 1, 1 }, { "sandbox = 1\n", 1, 1 },
	{ "sandbox = no\n", 1, 0 }, { "sandbox = false\n", 1, 0 },
	{ "sandbox = off\n", 1, 0 }, { "sandbox = 0\n", 1, 0 },
	{ "sandbox = ye\n", 0, 0 }, { "sandbox = yess\n", 0, 0 },
	{ "sandbox = 01\n", 0, 0 }, { "sandbox = NO\n", 0, 0 },
	{ "backend = local\n", 1, LBX_BACKEND_LOCAL },
	{ "backend = liveblocks\n", 1, LBX_BACKEND_LIVEBLOCKS },
	{ "backend = loca\n", 0, 0 }, { "backend = locals\n", 0, 0 },
	{ "token = access\n", 1, LBX_TOKEN_ACCESS },
	{ "token = id\n", 1, LBX_TOKEN_ID },
	{ "token = i\n", 0, 0 }, { "token = ids\n", 0, 0 },
};

/* Configs lbx_conf_check() takes or refuses, and what it says. */
static const struct {
	const char	*text;
	const char	*err;		/* NULL: accepted */
} checks[] = {
	{ "backend = local\nsigning_key_file = /k\n"
	  "cookie_secret_file = /c\n", NULL },
	{ "liveblocks_secret_file = /s\ncookie_public_key_file = /p\n",
	  NULL },
	{ "liveblocks_secret_file = /s\ntrust_remote_user = yes\n", NULL },
	{ "liveblocks_secret_file = /s\ncookie_secret_file = /c\n"
	  "cookie_public_key_file = /p\n", FILE_ ":3: "
	  "cookie_public_key_file: set either cookie_secret_file (HS256) or "
	  "cookie_public_key_file (EdDSA), not both" },
	{ "liveblocks_secret_file = /s\n", FILE_ ": no way to identify "
	  "users: set cookie_secret_file or cookie_public_key_file, "
	  "identity_query (or trust_remote_user = yes)" },
	{ "liveblocks_secret_file = /s\nidentity_query = SELECT 1\n", NULL },
	{ "liveblocks_secret_file = /s\ncookie_secret_file = /c\n"
	  "identity_query = SELECT 1\n", FILE_ ":3: identity_query: set "
	  "either a JWT session cookie (cookie_secret_file, "
	  "cookie_public_key_file) or identity_query, not both" },
	{ "backend = local\ncookie_secret_file = /c\n", FILE_ ": "
	  "signing_key_file: required with backend = local (create one "
	  "with \"lbauthctl keygen -o FILE\")" },
	{ "cookie_secret_file = /c\n", FILE_ ": liveblocks_secret_file: "
	  "required with backend = liveblocks: a file holding your "
	  "project's secret key (sk_...), mode 0600" },
	/* cookie_name: a token a browser can send; no '.' for PHP. */
	{ "liveblocks_secret_file = /s\ncookie_secret_file = /c\n"
	  "cookie_name = __Host-s.id!#$%&'*+^`|~\n", NULL },
	{ "liveblocks_secret_file = /s\ncookie_secret_file = /c\n"
	  "cookie_name = my session\n", FILE_ ":3: cookie_name: must be a "
	  "cookie name: letters, digits and !#$%&'*+-.^_`|~, no blanks, "
	  "quotes, ';' or '='" },
	{ "liveblocks_secret_file = /s\ncookie_secret_file = /c\n"
	  "cookie_name = a;b\n", FILE_ ":3: cookie_name: must be a "
	  "cookie name: letters, digits and !#$%&'*+-.^_`|~, no blanks, "
	  "quotes, ';' or '='" },
	{ "liveblocks_secret_file = /s\ncookie_secret_file = /c\n"
	  "cookie_name = s[1]\n", FILE_ ":3: cookie_name: must be a "
	  "cookie name: letters, digits and !#$%&'*+-.^_`|~, no blanks, "
	  "quotes, ';' or '='" },
	{ "liveblocks_secret_file = /s\nidentity_query = SELECT 1\n"
	  "session_format = express\ncookie_name = connect.sid\n", NULL },
	{ "liveblocks_secret_file = /s\nidentity_query = SELECT 1\n"
	  "session_format = laravel\ncookie_name = my.app_session\n",
	  FILE_ ":4: cookie_name: has a '.', which PHP reads as '_': "
	  "Laravel never finds a session cookie by that name (use '_')" },
	{ "liveblocks_secret_file = /s\nidentity_query = SELECT 1\n"
	  "session_format = laravel\ncookie_name = my_app_session\n",
	  NULL },
};

/* A config text and the error it must give, on line, containing what. */
static const struct {
	const char	*text;
	unsigned	 line;
	const char	*what;
} errs[] = {
	{ "nope = 1\n", 1, "unknown key \"nope\"" },
	{ "# c\n\n  nope = 1\n", 3, "unknown key \"nope\"" },
	{ "Backend = local\n", 1, "unknown key \"Backend\"" },	/* case */
	{ "= local\n", 1, "unknown key \"\"" },
	{ "backend\n", 1, "expected \"key = value\"" },		/* no '=' */
	{ "backend local\n", 1, "expected \"key = value\"" },
	{ "cookie_name =\n", 1, "cookie_name has no value" },	/* empty */
	{ "cookie_name =   \t\n", 1, "cookie_name has no value" },
	{ "cookie_name = a\ncookie_name = b\n", 2,
	    "cookie_name is already set on line 1" },		/* duplicate */
	{ "policy = org\n#\n\npolicy = org\n", 4,
	    "policy is already set on line 1" },
	{ "clock_skew = 601\n", 1, "clock_skew is out of range" },
	{ "clock_skew = -1\n", 1, "clock_skew is not a non-negative" },
	{ "token_ttl = 59\n", 1, "token_ttl is out of range" },
	{ "token_ttl = 86401\n", 1, "token_ttl is out of range" },
	{ "max_body = 15\n", 1, "max_body is out of range" },
	{ "max_body = 65537\n", 1, "max_body is out of range" },
	{ "max_body = 9999999999\n", 1, "max_body is out of range" },
	{ "max_body = 4k\n", 1, "max_body is not a non-negative decimal" },
	{ "max_body = 0x100\n", 1, "max_body is not a non-negative decimal" },
	{ "max_body = 1 0\n", 1, "max_body is not a non-negative decimal" },
	{ "max_body = +100\n", 1, "max_body is not a non-negative decimal" },
	{ "upstream_timeout_ms = 99\n", 1, "upstream_timeout_ms is out of" },
	{ "max_inflight = 0\n", 1, "max_inflight is out of" },
	{ "max_inflight = 65537\n", 1, "max_inflight is out of" },
	{ "request_threads = 0\n", 1, "request_threads is out of" },
	{ "request_threads = 65\n", 1, "request_threads is out of" },
	{ "request_timeout_ms = 99\n", 1, "request_timeout_ms is out of" },
	{ "request_timeout_ms = 60001\n", 1, "request_timeout_ms is out of" },
	{ "log_requests = maybe\n", 1, "log_requests must be yes or no" },
	{ "log_requests = Yes\n", 1, "log_requests must be yes or no" },
	{ "trust_remote_user = 2\n", 1, "must be yes or no" },
	{ "backend = cloud\n", 1, "backend must be local or liveblocks" },
	{ "token = refresh\n", 1, "token must be access or id" },
	{ "allowed_origins = https://a.com/\n", 1,
	    "allowed_origins must list origins" },		/* a slash */
	{ "allowed_origins = *\n", 1, "allowed_origins must list origins" },
	{ "allowed_origins = https://a.com *\n", 1, "must list origins" },
	{ "allowed_origins = https://A.com\n", 1, "must list origins" },
	{ "allowed_origins = ftp://a.com\n", 1, "must list origins" },
	{ "allowed_origins = https://\n", 1, "must list origins" },
	{ "allowed_origins = https://a.com:\n", 1, "must list origins" },
	{ "allowed_origins = https://a.com:8x\n", 1, "must list origins" },
	{ "allowed_origins = null\n", 1, "must list origins" },
	{ "liveblocks_base_url = ftp://x\n", 1, "must begin with https://" },
	{ "liveblocks_base_url = https://x/?a=1\n", 1, "without blanks" },
	{ "a = 1\nb\n", 1, "unknown key \"a\"" },		/* first wins */
	{ "backend = local\r\nbackend = local\r\n", 2, "already set" },
};

int
main(void)
{
	struct lbauth_conf	 c;
	char			 err[512], want[128], *big;
	const char		*full;
	size_t			 i;
	enum lbauth_err		 rc;

	/* --- Defaults (README "Configuration"). */
	test_assert(lbx_conf_parse(&c, FILE_, "", 0, err, sizeof(err)) ==
	    LBAUTH_OK);
	test_assert(strcmp(c.file, FILE_) == 0);
	test_assert(c.backend == LBX_BACKEND_LIVEBLOCKS);
	test_assert(c.token == LBX_TOKEN_ACCESS);
	test_assert(strcmp(c.cookie_name, "session") == 0);
	test_assert(c.cookie_secret_file == NULL &&
	    c.cookie_public_key_file == NULL);
	test_assert(c.cookie_issuer == NULL && c.cookie_audience == NULL);
	test_assert(c.clock_skew == 60);
	test_assert(!c.trust_remote_user);
	test_assert(strcmp(c.policy, "org") == 0 && c.policy_arg == NULL);
	test_assert(c.signing_key_file == NULL);
	test_assert(strcmp(c.project_id, "lbauth") == 0);
	test_assert(c.token_ttl == 3600);
	test_assert(c.origins == NULL && c.norigins == 0);
	test_assert(c.max_body == 4096);
	test_assert(c.log_requests);
	test_assert(c.liveblocks_secret_file == NULL);
	test_assert(strcmp(c.liveblocks_base_url,
	    "https://api.liveblocks.io") == 0);
	test_assert(c.upstream_timeout_ms == 5000);
	test_assert(c.max_inflight == 256);
	test_assert(c.request_threads == 4);
	test_assert(c.request_timeout_ms == 5000);
	test_assert(!c.forward_organization);
	test_assert(c.published == NULL && c.npublished == 0);
	for (i = 0; i < LBX_CONF__MAX; i++)
		test_assert_idx(c.line[i] == 0, i);
	lbx_conf_clear(&c);
	test_assert(c.file == NULL && c.cookie_name == NULL);
	lbx_conf_clear(&c);		/* safe twice */

	/* Comments and blank lines only. */
	full = "# lbauth\n\n   \n\t# indented\r\n#backend = nope\n";
	test_assert(lbx_conf_parse(&c, FILE_, full, strlen(full), err,
	    sizeof(err)) == LBAUTH_OK);
	test_assert(c.backend == LBX_BACKEND_LIVEBLOCKS && c.max_body == 4096);
	lbx_conf_clear(&c);

	/* --- Every key. */
	full =
	    "# every key\n"
	    "\n"
	    "backend = local\n"
	    "token=id\n"
	    "  cookie_name\t=\tsid  \n"
	    "cookie_secret_file = secret.key\n"
	    "cookie_public_key_file = /abs/pub.pem\n"
	    "cookie_issuer = https://idp.example.com\r\n"
	    "cookie_audience = lbauth # not a comment\n"
	    "clock_skew = 0\n"
	    "trust_remote_user = yes\n"
	    "policy = /usr/lib/lbauth/mine.so\n"
	    "policy_arg = a b  c\n"
	    "signing_key_file = keys/sign.pem\n"
	    "project_id = proj_1\n"
	    "token_ttl = 86400\n"
	    "allowed_origins = https://app.example.com \t http://localhost:3000"
	    " https://[::1]:8443\n"
	    "max_body = 65536\n"
	    "log_requests = off\n"
	    "liveblocks_secret_file = lb.secret\n"
	    "liveblocks_base_url = http://localhost:1153//\n"
	    "upstream_timeout_ms = 60000\n"
	    "forward_organization = true\n"
	    "published_key_files = old1.pem  /abs/old2.pem";	/* no newline */
	err[0] = '\0';
	test_assert(lbx_conf_parse(&c, FILE_, full, strlen(full), err,
	    sizeof(err)) == LBAUTH_OK);
	test_assert(err[0] == '\0');
	test_assert(c.backend == LBX_BACKEND_LOCAL);
	test_assert(c.token == LBX_TOKEN_ID);
	test_assert(strcmp(c.cookie_name, "sid") == 0);
	test_assert(strcmp(c.cookie_secret_file, "/etc/lbauth/secret.key") ==
	    0);
	test_assert(strcmp(c.cookie_public_key_file, "/abs/pub.pem") == 0);
	test_assert(strcmp(c.cookie_issuer, "https://idp.example.com") == 0);
	test_assert(strcmp(c.cookie_audience, "lbauth # not a comment") == 0);
	test_assert(c.clock_skew == 0);
	test_assert(c.trust_remote_user);
	test_assert(strcmp(c.policy, "/usr/lib/lbauth/mine.so") == 0);
	test_assert(strcmp(c.policy_arg, "a b  c") == 0);
	test_assert(strcmp(c.signing_key_file, "/etc/lbauth/keys/sign.pem") ==
	    0);
	test_assert(strcmp(c.project_id, "proj_1") == 0);
	test_assert(c.token_ttl == 86400);
	test_assert(c.norigins == 3 && c.origins[3] == NULL &&
	    strcmp(c.origins[0], "https://app.example.com") == 0 &&
	    strcmp(c.origins[1], "http://localhost:3000") == 0 &&
	    strcmp(c.origins[2], "https://[::1]:8443") == 0);
	test_assert(c.max_body == 65536);
	test_assert(!c.log_requests);
	test_assert(strcmp(c.liveblocks_secret_file, "/etc/lbauth/lb.secret") ==
	    0);
	test_assert(strcmp(c.liveblocks_base_url, "http://localhost:1153") ==
	    0);
	test_assert(c.upstream_timeout_ms == 60000);
	test_assert(c.forward_organization);
	test_assert(c.npublished == 2 && c.published[2] == NULL &&
	    strcmp(c.published[0], "/etc/lbauth/old1.pem") == 0 &&
	    strcmp(c.published[1], "/abs/old2.pem") == 0);
	test_assert(c.line[LBX_CONF_BACKEND] == 3);
	test_assert(c.line[LBX_CONF_MAX_BODY] == 18);
	test_assert(c.line[LBX_CONF_PUBLISHED_KEY_FILES] == 24);
	/* All the keys above were set (keys added later are not here). */
	for (i = 0; i <= LBX_CONF_PUBLISHED_KEY_FILES; i++)
		test_assert_idx(c.line[i] != 0, i);
	lbx_conf_clear(&c);

	/* Keys added after the list above. */
	full = "upstream_ca_file = ca/private.pem\nsandbox = no\n";
	test_assert(lbx_conf_parse(&c, FILE_, full, strlen(full), err,
	    sizeof(err)) == LBAUTH_OK);
	test_assert(strcmp(c.upstream_ca_file, "/etc/lbauth/ca/private.pem") ==
	    0 && c.line[LBX_CONF_UPSTREAM_CA_FILE] == 1 && !c.sandbox &&
	    c.line[LBX_CONF_SANDBOX] == 2);
	lbx_conf_clear(&c);
	full = "upstream_timeout_ms = 100\n";
	test_assert(lbx_conf_parse(&c, FILE_, full, strlen(full), err,
	    sizeof(err)) == LBAUTH_OK && c.upstream_ca_file == NULL);
	lbx_conf_clear(&c);

	/* Boundaries that are accepted, and the other booleans. */
	full = "clock_skew = 600\ntoken_ttl = 60\nmax_body = 16\n"
	    "upstream_timeout_ms = 100\nlog_requests = no\n"
	    "trust_remote_user = 1\nforward_organization = on\n";
	test_assert(lbx_conf_parse(&c, FILE_, full, strlen(full), err,
	    sizeof(err)) == LBAUTH_OK);
	test_assert(c.clock_skew == 600 && c.token_ttl == 60 &&
	    c.max_body == 16 && c.upstream_timeout_ms == 100 &&
	    !c.log_requests && c.trust_remote_user && c.forward_organization);
	lbx_conf_clear(&c);
	full = "log_requests = false\ntrust_remote_user = 0\n"
	    "forward_organization = off\nbackend = liveblocks\ntoken = access\n";
	test_assert(lbx_conf_parse(&c, FILE_, full, strlen(full), err,
	    sizeof(err)) == LBAUTH_OK);
	test_assert(!c.log_requests && !c.trust_remote_user &&
	    !c.forward_organization && c.backend == LBX_BACKEND_LIVEBLOCKS &&
	    c.token == LBX_TOKEN_ACCESS);
	lbx_conf_clear(&c);

	/* --- Errors: "file:line: ..." naming the key. */
	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		err[0] = '\0';
		test_assert_idx(lbx_conf_parse(&c, FILE_, errs[i].text,
		    strlen(errs[i].text), err, sizeof(err)) == LBAUTH_ECONFIG,
		    i);
		snprintf(want, sizeof(want), "%s:%u: ", FILE_, errs[i].line);
		test_assert_idx(strncmp(err, want, strlen(want)) == 0, i);
		test_assert_idx(strstr(err, errs[i].what) != NULL, i);
		if (strncmp(err, want, strlen(want)) != 0 ||
		    strstr(err, errs[i].what) == NULL)
			fprintf(stderr, "  row %zu: %s\n", i, err);
		lbx_conf_clear(&c);
	}
	/* A line over 4096 bytes. */
	big = malloc(5000);
	memset(big, ' ', 5000);
	memcpy(big, "project_id = x", 14);
	test_assert(lbx_conf_parse(&c, FILE_, big, 5000, err, sizeof(err)) ==
	    LBAUTH_ECONFIG);
	test_assert(strncmp(err, FILE_ ":1: line longer",
	    strlen(FILE_ ":1: line longer")) == 0);
	lbx_conf_clear(&c);
	/* 4096 bytes is fine (trailing blanks are trimmed). */
	test_assert(lbx_conf_parse(&c, FILE_, big, 4096, err, sizeof(err)) ==
	    LBAUTH_OK && strcmp(c.project_id, "x") == 0);
	lbx_conf_clear(&c);
	/* A NUL byte in a value. */
	test_assert(lbx_conf_parse(&c, FILE_, "project_id = a\0b\n", 17, err,
	    sizeof(err)) == LBAUTH_ECONFIG);
	test_assert(strstr(err, FILE_ ":1: project_id contains a NUL") != NULL);
	lbx_conf_clear(&c);
	test_assert(lbx_conf_parse(&c, FILE_, "signing_key_file = a\0b", 22,
	    err, sizeof(err)) == LBAUTH_ECONFIG);
	lbx_conf_clear(&c);
	/* A number at the very end of the text, with no newline. */
	memcpy(big, "max_body = 100", 14);
	test_assert(lbx_conf_parse(&c, FILE_, big, 14, err, sizeof(err)) ==
	    LBAUTH_OK && c.max_body == 100);
	lbx_conf_clear(&c);
	free(big);

	/* --- Relative paths: joined to the config file's folder. */
	{
		const struct {
			const char	*file;
			const char	*value;
			const char	*want;
		} paths[] = {
			{ FILE_, "x.key", "/etc/lbauth/x.key" },
			{ FILE_, "/srv/x.key", "/srv/x.key" },	/* absolute */
			{ FILE_, "../x.key", "/etc/lbauth/../x.key" },
			{ "conf/lbauth.conf", "x.key", "conf/x.key" },
			{ "./lbauth.conf", "x.key", "./x.key" },
			{ "lbauth.conf", "x.key", "x.key" },	/* no folder */
			{ NULL, "x.key", "x.key" },		/* no file */
		};

		for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
			snprintf(want, sizeof(want), "signing_key_file = %s\n",
			    paths[i].value);
			test_assert_idx(lbx_conf_parse(&c, paths[i].file, want,
			    strlen(want), err, sizeof(err)) == LBAUTH_OK, i);
			test_assert_idx(c.signing_key_file != NULL &&
			    strcmp(c.signing_key_file, paths[i].want) == 0, i);
			lbx_conf_clear(&c);
		}
	}
	/* Without a file name, errors say "(config)". */
	test_assert(lbx_conf_parse(&c, NULL, "x\n", 2, err, sizeof(err)) ==
	    LBAUTH_ECONFIG && strncmp(err, "(config):1: ", 12) == 0);
	lbx_conf_clear(&c);

	/* Key names. */
	test_assert(strcmp(lbx_conf_key_name(LBX_CONF_MAX_BODY), "max_body") ==
	    0);
	test_assert(strcmp(lbx_conf_key_name(LBX_CONF_BACKEND), "backend") ==
	    0);
	test_assert(strcmp(lbx_conf_key_name(LBX_CONF_PUBLISHED_KEY_FILES),
	    "published_key_files") == 0);

	/* The {name, value} tables: whole words only. */
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		rc = lbx_conf_parse(&c, FILE_, words[i].text,
		    strlen(words[i].text), err, sizeof(err));
		test_assert_idx((rc == LBAUTH_OK) == (words[i].ok != 0), i);
		if (rc == LBAUTH_OK && words[i].text[0] == 's')
			test_assert_idx(c.sandbox == (words[i].value != 0), i);
		else if (rc == LBAUTH_OK && words[i].text[0] == 'b')
			test_assert_idx((int)c.backend == words[i].value, i);
		else if (rc == LBAUTH_OK)
			test_assert_idx((int)c.token == words[i].value, i);
		else
			test_assert_idx(strstr(err, " must be ") != NULL, i);
		lbx_conf_clear(&c);
	}

	/* lbx_conf_check: the rules on keys together. */
	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		test_assert_idx(lbx_conf_parse(&c, FILE_, checks[i].text,
		    strlen(checks[i].text), err, sizeof(err)) == LBAUTH_OK, i);
		err[0] = '\0';
		rc = lbx_conf_check(&c, err, sizeof(err));
		if (checks[i].err == NULL)
			test_assert_idx(rc == LBAUTH_OK, i);
		else
			test_assert_idx(rc == LBAUTH_ECONFIG &&
			    strcmp(err, checks[i].err) == 0, i);
		lbx_conf_clear(&c);
	}

	/* lbx_conf_path: the argument, else $LBAUTH_CONFIG, else /etc. */
	test_assert(strcmp(lbx_conf_path("/arg.conf", "/env.conf"),
	    "/arg.conf") == 0);
	test_assert(strcmp(lbx_conf_path("", "/env.conf"), "") == 0);
	test_assert(strcmp(lbx_conf_path(NULL, "/env.conf"), "/env.conf") ==
	    0);
	test_assert(strcmp(lbx_conf_path(NULL, ""), FILE_) == 0);
	test_assert(strcmp(lbx_conf_path(NULL, NULL), FILE_) == 0);

	/* lbx_conf_load: a missing file names itself. */
	test_assert(lbx_conf_load(&c, "/nonexistent/lbauth.conf", err,
	    sizeof(err)) == LBAUTH_ECONFIG);
	test_assert(strncmp(err, "/nonexistent/lbauth.conf: ", 26) == 0);
	lbx_conf_clear(&c);

	return test_done();
}
