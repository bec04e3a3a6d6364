/*
 * b64.c: base64url without padding (RFC 4648 section 5), the encoding
 * of every JWS part (RFC 7515 section 2), over libsodium's constant-time
 * codec.  libsodium rejects padding, characters outside the alphabet
 * and non-zero trailing bits, so every decoded value has exactly one
 * encoding.
 */
#include "extern.h"

/*
 * Decodes inlen bytes of base64url at in into out (outsz bytes) and
 * stores the decoded length in *outlen_r.  Returns LBAUTH_OK, or
 * LBAUTH_ETOKEN when in is not canonical unpadded base64url or decodes
 * to more than outsz bytes.  Pure: no allocation.
 */
enum lbauth_err
lbx_b64url_decode(unsigned char *out, size_t outsz, size_t *outlen_r,
    const char *in, size_t inlen)
{
	const char	*end;

	*outlen_r = 0;
	if (inlen % 4 == 1)
		return LBAUTH_ETOKEN;
	if (sodium_base642bin(out, outsz, in, inlen, NULL, outlen_r, &end,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != in + inlen) {
		*outlen_r = 0;
		return LBAUTH_ETOKEN;
	}
	return LBAUTH_OK;
}

/*
 * Encodes inlen bytes of in as base64url into out, which must hold
 * LBX_B64URL_LEN(inlen) + 1 bytes (outsz), and NUL-terminates it.
 * Returns the encoded length.  A too small out is a programmer error.
 */
size_t
lbx_b64url_encode(char *out, size_t outsz, const void *in, size_t inlen)
{

	sodium_bin2base64(out, outsz, in, inlen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return LBX_B64URL_LEN(inlen);
}
