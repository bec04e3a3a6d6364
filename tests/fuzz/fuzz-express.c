/*
 * fuzz-express.c: the express session-id cookie, lbx_sid_express()
 * (sid.c).
 *
 * Input: a cookie value, checked against two secrets.  A fuzzer cannot
 * forge an HMAC, so the input is also signed as an id, as
 * cookie-signature signs it, and the decoder must give it back exactly
 * (when it is a possible id) or refuse it.
 */
#include <stdlib.h>
#include <string.h>

#include "../../lib/extern.h"
#include "fuzz.h"

static const char a[] = "keyboard cat", b[] = "rotated-secret-2024";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lbx_secret	 s[2];
	unsigned char		 mac[crypto_auth_hmacsha256_BYTES];
	char			 b64[64], sid[LBX_SID_MAX + 1];
	char			*buf;
	enum lbauth_err		 rc;
	size_t			 n, i;

	if (sodium_init() < 0)
		abort();
	s[0].p = (unsigned char *)(uintptr_t)a;
	s[0].len = strlen(a);
	s[1].p = (unsigned char *)(uintptr_t)b;
	s[1].len = strlen(b);
	rc = lbx_sid_express((const char *)data, size, s, 2, sid);
	if (rc == LBAUTH_OK && (strlen(sid) == 0 || strlen(sid) > LBX_SID_MAX))
		abort();
	if (size > LBX_SID_MAX + 8)
		return 0;
	/* "s:" id "." base64(HMAC(b, id)) without '=': must decode to id. */
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, s[1].p, s[1].len);
	crypto_auth_hmacsha256_update(&st, data, size);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2base64(b64, sizeof(b64), mac, sizeof(mac),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	n = 2 + size + 1 + strlen(b64);
	if ((buf = malloc(n)) == NULL)
		abort();
	memcpy(buf, "s:", 2);
	memcpy(buf + 2, data, size);
	buf[2 + size] = '.';
	memcpy(buf + 3 + size, b64, strlen(b64));
	rc = lbx_sid_express(buf, n, s, 2, sid);
	/* A '%' in the id is decoded first, as npm cookie does. */
	if (rc == LBAUTH_OK && memchr(data, '%', size) == NULL &&
	    (strlen(sid) != size || memcmp(sid, data, size) != 0))
		abort();
	if (rc != LBAUTH_OK && memchr(data, '%', size) == NULL &&
	    memchr(data, '.', size) == NULL && size > 0) {
		for (i = 0; i < size; i++)
			if (data[i] <= 0x20 || data[i] >= 0x7f)
				break;
		if (i == size)
			abort();	/* a possible id, signed, refused */
	}
	free(buf);
	return 0;
}
