/*
 * test-signin.c: lib/signin.c, the session cookie minter of "lbauthctl
 * cookie" and demo/login.  The cookie it mints is read back by
 * cookie.c as lbauth reads it (HS256 and EdDSA), its payload holds the
 * claims in the documented order with iss and aud from the config, and
 * an -i that is not a JSON object is refused.
 */
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"

#define NOW	1700000000

/* The payload JSON of the compact JWS tok, into p (size bytes). */
static int
payload(const char *tok, char *p, size_t size)
{
	const char	*a = strchr(tok, '.'), *b;
	size_t		 n;

	if (a == NULL || (b = strchr(a + 1, '.')) == NULL ||
	    lbx_b64url_decode((unsigned char *)p, size - 1, &n, a + 1,
	    (size_t)(b - a - 1)) != LBAUTH_OK)
		return -1;
	p[n] = '\0';
	return 0;
}

int
main(void)
{
	struct lbauth_conf	 c;
	struct lbauth_user	 u;
	struct lbx_claims_rules	 rules;
	struct lbx_signin	 in;
	struct lbx_key		 hs, ed, edpub;
	struct lbx_buf		 tok, hdr;
	unsigned char		 seed[32];
	const char		*reason, *conf;
	char			 err[256], p[2048];

	if (sodium_init() < 0)
		return 1;
	memset(seed, 's', sizeof(seed));
	test_assert(lbx_key_hs256(&hs, seed, sizeof(seed), &reason) ==
	    LBAUTH_OK);
	test_assert(lbx_key_ed25519_seed(&ed, seed) == LBAUTH_OK);
	test_assert(lbx_key_ed25519_pk(&edpub, ed.pk) == LBAUTH_OK);
	conf = "cookie_issuer = https://app\ncookie_audience = lb\"x\n";
	test_assert(lbx_conf_parse(&c, "/x.conf", conf, strlen(conf), err,
	    sizeof(err)) == LBAUTH_OK);
	lbx_buf_init(&tok);
	lbx_buf_init(&hdr);

	/* Every claim, in order. */
	memset(&in, 0, sizeof(in));
	in.sub = "u\"1";
	in.org = "acme";
	in.groups = "g1,g2";
	in.rooms = "acme:*,r1";
	in.name = "Ada";
	in.avatar = "https://x/a.png";
	in.info = "{\"b\":1, \"1\":[true]}";
	in.ttl = 600;
	test_assert(lbx_signin_cookie(&tok, &in, &c, &hs, NOW) == LBAUTH_OK);
	test_assert(payload(tok.p, p, sizeof(p)) == 0 && strcmp(p,
	    "{\"sub\":\"u\\\"1\",\"iat\":1700000000,\"exp\":1700000600,"
	    "\"iss\":\"https://app\",\"aud\":\"lb\\\"x\",\"org\":\"acme\","
	    "\"groups\":[\"g1\",\"g2\"],\"rooms\":[\"acme:*\",\"r1\"],"
	    "\"name\":\"Ada\",\"avatar\":\"https://x/a.png\",\"info\":"
	    "{\"1\":[true],\"b\":1}}") == 0);
	lbx_jwt_header(&hdr, &hs);
	test_assert(strncmp(tok.p, hdr.p, hdr.len) == 0 &&
	    tok.p[hdr.len] == '.');

	/* lbauth takes it: cookie.c verifies and reads it. */
	rules.now = NOW + 1;
	rules.skew = 0;
	rules.issuer = "https://app";
	rules.audience = "lb\"x";
	lbx_buf_reset(&hdr);
	lbx_buf_puts(&hdr, "other=1; session=");
	lbx_buf_puts(&hdr, tok.p);
	lbx_user_init(&u);
	test_assert(lbx_cookie_verify(&u, hdr.p, "session", &hs, &rules,
	    &reason) == LBAUTH_OK);
	test_assert(u.id != NULL && strcmp(u.id, "u\"1") == 0 &&
	    u.org != NULL && strcmp(u.org, "acme") == 0 &&
	    lbauth_user_ngroups(&u) == 2 && lbauth_user_may_enter(&u, "r1"));
	lbx_user_clear(&u);
	/* ... until it expires. */
	rules.now = NOW + 600;
	lbx_user_init(&u);
	test_assert(lbx_cookie_verify(&u, hdr.p, "session", &hs, &rules,
	    &reason) == LBAUTH_EEXPIRED);
	lbx_user_clear(&u);

	/* Only what is given; an EdDSA key signs with its kid. */
	memset(&in, 0, sizeof(in));
	in.sub = "u2";
	in.ttl = 60;
	lbx_buf_reset(&tok);
	test_assert(lbx_signin_cookie(&tok, &in, &c, &ed, NOW) == LBAUTH_OK);
	test_assert(payload(tok.p, p, sizeof(p)) == 0 && strcmp(p,
	    "{\"sub\":\"u2\",\"iat\":1700000000,\"exp\":1700000060,"
	    "\"iss\":\"https://app\",\"aud\":\"lb\\\"x\"}") == 0);
	rules.now = NOW;
	lbx_buf_reset(&hdr);
	lbx_buf_puts(&hdr, "session=");
	lbx_buf_puts(&hdr, tok.p);
	lbx_user_init(&u);
	test_assert(lbx_cookie_verify(&u, hdr.p, "session", &edpub, &rules,
	    &reason) == LBAUTH_OK);
	lbx_user_clear(&u);
	/* The HS256 key does not verify an EdDSA cookie (alg pinned). */
	lbx_user_init(&u);
	test_assert(lbx_cookie_verify(&u, hdr.p, "session", &hs, &rules,
	    &reason) != LBAUTH_OK);
	lbx_user_clear(&u);

	/* An empty list is an empty array. */
	in.groups = "";
	lbx_buf_reset(&tok);
	test_assert(lbx_signin_cookie(&tok, &in, &c, &hs, NOW) == LBAUTH_OK);
	test_assert(payload(tok.p, p, sizeof(p)) == 0 &&
	    strstr(p, ",\"groups\":[]}") != NULL);

	/* info must be a JSON object; nothing is minted otherwise. */
	in.groups = NULL;
	in.info = "[1]";
	lbx_buf_reset(&tok);
	test_assert(lbx_signin_cookie(&tok, &in, &c, &hs, NOW) ==
	    LBAUTH_ECLAIM && tok.len == 0);
	in.info = "{\"a\":";
	test_assert(lbx_signin_cookie(&tok, &in, &c, &hs, NOW) ==
	    LBAUTH_ECLAIM && tok.len == 0);

	/* Without cookie_issuer/cookie_audience: no iss, no aud. */
	lbx_conf_clear(&c);
	test_assert(lbx_conf_parse(&c, "/x.conf", "", 0, err, sizeof(err)) ==
	    LBAUTH_OK);
	in.info = NULL;
	lbx_buf_reset(&tok);
	test_assert(lbx_signin_cookie(&tok, &in, &c, &hs, NOW) == LBAUTH_OK);
	test_assert(payload(tok.p, p, sizeof(p)) == 0 && strcmp(p,
	    "{\"sub\":\"u2\",\"iat\":1700000000,\"exp\":1700000060}") == 0);

	lbx_conf_clear(&c);
	lbx_buf_clear(&tok);
	lbx_buf_clear(&hdr);
	lbx_key_clear(&hs);
	lbx_key_clear(&ed);
	lbx_key_clear(&edpub);
	return test_done();
}
