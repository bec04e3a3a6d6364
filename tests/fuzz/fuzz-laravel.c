/*
 * fuzz-laravel.c: the laravel session-id cookie, lbx_sid_laravel()
 * (sid.c), with a fixed APP_KEY, under each of the four ciphers
 * (laravel_cipher).
 *
 * Input: a cookie value.  A fuzzer cannot forge the MAC, so when the
 * input decodes to a JSON payload with "iv" and "value" strings, the
 * harness also sets its "mac" to the right one and feeds that again
 * under both CBC ciphers: the IV check, the base64 of the value, AES-CBC
 * padding and the cookie-name prefix then meet fuzzed bytes too.  The
 * GCM ciphers share all but the tag check with them, and meet the
 * fuzzed payload, iv and tag.
 */
#include <stdlib.h>
#include <string.h>

#include "../../lib/extern.h"
#include "fuzz.h"

static const unsigned char key[32] = "lbauth-fuzz-laravel-app-key-32b!";

/*
 * Decodes v under cipher c with the key's first lbx_lvcipher_keylen(c)
 * bytes; aborts on an id no session id may be.
 */
static void
decode(const char *v, size_t len, enum lbx_lvcipher c)
{
	struct lbx_secret	 s;
	char			 sid[LBX_SID_MAX + 1];

	s.p = (unsigned char *)(uintptr_t)key;
	s.len = lbx_lvcipher_keylen(c);
	if (lbx_sid_laravel(v, len, "laravel_session", c, &s, 1, sid) ==
	    LBAUTH_OK && (strlen(sid) == 0 || strlen(sid) > LBX_SID_MAX))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 loaded;
	struct json_object	*o = NULL;
	crypto_auth_hmacsha256_state st;
	unsigned char		 mac[crypto_auth_hmacsha256_BYTES];
	char			 hex[65], err[256];
	const char		*iv, *val, *js;
	char			*b64;
	size_t			 ivlen, vlen, n;
	int			 c, k;

	if (!loaded) {
		if (sodium_init() < 0 || lbx_ossl_load(err, sizeof(err)) !=
		    LBAUTH_OK)
			abort();
		loaded = 1;
	}
	for (c = LBX_LV_AES_256_CBC; c <= LBX_LV_AES_128_GCM; c++)
		decode((const char *)data, size, c);
	/* The input as the JSON payload, with its MAC made right. */
	if (lbx_json_parse((const char *)data, size, &o) != LBAUTH_OK)
		return 0;
	if (!json_object_is_type(o, json_type_object) ||
	    (iv = lbx_json_get_str(o, "iv", &ivlen)) == NULL ||
	    (val = lbx_json_get_str(o, "value", &vlen)) == NULL) {
		json_object_put(o);
		return 0;
	}
	/* The MAC under each CBC cipher's key: its first 32 or 16 bytes. */
	for (k = 0; k < 2; k++) {
		c = k == 0 ? LBX_LV_AES_256_CBC : LBX_LV_AES_128_CBC;
		crypto_auth_hmacsha256_init(&st, key, lbx_lvcipher_keylen(c));
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)iv,
		    ivlen);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)val,
		    vlen);
		crypto_auth_hmacsha256_final(&st, mac);
		sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
		/* The same object: iv and val stay its own strings. */
		json_object_object_add(o, "mac", json_object_new_string(hex));
		js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE);
		n = sodium_base64_ENCODED_LEN(strlen(js),
		    sodium_base64_VARIANT_ORIGINAL);
		if (n < LBX_COOKIE_TOKEN_MAX && (b64 = malloc(n)) != NULL) {
			sodium_bin2base64(b64, n, (const unsigned char *)js,
			    strlen(js), sodium_base64_VARIANT_ORIGINAL);
			decode(b64, strlen(b64), c);
			free(b64);
		}
	}
	json_object_put(o);
	return 0;
}
