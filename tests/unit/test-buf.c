/*
 * test-buf.c: lib/buf.c, the output buffer: growth, the sticky oom flag,
 * fixed (caller) storage that is never written past its end, JSON
 * string escaping as JSON.stringify() does it (lib/jsonw.c) and base64url
 * appends.
 */
#include <stdint.h>
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"

/* lbx_jsonw_str(in, len) must append out (JSON.stringify(in)). */
static const struct {
	const char	*in;
	size_t		 len;
	const char	*out;
} jstr[] = {
	{ "", 0, "\"\"" },				/* empty */
	{ "abc", 3, "\"abc\"" },			/* plain */
	{ "\"", 1, "\"\\\"\"" },			/* quote */
	{ "\\", 1, "\"\\\\\"" },			/* backslash */
	{ "\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"" },	/* named escapes */
	{ "\x01", 1, "\"\\u0001\"" },			/* other C0: \\u00xx */
	{ "\x1f", 1, "\"\\u001f\"" },			/* lower-case hex */
	{ "a\0b", 3, "\"a\\u0000b\"" },			/* NUL inside */
	{ "\x0b", 1, "\"\\u000b\"" },			/* VT has no name */
	{ "/", 1, "\"/\"" },				/* '/' as is */
	{ "\x7f", 1, "\"\x7f\"" },			/* DEL as is */
	{ "\xc2\x85", 2, "\"\xc2\x85\"" },		/* C1 as is */
	{ "\xe2\x80\xa8", 3, "\"\xe2\x80\xa8\"" },	/* U+2028 as is */
	{ "\xc3\xa9\xf0\x9f\x98\x80", 6, "\"\xc3\xa9\xf0\x9f\x98\x80\"" },
	{ "\xed\x9f\xbf", 3, "\"\xed\x9f\xbf\"" },	/* U+D7FF is no surrogate */
	{ "\xed\xa0\x80", 3, "\"\\ud800\"" },		/* lone high surrogate */
	{ "\xed\xbf\xbf", 3, "\"\\udfff\"" },		/* lone low surrogate */
	{ "x\xed\xa0\x80y", 5, "\"x\\ud800y\"" },	/* surrounded */
	{ "\xed\xa0", 2, "\"\xed\xa0\"" },		/* cut short: as is */
	{ "a\"b\\c\nd", 7, "\"a\\\"b\\\\c\\nd\"" },	/* a mix */
};

int
main(void)
{
	struct lbx_buf	 b;
	char		 store[16], big[600];
	size_t		 i, cap;

	if (sodium_init() < 0)
		return 1;

	/* A new buffer owns nothing. */
	lbx_buf_init(&b);
	test_assert(b.p == NULL && b.len == 0 && b.cap == 0 && !b.oom);
	lbx_buf_clear(&b);		/* clearing an empty one is fine */
	test_assert(b.p == NULL);

	/* Appends and growth: NUL-terminated, doubling from 256. */
	lbx_buf_puts(&b, "ab");
	lbx_buf_putc(&b, 'c');
	lbx_buf_put(&b, "defgh", 2);
	lbx_buf_printf(&b, "%d-%s", 42, "x");
	test_assert(b.len == 9 && strcmp(b.p, "abcde42-x") == 0);
	test_assert(b.cap == 256 && !b.oom);
	memset(big, 'z', sizeof(big));
	lbx_buf_put(&b, big, sizeof(big));
	test_assert(b.len == 9 + sizeof(big) && b.cap == 1024 && !b.oom);
	test_assert(b.p[b.len] == '\0' && b.p[b.len - 1] == 'z' &&
	    memcmp(b.p, "abcde42-xzz", 11) == 0);
	lbx_buf_put(&b, "", 0);		/* an empty append changes nothing */
	test_assert(b.len == 9 + sizeof(big) && !b.oom);

	/* Reset keeps the storage. */
	cap = b.cap;
	lbx_buf_reset(&b);
	test_assert(b.len == 0 && b.cap == cap && b.p[0] == '\0');

	/*
	 * The oom flag: a size that cannot be reserved sets it (the guard
	 * against len + n overflowing), and it sticks: later appends that
	 * would fit are ignored until reset.
	 */
	lbx_buf_puts(&b, "keep");
	lbx_buf_put(&b, "x", SIZE_MAX / 2);
	test_assert(b.oom && b.len == 4 && strcmp(b.p, "keep") == 0);
	lbx_buf_puts(&b, "more");
	lbx_buf_printf(&b, "%s", "more");
	lbx_buf_b64url(&b, "m", 1);
	lbx_jsonw_str(&b, "m", 1);
	test_assert(b.oom && b.len == 4 && strcmp(b.p, "keep") == 0);
	lbx_buf_reset(&b);
	test_assert(!b.oom && b.len == 0);
	lbx_buf_puts(&b, "ok");
	test_assert(!b.oom && strcmp(b.p, "ok") == 0);
	lbx_buf_clear(&b);
	test_assert(b.p == NULL && b.len == 0 && b.cap == 0);

	/*
	 * Fixed storage: 8 usable bytes of store (cap 9 with the NUL);
	 * the bytes after cap are a guard that must stay untouched.
	 */
	memset(store, '#', sizeof(store));
	lbx_buf_fixed(&b, store, 9);
	test_assert(b.fixed && b.len == 0 && store[0] == '\0');
	lbx_buf_puts(&b, "12345678");		/* exactly fills it */
	test_assert(!b.oom && b.len == 8 && strcmp(store, "12345678") == 0);
	lbx_buf_putc(&b, '9');			/* one too many */
	test_assert(b.oom && b.len == 8 && strcmp(store, "12345678") == 0);
	for (i = 9; i < sizeof(store); i++)
		test_assert_idx(store[i] == '#', i);
	lbx_buf_reset(&b);			/* sticky until reset */
	test_assert(!b.oom && b.len == 0 && store[0] == '\0' && b.p == store);
	lbx_buf_puts(&b, "abcd");
	lbx_buf_printf(&b, "%s", "efghij");	/* 10 bytes: too long */
	test_assert(b.oom && b.len == 4 && strcmp(store, "abcd") == 0);
	lbx_buf_puts(&b, "e");			/* would fit, but oom sticks */
	test_assert(b.oom && b.len == 4 && strcmp(store, "abcd") == 0);
	lbx_buf_reset(&b);
	lbx_buf_b64url(&b, "foobar", 6);	/* "Zm9vYmFy": 8, fits */
	test_assert(!b.oom && strcmp(store, "Zm9vYmFy") == 0);
	lbx_buf_reset(&b);
	lbx_buf_b64url(&b, "foobarx", 7);	/* 10 chars: no */
	test_assert(b.oom && b.len == 0 && store[0] == '\0');
	lbx_buf_reset(&b);
	lbx_jsonw_str(&b, "abcdefgh", 8);	/* 10 with quotes: no */
	test_assert(b.oom && b.len <= 8);
	for (i = 9; i < sizeof(store); i++)
		test_assert_idx(store[i] == '#', i);

	/* JSON strings. */
	lbx_buf_init(&b);
	for (i = 0; i < sizeof(jstr) / sizeof(jstr[0]); i++) {
		lbx_buf_reset(&b);
		lbx_jsonw_str(&b, jstr[i].in, jstr[i].len);
		test_assert_idx(!b.oom && b.len == strlen(jstr[i].out) &&
		    memcmp(b.p, jstr[i].out, b.len) == 0, i);
	}
	/* Appends after what is there. */
	lbx_buf_reset(&b);
	lbx_buf_puts(&b, "{\"k\":");
	lbx_jsonw_str(&b, "v\n", 2);
	lbx_buf_putc(&b, '}');
	test_assert(strcmp(b.p, "{\"k\":\"v\\n\"}") == 0);

	/* base64url appends (RFC 4648 section 10 vectors, no padding). */
	lbx_buf_reset(&b);
	lbx_buf_b64url(&b, "", 0);
	test_assert(b.len == 0 && !b.oom);
	lbx_buf_puts(&b, "<");
	lbx_buf_b64url(&b, "f", 1);
	lbx_buf_puts(&b, "|");
	lbx_buf_b64url(&b, "fo", 2);
	lbx_buf_puts(&b, "|");
	lbx_buf_b64url(&b, "foob", 4);
	lbx_buf_puts(&b, "|");
	lbx_buf_b64url(&b, "\xfb\xff", 2);
	lbx_buf_puts(&b, ">");
	test_assert(strcmp(b.p, "<Zg|Zm8|Zm9vYg|-_8>") == 0 &&
	    b.len == strlen("<Zg|Zm8|Zm9vYg|-_8>"));
	/* Across a growth boundary. */
	lbx_buf_reset(&b);
	memset(big, 0, sizeof(big));
	lbx_buf_b64url(&b, big, 300);		/* 400 chars */
	test_assert(!b.oom && b.len == 400 && strspn(b.p, "A") == 400);
	lbx_buf_clear(&b);

	return test_done();
}
