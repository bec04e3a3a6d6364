/*
 * jwt.c: compact JWS (RFC 7515 section 7.1) with the algorithm pinned.
 *
 * The caller names the one algorithm it accepts; the token's "alg" is
 * compared with it and never chooses code (RFC 8725 section 3.1, the
 * algorithm-confusion bug of libjwt's issue #200).  "none" does not
 * exist here.  Checking is split so that the pure parser never sees a
 * key and the payload is not parsed before its signature verifies:
 *
 *	lbx_jwt_parse()		split, decode the header, check alg/typ/crit,
 *				decode the signature (pure)
 *	lbx_jwt_verify()	HMAC-SHA256 or Ed25519 over header.payload
 *	lbx_jwt_payload()	decode and parse the claims (pure)
 *
 * Every token is at most LBX_JWT_MAX bytes, jwt.c's own bound (not the
 * session cookie's, which cookie.c applies before).
 */
#include <string.h>
#include <strings.h>

#include "extern.h"

/*
 * The decoded header fits in what the token's own cap leaves: a base64url
 * part of n characters decodes to at most n / 4 * 3 bytes.  No cap of
 * its own: none would protect anything the token's 4096 bytes do not,
 * and a header that fits no buffer would be refused with a false reason.
 */
#define HEADER_MAX	(LBX_JWT_MAX / 4 * 3)

/* Log reasons for a header or claims text lbx_json_parse_ex() refused. */
static const char *const header_faults[LBX_JSON_FAULT__MAX] = {
	[LBX_JSON_FAULT_SYNTAX] = "header is not JSON (RFC 8259, UTF-8)",
	[LBX_JSON_FAULT_DEEP] = "header nests more than 16 arrays and objects",
	[LBX_JSON_FAULT_NULNAME] = "header has \\u0000 in a member name",
	[LBX_JSON_FAULT_DUP] = "header repeats a member name in one object",
	[LBX_JSON_FAULT_NULL] = "header is not a JSON object",
};
static const char *const claims_faults[LBX_JSON_FAULT__MAX] = {
	[LBX_JSON_FAULT_SYNTAX] = "claims are not JSON (RFC 8259, UTF-8)",
	[LBX_JSON_FAULT_DEEP] = "claims nest more than 16 arrays and objects",
	[LBX_JSON_FAULT_NULNAME] = "claims have \\u0000 in a member name",
	[LBX_JSON_FAULT_DUP] = "claims repeat a member name in one object",
	[LBX_JSON_FAULT_NULL] = "claims are not a JSON object",
};

static const char *const alg_names[] = {
	[LBX_ALG_HS256] = "HS256",
	[LBX_ALG_EDDSA] = "EdDSA",	/* RFC 8037 section 3.1 */
};

/*
 * Parses the compact JWS tok (len bytes) for algorithm alg into jwt,
 * which borrows tok: tok must outlive jwt.  Returns LBAUTH_OK;
 * LBAUTH_ETOKEN when tok is not three base64url parts with a JSON
 * object header (one that repeats a member name, "alg" or any other,
 * is refused: lbx_json_parse_ex()), or the header has a "typ" other
 * than JWT (in any case, RFC 7515 section 4.1.9) or any
 * "crit" (RFC 7515 section 4.1.11: we understand no extension);
 * LBAUTH_EALG when "alg" is not alg's name; LBAUTH_ESIG when the
 * signature has the wrong size.  *reason_r gets a static detail.
 * Release jwt with lbx_jwt_clear() whatever the result.
 */
enum lbauth_err
lbx_jwt_parse(struct lbx_jwt *jwt, const char *tok, size_t len,
    enum lbx_alg alg, const char **reason_r)
{
	unsigned char		 hdr[HEADER_MAX];
	const char		*d1, *d2, *s;
	size_t			 hlen, slen, want;
	struct json_object	*v;
	enum lbx_json_fault	 f;
	enum lbauth_err		 rc;

	memset(jwt, 0, sizeof(*jwt));
	*reason_r = "malformed token";
	if (len == 0 || len > LBX_JWT_MAX) {
		*reason_r = "token is empty or over 4096 bytes";
		return LBAUTH_ETOKEN;
	}
	if ((d1 = memchr(tok, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok))) ==
	    NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)) !=
	    NULL) {
		*reason_r = "token is not three dot-separated parts";
		return LBAUTH_ETOKEN;
	}
	if (d1 == tok || d2 == d1 + 1 || d2 + 1 == tok + len) {
		*reason_r = "token has an empty part";
		return LBAUTH_ETOKEN;
	}
	if (lbx_b64url_decode(hdr, sizeof(hdr), &hlen, tok,
	    (size_t)(d1 - tok)) != LBAUTH_OK) {
		*reason_r = "header is not base64url";
		return LBAUTH_ETOKEN;
	}
	if ((rc = lbx_json_parse_ex((const char *)hdr, hlen, &jwt->header,
	    &f)) != LBAUTH_OK) {
		*reason_r = header_faults[f];
		return rc == LBAUTH_ENOMEM ? rc : LBAUTH_ETOKEN;
	}
	if (!json_object_is_type(jwt->header, json_type_object)) {
		*reason_r = "header is not a JSON object";
		return LBAUTH_ETOKEN;
	}
	if ((s = lbx_json_get_str(jwt->header, "alg", &slen)) == NULL ||
	    slen != strlen(alg_names[alg]) ||
	    memcmp(s, alg_names[alg], slen) != 0) {
		*reason_r = "alg is missing or not the configured algorithm";
		return LBAUTH_EALG;
	}
	if (json_object_object_get_ex(jwt->header, "typ", &v) &&
	    (!json_object_is_type(v, json_type_string) ||
	    strcasecmp(json_object_get_string(v), "JWT") != 0 ||
	    json_object_get_string_len(v) != 3)) {
		*reason_r = "typ is not JWT (in any case)";
		return LBAUTH_ETOKEN;
	}
	if (json_object_object_get_ex(jwt->header, "crit", NULL)) {
		*reason_r = "header has crit: no extension is understood";
		return LBAUTH_ETOKEN;
	}
	want = alg == LBX_ALG_HS256 ? crypto_auth_hmacsha256_BYTES :
	    crypto_sign_BYTES;
	s = d2 + 1;
	if (lbx_b64url_decode(jwt->sig, sizeof(jwt->sig), &jwt->sig_len, s,
	    (size_t)(tok + len - s)) != LBAUTH_OK || jwt->sig_len != want) {
		*reason_r = "signature is not base64url of the right size";
		return LBAUTH_ESIG;
	}
	jwt->signed_part = tok;
	jwt->signed_len = (size_t)(d2 - tok);
	jwt->payload_b64 = d1 + 1;
	jwt->payload_b64_len = (size_t)(d2 - d1 - 1);
	*reason_r = NULL;
	return LBAUTH_OK;
}

/*
 * Verifies jwt's signature with key, whose algorithm must be the one
 * jwt was parsed for.  Returns LBAUTH_OK only if it verifies, else
 * LBAUTH_ESIG.  MACs are compared in constant time as 32 bytes
 * (crypto_verify_32) and the computed one is wiped.
 */
enum lbauth_err
lbx_jwt_verify(const struct lbx_jwt *jwt, const struct lbx_key *key)
{
	crypto_auth_hmacsha256_state	 st;
	unsigned char			 mac[crypto_auth_hmacsha256_BYTES];
	int				 bad;

	if (jwt->signed_part == NULL)
		return LBAUTH_ESIG;
	switch (key->alg) {
	case LBX_ALG_HS256:
		if (jwt->sig_len != sizeof(mac))
			return LBAUTH_ESIG;
		memcpy(&st, key->hmac, sizeof(st));
		crypto_auth_hmacsha256_update(&st,
		    (const unsigned char *)jwt->signed_part, jwt->signed_len);
		crypto_auth_hmacsha256_final(&st, mac);
		bad = crypto_verify_32(mac, jwt->sig);
		sodium_memzero(&st, sizeof(st));
		sodium_memzero(mac, sizeof(mac));
		return bad == 0 ? LBAUTH_OK : LBAUTH_ESIG;
	case LBX_ALG_EDDSA:
		if (jwt->sig_len != crypto_sign_BYTES)
			return LBAUTH_ESIG;
		return crypto_sign_verify_detached(jwt->sig,
		    (const unsigned char *)jwt->signed_part, jwt->signed_len,
		    key->pk) == 0 ? LBAUTH_OK : LBAUTH_ESIG;
	}
	return LBAUTH_ESIG;
}

/*
 * Decodes and parses jwt's payload.  Call only after lbx_jwt_verify()
 * returned LBAUTH_OK.  On success stores a new JSON object in
 * *claims_r (the caller puts it).  Returns LBAUTH_OK, LBAUTH_ETOKEN
 * (not base64url of a JSON object, or one that repeats a member name:
 * RFC 7519 section 4 lets a parser refuse it) or LBAUTH_ENOMEM;
 * *reason_r gets a static detail (NULL on success).
 */
enum lbauth_err
lbx_jwt_claims(const struct lbx_jwt *jwt, struct json_object **claims_r,
    const char **reason_r)
{
	unsigned char		 buf[LBX_JWT_MAX];
	size_t			 len;
	enum lbx_json_fault	 f;
	enum lbauth_err		 rc;

	*claims_r = NULL;
	*reason_r = "payload is not base64url";
	if (lbx_b64url_decode(buf, sizeof(buf), &len, jwt->payload_b64,
	    jwt->payload_b64_len) != LBAUTH_OK)
		return LBAUTH_ETOKEN;
	rc = lbx_json_parse_ex((const char *)buf, len, claims_r, &f);
	sodium_memzero(buf, len);
	*reason_r = rc == LBAUTH_OK ? "claims are not a JSON object" :
	    claims_faults[f];
	if (rc != LBAUTH_OK)
		return rc == LBAUTH_ENOMEM ? rc : LBAUTH_ETOKEN;
	if (!json_object_is_type(*claims_r, json_type_object)) {
		json_object_put(*claims_r);
		*claims_r = NULL;
		return LBAUTH_ETOKEN;
	}
	*reason_r = NULL;
	return LBAUTH_OK;
}

/* lbx_jwt_claims() without the detail. */
enum lbauth_err
lbx_jwt_payload(const struct lbx_jwt *jwt, struct json_object **claims_r)
{
	const char	*reason;

	return lbx_jwt_claims(jwt, claims_r, &reason);
}

/* Releases what lbx_jwt_parse() stored in jwt.  Safe to call twice. */
void
lbx_jwt_clear(struct lbx_jwt *jwt)
{

	json_object_put(jwt->header);
	sodium_memzero(jwt, sizeof(*jwt));
}

/*
 * Appends the base64url JWS header for key: {"alg":"EdDSA","typ":"JWT",
 * "kid":<thumbprint>} or {"alg":"HS256","typ":"JWT"}.
 */
void
lbx_jwt_header(struct lbx_buf *b, const struct lbx_key *key)
{
	char	 json[128];
	int	 n;

	if (key->alg == LBX_ALG_EDDSA)
		n = snprintf(json, sizeof(json), "{\"alg\":\"EdDSA\","
		    "\"typ\":\"JWT\",\"kid\":\"%s\"}", key->kid);
	else
		n = snprintf(json, sizeof(json),
		    "{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
	lbx_buf_b64url(b, json, (size_t)n);
}

/*
 * Appends the compact JWS hdr.payload.signature to b: hdr (hlen bytes)
 * is the base64url header from lbx_jwt_header(), payload (plen bytes)
 * the claims JSON.  key must be able to sign (an HS256 key or an
 * Ed25519 key with its secret half).  Check b->oom afterwards.
 */
void
lbx_jwt_sign(struct lbx_buf *b, const char *hdr, size_t hlen,
    const char *payload, size_t plen, const struct lbx_key *key)
{
	crypto_auth_hmacsha256_state	 st;
	unsigned char			 sig[crypto_sign_BYTES];
	size_t				 start = b->len, siglen;

	lbx_buf_put(b, hdr, hlen);
	lbx_buf_putc(b, '.');
	lbx_buf_b64url(b, payload, plen);
	if (b->oom)
		return;
	if (key->alg == LBX_ALG_HS256) {
		memcpy(&st, key->hmac, sizeof(st));
		crypto_auth_hmacsha256_update(&st,
		    (const unsigned char *)b->p + start, b->len - start);
		crypto_auth_hmacsha256_final(&st, sig);
		sodium_memzero(&st, sizeof(st));
		siglen = crypto_auth_hmacsha256_BYTES;
	} else {
		crypto_sign_detached(sig, NULL,
		    (const unsigned char *)b->p + start, b->len - start,
		    key->sk);
		siglen = crypto_sign_BYTES;
	}
	lbx_buf_putc(b, '.');
	lbx_buf_b64url(b, sig, siglen);
}
