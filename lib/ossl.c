/*
 * ossl.c: the primitives libsodium lacks and the laravel session cookie
 * needs, AES-CBC and AES-GCM decryption with 128- or 256-bit keys (the
 * four ciphers of Laravel's Encrypter) and HMAC-SHA1, from OpenSSL's
 * libcrypto loaded with dlopen() when session_format = laravel.
 * (libsodium's AES-256-GCM runs only on CPUs with AES-NI and has no
 * 128-bit key.)
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
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "extern.h"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_cipher_st EVP_CIPHER;
typedef struct evp_md_st EVP_MD;
typedef struct engine_st ENGINE;

/* evp.h: the EVP_CIPHER_CTX_ctrl() commands of AEAD ciphers. */
#define EVP_CTRL_AEAD_SET_IVLEN	0x9
#define EVP_CTRL_AEAD_SET_TAG	0x11

struct lbx_ossl_fns {
	EVP_CIPHER_CTX	*(*ctx_new)(void);
	void		 (*ctx_free)(EVP_CIPHER_CTX *);
	const EVP_CIPHER *(*aes_256_cbc)(void);
	const EVP_CIPHER *(*aes_128_cbc)(void);
	const EVP_CIPHER *(*aes_256_gcm)(void);
	const EVP_CIPHER *(*aes_128_gcm)(void);
	int		 (*ctrl)(EVP_CIPHER_CTX *, int, int, void *);
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
		{ "EVP_aes_128_cbc", (void **)&fns.aes_128_cbc },
		{ "EVP_aes_256_gcm", (void **)&fns.aes_256_gcm },
		{ "EVP_aes_128_gcm", (void **)&fns.aes_128_gcm },
		{ "EVP_CIPHER_CTX_ctrl", (void **)&fns.ctrl },
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
 * Decrypts len bytes of ciphertext in under cipher c with key (16 or 32
 * bytes, lbx_lvcipher_keylen()) and iv (16 bytes for CBC, 12 for GCM)
 * into out (at least len bytes), and stores the plaintext's length in
 * *outlen_r.  CBC removes the PKCS#7 padding; GCM checks the 16-byte
 * tag (no additional data, as Laravel's Encrypter), which CBC ignores.
 * Returns 0, or -1 when the padding or the tag is wrong (or libcrypto
 * fails); out is wiped then, so no unauthenticated plaintext leaves.
 * libcrypto must be loaded.
 */
int
lbx_ossl_decrypt(enum lbx_lvcipher c, const unsigned char *key,
    const unsigned char *iv, const unsigned char *in, size_t len,
    const unsigned char *tag, unsigned char *out, size_t *outlen_r)
{
	const EVP_CIPHER *(*const ciphers[])(void) = {
		[LBX_LV_AES_256_CBC] = fns.aes_256_cbc,
		[LBX_LV_AES_128_CBC] = fns.aes_128_cbc,
		[LBX_LV_AES_256_GCM] = fns.aes_256_gcm,
		[LBX_LV_AES_128_GCM] = fns.aes_128_gcm,
	};
	bool		 gcm = c == LBX_LV_AES_256_GCM ||
			    c == LBX_LV_AES_128_GCM;
	EVP_CIPHER_CTX	*ctx;
	int		 n1 = 0, n2 = 0, ok;

	*outlen_r = 0;
	if (dl == NULL || (unsigned)c >= sizeof(ciphers) / sizeof(ciphers[0]) ||
	    len > 1 << 20 || (gcm ? tag == NULL : len == 0 || len % 16 != 0) ||
	    (ctx = fns.ctx_new()) == NULL)
		return -1;
	ok = fns.decrypt_init(ctx, ciphers[c](), NULL, NULL, NULL) == 1 &&
	    (!gcm || fns.ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1) &&
	    fns.decrypt_init(ctx, NULL, NULL, key, iv) == 1 &&
	    fns.decrypt_update(ctx, out, &n1, in, (int)len) == 1 &&
	    (!gcm || fns.ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16,
	    (void *)(uintptr_t)tag) == 1) &&
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
