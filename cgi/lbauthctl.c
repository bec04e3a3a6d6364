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

#include "../lib/extern.h"

#define DEFAULT_CONFIG	"/etc/lbauth/lbauth.conf"

static const char *
config_path(const char *opt)
{
	const char	*p;

	if (opt != NULL)
		return opt;
	if ((p = getenv("LBAUTH_CONFIG")) != NULL && *p != '\0')
		return p;
	return DEFAULT_CONFIG;
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
	struct lbauth_conf	 conf;
	struct lbx_key		 key;
	struct lbx_buf		 b;
	const char		*conf_path = NULL;
	char			 err[1024];
	int			 ch, i, rc = 0;

	while ((ch = getopt(argc, argv, "c:")) != -1)
		switch (ch) {
		case 'c': conf_path = optarg; break;
		default: return usage();
		}
	lbx_buf_init(&b);
	lbx_buf_puts(&b, "{\"keys\":[");
	if (optind == argc) {
		if (lbx_conf_load(&conf, config_path(conf_path), err,
		    sizeof(err)) != LBAUTH_OK) {
			fprintf(stderr, "lbauthctl: %s\n", err);
			lbx_conf_clear(&conf);
			return 1;
		}
		if (conf.signing_key_file == NULL && conf.npublished == 0) {
			fprintf(stderr, "lbauthctl: %s: no signing_key_file "
			    "or published_key_files\n", conf.file);
			rc = 1;
		} else if (conf.signing_key_file != NULL &&
		    load_any(&key, conf.signing_key_file) == -1)
			rc = 1;
		else if (conf.signing_key_file != NULL) {
			lbx_key_jwk(&b, &key);
			lbx_key_clear(&key);
		}
		for (i = 0; rc == 0 && (size_t)i < conf.npublished; i++) {
			if (load_any(&key, conf.published[i]) == -1) {
				rc = 1;
				break;
			}
			if (b.p[b.len - 1] != '[')
				lbx_buf_putc(&b, ',');
			lbx_key_jwk(&b, &key);
			lbx_key_clear(&key);
		}
		lbx_conf_clear(&conf);
	}
	for (i = optind; i < argc && rc == 0; i++) {
		if (load_any(&key, argv[i]) == -1) {
			rc = 1;
			break;
		}
		if (i > optind)
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

/* Appends "key":[...] from a comma-separated list. */
static void
put_list(struct lbx_buf *b, const char *key, const char *list)
{
	const char	*p, *c;

	lbx_buf_printf(b, ",\"%s\":[", key);
	for (p = list; *p != '\0'; p = *c == ',' ? c + 1 : c) {
		if ((c = strchr(p, ',')) == NULL)
			c = p + strlen(p);
		if (p != list)
			lbx_buf_putc(b, ',');
		lbx_jsonw_str(b, p, (size_t)(c - p));
	}
	lbx_buf_putc(b, ']');
}

static int
cmd_cookie(int argc, char *argv[])
{
	struct lbauth_conf	 conf;
	struct lbx_key		 key;
	struct lbx_buf		 claims, tok, hdr;
	struct json_object	*info = NULL;
	const char		*conf_path = NULL, *keyfile = NULL;
	const char		*sub = NULL, *org = NULL, *groups = NULL;
	const char		*rooms = NULL, *name = NULL, *avatar = NULL;
	const char		*info_json = NULL;
	char			 err[1024];
	long			 ttl = 3600;
	time_t			 now = time(NULL);
	int			 ch, rc = 1;

	while ((ch = getopt(argc, argv, "c:k:s:o:g:r:n:a:i:t:")) != -1)
		switch (ch) {
		case 'c': conf_path = optarg; break;
		case 'k': keyfile = optarg; break;
		case 's': sub = optarg; break;
		case 'o': org = optarg; break;
		case 'g': groups = optarg; break;
		case 'r': rooms = optarg; break;
		case 'n': name = optarg; break;
		case 'a': avatar = optarg; break;
		case 'i': info_json = optarg; break;
		case 't': ttl = strtol(optarg, NULL, 10); break;
		default: return usage();
		}
	if (sub == NULL || optind != argc)
		return usage();
	if (lbx_conf_load(&conf, config_path(conf_path), err, sizeof(err)) !=
	    LBAUTH_OK) {
		fprintf(stderr, "lbauthctl: %s\n", err);
		lbx_conf_clear(&conf);
		return 1;
	}
	if (keyfile != NULL) {
		if (lbx_key_load(&key, keyfile, LBX_KEY_ED25519_PRIV, err,
		    sizeof(err)) != LBAUTH_OK) {
			fprintf(stderr, "lbauthctl: %s\n", err);
			goto out_conf;
		}
	} else if (conf.cookie_secret_file != NULL) {
		if (lbx_key_load(&key, conf.cookie_secret_file, LBX_KEY_HS256,
		    err, sizeof(err)) != LBAUTH_OK) {
			fprintf(stderr, "lbauthctl: %s\n", err);
			goto out_conf;
		}
	} else {
		fprintf(stderr, "lbauthctl: %s has no cookie_secret_file; "
		    "name the app's Ed25519 private key with -k\n", conf.file);
		goto out_conf;
	}
	if (info_json != NULL && (lbx_json_parse(info_json, strlen(info_json),
	    &info) != LBAUTH_OK || !json_object_is_type(info,
	    json_type_object))) {
		fprintf(stderr, "lbauthctl: -i: not a JSON object\n");
		goto out_key;
	}
	lbx_buf_init(&claims);
	lbx_buf_init(&tok);
	lbx_buf_init(&hdr);
	lbx_buf_puts(&claims, "{\"sub\":");
	lbx_jsonw_str(&claims, sub, strlen(sub));
	lbx_buf_printf(&claims, ",\"iat\":%lld,\"exp\":%lld",
	    (long long)now, (long long)now + ttl);
	if (conf.cookie_issuer != NULL) {
		lbx_buf_puts(&claims, ",\"iss\":");
		lbx_jsonw_str(&claims, conf.cookie_issuer,
		    strlen(conf.cookie_issuer));
	}
	if (conf.cookie_audience != NULL) {
		lbx_buf_puts(&claims, ",\"aud\":");
		lbx_jsonw_str(&claims, conf.cookie_audience,
		    strlen(conf.cookie_audience));
	}
	if (org != NULL) {
		lbx_buf_puts(&claims, ",\"org\":");
		lbx_jsonw_str(&claims, org, strlen(org));
	}
	if (groups != NULL)
		put_list(&claims, "groups", groups);
	if (rooms != NULL)
		put_list(&claims, "rooms", rooms);
	if (name != NULL) {
		lbx_buf_puts(&claims, ",\"name\":");
		lbx_jsonw_str(&claims, name, strlen(name));
	}
	if (avatar != NULL) {
		lbx_buf_puts(&claims, ",\"avatar\":");
		lbx_jsonw_str(&claims, avatar, strlen(avatar));
	}
	if (info != NULL) {
		lbx_buf_puts(&claims, ",\"info\":");
		lbx_jsonw_value(&claims, info);
	}
	lbx_buf_putc(&claims, '}');
	lbx_jwt_header(&hdr, &key);
	if (!claims.oom && !hdr.oom)
		lbx_jwt_sign(&tok, hdr.p, hdr.len, claims.p, claims.len, &key);
	if (!tok.oom && tok.len > 0) {
		printf("%s\n", tok.p);
		rc = 0;
	}
	lbx_buf_clear(&claims);
	lbx_buf_clear(&tok);
	lbx_buf_clear(&hdr);
out_key:
	json_object_put(info);
	lbx_key_clear(&key);
out_conf:
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
	struct lbauth_conf	 conf;
	struct lbx_key		 key;
	struct lbx_jwt		 jwt;
	struct json_object	*claims = NULL, *exp;
	const char		*conf_path = NULL, *jwks = NULL, *tok;
	const char		*reason = NULL;
	char			 err[1024];
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
	err[0] = '\0';
	tok = argv[optind];
	if (jwks != NULL)
		return verify_jwks(tok, jwks);
	rc = lbx_jwt_parse(&jwt, tok, strlen(tok), LBX_ALG_EDDSA, &reason);
	if (rc != LBAUTH_OK) {
		fprintf(stderr, "lbauthctl: invalid token: %s\n", reason);
		lbx_jwt_clear(&jwt);
		return 1;
	}
	{
		size_t i;

		if (lbx_conf_load(&conf, config_path(conf_path), err,
		    sizeof(err)) != LBAUTH_OK || (conf.signing_key_file == NULL &&
		    conf.npublished == 0)) {
			fprintf(stderr, "lbauthctl: %s\n", err[0] != '\0' ?
			    err : "no signing_key_file or published_key_files");
			lbx_conf_clear(&conf);
			lbx_jwt_clear(&jwt);
			return 1;
		}
		/* The signing key, then every published (earlier) key. */
		rc = LBAUTH_ESIG;
		for (i = 0; rc != LBAUTH_OK && i <= conf.npublished; i++) {
			const char *f = i == 0 ? conf.signing_key_file :
			    conf.published[i - 1];

			if (f == NULL)
				continue;
			if (load_any(&key, f) == -1) {
				rc = LBAUTH_EKEYFILE;
				break;
			}
			rc = lbx_jwt_verify(&jwt, &key);
			lbx_key_clear(&key);
		}
		lbx_conf_clear(&conf);
	}
	if (rc == LBAUTH_OK)
		rc = lbx_jwt_payload(&jwt, &claims);
	lbx_jwt_clear(&jwt);
	if (rc != LBAUTH_OK) {
		fprintf(stderr, "lbauthctl: invalid token: %s\n",
		    lbauth_strerror(rc));
		return 1;
	}
	if (!json_object_object_get_ex(claims, "exp", &exp) ||
	    json_object_get_int64(exp) <= (int64_t)time(NULL)) {
		fprintf(stderr, "lbauthctl: token expired\n");
		json_object_put(claims);
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
	char			 err[1024];
	int			 ch;

	while ((ch = getopt(argc, argv, "c:")) != -1)
		switch (ch) {
		case 'c': conf_path = optarg; break;
		default: return usage();
		}
	if (optind != argc)
		return usage();
	path = config_path(conf_path);
	if (lbauth_app_new(path, &app, err, sizeof(err)) != LBAUTH_OK) {
		fprintf(stderr, "lbauthctl: %s\n", err);
		return 1;
	}
	lbauth_app_free(app);
	printf("%s: ok\n", path);
	return 0;
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
