/*
 * keyfile.c: key files and the keys in them.
 *
 * Secret files are checked as Dovecot's auth-token.c checks its secret:
 * a regular file, not a symlink (lstat and fstat agree on the inode),
 * owned by the user we run as, with no group or other permission bits.
 * Anything else stops start-up with a sentence naming the file.  Secret
 * bytes only ever live in sodium_malloc() memory (guard pages, mlock,
 * wiped by sodium_free()), and keys are made read-only once derived.
 *
 * Formats (all written by "lbauthctl keygen", all interoperable):
 *  - Ed25519 private key: PKCS#8 PEM (RFC 8410 section 7), as
 *    "openssl genpkey -algorithm ed25519" writes it;
 *  - Ed25519 public key: SPKI PEM (RFC 8410 section 4);
 *  - HS256 secret: the file's bytes with one trailing newline removed,
 *    at least 32 bytes (RFC 7518 section 3.2), so an app can hand the
 *    same string to its own JWT library.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
 * Reads the key file at path into new sodium_malloc() memory, stored in
 * *buf_r (NUL-terminated; release with sodium_free()) with its length in
 * *len_r.  secret asks for the ownership and mode checks above.  max
 * caps the size.  Returns LBAUTH_OK; LBAUTH_EKEYFILE with "path:
 * reason" in err; or LBAUTH_ENOMEM.
 */
enum lbauth_err
lbx_keyfile_read(const char *path, bool secret, size_t max,
    unsigned char **buf_r, size_t *len_r, char *err, size_t errsz)
{
	struct stat	 lst, st;
	unsigned char	*buf = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd = -1, er;

	*buf_r = NULL;
	*len_r = 0;
	if (lstat(path, &lst) == -1) {
		er = errno;
		snprintf(err, errsz, "%s: %s", path, strerror(er));
		return LBAUTH_EKEYFILE;
	}
	if (S_ISLNK(lst.st_mode)) {
		snprintf(err, errsz, "%s: is a symbolic link; name the key "
		    "file itself", path);
		return LBAUTH_EKEYFILE;
	}
	if (!S_ISREG(lst.st_mode)) {
		snprintf(err, errsz, "%s: is not a regular file", path);
		return LBAUTH_EKEYFILE;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1) {
		er = errno;
		snprintf(err, errsz, "%s: %s", path, strerror(er));
		return LBAUTH_EKEYFILE;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_ino != lst.st_ino || st.st_dev != lst.st_dev) {
		snprintf(err, errsz, "%s: changed while being opened", path);
		goto err;
	}
	if (secret && st.st_uid != geteuid()) {
		snprintf(err, errsz, "%s: is owned by uid %lu, not by the "
		    "user lbauth runs as (uid %lu)", path,
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto err;
	}
	if (secret && (st.st_mode & 077) != 0) {
		snprintf(err, errsz, "%s: is accessible by group or others "
		    "(mode %04o); run chmod 600 on it", path,
		    (unsigned)(st.st_mode & 07777));
		goto err;
	}
	if (st.st_size <= 0 || (size_t)st.st_size > max) {
		snprintf(err, errsz, "%s: size %lld is not between 1 and %zu "
		    "bytes", path, (long long)st.st_size, max);
		goto err;
	}
	if ((buf = sodium_malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return LBAUTH_ENOMEM;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errsz, "%s: short read", path);
			goto err;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*buf_r = buf;
	*len_r = len;
	return LBAUTH_OK;
err:
	if (buf != NULL)
		sodium_free(buf);
	close(fd);
	return LBAUTH_EKEYFILE;
}

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
 * Loads the Liveblocks secret key file at path (checked as a secret)
 * into new sodium_malloc() memory at *buf_r, *len_r bytes, one trailing
 * newline removed; release with sodium_free().  The key must look as
 * @liveblocks/node requires: "sk_" and then [A-Za-z0-9_-] only.
 * Returns LBAUTH_OK; LBAUTH_EKEYFILE with "path: reason" in err (never
 * any of the key); LBAUTH_ENOMEM.
 */
enum lbauth_err
lbx_keyfile_api_secret(const char *path, unsigned char **buf_r,
    size_t *len_r, char *err, size_t errsz)
{
	unsigned char	*buf;
	size_t		 len, i;
	enum lbauth_err	 rc;

	*buf_r = NULL;
	*len_r = 0;
	if ((rc = lbx_keyfile_read(path, true, 512, &buf, &len, err,
	    errsz)) != LBAUTH_OK) {
		if (rc == LBAUTH_ENOMEM)
			snprintf(err, errsz, "%s: out of memory", path);
		return rc;
	}
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len < 4 || memcmp(buf, "sk_", 3) != 0) {
		snprintf(err, errsz, "%s: a Liveblocks secret key begins "
		    "with sk_ (copy it from the dashboard's API keys page)",
		    path);
		sodium_free(buf);
		return LBAUTH_EKEYFILE;
	}
	for (i = 0; i < len; i++)
		if (!((buf[i] >= 'a' && buf[i] <= 'z') ||
		    (buf[i] >= 'A' && buf[i] <= 'Z') ||
		    (buf[i] >= '0' && buf[i] <= '9') ||
		    buf[i] == '_' || buf[i] == '-')) {
			snprintf(err, errsz, "%s: the secret key holds a "
			    "character other than letters, digits, '_' and "
			    "'-' (at byte %zu)", path, i + 1);
			sodium_free(buf);
			return LBAUTH_EKEYFILE;
		}
	*buf_r = buf;
	*len_r = len;
	return LBAUTH_OK;
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

/* Wipes and frees a secret; a zeroed one is a no-op. */
void
lbx_secret_clear(struct lbx_secret *s)
{

	if (s->p != NULL)
		sodium_free(s->p);
	s->p = NULL;
	s->len = 0;
}

/*
 * Loads the session-cookie secret at path (checked as a secret) for
 * format fmt into s (release with lbx_secret_clear()):
 *  - express: the secret string given to express-session, one trailing
 *    newline removed;
 *  - laravel: APP_KEY as .env holds it, "base64:" and the base64 of 32
 *    bytes, or the 32 bytes themselves;
 *  - sql connect strings (fmt LBX_SID_RAW): the text, trailing newlines
 *    removed, without NUL bytes.
 * Returns LBAUTH_OK; LBAUTH_EKEYFILE with "path: reason" in err;
 * LBAUTH_ENOMEM.
 */
enum lbauth_err
lbx_keyfile_session_secret(const char *path, enum lbx_sidfmt fmt,
    struct lbx_secret *s, char *err, size_t errsz)
{
	unsigned char	*buf, *key;
	size_t		 len, klen;
	enum lbauth_err	 rc;

	s->p = NULL;
	s->len = 0;
	if ((rc = lbx_keyfile_read(path, true, 4096, &buf, &len, err,
	    errsz)) != LBAUTH_OK) {
		if (rc == LBAUTH_ENOMEM)
			snprintf(err, errsz, "%s: out of memory", path);
		return rc;
	}
	if (fmt == LBX_SID_LARAVEL && len == 32) {
		s->p = buf;
		s->len = len;
		return LBAUTH_OK;
	}
	while (len > 0 && (buf[len - 1] == '\n' || (fmt != LBX_SID_EXPRESS &&
	    buf[len - 1] == '\r'))) {
		buf[--len] = '\0';
		if (fmt == LBX_SID_EXPRESS)
			break;
	}
	if (len == 0 || memchr(buf, '\0', len) != NULL) {
		snprintf(err, errsz, "%s: is empty or holds a NUL byte", path);
		sodium_free(buf);
		return LBAUTH_EKEYFILE;
	}
	if (fmt != LBX_SID_LARAVEL) {
		s->p = buf;
		s->len = len;
		return LBAUTH_OK;
	}
	key = NULL;
	if (len < 8 || memcmp(buf, "base64:", 7) != 0 ||
	    (key = sodium_malloc(33)) == NULL ||
	    sodium_base642bin(key, 33, (const char *)buf + 7, len - 7, NULL,
	    &klen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 || klen != 32) {
		if (key != NULL)
			sodium_free(key);
		snprintf(err, errsz, "%s: must hold Laravel's APP_KEY as .env "
		    "has it (base64: and 32 bytes in base64) for "
		    "aes-256-cbc", path);
		sodium_free(buf);
		return LBAUTH_EKEYFILE;
	}
	sodium_free(buf);
	s->p = key;
	s->len = 32;
	return LBAUTH_OK;
}
