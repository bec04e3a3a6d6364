/*
 * test-verify.c: lib/verify.c, the one checker of lbauth's own tokens:
 * the public verifier over a JWKS (lbauth_verifier_new(),
 * lbauth_token_verify()) and lbx_verify_token() under it, which
 * "lbauthctl verify -c" calls with the config's keys.  Tokens are
 * signed here with jwt.c; every rule is shown to refuse: alg pinned to
 * EdDSA, the kid names the key, the signature, and the one exp rule (a
 * JSON number after now; a string, a missing exp or exp == now fail).
 */
#include <stdlib.h>
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"

#define NOW	1700000000

static struct lbx_key	 keys[18];	/* Ed25519, from fixed seeds */

/* Signs payload with k under the header JSON hdr (NULL: k's own). */
static void
sign(struct lbx_buf *tok, const struct lbx_key *k, const char *hdr,
    const char *payload)
{
	struct lbx_buf	 h;

	lbx_buf_init(&h);
	if (hdr == NULL)
		lbx_jwt_header(&h, k);
	else
		lbx_buf_b64url(&h, hdr, strlen(hdr));
	lbx_buf_reset(tok);
	lbx_jwt_sign(tok, h.p, h.len, payload, strlen(payload), k);
	lbx_buf_clear(&h);
}

/* The JWKS of keys[from..to), as "lbauthctl jwks" writes it. */
static void
jwks(struct lbx_buf *b, size_t from, size_t to)
{
	size_t	 i;

	lbx_buf_reset(b);
	lbx_buf_puts(b, "{\"keys\":[");
	for (i = from; i < to; i++) {
		if (i > from)
			lbx_buf_putc(b, ',');
		lbx_key_jwk(b, &keys[i]);
	}
	lbx_buf_puts(b, "]}");
}

/* A payload and what the checker must say of it, signed by keys[0]. */
static const struct {
	const char	*payload;
	enum lbauth_err	 rc;
} exps[] = {
	{ "{\"k\":\"acc\",\"exp\":1700000001}", LBAUTH_OK },
	{ "{\"exp\":1700000000.5}", LBAUTH_OK },
	{ "{\"exp\":1.8e9}", LBAUTH_OK },
	{ "{\"exp\":1700000000}", LBAUTH_EEXPIRED },	/* == now */
	{ "{\"exp\":1699999999}", LBAUTH_EEXPIRED },
	{ "{\"exp\":\"1800000000\"}", LBAUTH_EEXPIRED },	/* typed */
	{ "{\"exp\":true}", LBAUTH_EEXPIRED },
	{ "{\"exp\":null}", LBAUTH_EEXPIRED },
	{ "{\"uid\":\"u1\"}", LBAUTH_EEXPIRED },		/* none */
	{ "[1800000000]", LBAUTH_ETOKEN },		/* not an object */
	{ "{\"exp\":1800000000", LBAUTH_ETOKEN },	/* not JSON */
};

int
main(void)
{
	struct lbauth_verifier	*v = NULL, *v16 = NULL;
	struct json_object	*claims;
	struct lbx_key		 hs;
	struct lbx_buf		 tok, set;
	unsigned char		 seed[32];
	const char		*reason;
	char			*payload;
	size_t			 i, j;

	if (sodium_init() < 0)
		return 1;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		for (j = 0; j < sizeof(seed); j++)
			seed[j] = (unsigned char)(j == 0 ? i : 0x40 + j);
		test_assert_idx(lbx_key_ed25519_seed(&keys[i], seed) ==
		    LBAUTH_OK, i);
	}
	memset(seed, 'h', sizeof(seed));
	test_assert(lbx_key_hs256(&hs, seed, sizeof(seed), &reason) ==
	    LBAUTH_OK);
	lbx_buf_init(&tok);
	lbx_buf_init(&set);

	/* The JWKS of keys 0 and 1, with keys of other types skipped. */
	jwks(&set, 0, 2);
	set.len -= 2;
	lbx_buf_puts(&set, ",{\"kty\":\"RSA\",\"n\":\"x\",\"e\":\"AQAB\"},"
	    "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AAAA\"},"
	    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"short\"},7]}");
	test_assert(lbauth_verifier_new(set.p, set.len, &v) == LBAUTH_OK);
	test_assert(v != NULL);
	if (v == NULL)
		return test_done();

	/* The exp rule, through both entry points. */
	for (i = 0; i < sizeof(exps) / sizeof(exps[0]); i++) {
		sign(&tok, &keys[0], NULL, exps[i].payload);
		payload = NULL;
		test_assert_idx(lbauth_token_verify(v, tok.p, tok.len, NOW,
		    &payload) == exps[i].rc, i);
		test_assert_idx((payload != NULL) == (exps[i].rc == LBAUTH_OK),
		    i);
		free(payload);
		claims = NULL;
		test_assert_idx(lbx_verify_token(keys, 2, tok.p, tok.len, NOW,
		    &claims) == exps[i].rc, i);
		test_assert_idx((claims != NULL) == (exps[i].rc == LBAUTH_OK),
		    i);
		json_object_put(claims);
	}
	/* The payload handed back is the token's, as plain JSON. */
	sign(&tok, &keys[1], NULL, "{\"uid\":\"a/b\",\"exp\":1800000000}");
	test_assert(lbauth_token_verify(v, tok.p, tok.len, NOW, &payload) ==
	    LBAUTH_OK);
	test_assert(payload != NULL &&
	    strcmp(payload, "{\"uid\":\"a/b\",\"exp\":1800000000}") == 0);
	free(payload);

	/* A key not in the set; a kid naming another key; no kid. */
	sign(&tok, &keys[2], NULL, "{\"exp\":1800000000}");
	test_assert(lbauth_token_verify(v, tok.p, tok.len, NOW, &payload) ==
	    LBAUTH_ESIG && payload == NULL);
	{
		char	 hdr[160];

		snprintf(hdr, sizeof(hdr), "{\"alg\":\"EdDSA\",\"typ\":\"JWT\","
		    "\"kid\":\"%s\"}", keys[1].kid);
		sign(&tok, &keys[0], hdr, "{\"exp\":1800000000}");
		test_assert(lbauth_token_verify(v, tok.p, tok.len, NOW,
		    &payload) == LBAUTH_ESIG);
		test_assert(lbx_verify_token(keys, 2, tok.p, tok.len, NOW,
		    &claims) == LBAUTH_ESIG && claims == NULL);
	}
	sign(&tok, &keys[1], "{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}",
	    "{\"exp\":1800000000}");
	test_assert(lbauth_token_verify(v, tok.p, tok.len, NOW, &payload) ==
	    LBAUTH_OK);
	free(payload);
	/* A tampered signature. */
	sign(&tok, &keys[0], NULL, "{\"exp\":1800000000}");
	tok.p[tok.len - 2] = tok.p[tok.len - 2] == 'A' ? 'B' : 'A';
	test_assert(lbauth_token_verify(v, tok.p, tok.len, NOW, &payload) ==
	    LBAUTH_ESIG);
	/* alg is pinned: an HS256 token is refused before any key. */
	sign(&tok, &hs, NULL, "{\"exp\":1800000000}");
	test_assert(lbauth_token_verify(v, tok.p, tok.len, NOW, &payload) ==
	    LBAUTH_EALG);
	/* Not a JWS at all. */
	test_assert(lbauth_token_verify(v, "a.b", 3, NOW, &payload) ==
	    LBAUTH_ETOKEN && payload == NULL);
	/* No keys: nothing verifies. */
	sign(&tok, &keys[0], NULL, "{\"exp\":1800000000}");
	test_assert(lbx_verify_token(keys, 0, tok.p, tok.len, NOW, &claims) ==
	    LBAUTH_ESIG);
	lbauth_verifier_free(v);

	/* Documents that are not a usable JWKS. */
	v = NULL;
	test_assert(lbauth_verifier_new("{}", 2, &v) == LBAUTH_EKEYFILE &&
	    v == NULL);
	test_assert(lbauth_verifier_new("{\"keys\":{}}", 11, &v) ==
	    LBAUTH_EKEYFILE);
	test_assert(lbauth_verifier_new("{\"keys\":[]}", 11, &v) ==
	    LBAUTH_EKEYFILE);
	test_assert(lbauth_verifier_new("{\"keys\":[{\"kty\":\"RSA\"}]}", 24,
	    &v) == LBAUTH_EKEYFILE);
	test_assert(lbauth_verifier_new("not json", 8, &v) ==
	    LBAUTH_EKEYFILE && v == NULL);

	/* At most 16 keys are taken from a JWKS: the 17th is not known. */
	jwks(&set, 0, 17);
	test_assert(lbauth_verifier_new(set.p, set.len, &v16) == LBAUTH_OK);
	sign(&tok, &keys[15], NULL, "{\"exp\":1800000000}");
	test_assert(lbauth_token_verify(v16, tok.p, tok.len, NOW, &payload) ==
	    LBAUTH_OK);
	free(payload);
	sign(&tok, &keys[16], NULL, "{\"exp\":1800000000}");
	test_assert(lbauth_token_verify(v16, tok.p, tok.len, NOW, &payload) ==
	    LBAUTH_ESIG);
	/* ... while lbx_verify_token() takes the whole list it is given. */
	test_assert(lbx_verify_token(keys, 17, tok.p, tok.len, NOW, &claims) ==
	    LBAUTH_OK);
	json_object_put(claims);
	lbauth_verifier_free(v16);
	lbauth_verifier_free(NULL);

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		lbx_key_clear(&keys[i]);
	lbx_key_clear(&hs);
	lbx_buf_clear(&tok);
	lbx_buf_clear(&set);
	return test_done();
}
