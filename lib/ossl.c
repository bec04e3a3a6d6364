/*
 * ossl.c: the two primitives libsodium lacks and the laravel session
 * cookie needs, AES-256-CBC decryption and HMAC-SHA1, from OpenSSL's
 * libcrypto loaded with dlopen() when session_format = laravel.
 *
 * Not linked, for the reason upstream.c gives for libcurl: every exec
 * of lbauth (a CGI start) would load it for nothing under the other
 * configs.  libcrypto is on every system that has libcurl (Debian's
 * libcurl4 depends on libssl3), so this costs no new package.
 *
 * The functions are declared here by hand, from OpenSSL 3's public
 * headers (evp.h, hmac.h): they are part of its stable ABI
 * (libcrypto.so.3), and the build then needs no libssl-dev.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "extern.h"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_cipher_st EVP_CIPHER;
typedef struct evp_md_st EVP_MD;
typedef struct engine_st ENGINE;

struct lbx_ossl_fns {
	EVP_CIPHER_CTX	*(*ctx_new)(void);
	void		 (*ctx_free)(EVP_CIPHER_CTX *);
	const EVP_CIPHER *(*aes_256_cbc)(void);
	int		 (*decrypt_init)(EVP_CIPHER_CTX *, const EVP_CIPHER *,
			    ENGINE *, const unsigned char *,
			    const unsigned char *);
	int		 (*decrypt_update)(EVP_CIPHER_CTX *, unsigned char *,
			    int *, const unsigned char *, int);
	int		 (*decrypt_final)(EVP_CIPHER_CTX *, unsigned char *,
			    int *);
	const EVP_MD	*(*sha1)(void);
	unsigned char	*(*hmac)(const EVP_MD *, const void *, int,
			    const unsigned char *, size_t, unsigned char *,
			    unsigned int *);
};

static struct lbx_ossl_fns	 fns;
static void			*dl;

/*
 * Loads libcrypto once per process.  Returns LBAUTH_OK, or
 * LBAUTH_ECONFIG with a sentence in err.
 */
enum lbauth_err
lbx_ossl_load(char *err, size_t errsz)
{
	static const struct lbx_dl_lib lib = {
		.soname = "libcrypto.so.3",
		.flags = RTLD_NOW | RTLD_LOCAL,
		.name = "libcrypto",
		.needs = "session_format = laravel needs OpenSSL's "
		    "libcrypto (Debian package libssl3)",
	};
	static const struct lbx_dl_sym syms[] = {
		{ "EVP_CIPHER_CTX_new", (void **)&fns.ctx_new },
		{ "EVP_CIPHER_CTX_free", (void **)&fns.ctx_free },
		{ "EVP_aes_256_cbc", (void **)&fns.aes_256_cbc },
		{ "EVP_DecryptInit_ex", (void **)&fns.decrypt_init },
		{ "EVP_DecryptUpdate", (void **)&fns.decrypt_update },
		{ "EVP_DecryptFinal_ex", (void **)&fns.decrypt_final },
		{ "EVP_sha1", (void **)&fns.sha1 },
		{ "HMAC", (void **)&fns.hmac },
	};

	if (lbx_dl_open(&lib, syms, sizeof(syms) / sizeof(syms[0]), &dl,
	    err, errsz) == -1)
		return LBAUTH_ECONFIG;
	return LBAUTH_OK;
}

/*
 * Decrypts len bytes of AES-256-CBC ciphertext in with the 32-byte key
 * and 16-byte iv, removing the PKCS#7 padding, into out (at least len
 * bytes).  Stores the plaintext length in *outlen_r.  Returns 0, or -1
 * when the padding is wrong (or libcrypto fails); out is wiped then.
 * libcrypto must be loaded.
 */
int
lbx_ossl_aes256cbc_decrypt(const unsigned char *key, const unsigned char *iv,
    const unsigned char *in, size_t len, unsigned char *out,
    size_t *outlen_r)
{
	EVP_CIPHER_CTX	*ctx;
	int		 n1 = 0, n2 = 0, ok;

	*outlen_r = 0;
	if (dl == NULL || len == 0 || len % 16 != 0 || len > 1 << 20 ||
	    (ctx = fns.ctx_new()) == NULL)
		return -1;
	ok = fns.decrypt_init(ctx, fns.aes_256_cbc(), NULL, key, iv) == 1 &&
	    fns.decrypt_update(ctx, out, &n1, in, (int)len) == 1 &&
	    fns.decrypt_final(ctx, out + n1, &n2) == 1;
	fns.ctx_free(ctx);	/* wipes the key schedule (OpenSSL 3) */
	if (!ok) {
		sodium_memzero(out, len);
		return -1;
	}
	*outlen_r = (size_t)n1 + (size_t)n2;
	return 0;
}

/*
 * HMAC-SHA1 of len bytes at msg under key (keylen bytes) into the 20
 * bytes at mac.  Returns 0 or -1.  libcrypto must be loaded.
 */
int
lbx_ossl_hmac_sha1(const unsigned char *key, size_t keylen,
    const void *msg, size_t len, unsigned char mac[20])
{
	unsigned int	 n = 0;

	if (dl == NULL || keylen > 1024 ||
	    fns.hmac(fns.sha1(), key, (int)keylen, msg, len, mac, &n) ==
	    NULL || n != 20)
		return -1;
	return 0;
}
