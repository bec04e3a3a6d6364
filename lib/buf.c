/*
 * buf.c: a growable byte buffer for building responses and tokens.
 *
 * Appends never fail loudly: on allocation failure the buffer sets its
 * sticky oom flag and ignores further appends, so a caller writes a run
 * of appends and checks b->oom once (redis's sds keeps call sites as
 * short).  The storage is reused across requests by lbx_buf_reset(), so
 * a warm worker does not allocate here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/* Makes b an empty buffer that owns nothing. */
void
lbx_buf_init(struct lbx_buf *b)
{

	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
	b->fixed = 0;
}

/*
 * Makes b an empty buffer over the caller's storage p (cap bytes), for
 * a line built on the stack: appends past cap set oom instead of
 * growing it.  lbx_buf_clear() must not be called on it.
 */
void
lbx_buf_fixed(struct lbx_buf *b, char *p, size_t cap)
{

	b->p = p;
	b->cap = cap;
	b->len = 0;
	b->oom = 0;
	b->fixed = 1;
	p[0] = '\0';
}

/*
 * Frees b's storage and makes it empty.  The storage is wiped first:
 * buffers hold tokens and payloads, which are bearer credentials.
 */
void
lbx_buf_clear(struct lbx_buf *b)
{

	if (b->p != NULL) {
		sodium_memzero(b->p, b->cap);
		free(b->p);
	}
	lbx_buf_init(b);
}

/* Empties b, keeping its storage for reuse. */
void
lbx_buf_reset(struct lbx_buf *b)
{

	b->len = 0;
	b->oom = 0;
	if (b->cap > 0)
		b->p[0] = '\0';
}

/* Makes room for n more bytes and a NUL; returns 0, or -1 (oom set). */
static int
reserve(struct lbx_buf *b, size_t n)
{
	size_t	 need, cap;
	char	*p;

	if (b->oom)
		return -1;
	if (n > SIZE_MAX / 2 - b->len - 1) {
		b->oom = 1;
		return -1;
	}
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	if (b->fixed) {
		b->oom = 1;
		return -1;
	}
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Appends n bytes of p. */
void
lbx_buf_put(struct lbx_buf *b, const void *p, size_t n)
{

	if (reserve(b, n) == -1)
		return;
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Appends the NUL-terminated string s. */
void
lbx_buf_puts(struct lbx_buf *b, const char *s)
{

	lbx_buf_put(b, s, strlen(s));
}

/* Appends one byte. */
void
lbx_buf_putc(struct lbx_buf *b, char c)
{

	lbx_buf_put(b, &c, 1);
}

/* Appends printf-formatted text. */
void
lbx_buf_printf(struct lbx_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if (reserve(b, (size_t)n) == -1)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Appends n bytes of p in base64url without padding. */
void
lbx_buf_b64url(struct lbx_buf *b, const void *p, size_t n)
{
	size_t	 enc = LBX_B64URL_LEN(n);

	if (reserve(b, enc) == -1)
		return;
	b->len += lbx_b64url_encode(b->p + b->len, enc + 1, p, n);
	b->p[b->len] = '\0';
}
