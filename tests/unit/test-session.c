/*
 * test-session.c: lib/session.c, the permission model of
 * @liveblocks/node 3.x's Session.allow(): the pattern must match
 * ^([*]|[^*]{1,128}[*]?)$ counted in UTF-16 units (EPATTERN), the list
 * must not be empty (EEMPTY), every scope must be a Liveblocks
 * permission (ESCOPE) and checked before anything is created, at most
 * 10 patterns (ETOOMANY), scopes add up per pattern in first-granted
 * order without repeats; and the serialization JSON.stringify() gives.
 */
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"

#define S128	"012345678901234567890123456789012345678901234567890123456789" \
		"012345678901234567890123456789012345678901234567890123456789" \
		"01234567"
#define EMOJI	"\xf0\x9f\x98\x80"	/* U+1F600: 2 UTF-16 units */
#define E8	EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI
#define E64	E8 E8 E8 E8 E8 E8 E8 E8

static const char *const write_l[] = { "*:write", NULL };

static const struct {
	const char	*pattern;
	enum lbauth_err	 want;
} patterns[] = {
	{ "*", LBAUTH_OK },			/* everything */
	{ "a", LBAUTH_OK },			/* one room */
	{ "a*", LBAUTH_OK },			/* a prefix */
	{ "acme:doc-1", LBAUTH_OK },		/* a room id */
	{ S128, LBAUTH_OK },			/* 128 characters */
	{ S128 "*", LBAUTH_OK },		/* 128 + '*' */
	{ E64, LBAUTH_OK },			/* 64 emoji = 128 units */
	{ E64 "*", LBAUTH_OK },			/* ... as a prefix */
	{ "a\nb", LBAUTH_OK },			/* [^*] matches controls */
	{ " ", LBAUTH_OK },			/* a blank is a room */
	{ "", LBAUTH_EPATTERN },		/* empty */
	{ "**", LBAUTH_EPATTERN },		/* two stars */
	{ "a*b", LBAUTH_EPATTERN },		/* star inside */
	{ "*a", LBAUTH_EPATTERN },		/* star first */
	{ "a**", LBAUTH_EPATTERN },		/* two at the end */
	{ S128 "8", LBAUTH_EPATTERN },		/* 129 characters */
	{ S128 "8*", LBAUTH_EPATTERN },		/* 129 + '*' */
	{ E64 EMOJI, LBAUTH_EPATTERN },		/* 65 emoji = 130 units */
	{ E64 "x", LBAUTH_EPATTERN },		/* 129 units */
	{ "\xff", LBAUTH_EPATTERN },		/* not UTF-8 */
	{ NULL, LBAUTH_EPATTERN },		/* no pattern */
};

/* Every permission of @liveblocks/core 3.x. */
static const char *const all[] = {
	"*:read", "*:write",
	"room:read", "room:write", "room:presence:write",
	"storage:read", "storage:write", "storage:none",
	"comments:read", "comments:write", "comments:none",
	"comments:public:read", "comments:public:write",
	"comments:public:none",
	"comments:private:read", "comments:private:write",
	"comments:private:none",
	"feeds:read", "feeds:write", "feeds:none",
	NULL
};

/* Scopes that are not permissions. */
static const char *const unknown[] = {
	"*:admin", "*:WRITE", "*:write ", " *:write", "", "*", "write",
	"room:presence:read", "comments:public", "events", "*:none",
};

static void
write_json(struct lbx_buf *b, const struct lbauth_session *s)
{

	lbx_buf_reset(b);
	lbx_session_write(b, s);
}

int
main(void)
{
	struct lbauth_session	 s, before;
	struct lbx_buf		 b;
	const char		*list[4];
	char			 pat[16];
	size_t			 i;

	lbx_buf_init(&b);

	/* --- Patterns, each in a fresh session. */
	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		lbx_session_init(&s);
		test_assert_idx(lbauth_session_allow(&s, patterns[i].pattern,
		    write_l) == patterns[i].want, i);
		test_assert_idx(lbauth_session_npatterns(&s) ==
		    (patterns[i].want == LBAUTH_OK ? 1u : 0u), i);
		if (patterns[i].pattern != NULL)
			test_assert_idx(lbx_pattern_is_valid(
			    patterns[i].pattern, strlen(patterns[i].pattern)) ==
			    (patterns[i].want == LBAUTH_OK), i);
	}

	/* --- Lists. */
	lbx_session_init(&s);
	list[0] = NULL;
	test_assert(lbauth_session_allow(&s, "a", list) == LBAUTH_EEMPTY);
	test_assert(lbauth_session_allow(&s, "a", NULL) == LBAUTH_EEMPTY);
	test_assert(lbauth_session_npatterns(&s) == 0);
	/* The pattern is checked before the list. */
	test_assert(lbauth_session_allow(&s, "a*b", list) == LBAUTH_EPATTERN);
	test_assert(lbauth_session_allow(&s, "a*b", (const char *[]){
	    "*:admin", NULL }) == LBAUTH_EPATTERN);

	/* Every permission is accepted, alone and all together. */
	for (i = 0; all[i] != NULL; i++) {
		lbx_session_init(&s);
		list[0] = all[i];
		list[1] = NULL;
		test_assert_idx(lbauth_session_allow(&s, "r", list) ==
		    LBAUTH_OK, i);
		write_json(&b, &s);
		snprintf(pat, sizeof(pat), "%s", "{\"r\":[\"");
		test_assert_idx(strncmp(b.p, pat, strlen(pat)) == 0 &&
		    strncmp(b.p + strlen(pat), all[i], strlen(all[i])) == 0, i);
	}
	test_assert(i == LBX_SCOPES);
	lbx_session_init(&s);
	test_assert(lbauth_session_allow(&s, "r", all) == LBAUTH_OK);
	test_assert(s.grants[0].nscopes == LBX_SCOPES);

	/* Unknown scopes: ESCOPE and the session is unchanged. */
	memset(&s, 0, sizeof(s));	/* memcmp()ed below: no stale bytes */
	lbx_session_init(&s);
	test_assert(lbauth_session_allow(&s, "acme:*", lbauth_read_access) ==
	    LBAUTH_OK);
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		before = s;
		list[0] = "*:write";		/* a good one first */
		list[1] = unknown[i];
		list[2] = NULL;
		test_assert_idx(lbauth_session_allow(&s, "new", list) ==
		    LBAUTH_ESCOPE, i);
		test_assert_idx(lbauth_session_allow(&s, "acme:*", list) ==
		    LBAUTH_ESCOPE, i);
		test_assert_idx(lbauth_session_npatterns(&s) == 1, i);
		test_assert_idx(memcmp(&before, &s, sizeof(s)) == 0, i);
	}
	write_json(&b, &s);
	test_assert(strcmp(b.p, "{\"acme:*\":[\"*:read\"]}") == 0);

	/* --- Additive per pattern, without repeats, first-granted order. */
	lbx_session_init(&s);
	write_json(&b, &s);
	test_assert(strcmp(b.p, "{}") == 0);
	test_assert(lbauth_session_allow(&s, "acme:*", lbauth_read_access) ==
	    LBAUTH_OK);
	test_assert(lbauth_session_allow(&s, "acme:doc", (const char *[]){
	    "*:write", "comments:write", "*:write", NULL }) == LBAUTH_OK);
	test_assert(lbauth_session_allow(&s, "acme:doc", (const char *[]){
	    "comments:write", NULL }) == LBAUTH_OK);
	test_assert(lbauth_session_allow(&s, "acme:*", lbauth_read_access) ==
	    LBAUTH_OK);
	write_json(&b, &s);
	test_assert(strcmp(b.p, "{\"acme:*\":[\"*:read\"],\"acme:doc\":"
	    "[\"*:write\",\"comments:write\"]}") == 0);
	test_assert(lbauth_session_allow(&s, "acme:doc", (const char *[]){
	    "feeds:none", "*:read", "*:write", NULL }) == LBAUTH_OK);
	test_assert(lbauth_session_allow(&s, "acme:*", lbauth_full_access) ==
	    LBAUTH_OK);
	write_json(&b, &s);
	test_assert(strcmp(b.p, "{\"acme:*\":[\"*:read\",\"*:write\"],"
	    "\"acme:doc\":[\"*:write\",\"comments:write\",\"feeds:none\","
	    "\"*:read\"]}") == 0);
	test_assert(lbauth_session_npatterns(&s) == 2);

	/* The presets. */
	test_assert(strcmp(lbauth_full_access[0], "*:write") == 0 &&
	    lbauth_full_access[1] == NULL);
	test_assert(strcmp(lbauth_read_access[0], "*:read") == 0 &&
	    lbauth_read_access[1] == NULL);

	/* --- Ten patterns at most; an existing one still takes more. */
	memset(&s, 0, sizeof(s));
	lbx_session_init(&s);
	for (i = 0; i < LBAUTH_PATTERNS_MAX; i++) {
		snprintf(pat, sizeof(pat), "room-%zu", i);
		test_assert_idx(lbauth_session_allow(&s, pat,
		    lbauth_read_access) == LBAUTH_OK, i);
	}
	test_assert(lbauth_session_npatterns(&s) == 10);
	before = s;
	test_assert(lbauth_session_allow(&s, "room-10", lbauth_read_access) ==
	    LBAUTH_ETOOMANY);
	test_assert(lbauth_session_allow(&s, "*", lbauth_read_access) ==
	    LBAUTH_ETOOMANY);
	test_assert(memcmp(&before, &s, sizeof(s)) == 0);
	test_assert(lbauth_session_allow(&s, "room-3", lbauth_full_access) ==
	    LBAUTH_OK);
	test_assert(lbauth_session_allow(&s, "room-0", lbauth_read_access) ==
	    LBAUTH_OK);
	test_assert(lbauth_session_npatterns(&s) == 10);
	write_json(&b, &s);
	test_assert(strcmp(b.p, "{\"room-0\":[\"*:read\"],\"room-1\":"
	    "[\"*:read\"],\"room-2\":[\"*:read\"],\"room-3\":[\"*:read\","
	    "\"*:write\"],\"room-4\":[\"*:read\"],\"room-5\":[\"*:read\"],"
	    "\"room-6\":[\"*:read\"],\"room-7\":[\"*:read\"],\"room-8\":"
	    "[\"*:read\"],\"room-9\":[\"*:read\"]}") == 0);

	/* --- Serialization escapes patterns as JSON.stringify() does. */
	lbx_session_init(&s);
	test_assert(lbauth_session_allow(&s, "a\"b\\c\n/\xc3\xa9*",
	    lbauth_full_access) == LBAUTH_OK);
	write_json(&b, &s);
	test_assert(strcmp(b.p, "{\"a\\\"b\\\\c\\n/\xc3\xa9*\":"
	    "[\"*:write\"]}") == 0);
	/* 64 emoji make a 256-byte pattern that fits its storage. */
	lbx_session_init(&s);
	test_assert(lbauth_session_allow(&s, E64 "*", lbauth_read_access) ==
	    LBAUTH_OK);
	test_assert(strcmp(s.grants[0].pattern, E64 "*") == 0);

	lbx_buf_clear(&b);
	return test_done();
}
