/*
 * log.c: one line per request, for the web server's error log:
 *
 *	lbauth: status=200 user="u1" room="acme:doc-1"
 *	    granted="acme:doc-1" us=85
 *	lbauth: status=401 error=session_expired user=- room=- us=12
 *	    reason="..."
 *
 * Nothing here takes a token, a cookie or a key: the arguments are the
 * status, static strings, the user id, the room and the granted
 * patterns.  User-supplied text is escaped (quotes, backslashes and
 * control bytes as \xNN) and cut at 256 bytes, so a line cannot be
 * forged or split.  The line goes out in one write(2), which is atomic
 * for a pipe up to PIPE_BUF bytes, so workers sharing a log do not
 * interleave.
 */
#include <string.h>
#include <unistd.h>

#include "extern.h"

#define FIELD_MAX	256
#define LINE_MAX_	4096

/* Appends s quoted and escaped, or "-" for NULL. */
void
lbx_log_escape(struct lbx_buf *b, const char *s)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;
	unsigned char		 c;

	if (s == NULL) {
		lbx_buf_putc(b, '-');
		return;
	}
	lbx_buf_putc(b, '"');
	for (i = 0; s[i] != '\0' && i < FIELD_MAX; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
			char esc[4] = { '\\', 'x', hex[c >> 4], hex[c & 0xf] };

			lbx_buf_put(b, esc, 4);
		} else
			lbx_buf_putc(b, (char)c);
	}
	if (s[i] != '\0')
		lbx_buf_puts(b, "...");
	lbx_buf_putc(b, '"');
}

/*
 * Writes the line for one request to fd (nothing when fd < 0).  code is
 * the error code (NULL on success) and reason a static detail (or
 * NULL); s the session (NULL when no policy ran).
 */
void
lbx_log_request(int fd, int status, const char *code, const char *reason,
    const char *user, const char *room, const struct lbauth_session *s,
    long usec)
{
	char		 stack[LINE_MAX_];
	struct lbx_buf	 b;
	size_t		 i;
	ssize_t		 n;

	if (fd < 0)
		return;
	/* A stack buffer: no allocation on the hot path. */
	lbx_buf_fixed(&b, stack, sizeof(stack));
	lbx_buf_printf(&b, "lbauth: status=%d", status);
	if (code != NULL)
		lbx_buf_printf(&b, " error=%s", code);
	lbx_buf_puts(&b, " user=");
	lbx_log_escape(&b, user);
	lbx_buf_puts(&b, " room=");
	lbx_log_escape(&b, room);
	if (s != NULL && s->ngrants > 0) {
		lbx_buf_puts(&b, " granted=");
		for (i = 0; i < s->ngrants; i++) {
			if (i > 0)
				lbx_buf_putc(&b, ',');
			lbx_log_escape(&b, s->grants[i].pattern);
		}
	}
	lbx_buf_printf(&b, " us=%ld", usec);
	if (reason != NULL) {
		lbx_buf_puts(&b, " reason=");
		lbx_log_escape(&b, reason);
	}
	lbx_buf_putc(&b, '\n');
	if (b.oom) {
		/* Too long for the stack buffer: say so rather than grow. */
		static const char cut[] = "lbauth: (log line too long)\n";

		n = write(fd, cut, sizeof(cut) - 1);
	} else
		n = write(fd, b.p, b.len);
	(void)n;
}
