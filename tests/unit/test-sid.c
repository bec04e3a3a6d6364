/*
 * test-sid.c: the session-id cookie decoders, sid.c.
 *
 * The express and laravel rows were made by the frameworks' own code:
 * tests/vectors/sid/express.mjs with npm cookie-signature (what
 * express-session signs with) and tests/vectors/sid/laravel.php with
 * Illuminate's Encrypter and CookieValuePrefix (Debian's
 * php-laravel-framework 8); each row's expected id is what that code
 * itself returned on reading the cookie back (NULL: it refused it).
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/extern.h"
#include "../test.h"

#include "../vectors/sid/express.h"
#include "../vectors/sid/laravel.h"

static struct lbx_secret
secret(const void *p, size_t len)
{
	struct lbx_secret	 s;

	s.p = (unsigned char *)(uintptr_t)p;
	s.len = len;
	return s;
}

static void
test_raw(void)
{
	static const struct {
		const char	*in;
		const char	*out;
	} rows[] = {
		{ "abc123", "abc123" },
		{ "J2Hk7oXx0bq9LrYz3sWd1uVfA4cTn6eQm8pGiE5y", "J2Hk7oXx0bq9LrYz3sWd1uVfA4cTn6eQm8pGiE5y" },
		{ "", NULL },
		{ "a b", NULL },
		{ "a\x01", NULL },
		{ "\xc3\xa9", NULL },
		{ "a'b;--", "a'b;--" },	/* bound as a value: harmless */
	};
	char	 sid[LBX_SID_MAX + 1], big[LBX_SID_MAX + 2];
	size_t	 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum lbauth_err rc = lbx_sid_raw(rows[i].in, strlen(rows[i].in),
		    sid);

		test_assert_idx((rc == LBAUTH_OK) == (rows[i].out != NULL), i);
		if (rc == LBAUTH_OK && rows[i].out != NULL)
			test_assert_idx(strcmp(sid, rows[i].out) == 0, i);
	}
	memset(big, 'a', sizeof(big));
	test_assert(lbx_sid_raw(big, LBX_SID_MAX, sid) == LBAUTH_OK);
	test_assert(lbx_sid_raw(big, LBX_SID_MAX + 1, sid) == LBAUTH_ESID);
}

static void
test_express(void)
{
	struct lbx_secret	 s[2];
	char			 sid[LBX_SID_MAX + 1];
	size_t			 i;

	s[0] = secret(EXPRESS_SECRET_A, strlen(EXPRESS_SECRET_A));
	s[1] = secret(EXPRESS_SECRET_B, strlen(EXPRESS_SECRET_B));
	for (i = 0; i < sizeof(express_vectors) / sizeof(express_vectors[0]);
	    i++) {
		const char *v = express_vectors[i].value;
		enum lbauth_err rc = lbx_sid_express(v, strlen(v), s, 2, sid);

		if (express_vectors[i].sid == NULL) {
			test_assert_idx(rc == LBAUTH_ESID, i);
			continue;
		}
		test_assert_idx(rc == LBAUTH_OK, i);
		test_assert_idx(rc == LBAUTH_OK &&
		    strcmp(sid, express_vectors[i].sid) == 0, i);
		/* Only under the secret that signed it. */
		if (strstr(express_vectors[i].comment, "secret B") != NULL)
			test_assert_idx(lbx_sid_express(v, strlen(v), s, 1,
			    sid) == LBAUTH_ESID, i);
	}
}

/* The cipher of a laravel vector row, by config/app.php's name. */
static enum lbx_lvcipher
row_cipher(const char *name)
{
	static const char *const names[] = { "AES-256-CBC", "AES-128-CBC",
	    "AES-256-GCM", "AES-128-GCM" };
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return (enum lbx_lvcipher)i;
	abort();
}

static void
test_laravel(void)
{
	static const char *const b64[] = { LARAVEL_KEY1, LARAVEL_KEY2,
	    LARAVEL_KEY1_16, LARAVEL_KEY2_16 };
	unsigned char		 k[4][32];
	struct lbx_secret	 s32[2], s16[2];
	const struct lbx_secret	*s;
	char			 sid[LBX_SID_MAX + 1], err[256];
	size_t			 i, n;
	int			 c, other;

	test_assert(lbx_ossl_load(err, sizeof(err)) == LBAUTH_OK);
	for (i = 0; i < 4; i++)
		test_assert_idx(sodium_base642bin(k[i], sizeof(k[i]), b64[i],
		    strlen(b64[i]), NULL, &n, NULL,
		    sodium_base64_VARIANT_ORIGINAL) == 0 && n == (i < 2 ? 32 :
		    16), i);
	s32[0] = secret(k[0], 32);
	s32[1] = secret(k[1], 32);
	s16[0] = secret(k[2], 16);
	s16[1] = secret(k[3], 16);
	test_assert(lbx_lvcipher_keylen(LBX_LV_AES_256_CBC) == 32 &&
	    lbx_lvcipher_keylen(LBX_LV_AES_128_CBC) == 16 &&
	    lbx_lvcipher_keylen(LBX_LV_AES_256_GCM) == 32 &&
	    lbx_lvcipher_keylen(LBX_LV_AES_128_GCM) == 16);
	for (i = 0; i < sizeof(laravel_vectors) / sizeof(laravel_vectors[0]);
	    i++) {
		const char *v = laravel_vectors[i].value;
		enum lbauth_err rc;

		c = row_cipher(laravel_vectors[i].cipher);
		s = lbx_lvcipher_keylen(c) == 32 ? s32 : s16;
		rc = lbx_sid_laravel(v, strlen(v), LARAVEL_COOKIE, c, s, 2,
		    sid);
		if (laravel_vectors[i].sid == NULL) {
			test_assert_idx(rc == LBAUTH_ESID, i);
			continue;
		}
		test_assert_idx(rc == LBAUTH_OK &&
		    strcmp(sid, laravel_vectors[i].sid) == 0, i);
		/* The prefix binds the value to the cookie's name. */
		test_assert_idx(lbx_sid_laravel(v, strlen(v), "other_cookie",
		    c, s, 2, sid) == LBAUTH_ESID, i);
		if (strstr(laravel_vectors[i].comment, "previous") != NULL)
			test_assert_idx(lbx_sid_laravel(v, strlen(v),
			    LARAVEL_COOKIE, c, s, 1, sid) == LBAUTH_ESID, i);
		/* The cipher is pinned: no other one reads the cookie. */
		for (other = 0; other <= LBX_LV_AES_128_GCM; other++)
			if (other != c)
				test_assert_idx(lbx_sid_laravel(v, strlen(v),
				    LARAVEL_COOKIE, other,
				    lbx_lvcipher_keylen(other) == 32 ? s32 :
				    s16, 2, sid) == LBAUTH_ESID, i);
	}
}

/* Writes text to a new 0600 file (mode) in a temporary folder. */
static void
put(const char *path, const char *text, size_t len, mode_t mode)
{
	int	 fd;

	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)) == -1 ||
	    write(fd, text, len) != (ssize_t)len || close(fd) == -1)
		abort();
	chmod(path, mode);
}

/* Session secrets and connect strings from key files (keyfile.c). */
static void
test_secret_files(void)
{
	static const struct {
		enum lbx_sidfmt	 fmt;
		size_t		 keylen;	/* laravel's */
		const char	*text;
		size_t		 len;	/* 0: strlen */
		mode_t		 mode;
		size_t		 want;	/* secret length; 0: refused */
	} rows[] = {
		{ LBX_SID_EXPRESS, 0, "keyboard cat\n", 0, 0600, 12 },
		/* Only one newline goes: the secret may end in blanks. */
		{ LBX_SID_EXPRESS, 0, "cat \n\n", 0, 0600, 5 },
		{ LBX_SID_EXPRESS, 0, "keyboard cat", 0, 0644, 0 },
		{ LBX_SID_EXPRESS, 0, "\n", 0, 0600, 0 },
		{ LBX_SID_LARAVEL, 32, "base64:" LARAVEL_KEY1 "\n", 0, 0600, 32 },
		{ LBX_SID_LARAVEL, 32, "base64:" LARAVEL_KEY1, 0, 0600, 32 },
		{ LBX_SID_LARAVEL, 32, "0123456789abcdef0123456789abcdef", 0, 0600,
		    32 },
		/* The key itself and its newline (echo "$APP_KEY" > file). */
		{ LBX_SID_LARAVEL, 32, "0123456789abcdef0123456789abcdef\n", 0,
		    0600, 32 },
		{ LBX_SID_LARAVEL, 32, "0123456789abcdef0123456789abcd\n", 0,
		    0600, 0 },
		{ LBX_SID_LARAVEL, 16, "0123456789abcdef\n", 0, 0600, 16 },
		{ LBX_SID_LARAVEL, 32, "base64:AAAA\n", 0, 0600, 0 },
		{ LBX_SID_LARAVEL, 32, "not a key\n", 0, 0600, 0 },
		/* AES-128: 16 bytes, and a 32-byte key is not one. */
		{ LBX_SID_LARAVEL, 16, "base64:" LARAVEL_KEY1_16 "\n", 0, 0600,
		    16 },
		{ LBX_SID_LARAVEL, 16, "0123456789abcdef", 0, 0600, 16 },
		{ LBX_SID_LARAVEL, 16, "base64:" LARAVEL_KEY1 "\n", 0, 0600, 0 },
		{ LBX_SID_LARAVEL, 32, "base64:" LARAVEL_KEY1_16 "\n", 0, 0600,
		    0 },
		{ LBX_SID_RAW, 0, "host=h password=p\n\n", 0, 0600, 17 },
		{ LBX_SID_RAW, 0, "a\0b\n", 4, 0600, 0 },
	};
	struct lbx_secret	 s;
	char			 dir[] = "/tmp/test-sid-XXXXXX", path[64];
	char			 err[256];
	size_t			 i;
	enum lbauth_err		 rc;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/secret", dir);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		put(path, rows[i].text, rows[i].len != 0 ? rows[i].len :
		    strlen(rows[i].text), rows[i].mode);
		rc = lbx_keyfile_session_secret(path, rows[i].fmt,
		    rows[i].keylen, &s, err, sizeof(err));
		if (rows[i].want == 0) {
			test_assert_idx(rc == LBAUTH_EKEYFILE, i);
			test_assert_idx(strstr(err, path) != NULL, i);
			test_assert_idx(s.p == NULL, i);
			continue;
		}
		test_assert_idx(rc == LBAUTH_OK && s.len == rows[i].want, i);
		lbx_keyfile_secret_clear(&s);
		test_assert_idx(s.p == NULL && s.len == 0, i);
	}
	unlink(path);
	rmdir(dir);
}

int
main(void)
{

	if (sodium_init() < 0)
		return 1;
	test_raw();
	test_express();
	test_laravel();
	test_secret_files();
	return test_done();
}
