/*
 * fuzz-jwt.c: compact JWS, jwt.c, and base64url, b64.c.
 *
 * Input: a token.  It is parsed for HS256 and for EdDSA, verified with
 * fixed keys and its payload decoded whether or not it verified (the
 * endpoint decodes only verified payloads, but the decoder must hold up
 * anyway).  The keys are those of RFC 7515 appendix A.1 (HS256) and RFC
 * 8037 appendix A.1 (Ed25519), so that the RFCs' example tokens in the
 * corpus verify.  Then the raw input is base64url-decoded into buffers
 * of exactly the needed size and of a smaller one.
 */
#include <stdlib.h>
#include <string.h>

#include "../../lib/extern.h"
#include "fuzz.h"

/* RFC 7515 A.1.1, the JWK "k" decoded. */
static const unsigned char hs256_secret[64] = {
	0x03, 0x23, 0x35, 0x4b, 0x2b, 0x0f, 0xa5, 0xbc,
	0x83, 0x7e, 0x06, 0x65, 0x77, 0x7b, 0xa6, 0x8f,
	0x5a, 0xb3, 0x28, 0xe6, 0xf0, 0x54, 0xc9, 0x28,
	0xa9, 0x0f, 0x84, 0xb2, 0xd2, 0x50, 0x2e, 0xbf,
	0xd3, 0xfb, 0x5a, 0x92, 0xd2, 0x06, 0x47, 0xef,
	0x96, 0x8a, 0xb4, 0xc3, 0x77, 0x62, 0x3d, 0x22,
	0x3d, 0x2e, 0x21, 0x72, 0x05, 0x2e, 0x4f, 0x08,
	0xc0, 0xcd, 0x9a, 0xf5, 0x67, 0xd0, 0x80, 0xa3
};

/* RFC 8037 A.1, the private key "d" (the Ed25519 seed). */
static const unsigned char ed25519_seed[32] = {
	0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60,
	0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
	0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19,
	0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60
};

static struct lbx_key	 keys[2];	/* HS256, EdDSA */

static void
init_keys(void)
{
	static int	 done;
	const char	*reason;

	if (done)
		return;
	if (sodium_init() < 0 ||
	    lbx_key_hs256(&keys[0], hs256_secret, sizeof(hs256_secret),
	    &reason) != LBAUTH_OK ||
	    lbx_key_ed25519_seed(&keys[1], ed25519_seed) != LBAUTH_OK)
		abort();
	done = 1;
}

static void
one_alg(const char *tok, size_t len, const struct lbx_key *key)
{
	struct lbx_jwt		 jwt;
	struct json_object	*claims;
	const char		*reason;
	enum lbauth_err		 rc;

	if (lbx_jwt_parse(&jwt, tok, len, key->alg, &reason) == LBAUTH_OK) {
		if (jwt.signed_part != tok || jwt.signed_len >= len ||
		    jwt.payload_b64 + jwt.payload_b64_len !=
		    tok + jwt.signed_len)
			abort();
		rc = lbx_jwt_verify(&jwt, key);
		if (rc != LBAUTH_OK && rc != LBAUTH_ESIG)
			abort();
		/* The other key's algorithm never verifies. */
		if (lbx_jwt_verify(&jwt, &keys[key == &keys[0]]) == LBAUTH_OK)
			abort();
		if (lbx_jwt_payload(&jwt, &claims) == LBAUTH_OK) {
			if (!json_object_is_type(claims, json_type_object))
				abort();
			json_object_put(claims);
		} else if (claims != NULL)
			abort();
	}
	lbx_jwt_clear(&jwt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	*out;
	size_t		 outsz, olen;

	init_keys();
	one_alg((const char *)data, size, &keys[0]);
	one_alg((const char *)data, size, &keys[1]);

	outsz = size / 4 * 3 + 2;
	if ((out = malloc(outsz)) == NULL)
		abort();
	if (lbx_b64url_decode(out, outsz, &olen, (const char *)data, size) ==
	    LBAUTH_OK && (olen > outsz || LBX_B64URL_LEN(olen) != size))
		abort();	/* canonical: one encoding per value */
	free(out);
	outsz = size / 2;
	if ((out = malloc(outsz == 0 ? 1 : outsz)) == NULL)
		abort();
	if (lbx_b64url_decode(out, outsz, &olen, (const char *)data, size) ==
	    LBAUTH_OK && olen > outsz)
		abort();
	free(out);
	return 0;
}
