/*
 * test-cookie.c: lib/cookie.c.  Finding the session cookie in a Cookie
 * header (RFC 6265 section 5.4), checking the verified claims (RFC 7519
 * section 4.1 and README "Session cookie"), the whole verification with
 * an HS256 key, and the user accessors a policy calls.
 */
#include <stdlib.h>
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"

#define NOW	1000000
#define SKEW	60

/* lbx_cookie_find(hdr, "session"): the value or the error. */
static const struct {
	const char	*hdr;
	const char	*val;	/* NULL: want err */
	enum lbauth_err	 err;
} finds[] = {
	{ "session=abc", "abc", 0 },			/* alone */
	{ "a=1; session=abc; b=2", "abc", 0 },		/* among others */
	{ "a=1;session=abc;b=2", "abc", 0 },		/* no blanks */
	{ "  session  =  abc  ; b=2", "abc", 0 },	/* blanks around */
	{ "\tsession=abc\t", "abc", 0 },		/* tabs */
	{ "session=abc;", "abc", 0 },			/* trailing ';' */
	{ "session=\"abc\"", "abc", 0 },		/* quoted value */
	{ "session=\"abc", "\"abc", 0 },		/* one quote: kept */
	{ "session=a=b", "a=b", 0 },			/* '=' in the value */
	{ "xsession=1; session=abc", "abc", 0 },	/* suffix of another */
	{ "session=abc; sessionx=1", "abc", 0 },	/* prefix of another */
	{ "sess=1; session=abc", "abc", 0 },		/* prefix of ours */
	{ "junk; session=abc", "abc", 0 },		/* a pair without '=' */
	{ "xsession=abc", NULL, LBAUTH_ENOSESSION },	/* only the suffix one */
	{ "sessionx=abc", NULL, LBAUTH_ENOSESSION },	/* only the prefix one */
	{ "Session=abc", NULL, LBAUTH_ENOSESSION },	/* names are exact */
	{ "session", NULL, LBAUTH_ENOSESSION },		/* no '=' */
	{ "session=a; session=b", NULL, LBAUTH_ECOOKIE },	/* duplicate */
	{ "session=a; x=1; session=a", NULL, LBAUTH_ECOOKIE },	/* even equal */
	{ "session=; session=b", NULL, LBAUTH_ECOOKIE },	/* empty + one */
	{ "session=", NULL, LBAUTH_ENOSESSION },	/* empty value */
	{ "session=  ", NULL, LBAUTH_ENOSESSION },	/* blank value */
	{ "session=\"\"", NULL, LBAUTH_ENOSESSION },	/* empty quoted */
	{ "a=1; b=2", NULL, LBAUTH_ENOSESSION },	/* absent */
	{ "", NULL, LBAUTH_ENOSESSION },		/* empty header */
	{ NULL, NULL, LBAUTH_ENOSESSION },		/* no header */
	/*
	 * Commas (issue 12: README was silent).  RFC 6265 splits at ';'
	 * only; a ',' is part of the value (no RFC 2965 comma lists), so
	 * the JWT that follows fails as a token, and a cookie after a ','
	 * is not found.
	 */
	{ "session=abc, other=1", "abc, other=1", 0 },
	{ "session=abc,", "abc,", 0 },
	{ "other=1, session=abc", NULL, LBAUTH_ENOSESSION },
	{ "other=1,session=abc; x=2", NULL, LBAUTH_ENOSESSION },
	/* Quotes (issue 12): one pair around the whole value is dropped. */
	{ "session=\"a.b.c\"; x=1", "a.b.c", 0 },
	{ "session= \"abc\" ", "abc", 0 },
	{ "session=\"\"abc\"\"", "\"abc\"", 0 },		/* one pair only */
	{ "session=a\"bc\"", "a\"bc\"", 0 },		/* not around it */
	{ "session=\"", "\"", 0 },				/* a lone quote */
};

#define SUB	"\"sub\":\"u1\""
#define EXP	"\"exp\":2000000"
#define C(x)	"{" SUB "," EXP x "}"
#define S129	"012345678901234567890123456789012345678901234567890123456789" \
		"012345678901234567890123456789012345678901234567890123456789" \
		"012345678"
#define S128	"012345678901234567890123456789012345678901234567890123456789" \
		"012345678901234567890123456789012345678901234567890123456789" \
		"01234567"
#define S126	"012345678901234567890123456789012345678901234567890123456789" \
		"012345678901234567890123456789012345678901234567890123456789" \
		"012345"
#define S127	S126 "6"
#define E16	"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00" \
		"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00" \
		"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00" \
		"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00"
#define E64	E16 E16 E16 E16

/* lbx_cookie_claims() with {now, skew} and issuer/audience. */
static const struct {
	const char	*claims;
	const char	*iss;
	const char	*aud;
	enum lbauth_err	 want;
} rows[] = {
	{ C(""), NULL, NULL, LBAUTH_OK },			/* minimal */
	/* exp: expired when now >= exp + skew. */
	{ "{" SUB ",\"exp\":999940}", NULL, NULL, LBAUTH_EEXPIRED },
	{ "{" SUB ",\"exp\":999941}", NULL, NULL, LBAUTH_OK },
	{ "{" SUB ",\"exp\":999940.5}", NULL, NULL, LBAUTH_OK },
	{ "{" SUB ",\"exp\":0}", NULL, NULL, LBAUTH_EEXPIRED },
	{ "{" SUB ",\"exp\":-1}", NULL, NULL, LBAUTH_EEXPIRED },
	{ "{" SUB "}", NULL, NULL, LBAUTH_ECLAIM },		/* exp missing */
	{ "{" SUB ",\"exp\":\"2000000\"}", NULL, NULL, LBAUTH_ECLAIM },
	{ "{" SUB ",\"exp\":null}", NULL, NULL, LBAUTH_ECLAIM },
	{ "{" SUB ",\"exp\":true}", NULL, NULL, LBAUTH_ECLAIM },
	{ "{" SUB ",\"exp\":[2000000]}", NULL, NULL, LBAUTH_ECLAIM },
	{ "{" SUB ",\"exp\":1e400}", NULL, NULL, LBAUTH_ECLAIM },	/* inf */
	/* nbf: not yet when now < nbf - skew. */
	{ C(",\"nbf\":1000060"), NULL, NULL, LBAUTH_OK },
	{ C(",\"nbf\":1000061"), NULL, NULL, LBAUTH_ENOTYET },
	{ C(",\"nbf\":0"), NULL, NULL, LBAUTH_OK },
	{ C(",\"nbf\":\"0\""), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"nbf\":null"), NULL, NULL, LBAUTH_ECLAIM },
	/* sub: 1..128 UTF-16 units of text. */
	{ "{" EXP "}", NULL, NULL, LBAUTH_ECLAIM },		/* missing */
	{ "{\"sub\":\"\"," EXP "}", NULL, NULL, LBAUTH_ECLAIM },	/* empty */
	{ "{\"sub\":42," EXP "}", NULL, NULL, LBAUTH_ECLAIM },	/* number */
	{ "{\"sub\":null," EXP "}", NULL, NULL, LBAUTH_ECLAIM },
	{ "{\"sub\":\"" S128 "\"," EXP "}", NULL, NULL, LBAUTH_OK },
	{ "{\"sub\":\"" S129 "\"," EXP "}", NULL, NULL, LBAUTH_ECLAIM },
	{ "{\"sub\":\"" E64 "\"," EXP "}", NULL, NULL, LBAUTH_OK }, /* 128 */
	{ "{\"sub\":\"" E64 "x\"," EXP "}", NULL, NULL, LBAUTH_ECLAIM },
	{ "{\"sub\":\"a\\nb\"," EXP "}", NULL, NULL, LBAUTH_ECLAIM },
	{ "{\"sub\":\"a\\u0000\"," EXP "}", NULL, NULL, LBAUTH_ECLAIM },
	{ "{\"sub\":\"a\\u0085\"," EXP "}", NULL, NULL, LBAUTH_ECLAIM },
	{ "{\"sub\":\"a\\u007f\"," EXP "}", NULL, NULL, LBAUTH_ECLAIM },
	/* A bad sub is reported before an expired exp. */
	{ "{\"sub\":\"\",\"exp\":1}", NULL, NULL, LBAUTH_ECLAIM },
	/* iss. */
	{ C(",\"iss\":\"https://idp\""), "https://idp", NULL, LBAUTH_OK },
	{ C(",\"iss\":\"https://idp2\""), "https://idp", NULL, LBAUTH_EISSUER },
	{ C(",\"iss\":\"https://id\""), "https://idp", NULL, LBAUTH_EISSUER },
	{ C(""), "https://idp", NULL, LBAUTH_EISSUER },		/* missing */
	{ C(",\"iss\":[\"https://idp\"]"), "https://idp", NULL,
	    LBAUTH_EISSUER },
	{ C(",\"iss\":\"anything\""), NULL, NULL, LBAUTH_OK },	/* unchecked */
	/* aud: a string or an array holding ours. */
	{ C(",\"aud\":\"lb\""), NULL, "lb", LBAUTH_OK },
	{ C(",\"aud\":[\"x\",\"lb\"]"), NULL, "lb", LBAUTH_OK },
	{ C(",\"aud\":[\"x\"]"), NULL, "lb", LBAUTH_EAUDIENCE },
	{ C(",\"aud\":[]"), NULL, "lb", LBAUTH_EAUDIENCE },
	{ C(",\"aud\":\"lbx\""), NULL, "lb", LBAUTH_EAUDIENCE },
	{ C(",\"aud\":[1,null]"), NULL, "lb", LBAUTH_EAUDIENCE },
	{ C(",\"aud\":1"), NULL, "lb", LBAUTH_EAUDIENCE },
	{ C(""), NULL, "lb", LBAUTH_EAUDIENCE },		/* missing */
	{ C(",\"iss\":\"i\",\"aud\":\"lb\""), "i", "lb", LBAUTH_OK },
	/* org: 1..126 characters without '*'. */
	{ C(",\"org\":\"acme\""), NULL, NULL, LBAUTH_OK },
	{ C(",\"org\":\"" S126 "\""), NULL, NULL, LBAUTH_OK },
	{ C(",\"org\":\"" S127 "\""), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"org\":\"ac*me\""), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"org\":\"*\""), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"org\":\"\""), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"org\":1"), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"org\":null"), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"org\":\"a\\nb\""), NULL, NULL, LBAUTH_ECLAIM },
	/* groups: an array of at most 64 group ids. */
	{ C(",\"groups\":[]"), NULL, NULL, LBAUTH_OK },
	{ C(",\"groups\":[\"g1\",\"g2\"]"), NULL, NULL, LBAUTH_OK },
	{ C(",\"groups\":\"g1\""), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"groups\":{}"), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"groups\":[\"g1\",2]"), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"groups\":[\"\"]"), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"groups\":[\"" S129 "\"]"), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"groups\":[\"a\\tb\"]"), NULL, NULL, LBAUTH_ECLAIM },
	/* rooms: room ids or prefix* patterns. */
	{ C(",\"rooms\":[\"a\",\"b*\",\"*\"]"), NULL, NULL, LBAUTH_OK },
	{ C(",\"rooms\":[\"a*b\"]"), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"rooms\":[\"*a\"]"), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"rooms\":[\"**\"]"), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"rooms\":[\"\"]"), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"rooms\":[\"a\\n\"]"), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"rooms\":[\"" S128 "*\"]"), NULL, NULL, LBAUTH_OK },
	{ C(",\"rooms\":[\"" S129 "\"]"), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"rooms\":\"a\""), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"rooms\":[1]"), NULL, NULL, LBAUTH_ECLAIM },
	/* info: an object. */
	{ C(",\"info\":{}"), NULL, NULL, LBAUTH_OK },
	{ C(",\"info\":\"x\""), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"info\":[]"), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"info\":null"), NULL, NULL, LBAUTH_ECLAIM },
	/* name and avatar: strings. */
	{ C(",\"name\":\"Ada\""), NULL, NULL, LBAUTH_OK },
	{ C(",\"name\":1"), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"avatar\":null"), NULL, NULL, LBAUTH_ECLAIM },
	/* With info, name and avatar are not looked at. */
	{ C(",\"info\":{},\"name\":1"), NULL, NULL, LBAUTH_OK },
	/*
	 * Issue 12, where README was silent.  exp: any finite number,
	 * 1e300 included (the app chose a session that does not end);
	 * beyond a double (1e400, read as Infinity) it is no NumericDate.
	 */
	{ "{" SUB ",\"exp\":1e300}", NULL, NULL, LBAUTH_OK },
	{ "{" SUB ",\"exp\":1.7976931348623157e308}", NULL, NULL, LBAUTH_OK },
	{ "{" SUB ",\"exp\":-1e400}", NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"nbf\":-1e300"), NULL, NULL, LBAUTH_OK },
	{ C(",\"nbf\":1e400"), NULL, NULL, LBAUTH_ECLAIM },
	/* Lone surrogates: no id, org, group or rooms entry; text keeps them. */
	{ "{\"sub\":\"\\ud800\"," EXP "}", NULL, NULL, LBAUTH_ECLAIM },
	{ "{\"sub\":\"a\\udfff\"," EXP "}", NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"org\":\"\\udc00\""), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"groups\":[\"g\\ud800\"]"), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"rooms\":[\"\\ud800*\"]"), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"name\":\"\\ud800\""), NULL, NULL, LBAUTH_OK },
	{ C(",\"info\":{\"a\":\"\\ud800\"}"), NULL, NULL, LBAUTH_OK },
	/* Control characters: refused in org and group ids as in sub. */
	{ C(",\"org\":\"a\\u0000\""), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"org\":\"a\\u009f\""), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"groups\":[\"a\\u001b\"]"), NULL, NULL, LBAUTH_ECLAIM },
	/* Group ids: 1 to 128 characters; rooms: only valid patterns. */
	{ C(",\"groups\":[\"" S128 "\"]"), NULL, NULL, LBAUTH_OK },
	{ C(",\"groups\":[\"g\",\"\"]"), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"rooms\":[\"ok\",\"a*b\"]"), NULL, NULL, LBAUTH_ECLAIM },
	{ C(",\"rooms\":[\"ok\",\"*\"]"), NULL, NULL, LBAUTH_OK },
	{ C(",\"rooms\":[\"" S128 "x*\"]"), NULL, NULL, LBAUTH_ECLAIM },
};

/*
 * Log reasons name the rule that failed (issue 12): "groups": [""] was
 * logged as "groups must be an array of at most 64 group ids".
 */
static const struct {
	const char	*claims;
	const char	*reason;
} whys[] = {
	{ "{" EXP "}", "sub must be a string of 1 to 128 characters without "
	    "control characters or lone surrogates" },
	{ "{\"sub\":\"a\\nb\"," EXP "}", "sub must be a string of 1 to 128 "
	    "characters without control characters or lone surrogates" },
	{ "{" SUB "}", "exp must be present and a finite number" },
	{ "{" SUB ",\"exp\":1e400}", "exp must be present and a finite "
	    "number" },
	{ "{" SUB ",\"exp\":1}", "exp has passed (clock_skew included)" },
	{ C(",\"nbf\":\"0\""), "nbf must be a finite number" },
	{ C(",\"nbf\":2000000"), "nbf is still ahead (clock_skew included)" },
	{ C(",\"org\":\"a*\""), "org must be a string of 1 to 126 characters "
	    "without '*', control characters or lone surrogates" },
	{ C(",\"groups\":{}"), "groups must be an array of at most 64 "
	    "entries" },
	{ C(",\"groups\":[\"\"]"), "a group id must be a string of 1 to 128 "
	    "characters without control characters or lone surrogates" },
	{ C(",\"groups\":[\"" S129 "\"]"), "a group id must be a string of 1 "
	    "to 128 characters without control characters or lone "
	    "surrogates" },
	{ C(",\"groups\":[3]"), "a group id must be a string of 1 to 128 "
	    "characters without control characters or lone surrogates" },
	{ C(",\"rooms\":\"a\""), "rooms must be an array of at most 64 "
	    "entries" },
	{ C(",\"rooms\":[\"a*b\"]"), "a rooms entry must be a room id or a "
	    "prefix* pattern: a string of 1 to 128 characters (before a "
	    "final '*') without another '*', control characters or lone "
	    "surrogates" },
	{ C(",\"info\":[]"), "info must be an object" },
	{ C(",\"name\":1"), "name and avatar must be strings of at most "
	    "1024 bytes" },
	{ C(",\"info\":{\"a\":\"" S128 S128 S128 S128 S128 S128 S128 S128 "\"}"),
	    "userInfo exceeds 1024 characters" },
};

/* The serialized userInfo for claims (all valid). */
static const struct {
	const char	*claims;
	const char	*info;	/* "" for none */
} infos[] = {
	{ C(""), "" },
	{ C(",\"name\":\"Ada\",\"avatar\":\"https://x/a.png\""),
	    "{\"name\":\"Ada\",\"avatar\":\"https://x/a.png\"}" },
	{ C(",\"avatar\":\"https://x/a.png\",\"name\":\"Ada\""),
	    "{\"name\":\"Ada\",\"avatar\":\"https://x/a.png\"}" },
	{ C(",\"name\":\"Ada\""), "{\"name\":\"Ada\"}" },
	{ C(",\"avatar\":\"a\""), "{\"avatar\":\"a\"}" },
	{ C(",\"name\":\"A\\\"d\\na\\u00e9\""),
	    "{\"name\":\"A\\\"d\\na\xc3\xa9\"}" },
	{ C(",\"info\":{\"b\":1,\"2\":\"x\"},\"name\":\"Ada\""),
	    "{\"2\":\"x\",\"b\":1}" },
	{ C(",\"info\":{\"color\":\"#f00\",\"n\":1.0,\"a\":[true,null]}"),
	    "{\"color\":\"#f00\",\"n\":1,\"a\":[true,null]}" },
	{ C(",\"info\":{}"), "{}" },
};

static enum lbauth_err
claims(struct lbauth_user *u, const char *json, const char *iss,
    const char *aud, const char **reason_r)
{
	struct lbx_claims_rules	 r = { NOW, SKEW, iss, aud };
	struct json_object	*o;

	if (lbx_json_parse(json, strlen(json), &o) != LBAUTH_OK) {
		fprintf(stderr, "bad test JSON: %s\n", json);
		exit(2);
	}
	return lbx_cookie_claims(u, o, &r, reason_r);
}

/* A claims JSON with an array member of n strings made by fmt. */
static void
array_claims(struct lbx_buf *b, const char *key, size_t n, const char *fmt)
{
	size_t	 i;

	lbx_buf_reset(b);
	lbx_buf_printf(b, "{" SUB "," EXP ",\"%s\":[", key);
	for (i = 0; i < n; i++) {
		if (i > 0)
			lbx_buf_putc(b, ',');
		lbx_buf_putc(b, '"');
		lbx_buf_printf(b, fmt, (int)i);
		lbx_buf_putc(b, '"');
	}
	lbx_buf_puts(b, "]}");
}

/* A signed cookie: "theme=dark; session=<HS256 JWT of payload>". */
static void
cookie(struct lbx_buf *b, const char *payload, const struct lbx_key *key)
{
	struct lbx_buf	 h;

	lbx_buf_init(&h);
	lbx_jwt_header(&h, key);
	lbx_buf_reset(b);
	lbx_buf_puts(b, "theme=dark; session=");
	lbx_jwt_sign(b, h.p, h.len, payload, strlen(payload), key);
	lbx_buf_puts(b, "; lang=en");
	lbx_buf_clear(&h);
}

int
main(void)
{
	struct lbauth_user	 u;
	struct lbx_claims_rules	 r = { NOW, SKEW, NULL, NULL };
	struct lbx_buf		 b;
	struct lbx_key		 key, key2, ed;
	unsigned char		 seed[32] = { 1 };
	const char		*v, *reason;
	char			*big;
	size_t			 i, n;
	enum lbauth_err		 rc;

	if (sodium_init() < 0)
		return 1;
	lbx_buf_init(&b);

	/* --- lbx_cookie_find. */
	for (i = 0; i < sizeof(finds) / sizeof(finds[0]); i++) {
		rc = lbx_cookie_find(finds[i].hdr, "session", &v, &n);
		if (finds[i].val != NULL) {
			test_assert_idx(rc == LBAUTH_OK, i);
			test_assert_idx(v != NULL && n == strlen(finds[i].val) &&
			    memcmp(v, finds[i].val, n) == 0, i);
			/* Borrowed from the header. */
			test_assert_idx(v >= finds[i].hdr && v + n <=
			    finds[i].hdr + strlen(finds[i].hdr), i);
		} else {
			test_assert_idx(rc == finds[i].err, i);
			test_assert_idx(v == NULL && n == 0, i);
		}
	}
	/* Sizes: the header cap and the value cap. */
	big = malloc(LBX_COOKIE_HEADER_MAX + 64);
	memset(big, 'x', LBX_COOKIE_HEADER_MAX + 64);
	memcpy(big, "session=abc; pad=", 17);
	big[LBX_COOKIE_HEADER_MAX] = '\0';		/* 16384 bytes */
	test_assert(lbx_cookie_find(big, "session", &v, &n) == LBAUTH_OK &&
	    n == 3);
	big[LBX_COOKIE_HEADER_MAX] = 'x';
	big[LBX_COOKIE_HEADER_MAX + 1] = '\0';		/* 16385 */
	test_assert(lbx_cookie_find(big, "session", &v, &n) == LBAUTH_ECOOKIE &&
	    v == NULL);
	lbx_user_init(&u);
	test_assert(lbx_cookie_verify(&u, big, "session", NULL, &r, &reason) ==
	    LBAUTH_ECOOKIE && strcmp(reason, "Cookie header over 16384 bytes") ==
	    0);
	lbx_user_clear(&u);
	memcpy(big, "a=1; session=", 13);
	memset(big + 13, 'v', LBX_COOKIE_TOKEN_MAX);
	big[13 + LBX_COOKIE_TOKEN_MAX] = '\0';		/* value 4096 */
	test_assert(lbx_cookie_find(big, "session", &v, &n) == LBAUTH_OK &&
	    n == LBX_COOKIE_TOKEN_MAX);
	big[13 + LBX_COOKIE_TOKEN_MAX] = 'v';
	big[14 + LBX_COOKIE_TOKEN_MAX] = '\0';		/* value 4097 */
	test_assert(lbx_cookie_find(big, "session", &v, &n) == LBAUTH_ECOOKIE &&
	    v == NULL && n == 0);
	lbx_user_init(&u);
	test_assert(lbx_cookie_verify(&u, big, "session", NULL, &r, &reason) ==
	    LBAUTH_ECOOKIE && strcmp(reason,
	    "the session cookie is over 4096 bytes") == 0);
	lbx_user_clear(&u);
	free(big);
	/* Another cookie name. */
	test_assert(lbx_cookie_find("session=a; __Host-sid=b", "__Host-sid",
	    &v, &n) == LBAUTH_OK && n == 1 && *v == 'b');

	/* --- lbx_cookie_claims, one fresh user per row. */
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		lbx_user_init(&u);
		rc = claims(&u, rows[i].claims, rows[i].iss, rows[i].aud,
		    &reason);
		test_assert_idx(rc == rows[i].want, i);
		if (rc == LBAUTH_ECLAIM)
			test_assert_idx(reason != NULL, i);
		if (rc == LBAUTH_OK) {
			test_assert_idx(reason == NULL, i);
			test_assert_idx(u.id != NULL && lbauth_user_id(&u) ==
			    u.id, i);
		}
		test_assert_idx(u.claims != NULL, i);	/* owned either way */
		lbx_user_clear(&u);
		test_assert_idx(u.claims == NULL && u.id == NULL, i);
	}

	for (i = 0; i < sizeof(whys) / sizeof(whys[0]); i++) {
		lbx_user_init(&u);
		rc = claims(&u, whys[i].claims, NULL, NULL, &reason);
		test_assert_idx(rc != LBAUTH_OK && reason != NULL &&
		    strcmp(reason, whys[i].reason) == 0, i);
		if (reason != NULL && strcmp(reason, whys[i].reason) != 0)
			fprintf(stderr, "  row %zu: %s\n", i, reason);
		lbx_user_clear(&u);
	}
	/* iss and aud too. */
	lbx_user_init(&u);
	test_assert(claims(&u, C(""), "i", NULL, &reason) == LBAUTH_EISSUER &&
	    strcmp(reason, "iss is not cookie_issuer") == 0);
	lbx_user_clear(&u);
	lbx_user_init(&u);
	test_assert(claims(&u, C(""), NULL, "a", &reason) == LBAUTH_EAUDIENCE &&
	    strcmp(reason, "aud does not hold cookie_audience") == 0);
	lbx_user_clear(&u);

	/* Array sizes: 64 entries is the cap, 65 is refused. */
	{
		const struct {
			const char	*key;
			size_t		 n;
			enum lbauth_err	 want;
		} arrs[] = {
			{ "groups", 64, LBAUTH_OK },
			{ "groups", 65, LBAUTH_ECLAIM },
			{ "rooms", 64, LBAUTH_OK },
			{ "rooms", 65, LBAUTH_ECLAIM },
		};

		for (i = 0; i < sizeof(arrs) / sizeof(arrs[0]); i++) {
			array_claims(&b, arrs[i].key, arrs[i].n, "g%d");
			lbx_user_init(&u);
			test_assert_idx(claims(&u, b.p, NULL, NULL, &reason) ==
			    arrs[i].want, i);
			lbx_user_clear(&u);
		}
	}

	/* info: at most 1024 characters once serialized. */
	for (i = 1015; i <= 1018; i++) {
		size_t k;

		lbx_buf_reset(&b);
		lbx_buf_puts(&b, C(",\"info\":{\"a\":\""));
		b.len -= 1;	/* C() closed the object: reopen it */
		for (k = 0; k < i; k++)
			lbx_buf_putc(&b, 'x');
		lbx_buf_puts(&b, "\"}}");
		/* {"a":"..."} is 8 + i characters. */
		lbx_user_init(&u);
		rc = claims(&u, b.p, NULL, NULL, &reason);
		test_assert_idx(rc == (8 + i <= 1024 ? LBAUTH_OK :
		    LBAUTH_ECLAIM), i);
		if (rc == LBAUTH_OK)
			test_assert_idx(u.info.len == 8 + i, i);
		lbx_user_clear(&u);
	}
	/* Counted in UTF-16 units: 2 per emoji. */
	lbx_buf_reset(&b);
	lbx_buf_puts(&b, "{" SUB "," EXP ",\"info\":{\"a\":\"");
	for (i = 0; i < 508; i++)			/* 8 + 1016 */
		lbx_buf_puts(&b, "\\ud83d\\ude00");
	lbx_buf_puts(&b, "\"}}");
	lbx_user_init(&u);
	test_assert(claims(&u, b.p, NULL, NULL, &reason) == LBAUTH_OK);
	lbx_user_clear(&u);
	b.len -= 3;
	lbx_buf_puts(&b, "x\"}}");			/* 1025 */
	lbx_user_init(&u);
	test_assert(claims(&u, b.p, NULL, NULL, &reason) == LBAUTH_ECLAIM);
	lbx_user_clear(&u);
	/* name + avatar over 1024 together. */
	lbx_buf_reset(&b);
	lbx_buf_puts(&b, "{" SUB "," EXP ",\"name\":\"");
	for (i = 0; i < 600; i++)
		lbx_buf_putc(&b, 'n');
	lbx_buf_puts(&b, "\",\"avatar\":\"");
	for (i = 0; i < 600; i++)
		lbx_buf_putc(&b, 'a');
	lbx_buf_puts(&b, "\"}");
	lbx_user_init(&u);
	test_assert(claims(&u, b.p, NULL, NULL, &reason) == LBAUTH_ECLAIM &&
	    reason != NULL);
	lbx_user_clear(&u);

	/* The userInfo, byte for byte. */
	for (i = 0; i < sizeof(infos) / sizeof(infos[0]); i++) {
		lbx_user_init(&u);
		test_assert_idx(claims(&u, infos[i].claims, NULL, NULL,
		    &reason) == LBAUTH_OK, i);
		test_assert_idx(u.info.len == strlen(infos[i].info), i);
		test_assert_idx(u.info.len == 0 ||
		    strcmp(u.info.p, infos[i].info) == 0, i);
		lbx_user_clear(&u);
	}

	/* --- The accessors. */
	lbx_user_init(&u);
	test_assert(claims(&u, C(",\"org\":\"acme\",\"groups\":[\"g1\",\"g2\"],"
	    "\"rooms\":[\"acme:doc\",\"team:*\",\"x\"],\"email\":\"a@b\","
	    "\"n\":1"), NULL, NULL, &reason) == LBAUTH_OK);
	test_assert(strcmp(lbauth_user_id(&u), "u1") == 0);
	test_assert(strcmp(lbauth_user_org(&u), "acme") == 0);
	test_assert(lbauth_user_ngroups(&u) == 2);
	test_assert(strcmp(lbauth_user_group(&u, 0), "g1") == 0);
	test_assert(strcmp(lbauth_user_group(&u, 1), "g2") == 0);
	test_assert(lbauth_user_group(&u, 2) == NULL);
	test_assert(lbauth_user_group(&u, (size_t)-1) == NULL);
	test_assert(lbauth_user_may_enter(&u, "acme:doc"));	/* exact */
	test_assert(!lbauth_user_may_enter(&u, "acme:doc2"));
	test_assert(!lbauth_user_may_enter(&u, "acme:do"));
	test_assert(!lbauth_user_may_enter(&u, "acme"));
	test_assert(lbauth_user_may_enter(&u, "team:1"));	/* prefix* */
	test_assert(lbauth_user_may_enter(&u, "team:"));
	test_assert(!lbauth_user_may_enter(&u, "team"));
	test_assert(!lbauth_user_may_enter(&u, "xteam:1"));
	test_assert(lbauth_user_may_enter(&u, "x"));
	test_assert(!lbauth_user_may_enter(&u, "xy"));
	test_assert(!lbauth_user_may_enter(&u, ""));
	test_assert(strcmp(lbauth_user_claim(&u, "email"), "a@b") == 0);
	test_assert(strcmp(lbauth_user_claim(&u, "sub"), "u1") == 0);
	test_assert(lbauth_user_claim(&u, "n") == NULL);	/* not a string */
	test_assert(lbauth_user_claim(&u, "nope") == NULL);
	lbx_user_clear(&u);
	/* "*" lets the user enter every room. */
	lbx_user_init(&u);
	test_assert(claims(&u, C(",\"rooms\":[\"*\"]"), NULL, NULL, &reason) ==
	    LBAUTH_OK);
	test_assert(lbauth_user_may_enter(&u, "anything"));
	test_assert(lbauth_user_may_enter(&u, "a"));
	lbx_user_clear(&u);
	/* No claims for org, groups, rooms. */
	lbx_user_init(&u);
	test_assert(claims(&u, C(""), NULL, NULL, &reason) == LBAUTH_OK);
	test_assert(lbauth_user_org(&u) == NULL);
	test_assert(lbauth_user_ngroups(&u) == 0);
	test_assert(lbauth_user_group(&u, 0) == NULL);
	test_assert(!lbauth_user_may_enter(&u, "a"));
	lbx_user_clear(&u);

	/* --- REMOTE_USER. */
	lbx_user_init(&u);
	test_assert(lbx_user_remote(&u, "alice") == LBAUTH_OK);
	test_assert(strcmp(lbauth_user_id(&u), "alice") == 0 &&
	    lbauth_user_claim(&u, "sub") == NULL && u.info.len == 0);
	lbx_user_clear(&u);
	lbx_user_init(&u);
	test_assert(lbx_user_remote(&u, "") == LBAUTH_ECLAIM);
	test_assert(lbx_user_remote(&u, S129) == LBAUTH_ECLAIM);
	test_assert(lbx_user_remote(&u, "a\nb") == LBAUTH_ECLAIM);
	test_assert(lbx_user_remote(&u, "\xff") == LBAUTH_ECLAIM);
	test_assert(lbx_user_remote(&u, S128) == LBAUTH_OK);
	lbx_user_clear(&u);

	/* --- The whole path with an HS256 key. */
	test_assert(lbx_key_hs256(&key, (const unsigned char *)
	    "cookie-secret-cookie-secret-0123", 32, &reason) == LBAUTH_OK);
	test_assert(lbx_key_hs256(&key2, (const unsigned char *)
	    "another-secret-another-secret-01", 32, &reason) == LBAUTH_OK);
	test_assert(lbx_key_ed25519_seed(&ed, seed) == LBAUTH_OK);
	cookie(&b, C(",\"org\":\"acme\",\"groups\":[\"g\"],\"rooms\":"
	    "[\"r*\"],\"name\":\"Ada\""), &key);
	lbx_user_init(&u);
	test_assert(lbx_cookie_verify(&u, b.p, "session", &key, &r, &reason) ==
	    LBAUTH_OK);
	test_assert(strcmp(lbauth_user_id(&u), "u1") == 0 &&
	    strcmp(lbauth_user_org(&u), "acme") == 0 &&
	    strcmp(lbauth_user_group(&u, 0), "g") == 0 &&
	    lbauth_user_may_enter(&u, "r1") && !lbauth_user_may_enter(&u, "s"));
	test_assert(strcmp(u.info.p, "{\"name\":\"Ada\"}") == 0);
	lbx_user_clear(&u);
	/* Another key: the signature does not verify. */
	lbx_user_init(&u);
	test_assert(lbx_cookie_verify(&u, b.p, "session", &key2, &r,
	    &reason) == LBAUTH_ESIG && u.claims == NULL && u.id == NULL);
	test_assert(reason != NULL && strcmp(reason,
	    "signature does not verify with the configured key") == 0);
	lbx_user_clear(&u);
	/*
	 * Duplicate claims (issue 12: README was silent, the last one won):
	 * refused after the signature verifies, at any depth.  Another JWT
	 * library reading the same cookie may keep the first "sub", so two
	 * readers would see two users.
	 */
	{
		static const char *const dups[] = {
			"{\"sub\":\"admin\",\"sub\":\"u1\"," EXP "}",
			"{" SUB "," EXP ",\"org\":\"a\",\"org\":\"acme\"}",
			"{" SUB "," EXP "," EXP "}",
			"{" SUB "," EXP ",\"info\":{\"n\":1,\"n\":2}}",
			"{" SUB "," EXP ",\"\\u0073ub\":\"u2\"}",
		};

		for (i = 0; i < sizeof(dups) / sizeof(dups[0]); i++) {
			cookie(&b, dups[i], &key);
			lbx_user_init(&u);
			test_assert_idx(lbx_cookie_verify(&u, b.p, "session",
			    &key, &r, &reason) == LBAUTH_ETOKEN && u.id == NULL &&
			    reason != NULL && strcmp(reason, "claims repeat "
			    "a member name in one object") == 0, i);
			lbx_user_clear(&u);
		}
	}
	/* Commas and quotes around a real cookie (issue 12). */
	{
		struct lbx_buf	 q;
		const char	*tok;

		cookie(&b, C(""), &key);
		tok = strstr(b.p, "session=") + 8;
		lbx_buf_init(&q);
		lbx_buf_puts(&q, "session=\"");
		lbx_buf_put(&q, tok, (size_t)(strstr(tok, ";") - tok));
		lbx_buf_puts(&q, "\"");
		lbx_user_init(&u);
		test_assert(lbx_cookie_verify(&u, q.p, "session", &key, &r,
		    &reason) == LBAUTH_OK);
		lbx_user_clear(&u);
		q.len--;
		lbx_buf_puts(&q, ", theme=dark");
		lbx_user_init(&u);
		test_assert(lbx_cookie_verify(&u, q.p, "session", &key, &r,
		    &reason) == LBAUTH_ETOKEN);	/* the quote stays: no JWT */
		lbx_user_clear(&u);
		lbx_buf_reset(&q);
		lbx_buf_puts(&q, "session=");
		lbx_buf_put(&q, tok, (size_t)(strstr(tok, ";") - tok));
		lbx_buf_puts(&q, ", theme=dark");
		lbx_user_init(&u);
		test_assert(lbx_cookie_verify(&u, q.p, "session", &key, &r,
		    &reason) == LBAUTH_ESIG);
		lbx_user_clear(&u);
		lbx_buf_reset(&q);
		lbx_buf_puts(&q, "theme=dark, session=");
		lbx_buf_put(&q, tok, (size_t)(strstr(tok, ";") - tok));
		lbx_user_init(&u);
		test_assert(lbx_cookie_verify(&u, q.p, "session", &key, &r,
		    &reason) == LBAUTH_ENOSESSION &&
		    strcmp(reason, "no session cookie") == 0);
		lbx_user_clear(&u);
		lbx_buf_clear(&q);
	}
	/* A flipped character of the signature. */
	{
		char *semi = strstr(b.p, "; lang");

		semi[-3] = semi[-3] == 'A' ? 'B' : 'A';
	}
	lbx_user_init(&u);
	test_assert(lbx_cookie_verify(&u, b.p, "session", &key, &r, &reason) ==
	    LBAUTH_ESIG && u.claims == NULL);
	lbx_user_clear(&u);
	/* A flipped character of the payload. */
	cookie(&b, C(""), &key);
	{
		char *dot = strchr(b.p, '.');

		dot[3] = dot[3] == 'A' ? 'B' : 'A';
	}
	lbx_user_init(&u);
	test_assert(lbx_cookie_verify(&u, b.p, "session", &key, &r, &reason) ==
	    LBAUTH_ESIG);
	lbx_user_clear(&u);
	/* Verified but expired. */
	cookie(&b, "{\"sub\":\"u1\",\"exp\":999940}", &key);
	lbx_user_init(&u);
	test_assert(lbx_cookie_verify(&u, b.p, "session", &key, &r, &reason) ==
	    LBAUTH_EEXPIRED);
	lbx_user_clear(&u);
	/* An EdDSA token where HS256 is pinned. */
	cookie(&b, C(""), &ed);
	lbx_user_init(&u);
	test_assert(lbx_cookie_verify(&u, b.p, "session", &key, &r, &reason) ==
	    LBAUTH_EALG && reason != NULL);
	lbx_user_clear(&u);
	/* A payload that is not an object. */
	cookie(&b, "[1]", &key);
	lbx_user_init(&u);
	test_assert(lbx_cookie_verify(&u, b.p, "session", &key, &r, &reason) ==
	    LBAUTH_ETOKEN);
	lbx_user_clear(&u);
	/* No cookie, two cookies, a cookie that is no JWT. */
	lbx_user_init(&u);
	test_assert(lbx_cookie_verify(&u, "theme=dark", "session", &key, &r,
	    &reason) == LBAUTH_ENOSESSION &&
	    strcmp(reason, "no session cookie") == 0);
	test_assert(lbx_cookie_verify(&u, NULL, "session", &key, &r,
	    &reason) == LBAUTH_ENOSESSION &&
	    strcmp(reason, "no Cookie header") == 0);
	test_assert(lbx_cookie_verify(&u, "session=", "session", &key, &r,
	    &reason) == LBAUTH_ENOSESSION &&
	    strcmp(reason, "the session cookie is empty") == 0);
	test_assert(lbx_cookie_verify(&u, "session=a.b.c; session=d.e.f",
	    "session", &key, &r, &reason) == LBAUTH_ECOOKIE &&
	    strcmp(reason, "the session cookie appears twice") == 0);
	test_assert(lbx_cookie_verify(&u, "session=abc", "session", &key, &r,
	    &reason) == LBAUTH_ETOKEN);
	lbx_user_clear(&u);

	lbx_key_clear(&key);
	lbx_key_clear(&key2);
	lbx_key_clear(&ed);
	lbx_buf_clear(&b);
	return test_done();
}
