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
 *		{"iv","value","mac","tag"}; value is "<hex HMAC-SHA1(APP_KEY,
 *		cookie name + "v2")>|<session id>" encrypted with the app's
 *		cipher (laravel_cipher): AES-256-CBC (Laravel's default) or
 *		AES-128-CBC, PKCS#7, where mac is the hex HMAC-SHA256 of the
 *		base64 iv followed by the base64 value under APP_KEY; or
 *		AES-256-GCM or AES-128-GCM, where the 16-byte tag
 *		authenticates it and mac is empty.  Each key (APP_KEY first,
 *		then previous ones) is tried in turn.
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
 * Percent-decodes len bytes at in into out (at least len bytes): as
 * PHP fills $_COOKIE when php is set (php_raw_url_decode(): '+' is kept,
 * a malformed escape is left as it is and the rest decoded), else as npm
 * cookie's decodeURIComponent() (its tryDecode: a malformed escape
 * leaves the whole value as it is).  Returns the decoded length.
 */
static size_t
url_decode(const char *in, size_t len, char *out, bool php)
{
	size_t	 i, n = 0;
	int	 hi, lo;

	for (i = 0; i < len; i++) {
		if (in[i] == '%' && i + 2 < len &&
		    (hi = hexval(in[i + 1])) >= 0 &&
		    (lo = hexval(in[i + 2])) >= 0) {
			out[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (in[i] == '%' && !php) {
			memcpy(out, in, len);
			return len;
		} else
			out[n++] = in[i];
	}
	return n;
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
 * PHP's non-strict base64_decode(): characters outside the alphabet,
 * '=' among them, are skipped, and what follows a '=' is decoded too
 * (so bytes after the padding are not dropped unread).  Decodes len
 * bytes at in into out (at least len bytes); returns the decoded length.
 */
static size_t
b64_lenient(const char *in, size_t len, unsigned char *out)
{
	unsigned	 acc = 0, bits = 0;
	size_t		 i, n = 0;
	int		 d;

	for (i = 0; i < len; i++) {
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

/* Each laravel_cipher's key and iv length, and its name in Laravel. */
static const struct {
	const char	*name;
	size_t		 keylen, ivlen;
	bool		 aead;
} lvciphers[] = {
	[LBX_LV_AES_256_CBC] = { "aes-256-cbc", 32, 16, false },
	[LBX_LV_AES_128_CBC] = { "aes-128-cbc", 16, 16, false },
	[LBX_LV_AES_256_GCM] = { "aes-256-gcm", 32, 12, true },
	[LBX_LV_AES_128_GCM] = { "aes-128-gcm", 16, 12, true },
};

/* The key length of cipher c in bytes (APP_KEY's, decoded). */
size_t
lbx_lvcipher_keylen(enum lbx_lvcipher c)
{

	return lvciphers[c].keylen;
}

/* Cipher c as Laravel's config/app.php names it, in lower case. */
const char *
lbx_lvcipher_name(enum lbx_lvcipher c)
{

	return lvciphers[c].name;
}

/*
 * Encrypter::decrypt()'s key for a CBC payload: the first of the n keys
 * (of c's length) under which mac (maclen bytes, hex) is the HMAC-SHA256
 * of the base64 iv and value, compared as hash_equals() compares; NULL
 * if none.
 */
static const struct lbx_secret *
cbc_key(const char *ivs, size_t ivlen, const char *vals, size_t vlen,
    const char *macs, size_t maclen, const struct lbx_secret *keys, size_t n)
{
	unsigned char		 mac[crypto_auth_hmacsha256_BYTES];
	char			 hex[2 * sizeof(mac) + 1];
	crypto_auth_hmacsha256_state st;
	const struct lbx_secret	*key = NULL;
	size_t			 i;

	if (maclen != sizeof(hex) - 1)
		return NULL;
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
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(mac, sizeof(mac));
	sodium_memzero(hex, sizeof(hex));
	return key;
}

/*
 * The tag as Encrypter::ensureTagIsValid() wants it for cipher c: for
 * CBC none (absent, or a value PHP's empty() is true of: "", "0",
 * null); for GCM a string that base64_decode() (not strict) turns into
 * exactly 16 bytes, stored in tag.  Returns 0, or -1.  Stricter than
 * PHP in one way: a tag Laravel never writes (a number, an array) is
 * refused.
 */
static int
payload_tag(struct json_object *o, enum lbx_lvcipher c, unsigned char *tag)
{
	struct json_object	*t = NULL;
	const char		*s;
	size_t			 len;
	unsigned char		 buf[LBX_COOKIE_TOKEN_MAX];

	if (!json_object_object_get_ex(o, "tag", &t) || t == NULL)
		return lvciphers[c].aead ? -1 : 0;
	if ((s = lbx_json_get_str(o, "tag", &len)) == NULL)
		return -1;
	/* PHP's empty(): "" and "0", not "0\0x". */
	if (!lvciphers[c].aead)
		return len == 0 || (len == 1 && s[0] == '0') ? 0 : -1;
	if (len == 0 || (len == 1 && s[0] == '0') || len > sizeof(buf) ||
	    b64_lenient(s, len, buf) != 16)
		return -1;
	memcpy(tag, buf, 16);
	return 0;
}

/*
 * The laravel format: v (len bytes) is the cookie value as sent, name
 * the cookie's name, c the app's cipher, keys the n keys of c's length
 * (APP_KEY first).  On success copies the session id into sid
 * (LBX_SID_MAX + 1 bytes) and returns LBAUTH_OK; else LBAUTH_ESID.
 * libcrypto must be loaded (lbx_ossl_load()).  Pure otherwise.
 *
 * As Encrypter::decrypt() with that cipher: the payload is an object
 * with iv, value and mac strings; iv decodes (strictly) to the
 * cipher's iv length (16 bytes for CBC, 12 for GCM); the tag is as
 * payload_tag() says; for CBC, mac equals hash_hmac('sha256', iv .
 * value, key) and names the key; for GCM, whose mac Laravel leaves
 * empty and never reads, each key is tried until one authenticates
 * the value.  Then EncryptCookies' prefix check, under that key.
 */
enum lbauth_err
lbx_sid_laravel(const char *v, size_t len, const char *name,
    enum lbx_lvcipher c, const struct lbx_secret *keys, size_t n, char *sid)
{
	char			 buf[LBX_COOKIE_TOKEN_MAX];
	unsigned char		 json[LBX_COOKIE_TOKEN_MAX];
	unsigned char		 ct[LBX_COOKIE_TOKEN_MAX];
	unsigned char		 pt[LBX_COOKIE_TOKEN_MAX];
	unsigned char		 iv[16], ivbuf[64], tag[16];
	unsigned char		 mac1[20];
	char			 prefix[42];
	struct json_object	*o = NULL;
	const char		*ivs, *vals, *macs;
	size_t			 dlen, jlen, ivlen, vlen, maclen, ctlen = 0;
	size_t			 ptlen = 0, i, nlen = strlen(name);
	const struct lbx_secret	*key = NULL;
	char			 pre[LBX_COOKIE_HEADER_MAX];
	enum lbauth_err		 rc = LBAUTH_ESID;

	if ((unsigned)c >= sizeof(lvciphers) / sizeof(lvciphers[0]) ||
	    len > sizeof(buf) || nlen + 2 > sizeof(pre))
		return LBAUTH_ESID;
	dlen = url_decode(v, len, buf, true);	/* as PHP reads it */
	jlen = b64_lenient(buf, dlen, json);
	if (lbx_json_parse((const char *)json, jlen, &o) != LBAUTH_OK)
		goto out;
	if (!json_object_is_type(o, json_type_object) ||
	    (ivs = lbx_json_get_str(o, "iv", &ivlen)) == NULL ||
	    (vals = lbx_json_get_str(o, "value", &vlen)) == NULL ||
	    (macs = lbx_json_get_str(o, "mac", &maclen)) == NULL)
		goto out;
	/* Into a larger buffer: a longer iv must be seen, not cut. */
	if (b64_strict(ivs, ivlen, ivbuf, sizeof(ivbuf)) != lvciphers[c].ivlen)
		goto out;
	memcpy(iv, ivbuf, lvciphers[c].ivlen);
	if (payload_tag(o, c, tag) == -1)
		goto out;
	/* openssl_decrypt() with options 0 takes the value as base64. */
	if ((ctlen = b64_strict(vals, vlen, ct, sizeof(ct))) == (size_t)-1)
		goto out;
	if (!lvciphers[c].aead) {
		if ((key = cbc_key(ivs, ivlen, vals, vlen, macs, maclen, keys,
		    n)) == NULL || key->len != lvciphers[c].keylen ||
		    lbx_ossl_decrypt(c, key->p, iv, ct, ctlen, NULL, pt,
		    &ptlen) != 0)
			goto out;
	} else
		for (i = 0; i < n && key == NULL; i++)
			if (keys[i].len == lvciphers[c].keylen &&
			    lbx_ossl_decrypt(c, keys[i].p, iv, ct, ctlen, tag,
			    pt, &ptlen) == 0)
				key = &keys[i];
	if (key == NULL)
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
	/* The cookie is a bearer credential too, in every decoded form. */
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(json, sizeof(json));
	sodium_memzero(ct, sizeof(ct));
	sodium_memzero(iv, sizeof(iv));
	sodium_memzero(ivbuf, sizeof(ivbuf));
	sodium_memzero(tag, sizeof(tag));
	sodium_memzero(pt, sizeof(pt));
	sodium_memzero(mac1, sizeof(mac1));
	sodium_memzero(prefix, sizeof(prefix));
	return rc;
}
