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
#include <string.h>

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

static void
test_laravel(void)
{
	unsigned char		 k1[32], k2[32];
	struct lbx_secret	 s[2];
	char			 sid[LBX_SID_MAX + 1], err[256];
	size_t			 i, n;

	test_assert(lbx_ossl_load(err, sizeof(err)) == LBAUTH_OK);
	test_assert(sodium_base642bin(k1, sizeof(k1), LARAVEL_KEY1,
	    strlen(LARAVEL_KEY1), NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) == 0 && n == 32);
	test_assert(sodium_base642bin(k2, sizeof(k2), LARAVEL_KEY2,
	    strlen(LARAVEL_KEY2), NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) == 0 && n == 32);
	s[0] = secret(k1, 32);
	s[1] = secret(k2, 32);
	for (i = 0; i < sizeof(laravel_vectors) / sizeof(laravel_vectors[0]);
	    i++) {
		const char *v = laravel_vectors[i].value;
		enum lbauth_err rc = lbx_sid_laravel(v, strlen(v),
		    LARAVEL_COOKIE, s, 2, sid);

		if (laravel_vectors[i].sid == NULL) {
			test_assert_idx(rc == LBAUTH_ESID, i);
			continue;
		}
		test_assert_idx(rc == LBAUTH_OK &&
		    strcmp(sid, laravel_vectors[i].sid) == 0, i);
		/* The prefix binds the value to the cookie's name. */
		test_assert_idx(lbx_sid_laravel(v, strlen(v), "other_cookie",
		    s, 2, sid) == LBAUTH_ESID, i);
		if (strstr(laravel_vectors[i].comment, "previous") != NULL)
			test_assert_idx(lbx_sid_laravel(v, strlen(v),
			    LARAVEL_COOKIE, s, 1, sid) == LBAUTH_ESID, i);
	}
}

int
main(void)
{

	if (sodium_init() < 0)
		return 1;
	test_raw();
	test_express();
	test_laravel();
	return test_done();
}
