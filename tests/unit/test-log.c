/*
 * test-log.c: lib/log.c, the one line per request.  The line is read
 * back from a pipe, as the web server's error log would get it: its
 * fields and order, the escaping that keeps user text from forging or
 * splitting a line, the 256-byte cut of each field, the fixed
 * stand-in for a line too long for the stack buffer, and one write(2)
 * per line.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/extern.h"
#include "../test.h"

static int	 fds[2];

/* Everything written to the pipe since the last call, NUL-terminated. */
static const char *
drain(void)
{
	static char	 buf[8192];
	ssize_t		 n;
	size_t		 len = 0;

	while (len < sizeof(buf) - 1 &&
	    (n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return buf;
}

/* What lbx_log_escape() makes of s. */
static const struct {
	const char	*in;
	const char	*out;
} escapes[] = {
	{ NULL, "-" },
	{ "", "\"\"" },
	{ "acme:doc-1", "\"acme:doc-1\"" },
	{ "a\"b\\c", "\"a\\x22b\\x5cc\"" },
	{ "line\nforged=1\r", "\"line\\x0aforged=1\\x0d\"" },
	{ "\x01\x7f\x1f", "\"\\x01\\x7f\\x1f\"" },
	{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },	/* UTF-8 as is */
};

int
main(void)
{
	struct lbauth_session	 s;
	struct lbx_buf		 b;
	char			 big[600], pat[129], want[400];
	const char		*line;
	size_t			 i;

	test_assert(pipe(fds) == 0);
	test_assert(fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0);
	lbx_buf_init(&b);
	for (i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		lbx_buf_reset(&b);
		lbx_log_escape(&b, escapes[i].in);
		test_assert_idx(strcmp(b.p, escapes[i].out) == 0, i);
	}
	/* A field is cut at 256 bytes, and says so. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	lbx_buf_reset(&b);
	lbx_log_escape(&b, big);
	test_assert(b.len == 1 + 256 + 3 + 1 && b.p[0] == '"' &&
	    strcmp(b.p + 257, "...\"") == 0);
	big[256] = '\0';		/* exactly 256: no "..." */
	lbx_buf_reset(&b);
	lbx_log_escape(&b, big);
	test_assert(b.len == 258 && strstr(b.p, "...") == NULL);
	lbx_buf_clear(&b);

	/* A success with a grant, then an error with a reason. */
	lbx_session_init(&s);
	test_assert(lbauth_session_allow(&s, "acme:doc-1", lbauth_full_access)
	    == LBAUTH_OK);
	test_assert(lbauth_session_allow(&s, "acme:*", lbauth_read_access) ==
	    LBAUTH_OK);
	lbx_log_request(fds[1], 200, NULL, NULL, "u1", "acme:doc-1", &s, 85);
	line = drain();
	test_assert(strcmp(line, "lbauth: status=200 user=\"u1\" "
	    "room=\"acme:doc-1\" granted=\"acme:doc-1\",\"acme:*\" us=85\n") ==
	    0);
	lbx_log_request(fds[1], 401, "session_expired", "exp \"passed\"",
	    NULL, NULL, NULL, 12);
	line = drain();
	test_assert(strcmp(line, "lbauth: status=401 error=session_expired "
	    "user=- room=- us=12 reason=\"exp \\x22passed\\x22\"\n") == 0);
	/* A session without grants (a deny) logs no granted= field. */
	lbx_session_init(&s);
	lbx_log_request(fds[1], 403, "forbidden", NULL, "u\n1", "r", &s, 1);
	line = drain();
	test_assert(strcmp(line, "lbauth: status=403 error=forbidden "
	    "user=\"u\\x0a1\" room=\"r\" us=1\n") == 0);
	/* Exactly one line each time: user text cannot split it. */
	test_assert(strchr(line, '\n') == line + strlen(line) - 1);

	/* No log: fd < 0 writes nothing anywhere. */
	lbx_log_request(-1, 200, NULL, NULL, "u1", NULL, NULL, 1);
	test_assert(*drain() == '\0');

	/*
	 * A line longer than the 4096-byte stack buffer (ten 128-byte
	 * patterns and three fields of escaped control bytes) is replaced
	 * by a fixed line, never cut in the middle or grown.
	 */
	memset(big, '\x01', 300);
	big[300] = '\0';
	lbx_session_init(&s);
	for (i = 0; i < LBAUTH_PATTERNS_MAX; i++) {
		memset(pat, 'a' + (int)i, sizeof(pat) - 1);
		pat[sizeof(pat) - 1] = '\0';
		test_assert_idx(lbauth_session_allow(&s, pat,
		    lbauth_read_access) == LBAUTH_OK, i);
	}
	lbx_log_request(fds[1], 200, NULL, big, big, big, &s, 1);
	line = drain();
	test_assert(strcmp(line, "lbauth: (log line too long)\n") == 0);
	/* ... while the same without the reason still fits. */
	lbx_log_request(fds[1], 200, NULL, NULL, big, NULL, &s, 1);
	line = drain();
	snprintf(want, sizeof(want), "lbauth: status=200 user=\"%s",
	    "\\x01\\x01");
	test_assert(strncmp(line, want, strlen(want)) == 0 &&
	    strlen(line) > 2000 && line[strlen(line) - 1] == '\n');
	close(fds[0]);
	close(fds[1]);
	return test_done();
}
