/*
 * sid.c: session-id cookies.  The session cookie of an app that keeps
 * its sessions in SQL holds a session id, in one of three formats
 * (session_format):
 *
 *	raw	the value is the id (PHP's PHPSESSID, Django's
 *		sessionid, Flask-Session);
 *	express	express-session's "s:<id>.<mac>", URL-encoded, where mac
 *		is HMAC-SHA256(secret, id) in base64 without padding, checked
 *		exactly as npm cookie-signature's unsign() checks it, against
 *		each secret in turn (rotation);
 *	laravel	Laravel's EncryptCookies (Illuminate 8's Encrypter and
 *		CookieValuePrefix): URL-encoded base64 of the JSON
 *		{"iv","value","mac","tag"}; mac is the hex HMAC-SHA256 of the
 *		base64 iv followed by the base64 value under APP_KEY; value
 *		is AES-256-CBC (PKCS#7) of "<hex HMAC-SHA1(APP_KEY, cookie
 *		name + "v2")>|<session id>".  Each key (APP_KEY first, then
 *		previous ones) is tried in turn.
 *
 * The functions are pure: bytes and keys in, an id out; no I/O, no
 * globals (libcrypto, for laravel, is loaded by ossl.c before).  MACs
 * are compared with sodium_memcmp(); decrypted bytes are wiped.
 */
#include <string.h>

#include "extern.h"

/*
 * Whether the len bytes at s can be a session id: 1..LBX_SID_MAX
 * printable ASCII bytes.  Every format's ids are (PHP and Laravel use
 * [A-Za-z0-9,-], express-session base64url), and the check keeps NUL,
 * controls and odd bytes out of the SQL parameter.
 */
static bool
is_sid(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > LBX_SID_MAX)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static int
hexval(char c)
{

	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decodes len bytes at in into out (at least len bytes), with
 * '+' as a blank when plus is set (PHP's urldecode(), which fills
 * $_COOKIE) or kept (decodeURIComponent(), which npm cookie uses).  A
 * malformed escape leaves the value as it is, as both do (npm cookie's
 * tryDecode).  Returns the decoded length.
 */
static size_t
url_decode(const char *in, size_t len, char *out, bool plus)
{
	size_t	 i, n = 0;
	int	 hi, lo;

	for (i = 0; i < len; i++) {
		if (in[i] == '%') {
			if (i + 2 >= len)
				goto raw;
			if ((hi = hexval(in[i + 1])) < 0 ||
			    (lo = hexval(in[i + 2])) < 0)
				goto raw;
			out[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (plus && in[i] == '+')
			out[n++] = ' ';
		else
			out[n++] = in[i];
	}
	return n;
raw:
	if (plus) {
		/* PHP leaves a bad escape as is but still decodes the rest. */
		for (n = 0, i = 0; i < len; i++) {
			if (in[i] == '%' && i + 2 < len &&
			    (hi = hexval(in[i + 1])) >= 0 &&
			    (lo = hexval(in[i + 2])) >= 0) {
				out[n++] = (char)(hi << 4 | lo);
				i += 2;
			} else
				out[n++] = in[i] == '+' ? ' ' : in[i];
		}
		return n;
	}
	memcpy(out, in, len);
	return len;
}

/*
 * The raw format: the cookie value v (len bytes) is the id.  Copies it,
 * NUL-terminated, into sid (LBX_SID_MAX + 1 bytes).  Returns LBAUTH_OK
 * or LBAUTH_ESID.  Pure.
 */
enum lbauth_err
lbx_sid_raw(const char *v, size_t len, char *sid)
{

	if (!is_sid(v, len))
		return LBAUTH_ESID;
	memcpy(sid, v, len);
	sid[len] = '\0';
	return LBAUTH_OK;
}

/*
 * The express format: v (len bytes) is the cookie value as sent,
 * checked against the n secrets.  On success copies the id into sid
 * (LBX_SID_MAX + 1 bytes) and returns LBAUTH_OK; else LBAUTH_ESID (an
 * unsigned value, a bad MAC under every secret, a bad id).  Pure.
 *
 * As cookie-signature's unsign(input, secret): the id is what precedes
 * the last '.', and input must equal sign(id, secret), that is id, '.'
 * and the 43 base64 characters of the HMAC without its '=' padding.
 */
enum lbauth_err
lbx_sid_express(const char *v, size_t len, const struct lbx_secret *secrets,
    size_t n, char *sid)
{
	char		 buf[LBX_COOKIE_TOKEN_MAX];
	unsigned char	 mac[crypto_auth_hmacsha256_BYTES];
	char		 b64[sodium_base64_ENCODED_LEN(sizeof(mac),
			    sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
	crypto_auth_hmacsha256_state st;
	const char	*in, *dot;
	size_t		 dlen, inlen, idlen, i;
	enum lbauth_err	 rc = LBAUTH_ESID;

	if (len > sizeof(buf))
		return LBAUTH_ESID;
	dlen = url_decode(v, len, buf, false);
	/* express-session: a value without "s:" is not a signed id. */
	if (dlen < 2 || buf[0] != 's' || buf[1] != ':')
		goto out;
	in = buf + 2;
	inlen = dlen - 2;
	for (dot = NULL, i = inlen; i > 0; i--)
		if (in[i - 1] == '.') {
			dot = in + i - 1;
			break;
		}
	if (dot == NULL)
		goto out;
	idlen = (size_t)(dot - in);
	/* Same length as sign(id): the MAC part is 43 characters. */
	if (inlen - idlen - 1 != sizeof(b64) - 1 || !is_sid(in, idlen))
		goto out;
	for (i = 0; i < n; i++) {
		crypto_auth_hmacsha256_init(&st, secrets[i].p, secrets[i].len);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)in,
		    idlen);
		crypto_auth_hmacsha256_final(&st, mac);
		sodium_bin2base64(b64, sizeof(b64), mac, sizeof(mac),
		    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
		if (sodium_memcmp(b64, dot + 1, sizeof(b64) - 1) == 0) {
			memcpy(sid, in, idlen);
			sid[idlen] = '\0';
			rc = LBAUTH_OK;
			break;
		}
	}
out:
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(mac, sizeof(mac));
	sodium_memzero(b64, sizeof(b64));
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

/* A base64 alphabet index, or -1 (standard alphabet, RFC 4648 4). */
static int
b64val(unsigned char c)
{

	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * PHP's non-strict base64_decode(): characters outside the alphabet are
 * skipped, decoding stops at the first '='.  Decodes len bytes at in
 * into out (at least len bytes); returns the decoded length.
 */
static size_t
b64_lenient(const char *in, size_t len, unsigned char *out)
{
	unsigned	 acc = 0, bits = 0;
	size_t		 i, n = 0;
	int		 d;

	for (i = 0; i < len && in[i] != '='; i++) {
		if ((d = b64val((unsigned char)in[i])) < 0)
			continue;
		acc = (acc << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return n;
}

/*
 * Strict standard base64 (padding optional) of len bytes at in into
 * out (outsz bytes); returns the length or (size_t)-1.
 */
static size_t
b64_strict(const char *in, size_t len, unsigned char *out, size_t outsz)
{
	size_t	 n;

	if (sodium_base642bin(out, outsz, in, len, NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) == 0)
		return n;
	if (sodium_base642bin(out, outsz, in, len, NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING) == 0)
		return n;
	return (size_t)-1;
}

/*
 * The laravel format: v (len bytes) is the cookie value as sent, name
 * the cookie's name, keys the n 32-byte keys (APP_KEY first).  On
 * success copies the session id into sid (LBX_SID_MAX + 1 bytes) and
 * returns LBAUTH_OK; else LBAUTH_ESID.  libcrypto must be loaded
 * (lbx_ossl_load()).  Pure otherwise.
 *
 * As Encrypter::decrypt() with the cipher aes-256-cbc: the payload is
 * an object with iv, value and mac set; iv decodes (strictly) to 16
 * bytes; a non-empty tag is refused (no AEAD with CBC); mac equals
 * hash_hmac('sha256', iv . value, key) as compared by hash_equals();
 * then EncryptCookies' prefix check.
 */
enum lbauth_err
lbx_sid_laravel(const char *v, size_t len, const char *name,
    const struct lbx_secret *keys, size_t n, char *sid)
{
	char			 buf[LBX_COOKIE_TOKEN_MAX];
	unsigned char		 json[LBX_COOKIE_TOKEN_MAX];
	unsigned char		 ct[LBX_COOKIE_TOKEN_MAX];
	unsigned char		 pt[LBX_COOKIE_TOKEN_MAX];
	unsigned char		 iv[16], mac[crypto_auth_hmacsha256_BYTES];
	unsigned char		 mac1[20];
	char			 hex[2 * sizeof(mac) + 1], prefix[42];
	crypto_auth_hmacsha256_state st;
	struct json_object	*o = NULL;
	const char		*ivs, *vals, *macs, *tag;
	size_t			 dlen, jlen, ivlen, vlen, maclen, ctlen = 0;
	size_t			 ptlen = 0, i, nlen = strlen(name);
	const struct lbx_secret	*key = NULL;
	char			 pre[LBX_COOKIE_HEADER_MAX];
	enum lbauth_err		 rc = LBAUTH_ESID;

	if (len > sizeof(buf) || nlen + 2 > sizeof(pre))
		return LBAUTH_ESID;
	dlen = url_decode(v, len, buf, true);
	jlen = b64_lenient(buf, dlen, json);
	if (lbx_json_parse((const char *)json, jlen, &o) != LBAUTH_OK)
		goto out;
	if (!json_object_is_type(o, json_type_object) ||
	    (ivs = lbx_json_get_str(o, "iv", &ivlen)) == NULL ||
	    (vals = lbx_json_get_str(o, "value", &vlen)) == NULL ||
	    (macs = lbx_json_get_str(o, "mac", &maclen)) == NULL)
		goto out;
	if (b64_strict(ivs, ivlen, iv, sizeof(iv) + 2) != sizeof(iv))
		goto out;
	if ((tag = lbx_json_get_str(o, "tag", NULL)) != NULL &&
	    tag[0] != '\0' && strcmp(tag, "0") != 0)
		goto out;
	{
		struct json_object *t;

		/* A tag that is there and not a string is not empty(). */
		if (json_object_object_get_ex(o, "tag", &t) && t != NULL &&
		    tag == NULL)
			goto out;
	}
	if (maclen != sizeof(hex) - 1)
		goto out;
	for (i = 0; i < n && key == NULL; i++) {
		crypto_auth_hmacsha256_init(&st, keys[i].p, keys[i].len);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)ivs,
		    ivlen);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)vals,
		    vlen);
		crypto_auth_hmacsha256_final(&st, mac);
		sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
		if (sodium_memcmp(hex, macs, sizeof(hex) - 1) == 0)
			key = &keys[i];
	}
	if (key == NULL || key->len != 32)
		goto out;
	/* openssl_decrypt() with options 0 takes the value as base64. */
	if ((ctlen = b64_strict(vals, vlen, ct, sizeof(ct))) == (size_t)-1 ||
	    lbx_ossl_aes256cbc_decrypt(key->p, iv, ct, ctlen, pt, &ptlen) != 0)
		goto out;
	/* CookieValuePrefix::create(name, key): sha1 hex and '|'. */
	memcpy(pre, name, nlen);
	memcpy(pre + nlen, "v2", 2);
	if (lbx_ossl_hmac_sha1(key->p, key->len, pre, nlen + 2, mac1) != 0)
		goto out;
	sodium_bin2hex(prefix, sizeof(prefix), mac1, sizeof(mac1));
	prefix[40] = '|';
	if (ptlen <= 41 || sodium_memcmp(pt, prefix, 41) != 0 ||
	    !is_sid((const char *)pt + 41, ptlen - 41))
		goto out;
	memcpy(sid, pt + 41, ptlen - 41);
	sid[ptlen - 41] = '\0';
	rc = LBAUTH_OK;
out:
	json_object_put(o);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(pt, sizeof(pt));
	sodium_memzero(mac, sizeof(mac));
	sodium_memzero(mac1, sizeof(mac1));
	sodium_memzero(hex, sizeof(hex));
	sodium_memzero(prefix, sizeof(prefix));
	return rc;
}
