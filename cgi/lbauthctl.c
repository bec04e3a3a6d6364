/*
 * lbauthctl: lbauth's admin tool (see lbauthctl(1) and README).
 *
 *	keygen [-t ed25519|hs256] -o FILE [-p PUBFILE]
 *	pubkey KEYFILE
 *	jwks [-c CONF] [KEYFILE ...]
 *	cookie [-c CONF] [-k KEYFILE] -s SUB [-o ORG] [-g G,G] [-r R,R]
 *	       [-n NAME] [-a AVATAR] [-i INFO_JSON] [-t TTL]
 *	verify [-c CONF] [-j JWKS_FILE] TOKEN
 *	check [-c CONF]
 *	explain [-c CONF] (--cookie VALUE | --user ID [--org ORG])
 *	       [--room ROOM]
 *	--version
 *
 * Exit status: 0 success, 1 failure (the reason on stderr), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/app.h"

/*
 * Loads the config file opt names (lbx_conf_path()) into c and checks
 * its keys together as lbauth does (lbx_conf_check()).  Returns 0, or
 * -1 after printing why (c is then cleared).
 */
static int
load_conf(struct lbauth_conf *c, const char *opt)
{
	char	 err[1024];

	if (lbx_conf_load(c, lbx_conf_path(opt, getenv("LBAUTH_CONFIG")), err,
	    sizeof(err)) != LBAUTH_OK ||
	    lbx_conf_check(c, err, sizeof(err)) != LBAUTH_OK) {
		fprintf(stderr, "lbauthctl: %s\n", err);
		lbx_conf_clear(c);
		return -1;
	}
	return 0;
}

/*
 * Loads the signing key and the published keys of the config opt
 * names into ks (keyset.c).  Returns 0, or -1 after printing why.
 */
static int
load_keyset(struct lbx_keyset *ks, const char *opt)
{
	struct lbauth_conf	 conf;
	char			 err[1024];
	int			 rc = 0;

	ks->keys = NULL;
	ks->nkeys = 0;
	if (load_conf(&conf, opt) == -1)
		return -1;
	if (conf.signing_key_file == NULL && conf.npublished == 0) {
		fprintf(stderr, "lbauthctl: %s: no signing_key_file or "
		    "published_key_files\n", conf.file);
		rc = -1;
	} else if (lbx_keyset_load(ks, &conf, true, err, sizeof(err)) !=
	    LBAUTH_OK) {
		fprintf(stderr, "lbauthctl: %s\n", err);
		rc = -1;
	}
	lbx_conf_clear(&conf);
	return rc;
}

static int
usage(void)
{

	fprintf(stderr,
	    "usage: lbauthctl keygen [-t ed25519|hs256] -o FILE [-p PUBFILE]\n"
	    "       lbauthctl pubkey KEYFILE\n"
	    "       lbauthctl jwks [-c CONF] [KEYFILE ...]\n"
	    "       lbauthctl cookie [-c CONF] [-k KEYFILE] -s SUB [-o ORG] "
	    "[-g G1,G2]\n"
	    "                 [-r ROOM1,ROOM2] [-n NAME] [-a AVATAR] "
	    "[-i INFO_JSON] [-t TTL]\n"
	    "       lbauthctl verify [-c CONF] [-j JWKS_FILE] TOKEN\n"
	    "       lbauthctl check [-c CONF]\n"
	    "       lbauthctl explain [-c CONF] (--cookie VALUE | --user ID "
	    "[--org ORG])\n"
	    "                 [--room ROOM]\n"
	    "       lbauthctl --version\n");
	return 2;
}

/* Writes b to path, created with mode; fails if path exists. */
static int
write_new(const char *path, const struct lbx_buf *b, mode_t mode)
{
	int	 fd;
	ssize_t	 n;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, mode)) == -1) {
		fprintf(stderr, "lbauthctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = write(fd, b->p, b->len);
	if (n != (ssize_t)b->len || fsync(fd) == -1 || close(fd) == -1) {
		fprintf(stderr, "lbauthctl: %s: write failed\n", path);
		unlink(path);
		return -1;
	}
	return 0;
}

static int
cmd_keygen(int argc, char *argv[])
{
	struct lbx_key	 key;
	struct lbx_buf	 b;
	unsigned char	 seed[crypto_sign_SEEDBYTES];
	const char	*type = "ed25519", *out = NULL, *pub = NULL;
	int		 ch, rc = 1;

	while ((ch = getopt(argc, argv, "t:o:p:")) != -1)
		switch (ch) {
		case 't': type = optarg; break;
		case 'o': out = optarg; break;
		case 'p': pub = optarg; break;
		default: return usage();
		}
	if (out == NULL || optind != argc)
		return usage();
	lbx_buf_init(&b);
	if (strcmp(type, "hs256") == 0) {
		randombytes_buf(seed, sizeof(seed));
		lbx_buf_b64url(&b, seed, sizeof(seed));
		lbx_buf_putc(&b, '\n');
		sodium_memzero(seed, sizeof(seed));
		rc = b.oom ? 1 : write_new(out, &b, 0600) == 0 ? 0 : 1;
		lbx_buf_clear(&b);
		return rc;
	}
	if (strcmp(type, "ed25519") != 0)
		return usage();
	randombytes_buf(seed, sizeof(seed));
	if (lbx_key_ed25519_seed(&key, seed) != LBAUTH_OK) {
		sodium_memzero(seed, sizeof(seed));
		return 1;
	}
	sodium_memzero(seed, sizeof(seed));
	lbx_key_pem_sk(&b, &key);
	if (!b.oom && write_new(out, &b, 0600) == 0) {
		rc = 0;
		if (pub != NULL) {
			lbx_buf_reset(&b);
			lbx_key_pem_pk(&b, &key);
			rc = write_new(pub, &b, 0644) == 0 ? 0 : 1;
		}
		printf("kid %s\n", key.kid);
	}
	lbx_buf_clear(&b);
	lbx_key_clear(&key);
	return rc;
}

/* Loads a PEM key file, private or public, for its public half. */
static int
load_any(struct lbx_key *key, const char *path)
{
	char	 err[1024];

	if (lbx_key_load_any(key, path, err, sizeof(err)) == LBAUTH_OK)
		return 0;
	fprintf(stderr, "lbauthctl: %s\n", err);
	return -1;
}

static int
cmd_pubkey(int argc, char *argv[])
{
	struct lbx_key	 key;
	struct lbx_buf	 b;

	if (argc != 2)
		return usage();
	if (load_any(&key, argv[1]) == -1)
		return 1;
	lbx_buf_init(&b);
	lbx_key_pem_pk(&b, &key);
	fputs(b.p, stdout);
	lbx_buf_clear(&b);
	lbx_key_clear(&key);
	return 0;
}

static int
cmd_jwks(int argc, char *argv[])
{
	struct lbx_keyset	 ks;
	struct lbx_key		 key;
	struct lbx_buf		 b;
	const char		*conf_path = NULL;
	size_t			 i;
	int			 ch, rc = 0;

	while ((ch = getopt(argc, argv, "c:")) != -1)
		switch (ch) {
		case 'c': conf_path = optarg; break;
		default: return usage();
		}
	lbx_buf_init(&b);
	lbx_buf_puts(&b, "{\"keys\":[");
	if (optind == argc) {
		if (load_keyset(&ks, conf_path) == -1) {
			lbx_buf_clear(&b);
			return 1;
		}
		for (i = 0; i < ks.nkeys; i++) {
			if (i > 0)
				lbx_buf_putc(&b, ',');
			lbx_key_jwk(&b, &ks.keys[i]);
		}
		lbx_keyset_clear(&ks);
	}
	for (i = (size_t)optind; i < (size_t)argc && rc == 0; i++) {
		if (load_any(&key, argv[i]) == -1) {
			rc = 1;
			break;
		}
		if (i > (size_t)optind)
			lbx_buf_putc(&b, ',');
		lbx_key_jwk(&b, &key);
		lbx_key_clear(&key);
	}
	lbx_buf_puts(&b, "]}\n");
	if (rc == 0)
		fputs(b.p, stdout);
	lbx_buf_clear(&b);
	return rc;
}

static int
cmd_cookie(int argc, char *argv[])
{
	struct lbauth_conf	 conf;
	struct lbx_key		 key;
	struct lbx_signin	 in;
	struct lbx_buf		 tok;
	const char		*conf_path = NULL, *keyfile = NULL;
	char			 err[1024];
	enum lbauth_err		 er;
	int			 ch, rc = 1;

	memset(&in, 0, sizeof(in));
	in.ttl = 3600;
	while ((ch = getopt(argc, argv, "c:k:s:o:g:r:n:a:i:t:")) != -1)
		switch (ch) {
		case 'c': conf_path = optarg; break;
		case 'k': keyfile = optarg; break;
		case 's': in.sub = optarg; break;
		case 'o': in.org = optarg; break;
		case 'g': in.groups = optarg; break;
		case 'r': in.rooms = optarg; break;
		case 'n': in.name = optarg; break;
		case 'a': in.avatar = optarg; break;
		case 'i': in.info = optarg; break;
		case 't': in.ttl = strtol(optarg, NULL, 10); break;
		default: return usage();
		}
	if (in.sub == NULL || optind != argc)
		return usage();
	if (load_conf(&conf, conf_path) == -1)
		return 1;
	if (keyfile == NULL && conf.cookie_secret_file == NULL) {
		fprintf(stderr, "lbauthctl: %s has no cookie_secret_file; "
		    "name the app's Ed25519 private key with -k\n", conf.file);
		lbx_conf_clear(&conf);
		return 1;
	}
	if (lbx_key_load(&key, keyfile != NULL ? keyfile :
	    conf.cookie_secret_file, keyfile != NULL ? LBX_KEY_ED25519_PRIV :
	    LBX_KEY_HS256, err, sizeof(err)) != LBAUTH_OK) {
		fprintf(stderr, "lbauthctl: %s\n", err);
		lbx_conf_clear(&conf);
		return 1;
	}
	lbx_buf_init(&tok);
	er = lbx_signin_cookie(&tok, &in, &conf, &key, time(NULL));
	if (er == LBAUTH_ECLAIM)
		fprintf(stderr, "lbauthctl: -i: not a JSON object\n");
	else if (er == LBAUTH_OK) {
		printf("%s\n", tok.p);
		rc = 0;
	}
	lbx_buf_clear(&tok);
	lbx_key_clear(&key);
	lbx_conf_clear(&conf);
	return rc;
}

/*
 * Verifies tok against the JWKS file at path with the library's own
 * verifier (lbauth_token_verify), printing the payload on success.
 */
static int
verify_jwks(const char *tok, const char *path)
{
	struct lbauth_verifier	*v = NULL;
	char			*buf, *payload = NULL;
	size_t			 len;
	FILE			*f;
	enum lbauth_err		 rc;

	if ((f = fopen(path, "re")) == NULL) {
		fprintf(stderr, "lbauthctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if ((buf = malloc(65536)) == NULL) {
		fclose(f);
		return 1;
	}
	len = fread(buf, 1, 65536, f);
	fclose(f);
	rc = lbauth_verifier_new(buf, len, &v);
	free(buf);
	if (rc != LBAUTH_OK) {
		fprintf(stderr, "lbauthctl: %s: not a JWKS with an Ed25519 "
		    "key\n", path);
		return 1;
	}
	rc = lbauth_token_verify(v, tok, strlen(tok), time(NULL), &payload);
	lbauth_verifier_free(v);
	if (rc != LBAUTH_OK) {
		fprintf(stderr, "lbauthctl: invalid token: %s\n",
		    lbauth_strerror(rc));
		return 1;
	}
	printf("%s\n", payload);
	free(payload);
	return 0;
}

static int
cmd_verify(int argc, char *argv[])
{
	struct lbx_keyset	 ks;
	struct json_object	*claims;
	const char		*conf_path = NULL, *jwks = NULL, *tok;
	enum lbauth_err		 rc;
	int			 ch;

	while ((ch = getopt(argc, argv, "c:j:")) != -1)
		switch (ch) {
		case 'c': conf_path = optarg; break;
		case 'j': jwks = optarg; break;
		default: return usage();
		}
	if (optind + 1 != argc)
		return usage();
	tok = argv[optind];
	if (jwks != NULL)
		return verify_jwks(tok, jwks);
	if (load_keyset(&ks, conf_path) == -1)
		return 1;
	rc = lbx_verify_token(ks.keys, ks.nkeys, tok, strlen(tok), time(NULL),
	    &claims);
	lbx_keyset_clear(&ks);
	if (rc != LBAUTH_OK) {
		fprintf(stderr, "lbauthctl: invalid token: %s\n",
		    lbauth_strerror(rc));
		return 1;
	}
	printf("%s\n", json_object_to_json_string_ext(claims,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(claims);
	return 0;
}

static int
cmd_check(int argc, char *argv[])
{
	struct lbauth_app	*app;
	const char		*conf_path = NULL, *path;
	char			 err[1024], line[512];
	unsigned		 kind;
	int			 ch;

	while ((ch = getopt(argc, argv, "c:")) != -1)
		switch (ch) {
		case 'c': conf_path = optarg; break;
		default: return usage();
		}
	if (optind != argc)
		return usage();
	path = lbx_conf_path(conf_path, getenv("LBAUTH_CONFIG"));
	if (lbauth_app_new(path, &app, err, sizeof(err)) != LBAUTH_OK) {
		fprintf(stderr, "lbauthctl: %s\n", err);
		return 1;
	}
	/* check connects: a database it cannot reach is a failure here. */
	if (lbauth_app_warning(app) != NULL) {
		fprintf(stderr, "lbauthctl: %s\n", lbauth_app_warning(app));
		lbauth_app_free(app);
		return 1;
	}
	printf("%s: ok\n", path);
	for (kind = 0; kind < 2; kind++)
		if (lbauth_app_sql_trips(app, kind, line, sizeof(line)))
			printf("%s\n", line);
	lbauth_app_free(app);
	return 0;
}

/*
 * explain: a dry run of one request (lib/explain.c): the user, the
 * identity source, the policy's grants and, for a room, the access per
 * feature.  Mints nothing, calls no API.  Exit 0 when a token would be
 * issued, 1 when not (or on an error), 2 on a usage error.
 */
static int
cmd_explain(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "cookie", required_argument, NULL, 'k' },
		{ "user", required_argument, NULL, 'u' },
		{ "org", required_argument, NULL, 'o' },
		{ "room", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct lbauth_app	*app;
	struct lbx_buf		 out;
	const char		*conf_path = NULL, *cookie = NULL, *user = NULL;
	const char		*org = NULL, *room = NULL, *path;
	char			 err[1024];
	enum lbauth_err		 rc;
	int			 ch;

	while ((ch = getopt_long(argc, argv, "c:k:u:o:r:", opts, NULL)) != -1)
		switch (ch) {
		case 'c': conf_path = optarg; break;
		case 'k': cookie = optarg; break;
		case 'u': user = optarg; break;
		case 'o': org = optarg; break;
		case 'r': room = optarg; break;
		default: return usage();
		}
	if (optind != argc || (cookie == NULL) == (user == NULL) ||
	    (org != NULL && user == NULL))
		return usage();
	path = lbx_conf_path(conf_path, getenv("LBAUTH_CONFIG"));
	if (lbauth_app_new(path, &app, err, sizeof(err)) != LBAUTH_OK) {
		fprintf(stderr, "lbauthctl: %s\n", err);
		return 1;
	}
	lbx_buf_init(&out);
	rc = lbx_explain(app, cookie, user, org, room, &out, err, sizeof(err));
	if (err[0] != '\0')
		fprintf(stderr, "lbauthctl: %s\n", err);
	else if (out.oom)
		fprintf(stderr, "lbauthctl: out of memory\n");
	else
		fwrite(out.p, 1, out.len, stdout);
	lbx_buf_clear(&out);
	lbauth_app_free(app);
	return rc == LBAUTH_OK ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	static const struct {
		const char	*name;
		int		(*fn)(int, char *[]);
	} cmds[] = {
		{ "keygen", cmd_keygen }, { "pubkey", cmd_pubkey },
		{ "jwks", cmd_jwks }, { "cookie", cmd_cookie },
		{ "verify", cmd_verify }, { "check", cmd_check },
		{ "explain", cmd_explain },
	};
	size_t	 i;

	if (sodium_init() < 0) {
		fprintf(stderr, "lbauthctl: libsodium failed to initialise\n");
		return 1;
	}
	if (argc < 2)
		return usage();
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("lbauthctl %s\n", LBAUTH_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	return usage();
}
