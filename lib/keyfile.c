/*
 * keyfile.c: reading key files safely.  A secret file is checked as
 * Dovecot's auth-token.c checks its secret: a regular file, not a
 * symlink (lstat and fstat agree on the inode), owned by the user we
 * run as, with no group or other permission bits.  Anything else stops
 * start-up with a sentence naming the file.  The bytes read only ever
 * live in sodium_malloc() memory (guard pages, mlock, wiped by
 * sodium_free()).  What the bytes mean is key.c's business, but for
 * the Liveblocks secret key, which is no lbx_key: its "sk_" shape is
 * checked here, as it is read, so that upstream.c (the API client) is
 * handed checked bytes and never opens a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extern.h"

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

/* Wipes and frees a secret; a zeroed one is a no-op. */
void
lbx_keyfile_secret_clear(struct lbx_secret *s)
{

	if (s->p != NULL)
		sodium_free(s->p);
	s->p = NULL;
	s->len = 0;
}

/*
 * Loads the session-cookie secret at path (checked as a secret) for
 * format fmt into s (release with lbx_keyfile_secret_clear()):
 *  - express: the secret string given to express-session, one trailing
 *    newline removed;
 *  - laravel: APP_KEY as .env holds it, "base64:" and the base64 of
 *    keylen bytes (32, or 16 for laravel_cipher's AES-128 ciphers), or
 *    the keylen bytes themselves (when they do not begin "base64:");
 *  - sql connect strings (fmt LBX_SID_RAW): the text, trailing newlines
 *    removed, without NUL bytes.
 * Returns LBAUTH_OK; LBAUTH_EKEYFILE with "path: reason" in err;
 * LBAUTH_ENOMEM.
 */
enum lbauth_err
lbx_keyfile_session_secret(const char *path, enum lbx_sidfmt fmt,
    size_t keylen, struct lbx_secret *s, char *err, size_t errsz)
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
	/*
	 * Raw bytes, unless it reads as APP_KEY's text: an AES-128
	 * "base64:..." line and its newline are 32 bytes too.
	 */
	if (fmt == LBX_SID_LARAVEL && len == keylen &&
	    memcmp(buf, "base64:", 7) != 0) {
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
	/*
	 * Laravel also takes an APP_KEY that is the key itself, not
	 * "base64:": such a line and its newline (echo "$APP_KEY" > file).
	 */
	if (fmt != LBX_SID_LARAVEL || (len == keylen &&
	    memcmp(buf, "base64:", 7) != 0)) {
		s->p = buf;
		s->len = len;
		return LBAUTH_OK;
	}
	key = NULL;
	if (len < 8 || memcmp(buf, "base64:", 7) != 0 ||
	    (key = sodium_malloc(33)) == NULL ||
	    sodium_base642bin(key, 33, (const char *)buf + 7, len - 7, NULL,
	    &klen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    klen != keylen) {
		if (key != NULL)
			sodium_free(key);
		snprintf(err, errsz, "%s: must hold Laravel's APP_KEY as .env "
		    "has it (base64: and %zu bytes in base64, or the %zu "
		    "bytes themselves) for laravel_cipher %s", path, keylen,
		    keylen, keylen == 16 ?
		    "aes-128-cbc or aes-128-gcm" : "aes-256-cbc or "
		    "aes-256-gcm");
		sodium_free(buf);
		return LBAUTH_EKEYFILE;
	}
	sodium_free(buf);
	s->p = key;
	s->len = keylen;
	return LBAUTH_OK;
}
