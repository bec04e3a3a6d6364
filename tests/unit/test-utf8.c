/*
 * test-utf8.c: lib/utf8.c, string lengths in UTF-16 units (what the
 * Liveblocks servers count) and the control-character test.
 */
#include <stdint.h>
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"

#define S(s)	s, sizeof(s) - 1

static const struct {
	const char	*s;
	size_t		 len;
	size_t		 want;	/* SIZE_MAX: invalid */
} lens[] = {
	{ S(""), 0 },				/* empty */
	{ S("abc"), 3 },			/* ASCII */
	{ S("\x7f"), 1 },			/* DEL is one unit */
	{ S("\xc3\xa9"), 1 },			/* U+00E9, 2 bytes */
	{ S("\xdf\xbf"), 1 },			/* U+07FF, top of 2 bytes */
	{ S("\xe2\x82\xac"), 1 },		/* U+20AC, 3 bytes */
	{ S("\xef\xbf\xbf"), 1 },		/* U+FFFF */
	{ S("\xf0\x9f\x98\x80"), 2 },		/* U+1F600: astral, 2 units */
	{ S("\xf4\x8f\xbf\xbf"), 2 },		/* U+10FFFF, the last one */
	{ S("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), 5 }, /* 1+1+1+2 */
	{ S("\xed\xa0\x80"), SIZE_MAX },	/* encoded surrogate (RFC 3629) */
	{ S("\xed\xbf\xbf"), SIZE_MAX },	/* encoded surrogate, last */
	{ S("\xed\x9f\xbf"), 1 },		/* U+D7FF, just below */
	{ S("\xc0\x80"), SIZE_MAX },		/* overlong NUL */
	{ S("\xc1\xbf"), SIZE_MAX },		/* overlong U+007F */
	{ S("\xe0\x80\xaf"), SIZE_MAX },	/* overlong '/' in 3 bytes */
	{ S("\xe0\x9f\xbf"), SIZE_MAX },	/* overlong U+07FF */
	{ S("\xf0\x8f\xbf\xbf"), SIZE_MAX },	/* overlong U+FFFF */
	{ S("\xf4\x90\x80\x80"), SIZE_MAX },	/* U+110000 */
	{ S("\xf5\x80\x80\x80"), SIZE_MAX },	/* lead byte 0xf5 */
	{ S("\xff"), SIZE_MAX },		/* 0xff */
	{ S("\x80"), SIZE_MAX },		/* lone continuation */
	{ S("\xc3"), SIZE_MAX },		/* truncated 2-byte */
	{ S("\xe2\x82"), SIZE_MAX },		/* truncated 3-byte */
	{ S("\xf0\x9f\x98"), SIZE_MAX },	/* truncated 4-byte */
	{ S("ab\xc3"), SIZE_MAX },		/* truncated at the end */
	{ S("\xc3("), SIZE_MAX },		/* bad continuation */
	{ S("\xe2\x28\xac"), SIZE_MAX },	/* bad 2nd of 3 */
	{ S("\xe2\x82\x28"), SIZE_MAX },	/* bad 3rd of 3 */
	{ S("\xf0\x9f\x98\x28"), SIZE_MAX },	/* bad 4th of 4 */
};

static const struct {
	const char	*s;
	size_t		 len;
	bool		 want;
} ctls[] = {
	{ S(""), false },			/* empty */
	{ S("room-1 :/"), false },		/* printable ASCII */
	{ S("\xc3\xa9\xe2\x82\xac"), false },	/* non-ASCII text */
	{ S("\xc2\xa0"), false },		/* U+00A0 is not C1 */
	{ S("a\0b"), true },			/* NUL */
	{ S("a\n"), true },			/* LF */
	{ S("\t"), true },			/* TAB */
	{ S("\x1f"), true },			/* US, top of C0 */
	{ S("x\x7f"), true },			/* DEL */
	{ S("\xc2\x85"), true },		/* U+0085 NEL (C1) */
	{ S("\xc2\x80"), true },		/* U+0080, first C1 */
	{ S("\xc2\x9f"), true },		/* U+009F, last C1 */
	{ S("\xc2"), false },			/* 0xc2 at the end: no C1 */
	{ S(" "), false },			/* blank */
};

int
main(void)
{
	size_t	 i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		test_assert_idx(lbx_utf8_len16(lens[i].s, lens[i].len) ==
		    lens[i].want, i);
	for (i = 0; i < sizeof(ctls) / sizeof(ctls[0]); i++)
		test_assert_idx(lbx_utf8_has_ctl(ctls[i].s, ctls[i].len) ==
		    ctls[i].want, i);
	/* Only len bytes count. */
	test_assert(lbx_utf8_len16("abc\xff", 3) == 3);
	test_assert(!lbx_utf8_has_ctl("abc\n", 3));
	return test_done();
}
