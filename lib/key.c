/*
 * key.c: the keys, derived from key file bytes (keyfile.c reads them).
 * An lbx_key is an HS256 secret (its keyed HMAC state) or an Ed25519
 * key pair or public key, with the RFC 7638 thumbprint as its kid.
 * Secret parts live in sodium_malloc() memory, made read-only once
 * derived, and are wiped by lbx_key_clear().  Keys are also written
 * out here: PEM (lbauthctl keygen, pubkey) and the public JWK
 * (lbauthctl jwks).
 *
 * Formats (all written by "lbauthctl keygen", all interoperable):
 *  - Ed25519 private key: PKCS#8 PEM (RFC 8410 section 7), as
 *    "openssl genpkey -algorithm ed25519" writes it;
 *  - Ed25519 public key: SPKI PEM (RFC 8410 section 4);
 *  - HS256 secret: the file's bytes with one trailing newline removed,
 *    at least 32 bytes (RFC 7518 section 3.2), so an app can hand the
 *    same string to its own JWT library.
 */
#include <stdio.h>
#include <string.h>

#include "extern.h"

/* DER prefixes of the two Ed25519 key encodings (RFC 8410). */
static const unsigned char pkcs8_prefix[16] = {
	0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
	0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20
};
static const unsigned char spki_prefix[12] = {
	0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65,
	0x70, 0x03, 0x21, 0x00
};
#define PEM_SK_BEGIN	"-----BEGIN PRIVATE KEY-----\n"
#define PEM_SK_END	"-----END PRIVATE KEY-----\n"
#define PEM_PK_BEGIN	"-----BEGIN PUBLIC KEY-----\n"
#define PEM_PK_END	"-----END PUBLIC KEY-----\n"

/*
 * Decodes a one-line PEM body of exactly der_len bytes between begin and
 * end into der.  Returns 0 or -1.  A missing final newline is accepted.
 */
static int
pem_decode(const unsigned char *pem, size_t len, const char *begin,
    const char *end, unsigned char *der, size_t der_len)
{
	size_t		 bl = strlen(begin), el = strlen(end) - 1, blen, out;
	const char	*body, *stop;

	/* Compare the end line without its newline: it may be missing. */
	if (len > 0 && pem[len - 1] == '\n')
		len--;
	if (len < bl + el || memcmp(pem, begin, bl) != 0 ||
	    memcmp(pem + len - el, end, el) != 0)
		return -1;
	body = (const char *)pem + bl;
	blen = len - bl - el;
	if (blen < 2 || body[blen - 1] != '\n')
		return -1;
	blen--;
	if (sodium_base642bin(der, der_len, body, blen, NULL, &out, &stop,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || stop != body + blen ||
	    out != der_len)
		return -1;
	return 0;
}

/* Computes key->kid, the RFC 7638 thumbprint of the public JWK. */
static void
thumbprint(struct lbx_key *key)
{
	unsigned char	 h[crypto_hash_sha256_BYTES];
	char		 x[LBX_B64URL_LEN(crypto_sign_PUBLICKEYBYTES) + 1];
	char		 json[96];
	int		 n;

	lbx_b64url_encode(x, sizeof(x), key->pk, sizeof(key->pk));
	/* RFC 7638 section 3.2: required members only, sorted, no blanks. */
	n = snprintf(json, sizeof(json),
	    "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x);
	crypto_hash_sha256(h, (const unsigned char *)json, (size_t)n);
	lbx_b64url_encode(key->kid, sizeof(key->kid), h, sizeof(h));
}

/*
 * Makes key an HS256 key from len bytes of secret (a file's content:
 * one trailing newline is dropped).  Returns LBAUTH_OK, LBAUTH_ENOMEM,
 * or LBAUTH_EKEYFILE with a static *reason_r.
 */
enum lbauth_err
lbx_key_hs256(struct lbx_key *key, const unsigned char *secret, size_t len,
    const char **reason_r)
{

	memset(key, 0, sizeof(*key));
	if (len > 0 && secret[len - 1] == '\n')
		len--;
	if (len < LBX_HS256_MIN || len > LBX_HS256_MAX) {
		*reason_r = "an HS256 secret must be 32 to 1024 bytes";
		return LBAUTH_EKEYFILE;
	}
	key->alg = LBX_ALG_HS256;
	if ((key->hmac = sodium_malloc(sizeof(*key->hmac))) == NULL)
		return LBAUTH_ENOMEM;
	crypto_auth_hmacsha256_init(key->hmac, secret, len);
	sodium_mprotect_readonly(key->hmac);
	return LBAUTH_OK;
}

/* Makes key an Ed25519 signing key from a 32-byte seed. */
enum lbauth_err
lbx_key_ed25519_seed(struct lbx_key *key, const unsigned char *seed)
{

	memset(key, 0, sizeof(*key));
	key->alg = LBX_ALG_EDDSA;
	if ((key->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL)
		return LBAUTH_ENOMEM;
	crypto_sign_seed_keypair(key->pk, key->sk, seed);
	sodium_mprotect_readonly(key->sk);
	thumbprint(key);
	return LBAUTH_OK;
}

/* Makes key an Ed25519 verification-only key from 32 public bytes. */
enum lbauth_err
lbx_key_ed25519_pk(struct lbx_key *key, const unsigned char *pk)
{

	memset(key, 0, sizeof(*key));
	key->alg = LBX_ALG_EDDSA;
	memcpy(key->pk, pk, sizeof(key->pk));
	thumbprint(key);
	return LBAUTH_OK;
}

/*
 * Makes key an Ed25519 signing key from a PKCS#8 PEM file's content.
 * Returns LBAUTH_OK, LBAUTH_ENOMEM, or LBAUTH_EKEYFILE with *reason_r.
 * The decoded seed is wiped before returning.
 */
enum lbauth_err
lbx_key_ed25519_sk_pem(struct lbx_key *key, const unsigned char *pem,
    size_t len, const char **reason_r)
{
	unsigned char	 der[sizeof(pkcs8_prefix) + crypto_sign_SEEDBYTES];
	enum lbauth_err	 rc;

	memset(key, 0, sizeof(*key));
	if (pem_decode(pem, len, PEM_SK_BEGIN, PEM_SK_END, der,
	    sizeof(der)) == -1 ||
	    memcmp(der, pkcs8_prefix, sizeof(pkcs8_prefix)) != 0) {
		sodium_memzero(der, sizeof(der));
		*reason_r = "not an Ed25519 private key in PKCS#8 PEM (as "
		    "written by \"lbauthctl keygen\" or \"openssl genpkey "
		    "-algorithm ed25519\")";
		return LBAUTH_EKEYFILE;
	}
	rc = lbx_key_ed25519_seed(key, der + sizeof(pkcs8_prefix));
	sodium_memzero(der, sizeof(der));
	return rc;
}

/*
 * Makes key an Ed25519 verification key from an SPKI PEM file's
 * content.  Returns LBAUTH_OK or LBAUTH_EKEYFILE with *reason_r.
 */
enum lbauth_err
lbx_key_ed25519_pk_pem(struct lbx_key *key, const unsigned char *pem,
    size_t len, const char **reason_r)
{
	unsigned char	 der[sizeof(spki_prefix) + crypto_sign_PUBLICKEYBYTES];

	memset(key, 0, sizeof(*key));
	if (pem_decode(pem, len, PEM_PK_BEGIN, PEM_PK_END, der,
	    sizeof(der)) == -1 ||
	    memcmp(der, spki_prefix, sizeof(spki_prefix)) != 0) {
		*reason_r = "not an Ed25519 public key in SPKI PEM (as "
		    "written by \"lbauthctl pubkey\" or \"openssl pkey "
		    "-pubout\")";
		return LBAUTH_EKEYFILE;
	}
	return lbx_key_ed25519_pk(key, der + sizeof(spki_prefix));
}

/* Wipes and frees what key holds; a zeroed key is a no-op. */
void
lbx_key_clear(struct lbx_key *key)
{

	if (key->hmac != NULL)
		sodium_free(key->hmac);
	if (key->sk != NULL)
		sodium_free(key->sk);
	sodium_memzero(key, sizeof(*key));
}

/* Appends one PEM block of the der_len bytes of der. */
static void
pem_write(struct lbx_buf *b, const char *begin, const char *end,
    const unsigned char *der, size_t der_len)
{
	char	 b64[sodium_base64_ENCODED_LEN(64,
		    sodium_base64_VARIANT_ORIGINAL)];

	sodium_bin2base64(b64, sizeof(b64), der, der_len,
	    sodium_base64_VARIANT_ORIGINAL);
	lbx_buf_puts(b, begin);
	lbx_buf_puts(b, b64);
	lbx_buf_putc(b, '\n');
	lbx_buf_puts(b, end);
	sodium_memzero(b64, sizeof(b64));
}

/* Appends key's private key as PKCS#8 PEM (key must hold one). */
void
lbx_key_pem_sk(struct lbx_buf *b, const struct lbx_key *key)
{
	unsigned char	 der[sizeof(pkcs8_prefix) + crypto_sign_SEEDBYTES];

	memcpy(der, pkcs8_prefix, sizeof(pkcs8_prefix));
	crypto_sign_ed25519_sk_to_seed(der + sizeof(pkcs8_prefix), key->sk);
	pem_write(b, PEM_SK_BEGIN, PEM_SK_END, der, sizeof(der));
	sodium_memzero(der, sizeof(der));
}

/* Appends key's public key as SPKI PEM. */
void
lbx_key_pem_pk(struct lbx_buf *b, const struct lbx_key *key)
{
	unsigned char	 der[sizeof(spki_prefix) + crypto_sign_PUBLICKEYBYTES];

	memcpy(der, spki_prefix, sizeof(spki_prefix));
	memcpy(der + sizeof(spki_prefix), key->pk, sizeof(key->pk));
	pem_write(b, PEM_PK_BEGIN, PEM_PK_END, der, sizeof(der));
}

/* Appends key's public JWK (RFC 8037 section 2) with kid, alg and use. */
void
lbx_key_jwk(struct lbx_buf *b, const struct lbx_key *key)
{

	lbx_buf_puts(b, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"");
	lbx_buf_b64url(b, key->pk, sizeof(key->pk));
	lbx_buf_printf(b, "\",\"kid\":\"%s\",\"alg\":\"EdDSA\",\"use\":"
	    "\"sig\"}", key->kid);
}

/*
 * Loads the key file at path as a key of the given kind into key: an
 * HS256 secret or an Ed25519 private key (both checked as secrets) or
 * an Ed25519 public key.  Returns LBAUTH_OK; LBAUTH_EKEYFILE with
 * "path: reason" in err; or LBAUTH_ENOMEM.  The file's bytes are wiped.
 */
enum lbauth_err
lbx_key_load(struct lbx_key *key, const char *path, enum lbx_keykind kind,
    char *err, size_t errsz)
{
	unsigned char	*buf;
	size_t		 len;
	const char	*reason = NULL;
	enum lbauth_err	 rc;

	memset(key, 0, sizeof(*key));
	rc = lbx_keyfile_read(path, kind != LBX_KEY_ED25519_PUB,
	    kind == LBX_KEY_HS256 ? LBX_HS256_MAX + 1 : 1024, &buf, &len,
	    err, errsz);
	if (rc != LBAUTH_OK) {
		if (rc == LBAUTH_ENOMEM)
			snprintf(err, errsz, "%s: out of memory", path);
		return rc;
	}
	switch (kind) {
	case LBX_KEY_HS256:
		rc = lbx_key_hs256(key, buf, len, &reason);
		break;
	case LBX_KEY_ED25519_PUB:
		rc = lbx_key_ed25519_pk_pem(key, buf, len, &reason);
		break;
	case LBX_KEY_ED25519_PRIV:
		rc = lbx_key_ed25519_sk_pem(key, buf, len, &reason);
		break;
	}
	sodium_free(buf);
	if (rc != LBAUTH_OK)
		snprintf(err, errsz, "%s: %s", path,
		    reason != NULL ? reason : "out of memory");
	return rc;
}

/*
 * Loads the key file at path for its public key: SPKI PEM (a public
 * key; no ownership checks) when it begins with the public-key PEM
 * line, else a PKCS#8 private key (checked as a secret).  For keys
 * published in the JWKS: the current and earlier signing keys.
 * Returns as lbx_key_load() does.
 */
enum lbauth_err
lbx_key_load_any(struct lbx_key *key, const char *path, char *err,
    size_t errsz)
{
	char	 head[sizeof(PEM_PK_BEGIN) - 1];
	FILE	*f;
	size_t	 n = 0;

	if ((f = fopen(path, "re")) != NULL) {
		n = fread(head, 1, sizeof(head), f);
		fclose(f);
	}
	if (n == sizeof(head) && memcmp(head, PEM_PK_BEGIN, n) == 0)
		return lbx_key_load(key, path, LBX_KEY_ED25519_PUB, err, errsz);
	return lbx_key_load(key, path, LBX_KEY_ED25519_PRIV, err, errsz);
}
