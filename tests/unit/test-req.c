/*
 * test-req.c: lib/req.c, the request from CGI meta-variables (RFC 3875)
 * and its body, without I/O: method, content type, a strict length
 * with its cap, the body's "room", and the Origin check.
 */
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"

#define S(s)	s, sizeof(s) - 1
#define R128	"012345678901234567890123456789012345678901234567890123456789" \
		"012345678901234567890123456789012345678901234567890123456789" \
		"01234567"
#define E16	"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00" \
		"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00" \
		"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00" \
		"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00"

static const struct {
	const char	*m;
	enum lbx_method	 want;
} methods[] = {
	{ "POST", LBX_METHOD_POST },
	{ "OPTIONS", LBX_METHOD_OPTIONS },
	{ "GET", LBX_METHOD_OTHER },
	{ "post", LBX_METHOD_OTHER },		/* methods are case-sensitive */
	{ "POST ", LBX_METHOD_OTHER },
	{ "", LBX_METHOD_OTHER },
	{ NULL, LBX_METHOD_OTHER },		/* unset */
};

static const struct {
	const char	*ct;
	enum lbauth_err	 want;
} ctypes[] = {
	{ "application/json", LBAUTH_OK },
	{ "Application/JSON; charset=utf-8", LBAUTH_OK },	/* case, params */
	{ "application/json;charset=UTF-8", LBAUTH_OK },
	{ "application/json ; charset=utf-8", LBAUTH_OK },
	{ " application/json", LBAUTH_OK },			/* leading blank */
	{ "application/jsonx", LBAUTH_ECTYPE },			/* longer type */
	{ "application/json-patch+json", LBAUTH_ECTYPE },
	{ "application/jso", LBAUTH_ECTYPE },			/* shorter */
	{ "text/plain", LBAUTH_ECTYPE },			/* a form can send it */
	{ "application/x-www-form-urlencoded", LBAUTH_ECTYPE },
	{ "multipart/form-data; boundary=x", LBAUTH_ECTYPE },
	{ "text/json", LBAUTH_ECTYPE },
	{ "", LBAUTH_ECTYPE },
	{ NULL, LBAUTH_ECTYPE },				/* unset */
	/*
	 * Regression (issue 12, found by an independent hostile battery
	 * through nginx and as CGI): "application/json text/plain" got
	 * 200.  lbx_req_ctype() compared the first 16 bytes with
	 * "application/json" and then accepted anything after a blank.
	 * RFC 9110 section 8.3.1 allows only parameters after the
	 * subtype: *( OWS ";" OWS [ name "=" value ] ).  Now every byte is
	 * read by that grammar, and a charset other than utf-8 is refused.
	 */
	{ "application/json text/plain", LBAUTH_ECTYPE },
	{ "application/json\ttext/plain", LBAUTH_ECTYPE },
	{ "application/json x", LBAUTH_ECTYPE },
	{ "application/json, text/plain", LBAUTH_ECTYPE },	/* a list */
	{ "application/json/x", LBAUTH_ECTYPE },
	{ "application/json; charset", LBAUTH_ECTYPE },		/* no "=" */
	{ "application/json; charset=", LBAUTH_ECTYPE },	/* no value */
	{ "application/json; charset =utf-8", LBAUTH_ECTYPE },	/* blank */
	{ "application/json; charset= utf-8", LBAUTH_ECTYPE },
	{ "application/json; charset=utf-8 x", LBAUTH_ECTYPE },
	{ "application/json; charset=\"utf-8", LBAUTH_ECTYPE },	/* open */
	{ "application/json; =utf-8", LBAUTH_ECTYPE },		/* no name */
	{ "application/json; a=b=c", LBAUTH_ECTYPE },
	{ "application/json; a=\"x\ny\"", LBAUTH_ECTYPE },	/* a control */
	{ "application/json\n", LBAUTH_ECTYPE },
	{ "application/json; charset=latin1", LBAUTH_ECTYPE },	/* charset */
	{ "application/json; charset=utf-16", LBAUTH_ECTYPE },
	{ "application/json; charset=utf8", LBAUTH_ECTYPE },
	{ "application/json; charset=utf-8; charset=latin1", LBAUTH_ECTYPE },
	{ "application/json; charset=\"utf-8x\"", LBAUTH_ECTYPE },
	{ "application/json; charset=utf-8-but-much-longer", LBAUTH_ECTYPE },
	{ "application/json ", LBAUTH_OK },			/* trailing OWS */
	{ "application/json\t", LBAUTH_OK },
	{ "application/json;", LBAUTH_OK },			/* empty param */
	{ "application/json ; ; charset=utf-8 ;", LBAUTH_OK },
	{ "application/json; charset=\"utf-8\"", LBAUTH_OK },	/* quoted */
	{ "application/json; charset=\"UTF\\-8\"", LBAUTH_OK },	/* escaped */
	{ "application/json; charset=Utf-8", LBAUTH_OK },
	{ "application/json; v=1; q=\"a; b=c\"", LBAUTH_OK },	/* others */
	{ "application/json; x=\"\"", LBAUTH_OK },		/* empty quoted */
};

static const struct {
	const char	*cl;
	size_t		 max;
	enum lbauth_err	 want;
	size_t		 len;
} lengths[] = {
	{ NULL, 4096, LBAUTH_OK, 0 },			/* unset: no body */
	{ "", 4096, LBAUTH_OK, 0 },			/* empty: no body */
	{ "0", 4096, LBAUTH_OK, 0 },
	{ "12", 4096, LBAUTH_OK, 12 },
	{ "0012", 4096, LBAUTH_OK, 12 },		/* leading zeros */
	{ "4096", 4096, LBAUTH_OK, 4096 },		/* at the cap */
	{ "4097", 4096, LBAUTH_ETOOBIG, 0 },		/* over it */
	{ "99999999999999999999999999", 4096, LBAUTH_ETOOBIG, 0 },
	{ "18446744073709551617", 4096, LBAUTH_ETOOBIG, 0 }, /* 2^64 + 1 */
	{ "+1", 4096, LBAUTH_ELENGTH, 0 },		/* sign */
	{ "-1", 4096, LBAUTH_ELENGTH, 0 },
	{ " 1", 4096, LBAUTH_ELENGTH, 0 },		/* blanks */
	{ "1 ", 4096, LBAUTH_ELENGTH, 0 },
	{ "0x10", 4096, LBAUTH_ELENGTH, 0 },		/* hex */
	{ "1e3", 4096, LBAUTH_ELENGTH, 0 },		/* exponent */
	{ "1.0", 4096, LBAUTH_ELENGTH, 0 },
	{ "12a", 4096, LBAUTH_ELENGTH, 0 },
	{ "99999999999999999999x", 4096, LBAUTH_ELENGTH, 0 }, /* junk wins */
	{ "17", 16, LBAUTH_ETOOBIG, 0 },		/* another cap */
	{ "16", 16, LBAUTH_OK, 16 },
};

/* Bodies: the room (NULL: none) or the error. */
static const struct {
	const char	*body;
	size_t		 len;
	enum lbauth_err	 want;
	const char	*room;
} bodies[] = {
	{ S("{}"), LBAUTH_OK, NULL },			/* no room */
	{ S("{\"other\":1}"), LBAUTH_OK, NULL },	/* other members */
	{ S("{\"room\":\"a\"}"), LBAUTH_OK, "a" },
	{ S(" {\"room\" : \"acme:doc-1\"}\n"), LBAUTH_OK, "acme:doc-1" },
	{ S("{\"room\":\"" R128 "\"}"), LBAUTH_OK, R128 },	/* 128 */
	{ S("{\"room\":\"" E16 E16 E16 E16 "\"}"), LBAUTH_OK, NULL }, /* 128 units */
	{ S("{\"room\":\"\xc3\xa9\"}"), LBAUTH_OK, "\xc3\xa9" },
	/*
	 * A member name twice (issue 12: README was silent; the last one
	 * won): refused, since a proxy or WAF reading the first could see
	 * another room than lbauth.  JSON.stringify() never writes one.
	 */
	{ S("{\"room\":\"a\",\"room\":\"b\"}"), LBAUTH_EJSON, NULL },
	{ S("{\"room\":\"a*\",\"room\":\"b\"}"), LBAUTH_EJSON, NULL },
	{ S("{\"room\":\"b\",\"room\":\"a*\"}"), LBAUTH_EJSON, NULL },
	{ S("{\"room\":\"a\",\"x\":{\"y\":1,\"y\":1}}"), LBAUTH_EJSON, NULL },
	{ S("{\"room\":\"a\",\"\\u0072oom\":\"a\"}"), LBAUTH_EJSON, NULL },
	/* A byte order mark (issue 12): refused, RFC 8259 section 8.1. */
	{ S("\xef\xbb\xbf{}"), LBAUTH_EJSON, NULL },
	{ S("\xef\xbb\xbf{\"room\":\"a\"}"), LBAUTH_EJSON, NULL },
	/* A lone surrogate escape (issue 12): no room id. */
	{ S("{\"room\":\"\\ud800\"}"), LBAUTH_EROOM, NULL },
	{ S("{\"room\":\"a\\udc00\"}"), LBAUTH_EROOM, NULL },
	{ S("{\"room\":\"\\ud83d\\ude00\"}"), LBAUTH_OK, "\xf0\x9f\x98\x80" },
	{ S("{\"x\":\"\\ud800\"}"), LBAUTH_OK, NULL },	/* elsewhere: kept */
	{ S("{\"room\":\"\"}"), LBAUTH_EROOM, NULL },		/* empty */
	{ S("{\"room\":\"" R128 "8\"}"), LBAUTH_EROOM, NULL },	/* 129 */
	{ S("{\"room\":\"" E16 E16 E16 E16 "x\"}"), LBAUTH_EROOM, NULL },
	{ S("{\"room\":\"a*\"}"), LBAUTH_EROOM, NULL },		/* a wildcard */
	{ S("{\"room\":\"*\"}"), LBAUTH_EROOM, NULL },
	{ S("{\"room\":\"a*b\"}"), LBAUTH_EROOM, NULL },
	{ S("{\"room\":\"\\u0000\"}"), LBAUTH_EROOM, NULL },	/* NUL */
	{ S("{\"room\":\"a\\u0000b\"}"), LBAUTH_EROOM, NULL },
	{ S("{\"room\":\"\\n\"}"), LBAUTH_EROOM, NULL },	/* LF */
	{ S("{\"room\":\"a\\u007f\"}"), LBAUTH_EROOM, NULL },	/* DEL */
	{ S("{\"room\":\"a\\u0085\"}"), LBAUTH_EROOM, NULL },	/* C1 */
	{ S("{\"room\":1}"), LBAUTH_EROOM, NULL },		/* number */
	{ S("{\"room\":null}"), LBAUTH_EROOM, NULL },
	{ S("{\"room\":[\"a\"]}"), LBAUTH_EROOM, NULL },	/* array */
	{ S("{\"room\":{}}"), LBAUTH_EROOM, NULL },
	{ S("{\"room\":true}"), LBAUTH_EROOM, NULL },
	{ S("[]"), LBAUTH_EJSON, NULL },			/* not an object */
	{ S("[{\"room\":\"a\"}]"), LBAUTH_EJSON, NULL },
	{ S("1"), LBAUTH_EJSON, NULL },
	{ S("\"room\""), LBAUTH_EJSON, NULL },
	{ S("null"), LBAUTH_EJSON, NULL },
	{ S("{"), LBAUTH_EJSON, NULL },				/* not JSON */
	{ S(""), LBAUTH_EJSON, NULL },				/* empty body */
	{ S("{\"room\":\"a\"} x"), LBAUTH_EJSON, NULL },	/* trailing junk */
	{ S("{\"room\":\"a\"}\0"), LBAUTH_EJSON, NULL },	/* trailing NUL */
	{ S("{'room':'a'}"), LBAUTH_EJSON, NULL },
	{ S("{\"room\":\"\xff\"}"), LBAUTH_EJSON, NULL },	/* not UTF-8 */
	{ S("{\"room\\u0000\":\"a\"}"), LBAUTH_EJSON, NULL },	/* not "room" */
};

static const char *const allowed[] = {
	"https://app.example.com", "http://localhost:3000", NULL
};

static const struct {
	const char	*origin;
	const char	*scheme;
	const char	*host;
	const char	*port;	/* SERVER_PORT */
	enum lbauth_err	 want;
	bool		 cross;
} origins[] = {
	{ NULL, "https", "auth.example.com", NULL, LBAUTH_OK, false },	/* none */
	{ "https://auth.example.com", "https", "auth.example.com", NULL, LBAUTH_OK,
	    false },						/* our own */
	{ "http://auth.example.com", "http", "auth.example.com", NULL, LBAUTH_OK,
	    false },
	{ "http://127.0.0.1:8080", "http", "127.0.0.1:8080", NULL, LBAUTH_OK,
	    false },						/* with a port */
	{ "HTTPS://Auth.Example.com", "https", "auth.example.com", NULL, LBAUTH_OK,
	    false },						/* case */
	{ "http://auth.example.com", "https", "auth.example.com", NULL,
	    LBAUTH_EORIGIN, false },				/* other scheme */
	{ "https://auth.example.com:8443", "https", "auth.example.com", NULL,
	    LBAUTH_EORIGIN, false },				/* other port */
	{ "https://auth.example.com", "https", NULL, NULL, LBAUTH_EORIGIN, false },
	{ "https://auth.example.com", "https", "", NULL, LBAUTH_EORIGIN, false },
	{ "https://", "https", "", NULL, LBAUTH_EORIGIN, false },
	{ "https://app.example.com", "https", "auth.example.com", NULL, LBAUTH_OK,
	    true },						/* listed */
	{ "http://localhost:3000", "https", "auth.example.com", NULL, LBAUTH_OK,
	    true },
	{ "https://evil.com", "https", "auth.example.com", NULL, LBAUTH_EORIGIN,
	    false },						/* unlisted */
	{ "null", "https", "auth.example.com", NULL, LBAUTH_EORIGIN, false },
	{ "", "https", "auth.example.com", NULL, LBAUTH_EORIGIN, false },
	{ "https://app.example.com.evil.com", "https", "auth.example.com", NULL,
	    LBAUTH_EORIGIN, false },				/* prefix attack */
	{ "https://auth.example.com.evil.com", "https", "auth.example.com", NULL,
	    LBAUTH_EORIGIN, false },				/* ours as prefix */
	{ "https://app.example.co", "https", "auth.example.com", NULL,
	    LBAUTH_EORIGIN, false },				/* a prefix of one */
	{ "https://app.example.com/", "https", "auth.example.com", NULL,
	    LBAUTH_EORIGIN, false },				/* a path */
	{ "https://APP.example.com", "https", "auth.example.com", NULL,
	    LBAUTH_EORIGIN, false },				/* list is exact */
	{ "http://app.example.com", "https", "auth.example.com", NULL,
	    LBAUTH_EORIGIN, false },				/* listed https */
	{ "https://localhost:3000", "https", "auth.example.com", NULL,
	    LBAUTH_EORIGIN, false },				/* listed http */
	/* SERVER_PORT completes a HTTP_HOST without a port ($host). */
	{ "http://auth.example.com:8080", "http", "auth.example.com", "8080",
	    LBAUTH_OK, false },
	/*
	 * Regression (issue 12, found by an independent hostile battery
	 * through nginx and as CGI): Host 127.0.0.1:PORT, nginx's $host
	 * 127.0.0.1 as HTTP_HOST, SERVER_PORT PORT, and Origin
	 * http://127.0.0.1 got a token.  is_self() took an Origin without
	 * a port for ours whatever SERVER_PORT said; but an origin without
	 * a port is the scheme's default port (RFC 6454 section 4), 80 or
	 * 443, so it is another origin than port 8080's.
	 */
	{ "http://auth.example.com", "http", "auth.example.com", "8080",
	    LBAUTH_EORIGIN, false },
	{ "http://127.0.0.1", "http", "127.0.0.1", "8080", LBAUTH_EORIGIN,
	    false },
	{ "https://auth.example.com", "https", "auth.example.com", "8443",
	    LBAUTH_EORIGIN, false },
	{ "http://[::1]", "http", "[::1]", "8080", LBAUTH_EORIGIN, false },
	{ "https://auth.example.com", "https", "auth.example.com", "80",
	    LBAUTH_EORIGIN, false },		/* http's default, not https's */
	{ "http://auth.example.com", "http", "auth.example.com", "443",
	    LBAUTH_EORIGIN, false },
	{ "http://auth.example.com", "http", "auth.example.com", "80",
	    LBAUTH_OK, false },			/* the default port */
	{ "https://auth.example.com", "https", "auth.example.com", "443",
	    LBAUTH_OK, false },
	{ "http://auth.example.com", "http", "auth.example.com", "",
	    LBAUTH_OK, false },			/* empty: the default */
	{ "http://auth.example.com:80", "http", "auth.example.com", NULL,
	    LBAUTH_OK, false },			/* the default, spelled out */
	{ "https://auth.example.com", "https", "auth.example.com:443",
	    "8443", LBAUTH_OK, false },		/* HTTP_HOST's port wins */
	{ "https://auth.example.com:443", "https", "auth.example.com",
	    "443", LBAUTH_OK, false },
	{ "http://auth.example.com:", "http", "auth.example.com", "80",
	    LBAUTH_EORIGIN, false },		/* an empty port */
	{ "http://auth.example.com:65616", "http", "auth.example.com",
	    "80", LBAUTH_EORIGIN, false },	/* 65616 is not 80 mod 2^16 */
	{ "http://auth.example.com:8080", "http", "auth.example.com",
	    "x", LBAUTH_EORIGIN, false },	/* SERVER_PORT not a number */
	{ "http://auth.example.com", "http", "auth.example.com:x", "80",
	    LBAUTH_EORIGIN, false },		/* HTTP_HOST's neither */
	{ "http://auth.example.co", "http", "auth.example.com", "80",
	    LBAUTH_EORIGIN, false },		/* a prefix of our host */
	{ "http://auth.example.com@evil.com", "http", "auth.example.com",
	    "80", LBAUTH_EORIGIN, false },	/* userinfo */
	{ "http://auth.example.com:8081", "http", "auth.example.com", "8080",
	    LBAUTH_EORIGIN, false },				/* another port */
	{ "http://auth.example.com:8080", "http", "auth.example.com", NULL,
	    LBAUTH_EORIGIN, false },				/* no SERVER_PORT */
	{ "http://auth.example.com:8080", "http", "auth.example.com:80",
	    "8080", LBAUTH_EORIGIN, false },			/* HTTP_HOST's wins */
	{ "http://auth.example.com:80:8080", "http", "auth.example.com:80",
	    "8080", LBAUTH_EORIGIN, false },
	{ "http://[::1]:8080", "http", "[::1]", "8080", LBAUTH_OK, false },
	{ "http://[::1]:8080", "http", "[::1]:9", "8080", LBAUTH_EORIGIN,
	    false },
	{ "http://auth.example.com:8080x", "http", "auth.example.com",
	    "8080", LBAUTH_EORIGIN, false },
	{ "https://auth.example.com.evil.com", "https", "auth.example.com",
	    "443", LBAUTH_EORIGIN, false },
};

static const char *
noparam(void *arg, const char *name)
{

	return NULL;
}

int
main(void)
{
	struct lbauth_request	 req;
	const char		*reason;
	size_t			 i, len;
	bool			 cross;
	enum lbauth_err		 rc;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		test_assert_idx(lbx_req_method(methods[i].m) == methods[i].want,
		    i);
	for (i = 0; i < sizeof(ctypes) / sizeof(ctypes[0]); i++)
		test_assert_idx(lbx_req_ctype(ctypes[i].ct) == ctypes[i].want,
		    i);
	for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		len = 777;
		test_assert_idx(lbx_req_length(lengths[i].cl, lengths[i].max,
		    &len) == lengths[i].want, i);
		test_assert_idx(len == lengths[i].len, i);
	}

	memset(&req, 0, sizeof(req));
	req.param = noparam;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		req.room = "stale";
		rc = lbx_req_body(&req, bodies[i].body, bodies[i].len, &reason);
		test_assert_idx(rc == bodies[i].want, i);
		test_assert_idx((rc == LBAUTH_OK) == (reason == NULL), i);
		if (rc != LBAUTH_OK)
			test_assert_idx(req.room == NULL, i);
		else if (bodies[i].room != NULL)
			test_assert_idx(req.room != NULL &&
			    strcmp(req.room, bodies[i].room) == 0 &&
			    lbauth_request_room(&req) == req.room, i);
		else if (strstr(bodies[i].body, "room") == NULL)
			test_assert_idx(req.room == NULL, i);
		else	/* the emoji row: 64 code points, 256 bytes */
			test_assert_idx(req.room != NULL &&
			    strlen(req.room) == 256, i);
		lbx_req_clear(&req);
		test_assert_idx(req.body == NULL && req.room == NULL, i);
	}
	test_assert(lbauth_request_param(&req, "HTTP_COOKIE") == NULL);

	/* Log reasons name the rule that failed (issue 12). */
	{
		static const struct {
			const char	*body;
			size_t		 len;
			const char	*reason;
		} why[] = {
			{ S("{\"room\":1,\"room\":2}"),
			    "body repeats a member name in one object" },
			{ S("\xef\xbb\xbf{}"), "body is not JSON (RFC 8259, UTF-8)" },
			{ S("{"), "body is not JSON (RFC 8259, UTF-8)" },
			{ S("[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]"),
			    "body nests more than 16 arrays and objects" },
			{ S("{\"a\\u0000\":1}"), "body has \\u0000 in a member name" },
			{ S("null"), "body is not a JSON object" },
			{ S("[]"), "body is not a JSON object" },
			{ S("{\"room\":7}"), "room is not a string" },
			{ S("{\"room\":\"\\ud800\"}"), "room holds a lone surrogate" },
			{ S("{\"room\":\"\"}"), "room is not 1 to 128 characters" },
			{ S("{\"room\":\"" R128 "8\"}"),
			    "room is not 1 to 128 characters" },
			{ S("{\"room\":\"a*\"}"), "room contains '*'" },
			{ S("{\"room\":\"a\\n\"}"),
			    "room contains a control character" },
		};

		for (i = 0; i < sizeof(why) / sizeof(why[0]); i++) {
			rc = lbx_req_body(&req, why[i].body, why[i].len,
			    &reason);
			test_assert_idx(rc != LBAUTH_OK && reason != NULL &&
			    strcmp(reason, why[i].reason) == 0, i);
			lbx_req_clear(&req);
		}
	}

	for (i = 0; i < sizeof(origins) / sizeof(origins[0]); i++) {
		cross = !origins[i].cross;
		test_assert_idx(lbx_req_origin(origins[i].origin,
		    origins[i].scheme, origins[i].host, origins[i].port,
		    (char *const *)allowed,
		    &cross) == origins[i].want, i);
		test_assert_idx(cross == origins[i].cross, i);
	}
	/* No list at all. */
	test_assert(lbx_req_origin("https://app.example.com", "https",
	    "auth.example.com", NULL, NULL, &cross) == LBAUTH_EORIGIN && !cross);
	test_assert(lbx_req_origin(NULL, NULL, NULL, NULL, NULL, &cross) ==
	    LBAUTH_OK && !cross);

	return test_done();
}
