/*
 * test-b64.c: lib/b64.c, base64url without padding (RFC 4648 section 5)
 * over libsodium.  Every decoded value must have exactly one encoding.
 */
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"

/* RFC 4648 section 10 test vectors, written without padding. */
static const struct {
	const char	*bin;
	const char	*b64;
} vectors[] = {
	{ "", "" },			/* RFC 4648 10: BASE64("") */
	{ "f", "Zg" },			/* BASE64("f") = "Zg==" */
	{ "fo", "Zm8" },		/* BASE64("fo") = "Zm8=" */
	{ "foo", "Zm9v" },		/* BASE64("foo") */
	{ "foob", "Zm9vYg" },		/* BASE64("foob") = "Zm9vYg==" */
	{ "fooba", "Zm9vYmE" },		/* BASE64("fooba") = "Zm9vYmE=" */
	{ "foobar", "Zm9vYmFy" },	/* BASE64("foobar") */
	{ "\xfb\xff", "-_8" },		/* the url alphabet: "+/8=" in std */
	{ "\xff\xff\xff", "____" },	/* all 63s */
};

/* Inputs that must not decode. */
static const struct {
	const char	*b64;
	size_t		 outsz;
} bad[] = {
	{ "Zg==", 16 },		/* padding '=' */
	{ "Zm8=", 16 },		/* padding, one '=' */
	{ "+/8", 16 },		/* standard alphabet '+' '/' */
	{ "Zm+v", 16 },		/* '+' alone */
	{ "Zm/v", 16 },		/* '/' alone */
	{ "Zm 9v", 16 },	/* a blank inside */
	{ "Zm9v\n", 16 },	/* a trailing newline */
	{ " Zm9v", 16 },	/* a leading blank */
	{ "Zm9vY", 16 },	/* length % 4 == 1 */
	{ "Z", 16 },		/* length 1 */
	{ "QR", 16 },		/* non-zero trailing bits ("QQ" is canonical) */
	{ "Zm9=", 16 },		/* '=' inside the last quantum */
	{ "Zh", 16 },		/* "Zg" with trailing bits set */
	{ "Zm9", 16 },		/* "Zm8" with trailing bits set */
	{ "Zm9v", 2 },		/* 3 bytes into a 2-byte buffer */
	{ "Zm9vYmFy", 5 },	/* 6 bytes into 5 */
	{ "Zg", 0 },		/* 1 byte into nothing */
	{ "Zm.v", 16 },		/* a JWS separator */
};

int
main(void)
{
	unsigned char	 out[64];
	char		 enc[64];
	size_t		 i, n, blen;

	if (sodium_init() < 0)
		return 1;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		blen = strlen(vectors[i].bin);
		memset(out, 0xaa, sizeof(out));
		test_assert_idx(lbx_b64url_decode(out, sizeof(out), &n,
		    vectors[i].b64, strlen(vectors[i].b64)) == LBAUTH_OK, i);
		test_assert_idx(n == blen, i);
		test_assert_idx(memcmp(out, vectors[i].bin, blen) == 0, i);
		/* Exactly enough room is enough. */
		test_assert_idx(lbx_b64url_decode(out, blen, &n,
		    vectors[i].b64, strlen(vectors[i].b64)) == LBAUTH_OK &&
		    n == blen, i);

		test_assert_idx(LBX_B64URL_LEN(blen) ==
		    strlen(vectors[i].b64), i);
		memset(enc, 'x', sizeof(enc));
		test_assert_idx(lbx_b64url_encode(enc, LBX_B64URL_LEN(blen) + 1,
		    vectors[i].bin, blen) == strlen(vectors[i].b64), i);
		test_assert_idx(strcmp(enc, vectors[i].b64) == 0, i);
	}

	/* The canonical form next to the non-canonical one. */
	test_assert(lbx_b64url_decode(out, sizeof(out), &n, "QQ", 2) ==
	    LBAUTH_OK && n == 1 && out[0] == 'A');

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 12345;
		test_assert_idx(lbx_b64url_decode(out, bad[i].outsz, &n,
		    bad[i].b64, strlen(bad[i].b64)) == LBAUTH_ETOKEN, i);
		test_assert_idx(n == 0, i);
	}

	/* Only inlen bytes are read: the rest of the string is not input. */
	test_assert(lbx_b64url_decode(out, sizeof(out), &n, "Zm9v====", 4) ==
	    LBAUTH_OK && n == 3 && memcmp(out, "foo", 3) == 0);

	return test_done();
}
