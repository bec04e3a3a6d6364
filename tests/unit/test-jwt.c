/*
 * test-jwt.c: lib/jwt.c, compact JWS with the algorithm pinned by the
 * caller (RFC 7515, RFC 8725 section 3.1).  Golden vectors from RFC 7515
 * appendix A.1 (HS256) and RFC 8037 appendix A (Ed25519), then every
 * refusal with its exact error, then sign/parse/verify round trips.
 */
#include <stdlib.h>
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"

/* RFC 7515 appendix A.1: the JWS using HMAC SHA-256 and its JWK "k". */
static const char rfc7515_a1_tok[] =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
static const char rfc7515_a1_k[] =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4h"
    "cgUuTwjAzZr1Z9CAow";

/* RFC 8037 appendix A.1 (private d), A.2 (public x), A.3, A.4. */
static const char rfc8037_d[] = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
static const char rfc8037_x[] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
static const char rfc8037_kid[] =
    "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
static const char rfc8037_hdr[] = "eyJhbGciOiJFZERTQSJ9";	/* {"alg":"EdDSA"} */
static const char rfc8037_payload[] = "Example of Ed25519 signing";
static const char rfc8037_tok[] =
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    ".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5B"
    "hVsPt9g7sVvpAr_MuM0KAg";

static struct lbx_key	 hs, ed, hs2;

/*
 * Builds "b64(hdr).b64(payload).sig" into b: with sig == NULL the part
 * is a real signature by key (hs or ed), else sig is used as written.
 */
static void
mk(struct lbx_buf *b, const char *hdr, const char *payload, const char *sig,
    const struct lbx_key *key)
{
	struct lbx_buf	 h;

	lbx_buf_reset(b);
	lbx_buf_init(&h);
	lbx_buf_b64url(&h, hdr, strlen(hdr));
	if (sig == NULL)
		lbx_jwt_sign(b, h.p, h.len, payload, strlen(payload), key);
	else {
		lbx_buf_put(b, h.p, h.len);
		lbx_buf_putc(b, '.');
		lbx_buf_b64url(b, payload, strlen(payload));
		lbx_buf_putc(b, '.');
		lbx_buf_puts(b, sig);
	}
	lbx_buf_clear(&h);
}

#define HS	LBX_ALG_HS256
#define ED	LBX_ALG_EDDSA
#define P	"{\"sub\":\"u\"}"
#define SIG31	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"	/* 31 bytes */
#define SIG32	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"	/* 32 bytes */

/* Built tokens: header, then the signing key, pinned alg, result. */
static const struct {
	const char	*hdr;
	const char	*sig;	/* NULL: sign with key */
	int		 signer;	/* HS or ED */
	enum lbx_alg	 pin;
	enum lbauth_err	 want;
} hdrs[] = {
	{ "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", NULL, HS, HS, LBAUTH_OK },
	{ "{\"alg\":\"HS256\"}", NULL, HS, HS, LBAUTH_OK },	/* no typ */
	{ "{\"alg\":\"HS256\",\"typ\":\"jwt\"}", NULL, HS, HS, LBAUTH_OK },
	{ "{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}", NULL, ED, ED, LBAUTH_OK },
	{ "{\"alg\":\"none\"}", "", HS, HS, LBAUTH_ETOKEN },	/* empty sig part */
	{ "{\"alg\":\"none\"}", SIG32, HS, HS, LBAUTH_EALG },	/* none */
	{ "{\"alg\":\"none\"}", SIG32, HS, ED, LBAUTH_EALG },
	{ "{\"alg\":\"HS256\"}", NULL, HS, ED, LBAUTH_EALG },	/* HS256 as EdDSA */
	{ "{\"alg\":\"EdDSA\"}", NULL, ED, HS, LBAUTH_EALG },	/* EdDSA as HS256 */
	{ "{\"typ\":\"JWT\"}", NULL, HS, HS, LBAUTH_EALG },	/* alg missing */
	{ "{\"alg\":\"hs256\"}", NULL, HS, HS, LBAUTH_EALG },	/* case */
	{ "{\"alg\":\"eddsa\"}", NULL, ED, ED, LBAUTH_EALG },	/* case */
	{ "{\"alg\":\"HS256 \"}", NULL, HS, HS, LBAUTH_EALG },	/* blank */
	{ "{\"alg\":\"HS256\\u0000\"}", NULL, HS, HS, LBAUTH_EALG }, /* NUL */
	{ "{\"alg\":\"HS512\"}", NULL, HS, HS, LBAUTH_EALG },	/* another */
	{ "{\"alg\":\"ES256\"}", NULL, ED, ED, LBAUTH_EALG },	/* another */
	{ "{\"alg\":256}", NULL, HS, HS, LBAUTH_EALG },		/* a number */
	{ "{\"alg\":[\"HS256\"]}", NULL, HS, HS, LBAUTH_EALG },	/* an array */
	/*
	 * A member name twice (issue 12): refused whichever value comes
	 * last, since another JOSE parser may keep the first (a parser
	 * differential); RFC 7515 section 5.2 allows refusing.
	 */
	{ "{\"alg\":\"none\",\"alg\":\"HS256\"}", NULL, HS, HS, LBAUTH_ETOKEN },
	{ "{\"alg\":\"HS256\",\"alg\":\"none\"}", NULL, HS, HS, LBAUTH_ETOKEN },
	{ "{\"alg\":\"HS256\",\"alg\":\"HS256\"}", NULL, HS, HS,
	    LBAUTH_ETOKEN },					/* same value */
	{ "{\"alg\":\"HS256\",\"\\u0061lg\":\"HS256\"}", NULL, HS, HS,
	    LBAUTH_ETOKEN },					/* escaped */
	{ "{\"alg\":\"EdDSA\",\"kid\":\"a\",\"kid\":\"b\"}", NULL, ED, ED,
	    LBAUTH_ETOKEN },					/* kid */
	{ "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"typ\":\"x\"}", NULL, HS, HS,
	    LBAUTH_ETOKEN },
	{ "{\"alg\":\"HS256\",\"x\":{\"a\":1,\"a\":1}}", NULL, HS, HS,
	    LBAUTH_ETOKEN },					/* nested */
	{ "{\"alg\":\"HS256\",\"typ\":\"Jwt\"}", NULL, HS, HS, LBAUTH_OK },
	{ "{\"alg\":\"HS256\",\"typ\":\"JOSE+JSON\"}", NULL, HS, HS,
	    LBAUTH_ETOKEN },					/* typ */
	{ "{\"alg\":\"HS256\",\"typ\":\"JOSE\"}", NULL, HS, HS, LBAUTH_ETOKEN },
	{ "{\"alg\":\"HS256\",\"typ\":\"JWTX\"}", NULL, HS, HS, LBAUTH_ETOKEN },
	{ "{\"alg\":\"HS256\",\"typ\":\"JW\"}", NULL, HS, HS, LBAUTH_ETOKEN },
	{ "{\"alg\":\"HS256\",\"typ\":\"JWT\\u0000x\"}", NULL, HS, HS,
	    LBAUTH_ETOKEN },					/* typ + NUL */
	{ "{\"alg\":\"HS256\",\"typ\":1}", NULL, HS, HS, LBAUTH_ETOKEN },
	{ "{\"alg\":\"HS256\",\"typ\":null}", NULL, HS, HS, LBAUTH_ETOKEN },
	{ "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", NULL, HS, HS,
	    LBAUTH_ETOKEN },					/* crit */
	{ "{\"alg\":\"HS256\",\"crit\":[]}", NULL, HS, HS, LBAUTH_ETOKEN },
	{ "{\"alg\":\"EdDSA\",\"crit\":null}", NULL, ED, ED, LBAUTH_ETOKEN },
	{ "[\"HS256\"]", NULL, HS, HS, LBAUTH_ETOKEN },		/* not an object */
	{ "\"HS256\"", NULL, HS, HS, LBAUTH_ETOKEN },
	{ "{\"alg\":\"HS256\"", NULL, HS, HS, LBAUTH_ETOKEN },	/* not JSON */
	{ "{\"alg\":\"HS256\"} x", NULL, HS, HS, LBAUTH_ETOKEN },
	{ "{'alg':'HS256'}", NULL, HS, HS, LBAUTH_ETOKEN },
	{ "{\"alg\":\"HS256\"}", SIG31, HS, HS, LBAUTH_ESIG },	/* 31 bytes */
	{ "{\"alg\":\"HS256\"}", SIG32 "A", HS, HS, LBAUTH_ESIG }, /* 33 */
	{ "{\"alg\":\"EdDSA\"}", SIG32, ED, ED, LBAUTH_ESIG },	/* 32 for EdDSA */
	{ "{\"alg\":\"HS256\"}", SIG32 "=", HS, HS, LBAUTH_ESIG }, /* padded */
	{ "{\"alg\":\"HS256\"}", "AAAA+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    HS, HS, LBAUTH_ESIG },				/* '+' */
};

/* Raw token strings and the error for each (HS256 pinned). */
static const struct {
	const char	*tok;
	enum lbauth_err	 want;
} raw[] = {
	{ "", LBAUTH_ETOKEN },					/* empty */
	{ "eyJhbGciOiJIUzI1NiJ9.e30", LBAUTH_ETOKEN },		/* 2 parts */
	{ "eyJhbGciOiJIUzI1NiJ9", LBAUTH_ETOKEN },		/* 1 part */
	{ "eyJhbGciOiJIUzI1NiJ9.e30." SIG32 ".x", LBAUTH_ETOKEN }, /* 4 parts */
	{ "eyJhbGciOiJIUzI1NiJ9.e30." SIG32 ".", LBAUTH_ETOKEN }, /* trailing dot */
	{ "..", LBAUTH_ETOKEN },				/* all empty */
	{ ".e30." SIG32, LBAUTH_ETOKEN },			/* empty header */
	{ "eyJhbGciOiJIUzI1NiJ9.." SIG32, LBAUTH_ETOKEN },	/* empty payload */
	{ "eyJhbGciOiJIUzI1NiJ9.e30.", LBAUTH_ETOKEN },		/* empty sig */
	{ "eyJhbGciOiJIUzI1NiJ9=.e30." SIG32, LBAUTH_ETOKEN },	/* padded header */
	{ "eyJhbGciOiJIUzI1N+J9.e30." SIG32, LBAUTH_ETOKEN },	/* '+' */
	{ "eyJhbGci OiJIUzI1NiJ9.e30." SIG32, LBAUTH_ETOKEN },	/* blank */
	{ "eyJhbGciOiJIUzI1NiJ.e30." SIG32, LBAUTH_ETOKEN },	/* trailing bits */
	{ "eyJhbGciOiJIUzI1NiJ9X.e30." SIG32, LBAUTH_ETOKEN },	/* len % 4 == 1 */
	{ "bm90IGpzb24.e30." SIG32, LBAUTH_ETOKEN },		/* "not json" */
};

int
main(void)
{
	unsigned char		 k[64], seed[32], x[32];
	struct lbx_jwt		 jwt;
	struct lbx_buf		 b, t;
	struct json_object	*claims, *v;
	const char		*reason, *s;
	const struct lbx_key	*key;
	char			*big;
	size_t			 n, i;
	enum lbauth_err		 rc;

	if (sodium_init() < 0)
		return 1;
	lbx_buf_init(&b);
	lbx_buf_init(&t);

	/* --- RFC 7515 A.1: HS256 with the JWK's "k". */
	test_assert(lbx_b64url_decode(k, sizeof(k), &n, rfc7515_a1_k,
	    strlen(rfc7515_a1_k)) == LBAUTH_OK && n == 64);
	test_assert(lbx_key_hs256(&hs, k, n, &reason) == LBAUTH_OK);
	test_assert(lbx_jwt_parse(&jwt, rfc7515_a1_tok, strlen(rfc7515_a1_tok),
	    LBX_ALG_HS256, &reason) == LBAUTH_OK && reason == NULL);
	test_assert(jwt.sig_len == 32);
	test_assert((s = lbx_json_get_str(jwt.header, "typ", NULL)) != NULL &&
	    strcmp(s, "JWT") == 0);
	test_assert(lbx_jwt_verify(&jwt, &hs) == LBAUTH_OK);
	test_assert(lbx_jwt_payload(&jwt, &claims) == LBAUTH_OK);
	test_assert((s = lbx_json_get_str(claims, "iss", NULL)) != NULL &&
	    strcmp(s, "joe") == 0);
	test_assert(json_object_object_get_ex(claims, "exp", &v) &&
	    json_object_get_int64(v) == 1300819380);
	test_assert(json_object_object_get_ex(claims,
	    "http://example.com/is_root", &v) && json_object_get_boolean(v));
	json_object_put(claims);
	lbx_jwt_clear(&jwt);
	lbx_jwt_clear(&jwt);		/* safe twice */
	/* The same token with EdDSA pinned: refused on alg. */
	test_assert(lbx_jwt_parse(&jwt, rfc7515_a1_tok, strlen(rfc7515_a1_tok),
	    LBX_ALG_EDDSA, &reason) == LBAUTH_EALG && reason != NULL);
	lbx_jwt_clear(&jwt);

	/* --- RFC 8037 A.1-A.3: the key and its thumbprint. */
	test_assert(lbx_b64url_decode(seed, sizeof(seed), &n, rfc8037_d,
	    strlen(rfc8037_d)) == LBAUTH_OK && n == 32);
	test_assert(lbx_b64url_decode(x, sizeof(x), &n, rfc8037_x,
	    strlen(rfc8037_x)) == LBAUTH_OK && n == 32);
	test_assert(lbx_key_ed25519_seed(&ed, seed) == LBAUTH_OK);
	test_assert(ed.alg == LBX_ALG_EDDSA && ed.sk != NULL);
	test_assert(memcmp(ed.pk, x, 32) == 0);
	test_assert(strcmp(ed.kid, rfc8037_kid) == 0);

	/* --- RFC 8037 A.4: the signature (Ed25519 is deterministic). */
	lbx_jwt_sign(&b, rfc8037_hdr, strlen(rfc8037_hdr), rfc8037_payload,
	    strlen(rfc8037_payload), &ed);
	test_assert(!b.oom && strcmp(b.p, rfc8037_tok) == 0);
	/* A.5: it verifies, with the signing key and the public one. */
	test_assert(lbx_jwt_parse(&jwt, rfc8037_tok, strlen(rfc8037_tok),
	    LBX_ALG_EDDSA, &reason) == LBAUTH_OK);
	test_assert(jwt.sig_len == 64);
	test_assert(lbx_jwt_verify(&jwt, &ed) == LBAUTH_OK);
	{
		struct lbx_key pub;

		test_assert(lbx_key_ed25519_pk(&pub, x) == LBAUTH_OK);
		test_assert(strcmp(pub.kid, rfc8037_kid) == 0 &&
		    pub.sk == NULL);
		test_assert(lbx_jwt_verify(&jwt, &pub) == LBAUTH_OK);
		lbx_key_clear(&pub);
	}
	/* Its payload is not JSON: refused after verification. */
	claims = (struct json_object *)&claims;
	test_assert(lbx_jwt_payload(&jwt, &claims) == LBAUTH_ETOKEN &&
	    claims == NULL);
	lbx_jwt_clear(&jwt);
	test_assert(lbx_jwt_parse(&jwt, rfc8037_tok, strlen(rfc8037_tok),
	    LBX_ALG_HS256, &reason) == LBAUTH_EALG);
	lbx_jwt_clear(&jwt);

	/* A second HS256 key, for "signed by someone else". */
	test_assert(lbx_key_hs256(&hs2,
	    (const unsigned char *)"0123456789abcdef0123456789abcdef", 32,
	    &reason) == LBAUTH_OK);

	/* --- Built headers: each with its exact result. */
	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		key = hdrs[i].signer == HS ? &hs : &ed;
		mk(&b, hdrs[i].hdr, P, hdrs[i].sig, key);
		test_assert_idx(!b.oom, i);
		rc = lbx_jwt_parse(&jwt, b.p, b.len, hdrs[i].pin, &reason);
		test_assert_idx(rc == hdrs[i].want, i);
		test_assert_idx((rc == LBAUTH_OK) == (reason == NULL), i);
		if (rc == LBAUTH_OK) {
			test_assert_idx(lbx_jwt_verify(&jwt, key) == LBAUTH_OK,
			    i);
			test_assert_idx(lbx_jwt_payload(&jwt, &claims) ==
			    LBAUTH_OK, i);
			test_assert_idx((s = lbx_json_get_str(claims, "sub",
			    NULL)) != NULL && strcmp(s, "u") == 0, i);
			json_object_put(claims);
		} else
			/* A failed parse leaves nothing to verify. */
			test_assert_idx(lbx_jwt_verify(&jwt, key) ==
			    LBAUTH_ESIG, i);
		lbx_jwt_clear(&jwt);
	}

	for (i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		test_assert_idx(lbx_jwt_parse(&jwt, raw[i].tok,
		    strlen(raw[i].tok), LBX_ALG_HS256, &reason) == raw[i].want,
		    i);
		test_assert_idx(reason != NULL, i);
		lbx_jwt_clear(&jwt);
	}

	/* --- Signatures that parse but do not verify. */
	mk(&b, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", P, NULL, &hs);
	/* Every bit of the MAC matters. */
	for (i = 0; i < 32 * 8; i += 7) {
		test_assert_idx(lbx_jwt_parse(&jwt, b.p, b.len, LBX_ALG_HS256,
		    &reason) == LBAUTH_OK, i);
		jwt.sig[i / 8] ^= (unsigned char)(1u << (i % 8));
		test_assert_idx(lbx_jwt_verify(&jwt, &hs) == LBAUTH_ESIG, i);
		lbx_jwt_clear(&jwt);
	}
	/* A flipped character of the signature part. */
	lbx_buf_reset(&t);
	lbx_buf_put(&t, b.p, b.len);
	t.p[t.len - 2] = t.p[t.len - 2] == 'A' ? 'B' : 'A';
	test_assert(lbx_jwt_parse(&jwt, t.p, t.len, LBX_ALG_HS256, &reason) ==
	    LBAUTH_OK);
	test_assert(lbx_jwt_verify(&jwt, &hs) == LBAUTH_ESIG);
	lbx_jwt_clear(&jwt);
	/* A changed payload under the old signature. */
	lbx_buf_reset(&t);
	lbx_buf_put(&t, b.p, b.len);
	s = memchr(t.p, '.', t.len);
	t.p[s - t.p + 2] ^= 1;
	test_assert(lbx_jwt_parse(&jwt, t.p, t.len, LBX_ALG_HS256, &reason) ==
	    LBAUTH_OK);
	test_assert(lbx_jwt_verify(&jwt, &hs) == LBAUTH_ESIG);
	lbx_jwt_clear(&jwt);
	/* Another HS256 key. */
	test_assert(lbx_jwt_parse(&jwt, b.p, b.len, LBX_ALG_HS256, &reason) ==
	    LBAUTH_OK);
	test_assert(lbx_jwt_verify(&jwt, &hs2) == LBAUTH_ESIG);
	test_assert(lbx_jwt_verify(&jwt, &hs) == LBAUTH_OK);
	lbx_jwt_clear(&jwt);
	/* An Ed25519 signature by the key, flipped. */
	mk(&b, "{\"alg\":\"EdDSA\"}", P, NULL, &ed);
	test_assert(lbx_jwt_parse(&jwt, b.p, b.len, LBX_ALG_EDDSA, &reason) ==
	    LBAUTH_OK);
	test_assert(lbx_jwt_verify(&jwt, &ed) == LBAUTH_OK);
	jwt.sig[10] ^= 0x40;
	test_assert(lbx_jwt_verify(&jwt, &ed) == LBAUTH_ESIG);
	lbx_jwt_clear(&jwt);

	/* --- Payloads that are not JSON objects (after a good MAC). */
	mk(&b, "{\"alg\":\"HS256\"}", "[1]", NULL, &hs);
	test_assert(lbx_jwt_parse(&jwt, b.p, b.len, LBX_ALG_HS256, &reason) ==
	    LBAUTH_OK && lbx_jwt_verify(&jwt, &hs) == LBAUTH_OK);
	test_assert(lbx_jwt_payload(&jwt, &claims) == LBAUTH_ETOKEN &&
	    claims == NULL);
	lbx_jwt_clear(&jwt);
	mk(&b, "{\"alg\":\"HS256\"}", "{\"a\":1} x", NULL, &hs);
	test_assert(lbx_jwt_parse(&jwt, b.p, b.len, LBX_ALG_HS256, &reason) ==
	    LBAUTH_OK && lbx_jwt_verify(&jwt, &hs) == LBAUTH_OK);
	test_assert(lbx_jwt_payload(&jwt, &claims) == LBAUTH_ETOKEN &&
	    claims == NULL);
	lbx_jwt_clear(&jwt);

	/* --- Size: 4096 bytes is the cap, 4097 is refused. */
	big = malloc(LBX_JWT_MAX + 2);
	lbx_buf_reset(&t);
	for (i = 0; i < 3000; i++)
		lbx_buf_putc(&t, 'x');
	mk(&b, "{\"alg\":\"HS256\"}", t.p, NULL, &hs);	/* ~4061 bytes */
	test_assert(b.len <= LBX_JWT_MAX);
	test_assert(lbx_jwt_parse(&jwt, b.p, b.len, LBX_ALG_HS256, &reason) ==
	    LBAUTH_OK && lbx_jwt_verify(&jwt, &hs) == LBAUTH_OK);
	lbx_jwt_clear(&jwt);
	memset(big, 'A', LBX_JWT_MAX + 1);
	memcpy(big, b.p, b.len);		/* a valid token, then junk */
	big[LBX_JWT_MAX + 1] = '\0';
	test_assert(lbx_jwt_parse(&jwt, big, LBX_JWT_MAX + 1,
	    LBX_ALG_HS256, &reason) == LBAUTH_ETOKEN);
	lbx_jwt_clear(&jwt);
	free(big);

	/*
	 * --- Regression (issue 12, found by an independent hostile battery
	 * through nginx and as CGI): a correctly signed HS256 cookie whose
	 * header was {"alg":"HS256","typ":"JWT","kid":<1,064 characters>},
	 * 1,100 bytes decoded and a JWT of about 1.6 KB, got 401
	 * invalid_session, logged as "header is not base64url".  The header
	 * was decoded into a 1,024-byte buffer, so any longer header failed
	 * the decode and took its reason, and README named no such cap.  Now
	 * the buffer holds any header a 4096-byte token can carry, so only
	 * the token's own cap limits it, and the reason is true again.
	 */
	{
		static const size_t kids[] = { 1064, 988, 1500, 2900 };
		char *hdr = malloc(3100);

		for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++) {
			n = (size_t)snprintf(hdr, 3100,
			    "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"");
			memset(hdr + n, 'k', kids[i]);
			memcpy(hdr + n + kids[i], "\"}", 3);
			if (i == 0)
				test_assert(strlen(hdr) == 1100);
			mk(&b, hdr, P, NULL, &hs);
			test_assert_idx(b.len <= LBX_JWT_MAX, i);
			test_assert_idx(lbx_jwt_parse(&jwt, b.p, b.len,
			    LBX_ALG_HS256, &reason) == LBAUTH_OK &&
			    reason == NULL, i);
			test_assert_idx(lbx_jwt_verify(&jwt, &hs) == LBAUTH_OK,
			    i);
			test_assert_idx((s = lbx_json_get_str(jwt.header, "kid",
			    &n)) != NULL && n == kids[i], i);
			lbx_jwt_clear(&jwt);
		}
		/* A header that is the whole 4096-byte token but ".e30.": */
		big = malloc(LBX_JWT_MAX + 1);
		memset(big, 'A', LBX_JWT_MAX);
		memcpy(big + LBX_JWT_MAX - 6, ".e30.A", 6);
		big[LBX_JWT_MAX] = '\0';
		test_assert(lbx_jwt_parse(&jwt, big, LBX_JWT_MAX,
		    LBX_ALG_HS256, &reason) == LBAUTH_ETOKEN && reason != NULL &&
		    strcmp(reason, "header is not JSON (RFC 8259, UTF-8)") == 0);
		lbx_jwt_clear(&jwt);
		/* Not base64url: now the only way to get that reason. */
		big[10] = '+';
		test_assert(lbx_jwt_parse(&jwt, big, LBX_JWT_MAX,
		    LBX_ALG_HS256, &reason) == LBAUTH_ETOKEN && reason != NULL &&
		    strcmp(reason, "header is not base64url") == 0);
		lbx_jwt_clear(&jwt);
		free(big);
		free(hdr);
	}

	/* --- Log reasons name the rule that failed (issue 12). */
	{
		static const struct {
			const char	*hdr;
			const char	*payload;
			const char	*reason;
		} why[] = {
			{ "{\"alg\":\"HS256\",\"alg\":\"HS256\"}", P,
			    "header repeats a member name in one object" },
			{ "[\"HS256\"]", P, "header is not a JSON object" },
			{ "null", P, "header is not a JSON object" },
			{ "{\"alg\":\"HS256\"", P,
			    "header is not JSON (RFC 8259, UTF-8)" },
			{ "{\"alg\":\"HS256\",\"x\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}",
			    P, "header nests more than 16 arrays and objects" },
			{ "{\"alg\":\"HS256\",\"x\\u0000\":1}", P,
			    "header has \\u0000 in a member name" },
			{ "{\"typ\":\"JWT\"}", P,
			    "alg is missing or not the configured algorithm" },
			{ "{\"alg\":\"HS256\",\"typ\":1}", P,
			    "typ is not JWT (in any case)" },
			{ "{\"alg\":\"HS256\",\"crit\":[]}", P,
			    "header has crit: no extension is understood" },
			{ "{\"alg\":\"HS256\"}", "{\"sub\":\"u\",\"sub\":\"v\"}",
			    "claims repeat a member name in one object" },
			{ "{\"alg\":\"HS256\"}", "{\"a\":{\"b\":1,\"b\":2}}",
			    "claims repeat a member name in one object" },
			{ "{\"alg\":\"HS256\"}", "[1]",
			    "claims are not a JSON object" },
			{ "{\"alg\":\"HS256\"}", "null",
			    "claims are not a JSON object" },
			{ "{\"alg\":\"HS256\"}", "{\"a\":1",
			    "claims are not JSON (RFC 8259, UTF-8)" },
			{ "{\"alg\":\"HS256\"}", "{\"a\\u0000\":1}",
			    "claims have \\u0000 in a member name" },
			{ "{\"alg\":\"HS256\"}", "{\"sub\":\"u\"}", NULL },
		};

		for (i = 0; i < sizeof(why) / sizeof(why[0]); i++) {
			mk(&b, why[i].hdr, why[i].payload, NULL, &hs);
			rc = lbx_jwt_parse(&jwt, b.p, b.len, LBX_ALG_HS256,
			    &reason);
			if (rc == LBAUTH_OK) {
				test_assert_idx(lbx_jwt_verify(&jwt, &hs) ==
				    LBAUTH_OK, i);
				rc = lbx_jwt_claims(&jwt, &claims, &reason);
				test_assert_idx((rc == LBAUTH_OK) ==
				    (claims != NULL), i);
				json_object_put(claims);
			}
			test_assert_idx((rc == LBAUTH_OK) ==
			    (why[i].reason == NULL), i);
			test_assert_idx(why[i].reason == NULL ?
			    reason == NULL : reason != NULL &&
			    strcmp(reason, why[i].reason) == 0, i);
			if (why[i].reason != NULL && reason != NULL &&
			    strcmp(reason, why[i].reason) != 0)
				fprintf(stderr, "  row %zu: %s\n", i, reason);
			lbx_jwt_clear(&jwt);
		}
	}

	/* --- Round trips through lbx_jwt_header() + lbx_jwt_sign(). */
	lbx_buf_reset(&t);
	lbx_jwt_header(&t, &hs);
	test_assert(lbx_b64url_decode(k, sizeof(k), &n, t.p, t.len) ==
	    LBAUTH_OK && n == 27 && memcmp(k, "{\"alg\":\"HS256\",\"typ\":"
	    "\"JWT\"}", 27) == 0);
	lbx_buf_reset(&b);
	lbx_buf_puts(&b, "prefix:");		/* sign appends */
	lbx_jwt_sign(&b, t.p, t.len, "{\"sub\":\"hs\",\"n\":1}", 18, &hs);
	test_assert(!b.oom && strncmp(b.p, "prefix:", 7) == 0);
	test_assert(lbx_jwt_parse(&jwt, b.p + 7, b.len - 7, LBX_ALG_HS256,
	    &reason) == LBAUTH_OK);
	test_assert(lbx_jwt_verify(&jwt, &hs) == LBAUTH_OK);
	test_assert(lbx_jwt_verify(&jwt, &hs2) == LBAUTH_ESIG);
	test_assert(lbx_jwt_payload(&jwt, &claims) == LBAUTH_OK);
	test_assert((s = lbx_json_get_str(claims, "sub", NULL)) != NULL &&
	    strcmp(s, "hs") == 0);
	json_object_put(claims);
	lbx_jwt_clear(&jwt);

	lbx_buf_reset(&t);
	lbx_jwt_header(&t, &ed);
	lbx_buf_reset(&b);
	lbx_buf_puts(&b, "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"");
	lbx_buf_puts(&b, rfc8037_kid);
	lbx_buf_puts(&b, "\"}");
	{
		char hdr[256];

		test_assert(lbx_b64url_decode((unsigned char *)hdr,
		    sizeof(hdr), &n, t.p, t.len) == LBAUTH_OK &&
		    n == b.len && memcmp(hdr, b.p, n) == 0);
	}
	lbx_buf_reset(&b);
	lbx_jwt_sign(&b, t.p, t.len, "{\"sub\":\"ed\"}", 12, &ed);
	test_assert(!b.oom);
	test_assert(lbx_jwt_parse(&jwt, b.p, b.len, LBX_ALG_EDDSA, &reason) ==
	    LBAUTH_OK);
	test_assert((s = lbx_json_get_str(jwt.header, "kid", NULL)) != NULL &&
	    strcmp(s, rfc8037_kid) == 0);
	test_assert(lbx_jwt_verify(&jwt, &ed) == LBAUTH_OK);
	test_assert(lbx_jwt_payload(&jwt, &claims) == LBAUTH_OK);
	test_assert((s = lbx_json_get_str(claims, "sub", NULL)) != NULL &&
	    strcmp(s, "ed") == 0);
	json_object_put(claims);
	lbx_jwt_clear(&jwt);
	/* The Ed25519 token under HS256 pinning: refused before any MAC. */
	test_assert(lbx_jwt_parse(&jwt, b.p, b.len, LBX_ALG_HS256, &reason) ==
	    LBAUTH_EALG);
	lbx_jwt_clear(&jwt);

	lbx_key_clear(&hs);
	lbx_key_clear(&hs2);
	lbx_key_clear(&ed);
	lbx_key_clear(&ed);		/* a cleared key clears again */
	lbx_buf_clear(&b);
	lbx_buf_clear(&t);
	return test_done();
}
