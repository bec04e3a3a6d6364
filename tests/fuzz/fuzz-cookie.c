/*
 * fuzz-cookie.c: the session cookie, cookie.c.
 *
 * Input: a Cookie header.  lbx_cookie_find() looks for "session" in it;
 * a value found goes through lbx_jwt_parse() for both algorithms, and
 * the whole header through lbx_cookie_verify() with a fixed HS256 key.
 * A fuzzer cannot forge an HMAC, so the input is also read as a claims
 * object and checked by lbx_cookie_claims() directly, and the user it
 * yields is queried as a policy would.
 */
#include <stdlib.h>
#include <string.h>

#include "../../lib/extern.h"
#include "fuzz.h"

/* The cookie secret of fuzz-params too: lbauthctl cookie can mint seeds. */
static const unsigned char secret[32] = "lbauth-fuzz-cookie-secret-32byte";

static const struct lbx_key *
hs256_key(void)
{
	static struct lbx_key	 key;
	static int		 done;
	const char		*reason;

	if (!done) {
		if (sodium_init() < 0 ||
		    lbx_key_hs256(&key, secret, sizeof(secret), &reason) !=
		    LBAUTH_OK)
			abort();
		done = 1;
	}
	return &key;
}

/* Queries u as a policy would, checking what must hold. */
static void
query_user(const struct lbauth_user *u)
{
	static const char *const rooms[] = {
		"", "room", "acme:room", "acme:", "a*", "*",
	};
	struct json_object	*e;
	const char		*s;
	char			*room;
	size_t			 i, n, len;

	if (lbauth_user_id(u) == NULL)
		abort();
	(void)lbauth_user_org(u);
	(void)lbauth_user_claim(u, "name");
	(void)lbauth_user_claim(u, "iss");
	n = lbauth_user_ngroups(u);
	for (i = 0; i <= n; i++)
		if ((lbauth_user_group(u, i) == NULL) != (i == n))
			abort();
	for (i = 0; i < sizeof(rooms) / sizeof(rooms[0]); i++)
		(void)lbauth_user_may_enter(u, rooms[i]);
	if (u->rooms == NULL)
		return;
	/* Every entry lets in its own room: "x" lets in "x", "x*" "x". */
	for (i = 0; i < json_object_array_length(u->rooms); i++) {
		e = json_object_array_get_idx(u->rooms, i);
		s = json_object_get_string(e);
		len = (size_t)json_object_get_string_len(e);
		if (len > 0 && s[len - 1] == '*')
			len--;
		if ((room = strndup(s, len)) == NULL)
			abort();
		if (!lbauth_user_may_enter(u, room))
			abort();
		free(room);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct lbx_claims_rules rules = {
		1000000000, 60, "iss", "aud"
	};
	const struct lbx_key	*key = hs256_key();
	struct lbauth_user	 u;
	struct lbx_jwt		 jwt;
	struct json_object	*claims;
	const char		*val, *reason;
	char			*hdr;
	size_t			 len;

	if ((hdr = malloc(size + 1)) == NULL)
		abort();
	memcpy(hdr, data, size);
	hdr[size] = '\0';

	if (lbx_cookie_find(hdr, "session", &val, &len) == LBAUTH_OK) {
		if (len == 0 || len > LBX_COOKIE_TOKEN_MAX ||
		    val < hdr || val + len > hdr + strlen(hdr))
			abort();
		if (lbx_jwt_parse(&jwt, val, len, LBX_ALG_HS256, &reason) ==
		    LBAUTH_OK && jwt.sig_len != crypto_auth_hmacsha256_BYTES)
			abort();
		lbx_jwt_clear(&jwt);
		if (lbx_jwt_parse(&jwt, val, len, LBX_ALG_EDDSA, &reason) ==
		    LBAUTH_OK && jwt.sig_len != crypto_sign_BYTES)
			abort();
		lbx_jwt_clear(&jwt);
	}
	lbx_user_init(&u);
	if (lbx_cookie_verify(&u, hdr, "session", key, &rules, &reason) ==
	    LBAUTH_OK)
		query_user(&u);
	lbx_user_clear(&u);
	free(hdr);

	/* Past the signature: the input as the verified claims. */
	if (lbx_json_parse((const char *)data, size, &claims) != LBAUTH_OK)
		return 0;
	if (!json_object_is_type(claims, json_type_object)) {
		json_object_put(claims);	/* lbx_jwt_payload() says no */
		return 0;
	}
	lbx_user_init(&u);
	if (lbx_cookie_claims(&u, claims, &rules, &reason) == LBAUTH_OK) {
		if (u.info.len > 0 && u.info.p[0] != '{')
			abort();
		query_user(&u);
	}
	lbx_user_clear(&u);	/* claims belong to u on every return */
	return 0;
}
