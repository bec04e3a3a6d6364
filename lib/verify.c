/*
 * verify.c: checking lbauth's own tokens (backend = local), the one
 * token checker: header alg pinned to EdDSA, the signature by the key
 * the header's kid names (or any key when it names none), and one
 * "exp" rule: a JSON number after now.  The public verifier
 * (lbauth_verifier_new() over a JWKS, for realtime servers written in C
 * and "lbauthctl verify -j") and "lbauthctl verify -c" (the config's
 * keys, keyset.c) both come down to lbx_verify_token().
 */
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define VERIFIER_KEYS	16

struct lbauth_verifier {
	struct lbx_key	 keys[VERIFIER_KEYS];
	size_t		 nkeys;
};

/* See lbauth.h. */
enum lbauth_err
lbauth_verifier_new(const char *jwks, size_t len, struct lbauth_verifier **v_r)
{
	struct lbauth_verifier	*v;
	struct json_object	*doc = NULL, *keys, *k;
	unsigned char		 pk[64];
	const char		*x, *kty, *crv;
	size_t			 i, xlen, pklen;

	*v_r = NULL;
	if (lbx_json_parse(jwks, len, &doc) != LBAUTH_OK ||
	    !json_object_object_get_ex(doc, "keys", &keys) ||
	    !json_object_is_type(keys, json_type_array)) {
		json_object_put(doc);
		return LBAUTH_EKEYFILE;
	}
	if ((v = calloc(1, sizeof(*v))) == NULL) {
		json_object_put(doc);
		return LBAUTH_ENOMEM;
	}
	for (i = 0; i < json_object_array_length(keys) &&
	    v->nkeys < VERIFIER_KEYS; i++) {
		k = json_object_array_get_idx(keys, i);
		if (!json_object_is_type(k, json_type_object) ||
		    (kty = lbx_json_get_str(k, "kty", NULL)) == NULL ||
		    strcmp(kty, "OKP") != 0 ||
		    (crv = lbx_json_get_str(k, "crv", NULL)) == NULL ||
		    strcmp(crv, "Ed25519") != 0 ||
		    (x = lbx_json_get_str(k, "x", &xlen)) == NULL ||
		    lbx_b64url_decode(pk, sizeof(pk), &pklen, x, xlen) !=
		    LBAUTH_OK || pklen != crypto_sign_PUBLICKEYBYTES)
			continue;
		if (lbx_key_ed25519_pk(&v->keys[v->nkeys], pk) == LBAUTH_OK)
			v->nkeys++;
	}
	json_object_put(doc);
	if (v->nkeys == 0) {
		free(v);
		return LBAUTH_EKEYFILE;
	}
	*v_r = v;
	return LBAUTH_OK;
}

/* See lbauth.h. */
void
lbauth_verifier_free(struct lbauth_verifier *v)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; i < v->nkeys; i++)
		lbx_key_clear(&v->keys[i]);
	free(v);
}

/*
 * Checks the compact JWS token (len bytes) against the nkeys keys:
 * alg EdDSA, a signature by the key whose kid the header names (by
 * each key in turn when it names none), a JSON object payload whose
 * "exp" is a number after now.  On success stores the payload, the
 * caller's to json_object_put(), in *claims_r and returns LBAUTH_OK;
 * else LBAUTH_ETOKEN, LBAUTH_EALG, LBAUTH_ESIG, LBAUTH_EEXPIRED or
 * LBAUTH_ENOMEM with *claims_r NULL.
 */
enum lbauth_err
lbx_verify_token(const struct lbx_key *keys, size_t nkeys, const char *token,
    size_t len, time_t now, struct json_object **claims_r)
{
	struct lbx_jwt		 jwt;
	struct json_object	*claims = NULL, *exp;
	const char		*reason, *kid;
	size_t			 i;
	enum lbauth_err		 rc;

	*claims_r = NULL;
	if ((rc = lbx_jwt_parse(&jwt, token, len, LBX_ALG_EDDSA, &reason)) !=
	    LBAUTH_OK) {
		lbx_jwt_clear(&jwt);
		return rc;
	}
	kid = lbx_json_get_str(jwt.header, "kid", NULL);
	rc = LBAUTH_ESIG;
	for (i = 0; i < nkeys && rc != LBAUTH_OK; i++)
		if (kid == NULL || strcmp(kid, keys[i].kid) == 0)
			rc = lbx_jwt_verify(&jwt, &keys[i]);
	if (rc == LBAUTH_OK)
		rc = lbx_jwt_payload(&jwt, &claims);
	lbx_jwt_clear(&jwt);
	if (rc != LBAUTH_OK)
		return rc;
	if (!json_object_object_get_ex(claims, "exp", &exp) ||
	    (!json_object_is_type(exp, json_type_int) &&
	    !json_object_is_type(exp, json_type_double)) ||
	    json_object_get_double(exp) <= (double)now) {
		json_object_put(claims);
		return LBAUTH_EEXPIRED;
	}
	*claims_r = claims;
	return LBAUTH_OK;
}

/* See lbauth.h. */
enum lbauth_err
lbauth_token_verify(const struct lbauth_verifier *v, const char *token,
    size_t len, time_t now, char **payload_r)
{
	struct json_object	*claims;
	const char		*s;
	enum lbauth_err		 rc;

	*payload_r = NULL;
	if ((rc = lbx_verify_token(v->keys, v->nkeys, token, len, now,
	    &claims)) != LBAUTH_OK)
		return rc;
	s = json_object_to_json_string_ext(claims, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	*payload_r = s == NULL ? NULL : strdup(s);
	json_object_put(claims);
	return *payload_r == NULL ? LBAUTH_ENOMEM : LBAUTH_OK;
}
