/*
 * test-pattern.c: lib/pattern.c, room patterns: the syntax
 * ^([*]|[^*]{1,128}[*]?)$ with lengths in UTF-16 units (as the
 * JavaScript regex of @liveblocks/node counts them), and which rooms a
 * pattern matches.
 */
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"

static const struct {
	const char	*p;
	bool		 ok;
} syntax[] = {
	{ "*", true }, { "a", true }, { "acme:*", true }, { "acme:doc", true },
	{ "", false }, { "**", false }, { "a**", false }, { "*a", false },
	{ "a*b", false }, { "a*b*", false },
};

static const struct {
	const char	*p, *room;
	bool		 match;
} matches[] = {
	{ "*", "anything", true },
	{ "acme:*", "acme:doc", true },
	{ "acme:*", "acme:", true },		/* the prefix itself */
	{ "acme:*", "acme", false },
	{ "acme:*", "other:doc", false },
	{ "acme:doc", "acme:doc", true },
	{ "acme:doc", "acme:doc2", false },	/* no '*': the room only */
	{ "acme:doc", "acme:do", false },
	{ "acme:doc", "acme:*", false },
};

int
main(void)
{
	char	 p[600];
	size_t	 i;

	for (i = 0; i < sizeof(syntax) / sizeof(syntax[0]); i++)
		test_assert_idx(lbx_pattern_is_valid(syntax[i].p,
		    strlen(syntax[i].p)) == syntax[i].ok, i);
	/* 128 units, with and without '*'; 129 is one too many. */
	memset(p, 'r', 128);
	p[128] = '*';
	test_assert(lbx_pattern_is_valid(p, 128));
	test_assert(lbx_pattern_is_valid(p, 129));
	memset(p, 'r', 129);
	test_assert(!lbx_pattern_is_valid(p, 129));
	/* "\xe2\x82\xac" (one unit) x 128 fits; U+1F600 counts twice. */
	for (i = 0; i < 128; i++)
		memcpy(p + 3 * i, "\xe2\x82\xac", 3);
	test_assert(lbx_pattern_is_valid(p, 3 * 128));
	for (i = 0; i < 64; i++)
		memcpy(p + 4 * i, "\xf0\x9f\x98\x80", 4);
	test_assert(lbx_pattern_is_valid(p, 4 * 64));
	memcpy(p + 4 * 64, "x", 1);
	test_assert(!lbx_pattern_is_valid(p, 4 * 64 + 1));

	for (i = 0; i < sizeof(matches) / sizeof(matches[0]); i++)
		test_assert_idx(lbx_pattern_matches(matches[i].p,
		    strlen(matches[i].p), matches[i].room,
		    strlen(matches[i].room)) == matches[i].match, i);
	return test_done();
}
