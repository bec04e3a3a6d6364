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

/*
 * Appends s (len bytes of UTF-8) as a JSON string with quotes, escaped
 * exactly as JavaScript's JSON.stringify() does (ECMA-262
 * QuoteJSONString): '"' and '\\' escaped, \b \f \n \r \t by name, other
 * controls below 0x20 as \u00xx, everything else as is.  A surrogate
 * code point encoded in UTF-8 (which json-c produces for a lone
 * "\ud800" escape) is written back as \udxxx, as JavaScript writes a
 * lone surrogate.  This is what makes lbauth's upstream requests equal,
 * byte for byte, to those of @liveblocks/node.
 */
void
lbx_buf_json_str(struct lbx_buf *b, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, run;
	char			 esc[7];

	lbx_buf_putc(b, '"');
	for (i = run = 0; i < len; i++) {
		unsigned char c = u[i];
		const char *e = NULL;
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0xed)
			continue;
		if (c == 0xed && (i + 2 >= len || u[i + 1] < 0xa0))
			continue;
		lbx_buf_put(b, s + run, i - run);
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		case 0xed: {
			unsigned cp = 0xd000 | ((u[i + 1] & 0x3fu) << 6) |
			    (u[i + 2] & 0x3fu);
			esc[0] = '\\'; esc[1] = 'u';
			esc[2] = hex[(cp >> 12) & 0xf];
			esc[3] = hex[(cp >> 8) & 0xf];
			esc[4] = hex[(cp >> 4) & 0xf];
			esc[5] = hex[cp & 0xf];
			e = esc;
			elen = 6;
			i += 2;
			break;
		}
		default:
			esc[0] = '\\'; esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			e = esc;
			elen = 6;
			break;
		}
		lbx_buf_put(b, e, elen);
		run = i + 1;
	}
	lbx_buf_put(b, s + run, len - run);
	lbx_buf_putc(b, '"');
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
