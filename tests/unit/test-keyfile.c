/*
 * test-keyfile.c: lib/keyfile.c and lib/key.c.  Key files written into
 * a mkdtemp() folder: the formats "lbauthctl keygen" writes load back
 * to the same key; every unsafe or malformed file is refused with
 * LBAUTH_EKEYFILE and a message that starts with its path (Dovecot's
 * auth-token.c checks: regular file, not a symlink, our owner, mode
 * 0600).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/extern.h"
#include "../test.h"

static char	 dir[] = "/tmp/lbauth-test-keyfile.XXXXXX";
static char	 paths[64][300];
static size_t	 npaths;

/* Writes len bytes of data to dir/name with mode; returns the path. */
static const char *
put(const char *name, const void *data, size_t len, mode_t mode)
{
	char	*p;

	if (npaths == sizeof(paths) / sizeof(paths[0]))
		abort();
	p = paths[npaths++];
	int	 fd;

	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	unlink(p);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1 ||
	    write(fd, data, len) != (ssize_t)len || fchmod(fd, mode) == -1 ||
	    close(fd) == -1) {
		perror(p);
		exit(2);
	}
	return p;
}

static const char *
path(const char *name)
{
	char	*p;

	if (npaths == sizeof(paths) / sizeof(paths[0]))
		abort();
	p = paths[npaths++];

	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	return p;
}

/* Whether err names path first, as "path: reason". */
static bool
names(const char *err, const char *p)
{
	size_t	 n = strlen(p);

	return strncmp(err, p, n) == 0 && err[n] == ':' && err[n + 1] == ' ' &&
	    err[n + 2] != '\0';
}

/* The HS256 signature of "msg" by key, for comparing keys. */
static void
mac(struct lbx_buf *b, const struct lbx_key *key)
{

	lbx_buf_reset(b);
	lbx_jwt_sign(b, "e30", 3, "msg", 3, key);
}

int
main(void)
{
	unsigned char	 seed[32], der[48];
	char		 err[512], b64[128], secret[1100];
	struct lbx_key	 sk, k, ref;
	struct lbx_buf	 pem, pub, m1, m2;
	const char	*p, *good_sk, *good_hs, *reason;
	size_t		 i;
	static const unsigned char pkcs8_x25519[16] = {	/* OID 1.3.101.110 */
		0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
		0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20
	};

	if (sodium_init() < 0)
		return 1;
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 2;
	}
	lbx_buf_init(&pem);
	lbx_buf_init(&pub);
	lbx_buf_init(&m1);
	lbx_buf_init(&m2);
	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (unsigned char)(i * 7 + 1);
	test_assert(lbx_key_ed25519_seed(&sk, seed) == LBAUTH_OK);
	lbx_key_pem_sk(&pem, &sk);
	lbx_key_pem_pk(&pub, &sk);
	test_assert(pem.len == LBX_PEM_SK_LEN && pub.len == LBX_PEM_PK_LEN);
	test_assert(strncmp(pem.p, "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYD"
	    "K2VwBCIEI", 46) == 0);
	test_assert(strncmp(pub.p, "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2Vw"
	    "AyEA", 43) == 0);

	/* --- PKCS#8 private key, as keygen writes it. */
	good_sk = p = put("sk.pem", pem.p, pem.len, 0600);
	test_assert(lbx_key_load(&k, p, LBX_KEY_ED25519_PRIV, err,
	    sizeof(err)) == LBAUTH_OK);
	test_assert(k.alg == LBX_ALG_EDDSA && k.sk != NULL &&
	    memcmp(k.pk, sk.pk, sizeof(k.pk)) == 0 &&
	    strcmp(k.kid, sk.kid) == 0);
	test_assert(memcmp(k.sk, sk.sk, crypto_sign_SECRETKEYBYTES) == 0);
	lbx_key_clear(&k);
	test_assert(k.sk == NULL && k.alg == 0);
	/* Without the final newline. */
	p = put("sk-nonl.pem", pem.p, pem.len - 1, 0600);
	test_assert(lbx_key_load(&k, p, LBX_KEY_ED25519_PRIV, err,
	    sizeof(err)) == LBAUTH_OK);
	test_assert(memcmp(k.pk, sk.pk, sizeof(k.pk)) == 0);
	lbx_key_clear(&k);

	/* --- SPKI public key, mode 0644 and 0600, any owner. */
	p = put("pk.pem", pub.p, pub.len, 0644);
	test_assert(lbx_key_load(&k, p, LBX_KEY_ED25519_PUB, err,
	    sizeof(err)) == LBAUTH_OK);
	test_assert(k.alg == LBX_ALG_EDDSA && k.sk == NULL &&
	    memcmp(k.pk, sk.pk, sizeof(k.pk)) == 0 &&
	    strcmp(k.kid, sk.kid) == 0);
	lbx_key_clear(&k);
	test_assert(chown(p, 12345, -1) == 0);
	test_assert(lbx_key_load(&k, p, LBX_KEY_ED25519_PUB, err,
	    sizeof(err)) == LBAUTH_OK);
	lbx_key_clear(&k);
	p = put("pk-nonl.pem", pub.p, pub.len - 1, 0600);
	test_assert(lbx_key_load(&k, p, LBX_KEY_ED25519_PUB, err,
	    sizeof(err)) == LBAUTH_OK);
	test_assert(memcmp(k.pk, sk.pk, sizeof(k.pk)) == 0);
	lbx_key_clear(&k);

	/* --- HS256 secrets: one trailing newline is not part of it. */
	memcpy(secret, "0123456789abcdefghijklmnopqrstuv\n", 33);
	good_hs = p = put("hs.key", secret, 33, 0600);
	test_assert(lbx_key_load(&k, p, LBX_KEY_HS256, err, sizeof(err)) ==
	    LBAUTH_OK);
	test_assert(k.alg == LBX_ALG_HS256 && k.hmac != NULL);
	test_assert(lbx_key_hs256(&ref, (const unsigned char *)secret, 32,
	    &reason) == LBAUTH_OK);
	mac(&m1, &k);
	mac(&m2, &ref);
	test_assert(m1.len > 0 && strcmp(m1.p, m2.p) == 0);
	lbx_key_clear(&k);
	/* The same secret without newline: the same key. */
	p = put("hs-nonl.key", secret, 32, 0600);
	test_assert(lbx_key_load(&k, p, LBX_KEY_HS256, err, sizeof(err)) ==
	    LBAUTH_OK);
	mac(&m1, &k);
	test_assert(strcmp(m1.p, m2.p) == 0);
	lbx_key_clear(&k);
	/* Two newlines: only one goes, so the key differs. */
	memcpy(secret + 33, "\n", 1);
	p = put("hs-2nl.key", secret, 34, 0600);
	test_assert(lbx_key_load(&k, p, LBX_KEY_HS256, err, sizeof(err)) ==
	    LBAUTH_OK);
	mac(&m1, &k);
	test_assert(strcmp(m1.p, m2.p) != 0);
	lbx_key_clear(&k);
	lbx_key_clear(&ref);
	/* 1024 bytes (+ newline) is the most. */
	memset(secret, 's', 1024);
	secret[1024] = '\n';
	p = put("hs-1024.key", secret, 1025, 0600);
	test_assert(lbx_key_load(&k, p, LBX_KEY_HS256, err, sizeof(err)) ==
	    LBAUTH_OK);
	lbx_key_clear(&k);

	/* --- Refusals, each naming its file. */
	{
		struct {
			const char	*name;
			const char	*data;
			size_t		 len;
			mode_t		 mode;
			enum lbx_keykind kind;
		} bad[] = {
			/* 31 bytes + newline: too short. */
			{ "hs-31.key", "0123456789abcdefghijklmnopqrstu\n", 32,
			    0600, LBX_KEY_HS256 },
			/* 31 bytes. */
			{ "hs-31b.key", "0123456789abcdefghijklmnopqrstu", 31,
			    0600, LBX_KEY_HS256 },
			/* A newline alone. */
			{ "hs-nl.key", "\n", 1, 0600, LBX_KEY_HS256 },
			/* Group-readable secret. */
			{ "hs-640.key", "0123456789abcdefghijklmnopqrstuv",
			    32, 0640, LBX_KEY_HS256 },
			/* World-readable secret. */
			{ "hs-604.key", "0123456789abcdefghijklmnopqrstuv",
			    32, 0604, LBX_KEY_HS256 },
			/* Group-writable only. */
			{ "hs-620.key", "0123456789abcdefghijklmnopqrstuv",
			    32, 0620, LBX_KEY_HS256 },
			/* Other-executable only. */
			{ "hs-601.key", "0123456789abcdefghijklmnopqrstuv",
			    32, 0601, LBX_KEY_HS256 },
			/* Private key readable by group. */
			{ "sk-640.pem", pem.p, pem.len, 0640,
			    LBX_KEY_ED25519_PRIV },
			/* Private key readable by all. */
			{ "sk-644.pem", pem.p, pem.len, 0644,
			    LBX_KEY_ED25519_PRIV },
			/* Empty files. */
			{ "empty.key", "", 0, 0600, LBX_KEY_HS256 },
			{ "empty.pem", "", 0, 0600, LBX_KEY_ED25519_PRIV },
			{ "empty-pub.pem", "", 0, 0644, LBX_KEY_ED25519_PUB },
			/* An RSA key. */
			{ "rsa.pem", "-----BEGIN RSA PRIVATE KEY-----\n"
			    "MC4CAQAwBQYDK2VwBCIEIAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			    "AAAAAAAAAAAAAAAA\n-----END RSA PRIVATE KEY-----\n",
			    0, 0600, LBX_KEY_ED25519_PRIV },
			/* Garbage. */
			{ "garbage.pem", "this is not a key at all\n", 0,
			    0600, LBX_KEY_ED25519_PRIV },
			{ "garbage-pub.pem", "this is not a key at all\n", 0,
			    0644, LBX_KEY_ED25519_PUB },
			/* The public key where a private one is wanted. */
			{ "pub-as-sk.pem", pub.p, pub.len, 0600,
			    LBX_KEY_ED25519_PRIV },
			/* The private key where a public one is wanted. */
			{ "sk-as-pub.pem", pem.p, pem.len, 0600,
			    LBX_KEY_ED25519_PUB },
			/* CRLF line ends. */
			{ "crlf.pem", "-----BEGIN PRIVATE KEY-----\r\n"
			    "MC4CAQAwBQYDK2VwBCIEIAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			    "AAAAAAAAAAAAAAAA\r\n-----END PRIVATE KEY-----\r\n",
			    0, 0600, LBX_KEY_ED25519_PRIV },
			/* Only the BEGIN line. */
			{ "half.pem", "-----BEGIN PRIVATE KEY-----\n", 0,
			    0600, LBX_KEY_ED25519_PRIV },
		};

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			p = put(bad[i].name, bad[i].data, bad[i].len != 0 ||
			    bad[i].data[0] == '\0' ? bad[i].len :
			    strlen(bad[i].data), bad[i].mode);
			err[0] = '\0';
			test_assert_idx(lbx_key_load(&k, p, bad[i].kind, err,
			    sizeof(err)) == LBAUTH_EKEYFILE, i);
			test_assert_idx(names(err, p), i);
			test_assert_idx(k.alg == 0 && k.hmac == NULL &&
			    k.sk == NULL, i);
			lbx_key_clear(&k);
		}
	}

	/* A PKCS#8 key for X25519 (OID 1.3.101.110), not Ed25519. */
	memcpy(der, pkcs8_x25519, 16);
	memcpy(der + 16, seed, 32);
	sodium_bin2base64(b64, sizeof(b64), der, 48,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(secret, sizeof(secret), "-----BEGIN PRIVATE KEY-----\n%s\n"
	    "-----END PRIVATE KEY-----\n", b64);
	p = put("x25519.pem", secret, strlen(secret), 0600);
	test_assert(lbx_key_load(&k, p, LBX_KEY_ED25519_PRIV, err,
	    sizeof(err)) == LBAUTH_EKEYFILE && names(err, p));

	/* A symlink to a good key. */
	p = path("link.pem");
	test_assert(symlink(good_sk, p) == 0);
	test_assert(lbx_key_load(&k, p, LBX_KEY_ED25519_PRIV, err,
	    sizeof(err)) == LBAUTH_EKEYFILE && names(err, p));
	test_assert(strstr(err, "symbolic link") != NULL);
	p = path("link.key");
	test_assert(symlink(good_hs, p) == 0);
	test_assert(lbx_key_load(&k, p, LBX_KEY_HS256, err, sizeof(err)) ==
	    LBAUTH_EKEYFILE && names(err, p));
	test_assert(lbx_key_load(&k, p, LBX_KEY_ED25519_PUB, err,
	    sizeof(err)) == LBAUTH_EKEYFILE && names(err, p));

	/* A directory. */
	p = path("subdir");
	test_assert(mkdir(p, 0700) == 0);
	test_assert(lbx_key_load(&k, p, LBX_KEY_HS256, err, sizeof(err)) ==
	    LBAUTH_EKEYFILE && names(err, p));

	/* A FIFO: refused without blocking on an open for reading. */
	p = path("fifo");
	test_assert(mkfifo(p, 0600) == 0);
	test_assert(lbx_key_load(&k, p, LBX_KEY_HS256, err, sizeof(err)) ==
	    LBAUTH_EKEYFILE && names(err, p));
	test_assert(lbx_key_load(&k, p, LBX_KEY_ED25519_PUB, err,
	    sizeof(err)) == LBAUTH_EKEYFILE && names(err, p));

	/* A missing file. */
	p = path("missing.key");
	test_assert(lbx_key_load(&k, p, LBX_KEY_HS256, err, sizeof(err)) ==
	    LBAUTH_EKEYFILE && names(err, p));
	test_assert(strstr(err, "No such file") != NULL);

	/* A secret owned by someone else (we are root: chown works). */
	memcpy(secret, "0123456789abcdefghijklmnopqrstuv", 32);
	p = put("owner.key", secret, 32, 0600);
	test_assert(chown(p, 12345, -1) == 0);
	test_assert(lbx_key_load(&k, p, LBX_KEY_HS256, err, sizeof(err)) ==
	    LBAUTH_EKEYFILE && names(err, p));
	test_assert(strstr(err, "12345") != NULL);
	p = put("owner.pem", pem.p, pem.len, 0600);
	test_assert(chown(p, 12345, -1) == 0);
	test_assert(lbx_key_load(&k, p, LBX_KEY_ED25519_PRIV, err,
	    sizeof(err)) == LBAUTH_EKEYFILE && names(err, p));

	/* Over the size cap (1025 bytes without a newline, and 1026). */
	memset(secret, 's', 1026);
	p = put("hs-1025.key", secret, 1025, 0600);
	test_assert(lbx_key_load(&k, p, LBX_KEY_HS256, err, sizeof(err)) ==
	    LBAUTH_EKEYFILE && names(err, p));
	p = put("hs-1026.key", secret, 1026, 0600);
	test_assert(lbx_key_load(&k, p, LBX_KEY_HS256, err, sizeof(err)) ==
	    LBAUTH_EKEYFILE && names(err, p));
	/* A secret-sized file that is no PEM. */
	memset(secret, 'A', 1025);
	p = put("big.pem", secret, 1025, 0600);
	test_assert(lbx_key_load(&k, p, LBX_KEY_ED25519_PRIV, err,
	    sizeof(err)) == LBAUTH_EKEYFILE && names(err, p));

	/* lbx_keyfile_read() itself: NUL-terminated bytes. */
	{
		unsigned char	*buf;
		size_t		 len;

		test_assert(lbx_keyfile_read(good_hs, true, 100, &buf, &len,
		    err, sizeof(err)) == LBAUTH_OK);
		test_assert(len == 33 && buf[33] == '\0' &&
		    memcmp(buf, "0123456789abcdefghijklmnopqrstuv\n", 33) == 0);
		sodium_free(buf);
		test_assert(lbx_keyfile_read(good_hs, true, 32, &buf, &len,
		    err, sizeof(err)) == LBAUTH_EKEYFILE && buf == NULL &&
		    len == 0 && names(err, good_hs));
	}

	/* Clean up the folder. */
	for (i = 0; i < npaths; i++)
		if (unlink(paths[i]) == -1)
			rmdir(paths[i]);
	test_assert(rmdir(dir) == 0);

	lbx_key_clear(&sk);
	lbx_buf_clear(&pem);
	lbx_buf_clear(&pub);
	lbx_buf_clear(&m1);
	lbx_buf_clear(&m2);
	return test_done();
}
